package io.sluice.hadoop.contract;

import static org.apache.hadoop.fs.statistics.StoreStatisticNames.OP_HFLUSH;
import static org.apache.hadoop.fs.statistics.StoreStatisticNames.OP_HSYNC;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_BYTES;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_EXCEPTIONS;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_FULLY_OPERATIONS;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_OPENED;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_OPERATIONS;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_SEEK_OPERATIONS;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_UNBUFFERED;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_VECTORED_INCOMING_RANGES;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_READ_VECTORED_OPERATIONS;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_WRITE_BYTES;
import static org.apache.hadoop.fs.statistics.StreamStatisticNames.STREAM_WRITE_EXCEPTIONS;

import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.contract.AbstractContractStreamIOStatisticsTest;
import org.apache.hadoop.fs.contract.AbstractFSContract;

/**
 * Hadoop's stream IOStatistics contract suite on sluice://. The key lists name every counter
 * the streams keep (SluiceStatistic, scopes INPUT and OUTPUT), so a counter dropped from a
 * stream fails here. Reads are not buffered in Java (the readahead is native and bytes are
 * counted as delivered), so readBufferSize() stays 0 and the suite checks exact byte counts.
 */
public class TestSluiceContractStreamIOStatistics extends AbstractContractStreamIOStatisticsTest {
  @Override
  protected AbstractFSContract createContract(Configuration conf) {
    return new SluiceContract(conf);
  }

  @Override
  public List<String> inputStreamStatisticKeys() {
    return Arrays.asList(STREAM_READ_OPENED, STREAM_READ_BYTES, STREAM_READ_OPERATIONS,
        STREAM_READ_FULLY_OPERATIONS, STREAM_READ_SEEK_OPERATIONS,
        STREAM_READ_VECTORED_OPERATIONS, STREAM_READ_VECTORED_INCOMING_RANGES,
        STREAM_READ_UNBUFFERED, STREAM_READ_EXCEPTIONS);
  }

  @Override
  public List<String> outputStreamStatisticKeys() {
    // "stream_write_operations" has no constant in Hadoop's StreamStatisticNames
    return Arrays.asList(STREAM_WRITE_BYTES, "stream_write_operations", STREAM_WRITE_EXCEPTIONS,
        OP_HFLUSH, OP_HSYNC);
  }
}
