/*
 * sql_pool.c - a bounded pool of connections (callers wait when all are busy; idle connections
 * are pinged before reuse once they have been idle a while; broken ones are dropped) and the
 * transaction runner with the retry policy for deadlocks, busy databases and lost connections.
 */
#include "sql_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/log.h"
#include "../util/retry.h"

/* An idle connection older than this is pinged before it is handed out: servers close idle
 * connections (wait_timeout) and a lost one would cost a failed statement and a retry. */
#define PING_AFTER_S 5

struct idle_conn {
	struct sl_sql_conn *c;
	time_t since;
};

struct sl_sql_pool {
	const struct sl_sql_driver *drv;
	struct sl_sql_url url;
	int size, attempts, retry_s;
	const struct sl_logger *log;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int total;                /* connections open or being opened */
	struct idle_conn *idle;   /* stack of idle connections, most recently used on top */
	int nidle;
};

static int64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
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
			if (mono_s() - ic.since < PING_AFTER_S || p->drv->ping(ic.c, NULL) == 0) {
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
		p->idle[p->nidle].since = mono_s();
		p->nidle++;
		c = NULL;
	}
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
	if (c)
		p->drv->disconnect(c);
}

/* ---- the transaction runner ---------------------------------------------------------------- */

/* What one attempt learned beyond its result. */
struct attempt {
	bool in_doubt;     /* a COMMIT ended in doubt */
	bool broken;       /* the connection is lost or in an unknown state */
};

static int write_attempt(struct sl_sql_pool *p, struct sl_sql_conn *c, sl_sql_txn_fn fn,
			 void *arg, struct attempt *at, struct sl_err *err)
{
	const struct sl_sql_driver *d = p->drv;
	int rc = d->begin(c, true, err);
	if (rc) {
		/* Busy is normal; anything else leaves the connection in doubt. */
		at->broken = !sl_retryable(rc);
		d->rollback(c);
		return rc;
	}
	rc = fn(c, arg, err);
	if (!rc) {
		rc = d->commit(c, err);
		/* A COMMIT that failed for want of a connection may have happened all the same. */
		if (rc && sl_retry_class_of(rc) == SL_RETRY_CONNECTION)
			at->in_doubt = true;
	}
	if (rc)
		d->rollback(c);
	return rc;
}

int sl_sql_txn(struct sl_sql_pool *p, bool write, sl_sql_txn_fn fn, void *arg,
	       struct sl_err *err)
{
	const struct sl_retry_policy contention = {.max_attempts = p->attempts, .base_ms = 2,
						   .max_ms = 1000};
	const struct sl_retry_policy connection = {.max_attempts = 1, .base_ms = 20,
						   .max_ms = 1000};
	const int64_t start = mono_ms(), budget = (int64_t)p->retry_s * 1000;
	struct attempt at = {0};
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
		if (!rc)
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
			int64_t left = budget - (mono_ms() - start);
			if (left <= 0) {
				if (budget > 0)
					sl_err_wrap(err, "gave up after %d s (%d attempts%s)",
						    (int)((mono_ms() - start + 500) / 1000), attempts,
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
