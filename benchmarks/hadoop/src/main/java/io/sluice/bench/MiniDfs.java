// MiniDfs: the HDFS peer, a MiniDFSCluster (one NameNode, one DataNode, replication 1) on
// loopback under a given directory. Main starts it in process with --minidfs DIR; main() here runs
// it as its own process instead, so the driver's RSS and CPU figures hold only the client. The
// hflush part (benchmarks/hflush.sh) runs a second one with 3 DataNodes and replication 3, so
// that an hflush goes through the 3-node pipeline a real cluster has.
package io.sluice.bench;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

final class MiniDfs {
  private MiniDfs() {}

  static MiniDFSCluster start(File dir, Configuration conf, int port) throws Exception {
    return start(dir, conf, port, 1);
  }

  /** A cluster of dataNodes DataNodes whose default replication is their number (at most 3). */
  static MiniDFSCluster start(File dir, Configuration conf, int port, int dataNodes)
      throws Exception {
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.getAbsolutePath());
    conf.setInt("dfs.replication", Math.min(3, dataNodes));
    MiniDFSCluster.Builder b = new MiniDFSCluster.Builder(conf).numDataNodes(dataNodes)
        .format(true);
    if (port > 0) {
      b.nameNodePort(port);
    }
    MiniDFSCluster c = b.build();
    c.waitActive();
    return c;
  }

  /**
   * {@code MiniDfs DIR [URI-FILE [PORT [DATANODES]]]}: starts the cluster (PORT 0: any free one;
   * DATANODES default 1), prints its URI (and writes it to URI-FILE when given), then runs until
   * the process is killed (SIGTERM shuts it down cleanly). Clients must set dfs.replication to
   * the cluster's (Main sets 1 for hdfs:// peers; --conf dfs.replication=3 overrides it).
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: io.sluice.bench.MiniDfs DIR [URI-FILE [PORT [DATANODES]]]");
      System.exit(2);
    }
    int port = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    int dataNodes = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    MiniDFSCluster c = start(new File(args[0]), new Configuration(), port, dataNodes);
    String uri = c.getURI().toString();
    if (args.length > 1) {
      File tmp = new File(args[1] + ".tmp");
      Files.write(tmp.toPath(), (uri + "\n").getBytes(StandardCharsets.UTF_8));
      if (!tmp.renameTo(new File(args[1]))) {
        throw new IllegalStateException("cannot write " + args[1]);
      }
    }
    System.out.println(uri);
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(c::shutdown));
    Thread.currentThread().join();
  }
}
