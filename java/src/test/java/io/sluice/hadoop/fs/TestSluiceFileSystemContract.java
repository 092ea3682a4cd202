package io.sluice.hadoop.fs;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileSystemContractBaseTest;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.After;
import org.junit.Before;

/**
 * Hadoop's FileSystemContractBaseTest on SluiceFileSystem, on the contract suites' volume. Each
 * case gets its own instance (not the cached one): the suite changes the working directory and
 * the umask in the instance's Configuration.
 */
public class TestSluiceFileSystemContract extends FileSystemContractBaseTest {
  @Before
  public void setUp() throws Exception {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    fs = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
  }

  /** As HDFS: the home directory follows the UGI's user, not the JVM's user.name. */
  @Override
  protected String getDefaultWorkingDirectory() {
    try {
      return "/user/" + UserGroupInformation.getCurrentUser().getShortUserName();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  @After
  public void tearDown() throws Exception {
    try {
      super.tearDown();
    } finally {
      if (fs != null) {
        fs.close();
      }
    }
  }
}
