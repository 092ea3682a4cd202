package io.sluice.hadoop.fc;

import org.apache.hadoop.fs.FileContextURIBase;
import org.junit.Before;

/**
 * Hadoop's FileContextURIBase on sluice://: fc1 and fc2 are two FileContexts, each with its own
 * AbstractFileSystem and so its own volume handle; each case does something through one and
 * checks it through the other (getFsStatus's used space included).
 */
public class TestSluiceFileContextURI extends FileContextURIBase {
  @Override
  @Before
  public void setUp() throws Exception {
    fc1 = SluiceFileContexts.fileContext();
    fc2 = SluiceFileContexts.fileContext();
    super.setUp();
  }
}
