/*
 * claim.h - the upload of a block its writer left, and the commit of a slice it acknowledged
 * but did not commit (claim.c), by one of the nodes that keep a copy of it: the cache group's
 * replica holders and a client that took over the dead writer's staging directory.
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

/* The claim on committing a slice from its record: an indx no block has (a slice has at most
 * 64 MiB / 4 KiB blocks), within the column's signed range. */
#define SL_RECORD_CLAIM_INDX 0x7fffffffu

struct sl_stage_record;
/* Commits the slice of record r (stage.h) that its writer left uncommitted, under the writer's
 * lease, unless it is committed already or another node is at it: claimed first, as an upload
 * is. *out: WON (committed here), HELD (another node is committing it: ask again later), DONE
 * (it was committed before). -SL_ELEASE_LOST or -ENOENT: the lease fences it (the file was
 * taken over or removed). min_length: commit only if the file is at least this long (no hole
 * before the slice; 0: no check). */
int sl_record_commit_claimed(struct sl_meta *m, const struct sl_stage_record *r,
			     uint64_t min_length, enum sl_meta_claim *out, struct sl_err *err);

#endif
