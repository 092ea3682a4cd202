/* clock.c - the system clocks in the units the core uses, and test clocks (see clock.h). */
#include "clock.h"

#include <assert.h>
#include <stdatomic.h>

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * SL_NS_PER_S + ts.tv_nsec;
}

int64_t sl_mono_ns(void) { return read_ns(CLOCK_MONOTONIC); }
int64_t sl_mono_ms(void) { return sl_mono_ns() / SL_NS_PER_MS; }
int64_t sl_mono_s(void) { return sl_mono_ns() / SL_NS_PER_S; }
int64_t sl_real_ns(void) { return read_ns(CLOCK_REALTIME); }
int64_t sl_real_ms(void) { return sl_real_ns() / SL_NS_PER_MS; }
int64_t sl_real_s(void) { return sl_real_ns() / SL_NS_PER_S; }

struct timespec sl_deadline_ms(clockid_t clock_id, int64_t ms)
{
	int64_t at = read_ns(clock_id) + ms * SL_NS_PER_MS;
	return (struct timespec){.tv_sec = (time_t)(at / SL_NS_PER_S),
				 .tv_nsec = (long)(at % SL_NS_PER_S)};
}

static int64_t ahead_ns(const struct sl_clock *c)
{
	return c ? atomic_load(&c->ahead_ns) : 0;
}

int64_t sl_clock_mono_ns(const struct sl_clock *c) { return sl_mono_ns() + ahead_ns(c); }
int64_t sl_clock_mono_ms(const struct sl_clock *c) { return sl_clock_mono_ns(c) / SL_NS_PER_MS; }
int64_t sl_clock_mono_s(const struct sl_clock *c) { return sl_clock_mono_ns(c) / SL_NS_PER_S; }
int64_t sl_clock_real_ns(const struct sl_clock *c) { return sl_real_ns() + ahead_ns(c); }
int64_t sl_clock_real_ms(const struct sl_clock *c) { return sl_clock_real_ns(c) / SL_NS_PER_MS; }
int64_t sl_clock_real_s(const struct sl_clock *c) { return sl_clock_real_ns(c) / SL_NS_PER_S; }

void sl_clock_advance(struct sl_clock *c, int64_t ms)
{
	assert(ms >= 0); /* monotonic time never goes back */
	atomic_fetch_add(&c->ahead_ns, ms * SL_NS_PER_MS);
}
