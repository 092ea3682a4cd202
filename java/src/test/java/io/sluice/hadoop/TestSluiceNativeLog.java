package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.log4j.AppenderSkeleton;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.log4j.spi.LoggingEvent;
import org.junit.Test;

/**
 * libsluice's log lines reach SLF4J (here its log4j binding) at their level: those it logs while
 * the volume opens, and those its background threads log later, instead of going to stderr.
 */
public class TestSluiceNativeLog {
  /** Keeps what the native logger receives. */
  private static final class Collector extends AppenderSkeleton {
    final List<LoggingEvent> events = new CopyOnWriteArrayList<>();

    @Override
    protected void append(LoggingEvent event) {
      events.add(event);
    }

    @Override
    public void close() {}

    @Override
    public boolean requiresLayout() {
      return false;
    }

    long count(Level level, String text) {
      return events.stream().filter(e -> e.getLevel().equals(level)
          && e.getRenderedMessage().contains(text)).count();
    }
  }

  @Test
  public void nativeWarningsReachSlf4j() throws Exception {
    String nodes = "/no-such-nodes-list-" + System.nanoTime();
    String warning = "reading the nodes list " + nodes;
    Logger logger = Logger.getLogger(SluiceNativeLog.LOGGER);
    Collector logs = new Collector();
    logger.addAppender(logs);
    try {
      Configuration conf = SluiceTestVolume.configure(new Configuration());
      conf.set(SluiceConstants.hadoopKey(SluiceConstants.NODES), nodes);
      conf.set(SluiceConstants.hadoopKey(SluiceConstants.NODES_REFRESH), "1");
      try (FileSystem fs = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS),
          conf)) {
        // logged while the volume opened, and taken before newInstance returned
        assertThat(logs.count(Level.WARN, warning)).isEqualTo(1);
        assertThat(logs.events.get(0).getRenderedMessage()).startsWith(fs.getUri() + ": ");
        // the background thread tries again each second; its lines come through the log thread
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (logs.count(Level.WARN, warning) < 2 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(logs.count(Level.WARN, warning)).isGreaterThanOrEqualTo(2);
      }
    } finally {
      logger.removeAppender(logs);
    }
  }
}
