// JniProbe (workload 9, sluice:// only): the cost of one JNI crossing (NativeVolume.tell) and the
// 128 KiB warm-read throughput through a direct ByteBuffer (preadDirect, zero-copy), the way
// benchmarks/jni/JniBench.java measures them, plus the same read through the Hadoop stream's
// read(ByteBuffer). NativeVolume is reached through MethodHandles held in static finals (the JIT
// inlines them), since the Sluice jar is only on the run-time class path.
package io.sluice.bench;

import java.io.File;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;

final class JniProbe {
  private static final int READ = 128 * 1024;
  private final Main.Bench b;

  JniProbe(Main.Bench b) {
    this.b = b;
  }

  /** Handles into io.sluice.hadoop.nativeio.NativeVolume, resolved when first used. */
  static final class Nv {
    static final MethodHandle INIT;
    static final MethodHandle SHUTDOWN;
    static final MethodHandle OPEN;
    static final MethodHandle CLOSE;
    static final MethodHandle TELL;
    static final MethodHandle PREAD_DIRECT;
    static final int O_READ;

    static {
      try {
        Class<?> c = Class.forName("io.sluice.hadoop.nativeio.NativeVolume");
        MethodHandles.Lookup l = MethodHandles.publicLookup();
        INIT = l.findStatic(c, "init", MethodType.methodType(long.class, String[].class,
            String[].class));
        SHUTDOWN = l.findStatic(c, "shutdown", MethodType.methodType(void.class, long.class));
        OPEN = l.findStatic(c, "open", MethodType.methodType(long.class, long.class, String.class,
            String[].class, String.class, int.class, int.class, int.class));
        CLOSE = l.findStatic(c, "close", MethodType.methodType(void.class, long.class));
        TELL = l.findStatic(c, "tell", MethodType.methodType(long.class, long.class));
        PREAD_DIRECT = l.findStatic(c, "preadDirect", MethodType.methodType(int.class,
            long.class, long.class, ByteBuffer.class, int.class, int.class));
        O_READ = c.getField("O_READ").getInt(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("the Sluice jar is not on the class path: " + e, e);
      }
    }
  }

  void run() throws Exception {
    try {
      measure();
    } catch (Exception | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(t);
    }
  }

  private void measure() throws Throwable {
    String meta = b.conf.get("sluice." + b.base.getAuthority() + ".meta",
        b.conf.get("sluice.meta"));
    if (meta == null) {
      throw new IOException("jni needs sluice.meta (or sluice.<volume>.meta) in --conf");
    }
    String lib = b.conf.get("sluice.native.path");
    Class<?> loader = Class.forName("io.sluice.hadoop.nativeio.NativeLoader");
    if (lib != null) {
      loader.getMethod("load", String.class).invoke(null, new File(lib).getAbsolutePath());
    } else {
      loader.getMethod("load").invoke(null);
    }
    // the file is written through Hadoop, so the stream read below has something to compare
    Path hp = b.path("jni/file");
    long size = (long) b.jniFileMib << 20;
    byte[] chunk = new byte[1 << 20];
    new java.util.Random(9).nextBytes(chunk);
    try (FSDataOutputStream o = b.fs().create(hp, true)) {
      for (long d = 0; d < size; d += chunk.length) {
        o.write(chunk);
      }
    }
    String volPath = hp.toUri().getPath();
    long vol = (long) Nv.INIT.invokeExact(new String[] {"meta"}, new String[] {meta});
    try {
      long file = (long) Nv.OPEN.invokeExact(vol, (String) null, new String[0], volPath,
          Nv.O_READ, 0, 0);
      try {
        callOverhead(file);
        ByteBuffer direct = ByteBuffer.allocateDirect(READ);
        nativePass(file, size, direct);
        nativePass(file, size, direct); // warm: the native block cache holds the file
        long bytes = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (b.jniSeconds * 1e9);
        do {
          bytes += nativePass(file, size, direct);
        } while (System.nanoTime() < end);
        double s = (System.nanoTime() - t0) / 1e9;
        b.res.rec("jni", "preadDirect-128KiB", "throughput", b.firstRep)
            .value(bytes / s / (1 << 20), "MiB/s").put("us_per_call", s * 1e6 / (bytes / READ))
            .put("file_mib", b.jniFileMib).put("cache", "warm").emit();
      } finally {
        Nv.CLOSE.invokeExact(file);
      }
    } finally {
      Nv.SHUTDOWN.invokeExact(vol);
    }
    hadoopByteBuffer(hp, size);
    b.fs().delete(hp, false);
  }

  private void callOverhead(long file) throws Throwable {
    long sink = 0;
    for (long i = 0; i < 2_000_000; i++) {
      sink += (long) Nv.TELL.invokeExact(file);
    }
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long t0 = System.nanoTime();
      for (long i = 0; i < b.jniCalls; i++) {
        sink += (long) Nv.TELL.invokeExact(file);
      }
      best = Math.min(best, (System.nanoTime() - t0) / (double) b.jniCalls);
    }
    b.res.rec("jni", "tell", "ns_per_call", b.firstRep).value(best, "ns")
        .put("calls", b.jniCalls).put("rounds", 5).put("sink", sink == 42 ? 1 : 0).emit();
  }

  private static long nativePass(long file, long size, ByteBuffer direct) throws Throwable {
    long total = 0;
    while (total < size) {
      int n = (int) Nv.PREAD_DIRECT.invokeExact(file, total, direct, 0, READ);
      if (n <= 0) {
        break;
      }
      total += n;
    }
    if (total != size) {
      throw new IOException("preadDirect read " + total + " of " + size);
    }
    return total;
  }

  /** The same warm 128 KiB reads through FSDataInputStream.read(ByteBuffer) (direct buffer). */
  private void hadoopByteBuffer(Path hp, long size) throws Exception {
    ByteBuffer direct = ByteBuffer.allocateDirect(READ);
    try (FSDataInputStream in = b.fs().open(hp)) {
      hadoopPass(in, size, direct);
      long bytes = 0;
      long t0 = System.nanoTime();
      long end = t0 + (long) (b.jniSeconds * 1e9);
      do {
        bytes += hadoopPass(in, size, direct);
      } while (System.nanoTime() < end);
      double s = (System.nanoTime() - t0) / 1e9;
      b.res.rec("jni", "hadoop-read-bytebuffer-128KiB", "throughput", b.firstRep)
          .value(bytes / s / (1 << 20), "MiB/s").put("us_per_call", s * 1e6 / (bytes / READ))
          .put("file_mib", b.jniFileMib).put("cache", "warm").emit();
    }
  }

  private static long hadoopPass(FSDataInputStream in, long size, ByteBuffer direct)
      throws IOException {
    in.seek(0);
    long total = 0;
    while (total < size) {
      direct.clear();
      int n = in.read(direct);
      if (n <= 0) {
        break;
      }
      total += n;
    }
    if (total != size) {
      throw new IOException("read(ByteBuffer) read " + total + " of " + size);
    }
    return total;
  }
}
