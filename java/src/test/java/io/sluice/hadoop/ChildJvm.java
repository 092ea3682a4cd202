package io.sluice.hadoop;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;

/**
 * The child JVMs of the tests that kill a client or let it exit with the volume open: this JVM's
 * java and class path run the child's main class with its own arguments, followed by the test
 * volume's settings as KEY=VALUE arguments, which the child reads back with {@link #settings}.
 */
final class ChildJvm {
  private ChildJvm() {}

  /**
   * The command line: jvmOptions, main and its args, then the sluice.* and fs.sluice.* settings
   * of conf whose keys passOn accepts.
   */
  static List<String> command(List<String> jvmOptions, Class<?> main, List<String> args,
      Configuration conf, Predicate<String> passOn) {
    List<String> cmd = new ArrayList<>();
    cmd.add(new File(System.getProperty("java.home"), "bin/java").getPath());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    for (Map.Entry<String, String> e : conf) {
      String key = e.getKey();
      if ((key.startsWith("sluice.") || key.startsWith("fs.sluice.")) && passOn.test(key)) {
        cmd.add(key + "=" + e.getValue());
      }
    }
    return cmd;
  }

  /** In the child: the settings its command line passed on, args[first] onwards. */
  static Configuration settings(String[] args, int first) {
    Configuration conf = new Configuration();
    for (int i = first; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      conf.set(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    return conf;
  }
}
