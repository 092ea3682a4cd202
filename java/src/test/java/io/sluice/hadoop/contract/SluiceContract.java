package io.sluice.hadoop.contract;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.contract.AbstractBondedFSContract;

/**
 * Binds Hadoop's contract suites to sluice://: the options in contract/sluice.xml and a test
 * volume formatted once per JVM by {@link SluiceTestVolume}.
 */
public class SluiceContract extends AbstractBondedFSContract {
  public static final String CONTRACT_XML = "contract/sluice.xml";

  public SluiceContract(Configuration conf) {
    super(SluiceTestVolume.configure(conf));
    addConfResource(CONTRACT_XML);
  }

  @Override
  public String getScheme() {
    return "sluice";
  }
}
