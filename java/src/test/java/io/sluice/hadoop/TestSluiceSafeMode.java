package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.SafeMode;
import org.apache.hadoop.fs.SafeModeAction;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * SafeMode on sluice://: a volume has no safe mode, so it is never reported on and ENTER is
 * refused. Hadoop's AbstractContractSafeModeTest is not run: it requires ENTER to succeed.
 */
public class TestSluiceSafeMode {
  private FileSystem fs;

  @Before
  public void setUp() throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    fs = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
  }

  @After
  public void tearDown() throws IOException {
    if (fs != null) {
      fs.close();
    }
  }

  @Test
  public void neverInSafeMode() throws IOException {
    assertThat(fs).isInstanceOf(SafeMode.class);
    SafeMode sm = (SafeMode) fs;
    assertThat(sm.setSafeMode(SafeModeAction.GET)).isFalse();
    assertThat(sm.setSafeMode(SafeModeAction.LEAVE)).isFalse();
    assertThat(sm.setSafeMode(SafeModeAction.FORCE_EXIT)).isFalse();
    assertThat(sm.setSafeMode(SafeModeAction.GET, true)).isFalse();
  }

  @Test
  public void enterIsRefusedAndChangesNothing() throws IOException {
    SafeMode sm = (SafeMode) fs;
    assertThatThrownBy(() -> sm.setSafeMode(SafeModeAction.ENTER))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("no safe mode")
        .hasMessageContaining("sluice.read-only");
    assertThat(sm.setSafeMode(SafeModeAction.GET)).isFalse();
    // the volume still takes writes
    Path p = new Path("/safemode-" + System.nanoTime());
    assertThat(fs.mkdirs(p)).isTrue();
    assertThat(fs.delete(p, true)).isTrue();
  }
}
