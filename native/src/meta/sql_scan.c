/*
 * sql_scan.c - the "sql" backend's work for the operator's tools (`sluice fsck`, `sluice gc`):
 * every chunk row, page by page in (inode, indx) order, each page one read transaction (a scan of
 * a live volume sees each row as one of its versions, not one moment of the whole volume); and
 * fsck --path's check and repair of one directory. The rules of sql.c's header hold here too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../chunk/slice.h"
#include "sql_internal.h"

#define SCAN_PAGE 1000

struct chunk_row {
	sl_ino ino;
	uint32_t indx;
	uint8_t *slices;
	size_t len;
};

struct scan_arg {
	sl_ino after_ino;
	uint32_t after_indx;
	bool started;
	struct chunk_row rows[SCAN_PAGE];
	size_t n;
};

static void rows_free(struct scan_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rows[i].slices);
	a->n = 0;
}

static int scan_page_op(struct tx *t, void *arg)
{
	struct scan_arg *a = arg;
	rows_free(a);
	struct sl_sql_stmt *s;
	int rc = a->started
		? sl_sqlq_open(t, &s, "SELECT inode, indx, slices FROM jfs_chunk WHERE inode > ? OR "
			       "(inode = ? AND indx > ?) ORDER BY inode, indx LIMIT 1000", "iii",
			       (int64_t)a->after_ino, (int64_t)a->after_ino,
			       (int64_t)a->after_indx)
		: sl_sqlq_open(t, &s, "SELECT inode, indx, slices FROM jfs_chunk ORDER BY inode, "
			       "indx LIMIT 1000", "");
	if (rc)
		return rc;
	while (a->n < SCAN_PAGE && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		struct chunk_row *r = &a->rows[a->n];
		r->ino = sl_sql_col_u64(t, s, 0);
		r->indx = (uint32_t)sl_sql_col_u64(t, s, 1);
		if (!(r->slices = (uint8_t *)sl_sql_col_dup(t, s, 2, &r->len)) && r->len) {
			rc = sl_sql_nomem(t);
			break;
		}
		a->n++;
	}
	t->d->finalize(s);
	return rc < 0 ? rc : 0;
}

int sl_sql_scan_chunks(struct sl_meta *m, sl_meta_chunk_cb cb, void *arg, struct sl_err *err)
{
	struct scan_arg *a = calloc(1, sizeof(*a));
	if (!a)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = 0;
	struct sl_slice *ss = NULL;
	size_t cap = 0;
	for (;;) {
		if ((rc = sl_sqlq_run(m, false, scan_page_op, a, err)) || !a->n)
			break;
		for (size_t i = 0; !rc && i < a->n; i++) {
			const struct chunk_row *r = &a->rows[i];
			size_t n = r->len / SL_SLICE_BYTES;
			if (n > cap) {
				struct sl_slice *ns = realloc(ss, n * sizeof(*ns));
				if (!ns) {
					rc = sl_errf(err, -ENOMEM, "out of memory");
					break;
				}
				ss = ns;
				cap = n;
			}
			for (size_t k = 0; k < n; k++)
				sl_slice_decode(r->slices + k * SL_SLICE_BYTES, &ss[k]);
			if (r->len % SL_SLICE_BYTES)
				rc = sl_errf(err, -EIO, "chunk %" PRIu32 " of inode %" PRIu64 ": %zu bytes "
					     "is not a list of slices", r->indx, r->ino, r->len);
			else
				rc = cb(arg, r->ino, r->indx, ss, n);
		}
		a->started = true;
		a->after_ino = a->rows[a->n - 1].ino;
		a->after_indx = a->rows[a->n - 1].indx;
		if (rc || a->n < SCAN_PAGE)
			break;
	}
	rows_free(a);
	free(a);
	free(ss);
	return rc;
}

/* ---- fsck --path: one directory ------------------------------------------------------------ */

struct check_dir_arg {
	sl_ino parent, ino;
	const struct sl_meta_dir_repair *repair;
	struct sl_meta_dir_check out;
};

/* 1 if an entry of directory parent names ino (the root names itself), 0 if none does. */
static int entry_names(struct tx *t, sl_ino parent, sl_ino ino, bool lock)
{
	if (ino == SL_ROOT_INO)
		return 1;
	char buf[128];
	const char *sql = "SELECT type FROM jfs_edge WHERE parent = ? AND inode = ?";
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, lock ? FU(t, buf, sql) : sql, "ii", (int64_t)parent,
			     (int64_t)ino);
	if (rc > 0)
		t->d->finalize(s);
	return rc;
}

static int check_dir_op(struct tx *t, void *arg)
{
	struct check_dir_arg *a = arg;
	struct sl_meta_dir_check *o = &a->out;
	const struct sl_meta_dir_repair *r = a->repair;
	memset(o, 0, sizeof(*o));
	struct sl_attr n;
	int rc = sl_sql_node_get(t, a->ino, r != NULL, &n);
	if (rc == -ENOENT) {
		/* Missing only while an entry still names it (locked for a repair, so that a
		 * concurrent rmdir cannot leave the node made anew as an orphan); otherwise the
		 * directory was removed since its parent was listed. */
		if ((rc = entry_names(t, a->parent, a->ino, r != NULL)) <= 0)
			return rc ? rc : sl_errf(t->err, -ENOENT, "inode %" PRIu64 " is no longer "
						 "in directory %" PRIu64, a->ino, a->parent);
		sl_err_clear(t->err);
		o->node_missing = true;
	} else if (rc) {
		return rc;
	} else if (n.type != SL_TYPE_DIR) {
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->ino);
	}
	struct sl_sql_stmt *s;
	rc = sl_sqlq_row(t, &s, "SELECT COUNT(*) FROM jfs_edge WHERE parent = ? AND type = 2", "i",
			 (int64_t)a->ino);
	if (rc < 0)
		return rc;
	o->want_nlink = 2 + (uint32_t)(rc ? t->d->col_i64(s, 0) : 0);
	if (rc)
		t->d->finalize(s);
	o->nlink = o->node_missing ? 0 : n.nlink;
	if ((rc = sl_sql_dir_stats_count(t, a->ino, &o->want_length, &o->want_space,
					 &o->want_inodes)))
		return rc;
	rc = sl_sqlq_row(t, &s, "SELECT data_length, used_space, used_inodes FROM jfs_dir_stats "
			 "WHERE inode = ?", "i", (int64_t)a->ino);
	if (rc < 0)
		return rc;
	if (rc) {
		o->length = t->d->col_i64(s, 0);
		o->space = t->d->col_i64(s, 1);
		o->inodes = t->d->col_i64(s, 2);
		t->d->finalize(s);
	}
	o->stats_missing = !rc || o->length < 0 || o->space < 0 || o->inodes < 0;
	if (!r)
		return 0;

	if (o->node_missing) { /* juicefs's repair: the mode asked for, root's, now */
		int64_t now = sl_real_ns();
		struct sl_attr d = {.type = SL_TYPE_DIR, .mode = r->mode & 07777,
				    .atime_ns = now, .mtime_ns = now, .ctime_ns = now,
				    .nlink = o->want_nlink, .length = 4096, .parent = a->parent};
		if ((rc = sl_sql_node_insert(t, a->ino, &d)))
			return rc;
		o->repaired = true;
	} else if (o->nlink != o->want_nlink) {
		if ((rc = sl_sqlq_exec(t, NULL, "UPDATE jfs_node SET nlink = ? WHERE inode = ?", "ii",
				       (int64_t)o->want_nlink, (int64_t)a->ino)))
			return rc;
		o->repaired = true;
	}
	if (r->stats && (o->stats_missing || r->sync_stats) &&
	    (o->stats_missing || o->length != o->want_length || o->space != o->want_space ||
	     o->inodes != o->want_inodes)) {
		if ((rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_dir_stats WHERE inode = ?", "i",
				       (int64_t)a->ino)) ||
		    (rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_dir_stats (inode, data_length, "
				       "used_space, used_inodes) VALUES (?, ?, ?, ?)", "iiii",
				       (int64_t)a->ino, o->want_length, o->want_space,
				       o->want_inodes)))
			return rc;
		o->repaired = true;
	}
	return 0;
}

int sl_sql_check_dir(struct sl_meta *m, sl_ino parent, sl_ino ino,
		     const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
		     struct sl_err *err)
{
	struct check_dir_arg a = {.parent = parent, .ino = ino, .repair = repair};
	int rc = sl_sqlq_run(m, repair != NULL, check_dir_op, &a, err);
	if (!rc)
		*out = a.out;
	return rc;
}
