/*
 * vfs.h - the internals behind sluice.h: the volume (config, format, metadata, object store,
 * session, background work), the worker pools and the memory limit, user mapping, paths, and the
 * reader/writer of file data. Only the vfs layer sees all the layers below it.
 */
#ifndef SL_VFS_H
#define SL_VFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"
#include "../chunk/chunk.h"
#include "../meta/meta.h"
#include "../object/object.h"
#include "../util/clock.h"
#include "../util/conf.h"
#include "../util/err.h"
#include "../util/log.h"

/* ---- format record (format.c) --------------------------------------------------------------- */
/* The JuiceFS `format` JSON, as far as Sluice reads or writes it. */
struct sl_format {
	char name[256];
	char uuid[64];
	char storage[32];
	char bucket[1024];
	char access_key[256];
	char secret_key[512];
	char session_token[2048];
	uint32_t block_size_kib;
	char compression[16];
	bool hash_prefix;
	uint64_t capacity;  /* bytes, 0 = unlimited */
	uint64_t inodes;    /* 0 = unlimited */
	int trash_days;
	int meta_version;
	bool dir_stats;
	bool enable_acl;
	bool key_encrypted;
	char encrypt_algo[32];
	char storage_class[64];
	/* the record as loaded, so that fields Sluice does not know survive a rewrite */
	void *json; /* json_t* */
};

/* Parses a format record; refuses (with -ENOTSUP and a message naming the feature) any feature
 * Sluice does not implement: encryption keys, shards, tiers, user/group quotas, ACLs, Ranger,
 * changelog, zstd compression, meta versions above 1. Decrypts the secret key when the record
 * says KeyEncrypted. */
int sl_format_parse(const char *json, struct sl_format *f, struct sl_err *err);
/* Serializes f as juicefs does (secret encrypted with the UUID when set). Caller frees. */
int sl_format_dump(const struct sl_format *f, char **json, struct sl_err *err);
void sl_format_free(struct sl_format *f);

/* ---- worker pool and memory limit (pool.c) ------------------------------------------------- */
struct sl_pool;
typedef void (*sl_task_fn)(void *arg);
int sl_pool_new(int threads, const char *name, struct sl_pool **out);
/* Queues fn(arg); never fails once the pool exists (the queue is unbounded, its entries small;
 * the memory they point at is bounded by the memory limit). */
int sl_pool_submit(struct sl_pool *p, sl_task_fn fn, void *arg);
/* Runs queued tasks to completion, then stops the threads. */
void sl_pool_free(struct sl_pool *p);

/* A hard limit on buffer memory. Users take memory with try_acquire and, when it does not fit,
 * reclaim what they can (unused cached blocks) or wait (backpressure); see blockcache.c. */
struct sl_memlimit {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint64_t limit, used;
	uint64_t peak; /* the most ever used at once (<= limit): for tests and metrics */
};
void sl_mem_init(struct sl_memlimit *m, uint64_t limit);
void sl_mem_destroy(struct sl_memlimit *m);
/* Takes n bytes only if available now. */
bool sl_mem_try_acquire(struct sl_memlimit *m, uint64_t n);
void sl_mem_release(struct sl_memlimit *m, uint64_t n);
/* Sleeps until memory is released or becomes reclaimable (sl_mem_notify), at most 100 ms, if n
 * bytes do not fit now. Callers retry their reclaim loop after it. */
void sl_mem_wait(struct sl_memlimit *m, uint64_t n);
/* Wakes waiters because something they could reclaim appeared (an unused cached block). */
void sl_mem_notify(struct sl_memlimit *m);

/* ---- block cache (blockcache.c) ------------------------------------------------------------ */
struct sl_blockcache;
struct sl_volume_core;
/* Where a block lives in the cache group (peer.c): the owners of the logical block lblock of
 * file ino on the ring, the hosts getFileBlockLocations names, so that a task Hadoop runs there
 * finds its blocks on its own disk. NULL (or ino 0): where the owners of (slice id, block index)
 * are. */
struct sl_place {
	uint64_t ino;
	uint64_t lblock;
};
int sl_blockcache_new(struct sl_volume_core *v, struct sl_blockcache **out);
void sl_blockcache_free(struct sl_blockcache *c);
/* Copies [off, off+len) of block indx of slice (id, size) into buf, loading the block if needed
 * (whole block, decompressed). Returns 0 or a negative errno with err set. */
int sl_blockcache_read(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
		       const struct sl_place *at, uint32_t off, void *buf, uint32_t len,
		       struct sl_err *err);
/* Starts loading a block in the background if it is not cached and memory allows. */
void sl_blockcache_prefetch(struct sl_blockcache *c, uint64_t id, uint32_t size, uint32_t indx,
			    const struct sl_place *at);
/* Drops a slice's blocks (after the slice was deleted). */
void sl_blockcache_forget(struct sl_blockcache *c, uint64_t id, uint32_t size);
/* Takes n bytes from the volume's memory limit for a writer, evicting unused cached blocks
 * first and waiting (backpressure) if the rest is in use. Give back with sl_mem_release. */
void sl_blockcache_reserve(struct sl_blockcache *c, uint64_t n);
/* Drops everything not in use. */
void sl_blockcache_drop_all(struct sl_blockcache *c);
/* Like sl_blockcache_prefetch for a block a small random read missed in the disk cache: the
 * block also goes into the disk cache when cache-full-block is false. */
void sl_blockcache_prefetch_random(struct sl_blockcache *c, uint64_t id, uint32_t size,
				   uint32_t indx, const struct sl_place *at);

/* ---- cache files (cachefile.c) ------------------------------------------------------------ */
/* One block on local disk, for the disk cache and for hflush staging: the raw (decompressed)
 * bytes, then a CRC32C per 64 KiB segment, then a footer (magic, version, length, CRC32C of the
 * CRC list). A read verifies the segments it touches, so a flipped byte is detected, never
 * returned. */
#define SL_CACHEFILE_SEGMENT 65536
/* Temporary files of unfinished writes are named SL_CACHEFILE_TMP_PREFIX "<name>.tmp.<random>"
 * in the target's directory. */
#define SL_CACHEFILE_TMP_PREFIX ".slcb-"
/* Writes data to path atomically (a temporary file renamed over it), creating missing parent
 * directories (mode 0700). With sync, the file is fdatasync'ed and its directory fsync'ed
 * before returning: the block survives a crash of the process or the machine. */
int sl_cachefile_write(const char *path, const void *data, uint32_t len, bool sync,
		       struct sl_err *err);
/* sl_cachefile_write with sync; *sync_ns gets the time spent in fdatasync and the directory's
 * fsync (the benchmark's per-phase breakdown of hflush). */
int sl_cachefile_write_synced(const char *path, const void *data, uint32_t len,
			      int64_t *sync_ns, struct sl_err *err);
/* Writes n cache files. With sync, sharing the cost of making them durable: all are written
 * and their writeback started, then each is fdatasync'ed and renamed, then each directory is
 * fsync'ed once. rcs[i] gets each file's outcome; returns the first error (in *err), or 0. */
int sl_cachefile_write_many(const char *const *paths, const uint8_t *const *data,
			    const uint32_t *lens, size_t n, bool sync, int *rcs, int64_t *sync_ns,
			    struct sl_err *err);
/* Reads [off, off+n) of the block in path (n is cut at the block's end) and returns the bytes
 * read; *blen (may be NULL) gets the block's length. -ENOENT if there is no such file,
 * -EBADMSG if it is corrupt or truncated (callers delete it and fetch the block elsewhere). */
int64_t sl_cachefile_read(const char *path, uint32_t off, void *buf, uint32_t n, uint32_t *blen,
			  struct sl_err *err);
/* Reads and verifies the whole block into a new buffer (caller frees). */
int sl_cachefile_read_all(const char *path, uint8_t **data, uint32_t *len, struct sl_err *err);

/* ---- disk cache (diskcache.c) ---------------------------------------------------------------- */
/* Blocks on local disk under `cache-dir` (several directories, ':'-separated; a block's key picks
 * one), at most `cache-size` bytes in all, keeping `free-space-ratio` of each file system free,
 * least recently used evicted first. The index is rebuilt from the files at start, so the cache
 * survives restarts. Files live under DIR/<volume uuid>/raw/<object key>; hflush staging uses
 * DIR/<volume uuid>/rawstaging/ beside it (stage.c). */
struct sl_diskcache;
/* *out is NULL when no cache-dir is configured. A directory that cannot be created or written
 * is skipped with a warning; none usable leaves *out NULL as well. */
int sl_diskcache_new(struct sl_volume_core *v, struct sl_diskcache **out, struct sl_err *err);
void sl_diskcache_free(struct sl_diskcache *dc);
/* Like sl_cachefile_read for the cached block key; -ENOENT when not cached. A corrupt file is
 * deleted (and logged) and reported as -ENOENT, so the caller fetches the block elsewhere. */
int64_t sl_diskcache_read(struct sl_diskcache *dc, const char *key, uint32_t off, void *buf,
			  uint32_t n, struct sl_err *err);
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

/* ---- the staging journal (journal.c) ------------------------------------------------------- */
/* The write-ahead journal of one staging directory: a round of staged cache files, written
 * without syncing, is made durable by one append and fdatasync here. */
struct sl_journal;
/* The bytes of one generation (a larger round grows the file). */
#define SL_JOURNAL_CAPACITY (8u << 20)
/* Creates DIR/.journal (DIR is new and ours: the file must not exist). */
int sl_journal_open(const char *dir, struct sl_journal **out, struct sl_err *err);
/* Records n blocks (keys relative to DIR) and makes them durable; when the current generation
 * is full, the still-staged blocks of it are synced first and the generation retired. */
int sl_journal_append(struct sl_journal *j, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, int64_t *sync_ns, struct sl_err *err);
/* Syncs the blocks still staged and removes the journal (kept, with a warning, if that fails). */
void sl_journal_close(struct sl_journal *j, const struct sl_logger *log);
/* In a dead client's DIR: rewrites every journaled block whose cache file is missing, torn or
 * different, then removes the journal. 0, or an error (the journal then stays). */
int sl_journal_replay(const char *dir, const struct sl_logger *log, struct sl_err *err);

/* ---- hflush staging (stage.c) ---------------------------------------------------------------- */
/* The local write cache: blocks an hflush made visible before they reached object storage. */
struct sl_stage;
/* *out stays NULL without a disk cache (hflush then waits for object storage, as hsync). Takes
 * over the staging directories of clients that are gone and queues their blocks for upload. */
int sl_stage_new(struct sl_volume_core *v, struct sl_stage **out, struct sl_err *err);
/* After the upload pool was drained. Blocks still not uploaded stay for the next client. */
void sl_stage_free(struct sl_stage *st);
/* Writes n blocks durably to the staging area (journaled, journal.c; or each file synced where
 * no journal can be kept), in one round with what other threads stage at the same time (group
 * staging). rcs[i] gets each block's outcome; returns the first error. */
int sl_stage_put_many(struct sl_stage *st, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, int *rcs, struct sl_err *err);
/* The staged block (verified) for readers in this process; -ENOENT if not staged here. */
int sl_stage_read(struct sl_stage *st, const char *key, uint8_t **data, uint32_t *len,
		  struct sl_err *err);
/* The block is in object storage and its slice committed: its staged copy moves into the disk
 * cache. (Until then the copy stays, so that a client taking over after a crash finds every
 * block of an uncommitted slice and deletes its object.) */
void sl_stage_uploaded(struct sl_stage *st, const char *key);
/* A staged block its writer did not retire (not uploaded, or its slice not committed): the
 * background thread uploads it if its slice is still referenced, and drops it otherwise. */
void sl_stage_orphan(struct sl_stage *st, const char *key);
/* Background thread: starts uploads of queued blocks that are due (each checks first that its
 * slice is still referenced, and drops it otherwise), and the checks of dead clients' merged
 * slices. */
void sl_stage_sweep(struct sl_stage *st);
/* An upload succeeded: blocks waiting after failed uploads become due at once. */
void sl_stage_store_ok(struct sl_stage *st);
/* Whether a dead client's staging directory was taken over at start (its deferred deletions
 * died with it: the volume then sweeps unreferenced slices). */
bool sl_stage_recovered(const struct sl_stage *st);
/* Marks a slice that is uploaded before it is committed (compaction's merged slice) until
 * pending_end, so that a client taking over after a crash deletes it unless it was committed. */
int sl_stage_pending_begin(struct sl_stage *st, uint64_t id, uint32_t size, struct sl_err *err);
void sl_stage_pending_end(struct sl_stage *st, uint64_t id, uint32_t size);
/* Slices with uploads in flight. A deletion of a held slice is deferred: defer_delete records it
 * (true if held), and the last unhold returns true with the size so the caller deletes it. */
void sl_stage_hold(struct sl_stage *st, uint64_t id);
bool sl_stage_unhold(struct sl_stage *st, uint64_t id, uint32_t *size);
bool sl_stage_defer_delete(struct sl_stage *st, uint64_t id, uint32_t size);

/* ---- block locality (locality.c) ------------------------------------------------------------ */
/* A consistent hash ring with weighted virtual nodes over the "nodes" list; immutable once built,
 * so lookups from many threads need no lock. */
struct sl_ring;
#define SL_RING_MAX_REPLICAS SLUICE_BLOCK_MAX_HOSTS
/* Parses "host1:3,host2,host3:2" (weight 1-1000, default 1; host names of letters, digits, '.',
 * '-', '_'; no duplicates) and builds the ring; -EINVAL with a message naming the bad entry. */
int sl_ring_new(const char *spec, struct sl_ring **out, struct sl_err *err);
void sl_ring_free(struct sl_ring *r);
size_t sl_ring_nhosts(const struct sl_ring *r);
const char *sl_ring_host(const struct sl_ring *r, size_t i);
/* Fills out with the first n distinct hosts clockwise from the hash of block (ino, index); n is
 * capped at the number of hosts and at SL_RING_MAX_REPLICAS. Returns how many were filled. The
 * strings belong to the ring. */
size_t sl_ring_lookup(const struct sl_ring *r, uint64_t ino, uint64_t index, const char **out,
		      size_t n);

/* ---- the cache group (peer.c, peer_client.c) ----------------------------------------------- */
struct sl_peers;
/* What the block server and the reads from peers did (relaxed counters, for tests and stats). */
struct sl_peer_stats {
	atomic_uint_fast64_t served;  /* blocks this node sent to peers */
	atomic_uint_fast64_t fetched; /* blocks (or ranges of them) this node got from peers */
	atomic_uint_fast64_t fetched_bytes;
	atomic_uint_fast64_t refused; /* requests refused: unauthenticated, too old, not a key */
	atomic_uint_fast64_t failed;  /* asks of a peer that failed other than "not there" */
	atomic_uint_fast64_t kept;    /* replicas this node keeps for writers (PUTs taken) */
	atomic_uint_fast64_t offered; /* blocks other nodes downloaded and gave this owner */
	atomic_uint_fast64_t replicated; /* copies of this node's hflushed blocks on peers */
	atomic_uint_fast64_t degraded;   /* hflushed blocks with fewer copies than hflush.replicas */
};
/* Starts the cache group when "cache-group.port" is set (*out stays NULL otherwise): the block
 * server on this node's address, unless another process of the node has it. */
int sl_peers_new(struct sl_volume_core *v, struct sl_peers **out, struct sl_err *err);
/* Once nothing can call into p any more: the pools' tasks (readahead, compaction) do. */
void sl_peers_free(struct sl_peers *p);
/* Bytes [off, off+len) of the block of key (placed at) from its owners on the ring, into buf: 0,
 * or -ENOENT when none of them has it (or there is no group, p NULL). */
int sl_peers_fetch(struct sl_peers *p, const char *key, const struct sl_place *at, uint32_t off,
		   uint8_t *buf, uint32_t len);
/* Replicated hflush: starts sending blocks [0, n) to hflush.replicas - 1 of their owners each
 * (the next ones when one fails), which keep them durably; data must stay valid until finish.
 * NULL when there is nothing to do (or no memory: finish then sends them itself). */
struct sl_peer_batch;
struct sl_peer_batch *sl_peers_replicate_start(struct sl_peers *p, const char *const *keys,
					       const struct sl_place *at,
					       const uint8_t *const *data, const uint32_t *lens,
					       size_t n);
/* Waits for the copies, frees b, and counts those of the blocks staged here (staged[k] == 0)
 * that got fewer copies than hflush.replicas - 1 as degraded (logged once): returns how many. */
int sl_peers_replicate_finish(struct sl_peers *p, struct sl_peer_batch *b, const int *staged,
			      size_t n);
/* Hands over the replicas this node keeps that are older than grace_s: into the disk cache when
 * their block is in object storage, uploaded first when their slice is committed, dropped when it
 * never was after an hour. Returns how many were handed over. */
unsigned sl_peers_sweep(struct sl_peers *p, int64_t grace_s);
/* A block this node downloaded from object storage, given to its first owner on the ring for
 * its disk cache: true if the owner is another node and took it (the caller then does not keep
 * it), false otherwise (no group, this node owns it, or the owner did not answer). */
bool sl_peers_offer(struct sl_peers *p, const char *key, const struct sl_place *at,
		    const uint8_t *data, uint32_t blen);
/* Kerberos mode: what a gateway gives a client that may read the block `key`, for GETs from
 * the group's servers until expiry (unix seconds): a ticket derived from the group key
 * (sl_peers_group_key), as "peer-ticket:EXPIRY:HEX" in out. */
int sl_peers_group_key(struct sl_meta *m, uint8_t out[SL_META_KEY_BYTES], struct sl_err *err);
int sl_peers_ticket(const uint8_t group[SL_META_KEY_BYTES], const char *key, int64_t expiry,
		    char *out, size_t size, struct sl_err *err);
const struct sl_peer_stats *sl_peers_stats(const struct sl_peers *p);
bool sl_peers_serving(const struct sl_peers *p);

/* ---- the volume ---------------------------------------------------------------------------- */
struct sl_idmap;

/* Everything the readers and writers need, shared by all handles of one volume. */
/* What hflush spends its time on, summed over the volume handle's streams (read by the benchmark
 * and the tests; relaxed counters, not a consistent snapshot). */
struct sl_flush_stats {
	atomic_uint_fast64_t hflushes;      /* sl_writer_hflush calls */
	atomic_uint_fast64_t stages;        /* blocks staged by hflush */
	atomic_uint_fast64_t stage_ns;      /* writing them, fdatasync included */
	atomic_uint_fast64_t stage_sync_ns; /* of which fdatasync (the journal's, or the files') */
	atomic_uint_fast64_t replica_wait_ns; /* waiting for peers' copies after staging locally */
	atomic_uint_fast64_t commits;       /* metadata transactions committing slices */
	atomic_uint_fast64_t records;       /* slices they committed */
	atomic_uint_fast64_t commit_ns;     /* time in those transactions */
	atomic_uint_fast64_t wait_ns;       /* hflush waiting for locks and for other flushes */
};

/* Where the blocks that readers (and readahead, prefetch, compaction) needed came from. */
struct sl_read_stats {
	atomic_uint_fast64_t memory; /* in the block cache already, or being loaded by another */
	atomic_uint_fast64_t disk;   /* the disk cache */
	atomic_uint_fast64_t staged; /* this handle's staging area (hflushed, not uploaded yet) */
	atomic_uint_fast64_t peers;  /* another node of the cache group */
	atomic_uint_fast64_t object; /* object storage */
};

static inline void sl_stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* Group commit of the slices of every stream of a volume handle (commit.c). */
struct sl_commit_req;
struct sl_commit_group {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct sl_commit_req *queue; /* waiting for the next transaction, in arrival order */
	bool busy;                   /* a leader is committing */
};
void sl_commit_init(struct sl_commit_group *g);
void sl_commit_destroy(struct sl_commit_group *g);
/* Commits recs (n slices of one writer, in order), together with what other streams of the
 * volume commit at the same time: one transaction for all when the backend has write_chunks.
 * Returns when recs are committed (0, *done = n, attributes filled) or failed (*done records
 * from the first were committed: only a backend without write_chunks commits some). */
int sl_commit_slices(struct sl_volume_core *v, struct sl_meta_chunk_write *recs, size_t n,
		     size_t *done, struct sl_err *err);

struct sl_volume_core {
	struct sl_conf *conf;
	/* The clock of its decisions by time (sessions, the background thread's rounds, the
	 * metadata handle's, meta->clock); NULL: the system clock, a test's own (sl_vol_init). */
	const struct sl_clock *clock;
	struct sl_logger log;
	struct sl_format format;
	struct sl_chunk_layout layout;
	struct sl_meta *meta;
	struct sl_objstore *store;
	struct sl_pool *uploads;
	struct sl_pool *downloads;
	struct sl_memlimit mem;
	struct sl_blockcache *cache;
	struct sl_diskcache *disk;  /* NULL without cache-dir */
	struct sl_stage *stage;     /* NULL without a usable cache-dir: hflush acts as hsync */
	struct sl_peers *peers;     /* the cache group; NULL without cache-group.port */
	int get_timeout_s;          /* how long a reader waits for a committed, missing block */
	struct sl_idmap *ids;
	uint64_t readahead_max;
	uint64_t logical_block_size;
	struct sl_ring *ring; /* from "nodes"; NULL without a node list; read under ring_lock */
	pthread_mutex_t ring_lock;
	uint32_t cache_replicas; /* hosts per block, 1-SL_RING_MAX_REPLICAS */
	bool read_only;
	bool leases;          /* output streams take writer leases ("leases", meta.h) */
	char superuser[64], supergroup[64];
	char default_user[64];
	struct sl_flush_stats flush;
	struct sl_read_stats reads;
	struct sl_commit_group commits;
};

struct sluice_volume {
	struct sl_volume_core core;
	pthread_key_t err_key;   /* per-thread struct sl_err of the last failed call */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t bg_thread;
	bool bg_running, stopping;
	int heartbeat_s;
	int64_t lease_hard_limit_s; /* "lease-hard-limit" (sweep_leases) */
	/* inodes whose data waits for deletion, processed by the background thread */
	sl_ino *doomed;
	size_t ndoomed, cap_doomed;
	bool deleting;           /* the background thread is deleting a doomed inode's data */
	bool slices_due;         /* sweep unreferenced slices at once (a dead client was found) */
	pthread_cond_t settled;  /* signalled when the queue is empty and nothing is being deleted */
	struct sluice_file *open_files; /* list of open handles, closed by shutdown */
	/* "nodes" naming a file on the volume ("/..."): re-read every nodes_refresh_s; rings it
	 * replaced stay until shutdown, since sluice_block.hosts point into them */
	int nodes_refresh_s;
	char *nodes_text;
	struct sl_ring **old_rings;
	size_t nold_rings;
};

/* sluice_init on clock (NULL: the system clock), which must outlive the volume: tests move
 * a volume's time forward instead of sleeping (util/clock.h). */
int sl_vol_init(const sluice_kv *conf, size_t nconf, const struct sl_clock *clock,
		sluice_volume **out, char *errmsg, size_t errmsg_size);
/* The current node ring (NULL without one). */
struct sl_ring *sl_vol_ring(struct sl_volume_core *v);

/* The calling thread's error slot of the volume. */
struct sl_err *sl_vol_err(sluice_volume *vol);
/* Queues the data of a removed inode for deletion (background thread). */
void sl_vol_doom(sluice_volume *vol, sl_ino ino);
/* Waits up to timeout_ms until every queued deletion has ended; -ETIMEDOUT if not. Lets a caller
 * (tests, tools) observe the state after the deleting client's background work. */
int sl_vol_settle_deletions(sluice_volume *vol, int timeout_ms);
/* Deletes the blocks of every slice whose last reference went away with inode ino. */
int sl_vol_delete_data(struct sl_volume_core *v, sl_ino ino, struct sl_err *err);
/* An sl_meta_slice_cb (arg: the volume core): deletes a dead slice's blocks, then forgets it. */
int sl_vol_delete_slice(void *core, uint64_t id, uint32_t size);
/* Deletes the blocks of a slice; false if some could not be deleted (left for gc). */
bool sl_vol_delete_slice_blocks(struct sl_volume_core *v, uint64_t id, uint32_t size);

/* ---- compaction (compact.c) ---------------------------------------------------------------- */
/* If chunk indx of ino has at least min_records slice records, merges its small trailing ones
 * into one new slice; the commit checks lease (NULL: none), the writer's. */
int sl_compact_chunk(struct sl_volume_core *v, const struct sl_meta_user *u,
		     const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
		     size_t min_records, struct sl_err *err);

/* ---- users (idmap.c) ----------------------------------------------------------------------- */
/* meta: the volume whose registry records ids of names unknown to files and system (NULL: none);
 * may_record: whether this client may add to it (not when read-only). */
int sl_idmap_new(const char *users_file, const char *groups_file, struct sl_meta *meta,
		 bool may_record, const struct sl_logger *log, struct sl_idmap **out,
		 struct sl_err *err);
void sl_idmap_free(struct sl_idmap *m);
uint32_t sl_idmap_uid(struct sl_idmap *m, const char *user);
uint32_t sl_idmap_gid(struct sl_idmap *m, const char *group);
/* Name of an id, or its decimal form. */
void sl_idmap_user_name(struct sl_idmap *m, uint32_t uid, char *buf, size_t size);
void sl_idmap_group_name(struct sl_idmap *m, uint32_t gid, char *buf, size_t size);
/* Fills a meta user from a public one (NULL: the volume's default user). */
void sl_vol_user(struct sl_volume_core *v, const sluice_user *u, struct sl_meta_user *out);

/* ---- paths (path.c) ------------------------------------------------------------------------ */
/* Checks and normalizes an absolute path: collapses "//", drops a trailing '/', rejects "." and
 * ".." components, empty names, names over 255 bytes and NUL. Result in out (PATH_MAX). */
int sl_path_normalize(const char *path, char *out, size_t size, struct sl_err *err);
/* Splits a normalized path into parent path and last name ("/" has no name: -EINVAL). */
int sl_path_split(const char *path, char *parent, size_t psize, const char **name);

/* ---- namespace helpers shared with file.c (namespace.c) ------------------------------------ */
void sl_fill_stat(struct sl_volume_core *v, sl_ino ino, const struct sl_attr *a, sluice_stat *st);
/* Creates a file or directory at path (parent must exist); flags: SL_MKNOD_REPLACE. */
int sl_create_entry(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		    uint8_t type, uint16_t mode, int flags, sl_ino *ino, struct sl_attr *attr,
		    struct sl_err *err);
int sl_mkdirs_user(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		   uint16_t mode, struct sl_err *err);
/* Resolves path, following a final symlink if follow. */
int sl_resolve(sluice_volume *vol, const struct sl_meta_user *mu, const char *path, bool follow,
	       sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
/* Resolves path (following symlinks) to a regular file: -EISDIR or -EINVAL for anything else. */
int sl_resolve_file(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		    sl_ino *ino, struct sl_attr *attr, struct sl_err *err);

/* ---- file handles (reader.c, writer.c, file.c) --------------------------------------------- */
struct sl_writer;
struct sl_reader;

struct sluice_file {
	sluice_volume *vol;
	sl_ino ino;
	int flags;
	pthread_mutex_t lock;   /* serializes writes, seeks, hsyncs and close on this handle */
	pthread_cond_t idle;    /* flushing dropped to 0 */
	int flushing;           /* hflushes running: they hold no lock here, so that concurrent
				   ones commit together (writer.c); close waits for them */
	uint64_t pos;           /* sequential read/write position */
	struct sl_writer *w;    /* NULL for read-only handles */
	struct sl_meta_lease lease; /* the writer's, if leased (lease.c) */
	bool leased;
	struct sl_reader *r;
	struct sluice_file *next_open, *prev_open;
};

/* ---- writer leases (lease.c) ---------------------------------------------------------------- */
/* Takes the lease of an output stream on ino, if the volume uses leases and its backend has
 * them: *leased says whether it did. -SL_ELEASE_HELD (a live writer holds it) or another error. */
int sl_lease_take(struct sl_volume_core *v, const struct sl_meta_user *mu, sl_ino ino,
		  const char *path, struct sl_meta_lease *lease, bool *leased, struct sl_err *err);
/* Ends a stream's lease at close: 0, or -SL_ELEASE_LOST if it had been recovered (the stream was fenced;
 * its close fails as HDFS's does). */
int sl_lease_end(struct sl_volume_core *v, sl_ino ino, const struct sl_meta_lease *lease,
		 struct sl_err *err);

/* A caller kept by a stream past the call that named it: a copy of its identity and name. */
struct sl_held_user {
	struct sl_meta_user mu;
	char *name;
};
int sl_held_user_set(struct sl_held_user *h, const struct sl_meta_user *u);
void sl_held_user_clear(struct sl_held_user *h);

/* u: the opener, whose write permission the metadata checks at every commit; lease (NULL: none)
 * the stream's lease, which every commit and compaction checks too (meta.h). */
int sl_writer_new(struct sl_volume_core *v, const struct sl_meta_user *u,
		  const struct sl_meta_lease *lease, sl_ino ino, uint64_t start,
		  struct sl_writer **out);
/* Buffers data; full blocks go to the upload pool at once. */
int sl_writer_write(struct sl_writer *w, const void *buf, size_t len, struct sl_err *err);
/* hsync: uploads everything written (and anything an hflush staged) and commits it; returns
 * when all of it is in object storage and metadata. */
int sl_writer_flush(struct sl_writer *w, struct sl_err *err);
/* Length including buffered data. */
uint64_t sl_writer_length(const struct sl_writer *w);
/* hflush: makes everything written visible to new readers. With a staging area the blocks not
 * uploaded yet are staged and the upload continues after the return; without one it is sync. */
int sl_writer_hflush(struct sl_writer *w, struct sl_err *err);
/* Frees; the caller flushed first. Waits for uploads still running; staged blocks whose upload
 * failed are left to the staging area's retries. */
void sl_writer_free(struct sl_writer *w);
/* Compresses (as the volume says) and stores one block. */
/* ---- file checksums (checksum.c) ------------------------------------------------------------ */
/* Records the CRC32C of block indx of slice id (len bytes) for file checksums, best effort (a
 * failure is logged: the checksum computes it from the block later). The writer calls it for
 * each full block it stored. */
/* The COMPOSITE-CRC32C of the first length bytes of file ino (length within its size), read as
 * mu; waits up to get-timeout for blocks still uploading, as sluice_file_checksum. */
int sl_checksum_inode(struct sl_volume_core *v, const struct sl_meta_user *mu, sl_ino ino,
		      uint64_t length, uint32_t *crc, struct sl_err *err);
void sl_checksum_note_block(struct sl_volume_core *v, uint64_t id, uint32_t indx, uint32_t crc,
			    uint32_t len);

int sl_store_block(struct sl_volume_core *v, const char *key, const void *data, uint32_t len,
		   struct sl_err *err);

/* u: the opener, whose read permission the metadata checks whenever the reader lists a chunk. */
int sl_reader_new(struct sl_volume_core *v, const struct sl_meta_user *u, sl_ino ino,
		  uint64_t length, struct sl_reader **out);
/* The opener the reader acts for. */
const struct sl_meta_user *sl_reader_user(const struct sl_reader *r);
/* Reads up to len bytes at off (short only at the end of the file as this reader knows it;
 * at that end it re-reads the length once, so a reader tailing a growing file sees new data). */
int64_t sl_reader_pread(struct sl_reader *r, void *buf, size_t len, uint64_t off,
			struct sl_err *err);
void sl_reader_unbuffer(struct sl_reader *r);
void sl_reader_free(struct sl_reader *r);

/* ---- object store configuration (volume.c) ------------------------------------------------- */
/* The volume's object store as the format and config say (storage, bucket, keys, s3.*, timeouts,
 * retries); strings point into v's format and config. The store is opened from it, and a gateway
 * builds its URL signer from it. */
int sl_vol_obj_config(struct sl_volume_core *v, struct sl_obj_config *oc, struct sl_err *err);

#endif
