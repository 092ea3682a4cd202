/*
 * main.c - the `sluice` command line: dispatch to subcommands and the helpers they share.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice COMMAND [ARGS]\n"
		"\n"
		"Volume commands (META-URL: sqlite3://PATH or mysql://USER:PASS@(HOST:PORT)/DB):\n"
		"  format META-URL NAME [--storage file|s3|minio] [--bucket B] [--access-key K]\n"
		"         [--secret-key S] [--block-size KiB] [--compress none|lz4] [--trash-days N]\n"
		"         [--capacity GiB] [--inodes N] [--hash-prefix] [--force]\n"
		"         [--encrypt-rsa-key PEM-FILE [--encrypt-algo aes256gcm-rsa|chacha20-rsa]]\n"
		"         [--enable-acl] [--ca-file PEM-FILE]\n"
		"                                  (a protected key's passphrase: JFS_RSA_PASSPHRASE)\n"
		"  status META-URL                 the volume's settings, usage and sessions (JSON)\n"
		"  info META-URL [PATH]            a path's inode, attributes and data layout\n"
		"  quota set|get|delete|list|check META-URL [--path DIR] [--capacity GiB]\n"
		"         [--inodes N] [--create] [--repair]\n"
		"                                  directory quotas, as juicefs quota\n"
		"  dump META-URL FILE [--keep-secret-key]\n"
		"                                  the metadata as juicefs dump writes it (juicefs load\n"
		"                                  reads it)\n"
		"  load META-URL FILE              such a dump (juicefs dump's too) into an empty\n"
		"                                  database\n"
		"  fsck META-URL [--path PATH [-r|--recursive] [--repair] [--sync-dir-stat]\n"
		"         [--repair-dir-mode MODE]]\n"
		"                                  every block of every file's slices is in object\n"
		"                                  storage (exit status 1 and the files if not); with\n"
		"                                  --path only files at or below PATH, and its\n"
		"                                  directories' nodes, link counts and stats, which\n"
		"                                  --repair fixes, as juicefs fsck\n"
		"  gc META-URL [--delete] [--skip-newer SECONDS]\n"
		"                                  objects no file uses (leaked) and pending deletions;\n"
		"                                  --delete removes them (objects newer than SECONDS,\n"
		"                                  default 3600, are left alone), as juicefs gc\n"
		"\n"
		"File commands (each also takes -o KEY=VALUE settings, see docs/configuration.md; they\n"
		"act as -o user=NAME, default the process owner; info and warmup as the superuser):\n"
		"  ls META-URL PATH                list a directory\n"
		"  mkdir META-URL PATH             create a directory and its parents\n"
		"  put META-URL LOCAL PATH         copy a local file in\n"
		"  get META-URL PATH LOCAL         copy a file out\n"
		"  cat META-URL PATH               print a file\n"
		"  mv META-URL SRC DST             rename\n"
		"  rm [-r] META-URL PATH           delete\n"
		"  getfacl META-URL PATH           a path's ACL, as hadoop fs -getfacl\n"
		"  setfacl META-URL -m|-x|--set SPEC|-b|-k PATH\n"
		"                                  change it, as hadoop fs -setfacl\n"
		"  snapshot create|delete|rename|list META-URL DIR [NAME [NEW-NAME]]\n"
		"                                  directory snapshots, as hdfs dfs -createSnapshot,\n"
		"                                  -deleteSnapshot, -renameSnapshot (read them under\n"
		"                                  DIR/.snapshot/NAME)\n"
		"  warmup [-p N] META-URL PATH...  read files (directories recursively) into the disk\n"
		"                                  cache (needs -o cache-dir=DIR); N files at a time\n"
		"\n"
		"\n"
		"  gateway [-c FILE] [-o KEY=VALUE]... [META-URL]\n"
		"                                  serve the volume to Kerberos clients (gateway://);\n"
		"                                  FILE holds KEY=VALUE lines (docs/security.md)\n"
		"  token issue [-o KEY=VALUE]... [--renewer USER] [--user USER] gateway://HOST[:PORT] FILE\n"
		"  token renew|cancel [-o KEY=VALUE]... FILE\n"
		"                                  delegation tokens of a gateway (Kerberos login);\n"
		"                                  FILE holds the token (base64 lines)\n"
		"  bench [-o KEY=VALUE]... META-URL [--path DIR] [--big-file-size MiB]\n"
		"         [--small-file-size KiB] [--small-files N] [--threads N]\n"
		"                                  a quick I/O and metadata benchmark of the volume,\n"
		"                                  as juicefs bench (defaults: 1024 MiB, 128 KiB, 100, 1)\n"
		"  stats HOST:PORT [--interval S] [--count N]\n"
		"                                  a running gateway's or cache server's counters\n"
		"                                  (its metrics.listen) per second, as juicefs stats\n"
		"  cache-server [-o KEY=VALUE]... META-URL\n"
		"                                  serve this node's share of the cache group (needs\n"
		"                                  cache-group.port, cache-dir and nodes)\n"
		"\n"
		"  version                         print the version\n");
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sluice %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

void cli_progress_init(struct cli_progress *p)
{
	*p = (struct cli_progress){.tty = isatty(STDERR_FILENO)};
}

void cli_progress_show(struct cli_progress *p, const char *what, uint64_t n, bool done)
{
	time_t now = time(NULL);
	if (!p->tty || (!done && now == p->last))
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %" PRIu64 "%s", what, n, done ? "\n" : "");
}

int cli_conf_build(const char *cmd, const char *meta_url, char **opts, int nopts,
		   struct cli_conf *c)
{
	*c = (struct cli_conf){.kv = calloc((size_t)nopts + 1, sizeof(sluice_kv)),
			       .copies = calloc((size_t)nopts + 1, sizeof(char *)), .ncopies = nopts};
	if (!c->kv || !c->copies)
		return cli_fail(cmd, "out of memory");
	c->kv[c->n++] = (sluice_kv){"meta", meta_url};
	for (int i = 0; i < nopts; i++) {
		c->copies[i] = strdup(opts[i]);
		char *eq = c->copies[i] ? strchr(c->copies[i], '=') : NULL;
		if (!eq)
			return cli_fail(cmd, "option '%s' is not KEY=VALUE", opts[i]);
		*eq = 0;
		c->kv[c->n++] = (sluice_kv){c->copies[i], eq + 1};
	}
	return 0;
}

void cli_conf_free(struct cli_conf *c)
{
	for (int i = 0; c->copies && i < c->ncopies; i++)
		free(c->copies[i]);
	free(c->copies);
	free(c->kv);
	*c = (struct cli_conf){0};
}

void cli_block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cli_open_volume(const char *cmd, const char *meta_url, char **opts, int nopts,
		    sluice_volume **out)
{
	struct cli_conf c;
	int rc = cli_conf_build(cmd, meta_url, opts, nopts, &c);
	char msg[1024];
	if (!rc && sluice_init(c.kv, c.n, out, msg, sizeof(msg)))
		rc = cli_fail(cmd, "%s", msg);
	cli_conf_free(&c);
	return rc;
}

const sluice_user *cli_admin_user(sluice_volume *vol, struct cli_admin *a)
{
	struct sl_volume_core *v = &vol->core;
	if (sl_meta_caps(v->meta) & SL_META_CAP_SERVER_CHECKS) /* a gateway: as the principal */
		return NULL;
	a->groups[0] = v->supergroup;
	a->user = (sluice_user){.name = v->superuser, .groups = a->groups, .ngroups = 1};
	return &a->user;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("sluice %s\n", sluice_version());
		return 0;
	}
	if (!strcmp(cmd, "format"))
		return cmd_format(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "warmup"))
		return cmd_warmup(argc - 1, argv + 1);
	if (!strcmp(cmd, "gateway"))
		return cmd_gateway(argc - 1, argv + 1);
	if (!strcmp(cmd, "token"))
		return cmd_token(argc - 1, argv + 1);
	if (!strcmp(cmd, "quota"))
		return cmd_quota(argc - 1, argv + 1);
	if (!strcmp(cmd, "fsck"))
		return cmd_fsck(argc - 1, argv + 1);
	if (!strcmp(cmd, "gc"))
		return cmd_gc(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "dump"))
		return cmd_dump(argc - 1, argv + 1);
	if (!strcmp(cmd, "load"))
		return cmd_load(argc - 1, argv + 1);
	if (!strcmp(cmd, "cache-server"))
		return cmd_cache_server(argc - 1, argv + 1);
	if (!strcmp(cmd, "ls") || !strcmp(cmd, "mkdir") || !strcmp(cmd, "put") ||
	    !strcmp(cmd, "get") || !strcmp(cmd, "cat") || !strcmp(cmd, "mv") || !strcmp(cmd, "rm") ||
	    !strcmp(cmd, "getfacl") || !strcmp(cmd, "setfacl") || !strcmp(cmd, "snapshot"))
		return cmd_files(cmd, argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
