/*
 * sql_stmt_cache.c - the drivers' cache of idle prepared statements (sql_stmt_cache.h).
 */
#include "sql_stmt_cache.h"

#include <stdint.h>
#include <string.h>

/* Idle statements per connection are at most a few hundred. */
#define BUCKETS 64
#define MAX_BUCKETS 1024

static bool same_sql(const struct sl_lru_link *l, const void *sql)
{
	const struct sl_sql_idle *s = (const struct sl_sql_idle *)l;
	return !strcmp(s->sql, sql);
}

static uint64_t hash_of(const char *sql)
{
	return sl_lru_hash(SL_LRU_HASH_INIT, sql, strlen(sql));
}

int sl_sql_stmt_cache_init(struct sl_sql_stmt_cache *c, size_t max)
{
	c->max = max;
	sl_lru_list_init(&c->uses);
	return sl_lru_init(&c->table, BUCKETS, MAX_BUCKETS, same_sql);
}

void sl_sql_stmt_cache_destroy(struct sl_sql_stmt_cache *c)
{
	sl_lru_destroy(&c->table);
}

struct sl_sql_idle *sl_sql_stmt_cache_take(struct sl_sql_stmt_cache *c, const char *sql)
{
	struct sl_lru_link *l = sl_lru_find(&c->table, hash_of(sql), sql);
	if (l)
		sl_lru_remove(&c->table, l);
	return (struct sl_sql_idle *)l;
}

struct sl_sql_idle *sl_sql_stmt_cache_keep(struct sl_sql_stmt_cache *c, struct sl_sql_idle *s)
{
	uint64_t h = hash_of(s->sql);
	/* a connection that had two of one text open at once keeps one of them */
	if (sl_lru_find(&c->table, h, s->sql))
		return s;
	struct sl_sql_idle *gone = c->table.count >= c->max ? sl_sql_stmt_cache_evict(c) : NULL;
	sl_lru_insert(&c->table, &s->link, h);
	sl_lru_touch(&c->uses, &s->link);
	return gone;
}

struct sl_sql_idle *sl_sql_stmt_cache_evict(struct sl_sql_stmt_cache *c)
{
	struct sl_lru_link *l = sl_lru_oldest(&c->uses);
	if (l)
		sl_lru_remove(&c->table, l);
	return (struct sl_sql_idle *)l;
}
