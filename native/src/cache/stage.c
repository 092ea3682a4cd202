/*
 * stage.c - the local write cache behind hflush. A flushed block that is not in object storage
 * yet is made durable under CACHEDIR/<uuid>/rawstaging/<owner>/ before its slice is committed, so
 * a reader anywhere may see the slice while the upload still runs: recorded in the directory's
 * journal (journal.c), and, if larger than SL_JOURNAL_ONLY_MAX, written to <object key> there too.
 *
 * Ownership: each volume handle stages into its own <owner> directory and holds an flock on
 * <owner>/.lock for its life. A directory whose lock can be taken belongs to a client that is
 * gone (killed, crashed, or closed with uploads that kept failing): at start its blocks are
 * verified and uploaded, then moved into the disk cache. A block that fails verification was
 * torn by the crash before its hflush returned, so nothing acknowledged is lost by dropping it.
 *
 * Blocks whose writer could not upload them, and recovered ones, wait in `queue`; the volume's
 * background thread calls sl_stage_sweep to retry them with a growing delay (5 s to 5 min).
 * While some wait after failures, one of them is tried every 2 s whatever its delay, and any
 * upload that succeeds (sl_stage_store_ok) makes them all due: the store answers again.
 *
 * Nothing is uploaded for a slice that is gone: before each upload of a queued block the slice's
 * jfs_chunk_ref row is read. No row (never committed: its writer died first; or deleted) or no
 * reference left (compaction replaced it, its file was removed, and the client that should have
 * deleted it died) means the staged copy is dropped and the block's object deleted, with the rest
 * of the slice when its row is left; after an upload the row is read once more, so that a
 * deletion by another client meanwhile does not leave the new object behind.
 *
 * Holds: a committed slice can have uploads in flight. Deleting it then (compaction replaced it,
 * or its file was removed) would race the upload and leave the object behind, so the deletion
 * is deferred until the slice's writer ends its hold. A client killed meanwhile loses the
 * deferral; the next one on the cache directory finds the slice unreferenced (above), and the
 * volume sweeps unreferenced slices when it took over a dead client's directory (volume.c).
 *
 * Group staging: hflushes that stage at the same time (threads of one stream, or streams of
 * the handle) share the cost of durability (sl_stage_put_many): one of them, the leader, writes
 * every waiting block and appends them to the journal with one fdatasync (without a journal:
 * fdatasyncs the files together and fsyncs each directory once); blocks that arrive meanwhile
 * go in the next round. Each caller returns once its own blocks are durable.
 *
 * Compaction's merged slice is uploaded before its commit, so a client killed in between would
 * leave objects no slice names: `<own dir>/.pending/<id>_<size>` marks it meanwhile, and a client
 * taking over the directory deletes such a slice unless it was committed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../chunk/chunk.h"
#include "../util/counter.h"
#include "cachefile.h"
#include "claim.h"
#include "diskcache.h"
#include "journal.h"
#include "stage.h"

#define HOLD_BUCKETS 256
#define RETRY_MIN_S 5
#define RETRY_MAX_S 300
#define PROBE_S 2      /* while blocks wait after failures, one is tried this often */
/* A dead client's uploads that were on the wire when it died may still complete at the object
 * store: its blocks and merged slices are looked at only this long after the takeover, so that
 * an object deleted for a slice that is gone is not stored again behind the deletion. */
#define SETTLE_S 5
#define PENDING_DIR ".pending"
#define RECORD_DIR SL_STAGE_RECORD_DIR

struct hold {
	uint64_t id;
	int count;
	bool doomed;
	uint32_t size;
	struct hold *next;
};

/* A staging directory: our own one per cache root, or a dead client's we took over. */
struct sdir {
	char path[PATH_MAX];
	int lock_fd;
	bool own;
	size_t waiting; /* queued blocks staged in it; a taken-over one is removed at 0 */
	/* own ones: the journal that makes a round durable (opened by the first round; only the
	 * leader of a round touches it), or none after it could not be created */
	struct sl_journal *journal;
	bool no_journal;
};

/* A staged block waiting for (another) upload attempt. */
struct queued {
	char key[SL_KEY_MAX];
	struct sdir *dir;
	bool uploading;
	int attempts;
	int64_t next_try;
	int64_t not_before; /* a dead client's block: SETTLE_S after the takeover */
	struct queued *next;
};

/* A merged slice a dead client's compaction may have uploaded without committing it. */
struct pending {
	uint64_t id;
	uint32_t size;
	struct sdir *dir;
	bool checking;
	int64_t next_try;
	struct pending *next;
};

/* A caller's blocks waiting for a group staging round. */
struct put_req {
	const char *const *keys;
	const uint8_t *const *data;
	const uint32_t *lens;
	size_t n;
	int *rcs;
	bool sync; /* durable before it returns (else sl_stage_sync makes it so) */
	int rc;
	struct sl_err err;
	bool finished;
	struct put_req *next;
};

struct sl_stage {
	struct sl_stage_config cfg;
	pthread_mutex_t put_lock;  /* the group staging queue */
	pthread_cond_t put_done;
	struct put_req *put_queue;
	bool putting;              /* a leader is staging */
	pthread_mutex_t lock;
	struct sdir **dirs;
	size_t ndirs;
	size_t nown;            /* dirs[0..nown) are ours, dirs[i] for cache root i */
	char owner[64];
	struct queued *queue;
	struct pending *pending;
	bool recovered;         /* took over a dead client's directory at start */
	atomic_bool backing_off; /* some queued block failed and waits */
	int64_t next_probe;
	struct hold *holds[HOLD_BUCKETS];
};

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			int rc = mkdir(path, 0700);
			*p = '/';
			if (rc && errno != EEXIST)
				return -errno;
		}
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

static int lock_dir(const char *dir, int op)
{
	char lp[PATH_MAX];
	snprintf(lp, sizeof(lp), "%s/.lock", dir);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, op)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static struct sdir *sdir_add(struct sl_stage *st, const char *path, int fd, bool own)
{
	struct sdir *d = calloc(1, sizeof(*d));
	struct sdir **nd = realloc(st->dirs, (st->ndirs + 1) * sizeof(*nd));
	if (!d || !nd) {
		free(d);
		if (nd)
			st->dirs = nd;
		return NULL;
	}
	st->dirs = nd;
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->lock_fd = fd;
	d->own = own;
	st->dirs[st->ndirs++] = d;
	return d;
}

static void queue_add_locked(struct sl_stage *st, const char *key, struct sdir *d, int64_t when,
			     int64_t not_before)
{
	for (struct queued *q = st->queue; q; q = q->next)
		if (q->dir == d && !strcmp(q->key, key))
			return;
	struct queued *q = calloc(1, sizeof(*q));
	if (!q) {
		/* the file stays; the next start of a client on this cache dir uploads it */
		sl_log(st->cfg.log, SL_LOG_WARN, "out of memory queueing staged block %s", key);
		return;
	}
	snprintf(q->key, sizeof(q->key), "%s", key);
	q->dir = d;
	q->next_try = when;
	q->not_before = not_before;
	q->next = st->queue;
	st->queue = q;
	d->waiting++;
}

/* Removes a directory tree bottom-up as far as it is empty (only .lock files go too). */
static int rm_empty(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else if (!strcmp(path + strlen(path) - 6, "/.lock"))
		unlink(path);
	return 0;
}

static void remove_dir(struct sdir *d)
{
	/* The lock file goes while we still hold it; a client that opens a new one meanwhile
	 * finds an empty directory and removes it too. */
	nftw(d->path, rm_empty, 16, FTW_DEPTH | FTW_PHYS);
}

/* Queues the blocks of a dead client's directory (at start, before anyone else sees st). */
static int collect_files(struct sl_stage *st, struct sdir *d, const char *dir, size_t base)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return -errno;
	struct dirent *e;
	while ((e = readdir(dp))) {
		bool tmp = !strncmp(e->d_name, SL_CACHEFILE_TMP_PREFIX,
				    strlen(SL_CACHEFILE_TMP_PREFIX));
		if (e->d_name[0] == '.' && !tmp)
			continue; /* ".", "..", ".lock", .pending (collect_pending) */
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		struct stat sb;
		if (lstat(p, &sb))
			continue;
		if (S_ISDIR(sb.st_mode))
			collect_files(st, d, p, base);
		else if (S_ISREG(sb.st_mode) && tmp)
			unlink(p); /* an unfinished write: its hflush never returned */
		else if (S_ISREG(sb.st_mode))
			queue_add_locked(st, p + base, d, 0,
					 sl_clock_mono_s(st->cfg.clock) + SETTLE_S);
	}
	closedir(dp);
	return 0;
}

/* Queues the merged slices a dead client's compactions marked (.pending/<id>_<size>). */
static void collect_pending(struct sl_stage *st, struct sdir *d)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/" PENDING_DIR, d->path);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp))) {
		unsigned long long id;
		unsigned size;
		char extra;
		if (sscanf(e->d_name, "%llu_%u%c", &id, &size, &extra) != 2)
			continue;
		struct pending *pd = calloc(1, sizeof(*pd));
		if (!pd)
			break; /* the marker stays for the next client */
		*pd = (struct pending){.id = id, .size = size, .dir = d,
				       .next_try = sl_clock_mono_s(st->cfg.clock) + SETTLE_S,
				       .next = st->pending};
		st->pending = pd;
		d->waiting++;
	}
	closedir(dp);
}

enum liveness { SLICE_LIVE, SLICE_GONE, SLICE_UNREFERENCED, SLICE_UNKNOWN };

/* Whether slice id is still referenced; *size gets its size when it has a row. Backends that
 * cannot tell (a gateway client) say live: the upload goes ahead as it always did. */
static enum liveness liveness(struct sl_stage *st, uint64_t id, uint32_t *size, struct sl_err *err)
{
	struct sl_meta *m = st->cfg.meta;
	int64_t refs = 0;
	*size = 0;
	if (!id || !sl_meta_supports(m, SL_META_OP_SLICE_REFS))
		return SLICE_LIVE;
	int rc = sl_meta_slice_refs(m, id, &refs, size, err);
	if (rc == -ENOENT) {
		sl_err_clear(err);
		return SLICE_GONE;
	}
	if (rc)
		return SLICE_UNKNOWN;
	return refs > 0 ? SLICE_LIVE : SLICE_UNREFERENCED;
}

static void path_of(const struct sdir *d, const char *key, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", d->path, key);
}

/* The staged block key of d is not needed here any more: its file (if it has one) goes. */
static void forget(struct sdir *d, const char *key)
{
	char p[PATH_MAX];
	path_of(d, key, p, sizeof(p));
	if (d->journal)
		sl_journal_retire(d->journal, key);
	unlink(p);
}

void sl_stage_record_key(const struct sl_stage_record *r, char key[SL_KEY_MAX])
{
	snprintf(key, SL_KEY_MAX, RECORD_DIR "/%" PRIu64 "_%u_%u_%" PRIu64 "_%u_%" PRIu64 "_%" PRIu64,
		 r->ino, r->chunk, r->pos, r->id, r->size, r->lease_sid, r->lease_gen);
}

bool sl_stage_record_parse(const char *name, struct sl_stage_record *r)
{
	char extra;
	return sscanf(name, "%" SCNu64 "_%u_%u_%" SCNu64 "_%u_%" SCNu64 "_%" SCNu64 "%c", &r->ino,
		      &r->chunk, &r->pos, &r->id, &r->size, &r->lease_sid, &r->lease_gen,
		      &extra) == 7 &&
	       r->ino && r->id && r->size &&
	       r->pos < SL_CHUNK_SIZE && r->size <= SL_CHUNK_SIZE - r->pos;
}

void sl_stage_record_body(uint64_t committed_end, uint8_t out[SL_STAGE_RECORD_LEN])
{
	size_t n = sizeof(SL_STAGE_RECORD) - 1;
	memcpy(out, SL_STAGE_RECORD, n);
	for (int i = 0; i < 8; i++)
		out[n + (size_t)i] = (uint8_t)(committed_end >> (56 - 8 * i));
}

bool sl_stage_record_body_parse(const uint8_t *b, uint32_t len, uint64_t *committed_end)
{
	size_t n = sizeof(SL_STAGE_RECORD) - 1;
	if (len != SL_STAGE_RECORD_LEN || memcmp(b, SL_STAGE_RECORD, n))
		return false;
	*committed_end = 0;
	for (int i = 0; i < 8; i++)
		*committed_end = *committed_end << 8 | b[n + (size_t)i];
	return true;
}

uint64_t sl_stage_record_end(const struct sl_stage_record *r)
{
	return (uint64_t)r->chunk * SL_CHUNK_SIZE + r->pos + r->size;
}

static int record_cmp(const void *a, const void *b)
{
	const struct sl_stage_record *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A dead client's slice records (sl_stage_record): each whose slice is not committed is
 * committed now, in the order the slices were made, under the writer's lease, before the
 * directory's blocks are looked at (they would be dropped as never committed). A record the
 * lease fences (the file was taken over meanwhile) is dropped; one that fails otherwise stays
 * for the next client. */
static void commit_records(struct sl_stage *st, struct sdir *d)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/" RECORD_DIR, d->path);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct sl_stage_record *recs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		struct sl_stage_record r;
		if (!sl_stage_record_parse(e->d_name, &r))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct sl_stage_record *more = realloc(recs, ncap * sizeof(*recs));
			if (!more)
				break; /* the rest stay for the next client */
			recs = more;
			cap = ncap;
		}
		recs[n++] = r;
	}
	closedir(dp);
	qsort(recs, n, sizeof(*recs), record_cmp);
	size_t committed = 0, fenced = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sl_stage_record *r = &recs[i];
		struct sl_err err = {0};
		enum sl_meta_claim got;
		int rc = sl_record_commit_claimed(st->cfg.meta, r, 0, &got, &err);
		if (!rc && got == SL_CLAIM_WON)
			committed++;
		else if (rc == -SL_ELEASE_LOST || rc == -ENOENT)
			fenced++;
		else if (rc)
			sl_log(st->cfg.log, SL_LOG_WARN, "committing slice %" PRIu64 " of inode %"
			       PRIu64 " that a client hflushed before it stopped: %s (the next "
			       "client tries again)", r->id, r->ino, err.msg);
		/* DONE: it is committed; HELD: a holder of its copy is committing it (the record
		 * stays for the next client, should that one die) */
		if ((rc && rc != -SL_ELEASE_LOST && rc != -ENOENT) || (!rc && got == SL_CLAIM_HELD))
			continue;
		char key[SL_KEY_MAX];
		sl_stage_record_key(r, key);
		forget(d, key);
	}
	free(recs);
	if (committed || fenced)
		sl_log(st->cfg.log, fenced ? SL_LOG_WARN : SL_LOG_INFO,
		       "committed %zu slices a client hflushed before it stopped (%s)%s", committed,
		       d->path, fenced ? "; dropped the others: their files were taken over by "
					 "another writer or removed meanwhile" : "");
	atomic_fetch_add(&st->cfg.stats->records_recovered, committed);
}

/* Takes over the staging directories in root/rawstaging whose owners are gone. */
static void recover_root(struct sl_stage *st, const char *staging)
{
	DIR *dp = opendir(staging);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, st->owner))
			continue;
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", staging, e->d_name) >= (int)sizeof(p))
			continue;
		int fd = lock_dir(p, LOCK_EX | LOCK_NB);
		if (fd < 0)
			continue; /* alive (EWOULDBLOCK), or not ours to touch */
		struct sdir *d = sdir_add(st, p, fd, false);
		if (!d) {
			close(fd);
			continue;
		}
		/* what a crash of the machine took from its unsynced staged files comes back first */
		struct sl_err jerr = {0};
		if (sl_journal_replay(p, st->cfg.log, &jerr))
			sl_log(st->cfg.log, SL_LOG_WARN, "%s; its blocks that were lost stay lost "
			       "until a later start restores them", jerr.msg);
		commit_records(st, d);
		collect_files(st, d, p, strlen(p) + 1);
		collect_pending(st, d);
		st->recovered = true;
		if (d->waiting)
			sl_log(st->cfg.log, SL_LOG_INFO,
			       "uploading %zu blocks staged by a client that stopped (%s)", d->waiting,
			       p);
	}
	closedir(dp);
}

int sl_stage_new(const struct sl_stage_config *cfg, struct sl_stage **out, struct sl_err *err)
{
	*out = NULL;
	if (!cfg->disk)
		return 0;
	struct sl_stage *st = calloc(1, sizeof(*st));
	if (!st)
		return sl_errf(err, -ENOMEM, "out of memory");
	st->cfg = *cfg;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->put_lock, NULL);
	pthread_cond_init(&st->put_done, NULL);
	uint64_t rnd = 0;
	rnd = (uint64_t)sl_real_ns() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)st;
	snprintf(st->owner, sizeof(st->owner), "%d-%016" PRIx64, (int)getpid(), rnd);
	size_t nroots = sl_diskcache_nroots(cfg->disk);
	for (size_t i = 0; i < nroots; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/rawstaging/%s", sl_diskcache_root_at(cfg->disk, i),
			 st->owner);
		int rc = mkdirs(p);
		int fd = rc ? rc : lock_dir(p, LOCK_EX | LOCK_NB);
		if (fd < 0 || !sdir_add(st, p, fd, true)) {
			if (fd >= 0)
				close(fd);
			sl_log(cfg->log, SL_LOG_WARN, "cannot use %s for hflush staging (%s); hflush "
			       "waits for object storage", p, strerror(fd < 0 ? -fd : ENOMEM));
			sl_stage_free(st);
			return 0;
		}
	}
	st->nown = st->ndirs;
	for (size_t i = 0; i < nroots; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/rawstaging", sl_diskcache_root_at(cfg->disk, i));
		recover_root(st, p);
	}
	*out = st;
	return 0;
}

void sl_stage_free(struct sl_stage *st)
{
	if (!st)
		return;
	size_t left = 0;
	while (st->queue) {
		struct queued *q = st->queue;
		st->queue = q->next;
		left++;
		free(q);
	}
	if (left)
		sl_log(st->cfg.log, SL_LOG_WARN, "%zu staged blocks are not in object storage yet; "
		       "the next client started on this cache directory uploads them", left);
	while (st->pending) { /* their markers stay for the next client */
		struct pending *pd = st->pending;
		st->pending = pd->next;
		free(pd);
	}
	for (size_t i = 0; i < st->ndirs; i++) {
		sl_journal_close(st->dirs[i]->journal, st->cfg.log);
		remove_dir(st->dirs[i]); /* only what is empty: blocks left stay for recovery */
		close(st->dirs[i]->lock_fd);
		free(st->dirs[i]);
	}
	free(st->dirs);
	for (size_t b = 0; b < HOLD_BUCKETS; b++)
		while (st->holds[b]) {
			struct hold *h = st->holds[b];
			st->holds[b] = h->next;
			free(h);
		}
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->put_lock);
	pthread_cond_destroy(&st->put_done);
	free(st);
}

/* Our staging directory for key: the one on the cache root the disk cache uses for it, so a
 * staged block moves into the cache by rename. */
static struct sdir *own_dir(struct sl_stage *st, const char *key)
{
	const char *root = sl_diskcache_root(st->cfg.disk, key);
	for (size_t i = 0; i < st->nown; i++) {
		size_t n = strlen(root);
		if (!strncmp(st->dirs[i]->path, root, n) && st->dirs[i]->path[n] == '/')
			return st->dirs[i];
	}
	return st->dirs[0];
}


/* Whether d (own) has a journal, opening it at its first round. Called by a round's leader. */
static bool open_journal(struct sl_stage *st, struct sdir *d)
{
	if (d->journal || d->no_journal)
		return d->journal;
	struct sl_err err = {0};
	if (sl_journal_open(d->path, &d->journal, &err)) {
		d->no_journal = true;
		sl_log(st->cfg.log, SL_LOG_WARN, "%s; hflush syncs each staged block instead",
		       err.msg);
	}
	return d->journal;
}

/* Journals the blocks of the round that were written (or need no file), one append per
 * directory and kind; a block whose append failed fails with it, and its file goes (it was
 * never durable). */
static void journal_round(const char **paths, const char **keys, struct sdir **dirs,
			  const uint8_t **data, const uint32_t *lens, const bool *with_file,
			  size_t n, bool sync, int *rcs, int64_t *sync_ns)
{
	size_t *idx = malloc(n * sizeof(*idx));
	const char **jk = malloc(n * sizeof(*jk));
	const uint8_t **jd = malloc(n * sizeof(*jd));
	uint32_t *jl = malloc(n * sizeof(*jl));
	bool *done = calloc(n, sizeof(*done));
	if (!idx || !jk || !jd || !jl || !done) {
		for (size_t i = 0; i < n; i++)
			if (!rcs[i]) {
				rcs[i] = -ENOMEM;
				unlink(paths[i]);
			}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (done[i] || rcs[i])
			continue;
		size_t m = 0;
		for (size_t k = i; k < n; k++)
			if (!done[k] && !rcs[k] && dirs[k] == dirs[i] &&
			    with_file[k] == with_file[i]) {
				done[k] = true;
				idx[m] = k;
				jk[m] = keys[k];
				jd[m] = data[k];
				jl[m++] = lens[k];
			}
		struct sl_err err = {0};
		int rc = sl_journal_append(dirs[i]->journal, jk, jd, jl, m, with_file[i], sync,
					   sync_ns, &err);
		for (size_t k = 0; rc && k < m; k++) {
			rcs[idx[k]] = rc;
			if (with_file[i])
				unlink(paths[idx[k]]);
		}
	}
out:
	free(idx);
	free(jk);
	free(jd);
	free(jl);
	free(done);
}

/* The leader's round: every block of batch; the files in one sl_cachefile_write_many. */
static void put_round(struct sl_stage *st, struct put_req *batch)
{
	size_t total = 0;
	for (struct put_req *r = batch; r; r = r->next)
		total += r->n;
	char (*paths)[PATH_MAX] = malloc(total * sizeof(*paths));
	const char **pp = malloc(total * sizeof(*pp));
	const char **keys = malloc(total * sizeof(*keys));
	struct sdir **dirs = malloc(total * sizeof(*dirs));
	const uint8_t **data = malloc(total * sizeof(*data));
	uint32_t *lens = malloc(total * sizeof(*lens));
	bool *with_file = malloc(total * sizeof(*with_file));
	int *rcs = calloc(total, sizeof(*rcs));
	size_t *slot = malloc(total * sizeof(*slot)); /* where each caller's block went */
	struct sl_err err = {0};
	int64_t t0 = sl_mono_ns(), sync_ns = 0;
	if (!paths || !pp || !keys || !dirs || !data || !lens || !with_file || !rcs || !slot) {
		for (struct put_req *r = batch; r; r = r->next) {
			for (size_t i = 0; i < r->n; i++)
				r->rcs[i] = -ENOMEM;
			r->rc = sl_errf(&r->err, -ENOMEM, "out of memory");
		}
		goto out;
	}
	bool journaled = true, sync = false;
	for (struct put_req *r = batch; r; r = r->next) {
		sync = sync || r->sync;
		for (size_t i = 0; i < r->n; i++)
			journaled = open_journal(st, own_dir(st, r->keys[i])) && journaled;
	}
	/* Blocks that get a file first, the others (journaled alone) after them, so that the files
	 * are written in one sl_cachefile_write_many. Journaled, the files need no sync of their
	 * own: the journal's one fdatasync covers them. Where no journal could be kept, each file
	 * is synced (slower, as safe). */
	size_t k = 0, nfiles = 0, last = total;
	for (struct put_req *r = batch; r; r = r->next)
		for (size_t i = 0; i < r->n; i++, k++) {
			bool file = !journaled || r->lens[i] > SL_JOURNAL_ONLY_MAX;
			size_t at = slot[k] = file ? nfiles++ : --last;
			dirs[at] = own_dir(st, r->keys[i]);
			path_of(dirs[at], r->keys[i], paths[at], sizeof(paths[at]));
			pp[at] = paths[at];
			keys[at] = r->keys[i];
			data[at] = r->data[i];
			lens[at] = r->lens[i];
			with_file[at] = file;
		}
	if (nfiles)
		sl_cachefile_write_many(pp, data, lens, nfiles, !journaled, rcs, &sync_ns, &err);
	if (journaled)
		journal_round(pp, keys, dirs, data, lens, with_file, total, sync, rcs, &sync_ns);
	k = 0;
	for (struct put_req *r = batch; r; r = r->next)
		for (size_t i = 0; i < r->n; i++, k++) {
			int rc = rcs[slot[k]];
			r->rcs[i] = rc;
			if (rc && !r->rc) {
				r->rc = rc;
				sl_errf(&r->err, rc, "staging block %s: %s", r->keys[i], strerror(-rc));
			}
		}
	struct sl_stage_stats *stats = st->cfg.stats;
	sl_stat_add(&stats->stages, total);
	sl_stat_add(&stats->stage_ns, (uint64_t)(sl_mono_ns() - t0));
	sl_stat_add(&stats->stage_sync_ns, (uint64_t)sync_ns);
out:
	free(paths);
	free(pp);
	free(keys);
	free(dirs);
	free(data);
	free(lens);
	free(with_file);
	free(rcs);
	free(slot);
}

int sl_stage_put_many(struct sl_stage *st, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, bool sync, int *rcs, struct sl_err *err)
{
	struct put_req me = {.keys = keys, .data = data, .lens = lens, .n = n, .rcs = rcs,
			     .sync = sync};
	if (!n)
		return 0;
	pthread_mutex_lock(&st->put_lock);
	struct put_req **pp = &st->put_queue;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &me;
	while (!me.finished) {
		if (st->putting) {
			pthread_cond_wait(&st->put_done, &st->put_lock);
			continue;
		}
		st->putting = true;
		struct put_req *batch = st->put_queue;
		st->put_queue = NULL;
		pthread_mutex_unlock(&st->put_lock);
		put_round(st, batch);
		pthread_mutex_lock(&st->put_lock);
		for (struct put_req *r = batch; r;) {
			struct put_req *next = r->next;
			r->finished = true;
			r = next;
		}
		st->putting = false;
		pthread_cond_broadcast(&st->put_done);
	}
	pthread_mutex_unlock(&st->put_lock);
	if (me.rc && err)
		*err = me.err;
	return me.rc;
}

int sl_stage_sync(struct sl_stage *st, struct sl_err *err)
{
	int64_t sync_ns = 0;
	int rc = 0;
	/* a block staged without sync went to a journal its round opened before it returned */
	for (size_t i = 0; i < st->nown && !rc; i++)
		if (st->dirs[i]->journal)
			rc = sl_journal_sync(st->dirs[i]->journal, &sync_ns, err);
	sl_stat_add(&st->cfg.stats->stage_sync_ns, (uint64_t)sync_ns);
	return rc;
}

/* The staged block key of d: from its journal while only that holds it, else its file. */
static int read_staged(struct sdir *d, const char *key, uint8_t **data, uint32_t *len,
		       struct sl_err *err)
{
	if (d->journal) {
		int rc = sl_journal_read(d->journal, key, data, len, err);
		if (rc != -ENOENT)
			return rc;
	}
	char p[PATH_MAX];
	path_of(d, key, p, sizeof(p));
	return sl_cachefile_read_all(p, data, len, err);
}

int sl_stage_read(struct sl_stage *st, const char *key, uint8_t **data, uint32_t *len,
		  struct sl_err *err)
{
	return read_staged(own_dir(st, key), key, data, len, err);
}

/* The staged copy of key in d is in object storage now: keep it as a cached block. One only the
 * journal holds stays readable there until its generation ends (small blocks: an hflushed
 * slice's last, which compaction soon replaces; not worth a cache file of their own). */
static void retire(struct sl_stage *st, struct sdir *d, const char *key)
{
	if (d->journal && sl_journal_retire(d->journal, key))
		return;
	char p[PATH_MAX];
	path_of(d, key, p, sizeof(p));
	if (!strncmp(d->path, sl_diskcache_root(st->cfg.disk, key),
		     strlen(sl_diskcache_root(st->cfg.disk, key))))
		sl_diskcache_adopt(st->cfg.disk, key, p);
	else
		unlink(p);
}

void sl_stage_forget(struct sl_stage *st, const char *key)
{
	forget(own_dir(st, key), key);
}

void sl_stage_uploaded(struct sl_stage *st, const char *key)
{
	retire(st, own_dir(st, key), key);
}

void sl_stage_orphan(struct sl_stage *st, const char *key)
{
	pthread_mutex_lock(&st->lock);
	queue_add_locked(st, key, own_dir(st, key), sl_clock_mono_s(st->cfg.clock) + RETRY_MIN_S, 0);
	pthread_mutex_unlock(&st->lock);
}

/* The slice id of a block key ".../<id>_<index>_<length>"; 0 if it is not one. */
static uint64_t key_slice(const char *key)
{
	const char *base = strrchr(key, '/');
	unsigned long long id;
	unsigned indx, len;
	char extra;
	if (sscanf(base ? base + 1 : key, "%llu_%u_%u%c", &id, &indx, &len, &extra) != 3)
		return 0;
	return id;
}

/* Deletes what is left of a slice that is gone or unreferenced: the object of key (an upload may
 * have stored it), and with a row left every block and the row. */
static void bury(struct sl_stage *st, const char *key, uint64_t id, enum liveness l, uint32_t size)
{
	struct sl_err err = {0};
	if (sl_obj_delete(st->cfg.store, key, &err))
		sl_log(st->cfg.log, SL_LOG_WARN, "cannot delete %s: %s (left for gc)", key, err.msg);
	if (l == SLICE_UNREFERENCED)
		st->cfg.vol.delete_slice(st->cfg.vol.arg, id, size);
}

void sl_stage_store_ok(struct sl_stage *st)
{
	if (!atomic_load(&st->backing_off) || !atomic_exchange(&st->backing_off, false))
		return;
	int64_t now = sl_clock_mono_s(st->cfg.clock);
	pthread_mutex_lock(&st->lock);
	for (struct queued *q = st->queue; q; q = q->next)
		if (q->next_try > now)
			q->next_try = now;
	pthread_mutex_unlock(&st->lock);
}

struct retry_task {
	struct sl_stage *st;
	struct queued *q;
};

static void retry_run(void *arg)
{
	struct retry_task *t = arg;
	struct sl_stage *st = t->st;
	struct queued *q = t->q;
	struct sl_err err = {0};
	uint8_t *data = NULL;
	uint32_t len = 0, size = 0;
	uint64_t id = key_slice(q->key);
	int rc = read_staged(q->dir, q->key, &data, &len, &err);
	bool drop = false, stored = false, store_failed = false;
	enum liveness l = SLICE_LIVE;
	if (rc == -ENOENT || rc == -EBADMSG) {
		if (rc == -EBADMSG) {
			sl_log(st->cfg.log, SL_LOG_WARN, "dropping staged block %s: %s (a write cut "
			       "short by a crash; its hflush had not returned)", q->key, err.msg);
			forget(q->dir, q->key);
		}
		drop = true;
	} else if (!rc && (l = liveness(st, id, &size, &err)) == SLICE_UNKNOWN) {
		rc = err.code ? err.code : -EIO;
	} else if (!rc && l != SLICE_LIVE) {
		sl_log(st->cfg.log, SL_LOG_INFO, "dropping staged block %s: its slice is %s", q->key,
		       l == SLICE_GONE ? "not committed or deleted" : "no longer referenced");
		bury(st, q->key, id, l, size);
		forget(q->dir, q->key);
		drop = true;
	} else if (!rc) {
		/* A dead client's block: the cache group's holders of its replicas may be uploading
		 * it too; one of them does (DONE: it is there, as if uploaded here). */
		enum sl_meta_claim claim = SL_CLAIM_WON;
		rc = q->dir->own ? st->cfg.vol.store_block(st->cfg.vol.arg, q->key, data, len, &err)
				 : sl_upload_claimed(st->cfg.meta, q->key, data, len,
						     st->cfg.vol.store_block, st->cfg.vol.arg,
						     &claim, &err);
		if (!rc && claim == SL_CLAIM_HELD)
			rc = sl_errf(&err, -EAGAIN, "another node is uploading it");
		store_failed = rc != 0 && claim != SL_CLAIM_HELD;
		if (!rc) {
			stored = drop = true;
			/* Deleted by another client while this upload ran: it must not stay. */
			struct sl_err lerr = {0};
			l = liveness(st, id, &size, &lerr);
			if (l == SLICE_GONE || l == SLICE_UNREFERENCED) {
				bury(st, q->key, id, l, size);
				forget(q->dir, q->key);
			} else {
				retire(st, q->dir, q->key);
			}
		}
	}
	free(data);
	if (stored)
		sl_stage_store_ok(st);
	pthread_mutex_lock(&st->lock);
	q->uploading = false;
	if (drop) {
		struct queued **pp = &st->queue;
		while (*pp != q)
			pp = &(*pp)->next;
		*pp = q->next;
		struct sdir *d = q->dir;
		if (--d->waiting == 0 && !d->own)
			remove_dir(d); /* its lock stays held until free: no one else recovers it */
		free(q);
	} else {
		int delay = RETRY_MIN_S << (q->attempts < 6 ? q->attempts : 6);
		q->attempts++;
		q->next_try = sl_clock_mono_s(st->cfg.clock) +
			      (delay > RETRY_MAX_S ? RETRY_MAX_S : delay);
		if (store_failed) /* (not when the database could not tell the slice's state) */
			atomic_store(&st->backing_off, true);
		sl_log(st->cfg.log, SL_LOG_WARN, "uploading staged block %s: %s (retrying in %d s)",
		       q->key, err.msg, delay > RETRY_MAX_S ? RETRY_MAX_S : delay);
	}
	pthread_mutex_unlock(&st->lock);
	free(t);
}

struct pending_task {
	struct sl_stage *st;
	struct pending *pd;
};

/* A dead client's merged slice: kept if its compaction committed, deleted otherwise. */
static void pending_run(void *arg)
{
	struct pending_task *t = arg;
	struct sl_stage *st = t->st;
	struct pending *pd = t->pd;
	struct sl_err err = {0};
	uint32_t size = 0;
	enum liveness l = liveness(st, pd->id, &size, &err);
	bool done = l != SLICE_UNKNOWN;
	if (l == SLICE_GONE)
		done = st->cfg.vol.delete_slice_blocks(st->cfg.vol.arg, pd->id, pd->size);
	else if (l == SLICE_UNREFERENCED)
		st->cfg.vol.delete_slice(st->cfg.vol.arg, pd->id, size);
	if (l == SLICE_GONE)
		sl_log(st->cfg.log, SL_LOG_INFO, "deleted slice %" PRIu64 " of a compaction that "
		       "did not commit (%s)", pd->id, pd->dir->path);
	pthread_mutex_lock(&st->lock);
	pd->checking = false;
	if (done) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/" PENDING_DIR "/%" PRIu64 "_%u", pd->dir->path, pd->id,
			 pd->size);
		unlink(p);
		struct pending **pp = &st->pending;
		while (*pp != pd)
			pp = &(*pp)->next;
		*pp = pd->next;
		if (--pd->dir->waiting == 0 && !pd->dir->own)
			remove_dir(pd->dir);
		free(pd);
	} else {
		pd->next_try = sl_clock_mono_s(st->cfg.clock) + RETRY_MIN_S;
	}
	pthread_mutex_unlock(&st->lock);
	free(t);
}

void sl_stage_sweep(struct sl_stage *st)
{
	int64_t now = sl_clock_mono_s(st->cfg.clock);
	pthread_mutex_lock(&st->lock);
	/* While blocks wait after failures, try the one due first now and then, whatever its
	 * delay: if it gets through, the store answers again and all of them become due. */
	struct queued *first = NULL;
	bool due = false, busy = false;
	for (struct queued *q = st->queue; q; q = q->next) {
		busy |= q->uploading;
		if (q->uploading)
			continue;
		due |= q->next_try <= now;
		if (!first || q->next_try < first->next_try)
			first = q;
	}
	if (first && !due && !busy && atomic_load(&st->backing_off) && now >= st->next_probe) {
		first->next_try = now;
		st->next_probe = now + PROBE_S;
	}
	for (struct queued *q = st->queue; q; q = q->next) {
		if (q->uploading || q->next_try > now || q->not_before > now)
			continue;
		struct retry_task *t = malloc(sizeof(*t));
		if (!t)
			break;
		*t = (struct retry_task){.st = st, .q = q};
		q->uploading = true;
		if (sl_pool_submit(st->cfg.uploads, retry_run, t)) {
			q->uploading = false;
			free(t);
			break;
		}
	}
	for (struct pending *pd = st->pending; pd; pd = pd->next) {
		if (pd->checking || pd->next_try > now)
			continue;
		struct pending_task *t = malloc(sizeof(*t));
		if (!t)
			break;
		*t = (struct pending_task){.st = st, .pd = pd};
		pd->checking = true;
		if (sl_pool_submit(st->cfg.uploads, pending_run, t)) {
			pd->checking = false;
			free(t);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

size_t sl_stage_backlog(struct sl_stage *st)
{
	size_t n = 0;
	pthread_mutex_lock(&st->lock);
	for (struct queued *q = st->queue; q; q = q->next)
		n++;
	pthread_mutex_unlock(&st->lock);
	return n;
}

bool sl_stage_recovered(const struct sl_stage *st)
{
	return st->recovered;
}

/* The marker of a merged slice in our first directory. */
static void pending_path(struct sl_stage *st, uint64_t id, uint32_t size, char *out, size_t n)
{
	snprintf(out, n, "%s/" PENDING_DIR "/%" PRIu64 "_%u", st->dirs[0]->path, id, size);
}

int sl_stage_pending_begin(struct sl_stage *st, uint64_t id, uint32_t size, struct sl_err *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" PENDING_DIR, st->dirs[0]->path);
	if (mkdir(p, 0700) && errno != EEXIST)
		return sl_errf(err, -errno, "creating %s: %s", p, strerror(errno));
	pending_path(st, id, size, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sl_errf(err, -errno, "creating %s: %s", p, strerror(errno));
	close(fd);
	return 0;
}

void sl_stage_pending_end(struct sl_stage *st, uint64_t id, uint32_t size)
{
	char p[PATH_MAX];
	pending_path(st, id, size, p, sizeof(p));
	unlink(p);
}

static struct hold **hold_find_locked(struct sl_stage *st, uint64_t id)
{
	struct hold **pp = &st->holds[(id * 0x9E3779B97F4A7C15ULL) >> 56];
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

void sl_stage_hold(struct sl_stage *st, uint64_t id)
{
	pthread_mutex_lock(&st->lock);
	struct hold **pp = hold_find_locked(st, id);
	if (*pp) {
		(*pp)->count++;
	} else {
		struct hold *h = calloc(1, sizeof(*h));
		if (h) { /* without it a deletion is not deferred: at worst an object leaks */
			h->id = id;
			h->count = 1;
			*pp = h;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

bool sl_stage_unhold(struct sl_stage *st, uint64_t id, uint32_t *size)
{
	bool doomed = false;
	pthread_mutex_lock(&st->lock);
	struct hold **pp = hold_find_locked(st, id);
	struct hold *h = *pp;
	if (h && --h->count == 0) {
		doomed = h->doomed;
		*size = h->size;
		*pp = h->next;
		free(h);
	}
	pthread_mutex_unlock(&st->lock);
	return doomed;
}

bool sl_stage_defer_delete(struct sl_stage *st, uint64_t id, uint32_t size)
{
	pthread_mutex_lock(&st->lock);
	struct hold *h = *hold_find_locked(st, id);
	if (h) {
		h->doomed = true;
		h->size = size;
	}
	pthread_mutex_unlock(&st->lock);
	return h != NULL;
}
