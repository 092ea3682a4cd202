/*
 * pool.c - a fixed set of worker threads draining a FIFO of tasks (uploads, downloads), and the
 * memory limit that makes writers and readahead wait instead of growing (pool.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"

#include "clock.h"

struct task {
	sl_task_fn fn;
	void *arg;
	struct task *next;
};

struct sl_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct task *head, *tail;
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

static void *worker_main(void *arg)
{
	struct sl_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		struct task *t = p->head;
		if (!t)
			break; /* stopping and drained */
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int sl_pool_new(int threads, const char *name, struct sl_pool **out)
{
	struct sl_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (threads < 1)
		threads = 1;
	p->threads = calloc((size_t)threads, sizeof(pthread_t));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p)) {
			sl_pool_free(p);
			return -EAGAIN;
		}
		p->nthreads = i + 1;
		char tname[16];
		snprintf(tname, sizeof(tname), "sl-%.8s-%d", name, i);
		pthread_setname_np(p->threads[i], tname);
	}
	*out = p;
	return 0;
}

int sl_pool_submit(struct sl_pool *p, sl_task_fn fn, void *arg)
{
	struct task *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void sl_pool_free(struct sl_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	free(p->threads);
	free(p);
}

void sl_mem_init(struct sl_memlimit *m, uint64_t limit)
{
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->freed, NULL);
	m->limit = limit;
	m->used = 0;
	m->peak = 0;
}

void sl_mem_destroy(struct sl_memlimit *m)
{
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->freed);
}

bool sl_mem_try_acquire(struct sl_memlimit *m, uint64_t n)
{
	pthread_mutex_lock(&m->lock);
	bool ok = m->used + n <= m->limit;
	if (ok)
		m->used += n;
	if (m->used > m->peak)
		m->peak = m->used;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

void sl_mem_wait(struct sl_memlimit *m, uint64_t n)
{
	pthread_mutex_lock(&m->lock);
	if (m->used > 0 && m->used + n > m->limit) {
		/* Bounded, so that a wake-up that happened just before we slept costs little. */
		struct timespec ts = sl_deadline_ms(CLOCK_REALTIME, 100);
		pthread_cond_timedwait(&m->freed, &m->lock, &ts);
	}
	pthread_mutex_unlock(&m->lock);
}

void sl_mem_notify(struct sl_memlimit *m)
{
	pthread_mutex_lock(&m->lock);
	pthread_cond_broadcast(&m->freed);
	pthread_mutex_unlock(&m->lock);
}

void sl_mem_release(struct sl_memlimit *m, uint64_t n)
{
	pthread_mutex_lock(&m->lock);
	m->used = n > m->used ? 0 : m->used - n;
	pthread_cond_broadcast(&m->freed);
	pthread_mutex_unlock(&m->lock);
}
