package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.AclEntry;
import org.apache.hadoop.fs.permission.AclStatus;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.AccessControlException;
import org.junit.Before;
import org.junit.Test;

/**
 * POSIX ACLs through the FileSystem API and FsShell, by HDFS's rules (the cases of HDFS's
 * FSAclBaseTest that do not need a NameNode): the entries getAclStatus lists, the mask, default
 * ACLs and their inheritance, HDFS's AclException reasons, enforcement for another user, and
 * `hadoop fs -setfacl/-getfacl`. The volume is formatted with --enable-acl by the sluice CLI.
 */
public class TestSluiceAcls extends TwoUsersVolumeTestBase {
  public TestSluiceAcls() {
    super("aclvol", "--enable-acl");
  }

  @Before
  public void makeDirectory() throws Exception {
    alice.mkdirs(new Path("/acl"), new FsPermission((short) 0700));
  }

  private static List<AclEntry> spec(String text) {
    return AclEntry.parseAclSpec(text, true);
  }

  @Test
  public void namedEntriesMaskAndEnforcement() throws Exception {
    Path f = new Path("/acl/f");
    try (FSDataOutputStream out = alice.create(f)) {
      out.write("secret".getBytes(StandardCharsets.UTF_8));
    }
    alice.setPermission(f, new FsPermission((short) 0600));
    alice.modifyAclEntries(new Path("/acl"), spec("user:bob:r-x"));
    assertThatThrownBy(() -> bob.open(f).close()).isInstanceOf(AccessControlException.class);

    alice.modifyAclEntries(f, spec("user:bob:r--"));
    bob.open(f).close();
    assertThatThrownBy(() -> bob.append(f).close()).isInstanceOf(AccessControlException.class);
    AclStatus s = alice.getAclStatus(f);
    assertThat(s.getEntries()).containsExactlyElementsOf(spec("user:bob:r--,group::---"));
    assertThat(s.getPermission().toShort()).isEqualTo((short) 0640); // group bits: the mask
    assertThat(s.getOwner()).isEqualTo("alice");
    assertThat(s.getEffectivePermission(s.getEntries().get(0))).isNotNull();

    // chmod moves the mask: 0600 leaves bob nothing
    alice.setPermission(f, new FsPermission((short) 0600));
    assertThatThrownBy(() -> bob.open(f).close()).isInstanceOf(AccessControlException.class);
    // only the owner changes an ACL
    assertThatThrownBy(() -> bob.modifyAclEntries(f, spec("user:bob:rwx")))
        .isInstanceOf(AccessControlException.class);
    alice.removeAcl(f);
    assertThat(alice.getAclStatus(f).getEntries()).isEmpty();
    assertThat(alice.getFileStatus(f).getPermission().toShort()).isEqualTo((short) 0600);
  }

  @Test
  public void defaultAclsAreInherited() throws Exception {
    Path d = new Path("/acl/shared");
    alice.mkdirs(d, new FsPermission((short) 0750));
    alice.modifyAclEntries(new Path("/acl"), spec("user:bob:--x"));
    alice.modifyAclEntries(d, spec("user:bob:r-x,default:user:bob:rw-"));
    AclStatus s = alice.getAclStatus(d);
    assertThat(s.getEntries()).contains(AclEntry.parseAclEntry("default:user:bob:rw-", true),
        AclEntry.parseAclEntry("default:mask::rwx", true));
    Path f = new Path(d, "new");
    try (FSDataOutputStream out = alice.create(f)) { // 0666 asked for, no umask applied
      out.write(1);
    }
    assertThat(alice.getFileStatus(f).getPermission().toShort()).isEqualTo((short) 0660);
    bob.append(f).close(); // bob's rw- under the mask rw-
    assertThat(alice.getAclStatus(f).getEntries()).contains(
        AclEntry.parseAclEntry("user:bob:rw-", true));
    alice.removeDefaultAcl(d);
    assertThat(alice.getAclStatus(d).getEntries()).containsExactlyElementsOf(
        spec("user:bob:r-x,group::r-x"));
  }

  @Test
  public void invalidAclsAreRefusedAsHdfsRefusesThem() throws Exception {
    Path f = new Path("/acl/g");
    alice.create(f).close();
    assertThatThrownBy(() -> alice.setAcl(f, spec("user::rwx")))
        .hasMessageContaining("Invalid ACL: the user, group and other entries are required.");
    assertThatThrownBy(() -> alice.modifyAclEntries(f, spec("default:user:bob:rwx")))
        .hasMessageContaining("Invalid ACL: only directories may have a default ACL.");
    alice.setAcl(f, spec("user::rw-,group::r--,other::---,user:bob:rw-"));
    assertThat(alice.getAclStatus(f).getEntries())
        .containsExactlyElementsOf(spec("user:bob:rw-,group::r--"));
    assertThat(alice.getFileStatus(f).getPermission().toShort()).isEqualTo((short) 0660);
    assertThatThrownBy(() -> alice.removeAclEntries(f, AclEntry.parseAclSpec("mask::", false)))
        .hasMessageContaining("Invalid ACL: mask is required and cannot be deleted.");
  }

  /**
   * Spark's TRUNCATE TABLE reads getAclStatus before it deletes a partition and puts the ACL back
   * after it, unless getAclStatus fails, as it does on HDFS with ACLs disabled. On a volume
   * without ACLs every ACL call, getAclStatus too, must fail (UnsupportedOperationException).
   */
  @Test
  public void volumeWithoutAclsRefusesAclCallsAsHdfsWithAclsOff() throws Exception {
    File dir = tmp.newFolder("noacl");
    String plainMeta = "sqlite3://" + new File(dir, "meta.db").getAbsolutePath();
    TestProcesses.run(Collections.<String, String>emptyMap(), TestProcesses.cli(), "format",
        plainMeta, "noaclvol", "--storage", "file", "--bucket",
        new File(dir, "data").getAbsolutePath() + "/", "--trash-days", "0");
    try (FileSystem fs = FileSystem.newInstance(URI.create("sluice://noaclvol/"),
        TestProcesses.volumeConf("noaclvol", plainMeta))) {
      Path part = new Path("/warehouse/t/p=0");
      fs.mkdirs(part);
      assertThatThrownBy(() -> fs.getAclStatus(part))
          .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("ACLs are off");
      assertThatThrownBy(() -> fs.modifyAclEntries(part, spec("user:bob:r--")))
          .isInstanceOf(UnsupportedOperationException.class);
      // what TRUNCATE TABLE then does: delete, mkdirs, the permission put back
      FsPermission perm = fs.getFileStatus(part).getPermission();
      fs.delete(part, true);
      fs.mkdirs(part);
      fs.setPermission(part, perm);
      assertThat(fs.getFileStatus(part).getPermission()).isEqualTo(perm);
    }
  }

  @Test
  public void fsShellSetfaclAndGetfacl() throws Exception {
    Path f = new Path("/acl/shell");
    alice.create(f).close();
    String out = shell("-setfacl", "-m", "user:bob:r--", "/acl/shell");
    out = shell("-getfacl", "/acl/shell");
    assertThat(out).contains("# owner: alice", "user:bob:r--", "mask::r--", "other::r--");
    shell("-setfacl", "-b", "/acl/shell");
    assertThat(shell("-getfacl", "/acl/shell")).doesNotContain("user:bob");
  }
}
