package io.sluice.hbase;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.HConstants;
import org.apache.hadoop.hbase.LocalHBaseCluster;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.CompactionState;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.client.Put;
import org.apache.hadoop.hbase.client.Result;
import org.apache.hadoop.hbase.client.ResultScanner;
import org.apache.hadoop.hbase.client.Scan;
import org.apache.hadoop.hbase.client.Table;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.master.HMaster;
import org.apache.hadoop.hbase.regionserver.HRegionServer;
import org.apache.hadoop.hbase.util.Bytes;
import org.apache.hadoop.hbase.zookeeper.MiniZooKeeperCluster;

/**
 * HBase on Sluice (tests/engines/hbase.sh): ZooKeeper, a master and a region server in this one
 * JVM (HBase's standalone mode), their hbase.rootdir and hbase.wal.dir on sluice://, the volume's
 * settings from the Hadoop configuration (hbase-site.xml on the class path). Every check prints
 * one TAP line ("ok - ..." or "not ok - ...") on standard output, without its number.
 *
 * <pre>
 *   load ACKFILE N    create table t if missing; put rows 0..N-1 in batches of 1000, appending
 *                     the last row of each acknowledged batch to ACKFILE (fsync'ed); N = 0: until
 *                     killed. The region server's crash test kills this process with -9.
 *   verify ACKFILE    start again (WAL replay), check that every row up to the last
 *                     acknowledged one is present with its value
 *   full N            load N rows, flush, split, major compact, scan and count
 *
 *   With hbase.cluster.distributed=true, each in a JVM of its own:
 *   master READYFILE  ZooKeeper and a master; creates READYFILE once active; runs until killed
 *   regionserver      a region server; runs until killed
 *   client-load ACKFILE N, client-verify ACKFILE
 *                     load and verify as clients of that cluster
 * </pre>
 */
public final class HBaseCheck {
  private static final TableName TABLE = TableName.valueOf("t");
  private static final byte[] FAMILY = Bytes.toBytes("f");
  private static final byte[] QUALIFIER = Bytes.toBytes("q");
  private static final int BATCH = 1000;

  private static MiniZooKeeperCluster zk;
  private static LocalHBaseCluster cluster;
  private static int failures;

  private HBaseCheck() {}

  static byte[] row(long i) {
    return Bytes.toBytes(String.format("row%09d", i));
  }

  static byte[] value(long i) {
    StringBuilder b = new StringBuilder("value-").append(i).append('-');
    while (b.length() < 100) {
      b.append('x');
    }
    return Bytes.toBytes(b.toString());
  }

  static void check(boolean ok, String what) {
    System.out.println((ok ? "ok - " : "not ok - ") + what);
    System.out.flush();
    if (!ok) {
      failures++;
    }
  }

  static Connection start(Configuration conf) throws Exception {
    File zkDir = new File(System.getProperty("hbase.check.zk.dir"));
    zk = new MiniZooKeeperCluster(conf);
    zk.setDefaultClientPort(conf.getInt(HConstants.ZOOKEEPER_CLIENT_PORT, 2181));
    zk.startup(zkDir);
    cluster = new LocalHBaseCluster(conf, 1, 1);
    long t0 = System.nanoTime();
    cluster.startup();
    Connection conn = ConnectionFactory.createConnection(conf);
    try (Admin admin = conn.getAdmin()) {
      // the master is up once it answers with its cluster state, and meta is assigned
      while (true) {
        try {
          admin.getClusterMetrics();
          if (admin.tableExists(TableName.META_TABLE_NAME)) {
            break;
          }
        } catch (IOException e) {
          // not yet
        }
        Thread.sleep(200);
      }
    }
    System.err.printf("HBaseCheck: cluster up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    return conn;
  }

  static void stop(Connection conn) throws Exception {
    conn.close();
    cluster.shutdown();
    cluster.join();
    zk.shutdown();
  }

  static void createTable(Admin admin) throws IOException {
    if (!admin.tableExists(TABLE)) {
      admin.createTable(TableDescriptorBuilder.newBuilder(TABLE)
          .setColumnFamily(ColumnFamilyDescriptorBuilder.of(FAMILY)).build());
    }
  }

  /** Puts rows from..to-1 (to < 0: until killed); returns the number put. */
  static long load(Connection conn, long from, long to, PrintStream acks, FileOutputStream ackFd)
      throws IOException {
    long i = from;
    try (Table table = conn.getTable(TABLE)) {
      while (to < 0 || i < to) {
        List<Put> puts = new ArrayList<>(BATCH);
        long end = to < 0 ? i + BATCH : Math.min(i + BATCH, to);
        for (long j = i; j < end; j++) {
          puts.add(new Put(row(j)).addColumn(FAMILY, QUALIFIER, value(j)));
        }
        table.put(puts); // returns once the batch is in the WAL (SYNC_WAL: hflush)
        i = end;
        if (acks != null) {
          acks.println(i - 1);
          acks.flush();
          ackFd.getFD().sync();
        }
      }
    }
    return i - from;
  }

  /** Scans the table: rows 0..n-1 each present once with its value, and no other row. */
  static long scanAndCheck(Connection conn, long n, String what) throws IOException {
    long count = 0;
    long bad = 0;
    try (Table table = conn.getTable(TABLE);
        ResultScanner scanner = table.getScanner(new Scan().setCaching(1000))) {
      for (Result r : scanner) {
        if (count < n) {
          if (!Bytes.equals(r.getRow(), row(count))
              || !Bytes.equals(r.getValue(FAMILY, QUALIFIER), value(count))) {
            if (bad++ < 5) {
              System.err.println("HBaseCheck: row " + count + " is " + Bytes.toString(r.getRow()));
            }
          }
        }
        count++;
      }
    }
    check(bad == 0 && count >= n, what + ": scan finds rows 0.." + (n - 1) + " with their values"
        + " (" + count + " rows, " + bad + " wrong)");
    return count;
  }

  static void waitCompactionDone(Admin admin) throws Exception {
    Thread.sleep(1000);
    while (admin.getCompactionState(TABLE) != CompactionState.NONE) {
      Thread.sleep(500);
    }
  }

  /** fs implements LeaseRecoverable, or this Hadoop (before 3.3.6) has no such interface. */
  static boolean leaseRecoverable(FileSystem fs) {
    try {
      return Class.forName("org.apache.hadoop.fs.LeaseRecoverable").isInstance(fs);
    } catch (ClassNotFoundException e) {
      return true;
    }
  }

  static long lastAcked(File ackFile) throws IOException {
    long last = -1;
    for (String line : java.nio.file.Files.readAllLines(ackFile.toPath(), StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) {
        last = Long.parseLong(line.trim());
      }
    }
    return last;
  }

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      t.printStackTrace();
      check(false, "HBaseCheck " + String.join(" ", args) + " ran to its end: " + t);
    }
    System.exit(failures == 0 ? 0 : 1);
  }

  static void run(String[] args) throws Exception {
    Configuration conf = HBaseConfiguration.create();
    String mode = args[0];
    if (mode.equals("master")) {
      zk = new MiniZooKeeperCluster(conf);
      zk.setDefaultClientPort(conf.getInt(HConstants.ZOOKEEPER_CLIENT_PORT, 2181));
      zk.startup(new File(System.getProperty("hbase.check.zk.dir")));
      HMaster master = new HMaster(conf);
      master.start();
      while (!master.isActiveMaster()) {
        Thread.sleep(200);
      }
      new File(args[1]).createNewFile();
      master.join();
      return;
    }
    if (mode.equals("regionserver")) {
      HRegionServer rs = new HRegionServer(conf);
      rs.start();
      rs.join();
      return;
    }
    boolean client = mode.startsWith("client-");
    if (client) {
      mode = mode.substring("client-".length());
    }
    Connection conn = client ? ConnectionFactory.createConnection(conf) : start(conf);
    String vol = conf.get(HConstants.HBASE_DIR);
    switch (mode) {
      case "load": {
        File ackFile = new File(args[1]);
        long n = Long.parseLong(args[2]);
        try (Admin admin = conn.getAdmin()) {
          createTable(admin);
        }
        try (FileOutputStream fd = new FileOutputStream(ackFile, true);
            PrintStream acks = new PrintStream(fd, false, "UTF-8")) {
          load(conn, 0, n == 0 ? -1 : n, acks, fd);
        }
        break;
      }
      case "verify": {
        long last = lastAcked(new File(args[1]));
        long t0 = System.nanoTime();
        try (Admin admin = conn.getAdmin()) {
          while (!admin.isTableAvailable(TABLE)) {
            Thread.sleep(200);
          }
        }
        System.err.printf("HBaseCheck: table available after %.1f s%n",
            (System.nanoTime() - t0) / 1e9);
        scanAndCheck(conn, last + 1, "after kill -9 and restart (" + vol + ")");
        break;
      }
      case "full": {
        long n = Long.parseLong(args[1]);
        long t0 = System.nanoTime();
        try (Admin admin = conn.getAdmin()) {
          createTable(admin);
          check(admin.tableExists(TABLE), "create table t on " + vol);
          FileSystem fs = new Path(vol).getFileSystem(conf);
          check(leaseRecoverable(fs), "the FileSystem of " + vol + " ("
              + fs.getClass().getSimpleName() + ") is LeaseRecoverable where Hadoop has that"
              + " interface (3.3.6+)");
          load(conn, 0, n, null, null);
          System.err.printf("HBaseCheck: %d rows put in %.1f s%n", n,
              (System.nanoTime() - t0) / 1e9);
          scanAndCheck(conn, n, "put " + n + " rows");
          admin.flush(TABLE);
          check(!admin.getRegions(TABLE).isEmpty(), "flush");
          scanAndCheck(conn, n, "after the flush");
          admin.split(TABLE, row(n / 2));
          long deadline = System.nanoTime() + 120_000_000_000L;
          while (admin.getRegions(TABLE).size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(500);
          }
          check(admin.getRegions(TABLE).size() >= 2,
              "split into " + admin.getRegions(TABLE).size() + " regions");
          while (!admin.isTableAvailable(TABLE)) {
            Thread.sleep(200);
          }
          scanAndCheck(conn, n, "after the split");
          admin.majorCompact(TABLE);
          waitCompactionDone(admin);
          check(true, "major compaction completed");
          scanAndCheck(conn, n, "after the major compaction");
        }
        break;
      }
      default:
        throw new IllegalArgumentException("unknown mode " + mode);
    }
    if (client) {
      conn.close();
    } else {
      stop(conn);
    }
  }
}
