package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CompositeCrcFileChecksum;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.SafeMode;
import org.apache.hadoop.fs.SafeModeAction;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.statistics.IOStatisticsSource;
import org.apache.hadoop.io.IOUtils;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * SafeMode on sluice://: a volume has no safe mode, so it is never reported on and ENTER is
 * refused. Hadoop's AbstractContractSafeModeTest is not run: it requires ENTER to succeed.
 *
 * <p>The FileSystem comes the normal way (no fs.sluice.impl: META-INF/services names
 * SluiceFileSystem210, which loads on any Hadoop from 2.10 on), and on this Hadoop (3.3.6) it
 * must still be the SafeMode class. tests/hadoop-compat.sh checks the same on the real jars of older and
 * newer Hadoop versions.
 */
public class TestSluiceSafeMode {
  private FileSystem fs;

  @Before
  public void setUp() throws IOException {
    fs = SluiceTestVolume.newFileSystem(SluiceTestVolume.configure(new Configuration()));
  }

  /** A FileSystem of the test volume with fs.sluice.impl set to className, which must be impl's. */
  private static FileSystem newInstanceNaming(String className, Class<? extends FileSystem> impl)
      throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set(SluiceConstants.FS_SLUICE_IMPL, className);
    FileSystem named = SluiceTestVolume.newFileSystem(conf);
    assertThat(named.getClass()).isEqualTo(impl);
    return named;
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
    try (FileSystem base = newInstanceNaming(SluiceConstants.FS_SLUICE_IMPL_DEFAULT,
        SluiceFileSystem.class)) {
      assertThat(base).isNotInstanceOf(SafeMode.class);
      assertThat(base.exists(new Path("/"))).isTrue();
      assertThat(HadoopCompat.lackingWarning((SluiceFileSystem) base, base.getConf()))
          .contains("fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem)")
          .contains("Set fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem336")
          .contains("SafeMode");
    }
  }

  /**
   * The class for Hadoop 2.10 (the services file's) serves every operation on this Hadoop too,
   * without the 3.x interfaces, and is warned about; its checksum equals Hadoop's class's.
   */
  @Test
  public void theHadoop210ClassNamedExplicitlyWorksAndIsWarnedAbout() throws IOException {
    try (FileSystem base = newInstanceNaming(SluiceConstants.FS_SLUICE_IMPL_210,
        SluiceFileSystem210.class)) {
      assertThat(base).isNotInstanceOf(IOStatisticsSource.class);
      Path p = new Path("/hadoop210-" + System.nanoTime());
      try (FSDataOutputStream out = base.create(p)) {
        out.write("some data".getBytes(StandardCharsets.UTF_8));
        out.hflush();
        assertThat(out.hasCapability(StreamCapabilities.HFLUSH)).isTrue();
        assertThat(out.hasCapability(StreamCapabilities.IOSTATISTICS)).isFalse();
      }
      try (FSDataInputStream in = base.open(p)) {
        byte[] b = new byte[9];
        in.readFully(0, b);
        assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("some data");
        assertThat(in.hasCapability(StreamCapabilities.PREADBYTEBUFFER)).isTrue();
        assertThat(in.hasCapability(StreamCapabilities.IOSTATISTICS)).isFalse();
      }
      FileChecksum own = base.getFileChecksum(p);
      FileChecksum hadoops = fs.getFileChecksum(p);
      assertThat(own).isInstanceOf(SluiceCompositeCrc32c.class);
      assertThat(hadoops).isInstanceOf(CompositeCrcFileChecksum.class);
      assertThat(own).isEqualTo(hadoops);
      assertThat(own.toString()).isEqualTo(hadoops.toString());
      assertThat(own.getChecksumOpt().getChecksumType())
          .isEqualTo(hadoops.getChecksumOpt().getChecksumType());
      assertThat(base.delete(p, false)).isTrue();
      assertThat(HadoopCompat.lackingWarning((SluiceFileSystem210) base, base.getConf()))
          .contains("fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem210)")
          .contains("Set fs.sluice.impl = io.sluice.hadoop.SluiceFileSystem336")
          .contains("IOStatistics")
          .contains("SafeMode");
    }
  }

  @Test
  public void theServicesFileNamesTheClassThatLoadsEverywhere() throws IOException {
    try (InputStream in = SluiceFileSystem210.class.getResourceAsStream(
        "/META-INF/services/org.apache.hadoop.fs.FileSystem")) {
      String names = new String(IOUtils.readFullyToByteArray(new DataInputStream(in)),
          StandardCharsets.UTF_8);
      assertThat(names.trim()).isEqualTo(SluiceConstants.FS_SLUICE_IMPL_210);
    }
    assertThat(HadoopCompat.defaultResource(SluiceFileSystem210.class)).isNull();
    assertThat(HadoopCompat.defaultResource(SluiceFileSystem.class))
        .isEqualTo(HadoopCompat.DEFAULTS_331);
    Configuration only331 = new Configuration(false);
    only331.addResource(HadoopCompat.DEFAULTS_331);
    assertThat(only331.get(SluiceConstants.FS_SLUICE_IMPL))
        .isEqualTo(SluiceConstants.FS_SLUICE_IMPL_DEFAULT);
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
