package io.sluice.hadoop;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * hflush.commit=background through the Hadoop API: a writer's hflush returns before the metadata
 * has the record (its commit waits a minute here), yet a reader on another FileSystem of the
 * cache group opens the file and reads every hflushed byte, as an HDFS reader gets the visible
 * length from the DataNode; a client outside the group sees the committed length meanwhile, and
 * everything once the writer closed.
 */
public class TestSluiceBackgroundCommit {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
      return s.getLocalPort();
    }
  }

  private Configuration node(String host, int port) throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.NODES), "127.0.0.2,127.0.0.3");
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.CACHE_GROUP_PORT), Integer.toString(port));
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.CACHE_GROUP_HOST), host);
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.CACHE_DIR),
        tmp.newFolder("cache-" + host).getAbsolutePath());
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.HFLUSH_REPLICAS), "2");
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.HFLUSH_COMMIT), "background");
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.HFLUSH_COMMIT_DELAY), "60000");
    return conf;
  }

  private static byte[] readAll(FileSystem fs, Path file, int expect) throws IOException {
    byte[] got = new byte[expect + 1];
    int n = 0;
    try (FSDataInputStream in = fs.open(file)) {
      for (int r; n < got.length && (r = in.read(got, n, got.length - n)) > 0; ) {
        n += r;
      }
    }
    return Arrays.copyOf(got, n);
  }

  @Test
  public void aReaderInTheGroupSeesWhatHflushReturnedBeforeItsCommit() throws Exception {
    int port = freePort();
    URI uri = URI.create(SluiceTestVolume.DEFAULT_FS);
    Path file = new Path("/background-commit-" + UUID.randomUUID());
    try (FileSystem writer = FileSystem.newInstance(uri, node("127.0.0.2", port));
        FileSystem reader = FileSystem.newInstance(uri, node("127.0.0.3", port));
        FileSystem outside =
            FileSystem.newInstance(uri, SluiceTestVolume.configure(new Configuration()))) {
      StringBuilder written = new StringBuilder();
      try (FSDataOutputStream out = writer.create(file)) {
        out.hflush(); // the empty file is there; its records come below
        for (int i = 0; i < 3; i++) {
          String record = "record " + i + ";";
          out.write(record.getBytes(StandardCharsets.UTF_8));
          out.hflush();
          long committed = outside.getFileStatus(file).getLen();
          assertEquals("the commit waits", written.length(), committed);
          written.append(record);
          byte[] expect = written.toString().getBytes(StandardCharsets.UTF_8);
          assertArrayEquals(expect, readAll(reader, file, expect.length));
          assertEquals("the reader had it committed", expect.length,
              outside.getFileStatus(file).getLen());
        }
        out.write("last;".getBytes(StandardCharsets.UTF_8));
        written.append("last;");
      }
      byte[] expect = written.toString().getBytes(StandardCharsets.UTF_8);
      assertEquals(expect.length, outside.getFileStatus(file).getLen());
      assertArrayEquals(expect, readAll(outside, file, expect.length));
      outside.delete(file, false);
    }
  }
}
