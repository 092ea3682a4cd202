/*
 * meta.h - metadata of a volume, in JuiceFS Community Edition's layout (docs/format.md). One table
 * of functions per backend ("sql" now, "remote" for the Kerberos gateway later) and the core around
 * it (meta.c): inode/slice id allocation in batches, the local open-file table, permission checks,
 * and usage accounting (usedSpace/totalInodes counters and per-directory stats), which backends
 * report after each commit and the core flushes in the background, as JuiceFS does.
 *
 * Every backend slot that changes metadata is one transaction: it either happens completely or not
 * at all, and is retried inside the backend on deadlock/serialization/lost-connection errors.
 * Errors are negative errno values with a message in err.
 */
#ifndef SL_META_H
#define SL_META_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chunk/slice.h"
#include "acl.h"
#include "../util/clock.h"
#include "../util/conf.h"
#include "../util/err.h"
#include "../util/log.h"

typedef uint64_t sl_ino;

#define SL_ROOT_INO 1ULL
#define SL_TRASH_INO 0x7FFFFFFF10000000ULL
/* The largest file: JuiceFS's limit (chunk indexes below 2^31), which keeps every length and usage
 * sum within an int64. Longer truncates, writes and concats are refused with EFBIG. */
#define SL_MAX_FILE_LENGTH (SL_CHUNK_SIZE << 31)
#define SL_NAME_MAX 255

/* JuiceFS node types. */
enum sl_node_type {
	SL_TYPE_FILE = 1,
	SL_TYPE_DIR = 2,
	SL_TYPE_SYMLINK = 3,
	SL_TYPE_FIFO = 4,
	SL_TYPE_BLOCKDEV = 5,
	SL_TYPE_CHARDEV = 6,
	SL_TYPE_SOCKET = 7,
};

/* JuiceFS node flags (1.4: immutable, append, three Windows attributes, skip-trash). */
#define SL_FLAG_IMMUTABLE 1
#define SL_FLAG_APPEND 2
#define SL_FLAG_SKIPTRASH 32 /* inherited by new entries of the directory */
/* Sluice's own: the directory has snapshots (which stops its removal); a bit juicefs leaves alone. */
#define SL_FLAG_SNAPSHOTS 0x80

/* HDFS's name, in every directory, for the directory's snapshots (DIR/.snapshot/NAME). */
#define SL_SNAPSHOT_NAME ".snapshot"

/* What the snapshot slot does (HDFS's snapshot operations). */
enum sl_snapshot_op {
	SL_SNAP_LOOKUP = 0, /* find snapshot name (NULL: the directory's .snapshot itself) */
	SL_SNAP_CREATE = 1,
	SL_SNAP_DELETE = 2,
	SL_SNAP_RENAME = 3,
};

struct sl_attr {
	uint8_t type;
	uint8_t flags;
	uint16_t mode;        /* 07777 */
	uint32_t uid, gid;
	int64_t atime_ns, mtime_ns, ctime_ns; /* JuiceFS stores microseconds + ns remainder */
	uint32_t nlink;
	uint64_t length;
	uint32_t rdev;
	sl_ino parent;        /* 0 for hard-linked files */
	uint32_t access_acl, default_acl; /* jfs_acl rows of its POSIX ACLs, 0: none (acl.h) */
};

/* The caller of an operation, already mapped from names to ids by the vfs. */
#define SL_MAX_GROUPS 64
struct sl_meta_user {
	uint32_t uid;
	uint32_t gids[SL_MAX_GROUPS]; /* gids[0] is the primary group */
	int ngids;
	bool superuser;               /* skips permission checks (HDFS superuser/supergroup) */
	const char *name;             /* the user's name (the gateway backend sends it), or NULL */
};

/* A gateway request's idempotency token (rpc/proto.h, SL_OP_ONCE). Armed for the thread that
 * serves the request, it becomes the operation id of the request's own write transaction: a
 * client that resends the request to another gateway after losing the first one's answer gets
 * done_before set and -EALREADY from the slot instead of the change made twice; the gateway then
 * answers from what is stored. Backends without it run the request again. */
struct sl_meta_once {
	uint64_t token; /* 0: none */
	bool done_before;
};

/* One directory as `sluice fsck --path` finds it (check_dir). */
struct sl_meta_dir_check {
	bool node_missing;                 /* an entry names it, its node row is gone */
	uint32_t nlink, want_nlink;        /* 2 + its subdirectories */
	bool stats_missing;                /* no jfs_dir_stats row, or a negative one */
	int64_t length, space, inodes;     /* the row's */
	int64_t want_length, want_space, want_inodes; /* counted from its entries */
	bool repaired;                     /* the repair changed something */
};
struct sl_meta_dir_repair {
	uint16_t mode;   /* of a directory whose node row is made anew */
	bool stats;      /* the volume keeps jfs_dir_stats (format DirStats): repair them */
	bool sync_stats; /* write them from the entries even when the row looks sound */
};

/* Permission masks for sl_meta_access. */
#define SL_MAY_READ 4
#define SL_MAY_WRITE 2
#define SL_MAY_EXEC 1

/* What an unlink/rename/overwrite removed: a file whose last link went away. The core then deletes
 * its data (or keeps it while the file is open here, see jfs_sustained). */
struct sl_removed {
	sl_ino ino;      /* 0 if nothing was removed */
	uint64_t length;
	bool data_pending; /* a jfs_delfile row was written; call delete_file_data */
};

struct sl_dirent_info {
	const char *name;
	size_t name_len;
	sl_ino ino;
	struct sl_attr attr;
};
/* Return non-zero to stop. */
typedef int (*sl_meta_dirent_cb)(void *arg, const struct sl_dirent_info *ent);

struct sl_session_info {
	uint64_t sid;
	int64_t expire_s;
	const char *info_json; /* hostname, process id, version, mount point... as JuiceFS writes */
};
typedef int (*sl_meta_session_cb)(void *arg, const struct sl_session_info *s);

/* A file whose last link a slot removed (see struct sl_removed): the caller deletes its data. */
typedef void (*sl_meta_removed_cb)(void *arg, const struct sl_removed *r);

/* A slice whose reference count reached zero: the caller deletes its blocks, then calls
 * forget_slice. */
typedef int (*sl_meta_slice_cb)(void *arg, uint64_t id, uint32_t size);
/* A chunk row: n slice records of chunk indx of file ino; a non-zero return stops the scan
 * with it. */
typedef int (*sl_meta_chunk_cb)(void *arg, sl_ino ino, uint32_t indx, const struct sl_slice *ss,
				size_t n);

struct sl_meta_summary {
	uint64_t length, space, files, dirs;
	/* the directory's own quota (jfs_dir_quota) if it has one: its limits, 0 where none */
	bool has_quota;
	int64_t quota_space, quota_inodes;
};

/* A directory quota (JuiceFS's jfs_dir_quota): limits of the subtree under directory ino, the
 * directory itself not counted; a limit of 0 or less is none. Usage as juicefs counts it:
 * align4K of each file's length and 4 KiB per directory; one inode per entry. */
struct sl_meta_quota {
	sl_ino ino;
	int64_t max_space, max_inodes, used_space, used_inodes;
};
typedef int (*sl_meta_quota_cb)(void *arg, const struct sl_meta_quota *q);

/* A dump's content, for the load slot (`sluice load`; juicefs's dump format, cli/load.c). */
struct sl_meta_dumped_node {
	sl_ino ino;
	struct sl_attr attr; /* acl ids ignored; parent: 0 for a file with several links */
	const char *symlink; /* a symlink's target, else NULL */
	const struct sl_acl *access, *def; /* NULL: none */
};
struct sl_meta_dumped_edge {
	sl_ino parent, ino;
	const char *name;
	size_t len;
	uint8_t type;
};
struct sl_meta_dumped_chunk {
	sl_ino ino;
	uint32_t indx;
	const struct sl_slice *ss;
	size_t n;
};
struct sl_meta_dumped_xattr {
	sl_ino ino;
	const char *name;
	const void *value;
	size_t len;
};
struct sl_meta_dumped_delfile {
	sl_ino ino;
	uint64_t length;
	int64_t expire;
};
struct sl_meta_dumped {
	struct sl_meta_dumped_node *nodes; /* the root and the trash among them */
	size_t nnodes;
	struct sl_meta_dumped_edge *edges;
	size_t nedges;
	struct sl_meta_dumped_chunk *chunks;
	size_t nchunks;
	struct sl_meta_dumped_xattr *xattrs;
	size_t nxattrs;
	struct sl_meta_quota *quotas; /* the limits; usage is counted anew */
	size_t nquotas;
	struct sl_meta_dumped_delfile *delfiles;
	size_t ndelfiles;
	const char **settings; /* name, value, name, value... (jfs_setting rows besides the format) */
	size_t nsettings;
	int64_t next_inode, next_chunk, next_session, next_trash; /* the dump's counters */
};

struct sl_meta;
struct sl_presign_provider; /* object/presign.h */

/* ---- writer leases (HDFS semantics; docs/format.md, table sluice_lease) ----------------------
 * An output stream holds a lease on its inode: the session it was opened in and a generation
 * unique within that session. At most one lease per inode. A lease lives as long as its stream
 * (released at close) or its session (a session that expired holds nothing); recovery by another
 * client ends it at once. The data slots that change a file through a stream (write_chunk,
 * compact_chunk) take the stream's lease and check it inside their transaction: a lease that is
 * no longer the inode's gives -SL_ELEASE_LOST and nothing changes, so nothing a fenced writer commits
 * after the recovery becomes visible. A NULL lease skips the check (leases off, maintenance). */
#define SL_ELEASE_LOST ENOLCK  /* the stream's lease was recovered: it is fenced */
#define SL_ELEASE_HELD ETXTBSY /* another live writer holds the lease */
struct sl_meta_lease {
	uint64_t sid; /* the holder's session */
	uint64_t gen; /* unique within sid (the backend picks it) */
};

/* One record of write_chunks: the arguments of a write_chunk, and its attributes out. */
struct sl_meta_chunk_write {
	const struct sl_meta_user *u;
	const struct sl_meta_lease *lease;
	sl_ino ino;
	uint32_t indx;
	struct sl_slice s;
	int64_t mtime_ns;
	bool end_lease;      /* and end lease (its stream's last commit): SL_META_CAP_COMMIT_ENDS_LEASE */
	struct sl_attr attr; /* out: the file's attributes after this record */
};

/* ---- claims on the upload of a block its writer left (docs/format.md, sluice_block_claim) ----
 * When a writer dies before uploading blocks an hflush made visible, every node that kept a copy
 * (the replica holders of the cache group, a client that takes over the dead client's staging
 * directory) could upload it. Each claims the block first, so that one of them does: a claim is
 * its claimant's (a session) until it expires or ends, and a block uploaded under one is done
 * for good. A claimant that dies without ending its claim holds the block off only until the
 * claim expires. */
enum sl_meta_claim {
	SL_CLAIM_WON,  /* the caller uploads the block, then ends its claim */
	SL_CLAIM_HELD, /* another claim lives: its claimant uploads; ask again later */
	SL_CLAIM_DONE, /* uploaded under a claim: the block is in object storage */
};

/* ---- delegation tokens (Kerberos mode) -------------------------------------------------------
 * A client holds a token as Hadoop does: the identifier's bytes (auth/token.h) and its HMAC-SHA1
 * password. The gateway keeps what it issued in two tables of its own (sql_tokens.c): master keys
 * and tokens; the password is never stored, it is recomputed from the key and the identifier. */
#define SL_META_TOKEN_IDENT_MAX 1024
#define SL_META_TOKEN_PASSWORD_LEN 20
#define SL_META_DT_SECRET_LEN 64
struct sl_meta_token {
	uint8_t ident[SL_META_TOKEN_IDENT_MAX];
	size_t ident_len;
	uint8_t password[SL_META_TOKEN_PASSWORD_LEN];
};
/* A master key: signs the tokens issued while it is the newest; kept until expiry_ms, when every
 * token it signed is past its max date. */
struct sl_dt_key {
	int32_t id;
	uint8_t secret[SL_META_DT_SECRET_LEN];
	int64_t created_ms, expiry_ms;
};
/* A token as stored (names are short user names; real_user "" unless issued to a proxy user). */
struct sl_dt_row {
	int32_t seq;
	char owner[256], renewer[256], real_user[256];
	int64_t issue_ms, max_ms;
	int64_t expiry_ms; /* renewal moves it, never past max_ms */
	int32_t key_id;
};

/* Capability bits of a backend (struct sl_meta_backend's caps). */
/* The server checks every permission as the authenticated caller (or the user it lets the caller
 * act for), with its own groups and superusers, which the client does not know: the client's own
 * checks could only refuse wrongly, so it makes none (sl_vol_user). */
#define SL_META_CAP_SERVER_CHECKS 1u
/* A new slice may be committed (write_chunk, compact_chunk's replacement) only once its last
 * block is in object storage, not merely staged: the gateway checks the slice's size there
 * (gateway/data.c). The writer's hflush then waits for that one upload. */
#define SL_META_CAP_COMMIT_STORED 2u
/* write_chunks ends a record's lease in its transaction when the record says so (end_lease: the
 * stream's last commit, at its close), sparing close a transaction of its own. */
#define SL_META_CAP_COMMIT_ENDS_LEASE 4u

/* The gateway's store of delegation tokens and their signing keys, apart from the metadata
 * engine's slots (sl_meta_backend.token_store). Times are ms since the epoch. Each slot is one
 * transaction, retried as the others. Reached through sl_meta_dt_*. */
struct sl_meta_token_store {
	/* Creates the two tables (and their id counters) if missing. */
	int (*setup)(struct sl_meta *m, struct sl_err *err);
	/* The key to sign with at now_ms: the newest one, if it was created after
	 * now_ms - update_ms and lives until now_ms + lifetime_ms at least; otherwise a new key with
	 * the secret `fresh`, a new id, created now_ms, expiring now_ms + update_ms + lifetime_ms.
	 * Gateways racing here each get a valid key (unique ids; all of them stay valid). */
	int (*signing_key)(struct sl_meta *m, int64_t now_ms, int64_t update_ms,
			   int64_t lifetime_ms, const uint8_t fresh[SL_META_DT_SECRET_LEN],
			   struct sl_dt_key *out, struct sl_err *err);
	/* -ENOENT when there is no such key (any more). */
	int (*get_key)(struct sl_meta *m, int32_t id, struct sl_dt_key *out, struct sl_err *err);
	/* Stores a token under a new sequence number, which row->seq gets. */
	int (*add_token)(struct sl_meta *m, struct sl_dt_row *row, struct sl_err *err);
	/* -ENOENT when there is no such token (never issued, cancelled, or swept). */
	int (*get_token)(struct sl_meta *m, int32_t seq, struct sl_dt_row *out,
			 struct sl_err *err);
	/* Sets the expiry of a token whose expiry is not before now_ms; -ENOENT if there is none. */
	int (*renew_token)(struct sl_meta *m, int32_t seq, int64_t now_ms, int64_t expiry_ms,
			   struct sl_err *err);
	/* Deletes a token; -ENOENT if there is none. */
	int (*cancel_token)(struct sl_meta *m, int32_t seq, struct sl_err *err);
	/* Deletes tokens and keys whose expiry is before now_ms; counts them (either may be NULL). */
	int (*sweep)(struct sl_meta *m, int64_t now_ms, uint64_t *tokens, uint64_t *keys,
		     struct sl_err *err);
};

struct sl_meta_backend {
	int version; /* SL_META_BACKEND_VERSION */
	const char *name;
	size_t priv_size;
	unsigned caps; /* SL_META_CAP_* */

	/* Connects; does not require the volume to be formatted. */
	int (*init)(struct sl_meta *m, const char *url, struct sl_err *err);
	void (*cleanup)(struct sl_meta *m);
	/* Optional (a gateway's backend): the idempotency token of the request the calling thread
	 * serves, NULL when it is done (sl_meta_arm_once). */
	void (*arm_once)(struct sl_meta *m, struct sl_meta_once *once);

	/* -- volume ------------------------------------------------------------------------------ */
	/* The JSON of the `format` setting; -ENOENT if the database holds no volume. Caller frees. */
	int (*load_format)(struct sl_meta *m, char **json, struct sl_err *err);
	/* Sluice's own small records in jfs_setting, named "sluice.*" (JuiceFS reads only the
	 * "format" row): get gives -ENOENT if missing (caller frees *value); add gives -EEXIST if
	 * the name exists, so the first writer of a name wins. */
	int (*get_setting)(struct sl_meta *m, const char *name, char **value, struct sl_err *err);
	int (*add_setting)(struct sl_meta *m, const char *name, const char *value,
			   struct sl_err *err);
	/* Creates the tables if missing, then writes the format record, the counters, the root and
	 * trash directories (attributes given), in one transaction. If a format exists already it
	 * is only replaced when `force`; callers compare name/block size/compression first. */
	int (*format)(struct sl_meta *m, const char *json, const struct sl_attr *root,
		      bool force, struct sl_err *err);

	/* -- sessions and counters --------------------------------------------------------------- */
	int (*new_session)(struct sl_meta *m, const char *info_json, int64_t expire_s,
			   uint64_t *sid, struct sl_err *err);
	int (*refresh_session)(struct sl_meta *m, uint64_t sid, int64_t expire_s,
			       struct sl_err *err);
	/* Removes the session and its jfs_sustained rows; files it was keeping alive get
	 * jfs_delfile rows (list_delfiles finds them, the caller deletes their data). */
	int (*close_session)(struct sl_meta *m, uint64_t sid, struct sl_err *err);
	/* Optional: closes another client's session as close_session does, if it is past its
	 * expiry and holds no writer's lease (*closed says whether it did): a dead client's session,
	 * cleaned as juicefs cleans stale sessions. Its leases outlive it until the hard-limit sweep
	 * ends them, since the recovery of its files needs them. */
	int (*close_stale_session)(struct sl_meta *m, uint64_t sid, bool *closed,
				   struct sl_err *err);
	int (*list_sessions)(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
			     struct sl_err *err);
	/* The one session sid, if it exists, to cb (the sql backend, for the gateway; NULL in
	 * remote). */
	int (*get_session)(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
			   struct sl_err *err);
	/* Adds delta to a jfs_counter row (created at 0 if missing); *value gets the new value. */
	int (*incr_counter)(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			    struct sl_err *err);
	/* Adds the accumulated deltas to jfs_dir_stats rows (one transaction for the batch). */
	int (*update_dir_stats)(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
				const int64_t *space, const int64_t *inodes, size_t n,
				struct sl_err *err);

	/* -- namespace --------------------------------------------------------------------------- */
	/* Resolves an absolute path in one round trip (recursive CTE), checking search (x)
	 * permission on every directory on the way. Does not follow symlinks: a symlink as an
	 * intermediate component gives -ENOTDIR. */
	int (*resolve)(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
		       sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
	int (*lookup)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		      const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
	/* getattr and readlink check nothing themselves: u is whom they are for (the gateway
	 * checks that u may reach ino). */
	int (*getattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       struct sl_attr *attr, struct sl_err *err);
	/* Whether u may reach ino by a path: search permission on every directory from the root
	 * down to ino's parent (for a file with several links, to one of them), as HDFS checks
	 * every path. 0, -EACCES, or -ENOENT if ino does not exist. The gateway asks before every
	 * request that names an inode (the sql backend; NULL elsewhere). */
	int (*reach)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     struct sl_err *err);
	/* set is a mask of SL_SET_*; only owner/superuser may chmod/utimes, only superuser may change
	 * the owner, an owner may change the group to one of its groups (HDFS rules). */
	int (*setattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		       const struct sl_attr *in, struct sl_attr *out, struct sl_err *err);
	/* Creates a file, directory or symlink (target for symlinks) named name in parent. mode is
	 * final (umask applied). Needs write+exec on parent. With SL_MKNOD_REPLACE an existing file
	 * (not a directory) is replaced in the same transaction, reported in *replaced. Otherwise an
	 * existing entry gives -EEXIST (and ino and attr describe it). */
	int (*mknod)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		     const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
		     sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
		     struct sl_err *err);
	/* Removes a non-directory entry. Honors the sticky bit. */
	int (*unlink)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		      const char *name, struct sl_removed *removed, struct sl_err *err);
	/* Removes an empty directory (-ENOTEMPTY otherwise). */
	int (*rmdir)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		     const char *name, struct sl_err *err);
	/* Moves an entry. flags: SL_RENAME_NOREPLACE, SL_RENAME_INTO_DIR. Without NOREPLACE an
	 * existing destination file or empty directory of a compatible type is replaced (reported
	 * in *replaced). With INTO_DIR a destination that is a directory takes the entry under its
	 * own name, in the same transaction (Hadoop's rename; into where it is already: nothing to
	 * do). Moving a directory into its own subtree is -EINVAL; unknown flags are -EINVAL
	 * "unknown rename flags" (as a gateway older than INTO_DIR answers it). */
	int (*rename)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
		      const char *nsrc, sl_ino pdst, const char *ndst, int flags,
		      struct sl_removed *replaced, struct sl_err *err);
	/* Removes the directory parent/name and everything below it (a recursive delete), in one
	 * step for every other client: one transaction checks that u may (write and search on
	 * parent, the sticky bit, and as HDFS: read, write and search on every non-empty directory
	 * below) and moves the tree into the trash; then the backend empties it there with its own
	 * rights, calling removed (if not NULL) for each file whose data the caller is to delete
	 * (through the gateway, never: the gateway deletes it), and removes the trash's hour
	 * directory once it is empty.
	 * Once the move committed the call succeeds: whatever emptying leaves behind (logged) is a
	 * trash cleaner's. */
	int (*remove_tree)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			   const char *name, sl_meta_removed_cb removed, void *arg,
			   struct sl_err *err);
	/* Lists entries of a directory in name (byte) order, strictly after `after` (NULL: from the
	 * start), at most limit. Needs read permission. */
	int (*readdir)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
		       const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
		       struct sl_err *err);
	/* Symlink target; caller frees. */
	int (*readlink)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **target,
			struct sl_err *err);

	/* -- file data --------------------------------------------------------------------------- */
	/* The three data slots below check u's read (read_chunk) or write permission on the file
	 * in their transaction, so that a gateway checks every access of a stream opened on a
	 * client (HDFS too re-checks when a reader fetches more block locations). The owner always
	 * passes: it may grant itself the bits anyway, and a file it created read-only stays
	 * writable through the creating stream. u is NULL for the volume's own maintenance. */
	/* Slices of one chunk in the order they were written (later ones win). Caller frees.
	 * -ESTALE if the inode is gone (deleted while being read): never an empty list for it. */
	int (*read_chunk)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  uint32_t indx, struct sl_slice **slices,
			  size_t *n, struct sl_err *err);
	/* Optional: the index of file ino's first chunk row at or after chunk `from` into *next,
	 * or -ENOENT if there is none (the rest of the file is a hole). u needs read permission.
	 * Lets a whole-file walk (checksums) skip holes instead of asking for every chunk. */
	int (*next_chunk)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  uint32_t from, uint32_t *next, struct sl_err *err);
	/* Appends a slice to a chunk, adds its jfs_chunk_ref row (refs 1), extends the length to at
	 * least indx*chunk+pos+len, sets mtime/ctime. *attr gets the new attributes. */
	int (*write_chunk)(struct sl_meta *m, const struct sl_meta_user *u,
			   const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			   const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			   struct sl_err *err);
	/* Optional (group commit of hflush): n write_chunk records, of one file or several, in ONE
	 * transaction, applied in array order, each with write_chunk's checks (its u's permission,
	 * its lease, the sizes) and effects; all or nothing. *done gets the number of records
	 * committed: n, or 0 after an error (whose message names the failing record's inode).
	 * -ENOSYS: this backend cannot now (a gateway older than the op), nothing is done.
	 * Callers go through sl_meta_write_chunks, which falls back to write_chunk per record. */
	int (*write_chunks)(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			    size_t *done, struct sl_err *err);
	/* Sets the length (as JuiceFS: shrinking appends hole slices so old data never reappears).
	 * Needs write permission unless u is NULL (the vfs already checked it at open). */
	int (*truncate)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			uint64_t length, struct sl_attr *attr, struct sl_err *err);
	/* Appends the data of srcs to target by slice reference (refs += 1 per reference) and
	 * unlinks srcs from parent dirs, in one transaction. All must be files. */
	int (*concat)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		      const sl_ino *srcs, size_t n, struct sl_err *err);
	/* Deletes the chunks of a removed file: for each chunk a transaction drops the row and
	 * decrements the refs of its slices; slices reaching zero go to cb. When all chunks are gone
	 * the jfs_delfile row is removed. */
	int (*delete_file_data)(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err);
	/* Compaction: replaces records [skip, n) of a chunk's slice list, which must still begin
	 * with expect[0..n) (else -ESTALE and nothing changes), by the single slice repl holding
	 * the visible data of their range; records appended after them stay. Adds repl's
	 * jfs_chunk_ref row and drops one reference per replaced record; slices reaching zero go
	 * to cb after the commit. */
	int (*compact_chunk)(struct sl_meta *m, const struct sl_meta_user *u,
			     const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			     const struct sl_slice *expect, size_t n, size_t skip,
			     const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			     struct sl_err *err);
	/* -- writer leases (optional: NULL where the backend has none; then streams write without
	 * one). See struct sl_meta_lease. Each slot is one transaction. -------------------------- */
	/* Takes the lease on file ino for a new output stream of session sid: *out gets it. A lease
	 * of a session that is gone or expired is taken over; one that lives (any session, this one
	 * too, as HDFS refuses a second create by the same client) gives -SL_ELEASE_HELD naming its
	 * session. u needs write permission (the opener checked it; the gateway checks again). */
	int (*lease_acquire)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     uint64_t sid, struct sl_meta_lease *out, struct sl_err *err);
	/* mknod of a file (SL_TYPE_FILE) for an output stream that takes the file's lease in the
	 * same transaction, as mknod then lease_acquire would in two (a create costs one round trip
	 * fewer). *lease gets session sid's lease; an existing entry gives -EEXIST as mknod does,
	 * with no lease taken. */
	int (*mknod_leased)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			    const char *name, uint16_t mode, int flags, uint64_t sid,
			    struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			    struct sl_removed *replaced, struct sl_err *err);
	/* Ends the lease at close: 0, or -SL_ELEASE_LOST (as write_chunk's) if it is no longer ino's (it
	 * was recovered, or taken over after its session expired), so the close of a fenced
	 * stream fails as in HDFS. */
	int (*lease_release)(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
			     struct sl_err *err);
	/* recoverLease: ends whatever lease ino has, so its writer is fenced from the next commit
	 * on; *closed is then true (committed data is final as committed: there is no block to
	 * recover). u needs write permission on ino. With recover false only reports whether ino
	 * has no lease (isFileClosed; u needs no permission on the file itself): as in HDFS, the
	 * file of a writer that died stays open until its lease is recovered, its session closes
	 * or lease_sweep ends it. */
	int (*lease_recover)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     bool recover, bool *closed, struct sl_err *err);
	/* HDFS's hard limit: ends the leases of sessions that expired more than hard_limit_s
	 * ago (or are gone, for leases older than that), and those of files that no longer
	 * exist; *ended gets how many. Any client may run it, at any time. */
	int (*lease_sweep)(struct sl_meta *m, int64_t hard_limit_s, uint64_t *ended,
			   struct sl_err *err);

	/* Drops the jfs_chunk_ref row of a slice whose blocks were deleted. */
	int (*forget_slice)(struct sl_meta *m, uint64_t id, struct sl_err *err);
	/* Pending deletions (jfs_delfile rows with expire <= before_s). */
	int (*list_delfiles)(struct sl_meta *m, int64_t before_s,
			     int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			     struct sl_err *err);
	/* Called when the last local handle of a file closes: if the file was unlinked while open
	 * (a jfs_sustained row of this session), turns it into a jfs_delfile row; sets *orphan. */
	int (*release)(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err);

	/* -- xattrs (jfs_xattr) ------------------------------------------------------------------ */
	int (*getxattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, void **value, size_t *len, struct sl_err *err);
	int (*setxattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, const void *value, size_t len, int flags,
			struct sl_err *err);
	/* Names NUL-separated in *names (caller frees), total bytes in *len. */
	int (*listxattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **names,
			 size_t *len, struct sl_err *err);
	int (*removexattr)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, struct sl_err *err);

	/* -- summaries --------------------------------------------------------------------------- */
	/* Totals of the subtree under ino (ino itself included), one query where possible. */
	int (*summary)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       struct sl_meta_summary *out, struct sl_err *err);
	/* Counts of rows that mean the volume uses a feature Sluice does not implement (ACLs kept
	 * as extended attributes): the core refuses such volumes. */
	int (*unsupported_features)(struct sl_meta *m, char *what, size_t what_size,
				    struct sl_err *err);

	/* -- delegation tokens, the client's side (the gateway backend; NULL elsewhere) ----------- */
	/* A token owned by u (NULL: the authenticated caller) that renewer (a short name or a
	 * principal, NULL: nobody) may renew; service gets the gateway's "HOST:PORT". -EPERM when
	 * this client itself authenticates with a token. */
	int (*issue_token)(struct sl_meta *m, const struct sl_meta_user *u, const char *renewer,
			   struct sl_meta_token *out, char *service, size_t service_size,
			   struct sl_err *err);
	/* For the token's renewer: *expiry_ms gets the new expiry (ms since the epoch). */
	int (*renew_token)(struct sl_meta *m, const struct sl_meta_token *t, int64_t *expiry_ms,
			   struct sl_err *err);
	/* For the token's owner or renewer. */
	int (*cancel_token)(struct sl_meta *m, const struct sl_meta_token *t, struct sl_err *err);

	/* -- the gateway's delegation token store (sql; NULL elsewhere) ------------------------- */
	const struct sl_meta_token_store *token_store;

	/* The gateway backend: the short name the gateway knows this client as (its Kerberos
	 * principal mapped by auth_to_local, or the owner of its delegation token), whom a request
	 * without an acting user acts for. NULL elsewhere. */
	int (*whoami)(struct sl_meta *m, char *name, size_t size, struct sl_err *err);

	/* -- data access (optional: NULL for backends whose clients hold the bucket keys) --------- */
	/* Kerberos mode: fills *out with the URL provider (object/presign.h) through which the
	 * `presigned` object backend gets each object URL from the gateway, for a client that holds
	 * no bucket keys. out->arg stays valid until cleanup; the store must be closed first. */
	int (*object_provider)(struct sl_meta *m, struct sl_presign_provider *out,
			       struct sl_err *err);

	/* -- names by inode (optional: NULL when the backend cannot look them up) -------------- */
	/* One path of inode ino from the root ("/a/b", caller frees): of a hard-linked file, the
	 * name it got first. -ENOENT if no name of it is reachable from the root (deleted, or in
	 * the trash). The SQL backend checks no permission; the gateway's backend asks the gateway,
	 * which answers only a path u may resolve. Callers use sl_meta_inode_path. */
	int (*inode_path)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  char **path, struct sl_err *err);

	/* -- cleanup of unreferenced slices (optional: NULL where the client cannot see
	 * jfs_chunk_ref, i.e. the gateway backend) ---------------------------------------------- */
	/* The jfs_chunk_ref row of slice id: its reference count and size; -ENOENT when there is
	 * none (the slice was never committed, or it was deleted). */
	int (*slice_refs)(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
			  struct sl_err *err);
	/* Every slice whose reference count is zero or less (its last reference went, its blocks
	 * and row did not: a client died in between, or a deletion failed), to cb after the query,
	 * as JuiceFS's cleanup of slices finds them. cb deletes the blocks, then forget_slice. */
	int (*list_dead_slices)(struct sl_meta *m, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err);
	/* Every chunk row of the volume, in (inode, indx) order, page by page (the operator's
	 * tools: fsck, gc). */
	int (*scan_chunks)(struct sl_meta *m, sl_meta_chunk_cb cb, void *arg, struct sl_err *err);
	/* `sluice fsck --path` (juicefs fsck's directory checks): directory ino, an entry of
	 * parent: its node row, its link count (2 + subdirectories), its jfs_dir_stats row against
	 * its entries; with repair (NULL: only check), in one transaction, a missing node row made
	 * anew (repair->mode, owner root, now), the link count set, and the stats row written from
	 * the entries where it is missing or broken, or always with repair->sync_stats. */
	int (*check_dir)(struct sl_meta *m, sl_ino parent, sl_ino ino,
			 const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
			 struct sl_err *err);
	/* Fills a volume whose database holds only what format wrote with d: its rows as they were,
	 * inode numbers kept; reference counts, directory stats, quota usage and usage counters
	 * computed from them, the id counters past what d uses. In several transactions: a load
	 * that fails leaves a partial volume, to be dropped. */
	int (*load)(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err);
	/* JuiceFS's setIfSmall, in one transaction: sets counter name to value if it holds at most
	 * value - diff (or is missing); *changed says whether it did. Of clients racing with the
	 * same value, one wins: it takes the periodic task the counter stands for. */
	int (*set_if_small)(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			    bool *changed, struct sl_err *err);
	/* JuiceFS's trash cleaner, with the volume's rights: empties and removes each hour
	 * directory of the trash (.trash/<YYYY-MM-DD-HH>, UTC) that began before before_s,
	 * calling removed for each file whose data the caller is to delete; and releases the
	 * delayed slices deleted before before_s (jfs_delslices, which juicefs fills when it
	 * replaces slices of a volume with trash days): their references go, and the caller
	 * deletes those that reached zero (list_dead_slices). Counts files and delayed-slice rows
	 * removed. What fails is logged and left for the next round. */
	int (*clean_trash)(struct sl_meta *m, int64_t before_s, sl_meta_removed_cb removed,
			   void *arg, uint64_t *files, uint64_t *delayed, struct sl_err *err);

	/* -- POSIX ACLs (optional; JuiceFS's rules in jfs_acl, HDFS's operations, acl.h) -------- */
	/* ino's attributes and ACL state (permission bits and rules); anyone who reaches ino may
	 * read them (HDFS's getAclStatus). */
	int (*getfacl)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err);
	/* Changes ino's ACL by op with its spec of n entries (HDFS's setAcl, modifyAclEntries,
	 * removeAclEntries, removeDefaultAcl, removeAcl): only its owner or a superuser; -EINVAL
	 * with HDFS's reason for an invalid result. *attr (may be NULL) gets the new attributes. */
	int (*setfacl)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		       struct sl_attr *attr, struct sl_err *err);
	/* Whether u may mask (SL_MAY_*) inode ino by its permission bits or ACL: 0 or -EACCES.
	 * For the checks above the backend on inodes that have an ACL. */
	int (*access)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int mask,
		      struct sl_err *err);

	/* -- directory quotas (optional; a backend that has them enforces them in the slots that
	 * add inodes or grow files, failing with -EDQUOT) ---------------------------------------- */
	/* Sets the quota of directory q->ino, making it if there is none (*created, may be NULL,
	 * says so): a negative max_* keeps the current limit (none for a new quota), a negative
	 * used_* the current usage (0 for a new one). */
	int (*quota_set)(struct sl_meta *m, const struct sl_meta_quota *q, bool *created,
			 struct sl_err *err);
	/* Removes the quota of directory ino; -ENOENT if there is none. */
	int (*quota_delete)(struct sl_meta *m, sl_ino ino, struct sl_err *err);
	/* The quotas of the volume (ino 0) or of directory ino alone, in inode order, with their
	 * usage as flushed. */
	int (*quota_list)(struct sl_meta *m, sl_ino ino, sl_meta_quota_cb cb, void *arg,
			  struct sl_err *err);
	/* Writes the usage changes of this handle's quotas and reads the quotas again when they
	 * are due (every few seconds); the core calls it with every usage flush. */
	int (*quota_flush)(struct sl_meta *m, struct sl_err *err);

	/* -- directory snapshots (optional; HDFS's createSnapshot, deleteSnapshot, renameSnapshot,
	 * and what DIR/.snapshot/NAME resolves to). A snapshot is a read-only copy of dir's tree
	 * that shares the file data. CREATE, DELETE and RENAME: only dir's owner or a superuser;
	 * LOOKUP: whoever may search dir. *ino and *attr (may be NULL) get the snapshot's (after
	 * RENAME: under new_name); DELETE sends the files it removed to removed. */
	int (*snapshot)(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
			sl_ino dir, const char *name, const char *new_name,
			sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
			struct sl_err *err);

	/* -- per-block CRC32C of stored blocks, for file checksums (optional: NULL where the
	 * backend keeps none, the gateway's, which has file_crc instead). A slice's
	 * blocks never change once stored and slice ids are never reused, so a recorded value stays
	 * true for as long as the block exists. Each slot is one statement. ------------------------ */
	/* The CRC32C and length recorded for blocks [first, first + n) of slice id, in one query:
	 * crcs[i] and lens[i] for block first + i, lens[i] = 0 where none is recorded. */
	int (*block_crc_get)(struct sl_meta *m, uint64_t id, uint32_t first, uint32_t n,
			     uint32_t *crcs, uint32_t *lens, struct sl_err *err);
	/* Records them (replacing any row of the block: the same values, by the rule above). */
	int (*block_crc_put)(struct sl_meta *m, uint64_t id, uint32_t indx, uint32_t crc,
			     uint32_t len, struct sl_err *err);
	/* The whole COMPOSITE-CRC32C of the first length bytes of file ino, computed by the backend
	 * (optional: the gateway's, which reads the data it needs as u and records the CRCs of the
	 * blocks it read; NULL: the client composes it from the slots above). */
	int (*file_crc)(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			uint64_t length, uint32_t *crc, struct sl_err *err);

	/* -- claims on the upload of a block its writer left (optional: NULL where the backend
	 * keeps none, the gateway's; callers then upload without). See enum sl_meta_claim. A
	 * slice's claims go with its jfs_chunk_ref row (forget_slice). Each slot is one
	 * transaction. ---------------------------------------------------------------------------- */
	/* Claims block indx of slice id for session sid until now + ttl_s (unix seconds; a claim
	 * whose time is up is expired): *out gets WON when the block has no claim or only an
	 * expired one that was not done, HELD when a live claim is there (sid's own too: two
	 * uploaders of one process stay apart), DONE when it was uploaded under a claim. */
	int (*block_claim)(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			   int64_t ttl_s, enum sl_meta_claim *out, struct sl_err *err);
	/* Ends sid's claim on the block. uploaded: the block is done, whoever holds the claim now
	 * (the object is there either way); otherwise sid's claim goes, if it is still sid's and
	 * not done, so that another claimant need not wait for it to expire. */
	int (*block_claim_end)(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			       bool uploaded, struct sl_err *err);
};
#define SL_META_BACKEND_VERSION 1

/* ---- calls of the backend (calls.c) ---------------------------------------------------------
 * Everything above meta/ reaches the backend through these: sl_meta_SLOT(m, ...) for each slot
 * of the table above (sl_meta_dt_SLOT for its token store), with the slot's arguments and
 * contract (see its comment there). Each call is counted (calls, failures, time) per operation;
 * an optional slot the backend lacks gives -EOPNOTSUPP naming the operation and the backend (ask
 * sl_meta_supports first where the caller has another way); a fault a test injected fails the
 * call before the backend sees it. init and cleanup are the core's (sl_meta_open/close);
 * write_chunks and inode_path have callers' versions with more to them (sl_meta_write_chunks,
 * sl_meta_inode_path).
 * The list names each slot's relation to the metadata cache (cache.c), the stage a call passes
 * on its way to the backend when the cache is on: CACHED, answered from it; DROPS, changes what
 * it may hold, so the stage must see it (a c_SLOT in cache.c, or it does not compile); PASS,
 * neither. A new slot takes its place here, and with it that decision. */
#define SL_META_OPS(X) \
	X(LOAD_FORMAT, load_format, PASS) \
	X(GET_SETTING, get_setting, PASS) \
	X(ADD_SETTING, add_setting, PASS) \
	X(FORMAT, format, DROPS) \
	X(NEW_SESSION, new_session, PASS) \
	X(REFRESH_SESSION, refresh_session, PASS) \
	X(CLOSE_SESSION, close_session, PASS) \
	X(CLOSE_STALE_SESSION, close_stale_session, PASS) \
	X(LIST_SESSIONS, list_sessions, PASS) \
	X(GET_SESSION, get_session, PASS) \
	X(INCR_COUNTER, incr_counter, PASS) \
	X(UPDATE_DIR_STATS, update_dir_stats, PASS) \
	X(RESOLVE, resolve, CACHED) \
	X(LOOKUP, lookup, CACHED) \
	X(GETATTR, getattr, CACHED) \
	X(REACH, reach, PASS) \
	X(SETATTR, setattr, DROPS) \
	X(MKNOD, mknod, DROPS) \
	X(UNLINK, unlink, DROPS) \
	X(RMDIR, rmdir, DROPS) \
	X(RENAME, rename, DROPS) \
	X(REMOVE_TREE, remove_tree, DROPS) \
	X(READDIR, readdir, PASS) \
	X(READLINK, readlink, PASS) \
	X(READ_CHUNK, read_chunk, CACHED) \
	X(NEXT_CHUNK, next_chunk, PASS) \
	X(WRITE_CHUNK, write_chunk, DROPS) \
	X(WRITE_CHUNKS, write_chunks, DROPS) \
	X(TRUNCATE, truncate, DROPS) \
	X(CONCAT, concat, DROPS) \
	X(DELETE_FILE_DATA, delete_file_data, DROPS) \
	X(COMPACT_CHUNK, compact_chunk, DROPS) \
	X(LEASE_ACQUIRE, lease_acquire, PASS) \
	X(LEASE_RELEASE, lease_release, PASS) \
	X(LEASE_RECOVER, lease_recover, PASS) \
	X(LEASE_SWEEP, lease_sweep, PASS) \
	X(FORGET_SLICE, forget_slice, PASS) \
	X(LIST_DELFILES, list_delfiles, PASS) \
	X(RELEASE, release, DROPS) \
	X(GETXATTR, getxattr, PASS) \
	X(SETXATTR, setxattr, DROPS) \
	X(LISTXATTR, listxattr, PASS) \
	X(REMOVEXATTR, removexattr, DROPS) \
	X(SUMMARY, summary, PASS) \
	X(UNSUPPORTED_FEATURES, unsupported_features, PASS) \
	X(ISSUE_TOKEN, issue_token, PASS) \
	X(RENEW_TOKEN, renew_token, PASS) \
	X(CANCEL_TOKEN, cancel_token, PASS) \
	X(WHOAMI, whoami, PASS) \
	X(OBJECT_PROVIDER, object_provider, PASS) \
	X(INODE_PATH, inode_path, PASS) \
	X(SLICE_REFS, slice_refs, PASS) \
	X(LIST_DEAD_SLICES, list_dead_slices, PASS) \
	X(SET_IF_SMALL, set_if_small, PASS) \
	X(SCAN_CHUNKS, scan_chunks, PASS) \
	X(CHECK_DIR, check_dir, DROPS) \
	X(LOAD, load, DROPS) \
	X(BLOCK_CRC_GET, block_crc_get, PASS) \
	X(BLOCK_CRC_PUT, block_crc_put, PASS) \
	X(FILE_CRC, file_crc, PASS) \
	X(BLOCK_CLAIM, block_claim, PASS) \
	X(BLOCK_CLAIM_END, block_claim_end, PASS) \
	X(MKNOD_LEASED, mknod_leased, DROPS) \
	X(CLEAN_TRASH, clean_trash, PASS) \
	X(QUOTA_SET, quota_set, PASS) \
	X(QUOTA_DELETE, quota_delete, PASS) \
	X(QUOTA_LIST, quota_list, PASS) \
	X(QUOTA_FLUSH, quota_flush, PASS) \
	X(GETFACL, getfacl, PASS) \
	X(SETFACL, setfacl, DROPS) \
	X(ACCESS, access, PASS) \
	X(SNAPSHOT, snapshot, DROPS)

#define SL_META_TOKEN_OPS(X) \
	X(DT_SETUP, setup, PASS) \
	X(DT_SIGNING_KEY, signing_key, PASS) \
	X(DT_GET_KEY, get_key, PASS) \
	X(DT_ADD_TOKEN, add_token, PASS) \
	X(DT_GET_TOKEN, get_token, PASS) \
	X(DT_RENEW_TOKEN, renew_token, PASS) \
	X(DT_CANCEL_TOKEN, cancel_token, PASS) \
	X(DT_SWEEP, sweep, PASS)
enum sl_meta_op {
#define SL_META_OP_ENUM(OP, slot, cache) SL_META_OP_##OP,
	SL_META_OPS(SL_META_OP_ENUM)
	SL_META_TOKEN_OPS(SL_META_OP_ENUM)
#undef SL_META_OP_ENUM
	SL_META_NOPS
};

/* The operation's name as in the table ("read_chunk"). */
const char *sl_meta_op_name(enum sl_meta_op op);
/* Whether m's backend has the slot of op (the optional ones are NULL where it has none). */
bool sl_meta_supports(const struct sl_meta *m, enum sl_meta_op op);
/* SL_META_CAP_* of m's backend, and its name ("sql", "remote"). */
unsigned sl_meta_caps(const struct sl_meta *m);
const char *sl_meta_backend_name(const struct sl_meta *m);
/* Arms (once) or disarms (NULL) the calling thread's request token; false if the backend keeps
 * no tokens. */
bool sl_meta_arm_once(struct sl_meta *m, struct sl_meta_once *once);

struct sl_meta_op_stats {
	uint64_t calls, failures; /* failures: calls that returned an error */
	uint64_t ns;              /* time spent in them, in total */
};
/* What m counted for op since it was opened. */
void sl_meta_op_stats(const struct sl_meta *m, enum sl_meta_op op, struct sl_meta_op_stats *out);
/* For tests: the next `count` calls of op through m fail with rc (a negative errno) without
 * reaching the backend. count 0 clears the fault. */
void sl_meta_inject_fault(struct sl_meta *m, enum sl_meta_op op, int rc, unsigned count);
/* meta.c's: the counters' life, and the slots behind sl_meta_write_chunks / sl_meta_inode_path. */
int sl_meta_calls_init(struct sl_meta *m, struct sl_err *err);
void sl_meta_calls_free(struct sl_meta *m);
int sl_meta_slot_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			      size_t *done, struct sl_err *err);
int sl_meta_slot_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			    char **path, struct sl_err *err);

int sl_meta_load_format(struct sl_meta *m, char **json, struct sl_err *err);
int sl_meta_get_setting(struct sl_meta *m, const char *name, char **value, struct sl_err *err);
int sl_meta_add_setting(struct sl_meta *m, const char *name, const char *value, struct sl_err *err);
int sl_meta_format(struct sl_meta *m, const char *json, const struct sl_attr *root, bool force,
		   struct sl_err *err);
int sl_meta_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s, uint64_t *sid,
			struct sl_err *err);
int sl_meta_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s, struct sl_err *err);
int sl_meta_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err);
int sl_meta_close_stale_session(struct sl_meta *m, uint64_t sid, bool *closed,
				struct sl_err *err);
int sl_meta_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg, struct sl_err *err);
int sl_meta_get_session(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
			struct sl_err *err);
int sl_meta_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			 struct sl_err *err);
int sl_meta_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
			     const int64_t *space, const int64_t *inodes, size_t n,
			     struct sl_err *err);
int sl_meta_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path, sl_ino *ino,
		    struct sl_attr *attr, struct sl_err *err);
int sl_meta_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
int sl_meta_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_attr *attr, struct sl_err *err);
int sl_meta_reach(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, struct sl_err *err);
int sl_meta_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		    const struct sl_attr *in, struct sl_attr *out, struct sl_err *err);
int sl_meta_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent, const char *name,
		  uint8_t type, uint16_t mode, int flags, const char *target, sl_ino *ino,
		  struct sl_attr *attr, struct sl_removed *replaced, struct sl_err *err);
int sl_meta_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, struct sl_removed *removed, struct sl_err *err);
int sl_meta_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent, const char *name,
		  struct sl_err *err);
int sl_meta_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc, const char *nsrc,
		   sl_ino pdst, const char *ndst, int flags, struct sl_removed *replaced,
		   struct sl_err *err);
int sl_meta_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, sl_meta_removed_cb removed, void *arg,
			struct sl_err *err);
int sl_meta_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir, const char *after,
		    size_t limit, sl_meta_dirent_cb cb, void *arg, struct sl_err *err);
int sl_meta_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **target,
		     struct sl_err *err);
int sl_meta_read_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint32_t indx,
		       struct sl_slice **slices, size_t *n, struct sl_err *err);
int sl_meta_next_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint32_t from,
		       uint32_t *next, struct sl_err *err);
int sl_meta_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			struct sl_err *err);
int sl_meta_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint64_t length,
		     struct sl_attr *attr, struct sl_err *err);
int sl_meta_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		   const sl_ino *srcs, size_t n, struct sl_err *err);
int sl_meta_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
			     struct sl_err *err);
int sl_meta_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			  const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			  const struct sl_slice *expect, size_t n, size_t skip,
			  const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			  struct sl_err *err);
int sl_meta_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  uint64_t sid, struct sl_meta_lease *out, struct sl_err *err);
int sl_meta_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
			  struct sl_err *err);
int sl_meta_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, uint16_t mode, int flags, uint64_t sid,
			 struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			 struct sl_removed *replaced, struct sl_err *err);
int sl_meta_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  bool recover, bool *closed, struct sl_err *err);
int sl_meta_lease_sweep(struct sl_meta *m, int64_t hard_limit_s, uint64_t *ended,
			struct sl_err *err);
int sl_meta_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err);
int sl_meta_list_delfiles(struct sl_meta *m, int64_t before_s,
			  int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			  struct sl_err *err);
int sl_meta_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err);
int sl_meta_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, const char *name,
		     void **value, size_t *len, struct sl_err *err);
int sl_meta_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, const char *name,
		     const void *value, size_t len, int flags, struct sl_err *err);
int sl_meta_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **names,
		      size_t *len, struct sl_err *err);
int sl_meta_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, struct sl_err *err);
int sl_meta_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_meta_summary *out, struct sl_err *err);
int sl_meta_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				 struct sl_err *err);
int sl_meta_issue_token(struct sl_meta *m, const struct sl_meta_user *u, const char *renewer,
			struct sl_meta_token *out, char *service, size_t service_size,
			struct sl_err *err);
int sl_meta_renew_token(struct sl_meta *m, const struct sl_meta_token *t, int64_t *expiry_ms,
			struct sl_err *err);
int sl_meta_cancel_token(struct sl_meta *m, const struct sl_meta_token *t, struct sl_err *err);
int sl_meta_dt_setup(struct sl_meta *m, struct sl_err *err);
int sl_meta_dt_signing_key(struct sl_meta *m, int64_t now_ms, int64_t update_ms,
			   int64_t lifetime_ms, const uint8_t fresh[SL_META_DT_SECRET_LEN],
			   struct sl_dt_key *out, struct sl_err *err);
int sl_meta_dt_get_key(struct sl_meta *m, int32_t id, struct sl_dt_key *out, struct sl_err *err);
int sl_meta_dt_add_token(struct sl_meta *m, struct sl_dt_row *row, struct sl_err *err);
int sl_meta_dt_get_token(struct sl_meta *m, int32_t seq, struct sl_dt_row *out, struct sl_err *err);
int sl_meta_dt_renew_token(struct sl_meta *m, int32_t seq, int64_t now_ms, int64_t expiry_ms,
			   struct sl_err *err);
int sl_meta_dt_cancel_token(struct sl_meta *m, int32_t seq, struct sl_err *err);
int sl_meta_dt_sweep(struct sl_meta *m, int64_t now_ms, uint64_t *tokens, uint64_t *keys,
		     struct sl_err *err);
int sl_meta_whoami(struct sl_meta *m, char *name, size_t size, struct sl_err *err);
int sl_meta_object_provider(struct sl_meta *m, struct sl_presign_provider *out, struct sl_err *err);
int sl_meta_slice_refs(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
		       struct sl_err *err);
int sl_meta_list_dead_slices(struct sl_meta *m, sl_meta_slice_cb cb, void *arg, struct sl_err *err);
int sl_meta_clean_trash(struct sl_meta *m, int64_t before_s, sl_meta_removed_cb removed,
			void *arg, uint64_t *files, uint64_t *delayed, struct sl_err *err);
int sl_meta_set_if_small(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			 bool *changed, struct sl_err *err);
int sl_meta_quota_set(struct sl_meta *m, const struct sl_meta_quota *q, bool *created,
		      struct sl_err *err);
int sl_meta_quota_delete(struct sl_meta *m, sl_ino ino, struct sl_err *err);
int sl_meta_quota_list(struct sl_meta *m, sl_ino ino, sl_meta_quota_cb cb, void *arg,
		       struct sl_err *err);
int sl_meta_quota_flush(struct sl_meta *m, struct sl_err *err);
int sl_meta_scan_chunks(struct sl_meta *m, sl_meta_chunk_cb cb, void *arg, struct sl_err *err);
int sl_meta_check_dir(struct sl_meta *m, sl_ino parent, sl_ino ino,
		      const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
		      struct sl_err *err);
int sl_meta_load(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err);
int sl_meta_snapshot(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
		     sl_ino dir, const char *name, const char *new_name,
		     sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
		     struct sl_err *err);
int sl_meta_getfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err);
int sl_meta_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		    struct sl_attr *attr, struct sl_err *err);
/* u's access mask to inode ino whose attributes (as the caller read them) are attr: by the
 * permission bits at once, through the backend's access slot when attr has an ACL that
 * decides. 0, -EACCES, or the backend's error. */
int sl_meta_may(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		const struct sl_attr *attr, int mask, struct sl_err *err);
int sl_meta_block_crc_get(struct sl_meta *m, uint64_t id, uint32_t first, uint32_t n,
			  uint32_t *crcs, uint32_t *lens, struct sl_err *err);
int sl_meta_block_crc_put(struct sl_meta *m, uint64_t id, uint32_t indx, uint32_t crc,
			  uint32_t len, struct sl_err *err);
int sl_meta_file_crc(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint64_t length,
		     uint32_t *crc, struct sl_err *err);
int sl_meta_block_claim(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			int64_t ttl_s, enum sl_meta_claim *out, struct sl_err *err);
int sl_meta_block_claim_end(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			    bool uploaded, struct sl_err *err);

/* setattr masks */
#define SL_SET_MODE 1
#define SL_SET_UID 2
#define SL_SET_GID 4
#define SL_SET_ATIME 8
#define SL_SET_MTIME 16
/* mknod flags */
#define SL_MKNOD_REPLACE 1
/* The creator's umask (0777 bits), in the flags: the mode given is the one asked for, which a
 * directory's default ACL takes instead of the umask (as HDFS and POSIX do). */
#define SL_MKNOD_UMASK(umask) ((int)(((umask) & 0777u) << 8))
#define SL_MKNOD_UMASK_OF(flags) ((uint16_t)(((unsigned)(flags) >> 8) & 0777u))
/* rename flags */
#define SL_RENAME_NOREPLACE 1
#define SL_RENAME_INTO_DIR 2
/* setxattr flags */
#define SL_XATTR_CREATE 1
#define SL_XATTR_REPLACE 2

/* Usage not yet flushed to the database (see meta.c). */
struct sl_meta_dirstat {
	sl_ino ino;
	int64_t length, space, inodes;
};

struct sl_meta {
	const struct sl_meta_backend *be;
	void *priv;
	const struct sl_logger *log;
	const struct sl_conf *conf; /* the volume's settings for backends that need some, or NULL */
	/* The clock of its decisions by time (the cache's ttls, a batch's deadline, a presigned
	 * URL's reuse); NULL: the system clock. Set by the opener before first use (a test's own,
	 * util/clock.h); sl_meta_cache_enable takes it as it is then. */
	const struct sl_clock *clock;
	char url_redacted[512]; /* the META-URL with the password replaced by **** */

	/* core state, guarded by lock */
	pthread_mutex_t lock;
	uint64_t next_ino, max_ino;     /* current batch of inode numbers: [next, max) */
	uint64_t next_slice, max_slice; /* current batch of slice ids */
	int64_t slice_batch_until_ms;   /* its ids are handed out until then (clock's mono ms; 0:
	                                   no limit): a backend whose batches come with a grant of
	                                   limited life (remote) sets it in incr_counter("nextChunk"),
	                                   so that ids are used while their grant has time left */
	int64_t pending_space, pending_inodes;
	/* The volume's limits (format Capacity in bytes, Inodes; 0: none), set by the opener, and
	 * the volume's usage as last read from its counters (sl_meta_flush_usage), against which
	 * sl_meta_check_capacity weighs growth as juicefs does. */
	uint64_t capacity, max_inodes;
	int64_t used_space, used_inodes, used_read_ms;
	struct sl_meta_dirstat *pending_dirs;
	size_t npending_dirs, cap_pending_dirs;
	struct sl_open_file *open_files; /* hash table of locally open inodes */
	size_t open_cap, open_count;
	uint64_t sid;
	struct sl_meta_calls *calls; /* counters and injected faults of sl_meta_SLOT (calls.c) */
	struct sl_meta_cache *cache; /* the metadata cache stage (cache.c), or NULL when off */
};

/* ---- the core (meta.c) ---------------------------------------------------------------------- */
/* Picks the backend by the URL scheme (sqlite3://, mysql://, gateway://); -EINVAL for unknown
 * schemes. conf (may be NULL: defaults) must outlive the handle. */
int sl_meta_open(const char *url, const struct sl_conf *conf, const struct sl_logger *log,
		 struct sl_meta **out, struct sl_err *err);
void sl_meta_close(struct sl_meta *m);

/* Allocates a fresh inode number / slice id (batches from nextInode / nextChunk). */
int sl_meta_next_inode(struct sl_meta *m, sl_ino *ino, struct sl_err *err);
int sl_meta_next_slice_id(struct sl_meta *m, uint64_t *id, struct sl_err *err);

/* A key for one purpose (label), derived from the volume's secret: a random value in the
 * metadata (jfs_setting), made by the first client that needs one. Every client with direct
 * access to the metadata can derive it; a gateway never lets its clients read the secret. */
#define SL_META_KEY_BYTES 32
int sl_meta_volume_key(struct sl_meta *m, const char *label, uint8_t key[SL_META_KEY_BYTES],
		       struct sl_err *err);

/* Commits n slices (struct sl_meta_chunk_write): with the backend's write_chunks in one
 * transaction (all or nothing), else by one write_chunk per record in order, stopping at the
 * first failure. *done gets the number of records committed, from the first: records past it
 * are not. *txns (may be NULL) gets the number of transactions used. atomic: all or nothing or
 * -ENOSYS (records of several streams, which must not be committed in part). */
int sl_meta_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n, bool atomic,
			 size_t *done, unsigned *txns, struct sl_err *err);

/* ---- permission rules (perm.c), for the backends' transactions ------------------------------ */
/* POSIX permission check of u against attr for mask (SL_MAY_*): 0 or -EACCES. u NULL (the
 * volume's own maintenance) and superusers pass, except that nobody executes a file no one may.
 * acl: the rule of attr->access_acl (which decides when the group bits, its mask, are not 0, as
 * juicefs and Linux check), NULL when attr has none; an attr with one checked without it is
 * denied. */
int sl_meta_access(const struct sl_meta_user *u, const struct sl_attr *attr,
		   const struct sl_acl *acl, int mask);
bool sl_meta_superuser(const struct sl_meta_user *u);
bool sl_meta_in_group(const struct sl_meta_user *u, uint32_t gid);
/* The sticky bit: only the owner of the entry or of the directory (or a superuser) may remove
 * or rename an entry of a sticky directory. */
bool sl_meta_sticky_denies(const struct sl_meta_user *u, const struct sl_attr *dir,
			   const struct sl_attr *victim);
/* HDFS's rules for setattr (set: SL_SET_*, in: the new values) against attr: NULL, or why not.
 * chmod by the owner; chown only by a superuser; chgrp by the owner to one of its groups;
 * setTimes by the owner or anyone who may write. (HDFS refuses with AccessControlException:
 * EACCES, where POSIX would say EPERM.) */
const char *sl_meta_setattr_denied(const struct sl_meta_user *u, const struct sl_attr *attr,
				   const struct sl_acl *acl, int set, const struct sl_attr *in);
/* The data slots' check: whether u may not read or write (mask) the data of a file. The owner
 * always may (it could grant itself the bits, and a file it created read-only stays writable
 * through the creating stream); u NULL always may. */
bool sl_meta_data_denied(const struct sl_meta_user *u, const struct sl_attr *attr,
			 const struct sl_acl *acl, int mask);

/* Local open-file table: backends ask it whether an unlinked inode must be kept (sustained). */
void sl_meta_open_inc(struct sl_meta *m, sl_ino ino);
/* Records that ino was unlinked while open here (the backend reported it removed without data
 * pending), so that its last close must call release. */
void sl_meta_open_sustain(struct sl_meta *m, sl_ino ino);
/* Returns true when the last local handle closed; *sustained says whether release is needed. */
bool sl_meta_open_dec(struct sl_meta *m, sl_ino ino, bool *sustained);
bool sl_meta_is_open(struct sl_meta *m, sl_ino ino);

/* Backends call this after a successful commit to account usage: the file system totals and the
 * stats of directory `parent` (0: no directory stats to update). */
void sl_meta_account(struct sl_meta *m, sl_ino parent, int64_t length, int64_t space,
		     int64_t inodes);
/* The path of inode ino as u may reach it: the backend's inode_path, then resolved as u (search
 * permission on every directory of it) and checked to lead to ino (retried if a rename moved it
 * in between). -EOPNOTSUPP if the backend has no inode_path; -ENOENT if ino has no name. */
int sl_meta_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **path,
		       struct sl_err *err);

/* Writes the accumulated usage to jfs_counter (usedSpace, totalInodes) and jfs_dir_stats. */
int sl_meta_flush_usage(struct sl_meta *m, struct sl_err *err);
/* Whether the volume has room for space more bytes and inodes more inodes (either may be 0 or
 * negative: no check): 0, or -ENOSPC with a message naming the limit, as juicefs refuses growth
 * past the volume's Capacity or Inodes. Weighs the usage last read from the counters plus what
 * this handle has not flushed yet, so clients overshoot by at most a second's growth each. The
 * backends call it in every operation that adds inodes or grows a file. */
int sl_meta_check_capacity(struct sl_meta *m, int64_t space, int64_t inodes, struct sl_err *err);
/* As sl_meta_flush_usage, after flushing every other open handle of this process on the same
 * database (same META-URL): a usage read after it counts every change this process committed.
 * Other processes' changes count once they flushed (each handle does about once a second). Only
 * m's own failure is returned; what a handle fails to flush stays pending for its next flush. */
int sl_meta_flush_usage_shared(struct sl_meta *m, struct sl_err *err);

/* Time helpers for the JuiceFS encoding: microseconds plus a 0-999 ns remainder column. */
static inline int64_t sl_time_us(int64_t ns) { return ns / 1000; }
static inline int64_t sl_time_nsrem(int64_t ns) { return ns % 1000; }
static inline int64_t sl_time_join(int64_t us, int64_t nsrem) { return us * 1000 + nsrem; }

extern const struct sl_meta_backend sl_meta_sql_backend;
extern const struct sl_meta_backend sl_meta_remote_backend;

/* ---- metadata cache (cache.c) --------------------------------------------------------------- */
/* A stage between sl_meta_SLOT and m->be that answers getattr, resolve, lookup and read_chunk
 * from memory within their TTLs and lets every other slot pass. Every mutating slot called through m drops what it
 * may have changed, so a handle always sees its own changes; other clients' changes may be seen
 * up to a TTL late. Path and name entries are kept per caller identity (uid, gids, superuser). */
struct sl_meta_cache_conf {
	uint64_t attr_s;      /* attr-cache: getattr, and the attributes resolve/lookup return */
	uint64_t entry_s;     /* entry-cache: path/name -> inode of non-directories */
	uint64_t dir_entry_s; /* dir-entry-cache: path/name -> inode of directories */
	uint64_t open_s;      /* open-cache: read_chunk slice lists */
	size_t max_entries;   /* 0: SL_META_CACHE_MAX_ENTRIES */
};
#define SL_META_CACHE_MAX_ENTRIES 100000
#define SL_META_CACHE_MAX_TTL 86400 /* seconds */
struct sl_meta_cache_stats {
	uint64_t hits, misses;
	size_t entries, bytes;
};
/* Puts the stage in place (call before m is shared between threads); freed by sl_meta_close.
 * All TTLs 0: does nothing. -EINVAL for a TTL above SL_META_CACHE_MAX_TTL or a second enable. */
int sl_meta_cache_enable(struct sl_meta *m, const struct sl_meta_cache_conf *conf,
			 struct sl_err *err);
/* Drops what is cached about ino (its attributes and slice lists); a no-op without the cache.
 * For readers that find a block missing: another client's compaction may have replaced the
 * slices of a list cached here. */
void sl_meta_cache_forget(struct sl_meta *m, sl_ino ino);
/* false (and *out zeroed) when the cache is not enabled on m. */
bool sl_meta_cache_stats(struct sl_meta *m, struct sl_meta_cache_stats *out);
/* For calls.c and meta.c: the stage's slots (the CACHED and DROPS ones of SL_META_OPS, the
 * others NULL), each of which reaches the backend through m->be; and its end. */
extern const struct sl_meta_backend sl_meta_cache_stage;
void sl_meta_cache_free(struct sl_meta *m);

#endif
