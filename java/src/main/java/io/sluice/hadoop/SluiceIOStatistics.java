package io.sluice.hadoop;

import java.io.Closeable;
import java.util.Collections;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.statistics.IOStatistics;
import org.apache.hadoop.fs.statistics.IOStatisticsSource;
import org.apache.hadoop.fs.statistics.MeanStatistic;

/**
 * {@link SluiceCounters} as Hadoop 3.3's IOStatistics, and the streams that offer them
 * (IOStatisticsSource, which FSDataInputStream and FSDataOutputStream pass on). Only {@link
 * SluiceFileSystem}, which needs Hadoop 3.3.1+ itself, names these classes, so nothing loads
 * them on older Hadoop. Each call to counters() is a snapshot of the current values.
 */
final class SluiceIOStatistics implements IOStatistics {
  private final SluiceCounters counters;
  private final Supplier<Map<String, Long>> more;

  SluiceIOStatistics(SluiceCounters counters) {
    this(counters, Collections::emptyMap);
  }

  /** With more counters (a filesystem's: libsluice's, sluice_stats), read at each call. */
  SluiceIOStatistics(SluiceCounters counters, Supplier<Map<String, Long>> more) {
    this.counters = counters;
    this.more = more;
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> all = counters.snapshot();
    all.putAll(more.get());
    return all;
  }

  @Override
  public Map<String, Long> gauges() {
    return Collections.emptyMap();
  }

  @Override
  public Map<String, Long> minimums() {
    return Collections.emptyMap();
  }

  @Override
  public Map<String, Long> maximums() {
    return Collections.emptyMap();
  }

  @Override
  public Map<String, MeanStatistic> meanStatistics() {
    return Collections.emptyMap();
  }

  @Override
  public String toString() {
    return "counters=" + counters();
  }

  /** A {@link SluiceInputStream} with IOStatistics. */
  static final class Input extends SluiceInputStream implements IOStatisticsSource {
    Input(String path, long file, long length, FileSystem.Statistics statistics,
        String readPolicy, SluiceCounters aggregateInto, Consumer<Closeable> onClose) {
      super(path, file, length, statistics, readPolicy, aggregateInto, onClose);
    }

    @Override
    public IOStatistics getIOStatistics() {
      return new SluiceIOStatistics(counters());
    }

    @Override
    public boolean hasCapability(String capability) {
      return StreamCapabilities.IOSTATISTICS.equalsIgnoreCase(capability)
          || super.hasCapability(capability);
    }
  }

  /** A {@link SluiceOutputStream} with IOStatistics. */
  static final class Output extends SluiceOutputStream implements IOStatisticsSource {
    Output(String path, long file, SluiceCounters aggregateInto, Consumer<Closeable> onClose) {
      super(path, file, aggregateInto, onClose);
    }

    @Override
    public IOStatistics getIOStatistics() {
      return new SluiceIOStatistics(counters());
    }

    @Override
    public boolean hasCapability(String capability) {
      return StreamCapabilities.IOSTATISTICS.equalsIgnoreCase(capability)
          || super.hasCapability(capability);
    }
  }
}
