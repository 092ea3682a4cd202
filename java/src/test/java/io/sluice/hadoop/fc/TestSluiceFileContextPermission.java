package io.sluice.hadoop.fc;

import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileContextPermissionBase;

/** Hadoop's FileContext permission suite on sluice://. */
public class TestSluiceFileContextPermission extends FileContextPermissionBase {
  @Override
  protected FileContext getFileContext() throws Exception {
    return SluiceFileContexts.fileContext();
  }
}
