package io.sluice.hadoop;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.hadoop.fs.InvalidPathHandleException;
import org.apache.hadoop.fs.PathHandle;

/**
 * A PathHandle of sluice:// (Hadoop's getPathHandle / open(PathHandle)): the file's inode number,
 * which stays with it across renames, plus what the handle's options fix:
 *
 * <ul>
 *   <li>the path, unless moved(true): the handle then opens the file only there, and only if that
 *       path still names the same inode (exact(), path());
 *   <li>the content, unless changed(true): the length and the mtime in nanoseconds the file had;
 *       a replaced file is another inode, and every write, append, truncate or concat moves the
 *       mtime, so the handle refuses a changed file (exact(), content()).
 * </ul>
 *
 * With moved(true) the file is found by its inode (sluice_inode_path), checked like resolving
 * its current path as the caller (content(), reference()).
 *
 * <p>Serialized form ({@link #bytes()}, which RawPathHandle carries): "SLPH", a version byte, a
 * flags byte, inode, length, mtime (ns), the path's length and its UTF-8 bytes, all big-endian.
 */
public final class SluicePathHandle implements PathHandle {
  private static final long serialVersionUID = 1L;
  private static final byte[] MAGIC = {'S', 'L', 'P', 'H'};
  private static final byte VERSION = 1;
  private static final int HAS_PATH = 1;
  private static final int HAS_CONTENT = 2;

  private final long inode;
  /** null: found by inode (the file may have moved). */
  private final String path;
  /** Whether length and mtimeNs must still hold. */
  private final boolean content;
  private final long length;
  private final long mtimeNs;

  SluicePathHandle(long inode, String path, boolean content, long length, long mtimeNs) {
    this.inode = inode;
    this.path = path;
    this.content = content;
    this.length = content ? length : -1;
    this.mtimeNs = content ? mtimeNs : 0;
  }

  long inode() {
    return inode;
  }

  /** The path the file must be at, or null when the handle follows it across renames. */
  String path() {
    return path;
  }

  boolean checksContent() {
    return content;
  }

  long length() {
    return length;
  }

  long mtimeNs() {
    return mtimeNs;
  }

  @Override
  public ByteBuffer bytes() {
    byte[] p = path == null ? new byte[0] : path.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + 3 * 8 + 4 + p.length);
    b.put(MAGIC).put(VERSION).put((byte) ((path != null ? HAS_PATH : 0)
        | (content ? HAS_CONTENT : 0)));
    b.putLong(inode).putLong(length).putLong(mtimeNs).putInt(p.length).put(p);
    b.flip();
    return b.asReadOnlyBuffer();
  }

  /** The handle fd stands for: this class, or its bytes (a RawPathHandle, a deserialized one). */
  static SluicePathHandle of(PathHandle fd) throws InvalidPathHandleException {
    if (fd instanceof SluicePathHandle) {
      return (SluicePathHandle) fd;
    }
    if (fd == null) {
      throw new InvalidPathHandleException("no PathHandle given");
    }
    try {
      ByteBuffer b = fd.bytes().duplicate();
      byte[] magic = new byte[MAGIC.length];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new InvalidPathHandleException("not a PathHandle of a sluice:// file system");
      }
      byte version = b.get();
      if (version != VERSION) {
        throw new InvalidPathHandleException("a sluice PathHandle of version " + version
            + " (this client reads version " + VERSION + ")");
      }
      int flags = b.get();
      long inode = b.getLong();
      long length = b.getLong();
      long mtimeNs = b.getLong();
      int n = b.getInt();
      if (n != b.remaining()) {
        throw new InvalidPathHandleException("a damaged sluice PathHandle");
      }
      byte[] p = new byte[n];
      b.get(p);
      String path = (flags & HAS_PATH) != 0 ? new String(p, StandardCharsets.UTF_8) : null;
      return new SluicePathHandle(inode, path, (flags & HAS_CONTENT) != 0, length, mtimeNs);
    } catch (BufferUnderflowException e) {
      throw new InvalidPathHandleException("a damaged sluice PathHandle", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PathHandle)) {
      return false;
    }
    return bytes().equals(((PathHandle) o).bytes());
  }

  @Override
  public int hashCode() {
    return bytes().hashCode();
  }

  @Override
  public String toString() {
    return "SluicePathHandle{inode=" + inode + (path != null ? ", path=" + path : "")
        + (content ? ", length=" + length + ", mtimeNs=" + mtimeNs : "") + "}";
  }
}
