/*
 * sql_namespace.c - the "sql" backend's namespace lookups: resolving a path (one query for the
 * whole walk), lookup, getattr and setattr, whether an inode can be reached from the root;
 * listing a directory, reading a symlink and an inode's path. The rules of sql.c's header hold
 * here too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

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

/* Components walked by one query: each adds two tables to its join (MariaDB joins at most 61). */
#define RESOLVE_CHUNK 24

/* The columns of table alias x in cols ("a, b, ..."). */
static void cols_of(struct sl_strbuf *b, const char *x, const char *cols)
{
	for (const char *c = cols; *c; c += strspn(c, ", ")) {
		size_t n = strcspn(c, ",");
		sl_strbuf_printf(b, "%s%s.%.*s", c == cols ? "" : ", ", x, (int)n, c);
		c += n;
	}
}

/* What a walk reads of a directory it passes through: enough to search it (sl_meta_access). */
#define DIR_COLS "inode, type, mode, uid, gid, access_acl_id"
#define DIR_NCOLS 6

static void dir_row(struct tx *t, struct sl_sql_stmt *s, int c0, struct sl_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = (uint8_t)sl_sql_col_u64(t, s, c0 + 1);
	a->mode = (uint16_t)(sl_sql_col_u64(t, s, c0 + 2) & 07777);
	a->uid = (uint32_t)sl_sql_col_u64(t, s, c0 + 3);
	a->gid = (uint32_t)sl_sql_col_u64(t, s, c0 + 4);
	a->access_acl = (uint32_t)sl_sql_col_u64(t, s, c0 + 5);
}

/* One query walks k components of the path from depth `from` (found already): a chain of joins,
 * edge then node at each depth, so that every step is a lookup by unique key and the row stops
 * being filled where a name is missing (or below a file, which has no entries). The node of
 * every step comes back, so that the caller can tell ENOENT from ENOTDIR and check search
 * permission on each directory: the permission columns of the nodes on the way, every column of
 * the path's last. (A recursive CTE did the same in one query for any depth, at a cost the
 * server's temporary tables made about a third higher.) */
static int resolve_chunk(struct tx *t, struct resolve_arg *a, size_t from, size_t k)
{
	struct sl_strbuf q = {0};
	sl_strbuf_puts(&q, "SELECT ");
	cols_of(&q, "n0", DIR_COLS);
	for (size_t d = 1; d <= k; d++) {
		char x[8];
		snprintf(x, sizeof(x), "n%zu", d);
		sl_strbuf_printf(&q, ", e%zu.inode, ", d);
		cols_of(&q, x, from + d == a->n ? NODE_COLS : DIR_COLS);
	}
	sl_strbuf_puts(&q, " FROM jfs_node n0");
	for (size_t d = 1; d <= k; d++) {
		if (d == 1)
			sl_strbuf_puts(&q, " LEFT JOIN jfs_edge e1 ON e1.parent = n0.inode");
		else
			sl_strbuf_printf(&q, " LEFT JOIN jfs_edge e%zu ON e%zu.parent = e%zu.inode", d,
					 d, d - 1);
		sl_strbuf_printf(&q, " AND e%zu.name = ? LEFT JOIN jfs_node n%zu ON n%zu.inode = "
				 "e%zu.inode", d, d, d, d);
	}
	sl_strbuf_printf(&q, " WHERE n0.inode = ?");
	const char *sql = sl_strbuf_str(&q);
	struct sl_sql_stmt *s = NULL;
	int rc = sql ? t->d->prepare(t->c, sql, &s, t->err) : sl_sql_nomem(t);
	for (size_t d = 1; !rc && d <= k; d++)
		if (t->d->bind_blob(s, (int)d, a->names[from + d - 1],
				    strlen(a->names[from + d - 1])))
			rc = sl_errf(t->err, -EIO, "binding a path component");
	if (!rc && t->d->bind_i64(s, (int)k + 1, (int64_t)(from ? a->inos[from] : SL_ROOT_INO)))
		rc = sl_errf(t->err, -EIO, "binding the inode a walk starts from");
	if (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (!from) {
			a->inos[0] = sl_sql_col_u64(t, s, 0);
			a->valid[0] = true;
			dir_row(t, s, 0, &a->attrs[0]);
			a->found = 1;
		}
		int c = DIR_NCOLS;
		for (size_t d = 1; d <= k; d++, c += DIR_NCOLS + 1) {
			if (t->d->col_null(s, c))
				break;
			size_t at = from + d;
			a->inos[at] = sl_sql_col_u64(t, s, c);
			a->valid[at] = !t->d->col_null(s, c + 1);
			if (a->valid[at] && at == a->n)
				sl_sql_node_row(t, s, c + 1, NULL, &a->attrs[at]);
			else if (a->valid[at])
				dir_row(t, s, c + 1, &a->attrs[at]);
			a->found = at + 1;
		}
	}
	t->d->finalize(s);
	sl_strbuf_free(&q);
	return rc < 0 ? rc : 0;
}

static int resolve_op(struct tx *t, void *arg)
{
	struct resolve_arg *a = arg;
	a->found = 0;
	int rc = 0;
	for (size_t from = 0; !rc && from < a->n; from += RESOLVE_CHUNK) {
		if (from && a->found != from + 1)
			break; /* the walk stopped before the chunk's end */
		size_t k = a->n - from < RESOLVE_CHUNK ? a->n - from : RESOLVE_CHUNK;
		rc = resolve_chunk(t, a, from, k);
	}
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

int sl_sql_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
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
		if (!(rc = sl_sqlq_run(m, false, getattr_op, &g, err))) {
			*ino = SL_ROOT_INO;
			*attr = g.attr;
		}
		goto out;
	}
	if ((rc = sl_sqlq_run(m, false, resolve_op, &a, err)))
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
		if ((rc = sl_sql_access_outside(m, u, &a.attrs[i], SL_MAY_EXEC, err))) {
			if (rc == -EACCES)
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
	int rc = sl_sqlq_row(t, &s,
			     "SELECT p.type, p.mode, p.uid, p.gid, e.inode, e.type, p.access_acl_id, "
			     NODE_COLS_N
			     " FROM jfs_node p LEFT JOIN jfs_edge e "
			     "ON e.parent = p.inode AND e.name = ? "
			     "LEFT JOIN jfs_node n ON n.inode = e.inode WHERE p.inode = ?",
			     "bi", a->name, strlen(a->name), (int64_t)a->parent);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " does not exist", a->parent);
	struct sl_attr p = {.type = (uint8_t)sl_sql_col_u64(t, s, 0),
			    .mode = (uint16_t)(sl_sql_col_u64(t, s, 1) & 07777),
			    .uid = (uint32_t)sl_sql_col_u64(t, s, 2),
			    .gid = (uint32_t)sl_sql_col_u64(t, s, 3),
			    .access_acl = (uint32_t)sl_sql_col_u64(t, s, 6)};
	bool exists = !t->d->col_null(s, 4), corrupt = t->d->col_null(s, 7);
	a->ino = sl_sql_col_u64(t, s, 4);
	if (exists && !corrupt)
		sl_sql_node_row(t, s, 7, NULL, &a->attr);
	else if (exists) /* the entry without its node: report what the entry says */
		a->attr = (struct sl_attr){.type = (uint8_t)sl_sql_col_u64(t, s, 5),
					   .parent = a->parent};
	t->d->finalize(s);
	if (p.type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->parent);
	if ((rc = sl_sql_may(t, a->u, a->parent, &p, SL_MAY_EXEC, "cannot search the directory")))
		return rc;
	if (!exists)
		return sl_errf(t->err, -ENOENT, "'%s' does not exist in directory %" PRIu64, a->name,
			       a->parent);
	return 0;
}

int sl_sql_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		  const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct lookup_arg a = {.u = u, .parent = parent, .name = name};
	int rc = sl_sql_check_name(name, err);
	if (!rc)
		rc = sl_sqlq_run(m, false, lookup_op, &a, err);
	if (!rc) {
		*ino = a.ino;
		*attr = a.attr;
	}
	return rc;
}

static int getattr_op(struct tx *t, void *arg)
{
	struct getattr_arg *a = arg;
	return sl_sql_node_get(t, a->ino, false, &a->attr);
}

int sl_sql_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_attr *attr, struct sl_err *err)
{
	(void)u;
	struct getattr_arg a = {.ino = ino};
	int rc = sl_sqlq_run(m, false, getattr_op, &a, err);
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

/* HDFS's rules (sl_meta_setattr_denied), in the transaction that changes the attributes. */
static int setattr_op(struct tx *t, void *arg)
{
	struct setattr_arg *a = arg;
	struct sl_attr *n = &a->out;
	int rc = sl_sql_node_get(t, a->ino, true, n);
	if (rc)
		return rc;
	if (n->flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->ino);
	struct sl_acl rule;
	const struct sl_acl *acl = NULL;
	if (n->access_acl) {
		if ((rc = sl_sql_acl_get(t, n->access_acl, &rule)))
			return rc;
		acl = &rule;
	}
	const char *why = sl_meta_setattr_denied(a->u, n, acl, a->set, a->in);
	if (why)
		return sl_sql_deny(t, why, a->ino);
	if (a->set & SL_SET_MODE) {
		n->mode = a->in->mode & 07777;
		if (acl) { /* the bits go to the ACL (its mask for the group's), as juicefs does */
			sl_acl_set_mode(&rule, n->mode);
			n->mode = (uint16_t)((n->mode & 07000) | sl_acl_mode(&rule));
			if ((rc = sl_sql_acl_put(t, &rule, &n->access_acl)))
				return rc;
		}
	}
	if (a->set & SL_SET_UID)
		n->uid = a->in->uid;
	if (a->set & SL_SET_GID)
		n->gid = a->in->gid;
	if (a->set & SL_SET_ATIME)
		n->atime_ns = a->in->atime_ns;
	if (a->set & SL_SET_MTIME)
		n->mtime_ns = a->in->mtime_ns;
	n->ctime_ns = sl_real_ns();
	return sl_sqlq_exec(t, NULL,
			    "UPDATE jfs_node SET mode = ?, uid = ?, gid = ?, atime = ?, "
			    "atimensec = ?, mtime = ?, mtimensec = ?, ctime = ?, ctimensec = ?, "
			    "access_acl_id = ? WHERE inode = ?",
			    "iiiiiiiiiii", (int64_t)n->mode, (int64_t)n->uid, (int64_t)n->gid,
			    sl_time_us(n->atime_ns), sl_time_nsrem(n->atime_ns),
			    sl_time_us(n->mtime_ns), sl_time_nsrem(n->mtime_ns),
			    sl_time_us(n->ctime_ns), sl_time_nsrem(n->ctime_ns),
			    (int64_t)n->access_acl, (int64_t)a->ino);
}

int sl_sql_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		   const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct setattr_arg a = {.u = u, .ino = ino, .set = set, .in = in};
	int rc = sl_sqlq_run_once(m, setattr_op, &a, err);
	if (!rc && out)
		*out = a.out;
	return rc;
}

/* Whether u may search every directory from the root down to dir (dir included): one query walks
 * up the parent column. Sets *ok; a chain that breaks off (a missing node) or loops is not ok.
 * A chain through the trash sets *in_trash to the trash's entry it passes (0: none) and *below
 * to the node under that (child: the one whose parent dir is, when that is the entry). */
static int search_up(struct tx *t, const struct sl_meta_user *u, sl_ino dir, sl_ino child,
		     bool *ok, sl_ino *in_trash, sl_ino *below)
{
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s,
			      "WITH RECURSIVE up(ino, d) AS (SELECT ?, 0 UNION ALL "
			      "SELECT n.parent, up.d + 1 FROM jfs_node n JOIN up "
			      "ON n.inode = up.ino WHERE up.ino <> 1 AND up.d < 1000) "
			      "SELECT up.ino, n.type, n.mode, n.uid, n.gid, n.access_acl_id FROM up "
			      "LEFT JOIN jfs_node n ON n.inode = up.ino ORDER BY up.d",
			      "i", (int64_t)dir);
	if (rc)
		return rc;
	bool root = false;
	struct sl_sql_deferred later = {0};
	sl_ino denied = 0, prev = child, prev2 = 0;
	*in_trash = *below = 0;
	while (!denied && (rc = t->d->step(s, t->err)) > 0) {
		struct sl_attr d = {.type = (uint8_t)sl_sql_col_u64(t, s, 1),
				    .mode = (uint16_t)(sl_sql_col_u64(t, s, 2) & 07777),
				    .uid = (uint32_t)sl_sql_col_u64(t, s, 3),
				    .gid = (uint32_t)sl_sql_col_u64(t, s, 4),
				    .access_acl = (uint32_t)sl_sql_col_u64(t, s, 5)};
		sl_ino ino = sl_sql_col_u64(t, s, 0);
		root = root || ino == SL_ROOT_INO;
		if (ino == SL_TRASH_INO && !*in_trash) {
			*in_trash = prev;
			*below = prev2;
		}
		prev2 = prev;
		prev = ino;
		if (t->d->col_null(s, 1) || d.type != SL_TYPE_DIR) {
			denied = ino ? ino : SL_ROOT_INO; /* a chain that breaks off */
			rc = 0;
			continue;
		}
		rc = sl_sql_access_or_defer(t, u, ino, &d, SL_MAY_EXEC, &later);
		if (rc == -EACCES)
			denied = ino;
		else if (rc)
			break;
		rc = 0;
	}
	t->d->finalize(s);
	int arc = sl_sql_access_deferred(t, u, SL_MAY_EXEC, &later, &denied);
	if (rc >= 0)
		rc = arc;
	*ok = rc >= 0 && root && !denied;
	return rc < 0 ? rc : 0;
}

struct reach_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
};

/* Whether u may search every directory down to dir, where dir may be in the trash: a node of a
 * snapshot (its chain passes .trash/.sluice-snapshots/<dir>) needs the snapshot's directory
 * reachable, the rest of the trash only its own modes. */
static int reachable(struct tx *t, const struct sl_meta_user *u, sl_ino dir, sl_ino child,
		     bool *ok)
{
	sl_ino entry, below, owner = 0;
	int rc = search_up(t, u, dir, child, ok, &entry, &below);
	if (!rc && *ok && entry && below)
		rc = sl_sql_snapshot_owner(t, entry, below, &owner);
	if (!rc && owner)
		rc = search_up(t, u, owner, 0, ok, &entry, &below);
	return rc;
}

static int reach_op(struct tx *t, void *arg)
{
	struct reach_arg *a = arg;
	struct sl_attr n;
	int rc = sl_sql_node_get(t, a->ino, false, &n);
	if (rc || a->ino == SL_ROOT_INO)
		return rc;
	bool ok = false;
	if (n.parent) /* hard-linked files have none: any of their entries will do */
		return (rc = reachable(t, a->u, n.parent, a->ino, &ok)) ? rc : ok ? 0
			: sl_sql_deny(t, "cannot reach it from the root", a->ino);
	struct sl_sql_stmt *s;
	if ((rc = sl_sqlq_open(t, &s, "SELECT parent FROM jfs_edge WHERE inode = ?", "i",
			       (int64_t)a->ino)))
		return rc;
	sl_ino parents[16];
	size_t np = 0;
	while (np < 16 && (rc = t->d->step(s, t->err)) > 0)
		parents[np++] = sl_sql_col_u64(t, s, 0);
	t->d->finalize(s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; !rc && !ok && i < np; i++)
		rc = reachable(t, a->u, parents[i], a->ino, &ok);
	return rc ? rc : ok ? 0 : sl_sql_deny(t, "cannot reach it from the root", a->ino);
}

int sl_sql_reach(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		 struct sl_err *err)
{
	if (sl_meta_superuser(u))
		return 0;
	struct reach_arg a = {.u = u, .ino = ino};
	return sl_sqlq_run(m, false, reach_op, &a, err);
}

/* ---- listing and symlinks -------------------------------------------------------------------- */

void sl_sql_dirent_rows_clear(struct readdir_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rows[i].name);
	a->n = 0;
}

int sl_sql_readdir_op(struct tx *t, void *arg)
{
	struct readdir_arg *a = arg;
	sl_sql_dirent_rows_clear(a);
	struct sl_attr d;
	int rc = sl_sql_node_get(t, a->dir, false, &d);
	if (rc)
		return rc;
	if (d.type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->dir);
	/* Hadoop: listing needs READ_EXECUTE on the directory, as HDFS checks it. */
	if ((rc = sl_sql_may(t, a->u, a->dir, &d, SL_MAY_READ | SL_MAY_EXEC,
			      "cannot list the directory")))
		return rc;
	char sql[512];
	/* Names are compared and ordered as bytes (BLOB in SQLite, VARBINARY in MySQL). */
	snprintf(sql, sizeof(sql),
		 "SELECT e.name, e.inode, e.type, " NODE_COLS_N " FROM jfs_edge e LEFT JOIN jfs_node n "
		 "ON n.inode = e.inode WHERE e.parent = ?%s ORDER BY e.name%s",
		 a->after ? " AND e.name > ?" : "", a->limit ? " LIMIT ?" : "");
	struct sl_sql_stmt *s;
	if (a->after && a->limit)
		rc = sl_sqlq_open(t, &s, sql, "ibi", (int64_t)a->dir, a->after, strlen(a->after),
				  (int64_t)a->limit);
	else if (a->after)
		rc = sl_sqlq_open(t, &s, sql, "ib", (int64_t)a->dir, a->after, strlen(a->after));
	else if (a->limit)
		rc = sl_sqlq_open(t, &s, sql, "ii", (int64_t)a->dir, (int64_t)a->limit);
	else
		rc = sl_sqlq_open(t, &s, sql, "i", (int64_t)a->dir);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct dirent_row *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		struct dirent_row *r = &a->rows[a->n];
		if (!(r->name = sl_sql_col_dup(t, s, 0, &r->len))) {
			rc = sl_sql_nomem(t);
			break;
		}
		a->n++;
		r->ino = sl_sql_col_u64(t, s, 1);
		if (t->d->col_null(s, 3)) /* the entry without its node */
			r->attr = (struct sl_attr){.type = (uint8_t)sl_sql_col_u64(t, s, 2),
						   .parent = a->dir};
		else
			sl_sql_node_row(t, s, 3, NULL, &r->attr);
	}
	t->d->finalize(s);
	return rc;
}

int sl_sql_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
		   const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
		   struct sl_err *err)
{
	struct readdir_arg a = {.u = u, .dir = dir, .after = after, .limit = limit};
	int rc = sl_sqlq_run(m, false, sl_sql_readdir_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++) {
		struct sl_dirent_info e = {a.rows[i].name, a.rows[i].len, a.rows[i].ino,
					   a.rows[i].attr};
		if (cb(arg, &e))
			break;
	}
	sl_sql_dirent_rows_clear(&a);
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
	int rc = sl_sqlq_row(t, &s,
			     "SELECT n.type, l.target FROM jfs_node n LEFT JOIN jfs_symlink l "
			     "ON l.inode = n.inode WHERE n.inode = ?", "i", (int64_t)a->ino);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "inode %" PRIu64 " does not exist",
					     a->ino);
	rc = 0;
	if (sl_sql_col_u64(t, s, 0) != SL_TYPE_SYMLINK)
		rc = sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a symlink", a->ino);
	else if (t->d->col_null(s, 1))
		rc = sl_errf(t->err, -EIO, "symlink %" PRIu64 " has no target", a->ino);
	else if (!(a->target = sl_sql_col_dup(t, s, 1, NULL)))
		rc = sl_sql_nomem(t);
	t->d->finalize(s);
	return rc;
}

int sl_sql_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    char **target, struct sl_err *err)
{
	(void)u;
	struct readlink_arg a = {.ino = ino};
	int rc = sl_sqlq_run(m, false, readlink_op, &a, err);
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
		return (a->path = strdup("/")) ? 0 : sl_sql_nomem(t);
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s,
			      "WITH RECURSIVE up(d, parent, name) AS (SELECT 0, parent, name "
			      "FROM jfs_edge WHERE id = (SELECT MIN(id) FROM jfs_edge "
			      "WHERE inode = ?) UNION ALL "
			      "SELECT u.d + 1, e.parent, e.name FROM up u JOIN jfs_edge e "
			      "ON e.inode = u.parent WHERE u.parent <> 1 AND u.d < 4096) "
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
				rc = sl_sql_nomem(t);
				break;
			}
			names = nn;
			cap = nc;
		}
		size_t len;
		if (!(names[n] = sl_sql_col_dup(t, s, 2, &len))) {
			rc = sl_sql_nomem(t);
			break;
		}
		n++;
		total += len + 1;
		top = sl_sql_col_u64(t, s, 1);
		in_trash |= top == SL_TRASH_INO;
	}
	t->d->finalize(s);
	if (!rc && (n == 0 || top != SL_ROOT_INO || in_trash))
		rc = sl_errf(t->err, -ENOENT, "inode %" PRIu64 " has no name under the root (it was "
			     "deleted or is in the trash)", a->ino);
	if (!rc && !(a->path = malloc(total + 1)))
		rc = sl_sql_nomem(t);
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

int sl_sql_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      char **path, struct sl_err *err)
{
	(void)u; /* the core resolves the path as u */
	struct inode_path_arg a = {.ino = ino};
	int rc = sl_sqlq_run(m, false, inode_path_op, &a, err);
	*path = rc ? NULL : a.path;
	if (rc)
		free(a.path);
	return rc;
}
