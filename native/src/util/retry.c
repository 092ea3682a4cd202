/* retry.c - the table of transient errors and jittered backoff (see retry.h). */
#include "retry.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static const struct {
	int code;
	enum sl_retry_class cls;
} transient_errors[] = {
	{EAGAIN, SL_RETRY_CONTENTION},
	{EBUSY, SL_RETRY_CONTENTION},
	{EDEADLK, SL_RETRY_CONTENTION},
	{ENOTCONN, SL_RETRY_CONNECTION},
	{ECONNREFUSED, SL_RETRY_CONNECTION},
	{ECONNRESET, SL_RETRY_CONNECTION},
	{ECONNABORTED, SL_RETRY_CONNECTION},
	{EPIPE, SL_RETRY_CONNECTION},
	{ETIMEDOUT, SL_RETRY_CONNECTION},
};

enum sl_retry_class sl_retry_class_of(int code)
{
	if (code >= 0)
		return SL_RETRY_NEVER;
	for (size_t i = 0; i < sizeof(transient_errors) / sizeof(transient_errors[0]); i++)
		if (-code == transient_errors[i].code)
			return transient_errors[i].cls;
	return SL_RETRY_NEVER;
}

bool sl_retryable(int code)
{
	return sl_retry_class_of(code) != SL_RETRY_NEVER;
}

uint64_t sl_backoff_ms(const struct sl_retry_policy *p, int attempt)
{
	uint64_t ms = p->base_ms;
	for (int i = 1; i < attempt && ms < p->max_ms; i++)
		ms *= 2;
	if (ms > p->max_ms)
		ms = p->max_ms;
	/* The seed is per call, derived from the clock and the stack address; no shared state. */
	unsigned seed = (unsigned)sl_mono_ns() ^ (unsigned)(uintptr_t)&seed ^ (unsigned)attempt;
	return ms / 2 + (ms > 1 ? (uint64_t)rand_r(&seed) % (ms / 2 + 1) : 0);
}

void sl_sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void sl_backoff(const struct sl_retry_policy *p, int attempt)
{
	sl_sleep_ms(sl_backoff_ms(p, attempt));
}
