/*
 * hdfs_bench.c - the overhead of the libhdfs shim (not a test): one file read through libsluice
 * directly (sluice_read, sluice_pread) and through libsluice-hdfs.so (hdfsRead, hdfsPread), in one
 * process, with the same settings, the two taking turns.
 *
 *   hdfs_bench META-URL VOLUME SIZE_MIB PREAD_OPS ROUNDS      (volume must be formatted)
 *
 * The file (SIZE_MIB) is written through a libsluice handle that is then shut down, and read once
 * by each side before the measured rounds, so both measure warm reads (memory and page cache) of
 * data neither wrote itself: what is left is the cost of the layers, not of the storage. Each
 * round: sequential reads of the whole file in 1 MiB calls, each from a newly opened handle, as
 * many as take about 0.25 s; then positional reads of 64 KiB at random offsets (the same seeded
 * offsets for both sides) in batches of 64, at least PREAD_OPS and as many as take about 0.25 s. The sides alternate pass by pass and batch by batch, so that
 * the load of a shared machine falls on both alike. The shim opens its own volume handle:
 * libsluice-hdfs.so carries its own copy of the core, with its symbols hidden.
 * Prints one line per figure, "name value unit": each side's median rate over the rounds, the
 * median (min, max) over the rounds of the round's hdfs/sluice rate ratio (1 = no overhead), and
 * the median ratio of the calling thread's CPU time (sluice / hdfs: below 1, the shim costs CPU).
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
#define PREAD_BATCH 64 /* preads per unit of work */

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

/* A measurement: wall-clock and the calling thread's CPU time. */
struct span {
	double wall, cpu;
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One sequential read of the whole file in 1 MiB calls from a newly opened handle. */
static struct span seq_pass(struct side *s, const char *path, uint64_t size, uint8_t *buf)
{
	double w0 = now_s(), c0 = cpu_s();
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
	return (struct span){now_s() - w0, cpu_s() - c0};
}

/* n positional reads of 64 KiB at random offsets from the seed (the same for both sides). */
static struct span pread_batch(struct side *s, void *f, uint64_t size, int n, uint64_t seed,
			       uint8_t *buf)
{
	uint64_t slots = size / PREAD_LEN;
	double w0 = now_s(), c0 = cpu_s();
	for (int i = 0; i < n; i++) {
		uint64_t off = next_rand(&seed) % slots * PREAD_LEN;
		ssize_t got = s->vol ? sluice_pread(f, buf, PREAD_LEN, off)
				     : hdfsPread(s->fs, f, (tOffset)off, buf, PREAD_LEN);
		if (got != (ssize_t)PREAD_LEN)
			die(s->name, "short positional read");
	}
	return (struct span){now_s() - w0, cpu_s() - c0};
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
	/* A new handle, so that neither side reads what it wrote itself (from its write buffers). */
	sluice_shutdown(vol);
	if (sluice_init(conf, NSETTINGS + 1, &vol, msg, sizeof(msg)))
		die("sluice_init", msg);

	struct side sides[2] = {{"sluice", vol, NULL}, {"hdfs", NULL, fs}};
	void *pf[2];
	for (int i = 0; i < 2; i++) { /* warm up both */
		seq_pass(&sides[i], path, size, buf);
		pf[i] = side_open(&sides[i], path);
		pread_batch(&sides[i], pf[i], size, PREAD_BATCH, 1, buf);
	}
	/* Units of work small enough to alternate often (a pass over the file; a batch of preads),
	 * as many per round as take about 0.25 s for one side, and at least PREAD_OPS preads. */
	struct span one = seq_pass(&sides[0], path, size, buf);
	int passes = (int)(0.25 / one.wall);
	passes = passes < 1 ? 1 : passes > 1000 ? 1000 : passes;
	one = pread_batch(&sides[0], pf[0], size, PREAD_BATCH, 2, buf);
	int batches = (int)(0.25 / one.wall);
	if (batches * PREAD_BATCH < ops)
		batches = (ops + PREAD_BATCH - 1) / PREAD_BATCH;
	batches = batches > 10000 ? 10000 : batches;

	/* Per round and side: total wall and CPU time over its units, the two sides taking turns
	 * unit by unit (which goes first alternates), so that a change of load on the machine hits
	 * both alike. A round's ratio is sluice time / hdfs time = hdfs rate / sluice rate. */
	double rate[2][2][MAX_ROUNDS], ratio[2][MAX_ROUNDS], cpu_ratio[2][MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		struct span t[2][2] = {{{0, 0}, {0, 0}}, {{0, 0}, {0, 0}}}; /* [kind][side] */
		for (int u = 0; u < passes; u++) {
			for (int k = 0; k < 2; k++) {
				int i = (u + r + k) % 2;
				struct span x = seq_pass(&sides[i], path, size, buf);
				t[0][i].wall += x.wall;
				t[0][i].cpu += x.cpu;
			}
		}
		for (int u = 0; u < batches; u++) {
			for (int k = 0; k < 2; k++) {
				int i = (u + r + k) % 2;
				struct span x = pread_batch(&sides[i], pf[i], size, PREAD_BATCH,
							    (uint64_t)(r * batches + u) * 7919 + 3, buf);
				t[1][i].wall += x.wall;
				t[1][i].cpu += x.cpu;
			}
		}
		for (int i = 0; i < 2; i++) {
			rate[0][i][r] = (double)size * passes / (1 << 20) / t[0][i].wall;
			rate[1][i][r] = (double)batches * PREAD_BATCH / t[1][i].wall;
		}
		for (int kind = 0; kind < 2; kind++) {
			ratio[kind][r] = t[kind][0].wall / t[kind][1].wall;
			cpu_ratio[kind][r] = t[kind][0].cpu / t[kind][1].cpu;
		}
	}
	for (int i = 0; i < 2; i++)
		side_close(&sides[i], pf[i]);

	static const char *const kind_name[2] = {"seq", "pread"};
	static const char *const kind_unit[2] = {"MiB/s", "reads/s"};
	printf("seq_units %d passes\n", passes);
	printf("pread_units %d reads\n", batches * PREAD_BATCH);
	for (int kind = 0; kind < 2; kind++) {
		const char *n = kind_name[kind];
		printf("%s_sluice %.1f %s\n", n, median(rate[kind][0], rounds), kind_unit[kind]);
		printf("%s_hdfs %.1f %s\n", n, median(rate[kind][1], rounds), kind_unit[kind]);
		printf("%s_ratio %.3f x\n", n, median(ratio[kind], rounds)); /* sorted now */
		printf("%s_ratio_min %.3f x\n", n, ratio[kind][0]);
		printf("%s_ratio_max %.3f x\n", n, ratio[kind][rounds - 1]);
		printf("%s_cpu_ratio %.3f x\n", n, median(cpu_ratio[kind], rounds));
	}

	hdfsDisconnect(fs);
	sluice_delete(vol, NULL, path, 0);
	sluice_shutdown(vol);
	free(buf);
	return 0;
}
