/*
 * fuzz_wire.c - libFuzzer target for the protocol's field decoder (rpc/wire.c, meta/codec.c): the
 * bytes are a script of reads (one selector byte, then the field it names) run against the rest
 * of the input.
 * A read must stay inside the input, a bad reader must stay bad, and what a good read returns must
 * encode back to the bytes it was read from.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/codec.h"

#define FAIL(...)                                 \
	do {                                      \
		fprintf(stderr, "fuzz_wire: " __VA_ARGS__); \
		fputc('\n', stderr);              \
		abort();                          \
	} while (0)

/* The encoding of one field must equal the bytes its read consumed. */
static void same(const struct sl_rbuf *r, size_t from, const struct sl_wbuf *w, const char *what)
{
	if (w->oom)
		FAIL("out of memory re-encoding %s", what);
	if (w->len != r->pos - from || memcmp(w->p, r->p + from, w->len))
		FAIL("%s: %zu bytes read, the re-encoding differs (%zu bytes)", what, r->pos - from,
		     w->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The script and the fields come from two halves, so that a selector is never a field. */
	size_t nsel = size / 4;
	struct sl_rbuf sel = sl_rbuf_of(data, nsel);
	struct sl_rbuf r = sl_rbuf_of(data + nsel, size - nsel);
	while (sel.pos < sel.len) {
		uint8_t s = sl_r_u8(&sel);
		size_t from = r.pos;
		bool was_bad = r.bad;
		struct sl_wbuf w = {0};
		const char *what;
		switch (s % 11) {
		case 0: what = "u8"; sl_w_u8(&w, sl_r_u8(&r)); break;
		case 1: what = "u16"; sl_w_u16(&w, sl_r_u16(&r)); break;
		case 2: what = "u32"; sl_w_u32(&w, sl_r_u32(&r)); break;
		case 3: what = "u64"; sl_w_u64(&w, sl_r_u64(&r)); break;
		case 4: what = "i64"; sl_w_i64(&w, sl_r_i64(&r)); break;
		case 5: what = "bool"; sl_w_bool(&w, sl_r_bool(&r)); break;
		case 6: {
			what = "bytes";
			const void *p;
			size_t max = (size_t)(s / 11) * 7; /* 0-161: both sides of small lengths */
			size_t n = sl_r_bytes(&r, &p, max);
			if (n > max || (n && !p))
				FAIL("bytes: %zu returned with max %zu", n, max);
			if (p && ((const uint8_t *)p < r.p || (const uint8_t *)p + n > r.p + r.len))
				FAIL("bytes: pointer outside the input");
			if (!r.bad)
				sl_w_bytes(&w, p, n);
			break;
		}
		case 7:
		case 8: {
			what = "str";
			size_t max = s % 11 == 7 ? (size_t)(s / 11) : SIZE_MAX / 2;
			const char *str = sl_r_str(&r, max);
			if (str) {
				size_t n = strlen(str); /* ASan: the NUL must be inside the input */
				if (n > max || (const uint8_t *)str < r.p ||
				    (const uint8_t *)str + n >= r.p + r.len)
					FAIL("str: %zu bytes with max %zu, or outside the input", n, max);
			}
			/* A NULL string and an empty one both read back as NULL: compare lengths only
			 * for a string. */
			if (!r.bad && str)
				sl_w_str(&w, str);
			else if (!r.bad)
				sl_w_u32(&w, 0);
			break;
		}
		case 9: {
			what = "attr";
			struct sl_attr a;
			sl_r_attr(&r, &a);
			sl_w_attr(&w, &a);
			break;
		}
		default: {
			what = "slice";
			struct sl_slice sl;
			sl_r_slice(&r, &sl);
			sl_w_slice(&w, &sl);
			break;
		}
		}
		if (r.pos > r.len)
			FAIL("%s: position %zu past the end %zu", what, r.pos, r.len);
		if (was_bad && (!r.bad || r.pos != from))
			FAIL("%s: a bad reader moved or recovered", what);
		if (!r.bad)
			same(&r, from, &w, what);
		if (sl_r_done(&r) != (!r.bad && r.pos == r.len))
			FAIL("sl_r_done disagrees with the reader's state");
		sl_wbuf_free(&w);
	}
	return 0;
}
