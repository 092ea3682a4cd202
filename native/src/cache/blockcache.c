/*
 * blockcache.c - decompressed blocks in memory, shared by all readers of a volume: a hash table
 * of entries plus a use list of the unused ones (util/lru.h). Memory comes from the volume's
 * hard limit; a full limit evicts unused blocks first, then makes foreground reads wait and
 * prefetch give up.
 *
 * Entry states: LOADING (one thread fetches it; others wait on `loaded`) -> READY, or removed
 * from the table on failure (the waiters get the error, the next read tries again).
 * Invariant: an entry is on the use list iff it is READY and refs == 0.
 *
 * Below it sits the disk cache (diskcache.c). A block it holds is not loaded into memory: reads
 * copy from its file into the caller's buffer, and readahead only asks the kernel for its pages.
 * A load (a block in neither) tries the disk cache first all the same, then the staging area, then
 * the block's owners in the cache group (the volume's, through struct sl_block_group), then
 * object storage; a block downloaded from object storage is stored on disk after the readers got
 * it, while the loader still holds its reference (a READY block's data never changes, so no lock
 * is needed to write it out).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/counter.h"
#include "../util/lru.h"
#include "blockcache.h"
#include "diskcache.h"
#include "stage.h"

#define MIN_BUCKETS 4096
#define MAX_BUCKETS (1u << 20)
/* Idle block buffers kept for the next loads, at most this many bytes of them: a buffer fresh from
 * malloc is fresh pages from the kernel, and faulting them in while a download fills them took
 * about a third of a cold reader's CPU. Outside the memory limit, within its slack. */
#define SPARE_BYTES (32u << 20)

enum entry_state { LOADING, READY, FAILED };

struct entry {
	struct sl_lru_link link; /* in the table while it may be found; on `unused` iff READY and
				    refs == 0 */
	uint64_t id;
	uint32_t indx, slice_size, len;
	enum entry_state state;
	bool random; /* wanted by a small random read: goes to disk even without cache-full-block */
	struct sl_place at; /* where it lives in a cache group (its first requester's word) */
	int refs;
	uint8_t *data;
	struct sl_err err;
};

struct block_id {
	uint64_t id;
	uint32_t indx;
};

struct sl_blockcache {
	struct sl_chunk_layout layout;
	struct sl_objstore *store;
	struct sl_memlimit *mem;
	struct sl_pool *downloads;
	struct sl_diskcache *disk;
	struct sl_stage *stage;
	struct sl_block_group group;
	struct sl_read_stats *reads;
	pthread_mutex_t lock;
	pthread_cond_t loaded;
	struct sl_lru table;
	struct sl_lru_list unused;
	uint64_t bytes;
	struct block_id hinted; /* the block on disk whose pages were asked for last */
	pthread_mutex_t spare_lock; /* guards spare and nspare */
	uint8_t **spare;            /* idle buffers of block_size bytes (SPARE_BYTES) */
	size_t nspare, spare_max;
};

static struct entry *entry_of(struct sl_lru_link *l)
{
	return l ? (struct entry *)((char *)l - offsetof(struct entry, link)) : NULL;
}

static bool entry_is(const struct sl_lru_link *l, const void *key)
{
	const struct entry *e = entry_of((struct sl_lru_link *)l);
	const struct block_id *b = key;
	return e->id == b->id && e->indx == b->indx;
}

static uint64_t hash_of(uint64_t id, uint32_t indx)
{
	uint64_t h = sl_lru_hash(SL_LRU_HASH_INIT, &id, sizeof(id));
	return sl_lru_hash(h, &indx, sizeof(indx));
}

uint8_t *sl_blockcache_buffer(struct sl_blockcache *c, uint32_t len)
{
	uint8_t *b = NULL;
	if (len <= c->layout.block_size) {
		pthread_mutex_lock(&c->spare_lock);
		if (c->nspare)
			b = c->spare[--c->nspare];
		pthread_mutex_unlock(&c->spare_lock);
	}
	return b ? b : malloc(len ? len : 1);
}

void sl_blockcache_give_buffer(struct sl_blockcache *c, uint8_t *b, uint32_t len)
{
	if (b && len == c->layout.block_size) {
		pthread_mutex_lock(&c->spare_lock);
		bool kept = c->nspare < c->spare_max;
		if (kept)
			c->spare[c->nspare++] = b;
		pthread_mutex_unlock(&c->spare_lock);
		if (kept)
			return;
	}
	free(b);
}

static void entry_free(struct sl_blockcache *c, struct entry *e)
{
	if (e->data) {
		sl_blockcache_give_buffer(c, e->data, e->len);
		c->bytes -= e->len;
		sl_mem_release(c->mem, e->len);
	}
	free(e);
}

static void free_link(struct sl_lru_link *l, void *c)
{
	entry_free(c, entry_of(l));
}

/* Evicts the least recently used unused block; false if there is none. Called with lock held. */
static bool evict_one_locked(struct sl_blockcache *c)
{
	struct entry *e = entry_of(sl_lru_oldest(&c->unused));
	if (!e)
		return false;
	sl_lru_remove(&c->table, &e->link);
	entry_free(c, e);
	return true;
}

/* Takes n bytes from the memory limit, evicting unused blocks as needed; if `wait` is false gives
 * up instead of waiting for other users of memory. Waiting never blocks on the limit alone:
 * memory held by blocks that become unused must be reclaimed by the waiter itself, so it wakes
 * up (sl_mem_notify) and tries to evict again. */
static bool reserve(struct sl_blockcache *c, uint64_t n, bool wait)
{
	for (;;) {
		if (sl_mem_try_acquire(c->mem, n))
			return true;
		pthread_mutex_lock(&c->lock);
		bool evicted = evict_one_locked(c);
		pthread_mutex_unlock(&c->lock);
		if (evicted)
			continue;
		if (!wait)
			return false;
		sl_mem_wait(c->mem, n);
	}
}

int sl_blockcache_new(const struct sl_blockcache_config *cfg, struct sl_blockcache **out)
{
	struct sl_blockcache *c = calloc(1, sizeof(*c));
	uint32_t bs = cfg->layout->block_size;
	size_t spare_max = bs && bs <= SPARE_BYTES ? SPARE_BYTES / bs : 0;
	if (c && spare_max)
		c->spare = calloc(spare_max, sizeof(*c->spare));
	if (!c || (spare_max && !c->spare) ||
	    sl_lru_init(&c->table, MIN_BUCKETS, MAX_BUCKETS, entry_is)) {
		if (c)
			free(c->spare);
		free(c);
		return -ENOMEM;
	}
	c->spare_max = spare_max;
	pthread_mutex_init(&c->spare_lock, NULL);
	c->layout = *cfg->layout;
	c->store = cfg->store;
	c->mem = cfg->mem;
	c->downloads = cfg->downloads;
	c->disk = cfg->disk;
	c->stage = cfg->stage;
	c->group = cfg->group;
	c->reads = cfg->reads;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->loaded, NULL);
	sl_lru_list_init(&c->unused);
	*out = c;
	return 0;
}

void sl_blockcache_free(struct sl_blockcache *c)
{
	if (!c)
		return;
	sl_lru_clear(&c->table, free_link, c);
	sl_lru_destroy(&c->table);
	for (size_t i = 0; i < c->nspare; i++)
		free(c->spare[i]);
	free(c->spare);
	pthread_mutex_destroy(&c->spare_lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->loaded);
	free(c);
}

/* Fetches and decodes one block into a new buffer of its length, from the disk cache if it is
 * there (*remote false) or else from object storage (*remote true). */
static int fetch_block(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
		       const struct sl_place *at, uint8_t **out, uint32_t *outlen, bool *remote,
		       struct sl_err *err)
{
	char key[SL_KEY_MAX];
	sl_block_key(&c->layout, id, indx, size, key);
	uint32_t blen = sl_block_len(&c->layout, size, indx);
	uint8_t *data = sl_blockcache_buffer(c, blen);
	if (!data)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = 0;
	*remote = false;
	if (c->disk && blen &&
	    sl_diskcache_read_block(c->disk, key, blen, 0, data, blen, NULL) == (int64_t)blen) {
		sl_stat_add(&c->reads->disk, 1);
		*out = data;
		*outlen = blen;
		return 0;
	}
	if (c->stage && blen) {
		/* hflushed here and maybe not uploaded yet (compaction reads such slices) */
		uint8_t *staged = NULL;
		uint32_t slen = 0;
		struct sl_err serr = {0};
		if (!sl_stage_read(c->stage, key, &staged, &slen, &serr) && slen == blen) {
			sl_stat_add(&c->reads->staged, 1);
			sl_blockcache_give_buffer(c, data, blen);
			*out = staged;
			*outlen = blen;
			return 0;
		}
		free(staged);
	}
	if (c->group.fetch && blen) {
		if (!c->group.fetch(c->group.arg, key, at, 0, data, blen)) {
			sl_stat_add(&c->reads->peers, 1);
			*out = data;
			*outlen = blen;
			return 0; /* the owner caches it: not here too */
		}
	}
	*remote = true;
	sl_stat_add(&c->reads->object, 1);
	if (sl_block_stored_plain(&c->layout)) {
		int64_t n = sl_obj_get(c->store, key, 0, data, blen, err);
		if (n >= 0 && (uint64_t)n != blen)
			n = sl_errf(err, -EIO, "object %s is truncated: %lld bytes, expected %u", key,
				    (long long)n, blen);
		rc = n < 0 ? (int)n : 0;
	} else {
		size_t cap = sl_block_stored_bound(&c->layout, blen);
		uint8_t *raw = malloc(cap);
		if (!raw) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
		} else {
			int64_t n = sl_obj_get(c->store, key, 0, raw, cap, err);
			rc = n < 0 ? (int)n
				   : sl_block_decode(&c->layout, raw, (size_t)n, data, blen, key,
						     err);
			free(raw);
		}
	}
	if (rc) {
		/* -ENOENT stays: the reader re-reads the chunk once, a compaction may have
		 * replaced the slice since its view was built */
		if (rc == -ENOENT)
			sl_errf(err, -ENOENT, "block %s is missing from object storage (%s)", key,
				c->store->description);
		sl_blockcache_give_buffer(c, data, blen);
		return rc;
	}
	*out = data;
	*outlen = blen;
	return 0;
}

/* [off, off+len) of a block not in memory, from the disk cache straight into buf (the segments
 * it touches verified): true if it was there. A block the disk holds is not loaded into memory,
 * which spares a sequential reader of cached data the page faults of a fresh buffer per block,
 * their unmapping and a copy (two thirds of its CPU in a profile of a warm read). */
static bool read_on_disk(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
			 uint32_t off, void *buf, uint32_t len)
{
	uint32_t blen = sl_block_len(&c->layout, size, indx);
	if (!len || (uint64_t)off + len > blen)
		return false; /* the load reports what is wrong */
	char key[SL_KEY_MAX];
	sl_block_key(&c->layout, id, indx, size, key);
	if (sl_diskcache_read_block(c->disk, key, blen, off, buf, len, NULL) != (int64_t)len)
		return false;
	sl_stat_add(&c->reads->disk, 1);
	return true;
}

static struct entry *find_locked(struct sl_blockcache *c, uint64_t id, uint32_t indx)
{
	struct block_id b = {id, indx};
	return entry_of(sl_lru_find(&c->table, hash_of(id, indx), &b));
}

static struct entry *insert_loading_locked(struct sl_blockcache *c, uint64_t id, uint32_t size,
					   uint32_t indx, const struct sl_place *at)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = id;
	e->indx = indx;
	e->slice_size = size;
	if (at)
		e->at = *at;
	e->state = LOADING;
	e->refs = 1;
	sl_lru_insert(&c->table, &e->link, hash_of(id, indx));
	return e;
}

/* Loads e (LOADING, referenced by the caller) and publishes the result. Memory for the block was
 * reserved by the caller. True if the block came from object storage: the caller then stores it
 * on disk (store_on_disk) before it lets go of e. */
static bool load_entry(struct sl_blockcache *c, struct entry *e, uint64_t reserved)
{
	struct sl_err err = {0};
	uint8_t *data = NULL;
	uint32_t len = 0;
	bool remote = false;
	int rc = fetch_block(c, e->id, e->slice_size, e->indx, &e->at, &data, &len, &remote,
			     &err);
	pthread_mutex_lock(&c->lock);
	if (rc) {
		e->state = FAILED;
		e->err = err;
		e->err.code = rc;
		sl_lru_remove(&c->table, &e->link);
	} else {
		e->state = READY;
		e->data = data;
		e->len = len;
		c->bytes += len;
	}
	pthread_cond_broadcast(&c->loaded);
	pthread_mutex_unlock(&c->lock);
	/* The reservation was the block length: keep it for the data, or give it back on failure. */
	if (rc)
		sl_mem_release(c->mem, reserved);
	return !rc && remote && (c->disk || c->group.offer);
}

/* Writes a READY block the caller holds a reference to into the disk cache, or, in a cache group,
 * into its owner's when that is another node. */
static void store_on_disk(struct sl_blockcache *c, struct entry *e)
{
	char key[SL_KEY_MAX];
	sl_block_key(&c->layout, e->id, e->indx, e->slice_size, key);
	if (c->group.offer && c->group.offer(c->group.arg, key, &e->at, e->data, e->len))
		return;
	pthread_mutex_lock(&c->lock);
	bool random = e->random;
	pthread_mutex_unlock(&c->lock);
	sl_diskcache_put(c->disk, key, e->data, e->len, random);
}

static void release_locked(struct sl_blockcache *c, struct entry *e)
{
	if (--e->refs > 0)
		return;
	if (e->state == READY) {
		sl_lru_touch(&c->unused, &e->link);
		sl_mem_notify(c->mem);
	}
	else if (e->state == FAILED)
		entry_free(c, e);
}

int sl_blockcache_read(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
		       const struct sl_place *at, uint32_t off, void *buf, uint32_t len,
		       struct sl_err *err)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = find_locked(c, id, indx);
	if (!e && c->disk) {
		pthread_mutex_unlock(&c->lock);
		if (read_on_disk(c, id, size, indx, off, buf, len))
			return 0;
		pthread_mutex_lock(&c->lock);
		e = find_locked(c, id, indx); /* another reader may have begun to load it */
	}
	bool store = false;
	if (e) {
		sl_stat_add(&c->reads->memory, 1);
		if (e->refs++ == 0)
			sl_lru_unlink(&e->link);
		while (e->state == LOADING)
			pthread_cond_wait(&c->loaded, &c->lock);
		pthread_mutex_unlock(&c->lock);
	} else {
		e = insert_loading_locked(c, id, size, indx, at);
		pthread_mutex_unlock(&c->lock);
		if (!e)
			return sl_errf(err, -ENOMEM, "out of memory");
		uint32_t blen = sl_block_len(&c->layout, size, indx);
		reserve(c, blen, true);
		store = load_entry(c, e, blen);
	}
	int rc = 0;
	if (e->state == READY) {
		if ((uint64_t)off + len > e->len)
			rc = sl_errf(err, -EIO, "read past the end of block %u of slice %llu", indx,
				     (unsigned long long)id);
		else
			memcpy(buf, e->data + off, len);
	} else {
		rc = e->err.code ? e->err.code : -EIO;
		if (err)
			*err = e->err;
	}
	if (store) /* after the copy: the reader does not wait for the disk */
		store_on_disk(c, e);
	pthread_mutex_lock(&c->lock);
	release_locked(c, e);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

struct prefetch_task {
	struct sl_blockcache *c;
	struct entry *e;
	uint64_t reserved;
	bool loaded; /* only store e, READY, on disk */
};

static void prefetch_run(void *arg)
{
	struct prefetch_task *t = arg;
	if (t->loaded || load_entry(t->c, t->e, t->reserved))
		store_on_disk(t->c, t->e);
	pthread_mutex_lock(&t->c->lock);
	release_locked(t->c, t->e);
	pthread_mutex_unlock(&t->c->lock);
	free(t);
}

static void prefetch(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
		     const struct sl_place *at, bool random)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = find_locked(c, id, indx);
	struct prefetch_task *t = NULL;
	if (e && random && c->disk) {
		/* Loading: its loader stores it on disk. In memory already (the disk cache missed
		 * it): a task stores it, so the random read does not wait for the disk. */
		e->random = true;
		if (e->state == READY && (t = malloc(sizeof(*t)))) {
			if (e->refs++ == 0)
				sl_lru_unlink(&e->link);
			*t = (struct prefetch_task){.c = c, .e = e, .loaded = true};
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (t && sl_pool_submit(c->downloads, prefetch_run, t))
		prefetch_run(t);
	if (e)
		return;
	if (!random && c->disk) {
		/* Read from disk when wanted (read_on_disk): only its pages are read ahead. A
		 * sequential reader asks for each block once per read call that reaches into it,
		 * and asking the kernel again walks the cached pages again. */
		pthread_mutex_lock(&c->lock);
		bool again = c->hinted.id == id && c->hinted.indx == indx;
		pthread_mutex_unlock(&c->lock);
		if (again)
			return;
		char key[SL_KEY_MAX];
		sl_block_key(&c->layout, id, indx, size, key);
		if (sl_diskcache_willneed(c->disk, key)) {
			pthread_mutex_lock(&c->lock);
			c->hinted = (struct block_id){id, indx};
			pthread_mutex_unlock(&c->lock);
			return;
		}
	}
	uint32_t blen = sl_block_len(&c->layout, size, indx);
	if (!reserve(c, blen, false))
		return; /* memory is short: readahead shrinks to nothing rather than waiting */
	t = malloc(sizeof(*t));
	pthread_mutex_lock(&c->lock);
	if (t && !find_locked(c, id, indx) && (e = insert_loading_locked(c, id, size, indx, at)))
		e->random = random;
	pthread_mutex_unlock(&c->lock);
	if (!e) {
		free(t);
		sl_mem_release(c->mem, blen);
		return;
	}
	*t = (struct prefetch_task){.c = c, .e = e, .reserved = blen};
	if (sl_pool_submit(c->downloads, prefetch_run, t))
		prefetch_run(t);
}

void sl_blockcache_prefetch(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
			    const struct sl_place *at)
{
	prefetch(c, id, size, indx, at, false);
}

void sl_blockcache_prefetch_random(struct sl_blockcache *c, uint64_t id, uint32_t size,
				   uint32_t indx, const struct sl_place *at)
{
	prefetch(c, id, size, indx, at, true);
}

void sl_blockcache_forget(struct sl_blockcache *c, uint64_t id, uint32_t size)
{
	uint32_t nblocks = sl_block_count(&c->layout, size);
	pthread_mutex_lock(&c->lock);
	for (uint32_t indx = 0; indx < nblocks; indx++) {
		struct entry *e = find_locked(c, id, indx);
		if (e && e->refs == 0 && e->state == READY) {
			sl_lru_remove(&c->table, &e->link);
			entry_free(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void sl_blockcache_passed(struct sl_blockcache *c, uint64_t id, uint32_t indx)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = find_locked(c, id, indx);
	if (e && e->refs == 0 && e->state == READY) {
		sl_lru_remove(&c->table, &e->link);
		entry_free(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

void sl_blockcache_reserve(struct sl_blockcache *c, uint64_t n)
{
	reserve(c, n, true);
}

void sl_blockcache_drop_all(struct sl_blockcache *c)
{
	pthread_mutex_lock(&c->lock);
	while (evict_one_locked(c))
		;
	pthread_mutex_unlock(&c->lock);
}
