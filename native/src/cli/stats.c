/*
 * stats.c - `sluice stats HOST:PORT [--interval S] [--count N]`: a live view of a running
 * gateway's or cache server's counters (their /metrics, metrics.listen), one line per interval
 * as `juicefs stats` shows a mount: metadata operations per second and their mean latency,
 * object storage requests and bytes per second, where block reads came from, hflushes and
 * commit transactions per second. Rates are the differences of the counters between two reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rpc/conn.h"
#include "util/strbuf.h"

#define STATS_USAGE "usage: sluice stats HOST:PORT [--interval SECONDS] [--count N]"

/* The sums one line shows, from one read of /metrics. */
struct sample {
	uint64_t meta_calls, meta_ns, gets, get_bytes, puts, put_bytes;
	uint64_t reads_memory, reads_disk, reads_staged, reads_peers, reads_object;
	uint64_t hflushes, commits;
};

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* One "name value" line of Prometheus's text format into s. */
static void add_line(struct sample *s, const char *name, size_t len, uint64_t v)
{
	static const struct {
		const char *name;
		size_t off;
	} exact[] = {
		{"sluice_object_gets_total", offsetof(struct sample, gets)},
		{"sluice_object_get_bytes_total", offsetof(struct sample, get_bytes)},
		{"sluice_object_puts_total", offsetof(struct sample, puts)},
		{"sluice_object_put_bytes_total", offsetof(struct sample, put_bytes)},
		{"sluice_block_reads_memory_total", offsetof(struct sample, reads_memory)},
		{"sluice_block_reads_disk_total", offsetof(struct sample, reads_disk)},
		{"sluice_block_reads_staged_total", offsetof(struct sample, reads_staged)},
		{"sluice_block_reads_peers_total", offsetof(struct sample, reads_peers)},
		{"sluice_block_reads_object_total", offsetof(struct sample, reads_object)},
		{"sluice_hflush_calls_total", offsetof(struct sample, hflushes)},
		{"sluice_commit_transactions_total", offsetof(struct sample, commits)},
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i].name) == len && !memcmp(name, exact[i].name, len)) {
			*(uint64_t *)((char *)s + exact[i].off) += v;
			return;
		}
	static const char meta[] = "sluice_meta_";
	if (len > sizeof(meta) - 1 && !memcmp(name, meta, sizeof(meta) - 1)) {
		if (has_suffix(name, len, "_calls_total"))
			s->meta_calls += v;
		else if (has_suffix(name, len, "_ns_total"))
			s->meta_ns += v;
	}
}

/* GET /metrics from host:port into *s. */
static int read_metrics(const char *host, const char *port, struct sample *s, char *why,
			size_t why_size)
{
	struct sl_err err = {0};
	int fd;
	int rc = sl_rpc_connect(host, port, 5000, &fd, &err);
	if (rc) {
		snprintf(why, why_size, "cannot connect to %s:%s: %s", host, port, strerror(-rc));
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK); /* reads below wait, up to 5 s */
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char req[600];
	int n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nHost: %s:%s\r\n\r\n", host,
			 port);
	struct sl_strbuf body = {0};
	rc = write(fd, req, (size_t)n) == n ? 0 : -1;
	char buf[16384];
	for (ssize_t r; !rc && (r = read(fd, buf, sizeof(buf))) != 0;) {
		if (r < 0) {
			rc = -1;
			break;
		}
		sl_strbuf_putn(&body, buf, (size_t)r);
	}
	close(fd);
	const char *text = sl_strbuf_str(&body);
	if (rc || !text || strncmp(text, "HTTP/1.", 7) || !strstr(text, " 200 ")) {
		snprintf(why, why_size, "no metrics at http://%s:%s/metrics", host, port);
		sl_strbuf_free(&body);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	const char *p = strstr(text, "\r\n\r\n");
	for (p = p ? p + 4 : text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *sp = memchr(p, ' ', len);
		if (*p != '#' && sp)
			add_line(s, p, (size_t)(sp - p), strtoull(sp + 1, NULL, 10));
		p += len + (end ? 1 : 0);
	}
	sl_strbuf_free(&body);
	return 0;
}

static double rate(uint64_t now, uint64_t before, double secs)
{
	return now >= before ? (double)(now - before) / secs : 0;
}

static void print_line(const struct sample *a, const struct sample *b, double secs)
{
	char when[16];
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	uint64_t calls = b->meta_calls - a->meta_calls;
	double ms = calls ? (double)(b->meta_ns - a->meta_ns) / (double)calls / 1e6 : 0;
	printf("%8s %9.0f %7.2f %8.0f %8.1f %8.0f %8.1f %7.0f %7.0f %7.0f %7.0f %7.0f %8.0f %8.0f\n",
	       when, rate(b->meta_calls, a->meta_calls, secs), ms, rate(b->gets, a->gets, secs),
	       rate(b->get_bytes, a->get_bytes, secs) / 1048576, rate(b->puts, a->puts, secs),
	       rate(b->put_bytes, a->put_bytes, secs) / 1048576,
	       rate(b->reads_memory, a->reads_memory, secs),
	       rate(b->reads_disk, a->reads_disk, secs),
	       rate(b->reads_staged, a->reads_staged, secs),
	       rate(b->reads_peers, a->reads_peers, secs),
	       rate(b->reads_object, a->reads_object, secs), rate(b->hflushes, a->hflushes, secs),
	       rate(b->commits, a->commits, secs));
	fflush(stdout);
}

int cmd_stats(int argc, char **argv)
{
	const char *cmd = "stats";
	static struct option opts[] = {
		{"interval", required_argument, 0, 'i'},
		{"count", required_argument, 0, 'c'},
		{0, 0, 0, 0},
	};
	long interval = 1, count = 0;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		char *end;
		long v = c == 'i' || c == 'c' ? strtol(optarg, &end, 10) : -1;
		if (v < (c == 'c' ? 0 : 1) || *end)
			return cli_fail(cmd, STATS_USAGE);
		*(c == 'i' ? &interval : &count) = v;
	}
	if (optind != argc - 1)
		return cli_fail(cmd, STATS_USAGE);
	char host[256], port[16];
	const char *where = argv[optind], *colon = strrchr(where, ':');
	if (!colon || colon == where || (size_t)(colon - where) >= sizeof(host) || !colon[1] ||
	    strlen(colon + 1) >= sizeof(port))
		return cli_fail(cmd, "%s is not HOST:PORT (the metrics.listen of a gateway or cache "
				"server)", where);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - where), where);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [v6-address] */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	struct sample prev, cur;
	char why[512];
	if (read_metrics(host, port, &prev, why, sizeof(why)))
		return cli_fail(cmd, "%s", why);
	printf("%8s %9s %7s %8s %8s %8s %8s %7s %7s %7s %7s %7s %8s %8s\n", "time", "meta/s",
	       "meta ms", "get/s", "get MiB", "put/s", "put MiB", "mem", "disk", "staged",
	       "peers", "object", "hflush/s", "commit/s");
	for (long i = 0; !count || i < count; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sleep((unsigned)interval);
		if (read_metrics(host, port, &cur, why, sizeof(why)))
			return cli_fail(cmd, "%s", why);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		print_line(&prev, &cur, secs > 0 ? secs : 1);
		prev = cur;
	}
	return 0;
}
