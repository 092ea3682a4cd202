/*
 * remote_data.c - the gateway client's memory for presigned data access (remote_data.h): two
 * bounded LRU maps (slice id -> read context, method+key -> URL) and a ring of slice grants, each
 * under one lock. Forgetting is always safe: a missing read context makes the reader re-read the
 * chunk, a missing URL is asked for again; only a grant, once gone, cannot be had again (hence
 * the generous bound).
 */
#include "remote_data.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/lru.h"

/* ---- a bounded LRU map of byte keys to byte values (util/lru.h) ----------------------------- */

struct lru_ent {
	struct sl_lru_link link;
	size_t klen, vlen;
	unsigned char data[]; /* key, then value */
};

struct lru {
	struct sl_lru table;
	struct sl_lru_list uses;
	size_t max;
};

/* A lookup key. */
struct bytes {
	const void *p;
	size_t n;
};

static struct lru_ent *ent_of(struct sl_lru_link *l)
{
	return (struct lru_ent *)((char *)l - offsetof(struct lru_ent, link));
}

static bool ent_is(const struct sl_lru_link *l, const void *key)
{
	const struct lru_ent *e = ent_of((struct sl_lru_link *)l);
	const struct bytes *k = key;
	return e->klen == k->n && !memcmp(e->data, k->p, k->n);
}

static void ent_free(struct sl_lru_link *l, void *arg)
{
	(void)arg;
	free(ent_of(l));
}

static int lru_init(struct lru *l, size_t max)
{
	l->max = max;
	sl_lru_list_init(&l->uses);
	return sl_lru_init(&l->table, max < 64 ? 64 : max, max, ent_is);
}

static void lru_destroy(struct lru *l)
{
	sl_lru_clear(&l->table, ent_free, NULL);
	sl_lru_destroy(&l->table);
}

static struct lru_ent *lru_find(struct lru *l, const void *key, size_t klen, uint64_t *h)
{
	struct bytes k = {key, klen};
	*h = sl_lru_hash(SL_LRU_HASH_INIT, key, klen);
	struct sl_lru_link *found = sl_lru_find(&l->table, *h, &k);
	return found ? ent_of(found) : NULL;
}

static void lru_remove(struct lru *l, struct lru_ent *e)
{
	sl_lru_remove(&l->table, &e->link);
	free(e);
}

/* The value of key (touched as newest), or NULL; valid until the next change of the map. */
static const unsigned char *lru_get(struct lru *l, const void *key, size_t klen, size_t *vlen)
{
	uint64_t h;
	struct lru_ent *e = lru_find(l, key, klen, &h);
	if (!e)
		return NULL;
	sl_lru_touch(&l->uses, &e->link);
	*vlen = e->vlen;
	return e->data + e->klen;
}

/* Sets key to the concatenation of two value parts, evicting the oldest entry beyond the bound.
 * Out of memory: the map just does not learn it (every user copes with a missing entry). */
static void lru_put(struct lru *l, const void *key, size_t klen, const void *v1, size_t n1,
		    const void *v2, size_t n2)
{
	uint64_t h;
	struct lru_ent *e = lru_find(l, key, klen, &h);
	if (e)
		lru_remove(l, e);
	e = malloc(sizeof(*e) + klen + n1 + n2);
	if (!e)
		return;
	e->klen = klen;
	e->vlen = n1 + n2;
	memcpy(e->data, key, klen);
	memcpy(e->data + klen, v1, n1);
	if (n2)
		memcpy(e->data + klen + n1, v2, n2);
	e->link = (struct sl_lru_link){0};
	sl_lru_insert(&l->table, &e->link, h);
	sl_lru_touch(&l->uses, &e->link);
	if (l->table.count > l->max)
		lru_remove(l, ent_of(sl_lru_oldest(&l->uses)));
}

/* ---- the three memories --------------------------------------------------------------------- */

struct sl_rdata {
	pthread_mutex_t lock;
	struct lru reads;  /* u64 slice id -> struct read_ctx, then the user name (no NUL) */
	struct lru urls;   /* method NUL key -> int64 fresh-until, then the URL with its NUL */
	struct sl_slice_grant grants[SL_RDATA_MAX_GRANTS];
	size_t ngrants, next_grant; /* a ring: next_grant is where the next one goes */
};

struct read_ctx {
	sl_ino ino;
	uint32_t indx;
};

int sl_rdata_new(struct sl_rdata **out)
{
	*out = NULL;
	struct sl_rdata *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (lru_init(&d->reads, SL_RDATA_MAX_READS) || lru_init(&d->urls, SL_RDATA_MAX_URLS)) {
		lru_destroy(&d->reads);
		lru_destroy(&d->urls);
		free(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	*out = d;
	return 0;
}

void sl_rdata_free(struct sl_rdata *d)
{
	if (!d)
		return;
	lru_destroy(&d->reads);
	lru_destroy(&d->urls);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void sl_rdata_note_read(struct sl_rdata *d, uint64_t id, sl_ino ino, uint32_t indx,
			const char *user)
{
	struct read_ctx c = {.ino = ino, .indx = indx};
	size_t ulen = user ? strnlen(user, SL_RPC_MAX_USER) : 0;
	pthread_mutex_lock(&d->lock);
	lru_put(&d->reads, &id, sizeof(id), &c, sizeof(c), user, ulen);
	pthread_mutex_unlock(&d->lock);
}

bool sl_rdata_read_of(struct sl_rdata *d, uint64_t id, sl_ino *ino, uint32_t *indx,
		      char user[SL_RPC_MAX_USER + 1])
{
	size_t vlen = 0;
	pthread_mutex_lock(&d->lock);
	const unsigned char *v = lru_get(&d->reads, &id, sizeof(id), &vlen);
	if (v) {
		struct read_ctx c;
		memcpy(&c, v, sizeof(c));
		*ino = c.ino;
		*indx = c.indx;
		size_t ulen = vlen - sizeof(c);
		memcpy(user, v + sizeof(c), ulen);
		user[ulen] = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return v != NULL;
}

void sl_rdata_add_grant(struct sl_rdata *d, const struct sl_slice_grant *g)
{
	pthread_mutex_lock(&d->lock);
	d->grants[d->next_grant] = *g;
	d->next_grant = (d->next_grant + 1) % SL_RDATA_MAX_GRANTS;
	if (d->ngrants < SL_RDATA_MAX_GRANTS)
		d->ngrants++;
	pthread_mutex_unlock(&d->lock);
}

bool sl_rdata_grant_of(struct sl_rdata *d, uint64_t id, struct sl_slice_grant *out)
{
	bool found = false;
	pthread_mutex_lock(&d->lock);
	for (size_t k = 1; k <= d->ngrants && !found; k++) { /* newest first */
		const struct sl_slice_grant *g =
			&d->grants[(d->next_grant + SL_RDATA_MAX_GRANTS - k) % SL_RDATA_MAX_GRANTS];
		if (id >= g->first && id - g->first < g->count) {
			*out = *g;
			found = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return found;
}

/* "METHOD\0key" into buf (SL_RPC_MAX_KEY + 16 bytes); 0 if it does not fit. */
static size_t url_key(const char *method, const char *key, char *buf, size_t size)
{
	size_t ml = strlen(method) + 1, kl = strlen(key);
	if (ml + kl > size)
		return 0;
	memcpy(buf, method, ml);
	memcpy(buf + ml, key, kl);
	return ml + kl;
}

bool sl_rdata_url_get(struct sl_rdata *d, const char *method, const char *key, int64_t now_ms,
		      char *out, size_t size)
{
	char k[SL_RPC_MAX_KEY + 16];
	size_t kl = url_key(method, key, k, sizeof(k));
	if (!kl)
		return false;
	bool hit = false;
	size_t vlen = 0;
	pthread_mutex_lock(&d->lock);
	const unsigned char *v = lru_get(&d->urls, k, kl, &vlen);
	if (v) {
		int64_t until;
		memcpy(&until, v, sizeof(until));
		size_t ulen = vlen - sizeof(until); /* with its NUL */
		if (until > now_ms && ulen <= size) {
			memcpy(out, v + sizeof(until), ulen);
			hit = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return hit;
}

void sl_rdata_url_put(struct sl_rdata *d, const char *method, const char *key, const char *url,
		      int64_t fresh_until_ms)
{
	char k[SL_RPC_MAX_KEY + 16];
	size_t kl = url_key(method, key, k, sizeof(k));
	if (!kl)
		return;
	pthread_mutex_lock(&d->lock);
	lru_put(&d->urls, k, kl, &fresh_until_ms, sizeof(fresh_until_ms), url, strlen(url) + 1);
	pthread_mutex_unlock(&d->lock);
}
