/*
 * retry.h - the one retry executor of the core. A failed step is retried when its error class is
 * transient (table in retry.c) and the operation is idempotent, with jittered exponential backoff.
 * Hopeless errors (bad credentials, unknown host, not found, permission) are never retried.
 */
#ifndef SL_RETRY_H
#define SL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct sl_retry_policy {
	int max_attempts;     /* total attempts, >= 1 */
	uint32_t base_ms;     /* first backoff */
	uint32_t max_ms;      /* cap of one backoff */
};

/* True if a negative errno from a backend is transient: EAGAIN (throttled, 5xx, SlowDown),
 * ETIMEDOUT, ECONNRESET, ECONNREFUSED, EPIPE, EBUSY (lock busy), EDEADLK (deadlock/serialization),
 * ENOTCONN (lost connection). */
bool sl_retryable(int code);
/* Sleeps the jittered backoff before attempt number `attempt` (1-based: the first retry is 1). */
void sl_backoff(const struct sl_retry_policy *p, int attempt);

#endif
