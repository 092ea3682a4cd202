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
    // the table parameters (e.g. EXTERNAL) are in the second and third columns
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
        walk(st.getPath(), name + "/", out);
      } else {
        out.add(name);
      }
    }
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
    TreeSet<String> l = listing(vpath("/warehouse/" + table));
    check(!dataFiles(l).isEmpty(), table + ": data files in its directory on the volume " + l);
    List<String> left = leftovers(l);
    check(left.isEmpty(), table + ": no staging or temporary files left in its directory "
        + left);
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
      TreeSet<String> l = listing(vpath("/warehouse/sales_part"));
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

    section("ctas", () -> {
      exec("CREATE TABLE customer_totals STORED AS PARQUET AS"
          + " SELECT customer, count(*) AS n, sum(amount) AS total FROM sales_orc"
          + " GROUP BY customer");
      checkEq(lines(byCustomer), joined(query("SELECT customer, n, total FROM customer_totals"
          + " ORDER BY customer")),
          "customer_totals: CTAS with GROUP BY customer, count and sum of every customer");
      checkManagedDir("customer_totals", "a CTAS");
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
      Path text = vpath("/warehouse/sales_text");
      TreeSet<String> files = listing(text);
      Path trash = new Path(fs.getTrashRoot(text), "Current" + text.toUri().getPath());
      exec("DROP TABLE sales_text");
      check(!fs.exists(text), "DROP TABLE sales_text: its directory is gone from the warehouse");
      checkEq(files, fs.exists(trash) ? listing(trash) : null,
          "DROP TABLE sales_text: its files are in the trash (" + trash.toUri().getPath() + ")");

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
      checkEq("[customer_totals, customers_ext, sales_orc, sales_parquet]", tables.toString(),
          "SHOW TABLES after the drops");
      checkEq(lines(byCustomer), joined(query("SELECT customer, n, total FROM customer_totals"
          + " ORDER BY customer")), "customer_totals: still readable after the drops");
    });

    section("leftovers", () -> {
      TreeSet<String> l = listing(vpath("/warehouse"));
      l.addAll(listing(vpath("/ext")));
      check(leftovers(l).isEmpty(), "no staging or temporary files anywhere in the warehouse"
          + " or /ext after the queries " + leftovers(l));
    });

    conn.close();
    System.err.println("--- done, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
