/*
 * quota.c - `sluice quota set|get|delete|list|check`: directory quotas, with the options and
 * meaning of `juicefs quota` (a limit covers the tree under the directory, the directory itself
 * not counted; capacity in GiB unless a unit is given), on the same rows (jfs_dir_quota). The
 * clients of the volume enforce a quota within a few seconds of its setting.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static struct option quota_opts[] = {
	{"path", required_argument, 0, 'p'},  {"capacity", required_argument, 0, 'C'},
	{"inodes", required_argument, 0, 'i'}, {"create", no_argument, 0, 'c'},
	{"repair", no_argument, 0, 'r'},       {"strict", no_argument, 0, 's'},
	{0, 0, 0, 0},
};

#define QUOTA_USAGE "usage: sluice quota set|get|delete|list|check META-URL [--path DIR] " \
	"[--capacity GiB] [--inodes N] [--create] [--repair]"

/* A size: a number of GiB, or a number with the unit K, M, G, T or P (powers of 1024). */
static int parse_capacity(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || errno)
		return -1;
	const char *units = "KMGTP";
	int shift = 30;
	if (*end) {
		const char *u = strchr(units, *end);
		if (!u || (end[1] && strcmp(end + 1, "i") && strcmp(end + 1, "iB") &&
			   strcmp(end + 1, "B")))
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > (unsigned long long)(INT64_MAX >> shift))
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

static void print_header(void)
{
	printf("%-30s %15s %15s %5s %12s %12s %5s\n", "PATH", "SIZE", "USED", "USE%", "INODES",
	       "IUSED", "IUSE%");
}

static void print_quota(const char *path, const struct sl_meta_quota *q)
{
	char size[32] = "unlimited", pct[8] = "", inodes[32] = "unlimited", ipct[8] = "";
	int64_t used = q->used_space < 0 ? 0 : q->used_space;
	int64_t iused = q->used_inodes < 0 ? 0 : q->used_inodes;
	if (q->max_space > 0) {
		snprintf(size, sizeof(size), "%" PRId64, q->max_space);
		snprintf(pct, sizeof(pct), "%d%%", (int)(used * 100 / q->max_space));
	}
	if (q->max_inodes > 0) {
		snprintf(inodes, sizeof(inodes), "%" PRId64, q->max_inodes);
		snprintf(ipct, sizeof(ipct), "%d%%", (int)(iused * 100 / q->max_inodes));
	}
	printf("%-30s %15s %15" PRId64 " %5s %12s %12" PRId64 " %5s\n", path, size, used, pct,
	       inodes, iused, ipct);
}

struct quota_found {
	struct sl_meta_quota q;
	bool found;
};

static int keep_quota(void *arg, const struct sl_meta_quota *q)
{
	struct quota_found *f = arg;
	f->q = *q;
	f->found = true;
	return 0;
}

struct list_arg {
	struct sl_meta *m;
};

static int print_listed(void *arg, const struct sl_meta_quota *q)
{
	struct list_arg *a = arg;
	char *path = NULL;
	struct sl_err err = {0};
	char fallback[40];
	if (sl_meta_inode_path(a->m, NULL, q->ino, &path, &err)) {
		snprintf(fallback, sizeof(fallback), "inode:%" PRIu64, q->ino);
		print_quota(fallback, q);
	} else {
		print_quota(path, q);
	}
	free(path);
	return 0;
}

/* The usage of the tree under dir as its quota counts it (dir itself not counted). */
static int tree_usage(const char *cmd, struct sl_meta *m, sl_ino dir, int64_t *space,
		      int64_t *inodes)
{
	struct sl_meta_summary s;
	struct sl_err err = {0};
	if (sl_meta_summary(m, NULL, dir, &s, &err))
		return cli_fail(cmd, "%s", err.msg);
	*space = (int64_t)s.space - 4096;
	*inodes = (int64_t)(s.dirs + s.files) - 1;
	return 0;
}

int cmd_quota(int argc, char **argv)
{
	const char *cmd = "quota";
	if (argc < 3)
		return cli_fail(cmd, QUOTA_USAGE);
	const char *sub = argv[1];
	const char *path = NULL;
	int64_t max_space = -1, max_inodes = -1;
	bool create = false, repair = false;
	optind = 2;
	int o;
	while ((o = getopt_long(argc, argv, "", quota_opts, NULL)) != -1) {
		uint64_t n;
		switch (o) {
		case 'p':
			path = optarg;
			break;
		case 'C':
			if (parse_capacity(optarg, &max_space))
				return cli_fail(cmd, "--capacity '%s' is not a size (GiB, or a number "
						"with K, M, G, T or P)", optarg);
			break;
		case 'i': {
			char *end;
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (*optarg == '-' || end == optarg || *end || errno || n > INT64_MAX)
				return cli_fail(cmd, "--inodes '%s' is not a number", optarg);
			max_inodes = (int64_t)n;
			break;
		}
		case 'c':
			create = true;
			break;
		case 'r':
			repair = true;
			break;
		case 's': /* juicefs's exact count; Sluice's count is always exact */
			break;
		default:
			return cli_fail(cmd, QUOTA_USAGE);
		}
	}
	if (optind != argc - 1)
		return cli_fail(cmd, QUOTA_USAGE);
	const char *url = argv[optind];
	bool list = !strcmp(sub, "list");
	if (!list && strcmp(sub, "set") && strcmp(sub, "get") && strcmp(sub, "delete") &&
	    strcmp(sub, "check"))
		return cli_fail(cmd, "unknown subcommand '%s'; " QUOTA_USAGE, sub);
	if (!list && !path)
		return cli_fail(cmd, "%s needs --path DIR", sub);
	if (strcmp(sub, "set") && (max_space >= 0 || max_inodes >= 0 || create))
		return cli_fail(cmd, "--capacity, --inodes and --create go with set only");

	sluice_volume *vol;
	if (cli_open_volume(cmd, url, NULL, 0, &vol))
		return 1;
	struct sl_meta *m = vol->core.meta;
	int rc = 0;
	struct sl_err err = {0};
	sl_ino ino = 0;
	if (!sl_meta_supports(m, SL_META_OP_QUOTA_SET)) {
		rc = cli_fail(cmd, "%s keeps no quotas it lets clients set: run sluice quota with "
			      "the volume's META-URL", m->url_redacted);
		goto out;
	}
	if (!list) {
		struct sl_attr attr;
		int r = sl_meta_resolve(m, NULL, path, &ino, &attr, &err);
		if (r == -ENOENT && create && !strcmp(sub, "set")) {
			if (sluice_mkdirs(vol, NULL, path, 0755, 022) < 0) {
				rc = cli_fail(cmd, "%s", sluice_last_error(vol));
				goto out;
			}
			sl_err_clear(&err);
			r = sl_meta_resolve(m, NULL, path, &ino, &attr, &err);
		}
		if (r) {
			rc = cli_fail(cmd, "%s: %s", path, err.msg);
			goto out;
		}
		if (attr.type != SL_TYPE_DIR) {
			rc = cli_fail(cmd, "%s is not a directory: only directories have quotas", path);
			goto out;
		}
	}
	if (!strcmp(sub, "set")) {
		if (!vol->core.format.dir_stats) {
			rc = cli_fail(cmd, "the volume keeps no directory statistics (its format's "
				      "DirStats), which quotas need: juicefs config META-URL "
				      "--dir-stats turns them on");
			goto out;
		}
		struct sl_meta_quota q = {.ino = ino, .max_space = max_space,
					  .max_inodes = max_inodes, .used_space = -1,
					  .used_inodes = -1};
		bool created = false;
		if (sl_meta_quota_set(m, &q, &created, &err)) {
			rc = cli_fail(cmd, "%s: %s", path, err.msg);
			goto out;
		}
		if (created) { /* a new quota starts from what the tree holds now */
			struct sl_meta_quota used = {.ino = ino, .max_space = -1, .max_inodes = -1};
			if (tree_usage(cmd, m, ino, &used.used_space, &used.used_inodes) ||
			    sl_meta_quota_set(m, &used, NULL, &err)) {
				rc = err.msg[0] ? cli_fail(cmd, "counting the usage of %s: %s (sluice "
							   "quota check --repair counts it)", path,
							   err.msg) : 1;
				goto out;
			}
		}
	}
	if (!strcmp(sub, "delete")) {
		if (sl_meta_quota_delete(m, ino, &err))
			rc = cli_fail(cmd, "%s: %s", path, err.msg);
		goto out;
	}
	if (list) {
		struct list_arg a = {m};
		print_header();
		if (sl_meta_quota_list(m, 0, print_listed, &a, &err))
			rc = cli_fail(cmd, "%s", err.msg);
		goto out;
	}
	struct quota_found f = {0};
	if (sl_meta_quota_list(m, ino, keep_quota, &f, &err)) {
		rc = cli_fail(cmd, "%s", err.msg);
		goto out;
	}
	if (!f.found) {
		rc = cli_fail(cmd, "%s has no quota", path);
		goto out;
	}
	if (!strcmp(sub, "check")) {
		int64_t space, inodes;
		if (tree_usage(cmd, m, ino, &space, &inodes)) {
			rc = 1;
			goto out;
		}
		if (space != f.q.used_space || inodes != f.q.used_inodes) {
			fprintf(stderr, "sluice quota: %s: the quota counts %" PRId64 " bytes and %"
				PRId64 " inodes, the tree holds %" PRId64 " bytes and %" PRId64
				" inodes\n", path, f.q.used_space, f.q.used_inodes, space, inodes);
			if (!repair) {
				rc = cli_fail(cmd, "the quota of %s is inconsistent: repair it with "
					      "--repair", path);
				goto out;
			}
			struct sl_meta_quota fix = {.ino = ino, .max_space = -1, .max_inodes = -1,
						    .used_space = space, .used_inodes = inodes};
			if (sl_meta_quota_set(m, &fix, NULL, &err)) {
				rc = cli_fail(cmd, "%s: %s", path, err.msg);
				goto out;
			}
			f.q.used_space = space;
			f.q.used_inodes = inodes;
			printf("repaired\n");
		} else {
			printf("consistent\n");
		}
	}
	print_header();
	print_quota(path, &f.q);
out:
	sluice_shutdown(vol);
	return rc;
}
