/* test_vfs_background_commit.c - hflush.commit=background (vfs/background_commit.c): an hflush
 * returns before its metadata commit, and no reader misses what it acknowledged. Two nodes of a
 * cache group on 127.0.0.2-3 (writer W, reader R, each a volume handle of its own in this
 * process) and an observer O outside the group, which reads the metadata as it is:
 *   - with a commit delay of a minute, O sees nothing of an hflushed record, while R, opening the
 *     file, reads every acknowledged record (it has W's node commit first, through the group),
 *     and so does a reader on W's own handle; hsync and close commit before they return; the
 *     hflush syncs neither W's copy nor R's, the commit syncs both first;
 *   - many threads hflushing (own streams and one shared stream) with a 5 ms delay share
 *     transactions, and every acknowledged record is read back by R at once;
 *   - W in a process of its own, hflushing from 4 threads, killed with SIGKILL while the metadata
 *     lacks what it acknowledged: a client started on W's cache dir commits every acknowledged
 *     record from the staging journal's slice records; the same with W's cache dir deleted (its
 *     node lost): once W's session expired, a reader on R reads every acknowledged record, which
 *     R commits from the copies of W's records it keeps; and, W's session still live, a
 *     recovery of its files' leases has R commit them before W is fenced;
 *   - with R's node gone, W's hflushes lack their copies and commit before they return;
 *   - bad settings are refused with a message naming the key.
 * On SQLite + files and on MariaDB + S3. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs/vfs.h"
#include "volume_testutil.h"

#define NODES "127.0.0.2,127.0.0.3"
#define RECORD_LEN 1024

static char dir[1024], port[16];
static const char *heartbeat = "12"; /* the writer's, whose session ends 5 heartbeats after it dies */
static char prefix[32] = "killed"; /* of the files of a killed writer's run */

static uint8_t byte_at(size_t i, unsigned seed)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

/* A node of the group (host) with its own cache dir, committing hflushes in the background
 * after delay_ms. */
static sluice_volume *node(const char *meta, const char *host, const char *delay_ms)
{
	char cdir[1100];
	snprintf(cdir, sizeof(cdir), "%s/cache-%s", dir, host);
	sluice_kv conf[] = {
		{"meta", meta},
		{"nodes", NODES},
		{"cache-group.port", port},
		{"cache-group.host", host},
		{"cache-group.timeout", "2000"},
		{"cache-dir", cdir},
		{"free-space-ratio", "0"},
		{"hflush.replicas", "2"},
		{"hflush.commit", "background"},
		{"hflush.commit-delay", delay_ms},
		{"heartbeat", heartbeat},
	};
	return tu_open(conf, sizeof(conf) / sizeof(conf[0]));
}

static uint64_t committed_length(sluice_volume *o, const char *path)
{
	sluice_stat st;
	if (sluice_stat_path(o, NULL, path, &st))
		return UINT64_MAX;
	return st.length;
}

/* Opens path on v and checks that it starts with len bytes of the pattern seed and, exact,
 * holds no more. */
static int check_bytes(sluice_volume *v, const char *path, size_t len, unsigned seed, bool exact)
{
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	size_t want = len + (exact ? 1 : 0);
	uint8_t *buf = malloc(want ? want : 1);
	ssize_t n = sluice_pread(f, buf, want, 0);
	sluice_close(f);
	rc = n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
	for (size_t i = 0; !rc && i < len; i++)
		if (buf[i] != byte_at(i, seed))
			rc = -EBADMSG;
	free(buf);
	return rc;
}

static int check_records(sluice_volume *v, const char *path, size_t len, unsigned seed)
{
	return check_bytes(v, path, len, seed, true);
}

static int append_record(sluice_file *f, size_t off, unsigned seed)
{
	uint8_t rec[RECORD_LEN];
	for (size_t k = 0; k < RECORD_LEN; k++)
		rec[k] = byte_at(off + k, seed);
	return sluice_write(f, rec, RECORD_LEN) == RECORD_LEN ? 0 : -EIO;
}

static void test_visibility(sluice_volume *w, sluice_volume *r, sluice_volume *o)
{
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/wal", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	size_t off = 0;
	const struct sl_peer_stats *held = sl_peers_stats(r->core.peers);
	for (int i = 0; i < 5; i++, off += RECORD_LEN) {
		uint64_t syncs = atomic_load(&held->syncs);
		uint64_t synced_ns = atomic_load(&w->core.flush.stage.stage_sync_ns);
		CHECK_RC(append_record(f, off, 1), 0);
		CHECK_RC(sluice_hflush(f), 0);
		/* acknowledged, not committed: the metadata still has the earlier records */
		CHECK(committed_length(o, "/wal") == off);
		/* acknowledged with both copies written, neither synced (as HDFS's hflush); R got
		 * the block and the record in one request */
		CHECK(atomic_load(&held->batches) > 0);
		CHECK(atomic_load(&held->syncs) == syncs);
		CHECK(atomic_load(&w->core.flush.stage.stage_sync_ns) == synced_ns);
		/* a reader elsewhere has it committed first, and reads every record */
		CHECK_RC(check_records(r, "/wal", off + RECORD_LEN, 1), 0);
		CHECK(committed_length(o, "/wal") == off + RECORD_LEN);
		/* the commit made both copies durable first */
		CHECK(atomic_load(&held->syncs) > syncs);
		CHECK(atomic_load(&w->core.flush.stage.stage_sync_ns) > synced_ns);
	}
	CHECK(atomic_load(&sl_peers_stats(w->core.peers)->commits) >= 5);
	/* a reader on the writer's own handle */
	CHECK_RC(append_record(f, off, 1), 0);
	CHECK_RC(sluice_hflush(f), 0);
	off += RECORD_LEN;
	CHECK(committed_length(o, "/wal") == off - RECORD_LEN);
	CHECK_RC(check_records(w, "/wal", off, 1), 0);
	CHECK(committed_length(o, "/wal") == off);
	/* hsync and close do not leave it to the committers */
	CHECK_RC(append_record(f, off, 1), 0);
	if (sluice_hsync(f)) {
		fprintf(stderr, "hsync: %s\n", sluice_last_error(w));
		CHECK(!"hsync");
	}
	off += RECORD_LEN;
	CHECK(committed_length(o, "/wal") == off);
	CHECK_RC(append_record(f, off, 1), 0);
	CHECK_RC(sluice_hflush(f), 0);
	off += RECORD_LEN;
	CHECK_RC(sluice_close(f), 0);
	CHECK(committed_length(o, "/wal") == off);
	CHECK_RC(check_records(o, "/wal", off, 1), 0);
}

/* ---- many threads --------------------------------------------------------------------------- */
enum { OWN_THREADS = 4, SHARED_THREADS = 4, RECORDS = 40 };

struct job {
	sluice_volume *w, *r;
	sluice_file *shared; /* NULL: a stream of its own */
	pthread_mutex_t *shared_lock;
	size_t *shared_end;
	int t;
	int failures;
};

static void *own_main(void *arg)
{
	struct job *j = arg;
	char path[32];
	snprintf(path, sizeof(path), "/own-%d", j->t);
	sluice_file *f;
	if (sluice_open(j->w, NULL, path, SLUICE_O_CREATE, 0644, 0, &f)) {
		j->failures++;
		return NULL;
	}
	for (size_t i = 0, off = 0; i < RECORDS; i++, off += RECORD_LEN) {
		if (append_record(f, off, (unsigned)j->t) || sluice_hflush(f)) {
			j->failures++;
			break;
		}
		/* every tenth acknowledged end, read back at once on the other node */
		int rc = i % 10 == 9 ? check_records(j->r, path, off + RECORD_LEN, (unsigned)j->t) : 0;
		if (rc) {
			fprintf(stderr, "%s: %zu acknowledged bytes not read back: %d (%s)\n", path,
				off + RECORD_LEN, rc, sluice_last_error(j->r));
			j->failures++;
		}
	}
	if (sluice_close(f)) {
		fprintf(stderr, "%s: close: %s\n", path, sluice_last_error(j->w));
		j->failures++;
	}
	return NULL;
}

/* Threads of one stream (HBase's WAL): appends in turn, hflushes at once. */
static void *shared_main(void *arg)
{
	struct job *j = arg;
	for (size_t i = 0; i < RECORDS; i++) {
		pthread_mutex_lock(j->shared_lock);
		size_t off = *j->shared_end;
		int rc = append_record(j->shared, off, 9);
		*j->shared_end = off + RECORD_LEN;
		pthread_mutex_unlock(j->shared_lock);
		if (rc || sluice_hflush(j->shared)) {
			j->failures++;
			break;
		}
		/* this record and all before it are acknowledged now */
		if (i % 10 == 9 && j->t == OWN_THREADS) {
			sluice_file *g;
			if (sluice_open(j->r, NULL, "/shared", SLUICE_O_READ, 0, 0, &g)) {
				j->failures++;
				continue;
			}
			uint8_t *buf = malloc(off + RECORD_LEN);
			ssize_t n = sluice_pread(g, buf, off + RECORD_LEN, 0);
			sluice_close(g);
			if (n != (ssize_t)(off + RECORD_LEN)) {
				sluice_stat st = {0};
				sluice_stat_path(j->r, NULL, "/shared", &st);
				fprintf(stderr, "/shared: %zd of %zu acknowledged bytes read back (%s; "
					"length %llu)\n", n, off + RECORD_LEN, sluice_last_error(j->r),
					(unsigned long long)st.length);
				j->failures++;
			}
			for (size_t k = 0; n > 0 && k < (size_t)n; k++)
				if (buf[k] != byte_at(k, 9)) {
					j->failures++;
					break;
				}
			free(buf);
		}
	}
	return NULL;
}

static void test_threads(sluice_volume *w, sluice_volume *r, sluice_volume *o)
{
	sluice_file *shared;
	REQUIRE(sluice_open(w, NULL, "/shared", SLUICE_O_CREATE, 0644, 0, &shared) == 0);
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	size_t shared_end = 0;
	struct job jobs[OWN_THREADS + SHARED_THREADS];
	pthread_t th[OWN_THREADS + SHARED_THREADS];
	uint64_t commits0 = atomic_load(&w->core.flush.commits);
	uint64_t records0 = atomic_load(&w->core.flush.records);
	for (int t = 0; t < OWN_THREADS + SHARED_THREADS; t++) {
		jobs[t] = (struct job){.w = w, .r = r, .t = t, .shared_lock = &lock,
				       .shared_end = &shared_end,
				       .shared = t >= OWN_THREADS ? shared : NULL};
		REQUIRE(pthread_create(&th[t], NULL, t < OWN_THREADS ? own_main : shared_main,
				       &jobs[t]) == 0);
	}
	int failures = 0;
	for (int t = 0; t < OWN_THREADS + SHARED_THREADS; t++) {
		pthread_join(th[t], NULL);
		failures += jobs[t].failures;
	}
	CHECK_RC(failures, 0);
	CHECK_RC(sluice_close(shared), 0);
	uint64_t commits = atomic_load(&w->core.flush.commits) - commits0;
	uint64_t records = atomic_load(&w->core.flush.records) - records0;
	fprintf(stderr, "  %llu slices committed in %llu transactions\n",
		(unsigned long long)records, (unsigned long long)commits);
	CHECK(commits > 0 && commits < records);
	for (int t = 0; t < OWN_THREADS; t++) {
		char path[32];
		snprintf(path, sizeof(path), "/own-%d", t);
		CHECK_RC(check_records(o, path, RECORDS * RECORD_LEN, (unsigned)t), 0);
	}
	CHECK_RC(check_records(o, "/shared", SHARED_THREADS * RECORDS * RECORD_LEN, 9), 0);
}

/* ---- kill -9 ---------------------------------------------------------------------------- */
enum { KILL_THREADS = 4, KILL_AFTER = 60 };

/* --writer META PORT DIR PREFIX: W with a one-minute commit delay and heartbeats every second,
 * until the test kills it. */
static int writer_main(char **argv)
{
	snprintf(port, sizeof(port), "%s", argv[3]);
	snprintf(dir, sizeof(dir), "%s", argv[4]);
	snprintf(prefix, sizeof(prefix), "%s", argv[5]);
	heartbeat = "1";
	sluice_volume *w = node(argv[2], "127.0.0.2", "60000");
	return tu_run_wal_writers(w, KILL_THREADS, prefix, SLUICE_O_CREATE, byte_at, 20,
				  RECORD_LEN);
}

/* Runs W in a process of its own until it acknowledged KILL_AFTER records, kills it with
 * SIGKILL, and checks that the metadata lacks some of them: acked[t] gets thread t's
 * acknowledged end. */
static void run_killed_writer(const char *self, const char *meta, sluice_volume *o,
			      size_t acked[KILL_THREADS])
{
	char *const wargv[] = {(char *)self, "--writer", (char *)meta, port, dir, prefix, NULL};
	tu_kill_after_acks(wargv, KILL_THREADS, KILL_AFTER, acked);
	/* the metadata lacks acknowledged records (their commits waited for the delay) */
	size_t missing = 0;
	for (int t = 0; t < KILL_THREADS; t++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s-%d", prefix, t);
		uint64_t len = committed_length(o, path);
		missing += len == UINT64_MAX ? acked[t] : len < acked[t] ? acked[t] - len : 0;
	}
	fprintf(stderr, "  killed with %zu acknowledged bytes not committed\n", missing);
	CHECK(missing > 0);
}

/* Every acknowledged record is in the metadata (what is there beyond the acknowledged end was
 * staged, never torn). */
static void check_killed_files(sluice_volume *o, const size_t acked[KILL_THREADS])
{
	for (int t = 0; t < KILL_THREADS; t++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s-%d", prefix, t);
		uint64_t len = committed_length(o, path);
		if (!acked[t] && len == UINT64_MAX)
			continue; /* killed before this thread's create: it acknowledged nothing */
		CHECK(len != UINT64_MAX && len >= acked[t]);
		CHECK_RC(check_records(o, path, len, 20 + (unsigned)t), 0);
	}
}

/* W killed, then a client started on its cache dir commits what it acknowledged. */
static void test_killed_writer(const char *self, const char *meta, sluice_volume *o)
{
	sluice_volume *r = node(meta, "127.0.0.3", "60000"); /* keeps W's copies */
	size_t acked[KILL_THREADS];
	snprintf(prefix, sizeof(prefix), "killed");
	run_killed_writer(self, meta, o, acked);
	sluice_volume *w = node(meta, "127.0.0.2", "60000");
	CHECK(atomic_load(&w->core.flush.stage.records_recovered) > 0);
	check_killed_files(o, acked);
	sluice_shutdown(w);
	sluice_shutdown(r);
}

/* W's node lost: killed, its cache dir gone. A reader on R (which holds the copies of W's
 * blocks and records) opening the files at once waits until W's session expired, and reads
 * every acknowledged record: R commits them from its records, in order, under W's lease. */
static void test_lost_writer(const char *self, const char *meta, sluice_volume *o)
{
	sluice_volume *r = node(meta, "127.0.0.3", "60000");
	size_t acked[KILL_THREADS];
	snprintf(prefix, sizeof(prefix), "lost");
	run_killed_writer(self, meta, o, acked);
	char wcache[1100];
	snprintf(wcache, sizeof(wcache), "%s/cache-127.0.0.2", dir);
	CHECK_RC(tu_rm_rf(wcache), 0);
	/* W's session (heartbeat 1 s) expires 5 s after its last heartbeat; the first open waits */
	int64_t t0 = sl_mono_ms();
	for (int t = 0; t < KILL_THREADS; t++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s-%d", prefix, t);
		if (acked[t])
			CHECK_RC(check_bytes(r, path, acked[t], 20 + (unsigned)t, false), 0);
	}
	fprintf(stderr, "  the readers waited %.1f s for W's session to expire\n",
		(double)(sl_mono_ms() - t0) / 1000);
	CHECK(atomic_load(&sl_peers_stats(r->core.peers)->records_committed) > 0);
	/* O is outside the group: it reads once R handed its copies over (uploaded them) */
	sl_peers_sweep(r->core.peers, 0);
	check_killed_files(o, acked);
	sluice_shutdown(r);
}

/* W's node lost, and its files' leases recovered at once (its session still live, as when
 * HBase's master recovers a dead region server's WAL): the recovery has R commit every
 * acknowledged record before it fences W. */
static void test_recovered_writer(const char *self, const char *meta, sluice_volume *o)
{
	sluice_volume *r = node(meta, "127.0.0.3", "60000");
	size_t acked[KILL_THREADS];
	snprintf(prefix, sizeof(prefix), "recovered");
	uint64_t held0 = atomic_load(&sl_peers_stats(r->core.peers)->records_committed);
	run_killed_writer(self, meta, o, acked);
	char wcache[1100];
	snprintf(wcache, sizeof(wcache), "%s/cache-127.0.0.2", dir);
	CHECK_RC(tu_rm_rf(wcache), 0);
	for (int t = 0; t < KILL_THREADS; t++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s-%d", prefix, t);
		if (acked[t])
			CHECK_RC(sluice_recover_lease(r, NULL, path), 1);
	}
	CHECK(atomic_load(&sl_peers_stats(r->core.peers)->records_committed) > held0);
	sl_peers_sweep(r->core.peers, 0);
	check_killed_files(o, acked);
	sluice_shutdown(r);
}

/* R's node is gone: W's blocks get no copy, so W's hflushes commit before they return. */
static void test_without_copies(sluice_volume *w, sluice_volume *o)
{
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/alone", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	for (size_t i = 0, off = 0; i < 3; i++, off += RECORD_LEN) {
		CHECK_RC(append_record(f, off, 3), 0);
		CHECK_RC(sluice_hflush(f), 0);
		CHECK(committed_length(o, "/alone") == off + RECORD_LEN);
	}
	CHECK_RC(sluice_close(f), 0);
}

static void test_bad_settings(const char *meta)
{
	const char *bad[][2] = {{"hflush.commit", "later"}, {"hflush.commit-delay", "60001"},
				{"hflush.commit-delay", "soon"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sluice_kv conf[] = {{"meta", meta}, {bad[i][0], bad[i][1]}};
		sluice_volume *v = NULL;
		char msg[512] = "";
		CHECK(sluice_init(conf, 2, &v, msg, sizeof(msg)) != 0);
		CHECK(strstr(msg, bad[i][0]) != NULL);
		if (v)
			sluice_shutdown(v);
	}
}

static void run(const char *self, const char *meta, const char *what)
{
	fprintf(stderr, "%s:\n", what);
	sluice_kv oconf[] = {{"meta", meta}};
	sluice_volume *o = tu_open(oconf, 1);
	sluice_volume *w = node(meta, "127.0.0.2", "60000");
	sluice_volume *r = node(meta, "127.0.0.3", "60000");
	REQUIRE(w->core.background_commit && r->core.background_commit);
	test_visibility(w, r, o);
	sluice_shutdown(w);
	sluice_shutdown(r);
	test_killed_writer(self, meta, o);
	test_lost_writer(self, meta, o);
	test_recovered_writer(self, meta, o);

	w = node(meta, "127.0.0.2", "5");
	r = node(meta, "127.0.0.3", "5");
	test_threads(w, r, o);
	sluice_shutdown(r);
	test_without_copies(w, o);
	sluice_shutdown(w);
	sluice_shutdown(o);
	test_bad_settings(meta);
}

int main(int argc, char **argv)
{
	if (argc > 5 && !strcmp(argv[1], "--writer"))
		return writer_main(argv);
	char self[1024];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(sn > 0);
	self[sn] = 0;
	char *tmp = tu_tempdir("bgcommit");
	snprintf(dir, sizeof(dir), "%s", tmp);
	free(tmp);
	snprintf(port, sizeof(port), "%d", tu_free_port("127.0.0.2"));
	char meta[1100], bucket[1100];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = meta, .name = "bgvol", .storage = "file",
				    .bucket = bucket, .trash_days = 0};
	tu_format(&fo);
	run(self, meta, "sqlite3 + file");

	struct tu_mysql_db db;
	if (tu_mysql_s3_volume(&db, "bgcommit", "bgvol", NULL)) {
		run(self, db.url, "mysql + s3");
		CHECK(tu_mysql_db_drop(&db) == 0);
	}
	return tu_finish("test_vfs_background_commit");
}
