/*
 * lru.c - the intrusive hash table and use lists of lru.h. Buckets are singly linked chains
 * indexed by the low bits of the hash; a use list is circular around its head, so an entry
 * leaves it without knowing which list it is on.
 */
#include "lru.h"

#include <errno.h>
#include <stdlib.h>

uint64_t sl_lru_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n && p <= SIZE_MAX / 2)
		p *= 2;
	return p;
}

int sl_lru_init(struct sl_lru *t, size_t nbuckets, size_t max_buckets, sl_lru_eq_fn eq)
{
	size_t n = pow2_at_least(nbuckets);
	*t = (struct sl_lru){.nbuckets = n, .eq = eq};
	t->max_buckets = max_buckets < n ? n : pow2_at_least(max_buckets);
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		*t = (struct sl_lru){0}; /* clear and destroy stay harmless */
		return -ENOMEM;
	}
	return 0;
}

void sl_lru_destroy(struct sl_lru *t)
{
	free(t->buckets);
	*t = (struct sl_lru){0};
}

static struct sl_lru_link **bucket(const struct sl_lru *t, uint64_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

struct sl_lru_link *sl_lru_find(const struct sl_lru *t, uint64_t hash, const void *key)
{
	for (struct sl_lru_link *l = *bucket(t, hash); l; l = l->hnext)
		if (l->hash == hash && t->eq(l, key))
			return l;
	return NULL;
}

static void grow(struct sl_lru *t)
{
	size_t n = t->nbuckets * 2;
	struct sl_lru_link **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i]) {
			struct sl_lru_link *l = t->buckets[i];
			t->buckets[i] = l->hnext;
			l->hnext = b[l->hash & (n - 1)];
			b[l->hash & (n - 1)] = l;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

void sl_lru_insert(struct sl_lru *t, struct sl_lru_link *l, uint64_t hash)
{
	if (t->count >= t->nbuckets && t->nbuckets < t->max_buckets)
		grow(t);
	struct sl_lru_link **b = bucket(t, hash);
	l->hash = hash;
	l->hnext = *b;
	*b = l;
	t->count++;
}

void sl_lru_remove(struct sl_lru *t, struct sl_lru_link *l)
{
	struct sl_lru_link **pp = bucket(t, l->hash);
	while (*pp && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = l->hnext;
		t->count--;
	}
	l->hnext = NULL;
	sl_lru_unlink(l);
}

void sl_lru_clear(struct sl_lru *t, void (*release)(struct sl_lru_link *l, void *arg),
		  void *arg)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i]) {
			struct sl_lru_link *l = t->buckets[i];
			t->buckets[i] = l->hnext;
			l->hnext = l->older = l->newer = NULL;
			release(l, arg);
		}
	t->count = 0;
}

void sl_lru_list_init(struct sl_lru_list *u)
{
	u->head.older = u->head.newer = &u->head;
	u->head.hnext = NULL;
	u->head.hash = 0;
}

void sl_lru_unlink(struct sl_lru_link *l)
{
	if (!l->newer)
		return;
	l->older->newer = l->newer;
	l->newer->older = l->older;
	l->older = l->newer = NULL;
}

void sl_lru_touch(struct sl_lru_list *u, struct sl_lru_link *l)
{
	sl_lru_unlink(l);
	l->older = u->head.older;
	l->newer = &u->head;
	u->head.older->newer = l;
	u->head.older = l;
}

struct sl_lru_link *sl_lru_oldest(const struct sl_lru_list *u)
{
	return u->head.newer == &u->head ? NULL : u->head.newer;
}
