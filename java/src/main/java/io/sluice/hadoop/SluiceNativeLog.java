package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands libsluice's log lines to SLF4J (logger {@value #LOGGER}), where Hadoop's logging setup
 * decides what is kept. The native side queues them (the log-queue setting) instead of writing
 * to stderr; one daemon thread takes them from every open volume a few times a second, and a
 * volume's last lines are taken before it shuts down. What libsluice logs while it shuts down
 * goes to stderr.
 */
final class SluiceNativeLog {
  static final String LOGGER = "io.sluice.native";
  /** Lines a volume keeps until they are taken (SluiceConstants.LOG_QUEUE). */
  static final String QUEUE_LINES = "10000";
  private static final long DRAIN_MS = 250;

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
  private static final ScheduledExecutorService DRAINER =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-native-log");
        t.setDaemon(true);
        return t;
      });

  private SluiceNativeLog() {}

  /** Takes the volume's lines now and every DRAIN_MS until the returned future is cancelled. */
  static ScheduledFuture<?> follow(HandleGuard volume, String name) {
    drain(volume, name);
    return DRAINER.scheduleWithFixedDelay(() -> drain(volume, name), DRAIN_MS, DRAIN_MS,
        TimeUnit.MILLISECONDS);
  }

  /** Takes the lines of an open volume; nothing once it is closed. */
  static void drain(HandleGuard volume, String name) {
    long handle;
    try {
      handle = volume.acquire();
    } catch (IOException closed) {
      return;
    }
    try {
      drain(handle, name);
    } finally {
      volume.release();
    }
  }

  /** Takes the lines of handle, which the caller keeps open. */
  static void drain(long handle, String name) {
    for (String line = NativeVolume.logNext(handle); line != null;
        line = NativeVolume.logNext(handle)) {
      String text = line.substring(1);
      switch (line.charAt(0)) {
        case '0':
          LOG.error("{}: {}", name, text);
          break;
        case '1':
          LOG.warn("{}: {}", name, text);
          break;
        case '2':
          LOG.info("{}: {}", name, text);
          break;
        default:
          LOG.debug("{}: {}", name, text);
          break;
      }
    }
  }
}
