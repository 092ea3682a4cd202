/* test_vfs_db_restart.c - a metadata workload rides through a database restart: four threads
 * create directories and files, close, rename and delete them on a MariaDB volume while the
 * server shuts down, stays down for 15 s and comes back on the same port
 * (SLUICE_TEST_MYSQL_RESTART, from tests/env/mariadb.sh). Every operation must succeed: the ones
 * in flight stall and then complete (meta-retry-seconds, default 60). Prints a timeline of
 * operations per second and the longest stall. Restarts the shared server, so ctest runs it
 * alone (RUN_SERIAL). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "volume_testutil.h"

#define THREADS 4
#define DOWN_S 15
#define BEFORE_S 3
#define AFTER_S 4
#define MAX_SECONDS 120

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sluice_volume *vol;
static atomic_bool stop;
static int64_t t0;
/* Operations that ended in each second since t0, and the longest one ending in it (ms). */
static atomic_int done_per_s[MAX_SECONDS];
static atomic_llong longest_per_s[MAX_SECONDS];
static atomic_int failures;
static atomic_llong ops;

struct worker {
	int id;
	pthread_t th;
};

/* Runs one operation and books it; false if it failed. */
static bool book(int rc, int64_t start, const char *what, const char *path)
{
	int64_t end = mono_ms();
	int64_t s = (end - t0) / 1000;
	if (s >= 0 && s < MAX_SECONDS) {
		atomic_fetch_add(&done_per_s[s], 1);
		long long took = end - start, cur = atomic_load(&longest_per_s[s]);
		while (took > cur && !atomic_compare_exchange_weak(&longest_per_s[s], &cur, took))
			;
	}
	atomic_fetch_add(&ops, 1);
	if (rc) {
		if (atomic_fetch_add(&failures, 1) < 10)
			fprintf(stderr, "%s %s failed after %lld ms: %s\n", what, path,
				(long long)(end - start), sluice_last_error(vol));
		return false;
	}
	return true;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char dir[64], f[96], g[96];
	for (int i = 0; !atomic_load(&stop); i++) {
		snprintf(dir, sizeof(dir), "/w%d/d%d", w->id, i);
		snprintf(f, sizeof(f), "%s/f", dir);
		snprintf(g, sizeof(g), "%s/g", dir);
		int64_t s = mono_ms();
		if (!book(sluice_mkdir(vol, NULL, dir, 0755, 022), s, "mkdir", dir))
			continue;
		sluice_file *fh = NULL;
		s = mono_ms();
		if (!book(sluice_open(vol, NULL, f, SLUICE_O_CREATE, 0644, 022, &fh), s, "create", f))
			continue;
		char data[100];
		memset(data, 'a' + w->id, sizeof(data));
		s = mono_ms();
		int rc = sluice_write(fh, data, sizeof(data)) == (ssize_t)sizeof(data) ? 0 : -EIO;
		int crc = sluice_close(fh);
		if (!book(rc ? rc : crc, s, "write+close", f))
			continue;
		s = mono_ms();
		if (!book(sluice_rename(vol, NULL, f, g, 0), s, "rename", f))
			continue;
		s = mono_ms();
		if (!book(sluice_delete(vol, NULL, g, 0), s, "delete", g))
			continue;
		s = mono_ms();
		book(sluice_delete(vol, NULL, dir, 0), s, "rmdir", dir);
	}
	return NULL;
}

int main(void)
{
	const char *restart = tu_service_env("SLUICE_TEST_MYSQL_RESTART");
	struct tu_mysql_db db;
	tu_mysql_db_create(&db, "restart");
	char cmd[2048], bucket[1024];
	char *dir = tu_tempdir("restart");
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = db.url, .name = "restart", .storage = "file",
				    .bucket = bucket, .trash_days = 0};
	tu_format(&fo);
	sluice_kv conf[] = {{"meta", db.url}};
	vol = tu_open(conf, 1);
	for (int i = 0; i < THREADS; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/w%d", i);
		REQUIRE(sluice_mkdir(vol, NULL, p, 0755, 022) == 0);
	}

	struct worker w[THREADS];
	t0 = mono_ms();
	for (int i = 0; i < THREADS; i++) {
		w[i].id = i;
		REQUIRE(pthread_create(&w[i].th, NULL, work, &w[i]) == 0);
	}
	sleep(BEFORE_S);
	int64_t down_at = mono_ms();
	snprintf(cmd, sizeof(cmd), "%s %d >/dev/null", restart, DOWN_S);
	int restarted = system(cmd);
	int64_t up_at = mono_ms();
	CHECK(restarted == 0);
	sleep(AFTER_S);
	atomic_store(&stop, true);
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i].th, NULL);
	int64_t end = mono_ms();

	printf("restart: the server went down at %.1f s and answered again at %.1f s\n",
	       (down_at - t0) / 1000.0, (up_at - t0) / 1000.0);
	printf("second  ops  longest(ms)\n");
	long long longest = 0;
	for (int s = 0; s <= (end - t0) / 1000 && s < MAX_SECONDS; s++) {
		printf("%6d %5d %8lld\n", s, atomic_load(&done_per_s[s]), atomic_load(&longest_per_s[s]));
		if (atomic_load(&longest_per_s[s]) > longest)
			longest = atomic_load(&longest_per_s[s]);
	}
	printf("%lld operations, %d failed; the longest took %lld ms\n", atomic_load(&ops),
	       atomic_load(&failures), longest);
	CHECK_RC(atomic_load(&failures), 0);
	/* The workload really waited for the server, and went on after it came back. */
	CHECK(longest >= (DOWN_S - 2) * 1000LL);
	int after = 0;
	for (int64_t s = (up_at - t0) / 1000 + 1; s < MAX_SECONDS; s++)
		after += atomic_load(&done_per_s[s]);
	CHECK(after > 0);
	/* Nothing is left behind: each worker removed what it made. */
	for (int i = 0; i < THREADS; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/w%d", i);
		sluice_dir *d;
		REQUIRE(sluice_opendir(vol, NULL, p, &d) == 0);
		sluice_dirent ents[4];
		int n = sluice_readdir(d, ents, 4);
		if (n != 0)
			fprintf(stderr, "%s still holds %d entries (first: %s)\n", p, n, ents[0].name);
		sluice_closedir(d);
		CHECK_RC(n, 0);
	}
	CHECK_RC(sluice_shutdown(vol), 0);
	CHECK(tu_mysql_db_drop(&db) == 0);
	if (!tu_failures)
		CHECK(tu_rm_rf(dir) == 0);
	free(dir);
	return tu_finish("test_vfs_db_restart");
}
