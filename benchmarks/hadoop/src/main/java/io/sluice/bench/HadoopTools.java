// HadoopTools (workload 7): Hadoop's own TestDFSIO and NNBench, run in process in MapReduce local
// mode against the peer (fs.defaultFS = the peer), their figures parsed from the result files they
// append to. Job staging stays on the local disk for every peer, so only the benchmarked I/O
// touches the peer.
package io.sluice.bench;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.TestDFSIO;
import org.apache.hadoop.hdfs.NNBench;
import org.apache.hadoop.util.ToolRunner;

final class HadoopTools {
  private final Main.Bench b;

  HadoopTools(Main.Bench b) {
    this.b = b;
  }

  private Configuration jobConf() throws IOException {
    Configuration c = new Configuration(b.conf);
    URI u = b.base;
    c.set("fs.defaultFS", u.getScheme() + "://" + (u.getAuthority() == null ? "" : u.getAuthority())
        + "/");
    c.set("mapreduce.framework.name", "local");
    if ("file".equals(u.getScheme())) {
      // MapReduce casts the local FileSystem to LocalFileSystem, so the jobs cannot run over
      // RawLocalFileSystem: here file:// is the checksummed LocalFileSystem (records say so)
      c.unset("fs.file.impl");
    }
    File local = Files.createTempDirectory("bench-mr-").toFile();
    local.deleteOnExit();
    c.set("mapreduce.jobtracker.staging.root.dir", local.toURI() + "staging");
    c.set("mapreduce.cluster.local.dir", new File(local, "local").getAbsolutePath());
    c.set("hadoop.tmp.dir", new File(local, "tmp").getAbsolutePath());
    return c;
  }

  private String fsImpl() {
    return "file".equals(b.base.getScheme()) ? "LocalFileSystem" : "default";
  }

  private static String tail(File f, long from) throws IOException {
    if (!f.exists()) {
      return "";
    }
    try (RandomAccessFile r = new RandomAccessFile(f, "r")) {
      r.seek(Math.min(from, r.length()));
      byte[] buf = new byte[(int) (r.length() - r.getFilePointer())];
      r.readFully(buf);
      return new String(buf, StandardCharsets.UTF_8);
    }
  }

  private static double find(String text, String label) throws IOException {
    Matcher m = Pattern.compile(Pattern.quote(label) + "\\s*([0-9.eE+-]+)").matcher(text);
    double v = Double.NaN;
    while (m.find()) { // the last occurrence: the result files are appended to
      v = Double.parseDouble(m.group(1));
    }
    if (Double.isNaN(v)) {
      throw new IOException("no \"" + label + "\" in the tool's result output:\n" + text);
    }
    return v;
  }

  void dfsio() throws Exception {
    File res = new File(b.outDir, "TestDFSIO-" + b.peer + ".log");
    for (int i = 0; i < b.reps; i++) {
      int rep = b.rep(i);
      for (String op : new String[] {"write", "read"}) {
        Configuration c = jobConf();
        c.set("test.build.data", b.path("dfsio").toString());
        long from = res.exists() ? res.length() : 0;
        int rc = ToolRunner.run(c, new TestDFSIO(), new String[] {"-" + op, "-nrFiles",
            String.valueOf(b.dfsioFiles), "-size", b.dfsioMib + "MB", "-resFile",
            res.getAbsolutePath()});
        if (rc != 0) {
          throw new IOException("TestDFSIO -" + op + " exited with " + rc);
        }
        String out = tail(res, from);
        b.res.rec("dfsio", op, "throughput", rep).value(find(out, "Throughput mb/sec:"), "MB/s")
            .put("avg_io_rate_mb_s", find(out, "Average IO rate mb/sec:"))
            .put("exec_s", find(out, "Test exec time sec:")).put("files", b.dfsioFiles)
            .put("file_mib", b.dfsioMib).put("fs_impl", fsImpl()).emit();
      }
      Configuration c = jobConf();
      c.set("test.build.data", b.path("dfsio").toString());
      ToolRunner.run(c, new TestDFSIO(), new String[] {"-clean"});
    }
  }

  void nnbench() throws Exception {
    // NNBench appends its results to NNBench_results.log in the working directory
    File res = new File("NNBench_results.log").getAbsoluteFile();
    String[][] ops = {
      {"create_write", "TPS: Create/Write/Close:"},
      {"open_read", "TPS: Open/Read:"},
      {"rename", "TPS: Rename:"},
      {"delete", "TPS: Delete:"},
    };
    for (int i = 0; i < b.reps; i++) {
      int rep = b.rep(i);
      for (String[] op : ops) {
        if (op[0].equals("delete")) {
          // NNBench deletes the names create_write made, which rename has just moved away
          nnbenchOnce("create_write");
        }
        long from = res.exists() ? res.length() : 0;
        nnbenchOnce(op[0]);
        String out = tail(res, from);
        b.res.rec("nnbench", op[0], "tps", rep).value(find(out, op[1]), "ops/s")
            .put("files", b.nnbenchFiles).put("maps", 1).put("fs_impl", fsImpl()).emit();
      }
    }
  }

  private void nnbenchOnce(String op) throws Exception {
    long start = System.currentTimeMillis() / 1000 + 1; // maps wait for this second
    int rc = ToolRunner.run(jobConf(), new NNBench(), new String[] {"-operation", op, "-maps",
        "1", "-reduces", "1", "-blockSize", "1048576", "-bytesToWrite", "0", "-numberOfFiles",
        String.valueOf(b.nnbenchFiles), "-replicationFactorPerFile", "1", "-baseDir",
        b.path("nnbench").toString(), "-startTime", String.valueOf(start)});
    if (rc != 0) {
      throw new IOException("NNBench " + op + " exited with " + rc);
    }
  }
}
