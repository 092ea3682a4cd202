/*
 * hdfs_bench.c - the overhead of the libhdfs shim (not a test): one file read through libsluice
 * directly (sluice_read, sluice_pread) and through libsluice-hdfs.so (hdfsRead, hdfsPread), in one
 * process, the two interleaved round by round (the order alternates), with the same settings.
 *
 *   hdfs_bench META-URL VOLUME SIZE_MIB PREAD_OPS ROUNDS      (volume must be formatted)
 *
 * The file (SIZE_MIB, written once through libsluice) is read once by each side before the
 * measured rounds, so both measure warm reads (memory and page cache): what is left is the cost of
 * the layers, not of the storage. Each round: sequential reads of the whole file in 1 MiB calls,
 * each from a newly opened handle, as many as take about 0.25 s, then PREAD_OPS positional reads of 64 KiB at random offsets (the
 * same seeded sequence for both sides). The shim opens its own volume handle: libsluice-hdfs.so
 * carries its own copy of the core, with its symbols hidden.
 * Prints one line per figure, "name value unit": the median over the rounds of each side, and
 * hdfs/sluice ratios (1 = no overhead).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hdfs.h"
#include "sluice.h"

#define IO (1u << 20)
#define PREAD_LEN (64u << 10)
#define MAX_ROUNDS 64

/* The settings both sides get (sluice.KEY for the shim). */
static const sluice_kv SETTINGS[] = {{"memory-size", "512M"}, {"readahead", "80M"},
				     {"max-downloads", "20"}, {"max-uploads", "20"}};
#define NSETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "hdfs_bench: %s: %s\n", what, why);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64: the same offsets for both sides */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct side {
	const char *name;
	sluice_volume *vol; /* libsluice */
	hdfsFS fs;          /* the shim */
};

static void *side_open(struct side *s, const char *path)
{
	if (s->vol) {
		sluice_file *f;
		if (sluice_open(s->vol, NULL, path, SLUICE_O_READ, 0, 0, &f))
			die("sluice_open", sluice_last_error(s->vol));
		return f;
	}
	hdfsFile f = hdfsOpenFile(s->fs, path, O_RDONLY, 0, 0, 0);
	if (!f)
		die("hdfsOpenFile", strerror(errno));
	return f;
}

static void side_close(struct side *s, void *f)
{
	if (s->vol)
		sluice_close(f);
	else
		hdfsCloseFile(s->fs, f);
}

/* passes sequential reads of the whole file in 1 MiB calls, each from a newly opened handle:
 * MiB/s */
static double seq_read(struct side *s, const char *path, uint64_t size, int passes, uint8_t *buf)
{
	double t0 = now_s();
	for (int p = 0; p < passes; p++) {
		void *f = side_open(s, path);
		uint64_t total = 0;
		for (;;) {
			ssize_t n = s->vol ? sluice_read(f, buf, IO) : hdfsRead(s->fs, f, buf, IO);
			if (n < 0)
				die(s->name, "read failed");
			if (n == 0)
				break;
			total += (uint64_t)n;
		}
		side_close(s, f);
		if (total != size)
			die(s->name, "short sequential read");
	}
	return (double)size * passes / (1 << 20) / (now_s() - t0);
}

/* ops positional reads of 64 KiB at random offsets: reads/s */
static double rand_pread(struct side *s, const char *path, uint64_t size, int ops, uint8_t *buf)
{
	void *f = side_open(s, path);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint64_t slots = size / PREAD_LEN;
	double t0 = now_s();
	for (int i = 0; i < ops; i++) {
		uint64_t off = next_rand(&seed) % slots * PREAD_LEN;
		ssize_t n = s->vol ? sluice_pread(f, buf, PREAD_LEN, off)
				   : hdfsPread(s->fs, f, (tOffset)off, buf, PREAD_LEN);
		if (n != (ssize_t)PREAD_LEN)
			die(s->name, "short positional read");
	}
	double dt = now_s() - t0;
	side_close(s, f);
	return ops / dt;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: hdfs_bench META-URL VOLUME SIZE_MIB PREAD_OPS ROUNDS\n");
		return 2;
	}
	const char *meta = argv[1], *volume = argv[2];
	uint64_t size = strtoull(argv[3], NULL, 10) << 20;
	int ops = atoi(argv[4]), rounds = atoi(argv[5]);
	if (size < PREAD_LEN || ops < 1 || rounds < 1 || rounds > MAX_ROUNDS)
		die("arguments", "SIZE_MIB >= 1, PREAD_OPS >= 1, 1 <= ROUNDS <= 64");
	const char *path = "/hdfs-bench";

	sluice_kv conf[NSETTINGS + 1] = {{"meta", meta}};
	memcpy(conf + 1, SETTINGS, sizeof(SETTINGS));
	sluice_volume *vol;
	char msg[512];
	if (sluice_init(conf, NSETTINGS + 1, &vol, msg, sizeof(msg)))
		die("sluice_init", msg);

	struct hdfsBuilder *bld = hdfsNewBuilder();
	char nn[300], key[300];
	snprintf(nn, sizeof(nn), "sluice://%s", volume);
	hdfsBuilderSetNameNode(bld, nn);
	hdfsBuilderConfSetStr(bld, "sluice.meta", meta);
	for (size_t i = 0; i < NSETTINGS; i++) {
		snprintf(key, sizeof(key), "sluice.%s", SETTINGS[i].key);
		hdfsBuilderConfSetStr(bld, strdup(key), SETTINGS[i].value); /* kept by the builder */
	}
	hdfsFS fs = hdfsBuilderConnect(bld);
	if (!fs)
		die("hdfsBuilderConnect", strerror(errno));

	uint8_t *buf = malloc(IO);
	if (!buf)
		die("malloc", strerror(ENOMEM));
	for (uint32_t i = 0; i < IO; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 24);
	sluice_file *w;
	if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &w))
		die("sluice_open (write)", sluice_last_error(vol));
	for (uint64_t done = 0; done < size; done += IO) {
		size_t n = size - done < IO ? (size_t)(size - done) : IO;
		if (sluice_write(w, buf, n) != (ssize_t)n)
			die("sluice_write", sluice_last_error(vol));
	}
	if (sluice_close(w))
		die("sluice_close", sluice_last_error(vol));

	struct side sides[2] = {{"sluice", vol, NULL}, {"hdfs", NULL, fs}};
	double seq[2][MAX_ROUNDS], pr[2][MAX_ROUNDS];
	for (int i = 0; i < 2; i++) /* warm up both */
		seq_read(&sides[i], path, size, 1, buf);
	/* Warm reads from memory are quick: as many passes as make a quarter of a second, so that a
	 * round is not over before the scheduler has had its say. */
	double warm_rate = seq_read(&sides[0], path, size, 1, buf);
	int passes = (int)(0.25 * warm_rate / ((double)size / (1 << 20)));
	passes = passes < 1 ? 1 : passes > 1000 ? 1000 : passes;
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			int i = (r + k) % 2; /* alternate which side goes first */
			seq[i][r] = seq_read(&sides[i], path, size, passes, buf);
			pr[i][r] = rand_pread(&sides[i], path, size, ops, buf);
		}
	}
	double ms = median(seq[0], rounds), mh = median(seq[1], rounds);
	double ps = median(pr[0], rounds), ph = median(pr[1], rounds);
	printf("seq_passes %d reads\n", passes);
	printf("seq_sluice %.1f MiB/s\n", ms);
	printf("seq_hdfs %.1f MiB/s\n", mh);
	printf("seq_ratio %.3f x\n", mh / ms);
	printf("pread_sluice %.0f reads/s\n", ps);
	printf("pread_hdfs %.0f reads/s\n", ph);
	printf("pread_ratio %.3f x\n", ph / ps);

	hdfsDisconnect(fs);
	sluice_delete(vol, NULL, path, 0);
	sluice_shutdown(vol);
	free(buf);
	return 0;
}
