/* chunk.c - block keys, block math, slice encoding and the chunk view (see chunk.h). */
#include "chunk.h"

#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_block_key(const struct sl_chunk_layout *l, uint64_t id, uint32_t indx, uint32_t slice_size,
		  char key[SL_KEY_MAX])
{
	uint32_t len = sl_block_len(l, slice_size, indx);
	if (l->hash_prefix)
		snprintf(key, SL_KEY_MAX, "%schunks/%02X/%" PRIu64 "/%" PRIu64 "_%u_%u", l->prefix,
			 (unsigned)(id % 256), id / 1000 / 1000, id, indx, len);
	else
		snprintf(key, SL_KEY_MAX, "%schunks/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "_%u_%u",
			 l->prefix, id / 1000 / 1000, id / 1000, id, indx, len);
}

uint32_t sl_block_len(const struct sl_chunk_layout *l, uint32_t slice_size, uint32_t indx)
{
	uint64_t start = (uint64_t)indx * l->block_size;
	if (start >= slice_size)
		return 0;
	uint64_t left = slice_size - start;
	return left > l->block_size ? l->block_size : (uint32_t)left;
}

uint32_t sl_block_count(const struct sl_chunk_layout *l, uint32_t slice_size)
{
	return (uint32_t)(((uint64_t)slice_size + l->block_size - 1) / l->block_size);
}

int sl_compression_parse(const char *name, enum sl_compression *out, struct sl_err *err)
{
	if (!name || !*name || !strcmp(name, "none")) {
		*out = SL_COMPRESS_NONE;
		return 0;
	}
	if (!strcmp(name, "lz4")) {
		*out = SL_COMPRESS_LZ4;
		return 0;
	}
	return sl_errf(err, -ENOTSUP,
		       "compression '%s' is not supported by this version of Sluice (none, lz4)",
		       name);
}

static size_t compress_bound(enum sl_compression c, size_t n)
{
	return c == SL_COMPRESS_LZ4 ? (size_t)LZ4_compressBound((int)n) : n;
}

bool sl_block_stored_plain(const struct sl_chunk_layout *l)
{
	return l->compression == SL_COMPRESS_NONE && !l->cipher;
}

size_t sl_block_stored_bound(const struct sl_chunk_layout *l, size_t n)
{
	return compress_bound(l->compression, n) + (l->cipher ? sl_cipher_overhead(l->cipher) : 0);
}

static int64_t compress(enum sl_compression c, const void *src, size_t n, void *dst, size_t cap,
			struct sl_err *err)
{
	if (c == SL_COMPRESS_NONE) {
		if (cap < n)
			return sl_errf(err, -EINVAL, "compress: buffer too small");
		memcpy(dst, src, n);
		return (int64_t)n;
	}
	int r = LZ4_compress_default(src, dst, (int)n, (int)cap);
	if (r <= 0)
		return sl_errf(err, -EIO, "lz4 compression of %zu bytes failed", n);
	return r;
}

static int decompress(enum sl_compression c, const void *src, size_t n, void *dst, size_t expect,
		      const char *key, struct sl_err *err)
{
	if (c == SL_COMPRESS_NONE) {
		if (n != expect)
			return sl_errf(err, -EIO, "object %s is corrupt: %zu bytes, expected %zu",
				       key, n, expect);
		memcpy(dst, src, n);
		return 0;
	}
	if (n == 0)
		return sl_errf(err, -EIO, "object %s is corrupt: empty lz4 block", key);
	int r = LZ4_decompress_safe(src, dst, (int)n, (int)expect);
	if (r < 0 || (size_t)r != expect)
		return sl_errf(err, -EIO,
			       "object %s is corrupt: lz4 block of %zu bytes does not decode to %zu bytes",
			       key, n, expect);
	return 0;
}

int64_t sl_block_encode(const struct sl_chunk_layout *l, const void *src, size_t n, void *dst,
			size_t cap, struct sl_err *err)
{
	if (!l->cipher)
		return compress(l->compression, src, n, dst, cap, err);
	if (l->compression == SL_COMPRESS_NONE)
		return sl_cipher_seal(l->cipher, src, n, dst, cap, err);
	size_t zcap = compress_bound(l->compression, n);
	uint8_t *z = malloc(zcap ? zcap : 1);
	if (!z)
		return sl_errf(err, -ENOMEM, "out of memory");
	int64_t zn = compress(l->compression, src, n, z, zcap, err);
	int64_t rc = zn < 0 ? zn : sl_cipher_seal(l->cipher, z, (size_t)zn, dst, cap, err);
	free(z);
	return rc;
}

int sl_block_decode(const struct sl_chunk_layout *l, const void *src, size_t n, void *dst,
		    size_t expect, const char *key, struct sl_err *err)
{
	if (!l->cipher)
		return decompress(l->compression, src, n, dst, expect, key, err);
	if (l->compression == SL_COMPRESS_NONE) {
		int64_t got = sl_cipher_open(l->cipher, src, n, dst, expect, key, err);
		if (got >= 0 && (size_t)got != expect)
			return sl_errf(err, -EIO, "object %s is corrupt: %lld bytes, expected %zu",
				       key, (long long)got, expect);
		return got < 0 ? (int)got : 0;
	}
	size_t zcap = compress_bound(l->compression, expect);
	uint8_t *z = malloc(zcap ? zcap : 1);
	if (!z)
		return sl_errf(err, -ENOMEM, "out of memory");
	int64_t zn = sl_cipher_open(l->cipher, src, n, z, zcap, key, err);
	int rc = zn < 0 ? (int)zn : decompress(l->compression, z, (size_t)zn, dst, expect, key, err);
	free(z);
	return rc;
}

/* Inserts slice s over the sorted, non-overlapping view v (capacity grows as needed): segments it
 * covers are cut or dropped. */
static int view_apply(struct sl_slice **v, size_t *n, size_t *cap, const struct sl_slice *s)
{
	uint64_t s_end = (uint64_t)s->pos + s->len;
	/* at most one segment splits into two, plus the new one */
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct sl_slice *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	struct sl_slice *out = malloc((*n + 2) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t k = 0;
	bool placed = false;
	for (size_t i = 0; i < *n; i++) {
		struct sl_slice seg = (*v)[i];
		uint64_t seg_end = (uint64_t)seg.pos + seg.len;
		if (seg_end <= s->pos || seg.pos >= s_end) {
			if (!placed && seg.pos >= s_end) {
				out[k++] = *s;
				placed = true;
			}
			out[k++] = seg;
			continue;
		}
		if (seg.pos < s->pos) { /* left part survives */
			struct sl_slice left = seg;
			left.len = s->pos - seg.pos;
			out[k++] = left;
		}
		if (!placed) {
			out[k++] = *s;
			placed = true;
		}
		if (seg_end > s_end) { /* right part survives */
			struct sl_slice right = seg;
			uint32_t cut = (uint32_t)(s_end - seg.pos);
			right.pos = (uint32_t)s_end;
			right.off = seg.off + cut;
			right.len = seg.len - cut;
			out[k++] = right;
		}
	}
	if (!placed)
		out[k++] = *s;
	memcpy(*v, out, k * sizeof(*out));
	*n = k;
	free(out);
	return 0;
}

int sl_chunk_build_view(const struct sl_slice *slices, size_t n, struct sl_slice **out,
			size_t *nout)
{
	struct sl_slice *v = NULL;
	size_t nv = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (slices[i].len == 0)
			continue;
		int rc = view_apply(&v, &nv, &cap, &slices[i]);
		if (rc) {
			free(v);
			return rc;
		}
	}
	*out = v;
	*nout = nv;
	return 0;
}

/* A run of 1-20 decimal digits at *p (no sign, no space) that fits max. */
static bool number(const char **p, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	while (*s >= '0' && *s <= '9' && s - *p < 20) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

bool sl_block_key_name(const char *key, uint64_t *id, uint32_t *indx, uint32_t *len)
{
	const char *base = strrchr(key, '/');
	uint64_t i, x, n;
	if (!base || strlen(key) >= SL_KEY_MAX)
		return false;
	base++;
	if (!number(&base, UINT64_MAX, &i) || *base++ != '_' || !number(&base, UINT32_MAX, &x) ||
	    *base++ != '_' || !number(&base, UINT32_MAX, &n) || *base)
		return false;
	*id = i;
	*indx = (uint32_t)x;
	*len = (uint32_t)n;
	return true;
}

bool sl_block_key_parse(const struct sl_chunk_layout *l, const char *key, uint64_t *id,
			uint32_t *indx, uint32_t *len)
{
	uint64_t i;
	uint32_t x, n;
	if (!sl_block_key_name(key, &i, &x, &n))
		return false;
	/* a slice lies within one chunk; only its last block may be shorter */
	if (!n || n > l->block_size || (uint64_t)x * l->block_size + n > SL_CHUNK_SIZE)
		return false;
	char want[SL_KEY_MAX];
	sl_block_key(l, i, x, (uint32_t)((uint64_t)x * l->block_size + n), want);
	if (strcmp(want, key))
		return false;
	*id = i;
	*indx = x;
	*len = n;
	return true;
}
