package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeStat;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.EtagSource;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;

/**
 * The statuses that implement EtagSource (Hadoop 3.3.2+). Only {@link SluiceFileStatuses} names
 * this class, by reflection and after it found EtagSource, so that nothing loads it where the
 * interface is missing.
 */
final class SluiceEtagStatuses implements SluiceFileStatuses.Maker {
  @Override
  public FileStatus status(NativeStat st, long defaultBlockSize, Path qualified) {
    return new EtagStatus(st, defaultBlockSize, qualified);
  }

  @Override
  public LocatedFileStatus located(SluiceFileStatus st, BlockLocation[] locations) {
    return new EtagLocatedStatus(st, locations);
  }

  static final class EtagStatus extends SluiceFileStatus implements EtagSource {
    private static final long serialVersionUID = 1L;

    EtagStatus(NativeStat st, long defaultBlockSize, Path qualified) {
      super(st, defaultBlockSize, qualified);
    }

    @Override
    public String getEtag() {
      return etag();
    }
  }

  static final class EtagLocatedStatus extends SluiceLocatedFileStatus implements EtagSource {
    private static final long serialVersionUID = 1L;

    EtagLocatedStatus(SluiceFileStatus st, BlockLocation[] locations) {
      super(st, locations);
    }

    @Override
    public String getEtag() {
      return etag();
    }
  }
}
