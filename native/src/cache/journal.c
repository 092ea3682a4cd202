/*
 * journal.c - the write-ahead journal of a staging directory (stage.c). An hflush must not
 * return before its blocks survive a crash of the machine (or, with background commits and
 * copies on other nodes, of the process: the commit makes them durable first). Making each staged cache file
 * durable costs an fdatasync of a new file, a rename and an fsync of its directory per round;
 * instead a round appends its blocks to DIR/.journal, one preallocated file, and fdatasyncs that
 * alone. The cache files themselves are written without syncing: a crash of the process keeps
 * them (they are in the page cache), a crash of the machine may lose or tear them, and the
 * client that takes the directory over replays the journal first, rewriting every block whose
 * cache file is missing or fails verification.
 *
 * Small blocks (the last block of an hflushed slice, a WAL's records mostly) need no cache file
 * at all while they are staged: creating one per hflush costs more than the journal's append
 * (inode allocation dominates a WAL writer's CPU profile). Appended without a file, a block is
 * read from the journal (sl_journal_read) until it is retired (uploaded and committed: it is
 * then needed nowhere, as its object serves readers) or its generation ends, when the journal
 * writes its cache file, so that it is staged as any other block from then on. A cache group's
 * holder keeps small replicas so too, and has their files written when it sweeps its replicas
 * (sl_journal_write_files), since its sweep works on files.
 *
 * The file is reused in generations. When a round does not fit, the blocks of the generation
 * that are still staged are made durable in their own files (written first where only the
 * journal held them) with their directories, then the generation number in the header is
 * bumped, which retires every older record at once. Each record carries its generation and a
 * CRC32C, so replay stops at the first torn or stale one: nothing after it was acknowledged.
 * That costs what those files cost, under the lock, so appends wait for it: with more than a
 * few blocks still staged (uploads behind a busy WAL, a holder's replicas kept for minutes;
 * thousands of 1 KiB blocks took 2.6 s) the file grows by another SL_JOURNAL_CAPACITY instead,
 * up to SL_JOURNAL_MAX, and the generation goes on; the first rollover after that shrinks the
 * file back.
 *
 * Appenders may be many threads (a block server's connections): each writes its records under
 * the lock, then waits until an fdatasync that started after its write has finished; one of
 * the waiters runs it for all (group sync), so concurrent appends share the sync. An append
 * without sync leaves that to a later sl_journal_sync, which shares it the same way.
 *
 * Layout (little-endian): a 32-byte header ("SLJN", version, generation u64, CRC32C of the 16
 * bytes before it), then records: "SLJR", key length, data length, low 32 bits of the
 * generation, CRC32C of those 16 bytes + key + data, 0; the key, the block's bytes, zeros up to
 * a multiple of 8.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../chunk/chunk.h"
#include "../util/clock.h"
#include "../util/crc32c.h"
#include "../util/fileio.h"
#include "../util/lru.h"
#include "cachefile.h"
#include "journal.h"

#define JOURNAL_FILE ".journal"
#define HEADER 32
#define REC_HEADER 24
#define VERSION 1
#define MAX_IOV 1020        /* under IOV_MAX, a multiple of the 4 pieces of a record */

static const uint8_t FILE_MAGIC[4] = {'S', 'L', 'J', 'N'};
static const uint8_t REC_MAGIC[4] = {'S', 'L', 'J', 'R'};

/* A block of the current generation. */
struct jentry {
	struct sl_lru_link link; /* in the index, by key */
	struct jentry *next;     /* in the order appended */
	uint64_t off;            /* its record */
	uint32_t len;            /* the block's bytes */
	bool has_file;           /* its cache file exists (written by the appender, or by us) */
	bool retired;            /* needed no longer: its file is not to be written or synced */
	char key[];
};

struct sl_journal {
	char dir[PATH_MAX];
	int fd;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t synced_cond;
	uint64_t gen;
	uint64_t off;     /* end of this generation's records */
	uint64_t capacity; /* the file's allocated size (SL_JOURNAL_CAPACITY, more when grown) */
	struct sl_lru index;             /* this generation's blocks by key */
	struct jentry *entries, **tail;  /* the same, in the order appended */
	/* bytes appended over all generations, and how many of them are durable */
	uint64_t written, synced;
	bool syncing;     /* a waiter runs the fdatasync for everyone */
	/* A failed fdatasync fails every append it covered, (failed_from, failed_upto]: a later
	 * sync could succeed with their pages lost (the kernel reports a writeback error once). */
	uint64_t failed_from, failed_upto;
	int sync_err;
};

static size_t padding(size_t n)
{
	return (8 - n % 8) % 8;
}

/* sl_fsync_path with the sign of this file's errors. */
static int fsync_path(const char *path)
{
	return -sl_fsync_path(path);
}

static int write_header(struct sl_journal *j)
{
	uint8_t h[HEADER] = {0};
	memcpy(h, FILE_MAGIC, 4);
	sl_put_le32(h + 4, VERSION);
	sl_put_le64(h + 8, j->gen);
	sl_put_le32(h + 16, sl_crc32c(0, h, 16));
	ssize_t n = pwrite(j->fd, h, HEADER, 0);
	if (n != HEADER)
		return n < 0 ? -errno : -EIO;
	return fdatasync(j->fd) ? -errno : 0;
}

static bool entry_is(const struct sl_lru_link *l, const void *key)
{
	return !strcmp(((const struct jentry *)l)->key, key);
}

static uint64_t key_hash(const char *key)
{
	return sl_lru_hash(SL_LRU_HASH_INIT, key, strlen(key));
}

static struct jentry *find_entry(const struct sl_journal *j, const char *key)
{
	return (struct jentry *)sl_lru_find(&j->index, key_hash(key), key);
}

static void free_entry(struct sl_lru_link *l, void *arg)
{
	(void)arg;
	free(l);
}

/* Forgets the generation's blocks (each is in the index once, see note_entry). */
static void free_entries(struct sl_journal *j)
{
	sl_lru_clear(&j->index, free_entry, NULL);
	j->entries = NULL;
	j->tail = &j->entries;
}

int sl_journal_open(const char *dir, struct sl_journal **out, struct sl_err *err)
{
	*out = NULL;
	struct sl_journal *j = calloc(1, sizeof(*j));
	if (!j)
		return sl_errf(err, -ENOMEM, "out of memory");
	char path[PATH_MAX];
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		int e = errno;
		free(j);
		return sl_errf(err, -e, "creating staging journal %s: %s", path, strerror(e));
	}
	/* Allocated up front, so that an append changes no metadata the fdatasync must carry
	 * (where the file system supports it; otherwise the first generation pays for it). */
	(void)posix_fallocate(j->fd, 0, SL_JOURNAL_CAPACITY);
	j->capacity = SL_JOURNAL_CAPACITY;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->synced_cond, NULL);
	j->gen = 1;
	j->off = HEADER;
	j->tail = &j->entries;
	int rc = sl_lru_init(&j->index, 256, SIZE_MAX, entry_is);
	if (!rc)
		rc = write_header(j);
	if (!rc)
		rc = fsync_path(dir); /* the journal's own entry must survive the crash too */
	if (rc) {
		close(j->fd);
		unlink(path);
		sl_lru_destroy(&j->index);
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->synced_cond);
		free(j);
		return sl_errf(err, rc, "creating staging journal %s: %s", path, strerror(-rc));
	}
	*out = j;
	return 0;
}

/* Writes every iovec at off, whatever pwritev accepts at a time. */
static int pwritev_all(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (uint64_t)w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads and verifies the block of a record at off into a new buffer (caller frees): 0, or
 * -ESTALE if the record is no longer there (a later generation wrote over it), or -errno. The
 * lock need not be held: the check of the record's generation and CRC catches a record
 * rewritten meanwhile. */
static int read_record(int fd, uint64_t gen, const char *key, uint64_t off, uint32_t len,
		       uint8_t **out)
{
	size_t klen = strlen(key);
	uint8_t r[REC_HEADER];
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	int rc = sl_pread_all(fd, r, REC_HEADER, off);
	if (!rc && (memcmp(r, REC_MAGIC, 4) || sl_get_le32(r + 4) != klen ||
		    sl_get_le32(r + 8) != len || sl_get_le32(r + 12) != (uint32_t)gen))
		rc = -ESTALE;
	if (!rc)
		rc = sl_pread_all(fd, data, len, off + REC_HEADER + klen);
	if (!rc) {
		uint32_t crc = sl_crc32c(sl_crc32c(0, r, 16), key, klen);
		if (sl_crc32c(crc, data, len) != sl_get_le32(r + 16))
			rc = -ESTALE;
	}
	if (rc) {
		free(data);
		return rc;
	}
	*out = data;
	return 0;
}

/* Makes the blocks of this generation that are still staged durable with their directories
 * (up to the journal's directory), so that its records are no longer needed: the files only
 * the journal held are written first. Many of them (a holder keeps replicas for minutes) are
 * synced with the whole file system at once: one syncfs costs what the dirty data costs, an
 * fdatasync per file what the files cost (seconds for a few thousand on a busy disk). Called
 * with the lock held. */
#define SYNC_EACH_MAX 16
/* A rollover writes at most this many files (else the journal grows, if it may) */
#define ROLLOVER_WRITES_MAX 64
static int sync_staged(struct sl_journal *j, int64_t *sync_ns)
{
	int64_t t0 = sl_mono_ns();
	int rc = 0;
	size_t nkeys = 0;
	for (struct jentry *e = j->entries; e && !rc; e = e->next) {
		if (e->retired)
			continue;
		nkeys++;
		if (e->has_file)
			continue;
		char p[PATH_MAX];
		uint8_t *data = NULL;
		struct sl_err err = {0};
		snprintf(p, sizeof(p), "%s/%s", j->dir, e->key);
		rc = read_record(j->fd, j->gen, e->key, e->off, e->len, &data);
		if (!rc)
			rc = sl_cachefile_write(p, data, e->len, false, &err);
		free(data);
		e->has_file = !rc;
	}
	if (!rc && nkeys > SYNC_EACH_MAX) {
		rc = syncfs(j->fd) ? -errno : 0;
		if (sync_ns)
			*sync_ns += sl_mono_ns() - t0;
		return rc;
	}
	char last_dir[PATH_MAX] = "";
	for (struct jentry *e = j->entries; e && !rc; e = e->next) {
		if (e->retired)
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", j->dir, e->key);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT) /* ENOENT: uploaded and moved to the cache, or dropped */
				rc = -errno;
			continue;
		}
		if (fdatasync(fd))
			rc = -errno;
		close(fd);
		/* its directory and those above it, up to ours; keys of a stream share them */
		char *slash = strrchr(p, '/');
		*slash = 0;
		if (!strcmp(p, last_dir))
			continue;
		snprintf(last_dir, sizeof(last_dir), "%s", p);
		size_t base = strlen(j->dir);
		while (!rc && strlen(p) > base) {
			rc = fsync_path(p);
			*strrchr(p, '/') = 0;
		}
	}
	if (!rc)
		rc = fsync_path(j->dir);
	if (sync_ns)
		*sync_ns += sl_mono_ns() - t0;
	return rc;
}

/* Indexes the block just appended at off. A key appended again in one generation (a replica
 * sent twice) keeps one entry, now naming the newer record. */
static int note_entry(struct sl_journal *j, const char *key, uint64_t off, uint32_t len,
		      bool has_file)
{
	struct jentry *e = find_entry(j, key);
	if (!e) {
		size_t n = strlen(key) + 1;
		e = calloc(1, sizeof(*e) + n);
		if (!e)
			return -ENOMEM;
		memcpy(e->key, key, n);
		sl_lru_insert(&j->index, &e->link, key_hash(key));
		*j->tail = e;
		j->tail = &e->next;
	}
	e->off = off;
	e->len = len;
	e->has_file = has_file;
	e->retired = false;
	return 0;
}

/* Starts the next generation: what the current one holds is made durable elsewhere first (so
 * records still waiting for their group sync are covered too). Called with the lock held. */
static int next_generation(struct sl_journal *j, int64_t *sync_ns)
{
	int rc = sync_staged(j, sync_ns);
	if (rc)
		return rc;
	j->gen++;
	if ((rc = write_header(j)))
		return rc;
	j->synced = j->written;
	j->off = HEADER;
	free_entries(j);
	pthread_cond_broadcast(&j->synced_cond);
	if (j->capacity > SL_JOURNAL_CAPACITY && !ftruncate(j->fd, SL_JOURNAL_CAPACITY))
		j->capacity = SL_JOURNAL_CAPACITY; /* the next fdatasync carries the new size */
	return 0;
}

/* A round of total bytes does not fit the file: whether to grow it rather than end the
 * generation, which would write and sync more files than appends should wait for. Grows it if
 * so. Called with the lock held. */
static bool grow(struct sl_journal *j, uint64_t total)
{
	size_t to_write = 0, to_sync = 0;
	for (struct jentry *e = j->entries; e; e = e->next)
		if (!e->retired && e->has_file)
			to_sync++;
		else if (!e->retired)
			to_write++;
	if (to_write <= ROLLOVER_WRITES_MAX && to_sync <= SYNC_EACH_MAX)
		return false;
	uint64_t step = SL_JOURNAL_CAPACITY;
	while (step < total)
		step += SL_JOURNAL_CAPACITY;
	if (j->capacity + step > SL_JOURNAL_MAX || posix_fallocate(j->fd, (off_t)j->capacity,
								    (off_t)step))
		return false;
	j->capacity += step;
	return true;
}

/* Returns once the first `upto` bytes ever appended are durable: by an fdatasync this thread
 * runs for everyone waiting, or one another thread started after they were written. Called
 * with the lock held. */
static int group_sync(struct sl_journal *j, uint64_t upto, int64_t *sync_ns)
{
	for (;;) {
		if (upto > j->failed_from && upto <= j->failed_upto)
			return j->sync_err;
		if (j->synced >= upto)
			return 0;
		if (j->syncing) {
			pthread_cond_wait(&j->synced_cond, &j->lock);
			continue;
		}
		j->syncing = true;
		uint64_t target = j->written, from = j->synced;
		pthread_mutex_unlock(&j->lock);
		int64_t t0 = sl_mono_ns();
		int rc = fdatasync(j->fd) ? -errno : 0;
		if (sync_ns)
			*sync_ns += sl_mono_ns() - t0;
		pthread_mutex_lock(&j->lock);
		j->syncing = false;
		if (rc) {
			j->sync_err = rc;
			if (!j->failed_upto || from < j->failed_from)
				j->failed_from = from;
			if (target > j->failed_upto)
				j->failed_upto = target;
		} else if (target > j->synced) {
			j->synced = target;
		}
		pthread_cond_broadcast(&j->synced_cond);
	}
}

int sl_journal_append(struct sl_journal *j, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, bool with_files, bool sync, int64_t *sync_ns,
		      struct sl_err *err)
{
	if (!n)
		return 0;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += REC_HEADER + strlen(keys[i]) + lens[i] + padding(strlen(keys[i]) + lens[i]);
	/* Each record is written from where its pieces are; only the headers are built here. */
	uint8_t (*hdr)[REC_HEADER] = malloc(n * sizeof(*hdr));
	struct iovec *iov = malloc(4 * n * sizeof(*iov));
	static const uint8_t zeros[8] = {0};
	if (!hdr || !iov) {
		free(hdr);
		free(iov);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&j->lock);
	int rc = 0;
	if (j->off > HEADER && j->off + total > j->capacity && !grow(j, total) &&
	    (rc = next_generation(j, sync_ns))) {
		pthread_mutex_unlock(&j->lock);
		free(hdr);
		free(iov);
		return sl_errf(err, rc, "staging journal in %s: making staged blocks durable: %s",
			       j->dir, strerror(-rc));
	}
	int niov = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t klen = (uint32_t)strlen(keys[i]);
		memcpy(hdr[i], REC_MAGIC, 4);
		sl_put_le32(hdr[i] + 4, klen);
		sl_put_le32(hdr[i] + 8, lens[i]);
		sl_put_le32(hdr[i] + 12, (uint32_t)j->gen);
		uint32_t crc = sl_crc32c(0, hdr[i], 16);
		crc = sl_crc32c(crc, keys[i], klen);
		sl_put_le32(hdr[i] + 16, sl_crc32c(crc, data[i], lens[i]));
		sl_put_le32(hdr[i] + 20, 0);
		iov[niov++] = (struct iovec){hdr[i], REC_HEADER};
		iov[niov++] = (struct iovec){(void *)keys[i], klen};
		iov[niov++] = (struct iovec){(void *)data[i], lens[i]};
		iov[niov++] = (struct iovec){(void *)zeros, padding(klen + lens[i])};
	}
	uint64_t off = j->off;
	for (int at = 0; at < niov && !rc; at += MAX_IOV) {
		int cnt = niov - at < MAX_IOV ? niov - at : MAX_IOV;
		uint64_t bytes = 0;
		for (int k = at; k < at + cnt; k++)
			bytes += iov[k].iov_len;
		rc = pwritev_all(j->fd, iov + at, cnt, off);
		off += bytes;
	}
	free(iov);
	free(hdr);
	if (!rc) { /* the next append writes over whatever part of a failed one landed */
		uint64_t at = j->off;
		j->off = off;
		j->written += total;
		for (size_t i = 0; i < n && !rc; i++) {
			size_t klen = strlen(keys[i]);
			if (note_entry(j, keys[i], at, lens[i], with_files)) {
				/* Without its entry the generation cannot be retired safely: now,
				 * then, with the files of the blocks not indexed written first. */
				for (size_t k = i; k < n && !with_files && !rc; k++) {
					char p[PATH_MAX];
					snprintf(p, sizeof(p), "%s/%s", j->dir, keys[k]);
					rc = sl_cachefile_write(p, data[k], lens[k], false, err);
				}
				if (!rc)
					rc = next_generation(j, sync_ns);
				break;
			}
			at += REC_HEADER + klen + lens[i] + padding(klen + lens[i]);
		}
	}
	if (!rc && sync)
		rc = group_sync(j, j->written, sync_ns);
	pthread_mutex_unlock(&j->lock);
	return rc ? sl_errf(err, rc, "writing staging journal in %s: %s", j->dir, strerror(-rc))
		  : 0;
}

int sl_journal_sync(struct sl_journal *j, int64_t *sync_ns, struct sl_err *err)
{
	pthread_mutex_lock(&j->lock);
	int rc = group_sync(j, j->written, sync_ns);
	pthread_mutex_unlock(&j->lock);
	return rc ? sl_errf(err, rc, "syncing staging journal in %s: %s", j->dir, strerror(-rc))
		  : 0;
}

void sl_journal_close(struct sl_journal *j, const struct sl_logger *log)
{
	if (!j)
		return;
	/* The blocks still staged stay for the next client; made durable, they no longer need
	 * the journal. If that fails, the journal stays and is replayed by the next client. */
	pthread_mutex_lock(&j->lock);
	int rc = sync_staged(j, NULL);
	free_entries(j);
	pthread_mutex_unlock(&j->lock);
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->synced_cond);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, j->dir);
	if (!rc) {
		unlink(path);
		fsync_path(j->dir);
	} else {
		sl_log(log, SL_LOG_WARN, "cannot make staged blocks in %s durable (%s); the next "
		       "client on this cache directory restores them from %s", j->dir,
		       strerror(-rc), path);
	}
	sl_lru_destroy(&j->index);
	free(j);
}

int sl_journal_read(struct sl_journal *j, const char *key, uint8_t **data, uint32_t *len,
		    struct sl_err *err)
{
	pthread_mutex_lock(&j->lock);
	struct jentry *e = find_entry(j, key);
	bool here = e && !e->has_file;
	uint64_t gen = j->gen, off = e ? e->off : 0;
	uint32_t n = e ? e->len : 0;
	pthread_mutex_unlock(&j->lock);
	if (!here)
		return -ENOENT;
	/* Read without the lock, so that appends go on meanwhile; a record a new generation
	 * wrote over is detected, and by then its block has a file (or was retired). */
	int rc = read_record(j->fd, gen, key, off, n, data);
	if (rc == -ESTALE)
		return -ENOENT;
	if (rc)
		return sl_errf(err, rc, "reading staged block %s from the journal in %s: %s", key,
			       j->dir, strerror(-rc));
	*len = n;
	return 0;
}

bool sl_journal_retire(struct sl_journal *j, const char *key)
{
	pthread_mutex_lock(&j->lock);
	struct jentry *e = find_entry(j, key);
	bool only_here = e && !e->has_file && !e->retired;
	if (e)
		e->retired = true;
	pthread_mutex_unlock(&j->lock);
	return only_here;
}

int sl_journal_write_files(struct sl_journal *j, struct sl_err *err)
{
	char key[PATH_MAX], path[PATH_MAX];
	int written = 0, rc = 0;
	pthread_mutex_lock(&j->lock);
	const uint64_t gen = j->gen;
	struct jentry *e = j->entries;
	/* e stays valid while the generation does: its entries are freed only when it ends */
	while (!rc && j->gen == gen) {
		while (e && (e->has_file || e->retired))
			e = e->next;
		if (!e)
			break;
		uint64_t off = e->off;
		uint32_t len = e->len;
		snprintf(key, sizeof(key), "%s", e->key);
		pthread_mutex_unlock(&j->lock);
		uint8_t *data = NULL;
		struct sl_cachefile_pending pf;
		snprintf(path, sizeof(path), "%s/%s", j->dir, key);
		rc = read_record(j->fd, gen, key, off, len, &data);
		if (!rc)
			rc = sl_cachefile_begin(&pf, path, data, len, err);
		else if (rc != -ESTALE)
			sl_errf(err, rc, "reading staged block %s from the journal: %s", key,
				strerror(-rc));
		free(data);
		pthread_mutex_lock(&j->lock);
		if (rc)
			break;
		/* Its generation ended meanwhile (which wrote the file, durably), it was retired
		 * (its file is needed nowhere), or appended again (the newer record is written
		 * next): this file is not needed. */
		if (j->gen != gen || e->off != off || e->has_file || e->retired) {
			sl_cachefile_abandon(&pf);
			continue;
		}
		rc = sl_cachefile_finish(&pf, false, NULL, err);
		e->has_file = !rc;
		written += !rc;
	}
	pthread_mutex_unlock(&j->lock);
	if (rc == -ESTALE) /* the generation ended: it wrote the files of the rest */
		rc = 0;
	return rc ? sl_err_wrap(err, "staging journal in %s: writing the files of its blocks",
				j->dir)
		  : written;
}


/* A key names a file below the directory: no absolute path, no "..", no empty component. */
static bool key_is_safe(const char *key)
{
	if (!*key || key[0] == '/')
		return false;
	for (const char *c = key; *c;) {
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (!len || (len == 2 && !memcmp(c, "..", 2)) || (len == 1 && *c == '.'))
			return false;
		c += len + (end ? 1 : 0);
		if (end && !*c)
			return false;
	}
	return true;
}

/* Restores one journaled block: kept if its cache file verifies (then made durable), else
 * rewritten durably. Returns 1 if rewritten, 0 if kept, or a negative errno. */
static int restore(const char *dir, const char *key, const uint8_t *data, uint32_t len,
		   struct sl_err *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", dir, key) >= (int)sizeof(p))
		return sl_errf(err, -ENAMETOOLONG, "staged block path too long: %s/%s", dir, key);
	uint8_t *have = NULL;
	uint32_t have_len = 0;
	struct sl_err e = {0};
	if (!sl_cachefile_read_all(p, &have, &have_len, &e)) {
		bool same = have_len == len && !memcmp(have, data, len);
		free(have);
		if (same) {
			int rc = fsync_path(p);
			return rc ? sl_errf(err, rc, "fsync of %s: %s", p, strerror(-rc)) : 0;
		}
	}
	int rc = sl_cachefile_write(p, data, len, true, err);
	return rc ? rc : 1;
}

int sl_journal_replay(const char *dir, const struct sl_logger *log, struct sl_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : sl_errf(err, -errno, "opening staging journal %s: %s", path,
						 strerror(errno));
	uint8_t h[HEADER];
	int rc = sl_pread_all(fd, h, HEADER, 0);
	bool valid = !rc && !memcmp(h, FILE_MAGIC, 4) && sl_get_le32(h + 4) == VERSION &&
		     sl_get_le32(h + 16) == sl_crc32c(0, h, 16);
	/* A torn header: the journal was being created (no record yet) or a generation was
	 * being retired (its blocks were durable already). Nothing to restore either way. */
	uint32_t gen = valid ? (uint32_t)sl_get_le64(h + 8) : 0;
	uint64_t off = HEADER;
	size_t records = 0, rewritten = 0;
	rc = 0;
	uint8_t *buf = NULL;
	size_t cap = 0;
	while (valid && !rc) {
		uint8_t r[REC_HEADER];
		if (sl_pread_all(fd, r, REC_HEADER, off) || memcmp(r, REC_MAGIC, 4) ||
		    sl_get_le32(r + 12) != gen)
			break; /* the end of the generation, or a torn tail */
		uint32_t klen = sl_get_le32(r + 4), dlen = sl_get_le32(r + 8);
		if (!klen || klen >= SL_KEY_MAX || dlen > SL_CHUNK_SIZE)
			break;
		size_t need = (size_t)klen + 1 + dlen;
		if (need > cap) {
			uint8_t *nb = realloc(buf, need);
			if (!nb) {
				rc = sl_errf(err, -ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap = need;
		}
		/* the key NUL-terminated in front, the block's bytes after it */
		if (sl_pread_all(fd, buf, klen, off + REC_HEADER) ||
		    sl_pread_all(fd, buf + klen + 1, dlen, off + REC_HEADER + klen))
			break;
		uint32_t crc = sl_crc32c(sl_crc32c(0, r, 16), buf, klen);
		if (sl_crc32c(crc, buf + klen + 1, dlen) != sl_get_le32(r + 16))
			break;
		buf[klen] = 0;
		off += REC_HEADER + klen + dlen + padding((size_t)klen + dlen);
		records++;
		if (!key_is_safe((char *)buf)) {
			sl_log(log, SL_LOG_WARN, "staging journal %s names an unsafe path (%s); "
			       "skipped", path, (char *)buf);
			continue;
		}
		int r2 = restore(dir, (char *)buf, buf + klen + 1, dlen, err);
		if (r2 < 0)
			rc = r2;
		else
			rewritten += (size_t)r2;
	}
	free(buf);
	close(fd);
	if (rc) /* the journal stays: the next client tries again */
		return sl_err_wrap(err, "replaying staging journal %s", path);
	if (rewritten)
		sl_log(log, SL_LOG_INFO, "restored %zu of %zu blocks from the staging journal %s "
		       "(their staged copies were lost or torn)", rewritten, records, path);
	if (unlink(path) == 0)
		fsync_path(dir);
	return 0;
}
