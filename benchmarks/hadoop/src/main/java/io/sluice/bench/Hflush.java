// Hflush: workload "hflush" (issues 13 and 21), the WAL's durability call under concurrency. T
// writer threads append 1 KiB records and hflush after each one, either into a file each (T WALs,
// T = 1, 4, 16) or into one stream they share (HBase's WAL: one appender, several syncer threads
// calling hflush on the same stream); then one thread with hsync. Every write+sync is timed;
// ops/s is over the wall time of the whole variant. benchmarks/hflush.sh runs it against Sluice
// with one and two copies of each hflushed block and against HDFS with a 3-DataNode pipeline.
package io.sluice.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;

final class Hflush {
  private static final int RECORD = 1024;
  private static final int STUCK_S = 300; // far beyond any variant's time at full size
  private static final int WARMUP = 10; // per stream: block allocation, pipeline, connections
  private final Main.Bench b;
  private final byte[] data = new byte[1 << 20];

  Hflush(Main.Bench b) {
    this.b = b;
    new Random(20261206L).nextBytes(data); // incompressible, as in Workloads
  }

  void run() throws Exception {
    // the variants alternate within a repetition, so a slow minute of the machine does not
    // fall on one thread count only
    for (int i = 0; i < b.reps; i++) {
      int rep = b.rep(i);
      for (int t : b.hflushThreads) {
        once("hflush", "t" + t, t, false, b.hflushRecords, rep);
      }
      if (b.hflushShared > 0) {
        once("hflush", "shared-t" + b.hflushShared, b.hflushShared, true, b.hflushRecords, rep);
      }
      if (b.hsyncRecords > 0) {
        once("hsync", "hsync-t1", 1, false, b.hsyncRecords, rep);
      }
    }
  }

  private void once(String call, String variant, int t, boolean shared, int total, int rep)
      throws Exception {
    FileSystem fs = b.fs();
    int per = Math.max(1, total / t);
    int n = per * t;
    Path dir = b.path("hflush/" + variant + "-rep" + rep);
    fs.delete(dir, true);
    fs.mkdirs(dir);
    int nstreams = shared ? 1 : t;
    FSDataOutputStream[] out = new FSDataOutputStream[nstreams];
    long[] lat = new long[n];
    boolean cap = true;
    try {
      byte[] rec = new byte[RECORD];
      for (int s = 0; s < nstreams; s++) {
        out[s] = fs.create(new Path(dir, "w" + s), true);
        cap &= out[s].hasCapability(call.equals("hflush") ? StreamCapabilities.HFLUSH
            : StreamCapabilities.HSYNC);
        for (int i = 0; i < WARMUP; i++) {
          out[s].write(rec);
          sync(out[s], call);
        }
      }
      // HBase appends from one thread and syncs from several: the appends to a shared stream
      // are serialized here (the application's lock), the hflush calls are not
      Object appendLock = new Object();
      CountDownLatch ready = new CountDownLatch(t);
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService ex = Executors.newFixedThreadPool(t);
      double secs;
      try {
        List<Future<Void>> fut = new ArrayList<>();
        for (int j = 0; j < t; j++) {
          final int id = j;
          final FSDataOutputStream o = out[shared ? 0 : j];
          fut.add(ex.submit(() -> {
            byte[] r = new byte[RECORD];
            ready.countDown();
            go.await();
            for (int i = 0; i < per; i++) {
              int k = id * per + i;
              System.arraycopy(data, (k * RECORD) % (data.length - RECORD), r, 0, RECORD);
              long s = System.nanoTime();
              if (shared) {
                synchronized (appendLock) {
                  o.write(r);
                }
              } else {
                o.write(r);
              }
              sync(o, call);
              lat[k] = System.nanoTime() - s;
            }
            return null;
          }));
        }
        ready.await(); // the clock starts when every thread is there, not with the pool
        long t0 = System.nanoTime();
        go.countDown();
        long deadline = t0 + STUCK_S * 1_000_000_000L;
        for (Future<Void> f : fut) {
          try {
            f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof Exception ? (Exception) c : new IOException(c);
          } catch (TimeoutException e) {
            // a hang is a finding: where every thread is goes to the log for the report
            for (Map.Entry<Thread, StackTraceElement[]> th : Thread.getAllStackTraces()
                .entrySet()) {
              System.err.println("[bench] thread " + th.getKey().getName());
              for (StackTraceElement el : th.getValue()) {
                System.err.println("[bench]     at " + el);
              }
            }
            throw new IOException(variant + ": not done after " + STUCK_S + " s (stacks above)");
          }
        }
        secs = (System.nanoTime() - t0) / 1e9;
      } finally {
        ex.shutdownNow();
      }
      emit(call, variant, t, nstreams, n, rep, lat, secs, cap);
    } finally {
      for (FSDataOutputStream o : out) {
        if (o != null) {
          o.close();
        }
      }
      fs.delete(dir, true);
    }
  }

  private void emit(String call, String variant, int t, int nstreams, int n, int rep, long[] lat,
      double secs, boolean cap) throws IOException {
    File csv = new File(b.outDir, String.format(Locale.ROOT, "hflush-%s-%s-rep%d.csv", b.peer,
        variant, rep));
    int per = n / t;
    try (PrintWriter w = new PrintWriter(csv, StandardCharsets.UTF_8.name())) {
      w.println("record,thread,latency_us");
      for (int i = 0; i < n; i++) {
        w.printf(Locale.ROOT, "%d,%d,%.1f%n", i, i / per, lat[i] / 1e3);
      }
    }
    b.res.rec("hflush", variant, "ops_per_s", rep).value(n / secs, "ops/s").put("call", call)
        .put("threads", t).put("streams", nstreams).put("records", n)
        .put("record_bytes", RECORD).put("seconds", secs).put("capability", cap)
        .put("csv", csv.getName()).emit();
    double[] ps = {50, 99, 99.9};
    String[] names = {"p50", "p99", "p999"};
    for (int i = 0; i < ps.length; i++) {
      b.res.rec("hflush", variant, names[i] + "_us", rep)
          .value(Results.percentile(lat, n, ps[i]) / 1e3, "us").put("call", call)
          .put("threads", t).put("samples", n).emit();
    }
    long max = 0;
    double sum = 0;
    for (long l : lat) {
      max = Math.max(max, l);
      sum += l;
    }
    b.res.rec("hflush", variant, "mean_us", rep).value(sum / n / 1e3, "us").emit();
    b.res.rec("hflush", variant, "max_us", rep).value(max / 1e3, "us").emit();
  }

  private static void sync(FSDataOutputStream o, String call) throws IOException {
    if (call.equals("hflush")) {
      o.hflush();
    } else {
      o.hsync();
    }
  }
}
