package io.sluice.hadoop;

import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.LocatedFileStatus;

/**
 * listLocatedStatus/listFiles's LocatedFileStatus, with the inode number and mtime of the
 * {@link SluiceFileStatus} it was made from (getPathHandle and the etag work on it too).
 */
public class SluiceLocatedFileStatus extends LocatedFileStatus {
  private static final long serialVersionUID = 1L;

  private final long inode;
  private final long mtimeNs;

  protected SluiceLocatedFileStatus(SluiceFileStatus st, BlockLocation[] locations) {
    super(st, locations);
    this.inode = st.getInode();
    this.mtimeNs = st.getModificationTimeNs();
  }

  public long getInode() {
    return inode;
  }

  public long getModificationTimeNs() {
    return mtimeNs;
  }

  /** As {@link SluiceFileStatus#etag()}. */
  public String etag() {
    return SluiceFileStatus.etagOf(this, inode, mtimeNs);
  }
}
