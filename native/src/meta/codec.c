/* codec.c - the metadata types in the gateway protocol's encoding (see codec.h). */
#include "codec.h"

#include <string.h>

void sl_w_attr(struct sl_wbuf *w, const struct sl_attr *a)
{
	sl_w_u8(w, a->type);
	sl_w_u8(w, a->flags);
	sl_w_u16(w, a->mode);
	sl_w_u32(w, a->uid);
	sl_w_u32(w, a->gid);
	sl_w_i64(w, a->atime_ns);
	sl_w_i64(w, a->mtime_ns);
	sl_w_i64(w, a->ctime_ns);
	sl_w_u32(w, a->nlink);
	sl_w_u64(w, a->length);
	sl_w_u32(w, a->rdev);
	sl_w_u64(w, a->parent);
}

void sl_w_slice(struct sl_wbuf *w, const struct sl_slice *s)
{
	sl_w_u32(w, s->pos);
	sl_w_u64(w, s->id);
	sl_w_u32(w, s->size);
	sl_w_u32(w, s->off);
	sl_w_u32(w, s->len);
}

void sl_w_grant(struct sl_wbuf *w, const struct sl_slice_grant *g)
{
	sl_w_u64(w, g ? g->first : 0);
	sl_w_u32(w, g ? g->count : 0);
	sl_w_i64(w, g ? g->issued : 0);
	sl_w_bytes(w, g ? g->mac : NULL, g ? SL_GRANT_MAC_BYTES : 0);
}

void sl_r_attr(struct sl_rbuf *r, struct sl_attr *a)
{
	a->type = sl_r_u8(r);
	a->flags = sl_r_u8(r);
	a->mode = sl_r_u16(r);
	a->uid = sl_r_u32(r);
	a->gid = sl_r_u32(r);
	a->atime_ns = sl_r_i64(r);
	a->mtime_ns = sl_r_i64(r);
	a->ctime_ns = sl_r_i64(r);
	a->nlink = sl_r_u32(r);
	a->length = sl_r_u64(r);
	a->rdev = sl_r_u32(r);
	a->parent = sl_r_u64(r);
}

void sl_r_slice(struct sl_rbuf *r, struct sl_slice *s)
{
	s->pos = sl_r_u32(r);
	s->id = sl_r_u64(r);
	s->size = sl_r_u32(r);
	s->off = sl_r_u32(r);
	s->len = sl_r_u32(r);
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
