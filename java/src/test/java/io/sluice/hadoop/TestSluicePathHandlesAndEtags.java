package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.PrivilegedExceptionAction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.EtagSource;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.InvalidPathHandleException;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Options.HandleOpt;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathHandle;
import org.apache.hadoop.fs.RawPathHandle;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.Before;
import org.junit.Test;

/**
 * Path handles and etags beyond Hadoop's suites: permissions on handles that follow renames,
 * handles that are not ours, and etags through truncate, append and listings.
 */
public class TestSluicePathHandlesAndEtags extends VolumeTestBase {
  private static final URI VOLUME = URI.create(SluiceTestVolume.DEFAULT_FS);

  public TestSluicePathHandlesAndEtags() {
    super("/handles-");
  }

  @Before
  public void openDirToAll() throws IOException {
    fs.setPermission(dir, new FsPermission((short) 0777));
  }

  private void write(Path p, byte[] data, boolean append) throws IOException {
    try (FSDataOutputStream out = append ? fs.append(p) : fs.create(p, true)) {
      out.write(data);
    }
  }

  private static byte[] readAll(FSDataInputStream in) throws IOException {
    try (FSDataInputStream i = in) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] b = new byte[4096];
      int n;
      while ((n = i.read(b)) > 0) {
        out.write(b, 0, n);
      }
      return out.toByteArray();
    }
  }

  private static String etag(FileStatus st) {
    assertThat(st).isInstanceOf(EtagSource.class);
    return ((EtagSource) st).getEtag();
  }

  @Test
  public void capabilities() throws IOException {
    assertThat(fs.hasPathCapability(dir, CommonPathCapabilities.FS_PATHHANDLES)).isTrue();
    assertThat(fs.hasPathCapability(dir, CommonPathCapabilities.ETAGS_AVAILABLE)).isTrue();
    assertThat(fs.hasPathCapability(dir, CommonPathCapabilities.ETAGS_PRESERVED_IN_RENAME))
        .isTrue();
  }

  @Test
  public void etagsFollowTheContent() throws IOException {
    Path p = new Path(dir, "f");
    write(p, "0123456789".getBytes("UTF-8"), false);
    String e1 = etag(fs.getFileStatus(p));
    assertThat(e1).isNotBlank();
    assertThat(etag(fs.getFileStatus(p))).isEqualTo(e1);
    // back to the same length and inode: the mtime (ns) still tells them apart
    assertThat(fs.truncate(p, 5)).isTrue();
    String e2 = etag(fs.getFileStatus(p));
    write(p, "abcde".getBytes("UTF-8"), true);
    String e3 = etag(fs.getFileStatus(p));
    assertThat(fs.getFileStatus(p).getLen()).isEqualTo(10);
    assertThat(e2).isNotEqualTo(e1);
    assertThat(e3).isNotEqualTo(e1).isNotEqualTo(e2);
    // a chmod is no content change; listings agree; directories have none
    fs.setPermission(p, new FsPermission((short) 0600));
    assertThat(etag(fs.getFileStatus(p))).isEqualTo(e3);
    assertThat(etag(fs.listStatus(dir)[0])).isEqualTo(e3);
    LocatedFileStatus located = fs.listFiles(dir, true).next();
    assertThat(etag(located)).isEqualTo(e3);
    assertThat(located.getBlockLocations()).hasSize(1);
    assertThat(etag(fs.getFileStatus(dir))).isNull();
  }

  @Test
  public void statusesKeepTheirInodeThroughJavaSerialization() throws Exception {
    Path p = new Path(dir, "s");
    write(p, new byte[3], false);
    FileStatus st = fs.getFileStatus(p);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(buf)) {
      out.writeObject(st);
    }
    FileStatus back;
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(buf.toByteArray()))) {
      back = (FileStatus) in.readObject();
    }
    assertThat(back).isEqualTo(st);
    assertThat(etag(back)).isEqualTo(etag(st));
    try (FSDataInputStream in = fs.open(fs.getPathHandle(back, HandleOpt.exact()))) {
      assertThat(in.read()).isEqualTo(0);
    }
  }

  @Test
  public void handlesThatFollowRenamesStillCheckPermissions() throws Exception {
    Path sub = new Path(dir, "sub");
    Path p = new Path(sub, "f");
    write(p, "data".getBytes("UTF-8"), false);
    fs.setPermission(p, new FsPermission((short) 0644));
    PathHandle reference = fs.getPathHandle(fs.getFileStatus(p), HandleOpt.reference());
    UserGroupInformation alice =
        UserGroupInformation.createUserForTesting("alice", new String[] {"staff"});
    FileSystem aliceFs = alice.doAs((PrivilegedExceptionAction<FileSystem>) () ->
        FileSystem.newInstance(VOLUME, SluiceTestVolume.configure(new Configuration())));
    try {
      assertThat(readAll(aliceFs.open(reference))).isEqualTo("data".getBytes("UTF-8"));
      // moved into a directory alice may not search: the handle finds it, alice may not read
      Path hidden = new Path(dir, "hidden");
      fs.mkdirs(hidden, new FsPermission((short) 0700));
      fs.setPermission(hidden, new FsPermission((short) 0700));
      assertThat(fs.rename(sub, hidden)).isTrue();
      assertThatThrownBy(() -> aliceFs.open(reference))
          .isInstanceOf(AccessControlException.class);
      assertThat(readAll(fs.open(reference))).isEqualTo("data".getBytes("UTF-8"));
      // a handle made up from an inode number alice could not reach is no way in either
      ByteBuffer forged = ((SluicePathHandle) reference).bytes();
      assertThatThrownBy(() -> aliceFs.open(new RawPathHandle(forged)))
          .isInstanceOf(AccessControlException.class);
      // deleted: nothing to find
      fs.delete(hidden, true);
      assertThatThrownBy(() -> fs.open(reference)).isInstanceOf(FileNotFoundException.class);
    } finally {
      aliceFs.close();
    }
  }

  @Test
  public void handlesThatAreNotOurs() throws IOException {
    Path p = new Path(dir, "g");
    write(p, new byte[1], false);
    FileStatus st = fs.getFileStatus(p);
    FileStatus plain = new FileStatus(st.getLen(), false, 1, st.getBlockSize(),
        st.getModificationTime(), st.getPath());
    assertThatThrownBy(() -> fs.getPathHandle(plain, HandleOpt.exact()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fs.getPathHandle(fs.getFileStatus(dir), HandleOpt.exact()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fs.open(new RawPathHandle(ByteBuffer.wrap(new byte[] {1, 2}))))
        .isInstanceOf(InvalidPathHandleException.class);
    byte[] cut = new byte[10];
    fs.getPathHandle(st, HandleOpt.path()).bytes().get(cut);
    assertThatThrownBy(() -> fs.open(new RawPathHandle(ByteBuffer.wrap(cut))))
        .isInstanceOf(InvalidPathHandleException.class);
    // replaced by a new file at the same path: path() refuses it, content is another inode
    PathHandle path = fs.getPathHandle(st, HandleOpt.path());
    write(p, new byte[1], false);
    assertThatThrownBy(() -> fs.open(path)).isInstanceOf(InvalidPathHandleException.class);
  }
}
