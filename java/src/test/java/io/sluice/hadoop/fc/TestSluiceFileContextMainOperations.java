package io.sluice.hadoop.fc;

import org.apache.hadoop.fs.FileContextMainOperationsBaseTest;
import org.junit.Before;

/** Hadoop's FileContext main-operations suite on sluice:// (through io.sluice.hadoop.Sluice). */
public class TestSluiceFileContextMainOperations extends FileContextMainOperationsBaseTest {
  @Override
  @Before
  public void setUp() throws Exception {
    fc = SluiceFileContexts.fileContext();
    super.setUp();
  }

  /** No HDFS-style corrupt-block listing: blocks are checked natively when read. */
  @Override
  protected boolean listCorruptedBlocksSupported() {
    return false;
  }
}
