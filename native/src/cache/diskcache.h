/*
 * diskcache.h - blocks on local disk (diskcache.c) under `cache-dir` (several directories,
 * ':'-separated; a block's key picks one), at most `cache-size` bytes in all, keeping
 * `free-space-ratio` of each file system free, least recently used evicted first. The index is
 * rebuilt from the files at start, so the cache survives restarts. Files live under
 * DIR/<volume uuid>/raw/<object key>; hflush staging uses DIR/<volume uuid>/rawstaging/ beside
 * it (stage.c), the cache group's replicas DIR/<volume uuid>/replicas/ (vfs/peer.c).
 */
#ifndef SL_DISKCACHE_H
#define SL_DISKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/log.h"

struct sl_diskcache;

/* What the volume's configuration says (the keys in quotes). */
struct sl_diskcache_config {
	const char *dirs;      /* "cache-dir"; NULL or "": no disk cache */
	const char *volume_id; /* the volume's uuid (or name): DIR/<volume_id>/ */
	uint64_t capacity;     /* "cache-size": bytes of cache files at most */
	double free_ratio;     /* "free-space-ratio": of each file system kept free, 0 to below 1 */
	bool full_block;       /* "cache-full-block": keep blocks read sequentially too */
	uint64_t max_writers;  /* "cache-writers": files written at once per directory, 0-1024, 0 no
				  limit */
	const struct sl_logger *log; /* outlives the cache */
};

/* *out is NULL without directories. A directory that cannot be created or written is skipped
 * with a warning; none usable leaves *out NULL as well. -EINVAL for settings out of range. */
int sl_diskcache_new(const struct sl_diskcache_config *cfg, struct sl_diskcache **out,
		     struct sl_err *err);
void sl_diskcache_free(struct sl_diskcache *dc);
/* Like sl_cachefile_read for the cached block key; -ENOENT when not cached. A corrupt file is
 * deleted (and logged) and reported as -ENOENT, so the caller fetches the block elsewhere. */
int64_t sl_diskcache_read(struct sl_diskcache *dc, const char *key, uint32_t off, void *buf,
			  uint32_t n, struct sl_err *err);
/* Like sl_diskcache_read, for a block of block_len bytes: a file holding a block of another length
 * is no copy of it (it is forgotten, and the read is -ENOENT). */
int64_t sl_diskcache_read_block(struct sl_diskcache *dc, const char *key, uint32_t block_len,
				uint32_t off, void *buf, uint32_t n, struct sl_err *err);
/* Whether the cache holds block key; if so, the kernel is asked to read its file into the page
 * cache in the background (readahead of a block that will be read from disk). */
bool sl_diskcache_willneed(struct sl_diskcache *dc, const char *key);
/* Stores a block (best effort: a full or failing disk only logs; so many writes at once into
 * its directory that cache-writers is reached skip it): whether it was stored. random: the block
 * was fetched for a small random read; blocks fetched otherwise (sequential reads, readahead)
 * are stored only with cache-full-block=true. */
bool sl_diskcache_put(struct sl_diskcache *dc, const char *key, const void *data, uint32_t len,
		      bool random);
/* Moves a finished cache file (a staged block, after its upload) into the cache as key; the file
 * must be on the directory sl_diskcache_root(dc, key) names. Deletes it if it cannot be kept. */
void sl_diskcache_adopt(struct sl_diskcache *dc, const char *key, const char *path);
/* Room for a file of a block of len bytes that the cache does not own but must leave room for
 * (a replica a peer keeps for a writer): evicts cached blocks as needed, counts it as kept, and
 * says whether it fits within cache-size and free-space-ratio. */
bool sl_diskcache_keep_room(struct sl_diskcache *dc, const char *key, uint32_t len);
/* Such a file of bytes is leaving (moved into the cache, or deleted). */
void sl_diskcache_unkeep(struct sl_diskcache *dc, uint64_t bytes);
/* What such files take now, as counted on disk (corrects the count; the owner recounts). */
void sl_diskcache_set_kept(struct sl_diskcache *dc, uint64_t bytes);
/* Removes a block (its slice was deleted). */
void sl_diskcache_forget(struct sl_diskcache *dc, const char *key);
/* "DIR/<volume uuid>" of the cache directory that holds key. */
const char *sl_diskcache_root(const struct sl_diskcache *dc, const char *key);
/* Every configured directory's "DIR/<volume uuid>" (for staging recovery): count and i-th. */
size_t sl_diskcache_nroots(const struct sl_diskcache *dc);
const char *sl_diskcache_root_at(const struct sl_diskcache *dc, size_t i);
/* What the cache holds now: bytes of its files, their number, and the cache-size limit. */
void sl_diskcache_usage(struct sl_diskcache *dc, uint64_t *bytes, uint64_t *blocks,
			uint64_t *limit);
/* Puts not done because cache-writers files were being written to the directory already. */
uint64_t sl_diskcache_skipped(struct sl_diskcache *dc);

#endif
