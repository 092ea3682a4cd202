// Main: the peer benchmark driver (issue 5). Runs the workloads of the issue through the Hadoop
// FileSystem API against one peer (one --fs URI) and appends one JSON object per measurement to
// --out. The harness calls it once per peer and repetition (--reps 1 --first-rep K) to interleave
// peers; usage and the record format are in benchmarks/hadoop/README.md.
package io.sluice.bench;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public final class Main {
  static final List<String> ALL = Arrays.asList("seqwrite", "seqread", "pread", "meta", "wal",
      "smallfiles", "dfsio", "nnbench", "jni", "bigdir");
  /** Workloads run only when named: not part of "all" (hflush: benchmarks/hflush.sh). */
  static final List<String> NAMED_ONLY = Arrays.asList("hflush");

  private Main() {}

  /** Everything a workload needs: options, the peer's configuration, its base path, results. */
  static final class Bench {
    boolean full;
    String peer;
    URI base; // the directory on the peer the driver works under
    final Configuration conf = new Configuration();
    final List<File> cacheDirs = new ArrayList<>();
    boolean dropCaches = true;
    int reps;
    int firstRep = 1;
    long seqMib;
    int[] seqThreads = {1, 4};
    int metaFiles;
    int[] metaThreads = {1, 16};
    int preadOps;
    int walRecords;
    int hflushRecords;
    int[] hflushThreads = {1, 4, 16};
    int hflushShared = 4;
    int hsyncRecords;
    int smallFiles;
    int smallKib = 128;
    int smallThreads = 1;
    int dfsioFiles;
    int dfsioMib;
    int nnbenchFiles;
    int bigdirFiles;
    int bigdirThreads;
    String bigdirAt; // the tree's parent, an absolute path in the file system; null: path("bigdir")
    long jniCalls;
    int jniFileMib;
    double jniSeconds;
    File outDir;
    Results res;
    private FileSystem fs;

    /** The peer's file system: one instance at a time, made with newInstance (never cached). */
    FileSystem fs() throws IOException {
      if (fs == null) {
        fs = FileSystem.newInstance(base, conf);
      }
      return fs;
    }

    Path path(String rel) {
      return new Path(new Path(base), rel);
    }

    void closeFs() throws IOException {
      if (fs != null) {
        FileSystem f = fs;
        fs = null;
        f.close();
      }
    }

    /**
     * Cold start: the instance closed (its memory caches gone), the disk cache directories
     * emptied, the OS page cache dropped when the process may (root); returns whether the last
     * step worked, recorded with each cold figure.
     */
    boolean cold() throws IOException {
      closeFs();
      for (File d : cacheDirs) {
        emptyDir(d);
      }
      boolean dropped = false;
      if (dropCaches) {
        try {
          Process p = new ProcessBuilder("sync").inheritIO().start();
          p.waitFor();
          try (FileOutputStream o = new FileOutputStream("/proc/sys/vm/drop_caches")) {
            o.write("1\n".getBytes(StandardCharsets.US_ASCII));
          }
          dropped = true;
        } catch (IOException e) {
          dropped = false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
      fs();
      return dropped;
    }

    int rep(int i) {
      return firstRep + i;
    }
  }

  /**
   * Empties d. A peer's background threads may still write into its cache for a moment after
   * the file system was closed (the JuiceFS SDK's do), so a failure is retried for up to 5 s.
   */
  static void emptyDir(File d) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        File[] kids = d.listFiles();
        if (kids != null) {
          for (File k : kids) {
            deleteTree(k);
          }
        }
        return;
      } catch (IOException e) {
        if (attempt == 50) {
          throw e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", ie);
        }
      }
    }
  }

  static void deleteTree(File f) throws IOException {
    File[] kids = f.isDirectory() && !java.nio.file.Files.isSymbolicLink(f.toPath())
        ? f.listFiles() : null;
    if (kids != null) {
      for (File k : kids) {
        deleteTree(k);
      }
    }
    if (!f.delete() && f.exists()) {
      throw new IOException("cannot delete " + f + " (emptying a cache directory)");
    }
  }

  private static void usage(String why) {
    System.err.println("error: " + why);
    System.err.println("usage: java -cp CLASSPATH io.sluice.bench.Main (--fs URI | --minidfs DIR)"
        + " --out FILE [--peer NAME] [--conf K=V]... [--workload NAME[,NAME]...|all]"
        + " [--mode quick|full] [--reps N] [--first-rep K] [--cache-dir DIR]... [--no-drop-caches]"
        + " [--tag K=V]... [--size MIB] [--threads 1,4] [--meta-files N] [--meta-threads 1,16]"
        + " [--pread-ops N] [--wal-records N] [--small-files N] [--small-kib N]"
        + " [--hflush-records N] [--hflush-threads 1,4,16] [--hflush-shared T]"
        + " [--hsync-records N]"
        + " [--small-threads N] [--dfsio-files N] [--dfsio-mib N] [--nnbench-files N]"
        + " [--jni-calls N] [--jni-file-mib N] [--jni-seconds S]"
        + " [--bigdir-files N] [--bigdir-threads T] [--bigdir-at ABSOLUTE-PATH]\n"
        + "workloads: " + ALL + " (all = every one; jni only on sluice://), and " + NAMED_ONLY
        + " when named; see README.md");
    System.exit(2);
  }

  private static int[] ints(String s) {
    String[] p = s.split(",");
    int[] r = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      r[i] = Integer.parseInt(p[i].trim());
    }
    return r;
  }

  public static void main(String[] args) throws Exception {
    Bench b = new Bench();
    String fsUri = null;
    String miniDir = null;
    String out = null;
    String mode = "quick";
    List<String> workloads = new ArrayList<>();
    Map<String, String> opts = new LinkedHashMap<>();
    Map<String, Object> tags = new LinkedHashMap<>();
    List<String[]> confs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--no-drop-caches")) {
        b.dropCaches = false;
        continue;
      }
      if (a.equals("--help") || a.equals("-h")) {
        usage("help");
      }
      if (!a.startsWith("--") || i + 1 >= args.length) {
        usage("bad argument " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--fs": fsUri = v; break;
        case "--minidfs": miniDir = v; break;
        case "--out": out = v; break;
        case "--peer": b.peer = v; break;
        case "--mode": mode = v; break;
        case "--workload": workloads.addAll(Arrays.asList(v.split(","))); break;
        case "--cache-dir": b.cacheDirs.add(new File(v)); break;
        case "--conf":
        case "--tag": {
          int eq = v.indexOf('=');
          if (eq <= 0) {
            usage(a + " wants KEY=VALUE, got " + v);
          }
          if (a.equals("--conf")) {
            confs.add(new String[] {v.substring(0, eq), v.substring(eq + 1)});
          } else {
            tags.put(v.substring(0, eq), v.substring(eq + 1));
          }
          break;
        }
        default: opts.put(a, v);
      }
    }
    if (out == null || (fsUri == null) == (miniDir == null)) {
      usage("give --out and exactly one of --fs, --minidfs");
    }
    if (!mode.equals("quick") && !mode.equals("full")) {
      usage("--mode is quick or full");
    }
    b.full = mode.equals("full");
    b.reps = Integer.parseInt(take(opts, "--reps", b.full ? "3" : "1"));
    b.firstRep = Integer.parseInt(take(opts, "--first-rep", "1"));
    b.seqMib = Long.parseLong(take(opts, "--size", b.full ? "1024" : "64"));
    b.seqThreads = ints(take(opts, "--threads", "1,4"));
    b.metaFiles = Integer.parseInt(take(opts, "--meta-files", b.full ? "10000" : "1000"));
    b.metaThreads = ints(take(opts, "--meta-threads", "1,16"));
    b.preadOps = Integer.parseInt(take(opts, "--pread-ops", b.full ? "1000" : "200"));
    b.walRecords = Integer.parseInt(take(opts, "--wal-records", b.full ? "2000" : "200"));
    b.hflushRecords = Integer.parseInt(take(opts, "--hflush-records", b.full ? "1000" : "400"));
    b.hflushThreads = ints(take(opts, "--hflush-threads", "1,4,16"));
    b.hflushShared = Integer.parseInt(take(opts, "--hflush-shared", "4"));
    b.hsyncRecords = Integer.parseInt(take(opts, "--hsync-records", b.full ? "300" : "100"));
    b.smallFiles = Integer.parseInt(take(opts, "--small-files", b.full ? "1000" : "200"));
    b.smallKib = Integer.parseInt(take(opts, "--small-kib", "128"));
    b.smallThreads = Integer.parseInt(take(opts, "--small-threads", "1"));
    b.dfsioFiles = Integer.parseInt(take(opts, "--dfsio-files", b.full ? "4" : "2"));
    b.dfsioMib = Integer.parseInt(take(opts, "--dfsio-mib", b.full ? "128" : "16"));
    b.nnbenchFiles = Integer.parseInt(take(opts, "--nnbench-files", b.full ? "1000" : "100"));
    b.bigdirFiles = Integer.parseInt(take(opts, "--bigdir-files", b.full ? "100000" : "10000"));
    b.bigdirThreads = Integer.parseInt(take(opts, "--bigdir-threads", "16"));
    b.bigdirAt = take(opts, "--bigdir-at", null);
    if (b.bigdirAt != null && !b.bigdirAt.startsWith("/")) {
      usage("--bigdir-at takes an absolute path in the file system, not " + b.bigdirAt);
    }
    b.jniCalls = Long.parseLong(take(opts, "--jni-calls", b.full ? "10000000" : "2000000"));
    b.jniFileMib = Integer.parseInt(take(opts, "--jni-file-mib", b.full ? "64" : "16"));
    b.jniSeconds = Double.parseDouble(take(opts, "--jni-seconds", b.full ? "3" : "1"));
    if (!opts.isEmpty()) {
      usage("unknown option(s) " + opts.keySet());
    }
    if (workloads.isEmpty() || workloads.contains("all")) {
      workloads = new ArrayList<>(ALL);
    }
    for (String w : workloads) {
      if (!ALL.contains(w) && !NAMED_ONLY.contains(w)) {
        usage("unknown workload " + w);
      }
    }

    MiniDFSCluster cluster = null;
    if (miniDir != null) {
      Configuration cc = new Configuration();
      for (String[] kv : confs) {
        cc.set(kv[0], kv[1]);
      }
      cluster = MiniDfs.start(new File(miniDir), cc, 0);
      fsUri = cluster.getURI() + "/bench";
      tags.putIfAbsent("hdfs_in_process", true);
    }
    b.base = URI.create(fsUri.endsWith("/") ? fsUri.substring(0, fsUri.length() - 1) : fsUri);
    String scheme = b.base.getScheme() == null ? "file" : b.base.getScheme();
    if (b.peer == null) {
      b.peer = scheme;
    }
    if (scheme.equals("file")) {
      // the physical limit: no checksum files, no extra buffering layer
      b.conf.set("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem");
      b.conf.setBoolean("fs.file.impl.disable.cache", true);
    }
    if (scheme.equals("hdfs")) {
      b.conf.setInt("dfs.replication", 1);
    }
    for (String[] kv : confs) {
      b.conf.set(kv[0], kv[1]);
    }
    File outFile = new File(out);
    b.outDir = outFile.getAbsoluteFile().getParentFile();
    try (Results res = new Results(outFile, b.peer, mode, tags)) {
      b.res = res;
      b.fs().mkdirs(new Path(b.base));
      Workloads w = new Workloads(b);
      for (String name : workloads) {
        if (name.equals("jni") && !scheme.equals("sluice")) {
          System.err.printf(Locale.ROOT, "[bench] jni: only for sluice://, skipped on %s%n",
              scheme);
          continue;
        }
        long t0 = System.nanoTime();
        System.err.printf(Locale.ROOT, "[bench] %s on %s (%s) ...%n", name, b.peer, b.base);
        try {
          w.run(name);
        } catch (Exception | LinkageError e) {
          // one failing workload must not hide the others: record it and go on
          System.err.printf(Locale.ROOT, "[bench] %s failed: %s%n", name, e);
          e.printStackTrace();
          res.rec(name, "all", "error", b.firstRep).error(e).emit();
        }
        System.err.printf(Locale.ROOT, "[bench] %s done in %.1f s%n", name,
            (System.nanoTime() - t0) / 1e9);
      }
      b.closeFs();
    } finally {
      if (cluster != null) {
        cluster.shutdown();
      }
    }
    System.exit(0); // leftover non-daemon threads of some peers must not keep the JVM alive
  }

  private static String take(Map<String, String> opts, String key, String dflt) {
    String v = opts.remove(key);
    return v == null ? dflt : v;
  }
}
