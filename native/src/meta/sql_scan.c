/*
 * sql_scan.c - the "sql" backend's whole-volume scans for the operator's tools (`sluice fsck`,
 * `sluice gc`): every chunk row, page by page in (inode, indx) order, each page one read
 * transaction (a scan of a live volume sees each row as one of its versions, not one moment of
 * the whole volume). The rules of sql.c's header hold here too.
 */
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
