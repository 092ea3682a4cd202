/*
 * warmup.c - `sluice warmup`: reads files (directories recursively) so that their blocks land in
 * the disk cache of this machine, with a progress display on stderr. It reads as the volume's
 * superuser (cli_admin_user), so that no file is skipped for its permissions.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define READ_SIZE (8 << 20)  /* spans blocks, so the download pool fetches them in parallel */
#define MAX_THREADS 64

static const char *const CMD = "warmup";

struct wfile {
	char *path;
	uint64_t length;
};

struct warmup {
	sluice_volume *vol;
	const sluice_user *user; /* cli_admin_user: the superuser in direct mode */
	struct cli_admin admin;
	struct wfile *files;
	size_t nfiles, cap;
	uint64_t total;
	bool tty;
	pthread_mutex_t lock; /* next, and lines on stderr */
	size_t next;
	atomic_uint_fast64_t bytes_done, files_done, failures;
};

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

/* A message line; on a terminal it first clears the progress line it would run into. */
static void say(struct warmup *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct warmup *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&w->lock);
	fprintf(stderr, "%ssluice %s: %s\n", w->tty ? "\r\033[K" : "", CMD, msg);
	pthread_mutex_unlock(&w->lock);
}

static int add_file(struct warmup *w, const char *path, uint64_t length)
{
	if (w->nfiles == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 256;
		struct wfile *nf = realloc(w->files, nc * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		w->files = nf;
		w->cap = nc;
	}
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	w->files[w->nfiles++] = (struct wfile){p, length};
	w->total += length;
	return 0;
}

/* Adds the files below directory path; symlinks are not followed (no loops, no surprises). */
static int walk(struct warmup *w, const char *path)
{
	sluice_dir *d;
	if (sluice_opendir(w->vol, w->user, path, &d)) {
		say(w, "%s: %s", path, sluice_last_error(w->vol));
		atomic_fetch_add(&w->failures, 1);
		return 0;
	}
	sluice_dirent ents[256];
	int n, rc = 0;
	while (!rc && (n = sluice_readdir(d, ents, 256)) > 0)
		for (int i = 0; i < n && !rc; i++) {
			char child[4096];
			if (snprintf(child, sizeof(child), "%s%s%s", path,
				     strcmp(path, "/") ? "/" : "", ents[i].name) >= (int)sizeof(child))
				continue;
			if (ents[i].st.type == SLUICE_DIR)
				rc = walk(w, child);
			else if (ents[i].st.type == SLUICE_FILE)
				rc = add_file(w, child, ents[i].st.length);
		}
	if (!rc && n < 0) {
		say(w, "listing %s: %s", path, sluice_last_error(w->vol));
		atomic_fetch_add(&w->failures, 1);
	}
	sluice_closedir(d);
	return rc;
}

static void warm_one(struct warmup *w, const struct wfile *f, char *buf)
{
	sluice_file *fh;
	if (sluice_open(w->vol, w->user, f->path, SLUICE_O_READ, 0, 0, &fh)) {
		say(w, "%s: %s", f->path, sluice_last_error(w->vol));
		atomic_fetch_add(&w->failures, 1);
		return;
	}
	for (;;) {
		ssize_t n = sluice_read(fh, buf, READ_SIZE);
		if (n < 0) {
			say(w, "%s: %s", f->path, sluice_last_error(w->vol));
			atomic_fetch_add(&w->failures, 1);
			break;
		}
		if (n == 0)
			break;
		atomic_fetch_add(&w->bytes_done, (uint64_t)n);
	}
	sluice_close(fh);
}

static void *worker(void *arg)
{
	struct warmup *w = arg;
	char *buf = malloc(READ_SIZE);
	if (!buf) {
		say(w, "out of memory");
		atomic_fetch_add(&w->failures, 1);
	}
	for (;;) {
		pthread_mutex_lock(&w->lock);
		size_t i = w->next < w->nfiles && buf ? w->next++ : w->nfiles;
		pthread_mutex_unlock(&w->lock);
		if (i == w->nfiles)
			break;
		warm_one(w, &w->files[i], buf);
		atomic_fetch_add(&w->files_done, 1);
	}
	free(buf);
	return NULL;
}

static void progress(struct warmup *w, double start, bool final)
{
	uint64_t b = atomic_load(&w->bytes_done), nf = atomic_load(&w->files_done);
	double t = ((double)sl_mono_ns() / 1e9) - start;
	double rate = t > 0 ? mib(b) / t : 0;
	pthread_mutex_lock(&w->lock);
	fprintf(stderr, "%sfiles %" PRIu64 "/%zu, %.1f/%.1f MiB, %.1f MiB/s%s%s",
		w->tty ? "\r\033[K" : "", nf, w->nfiles, mib(b), mib(w->total), rate,
		final ? "" : ", ", final ? "" : "warming up");
	if (final)
		fprintf(stderr, " in %.1f s\n", t);
	else
		fputc(w->tty ? ' ' : '\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&w->lock);
}

static void usage_fail(void)
{
	cli_fail(CMD, "usage: sluice warmup [-o KEY=VALUE]... [-p FILES-AT-ONCE] META-URL PATH...");
}

static int run(struct warmup *w, char **paths, int npaths, int threads)
{
	for (int i = 0; i < npaths; i++) {
		sluice_stat st;
		if (sluice_stat_path(w->vol, w->user, paths[i], &st)) {
			say(w, "%s: %s", paths[i], sluice_last_error(w->vol));
			atomic_fetch_add(&w->failures, 1);
			continue;
		}
		int rc = st.type == SLUICE_DIR ? walk(w, paths[i])
						: add_file(w, paths[i], st.length);
		if (rc)
			return cli_fail(CMD, "out of memory");
	}
	uint64_t limit;
	sl_diskcache_usage(w->vol->core.disk, NULL, NULL, &limit);
	if (w->total > limit)
		say(w, "the files (%.1f MiB) are larger than cache-size (%.1f MiB): only the blocks "
		    "read last stay cached", mib(w->total), mib(limit));
	pthread_mutex_lock(&w->lock);
	fprintf(stderr, "warming up %zu files, %.1f MiB, %d at a time\n", w->nfiles, mib(w->total),
		threads);
	pthread_mutex_unlock(&w->lock);

	pthread_t tids[MAX_THREADS];
	int started = 0;
	double start = ((double)sl_mono_ns() / 1e9), last = start;
	for (; started < threads && (size_t)started < w->nfiles; started++)
		if (pthread_create(&tids[started], NULL, worker, w))
			break;
	if (!started && w->nfiles)
		worker(w); /* no thread could start: do it here */
	double every = w->tty ? 0.5 : 5.0;
	while (atomic_load(&w->files_done) < w->nfiles && started) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
		if (((double)sl_mono_ns() / 1e9) - last >= every) {
			last = ((double)sl_mono_ns() / 1e9);
			progress(w, start, false);
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	progress(w, start, true);
	return 0;
}

int cmd_warmup(int argc, char **argv)
{
	char **opts = calloc((size_t)argc + 3, sizeof(char *));
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int nopts = 0, nargs = 0, rc = 0, threads = 4;
	struct warmup w = {.tty = isatty(STDERR_FILENO)};
	pthread_mutex_init(&w.lock, NULL);
	if (!opts || !args) {
		rc = cli_fail(CMD, "out of memory");
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			opts[nopts++] = argv[++i];
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 1 || n > MAX_THREADS) {
				rc = cli_fail(CMD, "-p takes a number of files from 1 to %d",
					      MAX_THREADS);
				goto out;
			}
			threads = (int)n;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage_fail();
			rc = 2;
			goto out;
		} else {
			args[nargs++] = argv[i];
		}
	}
	if (nargs < 2) {
		usage_fail();
		rc = 2;
		goto out;
	}
	/* Later settings win: every block read must be cached, whatever the config says, even
	 * when that makes reading wait for the cache disk. */
	opts[nopts++] = "cache-full-block=true";
	opts[nopts++] = "cache-writers=0";
	if ((rc = cli_open_volume(CMD, args[0], opts, nopts, &w.vol)))
		goto out;
	w.user = cli_admin_user(w.vol, &w.admin);
	if (!w.vol->core.disk) {
		cli_fail(CMD, "there is no disk cache to fill: set one or more cache directories "
			 "with -o cache-dir=DIR[:DIR...] (a directory that cannot be created or "
			 "written is skipped, see the warnings above)");
		rc = 2;
	} else {
		rc = run(&w, args + 1, nargs - 1, threads);
	}
	/* shutdown also waits for the last blocks to be written to the cache */
	if (sluice_shutdown(w.vol) && !rc)
		rc = cli_fail(CMD, "closing the volume failed");
	if (!rc && atomic_load(&w.failures)) {
		fprintf(stderr, "sluice %s: %" PRIu64 " file(s) or directories could not be read\n",
			CMD, (uint64_t)atomic_load(&w.failures));
		rc = 1;
	}
out:
	for (size_t i = 0; i < w.nfiles; i++)
		free(w.files[i].path);
	free(w.files);
	pthread_mutex_destroy(&w.lock);
	free(opts);
	free(args);
	return rc;
}
