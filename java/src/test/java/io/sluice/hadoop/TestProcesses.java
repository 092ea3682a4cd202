package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.util.ToolRunner;

/**
 * What the tests share to find their inputs and run the build's tools: a setting read from a
 * system property, else an environment variable, else a default (as the pom and the test scripts
 * pass them), a command run to completion with its output captured, failing the test with
 * that output unless it exits 0, the build's CLI, a volume's settings, and FsShell's output.
 */
public final class TestProcesses {
  private TestProcesses() {}

  /**
   * System property property if set and not empty, else environment variable env (none if null)
   * if set and not empty, else dflt.
   */
  public static String setting(String property, String env, String dflt) {
    String v = System.getProperty(property);
    if ((v == null || v.isEmpty()) && env != null) {
      v = System.getenv(env);
    }
    return v == null || v.isEmpty() ? dflt : v;
  }

  /** The build's sluice CLI: system property sluice.test.cli, else build/bin/sluice. */
  public static String cli() {
    return new File(setting("sluice.test.cli", "SLUICE_TEST_CLI", "build/bin/sluice"))
        .getAbsolutePath();
  }

  /** The settings of volume name at META-URL meta, with the build's native library if any. */
  public static Configuration volumeConf(String name, String meta) {
    Configuration conf = new Configuration();
    conf.set(SluiceConstants.volumeKey(name, SluiceConstants.META), meta);
    String lib = setting("sluice.native.path", "SLUICE_NATIVE_PATH", "build/lib/libsluice.so");
    if (new File(lib).isFile()) {
      conf.set(SluiceConstants.NATIVE_PATH, new File(lib).getAbsolutePath());
    }
    return conf;
  }

  /** A new FileSystem of uri on conf as user, a test user of Hadoop's with one group. */
  public static FileSystem fsAs(URI uri, Configuration conf, String user, String group)
      throws Exception {
    UserGroupInformation ugi = UserGroupInformation.createUserForTesting(user,
        new String[] {group});
    return ugi.doAs((PrivilegedExceptionAction<FileSystem>) () ->
        FileSystem.newInstance(uri, conf));
  }

  /** {@link #fsShell} as user, a test user of Hadoop's with one group. */
  public static String fsShellAs(Configuration conf, String user, String group, String... args)
      throws Exception {
    UserGroupInformation ugi = UserGroupInformation.createUserForTesting(user,
        new String[] {group});
    return ugi.doAs((PrivilegedExceptionAction<String>) () -> fsShell(conf, args));
  }

  /**
   * Runs `hadoop fs args` (FsShell) on conf as the current user and returns what it printed on
   * standard output; fails the test unless it exits 0.
   */
  public static String fsShell(Configuration conf, String... args) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    int rc;
    try {
      System.setOut(new PrintStream(buf, true, "UTF-8"));
      rc = ToolRunner.run(conf, new FsShell(), args);
    } finally {
      System.setOut(saved);
    }
    String out = new String(buf.toByteArray(), StandardCharsets.UTF_8);
    assertThat(rc).as("hadoop fs %s printed %s", String.join(" ", args), out).isZero();
    return out;
  }

  /**
   * Runs cmd with this process's environment changed by env (may be null: unchanged; an entry
   * with a null value removes that variable), stdout and stderr together, and fails with the
   * command and what it said unless it exits 0.
   */
  public static void run(Map<String, String> env, String... cmd)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (env != null) {
      for (Map.Entry<String, String> e : env.entrySet()) {
        if (e.getValue() == null) {
          pb.environment().remove(e.getKey());
        } else {
          pb.environment().put(e.getKey(), e.getValue());
        }
      }
    }
    Process p = pb.start();
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    try (InputStream in = p.getInputStream()) {
      byte[] b = new byte[4096];
      for (int n; (n = in.read(b)) > 0; ) {
        said.write(b, 0, n);
      }
    }
    assertThat(p.waitFor()).as("%s said: %s", String.join(" ", cmd),
        said.toString("UTF-8")).isZero();
  }
}
