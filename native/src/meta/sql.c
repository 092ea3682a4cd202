/*
 * sql.c - the "sql" metadata backend: JuiceFS Community Edition's SQL layout (jfs_node, jfs_edge,
 * jfs_chunk, ...) through a driver table (sql_driver.h), with every modifying operation one
 * transaction run by sql_pool.c's runner, which retries on deadlocks and lost connections.
 *
 * Rules that keep this file portable and retry-safe:
 *  - SQL is written once for every engine: '?' placeholders, no upserts (UPDATE, then INSERT when
 *    no row matched), no RETURNING, no string concatenation operators (blobs are read, changed
 *    and written back under the inode's row lock), rows read for update end in driver->for_update.
 *  - Names and symlink targets are BLOBs (bound as blobs: SQLite compares storage classes, and
 *    MySQL VARBINARY compares bytes), xattr names and settings are TEXT, as juicefs writes them.
 *  - A transaction function may run several times: it resets its outputs first, and everything
 *    outside the database (usage accounting, callbacks) happens after the runner returned 0.
 *  - Callbacks never run while a connection is held (they may call back into this backend).
 *
 * Where JuiceFS and Hadoop disagree, this file follows Hadoop's semantics; the choices are listed
 * where they are made (search for "Hadoop:").
 */
#include "meta.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql_internal.h"

#define DEFAULT_POOL_SIZE 8
#define DEFAULT_ATTEMPTS 10
#define XATTR_VALUE_MAX 65536
#define DIR_SPACE 4096 /* what juicefs counts for a directory (align4K(0)) */

static struct sqlbe *be_of(struct sl_meta *m) { return m->priv; }

/* JuiceFS's align4K: space of a file of n bytes; an empty file (or any other inode) counts as
 * 4 KiB. */
static int64_t jfs_space(uint64_t n)
{
	return n == 0 ? 4096 : (int64_t)((((n - 1) >> 12) + 1) << 12);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- slices: 24 bytes big-endian each, pos(4) id(8) size(4) off(4) len(4) -------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void slice_put(uint8_t *p, const struct sl_slice *s)
{
	put32(p, s->pos);
	put32(p + 4, (uint32_t)(s->id >> 32));
	put32(p + 8, (uint32_t)s->id);
	put32(p + 12, s->size);
	put32(p + 16, s->off);
	put32(p + 20, s->len);
}

static void slice_get(const uint8_t *p, struct sl_slice *s)
{
	s->pos = get32(p);
	s->id = (uint64_t)get32(p + 4) << 32 | get32(p + 8);
	s->size = get32(p + 12);
	s->off = get32(p + 16);
	s->len = get32(p + 20);
}

/* ---- transactions and statements ------------------------------------------------------------- */

struct run_ctx {
	struct sl_meta *m;
	op_fn fn;
	void *arg;
};

static int run_cb(struct sl_sql_conn *c, void *a, struct sl_err *err)
{
	struct run_ctx *r = a;
	struct tx t = {.m = r->m, .d = be_of(r->m)->d, .c = c, .err = err};
	return r->fn(&t, r->arg);
}

/* One transaction (retried by the runner as needed). */
static int run(struct sl_meta *m, bool write, op_fn fn, void *arg, struct sl_err *err)
{
	struct run_ctx r = {.m = m, .fn = fn, .arg = arg};
	return sl_sql_txn(be_of(m)->pool, write, run_cb, &r, err);
}

/* Binds arguments described by fmt: 'i' int64_t, 'b' const void * + size_t (blob),
 * 't' const char * (text). */
static int q_vbind(struct tx *t, struct sl_sql_stmt *s, const char *sql, const char *fmt,
		   va_list ap)
{
	for (int i = 0; fmt[i]; i++) {
		int rc;
		switch (fmt[i]) {
		case 'i':
			rc = t->d->bind_i64(s, i + 1, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = t->d->bind_blob(s, i + 1, p, n);
			break;
		}
		case 't':
			rc = t->d->bind_text(s, i + 1, va_arg(ap, const char *));
			break;
		default:
			rc = -EINVAL;
		}
		if (rc)
			return sl_errf(t->err, rc < 0 ? rc : -EIO, "binding parameter %d of \"%.80s\"",
				       i + 1, sql);
	}
	return 0;
}

static int q_vopen(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt,
		   va_list ap)
{
	*s = NULL;
	int rc = t->d->prepare(t->c, sql, s, t->err);
	if (rc)
		return rc;
	if ((rc = q_vbind(t, *s, sql, fmt, ap))) {
		t->d->finalize(*s);
		*s = NULL;
	}
	return rc;
}

/* Prepares and binds a query; the caller steps through its rows and finalizes it. */
static int q_open(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = q_vopen(t, s, sql, fmt, ap);
	va_end(ap);
	return rc;
}

static int q_vexec(struct tx *t, int64_t *changes, const char *sql, const char *fmt, va_list ap)
{
	struct sl_sql_stmt *s;
	int rc = q_vopen(t, &s, sql, fmt, ap);
	if (rc)
		return rc;
	while ((rc = t->d->step(s, t->err)) > 0)
		;
	if (!rc && changes)
		*changes = t->d->changes(s);
	t->d->finalize(s);
	return rc;
}

/* Runs a statement without results; *changes (if not NULL) gets the rows it changed. */
static int q_exec(struct tx *t, int64_t *changes, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = q_vexec(t, changes, sql, fmt, ap);
	va_end(ap);
	return rc;
}

static int q_vrow(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt,
		  va_list ap)
{
	int rc = q_vopen(t, s, sql, fmt, ap);
	if (rc)
		return rc;
	rc = t->d->step(*s, t->err);
	if (rc <= 0) {
		t->d->finalize(*s);
		*s = NULL;
	}
	return rc;
}

/* Runs a query for its first row: 1 with *s on the row (caller finalizes), 0 if there is none. */
static int q_row(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = q_vrow(t, s, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* The same for the backend's other files (sql_internal.h). */
int sl_sqlq_run(struct sl_meta *m, bool write, op_fn fn, void *arg, struct sl_err *err)
{
	return run(m, write, fn, arg, err);
}

static int ddl_op(struct tx *t, void *arg)
{
	return t->d->exec(t->c, arg, t->err);
}

int sl_sqlq_own_table(struct sl_meta *m, bool *ready, const char *const ddl[2], const char *what,
		      struct sl_err *err)
{
	struct sqlbe *b = be_of(m);
	pthread_mutex_lock(&b->lock);
	bool done = *ready;
	pthread_mutex_unlock(&b->lock);
	if (done)
		return 0;
	int rc = run(m, false, ddl_op, (void *)ddl[!strcmp(b->d->scheme, "mysql")], err);
	if (rc)
		return sl_err_wrap(err, "creating the %s table in %s", what, m->url_redacted);
	pthread_mutex_lock(&b->lock);
	*ready = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int sl_sqlq_exec(struct tx *t, int64_t *changes, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = q_vexec(t, changes, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int sl_sqlq_row(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = q_vrow(t, s, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* sql followed by the driver's FOR UPDATE clause, in buf. */
static const char *fu(struct tx *t, char *buf, size_t size, const char *sql)
{
	snprintf(buf, size, "%s%s", sql, t->d->for_update);
	return buf;
}
#define FU(t, buf, sql) fu(t, buf, sizeof(buf), sql)

static uint64_t col_u64(struct tx *t, struct sl_sql_stmt *s, int col)
{
	return t->d->col_null(s, col) ? 0 : (uint64_t)t->d->col_i64(s, col);
}

/* A blob column copied into a fresh NUL-terminated buffer. */
static char *col_dup(struct tx *t, struct sl_sql_stmt *s, int col, size_t *len)
{
	size_t n = 0;
	const void *p = t->d->col_blob(s, col, &n);
	char *d = malloc(n + 1);
	if (d) {
		if (n)
			memcpy(d, p, n);
		d[n] = 0;
	}
	if (len)
		*len = n;
	return d;
}

static int nomem(struct tx *t) { return sl_errf(t->err, -ENOMEM, "out of memory"); }

/* ---- nodes ----------------------------------------------------------------------------------- */

#define NODE_COLS "inode, type, flags, mode, uid, gid, atime, mtime, ctime, atimensec, " \
	"mtimensec, ctimensec, nlink, length, rdev, parent"
#define NODE_COLS_N "n.inode, n.type, n.flags, n.mode, n.uid, n.gid, n.atime, n.mtime, n.ctime, " \
	"n.atimensec, n.mtimensec, n.ctimensec, n.nlink, n.length, n.rdev, n.parent"
#define NODE_NCOLS 16

static void node_row(struct tx *t, struct sl_sql_stmt *s, int c0, sl_ino *ino, struct sl_attr *a)
{
	memset(a, 0, sizeof(*a));
	if (ino)
		*ino = col_u64(t, s, c0);
	a->type = (uint8_t)col_u64(t, s, c0 + 1);
	a->flags = (uint8_t)col_u64(t, s, c0 + 2);
	a->mode = (uint16_t)(col_u64(t, s, c0 + 3) & 07777);
	a->uid = (uint32_t)col_u64(t, s, c0 + 4);
	a->gid = (uint32_t)col_u64(t, s, c0 + 5);
	a->atime_ns = sl_time_join(t->d->col_i64(s, c0 + 6), t->d->col_i64(s, c0 + 9));
	a->mtime_ns = sl_time_join(t->d->col_i64(s, c0 + 7), t->d->col_i64(s, c0 + 10));
	a->ctime_ns = sl_time_join(t->d->col_i64(s, c0 + 8), t->d->col_i64(s, c0 + 11));
	a->nlink = (uint32_t)col_u64(t, s, c0 + 12);
	a->length = col_u64(t, s, c0 + 13);
	a->rdev = (uint32_t)col_u64(t, s, c0 + 14);
	a->parent = col_u64(t, s, c0 + 15);
}

/* Reads a node (locked for update when lock); -ENOENT if it does not exist. */
static int node_get(struct tx *t, sl_ino ino, bool lock, struct sl_attr *a)
{
	char buf[256];
	const char *sql = "SELECT " NODE_COLS " FROM jfs_node WHERE inode = ?";
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, lock ? FU(t, buf, sql) : sql, "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist", ino);
	node_row(t, s, 0, NULL, a);
	t->d->finalize(s);
	return 0;
}

static int node_insert(struct tx *t, sl_ino ino, const struct sl_attr *a)
{
	return q_exec(t, NULL,
		      "INSERT INTO jfs_node (inode, type, flags, mode, uid, gid, atime, mtime, ctime, "
		      "atimensec, mtimensec, ctimensec, nlink, length, rdev, parent, access_acl_id, "
		      "default_acl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
		      "iiiiiiiiiiiiiiii", (int64_t)ino, (int64_t)a->type, (int64_t)a->flags,
		      (int64_t)(a->mode & 07777), (int64_t)a->uid, (int64_t)a->gid,
		      sl_time_us(a->atime_ns), sl_time_us(a->mtime_ns), sl_time_us(a->ctime_ns),
		      sl_time_nsrem(a->atime_ns), sl_time_nsrem(a->mtime_ns),
		      sl_time_nsrem(a->ctime_ns), (int64_t)a->nlink, (int64_t)a->length,
		      (int64_t)a->rdev, (int64_t)a->parent);
}

/* Adds dnlink to a directory's link count and sets its mtime and ctime; -ENOENT if it vanished. */
static int dir_touch(struct tx *t, sl_ino dir, int64_t dnlink, int64_t now)
{
	int64_t n = 0;
	int rc = q_exec(t, &n,
			"UPDATE jfs_node SET nlink = nlink + ?, mtime = ?, mtimensec = ?, ctime = ?, "
			"ctimensec = ? WHERE inode = ?",
			"iiiiii", dnlink, sl_time_us(now), sl_time_nsrem(now), sl_time_us(now),
			sl_time_nsrem(now), (int64_t)dir);
	if (!rc && n == 0)
		rc = sl_errf(t->err, -ENOENT, "directory %" PRIu64 " was removed meanwhile", dir);
	return rc;
}

static int edge_get(struct tx *t, sl_ino parent, const char *name, bool lock, sl_ino *ino,
		    uint8_t *type)
{
	char buf[256];
	const char *sql = "SELECT inode, type FROM jfs_edge WHERE parent = ? AND name = ?";
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, lock ? FU(t, buf, sql) : sql, "ib", (int64_t)parent, name,
		       strlen(name));
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	*ino = col_u64(t, s, 0);
	*type = (uint8_t)col_u64(t, s, 1);
	t->d->finalize(s);
	return 0;
}

/* Adds delta to a counter inside a transaction (creating it at 0); *value gets the new value. */
static int counter_add(struct tx *t, const char *name, int64_t delta, int64_t *value)
{
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, buf, "SELECT value FROM jfs_counter WHERE name = ?"), "t",
		       name);
	if (rc < 0)
		return rc;
	int64_t v = delta;
	if (rc) {
		v += t->d->col_i64(s, 0);
		t->d->finalize(s);
		rc = q_exec(t, NULL, "UPDATE jfs_counter SET value = ? WHERE name = ?", "it", v, name);
	} else {
		rc = q_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)", "ti", name,
			    v);
	}
	if (!rc && value)
		*value = v;
	return rc;
}

static int check_name(const char *name, struct sl_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return sl_errf(err, -EINVAL, "empty file name");
	if (n > SL_NAME_MAX)
		return sl_errf(err, -ENAMETOOLONG, "name '%.40s...' is longer than %d bytes", name,
			       SL_NAME_MAX);
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return sl_errf(err, -EINVAL, "'%s' is not a valid file name", name);
	return 0;
}

/* juicefs shows the trash as /.trash; an entry of that name in the root would clash with it. */
static int check_reserved(sl_ino parent, const char *name, struct sl_err *err)
{
	if (parent == SL_ROOT_INO && !strcmp(name, ".trash"))
		return sl_errf(err, -EPERM, "/.trash is reserved for the JuiceFS trash");
	return 0;
}

static bool superuser(const struct sl_meta_user *u) { return !u || u->superuser; }

static int deny(struct tx *t, const char *what, sl_ino ino)
{
	return sl_errf(t->err, -EACCES, "permission denied: %s (inode %" PRIu64 ")", what, ino);
}

/* The sticky bit: only the owner of the entry or of the directory (or a superuser) may remove
 * or rename an entry of a sticky directory. */
static bool sticky_denies(const struct sl_meta_user *u, const struct sl_attr *dir,
			  const struct sl_attr *victim)
{
	return (dir->mode & 01000) && !superuser(u) && u->uid != dir->uid && u->uid != victim->uid;
}

/* The parent of a modifying operation: a directory the user may write and search. */
static int dir_for_change(struct tx *t, const struct sl_meta_user *u, sl_ino dir,
			  struct sl_attr *a)
{
	int rc = node_get(t, dir, false, a);
	if (rc)
		return rc;
	if (a->type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", dir);
	if (sl_meta_access(u, a, SL_MAY_WRITE | SL_MAY_EXEC))
		return deny(t, "cannot write to the directory", dir);
	if (a->flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is immutable", dir);
	return 0;
}

/* ---- usage deltas, applied after commit ------------------------------------------------------ */

/* Directory stats and file system totals change separately: removing the last link of an open
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
};

static void acct_reset(struct acct *a)
{
	a->n = 0;
	a->tspace = a->tinodes = 0;
}

static int acct_dir(struct tx *t, struct acct *a, sl_ino dir, int64_t len, int64_t space,
		    int64_t inodes)
{
	if (!dir)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->d[i].dir == dir) {
			a->d[i].len += len;
			a->d[i].space += space;
			a->d[i].inodes += inodes;
			return 0;
		}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct acct_dir *nd = realloc(a->d, cap * sizeof(*nd));
		if (!nd)
			return nomem(t);
		a->d = nd;
		a->cap = cap;
	}
	a->d[a->n++] = (struct acct_dir){dir, len, space, inodes};
	return 0;
}

static void acct_total(struct acct *a, int64_t space, int64_t inodes)
{
	a->tspace += space;
	a->tinodes += inodes;
}

static void acct_apply(struct sl_meta *m, struct acct *a)
{
	int64_t space = a->tspace, inodes = a->tinodes;
	for (size_t i = 0; i < a->n; i++) {
		sl_meta_account(m, a->d[i].dir, a->d[i].len, a->d[i].space, a->d[i].inodes);
		space -= a->d[i].space;
		inodes -= a->d[i].inodes;
	}
	if (space || inodes)
		sl_meta_account(m, 0, 0, space, inodes);
}

static void acct_free(struct acct *a)
{
	free(a->d);
	a->d = NULL;
	a->n = a->cap = 0;
}

/* ---- removing a link ------------------------------------------------------------------------- */

/* Drops one link of non-directory ino (node already read for update as a) whose entry in parent
 * the caller removes. The last link of a file becomes a jfs_delfile row (data deleted by the
 * caller), or a jfs_sustained row of our session while the file is open here. */
static int drop_link(struct tx *t, sl_ino parent, sl_ino ino, struct sl_attr *a, int64_t now,
		     struct sl_removed *out, struct acct *ac)
{
	int rc;
	uint64_t flen = a->type == SL_TYPE_FILE ? a->length : 0;
	if ((rc = acct_dir(t, ac, parent, -(int64_t)flen, -jfs_space(flen), -1)))
		return rc;
	a->nlink = a->nlink ? a->nlink - 1 : 0;
	a->ctime_ns = now;
	if (a->nlink > 0)
		return q_exec(t, NULL,
			      "UPDATE jfs_node SET nlink = ?, ctime = ?, ctimensec = ? WHERE inode = ?",
			      "iiii", (int64_t)a->nlink, sl_time_us(now), sl_time_nsrem(now),
			      (int64_t)ino);
	out->ino = ino;
	out->length = a->length;
	out->data_pending = false;
	if (a->type == SL_TYPE_FILE && t->m->sid && sl_meta_is_open(t->m, ino)) {
		/* Open here: keep the inode until the last handle closes (release). */
		rc = q_exec(t, NULL, "INSERT INTO jfs_sustained (sid, inode) VALUES (?, ?)", "ii",
			    (int64_t)t->m->sid, (int64_t)ino);
		if (!rc)
			rc = q_exec(t, NULL,
				    "UPDATE jfs_node SET nlink = 0, ctime = ?, ctimensec = ? "
				    "WHERE inode = ?",
				    "iii", sl_time_us(now), sl_time_nsrem(now), (int64_t)ino);
	} else {
		if (a->type == SL_TYPE_FILE) {
			rc = q_exec(t, NULL,
				    "INSERT INTO jfs_delfile (inode, length, expire) VALUES (?, ?, ?)",
				    "iii", (int64_t)ino, (int64_t)a->length, now / 1000000000LL);
			out->data_pending = true;
		} else if (a->type == SL_TYPE_SYMLINK) {
			rc = q_exec(t, NULL, "DELETE FROM jfs_symlink WHERE inode = ?", "i",
				    (int64_t)ino);
		}
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
		acct_total(ac, -jfs_space(flen), -1);
	}
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_xattr WHERE inode = ?", "i", (int64_t)ino);
	return rc;
}

/* Removes an empty directory node (its entry is removed by the caller). */
static int drop_dir(struct tx *t, sl_ino parent, sl_ino ino, struct acct *ac)
{
	int rc = q_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_dir_stats WHERE inode = ?", "i", (int64_t)ino);
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_dir_quota WHERE inode = ?", "i", (int64_t)ino);
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_xattr WHERE inode = ?", "i", (int64_t)ino);
	if (!rc)
		rc = acct_dir(t, ac, parent, 0, -DIR_SPACE, -1);
	acct_total(ac, -DIR_SPACE, -1);
	return rc;
}

static int dir_is_empty(struct tx *t, sl_ino dir, bool *empty)
{
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, buf, "SELECT inode FROM jfs_edge WHERE parent = ? LIMIT 1"),
		       "i", (int64_t)dir);
	if (rc < 0)
		return rc;
	*empty = rc == 0;
	t->d->finalize(s);
	return 0;
}

/* ---- init ------------------------------------------------------------------------------------ */

/* Integer value of a URL parameter, or def. */
static int url_param_int(const char *params, const char *key, int def, bool *bad)
{
	size_t kl = strlen(key);
	for (const char *p = params; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			char *end;
			long v = strtol(p + kl + 1, &end, 10);
			if (end != p + n || v < 1 || v > 1024)
				*bad = true;
			else
				def = (int)v;
		}
		p = amp ? amp + 1 : NULL;
	}
	return def;
}

static bool url_has_param(const char *params, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = params; p && *p;) {
		if (!strncmp(p, key, kl) && (p[kl] == '=' || p[kl] == '&' || !p[kl]))
			return true;
		const char *amp = strchr(p, '&');
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

static int sql_init(struct sl_meta *m, const char *url, struct sl_err *err)
{
	struct sqlbe *b = be_of(m);
	struct sl_sql_url u;
	int rc = sl_sql_url_parse(url, &u, err);
	if (rc)
		return rc;
	snprintf(m->url_redacted, sizeof(m->url_redacted), "%s", u.redacted);
	if (!strcmp(u.scheme, "sqlite3")) {
		b->d = &sl_sqlite_driver;
	} else if (!strcmp(u.scheme, "mysql")) {
		b->d = &sl_mysql_driver;
	} else {
		rc = sl_errf(err, -EINVAL, "no SQL driver for %s", u.redacted);
		goto out;
	}
	/* juicefs's own parameters: max_open_conns sizes the pool; table_prefix names other
	 * tables, which this backend does not support. "retries" is Sluice's: the attempts of a
	 * transaction that meets deadlocks; an unreachable database is retried for
	 * meta-retry-seconds instead. */
	if (url_has_param(u.params, "table_prefix")) {
		rc = sl_errf(err, -ENOTSUP, "%s: table_prefix is not supported by Sluice",
			     u.redacted);
		goto out;
	}
	bool bad = false;
	int size = url_param_int(u.params, "max_open_conns", DEFAULT_POOL_SIZE, &bad);
	int attempts = url_param_int(u.params, "retries", DEFAULT_ATTEMPTS, &bad);
	if (bad) {
		rc = sl_errf(err, -EINVAL, "%s: max_open_conns and retries must be numbers from 1 "
			     "to 1024", u.redacted);
		goto out;
	}
	uint64_t retry_s = 60;
	if ((rc = sl_conf_u64(m->conf, "meta-retry-seconds", &retry_s, err)))
		goto out;
	if (retry_s > 86400) {
		rc = sl_errf(err, -EINVAL, "meta-retry-seconds must be at most 86400, not %llu",
			     (unsigned long long)retry_s);
		goto out;
	}
	struct sl_sql_pool_conf pc = {.size = size, .attempts = attempts, .retry_s = (int)retry_s,
				      .log = m->log};
	pthread_mutex_init(&b->lock, NULL);
	rc = sl_sql_pool_new(b->d, &u, &pc, &b->pool, err);
	if (rc)
		pthread_mutex_destroy(&b->lock);
out:
	sl_sql_url_free(&u);
	return rc;
}

static void sql_cleanup(struct sl_meta *m)
{
	struct sqlbe *b = be_of(m);
	if (!b->pool)
		return;
	sl_sql_pool_free(b->pool);
	b->pool = NULL;
	free(b->info);
	pthread_mutex_destroy(&b->lock);
}

/* ---- volume ---------------------------------------------------------------------------------- */

/* A database without our tables is "no volume", not an I/O error; drivers report a missing
 * table as a generic error, so recognise the engines' own wording. */
static bool missing_table(const struct sl_err *err, int rc)
{
	if (rc == -ENOENT)
		return true;
	return err && rc == -EIO && strstr(err->msg, "jfs_setting") &&
	       (strstr(err->msg, "no such table") || strstr(err->msg, "doesn't exist"));
}

struct load_arg {
	const char *name; /* of the jfs_setting row */
	char *json;       /* its value */
};

static int load_op(struct tx *t, void *arg)
{
	struct load_arg *a = arg;
	free(a->json);
	a->json = NULL;
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, "SELECT value FROM jfs_setting WHERE name = ?", "t", a->name);
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	a->json = col_dup(t, s, 0, NULL);
	t->d->finalize(s);
	return a->json ? 0 : nomem(t);
}

static int sql_get_setting(struct sl_meta *m, const char *name, char **value,
			   struct sl_err *err)
{
	*value = NULL;
	struct load_arg a = {.name = name};
	int rc = run(m, false, load_op, &a, err);
	if (rc)
		free(a.json);
	else
		*value = a.json;
	return rc;
}

struct setting_arg {
	const char *name, *value;
};

static int add_setting_op(struct tx *t, void *arg)
{
	struct setting_arg *a = arg;
	return q_exec(t, NULL, "INSERT INTO jfs_setting (name, value) VALUES (?, ?)", "tt", a->name,
		      a->value);
}

static int sql_add_setting(struct sl_meta *m, const char *name, const char *value,
			   struct sl_err *err)
{
	struct setting_arg a = {name, value};
	return run(m, true, add_setting_op, &a, err);
}

static int sql_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	*json = NULL;
	struct load_arg a = {.name = "format"};
	int rc = run(m, false, load_op, &a, err);
	if (rc && missing_table(err, rc)) {
		sl_err_clear(err);
		sl_errf(err, -ENOENT, "no volume is formatted in %s", m->url_redacted);
		return sl_err_internal(err, -ENOENT);
	}
	if (rc) {
		free(a.json);
		return rc;
	}
	*json = a.json;
	return 0;
}

struct format_arg {
	const char *json;
	const struct sl_attr *root;
	bool force;
};

/* Inserts a node unless a half-cleaned database still has it. */
static int node_insert_missing(struct tx *t, sl_ino ino, const struct sl_attr *a)
{
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, "SELECT inode FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	return rc ? 0 : node_insert(t, ino, a);
}

static int format_op(struct tx *t, void *arg)
{
	struct format_arg *a = arg;
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, buf, "SELECT name FROM jfs_setting WHERE name = ?"), "t",
		       "format");
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	if (rc > 0) {
		if (!a->force)
			return sl_errf(t->err, -EEXIST, "a volume is already formatted in %s",
				       t->m->url_redacted);
		return q_exec(t, NULL, "UPDATE jfs_setting SET value = ? WHERE name = ?", "tt",
			      a->json, "format");
	}
	if ((rc = q_exec(t, NULL, "INSERT INTO jfs_setting (name, value) VALUES (?, ?)", "tt",
			 "format", a->json)))
		return rc;
	static const struct {
		const char *name;
		int64_t value;
	} counters[] = {
		{"nextInode", 2}, /* 1 is the root */
		{"nextChunk", 1},
		{"nextSession", 0},
		{"usedSpace", 0},
		{"totalInodes", 0},
		{"nextCleanupSlices", 0},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		/* A half-cleaned database may still hold counters: keep their values. */
		rc = q_row(t, &s, "SELECT value FROM jfs_counter WHERE name = ?", "t",
			   counters[i].name);
		if (rc < 0)
			return rc;
		t->d->finalize(s);
		if (!rc && (rc = q_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)",
					"ti", counters[i].name, counters[i].value)))
			return rc;
	}
	struct sl_attr root = *a->root;
	root.type = SL_TYPE_DIR;
	root.parent = SL_ROOT_INO;
	if (!root.nlink)
		root.nlink = 2;
	if (!root.length)
		root.length = DIR_SPACE;
	/* The trash directory exists from the start, as juicefs creates it; Sluice itself deletes
	 * directly but parks directory trees there while it empties them. */
	struct sl_attr trash = root;
	trash.mode = 0555;
	trash.uid = trash.gid = 0;
	trash.nlink = 2;
	trash.flags = 0;
	if ((rc = node_insert_missing(t, SL_ROOT_INO, &root)))
		return rc;
	return node_insert_missing(t, SL_TRASH_INO, &trash);
}

static int sql_format(struct sl_meta *m, const char *json, const struct sl_attr *root, bool force,
		      struct sl_err *err)
{
	struct sqlbe *b = be_of(m);
	struct sl_sql_conn *c;
	/* DDL outside the transaction: MySQL commits implicitly around it anyway. */
	int rc = sl_sql_pool_get(b->pool, &c, err);
	if (rc)
		return rc;
	for (const char *const *ddl = b->d->schema; !rc && *ddl; ddl++)
		rc = b->d->exec(c, *ddl, err);
	sl_sql_pool_put(b->pool, c, rc == -ENOTCONN);
	if (rc)
		return sl_err_wrap(err, "creating the tables in %s", m->url_redacted);
	struct format_arg a = {.json = json, .root = root, .force = force};
	return run(m, true, format_op, &a, err);
}

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
	int rc = counter_add(t, "nextSession", 1, &v);
	if (rc)
		return rc;
	a->sid = (uint64_t)v;
	return q_exec(t, NULL, "INSERT INTO jfs_session2 (sid, expire, info) VALUES (?, ?, ?)",
		      "iib", v, a->expire, a->info, strlen(a->info));
}

static int sql_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s,
			   uint64_t *sid, struct sl_err *err)
{
	struct sqlbe *b = be_of(m);
	struct session_arg a = {.info = info_json ? info_json : "{}", .expire = expire_s};
	int rc = run(m, true, new_session_op, &a, err);
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
	int rc = q_exec(t, &n, "UPDATE jfs_session2 SET expire = ? WHERE sid = ?", "ii", a->expire,
			(int64_t)a->sid);
	if (rc || n)
		return rc;
	/* Another client found us stale and cleaned the session up: register it again, as juicefs
	 * does, so that the others see this client alive. */
	return q_exec(t, NULL, "INSERT INTO jfs_session2 (sid, expire, info) VALUES (?, ?, ?)",
		      "iib", (int64_t)a->sid, a->expire, a->info, strlen(a->info));
}

static int sql_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
			       struct sl_err *err)
{
	struct sqlbe *b = be_of(m);
	pthread_mutex_lock(&b->lock);
	char *info = strdup(b->info ? b->info : "{}");
	pthread_mutex_unlock(&b->lock);
	if (!info)
		return sl_errf(err, -ENOMEM, "out of memory");
	struct session_arg a = {.info = info, .expire = expire_s, .sid = sid};
	int rc = run(m, true, refresh_session_op, &a, err);
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
};

/* Turns a sustained inode of session sid into a jfs_delfile row (its data is deleted later). */
static int unsustain(struct tx *t, uint64_t sid, sl_ino ino, struct acct *ac, bool *orphan)
{
	struct sl_attr a;
	int rc = node_get(t, ino, true, &a);
	if (rc == -ENOENT) {
		sl_err_clear(t->err);
		rc = 0;
	} else if (!rc) {
		rc = q_exec(t, NULL, "INSERT INTO jfs_delfile (inode, length, expire) VALUES (?, ?, ?)",
			    "iii", (int64_t)ino, (int64_t)a.length, now_ns() / 1000000000LL);
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
		acct_total(ac, -jfs_space(a.length), -1);
		if (orphan)
			*orphan = true;
	}
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_sustained WHERE sid = ? AND inode = ?", "ii",
			    (int64_t)sid, (int64_t)ino);
	return rc;
}

static int close_session_op(struct tx *t, void *arg)
{
	struct close_session_arg *a = arg;
	acct_reset(&a->ac);
	sl_ino *inos = NULL;
	size_t n = 0, cap = 0;
	struct sl_sql_stmt *s;
	int rc = q_open(t, &s, "SELECT inode FROM jfs_sustained WHERE sid = ?", "i", (int64_t)a->sid);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			sl_ino *ni = realloc(inos, nc * sizeof(*ni));
			if (!ni) {
				rc = nomem(t);
				break;
			}
			inos = ni;
			cap = nc;
		}
		inos[n++] = col_u64(t, s, 0);
		rc = 0;
	}
	if (s)
		t->d->finalize(s);
	for (size_t i = 0; !rc && i < n; i++)
		rc = unsustain(t, a->sid, inos[i], &a->ac, NULL);
	free(inos);
	if (!rc)
		rc = sl_sql_lease_drop_session(t, a->sid);
	static const char *const drops[] = {
		"DELETE FROM jfs_flock WHERE sid = ?",
		"DELETE FROM jfs_plock WHERE sid = ?",
		"DELETE FROM jfs_session2 WHERE sid = ?",
	};
	for (size_t i = 0; !rc && i < sizeof(drops) / sizeof(drops[0]); i++)
		rc = q_exec(t, NULL, drops[i], "i", (int64_t)a->sid);
	return rc;
}

static int sql_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	struct close_session_arg a = {.sid = sid};
	int rc = sl_sql_lease_ready(m, err);
	if (!rc)
		rc = run(m, true, close_session_op, &a, err);
	if (!rc)
		acct_apply(m, &a.ac);
	acct_free(&a.ac);
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
	int rc = a->sid ? q_open(t, &s, "SELECT sid, expire, info FROM jfs_session2 WHERE sid = ?",
				 "i", (int64_t)a->sid)
			: q_open(t, &s, "SELECT sid, expire, info FROM jfs_session2 ORDER BY sid", "");
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 8;
			struct session_row *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		struct session_row *r = &a->rows[a->n];
		r->sid = col_u64(t, s, 0);
		r->expire = t->d->col_i64(s, 1);
		r->info = col_dup(t, s, 2, NULL);
		if (!r->info) {
			rc = nomem(t);
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
	int rc = run(m, false, list_sessions_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++) {
		struct sl_session_info si = {a.rows[i].sid, a.rows[i].expire, a.rows[i].info};
		if (cb(arg, &si))
			break;
	}
	session_rows_free(&a);
	free(a.rows);
	return rc;
}

static int sql_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
			     struct sl_err *err)
{
	return sessions(m, 0, cb, arg, err);
}

static int sql_get_session(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
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
	return counter_add(t, a->name, a->delta, &a->value);
}

static int sql_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			    struct sl_err *err)
{
	struct counter_arg a = {.name = name, .delta = delta};
	int rc = run(m, true, incr_counter_op, &a, err);
	if (!rc && value)
		*value = a.value;
	return rc;
}

/* The space expression of one entry n joined as juicefs's calcDirStat counts it: align4K of a
 * file's length, 4 KiB for anything else. MySQL's '/' would not truncate, so no division. */
#define ENTRY_SPACE "CASE WHEN n.type = 1 AND n.length > 0 " \
	"THEN n.length + 4095 - (n.length + 4095) % 4096 ELSE 4096 END"

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
		int rc = q_exec(t, &changed,
				"UPDATE jfs_dir_stats SET data_length = data_length + ?, "
				"used_space = used_space + ?, used_inodes = used_inodes + ? "
				"WHERE inode = ?",
				"iiii", a->length[i], a->space[i], a->inodes[i], (int64_t)a->inos[i]);
		if (rc)
			return rc;
		if (changed)
			continue;
		/* No row yet (juicefs's format does not write one for the root, and older clients
		 * none at all): count the directory's entries, which already include this delta,
		 * as juicefs does. */
		struct sl_attr d;
		rc = node_get(t, a->inos[i], false, &d);
		if (rc == -ENOENT || (!rc && d.type != SL_TYPE_DIR)) {
			sl_err_clear(t->err);
			continue;
		}
		if (rc)
			return rc;
		struct sl_sql_stmt *s;
		rc = q_row(t, &s,
			   "SELECT COUNT(e.inode), SUM(CASE WHEN n.type = 1 THEN n.length ELSE 0 END), "
			   "SUM(" ENTRY_SPACE ") FROM jfs_edge e LEFT JOIN jfs_node n "
			   "ON n.inode = e.inode WHERE e.parent = ?",
			   "i", (int64_t)a->inos[i]);
		if (rc < 0)
			return rc;
		int64_t cnt = 0, len = 0, space = 0;
		if (rc) {
			cnt = t->d->col_i64(s, 0);
			len = (int64_t)col_u64(t, s, 1);
			space = (int64_t)col_u64(t, s, 2);
			t->d->finalize(s);
		}
		rc = q_exec(t, NULL,
			    "INSERT INTO jfs_dir_stats (inode, data_length, used_space, used_inodes) "
			    "VALUES (?, ?, ?, ?)",
			    "iiii", (int64_t)a->inos[i], len, space, cnt);
		if (rc)
			return rc;
	}
	return 0;
}

static int sql_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
				const int64_t *space, const int64_t *inodes, size_t n,
				struct sl_err *err)
{
	struct dir_stats_arg a = {inos, length, space, inodes, n};
	return n ? run(m, true, dir_stats_op, &a, err) : 0;
}

/* ---- namespace: lookups ---------------------------------------------------------------------- */

struct getattr_arg {
	sl_ino ino;
	struct sl_attr attr;
};
static int getattr_op(struct tx *t, void *arg);

struct resolve_arg {
	char **names;     /* components of the path */
	size_t n;
	sl_ino *inos;     /* [0..found): inode at each depth (0: the root) */
	struct sl_attr *attrs;
	bool *valid;      /* the node row exists */
	size_t found;
};

/* One query walks the path from the root: the components are a small table (d, name), and a
 * recursive CTE follows jfs_edge one depth at a time, so the walk stops where a name is missing
 * (or below a file, which has no entries). The node of every step comes back, so that the caller
 * can tell ENOENT from ENOTDIR and check search permission on each directory. */
static int resolve_op(struct tx *t, void *arg)
{
	struct resolve_arg *a = arg;
	a->found = 0;
	size_t cap = 512 + a->n * 24;
	char *sql = malloc(cap);
	if (!sql)
		return nomem(t);
	size_t len = (size_t)snprintf(sql, cap, "WITH RECURSIVE comps(d, name) AS (");
	for (size_t i = 0; i < a->n; i++)
		len += (size_t)snprintf(sql + len, cap - len, "%sSELECT %zu, ?", i ? " UNION ALL " : "",
					i + 1);
	snprintf(sql + len, cap - len,
		 "), walk(d, ino) AS (SELECT 0, inode FROM jfs_node WHERE inode = 1 UNION ALL "
		 /* The name comes from a scalar subquery, not a join with comps: MariaDB would
		  * otherwise join jfs_edge first and use only the parent half of its unique key,
		  * scanning every entry of each directory on the path. */
		 "SELECT w.d + 1, e.inode FROM walk w JOIN jfs_edge e ON e.parent = w.ino AND "
		 "e.name = (SELECT c.name FROM comps c WHERE c.d = w.d + 1)) "
		 "SELECT w.d, w.ino, " NODE_COLS_N " FROM walk w LEFT JOIN jfs_node n "
		 "ON n.inode = w.ino ORDER BY w.d");
	struct sl_sql_stmt *s = NULL;
	int rc = t->d->prepare(t->c, sql, &s, t->err);
	for (size_t i = 0; !rc && i < a->n; i++)
		if (t->d->bind_blob(s, (int)i + 1, a->names[i], strlen(a->names[i])))
			rc = sl_errf(t->err, -EIO, "binding a path component");
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		size_t d = (size_t)t->d->col_i64(s, 0);
		if (d != a->found || d > a->n) /* cannot happen: names are unique per directory */
			continue;
		a->inos[d] = col_u64(t, s, 1);
		a->valid[d] = !t->d->col_null(s, 2);
		if (a->valid[d])
			node_row(t, s, 2, NULL, &a->attrs[d]);
		a->found = d + 1;
	}
	t->d->finalize(s);
	free(sql);
	return rc;
}

/* "/a/b" for the first n components, for messages. */
static const char *path_prefix(char **names, size_t n, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = 0;
	if (!n)
		snprintf(buf, size, "/");
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "/%s", names[i]);
	return buf;
}

static int sql_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
		       sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	if (!path || path[0] != '/')
		return sl_errf(err, -EINVAL, "path '%s' is not absolute", path ? path : "");
	char *copy = strdup(path);
	size_t maxn = 1;
	for (const char *p = path; *p; p++)
		maxn += *p == '/';
	struct resolve_arg a = {0};
	a.names = calloc(maxn, sizeof(char *));
	a.inos = calloc(maxn + 1, sizeof(sl_ino));
	a.attrs = calloc(maxn + 1, sizeof(struct sl_attr));
	a.valid = calloc(maxn + 1, sizeof(bool));
	int rc = 0;
	if (!copy || !a.names || !a.inos || !a.attrs || !a.valid) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			rc = sl_errf(err, -EINVAL, "path '%s' contains '..'", path);
			goto out;
		}
		if (strlen(c) > SL_NAME_MAX) {
			rc = sl_errf(err, -ENAMETOOLONG, "a name in path '%.200s' is longer than %d "
				     "bytes", path, SL_NAME_MAX);
			goto out;
		}
		a.names[a.n++] = c;
	}
	if (a.n == 0) { /* the root itself */
		struct getattr_arg g = {.ino = SL_ROOT_INO};
		if (!(rc = run(m, false, getattr_op, &g, err))) {
			*ino = SL_ROOT_INO;
			*attr = g.attr;
		}
		goto out;
	}
	if ((rc = run(m, false, resolve_op, &a, err)))
		goto out;
	char pbuf[1024];
	if (!a.found || !a.valid[0]) {
		rc = sl_errf(err, -EIO, "the root directory (inode 1) is missing in %s",
			     m->url_redacted);
		goto out;
	}
	for (size_t i = 0; i < a.found; i++) {
		if (!a.valid[i]) {
			rc = sl_errf(err, -EIO, "%s: entry points to inode %" PRIu64 ", which does not "
				     "exist (run juicefs fsck)",
				     path_prefix(a.names, i, pbuf, sizeof(pbuf)), a.inos[i]);
			goto out;
		}
		if (i == a.n)
			break;
		if (a.attrs[i].type != SL_TYPE_DIR) {
			rc = sl_errf(err, -ENOTDIR, "%s is not a directory",
				     path_prefix(a.names, i, pbuf, sizeof(pbuf)));
			goto out;
		}
		if (sl_meta_access(u, &a.attrs[i], SL_MAY_EXEC)) {
			rc = sl_errf(err, -EACCES, "permission denied: cannot search %s",
				     path_prefix(a.names, i, pbuf, sizeof(pbuf)));
			goto out;
		}
	}
	if (a.found <= a.n) {
		rc = sl_errf(err, -ENOENT, "%s does not exist",
			     path_prefix(a.names, a.found, pbuf, sizeof(pbuf)));
		goto out;
	}
	*ino = a.inos[a.n];
	*attr = a.attrs[a.n];
out:
	free(copy);
	free(a.names);
	free(a.inos);
	free(a.attrs);
	free(a.valid);
	return rc;
}

struct lookup_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	sl_ino ino;
	struct sl_attr attr;
};

static int lookup_op(struct tx *t, void *arg)
{
	struct lookup_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s,
		       "SELECT p.type, p.mode, p.uid, p.gid, e.inode, e.type, " NODE_COLS_N
		       " FROM jfs_node p LEFT JOIN jfs_edge e ON e.parent = p.inode AND e.name = ? "
		       "LEFT JOIN jfs_node n ON n.inode = e.inode WHERE p.inode = ?",
		       "bi", a->name, strlen(a->name), (int64_t)a->parent);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " does not exist", a->parent);
	struct sl_attr p = {.type = (uint8_t)col_u64(t, s, 0),
			    .mode = (uint16_t)(col_u64(t, s, 1) & 07777),
			    .uid = (uint32_t)col_u64(t, s, 2),
			    .gid = (uint32_t)col_u64(t, s, 3)};
	bool exists = !t->d->col_null(s, 4), corrupt = t->d->col_null(s, 6);
	a->ino = col_u64(t, s, 4);
	if (exists && !corrupt)
		node_row(t, s, 6, NULL, &a->attr);
	else if (exists) /* the entry without its node: report what the entry says */
		a->attr = (struct sl_attr){.type = (uint8_t)col_u64(t, s, 5), .parent = a->parent};
	t->d->finalize(s);
	if (p.type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->parent);
	if (sl_meta_access(a->u, &p, SL_MAY_EXEC))
		return deny(t, "cannot search the directory", a->parent);
	if (!exists)
		return sl_errf(t->err, -ENOENT, "'%s' does not exist in directory %" PRIu64, a->name,
			       a->parent);
	return 0;
}

static int sql_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		      const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct lookup_arg a = {.u = u, .parent = parent, .name = name};
	int rc = check_name(name, err);
	if (!rc)
		rc = run(m, false, lookup_op, &a, err);
	if (!rc) {
		*ino = a.ino;
		*attr = a.attr;
	}
	return rc;
}

static int getattr_op(struct tx *t, void *arg)
{
	struct getattr_arg *a = arg;
	return node_get(t, a->ino, false, &a->attr);
}

static int sql_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       struct sl_attr *attr, struct sl_err *err)
{
	(void)u;
	struct getattr_arg a = {.ino = ino};
	int rc = run(m, false, getattr_op, &a, err);
	if (!rc)
		*attr = a.attr;
	return rc;
}

struct setattr_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	int set;
	const struct sl_attr *in;
	struct sl_attr out;
};

static bool in_group(const struct sl_meta_user *u, uint32_t gid)
{
	for (int i = 0; i < u->ngids && i < SL_MAX_GROUPS; i++)
		if (u->gids[i] == gid)
			return true;
	return false;
}

/* Hadoop (HDFS) rules: chmod by the owner; chown only by a superuser; chgrp by the owner to one
 * of its own groups; setTimes by the owner or anyone who may write (HDFS checks WRITE). A
 * refusal is EACCES (AccessControlException), where POSIX would say EPERM. */
static int setattr_op(struct tx *t, void *arg)
{
	struct setattr_arg *a = arg;
	struct sl_attr *n = &a->out;
	int rc = node_get(t, a->ino, true, n);
	if (rc)
		return rc;
	const struct sl_meta_user *u = a->u;
	bool su = superuser(u), owner = su || u->uid == n->uid;
	if (n->flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->ino);
	if ((a->set & SL_SET_MODE) && !owner)
		return deny(t, "only the owner may change the permissions", a->ino);
	if ((a->set & SL_SET_UID) && a->in->uid != n->uid && !su)
		return deny(t, "only a superuser may change the owner", a->ino);
	if ((a->set & (SL_SET_UID | SL_SET_GID)) && !owner)
		return deny(t, "only the owner may change the owner or group", a->ino);
	if ((a->set & SL_SET_GID) && a->in->gid != n->gid && !su && !in_group(u, a->in->gid))
		return deny(t, "the new group is not one of the caller's groups", a->ino);
	if ((a->set & (SL_SET_ATIME | SL_SET_MTIME)) && !owner &&
	    sl_meta_access(u, n, SL_MAY_WRITE))
		return deny(t, "cannot change the times", a->ino);
	if (a->set & SL_SET_MODE)
		n->mode = a->in->mode & 07777;
	if (a->set & SL_SET_UID)
		n->uid = a->in->uid;
	if (a->set & SL_SET_GID)
		n->gid = a->in->gid;
	if (a->set & SL_SET_ATIME)
		n->atime_ns = a->in->atime_ns;
	if (a->set & SL_SET_MTIME)
		n->mtime_ns = a->in->mtime_ns;
	n->ctime_ns = now_ns();
	return q_exec(t, NULL,
		      "UPDATE jfs_node SET mode = ?, uid = ?, gid = ?, atime = ?, atimensec = ?, "
		      "mtime = ?, mtimensec = ?, ctime = ?, ctimensec = ? WHERE inode = ?",
		      "iiiiiiiiii", (int64_t)n->mode, (int64_t)n->uid, (int64_t)n->gid,
		      sl_time_us(n->atime_ns), sl_time_nsrem(n->atime_ns), sl_time_us(n->mtime_ns),
		      sl_time_nsrem(n->mtime_ns), sl_time_us(n->ctime_ns),
		      sl_time_nsrem(n->ctime_ns), (int64_t)a->ino);
}

static int sql_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		       const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct setattr_arg a = {.u = u, .ino = ino, .set = set, .in = in};
	int rc = run(m, true, setattr_op, &a, err);
	if (!rc && out)
		*out = a.out;
	return rc;
}

/* Whether u may search every directory from the root down to dir (dir included): one query walks
 * up the parent column. Sets *ok; a chain that breaks off (a missing node) or loops is not ok. */
static int search_up(struct tx *t, const struct sl_meta_user *u, sl_ino dir, bool *ok)
{
	struct sl_sql_stmt *s;
	int rc = q_open(t, &s,
			"WITH RECURSIVE up(ino, d) AS (SELECT ?, 0 UNION ALL SELECT n.parent, up.d + 1 "
			"FROM jfs_node n JOIN up ON n.inode = up.ino WHERE up.ino <> 1 AND up.d < 1000) "
			"SELECT up.ino, n.type, n.mode, n.uid, n.gid FROM up LEFT JOIN jfs_node n "
			"ON n.inode = up.ino",
			"i", (int64_t)dir);
	bool root = false, denied = false;
	while (!rc && !denied && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		struct sl_attr d = {.type = (uint8_t)col_u64(t, s, 1),
				    .mode = (uint16_t)(col_u64(t, s, 2) & 07777),
				    .uid = (uint32_t)col_u64(t, s, 3),
				    .gid = (uint32_t)col_u64(t, s, 4)};
		denied = t->d->col_null(s, 1) || d.type != SL_TYPE_DIR ||
			 sl_meta_access(u, &d, SL_MAY_EXEC);
		root = root || col_u64(t, s, 0) == SL_ROOT_INO;
	}
	t->d->finalize(s);
	*ok = rc >= 0 && root && !denied;
	return rc < 0 ? rc : 0;
}

struct reach_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
};

static int reach_op(struct tx *t, void *arg)
{
	struct reach_arg *a = arg;
	struct sl_attr n;
	int rc = node_get(t, a->ino, false, &n);
	if (rc || a->ino == SL_ROOT_INO)
		return rc;
	bool ok = false;
	if (n.parent) /* hard-linked files have none: any of their entries will do */
		return (rc = search_up(t, a->u, n.parent, &ok)) ? rc : ok ? 0
			: deny(t, "cannot reach it from the root", a->ino);
	struct sl_sql_stmt *s;
	if ((rc = q_open(t, &s, "SELECT parent FROM jfs_edge WHERE inode = ?", "i",
			 (int64_t)a->ino)))
		return rc;
	sl_ino parents[16];
	size_t np = 0;
	while (np < 16 && (rc = t->d->step(s, t->err)) > 0)
		parents[np++] = col_u64(t, s, 0);
	t->d->finalize(s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; !rc && !ok && i < np; i++)
		rc = search_up(t, a->u, parents[i], &ok);
	return rc ? rc : ok ? 0 : deny(t, "cannot reach it from the root", a->ino);
}

static int sql_reach(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     struct sl_err *err)
{
	if (superuser(u))
		return 0;
	struct reach_arg a = {.u = u, .ino = ino};
	return run(m, false, reach_op, &a, err);
}

/* ---- namespace: changes ---------------------------------------------------------------------- */

struct mknod_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	uint8_t type;
	uint16_t mode;
	int flags;
	const char *target;
	sl_ino ino; /* allocated before the transaction (except in the trash) */
	struct sl_attr attr;
	struct sl_removed replaced;
	struct acct ac;
};

static int mknod_op(struct tx *t, void *arg)
{
	struct mknod_arg *a = arg;
	struct sl_attr p;
	memset(&a->replaced, 0, sizeof(a->replaced));
	acct_reset(&a->ac);
	int rc = dir_for_change(t, a->u, a->parent, &p);
	if (rc)
		return rc;
	if (p.parent > SL_TRASH_INO) /* a directory that was deleted into the trash */
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " is being deleted", a->parent);
	int64_t now = now_ns();
	sl_ino old;
	uint8_t otype;
	rc = edge_get(t, a->parent, a->name, true, &old, &otype);
	if (rc && rc != -ENOENT)
		return rc;
	bool replace = false;
	if (!rc) {
		struct sl_attr oa;
		int grc = node_get(t, old, true, &oa);
		if (grc == -ENOENT) {
			sl_err_clear(t->err);
			oa = (struct sl_attr){.type = otype, .parent = a->parent};
		} else if (grc) {
			return grc;
		}
		if (!(a->flags & SL_MKNOD_REPLACE) || otype == SL_TYPE_DIR || a->type == SL_TYPE_DIR) {
			a->ino = old;
			a->attr = oa;
			return sl_errf(t->err, -EEXIST, "'%s' exists in directory %" PRIu64, a->name,
				       a->parent);
		}
		if (sticky_denies(a->u, &p, &oa))
			return deny(t, "sticky directory: cannot replace another user's file",
				    a->parent);
		if (oa.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
			return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
		if (grc == 0 && (rc = drop_link(t, a->parent, old, &oa, now, &a->replaced, &a->ac)))
			return rc;
		if (grc)
			rc = acct_dir(t, &a->ac, a->parent, 0, -DIR_SPACE, -1);
		if (rc)
			return rc;
		replace = true;
	}
	if (a->parent == SL_TRASH_INO) {
		/* juicefs numbers the entries of the trash from their own counter */
		int64_t v;
		if ((rc = counter_add(t, "nextTrash", 1, &v)))
			return rc;
		a->ino = SL_TRASH_INO + (uint64_t)v;
	}
	struct sl_attr *n = &a->attr;
	memset(n, 0, sizeof(*n));
	n->type = a->type;
	n->mode = a->mode & 07777;
	n->uid = a->u ? a->u->uid : 0;
	n->gid = p.gid; /* Hadoop: a new inode takes the group of its directory (BSD rule) */
	n->flags = p.flags & SL_FLAG_SKIPTRASH;
	n->atime_ns = n->mtime_ns = n->ctime_ns = now;
	n->nlink = a->type == SL_TYPE_DIR ? 2 : 1;
	n->length = a->type == SL_TYPE_DIR ? DIR_SPACE
		    : a->type == SL_TYPE_SYMLINK ? strlen(a->target) : 0;
	n->parent = a->parent;
	if (replace)
		rc = q_exec(t, NULL, "UPDATE jfs_edge SET inode = ?, type = ? WHERE parent = ? AND "
			    "name = ?", "iiib", (int64_t)a->ino, (int64_t)a->type,
			    (int64_t)a->parent, a->name, strlen(a->name));
	else
		rc = q_exec(t, NULL, "INSERT INTO jfs_edge (parent, name, inode, type) VALUES "
			    "(?, ?, ?, ?)", "ibii", (int64_t)a->parent, a->name, strlen(a->name),
			    (int64_t)a->ino, (int64_t)a->type);
	if (!rc)
		rc = node_insert(t, a->ino, n);
	if (!rc && a->type == SL_TYPE_SYMLINK)
		rc = q_exec(t, NULL, "INSERT INTO jfs_symlink (inode, target) VALUES (?, ?)", "ib",
			    (int64_t)a->ino, a->target, strlen(a->target));
	if (!rc && a->type == SL_TYPE_DIR)
		rc = q_exec(t, NULL, "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
			    "used_inodes) VALUES (?, 0, 0, 0)", "i", (int64_t)a->ino);
	/* juicefs leaves the trash directory itself untouched when it adds to it */
	if (!rc && a->parent != SL_TRASH_INO)
		rc = dir_touch(t, a->parent, a->type == SL_TYPE_DIR ? 1 : 0, now);
	if (!rc)
		rc = acct_dir(t, &a->ac, a->parent, 0, DIR_SPACE, 1);
	acct_total(&a->ac, DIR_SPACE, 1);
	return rc;
}

static int sql_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		     const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
		     sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
		     struct sl_err *err)
{
	struct mknod_arg a = {.u = u, .parent = parent, .name = name, .type = type, .mode = mode,
			      .flags = flags, .target = target};
	if (replaced)
		memset(replaced, 0, sizeof(*replaced));
	int rc = check_name(name, err);
	if (!rc)
		rc = check_reserved(parent, name, err);
	if (rc)
		return rc;
	if (type != SL_TYPE_FILE && type != SL_TYPE_DIR && type != SL_TYPE_SYMLINK)
		return sl_errf(err, -EINVAL, "cannot create inodes of type %d", type);
	if (type == SL_TYPE_SYMLINK && (!target || !*target || strlen(target) > 4096))
		return sl_errf(err, -EINVAL, "a symlink needs a target of 1 to 4096 bytes");
	if (parent != SL_TRASH_INO && (rc = sl_meta_next_inode(m, &a.ino, err)))
		return rc;
	rc = run(m, true, mknod_op, &a, err);
	if (!rc)
		acct_apply(m, &a.ac);
	acct_free(&a.ac);
	if (!rc || rc == -EEXIST) {
		if (ino)
			*ino = a.ino;
		if (attr)
			*attr = a.attr;
	}
	if (!rc && replaced)
		*replaced = a.replaced;
	return rc;
}

struct unlink_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	bool dir; /* rmdir */
	struct sl_removed removed;
	struct acct ac;
};

/* The entry name of parent that u is about to remove: parent (*p) writable and not append-only,
 * the entry locked for update. */
static int entry_to_remove(struct tx *t, const struct sl_meta_user *u, sl_ino parent,
			   const char *name, struct sl_attr *p, sl_ino *ino, uint8_t *type)
{
	int rc = dir_for_change(t, u, parent, p);
	if (rc)
		return rc;
	if (p->flags & SL_FLAG_APPEND)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is append-only", parent);
	if ((rc = edge_get(t, parent, name, true, ino, type)))
		return rc == -ENOENT ? sl_errf(t->err, -ENOENT, "'%s' does not exist in directory "
					       "%" PRIu64, name, parent) : rc;
	return 0;
}

static int unlink_op(struct tx *t, void *arg)
{
	struct unlink_arg *a = arg;
	memset(&a->removed, 0, sizeof(a->removed));
	acct_reset(&a->ac);
	struct sl_attr p, n;
	sl_ino ino;
	uint8_t type;
	int rc = entry_to_remove(t, a->u, a->parent, a->name, &p, &ino, &type);
	if (rc)
		return rc;
	if (a->dir && type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "'%s' is not a directory", a->name);
	if (!a->dir && type == SL_TYPE_DIR)
		return sl_errf(t->err, -EISDIR, "'%s' is a directory", a->name);
	int grc = node_get(t, ino, true, &n);
	if (grc == -ENOENT) { /* a dangling entry: remove it all the same */
		sl_err_clear(t->err);
		n = (struct sl_attr){.type = type, .nlink = 1};
	} else if (grc) {
		return grc;
	}
	if (sticky_denies(a->u, &p, &n))
		return deny(t, "sticky directory: cannot remove another user's entry", a->parent);
	if (n.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
	int64_t now = now_ns();
	if (a->dir) {
		bool empty;
		if ((rc = dir_is_empty(t, ino, &empty)))
			return rc;
		if (!empty)
			return sl_errf(t->err, -ENOTEMPTY, "directory '%s' is not empty", a->name);
		rc = drop_dir(t, a->parent, ino, &a->ac);
	} else if (grc == 0) {
		rc = drop_link(t, a->parent, ino, &n, now, &a->removed, &a->ac);
	} else {
		rc = acct_dir(t, &a->ac, a->parent, 0, -DIR_SPACE, -1);
	}
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_edge WHERE parent = ? AND name = ?", "ib",
			    (int64_t)a->parent, a->name, strlen(a->name));
	if (!rc && a->parent != SL_TRASH_INO)
		rc = dir_touch(t, a->parent, a->dir ? -1 : 0, now);
	return rc;
}

static int do_unlink(struct sl_meta *m, struct unlink_arg *a, struct sl_err *err)
{
	int rc = check_name(a->name, err);
	if (!rc)
		rc = run(m, true, unlink_op, a, err);
	if (!rc)
		acct_apply(m, &a->ac);
	acct_free(&a->ac);
	return rc;
}

static int sql_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		      const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct unlink_arg a = {.u = u, .parent = parent, .name = name};
	int rc = do_unlink(m, &a, err);
	if (removed)
		*removed = rc ? (struct sl_removed){0} : a.removed;
	return rc;
}

static int sql_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		     const char *name, struct sl_err *err)
{
	struct unlink_arg a = {.u = u, .parent = parent, .name = name, .dir = true};
	return do_unlink(m, &a, err);
}

/* True if dir is anc or lies below it, following the parent column up to the root. */
static int is_below(struct tx *t, sl_ino dir, sl_ino anc, bool *below)
{
	*below = dir == anc;
	if (*below || dir == SL_ROOT_INO)
		return 0;
	/* UNION (not UNION ALL) ends the walk even if corrupt parents form a loop. */
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s,
		       "WITH RECURSIVE up(ino) AS (SELECT parent FROM jfs_node WHERE inode = ? "
		       "UNION SELECT n.parent FROM jfs_node n JOIN up ON n.inode = up.ino "
		       "WHERE up.ino <> 1 AND n.parent IS NOT NULL AND n.parent <> 0) "
		       "SELECT ino FROM up WHERE ino = ?",
		       "ii", (int64_t)dir, (int64_t)anc);
	if (rc < 0)
		return rc;
	*below = rc > 0;
	t->d->finalize(s);
	return 0;
}

struct rename_arg {
	const struct sl_meta_user *u;
	sl_ino psrc, pdst;
	const char *nsrc, *ndst;
	int flags;
	struct sl_removed replaced;
	struct acct ac;
};

static int rename_op(struct tx *t, void *arg)
{
	struct rename_arg *a = arg;
	memset(&a->replaced, 0, sizeof(a->replaced));
	acct_reset(&a->ac);
	struct sl_attr sp, dp, sn, dn;
	int rc = dir_for_change(t, a->u, a->psrc, &sp);
	if (!rc)
		rc = dir_for_change(t, a->u, a->pdst, &dp);
	if (rc)
		return rc;
	if (sp.flags & SL_FLAG_APPEND)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is append-only", a->psrc);
	if (dp.parent > SL_TRASH_INO)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " is being deleted", a->pdst);
	sl_ino sino, dino;
	uint8_t stype, dtype;
	if ((rc = edge_get(t, a->psrc, a->nsrc, true, &sino, &stype)))
		return rc == -ENOENT ? sl_errf(t->err, -ENOENT, "'%s' does not exist in directory "
					       "%" PRIu64, a->nsrc, a->psrc) : rc;
	if (a->psrc == a->pdst && !strcmp(a->nsrc, a->ndst))
		return (a->flags & SL_RENAME_NOREPLACE)
			? sl_errf(t->err, -EEXIST, "'%s' exists", a->ndst) : 0;
	if ((rc = node_get(t, sino, true, &sn)))
		return rc;
	if (sn.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->nsrc);
	if (sticky_denies(a->u, &sp, &sn))
		return deny(t, "sticky directory: cannot move another user's entry", a->psrc);
	if (stype == SL_TYPE_DIR && a->psrc != a->pdst) {
		bool below;
		if ((rc = is_below(t, a->pdst, sino, &below)))
			return rc;
		if (below)
			return sl_errf(t->err, -EINVAL, "cannot move directory '%s' into itself",
				       a->nsrc);
	}
	int64_t now = now_ns();
	int64_t snlink = 0, dnlink = 0;
	rc = edge_get(t, a->pdst, a->ndst, true, &dino, &dtype);
	if (rc && rc != -ENOENT)
		return rc;
	if (!rc) {
		if (a->flags & SL_RENAME_NOREPLACE)
			return sl_errf(t->err, -EEXIST, "'%s' exists in directory %" PRIu64, a->ndst,
				       a->pdst);
		if (dino == sino) /* two links of one file: nothing to do, as POSIX says */
			return 0;
		int grc = node_get(t, dino, true, &dn);
		if (grc == -ENOENT) {
			sl_err_clear(t->err);
			dn = (struct sl_attr){.type = dtype, .nlink = 1};
		} else if (grc) {
			return grc;
		}
		if (stype == SL_TYPE_DIR && dtype != SL_TYPE_DIR)
			return sl_errf(t->err, -ENOTDIR, "cannot replace non-directory '%s' by a "
				       "directory", a->ndst);
		if (stype != SL_TYPE_DIR && dtype == SL_TYPE_DIR)
			return sl_errf(t->err, -EISDIR, "cannot replace directory '%s' by a "
				       "non-directory", a->ndst);
		if (dn.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
			return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->ndst);
		if (sticky_denies(a->u, &dp, &dn))
			return deny(t, "sticky directory: cannot replace another user's entry",
				    a->pdst);
		if (dtype == SL_TYPE_DIR) {
			bool empty;
			if ((rc = dir_is_empty(t, dino, &empty)))
				return rc;
			if (!empty)
				return sl_errf(t->err, -ENOTEMPTY, "directory '%s' is not empty",
					       a->ndst);
			rc = drop_dir(t, a->pdst, dino, &a->ac);
			dnlink--;
		} else if (grc == 0) {
			rc = drop_link(t, a->pdst, dino, &dn, now, &a->replaced, &a->ac);
		} else {
			rc = acct_dir(t, &a->ac, a->pdst, 0, -DIR_SPACE, -1);
		}
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_edge WHERE parent = ? AND name = ?", "ib",
				    (int64_t)a->pdst, a->ndst, strlen(a->ndst));
		if (rc)
			return rc;
	} else {
		sl_err_clear(t->err);
	}
	if ((rc = q_exec(t, NULL, "UPDATE jfs_edge SET parent = ?, name = ? WHERE parent = ? AND "
			 "name = ?", "ibib", (int64_t)a->pdst, a->ndst, strlen(a->ndst),
			 (int64_t)a->psrc, a->nsrc, strlen(a->nsrc))))
		return rc;
	sl_ino newparent = sn.parent;
	if (a->psrc != a->pdst) {
		if (stype == SL_TYPE_DIR) {
			snlink--;
			dnlink++;
		}
		if (sn.parent) /* hard-linked files keep parent 0 */
			newparent = a->pdst;
		uint64_t flen = stype == SL_TYPE_FILE ? sn.length : 0;
		int64_t space = stype == SL_TYPE_FILE ? jfs_space(flen) : DIR_SPACE;
		if ((rc = acct_dir(t, &a->ac, a->psrc, -(int64_t)flen, -space, -1)) ||
		    (rc = acct_dir(t, &a->ac, a->pdst, (int64_t)flen, space, 1)))
			return rc;
	}
	if ((rc = q_exec(t, NULL, "UPDATE jfs_node SET ctime = ?, ctimensec = ?, parent = ? "
			 "WHERE inode = ?", "iiii", sl_time_us(now), sl_time_nsrem(now),
			 (int64_t)newparent, (int64_t)sino)))
		return rc;
	/* Lower inode first, so that two renames never wait for each other in a cycle. */
	if (a->psrc == a->pdst)
		return a->psrc == SL_TRASH_INO ? 0 : dir_touch(t, a->psrc, snlink + dnlink, now);
	sl_ino first = a->psrc < a->pdst ? a->psrc : a->pdst;
	sl_ino second = first == a->psrc ? a->pdst : a->psrc;
	if (first != SL_TRASH_INO &&
	    (rc = dir_touch(t, first, first == a->psrc ? snlink : dnlink, now)))
		return rc;
	if (second != SL_TRASH_INO)
		rc = dir_touch(t, second, second == a->psrc ? snlink : dnlink, now);
	return rc;
}

static int sql_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
		      const char *nsrc, sl_ino pdst, const char *ndst, int flags,
		      struct sl_removed *replaced, struct sl_err *err)
{
	struct rename_arg a = {.u = u, .psrc = psrc, .pdst = pdst, .nsrc = nsrc, .ndst = ndst,
			       .flags = flags};
	if (replaced)
		memset(replaced, 0, sizeof(*replaced));
	int rc = check_name(nsrc, err);
	if (!rc)
		rc = check_name(ndst, err);
	if (!rc)
		rc = check_reserved(psrc, nsrc, err);
	if (!rc)
		rc = check_reserved(pdst, ndst, err);
	if (!rc && (flags & ~SL_RENAME_NOREPLACE))
		rc = sl_errf(err, -EINVAL, "unknown rename flags %#x", flags);
	if (!rc)
		rc = run(m, true, rename_op, &a, err);
	if (!rc) {
		acct_apply(m, &a.ac);
		if (replaced)
			*replaced = a.replaced;
	}
	acct_free(&a.ac);
	return rc;
}

/* ---- listing and symlinks -------------------------------------------------------------------- */

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

static void dirent_rows_clear(struct readdir_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rows[i].name);
	a->n = 0;
}

static int readdir_op(struct tx *t, void *arg)
{
	struct readdir_arg *a = arg;
	dirent_rows_clear(a);
	struct sl_attr d;
	int rc = node_get(t, a->dir, false, &d);
	if (rc)
		return rc;
	if (d.type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->dir);
	/* Hadoop: listing needs READ_EXECUTE on the directory, as HDFS checks it. */
	if (sl_meta_access(a->u, &d, SL_MAY_READ | SL_MAY_EXEC))
		return deny(t, "cannot list the directory", a->dir);
	char sql[512];
	/* Names are compared and ordered as bytes (BLOB in SQLite, VARBINARY in MySQL). */
	snprintf(sql, sizeof(sql),
		 "SELECT e.name, e.inode, e.type, " NODE_COLS_N " FROM jfs_edge e LEFT JOIN jfs_node n "
		 "ON n.inode = e.inode WHERE e.parent = ?%s ORDER BY e.name%s",
		 a->after ? " AND e.name > ?" : "", a->limit ? " LIMIT ?" : "");
	struct sl_sql_stmt *s;
	if (a->after && a->limit)
		rc = q_open(t, &s, sql, "ibi", (int64_t)a->dir, a->after, strlen(a->after),
			    (int64_t)a->limit);
	else if (a->after)
		rc = q_open(t, &s, sql, "ib", (int64_t)a->dir, a->after, strlen(a->after));
	else if (a->limit)
		rc = q_open(t, &s, sql, "ii", (int64_t)a->dir, (int64_t)a->limit);
	else
		rc = q_open(t, &s, sql, "i", (int64_t)a->dir);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct dirent_row *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		struct dirent_row *r = &a->rows[a->n];
		if (!(r->name = col_dup(t, s, 0, &r->len))) {
			rc = nomem(t);
			break;
		}
		a->n++;
		r->ino = col_u64(t, s, 1);
		if (t->d->col_null(s, 3)) /* the entry without its node */
			r->attr = (struct sl_attr){.type = (uint8_t)col_u64(t, s, 2), .parent = a->dir};
		else
			node_row(t, s, 3, NULL, &r->attr);
	}
	t->d->finalize(s);
	return rc;
}

static int sql_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
		       const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
		       struct sl_err *err)
{
	struct readdir_arg a = {.u = u, .dir = dir, .after = after, .limit = limit};
	int rc = run(m, false, readdir_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++) {
		struct sl_dirent_info e = {a.rows[i].name, a.rows[i].len, a.rows[i].ino,
					   a.rows[i].attr};
		if (cb(arg, &e))
			break;
	}
	dirent_rows_clear(&a);
	free(a.rows);
	return rc;
}

struct readlink_arg {
	sl_ino ino;
	char *target;
};

static int readlink_op(struct tx *t, void *arg)
{
	struct readlink_arg *a = arg;
	free(a->target);
	a->target = NULL;
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, "SELECT n.type, l.target FROM jfs_node n LEFT JOIN jfs_symlink l "
		       "ON l.inode = n.inode WHERE n.inode = ?", "i", (int64_t)a->ino);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist",
					     a->ino);
	rc = 0;
	if (col_u64(t, s, 0) != SL_TYPE_SYMLINK)
		rc = sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a symlink", a->ino);
	else if (t->d->col_null(s, 1))
		rc = sl_errf(t->err, -EIO, "symlink %" PRIu64 " has no target", a->ino);
	else if (!(a->target = col_dup(t, s, 1, NULL)))
		rc = nomem(t);
	t->d->finalize(s);
	return rc;
}

static int sql_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			char **target, struct sl_err *err)
{
	(void)u;
	struct readlink_arg a = {.ino = ino};
	int rc = run(m, false, readlink_op, &a, err);
	*target = rc ? NULL : a.target;
	if (rc)
		free(a.target);
	return rc;
}

struct inode_path_arg {
	sl_ino ino;
	char *path;
};

/* Walks up from the inode's first edge (jfs_edge's inode index) to the root in one query. */
static int inode_path_op(struct tx *t, void *arg)
{
	struct inode_path_arg *a = arg;
	free(a->path);
	a->path = NULL;
	if (a->ino == SL_ROOT_INO)
		return (a->path = strdup("/")) ? 0 : nomem(t);
	struct sl_sql_stmt *s;
	int rc = q_open(t, &s,
			"WITH RECURSIVE up(d, parent, name) AS (SELECT 0, parent, name FROM jfs_edge "
			"WHERE id = (SELECT MIN(id) FROM jfs_edge WHERE inode = ?) UNION ALL "
			"SELECT u.d + 1, e.parent, e.name FROM up u JOIN jfs_edge e ON e.inode = "
			"u.parent WHERE u.parent <> 1 AND u.d < 4096) "
			"SELECT d, parent, name FROM up ORDER BY d", "i", (int64_t)a->ino);
	if (rc)
		return rc;
	/* names from the file up; the path is built from the root down */
	char **names = NULL;
	size_t n = 0, cap = 0, total = 0;
	sl_ino top = 0;
	bool in_trash = false;
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				rc = nomem(t);
				break;
			}
			names = nn;
			cap = nc;
		}
		size_t len;
		if (!(names[n] = col_dup(t, s, 2, &len))) {
			rc = nomem(t);
			break;
		}
		n++;
		total += len + 1;
		top = col_u64(t, s, 1);
		in_trash |= top == SL_TRASH_INO;
	}
	t->d->finalize(s);
	if (!rc && (n == 0 || top != SL_ROOT_INO || in_trash))
		rc = sl_errf(t->err, -ENOENT, "inode %" PRIu64 " has no name under the root (it was "
			     "deleted or is in the trash)", a->ino);
	if (!rc && !(a->path = malloc(total + 1)))
		rc = nomem(t);
	if (!rc) {
		size_t off = 0;
		for (size_t i = n; i > 0; i--)
			off += (size_t)sprintf(a->path + off, "/%s", names[i - 1]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int sql_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  char **path, struct sl_err *err)
{
	(void)u; /* the core resolves the path as u */
	struct inode_path_arg a = {.ino = ino};
	int rc = run(m, false, inode_path_op, &a, err);
	*path = rc ? NULL : a.path;
	if (rc)
		free(a.path);
	return rc;
}

/* ---- removing a tree ------------------------------------------------------------------------- */

/* A recursive delete takes the whole tree out of the namespace in one transaction, by moving it
 * into the trash, then empties it there with the volume's own rights. JuiceFS's names
 * (.trash/<YYYY-MM-DD-HH>/<parent>-<inode>-<name>) let any client's trash cleaner finish the job
 * after a crash. */
struct tree_arg {
	const struct sl_meta_user *u;
	sl_ino parent;
	const char *name;
	char hour[32];
	char trash_name[SL_NAME_MAX + 1];
	sl_ino ino; /* the tree's top directory */
	struct mknod_arg hour_dir;
	struct rename_arg move;
};

/* Hadoop: deleting a tree needs read, write and search permission on every non-empty directory
 * in it, as HDFS checks it (empty ones need nothing). One query collects the directories. */
static int check_tree(struct tx *t, const struct sl_meta_user *u, sl_ino top)
{
	struct sl_sql_stmt *s;
	/* UNION (not UNION ALL) ends the walk even if corrupt entries form a loop. */
	int rc = q_open(t, &s,
			"WITH RECURSIVE sub(ino) AS (SELECT ? UNION SELECT e.inode FROM jfs_edge e "
			"JOIN sub ON e.parent = sub.ino WHERE e.type = 2) "
			"SELECT n.inode, n.mode, n.uid, n.gid FROM sub JOIN jfs_node n "
			"ON n.inode = sub.ino WHERE EXISTS (SELECT 1 FROM jfs_edge c "
			"WHERE c.parent = n.inode)",
			"i", (int64_t)top);
	sl_ino denied = 0;
	while (!rc && !denied && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		struct sl_attr d = {.type = SL_TYPE_DIR,
				    .mode = (uint16_t)(col_u64(t, s, 1) & 07777),
				    .uid = (uint32_t)col_u64(t, s, 2),
				    .gid = (uint32_t)col_u64(t, s, 3)};
		if (sl_meta_access(u, &d, SL_MAY_READ | SL_MAY_WRITE | SL_MAY_EXEC))
			denied = col_u64(t, s, 0);
	}
	t->d->finalize(s);
	if (rc < 0)
		return rc;
	return denied ? deny(t, "cannot delete inside the directory", denied) : 0;
}

static int trash_tree_op(struct tx *t, void *arg)
{
	struct tree_arg *a = arg;
	struct sl_attr p, n;
	uint8_t type;
	int rc = entry_to_remove(t, a->u, a->parent, a->name, &p, &a->ino, &type);
	if (rc)
		return rc;
	if (type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "'%s' is not a directory", a->name);
	if ((rc = node_get(t, a->ino, true, &n)))
		return rc;
	if (sticky_denies(a->u, &p, &n))
		return deny(t, "sticky directory: cannot remove another user's entry", a->parent);
	if (n.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
	if (!superuser(a->u) && (rc = check_tree(t, a->u, a->ino)))
		return rc;
	/* The hour's directory, made if missing (numbered from the trash's own counter). */
	a->hour_dir = (struct mknod_arg){.parent = SL_TRASH_INO, .name = a->hour,
					 .type = SL_TYPE_DIR, .mode = 0555};
	rc = mknod_op(t, &a->hour_dir);
	if (rc == -EEXIST) {
		sl_err_clear(t->err);
		rc = a->hour_dir.attr.type == SL_TYPE_DIR
			? 0 : sl_errf(t->err, -EIO, "trash entry %s is not a directory", a->hour);
	}
	if (rc)
		return rc;
	snprintf(a->trash_name, sizeof(a->trash_name), "%" PRIu64 "-%" PRIu64 "-%s", a->parent,
		 a->ino, a->name);
	a->move = (struct rename_arg){.psrc = a->parent, .nsrc = a->name, .pdst = a->hour_dir.ino,
				      .ndst = a->trash_name, .flags = SL_RENAME_NOREPLACE};
	return rename_op(t, &a->move);
}

/* Removes everything below dir with the volume's rights; removed files go to cb. */
static int empty_tree(struct sl_meta *m, sl_ino dir, sl_meta_removed_cb cb, void *arg,
		      struct sl_err *err, int depth)
{
	if (depth > 1000)
		return sl_errf(err, -ELOOP, "directory tree too deep");
	for (;;) {
		struct readdir_arg l = {.dir = dir, .limit = 1000};
		int rc = run(m, false, readdir_op, &l, err);
		size_t n = rc ? 0 : l.n;
		for (size_t i = 0; !rc && i < n; i++) {
			char name[SL_NAME_MAX + 1];
			snprintf(name, sizeof(name), "%.*s", (int)l.rows[i].len, l.rows[i].name);
			if (l.rows[i].attr.type == SL_TYPE_DIR) {
				rc = empty_tree(m, l.rows[i].ino, cb, arg, err, depth + 1);
				if (!rc)
					rc = sql_rmdir(m, NULL, dir, name, err);
			} else {
				struct sl_removed removed = {0};
				rc = sql_unlink(m, NULL, dir, name, &removed, err);
				if (!rc && removed.ino && cb)
					cb(arg, &removed);
			}
			if (rc == -ENOENT) { /* removed meanwhile (by a trash cleaner) */
				sl_err_clear(err);
				rc = 0;
			}
		}
		dirent_rows_clear(&l);
		free(l.rows);
		if (rc || n == 0)
			return rc;
	}
}

static int sql_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			   const char *name, sl_meta_removed_cb cb, void *arg, struct sl_err *err)
{
	struct tree_arg a = {.u = u, .parent = parent, .name = name};
	int rc = check_name(name, err);
	if (!rc)
		rc = check_reserved(parent, name, err);
	if (rc)
		return rc;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(a.hour, sizeof(a.hour), "%Y-%m-%d-%H", &tm);
	rc = run(m, true, trash_tree_op, &a, err);
	if (!rc) {
		acct_apply(m, &a.hour_dir.ac);
		acct_apply(m, &a.move.ac);
	}
	acct_free(&a.hour_dir.ac);
	acct_free(&a.move.ac);
	if (rc)
		return rc;
	/* The tree is gone for every client; what fails from here is left to a trash cleaner. */
	struct sl_err e = {0};
	int erc = empty_tree(m, a.ino, cb, arg, &e, 0);
	if (!erc)
		erc = sql_rmdir(m, NULL, a.hour_dir.ino, a.trash_name, &e);
	if (erc) {
		sl_log(m->log, SL_LOG_WARN, "emptying .trash/%s/%s: %s", a.hour, a.trash_name, e.msg);
		return 0;
	}
	/* The hour's directory goes too once empty (a volume without trash days keeps no trash);
	 * if another delete or juicefs put something there meanwhile, it stays. */
	rc = sql_rmdir(m, NULL, SL_TRASH_INO, a.hour, &e);
	if (rc && rc != -ENOTEMPTY && rc != -ENOENT)
		sl_log(m->log, SL_LOG_WARN, "removing .trash/%s: %s", a.hour, e.msg);
	return 0;
}

/* ---- file data ------------------------------------------------------------------------------- */

/* The slices blob of a chunk (locked for update when lock); *buf is NULL if there is none. */
static int chunk_load(struct tx *t, sl_ino ino, uint32_t indx, bool lock, uint8_t **buf,
		      size_t *len)
{
	char sql[128];
	const char *q = "SELECT slices FROM jfs_chunk WHERE inode = ? AND indx = ?";
	struct sl_sql_stmt *s;
	*buf = NULL;
	*len = 0;
	int rc = q_row(t, &s, lock ? FU(t, sql, q) : q, "ii", (int64_t)ino, (int64_t)indx);
	if (rc <= 0)
		return rc;
	*buf = (uint8_t *)col_dup(t, s, 0, len);
	t->d->finalize(s);
	if (!*buf)
		return nomem(t);
	if (*len % SL_SLICE_BYTES) {
		free(*buf);
		*buf = NULL;
		return sl_errf(t->err, -EIO, "chunk %u of inode %" PRIu64 " is corrupt (%zu bytes of "
			       "slices)", indx, ino, *len);
	}
	return 0;
}

/* Writes a chunk's slices back: existed says whether the row was there (from chunk_load). */
static int chunk_store(struct tx *t, sl_ino ino, uint32_t indx, bool existed, const uint8_t *buf,
		       size_t len)
{
	if (existed && !len)
		return q_exec(t, NULL, "DELETE FROM jfs_chunk WHERE inode = ? AND indx = ?", "ii",
			      (int64_t)ino, (int64_t)indx);
	if (existed)
		return q_exec(t, NULL, "UPDATE jfs_chunk SET slices = ? WHERE inode = ? AND indx = ?",
			      "bii", (const void *)buf, len, (int64_t)ino, (int64_t)indx);
	if (!len)
		return 0;
	return q_exec(t, NULL, "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?)",
		      "iib", (int64_t)ino, (int64_t)indx, (const void *)buf, len);
}

/* Appends slice records to a chunk. The caller holds the inode's row lock, so the read and the
 * write back cannot interleave with another writer of the same file. */
static int chunk_append(struct tx *t, sl_ino ino, uint32_t indx, const uint8_t *add, size_t n)
{
	uint8_t *old;
	size_t len;
	int rc = chunk_load(t, ino, indx, true, &old, &len);
	if (rc)
		return rc;
	bool existed = old != NULL;
	uint8_t *buf = realloc(old, len + n);
	if (!buf) {
		free(old);
		return nomem(t);
	}
	memcpy(buf + len, add, n);
	rc = chunk_store(t, ino, indx, existed, buf, len + n);
	free(buf);
	return rc;
}

static int append_hole(struct tx *t, sl_ino ino, uint32_t indx, uint32_t pos, uint32_t len)
{
	uint8_t rec[SL_SLICE_BYTES];
	struct sl_slice s = {.pos = pos, .len = len};
	slice_put(rec, &s);
	return chunk_append(t, ino, indx, rec, sizeof(rec));
}

/* A read of a file deleted (by another client) while it was read must fail, not read as zeros. */
static int deleted_while_read(struct tx *t, sl_ino ino)
{
	sl_err_clear(t->err);
	return sl_errf(t->err, -ESTALE, "inode %" PRIu64 " was deleted while it was being read", ino);
}

/* The data slots' rule (meta.h): u may read or write the file attr describes; its owner always
 * may. */
static int data_denied(struct tx *t, const struct sl_meta_user *u, sl_ino ino,
		       const struct sl_attr *attr, int mask)
{
	if (u->uid == attr->uid || !sl_meta_access(u, attr, mask))
		return 0;
	return sl_errf(t->err, -EACCES, "permission denied: %s inode %" PRIu64,
		       mask == SL_MAY_READ ? "reading" : "writing", ino);
}

/* Loads ino and applies data_denied. */
static int data_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
		       struct sl_attr *attr)
{
	int rc = node_get(t, ino, false, attr);
	if (rc == -ENOENT && mask == SL_MAY_READ)
		return deleted_while_read(t, ino);
	return rc ? rc : data_denied(t, u, ino, attr, mask);
}

int sl_sqlq_file_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_attr *attr)
{
	int rc = node_get(t, ino, false, attr);
	if (!rc && attr->type != SL_TYPE_FILE)
		rc = attr->type == SL_TYPE_DIR
			     ? sl_errf(t->err, -EISDIR, "inode %" PRIu64 " is a directory", ino)
			     : sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a regular file", ino);
	return rc || !u ? rc : data_denied(t, u, ino, attr, mask);
}

struct next_chunk_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint32_t from, next;
};

static int next_chunk_op(struct tx *t, void *arg)
{
	struct next_chunk_arg *a = arg;
	struct sl_attr attr;
	int rc = data_access(t, a->u, a->ino, SL_MAY_READ, &attr);
	struct sl_sql_stmt *s;
	if (!rc)
		rc = q_row(t, &s, "SELECT MIN(indx) FROM jfs_chunk WHERE inode = ? AND indx >= ?",
			   "ii", (int64_t)a->ino, (int64_t)a->from);
	if (rc < 0)
		return rc;
	bool none = !rc || t->d->col_null(s, 0);
	if (rc)
		a->next = none ? 0 : (uint32_t)t->d->col_i64(s, 0);
	if (rc)
		t->d->finalize(s);
	return none ? -ENOENT : 0;
}

static int sql_next_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  uint32_t from, uint32_t *next, struct sl_err *err)
{
	struct next_chunk_arg a = {.u = u, .ino = ino, .from = from};
	int rc = run(m, false, next_chunk_op, &a, err);
	if (rc == -ENOENT)
		sl_err_clear(err);
	else if (!rc)
		*next = a.next;
	return rc;
}

struct read_chunk_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint32_t indx;
	uint8_t *buf;
	size_t len;
};

static int read_chunk_op(struct tx *t, void *arg)
{
	struct read_chunk_arg *a = arg;
	free(a->buf);
	a->buf = NULL;
	struct sl_attr attr;
	int rc = a->u ? data_access(t, a->u, a->ino, SL_MAY_READ, &attr) : 0;
	if (!rc)
		rc = chunk_load(t, a->ino, a->indx, false, &a->buf, &a->len);
	if (rc || a->len || a->u) /* with a caller, data_access has seen the inode */
		return rc;
	/* No slices: a hole, or a file deleted while it was read, whose data is gone. */
	rc = node_get(t, a->ino, false, &attr);
	return rc == -ENOENT ? deleted_while_read(t, a->ino) : rc;
}

static int sql_read_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			  sl_ino ino, uint32_t indx, struct sl_slice **slices,
			  size_t *n, struct sl_err *err)
{
	struct read_chunk_arg a = {.u = u, .ino = ino, .indx = indx};
	*slices = NULL;
	*n = 0;
	int rc = run(m, false, read_chunk_op, &a, err);
	size_t cnt = a.len / SL_SLICE_BYTES;
	if (!rc && cnt) {
		struct sl_slice *ss = malloc(cnt * sizeof(*ss));
		if (!ss) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
		} else {
			for (size_t i = 0; i < cnt; i++)
				slice_get(a.buf + i * SL_SLICE_BYTES, &ss[i]);
			*slices = ss;
			*n = cnt;
		}
	}
	free(a.buf);
	return rc;
}

static int file_for_data(struct tx *t, sl_ino ino, struct sl_attr *a)
{
	int rc = node_get(t, ino, true, a);
	if (rc)
		return rc;
	if (a->type == SL_TYPE_DIR)
		return sl_errf(t->err, -EISDIR, "inode %" PRIu64 " is a directory", ino);
	if (a->type != SL_TYPE_FILE)
		return sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a regular file", ino);
	return 0;
}

static int set_length(struct tx *t, sl_ino ino, uint64_t length, int64_t mtime, int64_t ctime)
{
	return q_exec(t, NULL,
		      "UPDATE jfs_node SET length = ?, mtime = ?, mtimensec = ?, ctime = ?, "
		      "ctimensec = ? WHERE inode = ?",
		      "iiiiii", (int64_t)length, sl_time_us(mtime), sl_time_nsrem(mtime),
		      sl_time_us(ctime), sl_time_nsrem(ctime), (int64_t)ino);
}

struct write_chunk_arg {
	const struct sl_meta_user *u;
	const struct sl_meta_lease *lease;
	sl_ino ino;
	uint32_t indx;
	const struct sl_slice *s;
	int64_t mtime;
	struct sl_attr attr;
	int64_t dlen, dspace;
};

struct write_chunks_arg {
	struct write_chunk_arg *a;
	size_t n;
	bool *done; /* records of inodes handled already (per attempt) */
};

static bool same_lease(const struct sl_meta_lease *x, const struct sl_meta_lease *y)
{
	return x == y || (x && y && x->sid == y->sid && x->gen == y->gen);
}

/* The records of inode a[first].ino, from first on: checked one by one as write_chunk checks
 * them (permission, lease, immutability, sizes), but the inode, its lease and each chunk are read
 * and written once for all of them. A stream's hflushes that meet commit several slices of one
 * file; the cost of the transaction then grows by one statement per slice, not six. */
static int write_inode_records(struct tx *t, struct write_chunks_arg *b, size_t first)
{
	struct write_chunk_arg *a = b->a;
	sl_ino ino = a[first].ino;
	struct sl_attr n;
	int rc = file_for_data(t, ino, &n);
	if (rc)
		return rc;
	const struct sl_meta_lease *checked = NULL;
	bool any_checked = false;
	for (size_t i = first; i < b->n; i++) {
		if (a[i].ino != ino)
			continue;
		b->done[i] = true;
		if (a[i].u && (rc = data_denied(t, a[i].u, ino, &n, SL_MAY_WRITE)))
			return rc;
		if (!any_checked || !same_lease(checked, a[i].lease)) {
			if ((rc = sl_sql_lease_check(t, ino, a[i].lease)))
				return rc;
			checked = a[i].lease;
			any_checked = true;
		}
		if (n.flags & SL_FLAG_IMMUTABLE)
			return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", ino);
		uint64_t end = (uint64_t)a[i].indx * SL_CHUNK_SIZE + a[i].s->pos + a[i].s->len;
		a[i].dlen = a[i].dspace = 0;
		if (end > n.length) {
			a[i].dlen = (int64_t)(end - n.length);
			a[i].dspace = jfs_space(end) - jfs_space(n.length);
			n.length = end;
		}
		n.mtime_ns = a[i].mtime;
		n.ctime_ns = now_ns();
		a[i].attr = n; /* the file as this record leaves it */
		if ((rc = q_exec(t, NULL,
				 "INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES (?, ?, 1)", "ii",
				 (int64_t)a[i].s->id, (int64_t)a[i].s->size)))
			return rc == -EEXIST ? sl_errf(t->err, -EEXIST, "slice %" PRIu64 " is already "
						       "committed", a[i].s->id) : rc;
	}
	/* each chunk once, its new slices appended in the order of the records */
	for (size_t i = first; i < b->n; i++) {
		if (a[i].ino != ino)
			continue;
		bool seen = false;
		for (size_t k = first; k < i && !seen; k++)
			seen = a[k].ino == ino && a[k].indx == a[i].indx;
		if (seen)
			continue;
		size_t cnt = 0;
		for (size_t k = i; k < b->n; k++)
			cnt += a[k].ino == ino && a[k].indx == a[i].indx;
		uint8_t *recs = malloc(cnt * SL_SLICE_BYTES);
		if (!recs)
			return nomem(t);
		size_t at = 0;
		for (size_t k = i; k < b->n; k++)
			if (a[k].ino == ino && a[k].indx == a[i].indx)
				slice_put(recs + SL_SLICE_BYTES * at++, a[k].s);
		rc = chunk_append(t, ino, a[i].indx, recs, cnt * SL_SLICE_BYTES);
		free(recs);
		if (rc)
			return rc;
	}
	return set_length(t, ino, n.length, n.mtime_ns, n.ctime_ns);
}

static int write_chunks_op(struct tx *t, void *arg)
{
	struct write_chunks_arg *b = arg;
	memset(b->done, 0, b->n * sizeof(*b->done));
	for (size_t i = 0; i < b->n; i++) {
		if (b->done[i])
			continue;
		int rc = write_inode_records(t, b, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* A slice to be added to a chunk: data of its own (no hole), within the chunk, and within its
 * slice, which is at most a chunk (so it has at most a chunk's blocks to store and delete). */
static bool new_slice_ok(const struct sl_slice *s)
{
	return s->id && s->len && s->size <= SL_CHUNK_SIZE &&
	       (uint64_t)s->pos + s->len <= SL_CHUNK_SIZE && (uint64_t)s->off + s->len <= s->size;
}

static int check_new_slice(uint32_t indx, const struct sl_slice *s, struct sl_err *err)
{
	if (indx >= SL_MAX_FILE_LENGTH / SL_CHUNK_SIZE)
		return sl_errf(err, -EFBIG, "chunk %u is past the largest file size", indx);
	if (!new_slice_ok(s))
		return sl_errf(err, -EINVAL, "invalid slice (id %" PRIu64 ", pos %u, size %u, off %u, "
			       "len %u)", s->id, s->pos, s->size, s->off, s->len);
	return 0;
}

/* write_chunk's checks and effects for every record, in one transaction (group commit); the
 * usage of each record's parent directory is accounted once it committed. */
static int write_records(struct sl_meta *m, struct write_chunk_arg *a, size_t n,
			 struct sl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = check_new_slice(a[i].indx, a[i].s, err);
		if (rc)
			return rc;
	}
	struct write_chunks_arg b = {.a = a, .n = n, .done = calloc(n, sizeof(*b.done))};
	if (!b.done)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = run(m, true, write_chunks_op, &b, err);
	free(b.done);
	for (size_t i = 0; !rc && i < n; i++)
		if (a[i].dlen || a[i].dspace)
			sl_meta_account(m, a[i].attr.parent, a[i].dlen, a[i].dspace, 0);
	return rc;
}

static int sql_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			   const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			   const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			   struct sl_err *err)
{
	struct write_chunk_arg a = {.u = u, .lease = lease, .ino = ino, .indx = indx, .s = s,
				    .mtime = mtime_ns};
	int rc = write_records(m, &a, 1, err);
	if (!rc && attr)
		*attr = a.attr;
	return rc;
}

static int sql_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			    size_t *done, struct sl_err *err)
{
	*done = 0;
	struct write_chunk_arg *a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		a[i] = (struct write_chunk_arg){.u = recs[i].u, .lease = recs[i].lease,
						.ino = recs[i].ino, .indx = recs[i].indx,
						.s = &recs[i].s, .mtime = recs[i].mtime_ns};
	int rc = write_records(m, a, n, err);
	for (size_t i = 0; !rc && i < n; i++)
		recs[i].attr = a[i].attr;
	if (!rc)
		*done = n;
	free(a);
	return rc;
}

struct truncate_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint64_t length;
	struct sl_attr attr;
	int64_t dlen, dspace;
};

/* As juicefs: the range between the old and the new length gets hole slices (in the partial
 * chunks at both ends, and in every chunk row in between), so that data beyond a shrunk length
 * never reappears when the file grows again, and a grown file reads zeros. */
static int truncate_op(struct tx *t, void *arg)
{
	struct truncate_arg *a = arg;
	struct sl_attr *n = &a->attr;
	a->dlen = a->dspace = 0;
	int rc = file_for_data(t, a->ino, n);
	if (rc)
		return rc;
	if (n->flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable or append-only",
			       a->ino);
	if (sl_meta_access(a->u, n, SL_MAY_WRITE))
		return deny(t, "cannot write to the file", a->ino);
	if ((rc = sl_sql_lease_idle(t, a->ino, "truncate")))
		return rc;
	if (a->length == n->length)
		return 0;
	a->dlen = (int64_t)a->length - (int64_t)n->length;
	a->dspace = jfs_space(a->length) - jfs_space(n->length);
	uint64_t left = n->length < a->length ? n->length : a->length;
	uint64_t right = n->length < a->length ? a->length : n->length;
	uint64_t lc = left / SL_CHUNK_SIZE, rcix = right / SL_CHUNK_SIZE;
	/* Existing chunks strictly between the two ends get a hole over the whole chunk. */
	uint32_t *mid = NULL;
	size_t nmid = 0, cap = 0;
	if (rcix - lc > 1) {
		char sql[160];
		struct sl_sql_stmt *s;
		rc = q_open(t, &s, FU(t, sql, "SELECT indx FROM jfs_chunk WHERE inode = ? AND "
				      "indx > ? AND indx < ?"),
			    "iii", (int64_t)a->ino, (int64_t)lc, (int64_t)rcix);
		while (!rc && (rc = t->d->step(s, t->err)) > 0) {
			rc = 0;
			if (nmid == cap) {
				size_t nc = cap ? cap * 2 : 16;
				uint32_t *nm = realloc(mid, nc * sizeof(*nm));
				if (!nm) {
					rc = nomem(t);
					break;
				}
				mid = nm;
				cap = nc;
			}
			mid[nmid++] = (uint32_t)t->d->col_i64(s, 0);
		}
		t->d->finalize(s);
	}
	uint32_t first_len = (uint32_t)(right - left);
	if (right > (lc + 1) * SL_CHUNK_SIZE)
		first_len = (uint32_t)(SL_CHUNK_SIZE - left % SL_CHUNK_SIZE);
	if (!rc)
		rc = append_hole(t, a->ino, (uint32_t)lc, (uint32_t)(left % SL_CHUNK_SIZE),
				 first_len);
	for (size_t i = 0; !rc && i < nmid; i++)
		rc = append_hole(t, a->ino, mid[i], 0, (uint32_t)SL_CHUNK_SIZE);
	if (!rc && right > (lc + 1) * SL_CHUNK_SIZE && right % SL_CHUNK_SIZE)
		rc = append_hole(t, a->ino, (uint32_t)rcix, 0, (uint32_t)(right % SL_CHUNK_SIZE));
	free(mid);
	if (rc)
		return rc;
	n->length = a->length;
	n->mtime_ns = n->ctime_ns = now_ns();
	return set_length(t, a->ino, n->length, n->mtime_ns, n->ctime_ns);
}

static int sql_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			uint64_t length, struct sl_attr *attr, struct sl_err *err)
{
	if (length >= SL_MAX_FILE_LENGTH)
		return sl_errf(err, -EFBIG, "a length of %" PRIu64 " is past the largest file size",
			       length);
	struct truncate_arg a = {.u = u, .ino = ino, .length = length};
	int rc = sl_sql_lease_ready(m, err);
	if (!rc)
		rc = run(m, true, truncate_op, &a, err);
	if (rc)
		return rc;
	if (a.dlen || a.dspace)
		sl_meta_account(m, a.attr.parent, a.dlen, a.dspace, 0);
	if (attr)
		*attr = a.attr;
	return 0;
}

/* Slice records to append to the chunks of the concat target, by chunk index. */
struct pending_chunk {
	uint32_t indx;
	uint8_t *buf;
	size_t len, cap;
};
struct pending {
	struct pending_chunk *c;
	size_t n, cap;
};

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->c[i].buf);
	free(p->c);
	memset(p, 0, sizeof(*p));
}

static int pending_add(struct tx *t, struct pending *p, uint32_t indx, const struct sl_slice *s)
{
	struct pending_chunk *c = p->n && p->c[p->n - 1].indx == indx ? &p->c[p->n - 1] : NULL;
	for (size_t i = 0; !c && i < p->n; i++)
		if (p->c[i].indx == indx)
			c = &p->c[i];
	if (!c) {
		if (p->n == p->cap) {
			size_t nc = p->cap ? p->cap * 2 : 8;
			struct pending_chunk *np = realloc(p->c, nc * sizeof(*np));
			if (!np)
				return nomem(t);
			p->c = np;
			p->cap = nc;
		}
		c = &p->c[p->n++];
		memset(c, 0, sizeof(*c));
		c->indx = indx;
	}
	if (c->len + SL_SLICE_BYTES > c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16 * SL_SLICE_BYTES;
		uint8_t *nb = realloc(c->buf, nc);
		if (!nb)
			return nomem(t);
		c->buf = nb;
		c->cap = nc;
	}
	slice_put(c->buf + c->len, s);
	c->len += SL_SLICE_BYTES;
	return 0;
}

struct concat_arg {
	const struct sl_meta_user *u;
	sl_ino target;
	const sl_ino *srcs;
	size_t n;
	struct acct ac;
};

/* Moves the chunks of src (length slen) to the target at offset off: every slice record within
 * the file's length is rewritten at its new position (split in two where it crosses a chunk
 * boundary of the target: one more reference), clipped at the source's length. Records wholly
 * beyond the length (hidden data left by a truncate) stay with src, which then gets a jfs_delfile
 * row so that the usual deletion drops them; so every reference is accounted exactly once. */
static int concat_move(struct tx *t, sl_ino src, uint64_t slen, uint64_t off, struct pending *p,
		       bool *leftover)
{
	struct idx_list {
		uint32_t *v;
		size_t n, cap;
	} idx = {0};
	struct sl_sql_stmt *s;
	char sql[128];
	int rc = q_open(t, &s, FU(t, sql, "SELECT indx FROM jfs_chunk WHERE inode = ?"), "i",
			(int64_t)src);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (idx.n == idx.cap) {
			size_t nc = idx.cap ? idx.cap * 2 : 16;
			uint32_t *nv = realloc(idx.v, nc * sizeof(*nv));
			if (!nv) {
				rc = nomem(t);
				break;
			}
			idx.v = nv;
			idx.cap = nc;
		}
		idx.v[idx.n++] = (uint32_t)t->d->col_i64(s, 0);
	}
	t->d->finalize(s);
	for (size_t k = 0; !rc && k < idx.n; k++) {
		uint32_t ci = idx.v[k];
		uint64_t base = (uint64_t)ci * SL_CHUNK_SIZE;
		uint8_t *buf;
		size_t len;
		if ((rc = chunk_load(t, src, ci, true, &buf, &len)))
			break;
		uint64_t valid = base >= slen ? 0 : slen - base;
		if (valid > SL_CHUNK_SIZE)
			valid = SL_CHUNK_SIZE;
		size_t keep = 0; /* records left with src, compacted at the front of buf */
		for (size_t i = 0; !rc && i < len; i += SL_SLICE_BYTES) {
			struct sl_slice sl;
			slice_get(buf + i, &sl);
			if (sl.pos >= valid) {
				memmove(buf + keep, buf + i, SL_SLICE_BYTES);
				keep += SL_SLICE_BYTES;
				continue;
			}
			if (sl.pos + (uint64_t)sl.len > valid)
				sl.len = (uint32_t)(valid - sl.pos);
			uint64_t dst = off + base + sl.pos;
			uint32_t dpos = (uint32_t)(dst % SL_CHUNK_SIZE);
			uint32_t dindx = (uint32_t)(dst / SL_CHUNK_SIZE);
			if ((uint64_t)dpos + sl.len <= SL_CHUNK_SIZE) {
				sl.pos = dpos;
				rc = pending_add(t, p, dindx, &sl);
				continue;
			}
			struct sl_slice head = sl, tail = sl;
			head.pos = dpos;
			head.len = (uint32_t)(SL_CHUNK_SIZE - dpos);
			tail.pos = 0;
			tail.off = sl.off + head.len;
			tail.len = sl.len - head.len;
			rc = pending_add(t, p, dindx, &head);
			if (!rc)
				rc = pending_add(t, p, dindx + 1, &tail);
			if (!rc && sl.id)
				rc = q_exec(t, NULL, "UPDATE jfs_chunk_ref SET refs = refs + 1 WHERE "
					    "chunkid = ?", "i", (int64_t)sl.id);
		}
		if (!rc)
			rc = chunk_store(t, src, ci, true, buf, keep);
		if (keep)
			*leftover = true;
		free(buf);
	}
	free(idx.v);
	return rc;
}

static int concat_op(struct tx *t, void *arg)
{
	struct concat_arg *a = arg;
	acct_reset(&a->ac);
	struct pending p = {0};
	struct sl_attr ta, sa, pa;
	int rc;
	/* Lock the files in inode order, so that concurrent operations cannot deadlock. */
	sl_ino *order = malloc((a->n + 1) * sizeof(*order));
	if (!order)
		return nomem(t);
	order[0] = a->target;
	for (size_t i = 0; i < a->n; i++)
		order[i + 1] = a->srcs[i];
	for (size_t i = 1; i <= a->n; i++)
		for (size_t j = i; j > 0 && order[j - 1] > order[j]; j--) {
			sl_ino x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	rc = 0;
	for (size_t i = 0; !rc && i <= a->n; i++) {
		if (i && order[i] == order[i - 1])
			rc = sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is given twice to concat",
				     order[i]);
		else
			rc = file_for_data(t, order[i], &sa);
	}
	free(order);
	if (rc)
		return rc;
	if ((rc = node_get(t, a->target, true, &ta)))
		return rc;
	if (ta.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->target);
	if (sl_meta_access(a->u, &ta, SL_MAY_WRITE))
		return deny(t, "cannot write to the concat target", a->target);
	if ((rc = sl_sql_lease_idle(t, a->target, "concat to")))
		return rc;
	uint64_t off = ta.length;
	int64_t now = now_ns();
	for (size_t i = 0; !rc && i < a->n; i++) {
		sl_ino src = a->srcs[i];
		if ((rc = node_get(t, src, true, &sa)))
			break;
		/* Hadoop: the sources need READ, and WRITE on their directories (they go away). */
		if (sl_meta_access(a->u, &sa, SL_MAY_READ)) {
			rc = deny(t, "cannot read a concat source", src);
			break;
		}
		if (sa.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND)) {
			rc = sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", src);
			break;
		}
		if (sa.nlink != 1 || !sa.parent) {
			rc = sl_errf(t->err, -EINVAL, "concat source %" PRIu64 " has %u links; only "
				     "files with one name can be concatenated", src, sa.nlink);
			break;
		}
		if ((rc = dir_for_change(t, a->u, sa.parent, &pa)))
			break;
		if (sticky_denies(a->u, &pa, &sa)) {
			rc = deny(t, "sticky directory: cannot remove a concat source", sa.parent);
			break;
		}
		if ((rc = sl_sql_lease_idle(t, src, "concat")))
			break;
		if (sa.length >= SL_MAX_FILE_LENGTH - off) {
			rc = sl_errf(t->err, -EFBIG, "concat would make inode %" PRIu64 " longer than "
				     "the largest file size", a->target);
			break;
		}
		bool leftover = false;
		if ((rc = concat_move(t, src, sa.length, off, &p, &leftover)))
			break;
		off += sa.length;
		if (leftover)
			rc = q_exec(t, NULL, "INSERT INTO jfs_delfile (inode, length, expire) VALUES "
				    "(?, ?, ?)", "iii", (int64_t)src, (int64_t)sa.length,
				    now / 1000000000LL);
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_edge WHERE parent = ? AND inode = ?", "ii",
				    (int64_t)sa.parent, (int64_t)src);
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i", (int64_t)src);
		if (!rc)
			rc = q_exec(t, NULL, "DELETE FROM jfs_xattr WHERE inode = ?", "i", (int64_t)src);
		if (!rc)
			rc = dir_touch(t, sa.parent, 0, now);
		if (!rc)
			rc = acct_dir(t, &a->ac, sa.parent, -(int64_t)sa.length, -jfs_space(sa.length),
				      -1);
		acct_total(&a->ac, -jfs_space(sa.length), -1);
	}
	for (size_t i = 0; !rc && i < p.n; i++)
		rc = chunk_append(t, a->target, p.c[i].indx, p.c[i].buf, p.c[i].len);
	pending_free(&p);
	if (rc)
		return rc;
	int64_t dspace = jfs_space(off) - jfs_space(ta.length);
	if ((rc = acct_dir(t, &a->ac, ta.parent, (int64_t)(off - ta.length), dspace, 0)))
		return rc;
	acct_total(&a->ac, dspace, 0);
	return set_length(t, a->target, off, now, now);
}

static int sql_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		      const sl_ino *srcs, size_t n, struct sl_err *err)
{
	struct concat_arg a = {.u = u, .target = target, .srcs = srcs, .n = n};
	for (size_t i = 0; i < n; i++)
		if (srcs[i] == target)
			return sl_errf(err, -EINVAL, "cannot concat inode %" PRIu64 " to itself",
				       target);
	int rc = n ? sl_sql_lease_ready(m, err) : 0;
	if (n && !rc)
		rc = run(m, true, concat_op, &a, err);
	if (!rc)
		acct_apply(m, &a.ac);
	acct_free(&a.ac);
	return rc;
}

/* ---- deletion of file data ------------------------------------------------------------------- */

struct dead_slice {
	uint64_t id;
	uint32_t size;
};

struct chunks_arg {
	sl_ino ino;
	bool alive;
	uint32_t *idx;
	size_t n, cap;
};

static int list_chunks_op(struct tx *t, void *arg)
{
	struct chunks_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, "SELECT inode FROM jfs_node WHERE inode = ?", "i", (int64_t)a->ino);
	if (rc < 0)
		return rc;
	a->alive = rc > 0;
	t->d->finalize(s);
	if (a->alive)
		return 0;
	rc = q_open(t, &s, "SELECT indx FROM jfs_chunk WHERE inode = ? ORDER BY indx", "i",
		    (int64_t)a->ino);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 16;
			uint32_t *ni = realloc(a->idx, nc * sizeof(*ni));
			if (!ni) {
				rc = nomem(t);
				break;
			}
			a->idx = ni;
			a->cap = nc;
		}
		a->idx[a->n++] = (uint32_t)t->d->col_i64(s, 0);
	}
	t->d->finalize(s);
	return rc;
}

struct del_chunk_arg {
	sl_ino ino;
	uint32_t indx;
	struct dead_slice *dead;
	size_t ndead, cap;
};

/* Drops refs references of slice id; appends it to dead[] when this takes its count to zero. */
static int unref_slice(struct tx *t, uint64_t id, uint32_t refs, struct del_chunk_arg *a)
{
	char sql[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, sql, "SELECT refs, size FROM jfs_chunk_ref WHERE chunkid = ?"),
		       "i", (int64_t)id);
	if (rc <= 0)
		return rc; /* no row: nothing to count (juicefs's gc finds such leaks) */
	int64_t old = t->d->col_i64(s, 0);
	uint32_t size = (uint32_t)col_u64(t, s, 1);
	t->d->finalize(s);
	rc = q_exec(t, NULL, "UPDATE jfs_chunk_ref SET refs = refs - ? WHERE chunkid = ?", "ii",
		    (int64_t)refs, (int64_t)id);
	if (rc || !(old > 0 && old - (int64_t)refs <= 0))
		return rc;
	if (a->ndead == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct dead_slice *nd = realloc(a->dead, nc * sizeof(*nd));
		if (!nd)
			return nomem(t);
		a->dead = nd;
		a->cap = nc;
	}
	a->dead[a->ndead++] = (struct dead_slice){id, size};
	return 0;
}

/* Drops one chunk row and one reference per slice record in it. A slice is reported dead only
 * by the transaction that takes its count from positive to zero, so exactly once. */
static int del_chunk_op(struct tx *t, void *arg)
{
	struct del_chunk_arg *a = arg;
	a->ndead = 0;
	uint8_t *buf;
	size_t len;
	int rc = chunk_load(t, a->ino, a->indx, true, &buf, &len);
	if (rc || !buf)
		return rc;
	size_t cnt = len / SL_SLICE_BYTES;
	struct sl_slice *ss = malloc((cnt ? cnt : 1) * sizeof(*ss));
	if (!ss) {
		free(buf);
		return nomem(t);
	}
	for (size_t i = 0; i < cnt; i++)
		slice_get(buf + i * SL_SLICE_BYTES, &ss[i]);
	free(buf);
	for (size_t i = 0; !rc && i < cnt; i++) {
		if (!ss[i].id)
			continue;
		uint32_t refs = 1; /* this record and any later ones of the same slice */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = ss[j].id == ss[i].id;
		if (seen)
			continue;
		for (size_t j = i + 1; j < cnt; j++)
			refs += ss[j].id == ss[i].id;
		rc = unref_slice(t, ss[i].id, refs, a);
	}
	free(ss);
	if (!rc)
		rc = q_exec(t, NULL, "DELETE FROM jfs_chunk WHERE inode = ? AND indx = ?", "ii",
			    (int64_t)a->ino, (int64_t)a->indx);
	return rc;
}

struct compact_arg {
	struct del_chunk_arg dead; /* ino, indx and the dead slices */
	const uint8_t *expect;      /* n encoded records */
	size_t n, skip;
	const struct sl_slice *repl;
	const struct sl_meta_user *u;
	const struct sl_meta_lease *lease;
};

static int compact_op(struct tx *t, void *arg)
{
	struct compact_arg *a = arg;
	a->dead.ndead = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_attr attr;
	int rc = a->u ? data_access(t, a->u, a->dead.ino, SL_MAY_WRITE, &attr) : 0;
	if (!rc)
		rc = sl_sql_lease_check(t, a->dead.ino, a->lease);
	if (!rc)
		rc = chunk_load(t, a->dead.ino, a->dead.indx, true, &buf, &len);
	if (rc)
		return rc;
	size_t cnt = buf ? len / SL_SLICE_BYTES : 0;
	if (cnt < a->n || memcmp(buf, a->expect, a->n * SL_SLICE_BYTES)) {
		free(buf);
		return sl_errf(t->err, -ESTALE, "chunk %u of inode %" PRIu64 " changed while it was "
			       "compacted", a->dead.indx, a->dead.ino);
	}
	struct sl_slice *ss = malloc(a->n * sizeof(*ss));
	if (!ss) {
		free(buf);
		return nomem(t);
	}
	for (size_t i = 0; i < a->n; i++)
		slice_get(buf + i * SL_SLICE_BYTES, &ss[i]);
	for (size_t i = a->skip; !rc && i < a->n; i++) {
		if (!ss[i].id)
			continue;
		bool seen = false;
		for (size_t j = a->skip; j < i && !seen; j++)
			seen = ss[j].id == ss[i].id;
		if (seen)
			continue;
		uint32_t refs = 1;
		for (size_t j = i + 1; j < a->n; j++)
			refs += ss[j].id == ss[i].id;
		rc = unref_slice(t, ss[i].id, refs, &a->dead);
	}
	free(ss);
	if (!rc)
		rc = q_exec(t, NULL, "INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES (?, ?, 1)",
			    "ii", (int64_t)a->repl->id, (int64_t)a->repl->size);
	if (!rc) {
		/* [0, skip) + repl + [n, cnt): the list shrinks, so it fits in the old buffer */
		uint8_t *tail = buf + a->n * SL_SLICE_BYTES;
		size_t tail_len = len - a->n * SL_SLICE_BYTES;
		slice_put(buf + a->skip * SL_SLICE_BYTES, a->repl);
		memmove(buf + (a->skip + 1) * SL_SLICE_BYTES, tail, tail_len);
		rc = chunk_store(t, a->dead.ino, a->dead.indx, true, buf,
				 (a->skip + 1) * SL_SLICE_BYTES + tail_len);
	}
	free(buf);
	return rc;
}

static int sql_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			     const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			     const struct sl_slice *expect, size_t n, size_t skip,
			     const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			     struct sl_err *err)
{
	if (skip + 2 > n || !new_slice_ok(repl))
		return sl_errf(err, -EINVAL, "compaction needs at least two records and a valid "
			       "slice");
	uint8_t *enc = malloc(n * SL_SLICE_BYTES);
	if (!enc)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		slice_put(enc + i * SL_SLICE_BYTES, &expect[i]);
	struct compact_arg a = {.dead = {.ino = ino, .indx = indx}, .expect = enc, .n = n,
				.skip = skip, .repl = repl, .u = u, .lease = lease};
	int rc = run(m, true, compact_op, &a, err);
	for (size_t j = 0; !rc && j < a.dead.ndead; j++)
		if (cb)
			cb(arg, a.dead.dead[j].id, a.dead.dead[j].size);
	free(a.dead.dead);
	free(enc);
	return rc;
}

struct ino_arg {
	sl_ino ino;
};

static int del_delfile_op(struct tx *t, void *arg)
{
	struct ino_arg *a = arg;
	return q_exec(t, NULL, "DELETE FROM jfs_delfile WHERE inode = ?", "i", (int64_t)a->ino);
}

static int sql_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err)
{
	struct chunks_arg ca = {.ino = ino};
	int rc = run(m, false, list_chunks_op, &ca, err);
	if (!rc && ca.alive)
		rc = sl_errf(err, -EBUSY, "inode %" PRIu64 " still exists; its data is not deleted",
			     ino);
	int cbrc = 0;
	struct del_chunk_arg da = {.ino = ino};
	for (size_t i = 0; !rc && i < ca.n; i++) {
		da.indx = ca.idx[i];
		if ((rc = run(m, true, del_chunk_op, &da, err)))
			break;
		/* The chunk is gone for good now; the caller deletes the blocks of dead slices and
		 * forgets them. A failure leaves the slice with refs 0 for a later cleanup. */
		for (size_t j = 0; j < da.ndead; j++) {
			int r = cb ? cb(arg, da.dead[j].id, da.dead[j].size) : 0;
			if (r && !cbrc)
				cbrc = r < 0 ? r : -EIO;
		}
	}
	free(da.dead);
	free(ca.idx);
	if (!rc) {
		struct ino_arg ia = {ino};
		rc = run(m, true, del_delfile_op, &ia, err);
	}
	if (!rc && cbrc)
		rc = sl_errf(err, cbrc, "deleting the slices of inode %" PRIu64 " failed in part; "
			     "they are left for a later cleanup", ino);
	return rc;
}

struct slice_arg {
	uint64_t id;
};

static int forget_slice_op(struct tx *t, void *arg)
{
	struct slice_arg *a = arg;
	/* Only while unreferenced: a slice must never lose a row that something points at. */
	int64_t n = 0;
	int rc = q_exec(t, &n, "DELETE FROM jfs_chunk_ref WHERE chunkid = ? AND refs <= 0", "i",
			(int64_t)a->id);
	if (!rc && n)
		rc = sl_sql_block_crc_forget(t, a->id); /* its blocks are gone: so are their CRCs */
	return rc;
}

static int sql_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err)
{
	struct slice_arg a = {id};
	int rc = sl_sql_block_crc_table(m, err);
	return rc ? rc : run(m, true, forget_slice_op, &a, err);
}

struct slice_refs_arg {
	uint64_t id;
	int64_t refs;
	uint32_t size;
};

static int slice_refs_op(struct tx *t, void *arg)
{
	struct slice_refs_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, "SELECT refs, size FROM jfs_chunk_ref WHERE chunkid = ?", "i",
		       (int64_t)a->id);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "slice %" PRIu64 " has no jfs_chunk_ref "
					     "row", a->id);
	a->refs = t->d->col_i64(s, 0);
	a->size = (uint32_t)col_u64(t, s, 1);
	t->d->finalize(s);
	return 0;
}

static int sql_slice_refs(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
			  struct sl_err *err)
{
	struct slice_refs_arg a = {.id = id};
	int rc = run(m, false, slice_refs_op, &a, err);
	if (!rc) {
		*refs = a.refs;
		*size = a.size;
	}
	return rc;
}

struct dead_slices_arg {
	struct dead_slice *rows;
	size_t n, cap;
};

static int dead_slices_op(struct tx *t, void *arg)
{
	struct dead_slices_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = q_open(t, &s, "SELECT chunkid, size FROM jfs_chunk_ref WHERE refs <= 0", "");
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct dead_slice *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		a->rows[a->n++] = (struct dead_slice){col_u64(t, s, 0), (uint32_t)col_u64(t, s, 1)};
	}
	t->d->finalize(s);
	return rc;
}

static int sql_list_dead_slices(struct sl_meta *m, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err)
{
	struct dead_slices_arg a = {0};
	int rc = run(m, false, dead_slices_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++)
		cb(arg, a.rows[i].id, a.rows[i].size);
	free(a.rows);
	return rc;
}

struct set_if_small_arg {
	const char *name;
	int64_t value, diff;
	bool changed;
};

static int set_if_small_op(struct tx *t, void *arg)
{
	struct set_if_small_arg *a = arg;
	a->changed = false;
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, buf, "SELECT value FROM jfs_counter WHERE name = ?"), "t",
		       a->name);
	if (rc < 0)
		return rc;
	bool exists = rc > 0;
	if (exists) {
		int64_t old = t->d->col_i64(s, 0);
		t->d->finalize(s);
		if (old > a->value - a->diff)
			return 0;
		rc = q_exec(t, NULL, "UPDATE jfs_counter SET value = ? WHERE name = ?", "it", a->value,
			    a->name);
	} else {
		rc = q_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)", "ti",
			    a->name, a->value);
	}
	a->changed = !rc;
	return rc;
}

static int sql_set_if_small(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			    bool *changed, struct sl_err *err)
{
	struct set_if_small_arg a = {.name = name, .value = value, .diff = diff};
	int rc = run(m, true, set_if_small_op, &a, err);
	*changed = !rc && a.changed;
	return rc;
}

struct delfiles_arg {
	int64_t before;
	struct {
		sl_ino ino;
		uint64_t length;
	} *rows;
	size_t n, cap;
};

static int list_delfiles_op(struct tx *t, void *arg)
{
	struct delfiles_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = q_open(t, &s, "SELECT inode, length FROM jfs_delfile WHERE expire <= ?", "i",
			a->before);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 16;
			void *nr = realloc(a->rows, nc * sizeof(*a->rows));
			if (!nr) {
				rc = nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		a->rows[a->n].ino = col_u64(t, s, 0);
		a->rows[a->n].length = col_u64(t, s, 1);
		a->n++;
	}
	t->d->finalize(s);
	return rc;
}

static int sql_list_delfiles(struct sl_meta *m, int64_t before_s,
			     int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			     struct sl_err *err)
{
	struct delfiles_arg a = {.before = before_s};
	int rc = run(m, false, list_delfiles_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++)
		if (cb(arg, a.rows[i].ino, a.rows[i].length))
			break;
	free(a.rows);
	return rc;
}

struct release_arg {
	sl_ino ino;
	bool orphan;
	struct acct ac;
};

static int release_op(struct tx *t, void *arg)
{
	struct release_arg *a = arg;
	a->orphan = false;
	acct_reset(&a->ac);
	char sql[128];
	struct sl_sql_stmt *s;
	int rc = q_row(t, &s, FU(t, sql, "SELECT id FROM jfs_sustained WHERE sid = ? AND inode = ?"),
		       "ii", (int64_t)t->m->sid, (int64_t)a->ino);
	if (rc <= 0)
		return rc;
	t->d->finalize(s);
	return unsustain(t, t->m->sid, a->ino, &a->ac, &a->orphan);
}

static int sql_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	struct release_arg a = {.ino = ino};
	*orphan = false;
	if (!m->sid)
		return 0;
	int rc = run(m, true, release_op, &a, err);
	if (!rc) {
		acct_apply(m, &a.ac);
		*orphan = a.orphan;
	}
	acct_free(&a.ac);
	return rc;
}

/* ---- xattrs ---------------------------------------------------------------------------------- */

/* Hadoop: reading extended attributes needs READ on the inode, changing them WRITE. */
struct xattr_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	const char *name;
	const void *value;
	size_t len;
	int flags;
	char *out;
	size_t outlen;
};

static int xattr_check(struct tx *t, struct xattr_arg *a, int mask, bool lock)
{
	struct sl_attr n;
	int rc = node_get(t, a->ino, lock, &n);
	if (!rc && sl_meta_access(a->u, &n, mask))
		rc = deny(t, mask & SL_MAY_WRITE ? "cannot change extended attributes"
			  : "cannot read extended attributes", a->ino);
	if (!rc && (mask & SL_MAY_WRITE) && (n.flags & SL_FLAG_IMMUTABLE))
		rc = sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->ino);
	return rc;
}

static int getxattr_op(struct tx *t, void *arg)
{
	struct xattr_arg *a = arg;
	free(a->out);
	a->out = NULL;
	int rc = xattr_check(t, a, SL_MAY_READ, false);
	if (rc)
		return rc;
	struct sl_sql_stmt *s;
	rc = q_row(t, &s, "SELECT value FROM jfs_xattr WHERE inode = ? AND name = ?", "it",
		   (int64_t)a->ino, a->name);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode "
					     "%" PRIu64, a->name, a->ino);
	a->out = col_dup(t, s, 0, &a->outlen);
	t->d->finalize(s);
	return a->out ? 0 : nomem(t);
}

static int check_xattr_name(const char *name, struct sl_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || n > 255)
		return sl_errf(err, n ? -ERANGE : -EINVAL, "extended attribute names have 1 to 255 "
			       "bytes");
	return 0;
}

static int sql_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, void **value, size_t *len, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino, .name = name};
	*value = NULL;
	*len = 0;
	int rc = check_xattr_name(name, err);
	if (!rc)
		rc = run(m, false, getxattr_op, &a, err);
	if (rc) {
		free(a.out);
		return rc;
	}
	*value = a.out;
	*len = a.outlen;
	return 0;
}

static int setxattr_op(struct tx *t, void *arg)
{
	struct xattr_arg *a = arg;
	int rc = xattr_check(t, a, SL_MAY_WRITE, true);
	if (rc)
		return rc;
	char sql[128];
	struct sl_sql_stmt *s;
	rc = q_row(t, &s, FU(t, sql, "SELECT id FROM jfs_xattr WHERE inode = ? AND name = ?"), "it",
		   (int64_t)a->ino, a->name);
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	if (rc && (a->flags & SL_XATTR_CREATE))
		return sl_errf(t->err, -EEXIST, "extended attribute '%s' exists", a->name);
	if (!rc && (a->flags & SL_XATTR_REPLACE))
		return sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode %" PRIu64,
			       a->name, a->ino);
	if (rc)
		return q_exec(t, NULL, "UPDATE jfs_xattr SET value = ? WHERE inode = ? AND name = ?",
			      "bit", a->value, a->len, (int64_t)a->ino, a->name);
	return q_exec(t, NULL, "INSERT INTO jfs_xattr (inode, name, value) VALUES (?, ?, ?)", "itb",
		      (int64_t)a->ino, a->name, a->value, a->len);
}

static int sql_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, const void *value, size_t len, int flags,
			struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino, .name = name, .value = value, .len = len,
			      .flags = flags};
	int rc = check_xattr_name(name, err);
	if (rc)
		return rc;
	if (len > XATTR_VALUE_MAX)
		return sl_errf(err, -E2BIG, "extended attribute values have at most %d bytes",
			       XATTR_VALUE_MAX);
	if ((flags & SL_XATTR_CREATE) && (flags & SL_XATTR_REPLACE))
		return sl_errf(err, -EINVAL, "setxattr: CREATE and REPLACE exclude each other");
	return run(m, true, setxattr_op, &a, err);
}

static int listxattr_op(struct tx *t, void *arg)
{
	struct xattr_arg *a = arg;
	free(a->out);
	a->out = NULL;
	a->outlen = 0;
	int rc = xattr_check(t, a, SL_MAY_READ, false);
	if (rc)
		return rc;
	struct sl_sql_stmt *s;
	size_t cap = 0;
	rc = q_open(t, &s, "SELECT name FROM jfs_xattr WHERE inode = ? ORDER BY name", "i",
		    (int64_t)a->ino);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		size_t n;
		const void *p = t->d->col_blob(s, 0, &n);
		if (a->outlen + n + 1 > cap) {
			size_t nc = (a->outlen + n + 1) * 2;
			char *no = realloc(a->out, nc);
			if (!no) {
				rc = nomem(t);
				break;
			}
			a->out = no;
			cap = nc;
		}
		if (n)
			memcpy(a->out + a->outlen, p, n);
		a->out[a->outlen + n] = 0;
		a->outlen += n + 1;
	}
	t->d->finalize(s);
	return rc;
}

static int sql_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 char **names, size_t *len, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino};
	int rc = run(m, false, listxattr_op, &a, err);
	if (rc) {
		free(a.out);
		*names = NULL;
		*len = 0;
		return rc;
	}
	*names = a.out;
	*len = a.outlen;
	return 0;
}

static int removexattr_op(struct tx *t, void *arg)
{
	struct xattr_arg *a = arg;
	int rc = xattr_check(t, a, SL_MAY_WRITE, true);
	int64_t n = 0;
	if (!rc)
		rc = q_exec(t, &n, "DELETE FROM jfs_xattr WHERE inode = ? AND name = ?", "it",
			    (int64_t)a->ino, a->name);
	if (!rc && !n)
		rc = sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode %" PRIu64,
			     a->name, a->ino);
	return rc;
}

static int sql_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino, .name = name};
	int rc = check_xattr_name(name, err);
	return rc ? rc : run(m, true, removexattr_op, &a, err);
}

/* ---- summaries and features ------------------------------------------------------------------ */

/* The directories of the subtree under ?, by one recursive walk of jfs_edge. UNION (not ALL)
 * ends the walk even on a corrupt loop. */
#define SUBTREE_CTE "WITH RECURSIVE tree(ino) AS (SELECT inode FROM jfs_node WHERE inode = ? " \
	"UNION SELECT e.inode FROM jfs_edge e JOIN tree t ON e.parent = t.ino WHERE e.type = 2) "

struct summary_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	struct sl_meta_summary out;
};

static int summary_op(struct tx *t, void *arg)
{
	struct summary_arg *a = arg;
	memset(&a->out, 0, sizeof(a->out));
	struct sl_attr n;
	int rc = node_get(t, a->ino, false, &n);
	if (rc)
		return rc;
	if (n.type != SL_TYPE_DIR) { /* as juicefs counts a single inode */
		a->out.files = 1;
		a->out.length = n.type == SL_TYPE_FILE ? n.length : 0;
		a->out.space = (uint64_t)jfs_space(n.length);
		return 0;
	}
	struct sl_sql_stmt *s;
	if (!superuser(a->u)) {
		/* Hadoop: a content summary needs READ_EXECUTE on every directory of the subtree;
		 * the distinct (mode, owner, group) triples are few even in a large tree. */
		rc = q_open(t, &s, SUBTREE_CTE "SELECT DISTINCT n.mode, n.uid, n.gid FROM tree t "
			    "JOIN jfs_node n ON n.inode = t.ino", "i", (int64_t)a->ino);
		while (!rc && (rc = t->d->step(s, t->err)) > 0) {
			struct sl_attr d = {.type = SL_TYPE_DIR,
					    .mode = (uint16_t)(col_u64(t, s, 0) & 07777),
					    .uid = (uint32_t)col_u64(t, s, 1),
					    .gid = (uint32_t)col_u64(t, s, 2)};
			rc = sl_meta_access(a->u, &d, SL_MAY_READ | SL_MAY_EXEC)
				? deny(t, "cannot read a directory in the subtree", a->ino) : 0;
		}
		t->d->finalize(s);
		if (rc)
			return rc;
	}
	/* juicefs's summary: files are all non-directories (length counted for regular files
	 * only), space is align4K of each length, 4 KiB per directory. */
	rc = q_row(t, &s, SUBTREE_CTE
		   "SELECT COUNT(e.inode), SUM(CASE WHEN e.type = 2 THEN 1 ELSE 0 END), "
		   "SUM(CASE WHEN n.type = 1 THEN n.length ELSE 0 END), "
		   "SUM(CASE WHEN e.type = 2 OR n.length IS NULL OR n.length = 0 THEN 4096 "
		   "ELSE n.length + 4095 - (n.length + 4095) % 4096 END) "
		   "FROM tree t JOIN jfs_edge e ON e.parent = t.ino "
		   "LEFT JOIN jfs_node n ON n.inode = e.inode", "i", (int64_t)a->ino);
	if (rc < 0)
		return rc;
	uint64_t entries = 0, dirs = 0, length = 0, space = 0;
	if (rc) {
		entries = col_u64(t, s, 0);
		dirs = col_u64(t, s, 1);
		length = col_u64(t, s, 2);
		space = col_u64(t, s, 3);
		t->d->finalize(s);
	}
	a->out.dirs = dirs + 1;
	a->out.files = entries - dirs;
	a->out.length = length;
	a->out.space = space + DIR_SPACE;
	return 0;
}

static int sql_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       struct sl_meta_summary *out, struct sl_err *err)
{
	struct summary_arg a = {.u = u, .ino = ino};
	int rc = run(m, false, summary_op, &a, err);
	if (!rc)
		*out = a.out;
	return rc;
}

struct features_arg {
	int64_t quotas, acls, acl_xattrs, acl_nodes;
};

static int features_op(struct tx *t, void *arg)
{
	struct features_arg *a = arg;
	static const char *const queries[] = {
		"SELECT COUNT(*) FROM jfs_dir_quota",
		"SELECT COUNT(*) FROM jfs_acl",
		"SELECT COUNT(*) FROM jfs_xattr WHERE SUBSTR(name, 1, 16) = 'system.posix_acl'",
		"SELECT COUNT(*) FROM jfs_node WHERE access_acl_id <> 0 OR default_acl_id <> 0",
	};
	int64_t *out[] = {&a->quotas, &a->acls, &a->acl_xattrs, &a->acl_nodes};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct sl_sql_stmt *s;
		int rc = q_row(t, &s, queries[i], "");
		if (rc < 0)
			return rc;
		*out[i] = rc ? t->d->col_i64(s, 0) : 0;
		t->d->finalize(s);
	}
	return 0;
}

static int sql_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				    struct sl_err *err)
{
	struct features_arg a = {0};
	if (what_size)
		what[0] = 0;
	int rc = run(m, false, features_op, &a, err);
	if (rc)
		return rc;
	size_t len = 0;
	const struct {
		int64_t n;
		const char *desc;
	} found[] = {
		{a.quotas, "directory quotas (%" PRId64 " rows in jfs_dir_quota)"},
		{a.acls, "POSIX ACLs (%" PRId64 " rules in jfs_acl)"},
		{a.acl_nodes, "POSIX ACLs (%" PRId64 " inodes with ACL ids in jfs_node)"},
		{a.acl_xattrs, "POSIX ACLs (%" PRId64 " system.posix_acl_* rows in jfs_xattr)"},
	};
	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
		if (!found[i].n || len + 1 >= what_size)
			continue;
		if (len)
			len += (size_t)snprintf(what + len, what_size - len, ", ");
		if (len < what_size)
			len += (size_t)snprintf(what + len, what_size - len, found[i].desc, found[i].n);
	}
	return 0;
}

const struct sl_meta_backend sl_meta_sql_backend = {
	.version = SL_META_BACKEND_VERSION,
	.name = "sql",
	.priv_size = sizeof(struct sqlbe),
	.init = sql_init,
	.cleanup = sql_cleanup,
	.load_format = sql_load_format,
	.get_setting = sql_get_setting,
	.add_setting = sql_add_setting,
	.format = sql_format,
	.new_session = sql_new_session,
	.refresh_session = sql_refresh_session,
	.close_session = sql_close_session,
	.list_sessions = sql_list_sessions,
	.get_session = sql_get_session,
	.incr_counter = sql_incr_counter,
	.update_dir_stats = sql_update_dir_stats,
	.resolve = sql_resolve,
	.lookup = sql_lookup,
	.getattr = sql_getattr,
	.reach = sql_reach,
	.setattr = sql_setattr,
	.mknod = sql_mknod,
	.unlink = sql_unlink,
	.rmdir = sql_rmdir,
	.rename = sql_rename,
	.remove_tree = sql_remove_tree,
	.readdir = sql_readdir,
	.readlink = sql_readlink,
	.inode_path = sql_inode_path,
	.read_chunk = sql_read_chunk,
	.next_chunk = sql_next_chunk,
	.write_chunk = sql_write_chunk,
	.write_chunks = sql_write_chunks,
	.truncate = sql_truncate,
	.concat = sql_concat,
	.delete_file_data = sql_delete_file_data,
	.compact_chunk = sql_compact_chunk,
	.lease_acquire = sl_sql_lease_acquire,
	.lease_release = sl_sql_lease_release,
	.lease_recover = sl_sql_lease_recover,
	.lease_sweep = sl_sql_lease_sweep,
	.forget_slice = sql_forget_slice,
	.list_delfiles = sql_list_delfiles,
	.release = sql_release,
	.getxattr = sql_getxattr,
	.setxattr = sql_setxattr,
	.listxattr = sql_listxattr,
	.removexattr = sql_removexattr,
	.summary = sql_summary,
	.unsupported_features = sql_unsupported_features,
	.token_store = &sl_sql_token_store,
	.slice_refs = sql_slice_refs,
	.list_dead_slices = sql_list_dead_slices,
	.set_if_small = sql_set_if_small,
	.block_crc_get = sl_sql_block_crc_get,
	.block_crc_put = sl_sql_block_crc_put,
};
