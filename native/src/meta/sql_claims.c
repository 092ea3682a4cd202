/*
 * sql_claims.c - claims on the upload of a block its writer left (enum sl_meta_claim), in a table
 * of Sluice's own created on first use beside JuiceFS's tables (juicefs ignores it):
 *   sluice_block_claim (id, indx, sid, expire, done)   block indx of slice id: claimed by session
 *                                                      sid until expire (unix seconds), done = 1
 *                                                      once uploaded under the claim
 * Each slot is one write transaction whose statements decide by the primary key, so two
 * claimants never both win: the INSERT of a new claim fails for all but one (duplicate key), and
 * the take-over of an expired claim is a conditional UPDATE that only one transaction's row
 * change satisfies. A claim is taken over only while its upload is not done.
 *
 * Rows go with their slice's jfs_chunk_ref row (forget_slice, after its blocks), not by age: a
 * done row must outlast every copy of the block that could still be uploaded, and such copies
 * (a holder's replica, a staged block in a dead client's directory that a client may take over
 * much later) live until the slice is unreferenced, when they are dropped without a claim. Only
 * blocks a dead writer left get rows, so they are few. Rows of slices deleted otherwise (by
 * juicefs) are harmless leftovers, as in sluice_block_crc.
 */
#include <errno.h>
#include <inttypes.h>

#include "sql_internal.h"

int sl_sql_block_claim_table(struct sl_meta *m, struct sl_err *err)
{
	struct sqlbe *b = m->priv;
	return sl_sqlq_own_table(m, &b->claim_table, b->d->block_claim_tables, "block claim", err);
}

struct claim_arg {
	uint64_t id;
	uint32_t indx;
	uint64_t sid;
	int64_t now, expire;
	bool uploaded;
	enum sl_meta_claim out;
};

static int claim_op(struct tx *t, void *arg)
{
	struct claim_arg *a = arg;
	a->out = SL_CLAIM_WON;
	int rc = sl_sqlq_exec(t, NULL, "INSERT INTO sluice_block_claim (id, indx, sid, expire, done) "
			      "VALUES (?, ?, ?, ?, 0)", "iiii", (int64_t)a->id, (int64_t)a->indx,
			      (int64_t)a->sid, a->expire);
	if (rc != -EEXIST)
		return rc;
	sl_err_clear(t->err); /* the block has a claim already: an expired one can be taken over */
	int64_t n = 0;
	rc = sl_sqlq_exec(t, &n, "UPDATE sluice_block_claim SET sid = ?, expire = ? WHERE id = ? AND "
			  "indx = ? AND done = 0 AND expire <= ?", "iiiii", (int64_t)a->sid,
			  a->expire, (int64_t)a->id, (int64_t)a->indx, a->now);
	if (rc || n)
		return rc;
	char buf[128];
	struct sl_sql_stmt *s;
	rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT done FROM sluice_block_claim WHERE id = ? AND "
				   "indx = ?"), "ii", (int64_t)a->id, (int64_t)a->indx);
	if (rc < 0)
		return rc;
	/* no row: its slice was forgotten meanwhile; nobody uploads it, so HELD says wait */
	a->out = rc && t->d->col_i64(s, 0) ? SL_CLAIM_DONE : SL_CLAIM_HELD;
	if (rc)
		t->d->finalize(s);
	return 0;
}

int sl_sql_block_claim(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
		       int64_t ttl_s, enum sl_meta_claim *out, struct sl_err *err)
{
	int rc = sl_sql_block_claim_table(m, err);
	if (rc)
		return rc;
	int64_t now = sl_real_s();
	struct claim_arg a = {.id = id, .indx = indx, .sid = sid, .now = now, .expire = now + ttl_s};
	rc = sl_sqlq_run(m, true, claim_op, &a, err);
	if (!rc)
		*out = a.out;
	return rc;
}

static int end_op(struct tx *t, void *arg)
{
	struct claim_arg *a = arg;
	if (a->uploaded)
		return sl_sqlq_exec(t, NULL, "UPDATE sluice_block_claim SET done = 1 WHERE id = ? AND "
				    "indx = ?", "ii", (int64_t)a->id, (int64_t)a->indx);
	return sl_sqlq_exec(t, NULL, "DELETE FROM sluice_block_claim WHERE id = ? AND indx = ? AND "
			    "sid = ? AND done = 0", "iii", (int64_t)a->id, (int64_t)a->indx,
			    (int64_t)a->sid);
}

int sl_sql_block_claim_end(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			   bool uploaded, struct sl_err *err)
{
	int rc = sl_sql_block_claim_table(m, err);
	struct claim_arg a = {.id = id, .indx = indx, .sid = sid, .uploaded = uploaded};
	return rc ? rc : sl_sqlq_run(m, true, end_op, &a, err);
}

int sl_sql_block_claim_forget(struct tx *t, uint64_t id)
{
	return sl_sqlq_exec(t, NULL, "DELETE FROM sluice_block_claim WHERE id = ?", "i", (int64_t)id);
}
