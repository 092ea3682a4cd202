/*
 * sql_sessions.c - the "sql" backend's sessions and counters: a client's row in jfs_session2
 * (registered again by the heartbeat if another client cleaned it up; closed with the inodes it
 * kept open, as jfs_sustained rows, and its leases), the jfs_counter rows, and the directory
 * stats of jfs_dir_stats. The rules of sql.c's header hold here too.
 */
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

/* ---- sessions and counters ------------------------------------------------------------------- */

struct session_arg {
	const char *info;
	int64_t expire;
	uint64_t sid;
};

static int new_session_op(struct tx *t, void *arg)
{
	struct session_arg *a = arg;
	int64_t v;
	/* juicefs: the session id is the incremented nextSession counter */
	int rc = sl_sql_counter_add(t, "nextSession", 1, &v);
	if (rc)
		return rc;
	a->sid = (uint64_t)v;
	return sl_sqlq_exec(t, NULL,
			    "INSERT INTO jfs_session2 (sid, expire, info) VALUES (?, ?, ?)",
			    "iib", v, a->expire, a->info, strlen(a->info));
}

int sl_sql_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s,
		       uint64_t *sid, struct sl_err *err)
{
	struct sqlbe *b = sl_sql_be_of(m);
	struct session_arg a = {.info = info_json ? info_json : "{}", .expire = expire_s};
	int rc = sl_sqlq_run(m, true, new_session_op, &a, err);
	if (rc)
		return rc;
	char *copy = strdup(a.info);
	pthread_mutex_lock(&b->lock);
	free(b->info);
	b->info = copy;
	pthread_mutex_unlock(&b->lock);
	*sid = a.sid;
	return 0;
}

static int refresh_session_op(struct tx *t, void *arg)
{
	struct session_arg *a = arg;
	int64_t n = 0;
	int rc = sl_sqlq_exec(t, &n, "UPDATE jfs_session2 SET expire = ? WHERE sid = ?", "ii",
			      a->expire, (int64_t)a->sid);
	if (rc || n)
		return rc;
	/* Another client found us stale and cleaned the session up: register it again, as juicefs
	 * does, so that the others see this client alive. */
	return sl_sqlq_exec(t, NULL,
			    "INSERT INTO jfs_session2 (sid, expire, info) VALUES (?, ?, ?)",
			    "iib", (int64_t)a->sid, a->expire, a->info, strlen(a->info));
}

int sl_sql_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
			   struct sl_err *err)
{
	struct sqlbe *b = sl_sql_be_of(m);
	pthread_mutex_lock(&b->lock);
	char *info = strdup(b->info ? b->info : "{}");
	pthread_mutex_unlock(&b->lock);
	if (!info)
		return sl_errf(err, -ENOMEM, "out of memory");
	struct session_arg a = {.info = info, .expire = expire_s, .sid = sid};
	int rc = sl_sqlq_run(m, true, refresh_session_op, &a, err);
	free(info);
	/* The heartbeat is the background thread's, so it also drops expired operation ids. */
	struct sl_err ignored = {0};
	if (!rc && sl_sql_pool_expire_ops(b->pool, &ignored))
		sl_log(m->log, SL_LOG_DEBUG, "expiring operation ids: %s", ignored.msg);
	return rc;
}

struct close_session_arg {
	uint64_t sid;
	struct acct ac;
	bool stale_only; /* close it only if expired and without leases (*closed says) */
	bool closed;
};

/* Turns a sustained inode of session sid into a jfs_delfile row (its data is deleted later). */
int sl_sql_unsustain(struct tx *t, uint64_t sid, sl_ino ino, struct acct *ac, bool *orphan)
{
	struct sl_attr a;
	int rc = sl_sql_node_get(t, ino, true, &a);
	if (rc == -ENOENT) {
		sl_err_clear(t->err);
		rc = 0;
	} else if (!rc) {
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_delfile (inode, length, expire) "
				  "VALUES (?, ?, ?)", "iii", (int64_t)ino, (int64_t)a.length,
				  sl_real_ns() / 1000000000LL);
		if (!rc)
			rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i",
					  (int64_t)ino);
		sl_sql_acct_total(ac, -sl_sql_jfs_space(a.length), -1);
		if (orphan)
			*orphan = true;
	}
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_sustained WHERE sid = ? AND inode = ?",
				  "ii", (int64_t)sid, (int64_t)ino);
	return rc;
}

/* Whether session sid is past its expiry and holds no writer's lease: a dead client's session
 * whose leases are gone. Leases outlive their session until the hard-limit sweep, since the
 * recovery of its files needs them (lease_recover, a cache group's commit of its records). */
static int stale_without_leases(struct tx *t, uint64_t sid, bool *stale)
{
	struct sl_sql_stmt *s;
	*stale = false;
	int rc = sl_sqlq_row(t, &s, "SELECT expire FROM jfs_session2 WHERE sid = ?", "i",
			     (int64_t)sid);
	if (rc <= 0)
		return rc;
	int64_t expire = t->d->col_i64(s, 0);
	t->d->finalize(s);
	if (expire >= sl_real_ns() / 1000000000LL)
		return 0;
	if ((rc = sl_sqlq_row(t, &s, "SELECT sid FROM sluice_lease WHERE sid = ? LIMIT 1", "i",
			      (int64_t)sid)) < 0)
		return rc;
	if (rc)
		t->d->finalize(s);
	*stale = rc == 0;
	return 0;
}

static int close_session_op(struct tx *t, void *arg)
{
	struct close_session_arg *a = arg;
	sl_sql_acct_reset(&a->ac);
	a->closed = false;
	if (a->stale_only) {
		int rc = stale_without_leases(t, a->sid, &a->closed);
		if (rc || !a->closed)
			return rc;
	}
	sl_ino *inos = NULL;
	size_t n = 0, cap = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT inode FROM jfs_sustained WHERE sid = ?", "i",
			      (int64_t)a->sid);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			sl_ino *ni = realloc(inos, nc * sizeof(*ni));
			if (!ni) {
				rc = sl_sql_nomem(t);
				break;
			}
			inos = ni;
			cap = nc;
		}
		inos[n++] = sl_sql_col_u64(t, s, 0);
		rc = 0;
	}
	if (s)
		t->d->finalize(s);
	for (size_t i = 0; !rc && i < n; i++)
		rc = sl_sql_unsustain(t, a->sid, inos[i], &a->ac, NULL);
	free(inos);
	if (!rc)
		rc = sl_sql_lease_drop_session(t, a->sid);
	static const char *const drops[] = {
		"DELETE FROM jfs_flock WHERE sid = ?",
		"DELETE FROM jfs_plock WHERE sid = ?",
		"DELETE FROM jfs_session2 WHERE sid = ?",
	};
	for (size_t i = 0; !rc && i < sizeof(drops) / sizeof(drops[0]); i++)
		rc = sl_sqlq_exec(t, NULL, drops[i], "i", (int64_t)a->sid);
	return rc;
}

static int close_session(struct sl_meta *m, struct close_session_arg *a, struct sl_err *err)
{
	int rc = sl_sql_lease_ready(m, err);
	if (!rc)
		rc = sl_sqlq_run(m, true, close_session_op, a, err);
	if (!rc)
		sl_sql_acct_apply(m, &a->ac);
	sl_sql_acct_free(&a->ac);
	return rc;
}

int sl_sql_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	struct close_session_arg a = {.sid = sid};
	return close_session(m, &a, err);
}

int sl_sql_close_stale_session(struct sl_meta *m, uint64_t sid, bool *closed,
			       struct sl_err *err)
{
	struct close_session_arg a = {.sid = sid, .stale_only = true};
	int rc = close_session(m, &a, err);
	*closed = !rc && a.closed;
	return rc;
}

struct session_row {
	uint64_t sid;
	int64_t expire;
	char *info;
};
struct list_sessions_arg {
	uint64_t sid; /* 0: every session */
	struct session_row *rows;
	size_t n, cap;
};

static void session_rows_free(struct list_sessions_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rows[i].info);
	a->n = 0;
}

static int list_sessions_op(struct tx *t, void *arg)
{
	struct list_sessions_arg *a = arg;
	session_rows_free(a);
	struct sl_sql_stmt *s;
	int rc = a->sid ? sl_sqlq_open(t, &s,
				       "SELECT sid, expire, info FROM jfs_session2 WHERE sid = ?",
				       "i", (int64_t)a->sid)
			: sl_sqlq_open(t, &s,
				       "SELECT sid, expire, info FROM jfs_session2 ORDER BY sid",
				       "");
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 8;
			struct session_row *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		struct session_row *r = &a->rows[a->n];
		r->sid = sl_sql_col_u64(t, s, 0);
		r->expire = t->d->col_i64(s, 1);
		r->info = sl_sql_col_dup(t, s, 2, NULL);
		if (!r->info) {
			rc = sl_sql_nomem(t);
			break;
		}
		a->n++;
	}
	if (s)
		t->d->finalize(s);
	return rc;
}

static int sessions(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
		    struct sl_err *err)
{
	struct list_sessions_arg a = {.sid = sid};
	int rc = sl_sqlq_run(m, false, list_sessions_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++) {
		struct sl_session_info si = {a.rows[i].sid, a.rows[i].expire, a.rows[i].info};
		if (cb(arg, &si))
			break;
	}
	session_rows_free(&a);
	free(a.rows);
	return rc;
}

int sl_sql_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
			 struct sl_err *err)
{
	return sessions(m, 0, cb, arg, err);
}

int sl_sql_get_session(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
		       struct sl_err *err)
{
	return sid ? sessions(m, sid, cb, arg, err) : 0; /* ids start at 1 */
}

struct counter_arg {
	const char *name;
	int64_t delta, value;
};

static int incr_counter_op(struct tx *t, void *arg)
{
	struct counter_arg *a = arg;
	return sl_sql_counter_add(t, a->name, a->delta, &a->value);
}

int sl_sql_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			struct sl_err *err)
{
	struct counter_arg a = {.name = name, .delta = delta};
	int rc = sl_sqlq_run(m, true, incr_counter_op, &a, err);
	if (!rc && value)
		*value = a.value;
	return rc;
}

/* The space expression of one entry n joined as juicefs's calcDirStat counts it: align4K of a
 * file's length, 4 KiB for anything else. MySQL's '/' would not truncate, so no division. */
#define ENTRY_SPACE "CASE WHEN n.type = 1 AND n.length > 0 " \
	"THEN n.length + 4095 - (n.length + 4095) % 4096 ELSE 4096 END"

int sl_sql_dir_stats_count(struct tx *t, sl_ino dir, int64_t *length, int64_t *space,
			   int64_t *inodes)
{
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     "SELECT COUNT(e.inode), "
			     "SUM(CASE WHEN n.type = 1 THEN n.length ELSE 0 END), "
			     "SUM(" ENTRY_SPACE ") FROM jfs_edge e LEFT JOIN jfs_node n "
			     "ON n.inode = e.inode WHERE e.parent = ?",
			     "i", (int64_t)dir);
	*length = *space = *inodes = 0;
	if (rc <= 0)
		return rc;
	*inodes = t->d->col_i64(s, 0);
	*length = (int64_t)sl_sql_col_u64(t, s, 1);
	*space = (int64_t)sl_sql_col_u64(t, s, 2);
	t->d->finalize(s);
	return 0;
}

struct dir_stats_arg {
	const sl_ino *inos;
	const int64_t *length, *space, *inodes;
	size_t n;
};

static int dir_stats_op(struct tx *t, void *arg)
{
	struct dir_stats_arg *a = arg;
	for (size_t i = 0; i < a->n; i++) {
		int64_t changed = 0;
		int rc = sl_sqlq_exec(t, &changed,
				      "UPDATE jfs_dir_stats SET data_length = data_length + ?, "
				      "used_space = used_space + ?, used_inodes = used_inodes + ? "
				      "WHERE inode = ?",
				      "iiii", a->length[i], a->space[i], a->inodes[i],
				      (int64_t)a->inos[i]);
		if (rc)
			return rc;
		if (changed)
			continue;
		/* No row yet (juicefs's format does not write one for the root, and older clients
		 * none at all): count the directory's entries, which already include this delta,
		 * as juicefs does. */
		struct sl_attr d;
		rc = sl_sql_node_get(t, a->inos[i], false, &d);
		if (rc == -ENOENT || (!rc && d.type != SL_TYPE_DIR)) {
			sl_err_clear(t->err);
			continue;
		}
		if (rc)
			return rc;
		int64_t cnt = 0, len = 0, space = 0;
		if ((rc = sl_sql_dir_stats_count(t, a->inos[i], &len, &space, &cnt)))
			return rc;
		rc = sl_sqlq_exec(t, NULL,
				  "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
				  "used_inodes) VALUES (?, ?, ?, ?)",
				  "iiii", (int64_t)a->inos[i], len, space, cnt);
		if (rc)
			return rc;
	}
	return 0;
}

int sl_sql_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
			    const int64_t *space, const int64_t *inodes, size_t n,
			    struct sl_err *err)
{
	struct dir_stats_arg a = {inos, length, space, inodes, n};
	return n ? sl_sqlq_run(m, true, dir_stats_op, &a, err) : 0;
}
