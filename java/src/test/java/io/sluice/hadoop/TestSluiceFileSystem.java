package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.XAttrSetFlag;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.Test;

/** The operations of SluiceFileSystem that Hadoop's contract suites do not cover. */
public class TestSluiceFileSystem extends VolumeTestBase {
  public TestSluiceFileSystem() {
    super("/unit-");
  }

  @Override
  protected Configuration configure(Configuration conf) {
    conf.set("sluice.testvol.block.size", "1M"); // per-volume key wins over sluice.block.size
    conf.set("sluice.block.size", "64M");
    return conf;
  }

  private byte[] write(Path p, int len) throws IOException {
    byte[] data = new byte[len];
    for (int i = 0; i < len; i++) {
      data[i] = (byte) (i * 31 + 7);
    }
    try (FSDataOutputStream out = fs.create(p)) {
      out.write(data);
    }
    return data;
  }

  @Test
  public void blockLocationsFollowTheLogicalBlockSize() throws IOException {
    Path p = new Path(dir, "blocks");
    write(p, 2 * 1024 * 1024 + 100);
    FileStatus st = fs.getFileStatus(p);
    assertThat(st.getBlockSize()).isEqualTo(1024 * 1024);
    assertThat(fs.getDefaultBlockSize(p)).isEqualTo(1024 * 1024);
    BlockLocation[] locs = fs.getFileBlockLocations(st, 0, st.getLen());
    assertThat(locs).hasSize(3);
    assertThat(locs[2].getOffset()).isEqualTo(2 * 1024 * 1024);
    assertThat(locs[2].getLength()).isEqualTo(100);
    assertThat(locs[0].getHosts()).containsExactly("localhost");
    assertThat(fs.getFileBlockLocations(st, st.getLen(), 10)).isEmpty();
  }

  @Test
  public void xattrs() throws IOException {
    Path p = new Path(dir, "x");
    write(p, 10);
    byte[] v = "v1".getBytes(StandardCharsets.UTF_8);
    fs.setXAttr(p, "user.a", v, EnumSet.of(XAttrSetFlag.CREATE));
    assertThatThrownBy(() -> fs.setXAttr(p, "user.a", v, EnumSet.of(XAttrSetFlag.CREATE)))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> fs.setXAttr(p, "user.b", v, EnumSet.of(XAttrSetFlag.REPLACE)))
        .isInstanceOf(IOException.class);
    fs.setXAttr(p, "user.b", "v2".getBytes(StandardCharsets.UTF_8));
    assertThat(fs.getXAttr(p, "user.a")).isEqualTo(v);
    assertThat(fs.listXAttrs(p)).containsExactlyInAnyOrder("user.a", "user.b");
    assertThat(fs.getXAttrs(p)).containsOnlyKeys("user.a", "user.b");
    fs.removeXAttr(p, "user.a");
    assertThat(fs.listXAttrs(p)).containsExactly("user.b");
    assertThatThrownBy(() -> fs.getXAttr(p, "user.a")).isInstanceOf(IOException.class);
  }

  @Test
  public void truncatePermissionsOwnerStatus() throws IOException {
    Path p = new Path(dir, "t");
    write(p, 1000);
    assertThat(fs.truncate(p, 10)).isTrue();
    assertThat(fs.getFileStatus(p).getLen()).isEqualTo(10);
    assertThatThrownBy(() -> fs.truncate(p, 11)).isInstanceOf(IllegalArgumentException.class);
    fs.setPermission(p, new FsPermission((short) 0640));
    assertThat(fs.getFileStatus(p).getPermission().toShort()).isEqualTo((short) 0640);
    FileStatus st = fs.getFileStatus(p);
    fs.setOwner(p, st.getOwner(), st.getGroup());
    assertThat(fs.listStatus(p)).hasSize(1); // a file lists itself
    FsStatus status = fs.getStatus();
    assertThat(status.getCapacity()).isPositive();
    assertThat(fs.getContentSummary(dir).getFileCount()).isEqualTo(1);
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_XATTRS)).isTrue();
    assertThat(fs.hasPathCapability(p, CommonPathCapabilities.FS_SYMLINKS)).isFalse();
    assertThat(fs.getHomeDirectory().toUri().getPath()).startsWith("/user/");
  }

  /**
   * Each instance (volume handle) counts usage in memory and flushes it about once a second;
   * getStatus() flushes every instance of the process first, so a second instance sees the
   * first one's writes and deletes at once (FileContextURIBase#testFileStatus depends on it).
   */
  @Test
  public void usedSpaceIsCurrentAcrossInstances() throws IOException {
    try (FileSystem other =
        SluiceTestVolume.newFileSystem(SluiceTestVolume.configure(new Configuration()))) {
      long before = fs.getStatus().getUsed();
      Path p = new Path(dir, "used");
      write(p, 1 << 20);
      assertThat(other.getStatus().getUsed()).isEqualTo(before + (1 << 20));
      assertThat(other.delete(p, false)).isTrue();
      assertThat(fs.getStatus().getUsed()).isEqualTo(before);
    }
  }

  @Test
  public void hflushIsVisibleToANewReaderAndStreamsCloseWithTheFileSystem() throws IOException {
    Path p = new Path(dir, "wal");
    FSDataOutputStream out = fs.create(p);
    out.write(new byte[] {1, 2, 3});
    out.hflush();
    assertThat(out.hasCapability("hflush")).isTrue();
    try (FSDataInputStream in = fs.open(p)) {
      ByteBuffer direct = ByteBuffer.allocateDirect(8);
      assertThat(in.read(direct)).isEqualTo(3);
      direct.clear();
      assertThat(in.read(1, direct)).isEqualTo(2);
      assertThat(in.read(3, direct)).isEqualTo(-1);
      assertThat(direct.get(0)).isEqualTo((byte) 2);
    }
    FSDataInputStream left = fs.open(p);
    fs.close();
    assertThatThrownBy(() -> out.write(4)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> left.read()).isInstanceOf(IOException.class);
    out.close(); // idempotent
    left.close();
    fs = SluiceTestVolume.newFileSystem(SluiceTestVolume.configure(new Configuration()));
    assertThat(fs.getFileStatus(p).getLen()).isEqualTo(3);
  }
}
