/*
 * remote_data.h - what a gateway client remembers so that it can ask for presigned block URLs
 * (Kerberos mode, meta/remote.c): for each slice id it read in a chunk, which file, chunk and user
 * that was (the gateway re-checks exactly that read); the slice id grants of its id batches (shown
 * with each PUT); and URLs until shortly before they expire. All three are bounded, least recently
 * used first out, and safe to use from many threads.
 */
#ifndef SL_REMOTE_DATA_H
#define SL_REMOTE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rpc/proto.h"
#include "meta.h"

#define SL_RDATA_MAX_READS 65536 /* slices whose read context is kept */
#define SL_RDATA_MAX_GRANTS 1024 /* id batches (4096 ids each): long enough for a write cache */
#define SL_RDATA_MAX_URLS 4096

struct sl_rdata;

int sl_rdata_new(struct sl_rdata **out);
void sl_rdata_free(struct sl_rdata *d);

/* Slice id was listed in chunk indx of ino, read as user (NULL: the authenticated one). */
void sl_rdata_note_read(struct sl_rdata *d, uint64_t id, sl_ino ino, uint32_t indx,
			const char *user);
/* The last read context of slice id: false if none is kept (never read here, or evicted). user
 * gets "" for the authenticated user. */
bool sl_rdata_read_of(struct sl_rdata *d, uint64_t id, sl_ino *ino, uint32_t *indx,
		      char user[SL_RPC_MAX_USER + 1]);

void sl_rdata_add_grant(struct sl_rdata *d, const struct sl_slice_grant *g);
/* The newest kept grant whose range holds id. */
bool sl_rdata_grant_of(struct sl_rdata *d, uint64_t id, struct sl_slice_grant *out);

/* A cached URL for method on key that is usable until at least now_ms (a monotonic clock in
 * milliseconds); false (and nothing written) if none, or if it does not fit size bytes. */
bool sl_rdata_url_get(struct sl_rdata *d, const char *method, const char *key, int64_t now_ms,
		      char *out, size_t size);
/* Keeps url for method on key until fresh_until_ms (replacing an older one). */
void sl_rdata_url_put(struct sl_rdata *d, const char *method, const char *key, const char *url,
		      int64_t fresh_until_ms);

#endif
