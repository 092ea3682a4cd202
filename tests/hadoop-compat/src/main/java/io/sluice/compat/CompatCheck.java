package io.sluice.compat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.TokenIdentifier;
import org.apache.hadoop.security.token.TokenRenewer;
import org.apache.hadoop.util.ReflectionUtils;
import org.apache.hadoop.util.DataChecksum;
import org.apache.hadoop.util.StringUtils;
import org.apache.hadoop.util.ToolRunner;
import org.apache.hadoop.util.VersionInfo;

/**
 * Uses sluice:// the way a user of one Hadoop version does, in one JVM whose class path holds
 * that version's client jars and the Sluice jar: Hadoop's shell (FsShell, as `hadoop fs`) makes,
 * fills, reads, checksums (-checksum, compared with getFileChecksum), counts (-count -q: no
 * quotas, the right numbers), lists and removes a directory, and lists a file:// directory (a
 * FileSystem class that fails to load breaks every scheme); then the FileSystem API picks the
 * class that fits the running Hadoop with no fs.sluice.impl set (SluiceFileSystem210 on Hadoop 2,
 * SluiceFileSystem from 3.3.1, SluiceFileSystem336 with SafeMode from 3.3.6), openFile with a
 * read policy works (Hadoop 3), an explicit fs.sluice.impl naming the documented class works, and
 * FileContext works through fs.AbstractFileSystem.sluice.impl, which the jar's default resource
 * sets. Compiled against the oldest
 * supported Hadoop (2.10), so it uses nothing newer itself: newer types and methods (openFile)
 * are reached by name.
 *
 * <p>Where Hadoop's own UserGroupInformation cannot run (Java 23 and later: Subject.getSubject
 * throws, HADOOP-19212, fixed after Hadoop 3.4.2), FileSystem.get and FsShell fail before any
 * sluice code runs, so only what needs no UserGroupInformation is checked: Hadoop reads the
 * services file (file:// and sluice:// resolve) and picks the class, which links and instantiates.
 *
 * <p>Usage: CompatCheck HADOOP-VERSION META-URL VOLUME LOCAL-DIR. Prints one line per check and
 * "hadoop VERSION: N passed, N failed"; exits 1 if a check failed, else 0, or {@value
 * #EXIT_HADOOP_LIMITED} when Hadoop's UserGroupInformation does not run on this Java and the
 * checks that do not need it passed.
 */
public final class CompatCheck {
  /** The exit code of a run limited by Hadoop itself (see the class comment). */
  static final int EXIT_HADOOP_LIMITED = 3;

  private static final String CLASS_210 = "io.sluice.hadoop.SluiceFileSystem210";
  private static final String CLASS_331 = "io.sluice.hadoop.SluiceFileSystem";
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
    String ugiFailure = ugiFailure();
    try {
      if (ugiFailure == null) {
        c.shell();
        c.fileSystemApi();
      } else {
        c.classChoice();
      }
      c.tokenServices();
    } catch (Exception | LinkageError e) {
      ByteArrayOutputStream trace = new ByteArrayOutputStream();
      e.printStackTrace(new PrintStream(trace, true, "UTF-8"));
      c.check("no exception", false, new String(trace.toByteArray(), StandardCharsets.UTF_8));
    }
    System.out.println("hadoop " + version + ": " + c.passed + " passed, " + c.failed
        + " failed" + (ugiFailure == null ? "" : "; Hadoop's UserGroupInformation does not run on"
            + " Java " + System.getProperty("java.version") + " (" + ugiFailure + "), so"
            + " FileSystem.get and FsShell were not tried"));
    System.exit(c.failed != 0 ? 1 : ugiFailure != null ? EXIT_HADOOP_LIMITED : 0);
  }

  /** Why UserGroupInformation.getCurrentUser() fails on this JVM, or null if it works. */
  private static String ugiFailure() {
    try {
      UserGroupInformation.getCurrentUser();
      return null;
    } catch (UnsupportedOperationException | IOException e) {
      return e.toString();
    }
  }

  /**
   * Without UserGroupInformation: Hadoop loads the FileSystem classes of the services files (one
   * that fails to link breaks every scheme), picks the class for sluice://, and it instantiates.
   */
  private void classChoice() throws Exception {
    boolean hasSafeMode = loads("org.apache.hadoop.fs.SafeMode");
    boolean hadoop2 = VersionInfo.getVersion().startsWith("2.");
    String expected = hasSafeMode ? CLASS_336 : hadoop2 ? CLASS_210 : CLASS_331;
    Class<? extends FileSystem> cls = FileSystem.getFileSystemClass("sluice", conf);
    check("FileSystem.getFileSystemClass without fs.sluice.impl is " + expected,
        cls.getName().equals(expected), cls.getName());
    Class<? extends FileSystem> local = FileSystem.getFileSystemClass("file", conf);
    check("file:// resolves in the same JVM", local.getName().endsWith("LocalFileSystem"),
        local.getName());
    FileSystem fs = ReflectionUtils.newInstance(cls, conf);
    check("it instantiates, scheme sluice", fs.getScheme().equals("sluice"), fs.getScheme());
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
    // -checksum prints what getFileChecksum returns: PATH, algorithm, the bytes in hex; HDFS's
    // COMPOSITE-CRC32C is the CRC-32C of the bytes, computed here by Hadoop's own code
    FileChecksum sum = FileSystem.get(URI.create(root), conf).getFileChecksum(
        new Path(dir + "/hello.txt"));
    DataChecksum crc = DataChecksum.newDataChecksum(DataChecksum.Type.CRC32C, 512);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    crc.update(bytes, 0, bytes.length);
    String hex = String.format(Locale.ROOT, "%08x", (int) crc.getValue());
    check("getFileChecksum is COMPOSITE-CRC32C " + hex, sum != null
        && sum.getAlgorithmName().equals("COMPOSITE-CRC32C")
        && StringUtils.byteToHexString(sum.getBytes(), 0, sum.getLength()).equals(hex),
        String.valueOf(sum));
    r = fs("-checksum", dir + "/hello.txt");
    check("fs -checksum prints it", r.rc == 0
        && r.out.equals(dir + "/hello.txt\tCOMPOSITE-CRC32C\t" + hex + "\n"), r.all());
    // -count -q: no quotas (HDFS's none/inf), then directories, files, bytes
    r = fs("-count", "-q", dir);
    check("fs -count -q: no quotas, 1 directory, 1 file, " + text.length() + " bytes",
        r.rc == 0 && r.out.trim().matches("none\\s+inf\\s+none\\s+inf\\s+1\\s+1\\s+"
            + text.length() + " " + dir), r.all());
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
    boolean hadoop2 = VersionInfo.getVersion().startsWith("2.");
    boolean hasSafeMode = loads("org.apache.hadoop.fs.SafeMode");
    String expected = hasSafeMode ? CLASS_336 : hadoop2 ? CLASS_210 : CLASS_331;
    FileSystem fs = FileSystem.get(URI.create(root), conf);
    check("FileSystem.get without fs.sluice.impl makes a " + expected,
        fs.getClass().getName().equals(expected), fs.getClass().getName());
    if (hasSafeMode) {
      Class<?> safeMode = Class.forName("org.apache.hadoop.fs.SafeMode");
      check("it is instanceof SafeMode", safeMode.isInstance(fs), fs.getClass().getName());
    }
    if (!hadoop2) {
      Class<?> source = Class.forName("org.apache.hadoop.fs.statistics.IOStatisticsSource");
      check("it is an IOStatisticsSource", source.isInstance(fs), fs.getClass().getName());
    }

    Path p = new Path(root + "compat-openfile");
    byte[] data = "openFile with a read policy\n".getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = fs.create(p, true)) {
      out.write(data);
    }
    if (!hadoop2) {
      // openFile with a read policy (options newer than some of these Hadoop versions)
      try (FSDataInputStream in = openFile(fs, p, "fs.option.openfile.read.policy", "random",
          "fs.option.openfile.length", Long.toString(data.length))) {
        byte[] back = new byte[data.length];
        in.readFully(0, back);
        check("openFile with a read policy reads the file",
            new String(back, StandardCharsets.UTF_8).equals(new String(data,
                StandardCharsets.UTF_8)), new String(back, StandardCharsets.UTF_8));
      }
    } else {
      try (FSDataInputStream in = fs.open(p)) {
        byte[] back = new byte[data.length];
        in.readFully(0, back);
        check("open and a positioned readFully read the file",
            new String(back, StandardCharsets.UTF_8).equals(new String(data,
                StandardCharsets.UTF_8)), new String(back, StandardCharsets.UTF_8));
      }
    }
    check("delete", fs.delete(p, false), p.toString());

    // the class documented for fs.sluice.impl on this Hadoop, named explicitly
    String documented = hadoop2 ? CLASS_210 : CLASS_331;
    Configuration explicit = new Configuration(conf);
    explicit.set("fs.sluice.impl", documented);
    try (FileSystem base = FileSystem.newInstance(URI.create(root), explicit)) {
      check("fs.sluice.impl = " + documented + " works",
          base.getClass().getName().equals(documented) && base.exists(new Path("/")),
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

  /**
   * Hadoop instantiates every TokenIdentifier and TokenRenewer of the services files when it
   * decodes or renews a token (a job's credentials): Sluice's must link here too.
   */
  private void tokenServices() {
    for (Class<?> service : new Class<?>[] {TokenIdentifier.class, TokenRenewer.class}) {
      StringBuilder found = new StringBuilder();
      try {
        for (Object o : ServiceLoader.load(service)) {
          found.append(o.getClass().getName()).append(' ');
        }
        check("the " + service.getSimpleName() + " services load, Sluice's among them",
            found.toString().contains("io.sluice.hadoop.security."), found.toString());
      } catch (ServiceConfigurationError | LinkageError e) {
        check("the " + service.getSimpleName() + " services load", false, found + e.toString());
      }
    }
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

  /**
   * fs.openFile(p).opt(KEY, VALUE)...build().get(), through reflection: Hadoop 3's builder API,
   * which the Hadoop 2 jars this class compiles against lack.
   */
  private static FSDataInputStream openFile(FileSystem fs, Path p, String... options)
      throws Exception {
    Class<?> builderType = Class.forName("org.apache.hadoop.fs.FSBuilder");
    Object builder = FileSystem.class.getMethod("openFile", Path.class).invoke(fs, p);
    Method opt = builderType.getMethod("opt", String.class, String.class);
    for (int i = 0; i < options.length; i += 2) {
      builder = opt.invoke(builder, options[i], options[i + 1]);
    }
    Future<?> future = (Future<?>) builderType.getMethod("build").invoke(builder);
    return (FSDataInputStream) future.get();
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
