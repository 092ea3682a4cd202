/* wire.c - encoding and bounds-checked decoding of gateway protocol fields (see wire.h). */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *w_grow(struct sl_wbuf *w, size_t n)
{
	if (w->oom)
		return NULL;
	if (n > SIZE_MAX / 2 - w->len) {
		w->oom = true;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->oom = true;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	uint8_t *at = w->p + w->len;
	w->len += n;
	return at;
}

static void w_be(struct sl_wbuf *w, uint64_t v, int bytes)
{
	uint8_t *p = w_grow(w, (size_t)bytes);
	if (!p)
		return;
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void sl_w_u8(struct sl_wbuf *w, uint8_t v) { w_be(w, v, 1); }
void sl_w_u16(struct sl_wbuf *w, uint16_t v) { w_be(w, v, 2); }
void sl_w_u32(struct sl_wbuf *w, uint32_t v) { w_be(w, v, 4); }
void sl_w_u64(struct sl_wbuf *w, uint64_t v) { w_be(w, v, 8); }

void sl_w_raw(struct sl_wbuf *w, const void *p, size_t n)
{
	uint8_t *at = w_grow(w, n);
	if (at && n)
		memcpy(at, p, n);
}

void sl_w_bytes(struct sl_wbuf *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w->oom = true;
		return;
	}
	sl_w_u32(w, (uint32_t)n);
	uint8_t *at = w_grow(w, n);
	if (at && n)
		memcpy(at, p, n);
}

void sl_w_str(struct sl_wbuf *w, const char *s)
{
	if (!s)
		sl_w_u32(w, 0);
	else
		sl_w_bytes(w, s, strlen(s) + 1);
}

void sl_wbuf_free(struct sl_wbuf *w)
{
	free(w->p);
	*w = (struct sl_wbuf){0};
}

static const uint8_t *r_take(struct sl_rbuf *r, size_t n)
{
	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint64_t r_be(struct sl_rbuf *r, int bytes)
{
	const uint8_t *p = r_take(r, (size_t)bytes);
	uint64_t v = 0;
	for (int i = 0; p && i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

uint8_t sl_r_u8(struct sl_rbuf *r) { return (uint8_t)r_be(r, 1); }
uint16_t sl_r_u16(struct sl_rbuf *r) { return (uint16_t)r_be(r, 2); }
uint32_t sl_r_u32(struct sl_rbuf *r) { return (uint32_t)r_be(r, 4); }
uint64_t sl_r_u64(struct sl_rbuf *r) { return r_be(r, 8); }

bool sl_r_bool(struct sl_rbuf *r)
{
	uint8_t v = sl_r_u8(r);
	if (v > 1)
		r->bad = true;
	return v == 1;
}

size_t sl_r_bytes(struct sl_rbuf *r, const void **p, size_t max)
{
	uint32_t n = sl_r_u32(r);
	*p = NULL;
	if (n > max) {
		r->bad = true;
		return 0;
	}
	const uint8_t *at = r_take(r, n);
	if (!at)
		return 0;
	*p = at;
	return n;
}

const char *sl_r_str(struct sl_rbuf *r, size_t max)
{
	const void *p;
	size_t n = sl_r_bytes(r, &p, max + 1);
	if (!n)
		return NULL;
	const char *s = p;
	if (s[n - 1] != 0 || memchr(s, 0, n - 1)) {
		r->bad = true;
		return NULL;
	}
	return s;
}

