/*
 * commit.c - group commit of slices: the commits of every output stream of a volume handle
 * share metadata transactions (hflush's latency is HBase's write latency, and one transaction
 * with its fsync per hflush was most of it).
 *
 * Leader/follower: a writer hands its ready slices (in order) to sl_commit_slices. If no commit
 * is running, it becomes the leader: it takes every request queued so far, its own included,
 * and commits their records in ONE transaction (sl_meta_write_chunks); requests that arrive
 * meanwhile wait and go together in the next one. Every caller returns only after its own
 * records were committed or failed, so an acknowledged hflush is as durable as before.
 *
 * A backend without write_chunks has nothing to share: each stream commits on its own, by one
 * write_chunk per record, in parallel with the others. Through a gateway, the batch is one
 * WRITE_CHUNKS request; a gateway older than that op makes every batch fail with ENOSYS at no
 * cost (remembered), and each request then goes on its own.
 *
 * Isolation: a batch is all or nothing, so when a batch of several requests fails (one stream's
 * lease was recovered, one caller lacks permission, the database is gone), each request is
 * committed again on its own, and only the failing stream sees an error. A writer has at most
 * one request queued (under its commit_lock), so its slices stay in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

/* At most this many records in one transaction; more wait for the next. */
#define BATCH_MAX 256

struct sl_commit_req {
	struct sl_meta_chunk_write *recs;
	size_t n;
	size_t done;
	int rc;
	struct sl_err err;
	bool batched;  /* committed in the shared transaction (the leader's own flag) */
	bool finished; /* the caller may return (set under the group's lock) */
	struct sl_commit_req *next;
};

void sl_commit_init(struct sl_commit_group *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->done, NULL);
}

void sl_commit_destroy(struct sl_commit_group *g)
{
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->done);
}

/* One transaction over recs (atomic: of several requests, all or nothing, or -ENOSYS); counts
 * it. */
static int commit_once(struct sl_volume_core *v, struct sl_meta_chunk_write *recs, size_t n,
		       bool atomic, size_t *done, struct sl_err *err)
{
	int64_t t0 = sl_mono_ns();
	unsigned txns = 0;
	int rc = sl_meta_write_chunks(v->meta, recs, n, atomic, done, &txns, err);
	sl_stat_add(&v->flush.commits, txns);
	sl_stat_add(&v->flush.records, *done);
	sl_stat_add(&v->flush.commit_ns, (uint64_t)(sl_mono_ns() - t0));
	return rc;
}

/* The leader's work on batch (a list taken off the queue), without the group's lock. Batches
 * need the backend's write_chunks (all or nothing): its fallback commits record by record, so
 * a failure inside one request could leave another's records half committed. */
static void commit_batch(struct sl_volume_core *v, struct sl_commit_req *batch)
{
	size_t total = 0, nreq = 0;
	for (struct sl_commit_req *r = batch; r; r = r->next) {
		total += r->n;
		nreq++;
	}
	bool atomic = sl_meta_supports(v->meta, SL_META_OP_WRITE_CHUNKS);
	struct sl_meta_chunk_write *all = nreq > 1 && atomic ? malloc(total * sizeof(*all)) : NULL;
	if (all) {
		size_t k = 0, done = 0;
		for (struct sl_commit_req *r = batch; r; r = r->next) {
			memcpy(all + k, r->recs, r->n * sizeof(*all));
			k += r->n;
		}
		struct sl_err err = {0};
		if (!commit_once(v, all, total, true, &done, &err) && done == total) {
			k = 0;
			for (struct sl_commit_req *r = batch; r; r = r->next) {
				memcpy(r->recs, all + k, r->n * sizeof(*all)); /* the attributes */
				r->done = r->n;
				r->rc = 0;
				r->batched = true;
				k += r->n;
			}
		}
		free(all);
	}
	/* One request, no write_chunks, out of memory, or a failed batch: each on its own. */
	for (struct sl_commit_req *r = batch; r; r = r->next)
		if (!r->batched)
			r->rc = commit_once(v, r->recs, r->n, false, &r->done, &r->err);
}

int sl_commit_slices(struct sl_volume_core *v, struct sl_meta_chunk_write *recs, size_t n,
		     size_t *done, struct sl_err *err)
{
	struct sl_commit_group *g = &v->commits;
	struct sl_commit_req me = {.recs = recs, .n = n};
	*done = 0;
	if (!n)
		return 0;
	if (!sl_meta_supports(v->meta, SL_META_OP_WRITE_CHUNKS)) {
		/* Nothing to share: streams commit side by side instead of queueing behind one
		 * leader. */
		struct sl_err e = {0};
		int rc = commit_once(v, recs, n, false, done, &e);
		if (rc && err)
			*err = e;
		return rc;
	}
	int64_t t0 = sl_mono_ns();
	pthread_mutex_lock(&g->lock);
	struct sl_commit_req **pp = &g->queue;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &me;
	while (!me.finished) {
		if (g->busy) {
			pthread_cond_wait(&g->done, &g->lock);
			continue;
		}
		/* Leader: take requests from the head up to BATCH_MAX records (at least one). */
		g->busy = true;
		struct sl_commit_req *batch = g->queue, *last = batch;
		size_t total = last->n;
		while (last->next && total + last->next->n <= BATCH_MAX) {
			last = last->next;
			total += last->n;
		}
		g->queue = last->next;
		last->next = NULL;
		pthread_mutex_unlock(&g->lock);
		sl_stat_add(&v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
		commit_batch(v, batch);
		t0 = sl_mono_ns();
		pthread_mutex_lock(&g->lock);
		for (struct sl_commit_req *r = batch; r;) {
			struct sl_commit_req *next = r->next;
			r->finished = true;
			r = next;
		}
		g->busy = false;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	sl_stat_add(&v->flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
	*done = me.done;
	if (me.rc && err)
		*err = me.err;
	return me.rc;
}
