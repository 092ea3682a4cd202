package io.sluice.hadoop;

import java.io.IOException;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.LeaseRecoverable;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.SafeMode;
import org.apache.hadoop.fs.SafeModeAction;

/**
 * {@link SluiceFileSystem} with the FileSystem interfaces Hadoop 3.3.6 added (SafeMode,
 * LeaseRecoverable), which HBase and others look for with instanceof. It loads only on Hadoop
 * 3.3.6 and later (its interfaces are missing before), so META-INF/services names
 * SluiceFileSystem210, and on a Hadoop
 * that has them FileSystem.get picks this class for sluice:// by itself through a default
 * fs.sluice.impl ({@link HadoopCompat}). Name it in fs.sluice.impl only on Hadoop 3.3.6+.
 */
public class SluiceFileSystem336 extends SluiceFileSystem implements SafeMode, LeaseRecoverable {
  public SluiceFileSystem336() {
    this(false);
  }

  SluiceFileSystem336(boolean delegate) {
    super(delegate);
  }

  @Override
  public boolean recoverLease(Path file) throws IOException {
    return super.recoverLease(file);
  }

  @Override
  public boolean isFileClosed(Path file) throws IOException {
    return super.isFileClosed(file);
  }

  /** As the base class, and fs.capability.lease.recoverable where writers hold leases. */
  @Override
  public boolean hasPathCapability(Path path, String capability) throws IOException {
    if (CommonPathCapabilities.LEASE_RECOVERABLE.equalsIgnoreCase(capability)) {
      makeQualified(path); // validates the path
      return leaseRecoverable();
    }
    return super.hasPathCapability(path, capability);
  }

  /**
   * A sluice volume has no safe mode (no NameNode, no block reports to wait for): GET, LEAVE and
   * FORCE_EXIT report false (not in safe mode), and ENTER is refused rather than pretended.
   */
  @Override
  public boolean setSafeMode(SafeModeAction action, boolean isChecked) throws IOException {
    switch (action) {
      case GET:
      case LEAVE:
      case FORCE_EXIT:
        return false;
      default:
        throw new UnsupportedOperationException("setSafeMode(" + action + ") on " + getUri()
            + ": a sluice volume has no safe mode; to stop writes, open it with "
            + SluiceConstants.hadoopKey(SluiceConstants.READ_ONLY) + "=true");
    }
  }
}
