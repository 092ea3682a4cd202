/*
 * core_bench.c - the C benchmark of libsluice (not a test): sequential write and read of a large
 * file through the public API, and create/stat/rename/delete of many files, each printed next to
 * the raw limit measured in the same run: a plain file copy on the same disk (file storage), raw
 * 4 MiB PUT/GET at the same concurrency (S3), the database's single-row transaction rate (meta).
 *
 * `data` also prints what the write and the read cost the process: CPU seconds (user + system,
 * getrusage) per GiB moved and the peak resident set (VmHWM, reset before each phase through
 * /proc/self/clear_refs; ru_maxrss, the process's lifetime peak, where that is refused), next to
 * the memory-size the volume was opened with, for the report's memory cap check.
 *
 * It also measures the durability calls of a write-ahead log (1 KiB record + hflush, + hsync:
 * latency percentiles, next to one raw PUT plus one database transaction) and reads through the
 * disk cache (warm, next to a plain read of a local file holding the same bytes).
 *
 *   core_bench data META-URL SIZE_MIB       (volume must be formatted)
 *   core_bench meta META-URL NFILES
 *   core_bench wal META-URL CACHE-DIR NRECORDS
 *   core_bench cache META-URL CACHE-DIR SIZE_MIB
 *   core_bench walmt META-URL CACHE-DIR NRECORDS THREADS shared|streams
 *   core_bench coldread META-URL CACHE-DIR|- SIZE_MIB write|read|delete [READ-PASSES]
 * walmt: THREADS threads append 1 KiB records and hflush each, NRECORDS in all, into one stream
 * they share (HBase's WAL with several syncer threads) or one stream each (several WALs of one
 * volume handle); prints latency percentiles, hflush/s, and where an hflush spends its time
 * (per hflush, averaged: staging, of which fdatasync, waiting for peers' copies, metadata
 * commit, lock waits) with the metadata transactions per hflush.
 * coldread: the cold read of benchmarks/hflush.sh: `write` stores /bench-coldread of SIZE_MIB,
 * `read` reads it through a new volume handle (CACHE-DIR, "-" for none, emptied by the caller)
 * and prints its rate with the object-store GETs and the blocks fetched from cache-group peers
 * (the handle's own counters, so other processes' traffic does not count; READ-PASSES reads it
 * that many times, the rate of the last pass printed), `delete` removes it.
 * Whether the handle is in a cache group is SLUICE_BENCH_CONF's business.
 * Prints one line per figure: "name value unit". SLUICE_BENCH_CONF="KEY=VALUE;..." adds settings
 * (the Kerberos login of a gateway:// META-URL, say).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sluice.h"
#include "vfs/vfs.h"

#define IO (1u << 20)
#define RAW_BLOCK (4u << 20)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define MAX_EXTRA 16
#define MEMORY_SIZE_MIB 512 /* the volume's memory-size below: the cap's buffer part */
#define MEMORY_SIZE_TEXT "512M"

/* User plus system CPU seconds of the whole process so far (every thread of the volume). */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Starts a new peak-RSS window: "5" to clear_refs resets VmHWM to the current RSS; where that
 * is refused, the peak read afterwards is the process's lifetime peak. */
static void peak_rss_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, "5", 1) != 1)
		fprintf(stderr, "core_bench: clear_refs: %s (peak RSS over the process's life)\n",
			strerror(errno));
	close(fd);
}

/* Peak resident set in MiB: VmHWM of /proc/self/status, else getrusage's ru_maxrss. */
static double peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	if (kib < 0) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		kib = ru.ru_maxrss;
	}
	return (double)kib / 1024.0;
}

/* Prints the cost of one phase that moved size bytes since cpu0 (cpu_s) and the peak RSS of
 * its window (of the process's life so far where the window could not be started). */
static void print_cost(const char *phase, double cpu0, uint64_t size)
{
	printf("%s_cpu_s_per_gib %.3f s/GiB\n", phase,
	       (cpu_s() - cpu0) / ((double)size / (double)(1u << 30)));
	printf("%s_peak_rss %.1f MiB\n", phase, peak_rss_mib());
}

/* cache_all: every block read is cached, whatever the disk's load and free space (as `sluice
 * warmup` does), so that a warm read measures reading from the disk cache, not its admission. */
static sluice_volume *open_volume_with(const char *meta, const char *cache_dir, bool cache_all)
{
	/* Readahead of 20 blocks and 20 upload threads: the concurrency the raw limits use. */
	sluice_kv conf[8 + MAX_EXTRA] = {{"meta", meta}, {"memory-size", MEMORY_SIZE_TEXT},
					 {"readahead", "80M"}, {"max-uploads", "20"},
					 {"max-downloads", "20"}};
	size_t n = 5;
	if (cache_dir)
		conf[n++] = (sluice_kv){"cache-dir", cache_dir};
	if (cache_dir && cache_all) {
		conf[n++] = (sluice_kv){"cache-writers", "0"};
		conf[n++] = (sluice_kv){"free-space-ratio", "0"};
	}
	const char *env = getenv("SLUICE_BENCH_CONF");
	char *extra = strdup(env ? env : "");
	char *save = NULL;
	for (char *kv = strtok_r(extra, ";", &save); kv && n < 8 + MAX_EXTRA;
	     kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');
		if (eq) {
			*eq = 0;
			conf[n++] = (sluice_kv){kv, eq + 1};
		}
	}
	sluice_volume *vol;
	char msg[512];
	int rc = sluice_init(conf, n, &vol, msg, sizeof(msg));
	free(extra);
	if (rc) {
		fprintf(stderr, "core_bench: %s\n", msg);
		exit(1);
	}
	return vol;
}

static sluice_volume *open_volume_cache(const char *meta, const char *cache_dir)
{
	return open_volume_with(meta, cache_dir, false);
}

static sluice_volume *open_volume(const char *meta)
{
	return open_volume_cache(meta, NULL);
}

static void fail(sluice_volume *vol, const char *what)
{
	fprintf(stderr, "core_bench: %s: %s\n", what, sluice_last_error(vol));
	exit(1);
}

/* A cold read must come from the disk, not the page cache: drop the cached pages of every file
 * below dir (they are clean: the file backend fsyncs what it writes). */
static int drop_file_cache(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
	}
	return 0;
}

/* Raw limit for file storage: the same bytes written to and read from a file next to the data. */
static void raw_file(const char *dir, const uint8_t *buf, uint64_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/raw-bench-file", dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	double t0 = now_s();
	for (uint64_t off = 0; off < size; off += IO)
		if (write(fd, buf, IO) != (ssize_t)IO) {
			perror("write");
			exit(1);
		}
	fsync(fd);
	close(fd);
	double tw = now_s() - t0;
	uint8_t *rbuf = malloc(IO);
	fd = open(path, O_RDONLY);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	t0 = now_s();
	while (read(fd, rbuf, IO) > 0)
		;
	double tr = now_s() - t0;
	close(fd);
	unlink(path);
	free(rbuf);
	printf("raw_file_write %.1f MiB/s\n", (double)size / tw / (1 << 20));
	printf("raw_file_read %.1f MiB/s\n", (double)size / tr / (1 << 20));
}

struct raw_s3 {
	struct sl_objstore *store;
	const uint8_t *buf;
	int id, count;
	bool get;
};

static void *raw_s3_worker(void *p)
{
	struct raw_s3 *a = p;
	struct sl_err err = {0};
	uint8_t *rbuf = a->get ? malloc(RAW_BLOCK) : NULL;
	for (int i = 0; i < a->count; i++) {
		char key[128];
		snprintf(key, sizeof(key), "raw-bench/%d-%d", a->id, i);
		int64_t rc = a->get ? sl_obj_get(a->store, key, 0, rbuf, RAW_BLOCK, &err)
				    : sl_obj_put(a->store, key, a->buf, RAW_BLOCK, &err);
		if (rc < 0) {
			fprintf(stderr, "raw s3: %s\n", err.msg);
			exit(1);
		}
	}
	free(rbuf);
	return NULL;
}

/* len bytes of a fixed pattern. */
static uint8_t *pattern_buf(size_t len)
{
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	return buf;
}

/* Raw limit for S3: 4 MiB PUT then GET of the same amount at the writer's concurrency. */
static void raw_s3(struct sl_objstore *store, uint64_t size, int threads)
{
	uint8_t *buf = pattern_buf(RAW_BLOCK);
	int per = (int)(size / RAW_BLOCK / (uint64_t)threads);
	if (per < 1)
		per = 1;
	for (int pass = 0; pass < 2; pass++) {
		pthread_t th[64];
		struct raw_s3 a[64];
		double t0 = now_s();
		for (int i = 0; i < threads; i++) {
			a[i] = (struct raw_s3){store, buf, i, per, pass == 1};
			pthread_create(&th[i], NULL, raw_s3_worker, &a[i]);
		}
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		double t = now_s() - t0;
		printf("raw_s3_%s %.1f MiB/s\n", pass ? "get" : "put",
		       (double)per * threads * RAW_BLOCK / t / (1 << 20));
	}
	struct sl_err err = {0};
	for (int i = 0; i < threads; i++)
		for (int j = 0; j < per; j++) {
			char key[128];
			snprintf(key, sizeof(key), "raw-bench/%d-%d", i, j);
			sl_obj_delete(store, key, &err);
		}
	free(buf);
}

/* Writes size bytes of buf (IO of them) to path in calls of IO bytes, the first byte the MiB's
 * number so that every block differs; MiB/s from open to close. */
static double write_seq(sluice_volume *vol, const char *path, uint8_t *buf, uint64_t size)
{
	sluice_file *f;
	double t0 = now_s();
	if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &f))
		fail(vol, "create");
	for (uint64_t off = 0; off < size; off += IO) {
		buf[0] = (uint8_t)(off >> 20);
		if (sluice_write(f, buf, IO) != (ssize_t)IO)
			fail(vol, "write");
	}
	if (sluice_close(f))
		fail(vol, "close");
	return (double)size / (now_s() - t0) / (1 << 20);
}

/* Reads path (size bytes) to its end in calls of IO bytes; MiB/s from open to close. */
static double read_all(sluice_volume *vol, const char *path, uint64_t size)
{
	uint8_t *buf = malloc(IO);
	sluice_file *f;
	double t0 = now_s();
	if (sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f))
		fail(vol, "open");
	ssize_t n;
	uint64_t total = 0;
	while ((n = sluice_read(f, buf, IO)) > 0)
		total += (uint64_t)n;
	if (n < 0 || total != size)
		fail(vol, "read");
	sluice_close(f);
	free(buf);
	return (double)size / (now_s() - t0) / (1 << 20);
}

static int bench_data(const char *meta, uint64_t mib)
{
	uint64_t size = mib << 20;
	uint8_t *buf = pattern_buf(IO);
	/* each phase's cost window spans the handle's whole life: its threads' start and end too */
	peak_rss_reset();
	double cpu0 = cpu_s();
	sluice_volume *vol = open_volume(meta);
	printf("sluice_write %.1f MiB/s\n", write_seq(vol, "/bench-seq", buf, size));
	sluice_shutdown(vol);
	print_cost("sluice_write", cpu0, size);

	peak_rss_reset();
	cpu0 = cpu_s();
	vol = open_volume(meta); /* cold: a new handle has an empty block cache */
	if (!strcmp(vol->core.format.storage, "file"))
		nftw(vol->core.format.bucket, drop_file_cache, 16, FTW_PHYS);
	printf("sluice_read %.1f MiB/s\n", read_all(vol, "/bench-seq", size));
	print_cost("sluice_read", cpu0, size);
	printf("memory_size %d MiB\n", MEMORY_SIZE_MIB);

	struct sl_volume_core *v = &vol->core;
	if (!strcmp(v->format.storage, "file"))
		raw_file(v->format.bucket, buf, size);
	else if (strcmp(v->store->be->name, "presigned")) /* Kerberos mode: only block keys */
		raw_s3(v->store, size, 20);
	sluice_delete(vol, NULL, "/bench-seq", 0);
	sluice_shutdown(vol);
	free(buf);
	return 0;
}

/* The metadata operations' counters of a volume handle (sluice_stats "meta.OP.calls"/".ns"),
 * to tell what one namespace call costs in backend operations and in their time. */
#define MAX_META_OPS 64
struct meta_counts {
	int n;
	char op[MAX_META_OPS][48];
	uint64_t calls[MAX_META_OPS], ns[MAX_META_OPS];
};

static void take_meta_counter(void *arg, const char *name, uint64_t value)
{
	struct meta_counts *c = arg;
	if (strncmp(name, "meta.", 5))
		return;
	const char *op = name + 5, *dot = strrchr(op, '.');
	if (!dot || (strcmp(dot, ".calls") && strcmp(dot, ".ns")))
		return;
	int len = (int)(dot - op), i;
	for (i = 0; i < c->n; i++)
		if ((int)strlen(c->op[i]) == len && !strncmp(c->op[i], op, (size_t)len))
			break;
	if (i == c->n) {
		if (c->n == MAX_META_OPS || len >= (int)sizeof(c->op[0]))
			return;
		snprintf(c->op[c->n++], sizeof(c->op[0]), "%.*s", len, op);
	}
	if (!strcmp(dot, ".calls"))
		c->calls[i] = value;
	else
		c->ns[i] = value;
}

/* Prints, for the calls of one phase of n operations, each backend operation it used: how many
 * per operation ("NAME_calls.OP") and their mean time ("NAME_us.OP"). Operations fewer than one
 * call in 20 used are left out: the handle's background work (session and statistics flushes,
 * inode batches), not the call's. */
static void print_meta_profile(sluice_volume *vol, const char *name, const struct meta_counts *before,
			       int n)
{
	struct meta_counts after = {0};
	sluice_stats(vol, take_meta_counter, &after);
	for (int i = 0; i < after.n; i++) {
		uint64_t calls = after.calls[i], ns = after.ns[i];
		for (int j = 0; j < before->n; j++)
			if (!strcmp(before->op[j], after.op[i]))
				calls -= before->calls[j], ns -= before->ns[j];
		if (calls * 20 < (uint64_t)n)
			continue;
		printf("%s_calls.%s %.2f per-op\n", name, after.op[i], (double)calls / n);
		printf("%s_us.%s %.0f us\n", name, after.op[i], ns / 1e3 / (double)calls);
	}
}

static int bench_meta(const char *meta, int nfiles)
{
	sluice_volume *vol = open_volume(meta);
	sluice_delete(vol, NULL, "/bench-meta", 1);
	if (sluice_mkdirs(vol, NULL, "/bench-meta/a", 0755, 0) ||
	    sluice_mkdirs(vol, NULL, "/bench-meta/b", 0755, 0))
		fail(vol, "mkdirs");
	char p[128], q[128];
	const char *names[] = {"create", "stat", "rename", "delete"};
	for (int op = 0; op < 4; op++) {
		struct meta_counts before = {0};
		sluice_stats(vol, take_meta_counter, &before);
		double t0 = now_s();
		for (int i = 0; i < nfiles; i++) {
			snprintf(p, sizeof(p), "/bench-meta/a/f%d", i);
			snprintf(q, sizeof(q), "/bench-meta/b/f%d", i);
			sluice_file *f;
			sluice_stat st;
			int rc = op == 0 ? sluice_open(vol, NULL, p, SLUICE_O_CREATE | SLUICE_O_EXCL, 0644,
						       0, &f)
				 : op == 1 ? sluice_stat_path(vol, NULL, p, &st)
				 : op == 2 ? sluice_rename(vol, NULL, p, q, SLUICE_RENAME_NOREPLACE)
					   : sluice_delete(vol, NULL, q, 0);
			if (rc)
				fail(vol, names[op]);
			if (op == 0 && sluice_close(f))
				fail(vol, "close");
		}
		printf("sluice_%s %.0f ops/s\n", names[op], nfiles / (now_s() - t0));
		char what[32];
		snprintf(what, sizeof(what), "sluice_%s", names[op]);
		print_meta_profile(vol, what, &before, nfiles);
	}
	/* Raw limit: one single-row update transaction, through the same connection pool (not
	 * through a gateway, which takes no such writes from clients). */
	struct sl_meta *m = vol->core.meta;
	if (!strcmp(sl_meta_backend_name(m), "gateway"))
		goto out;
	struct sl_err err = {0};
	int64_t value;
	struct meta_counts before = {0};
	sluice_stats(vol, take_meta_counter, &before);
	double t0 = now_s();
	for (int i = 0; i < nfiles; i++)
		if (sl_meta_incr_counter(m, "benchRawTxn", 1, &value, &err)) {
			fprintf(stderr, "raw txn: %s\n", err.msg);
			return 1;
		}
	printf("raw_db_txn %.0f ops/s\n", nfiles / (now_s() - t0));
	print_meta_profile(vol, "raw_db_txn", &before, nfiles);
out:
	sluice_delete(vol, NULL, "/bench-meta", 1);
	sluice_shutdown(vol);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Prints p50/p99/p999 of n latencies (seconds) in microseconds. */
static void percentiles(const char *name, double *lat, int n)
{
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	const char *tag[] = {"p50", "p99", "p999"};
	double q[] = {0.50, 0.99, 0.999};
	for (int i = 0; i < 3; i++)
		printf("%s_%s %.0f us\n", name, tag[i], lat[(int)(q[i] * (n - 1))] * 1e6);
}

/* 1 KiB record + hflush (staging in cache_dir), + hsync, and hflush without a cache dir; then
 * the raw parts of an hsync: one 1 KiB PUT and one single-row transaction. */
static int bench_wal(const char *meta, const char *cache_dir, int n)
{
	uint8_t rec[1024];
	memset(rec, 'w', sizeof(rec));
	double *lat = malloc((size_t)n * sizeof(*lat));
	const char *names[] = {"hflush", "hsync", "hflush_nocache"};
	for (int mode = 0; mode < 3; mode++) {
		sluice_volume *vol = open_volume_cache(meta, mode < 2 ? cache_dir : NULL);
		sluice_file *f;
		if (sluice_open(vol, NULL, "/bench-wal", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644,
				0, &f))
			fail(vol, "create");
		for (int i = 0; i < n; i++) {
			double t0 = now_s();
			if (sluice_write(f, rec, sizeof(rec)) != (ssize_t)sizeof(rec) ||
			    (mode == 1 ? sluice_hsync(f) : sluice_hflush(f)))
				fail(vol, names[mode]);
			lat[i] = now_s() - t0;
		}
		if (sluice_close(f))
			fail(vol, "close");
		percentiles(names[mode], lat, n);
		if (mode == 2) {
			struct sl_volume_core *v = &vol->core;
			struct sl_err err = {0};
			for (int i = 0; i < n; i++) {
				double t0 = now_s();
				if (sl_obj_put(v->store, "bench-raw-put", rec, sizeof(rec), &err)) {
					fprintf(stderr, "raw put: %s\n", err.msg);
					return 1;
				}
				lat[i] = now_s() - t0;
			}
			sl_obj_delete(v->store, "bench-raw-put", &err);
			percentiles("raw_put_1k", lat, n);
			int64_t value;
			for (int i = 0; i < n; i++) {
				double t0 = now_s();
				if (sl_meta_incr_counter(v->meta, "benchRawTxn", 1, &value, &err)) {
					fprintf(stderr, "raw txn: %s\n", err.msg);
					return 1;
				}
				lat[i] = now_s() - t0;
			}
			percentiles("raw_txn", lat, n);
		}
		sluice_delete(vol, NULL, "/bench-wal", 0);
		sluice_shutdown(vol);
	}
	free(lat);
	return 0;
}

struct walmt {
	sluice_volume *vol;
	sluice_file *f; /* shared, or NULL: each thread opens its own */
	int id, n;
	double *lat;
	int failed;
};

static void *walmt_thread(void *p)
{
	struct walmt *a = p;
	uint8_t rec[1024];
	memset(rec, 'w', sizeof(rec));
	sluice_file *f = a->f;
	char path[64];
	snprintf(path, sizeof(path), "/bench-walmt-%d", a->id);
	if (!f && sluice_open(a->vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &f)) {
		a->failed = 1;
		return NULL;
	}
	for (int i = 0; i < a->n; i++) {
		double t0 = now_s();
		if (sluice_write(f, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || sluice_hflush(f)) {
			a->failed = 1;
			break;
		}
		a->lat[i] = now_s() - t0;
	}
	if (!a->f && sluice_close(f))
		a->failed = 1;
	return NULL;
}

static int bench_walmt(const char *meta, const char *cache_dir, int n, int threads, bool shared)
{
	sluice_volume *vol = open_volume_cache(meta, cache_dir);
	sluice_file *f = NULL;
	if (shared && sluice_open(vol, NULL, "/bench-walmt", SLUICE_O_CREATE | SLUICE_O_OVERWRITE,
				  0644, 0, &f))
		fail(vol, "create");
	int per = n / threads;
	double *lat = malloc((size_t)per * threads * sizeof(*lat));
	struct walmt *a = calloc((size_t)threads, sizeof(*a));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	struct sl_flush_stats *fs = &vol->core.flush;
	uint64_t h0 = fs->hflushes, st0 = fs->stage.stage_ns, sy0 = fs->stage.stage_sync_ns,
		 c0 = fs->commit_ns, n0 = fs->commits, w0 = fs->wait_ns, r0 = fs->replica_wait_ns;
	double t0 = now_s();
	for (int i = 0; i < threads; i++) {
		a[i] = (struct walmt){vol, f, i, per, lat + (size_t)i * per, 0};
		pthread_create(&t[i], NULL, walmt_thread, &a[i]);
	}
	int failed = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		failed |= a[i].failed;
	}
	double secs = now_s() - t0;
	if (failed)
		fail(vol, "hflush");
	double h = (double)(fs->hflushes - h0);
	if (h < 1)
		h = 1;
	if (f && sluice_close(f))
		fail(vol, "close");
	char name[64];
	snprintf(name, sizeof(name), "hflush_%s_t%d", shared ? "shared" : "streams", threads);
	percentiles(name, lat, per * threads);
	printf("%s_rate %.0f ops/s\n", name, per * threads / secs);
	printf("%s_stage %.0f us\n", name, (double)(fs->stage.stage_ns - st0) / h / 1e3);
	printf("%s_fdatasync %.0f us\n", name, (double)(fs->stage.stage_sync_ns - sy0) / h / 1e3);
	printf("%s_replicas %.0f us\n", name, (double)(fs->replica_wait_ns - r0) / h / 1e3);
	printf("%s_commit %.0f us\n", name, (double)(fs->commit_ns - c0) / h / 1e3);
	printf("%s_wait %.0f us\n", name, (double)(fs->wait_ns - w0) / h / 1e3);
	printf("%s_txn_per_hflush %.3f txn\n", name, (double)(fs->commits - n0) / h);
	if (shared) {
		sluice_delete(vol, NULL, "/bench-walmt", 0);
	} else {
		for (int i = 0; i < threads; i++) {
			char path[64];
			snprintf(path, sizeof(path), "/bench-walmt-%d", i);
			sluice_delete(vol, NULL, path, 0);
		}
	}
	sluice_shutdown(vol);
	free(lat);
	free(a);
	free(t);
	return 0;
}

/* Cold read (fills the disk cache), then warm reads through a new handle (empty memory cache,
 * blocks from the disk cache), next to a plain read of a local file beside the cache. */
static int bench_cache(const char *meta, const char *cache_dir, uint64_t mib)
{
	uint64_t size = mib << 20;
	uint8_t *buf = pattern_buf(IO);
	sluice_volume *vol = open_volume(meta);
	write_seq(vol, "/bench-cache", buf, size);
	sluice_shutdown(vol);

	vol = open_volume_with(meta, cache_dir, true);
	printf("cold_read %.1f MiB/s\n", read_all(vol, "/bench-cache", size));
	sluice_shutdown(vol);
	double best = 0;
	for (int i = 0; i < 3; i++) {
		vol = open_volume_with(meta, cache_dir, true);
		double r = read_all(vol, "/bench-cache", size);
		best = r > best ? r : best;
		sluice_shutdown(vol);
	}
	printf("warm_read %.1f MiB/s\n", best);

	char path[1024];
	snprintf(path, sizeof(path), "%s/plain-file", cache_dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (uint64_t off = 0; off < size; off += IO)
		if (write(fd, buf, IO) != (ssize_t)IO) {
			perror(path);
			return 1;
		}
	close(fd);
	best = 0;
	for (int i = 0; i < 3; i++) {
		fd = open(path, O_RDONLY);
		double t0 = now_s();
		ssize_t n;
		while ((n = read(fd, buf, IO)) > 0)
			;
		close(fd);
		double r = (double)size / (now_s() - t0) / (1 << 20);
		best = r > best ? r : best;
	}
	unlink(path);
	printf("plain_file_read %.1f MiB/s\n", best);
	vol = open_volume(meta);
	sluice_delete(vol, NULL, "/bench-cache", 0);
	sluice_shutdown(vol);
	free(buf);
	return 0;
}

static int bench_coldread(const char *meta, const char *cache_dir, uint64_t mib, const char *what,
			  int passes)
{
	const char *path = "/bench-coldread";
	uint64_t size = mib << 20;
	if (!strcmp(what, "delete")) {
		sluice_volume *vol = open_volume(meta);
		sluice_delete(vol, NULL, path, 0);
		sluice_shutdown(vol);
		return 0;
	}
	if (!strcmp(what, "write")) {
		/* xorshift bytes: nothing for a compressing volume to gain */
		uint8_t *buf = malloc(IO);
		uint64_t x = 0x9e3779b97f4a7c15ull;
		sluice_volume *vol = open_volume(meta);
		sluice_file *f;
		if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &f))
			fail(vol, "create");
		for (uint64_t off = 0; off < size; off += IO) {
			for (size_t i = 0; i < IO; i += 8) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				memcpy(buf + i, &x, 8);
			}
			if (sluice_write(f, buf, IO) != (ssize_t)IO)
				fail(vol, "write");
		}
		if (sluice_close(f))
			fail(vol, "close");
		sluice_shutdown(vol);
		free(buf);
		return 0;
	}
	if (strcmp(what, "read"))
		return 2;
	sluice_volume *vol = open_volume_cache(meta, strcmp(cache_dir, "-") ? cache_dir : NULL);
	struct sl_obj_stats *os = &vol->core.store->stats;
	const struct sl_peer_stats *ps = vol->core.peers ? sl_peers_stats(vol->core.peers) : NULL;
	uint64_t g0 = os->gets, gb0 = os->get_bytes;
	uint64_t f0 = ps ? ps->fetched : 0, fb0 = ps ? ps->fetched_bytes : 0;
	uint64_t fail0 = ps ? ps->failed : 0;
	double t0 = now_s();
	double rate = 0;
	for (int i = 0; i < passes; i++)
		rate = read_all(vol, path, size);
	double secs = now_s() - t0;
	printf("read %.1f MiB/s\n", rate);
	printf("seconds %.2f s\n", secs);
	printf("obj_gets %llu GETs\n", (unsigned long long)(os->gets - g0));
	printf("obj_get_mib %.1f MiB\n", (double)(os->get_bytes - gb0) / (1 << 20));
	printf("peer_fetched %llu blocks\n", (unsigned long long)(ps ? ps->fetched - f0 : 0));
	printf("peer_fetched_mib %.1f MiB\n",
	       (double)(ps ? ps->fetched_bytes - fb0 : 0) / (1 << 20));
	printf("peer_failed %llu asks\n", (unsigned long long)(ps ? ps->failed - fail0 : 0));
	/* the offers to the owners happen while the handle lives: shut down before the next step */
	sluice_shutdown(vol);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "wal"))
		return bench_wal(argv[2], argv[3], atoi(argv[4]));
	if (argc == 7 && !strcmp(argv[1], "walmt"))
		return bench_walmt(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
				   !strcmp(argv[6], "shared"));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "coldread"))
		return bench_coldread(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5],
				      argc == 7 ? atoi(argv[6]) : 1);
	if (argc == 5 && !strcmp(argv[1], "cache"))
		return bench_cache(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "data"))
		return bench_data(argv[2], strtoull(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "meta"))
		return bench_meta(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: core_bench data META-URL SIZE_MIB | meta META-URL NFILES | "
		"wal META-URL CACHE-DIR NRECORDS | cache META-URL CACHE-DIR SIZE_MIB | "
		"walmt META-URL CACHE-DIR NRECORDS THREADS shared|streams | "
		"coldread META-URL CACHE-DIR|- SIZE_MIB write|read|delete [READ-PASSES]\n");
	return 2;
}
