package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.protocol.SnapshotException;
import org.apache.hadoop.io.IOUtils;
import org.apache.hadoop.security.AccessControlException;
import org.junit.Before;
import org.junit.Test;

/**
 * Directory snapshots through the FileSystem API and FsShell, as HDFS has them: createSnapshot
 * (with HDFS's default name), renameSnapshot, deleteSnapshot; the snapshot read under
 * DIR/.snapshot/NAME keeps the tree as it was, refuses changes, and only the directory's owner
 * manages it; a directory with snapshots cannot be deleted.
 */
public class TestSluiceSnapshots extends TwoUsersVolumeTestBase {
  public TestSluiceSnapshots() {
    super("snapvol");
  }

  @Before
  public void makeDirectory() throws Exception {
    alice.mkdirs(new Path("/data/sub"), new FsPermission((short) 0755));
  }

  private static void write(FileSystem fs, String path, String text) throws IOException {
    try (FSDataOutputStream out = fs.create(new Path(path), true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static String read(FileSystem fs, String path) throws IOException {
    byte[] buf = new byte[(int) fs.getFileStatus(new Path(path)).getLen()];
    try (FSDataInputStream in = fs.open(new Path(path))) {
      IOUtils.readFully(in, buf, 0, buf.length);
    }
    return new String(buf, StandardCharsets.UTF_8);
  }

  private static List<String> names(FileSystem fs, String dir) throws IOException {
    List<String> r = new ArrayList<>();
    for (FileStatus st : fs.listStatus(new Path(dir))) {
      r.add(st.getPath().getName());
    }
    return r;
  }

  @Test
  public void snapshotKeepsTheTreeAsItWas() throws Exception {
    write(alice, "/data/f", "one");
    write(alice, "/data/sub/g", "gee");
    Path made = alice.createSnapshot(new Path("/data"), "s1");
    assertThat(made).isEqualTo(new Path("/data/.snapshot/s1"));

    write(alice, "/data/f", "two");
    alice.delete(new Path("/data/sub"), true);
    write(alice, "/data/new", "new");
    assertThat(read(alice, "/data/.snapshot/s1/f")).isEqualTo("one");
    assertThat(read(bob, "/data/.snapshot/s1/sub/g")).isEqualTo("gee");
    assertThat(read(alice, "/data/f")).isEqualTo("two");
    assertThat(names(alice, "/data/.snapshot/s1")).containsExactly("f", "sub");
    assertThat(names(alice, "/data/.snapshot")).containsExactly("s1");
    assertThat(names(alice, "/data")).containsExactly("f", "new");
    assertThat(alice.getFileStatus(new Path("/data/.snapshot/s1/f")).getLen()).isEqualTo(3);
    assertThat(alice.exists(new Path("/data/.snapshot/s1/new"))).isFalse();
  }

  @Test
  public void snapshotsAreReadOnlyAndOnlyTheOwnerManagesThem() throws Exception {
    write(alice, "/data/f", "one");
    alice.createSnapshot(new Path("/data"), "s1");
    assertThatThrownBy(() -> write(alice, "/data/.snapshot/s1/g", "x"))
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> alice.append(new Path("/data/.snapshot/s1/f")).close())
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> alice.delete(new Path("/data/.snapshot/s1/f"), false))
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> alice.rename(new Path("/data/.snapshot/s1/f"), new Path("/f")))
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> alice.mkdirs(new Path("/data/sub/.snapshot")))
        .isInstanceOf(IOException.class).hasMessageContaining("reserved");

    assertThatThrownBy(() -> bob.createSnapshot(new Path("/data"), "mine"))
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> bob.deleteSnapshot(new Path("/data"), "s1"))
        .isInstanceOf(AccessControlException.class);
    assertThatThrownBy(() -> alice.createSnapshot(new Path("/data"), "s1"))
        .isInstanceOf(IOException.class).hasMessageContaining("already");

    // as HDFS: a directory with snapshots stays until they are deleted
    assertThatThrownBy(() -> alice.delete(new Path("/data"), true))
        .isInstanceOf(SnapshotException.class).hasMessageContaining("has snapshots");
    alice.renameSnapshot(new Path("/data"), "s1", "s2");
    assertThat(read(alice, "/data/.snapshot/s2/f")).isEqualTo("one");
    assertThat(alice.exists(new Path("/data/.snapshot/s1"))).isFalse();
    alice.deleteSnapshot(new Path("/data"), "s2");
    assertThat(alice.exists(new Path("/data/.snapshot"))).isFalse();
    assertThat(alice.delete(new Path("/data"), true)).isTrue();
  }

  @Test
  public void defaultNamesAndFsShell() throws Exception {
    write(alice, "/data/f", "one");
    Path made = alice.createSnapshot(new Path("/data"));
    assertThat(made.getName()).matches("s\\d{8}-\\d{6}\\.\\d{3}");
    assertThat(read(alice, made + "/f")).isEqualTo("one");

    assertThat(shell("-createSnapshot", "/data", "byshell"))
        .contains("Created snapshot /data/.snapshot/byshell");
    shell("-renameSnapshot", "/data", "byshell", "renamed");
    assertThat(shell("-ls", "/data/.snapshot")).contains("/data/.snapshot/renamed")
        .contains("/data/.snapshot/" + made.getName());
    shell("-deleteSnapshot", "/data", "renamed");
    assertThat(names(alice, "/data/.snapshot")).containsExactly(made.getName());
  }
}
