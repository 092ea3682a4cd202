package io.sluice.hadoop;

import io.sluice.hadoop.nativeio.NativeLoader;
import io.sluice.hadoop.nativeio.NativeStat;
import io.sluice.hadoop.nativeio.NativeVolume;
import io.sluice.hadoop.security.SluiceDelegationTokenIdentifier;
import io.sluice.hadoop.security.SluiceDelegationTokens;
import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import org.apache.hadoop.HadoopIllegalArgumentException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.CommonConfigurationKeysPublic;
import org.apache.hadoop.fs.ContentSummary;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsServerDefaults;
import org.apache.hadoop.fs.FsStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.MD5MD5CRC32GzipFileChecksum;
import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.hadoop.fs.PathIsDirectoryException;
import org.apache.hadoop.fs.PathIsNotEmptyDirectoryException;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.XAttrSetFlag;
import org.apache.hadoop.fs.permission.AclEntry;
import org.apache.hadoop.fs.permission.AclStatus;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.io.MD5Hash;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.util.DataChecksum;
import org.apache.hadoop.util.Progressable;

/**
 * The Hadoop FileSystem for {@code sluice://<volume>/path}: a thin layer over one native volume
 * handle (libsluice through {@link NativeVolume}). Every operation is one native call (or a few,
 * where Hadoop's return-value conventions need a look first); there is no storage logic here.
 *
 * <p>Identity: the UGI current at initialize() is this instance's user; its short name and groups
 * go with every call, and the native layer enforces HDFS-style permissions with them. In Kerberos
 * mode the gateway knows the caller already (its principal, or its token's owner), so calls name
 * no user unless the UGI is a proxy user (then the gateway applies its proxy rules): a process
 * whose UGI comes from the OS ("simple") but which logs in with sluice.kerberos.keytab acts as
 * that principal, not as the OS user. Hadoop's
 * FileSystem cache keys instances by UGI, so each user gets its own instance (and volume handle).
 *
 * <p>Kerberos mode ({@code sluice.meta = gateway://HOST[:PORT]}): the volume handle authenticates
 * to the gateway once, for all of this instance's calls, in one of two ways, chosen at
 * initialize(). If the current UGI has no Kerberos credentials of its own (no ticket, not a keytab
 * login) and its credentials hold a token of kind {@value SluiceConstants#TOKEN_KIND} whose
 * service is this instance's canonical service name (the gateway's "HOST:PORT"), the handle uses
 * that token, and the sluice.kerberos.* settings are not passed on: that is a YARN container's
 * process, which holds only the tokens its job collected. Otherwise it logs in with Kerberos as
 * the sluice.kerberos.* settings say (keytab, or ticket cache). {@link
 * #getCanonicalServiceName()} and {@link #getDelegationToken(String)} let Hadoop's
 * addDelegationTokens (MapReduce, Spark, YARN log aggregation) collect tokens, which
 * SluiceTokenRenewer renews and cancels. A process holding only a token can issue no new
 * tokens. Direct mode has no tokens: the canonical service name is null.
 *
 * <p>Lifecycle: close() closes the streams still open on this instance (making written data
 * durable), then waits for calls in flight and shuts the volume handle down.
 *
 * <p>Hadoop versions: this class holds every operation and loads on every Hadoop client from
 * 2.10 on (META-INF/services names it, and Hadoop instantiates every class named there), so it
 * implements no interface and names no type newer than Hadoop 2.10 in a signature or a method
 * body: the JVM verifier may load a type a body assigns or throws when it links the class.
 * {@link SluiceFileSystem} (3.3.1+: IOStatistics, openFile, path handles, path capabilities,
 * CompositeCrcFileChecksum) and {@link SluiceFileSystem336} (3.3.6+: SafeMode,
 * LeaseRecoverable) add what newer Hadoop has, and the static initialiser below makes Hadoop
 * pick the richest of them that loads ({@link HadoopCompat}). Name this class in fs.sluice.impl
 * on Hadoop 2.10 only.
 */
public class SluiceFileSystem210 extends FileSystem {
  static {
    HadoopCompat.register();
  }

  /** Entries fetched per native readdir call. */
  static final int LIST_PAGE = 1024;

  private URI uri;
  private String volumeName;
  private HandleGuard volume;
  private ScheduledFuture<?> nativeLog; // takes libsluice's log lines (SluiceNativeLog)
  /** The user calls act for (null in Kerberos mode: the authenticated one), and its groups. */
  String user;
  String[] groups;
  /** This instance's user by name, for its home directory. */
  private String userName;
  private Path workingDir;
  private long blockSize;
  /** Whether the volume has a node list (sluice.nodes), i.e. blocks have hosts to report. */
  private boolean hasNodes;
  /** Whether output streams hold writer leases that recoverLease can end (sluice.leases). */
  private boolean leases;
  /** The gateway's "HOST:PORT" in Kerberos mode (the tokens' service), else null. */
  private String service;
  final Set<Closeable> openStreams = ConcurrentHashMap.newKeySet();
  /** Operation counters, and every stream's counters once it closes (SluiceStatistic). */
  final SluiceCounters counters = new SluiceCounters(null);
  /** Made by {@link Sluice} for FileContext, not chosen through fs.sluice.impl. */
  private final boolean delegate;

  public SluiceFileSystem210() {
    this(false);
  }

  SluiceFileSystem210(boolean delegate) {
    this.delegate = delegate;
  }

  @Override
  public void initialize(URI name, Configuration conf) throws IOException {
    super.initialize(name, conf);
    setConf(conf);
    if (!delegate) {
      HadoopCompat.warnIfLacking(this, conf);
    }
    String host = name.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("A sluice URI names its volume: sluice://<volume>/path,"
          + " not " + name);
    }
    volumeName = host;
    uri = URI.create(SluiceConstants.SCHEME + "://" + name.getAuthority());

    UserGroupInformation ugi = UserGroupInformation.getCurrentUser();
    user = ugi.getShortUserName();
    groups = ugi.getGroupNames();

    SluiceSettings settings = SluiceSettings.forVolume(conf, volumeName);
    service = SluiceDelegationTokens.canonicalService(settings.get(SluiceConstants.META));
    Token<SluiceDelegationTokenIdentifier> token = SluiceDelegationTokens.selectToken(ugi,
        service);
    if (token != null) {
      settings = settings.withToken(token);
    }
    hasNodes = settings.has(SluiceConstants.NODES);
    String leaseSetting = settings.get(SluiceConstants.LEASES);
    leases = leaseSetting == null ? SluiceConstants.LEASES_DEFAULT
        : Boolean.parseBoolean(leaseSetting);
    blockSize = conf.getLongBytes(SluiceConstants.volumeKey(volumeName,
        SluiceConstants.BLOCK_SIZE), conf.getLongBytes(SluiceConstants.hadoopKey(
            SluiceConstants.BLOCK_SIZE), parseSize(SluiceConstants.BLOCK_SIZE_DEFAULT)));

    try {
      NativeLoader.load(conf.getTrimmed(SluiceConstants.NATIVE_PATH));
    } catch (UnsatisfiedLinkError e) {
      throw new IOException("Cannot load libsluice for " + uri + ": " + e.getMessage(), e);
    }
    settings = settings.with(SluiceConstants.LOG_QUEUE, SluiceNativeLog.QUEUE_LINES);
    long handle = NativeVolume.init(settings.keys(), settings.values());
    volume = new HandleGuard(handle, "Filesystem closed: " + uri);
    nativeLog = SluiceNativeLog.follow(volume, uri.toString());
    userName = user;
    if (service != null && ugi.getRealUser() == null) {
      user = null;
      groups = null;
      userName = NativeVolume.userName(handle);
    }
    workingDir = getHomeDirectory();
  }

  /** libsluice's counters of this instance's volume handle by name; none once it is closed. */
  Map<String, Long> nativeCounters() {
    String text;
    try {
      text = volume == null ? "" : withVolume(NativeVolume::stats);
    } catch (IOException closed) {
      return new LinkedHashMap<>();
    }
    Map<String, Long> out = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int sp = line.lastIndexOf(' ');
      if (sp > 0) {
        out.put(line.substring(0, sp), Long.parseUnsignedLong(line.substring(sp + 1)));
      }
    }
    return out;
  }

  private static long parseSize(String s) {
    return org.apache.hadoop.util.StringUtils.TraditionalBinaryPrefix.string2long(s);
  }

  // ---- identity and paths -----------------------------------------------------------------------

  @Override
  public String getScheme() {
    return SluiceConstants.SCHEME;
  }

  @Override
  public URI getUri() {
    return uri;
  }

  @Override
  public Path getWorkingDirectory() {
    return workingDir;
  }

  @Override
  public void setWorkingDirectory(Path dir) {
    Path q = makeQualified(dir);
    checkPath(q);
    workingDir = q;
  }

  @Override
  public Path getHomeDirectory() {
    return makeQualified(new Path("/user/" + userName));
  }

  @Override
  @SuppressWarnings("deprecation")
  public long getDefaultBlockSize() {
    return blockSize;
  }

  @Override
  public long getDefaultBlockSize(Path f) {
    return blockSize;
  }

  @Override
  @SuppressWarnings("deprecation")
  public short getDefaultReplication() {
    return 1;
  }

  /**
   * In Kerberos mode the gateway's "HOST:PORT" from {@code gateway://HOST[:PORT]} (port 9810 if
   * the URL names none), the service of the tokens it issues and the alias under which
   * addDelegationTokens keeps them; null in direct mode, which has no tokens (Hadoop then
   * collects none).
   */
  @Override
  public String getCanonicalServiceName() {
    return service;
  }

  /**
   * A new delegation token from the gateway, owned by this instance's user, which renewer (a
   * short name or a principal; null: nobody) may renew; its service is {@link
   * #getCanonicalServiceName()}. null in direct mode. The gateway issues tokens only to a
   * Kerberos-authenticated caller: an instance that itself uses a token gets an
   * AccessControlException.
   */
  @Override
  public Token<SluiceDelegationTokenIdentifier> getDelegationToken(String renewer)
      throws IOException {
    if (service == null) {
      return null;
    }
    byte[][] token = withVolume(v -> NativeVolume.issueToken(v, user, groups, renewer));
    return new Token<>(token[0], token[1], SluiceDelegationTokenIdentifier.KIND,
        new Text(service));
  }

  /** The absolute path inside the volume ("/a/b") of a path of this filesystem. */
  String pathOf(Path p) {
    Path q = makeQualified(p);
    String s = q.toUri().getPath();
    return s.isEmpty() ? "/" : s;
  }

  /** Read at each call, as HDFS does: fs.permissions.umask-mode may change after initialize. */
  private int umask() {
    return FsPermission.getUMask(getConf()).toShort();
  }

  /** A call that uses the native volume handle. */
  interface VolumeCall<T> {
    T call(long vol) throws IOException;
  }

  /** Runs call with the native volume handle, which stays open until it returns. */
  <T> T withVolume(VolumeCall<T> call) throws IOException {
    long v = volume.acquire();
    try {
      return call.call(v);
    } finally {
      volume.release();
    }
  }


  // ---- files ------------------------------------------------------------------------------------

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    return openInput(f, -1, null);
  }

  /** knownLength: the length if the caller knows it, else -1 (asked from the native handle). */
  FSDataInputStream openInput(Path f, long knownLength, String readPolicy)
      throws IOException {
    String p = pathOf(f);
    countRead(SluiceStatistic.OP_OPEN);
    return withVolume(v -> {
      long file;
      try {
        file = NativeVolume.open(v, user, groups, p, NativeVolume.O_READ, 0, 0);
      } catch (PathIsDirectoryException e) {
        FileNotFoundException fnf = new FileNotFoundException("Cannot open " + f
            + " for reading: it is a directory");
        fnf.initCause(e);
        throw fnf;
      }
      long length = knownLength;
      if (length < 0) {
        try {
          length = NativeVolume.length(file);
        } catch (IOException | RuntimeException e) {
          closeQuietly(file, e);
          throw e;
        }
      }
      return new FSDataInputStream(track(newInputStream(p, file, length, readPolicy)));
    });
  }

  @Override
  public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite,
      int bufferSize, short replication, long blockSize, Progressable progress)
      throws IOException {
    int flags = NativeVolume.O_WRITE | NativeVolume.O_CREATE | NativeVolume.O_MKDIRS
        | (overwrite ? NativeVolume.O_OVERWRITE : NativeVolume.O_EXCL);
    return openForWrite(f, flags, permission);
  }

  @Override
  public FSDataOutputStream createNonRecursive(Path f, FsPermission permission,
      EnumSet<org.apache.hadoop.fs.CreateFlag> flags, int bufferSize, short replication,
      long blockSize, Progressable progress) throws IOException {
    boolean overwrite = flags.contains(org.apache.hadoop.fs.CreateFlag.OVERWRITE);
    if (flags.contains(org.apache.hadoop.fs.CreateFlag.APPEND)) {
      throw new UnsupportedOperationException("createNonRecursive with APPEND: use append()");
    }
    int nflags = NativeVolume.O_WRITE | NativeVolume.O_CREATE
        | (overwrite ? NativeVolume.O_OVERWRITE : NativeVolume.O_EXCL);
    return openForWrite(f, nflags, permission);
  }

  @Override
  public FSDataOutputStream append(Path f, int bufferSize, Progressable progress)
      throws IOException {
    return openForWrite(f, NativeVolume.O_WRITE | NativeVolume.O_APPEND, null);
  }

  private FSDataOutputStream openForWrite(Path f, int flags, FsPermission permission)
      throws IOException {
    return openForWrite(f, flags, permission, umask());
  }

  /**
   * The mode and umask the native create takes: the permission asked for and the umask, which a
   * directory's default ACL replaces. Where Hadoop passed both the masked and the unmasked
   * permission (FsCreateModes), the unmasked one and the bits the mask took away.
   */
  private static int[] modeAndUmask(FsPermission permission, FsPermission dflt, int umask) {
    FsPermission unmasked = HadoopCompat.unmaskedOf(permission);
    if (unmasked != null) {
      return new int[] {unmasked.toShort() & 07777,
          unmasked.toShort() & ~permission.toShort() & 0777};
    }
    return new int[] {(permission == null ? dflt : permission).toShort() & 07777, umask};
  }

  /** umask: 0 when the permission is already absolute (FileContext applied its own umask). */
  private FSDataOutputStream openForWrite(Path f, int flags, FsPermission permission,
      int umask) throws IOException {
    String p = pathOf(f);
    int[] mu = modeAndUmask(permission, FsPermission.getFileDefault(), umask);
    countWrite((flags & NativeVolume.O_CREATE) != 0 ? SluiceStatistic.OP_CREATE
        : SluiceStatistic.OP_APPEND);
    return withVolume(v -> {
      long file;
      try {
        file = NativeVolume.open(v, user, groups, p, flags, mu[0], mu[1]);
      } catch (PathIsDirectoryException e) {
        if ((flags & NativeVolume.O_CREATE) == 0) {
          throw e;
        }
        // HDFS: creating a file where a directory is, with or without overwrite
        FileAlreadyExistsException ex = new FileAlreadyExistsException(
            "Cannot create file " + f + ": a directory exists there");
        ex.initCause(e);
        throw ex;
      }
      long start = 0;
      if ((flags & NativeVolume.O_APPEND) != 0) {
        try {
          start = NativeVolume.length(file);
        } catch (IOException | RuntimeException e) {
          closeQuietly(file, e);
          throw e;
        }
      }
      // FSDataOutputStream counts the bytes in statistics; the stream keeps its counters
      return new FSDataOutputStream(track(newOutputStream(p, file)), statistics, start);
    });
  }

  /**
   * FileContext's create (through {@link Sluice}) with CreateFlag semantics: CREATE alone fails
   * on an existing file, CREATE|OVERWRITE replaces it atomically, OVERWRITE alone needs it to
   * exist, APPEND appends (and with CREATE creates a missing file). The permission is absolute;
   * without createParent a missing parent is FileNotFoundException, a file parent
   * ParentNotDirectoryException (both from the one native call).
   */
  FSDataOutputStream createAbsolute(Path f, FsPermission absolutePermission,
      EnumSet<CreateFlag> flag, boolean createParent) throws IOException {
    CreateFlag.validate(flag);
    boolean create = flag.contains(CreateFlag.CREATE);
    int nflags = NativeVolume.O_WRITE;
    if (flag.contains(CreateFlag.APPEND)) {
      nflags |= NativeVolume.O_APPEND | (create ? NativeVolume.O_CREATE : 0);
    } else if (create) {
      nflags |= NativeVolume.O_CREATE | (flag.contains(CreateFlag.OVERWRITE)
          ? NativeVolume.O_OVERWRITE : NativeVolume.O_EXCL);
    } else {
      FileStatus st = getFileStatus(f); // OVERWRITE alone: FileNotFoundException if missing
      if (st.isDirectory()) {
        throw new FileAlreadyExistsException("Cannot overwrite " + f + ": it is a directory");
      }
      nflags |= NativeVolume.O_CREATE | NativeVolume.O_OVERWRITE;
    }
    if (createParent && (nflags & NativeVolume.O_CREATE) != 0) {
      nflags |= NativeVolume.O_MKDIRS;
    }
    return openForWrite(f, nflags, absolutePermission, 0);
  }

  @Override
  @SuppressWarnings("deprecation")
  protected FSDataOutputStream primitiveCreate(Path f, FsPermission absolutePermission,
      EnumSet<CreateFlag> flag, int bufferSize, short replication, long blockSize,
      Progressable progress, org.apache.hadoop.fs.Options.ChecksumOpt checksumOpt)
      throws IOException {
    return createAbsolute(f, absolutePermission, flag, true);
  }

  static void closeQuietly(long file, Throwable primary) {
    try {
      NativeVolume.close(file);
    } catch (IOException | RuntimeException e) {
      primary.addSuppressed(e);
    }
  }

  /**
   * The stream over a native file opened for reading (readPolicy: openFile's, null for the
   * default); {@link SluiceFileSystem} makes one that is also an IOStatisticsSource.
   */
  SluiceInputStream newInputStream(String p, long file, long length, String readPolicy) {
    return new SluiceInputStream(p, file, length, statistics, readPolicy, counters,
        openStreams::remove);
  }

  /** The stream over a native file opened for writing (see {@link #newInputStream}). */
  SluiceOutputStream newOutputStream(String p, long file) {
    return new SluiceOutputStream(p, file, counters, openStreams::remove);
  }

  /** Streams are remembered so that close() of the filesystem can close them first. */
  <T extends Closeable> T track(T stream) {
    openStreams.add(stream);
    return stream;
  }

  // ---- namespace --------------------------------------------------------------------------------

  /**
   * HDFS's rename: false (not an exception) when src is missing, dst's parent is missing or not
   * a directory, or dst is an existing file; into an existing directory dst, src moves under it.
   * Never replaces anything (RENAME_NOREPLACE), so a race loses with false, not with data loss.
   */
  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    String s = pathOf(src);
    String d = pathOf(dst);
    countWrite(SluiceStatistic.OP_RENAME);
    if (s.equals("/")) {
      return false;
    }
    return withVolume(v -> {
      if (s.equals(d)) {
        // HDFS: a file onto itself succeeds; a directory onto itself would go under itself
        NativeStat st = statOrNull(v, s);
        return st != null && !st.isDirectory();
      }
      if (d.startsWith(s + "/")) {
        return false; // HDFS: a directory cannot move into its own subtree
      }
      // into an existing directory under its own name: decided in the rename's transaction
      // (the root has no parent to rename into, so its child is named here)
      String target = d.equals("/") ? "/" + new Path(s).getName() : d;
      if (target.equals(s)) {
        return true; // already there
      }
      try {
        NativeVolume.rename(v, user, groups, s, target,
            NativeVolume.RENAME_NOREPLACE | NativeVolume.RENAME_INTO_DIR);
        return true;
      } catch (FileNotFoundException | FileAlreadyExistsException
          | ParentNotDirectoryException e) {
        return false;
      }
    });
  }

  @Override
  public boolean delete(Path f, boolean recursive) throws IOException {
    String p = pathOf(f);
    countWrite(SluiceStatistic.OP_DELETE);
    return withVolume(v -> {
      try {
        NativeVolume.delete(v, user, groups, p, recursive);
        return true;
      } catch (FileNotFoundException e) {
        return false;
      } catch (PathIsNotEmptyDirectoryException e) {
        throw e;
      } catch (ParentNotDirectoryException e) {
        return false; // a file where a parent should be: the path does not exist
      }
    });
  }

  @Override
  public boolean mkdirs(Path f, FsPermission permission) throws IOException {
    mkdirs(f, permission, umask());
    return true;
  }

  /**
   * FileContext's mkdir (through {@link Sluice}): the permission is absolute; without
   * createParent an existing path is FileAlreadyExistsException, a missing parent
   * FileNotFoundException, a file parent ParentNotDirectoryException.
   */
  void mkdirAbsolute(Path f, FsPermission absolutePermission, boolean createParent)
      throws IOException {
    if (createParent) {
      mkdirs(f, absolutePermission, 0);
      return;
    }
    String p = pathOf(f);
    int[] mu = modeAndUmask(absolutePermission, FsPermission.getDirDefault(), 0);
    countWrite(SluiceStatistic.OP_MKDIRS);
    withVolume(v -> {
      NativeVolume.mkdir(v, user, groups, p, mu[0], mu[1]);
      return null;
    });
  }

  @Override
  protected boolean primitiveMkdir(Path f, FsPermission absolutePermission) throws IOException {
    mkdirs(f, absolutePermission, 0);
    return true;
  }

  @Override
  protected void primitiveMkdir(Path f, FsPermission absolutePermission, boolean createParent)
      throws IOException {
    mkdirAbsolute(f, absolutePermission, createParent);
  }

  private void mkdirs(Path f, FsPermission permission, int umask) throws IOException {
    String p = pathOf(f);
    int[] mu = modeAndUmask(permission, FsPermission.getDirDefault(), umask);
    countWrite(SluiceStatistic.OP_MKDIRS);
    withVolume(v -> {
      try {
        NativeVolume.mkdirs(v, user, groups, p, mu[0], mu[1]);
        return null;
      } catch (FileAlreadyExistsException | ParentNotDirectoryException e) {
        throw explainMkdirs(v, p, f, e);
      }
    });
  }

  /** Names the file that is in the way of mkdirs. */
  private IOException explainMkdirs(long v, String p, Path f, IOException e) throws IOException {
    NativeStat st = statOrNull(v, p);
    if (st != null && !st.isDirectory()) {
      FileAlreadyExistsException ex = new FileAlreadyExistsException(
          "Cannot create directory " + f + ": a file exists there");
      ex.initCause(e);
      return ex;
    }
    ParentNotDirectoryException ex = new ParentNotDirectoryException(
        "Cannot create directory " + f + ": a parent is a file");
    ex.initCause(e);
    return ex;
  }

  @Override
  public FileStatus getFileStatus(Path f) throws IOException {
    Path q = makeQualified(f);
    String p = pathOf(q);
    countRead(SluiceStatistic.OP_GET_FILE_STATUS);
    return withVolume(v -> {
      NativeStat st = new NativeStat();
      try {
        NativeVolume.stat(v, user, groups, p, true, st);
      } catch (ParentNotDirectoryException e) {
        FileNotFoundException fnf = new FileNotFoundException(f + ": a parent is a file");
        fnf.initCause(e);
        throw fnf;
      }
      return toStatus(st, q);
    });
  }

  @Override
  public FileStatus[] listStatus(Path f) throws IOException {
    List<FileStatus> out = new ArrayList<>();
    RemoteIterator<FileStatus> it = listStatusIterator(f);
    while (it.hasNext()) {
      out.add(it.next());
    }
    return out.toArray(new FileStatus[0]);
  }

  /**
   * Paged: keeps one native listing handle and reads {@link #LIST_PAGE} entries at a time, so a
   * directory is never in memory whole. A missing path fails here, not at the first hasNext().
   * The handle is closed at the end, on an error, or when this FileSystem closes (an abandoned
   * iterator is tracked like an open stream).
   */
  @Override
  public RemoteIterator<FileStatus> listStatusIterator(Path f) throws IOException {
    Path q = makeQualified(f);
    String p = pathOf(q);
    countRead(SluiceStatistic.OP_LIST_STATUS);
    return withVolume(v -> {
      long dir;
      try {
        dir = NativeVolume.opendir(v, user, groups, p);
      } catch (ParentNotDirectoryException e) {
        // either p is a file (which lists itself) or a parent of p is a file (p is missing)
        NativeStat st = statOrNull(v, p);
        if (st == null) {
          FileNotFoundException fnf = new FileNotFoundException("File " + f + " does not exist");
          fnf.initCause(e);
          throw fnf;
        }
        return new SingleStatus(toStatus(st, q));
      }
      return track(new Listing(q, dir));
    });
  }

  /**
   * listLocatedStatus (and listFiles, built on it): the paged listing, each entry with its block
   * locations, as {@link SluiceLocatedFileStatus} (etags and path handles work on them).
   */
  @Override
  protected RemoteIterator<LocatedFileStatus> listLocatedStatus(Path f, PathFilter filter)
      throws IOException {
    RemoteIterator<FileStatus> it = listStatusIterator(f);
    return new RemoteIterator<LocatedFileStatus>() {
      private LocatedFileStatus next;

      @Override
      public boolean hasNext() throws IOException {
        while (next == null && it.hasNext()) {
          FileStatus st = it.next();
          if (filter.accept(st.getPath())) {
            next = SluiceFileStatuses.located((SluiceFileStatus) st, st.isFile()
                ? getFileBlockLocations(st, 0, st.getLen()) : null);
          }
        }
        return next != null;
      }

      @Override
      public LocatedFileStatus next() throws IOException {
        if (!hasNext()) {
          throw new NoSuchElementException("No more entries in " + f);
        }
        LocatedFileStatus st = next;
        next = null;
        return st;
      }
    };
  }

  /** listStatusIterator of a file: the file itself. */
  private static final class SingleStatus implements RemoteIterator<FileStatus> {
    private FileStatus status;

    SingleStatus(FileStatus status) {
      this.status = status;
    }

    @Override
    public boolean hasNext() {
      return status != null;
    }

    @Override
    public FileStatus next() {
      if (status == null) {
        throw new NoSuchElementException();
      }
      FileStatus s = status;
      status = null;
      return s;
    }
  }

  /**
   * One open native listing. The dir handle is guarded like the volume's, so a close() from
   * FileSystem.close() on another thread never frees it under a readdir in flight.
   */
  private final class Listing implements RemoteIterator<FileStatus>, Closeable {
    private final Path dir;
    private final HandleGuard handle;
    private final NativeStat[] page = newPage();
    private FileStatus[] statuses = new FileStatus[0];
    private int next;
    /** The native listing returned its last page. */
    private boolean done;

    Listing(Path dir, long handle) {
      this.dir = dir;
      this.handle = new HandleGuard(handle, "Listing of " + dir + " closed");
    }

    @Override
    public boolean hasNext() throws IOException {
      while (next >= statuses.length) {
        if (done) {
          return false;
        }
        try {
          fetch();
        } catch (IOException | RuntimeException e) {
          try {
            close();
          } catch (IOException | RuntimeException s) {
            e.addSuppressed(s);
          }
          throw e;
        }
      }
      return true;
    }

    @Override
    public FileStatus next() throws IOException {
      if (!hasNext()) {
        throw new NoSuchElementException("No more entries in " + dir);
      }
      return statuses[next++];
    }

    /** Reads the next page; closes the handle as soon as the listing is known to be complete. */
    private void fetch() throws IOException {
      withVolume(v -> {
        long d = handle.acquire();
        int n;
        List<FileStatus> out = new ArrayList<>();
        try {
          n = NativeVolume.readdir(d, page);
          for (int i = 0; i < n; i++) {
            NativeStat e = page[i];
            if (e.name == null || e.name.equals(".") || e.name.equals("..")) {
              continue;
            }
            Path child = new Path(dir, e.name);
            if (e.isSymlink()) {
              NativeStat target = statOrNull(v, pathOf(child));
              if (target != null) {
                e = target;
              }
            }
            out.add(toStatus(e, child));
          }
        } finally {
          handle.release();
        }
        statuses = out.toArray(new FileStatus[0]);
        next = 0;
        if (n < page.length) {
          done = true;
          close();
        }
        return null;
      });
    }

    /** Closed before the end (an error, FileSystem.close()), the next fetch throws. */
    @Override
    public void close() throws IOException {
      openStreams.remove(this);
      handle.close(NativeVolume::closedir);
    }
  }

  private static NativeStat[] newPage() {
    NativeStat[] page = new NativeStat[LIST_PAGE];
    for (int i = 0; i < page.length; i++) {
      page[i] = new NativeStat();
    }
    return page;
  }

  @Override
  public boolean truncate(Path f, long newLength) throws IOException {
    String p = pathOf(f);
    statistics.incrementWriteOps(1);
    return withVolume(v -> {
      NativeStat st = new NativeStat();
      NativeVolume.stat(v, user, groups, p, true, st);
      if (st.isDirectory()) {
        throw new FileNotFoundException("Cannot truncate " + f + ": it is a directory");
      }
      if (newLength < 0 || newLength > st.length) {
        throw new HadoopIllegalArgumentException("Cannot truncate " + f + " of length "
            + st.length + " to " + newLength + ": the new length must be in [0, length]");
      }
      NativeVolume.truncate(v, user, groups, p, newLength);
      return true;
    });
  }

  /**
   * HDFS's recoverLease (Hadoop 3.3.6's LeaseRecoverable, which {@link SluiceFileSystem336}
   * implements; public here for older Hadoop and callers that look it up by reflection, as
   * HBase does): ends the writer lease of f, so that its writer's next hflush, hsync, write
   * commit or close fails with an IOException saying the lease was recovered, and nothing it
   * writes from then on becomes visible; what it hflushed before stays. Returns true: the file
   * is closed at once (there are no blocks to recover). Needs write permission on f.
   *
   * @throws FileNotFoundException if f does not exist or is a directory
   */
  public boolean recoverLease(Path f) throws IOException {
    return leaseCall(f, true);
  }

  /**
   * HDFS's isFileClosed: true when no live writer holds the lease of f (its writer closed it,
   * its lease was recovered, or its process died and its session expired).
   *
   * @throws FileNotFoundException if f does not exist or is a directory
   */
  public boolean isFileClosed(Path f) throws IOException {
    return leaseCall(f, false);
  }

  private boolean leaseCall(Path f, boolean recover) throws IOException {
    String p = pathOf(f);
    if (recover) {
      statistics.incrementWriteOps(1);
    } else {
      statistics.incrementReadOps(1);
    }
    return withVolume(v -> {
      NativeStat st = new NativeStat();
      try {
        NativeVolume.stat(v, user, groups, p, true, st);
      } catch (FileNotFoundException e) {
        // HDFS's wording, which Hadoop's lease recovery contract expects
        throw (FileNotFoundException) new FileNotFoundException("File does not exist: " + f)
            .initCause(e);
      }
      if (st.isDirectory()) {
        throw new FileNotFoundException("Path is not a file: " + f);
      }
      return recover ? NativeVolume.recoverLease(v, user, groups, p)
          : NativeVolume.isFileClosed(v, user, groups, p);
    });
  }

  /** Bytes per CRC HDFS's default checksums use; the composite value does not depend on it. */
  static final int CHECKSUM_BYTES_PER_CRC = 512;

  /**
   * The file's COMPOSITE-CRC32C checksum: the CRC-32C of all its bytes, equal to what HDFS
   * returns for the same bytes with dfs.checksum.combine.mode=COMPOSITE_CRC (whatever its block
   * size), so DistCp can compare a copy between HDFS and Sluice. Composed from per-block CRCs
   * the volume keeps, without reading the file again.
   *
   * @throws FileNotFoundException if f does not exist or is a directory
   */
  @Override
  public FileChecksum getFileChecksum(Path f) throws IOException {
    return getFileChecksum(f, Long.MAX_VALUE);
  }

  /** The COMPOSITE-CRC32C checksum of the first length bytes of f (all of it if it is shorter). */
  @Override
  public FileChecksum getFileChecksum(Path f, long length) throws IOException {
    if (length < 0) {
      throw new HadoopIllegalArgumentException("getFileChecksum: negative length " + length
          + " for " + f);
    }
    String p = pathOf(f);
    countRead(SluiceStatistic.OP_GET_FILE_CHECKSUM);
    return withVolume(v -> {
      int crc;
      try {
        crc = NativeVolume.fileChecksum(v, user, groups, p, length);
      } catch (PathIsDirectoryException e) {
        // HDFS's answer for a directory
        throw (FileNotFoundException) new FileNotFoundException("Path is not a file: " + f)
            .initCause(e);
      }
      if (crc == 0 && (length == 0 || fileLength(v, p) == 0)) {
        // no bytes (0 is their CRC; other data has it once in 2^32): HDFS answers a range
        // without blocks with this fixed value in every combine mode (HDFS-4090)
        return NO_BYTES_CHECKSUM;
      }
      return compositeCrc32c(crc);
    });
  }

  /**
   * The COMPOSITE-CRC32C checksum with value crc: a {@link SluiceCompositeCrc32c}, which equals
   * Hadoop's CompositeCrcFileChecksum of the same value; {@link SluiceFileSystem} returns that
   * class itself where it exists (3.1+).
   */
  FileChecksum compositeCrc32c(int crc) {
    return new SluiceCompositeCrc32c(crc, CHECKSUM_BYTES_PER_CRC);
  }

  /** HDFS's checksum of an empty file or range: MD5-of-0MD5-of-0CRC32 of 32 zero bytes. */
  private static final FileChecksum NO_BYTES_CHECKSUM =
      new MD5MD5CRC32GzipFileChecksum(0, 0, MD5Hash.digest(new byte[32]));

  private long fileLength(long v, String p) throws IOException {
    NativeStat st = new NativeStat();
    NativeVolume.stat(v, user, groups, p, true, st);
    return st.length;
  }

  /** Whether recoverLease can fence writers here (capability fs.capability.lease.recoverable). */
  boolean leaseRecoverable() {
    return leases;
  }

  @Override
  public void concat(Path trg, Path[] psrcs) throws IOException {
    if (psrcs == null || psrcs.length == 0) {
      throw new IllegalArgumentException("concat into " + trg + ": no source files");
    }
    String t = pathOf(trg);
    String[] srcs = new String[psrcs.length];
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < psrcs.length; i++) {
      srcs[i] = pathOf(psrcs[i]);
      if (srcs[i].equals(t)) {
        throw new IllegalArgumentException("concat: the target " + trg + " is also a source");
      }
      if (!seen.add(srcs[i])) {
        throw new IllegalArgumentException("concat: source " + psrcs[i] + " given twice");
      }
    }
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.concat(v, user, groups, t, srcs);
      return null;
    });
  }

  // ---- attributes -------------------------------------------------------------------------------

  @Override
  public void setPermission(Path f, FsPermission permission) throws IOException {
    String p = pathOf(f);
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.chmod(v, user, groups, p, permission.toShort() & 07777);
      return null;
    });
  }

  // ---- ACLs (HDFS's model; the volume must have them on: sluice format --enable-acl or
  // juicefs config --enable-acl) ---------------------------------------------------------------

  private static final int ACL_SET = 0;
  private static final int ACL_MODIFY = 1;
  private static final int ACL_REMOVE_ENTRIES = 2;
  private static final int ACL_REMOVE_DEFAULT = 3;
  private static final int ACL_REMOVE = 4;

  private void aclChange(Path f, int op, List<AclEntry> spec) throws IOException {
    String p = pathOf(f);
    String[] entries = new String[spec == null ? 0 : spec.size()];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = spec.get(i).toString();
    }
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.aclChange(v, user, groups, p, op, entries);
      return null;
    });
  }

  @Override
  public void setAcl(Path f, List<AclEntry> aclSpec) throws IOException {
    aclChange(f, ACL_SET, aclSpec);
  }

  @Override
  public void modifyAclEntries(Path f, List<AclEntry> aclSpec) throws IOException {
    aclChange(f, ACL_MODIFY, aclSpec);
  }

  @Override
  public void removeAclEntries(Path f, List<AclEntry> aclSpec) throws IOException {
    aclChange(f, ACL_REMOVE_ENTRIES, aclSpec);
  }

  @Override
  public void removeDefaultAcl(Path f) throws IOException {
    aclChange(f, ACL_REMOVE_DEFAULT, null);
  }

  @Override
  public void removeAcl(Path f) throws IOException {
    aclChange(f, ACL_REMOVE, null);
  }

  @Override
  public AclStatus getAclStatus(Path f) throws IOException {
    String p = pathOf(f);
    statistics.incrementReadOps(1);
    FileStatus st = getFileStatus(f);
    String[] r = withVolume(v -> NativeVolume.getAcl(v, user, groups, p));
    FsPermission perm = new FsPermission((short) Integer.parseInt(r[0], 8));
    List<AclEntry> entries = new ArrayList<>(r.length - 1);
    for (int i = 1; i < r.length; i++) {
      entries.add(AclEntry.parseAclEntry(r[i], true));
    }
    return new AclStatus.Builder().owner(st.getOwner()).group(st.getGroup())
        .stickyBit(perm.getStickyBit()).setPermission(perm).addEntries(entries).build();
  }

  // ---- snapshots (HDFS's: read-only copies of a directory, read under DIR/.snapshot/NAME) ----

  private static final int SNAPSHOT_CREATE = 1;
  private static final int SNAPSHOT_DELETE = 2;
  private static final int SNAPSHOT_RENAME = 3;

  @Override
  public Path createSnapshot(Path dir, String name) throws IOException {
    String p = pathOf(dir);
    statistics.incrementWriteOps(1);
    String made = withVolume(
        v -> NativeVolume.snapshot(v, user, groups, p, SNAPSHOT_CREATE, name, null));
    return new Path(made); // unqualified, as HDFS returns it
  }

  @Override
  public void renameSnapshot(Path dir, String oldName, String newName) throws IOException {
    String p = pathOf(dir);
    statistics.incrementWriteOps(1);
    withVolume(v -> NativeVolume.snapshot(v, user, groups, p, SNAPSHOT_RENAME, oldName, newName));
  }

  @Override
  public void deleteSnapshot(Path dir, String name) throws IOException {
    String p = pathOf(dir);
    statistics.incrementWriteOps(1);
    withVolume(v -> NativeVolume.snapshot(v, user, groups, p, SNAPSHOT_DELETE, name, null));
  }

  @Override
  public void setOwner(Path f, String username, String groupname) throws IOException {
    String p = pathOf(f);
    if (username == null && groupname == null) {
      throw new IOException("setOwner " + f + ": username and groupname cannot both be null");
    }
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.chown(v, user, groups, p, username, groupname);
      return null;
    });
  }

  @Override
  public void setTimes(Path f, long mtime, long atime) throws IOException {
    String p = pathOf(f);
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.utimes(v, user, groups, p, mtime, atime);
      return null;
    });
  }

  // ---- xattrs -----------------------------------------------------------------------------------

  @Override
  public void setXAttr(Path f, String name, byte[] value, EnumSet<XAttrSetFlag> flag)
      throws IOException {
    String p = pathOf(f);
    boolean create = flag.contains(XAttrSetFlag.CREATE);
    boolean replace = flag.contains(XAttrSetFlag.REPLACE);
    int nflags = create && !replace ? NativeVolume.XATTR_CREATE
        : replace && !create ? NativeVolume.XATTR_REPLACE : 0;
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.setxattr(v, user, groups, p, name, value == null ? new byte[0] : value,
          nflags);
      return null;
    });
  }

  @Override
  public byte[] getXAttr(Path f, String name) throws IOException {
    String p = pathOf(f);
    statistics.incrementReadOps(1);
    return withVolume(v -> {
      byte[] value = NativeVolume.getxattr(v, user, groups, p, name);
      if (value == null) {
        throw new IOException("No attribute " + name + " on " + f);
      }
      return value;
    });
  }

  @Override
  public Map<String, byte[]> getXAttrs(Path f) throws IOException {
    return getXAttrs(f, listXAttrs(f));
  }

  @Override
  public Map<String, byte[]> getXAttrs(Path f, List<String> names) throws IOException {
    String p = pathOf(f);
    statistics.incrementReadOps(1);
    Map<String, byte[]> out = new LinkedHashMap<>();
    return withVolume(v -> {
      for (String name : names) {
        byte[] value = NativeVolume.getxattr(v, user, groups, p, name);
        if (value == null) {
          throw new IOException("No attribute " + name + " on " + f);
        }
        out.put(name, value);
      }
      return out;
    });
  }

  @Override
  public List<String> listXAttrs(Path f) throws IOException {
    String p = pathOf(f);
    statistics.incrementReadOps(1);
    return withVolume(v -> {
      String[] names = NativeVolume.listxattr(v, user, groups, p);
      return names == null ? new ArrayList<>() : new ArrayList<>(Arrays.asList(names));
    });
  }

  @Override
  public void removeXAttr(Path f, String name) throws IOException {
    String p = pathOf(f);
    statistics.incrementWriteOps(1);
    withVolume(v -> {
      NativeVolume.removexattr(v, user, groups, p, name);
      return null;
    });
  }

  // ---- summaries and locality -------------------------------------------------------------------

  @Override
  public ContentSummary getContentSummary(Path f) throws IOException {
    String p = pathOf(f);
    statistics.incrementReadOps(1);
    return withVolume(v -> {
      long[] s;
      try {
        s = NativeVolume.summary(v, user, groups, p);
      } catch (ParentNotDirectoryException e) {
        FileNotFoundException fnf = new FileNotFoundException(f + ": a parent is a file");
        fnf.initCause(e);
        throw fnf;
      }
      // the directory's own quota (juicefs quota set / sluice quota set), -1 where none;
      // FileSystem.getQuotaUsage builds on this
      return new ContentSummary.Builder().length(s[0]).fileCount(s[1]).directoryCount(s[2])
          .spaceConsumed(s[3]).quota(s[5]).spaceQuota(s[4]).build();
    });
  }

  /**
   * Capacity (the volume's quota, else 1 PiB more than used), used and remaining bytes. Used
   * counts every change committed in this process, through any instance (the native call first
   * flushes the usage every handle of the process keeps in memory); other processes' changes
   * count within about a second (each flushes its usage once a second).
   */
  @Override
  public FsStatus getStatus(Path p) throws IOException {
    statistics.incrementReadOps(1);
    return withVolume(v -> {
      long[] s = NativeVolume.statfs(v);
      return new FsStatus(s[0], s[1], s[2]);
    });
  }

  /**
   * The volume's logical block size, one replica (redundancy is the object store's), no
   * client-side checksums (the checksum type is NULL: blocks are verified natively), and the
   * client's buffer size and trash interval.
   */
  @Override
  @SuppressWarnings("deprecation")
  public FsServerDefaults getServerDefaults() throws IOException {
    Configuration conf = getConf();
    // bytes per checksum and write packet size: HDFS's defaults, meaningless without checksums
    return new FsServerDefaults(blockSize, 512, 64 * 1024, (short) 1,
        conf.getInt(CommonConfigurationKeysPublic.IO_FILE_BUFFER_SIZE_KEY,
            CommonConfigurationKeysPublic.IO_FILE_BUFFER_SIZE_DEFAULT),
        false,
        conf.getLong(CommonConfigurationKeysPublic.FS_TRASH_INTERVAL_KEY,
            CommonConfigurationKeysPublic.FS_TRASH_INTERVAL_DEFAULT),
        DataChecksum.Type.NULL);
  }

  @Override
  public FsServerDefaults getServerDefaults(Path p) throws IOException {
    return getServerDefaults();
  }

  /**
   * One location per logical block (sluice.block.size). With a node list (sluice.nodes) its hosts
   * are those the volume's consistent hash ring picks for the block (sluice.cache-replicas of
   * them), the same in every process, under topology path /default-rack/HOST; without one every
   * block is on "localhost", as the FileSystem spec says.
   */
  @Override
  public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len)
      throws IOException {
    if (file == null) {
      return null;
    }
    if (start < 0 || len < 0) {
      throw new IllegalArgumentException("Invalid start or len parameter: " + start + ", " + len);
    }
    if (file.getLen() <= start) {
      return new BlockLocation[0];
    }
    if (file.isDirectory()) {
      return new BlockLocation[0];
    }
    String p = pathOf(file.getPath());
    statistics.incrementReadOps(1);
    long[] blocks = withVolume(v -> NativeVolume.fileBlocks(v, user, groups, p, start, len));
    String[][] blockHosts = !hasNodes ? null
        : withVolume(v -> NativeVolume.fileBlockHosts(v, user, groups, p, start, len));
    String[] hosts = {"localhost"};
    String[] names = {"localhost:9866"};
    BlockLocation[] out = new BlockLocation[blocks.length / 2];
    for (int i = 0; i < out.length; i++) {
      // block i of both calls is the same (inode, index) key even if the file changed between them
      String[] h = blockHosts != null && i < blockHosts.length ? blockHosts[i] : null;
      if (h == null || h.length == 0) {
        out[i] = new BlockLocation(names, hosts, blocks[2 * i], blocks[2 * i + 1]);
        continue;
      }
      String[] topology = new String[h.length];
      for (int k = 0; k < h.length; k++) {
        topology[k] = "/default-rack/" + h[k];
      }
      out[i] = new BlockLocation(h.clone(), h, topology, blocks[2 * i], blocks[2 * i + 1]);
    }
    return out;
  }

  /** Operation counters and the counters of every stream closed so far (SluiceStatistic). */
  // ---- lifecycle --------------------------------------------------------------------------------

  @Override
  public void close() throws IOException {
    if (volume == null || volume.isClosed()) {
      super.close();
      return;
    }
    IOException failure = null;
    try {
      super.close(); // deletes deleteOnExit paths, leaves the cache
    } catch (IOException e) {
      failure = e;
    }
    try {
      failure = closeStreams(failure);
      // streams opened by calls that were in flight are closed before the handle goes away
      nativeLog.cancel(false);
      volume.close(h -> {
        IOException late = closeStreams(null);
        SluiceNativeLog.drain(h, uri.toString());
        NativeVolume.shutdown(h);
        if (late != null) {
          throw late;
        }
      });
    } catch (IOException e) {
      failure = IOFailures.add(failure, e);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Closes the streams still open (writers make their data durable); returns the failures. */
  private IOException closeStreams(IOException failure) {
    for (Closeable stream : openStreams.toArray(new Closeable[0])) {
      try {
        stream.close();
      } catch (IOException e) {
        failure = IOFailures.add(failure, e);
      } finally {
        openStreams.remove(stream);
      }
    }
    return failure;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** One read operation: in Hadoop's FileSystem.Statistics and as op in this filesystem's. */
  private void countRead(SluiceStatistic op) {
    statistics.incrementReadOps(1);
    counters.increment(op);
  }

  /** One write operation: in Hadoop's FileSystem.Statistics and as op in this filesystem's. */
  private void countWrite(SluiceStatistic op) {
    statistics.incrementWriteOps(1);
    counters.increment(op);
  }

  private boolean exists(long v, String p) throws IOException {
    return statOrNull(v, p) != null;
  }

  /** stat, or null when the path (or a parent) does not exist. */
  private NativeStat statOrNull(long v, String p) throws IOException {
    NativeStat st = new NativeStat();
    try {
      NativeVolume.stat(v, user, groups, p, true, st);
      return st;
    } catch (FileNotFoundException | ParentNotDirectoryException e) {
      return null;
    }
  }

  /** A SluiceFileStatus (with an etag where Hadoop has EtagSource): see SluiceFileStatuses. */
  private FileStatus toStatus(NativeStat st, Path qualified) {
    return SluiceFileStatuses.status(st, blockSize, qualified);
  }

  String getVolumeName() {
    return volumeName;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "{" + uri + ", user=" + userName + "}";
  }
}
