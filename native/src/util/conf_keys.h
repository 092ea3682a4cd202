/*
 * conf_keys.h - every configuration key of libsluice with its default and meaning, in one table.
 * X(key string, default or NULL, is-size, client, description); client: a setting a Hadoop
 * client passes from its configuration ("sluice.KEY") to libsluice (hdfs/conf.c, and Java's
 * SluiceConstants.NATIVE_KEYS, which TestSluiceConfKeys holds to this table).
 */
#ifndef SL_CONF_KEYS_H
#define SL_CONF_KEYS_H

#define SL_CONF_KEYS(X)                                                                        \
	X("meta", NULL, 0, 1, "META-URL of the volume: sqlite3://PATH or mysql://USER:PASS@(HOST:PORT)/DB") \
	X("user", NULL, 0, 0, "default user name when a call passes none (default: the process owner)") \
	X("superuser", "hdfs", 0, 1, "user with all permissions, as HDFS's superuser (its NameNode user)") \
	X("supergroup", "supergroup", 0, 1, "members of this group are superusers")                 \
	X("access-key", NULL, 0, 1, "object storage access key; overrides the one in the format")   \
	X("secret-key", NULL, 0, 1, "object storage secret key; overrides the one in the format")   \
	X("bucket", NULL, 0, 1, "overrides the bucket (endpoint) recorded in the format")           \
	X("encrypt.passphrase", NULL, 0, 1, "passphrase of an encrypted volume's RSA key (default: JFS_RSA_PASSPHRASE from the environment, as juicefs)") \
	X("s3.region", NULL, 0, 1, "SigV4 region (default: from the endpoint URL, else us-east-1)")                       \
	X("s3.path-style", NULL, 0, 1, "true/false; default: path style for IP/localhost endpoints") \
	X("s3.ca-file", NULL, 0, 1, "CA bundle to verify HTTPS endpoints (default: system store)")  \
	X("io-retries", "10", 0, 1, "attempts for a transient object storage failure")               \
	X("meta-retry-seconds", "60", 0, 1, "seconds a metadata operation keeps retrying while the database cannot be reached (restart, failover); it stalls, then completes") \
	X("io-timeout", "60", 0, 1, "seconds before one object request is abandoned and retried")   \
	X("connect-timeout", "10", 0, 1, "seconds to connect to object storage")                    \
	X("max-uploads", "20", 0, 1, "parallel block uploads per volume")                           \
	X("max-downloads", "20", 0, 1, "parallel block downloads per volume")                       \
	X("memory-size", "300M", 1, 1, "hard limit for read and write buffers of a volume")          \
	X("readahead", "64M", 1, 1, "readahead window of a sequential reader (grows up to it)")     \
	X("block.size", "128M", 1, 1, "logical block size reported for split planning")             \
	X("nodes", NULL, 0, 1, "host[:weight],... (or /path of such a list on the volume) for block placement") \
	X("nodes-refresh", "60", 0, 1, "seconds between re-reads of a nodes list kept in a file on the volume") \
	X("cache-group.port", NULL, 0, 1, "TCP port of the cache group's block servers, the same on every node of nodes (unset: no cache group)") \
	X("cache-group.host", NULL, 0, 1, "this node's name in nodes; the block server listens at its address (default: the host name)") \
	X("cache-group.serve", "true", 0, 1, "serve this node's blocks to the group (false: only read from it, where `sluice cache-server` serves the node)") \
	X("cache-group.timeout", "1000", 0, 1, "milliseconds a read waits for a peer before it asks the next owner or object storage") \
	X("hflush.replicas", NULL, 0, 1, "copies of an hflushed block before hflush returns, the writer's staged one included, kept by the block's owners in the cache group (default 2 with cache-group.port, else 1)") \
	X("hflush.commit", "sync", 0, 1, "sync: hflush returns after its metadata commit; background: once its blocks are staged with every copy, the commit following within hflush.commit-delay (needs a cache dir and a cache group this process serves; readers with the same setting ask the group for it)") \
	X("hflush.commit-delay", "0", 0, 1, "milliseconds a background commit may wait, to share its transaction with later hflushes (0-60000)") \
	X("cache-replicas", "1", 0, 1, "hosts per logical block in getFileBlockLocations (1-4)")   \
	X("cache-dir", NULL, 0, 1, "':'-separated local directories for the disk block cache and hflush staging (unset: none; hflush then waits for object storage)") \
	X("cache-size", "100G", 1, 1, "total size of cached blocks over all cache directories")      \
	X("free-space-ratio", "0.1", 0, 1, "keep at least this fraction of each cache file system free") \
	X("cache-writers", "4", 0, 1, "blocks written into one cache directory at once; more are not cached (0: no limit)") \
	X("cache-full-block", "true", 0, 1, "cache blocks read sequentially too (false: only random reads)") \
	X("get-timeout", "60", 0, 1, "seconds a reader waits for a committed block that is not in object storage yet") \
	X("attr-cache", "0", 0, 1, "seconds attributes may be served from the metadata cache (0: off)") \
	X("entry-cache", "0", 0, 1, "seconds a file's path lookup may be served from the metadata cache (0: off)") \
	X("dir-entry-cache", "0", 0, 1, "seconds a directory's path lookup may be served from the metadata cache (0: off)") \
	X("open-cache", "0", 0, 1, "seconds the chunk lists of a file opened for reading may be reused (0: off)") \
	X("heartbeat", "12", 0, 1, "seconds between session heartbeats")                            \
	X("leases", "true", 0, 1, "output streams hold a writer lease as in HDFS (recoverLease fences them); false: several writers per file, as JuiceFS") \
	X("lease-hard-limit", "1200", 0, 1, "seconds after a writer's session expired (its process died) before its files are closed by themselves, as HDFS's hard limit; until then isFileClosed is false unless the lease is recovered") \
	X("read-only", "false", 0, 1, "open the volume read-only (no session, no writes)")          \
	X("users-file", NULL, 0, 1, "passwd-style file mapping user names to uids (default: system)") \
	X("groups-file", NULL, 0, 1, "group-style file mapping group names to gids (default: system)") \
	X("log-level", "warn", 0, 1, "error, warn, info or debug (to stderr; from Hadoop, to SLF4J: log-queue)")                \
	X("log-queue", "0", 0, 0, "lines kept for the program to take (sluice_log_next) instead of writing them to stderr; 0: stderr. The Hadoop client sets it and hands the lines to SLF4J") \
	X("kerberos.principal", NULL, 0, 1, "gateway mode: the client principal (default: the ticket cache's or keytab's)") \
	X("kerberos.keytab", NULL, 0, 1, "gateway mode: log in from this keytab instead of the ticket cache") \
	X("kerberos.ccache", NULL, 0, 1, "gateway mode: ticket cache name (default: KRB5CCNAME or the system default)") \
	X("token.identifier", NULL, 0, 0, "gateway mode: a delegation token's identifier (base64); with token.password the client authenticates with it instead of Kerberos") \
	X("token.password", NULL, 0, 0, "gateway mode: the delegation token's password (base64)")    \
	X("gateway.principal", NULL, 0, 1, "the gateway's service principal (default: sluice/HOST, HOST from the META-URL)") \
	X("gateway.protection", "integrity", 0, 1, "integrity or privacy (also encrypt): what this end requires of gateway messages") \
	X("gateway.connections", "8", 0, 1, "connections a client keeps open to the gateway")        \
	X("gateway.listen", "0.0.0.0:9810", 0, 0, "gateway: address and port to listen on")           \
	X("metrics.listen", NULL, 0, 0, "gateway and cache-server: HOST:PORT to serve /metrics on (Prometheus text format; port 0 picks one); unset: none") \
	X("gateway.keytab", NULL, 0, 0, "gateway: keytab with the service principal's keys (required)") \
	X("gateway.rcache", NULL, 0, 0, "gateway: replay cache (default: MIT's, in the system temp directory)") \
	X("gateway.max-connections", "256", 0, 0, "gateway: connections served at once; more are refused") \
	X("gateway.idle-timeout", "300", 0, 0, "gateway: seconds before an idle connection is closed") \
	X("gateway.handshake-timeout", "20", 0, 0, "gateway: seconds for a client to authenticate")   \
	X("gateway.max-frame", "16M", 1, 0, "gateway: largest message accepted")                     \
	X("gateway.token.max-lifetime", "604800", 0, 0, "gateway: seconds a delegation token can live at most, renewals included") \
	X("gateway.token.renew-interval", "86400", 0, 0, "gateway: seconds a delegation token lives after its issue or last renewal") \
	X("gateway.token.key-update-interval", "86400", 0, 0, "gateway: seconds a master key signs new delegation tokens before a new one is made") \
	X("gateway.presign-expiry", "900", 0, 0, "gateway: seconds a presigned object URL handed to a client stays valid (1-604800)") \
	X("gateway.grant-lifetime", "86400", 0, 0, "gateway: seconds a client may upload blocks of the slice ids it was handed (staged writes included)") \
	X("auth-to-local", "DEFAULT", 0, 0, "gateway: Hadoop auth_to_local rules mapping principals to user names") \
	X("auth-to-local.mechanism", "hadoop", 0, 0, "gateway: hadoop or mit (what happens when no rule applies)") \
	X("group-mapping.static", NULL, 0, 0, "gateway: user1=g1,g2;user2=; groups that override the system's") \
	X("proxyuser.*", NULL, 0, 0, "gateway: proxyuser.<user>.hosts/users/groups, as Hadoop's hadoop.proxyuser.*")

#endif
