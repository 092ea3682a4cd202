package io.sluice.hadoop;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Options.ChecksumOpt;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The AbstractFileSystem behind {@code FileContext} for {@code sluice://<volume>/path}, bound by
 * {@code fs.AbstractFileSystem.sluice.impl = io.sluice.hadoop.Sluice}: a {@link
 * DelegateToFileSystem} over its own instance of the richest FileSystem class this Hadoop loads
 * ({@link HadoopCompat#fileSystemClass()}). FileContext hands over permissions
 * with its umask already applied, so create and mkdir go to entry points that apply none, and the
 * parent check of a non-recursive create is the native call's own (one transaction, no race).
 *
 * <p>FileContext does not close an AbstractFileSystem, so the volume handle of this instance lives
 * as long as the JVM (as with Hadoop's other DelegateToFileSystem bindings).
 *
 * <p>Like SluiceFileSystem210, this class loads on every Hadoop client from 2.10 on.
 */
public class Sluice extends DelegateToFileSystem {
  private final SluiceFileSystem210 sluice;

  public Sluice(URI theUri, Configuration conf) throws IOException, URISyntaxException {
    this(theUri, HadoopCompat.newDelegate(), conf);
  }

  private Sluice(URI theUri, SluiceFileSystem210 fs, Configuration conf)
      throws IOException, URISyntaxException {
    // The authority (the volume name) is required, but AbstractFileSystem only accepts that
    // with a default port; SluiceFileSystem210.initialize refuses a URI without a volume instead.
    super(theUri, fs, conf, SluiceConstants.SCHEME, false);
    this.sluice = fs;
  }

  @Override
  public int getUriDefaultPort() {
    return -1;
  }

  @Override
  public FSDataOutputStream createInternal(Path f, EnumSet<CreateFlag> flag,
      FsPermission absolutePermission, int bufferSize, short replication, long blockSize,
      Progressable progress, ChecksumOpt checksumOpt, boolean createParent) throws IOException {
    checkPath(f);
    return sluice.createAbsolute(f, absolutePermission, flag, createParent);
  }

  @Override
  public void mkdir(Path dir, FsPermission permission, boolean createParent) throws IOException {
    checkPath(dir);
    sluice.mkdirAbsolute(dir, permission, createParent);
  }

  /** Paged: one native listing handle, never the whole directory in memory. */
  @Override
  public RemoteIterator<FileStatus> listStatusIterator(Path f) throws IOException {
    checkPath(f);
    return sluice.listStatusIterator(f);
  }
}
