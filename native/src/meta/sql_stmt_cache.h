/*
 * sql_stmt_cache.h - the idle prepared statements of one driver connection, found again by their
 * SQL text, the least recently used let go beyond a count: preparing costs a round trip (MySQL)
 * or a parse (SQLite) that most transactions would otherwise pay for every statement. Shared by
 * the drivers (sqlite_driver.c, mysql_driver.c) on util/lru. A driver's statement embeds a
 * struct sl_sql_idle; the cache frees none, it hands back what the driver must destroy. A
 * connection is used by one thread at a time, so there is no lock.
 */
#ifndef SL_SQL_STMT_CACHE_H
#define SL_SQL_STMT_CACHE_H

#include <stddef.h>

#include "../util/lru.h"

struct sl_sql_idle {
	struct sl_lru_link link;
	const char *sql; /* the statement's text, owned by the driver's statement */
};

struct sl_sql_stmt_cache {
	struct sl_lru table;
	struct sl_lru_list uses;
	size_t max;
};

/* 0, or -ENOMEM (destroy is then safe). */
int sl_sql_stmt_cache_init(struct sl_sql_stmt_cache *c, size_t max);
/* Frees the table; the driver empties it first (sl_sql_stmt_cache_evict until NULL). */
void sl_sql_stmt_cache_destroy(struct sl_sql_stmt_cache *c);
/* Takes the idle statement of sql out of the cache, or NULL when there is none. */
struct sl_sql_idle *sl_sql_stmt_cache_take(struct sl_sql_stmt_cache *c, const char *sql);
/* Keeps s (whose sql is set) idle; returns the statement that left to make room, or s itself
 * when one of the same text is idle already, for the driver to destroy; else NULL. */
struct sl_sql_idle *sl_sql_stmt_cache_keep(struct sl_sql_stmt_cache *c, struct sl_sql_idle *s);
/* Takes the least recently used statement out, or NULL when the cache is empty. */
struct sl_sql_idle *sl_sql_stmt_cache_evict(struct sl_sql_stmt_cache *c);
static inline size_t sl_sql_stmt_cache_count(const struct sl_sql_stmt_cache *c)
{
	return c->table.count;
}

#endif
