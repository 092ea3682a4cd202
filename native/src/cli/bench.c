/*
 * bench.c - `sluice bench META-URL`: a quick benchmark of a volume from this machine, as
 * `juicefs bench` makes it: each of --threads threads writes a big file sequentially and reads it
 * back, then writes, reads and stats --small-files small files; throughput and time per file are
 * printed per step. The files go into a new directory under --path (default /), which is
 * deleted at the end. The data is random (not compressible),
 * and the reads go through the client's caches as an application's would.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BENCH_USAGE "usage: sluice bench [-o KEY=VALUE]... META-URL [--path DIR] [--big-file-size MiB] " \
	"[--small-file-size KiB] [--small-files N] [--threads N]"
#define IO_SIZE (1 << 20)

enum step { BIG_WRITE, BIG_READ, SMALL_WRITE, SMALL_READ, STAT, NSTEPS };
static const char *const step_names[NSTEPS] = {"write big file", "read big file",
					      "write small file", "read small file",
					      "stat file"};

struct bench {
	sluice_volume *vol;
	const sluice_user *user;
	const char *dir;
	uint64_t big, small; /* bytes */
	int small_files, threads;
	uint8_t *data;      /* IO_SIZE random bytes */
	pthread_barrier_t at_step;
	double started[NSTEPS], ended[NSTEPS];
	pthread_mutex_t lock;
	char error[512];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail_once(struct bench *b, const char *what, const char *path)
{
	pthread_mutex_lock(&b->lock);
	if (!b->error[0])
		snprintf(b->error, sizeof(b->error), "%s %s: %s", what, path,
			 sluice_last_error(b->vol));
	pthread_mutex_unlock(&b->lock);
}

static int write_file(struct bench *b, const char *path, uint64_t size)
{
	sluice_file *f;
	if (sluice_open(b->vol, b->user, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022, &f))
		return -1;
	int rc = 0;
	for (uint64_t off = 0; !rc && off < size; off += IO_SIZE) {
		size_t n = size - off < IO_SIZE ? (size_t)(size - off) : IO_SIZE;
		rc = sluice_write(f, b->data, n) == (ssize_t)n ? 0 : -1;
	}
	return sluice_close(f) || rc ? -1 : 0;
}

static int read_file(struct bench *b, const char *path, uint64_t size, uint8_t *buf)
{
	sluice_file *f;
	if (sluice_open(b->vol, b->user, path, SLUICE_O_READ, 0, 0, &f))
		return -1;
	uint64_t got = 0;
	for (ssize_t n; (n = sluice_read(f, buf, IO_SIZE)) > 0;)
		got += (uint64_t)n;
	sluice_close(f);
	return got == size ? 0 : -1;
}

/* Every thread runs each step on its own files; the step's time spans from the first thread's
 * start to the last one's end. */
static void run_step(struct bench *b, enum step s, int t, uint8_t *buf)
{
	pthread_barrier_wait(&b->at_step);
	if (t == 0)
		b->started[s] = now_s();
	char path[1024];
	int n = s == BIG_WRITE || s == BIG_READ ? 1 : b->small_files;
	for (int i = 0; i < n && !b->error[0]; i++) {
		int rc;
		sluice_stat st;
		if (s == BIG_WRITE || s == BIG_READ)
			snprintf(path, sizeof(path), "%s/big.%d", b->dir, t);
		else
			snprintf(path, sizeof(path), "%s/small.%d.%d", b->dir, t, i);
		switch (s) {
		case BIG_WRITE:
			rc = write_file(b, path, b->big);
			break;
		case BIG_READ:
			rc = read_file(b, path, b->big, buf);
			break;
		case SMALL_WRITE:
			rc = write_file(b, path, b->small);
			break;
		case SMALL_READ:
			rc = read_file(b, path, b->small, buf);
			break;
		default:
			rc = sluice_stat_path(b->vol, b->user, path, &st);
			break;
		}
		if (rc)
			fail_once(b, step_names[s], path);
	}
	pthread_barrier_wait(&b->at_step);
	if (t == 0)
		b->ended[s] = now_s();
}

struct worker {
	struct bench *b;
	int t;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(IO_SIZE);
	for (int s = 0; s < NSTEPS; s++) {
		if (!buf)
			fail_once(w->b, "allocating a buffer for", "reads");
		run_step(w->b, (enum step)s, w->t, buf);
	}
	free(buf);
	return NULL;
}

static void report(const struct bench *b)
{
	printf("%-18s %14s %14s\n", "step", "throughput", "per file");
	for (int s = 0; s < NSTEPS; s++) {
		double secs = b->ended[s] - b->started[s];
		int files = (s == BIG_WRITE || s == BIG_READ ? 1 : b->small_files) * b->threads;
		uint64_t bytes = s == BIG_WRITE || s == BIG_READ ? b->big
			       : s == STAT ? 0 : b->small;
		char tp[32];
		if (s == STAT)
			snprintf(tp, sizeof(tp), "%.0f files/s", files / secs);
		else
			snprintf(tp, sizeof(tp), "%.1f MiB/s",
				 (double)bytes * files / 1048576.0 / secs);
		printf("%-18s %14s %11.2f ms\n", step_names[s], tp, secs * 1000 / files * b->threads);
	}
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end || errno || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	const char *cmd = "bench";
	static struct option opts[] = {
		{"path", required_argument, 0, 'p'},
		{"big-file-size", required_argument, 0, 'B'},
		{"small-file-size", required_argument, 0, 's'},
		{"small-files", required_argument, 0, 'n'},
		{"threads", required_argument, 0, 't'},
		{0, 0, 0, 0},
	};
	const char *under = "/";
	char dir[1024];
	struct bench b = {.dir = dir, .big = 1024ULL << 20, .small = 128 << 10,
			  .small_files = 100, .threads = 1};
	char *settings[64];
	int nsettings = 0;
	uint64_t v;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1;) {
		if (c == 'p') {
			under = optarg;
		} else if (c == 'o' && nsettings < 64) {
			settings[nsettings++] = optarg;
		} else if (c != 'o' && c != '?' &&
			   !parse_count(optarg, c == 'B' ? 1 << 20 : c == 's' ? 1 << 20 : 100000, &v)) {
			if (c == 'B')
				b.big = v << 20;
			else if (c == 's')
				b.small = v << 10;
			else if (c == 'n')
				b.small_files = (int)v;
			else
				b.threads = (int)(v > 64 ? 64 : v);
		} else {
			return cli_fail(cmd, BENCH_USAGE);
		}
	}
	if (optind != argc - 1)
		return cli_fail(cmd, BENCH_USAGE);
	if (!(b.data = malloc(IO_SIZE)))
		return cli_fail(cmd, "out of memory");
	srand((unsigned)time(NULL));
	for (size_t i = 0; i < IO_SIZE; i++)
		b.data[i] = (uint8_t)rand();
	sluice_volume *vol;
	if (cli_open_volume(cmd, argv[optind], settings, nsettings, &vol)) {
		free(b.data);
		return 1;
	}
	b.vol = vol;
	struct cli_admin admin;
	b.user = cli_admin_user(vol, &admin);
	int rc = 0;
	snprintf(dir, sizeof(dir), "%s/sluice-bench-%ld-%d", strcmp(under, "/") ? under : "",
		 (long)time(NULL), (int)getpid());
	if (sluice_mkdirs(vol, b.user, b.dir, 0755, 022)) {
		rc = cli_fail(cmd, "%s", sluice_last_error(vol));
		goto out;
	}
	pthread_mutex_init(&b.lock, NULL);
	pthread_barrier_init(&b.at_step, NULL, (unsigned)b.threads);
	pthread_t th[64];
	struct worker w[64];
	for (int t = 0; t < b.threads; t++) {
		w[t] = (struct worker){&b, t};
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	for (int t = 0; t < b.threads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&b.at_step);
	pthread_mutex_destroy(&b.lock);
	if (b.error[0])
		rc = cli_fail(cmd, "%s", b.error);
	else
		report(&b);
	if (sluice_delete(vol, b.user, b.dir, 1) && !rc)
		rc = cli_fail(cmd, "removing %s: %s", b.dir, sluice_last_error(vol));
out:
	if (sluice_shutdown(vol) && !rc)
		rc = cli_fail(cmd, "closing the volume failed");
	free(b.data);
	return rc;
}
