package io.sluice.hadoop;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.After;
import org.junit.Before;

/**
 * A test class on the test volume: each test gets a FileSystem of its own (fs) and a new
 * directory (dir), which is removed, and fs closed, after it.
 */
public abstract class VolumeTestBase {
  private final String dirPrefix;
  protected FileSystem fs;
  protected Path dir;

  /** @param dirPrefix the start of each test's directory name, e.g. "/stats-" */
  protected VolumeTestBase(String dirPrefix) {
    this.dirPrefix = dirPrefix;
  }

  /** The settings of fs: the test volume's, to which a test class may add its own. */
  protected Configuration configure(Configuration volume) {
    return volume;
  }

  @Before
  public final void openVolume() throws IOException {
    fs = SluiceTestVolume.newFileSystem(configure(SluiceTestVolume.configure(new Configuration())));
    dir = SluiceTestVolume.freshDir(fs, dirPrefix);
  }

  @After
  public final void removeDirAndClose() throws IOException {
    SluiceTestVolume.removeAndClose(fs, dir);
  }
}
