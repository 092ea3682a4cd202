/*
 * cacheserver.c - `sluice cache-server`: a node of the cache group that only serves (vfs/peer.c):
 * for hosts whose clients come and go (YARN containers, short jobs) and so cannot keep a block
 * server up, or that want one shared cache per host. It opens the volume with the -o settings
 * (cache-group.port, cache-dir and nodes are required), serves its disk cache, staging area and
 * replicas, hands over replicas in the background, and stops at SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CMD "cache-server"

int cmd_cache_server(int argc, char **argv)
{
	char *opts[256];
	int nopts = 0;
	const char *meta = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc && nopts < 256)
			opts[nopts++] = argv[++i];
		else if (!meta && argv[i][0] != '-')
			meta = argv[i];
		else
			meta = NULL, i = argc;
	}
	if (!meta)
		return cli_fail(CMD, "usage: sluice cache-server [-o KEY=VALUE]... META-URL (with -o "
				"cache-group.port=PORT -o cache-dir=DIR -o nodes=LIST)");
	sigset_t set;
	cli_block_stop_signals(&set);
	sluice_volume *vol = NULL;
	if (cli_open_volume(CMD, meta, opts, nopts, &vol))
		return 1;
	struct sl_volume_core *v = &vol->core;
	int rc = 0;
	if (!v->peers)
		rc = cli_fail(CMD, "no cache group: set -o cache-group.port=PORT (and nodes)");
	else if (!v->disk)
		rc = cli_fail(CMD, "nothing to serve from: set -o cache-dir=DIR");
	else if (!sl_peers_serving(v->peers))
		rc = cli_fail(CMD, "another process of this node serves the cache group's port");
	struct cli_metrics *metrics = NULL;
	if (!rc)
		rc = cli_metrics_start(CMD, vol, &metrics);
	if (!rc) {
		printf("sluice cache-server: serving volume %s\n", v->format.name);
		fflush(stdout);
		int sig;
		sigwait(&set, &sig);
	}
	cli_metrics_stop(metrics);
	sluice_shutdown(vol);
	return rc;
}
