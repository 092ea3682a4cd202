package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * getFileBlockLocations with a node list (sluice.nodes, sluice.cache-replicas): hosts come from
 * the list, the same block gets the same hosts from independent volume handles, and without a list
 * every block is on localhost.
 */
public class TestSluiceLocality {
  private static final List<String> NODES = Arrays.asList("worker-1", "worker-2", "worker-3",
      "worker-4");
  private static final long MB = 1L << 20;
  private static final long LEN = 7 * MB + 4321;
  private static Path file;

  @BeforeClass
  public static void writeFile() throws IOException {
    file = new Path("/locality-" + System.nanoTime() + "/data");
    try (FileSystem fs = newFs(null, 0)) {
      byte[] buf = new byte[(int) MB];
      Arrays.fill(buf, (byte) 'L');
      try (FSDataOutputStream out = fs.create(file)) {
        for (long left = LEN; left > 0; left -= buf.length) {
          out.write(buf, 0, (int) Math.min(left, buf.length));
        }
      }
    }
  }

  @AfterClass
  public static void removeFile() throws IOException {
    try (FileSystem fs = newFs(null, 0)) {
      fs.delete(file.getParent(), true);
    }
  }

  /** A fresh instance (own volume handle) with 1 MiB logical blocks and the given node list. */
  private static FileSystem newFs(String nodes, int replicas) throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set("sluice.block.size", "1M");
    if (nodes != null) {
      // the per-volume form, which wins over sluice.nodes
      conf.set("sluice.nodes", "ignored-host");
      conf.set("sluice.testvol.nodes", nodes);
    }
    if (replicas > 0) {
      conf.setInt("sluice.cache-replicas", replicas);
    }
    return FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
  }

  private static BlockLocation[] locate(FileSystem fs) throws IOException {
    FileStatus st = fs.getFileStatus(file);
    assertThat(st.getLen()).isEqualTo(LEN);
    return fs.getFileBlockLocations(st, 0, st.getLen());
  }

  @Test
  public void hostsComeFromTheNodeListAndAreStable() throws IOException {
    String nodes = "worker-1:2,worker-2,worker-3:3,worker-4";
    BlockLocation[] a;
    BlockLocation[] b;
    try (FileSystem fs = newFs(nodes, 2)) {
      a = locate(fs);
      // the same call again on the same instance
      BlockLocation[] again = locate(fs);
      for (int i = 0; i < a.length; i++) {
        assertThat(again[i].getHosts()).containsExactly(a[i].getHosts());
      }
    }
    // another instance, with the list in another order: another volume handle, another ring
    try (FileSystem fs = newFs("worker-4,worker-3:3,worker-2,worker-1:2", 2)) {
      b = locate(fs);
    }
    assertThat(a).hasSize(8);
    assertThat(b).hasSize(8);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i].getOffset()).isEqualTo(i * MB);
      assertThat(a[i].getLength()).isEqualTo(i < 7 ? MB : 4321);
      String[] hosts = a[i].getHosts();
      assertThat(hosts).hasSize(2);
      assertThat(hosts[0]).isNotEqualTo(hosts[1]);
      assertThat(NODES).contains(hosts);
      assertThat(a[i].getNames()).containsExactly(hosts);
      assertThat(a[i].getTopologyPaths())
          .containsExactly("/default-rack/" + hosts[0], "/default-rack/" + hosts[1]);
      assertThat(b[i].getHosts()).containsExactly(hosts);
      seen.add(hosts[0]);
    }
    // 8 blocks over 4 weighted hosts: the ring spreads them, not everything on one host
    assertThat(seen.size()).isGreaterThan(1);
  }

  @Test
  public void rangeInTheMiddleGetsTheSameHostsAsTheWholeFile() throws IOException {
    try (FileSystem fs = newFs("worker-1,worker-2,worker-3", 1)) {
      BlockLocation[] all = locate(fs);
      FileStatus st = fs.getFileStatus(file);
      BlockLocation[] part = fs.getFileBlockLocations(st, 3 * MB + 10, 10);
      assertThat(part).hasSize(1);
      assertThat(part[0].getOffset()).isEqualTo(3 * MB);
      assertThat(part[0].getHosts()).containsExactly(all[3].getHosts());
      for (BlockLocation l : all) {
        assertThat(l.getHosts()).hasSize(1);
      }
    }
  }

  @Test
  public void withoutNodeListEveryBlockIsOnLocalhost() throws IOException {
    try (FileSystem fs = newFs(null, 0)) {
      BlockLocation[] locs = locate(fs);
      assertThat(locs).hasSize(8);
      for (BlockLocation l : locs) {
        assertThat(l.getHosts()).containsExactly("localhost");
      }
    }
  }

  @Test
  public void malformedNodeListFailsInitialize() {
    assertThatThrownBy(() -> newFs("worker-1,worker-2:heavy", 1).close())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("worker-2:heavy");
    assertThatThrownBy(() -> newFs("worker-1", 9).close())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cache-replicas");
  }
}
