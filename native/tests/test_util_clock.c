/*
 * test_util_clock.c - the clock (util/clock.c): the system clock's units agree, deadlines for
 * condition variables lie ahead on the clock they name, and a test clock runs with the system
 * clock plus what it was advanced, seen by every thread that reads it, while NULL stays the
 * system clock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "util/clock.h"
#include "testutil.h"

#define MS SL_NS_PER_MS

/* a <= b <= a + slack_ms, for readings taken one after the other */
static int within(int64_t a, int64_t b, int64_t slack_ms)
{
	return a <= b && b <= a + slack_ms;
}

static void test_units(void)
{
	int64_t ns = sl_mono_ns(), ms = sl_mono_ms(), s = sl_mono_s();
	CHECK(within(ns / MS, ms, 1000));
	CHECK(within(ns / SL_NS_PER_S, s, 1));
	int64_t rns = sl_real_ns(), rms = sl_real_ms(), rs = sl_real_s();
	CHECK(within(rns / MS, rms, 1000));
	CHECK(within(rns / SL_NS_PER_S, rs, 1));
	/* the epoch's seconds, as time() counts them: time() reads the coarse clock, which may still
	 * show the second before when a reading of the fine clock just before it showed the next */
	int64_t t = (int64_t)time(NULL);
	CHECK(t >= rs - 1 && t <= rs + 1);
	CHECK(rs > 1700000000);                     /* not a monotonic reading */
	/* NULL is the system clock */
	CHECK(within(ms, sl_clock_mono_ms(NULL), 1000));
	CHECK(within(rms, sl_clock_real_ms(NULL), 1000));
	CHECK(within(rs, sl_clock_real_s(NULL), 1));
}

static void test_deadline(void)
{
	const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
	for (int i = 0; i < 2; i++) {
		struct timespec now, at;
		clock_gettime(ids[i], &now);
		at = sl_deadline_ms(ids[i], 1500);
		CHECK(at.tv_nsec >= 0 && at.tv_nsec < SL_NS_PER_S);
		int64_t d = ((int64_t)at.tv_sec - now.tv_sec) * SL_NS_PER_S + at.tv_nsec - now.tv_nsec;
		CHECK(within(1500, d / MS, 1000));
	}
	/* a condition variable on CLOCK_MONOTONIC times out at its deadline */
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_condattr_t ca;
	pthread_cond_t cond;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	int64_t t0 = sl_mono_ms();
	struct timespec until = sl_deadline_ms(CLOCK_MONOTONIC, 50);
	pthread_mutex_lock(&lock);
	int rc;
	while ((rc = pthread_cond_timedwait(&cond, &lock, &until)) == 0)
		;
	pthread_mutex_unlock(&lock);
	CHECK_RC(rc, ETIMEDOUT);
	CHECK(within(50, sl_mono_ms() - t0, 1000));
	pthread_cond_destroy(&cond);
}

struct reader {
	const struct sl_clock *c;
	int64_t mono_ms, real_ms;
};

static void *read_clock(void *arg)
{
	struct reader *r = arg;
	r->mono_ms = sl_clock_mono_ms(r->c);
	r->real_ms = sl_clock_real_ms(r->c);
	return NULL;
}

static void test_advance(void)
{
	struct sl_clock c = {0};
	CHECK(within(sl_mono_ms(), sl_clock_mono_ms(&c), 1000)); /* starts with the system clock */
	int64_t mono = sl_clock_mono_ms(&c), real = sl_clock_real_ms(&c);
	int64_t real_s = sl_clock_real_s(&c), mono_ns = sl_clock_mono_ns(&c);
	sl_clock_advance(&c, 3600 * 1000);
	sl_clock_advance(&c, 0);
	/* both of its times moved an hour, the system clock did not */
	CHECK(within(mono + 3600 * 1000, sl_clock_mono_ms(&c), 1000));
	CHECK(within(real + 3600 * 1000, sl_clock_real_ms(&c), 1000));
	CHECK(within(real_s + 3600, sl_clock_real_s(&c), 1));
	CHECK(within(mono_ns / SL_NS_PER_S + 3600, sl_clock_mono_s(&c), 1));
	CHECK(within(mono, sl_mono_ms(), 1000));
	CHECK(within(real, sl_real_ms(), 1000));
	/* another thread reads the same time */
	sl_clock_advance(&c, 1500);
	struct reader r = {.c = &c};
	pthread_t t;
	REQUIRE(pthread_create(&t, NULL, read_clock, &r) == 0);
	pthread_join(t, NULL);
	CHECK(within(mono + 3601500, r.mono_ms, 1000));
	CHECK(within(real + 3601500, r.real_ms, 1000));
	/* and a second test clock is its own */
	struct sl_clock other = {0};
	CHECK(within(sl_mono_ms(), sl_clock_mono_ms(&other), 1000));
}

int main(void)
{
	test_units();
	test_deadline();
	test_advance();
	return tu_finish("test_util_clock");
}
