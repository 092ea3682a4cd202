// MiniDfs: the HDFS peer, a MiniDFSCluster (one NameNode, one DataNode, replication 1) on
// loopback under a given directory. Main starts it in process with --minidfs DIR; main() here runs
// it as its own process instead, so the driver's RSS and CPU figures hold only the client.
package io.sluice.bench;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

final class MiniDfs {
  private MiniDfs() {}

  static MiniDFSCluster start(File dir, Configuration conf, int port) throws Exception {
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.getAbsolutePath());
    conf.setInt("dfs.replication", 1);
    MiniDFSCluster.Builder b = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true);
    if (port > 0) {
      b.nameNodePort(port);
    }
    MiniDFSCluster c = b.build();
    c.waitActive();
    return c;
  }

  /**
   * {@code MiniDfs DIR [URI-FILE [PORT]]}: starts the cluster, prints its URI (and writes it to
   * URI-FILE when given), then runs until the process is killed (SIGTERM shuts it down cleanly). Clients must set
   * dfs.replication=1 (Main does so for hdfs:// peers unless told otherwise).
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: io.sluice.bench.MiniDfs DIR [URI-FILE [PORT]]");
      System.exit(2);
    }
    int port = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    MiniDFSCluster c = start(new File(args[0]), new Configuration(), port);
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
