/*
 * volume_testutil.h - helpers of the tests that use volumes through the public API (sluice.h):
 * formatting and opening one, with the library's message on stderr when that fails, and test
 * data.
 */
#ifndef SL_VOLUME_TESTUTIL_H
#define SL_VOLUME_TESTUTIL_H

#include <pthread.h>
#include <stdint.h>

#include "sluice.h"
#include "testutil.h"

/* Formats a volume, or stops the test. */
static inline void tu_format(const sluice_format_options *fo)
{
	char msg[512];
	int rc = sluice_format(fo, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "sluice_format: %s\n", msg);
	REQUIRE(rc == 0);
}

/* Opens a volume with the settings conf[0..n), or stops the test. */
static inline sluice_volume *tu_open(const sluice_kv *conf, size_t n)
{
	sluice_volume *vol = NULL;
	char msg[512];
	int rc = sluice_init(conf, n, &vol, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "sluice_init: %s\n", msg);
	REQUIRE(rc == 0);
	return vol;
}

/* Writes text as the whole of path (created or overwritten with mode): 0 or a negative errno. */
static inline int tu_put_text(sluice_volume *v, const sluice_user *u, const char *path,
			      const char *text, uint32_t mode)
{
	sluice_file *f;
	int rc = sluice_open(v, u, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, mode, 0, &f);
	if (rc)
		return rc;
	ssize_t n = sluice_write(f, text, strlen(text));
	rc = sluice_close(f);
	return n < 0 ? (int)n : rc;
}

/* Reads path into buf as a string (at most size - 1 bytes): 0 or a negative errno. */
static inline int tu_get_text(sluice_volume *v, const sluice_user *u, const char *path, char *buf,
			      size_t size)
{
	sluice_file *f;
	int rc = sluice_open(v, u, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	ssize_t n = sluice_pread(f, buf, size - 1, 0);
	sluice_close(f);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	return 0;
}

/* Whether path is a block in file object storage (named id_indx_len, as block keys end), and the
 * numbers in its name. */
static inline bool tu_block_file(const char *path, unsigned long long *id, unsigned *indx,
				 unsigned *len)
{
	const char *base = strrchr(path, '/');
	char extra;
	return base && sscanf(base + 1, "%llu_%u_%u%c", id, indx, len, &extra) == 3;
}

/* n bytes of a pseudo-random pattern (xorshift) that seed determines. */
static inline void tu_fill_pattern(uint8_t *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

/* A volume on make test's MariaDB and S3 server: a new database (db, dropped by the caller with
 * tu_mysql_db_drop) and bucket named after prefix, formatted as name (compression: NULL or an
 * algorithm). false without the services: the caller skips its MariaDB + S3 part, which fails
 * the test when services are required. */
static inline bool tu_mysql_s3_volume(struct tu_mysql_db *db, const char *prefix, const char *name,
				      const char *compression)
{
	const char *endpoint = getenv("SLUICE_TEST_S3_ENDPOINT");
	if (!endpoint || !*endpoint) {
		if (tu_services_required()) {
			fprintf(stderr, "SLUICE_TEST_S3_ENDPOINT is not set but services are required\n");
			CHECK(!"services");
		} else {
			fprintf(stderr, "MariaDB + S3 part skipped: no services (run through make test)\n");
		}
		return false;
	}
	tu_mysql_db_create(db, prefix);
	char bucket[1024];
	snprintf(bucket, sizeof(bucket), "%s/%s-%d", endpoint, prefix, (int)getpid());
	sluice_format_options fo = {
		.meta_url = db->url, .name = name, .storage = "minio", .bucket = bucket,
		.access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY"),
		.secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY"), .compression = compression};
	tu_format(&fo);
	return true;
}

/* The writer process of the kill -9 tests (tu_kill_after_acks): nthreads threads, thread t
 * appending records of len bytes to "/PREFIX-t" (opened with open_flags, SLUICE_O_CREATE and
 * more), byte i of it being at(i, seed_base + t), each hflushed, and printing "t END" for each
 * acknowledged end, until the process is killed; it exits on an error. Never returns. */
struct tu_wal_thread {
	sluice_volume *vol;
	pthread_mutex_t *out_lock;
	const char *prefix;
	int flags, t;
	uint8_t (*at)(size_t i, unsigned seed);
	unsigned seed;
	size_t len;
};

static inline void *tu_wal_thread_main(void *arg)
{
	struct tu_wal_thread *w = arg;
	char path[64];
	snprintf(path, sizeof(path), "/%s-%d", w->prefix, w->t);
	sluice_file *f;
	uint8_t *rec = malloc(w->len);
	if (!rec || sluice_open(w->vol, NULL, path, w->flags, 0644, 0, &f)) {
		fprintf(stderr, "writer: %s\n", sluice_last_error(w->vol));
		exit(1);
	}
	for (size_t off = 0;; off += w->len) {
		for (size_t k = 0; k < w->len; k++)
			rec[k] = w->at(off + k, w->seed);
		if (sluice_write(f, rec, w->len) != (ssize_t)w->len || sluice_hflush(f)) {
			fprintf(stderr, "writer: %s\n", sluice_last_error(w->vol));
			exit(1);
		}
		pthread_mutex_lock(w->out_lock);
		printf("%d %zu\n", w->t, off + w->len);
		fflush(stdout);
		pthread_mutex_unlock(w->out_lock);
	}
	return NULL;
}

static inline int tu_run_wal_writers(sluice_volume *vol, int nthreads, const char *prefix,
				     int open_flags, uint8_t (*at)(size_t i, unsigned seed),
				     unsigned seed_base, size_t len)
{
	static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
	struct tu_wal_thread *w = calloc((size_t)nthreads, sizeof(*w));
	REQUIRE(w != NULL);
	for (int t = 0; t < nthreads; t++) {
		pthread_t th;
		w[t] = (struct tu_wal_thread){.vol = vol, .out_lock = &out_lock, .prefix = prefix,
					      .flags = open_flags, .t = t, .at = at,
					      .seed = seed_base + (unsigned)t, .len = len};
		REQUIRE(pthread_create(&th, NULL, tu_wal_thread_main, &w[t]) == 0);
	}
	for (;;)
		pause(); /* until the test kills us */
}

#endif
