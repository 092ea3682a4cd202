/*
 * admin.c - `sluice format`, `status` and `info`: creating a JuiceFS-compatible volume, and
 * reporting its settings, usage, sessions and the layout of a path.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static struct option format_opts[] = {
	{"storage", required_argument, 0, 's'},  {"bucket", required_argument, 0, 'b'},
	{"access-key", required_argument, 0, 'a'}, {"secret-key", required_argument, 0, 'k'},
	{"block-size", required_argument, 0, 'B'}, {"compress", required_argument, 0, 'c'},
	{"trash-days", required_argument, 0, 't'}, {"capacity", required_argument, 0, 'C'},
	{"inodes", required_argument, 0, 'i'},     {"hash-prefix", no_argument, 0, 'H'},
	{"force", no_argument, 0, 'f'},            {"encrypt-rsa-key", required_argument, 0, 'e'},
	{"encrypt-algo", required_argument, 0, 'E'}, {"enable-acl", no_argument, 0, 'A'},
	{"ca-file", required_argument, 0, 'T'},
	{0, 0, 0, 0},
};

static int parse_num(const char *cmd, const char *what, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end || errno || v > max)
		return cli_fail(cmd, "%s '%s' is not a number between 0 and %llu", what, s,
				(unsigned long long)max);
	*out = v;
	return 0;
}

int cmd_format(int argc, char **argv)
{
	const char *cmd = "format";
	sluice_format_options o = {.storage = "file", .trash_days = -1,
				   .access_key = getenv("ACCESS_KEY"),
				   .secret_key = getenv("SECRET_KEY")};
	uint64_t n = 0; /* -O3 cannot tell that parse_num sets it whenever it returns 0 */
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", format_opts, NULL)) != -1) {
		switch (c) {
		case 's': o.storage = optarg; break;
		case 'b': o.bucket = optarg; break;
		case 'a': o.access_key = optarg; break;
		case 'k': o.secret_key = optarg; break;
		case 'c': o.compression = optarg; break;
		case 'H': o.hash_prefix = 1; break;
		case 'f': o.force = 1; break;
		case 'e': o.encrypt_rsa_key = optarg; break;
		case 'E': o.encrypt_algo = optarg; break;
		case 'A': o.enable_acl = 1; break;
		case 'T': o.ca_file = optarg; break;
		case 'B':
			if (parse_num(cmd, "--block-size", optarg, 1 << 20, &n))
				return 1;
			o.block_size_kib = (uint32_t)n;
			break;
		case 't':
			if (parse_num(cmd, "--trash-days", optarg, 36500, &n))
				return 1;
			o.trash_days = (int)n;
			break;
		case 'C':
			if (parse_num(cmd, "--capacity", optarg, 1ULL << 33, &n))
				return 1;
			o.capacity_bytes = n << 30;
			break;
		case 'i':
			if (parse_num(cmd, "--inodes", optarg, 1ULL << 62, &o.inodes))
				return 1;
			break;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return cli_fail(cmd, "usage: sluice format META-URL NAME [options] (see sluice help)");
	o.meta_url = argv[optind];
	o.name = argv[optind + 1];
	char msg[1024];
	if (sluice_format(&o, msg, sizeof(msg)))
		return cli_fail(cmd, "%s", msg);
	printf("volume '%s' is ready\n", o.name);
	return 0;
}

static int add_session(void *arg, const struct sl_session_info *s)
{
	json_t *arr = arg;
	json_t *info = json_loads(s->info_json ? s->info_json : "{}", 0, NULL);
	json_t *o = json_pack("{s:I, s:I, s:o}", "Sid", (json_int_t)s->sid, "Expire",
			      (json_int_t)s->expire_s, "Info", info ? info : json_object());
	return json_array_append_new(arr, o);
}

int cmd_status(int argc, char **argv)
{
	const char *cmd = "status";
	if (argc != 2)
		return cli_fail(cmd, "usage: sluice status META-URL");
	struct sl_logger log = {.level = SL_LOG_WARN};
	struct sl_err err = {0};
	struct sl_meta *meta = NULL;
	char *json = NULL;
	json_t *out = NULL;
	int64_t used = 0, inodes = 0;
	int rc = sl_meta_open(argv[1], NULL, &log, &meta, &err);
	if (!rc)
		rc = sl_meta_load_format(meta, &json, &err);
	if (rc == -ENOENT)
		sl_errf(&err, rc, "no volume found at %s", meta->url_redacted);
	if (!rc)
		rc = sl_meta_incr_counter(meta, "usedSpace", 0, &used, &err);
	if (!rc)
		rc = sl_meta_incr_counter(meta, "totalInodes", 0, &inodes, &err);
	if (rc) {
		rc = cli_fail(cmd, "%s", err.msg);
		goto out;
	}
	json_t *setting = json_loads(json, 0, NULL);
	if (setting) { /* never print secrets */
		const char *secret_fields[] = {"SecretKey", "SessionToken", "EncryptKey"};
		for (size_t i = 0; i < 3; i++)
			if (json_object_get(setting, secret_fields[i]))
				json_object_set_new(setting, secret_fields[i], json_string("removed"));
	}
	json_t *sessions = json_array();
	out = json_pack("{s:o, s:{s:I, s:I}, s:o}", "Setting", setting ? setting : json_object(),
			"Usage", "UsedSpace", (json_int_t)used, "Inodes", (json_int_t)inodes,
			"Sessions", sessions);
	if (!out || sl_meta_list_sessions(meta, add_session, sessions, &err)) {
		rc = cli_fail(cmd, "listing sessions: %s", err.msg);
		goto out;
	}
	char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text ? text : "{}");
	free(text);
out:
	json_decref(out);
	free(json);
	sl_meta_close(meta);
	return rc;
}

static const char *type_name(int t)
{
	return t == SLUICE_FILE ? "file" : t == SLUICE_DIR ? "directory"
		: t == SLUICE_SYMLINK ? "symlink" : "other";
}

int cmd_info(int argc, char **argv)
{
	const char *cmd = "info";
	if (argc != 2 && argc != 3)
		return cli_fail(cmd, "usage: sluice info META-URL [PATH]");
	sluice_volume *vol;
	char *opts[] = {"read-only=true"};
	if (cli_open_volume(cmd, argv[1], opts, 1, &vol))
		return 1;
	int rc = 0;
	struct sl_volume_core *v = &vol->core;
	struct cli_admin admin;
	const sluice_user *su = cli_admin_user(vol, &admin);
	if (argc == 2) {
		sluice_volume_info vi;
		sluice_statfs fs;
		sluice_volume_get_info(vol, &vi);
		if (sluice_statfs_get(vol, &fs))
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
		else
			printf("name: %s\nuuid: %s\nstorage: %s\nbucket: %s\nblock size: %u KiB\n"
			       "compression: %s\ntrash days: %d\nused: %" PRIu64 " bytes\n"
			       "inodes: %" PRIu64 "\n",
			       vi.name, vi.uuid, vi.storage, vi.bucket, vi.block_size / 1024,
			       vi.compression, vi.trash_days, fs.used, fs.inodes_used);
		sluice_shutdown(vol);
		return rc;
	}
	const char *path = argv[2];
	sluice_stat st;
	if (sluice_lstat(vol, su, path, &st)) {
		rc = cli_fail(cmd, "%s", sluice_last_error(vol));
		goto out;
	}
	printf("%s:\n  inode: %" PRIu64 "\n  type: %s\n  mode: %04o\n  owner: %s\n  group: %s\n"
	       "  length: %" PRIu64 "\n  mtime: %" PRId64 "\n",
	       path, st.inode, type_name(st.type), st.mode, st.owner, st.group, st.length,
	       st.mtime_ms);
	if (st.type == SLUICE_DIR) {
		sluice_summary s;
		if (sluice_summary_path(vol, su, path, &s)) {
			rc = cli_fail(cmd, "%s", sluice_last_error(vol));
			goto out;
		}
		printf("  files: %" PRIu64 "\n  dirs: %" PRIu64 "\n  total length: %" PRIu64
		       "\n  space: %" PRIu64 "\n", s.files, s.directories, s.length, s.space);
		if (s.quota_space >= 0 || s.quota_inodes >= 0)
			printf("  quota: %" PRId64 " bytes, %" PRId64 " inodes (-1: none)\n",
			       s.quota_space, s.quota_inodes);
	} else if (st.type == SLUICE_FILE) {
		printf("  chunks:\n");
		uint32_t nchunks = (uint32_t)((st.length + SL_CHUNK_SIZE - 1) / SL_CHUNK_SIZE);
		for (uint32_t c = 0; c < nchunks; c++) {
			struct sl_slice *slices = NULL;
			size_t n = 0;
			struct sl_err err = {0};
			if (sl_meta_read_chunk(v->meta, NULL, st.inode, c, &slices, &n, &err)) {
				rc = cli_fail(cmd, "%s", err.msg);
				goto out;
			}
			for (size_t i = 0; i < n; i++) {
				char key[SL_KEY_MAX];
				sl_block_key(&v->layout, slices[i].id, 0, slices[i].size, key);
				printf("    chunk %u: pos %u slice %" PRIu64 " size %u off %u len %u "
				       "first block %s\n", c, slices[i].pos, slices[i].id, slices[i].size,
				       slices[i].off, slices[i].len, slices[i].id ? key : "(hole)");
			}
			free(slices);
		}
	} else if (st.type == SLUICE_SYMLINK) {
		char target[PATH_MAX];
		if (sluice_readlink(vol, su, path, target, sizeof(target)) >= 0)
			printf("  target: %s\n", target);
	}
out:
	sluice_shutdown(vol);
	return rc;
}
