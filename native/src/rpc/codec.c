/* codec.c - the slice grant's wire form and the allocation of decoded lists (codec.h). */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

void sl_w_grant(struct sl_wbuf *w, const struct sl_slice_grant *g)
{
	sl_w_u64(w, g ? g->first : 0);
	sl_w_u32(w, g ? g->count : 0);
	sl_w_i64(w, g ? g->issued : 0);
	sl_w_bytes(w, g ? g->mac : NULL, g ? SL_GRANT_MAC_BYTES : 0);
}

bool sl_r_grant(struct sl_rbuf *r, struct sl_slice_grant *g)
{
	*g = (struct sl_slice_grant){0};
	g->first = sl_r_u64(r);
	g->count = sl_r_u32(r);
	g->issued = sl_r_i64(r);
	const void *mac;
	size_t n = sl_r_bytes(r, &mac, SL_GRANT_MAC_BYTES);
	if (n && n != SL_GRANT_MAC_BYTES)
		r->bad = true;
	if (r->bad || !n)
		return false;
	memcpy(g->mac, mac, SL_GRANT_MAC_BYTES);
	return true;
}

void *sl_rpc_list_new(struct sl_rbuf *r, uint32_t *n, uint32_t max, size_t min_bytes, size_t size,
		      int *rc)
{
	*n = sl_r_u32(r);
	if (!r->bad && (*n > max || *n * min_bytes > r->len - r->pos))
		r->bad = true;
	if (r->bad || !*n) {
		*n = 0;
		return NULL;
	}
	void *p = malloc(*n * size);
	if (!p) {
		*n = 0;
		*rc = -ENOMEM;
	}
	return p;
}
