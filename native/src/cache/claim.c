/*
 * claim.c - one upload of a block its writer left, among the nodes that keep a copy (claim.h).
 * The claim costs two metadata transactions per block, paid only on these uploads, never by a
 * writer's own.
 */
#include <errno.h>

#include "../chunk/chunk.h"
#include "../util/clock.h"
#include "claim.h"
#include "stage.h"

int sl_upload_claimed(struct sl_meta *m, const char *key, const void *data, uint32_t len,
		      sl_store_block_fn store, void *arg, enum sl_meta_claim *out,
		      struct sl_err *err)
{
	*out = SL_CLAIM_WON;
	uint64_t id;
	uint32_t indx, blen;
	if (!sl_meta_supports(m, SL_META_OP_BLOCK_CLAIM))
		return store(arg, key, data, len, err);
	if (!sl_block_key_name(key, &id, &indx, &blen))
		return sl_errf(err, -EINVAL, "%s is not the key of a block", key);
	int rc = sl_meta_block_claim(m, id, indx, m->sid, SL_UPLOAD_CLAIM_TTL_S, out, err);
	if (rc || *out != SL_CLAIM_WON)
		return rc;
	rc = store(arg, key, data, len, err);
	/* Ending the claim may fail without harm: were the block uploaded, a later claimant could
	 * at worst store the same bytes again once the claim expired; were it not, it expires. */
	struct sl_err eerr = {0};
	sl_meta_block_claim_end(m, id, indx, m->sid, rc == 0, &eerr);
	return rc;
}

int sl_record_commit_claimed(struct sl_meta *m, const struct sl_stage_record *r,
			     uint64_t min_length, enum sl_meta_claim *out, struct sl_err *err)
{
	*out = SL_CLAIM_WON;
	bool claims = sl_meta_supports(m, SL_META_OP_BLOCK_CLAIM);
	int rc = claims ? sl_meta_block_claim(m, r->id, SL_RECORD_CLAIM_INDX, m->sid,
					      SL_UPLOAD_CLAIM_TTL_S, out, err)
			: 0;
	if (rc || *out != SL_CLAIM_WON)
		return rc;
	int64_t refs = 0;
	uint32_t size = 0;
	rc = sl_meta_supports(m, SL_META_OP_SLICE_REFS)
		     ? sl_meta_slice_refs(m, r->id, &refs, &size, err)
		     : -ENOENT;
	if (!rc) {
		*out = SL_CLAIM_DONE; /* committed (by its writer, or by another node before) */
	} else if (rc == -ENOENT) {
		sl_err_clear(err);
		struct sl_meta_user root = {.superuser = true}; /* the lease is the fence */
		struct sl_attr attr;
		rc = min_length ? sl_meta_getattr(m, &root, r->ino, &attr, err) : 0;
		if (!rc && min_length && attr.length < min_length) {
			*out = SL_CLAIM_HELD; /* an earlier slice is still to come */
		} else if (!rc) {
			struct sl_meta_lease lease = {.sid = r->lease_sid, .gen = r->lease_gen};
			struct sl_slice s = {.pos = r->pos, .id = r->id, .size = r->size,
					     .len = r->size};
			rc = sl_meta_write_chunk(m, &root, r->lease_sid ? &lease : NULL, r->ino,
						 r->chunk, &s, sl_real_ns(), &attr, err);
		}
	}
	if (claims) {
		struct sl_err eerr = {0};
		sl_meta_block_claim_end(m, r->id, SL_RECORD_CLAIM_INDX, m->sid,
					!rc && *out != SL_CLAIM_HELD, &eerr);
	}
	return rc;
}
