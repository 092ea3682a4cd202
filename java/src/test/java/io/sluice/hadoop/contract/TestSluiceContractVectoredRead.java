package io.sluice.hadoop.contract;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.contract.AbstractContractVectoredReadTest;
import org.apache.hadoop.fs.contract.AbstractFSContract;

/**
 * Hadoop's vectored read contract suite on sluice://, run once with heap and once with direct
 * buffers (the suite's parameter): the direct run exercises the zero-copy native pread.
 */
public class TestSluiceContractVectoredRead extends AbstractContractVectoredReadTest {
  public TestSluiceContractVectoredRead(String bufferType) {
    super(bufferType);
  }

  @Override
  protected AbstractFSContract createContract(Configuration conf) {
    return new SluiceContract(conf);
  }
}
