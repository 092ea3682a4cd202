/*
 * sql_crc.c - the CRC32C of each stored block, for file checksums, in a table of Sluice's own
 * created on first use beside JuiceFS's tables (juicefs ignores it):
 *   sluice_block_crc (id, indx, crc, len)   block indx of slice id: its CRC32C and length
 * A slice's blocks never change once stored and slice ids are never reused (nextChunk), so a row
 * stays true for as long as its block exists; rows are only ever added or replaced by the same
 * values. A slice's rows go in the transaction that deletes its jfs_chunk_ref row (forget_slice,
 * after its blocks); rows of slices deleted otherwise (by juicefs, or never committed) are
 * harmless leftovers.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sql_internal.h"

int sl_sql_block_crc_table(struct sl_meta *m, struct sl_err *err)
{
	struct sqlbe *b = m->priv;
	return sl_sqlq_own_table(m, &b->crc_table, b->d->block_crc_tables, "block CRC", err);
}

struct crc_arg {
	uint64_t id;
	uint32_t indx, crc, len;
};

struct get_arg {
	uint64_t id;
	uint32_t first, n;
	uint32_t *crcs, *lens;
};

static int get_op(struct tx *t, void *arg)
{
	struct get_arg *a = arg;
	memset(a->lens, 0, a->n * sizeof(*a->lens)); /* a retry starts over */
	struct sl_sql_stmt *s = NULL;
	int rc = sl_sqlq_row(t, &s, "SELECT indx, crc, len FROM sluice_block_crc WHERE id = ? AND "
			     "indx >= ? AND indx < ?", "iii", (int64_t)a->id, (int64_t)a->first,
			     (int64_t)a->first + a->n);
	while (rc > 0) {
		int64_t i = t->d->col_i64(s, 0) - a->first;
		if (i >= 0 && i < a->n) {
			a->crcs[i] = (uint32_t)t->d->col_i64(s, 1);
			a->lens[i] = (uint32_t)t->d->col_i64(s, 2);
		}
		rc = t->d->step(s, t->err);
	}
	if (s)
		t->d->finalize(s);
	return rc;
}

int sl_sql_block_crc_get(struct sl_meta *m, uint64_t id, uint32_t first, uint32_t n,
			 uint32_t *crcs, uint32_t *lens, struct sl_err *err)
{
	int rc = sl_sql_block_crc_table(m, err);
	if (rc)
		return rc;
	struct get_arg a = {.id = id, .first = first, .n = n, .crcs = crcs, .lens = lens};
	return sl_sqlq_run(m, false, get_op, &a, err);
}

static int put_op(struct tx *t, void *arg)
{
	struct crc_arg *a = arg;
	/* REPLACE: SQLite and MySQL both know it; a concurrent writer of the row writes the same. */
	return sl_sqlq_exec(t, NULL, "REPLACE INTO sluice_block_crc (id, indx, crc, len) "
			    "VALUES (?, ?, ?, ?)", "iiii", (int64_t)a->id, (int64_t)a->indx,
			    (int64_t)a->crc, (int64_t)a->len);
}

int sl_sql_block_crc_put(struct sl_meta *m, uint64_t id, uint32_t indx, uint32_t crc,
			 uint32_t len, struct sl_err *err)
{
	int rc = sl_sql_block_crc_table(m, err);
	if (rc)
		return rc;
	struct crc_arg a = {.id = id, .indx = indx, .crc = crc, .len = len};
	return sl_sqlq_run(m, true, put_op, &a, err);
}

int sl_sql_block_crc_forget(struct tx *t, uint64_t id)
{
	return sl_sqlq_exec(t, NULL, "DELETE FROM sluice_block_crc WHERE id = ?", "i", (int64_t)id);
}
