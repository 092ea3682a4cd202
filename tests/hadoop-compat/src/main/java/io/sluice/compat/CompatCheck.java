package io.sluice.compat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.ToolRunner;
import org.apache.hadoop.util.VersionInfo;

/**
 * Uses sluice:// the way a user of one Hadoop version does, in one JVM whose class path holds
 * that version's client jars and the Sluice jar: Hadoop's shell (FsShell, as `hadoop fs`) makes,
 * fills, reads, lists and removes a directory, and lists a file:// directory (a FileSystem class
 * that fails to load breaks every scheme); then the FileSystem API picks the class that fits the
 * running Hadoop with no fs.sluice.impl set (SafeMode from Hadoop 3.3.6 on), openFile with a
 * read policy works, an explicit fs.sluice.impl naming the everywhere-class works, and FileContext
 * works through fs.AbstractFileSystem.sluice.impl, which the jar's default resource sets.
 * Compiled against the oldest supported Hadoop (3.3.1), so it uses nothing newer itself; newer
 * types are looked up by name.
 *
 * <p>Usage: CompatCheck HADOOP-VERSION META-URL VOLUME LOCAL-DIR. Prints one line per check and
 * "hadoop VERSION: N passed, N failed"; exits 1 if a check failed.
 */
public final class CompatCheck {
  private static final String BASE_CLASS = "io.sluice.hadoop.SluiceFileSystem";
  private static final String CLASS_336 = "io.sluice.hadoop.SluiceFileSystem336";

  private final Configuration conf;
  private final String root;
  private final File localDir;
  private int passed;
  private int failed;

  private CompatCheck(Configuration conf, String root, File localDir) {
    this.conf = conf;
    this.root = root;
    this.localDir = localDir;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: CompatCheck HADOOP-VERSION META-URL VOLUME LOCAL-DIR");
      System.exit(2);
    }
    String version = args[0];
    // No fs.sluice.impl: Hadoop must find the FileSystem through the jar alone.
    Configuration conf = new Configuration();
    conf.set("sluice." + args[2] + ".meta", args[1]);
    CompatCheck c = new CompatCheck(conf, "sluice://" + args[2] + "/", new File(args[3]));
    c.check("the running Hadoop is " + version, version.equals(VersionInfo.getVersion()),
        VersionInfo.getVersion());
    try {
      c.shell();
      c.fileSystemApi();
    } catch (Exception | LinkageError e) {
      ByteArrayOutputStream trace = new ByteArrayOutputStream();
      e.printStackTrace(new PrintStream(trace, true, "UTF-8"));
      c.check("no exception", false, new String(trace.toByteArray(), StandardCharsets.UTF_8));
    }
    System.out.println("hadoop " + version + ": " + c.passed + " passed, " + c.failed
        + " failed");
    System.exit(c.failed == 0 ? 0 : 1);
  }

  private void shell() throws Exception {
    String dir = root + "compat/dir";
    String text = "hello from Hadoop " + VersionInfo.getVersion() + "\n";
    File local = new File(localDir, "hello.txt");
    Files.write(local.toPath(), text.getBytes(StandardCharsets.UTF_8));

    Run r = fs("-mkdir", "-p", dir);
    check("fs -mkdir -p " + dir, r.rc == 0, r.all());
    r = fs("-put", local.getPath(), dir + "/hello.txt");
    check("fs -put", r.rc == 0, r.all());
    r = fs("-cat", dir + "/hello.txt");
    check("fs -cat prints the file", r.rc == 0 && r.out.equals(text), r.all());
    r = fs("-ls", dir);
    check("fs -ls lists the file", r.rc == 0 && r.out.contains("Found 1 items")
        && r.out.contains(dir + "/hello.txt"), r.all());
    r = fs("-ls", localDir.toURI().toString());
    check("fs -ls file:// in the same JVM", r.rc == 0 && r.out.contains("hello.txt"), r.all());
    r = fs("-rm", "-r", "-skipTrash", root + "compat");
    check("fs -rm -r", r.rc == 0 && r.out.contains("Deleted"), r.all());
    r = fs("-test", "-e", dir + "/hello.txt");
    check("fs -test -e: gone after -rm -r", r.rc == 1, r.all());
  }

  private void fileSystemApi() throws Exception {
    boolean hasSafeMode = loads("org.apache.hadoop.fs.SafeMode");
    String expected = hasSafeMode ? CLASS_336 : BASE_CLASS;
    FileSystem fs = FileSystem.get(URI.create(root), conf);
    check("FileSystem.get without fs.sluice.impl makes a " + expected,
        fs.getClass().getName().equals(expected), fs.getClass().getName());
    if (hasSafeMode) {
      Class<?> safeMode = Class.forName("org.apache.hadoop.fs.SafeMode");
      check("it is instanceof SafeMode", safeMode.isInstance(fs), fs.getClass().getName());
    }

    // openFile with a read policy (options newer than some of these Hadoop versions)
    Path p = new Path(root + "compat-openfile");
    byte[] data = "openFile with a read policy\n".getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = fs.create(p, true)) {
      out.write(data);
    }
    try (FSDataInputStream in = fs.openFile(p)
        .opt("fs.option.openfile.read.policy", "random")
        .opt("fs.option.openfile.length", Long.toString(data.length))
        .build().get()) {
      byte[] back = new byte[data.length];
      in.readFully(0, back);
      check("openFile with a read policy reads the file",
          new String(back, StandardCharsets.UTF_8).equals(new String(data,
              StandardCharsets.UTF_8)), new String(back, StandardCharsets.UTF_8));
    }
    check("delete", fs.delete(p, false), p.toString());

    // the class documented for fs.sluice.impl, named explicitly
    Configuration explicit = new Configuration(conf);
    explicit.set("fs.sluice.impl", BASE_CLASS);
    try (FileSystem base = FileSystem.newInstance(URI.create(root), explicit)) {
      check("fs.sluice.impl = " + BASE_CLASS + " works",
          base.getClass().getName().equals(BASE_CLASS) && base.exists(new Path("/")),
          base.getClass().getName());
    }

    // FileContext through the AbstractFileSystem binding, which the jar's default resource
    // sets once Hadoop has read META-INF/services (nothing set here)
    Configuration fcConf = new Configuration(conf);
    check("fs.AbstractFileSystem.sluice.impl bound by the jar",
        "io.sluice.hadoop.Sluice".equals(fcConf.get("fs.AbstractFileSystem.sluice.impl")),
        String.valueOf(fcConf.get("fs.AbstractFileSystem.sluice.impl")));
    FileContext fc = FileContext.getFileContext(URI.create(root), fcConf);
    Path d = new Path(root + "compat-fc");
    fc.mkdir(d, FsPermission.getDirDefault(), true);
    check("FileContext mkdir and getFileStatus", fc.getFileStatus(d).isDirectory(),
        fc.getFileStatus(d).toString());
    check("FileContext delete", fc.delete(d, true), d.toString());

    FileSystem local = FileSystem.getLocal(conf);
    check("file:// through FileSystem.getLocal",
        local.exists(new Path(new File(localDir, "hello.txt").toURI())), localDir.toString());
  }

  private void check(String what, boolean ok, String detail) {
    if (ok) {
      passed++;
      System.out.println("ok   " + what);
    } else {
      failed++;
      System.out.println("FAIL " + what + "\n     " + detail.replace("\n", "\n     "));
    }
  }

  /** Whether the class loads here (with its supertypes). */
  private static boolean loads(String name) {
    try {
      Class.forName(name, false, CompatCheck.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** FsShell's output and exit code. */
  private static final class Run {
    int rc;
    String out;
    String err;

    String all() {
      return "exit " + rc + "\nstdout: " + out + "\nstderr: " + err;
    }
  }

  /**
   * One FsShell command in this JVM, as `hadoop fs ARGS`, with its stdout and stderr captured
   * (FsShell's commands print to System.out and System.err as they are when made). An exception
   * out of FsShell, a LinkageError from loading a FileSystem class among them, counts as exit -1.
   */
  private Run fs(String... args) {
    Run r = new Run();
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, "UTF-8"));
      System.setErr(new PrintStream(e, true, "UTF-8"));
      FsShell shell = new FsShell(new Configuration(conf));
      try {
        r.rc = ToolRunner.run(shell, args);
      } finally {
        shell.close();
      }
    } catch (Exception | LinkageError t) {
      r.rc = -1;
      t.printStackTrace(System.err);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    r.out = new String(o.toByteArray(), StandardCharsets.UTF_8);
    r.err = new String(e.toByteArray(), StandardCharsets.UTF_8);
    return r;
  }
}
