/*
 * background_commit.c - hflush without waiting for the metadata transaction
 * (hflush.commit=background): an hflush returns once its blocks and its slices' commit records
 * are staged and copied to the cache group, and its slices are committed here, by a small pool of committer threads, at most
 * hflush.commit-delay milliseconds later (0: at once). Committers of several streams meet in
 * the volume's group commit (commit.c), so one transaction carries them all.
 *
 * Visibility: a reader must not miss what an hflush acknowledged. The metadata still says only
 * what was committed, so a reader asks for the commit first, as an HDFS reader asks the DataNode
 * for the visible length: sl_background_commit_ino commits the pending slices of this volume
 * handle's writers of a file, and a reader on another handle asks the cache group
 * (sl_peers_commit_pending), whose members do the same for their own writers. The writers
 * register here; the registry is the only list of them by inode.
 *
 * A writer that dies before the commit leaves the records (cache/stage.h): the client that
 * takes its staging directory over, or the cache group's holders of their copies (peer.c), commit
 * them; see docs/architecture.md. hsync and close still commit before they return.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

#define COMMITTERS 4 /* streams committed at once; they share transactions anyway */

struct sl_background_commit {
	struct sl_volume_core *v;
	int64_t delay_ms;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct sl_commit_slot *slots; /* registered writers */
	bool stopping;
	bool timer_running;
	pthread_t timer;
	struct sl_pool *pool;
};

int sl_background_commit_new(struct sl_volume_core *v, int64_t delay_ms,
			     struct sl_background_commit **out, struct sl_err *err)
{
	struct sl_background_commit *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_errf(err, -ENOMEM, "out of memory");
	c->v = v;
	c->delay_ms = delay_ms;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	/* the timer waits on the monotonic clock, as sl_mono_ms counts */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (sl_pool_new(COMMITTERS, "commit", &c->pool)) {
		sl_background_commit_free(c);
		return sl_errf(err, -ENOMEM, "cannot start the committer threads");
	}
	*out = c;
	return 0;
}

void sl_background_commit_free(struct sl_background_commit *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
	if (c->timer_running)
		pthread_join(c->timer, NULL);
	sl_pool_free(c->pool); /* writers are gone by now: nothing is queued */
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->changed);
	free(c);
}

void sl_background_commit_register(struct sl_background_commit *c, struct sl_commit_slot *s)
{
	pthread_mutex_lock(&c->lock);
	s->due_ms = 0;
	s->refs = 0;
	s->next = c->slots;
	c->slots = s;
	pthread_mutex_unlock(&c->lock);
}

void sl_background_commit_unregister(struct sl_background_commit *c, struct sl_commit_slot *s)
{
	pthread_mutex_lock(&c->lock);
	s->due_ms = 0;
	while (s->refs)
		pthread_cond_wait(&c->changed, &c->lock);
	for (struct sl_commit_slot **p = &c->slots; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

static void commit_task(void *arg)
{
	struct sl_commit_slot *s = arg;
	struct sl_background_commit *c = s->owner;
	sl_writer_commit_ready(s->w);
	pthread_mutex_lock(&c->lock);
	s->refs--;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
}

/* Hands s to a committer. Called with c->lock held. */
static void start_commit(struct sl_background_commit *c, struct sl_commit_slot *s)
{
	s->due_ms = 0;
	s->refs++;
	if (sl_pool_submit(c->pool, commit_task, s)) {
		/* cannot happen once the pool exists; the stream's next flush commits it */
		s->refs--;
		pthread_cond_broadcast(&c->changed);
	}
}

static void *timer_main(void *arg)
{
	struct sl_background_commit *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		int64_t now = sl_mono_ms(), next = 0;
		for (struct sl_commit_slot *s = c->slots; s; s = s->next) {
			if (s->due_ms && s->due_ms <= now)
				start_commit(c, s);
			else if (s->due_ms && (!next || s->due_ms < next))
				next = s->due_ms;
		}
		if (!next) {
			pthread_cond_wait(&c->changed, &c->lock);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		int64_t wait_ms = next - now;
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->changed, &c->lock, &until);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int sl_background_commit_schedule(struct sl_background_commit *c, struct sl_commit_slot *s)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (!c->delay_ms) {
		start_commit(c, s);
	} else if (!s->due_ms) {
		s->due_ms = sl_mono_ms() + c->delay_ms;
		if (!c->timer_running) {
			if (pthread_create(&c->timer, NULL, timer_main, c)) {
				s->due_ms = 0; /* the caller commits it itself */
				rc = -EAGAIN;
			} else
				c->timer_running = true;
		}
		pthread_cond_broadcast(&c->changed);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

size_t sl_background_commit_ino(struct sl_background_commit *c, sl_ino ino)
{
	/* usually one writer (the lease holder); several only with leases=false */
	struct sl_commit_slot *one[4], **found = one;
	size_t n = 0, cap = sizeof(one) / sizeof(one[0]);
	pthread_mutex_lock(&c->lock);
	for (struct sl_commit_slot *s = c->slots; s; s = s->next) {
		if (s->ino != ino)
			continue;
		if (n == cap) {
			struct sl_commit_slot **more =
				malloc(2 * cap * sizeof(*more)); /* under the lock: rare */
			if (!more)
				break; /* the others commit within the delay all the same */
			memcpy(more, found, n * sizeof(*found));
			if (found != one)
				free(found);
			found = more;
			cap *= 2;
		}
		s->refs++;
		found[n++] = s;
	}
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++)
		sl_writer_commit_ready(found[i]->w);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < n; i++)
		found[i]->refs--;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
	if (found != one)
		free(found);
	return n;
}
