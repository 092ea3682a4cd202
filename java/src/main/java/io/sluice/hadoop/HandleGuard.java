package io.sluice.hadoop;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps a native handle alive while calls use it, so that close() on one thread never frees it
 * under a call running on another. Calls bracket themselves with acquire()/release(); no Java lock
 * is held during the native call. close() marks the guard closed (later acquires fail with the
 * given message), waits for the calls in flight, then runs the closer exactly once.
 *
 * <p>Invariant: closed is set before users is read by close(), and acquire() increments users
 * before reading closed, so either the caller sees closed or close() sees the caller.
 */
final class HandleGuard {
  /** Frees the native handle. */
  interface Closer {
    void close(long handle) throws IOException;
  }

  private final long handle;
  private final String closedMessage;
  private final AtomicInteger users = new AtomicInteger();
  private volatile boolean closed;
  private final Object drained = new Object();

  HandleGuard(long handle, String closedMessage) {
    this.handle = handle;
    this.closedMessage = closedMessage;
  }

  /** Returns the handle for one call; pair with {@link #release()} in a finally block. */
  long acquire() throws IOException {
    users.incrementAndGet();
    if (closed) {
      release();
      throw new IOException(closedMessage);
    }
    return handle;
  }

  void release() {
    if (users.decrementAndGet() == 0 && closed) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  boolean isClosed() {
    return closed;
  }

  /**
   * Closes once: returns false (and does nothing) if already closed. Waits for calls in flight
   * before running the closer; the closer runs even if the wait is interrupted.
   */
  boolean close(Closer closer) throws IOException {
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
    }
    boolean interrupted = false;
    synchronized (drained) {
      while (users.get() > 0) {
        try {
          drained.wait(100);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    try {
      closer.close(handle);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    return true;
  }
}
