package io.sluice.hadoop.fc;

import io.sluice.hadoop.SluiceConstants;
import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;

/**
 * FileContexts on the per-JVM test volume of the contract suites ({@link SluiceTestVolume}),
 * bound through the documented fs.AbstractFileSystem.sluice.impl key (AbstractFileSystems are
 * not found through META-INF/services).
 */
final class SluiceFileContexts {
  private SluiceFileContexts() {}

  static Configuration conf() {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set(SluiceConstants.FS_ABSTRACT_SLUICE_IMPL,
        SluiceConstants.FS_ABSTRACT_SLUICE_IMPL_DEFAULT);
    return conf;
  }

  static FileContext fileContext() throws IOException {
    return FileContext.getFileContext(URI.create(SluiceTestVolume.DEFAULT_FS), conf());
  }
}
