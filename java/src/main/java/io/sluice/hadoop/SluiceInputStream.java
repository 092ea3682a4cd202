package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.EOFException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.apache.hadoop.fs.ByteBufferPositionedReadable;
import org.apache.hadoop.fs.ByteBufferReadable;
import org.apache.hadoop.fs.CanUnbuffer;
import org.apache.hadoop.fs.FSExceptionMessages;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.FileRange;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options.OpenFileOptions;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.VectoredReadUtils;

/**
 * A reader of one sluice file over a native file handle. Sequential reads use the native
 * position (so native readahead sees the pattern); seek is lazy: it records the target and the
 * next read moves the native position. Positioned reads go straight to the thread-safe native
 * pread and neither take the stream lock nor move the position.
 *
 * <p>Locking: sequential operations are serialized by a ReentrantLock (never a monitor); the
 * handle itself is protected from close-while-in-use by a {@link HandleGuard}.
 *
 * <p>Vectored reads: each range is one positioned read straight into the buffer the caller's
 * allocator returns (a direct buffer crosses JNI without a copy), run on a small shared pool of
 * daemon threads so ranges are fetched in parallel; ranges are not merged, because the native
 * reader already fetches whole blocks through its block cache, so a merged read would only add
 * a copy. Overlapping ranges are allowed (Hadoop 3.3 semantics): each is read on its own. Only
 * Hadoop 3.3.5+ calls readVectored, so its types (FileRange) are never resolved on older Hadoop.
 *
 * <p>Read policy (openFile's fs.option.openfile.read.policy): the native reader's readahead is
 * adaptive (it grows on sequential access and resets on a jump) and has no switch, so
 * sequential, whole-file, adaptive, vector and default all use it as is; random additionally
 * drops the readahead window (NativeVolume.unbuffer) on every seek that moves the position.
 *
 * <p>Statistics: every read path counts bytes in FileSystem.Statistics and in this stream's
 * counters ({@link SluiceStatistic}), which close() adds to the filesystem's; on Hadoop 3.3+ the
 * stream is a {@link SluiceIOStatistics.Input}, which shows them as IOStatistics.
 *
 * <p>Hadoop versions: this class loads on Hadoop 2.10 (whose ByteBufferPositionedReadable has
 * read(long, ByteBuffer) only). readVectored names Hadoop 3.3.5's FileRange, which the JVM
 * resolves only when the method runs, and only Hadoop 3.3.5+ calls it.
 */
public class SluiceInputStream extends FSInputStream
    implements ByteBufferReadable, ByteBufferPositionedReadable, CanUnbuffer, StreamCapabilities {
  /** Threads reading the ranges of vectored reads, shared by all streams of the JVM. */
  static final int VECTORED_THREADS = 4;

  private final String path;
  private final HandleGuard guard;
  private final FileSystem.Statistics statistics;
  private final Consumer<Closeable> onClose;
  private final ReentrantLock lock = new ReentrantLock();
  private final SluiceCounters counters = new SluiceCounters(SluiceStatistic.Scope.INPUT);
  /** Receives this stream's statistics on close (the filesystem's store); may be null. */
  private final SluiceCounters aggregateInto;
  /** The openFile read policy, null for the default. */
  private final String readPolicy;
  private final boolean randomPolicy;

  /** Where the next sequential read starts (guarded by lock). */
  private long pos;
  /** Where the native handle's position is (guarded by lock). */
  private long nativePos;
  /** File length as last seen; refreshed when a seek or skip goes beyond it. */
  private volatile long knownLength;

  SluiceInputStream(String path, long file, long length, FileSystem.Statistics statistics,
      Consumer<Closeable> onClose) {
    this(path, file, length, statistics, null, null, onClose);
  }

  /**
   * @param readPolicy the openFile read policy (null: default)
   * @param aggregateInto where close() adds this stream's counters (null: nowhere)
   */
  SluiceInputStream(String path, long file, long length, FileSystem.Statistics statistics,
      String readPolicy, SluiceCounters aggregateInto, Consumer<Closeable> onClose) {
    this.path = path;
    this.guard = new HandleGuard(file, FSExceptionMessages.STREAM_IS_CLOSED + " " + path);
    this.knownLength = length;
    this.statistics = statistics;
    this.readPolicy = readPolicy;
    this.randomPolicy = OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_RANDOM.equals(readPolicy);
    this.aggregateInto = aggregateInto;
    this.onClose = onClose;
    counters.increment(SluiceStatistic.STREAM_READ_OPENED);
  }

  /** This stream's counters ({@link SluiceIOStatistics} shows them as IOStatistics). */
  SluiceCounters counters() {
    return counters;
  }

  // ---- position ---------------------------------------------------------------------------------

  @Override
  public void seek(long target) throws IOException {
    if (target < 0) {
      throw new EOFException(FSExceptionMessages.NEGATIVE_SEEK + ": " + target + " in " + path);
    }
    lock.lock();
    try {
      checkOpen();
      if (target > knownLength && target > refreshLength()) {
        throw new EOFException(FSExceptionMessages.CANNOT_SEEK_PAST_EOF + ": " + target
            + " > length " + knownLength + " of " + path);
      }
      if (target != pos) {
        counters.increment(SluiceStatistic.STREAM_READ_SEEK_OPERATIONS);
        if (randomPolicy) {
          dropReadahead();
        }
      }
      pos = target;
    } finally {
      lock.unlock();
    }
  }

  /** Works after close too (as HDFS's): callers log positions of closed streams. */
  @Override
  public long getPos() throws IOException {
    lock.lock();
    try {
      return pos;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean seekToNewSource(long targetPos) {
    return false;
  }

  @Override
  public long skip(long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    lock.lock();
    try {
      checkOpen();
      long target = pos + n;
      if (target > knownLength) {
        target = Math.min(target, refreshLength());
      }
      long skipped = Math.max(0, target - pos);
      pos += skipped;
      return skipped;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int available() throws IOException {
    lock.lock();
    try {
      checkOpen();
      long left = knownLength - pos;
      return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, left);
    } finally {
      lock.unlock();
    }
  }

  // ---- sequential reads -------------------------------------------------------------------------

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n <= 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    if (buf == null) {
      throw new NullPointerException("null buffer");
    }
    if (off < 0 || len < 0 || len > buf.length - off) {
      throw new IndexOutOfBoundsException(String.format(Locale.ROOT,
          "offset %d, length %d, buffer size %d", off, len, buf.length));
    }
    lock.lock();
    try {
      long file = guard.acquire();
      try {
        if (len == 0) {
          return 0;
        }
        syncPosition(file);
        int n = NativeVolume.read(file, buf, off, len);
        return advance(n);
      } catch (IOException e) {
        throw failed(e);
      } finally {
        guard.release();
      }
    } finally {
      lock.unlock();
    }
  }

  /** ByteBufferReadable: reads into buf from its position; -1 at EOF, 0 if buf is full. */
  @Override
  public int read(ByteBuffer buf) throws IOException {
    lock.lock();
    try {
      long file = guard.acquire();
      try {
        int len = buf.remaining();
        if (len == 0) {
          return 0;
        }
        syncPosition(file);
        int n;
        if (buf.isDirect()) {
          n = NativeVolume.readDirect(file, buf, buf.position(), len);
          if (n > 0) {
            buf.position(buf.position() + n);
          }
        } else if (buf.hasArray()) {
          n = NativeVolume.read(file, buf.array(), buf.arrayOffset() + buf.position(), len);
          if (n > 0) {
            buf.position(buf.position() + n);
          }
        } else {
          byte[] tmp = new byte[len];
          n = NativeVolume.read(file, tmp, 0, len);
          if (n > 0) {
            buf.put(tmp, 0, n);
          }
        }
        return advance(n);
      } catch (IOException e) {
        throw failed(e);
      } finally {
        guard.release();
      }
    } finally {
      lock.unlock();
    }
  }

  private void syncPosition(long file) throws IOException {
    if (nativePos != pos) {
      NativeVolume.seek(file, pos);
      nativePos = pos;
    }
  }

  private int advance(int n) {
    if (n > 0) {
      pos += n;
      nativePos = pos;
      if (pos > knownLength) {
        knownLength = pos;
      }
    }
    return counted(n);
  }

  // ---- positioned reads (no lock, position unchanged) -------------------------------------------

  @Override
  public int read(long position, byte[] buf, int off, int len) throws IOException {
    validatePositionedReadArgs(position, buf, off, len);
    long file = guard.acquire();
    try {
      if (len == 0) {
        return 0;
      }
      return counted(NativeVolume.pread(file, position, buf, off, len));
    } catch (IOException e) {
      throw failed(e);
    } finally {
      guard.release();
    }
  }

  /** ByteBufferPositionedReadable: reads into buf from its position; -1 at EOF. */
  @Override
  public int read(long position, ByteBuffer buf) throws IOException {
    if (position < 0) {
      throw new EOFException(FSExceptionMessages.NEGATIVE_SEEK + ": " + position + " in " + path);
    }
    long file = guard.acquire();
    try {
      int len = buf.remaining();
      if (len == 0) {
        return 0;
      }
      int n;
      if (buf.isDirect()) {
        n = NativeVolume.preadDirect(file, position, buf, buf.position(), len);
        if (n > 0) {
          buf.position(buf.position() + n);
        }
      } else if (buf.hasArray()) {
        n = NativeVolume.pread(file, position, buf.array(), buf.arrayOffset() + buf.position(),
            len);
        if (n > 0) {
          buf.position(buf.position() + n);
        }
      } else {
        byte[] tmp = new byte[len];
        n = NativeVolume.pread(file, position, tmp, 0, len);
        if (n > 0) {
          buf.put(tmp, 0, n);
        }
      }
      return counted(n);
    } catch (IOException e) {
      throw failed(e);
    } finally {
      guard.release();
    }
  }

  @Override
  public void readFully(long position, byte[] buf, int off, int len) throws IOException {
    counters.increment(SluiceStatistic.STREAM_READ_FULLY_OPERATIONS);
    super.readFully(position, buf, off, len); // loops over read(position, ...), which counts
  }

  @Override
  public void readFully(long position, ByteBuffer buf) throws IOException {
    counters.increment(SluiceStatistic.STREAM_READ_FULLY_OPERATIONS);
    long at = position;
    while (buf.hasRemaining()) {
      int n = read(at, buf);
      if (n < 0) {
        throw new EOFException(FSExceptionMessages.EOF_IN_READ_FULLY + " " + path + " at "
            + at);
      }
      at += n;
    }
  }

  /** Counts one native read that returned n (-1 or 0 at EOF); returns n, or -1 at EOF. */
  private int counted(int n) {
    counters.increment(SluiceStatistic.STREAM_READ_OPERATIONS);
    if (n > 0) {
      counters.increment(SluiceStatistic.STREAM_READ_BYTES, n);
      if (statistics != null) {
        statistics.incrementBytesRead(n);
      }
    }
    return n > 0 ? n : -1;
  }

  private IOException failed(IOException e) {
    counters.increment(SluiceStatistic.STREAM_READ_EXCEPTIONS);
    return e;
  }

  // ---- vectored reads ---------------------------------------------------------------------------

  /**
   * Reads each range with one positioned native read into a buffer from allocate, in parallel
   * on a small pool; every range's future completes, with an EOFException when the range ends
   * past the end of the file. Negative offsets (EOFException) and lengths
   * (IllegalArgumentException) are rejected before anything is read.
   */
  @Override
  public void readVectored(List<? extends FileRange> ranges, IntFunction<ByteBuffer> allocate)
      throws IOException {
    VectoredReadUtils.validateVectoredReadRanges(ranges);
    checkOpen();
    counters.increment(SluiceStatistic.STREAM_READ_VECTORED_OPERATIONS);
    counters.increment(SluiceStatistic.STREAM_READ_VECTORED_INCOMING_RANGES, ranges.size());
    for (FileRange range : ranges) {
      CompletableFuture<ByteBuffer> result = new CompletableFuture<>();
      range.setData(result);
      long end = range.getOffset() + range.getLength();
      if (end > knownLength && end > refreshLength()) {
        result.completeExceptionally(new EOFException("Range [" + range.getOffset() + ", "
            + end + ") of " + path + " ends past the end of the file (" + knownLength + ")"));
        continue;
      }
      ByteBuffer buf = allocate.apply(range.getLength());
      try {
        VectoredPool.get().execute(() -> readRange(range, buf, result));
      } catch (RejectedExecutionException e) {
        readRange(range, buf, result); // the pool is never shut down; be safe anyway
      }
    }
  }

  private void readRange(FileRange range, ByteBuffer buf, CompletableFuture<ByteBuffer> result) {
    try {
      int start = buf.position();
      buf.limit(start + range.getLength());
      readFully(range.getOffset(), buf);
      buf.position(start);
      result.complete(buf);
    } catch (IOException | RuntimeException e) {
      result.completeExceptionally(e);
    }
  }

  /** The JVM-wide pool for vectored reads: a few daemon threads that go away when idle. */
  private static final class VectoredPool {
    private static final ExecutorService POOL = create();

    static ExecutorService get() {
      return POOL;
    }

    private static ExecutorService create() {
      AtomicInteger n = new AtomicInteger();
      ThreadPoolExecutor pool = new ThreadPoolExecutor(VECTORED_THREADS, VECTORED_THREADS, 10,
          TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "sluice-vectored-read-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
      pool.allowCoreThreadTimeOut(true);
      return pool;
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  @Override
  public void unbuffer() {
    counters.increment(SluiceStatistic.STREAM_READ_UNBUFFERED);
    dropReadahead();
  }

  private void dropReadahead() {
    try {
      long file = guard.acquire();
      try {
        NativeVolume.unbuffer(file);
      } finally {
        guard.release();
      }
    } catch (IOException closed) {
      // unbuffer on a closed stream is a no-op (CanUnbuffer allows it)
    }
  }

  @Override
  public boolean hasCapability(String capability) {
    switch (capability.toLowerCase(Locale.ENGLISH)) {
      case StreamCapabilities.UNBUFFER:
      case StreamCapabilities.READBYTEBUFFER:
      case StreamCapabilities.PREADBYTEBUFFER:
      case StreamCapabilities.VECTOREDIO:
        return true;
      default:
        return false;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (guard.close(NativeVolume::close) && aggregateInto != null) {
        aggregateInto.aggregate(counters);
      }
    } finally {
      if (onClose != null) {
        onClose.accept(this);
      }
    }
  }

  private void checkOpen() throws IOException {
    if (guard.isClosed()) {
      throw new IOException(FSExceptionMessages.STREAM_IS_CLOSED + " " + path);
    }
  }

  private long refreshLength() throws IOException {
    long file = guard.acquire();
    try {
      long len = NativeVolume.length(file);
      knownLength = len;
      return len;
    } finally {
      guard.release();
    }
  }

  @Override
  public String toString() {
    return "SluiceInputStream{" + path + ", pos=" + pos + ", policy="
        + (readPolicy == null ? OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_DEFAULT : readPolicy)
        + ", closed=" + guard.isClosed() + "}";
  }
}
