package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.apache.commons.io.IOUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.Test;

/**
 * FileContext on sluice:// with no fs.AbstractFileSystem.sluice.impl setting, as with the Sluice
 * jar on Spark's class path (spark.driver.extraClassPath): once Hadoop has loaded the FileSystem
 * classes of META-INF/services, the jar's default resource binds FileContext. Before, Spark's
 * Structured Streaming found no AbstractFileSystem for sluice, kept its checkpoints through the
 * FileSystem API and warned that their correctness was not guaranteed (issue 11; the Spark job
 * in tests/engines/ runs the streaming query itself).
 */
public class TestSluiceFileContextBinding {
  private static Configuration confWithoutTheKey() throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    FileSystem.getFileSystemClass("file", conf); // Hadoop reads META-INF/services (once per JVM)
    return conf;
  }

  @Test
  public void theJarBindsFileContextByItself() throws IOException {
    Configuration conf = confWithoutTheKey();
    assertThat(conf.get(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL))
        .isEqualTo(Sluice.class.getName())
        .isEqualTo(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL_DEFAULT);
    assertThat(conf.getPropertySources(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL))
        .containsExactly(HadoopCompat.DEFAULTS);
    // a Configuration made afterwards has it too
    assertThat(new Configuration().get(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL))
        .isEqualTo(Sluice.class.getName());
  }

  @Test
  public void checkpointStyleRenamesWorkThroughTheBoundFileContext() throws IOException {
    Configuration conf = confWithoutTheKey();
    FileContext fc = FileContext.getFileContext(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
    assertThat(fc.getDefaultFileSystem()).isInstanceOf(Sluice.class);
    Path dir = new Path("/fc-binding-" + System.nanoTime());
    fc.mkdir(dir, FsPermission.getDirDefault(), true);
    Path dst = new Path(dir, "0");
    // Spark's FileContextBasedCheckpointFileManager: write a temporary file, rename it over the
    // final one (Rename.OVERWRITE)
    for (String content : new String[] {"first", "second"}) {
      Path tmp = new Path(dir, ".0." + content + ".tmp");
      try (FSDataOutputStream out = fc.create(tmp, EnumSet.of(CreateFlag.CREATE))) {
        out.write(content.getBytes(StandardCharsets.UTF_8));
      }
      fc.rename(tmp, dst, Options.Rename.OVERWRITE);
      assertThat(fc.util().exists(tmp)).isFalse();
    }
    try (FSDataInputStream in = fc.open(dst)) {
      assertThat(IOUtils.toString(in, StandardCharsets.UTF_8)).isEqualTo("second");
    }
    assertThat(fc.delete(dir, true)).isTrue();
  }

  @Test
  public void aValueTheUserSetsWins() throws IOException {
    Configuration conf = confWithoutTheKey();
    conf.set(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL, "org.example.OtherFs");
    assertThat(conf.get(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL)).isEqualTo("org.example.OtherFs");
  }
}
