/*
 * fuzz_dispatch.c - libFuzzer target for the gateway's operations: the bytes are one request as
 * sl_rpc_recv hands it over (after unwrap), run by sl_gw_dispatch for the caller "fuzz" from
 * 127.0.0.1 (authenticated with Kerberos) on a real SQLite + file volume formatted once per
 * process, with the delegation token store and a URL signer. Every response must be well formed: a status that is
 * 0 or a negative errno, and a message with every error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_requests.h"
#include "gateway/internal.h"
#include "rpc/conn.h"
#include "rpc/proto.h"

/* libFuzzer's entry points take no context: the gateway lives for the whole process. Only the
 * fields dispatch uses are set (no listener, no GSS). */
static struct sl_gateway gw;
static const struct sl_gw_caller caller = {.name = FZ_CALLER, .addr = "127.0.0.1"};
static unsigned long inputs;
static bool verbose; /* SLUICE_FUZZ_VERBOSE=1: each input's status, to check what seeds reach */

#define FIXTURE_EVERY 1000 /* inputs between repairs of the fixture */

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, msg);
	abort();
}

/* The response's frame: u32 status, str message when status != 0, then results. */
static int32_t check_response(const struct sl_wbuf *resp)
{
	if (resp->oom)
		die("response", "out of memory");
	struct sl_rbuf r = sl_rbuf_of(resp->p, resp->len);
	int32_t status = (int32_t)sl_r_u32(&r);
	if (r.bad || status > 0 || status < -4095)
		die("response", "no status, or one that is not 0 or a negative errno");
	if (status) {
		const char *msg = sl_r_str(&r, SL_ERR_MSG_MAX);
		if (r.bad || !msg || !*msg)
			die("response", "an error without a message");
	}
	return status;
}

struct fixture_run {
	size_t n;
	bool verbose;
};

static void run_fixture(void *arg, const char *name, const struct sl_wbuf *req)
{
	struct fixture_run *f = arg;
	struct sl_wbuf resp = {0};
	sl_gw_dispatch(&gw, &caller, req->p, req->len, &resp);
	int32_t status = check_response(&resp);
	if (f->verbose && status && status != -EEXIST)
		fprintf(stderr, "fuzz_dispatch: fixture step %s failed: %d\n", name, status);
	sl_wbuf_free(&resp);
	f->n++;
}

/* The seeds name the fixture's inodes by number: say so when a volume numbered them otherwise. */
static void verify_fixture(void)
{
	static const struct {
		const char *path;
		sl_ino ino;
	} want[] = {{"/d", FZ_INO_DIR}, {"/d/f", FZ_INO_FILE}, {"/d/l", FZ_INO_LINK},
		    {"/d/src", FZ_INO_SRC}, {"/d/sub", FZ_INO_SUB}, {"/d/mv", FZ_INO_MV}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct sl_wbuf req = {0}, resp = {0};
		sl_w_u16(&req, SL_OP_RESOLVE);
		sl_w_str(&req, NULL);
		sl_w_path(&req, &(struct sl_rpc_path){.path = want[i].path});
		sl_gw_dispatch(&gw, &caller, req.p, req.len, &resp);
		struct sl_rbuf r = sl_rbuf_of(resp.p, resp.len);
		struct sl_rpc_found found = {0};
		if (sl_r_u32(&r) || sl_r_found(&r, &found))
			found.ino = 0;
		sl_ino ino = found.ino;
		if (ino != want[i].ino)
			fprintf(stderr, "fuzz_dispatch: %s is inode %llu, the seeds expect %llu "
				"(fuzz_requests.h): they reach fewer paths\n", want[i].path,
				(unsigned long long)ino, (unsigned long long)want[i].ino);
		sl_wbuf_free(&req);
		sl_wbuf_free(&resp);
	}
}

static void teardown(void)
{
	sl_gw_tokens_free(gw.tokens);
	sl_presigner_free(gw.presigner);
	if (gw.vol)
		sluice_shutdown(gw.vol);
	sl_proxy_rules_free(gw.proxy);
	sl_groups_free(gw.groups);
	gw = (struct sl_gateway){0};
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = fz_tempdir("dispatch");
	char meta[1100], bucket[1100], msg[1024];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = meta, .name = "fuzzvol", .storage = "file",
				    .bucket = bucket, .trash_days = 1};
	if (sluice_format(&fo, msg, sizeof(msg)))
		die("format", msg);
	const sluice_kv conf[] = {
		{"meta", meta},
		{"superuser", FZ_SUPERUSER},
		{"log-level", "error"},
	};
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &gw.vol, msg, sizeof(msg)))
		die("init", msg);
	atexit(teardown);
	struct sl_err err = {0};
	const char *keys[] = {"proxyuser." FZ_CALLER ".hosts", "proxyuser." FZ_CALLER ".users"};
	const char *values[] = {"127.0.0.1", "alice," FZ_SUPERUSER};
	if (sl_groups_new(FZ_GROUPS, &gw.groups, &err) ||
	    sl_proxy_rules_parse(keys, values, 2, &gw.proxy, &err))
		die("identity rules", err.msg);
	/* the token store's tables, so the token ops run (without the sweeper thread) */
	if (sl_gw_tokens_new(gw.vol->core.meta, gw.vol->core.conf, &gw.vol->core.log, &gw.tokens,
			     &err))
		die("delegation tokens", err.msg);
	/* A URL signer for an S3 bucket nobody contacts (signing is offline), so that PRESIGN gets
	 * past "this gateway does not presign" to its key, permission and grant checks. */
	const struct sl_obj_config oc = {.storage = "minio", .bucket = "http://127.0.0.1:9/fuzz",
					 .access_key = "fuzz", .secret_key = "fuzz-secret"};
	if (sl_presigner_new(&oc, &gw.presigner, &err))
		die("presigner", err.msg);
	gw.presign_expiry_s = 900;
	gw.grant_lifetime_s = 86400;
	memset(gw.grant_key, FZ_GRANT_KEY_BYTE, sizeof(gw.grant_key));
	/* the blocks of the fixture's and the seeds' slices, which commits find stored */
	static uint8_t block[FZ_BLOCK_LEN];
	for (uint64_t id = FZ_SLICE_ID; id < FZ_SLICE_ID + 4; id++) {
		char key[SL_KEY_MAX];
		sl_block_key(&gw.vol->core.layout, id, 0, FZ_BLOCK_LEN, key);
		if (sl_obj_put(gw.vol->core.store, key, block, sizeof(block), &err))
			die("block", err.msg);
	}
	gw.max_frame = SL_RPC_DEFAULT_MAX_FRAME;
	gw.listen_fd = gw.wake[0] = gw.wake[1] = -1;
	const char *v = getenv("SLUICE_FUZZ_VERBOSE");
	verbose = v && !strcmp(v, "1");
	struct fixture_run f = {.verbose = true};
	fz_fixture_requests(run_fixture, &f, true);
	verify_fixture();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (++inputs % FIXTURE_EVERY == 0) {
		struct fixture_run f = {0};
		fz_fixture_requests(run_fixture, &f, false);
	}
	struct sl_wbuf resp = {0};
	sl_gw_dispatch(&gw, &caller, data, size, &resp);
	int32_t status = check_response(&resp);
	if (verbose)
		fprintf(stderr, "fuzz_dispatch: op %u: %d %.*s\n",
			size >= 2 ? (unsigned)(data[0] << 8 | data[1]) : 0u, status,
			status ? (int)(resp.len - 8) : 0, (const char *)resp.p + 8);
	sl_wbuf_free(&resp);
	return 0;
}
