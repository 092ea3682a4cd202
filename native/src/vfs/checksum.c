/*
 * checksum.c - file checksums Hadoop can compare with HDFS's: the CRC32C of a file's first
 * `length` bytes, as HDFS's COMPOSITE-CRC32C checksum is (the CRC of the whole byte stream,
 * whatever the block sizes), composed from the CRC32C of each stored block without reading it
 * again.
 *
 * A chunk's visible bytes are segments of slices (the newest slice wins); a segment covers whole
 * blocks of its slice except perhaps the first and the last, where a newer slice overlaps, a
 * concat split the slice or the range ends. Whole blocks use their CRC recorded in the metadata
 * table sluice_block_crc (meta slots block_crc_get/put, one query per segment; docs/format.md),
 * partial blocks are read and their visible bytes hashed, holes are zeros composed in O(log n).
 * The writer records each full block's CRC once it is stored; blocks without one (a slice's
 * short last block, blocks juicefs or an older Sluice wrote) are read by the first checksum that
 * needs them and recorded then. Through a gateway the client records nothing (the gateway does
 * not take a client's word for a block's CRC): the gateway computes the whole checksum itself
 * (meta slot file_crc, op FILE_CRC), with the caller's permissions, and records what it read.
 *
 * Granularity: one CRC per stored block (4 MiB by default), one row per object. A finer one (HDFS
 * keeps a CRC per 512 bytes) would spare reading the partial blocks at segment edges, but costs
 * 8192 values per block; overlaps are rare once compaction has run, and each segment reads at
 * most its two edge blocks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/crc32c.h"
#include "vfs.h"

struct sum {
	struct sl_volume_core *v;
	uint8_t *buf; /* one block, allocated on first need */
	uint32_t crc; /* of the bytes so far */
};

static void add_crc(struct sum *s, uint32_t crc, uint64_t len)
{
	s->crc = sl_crc32c_combine(s->crc, crc, len);
}

static int need_buf(struct sum *s, struct sl_err *err)
{
	if (!s->buf && !(s->buf = malloc(s->v->layout.block_size)))
		return sl_errf(err, -ENOMEM, "out of memory");
	return 0;
}

void sl_checksum_note_block(struct sl_volume_core *v, uint64_t id, uint32_t indx, uint32_t crc,
			    uint32_t len)
{
	struct sl_meta *m = v->meta;
	struct sl_err err = {0};
	if (sl_meta_supports(m, SL_META_OP_BLOCK_CRC_PUT) &&
	    sl_meta_block_crc_put(m, id, indx, crc, len, &err))
		sl_log(&v->log, SL_LOG_WARN, "recording the CRC of block %" PRIu64 "_%u: %s", id,
		       indx, err.msg);
}

/* The CRC of block indx (of blen bytes) of slice id, not recorded: computed and recorded. */
static int whole_block(struct sum *s, uint64_t id, uint32_t size, uint32_t indx, uint32_t blen,
		       struct sl_err *err)
{
	int rc = need_buf(s, err);
	if (!rc)
		rc = sl_blockcache_read(s->v->cache, id, size, indx, NULL, 0, s->buf, blen, err);
	if (rc)
		return rc;
	uint32_t crc = sl_crc32c(0, s->buf, blen);
	sl_checksum_note_block(s->v, id, indx, crc, blen);
	add_crc(s, crc, blen);
	return 0;
}

/* Bytes [off, off+len) of slice seg's data (offsets within the slice); the recorded CRCs of
 * its blocks come in one query. */
static int slice_range(struct sum *s, const struct sl_slice *seg, uint32_t off, uint32_t len,
		       struct sl_err *err)
{
	const struct sl_chunk_layout *l = &s->v->layout;
	struct sl_meta *m = s->v->meta;
	uint32_t bs = l->block_size;
	uint32_t first = off / bs, n = (off + len - 1) / bs - first + 1;
	uint32_t *crcs = calloc(2 * (size_t)n, sizeof(*crcs));
	if (!crcs)
		return sl_errf(err, -ENOMEM, "out of memory");
	uint32_t *lens = crcs + n; /* 0: not recorded */
	struct sl_err ignored = {0};
	if (sl_meta_supports(m, SL_META_OP_BLOCK_CRC_GET) &&
	    sl_meta_block_crc_get(m, seg->id, first, n, crcs, lens, &ignored))
		memset(lens, 0, n * sizeof(*lens)); /* compute them all */
	/* the blocks to read download in parallel (juicefs's files, before their CRCs are known) */
	for (uint32_t i = 0; i < n; i++)
		if (lens[i] != sl_block_len(l, seg->size, first + i) || (i == 0 && off % bs) ||
		    (i == n - 1 && (off + len) % bs && off + len < seg->size))
			sl_blockcache_prefetch(s->v->cache, seg->id, seg->size, first + i, NULL);
	int rc = 0;
	while (len && !rc) {
		uint32_t indx = off / bs, boff = off % bs;
		uint32_t blen = sl_block_len(l, seg->size, indx);
		uint32_t k = (uint32_t)(len < bs - boff ? len : bs - boff);
		if (boff == 0 && k == blen && lens[indx - first] == blen) {
			add_crc(s, crcs[indx - first], blen);
		} else if (boff == 0 && k == blen) {
			rc = whole_block(s, seg->id, seg->size, indx, blen, err);
		} else {
			rc = need_buf(s, err);
			if (!rc)
				rc = sl_blockcache_read(s->v->cache, seg->id, seg->size, indx, NULL, boff,
							s->buf, k, err);
			if (!rc)
				add_crc(s, sl_crc32c(0, s->buf, k), k);
		}
		off += k;
		len -= k;
	}
	free(crcs);
	return rc;
}

/* The first `end` bytes of chunk indx. */
static int chunk_sum(struct sum *s, const struct sl_meta_user *mu, sl_ino ino, uint32_t indx,
		     uint32_t end, struct sl_err *err)
{
	struct sl_meta *m = s->v->meta;
	struct sl_slice *slices = NULL, *segs = NULL;
	size_t n = 0, nsegs = 0;
	int rc = sl_meta_read_chunk(m, mu, ino, indx, &slices, &n, err);
	if (rc)
		return rc;
	rc = sl_chunk_build_view(slices, n, &segs, &nsegs);
	free(slices);
	if (rc)
		return sl_errf(err, -ENOMEM, "out of memory");
	uint32_t pos = 0;
	for (size_t i = 0; i < nsegs && pos < end && !rc; i++) {
		const struct sl_slice *seg = &segs[i];
		if (seg->pos >= end)
			break;
		if (seg->pos > pos) { /* a hole */
			add_crc(s, sl_crc32c_zeros(seg->pos - pos), seg->pos - pos);
			pos = seg->pos;
		}
		uint32_t seg_end = seg->pos + seg->len < end ? seg->pos + seg->len : end;
		if (seg_end <= pos)
			continue;
		if (seg->id == 0)
			add_crc(s, sl_crc32c_zeros(seg_end - pos), seg_end - pos);
		else
			rc = slice_range(s, seg, seg->off + (pos - seg->pos), seg_end - pos, err);
		pos = seg_end;
	}
	if (!rc && pos < end)
		add_crc(s, sl_crc32c_zeros(end - pos), end - pos);
	free(segs);
	return rc;
}

/* Chunk by chunk; where the backend can say which chunks exist (next_chunk), the stretches
 * without any are holes, composed as zeros at once: a sparse file of 2^57 bytes costs its
 * chunks, not 2^31 lookups (a gateway computes checksums for its clients). */
static int file_sum(struct sum *s, const struct sl_meta_user *mu, sl_ino ino, uint64_t length,
		    struct sl_err *err)
{
	struct sl_meta *m = s->v->meta;
	s->crc = 0;
	uint64_t off = 0;
	while (off < length) {
		uint32_t indx = (uint32_t)(off / SL_CHUNK_SIZE);
		if (sl_meta_supports(m, SL_META_OP_NEXT_CHUNK)) {
			uint32_t next = 0;
			int rc = sl_meta_next_chunk(m, mu, ino, indx, &next, err);
			if (rc && rc != -ENOENT)
				return rc;
			uint64_t upto = rc ? length : (uint64_t)next * SL_CHUNK_SIZE;
			if (upto > length)
				upto = length;
			if (upto > off) {
				add_crc(s, sl_crc32c_zeros(upto - off), upto - off);
				off = upto;
				continue;
			}
		}
		uint64_t n = length - off < SL_CHUNK_SIZE ? length - off : SL_CHUNK_SIZE;
		int rc = chunk_sum(s, mu, ino, indx, (uint32_t)n, err);
		if (rc)
			return rc;
		off += n;
	}
	return 0;
}

int sluice_file_checksum(sluice_volume *vol, const sluice_user *u, const char *path,
			 uint64_t length, uint32_t *crc)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_volume_core *v = &vol->core;
	struct sl_meta_user mu;
	sl_vol_user(v, u, &mu);
	sl_ino ino;
	struct sl_attr attr;
	int rc = sl_resolve_file(vol, &mu, path, &ino, &attr, err);
	if (rc)
		return rc;
	if (length > attr.length)
		length = attr.length;
	/* the gateway's, which reads and records what it must */
	if (sl_meta_supports(v->meta, SL_META_OP_FILE_CRC))
		return sl_meta_file_crc(v->meta, &mu, ino, length, crc, err);
	return sl_checksum_inode(v, &mu, ino, length, crc, err);
}

int sl_checksum_inode(struct sl_volume_core *v, const struct sl_meta_user *mu, sl_ino ino,
		      uint64_t length, uint32_t *crc, struct sl_err *err)
{
	struct sum s = {.v = v};
	int rc = file_sum(&s, mu, ino, length, err);
	/* A block missing from object storage: a compaction replaced slices we listed (list them
	 * again), or another client's hflush committed a slice still uploading (wait, up to
	 * get-timeout), as the reader does. */
	int64_t start = sl_mono_ms();
	long delay_ms = 20;
	while (rc == -ENOENT) {
		if (sl_mono_ms() - start + delay_ms > v->get_timeout_s * 1000L) {
			rc = -EIO;
			if (err) {
				err->code = rc;
				sl_err_wrap(err, "waited %d s (get-timeout)", v->get_timeout_s);
			}
			break;
		}
		struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		delay_ms = delay_ms * 2 > 1000 ? 1000 : delay_ms * 2;
		sl_meta_cache_forget(v->meta, ino);
		sl_err_clear(err);
		rc = file_sum(&s, mu, ino, length, err);
	}
	free(s.buf);
	if (!rc)
		*crc = s.crc;
	return rc;
}
