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
	int size, attempts;
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

int sl_sql_pool_new(const struct sl_sql_driver *drv, struct sl_sql_url *url, int size,
		    int attempts, struct sl_sql_pool **out, struct sl_err *err)
{
	*out = NULL;
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
	p->attempts = attempts > 0 ? attempts : 1;
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
			int rc = p->drv->connect(&p->url, out, err);
			if (rc) {
				pthread_mutex_lock(&p->lock);
				p->total--;
				pthread_cond_signal(&p->freed);
				pthread_mutex_unlock(&p->lock);
				sl_err_wrap(err, "connecting to %s", p->url.redacted);
				return sl_err_internal(err, rc);
			}
			return 0;
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

int sl_sql_txn(struct sl_sql_pool *p, bool write, sl_sql_txn_fn fn, void *arg,
	       struct sl_err *err)
{
	const struct sl_retry_policy pol = {.max_attempts = p->attempts, .base_ms = 2,
					    .max_ms = 1000};
	int rc = 0;
	for (int attempt = 1;; attempt++) {
		struct sl_sql_conn *c = NULL;
		bool broken = false;
		sl_err_clear(err);
		rc = sl_sql_pool_get(p, &c, err);
		if (!rc && !write) {
			/* Reads run in autocommit mode: each statement sees committed data, and the
			 * BEGIN/COMMIT round trips that would double the cost of a lookup are saved.
			 * No read operation needs a snapshot across its statements. */
			rc = fn(c, arg, err);
		} else if (!rc) {
			rc = p->drv->begin(c, write, err);
			if (rc) {
				/* Busy is normal; anything else leaves the connection in doubt. */
				broken = !sl_retryable(rc);
			} else {
				rc = fn(c, arg, err);
				if (!rc)
					rc = p->drv->commit(c, err);
				if (rc)
					p->drv->rollback(c);
			}
		}
		if (c) {
			if (rc == -ENOTCONN)
				broken = true;
			sl_sql_pool_put(p, c, broken);
		}
		if (!rc || !sl_retryable(rc) || attempt >= pol.max_attempts)
			break;
		sl_backoff(&pol, attempt);
	}
	if (rc && sl_retryable(rc) && pol.max_attempts > 1)
		sl_err_wrap(err, "gave up after %d attempts", pol.max_attempts);
	return rc;
}
