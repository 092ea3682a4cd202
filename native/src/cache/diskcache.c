/*
 * diskcache.c - the disk read cache: decompressed blocks as self-checking cache files
 * (cachefile.c) under DIR/<volume uuid>/raw/<object key> in one or more directories, indexed in
 * memory, kept within cache-size and free-space-ratio by evicting the least recently used.
 *
 * Entry states: WRITING (room is reserved and the file is being written or moved in; readers
 * treat it as a miss, other puts of the key skip it) -> READY. An entry forgotten while WRITING
 * is removed by its writer when the write ends.
 * Invariants (under `lock`): an entry is on its directory's LRU list iff it is READY; `used` is
 * the sum of the sizes of all entries in the table, WRITING ones included. Room is reserved
 * (and evicted files leave the index) before a file is written, and evicted files are deleted
 * before the new one is written, so the files stay within cache-size.
 * Files found at start are trusted for their size only; every read verifies what it touches,
 * and a corrupt file is deleted and reported as a miss. Keys never change content (a slice id is
 * never reused), so a cached block cannot be stale.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "../chunk/chunk.h"
#include "../util/lru.h"
#include "cachefile.h"
#include "diskcache.h"

#define TMP_GRACE_S 600  /* a temporary file this old belongs to no running write */
#define WARN_EVERY_S 60  /* at most one warning per directory and minute about the same trouble */
#define MAX_DIRS 1024

enum { WRITING, READY };

struct dc_entry {
	struct sl_lru_link link; /* in the index; on its directory's use list only when READY */
	struct dc_entry *next_victim; /* evicted, waiting for its file to be deleted */
	uint64_t size;  /* bytes of the file */
	uint64_t tick;  /* last use */
	uint64_t gen;   /* tells a re-inserted key from the entry a reader looked at */
	uint16_t dir;
	uint8_t state;
	bool forgotten;
	char key[];
};

struct dc_dir {
	char *root; /* DIR/<uuid> */
	char *raw;  /* DIR/<uuid>/raw/ */
	size_t rawlen;
	struct sl_lru_list lru;
	bool low_space;
	time_t last_warn;
	uint32_t writers; /* puts writing a file now */
};

struct sl_diskcache {
	const struct sl_logger *log;
	pthread_mutex_t lock;
	struct dc_dir *dirs;
	size_t ndirs;
	struct sl_lru index;
	uint64_t capacity, used, tick, gen;
	uint64_t kept;        /* bytes of files held for others (peer.c's replicas), within capacity */
	double free_ratio;
	bool full_block;
	uint32_t max_writers; /* per directory; 0: no limit */
	uint64_t skipped;     /* puts given up because the disk was busy */
};

/* Stable across runs, so a key picks the same directory after a restart. */
static uint64_t key_hash(const char *key)
{
	return sl_lru_hash(SL_LRU_HASH_INIT, key, strlen(key));
}

static size_t dir_of(const struct sl_diskcache *dc, uint64_t hash)
{
	return (size_t)((hash >> 32) % dc->ndirs);
}

/* Object keys are relative paths without "." or ".." components; anything else must not
 * become a path under the cache directory. */
static bool key_ok(const char *key)
{
	if (!*key || *key == '/' || strlen(key) >= SL_KEY_MAX)
		return false;
	for (const char *p = key; *p;) {
		size_t n = strcspn(p, "/");
		if (!n || p[0] == '.')
			return false;
		p += n;
		if (*p == '/' && !*++p)
			return false;
	}
	return true;
}

static void path_of(const struct dc_dir *d, const char *key, char *out)
{
	snprintf(out, PATH_MAX, "%s%s", d->raw, key);
}

/* ---- the index (all under dc->lock) ---------------------------------------------------------- */

static struct dc_entry *entry_of(struct sl_lru_link *l)
{
	return l ? (struct dc_entry *)((char *)l - offsetof(struct dc_entry, link)) : NULL;
}

static bool entry_is(const struct sl_lru_link *l, const void *key)
{
	return !strcmp(entry_of((struct sl_lru_link *)l)->key, key);
}

static void free_entry(struct sl_lru_link *l, void *arg)
{
	(void)arg;
	free(entry_of(l));
}

static struct dc_entry *find_locked(struct sl_diskcache *dc, const char *key, uint64_t h)
{
	return entry_of(sl_lru_find(&dc->index, h, key));
}

static struct dc_entry *insert_locked(struct sl_diskcache *dc, const char *key, uint64_t h,
				      size_t dir, uint64_t size, int state)
{
	size_t klen = strlen(key);
	struct dc_entry *e = calloc(1, sizeof(*e) + klen + 1);
	if (!e)
		return NULL;
	memcpy(e->key, key, klen + 1);
	e->size = size;
	e->dir = (uint16_t)dir;
	e->state = (uint8_t)state;
	e->gen = ++dc->gen;
	e->tick = ++dc->tick;
	sl_lru_insert(&dc->index, &e->link, h);
	dc->used += size;
	return e;
}

/* Makes e the most recently used entry of its directory. */
static void lru_push(struct sl_diskcache *dc, struct dc_entry *e)
{
	e->tick = ++dc->tick;
	sl_lru_touch(&dc->dirs[e->dir].lru, &e->link);
}

/* Takes e out of the index (the caller frees it, and deletes its file if it should go). */
static void remove_locked(struct sl_diskcache *dc, struct dc_entry *e)
{
	sl_lru_remove(&dc->index, &e->link);
	dc->used -= e->size;
}

/* The least recently used READY entry of directory dir, or of all of them (dir < 0). */
static struct dc_entry *oldest_locked(struct sl_diskcache *dc, long dir)
{
	struct dc_entry *best = NULL;
	for (size_t i = 0; i < dc->ndirs; i++) {
		if (dir >= 0 && (size_t)dir != i)
			continue;
		struct dc_entry *e = entry_of(sl_lru_oldest(&dc->dirs[i].lru));
		if (e && (!best || e->tick < best->tick))
			best = e;
	}
	return best;
}

/* Evicted entries wait on a list for their files to be deleted outside the lock. */
static void evict_locked(struct sl_diskcache *dc, struct dc_entry *e, struct dc_entry **victims)
{
	remove_locked(dc, e);
	e->next_victim = *victims;
	*victims = e;
}

static void delete_victims(struct sl_diskcache *dc, struct dc_entry *victims)
{
	while (victims) {
		struct dc_entry *e = victims;
		victims = e->next_victim;
		char p[PATH_MAX];
		path_of(&dc->dirs[e->dir], e->key, p);
		if (unlink(p) && errno != ENOENT)
			sl_log(dc->log, SL_LOG_WARN, "cannot delete cache file %s: %s", p,
			       strerror(errno));
		free(e);
	}
}

/* Rate-limited warning about directory d (the same trouble tends to repeat for every block). */
static void warn_dir(struct sl_diskcache *dc, struct dc_dir *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn_dir(struct sl_diskcache *dc, struct dc_dir *d, const char *fmt, ...)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&dc->lock);
	bool say = now - d->last_warn >= WARN_EVERY_S;
	if (say)
		d->last_warn = now;
	pthread_mutex_unlock(&dc->lock);
	if (!say)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_log(dc->log, SL_LOG_WARN, "%s", msg);
}

/* Bytes a file of a block of len bytes takes (cachefile.c's layout). */
static uint64_t file_size(uint32_t len)
{
	return (uint64_t)len + 4 * (((uint64_t)len + SL_CACHEFILE_SEGMENT - 1) /
				    SL_CACHEFILE_SEGMENT) + 16;
}

/*
 * Makes room for a new file of fsize bytes for key in directory di and enters key as WRITING.
 * vfs: the directory's file system as statvfs saw it just before (NULL: unknown). Returns NULL
 * when the key is cached or being written already, or when there is no room: over cache-size
 * with nothing left to evict, or the file system below free-space-ratio even after evicting
 * every block of this directory. Files of evicted entries are for the caller to delete.
 */
static bool room_locked(struct sl_diskcache *dc, size_t di, uint64_t fsize,
			const struct statvfs *vfs, struct dc_entry **victims);

static struct dc_entry *reserve_locked(struct sl_diskcache *dc, const char *key, uint64_t h,
				       size_t di, uint64_t fsize, const struct statvfs *vfs,
				       struct dc_entry **victims)
{
	if (find_locked(dc, key, h) || !room_locked(dc, di, fsize, vfs, victims))
		return NULL;
	return insert_locked(dc, key, h, di, fsize, WRITING);
}

/* Evicts what it takes for fsize more bytes in directory di: within cache-size (with what is
 * kept for others) and, with vfs, above free-space-ratio. false: no room even so. */
static bool room_locked(struct sl_diskcache *dc, size_t di, uint64_t fsize,
			const struct statvfs *vfs, struct dc_entry **victims)
{
	struct dc_dir *d = &dc->dirs[di];
	if (dc->kept + fsize > dc->capacity)
		return false;
	if (vfs && dc->free_ratio > 0) {
		double total = (double)vfs->f_blocks * (double)vfs->f_frsize;
		double avail = (double)vfs->f_bavail * (double)vfs->f_frsize;
		double need = dc->free_ratio * total + (double)fsize - avail;
		struct dc_entry *e;
		while (need > 0 && (e = oldest_locked(dc, (long)di))) {
			need -= (double)e->size;
			evict_locked(dc, e, victims);
		}
		if (need > 0) {
			if (!d->low_space)
				sl_log(dc->log, SL_LOG_WARN, "cache directory %s: less than %g%% of its "
				       "file system is free; not caching blocks there until there is",
				       d->root, dc->free_ratio * 100);
			d->low_space = true;
			return false;
		}
		d->low_space = false;
	}
	while (dc->used + dc->kept + fsize > dc->capacity) {
		struct dc_entry *e = oldest_locked(dc, -1);
		if (!e)
			return false; /* the rest is being written by other threads */
		evict_locked(dc, e, victims);
	}
	return true;
}

/* Ends a WRITING entry: READY if its file is in place, else out of the index. */
static void finish(struct sl_diskcache *dc, struct dc_entry *e, bool ok)
{
	char p[PATH_MAX];
	pthread_mutex_lock(&dc->lock);
	bool drop = !ok || e->forgotten;
	if (drop)
		remove_locked(dc, e);
	else {
		e->state = READY;
		lru_push(dc, e);
	}
	pthread_mutex_unlock(&dc->lock);
	if (drop) {
		if (ok) { /* forgotten meanwhile: its slice is gone */
			path_of(&dc->dirs[e->dir], e->key, p);
			unlink(p);
		}
		free(e);
	}
}

/* Enters a file found on disk (at start, or by a read that missed the index) as READY. */
static void enter_found_locked(struct sl_diskcache *dc, const char *key, uint64_t h, size_t di,
			       uint64_t size)
{
	struct dc_entry *e = insert_locked(dc, key, h, di, size, READY);
	if (e)
		lru_push(dc, e);
}

/* ---- start: directories and the scan ------------------------------------------------------- */

static int mkdirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) && errno != EEXIST)
			return errno;
		*s = c;
		if (!c)
			return 0;
	}
}

/* Sets up DIR/<uuid>/raw; false (after a warning) if the directory cannot be used. */
static bool setup_dir(struct sl_diskcache *dc, const char *dir, const char *uuid, struct dc_dir *d)
{
	char p[PATH_MAX];
	const char *why = NULL;
	int e = 0;
	if (snprintf(p, sizeof(p), "%s/%s/raw", dir, uuid) >= (int)sizeof(p) - SL_KEY_MAX) {
		why = "path too long";
		goto bad;
	}
	if ((e = mkdirs(p))) {
		why = "cannot create it";
		goto bad;
	}
	char real[PATH_MAX];
	if (!realpath(dir, real)) {
		e = errno;
		why = "cannot resolve it";
		goto bad;
	}
	if (asprintf(&d->root, "%s%s%s", real, strcmp(real, "/") ? "/" : "", uuid) < 0 ||
	    asprintf(&d->raw, "%s/raw/", d->root) < 0) {
		d->raw = NULL;
		e = ENOMEM;
		why = "out of memory";
		goto bad;
	}
	d->rawlen = strlen(d->raw);
	/* Writable? (Permission bits alone do not tell: root ignores them, a read-only mount
	 * does not.) */
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (uint64_t)time(NULL);
	snprintf(p, sizeof(p), "%s" SL_CACHEFILE_TMP_PREFIX "probe.tmp.%016" PRIx64, d->raw, rnd);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		why = "cannot write in it";
		goto bad;
	}
	close(fd);
	unlink(p);
	sl_lru_list_init(&d->lru);
	return true;
bad:
	free(d->root);
	free(d->raw);
	d->root = d->raw = NULL;
	sl_log(dc->log, SL_LOG_WARN, "cache directory %s is not used: %s%s%s", dir, why,
	       e ? ": " : "", e ? strerror(e) : "");
	return false;
}

struct found {
	struct dc_entry *e;
	int64_t atime;
};

struct scan {
	struct sl_diskcache *dc;
	size_t di;
	time_t now;
	struct found *found;
	size_t nfound, cap;
	struct dc_entry *victims;
};

/* Walks path (a directory under raw/, path[0..len) with room for more) and enters its files. */
static void scan_tree(struct scan *s, char *path, size_t len)
{
	struct sl_diskcache *dc = s->dc;
	struct dc_dir *d = &dc->dirs[s->di];
	DIR *dp = opendir(path);
	if (!dp) {
		sl_log(dc->log, SL_LOG_INFO, "scanning cache directory %s: %s", path,
		       strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		size_t nlen = strlen(name);
		if (len + nlen + 2 >= PATH_MAX)
			continue;
		memcpy(path + len, name, nlen + 1);
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (name[0] == '.') {
			/* a write that never finished (its process died), unless a running one
			 * in another process started it a moment ago */
			if (!strncmp(name, SL_CACHEFILE_TMP_PREFIX, strlen(SL_CACHEFILE_TMP_PREFIX)) &&
			    S_ISREG(st.st_mode) && s->now - st.st_mtime > TMP_GRACE_S)
				unlink(path);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			path[len + nlen] = '/';
			path[len + nlen + 1] = 0;
			scan_tree(s, path, len + nlen + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		const char *key = path + d->rawlen;
		uint64_t h = key_hash(key);
		struct dc_entry *old = find_locked(dc, key, h);
		if (old) {
			/* the same block in two directories (the list of directories changed):
			 * one copy is enough */
			unlink(path);
			continue;
		}
		if (s->nfound == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 1024;
			struct found *nf = realloc(s->found, nc * sizeof(*nf));
			if (!nf)
				continue;
			s->found = nf;
			s->cap = nc;
		}
		struct dc_entry *e = insert_locked(dc, key, h, s->di, (uint64_t)st.st_size, READY);
		if (e)
			s->found[s->nfound++] = (struct found){e, (int64_t)st.st_atime};
	}
	closedir(dp);
}

static int by_atime(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return x->atime < y->atime ? -1 : x->atime > y->atime;
}

/* Rebuilds the index from the files, least recently read first (as far as atime tells), and
 * trims it to cache-size (which may have shrunk since the last run). */
static void scan_all(struct sl_diskcache *dc)
{
	struct scan s = {.dc = dc, .now = time(NULL)};
	pthread_mutex_lock(&dc->lock);
	for (s.di = 0; s.di < dc->ndirs; s.di++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s", dc->dirs[s.di].raw);
		scan_tree(&s, path, dc->dirs[s.di].rawlen);
	}
	if (s.nfound)
		qsort(s.found, s.nfound, sizeof(*s.found), by_atime);
	for (size_t i = 0; i < s.nfound; i++)
		lru_push(dc, s.found[i].e);
	struct dc_entry *e;
	while (dc->used + dc->kept > dc->capacity && (e = oldest_locked(dc, -1)))
		evict_locked(dc, e, &s.victims);
	uint64_t used = dc->used, n = dc->index.count;
	pthread_mutex_unlock(&dc->lock);
	free(s.found);
	delete_victims(dc, s.victims);
	if (n)
		sl_log(dc->log, SL_LOG_INFO, "disk cache: %" PRIu64 " blocks, %" PRIu64 " bytes found",
		       n, used);
}

int sl_diskcache_new(const struct sl_diskcache_config *cfg, struct sl_diskcache **out,
		     struct sl_err *err)
{
	*out = NULL;
	const char *spec = cfg->dirs;
	if (!spec || !*spec)
		return 0;
	if (cfg->max_writers > 1024)
		return sl_errf(err, -EINVAL, "cache-writers is from 0 (no limit) to 1024, not %llu",
			       (unsigned long long)cfg->max_writers);
	if (cfg->free_ratio >= 1)
		return sl_errf(err, -EINVAL, "free-space-ratio is the fraction of each cache file "
			       "system to keep free: from 0 to below 1, not %g", cfg->free_ratio);
	const char *uuid = cfg->volume_id;
	int rc;

	size_t maxdirs = 1;
	for (const char *c = spec; *c; c++)
		maxdirs += *c == ':';
	if (maxdirs > MAX_DIRS)
		return sl_errf(err, -EINVAL, "cache-dir lists more than %d directories", MAX_DIRS);
	struct sl_diskcache *dc = calloc(1, sizeof(*dc));
	char *list = strdup(spec);
	if (!dc || !list || !(dc->dirs = calloc(maxdirs, sizeof(*dc->dirs))) ||
	    sl_lru_init(&dc->index, 1024, SIZE_MAX, entry_is)) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	dc->log = cfg->log;
	dc->capacity = cfg->capacity;
	dc->free_ratio = cfg->free_ratio;
	dc->full_block = cfg->full_block;
	dc->max_writers = (uint32_t)cfg->max_writers;
	pthread_mutex_init(&dc->lock, NULL);
	char *save = NULL;
	for (char *dir = strtok_r(list, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct dc_dir *d = &dc->dirs[dc->ndirs];
		if (!setup_dir(dc, dir, uuid, d))
			continue;
		bool dup = false;
		for (size_t i = 0; i < dc->ndirs; i++)
			dup |= !strcmp(dc->dirs[i].root, d->root);
		if (dup) { /* the same directory twice would count its files twice */
			free(d->root);
			free(d->raw);
			memset(d, 0, sizeof(*d));
		} else
			dc->ndirs++;
	}
	free(list);
	list = NULL;
	if (!dc->ndirs) {
		sl_log(cfg->log, SL_LOG_WARN, "cache-dir: no usable directory in '%s'; blocks are not "
		       "cached on disk", spec);
		sl_diskcache_free(dc);
		return 0;
	}
	scan_all(dc);
	*out = dc;
	return 0;
fail:
	free(list);
	if (dc) {
		free(dc->dirs);
		sl_lru_destroy(&dc->index);
		free(dc);
	}
	return rc;
}

void sl_diskcache_free(struct sl_diskcache *dc)
{
	if (!dc)
		return;
	sl_lru_clear(&dc->index, free_entry, NULL);
	sl_lru_destroy(&dc->index);
	for (size_t i = 0; i < dc->ndirs; i++) {
		free(dc->dirs[i].root);
		free(dc->dirs[i].raw);
	}
	free(dc->dirs);
	pthread_mutex_destroy(&dc->lock);
	free(dc);
}

/* ---- use ------------------------------------------------------------------------------------ */

/* sl_diskcache_read, which also tells the length of the block the file holds (*blen). */
static int64_t read_file(struct sl_diskcache *dc, const char *key, uint32_t off, void *buf,
			 uint32_t n, uint32_t *blen, struct sl_err *err)
{
	if (!dc || !key_ok(key))
		return sl_errf(err, -ENOENT, "block %s is not in the disk cache", key);
	uint64_t h = key_hash(key);
	pthread_mutex_lock(&dc->lock);
	struct dc_entry *e = find_locked(dc, key, h);
	size_t di = dir_of(dc, h);
	uint64_t gen = 0;
	if (e && e->state != READY) {
		pthread_mutex_unlock(&dc->lock);
		return sl_errf(err, -ENOENT, "block %s is not in the disk cache yet", key);
	}
	if (e) {
		lru_push(dc, e); /* most recently used now */
		di = e->dir;
		gen = e->gen;
	}
	pthread_mutex_unlock(&dc->lock);

	/* Not in the index: the file may still be there (put by another process using the same
	 * directory); one failed open costs far less than a download. */
	char p[PATH_MAX];
	path_of(&dc->dirs[di], key, p);
	struct sl_err ferr = {0};
	int64_t got = sl_cachefile_read(p, off, buf, n, blen, &ferr);
	struct dc_entry *victims = NULL;
	if (got >= 0) {
		if (!gen) {
			pthread_mutex_lock(&dc->lock);
			if (!find_locked(dc, key, h)) {
				enter_found_locked(dc, key, h, di, file_size(*blen));
				struct dc_entry *old;
				while (dc->used + dc->kept > dc->capacity &&
				       (old = oldest_locked(dc, -1)))
					evict_locked(dc, old, &victims);
			}
			pthread_mutex_unlock(&dc->lock);
			delete_victims(dc, victims);
		}
		return got;
	}
	if (got == -EBADMSG) {
		sl_log(dc->log, SL_LOG_WARN, "%s; deleting it, the block is read from object storage",
		       ferr.msg);
		unlink(p);
	} else if (got != -ENOENT) {
		warn_dir(dc, &dc->dirs[di], "disk cache: %s; reading the block from object storage",
			 ferr.msg);
	}
	if (gen) { /* the entry no longer stands for a usable file */
		pthread_mutex_lock(&dc->lock);
		e = find_locked(dc, key, h);
		if (e && e->gen == gen) {
			remove_locked(dc, e);
			free(e);
		}
		pthread_mutex_unlock(&dc->lock);
	}
	return sl_errf(err, -ENOENT, "block %s is not in the disk cache", key);
}

int64_t sl_diskcache_read(struct sl_diskcache *dc, const char *key, uint32_t off, void *buf,
			  uint32_t n, struct sl_err *err)
{
	uint32_t blen = 0;
	return read_file(dc, key, off, buf, n, &blen, err);
}

int64_t sl_diskcache_read_block(struct sl_diskcache *dc, const char *key, uint32_t block_len,
				uint32_t off, void *buf, uint32_t n, struct sl_err *err)
{
	uint32_t blen = 0;
	int64_t got = read_file(dc, key, off, buf, n, &blen, err);
	if (got >= 0 && blen != block_len) {
		sl_diskcache_forget(dc, key);
		return sl_errf(err, -ENOENT, "the cache file of block %s holds %u bytes, not %u", key,
			       blen, block_len);
	}
	return got;
}

bool sl_diskcache_willneed(struct sl_diskcache *dc, const char *key)
{
	if (!dc || !key_ok(key))
		return false;
	uint64_t h = key_hash(key);
	pthread_mutex_lock(&dc->lock);
	struct dc_entry *e = find_locked(dc, key, h);
	bool ready = e && e->state == READY;
	size_t di = ready ? e->dir : 0;
	pthread_mutex_unlock(&dc->lock);
	if (!ready)
		return false;
	char p[PATH_MAX];
	path_of(&dc->dirs[di], key, p);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED); /* advice: the read works without it */
	close(fd);
	return true;
}

bool sl_diskcache_put(struct sl_diskcache *dc, const char *key, const void *data, uint32_t len,
		      bool random)
{
	if (!dc || (!random && !dc->full_block) || !key_ok(key))
		return false;
	uint64_t h = key_hash(key);
	size_t di = dir_of(dc, h);
	struct dc_dir *d = &dc->dirs[di];
	struct statvfs vfs;
	bool have_vfs = dc->free_ratio > 0 && statvfs(d->raw, &vfs) == 0;
	struct dc_entry *victims = NULL;
	pthread_mutex_lock(&dc->lock);
	/* A reader must not run at the cache disk's write speed: when enough files are being
	 * written to this directory already, the block is simply not cached. */
	if (dc->max_writers && d->writers >= dc->max_writers) {
		dc->skipped++;
		pthread_mutex_unlock(&dc->lock);
		return false;
	}
	struct dc_entry *e =
		reserve_locked(dc, key, h, di, file_size(len), have_vfs ? &vfs : NULL, &victims);
	if (e)
		d->writers++;
	pthread_mutex_unlock(&dc->lock);
	delete_victims(dc, victims);
	if (!e)
		return false;
	char p[PATH_MAX];
	path_of(d, key, p);
	struct sl_err err = {0};
	int rc = sl_cachefile_write(p, data, len, false, &err);
	if (rc)
		warn_dir(dc, d, "disk cache: %s (the block is not cached)", err.msg);
	pthread_mutex_lock(&dc->lock);
	d->writers--;
	pthread_mutex_unlock(&dc->lock);
	finish(dc, e, rc == 0);
	return rc == 0;
}

void sl_diskcache_adopt(struct sl_diskcache *dc, const char *key, const char *path)
{
	if (!dc)
		return;
	struct stat st;
	if (!key_ok(key) || stat(path, &st) || !S_ISREG(st.st_mode)) {
		unlink(path);
		return;
	}
	uint64_t h = key_hash(key);
	size_t di = dir_of(dc, h);
	struct dc_dir *d = &dc->dirs[di];
	struct statvfs vfs;
	/* the file is on this file system already: moving it in frees nothing, takes nothing */
	bool have_vfs = dc->free_ratio > 0 && statvfs(d->raw, &vfs) == 0;
	if (have_vfs)
		vfs.f_bavail += (fsblkcnt_t)((uint64_t)st.st_size / (vfs.f_frsize ? vfs.f_frsize : 1));
	struct dc_entry *victims = NULL;
	pthread_mutex_lock(&dc->lock);
	struct dc_entry *e = reserve_locked(dc, key, h, di, (uint64_t)st.st_size,
					    have_vfs ? &vfs : NULL, &victims);
	pthread_mutex_unlock(&dc->lock);
	delete_victims(dc, victims);
	if (!e) {
		unlink(path);
		return;
	}
	char p[PATH_MAX];
	path_of(d, key, p);
	bool ok = rename(path, p) == 0;
	if (!ok && errno == ENOENT) {
		char *slash = strrchr(p, '/');
		*slash = 0;
		ok = mkdirs(p) == 0;
		*slash = '/';
		ok = ok && rename(path, p) == 0;
	}
	if (!ok) {
		warn_dir(dc, d, "disk cache: cannot move %s to %s: %s (the block is not cached)",
			 path, p, strerror(errno));
		unlink(path);
	}
	finish(dc, e, ok);
}

void sl_diskcache_forget(struct sl_diskcache *dc, const char *key)
{
	if (!dc || !key_ok(key))
		return;
	uint64_t h = key_hash(key);
	size_t di = dir_of(dc, h);
	struct dc_entry *victims = NULL;
	pthread_mutex_lock(&dc->lock);
	struct dc_entry *e = find_locked(dc, key, h);
	if (e && e->state == WRITING) {
		e->forgotten = true; /* its writer deletes the file when done */
		e = NULL;
	} else if (e) {
		di = e->dir;
		evict_locked(dc, e, &victims);
	}
	pthread_mutex_unlock(&dc->lock);
	if (victims)
		delete_victims(dc, victims);
	else if (!e) {
		/* not indexed: a file may still be there from another process */
		char p[PATH_MAX];
		path_of(&dc->dirs[di], key, p);
		unlink(p);
	}
}

const char *sl_diskcache_root(const struct sl_diskcache *dc, const char *key)
{
	return dc->dirs[dir_of(dc, key_hash(key))].root;
}

size_t sl_diskcache_nroots(const struct sl_diskcache *dc)
{
	return dc ? dc->ndirs : 0;
}

const char *sl_diskcache_root_at(const struct sl_diskcache *dc, size_t i)
{
	return i < dc->ndirs ? dc->dirs[i].root : NULL;
}

uint64_t sl_diskcache_skipped(struct sl_diskcache *dc)
{
	pthread_mutex_lock(&dc->lock);
	uint64_t n = dc->skipped;
	pthread_mutex_unlock(&dc->lock);
	return n;
}

bool sl_diskcache_keep_room(struct sl_diskcache *dc, const char *key, uint32_t len)
{
	if (!dc || !key_ok(key))
		return false;
	size_t di = dir_of(dc, key_hash(key));
	struct statvfs vfs;
	bool have_vfs = dc->free_ratio > 0 && statvfs(dc->dirs[di].raw, &vfs) == 0;
	struct dc_entry *victims = NULL;
	pthread_mutex_lock(&dc->lock);
	uint64_t fsize = file_size(len);
	bool ok = room_locked(dc, di, fsize, have_vfs ? &vfs : NULL, &victims);
	if (ok)
		dc->kept += fsize;
	pthread_mutex_unlock(&dc->lock);
	delete_victims(dc, victims);
	return ok;
}

void sl_diskcache_unkeep(struct sl_diskcache *dc, uint64_t bytes)
{
	if (!dc)
		return;
	pthread_mutex_lock(&dc->lock);
	dc->kept -= bytes < dc->kept ? bytes : dc->kept;
	pthread_mutex_unlock(&dc->lock);
}

void sl_diskcache_set_kept(struct sl_diskcache *dc, uint64_t bytes)
{
	if (!dc)
		return;
	struct dc_entry *victims = NULL, *e;
	pthread_mutex_lock(&dc->lock);
	dc->kept = bytes;
	while (dc->used + dc->kept > dc->capacity && (e = oldest_locked(dc, -1)))
		evict_locked(dc, e, &victims);
	pthread_mutex_unlock(&dc->lock);
	delete_victims(dc, victims);
}

void sl_diskcache_usage(struct sl_diskcache *dc, uint64_t *bytes, uint64_t *blocks,
			uint64_t *limit)
{
	uint64_t b = 0, n = 0, l = 0;
	if (dc) {
		pthread_mutex_lock(&dc->lock);
		b = dc->used;
		n = dc->index.count;
		l = dc->capacity;
		pthread_mutex_unlock(&dc->lock);
	}
	if (bytes)
		*bytes = b;
	if (blocks)
		*blocks = n;
	if (limit)
		*limit = l;
}
