package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileRange;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options.OpenFileOptions;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.statistics.IOStatistics;
import org.apache.hadoop.fs.statistics.IOStatisticsSource;
import org.apache.hadoop.fs.statistics.StoreStatisticNames;
import org.apache.hadoop.fs.statistics.StreamStatisticNames;
import org.junit.Test;

/**
 * FileSystem.Statistics and IOStatistics count every read and write path exactly once, the
 * openFile options do what SluiceFileSystem says, and the capabilities claimed hold.
 */
public class TestSluiceStatistics extends VolumeTestBase {
  public TestSluiceStatistics() {
    super("/stats-");
  }

  private static byte[] data(int len) {
    byte[] b = new byte[len];
    for (int i = 0; i < len; i++) {
      b[i] = (byte) (i * 13 + 5);
    }
    return b;
  }

  private static Map<String, Long> counters(IOStatisticsSource source) {
    return source.getIOStatistics().counters();
  }

  private static long counter(IOStatisticsSource source, String name) {
    Map<String, Long> counters = counters(source);
    assertThat(counters).containsKey(name);
    return counters.get(name);
  }

  @SuppressWarnings("deprecation") // the per-scheme object every instance counts into
  private FileSystem.Statistics statistics() {
    return FileSystem.getStatistics(fs.getScheme(), fs.getClass());
  }

  private Path write(String name, byte[] b) throws IOException {
    Path p = new Path(dir, name);
    try (FSDataOutputStream out = fs.create(p)) {
      out.write(b);
    }
    return p;
  }

  /** The filesystem's IOStatistics carry libsluice's counters of its volume handle. */
  @Test
  public void nativeCountersOfTheVolumeHandle() throws IOException {
    IOStatistics stats = ((IOStatisticsSource) fs).getIOStatistics();
    long putsBefore = stats.counters().get("object.puts");
    byte[] b = data(3 << 20);
    Path p = write("native", b);
    Map<String, Long> c = stats.counters(); // read anew at each call
    assertThat(c.get("object.puts")).isGreaterThan(putsBefore);
    assertThat(c.get("object.put_bytes")).isGreaterThanOrEqualTo(b.length);
    // a file created for writing takes its lease in the create (mknod_leased) where it can
    assertThat(c.getOrDefault("meta.mknod_leased.calls", 0L)
            + c.getOrDefault("meta.mknod.calls", 0L))
        .isPositive();
    assertThat(c.get("commit.slices")).isPositive();
    assertThat(c).containsKeys("block_reads.memory", "block_reads.object", "hflush.calls",
        "meta.resolve.ns");
    long reads = blockReads(c);
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, new byte[b.length]);
    }
    assertThat(blockReads(stats.counters())).isGreaterThan(reads);
    assertThat(stats.counters()).doesNotContainKey("meta.whoami.calls"); // never used
    fs.delete(dir, true);
    fs.close();
    assertThat(stats.counters()).doesNotContainKey("object.puts"); // the handle is gone
    fs = null;
  }

  private static long blockReads(Map<String, Long> c) {
    return c.get("block_reads.memory") + c.get("block_reads.disk") + c.get("block_reads.staged")
        + c.get("block_reads.peers") + c.get("block_reads.object");
  }

  @Test
  public void bytesWrittenAreCountedOnceOnEveryWritePath() throws IOException {
    FileSystem.Statistics st = statistics();
    long before = st.getBytesWritten();
    Path p = new Path(dir, "w");
    byte[] big = data(100_000);
    try (FSDataOutputStream out = fs.create(p)) {
      out.write(7);                // gathered single byte
      out.write(big, 10, 100);     // gathered small array
      out.write(big);              // straight through
      out.hflush();
      out.hsync();
      assertThat(counters(out)).contains(entry(StreamStatisticNames.STREAM_WRITE_BYTES, 100_101L),
          entry("stream_write_operations", 3L), entry(StoreStatisticNames.OP_HFLUSH, 1L),
          entry(StoreStatisticNames.OP_HSYNC, 1L));
      assertThat(out.hasCapability(StreamCapabilities.HFLUSH)).isTrue();
      assertThat(out.hasCapability(StreamCapabilities.HSYNC)).isTrue();
      assertThat(out.hasCapability(StreamCapabilities.IOSTATISTICS)).isTrue();
      assertThat(out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)).isFalse();
    }
    assertThat(st.getBytesWritten() - before).isEqualTo(100_101);
    try (FSDataOutputStream out = fs.append(p)) {
      out.write(big, 0, 10);
    }
    assertThat(st.getBytesWritten() - before).isEqualTo(100_111);
    assertThat(fs.getFileStatus(p).getLen()).isEqualTo(100_111);
    // the closed streams' counters are in the filesystem's
    IOStatisticsSource fsStats = (IOStatisticsSource) fs;
    assertThat(counters(fsStats)).contains(entry(StreamStatisticNames.STREAM_WRITE_BYTES, 100_111L),
        entry(StoreStatisticNames.OP_CREATE, 1L), entry(StoreStatisticNames.OP_APPEND, 1L),
        entry(StoreStatisticNames.OP_HSYNC, 1L));
  }

  @Test
  public void bytesReadAreCountedOnEveryReadPath() throws Exception {
    byte[] b = data(10_000);
    Path p = write("r", b);
    FileSystem.Statistics st = statistics();
    long before = st.getBytesRead();
    long expected = 0;
    FSDataInputStream in = fs.open(p);
    try {
      assertThat(in.read()).isEqualTo(b[0] & 0xff);
      expected += 1;
      byte[] buf = new byte[100];
      assertThat(in.read(buf, 0, 100)).isEqualTo(100);             // sequential array
      expected += 100;
      ByteBuffer direct = ByteBuffer.allocateDirect(200);
      assertThat(in.read(direct)).isEqualTo(200);                 // sequential direct buffer
      expected += 200;
      ByteBuffer heap = ByteBuffer.allocate(300);
      assertThat(in.read(heap)).isEqualTo(300);                   // sequential heap buffer
      expected += 300;
      assertThat(in.read(5000, buf, 0, 50)).isEqualTo(50);        // positioned array
      expected += 50;
      direct.clear();
      assertThat(in.read(6000, direct)).isEqualTo(200);           // positioned direct buffer
      expected += 200;
      in.readFully(7000, buf);                                    // positioned readFully
      expected += 100;
      heap.clear();
      in.readFully(8000, heap);                                   // ByteBuffer readFully
      expected += 300;
      in.seek(9000);
      in.readFully(buf, 0, 100);                                  // sequential readFully
      expected += 100;
      List<FileRange> ranges = Arrays.asList(FileRange.createFileRange(0, 1000),
          FileRange.createFileRange(9500, 500));
      in.readVectored(ranges, ByteBuffer::allocateDirect);        // vectored
      for (FileRange r : ranges) {
        ByteBuffer got = r.getData().get(30, TimeUnit.SECONDS);
        assertThat(got.remaining()).isEqualTo(r.getLength());
        for (int i = 0; i < r.getLength(); i++) {
          assertThat(got.get(got.position() + i)).isEqualTo(b[(int) r.getOffset() + i]);
        }
      }
      expected += 1500;
      assertThat(in.read(10_000, buf, 0, 10)).isEqualTo(-1);      // EOF counts nothing

      assertThat(st.getBytesRead() - before).isEqualTo(expected);
      assertThat(counters(in)).contains(entry(StreamStatisticNames.STREAM_READ_BYTES, expected),
          entry(StreamStatisticNames.STREAM_READ_SEEK_OPERATIONS, 1L),
          entry(StreamStatisticNames.STREAM_READ_VECTORED_OPERATIONS, 1L),
          entry(StreamStatisticNames.STREAM_READ_VECTORED_INCOMING_RANGES, 2L));
      assertThat(counter(in, StreamStatisticNames.STREAM_READ_OPERATIONS))
          .isGreaterThanOrEqualTo(10);
      for (String cap : new String[] {StreamCapabilities.UNBUFFER,
          StreamCapabilities.READBYTEBUFFER, StreamCapabilities.PREADBYTEBUFFER,
          StreamCapabilities.VECTOREDIO, StreamCapabilities.IOSTATISTICS}) {
        assertThat(in.hasCapability(cap)).as(cap).isTrue();
        assertThat(fs.hasPathCapability(p, cap)).as(cap).isTrue();
      }
      assertThat(in.hasCapability(StreamCapabilities.READAHEAD)).isFalse();
      assertThat(in.hasCapability(StreamCapabilities.DROPBEHIND)).isFalse();
    } finally {
      in.close();
    }
    IOStatisticsSource fsStats = (IOStatisticsSource) fs;
    assertThat(counters(fsStats)).contains(entry(StreamStatisticNames.STREAM_READ_BYTES, expected),
        entry(StoreStatisticNames.OP_OPEN, 1L));
  }

  @Test
  public void operationsAreCounted() throws IOException {
    IOStatisticsSource s = (IOStatisticsSource) fs; // setUp did one mkdirs
    Path a = write("a", data(10));
    fs.getFileStatus(a);
    fs.listStatus(dir);
    fs.rename(a, new Path(dir, "b"));
    fs.delete(new Path(dir, "b"), false);
    fs.mkdirs(new Path(dir, "sub"));
    assertThat(counters(s)).contains(entry(StoreStatisticNames.OP_CREATE, 1L),
        entry(StoreStatisticNames.OP_LIST_STATUS, 1L), entry(StoreStatisticNames.OP_RENAME, 1L),
        entry(StoreStatisticNames.OP_DELETE, 1L), entry(StoreStatisticNames.OP_MKDIRS, 2L));
    assertThat(counter(s, StoreStatisticNames.OP_GET_FILE_STATUS)).isGreaterThanOrEqualTo(1);
  }

  @Test
  public void openFileHonoursLengthStatusAndPolicy() throws Exception {
    byte[] b = data(5000);
    Path p = write("o", b);
    FileStatus st = fs.getFileStatus(p);
    byte[] got = new byte[5000];
    try (FSDataInputStream in = fs.openFile(p).withFileStatus(st).build().get()) {
      in.readFully(got);
    }
    assertThat(got).isEqualTo(b);
    // a length given: the stream trusts it for available(), and still reads the real data
    try (FSDataInputStream in = fs.openFile(p)
        .must(OpenFileOptions.FS_OPTION_OPENFILE_LENGTH, 5000)
        .must(OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY, "unknown, random, sequential")
        .build().get()) {
      assertThat(in.available()).isEqualTo(5000);
      in.seek(4000);
      in.seek(10);
      in.readFully(got, 0, 100);
      assertThat(Arrays.copyOfRange(got, 0, 100)).isEqualTo(Arrays.copyOfRange(b, 10, 110));
      assertThat(in.getWrappedStream().toString()).contains("policy=random");
    }
    try (FSDataInputStream in = fs.openFile(p)
        .opt(OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY, "whole-file").build().get()) {
      assertThat(in.getWrappedStream().toString()).contains("policy=whole-file");
    }
    assertThatThrownBy(() -> fs.openFile(p).must("fs.option.openfile.unknown", 1).build())
        .isInstanceOf(IllegalArgumentException.class);
    // a status of another file name is refused (through the future, as openFile failures are)
    FileStatus other = new FileStatus(5000, false, 1, 1024, 0, new Path(dir, "other"));
    assertThatThrownBy(() -> fs.openFile(p).withFileStatus(other).build().get())
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  public void pathCapabilitiesAreHonest() throws IOException {
    Path p = write("c", data(1));
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_APPEND)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_CONCAT)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_XATTRS)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_PERMISSIONS)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_TRUNCATE)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_ACLS)).isFalse();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_SYMLINKS)).isFalse();
    assertThat(fs.hasPathCapability(p, StreamCapabilities.HFLUSH)).isTrue();
    assertThat(fs.hasPathCapability(p, StreamCapabilities.HSYNC)).isTrue();
    assertThat(fs.hasPathCapability(p, StreamCapabilities.VECTOREDIO)).isTrue();
  }
}
