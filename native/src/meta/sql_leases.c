/*
 * sql_leases.c - writer leases (HDFS semantics) in a table of Sluice's own, created on first use
 * beside JuiceFS's tables (juicefs ignores it):
 *   sluice_lease (inode, sid, gen, since)   one row per file with an output stream open
 * A row is the lease of session `sid`'s stream number `gen` (unique within the session; `since`
 * is when it was taken, unix seconds). As in HDFS, a file with a row is open for writing (not
 * closed) until the row goes: at the stream's close, by recoverLease, when its session closes, or
 * by the sweep past the hard limit. Its holder is live while the session's jfs_session2 row exists
 * and has not expired (HDFS's soft limit): a row of a dead holder is free for the next writer, a
 * truncate or a concat to take over, which fences the holder were it only paused. The sweep ends
 * leases whose session expired more than the hard limit ago (or is gone, and the lease older than
 * the hard limit: juicefs removes expired sessions without a trace of when), and rows of inodes
 * that no longer exist.
 *
 * Invariant: a stream may change its file only while its (sid, gen) is the inode's row, checked
 * by sl_sql_lease_check inside the data slot's transaction with the row locked, so a recovery
 * (which deletes the row) either commits before that transaction, which then fails, or after it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sql_internal.h"


static int ensure_table(struct sl_meta *m, struct sl_err *err)
{
	struct sqlbe *b = m->priv;
	return sl_sqlq_own_table(m, &b->lease_table, b->d->lease_tables, "lease", err);
}

/* A generation unique within every session of this handle: increasing from the clock at the
 * first lease, so a restarted gateway does not repeat the numbers of its predecessor. */
static uint64_t next_gen(struct sl_meta *m)
{
	struct sqlbe *b = m->priv;
	uint64_t now = (uint64_t)sl_real_ns();
	pthread_mutex_lock(&b->lock);
	b->lease_gen = now > b->lease_gen ? now : b->lease_gen + 1;
	uint64_t g = b->lease_gen;
	pthread_mutex_unlock(&b->lock);
	return g;
}

/* The inode's lease row: 1 with *sid and *gen set, 0 if there is none. */
static int lease_row(struct tx *t, sl_ino ino, bool lock, uint64_t *sid, uint64_t *gen)
{
	char buf[128];
	const char *sql = "SELECT sid, gen FROM sluice_lease WHERE inode = ?";
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, lock ? FU(t, buf, sql) : sql, "i", (int64_t)ino);
	if (rc <= 0)
		return rc;
	*sid = (uint64_t)t->d->col_i64(s, 0);
	*gen = (uint64_t)t->d->col_i64(s, 1);
	t->d->finalize(s);
	return 1;
}

/* Whether session sid exists and has not expired. */
static int session_live(struct tx *t, uint64_t sid, bool *live)
{
	struct sl_sql_stmt *s;
	*live = false;
	int rc = sl_sqlq_row(t, &s, "SELECT expire FROM jfs_session2 WHERE sid = ?", "i",
			     (int64_t)sid);
	if (rc <= 0)
		return rc;
	*live = t->d->col_i64(s, 0) >= sl_real_s();
	t->d->finalize(s);
	return 0;
}

/* The error of a stream whose lease is gone. */
static int lease_lost(struct sl_err *err, sl_ino ino)
{
	return sl_errf(err, -SL_ELEASE_LOST, "the lease on inode %" PRIu64 " was recovered by another "
		       "client (lease recovery); this output stream can no longer write to the file",
		       ino);
}

/* Whether lease is the inode's row (held says whether it has one): 0, or the stream's error. */
static int lease_matches(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease, bool held,
			 uint64_t sid, uint64_t gen)
{
	if (held && sid == lease->sid && gen == lease->gen)
		return 0;
	return lease_lost(t->err, ino);
}

int sl_sql_lease_check(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease)
{
	if (!lease)
		return 0;
	uint64_t sid = 0, gen = 0;
	int rc = lease_row(t, ino, true, &sid, &gen);
	return rc < 0 ? rc : lease_matches(t, ino, lease, rc, sid, gen);
}

int sl_sql_node_lease_get(struct tx *t, sl_ino ino, struct sl_attr *a, struct sl_sql_lease_row *l)
{
	char buf[512];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT " NODE_COLS_N ", l.sid, l.gen FROM jfs_node n "
					       "LEFT JOIN sluice_lease l ON l.inode = n.inode "
					       "WHERE n.inode = ?"),
			     "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist", ino);
	sl_sql_node_row(t, s, 0, NULL, a);
	l->held = !t->d->col_null(s, NODE_NCOLS);
	l->sid = l->held ? (uint64_t)t->d->col_i64(s, NODE_NCOLS) : 0;
	l->gen = l->held ? (uint64_t)t->d->col_i64(s, NODE_NCOLS + 1) : 0;
	t->d->finalize(s);
	return 0;
}

int sl_sql_lease_check_row(struct tx *t, sl_ino ino, const struct sl_meta_lease *lease,
			   const struct sl_sql_lease_row *l)
{
	return lease ? lease_matches(t, ino, lease, l->held, l->sid, l->gen) : 0;
}

struct acquire_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	struct sl_meta_lease l;
};

static int acquire_op(struct tx *t, void *arg)
{
	struct acquire_arg *a = arg;
	struct sl_attr attr;
	struct sl_sql_lease_row l;
	int rc = sl_sql_node_lease_get(t, a->ino, &attr, &l);
	if (!rc)
		rc = sl_sqlq_file_check(t, a->u, a->ino, SL_MAY_WRITE, &attr);
	if (rc)
		return rc;
	if (l.held) {
		uint64_t sid = l.sid;
		bool live;
		if ((rc = session_live(t, sid, &live)))
			return rc;
		if (live)
			return sl_errf(t->err, -SL_ELEASE_HELD, "inode %" PRIu64 " is being written by another "
				       "output stream (its lease is held by session %" PRIu64 "); "
				       "recover the lease first, or turn leases off for several "
				       "writers", a->ino, sid);
		rc = sl_sqlq_write(t, "UPDATE sluice_lease SET sid = ?, gen = ?, since = ? "
				   "WHERE inode = ?", "iiii", (int64_t)a->l.sid, (int64_t)a->l.gen,
				   sl_real_s(), (int64_t)a->ino);
	} else {
		rc = sl_sql_lease_insert(t, a->ino, &a->l);
	}
	return rc;
}

int sl_sql_lease_new(struct sl_meta *m, uint64_t sid, struct sl_meta_lease *out,
		     struct sl_err *err)
{
	if (!sid)
		return sl_errf(err, -EINVAL, "a lease needs a session");
	int rc = ensure_table(m, err);
	if (rc)
		return rc;
	/* A gateway request resent with its token to another gateway, which finds it done, is
	 * answered with the generation the first sending stored: the token is that generation
	 * (random, so unique within the session as next_gen's are). */
	uint64_t token = sl_sqlq_armed_token(m);
	*out = (struct sl_meta_lease){.sid = sid, .gen = token ? token : next_gen(m)};
	return 0;
}

int sl_sql_lease_insert(struct tx *t, sl_ino ino, const struct sl_meta_lease *l)
{
	return sl_sqlq_write(t, "INSERT INTO sluice_lease (inode, sid, gen, since) VALUES (?, ?, ?, "
			     "?)", "iiii", (int64_t)ino, (int64_t)l->sid, (int64_t)l->gen,
			     sl_real_s());
}

int sl_sql_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 uint64_t sid, struct sl_meta_lease *out, struct sl_err *err)
{
	struct acquire_arg a = {.u = u, .ino = ino};
	int rc = sl_sql_lease_new(m, sid, &a.l, err);
	if (rc)
		return rc;
	rc = sl_sqlq_run_once(m, acquire_op, &a, err);
	if (!rc)
		*out = a.l;
	return rc;
}

struct release_arg {
	sl_ino ino;
	const struct sl_meta_lease *l;
	int64_t deleted; /* -1: not known */
};

/* The DELETE goes with the COMMIT, in one round trip: a lease that was gone already (no row of
 * this stream's generation to delete) leaves the transaction without an effect but its
 * operation id, and is the stream's error after it. */
static int release_op(struct tx *t, void *arg)
{
	struct release_arg *a = arg;
	a->deleted = -1;
	return sl_sqlq_write_counted(t, &a->deleted, "DELETE FROM sluice_lease WHERE inode = ? AND "
				     "sid = ? AND gen = ?", "iii", (int64_t)a->ino,
				     (int64_t)a->l->sid, (int64_t)a->l->gen);
}

int sl_sql_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
			 struct sl_err *err)
{
	int rc = ensure_table(m, err);
	struct release_arg a = {.ino = ino, .l = lease};
	if (!rc)
		rc = sl_sqlq_run_once(m, release_op, &a, err);
	/* -1, not known (an in-doubt commit that took effect, its answers lost): the row was
	 * deleted then, or gone before; either way this stream holds no lease now */
	if (!rc && a.deleted == 0)
		rc = lease_lost(err, ino);
	return rc;
}

struct recover_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	bool recover, closed;
};

static int recover_op(struct tx *t, void *arg)
{
	struct recover_arg *a = arg;
	a->closed = false;
	struct sl_attr attr;
	int rc = sl_sqlq_file_access(t, a->recover ? a->u : NULL, a->ino, SL_MAY_WRITE, &attr);
	uint64_t sid = 0, gen = 0;
	if (!rc)
		rc = lease_row(t, a->ino, a->recover, &sid, &gen);
	if (rc < 0)
		return rc;
	if (rc && a->recover) {
		rc = sl_sqlq_exec(t, NULL, "DELETE FROM sluice_lease WHERE inode = ?", "i",
				  (int64_t)a->ino);
		a->closed = !rc;
		return rc;
	}
	a->closed = rc == 0; /* a dead holder's file stays open until recovered, as in HDFS */
	return 0;
}

int sl_sql_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 bool recover, bool *closed, struct sl_err *err)
{
	*closed = false;
	int rc = ensure_table(m, err);
	if (rc)
		return rc;
	struct recover_arg a = {.u = u, .ino = ino, .recover = recover};
	rc = recover ? sl_sqlq_run_once(m, recover_op, &a, err)
		     : sl_sqlq_run(m, false, recover_op, &a, err);
	if (!rc)
		*closed = a.closed;
	return rc;
}

int sl_sql_lease_ready(struct sl_meta *m, struct sl_err *err)
{
	return ensure_table(m, err);
}

int sl_sql_lease_idle(struct tx *t, sl_ino ino, const char *what)
{
	uint64_t sid = 0, gen = 0;
	int rc = lease_row(t, ino, true, &sid, &gen);
	if (rc <= 0)
		return rc;
	bool live;
	if ((rc = session_live(t, sid, &live)))
		return rc;
	if (live)
		return sl_errf(t->err, -SL_ELEASE_HELD, "cannot %s inode %" PRIu64 ": it is open for "
			       "writing (its lease is held by session %" PRIu64 "); close it or "
			       "recover the lease first", what, ino, sid);
	return sl_sqlq_exec(t, NULL, "DELETE FROM sluice_lease WHERE inode = ?", "i", (int64_t)ino);
}

int sl_sql_lease_drop_session(struct tx *t, uint64_t sid)
{
	return sl_sqlq_exec(t, NULL, "DELETE FROM sluice_lease WHERE sid = ?", "i", (int64_t)sid);
}

struct sweep_arg {
	int64_t before;
	int64_t ended;
};

static int sweep_op(struct tx *t, void *arg)
{
	struct sweep_arg *a = arg;
	return sl_sqlq_exec(t, &a->ended,
			    "DELETE FROM sluice_lease WHERE NOT EXISTS (SELECT 1 FROM jfs_node n "
			    "WHERE n.inode = sluice_lease.inode) OR EXISTS (SELECT 1 FROM "
			    "jfs_session2 s WHERE s.sid = sluice_lease.sid AND s.expire < ?) OR "
			    "(sluice_lease.since < ? AND NOT EXISTS (SELECT 1 FROM jfs_session2 s "
			    "WHERE s.sid = sluice_lease.sid))", "ii", a->before, a->before);
}

int sl_sql_lease_sweep(struct sl_meta *m, int64_t hard_limit_s, uint64_t *ended,
		       struct sl_err *err)
{
	*ended = 0;
	int rc = ensure_table(m, err);
	struct sweep_arg a = {.before = sl_real_s() - hard_limit_s};
	if (!rc)
		rc = sl_sqlq_run(m, true, sweep_op, &a, err);
	if (!rc)
		*ended = (uint64_t)a.ended;
	return rc;
}
