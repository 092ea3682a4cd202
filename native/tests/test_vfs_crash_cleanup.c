/* test_vfs_crash_cleanup.c - a crashed client leaves nothing behind. First, the rules, on SQLite
 * + file storage with a dead client's staging directory made by hand: the next client uploads a
 * staged block of a referenced slice, and deletes the objects (and staged copies) of a slice that
 * was never committed, of one no longer referenced (with its row), and of a compaction's merged
 * slice that was uploaded but not committed (its .pending marker); temporaries of unfinished
 * writes go too. Then the real thing. A writer (this program run
 * as a child) appends small records to one file with an hflush each, with hflush staging on and
 * few upload threads, so that compaction replaces slices whose uploads still run and defers their
 * deletion; it is killed with SIGKILL while such deletions wait. The next client on the same
 * cache directory then uploads what is still referenced, drops what is not, and deletes the
 * slices the dead one had dropped: afterwards `juicefs gc` finds no leaked object and no pending
 * deletion (JFS_GC_SKIPPEDTIME=0, so that new objects are judged too), `juicefs fsck` finds
 * nothing missing, no jfs_chunk_ref row has refs <= 0, nothing is left staged, and every hflushed
 * byte reads back. Then: after an object store outage (a relay that refuses, then lets through),
 * a closed file's staged block is uploaded as soon as the store answers again, not after its
 * retry delay. On MariaDB + S3 (make test's services). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vfs/vfs.h"
#include "volume_testutil.h"

#define MAX_RECORDS 4000

static uint8_t byte_at(uint64_t o)
{
	return (uint8_t)((o * 0x9E3779B97F4A7C15ULL) >> 56);
}

static const char *admin;
static struct tu_mysql_db db;

/* One number from the volume's database, through the admin client. */
static long long q1(const char *sql)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s -N -B -D %s -e \"%s\"", admin, db.name, sql);
	FILE *p = popen(cmd, "r");
	REQUIRE(p != NULL);
	long long v = -999;
	if (fscanf(p, "%lld", &v) != 1)
		v = -998;
	pclose(p);
	return v;
}

static long long dead_rows(void)
{
	return q1("SELECT COUNT(*) FROM jfs_chunk_ref WHERE refs <= 0");
}

/* Regular files under dir, recursively (staged blocks; not .lock or .journal). */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		/* a handle's lock and staging journal live as long as it does */
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".lock") || !strcmp(e->d_name, ".journal"))
			continue;
		char p[2048];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat sb;
		if (lstat(p, &sb))
			continue;
		n += S_ISDIR(sb.st_mode) ? count_files(p) : 1;
	}
	closedir(d);
	return n;
}

/* The clock of the volumes this process opens, by which staged blocks wait for their retries:
 * moved on instead of waiting through an outage. */
static struct sl_clock vol_clock;

static sluice_volume *open_vol(const char *meta, const char *cache, const char *bucket,
			       const char *uploads)
{
	sluice_kv conf[8];
	size_t n = 0;
	conf[n++] = (sluice_kv){"meta", meta};
	conf[n++] = (sluice_kv){"cache-dir", cache};
	conf[n++] = (sluice_kv){"free-space-ratio", "0"};
	if (bucket) {
		conf[n++] = (sluice_kv){"bucket", bucket};
		conf[n++] = (sluice_kv){"io-retries", "1"};
		conf[n++] = (sluice_kv){"connect-timeout", "1"};
	}
	if (uploads)
		conf[n++] = (sluice_kv){"max-uploads", uploads};
	sluice_volume *vol = NULL;
	char msg[512];
	if (sl_vol_init(conf, n, &vol_clock, &vol, msg, sizeof(msg)))
		fprintf(stderr, "sluice_init: %s\n", msg);
	return vol;
}

/* ---- the child: appends records with an hflush each, reports every flushed length ---------- */

static int writer_main(const char *meta, const char *cache, const char *path)
{
	sluice_volume *vol = open_vol(meta, cache, NULL, "2");
	if (!vol)
		return 1;
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022, &f)) {
		fprintf(stderr, "writer: %s\n", sluice_last_error(vol));
		return 1;
	}
	uint8_t buf[1000];
	uint64_t off = 0;
	for (int i = 0; i < MAX_RECORDS; i++) {
		size_t len = 100 + (size_t)(i * 7919) % 800;
		for (size_t k = 0; k < len; k++)
			buf[k] = byte_at(off + k);
		if (sluice_write(f, buf, len) != (ssize_t)len || sluice_hflush(f)) {
			fprintf(stderr, "writer: %s\n", sluice_last_error(vol));
			return 1;
		}
		off += len;
		printf("%llu\n", (unsigned long long)off);
		fflush(stdout);
	}
	for (;;)
		pause(); /* until killed */
}

/* ---- a relay to the S3 server that can refuse everything ------------------------------------ */

static struct {
	int fd, port;
	struct sockaddr_in to;
	atomic_bool down, stop;
	pthread_t th;
} relay;

static void *pipe_main(void *arg)
{
	int *fds = arg, a = fds[0], b = fds[1];
	free(fds);
	char buf[65536];
	for (;;) {
		struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
		if (poll(p, 2, 200) < 0 || atomic_load(&relay.stop) || atomic_load(&relay.down))
			break;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = recv(i ? b : a, buf, sizeof(buf), 0);
			if (n <= 0 || send(i ? a : b, buf, (size_t)n, MSG_NOSIGNAL) != n)
				goto out;
		}
	}
out:
	close(a);
	close(b);
	return NULL;
}

static void *relay_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(relay.fd, NULL, NULL);
		if (c < 0)
			break;
		if (atomic_load(&relay.down)) { /* the store is out: nothing answers */
			close(c);
			continue;
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&relay.to, sizeof(relay.to))) {
			close(c);
			if (s >= 0)
				close(s);
			continue;
		}
		int *fds = malloc(2 * sizeof(int));
		REQUIRE(fds != NULL);
		fds[0] = c;
		fds[1] = s;
		pthread_t th;
		REQUIRE(pthread_create(&th, NULL, pipe_main, fds) == 0);
		pthread_detach(th);
	}
	return NULL;
}

static void relay_start(const char *endpoint)
{
	unsigned port;
	REQUIRE(sscanf(endpoint, "http://127.0.0.1:%u", &port) == 1);
	relay.to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	relay.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	relay.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	REQUIRE(bind(relay.fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(relay.fd, 64) == 0);
	REQUIRE(getsockname(relay.fd, (struct sockaddr *)&a, &alen) == 0);
	relay.port = ntohs(a.sin_port);
	REQUIRE(pthread_create(&relay.th, NULL, relay_main, NULL) == 0);
}

static void relay_stop(void)
{
	atomic_store(&relay.stop, true);
	shutdown(relay.fd, SHUT_RDWR);
	pthread_join(relay.th, NULL);
	close(relay.fd);
	usleep(300 * 1000); /* the pipes notice stop within 200 ms */
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the parent ----------------------------------------------------------------------------- */

static void test_kill_during_compaction(const char *self, const char *meta, const char *cache,
					const char *juicefs)
{
	char *const argv[] = {(char *)self, "--writer", (char *)meta, (char *)cache, "/wal", NULL};
	FILE *out;
	pid_t pid = tu_spawn(argv, &out);
	/* Let it run until compaction has replaced slices whose deletion waits for their uploads
	 * (rows with refs 0), then kill it. */
	unsigned long long len = 0, v;
	int records = 0;
	long long waiting = 0;
	while (fscanf(out, "%llu", &v) == 1) {
		len = v;
		records++;
		if (records >= 320 && records % 20 == 0 && (waiting = dead_rows()) > 0)
			break;
	}
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	fclose(out);
	printf("killed the writer after %d records (%llu bytes); %lld slices waited for deletion\n",
	       records, len, waiting);
	REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	REQUIRE(waiting > 0); /* else the crash did not hit what this test is about */

	/* The next client on the cache directory cleans up in the background. */
	sluice_volume *vol = open_vol(meta, cache, NULL, NULL);
	REQUIRE(vol != NULL);
	char staging[1200];
	sluice_volume_info info;
	REQUIRE(sluice_volume_get_info(vol, &info) == 0);
	snprintf(staging, sizeof(staging), "%s/%s/rawstaging", cache, info.uuid);
	int64_t start = mono_ms();
	int staged = 0;
	long long dead = 0;
	while (mono_ms() - start < 60000) {
		staged = count_files(staging);
		dead = dead_rows();
		if (!staged && !dead)
			break;
		usleep(200 * 1000);
	}
	printf("cleaned up in %.1f s: %d blocks left staged, %lld unreferenced slices\n",
	       (mono_ms() - start) / 1000.0, staged, dead);
	CHECK_RC(staged, 0);
	CHECK_RC(dead, 0);
	/* Every hflushed byte is there. */
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/wal", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t *buf = malloc(len ? len : 1);
	REQUIRE(buf != NULL);
	CHECK_RC(sluice_pread(f, buf, len, 0), (long long)len);
	uint64_t bad = len;
	for (uint64_t o = 0; o < len && bad == len; o++)
		if (buf[o] != byte_at(o))
			bad = o;
	if (bad != len)
		fprintf(stderr, "content differs at offset %llu\n", (unsigned long long)bad);
	CHECK(bad == len);
	free(buf);
	sluice_close(f);
	CHECK_RC(sluice_shutdown(vol), 0);
	CHECK_RC(dead_rows(), 0);

	/* The real JuiceFS client agrees: nothing leaked, nothing pending, nothing lost. */
	char cmd[2048], line[1024];
	snprintf(cmd, sizeof(cmd), "JFS_GC_SKIPPEDTIME=0 %s gc '%s' 2>&1", juicefs, meta);
	FILE *p = popen(cmd, "r");
	REQUIRE(p != NULL);
	bool found = false;
	while (fgets(line, sizeof(line), p)) {
		const char *s = strstr(line, "scanned ");
		long long objs, valid, pending, pbytes, compacted, cbytes, leaked, lbytes;
		if (!s || sscanf(s, "scanned %lld objects, %lld valid, %lld pending delete (%lld bytes), "
				 "%lld compacted (%lld bytes), %lld leaked (%lld bytes)", &objs, &valid,
				 &pending, &pbytes, &compacted, &cbytes, &leaked, &lbytes) != 8)
			continue;
		found = true;
		printf("juicefs gc: %s", s);
		CHECK(objs > 0);
		CHECK_RC(leaked, 0);
		CHECK_RC(pending, 0);
		CHECK_RC(objs, valid);
	}
	CHECK(pclose(p) == 0);
	CHECK(found);
	snprintf(cmd, sizeof(cmd), "%s fsck '%s' >/dev/null 2>&1", juicefs, meta);
	CHECK(system(cmd) == 0);
}

/* Stages a block of a new file while the store is out and closes the file (which reports that
 * the block is not in object storage yet), then keeps the store out for 12 s of the volume's
 * clock: by then the block's own retry delay has grown to 20 s. */
static void staged_during_outage(sluice_volume *vol, const char *path, size_t before)
{
	atomic_store(&relay.down, true);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, path, SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK(sluice_write(f, "staged while the store was out", 30) == 30);
	CHECK_RC(sluice_hflush(f), 0);
	CHECK(sluice_close(f) != 0); /* durable locally, not in object storage yet */
	CHECK_RC(sl_stage_backlog(vol->core.stage), before + 1);
	/* a second at a time, each with the round of retries the background thread would run in
	 * it (it runs one every second of real time) */
	for (int s = 0; s < 12; s++) {
		sl_clock_advance(&vol_clock, 1000);
		sl_stage_sweep(vol->core.stage);
		usleep(100 * 1000); /* the upload it tried fails */
	}
	CHECK_RC(sl_stage_backlog(vol->core.stage), before + 1);
	atomic_store(&relay.down, false);
}

static double until_uploaded(sluice_volume *vol, size_t before, int64_t up)
{
	while (sl_stage_backlog(vol->core.stage) > before && mono_ms() - up < 30000)
		usleep(100 * 1000);
	return (mono_ms() - up) / 1000.0;
}

/* A closed file's block staged during an outage is uploaded soon after the store answers, not
 * after its grown retry delay: at once when another upload succeeds, and without any other
 * traffic within a few seconds (one waiting block is tried every 2 s). */
static void test_outage(const char *meta, const char *cache, const char *endpoint,
			const char *bucket_name)
{
	relay_start(endpoint);
	char bucket[512];
	snprintf(bucket, sizeof(bucket), "http://127.0.0.1:%d/%s", relay.port, bucket_name);
	sluice_volume *vol = open_vol(meta, cache, bucket, NULL);
	REQUIRE(vol != NULL);
	size_t before = sl_stage_backlog(vol->core.stage);

	staged_during_outage(vol, "/outage-1", before);
	int64_t up = mono_ms();
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/after-outage", SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK(sluice_write(f, "x", 1) == 1);
	CHECK_RC(sluice_close(f), 0); /* an upload that succeeds */
	double took = until_uploaded(vol, before, up);
	printf("after an outage the staged block was uploaded %.1f s after the store answered "
	       "(another upload succeeded)\n", took);
	CHECK(took < 3.0);

	staged_during_outage(vol, "/outage-2", before);
	took = until_uploaded(vol, before, mono_ms());
	printf("after an outage the staged block was uploaded %.1f s after the store answered "
	       "(no other traffic)\n", took);
	CHECK(took < 5.0);
	CHECK_RC(sluice_shutdown(vol), 0);
	relay_stop();
}

static bool object_exists(const char *bucket, const char *key)
{
	char p[2048];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/%s", bucket, key);
	return stat(p, &sb) == 0;
}

/* A slice of one block of len bytes, stored in object storage (if store) and staged in the dead
 * client's directory dead (if dead); its key in key. */
static uint64_t fake_slice(sluice_volume *vol, uint32_t len, bool store, const char *dead,
			   char key[SL_KEY_MAX])
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	uint64_t id = 0;
	REQUIRE(sl_meta_next_slice_id(v->meta, &id, &err) == 0);
	sl_block_key(&v->layout, id, 0, len, key);
	uint8_t data[4096];
	memset(data, (int)(id & 0xff), sizeof(data));
	REQUIRE(len <= sizeof(data));
	if (store)
		REQUIRE(sl_store_block(v, key, data, len, &err) == 0);
	if (dead) {
		char p[2048];
		snprintf(p, sizeof(p), "%s/%s", dead, key);
		REQUIRE(sl_cachefile_write(p, data, len, true, &err) == 0);
	}
	return id;
}

static void commit_slice(sluice_volume *vol, sl_ino ino, uint64_t id, uint32_t len)
{
	struct sl_err err = {0};
	struct sl_slice sl = {.pos = 0, .id = id, .size = len, .len = len};
	struct sl_attr a;
	REQUIRE(sl_meta_write_chunk(vol->core.meta, NULL, NULL, ino, 0, &sl, 1, &a, &err) == 0);
}

static void test_recovery_rules(void)
{
	char *dir = tu_tempdir("rules");
	char url[1200], bucket[1100], cache[1100], dbpath[1100];
	snprintf(dbpath, sizeof(dbpath), "%s/meta.db", dir);
	snprintf(url, sizeof(url), "sqlite3://%s", dbpath);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	sluice_format_options fo = {.meta_url = url, .name = "rules", .storage = "file",
				    .bucket = bucket, .trash_days = 0};
	char msg[512];
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);
	sluice_kv conf[] = {{"meta", url}};
	sluice_volume *vol;
	REQUIRE(sluice_init(conf, 1, &vol, msg, sizeof(msg)) == 0);
	sluice_volume_info info;
	REQUIRE(sluice_volume_get_info(vol, &info) == 0);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/f", SLUICE_O_CREATE, 0644, 022, &f) == 0);
	REQUIRE(sluice_close(f) == 0);
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/f", &st) == 0);

	/* The dead client's staging directory, as a kill leaves it. */
	char dead[1400], p[2048];
	snprintf(dead, sizeof(dead), "%s/%s/rawstaging/1-dead", cache, info.uuid);
	char live_key[SL_KEY_MAX], lost_key[SL_KEY_MAX], unref_key[SL_KEY_MAX],
		merged_key[SL_KEY_MAX], merged_ok_key[SL_KEY_MAX];
	/* committed, referenced, not uploaded yet: uploaded */
	uint64_t live = fake_slice(vol, 100, false, dead, live_key);
	commit_slice(vol, st.inode, live, 100);
	/* uploaded and staged, never committed: deleted */
	fake_slice(vol, 200, true, dead, lost_key);
	/* committed, then its last reference dropped (deletion deferred, then the kill): deleted
	 * with its row */
	uint64_t unref = fake_slice(vol, 300, true, dead, unref_key);
	commit_slice(vol, st.inode, unref, 300);
	sqlite3 *db;
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	char sql[200];
	snprintf(sql, sizeof(sql), "UPDATE jfs_chunk_ref SET refs = 0 WHERE chunkid = %llu",
		 (unsigned long long)unref);
	REQUIRE(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	/* a merged slice uploaded before its commit, which did not happen: deleted */
	uint64_t merged = fake_slice(vol, 400, true, NULL, merged_key);
	/* one whose commit did happen: kept */
	uint64_t merged_ok = fake_slice(vol, 500, true, NULL, merged_ok_key);
	commit_slice(vol, st.inode, merged_ok, 500);
	snprintf(p, sizeof(p), "%s/.pending", dead);
	REQUIRE(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/.pending/%llu_400", dead, (unsigned long long)merged);
	FILE *mk = fopen(p, "w");
	REQUIRE(mk && !fclose(mk));
	snprintf(p, sizeof(p), "%s/.pending/%llu_500", dead, (unsigned long long)merged_ok);
	REQUIRE((mk = fopen(p, "w")) && !fclose(mk));
	snprintf(p, sizeof(p), "%s/.lock", dead);
	REQUIRE((mk = fopen(p, "w")) && !fclose(mk));
	snprintf(p, sizeof(p), "%s/%s", dead, live_key);
	char *slash = strrchr(p, '/');
	snprintf(slash + 1, sizeof(p) - (size_t)(slash + 1 - p), ".slcb-x.tmp.123");
	REQUIRE((mk = fopen(p, "w")) && !fclose(mk));
	CHECK_RC(sluice_shutdown(vol), 0);

	/* The next client on the cache directory. */
	sluice_kv conf2[] = {{"meta", url}, {"cache-dir", cache}, {"free-space-ratio", "0"}};
	REQUIRE(sluice_init(conf2, 3, &vol, msg, sizeof(msg)) == 0);
	struct stat sb;
	for (int i = 0; i < 100 && stat(dead, &sb) == 0; i++)
		usleep(100 * 1000);
	CHECK(stat(dead, &sb) != 0); /* nothing left: the directory went */
	CHECK(object_exists(bucket, live_key));
	CHECK(!object_exists(bucket, lost_key));
	CHECK(!object_exists(bucket, unref_key));
	CHECK(!object_exists(bucket, merged_key));
	CHECK(object_exists(bucket, merged_ok_key));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jfs_chunk_ref WHERE refs <= 0");
	sqlite3_stmt *q;
	REQUIRE(sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_step(q) == SQLITE_ROW);
	CHECK_RC(sqlite3_column_int64(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	CHECK_RC(sluice_shutdown(vol), 0);
	printf("recovery of a dead client's staging directory: %s\n",
	       tu_failures ? "FAILED" : "referenced blocks uploaded, the rest deleted");
	if (!tu_failures)
		CHECK(tu_rm_rf(dir) == 0);
	free(dir);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--writer"))
		return writer_main(argv[2], argv[3], argv[4]);
	test_recovery_rules();
	admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN");
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *juicefs = tu_service_env("SLUICE_JUICEFS");
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = 0;

	tu_mysql_db_create(&db, "crash");
	const char *meta = db.url;
	char bucket[1024], bucket_name[64];
	snprintf(bucket_name, sizeof(bucket_name), "crash-%d", (int)getpid());
	snprintf(bucket, sizeof(bucket), "%s/%s", endpoint, bucket_name);
	sluice_format_options fo = {
		.meta_url = meta, .name = "crash", .storage = "minio", .bucket = bucket,
		.access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY"),
		.secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY"), .compression = "lz4",
		.trash_days = 0};
	tu_format(&fo);
	char *dir = tu_tempdir("crash");
	char cache[1100];
	snprintf(cache, sizeof(cache), "%s/cache", dir);

	test_kill_during_compaction(self, meta, cache, juicefs);
	test_outage(meta, cache, endpoint, bucket_name);

	CHECK(tu_mysql_db_drop(&db) == 0);
	if (!tu_failures)
		CHECK(tu_rm_rf(dir) == 0);
	free(dir);
	return tu_finish("test_vfs_crash_cleanup");
}
