/*
 * sql_pool.h - a bounded pool of database connections of one driver, and the transaction runner
 * that all SQL metadata operations go through. Private to src/meta.
 *
 * The runner is the only place that knows about retries: a transaction function may be called
 * several times, so it must reset its outputs at its start and keep every side effect outside
 * the database (usage accounting, callbacks) until sl_sql_txn has returned 0. When a COMMIT ends
 * in doubt and the retry finds that it happened, the function is not called again: the outputs
 * of the attempt that committed stand.
 */
#ifndef SL_SQL_POOL_H
#define SL_SQL_POOL_H

#include <stdbool.h>

#include "sql_driver.h"

struct sl_sql_pool;
struct sl_meta_once;

struct sl_logger;

struct sl_sql_pool_conf {
	int size;     /* connections at most (>= 1) */
	int attempts; /* attempts of a transaction that meets contention: deadlock, busy (>= 1) */
	int retry_s;  /* seconds a transaction goes on retrying while the database cannot be reached
			 (lost connections, refused connections): a restart stalls operations instead
			 of failing them (>= 0) */
	const struct sl_logger *log; /* may be NULL */
};

/* Takes ownership of *url (its strings; *url is zeroed). Connects once to fail early on a wrong
 * address or password. */
int sl_sql_pool_new(const struct sl_sql_driver *drv, struct sl_sql_url *url,
		    const struct sl_sql_pool_conf *conf, struct sl_sql_pool **out,
		    struct sl_err *err);
void sl_sql_pool_free(struct sl_sql_pool *p);
const struct sl_sql_driver *sl_sql_pool_driver(const struct sl_sql_pool *p);
/* The META-URL with the password masked, for messages. */
const char *sl_sql_pool_where(const struct sl_sql_pool *p);

/* Borrows a connection, waiting while all are busy. Give it back with sl_sql_pool_put; broken
 * connections (lost, or in an unknown state) are closed instead of reused. */
int sl_sql_pool_get(struct sl_sql_pool *p, struct sl_sql_conn **c, struct sl_err *err);
void sl_sql_pool_put(struct sl_sql_pool *p, struct sl_sql_conn *c, bool broken);

typedef int (*sl_sql_txn_fn)(struct sl_sql_conn *c, void *arg, struct sl_err *err);

/* Runs fn as one transaction: a write transaction (write: takes the write lock up front where the
 * engine needs it) is begun and committed around fn; reads run in autocommit mode, each statement
 * seeing committed data. On a transient error rolls back and runs fn again after a jittered
 * backoff, on a fresh connection after a lost one: contention (deadlock, busy) for `attempts`
 * attempts, an unreachable database for `retry_s` seconds. fn returning any other error rolls
 * back and returns it.
 * Write transactions of drivers with an op_table record a unique operation id in it: a retry
 * after a COMMIT that ended in doubt begins by recording the same id again, and a duplicate key
 * means the COMMIT happened (the row is locked until that transaction ended either way), so the
 * runner returns 0 without running fn again: nothing is applied twice, and nothing that happened
 * is reported as failed. */
int sl_sql_txn(struct sl_sql_pool *p, bool write, sl_sql_txn_fn fn, void *arg,
	       struct sl_err *err);

/* Idempotency tokens (struct sl_meta_once, meta.h): the gateway arms the token of the request a
 * thread serves (NULL disarms); the thread's next sl_sql_txn_once records the token as its
 * operation id instead of a fresh one, and disarms. Finding the token recorded means an earlier
 * sending of the request committed its change: fn is not run, done_before is set and the result
 * is -EALREADY. Side transactions of the request (id batches, usage flushes) use sl_sql_txn and
 * leave the token alone. Without an op_table (SQLite) nothing is recorded: a resent change runs
 * again. */
void sl_sql_pool_arm_once(struct sl_sql_pool *p, struct sl_meta_once *once);
/* The token armed for this thread and not yet used by a sl_sql_txn_once (0: none). */
uint64_t sl_sql_pool_armed_token(struct sl_sql_pool *p);
int sl_sql_txn_once(struct sl_sql_pool *p, sl_sql_txn_fn fn, void *arg, struct sl_err *err);
/* Deletes operation ids too old for any retry to ask for (drivers with an op_table; 0 at once
 * otherwise). For a background thread: one statement in autocommit mode. */
int sl_sql_pool_expire_ops(struct sl_sql_pool *p, struct sl_err *err);

#endif
