/* cli.h - the `sluice` command: shared helpers of its subcommands. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sluice.h"
#include "vfs/vfs.h"

/* Prints "sluice <cmd>: message" to stderr and returns exit status 1. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A progress line of long work on stderr, when it is a terminal: at most one a second, and the
 * final count (done) on a line of its own. */
struct cli_progress {
	bool tty;
	time_t last;
};
void cli_progress_init(struct cli_progress *p);
void cli_progress_show(struct cli_progress *p, const char *what, uint64_t n, bool done);

/* meta_url and the "-o key=value" options as settings (a later key wins); owns copies of the
 * options. On failure the message is printed; cli_conf_free in any case. */
struct cli_conf {
	sluice_kv *kv;
	size_t n;
	char **copies;
	int ncopies;
};
int cli_conf_build(const char *cmd, const char *meta_url, char **opts, int nopts,
		   struct cli_conf *c);
void cli_conf_free(struct cli_conf *c);
/* For the commands that run until SIGINT or SIGTERM: blocks both in this thread and every thread
 * it starts from now on, so that sigwait(set) takes them and no handler needs global state; and
 * ignores SIGPIPE (peers that hang up). Call before any thread starts. */
void cli_block_stop_signals(sigset_t *set);
/* Opens the volume at meta_url with extra "-o key=value" settings. */
int cli_open_volume(const char *cmd, const char *meta_url, char **opts, int nopts,
		    sluice_volume **out);

/* Who the admin commands (info, warmup) act as. Direct mode: the volume's superuser ("superuser",
 * with "supergroup"), since whoever holds the META-URL can read every row anyway and an operator
 * inspecting or warming a path expects no permission errors. Through a gateway: NULL, the
 * logged-in principal, whom the gateway checks like any client. The file commands (ls, put, ...)
 * act as "user" (default: the process owner), like `hadoop fs`. */
struct cli_admin {
	sluice_user user;
	const char *groups[1];
};
const sluice_user *cli_admin_user(sluice_volume *vol, struct cli_admin *a);

/* /metrics (metrics.c): when vol's settings have metrics.listen, serves the volume's counters
 * there in Prometheus's text format until cli_metrics_stop, and prints "sluice CMD: metrics on
 * port N"; *out stays NULL without the setting. Returns 0, or 1 after printing why not. */
struct cli_metrics;
int cli_metrics_start(const char *cmd, sluice_volume *vol, struct cli_metrics **out);
void cli_metrics_stop(struct cli_metrics *m);

int cmd_format(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_files(const char *cmd, int argc, char **argv);
int cmd_warmup(int argc, char **argv);
int cmd_gateway(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_quota(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_cache_server(int argc, char **argv);

#endif
