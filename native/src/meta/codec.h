/*
 * codec.h - the metadata types in the gateway protocol's encoding (rpc/wire.h): attributes,
 * slices and slice grants, for the protocol's client (remote*.c) and its server (gateway/), so
 * that rpc/ itself knows no metadata type.
 */
#ifndef SL_META_CODEC_H
#define SL_META_CODEC_H

#include "../rpc/wire.h"
#include "meta.h"

void sl_w_attr(struct sl_wbuf *w, const struct sl_attr *a);
void sl_w_slice(struct sl_wbuf *w, const struct sl_slice *s);
/* A slice grant as PRESIGN (PUT), WRITE_CHUNK and COMPACT_CHUNK show it: u64 first, u32 count,
 * i64 issued, bytes mac. NULL: none (zeros and an empty mac). */
void sl_w_grant(struct sl_wbuf *w, const struct sl_slice_grant *g);
void sl_r_attr(struct sl_rbuf *r, struct sl_attr *a);
void sl_r_slice(struct sl_rbuf *r, struct sl_slice *s);
/* Reads a grant written by sl_w_grant: false when none was shown (an empty mac); a mac of
 * another length makes r bad. */
bool sl_r_grant(struct sl_rbuf *r, struct sl_slice_grant *g);

#endif
