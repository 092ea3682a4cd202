package io.sluice.hadoop.fc;

import org.apache.hadoop.fs.FileContextCreateMkdirBaseTest;
import org.junit.Before;

/** Hadoop's FileContext create/mkdir suite on sluice://. */
public class TestSluiceFileContextCreateMkdir extends FileContextCreateMkdirBaseTest {
  @Override
  @Before
  public void setUp() throws Exception {
    fc = SluiceFileContexts.fileContext();
    super.setUp();
  }
}
