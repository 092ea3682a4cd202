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
 *
 * <p>The FileSystem comes the normal way (no fs.sluice.impl: META-INF/services names
 * SluiceFileSystem, which loads on any Hadoop 3.3.x), and on this Hadoop (3.3.6) it must still
 * be the SafeMode class. tests/hadoop-compat.sh checks the same on the real jars of older and
 * newer Hadoop versions.
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
  public void thisHadoopGetsTheSafeModeClassWithoutFsSluiceImpl() throws IOException {
    assertThat(HadoopCompat.fileSystemClass()).isEqualTo(SluiceFileSystem336.class);
    Configuration conf = new Configuration();
    assertThat(FileSystem.getFileSystemClass(SluiceConstants.SCHEME, conf))
        .isEqualTo(SluiceFileSystem336.class);
    // from the jar's default resource, which a site file or conf.set would override
    assertThat(conf.getPropertySources(SluiceConstants.FS_SLUICE_IMPL))
        .containsExactly(HadoopCompat.DEFAULTS_336);
    assertThat(SluiceConstants.FS_SLUICE_IMPL_336).isEqualTo(SluiceFileSystem336.class.getName());
    assertThat(fs.getClass()).isEqualTo(SluiceFileSystem336.class);
    assertThat(HadoopCompat.lackingWarning((SluiceFileSystem) fs, conf)).isNull();
  }

  @Test
  public void theEverywhereClassNamedExplicitlyWorksAndIsWarnedAbout() throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set(SluiceConstants.FS_SLUICE_IMPL, SluiceConstants.FS_SLUICE_IMPL_DEFAULT);
    try (FileSystem base = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS),
        conf)) {
      assertThat(base.getClass()).isEqualTo(SluiceFileSystem.class);
      assertThat(base).isNotInstanceOf(SafeMode.class);
      assertThat(base.exists(new Path("/"))).isTrue();
      assertThat(HadoopCompat.lackingWarning((SluiceFileSystem) base, conf))
          .contains("fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem)")
          .contains("Set fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem336")
          .contains("SafeMode");
    }
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
