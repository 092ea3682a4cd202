/*
 * writer.c - the data path of an output stream. Written bytes fill the current slice (one per
 * chunk, at most 64 MiB); every full block is handed to the upload pool at once; a slice is sealed
 * at a chunk boundary or by flush. Commit order is the invariant that keeps metadata honest:
 *   - a slice is committed to metadata (write_chunk) only after all its blocks are stored, and
 *   - slices are committed in the order they were sealed (only the head of the queue commits,
 *     under commit_lock), so the file never references data that is not in object storage and
 *     a later slice never lands before an earlier one.
 * The first failure is sticky: later writes and flushes return it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

struct wslice {
	struct sl_writer *w;
	uint64_t id;
	uint32_t chunk;      /* chunk index */
	uint32_t pos;        /* offset of the slice in its chunk */
	uint32_t len;        /* bytes written so far */
	uint32_t cap;        /* bytes that fit before the chunk boundary */
	uint8_t **blocks;    /* buffers of blocks not yet uploaded */
	uint32_t nblocks;
	uint32_t submitted;  /* blocks [0, submitted) are queued or stored */
	int uploading;       /* uploads in flight */
	struct sl_err err;   /* first upload failure */
	struct wslice *next;
};

struct sl_writer {
	struct sl_volume_core *v;
	sl_ino ino;
	uint64_t pos;          /* file offset of the next byte */
	pthread_mutex_t lock;  /* guards everything below and the slices' counters */
	pthread_cond_t changed;
	pthread_mutex_t commit_lock;
	struct wslice *cur;
	struct wslice *head, *tail; /* sealed, not yet committed, in order */
	int tasks;             /* upload tasks not finished; the writer outlives them */
	uint32_t cc_chunk, cc_count; /* commits into chunk cc_chunk (under commit_lock) */
	struct sl_err err;     /* sticky */
};

struct upload {
	struct wslice *s;
	uint32_t indx;
	uint32_t len;
	uint8_t *data;
	char key[SL_KEY_MAX];
};

static void slice_free(struct sl_volume_core *v, struct wslice *s)
{
	for (uint32_t i = 0; i < s->nblocks; i++)
		if (s->blocks[i]) {
			free(s->blocks[i]);
			sl_mem_release(&v->mem, v->layout.block_size);
		}
	free(s->blocks);
	free(s);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Every COMPACT_EVERY commits into one chunk, its slices are merged if there are COMPACT_AT or
 * more (an hflush per record makes a slice per record). Called under commit_lock. A failed
 * compaction leaves the chunk as it was: correct, only slower to read. */
#define COMPACT_EVERY 100
#define COMPACT_AT 300
static void maybe_compact(struct sl_writer *w, uint32_t chunk)
{
	if (chunk != w->cc_chunk) {
		w->cc_chunk = chunk;
		w->cc_count = 0;
	}
	if (++w->cc_count % COMPACT_EVERY)
		return;
	struct sl_err err = {0};
	if (sl_compact_chunk(w->v, w->ino, chunk, COMPACT_AT, &err))
		sl_log(&w->v->log, SL_LOG_WARN, "compacting chunk %u of inode %llu: %s", chunk,
		       (unsigned long long)w->ino, err.msg);
}

/* Commits every sealed slice at the head of the queue whose blocks are all stored. */
static void commit_ready(struct sl_writer *w)
{
	pthread_mutex_lock(&w->commit_lock);
	for (;;) {
		pthread_mutex_lock(&w->lock);
		struct wslice *s = w->head;
		if (!s || s->uploading > 0 || s->submitted < sl_block_count(&w->v->layout, s->len)) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		w->head = s->next;
		if (!w->head)
			w->tail = NULL;
		bool failed = w->err.code || s->err.code;
		if (s->err.code && !w->err.code)
			w->err = s->err;
		pthread_mutex_unlock(&w->lock);

		struct sl_err err = {0};
		int rc = 0;
		if (!failed && s->len > 0) {
			struct sl_slice sl = {.pos = s->pos, .id = s->id, .size = s->len, .off = 0,
					      .len = s->len};
			struct sl_attr attr;
			rc = w->v->meta->be->write_chunk(w->v->meta, w->ino, s->chunk, &sl, now_ns(),
							 &attr, &err);
		}
		if (!rc && !failed && s->len > 0)
			maybe_compact(w, s->chunk);
		pthread_mutex_lock(&w->lock);
		if (rc && !w->err.code) {
			w->err = err;
			w->err.code = rc;
			sl_err_wrap(&w->err, "commit of a slice of inode %llu",
				    (unsigned long long)w->ino);
		}
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		slice_free(w->v, s);
	}
	pthread_mutex_unlock(&w->commit_lock);
}

static void upload_run(void *arg)
{
	struct upload *u = arg;
	struct wslice *s = u->s;
	struct sl_writer *w = s->w;
	struct sl_volume_core *v = w->v;
	struct sl_err err = {0};
	const char *key = u->key;
	int rc;
	if (v->layout.compression == SL_COMPRESS_NONE) {
		rc = sl_obj_put(v->store, key, u->data, u->len, &err);
	} else {
		size_t cap = sl_compress_bound(v->layout.compression, u->len);
		uint8_t *z = malloc(cap);
		int64_t n = z ? sl_compress(v->layout.compression, u->data, u->len, z, cap, &err)
			      : sl_errf(&err, -ENOMEM, "out of memory");
		rc = n < 0 ? (int)n : sl_obj_put(v->store, key, z, (size_t)n, &err);
		free(z);
	}
	free(u->data);
	sl_mem_release(&v->mem, v->layout.block_size);
	pthread_mutex_lock(&w->lock);
	if (rc && !s->err.code) {
		s->err = err;
		s->err.code = rc;
	}
	s->uploading--;
	pthread_mutex_unlock(&w->lock);
	free(u);
	commit_ready(w);
	pthread_mutex_lock(&w->lock);
	w->tasks--;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* Hands block indx of s (len bytes) to the upload pool. Called with w->lock held. */
static int submit_block(struct sl_writer *w, struct wslice *s, uint32_t indx, uint32_t len)
{
	struct upload *u = malloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	*u = (struct upload){.s = s, .indx = indx, .len = len, .data = s->blocks[indx]};
	/* The key names the block's length, final here: only full blocks are uploaded before the
	 * slice is sealed, the last one after. */
	sl_block_key(&w->v->layout, s->id, indx, indx * w->v->layout.block_size + len, u->key);
	s->blocks[indx] = NULL;
	s->uploading++;
	s->submitted = indx + 1;
	w->tasks++;
	if (sl_pool_submit(w->v->uploads, upload_run, u)) {
		s->blocks[indx] = u->data;
		s->uploading--;
		s->submitted = indx;
		w->tasks--;
		free(u);
		return -ENOMEM;
	}
	return 0;
}

/* Seals the current slice: uploads its last partial block and queues it for commit.
 * Called with w->lock held. */
static int seal_current(struct sl_writer *w)
{
	struct wslice *s = w->cur;
	if (!s)
		return 0;
	w->cur = NULL;
	uint32_t bs = w->v->layout.block_size;
	uint32_t nblocks = sl_block_count(&w->v->layout, s->len);
	int rc = 0;
	if (s->submitted < nblocks)
		rc = submit_block(w, s, nblocks - 1, s->len - (nblocks - 1) * bs);
	if (w->tail)
		w->tail->next = s;
	else
		w->head = s;
	w->tail = s;
	return rc;
}

static int new_slice(struct sl_writer *w, struct sl_err *err)
{
	struct sl_volume_core *v = w->v;
	struct wslice *s = calloc(1, sizeof(*s));
	if (!s)
		return sl_errf(err, -ENOMEM, "out of memory");
	s->w = w;
	s->chunk = (uint32_t)(w->pos / SL_CHUNK_SIZE);
	s->pos = (uint32_t)(w->pos % SL_CHUNK_SIZE);
	s->cap = (uint32_t)(SL_CHUNK_SIZE - s->pos);
	s->nblocks = sl_block_count(&v->layout, s->cap);
	s->blocks = calloc(s->nblocks, sizeof(uint8_t *));
	int rc = s->blocks ? sl_meta_next_slice_id(v->meta, &s->id, err)
			   : sl_errf(err, -ENOMEM, "out of memory");
	if (rc) {
		free(s->blocks);
		free(s);
		return rc;
	}
	w->cur = s;
	return 0;
}

int sl_writer_new(struct sl_volume_core *v, sl_ino ino, uint64_t start, struct sl_writer **out)
{
	struct sl_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->v = v;
	w->ino = ino;
	w->pos = start;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	pthread_mutex_init(&w->commit_lock, NULL);
	*out = w;
	return 0;
}

int sl_writer_write(struct sl_writer *w, const void *buf, size_t len, struct sl_err *err)
{
	const uint8_t *p = buf;
	uint32_t bs = w->v->layout.block_size;
	pthread_mutex_lock(&w->lock);
	int rc = w->err.code;
	if (rc && err)
		*err = w->err;
	while (!rc && len > 0) {
		if (!w->cur && (rc = new_slice(w, err)))
			break;
		struct wslice *s = w->cur;
		uint32_t indx = s->len / bs, boff = s->len % bs;
		if (!s->blocks[indx]) {
			/* Backpressure: wait for memory without holding the writer lock, so that
			 * finished uploads can update this writer meanwhile. */
			pthread_mutex_unlock(&w->lock);
			sl_blockcache_reserve(w->v->cache, bs);
			uint8_t *b = malloc(bs);
			pthread_mutex_lock(&w->lock);
			if (!b) {
				sl_mem_release(&w->v->mem, bs);
				rc = sl_errf(err, -ENOMEM, "out of memory");
				break;
			}
			if (w->cur != s || s->blocks[indx]) { /* changed while we waited */
				free(b);
				sl_mem_release(&w->v->mem, bs);
				continue;
			}
			s->blocks[indx] = b;
		}
		uint32_t n = bs - boff;
		if (n > s->cap - s->len)
			n = s->cap - s->len;
		if (n > len)
			n = (uint32_t)len;
		memcpy(s->blocks[indx] + boff, p, n);
		s->len += n;
		w->pos += n;
		p += n;
		len -= n;
		if (s->len % bs == 0 && s->len / bs == indx + 1 && s->len < s->cap)
			rc = submit_block(w, s, indx, bs);
		else if (s->len == s->cap)
			rc = seal_current(w);
		if (rc)
			rc = sl_errf(err, rc, "cannot queue an upload: out of memory");
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int sl_writer_flush(struct sl_writer *w, struct sl_err *err)
{
	pthread_mutex_lock(&w->lock);
	int rc = seal_current(w);
	pthread_mutex_unlock(&w->lock);
	commit_ready(w); /* an empty or already-uploaded slice commits here */
	pthread_mutex_lock(&w->lock);
	while (w->head)
		pthread_cond_wait(&w->changed, &w->lock);
	if (!rc)
		rc = w->err.code;
	if (rc && err)
		*err = w->err.code ? w->err : (struct sl_err){.code = rc, .msg = "out of memory"};
	pthread_mutex_unlock(&w->lock);
	return rc;
}

uint64_t sl_writer_length(const struct sl_writer *w)
{
	return w->pos;
}

void sl_writer_free(struct sl_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->cur) { /* never flushed: drop it (close flushes first, so only after errors) */
		slice_free(w->v, w->cur);
		w->cur = NULL;
	}
	while (w->head || w->tasks)
		pthread_cond_wait(&w->changed, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->commit_lock);
	free(w);
}
