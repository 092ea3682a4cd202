/*
 * claim.h - the upload of a block its writer left (claim.c), by one of the nodes that keep a copy
 * of it: the cache group's replica holders and a client that took over the dead writer's staging
 * directory.
 */
#ifndef SL_CLAIM_H
#define SL_CLAIM_H

#include <stdint.h>

#include "../meta/meta.h"
#include "../util/err.h"

/* How long a claim keeps the others off: longer than an upload of a block takes, short enough
 * that the copies of a claimant that died reach object storage in a few minutes all the same. */
#define SL_UPLOAD_CLAIM_TTL_S 300

/* Stores one block as the volume does (compressed, retried): as sl_stage_volume.store_block. */
typedef int (*sl_store_block_fn)(void *arg, const char *key, const void *data, uint32_t len,
				 struct sl_err *err);

/* Uploads block key (data, len bytes) with store, unless another node does or did: a claim in
 * m's metadata (enum sl_meta_claim) under m's session first, ended after the upload, as done when
 * it succeeded, else given up so that another may try at once. *out says what happened: WON (it
 * was uploaded here), HELD (another node is uploading it: nothing done, ask again later), DONE
 * (it is in object storage already). A backend without claims: uploaded (WON). Returns 0, or
 * the error of the claim or of the upload. */
int sl_upload_claimed(struct sl_meta *m, const char *key, const void *data, uint32_t len,
		      sl_store_block_fn store, void *arg, enum sl_meta_claim *out,
		      struct sl_err *err);

#endif
