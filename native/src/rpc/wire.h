/*
 * wire.h - the gateway protocol's encoding: big-endian integers and length-prefixed byte strings,
 * appended to a growing buffer and read back from a bounded one. A reader never reads past the end
 * of its input: the first short or malformed field marks it bad, every later read yields zeros, and
 * the caller checks once at the end (the way one checks ferror).
 */
#ifndef SL_RPC_WIRE_H
#define SL_RPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct sl_wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom; /* an append failed: the buffer is unusable */
};

void sl_w_u8(struct sl_wbuf *w, uint8_t v);
void sl_w_u16(struct sl_wbuf *w, uint16_t v);
void sl_w_u32(struct sl_wbuf *w, uint32_t v);
void sl_w_u64(struct sl_wbuf *w, uint64_t v);
static inline void sl_w_i64(struct sl_wbuf *w, int64_t v) { sl_w_u64(w, (uint64_t)v); }
static inline void sl_w_bool(struct sl_wbuf *w, bool v) { sl_w_u8(w, v ? 1 : 0); }
/* The bytes as they are (an already encoded part). */
void sl_w_raw(struct sl_wbuf *w, const void *p, size_t n);
/* u32 length, then the bytes. */
void sl_w_bytes(struct sl_wbuf *w, const void *p, size_t n);
/* A NUL-terminated string as bytes including its NUL (so a reader can hand out a pointer into
 * the buffer); NULL is encoded as length 0. */
void sl_w_str(struct sl_wbuf *w, const char *s);
void sl_wbuf_free(struct sl_wbuf *w);

struct sl_rbuf {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static inline struct sl_rbuf sl_rbuf_of(const void *p, size_t len)
{
	return (struct sl_rbuf){.p = p, .len = len};
}
uint8_t sl_r_u8(struct sl_rbuf *r);
uint16_t sl_r_u16(struct sl_rbuf *r);
uint32_t sl_r_u32(struct sl_rbuf *r);
uint64_t sl_r_u64(struct sl_rbuf *r);
static inline int64_t sl_r_i64(struct sl_rbuf *r) { return (int64_t)sl_r_u64(r); }
bool sl_r_bool(struct sl_rbuf *r);
/* Points *p into the input; at most max bytes (else bad). */
size_t sl_r_bytes(struct sl_rbuf *r, const void **p, size_t max);
/* A string written by sl_w_str: NULL for length 0; bad if it is longer than max (without the NUL),
 * lacks its NUL or holds another one. */
const char *sl_r_str(struct sl_rbuf *r, size_t max);
/* true when everything was read and nothing was malformed. */
static inline bool sl_r_done(const struct sl_rbuf *r) { return !r->bad && r->pos == r->len; }

#endif
