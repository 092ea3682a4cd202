/*
 * files.c - the file commands of `sluice` (ls, mkdir, put, get, cat, mv, rm, getfacl, setfacl,
 * snapshot):
 * thin wrappers over the public API, for operators and for scripts that check a volume without
 * Hadoop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define IO_BUF (4 << 20)

static int do_ls(sluice_volume *vol, const char *path)
{
	sluice_dir *d;
	if (sluice_opendir(vol, NULL, path, &d))
		return cli_fail("ls", "%s", sluice_last_error(vol));
	sluice_dirent ents[256];
	int n, rc = 0;
	while ((n = sluice_readdir(d, ents, 256)) > 0)
		for (int i = 0; i < n; i++) {
			const sluice_stat *st = &ents[i].st;
			char tbuf[32];
			time_t t = (time_t)(st->mtime_ms / 1000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M", &tm);
			printf("%c%04o %-10s %-10s %12" PRIu64 " %s %s\n",
			       st->type == SLUICE_DIR ? 'd' : st->type == SLUICE_SYMLINK ? 'l' : '-',
			       st->mode, st->owner, st->group, st->length, tbuf, ents[i].name);
		}
	if (n < 0)
		rc = cli_fail("ls", "%s", sluice_last_error(vol));
	sluice_closedir(d);
	return rc;
}

static int do_put(sluice_volume *vol, const char *local, const char *path)
{
	int fd = open(local, O_RDONLY);
	if (fd < 0)
		return cli_fail("put", "cannot open %s: %s", local, strerror(errno));
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE | SLUICE_O_MKDIRS, 0644,
			022, &f)) {
		close(fd);
		return cli_fail("put", "%s", sluice_last_error(vol));
	}
	char *buf = malloc(IO_BUF);
	int rc = buf ? 0 : cli_fail("put", "out of memory");
	ssize_t n;
	while (!rc && (n = read(fd, buf, IO_BUF)) != 0) {
		if (n < 0)
			rc = cli_fail("put", "reading %s: %s", local, strerror(errno));
		else if (sluice_write(f, buf, (size_t)n) < 0)
			rc = cli_fail("put", "%s", sluice_last_error(vol));
	}
	if (sluice_close(f) && !rc)
		rc = cli_fail("put", "%s", sluice_last_error(vol));
	free(buf);
	close(fd);
	return rc;
}

static int do_get(sluice_volume *vol, const char *path, int outfd, const char *cmd)
{
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f))
		return cli_fail(cmd, "%s", sluice_last_error(vol));
	char *buf = malloc(IO_BUF);
	int rc = buf ? 0 : cli_fail(cmd, "out of memory");
	ssize_t n;
	while (!rc && (n = sluice_read(f, buf, IO_BUF)) != 0) {
		if (n < 0) {
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(outfd, buf + done, (size_t)(n - done));
			if (w < 0) {
				rc = cli_fail(cmd, "writing: %s", strerror(errno));
				break;
			}
			done += w;
		}
	}
	sluice_close(f);
	free(buf);
	return rc;
}

/* getfacl as `hadoop fs -getfacl` prints it */
static int do_getfacl(sluice_volume *vol, const char *path)
{
	sluice_stat st;
	sluice_acl_entry e[136];
	uint32_t mode;
	int n;
	if (sluice_stat_path(vol, NULL, path, &st) ||
	    (n = sluice_acl_get(vol, NULL, path, &mode, e, 136)) < 0)
		return cli_fail("getfacl", "%s", sluice_last_error(vol));
	printf("# file: %s\n# owner: %s\n# group: %s\n", path, st.owner, st.group);
	/* the access entries HDFS keeps in the permission bits, around the listed ones */
	sluice_acl_entry user = {.type = SLUICE_ACL_USER, .perm = (mode >> 6) & 7};
	sluice_acl_entry other = {.type = SLUICE_ACL_OTHER, .perm = mode & 7};
	sluice_acl_entry group = {.type = SLUICE_ACL_GROUP, .perm = (mode >> 3) & 7};
	sluice_acl_entry mask = {.type = SLUICE_ACL_MASK, .perm = (mode >> 3) & 7};
	char text[320];
	sluice_acl_format(&user, text, sizeof(text));
	printf("%s\n", text);
	bool extended = false;
	for (int i = 0; i < n && i < 136; i++)
		extended |= e[i].scope == SLUICE_ACL_ACCESS;
	if (!extended) {
		sluice_acl_format(&group, text, sizeof(text));
		printf("%s\n", text);
	}
	for (int i = 0; i < n && i < 136 && e[i].scope == SLUICE_ACL_ACCESS; i++) {
		sluice_acl_format(&e[i], text, sizeof(text));
		printf("%s\n", text);
	}
	if (extended) {
		sluice_acl_format(&mask, text, sizeof(text));
		printf("%s\n", text);
	}
	sluice_acl_format(&other, text, sizeof(text));
	printf("%s\n", text);
	for (int i = 0; i < n && i < 136; i++) {
		if (e[i].scope != SLUICE_ACL_DEFAULT)
			continue;
		sluice_acl_format(&e[i], text, sizeof(text));
		printf("%s\n", text);
	}
	return 0;
}

/* setfacl as `hadoop fs -setfacl`: -m SPEC, -x SPEC, --set SPEC, -b, -k; SPEC comma-separated */
static int do_setfacl(sluice_volume *vol, const char *how, const char *spec, const char *path)
{
	int op = !strcmp(how, "-m") ? SLUICE_ACL_MODIFY : !strcmp(how, "-x")
		? SLUICE_ACL_REMOVE_ENTRIES : !strcmp(how, "--set") ? SLUICE_ACL_SET
		: !strcmp(how, "-b") ? SLUICE_ACL_REMOVE : SLUICE_ACL_REMOVE_DEFAULT;
	sluice_acl_entry e[32];
	size_t n = 0;
	char *copy = spec ? strdup(spec) : NULL;
	if (spec && !copy)
		return cli_fail("setfacl", "out of memory");
	char *save = NULL;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
		if (n == 32 || sluice_acl_parse(t, &e[n])) {
			int rc = cli_fail("setfacl", n == 32 ? "more than 32 ACL entries"
					  : "invalid ACL entry '%s'", t);
			free(copy);
			return rc;
		}
		n++;
	}
	free(copy);
	if (sluice_acl_change(vol, NULL, path, op, e, n))
		return cli_fail("setfacl", "%s", sluice_last_error(vol));
	return 0;
}

/* snapshot create|delete|rename|list DIR [NAME [NEW-NAME]], as hdfs dfs -createSnapshot,
 * -deleteSnapshot, -renameSnapshot and -ls DIR/.snapshot */
static int do_snapshot(sluice_volume *vol, char **args, int nargs)
{
	const char *sub = args[0], *dir = args[2];
	char path[4096];
	int rc;
	if (!strcmp(sub, "create") && (nargs == 3 || nargs == 4)) {
		rc = sluice_snapshot_create(vol, NULL, dir, nargs == 4 ? args[3] : NULL, path,
					    sizeof(path));
		if (!rc)
			printf("Created snapshot %s\n", path);
	} else if (!strcmp(sub, "delete") && nargs == 4) {
		rc = sluice_snapshot_delete(vol, NULL, dir, args[3]);
	} else if (!strcmp(sub, "rename") && nargs == 5) {
		rc = sluice_snapshot_rename(vol, NULL, dir, args[3], args[4]);
	} else if (!strcmp(sub, "list") && nargs == 3) {
		snprintf(path, sizeof(path), "%s/.snapshot", strcmp(dir, "/") ? dir : "");
		return do_ls(vol, path);
	} else {
		return cli_fail("snapshot", "usage: snapshot create|delete|rename|list META-URL DIR "
				"[NAME [NEW-NAME]] (see sluice help)");
	}
	return rc ? cli_fail("snapshot", "%s", sluice_last_error(vol)) : 0;
}

int cmd_files(const char *cmd, int argc, char **argv)
{
	char **opts = calloc((size_t)argc + 1, sizeof(char *));
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int nopts = 0, nargs = 0, recursive = 0, rc = 0;
	const char *acl_how = NULL, *acl_spec = NULL;
	if (!opts || !args) {
		rc = cli_fail(cmd, "out of memory");
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			opts[nopts++] = argv[++i];
		else if (!strcmp(argv[i], "-r") && !strcmp(cmd, "rm"))
			recursive = 1;
		else if (!strcmp(cmd, "setfacl") && !acl_how &&
			 (!strcmp(argv[i], "-m") || !strcmp(argv[i], "-x") ||
			  !strcmp(argv[i], "--set")) && i + 1 < argc)
			acl_how = argv[i], acl_spec = argv[++i];
		else if (!strcmp(cmd, "setfacl") && !acl_how &&
			 (!strcmp(argv[i], "-b") || !strcmp(argv[i], "-k")))
			acl_how = argv[i];
		else
			args[nargs++] = argv[i];
	}
	bool snapshot = !strcmp(cmd, "snapshot");
	int need = !strcmp(cmd, "put") || !strcmp(cmd, "get") || !strcmp(cmd, "mv") ? 3 : 2;
	if (snapshot ? nargs < 3 || nargs > 5
		     : nargs != need || (!strcmp(cmd, "setfacl") && !acl_how)) {
		rc = cli_fail(cmd, "wrong number of arguments (see sluice help)");
		goto out;
	}
	sluice_volume *vol;
	/* snapshot's subcommand goes before META-URL, as quota's */
	if ((rc = cli_open_volume(cmd, args[snapshot ? 1 : 0], opts, nopts, &vol)))
		goto out;
	if (snapshot)
		rc = do_snapshot(vol, args, nargs);
	else if (!strcmp(cmd, "ls")) {
		rc = do_ls(vol, args[1]);
	} else if (!strcmp(cmd, "mkdir")) {
		if (sluice_mkdirs(vol, NULL, args[1], 0777, 022))
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
	} else if (!strcmp(cmd, "put")) {
		rc = do_put(vol, args[1], args[2]);
	} else if (!strcmp(cmd, "get")) {
		int fd = open(args[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			rc = cli_fail(cmd, "cannot create %s: %s", args[2], strerror(errno));
		} else {
			rc = do_get(vol, args[1], fd, cmd);
			if (close(fd) && !rc)
				rc = cli_fail(cmd, "closing %s: %s", args[2], strerror(errno));
		}
	} else if (!strcmp(cmd, "cat")) {
		rc = do_get(vol, args[1], STDOUT_FILENO, cmd);
	} else if (!strcmp(cmd, "mv")) {
		if (sluice_rename(vol, NULL, args[1], args[2],
				  SLUICE_RENAME_NOREPLACE | SLUICE_RENAME_INTO_DIR))
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
	} else if (!strcmp(cmd, "getfacl")) {
		rc = do_getfacl(vol, args[1]);
	} else if (!strcmp(cmd, "setfacl")) {
		rc = do_setfacl(vol, acl_how, acl_spec, args[1]);
	} else if (!strcmp(cmd, "rm")) {
		if (sluice_delete(vol, NULL, args[1], recursive))
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
	}
	if (sluice_shutdown(vol) && !rc)
		rc = cli_fail(cmd, "%s", "closing the volume failed");
out:
	free(opts);
	free(args);
	return rc;
}
