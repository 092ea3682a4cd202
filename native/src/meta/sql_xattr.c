/*
 * sql_xattr.c - the "sql" backend's extended attributes (jfs_xattr), content summaries of a
 * subtree, and the JuiceFS features Sluice does not support (quotas, POSIX ACLs), found in the
 * volume's tables. The rules of sql.c's header hold here too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

#define XATTR_VALUE_MAX 65536

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
	int rc = sl_sql_node_get(t, a->ino, lock, &n);
	if (!rc)
		rc = sl_sql_may(t, a->u, a->ino, &n, mask, mask & SL_MAY_WRITE
				? "cannot change extended attributes"
				: "cannot read extended attributes");
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
	rc = sl_sqlq_row(t, &s, "SELECT value FROM jfs_xattr WHERE inode = ? AND name = ?", "it",
			 (int64_t)a->ino, a->name);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode "
					     "%" PRIu64, a->name, a->ino);
	a->out = sl_sql_col_dup(t, s, 0, &a->outlen);
	t->d->finalize(s);
	return a->out ? 0 : sl_sql_nomem(t);
}

static int check_xattr_name(const char *name, struct sl_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || n > 255)
		return sl_errf(err, n ? -ERANGE : -EINVAL, "extended attribute names have 1 to 255 "
			       "bytes");
	return 0;
}

int sl_sql_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    const char *name, void **value, size_t *len, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino, .name = name};
	*value = NULL;
	*len = 0;
	int rc = check_xattr_name(name, err);
	if (!rc)
		rc = sl_sqlq_run(m, false, getxattr_op, &a, err);
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
	rc = sl_sqlq_row(t, &s, FU(t, sql, "SELECT id FROM jfs_xattr WHERE inode = ? AND name = ?"),
			 "it", (int64_t)a->ino, a->name);
	if (rc < 0)
		return rc;
	t->d->finalize(s);
	if (rc && (a->flags & SL_XATTR_CREATE))
		return sl_errf(t->err, -EEXIST, "extended attribute '%s' exists", a->name);
	if (!rc && (a->flags & SL_XATTR_REPLACE))
		return sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode %" PRIu64,
			       a->name, a->ino);
	if (rc)
		return sl_sqlq_exec(t, NULL,
				    "UPDATE jfs_xattr SET value = ? WHERE inode = ? AND name = ?",
				    "bit", a->value, a->len, (int64_t)a->ino, a->name);
	return sl_sqlq_exec(t, NULL, "INSERT INTO jfs_xattr (inode, name, value) VALUES (?, ?, ?)",
			    "itb", (int64_t)a->ino, a->name, a->value, a->len);
}

int sl_sql_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
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
	return sl_sqlq_run_once(m, setxattr_op, &a, err);
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
	rc = sl_sqlq_open(t, &s, "SELECT name FROM jfs_xattr WHERE inode = ? ORDER BY name", "i",
			  (int64_t)a->ino);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		size_t n;
		const void *p = t->d->col_blob(s, 0, &n);
		if (a->outlen + n + 1 > cap) {
			size_t nc = (a->outlen + n + 1) * 2;
			char *no = realloc(a->out, nc);
			if (!no) {
				rc = sl_sql_nomem(t);
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

int sl_sql_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     char **names, size_t *len, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino};
	int rc = sl_sqlq_run(m, false, listxattr_op, &a, err);
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
		rc = sl_sqlq_exec(t, &n, "DELETE FROM jfs_xattr WHERE inode = ? AND name = ?", "it",
				  (int64_t)a->ino, a->name);
	if (!rc && !n)
		rc = sl_errf(t->err, -ENODATA, "no extended attribute '%s' on inode %" PRIu64,
			     a->name, a->ino);
	return rc;
}

int sl_sql_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		       const char *name, struct sl_err *err)
{
	struct xattr_arg a = {.u = u, .ino = ino, .name = name};
	int rc = check_xattr_name(name, err);
	return rc ? rc : sl_sqlq_run_once(m, removexattr_op, &a, err);
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

int sl_sql_subtree_usage(struct tx *t, sl_ino ino, struct sl_meta_summary *out)
{
	memset(out, 0, sizeof(*out));
	struct sl_attr n;
	int rc = sl_sql_node_get(t, ino, false, &n);
	if (rc)
		return rc;
	if (n.type != SL_TYPE_DIR) { /* as juicefs counts a single inode */
		out->files = 1;
		out->length = n.type == SL_TYPE_FILE ? n.length : 0;
		out->space = (uint64_t)sl_sql_jfs_space(n.length);
		return 0;
	}
	/* juicefs's summary: files are all non-directories (length counted for regular files
	 * only), space is align4K of each length, 4 KiB per directory. */
	struct sl_sql_stmt *s;
	rc = sl_sqlq_row(t, &s, SUBTREE_CTE
			 "SELECT COUNT(e.inode), SUM(CASE WHEN e.type = 2 THEN 1 ELSE 0 END), "
			 "SUM(CASE WHEN n.type = 1 THEN n.length ELSE 0 END), "
			 "SUM(CASE WHEN e.type = 2 OR n.length IS NULL OR n.length = 0 THEN 4096 "
			 "ELSE n.length + 4095 - (n.length + 4095) % 4096 END) "
			 "FROM tree t JOIN jfs_edge e ON e.parent = t.ino "
			 "LEFT JOIN jfs_node n ON n.inode = e.inode", "i", (int64_t)ino);
	if (rc < 0)
		return rc;
	uint64_t entries = 0, dirs = 0, length = 0, space = 0;
	if (rc) {
		entries = sl_sql_col_u64(t, s, 0);
		dirs = sl_sql_col_u64(t, s, 1);
		length = sl_sql_col_u64(t, s, 2);
		space = sl_sql_col_u64(t, s, 3);
		t->d->finalize(s);
	}
	out->dirs = dirs + 1;
	out->files = entries - dirs;
	out->length = length;
	out->space = space + DIR_SPACE;
	return 0;
}

/* Hadoop: a content summary needs READ_EXECUTE on every directory of the subtree; the distinct
 * (mode, owner, group, ACL) of its directories are few even in a large tree. */
static int subtree_readable(struct tx *t, const struct sl_meta_user *u, sl_ino top)
{
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, SUBTREE_CTE "SELECT DISTINCT n.mode, n.uid, n.gid, "
			      "n.access_acl_id FROM tree t JOIN jfs_node n ON n.inode = t.ino", "i",
			      (int64_t)top);
	sl_ino denied = 0;
	if (rc || (rc = sl_sql_dirs_may(t, u, s, SL_MAY_READ | SL_MAY_EXEC, top, &denied)))
		return rc;
	return denied ? sl_sql_deny(t, "cannot read a directory in the subtree", top) : 0;
}

static int summary_op(struct tx *t, void *arg)
{
	struct summary_arg *a = arg;
	struct sl_sql_stmt *s;
	struct sl_attr n;
	int rc = sl_sql_node_get(t, a->ino, false, &n);
	if (rc)
		return rc;
	/* Hadoop: a content summary needs READ_EXECUTE on every directory of the subtree; the
	 * distinct (mode, owner, group) triples are few even in a large tree. */
	if (!sl_meta_superuser(a->u) && n.type == SL_TYPE_DIR &&
	    (rc = subtree_readable(t, a->u, a->ino)))
		return rc;
	/* Counted from the entries, as juicefs's Hadoop SDK does (a strict summary), not added up
	 * from jfs_dir_stats: every client writes its share of those about once a second, so
	 * another client's fresh changes would be missing. */
	if ((rc = sl_sql_subtree_usage(t, a->ino, &a->out)))
		return rc;
	rc = sl_sqlq_row(t, &s, "SELECT max_space, max_inodes FROM jfs_dir_quota WHERE inode = ?",
			 "i", (int64_t)a->ino);
	if (rc < 0)
		return rc;
	a->out.has_quota = rc > 0;
	if (rc) {
		a->out.quota_space = t->d->col_i64(s, 0);
		a->out.quota_inodes = t->d->col_i64(s, 1);
		t->d->finalize(s);
	}
	return 0;
}

int sl_sql_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_meta_summary *out, struct sl_err *err)
{
	struct summary_arg a = {.u = u, .ino = ino};
	int rc = sl_sqlq_run(m, false, summary_op, &a, err);
	if (!rc)
		*out = a.out;
	return rc;
}

struct features_arg {
	int64_t acl_xattrs;
};

static int features_op(struct tx *t, void *arg)
{
	struct features_arg *a = arg;
	static const char *const queries[] = {
		"SELECT COUNT(*) FROM jfs_xattr WHERE SUBSTR(name, 1, 16) = 'system.posix_acl'",
	};
	int64_t *out[] = {&a->acl_xattrs};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct sl_sql_stmt *s;
		int rc = sl_sqlq_row(t, &s, queries[i], "");
		if (rc < 0)
			return rc;
		*out[i] = rc ? t->d->col_i64(s, 0) : 0;
		t->d->finalize(s);
	}
	return 0;
}

int sl_sql_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				struct sl_err *err)
{
	struct features_arg a = {0};
	if (what_size)
		what[0] = 0;
	int rc = sl_sqlq_run(m, false, features_op, &a, err);
	if (rc)
		return rc;
	size_t len = 0;
	const struct {
		int64_t n;
		const char *desc;
	} found[] = {
		{a.acl_xattrs, "POSIX ACLs kept as extended attributes (%" PRId64
		 " system.posix_acl_* rows in jfs_xattr)"},
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
