/*
 * test_meta_cache.c - the metadata cache (meta/cache.c) on a real SQLite volume, with two or more
 * struct sl_meta handles on one database file: another handle's changes are stale within the TTL
 * and fresh after it, a handle's own changes are visible at once, cached paths are not served to
 * users who may not search a directory on the way, the size bound, and concurrent use.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/meta.h"
#include "testutil.h"

static char url[700];
static struct sl_meta *m0; /* the other client: no cache */

static const struct sl_meta_user root_u = {.uid = 0, .gids = {0}, .ngids = 1, .superuser = true};
static const struct sl_meta_user alice = {.uid = 1000, .gids = {1000, 50}, .ngids = 2};
/* alice's uid without her group 50: the identity key must include the groups */
static const struct sl_meta_user alice_nogrp = {.uid = 1000, .gids = {1000}, .ngids = 1};
static const struct sl_meta_user bob = {.uid = 1001, .gids = {1001}, .ngids = 1};
static const struct sl_meta_user bob_super = {.uid = 1001, .gids = {1001}, .ngids = 1,
					      .superuser = true};

/* The cached handles' clock, by which entries age: moved on to t instead of sleeping until then. */
static struct sl_clock cache_clock;

static double now_s(void)
{
	return (double)sl_clock_mono_ns(&cache_clock) / 1e9;
}

static void advance_to(double t)
{
	double d = t - now_s();
	if (d > 0)
		sl_clock_advance(&cache_clock, (int64_t)(d * 1000) + 1);
}

static struct sl_meta *open_cached(uint64_t attr_s, uint64_t entry_s, uint64_t dir_s,
				   uint64_t open_s, size_t max_entries)
{
	struct sl_err err = {0};
	struct sl_meta *h = NULL;
	REQUIRE(sl_meta_open(url, NULL, NULL, &h, &err) == 0);
	h->clock = &cache_clock;
	struct sl_meta_cache_conf conf = {attr_s, entry_s, dir_s, open_s, max_entries};
	int rc = sl_meta_cache_enable(h, &conf, &err);
	if (rc)
		fprintf(stderr, "sl_meta_cache_enable: %s\n", err.msg);
	REQUIRE(rc == 0);
	return h;
}

static sl_ino mk(struct sl_meta *h, const struct sl_meta_user *u, sl_ino parent, const char *name,
		 uint8_t type, uint16_t mode)
{
	struct sl_err err = {0};
	sl_ino ino = 0;
	struct sl_attr attr;
	struct sl_removed rm;
	int rc = sl_meta_mknod(h, u, parent, name, type, mode, 0, NULL, &ino, &attr, &rm, &err);
	if (rc)
		fprintf(stderr, "mknod %s: %d %s\n", name, rc, err.msg);
	CHECK_RC(rc, 0);
	return ino;
}

/* resolve: the inode (0 on error) and *rc the result. */
static sl_ino res(struct sl_meta *h, const struct sl_meta_user *u, const char *path, int *rc,
		  struct sl_attr *attr)
{
	struct sl_err err = {0};
	sl_ino ino = 0;
	struct sl_attr a;
	*rc = sl_meta_resolve(h, u, path, &ino, attr ? attr : &a, &err);
	return *rc ? 0 : ino;
}

static sl_ino look(struct sl_meta *h, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, int *rc)
{
	struct sl_err err = {0};
	sl_ino ino = 0;
	struct sl_attr a;
	*rc = sl_meta_lookup(h, u, parent, name, &ino, &a, &err);
	return *rc ? 0 : ino;
}

static struct sl_attr getattr_ok(struct sl_meta *h, sl_ino ino)
{
	struct sl_err err = {0};
	struct sl_attr a = {0};
	CHECK_RC(sl_meta_getattr(h, NULL, ino, &a, &err), 0);
	return a;
}

static size_t nslices(struct sl_meta *h, sl_ino ino, uint32_t indx)
{
	struct sl_err err = {0};
	struct sl_slice *ss = NULL;
	size_t n = 0;
	CHECK_RC(sl_meta_read_chunk(h, NULL, ino, indx, &ss, &n, &err), 0);
	free(ss);
	return n;
}

static void write_slice(struct sl_meta *h, sl_ino ino, uint32_t pos, uint32_t len)
{
	struct sl_err err = {0};
	uint64_t id = 0;
	CHECK_RC(sl_meta_next_slice_id(h, &id, &err), 0);
	struct sl_slice s = {.pos = pos, .id = id, .size = len, .off = 0, .len = len};
	struct sl_attr attr;
	int rc = sl_meta_write_chunk(h, NULL, NULL, ino, 0, &s, 1700000000000000000LL + pos, &attr, &err);
	if (rc)
		fprintf(stderr, "write_chunk: %s\n", err.msg);
	CHECK_RC(rc, 0);
}

static void chmod_(struct sl_meta *h, const struct sl_meta_user *u, sl_ino ino, uint16_t mode)
{
	struct sl_err err = {0};
	struct sl_attr in = {.mode = mode}, out;
	CHECK_RC(sl_meta_setattr(h, u, ino, SL_SET_MODE, &in, &out, &err), 0);
}

/* ---- enabling ------------------------------------------------------------------------------ */

static void test_enable(void)
{
	struct sl_err err = {0};
	struct sl_meta *h = NULL;
	struct sl_meta_cache_stats st;
	REQUIRE(sl_meta_open(url, NULL, NULL, &h, &err) == 0);
	struct sl_meta_cache_conf off = {0};
	CHECK_RC(sl_meta_cache_enable(h, &off, &err), 0);
	CHECK(!h->cache); /* all TTLs 0: no stage */
	CHECK(!sl_meta_cache_stats(h, &st));
	struct sl_meta_cache_conf big = {.attr_s = 1, .open_s = SL_META_CACHE_MAX_TTL + 1};
	CHECK_RC(sl_meta_cache_enable(h, &big, &err), -EINVAL);
	CHECK(strstr(err.msg, "open-cache") && strstr(err.msg, "86401"));
	CHECK(!h->cache);
	sl_err_clear(&err);
	struct sl_meta_cache_conf huge = {.entry_s = UINT64_MAX};
	CHECK_RC(sl_meta_cache_enable(h, &huge, &err), -EINVAL);
	CHECK(strstr(err.msg, "entry-cache"));
	sl_err_clear(&err);
	struct sl_meta_cache_conf on = {.attr_s = 1};
	CHECK_RC(sl_meta_cache_enable(h, &on, &err), 0);
	CHECK(h->cache && h->be == &sl_meta_sql_backend); /* a stage in front, the backend kept */
	CHECK(!strcmp(sl_meta_backend_name(h), "sql"));
	CHECK(sl_meta_cache_stats(h, &st) && st.entries == 0);
	CHECK_RC(sl_meta_cache_enable(h, &on, &err), -EINVAL);
	CHECK(strstr(err.msg, "already"));
	/* the cached handle works, and the root resolves through the cache */
	int rc;
	CHECK_RC(res(h, &bob, "/", &rc, NULL), SL_ROOT_INO);
	CHECK_RC(getattr_ok(h, SL_ROOT_INO).type, SL_TYPE_DIR);
	CHECK_RC(getattr_ok(h, SL_ROOT_INO).type, SL_TYPE_DIR);
	CHECK(sl_meta_cache_stats(h, &st) && st.hits >= 1 && st.entries >= 1);
	/* the stage sits behind the core's counters and fault point: a hit is a counted call, and
	 * a fault a test injects fails the call even when the answer is cached */
	struct sl_meta_op_stats before, after;
	sl_meta_op_stats(h, SL_META_OP_GETATTR, &before);
	uint64_t hits = st.hits;
	CHECK_RC(getattr_ok(h, SL_ROOT_INO).type, SL_TYPE_DIR);
	sl_meta_op_stats(h, SL_META_OP_GETATTR, &after);
	CHECK(after.calls == before.calls + 1 && after.failures == before.failures);
	CHECK(sl_meta_cache_stats(h, &st) && st.hits == hits + 1);
	sl_meta_inject_fault(h, SL_META_OP_GETATTR, -EIO, 1);
	struct sl_attr a;
	CHECK_RC(sl_meta_getattr(h, &bob, SL_ROOT_INO, &a, &err), -EIO);
	sl_err_clear(&err);
	CHECK(sl_meta_cache_stats(h, &st) && st.hits == hits + 1);
	CHECK_RC(getattr_ok(h, SL_ROOT_INO).type, SL_TYPE_DIR);
	sl_meta_close(h); /* frees the cache (ASan checks) */
}

/* ---- another client's changes: stale within the TTL, fresh after it ------------------------ */

#define TTL 3

static void test_other_client(void)
{
	struct sl_meta *mc = open_cached(TTL, TTL, TTL, TTL, 0);
	struct sl_err err = {0};
	int rc;
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t2", SL_TYPE_DIR, 0755);
	sl_ino f = mk(m0, &root_u, t, "f", SL_TYPE_FILE, 0644);
	sl_ino k = mk(m0, &root_u, t, "k", SL_TYPE_FILE, 0644);
	sl_ino h = mk(m0, &root_u, t, "h", SL_TYPE_FILE, 0644);
	sl_ino sub = mk(m0, &root_u, t, "sub", SL_TYPE_DIR, 0755);

	struct sl_attr a;
	double filled = now_s();
	CHECK_RC(res(mc, &alice, "/t2/f", &rc, NULL), f);
	CHECK_RC(getattr_ok(mc, f).mode, 0644);
	CHECK_RC(look(mc, &alice, t, "f", &rc), f);
	CHECK_RC(res(mc, &alice, "/t2/k", &rc, NULL), k);
	CHECK_RC(res(mc, &alice, "/t2/sub", &rc, NULL), sub);
	CHECK_RC(res(mc, &alice, "/t2/h", &rc, NULL), h);
	CHECK_RC(getattr_ok(mc, h).length, 0);
	CHECK_RC(nslices(mc, h, 0), 0);
	CHECK_RC(res(mc, &alice, "/t2/new", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);

	/* entry-cache without attr-cache: the attributes come fresh, so an inode that has gone
	 * sends the path to the database again */
	struct sl_meta *me = open_cached(0, TTL, TTL, 0, 0);
	sl_ino k2 = mk(m0, &root_u, t, "k2", SL_TYPE_FILE, 0644);
	sl_ino m2 = mk(m0, &root_u, t, "m2", SL_TYPE_FILE, 0644);
	CHECK_RC(res(me, &alice, "/t2/k2", &rc, NULL), k2);
	CHECK_RC(res(me, &alice, "/t2/m2", &rc, NULL), m2);
	CHECK_RC(res(me, &alice, "/t2/k2", &rc, NULL), k2);

	/* the other client changes everything */
	struct sl_removed rm;
	chmod_(m0, &root_u, f, 0600);
	CHECK_RC(sl_meta_rename(m0, &root_u, t, "f", t, "g", 0, &rm, &err), 0);
	CHECK_RC(sl_meta_unlink(m0, &root_u, t, "k", &rm, &err), 0);
	CHECK_RC(sl_meta_rmdir(m0, &root_u, t, "sub", &err), 0);
	write_slice(m0, h, 0, 1000);
	sl_ino nw = mk(m0, &root_u, t, "new", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_unlink(m0, &root_u, t, "k2", &rm, &err), 0);
	sl_ino k3 = mk(m0, &root_u, t, "k2", SL_TYPE_FILE, 0600);
	CHECK_RC(sl_meta_rename(m0, &root_u, t, "m2", t, "m3", 0, &rm, &err), 0);
	CHECK_RC(res(me, &alice, "/t2/k2", &rc, &a), k3); /* the old inode is gone */
	CHECK_RC(a.mode, 0600);
	CHECK_RC(res(me, &alice, "/t2/m2", &rc, &a), m2); /* moved away, still there: stale */
	sl_meta_close(me);

	/* within the TTL: what was cached is stale (the documented trade-off) */
	CHECK(now_s() - filled < TTL - 0.5); /* else the machine is too slow for this test */
	CHECK_RC(getattr_ok(mc, f).mode, 0644);
	CHECK_RC(res(mc, &alice, "/t2/f", &rc, &a), f);
	CHECK_RC(a.mode, 0644);
	CHECK_RC(look(mc, &alice, t, "f", &rc), f);
	CHECK_RC(res(mc, &alice, "/t2/sub", &rc, NULL), sub);
	CHECK_RC(getattr_ok(mc, h).length, 0);
	CHECK_RC(nslices(mc, h, 0), 0);
	CHECK_RC(res(mc, &alice, "/t2/k", &rc, NULL), k); /* deleted meanwhile */
	/* what was not cached (a miss is never cached) is fresh */
	CHECK_RC(res(mc, &alice, "/t2/new", &rc, NULL), nw);
	CHECK_RC(res(mc, &alice, "/t2/g", &rc, NULL), f);
	CHECK_RC(res(mc, &bob, "/t2/f", &rc, NULL), 0); /* another identity: its own entries */
	CHECK_RC(rc, -ENOENT);

	/* after the TTL: fresh */
	advance_to(filled + TTL + 0.2);
	CHECK_RC(getattr_ok(mc, f).mode, 0600);
	CHECK_RC(res(mc, &alice, "/t2/f", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(look(mc, &alice, t, "f", &rc), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(res(mc, &alice, "/t2/sub", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(res(mc, &alice, "/t2/k", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(res(mc, &alice, "/t2/g", &rc, &a), f);
	CHECK_RC(a.mode, 0600);
	CHECK_RC(getattr_ok(mc, h).length, 1000);
	CHECK_RC(nslices(mc, h, 0), 1);
	sl_meta_close(mc);
}

/* open-cache alone: a slice list is reused only while the file's attributes as this handle
 * last saw them are unchanged, so fresh attributes (attr-cache off) bring fresh slices. */
static void test_open_cache_follows_attrs(void)
{
	struct sl_meta *mo = open_cached(0, 0, 0, TTL, 0);
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t3", SL_TYPE_DIR, 0755);
	sl_ino x = mk(m0, &root_u, t, "x", SL_TYPE_FILE, 0644);
	write_slice(m0, x, 0, 100);

	CHECK_RC(getattr_ok(mo, x).length, 100);
	CHECK_RC(nslices(mo, x, 0), 1);
	struct sl_meta_cache_stats st0, st1;
	CHECK(sl_meta_cache_stats(mo, &st0));
	CHECK_RC(nslices(mo, x, 0), 1);
	CHECK(sl_meta_cache_stats(mo, &st1));
	CHECK_RC(st1.hits, st0.hits + 1);

	write_slice(m0, x, 100, 100);
	CHECK_RC(nslices(mo, x, 0), 1); /* stale: this handle has not looked at x since */
	CHECK_RC(getattr_ok(mo, x).length, 200); /* attr-cache off: fresh */
	CHECK_RC(nslices(mo, x, 0), 2);          /* the changed length dropped the old list */
	int rc;
	write_slice(m0, x, 200, 100);
	CHECK_RC(res(mo, &alice, "/t3/x", &rc, NULL), x); /* an open resolves the path */
	CHECK_RC(nslices(mo, x, 0), 3);

	/* sl_meta_cache_forget drops the list (readers call it when a block is missing) */
	write_slice(m0, x, 300, 50);
	CHECK_RC(nslices(mo, x, 0), 3);
	sl_meta_cache_forget(mo, x);
	CHECK_RC(nslices(mo, x, 0), 4);
	sl_meta_cache_forget(m0, x); /* no cache: nothing to do */

	/* and without looking at the attributes, after the TTL */
	double t0 = now_s();
	write_slice(m0, x, 300, 100);
	CHECK_RC(nslices(mo, x, 0), 4);
	advance_to(t0 + TTL + 0.2);
	CHECK_RC(nslices(mo, x, 0), 5);
	sl_meta_close(mo);
}

/* ---- a handle's own changes are visible to it at once ------------------------------------- */

static int no_slice_cb(void *arg, uint64_t id, uint32_t size)
{
	(void)arg;
	(void)id;
	(void)size;
	return 0;
}

static void test_own_changes(void)
{
	/* TTLs far beyond the test: only invalidation can make a change visible */
	struct sl_meta *mc = open_cached(600, 600, 600, 600, 0);
	struct sl_err err = {0};
	struct sl_removed rm;
	struct sl_attr a;
	int rc;
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t4", SL_TYPE_DIR, 0777);
	CHECK_RC(res(mc, &alice, "/t4", &rc, NULL), t);
	CHECK_RC(getattr_ok(mc, t).nlink, 2);

	/* create */
	CHECK_RC(res(mc, &alice, "/t4/a", &rc, NULL), 0);
	sl_ino f = mk(mc, &alice, t, "a", SL_TYPE_FILE, 0644);
	CHECK_RC(res(mc, &alice, "/t4/a", &rc, NULL), f);
	CHECK_RC(look(mc, &alice, t, "a", &rc), f);
	sl_ino d = mk(mc, &alice, t, "d", SL_TYPE_DIR, 0755);
	CHECK_RC(getattr_ok(mc, t).nlink, 3); /* the parent's attributes */

	/* chmod */
	CHECK_RC(getattr_ok(mc, f).mode, 0644);
	chmod_(mc, &alice, f, 0600);
	CHECK_RC(getattr_ok(mc, f).mode, 0600);
	CHECK_RC(res(mc, &alice, "/t4/a", &rc, &a), f);
	CHECK_RC(a.mode, 0600);

	/* rename */
	CHECK_RC(sl_meta_rename(mc, &alice, t, "a", t, "b", 0, &rm, &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/a", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(look(mc, &alice, t, "a", &rc), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(res(mc, &alice, "/t4/b", &rc, NULL), f);
	CHECK_RC(look(mc, &alice, t, "b", &rc), f);
	/* a directory moves with everything under it */
	sl_ino in_d = mk(mc, &alice, d, "in", SL_TYPE_FILE, 0644);
	CHECK_RC(res(mc, &alice, "/t4/d/in", &rc, NULL), in_d);
	CHECK_RC(sl_meta_rename(mc, &alice, t, "d", t, "e", 0, &rm, &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/d/in", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(res(mc, &alice, "/t4/e/in", &rc, NULL), in_d);

	/* write_chunk, then read_chunk and the length */
	CHECK_RC(nslices(mc, f, 0), 0);
	CHECK_RC(getattr_ok(mc, f).length, 0);
	write_slice(mc, f, 0, 500);
	CHECK_RC(nslices(mc, f, 0), 1);
	CHECK_RC(getattr_ok(mc, f).length, 500);
	CHECK_RC(res(mc, &alice, "/t4/b", &rc, &a), f);
	CHECK_RC(a.length, 500);
	write_slice(mc, f, 500, 500);
	CHECK_RC(nslices(mc, f, 0), 2);
	CHECK_RC(getattr_ok(mc, f).length, 1000);

	/* truncate */
	CHECK_RC(sl_meta_truncate(mc, &alice, f, 10, &a, &err), 0);
	CHECK_RC(getattr_ok(mc, f).length, 10);
	CHECK(nslices(mc, f, 0) >= 2);
	CHECK_RC(res(mc, &alice, "/t4/b", &rc, &a), f);
	CHECK_RC(a.length, 10);

	/* compaction */
	struct sl_slice *ss = NULL;
	size_t n = 0;
	CHECK_RC(sl_meta_read_chunk(mc, NULL, f, 0, &ss, &n, &err), 0);
	uint64_t id = 0;
	CHECK_RC(sl_meta_next_slice_id(mc, &id, &err), 0);
	struct sl_slice merged = {.pos = 0, .id = id, .size = 10, .off = 0, .len = 10};
	CHECK_RC(sl_meta_compact_chunk(mc, NULL, NULL, f, 0, ss, n, 0, &merged, no_slice_cb, NULL, &err), 0);
	free(ss);
	ss = NULL;
	CHECK_RC(sl_meta_read_chunk(mc, NULL, f, 0, &ss, &n, &err), 0);
	CHECK(n == 1 && ss && ss[0].id == id);
	free(ss);

	/* concat: the target's data and length, the sources' names */
	sl_ino s1 = mk(mc, &alice, t, "s1", SL_TYPE_FILE, 0644);
	write_slice(mc, s1, 0, 4096);
	CHECK_RC(res(mc, &alice, "/t4/s1", &rc, NULL), s1);
	CHECK_RC(getattr_ok(mc, f).length, 10);
	CHECK_RC(nslices(mc, f, 0), 1);
	rc = sl_meta_concat(mc, &alice, f, &s1, 1, &err);
	if (rc)
		fprintf(stderr, "concat: %s\n", err.msg);
	CHECK_RC(rc, 0);
	CHECK_RC(res(mc, &alice, "/t4/s1", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK(getattr_ok(mc, f).length > 10);
	CHECK(nslices(mc, f, 0) + nslices(mc, f, 1) > 1);

	/* delete */
	CHECK_RC(sl_meta_unlink(mc, &alice, t, "b", &rm, &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/b", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(look(mc, &alice, t, "b", &rc), 0);
	CHECK_RC(rc, -ENOENT);
	CHECK_RC(sl_meta_unlink(mc, &alice, in_d, "x", &rm, &err), -ENOTDIR);
	CHECK_RC(sl_meta_unlink(mc, &alice, d, "in", &rm, &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/e", &rc, NULL), d);
	CHECK_RC(sl_meta_rmdir(mc, &alice, t, "e", &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/e", &rc, NULL), 0);
	CHECK_RC(rc, -ENOENT);

	/* a name another client removed (still cached here) and this handle creates again */
	sl_ino c1 = mk(m0, &root_u, t, "c", SL_TYPE_FILE, 0644);
	CHECK_RC(res(mc, &alice, "/t4/c", &rc, NULL), c1);
	CHECK_RC(look(mc, &alice, t, "c", &rc), c1);
	CHECK_RC(sl_meta_unlink(m0, &root_u, t, "c", &rm, &err), 0);
	CHECK_RC(res(mc, &alice, "/t4/c", &rc, NULL), c1); /* stale, as promised */
	sl_ino c2 = mk(mc, &alice, t, "c", SL_TYPE_FILE, 0644);
	CHECK(c2 != c1);
	CHECK_RC(res(mc, &alice, "/t4/c", &rc, NULL), c2);
	CHECK_RC(look(mc, &alice, t, "c", &rc), c2);
	/* overwrite (create replacing an existing file) */
	sl_ino c3 = 0;
	CHECK_RC(sl_meta_mknod(mc, &alice, t, "c", SL_TYPE_FILE, 0644, SL_MKNOD_REPLACE, NULL, &c3,
			       &a, &rm, &err), 0);
	CHECK(c3 != c2);
	CHECK_RC(res(mc, &alice, "/t4/c", &rc, NULL), c3);

	/* a directory's permissions changed here apply at once to paths cached for others */
	sl_ino p = mk(mc, &root_u, t, "p", SL_TYPE_DIR, 0755);
	sl_ino pf = mk(mc, &root_u, p, "file", SL_TYPE_FILE, 0644);
	CHECK_RC(res(mc, &alice, "/t4/p/file", &rc, NULL), pf);
	CHECK_RC(look(mc, &alice, p, "file", &rc), pf);
	chmod_(mc, &root_u, p, 0700);
	CHECK_RC(res(mc, &alice, "/t4/p/file", &rc, NULL), 0);
	CHECK_RC(rc, -EACCES);
	CHECK_RC(look(mc, &alice, p, "file", &rc), 0);
	CHECK_RC(rc, -EACCES);

	/* xattrs change nothing cached, but go through */
	CHECK_RC(sl_meta_setxattr(mc, &root_u, pf, "user.k", "v", 1, 0, &err), 0);
	CHECK_RC(sl_meta_removexattr(mc, &root_u, pf, "user.k", &err), 0);
	sl_meta_close(mc);
}

/* A file another client deleted with its data, whose path and attributes are still cached
 * here: reading it gives an error, never an empty list (zeros). A real hole reads as one. */
static void test_deleted_elsewhere(void)
{
	struct sl_err err = {0};
	struct sl_removed rm;
	struct sl_attr a;
	int rc;
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t8", SL_TYPE_DIR, 0755);
	sl_ino hole = mk(m0, &root_u, t, "hole", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_truncate(m0, &root_u, hole, 3 * SL_CHUNK_SIZE, &a, &err), 0);
	for (int with_open = 0; with_open < 2; with_open++) {
		struct sl_meta *mc = open_cached(600, 600, 600, with_open ? 600 : 0, 0);
		const char *name = with_open ? "f1" : "f0";
		char path[32];
		snprintf(path, sizeof(path), "/t8/%s", name);
		sl_ino f = mk(m0, &root_u, t, name, SL_TYPE_FILE, 0644);
		write_slice(m0, f, 0, 1000);
		CHECK_RC(res(mc, &alice, path, &rc, &a), f);
		CHECK_RC(a.length, 1000);
		CHECK_RC(res(mc, &alice, "/t8/hole", &rc, &a), hole);
		CHECK_RC(nslices(mc, hole, 1), 0); /* a hole: the inode is there */
		CHECK_RC(nslices(mc, hole, 1), 0);
		CHECK_RC(nslices(mc, f, 0), 1);

		CHECK_RC(sl_meta_unlink(m0, &root_u, t, name, &rm, &err), 0);
		CHECK(rm.ino == f && rm.data_pending);
		CHECK_RC(sl_meta_delete_file_data(m0, f, no_slice_cb, NULL, &err), 0);

		CHECK_RC(res(mc, &alice, path, &rc, &a), f); /* stale, as promised */
		CHECK_RC(a.length, 1000);
		if (with_open) {
			CHECK_RC(nslices(mc, f, 0), 1); /* the cached list, whose blocks are gone */
			sl_meta_cache_forget(mc, f);    /* as a reader that found a block missing */
		}
		struct sl_slice *ss = NULL;
		size_t n = 7;
		CHECK_RC(sl_meta_read_chunk(mc, NULL, f, 0, &ss, &n, &err), -ESTALE);
		CHECK(strstr(err.msg, "deleted"));
		CHECK(ss == NULL);
		sl_err_clear(&err);
		sl_meta_close(mc);
	}
}

/* ---- identities ------------------------------------------------------------------------------ */

static void test_permissions(void)
{
	struct sl_meta *mc = open_cached(600, 600, 600, 600, 0);
	int rc;
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t5", SL_TYPE_DIR, 0777);
	sl_ino priv = mk(m0, &alice, t, "priv", SL_TYPE_DIR, 0700);
	sl_ino pf = mk(m0, &alice, priv, "file", SL_TYPE_FILE, 0644);
	sl_ino grp = mk(m0, &root_u, t, "grp", SL_TYPE_DIR, 0750);
	struct sl_err err = {0};
	struct sl_attr in = {.gid = 50}, out;
	CHECK_RC(sl_meta_setattr(m0, &root_u, grp, SL_SET_GID, &in, &out, &err), 0);
	sl_ino gf = mk(m0, &root_u, grp, "file", SL_TYPE_FILE, 0644);

	for (int round = 0; round < 2; round++) { /* the second round runs on cached entries */
		CHECK_RC(res(mc, &alice, "/t5/priv/file", &rc, NULL), pf);
		CHECK_RC(look(mc, &alice, priv, "file", &rc), pf);
		CHECK_RC(res(mc, &bob, "/t5/priv/file", &rc, NULL), 0);
		CHECK_RC(rc, -EACCES);
		CHECK_RC(look(mc, &bob, priv, "file", &rc), 0);
		CHECK_RC(rc, -EACCES);
		CHECK_RC(res(mc, &bob_super, "/t5/priv/file", &rc, NULL), pf);

		CHECK_RC(res(mc, &alice, "/t5/grp/file", &rc, NULL), gf);
		CHECK_RC(look(mc, &alice, grp, "file", &rc), gf);
		CHECK_RC(res(mc, &alice_nogrp, "/t5/grp/file", &rc, NULL), 0);
		CHECK_RC(rc, -EACCES);
		CHECK_RC(look(mc, &alice_nogrp, grp, "file", &rc), 0);
		CHECK_RC(rc, -EACCES);
		CHECK_RC(res(mc, &bob, "/t5/grp/file", &rc, NULL), 0);
		CHECK_RC(rc, -EACCES);
	}
	struct sl_meta_cache_stats st;
	/* round two: the five allowed lookups are hits; denials are never cached */
	CHECK(sl_meta_cache_stats(mc, &st) && st.hits == 5);
	sl_meta_close(mc);
}

/* ---- size bound ------------------------------------------------------------------------------ */

static void test_bound(void)
{
	struct sl_meta *mc = open_cached(600, 600, 600, 600, 500);
	sl_ino t = mk(m0, &root_u, SL_ROOT_INO, "t6", SL_TYPE_DIR, 0755);
	sl_ino f = mk(m0, &root_u, t, "f", SL_TYPE_FILE, 0644);
	struct sl_meta_cache_stats st, st2;
	for (uint32_t i = 0; i < 2000; i++)
		CHECK_RC(nslices(mc, f, i), 0);
	CHECK(sl_meta_cache_stats(mc, &st));
	CHECK(st.entries <= 500 && st.entries >= 400);
	CHECK(st.bytes > 0);
	CHECK_RC(nslices(mc, f, 1999), 0); /* recent: kept */
	CHECK(sl_meta_cache_stats(mc, &st2));
	CHECK_RC(st2.hits, st.hits + 1);
	CHECK_RC(nslices(mc, f, 0), 0); /* the oldest: evicted */
	CHECK(sl_meta_cache_stats(mc, &st));
	CHECK_RC(st.misses, st2.misses + 1);
	CHECK(st.entries <= 500);
	sl_meta_close(mc);
}

/* ---- concurrency: each writer always sees its own writes while others change the namespace -- */

static struct sl_meta *conc_m;
static sl_ino conc_dir;

static void *writer_main(void *arg)
{
	int i = (int)(intptr_t)arg, bad = 0, rc;
	char name[32], path[64];
	snprintf(name, sizeof(name), "w%d", i);
	snprintf(path, sizeof(path), "/t7/w%d", i);
	sl_ino f = mk(conc_m, &alice, conc_dir, name, SL_TYPE_FILE, 0644);
	for (uint32_t j = 0; j < 60; j++) {
		write_slice(conc_m, f, j * 10, 10);
		struct sl_attr a;
		bad += nslices(conc_m, f, 0) != j + 1;
		bad += getattr_ok(conc_m, f).length != (j + 1) * 10;
		bad += res(conc_m, &alice, path, &rc, &a) != f || a.length != (j + 1) * 10;
	}
	return (void *)(intptr_t)bad;
}

static void *churn_main(void *arg)
{
	(void)arg;
	int bad = 0, rc;
	struct sl_err err = {0};
	for (int j = 0; j < 60; j++) {
		sl_ino d = mk(conc_m, &alice, conc_dir, "tmp", SL_TYPE_DIR, 0755);
		bad += res(conc_m, &alice, "/t7/tmp", &rc, NULL) != d;
		bad += sl_meta_rmdir(conc_m, &alice, conc_dir, "tmp", &err) != 0;
		bad += res(conc_m, &alice, "/t7/tmp", &rc, NULL) != 0 || rc != -ENOENT;
		for (int i = 0; i < 4; i++) {
			char name[16];
			snprintf(name, sizeof(name), "w%d", i);
			look(conc_m, &bob, conc_dir, name, &rc);
		}
	}
	return (void *)(intptr_t)bad;
}

static void test_concurrency(void)
{
	conc_m = open_cached(600, 600, 600, 600, 0);
	conc_dir = mk(m0, &root_u, SL_ROOT_INO, "t7", SL_TYPE_DIR, 0777);
	pthread_t th[5];
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&th[i], NULL, writer_main, (void *)(intptr_t)i) == 0);
	REQUIRE(pthread_create(&th[4], NULL, churn_main, NULL) == 0);
	int bad = 0;
	for (int i = 0; i < 5; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (int)(intptr_t)r;
	}
	CHECK_RC(bad, 0);
	sl_meta_close(conc_m);
}

int main(void)
{
	char *dir = tu_tempdir("mcache");
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	struct sl_err err = {0};
	REQUIRE(sl_meta_open(url, NULL, NULL, &m0, &err) == 0);
	const char *fmt = "{\n\"Name\": \"test\",\n\"UUID\": \"00000000-0000-0000-0000-000000000002\","
			  "\n\"Storage\": \"file\",\n\"BlockSize\": 4096\n}";
	struct sl_attr root = {.type = SL_TYPE_DIR, .mode = 0777, .nlink = 2, .length = 4096,
			       .atime_ns = 1700000000000000000LL, .mtime_ns = 1700000000000000000LL,
			       .ctime_ns = 1700000000000000000LL};
	REQUIRE(sl_meta_format(m0, fmt, &root, false, &err) == 0);

	test_enable();
	test_other_client();
	test_open_cache_follows_attrs();
	test_own_changes();
	test_deleted_elsewhere();
	test_permissions();
	test_bound();
	test_concurrency();

	sl_meta_close(m0);
	free(dir);
	return tu_finish("test_meta_cache");
}
