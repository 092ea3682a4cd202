/* fuzz_requests.c - the fixture's and the seeds' gateway requests (fuzz_requests.h). */
#include "fuzz_requests.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "gateway/internal.h"
#include "meta/meta.h"
#include "rpc/proto.h"

static void begin(struct sl_wbuf *w, uint16_t op, const char *acting)
{
	*w = (struct sl_wbuf){0};
	sl_w_u16(w, op);
	sl_w_str(w, acting);
}

static void done(fz_emit emit, void *arg, const char *name, struct sl_wbuf *w)
{
	emit(arg, name, w);
	sl_wbuf_free(w);
}

static void mknod_req(struct sl_wbuf *w, const char *acting, sl_ino parent, const char *name,
		      uint8_t type, uint16_t mode, int flags, const char *target)
{
	begin(w, SL_OP_MKNOD, acting);
	sl_w_u64(w, parent);
	sl_w_str(w, name);
	sl_w_u8(w, type);
	sl_w_u16(w, mode);
	sl_w_u32(w, (uint32_t)flags);
	sl_w_str(w, target);
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

static void write_req(struct sl_wbuf *w, sl_ino ino, struct sl_slice s)
{
	struct sl_slice_grant g = fixture_grant();
	begin(w, SL_OP_WRITE_CHUNK, NULL);
	sl_w_u64(w, ino);
	sl_w_u32(w, 0);
	sl_w_slice(w, &s);
	sl_w_i64(w, 1700000000000000000LL);
	sl_w_grant(w, &g);
}

static void chmod_req(struct sl_wbuf *w, const char *acting, sl_ino ino, uint16_t mode)
{
	struct sl_attr a = {.mode = mode};
	begin(w, SL_OP_SETATTR, acting);
	sl_w_u64(w, ino);
	sl_w_u32(w, SL_SET_MODE);
	sl_w_attr(w, &a);
}

/* The files' data and an xattr. */
static void fixture_data(fz_emit emit, void *arg)
{
	struct sl_wbuf w;
	write_req(&w, FZ_INO_FILE, slice(0, FZ_SLICE_ID, FZ_BLOCK_LEN));
	done(emit, arg, "write-f", &w);
	write_req(&w, FZ_INO_SRC, slice(0, FZ_SLICE_ID + 1, FZ_BLOCK_LEN));
	done(emit, arg, "write-src", &w);
	begin(&w, SL_OP_SETXATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_str(&w, "user.k");
	sl_w_bytes(&w, "v", 1);
	sl_w_u32(&w, 0);
	done(emit, arg, "setxattr-f", &w);
}

void fz_fixture_requests(fz_emit emit, void *arg, bool data)
{
	struct sl_wbuf w;
	chmod_req(&w, FZ_SUPERUSER, FZ_INO_ROOT, 0777);
	done(emit, arg, "chmod-root", &w);
	mknod_req(&w, NULL, FZ_INO_ROOT, "d", SL_TYPE_DIR, 0777, 0, NULL);
	done(emit, arg, "mkdir-d", &w);
	chmod_req(&w, FZ_SUPERUSER, FZ_INO_DIR, 0777);
	done(emit, arg, "chmod-d", &w);
	mknod_req(&w, NULL, FZ_INO_DIR, "f", SL_TYPE_FILE, 0666, 0, NULL);
	done(emit, arg, "create-f", &w);
	mknod_req(&w, NULL, FZ_INO_DIR, "l", SL_TYPE_SYMLINK, 0777, 0, "f");
	done(emit, arg, "symlink-l", &w);
	mknod_req(&w, NULL, FZ_INO_DIR, "src", SL_TYPE_FILE, 0666, 0, NULL);
	done(emit, arg, "create-src", &w);
	mknod_req(&w, NULL, FZ_INO_DIR, "sub", SL_TYPE_DIR, 0755, 0, NULL);
	done(emit, arg, "mkdir-sub", &w);
	mknod_req(&w, NULL, FZ_INO_DIR, "mv", SL_TYPE_FILE, 0644, 0, NULL);
	done(emit, arg, "create-mv", &w);
	if (data)
		fixture_data(emit, arg);
}

void fz_seed_requests(fz_emit emit, void *arg)
{
	struct sl_wbuf w;
	char name[64];
#define SEED(op, label) snprintf(name, sizeof(name), "op%02u-%s", (unsigned)(op), label)

	/* Seeds of the fixture's data ops, so the corpus can rebuild what an input deleted. */
	fixture_data(emit, arg);

	SEED(SL_OP_LOAD_FORMAT, "load-format");
	begin(&w, SL_OP_LOAD_FORMAT, NULL);
	done(emit, arg, name, &w);

	SEED(SL_OP_GET_SETTING, "get-setting");
	begin(&w, SL_OP_GET_SETTING, NULL);
	sl_w_str(&w, "sluice.uid.1073741824");
	done(emit, arg, name, &w);

	SEED(SL_OP_ADD_SETTING, "add-setting");
	begin(&w, SL_OP_ADD_SETTING, NULL);
	sl_w_str(&w, "sluice.uid.1073741999");
	sl_w_str(&w, "zed");
	done(emit, arg, name, &w);

	SEED(SL_OP_NEW_SESSION, "new-session");
	begin(&w, SL_OP_NEW_SESSION, NULL);
	sl_w_str(&w, "{\"Version\":\"fuzz\",\"HostName\":\"localhost\",\"ProcessID\":1}");
	sl_w_i64(&w, 4000000000LL);
	done(emit, arg, name, &w);

	SEED(SL_OP_REFRESH_SESSION, "refresh-session");
	begin(&w, SL_OP_REFRESH_SESSION, NULL);
	sl_w_u64(&w, 2);
	sl_w_i64(&w, 4000000000LL);
	done(emit, arg, name, &w);

	SEED(SL_OP_CLOSE_SESSION, "close-session");
	begin(&w, SL_OP_CLOSE_SESSION, NULL);
	sl_w_u64(&w, 1000);
	done(emit, arg, name, &w);

	SEED(SL_OP_LIST_SESSIONS, "list-sessions");
	begin(&w, SL_OP_LIST_SESSIONS, NULL);
	done(emit, arg, name, &w);

	SEED(SL_OP_NEXT_IDS, "next-ids");
	begin(&w, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&w, "nextChunk");
	sl_w_i64(&w, 10);
	done(emit, arg, name, &w);
	SEED(SL_OP_NEXT_IDS, "read-usage");
	begin(&w, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&w, "usedSpace");
	sl_w_i64(&w, 0);
	done(emit, arg, name, &w);

	SEED(SL_OP_RESOLVE, "resolve");
	begin(&w, SL_OP_RESOLVE, NULL);
	sl_w_str(&w, "/d/l");
	done(emit, arg, name, &w);

	SEED(SL_OP_LOOKUP, "lookup");
	begin(&w, SL_OP_LOOKUP, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, "f");
	done(emit, arg, name, &w);

	SEED(SL_OP_GETATTR, "getattr");
	begin(&w, SL_OP_GETATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	done(emit, arg, name, &w);

	SEED(SL_OP_SETATTR, "setattr");
	{
		struct sl_attr a = {.mode = 0640, .atime_ns = 1, .mtime_ns = 2};
		begin(&w, SL_OP_SETATTR, NULL);
		sl_w_u64(&w, FZ_INO_FILE);
		sl_w_u32(&w, SL_SET_MODE | SL_SET_ATIME | SL_SET_MTIME);
		sl_w_attr(&w, &a);
		done(emit, arg, name, &w);
	}

	SEED(SL_OP_MKNOD, "mknod");
	mknod_req(&w, NULL, FZ_INO_DIR, "new", SL_TYPE_FILE, 0644, SL_MKNOD_REPLACE, NULL);
	done(emit, arg, name, &w);

	SEED(SL_OP_UNLINK, "unlink");
	begin(&w, SL_OP_UNLINK, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, "new");
	done(emit, arg, name, &w);

	SEED(SL_OP_RMDIR, "rmdir");
	begin(&w, SL_OP_RMDIR, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, "sub");
	done(emit, arg, name, &w);

	SEED(SL_OP_REMOVE_TREE, "remove-tree");
	begin(&w, SL_OP_REMOVE_TREE, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, "sub");
	done(emit, arg, name, &w);

	SEED(SL_OP_RENAME, "rename");
	begin(&w, SL_OP_RENAME, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, "mv");
	sl_w_u64(&w, FZ_INO_ROOT);
	sl_w_str(&w, "mv2");
	sl_w_u32(&w, 0);
	done(emit, arg, name, &w);

	SEED(SL_OP_READDIR, "readdir");
	begin(&w, SL_OP_READDIR, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	sl_w_str(&w, NULL);
	sl_w_u32(&w, 100);
	done(emit, arg, name, &w);

	SEED(SL_OP_INODE_PATH, "inode-path");
	begin(&w, SL_OP_INODE_PATH, NULL);
	sl_w_u64(&w, FZ_INO_DIR);
	done(emit, arg, name, &w);

	SEED(SL_OP_READLINK, "readlink");
	begin(&w, SL_OP_READLINK, NULL);
	sl_w_u64(&w, FZ_INO_LINK);
	done(emit, arg, name, &w);

	SEED(SL_OP_READ_CHUNK, "read-chunk");
	begin(&w, SL_OP_READ_CHUNK, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u32(&w, 0);
	done(emit, arg, name, &w);

	SEED(SL_OP_WRITE_CHUNK, "write-chunk");
	write_req(&w, FZ_INO_FILE, slice(4096, FZ_SLICE_ID + 2, FZ_BLOCK_LEN));
	done(emit, arg, name, &w);

	SEED(SL_OP_TRUNCATE, "truncate");
	begin(&w, SL_OP_TRUNCATE, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u64(&w, 6000);
	done(emit, arg, name, &w);

	SEED(SL_OP_CONCAT, "concat");
	begin(&w, SL_OP_CONCAT, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u32(&w, 1);
	sl_w_u64(&w, FZ_INO_SRC);
	done(emit, arg, name, &w);

	SEED(SL_OP_COMPACT_CHUNK, "compact-chunk");
	{
		/* the records of /d/f after the write-chunk seed */
		struct sl_slice expect[2] = {slice(0, FZ_SLICE_ID, FZ_BLOCK_LEN),
					     slice(4096, FZ_SLICE_ID + 2, FZ_BLOCK_LEN)};
		struct sl_slice repl = slice(0, FZ_SLICE_ID + 3, FZ_BLOCK_LEN);
		struct sl_slice_grant g = fixture_grant();
		begin(&w, SL_OP_COMPACT_CHUNK, NULL);
		sl_w_u64(&w, FZ_INO_FILE);
		sl_w_u32(&w, 0);
		sl_w_u32(&w, 2);
		sl_w_slice(&w, &expect[0]);
		sl_w_slice(&w, &expect[1]);
		sl_w_u32(&w, 0);
		sl_w_slice(&w, &repl);
		sl_w_grant(&w, &g);
		done(emit, arg, name, &w);
	}

	SEED(SL_OP_GETXATTR, "getxattr");
	begin(&w, SL_OP_GETXATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_str(&w, "user.k");
	done(emit, arg, name, &w);

	SEED(SL_OP_SETXATTR, "setxattr");
	begin(&w, SL_OP_SETXATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_str(&w, "user.k2");
	sl_w_bytes(&w, "value", 5);
	sl_w_u32(&w, 0);
	done(emit, arg, name, &w);

	SEED(SL_OP_LISTXATTR, "listxattr");
	begin(&w, SL_OP_LISTXATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	done(emit, arg, name, &w);

	SEED(SL_OP_REMOVEXATTR, "removexattr");
	begin(&w, SL_OP_REMOVEXATTR, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_str(&w, "user.k2");
	done(emit, arg, name, &w);

	SEED(SL_OP_SUMMARY, "summary");
	begin(&w, SL_OP_SUMMARY, NULL);
	sl_w_u64(&w, FZ_INO_ROOT);
	done(emit, arg, name, &w);

	SEED(SL_OP_UNSUPPORTED_FEATURES, "unsupported-features");
	begin(&w, SL_OP_UNSUPPORTED_FEATURES, NULL);
	done(emit, arg, name, &w);

	/* Presigned URLs (fuzz_dispatch signs for an S3 bucket it never contacts): a block of the
	 * fixture's slice for a read, a PUT whose grant is not the gateway's, a delete. */
	static const char *const methods[] = {"GET", "HEAD", "PUT", "DELETE"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		SEED(SL_OP_PRESIGN, methods[i]);
		begin(&w, SL_OP_PRESIGN, NULL);
		sl_w_str(&w, methods[i]);
		sl_w_str(&w, "fuzzvol/chunks/1/1000/1000000_0_4096");
		sl_w_u64(&w, FZ_INO_FILE);
		sl_w_u32(&w, 0);
		sl_w_u64(&w, FZ_SLICE_ID);
		sl_w_u32(&w, 16);
		sl_w_i64(&w, 1767225600);
		static const uint8_t mac[32] = {1, 2, 3};
		sl_w_bytes(&w, mac, sizeof(mac));
		done(emit, arg, name, &w);
	}

	/* Delegation tokens: the caller authenticated with Kerberos, so it may ask for one; the
	 * identifier below (fuzz_common.h) names a token this volume never issued. */
	SEED(SL_OP_ISSUE_TOKEN, "issue-token");
	begin(&w, SL_OP_ISSUE_TOKEN, NULL);
	sl_w_str(&w, "yarn");
	done(emit, arg, name, &w);
	SEED(SL_OP_ISSUE_TOKEN, "issue-token-as-alice");
	begin(&w, SL_OP_ISSUE_TOKEN, "alice");
	sl_w_str(&w, NULL);
	done(emit, arg, name, &w);
	SEED(SL_OP_RENEW_TOKEN, "renew-token");
	begin(&w, SL_OP_RENEW_TOKEN, NULL);
	sl_w_bytes(&w, FZ_TOKEN_IDENT, sizeof(FZ_TOKEN_IDENT) - 1);
	sl_w_bytes(&w, FZ_TOKEN_PASSWORD, 20);
	done(emit, arg, name, &w);
	SEED(SL_OP_CANCEL_TOKEN, "cancel-token");
	begin(&w, SL_OP_CANCEL_TOKEN, NULL);
	sl_w_bytes(&w, FZ_TOKEN_IDENT, sizeof(FZ_TOKEN_IDENT) - 1);
	sl_w_bytes(&w, FZ_TOKEN_PASSWORD, 20);
	done(emit, arg, name, &w);

	/* Writer leases: of a session the caller opened with the new-session seed (if it ran
	 * first), and a slice commit carrying one. */
	SEED(SL_OP_LEASE_ACQUIRE, "lease-acquire");
	begin(&w, SL_OP_LEASE_ACQUIRE, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u64(&w, 3);
	done(emit, arg, name, &w);
	SEED(SL_OP_LEASE_RELEASE, "lease-release");
	begin(&w, SL_OP_LEASE_RELEASE, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u64(&w, 3);
	sl_w_u64(&w, 1);
	done(emit, arg, name, &w);
	SEED(SL_OP_LEASE_RECOVER, "lease-recover");
	begin(&w, SL_OP_LEASE_RECOVER, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_bool(&w, true);
	done(emit, arg, name, &w);
	SEED(SL_OP_WRITE_CHUNK, "write-chunk-leased");
	write_req(&w, FZ_INO_FILE, slice(0, 7, 10));
	sl_w_u64(&w, 3);
	sl_w_u64(&w, 1);
	done(emit, arg, name, &w);

	SEED(SL_OP_FILE_CRC, "file-crc");
	begin(&w, SL_OP_FILE_CRC, NULL);
	sl_w_u64(&w, FZ_INO_FILE);
	sl_w_u64(&w, UINT64_MAX);
	done(emit, arg, name, &w);

	SEED(SL_OP_WRITE_CHUNKS, "write-chunks");
	{
		struct sl_slice_grant g = fixture_grant();
		begin(&w, SL_OP_WRITE_CHUNKS, NULL);
		sl_w_u32(&w, 2);
		for (int i = 0; i < 2; i++) {
			struct sl_slice s = slice(8192 + 4096 * (uint32_t)i, FZ_SLICE_ID + 3 + (uint64_t)i,
						  FZ_BLOCK_LEN);
			sl_w_str(&w, i ? "alice" : NULL);
			sl_w_u64(&w, FZ_INO_FILE);
			sl_w_u32(&w, 0);
			sl_w_slice(&w, &s);
			sl_w_i64(&w, 1700000000000000000LL);
			sl_w_grant(&w, &g);
			sl_w_bool(&w, false);
		}
		done(emit, arg, name, &w);
	}

	/* Numbers nobody uses (yet): 0 and past the last op. */
	static const uint16_t unknown[] = {0, SL_OP_MAX, SL_OP_MAX + 1, SL_OP_MAX + 2,
					   SL_OP_MAX + 3, 0xffff};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		SEED(unknown[i], "unknown");
		begin(&w, unknown[i], NULL);
		sl_w_u64(&w, FZ_INO_ROOT);
		done(emit, arg, name, &w);
	}

	/* Who the caller acts as: an allowed proxy, the superuser, a refused one, a bad name. */
	static const char *const acting[] = {"alice", FZ_SUPERUSER, "bob", "a/b", ""};
	static const char *const label[] = {"as-alice", "as-superuser", "as-bob", "as-bad-name",
					    "as-empty"};
	for (size_t i = 0; i < sizeof(acting) / sizeof(acting[0]); i++) {
		SEED(SL_OP_READDIR, label[i]);
		begin(&w, SL_OP_READDIR, acting[i]);
		sl_w_u64(&w, FZ_INO_DIR);
		sl_w_str(&w, "f");
		sl_w_u32(&w, 2);
		done(emit, arg, name, &w);
	}
	/* The superuser takes / away from everyone (fuzz_dispatch's fixture gives it back). */
	chmod_req(&w, FZ_SUPERUSER, FZ_INO_ROOT, 0700);
	SEED(SL_OP_SETATTR, "as-superuser-chmod-root");
	done(emit, arg, name, &w);
#undef SEED
}
