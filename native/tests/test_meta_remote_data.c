/*
 * test_meta_remote_data.c - the gateway client's memory for presigned data access (remote_data.h)
 * without a gateway: read contexts and URLs are bounded and forget the least recently used first,
 * URLs stop being handed out at their deadline, grants are found by range, newest first, and the
 * ring keeps the last SL_RDATA_MAX_GRANTS.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "meta/remote_data.h"
#include "testutil.h"

static void test_reads(struct sl_rdata *d)
{
	sl_ino ino;
	uint32_t indx;
	char user[SL_RPC_MAX_USER + 1];
	CHECK(!sl_rdata_read_of(d, 7, &ino, &indx, user));
	sl_rdata_note_read(d, 7, 100, 2, "alice");
	sl_rdata_note_read(d, 8, 101, 0, NULL);
	CHECK(sl_rdata_read_of(d, 7, &ino, &indx, user));
	CHECK(ino == 100 && indx == 2 && !strcmp(user, "alice"));
	CHECK(sl_rdata_read_of(d, 8, &ino, &indx, user));
	CHECK(ino == 101 && indx == 0 && user[0] == 0);
	/* a later read of the same slice replaces the context */
	sl_rdata_note_read(d, 7, 200, 3, "hive");
	CHECK(sl_rdata_read_of(d, 7, &ino, &indx, user));
	CHECK(ino == 200 && indx == 3 && !strcmp(user, "hive"));
	/* bounded: filling it forgets the least recently used (8), keeps what was just used (7) */
	CHECK(sl_rdata_read_of(d, 7, &ino, &indx, user));
	for (uint64_t id = 1000; id < 1000 + SL_RDATA_MAX_READS - 1; id++)
		sl_rdata_note_read(d, id, id, 0, NULL);
	CHECK(!sl_rdata_read_of(d, 8, &ino, &indx, user));
	CHECK(sl_rdata_read_of(d, 7, &ino, &indx, user) && ino == 200);
	CHECK(sl_rdata_read_of(d, 1000, &ino, &indx, user) && ino == 1000);
	CHECK(sl_rdata_read_of(d, 1000 + SL_RDATA_MAX_READS - 2, &ino, &indx, user));
	sl_rdata_note_read(d, 5, 5, 0, NULL); /* now the oldest, 1001, goes */
	CHECK(!sl_rdata_read_of(d, 1001, &ino, &indx, user));
	CHECK(sl_rdata_read_of(d, 1002, &ino, &indx, user));
}

static void test_grants(struct sl_rdata *d)
{
	struct sl_slice_grant g = {.first = 4096, .count = 4096, .issued = 1}, out;
	CHECK(!sl_rdata_grant_of(d, 4096, &out));
	sl_rdata_add_grant(d, &g);
	CHECK(sl_rdata_grant_of(d, 4096, &out) && out.issued == 1);
	CHECK(sl_rdata_grant_of(d, 8191, &out));
	CHECK(!sl_rdata_grant_of(d, 8192, &out) && !sl_rdata_grant_of(d, 4095, &out));
	/* newest first where ranges overlap (never, from one counter; but answers stay defined) */
	g.issued = 2;
	sl_rdata_add_grant(d, &g);
	CHECK(sl_rdata_grant_of(d, 5000, &out) && out.issued == 2);
	/* a ring: the first grants go once SL_RDATA_MAX_GRANTS newer ones came */
	for (uint64_t i = 0; i < SL_RDATA_MAX_GRANTS - 1; i++) {
		struct sl_slice_grant n = {.first = 1000000 + i * 10, .count = 10, .issued = 3};
		sl_rdata_add_grant(d, &n);
	}
	CHECK(sl_rdata_grant_of(d, 5000, &out) && out.issued == 2);
	struct sl_slice_grant last = {.first = 99999999, .count = 1, .issued = 4};
	sl_rdata_add_grant(d, &last);
	CHECK(!sl_rdata_grant_of(d, 5000, &out));
	CHECK(sl_rdata_grant_of(d, 1000000, &out) && sl_rdata_grant_of(d, 99999999, &out));
}

static void test_urls(struct sl_rdata *d)
{
	char out[64];
	CHECK(!sl_rdata_url_get(d, "GET", "v/k", 0, out, sizeof(out)));
	sl_rdata_url_put(d, "GET", "v/k", "http://h/v/k?sig=1", 1000);
	sl_rdata_url_put(d, "PUT", "v/k", "http://h/v/k?sig=2", 1000);
	CHECK(sl_rdata_url_get(d, "GET", "v/k", 999, out, sizeof(out)));
	CHECK(!strcmp(out, "http://h/v/k?sig=1"));
	CHECK(sl_rdata_url_get(d, "PUT", "v/k", 0, out, sizeof(out)));
	CHECK(!strcmp(out, "http://h/v/k?sig=2"));
	CHECK(!sl_rdata_url_get(d, "GET", "v/k", 1000, out, sizeof(out))); /* at its deadline */
	CHECK(!sl_rdata_url_get(d, "GET", "v/k", 0, out, 10));              /* does not fit */
	sl_rdata_url_put(d, "GET", "v/k", "http://h/v/k?sig=3", 5000);
	CHECK(sl_rdata_url_get(d, "GET", "v/k", 1000, out, sizeof(out)));
	CHECK(!strcmp(out, "http://h/v/k?sig=3"));
	/* bounded */
	for (int i = 0; i < SL_RDATA_MAX_URLS; i++) {
		char key[32];
		snprintf(key, sizeof(key), "v/%d", i);
		sl_rdata_url_put(d, "GET", key, "http://h/x", 5000);
	}
	CHECK(!sl_rdata_url_get(d, "GET", "v/k", 0, out, sizeof(out)));
	CHECK(sl_rdata_url_get(d, "GET", "v/0", 0, out, sizeof(out)));
	char longkey[SL_RPC_MAX_KEY + 40];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	sl_rdata_url_put(d, "GET", longkey, "http://h/x", 5000); /* too long to keep: ignored */
	CHECK(!sl_rdata_url_get(d, "GET", longkey, 0, out, sizeof(out)));
}

/* Many threads at once (ASan/TSan-style smoke test: no crash, answers stay consistent). */
static void *hammer(void *arg)
{
	struct sl_rdata *d = arg;
	char user[SL_RPC_MAX_USER + 1], url[64];
	for (uint64_t i = 0; i < 20000; i++) {
		sl_ino ino;
		uint32_t indx;
		sl_rdata_note_read(d, i % 5000, i % 5000, 1, "u");
		if (sl_rdata_read_of(d, i % 5000, &ino, &indx, user))
			CHECK(ino == i % 5000 && indx == 1);
		sl_rdata_url_put(d, "GET", "k", "http://h/k", 10);
		sl_rdata_url_get(d, "GET", "k", 0, url, sizeof(url));
	}
	return NULL;
}

int main(void)
{
	struct sl_rdata *d;
	REQUIRE(sl_rdata_new(&d) == 0);
	test_reads(d);
	test_grants(d);
	test_urls(d);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, hammer, d) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	sl_rdata_free(d);
	return tu_finish("test_meta_remote_data");
}
