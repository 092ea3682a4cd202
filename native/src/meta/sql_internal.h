/*
 * sql_internal.h - what the files of the "sql" backend share: sql.c's private state, transaction
 * runner, statement and node helpers, so that every file follows the same rules (sql.c's header:
 * portable SQL, retry-safe transaction functions), and the slots that sql_sessions.c,
 * sql_namespace.c, sql_changes.c, sql_data.c, sql_delete.c, sql_xattr.c, sql_leases.c, sql_crc.c
 * and sql_claims.c give to sl_meta_sql_backend (sql.c). Private to src/meta.
 */
#ifndef SL_SQL_INTERNAL_H
#define SL_SQL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "meta.h"
#include "../util/strbuf.h"
#include "sql_driver.h"
#include "sql_pool.h"

/* ACL rules this handle read or wrote (sql_acl.c): jfs_acl rows never change. */
struct acl_cached;
struct sql_acls {
	pthread_mutex_t lock;
	struct acl_cached *e;
	size_t n, cap;
};

/* Directory quotas as this handle knows them (sql_quota.c), guarded by lock. */
struct quota_entry;
struct dir_parent;
struct sql_quotas {
	pthread_mutex_t lock;
	struct quota_entry *q; /* by inode */
	size_t n;
	bool loaded;
	int64_t loaded_ms;          /* when they were read (m->clock's mono ms) */
	struct dir_parent *parents; /* directory -> parent, open addressing */
	size_t parents_cap, parents_n;
};

struct sqlbe {
	const struct sl_sql_driver *d;
	struct sl_sql_pool *pool;
	pthread_mutex_t lock; /* guards info and the lease fields */
	char *info;           /* our session's info, to register it again if it was cleaned */
	bool lease_table;     /* sluice_lease exists (sql_leases.c creates it on first use) */
	uint64_t lease_gen;   /* the last lease generation handed out by this handle */
	bool crc_table;       /* sluice_block_crc exists (sql_crc.c creates it on first use) */
	bool claim_table;     /* sluice_block_claim exists (sql_claims.c creates it on first use) */
	bool token_tables;    /* the delegation token tables exist (sql_tokens.c, dt_setup) */
	struct sql_quotas quotas;
	struct sql_acls acls;
};

/* One attempt of a transaction: the connection it runs on. */
struct tx {
	struct sl_meta *m;
	const struct sl_sql_driver *d;
	struct sl_sql_conn *c;
	struct sl_err *err;
	bool write; /* a write transaction (else autocommit reads) */
};

typedef int (*op_fn)(struct tx *t, void *arg);

/* One transaction of fn (write: a write transaction; otherwise autocommit reads), retried by
 * the runner as needed. */
int sl_sqlq_run(struct sl_meta *m, bool write, op_fn fn, void *arg, struct sl_err *err);
/* The write transaction that makes a slot's change: it carries the idempotency token of the
 * gateway request being served, if one is armed (sl_sql_txn_once); -EALREADY when an earlier
 * sending of the request made the change. A slot makes its change in one such transaction;
 * id batches and other side work use sl_sqlq_run. */
int sl_sqlq_run_once(struct sl_meta *m, op_fn fn, void *arg, struct sl_err *err);
/* The idempotency token armed for the request this thread serves, until its sl_sqlq_run_once
 * (0: none). */
uint64_t sl_sqlq_armed_token(struct sl_meta *m);
/* A table of Sluice's own, created on first use (ddl: the driver's statements for it) unless
 * *ready says this handle made sure of it already; what names it in an error message. DDL runs
 * outside a transaction (MySQL would commit one). */
int sl_sqlq_own_table(struct sl_meta *m, bool *ready, const char *const *ddl, const char *what,
		      struct sl_err *err);
/* A statement without results, arguments described by fmt: 'i' int64_t, 'b' const void * +
 * size_t (blob), 't' const char * (text); *changes (may be NULL) gets the rows it changed. */
int sl_sqlq_exec(struct tx *t, int64_t *changes, const char *sql, const char *fmt, ...);
/* A write whose result the operation does not need (no rows, no count of changed rows, no
 * error it handles itself): a client-server database gets such writes of a write transaction
 * in the same round trip as the transaction's next query or its COMMIT (driver->defer, the
 * values written into the text); an in-process database runs each at once as a prepared
 * statement. Arguments as sl_sqlq_exec's; on a server, text other than plain names (letters,
 * digits, "_.-") is compared as its bytes. Its error may show at that next query, or fail the
 * transaction at its end. */
int sl_sqlq_write(struct tx *t, const char *sql, const char *fmt, ...);
/* A deferred write whose count of changed rows the operation needs only after its commit:
 * *changed gets it when the statement has run, at once or in the round trip of the next query
 * or the COMMIT, and keeps the caller's value if it never ran (or an in-doubt commit lost the
 * answer). */
int sl_sqlq_write_counted(struct tx *t, int64_t *changed, const char *sql, const char *fmt, ...);
/* A query for its first row: 1 with *s on the row (caller finalizes with t->d->finalize), 0 if
 * there is none, or a negative errno. */
int sl_sqlq_row(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...);
/* A query to step through: *s prepared and bound (caller steps and finalizes it), or a negative
 * errno. */
int sl_sqlq_open(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...);

/* ---- the backend's core (sql.c), for the files of its operations ----------------------------- */
#define DIR_SPACE 4096 /* what juicefs counts for a directory (align4K(0)) */

/* The columns of jfs_node in the order sl_sql_node_row reads them; _N: of a node joined as n. */
#define NODE_COLS "inode, type, flags, mode, uid, gid, atime, mtime, ctime, atimensec, " \
	"mtimensec, ctimensec, nlink, length, rdev, parent, access_acl_id, default_acl_id"
#define NODE_COLS_N "n.inode, n.type, n.flags, n.mode, n.uid, n.gid, n.atime, n.mtime, n.ctime, " \
	"n.atimensec, n.mtimensec, n.ctimensec, n.nlink, n.length, n.rdev, n.parent, " \
	"n.access_acl_id, n.default_acl_id"
#define NODE_NCOLS 18

/* sql followed by the driver's FOR UPDATE clause, in the array buf. */
#define FU(t, buf, sql) sl_sql_fu(t, buf, sizeof(buf), sql)

/* Usage deltas of a transaction, applied after its commit (sl_sql_acct_*).
 * Directory stats and file system totals change separately: removing the last link of an open
 * file takes it out of its directory at once, but its space stays in usedSpace until the file
 * is really deleted (at release), as juicefs counts it. */
struct acct_dir {
	sl_ino dir;
	int64_t len, space, inodes;
};
struct acct {
	struct acct_dir *d;
	size_t n, cap;
	int64_t tspace, tinodes;
	/* a subtree a rename moved (its directory's own entry is in d): quotas only */
	sl_ino move_from, move_to;
	int64_t move_space, move_inodes;
};

/* The backend's state of handle m (m->priv). */
struct sqlbe *sl_sql_be_of(struct sl_meta *m);
/* JuiceFS's align4K: the space of a file of n bytes; an empty one counts as 4 KiB. */
int64_t sl_sql_jfs_space(uint64_t n);
/* sql followed by the driver's FOR UPDATE clause, in buf of size bytes (FU for an array). */
const char *sl_sql_fu(struct tx *t, char *buf, size_t size, const char *sql);
/* An integer column as uint64_t; NULL reads as 0. */
uint64_t sl_sql_col_u64(struct tx *t, struct sl_sql_stmt *s, int col);
/* A blob column copied into a fresh NUL-terminated buffer (NULL: no memory); *len (may be NULL)
 * gets its size. */
char *sl_sql_col_dup(struct tx *t, struct sl_sql_stmt *s, int col, size_t *len);
/* Whether a query failed (rc, err) because table does not exist; the engines report it as a
 * generic error, so this recognises their own wording. */
bool sl_sql_missing_table(const struct sl_err *err, int rc, const char *table);
/* Says "out of memory" in t->err: -ENOMEM. */
int sl_sql_nomem(struct tx *t);
/* Reads a node from the NODE_COLS columns of s that start at column c0 (ino may be NULL). */
void sl_sql_node_row(struct tx *t, struct sl_sql_stmt *s, int c0, sl_ino *ino, struct sl_attr *a);
/* Reads a node (locked for update when lock); -ENOENT if it does not exist. */
int sl_sql_node_get(struct tx *t, sl_ino ino, bool lock, struct sl_attr *a);
/* Inserts node ino with the attributes a (no ACLs). */
int sl_sql_node_insert(struct tx *t, sl_ino ino, const struct sl_attr *a);
/* Adds dnlink to a directory's link count and sets its mtime and ctime; -ENOENT if it vanished. */
int sl_sql_dir_touch(struct tx *t, sl_ino dir, int64_t dnlink, int64_t now);
/* The same for a directory this transaction holds locked (sl_sql_dir_entry_lock), which cannot
 * vanish meanwhile: a deferred write (sl_sqlq_write). */
int sl_sql_locked_dir_touch(struct tx *t, sl_ino dir, int64_t dnlink, int64_t now);
/* Adds delta to a counter inside a transaction (creating it at 0); *value gets the new value. */
int sl_sql_counter_add(struct tx *t, const char *name, int64_t delta, int64_t *value);
/* Checks an entry name: not empty, at most SL_NAME_MAX bytes, no '/', not "." or "..". */
int sl_sql_check_name(const char *name, struct sl_err *err);
/* -EACCES with a message saying what u may not do to inode ino. */
int sl_sql_deny(struct tx *t, const char *what, sl_ino ino);
/* Reads directory dir (-ENOENT if it does not exist) and its entry name in one query, both
 * locked for update (a namespace change locks its directories first, then their entries and
 * nodes): 1 with *ino and *type of the entry, 0 if dir has no such entry. dir is not checked:
 * see sl_sql_dir_change_check. */
int sl_sql_dir_entry_lock(struct tx *t, sl_ino dir, const char *name, struct sl_attr *a,
			  sl_ino *ino, uint8_t *type);
/* Two different directories with an entry each, as sl_sql_dir_entry_lock reads one, in one
 * query that locks them in the same order (the lower inode first, each with its entry): dir and
 * name in, the rest out (found: 1 or 0 as there). -ENOENT if either directory does not exist. */
struct sl_sql_dir_entry {
	sl_ino dir;
	const char *name;
	struct sl_attr attr;
	sl_ino ino;
	uint8_t type;
	int found;
};
int sl_sql_dirs_entries_lock(struct tx *t, struct sl_sql_dir_entry *x, struct sl_sql_dir_entry *y);
/* Whether u may change directory dir (attributes a): one it may write and search. */
int sl_sql_dir_change_check(struct tx *t, const struct sl_meta_user *u, sl_ino dir,
			    const struct sl_attr *a);
/* Loads dir, the parent of a modifying operation (not locked), and checks it so. */
int sl_sql_dir_for_change(struct tx *t, const struct sl_meta_user *u, sl_ino dir,
			  struct sl_attr *a);
/* Empties a, at the start of an attempt of the transaction. */
void sl_sql_acct_reset(struct acct *a);
/* Adds to the stats of directory dir (0: none). */
int sl_sql_acct_dir(struct tx *t, struct acct *a, sl_ino dir, int64_t len, int64_t space,
		    int64_t inodes);
/* Adds to the file system's totals. */
void sl_sql_acct_total(struct acct *a, int64_t space, int64_t inodes);
/* Records that a rename moved a subtree of space bytes and inodes inodes (the directory's own
 * entry not counted) from directory `from` to `to`: for the quotas over them. */
void sl_sql_acct_move(struct acct *a, sl_ino from, sl_ino to, int64_t space, int64_t inodes);
/* After a commit: the stats of directory dir, the totals and the quotas over dir. */
void sl_sql_account(struct sl_meta *m, sl_ino dir, int64_t len, int64_t space, int64_t inodes);
/* Accounts a's deltas to m (after the commit). */
void sl_sql_acct_apply(struct sl_meta *m, struct acct *a);
/* Frees a's memory. */
void sl_sql_acct_free(struct acct *a);

/* ---- sessions and counters (sql_sessions.c; slots of sl_meta_sql_backend) -------------------- */
/* Turns sustained inode ino of session sid into a jfs_delfile row (its data is deleted later);
 * *orphan (may be NULL) is set if the inode still existed. */
int sl_sql_unsustain(struct tx *t, uint64_t sid, sl_ino ino, struct acct *ac, bool *orphan);
int sl_sql_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s,
		       uint64_t *sid, struct sl_err *err);
int sl_sql_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
			   struct sl_err *err);
int sl_sql_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err);
int sl_sql_close_stale_session(struct sl_meta *m, uint64_t sid, bool *closed,
			       struct sl_err *err);
int sl_sql_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
			 struct sl_err *err);
int sl_sql_get_session(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
		       struct sl_err *err);
int sl_sql_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			struct sl_err *err);
int sl_sql_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
			    const int64_t *space, const int64_t *inodes, size_t n,
			    struct sl_err *err);

/* ---- namespace lookups and listing (sql_namespace.c; slots of sl_meta_sql_backend) ----------- */
struct dirent_row {
	char *name;
	size_t len;
	sl_ino ino;
	struct sl_attr attr;
};

struct readdir_arg {
	const struct sl_meta_user *u;
	sl_ino dir;
	const char *after;
	size_t limit;
	struct dirent_row *rows;
	size_t n, cap;
};

/* Transaction function (struct readdir_arg): the entries of a directory u may list, in rows. */
int sl_sql_readdir_op(struct tx *t, void *arg);
/* Frees the names of a's rows and empties the list (the array stays). */
void sl_sql_dirent_rows_clear(struct readdir_arg *a);
int sl_sql_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
		   sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
int sl_sql_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		  const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
int sl_sql_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_attr *attr, struct sl_err *err);
int sl_sql_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		   const struct sl_attr *in, struct sl_attr *out, struct sl_err *err);
int sl_sql_reach(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		 struct sl_err *err);
int sl_sql_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
		   const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
		   struct sl_err *err);
int sl_sql_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    char **target, struct sl_err *err);
int sl_sql_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      char **path, struct sl_err *err);

/* ---- namespace changes (sql_changes.c; slots of sl_meta_sql_backend) ------------------------- */
int sl_sql_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		 const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
		 sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
		 struct sl_err *err);
int sl_sql_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, uint16_t mode, int flags, uint64_t sid,
			struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			struct sl_removed *replaced, struct sl_err *err);
int sl_sql_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		  const char *name, struct sl_removed *removed, struct sl_err *err);
int sl_sql_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		 const char *name, struct sl_err *err);
int sl_sql_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
		  const char *nsrc, sl_ino pdst, const char *ndst, int flags,
		  struct sl_removed *replaced, struct sl_err *err);
int sl_sql_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		       const char *name, sl_meta_removed_cb cb, void *arg, struct sl_err *err);

/* The transaction functions of those slots, for operations made of several of them in one
 * transaction (sql_snapshot.c); each takes its struct. */
struct mknod_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	uint8_t type;
	uint16_t mode;
	int flags;
	const char *target;
	const struct sl_meta_lease *lease; /* taken on the new file (mknod_leased), or NULL */
	sl_ino ino; /* allocated before the transaction (except in the trash) */
	struct sl_attr attr;
	struct sl_removed replaced;
	struct acct ac;
};
int sl_sql_mknod_op(struct tx *t, void *arg);

struct unlink_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	bool dir; /* rmdir */
	struct sl_removed removed;
	struct acct ac;
};
int sl_sql_unlink_op(struct tx *t, void *arg);

struct rename_arg {
	const struct sl_meta_user *u;
	sl_ino psrc, pdst;
	const char *nsrc, *ndst;
	int flags;
	struct sl_removed replaced;
	struct acct ac;
	sl_ino moved_dir, moved_to; /* a directory moved to another parent, and that parent */
};
int sl_sql_rename_op(struct tx *t, void *arg);

/* A directory tree on its way out: moved into the trash inside a transaction
 * (sl_sql_tree_to_trash), emptied there after the commit (sl_sql_tree_remove). */
struct sl_sql_tree {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	char hour[32];
	char trash_name[SL_NAME_MAX + 1];
	sl_ino ino; /* the tree's top directory */
	struct mknod_arg hour_dir;
	struct rename_arg move;
};
/* a's hour in the trash: now's. */
void sl_sql_tree_init(struct sl_sql_tree *a);
/* Inside a transaction: moves directory a->ino, entry a->name of a->parent, into the hour's
 * directory of the trash (made if missing). */
int sl_sql_tree_to_trash(struct tx *t, struct sl_sql_tree *a);
/* After the transaction that moved it (its result rc): accounts the move and, if it committed,
 * removes the tree with the volume's rights (its files go to cb), then the hour's directory if
 * that is empty. What fails is logged and left to a trash cleaner. Returns rc. */
int sl_sql_tree_remove(struct sl_meta *m, struct sl_sql_tree *a, int rc, sl_meta_removed_cb cb,
		       void *arg);
/* An entry of parent, not locked: 0 with its *ino and *type, or -ENOENT. */
int sl_sql_edge_get(struct tx *t, sl_ino parent, const char *name, sl_ino *ino, uint8_t *type);
/* Whether directory dir has no entries. */
int sl_sql_dir_is_empty(struct tx *t, sl_ino dir, bool *empty);
/* Inside a transaction: -EPERM if directory top or one below it has snapshots. */
int sl_sql_no_snapshots_below(struct tx *t, sl_ino top, const char *name);

/* ---- whole-volume scans and loads (sql_scan.c, sql_load.c; slots of sl_meta_sql_backend) ---- */
int sl_sql_scan_chunks(struct sl_meta *m, sl_meta_chunk_cb cb, void *arg, struct sl_err *err);
int sl_sql_check_dir(struct sl_meta *m, sl_ino parent, sl_ino ino,
		     const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
		     struct sl_err *err);
/* A directory's jfs_dir_stats as juicefs's calcDirStat counts them from its entries. */
int sl_sql_dir_stats_count(struct tx *t, sl_ino dir, int64_t *length, int64_t *space,
			   int64_t *inodes);
int sl_sql_load(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err);

/* ---- directory snapshots (sql_snapshot.c; the snapshot slot) --------------------------------- */
int sl_sql_snapshot(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
		    sl_ino dir, const char *name, const char *new_name,
		    sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
		    struct sl_err *err);
/* Inside a transaction: if box is a directory of .trash/.sluice-snapshots (top), *dir gets the
 * directory whose snapshots it holds; otherwise 0. */
int sl_sql_snapshot_owner(struct tx *t, sl_ino top, sl_ino box, sl_ino *dir);

/* ---- file data (sql_data.c; slots of sl_meta_sql_backend) ------------------------------------ */
/* The slices blob of a chunk (locked for update when lock); *buf is NULL if there is none. */
int sl_sql_chunk_load(struct tx *t, sl_ino ino, uint32_t indx, bool lock, uint8_t **buf,
		      size_t *len);
/* Writes a chunk's slices back (existed: the row was there, from sl_sql_chunk_load). */
int sl_sql_chunk_store(struct tx *t, sl_ino ino, uint32_t indx, bool existed, const uint8_t *buf,
		       size_t len);
/* Loads ino and checks u's data permission mask as the data slots do (the owner always may). */
int sl_sql_data_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
		       struct sl_attr *attr);
/* Whether s may be added to a chunk: data of its own, within the chunk and within its slice. */
bool sl_sql_new_slice_ok(const struct sl_slice *s);
int sl_sql_next_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      uint32_t from, uint32_t *next, struct sl_err *err);
int sl_sql_read_chunk(struct sl_meta *m, const struct sl_meta_user *u,
		      sl_ino ino, uint32_t indx, struct sl_slice **slices,
		      size_t *n, struct sl_err *err);
int sl_sql_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
		       const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
		       const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
		       struct sl_err *err);
int sl_sql_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			size_t *done, struct sl_err *err);
int sl_sql_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    uint64_t length, struct sl_attr *attr, struct sl_err *err);
int sl_sql_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		  const sl_ino *srcs, size_t n, struct sl_err *err);

/* ---- deletion of file data (sql_delete.c; slots of sl_meta_sql_backend) ---------------------- */
int sl_sql_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			 const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			 const struct sl_slice *expect, size_t n, size_t skip,
			 const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			 struct sl_err *err);
int sl_sql_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
			    struct sl_err *err);
int sl_sql_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err);
int sl_sql_slice_refs(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
		      struct sl_err *err);
int sl_sql_clean_trash(struct sl_meta *m, int64_t before_s, sl_meta_removed_cb removed,
		       void *arg, uint64_t *files, uint64_t *delayed, struct sl_err *err);
int sl_sql_list_dead_slices(struct sl_meta *m, sl_meta_slice_cb cb, void *arg,
			    struct sl_err *err);
int sl_sql_set_if_small(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			bool *changed, struct sl_err *err);
int sl_sql_list_delfiles(struct sl_meta *m, int64_t before_s,
			 int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			 struct sl_err *err);
int sl_sql_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err);

/* ---- xattrs, summaries and features (sql_xattr.c; slots of sl_meta_sql_backend) -------------- */
int sl_sql_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    const char *name, void **value, size_t *len, struct sl_err *err);
int sl_sql_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    const char *name, const void *value, size_t len, int flags,
		    struct sl_err *err);
int sl_sql_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     char **names, size_t *len, struct sl_err *err);
int sl_sql_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       const char *name, struct sl_err *err);
int sl_sql_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_meta_summary *out, struct sl_err *err);
/* The totals of the subtree under ino (the summary slot's, without its permission check and
 * quota), inside a transaction. */
int sl_sql_subtree_usage(struct tx *t, sl_ino ino, struct sl_meta_summary *out);
int sl_sql_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				struct sl_err *err);

/* ---- POSIX ACLs (sql_acl.c; slots of sl_meta_sql_backend) ------------------------------------ */
void sl_sql_acls_init(struct sql_acls *c);
void sl_sql_acls_free(struct sql_acls *c);
/* The rule of jfs_acl row id (from the handle's cache, else read in t). */
int sl_sql_acl_get(struct tx *t, uint32_t id, struct sl_acl *out);
/* The id of a row holding rule (an existing one, else a new row). */
int sl_sql_acl_put(struct tx *t, const struct sl_acl *rule, uint32_t *id);
/* sl_meta_access with node a's ACL read as needed: 0, -EACCES (no message), or the error of
 * reading the rule. */
int sl_sql_access(struct tx *t, const struct sl_meta_user *u, const struct sl_attr *a, int mask);
/* sl_sql_access outside a transaction (the rule read in one of its own if not cached). */
int sl_sql_access_outside(struct sl_meta *m, const struct sl_meta_user *u,
			  const struct sl_attr *a, int mask, struct sl_err *err);
/* The same, saying what u may not do to inode ino (sl_sql_deny) when denied. */
int sl_sql_may(struct tx *t, const struct sl_meta_user *u, sl_ino ino, const struct sl_attr *a,
	       int mask, const char *what);
/* Permission checks on rows a statement is still reading, whose ACL rules may need a query of
 * their own (one connection runs one statement at a time): sl_sql_access_or_defer decides at
 * once for a node without an ACL (0 or -EACCES) and keeps the others (0, or -ENOMEM);
 * sl_sql_access_deferred, once the statement is finalized, checks those, sets *denied to the
 * first refused (left alone if none) and frees what was kept. */
struct sl_sql_deferred_node {
	sl_ino ino;
	struct sl_attr attr;
};
struct sl_sql_deferred {
	struct sl_sql_deferred_node *e;
	size_t n, cap;
};
int sl_sql_access_or_defer(struct tx *t, const struct sl_meta_user *u, sl_ino ino,
			   const struct sl_attr *a, int mask, struct sl_sql_deferred *d);
int sl_sql_access_deferred(struct tx *t, const struct sl_meta_user *u, int mask,
			   struct sl_sql_deferred *d, sl_ino *denied);
/* Steps s, whose rows are directories (mode, uid, gid, access_acl_id, then their inode unless
 * whole is not 0), checks u's mask on each and finalizes s: 0 with *denied the first refused
 * (its inode, or whole; 0: none), or an error. */
int sl_sql_dirs_may(struct tx *t, const struct sl_meta_user *u, struct sl_sql_stmt *s, int mask,
		    sl_ino whole, sl_ino *denied);
/* A new inode child (its requested mode in child->mode) in directory parent: with parent's
 * default ACL, the mode and access ACL it inherits, and a directory the default ACL too. */
int sl_sql_acl_inherit(struct tx *t, const struct sl_attr *parent, struct sl_attr *child);
int sl_sql_getfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err);
int sl_sql_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		   struct sl_attr *attr, struct sl_err *err);
int sl_sql_access_check(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_err *err);

/* ---- directory quotas (sql_quota.c; slots of sl_meta_sql_backend) ---------------------------- */
void sl_sql_quotas_init(struct sql_quotas *qs);
void sl_sql_quotas_free(struct sql_quotas *qs);
/* Whether the quotas over directory dir (its own included) have room for space more bytes and
 * inodes more inodes (either may be 0 or negative: no check): 0 or -EDQUOT naming the quota;
 * inside the transaction that grows. */
int sl_sql_quota_check(struct tx *t, sl_ino dir, int64_t space, int64_t inodes);
/* The same for what a rename moves from directory `from` to `to`: the quotas over both are
 * left alone, as the move does not change their usage. */
int sl_sql_quota_check_move(struct tx *t, sl_ino from, sl_ino to, int64_t space,
			    int64_t inodes);
/* What a rename of directory dir from `from` to `to` moves between quotas: the usage of the
 * tree under dir (dir itself not counted) as a quota counts it, from dir's own quota if it has
 * one; nothing when the same quotas are over both (or none at all). */
int sl_sql_quota_moving(struct tx *t, sl_ino dir, sl_ino from, sl_ino to, int64_t *space,
			int64_t *inodes);
/* After a commit: adds to the usage of the quotas over directory dir. */
void sl_sql_quota_account(struct sl_meta *m, sl_ino dir, int64_t space, int64_t inodes);
/* After a commit: moves usage from the quotas over `from` to those over `to` (a rename). */
void sl_sql_quota_account_move(struct sl_meta *m, sl_ino from, sl_ino to, int64_t space,
			       int64_t inodes);
/* After a commit: directory dir (0: none) moved under parent. */
void sl_sql_quota_moved_dir(struct sl_meta *m, sl_ino dir, sl_ino parent);
int sl_sql_quota_set(struct sl_meta *m, const struct sl_meta_quota *q, bool *created,
		     struct sl_err *err);
int sl_sql_quota_delete(struct sl_meta *m, sl_ino ino, struct sl_err *err);
int sl_sql_quota_list(struct sl_meta *m, sl_ino ino, sl_meta_quota_cb cb, void *arg,
		      struct sl_err *err);
int sl_sql_quota_flush(struct sl_meta *m, struct sl_err *err);

/* ---- the delegation token store (sql_tokens.c; sl_meta_sql_backend.token_store) ------------- */
extern const struct sl_meta_token_store sl_sql_token_store;

/* Loads file ino (-ENOENT, -EISDIR, -EINVAL for other types) and checks u's data permission
 * mask as the data slots do (the owner always passes; u NULL: no check). */
int sl_sqlq_file_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_attr *attr);
/* sl_sqlq_file_access's checks of a file already read (attr). */
int sl_sqlq_file_check(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
		       const struct sl_attr *attr);

/* ---- writer leases (sql_leases.c; slots of sl_meta_sql_backend) ------------------------------ */
/* Inside a data slot's transaction: 0 if lease (NULL: none to check) is still ino's, else
 * -SL_ELEASE_LOST saying the lease was recovered. Locks the lease row until the commit. */
int sl_sql_lease_check(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease);
/* An inode's lease row as sl_sql_node_lease_get read it. */
struct sl_sql_lease_row {
	bool held;
	uint64_t sid, gen;
};
/* Reads a node and its lease row in one query, both locked for update (the lease table must
 * exist: a caller with a lease acquired it); -ENOENT if the node does not exist. */
int sl_sql_node_lease_get(struct tx *t, sl_ino ino, struct sl_attr *a, struct sl_sql_lease_row *l);
/* sl_sql_lease_check against a row read so. */
int sl_sql_lease_check_row(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease,
			   const struct sl_sql_lease_row *l);
/* Makes sure sluice_lease exists, before a transaction that calls the two below. */
int sl_sql_lease_ready(struct sl_meta *m, struct sl_err *err);
/* Inside a transaction that changes file ino outside any stream (truncate, concat; `what` names
 * it in the error): -SL_ELEASE_HELD if a live writer holds ino's lease, as HDFS refuses them on a
 * file under construction; a dead holder's lease ends here (it is fenced, as by recoverLease). */
int sl_sql_lease_idle(struct tx *t, sl_ino ino, const char *what);
/* A new lease of session sid (the table made sure of first), for sl_sql_lease_insert. */
int sl_sql_lease_new(struct sl_meta *m, uint64_t sid, struct sl_meta_lease *out,
		     struct sl_err *err);
/* Inside a transaction: l becomes the lease of ino, which has none (a file made in it). */
int sl_sql_lease_insert(struct tx *t, sl_ino ino, const struct sl_meta_lease *l);
/* Inside close_session's transaction: ends the leases of session sid (its files are closed). */
int sl_sql_lease_drop_session(struct tx *t, uint64_t sid);
int sl_sql_lease_sweep(struct sl_meta *m, int64_t hard_limit_s, uint64_t *ended,
		       struct sl_err *err);
int sl_sql_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 uint64_t sid, struct sl_meta_lease *out, struct sl_err *err);
int sl_sql_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
			 struct sl_err *err);
int sl_sql_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 bool recover, bool *closed, struct sl_err *err);

/* ---- per-block CRC32C (sql_crc.c; slots of sl_meta_sql_backend) ----------------------------- */
int sl_sql_block_crc_get(struct sl_meta *m, uint64_t id, uint32_t first, uint32_t n,
			 uint32_t *crcs, uint32_t *lens, struct sl_err *err);
int sl_sql_block_crc_put(struct sl_meta *m, uint64_t id, uint32_t indx, uint32_t crc,
			 uint32_t len, struct sl_err *err);
/* Creates sluice_block_crc if this handle has not seen it yet (DDL: outside transactions). */
int sl_sql_block_crc_table(struct sl_meta *m, struct sl_err *err);
/* Inside the transaction that deletes slice id's jfs_chunk_ref row: deletes its blocks' rows. */
int sl_sql_block_crc_forget(struct tx *t, uint64_t id);

/* ---- claims on uploads of blocks a dead writer left (sql_claims.c; slots of
 * sl_meta_sql_backend) ------------------------------------------------------------------------ */
int sl_sql_block_claim(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
		       int64_t ttl_s, enum sl_meta_claim *out, struct sl_err *err);
int sl_sql_block_claim_end(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			   bool uploaded, struct sl_err *err);
/* Creates sluice_block_claim if this handle has not seen it yet (DDL: outside transactions). */
int sl_sql_block_claim_table(struct sl_meta *m, struct sl_err *err);
/* Inside the transaction that deletes slice id's jfs_chunk_ref row: deletes its blocks' claims. */
int sl_sql_block_claim_forget(struct tx *t, uint64_t id);

#endif
