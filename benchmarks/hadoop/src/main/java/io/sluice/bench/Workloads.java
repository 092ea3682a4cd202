// Workloads: the measurements of issue 5, numbered as there (1 seqwrite, 2 seqread, 3 pread,
// 4 meta, 5 wal, 6 smallfiles; 7 dfsio/nnbench in HadoopTools, 8 rides on 1-2 via Resources,
// 9 jni in JniProbe; issue 17's large directory in BigDir). Everything goes through
// org.apache.hadoop.fs.FileSystem, the same code for every peer; each figure is one record (see
// README.md for the fields).
package io.sluice.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;

final class Workloads {
  static final int MIB = 1 << 20;
  private final Main.Bench b;
  private final byte[] data;

  Workloads(Main.Bench b) {
    this.b = b;
    // incompressible, so no peer gains from compression it might do
    data = new byte[MIB];
    new Random(20261123L).nextBytes(data);
  }

  void run(String name) throws Exception {
    switch (name) {
      case "seqwrite": seqWrite(); break;
      case "seqread": seqRead(); break;
      case "pread": pread(); break;
      case "meta": meta(); break;
      case "wal": wal(); break;
      case "smallfiles": smallFiles(); break;
      case "dfsio": new HadoopTools(b).dfsio(); break;
      case "nnbench": new HadoopTools(b).nnbench(); break;
      case "jni": new JniProbe(b).run(); break;
      case "hflush": new Hflush(b).run(); break;
      case "bigdir": new BigDir(b).run(); break;
      default: throw new IllegalArgumentException(name);
    }
  }

  /** Runs n tasks on t threads and waits; the first failure is rethrown. */
  static <T> List<T> parallel(int t, List<Callable<T>> tasks) throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(t);
    try {
      List<Future<T>> fs = ex.invokeAll(tasks);
      List<T> r = new ArrayList<>();
      for (Future<T> f : fs) {
        try {
          r.add(f.get());
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          throw c instanceof Exception ? (Exception) c : new IOException(c);
        }
      }
      return r;
    } finally {
      ex.shutdownNow();
    }
  }

  /** Per-thread split of the sequential size: t files of size/t each, so every variant moves
   * the same bytes and the run time stays predictable. */
  private long seqFileBytes(int t) {
    return Math.max(1, b.seqMib / t) * MIB;
  }

  private Path seqPath(int t, int i) {
    return b.path("seq/t" + t + "-f" + i);
  }

  private long writeFile(FileSystem fs, Path p, long bytes) throws IOException {
    try (FSDataOutputStream o = fs.create(p, true)) {
      for (long done = 0; done < bytes; done += data.length) {
        o.write(data, 0, (int) Math.min(data.length, bytes - done));
      }
    }
    return bytes;
  }

  private static long readAll(FileSystem fs, Path p, byte[] buf) throws IOException {
    long n = 0;
    try (FSDataInputStream in = fs.open(p)) {
      int r;
      while ((r = in.read(buf, 0, buf.length)) > 0) {
        n += r;
      }
    }
    return n;
  }

  // ---- 1. sequential write -----------------------------------------------------------------

  private void seqWrite() throws Exception {
    for (int t : b.seqThreads) {
      for (int i = 0; i < b.reps; i++) {
        seqWriteOnce(t, b.rep(i));
      }
    }
  }

  private void seqWriteOnce(int t, int rep) throws Exception {
    FileSystem fs = b.fs();
    long per = seqFileBytes(t);
    List<Callable<Long>> tasks = new ArrayList<>();
    for (int i = 0; i < t; i++) {
      Path p = seqPath(t, i);
      tasks.add(() -> writeFile(fs, p, per));
    }
    long t0;
    long t1;
    Resources r = new Resources();
    try {
      t0 = System.nanoTime();
      parallel(t, tasks);
      t1 = System.nanoTime();
    } finally {
      r.close();
    }
    String v = "t" + t;
    double s = (t1 - t0) / 1e9;
    b.res.rec("seqwrite", v, "throughput", rep).value(per * t / (double) MIB / s, "MiB/s")
        .put("threads", t).put("file_mib", per / MIB).put("files", t).put("seconds", s).emit();
    r.emit(b.res, "seqwrite", v, rep, per * t);
  }

  // ---- 2. sequential read, cold and warm ----------------------------------------------------

  /** The files of seqwrite with t threads, written now (untimed) if missing or of another size. */
  private void ensureSeqFiles(int t) throws Exception {
    FileSystem fs = b.fs();
    long per = seqFileBytes(t);
    List<Callable<Long>> tasks = new ArrayList<>();
    for (int i = 0; i < t; i++) {
      Path p = seqPath(t, i);
      boolean ok;
      try {
        ok = fs.getFileStatus(p).getLen() == per;
      } catch (java.io.FileNotFoundException e) {
        ok = false;
      }
      if (!ok) {
        tasks.add(() -> writeFile(fs, p, per));
      }
    }
    if (!tasks.isEmpty()) {
      System.err.printf(Locale.ROOT, "[bench] writing %d file(s) of %d MiB for the reads%n",
          tasks.size(), per / MIB);
      parallel(t, tasks);
    }
  }

  private void seqRead() throws Exception {
    for (int t : b.seqThreads) {
      ensureSeqFiles(t);
      for (int i = 0; i < b.reps; i++) {
        boolean dropped = b.cold();
        seqReadOnce(t, "cold", b.rep(i), dropped);
      }
      readPass(t); // warm-up: the warm figures read what this pass left in every cache
      for (int i = 0; i < b.reps; i++) {
        seqReadOnce(t, "warm", b.rep(i), null);
      }
    }
  }

  private long readPass(int t) throws Exception {
    FileSystem fs = b.fs();
    long per = seqFileBytes(t);
    List<Callable<Long>> tasks = new ArrayList<>();
    for (int i = 0; i < t; i++) {
      Path p = seqPath(t, i);
      tasks.add(() -> {
        long n = readAll(fs, p, new byte[MIB]);
        if (n != per) {
          throw new IOException(p + ": read " + n + " bytes, expected " + per);
        }
        return n;
      });
    }
    long total = 0;
    for (long n : parallel(t, tasks)) {
      total += n;
    }
    return total;
  }

  private void seqReadOnce(int t, String kind, int rep, Boolean dropped) throws Exception {
    long t0;
    long t1;
    long bytes;
    Resources r = new Resources();
    try {
      t0 = System.nanoTime();
      bytes = readPass(t);
      t1 = System.nanoTime();
    } finally {
      r.close();
    }
    String v = kind + "-t" + t;
    double s = (t1 - t0) / 1e9;
    Results.Rec rec = b.res.rec("seqread", v, "throughput", rep)
        .value(bytes / (double) MIB / s, "MiB/s").put("threads", t).put("cache", kind)
        .put("file_mib", seqFileBytes(t) / MIB).put("seconds", s);
    if (dropped != null) {
      rec.put("os_cache_dropped", dropped);
    }
    rec.emit();
    r.emit(b.res, "seqread", v, rep, bytes);
  }

  // ---- 3. positional reads ------------------------------------------------------------------

  private void pread() throws Exception {
    ensureSeqFiles(1);
    Path p = seqPath(1, 0);
    long len = seqFileBytes(1);
    int[] sizes = {4 << 10, 64 << 10, 1 << 20};
    for (int size : sizes) {
      // 1 MiB reads move 16x the bytes of 64 KiB ones: fewer of them keep the time bounded
      int ops = size >= MIB ? Math.max(10, b.preadOps / 4) : b.preadOps;
      long[] offs = new long[ops];
      Random rnd = new Random(size * 7919L);
      for (int i = 0; i < ops; i++) {
        offs[i] = (long) (rnd.nextDouble() * (len - size));
      }
      String sv = size >= MIB ? (size / MIB) + "MiB" : (size >> 10) + "KiB";
      for (int i = 0; i < b.reps; i++) {
        boolean dropped = b.cold();
        preadOnce(p, offs, size, "cold-" + sv, b.rep(i), false, dropped);
      }
      for (int i = 0; i < b.reps; i++) {
        preadOnce(p, offs, size, "warm-" + sv, b.rep(i), true, null);
      }
    }
  }

  private void preadOnce(Path p, long[] offs, int size, String variant, int rep, boolean warm,
      Boolean dropped) throws Exception {
    byte[] buf = new byte[size];
    long[] lat = new long[offs.length];
    long t0;
    long t1;
    try (FSDataInputStream in = b.fs().open(p)) {
      if (warm) {
        for (long off : offs) {
          in.readFully(off, buf, 0, size);
        }
      }
      t0 = System.nanoTime();
      for (int i = 0; i < offs.length; i++) {
        long s = System.nanoTime();
        in.readFully(offs[i], buf, 0, size);
        lat[i] = System.nanoTime() - s;
      }
      t1 = System.nanoTime();
    }
    double secs = (t1 - t0) / 1e9;
    int n = offs.length;
    Results.Rec rec = b.res.rec("pread", variant, "ops_per_s", rep).value(n / secs, "ops/s")
        .put("io_bytes", size).put("ops", n).put("cache", warm ? "warm" : "cold")
        .put("mib_per_s", n * (double) size / MIB / secs);
    if (dropped != null) {
      rec.put("os_cache_dropped", dropped);
    }
    rec.emit();
    latencyRecords("pread", variant, rep, lat, n, new double[] {50, 90, 99});
  }

  private void latencyRecords(String workload, String variant, int rep, long[] lat, int n,
      double[] ps) throws IOException {
    for (double p : ps) {
      String m = "p" + (p == Math.rint(p) ? String.valueOf((int) p) : "999");
      b.res.rec(workload, variant, m + "_us", rep)
          .value(Results.percentile(lat, n, p) / 1e3, "us").put("samples", n).emit();
    }
    long max = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, lat[i]);
      sum += lat[i];
    }
    b.res.rec(workload, variant, "mean_us", rep).value(sum / n / 1e3, "us").emit();
    b.res.rec(workload, variant, "max_us", rep).value(max / 1e3, "us").emit();
  }

  // ---- 4. metadata (NNBench-like) -----------------------------------------------------------

  private void meta() throws Exception {
    for (int t : b.metaThreads) {
      for (int i = 0; i < b.reps; i++) {
        metaOnce(t, b.rep(i));
      }
    }
  }

  private interface Op {
    void run(int i) throws IOException;
  }

  /** Runs op over indices 0..n-1, index i on thread i % t; returns seconds. */
  private static double timed(int t, int n, Op op) throws Exception {
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int j = 0; j < t; j++) {
      final int first = j;
      tasks.add(() -> {
        for (int i = first; i < n; i += t) {
          op.run(i);
        }
        return null;
      });
    }
    long t0 = System.nanoTime();
    parallel(t, tasks);
    return (System.nanoTime() - t0) / 1e9;
  }

  private void metaOnce(int t, int rep) throws Exception {
    FileSystem fs = b.fs();
    int n = b.metaFiles;
    int perDir = 1000;
    int dirs = (n + perDir - 1) / perDir;
    Path root = b.path("meta/t" + t);
    fs.delete(root, true);
    for (int d = 0; d < dirs; d++) {
      fs.mkdirs(new Path(root, "d" + d));
    }
    Path[] files = new Path[n];
    Path[] moved = new Path[n];
    for (int i = 0; i < n; i++) {
      Path dir = new Path(root, "d" + (i / perDir));
      files[i] = new Path(dir, "f" + i);
      moved[i] = new Path(dir, "r" + i);
    }
    int listings = Math.max(10, n / 100);
    String v = "t" + t;
    emitOps("create", v, rep, t, n, timed(t, n, i -> fs.create(files[i], false).close()));
    emitOps("open", v, rep, t, n, timed(t, n, i -> fs.open(files[i]).close()));
    emitOps("stat", v, rep, t, n, timed(t, n, i -> fs.getFileStatus(files[i])));
    int full = n / perDir; // directories holding all 1,000 entries
    double ls = timed(t, listings, i -> {
      int d = full > 0 ? i % full : 0;
      FileStatus[] st = fs.listStatus(new Path(root, "d" + d));
      int want = full > 0 ? perDir : n;
      if (st.length != want) {
        throw new IOException("listStatus of d" + d + " gave " + st.length + " entries, expected "
            + want);
      }
    });
    emitOps("list", v, rep, t, listings, ls);
    emitOps("rename", v, rep, t, n, timed(t, n, i -> {
      if (!fs.rename(files[i], moved[i])) {
        throw new IOException("rename " + files[i] + " returned false");
      }
    }));
    emitOps("delete", v, rep, t, n, timed(t, n, i -> {
      if (!fs.delete(moved[i], false)) {
        throw new IOException("delete " + moved[i] + " returned false");
      }
    }));
    fs.delete(root, true);
  }

  private void emitOps(String op, String v, int rep, int t, int n, double secs)
      throws IOException {
    Results.Rec r = b.res.rec("meta", op + "-" + v, "ops_per_s", rep).value(n / secs, "ops/s")
        .put("op", op).put("threads", t).put("ops", n).put("seconds", secs);
    if (op.equals("list")) {
      r.put("entries_per_listing", Math.min(1000, b.metaFiles));
    }
    r.emit();
  }

  // ---- 5. write-ahead log: 1 KiB + hflush / hsync -------------------------------------------

  private void wal() throws Exception {
    for (String kind : new String[] {"hflush", "hsync"}) {
      for (int i = 0; i < b.reps; i++) {
        walOnce(kind, b.rep(i));
      }
    }
  }

  private void walOnce(String kind, int rep) throws Exception {
    FileSystem fs = b.fs();
    Path p = b.path("wal/" + kind + "-" + rep);
    int n = b.walRecords;
    long[] lat = new long[n];
    byte[] rec = new byte[1024];
    boolean cap;
    try (FSDataOutputStream o = fs.create(p, true)) {
      cap = o.hasCapability(kind.equals("hflush") ? StreamCapabilities.HFLUSH
          : StreamCapabilities.HSYNC);
      for (int i = 0; i < 10; i++) { // warm-up: first block allocation, connections
        o.write(rec);
        sync(o, kind);
      }
      for (int i = 0; i < n; i++) {
        System.arraycopy(data, (i * 1024) % (data.length - 1024), rec, 0, rec.length);
        long s = System.nanoTime();
        o.write(rec);
        sync(o, kind);
        lat[i] = System.nanoTime() - s;
      }
    }
    fs.delete(p, false);
    File csv = new File(b.outDir, String.format(Locale.ROOT, "wal-%s-%s-rep%d.csv", b.peer, kind,
        rep));
    try (PrintWriter w = new PrintWriter(csv, StandardCharsets.UTF_8.name())) {
      w.println("record,latency_us");
      for (int i = 0; i < n; i++) {
        w.printf(Locale.ROOT, "%d,%.1f%n", i, lat[i] / 1e3);
      }
    }
    double total = 0;
    for (long l : lat) {
      total += l;
    }
    b.res.rec("wal", kind, "ops_per_s", rep).value(n / (total / 1e9), "ops/s")
        .put("records", n).put("record_bytes", 1024).put("capability", cap)
        .put("csv", csv.getName()).emit();
    latencyRecords("wal", kind, rep, lat, n, new double[] {50, 99, 99.9});
  }

  private static void sync(FSDataOutputStream o, String kind) throws IOException {
    if (kind.equals("hflush")) {
      o.hflush();
    } else {
      o.hsync();
    }
  }

  // ---- 6. small files -----------------------------------------------------------------------

  private void smallFiles() throws Exception {
    for (int i = 0; i < b.reps; i++) {
      smallOnce(b.rep(i));
    }
  }

  private void smallOnce(int rep) throws Exception {
    FileSystem fs = b.fs();
    int n = b.smallFiles;
    int size = b.smallKib << 10;
    int t = b.smallThreads;
    Path dir = b.path("small");
    fs.delete(dir, true);
    fs.mkdirs(dir);
    byte[] buf = new byte[size];
    for (int i = 0; i < size; i += data.length) {
      System.arraycopy(data, 0, buf, i, Math.min(data.length, size - i));
    }
    double ws = timed(t, n, i -> {
      try (FSDataOutputStream o = fs.create(new Path(dir, "f" + i), true)) {
        o.write(buf);
      }
    });
    emitSmall("write", rep, n, size, t, ws, null);
    boolean dropped = b.cold();
    FileSystem cold = b.fs();
    double rs = timed(t, n, i -> {
      byte[] in = new byte[size];
      try (FSDataInputStream s = cold.open(new Path(dir, "f" + i))) {
        s.readFully(0, in, 0, size);
      }
    });
    emitSmall("read", rep, n, size, t, rs, dropped);
    cold.delete(dir, true);
  }

  private void emitSmall(String op, int rep, int n, int size, int t, double secs,
      Boolean dropped) throws IOException {
    Results.Rec r = b.res.rec("smallfiles", op + "-t" + t, "files_per_s", rep)
        .value(n / secs, "files/s").put("files", n).put("file_kib", size >> 10)
        .put("threads", t).put("mib_per_s", n * (double) size / MIB / secs);
    if (dropped != null) {
      r.put("cache", "cold").put("os_cache_dropped", dropped);
    }
    r.emit();
  }
}
