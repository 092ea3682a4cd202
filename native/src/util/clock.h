/*
 * clock.h - the one clock of the core. Plain helpers read the system's monotonic and real-time
 * clocks. struct sl_clock is the clock that a component deciding by time (a grant's lifetime, a
 * token's expiry, a cache entry's ttl, a batch's deadline, when to refresh or retry) takes from
 * its context object, so that a test moves time forward instead of sleeping; NULL is the system
 * clock, which is what every component runs on outside tests.
 *
 * A test clock is the system clock plus an offset that only grows (sl_clock_advance): its
 * monotonic time stays monotonic, and its real and monotonic times move together. Waiting is
 * not deciding: condition variable waits and sleeps stay on the system clock (sl_deadline_ms).
 */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define SL_NS_PER_S 1000000000LL
#define SL_NS_PER_MS 1000000LL

struct sl_clock {
	_Atomic int64_t ahead_ns; /* how far it runs ahead of the system clock; starts at 0 */
};

/* The system clock: CLOCK_MONOTONIC and CLOCK_REALTIME (since the epoch). */
int64_t sl_mono_ns(void);
int64_t sl_mono_ms(void);
int64_t sl_mono_s(void);
int64_t sl_real_ns(void);
int64_t sl_real_ms(void);
int64_t sl_real_s(void);

/* The absolute time ms from now on clock_id, for pthread_cond_timedwait: CLOCK_REALTIME for a
 * condition variable with default attributes, else the clock it was initialised with. */
struct timespec sl_deadline_ms(clockid_t clock_id, int64_t ms);

/* c's time (c NULL: the system clock's). */
int64_t sl_clock_mono_ns(const struct sl_clock *c);
int64_t sl_clock_mono_ms(const struct sl_clock *c);
int64_t sl_clock_mono_s(const struct sl_clock *c);
int64_t sl_clock_real_ns(const struct sl_clock *c);
int64_t sl_clock_real_ms(const struct sl_clock *c);
int64_t sl_clock_real_s(const struct sl_clock *c);

/* Moves a test clock ms forward (ms >= 0), for every component that reads it. */
void sl_clock_advance(struct sl_clock *c, int64_t ms);

#endif
