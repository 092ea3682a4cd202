/*
 * sql.c - the "sql" metadata backend: JuiceFS Community Edition's SQL layout (jfs_node, jfs_edge,
 * jfs_chunk, ...) through a driver table (sql_driver.h), with every modifying operation one
 * transaction run by sql_pool.c's runner, which retries on deadlocks and lost connections.
 *
 * This file holds the backend's core (transactions and statements, node helpers,
 * usage deltas, init and the volume) and its table, sl_meta_sql_backend; the operations are in
 * sql_sessions.c, sql_namespace.c (lookups and listing), sql_changes.c (namespace changes),
 * sql_data.c, sql_delete.c (deletion of file data), sql_xattr.c (xattrs and summaries),
 * sql_leases.c, sql_tokens.c and sql_crc.c, which share the core through sql_internal.h.
 *
 * Rules that keep these files portable and retry-safe:
 *  - SQL is written once for every engine: '?' placeholders, no upserts (UPDATE, then INSERT when
 *    no row matched), no RETURNING, no string concatenation operators (blobs are read, changed
 *    and written back under the inode's row lock), rows read for update end in driver->for_update.
 *  - Names and symlink targets are BLOBs (bound as blobs: SQLite compares storage classes, and
 *    MySQL VARBINARY compares bytes), xattr names and settings are TEXT, as juicefs writes them.
 *  - A transaction function may run several times: it resets its outputs first, and everything
 *    outside the database (usage accounting, callbacks) happens after the runner returned 0.
 *  - Callbacks never run while a connection is held (they may call back into this backend).
 *
 * Where JuiceFS and Hadoop disagree, the backend follows Hadoop's semantics; the choices are listed
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

struct sqlbe *sl_sql_be_of(struct sl_meta *m) { return m->priv; }

/* JuiceFS's align4K: space of a file of n bytes; an empty file (or any other inode) counts as
 * 4 KiB. */
int64_t sl_sql_jfs_space(uint64_t n)
{
	return n == 0 ? 4096 : (int64_t)((((n - 1) >> 12) + 1) << 12);
}

/* ---- transactions and statements ------------------------------------------------------------- */

struct run_ctx {
	struct sl_meta *m;
	bool write;
	op_fn fn;
	void *arg;
};

static int run_cb(struct sl_sql_conn *c, void *a, struct sl_err *err)
{
	struct run_ctx *r = a;
	struct tx t = {.m = r->m, .d = sl_sql_be_of(r->m)->d, .c = c, .err = err, .write = r->write};
	return r->fn(&t, r->arg);
}

/* One transaction (retried by the runner as needed). */
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
int sl_sqlq_open(struct tx *t, struct sl_sql_stmt **s, const char *sql, const char *fmt, ...)
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
/* The same for the backend's other files (sql_internal.h). */
int sl_sqlq_run(struct sl_meta *m, bool write, op_fn fn, void *arg, struct sl_err *err)
{
	struct run_ctx r = {.m = m, .write = write, .fn = fn, .arg = arg};
	return sl_sql_txn(sl_sql_be_of(m)->pool, write, run_cb, &r, err);
}

int sl_sqlq_run_once(struct sl_meta *m, op_fn fn, void *arg, struct sl_err *err)
{
	struct run_ctx r = {.m = m, .write = true, .fn = fn, .arg = arg};
	return sl_sql_txn_once(sl_sql_be_of(m)->pool, run_cb, &r, err);
}

uint64_t sl_sqlq_armed_token(struct sl_meta *m)
{
	return sl_sql_pool_armed_token(sl_sql_be_of(m)->pool);
}

static void sql_arm_once(struct sl_meta *m, struct sl_meta_once *once)
{
	sl_sql_pool_arm_once(sl_sql_be_of(m)->pool, once);
}

static int ddl_op(struct tx *t, void *arg)
{
	const char *const *ddl = arg;
	int rc = 0;
	for (size_t i = 0; !rc && ddl[i]; i++)
		rc = t->d->exec(t->c, ddl[i], t->err);
	return rc;
}

int sl_sqlq_own_table(struct sl_meta *m, bool *ready, const char *const *ddl, const char *what,
		      struct sl_err *err)
{
	struct sqlbe *b = sl_sql_be_of(m);
	pthread_mutex_lock(&b->lock);
	bool done = *ready;
	pthread_mutex_unlock(&b->lock);
	if (done)
		return 0;
	int rc = sl_sqlq_run(m, false, ddl_op, (void *)ddl, err);
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

/* n bytes as an SQL hex literal, X'..', which both dialects read as a binary string. */
static void put_hex(struct sl_strbuf *b, const void *data, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *p = data;
	sl_strbuf_puts(b, "X'");
	for (size_t k = 0; k < n; k++) {
		char two[2] = {hex[p[k] >> 4], hex[p[k] & 15]};
		sl_strbuf_putn(b, two, 2);
	}
	sl_strbuf_putc(b, '\'');
}

static int write_v(struct tx *t, int64_t *changed, const char *sql, const char *fmt, va_list ap)
{
	if (strspn(fmt, "ibt") != strlen(fmt)) /* refused alike by every driver */
		return sl_errf(t->err, -EINVAL, "a deferred write takes integers, blobs and text: "
			       "\"%.80s\"", sql);
	if (!t->write || !t->d->defer || !t->d->batches_statements(t->c))
		return q_vexec(t, changed, sql, fmt, ap);
	/* The statement with each '?' replaced by its value: integers in decimal, blobs as hex
	 * literals, which both dialects read as binary strings whatever the SQL mode; text made of
	 * letters, digits and "_.-" (counter and setting names) quoted, as the column's own kind of
	 * string, which any index on it serves; other text as a hex literal, compared as bytes. */
	static const char PLAIN_TEXT[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_.-";
	struct sl_strbuf b = {0};
	const char *f = fmt;
	int rc = 0;
	for (const char *c = sql; *c && !rc; c++) {
		if (*c != '?') {
			sl_strbuf_putc(&b, *c);
			continue;
		}
		if (!*f) {
			rc = sl_errf(t->err, -EINVAL, "more parameters than arguments in \"%.80s\"",
				     sql);
		} else if (*f++ == 'i') {
			sl_strbuf_printf(&b, "%" PRId64, va_arg(ap, int64_t));
		} else if (f[-1] == 't') {
			const char *txt = va_arg(ap, const char *);
			if (!txt)
				sl_strbuf_puts(&b, "NULL");
			else if (strspn(txt, PLAIN_TEXT) == strlen(txt))
				sl_strbuf_printf(&b, "'%s'", txt);
			else
				put_hex(&b, txt, strlen(txt));
		} else {
			const void *p = va_arg(ap, const void *);
			put_hex(&b, p, va_arg(ap, size_t));
		}
	}
	const char *text = sl_strbuf_str(&b);
	if (!rc)
		rc = text ? t->d->defer(t->c, text, changed, t->err) : sl_sql_nomem(t);
	sl_strbuf_free(&b);
	return rc;
}

int sl_sqlq_write(struct tx *t, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = write_v(t, NULL, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int sl_sqlq_write_counted(struct tx *t, int64_t *changed, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = write_v(t, changed, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* sql followed by the driver's FOR UPDATE clause, in buf. */
const char *sl_sql_fu(struct tx *t, char *buf, size_t size, const char *sql)
{
	snprintf(buf, size, "%s%s", sql, t->d->for_update);
	return buf;
}

uint64_t sl_sql_col_u64(struct tx *t, struct sl_sql_stmt *s, int col)
{
	return t->d->col_null(s, col) ? 0 : (uint64_t)t->d->col_i64(s, col);
}

/* A blob column copied into a fresh NUL-terminated buffer. */
char *sl_sql_col_dup(struct tx *t, struct sl_sql_stmt *s, int col, size_t *len)
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

int sl_sql_nomem(struct tx *t) { return sl_errf(t->err, -ENOMEM, "out of memory"); }

/* ---- nodes ----------------------------------------------------------------------------------- */

void sl_sql_node_row(struct tx *t, struct sl_sql_stmt *s, int c0, sl_ino *ino, struct sl_attr *a)
{
	memset(a, 0, sizeof(*a));
	if (ino)
		*ino = sl_sql_col_u64(t, s, c0);
	a->type = (uint8_t)sl_sql_col_u64(t, s, c0 + 1);
	a->flags = (uint8_t)sl_sql_col_u64(t, s, c0 + 2);
	a->mode = (uint16_t)(sl_sql_col_u64(t, s, c0 + 3) & 07777);
	a->uid = (uint32_t)sl_sql_col_u64(t, s, c0 + 4);
	a->gid = (uint32_t)sl_sql_col_u64(t, s, c0 + 5);
	a->atime_ns = sl_time_join(t->d->col_i64(s, c0 + 6), t->d->col_i64(s, c0 + 9));
	a->mtime_ns = sl_time_join(t->d->col_i64(s, c0 + 7), t->d->col_i64(s, c0 + 10));
	a->ctime_ns = sl_time_join(t->d->col_i64(s, c0 + 8), t->d->col_i64(s, c0 + 11));
	a->nlink = (uint32_t)sl_sql_col_u64(t, s, c0 + 12);
	a->length = sl_sql_col_u64(t, s, c0 + 13);
	a->rdev = (uint32_t)sl_sql_col_u64(t, s, c0 + 14);
	a->parent = sl_sql_col_u64(t, s, c0 + 15);
	a->access_acl = (uint32_t)sl_sql_col_u64(t, s, c0 + 16);
	a->default_acl = (uint32_t)sl_sql_col_u64(t, s, c0 + 17);
}

/* Reads a node (locked for update when lock); -ENOENT if it does not exist. */
int sl_sql_node_get(struct tx *t, sl_ino ino, bool lock, struct sl_attr *a)
{
	char buf[256];
	const char *sql = "SELECT " NODE_COLS " FROM jfs_node WHERE inode = ?";
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, lock ? FU(t, buf, sql) : sql, "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist", ino);
	sl_sql_node_row(t, s, 0, NULL, a);
	t->d->finalize(s);
	return 0;
}

int sl_sql_node_insert(struct tx *t, sl_ino ino, const struct sl_attr *a)
{
	return sl_sqlq_write(t,
			     "INSERT INTO jfs_node (inode, type, flags, mode, uid, gid, atime, mtime, ctime, "
			     "atimensec, mtimensec, ctimensec, nlink, length, rdev, parent, access_acl_id, "
			     "default_acl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     "iiiiiiiiiiiiiiiiii", (int64_t)ino, (int64_t)a->type, (int64_t)a->flags,
			     (int64_t)(a->mode & 07777), (int64_t)a->uid, (int64_t)a->gid,
			     sl_time_us(a->atime_ns), sl_time_us(a->mtime_ns), sl_time_us(a->ctime_ns),
			     sl_time_nsrem(a->atime_ns), sl_time_nsrem(a->mtime_ns),
			     sl_time_nsrem(a->ctime_ns), (int64_t)a->nlink, (int64_t)a->length,
			     (int64_t)a->rdev, (int64_t)a->parent, (int64_t)a->access_acl,
			     (int64_t)a->default_acl);
}

int sl_sql_locked_dir_touch(struct tx *t, sl_ino dir, int64_t dnlink, int64_t now)
{
	return sl_sqlq_write(t, "UPDATE jfs_node SET nlink = nlink + ?, mtime = ?, mtimensec = ?, "
			     "ctime = ?, ctimensec = ? WHERE inode = ?",
			     "iiiiii", dnlink, sl_time_us(now), sl_time_nsrem(now), sl_time_us(now),
			     sl_time_nsrem(now), (int64_t)dir);
}

/* Adds dnlink to a directory's link count and sets its mtime and ctime; -ENOENT if it vanished. */
int sl_sql_dir_touch(struct tx *t, sl_ino dir, int64_t dnlink, int64_t now)
{
	int64_t n = 0;
	int rc = sl_sqlq_exec(t, &n,
			      "UPDATE jfs_node SET nlink = nlink + ?, mtime = ?, mtimensec = ?, ctime = ?, "
			      "ctimensec = ? WHERE inode = ?",
			      "iiiiii", dnlink, sl_time_us(now), sl_time_nsrem(now), sl_time_us(now),
			      sl_time_nsrem(now), (int64_t)dir);
	if (!rc && n == 0)
		rc = sl_errf(t->err, -ENOENT, "directory %" PRIu64 " was removed meanwhile", dir);
	return rc;
}

/* Adds delta to a counter inside a transaction (creating it at 0); *value gets the new value. */
int sl_sql_counter_add(struct tx *t, const char *name, int64_t delta, int64_t *value)
{
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT value FROM jfs_counter WHERE name = ?"), "t",
			     name);
	if (rc < 0)
		return rc;
	int64_t v = delta;
	if (rc) {
		v += t->d->col_i64(s, 0);
		t->d->finalize(s);
		rc = sl_sqlq_write(t, "UPDATE jfs_counter SET value = ? WHERE name = ?", "it", v, name);
	} else {
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)", "ti", name,
				  v);
	}
	if (!rc && value)
		*value = v;
	return rc;
}

int sl_sql_check_name(const char *name, struct sl_err *err)
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

int sl_sql_deny(struct tx *t, const char *what, sl_ino ino)
{
	return sl_errf(t->err, -EACCES, "permission denied: %s (inode %" PRIu64 ")", what, ino);
}

/* The parent of a modifying operation: a directory the user may write and search. */
int sl_sql_dir_for_change(struct tx *t, const struct sl_meta_user *u, sl_ino dir,
			  struct sl_attr *a)
{
	int rc = sl_sql_node_get(t, dir, false, a);
	return rc ? rc : sl_sql_dir_change_check(t, u, dir, a);
}

int sl_sql_dir_entry_lock(struct tx *t, sl_ino dir, const char *name, struct sl_attr *a,
			  sl_ino *ino, uint8_t *type)
{
	char buf[512];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT " NODE_COLS_N ", e.inode, e.type FROM "
					       "jfs_node n LEFT JOIN jfs_edge e ON e.parent = "
					       "n.inode AND e.name = ? WHERE n.inode = ?"),
			     "bi", name, strlen(name), (int64_t)dir);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist", dir);
	sl_sql_node_row(t, s, 0, NULL, a);
	bool found = !t->d->col_null(s, NODE_NCOLS);
	*ino = found ? sl_sql_col_u64(t, s, NODE_NCOLS) : 0;
	*type = found ? (uint8_t)sl_sql_col_u64(t, s, NODE_NCOLS + 1) : 0;
	t->d->finalize(s);
	return found;
}

int sl_sql_dirs_entries_lock(struct tx *t, struct sl_sql_dir_entry *x, struct sl_sql_dir_entry *y)
{
	char buf[640];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, FU(t, buf, "SELECT " NODE_COLS_N ", e.inode, e.type FROM "
					"jfs_node n LEFT JOIN jfs_edge e ON e.parent = n.inode AND "
					"e.name = CASE WHEN n.inode = ? THEN ? ELSE ? END WHERE "
					"n.inode IN (?, ?) ORDER BY n.inode"),
			      "ibbii", (int64_t)x->dir, x->name, strlen(x->name), y->name,
			      strlen(y->name), (int64_t)x->dir, (int64_t)y->dir);
	if (rc < 0)
		return rc;
	x->found = y->found = -ENOENT;
	while ((rc = t->d->step(s, t->err)) > 0) {
		sl_ino ino = sl_sql_col_u64(t, s, 0);
		struct sl_sql_dir_entry *at = ino == x->dir ? x : y;
		sl_sql_node_row(t, s, 0, NULL, &at->attr);
		at->found = !t->d->col_null(s, NODE_NCOLS);
		at->ino = at->found ? sl_sql_col_u64(t, s, NODE_NCOLS) : 0;
		at->type = at->found ? (uint8_t)sl_sql_col_u64(t, s, NODE_NCOLS + 1) : 0;
	}
	t->d->finalize(s);
	if (rc < 0)
		return rc;
	if (x->found < 0 || y->found < 0)
		return sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist",
			       x->found < 0 ? x->dir : y->dir);
	return 0;
}

int sl_sql_dir_change_check(struct tx *t, const struct sl_meta_user *u, sl_ino dir,
			    const struct sl_attr *a)
{
	if (a->type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", dir);
	int rc = sl_sql_may(t, u, dir, a, SL_MAY_WRITE | SL_MAY_EXEC,
			    "cannot write to the directory");
	if (rc)
		return rc;
	if (a->flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is immutable", dir);
	return 0;
}

/* ---- usage deltas, applied after commit ------------------------------------------------------ */

void sl_sql_acct_reset(struct acct *a)
{
	a->n = 0;
	a->tspace = a->tinodes = 0;
	sl_sql_acct_move(a, 0, 0, 0, 0);
}

void sl_sql_account(struct sl_meta *m, sl_ino dir, int64_t len, int64_t space, int64_t inodes)
{
	sl_meta_account(m, dir, len, space, inodes);
	sl_sql_quota_account(m, dir, space, inodes);
}

int sl_sql_acct_dir(struct tx *t, struct acct *a, sl_ino dir, int64_t len, int64_t space,
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
			return sl_sql_nomem(t);
		a->d = nd;
		a->cap = cap;
	}
	a->d[a->n++] = (struct acct_dir){dir, len, space, inodes};
	return 0;
}

void sl_sql_acct_total(struct acct *a, int64_t space, int64_t inodes)
{
	a->tspace += space;
	a->tinodes += inodes;
}

void sl_sql_acct_move(struct acct *a, sl_ino from, sl_ino to, int64_t space, int64_t inodes)
{
	a->move_from = from;
	a->move_to = to;
	a->move_space = space;
	a->move_inodes = inodes;
}

void sl_sql_acct_apply(struct sl_meta *m, struct acct *a)
{
	int64_t space = a->tspace, inodes = a->tinodes;
	if (a->move_space || a->move_inodes)
		sl_sql_quota_account_move(m, a->move_from, a->move_to, a->move_space,
					  a->move_inodes);
	for (size_t i = 0; i < a->n; i++) {
		sl_sql_account(m, a->d[i].dir, a->d[i].len, a->d[i].space, a->d[i].inodes);
		space -= a->d[i].space;
		inodes -= a->d[i].inodes;
	}
	if (space || inodes)
		sl_meta_account(m, 0, 0, space, inodes);
}

void sl_sql_acct_free(struct acct *a)
{
	free(a->d);
	a->d = NULL;
	a->n = a->cap = 0;
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
	struct sqlbe *b = sl_sql_be_of(m);
	struct sl_sql_url u;
	int rc = sl_sql_url_parse(url, &u, err);
	if (rc)
		return rc;
	snprintf(m->url_redacted, sizeof(m->url_redacted), "%s", u.redacted);
	b->d = u.driver;
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
	sl_sql_quotas_init(&b->quotas);
	sl_sql_acls_init(&b->acls);
	rc = sl_sql_pool_new(b->d, &u, &pc, &b->pool, err);
	if (rc) {
		sl_sql_acls_free(&b->acls);
		sl_sql_quotas_free(&b->quotas);
		pthread_mutex_destroy(&b->lock);
	}
out:
	sl_sql_url_free(&u);
	return rc;
}

static void sql_cleanup(struct sl_meta *m)
{
	struct sqlbe *b = sl_sql_be_of(m);
	if (!b->pool)
		return;
	sl_sql_pool_free(b->pool);
	b->pool = NULL;
	free(b->info);
	sl_sql_quotas_free(&b->quotas);
	sl_sql_acls_free(&b->acls);
	pthread_mutex_destroy(&b->lock);
}

/* ---- volume ---------------------------------------------------------------------------------- */

/* A database without our tables is "no volume", not an I/O error; drivers report a missing
 * table as a generic error, so recognise the engines' own wording. */
bool sl_sql_missing_table(const struct sl_err *err, int rc, const char *table)
{
	return err && rc == -EIO && strstr(err->msg, table) &&
	       (strstr(err->msg, "no such table") || strstr(err->msg, "doesn't exist"));
}

static bool missing_table(const struct sl_err *err, int rc)
{
	return rc == -ENOENT || sl_sql_missing_table(err, rc, "jfs_setting");
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
	int rc = sl_sqlq_row(t, &s, "SELECT value FROM jfs_setting WHERE name = ?", "t", a->name);
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	a->json = sl_sql_col_dup(t, s, 0, NULL);
	t->d->finalize(s);
	return a->json ? 0 : sl_sql_nomem(t);
}

static int sql_get_setting(struct sl_meta *m, const char *name, char **value,
			   struct sl_err *err)
{
	*value = NULL;
	struct load_arg a = {.name = name};
	int rc = sl_sqlq_run(m, false, load_op, &a, err);
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
	return sl_sqlq_exec(t, NULL, "INSERT INTO jfs_setting (name, value) VALUES (?, ?)", "tt", a->name,
			    a->value);
}

static int sql_add_setting(struct sl_meta *m, const char *name, const char *value,
			   struct sl_err *err)
{
	struct setting_arg a = {name, value};
	return sl_sqlq_run(m, true, add_setting_op, &a, err);
}

static int sql_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	*json = NULL;
	struct load_arg a = {.name = "format"};
	int rc = sl_sqlq_run(m, false, load_op, &a, err);
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
	int rc = sl_sqlq_row(t, &s, "SELECT inode FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	return rc ? 0 : sl_sql_node_insert(t, ino, a);
}

static int format_op(struct tx *t, void *arg)
{
	struct format_arg *a = arg;
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT name FROM jfs_setting WHERE name = ?"), "t",
			     "format");
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	if (rc > 0) {
		if (!a->force)
			return sl_errf(t->err, -EEXIST, "a volume is already formatted in %s",
				       t->m->url_redacted);
		return sl_sqlq_exec(t, NULL, "UPDATE jfs_setting SET value = ? WHERE name = ?", "tt",
				    a->json, "format");
	}
	if ((rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_setting (name, value) VALUES (?, ?)", "tt",
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
		rc = sl_sqlq_row(t, &s, "SELECT value FROM jfs_counter WHERE name = ?", "t",
				 counters[i].name);
		if (rc < 0)
			return rc;
		t->d->finalize(s);
		if (!rc && (rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)",
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
	struct sqlbe *b = sl_sql_be_of(m);
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
	return sl_sqlq_run(m, true, format_op, &a, err);
}

const struct sl_meta_backend sl_meta_sql_backend = {
	.version = SL_META_BACKEND_VERSION,
	.name = "sql",
	.caps = SL_META_CAP_COMMIT_ENDS_LEASE,
	.priv_size = sizeof(struct sqlbe),
	.init = sql_init,
	.cleanup = sql_cleanup,
	.arm_once = sql_arm_once,
	.load_format = sql_load_format,
	.get_setting = sql_get_setting,
	.add_setting = sql_add_setting,
	.format = sql_format,
	.new_session = sl_sql_new_session,
	.refresh_session = sl_sql_refresh_session,
	.close_session = sl_sql_close_session,
	.close_stale_session = sl_sql_close_stale_session,
	.list_sessions = sl_sql_list_sessions,
	.get_session = sl_sql_get_session,
	.incr_counter = sl_sql_incr_counter,
	.update_dir_stats = sl_sql_update_dir_stats,
	.quota_set = sl_sql_quota_set,
	.quota_delete = sl_sql_quota_delete,
	.quota_list = sl_sql_quota_list,
	.quota_flush = sl_sql_quota_flush,
	.getfacl = sl_sql_getfacl,
	.snapshot = sl_sql_snapshot,
	.scan_chunks = sl_sql_scan_chunks,
	.check_dir = sl_sql_check_dir,
	.load = sl_sql_load,
	.setfacl = sl_sql_setfacl,
	.access = sl_sql_access_check,
	.resolve = sl_sql_resolve,
	.lookup = sl_sql_lookup,
	.getattr = sl_sql_getattr,
	.reach = sl_sql_reach,
	.setattr = sl_sql_setattr,
	.mknod = sl_sql_mknod,
	.mknod_leased = sl_sql_mknod_leased,
	.unlink = sl_sql_unlink,
	.rmdir = sl_sql_rmdir,
	.rename = sl_sql_rename,
	.remove_tree = sl_sql_remove_tree,
	.readdir = sl_sql_readdir,
	.readlink = sl_sql_readlink,
	.inode_path = sl_sql_inode_path,
	.read_chunk = sl_sql_read_chunk,
	.next_chunk = sl_sql_next_chunk,
	.write_chunk = sl_sql_write_chunk,
	.write_chunks = sl_sql_write_chunks,
	.truncate = sl_sql_truncate,
	.concat = sl_sql_concat,
	.delete_file_data = sl_sql_delete_file_data,
	.compact_chunk = sl_sql_compact_chunk,
	.lease_acquire = sl_sql_lease_acquire,
	.lease_release = sl_sql_lease_release,
	.lease_recover = sl_sql_lease_recover,
	.lease_sweep = sl_sql_lease_sweep,
	.forget_slice = sl_sql_forget_slice,
	.list_delfiles = sl_sql_list_delfiles,
	.release = sl_sql_release,
	.getxattr = sl_sql_getxattr,
	.setxattr = sl_sql_setxattr,
	.listxattr = sl_sql_listxattr,
	.removexattr = sl_sql_removexattr,
	.summary = sl_sql_summary,
	.unsupported_features = sl_sql_unsupported_features,
	.token_store = &sl_sql_token_store,
	.slice_refs = sl_sql_slice_refs,
	.list_dead_slices = sl_sql_list_dead_slices,
	.clean_trash = sl_sql_clean_trash,
	.set_if_small = sl_sql_set_if_small,
	.block_crc_get = sl_sql_block_crc_get,
	.block_crc_put = sl_sql_block_crc_put,
	.block_claim = sl_sql_block_claim,
	.block_claim_end = sl_sql_block_claim_end,
};
