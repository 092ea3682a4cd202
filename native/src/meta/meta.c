/*
 * meta.c - the core around the metadata backends: picks a backend by URL scheme, hands out inode
 * numbers and slice ids in batches, checks POSIX permissions, keeps the table of locally open
 * inodes, and accumulates usage (usedSpace/totalInodes and per-directory stats) until flushed.
 *
 * struct sl_meta is allocated here inside a larger private struct (meta_core) that holds what the
 * public header does not show: the mutexes that serialize refills of the id batches. A refill
 * is a database transaction, and m->lock must never be held across one: backends take m->lock
 * (sl_meta_is_open) while they hold a connection, so waiting for a connection under m->lock
 * could deadlock.
 *
 * The one piece of process-wide state: the list of open handles (open_handles), so that a usage
 * read flushes what every handle of this process on the same database has pending
 * (sl_meta_flush_usage_shared). A handle is pinned while another thread flushes it, and
 * sl_meta_close takes it off the list and waits for its pins before freeing it. No database
 * call runs under the list's lock.
 */
#include "meta.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INODE_BATCH 1024 /* as juicefs */
#define USAGE_REREAD_MS 5000 /* how stale the volume's totals may be when it has limits */
#define SLICE_BATCH 4096 /* as juicefs */

struct sl_open_file {
	sl_ino ino; /* 0: empty slot */
	uint32_t count;
	bool sustained; /* unlinked while open: a jfs_sustained row waits for release */
};

struct meta_core {
	struct sl_meta m;
	pthread_mutex_t ino_refill, slice_refill;
	/* held through a whole flush of usage, so that a flush that finds nothing pending returns
	 * only after one in progress has written its counters (statfs reads them right after) */
	pthread_mutex_t flushing;
	/* open_handles: the next open handle, and how many flushes of other threads use this one */
	struct meta_core *next_open;
	unsigned pins;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t unpinned;
	struct meta_core *first;
} open_handles = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};

static void handles_add(struct meta_core *mc)
{
	pthread_mutex_lock(&open_handles.lock);
	mc->next_open = open_handles.first;
	open_handles.first = mc;
	pthread_mutex_unlock(&open_handles.lock);
}

/* Takes mc off the list and waits until no flush of another thread uses it. */
static void handles_remove(struct meta_core *mc)
{
	pthread_mutex_lock(&open_handles.lock);
	for (struct meta_core **p = &open_handles.first; *p; p = &(*p)->next_open)
		if (*p == mc) {
			*p = mc->next_open;
			break;
		}
	while (mc->pins)
		pthread_cond_wait(&open_handles.unpinned, &open_handles.lock);
	pthread_mutex_unlock(&open_handles.lock);
}

static struct meta_core *core_of(struct sl_meta *m)
{
	return (struct meta_core *)((char *)m - offsetof(struct meta_core, m));
}

/* ---- open / close ---------------------------------------------------------------------------- */

/* The gateway's scheme names its backend; every other scheme is an SQL driver's (sql_url.c
 * keeps their registry and refuses a scheme none of them has). */
static const struct {
	const char *scheme;
	const struct sl_meta_backend *be;
} backends[] = {
	{"gateway", &sl_meta_remote_backend},
};

int sl_meta_open(const char *url, const struct sl_conf *conf, const struct sl_logger *log,
		 struct sl_meta **out, struct sl_err *err)
{
	*out = NULL;
	const char *sep = url ? strstr(url, "://") : NULL;
	if (!sep || sep == url)
		return sl_errf(err, -EINVAL, "the META-URL has no scheme: expected sqlite3://PATH or "
			       "mysql://USER:PASSWORD@(HOST:PORT)/DATABASE or gateway://HOST:PORT");
	size_t slen = (size_t)(sep - url);
	const struct sl_meta_backend *be = &sl_meta_sql_backend;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strlen(backends[i].scheme) == slen && !strncmp(url, backends[i].scheme, slen))
			be = backends[i].be;
	if (be->version != SL_META_BACKEND_VERSION)
		return sl_errf(err, -EINVAL, "metadata backend %s has version %d, expected %d",
			       be->name, be->version, SL_META_BACKEND_VERSION);
	struct meta_core *mc = calloc(1, sizeof(*mc));
	if (!mc)
		return sl_errf(err, -ENOMEM, "out of memory");
	struct sl_meta *m = &mc->m;
	m->be = be;
	m->log = log;
	m->conf = conf;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&mc->ino_refill, NULL);
	pthread_mutex_init(&mc->slice_refill, NULL);
	pthread_mutex_init(&mc->flushing, NULL);
	/* Until the backend knows better: only the scheme, which holds no secret. */
	snprintf(m->url_redacted, sizeof(m->url_redacted), "%.*s://...", (int)slen, url);
	int rc = 0;
	if (be->priv_size && !(m->priv = calloc(1, be->priv_size)))
		rc = sl_errf(err, -ENOMEM, "out of memory");
	if (!rc)
		rc = sl_meta_calls_init(m, err);
	if (!rc)
		rc = be->init(m, url, err);
	if (rc) {
		free(m->priv);
		m->priv = NULL;
		m->be = NULL;
		sl_meta_close(m);
		return rc;
	}
	handles_add(mc);
	*out = m;
	return 0;
}

void sl_meta_close(struct sl_meta *m)
{
	if (!m)
		return;
	if (m->be) {
		handles_remove(core_of(m));
		struct sl_err err = {0};
		if (sl_meta_flush_usage(m, &err))
			sl_log(m->log, SL_LOG_WARN, "flushing usage counters of %s: %s",
			       m->url_redacted, err.msg);
		sl_meta_cache_free(m);
		m->be->cleanup(m);
		free(m->priv);
	}
	struct meta_core *mc = core_of(m);
	sl_meta_calls_free(m);
	free(m->pending_dirs);
	free(m->open_files);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&mc->ino_refill);
	pthread_mutex_destroy(&mc->slice_refill);
	pthread_mutex_destroy(&mc->flushing);
	free(mc);
}

/* ---- id allocation --------------------------------------------------------------------------- */

/* Takes the next id of [*next, *max) under m->lock, refilling the batch from the counter (the
 * counter holds the next free id; adding n reserves [new - n, new)). until (NULL: none) is the
 * batch's deadline (see slice_batch_until_ms): past it, the rest of the batch is dropped. */
static int next_id(struct sl_meta *m, pthread_mutex_t *refill, uint64_t *next, uint64_t *max,
		   int64_t *until, const char *counter, int64_t batch, uint64_t min, uint64_t *id,
		   struct sl_err *err)
{
	bool refilled = false; /* by this call: its ids are used even if the deadline is near */
	for (;;) {
		pthread_mutex_lock(&m->lock);
		if (until && *until && !refilled && *next < *max &&
		    sl_clock_mono_ms(m->clock) >= *until)
			*next = *max;
		while (*next < *max) {
			uint64_t v = (*next)++;
			if (v >= min) {
				pthread_mutex_unlock(&m->lock);
				*id = v;
				return 0;
			}
		}
		pthread_mutex_unlock(&m->lock);

		pthread_mutex_lock(refill);
		pthread_mutex_lock(&m->lock);
		bool empty = *next >= *max;
		if (until && empty)
			*until = 0; /* the backend sets it anew, if its batches have a deadline */
		pthread_mutex_unlock(&m->lock);
		if (empty) { /* nobody refilled while we waited */
			int64_t v = 0;
			int rc = sl_meta_incr_counter(m, counter, batch, &v, err);
			if (rc) {
				pthread_mutex_unlock(refill);
				return sl_err_wrap(err, "allocating ids from counter %s", counter);
			}
			pthread_mutex_lock(&m->lock);
			*next = (uint64_t)(v - batch);
			*max = (uint64_t)v;
			pthread_mutex_unlock(&m->lock);
			refilled = true;
		}
		pthread_mutex_unlock(refill);
	}
}

int sl_meta_next_inode(struct sl_meta *m, sl_ino *ino, struct sl_err *err)
{
	/* Inode 1 is the root; juicefs skips 0 and 1 the same way. */
	return next_id(m, &core_of(m)->ino_refill, &m->next_ino, &m->max_ino, NULL, "nextInode",
		       INODE_BATCH, 2, ino, err);
}

int sl_meta_next_slice_id(struct sl_meta *m, uint64_t *id, struct sl_err *err)
{
	return next_id(m, &core_of(m)->slice_refill, &m->next_slice, &m->max_slice,
		       &m->slice_batch_until_ms, "nextChunk", SLICE_BATCH, 1, id, err);
}

int sl_meta_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			 bool atomic, size_t *done, unsigned *txns, struct sl_err *err)
{
	*done = 0;
	if (txns)
		*txns = 0;
	if (!n)
		return 0;
	if (sl_meta_supports(m, SL_META_OP_WRITE_CHUNKS)) {
		if (txns)
			*txns = 1;
		int rc = sl_meta_slot_write_chunks(m, recs, n, done, err);
		if (rc != -ENOSYS || atomic) /* ENOSYS: a gateway older than the slot */
			return rc;
		sl_err_clear(err);
		if (txns)
			*txns = 0;
	} else if (atomic) {
		return sl_errf(err, -ENOSYS, "%s commits one slice per transaction", m->be->name);
	}
	for (size_t i = 0; i < n; i++) {
		struct sl_meta_chunk_write *r = &recs[i];
		if (txns)
			++*txns;
		int rc = sl_meta_write_chunk(m, r->u, r->lease, r->ino, r->indx, &r->s, r->mtime_ns,
					     &r->attr, err);
		if (rc)
			return rc;
		*done = i + 1;
		if (r->end_lease && r->lease && /* as the slot would have in its transaction */
		    (rc = sl_meta_lease_release(m, r->ino, r->lease, err)))
			return rc;
	}
	return 0;
}

/* ---- open-file table (open addressing, linear probing, guarded by m->lock) ------------------- */

static size_t slot_of(sl_ino ino, size_t cap)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & (cap - 1);
}

static struct sl_open_file *open_find(struct sl_meta *m, sl_ino ino)
{
	if (!m->open_cap)
		return NULL;
	for (size_t i = slot_of(ino, m->open_cap);; i = (i + 1) & (m->open_cap - 1)) {
		struct sl_open_file *f = &m->open_files[i];
		if (f->ino == ino)
			return f;
		if (!f->ino)
			return NULL;
	}
}

static bool open_grow(struct sl_meta *m)
{
	size_t cap = m->open_cap ? m->open_cap * 2 : 64;
	struct sl_open_file *t = calloc(cap, sizeof(*t));
	if (!t)
		return false;
	for (size_t j = 0; j < m->open_cap; j++) {
		struct sl_open_file *f = &m->open_files[j];
		if (!f->ino)
			continue;
		size_t i = slot_of(f->ino, cap);
		while (t[i].ino)
			i = (i + 1) & (cap - 1);
		t[i] = *f;
	}
	free(m->open_files);
	m->open_files = t;
	m->open_cap = cap;
	return true;
}

void sl_meta_open_inc(struct sl_meta *m, sl_ino ino)
{
	pthread_mutex_lock(&m->lock);
	struct sl_open_file *f = open_find(m, ino);
	if (f) {
		f->count++;
	} else if ((m->open_count + 1) * 4 <= m->open_cap * 3 || open_grow(m)) {
		size_t i = slot_of(ino, m->open_cap);
		while (m->open_files[i].ino)
			i = (i + 1) & (m->open_cap - 1);
		m->open_files[i].ino = ino;
		m->open_files[i].count = 1;
		m->open_files[i].sustained = false;
		m->open_count++;
	} else {
		/* Out of memory: the file is not known to be open, so an unlink while it is open
		 * deletes its data at once, as if another client had it open. */
		sl_log(m->log, SL_LOG_WARN, "out of memory tracking open inode %llu",
		       (unsigned long long)ino);
	}
	pthread_mutex_unlock(&m->lock);
}

void sl_meta_open_sustain(struct sl_meta *m, sl_ino ino)
{
	pthread_mutex_lock(&m->lock);
	struct sl_open_file *f = open_find(m, ino);
	if (f)
		f->sustained = true;
	pthread_mutex_unlock(&m->lock);
}

bool sl_meta_open_dec(struct sl_meta *m, sl_ino ino, bool *sustained)
{
	bool last = false;
	*sustained = false;
	pthread_mutex_lock(&m->lock);
	struct sl_open_file *f = open_find(m, ino);
	if (f && --f->count == 0) {
		last = true;
		*sustained = f->sustained;
		/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
		size_t cap = m->open_cap, i = (size_t)(f - m->open_files), j = i;
		m->open_files[i].ino = 0;
		for (;;) {
			j = (j + 1) & (cap - 1);
			if (!m->open_files[j].ino)
				break;
			size_t k = slot_of(m->open_files[j].ino, cap);
			/* Move j to i unless its home slot k lies cyclically in (i, j]. */
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays) {
				m->open_files[i] = m->open_files[j];
				m->open_files[j].ino = 0;
				i = j;
			}
		}
		m->open_count--;
	} else if (!f) {
		/* not tracked (see open_inc): treat as the last handle of a sustained file, so that
		 * release checks the database */
		last = true;
		*sustained = true;
	}
	pthread_mutex_unlock(&m->lock);
	return last;
}

bool sl_meta_is_open(struct sl_meta *m, sl_ino ino)
{
	pthread_mutex_lock(&m->lock);
	bool open = open_find(m, ino) != NULL;
	pthread_mutex_unlock(&m->lock);
	return open;
}

/* ---- names by inode -------------------------------------------------------------------------- */

int sl_meta_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **path,
		       struct sl_err *err)
{
	*path = NULL;
	if (!sl_meta_supports(m, SL_META_OP_INODE_PATH))
		return sl_errf(err, -EOPNOTSUPP, "%s cannot look files up by inode number",
			       m->url_redacted);
	int rc = 0;
	/* A rename between the two lookups moves the file away from the path found: look again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		char *p = NULL;
		if ((rc = sl_meta_slot_inode_path(m, u, ino, &p, err)))
			return rc;
		sl_ino got;
		struct sl_attr attr;
		rc = sl_meta_resolve(m, u, p, &got, &attr, err);
		if (!rc && got == ino) {
			*path = p;
			return 0;
		}
		free(p);
		if (rc && rc != -ENOENT && rc != -ENOTDIR)
			return rc; /* a permission check failed, or worse */
	}
	return sl_errf(err, -ENOENT, "inode %" PRIu64 " moved while its path was looked up; "
		       "try again", ino);
}

/* ---- usage accounting ------------------------------------------------------------------------ */

/* Adds to the pending stats of dir ino; returns false if out of memory. Caller holds m->lock. */
static bool add_dirstat(struct sl_meta *m, sl_ino ino, int64_t length, int64_t space,
			int64_t inodes)
{
	struct sl_meta_dirstat *d = NULL;
	/* The most recent directory is the most likely one (a job writing into one directory). */
	for (size_t i = m->npending_dirs; i > 0; i--)
		if (m->pending_dirs[i - 1].ino == ino) {
			d = &m->pending_dirs[i - 1];
			break;
		}
	if (!d) {
		if (m->npending_dirs == m->cap_pending_dirs) {
			size_t cap = m->cap_pending_dirs ? m->cap_pending_dirs * 2 : 16;
			struct sl_meta_dirstat *nd = realloc(m->pending_dirs, cap * sizeof(*nd));
			if (!nd)
				return false;
			m->pending_dirs = nd;
			m->cap_pending_dirs = cap;
		}
		d = &m->pending_dirs[m->npending_dirs++];
		memset(d, 0, sizeof(*d));
		d->ino = ino;
	}
	d->length += length;
	d->space += space;
	d->inodes += inodes;
	return true;
}

void sl_meta_account(struct sl_meta *m, sl_ino parent, int64_t length, int64_t space,
		     int64_t inodes)
{
	pthread_mutex_lock(&m->lock);
	m->pending_space += space;
	m->pending_inodes += inodes;
	if (parent && (length || space || inodes) && !add_dirstat(m, parent, length, space, inodes))
		sl_log(m->log, SL_LOG_WARN, "out of memory: stats of directory %llu are off until "
		       "juicefs recomputes them", (unsigned long long)parent);
	pthread_mutex_unlock(&m->lock);
}

int sl_meta_check_capacity(struct sl_meta *m, int64_t space, int64_t inodes, struct sl_err *err)
{
	if ((space <= 0 || !m->capacity) && (inodes <= 0 || !m->max_inodes))
		return 0;
	pthread_mutex_lock(&m->lock);
	int64_t used = m->used_space + m->pending_space, files = m->used_inodes + m->pending_inodes;
	pthread_mutex_unlock(&m->lock);
	if (space > 0 && m->capacity && used + space > (int64_t)m->capacity)
		return sl_errf(err, -ENOSPC, "the volume is full: %" PRId64 " of its %" PRIu64
			       " bytes are used (its capacity, juicefs config --capacity)", used,
			       m->capacity);
	if (inodes > 0 && m->max_inodes && files + inodes > (int64_t)m->max_inodes)
		return sl_errf(err, -ENOSPC, "the volume holds %" PRId64 " of its %" PRIu64
			       " inodes (its inode limit, juicefs config --inodes)", files,
			       m->max_inodes);
	return 0;
}

static int flush_usage(struct sl_meta *m, struct sl_err *err);

int sl_meta_flush_usage(struct sl_meta *m, struct sl_err *err)
{
	struct meta_core *mc = core_of(m);
	pthread_mutex_lock(&mc->flushing);
	int rc = flush_usage(m, err);
	pthread_mutex_unlock(&mc->flushing);
	return rc;
}

static int flush_usage(struct sl_meta *m, struct sl_err *err)
{
	pthread_mutex_lock(&m->lock);
	int64_t space = m->pending_space, inodes = m->pending_inodes;
	struct sl_meta_dirstat *dirs = m->pending_dirs;
	size_t ndirs = m->npending_dirs;
	m->pending_space = m->pending_inodes = 0;
	m->pending_dirs = NULL;
	m->npending_dirs = m->cap_pending_dirs = 0;
	pthread_mutex_unlock(&m->lock);

	int rc = 0;
	int64_t v;
	/* with limits to weigh growth against, the totals are read now and then even when this
	 * handle adds nothing (other clients do) */
	int64_t now = sl_clock_mono_ms(m->clock);
	bool limited = m->capacity || m->max_inodes;
	bool reread = limited && now - m->used_read_ms >= USAGE_REREAD_MS;
	if (space || reread) {
		if ((rc = sl_meta_incr_counter(m, "usedSpace", space, &v, err)))
			goto out;
		space = 0;
		pthread_mutex_lock(&m->lock);
		m->used_space = v;
		pthread_mutex_unlock(&m->lock);
	}
	if (inodes || reread) {
		if ((rc = sl_meta_incr_counter(m, "totalInodes", inodes, &v, err)))
			goto out;
		inodes = 0;
		pthread_mutex_lock(&m->lock);
		m->used_inodes = v;
		pthread_mutex_unlock(&m->lock);
	}
	if (reread)
		m->used_read_ms = now;
	if (ndirs) {
		sl_ino *inos = malloc(ndirs * sizeof(*inos));
		int64_t *vals = malloc(3 * ndirs * sizeof(*vals));
		if (!inos || !vals) {
			free(inos);
			free(vals);
			rc = sl_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < ndirs; i++) {
			inos[i] = dirs[i].ino;
			vals[i] = dirs[i].length;
			vals[ndirs + i] = dirs[i].space;
			vals[2 * ndirs + i] = dirs[i].inodes;
		}
		rc = sl_meta_update_dir_stats(m, inos, vals, vals + ndirs, vals + 2 * ndirs, ndirs,
					      err);
		free(inos);
		free(vals);
		if (!rc)
			ndirs = 0;
	}
	if (!rc && sl_meta_supports(m, SL_META_OP_QUOTA_FLUSH))
		rc = sl_meta_quota_flush(m, err);
out:
	/* Whatever was not written goes back, to be retried by the next flush. */
	pthread_mutex_lock(&m->lock);
	m->pending_space += space;
	m->pending_inodes += inodes;
	bool lost = false;
	for (size_t i = 0; i < ndirs; i++)
		if (!add_dirstat(m, dirs[i].ino, dirs[i].length, dirs[i].space, dirs[i].inodes))
			lost = true;
	pthread_mutex_unlock(&m->lock);
	if (lost)
		sl_log(m->log, SL_LOG_WARN, "out of memory: some directory stats were dropped");
	free(dirs);
	if (rc)
		sl_err_wrap(err, "flushing usage to %s", m->url_redacted);
	return rc;
}

int sl_meta_flush_usage_shared(struct sl_meta *m, struct sl_err *err)
{
	/* Pin the other handles on m's database, so that none is freed while it is flushed. */
	size_t n = 0, cap = 0;
	struct meta_core **peers = NULL;
	pthread_mutex_lock(&open_handles.lock);
	for (struct meta_core *mc = open_handles.first; mc; mc = mc->next_open) {
		if (&mc->m == m || strcmp(mc->m.url_redacted, m->url_redacted))
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			struct meta_core **np = realloc(peers, nc * sizeof(*np));
			if (!np)
				break; /* flush those found so far */
			peers = np;
			cap = nc;
		}
		mc->pins++;
		peers[n++] = mc;
	}
	pthread_mutex_unlock(&open_handles.lock);
	for (size_t i = 0; i < n; i++) {
		/* Theirs to report: what fails stays pending for their own next flush. */
		struct sl_err ignored = {0};
		if (sl_meta_flush_usage(&peers[i]->m, &ignored))
			sl_log(m->log, SL_LOG_DEBUG, "%s", ignored.msg);
	}
	int rc = sl_meta_flush_usage(m, err);
	if (n) {
		pthread_mutex_lock(&open_handles.lock);
		for (size_t i = 0; i < n; i++)
			peers[i]->pins--;
		pthread_cond_broadcast(&open_handles.unpinned);
		pthread_mutex_unlock(&open_handles.lock);
	}
	free(peers);
	return rc;
}

/* ---- the volume's secret --------------------------------------------------------------------- */

#define VOLUME_SECRET_SETTING "sluice.grant-secret" /* its first use; never readable through a gateway */
#define VOLUME_SECRET_BYTES 32

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The volume's secret, made by the first client that needs it (the first writer of the setting
 * wins, so racing clients agree). */
static int volume_secret(struct sl_meta *m, uint8_t secret[VOLUME_SECRET_BYTES], struct sl_err *err)
{
	char *hex = NULL;
	int rc = sl_meta_get_setting(m, VOLUME_SECRET_SETTING, &hex, err);
	if (rc == -ENOENT) {
		uint8_t fresh[VOLUME_SECRET_BYTES];
		char text[2 * VOLUME_SECRET_BYTES + 1];
		if (RAND_bytes(fresh, sizeof(fresh)) != 1)
			return sl_errf(err, -EIO, "no random bytes for the volume secret");
		for (size_t i = 0; i < sizeof(fresh); i++)
			snprintf(text + 2 * i, 3, "%02x", fresh[i]);
		OPENSSL_cleanse(fresh, sizeof(fresh));
		sl_err_clear(err);
		rc = sl_meta_add_setting(m, VOLUME_SECRET_SETTING, text, err);
		OPENSSL_cleanse(text, sizeof(text));
		if (!rc || rc == -EEXIST) {
			sl_err_clear(err);
			rc = sl_meta_get_setting(m, VOLUME_SECRET_SETTING, &hex, err);
		}
	}
	if (rc)
		return sl_err_wrap(err, "reading the volume secret (setting %s)",
				   VOLUME_SECRET_SETTING);
	bool ok = strlen(hex) == 2 * VOLUME_SECRET_BYTES;
	for (size_t i = 0; ok && i < VOLUME_SECRET_BYTES; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		secret[i] = (uint8_t)(hi << 4 | lo);
	}
	OPENSSL_cleanse(hex, strlen(hex));
	free(hex);
	if (!ok)
		return sl_errf(err, -EIO, "setting %s is not %d hex digits", VOLUME_SECRET_SETTING,
			       2 * VOLUME_SECRET_BYTES);
	return 0;
}

int sl_meta_volume_key(struct sl_meta *m, const char *label, uint8_t key[SL_META_KEY_BYTES],
		       struct sl_err *err)
{
	uint8_t secret[VOLUME_SECRET_BYTES];
	int rc = volume_secret(m, secret, err);
	if (rc)
		return rc;
	unsigned len = 0;
	bool derived = HMAC(EVP_sha256(), secret, sizeof(secret), (const unsigned char *)label,
			    strlen(label), key, &len) && len == SL_META_KEY_BYTES;
	OPENSSL_cleanse(secret, sizeof(secret));
	return derived ? 0 : sl_errf(err, -EIO, "cannot derive a key (HMAC-SHA256 failed)");
}
