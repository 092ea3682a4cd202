/*
 * pool.h - a fixed set of worker threads draining a FIFO of tasks, and a hard limit on buffer
 * memory that makes its users wait (backpressure) instead of growing. The volume runs its uploads
 * and downloads on pools; its block cache, writers and readahead share one memory limit.
 */
#ifndef SL_POOL_H
#define SL_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct sl_pool;
typedef void (*sl_task_fn)(void *arg);
int sl_pool_new(int threads, const char *name, struct sl_pool **out);
/* Queues fn(arg); never fails once the pool exists (the queue is unbounded, its entries small;
 * the memory they point at is bounded by the memory limit). */
int sl_pool_submit(struct sl_pool *p, sl_task_fn fn, void *arg);
/* Runs queued tasks to completion, then stops the threads. */
void sl_pool_free(struct sl_pool *p);

/* A hard limit on buffer memory. Users take memory with try_acquire and, when it does not fit,
 * reclaim what they can (unused cached blocks) or wait (backpressure); see cache/blockcache.c. */
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

#endif
