/* slice.c - the 24-byte big-endian form of a slice reference (see slice.h). */
#include "slice.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void sl_slice_encode(const struct sl_slice *s, uint8_t out[SL_SLICE_BYTES])
{
	put_be32(out, s->pos);
	put_be32(out + 4, (uint32_t)(s->id >> 32));
	put_be32(out + 8, (uint32_t)s->id);
	put_be32(out + 12, s->size);
	put_be32(out + 16, s->off);
	put_be32(out + 20, s->len);
}

void sl_slice_decode(const uint8_t in[SL_SLICE_BYTES], struct sl_slice *s)
{
	s->pos = get_be32(in);
	s->id = (uint64_t)get_be32(in + 4) << 32 | get_be32(in + 8);
	s->size = get_be32(in + 12);
	s->off = get_be32(in + 16);
	s->len = get_be32(in + 20);
}
