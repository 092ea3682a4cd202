/*
 * claim.c - one upload of a block its writer left, among the nodes that keep a copy (claim.h).
 * The claim costs two metadata transactions per block, paid only on these uploads, never by a
 * writer's own.
 */
#include <errno.h>

#include "../chunk/chunk.h"
#include "claim.h"

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
