package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeStat;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;

/**
 * Makes the FileStatus objects SluiceFileSystem returns: {@link SluiceFileStatus} and {@link
 * SluiceLocatedFileStatus}, which also implement EtagSource where Hadoop has it (3.3.2+; the
 * classes that implement it are loaded by name only then, so the jar stays loadable on 3.3.1).
 */
public final class SluiceFileStatuses {
  /** Whether statuses carry etags (EtagSource exists in this Hadoop). */
  public static final boolean ETAGS;
  private static final Maker MAKER;

  static {
    Maker maker = new Plain();
    boolean etags = false;
    try {
      Class.forName("org.apache.hadoop.fs.EtagSource", false,
          SluiceFileStatuses.class.getClassLoader());
      maker = (Maker) Class.forName("io.sluice.hadoop.SluiceEtagStatuses", true,
          SluiceFileStatuses.class.getClassLoader()).getDeclaredConstructor().newInstance();
      etags = true;
    } catch (ReflectiveOperationException | LinkageError e) {
      // Hadoop before 3.3.2: no etags
    }
    MAKER = maker;
    ETAGS = etags;
  }

  private SluiceFileStatuses() {}

  /** The status of one path from the native attributes. */
  static FileStatus status(NativeStat st, long defaultBlockSize, Path qualified) {
    return MAKER.status(st, defaultBlockSize, qualified);
  }

  /** A located status (listLocatedStatus, listFiles) of a status this class made. */
  static LocatedFileStatus located(SluiceFileStatus st, BlockLocation[] locations) {
    return MAKER.located(st, locations);
  }

  /** The inode number a status of this filesystem carries, or -1 for another FileStatus. */
  static long inodeOf(FileStatus st) {
    if (st instanceof SluiceFileStatus) {
      return ((SluiceFileStatus) st).getInode();
    }
    if (st instanceof SluiceLocatedFileStatus) {
      return ((SluiceLocatedFileStatus) st).getInode();
    }
    return -1;
  }

  /** The mtime in nanoseconds a status of this filesystem carries (see inodeOf). */
  static long mtimeNsOf(FileStatus st) {
    if (st instanceof SluiceFileStatus) {
      return ((SluiceFileStatus) st).getModificationTimeNs();
    }
    return ((SluiceLocatedFileStatus) st).getModificationTimeNs();
  }

  /** What makes the statuses: with EtagSource or without. */
  interface Maker {
    FileStatus status(NativeStat st, long defaultBlockSize, Path qualified);

    LocatedFileStatus located(SluiceFileStatus st, BlockLocation[] locations);
  }

  private static final class Plain implements Maker {
    @Override
    public FileStatus status(NativeStat st, long defaultBlockSize, Path qualified) {
      return new SluiceFileStatus(st, defaultBlockSize, qualified);
    }

    @Override
    public LocatedFileStatus located(SluiceFileStatus st, BlockLocation[] locations) {
      return new SluiceLocatedFileStatus(st, locations);
    }
  }
}
