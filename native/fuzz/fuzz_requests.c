/* fuzz_requests.c - the fixture's and the seeds' gateway requests (fuzz_requests.h). */
#include "fuzz_requests.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "gateway/internal.h"
#include "meta/meta.h"
#include "rpc/proto.h"

/* A request of op acting as acting (NULL: the caller) with the arguments of the op's layout
 * (rpc/codec.h), given as the designated initialisers of its struct; emitted as name. */
#define REQUEST(name, op, acting, layout, ...)                                              \
	do {                                                                                 \
		struct sl_wbuf w_ = begin(op, acting);                                       \
		sl_w_##layout(&w_, &(struct sl_rpc_##layout){__VA_ARGS__});                  \
		done(emit, arg, name, &w_);                                                  \
	} while (0)

static struct sl_wbuf begin(uint16_t op, const char *acting)
{
	struct sl_wbuf w = {0};
	sl_w_u16(&w, op);
	sl_w_str(&w, acting);
	return w;
}

static void done(fz_emit emit, void *arg, const char *name, struct sl_wbuf *w)
{
	emit(arg, name, w);
	sl_wbuf_free(w);
}

static struct sl_slice slice(uint32_t pos, uint64_t id, uint32_t len)
{
	return (struct sl_slice){.pos = pos, .id = id, .size = len, .off = 0, .len = len};
}

/* The grant of the fixture's slice ids (fuzz_requests.h), issued now. */
static struct sl_slice_grant fixture_grant(void)
{
	struct sl_slice_grant g = {.first = FZ_SLICE_ID, .count = 16, .issued = time(NULL)};
	uint8_t key[SL_GRANT_MAC_BYTES];
	memset(key, FZ_GRANT_KEY_BYTE, sizeof(key));
	sl_gw_grant_mac(key, FZ_CALLER, &g, g.mac);
	return g;
}

#define MTIME 1700000000000000000LL
/* A commit of slice s to chunk 0 of file, with the fixture's grant. */
#define WRITE(label, file, s, ...)                                                            \
	REQUEST(label, SL_OP_WRITE_CHUNK, NULL, write_chunk, .ino = file, .slice = s,         \
		.mtime_ns = MTIME, .grant = fixture_grant(), .has_grant = true, __VA_ARGS__)
#define CHMOD(label, acting, file, mode_bits)                                                 \
	REQUEST(label, SL_OP_SETATTR, acting, setattr, .ino = file, .set = SL_SET_MODE,       \
		.attr = {.mode = mode_bits})
#define MKNOD(label, dir, entry, kind, mode_bits, ...)                                        \
	REQUEST(label, SL_OP_MKNOD, NULL, mknod, .parent = dir, .name = entry, .type = kind,  \
		.mode = mode_bits, __VA_ARGS__)

/* The files' data and an xattr. */
static void fixture_data(fz_emit emit, void *arg)
{
	WRITE("write-f", FZ_INO_FILE, slice(0, FZ_SLICE_ID, FZ_BLOCK_LEN), .has_lease = false);
	WRITE("write-src", FZ_INO_SRC, slice(0, FZ_SLICE_ID + 1, FZ_BLOCK_LEN), .has_lease = false);
	REQUEST("setxattr-f", SL_OP_SETXATTR, NULL, setxattr, .ino = FZ_INO_FILE, .name = "user.k",
		.value = "v", .value_len = 1);
}

void fz_fixture_requests(fz_emit emit, void *arg, bool data)
{
	CHMOD("chmod-root", FZ_SUPERUSER, FZ_INO_ROOT, 0777);
	MKNOD("mkdir-d", FZ_INO_ROOT, "d", SL_TYPE_DIR, 0777, .target = NULL);
	CHMOD("chmod-d", FZ_SUPERUSER, FZ_INO_DIR, 0777);
	MKNOD("create-f", FZ_INO_DIR, "f", SL_TYPE_FILE, 0666, .target = NULL);
	MKNOD("symlink-l", FZ_INO_DIR, "l", SL_TYPE_SYMLINK, 0777, .target = "f");
	MKNOD("create-src", FZ_INO_DIR, "src", SL_TYPE_FILE, 0666, .target = NULL);
	MKNOD("mkdir-sub", FZ_INO_DIR, "sub", SL_TYPE_DIR, 0755, .target = NULL);
	MKNOD("create-mv", FZ_INO_DIR, "mv", SL_TYPE_FILE, 0644, .target = NULL);
	if (data)
		fixture_data(emit, arg);
}

void fz_seed_requests(fz_emit emit, void *arg)
{
	char name[64];
	struct sl_wbuf w;
#define SEED(op, label) (snprintf(name, sizeof(name), "op%02u-%s", (unsigned)(op), label), name)

	/* Seeds of the fixture's data ops, so the corpus can rebuild what an input deleted. */
	fixture_data(emit, arg);

	w = begin(SL_OP_LOAD_FORMAT, NULL);
	done(emit, arg, SEED(SL_OP_LOAD_FORMAT, "load-format"), &w);
	REQUEST(SEED(SL_OP_GET_SETTING, "get-setting"), SL_OP_GET_SETTING, NULL, setting_name,
		.name = "sluice.uid.1073741824");
	REQUEST(SEED(SL_OP_ADD_SETTING, "add-setting"), SL_OP_ADD_SETTING, NULL, setting,
		.name = "sluice.uid.1073741999", .value = "zed");
	REQUEST(SEED(SL_OP_NEW_SESSION, "new-session"), SL_OP_NEW_SESSION, NULL, new_session,
		.info_json = "{\"Version\":\"fuzz\",\"HostName\":\"localhost\",\"ProcessID\":1}",
		.expire_s = 4000000000LL);
	REQUEST(SEED(SL_OP_REFRESH_SESSION, "refresh-session"), SL_OP_REFRESH_SESSION, NULL,
		refresh_session, .sid = 2, .expire_s = 4000000000LL);
	REQUEST(SEED(SL_OP_CLOSE_SESSION, "close-session"), SL_OP_CLOSE_SESSION, NULL, session_id,
		.sid = 1000);
	w = begin(SL_OP_LIST_SESSIONS, NULL);
	done(emit, arg, SEED(SL_OP_LIST_SESSIONS, "list-sessions"), &w);
	REQUEST(SEED(SL_OP_NEXT_IDS, "next-ids"), SL_OP_NEXT_IDS, NULL, counter,
		.name = "nextChunk", .delta = 10);
	REQUEST(SEED(SL_OP_NEXT_IDS, "read-usage"), SL_OP_NEXT_IDS, NULL, counter,
		.name = "usedSpace", .delta = 0);
	REQUEST(SEED(SL_OP_RESOLVE, "resolve"), SL_OP_RESOLVE, NULL, path, .path = "/d/l");
	REQUEST(SEED(SL_OP_LOOKUP, "lookup"), SL_OP_LOOKUP, NULL, entry, .parent = FZ_INO_DIR,
		.name = "f");
	REQUEST(SEED(SL_OP_GETATTR, "getattr"), SL_OP_GETATTR, NULL, inode, .ino = FZ_INO_FILE);
	REQUEST(SEED(SL_OP_SETATTR, "setattr"), SL_OP_SETATTR, NULL, setattr, .ino = FZ_INO_FILE,
		.set = SL_SET_MODE | SL_SET_ATIME | SL_SET_MTIME,
		.attr = {.mode = 0640, .atime_ns = 1, .mtime_ns = 2});
	MKNOD(SEED(SL_OP_MKNOD, "mknod"), FZ_INO_DIR, "new", SL_TYPE_FILE, 0644,
	      .flags = SL_MKNOD_REPLACE);
	REQUEST(SEED(SL_OP_UNLINK, "unlink"), SL_OP_UNLINK, NULL, entry, .parent = FZ_INO_DIR,
		.name = "new");
	REQUEST(SEED(SL_OP_RMDIR, "rmdir"), SL_OP_RMDIR, NULL, entry, .parent = FZ_INO_DIR,
		.name = "sub");
	REQUEST(SEED(SL_OP_REMOVE_TREE, "remove-tree"), SL_OP_REMOVE_TREE, NULL, entry,
		.parent = FZ_INO_DIR, .name = "sub");
	REQUEST(SEED(SL_OP_RENAME, "rename"), SL_OP_RENAME, NULL, rename, .psrc = FZ_INO_DIR,
		.nsrc = "mv", .pdst = FZ_INO_ROOT, .ndst = "mv2");
	REQUEST(SEED(SL_OP_READDIR, "readdir"), SL_OP_READDIR, NULL, readdir, .ino = FZ_INO_DIR,
		.limit = 100);
	REQUEST(SEED(SL_OP_INODE_PATH, "inode-path"), SL_OP_INODE_PATH, NULL, inode,
		.ino = FZ_INO_DIR);
	REQUEST(SEED(SL_OP_READLINK, "readlink"), SL_OP_READLINK, NULL, inode, .ino = FZ_INO_LINK);
	REQUEST(SEED(SL_OP_READ_CHUNK, "read-chunk"), SL_OP_READ_CHUNK, NULL, chunk,
		.ino = FZ_INO_FILE);
	WRITE(SEED(SL_OP_WRITE_CHUNK, "write-chunk"), FZ_INO_FILE,
	      slice(4096, FZ_SLICE_ID + 2, FZ_BLOCK_LEN), .has_lease = false);
	REQUEST(SEED(SL_OP_TRUNCATE, "truncate"), SL_OP_TRUNCATE, NULL, inode_length,
		.ino = FZ_INO_FILE, .length = 6000);
	REQUEST(SEED(SL_OP_CONCAT, "concat"), SL_OP_CONCAT, NULL, concat, .target = FZ_INO_FILE,
		.srcs_n = 1, .srcs = (const uint64_t[]){FZ_INO_SRC});
	/* the records of /d/f after the write-chunk seed */
	REQUEST(SEED(SL_OP_COMPACT_CHUNK, "compact-chunk"), SL_OP_COMPACT_CHUNK, NULL,
		compact_chunk, .ino = FZ_INO_FILE, .expect_n = 2,
		.expect = (const struct sl_slice[]){slice(0, FZ_SLICE_ID, FZ_BLOCK_LEN),
						    slice(4096, FZ_SLICE_ID + 2, FZ_BLOCK_LEN)},
		.repl = slice(0, FZ_SLICE_ID + 3, FZ_BLOCK_LEN), .grant = fixture_grant(),
		.has_grant = true);
	REQUEST(SEED(SL_OP_GETXATTR, "getxattr"), SL_OP_GETXATTR, NULL, xattr, .ino = FZ_INO_FILE,
		.name = "user.k");
	REQUEST(SEED(SL_OP_SETXATTR, "setxattr"), SL_OP_SETXATTR, NULL, setxattr,
		.ino = FZ_INO_FILE, .name = "user.k2", .value = "value", .value_len = 5);
	REQUEST(SEED(SL_OP_LISTXATTR, "listxattr"), SL_OP_LISTXATTR, NULL, inode,
		.ino = FZ_INO_FILE);
	REQUEST(SEED(SL_OP_REMOVEXATTR, "removexattr"), SL_OP_REMOVEXATTR, NULL, xattr,
		.ino = FZ_INO_FILE, .name = "user.k2");
	REQUEST(SEED(SL_OP_SUMMARY, "summary"), SL_OP_SUMMARY, NULL, inode, .ino = FZ_INO_ROOT);
	w = begin(SL_OP_UNSUPPORTED_FEATURES, NULL);
	done(emit, arg, SEED(SL_OP_UNSUPPORTED_FEATURES, "unsupported-features"), &w);

	/* Presigned URLs (fuzz_dispatch signs for an S3 bucket it never contacts): a block of the
	 * fixture's slice for a read, a PUT whose grant is not the gateway's, a delete. */
	static const char *const methods[] = {"GET", "HEAD", "PUT", "DELETE"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		REQUEST(SEED(SL_OP_PRESIGN, methods[i]), SL_OP_PRESIGN, NULL, presign,
			.method = methods[i], .key = "fuzzvol/chunks/1/1000/1000000_0_4096",
			.ino = FZ_INO_FILE, .has_grant = true,
			.grant = {.first = FZ_SLICE_ID, .count = 16, .issued = 1767225600,
				  .mac = {1, 2, 3}});

	/* Delegation tokens: the caller authenticated with Kerberos, so it may ask for one; the
	 * identifier below (fuzz_common.h) names a token this volume never issued. */
	REQUEST(SEED(SL_OP_ISSUE_TOKEN, "issue-token"), SL_OP_ISSUE_TOKEN, NULL, renewer,
		.renewer = "yarn");
	REQUEST(SEED(SL_OP_ISSUE_TOKEN, "issue-token-as-alice"), SL_OP_ISSUE_TOKEN, "alice",
		renewer, .renewer = NULL);
	REQUEST(SEED(SL_OP_RENEW_TOKEN, "renew-token"), SL_OP_RENEW_TOKEN, NULL, token,
		.ident = FZ_TOKEN_IDENT, .ident_len = sizeof(FZ_TOKEN_IDENT) - 1,
		.password = FZ_TOKEN_PASSWORD, .password_len = 20);
	REQUEST(SEED(SL_OP_CANCEL_TOKEN, "cancel-token"), SL_OP_CANCEL_TOKEN, NULL, token,
		.ident = FZ_TOKEN_IDENT, .ident_len = sizeof(FZ_TOKEN_IDENT) - 1,
		.password = FZ_TOKEN_PASSWORD, .password_len = 20);

	/* Writer leases: of a session the caller opened with the new-session seed (if it ran
	 * first), and a slice commit carrying one. */
	REQUEST(SEED(SL_OP_LEASE_ACQUIRE, "lease-acquire"), SL_OP_LEASE_ACQUIRE, NULL,
		lease_acquire, .ino = FZ_INO_FILE, .sid = 3);
	REQUEST(SEED(SL_OP_MKNOD_LEASED, "create-leased"), SL_OP_MKNOD_LEASED, NULL, mknod_leased,
		.parent = FZ_INO_DIR, .name = "leased", .mode = 0644, .sid = 3);
	REQUEST(SEED(SL_OP_LEASE_RELEASE, "lease-release"), SL_OP_LEASE_RELEASE, NULL,
		lease_release, .ino = FZ_INO_FILE, .lease = {.sid = 3, .gen = 1});
	REQUEST(SEED(SL_OP_LEASE_RECOVER, "lease-recover"), SL_OP_LEASE_RECOVER, NULL,
		lease_recover, .ino = FZ_INO_FILE, .recover = true);
	WRITE(SEED(SL_OP_WRITE_CHUNK, "write-chunk-leased"), FZ_INO_FILE, slice(0, 7, 10),
	      .has_lease = true, .lease = {.sid = 3, .gen = 1});
	REQUEST(SEED(SL_OP_FILE_CRC, "file-crc"), SL_OP_FILE_CRC, NULL, inode_length,
		.ino = FZ_INO_FILE, .length = UINT64_MAX);

	w = begin(SL_OP_WRITE_CHUNKS, NULL);
	sl_w_count(&w, &(struct sl_rpc_count){.n = 2});
	for (uint32_t i = 0; i < 2; i++)
		sl_w_chunk_write(&w, &(struct sl_rpc_chunk_write){
			.acting = i ? "alice" : NULL, .ino = FZ_INO_FILE,
			.slice = slice(8192 + 4096 * i, FZ_SLICE_ID + 3 + i, FZ_BLOCK_LEN),
			.mtime_ns = MTIME, .grant = fixture_grant(), .has_grant = true});
	done(emit, arg, SEED(SL_OP_WRITE_CHUNKS, "write-chunks"), &w);

	/* Numbers nobody uses (yet): 0 and past the last op. */
	static const uint16_t unknown[] = {0, SL_OP_MAX, SL_OP_MAX + 1, SL_OP_MAX + 2,
					   SL_OP_MAX + 3, 0xffff};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		REQUEST(SEED(unknown[i], "unknown"), unknown[i], NULL, inode, .ino = FZ_INO_ROOT);

	/* Who the caller acts as: an allowed proxy, the superuser, a refused one, a bad name. */
	static const char *const acting[] = {"alice", FZ_SUPERUSER, "bob", "a/b", ""};
	static const char *const label[] = {"as-alice", "as-superuser", "as-bob", "as-bad-name",
					    "as-empty"};
	for (size_t i = 0; i < sizeof(acting) / sizeof(acting[0]); i++)
		REQUEST(SEED(SL_OP_READDIR, label[i]), SL_OP_READDIR, acting[i], readdir,
			.ino = FZ_INO_DIR, .after = "f", .limit = 2);
	/* The superuser takes / away from everyone (fuzz_dispatch's fixture gives it back). */
	CHMOD(SEED(SL_OP_SETATTR, "as-superuser-chmod-root"), FZ_SUPERUSER, FZ_INO_ROOT, 0700);
#undef SEED
}
