package io.sluice.hadoop.shell;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.TrashPolicyDefault;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.io.IOUtils;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.test.GenericTestUtils.LogCapturer;
import org.apache.hadoop.util.DataChecksum;
import org.apache.hadoop.util.ToolRunner;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;
import org.slf4j.LoggerFactory;

/**
 * Hadoop's own shell (FsShell, what `hadoop fs` runs) against sluice:// on the per-JVM test
 * volume: every command a person types, with its printed output checked, not just its exit code.
 */
public class TestSluiceFsShell {
  private static Configuration conf;
  private static FileSystem fs;
  private static String root; // sluice://testvol

  /** Every shell run of the current test, printed only when it fails. */
  private static final StringBuilder transcript = new StringBuilder();

  @Rule public TemporaryFolder local = new TemporaryFolder();

  @Rule
  public TestWatcher printTranscript = new TestWatcher() {
    @Override
    protected void starting(Description description) {
      transcript.setLength(0);
    }

    @Override
    protected void failed(Throwable e, Description description) {
      System.out.println("Shell runs of " + description.getMethodName() + ":\n" + transcript);
    }
  };

  private Path dir;
  private String d; // the qualified test directory, as typed on the command line

  /** One shell run: exit code and what it printed. */
  static final class Result {
    final int rc;
    final String out;
    final String err;

    Result(int rc, String out, String err) {
      this.rc = rc;
      this.out = out;
      this.err = err;
    }

    @Override
    public String toString() {
      return "rc=" + rc + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  @BeforeClass
  public static void setUpClass() throws IOException {
    conf = SluiceTestVolume.configureAsDefault(new Configuration());
    conf.setLong("fs.trash.interval", 0);
    fs = FileSystem.newInstance(conf); // closed here; the shell uses the cache
    root = fs.getUri().toString();
  }

  @AfterClass
  public static void tearDownClass() throws IOException {
    SluiceTestVolume.removeAndClose(fs, null);
  }

  @Before
  public void setUp() throws IOException {
    dir = SluiceTestVolume.freshDir(fs, "/shell-");
    d = root + dir;
  }

  @After
  public void tearDown() throws IOException {
    fs.delete(dir, true);
  }

  /** Runs FsShell with the given configuration, capturing what it prints. */
  private static synchronized Result shell(Configuration c, String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    int rc;
    try (PrintStream o = new PrintStream(out, true, "UTF-8");
        PrintStream e = new PrintStream(err, true, "UTF-8")) {
      System.setOut(o);
      System.setErr(e);
      rc = ToolRunner.run(new FsShell(new Configuration(c)), args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    Result r = new Result(rc, out.toString("UTF-8"), err.toString("UTF-8"));
    transcript.append("hadoop fs ").append(String.join(" ", args)).append('\n').append(r)
        .append('\n');
    return r;
  }

  private static Result shell(String... args) throws Exception {
    return shell(conf, args);
  }

  /** Runs a command that must succeed and returns its stdout. */
  private static String ok(String... args) throws Exception {
    Result r = shell(args);
    assertThat(r.rc).as("exit code of %s: %s", Arrays.toString(args), r).isZero();
    return r.out;
  }

  private java.io.File localFile(String name, String content) throws IOException {
    java.io.File f = local.newFile(name);
    Files.write(f.toPath(), content.getBytes(StandardCharsets.UTF_8));
    return f;
  }

  private void write(Path p, String content) throws IOException {
    try (FSDataOutputStream out = fs.create(p)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  private String read(Path p) throws IOException {
    try (FSDataInputStream in = fs.open(p)) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      IOUtils.copyBytes(in, buf, 4096);
      return new String(buf.toByteArray(), StandardCharsets.UTF_8);
    }
  }

  private static List<String> lines(String s) {
    List<String> out = new ArrayList<>();
    for (String l : s.split("\n")) {
      if (!l.trim().isEmpty()) {
        out.add(l);
      }
    }
    return out;
  }

  @Test
  public void mkdirPutCopyFromLocalGetCat() throws Exception {
    assertThat(ok("-mkdir", "-p", d + "/a/b/c")).isEmpty();
    assertThat(fs.getFileStatus(new Path(dir, "a/b/c")).isDirectory()).isTrue();
    // without -p an existing directory is an error, with a message naming it
    Result again = shell("-mkdir", d + "/a/b/c");
    assertThat(again.rc).isEqualTo(1);
    assertThat(again.err).contains("a/b/c").contains("File exists");

    java.io.File src = localFile("hello.txt", "hello sluice\nsecond line\n");
    assertThat(ok("-put", src.getPath(), d + "/a/hello.txt")).isEmpty();
    assertThat(read(new Path(dir, "a/hello.txt"))).isEqualTo("hello sluice\nsecond line\n");
    // put onto an existing file refuses without -f and replaces with it
    Result clash = shell("-put", src.getPath(), d + "/a/hello.txt");
    assertThat(clash.rc).isEqualTo(1);
    assertThat(clash.err).contains("File exists");
    java.io.File src2 = localFile("hello2.txt", "replaced\n");
    assertThat(ok("-put", "-f", src2.getPath(), d + "/a/hello.txt")).isEmpty();
    assertThat(read(new Path(dir, "a/hello.txt"))).isEqualTo("replaced\n");
    // no temporary ._COPYING_ file is left behind
    assertThat(ok("-ls", d + "/a")).doesNotContain("_COPYING_");

    assertThat(ok("-copyFromLocal", src.getPath(), d + "/a/b/copy.txt")).isEmpty();
    assertThat(ok("-cat", d + "/a/b/copy.txt")).isEqualTo("hello sluice\nsecond line\n");
    assertThat(ok("-cat", d + "/a/hello.txt", d + "/a/b/copy.txt"))
        .isEqualTo("replaced\nhello sluice\nsecond line\n");

    java.io.File dst = new java.io.File(local.getRoot(), "got.txt");
    assertThat(ok("-get", d + "/a/b/copy.txt", dst.getPath())).isEmpty();
    assertThat(new String(Files.readAllBytes(dst.toPath()), StandardCharsets.UTF_8))
        .isEqualTo("hello sluice\nsecond line\n");
    // -get of a whole directory tree
    java.io.File tree = new java.io.File(local.getRoot(), "tree");
    assertThat(ok("-get", d + "/a", tree.getPath())).isEmpty();
    assertThat(new java.io.File(tree, "b/copy.txt")).hasContent("hello sluice\nsecond line");
    assertThat(new java.io.File(tree, "b/c")).isDirectory();

    Result missing = shell("-cat", d + "/nope");
    assertThat(missing.rc).isEqualTo(1);
    assertThat(missing.err).contains("No such file or directory").contains("nope");
  }

  @Test
  public void tailPrintsTheLastKilobyte() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      sb.append(String.format("line %05d%n", i));
    }
    String content = sb.toString();
    write(new Path(dir, "log"), content);
    String tail = ok("-tail", d + "/log");
    assertThat(tail).hasSize(1024);
    assertThat(content).endsWith(tail);
    assertThat(tail).endsWith("line 00999\n");
  }

  @Test
  public void lsRecursive() throws Exception {
    fs.mkdirs(new Path(dir, "x/y"));
    write(new Path(dir, "x/f1"), "12345");
    write(new Path(dir, "x/y/f2"), "1234567890");
    String user = UserGroupInformation.getCurrentUser().getShortUserName();
    List<String> ls = lines(ok("-ls", "-R", d));
    assertThat(ls).hasSize(4);
    // permission, replication, owner, group, size, date, time, path
    assertThat(ls.get(0)).matches("drwxr-xr-x\\s+- " + user
        + " \\S+\\s+0 \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d " + d + "/x");
    assertThat(ls.get(1)).matches("-rw-r--r--\\s+1 " + user + " \\S+\\s+5 .* " + d + "/x/f1");
    assertThat(ls.get(2)).startsWith("drwxr-xr-x").endsWith(d + "/x/y");
    assertThat(ls.get(3)).matches("-rw-r--r--\\s+1 " + user + " \\S+\\s+10 .* " + d + "/x/y/f2");
    // plain -ls of a directory: the "Found N items" header and only its children
    String flat = ok("-ls", d + "/x");
    assertThat(flat).startsWith("Found 2 items\n");
    assertThat(lines(flat)).hasSize(3);
  }

  @Test
  public void duCountDf() throws Exception {
    fs.mkdirs(new Path(dir, "u/v"));
    write(new Path(dir, "u/a"), "123");
    write(new Path(dir, "u/v/b"), "1234567");
    // -du: size, space consumed, path, per child. Space is counted as the volume accounts it
    // JuiceFS-style, in whole 4 KiB units per file and per directory, not length times
    // replication.
    List<String> du = lines(ok("-du", d + "/u"));
    assertThat(du).containsExactlyInAnyOrder("3  4096  " + d + "/u/a",
        "7  8192  " + d + "/u/v");
    assertThat(ok("-du", "-s", d + "/u").trim()).isEqualTo("10  16384  " + d + "/u");
    assertThat(ok("-du", "-s", "-h", d + "/u").trim()).isEqualTo("10  16 K  " + d + "/u");
    // -count: directories (itself included), files, bytes, path
    assertThat(ok("-count", d + "/u").trim()).matches("2\\s+2\\s+10 " + d + "/u");
    String q = ok("-count", "-q", d + "/u").trim();
    assertThat(q).matches("none\\s+inf\\s+none\\s+inf\\s+2\\s+2\\s+10 " + d + "/u");
    // -df: the volume's capacity, used and available bytes
    List<String> df = lines(ok("-df", d));
    assertThat(df).hasSize(2);
    assertThat(df.get(0)).matches("Filesystem\\s+Size\\s+Used\\s+Available\\s+Use%");
    assertThat(df.get(1)).startsWith(root);
    String[] cols = df.get(1).trim().split("\\s+");
    assertThat(cols).hasSize(5);
    long size = Long.parseLong(cols[1]);
    long used = Long.parseLong(cols[2]);
    long avail = Long.parseLong(cols[3]);
    assertThat(size).isPositive();
    assertThat(used).isGreaterThanOrEqualTo(10);
    assertThat(avail).isPositive().isLessThanOrEqualTo(size);
    assertThat(cols[4]).endsWith("%");
  }

  @Test
  public void mvAndCp() throws Exception {
    fs.mkdirs(new Path(dir, "src/sub"));
    write(new Path(dir, "src/f"), "file-f");
    write(new Path(dir, "src/sub/g"), "file-g");
    assertThat(ok("-cp", d + "/src", d + "/copy")).isEmpty();
    assertThat(read(new Path(dir, "copy/f"))).isEqualTo("file-f");
    assertThat(read(new Path(dir, "copy/sub/g"))).isEqualTo("file-g");
    assertThat(fs.exists(new Path(dir, "src/f"))).isTrue();
    assertThat(ok("-ls", "-R", d + "/copy")).doesNotContain("_COPYING_");

    Result clash = shell("-cp", d + "/src/f", d + "/copy/f");
    assertThat(clash.rc).isEqualTo(1);
    assertThat(clash.err).contains("File exists");
    assertThat(ok("-cp", "-f", d + "/src/sub/g", d + "/copy/f")).isEmpty();
    assertThat(read(new Path(dir, "copy/f"))).isEqualTo("file-g");

    assertThat(ok("-mv", d + "/src", d + "/moved")).isEmpty();
    assertThat(fs.exists(new Path(dir, "src"))).isFalse();
    assertThat(read(new Path(dir, "moved/sub/g"))).isEqualTo("file-g");
    // mv of a file into an existing directory keeps its name
    assertThat(ok("-mv", d + "/moved/f", d + "/copy/sub")).isEmpty();
    assertThat(read(new Path(dir, "copy/sub/f"))).isEqualTo("file-f");
    Result over = shell("-mv", d + "/moved/sub/g", d + "/copy/f");
    assertThat(over.rc).isEqualTo(1);
    assertThat(over.err).contains("File exists");
  }

  @Test
  public void rmWithoutTrash() throws Exception {
    write(new Path(dir, "f"), "x");
    fs.mkdirs(new Path(dir, "t/u"));
    assertThat(ok("-rm", d + "/f").trim()).isEqualTo("Deleted " + d + "/f");
    assertThat(fs.exists(new Path(dir, "f"))).isFalse();
    Result notRecursive = shell("-rm", d + "/t");
    assertThat(notRecursive.rc).isEqualTo(1);
    assertThat(notRecursive.err).contains("Is a directory");
    assertThat(ok("-rm", "-r", d + "/t").trim()).isEqualTo("Deleted " + d + "/t");
    assertThat(fs.exists(new Path(dir, "t"))).isFalse();
    Result gone = shell("-rm", d + "/t");
    assertThat(gone.rc).isEqualTo(1);
    assertThat(gone.err).contains("No such file or directory");
    assertThat(ok("-rm", "-f", d + "/t")).isEmpty();
  }

  @Test
  public void rmWithTrash() throws Exception {
    Configuration trashConf = new Configuration(conf);
    trashConf.setLong("fs.trash.interval", 60);
    write(new Path(dir, "t/a"), "keep me");
    Path trashRoot = fs.getTrashRoot(new Path(dir, "t"));
    String user = UserGroupInformation.getCurrentUser().getShortUserName();
    assertThat(trashRoot.toUri().getPath()).isEqualTo("/user/" + user + "/.Trash");
    Path inTrash = new Path(trashRoot, "Current" + dir + "/t");

    // FsShell reports the move through TrashPolicyDefault's log, not on stdout
    LogCapturer log = LogCapturer.captureLogs(LoggerFactory.getLogger(TrashPolicyDefault.class));
    Result r;
    try {
      r = shell(trashConf, "-rm", "-r", d + "/t");
    } finally {
      log.stopCapturing();
    }
    assertThat(r.rc).as("%s", r).isZero();
    assertThat(r.out).isEmpty();
    assertThat(log.getOutput()).contains("Moved: '" + d + "/t' to trash at: "
        + fs.makeQualified(inTrash));
    assertThat(fs.exists(new Path(dir, "t"))).isFalse();
    assertThat(read(new Path(inTrash, "a"))).isEqualTo("keep me");

    // -skipTrash deletes at once, even with trash on
    write(new Path(dir, "s"), "gone");
    Result skip = shell(trashConf, "-rm", "-skipTrash", d + "/s");
    assertThat(skip.rc).as("%s", skip).isZero();
    assertThat(skip.out.trim()).isEqualTo("Deleted " + d + "/s");
    assertThat(fs.exists(new Path(dir, "s"))).isFalse();
    assertThat(fs.exists(new Path(trashRoot, "Current" + dir + "/s"))).isFalse();

    // -expunge with a checkpoint moves Current aside; clean up our part of the trash
    fs.delete(new Path(trashRoot, "Current" + dir), true);
  }

  @Test
  public void touchzTouchAppendTruncate() throws Exception {
    assertThat(ok("-touchz", d + "/empty")).isEmpty();
    FileStatus st = fs.getFileStatus(new Path(dir, "empty"));
    assertThat(st.isFile()).isTrue();
    assertThat(st.getLen()).isZero();
    write(new Path(dir, "full"), "abc");
    Result notEmpty = shell("-touchz", d + "/full");
    assertThat(notEmpty.rc).isEqualTo(1);
    assertThat(notEmpty.err).contains("Not a zero-length file");

    // touch -m -t sets the modification time; touch of a new path creates it
    assertThat(ok("-touch", "-m", "-t", "20200102:030405", d + "/full")).isEmpty();
    long mtime = fs.getFileStatus(new Path(dir, "full")).getModificationTime();
    java.text.SimpleDateFormat f = new java.text.SimpleDateFormat("yyyyMMdd:HHmmss");
    assertThat(mtime).isEqualTo(f.parse("20200102:030405").getTime());
    assertThat(ok("-touch", d + "/new")).isEmpty();
    assertThat(fs.getFileStatus(new Path(dir, "new")).getLen()).isZero();

    java.io.File part1 = localFile("p1", "one\n");
    java.io.File part2 = localFile("p2", "two\n");
    assertThat(ok("-appendToFile", part1.getPath(), part2.getPath(), d + "/full")).isEmpty();
    assertThat(read(new Path(dir, "full"))).isEqualTo("abcone\ntwo\n");
    assertThat(ok("-appendToFile", part1.getPath(), d + "/appended")).isEmpty();
    assertThat(read(new Path(dir, "appended"))).isEqualTo("one\n");

    String out = ok("-truncate", "-w", "5", d + "/full");
    assertThat(out).contains("Truncated " + d + "/full to length: 5");
    assertThat(read(new Path(dir, "full"))).isEqualTo("abcon");
    Result tooLong = shell("-truncate", "100", d + "/full");
    assertThat(tooLong.rc).isNotZero();
    assertThat(tooLong.err).contains("Cannot truncate to a larger file size");
  }

  @Test
  public void chmodChown() throws Exception {
    write(new Path(dir, "f"), "x");
    fs.mkdirs(new Path(dir, "d/e"));
    assertThat(ok("-chmod", "640", d + "/f")).isEmpty();
    assertThat(fs.getFileStatus(new Path(dir, "f")).getPermission())
        .isEqualTo(new FsPermission((short) 0640));
    assertThat(ok("-chmod", "-R", "go-rx", d + "/d")).isEmpty();
    assertThat(fs.getFileStatus(new Path(dir, "d/e")).getPermission())
        .isEqualTo(new FsPermission((short) 0700));
    assertThat(ok("-ls", d + "/f")).startsWith("-rw-r-----");
    Result bad = shell("-chmod", "999", d + "/f");
    assertThat(bad.rc).isNotZero();
    assertThat(bad.err).contains("chmod");

    UserGroupInformation ugi = UserGroupInformation.getCurrentUser();
    String user = ugi.getShortUserName();
    String[] groups = ugi.getGroupNames();
    String group = groups.length > 0 ? groups[groups.length - 1] : user;
    assertThat(ok("-chown", user + ":" + group, d + "/f")).isEmpty();
    FileStatus st = fs.getFileStatus(new Path(dir, "f"));
    assertThat(st.getOwner()).isEqualTo(user);
    assertThat(st.getGroup()).isEqualTo(group);
    assertThat(ok("-chgrp", "-R", group, d + "/d")).isEmpty();
    assertThat(fs.getFileStatus(new Path(dir, "d/e")).getGroup()).isEqualTo(group);
    assertThat(ok("-stat", "%u:%g", d + "/d/e").trim()).isEqualTo(user + ":" + group);
  }

  @Test
  public void xattrsThroughTheShell() throws Exception {
    write(new Path(dir, "f"), "x");
    assertThat(ok("-setfattr", "-n", "user.color", "-v", "blue", d + "/f")).isEmpty();
    assertThat(ok("-setfattr", "-n", "user.size", "-v", "0x0102", d + "/f")).isEmpty();
    assertThat(ok("-getfattr", "-n", "user.color", d + "/f"))
        .isEqualTo("# file: " + d + "/f\nuser.color=\"blue\"\n");
    String all = ok("-getfattr", "-d", "-e", "hex", d + "/f");
    assertThat(lines(all)).containsExactlyInAnyOrder("# file: " + d + "/f",
        "user.color=0x626c7565", "user.size=0x0102");
    assertThat(ok("-setfattr", "-x", "user.color", d + "/f")).isEmpty();
    assertThat(lines(ok("-getfattr", "-d", "-e", "hex", d + "/f")))
        .containsExactly("# file: " + d + "/f", "user.size=0x0102");
    assertThat(ok("-setfattr", "-n", "user.note", "-v", "\"two words\"", d + "/f")).isEmpty();
    assertThat(lines(ok("-getfattr", "-n", "user.note", "-e", "text", d + "/f")))
        .containsExactly("# file: " + d + "/f", "user.note=\"two words\"");
    Result missing = shell("-getfattr", "-n", "user.color", d + "/f");
    assertThat(missing.rc).isEqualTo(1);
    assertThat(missing.err).contains("user.color");
  }

  @Test
  public void stat() throws Exception {
    write(new Path(dir, "f"), "hello");
    fs.mkdirs(new Path(dir, "sub"));
    String user = UserGroupInformation.getCurrentUser().getShortUserName();
    String s = ok("-stat", "%n|%F|%b|%r|%o|%u|%a|%A", d + "/f").trim();
    assertThat(s).isEqualTo("f|regular file|5|1|" + fs.getDefaultBlockSize(dir)
        + "|" + user + "|644|rw-r--r--");
    assertThat(ok("-stat", "%F %n", d + "/sub").trim()).isEqualTo("directory sub");
    long mtime = fs.getFileStatus(new Path(dir, "f")).getModificationTime();
    java.text.SimpleDateFormat fmt = new java.text.SimpleDateFormat("yyyy-MM-dd HH:mm:ss");
    fmt.setTimeZone(java.util.TimeZone.getTimeZone("UTC"));
    assertThat(ok("-stat", d + "/f").trim()).isEqualTo(fmt.format(new java.util.Date(mtime)));
    Result missing = shell("-stat", d + "/nope");
    assertThat(missing.rc).isEqualTo(1);
    assertThat(missing.err).contains("No such file or directory");
  }

  @Test
  public void testExitCodes() throws Exception {
    write(new Path(dir, "f"), "x");
    write(new Path(dir, "empty"), "");
    fs.mkdirs(new Path(dir, "sub"));
    String[][] cases = {
      {"-e", "/f", "0"}, {"-e", "/sub", "0"}, {"-e", "/nope", "1"},
      {"-d", "/sub", "0"}, {"-d", "/f", "1"}, {"-d", "/nope", "1"},
      {"-f", "/f", "0"}, {"-f", "/sub", "1"}, {"-f", "/nope", "1"},
      {"-s", "/f", "0"}, {"-s", "/empty", "1"}, {"-z", "/empty", "0"}, {"-z", "/f", "1"},
      {"-r", "/f", "0"}, {"-w", "/f", "0"},
    };
    for (String[] c : cases) {
      Result r = shell("-test", c[0], d + c[1]);
      assertThat(r.rc).as("-test %s %s: %s", c[0], c[1], r).isEqualTo(Integer.parseInt(c[2]));
      assertThat(r.out).as("-test prints nothing").isEmpty();
      assertThat(r.err).isEmpty();
    }
  }

  @Test
  public void checksumIsCompositeCrc32c() throws Exception {
    write(new Path(dir, "f"), "some data");
    // HDFS's COMPOSITE-CRC32C: the CRC-32C of the bytes, four bytes big-endian
    DataChecksum sum = DataChecksum.newDataChecksum(DataChecksum.Type.CRC32C, 512);
    byte[] data = "some data".getBytes(StandardCharsets.UTF_8);
    sum.update(data, 0, data.length);
    String hex = String.format("%08x", (int) sum.getValue());
    assertThat(fs.getFileChecksum(new Path(dir, "f")).getAlgorithmName())
        .isEqualTo("COMPOSITE-CRC32C");
    assertThat(fs.hasPathCapability(new Path(dir, "f"), "fs.capability.paths.checksums"))
        .isTrue();
    assertThat(ok("-checksum", d + "/f").trim()).isEqualTo(d + "/f\tCOMPOSITE-CRC32C\t" + hex);
  }
  /**
   * {@code hadoop distcp} as an operator runs it (the same Tool through ToolRunner, local job
   * runner): a local tree into Sluice, again with -update after one file changed (only that one
   * is copied: the local file system has no checksum, so DistCp compares lengths), and Sluice
   * back to local disk.
   */
  @Test
  public void distcpIntoSluiceAndBack() throws Exception {
    java.io.File src = local.newFolder("distcp-src");
    Files.write(new java.io.File(src, "a").toPath(), "alpha".getBytes(StandardCharsets.UTF_8));
    java.io.File sub = new java.io.File(src, "sub");
    assertThat(sub.mkdir()).isTrue();
    Files.write(new java.io.File(sub, "b").toPath(), "bravo".getBytes(StandardCharsets.UTF_8));
    Configuration c = new Configuration(conf);
    c.set("mapreduce.framework.name", "local");
    c.set("mapreduce.cluster.local.dir", local.newFolder("mr-local").getAbsolutePath());
    c.set("mapreduce.jobtracker.staging.root.dir",
        local.newFolder("mr-staging").getAbsolutePath());
    String target = d + "/copy";
    String[] update = {"-update", src.toURI().toString(), target};
    assertThat(ToolRunner.run(c, new org.apache.hadoop.tools.DistCp(c, null), update)).isZero();
    assertThat(read(new Path(dir, "copy/a"))).isEqualTo("alpha");
    assertThat(read(new Path(dir, "copy/sub/b"))).isEqualTo("bravo");
    long mtime = fs.getFileStatus(new Path(dir, "copy/a")).getModificationTime();
    Files.write(new java.io.File(sub, "b").toPath(),
        "bravo, changed".getBytes(StandardCharsets.UTF_8));
    assertThat(ToolRunner.run(c, new org.apache.hadoop.tools.DistCp(c, null), update)).isZero();
    assertThat(read(new Path(dir, "copy/sub/b"))).isEqualTo("bravo, changed");
    assertThat(fs.getFileStatus(new Path(dir, "copy/a")).getModificationTime())
        .as("an unchanged file is skipped").isEqualTo(mtime);
    java.io.File back = new java.io.File(local.getRoot(), "distcp-back");
    String[] home = {target, back.toURI().toString()};
    assertThat(ToolRunner.run(c, new org.apache.hadoop.tools.DistCp(c, null), home)).isZero();
    assertThat(new String(Files.readAllBytes(new java.io.File(back, "sub/b").toPath()),
        StandardCharsets.UTF_8)).isEqualTo("bravo, changed");
  }
}
