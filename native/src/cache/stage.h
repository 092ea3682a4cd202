/*
 * stage.h - hflush staging (stage.c), the local write cache: blocks an hflush made visible before
 * they reached object storage, kept durably beside the disk cache until they are uploaded.
 */
#ifndef SL_STAGE_H
#define SL_STAGE_H

#include "../chunk/chunk.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../meta/meta.h"
#include "../object/object.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/pool.h"

struct sl_stage;
struct sl_diskcache;

/* What staging rounds cost (part of the volume's hflush statistics). */
struct sl_stage_stats {
	atomic_uint_fast64_t stages;        /* blocks staged */
	atomic_uint_fast64_t stage_ns;      /* writing them, fdatasync included */
	atomic_uint_fast64_t stage_sync_ns; /* of which fdatasync (the journal's, or the files') */
	atomic_uint_fast64_t records_recovered; /* slices of dead clients committed at takeover */
};

/* What staging asks of the volume that owns it (arg is the volume's). */
struct sl_stage_volume {
	/* Compresses one block as the volume does and stores it in object storage. */
	int (*store_block)(void *arg, const char *key, const void *data, uint32_t len,
			   struct sl_err *err);
	/* Deletes an unreferenced slice: its blocks (everywhere the volume keeps them), then its
	 * row; as sl_meta_slice_cb. */
	int (*delete_slice)(void *arg, uint64_t id, uint32_t size);
	/* Deletes the blocks of a slice that has no row; false if some could not be deleted. */
	bool (*delete_slice_blocks)(void *arg, uint64_t id, uint32_t size);
	void *arg;
};

struct sl_stage_config {
	struct sl_diskcache *disk;  /* staging lives beside its directories; NULL: no staging */
	struct sl_meta *meta;       /* whether a staged block's slice is still referenced */
	struct sl_objstore *store;  /* deletes the objects of slices that are gone */
	struct sl_pool *uploads;    /* retries and the checks of dead clients' slices run there */
	const struct sl_logger *log;
	struct sl_stage_stats *stats;
	const struct sl_clock *clock; /* retries are timed by it (NULL: the system clock) */
	struct sl_stage_volume vol;
};

/* *out stays NULL without a disk cache (hflush then waits for object storage, as hsync). Takes
 * over the staging directories of clients that are gone and queues their blocks for upload. */
int sl_stage_new(const struct sl_stage_config *cfg, struct sl_stage **out, struct sl_err *err);
/* After the upload pool was drained. Blocks still not uploaded stay for the next client. */
void sl_stage_free(struct sl_stage *st);
/* Writes n blocks to the staging area (journaled, journal.c; or each file synced where no
 * journal can be kept), in one round with what other threads stage at the same time (group
 * staging): durably, or with !sync only so that a crash of the process keeps them (the page
 * cache), until sl_stage_sync. rcs[i] gets each block's outcome; returns the first error. */
int sl_stage_put_many(struct sl_stage *st, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, bool sync, int *rcs, struct sl_err *err);
/* Makes every block staged so far durable. */
int sl_stage_sync(struct sl_stage *st, struct sl_err *err);
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
/* The commit record of an hflushed slice whose commit follows the hflush (hflush.commit=
 * background): staged in the same round as its blocks, under the key sl_stage_record_key
 * names, with SL_STAGE_RECORD as its bytes, and forgotten (sl_stage_forget) once committed. A
 * client that takes the directory over commits the records it finds whose slice is not, under
 * the writer's lease (a stream that took the file over since fences them), before it looks at
 * the blocks. */
struct sl_stage_record {
	uint64_t ino;
	uint32_t chunk, pos; /* where the slice starts */
	uint64_t id;
	uint32_t size;
	uint64_t lease_sid, lease_gen; /* 0, 0: the writer held no lease */
};
#define SL_STAGE_RECORD "sluice slice record v1"
#define SL_STAGE_RECORD_DIR ".records"
/* SL_STAGE_RECORD_DIR "/" and the record's name. */
void sl_stage_record_key(const struct sl_stage_record *r, char key[SL_KEY_MAX]);
/* A record's name (the key's last component): false if it is not one. */
bool sl_stage_record_parse(const char *name, struct sl_stage_record *r);
/* A record's bytes: SL_STAGE_RECORD, then (big-endian) the file offset up to which the writer
 * had committed when it sent it, so that the cache group's holders of its copies drop those
 * of committed slices as they go. */
#define SL_STAGE_RECORD_LEN (sizeof(SL_STAGE_RECORD) - 1 + 8)
void sl_stage_record_body(uint64_t committed_end, uint8_t out[SL_STAGE_RECORD_LEN]);
bool sl_stage_record_body_parse(const uint8_t *b, uint32_t len, uint64_t *committed_end);
/* Where r's slice ends in its file. */
uint64_t sl_stage_record_end(const struct sl_stage_record *r);
/* A staged key nobody needs any more (a committed slice's record): dropped from the journal and
 * the directory. */
void sl_stage_forget(struct sl_stage *st, const char *key);
/* Background thread: starts uploads of queued blocks that are due (each checks first that its
 * slice is still referenced, and drops it otherwise), and the checks of dead clients' merged
 * slices. */
void sl_stage_sweep(struct sl_stage *st);
/* An upload succeeded: blocks waiting after failed uploads become due at once. */
void sl_stage_store_ok(struct sl_stage *st);
/* Staged blocks waiting in the queue for an upload (of writers that are gone or closed). */
size_t sl_stage_backlog(struct sl_stage *st);
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

#endif
