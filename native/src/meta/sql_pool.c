/*
 * sql_pool.c - a bounded pool of connections (callers wait when all are busy; idle connections
 * are pinged before reuse once they have been idle a while; broken ones are dropped) and the
 * transaction runner with the retry policy for deadlocks, busy databases and lost connections.
 *
 * Operation ids (drivers with an op_table): every write transaction first inserts a row
 * (id, expire) into sluice_op, with an id unique to the operation and kept across its attempts.
 * A COMMIT that fails with a lost connection is in doubt: the server may have committed before
 * the connection broke. The next attempt inserts the same id again: if that transaction is
 * still being decided, the insert waits for its row lock; a duplicate key then says it
 * committed, and the runner reports success with the outputs fn produced in that attempt;
 * otherwise the operation runs again. Rows expire after retry_s plus a margin, when no retry can
 * ask for them any more (sl_sql_pool_expire_ops, from the volume's background thread).
 */
#include "sql_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "../util/retry.h"
#include "meta.h"

/* An idle connection older than this is pinged before it is handed out: servers close idle
 * connections (wait_timeout) and a lost one would cost a failed statement and a retry. */
#define PING_AFTER_S 5
/* Operation ids outlive the longest retry by this much. */
#define OP_KEEP_MARGIN_S 600

enum op_state { OPS_UNKNOWN, OPS_READY, OPS_UNAVAILABLE };

struct idle_conn {
	struct sl_sql_conn *c;
	time_t since;
};

struct sl_sql_pool {
	const struct sl_sql_driver *drv;
	struct sl_sql_url url;
	int size, attempts, retry_s;
	const struct sl_logger *log;
	atomic_int ops;          /* enum op_state of the op_table */
	uint64_t op_base;        /* random: ids of different clients do not meet */
	atomic_uint_fast64_t op_next;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	pthread_key_t once;       /* struct sl_meta_once * armed by this thread (sl_sql_pool_arm_once) */
	bool once_key_made;
	int total;                /* connections open or being opened */
	struct idle_conn *idle;   /* stack of idle connections, most recently used on top */
	int nidle;
};

int sl_sql_pool_new(const struct sl_sql_driver *drv, struct sl_sql_url *url,
		    const struct sl_sql_pool_conf *conf, struct sl_sql_pool **out,
		    struct sl_err *err)
{
	*out = NULL;
	int size = conf->size;
	if (drv->version != SL_SQL_DRIVER_VERSION)
		return sl_errf(err, -EINVAL, "SQL driver %s has version %d, expected %d",
			       drv->scheme, drv->version, SL_SQL_DRIVER_VERSION);
	struct sl_sql_pool *p = calloc(1, sizeof(*p));
	if (p)
		p->idle = calloc((size_t)(size > 0 ? size : 1), sizeof(*p->idle));
	if (!p || !p->idle) {
		if (p)
			free(p->idle);
		free(p);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	p->drv = drv;
	p->url = *url;
	memset(url, 0, sizeof(*url));
	p->size = size > 0 ? size : 1;
	p->attempts = conf->attempts > 0 ? conf->attempts : 1;
	p->retry_s = conf->retry_s > 0 ? conf->retry_s : 0;
	p->log = conf->log;
	atomic_init(&p->ops, drv->op_table ? OPS_UNKNOWN : OPS_UNAVAILABLE);
	if (getrandom(&p->op_base, sizeof(p->op_base), 0) != (ssize_t)sizeof(p->op_base))
		p->op_base = (uint64_t)sl_mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)p;
	atomic_init(&p->op_next, 0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	if (pthread_key_create(&p->once, NULL)) {
		sl_sql_pool_free(p);
		return sl_errf(err, -EAGAIN, "pthread_key_create failed");
	}
	p->once_key_made = true;
	struct sl_sql_conn *c;
	int rc = sl_sql_pool_get(p, &c, err);
	if (rc) {
		sl_sql_pool_free(p);
		return rc;
	}
	sl_sql_pool_put(p, c, false);
	*out = p;
	return 0;
}

void sl_sql_pool_free(struct sl_sql_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++)
		p->drv->disconnect(p->idle[i].c);
	free(p->idle);
	if (p->once_key_made)
		pthread_key_delete(p->once);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	sl_sql_url_free(&p->url);
	free(p);
}

const struct sl_sql_driver *sl_sql_pool_driver(const struct sl_sql_pool *p) { return p->drv; }

const char *sl_sql_pool_where(const struct sl_sql_pool *p) { return p->url.redacted; }

int sl_sql_pool_get(struct sl_sql_pool *p, struct sl_sql_conn **out, struct sl_err *err)
{
	*out = NULL;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->nidle) {
			struct idle_conn ic = p->idle[--p->nidle];
			pthread_mutex_unlock(&p->lock);
			if (sl_mono_s() - ic.since < PING_AFTER_S || p->drv->ping(ic.c, NULL) == 0) {
				*out = ic.c;
				return 0;
			}
			/* Dead while idle: replace it by a fresh one below. */
			p->drv->disconnect(ic.c);
			pthread_mutex_lock(&p->lock);
			p->total--;
			continue;
		}
		if (p->total < p->size) {
			p->total++;
			pthread_mutex_unlock(&p->lock);
			/* The driver's message names the database already. */
			int rc = p->drv->connect(&p->url, out, err);
			if (rc) {
				pthread_mutex_lock(&p->lock);
				p->total--;
				pthread_cond_signal(&p->freed);
				pthread_mutex_unlock(&p->lock);
				return sl_err_internal(err, rc);
			}
			return rc;
		}
		pthread_cond_wait(&p->freed, &p->lock);
	}
}

void sl_sql_pool_put(struct sl_sql_pool *p, struct sl_sql_conn *c, bool broken)
{
	if (!c)
		return;
	pthread_mutex_lock(&p->lock);
	if (broken) {
		p->total--;
	} else {
		p->idle[p->nidle].c = c;
		p->idle[p->nidle].since = sl_mono_s();
		p->nidle++;
		c = NULL;
	}
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
	if (c)
		p->drv->disconnect(c);
}

/* ---- operation ids ---------------------------------------------------------------------------- */

/* A fresh operation id: positive (a signed BIGINT column), never 0. */
static int64_t op_new_id(struct sl_sql_pool *p)
{
	uint64_t n = atomic_fetch_add(&p->op_next, 1);
	int64_t id = (int64_t)((p->op_base + n) & INT64_MAX);
	return id ? id : 1;
}

/* One statement with integer parameters on c, outside or inside a transaction. */
static int op_exec(struct sl_sql_pool *p, struct sl_sql_conn *c, const char *sql, int64_t a,
		   int64_t b, int nparams, struct sl_err *err)
{
	const struct sl_sql_driver *d = p->drv;
	struct sl_sql_stmt *s;
	int rc = d->prepare(c, sql, &s, err);
	if (rc)
		return rc;
	if (nparams > 0 && d->bind_i64(s, 1, a))
		rc = sl_errf(err, -EIO, "binding a parameter of \"%s\"", sql);
	if (!rc && nparams > 1 && d->bind_i64(s, 2, b))
		rc = sl_errf(err, -EIO, "binding a parameter of \"%s\"", sql);
	while (!rc && (rc = d->step(s, err)) > 0)
		;
	d->finalize(s);
	return rc;
}

/* Makes sure the op_table exists (once per pool), on c outside any transaction. A connection
 * failure is returned for the caller to retry; a database that refuses the table (no CREATE
 * privilege and no table) leaves the pool without operation ids, with a warning. */
static int op_table_ready(struct sl_sql_pool *p, struct sl_sql_conn *c, struct sl_err *err)
{
	if (atomic_load(&p->ops) != OPS_UNKNOWN)
		return 0;
	int rc = p->drv->exec(c, p->drv->op_table, err);
	if (rc && sl_retry_class_of(rc) == SL_RETRY_CONNECTION)
		return rc;
	if (rc) { /* perhaps only CREATE is denied and the table is there */
		struct sl_err why = *err;
		sl_err_clear(err);
		rc = op_exec(p, c, "SELECT id FROM sluice_op WHERE id = 0", 0, 0, 0, err);
		if (rc && sl_retry_class_of(rc) == SL_RETRY_CONNECTION)
			return rc;
		if (rc) {
			sl_log(p->log, SL_LOG_WARN, "%s: cannot create Sluice's table of operation ids "
			       "(%s); a transaction whose COMMIT ends in doubt (a connection lost "
			       "at that moment) is retried without knowing whether it happened",
			       p->url.redacted, why.msg);
			sl_err_clear(err);
			atomic_store(&p->ops, OPS_UNAVAILABLE);
			return 0;
		}
	}
	atomic_store(&p->ops, OPS_READY);
	return 0;
}

int sl_sql_pool_expire_ops(struct sl_sql_pool *p, struct sl_err *err)
{
	if (atomic_load(&p->ops) != OPS_READY)
		return 0;
	struct sl_sql_conn *c;
	int rc = sl_sql_pool_get(p, &c, err);
	if (rc)
		return rc;
	rc = op_exec(p, c, "DELETE FROM sluice_op WHERE expire < ?", sl_real_s(), 0, 1, err);
	sl_sql_pool_put(p, c, sl_retry_class_of(rc) == SL_RETRY_CONNECTION);
	return rc;
}

/* ---- the transaction runner ---------------------------------------------------------------- */

/* What one attempt learned beyond its result. */
struct attempt {
	int64_t op;        /* the operation id (0: none) */
	struct sl_meta_once *once; /* op is this request's token (sl_sql_txn_once) */
	bool in_doubt;     /* a COMMIT of an earlier attempt ended in doubt */
	bool happened;     /* ... and this attempt found that it was committed */
	bool broken;       /* the connection is lost or in an unknown state */
};

static int write_attempt(struct sl_sql_pool *p, struct sl_sql_conn *c, sl_sql_txn_fn fn,
			 void *arg, struct attempt *at, struct sl_err *err)
{
	const struct sl_sql_driver *d = p->drv;
	int rc = 0;
	if (!at->op && p->drv->op_table) {
		if ((rc = op_table_ready(p, c, err)))
			return rc;
		if (atomic_load(&p->ops) == OPS_READY)
			at->op = at->once ? (int64_t)(at->once->token & INT64_MAX) : op_new_id(p);
	}
	int64_t expire = sl_real_s() + p->retry_s + OP_KEEP_MARGIN_S;
	/* The id's INSERT may go with fn's first query, and a taken id shows there. After a COMMIT
	 * in doubt it is asked at once: if that COMMIT took effect, fn must not run again, since it
	 * would reset the outputs that attempt produced. */
	bool taken = false;
	if (at->op && d->begin_op) {
		rc = d->begin_op(c, at->op, expire, at->in_doubt ? NULL : &taken, err);
	} else {
		rc = d->begin(c, true, err);
		if (!rc && at->op)
			rc = op_exec(p, c, "INSERT INTO sluice_op (id, expire) VALUES (?, ?)", at->op,
				     expire, 2, err);
	}
	if (rc == -EEXIST && at->op) /* begun at once: only the id's INSERT gives that */
		taken = true;
	else if (rc) {
		/* Busy is normal; anything else leaves the connection in doubt. */
		at->broken = !sl_retryable(rc);
		d->rollback(c);
		return rc;
	}
	if (!taken) {
		rc = fn(c, arg, err);
		if (!rc && !taken) {
			rc = d->commit(c, err);
			/* A COMMIT that failed for want of a connection may have happened all the
			 * same. */
			if (rc && sl_retry_class_of(rc) == SL_RETRY_CONNECTION)
				at->in_doubt = true;
		}
	}
	if (taken) {
		d->rollback(c);
		sl_err_clear(err);
		if (at->in_doubt) { /* the earlier COMMIT took effect */
			at->happened = true;
			return 0;
		}
		if (at->once) { /* an earlier sending of the request committed it */
			at->once->done_before = true;
			return sl_errf(err, -EALREADY, "this change was made by an earlier sending "
				       "of the same request");
		}
		/* Another client's id (a 1 in 2^64 chance): take a new one, at once. */
		at->op = op_new_id(p);
		return sl_errf(err, -EDEADLK, "operation id taken; retrying with another");
	}
	if (rc)
		d->rollback(c);
	return rc;
}

static int txn(struct sl_sql_pool *p, bool write, struct sl_meta_once *once, sl_sql_txn_fn fn,
	       void *arg, struct sl_err *err)
{
	const struct sl_retry_policy contention = {.max_attempts = p->attempts, .base_ms = 2,
						   .max_ms = 1000};
	const struct sl_retry_policy connection = {.max_attempts = 1, .base_ms = 20,
						   .max_ms = 1000};
	const int64_t start = sl_mono_ms(), budget = (int64_t)p->retry_s * 1000;
	struct attempt at = {.once = once};
	int rc, attempts = 0, ncontention = 0, nconnection = 0;
	for (;;) {
		struct sl_sql_conn *c = NULL;
		attempts++;
		at.broken = false;
		sl_err_clear(err);
		rc = sl_sql_pool_get(p, &c, err);
		if (!rc && !write)
			/* Reads run in autocommit mode: each statement sees committed data, and the
			 * BEGIN/COMMIT round trips that would double the cost of a lookup are saved.
			 * No read operation needs a snapshot across its statements. */
			rc = fn(c, arg, err);
		else if (!rc)
			rc = write_attempt(p, c, fn, arg, &at, err);
		if (c)
			sl_sql_pool_put(p, c, at.broken || sl_retry_class_of(rc) == SL_RETRY_CONNECTION);
		if (!rc || at.happened)
			return 0;
		enum sl_retry_class cls = sl_retry_class_of(rc);
		if (cls == SL_RETRY_CONTENTION) {
			if (++ncontention >= contention.max_attempts) {
				if (contention.max_attempts > 1)
					sl_err_wrap(err, "gave up after %d attempts", attempts);
				break;
			}
			sl_backoff(&contention, ncontention);
		} else if (cls == SL_RETRY_CONNECTION) {
			int64_t left = budget - (sl_mono_ms() - start);
			if (left <= 0) {
				if (budget > 0)
					sl_err_wrap(err, "gave up after %d s (%d attempts%s)",
						    (int)((sl_mono_ms() - start + 500) / 1000), attempts,
						    at.in_doubt ? "; whether the last COMMIT took "
						    "effect is unknown" : "");
				break;
			}
			uint64_t ms = sl_backoff_ms(&connection, ++nconnection);
			sl_sleep_ms(ms < (uint64_t)left ? ms : (uint64_t)left);
		} else {
			break;
		}
	}
	return rc;
}

int sl_sql_txn(struct sl_sql_pool *p, bool write, sl_sql_txn_fn fn, void *arg,
	       struct sl_err *err)
{
	return txn(p, write, NULL, fn, arg, err);
}

void sl_sql_pool_arm_once(struct sl_sql_pool *p, struct sl_meta_once *once)
{
	pthread_setspecific(p->once, once);
}

uint64_t sl_sql_pool_armed_token(struct sl_sql_pool *p)
{
	struct sl_meta_once *once = pthread_getspecific(p->once);
	return once ? once->token : 0;
}

int sl_sql_txn_once(struct sl_sql_pool *p, sl_sql_txn_fn fn, void *arg, struct sl_err *err)
{
	struct sl_meta_once *once = pthread_getspecific(p->once);
	if (once) /* one transaction a request: the request's own change */
		pthread_setspecific(p->once, NULL);
	return txn(p, true, once && once->token ? once : NULL, fn, arg, err);
}
