package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * What the tests share to find their inputs and run the build's tools: a setting read from a
 * system property, else an environment variable, else a default (as the pom and the test scripts
 * pass them), and a command run to completion with its output captured, failing the test with
 * that output unless it exits 0.
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
