package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LeaseRecoverable;
import org.apache.hadoop.fs.Path;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Lease recovery as HBase uses it for a dead region server's WAL: two FileSystem instances (two
 * clients, two sessions); B recovers A's lease, after which A can neither hflush nor close, and B
 * reads exactly what A hflushed before. HBase 2.5 and 2.6 call recoverLease only on HDFS
 * (RecoverLeaseFSUtils): on Sluice they split a killed server's WAL without it, which
 * {@link #killedWritersFileWithoutRecovery} covers.
 */
public class TestSluiceLeaseRecovery {
  private FileSystem a;
  private FileSystem b;
  private Path dir;

  @Before
  public void setUp() throws IOException {
    Configuration conf = SluiceTestVolume.configureScratch(new Configuration());
    a = SluiceTestVolume.newFileSystem(conf);
    b = SluiceTestVolume.newFileSystem(conf);
    dir = SluiceTestVolume.freshDir(a, "/test/leases-");
  }

  @After
  public void tearDown() throws IOException {
    SluiceTestVolume.removeAndClose(b, dir);
    if (a != null) {
      try {
        a.close();
      } catch (IOException e) {
        // a fenced stream still open: already reported by the test
      }
    }
  }

  static byte[] bytes(int n, int seed) {
    byte[] d = new byte[n];
    for (int i = 0; i < n; i++) {
      d[i] = (byte) (i * 31 + seed);
    }
    return d;
  }

  private byte[] readAll(FileSystem fs, Path p) throws IOException {
    int len = (int) fs.getFileStatus(p).getLen();
    byte[] d = new byte[len];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, d);
    }
    return d;
  }

  @Test
  public void recoveryFencesTheOldWriter() throws IOException {
    assertThat(b).isInstanceOf(LeaseRecoverable.class);
    LeaseRecoverable lr = (LeaseRecoverable) b;
    Path wal = new Path(dir, "wal");
    byte[] first = bytes(5000, 1);
    FSDataOutputStream out = a.create(wal);
    out.write(first);
    out.hflush();
    assertThat(lr.isFileClosed(wal)).isFalse();
    // a second writer is refused while A holds the lease
    assertThatThrownBy(() -> b.append(wal)).isInstanceOf(IOException.class)
        .hasMessageContaining("being written");

    assertThat(lr.recoverLease(wal)).isTrue();
    assertThat(lr.isFileClosed(wal)).isTrue();
    out.write(bytes(3000, 2));
    assertThatThrownBy(out::hflush).isInstanceOf(IOException.class)
        .isNotInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("lease").hasMessageContaining("recovered");
    assertThatThrownBy(out::close).isInstanceOf(IOException.class)
        .hasMessageContaining("recovered");
    out.close(); // idempotent after the failure

    assertThat(b.getFileStatus(wal).getLen()).isEqualTo(first.length);
    assertThat(readAll(b, wal)).isEqualTo(first);
    // B replays and may write now
    try (FSDataOutputStream more = b.append(wal)) {
      assertThat(((SluiceFileSystem) a).isFileClosed(wal)).isFalse();
      more.write(bytes(10, 3));
    }
    assertThat(((SluiceFileSystem) a).isFileClosed(wal)).isTrue();
    assertThat(readAll(a, wal)).hasSize(first.length + 10);
    assertThat(Arrays.copyOf(readAll(a, wal), first.length)).isEqualTo(first);
  }

  /**
   * HBase's case: the region server's JVM is killed with SIGKILL after an hflush. Its file stays
   * open (isFileClosed false, and no one else may write it) until recoverLease, after which the
   * hflushed bytes, and only they, are there and the file can be appended to.
   */
  @Test
  public void recoveryOfAKilledWritersFile() throws Exception {
    Path wal = new Path(dir, "killed-wal");
    killWriterAfterHflush(wal, 5000);
    LeaseRecoverable lr = (LeaseRecoverable) b;
    assertThat(lr.isFileClosed(wal)).isFalse();
    assertThatThrownBy(() -> b.append(wal)).isInstanceOf(IOException.class)
        .hasMessageContaining("being written");
    assertThat(lr.recoverLease(wal)).isTrue();
    assertThat(lr.isFileClosed(wal)).isTrue();
    assertThat(readAll(b, wal)).isEqualTo(bytes(5000, 9));
    try (FSDataOutputStream more = b.append(wal)) {
      more.write(bytes(10, 3));
    }
    assertThat(b.getFileStatus(wal).getLen()).isEqualTo(5010);
  }

  /**
   * Has a LeaseWriterChild write and hflush n bytes to wal, then kills it with SIGKILL: no close,
   * no session cleanup.
   */
  private void killWriterAfterHflush(Path wal, int n) throws Exception {
    Configuration conf = SluiceTestVolume.configureScratch(new Configuration());
    List<String> cmd = ChildJvm.command(Collections.emptyList(), LeaseWriterChild.class,
        Arrays.asList(SluiceTestVolume.DEFAULT_FS, wal.toString(), Integer.toString(n)), conf,
        key -> true);
    Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader said = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      assertThat(said.readLine()).isEqualTo("hflushed");
    } finally {
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * HBase 2.x's case (tests/engines/hbase.sh): the region server is killed with SIGKILL after an
   * hflush, and the master splits its WAL with no recoverLease (HBase 2.5/2.6 recover leases
   * only on HDFS): it renames the server's WAL directory to "-splitting", reads the WAL while
   * the dead writer's lease is still held, then archives it with a rename and deletes it later.
   * Each must work on the open file, and the reader must see exactly the hflushed bytes.
   */
  @Test
  public void killedWritersFileWithoutRecovery() throws Exception {
    Path walDir = new Path(dir, "WALs/server1");
    Path wal = new Path(walDir, "wal.1");
    killWriterAfterHflush(wal, 70000);
    Path splitting = new Path(dir, "WALs/server1-splitting");
    assertThat(b.rename(walDir, splitting)).isTrue();
    Path moved = new Path(splitting, "wal.1");
    assertThat(b.getFileStatus(moved).getLen()).isEqualTo(70000);
    assertThat(readAll(b, moved)).isEqualTo(bytes(70000, 9));
    // a reader that reads past the hflushed length finds the end of the file, not an error
    try (FSDataInputStream in = b.open(moved)) {
      in.seek(69990);
      byte[] tail = new byte[100];
      assertThat(in.read(tail)).isEqualTo(10);
      assertThat(in.read(tail)).isEqualTo(-1);
    }
    Path archived = new Path(dir, "oldWALs/wal.1");
    b.mkdirs(archived.getParent());
    assertThat(b.rename(moved, archived)).isTrue();
    assertThat(readAll(b, archived)).isEqualTo(bytes(70000, 9));
    assertThat(b.delete(splitting, true)).isTrue();
    assertThat(b.delete(archived, false)).isTrue();
    assertThat(b.exists(archived)).isFalse();
  }

  @Test
  public void closedAfterClose() throws IOException {
    Path p = new Path(dir, "closed");
    SluiceFileSystem sb = (SluiceFileSystem) b;
    try (FSDataOutputStream out = a.create(p)) {
      out.write(bytes(100, 4));
      out.hflush();
      assertThat(sb.isFileClosed(p)).isFalse();
    }
    assertThat(sb.isFileClosed(p)).isTrue();
    assertThat(sb.recoverLease(p)).isTrue();
    assertThat(readAll(b, p)).isEqualTo(bytes(100, 4));
  }

  @Test
  public void fencedWriterWithNothingPendingFailsItsClose() throws IOException {
    Path p = new Path(dir, "idle");
    FSDataOutputStream out = a.create(p);
    out.write(bytes(64, 5));
    out.hflush();
    assertThat(((SluiceFileSystem) b).recoverLease(p)).isTrue();
    assertThatThrownBy(out::close).isInstanceOf(IOException.class)
        .hasMessageContaining("recovered");
    assertThat(readAll(b, p)).isEqualTo(bytes(64, 5));
  }

  @Test
  public void capabilityAndErrors() throws IOException {
    assertThat(b.hasPathCapability(dir, CommonPathCapabilities.LEASE_RECOVERABLE)).isTrue();
    LeaseRecoverable lr = (LeaseRecoverable) b;
    assertThatThrownBy(() -> lr.recoverLease(new Path(dir, "missing")))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("File does not exist");
    assertThatThrownBy(() -> lr.isFileClosed(dir))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("Path is not a file");
  }

  @Test
  public void leasesOffAllowSeveralWriters() throws IOException {
    Configuration conf = SluiceTestVolume.configureScratch(new Configuration());
    conf.setBoolean(SluiceConstants.hadoopKey(SluiceConstants.LEASES), false);
    Path p = new Path(dir, "multi");
    try (FileSystem x = SluiceTestVolume.newFileSystem(conf);
        FileSystem y = SluiceTestVolume.newFileSystem(conf)) {
      assertThat(x.hasPathCapability(p, CommonPathCapabilities.LEASE_RECOVERABLE)).isFalse();
      try (FSDataOutputStream o1 = x.create(p); FSDataOutputStream o2 = y.append(p)) {
        o1.write(1);
        o1.hflush();
        o2.write(2);
        o2.hflush();
      }
    }
  }
}
