// BigDir: the large-directory workload (issue 17) - listing a directory of N entries
// (listStatus and listStatusIterator) and getContentSummary of the tree holding them, through
// the FileSystem API like every other workload, each call on a new instance after a cold reset.
// The N empty files are made once per peer and size (kept for the next repetitions; a marker
// beside the tree says they are complete), on many threads, the fastest way every peer's Hadoop
// client offers, so that making them does not dominate the run; their rate is recorded too.
// Peers on one volume (Sluice and the JuiceFS SDK share one per database) can be given one place
// for the tree (--bigdir-at): whichever comes first makes it, and both list the same rows.
package io.sluice.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

final class BigDir {
  private static final String[] CALLS = {"listStatus", "listStatusIterator", "getContentSummary"};
  private final Main.Bench b;

  BigDir(Main.Bench b) {
    this.b = b;
  }

  void run() throws Exception {
    int n = b.bigdirFiles;
    Path parent = b.bigdirAt == null ? b.path("bigdir") : new Path(b.bigdirAt);
    Path tree = new Path(parent, "n" + n); // getContentSummary's tree: one directory, flat/
    Path flat = new Path(tree, "flat"); // the listed directory: n files
    Path complete = new Path(parent, "n" + n + ".complete"); // outside the tree: not counted
    FileSystem fs = b.fs();
    if (!fs.exists(complete)) {
      create(fs, tree, flat, n);
      fs.create(complete, true).close();
    }
    for (int i = 0; i < b.reps; i++) {
      for (String call : CALLS) {
        // a new instance each time: nothing an earlier call listed is cached in it
        boolean dropped = b.cold();
        fs = b.fs();
        long t0 = System.nanoTime();
        long seen;
        switch (call) {
          case "listStatus":
            seen = fs.listStatus(flat).length;
            break;
          case "listStatusIterator":
            seen = 0;
            for (RemoteIterator<FileStatus> it = fs.listStatusIterator(flat); it.hasNext(); ) {
              it.next();
              seen++;
            }
            break;
          default:
            seen = fs.getContentSummary(tree).getFileCount();
        }
        emit(call, b.rep(i), seen, n, t0, dropped);
      }
    }
  }

  /** Makes tree/flat with n empty files on b.bigdirThreads threads; records the rate. */
  private void create(FileSystem fs, Path tree, Path flat, int n) throws Exception {
    fs.delete(tree, true); // what an interrupted earlier run left
    fs.mkdirs(flat);
    int t = b.bigdirThreads;
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int k = 0; k < t; k++) {
      int first = k;
      tasks.add(() -> {
        for (int i = first; i < n; i += t) {
          fs.create(new Path(flat, String.format(Locale.ROOT, "f%07d", i)), false).close();
        }
        return null;
      });
    }
    System.err.printf(Locale.ROOT, "[bench] bigdir: creating %d files on %d threads%n", n, t);
    long t0 = System.nanoTime();
    Workloads.parallel(t, tasks);
    double s = (System.nanoTime() - t0) / 1e9;
    b.res.rec("bigdir", "create", "entries_per_s", b.firstRep).value(n / s, "files/s")
        .put("entries", n).put("threads", t).put("seconds", s).emit();
  }

  private void emit(String call, int rep, long got, int n, long t0, boolean dropped)
      throws IOException {
    double s = (System.nanoTime() - t0) / 1e9;
    if (got != n) {
      throw new IOException(call + " saw " + got + " files, expected " + n);
    }
    b.res.rec("bigdir", call, "seconds", rep).value(s, "s").put("entries", n)
        .put("os_cache_dropped", dropped).emit();
    b.res.rec("bigdir", call, "entries_per_s", rep).value(n / s, "entries/s").put("entries", n)
        .emit();
  }
}
