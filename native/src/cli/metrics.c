/*
 * metrics.c - /metrics for the long-running commands (`sluice gateway`, `sluice cache-server`):
 * the counters of their volume handle (sluice_stats) in Prometheus's text format, over plain HTTP
 * on metrics.listen (HOST:PORT; off when unset). One thread answers one request per connection,
 * each within IO_TIMEOUT_S; the counters say nothing secret, so there is no authentication, and
 * the default is to listen nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "util/net.h"
#include "util/strbuf.h"

#define IO_TIMEOUT_S 5
#define REQUEST_MAX 8192

struct cli_metrics {
	sluice_volume *vol;
	int listen_fd;
	int stop[2]; /* a byte written to stop[1] ends the thread */
	pthread_t thread;
};

/* "object.get_bytes" -> sluice_object_get_bytes_total (a counter); a gauge keeps its name. */
static void add_sample(void *arg, const char *name, uint64_t value)
{
	char metric[160];
	size_t n = (size_t)snprintf(metric, sizeof(metric), "sluice_%s", name);
	if (n >= sizeof(metric))
		return;
	for (char *c = metric; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	bool gauge = !strcmp(name, "meta_cache.entries");
	const char *suffix = gauge ? "" : "_total";
	sl_strbuf_printf(arg, "# TYPE %s%s %s\n%s%s %llu\n", metric, suffix,
			 gauge ? "gauge" : "counter", metric, suffix, (unsigned long long)value);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void serve(struct cli_metrics *m, int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char req[REQUEST_MAX + 1];
	size_t got = 0;
	while (got < REQUEST_MAX) { /* the request line and headers; no body is expected */
		ssize_t r = recv(fd, req + got, REQUEST_MAX - got, 0);
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	static const char text_type[] = "text/plain; charset=utf-8";
	if (strncmp(req, "GET ", 4) && strncmp(req, "HEAD ", 5)) {
		respond(fd, "405 Method Not Allowed", text_type, "GET /metrics\n", 13);
		return;
	}
	const char *path = strchr(req, ' ') + 1;
	size_t plen = strcspn(path, " ?\r\n");
	if (plen != 8 || strncmp(path, "/metrics", 8)) {
		respond(fd, "404 Not Found", text_type, "GET /metrics\n", 13);
		return;
	}
	struct sl_strbuf t = {0};
	sluice_stats(m->vol, add_sample, &t);
	if (!sl_strbuf_str(&t))
		respond(fd, "503 Service Unavailable", text_type, "out of memory\n", 14);
	else
		respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", t.p, t.len);
	sl_strbuf_free(&t);
}

static void *accept_main(void *arg)
{
	struct cli_metrics *m = arg;
	struct pollfd p[2] = {{.fd = m->listen_fd, .events = POLLIN},
			      {.fd = m->stop[0], .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(m, fd);
		close(fd);
	}
	return NULL;
}

int cli_metrics_start(const char *cmd, sluice_volume *vol, struct cli_metrics **out)
{
	*out = NULL;
	const char *where = sl_conf_str(vol->core.conf, "metrics.listen");
	if (!where || !*where)
		return 0;
	struct cli_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return cli_fail(cmd, "out of memory");
	m->vol = vol;
	m->stop[0] = m->stop[1] = -1;
	struct sl_err err = {0};
	int port;
	if (sl_net_listen(where, "metrics.listen", &m->listen_fd, &port, &err)) {
		free(m);
		return cli_fail(cmd, "%s", err.msg);
	}
	if (pipe2(m->stop, O_CLOEXEC) || pthread_create(&m->thread, NULL, accept_main, m)) {
		int e = errno;
		close(m->listen_fd);
		if (m->stop[0] >= 0) {
			close(m->stop[0]);
			close(m->stop[1]);
		}
		free(m);
		return cli_fail(cmd, "serving /metrics: %s", strerror(e));
	}
	printf("sluice %s: metrics on port %d\n", cmd, port);
	fflush(stdout);
	*out = m;
	return 0;
}

void cli_metrics_stop(struct cli_metrics *m)
{
	if (!m)
		return;
	ssize_t w = write(m->stop[1], "x", 1);
	(void)w;
	pthread_join(m->thread, NULL);
	close(m->listen_fd);
	close(m->stop[0]);
	close(m->stop[1]);
	free(m);
}
