package io.sluice.hadoop;

/**
 * Every Hadoop configuration key of the sluice:// FileSystem with its default beside it, in one
 * place (docs/configuration.md describes the native keys these map onto).
 *
 * <p>Each native key {@code K} of libsluice is read from the Hadoop key {@code sluice.K}; a
 * per-volume key {@code sluice.<volume>.K} wins over it, so one core-site.xml can describe several
 * volumes. Only keys that are set are handed to the native layer (which rejects unknown keys and
 * owns the real defaults); the defaults below are documentation and what the Java side assumes.
 */
public final class SluiceConstants {
  private SluiceConstants() {}

  /** The URI scheme: {@code sluice://<volume>/path}. */
  public static final String SCHEME = "sluice";

  /**
   * Hadoop finds the FileSystem through META-INF/services ({@link #FS_SLUICE_IMPL_210}, which
   * loads on every Hadoop from 2.10 on), and a default resource of the jar sets this key to the
   * richest class that loads ({@link #FS_SLUICE_IMPL_DEFAULT} on Hadoop 3.3.1 to 3.3.5, {@link
   * #FS_SLUICE_IMPL_336} on 3.3.6+; see HadoopCompat). Set it only where the services file is not
   * read (Spark's spark.jars): {@link #FS_SLUICE_IMPL_DEFAULT} works on every version from 3.3.1
   * on, {@link #FS_SLUICE_IMPL_336} on 3.3.6+ only, {@link #FS_SLUICE_IMPL_210} on 2.10.
   */
  public static final String FS_SLUICE_IMPL = "fs.sluice.impl";
  /** The FileSystem with Hadoop 3.3.1's API (IOStatistics, openFile, path handles). */
  public static final String FS_SLUICE_IMPL_DEFAULT = "io.sluice.hadoop.SluiceFileSystem";
  /** The FileSystem with Hadoop 3.3.6's interfaces (SafeMode); fails to load on older Hadoop. */
  public static final String FS_SLUICE_IMPL_336 = "io.sluice.hadoop.SluiceFileSystem336";
  /** The FileSystem that loads on every Hadoop from 2.10 on (the one to name on 2.10). */
  public static final String FS_SLUICE_IMPL_210 = "io.sluice.hadoop.SluiceFileSystem210";

  /**
   * FileContext binding: Hadoop finds AbstractFileSystems only through this key (there is no
   * service loader for them). A default resource of the jar sets it once Hadoop has loaded the
   * FileSystem from META-INF/services (see HadoopCompat); set it where that is not read (Spark's
   * spark.jars) or where FileContext comes before any FileSystem.
   */
  public static final String FS_ABSTRACT_SLUICE_IMPL = "fs.AbstractFileSystem.sluice.impl";
  public static final String FS_ABSTRACT_SLUICE_IMPL_DEFAULT = "io.sluice.hadoop.Sluice";

  /** Prefix of every sluice key; {@code sluice.<volume>.} is the per-volume prefix. */
  public static final String PREFIX = "sluice.";

  /** Path of an installed libsluice.so; unset: the copy inside the jar. Not per volume. */
  public static final String NATIVE_PATH = "sluice.native.path";

  // ---- keys handed to the native layer (sluice.<key> -> <key>) --------------------------------
  // The constant is the native key; the Hadoop key is PREFIX + it (see hadoopKey()).

  /**
   * Required. META-URL: sqlite3://PATH or mysql://USER:PASS@(HOST:PORT)/DB (direct mode), or
   * gateway://HOST[:PORT] (Kerberos mode, docs/security.md).
   */
  public static final String META = "meta";

  /**
   * The user who passes every permission check, as HDFS's superuser (the NameNode's user); root is
   * an ordinary user unless named here. Members of {@link #SUPERGROUP} are superusers too.
   */
  public static final String SUPERUSER = "superuser";
  public static final String SUPERUSER_DEFAULT = "hdfs";

  public static final String SUPERGROUP = "supergroup";
  public static final String SUPERGROUP_DEFAULT = "supergroup";

  /** Object storage credentials; default: those in the volume's format record. */
  public static final String ACCESS_KEY = "access-key";
  public static final String SECRET_KEY = "secret-key";

  /** Overrides the bucket (endpoint) recorded in the volume's format record. */
  public static final String BUCKET = "bucket";

  /**
   * Passphrase of an encrypted volume's RSA key (a secret: credential providers work); default:
   * JFS_RSA_PASSPHRASE from the environment, as juicefs.
   */
  public static final String ENCRYPT_PASSPHRASE = "encrypt.passphrase";

  /** SigV4 region; default: from the endpoint URL, else us-east-1. */
  public static final String S3_REGION = "s3.region";

  /** true/false; default (unset): path style for IP addresses, localhost and minio. */
  public static final String S3_PATH_STYLE = "s3.path-style";

  /** CA bundle for HTTPS endpoints; default: the system trust store. */
  public static final String S3_CA_FILE = "s3.ca-file";

  public static final String IO_RETRIES = "io-retries";
  public static final int IO_RETRIES_DEFAULT = 10;

  /**
   * Seconds a metadata operation keeps retrying while the database cannot be reached (a restart,
   * a failover): the operation stalls, then completes.
   */
  public static final String META_RETRY_SECONDS = "meta-retry-seconds";
  public static final int META_RETRY_SECONDS_DEFAULT = 60;

  /** Seconds before one object request is abandoned and retried. */
  public static final String IO_TIMEOUT = "io-timeout";
  public static final int IO_TIMEOUT_DEFAULT = 60;

  /** Seconds to connect to object storage. */
  public static final String CONNECT_TIMEOUT = "connect-timeout";
  public static final int CONNECT_TIMEOUT_DEFAULT = 10;

  public static final String MAX_UPLOADS = "max-uploads";
  public static final int MAX_UPLOADS_DEFAULT = 20;

  public static final String MAX_DOWNLOADS = "max-downloads";
  public static final int MAX_DOWNLOADS_DEFAULT = 20;

  /** Hard limit of read and write buffers of one volume handle (k, M, G, T suffixes). */
  public static final String MEMORY_SIZE = "memory-size";
  public static final String MEMORY_SIZE_DEFAULT = "300M";

  /** Largest readahead window of a sequential reader. */
  public static final String READAHEAD = "readahead";
  public static final String READAHEAD_DEFAULT = "64M";

  /** Logical block size for split planning (getFileBlockLocations, getDefaultBlockSize). */
  public static final String BLOCK_SIZE = "block.size";
  public static final String BLOCK_SIZE_DEFAULT = "128M";

  /**
   * Hosts that logical blocks are placed on: {@code host[:weight],...} (weight 1-1000, default 1).
   * getFileBlockLocations reports, per block, hosts chosen by a consistent hash ring with weighted
   * virtual nodes, the same in every process. Unset: every block is on "localhost".
   */
  public static final String NODES = "nodes";

  /** Hosts per logical block in getFileBlockLocations (1-4, capped at the number of nodes). */
  public static final String CACHE_REPLICAS = "cache-replicas";
  public static final int CACHE_REPLICAS_DEFAULT = 1;

  /**
   * TCP port of the cache group's block servers, the same on every node of {@link #NODES};
   * unset: no cache group.
   */
  public static final String CACHE_GROUP_PORT = "cache-group.port";

  /** This node's name in {@link #NODES} (default: the host name). */
  public static final String CACHE_GROUP_HOST = "cache-group.host";

  /**
   * Whether this process serves its node's blocks to the group (false: it only reads from it,
   * where {@code sluice cache-server} serves the node).
   */
  public static final String CACHE_GROUP_SERVE = "cache-group.serve";
  public static final boolean CACHE_GROUP_SERVE_DEFAULT = true;

  /** Milliseconds a read waits for a peer before it asks the next owner or object storage. */
  public static final String CACHE_GROUP_TIMEOUT = "cache-group.timeout";
  public static final int CACHE_GROUP_TIMEOUT_DEFAULT = 1000;

  /**
   * Copies of an hflushed block before hflush returns, the writer's included (default 2 with a
   * cache group, else 1).
   */
  public static final String HFLUSH_REPLICAS = "hflush.replicas";

  /**
   * "sync": hflush returns after its metadata commit; "background": once its blocks are staged
   * with every copy, the commit following within {@link #HFLUSH_COMMIT_DELAY} (needs a cache dir
   * and a cache group this process serves; readers with the same setting ask the group for it).
   */
  public static final String HFLUSH_COMMIT = "hflush.commit";
  public static final String HFLUSH_COMMIT_DEFAULT = "sync";

  /** Milliseconds a background commit may wait to share its transaction with later hflushes. */
  public static final String HFLUSH_COMMIT_DELAY = "hflush.commit-delay";
  public static final int HFLUSH_COMMIT_DELAY_DEFAULT = 0;

  /** Seconds between re-reads of a nodes list kept in a file on the volume. */
  public static final String NODES_REFRESH = "nodes-refresh";
  public static final int NODES_REFRESH_DEFAULT = 60;

  /**
   * ':'-separated local directories for the disk block cache and hflush staging. Unset (or none
   * usable): no disk cache, and hflush waits for object storage like hsync.
   */
  public static final String CACHE_DIR = "cache-dir";

  /** Total size of cached blocks over all cache directories. */
  public static final String CACHE_SIZE = "cache-size";
  public static final String CACHE_SIZE_DEFAULT = "100G";

  /** Keep at least this fraction of each cache file system free. */
  public static final String FREE_SPACE_RATIO = "free-space-ratio";
  public static final double FREE_SPACE_RATIO_DEFAULT = 0.1;

  /** Blocks written into one cache directory at once; more are not cached (0: no limit). */
  public static final String CACHE_WRITERS = "cache-writers";
  public static final int CACHE_WRITERS_DEFAULT = 4;

  /** Cache blocks read sequentially too (false: only random reads). */
  public static final String CACHE_FULL_BLOCK = "cache-full-block";
  public static final boolean CACHE_FULL_BLOCK_DEFAULT = true;

  /** Seconds a reader waits for a committed block that is not in object storage yet. */
  public static final String GET_TIMEOUT = "get-timeout";
  public static final int GET_TIMEOUT_DEFAULT = 60;

  /** Seconds the metadata cache may serve attributes, file and directory lookups, chunk lists. */
  public static final String ATTR_CACHE = "attr-cache";
  public static final String ENTRY_CACHE = "entry-cache";
  public static final String DIR_ENTRY_CACHE = "dir-entry-cache";
  public static final String OPEN_CACHE = "open-cache";

  /** Seconds between session heartbeats. */
  public static final String HEARTBEAT = "heartbeat";
  public static final int HEARTBEAT_DEFAULT = 12;

  /**
   * Output streams hold their file's writer lease, as in HDFS (recoverLease fences them); false:
   * several writers per file, as JuiceFS.
   */
  public static final String LEASES = "leases";
  public static final boolean LEASES_DEFAULT = true;

  /**
   * Seconds after a writer's session expired (its process died) before its files close by
   * themselves, as HDFS's lease hard limit; until then isFileClosed is false unless the lease is
   * recovered.
   */
  public static final String LEASE_HARD_LIMIT = "lease-hard-limit";
  public static final int LEASE_HARD_LIMIT_DEFAULT = 1200;

  /** Open without a session; every change fails. */
  public static final String READ_ONLY = "read-only";
  public static final boolean READ_ONLY_DEFAULT = false;

  /** passwd-style / group-style files mapping names to ids; default: the system's. */
  public static final String USERS_FILE = "users-file";
  public static final String GROUPS_FILE = "groups-file";

  /** error, warn, info or debug (to stderr). */
  public static final String LOG_LEVEL = "log-level";
  public static final String LOG_LEVEL_DEFAULT = "warn";
  /** Not a Hadoop setting: the client has libsluice queue its log lines for SLF4J. */
  public static final String LOG_QUEUE = "log-queue";

  /**
   * Kerberos mode (sluice.meta = gateway://HOST[:PORT], docs/security.md): the client principal
   * and the keytab to log in from, or the ticket cache (default: Hadoop's
   * hadoop.security.kerberos.ticket.cache.path, else KRB5CCNAME, else the system's).
   */
  public static final String KERBEROS_PRINCIPAL = "kerberos.principal";
  public static final String KERBEROS_KEYTAB = "kerberos.keytab";
  public static final String KERBEROS_CCACHE = "kerberos.ccache";
  /** Hadoop's own ticket cache setting, the default of {@link #KERBEROS_CCACHE}. */
  public static final String HADOOP_TICKET_CACHE = "hadoop.security.kerberos.ticket.cache.path";

  /** The gateway's service principal; default sluice/HOST with HOST from the META-URL. */
  public static final String GATEWAY_PRINCIPAL = "gateway.principal";
  /** integrity, or privacy (also encrypted): the least this client accepts. */
  public static final String GATEWAY_PROTECTION = "gateway.protection";
  public static final String GATEWAY_PROTECTION_DEFAULT = "integrity";
  /** Authenticated connections a client keeps open to the gateway. */
  public static final String GATEWAY_CONNECTIONS = "gateway.connections";
  public static final int GATEWAY_CONNECTIONS_DEFAULT = 8;

  // ---- delegation tokens (Kerberos mode) -------------------------------------------------------

  /** Scheme of a gateway META-URL: {@code gateway://HOST[:PORT]} selects Kerberos mode. */
  public static final String GATEWAY_SCHEME = "gateway";
  /** Port of a gateway META-URL that names none. */
  public static final int GATEWAY_PORT_DEFAULT = 9810;

  /** Kind of the delegation tokens a gateway issues (SLUICE_TOKEN_KIND in sluice.h). */
  public static final String TOKEN_KIND = "SLUICE_DELEGATION_TOKEN";

  /**
   * Native keys that make a volume handle authenticate to the gateway with a delegation token
   * (base64 of the token's identifier and password) instead of Kerberos. Never read from Hadoop
   * configuration: the FileSystem sets them from a token in the caller's UGI (see
   * SluiceFileSystem210's class comment).
   */
  public static final String TOKEN_IDENTIFIER = "token.identifier";
  public static final String TOKEN_PASSWORD = "token.password";

  /**
   * The native keys that may be set from Hadoop configuration, in the order they are passed: the
   * client keys of native/src/util/conf_keys.h (TestSluiceConfKeys holds the two together).
   * "user" is not here: the FileSystem passes its UGI user on every call instead.
   */
  static final String[] NATIVE_KEYS = {
    META, SUPERUSER, SUPERGROUP, ACCESS_KEY, SECRET_KEY, BUCKET, ENCRYPT_PASSPHRASE, S3_REGION,
    S3_PATH_STYLE,
    S3_CA_FILE, IO_RETRIES, META_RETRY_SECONDS, IO_TIMEOUT, CONNECT_TIMEOUT, MAX_UPLOADS,
    MAX_DOWNLOADS, MEMORY_SIZE, READAHEAD, BLOCK_SIZE, NODES, NODES_REFRESH, CACHE_REPLICAS,
    CACHE_GROUP_PORT, CACHE_GROUP_HOST, CACHE_GROUP_SERVE, CACHE_GROUP_TIMEOUT, HFLUSH_REPLICAS,
    HFLUSH_COMMIT, HFLUSH_COMMIT_DELAY,
    CACHE_DIR, CACHE_SIZE, FREE_SPACE_RATIO, CACHE_WRITERS, CACHE_FULL_BLOCK, GET_TIMEOUT,
    ATTR_CACHE, ENTRY_CACHE, DIR_ENTRY_CACHE, OPEN_CACHE, HEARTBEAT, LEASES, LEASE_HARD_LIMIT,
    READ_ONLY, USERS_FILE, GROUPS_FILE, LOG_LEVEL, KERBEROS_PRINCIPAL, KERBEROS_KEYTAB,
    KERBEROS_CCACHE, GATEWAY_PRINCIPAL, GATEWAY_PROTECTION, GATEWAY_CONNECTIONS,
  };

  /** The Kerberos login keys, which a delegation token replaces. */
  static final String[] KERBEROS_KEYS = {KERBEROS_PRINCIPAL, KERBEROS_KEYTAB, KERBEROS_CCACHE};

  /** Keys whose values are read through Configuration.getPassword (credential providers). */
  static final String[] SECRET_KEYS = {META, ACCESS_KEY, SECRET_KEY, ENCRYPT_PASSPHRASE};

  /** {@code sluice.<key>}. */
  public static String hadoopKey(String nativeKey) {
    return PREFIX + nativeKey;
  }

  /** {@code sluice.<volume>.<key>}, which wins over {@link #hadoopKey}. */
  public static String volumeKey(String volume, String nativeKey) {
    return PREFIX + volume + "." + nativeKey;
  }
}
