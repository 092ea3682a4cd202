package io.sluice.hadoop;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * The durability contract through the Hadoop API, with two independent FileSystem instances (two
 * native volume handles, as two clients would have): the writer stages hflushed blocks in its own
 * cache dir while uploads run in the background; the reader, with its own cache dir or none, must
 * see every flushed byte and never zeros or stale data. Includes an HBase-style WAL: many threads
 * appending records to one stream, each followed by hflush, one thread hsync'ing, and a tailer.
 */
public class TestSluiceDurability {
  private static final URI VOLUME = URI.create(SluiceTestVolume.DEFAULT_FS);
  private static final String CACHE_DIR_KEY =
      SluiceConstants.hadoopKey(SluiceConstants.CACHE_DIR);
  private static final String GET_TIMEOUT_KEY =
      SluiceConstants.hadoopKey(SluiceConstants.GET_TIMEOUT);

  // WAL record: thread id, sequence number, payload length, then the payload (see payload()).
  private static final int HEADER = 12;
  private static final int WAL_THREADS = 6;
  private static final int WAL_RECORDS = 200;
  /** Records of writer 0 that the tailer must have read before that writer goes on. */
  private static final int TAILER_CHECKPOINTS = 10;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(180, TimeUnit.SECONDS);

  private final List<FileSystem> opened = new ArrayList<>();
  private Path dir;

  @Before
  public void setUp() throws IOException {
    dir = new Path("/durability-" + UUID.randomUUID());
  }

  @After
  public void tearDown() throws IOException {
    try {
      if (!opened.isEmpty()) {
        opened.get(0).delete(dir, true);
      }
    } finally {
      for (FileSystem fs : opened) {
        fs.close();
      }
      opened.clear();
    }
  }

  /**
   * An independent FileSystem (not the cached one) on the test volume.
   *
   * @param cacheDir sluice.cache-dir, or null for none (hflush then behaves as hsync)
   * @param getTimeout sluice.get-timeout in seconds, or -1 for the default
   */
  private FileSystem newFs(File cacheDir, int getTimeout) throws IOException {
    Configuration conf = new Configuration(SluiceTestVolume.configure(new Configuration()));
    conf.unset(CACHE_DIR_KEY);
    if (cacheDir != null) {
      conf.set(CACHE_DIR_KEY, cacheDir.getAbsolutePath());
    }
    if (getTimeout >= 0) {
      conf.setInt(GET_TIMEOUT_KEY, getTimeout);
    }
    FileSystem fs = FileSystem.newInstance(VOLUME, conf);
    opened.add(fs);
    return fs;
  }

  /** A writer with a fresh cache dir; checks the native side really took it (staging exists). */
  private FileSystem newCachedFs() throws IOException {
    File cache = tmp.newFolder();
    FileSystem fs = newFs(cache, -1);
    assertTrue("sluice.cache-dir was not handed to libsluice: no staging area under " + cache,
        hasStagingArea(cache));
    return fs;
  }

  private static boolean hasStagingArea(File cacheDir) {
    File[] volumes = cacheDir.listFiles();
    if (volumes != null) {
      for (File v : volumes) {
        if (new File(v, "rawstaging").isDirectory()) {
          return true;
        }
      }
    }
    return false;
  }

  private static byte[] random(int seed, int len) {
    byte[] b = new byte[len];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] concat(List<byte[]> parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  /** The whole file through a new open(); asserts EOF is exactly at want.length. */
  private static void assertContent(FileSystem fs, Path p, byte[] want) throws IOException {
    byte[] got = new byte[want.length];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, got);
      assertEquals("bytes past the expected end of " + p, -1,
          in.read(want.length, new byte[1], 0, 1));
    }
    assertArrayEquals("content of " + p, want, got);
  }

  // ---- 1. HBase-style WAL ----------------------------------------------------------------------

  private static int payloadLength(int thread, int seq) {
    return 20 + (seq * 131 + thread * 57) % 700;
  }

  private static byte payload(int thread, int seq, int i) {
    return (byte) (thread * 31 + seq * 7 + i * 13 + (i >>> 8));
  }

  private static byte[] record(int thread, int seq) {
    int len = payloadLength(thread, seq);
    ByteBuffer b = ByteBuffer.allocate(HEADER + len);
    b.putInt(thread).putInt(seq).putInt(len);
    for (int i = 0; i < len; i++) {
      b.put(payload(thread, seq, i));
    }
    return b.array();
  }

  /** Follows a growing WAL from another FileSystem, checking each record as it appears. */
  private static final class Tailer {
    final FileSystem fs;
    final Path path;
    final int[] nextSeq = new int[WAL_THREADS];
    long consumed; // offset of the first record not parsed yet
    long lastLen;
    int records;
    int growths; // polls that found bytes past the parsed records
    /** Records parsed per writer thread, published for the writers that wait on the tailer. */
    final AtomicIntegerArray parsed = new AtomicIntegerArray(WAL_THREADS);

    Tailer(FileSystem fs, Path path) {
      this.fs = fs;
      this.path = path;
    }

    /** Reads whatever is visible past `consumed`; returns whether the file had grown. */
    boolean poll() throws IOException {
      long len;
      try {
        len = fs.getFileStatus(path).getLen();
      } catch (java.io.FileNotFoundException e) {
        return false; // not created yet
      }
      assertTrue("visible length went back from " + lastLen + " to " + len, len >= lastLen);
      lastLen = len;
      if (len == consumed) {
        return false;
      }
      growths++;
      byte[] buf = new byte[(int) (len - consumed)];
      try (FSDataInputStream in = fs.open(path)) {
        in.readFully(consumed, buf);
      }
      ByteBuffer b = ByteBuffer.wrap(buf);
      while (b.remaining() >= HEADER) {
        int start = b.position();
        long at = consumed + start;
        int thread = b.getInt();
        int seq = b.getInt();
        int plen = b.getInt();
        if (thread < 0 || thread >= WAL_THREADS) {
          fail("record at offset " + at + ": bad thread id " + thread + " (zeros or garbage)");
        }
        assertEquals("record at offset " + at + " of thread " + thread + " out of order",
            nextSeq[thread], seq);
        assertEquals("record at offset " + at + ": length", payloadLength(thread, seq), plen);
        if (b.remaining() < plen) {
          b.position(start); // the visible end is inside this record: read it next time
          break;
        }
        for (int i = 0; i < plen; i++) {
          if (b.get() != payload(thread, seq, i)) {
            fail("record " + thread + "/" + seq + " at offset " + at + ": payload byte " + i
                + " differs");
          }
        }
        nextSeq[thread]++;
        parsed.set(thread, nextSeq[thread]);
        records++;
      }
      consumed += b.position();
      return true;
    }
  }

  @Test
  public void testWalManyWritersOneSyncerAndATailer() throws Exception {
    FileSystem writerFs = newCachedFs();
    FileSystem readerFs = newFs(null, 60);
    Path wal = new Path(dir, "wal");
    writerFs.mkdirs(dir);

    ExecutorService pool = Executors.newFixedThreadPool(WAL_THREADS + 2);
    AtomicBoolean writing = new AtomicBoolean(true);
    Tailer tailer = new Tailer(readerFs, wal);
    try (FSDataOutputStream out = writerFs.create(wal, false)) {
      Future<?> tail = pool.submit(() -> {
        while (writing.get()) {
          if (!tailer.poll()) {
            Thread.sleep(2);
          }
        }
        return null;
      });
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < WAL_THREADS; t++) {
        final int thread = t;
        writers.add(pool.submit(() -> {
          for (int seq = 0; seq < WAL_RECORDS; seq++) {
            out.write(record(thread, seq)); // one call: a record is appended whole
            out.hflush();
            if (thread == 0 && seq % (WAL_RECORDS / TAILER_CHECKPOINTS) == 0) {
              // The tailer must see this record while the WAL is open: the writers' speed
              // then cannot decide how often it saw the file grow.
              long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
              while (tailer.parsed.get(0) <= seq) {
                assertFalse("the tailer stopped", tail.isDone());
                assertTrue("hflushed record 0/" + seq + " not visible to the tailer in 60 s",
                    System.nanoTime() < deadline);
                Thread.sleep(1);
              }
            }
          }
          return null;
        }));
      }
      AtomicBoolean syncing = new AtomicBoolean(true);
      Future<Integer> syncer = pool.submit(() -> {
        int n = 0;
        while (syncing.get()) {
          out.hsync();
          n++;
          Thread.sleep(20);
        }
        return n;
      });
      for (Future<?> w : writers) {
        w.get();
      }
      syncing.set(false);
      assertTrue("the hsync thread never ran", syncer.get() > 0);
      writing.set(false);
      tail.get(); // surfaces a tailer failure while the writer is still open
      // it followed the file as it grew, not just read it once at the end
      assertTrue("the tailer saw the WAL grow only " + tailer.growths + " times",
          tailer.growths >= TAILER_CHECKPOINTS);
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }

    // after close: everything there, from the reader's view
    tailer.poll();
    assertEquals("bytes left unparsed at the end of the WAL", tailer.lastLen, tailer.consumed);
    assertEquals("records seen by the tailer", WAL_THREADS * WAL_RECORDS, tailer.records);
    for (int t = 0; t < WAL_THREADS; t++) {
      assertEquals("records of thread " + t, WAL_RECORDS, tailer.nextSeq[t]);
    }
    assertEquals(tailer.consumed, writerFs.getFileStatus(wal).getLen());
  }

  // ---- 2. hflush visibility --------------------------------------------------------------------

  @Test
  public void testFlushedBytesVisibleToAnotherFileSystem() throws Exception {
    FileSystem writerFs = newCachedFs();
    FileSystem readerFs = newFs(tmp.newFolder(), 60);
    Path p = new Path(dir, "visible");
    // sizes cross the 4 MiB object block and the small-write gather buffer
    int[] sizes = {1, 100, 8191, 8192, 70000, 1 << 20, (4 << 20) + 3, 5, 300000, 17};
    List<byte[]> written = new ArrayList<>();
    try (FSDataOutputStream out = writerFs.create(p, false)) {
      for (int round = 0; round < sizes.length; round++) {
        byte[] part = random(round, sizes[round]);
        out.write(part);
        written.add(part);
        boolean sync = round % 3 == 2;
        if (sync) {
          out.hsync();
        } else {
          out.hflush();
        }
        byte[] want = concat(written);
        assertEquals("visible length after round " + round + (sync ? " (hsync)" : " (hflush)"),
            want.length, readerFs.getFileStatus(p).getLen());
        assertEquals(want.length, out.getPos());
        assertContent(readerFs, p, want);
      }
    }
    assertContent(readerFs, p, concat(written));
  }

  // ---- 3. StreamCapabilities -------------------------------------------------------------------

  private static void assertSyncable(String what, FSDataOutputStream out) {
    assertTrue(what + ": hflush", out.hasCapability(StreamCapabilities.HFLUSH));
    assertTrue(what + ": hsync", out.hasCapability(StreamCapabilities.HSYNC));
    assertTrue(what + ": HSYNC in capitals", out.hasCapability("HSYNC"));
    assertFalse(what + ": an unknown capability", out.hasCapability("sluice.no-such-capability"));
    OutputStream inner = out.getWrappedStream();
    assertTrue(what + ": the wrapped stream " + inner + " is not StreamCapabilities",
        inner instanceof StreamCapabilities);
    assertTrue(what + ": wrapped hflush",
        ((StreamCapabilities) inner).hasCapability(StreamCapabilities.HFLUSH));
    assertTrue(what + ": wrapped hsync",
        ((StreamCapabilities) inner).hasCapability(StreamCapabilities.HSYNC));
  }

  @Test
  public void testStreamCapabilities() throws Exception {
    FileSystem cached = newCachedFs();
    FileSystem uncached = newFs(null, -1);
    try (FSDataOutputStream out = cached.create(new Path(dir, "cap-cached"), false)) {
      assertSyncable("with a cache dir", out);
      out.write(1);
      out.hflush(); // and the capability holds in practice
    }
    try (FSDataOutputStream out = uncached.create(new Path(dir, "cap-uncached"), false)) {
      assertSyncable("without a cache dir", out);
      out.write(2);
      out.hflush();
    }
    try (FSDataOutputStream out = cached.append(new Path(dir, "cap-cached"))) {
      assertSyncable("append with a cache dir", out);
    }
    assertContent(uncached, new Path(dir, "cap-cached"), new byte[] {1});
    assertContent(cached, new Path(dir, "cap-uncached"), new byte[] {2});
  }

  // ---- 4. close is hsync -----------------------------------------------------------------------

  @Test
  public void testCloseMakesDataDurableForAReaderThatDoesNotWait() throws Exception {
    FileSystem writerFs = newCachedFs();
    FileSystem impatient = newFs(null, 0); // a block not in object storage fails at once
    Path p = new Path(dir, "closed");
    List<byte[]> written = new ArrayList<>();
    try (FSDataOutputStream out = writerFs.create(p, false)) {
      for (int i = 0; i < 6; i++) {
        byte[] part = random(100 + i, i % 2 == 0 ? 1 << 20 : 1000 + i);
        out.write(part);
        written.add(part);
        out.hflush(); // staged locally; close must wait for these uploads
      }
    }
    byte[] want = concat(written);
    assertEquals(want.length, impatient.getFileStatus(p).getLen());
    assertContent(impatient, p, want);
  }
}
