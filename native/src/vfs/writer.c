/*
 * writer.c - the data path of an output stream. Written bytes fill the current slice (one per
 * chunk, at most 64 MiB); every full block is handed to the upload pool at once; a slice is sealed
 * at a chunk boundary or by a flush. Commit order is the invariant that keeps metadata honest:
 *   - a slice is committed to metadata (write_chunk) only when every block of it is stored in
 *     object storage or, for hflush, durably staged on local disk (stage.c) - except its last
 *     block, which must be stored when the backend checks sizes there (Kerberos mode,
 *     SL_META_CAP_COMMIT_STORED) - and
 *   - slices are committed in the order they were sealed (only the head of the queue commits,
 *     under commit_lock), so a later slice never lands before an earlier one.
 * A committed slice whose staged blocks are still uploading waits on the `pending` list; hsync
 * and close wait for those uploads too. A failed upload of a block that is not staged is
 * retried once by the next hsync and then fails the stream for good (sticky error); one of a
 * staged block is retried by every flush, and after close by the staging area.
 * Group commit: hflushes of several threads run at once (the gate, shared; hsync and close hold
 * it alone). Each seals what was written before it, notes the seq of the last sealed slice, and
 * returns once done_seq reaches it; the blocks go to the volume's staging rounds together
 * (stage.c) and the ready slices to its group commit (commit.c), so hflushes that meet share
 * fdatasyncs and one metadata transaction. With hflush.commit=background an hflush returns once
 * its slices are ready (and fully copied), and the volume's committers commit them
 * (background_commit.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/crc32c.h"
#include "vfs.h"

struct wblock {
	uint8_t *data;   /* NULL once stored or staged (and not in use) */
	uint32_t acct;   /* bytes of the memory limit data holds */
	bool inflight;   /* an upload is queued or running */
	bool stored;     /* in object storage */
	bool failed;     /* the last upload attempt failed (err) */
	bool staged;     /* durable in the staging area */
	bool pinned;     /* being staged from data right now */
	struct sl_err err;
};

struct wslice {
	struct sl_writer *w;
	uint64_t id;
	uint32_t chunk;      /* chunk index */
	uint32_t pos;        /* offset of the slice in its chunk */
	uint32_t len;        /* bytes written so far */
	uint32_t cap;        /* bytes that fit before the chunk boundary */
	struct wblock *b;
	uint32_t nblocks;    /* capacity of b */
	uint32_t submitted;  /* blocks [0, submitted) were complete and handed to uploads */
	int inflight;        /* uploads queued or running */
	bool committed;      /* in metadata */
	bool dropped;        /* given up after an error; never committed */
	bool recorded;       /* its commit record is staged (background commits) */
	bool record_pinned;  /* its commit record is being staged */
	bool unsynced;       /* staged (and copied) without sync: synced before its commit */
	uint64_t seq;        /* 1, 2, ... in the order slices are sealed */
	struct wslice *next; /* in the queue or on the pending list */
};

struct sl_writer {
	struct sl_volume_core *v;
	struct sl_held_user user;
	struct sl_meta_lease lease; /* checked by every commit, if leased */
	bool leased;
	sl_ino ino;
	uint64_t pos;          /* file offset of the next byte */
	pthread_mutex_t lock;  /* guards everything below and the slices' state */
	pthread_cond_t changed;
	pthread_mutex_t commit_lock;
	/* hflushes hold it shared, so that several threads' hflushes of this stream stage their
	 * blocks at once and commit together; hsync and close hold it exclusively (writers
	 * preferred: a stream of hflushes cannot starve them). */
	pthread_rwlock_t gate;
	uint64_t sealed_seq;   /* seq of the last slice sealed */
	uint64_t done_seq;     /* seq of the last slice committed or dropped (in order) */
	struct wslice *cur;
	struct wslice *head, *tail; /* sealed, not yet committed, in order */
	struct wslice *pending;     /* committed or dropped, with uploads unfinished */
	int tasks;             /* upload tasks not finished; the writer outlives them */
	uint32_t cc_chunk, cc_count; /* commits into chunk cc_chunk (under commit_lock) */
	bool staging_broken;   /* staging failed once: flushes wait for object storage */
	bool compacting;       /* a compaction task runs; the writer outlives it */
	bool compact_again;    /* another was due meanwhile (of compact_again_chunk) */
	uint32_t compact_again_chunk;
	/* hflush.commit=background: where the committers find this writer (v->background_commit) */
	struct sl_commit_slot slot;
	uint64_t short_rounds; /* staging rounds whose blocks got fewer copies than asked */
	uint64_t committed_end; /* file offset up to which slices are committed (in order) */
	bool closing;          /* sealed for good: the last commit may end the lease */
	bool lease_ended;      /* the last commit ended it (SL_META_CAP_COMMIT_ENDS_LEASE) */
	struct sl_err err;     /* sticky */
};

struct upload {
	struct wslice *s;
	uint32_t indx;
	uint32_t len; /* the block's length (s->len may still grow while it uploads) */
	const uint8_t *data; /* stays valid while inflight; NULL: upload the staged copy */
	char key[SL_KEY_MAX];
};

static uint32_t used_blocks(const struct sl_writer *w, const struct wslice *s)
{
	return sl_block_count(&w->v->layout, s->len);
}

static void block_key(const struct sl_writer *w, const struct wslice *s, uint32_t indx,
		      char key[SL_KEY_MAX])
{
	/* The key names the block's length, final here: only full blocks are handed out before
	 * the slice is sealed, the last one after. */
	uint32_t bs = w->v->layout.block_size;
	sl_block_key(&w->v->layout, s->id, indx, indx * bs + sl_block_len(&w->v->layout, s->len, indx),
		     key);
}

static void drop_data(struct sl_volume_core *v, struct wblock *b)
{
	if (b->data) {
		sl_blockcache_give_buffer(v->cache, b->data, b->acct);
		sl_mem_release(&v->mem, b->acct);
		b->data = NULL;
		b->acct = 0;
	}
}

/* Frees a block's buffer once nothing needs it. Called with w->lock held. */
static void settle_block(struct sl_writer *w, struct wblock *b)
{
	if (!b->pinned && !b->inflight && (b->stored || b->staged))
		drop_data(w->v, b);
}

static bool slice_done(const struct sl_writer *w, const struct wslice *s)
{
	if (s->inflight)
		return false;
	for (uint32_t i = 0; i < used_blocks(w, s); i++)
		if (s->b[i].pinned || (!s->dropped && !s->b[i].stored))
			return false;
	return true;
}

static void slice_free(struct sl_writer *w, struct wslice *s)
{
	struct sl_volume_core *v = w->v;
	for (uint32_t i = 0; i < s->nblocks; i++)
		drop_data(v, &s->b[i]);
	uint32_t size;
	if (v->stage && sl_stage_unhold(v->stage, s->id, &size))
		sl_vol_delete_slice(v, s->id, size); /* deleted while it was uploading */
	free(s->b);
	free(s);
}

/* Takes finished slices off the pending list. Called with w->lock held; frees after unlock. */
static struct wslice *reap_locked(struct sl_writer *w)
{
	struct wslice *done = NULL;
	struct wslice **pp = &w->pending;
	while (*pp) {
		struct wslice *s = *pp;
		if (slice_done(w, s)) {
			*pp = s->next;
			s->next = done;
			done = s;
		} else {
			pp = &s->next;
		}
	}
	return done;
}

static void free_list(struct sl_writer *w, struct wslice *s)
{
	while (s) {
		struct wslice *next = s->next;
		slice_free(w, s);
		s = next;
	}
}

/* Every COMPACT_EVERY commits into one chunk, its slices are merged if there are COMPACT_AT or
 * more (an hflush per record makes a slice per record). The merge runs on the upload pool, one at
 * a time per writer, so that an hflush never waits for it; commits meanwhile are safe because
 * compaction only replaces the records it read. A failed compaction leaves the chunk as it was:
 * correct, only slower to read. */
#define COMPACT_EVERY 100
#define COMPACT_AT 300

struct compaction {
	struct sl_writer *w;
	uint32_t chunk;
};

static void compact_run(void *arg)
{
	struct compaction *c = arg;
	struct sl_writer *w = c->w;
	uint32_t chunk = c->chunk;
	free(c);
	for (;;) {
		struct sl_err err = {0};
		if (sl_compact_chunk(w->v, &w->user.mu, w->leased ? &w->lease : NULL, w->ino, chunk,
				     COMPACT_AT, &err))
			sl_log(&w->v->log, SL_LOG_WARN, "compacting chunk %u of inode %llu: %s",
			       chunk, (unsigned long long)w->ino, err.msg);
		pthread_mutex_lock(&w->lock);
		bool again = w->compact_again;
		chunk = w->compact_again_chunk;
		w->compact_again = false;
		w->compacting = again;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		if (!again)
			break;
	}
}

/* Called under commit_lock. */
static void maybe_compact(struct sl_writer *w, uint32_t chunk)
{
	if (chunk != w->cc_chunk) {
		w->cc_chunk = chunk;
		w->cc_count = 0;
	}
	if (++w->cc_count % COMPACT_EVERY)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->compacting) { /* the running task goes on with this one */
		w->compact_again = true;
		w->compact_again_chunk = chunk;
	}
	struct compaction *c = w->compacting ? NULL : malloc(sizeof(*c));
	if (c) {
		*c = (struct compaction){w, chunk};
		w->compacting = true;
		if (sl_pool_submit(w->v->uploads, compact_run, c)) {
			w->compacting = false;
			free(c);
		}
	}
	pthread_mutex_unlock(&w->lock);
}

enum head_state { HEAD_WAIT, HEAD_READY, HEAD_FAILED };

/* Whether the head slice can be committed. Called with w->lock held. Without a staging area a
 * failed upload fails the slice; with one, a flush may still stage the block, so it waits. A
 * backend with SL_META_CAP_COMMIT_STORED needs the last block stored, staged is not enough: its
 * upload failing fails the slice too. */
static enum head_state head_state(struct sl_writer *w, struct wslice *s, struct sl_err *why)
{
	if (w->err.code)
		return HEAD_FAILED;
	bool wait = false;
	uint32_t n = used_blocks(w, s);
	bool stored_last = sl_meta_caps(w->v->meta) & SL_META_CAP_COMMIT_STORED;
	for (uint32_t i = 0; i < n; i++) {
		struct wblock *b = &s->b[i];
		bool must_store = stored_last && i == n - 1;
		if (must_store && !b->stored && !b->pinned && !b->inflight && b->failed) {
			*why = b->err;
			return HEAD_FAILED;
		}
		if (b->pinned || (i >= s->submitted && !b->staged))
			wait = true;
		else if (b->stored || (b->staged && !must_store))
			continue;
		else if (b->inflight)
			wait = true;
		else if (b->failed && !w->v->stage) {
			*why = b->err;
			return HEAD_FAILED;
		} else
			wait = true;
	}
	return wait ? HEAD_WAIT : HEAD_READY;
}

/* Keys to hand to the staging area after a commit, outside the writer's lock. */
struct key_list {
	char (*keys)[SL_KEY_MAX];
	uint32_t n;
};

static void key_list_add(struct key_list *l, const char *key)
{
	char (*more)[SL_KEY_MAX] = realloc(l->keys, (l->n + 1) * sizeof(*l->keys));
	if (!more)
		return; /* staged copies stay: the next client here finds them committed */
	l->keys = more;
	snprintf(l->keys[l->n++], SL_KEY_MAX, "%s", key);
}

/* The key of s's commit record in the staging area (stage.h). */
static void record_key(const struct sl_writer *w, const struct wslice *s, char key[SL_KEY_MAX])
{
	struct sl_stage_record r = {.ino = w->ino, .chunk = s->chunk, .pos = s->pos, .id = s->id,
				    .size = s->len, .lease_sid = w->leased ? w->lease.sid : 0,
				    .lease_gen = w->leased ? w->lease.gen : 0};
	sl_stage_record_key(&r, key);
}

/* Settles s after its commit (committed or not). Called with w->lock held; returns the slices
 * to free after unlock, and adds the staged copies to retire and the records to forget. */
static struct wslice *commit_settle(struct sl_writer *w, struct wslice *s, bool committed,
				    struct key_list *retire, struct key_list *forget)
{
	s->committed = committed;
	s->dropped = !committed;
	w->done_seq = s->seq;
	char key[SL_KEY_MAX];
	uint64_t end = (uint64_t)s->chunk * SL_CHUNK_SIZE + s->pos + s->len;
	if (committed && end > w->committed_end)
		w->committed_end = end;
	/* an uncommitted one's record stays: the next client here commits it if its lease lets */
	if (committed && s->recorded) {
		record_key(w, s, key);
		key_list_add(forget, key);
	}
	/* Blocks uploaded and staged before the commit: their staged copies can go now. */
	for (uint32_t i = 0; committed && i < used_blocks(w, s); i++) {
		if (!s->b[i].stored || !s->b[i].staged)
			continue;
		block_key(w, s, i, key);
		key_list_add(retire, key);
	}
	s->next = w->pending;
	w->pending = s;
	return reap_locked(w);
}

/* Whether committing recs would start a compaction (maybe_compact's count, without counting).
 * Called under commit_lock. */
static bool compaction_due(const struct sl_writer *w, const struct sl_meta_chunk_write *recs,
			   size_t n)
{
	uint32_t chunk = w->cc_chunk, count = w->cc_count;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].indx != chunk) {
			chunk = recs[i].indx;
			count = 0;
		}
		if (++count % COMPACT_EVERY == 0)
			return true;
	}
	return false;
}

/* Makes the copies an hflush staged without sync durable before the commit names their blocks:
 * the staging journal here (failing the stream: what it holds may be gone after a crash of the
 * machine), then the cache group's copies (those that cannot be synced only leave fewer
 * durable copies, as a round that reached fewer owners does). */
static int sync_copies(struct sl_writer *w, struct sl_err *err)
{
	int rc = sl_stage_sync(w->v->stage, err);
	if (!rc)
		sl_peers_sync(w->v->peers);
	return rc;
}

/* Commits every sealed slice at the head of the queue whose blocks are all stored or staged:
 * up to COMMIT_BATCH at a time in one request to the volume's group commit (commit.c), which
 * shares the transaction with other streams' commits. Threads of this stream that hflush
 * meanwhile wait for commit_lock and then commit all their slices together (leader/follower
 * within the stream too). */
#define COMMIT_BATCH 64
static void commit_ready(struct sl_writer *w)
{
	int64_t t0 = sl_mono_ns();
	pthread_mutex_lock(&w->commit_lock);
	sl_stat_add(&w->v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
	for (;;) {
		struct wslice *batch[COMMIT_BATCH];
		struct sl_meta_chunk_write recs[COMMIT_BATCH];
		size_t nb = 0, nrec = 0;
		bool failed = false;
		struct sl_err why = {0};
		pthread_mutex_lock(&w->lock);
		while (w->head && nb < COMMIT_BATCH) {
			struct wslice *s = w->head;
			enum head_state hs = head_state(w, s, &why);
			if (hs == HEAD_WAIT || (hs == HEAD_FAILED && nb))
				break; /* a failed head is settled alone, after the batch before it */
			w->head = s->next;
			if (!w->head)
				w->tail = NULL;
			batch[nb++] = s;
			if (hs == HEAD_FAILED) {
				failed = true;
				if (!w->err.code)
					w->err = why;
				break;
			}
			if (s->len > 0)
				recs[nrec++] = (struct sl_meta_chunk_write){
					.u = &w->user.mu, .lease = w->leased ? &w->lease : NULL,
					.ino = w->ino, .indx = s->chunk, .mtime_ns = sl_real_ns(),
					.s = {.pos = s->pos, .id = s->id, .size = s->len, .off = 0,
					      .len = s->len}};
		}
		/* The stream's last commit, at its close, ends its lease too: one transaction
		 * fewer. Not while a compaction, which needs the lease, runs or would start. */
		if (nrec && !w->head && w->closing && w->leased && !failed && !w->compacting &&
		    (sl_meta_caps(w->v->meta) & SL_META_CAP_COMMIT_ENDS_LEASE) &&
		    !compaction_due(w, recs, nrec))
			recs[nrec - 1].end_lease = true;
		pthread_mutex_unlock(&w->lock);
		if (!nb)
			break;

		struct sl_err err = {0};
		size_t done = 0;
		bool unsynced = false;
		for (size_t i = 0; i < nb && !failed; i++)
			unsynced = unsynced || batch[i]->unsynced;
		int rc = unsynced ? sync_copies(w, &err) : 0;
		if (!rc && !failed)
			rc = sl_commit_slices(w->v, recs, nrec, &done, &err);
		for (size_t i = 0; i < done; i++)
			maybe_compact(w, recs[i].indx);
		pthread_mutex_lock(&w->lock);
		if (rc && !w->err.code) {
			w->err = err;
			w->err.code = rc;
			sl_err_wrap(&w->err, "commit of a slice of inode %llu",
				    (unsigned long long)w->ino);
		}
		if (!rc && nrec && recs[nrec - 1].end_lease && done == nrec)
			w->lease_ended = true;
		struct key_list retire = {0}, forget = {0};
		struct wslice *done_list = NULL;
		size_t r = 0; /* records of batch[0..i) */
		for (size_t i = 0; i < nb; i++) {
			struct wslice *s = batch[i];
			bool committed = !failed && (s->len > 0 ? r < done : !rc);
			if (s->len > 0)
				r++;
			struct wslice *d = commit_settle(w, s, committed, &retire, &forget);
			while (d) { /* gather what the reaps freed */
				struct wslice *next = d->next;
				d->next = done_list;
				done_list = d;
				d = next;
			}
		}
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		for (uint32_t i = 0; i < retire.n; i++)
			sl_stage_uploaded(w->v->stage, retire.keys[i]);
		for (uint32_t i = 0; i < forget.n; i++)
			sl_stage_forget(w->v->stage, forget.keys[i]);
		free(retire.keys);
		free(forget.keys);
		free_list(w, done_list);
	}
	pthread_mutex_unlock(&w->commit_lock);
}

int sl_store_block(struct sl_volume_core *v, const char *key, const void *data, uint32_t len,
		   struct sl_err *err)
{
	if (sl_block_stored_plain(&v->layout))
		return sl_obj_put(v->store, key, data, len, err);
	size_t cap = sl_block_stored_bound(&v->layout, len);
	uint8_t *z = malloc(cap ? cap : 1);
	int64_t n = z ? sl_block_encode(&v->layout, data, len, z, cap, err)
		      : sl_errf(err, -ENOMEM, "out of memory");
	int rc = n < 0 ? (int)n : sl_obj_put(v->store, key, z, (size_t)n, err);
	free(z);
	return rc;
}

static void upload_run(void *arg)
{
	struct upload *u = arg;
	struct wslice *s = u->s;
	struct sl_writer *w = s->w;
	struct sl_volume_core *v = w->v;
	struct wblock *b = &s->b[u->indx];
	struct sl_err err = {0};
	uint32_t len = u->len;
	uint64_t id = s->id;
	uint32_t indx = u->indx;
	bool note_crc = false;
	uint32_t crc = 0;
	int rc;
	if (u->data) {
		rc = sl_store_block(v, u->key, u->data, len, &err);
		/* a full block's CRC for file checksums (checksum.c), recorded after commit_ready */
		note_crc = !rc && len == v->layout.block_size &&
			   sl_meta_supports(v->meta, SL_META_OP_BLOCK_CRC_PUT);
		if (note_crc)
			crc = sl_crc32c(0, u->data, len);
	} else { /* staged earlier, then freed: upload the staged copy */
		uint8_t *data = NULL;
		uint32_t dlen = 0;
		rc = sl_stage_read(v->stage, u->key, &data, &dlen, &err);
		if (!rc)
			rc = sl_store_block(v, u->key, data, dlen, &err);
		free(data);
	}
	pthread_mutex_lock(&w->lock);
	b->inflight = false;
	s->inflight--;
	b->failed = rc != 0;
	if (rc) {
		b->err = err;
		b->err.code = rc;
	}
	b->stored = !rc;
	/* A staged copy stays until the slice is committed too (commit_ready retires it then). */
	bool retire = b->stored && b->staged && s->committed;
	settle_block(w, b);
	struct wslice *done = reap_locked(w);
	pthread_mutex_unlock(&w->lock);
	if (retire)
		sl_stage_uploaded(v->stage, u->key);
	if (!rc && v->stage)
		sl_stage_store_ok(v->stage);
	free_list(w, done);
	free(u);
	/* what this upload completed may commit now: with background commits, as they say */
	if (!w->slot.owner || sl_background_commit_schedule(w->slot.owner, &w->slot))
		commit_ready(w);
	if (note_crc)
		sl_checksum_note_block(v, id, indx, crc, len);
	pthread_mutex_lock(&w->lock);
	w->tasks--;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* Hands block indx of s to the upload pool. Called with w->lock held. */
static int submit_block(struct sl_writer *w, struct wslice *s, uint32_t indx)
{
	struct upload *u = malloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	*u = (struct upload){.s = s, .indx = indx,
			     .len = sl_block_len(&w->v->layout, s->len, indx),
			     .data = s->b[indx].data};
	block_key(w, s, indx, u->key);
	struct wblock *b = &s->b[indx];
	b->inflight = true;
	b->failed = false;
	s->inflight++;
	w->tasks++;
	if (sl_pool_submit(w->v->uploads, upload_run, u)) {
		b->inflight = false;
		s->inflight--;
		w->tasks--;
		free(u);
		return -ENOMEM;
	}
	return 0;
}

/* Seals the current slice: uploads its last partial block and queues it for commit. The last
 * block's buffer shrinks to its length, so that many small hflushed slices waiting for upload
 * do not hold a whole block of the memory limit each. Called with w->lock held. */
static int seal_current(struct sl_writer *w)
{
	struct wslice *s = w->cur;
	if (!s)
		return 0;
	w->cur = NULL;
	uint32_t nblocks = used_blocks(w, s);
	int rc = 0;
	if (s->submitted < nblocks) {
		uint32_t last = nblocks - 1;
		struct wblock *b = &s->b[last];
		uint32_t len = sl_block_len(&w->v->layout, s->len, last);
		uint8_t *shrunk = len < b->acct ? realloc(b->data, len) : NULL;
		if (shrunk) {
			sl_mem_release(&w->v->mem, b->acct - len);
			b->data = shrunk;
			b->acct = len;
		}
		s->submitted = nblocks;
		rc = submit_block(w, s, last);
	}
	s->seq = ++w->sealed_seq;
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
	s->b = calloc(s->nblocks, sizeof(*s->b));
	int rc = s->b ? sl_meta_next_slice_id(v->meta, &s->id, err)
		      : sl_errf(err, -ENOMEM, "out of memory");
	if (rc) {
		free(s->b);
		free(s);
		return rc;
	}
	if (v->stage)
		sl_stage_hold(v->stage, s->id);
	w->cur = s;
	return 0;
}

int sl_writer_new(struct sl_volume_core *v, const struct sl_meta_user *u,
		  const struct sl_meta_lease *lease, sl_ino ino, uint64_t start,
		  struct sl_writer **out)
{
	struct sl_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (sl_held_user_set(&w->user, u)) {
		free(w);
		return -ENOMEM;
	}
	w->v = v;
	if (lease) {
		w->lease = *lease;
		w->leased = true;
	}
	w->ino = ino;
	w->pos = start;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	pthread_mutex_init(&w->commit_lock, NULL);
	pthread_rwlockattr_t ga;
	pthread_rwlockattr_init(&ga);
	pthread_rwlockattr_setkind_np(&ga, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&w->gate, &ga);
	pthread_rwlockattr_destroy(&ga);
	if (v->background_commit) {
		w->slot = (struct sl_commit_slot){.owner = v->background_commit, .w = w, .ino = ino};
		sl_background_commit_register(v->background_commit, &w->slot);
	}
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
		if (!s->b[indx].data) {
			/* Backpressure: wait for memory without holding the writer lock, so that
			 * finished uploads can update this writer meanwhile. */
			pthread_mutex_unlock(&w->lock);
			sl_blockcache_reserve(w->v->cache, bs);
			uint8_t *data = sl_blockcache_buffer(w->v->cache, bs);
			pthread_mutex_lock(&w->lock);
			if (!data) {
				sl_mem_release(&w->v->mem, bs);
				rc = sl_errf(err, -ENOMEM, "out of memory");
				break;
			}
			if (w->cur != s || s->b[indx].data) { /* changed while we waited */
				sl_blockcache_give_buffer(w->v->cache, data, bs);
				sl_mem_release(&w->v->mem, bs);
				continue;
			}
			s->b[indx].data = data;
			s->b[indx].acct = bs;
		}
		uint32_t n = bs - boff;
		if (n > s->cap - s->len)
			n = s->cap - s->len;
		if (n > len)
			n = (uint32_t)len;
		memcpy(s->b[indx].data + boff, p, n);
		s->len += n;
		w->pos += n;
		p += n;
		len -= n;
		if (s->len % bs == 0 && s->len / bs == indx + 1 && s->len < s->cap) {
			s->submitted = indx + 1;
			rc = submit_block(w, s, indx);
		} else if (s->len == s->cap) {
			rc = seal_current(w);
		}
		if (rc)
			rc = sl_errf(err, rc, "cannot queue an upload: out of memory");
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/* Queues another upload of every block whose last one failed. Called with w->lock held. */
static void resubmit_failed(struct sl_writer *w)
{
	struct wslice *lists[] = {w->head, w->pending};
	for (size_t l = 0; l < 2; l++)
		for (struct wslice *s = lists[l]; s; s = s->next)
			for (uint32_t i = 0; i < s->submitted && !s->dropped; i++) {
				struct wblock *b = &s->b[i];
				if (b->failed && !b->inflight && !b->stored &&
				    (b->data || b->staged))
					submit_block(w, s, i);
			}
}

/* Stages every block of the queued slices that is neither stored nor staged. Returns 0, or the
 * error of a staging failure (the caller then waits for the uploads instead). Called with
 * w->lock held; drops it while writing. A slice's last block is not staged when the backend
 * needs it stored before the commit (SL_META_CAP_COMMIT_STORED): the hflush waits for its
 * upload anyway, and a second copy with an fdatasync would only add to that wait. */
#define STAGE_BATCH 16
static int stage_queued(struct sl_writer *w, struct sl_err *err)
{
	bool stored_last = sl_meta_caps(w->v->meta) & SL_META_CAP_COMMIT_STORED;
	/* With background commits and copies on other nodes, an hflush is acknowledged once every
	 * copy is written (HDFS's own hflush: in the memory of every node of the pipeline); the
	 * commit makes them durable first (commit_ready). Alone, the one copy must be durable. */
	bool sync = !w->slot.owner || sl_peers_hflush_copies(w->v->peers) < 2;
	for (;;) {
		/* Pins what needs staging (up to STAGE_BATCH blocks), stages it in one group round
		 * (stage.c: with what other threads and streams stage now), then looks again: the
		 * queue may have grown meanwhile. */
		struct wblock *bs[STAGE_BATCH];
		char keys[STAGE_BATCH][SL_KEY_MAX];
		const char *kp[STAGE_BATCH];
		const uint8_t *data[STAGE_BATCH];
		uint32_t lens[STAGE_BATCH];
		struct sl_place at[STAGE_BATCH]; /* where the cache group keeps copies */
		uint64_t lbs = w->v->logical_block_size ? w->v->logical_block_size : 1;
		int rcs[STAGE_BATCH];
		size_t n = 0;
		for (struct wslice *s = w->head; s && n < STAGE_BATCH; s = s->next)
			for (uint32_t i = 0; i < used_blocks(w, s) && n < STAGE_BATCH; i++) {
				struct wblock *b = &s->b[i];
				if (b->stored || b->staged || b->pinned || !b->data ||
				    (stored_last && i == used_blocks(w, s) - 1))
					continue;
				block_key(w, s, i, keys[n]);
				kp[n] = keys[n];
				data[n] = b->data;
				lens[n] = sl_block_len(&w->v->layout, s->len, i);
				at[n] = (struct sl_place){
					.ino = w->ino,
					.lblock = ((uint64_t)s->chunk * SL_CHUNK_SIZE + s->pos +
						   (uint64_t)i * w->v->layout.block_size) / lbs};
				b->pinned = true; /* keeps b->data and the slice */
				bs[n++] = b;
			}
		/* With background commits, the commit record of each slice this round completes
		 * (or that needs no block staged) goes in the same round (stage.h). */
		size_t nblocks = n;
		struct wslice *recorded[STAGE_BATCH];
		uint8_t bodies[STAGE_BATCH][SL_STAGE_RECORD_LEN];
		for (struct wslice *s = w->head; w->slot.owner && s && n < STAGE_BATCH; s = s->next) {
			if (s->recorded || s->record_pinned || s->len == 0)
				continue;
			bool covered = true;
			for (uint32_t i = 0; i < used_blocks(w, s) && covered; i++) {
				struct wblock *b = &s->b[i];
				bool ours = false;
				for (size_t k = 0; k < nblocks && !ours; k++)
					ours = bs[k] == b;
				covered = ours || b->stored || (b->staged && !b->pinned);
			}
			if (!covered)
				continue;
			record_key(w, s, keys[n]);
			kp[n] = keys[n];
			/* the group's holders drop the records up to where this stream committed */
			sl_stage_record_body(w->committed_end, bodies[n]);
			data[n] = bodies[n];
			lens[n] = SL_STAGE_RECORD_LEN;
			at[n] = (struct sl_place){
				.ino = w->ino,
				.lblock = ((uint64_t)s->chunk * SL_CHUNK_SIZE + s->pos) / lbs};
			s->record_pinned = true;
			recorded[n++] = s;
		}
		if (!n)
			return 0;
		pthread_mutex_unlock(&w->lock);
		/* in a cache group, copies on hflush.replicas - 1 owners, made meanwhile */
		struct sl_peer_batch *copies =
			sl_peers_replicate_start(w->v->peers, kp, at, data, lens, n, sync);
		int rc = sl_stage_put_many(w->v->stage, kp, data, lens, n, sync, rcs, err);
		int64_t t0 = sl_mono_ns();
		int short_of = sl_peers_replicate_finish(w->v->peers, copies, rcs, n);
		sl_stat_add(&w->v->flush.replica_wait_ns, (uint64_t)(sl_mono_ns() - t0));
		pthread_mutex_lock(&w->lock);
		if (short_of)
			w->short_rounds++;
		for (size_t k = nblocks; k < n; k++) {
			recorded[k]->record_pinned = false;
			recorded[k]->recorded = !rcs[k];
			/* its blocks were staged in this round or before, as unsynced as it */
			recorded[k]->unsynced = !sync;
		}
		for (size_t k = 0; k < nblocks; k++) {
			bs[k]->pinned = false;
			if (!rcs[k])
				bs[k]->staged = true;
			/* The queue holds uncommitted slices only: their staged copies stay until
			 * the commit (commit_ready), even if the upload finished while we staged. */
			settle_block(w, bs[k]);
		}
		struct wslice *done = reap_locked(w);
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		free_list(w, done);
		pthread_mutex_lock(&w->lock);
		if (rc)
			return rc;
	}
}

static int sticky(struct sl_writer *w, struct sl_err *err)
{
	if (w->err.code && err)
		*err = w->err;
	return w->err.code;
}

/* Whether the slices sealed up to seq are ready to commit (every block staged or stored, none
 * still being staged) and their commit records staged: what an hflush acknowledges before its
 * commit, so that a commit asked for by a reader takes all of them, and a client that takes
 * over after a crash commits them. Called with w->lock held. */
static bool ready_through(struct sl_writer *w, uint64_t seq)
{
	struct sl_err why;
	for (struct wslice *s = w->head; s && s->seq <= seq; s = s->next)
		if (head_state(w, s, &why) == HEAD_WAIT || (s->len && !s->recorded))
			return false;
	return true;
}

int sl_writer_hflush(struct sl_writer *w, struct sl_err *err)
{
	sl_stat_add(&w->v->flush.hflushes, 1);
	if (!w->v->stage)
		return sl_writer_flush(w, err);
	int64_t t0 = sl_mono_ns();
	pthread_rwlock_rdlock(&w->gate);
	sl_stat_add(&w->v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
	pthread_mutex_lock(&w->lock);
	int rc = sticky(w, err);
	if (!rc)
		rc = seal_current(w);
	/* This hflush covers every byte written before it: all of it is in slices sealed by now
	 * (by this thread or another one), so it is done when slice `target` is committed. */
	uint64_t target = w->sealed_seq;
	uint64_t short_before = w->short_rounds;
	if (!rc && !w->staging_broken) {
		resubmit_failed(w);
		struct sl_err serr = {0};
		if (stage_queued(w, &serr)) {
			w->staging_broken = true;
			sl_log(&w->v->log, SL_LOG_WARN, "hflush staging failed (%s); this stream's "
			       "flushes wait for object storage from now on", serr.msg);
		}
	}
	bool sync = w->staging_broken;
	/* In the background: once every block up to target is staged with all its copies (another
	 * thread may still be staging some); with fewer copies the commit is waited for. */
	bool background = !rc && !sync && w->slot.owner;
	if (background) {
		t0 = sl_mono_ns();
		while (!ready_through(w, target) && !w->err.code && !w->staging_broken)
			pthread_cond_wait(&w->changed, &w->lock);
		sl_stat_add(&w->v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
		background = !w->staging_broken && w->short_rounds == short_before;
		sync = w->staging_broken;
	}
	pthread_mutex_unlock(&w->lock);
	if (rc || sync) {
		pthread_rwlock_unlock(&w->gate);
		if (rc)
			return sl_errf(err, rc, "cannot queue an upload: out of memory");
		return sl_writer_flush(w, err);
	}
	if (background && !sl_background_commit_schedule(w->slot.owner, &w->slot)) {
		pthread_mutex_lock(&w->lock);
		rc = sticky(w, err);
		pthread_mutex_unlock(&w->lock);
		pthread_rwlock_unlock(&w->gate);
		return rc;
	}
	commit_ready(w);
	pthread_mutex_lock(&w->lock);
	t0 = sl_mono_ns();
	while (w->done_seq < target && !w->err.code)
		pthread_cond_wait(&w->changed, &w->lock);
	sl_stat_add(&w->v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
	rc = sticky(w, err);
	pthread_mutex_unlock(&w->lock);
	pthread_rwlock_unlock(&w->gate);
	return rc;
}

void sl_writer_commit_ready(struct sl_writer *w)
{
	commit_ready(w);
}

/* The first block of this writer that is not in object storage, or NULL. */
static struct wblock *first_unstored(struct sl_writer *w)
{
	for (struct wslice *s = w->pending; s; s = s->next)
		for (uint32_t i = 0; i < used_blocks(w, s) && s->committed; i++)
			if (!s->b[i].stored)
				return &s->b[i];
	return NULL;
}

static int flush(struct sl_writer *w, bool closing, struct sl_err *err);

int sl_writer_flush(struct sl_writer *w, struct sl_err *err)
{
	return flush(w, false, err);
}

int sl_writer_close(struct sl_writer *w, bool *lease_ended, struct sl_err *err)
{
	int rc = flush(w, true, err);
	pthread_mutex_lock(&w->lock);
	*lease_ended = w->lease_ended;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

static int flush(struct sl_writer *w, bool closing, struct sl_err *err)
{
	pthread_rwlock_wrlock(&w->gate);
	pthread_mutex_lock(&w->lock);
	int rc = seal_current(w);
	if (!rc && closing)
		w->closing = true; /* nothing is written after this */
	if (!rc)
		resubmit_failed(w); /* one more try for what failed before */
	pthread_mutex_unlock(&w->lock);
	commit_ready(w); /* an empty or already-uploaded slice commits here */
	pthread_mutex_lock(&w->lock);
	while (w->tasks > 0)
		pthread_cond_wait(&w->changed, &w->lock);
	pthread_mutex_unlock(&w->lock);
	commit_ready(w); /* what the uploads completed (background commits may not have yet) */
	pthread_mutex_lock(&w->lock);
	if (w->head && !w->err.code) {
		/* Uploads are over and the head still cannot commit: one of its blocks failed. */
		for (uint32_t i = 0; i < used_blocks(w, w->head); i++)
			if (w->head->b[i].failed && !w->err.code)
				w->err = w->head->b[i].err;
		if (!w->err.code)
			sl_errf(&w->err, -EIO, "a block of inode %llu could not be uploaded",
				(unsigned long long)w->ino);
	}
	pthread_mutex_unlock(&w->lock);
	commit_ready(w); /* drops the queue after a failure */
	pthread_mutex_lock(&w->lock);
	while (w->head)
		pthread_cond_wait(&w->changed, &w->lock);
	if (!rc)
		rc = w->err.code;
	if (rc && err)
		*err = w->err.code ? w->err : (struct sl_err){.code = rc, .msg = "out of memory"};
	struct wblock *b = rc ? NULL : first_unstored(w);
	if (b) {
		/* Committed after an hflush, staged, and still not uploaded: not sticky, a later
		 * flush tries again, and after close the staging area does. */
		rc = b->err.code ? b->err.code : -EIO;
		if (err) {
			*err = b->err;
			err->code = rc;
			sl_err_wrap(err, "data hflushed to the local staging area could not be "
				    "uploaded yet (it stays staged and is retried)");
		}
	}
	pthread_mutex_unlock(&w->lock);
	pthread_rwlock_unlock(&w->gate);
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
	if (w->slot.owner) /* no committer works on it from here on */
		sl_background_commit_unregister(w->slot.owner, &w->slot);
	pthread_mutex_lock(&w->lock);
	struct wslice *dead = NULL;
	if (w->cur) { /* never flushed: drop it (close flushes first, so only after errors) */
		w->cur->dropped = true;
		w->cur->next = w->pending;
		w->pending = w->cur;
		w->cur = NULL;
	}
	while (w->head) { /* sealed, never committed: only after errors too */
		struct wslice *s = w->head;
		w->head = s->next;
		s->dropped = true;
		s->next = w->pending;
		w->pending = s;
	}
	w->tail = NULL;
	while (w->tasks || w->compacting)
		pthread_cond_wait(&w->changed, &w->lock);
	/* Staged and not retired (not uploaded, or the slice not committed): the staging area
	 * takes over. It uploads a block only while its slice is referenced, which covers a commit
	 * that failed but happened (its reply lost past every retry), and deletes the object of a
	 * slice that was never committed. */
	for (struct wslice *s = w->pending; s; s = s->next)
		for (uint32_t i = 0; i < used_blocks(w, s); i++)
			if (s->b[i].staged && !(s->b[i].stored && s->committed)) {
				char key[SL_KEY_MAX];
				block_key(w, s, i, key);
				sl_stage_orphan(w->v->stage, key);
			}
	dead = w->pending;
	w->pending = NULL;
	pthread_mutex_unlock(&w->lock);
	free_list(w, dead);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->commit_lock);
	pthread_rwlock_destroy(&w->gate);
	sl_held_user_clear(&w->user);
	free(w);
}
