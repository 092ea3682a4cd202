package io.sluice.hadoop.contract;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Options.HandleOpt;
import org.apache.hadoop.fs.contract.AbstractContractPathHandleTest;
import org.apache.hadoop.fs.contract.AbstractFSContract;

/**
 * Hadoop's PathHandle contract suite on sluice://: exact, content, path and reference handles,
 * each used directly and after a round trip through its bytes.
 */
public class TestSluiceContractPathHandle extends AbstractContractPathHandleTest {
  public TestSluiceContractPathHandle(String testname, HandleOpt[] opts, boolean serialized) {
    super(testname, opts, serialized);
  }

  @Override
  protected AbstractFSContract createContract(Configuration conf) {
    return new SluiceContract(conf);
  }
}
