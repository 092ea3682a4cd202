package io.sluice.hive;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;

/**
 * Hive on Sluice (tests/engines/hive.sh): Hive 4.0 as `beeline -u jdbc:hive2://` runs it,
 * HiveServer2 embedded in this JVM behind Hive's JDBC driver, with an embedded Derby metastore
 * and MapReduce's local runner; the warehouse, the default file system and an external table's
 * LOCATION on sluice://VOL (hive-site.xml on the class path says so). Every check prints one TAP
 * line ("ok - ..." or "not ok - ...") on standard output, without its number; the expected
 * values are computed here from the generated input, never read back from Hive.
 *
 * <pre>
 *   HiveCheck VOL ROWS    generate ROWS sales rows and the customers as text files on the volume,
 *                         run the statements and check results and the volume's listings
 * </pre>
 */
public final class HiveCheck {
  private static final int CUSTOMERS = 500;
  private static final int DAYS = 8;
  private static final String[] REGIONS = {"north", "south", "east", "west", "centre"};
  /** Names Hive and MapReduce give their working directories and files, never left behind. */
  private static final String[] LEFTOVERS = {".hive-staging", "_tmp", "-ext-", "_temporary",
      "_task_tmp", ".staging"};

  private static String vol;
  private static FileSystem fs;
  private static Connection conn;
  private static int failed;

  // The generated input, and the expected results computed from it
  private static long rows;
  private static long totalAmount;
  private static final TreeMap<String, long[]> byDay = new TreeMap<>();
  private static final TreeMap<Integer, long[]> byCustomer = new TreeMap<>();
  private static final TreeMap<String, long[]> byRegion = new TreeMap<>();

  private HiveCheck() {
  }

  static boolean check(boolean ok, String what) {
    System.out.println((ok ? "ok - " : "not ok - ") + what);
    System.out.flush();
    if (!ok) {
      failed++;
    }
    return ok;
  }

  /** check(expected.equals(actual)), the values in the line when they differ */
  static boolean checkEq(Object expected, Object actual, String what) {
    boolean ok = expected.equals(actual);
    return check(ok, ok ? what : what + " (expected " + clip(expected) + ", got " + clip(actual)
        + ")");
  }

  static String clip(Object o) {
    String s = String.valueOf(o);
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  interface Section {
    void run() throws Exception;
  }

  /** Runs one group of checks; an exception is a failed check of its own, and the next runs. */
  static void section(String name, Section s) {
    System.err.println("--- " + name);
    try {
      s.run();
    } catch (Exception | AssertionError e) {
      e.printStackTrace();
      check(false, name + ": " + e.toString().replace('\n', ' '));
    }
  }

  static void exec(String sql) throws SQLException {
    System.err.println("SQL> " + sql);
    try (Statement st = conn.createStatement()) {
      st.execute(sql);
    }
  }

  /** The result's rows, each column as a string, in the order Hive returns them. */
  static List<List<String>> query(String sql) throws SQLException {
    System.err.println("SQL> " + sql);
    List<List<String>> out = new ArrayList<>();
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          String v = rs.getString(i);
          row.add(v == null ? null : v.trim());
        }
        out.add(row);
      }
    }
    return out;
  }

  static String one(String sql) throws SQLException {
    List<List<String>> r = query(sql);
    if (r.size() != 1) {
      throw new AssertionError(sql + ": " + r.size() + " rows");
    }
    return String.join(",", r.get(0));
  }

  /** A line of DESCRIBE FORMATTED: the value of the row whose first column is KEY. */
  static String describe(String table, String key) throws SQLException {
    for (List<String> row : query("DESCRIBE FORMATTED " + table)) {
      if (row.get(0) != null && row.get(0).equals(key) && row.size() > 1) {
        return row.get(1);
      }
    }
    // the table parameters (numFiles, external.table.purge, ...) are in the second and third
    // columns
    for (List<String> row : query("DESCRIBE FORMATTED " + table)) {
      if (row.size() > 2 && key.equals(row.get(1))) {
        return row.get(2);
      }
    }
    return null;
  }

  static Path vpath(String p) {
    return new Path("sluice://" + vol + p);
  }

  /** Every file and directory under DIR, as paths relative to DIR ("a/b"); dirs end with "/". */
  static TreeSet<String> listing(Path dir) throws IOException {
    TreeSet<String> out = new TreeSet<>();
    walk(dir, "", out);
    return out;
  }

  private static void walk(Path dir, String prefix, TreeSet<String> out) throws IOException {
    for (FileStatus st : fs.listStatus(dir)) {
      String name = prefix + st.getPath().getName();
      if (st.isDirectory()) {
        out.add(name + "/");
        try {
          walk(st.getPath(), name + "/", out);
        } catch (java.io.FileNotFoundException e) {
          // deleted since its parent was listed: HiveServer2 removes a query's staging
          // directories in the background
          out.remove(name + "/");
        }
      } else {
        out.add(name);
      }
    }
  }

  /** The session directories in DIR (hive.exec.scratchdir/USER; not Tez's _tez_session_dir) */
  static TreeSet<String> sessionDirs(Path dir) throws IOException {
    TreeSet<String> out = new TreeSet<>();
    if (fs.exists(dir)) {
      for (FileStatus st : fs.listStatus(dir)) {
        if (!st.getPath().getName().startsWith("_")) {
          out.add(st.getPath().getName());
        }
      }
    }
    return out;
  }

  /** The data files of a listing: no directories, no hidden files (Hive skips "." and "_"). */
  static List<String> dataFiles(TreeSet<String> listing) {
    List<String> out = new ArrayList<>();
    for (String f : listing) {
      String base = f.substring(f.lastIndexOf('/') + 1);
      if (!f.endsWith("/") && !base.startsWith(".") && !base.startsWith("_")) {
        out.add(f);
      }
    }
    return out;
  }

  static List<String> leftovers(TreeSet<String> listing) {
    List<String> out = new ArrayList<>();
    for (String f : listing) {
      for (String l : LEFTOVERS) {
        if (f.contains(l)) {
          out.add(f);
          break;
        }
      }
    }
    return out;
  }

  /**
   * The listing of DIR once it holds no staging or temporary files, or after 30 s: HiveServer2
   * deletes a query's staging directories in the background after the query
   * (hive.async.cleanup.service.thread.count).
   */
  static TreeSet<String> settled(Path dir) throws IOException, InterruptedException {
    TreeSet<String> l = listing(dir);
    for (int i = 0; i < 300 && !leftovers(l).isEmpty(); i++) {
      Thread.sleep(100);
      l = listing(dir);
    }
    return l;
  }

  /** The table's directory is on the volume under the warehouse and holds its data files. */
  static void checkManagedDir(String table, String what) throws Exception {
    String loc = describe(table, "Location:");
    checkEq("sluice://" + vol + "/warehouse/" + table, loc,
        table + ": " + what + " table's LOCATION is in the warehouse on sluice://");
    // Hive 4 (MetastoreDefaultTransformer) makes a table created without TRANSACTIONAL an
    // external one whose data DROP TABLE deletes as a managed table's (external.table.purge)
    String type = describe(table, "Table Type:");
    String purge = describe(table, "external.table.purge");
    check("MANAGED_TABLE".equals(type) || "EXTERNAL_TABLE".equals(type) && "TRUE".equals(purge),
        table + ": a managed table, or an external one with external.table.purge=TRUE (type "
            + type + ", external.table.purge " + purge + ")");
    TreeSet<String> l = settled(vpath("/warehouse/" + table));
    check(!dataFiles(l).isEmpty(), table + ": data files in its directory on the volume " + l);
    List<String> left = leftovers(l);
    check(left.isEmpty(), table + ": no staging or temporary files left in its directory "
        + left);
    // Hive's basic statistics, gathered from the file system after the write, against the
    // listing: the files' count and total length
    long size = 0;
    for (String f : dataFiles(l)) {
      size += fs.getFileStatus(vpath("/warehouse/" + table + "/" + f)).getLen();
    }
    checkEq(dataFiles(l).size() + "," + size,
        describe(table, "numFiles") + "," + describe(table, "totalSize"),
        table + ": numFiles and totalSize of its statistics match the volume's listing ("
            + dataFiles(l).size() + " files, " + size + " bytes)");
  }

  static String expectTotals(long factor) {
    return rows * factor + "," + totalAmount * factor;
  }

  // ---- the input --------------------------------------------------------------------------

  /**
   * sales (id, customer, amount, day) in three text files under /ext/sales, customers (id,
   * region) under /ext/customers: every seventh customer has no row there, so the inner join
   * drops its sales.
   */
  static void generate(long n) throws IOException {
    Random r = new Random(20261206L);
    fs.delete(vpath("/ext"), true);
    Map<Integer, String> region = new TreeMap<>();
    try (Writer w = new OutputStreamWriter(fs.create(vpath("/ext/customers/customers.txt")),
        StandardCharsets.UTF_8)) {
      for (int c = 0; c < CUSTOMERS; c++) {
        if (c % 7 == 3) {
          continue;
        }
        String reg = REGIONS[r.nextInt(REGIONS.length)];
        region.put(c, reg);
        w.write(c + "," + reg + "\n");
      }
    }
    int files = 3;
    Writer[] w = new Writer[files];
    for (int i = 0; i < files; i++) {
      w[i] = new OutputStreamWriter(fs.create(vpath("/ext/sales/part-" + i + ".txt")),
          StandardCharsets.UTF_8);
    }
    try {
      for (long id = 0; id < n; id++) {
        int customer = r.nextInt(CUSTOMERS);
        long amount = r.nextInt(100000);
        String day = String.format("d%02d", r.nextInt(DAYS));
        w[(int) (id % files)].write(id + "," + customer + "," + amount + "," + day + "\n");
        rows++;
        totalAmount += amount;
        add(byDay, day, amount);
        add(byCustomer, customer, amount);
        if (region.containsKey(customer)) {
          add(byRegion, region.get(customer), amount);
        }
      }
    } finally {
      for (Writer x : w) {
        x.close();
      }
    }
  }

  /** count and sum(amount) of a sales text file on the volume */
  static long[] totals(Path p) throws IOException {
    long[] t = new long[2];
    try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
        fs.open(p), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        t[0]++;
        t[1] += Long.parseLong(line.split(",")[2]);
      }
    }
    return t;
  }

  static <K> void add(TreeMap<K, long[]> m, K key, long amount) {
    long[] v = m.computeIfAbsent(key, k -> new long[2]);
    v[0]++;
    v[1] += amount;
  }

  /** KEY,count,sum lines, sorted by key, of a map of the expected results */
  static <K> List<String> lines(TreeMap<K, long[]> m) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<K, long[]> e : m.entrySet()) {
      out.add(e.getKey() + "," + e.getValue()[0] + "," + e.getValue()[1]);
    }
    return out;
  }

  static List<String> joined(List<List<String>> result) {
    List<String> out = new ArrayList<>();
    for (List<String> row : result) {
      out.add(String.join(",", row));
    }
    return out;
  }

  // ---- the checks -------------------------------------------------------------------------

  public static void main(String[] args) throws Exception {
    vol = args[0];
    long n = Long.parseLong(args[1]);
    Configuration conf = new Configuration();
    conf.addResource("hive-site.xml");
    fs = vpath("/").getFileSystem(conf);
    generate(n);

    // beeline -u jdbc:hive2:// : HiveServer2 inside this JVM, as the process's user
    String user = System.getProperty("user.name");
    conn = DriverManager.getConnection("jdbc:hive2://", user, "");

    section("scratch", () -> {
      // Hive creates its root scratch directory writable by all (733, with a umask of 000 set
      // for the call) and refuses to start a session if it is not
      checkEq("rwx-wx-wx", fs.getFileStatus(vpath("/tmp/hive")).getPermission().toString(),
          "hive.exec.scratchdir (/tmp/hive) on the volume has the permission Hive gave it");
    });

    section("warehouse", () -> {
      String loc = null;
      for (List<String> row : query("DESCRIBE DATABASE default")) {
        loc = row.get(2);
      }
      checkEq("sluice://" + vol + "/warehouse", loc,
          "the default database's location is hive.metastore.warehouse.dir on sluice://");
    });

    section("external", () -> {
      exec("CREATE EXTERNAL TABLE sales_ext (id BIGINT, customer INT, amount BIGINT, day STRING)"
          + " ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE"
          + " LOCATION 'sluice://" + vol + "/ext/sales'");
      exec("CREATE EXTERNAL TABLE customers_ext (id INT, region STRING)"
          + " ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE"
          + " LOCATION 'sluice://" + vol + "/ext/customers'");
      checkEq("sluice://" + vol + "/ext/sales", describe("sales_ext", "Location:"),
          "sales_ext: the external table's LOCATION is on sluice://");
      checkEq("EXTERNAL_TABLE", describe("sales_ext", "Table Type:"),
          "sales_ext: an external table");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_ext"),
          "sales_ext: count(*) and sum(amount) of the generated text files");
    });

    section("text", () -> {
      exec("CREATE TABLE sales_text (id BIGINT, customer INT, amount BIGINT, day STRING)"
          + " ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE");
      exec("INSERT INTO sales_text SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_text"),
          "sales_text (TEXTFILE): INSERT INTO ... SELECT, count(*) and sum(amount)");
      checkManagedDir("sales_text", "a TEXTFILE");
      // LOAD DATA INPATH moves (renames) the files into the table's directory
      FileUtil.copy(fs, vpath("/ext/sales/part-0.txt"), fs, vpath("/incoming/part-0.txt"), false,
          fs.getConf());
      long[] part0 = totals(vpath("/incoming/part-0.txt"));
      exec("LOAD DATA INPATH 'sluice://" + vol + "/incoming/part-0.txt' INTO TABLE sales_text");
      checkEq((rows + part0[0]) + "," + (totalAmount + part0[1]),
          one("SELECT count(*), sum(amount) FROM sales_text"),
          "sales_text: LOAD DATA INPATH adds the rows of the loaded file");
      check(!fs.exists(vpath("/incoming/part-0.txt"))
          && fs.exists(vpath("/warehouse/sales_text/part-0.txt")),
          "sales_text: LOAD DATA INPATH moved the file into the table's directory");
      exec("INSERT OVERWRITE TABLE sales_text SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_text"),
          "sales_text: INSERT OVERWRITE replaces the loaded rows");
    });

    section("msck", () -> {
      // an external partitioned table whose partition directories are written by another
      // program; MSCK REPAIR TABLE finds them by listing the table's directory
      Map<String, Writer> w = new TreeMap<>();
      for (String d : byDay.keySet()) {
        w.put(d, new OutputStreamWriter(fs.create(vpath("/ext/sales_by_day/day=" + d
            + "/data.txt")), StandardCharsets.UTF_8));
      }
      try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
          fs.open(vpath("/ext/sales/part-1.txt")), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          int c = line.lastIndexOf(',');
          w.get(line.substring(c + 1)).write(line.substring(0, c) + "\n");
        }
      } finally {
        for (Writer x : w.values()) {
          x.close();
        }
      }
      exec("CREATE EXTERNAL TABLE sales_by_day (id BIGINT, customer INT, amount BIGINT)"
          + " PARTITIONED BY (day STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
          + " LOCATION 'sluice://" + vol + "/ext/sales_by_day'");
      exec("MSCK REPAIR TABLE sales_by_day");
      List<String> parts = new ArrayList<>();
      for (String d : byDay.keySet()) {
        parts.add("day=" + d);
      }
      checkEq(parts, joined(query("SHOW PARTITIONS sales_by_day")),
          "sales_by_day: MSCK REPAIR TABLE finds the partition directories on the volume");
      long[] part1 = totals(vpath("/ext/sales/part-1.txt"));
      checkEq(part1[0] + "," + part1[1], one("SELECT count(*), sum(amount) FROM sales_by_day"),
          "sales_by_day: count(*) and sum(amount) over its partitions");
    });

    section("orc", () -> {
      exec("CREATE TABLE sales_orc (id BIGINT, customer INT, amount BIGINT, day STRING)"
          + " STORED AS ORC");
      exec("INSERT OVERWRITE TABLE sales_orc SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_orc"),
          "sales_orc (ORC): INSERT OVERWRITE into an empty table, count(*) and sum(amount)");
      long[] d0 = byDay.get("d00");
      exec("INSERT INTO sales_orc SELECT * FROM sales_ext WHERE day = 'd00'");
      checkEq((rows + d0[0]) + "," + (totalAmount + d0[1]),
          one("SELECT count(*), sum(amount) FROM sales_orc"),
          "sales_orc: INSERT INTO appends (the rows of day d00 once more)");
      TreeSet<String> before = listing(vpath("/warehouse/sales_orc"));
      exec("INSERT OVERWRITE TABLE sales_orc SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_orc"),
          "sales_orc: INSERT OVERWRITE replaces the appended rows");
      TreeSet<String> after = listing(vpath("/warehouse/sales_orc"));
      List<String> copies = new ArrayList<>();
      for (String f : after) {
        if (f.contains("_copy_")) {
          copies.add(f);
        }
      }
      check(before.stream().anyMatch(f -> f.contains("_copy_")) && copies.isEmpty(),
          "sales_orc: the appended file (_copy_) is gone after INSERT OVERWRITE (before: "
              + before + ", after: " + after + ")");
      checkManagedDir("sales_orc", "an ORC");
      checkEq("org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
          describe("sales_orc", "InputFormat:"), "sales_orc: stored as ORC");
    });

    section("parquet", () -> {
      exec("CREATE TABLE sales_parquet (id BIGINT, customer INT, amount BIGINT, day STRING)"
          + " STORED AS PARQUET");
      exec("INSERT INTO sales_parquet SELECT * FROM sales_ext");
      exec("INSERT INTO sales_parquet SELECT * FROM sales_orc");
      checkEq(expectTotals(2), one("SELECT count(*), sum(amount) FROM sales_parquet"),
          "sales_parquet (Parquet): two INSERT INTO, twice the rows");
      checkManagedDir("sales_parquet", "a Parquet");
      checkEq("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          describe("sales_parquet", "InputFormat:"), "sales_parquet: stored as Parquet");
    });

    section("partitioned", () -> {
      exec("CREATE TABLE sales_part (id BIGINT, customer INT, amount BIGINT)"
          + " PARTITIONED BY (day STRING) STORED AS ORC");
      exec("INSERT INTO TABLE sales_part PARTITION (day = 'd00')"
          + " SELECT id, customer, amount FROM sales_ext WHERE day = 'd00'");
      checkEq(lines(new TreeMap<>(byDay.headMap("d01"))),
          joined(query("SELECT day, count(*), sum(amount) FROM sales_part GROUP BY day"
              + " ORDER BY day")),
          "sales_part: a static partition insert (day d00)");
      exec("SET hive.exec.dynamic.partition.mode=nonstrict");
      exec("INSERT OVERWRITE TABLE sales_part PARTITION (day)"
          + " SELECT id, customer, amount, day FROM sales_ext");
      checkEq(lines(byDay),
          joined(query("SELECT day, count(*), sum(amount) FROM sales_part GROUP BY day"
              + " ORDER BY day")),
          "sales_part: a dynamic partition INSERT OVERWRITE creates the other days and"
              + " replaces d00");
      List<String> parts = new ArrayList<>();
      for (String d : byDay.keySet()) {
        parts.add("day=" + d);
      }
      checkEq(parts, joined(query("SHOW PARTITIONS sales_part")),
          "sales_part: SHOW PARTITIONS");
      TreeSet<String> l = settled(vpath("/warehouse/sales_part"));
      List<String> missing = new ArrayList<>();
      for (String p : parts) {
        if (dataFiles(l).stream().noneMatch(f -> f.startsWith(p + "/"))) {
          missing.add(p);
        }
      }
      check(missing.isEmpty(), "sales_part: each partition's directory on the volume has data"
          + " files (missing: " + missing + ")");
      check(leftovers(l).isEmpty(), "sales_part: no staging or temporary files left "
          + leftovers(l));
    });

    section("acid", () -> {
      // A transactional table: Hive writes each transaction's rows into a delta directory of
      // its own, UPDATE and DELETE into delete deltas, INSERT OVERWRITE into a base directory,
      // and readers merge them by their names
      exec("CREATE TABLE sales_acid (id BIGINT, customer INT, amount BIGINT, day STRING)"
          + " STORED AS ORC TBLPROPERTIES ('transactional'='true')");
      exec("INSERT INTO sales_acid SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_acid"),
          "sales_acid (transactional ORC): INSERT INTO, count(*) and sum(amount)");
      long[] d1 = byDay.get("d01");
      long[] d2 = byDay.get("d02");
      exec("UPDATE sales_acid SET amount = amount + 1 WHERE day = 'd01'");
      checkEq(rows + "," + (totalAmount + d1[0]),
          one("SELECT count(*), sum(amount) FROM sales_acid"),
          "sales_acid: UPDATE adds 1 to the amount of each row of day d01");
      exec("DELETE FROM sales_acid WHERE day = 'd02'");
      checkEq((rows - d2[0]) + "," + (totalAmount + d1[0] - d2[1]),
          one("SELECT count(*), sum(amount) FROM sales_acid"),
          "sales_acid: DELETE removes the rows of day d02");
      checkEq("MANAGED_TABLE", describe("sales_acid", "Table Type:"),
          "sales_acid: a managed table");
      checkEq("sluice://" + vol + "/warehouse/sales_acid", describe("sales_acid", "Location:"),
          "sales_acid: its LOCATION is in the warehouse on sluice://");
      TreeSet<String> l = settled(vpath("/warehouse/sales_acid"));
      check(l.stream().anyMatch(f -> f.matches("delta_[0-9_]+/"))
          && l.stream().anyMatch(f -> f.matches("delete_delta_[0-9_]+/"))
          && leftovers(l).isEmpty(),
          "sales_acid: delta and delete_delta directories, no staging files " + l);
      exec("INSERT OVERWRITE TABLE sales_acid SELECT * FROM sales_ext");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_acid"),
          "sales_acid: INSERT OVERWRITE, the rows of sales_ext only");
      l = settled(vpath("/warehouse/sales_acid"));
      check(l.stream().anyMatch(f -> f.matches("base_[0-9_]+/")) && leftovers(l).isEmpty(),
          "sales_acid: a base directory after INSERT OVERWRITE " + l);
    });

    section("ctas", () -> {
      exec("CREATE TABLE customer_totals STORED AS PARQUET AS"
          + " SELECT customer, count(*) AS n, sum(amount) AS total FROM sales_orc"
          + " GROUP BY customer");
      checkEq(lines(byCustomer), joined(query("SELECT customer, n, total FROM customer_totals"
          + " ORDER BY customer")),
          "customer_totals: CTAS with GROUP BY customer, count and sum of every customer");
      checkManagedDir("customer_totals", "a CTAS");
    });

    section("directory", () -> {
      // a query's result written to a directory on the volume, read back here
      exec("INSERT OVERWRITE DIRECTORY 'sluice://" + vol + "/export/by_day'"
          + " ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
          + " SELECT day, count(*), sum(amount) FROM sales_orc GROUP BY day");
      TreeSet<String> l = settled(vpath("/export/by_day"));
      TreeSet<String> got = new TreeSet<>();
      for (String f : dataFiles(l)) {
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
            fs.open(vpath("/export/by_day/" + f)), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            got.add(line);
          }
        }
      }
      checkEq(new TreeSet<>(lines(byDay)), got,
          "INSERT OVERWRITE DIRECTORY: the files hold count and sum per day");
      check(leftovers(l).isEmpty(), "INSERT OVERWRITE DIRECTORY: no staging or temporary"
          + " files left in the directory " + l);
    });

    section("join", () -> {
      checkEq(lines(byRegion), joined(query("SELECT c.region, count(*), sum(s.amount)"
          + " FROM sales_part s JOIN customers_ext c ON s.customer = c.id"
          + " GROUP BY c.region ORDER BY c.region")),
          "a join of sales_part and customers_ext, count and sum per region");
      // the customers that are in customers_ext and have sales, and the sum of their sales
      long customers = 0;
      long all = 0;
      for (long[] v : byRegion.values()) {
        all += v[1];
      }
      for (int c : byCustomer.keySet()) {
        customers += c % 7 == 3 ? 0 : 1;
      }
      checkEq(customers + "," + all, one("SELECT count(*), sum(t.total) FROM customers_ext c"
          + " JOIN (SELECT customer, sum(amount) AS total FROM sales_text GROUP BY customer) t"
          + " ON t.customer = c.id JOIN customer_totals ct ON ct.customer = c.id"
          + " WHERE ct.total = t.total"),
          "a three-way join with a subquery: the customers' sales total");
    });

    section("drop", () -> {
      // fs.trash.interval > 0 in hive-site.xml: Hive moves a dropped managed table's directory
      // to the trash of the user; PURGE deletes it at once.
      // The trash holds the files INSERT OVERWRITE replaced already, so the table's directory
      // may get a new name there (TrashPolicyDefault adds a time stamp to a name in use).
      Path text = vpath("/warehouse/sales_text");
      TreeSet<String> files = settled(text);
      Path trash = new Path(fs.getTrashRoot(text), "Current/warehouse");
      TreeSet<String> before = fs.exists(trash) ? listing(trash) : new TreeSet<>();
      exec("DROP TABLE sales_text");
      check(!fs.exists(text), "DROP TABLE sales_text: its directory is gone from the warehouse");
      TreeSet<String> added = new TreeSet<>();
      if (fs.exists(trash)) {
        for (String f : listing(trash)) {
          if (!before.contains(f) && f.startsWith("sales_text") && !f.endsWith("/")) {
            added.add(f.substring(f.indexOf('/') + 1));
          }
        }
      }
      checkEq(files, added, "DROP TABLE sales_text: its files went to the trash ("
          + trash.toUri().getPath() + "/sales_text...)");

      // ALTER TABLE RENAME of a managed table moves its directory in the warehouse
      exec("ALTER TABLE sales_acid RENAME TO sales_acid2");
      Path acid = vpath("/warehouse/sales_acid2");
      check(!fs.exists(vpath("/warehouse/sales_acid")) && fs.exists(acid),
          "ALTER TABLE sales_acid RENAME TO sales_acid2: its directory moved");
      checkEq(acid.toString(), describe("sales_acid2", "Location:"),
          "sales_acid2: its LOCATION is the new directory");
      checkEq(expectTotals(1), one("SELECT count(*), sum(amount) FROM sales_acid2"),
          "sales_acid2: the same rows after the rename");
      TreeSet<String> acidFiles = settled(acid);
      before = fs.exists(trash) ? listing(trash) : new TreeSet<>();
      exec("DROP TABLE sales_acid2");
      check(!fs.exists(acid), "DROP TABLE sales_acid2 (managed): its directory is gone from the"
          + " warehouse");
      added.clear();
      if (fs.exists(trash)) {
        for (String f : listing(trash)) {
          if (!before.contains(f) && f.startsWith("sales_acid2")) {
            added.add(f.substring(f.indexOf('/') + 1));
          }
        }
      }
      added.remove("");
      checkEq(acidFiles, added, "DROP TABLE sales_acid2 (managed): its files and directories"
          + " went to the trash (" + trash.toUri().getPath() + "/sales_acid2...)");

      // ALTER TABLE DROP PARTITION deletes the partition's directory (into the trash)
      Path d7 = vpath("/warehouse/sales_part/day=d07");
      check(fs.exists(d7), "sales_part: partition day=d07 has its directory");
      exec("ALTER TABLE sales_part DROP PARTITION (day = 'd07')");
      check(!fs.exists(d7), "ALTER TABLE sales_part DROP PARTITION (day='d07'): its directory"
          + " is gone");
      checkEq((rows - byDay.get("d07")[0]) + "," + (totalAmount - byDay.get("d07")[1]),
          one("SELECT count(*), sum(amount) FROM sales_part"),
          "sales_part: count(*) and sum(amount) without day d07");

      // TRUNCATE TABLE deletes the table's files, keeps the table and its directory
      exec("TRUNCATE TABLE sales_parquet");
      check(fs.exists(vpath("/warehouse/sales_parquet"))
          && dataFiles(listing(vpath("/warehouse/sales_parquet"))).isEmpty(),
          "TRUNCATE TABLE sales_parquet: its directory is there, without data files");
      checkEq("0", one("SELECT count(*) FROM sales_parquet"), "sales_parquet: empty");

      // The INSERT OVERWRITE of partition d00 moved the partition's old file to the trash
      // already; PURGE adds nothing to it.
      Path part = vpath("/warehouse/sales_part");
      Path partTrash = new Path(fs.getTrashRoot(part), "Current" + part.toUri().getPath());
      TreeSet<String> trashed = fs.exists(partTrash) ? listing(partTrash) : new TreeSet<>();
      exec("DROP TABLE sales_part PURGE");
      check(!fs.exists(part), "DROP TABLE sales_part PURGE: its directory is gone");
      checkEq(trashed, fs.exists(partTrash) ? listing(partTrash) : new TreeSet<>(),
          "DROP TABLE sales_part PURGE: nothing of it went to the trash");

      Path ext = vpath("/ext/sales");
      TreeSet<String> extFiles = listing(ext);
      exec("DROP TABLE sales_ext");
      checkEq(extFiles, fs.exists(ext) ? listing(ext) : null,
          "DROP TABLE sales_ext (external): its files stay where they are");
      List<String> tables = new ArrayList<>();
      for (List<String> row : query("SHOW TABLES")) {
        tables.add(row.get(0));
      }
      checkEq("[customer_totals, customers_ext, sales_by_day, sales_orc, sales_parquet]",
          tables.toString(),
          "SHOW TABLES after the drops");
      checkEq(lines(byCustomer), joined(query("SELECT customer, n, total FROM customer_totals"
          + " ORDER BY customer")), "customer_totals: still readable after the drops");
    });

    section("leftovers", () -> {
      TreeSet<String> l = settled(vpath("/warehouse"));
      l.addAll(settled(vpath("/ext")));
      l.addAll(settled(vpath("/export")));
      check(leftovers(l).isEmpty(), "no staging or temporary files anywhere in the warehouse,"
          + " /ext or /export after the queries " + leftovers(l));
    });

    // Hive's scratch directory (hive.exec.scratchdir, /tmp/hive on the default file system,
    // here the volume) holds a directory per session while it is open. HiveServer2 deletes a
    // closed session's in the background (hive.async.cleanup.service.thread.count); its own
    // session's, and the query results cache's, when the JVM exits (hive.sh checks those).
    Path scratch = vpath("/tmp/hive/" + user);
    TreeSet<String> open = sessionDirs(scratch);
    conn.close();
    section("after close", () -> {
      TreeSet<String> closed = sessionDirs(scratch);
      for (int i = 0; i < 300 && closed.size() >= open.size(); i++) {
        Thread.sleep(100);
        closed = sessionDirs(scratch);
      }
      check(open.size() == 2 && open.containsAll(closed) && closed.size() == 1,
          "the connection's session directory in hive.exec.scratchdir on the volume is gone"
              + " after it closed (while open: " + open + ", after: " + closed + ")");
      TreeSet<String> all = listing(vpath("/"));
      System.err.println("the volume after the session: " + all);
      List<String> left = new ArrayList<>();
      for (String f : leftovers(all)) {
        if (!f.startsWith("tmp/hive/")) {
          left.add(f);
        }
      }
      check(left.isEmpty(), "no staging or temporary files anywhere on the volume but in the"
          + " scratch directory " + left);
    });
    System.err.println("--- done, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
