package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Collections;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The same bytes through libhdfs (libsluice-hdfs.so, driven by the build's hdfs_copy tool in a
 * process of its own, configured by core-site.xml as any libhdfs program) and through the Java
 * FileSystem: what one writes, the other reads identically, across block and chunk sizes.
 */
public class TestSluiceLibhdfsInterop extends VolumeTestBase {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private File confDir;

  public TestSluiceLibhdfsInterop() {
    super("/libhdfs-");
  }

  @Before
  public void setUp() throws IOException {
    // core-site.xml with the volume's settings, as an operator would give libhdfs programs
    confDir = tmp.newFolder("conf");
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (Map.Entry<String, String> e : fs.getConf()) {
      if (e.getKey().startsWith("sluice.")) {
        xml.append("  <property><name>").append(escape(e.getKey())).append("</name><value>")
            .append(escape(e.getValue())).append("</value></property>\n");
      }
    }
    xml.append("</configuration>\n");
    Files.write(new File(confDir, "core-site.xml").toPath(),
        xml.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** hdfs_copy beside the sluice CLI of the build under test. */
  private static File tool() {
    String cli = System.getProperty("sluice.test.cli", "build/bin/sluice");
    return new File(new File(cli).getAbsoluteFile().getParentFile(), "hdfs_copy");
  }

  private void hdfsCopy(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = tool().getPath();
    System.arraycopy(args, 0, cmd, 1, args.length);
    TestProcesses.run(Collections.singletonMap("HADOOP_CONF_DIR", confDir.getPath()), cmd);
  }

  private String uri(Path p) {
    return fs.makeQualified(p).toString();
  }

  private byte[] readJava(Path p) throws IOException {
    byte[] d = new byte[(int) fs.getFileStatus(p).getLen()];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, d);
    }
    return d;
  }

  @Test
  public void writtenByLibhdfsReadByJavaAndBack() throws Exception {
    Random random = new Random(42);
    int[] sizes = {0, 1, 4 * 1024 * 1024 + 1, 9 * 1024 * 1024 + 7};
    for (int size : sizes) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      // libhdfs writes, Java reads
      File local = tmp.newFile("in-" + size);
      Files.write(local.toPath(), data);
      Path byC = new Path(dir, "by-libhdfs-" + size);
      hdfsCopy("put", local.getPath(), uri(byC));
      assertThat(readJava(byC)).as("%d bytes written by libhdfs", size).isEqualTo(data);
      // Java writes, libhdfs reads
      Path byJava = new Path(dir, "by-java-" + size);
      try (FSDataOutputStream out = fs.create(byJava)) {
        out.write(data);
      }
      File back = new File(tmp.getRoot(), "out-" + size);
      hdfsCopy("get", uri(byJava), back.getPath());
      assertThat(Files.readAllBytes(back.toPath())).as("%d bytes written by Java", size)
          .isEqualTo(data);
    }
  }
}
