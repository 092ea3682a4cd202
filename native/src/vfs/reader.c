/*
 * reader.c - the data path of an input stream. A chunk's visible content is rebuilt from its
 * slices (later slices win, gaps read as zeros) and cached per reader; data comes from the
 * volume's block cache. Sequential access grows a readahead window (up to `readahead`) whose
 * blocks are fetched in parallel by the download pool; a large read prefetches all its blocks
 * first so that they download in parallel. Small random reads of uncompressed volumes fetch only
 * the bytes asked for (a range GET), without caching the whole block in memory; with a disk
 * cache they are served from it, and a miss also has the whole block downloaded into it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

/* A sequential reader streams once it has read this many blocks (or its readahead, if more) in
 * one run: the blocks it reads to their end are then not kept (sl_blockcache_passed). A file read
 * once more soon after is one of the smaller ones, and stays in memory. */
#define STREAMING_BLOCKS 16

struct chunk_view {
	uint32_t indx;
	struct sl_slice *segs; /* sorted, non-overlapping */
	size_t nsegs;
	struct chunk_view *next;
};

struct sl_reader {
	struct sl_volume_core *v;
	struct sl_held_user user;
	sl_ino ino;
	pthread_mutex_t lock;     /* guards the fields below */
	uint64_t length;
	struct chunk_view *views; /* current views */
	struct chunk_view *stale; /* views replaced after the file grew; freed with the reader */
	uint64_t last_end;        /* end of the previous read, to detect sequential access */
	uint64_t window;          /* current readahead */
	uint64_t prefetched_to;   /* file offset up to which readahead was issued */
	uint64_t run_start;       /* where the current sequential run began */
};

static void free_views(struct chunk_view *v)
{
	while (v) {
		struct chunk_view *next = v->next;
		free(v->segs);
		free(v);
		v = next;
	}
}

int sl_reader_new(struct sl_volume_core *v, const struct sl_meta_user *u, sl_ino ino,
		  uint64_t length, struct sl_reader **out)
{
	struct sl_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (sl_held_user_set(&r->user, u)) {
		free(r);
		return -ENOMEM;
	}
	r->v = v;
	r->ino = ino;
	r->length = length;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void sl_reader_free(struct sl_reader *r)
{
	if (!r)
		return;
	free_views(r->views);
	free_views(r->stale);
	pthread_mutex_destroy(&r->lock);
	sl_held_user_clear(&r->user);
	free(r);
}

void sl_reader_unbuffer(struct sl_reader *r)
{
	pthread_mutex_lock(&r->lock);
	r->window = 0;
	r->prefetched_to = 0;
	pthread_mutex_unlock(&r->lock);
}

/* The view of chunk indx; views are immutable once built, so the pointer stays valid for the
 * reader's life. */
static int get_view(struct sl_reader *r, uint32_t indx, const struct chunk_view **out,
		    struct sl_err *err)
{
	pthread_mutex_lock(&r->lock);
	for (struct chunk_view *cv = r->views; cv; cv = cv->next)
		if (cv->indx == indx) {
			pthread_mutex_unlock(&r->lock);
			*out = cv;
			return 0;
		}
	pthread_mutex_unlock(&r->lock);

	struct sl_slice *slices = NULL;
	size_t n = 0;
	int rc = sl_meta_read_chunk(r->v->meta, &r->user.mu, r->ino, indx, &slices, &n, err);
	if (rc)
		return rc;
	struct chunk_view *cv = calloc(1, sizeof(*cv));
	if (!cv || (rc = sl_chunk_build_view(slices, n, &cv->segs, &cv->nsegs))) {
		free(cv);
		free(slices);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	free(slices);
	cv->indx = indx;
	pthread_mutex_lock(&r->lock);
	cv->next = r->views;
	r->views = cv;
	pthread_mutex_unlock(&r->lock);
	*out = cv;
	return 0;
}

/* The block-level pieces of a range: calls fn for each (slice, block, offset-in-block, len) or
 * hole. */
struct piece {
	uint64_t file_off; /* where this piece goes */
	uint32_t len;
	uint64_t id;       /* 0: hole */
	uint32_t size, indx, boff;
};
typedef int (*piece_fn)(struct sl_reader *r, const struct piece *p, void *arg,
			struct sl_err *err);

static int for_each_piece(struct sl_reader *r, uint64_t off, uint64_t len, piece_fn fn,
			  void *arg, struct sl_err *err)
{
	uint32_t bs = r->v->layout.block_size;
	uint64_t end = off + len;
	while (off < end) {
		uint32_t indx = (uint32_t)(off / SL_CHUNK_SIZE);
		uint64_t cstart = (uint64_t)indx * SL_CHUNK_SIZE;
		uint64_t cend = cstart + SL_CHUNK_SIZE < end ? cstart + SL_CHUNK_SIZE : end;
		const struct chunk_view *cv = NULL;
		int rc = get_view(r, indx, &cv, err);
		if (rc)
			return rc;
		while (off < cend) {
			uint32_t cpos = (uint32_t)(off - cstart);
			struct piece p = {.file_off = off};
			const struct sl_slice *seg = NULL;
			uint32_t next_start = (uint32_t)(cend - cstart);
			for (size_t i = 0; i < cv->nsegs; i++) {
				const struct sl_slice *s = &cv->segs[i];
				if (cpos >= s->pos && cpos < s->pos + s->len) {
					seg = s;
					break;
				}
				if (s->pos > cpos) {
					if (s->pos < next_start)
						next_start = s->pos;
					break;
				}
			}
			if (!seg || seg->id == 0) { /* hole: up to the next segment or its end */
				uint32_t hole_end = seg ? seg->pos + seg->len : next_start;
				p.len = hole_end - cpos;
			} else {
				uint32_t in_slice = seg->off + (cpos - seg->pos);
				p.id = seg->id;
				p.size = seg->size;
				p.indx = in_slice / bs;
				p.boff = in_slice % bs;
				p.len = bs - p.boff;
				if (p.len > seg->pos + seg->len - cpos)
					p.len = seg->pos + seg->len - cpos;
			}
			if (p.len > cend - off)
				p.len = (uint32_t)(cend - off);
			rc = fn(r, &p, arg, err);
			if (rc)
				return rc;
			off += p.len;
		}
	}
	return 0;
}

struct copy_arg {
	uint8_t *buf;
	uint64_t base;
	bool direct; /* small random read: fetch only the bytes needed */
	bool streaming; /* a long sequential read: blocks read to their end are not kept */
};

/* The logical block the piece's bytes belong to: where the cache group keeps its block. */
static struct sl_place place_of(const struct sl_reader *r, const struct piece *p)
{
	uint64_t lbs = r->v->logical_block_size ? r->v->logical_block_size : 1;
	return (struct sl_place){.ino = r->ino, .lblock = p->file_off / lbs};
}

static int copy_piece(struct sl_reader *r, const struct piece *p, void *arg, struct sl_err *err)
{
	struct copy_arg *a = arg;
	uint8_t *dst = a->buf + (p->file_off - a->base);
	if (!p->id) {
		memset(dst, 0, p->len);
		return 0;
	}
	if (a->direct) {
		char key[SL_KEY_MAX];
		sl_block_key(&r->v->layout, p->id, p->indx, p->size, key);
		struct sl_place at = place_of(r, p);
		/* in a cache group, the bytes from the block's owner (which caches it) */
		if (!sl_peers_fetch(r->v->peers, key, &at, p->boff, dst, p->len))
			return 0;
		if (r->v->disk) {
			/* From the disk cache if it is there; else the range now for this read, and
			 * the whole block into the disk cache for the random reads to come. */
			if (sl_diskcache_read(r->v->disk, key, p->boff, dst, p->len, NULL) ==
			    (int64_t)p->len)
				return 0;
			sl_blockcache_prefetch_random(r->v->cache, p->id, p->size, p->indx, &at);
		}
		int64_t n = sl_obj_get(r->v->store, key, p->boff, dst, p->len, err);
		if (n >= 0 && (uint64_t)n != p->len)
			return sl_errf(err, -EIO, "object %s is truncated", key);
		if (n == -ENOENT)
			return sl_errf(err, -ENOENT, "block %s is missing from object storage", key);
		return n < 0 ? (int)n : 0;
	}
	struct sl_place at = place_of(r, p);
	int rc = sl_blockcache_read(r->v->cache, p->id, p->size, p->indx, &at, p->boff, dst,
				    p->len, err);
	if (!rc && a->streaming &&
	    p->boff + p->len == sl_block_len(&r->v->layout, p->size, p->indx))
		sl_blockcache_passed(r->v->cache, p->id, p->indx);
	return rc;
}

static int prefetch_piece(struct sl_reader *r, const struct piece *p, void *arg,
			  struct sl_err *err)
{
	(void)arg;
	(void)err;
	if (p->id) {
		struct sl_place at = place_of(r, p);
		sl_blockcache_prefetch(r->v->cache, p->id, p->size, p->indx, &at);
	}
	return 0;
}

const struct sl_meta_user *sl_reader_user(const struct sl_reader *r)
{
	return &r->user.mu;
}

int64_t sl_reader_pread(struct sl_reader *r, void *buf, size_t len, uint64_t off,
			struct sl_err *err)
{
	struct sl_volume_core *v = r->v;
	pthread_mutex_lock(&r->lock);
	uint64_t length = r->length;
	pthread_mutex_unlock(&r->lock);
	if (off + len > length) {
		/* At the end as we know it: the file may have grown (a writer hflushed). */
		struct sl_attr attr;
		int rc = sl_meta_getattr(v->meta, &r->user.mu, r->ino, &attr, err);
		if (rc)
			return rc;
		pthread_mutex_lock(&r->lock);
		if (attr.length != r->length) {
			/* Views of the chunks from the old end on may miss new slices. */
			uint32_t first = (uint32_t)((attr.length < r->length ? attr.length : r->length) /
						    SL_CHUNK_SIZE);
			struct chunk_view **pp = &r->views;
			while (*pp) {
				struct chunk_view *cv = *pp;
				if (cv->indx >= first) {
					*pp = cv->next;
					cv->next = r->stale;
					r->stale = cv;
				} else {
					pp = &cv->next;
				}
			}
			r->length = attr.length;
		}
		length = r->length;
		pthread_mutex_unlock(&r->lock);
	}
	if (off >= length)
		return 0;
	if (len > length - off)
		len = (size_t)(length - off);
	if (len == 0)
		return 0;

	uint32_t bs = v->layout.block_size;
	pthread_mutex_lock(&r->lock);
	bool sequential = off == r->last_end;
	if (sequential) {
		r->window = r->window ? r->window * 2 : bs;
		if (r->window > v->readahead_max)
			r->window = v->readahead_max;
	} else {
		r->window = 0;
		r->prefetched_to = 0;
		r->run_start = off;
	}
	r->last_end = off + len;
	uint64_t stream_after = STREAMING_BLOCKS * (uint64_t)bs;
	if (stream_after < v->readahead_max)
		stream_after = v->readahead_max;
	bool streaming = sequential && off - r->run_start >= stream_after;
	uint64_t ra_start = off + len > r->prefetched_to ? off + len : r->prefetched_to;
	uint64_t ra_end = off + len + r->window;
	if (ra_end > length)
		ra_end = length;
	if (ra_end > r->prefetched_to)
		r->prefetched_to = ra_end;
	pthread_mutex_unlock(&r->lock);

	struct sl_err perr = {0};
	/* Reads spanning several blocks download them in parallel. */
	if (len > bs)
		for_each_piece(r, off, len, prefetch_piece, NULL, &perr);
	if (ra_end > ra_start)
		for_each_piece(r, ra_start, ra_end - ra_start, prefetch_piece, NULL, &perr);

	struct copy_arg a = {.buf = buf, .base = off,
			     .direct = !sequential && sl_block_stored_plain(&v->layout) &&
				       len <= bs / 4,
			     .streaming = streaming};
	int rc = for_each_piece(r, off, len, copy_piece, &a, err);
	/* A block missing from object storage: a compaction may have replaced slices of a view we
	 * cached (rebuild the views and retry at once), or another client's hflush committed a
	 * slice whose upload is still running (keep retrying, up to get-timeout). Never zeros. */
	int64_t deadline = sl_mono_ms() + v->get_timeout_s * 1000LL;
	int delay_ms = 0;
	while (rc == -ENOENT) {
		if (delay_ms) {
			if (sl_mono_ms() + delay_ms > deadline)
				break;
			struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
		delay_ms = delay_ms ? (delay_ms * 2 > 1000 ? 1000 : delay_ms * 2) : 20;
		sl_meta_cache_forget(v->meta, r->ino); /* open-cache may hold the same old list */
		pthread_mutex_lock(&r->lock);
		struct chunk_view **tail = &r->stale;
		while (*tail)
			tail = &(*tail)->next;
		*tail = r->views;
		r->views = NULL;
		pthread_mutex_unlock(&r->lock);
		if (err)
			sl_err_clear(err);
		rc = for_each_piece(r, off, len, copy_piece, &a, err);
	}
	if (rc == -ENOENT) { /* still missing: the data is lost, not moved or late */
		rc = -EIO;
		if (err) {
			err->code = rc;
			sl_err_wrap(err, "waited %d s (get-timeout)", v->get_timeout_s);
		}
	}
	return rc ? rc : (int64_t)len;
}
