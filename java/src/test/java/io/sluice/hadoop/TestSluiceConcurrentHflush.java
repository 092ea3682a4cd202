package io.sluice.hadoop;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * An hflush of one stream does not hold the stream while its native part runs: HBase's WAL
 * syncer threads share a stream, and their hflushes must reach the native writer together (which
 * commits them in one transaction) while appends go on. The test holds the SQLite volume's write
 * lock from another process, so that an hflush waits in its metadata commit; meanwhile another
 * thread's write on the same stream completes and a second hflush enters too; both hflushes
 * return once the lock is released, and every byte is in the file.
 */
public class TestSluiceConcurrentHflush {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  @Test
  public void writesAndHflushesGoOnWhileAnHflushWaitsForItsCommit() throws Exception {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    String meta = conf.get("sluice.meta");
    assumeTrue("needs the embedded SQLite volume, not " + meta, meta.startsWith("sqlite3://"));
    String db = meta.substring("sqlite3://".length()).replaceFirst("\\?.*", "");
    conf.set(SluiceConstants.hadoopKey(SluiceConstants.CACHE_DIR),
        tmp.newFolder("cache").getAbsolutePath());
    Path file = new Path("/concurrent-hflush-" + UUID.randomUUID());
    byte[] first = "first record;".getBytes(StandardCharsets.UTF_8);
    byte[] second = "second record;".getBytes(StandardCharsets.UTF_8);
    byte[] third = "third record;".getBytes(StandardCharsets.UTF_8);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (FileSystem fs = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf)) {
      FSDataOutputStream out = fs.create(file);
      out.write(first);
      out.hflush(); // the file and its first slice are committed before the lock is taken

      Process locker = new ProcessBuilder("python3", "-c",
          "import sqlite3, sys\n"
              + "c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)\n"
              + "c.execute('BEGIN EXCLUSIVE')\n"
              + "print('locked', flush=True)\n"
              + "sys.stdin.readline()\n"
              + "c.execute('ROLLBACK')\n", db).redirectErrorStream(true).start();
      BufferedReader said = new BufferedReader(
          new InputStreamReader(locker.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("locked", said.readLine());
      Future<?> waiting;
      Future<?> joining;
      try {
        out.write(second);
        CountDownLatch entered = new CountDownLatch(1);
        waiting = pool.submit(() -> {
          entered.countDown();
          out.hflush();
          return null;
        });
        entered.await();
        Thread.sleep(500);
        assertFalse("the hflush did not wait for the locked database: the test proves nothing",
            waiting.isDone());
        // the stream is not held by the waiting hflush: a write completes at once
        Future<?> write = pool.submit(() -> {
          out.write(third);
          return null;
        });
        write.get(3, TimeUnit.SECONDS);
        assertFalse(waiting.isDone());
        joining = pool.submit(() -> {
          out.hflush();
          return null;
        });
        Thread.sleep(200);
        assertFalse(joining.isDone());
      } finally {
        OutputStream release = locker.getOutputStream();
        release.write('\n');
        release.flush();
        locker.waitFor(10, TimeUnit.SECONDS);
      }
      waiting.get(30, TimeUnit.SECONDS);
      joining.get(30, TimeUnit.SECONDS);
      out.close();

      byte[] want = new byte[first.length + second.length + third.length];
      System.arraycopy(first, 0, want, 0, first.length);
      System.arraycopy(second, 0, want, first.length, second.length);
      System.arraycopy(third, 0, want, first.length + second.length, third.length);
      byte[] got = new byte[want.length];
      try (FSDataInputStream in = fs.open(file)) {
        in.readFully(0, got);
        assertEquals(-1, in.read(want.length, new byte[1], 0, 1));
      }
      assertArrayEquals(want, got);
      assertTrue(fs.delete(file, false));
    } finally {
      pool.shutdownNow();
    }
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
  }
}
