// JniBench: the cost of crossing JNI into libsluice (a trivial call, NativeVolume.tell, millions
// of times) and 128 KiB read throughput from a warm file through a direct ByteBuffer
// (NativeVolume.preadDirect, zero-copy), with the sequential and heap-array paths beside it.
// A plain-Java benchmark (not a test); how to build and run it: benchmarks/jni/README.md.

import io.sluice.hadoop.nativeio.NativeLoader;
import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

public final class JniBench {
  private static final int READ_SIZE = 128 * 1024;
  private static final String[] NO_GROUPS = new String[0];

  private JniBench() {}

  public static void main(String[] args) throws Exception {
    String meta = System.getProperty("jnibench.meta");
    int fileMib = Integer.getInteger("jnibench.file.mib", 64);
    long calls = Long.getLong("jnibench.calls", 10_000_000L);
    double readSeconds = Double.parseDouble(System.getProperty("jnibench.read.seconds", "3"));
    String lib = System.getProperty("sluice.native.path", "build/lib/libsluice.so");
    String cli = System.getProperty("jnibench.cli", "build/bin/sluice");

    NativeLoader.load(new File(lib).getAbsolutePath());
    Path scratch = null;
    if (meta == null) {
      scratch = Files.createTempDirectory("jnibench-");
      meta = format(cli, scratch);
    }
    try {
      run(meta, fileMib, calls, readSeconds);
    } finally {
      if (scratch != null) {
        deleteTree(scratch);
      }
    }
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static void run(String meta, int fileMib, long calls, double readSeconds)
      throws Exception {
    long vol = NativeVolume.init(new String[] {"meta"}, new String[] {meta});
    try {
      String path = "/jnibench-" + System.nanoTime();
      long size = (long) fileMib << 20;
      writeFile(vol, path, size);
      long file = NativeVolume.open(vol, null, NO_GROUPS, path, NativeVolume.O_READ, 0, 0);
      try {
        System.out.printf(Locale.ROOT, "libsluice %s, java %s, file %d MiB (sequential reads"
            + " warm it first)%n", NativeVolume.version(), System.getProperty("java.version"),
            fileMib);
        callOverhead(file, calls);
        ByteBuffer direct = ByteBuffer.allocateDirect(READ_SIZE);
        byte[] heap = new byte[READ_SIZE];
        readPass(file, size, direct, heap, 0); // warm the caches
        readPass(file, size, direct, heap, 0);
        throughput("preadDirect 128 KiB, direct ByteBuffer", file, size, direct, heap, 0,
            readSeconds);
        throughput("readDirect  128 KiB, direct ByteBuffer", file, size, direct, heap, 1,
            readSeconds);
        throughput("pread       128 KiB, byte[] (one copy)", file, size, direct, heap, 2,
            readSeconds);
      } finally {
        NativeVolume.close(file);
      }
      NativeVolume.delete(vol, null, NO_GROUPS, path, false);
    } finally {
      NativeVolume.shutdown(vol);
    }
  }

  /** Formats a throw-away volume (SQLite + a local directory) with the sluice CLI. */
  private static String format(String cli, Path dir) throws Exception {
    String meta = "sqlite3://" + dir.resolve("meta.db");
    Process p = new ProcessBuilder(new File(cli).getAbsolutePath(), "format", meta, "jnibench",
        "--storage", "file", "--bucket", dir.resolve("data") + "/").inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("sluice format failed");
    }
    System.out.println("volume: " + meta);
    return meta;
  }

  private static void writeFile(long vol, String path, long size) throws Exception {
    long file = NativeVolume.open(vol, null, NO_GROUPS, path,
        NativeVolume.O_WRITE | NativeVolume.O_CREATE | NativeVolume.O_OVERWRITE, 0644, 022);
    try {
      byte[] chunk = new byte[1 << 20];
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = (byte) (i * 31 + 7);
      }
      for (long done = 0; done < size; done += chunk.length) {
        NativeVolume.write(file, chunk, 0, (int) Math.min(chunk.length, size - done));
      }
    } finally {
      NativeVolume.close(file);
    }
  }

  /** ns per NativeVolume.tell: best of five rounds after a warm-up that lets the JIT compile. */
  private static void callOverhead(long file, long calls) {
    long sink = 0;
    for (long i = 0; i < 2_000_000; i++) {
      sink += NativeVolume.tell(file);
    }
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long t0 = System.nanoTime();
      for (long i = 0; i < calls; i++) {
        sink += NativeVolume.tell(file);
      }
      best = Math.min(best, (System.nanoTime() - t0) / (double) calls);
    }
    System.out.printf(Locale.ROOT, "JNI call overhead (NativeVolume.tell, %d calls x5): %.1f ns"
        + " per call (best round)%s%n", calls, best, sink == 42 ? " " : "");
  }

  /** One pass over the whole file with the given path; returns the bytes read. */
  private static long readPass(long file, long size, ByteBuffer direct, byte[] heap, int how)
      throws Exception {
    long total = 0;
    if (how == 1) {
      NativeVolume.seek(file, 0);
    }
    while (total < size) {
      int n;
      switch (how) {
        case 0:
          n = NativeVolume.preadDirect(file, total, direct, 0, READ_SIZE);
          break;
        case 1:
          n = NativeVolume.readDirect(file, direct, 0, READ_SIZE);
          break;
        default:
          n = NativeVolume.pread(file, total, heap, 0, READ_SIZE);
          break;
      }
      if (n <= 0) {
        break;
      }
      total += n;
    }
    if (total != size) {
      throw new IllegalStateException("read " + total + " of " + size);
    }
    return total;
  }

  private static void throughput(String name, long file, long size, ByteBuffer direct,
      byte[] heap, int how, double seconds) throws Exception {
    readPass(file, size, direct, heap, how); // warm-up for this path
    long bytes = 0;
    long t0 = System.nanoTime();
    long deadline = t0 + (long) (seconds * 1e9);
    int passes = 0;
    do {
      bytes += readPass(file, size, direct, heap, how);
      passes++;
    } while (System.nanoTime() < deadline);
    double s = (System.nanoTime() - t0) / 1e9;
    long reads = bytes / READ_SIZE;
    System.out.printf(Locale.ROOT, "%s: %.0f MiB/s (%d passes, %.1f us per call)%n", name,
        bytes / s / (1 << 20), passes, s * 1e6 / reads);
  }
}
