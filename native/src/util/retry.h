/*
 * retry.h - the one retry executor of the core. A failed step is retried when its error class is
 * transient (table in retry.c) and the operation is idempotent, with jittered exponential backoff.
 * Hopeless errors (bad credentials, unknown host, not found, permission) are never retried.
 *
 * Two classes of transient errors get different policies from their callers:
 *   contention - the other side is there but busy or lost a race (deadlock, lock timeout,
 *                throttling): a bounded number of attempts;
 *   connection - the other side cannot be reached right now (refused, reset, lost connection,
 *                timeout), as during a restart of a database: retried for a time budget, so that
 *                operations stall and then complete instead of failing.
 */
#ifndef SL_RETRY_H
#define SL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

enum sl_retry_class {
	SL_RETRY_NEVER,      /* success, or hopeless */
	SL_RETRY_CONTENTION, /* EAGAIN (throttled, 5xx, SlowDown), EBUSY (lock busy), EDEADLK
				(deadlock, serialization failure) */
	SL_RETRY_CONNECTION, /* ENOTCONN (lost connection), ECONNREFUSED, ECONNRESET, ECONNABORTED,
				EPIPE, ETIMEDOUT */
};

struct sl_retry_policy {
	int max_attempts;     /* total attempts, >= 1 */
	uint32_t base_ms;     /* first backoff */
	uint32_t max_ms;      /* cap of one backoff */
};

/* The class of a negative errno from a backend. */
enum sl_retry_class sl_retry_class_of(int code);
/* True if the class is not SL_RETRY_NEVER. */
bool sl_retryable(int code);
/* The jittered backoff before attempt number `attempt` (1-based: the first retry is 1), in ms:
 * base_ms doubled per attempt up to max_ms, then uniform in [half, all] of it, so that many
 * clients do not retry in lockstep. */
uint64_t sl_backoff_ms(const struct sl_retry_policy *p, int attempt);
/* Sleeps sl_backoff_ms. */
void sl_backoff(const struct sl_retry_policy *p, int attempt);
void sl_sleep_ms(uint64_t ms);

#endif
