package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeStat;
import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.CompositeCrcFileChecksum;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.InvalidPathHandleException;
import org.apache.hadoop.fs.Options.HandleOpt;
import org.apache.hadoop.fs.Options.OpenFileOptions;
import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathHandle;
import org.apache.hadoop.fs.PathIsDirectoryException;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.hadoop.fs.impl.AbstractFSBuilderImpl;
import org.apache.hadoop.fs.impl.OpenFileParameters;
import org.apache.hadoop.fs.statistics.IOStatistics;
import org.apache.hadoop.fs.statistics.IOStatisticsSource;
import org.apache.hadoop.util.DataChecksum;

/**
 * The Hadoop FileSystem for {@code sluice://<volume>/path} on Hadoop 3.3.1 and later: {@link
 * SluiceFileSystem210}, which holds every operation, plus what Hadoop 3.3.1 added to the
 * FileSystem API: IOStatistics (of the filesystem and of its streams), openFile() options and
 * read policies, path handles, path capabilities, and Hadoop's own CompositeCrcFileChecksum.
 * It implements no interface newer than 3.3.1 and touches no newer type on a path that runs
 * there (newer types go through {@link HadoopCompat}); {@link SluiceFileSystem336} adds Hadoop
 * 3.3.6's interfaces. With fs.sluice.impl unset Hadoop 3.3.1 to 3.3.5 pick this class through
 * a default resource ({@link HadoopCompat}), and fs.sluice.impl may name it on any Hadoop from
 * 3.3.1 on.
 */
public class SluiceFileSystem extends SluiceFileSystem210 implements IOStatisticsSource {
  public SluiceFileSystem() {
    this(false);
  }

  SluiceFileSystem(boolean delegate) {
    super(delegate);
  }

  @Override
  SluiceInputStream newInputStream(String p, long file, long length, String readPolicy) {
    return new SluiceIOStatistics.Input(p, file, length, statistics, readPolicy, counters,
        openStreams::remove);
  }

  @Override
  SluiceOutputStream newOutputStream(String p, long file) {
    return new SluiceIOStatistics.Output(p, file, counters, openStreams::remove);
  }

  /**
   * Operation counters and the counters of every stream closed so far (SluiceStatistic), and
   * libsluice's counters of this instance's volume handle (object requests, where blocks were
   * read from, hflush and commit times, metadata operations: see sluice_stats).
   */
  @Override
  public IOStatistics getIOStatistics() {
    return new SluiceIOStatistics(counters, this::nativeCounters);
  }

  /** Hadoop's own class (3.1+), equal to HDFS's COMPOSITE_CRC checksum of the same bytes. */
  @Override
  FileChecksum compositeCrc32c(int crc) {
    return new CompositeCrcFileChecksum(crc, DataChecksum.Type.CRC32C, CHECKSUM_BYTES_PER_CRC);
  }

  // ---- openFile ---------------------------------------------------------------------------------

  /**
   * The openFile builder: fs.option.openfile.read.policy (a list; the first policy known wins,
   * see SluiceInputStream for what each does), fs.option.openfile.length or a FileStatus (either
   * saves the metadata round trip that asks the length), other standard options accepted and
   * ignored; an unknown must() key fails build() with IllegalArgumentException. A missing file
   * fails the future, not the call.
   */
  @Override
  protected CompletableFuture<FSDataInputStream> openFileWithOptions(Path path,
      OpenFileParameters parameters) throws IOException {
    AbstractFSBuilderImpl.rejectUnknownMandatoryKeys(parameters.getMandatoryKeys(),
        HadoopCompat.OPEN_FILE_STANDARD_OPTIONS, "for " + path);
    Configuration options = parameters.getOptions();
    String policy = readPolicy(options.getTrimmedStrings(
        OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY));
    CompletableFuture<FSDataInputStream> result = new CompletableFuture<>();
    try {
      long length = -1;
      FileStatus st = parameters.getStatus();
      if (st != null) {
        if (!st.getPath().getName().equals(path.getName())) {
          throw new IllegalArgumentException("openFile " + path + ": the FileStatus given is of "
              + st.getPath());
        }
        if (st.isDirectory()) {
          throw new FileNotFoundException("Cannot open " + path + " for reading: it is a"
              + " directory");
        }
        length = st.getLen();
      } else {
        length = parseLength(options.getTrimmed(OpenFileOptions.FS_OPTION_OPENFILE_LENGTH));
      }
      result.complete(openInput(path, length, policy));
    } catch (IOException | RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /** The first policy of the list that Hadoop defines, else null (the default). */
  private static String readPolicy(String[] policies) {
    for (String s : policies) {
      String policy = s.toLowerCase(Locale.ENGLISH);
      if (HadoopCompat.READ_POLICIES.contains(policy)) {
        return policy;
      }
    }
    return null;
  }

  /** A length option ("4096", or "4096.0" from opt(key, double)); -1 if unset or negative. */
  private static long parseLength(String s) {
    if (s == null || s.isEmpty()) {
      return -1;
    }
    try {
      return Math.max(-1, Long.parseLong(s));
    } catch (NumberFormatException e) {
      try {
        return Math.max(-1, (long) Double.parseDouble(s));
      } catch (NumberFormatException e2) {
        return -1;
      }
    }
  }

  // ---- path handles -----------------------------------------------------------------------------

  /**
   * getPathHandle: a {@link SluicePathHandle} of a file, from a status this filesystem made (it
   * carries the inode number and the mtime in nanoseconds). Every combination of
   * HandleOpt.changed and HandleOpt.moved is supported; an option left out is the strict one.
   * A directory, or a FileStatus made elsewhere, is IllegalArgumentException.
   */
  @Override
  protected PathHandle createPathHandle(FileStatus stat, HandleOpt... opts) {
    long inode = SluiceFileStatuses.inodeOf(stat);
    if (inode < 0) {
      throw new IllegalArgumentException("getPathHandle needs a FileStatus from this file"
          + " system's getFileStatus or listings (it carries the inode number), not a "
          + stat.getClass().getName() + " of " + stat.getPath());
    }
    if (!stat.isFile()) {
      throw new IllegalArgumentException("getPathHandle: " + stat.getPath()
          + " is not a file");
    }
    boolean changed = HandleOpt.getOpt(HandleOpt.Data.class, opts)
        .map(HandleOpt.Data::allowChange).orElse(false);
    boolean moved = HandleOpt.getOpt(HandleOpt.Location.class, opts)
        .map(HandleOpt.Location::allowChange).orElse(false);
    return new SluicePathHandle(inode, moved ? null : pathOf(stat.getPath()), !changed,
        stat.getLen(), SluiceFileStatuses.mtimeNsOf(stat));
  }

  /**
   * Opens the file of a handle from {@link #createPathHandle}: at the handle's path, which must
   * still name the same inode, or wherever the inode is now (as the caller may reach it), and,
   * if the handle fixes the content, only with the same length and mtime. Otherwise
   * InvalidPathHandleException; a file found by inode that no longer exists is
   * FileNotFoundException.
   */
  @Override
  public FSDataInputStream open(PathHandle fd, int bufferSize) throws IOException {
    SluicePathHandle h = SluicePathHandle.of(fd);
    statistics.incrementReadOps(1);
    counters.increment(SluiceStatistic.OP_OPEN);
    return withVolume(v -> {
      // a handle that follows renames looks again if the file moved between lookup and open
      for (int attempt = 1; ; attempt++) {
        boolean last = h.path() != null || attempt == 3;
        String p = h.path() != null ? h.path()
            : NativeVolume.inodePath(v, user, groups, h.inode());
        long file;
        try {
          file = NativeVolume.open(v, user, groups, p, NativeVolume.O_READ, 0, 0);
        } catch (FileNotFoundException | PathIsDirectoryException
            | ParentNotDirectoryException e) {
          if (!last) {
            continue;
          }
          throw h.path() == null ? e : new InvalidPathHandleException(p + " no longer"
              + " names the file of " + h, e);
        }
        NativeStat st = new NativeStat();
        try {
          NativeVolume.fstat(file, st);
        } catch (IOException | RuntimeException e) {
          closeQuietly(file, e);
          throw e;
        }
        String mismatch = st.inode != h.inode() ? p + " names another file now than " + h
            : h.checksContent() && (st.length != h.length() || st.mtimeNs != h.mtimeNs())
                ? p + " changed since " + h + " was made (length " + st.length + ", mtime "
                    + st.mtimeNs + " ns now)"
                : null;
        if (mismatch != null) {
          InvalidPathHandleException e = new InvalidPathHandleException(mismatch);
          closeQuietly(file, e);
          if (!last && st.inode != h.inode()) {
            continue;
          }
          throw e;
        }
        return new FSDataInputStream(track(newInputStream(p, file, st.length, null)));
      }
    });
  }

  // ---- capabilities -----------------------------------------------------------------------------

  @Override
  public boolean hasPathCapability(Path path, String capability) throws IOException {
    makeQualified(path); // validates the path
    switch (capability.toLowerCase(Locale.ENGLISH)) {
      case CommonPathCapabilities.FS_APPEND:
      case CommonPathCapabilities.FS_CHECKSUMS:
      case CommonPathCapabilities.FS_CONCAT:
      case CommonPathCapabilities.FS_PATHHANDLES:
      case CommonPathCapabilities.FS_PERMISSIONS:
      case CommonPathCapabilities.FS_TRUNCATE:
      case CommonPathCapabilities.FS_XATTRS:
        return true;
      // statuses implement EtagSource where Hadoop has it (3.3.2+); a rename keeps the inode,
      // length and mtime the etag is made of
      case CommonPathCapabilities.ETAGS_AVAILABLE:
      case CommonPathCapabilities.ETAGS_PRESERVED_IN_RENAME:
        return SluiceFileStatuses.ETAGS;
      // what every stream of this filesystem offers (each stream's hasCapability agrees)
      case StreamCapabilities.HFLUSH:
      case StreamCapabilities.HSYNC:
      case StreamCapabilities.UNBUFFER:
      case StreamCapabilities.READBYTEBUFFER:
      case StreamCapabilities.PREADBYTEBUFFER:
      case StreamCapabilities.VECTOREDIO:
      case StreamCapabilities.IOSTATISTICS:
        return true;
      case CommonPathCapabilities.FS_ACLS:
      case CommonPathCapabilities.FS_SNAPSHOTS:
      case CommonPathCapabilities.FS_STORAGEPOLICY:
      case CommonPathCapabilities.FS_SYMLINKS:
      case CommonPathCapabilities.FS_MULTIPART_UPLOADER:
      case CommonPathCapabilities.FS_READ_ONLY_CONNECTOR:
      case CommonPathCapabilities.LEASE_RECOVERABLE:
        return false;
      default:
        return super.hasPathCapability(path, capability);
    }
  }
}
