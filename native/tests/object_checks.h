/*
 * object_checks.h - object store checks every backend test runs (test_object_s3.c,
 * test_object_presign.c): deterministic data, ranged reads of a small object, keys that need
 * encoding, many threads writing and reading their own keys, and a 20 MiB object with ranged
 * reads. Static functions, included once per test.
 */
#ifndef SL_TESTS_OBJECT_CHECKS_H
#define SL_TESTS_OBJECT_CHECKS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/object.h"
#include "testutil.h"

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

/* key holds the 1000 bytes of data: read whole, in the middle, short past the end, and at and
 * beyond the end (nothing). */
static void check_ranged_gets(struct sl_objstore *s, const char *key, const char *data)
{
	struct sl_err err = {0};
	char buf[1000];
	memset(buf, 0, sizeof(buf));
	CHECK_RC(sl_obj_get(s, key, 0, buf, sizeof(buf), &err), 1000);
	CHECK(!memcmp(buf, data, sizeof(buf)));
	CHECK_RC(sl_obj_get(s, key, 100, buf, 50, &err), 50);
	CHECK(!memcmp(buf, data + 100, 50));
	CHECK_RC(sl_obj_get(s, key, 990, buf, 50, &err), 10);
	CHECK(!memcmp(buf, data + 990, 10));
	CHECK_RC(sl_obj_get(s, key, 1000, buf, 50, &err), 0);
	CHECK_RC(sl_obj_get(s, key, 5000, buf, 50, &err), 0);
}

/* Keys with characters that URLs, XML and signatures encode. */
static const char *const odd_keys[] = {
	"odd/with space/a+b=c&d?e#f%g;h,i",
	"odd/\xc3\xbcnic\xc3\xb6" "de/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	"odd/dots..x/.hidden/y..",
	"odd/tilde~/*star*/(paren)!$'",
	"odd/xml<&>\"quote\"",
	"odd/plus+plus",
};
enum { N_ODD_KEYS = sizeof(odd_keys) / sizeof(odd_keys[0]) };

/* Puts each odd key (its own name as its content) and reads it back. */
static void put_odd_keys(struct sl_objstore *s)
{
	struct sl_err err = {0};
	char buf[256];
	for (size_t i = 0; i < N_ODD_KEYS; i++) {
		const char *key = odd_keys[i];
		int rc = sl_obj_put(s, key, key, strlen(key), &err);
		if (rc)
			fprintf(stderr, "put '%s': %s\n", key, err.msg);
		CHECK_RC(rc, 0);
		CHECK_RC(sl_obj_get(s, key, 0, buf, sizeof(buf), &err), (int64_t)strlen(key));
		CHECK(!memcmp(buf, key, strlen(key)));
	}
}

#define THREADS 8

struct worker {
	struct sl_objstore *s;
	int id, from, to, failures;
};

static void run_threads(struct sl_objstore *s, void *(*fn)(void *), int total)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.s = s, .id = i, .from = total * i / THREADS,
				       .to = total * (i + 1) / THREADS};
		REQUIRE(pthread_create(&th[i], NULL, fn, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(w[i].failures, 0);
	}
}

static void *rw_worker(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	char key[64], data[70000], buf[70000];
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "rw/t%d/%d", w->id, i);
		size_t len = 1 + (size_t)((w->id * 7919 + i * 104729) % (int)sizeof(data));
		fill(data, len, (unsigned)(w->id * 100 + i));
		struct sl_obj_info info;
		if (sl_obj_put(w->s, key, data, len, &err) ||
		    sl_obj_get(w->s, key, 0, buf, sizeof(buf), &err) != (int64_t)len ||
		    memcmp(buf, data, len) || sl_obj_head(w->s, key, &info, &err) ||
		    info.size != len || sl_obj_delete(w->s, key, &err)) {
			fprintf(stderr, "worker %d key %s: %s\n", w->id, key, err.msg);
			w->failures++;
		}
	}
	return NULL;
}

static void test_big(struct sl_objstore *s)
{
	enum { BIG = 20 << 20 };
	struct sl_err err = {0};
	char *data = malloc(BIG), *buf = malloc(BIG);
	REQUIRE(data && buf);
	fill(data, BIG, 9);
	CHECK_RC(sl_obj_put(s, "big/20m", data, BIG, &err), 0);
	memset(buf, 0, BIG);
	CHECK_RC(sl_obj_get(s, "big/20m", 0, buf, BIG, &err), BIG);
	CHECK(!memcmp(buf, data, BIG));
	const struct {
		uint64_t off;
		size_t len;
		int64_t want;
	} ranges[] = {
		{0, 1, 1}, {(5 << 20) + 3, 1 << 20, 1 << 20}, {BIG - 10, 100, 10}, {BIG, 10, 0},
		{4 << 20, 4 << 20, 4 << 20}, {BIG - (3 << 20), 4 << 20, 3 << 20},
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int64_t n = sl_obj_get(s, "big/20m", ranges[i].off, buf, ranges[i].len, &err);
		CHECK_RC(n, ranges[i].want);
		CHECK(n <= 0 || !memcmp(buf, data + ranges[i].off, (size_t)n));
	}
	CHECK_RC(sl_obj_delete(s, "big/20m", &err), 0);
	free(data);
	free(buf);
}

#endif
