package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FSExceptionMessages;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.Syncable;

/**
 * A writer of one sluice file over a native file handle (wrapped by FSDataOutputStream, which
 * tracks the position). Small writes are gathered in a small Java buffer so that byte-at-a-time
 * callers (DataOutputStream) do not pay one JNI call per byte; large writes go straight through.
 *
 * <p>Contract: flush() hands buffered bytes to the native writer; hflush() additionally commits
 * them so any new reader sees them; hsync() and close() also make them durable in object storage.
 * close() is idempotent and every operation after it fails with "Stream is closed!".
 *
 * <p>Thread safety: every operation holds one ReentrantLock (a java.util.concurrent lock, never a
 * monitor), so writes, flushes and close from several threads are serialized - except the native
 * part of hflush: hflushes of several threads (HBase's WAL syncers share a stream) meet in the
 * native writer, which commits them together, and writes go on meanwhile. A read-write lock on
 * the native handle keeps close() from freeing it under them.
 *
 * <p>Statistics: bytes written go to FileSystem.Statistics through the FSDataOutputStream that
 * wraps this stream (counting them here too would count them twice); this stream keeps its
 * counters ({@link SluiceStatistic}) and adds them to the filesystem's on close; on Hadoop 3.3+
 * it is a {@link SluiceIOStatistics.Output}, which shows them as IOStatistics. Loads on Hadoop
 * 2.10 (Syncable and StreamCapabilities are there).
 */
public class SluiceOutputStream extends OutputStream implements Syncable, StreamCapabilities {
  /** Writes smaller than this are gathered before crossing into native code. */
  static final int GATHER_SIZE = 8192;

  private final String path;
  private final long file;
  private final SluiceCounters aggregateInto;
  private final Consumer<Closeable> onClose;
  private final ReentrantLock lock = new ReentrantLock();
  /** Held shared by hflushes in native code, exclusively by close() (always before lock). */
  private final ReentrantReadWriteLock handle = new ReentrantReadWriteLock();
  private final SluiceCounters counters = new SluiceCounters(SluiceStatistic.Scope.OUTPUT);
  private final byte[] gather = new byte[GATHER_SIZE];
  private int gathered;
  private boolean closed;

  /** statistics is not used: FSDataOutputStream counts the bytes (see the class comment). */
  SluiceOutputStream(String path, long file, FileSystem.Statistics statistics,
      Consumer<Closeable> onClose) {
    this(path, file, (SluiceCounters) null, onClose);
  }

  /** @param aggregateInto where close() adds this stream's counters (null: nowhere) */
  SluiceOutputStream(String path, long file, SluiceCounters aggregateInto,
      Consumer<Closeable> onClose) {
    this.path = path;
    this.file = file;
    this.aggregateInto = aggregateInto;
    this.onClose = onClose;
  }

  /** This stream's counters ({@link SluiceIOStatistics} shows them as IOStatistics). */
  SluiceCounters counters() {
    return counters;
  }

  @Override
  public void write(int b) throws IOException {
    lock.lock();
    try {
      checkOpen();
      if (gathered == gather.length) {
        drain();
      }
      gather[gathered++] = (byte) b;
      count(1);
    } catch (IOException e) {
      throw failed(e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void write(byte[] buf, int off, int len) throws IOException {
    if (buf == null) {
      throw new NullPointerException("null buffer");
    }
    if (off < 0 || len < 0 || len > buf.length - off) {
      throw new IndexOutOfBoundsException(String.format(Locale.ROOT,
          "offset %d, length %d, buffer size %d", off, len, buf.length));
    }
    lock.lock();
    try {
      checkOpen();
      if (len == 0) {
        return;
      }
      if (len < gather.length - gathered) {
        System.arraycopy(buf, off, gather, gathered, len);
        gathered += len;
      } else {
        drain();
        if (len < gather.length) {
          System.arraycopy(buf, off, gather, 0, len);
          gathered = len;
        } else {
          NativeVolume.write(file, buf, off, len);
        }
      }
      count(len);
    } catch (IOException e) {
      throw failed(e);
    } finally {
      lock.unlock();
    }
  }

  /** Hands gathered bytes to the native writer; not a durability point. */
  @Override
  public void flush() throws IOException {
    lock.lock();
    try {
      checkOpen();
      drain();
    } catch (IOException e) {
      throw failed(e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void hflush() throws IOException {
    handle.readLock().lock();
    try {
      lock.lock();
      try {
        checkOpen();
        counters.increment(SluiceStatistic.OP_HFLUSH);
        drain();
      } finally {
        lock.unlock();
      }
      // Outside the stream's lock: the native writer lets concurrent hflushes of the stream
      // share their staging and commit, and covers every byte written before each one.
      NativeVolume.hflush(file);
    } catch (IOException e) {
      throw failed(e);
    } finally {
      handle.readLock().unlock();
    }
  }

  @Override
  public void hsync() throws IOException {
    lock.lock();
    try {
      checkOpen();
      counters.increment(SluiceStatistic.OP_HSYNC);
      drain();
      NativeVolume.hsync(file);
    } catch (IOException e) {
      throw failed(e);
    } finally {
      lock.unlock();
    }
  }

  /** Hadoop 2's Syncable.sync() (removed in Hadoop 3), the old name of hflush(). */
  @Deprecated
  public void sync() throws IOException {
    hflush();
  }

  @Override
  @SuppressWarnings("deprecation") // HFLUSH: deprecated as a name, still the capability string
  public boolean hasCapability(String capability) {
    switch (capability.toLowerCase(Locale.ENGLISH)) {
      case StreamCapabilities.HFLUSH:
      case StreamCapabilities.HSYNC:
        return true;
      default:
        return false;
    }
  }

  /** Makes everything durable and frees the native handle; later calls do nothing. */
  @Override
  public void close() throws IOException {
    handle.writeLock().lock(); // no hflush is in native code from here on
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      IOException failure = null;
      try {
        drain();
      } catch (IOException e) {
        failure = e;
      }
      try {
        NativeVolume.close(file); // frees the handle even when it throws
      } catch (IOException e) {
        failure = IOFailures.add(failure, e);
      }
      if (failure != null) {
        failed(failure);
      }
      if (aggregateInto != null) {
        aggregateInto.aggregate(counters);
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      lock.unlock();
      handle.writeLock().unlock();
      if (onClose != null) {
        onClose.accept(this);
      }
    }
  }

  boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  private void drain() throws IOException {
    if (gathered > 0) {
      int n = gathered;
      gathered = 0; // on failure the bytes are not retried: the write already failed
      NativeVolume.write(file, gather, 0, n);
    }
  }

  private void count(int n) {
    counters.increment(SluiceStatistic.STREAM_WRITE_OPERATIONS);
    counters.increment(SluiceStatistic.STREAM_WRITE_BYTES, n);
  }

  private IOException failed(IOException e) {
    counters.increment(SluiceStatistic.STREAM_WRITE_EXCEPTIONS);
    return e;
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw new IOException(FSExceptionMessages.STREAM_IS_CLOSED + " " + path);
    }
  }

  @Override
  public String toString() {
    return "SluiceOutputStream{" + path + ", closed=" + closed + "}";
  }
}
