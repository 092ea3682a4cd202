/* test_vfs_durability.c - the durability contract across processes: hflush makes data visible to
 * a reader in another process (its own volume handle and cache dir) before the upload ends;
 * a writer killed after hflush loses nothing once a client restarts on its cache dir; one killed
 * after hsync loses nothing even without its cache dir; without a usable cache dir hflush is
 * hsync; and an HBase-style WAL (many threads appending and hflushing one stream, one hsyncing)
 * is read back complete and in order by a tailing reader. Group commit: many threads hflushing
 * one stream and several streams of a handle share metadata transactions (the volume's flush
 * counters show fewer transactions than committed slices), and every record whose hflush
 * returned is there after a kill -9 of such a writer and a restart on its cache dir. Runs on SQLite + file storage, and on
 * MariaDB + S3 when make test provides them. The writer is this program run as a child
 * ("--writer ..."), so that it can be killed with SIGKILL. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfs/vfs.h"
#include "volume_testutil.h"

/* The content of every test file: byte o is a hash of o, so any range can be checked. */
static uint8_t byte_at(uint64_t o)
{
	return (uint8_t)((o * 0x9E3779B97F4A7C15ULL) >> 56);
}

static void fill_at(uint8_t *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = byte_at(off + i);
}

static bool check_at(const uint8_t *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != byte_at(off + i)) {
			fprintf(stderr, "content differs at offset %llu\n",
				(unsigned long long)(off + i));
			return false;
		}
	return true;
}

struct backend {
	const char *name;
	sluice_format_options fmt;
	const char *meta;
	const char *broken_bucket; /* an object store that refuses every request */
	char scratch[512];         /* a private directory for cache dirs */
};

/* Opens a volume handle: the backend's meta plus "key=value" strings (NULL-terminated). */
static sluice_volume *open_with(const struct backend *b, const char *const *extra)
{
	sluice_kv conf[16];
	char keys[16][64];
	size_t n = 0;
	conf[n++] = (sluice_kv){"meta", b->meta};
	for (size_t i = 0; extra && extra[i]; i++) {
		const char *eq = strchr(extra[i], '=');
		REQUIRE(eq && n < 16);
		snprintf(keys[n], sizeof(keys[n]), "%.*s", (int)(eq - extra[i]), extra[i]);
		conf[n] = (sluice_kv){keys[n], eq + 1};
		n++;
	}
	return tu_open(conf, n);
}

/* ---- the child: writes records to PATH, flushes each, reports every flushed length ---------- */

static int writer_main(int argc, char **argv)
{
	/* --writer META CACHEDIR BUCKET|- PATH hflush|hflush-big|hsync NRECORDS hold|close
	 * (hflush-big: records of 270-400 KiB, whose staged blocks get files of their own) */
	if (argc != 9)
		return 2;
	const char *cache = argv[3], *bucket = argv[4], *path = argv[5], *mode = argv[6];
	int nrec = atoi(argv[7]);
	bool hold = !strcmp(argv[8], "hold");
	sluice_kv conf[8];
	size_t n = 0;
	conf[n++] = (sluice_kv){"meta", argv[2]};
	if (strcmp(cache, "-")) {
		conf[n++] = (sluice_kv){"cache-dir", cache};
		/* a machine's disk fuller than the default 10% free must not change what is staged */
		conf[n++] = (sluice_kv){"free-space-ratio", "0"};
	}
	if (strcmp(bucket, "-")) {
		conf[n++] = (sluice_kv){"bucket", bucket};
		conf[n++] = (sluice_kv){"io-retries", "1"};
		conf[n++] = (sluice_kv){"connect-timeout", "1"};
	}
	sluice_volume *vol;
	char msg[512];
	if (sluice_init(conf, n, &vol, msg, sizeof(msg))) {
		fprintf(stderr, "writer: %s\n", msg);
		return 1;
	}
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022, &f)) {
		fprintf(stderr, "writer: %s\n", sluice_last_error(vol));
		return 1;
	}
	bool big = !strcmp(mode, "hflush-big");
	static uint8_t buf[400 << 10];
	uint64_t off = 0;
	for (int i = 0; i < nrec; i++) {
		size_t len = big ? (270 << 10) + (size_t)(i * 7919) % (130 << 10)
				 : 100 + (size_t)(i * 7919) % 8800;
		fill_at(buf, len, off);
		if (sluice_write(f, buf, len) != (ssize_t)len ||
		    (strcmp(mode, "hsync") ? sluice_hflush(f) : sluice_hsync(f))) {
			fprintf(stderr, "writer: %s\n", sluice_last_error(vol));
			return 1;
		}
		off += len;
		printf("%llu\n", (unsigned long long)off);
		fflush(stdout);
	}
	if (hold)
		for (;;)
			pause(); /* until the test kills us */
	int rc = sluice_close(f);
	sluice_shutdown(vol);
	return rc ? 1 : 0;
}

/* ---- group commit: threads x streams appending records, each acknowledged on stdout ---------- */

enum { GC_MAGIC = 0x47435231 };

/* A record of thread t: magic, t, seq, payload length, payload (a hash of the three). */
static size_t gc_record(uint8_t *buf, uint32_t t, uint32_t seq)
{
	uint32_t plen = 40 + (t * 37 + seq * 11) % 700;
	uint32_t hdr[4] = {GC_MAGIC, t, seq, plen};
	memcpy(buf, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < plen; i++)
		buf[16 + i] = (uint8_t)((t + 3) * 5 + seq * 17 + i);
	return 16 + plen;
}

struct gc_thread {
	sluice_volume *vol;
	sluice_file *f;
	uint32_t id;
	int nrec;
	int errors;
	pthread_mutex_t *out_lock; /* NULL: do not report */
};

static void *gc_thread_main(void *p)
{
	struct gc_thread *g = p;
	uint8_t buf[1024];
	for (int seq = 0; seq < g->nrec; seq++) {
		size_t n = gc_record(buf, g->id, (uint32_t)seq);
		if (sluice_write(g->f, buf, n) != (ssize_t)n || sluice_hflush(g->f)) {
			fprintf(stderr, "gc writer %u: %s\n", g->id, sluice_last_error(g->vol));
			g->errors++;
			break;
		}
		if (g->out_lock) { /* acknowledged: the hflush returned */
			pthread_mutex_lock(g->out_lock);
			printf("%u %d\n", g->id, seq);
			fflush(stdout);
			pthread_mutex_unlock(g->out_lock);
		}
	}
	return NULL;
}

/* Runs nthreads threads over nstreams streams /gc-<i> (thread t writes stream t % nstreams),
 * nrec records each. Returns the number of failed threads. */
static int gc_run(sluice_volume *vol, const char *prefix, int nthreads, int nstreams, int nrec,
		  pthread_mutex_t *out_lock)
{
	sluice_file *f[16];
	pthread_t t[32];
	struct gc_thread g[32];
	REQUIRE(nthreads <= 32 && nstreams <= 16);
	for (int i = 0; i < nstreams; i++) {
		char path[64];
		snprintf(path, sizeof(path), "%s-%d", prefix, i);
		REQUIRE(sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022,
				    &f[i]) == 0);
	}
	for (int i = 0; i < nthreads; i++) {
		g[i] = (struct gc_thread){vol, f[i % nstreams], (uint32_t)i, nrec, 0, out_lock};
		REQUIRE(pthread_create(&t[i], NULL, gc_thread_main, &g[i]) == 0);
	}
	int failed = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		failed += g[i].errors > 0;
	}
	for (int i = 0; i < nstreams; i++)
		if (sluice_close(f[i]))
			failed++;
	return failed;
}

static int group_writer_main(int argc, char **argv)
{
	/* --group META CACHEDIR BUCKET NTHREADS NSTREAMS NRECORDS: reports "thread seq" per
	 * acknowledged record, then waits to be killed */
	if (argc != 8)
		return 2;
	sluice_kv conf[] = {{"meta", argv[2]}, {"cache-dir", argv[3]}, {"free-space-ratio", "0"},
			    {"bucket", argv[4]}, {"io-retries", "1"}, {"connect-timeout", "1"}};
	sluice_volume *vol;
	char msg[512];
	if (sluice_init(conf, 6, &vol, msg, sizeof(msg))) {
		fprintf(stderr, "group writer: %s\n", msg);
		return 1;
	}
	pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
	gc_run(vol, "/gc", atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), &out_lock);
	for (;;)
		pause(); /* until the test kills us */
}

struct child {
	pid_t pid;
	FILE *out;
};

static struct child spawn_writer(const char *self, const struct backend *b, const char *cache,
				 const char *bucket, const char *path, const char *mode, int nrec,
				 const char *end)
{
	char nbuf[16];
	snprintf(nbuf, sizeof(nbuf), "%d", nrec);
	char *const argv[] = {(char *)self, "--writer", (char *)b->meta, (char *)cache,
			      (char *)bucket, (char *)path, (char *)mode, nbuf, (char *)end, NULL};
	struct child c;
	c.pid = tu_spawn(argv, &c.out);
	return c;
}

/* The next flushed length the writer reports, or 0 at its end. */
static uint64_t next_length(struct child *c)
{
	unsigned long long v;
	return fscanf(c->out, "%llu", &v) == 1 ? v : 0;
}

static int finish(struct child *c, bool kill9)
{
	if (kill9)
		kill(c->pid, SIGKILL);
	int status = 0;
	waitpid(c->pid, &status, 0);
	fclose(c->out);
	return kill9 ? (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1)
		     : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int read_range(sluice_volume *vol, const char *path, uint64_t off, uint64_t len)
{
	sluice_file *f;
	int rc = sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n = sluice_pread(f, buf, len, off);
	rc = n < 0 ? (int)n : (uint64_t)n != len ? -EIO : check_at(buf, len, off) ? 0 : -EILSEQ;
	if (n < 0)
		fprintf(stderr, "read %s [%llu, +%llu): %s\n", path, (unsigned long long)off,
			(unsigned long long)len, sluice_last_error(vol));
	free(buf);
	sluice_close(f);
	return rc;
}

static uint64_t length_of(sluice_volume *vol, const char *path)
{
	sluice_stat st;
	return sluice_stat_path(vol, NULL, path, &st) ? UINT64_MAX : st.length;
}

/* Counts regular files under dir whose names do not start with '.'. */
static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat sb;
		if (lstat(p, &sb))
			continue;
		n += S_ISDIR(sb.st_mode) ? count_files(p) : S_ISREG(sb.st_mode) ? 1 : 0;
	}
	closedir(d);
	return n;
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* A writer process hflushes record after record; after each, a reader in this process (its own
 * handle and cache dir) opens the file and reads exactly the new bytes. */
static void test_two_processes(const char *self, struct backend *b)
{
	char wcache[600], rcache[600], gt[32] = "get-timeout=60";
	snprintf(wcache, sizeof(wcache), "%s/two-w", b->scratch);
	snprintf(rcache, sizeof(rcache), "cache-dir=%s/two-r", b->scratch);
	const char *extra[] = {rcache, gt, NULL};
	sluice_volume *vol = open_with(b, extra);
	struct child c = spawn_writer(self, b, wcache, "-", "/two", "hflush", 150, "close");
	uint64_t prev = 0, len;
	int rounds = 0;
	while ((len = next_length(&c))) {
		CHECK(length_of(vol, "/two") >= len);
		CHECK_RC(read_range(vol, "/two", prev, len - prev), 0);
		prev = len;
		rounds++;
	}
	CHECK_RC(finish(&c, false), 0);
	CHECK_RC(rounds, 150);
	CHECK_RC(length_of(vol, "/two"), prev);
	CHECK_RC(read_range(vol, "/two", 0, prev), 0);
	sluice_shutdown(vol);
}

struct bg_read {
	const char *path;
	sluice_volume *vol;
	uint64_t len;
	int rc;
};

static void *bg_read_main(void *p)
{
	struct bg_read *a = p;
	a->rc = read_range(a->vol, a->path, 0, a->len);
	return NULL;
}

/* What a crash of the machine may do to staged files that were never synced (the staging
 * journal is the only durable copy of an hflushed block): lose_unsynced empties every other file
 * under dir and removes the rest (dot files and directories excepted) and says how many. */
static size_t walked;
static const char *wanted_name;

static int damage_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)ftw;
	if (flag == FTW_F && !strstr(path, "/."))
		CHECK(walked++ % 2 ? unlink(path) == 0 : truncate(path, 0) == 0);
	return 0;
}

static size_t lose_unsynced(const char *dir)
{
	walked = 0;
	nftw(dir, damage_one, 16, FTW_PHYS);
	return walked;
}

static int count_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	walked += flag == FTW_F && !strcmp(path + ftw->base, wanted_name);
	return 0;
}

/* The files named name under dir, at any depth. */
static size_t count_named(const char *dir, const char *name)
{
	walked = 0;
	wanted_name = name;
	nftw(dir, count_one, 16, FTW_PHYS);
	return walked;
}

/* The writer's object store refuses everything, so its hflushed blocks exist only in its
 * staging area; it is killed; a client restarted on that cache dir uploads them, and a reader
 * that was waiting for them (get-timeout) gets the bytes. Small records' blocks are in the
 * staging journal alone (no file of their own): the restart restores them from it. With
 * machine_crash, the records are large, so that their blocks have files, and the files the
 * writer never synced are damaged before the restart, as a power loss may do: the restart
 * restores them from the journal too. */
static void test_kill_after_hflush(const char *self, struct backend *b, bool machine_crash)
{
	char wcache[600], cache_kv[700];
	snprintf(wcache, sizeof(wcache), "%s/crash-w%s", b->scratch, machine_crash ? "-power" : "");
	const char *path = machine_crash ? "/crash-power" : "/crash";
	/* 20 large records stay within one journal generation (8 MiB): none is synced */
	int nrec = machine_crash ? 20 : 40;
	struct child c = spawn_writer(self, b, wcache, b->broken_bucket, path,
				      machine_crash ? "hflush-big" : "hflush", nrec, "hold");
	uint64_t len = 0, l;
	for (int i = 0; i < nrec && (l = next_length(&c)); i++)
		len = l;
	CHECK_RC(finish(&c, true), 0);
	REQUIRE(len > 0);
	CHECK(count_named(wcache, ".journal") == 1);
	if (machine_crash)
		CHECK(lose_unsynced(wcache) >= 10);

	const char *quick[] = {"get-timeout=1", NULL};
	sluice_volume *probe = open_with(b, quick);
	CHECK_RC(length_of(probe, path), len);
	/* committed, but not in object storage: hflush did not wait for the upload */
	CHECK_RC(read_range(probe, path, 0, len), -EIO);
	if (!machine_crash)
		CHECK_RC(count_files(wcache), 0);

	const char *patient[] = {"get-timeout=120", NULL};
	struct bg_read r = {path, open_with(b, patient), len, -1};
	pthread_t t;
	REQUIRE(pthread_create(&t, NULL, bg_read_main, &r) == 0);
	usleep(300000); /* let the reader find the blocks missing and start waiting */

	snprintf(cache_kv, sizeof(cache_kv), "cache-dir=%s", wcache);
	const char *restart[] = {cache_kv, NULL};
	sluice_volume *rec = open_with(b, restart);
	pthread_join(t, NULL);
	CHECK_RC(r.rc, 0);
	CHECK_RC(sluice_shutdown(rec), 0);
	sluice_shutdown(r.vol);
	/* every staged block was uploaded and left the staging area */
	char staging[700];
	DIR *d = opendir(wcache);
	struct dirent *e;
	size_t staged = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(staging, sizeof(staging), "%s/%s/rawstaging", wcache, e->d_name);
		staged += count_files(staging);
	}
	if (d)
		closedir(d);
	CHECK_RC(staged, 0);
	CHECK_RC(count_named(wcache, ".journal"), 0); /* replayed, then removed */
	CHECK_RC(read_range(probe, path, 0, len), 0);
	sluice_shutdown(probe);
}

/* hsync'ed data is in object storage: kill the writer, delete its cache dir, nothing is lost. */
static void test_kill_after_hsync(const char *self, struct backend *b)
{
	char wcache[600];
	snprintf(wcache, sizeof(wcache), "%s/sync-w", b->scratch);
	struct child c = spawn_writer(self, b, wcache, "-", "/synced", "hsync", 25, "hold");
	uint64_t len = 0, l;
	for (int i = 0; i < 25 && (l = next_length(&c)); i++)
		len = l;
	CHECK_RC(finish(&c, true), 0);
	REQUIRE(len > 0);
	REQUIRE(tu_rm_rf(wcache) == 0);
	const char *quick[] = {"get-timeout=0", NULL};
	sluice_volume *vol = open_with(b, quick);
	CHECK_RC(length_of(vol, "/synced"), len);
	CHECK_RC(read_range(vol, "/synced", 0, len), 0);
	sluice_shutdown(vol);
}

/* A cache dir that cannot be used (a regular file) leaves hflush waiting for object storage:
 * right after it returns, a reader that does not wait (get-timeout 0) finds every block. */
static void test_hflush_without_cache(struct backend *b)
{
	char file[600], kv[700];
	snprintf(file, sizeof(file), "%s/not-a-dir", b->scratch);
	FILE *fp = fopen(file, "w");
	REQUIRE(fp != NULL);
	fclose(fp);
	snprintf(kv, sizeof(kv), "cache-dir=%s", file);
	const char *w_extra[] = {kv, NULL}, *r_extra[] = {"get-timeout=0", NULL};
	sluice_volume *w = open_with(b, w_extra), *r = open_with(b, r_extra);
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/nocache", SLUICE_O_CREATE, 0644, 022, &f) == 0);
	uint8_t buf[5000];
	uint64_t off = 0;
	for (int i = 0; i < 10; i++) {
		fill_at(buf, sizeof(buf), off);
		CHECK_RC(sluice_write(f, buf, sizeof(buf)), sizeof(buf));
		CHECK_RC(sluice_hflush(f), 0);
		off += sizeof(buf);
		CHECK_RC(read_range(r, "/nocache", 0, off), 0);
	}
	CHECK_RC(sluice_close(f), 0);
	sluice_shutdown(r);
	sluice_shutdown(w);
}

/* ---- an HBase-style WAL --------------------------------------------------------------------- */

enum { WAL_THREADS = 6, WAL_RECORDS = 400, WAL_MAGIC = 0x57414C31 };

struct wal {
	sluice_file *f;
	volatile bool done;
	int errors;
	pthread_mutex_t lock;
};

struct wal_writer {
	struct wal *wal;
	int id;
};

/* A record: magic, writer id, sequence number, payload length, payload (a hash of the three). */
static size_t make_record(uint8_t *buf, uint32_t id, uint32_t seq)
{
	uint32_t plen = 20 + (id * 131 + seq * 29) % 900;
	uint32_t hdr[4] = {WAL_MAGIC, id, seq, plen};
	memcpy(buf, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < plen; i++)
		buf[16 + i] = (uint8_t)((id + 1) * 7 + seq * 13 + i);
	return 16 + plen;
}

static void *wal_writer_main(void *p)
{
	struct wal_writer *ww = p;
	uint8_t buf[1024];
	for (uint32_t seq = 0; seq < WAL_RECORDS; seq++) {
		size_t n = make_record(buf, (uint32_t)ww->id, seq);
		if (sluice_write(ww->wal->f, buf, n) != (ssize_t)n || sluice_hflush(ww->wal->f)) {
			pthread_mutex_lock(&ww->wal->lock);
			ww->wal->errors++;
			pthread_mutex_unlock(&ww->wal->lock);
			break;
		}
	}
	return NULL;
}

static void *wal_syncer_main(void *p)
{
	struct wal *wal = p;
	while (!wal->done) {
		if (sluice_hsync(wal->f)) {
			pthread_mutex_lock(&wal->lock);
			wal->errors++;
			pthread_mutex_unlock(&wal->lock);
		}
		usleep(20000);
	}
	return NULL;
}

struct tail {
	sluice_volume *vol;
	struct wal *wal;
	uint32_t next_seq[WAL_THREADS];
	size_t records;
	int bad;
};

/* Parses complete records from buf[0, n); returns the bytes consumed. */
static size_t parse_records(struct tail *t, const uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (n - off >= 16) {
		uint32_t hdr[4];
		memcpy(hdr, buf + off, sizeof(hdr));
		if (hdr[0] != WAL_MAGIC || hdr[1] >= WAL_THREADS || hdr[3] > 1000) {
			fprintf(stderr, "tail: garbage at a record boundary\n");
			t->bad++;
			return n;
		}
		if (n - off < 16 + hdr[3])
			break;
		uint8_t want[1024];
		make_record(want, hdr[1], hdr[2]);
		if (hdr[2] != t->next_seq[hdr[1]] || memcmp(want, buf + off, 16 + hdr[3])) {
			fprintf(stderr, "tail: writer %u: record %u, expected %u\n", hdr[1], hdr[2],
				t->next_seq[hdr[1]]);
			t->bad++;
		}
		t->next_seq[hdr[1]] = hdr[2] + 1;
		t->records++;
		off += 16 + hdr[3];
	}
	return off;
}

static void *tail_main(void *p)
{
	struct tail *t = p;
	sluice_file *f = NULL;
	while (sluice_open(t->vol, NULL, "/wal", SLUICE_O_READ, 0, 0, &f))
		usleep(1000);
	size_t cap = 1 << 20, have = 0;
	uint8_t *buf = malloc(cap);
	uint64_t pos = 0;
	bool last_round = false;
	for (;;) {
		bool finished = t->wal->done; /* read once more after the writers are done */
		ssize_t n = sluice_pread(f, buf + have, cap - have, pos);
		if (n < 0) {
			fprintf(stderr, "tail: %s\n", sluice_last_error(t->vol));
			t->bad++;
			break;
		}
		pos += (uint64_t)n;
		have += (size_t)n;
		size_t used = parse_records(t, buf, have);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (n == 0 && last_round)
			break;
		if (n == 0)
			usleep(2000);
		last_round = finished && n == 0;
	}
	CHECK_RC(have, 0);
	free(buf);
	sluice_close(f);
	return NULL;
}

static void test_wal(struct backend *b)
{
	char kv[700];
	snprintf(kv, sizeof(kv), "cache-dir=%s/wal", b->scratch);
	const char *w_extra[] = {kv, NULL}, *r_extra[] = {"get-timeout=60", NULL};
	sluice_volume *wv = open_with(b, w_extra), *rv = open_with(b, r_extra);
	struct wal wal = {0};
	pthread_mutex_init(&wal.lock, NULL);
	REQUIRE(sluice_open(wv, NULL, "/wal", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022,
			    &wal.f) == 0);
	struct tail t = {.vol = rv, .wal = &wal};
	pthread_t writers[WAL_THREADS], syncer, tailer;
	struct wal_writer ww[WAL_THREADS];
	REQUIRE(pthread_create(&tailer, NULL, tail_main, &t) == 0);
	REQUIRE(pthread_create(&syncer, NULL, wal_syncer_main, &wal) == 0);
	for (int i = 0; i < WAL_THREADS; i++) {
		ww[i] = (struct wal_writer){&wal, i};
		REQUIRE(pthread_create(&writers[i], NULL, wal_writer_main, &ww[i]) == 0);
	}
	for (int i = 0; i < WAL_THREADS; i++)
		pthread_join(writers[i], NULL);
	wal.done = true;
	pthread_join(syncer, NULL);
	pthread_join(tailer, NULL);
	CHECK_RC(sluice_close(wal.f), 0);
	CHECK_RC(wal.errors, 0);
	CHECK_RC(t.bad, 0);
	CHECK_RC(t.records, WAL_THREADS * WAL_RECORDS);
	for (int i = 0; i < WAL_THREADS; i++)
		CHECK_RC(t.next_seq[i], WAL_RECORDS);
	sluice_shutdown(rv);
	sluice_shutdown(wv);
}

/* Many threads hflushing one stream, then one stream per thread: the slices of hflushes that
 * meet go in one transaction (more slices committed than transactions; before group commit
 * every slice had its own), and the files hold every record. */
static void test_group_commit_counts(struct backend *b)
{
	char kv[700];
	snprintf(kv, sizeof(kv), "cache-dir=%s/gc-count", b->scratch);
	const char *extra[] = {kv, "free-space-ratio=0", NULL};
	sluice_volume *vol = open_with(b, extra);
	struct sl_flush_stats *fs = &vol->core.flush;
	const int nthreads = 8, nrec = 40;
	for (int streams = 1; streams <= nthreads; streams *= nthreads) {
		uint64_t h0 = fs->hflushes, c0 = fs->commits, r0 = fs->records;
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "/gc-count-%d", streams);
		CHECK_RC(gc_run(vol, prefix, nthreads, streams, nrec, NULL), 0);
		uint64_t h = fs->hflushes - h0, c = fs->commits - c0, r = fs->records - r0;
		fprintf(stderr, "  %d threads, %d stream(s): %llu hflushes, %llu slices committed in "
			"%llu transactions\n", nthreads, streams, (unsigned long long)h,
			(unsigned long long)r, (unsigned long long)c);
		CHECK(h >= (uint64_t)(nthreads * nrec));
		CHECK(c < h);
		CHECK(c < r); /* some transactions carried several slices */
		/* every record is there, each thread's in order */
		for (int i = 0; i < streams; i++) {
			char path[64];
			snprintf(path, sizeof(path), "%s-%d", prefix, i);
			uint64_t len = length_of(vol, path);
			sluice_file *f;
			REQUIRE(sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f) == 0);
			uint8_t *buf = malloc(len + 1);
			CHECK_RC(sluice_pread(f, buf, len, 0), (ssize_t)len);
			sluice_close(f);
			int next[32] = {0}, count = 0;
			for (uint64_t off = 0; off + 16 <= len;) {
				uint32_t hdr[4];
				memcpy(hdr, buf + off, sizeof(hdr));
				uint8_t want[1024];
				if (hdr[0] != GC_MAGIC || hdr[1] >= 32 ||
				    gc_record(want, hdr[1], hdr[2]) > len - off ||
				    memcmp(want, buf + off, 16 + hdr[3]) || next[hdr[1]] != (int)hdr[2]) {
					CHECK(!"a bad record");
					break;
				}
				next[hdr[1]]++;
				count++;
				off += 16 + hdr[3];
			}
			CHECK_RC(count, nthreads / streams * nrec);
			free(buf);
		}
	}
	sluice_shutdown(vol);
}

/* A writer process with 12 threads over 4 streams (3 threads hflushing each), whose object store
 * refuses everything, is killed with SIGKILL in the middle; a client restarted on its cache dir
 * uploads what was staged, and every record whose hflush returned is in its file. */
static void test_group_commit_kill(const char *self, struct backend *b)
{
	enum { THREADS = 12, STREAMS = 4, RECORDS = 200, KILL_AFTER = 600 };
	char wcache[600], cache_kv[700];
	snprintf(wcache, sizeof(wcache), "%s/gc-kill", b->scratch);
	char nt[16], ns[16], nr[16];
	snprintf(nt, sizeof(nt), "%d", THREADS);
	snprintf(ns, sizeof(ns), "%d", STREAMS);
	snprintf(nr, sizeof(nr), "%d", RECORDS);
	char *const argv[] = {(char *)self, "--group", (char *)b->meta, wcache,
			      (char *)b->broken_bucket, nt, ns, nr, NULL};
	struct child c;
	c.pid = tu_spawn(argv, &c.out);
	int acked[THREADS];
	for (int i = 0; i < THREADS; i++)
		acked[i] = -1;
	int lines = 0;
	unsigned t;
	int seq;
	while (lines < KILL_AFTER && fscanf(c.out, "%u %d", &t, &seq) == 2) {
		REQUIRE(t < THREADS);
		CHECK(seq == acked[t] + 1); /* each thread's acknowledgements come in order */
		acked[t] = seq;
		lines++;
	}
	CHECK_RC(finish(&c, true), 0);
	CHECK_RC(lines, KILL_AFTER);
	/* an acknowledgement printed after the last one we read still counts: kill -9 came later */

	snprintf(cache_kv, sizeof(cache_kv), "cache-dir=%s", wcache);
	const char *restart[] = {cache_kv, "get-timeout=120", NULL};
	sluice_volume *rec = open_with(b, restart);
	int found[THREADS];
	for (int i = 0; i < THREADS; i++)
		found[i] = -1;
	for (int s = 0; s < STREAMS; s++) {
		char path[64];
		snprintf(path, sizeof(path), "/gc-%d", s);
		uint64_t len = length_of(rec, path);
		REQUIRE(len != UINT64_MAX);
		sluice_file *f;
		REQUIRE(sluice_open(rec, NULL, path, SLUICE_O_READ, 0, 0, &f) == 0);
		uint8_t *buf = malloc(len + 1);
		ssize_t n = sluice_pread(f, buf, len, 0);
		CHECK_RC(n, (ssize_t)len);
		if (n != (ssize_t)len)
			fprintf(stderr, "reading %s: %s\n", path, sluice_last_error(rec));
		sluice_close(f);
		for (uint64_t off = 0; n == (ssize_t)len && off < len;) {
			uint32_t hdr[4];
			uint8_t want[1024];
			if (len - off < 16)
				break;
			memcpy(hdr, buf + off, sizeof(hdr));
			if (hdr[0] != GC_MAGIC || hdr[1] >= THREADS || (int)hdr[1] % STREAMS != s ||
			    gc_record(want, hdr[1], hdr[2]) > len - off ||
			    memcmp(want, buf + off, 16 + hdr[3]) || (int)hdr[2] != found[hdr[1]] + 1) {
				fprintf(stderr, "%s: a bad record at offset %llu\n", path,
					(unsigned long long)off);
				CHECK(!"a bad record");
				break;
			}
			found[hdr[1]] = (int)hdr[2];
			off += 16 + hdr[3];
		}
		free(buf);
	}
	for (int i = 0; i < THREADS; i++)
		if (found[i] < acked[i]) {
			fprintf(stderr, "thread %d: record %d was acknowledged, the file ends at %d\n",
				i, acked[i], found[i]);
			CHECK(!"an acknowledged record is lost");
		}
	CHECK_RC(sluice_shutdown(rec), 0);
}

static void run(const char *self, struct backend *b)
{
	tu_format(&b->fmt);
	fprintf(stderr, "== %s\n", b->name);
	test_two_processes(self, b);
	test_kill_after_hflush(self, b, false);
	test_kill_after_hflush(self, b, true);
	test_kill_after_hsync(self, b);
	test_hflush_without_cache(b);
	test_wal(b);
	test_group_commit_counts(b);
	test_group_commit_kill(self, b);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--writer"))
		return writer_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--group"))
		return group_writer_main(argc, argv);
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = 0;

	char *dir = tu_tempdir("durability");
	char url[1024], bucket[1024], broken[1024];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	snprintf(broken, sizeof(broken), "%s/meta.db/not-a-directory", dir);
	struct backend local = {.name = "sqlite3 + file", .meta = url, .broken_bucket = broken};
	local.fmt = (sluice_format_options){.meta_url = url, .name = "durable", .storage = "file",
					    .bucket = bucket, .trash_days = -1};
	snprintf(local.scratch, sizeof(local.scratch), "%s", dir);
	run(self, &local);

	const char *endpoint = getenv("SLUICE_TEST_S3_ENDPOINT");
	if (!endpoint || !*endpoint) {
		if (tu_services_required()) {
			fprintf(stderr, "SLUICE_TEST_S3_ENDPOINT is not set but services are required\n");
			tu_failures++;
		} else {
			fprintf(stderr, "MariaDB + S3 part skipped: no services (run through make test)\n");
		}
	} else {
		struct tu_mysql_db db;
		tu_mysql_db_create(&db, "durability");
		char s3bucket[1024];
		snprintf(s3bucket, sizeof(s3bucket), "%s/durability-%d", endpoint, (int)getpid());
		struct backend s3 = {.name = "MariaDB + S3", .meta = db.url,
				     .broken_bucket = "http://127.0.0.1:9/refused"};
		s3.fmt = (sluice_format_options){
			.meta_url = db.url, .name = "durable", .storage = "minio", .bucket = s3bucket,
			.access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY"),
			.secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY"),
			.compression = "lz4", .trash_days = -1};
		snprintf(s3.scratch, sizeof(s3.scratch), "%s/s3", dir);
		REQUIRE(mkdir(s3.scratch, 0700) == 0);
		run(self, &s3);
		CHECK(tu_mysql_db_drop(&db) == 0);
	}
	if (!tu_failures)
		CHECK(tu_rm_rf(dir) == 0);
	free(dir);
	return tu_finish("test_vfs_durability");
}
