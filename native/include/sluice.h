/*
 * sluice.h - the one public C API of libsluice: a JuiceFS-compatible volume (metadata in SQL,
 * data in object storage) exposed with the operations a Hadoop FileSystem needs.
 *
 * Conventions
 *  - Every function returning int returns 0 (or a non-negative count) on success and a negative
 *    errno value on failure. The message for the last failure on a volume (or one of its files) in
 *    the calling thread is sluice_last_error(); messages never contain secrets.
 *  - A sluice_volume is safe to use from many threads at once. A sluice_file may be used from many
 *    threads too: writes and flushes are serialized inside, sluice_pread never moves the position.
 *  - Paths are absolute, '/'-separated, without scheme or authority ("/user/alice/data.csv").
 *  - Growth past a limit fails before anything changes: -ENOSPC past the volume's capacity or
 *    inode limit, -EDQUOT past a directory quota (the message of an inode quota's refusal starts
 *    with SLUICE_INODE_QUOTA_MSG, so that callers can tell it from a space quota's).
 *  - Deleting a directory that has snapshots fails with -EPERM and a message that contains
 *    SLUICE_HAS_SNAPSHOTS_MSG.
 *  - Every call that checks permissions takes a sluice_user (name and groups, as Hadoop's UGI
 *    knows them); NULL means the volume's default user from the config ("user", default: the
 *    process owner).
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_VERSION_MAJOR 0
#define SLUICE_VERSION_MINOR 1
#define SLUICE_VERSION_PATCH 0
#define SLUICE_VERSION_STRING "0.1.0"

#define SLUICE_INODE_QUOTA_MSG "inode quota exceeded"
#define SLUICE_HAS_SNAPSHOTS_MSG "has snapshots"

/* ABI version: bumped whenever a struct below or a signature changes; the JNI loader refuses a
 * library whose ABI differs from the one it was built for. */
#define SLUICE_ABI_VERSION 4

typedef struct sluice_volume sluice_volume;
typedef struct sluice_file sluice_file;
typedef struct sluice_dir sluice_dir;

/* ---- versions and errors ------------------------------------------------------------------ */
const char *sluice_version(void);
int sluice_abi_version(void);
/* Message of the last failed call made by this thread on vol or on one of its files. */
const char *sluice_last_error(sluice_volume *vol);

/* ---- volume lifecycle ---------------------------------------------------------------------- */
/* A configuration is a list of key/value pairs, see docs/configuration.md. The only required key
 * is "meta" (a META-URL such as sqlite3:///var/lib/sluice/vol.db or
 * mysql://user:pass@(host:3306)/db). On failure *out is NULL and errmsg (errmsg_size bytes, may be
 * NULL) says why. */
typedef struct sluice_kv {
	const char *key;
	const char *value;
} sluice_kv;

int sluice_init(const sluice_kv *conf, size_t nconf, sluice_volume **out, char *errmsg,
		size_t errmsg_size);
/* Creates a volume (or updates the settings that may change: storage, bucket, keys, trash days,
 * quotas) with the same metadata tables, format record and object layout as `juicefs format`.
 * Tests the object storage first (write, read back, delete) and refuses storage that already
 * holds another volume's data under the same name. */
typedef struct sluice_format_options {
	const char *meta_url;
	const char *name;          /* 3-63 of [a-z0-9-] */
	const char *storage;       /* "file" (default), "s3", "minio" */
	const char *bucket;        /* file: a directory; s3/minio: endpoint URL with bucket */
	const char *access_key;    /* NULL: none / unchanged */
	const char *secret_key;
	uint32_t block_size_kib;   /* 0: 4096 */
	const char *compression;   /* NULL or "none", "lz4" */
	int trash_days;            /* -1: 1, as juicefs */
	uint64_t capacity_bytes;   /* 0: no quota */
	uint64_t inodes;           /* 0: no quota */
	int hash_prefix;
	int force;                 /* overwrite an existing volume record */
	/* encryption at rest, as juicefs format --encrypt-rsa-key: a PEM file of an RSA private
	 * key (protected by the passphrase in JFS_RSA_PASSPHRASE, or not); NULL: not encrypted.
	 * Set only when the volume is created. */
	const char *encrypt_rsa_key;
	const char *encrypt_algo;  /* NULL or "aes256gcm-rsa", "chacha20-rsa" */
	int enable_acl;            /* POSIX ACLs (juicefs format --enable-acl); cannot be undone */
	const char *ca_file;       /* CA bundle for an HTTPS endpoint (s3.ca-file); NULL: the
				    * system trust store. Used to test the storage, not stored. */
} sluice_format_options;
int sluice_format(const sluice_format_options *o, char *errmsg, size_t errmsg_size);

/* The volume's log lines, when it was opened with "log-queue" set (a number of lines to keep;
 * otherwise they go to stderr): takes the oldest one, with its level (0 error, 1 warn, 2 info,
 * 3 debug; "log-level" filters), cut to line_size. 1 if there was one, 0 if not. Safe from any
 * thread. Lines logged while the volume shuts down, and any left untaken, go to stderr. */
int sluice_log_next(sluice_volume *vol, int *level, char *line, size_t line_size);

/* The counters of this volume handle since it opened, each passed to fn with its name, in a
 * fixed order: object storage requests ("object.gets", ...), where the blocks read came from
 * ("block_reads.memory", ".disk", ".staged", ".peers", ".object"), hflush and commit time
 * ("hflush.stage_ns", "commit.transactions", ...; times in ns), each metadata operation used
 * ("meta.read_chunk.calls", ".failures", ".ns"), the metadata cache and the cache group when
 * they are on. Read one by one: totals, not a consistent snapshot across counters. */
typedef void (*sluice_counter_fn)(void *arg, const char *name, uint64_t value);
void sluice_stats(sluice_volume *vol, sluice_counter_fn fn, void *arg);

/* Closes the session, waits for pending uploads and frees everything. Files still open are closed
 * (and their data made durable) first. */
int sluice_shutdown(sluice_volume *vol);

/* ---- identity ------------------------------------------------------------------------------ */
typedef struct sluice_user {
	const char *name;          /* short user name, e.g. "alice" */
	const char *const *groups; /* group names; groups[0] is the primary group */
	size_t ngroups;
} sluice_user;

/* ---- attributes ---------------------------------------------------------------------------- */
enum sluice_type {
	SLUICE_FILE = 1,
	SLUICE_DIR = 2,
	SLUICE_SYMLINK = 3,
	SLUICE_OTHER = 4 /* fifo, device, socket created through POSIX */
};

typedef struct sluice_stat {
	uint64_t inode;
	int type;            /* enum sluice_type */
	uint32_t mode;       /* permission bits incl. setuid/setgid/sticky (07777) */
	uint32_t nlink;
	uint64_t length;     /* bytes for files, 0 for directories (Hadoop convention) */
	int64_t mtime_ms, atime_ms, ctime_ms;
	char owner[64];      /* user name, or the decimal uid if the id has no name */
	char group[64];
	uint32_t uid, gid;
	uint64_t block_size; /* logical block size for split planning */
	int64_t mtime_ns;    /* mtime in nanoseconds: with inode and length, what changes when the
			      * content does (etags, PathHandle content checks) */
	int has_acl;         /* an access or default ACL (sluice_acl_get) */
} sluice_stat;

int sluice_stat_path(sluice_volume *vol, const sluice_user *u, const char *path, sluice_stat *st);
/* Like sluice_stat_path but does not follow a final symlink. */
int sluice_lstat(sluice_volume *vol, const sluice_user *u, const char *path, sluice_stat *st);

/* ---- files --------------------------------------------------------------------------------- */
enum sluice_open_flags {
	SLUICE_O_READ = 1 << 0,
	SLUICE_O_WRITE = 1 << 1,
	SLUICE_O_CREATE = 1 << 2,    /* create if missing */
	SLUICE_O_EXCL = 1 << 3,      /* with CREATE: fail with -EEXIST if the path exists */
	SLUICE_O_OVERWRITE = 1 << 4, /* with CREATE: atomically replace an existing file */
	SLUICE_O_APPEND = 1 << 5,    /* writes go to the end of the file */
	SLUICE_O_MKDIRS = 1 << 6,    /* with CREATE: create missing parent directories */
};

/* Opens or creates path. mode is the permission of a new file before umask. With OVERWRITE the
 * new empty file replaces the old one atomically at open (Hadoop expects it visible at once);
 * readers of the old file keep reading the old data until they close it. */
int sluice_open(sluice_volume *vol, const sluice_user *u, const char *path, int flags,
		uint32_t mode, uint32_t umask, sluice_file **out);
/* Makes written data durable and committed (as sluice_hsync) and frees the handle. Always frees,
 * even when it returns an error. */
int sluice_close(sluice_file *f);

/* Sequential read at the current position; returns bytes read, 0 at EOF. */
ssize_t sluice_read(sluice_file *f, void *buf, size_t len);
/* Positional read: thread-safe, does not move the position; short only at EOF. */
ssize_t sluice_pread(sluice_file *f, void *buf, size_t len, uint64_t off);
/* Appends/writes at the current position (the end for APPEND); returns len or an error. */
ssize_t sluice_write(sluice_file *f, const void *buf, size_t len);
int sluice_seek(sluice_file *f, uint64_t off);
uint64_t sluice_tell(const sluice_file *f);
/* Length as this handle sees it (including its own unflushed writes). */
uint64_t sluice_file_length(const sluice_file *f);
/* hflush: after return, a new reader anywhere sees the data written so far. */
int sluice_hflush(sluice_file *f);
/* hsync: as hflush, and the data is in object storage. */
int sluice_hsync(sluice_file *f);
/* Drops buffers and readahead of a reader without closing it (CanUnbuffer). */
void sluice_unbuffer(sluice_file *f);
int sluice_fstat(sluice_file *f, sluice_stat *st);

/* ---- namespace ----------------------------------------------------------------------------- */
int sluice_mkdir(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode,
		 uint32_t umask);
/* Creates path and its missing parents; succeeds if path is already a directory. */
int sluice_mkdirs(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode,
		  uint32_t umask);

enum sluice_rename_flags {
	SLUICE_RENAME_NOREPLACE = 1 << 0, /* fail with -EEXIST if dst exists (Hadoop semantics) */
	SLUICE_RENAME_INTO_DIR = 1 << 1,  /* a dst that is a directory takes src under its own name,
	                                     in the same transaction (Hadoop's rename) */
};
/* Atomic rename of a file or directory. Without NOREPLACE an existing dst file or empty directory
 * is replaced atomically (POSIX). Never exchanges. */
int sluice_rename(sluice_volume *vol, const sluice_user *u, const char *src, const char *dst,
		  int flags);
/* Deletes a file, symlink or directory; a non-empty directory needs recursive, otherwise
 * -ENOTEMPTY. The root directory is never removed (a recursive delete of "/" empties it). */
int sluice_delete(sluice_volume *vol, const sluice_user *u, const char *path, int recursive);
int sluice_truncate(sluice_volume *vol, const sluice_user *u, const char *path, uint64_t length);

/* ---- writer leases (HDFS semantics; setting "leases", on by default) ------------------------
 * Opening a file for writing takes its lease; another writer's open then fails with -EBUSY until
 * the stream closes, its process is gone (its session expired) or the lease is recovered:
 * -ETXTBSY ("held by another writer"). */
/* recoverLease: ends the lease of whoever writes path (needs write permission). The fenced
 * stream's next commit, hflush, hsync or close fails with -ENOLCK and nothing it writes from then
 * on becomes visible; what it committed (hflushed) before stays. Returns 1: the file is closed
 * now (there is no block to recover, so never 0 on success), or a negative errno. */
int sluice_recover_lease(sluice_volume *vol, const sluice_user *u, const char *path);
/* isFileClosed: 1 if no writer holds path's lease, 0 if one does, or a negative errno. As in HDFS
 * a dead writer's file stays open until its lease is recovered or "lease-hard-limit" passes. */
int sluice_is_file_closed(sluice_volume *vol, const sluice_user *u, const char *path);
/* Appends the contents of srcs to target, in order, and removes srcs, in one transaction. No data
 * is copied: the target references the sources' slices. */
int sluice_concat(sluice_volume *vol, const sluice_user *u, const char *target,
		  const char *const *srcs, size_t nsrcs);

int sluice_chmod(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode);
int sluice_chown(sluice_volume *vol, const sluice_user *u, const char *path, const char *owner,
		 const char *group);

/* ---- POSIX ACLs ----------------------------------------------------------------------------
 * HDFS's model (Hadoop's AclEntry and its FileSystem calls), kept in JuiceFS's rows so that a
 * volume's ACLs hold for juicefs clients too. An entry: scope (access or default), type (user,
 * group, mask, other), a user or group name ("": the owner's, the owning group's, or none), and
 * rwx bits (4, 2, 1). Only the owner or a superuser changes an ACL; an invalid result fails with
 * -EINVAL and HDFS's reason, changing nothing. On a volume without ACLs (EnableACL) every call,
 * reads included, fails with -ENOTSUP, as HDFS with ACLs disabled refuses them. */
enum sluice_acl_scope { SLUICE_ACL_ACCESS = 0, SLUICE_ACL_DEFAULT = 1 };
enum sluice_acl_type { SLUICE_ACL_USER = 0, SLUICE_ACL_GROUP = 1, SLUICE_ACL_MASK = 2,
		       SLUICE_ACL_OTHER = 3 };
typedef struct sluice_acl_entry {
	int scope, type;
	char name[256];
	unsigned perm;
} sluice_acl_entry;
enum sluice_acl_op {
	SLUICE_ACL_SET,            /* setAcl: replaces each scope the spec has entries of */
	SLUICE_ACL_MODIFY,         /* modifyAclEntries */
	SLUICE_ACL_REMOVE_ENTRIES, /* removeAclEntries (perms of the spec ignored) */
	SLUICE_ACL_REMOVE_DEFAULT, /* removeDefaultAcl (no spec) */
	SLUICE_ACL_REMOVE,         /* removeAcl (no spec) */
};
int sluice_acl_change(sluice_volume *vol, const sluice_user *u, const char *path, int op,
		      const sluice_acl_entry *spec, size_t n);
/* getAclStatus: *mode (07777) gets the permission bits (with an extended ACL, the group bits
 * are its mask), out up to max entries as HDFS lists them: the access ACL's named users, owning
 * group and named groups when it has more than the permission bits, then every default entry.
 * Returns the number of entries, which may exceed max (call again with room for them). */
int sluice_acl_get(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t *mode,
		   sluice_acl_entry *out, size_t max);
/* An entry in Hadoop's text form, "[default:]user|group|mask|other:[name][:rwx]" (without the
 * permission: an entry of a removal spec, perm 0): 0 or -EINVAL. */
int sluice_acl_parse(const char *text, sluice_acl_entry *e);
/* The text form of an entry, with its permission ("default:user:bob:r-x"). */
void sluice_acl_format(const sluice_acl_entry *e, char *buf, size_t size);
/* ---- snapshots (HDFS's): read-only copies of a directory's tree that share its data, read
 * under DIR/.snapshot/NAME; only the directory's owner (or a superuser) makes, renames and
 * deletes them, and a directory that has snapshots cannot be deleted. ------------------------- */
/* Takes snapshot name (NULL: HDFS's default name, "s" + yyyyMMdd-HHmmss.SSS) of directory dir;
 * out (may be NULL) gets the snapshot's path. -EEXIST if dir has a snapshot of that name. */
int sluice_snapshot_create(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *name, char *out, size_t out_size);
/* Deletes snapshot name of dir; data no other file shares is freed. */
int sluice_snapshot_delete(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *name);
int sluice_snapshot_rename(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *old_name, const char *new_name);
/* Times in milliseconds since the epoch; -1 leaves that time unchanged. */
int sluice_utimes(sluice_volume *vol, const sluice_user *u, const char *path, int64_t mtime_ms,
		  int64_t atime_ms);

/* The current path of the file or directory with inode number `inode`, as u may reach it: one of
 * its names (of a hard-linked file, the first it got), checked as resolving that path as u would
 * be (search permission on every directory of it). Returns the path's length; -ENOENT if it has
 * no name any more (deleted, or being deleted); -EOPNOTSUPP if the metadata backend cannot look
 * files up by inode; -ERANGE if size is too small. Lets a handle follow a file across renames
 * (Hadoop's PathHandle). */
ssize_t sluice_inode_path(sluice_volume *vol, const sluice_user *u, uint64_t inode, char *buf,
			  size_t size);

/* Readlink of a symlink (e.g. created through a juicefs mount); returns the target length. */
ssize_t sluice_readlink(sluice_volume *vol, const sluice_user *u, const char *path, char *buf,
			size_t size);

/* ---- directory listing (paged) -------------------------------------------------------------- */
typedef struct sluice_dirent {
	const char *name; /* valid until the next sluice_readdir on this handle */
	sluice_stat st;
} sluice_dirent;

int sluice_opendir(sluice_volume *vol, const sluice_user *u, const char *path, sluice_dir **out);
/* Fills up to max entries in name order, continuing after the last one returned; returns the
 * number filled, 0 at the end. Entries added or removed during listing may or may not show. */
int sluice_readdir(sluice_dir *d, sluice_dirent *ents, size_t max);
void sluice_closedir(sluice_dir *d);

/* ---- xattrs -------------------------------------------------------------------------------- */
enum sluice_xattr_flags { SLUICE_XATTR_CREATE = 1, SLUICE_XATTR_REPLACE = 2 };
/* Returns the value length; with size 0 only the length. -ENODATA if missing. */
ssize_t sluice_getxattr(sluice_volume *vol, const sluice_user *u, const char *path,
			const char *name, void *value, size_t size);
int sluice_setxattr(sluice_volume *vol, const sluice_user *u, const char *path, const char *name,
		    const void *value, size_t size, int flags);
/* Writes NUL-separated names; returns the total length (size 0: only the length). */
ssize_t sluice_listxattr(sluice_volume *vol, const sluice_user *u, const char *path, char *list,
			 size_t size);
int sluice_removexattr(sluice_volume *vol, const sluice_user *u, const char *path,
		       const char *name);

/* ---- summaries and volume info ------------------------------------------------------------ */
typedef struct sluice_summary {
	uint64_t length;      /* bytes of all files below */
	uint64_t files;
	uint64_t directories; /* including path itself */
	uint64_t space;       /* bytes used in storage (4 KiB-aligned, as JuiceFS counts) */
	/* path's own directory quota (sluice quota set): its limits, -1 where there is none */
	int64_t quota_space, quota_inodes;
} sluice_summary;
int sluice_summary_path(sluice_volume *vol, const sluice_user *u, const char *path,
			sluice_summary *out);

typedef struct sluice_statfs {
	uint64_t capacity;  /* bytes; the volume quota, or a large number without one */
	uint64_t used;
	uint64_t remaining;
	uint64_t inodes_used;
	uint64_t inodes_available;
} sluice_statfs;
int sluice_statfs_get(sluice_volume *vol, sluice_statfs *out);

typedef struct sluice_volume_info {
	char name[256];
	char uuid[64];
	char storage[32];
	char bucket[1024];  /* without credentials */
	uint32_t block_size; /* storage block size, bytes */
	char compression[16];
	int trash_days;
	uint64_t logical_block_size; /* for split planning (sluice.block.size) */
	uint64_t session_id;
	/* whom a call without a sluice_user acts as: the "user" setting (default: the process's
	 * user), or in Kerberos mode the gateway's name for this client's principal or token */
	char user[256];
} sluice_volume_info;
int sluice_volume_get_info(sluice_volume *vol, sluice_volume_info *out);

/* ---- block locality inputs ------------------------------------------------------------------ */
/* One logical block of a file: [offset, offset+length), a stable key identifying the block
 * (inode and block index), and the hosts the placement policy chose for it: with the "nodes"
 * setting, the first "cache-replicas" distinct hosts of a consistent hash ring (weighted virtual
 * nodes), the same in every process; the strings belong to the volume and stay valid until
 * sluice_shutdown. Without "nodes", nhosts is 0. */
#define SLUICE_BLOCK_MAX_HOSTS 4
typedef struct sluice_block {
	uint64_t offset;
	uint64_t length;
	uint64_t inode;
	uint64_t index;
	const char *hosts[SLUICE_BLOCK_MAX_HOSTS];
	int nhosts;
} sluice_block;
/* Fills up to max logical blocks overlapping [start, start+len); returns how many. */
int sluice_file_blocks(sluice_volume *vol, const sluice_user *u, const char *path, uint64_t start,
		       uint64_t len, sluice_block *out, size_t max);

/* ---- file checksums (Hadoop's COMPOSITE-CRC32C) ---------------------------------------------
 * *crc gets the CRC-32C (Castagnoli; the value of "123456789" is 0xE3069283) of path's first
 * `length` bytes (the whole file when length is at least its size; 0 for no bytes): what HDFS's
 * getFileChecksum returns with dfs.checksum.combine.mode=COMPOSITE_CRC, as Hadoop's
 * CompositeCrcFileChecksum(crc, CRC32C, 512), for any HDFS block size. Composed from the CRC of
 * each stored block (recorded in the metadata the first time it is needed), so only blocks
 * partly visible (overlapped by a newer write, or cut by `length`) are read. Needs read
 * permission; -EISDIR for a directory. */
int sluice_file_checksum(sluice_volume *vol, const sluice_user *u, const char *path,
			 uint64_t length, uint32_t *crc);

/* ---- delegation tokens (Kerberos mode: "meta" is gateway://HOST[:PORT]) ----------------------- */
/* A Hadoop delegation token of kind SLUICE_TOKEN_KIND: its identifier is the Writable form of
 * Hadoop's AbstractDelegationTokenIdentifier (owner, renewer, real user, issue and max dates,
 * sequence number, master key id), its password the HMAC-SHA1 of the identifier under the gateway's
 * current master key, and its service the gateway's "HOST:PORT" (as in the META-URL, port filled
 * in). A process holding only the token uses the volume as its owner by setting the configuration
 * keys "token.identifier" and "token.password" (standard base64) for sluice_init, instead of any
 * Kerberos credentials. */
#define SLUICE_TOKEN_KIND "SLUICE_DELEGATION_TOKEN"
#define SLUICE_TOKEN_IDENT_MAX 1024
#define SLUICE_TOKEN_PASSWORD_LEN 20
typedef struct sluice_token {
	unsigned char identifier[SLUICE_TOKEN_IDENT_MAX];
	size_t identifier_len;
	unsigned char password[SLUICE_TOKEN_PASSWORD_LEN];
	char service[300];
} sluice_token;
/* Issues a token owned by u (the Kerberos caller, or the user it acts for as a proxy user; the
 * caller then is the token's real user) that `renewer` (a short user name or a principal; NULL or
 * "": nobody) may renew. -EOPNOTSUPP when vol is not reached through a gateway; -EPERM when vol's
 * own connection uses a token (a token cannot beget tokens, as in HDFS). */
int sluice_token_issue(sluice_volume *vol, const sluice_user *u, const char *renewer,
		       sluice_token *out);
/* Renewal and cancellation need no volume: conf names the gateway ("meta", which must be a
 * gateway:// URL; callers build it from the token's service) and the caller's Kerberos
 * credentials, as for sluice_init. Renewal is for the token's renewer only and moves its
 * expiry to min(now + renew interval, max date) (*expiry_ms, ms since the epoch); cancellation
 * is for its owner or renewer. Errors as sluice_init: a negative errno and errmsg. */
int sluice_token_renew(const sluice_kv *conf, size_t nconf, const sluice_token *t,
		       int64_t *expiry_ms, char *errmsg, size_t errmsg_size);
int sluice_token_cancel(const sluice_kv *conf, size_t nconf, const sluice_token *t, char *errmsg,
			size_t errmsg_size);

#ifdef __cplusplus
}
#endif
#endif
