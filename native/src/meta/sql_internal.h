/*
 * sql_internal.h - what sql.c shares with the other files of the "sql" backend (sql_tokens.c): its
 * private state, and the transaction runner and statement helpers, so those files follow the same
 * rules (sql.c's header: portable SQL, retry-safe transaction functions). Private to src/meta.
 */
#ifndef SL_SQL_INTERNAL_H
#define SL_SQL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "meta.h"
#include "sql_driver.h"
#include "sql_pool.h"

struct sqlbe {
	const struct sl_sql_driver *d;
	struct sl_sql_pool *pool;
	pthread_mutex_t lock; /* guards info and the lease fields */
	char *info;           /* our session's info, to register it again if it was cleaned */
	bool lease_table;     /* sluice_lease exists (sql_leases.c creates it on first use) */
	uint64_t lease_gen;   /* the last lease generation handed out by this handle */
	bool crc_table;       /* sluice_block_crc exists (sql_crc.c creates it on first use) */
};

/* One attempt of a transaction: the connection it runs on. */
struct tx {
	struct sl_meta *m;
	const struct sl_sql_driver *d;
	struct sl_sql_conn *c;
	struct sl_err *err;
};

typedef int (*op_fn)(struct tx *t, void *arg);

/* One transaction of fn (write: a write transaction; otherwise autocommit reads), retried by
 * the runner as needed. */
int sl_sqlq_run(struct sl_meta *m, bool write, op_fn fn, void *arg, struct sl_err *err);
/* A table of Sluice's own, created on first use (ddl: [0] for SQLite, [1] for MySQL) unless *ready
 * says this handle made sure of it already; what names it in an error message. DDL runs outside
 * a transaction (MySQL would commit one). */
int sl_sqlq_own_table(struct sl_meta *m, bool *ready, const char *const ddl[2], const char *what,
		      struct sl_err *err);
/* A statement without results, arguments described by fmt: 'i' int64_t, 'b' const void * +
 * size_t (blob), 't' const char * (text); *changes (may be NULL) gets the rows it changed. */
int sl_sqlq_exec(struct tx *t, int64_t *changes, const char *sql, const char *fmt, ...);
/* A query for its first row: 1 with *s on the row (caller finalizes with t->d->finalize), 0 if
 * there is none, or a negative errno. */
int sl_sqlq_row(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...);

/* ---- the delegation token store (sql_tokens.c; sl_meta_sql_backend.token_store) ------------- */
extern const struct sl_meta_token_store sl_sql_token_store;

/* Loads file ino (-ENOENT, -EISDIR, -EINVAL for other types) and checks u's data permission
 * mask as the data slots do (the owner always passes; u NULL: no check). */
int sl_sqlq_file_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_attr *attr);

/* ---- writer leases (sql_leases.c; slots of sl_meta_sql_backend) ------------------------------ */
/* Inside a data slot's transaction: 0 if lease (NULL: none to check) is still ino's, else
 * -SL_ELEASE_LOST saying the lease was recovered. Locks the lease row until the commit. */
int sl_sql_lease_check(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease);
/* Makes sure sluice_lease exists, before a transaction that calls the two below. */
int sl_sql_lease_ready(struct sl_meta *m, struct sl_err *err);
/* Inside a transaction that changes file ino outside any stream (truncate, concat; `what` names
 * it in the error): -SL_ELEASE_HELD if a live writer holds ino's lease, as HDFS refuses them on a
 * file under construction; a dead holder's lease ends here (it is fenced, as by recoverLease). */
int sl_sql_lease_idle(struct tx *t, sl_ino ino, const char *what);
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

#endif
