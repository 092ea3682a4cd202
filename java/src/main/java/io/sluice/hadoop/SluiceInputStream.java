package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.EOFException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.apache.hadoop.fs.ByteBufferPositionedReadable;
import org.apache.hadoop.fs.ByteBufferReadable;
import org.apache.hadoop.fs.CanUnbuffer;
import org.apache.hadoop.fs.FSExceptionMessages;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A reader of one sluice file over a native file handle. Sequential reads use the native
 * position (so native readahead sees the pattern); seek is lazy: it records the target and the
 * next read moves the native position. Positioned reads go straight to the thread-safe native
 * pread and neither take the stream lock nor move the position.
 *
 * <p>Locking: sequential operations are serialized by a ReentrantLock (never a monitor); the
 * handle itself is protected from close-while-in-use by a {@link HandleGuard}.
 */
public class SluiceInputStream extends FSInputStream
    implements ByteBufferReadable, ByteBufferPositionedReadable, CanUnbuffer, StreamCapabilities {

  private final String path;
  private final HandleGuard guard;
  private final FileSystem.Statistics statistics;
  private final Consumer<Closeable> onClose;
  private final ReentrantLock lock = new ReentrantLock();

  /** Where the next sequential read starts (guarded by lock). */
  private long pos;
  /** Where the native handle's position is (guarded by lock). */
  private long nativePos;
  /** File length as last seen; refreshed when a seek or skip goes beyond it. */
  private volatile long knownLength;

  SluiceInputStream(String path, long file, long length, FileSystem.Statistics statistics,
      Consumer<Closeable> onClose) {
    this.path = path;
    this.guard = new HandleGuard(file, FSExceptionMessages.STREAM_IS_CLOSED + " " + path);
    this.knownLength = length;
    this.statistics = statistics;
    this.onClose = onClose;
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
      if (statistics != null) {
        statistics.incrementBytesRead(n);
      }
      return n;
    }
    return -1;
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
    } finally {
      guard.release();
    }
  }

  @Override
  public void readFully(long position, ByteBuffer buf) throws IOException {
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

  private int counted(int n) {
    if (n > 0 && statistics != null) {
      statistics.incrementBytesRead(n);
    }
    return n > 0 ? n : -1;
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  @Override
  public void unbuffer() {
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
        return true;
      default:
        return false;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      guard.close(NativeVolume::close);
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
    return "SluiceInputStream{" + path + ", pos=" + pos + ", closed=" + guard.isClosed() + "}";
  }
}
