/*
 * gateway.c - `sluice gateway`: runs the Kerberos-mode metadata gateway in the foreground until
 * SIGINT or SIGTERM. Settings come from a file of KEY=VALUE lines (-c; it holds the database
 * password, so keep it readable only by the service account) and from -o KEY=VALUE.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gateway/gateway.h"

struct kvs {
	sluice_kv *kv;
	char **owned;
	size_t n, cap;
};

static int add_pair(struct kvs *k, const char *text, const char *where)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 32;
		sluice_kv *kv = realloc(k->kv, cap * sizeof(*kv));
		if (!kv)
			return cli_fail("gateway", "out of memory");
		k->kv = kv;
		char **owned = realloc(k->owned, cap * sizeof(*owned));
		if (!owned)
			return cli_fail("gateway", "out of memory");
		k->owned = owned;
		k->cap = cap;
	}
	char *copy = strdup(text);
	char *eq = copy ? strchr(copy, '=') : NULL;
	if (!eq || eq == copy) {
		free(copy);
		return cli_fail("gateway", "%s: '%.100s' is not KEY=VALUE", where, text);
	}
	*eq = 0;
	k->owned[k->n] = copy;
	k->kv[k->n++] = (sluice_kv){copy, eq + 1};
	return 0;
}

static int read_file(struct kvs *k, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cli_fail("gateway", "%s: %s", path, strerror(errno));
	char line[8192];
	int rc = 0, no = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		no++;
		line[strcspn(line, "\r\n")] = 0;
		char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		char where[600];
		snprintf(where, sizeof(where), "%s:%d", path, no);
		rc = add_pair(k, s, where);
	}
	fclose(f);
	return rc;
}

struct served {
	struct sl_gateway *gw;
	int rc;
};

static void *serve_main(void *arg)
{
	struct served *s = arg;
	s->rc = sl_gateway_run(s->gw);
	if (s->rc) /* wake the waiting thread */
		kill(getpid(), SIGTERM);
	return NULL;
}

/* Serves in a thread while this one waits for SIGINT or SIGTERM (in set, blocked in every
 * thread before the gateway started any, so sigwait takes them and no handler needs the gateway
 * in a global), then stops the gateway. */
static int serve_until_signal(struct sl_gateway *gw, sigset_t *set)
{
	struct served s = {.gw = gw};
	struct cli_metrics *metrics;
	if (cli_metrics_start("gateway", sl_gateway_volume(gw), &metrics))
		return 1;
	pthread_t t;
	if (pthread_create(&t, NULL, serve_main, &s)) {
		cli_metrics_stop(metrics);
		return cli_fail("gateway", "cannot start the accept loop");
	}
	printf("sluice gateway: listening on port %d\n", sl_gateway_port(gw));
	fflush(stdout);
	int sig;
	sigwait(set, &sig);
	sl_gateway_stop(gw);
	pthread_join(t, NULL);
	cli_metrics_stop(metrics);
	return s.rc ? cli_fail("gateway", "the accept loop failed") : 0;
}

int cmd_gateway(int argc, char **argv)
{
	struct kvs k = {0};
	int rc = 0;
	for (int i = 1; !rc && i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			rc = read_file(&k, argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			rc = add_pair(&k, argv[++i], "-o");
		else if (!strncmp(argv[i], "mysql://", 8) || !strncmp(argv[i], "sqlite3://", 10)) {
			char buf[4200];
			snprintf(buf, sizeof(buf), "meta=%s", argv[i]);
			rc = add_pair(&k, buf, "META-URL");
		} else
			rc = cli_fail("gateway", "usage: sluice gateway [-c FILE] [-o KEY=VALUE]... "
				      "[META-URL]");
	}
	struct sl_gateway *gw = NULL;
	sigset_t set;
	cli_block_stop_signals(&set); /* before sl_gateway_new starts threads that inherit it */
	if (!rc) {
		char msg[1024];
		if (sl_gateway_new(k.kv, k.n, NULL, &gw, msg, sizeof(msg)))
			rc = cli_fail("gateway", "%s", msg);
	}
	if (!rc)
		rc = serve_until_signal(gw, &set);
	sl_gateway_free(gw);
	for (size_t i = 0; i < k.n; i++)
		free(k.owned[i]);
	free(k.owned);
	free(k.kv);
	return rc;
}
