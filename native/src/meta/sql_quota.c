/*
 * sql_quota.c - directory quotas of the sql backend, in JuiceFS's table jfs_dir_quota and by its
 * rules, so that a volume used by juicefs and by Sluice enforces the same quotas for both.
 *
 * A quota limits the subtree under its directory (the directory itself not counted) in space
 * (align4K of each file, 4 KiB per directory) and in inodes; a directory under several quotas
 * counts toward each. The transactions that add inodes or grow files check the quotas over
 * their directory (sl_sql_quota_check) and fail with -EDQUOT before changing anything; after
 * the commit their deltas go to this handle's copy of the quotas (sl_sql_quota_account), which
 * quota_flush adds to the rows with the usage counters and reads again every few seconds. So a
 * quota set by another client takes effect here within seconds, and clients together overshoot
 * a limit by at most what they add between two flushes, as with juicefs.
 *
 * The quotas over a directory are found by walking up its parents: a table of directory ->
 * parent filled by one recursive query per miss, emptied whenever the quotas are read again so
 * that a directory another client moved is found at its new place within seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"
#include "sql_internal.h"
#include "../util/clock.h"

#define QUOTA_RELOAD_MS 3000
#define MAX_DEPTH 4096          /* a deeper chain of parents is a loop */
#define MAX_PARENTS (1u << 16)  /* the parent table is emptied when it holds more */

struct quota_entry {
	struct sl_meta_quota q;
	int64_t new_space, new_inodes; /* committed here, not yet flushed */
};

struct dir_parent {
	sl_ino dir, parent; /* dir 0: a free slot */
};

void sl_sql_quotas_init(struct sql_quotas *qs)
{
	memset(qs, 0, sizeof(*qs));
	pthread_mutex_init(&qs->lock, NULL);
}

void sl_sql_quotas_free(struct sql_quotas *qs)
{
	free(qs->q);
	free(qs->parents);
	pthread_mutex_destroy(&qs->lock);
}

/* ---- the tables, under qs->lock ------------------------------------------------------------ */

static struct quota_entry *quota_find(struct sql_quotas *qs, sl_ino ino)
{
	size_t lo = 0, hi = qs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (qs->q[mid].q.ino == ino)
			return &qs->q[mid];
		if (qs->q[mid].q.ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static size_t slot_of(sl_ino dir, size_t cap)
{
	return (size_t)((dir * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static sl_ino parent_get(const struct sql_quotas *qs, sl_ino dir)
{
	if (!qs->parents_cap)
		return 0;
	for (size_t i = slot_of(dir, qs->parents_cap);; i = (i + 1) & (qs->parents_cap - 1)) {
		if (qs->parents[i].dir == dir)
			return qs->parents[i].parent;
		if (!qs->parents[i].dir)
			return 0;
	}
}

static void parents_clear(struct sql_quotas *qs)
{
	if (qs->parents)
		memset(qs->parents, 0, qs->parents_cap * sizeof(*qs->parents));
	qs->parents_n = 0;
}

/* Remembers dir's parent; without memory it is simply not remembered (looked up again). */
static void parent_put(struct sql_quotas *qs, sl_ino dir, sl_ino parent)
{
	if (!dir || !parent)
		return;
	if (qs->parents_n >= MAX_PARENTS)
		parents_clear(qs);
	if ((qs->parents_n + 1) * 4 > qs->parents_cap * 3) {
		size_t cap = qs->parents_cap ? qs->parents_cap * 2 : 256;
		struct dir_parent *np = calloc(cap, sizeof(*np));
		if (!np)
			return;
		for (size_t i = 0; i < qs->parents_cap; i++) {
			if (!qs->parents[i].dir)
				continue;
			size_t j = slot_of(qs->parents[i].dir, cap);
			while (np[j].dir)
				j = (j + 1) & (cap - 1);
			np[j] = qs->parents[i];
		}
		free(qs->parents);
		qs->parents = np;
		qs->parents_cap = cap;
	}
	size_t i = slot_of(dir, qs->parents_cap);
	while (qs->parents[i].dir && qs->parents[i].dir != dir)
		i = (i + 1) & (qs->parents_cap - 1);
	if (!qs->parents[i].dir)
		qs->parents_n++;
	qs->parents[i] = (struct dir_parent){dir, parent};
}

/* ---- reading the quotas -------------------------------------------------------------------- */

struct load_arg {
	struct quota_entry *q;
	size_t n, cap;
};

static int load_op(struct tx *t, void *arg)
{
	struct load_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT inode, max_space, max_inodes, used_space, "
			      "used_inodes FROM jfs_dir_quota ORDER BY inode", "");
	if (rc)
		return rc;
	while ((rc = t->d->step(s, t->err)) > 0) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 16;
			struct quota_entry *nq = realloc(a->q, cap * sizeof(*nq));
			if (!nq) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->q = nq;
			a->cap = cap;
		}
		a->q[a->n++] = (struct quota_entry){.q = {.ino = sl_sql_col_u64(t, s, 0),
							  .max_space = t->d->col_i64(s, 1),
							  .max_inodes = t->d->col_i64(s, 2),
							  .used_space = t->d->col_i64(s, 3),
							  .used_inodes = t->d->col_i64(s, 4)}};
	}
	t->d->finalize(s);
	return rc < 0 ? rc : 0;
}

/* Reads the quotas again (in t, or in a read transaction of their own when t is NULL), keeping
 * what this handle has not flushed yet, and forgets the parents it knew. */
static int quotas_load(struct sl_meta *m, struct tx *t, struct sl_err *err)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	struct load_arg a = {0};
	int rc = t ? load_op(t, &a) : sl_sqlq_run(m, false, load_op, &a, err);
	if (sl_sql_missing_table(err, rc, "jfs_dir_quota")) { /* juicefs before 1.1: none */
		sl_err_clear(err);
		rc = 0;
		a.n = 0;
	}
	if (rc) {
		free(a.q);
		return rc;
	}
	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; i < a.n; i++) {
		const struct quota_entry *old = quota_find(qs, a.q[i].q.ino);
		if (old) {
			a.q[i].new_space = old->new_space;
			a.q[i].new_inodes = old->new_inodes;
		}
	}
	free(qs->q);
	qs->q = a.q;
	qs->n = a.n;
	qs->loaded = true;
	qs->loaded_ms = sl_clock_mono_ms(m->clock);
	parents_clear(qs);
	pthread_mutex_unlock(&qs->lock);
	return 0;
}

/* Whether the volume has quotas, reading them first if this handle never did. */
static int quotas_any(struct sl_meta *m, struct tx *t, bool *any, struct sl_err *err)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	pthread_mutex_lock(&qs->lock);
	bool loaded = qs->loaded;
	*any = qs->n > 0;
	pthread_mutex_unlock(&qs->lock);
	if (loaded)
		return 0;
	int rc = quotas_load(m, t, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&qs->lock);
	*any = qs->n > 0;
	pthread_mutex_unlock(&qs->lock);
	return 0;
}

/* ---- the quotas over a directory ------------------------------------------------------------ */

struct ancestors_arg {
	sl_ino dir;
	struct sql_quotas *qs;
};

/* Remembers the parents of dir and of every directory above it, by one recursive query. */
static int ancestors_op(struct tx *t, void *arg)
{
	struct ancestors_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s,
			      "WITH RECURSIVE up(ino, parent) AS (SELECT inode, parent FROM "
			      "jfs_node WHERE inode = ? UNION SELECT n.inode, n.parent FROM "
			      "jfs_node n JOIN up u ON n.inode = u.parent WHERE u.ino <> 1) "
			      "SELECT ino, parent FROM up", "i", (int64_t)a->dir);
	if (rc)
		return rc;
	while ((rc = t->d->step(s, t->err)) > 0) {
		sl_ino dir = sl_sql_col_u64(t, s, 0), parent = sl_sql_col_u64(t, s, 1);
		pthread_mutex_lock(&a->qs->lock);
		parent_put(a->qs, dir, parent);
		pthread_mutex_unlock(&a->qs->lock);
	}
	t->d->finalize(s);
	return rc < 0 ? rc : 0;
}

/* The quota directories over dir (dir included), nearest first, at most max of them in out.
 * A directory that vanished meanwhile ends the walk: nothing above it is counted. */
static int quota_chain(struct sl_meta *m, struct tx *t, sl_ino dir, sl_ino *out, size_t max,
		       size_t *n, struct sl_err *err)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	*n = 0;
	sl_ino cur = dir;
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		if (!cur || cur >= SL_TRASH_INO) /* the trash is under no quota */
			return 0;
		pthread_mutex_lock(&qs->lock);
		if (quota_find(qs, cur) && *n < max)
			out[(*n)++] = cur;
		sl_ino parent = cur == SL_ROOT_INO ? 0 : parent_get(qs, cur);
		pthread_mutex_unlock(&qs->lock);
		if (cur == SL_ROOT_INO)
			return 0;
		if (!parent) {
			struct ancestors_arg a = {cur, qs};
			int rc = t ? ancestors_op(t, &a) : sl_sqlq_run(m, false, ancestors_op, &a, err);
			if (rc)
				return rc;
			pthread_mutex_lock(&qs->lock);
			parent = parent_get(qs, cur);
			pthread_mutex_unlock(&qs->lock);
			if (!parent)
				return 0;
		}
		if (parent == cur)
			return 0;
		cur = parent;
	}
	sl_log(m->log, SL_LOG_WARN, "the parents of directory %" PRIu64 " form a loop; its "
	       "quotas are not counted", dir);
	return 0;
}

#define MAX_QUOTAS 64 /* nested quotas over one directory that are weighed */

/* The quotas over `to` but not over `from` (0: none), for space more bytes and inodes more
 * inodes: 0 or -EDQUOT naming the first quota that has no room. */
static int check_chain(struct tx *t, sl_ino from, sl_ino to, int64_t space, int64_t inodes)
{
	if (space <= 0 && inodes <= 0)
		return 0;
	bool any;
	int rc = quotas_any(t->m, t, &any, t->err);
	if (rc || !any)
		return rc;
	sl_ino over_to[MAX_QUOTAS], over_from[MAX_QUOTAS];
	size_t nto, nfrom = 0;
	if ((rc = quota_chain(t->m, t, to, over_to, MAX_QUOTAS, &nto, t->err)) ||
	    (from && (rc = quota_chain(t->m, t, from, over_from, MAX_QUOTAS, &nfrom, t->err))))
		return rc;
	struct sql_quotas *qs = &sl_sql_be_of(t->m)->quotas;
	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; !rc && i < nto; i++) {
		bool shared = false;
		for (size_t k = 0; k < nfrom && !shared; k++)
			shared = over_from[k] == over_to[i];
		const struct quota_entry *e = shared ? NULL : quota_find(qs, over_to[i]);
		if (!e)
			continue;
		int64_t used = e->q.used_space + e->new_space;
		int64_t files = e->q.used_inodes + e->new_inodes;
		if (space > 0 && e->q.max_space > 0 && used + space > e->q.max_space)
			rc = sl_errf(t->err, -EDQUOT, "space quota exceeded: directory %" PRIu64
				     " may hold %" PRId64 " bytes, %" PRId64 " are used and %" PRId64
				     " more were asked for", e->q.ino, e->q.max_space, used, space);
		else if (inodes > 0 && e->q.max_inodes > 0 && files + inodes > e->q.max_inodes)
			rc = sl_errf(t->err, -EDQUOT, SLUICE_INODE_QUOTA_MSG ": directory %" PRIu64
				     " may hold %" PRId64 " inodes, %" PRId64 " are used and %"
				     PRId64 " more were asked for", e->q.ino, e->q.max_inodes, files,
				     inodes);
	}
	pthread_mutex_unlock(&qs->lock);
	return rc;
}

int sl_sql_quota_check(struct tx *t, sl_ino dir, int64_t space, int64_t inodes)
{
	return check_chain(t, 0, dir, space, inodes);
}

int sl_sql_quota_check_move(struct tx *t, sl_ino from, sl_ino to, int64_t space,
			    int64_t inodes)
{
	return from == to ? 0 : check_chain(t, from, to, space, inodes);
}

/* Adds to the unflushed usage of the quotas over dir. */
static void quota_add(struct sl_meta *m, sl_ino dir, int64_t space, int64_t inodes)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	sl_ino over[MAX_QUOTAS];
	size_t n = 0;
	struct sl_err err = {0};
	if (quota_chain(m, NULL, dir, over, MAX_QUOTAS, &n, &err)) {
		sl_log(m->log, SL_LOG_WARN, "the quotas over directory %" PRIu64 " miss a change "
		       "(sluice quota check --repair mends them): %s", dir, err.msg);
		return;
	}
	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; i < n; i++) {
		struct quota_entry *e = quota_find(qs, over[i]);
		if (e) {
			e->new_space += space;
			e->new_inodes += inodes;
		}
	}
	pthread_mutex_unlock(&qs->lock);
}

void sl_sql_quota_account(struct sl_meta *m, sl_ino dir, int64_t space, int64_t inodes)
{
	if (!dir || (!space && !inodes))
		return;
	bool any;
	struct sl_err err = {0};
	if (quotas_any(m, NULL, &any, &err)) /* a deletion may be this handle's first change */
		sl_log(m->log, SL_LOG_WARN, "reading the directory quotas: %s; their usage misses "
		       "a change (sluice quota check --repair mends it)", err.msg);
	else if (any)
		quota_add(m, dir, space, inodes);
}

void sl_sql_quota_account_move(struct sl_meta *m, sl_ino from, sl_ino to, int64_t space,
			       int64_t inodes)
{
	if (from == to)
		return;
	sl_sql_quota_account(m, from, -space, -inodes);
	sl_sql_quota_account(m, to, space, inodes);
}

void sl_sql_quota_moved_dir(struct sl_meta *m, sl_ino dir, sl_ino parent)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	pthread_mutex_lock(&qs->lock);
	if (dir && qs->n)
		parent_put(qs, dir, parent);
	pthread_mutex_unlock(&qs->lock);
}

/* Whether the quotas over directories a and b are the same ones. */
static int same_quotas(struct tx *t, sl_ino a, sl_ino b, bool *same)
{
	sl_ino over_a[MAX_QUOTAS], over_b[MAX_QUOTAS];
	size_t na, nb;
	int rc = quota_chain(t->m, t, a, over_a, MAX_QUOTAS, &na, t->err);
	if (!rc)
		rc = quota_chain(t->m, t, b, over_b, MAX_QUOTAS, &nb, t->err);
	*same = !rc && na == nb && !memcmp(over_a, over_b, na * sizeof(*over_a));
	return rc;
}

int sl_sql_quota_moving(struct tx *t, sl_ino dir, sl_ino from, sl_ino to, int64_t *space,
			int64_t *inodes)
{
	*space = *inodes = 0;
	bool any, same;
	int rc = quotas_any(t->m, t, &any, t->err);
	if (rc || !any || (rc = same_quotas(t, from, to, &same)) || same)
		return rc;
	struct sql_quotas *qs = &sl_sql_be_of(t->m)->quotas;
	pthread_mutex_lock(&qs->lock);
	const struct quota_entry *e = quota_find(qs, dir);
	if (e) {
		*space = e->q.used_space + e->new_space;
		*inodes = e->q.used_inodes + e->new_inodes;
	}
	pthread_mutex_unlock(&qs->lock);
	if (e)
		return 0;
	struct sl_meta_summary sum;
	if ((rc = sl_sql_subtree_usage(t, dir, &sum)))
		return rc;
	*space = (int64_t)sum.space - DIR_SPACE;
	*inodes = (int64_t)(sum.dirs + sum.files) - 1;
	return 0;
}

/* ---- flushing (slot quota_flush) ------------------------------------------------------------ */

struct flush_arg {
	struct quota_entry *q; /* the deltas written */
	size_t n;
};

static int flush_op(struct tx *t, void *arg)
{
	struct flush_arg *a = arg;
	int rc = 0;
	for (size_t i = 0; !rc && i < a->n; i++)
		rc = sl_sqlq_write(t, "UPDATE jfs_dir_quota SET used_space = used_space + ?, "
				   "used_inodes = used_inodes + ? WHERE inode = ?", "iii",
				   a->q[i].new_space, a->q[i].new_inodes, (int64_t)a->q[i].q.ino);
	return rc;
}

int sl_sql_quota_flush(struct sl_meta *m, struct sl_err *err)
{
	struct sql_quotas *qs = &sl_sql_be_of(m)->quotas;
	struct flush_arg a = {0};
	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; i < qs->n; i++)
		if (qs->q[i].new_space || qs->q[i].new_inodes)
			a.n++;
	if (a.n && (a.q = malloc(a.n * sizeof(*a.q)))) {
		a.n = 0;
		for (size_t i = 0; i < qs->n; i++)
			if (qs->q[i].new_space || qs->q[i].new_inodes)
				a.q[a.n++] = qs->q[i];
	}
	bool due = !qs->loaded || sl_clock_mono_ms(m->clock) - qs->loaded_ms >= QUOTA_RELOAD_MS;
	pthread_mutex_unlock(&qs->lock);
	if (a.n && !a.q)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = a.n ? sl_sqlq_run(m, true, flush_op, &a, err) : 0;
	if (!rc) {
		/* written: from pending to used (a quota read again meanwhile has them already) */
		pthread_mutex_lock(&qs->lock);
		for (size_t i = 0; i < a.n; i++) {
			struct quota_entry *e = quota_find(qs, a.q[i].q.ino);
			if (!e)
				continue;
			e->new_space -= a.q[i].new_space;
			e->new_inodes -= a.q[i].new_inodes;
			e->q.used_space += a.q[i].new_space;
			e->q.used_inodes += a.q[i].new_inodes;
		}
		pthread_mutex_unlock(&qs->lock);
	}
	free(a.q);
	if (!rc && due)
		rc = quotas_load(m, NULL, err);
	return rc ? sl_err_wrap(err, "updating the directory quotas") : 0;
}

/* ---- setting, removing and listing (slots quota_set, quota_delete, quota_list) ------------- */

struct set_arg {
	const struct sl_meta_quota *in;
	bool created;
};

static int set_op(struct tx *t, void *arg)
{
	struct set_arg *a = arg;
	const struct sl_meta_quota *in = a->in;
	struct sl_attr d;
	int rc = sl_sql_node_get(t, in->ino, false, &d);
	if (rc)
		return rc;
	if (d.type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory: only "
			       "directories have quotas", in->ino);
	if (in->ino >= SL_TRASH_INO || d.parent >= SL_TRASH_INO)
		return sl_errf(t->err, -EINVAL, "the trash has no quotas");
	char buf[256];
	struct sl_sql_stmt *s;
	rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT max_space, max_inodes, used_space, "
				   "used_inodes FROM jfs_dir_quota WHERE inode = ?"),
			 "i", (int64_t)in->ino);
	if (rc < 0)
		return rc;
	/* as juicefs: a limit not given stays (none, -1, for a new quota), usage likewise (0) */
	struct sl_meta_quota q = {.ino = in->ino, .max_space = -1, .max_inodes = -1};
	a->created = rc == 0;
	if (rc) {
		q.max_space = t->d->col_i64(s, 0);
		q.max_inodes = t->d->col_i64(s, 1);
		q.used_space = t->d->col_i64(s, 2);
		q.used_inodes = t->d->col_i64(s, 3);
		t->d->finalize(s);
	}
	if (in->max_space >= 0)
		q.max_space = in->max_space;
	if (in->max_inodes >= 0)
		q.max_inodes = in->max_inodes;
	if (in->used_space >= 0)
		q.used_space = in->used_space;
	if (in->used_inodes >= 0)
		q.used_inodes = in->used_inodes;
	if (a->created)
		return sl_sqlq_exec(t, NULL, "INSERT INTO jfs_dir_quota (inode, max_space, "
				    "max_inodes, used_space, used_inodes) VALUES (?, ?, ?, ?, ?)",
				    "iiiii", (int64_t)q.ino, q.max_space, q.max_inodes,
				    q.used_space, q.used_inodes);
	return sl_sqlq_exec(t, NULL, "UPDATE jfs_dir_quota SET max_space = ?, max_inodes = ?, "
			    "used_space = ?, used_inodes = ? WHERE inode = ?", "iiiii",
			    q.max_space, q.max_inodes, q.used_space, q.used_inodes,
			    (int64_t)q.ino);
}

int sl_sql_quota_set(struct sl_meta *m, const struct sl_meta_quota *q, bool *created,
		     struct sl_err *err)
{
	struct set_arg a = {.in = q};
	int rc = sl_sqlq_run(m, true, set_op, &a, err);
	if (!rc && created)
		*created = a.created;
	/* this handle weighs its own changes at once */
	return rc ? rc : quotas_load(m, NULL, err);
}

static int delete_op(struct tx *t, void *arg)
{
	sl_ino ino = *(sl_ino *)arg;
	int64_t n = 0;
	int rc = sl_sqlq_exec(t, &n, "DELETE FROM jfs_dir_quota WHERE inode = ?", "i",
			      (int64_t)ino);
	if (!rc && !n)
		rc = sl_errf(t->err, -ENOENT, "directory %" PRIu64 " has no quota", ino);
	return rc;
}

int sl_sql_quota_delete(struct sl_meta *m, sl_ino ino, struct sl_err *err)
{
	int rc = sl_sqlq_run(m, true, delete_op, &ino, err);
	return rc ? rc : quotas_load(m, NULL, err);
}

int sl_sql_quota_list(struct sl_meta *m, sl_ino ino, sl_meta_quota_cb cb, void *arg,
		      struct sl_err *err)
{
	struct load_arg a = {0};
	int rc = sl_sqlq_run(m, false, load_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++)
		if (!ino || a.q[i].q.ino == ino)
			rc = cb(arg, &a.q[i].q);
	free(a.q);
	return rc;
}
