/*
 * vfs.h - the internals behind sluice.h: the volume (config, format, metadata, object store,
 * session, background work), user mapping, paths, and the reader/writer of file data. Only the
 * vfs layer sees all the layers below it.
 */
#ifndef SL_VFS_H
#define SL_VFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"
#include "../cache/blockcache.h"
#include "../cache/cachefile.h"
#include "../cache/claim.h"
#include "../cache/diskcache.h"
#include "../cache/journal.h"
#include "../cache/stage.h"
#include "../chunk/chunk.h"
#include "../meta/meta.h"
#include "../object/object.h"
#include "../util/clock.h"
#include "../util/conf.h"
#include "../util/counter.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/pool.h"

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
	char *encrypt_key;  /* the RSA private key's PEM (as juicefs stores it), or NULL */
	/* the public key's PEM, which only a gateway's answer holds (EncryptPublicKey), or NULL */
	char *encrypt_public_key;
	char storage_class[64];
	/* the record as loaded, so that fields Sluice does not know survive a rewrite */
	void *json; /* json_t* */
};

/* Parses a format record; refuses (with -ENOTSUP and a message naming the feature) any feature
 * Sluice does not implement: SM4/SM2 encryption, shards, tiers, user/group quotas, ACLs, Ranger,
 * changelog, zstd compression, meta versions above 1. Decrypts the secret key, session token and
 * encryption key when the record says KeyEncrypted. */
int sl_format_parse(const char *json, struct sl_format *f, struct sl_err *err);
/* Serializes f as juicefs does (secret encrypted with the UUID when set). Caller frees. */
int sl_format_dump(const struct sl_format *f, char **json, struct sl_err *err);
void sl_format_free(struct sl_format *f);

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
struct sl_volume_core;
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
	atomic_uint_fast64_t commits;    /* readers elsewhere that had this node commit hflushes */
	atomic_uint_fast64_t records_committed; /* slices of writers gone, committed from records */
	atomic_uint_fast64_t syncs; /* OP_SYNCs this node answered (its copies made durable) */
	atomic_uint_fast64_t batches; /* OP_PUT_MANYs kept (an hflush round's copies at once) */
	atomic_uint_fast64_t sync_failures; /* copies on peers that could not be synced */
};
/* Starts the cache group when "cache-group.port" is set (*out stays NULL otherwise): the block
 * server on this node's address, unless another process of the node has it. */
int sl_peers_new(struct sl_volume_core *v, struct sl_peers **out, struct sl_err *err);
/* Once nothing can call into p any more: the pools' tasks (readahead, compaction) do. */
void sl_peers_free(struct sl_peers *p);
/* hflush.commit=background, for a reader of file ino (or a recovery of its lease: recovering)
 * asks the nodes of the group, in ring order, until its writer's node committed what it
 * hflushed, and has the nodes that keep records of writers that are gone (of any writer when
 * recovering) commit them. 0 then; -EBUSY if records of a live writer that could not be asked
 * are kept; -ENOENT if nobody had anything (or there is no group); -ENOSYS without the group
 * key (Kerberos mode); another error of a node that could not be asked. */
int sl_peers_commit_pending(struct sl_peers *p, sl_ino ino, bool recovering);
/* Bytes [off, off+len) of the block of key (placed at) from its owners on the ring, into buf: 0,
 * or -ENOENT when none of them has it (or there is no group, p NULL). */
int sl_peers_fetch(struct sl_peers *p, const char *key, const struct sl_place *at, uint32_t off,
		   uint8_t *buf, uint32_t len);
/* Replicated hflush: starts sending blocks [0, n) to hflush.replicas - 1 of their owners each
 * (the next ones when one fails), which keep them durably (!sync: written, until sl_peers_sync);
 * data must stay valid until finish.
 * NULL when there is nothing to do (or no memory: finish then sends them itself). */
struct sl_peer_batch;
struct sl_peer_batch *sl_peers_replicate_start(struct sl_peers *p, const char *const *keys,
					       const struct sl_place *at,
					       const uint8_t *const *data, const uint32_t *lens,
					       size_t n, bool sync);
/* Copies an hflush keeps: hflush.replicas in a cache group that keeps copies, else 1. */
int sl_peers_hflush_copies(const struct sl_peers *p);
/* Makes the copies sent without sync (sl_peers_replicate_start) durable on their holders; a
 * holder that cannot be reached or fails is counted (sync_failures) and logged. */
void sl_peers_sync(struct sl_peers *p);
/* Sends the copies left to the caller (unsynced: the last one; those no replicator took),
 * waits for the others, frees b, and counts those of the blocks staged here (staged[k] == 0)
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
	struct sl_stage_stats stage;        /* staging the blocks hflush made visible */
	atomic_uint_fast64_t replica_wait_ns; /* waiting for peers' copies after staging locally */
	atomic_uint_fast64_t commits;       /* metadata transactions committing slices */
	atomic_uint_fast64_t records;       /* slices they committed */
	atomic_uint_fast64_t commit_ns;     /* time in those transactions */
	atomic_uint_fast64_t wait_ns;       /* hflush waiting for locks and for other flushes */
};

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

/* hflush.commit=background (background_commit.c): writers register a slot; an hflush schedules
 * its slices' commit, at most the delay later, and a reader asks for the commit of a file's
 * pending slices before it trusts the metadata's length. */
struct sl_background_commit;
struct sl_commit_slot {
	struct sl_background_commit *owner;
	struct sl_writer *w;
	sl_ino ino;
	int64_t due_ms;  /* a commit is scheduled for then (0: none) */
	int refs;        /* commits running on it; unregister waits for them */
	struct sl_commit_slot *next;
};
int sl_background_commit_new(struct sl_volume_core *v, int64_t delay_ms,
			     struct sl_background_commit **out, struct sl_err *err);
/* After every writer unregistered. */
void sl_background_commit_free(struct sl_background_commit *c);
void sl_background_commit_register(struct sl_background_commit *c, struct sl_commit_slot *s);
/* Waits for the commits running on s. */
void sl_background_commit_unregister(struct sl_background_commit *c, struct sl_commit_slot *s);
/* Schedules a commit of s's ready slices; -EAGAIN: none could be (commit them yourself). */
int sl_background_commit_schedule(struct sl_background_commit *c, struct sl_commit_slot *s);
/* Commits now what this handle's writers of ino hflushed; returns when done, with how many
 * writers of ino it has. */
size_t sl_background_commit_ino(struct sl_background_commit *c, sl_ino ino);

struct sl_volume_core {
	struct sl_conf *conf;
	/* The clock of its decisions by time (sessions, the background thread's rounds, the
	 * metadata handle's, meta->clock); NULL: the system clock, a test's own (sl_vol_init). */
	const struct sl_clock *clock;
	struct sl_logger log;
	struct sl_format format;
	struct sl_chunk_layout layout;
	struct sl_cipher *cipher; /* the layout's, for an encrypted volume (else NULL) */
	struct sl_meta *meta;
	struct sl_objstore *store;
	struct sl_pool *uploads;
	struct sl_pool *downloads;
	struct sl_memlimit mem;
	struct sl_blockcache *cache;
	struct sl_diskcache *disk;  /* NULL without cache-dir */
	struct sl_stage *stage;     /* NULL without a usable cache-dir: hflush acts as hsync */
	struct sl_peers *peers;     /* the cache group; NULL without cache-group.port */
	struct sl_background_commit *background_commit; /* NULL: hflush commits before it returns */
	bool ask_pending_commits; /* hflush.commit=background: readers ask the group's writers */
	/* how long a reader waits for the pending slices of a writer that cannot be asked to be
	 * committed (sl_gather_pending): its session's life or the longest commit delay */
	int64_t pending_wait_ms;
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
/* A removal's data: queued for deletion, or kept until its last local close if it is open here
 * (an sl_meta_removed_cb; arg: the sluice_volume). */
void sl_vol_doom_removed(void *vol, const struct sl_removed *r);
/* JuiceFS's trash cleaning (meta.h, clean_trash) for hours before before_s, and the deletion of
 * the slices it released. */
int sl_vol_clean_trash(sluice_volume *vol, int64_t before_s, uint64_t *files, uint64_t *delayed,
		       struct sl_err *err);
/* Waits up to timeout_ms until every queued deletion has ended; -ETIMEDOUT if not. Lets a caller
 * (tests, tools) observe the state after the deleting client's background work. */
int sl_vol_settle_deletions(sluice_volume *vol, int timeout_ms);
/* The sessions of other clients past their expiry (*n of them); if close, those that hold no
 * writer's lease are closed (*closed of them) as juicefs cleans stale sessions: their sustained
 * files become pending deletions. One with leases waits for the hard-limit sweep to end them. */
int sl_vol_stale_sessions(struct sl_volume_core *v, bool close, uint64_t *n, uint64_t *closed,
			  struct sl_err *err);
/* Deletes the blocks of every slice whose last reference went away with inode ino. */
int sl_vol_delete_data(struct sl_volume_core *v, sl_ino ino, struct sl_err *err);
/* An sl_meta_slice_cb (arg: the volume core): deletes a dead slice's blocks, then forgets it. */
int sl_vol_delete_slice(void *core, uint64_t id, uint32_t size);
/* sl_store_block as an sl_store_block_fn (cache/claim.h; arg: the volume core). */
int sl_vol_store_block(void *core, const char *key, const void *data, uint32_t len,
		       struct sl_err *err);
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
/* Creates a file or directory at path (parent must exist) with mode as asked for; flags:
 * SL_MKNOD_REPLACE and the caller's SL_MKNOD_UMASK. With lease
 * (a file's output stream), the stream's lease is taken in the same transaction where the
 * volume uses leases and the backend can (*leased says whether it was). */
int sl_create_entry(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		    uint8_t type, uint16_t mode, int flags, sl_ino *ino, struct sl_attr *attr,
		    struct sl_meta_lease *lease, bool *leased, struct sl_err *err);
int sl_mkdirs_user(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		   uint16_t mode, uint16_t umask, struct sl_err *err);
/* Resolves normalized path norm, DIR/.snapshot/NAME/... through the snapshots of DIR when it
 * has any (snapshot.c); symlinks are not followed. */
int sl_snapshot_resolve(sluice_volume *vol, const struct sl_meta_user *mu, const char *norm,
			sl_ino *ino, struct sl_attr *attr, struct sl_err *err);
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
/* hflush.commit=background: has what the writers of ino hflushed committed, by this handle's
 * writers and through the group (sl_peers_commit_pending; recovering: the file's lease is about
 * to be recovered); waits up to pending_wait_ms while the group keeps records of a writer that
 * could not be asked. Whether something was; what could not be is logged. */
bool sl_gather_pending(struct sl_volume_core *v, sl_ino ino, const char *path, bool recovering);
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
/* Close's flush: as sl_writer_flush, and the last commit ends the stream's lease where the
 * backend can (*lease_ended; the caller ends it otherwise). Nothing is written after it. */
int sl_writer_close(struct sl_writer *w, bool *lease_ended, struct sl_err *err);
/* Length including buffered data. */
uint64_t sl_writer_length(const struct sl_writer *w);
/* hflush: makes everything written visible to new readers. With a staging area the blocks not
 * uploaded yet are staged and the upload continues after the return; without one it is sync. */
int sl_writer_hflush(struct sl_writer *w, struct sl_err *err);
/* Frees; the caller flushed first. Waits for uploads still running; staged blocks whose upload
 * failed are left to the staging area's retries. */
void sl_writer_free(struct sl_writer *w);
/* Commits the writer's sealed slices whose blocks are stored or staged, in order (the
 * committers of background_commit.c, and readers through them). */
void sl_writer_commit_ready(struct sl_writer *w);
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
