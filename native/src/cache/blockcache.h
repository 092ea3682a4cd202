/*
 * blockcache.h - decompressed blocks in memory, shared by every reader of a volume handle
 * (blockcache.c). A block is loaded once however many readers want it: from the disk cache, the
 * staging area, the cache group, then object storage.
 */
#ifndef SL_BLOCKCACHE_H
#define SL_BLOCKCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../chunk/chunk.h"
#include "../object/object.h"
#include "../util/err.h"
#include "../util/pool.h"

struct sl_blockcache;
struct sl_diskcache;
struct sl_stage;

/* Where a block lives in the cache group (vfs/peer.c): the owners of the logical block lblock
 * of file ino on the ring, the hosts getFileBlockLocations names, so that a task Hadoop runs
 * there finds its blocks on its own disk. NULL (or ino 0): where the owners of (slice id, block
 * index) are. */
struct sl_place {
	uint64_t ino;
	uint64_t lblock;
};

/* Where the blocks that readers (and readahead, prefetch, compaction) needed came from. */
struct sl_read_stats {
	atomic_uint_fast64_t memory; /* in the block cache already, or being loaded by another */
	atomic_uint_fast64_t disk;   /* the disk cache */
	atomic_uint_fast64_t staged; /* this handle's staging area (hflushed, not uploaded yet) */
	atomic_uint_fast64_t peers;  /* another node of the cache group */
	atomic_uint_fast64_t object; /* object storage */
};

/* The cache group as the block cache uses it (the volume's peers; arg is theirs). */
struct sl_block_group {
	/* Bytes [off, off+len) of the block of key (placed at) from its owners, into buf: 0, or
	 * -ENOENT when none of them has it (or there is no group). */
	int (*fetch)(void *arg, const char *key, const struct sl_place *at, uint32_t off,
		     uint8_t *buf, uint32_t len);
	/* A block downloaded from object storage, for its first owner's disk cache: true if the
	 * owner is another node and took it (then it is not kept here), false otherwise. */
	bool (*offer)(void *arg, const char *key, const struct sl_place *at, const uint8_t *data,
		      uint32_t len);
	void *arg;
};

struct sl_blockcache_config {
	const struct sl_chunk_layout *layout; /* block keys, lengths and compression (copied) */
	struct sl_objstore *store;
	struct sl_memlimit *mem;    /* the blocks' memory, shared with the writers */
	struct sl_pool *downloads;  /* prefetches load there */
	struct sl_diskcache *disk;  /* NULL: none */
	struct sl_stage *stage;     /* NULL: none */
	struct sl_block_group group; /* fetch and offer NULL: no cache group */
	struct sl_read_stats *reads;
};

int sl_blockcache_new(const struct sl_blockcache_config *cfg, struct sl_blockcache **out);
void sl_blockcache_free(struct sl_blockcache *c);
/* Copies [off, off+len) of block indx of slice (id, size) into buf: from memory, else from the
 * disk cache's file, else loading the block (whole block, decompressed). Returns 0 or a negative
 * errno with err set. */
int sl_blockcache_read(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
		       const struct sl_place *at, uint32_t off, void *buf, uint32_t len,
		       struct sl_err *err);
/* Starts loading a block in the background if it is not cached and memory allows; of a block in
 * the disk cache only the file's pages are read ahead. */
void sl_blockcache_prefetch(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
			    const struct sl_place *at);
/* Drops a slice's blocks (after the slice was deleted). */
void sl_blockcache_forget(struct sl_blockcache *c, uint64_t id, uint32_t size);
/* A buffer for a block of len bytes: one of the idle block-size buffers the cache keeps, if it
 * has one (a fresh buffer is fresh pages for the kernel to fault in), else a new one. Given back
 * with len its length (it may hold more): a block-size one is kept for the next taker (at most
 * 32 MiB of them), others are freed. Memory accounting is the caller's. */
uint8_t *sl_blockcache_buffer(struct sl_blockcache *c, uint32_t len);
void sl_blockcache_give_buffer(struct sl_blockcache *c, uint8_t *b, uint32_t len);
/* A streaming reader read block indx of slice id to its end: the block is dropped unless
 * someone else uses it, and its buffer serves the next load (a stream's blocks behind it are
 * not read again; a cached copy would only push out blocks that are). */
void sl_blockcache_passed(struct sl_blockcache *c, uint64_t id, uint32_t indx);
/* Takes n bytes from the memory limit for a writer, evicting unused cached blocks first and
 * waiting (backpressure) if the rest is in use. Give back with sl_mem_release. */
void sl_blockcache_reserve(struct sl_blockcache *c, uint64_t n);
/* Drops everything not in use. */
void sl_blockcache_drop_all(struct sl_blockcache *c);
/* Like sl_blockcache_prefetch for a block a small random read missed in the disk cache: the
 * block also goes into the disk cache when cache-full-block is false. */
void sl_blockcache_prefetch_random(struct sl_blockcache *c, uint64_t id, uint32_t size,
				   uint32_t indx, const struct sl_place *at);

#endif
