package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeStat;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * A FileStatus that remembers what identifies the file's content: its inode number and its mtime
 * in nanoseconds. getPathHandle builds handles from them (the inode follows the file across
 * renames; inode, length and mtime tell whether it changed), and they make the etag. Loadable on
 * every Hadoop 3.3.x: the etag is offered through EtagSource only by the subclass that {@link
 * SluiceFileStatuses} picks where that interface exists (Hadoop 3.3.2+).
 *
 * <p>Like every FileStatus it is equal to another status of the same path.
 */
public class SluiceFileStatus extends FileStatus {
  private static final long serialVersionUID = 1L;

  private final long inode;
  private final long mtimeNs;
  private final boolean acl;

  protected SluiceFileStatus(NativeStat st, long defaultBlockSize, Path qualified) {
    super(st.isDirectory() ? 0 : st.length, st.isDirectory(), 1,
        st.blockSize > 0 ? st.blockSize : defaultBlockSize, st.mtimeMs, st.atimeMs,
        new FsPermission((short) (st.mode & 01777)), st.owner, st.group, qualified);
    this.inode = st.inode;
    this.mtimeNs = st.mtimeNs;
    this.acl = st.hasAcl;
  }

  /** Whether the file has an ACL (FsShell's ls shows a '+', getfacl asks for it). */
  @Override
  public boolean hasAcl() {
    return acl;
  }

  /** The inode number (JuiceFS's), which stays with the file across renames. */
  public long getInode() {
    return inode;
  }

  /** The modification time in nanoseconds (getModificationTime() is in milliseconds). */
  public long getModificationTimeNs() {
    return mtimeNs;
  }

  /**
   * The etag of a file: "INODE-MTIME_NS-LENGTH" in hex. A replaced file (create with overwrite)
   * is a new inode; every write, append, truncate or concat moves the mtime (and mostly the
   * length); a rename changes none of them. A setTimes that puts back an earlier mtime after a
   * rewrite to the same length is the one change it cannot see. Null for directories.
   */
  public String etag() {
    return etagOf(this, inode, mtimeNs);
  }

  static String etagOf(FileStatus st, long inode, long mtimeNs) {
    if (!st.isFile()) {
      return null;
    }
    return Long.toHexString(inode) + "-" + Long.toHexString(mtimeNs) + "-"
        + Long.toHexString(st.getLen());
  }
}
