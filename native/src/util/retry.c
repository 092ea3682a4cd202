/* retry.c - the table of transient errors and jittered backoff (see retry.h). */
#include "retry.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static const int transient_errors[] = {
	EAGAIN, ETIMEDOUT, ECONNRESET, ECONNREFUSED, ECONNABORTED, EPIPE, EBUSY, EDEADLK, ENOTCONN,
};

bool sl_retryable(int code)
{
	if (code >= 0)
		return false;
	for (size_t i = 0; i < sizeof(transient_errors) / sizeof(transient_errors[0]); i++)
		if (-code == transient_errors[i])
			return true;
	return false;
}

void sl_backoff(const struct sl_retry_policy *p, int attempt)
{
	uint64_t ms = p->base_ms;
	for (int i = 1; i < attempt && ms < p->max_ms; i++)
		ms *= 2;
	if (ms > p->max_ms)
		ms = p->max_ms;
	/* Full jitter: uniform in [ms/2, ms] so that many clients do not retry in lockstep. The seed is
	 * per thread, derived from the clock and the stack address; no shared state. */
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed ^ (unsigned)attempt;
	uint64_t sleep_ms = ms / 2 + (ms > 1 ? (uint64_t)rand_r(&seed) % (ms / 2 + 1) : 0);
	struct timespec ts = {.tv_sec = (time_t)(sleep_ms / 1000),
			      .tv_nsec = (long)(sleep_ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
