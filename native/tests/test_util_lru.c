/*
 * test_util_lru.c - the caches' hash table and use lists (util/lru.c): lookups by hash and key,
 * use order and eviction of the oldest, removal from the middle, growth of the table with every
 * entry still found, clearing, several lists over one table, and the hash's stable values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/lru.h"

struct item {
	struct sl_lru_link link; /* first: a link is its item */
	uint64_t key;
	int released;
};

static bool item_eq(const struct sl_lru_link *l, const void *key)
{
	return ((const struct item *)l)->key == *(const uint64_t *)key;
}

static uint64_t hash_of(uint64_t key)
{
	return sl_lru_hash(SL_LRU_HASH_INIT, &key, sizeof(key));
}

static struct item *find(struct sl_lru *t, uint64_t key)
{
	return (struct item *)sl_lru_find(t, hash_of(key), &key);
}

static void put(struct sl_lru *t, struct sl_lru_list *u, struct item *it, uint64_t key)
{
	memset(it, 0, sizeof(*it));
	it->key = key;
	sl_lru_insert(t, &it->link, hash_of(key));
	sl_lru_touch(u, &it->link);
}

static uint64_t oldest_key(struct sl_lru_list *u)
{
	struct sl_lru_link *l = sl_lru_oldest(u);
	return l ? ((struct item *)l)->key : UINT64_MAX;
}

/* FNV-1a 64 of the published test strings: the disk cache picks a directory by it, so a change
 * would move every cached block after an upgrade. */
static void test_hash(void)
{
	CHECK(sl_lru_hash(SL_LRU_HASH_INIT, "", 0) == 0xcbf29ce484222325ULL);
	CHECK(sl_lru_hash(SL_LRU_HASH_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(sl_lru_hash(SL_LRU_HASH_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
	/* continued hashing equals hashing the concatenation */
	CHECK(sl_lru_hash(sl_lru_hash(SL_LRU_HASH_INIT, "foo", 3), "bar", 3) ==
	      sl_lru_hash(SL_LRU_HASH_INIT, "foobar", 6));
}

static void test_insert_lookup_order(void)
{
	struct sl_lru t;
	struct sl_lru_list u;
	REQUIRE(sl_lru_init(&t, 4, 4, item_eq) == 0);
	sl_lru_list_init(&u);
	CHECK(sl_lru_oldest(&u) == NULL);
	CHECK(find(&t, 1) == NULL);

	struct item it[6];
	for (uint64_t k = 0; k < 6; k++)
		put(&t, &u, &it[k], k + 10);
	CHECK_RC(t.count, 6);
	CHECK_RC(t.nbuckets, 4); /* max_buckets 4: chains get longer instead */
	for (uint64_t k = 0; k < 6; k++)
		CHECK(find(&t, k + 10) == &it[k]);
	CHECK(find(&t, 99) == NULL);

	/* use order: 10 is the oldest until touched, then 11 */
	CHECK_RC(oldest_key(&u), 10);
	sl_lru_touch(&u, &it[0].link);
	CHECK_RC(oldest_key(&u), 11);

	/* evicting the oldest ones, one by one, in use order */
	uint64_t expect[] = {11, 12, 13};
	for (size_t i = 0; i < 3; i++) {
		struct sl_lru_link *l = sl_lru_oldest(&u);
		REQUIRE(l != NULL);
		CHECK_RC(((struct item *)l)->key, expect[i]);
		sl_lru_remove(&t, l);
		CHECK(!sl_lru_listed(l));
		CHECK(find(&t, expect[i]) == NULL);
	}
	CHECK_RC(t.count, 3);

	/* removal from the middle of the list and of a chain */
	sl_lru_remove(&t, &it[5].link);
	CHECK(find(&t, 15) == NULL);
	CHECK(find(&t, 14) == &it[4]);
	CHECK(find(&t, 10) == &it[0]);
	CHECK_RC(oldest_key(&u), 14);
	CHECK_RC(t.count, 2);

	/* off the list but still in the table (a block being loaded): found, never evicted */
	sl_lru_unlink(&it[4].link);
	CHECK(!sl_lru_listed(&it[4].link));
	sl_lru_unlink(&it[4].link); /* twice is harmless */
	CHECK(find(&t, 14) == &it[4]);
	CHECK_RC(oldest_key(&u), 10);
	sl_lru_remove(&t, &it[0].link);
	CHECK(sl_lru_oldest(&u) == NULL);
	CHECK(find(&t, 14) == &it[4]);
	sl_lru_remove(&t, &it[4].link);
	CHECK_RC(t.count, 0);
	sl_lru_destroy(&t);
}

/* The table doubles as it fills, up to max_buckets, and every entry stays findable. */
static void test_resize(void)
{
	enum { N = 5000 };
	struct sl_lru t;
	struct sl_lru_list u;
	REQUIRE(sl_lru_init(&t, 3, 1000, item_eq) == 0);
	sl_lru_list_init(&u);
	CHECK_RC(t.nbuckets, 4);
	CHECK_RC(t.max_buckets, 1024);
	struct item *it = calloc(N, sizeof(*it));
	REQUIRE(it != NULL);
	size_t grew_at = 0;
	for (uint64_t k = 0; k < N; k++) {
		size_t before = t.nbuckets;
		put(&t, &u, &it[k], k * 7919);
		if (t.nbuckets != before && !grew_at)
			grew_at = (size_t)k;
		if (k == 100)
			for (uint64_t j = 0; j <= k; j++)
				CHECK(find(&t, j * 7919) == &it[j]);
	}
	CHECK_RC(grew_at, 4); /* the fifth entry found four entries in four buckets */
	CHECK_RC(t.nbuckets, 1024);
	CHECK_RC(t.count, N);
	size_t missing = 0;
	for (uint64_t k = 0; k < N; k++)
		missing += find(&t, k * 7919) != &it[k];
	CHECK_RC(missing, 0);
	/* the use list is unaffected by the rehashing */
	CHECK_RC(oldest_key(&u), 0);
	for (uint64_t k = 0; k < N; k += 2)
		sl_lru_remove(&t, &it[k].link);
	CHECK_RC(t.count, N / 2);
	CHECK_RC(oldest_key(&u), 7919);
	for (uint64_t k = 1; k < N; k += 2)
		CHECK(find(&t, k * 7919) == &it[k]);
	free(it);
	sl_lru_destroy(&t);
}

static void release(struct sl_lru_link *l, void *arg)
{
	((struct item *)l)->released++;
	(*(int *)arg)++;
}

/* Two lists over one table (the disk cache keeps one per directory), then clear. */
static void test_lists_and_clear(void)
{
	struct sl_lru t;
	struct sl_lru_list a, b;
	REQUIRE(sl_lru_init(&t, 16, 16, item_eq) == 0);
	sl_lru_list_init(&a);
	sl_lru_list_init(&b);
	struct item it[4];
	put(&t, &a, &it[0], 1);
	put(&t, &b, &it[1], 2);
	put(&t, &a, &it[2], 3);
	put(&t, &b, &it[3], 4);
	CHECK_RC(oldest_key(&a), 1);
	CHECK_RC(oldest_key(&b), 2);
	/* touching onto another list moves it */
	sl_lru_touch(&b, &it[0].link);
	CHECK_RC(oldest_key(&a), 3);
	sl_lru_remove(&t, &it[1].link);
	CHECK_RC(oldest_key(&b), 4);
	sl_lru_remove(&t, &it[3].link);
	CHECK_RC(oldest_key(&b), 1);

	int n = 0;
	sl_lru_clear(&t, release, &n);
	CHECK_RC(n, 2);
	CHECK_RC(it[0].released, 1);
	CHECK_RC(it[2].released, 1);
	CHECK_RC(it[1].released, 0);
	CHECK_RC(t.count, 0);
	CHECK(find(&t, 1) == NULL && find(&t, 3) == NULL);
	/* usable again after clearing */
	sl_lru_list_init(&a);
	put(&t, &a, &it[1], 2);
	CHECK(find(&t, 2) == &it[1]);
	CHECK_RC(oldest_key(&a), 2);
	sl_lru_destroy(&t);
}

int main(void)
{
	test_hash();
	test_insert_lookup_order();
	test_resize();
	test_lists_and_clear();
	return tu_finish("test_util_lru");
}
