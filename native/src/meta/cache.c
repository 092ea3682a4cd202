/*
 * cache.c - the metadata cache: a stage of the metadata core (calls.c puts it between
 * sl_meta_SLOT and the backend) that answers getattr, resolve, lookup and read_chunk from memory
 * within their TTLs (attr-cache, entry-cache, dir-entry-cache, open-cache); the other slots pass
 * it by. Off unless sl_meta_cache_enable.
 *
 * The contract: a handle sees its OWN changes at once, because every mutating slot called
 * through the core invalidates, after the backend returns (whatever it returned), what it may
 * have changed; another client's change may be seen up to a TTL late, counted from the moment
 * the cached value was fetched.
 *
 * What is kept, in one hash table with one use list (least recently used evicted first, at most
 * max_entries entries and MAX_BYTES bytes):
 *   K_NODE  inode -> its attributes (served while attr-cache lasts) and a generation `gen`
 *   K_CHUNK (inode, chunk index) -> slice list, tagged with the K_NODE gen it was fetched under
 *   K_PATH  (identity, path) -> inode;  K_NAME (identity, parent, name) -> inode
 *   K_USER  identity (uid, superuser flag, gids in order) -> a small id used in the keys above
 * Path and name entries are keyed by the caller's identity, so the permission checks the backend
 * made along the path are reused only for the same uid/gids/superuser; they hold no attributes.
 *
 * Invalidation, cheapest first:
 *   drop_node(ino)  one inode's data or attributes changed (write_chunk, truncate, setattr,
 *                   compact_chunk, release, delete_file_data, xattrs): its K_NODE record goes,
 *                   and with it, lazily, its slice lists (their gen no longer matches).
 *   drop_names()    the namespace changed (mknod, unlink, rmdir, rename, remove_tree, concat,
 *                   a directory's mode/owner/group): `ngen` moves on, so every path/name entry
 *                   and every cached attribute is stale at once; slice lists survive, since a
 *                   rename or unlink changes no file's data.
 *   drop_all()      format: everything is freed.
 * A reader that finds a block missing calls sl_meta_cache_forget (= drop_node): another
 * client's compaction may have deleted the slices of a list cached here, which changes no
 * attribute and so cannot be noticed otherwise.
 *
 * Invariants:
 *  1. A fill (a miss answered by the backend) is stored only if `seq` did not move since the
 *     miss; every invalidation moves it. So a value read before one of our own changes committed
 *     is never stored after that change invalidated the cache.
 *  2. A K_NODE record's gen changes whenever the length, mtime or ctime it holds change, and a
 *     new record gets a gen never used before. A slice list is served only under the gen it was
 *     fetched under, and that gen existed before the fetch began, so the list is at least as new
 *     as the attributes the cache holds: a reader is never given a length beyond what its slice
 *     lists cover (which would read as zeros). A fresh attribute that cannot be stored (invariant
 *     1) and differs from the record removes the record instead.
 *  3. The backend is never called with the lock held.
 */
#include "meta.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/lru.h"

#define MIN_BUCKETS 256
#define MAX_BUCKETS (1u << 18)
#define MAX_BYTES (64u << 20) /* a slice list may be 64 KiB: bound the memory, not only the count */
#define NS_PER_S 1000000000LL

enum kind { K_USER = 1, K_NODE, K_CHUNK, K_PATH, K_NAME };

struct centry {
	struct sl_lru_link link; /* in the table and on the use list */
	uint8_t kind;
	uint64_t who;    /* K_PATH, K_NAME: the caller's identity id */
	sl_ino ino;      /* K_NODE, K_CHUNK: the inode; K_NAME: the parent */
	uint32_t indx;   /* K_CHUNK */
	int64_t born_ns; /* when the fetch of the value began (the clock's mono ns) */
	uint64_t ngen;   /* K_NODE attributes, K_PATH, K_NAME: valid only while == cache ngen */
	size_t bytes;
	union {
		uint64_t id; /* K_USER */
		struct {
			struct sl_attr attr;
			bool has_attr; /* false: a record made only to anchor slice lists */
			uint64_t gen;
		} node;
		struct {
			struct sl_slice *s;
			size_t n;
			uint64_t gen;
		} chunk;
		struct {
			sl_ino ino;
			bool dir;
		} ent;
	} v;
	size_t klen;
	unsigned char key[]; /* K_USER: identity bytes; K_PATH: the path; K_NAME: the name */
};

struct sl_meta_cache {
	const struct sl_clock *clock; /* the handle's: entries age by it */
	int64_t attr_ns, entry_ns, dir_entry_ns, open_ns;
	size_t max_entries;

	pthread_mutex_t lock; /* guards everything below */
	struct sl_lru entries;
	struct sl_lru_list uses;
	size_t bytes;
	uint64_t seq;      /* moves on every invalidation (invariant 1) */
	uint64_t ngen;     /* moves on every namespace change */
	uint64_t next_gen; /* K_NODE generations, never reused */
	uint64_t next_who; /* identity ids, never reused */
	uint64_t hits, misses;
};

/* The key of an entry, for lookups. */
struct ckey {
	uint8_t kind;
	uint64_t who;
	sl_ino ino;
	uint32_t indx;
	const void *key;
	size_t klen;
};

static bool fresh(const struct centry *e, int64_t ttl_ns, int64_t now)
{
	return ttl_ns > 0 && now - e->born_ns < ttl_ns;
}

/* ---- the table (all under c->lock) ---------------------------------------------------------- */

static uint64_t key_hash(const struct ckey *k)
{
	uint64_t h = sl_lru_hash(SL_LRU_HASH_INIT, &k->kind, sizeof(k->kind));
	h = sl_lru_hash(h, &k->who, sizeof(k->who));
	h = sl_lru_hash(h, &k->ino, sizeof(k->ino));
	h = sl_lru_hash(h, &k->indx, sizeof(k->indx));
	if (k->klen)
		h = sl_lru_hash(h, k->key, k->klen);
	return h ^ (h >> 31);
}

static struct centry *entry_of(struct sl_lru_link *l)
{
	return l ? (struct centry *)((char *)l - offsetof(struct centry, link)) : NULL;
}

static bool key_eq(const struct sl_lru_link *l, const void *key)
{
	const struct centry *e = entry_of((struct sl_lru_link *)l);
	const struct ckey *k = key;
	return e->kind == k->kind && e->who == k->who && e->ino == k->ino &&
	       e->indx == k->indx && e->klen == k->klen &&
	       (!k->klen || !memcmp(e->key, k->key, k->klen));
}

static struct centry *find(struct sl_meta_cache *c, const struct ckey *k)
{
	return entry_of(sl_lru_find(&c->entries, key_hash(k), k));
}

/* A new entry for key k, not yet in the table; extra bytes are charged for owned memory. */
static struct centry *entry_new(const struct ckey *k, size_t extra)
{
	struct centry *e = calloc(1, sizeof(*e) + k->klen);
	if (!e)
		return NULL;
	e->kind = k->kind;
	e->who = k->who;
	e->ino = k->ino;
	e->indx = k->indx;
	e->klen = k->klen;
	if (k->klen)
		memcpy(e->key, k->key, k->klen);
	e->bytes = sizeof(*e) + k->klen + extra;
	return e;
}

static void entry_free(struct centry *e)
{
	if (e && e->kind == K_CHUNK)
		free(e->v.chunk.s);
	free(e);
}

static void touch(struct sl_meta_cache *c, struct centry *e)
{
	sl_lru_touch(&c->uses, &e->link);
}

static void entry_remove(struct sl_meta_cache *c, struct centry *e)
{
	sl_lru_remove(&c->entries, &e->link);
	c->bytes -= e->bytes;
	entry_free(e);
}

/* Puts e in the table (replacing an entry with the same key) and evicts the least recently used
 * entries over the limits, never e itself. */
static void insert(struct sl_meta_cache *c, struct centry *e)
{
	struct ckey k = {e->kind, e->who, e->ino, e->indx, e->key, e->klen};
	struct centry *old = find(c, &k);
	if (old)
		entry_remove(c, old);
	sl_lru_insert(&c->entries, &e->link, key_hash(&k));
	touch(c, e);
	c->bytes += e->bytes;
	struct centry *oldest;
	while ((c->entries.count > c->max_entries || c->bytes > MAX_BYTES) &&
	       (oldest = entry_of(sl_lru_oldest(&c->uses))) != e)
		entry_remove(c, oldest);
}

static void release_entry(struct sl_lru_link *l, void *arg)
{
	(void)arg;
	entry_free(entry_of(l));
}

static void clear_all(struct sl_meta_cache *c)
{
	sl_lru_clear(&c->entries, release_entry, NULL);
	sl_lru_list_init(&c->uses);
	c->bytes = 0;
}

/* The id of the caller's identity (made on first sight); 0 if out of memory (do not cache). */
static uint64_t user_id(struct sl_meta_cache *c, const struct sl_meta_user *u)
{
	unsigned char buf[1 + 2 * sizeof(uint32_t) + SL_MAX_GROUPS * sizeof(uint32_t)];
	size_t len = 1;
	if (!u) {
		buf[0] = 2; /* no caller: the backend checks nothing */
	} else {
		uint32_t ngids = u->ngids < 0 ? 0 : u->ngids > SL_MAX_GROUPS ? SL_MAX_GROUPS
									  : (uint32_t)u->ngids;
		buf[0] = u->superuser ? 1 : 0;
		memcpy(buf + len, &u->uid, sizeof(u->uid));
		len += sizeof(u->uid);
		memcpy(buf + len, &ngids, sizeof(ngids));
		len += sizeof(ngids);
		memcpy(buf + len, u->gids, ngids * sizeof(u->gids[0]));
		len += ngids * sizeof(u->gids[0]);
	}
	struct ckey k = {.kind = K_USER, .key = buf, .klen = len};
	struct centry *e = find(c, &k);
	if (e) {
		touch(c, e);
		return e->v.id;
	}
	if (!(e = entry_new(&k, 0)))
		return 0;
	e->v.id = ++c->next_who;
	insert(c, e);
	return e->v.id;
}

static struct centry *find_node(struct sl_meta_cache *c, sl_ino ino)
{
	struct ckey k = {.kind = K_NODE, .ino = ino};
	return find(c, &k);
}

/* The cached attributes of ino if attr-cache allows serving them now. */
static bool attr_hit(struct sl_meta_cache *c, sl_ino ino, int64_t now, struct sl_attr *out)
{
	if (!c->attr_ns)
		return false;
	struct centry *e = find_node(c, ino);
	if (!e || !e->v.node.has_attr || e->ngen != c->ngen || !fresh(e, c->attr_ns, now))
		return false;
	*out = e->v.node.attr;
	touch(c, e);
	return true;
}

static bool same_stamp(const struct sl_attr *a, const struct sl_attr *b)
{
	return a->length == b->length && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* ---- invalidation ------------------------------------------------------------------------------ */

static void drop_node(struct sl_meta_cache *c, sl_ino ino)
{
	pthread_mutex_lock(&c->lock);
	struct centry *e = find_node(c, ino);
	if (e)
		entry_remove(c, e);
	c->seq++;
	pthread_mutex_unlock(&c->lock);
}

static void drop_names(struct sl_meta_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->ngen++;
	c->seq++;
	pthread_mutex_unlock(&c->lock);
}

static void drop_all(struct sl_meta_cache *c)
{
	pthread_mutex_lock(&c->lock);
	clear_all(c);
	c->ngen++;
	c->seq++;
	pthread_mutex_unlock(&c->lock);
}

/* ---- fills ------------------------------------------------------------------------------------- */

struct fill {
	int64_t born; /* taken before the backend call */
	uint64_t seq;
};

static struct fill fill_begin(struct sl_meta_cache *c)
{
	struct fill f = {.born = sl_clock_mono_ns(c->clock)};
	pthread_mutex_lock(&c->lock);
	f.seq = c->seq;
	pthread_mutex_unlock(&c->lock);
	return f;
}

/* Records attributes fresh from the backend (invariant 2). Node records are kept whenever
 * attr-cache or open-cache is on: open-cache needs them to notice that a file changed. */
static void learn(struct sl_meta_cache *c, sl_ino ino, const struct sl_attr *attr, struct fill f)
{
	if (!c->attr_ns && !c->open_ns)
		return;
	pthread_mutex_lock(&c->lock);
	struct centry *e = find_node(c, ino);
	/* nlink 0: unlinked but still open, or an entry without its node; neither is cached */
	bool keep = attr->nlink > 0 && c->seq == f.seq;
	bool changed = !e || !e->v.node.has_attr || !same_stamp(&e->v.node.attr, attr);
	if (!keep) {
		if (e && (changed || attr->nlink == 0))
			entry_remove(c, e);
	} else if (e) {
		if (changed)
			e->v.node.gen = ++c->next_gen;
		if (!e->v.node.has_attr || e->ngen != c->ngen || f.born >= e->born_ns) {
			e->v.node.attr = *attr;
			e->v.node.has_attr = true;
			e->born_ns = f.born;
			e->ngen = c->ngen;
		}
		touch(c, e);
	} else {
		struct ckey k = {.kind = K_NODE, .ino = ino};
		if ((e = entry_new(&k, 0))) {
			e->v.node.attr = *attr;
			e->v.node.has_attr = true;
			e->v.node.gen = ++c->next_gen;
			e->born_ns = f.born;
			e->ngen = c->ngen;
			insert(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

/* Records a path or name entry fresh from the backend. */
static void store_entry(struct sl_meta_cache *c, const struct ckey *k, sl_ino ino, bool dir,
			struct fill f)
{
	if (!(dir ? c->dir_entry_ns : c->entry_ns) || !k->who)
		return;
	struct centry *e = entry_new(k, 0);
	if (!e)
		return;
	e->v.ent.ino = ino;
	e->v.ent.dir = dir;
	e->born_ns = f.born;
	pthread_mutex_lock(&c->lock);
	if (c->seq == f.seq) {
		e->ngen = c->ngen;
		insert(c, e);
		e = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	entry_free(e);
}

/* ---- cached slots ------------------------------------------------------------------------------ */

static int c_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	struct fill f = {.born = sl_clock_mono_ns(c->clock)};
	pthread_mutex_lock(&c->lock);
	if (attr_hit(c, ino, f.born, attr)) {
		c->hits++;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (c->attr_ns)
		c->misses++;
	f.seq = c->seq;
	pthread_mutex_unlock(&c->lock);
	int rc = m->be->getattr(m, u, ino, attr, err);
	if (!rc) {
		learn(c, ino, attr, f);
	} else if (rc == -ENOENT) {
		pthread_mutex_lock(&c->lock);
		struct centry *e = find_node(c, ino);
		if (e)
			entry_remove(c, e);
		pthread_mutex_unlock(&c->lock);
	}
	return rc;
}

/*
 * resolve and lookup share this: k is the entry's key without its identity. A hit gives the
 * inode; its attributes come from the node record when attr-cache allows, else from the
 * backend. An inode that has gone (another client removed it) drops the entry and the full
 * lookup runs instead.
 */
static int entry_cached(struct sl_meta_cache *c, struct sl_meta *m, const struct sl_meta_user *u,
			struct ckey *k, sl_ino *ino, struct sl_attr *attr, struct fill *f,
			bool *done, struct sl_err *err)
{
	*done = false;
	f->born = sl_clock_mono_ns(c->clock);
	sl_ino hit = 0;
	pthread_mutex_lock(&c->lock);
	k->who = user_id(c, u);
	struct centry *e = k->who ? find(c, k) : NULL;
	if (e) {
		int64_t ttl = e->v.ent.dir ? c->dir_entry_ns : c->entry_ns;
		if (e->ngen == c->ngen && fresh(e, ttl, f->born)) {
			hit = e->v.ent.ino;
			touch(c, e);
		} else {
			entry_remove(c, e);
		}
	}
	if (hit && attr_hit(c, hit, f->born, attr)) {
		c->hits++;
		pthread_mutex_unlock(&c->lock);
		*ino = hit;
		*done = true;
		return 0;
	}
	if (hit)
		c->hits++;
	else
		c->misses++;
	f->seq = c->seq;
	pthread_mutex_unlock(&c->lock);
	if (!hit)
		return 0;

	int rc = m->be->getattr(m, u, hit, attr, err);
	if (rc != -ENOENT) {
		if (!rc) {
			learn(c, hit, attr, *f);
			*ino = hit;
		}
		*done = true;
		return rc;
	}
	sl_err_clear(err);
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, k)) && e->v.ent.ino == hit)
		entry_remove(c, e);
	if ((e = find_node(c, hit)))
		entry_remove(c, e);
	pthread_mutex_unlock(&c->lock);
	*f = fill_begin(c);
	return 0;
}

static int c_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
		     sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	struct ckey k = {.kind = K_PATH, .key = path, .klen = path ? strlen(path) : 0};
	struct fill f;
	int rc = 0;
	if (path && (c->entry_ns || c->dir_entry_ns)) {
		bool done;
		rc = entry_cached(c, m, u, &k, ino, attr, &f, &done, err);
		if (done)
			return rc;
	} else {
		f = fill_begin(c);
	}
	rc = m->be->resolve(m, u, path, ino, attr, err);
	if (!rc) {
		learn(c, *ino, attr, f);
		if (path)
			store_entry(c, &k, *ino, attr->type == SL_TYPE_DIR, f);
	}
	return rc;
}

static int c_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		    const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	struct ckey k = {.kind = K_NAME, .ino = parent, .key = name, .klen = name ? strlen(name) : 0};
	struct fill f;
	int rc = 0;
	if (name && (c->entry_ns || c->dir_entry_ns)) {
		bool done;
		rc = entry_cached(c, m, u, &k, ino, attr, &f, &done, err);
		if (done)
			return rc;
	} else {
		f = fill_begin(c);
	}
	rc = m->be->lookup(m, u, parent, name, ino, attr, err);
	/* nlink 0: the entry exists without its node (a damaged volume); report, do not keep */
	if (!rc && attr->nlink > 0) {
		learn(c, *ino, attr, f);
		if (name)
			store_entry(c, &k, *ino, attr->type == SL_TYPE_DIR, f);
	}
	return rc;
}

static int c_read_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			sl_ino ino, uint32_t indx, struct sl_slice **slices,
			size_t *n, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	if (!c->open_ns || u) { /* lists are cached without a caller: only for checked opens */
		int rc = m->be->read_chunk(m, u, ino, indx, slices, n, err);
		if (rc == -ESTALE) /* deleted elsewhere: its path is looked up again next time */
			drop_node(c, ino);
		return rc;
	}
	*slices = NULL;
	*n = 0;
	struct fill f = {.born = sl_clock_mono_ns(c->clock)};
	struct ckey k = {.kind = K_CHUNK, .ino = ino, .indx = indx};
	pthread_mutex_lock(&c->lock);
	struct centry *node = find_node(c, ino), *e = find(c, &k);
	if (e && node && node->v.node.gen == e->v.chunk.gen && fresh(e, c->open_ns, f.born)) {
		struct sl_slice *copy = NULL;
		if (e->v.chunk.n && !(copy = malloc(e->v.chunk.n * sizeof(*copy)))) {
			pthread_mutex_unlock(&c->lock);
			return sl_errf(err, -ENOMEM, "out of memory");
		}
		if (copy)
			memcpy(copy, e->v.chunk.s, e->v.chunk.n * sizeof(*copy));
		*slices = copy;
		*n = e->v.chunk.n;
		touch(c, node);
		touch(c, e);
		c->hits++;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	c->misses++;
	if (e)
		entry_remove(c, e);
	if (node) {
		touch(c, node); /* its slice lists live only as long as it does */
	} else {
		/* the anchor for the slice list: its gen exists before the fetch (invariant 2) */
		struct ckey nk = {.kind = K_NODE, .ino = ino};
		if ((node = entry_new(&nk, 0))) {
			node->v.node.gen = ++c->next_gen;
			node->born_ns = f.born;
			insert(c, node);
		}
	}
	uint64_t gen = node ? node->v.node.gen : 0;
	f.seq = c->seq;
	pthread_mutex_unlock(&c->lock);

	int rc = m->be->read_chunk(m, u, ino, indx, slices, n, err);
	if (rc == -ESTALE)
		drop_node(c, ino);
	if (rc || !gen)
		return rc;
	size_t sz = *n * sizeof(struct sl_slice);
	if (!(e = entry_new(&k, sz)))
		return 0;
	if (*n && !(e->v.chunk.s = malloc(sz))) {
		free(e);
		return 0;
	}
	if (*n)
		memcpy(e->v.chunk.s, *slices, sz);
	e->v.chunk.n = *n;
	e->v.chunk.gen = gen;
	e->born_ns = f.born;
	pthread_mutex_lock(&c->lock);
	node = find_node(c, ino);
	if (c->seq == f.seq && node && node->v.node.gen == gen) {
		touch(c, node);
		insert(c, e);
		e = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	entry_free(e);
	return 0;
}

/* ---- mutating slots: forward, then invalidate whatever the outcome ---------------------------- */

static int c_format(struct sl_meta *m, const char *json, const struct sl_attr *root, bool force,
		    struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->format(m, json, root, force, err);
	drop_all(c);
	return rc;
}

static int c_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		     const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->setattr(m, u, ino, set, in, out, err);
	drop_node(c, ino);
	/* a directory's mode or owner decides who may search it: cached paths below may change */
	if (rc || (out->type == SL_TYPE_DIR && (set & (SL_SET_MODE | SL_SET_UID | SL_SET_GID))))
		drop_names(c);
	return rc;
}

static int c_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		     enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		     struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->setfacl(m, u, ino, op, spec, n, attr, err);
	drop_node(c, ino);
	drop_names(c); /* an ACL, like the mode, decides who may search a directory */
	return rc;
}

static int c_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
		   sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->mknod(m, u, parent, name, type, mode, flags, target, ino, attr,
				 replaced, err);
	drop_names(c);
	return rc;
}

static int c_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			  const char *name, uint16_t mode, int flags, uint64_t sid,
			  struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			  struct sl_removed *replaced, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->mknod_leased(m, u, parent, name, mode, flags, sid, lease, ino, attr,
				     replaced, err);
	drop_names(c);
	return rc;
}

static int c_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		    const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->unlink(m, u, parent, name, removed, err);
	drop_names(c);
	return rc;
}

static int c_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->rmdir(m, u, parent, name, err);
	drop_names(c);
	return rc;
}

static int c_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
		    const char *nsrc, sl_ino pdst, const char *ndst, int flags,
		    struct sl_removed *replaced, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->rename(m, u, psrc, nsrc, pdst, ndst, flags, replaced, err);
	drop_names(c);
	return rc;
}

static int c_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, sl_meta_removed_cb removed, void *arg,
			 struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->remove_tree(m, u, parent, name, removed, arg, err);
	drop_names(c);
	return rc;
}

static int c_load(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err)
{
	int rc = m->be->load(m, d, err);
	drop_names(m->cache);
	return rc;
}

/* A repair may make a directory's node anew and change its link count. */
static int c_check_dir(struct sl_meta *m, sl_ino parent, sl_ino ino,
		       const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
		       struct sl_err *err)
{
	int rc = m->be->check_dir(m, parent, ino, repair, out, err);
	if (repair)
		drop_node(m->cache, ino);
	return rc;
}

/* A snapshot's creation changes its directory's flags, its deletion removes a tree. */
static int c_snapshot(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
		      sl_ino dir, const char *name, const char *new_name,
		      sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
		      struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->snapshot(m, u, op, dir, name, new_name, removed, arg, ino, attr, err);
	if (op != SL_SNAP_LOOKUP) {
		drop_node(c, dir);
		drop_names(c);
	}
	return rc;
}

static int c_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			 const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			 const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			 struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->write_chunk(m, u, lease, ino, indx, s, mtime_ns, attr, err);
	drop_node(c, ino);
	return rc;
}

static int c_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			  size_t *done, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->write_chunks(m, recs, n, done, err);
	for (size_t i = 0; i < n; i++)
		if (!i || recs[i].ino != recs[i - 1].ino)
			drop_node(c, recs[i].ino);
	return rc;
}

static int c_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      uint64_t length, struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->truncate(m, u, ino, length, attr, err);
	drop_node(c, ino);
	return rc;
}

static int c_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		    const sl_ino *srcs, size_t n, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->concat(m, u, target, srcs, n, err);
	drop_node(c, target);
	for (size_t i = 0; i < n; i++)
		drop_node(c, srcs[i]);
	drop_names(c);
	return rc;
}

static int c_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
			      struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->delete_file_data(m, ino, cb, arg, err);
	drop_node(c, ino);
	return rc;
}

static int c_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			   const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			   const struct sl_slice *expect, size_t n, size_t skip,
			   const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			   struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->compact_chunk(m, u, lease, ino, indx, expect, n, skip, repl, cb, arg,
					 err);
	drop_node(c, ino);
	return rc;
}

static int c_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->release(m, ino, orphan, err);
	drop_node(c, ino);
	return rc;
}

static int c_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      const char *name, const void *value, size_t len, int flags,
		      struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->setxattr(m, u, ino, name, value, len, flags, err);
	drop_node(c, ino);
	return rc;
}

static int c_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			 const char *name, struct sl_err *err)
{
	struct sl_meta_cache *c = m->cache;
	int rc = m->be->removexattr(m, u, ino, name, err);
	drop_node(c, ino);
	return rc;
}

/* ---- the stage calls.c puts in front of the backend ------------------------------------------- */

/* The CACHED and DROPS slots of SL_META_OPS, and only those; a DROPS slot without a c_SLOT here
 * does not compile. */
const struct sl_meta_backend sl_meta_cache_stage = {
#define STAGE_PASS(slot)
#define STAGE_CACHED(slot) .slot = c_##slot,
#define STAGE_DROPS(slot) .slot = c_##slot,
#define STAGE(OP, slot, cache) STAGE_##cache(slot)
	SL_META_OPS(STAGE)
#undef STAGE
#undef STAGE_DROPS
#undef STAGE_CACHED
#undef STAGE_PASS
};

int sl_meta_cache_enable(struct sl_meta *m, const struct sl_meta_cache_conf *conf,
			 struct sl_err *err)
{
	static const char *const keys[] = {"attr-cache", "entry-cache", "dir-entry-cache",
					   "open-cache"};
	const uint64_t ttl[] = {conf->attr_s, conf->entry_s, conf->dir_entry_s, conf->open_s};
	bool any = false;
	for (size_t i = 0; i < 4; i++) {
		if (ttl[i] > SL_META_CACHE_MAX_TTL)
			return sl_errf(err, -EINVAL, "%s is %llu seconds; it must be from 0 (off) to "
				       "%d (one day)", keys[i], (unsigned long long)ttl[i],
				       SL_META_CACHE_MAX_TTL);
		any |= ttl[i] > 0;
	}
	if (!any)
		return 0;
	if (m->cache)
		return sl_errf(err, -EINVAL, "the metadata cache of %s is already enabled",
			       m->url_redacted);
	struct sl_meta_cache *c = calloc(1, sizeof(*c));
	if (!c || sl_lru_init(&c->entries, MIN_BUCKETS, MAX_BUCKETS, key_eq)) {
		free(c);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	sl_lru_list_init(&c->uses);
	c->clock = m->clock;
	c->attr_ns = (int64_t)conf->attr_s * NS_PER_S;
	c->entry_ns = (int64_t)conf->entry_s * NS_PER_S;
	c->dir_entry_ns = (int64_t)conf->dir_entry_s * NS_PER_S;
	c->open_ns = (int64_t)conf->open_s * NS_PER_S;
	c->max_entries = conf->max_entries ? conf->max_entries : SL_META_CACHE_MAX_ENTRIES;
	pthread_mutex_init(&c->lock, NULL);
	m->cache = c;
	return 0;
}

void sl_meta_cache_free(struct sl_meta *m)
{
	struct sl_meta_cache *c = m->cache;
	if (!c)
		return;
	m->cache = NULL;
	clear_all(c);
	sl_lru_destroy(&c->entries);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void sl_meta_cache_forget(struct sl_meta *m, sl_ino ino)
{
	if (m->cache)
		drop_node(m->cache, ino);
}

bool sl_meta_cache_stats(struct sl_meta *m, struct sl_meta_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!m->cache)
		return false;
	struct sl_meta_cache *c = m->cache;
	pthread_mutex_lock(&c->lock);
	out->hits = c->hits;
	out->misses = c->misses;
	out->entries = c->entries.count;
	out->bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return true;
}
