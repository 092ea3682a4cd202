/*
 * lru.h - the one hash table with use lists (least recently used first) that the caches share:
 * the block cache, the disk cache's index, the metadata cache and the gateway client's memories.
 * Intrusive: an entry embeds a struct sl_lru_link and belongs to its caller, who frees it; the
 * caller gives each entry's hash and an equality test against a lookup key. A table and its lists
 * are separate, so that an entry may be in the table without being evictable (a block being
 * loaded) and a cache may keep several lists over one table (one per disk). Not thread-safe: the
 * caller's lock guards a table and its lists.
 */
#ifndef SL_LRU_H
#define SL_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_lru_link {
	struct sl_lru_link *hnext;         /* the table's bucket chain */
	struct sl_lru_link *older, *newer; /* a use list; both NULL while on none */
	uint64_t hash;
};

/* Whether the entry of link l has the lookup key key (the table compares hashes first). */
typedef bool (*sl_lru_eq_fn)(const struct sl_lru_link *l, const void *key);

struct sl_lru {
	struct sl_lru_link **buckets;
	size_t nbuckets;     /* a power of two */
	size_t max_buckets;  /* the table doubles while count > nbuckets, up to this */
	size_t count;
	sl_lru_eq_fn eq;
};

/* A use list: an entry is on at most one; its oldest entry goes first. */
struct sl_lru_list {
	struct sl_lru_link head; /* head.newer is the oldest, head.older the newest */
};

/* FNV-1a, continued from h (start with SL_LRU_HASH_INIT): stable across runs and processes. */
#define SL_LRU_HASH_INIT 0xcbf29ce484222325ULL
uint64_t sl_lru_hash(uint64_t h, const void *p, size_t n);

/* nbuckets and max_buckets (SIZE_MAX: no limit) are rounded up to powers of two. 0, or -ENOMEM
 * with t left empty (clear and destroy do nothing). */
int sl_lru_init(struct sl_lru *t, size_t nbuckets, size_t max_buckets, sl_lru_eq_fn eq);
/* Frees the buckets, not the entries (sl_lru_clear first). */
void sl_lru_destroy(struct sl_lru *t);
/* The entry of key, or NULL. */
struct sl_lru_link *sl_lru_find(const struct sl_lru *t, uint64_t hash, const void *key);
/* Adds l (not on any list) under hash; a table that cannot grow just gets longer chains. The
 * caller makes sure no entry of the same key is in the table. */
void sl_lru_insert(struct sl_lru *t, struct sl_lru_link *l, uint64_t hash);
/* Takes l out of the table and off its list. */
void sl_lru_remove(struct sl_lru *t, struct sl_lru_link *l);
/* Empties the table, handing each entry to release (which may free it). Lists that held
 * entries must be initialised again. */
void sl_lru_clear(struct sl_lru *t, void (*release)(struct sl_lru_link *l, void *arg),
		  void *arg);

void sl_lru_list_init(struct sl_lru_list *u);
/* Makes l the newest entry of u (moving it from whatever list it was on). */
void sl_lru_touch(struct sl_lru_list *u, struct sl_lru_link *l);
/* Takes l off its list, if it is on one. */
void sl_lru_unlink(struct sl_lru_link *l);
static inline bool sl_lru_listed(const struct sl_lru_link *l)
{
	return l->newer != NULL;
}
/* The least recently used entry of u, or NULL when u is empty. */
struct sl_lru_link *sl_lru_oldest(const struct sl_lru_list *u);

#endif
