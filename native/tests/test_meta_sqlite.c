/*
 * test_meta_sqlite.c - the metadata layer on a fresh SQLite file: every backend slot, the core
 * (ids, permissions, open files, usage), META-URL parsing, concurrency, and that the tables are
 * byte for byte those `juicefs format` creates.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/meta.h"
#include "meta/sql_driver.h"
#include "meta_claim_checks.h"
#include "testutil.h"

#define MiB (1ULL << 20)
#define CHUNK SL_CHUNK_SIZE

static struct sl_meta *m;
static sqlite3 *db; /* a second, direct look at the database */
static const struct sl_meta_user root_u = {.uid = 0, .gids = {0}, .ngids = 1, .superuser = true};
static const struct sl_meta_user alice = {.uid = 1000, .gids = {1000, 50}, .ngids = 2};
static const struct sl_meta_user bob = {.uid = 1001, .gids = {1001}, .ngids = 1};

static int64_t q1(const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "query %s: %s\n", sql, sqlite3_errmsg(db));
		return -999;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t q1f(const char *fmt, uint64_t a)
{
	char sql[512];
	snprintf(sql, sizeof(sql), fmt, a);
	return q1(sql);
}

static int64_t counter(const char *name)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT value FROM jfs_counter WHERE name = '%s'", name);
	return q1(sql);
}

static sl_ino mk(const struct sl_meta_user *u, sl_ino parent, const char *name, uint8_t type,
		 uint16_t mode)
{
	struct sl_err err = {0};
	sl_ino ino = 0;
	struct sl_attr attr;
	struct sl_removed rm;
	int rc = sl_meta_mknod(m, u, parent, name, type, mode, 0,
			       type == SL_TYPE_SYMLINK ? "/target/of/link" : NULL, &ino, &attr, &rm,
			       &err);
	if (rc)
		fprintf(stderr, "mknod %s: %d %s\n", name, rc, err.msg);
	CHECK_RC(rc, 0);
	return ino;
}

static uint64_t new_slice(void)
{
	struct sl_err err = {0};
	uint64_t id = 0;
	CHECK_RC(sl_meta_next_slice_id(m, &id, &err), 0);
	return id;
}

static void write_slice(sl_ino ino, uint32_t indx, uint32_t pos, uint64_t id, uint32_t len)
{
	struct sl_err err = {0};
	struct sl_slice s = {.pos = pos, .id = id, .size = len, .off = 0, .len = len};
	struct sl_attr attr;
	int rc = sl_meta_write_chunk(m, NULL, NULL, ino, indx, &s, 123456789012345LL, &attr, &err);
	if (rc)
		fprintf(stderr, "write_chunk: %s\n", err.msg);
	CHECK_RC(rc, 0);
}

/* Which slice (id; 0 for a hole, UINT64_MAX if nothing) covers byte off of a file, and the byte
 * offset inside that slice's data: the last slice written over a position wins. */
static uint64_t byte_at(sl_ino ino, uint64_t off, uint64_t *data_off)
{
	struct sl_err err = {0};
	struct sl_slice *ss;
	size_t n;
	CHECK_RC(sl_meta_read_chunk(m, NULL, ino, (uint32_t)(off / CHUNK), &ss, &n, &err), 0);
	uint32_t pos = (uint32_t)(off % CHUNK);
	uint64_t id = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (pos >= ss[i].pos && pos < ss[i].pos + ss[i].len) {
			id = ss[i].id;
			if (data_off)
				*data_off = ss[i].off + (pos - ss[i].pos);
		}
	free(ss);
	return id;
}

/* ---- the expected schema: `sqlite3 x.db .schema` after `juicefs format` (juicefs 1.4.2) --- */
static const char *const juicefs_schema[] = {
	"CREATE TABLE `jfs_setting` (`name` TEXT PRIMARY KEY NOT NULL, `value` TEXT NOT NULL)",
	"CREATE TABLE `jfs_counter` (`name` TEXT PRIMARY KEY NOT NULL, `value` INTEGER NOT NULL)",
	"CREATE TABLE `jfs_edge` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `parent` INTEGER "
	"NOT NULL, `name` BLOB NOT NULL, `inode` INTEGER NOT NULL, `type` INTEGER NOT NULL)",
	"CREATE TABLE sqlite_sequence(name,seq)",
	"CREATE UNIQUE INDEX `UQE_jfs_edge_edge` ON `jfs_edge` (`parent`,`name`)",
	"CREATE INDEX `IDX_jfs_edge_inode` ON `jfs_edge` (`inode`)",
	"CREATE TABLE `jfs_node` (`inode` INTEGER PRIMARY KEY NOT NULL, `type` INTEGER NOT NULL, "
	"`flags` INTEGER NOT NULL, `mode` INTEGER NOT NULL, `uid` INTEGER NOT NULL, `gid` INTEGER "
	"NOT NULL, `atime` INTEGER NOT NULL, `mtime` INTEGER NOT NULL, `ctime` INTEGER NOT NULL, "
	"`atimensec` INTEGER DEFAULT 0 NOT NULL, `mtimensec` INTEGER DEFAULT 0 NOT NULL, "
	"`ctimensec` INTEGER DEFAULT 0 NOT NULL, `nlink` INTEGER NOT NULL, `length` INTEGER NOT "
	"NULL, `rdev` INTEGER NULL, `parent` INTEGER NULL, `access_acl_id` INTEGER NULL, "
	"`default_acl_id` INTEGER NULL, `tier_id` INTEGER NULL)",
	"CREATE TABLE `jfs_symlink` (`inode` INTEGER PRIMARY KEY NOT NULL, `target` BLOB NOT NULL)",
	"CREATE TABLE `jfs_xattr` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `inode` INTEGER "
	"NOT NULL, `name` TEXT NOT NULL, `value` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX `UQE_jfs_xattr_name` ON `jfs_xattr` (`inode`,`name`)",
	"CREATE TABLE `jfs_chunk` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `inode` INTEGER "
	"NOT NULL, `indx` INTEGER NOT NULL, `slices` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX `UQE_jfs_chunk_chunk` ON `jfs_chunk` (`inode`,`indx`)",
	"CREATE TABLE `jfs_chunk_ref` (`chunkid` INTEGER PRIMARY KEY NOT NULL, `size` INTEGER NOT "
	"NULL, `refs` INTEGER NOT NULL)",
	"CREATE INDEX `IDX_jfs_chunk_ref_refs` ON `jfs_chunk_ref` (`refs`)",
	"CREATE TABLE `jfs_delslices` (`chunkid` INTEGER PRIMARY KEY NOT NULL, `deleted` INTEGER NOT "
	"NULL, `slices` BLOB NOT NULL)",
	"CREATE TABLE `jfs_session2` (`sid` INTEGER PRIMARY KEY NOT NULL, `expire` INTEGER NOT NULL, "
	"`info` BLOB NULL)",
	"CREATE TABLE `jfs_sustained` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `sid` "
	"INTEGER NOT NULL, `inode` INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX `UQE_jfs_sustained_sustained` ON `jfs_sustained` (`sid`,`inode`)",
	"CREATE TABLE `jfs_delfile` (`inode` INTEGER PRIMARY KEY NOT NULL, `length` INTEGER NOT "
	"NULL, `expire` INTEGER NOT NULL)",
	"CREATE TABLE `jfs_flock` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `inode` INTEGER "
	"NOT NULL, `sid` INTEGER NOT NULL, `owner` INTEGER NOT NULL, `ltype` INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX `UQE_jfs_flock_flock` ON `jfs_flock` (`inode`,`sid`,`owner`)",
	"CREATE TABLE `jfs_plock` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `inode` INTEGER "
	"NOT NULL, `sid` INTEGER NOT NULL, `owner` INTEGER NOT NULL, `records` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX `UQE_jfs_plock_plock` ON `jfs_plock` (`inode`,`sid`,`owner`)",
	"CREATE TABLE `jfs_dir_quota` (`inode` INTEGER PRIMARY KEY NOT NULL, `max_space` INTEGER NOT "
	"NULL, `max_inodes` INTEGER NOT NULL, `used_space` INTEGER NOT NULL, `used_inodes` INTEGER "
	"NOT NULL)",
	"CREATE TABLE `jfs_user_group_quota` (`qtype` INTEGER NOT NULL, `qkey` INTEGER NOT NULL, "
	"`max_space` INTEGER NOT NULL, `max_inodes` INTEGER NOT NULL, `used_space` INTEGER NOT NULL, "
	"`used_inodes` INTEGER NOT NULL, PRIMARY KEY ( `qtype`,`qkey` ))",
	"CREATE TABLE `jfs_dir_stats` (`inode` INTEGER PRIMARY KEY NOT NULL, `data_length` INTEGER "
	"NOT NULL, `used_space` INTEGER NOT NULL, `used_inodes` INTEGER NOT NULL)",
	"CREATE TABLE `jfs_detached_node` (`inode` INTEGER PRIMARY KEY NOT NULL, `added` INTEGER NOT "
	"NULL)",
	"CREATE TABLE `jfs_acl` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `owner` INTEGER "
	"NULL, `group` INTEGER NULL, `mask` INTEGER NULL, `other` INTEGER NULL, `named_users` BLOB "
	"NULL, `named_groups` BLOB NULL)",
	"CREATE TABLE `jfs_delegation_token` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
	"`token` BLOB NULL)",
	"CREATE TABLE `jfs_change_log` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, `entry` "
	"TEXT NOT NULL)",
};

static void test_schema(void)
{
	size_t n = sizeof(juicefs_schema) / sizeof(juicefs_schema[0]);
	bool *seen = calloc(n, sizeof(bool));
	sqlite3_stmt *st;
	REQUIRE(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL", -1,
				   &st, NULL) == SQLITE_OK);
	size_t rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(st, 0);
		bool found = false;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(sql, juicefs_schema[i])) {
				found = seen[i] = true;
				break;
			}
		if (!found)
			fprintf(stderr, "schema: unexpected %s\n", sql);
		CHECK(found);
		rows++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		if (!seen[i])
			fprintf(stderr, "schema: missing %s\n", juicefs_schema[i]);
		CHECK(seen[i]);
	}
	CHECK_RC(rows, n);
	free(seen);
}

/* ---- URL parsing ---------------------------------------------------------------------------- */

static void test_urls(void)
{
	struct sl_sql_url u;
	struct sl_err err = {0};
	unsetenv("META_PASSWORD");
	CHECK_RC(sl_sql_url_parse("sqlite3://rel/x.db", &u, &err), 0);
	CHECK(!strcmp(u.scheme, "sqlite3") && !strcmp(u.database, "rel/x.db") && !u.params);
	sl_sql_url_free(&u);
	CHECK_RC(sl_sql_url_parse("sqlite3:///abs/x.db?_busy_timeout=100", &u, &err), 0);
	CHECK(!strcmp(u.database, "/abs/x.db") && !strcmp(u.params, "_busy_timeout=100"));
	sl_sql_url_free(&u);
	CHECK_RC(sl_sql_url_parse("sqlite3://", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "no database file"));

	CHECK_RC(sl_sql_url_parse("mysql://jfs:p%40ss@(db.example:3307)/vol?charset=utf8", &u,
				  &err), 0);
	CHECK(!strcmp(u.user, "jfs") && !strcmp(u.password, "p@ss") &&
	      !strcmp(u.host, "db.example") && u.port == 3307 && !strcmp(u.database, "vol") &&
	      !strcmp(u.params, "charset=utf8") && !u.socket);
	CHECK(!strstr(u.redacted, "p%40ss") && strstr(u.redacted, "jfs:****@(db.example:3307)/vol"));
	sl_sql_url_free(&u);
	CHECK_RC(sl_sql_url_parse("mysql://root:a@b/c@tcp(10.0.0.1)/db", &u, &err), 0);
	CHECK(!strcmp(u.password, "a@b/c") && !strcmp(u.host, "10.0.0.1") && u.port == 3306);
	sl_sql_url_free(&u);
	CHECK_RC(sl_sql_url_parse("mysql://me@unix(/run/mysqld/s.sock)/db", &u, &err), 0);
	CHECK(!strcmp(u.socket, "/run/mysqld/s.sock") && !u.host && !strcmp(u.database, "db"));
	sl_sql_url_free(&u);
	CHECK_RC(sl_sql_url_parse("mysql://me@/db", &u, &err), 0);
	CHECK(!u.host && u.port == 3306 && !u.password && !strcmp(u.user, "me"));
	sl_sql_url_free(&u);
	setenv("META_PASSWORD", "fromenv", 1);
	CHECK_RC(sl_sql_url_parse("mysql://me@([::1]:3306)/db", &u, &err), 0);
	CHECK(!strcmp(u.password, "fromenv") && !strcmp(u.host, "::1") && u.port == 3306);
	sl_sql_url_free(&u);
	unsetenv("META_PASSWORD");
	CHECK_RC(sl_sql_url_parse("mysql://me:secret@(h:99999)/db", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "port") && !strstr(err.msg, "secret"));
	CHECK_RC(sl_sql_url_parse("mysql://me:secret@(h:1)", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "no database") && !strstr(err.msg, "secret"));
	CHECK_RC(sl_sql_url_parse("mysql://me:secret@h:1/db", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "parentheses") && !strstr(err.msg, "secret"));
	CHECK_RC(sl_sql_url_parse("mysql://me:secret@udp(h)/db", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "unknown network"));
	CHECK_RC(sl_sql_url_parse("mysql://me:se%zzcret@(h)/db", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "escape") && !strstr(err.msg, "se%zz"));
	CHECK_RC(sl_sql_url_parse("redis://h/1", &u, &err), -EINVAL);
	CHECK(strstr(err.msg, "redis"));
	CHECK_RC(sl_sql_url_parse("/just/a/path", &u, &err), -EINVAL);
	struct sl_meta *x = NULL;
	CHECK_RC(sl_meta_open("tikv://h", NULL, NULL, &x, &err), -EINVAL);
	CHECK(!x);
	/* the schemes on offer come from the driver registry, the gateway's besides */
	CHECK(strstr(err.msg, "'tikv://'") && strstr(err.msg, "sqlite3://, mysql://") &&
	      strstr(err.msg, "gateway://"));
	for (size_t i = 0; sl_sql_drivers[i]; i++)
		CHECK(sl_sql_drivers[i]->version == SL_SQL_DRIVER_VERSION &&
		      sl_sql_drivers[i]->parse_url && sl_sql_drivers[i]->url_example &&
		      sl_sql_drivers[i]->lease_tables && sl_sql_drivers[i]->block_crc_tables &&
		      sl_sql_drivers[i]->block_claim_tables && sl_sql_drivers[i]->token_tables);
	CHECK_RC(sl_sql_url_parse("mysql://me@(h)/db", &u, &err), 0);
	CHECK(u.driver == &sl_mysql_driver);
	sl_sql_url_free(&u);
}

/* ---- the core ------------------------------------------------------------------------------- */

static void test_access(void)
{
	struct sl_attr f = {.type = SL_TYPE_FILE, .mode = 0640, .uid = 1000, .gid = 50};
	CHECK_RC(sl_meta_access(&alice, &f, NULL, SL_MAY_READ | SL_MAY_WRITE), 0);
	CHECK_RC(sl_meta_access(&alice, &f, NULL, SL_MAY_EXEC), -EACCES);
	struct sl_meta_user carol = {.uid = 7, .gids = {9, 50}, .ngids = 2};
	CHECK_RC(sl_meta_access(&carol, &f, NULL, SL_MAY_READ), 0);
	CHECK_RC(sl_meta_access(&carol, &f, NULL, SL_MAY_WRITE), -EACCES);
	CHECK_RC(sl_meta_access(&bob, &f, NULL, SL_MAY_READ), -EACCES);
	/* The owner class decides even when "other" would allow more. */
	struct sl_attr g = {.type = SL_TYPE_FILE, .mode = 0077, .uid = 1000, .gid = 1};
	CHECK_RC(sl_meta_access(&alice, &g, NULL, SL_MAY_READ), -EACCES);
	CHECK_RC(sl_meta_access(&bob, &g, NULL, SL_MAY_READ), 0);
	CHECK_RC(sl_meta_access(&root_u, &g, NULL, SL_MAY_READ | SL_MAY_WRITE), 0);
	CHECK_RC(sl_meta_access(&root_u, &f, NULL, SL_MAY_EXEC), -EACCES); /* no x bit anywhere */
	struct sl_attr d = {.type = SL_TYPE_DIR, .mode = 0, .uid = 1};
	CHECK_RC(sl_meta_access(&root_u, &d, NULL, SL_MAY_EXEC), 0);
	CHECK_RC(sl_meta_access(NULL, &d, NULL, SL_MAY_WRITE), 0);
}

static void test_open_files(void)
{
	for (sl_ino i = 100; i < 1100; i++)
		sl_meta_open_inc(m, i);
	sl_meta_open_inc(m, 500);
	CHECK(sl_meta_is_open(m, 100) && sl_meta_is_open(m, 1099) && !sl_meta_is_open(m, 1100));
	bool sustained;
	CHECK(!sl_meta_open_dec(m, 500, &sustained));
	CHECK(sl_meta_is_open(m, 500));
	sl_meta_open_sustain(m, 100);
	for (sl_ino i = 100; i < 1100; i += 2) {
		CHECK(sl_meta_open_dec(m, i, &sustained));
		CHECK(sustained == (i == 100));
	}
	for (sl_ino i = 101; i < 1100; i += 2)
		CHECK(sl_meta_is_open(m, i));
	for (sl_ino i = 100; i < 1100; i += 2)
		CHECK(!sl_meta_is_open(m, i));
	for (sl_ino i = 101; i < 1100; i += 2)
		CHECK(sl_meta_open_dec(m, i, &sustained));
	CHECK_RC(m->open_count, 0);
}

static void test_ids(void)
{
	struct sl_err err = {0};
	sl_ino a, b;
	int64_t before = counter("nextInode");
	CHECK_RC(sl_meta_next_inode(m, &a, &err), 0);
	CHECK_RC(sl_meta_next_inode(m, &b, &err), 0);
	CHECK(b == a + 1 && a >= 2);
	CHECK_RC(counter("nextInode"), before + 1024);
	uint64_t s1 = new_slice(), s2 = new_slice();
	CHECK(s2 == s1 + 1 && s1 >= 1);
	CHECK(counter("nextChunk") >= 1 + 4096);
}

/* ---- namespace ------------------------------------------------------------------------------ */

static sl_ino dir_a, dir_d, file_f;

static void test_namespace(void)
{
	struct sl_err err = {0};
	struct sl_attr attr;
	sl_ino ino;
	/* root and trash as format wrote them */
	CHECK_RC(sl_meta_getattr(m, NULL, SL_ROOT_INO, &attr, &err), 0);
	CHECK(attr.type == SL_TYPE_DIR && attr.mode == 0777 && attr.nlink == 2 &&
	      attr.length == 4096 && attr.parent == 1);
	CHECK_RC(sl_meta_getattr(m, NULL, SL_TRASH_INO, &attr, &err), 0);
	CHECK(attr.type == SL_TYPE_DIR && attr.mode == 0555 && attr.parent == 1);

	dir_a = mk(&alice, SL_ROOT_INO, "a", SL_TYPE_DIR, 0755);
	sl_ino b = mk(&alice, dir_a, "b", SL_TYPE_DIR, 0755);
	sl_ino c = mk(&alice, b, "c", SL_TYPE_DIR, 0755);
	dir_d = mk(&alice, c, "d", SL_TYPE_DIR, 0755);
	file_f = mk(&alice, dir_d, "f", SL_TYPE_FILE, 0644);
	sl_ino lnk = mk(&alice, dir_d, "l", SL_TYPE_SYMLINK, 0777);
	CHECK_RC(sl_meta_getattr(m, NULL, SL_ROOT_INO, &attr, &err), 0);
	CHECK_RC(attr.nlink, 3);
	CHECK_RC(sl_meta_getattr(m, NULL, file_f, &attr, &err), 0);
	CHECK(attr.type == SL_TYPE_FILE && attr.uid == 1000 && attr.gid == 0 /* root's group */ &&
	      attr.mode == 0644 && attr.nlink == 1 && attr.length == 0 && attr.parent == dir_d);
	CHECK_RC(sl_meta_getattr(m, NULL, lnk, &attr, &err), 0);
	CHECK(attr.type == SL_TYPE_SYMLINK && attr.length == strlen("/target/of/link"));
	char *target = NULL;
	CHECK_RC(sl_meta_readlink(m, NULL, lnk, &target, &err), 0);
	CHECK(target && !strcmp(target, "/target/of/link"));
	free(target);
	CHECK_RC(sl_meta_readlink(m, NULL, file_f, &target, &err), -EINVAL);

	/* mknod of an existing name */
	struct sl_removed rm;
	CHECK_RC(sl_meta_mknod(m, &alice, dir_d, "f", SL_TYPE_FILE, 0600, 0, NULL, &ino, &attr, &rm,
			       &err), -EEXIST);
	CHECK(ino == file_f && attr.type == SL_TYPE_FILE);
	CHECK_RC(sl_meta_mknod(m, &alice, dir_a, "b", SL_TYPE_FILE, 0600, SL_MKNOD_REPLACE, NULL,
			       &ino, &attr, &rm, &err), -EEXIST);
	CHECK(attr.type == SL_TYPE_DIR);
	CHECK_RC(sl_meta_mknod(m, &alice, SL_ROOT_INO, ".trash", SL_TYPE_DIR, 0755, 0, NULL, &ino,
			       &attr, &rm, &err), -EPERM);
	CHECK_RC(sl_meta_mknod(m, &alice, dir_a, "x/y", SL_TYPE_DIR, 0755, 0, NULL, &ino, &attr, &rm,
			       &err), -EINVAL);
	CHECK_RC(sl_meta_mknod(m, &alice, file_f, "x", SL_TYPE_DIR, 0755, 0, NULL, &ino, &attr, &rm,
			       &err), -ENOTDIR);

	/* resolve */
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/c/d/f", &ino, &attr, &err), 0);
	CHECK(ino == file_f && attr.type == SL_TYPE_FILE);
	CHECK_RC(sl_meta_resolve(m, &bob, "/", &ino, &attr, &err), 0);
	CHECK(ino == SL_ROOT_INO);
	CHECK_RC(sl_meta_resolve(m, &bob, "//a/./b//c/", &ino, &attr, &err), 0);
	CHECK(ino == c);
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/x/d", &ino, &attr, &err), -ENOENT);
	CHECK(strstr(err.msg, "/a/b/x does not exist"));
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/c/d/f/g", &ino, &attr, &err), -ENOTDIR);
	CHECK(strstr(err.msg, "/a/b/c/d/f is not a directory"));
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/c/d/l/g", &ino, &attr, &err), -ENOTDIR);
	CHECK_RC(sl_meta_resolve(m, &bob, "a/b", &ino, &attr, &err), -EINVAL);
	/* a walk deeper than one query's share of components goes on where the last one ended,
	 * and stops at the same places */
	char deep[1024] = "";
	sl_ino at = SL_ROOT_INO, deep_ino[61], f24 = 0;
	for (int d = 1; d <= 60; d++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", d);
		at = deep_ino[d] = mk(&alice, at, name, SL_TYPE_DIR, 0755);
		snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "/%s", name);
		if (d == 23) /* the 24th component is a file, the last of the first query's */
			f24 = mk(&alice, at, "f24", SL_TYPE_FILE, 0644);
	}
	CHECK_RC(sl_meta_resolve(m, &bob, deep, &ino, &attr, &err), 0);
	CHECK(ino == deep_ino[60] && attr.type == SL_TYPE_DIR);
	char dpath[1100];
	snprintf(dpath, sizeof(dpath), "%s/none", deep);
	CHECK_RC(sl_meta_resolve(m, &bob, dpath, &ino, &attr, &err), -ENOENT);
	CHECK(strstr(err.msg, "/p60/none does not exist"));
	const char *p23 = strstr(deep, "/p24/");
	snprintf(dpath, sizeof(dpath), "%.*s/f24", (int)(p23 - deep), deep);
	CHECK_RC(sl_meta_resolve(m, &bob, dpath, &ino, &attr, &err), 0);
	CHECK(ino == f24);
	snprintf(dpath, sizeof(dpath), "%.*s/f24/p25/x", (int)(p23 - deep), deep);
	CHECK_RC(sl_meta_resolve(m, &bob, dpath, &ino, &attr, &err), -ENOTDIR);
	CHECK(strstr(err.msg, "/p23/f24 is not a directory"));
	snprintf(dpath, sizeof(dpath), "%.*s/p24/gone/p26", (int)(p23 - deep), deep);
	CHECK_RC(sl_meta_resolve(m, &bob, dpath, &ino, &attr, &err), -ENOENT);
	CHECK(strstr(err.msg, "/p24/gone does not exist"));
	struct sl_attr in = {.mode = 0700};
	CHECK_RC(sl_meta_setattr(m, &alice, b, SL_SET_MODE, &in, &attr, &err), 0);
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/c/d/f", &ino, &attr, &err), -EACCES);
	CHECK(strstr(err.msg, "/a/b"));
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b/zz", &ino, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_resolve(m, &bob, "/a/b", &ino, &attr, &err), 0); /* b itself: no search */
	CHECK_RC(sl_meta_resolve(m, &alice, "/a/b/c/d/f", &ino, &attr, &err), 0);
	CHECK_RC(sl_meta_resolve(m, &root_u, "/a/b/c/d/f", &ino, &attr, &err), 0);
	CHECK_RC(sl_meta_lookup(m, &bob, b, "c", &ino, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_lookup(m, &alice, b, "c", &ino, &attr, &err), 0);
	CHECK(ino == c && attr.type == SL_TYPE_DIR);
	CHECK_RC(sl_meta_lookup(m, &alice, b, "nope", &ino, &attr, &err), -ENOENT);
	CHECK_RC(sl_meta_lookup(m, &alice, file_f, "nope", &ino, &attr, &err), -ENOTDIR);
	in.mode = 0755;
	CHECK_RC(sl_meta_setattr(m, &alice, b, SL_SET_MODE, &in, &attr, &err), 0);
	/* a 40-deep path in one query */
	char path[512] = "";
	sl_ino p = dir_d;
	for (int i = 0; i < 40; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%d", i);
		p = mk(&alice, p, name, SL_TYPE_DIR, 0755);
		strcat(path, "/");
		strcat(path, name);
	}
	char full[600];
	snprintf(full, sizeof(full), "/a/b/c/d%s", path);
	CHECK_RC(sl_meta_resolve(m, &bob, full, &ino, &attr, &err), 0);
	CHECK(ino == p);
}

struct collect {
	char names[64][32];
	uint8_t types[64];
	int n;
};

static int collect_cb(void *arg, const struct sl_dirent_info *e)
{
	struct collect *c = arg;
	if (c->n < 64) {
		snprintf(c->names[c->n], sizeof(c->names[0]), "%.*s", (int)e->name_len, e->name);
		c->types[c->n] = e->attr.type;
		c->n++;
	}
	return 0;
}

static void test_readdir(void)
{
	struct sl_err err = {0};
	sl_ino d = mk(&alice, SL_ROOT_INO, "list", SL_TYPE_DIR, 0755);
	/* 25 names whose byte order differs from creation order */
	for (int i = 24; i >= 0; i--) {
		char name[16];
		snprintf(name, sizeof(name), "%c%02d", i % 2 ? 'B' : 'a', i);
		mk(&alice, d, name, i % 5 ? SL_TYPE_FILE : SL_TYPE_DIR, 0644);
	}
	struct collect pages[3] = {0};
	const char *after = NULL;
	for (int pg = 0; pg < 3; pg++) {
		CHECK_RC(sl_meta_readdir(m, &bob, d, after, 10, collect_cb, &pages[pg], &err), 0);
		CHECK_RC(pages[pg].n, pg < 2 ? 10 : 5);
		after = pages[pg].names[pages[pg].n - 1];
	}
	struct collect rest = {0};
	CHECK_RC(sl_meta_readdir(m, &bob, d, after, 10, collect_cb, &rest, &err), 0);
	CHECK_RC(rest.n, 0);
	/* byte order: every 'B..' (0x42) before every 'a..' (0x61), all distinct, sorted */
	const char *prev = "";
	int total = 0, dirs = 0;
	for (int pg = 0; pg < 3; pg++)
		for (int i = 0; i < pages[pg].n; i++) {
			CHECK(strcmp(prev, pages[pg].names[i]) < 0);
			prev = pages[pg].names[i];
			dirs += pages[pg].types[i] == SL_TYPE_DIR;
			total++;
		}
	CHECK_RC(total, 25);
	CHECK_RC(dirs, 5);
	CHECK(pages[0].names[0][0] == 'B' && pages[2].names[4][0] == 'a');
	struct collect all = {0};
	CHECK_RC(sl_meta_readdir(m, &bob, d, NULL, 0, collect_cb, &all, &err), 0);
	CHECK_RC(all.n, 25);
	/* listing needs r-x on the directory */
	struct sl_attr in = {.mode = 0711}, attr;
	CHECK_RC(sl_meta_setattr(m, &alice, d, SL_SET_MODE, &in, &attr, &err), 0);
	CHECK_RC(sl_meta_readdir(m, &bob, d, NULL, 0, collect_cb, &all, &err), -EACCES);
	CHECK_RC(sl_meta_readdir(m, &alice, file_f, NULL, 0, collect_cb, &all, &err), -ENOTDIR);
}

static void test_rename_unlink(void)
{
	struct sl_err err = {0};
	struct sl_attr attr, pa, pb;
	struct sl_removed rm;
	sl_ino ino;
	sl_ino r = mk(&alice, SL_ROOT_INO, "r", SL_TYPE_DIR, 0755);
	sl_ino x = mk(&alice, r, "x", SL_TYPE_DIR, 0755);
	sl_ino y = mk(&alice, r, "y", SL_TYPE_DIR, 0755);
	sl_ino f1 = mk(&alice, x, "f1", SL_TYPE_FILE, 0644);
	sl_ino f2 = mk(&alice, y, "f2", SL_TYPE_FILE, 0644);
	write_slice(f2, 0, 0, new_slice(), 5000);

	/* replace a file: the old one goes to jfs_delfile */
	CHECK_RC(sl_meta_rename(m, &alice, x, "f1", y, "f2", 0, &rm, &err), 0);
	CHECK(rm.ino == f2 && rm.length == 5000 && rm.data_pending);
	CHECK_RC(q1f("SELECT length FROM jfs_delfile WHERE inode = %" PRIu64, f2), 5000);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_node WHERE inode = %" PRIu64, f2), 0);
	CHECK_RC(sl_meta_lookup(m, &alice, y, "f2", &ino, &attr, &err), 0);
	CHECK(ino == f1 && attr.parent == y);
	CHECK_RC(sl_meta_lookup(m, &alice, x, "f1", &ino, &attr, &err), -ENOENT);
	/* NOREPLACE */
	mk(&alice, x, "g", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_rename(m, &alice, y, "f2", x, "g", SL_RENAME_NOREPLACE, &rm, &err), -EEXIST);
	CHECK_RC(sl_meta_rename(m, &alice, y, "f2", x, "h", SL_RENAME_NOREPLACE, &rm, &err), 0);
	CHECK(rm.ino == 0);
	/* INTO_DIR looks the destination up: it needs search permission on its directory */
	sl_ino pub = mk(&alice, r, "pub", SL_TYPE_DIR, 0777);
	mk(&bob, pub, "bf", SL_TYPE_FILE, 0644);
	sl_ino priv = mk(&alice, r, "priv", SL_TYPE_DIR, 0700);
	sl_ino open = mk(&alice, priv, "open", SL_TYPE_DIR, 0777);
	CHECK_RC(sl_meta_rename(m, &bob, pub, "bf", priv, "open",
				SL_RENAME_NOREPLACE | SL_RENAME_INTO_DIR, &rm, &err), -EACCES);
	CHECK_RC(sl_meta_rename(m, &alice, pub, "bf", priv, "open",
				SL_RENAME_NOREPLACE | SL_RENAME_INTO_DIR, &rm, &err), 0);
	CHECK_RC(sl_meta_lookup(m, &alice, open, "bf", &ino, &attr, &err), 0);
	CHECK_RC(sl_meta_lookup(m, &alice, pub, "bf", &ino, &attr, &err), -ENOENT);
	/* a flag this backend does not know: refused by name, as an older gateway refuses INTO_DIR */
	CHECK_RC(sl_meta_rename(m, &alice, y, "f2", x, "i", 4, &rm, &err), -EINVAL);
	CHECK(strstr(err.msg, "unknown rename flags") != NULL);
	/* a directory into its own subtree */
	sl_ino x2 = mk(&alice, x, "x2", SL_TYPE_DIR, 0755);
	sl_ino x3 = mk(&alice, x2, "x3", SL_TYPE_DIR, 0755);
	CHECK_RC(sl_meta_rename(m, &alice, r, "x", x3, "x", 0, &rm, &err), -EINVAL);
	CHECK_RC(sl_meta_rename(m, &alice, r, "x", x, "self", 0, &rm, &err), -EINVAL);
	/* dst directory not empty; type mismatches */
	mk(&alice, y, "full", SL_TYPE_DIR, 0755);
	mk(&alice, y, "empty", SL_TYPE_DIR, 0755);
	sl_ino full = 0;
	CHECK_RC(sl_meta_lookup(m, &alice, y, "full", &full, &attr, &err), 0);
	mk(&alice, full, "inside", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_rename(m, &alice, x, "x2", y, "full", 0, &rm, &err), -ENOTEMPTY);
	CHECK_RC(sl_meta_rename(m, &alice, x, "g", y, "empty", 0, &rm, &err), -EISDIR);
	CHECK_RC(sl_meta_rename(m, &alice, x, "x2", x, "g", 0, &rm, &err), -ENOTDIR);
	/* a directory replaces an empty one in another parent: link counts follow */
	CHECK_RC(sl_meta_getattr(m, NULL, x, &pa, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, y, &pb, &err), 0);
	CHECK_RC(pa.nlink, 3); /* x2 */
	CHECK_RC(pb.nlink, 4); /* full, empty */
	CHECK_RC(sl_meta_rename(m, &alice, x, "x2", y, "empty", 0, &rm, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, x, &pa, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, y, &pb, &err), 0);
	CHECK_RC(pa.nlink, 2);
	CHECK_RC(pb.nlink, 4);
	CHECK_RC(sl_meta_getattr(m, NULL, x2, &attr, &err), 0);
	CHECK_RC(attr.parent, y);
	CHECK(pb.mtime_ns >= attr.ctime_ns - 1000000000LL);
	CHECK_RC(sl_meta_resolve(m, &alice, "/r/y/empty/x3", &ino, &attr, &err), 0);
	CHECK(ino == x3);
	/* rename onto itself is a no-op; a missing source is ENOENT */
	CHECK_RC(sl_meta_rename(m, &alice, y, "empty", y, "empty", 0, &rm, &err), 0);
	CHECK_RC(sl_meta_rename(m, &alice, y, "nothing", y, "other", 0, &rm, &err), -ENOENT);
	/* permission: bob may not move alice's entries (no write on the directories) */
	CHECK_RC(sl_meta_rename(m, &bob, y, "empty", x, "moved", 0, &rm, &err), -EACCES);

	/* unlink and rmdir */
	CHECK_RC(sl_meta_rmdir(m, &alice, y, "full", &err), -ENOTEMPTY);
	CHECK_RC(sl_meta_unlink(m, &alice, y, "full", &rm, &err), -EISDIR);
	CHECK_RC(sl_meta_rmdir(m, &alice, full, "inside", &err), -ENOTDIR);
	CHECK_RC(sl_meta_unlink(m, &bob, full, "inside", &rm, &err), -EACCES);
	CHECK_RC(sl_meta_unlink(m, &alice, full, "inside", &rm, &err), 0);
	CHECK(rm.ino && rm.data_pending && rm.length == 0);
	CHECK_RC(sl_meta_rmdir(m, &alice, y, "full", &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, y, &pb, &err), 0);
	CHECK_RC(pb.nlink, 3);
	CHECK_RC(sl_meta_unlink(m, &alice, y, "full", &rm, &err), -ENOENT);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_dir_stats WHERE inode = %" PRIu64, full), 0);
	/* replace through mknod (create with overwrite) */
	sl_ino h = 0;
	CHECK_RC(sl_meta_lookup(m, &alice, x, "h", &h, &attr, &err), 0);
	CHECK_RC(sl_meta_mknod(m, &alice, x, "h", SL_TYPE_FILE, 0600, SL_MKNOD_REPLACE, NULL, &ino,
			       &attr, &rm, &err), 0);
	CHECK(ino != h && rm.ino == h && rm.data_pending);
	CHECK_RC(sl_meta_lookup(m, &alice, x, "h", &ino, &attr, &err), 0);
	CHECK(attr.mode == 0600);
	/* sticky directories: bob cannot remove alice's file in a 1777 directory */
	sl_ino tmp = mk(&root_u, SL_ROOT_INO, "tmp", SL_TYPE_DIR, 01777);
	mk(&alice, tmp, "mine", SL_TYPE_FILE, 0666);
	CHECK_RC(sl_meta_unlink(m, &bob, tmp, "mine", &rm, &err), -EACCES);
	CHECK_RC(sl_meta_rename(m, &bob, tmp, "mine", tmp, "bobs", 0, &rm, &err), -EACCES);
	mk(&bob, tmp, "bobs", SL_TYPE_FILE, 0666);
	CHECK_RC(sl_meta_unlink(m, &bob, tmp, "bobs", &rm, &err), 0);
	CHECK_RC(sl_meta_unlink(m, &alice, tmp, "mine", &rm, &err), 0);
	(void)f1;
}

static void test_permissions(void)
{
	struct sl_err err = {0};
	struct sl_attr attr, in = {0};
	sl_ino ino;
	struct sl_removed rm;
	sl_ino home = mk(&alice, SL_ROOT_INO, "home", SL_TYPE_DIR, 0755);
	sl_ino f = mk(&alice, home, "file", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_mknod(m, &bob, home, "x", SL_TYPE_FILE, 0644, 0, NULL, &ino, &attr, &rm,
			       &err), -EACCES);
	CHECK(strstr(err.msg, "permission denied"));
	in.mode = 0777;
	CHECK_RC(sl_meta_setattr(m, &bob, f, SL_SET_MODE, &in, &attr, &err), -EACCES);
	in.uid = 1001;
	CHECK_RC(sl_meta_setattr(m, &bob, f, SL_SET_UID, &in, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_setattr(m, &alice, f, SL_SET_UID, &in, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_setattr(m, &root_u, f, SL_SET_UID, &in, &attr, &err), 0);
	CHECK(attr.uid == 1001);
	in.uid = 1000;
	CHECK_RC(sl_meta_setattr(m, &root_u, f, SL_SET_UID, &in, &attr, &err), 0);
	in.gid = 77;
	CHECK_RC(sl_meta_setattr(m, &alice, f, SL_SET_GID, &in, &attr, &err), -EACCES);
	in.gid = 50;
	CHECK_RC(sl_meta_setattr(m, &alice, f, SL_SET_GID, &in, &attr, &err), 0);
	CHECK(attr.gid == 50 && attr.uid == 1000 && attr.mode == 0644);
	in.mtime_ns = 1234567891234LL;
	in.atime_ns = 42000;
	CHECK_RC(sl_meta_setattr(m, &bob, f, SL_SET_MTIME, &in, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_setattr(m, &alice, f, SL_SET_MTIME | SL_SET_ATIME, &in, &attr, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, f, &attr, &err), 0);
	CHECK(attr.mtime_ns == 1234567891234LL && attr.atime_ns == 42000);
	CHECK_RC(q1f("SELECT mtime FROM jfs_node WHERE inode = %" PRIu64, f), 1234567891);
	CHECK_RC(q1f("SELECT mtimensec FROM jfs_node WHERE inode = %" PRIu64, f), 234);
	CHECK_RC(sl_meta_truncate(m, &bob, f, 10, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_truncate(m, NULL, f, 0, &attr, &err), 0);
	CHECK_RC(sl_meta_rmdir(m, &bob, SL_ROOT_INO, "home", &err), -ENOTEMPTY);
}

/* ---- file data ------------------------------------------------------------------------------ */

static void test_data(void)
{
	struct sl_err err = {0};
	struct sl_attr attr;
	sl_ino dir = mk(&alice, SL_ROOT_INO, "data", SL_TYPE_DIR, 0755);
	sl_ino f = mk(&alice, dir, "f", SL_TYPE_FILE, 0644);
	uint64_t s1 = new_slice(), s2 = new_slice();
	write_slice(f, 0, 0, s1, 3 * MiB);
	write_slice(f, 0, MiB, s2, MiB);
	struct sl_slice *ss;
	size_t n;
	CHECK_RC(sl_meta_read_chunk(m, NULL, f, 0, &ss, &n, &err), 0);
	CHECK_RC(n, 2);
	CHECK(ss[0].id == s1 && ss[0].pos == 0 && ss[0].len == 3 * MiB && ss[0].size == 3 * MiB);
	CHECK(ss[1].id == s2 && ss[1].pos == MiB && ss[1].len == MiB);
	free(ss);
	CHECK_RC(sl_meta_read_chunk(m, NULL, f, 5, &ss, &n, &err), 0);
	CHECK(n == 0 && !ss);
	CHECK_RC(sl_meta_getattr(m, NULL, f, &attr, &err), 0);
	CHECK(attr.length == 3 * MiB && attr.mtime_ns == 123456789012345LL);
	CHECK_RC(q1f("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, s1), 1);
	CHECK_RC(q1f("SELECT size FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, s2), MiB);
	/* the blob is the 24-byte big-endian records */
	CHECK_RC(q1f("SELECT length(slices) FROM jfs_chunk WHERE inode = %" PRIu64, f), 48);
	CHECK_RC(q1f("SELECT hex(substr(slices, 25, 4)) = '00100000' FROM jfs_chunk WHERE "
		     "inode = %" PRIu64, f), 1);
	/* appended in the database, the records stay a blob (as juicefs reads them) */
	CHECK_RC(q1f("SELECT typeof(slices) = 'blob' FROM jfs_chunk WHERE inode = %" PRIu64, f), 1);
	struct sl_slice bad = {.pos = CHUNK - 10, .id = 99, .size = 20, .len = 20};
	CHECK_RC(sl_meta_write_chunk(m, NULL, NULL, f, 0, &bad, 0, &attr, &err), -EINVAL);
	struct sl_slice far = {.id = 98, .size = 20, .len = 20}; /* chunk 2^31: past 2^57 bytes */
	CHECK_RC(sl_meta_write_chunk(m, NULL, NULL, f, 1u << 31, &far, 0, &attr, &err), -EFBIG);

	/* with a caller (the gateway's case) the data slots check the file's permissions */
	CHECK_RC(sl_meta_read_chunk(m, &bob, f, 0, &ss, &n, &err), 0); /* 0644: bob may read */
	free(ss);
	struct sl_slice more = {.pos = 3 * MiB, .id = new_slice(), .size = 10, .len = 10};
	CHECK_RC(sl_meta_write_chunk(m, &bob, NULL, f, 0, &more, 0, &attr, &err), -EACCES);
	CHECK(strstr(err.msg, "permission") != NULL);
	sl_err_clear(&err);
	struct sl_slice list[2];
	CHECK_RC(sl_meta_read_chunk(m, NULL, f, 0, &ss, &n, &err), 0);
	memcpy(list, ss, sizeof(list));
	free(ss);
	struct sl_slice merged = {.id = new_slice(), .size = 3 * MiB, .len = 3 * MiB};
	CHECK_RC(sl_meta_compact_chunk(m, &bob, NULL, f, 0, list, 2, 0, &merged, NULL, NULL, &err),
		 -EACCES);
	sl_ino priv = mk(&alice, dir, "private", SL_TYPE_FILE, 0600);
	write_slice(priv, 0, 0, new_slice(), 100);
	CHECK_RC(sl_meta_read_chunk(m, &bob, priv, 0, &ss, &n, &err), -EACCES);
	CHECK_RC(sl_meta_read_chunk(m, &alice, priv, 0, &ss, &n, &err), 0);
	CHECK_RC(n, 1);
	free(ss);
	CHECK_RC(sl_meta_write_chunk(m, &alice, NULL, priv, 0, &more, 0, &attr, &err), 0);
	/* the owner writes and reads a file it made read-only (it could grant itself the bits) */
	sl_ino ro = mk(&alice, dir, "read-only", SL_TYPE_FILE, 0400);
	struct sl_slice first = {.id = new_slice(), .size = 10, .len = 10};
	CHECK_RC(sl_meta_write_chunk(m, &alice, NULL, ro, 0, &first, 0, &attr, &err), 0);
	CHECK_RC(sl_meta_write_chunk(m, &bob, NULL, ro, 0, &first, 0, &attr, &err), -EACCES);
	sl_err_clear(&err);
	CHECK_RC(sl_meta_read_chunk(m, &bob, 987654321, 0, &ss, &n, &err), -ESTALE);

	/* truncate shrink, then extend: the shrunk range reads as a hole */
	CHECK_RC(sl_meta_truncate(m, &alice, f, MiB / 2, &attr, &err), 0);
	CHECK_RC(attr.length, MiB / 2);
	CHECK_RC(sl_meta_truncate(m, &alice, f, 2 * CHUNK + 100, &attr, &err), 0);
	CHECK_RC(attr.length, 2 * CHUNK + 100);
	CHECK(byte_at(f, 100, NULL) == s1);
	CHECK(byte_at(f, MiB / 2, NULL) == 0);
	CHECK(byte_at(f, MiB + 5, NULL) == 0);
	CHECK(byte_at(f, 2 * MiB + 5, NULL) == 0);
	CHECK(byte_at(f, CHUNK + 5, NULL) == UINT64_MAX); /* no chunk row: zeros too */
	CHECK(byte_at(f, 2 * CHUNK + 50, NULL) == 0);
	/* a shrink across chunks holes every existing chunk in between */
	write_slice(f, 1, 0, new_slice(), 4096);
	CHECK_RC(sl_meta_truncate(m, &alice, f, 10, &attr, &err), 0);
	CHECK(byte_at(f, CHUNK + 1, NULL) == 0);
	CHECK(byte_at(f, 20, NULL) == 0 && byte_at(f, 5, NULL) == s1);
	CHECK_RC(sl_meta_truncate(m, &alice, dir, 10, &attr, &err), -EISDIR);
}

static int count_slice(void *arg, uint64_t id, uint32_t size)
{
	int *seen = arg; /* seen[0]: calls; seen[1 + id % 63]: calls per slice */
	(void)size;
	seen[0]++;
	seen[1 + id % 63]++;
	struct sl_err err = {0};
	CHECK_RC(sl_meta_forget_slice(m, id, &err), 0);
	return 0;
}

static void test_concat(void)
{
	struct sl_err err = {0};
	struct sl_attr attr;
	struct sl_removed rm;
	sl_ino dir = mk(&alice, SL_ROOT_INO, "cc", SL_TYPE_DIR, 0755);
	sl_ino t = mk(&alice, dir, "target", SL_TYPE_FILE, 0644);
	sl_ino s1 = mk(&alice, dir, "s1", SL_TYPE_FILE, 0644);
	sl_ino s2 = mk(&alice, dir, "s2", SL_TYPE_FILE, 0644);
	/* target: 64 MiB - 1 MiB, not chunk-aligned */
	uint64_t ta = new_slice();
	write_slice(t, 0, 0, ta, (uint32_t)(CHUNK - MiB));
	/* s1: 3 MiB in one slice, overwritten in its middle, and a truncated tail */
	uint64_t a1 = new_slice(), a2 = new_slice(), a3 = new_slice();
	write_slice(s1, 0, 0, a1, 3 * MiB);
	write_slice(s1, 0, MiB, a2, 4096);
	write_slice(s1, 0, 3 * MiB, a3, MiB);
	CHECK_RC(sl_meta_truncate(m, &alice, s1, 3 * MiB, &attr, &err), 0); /* a3 is hidden */
	/* s2: sparse, with data in its second chunk only */
	uint64_t b1 = new_slice();
	write_slice(s2, 1, 100, b1, 1000);
	CHECK_RC(sl_meta_getattr(m, NULL, s2, &attr, &err), 0);
	CHECK_RC(attr.length, CHUNK + 1100);

	sl_ino srcs[2] = {s1, s2};
	CHECK_RC(sl_meta_concat(m, &bob, t, srcs, 2, &err), -EACCES);
	sl_ino twice[2] = {s1, s1};
	CHECK_RC(sl_meta_concat(m, &alice, t, twice, 2, &err), -EINVAL);
	CHECK_RC(sl_meta_concat(m, &alice, t, srcs, 2, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, t, &attr, &err), 0);
	uint64_t tlen = CHUNK - MiB + 3 * MiB + CHUNK + 1100;
	CHECK_RC(attr.length, tlen);
	/* s1's data: first MiB of a1 at 63 MiB, a2 over 1 MiB of it, a1 continues across the
	 * chunk boundary (split: a second reference) */
	uint64_t off;
	CHECK(byte_at(t, CHUNK - MiB + 10, &off) == a1 && off == 10);
	CHECK(byte_at(t, CHUNK - 10, &off) == a1 && off == MiB - 10);
	CHECK(byte_at(t, CHUNK + 5, &off) == a2 && off == 5);
	CHECK(byte_at(t, CHUNK + 4096 + 5, &off) == a1 && off == MiB + 4096 + 5);
	CHECK(byte_at(t, CHUNK + 2 * MiB - 1, &off) == a1 && off == 3 * MiB - 1);
	CHECK(byte_at(t, CHUNK + 2 * MiB + 1, NULL) == UINT64_MAX); /* s2's sparse first chunk */
	CHECK(byte_at(t, 2 * CHUNK + 2 * MiB + 100, &off) == b1 && off == 0);
	CHECK_RC(q1f("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, a1), 2);
	CHECK_RC(q1f("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, a2), 1);
	CHECK_RC(q1f("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, a3), 1);
	CHECK_RC(q1f("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, b1), 1);
	/* sources are gone; s1 left its hidden a3 behind under jfs_delfile */
	CHECK_RC(sl_meta_lookup(m, &alice, dir, "s1", &srcs[0], &attr, &err), -ENOENT);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_node WHERE inode = %" PRIu64, s2), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_delfile WHERE inode = %" PRIu64, s1), 1);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_delfile WHERE inode = %" PRIu64, s2), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_chunk WHERE inode = %" PRIu64, s2), 0);
	int seen[64] = {0};
	CHECK_RC(sl_meta_delete_file_data(m, s1, count_slice, seen, &err), 0);
	CHECK_RC(seen[0], 1);
	CHECK_RC(seen[1 + a3 % 63], 1);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, a3), 0);

	/* delete the target: every slice reported exactly once, all refs gone */
	CHECK_RC(sl_meta_unlink(m, &alice, dir, "target", &rm, &err), 0);
	CHECK(rm.ino == t && rm.data_pending && rm.length == tlen);
	CHECK_RC(sl_meta_delete_file_data(m, dir, count_slice, seen, &err), -EBUSY);
	memset(seen, 0, sizeof(seen));
	CHECK_RC(sl_meta_delete_file_data(m, t, count_slice, seen, &err), 0);
	CHECK_RC(seen[0], 4);
	CHECK(seen[1 + ta % 63] == 1 && seen[1 + a1 % 63] == 1 && seen[1 + a2 % 63] == 1 &&
	      seen[1 + b1 % 63] == 1);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_chunk WHERE inode = %" PRIu64, t), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_delfile WHERE inode = %" PRIu64, t), 0);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jfs_chunk_ref WHERE chunkid IN (%" PRIu64
		 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ")", ta, a1, a2, b1);
	CHECK_RC(q1(sql), 0);
}

static void test_xattrs(void)
{
	struct sl_err err = {0};
	sl_ino f = mk(&alice, SL_ROOT_INO, "xa", SL_TYPE_FILE, 0644);
	void *v;
	size_t len;
	CHECK_RC(sl_meta_getxattr(m, &alice, f, "user.a", &v, &len, &err), -ENODATA);
	CHECK_RC(sl_meta_setxattr(m, &alice, f, "user.a", "1", 1, 0, &err), 0);
	CHECK_RC(sl_meta_setxattr(m, &alice, f, "user.a", "22", 2, SL_XATTR_CREATE, &err), -EEXIST);
	CHECK_RC(sl_meta_setxattr(m, &alice, f, "user.b", "22", 2, SL_XATTR_REPLACE, &err), -ENODATA);
	CHECK_RC(sl_meta_setxattr(m, &alice, f, "user.a", "22", 2, SL_XATTR_REPLACE, &err), 0);
	CHECK_RC(sl_meta_setxattr(m, &alice, f, "user.empty", "", 0, 0, &err), 0);
	CHECK_RC(sl_meta_setxattr(m, &bob, f, "user.c", "x", 1, 0, &err), -EACCES);
	CHECK_RC(sl_meta_getxattr(m, &bob, f, "user.a", &v, &len, &err), 0);
	CHECK(len == 2 && !memcmp(v, "22", 2));
	free(v);
	CHECK_RC(sl_meta_getxattr(m, &alice, f, "user.empty", &v, &len, &err), 0);
	CHECK(len == 0);
	free(v);
	char *names;
	CHECK_RC(sl_meta_listxattr(m, &alice, f, &names, &len, &err), 0);
	CHECK(len == strlen("user.a") + 1 + strlen("user.empty") + 1 &&
	      !memcmp(names, "user.a\0user.empty\0", len));
	free(names);
	CHECK_RC(sl_meta_removexattr(m, &bob, f, "user.a", &err), -EACCES);
	CHECK_RC(sl_meta_removexattr(m, &alice, f, "user.a", &err), 0);
	CHECK_RC(sl_meta_removexattr(m, &alice, f, "user.a", &err), -ENODATA);
	struct sl_removed rm;
	CHECK_RC(sl_meta_unlink(m, &alice, SL_ROOT_INO, "xa", &rm, &err), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_xattr WHERE inode = %" PRIu64, f), 0);
	char what[256];
	CHECK_RC(sl_meta_unsupported_features(m, what, sizeof(what), &err), 0);
	CHECK(what[0] == 0);
	/* ACLs that a juicefs without EnableACL kept as raw extended attributes */
	CHECK_RC(sqlite3_exec(db, "INSERT INTO jfs_xattr (inode, name, value) VALUES "
			      "(1, 'system.posix_acl_access', x'02')", NULL, NULL, NULL), SQLITE_OK);
	CHECK_RC(sl_meta_unsupported_features(m, what, sizeof(what), &err), 0);
	CHECK(strstr(what, "(1 system.posix_acl_* rows in jfs_xattr)"));
	CHECK_RC(sqlite3_exec(db, "DELETE FROM jfs_xattr WHERE name = 'system.posix_acl_access'",
			      NULL, NULL, NULL), SQLITE_OK);
}

static void test_summary(void)
{
	struct sl_err err = {0};
	struct sl_meta_summary s;
	sl_ino top = mk(&alice, SL_ROOT_INO, "sum", SL_TYPE_DIR, 0755);
	sl_ino sub = mk(&alice, top, "sub", SL_TYPE_DIR, 0755);
	sl_ino f1 = mk(&alice, top, "f1", SL_TYPE_FILE, 0644);
	sl_ino f2 = mk(&alice, sub, "f2", SL_TYPE_FILE, 0644);
	mk(&alice, sub, "empty", SL_TYPE_FILE, 0644);
	mk(&alice, sub, "link", SL_TYPE_SYMLINK, 0777);
	write_slice(f1, 0, 0, new_slice(), 5000);
	write_slice(f2, 1, 0, new_slice(), 1);
	CHECK_RC(sl_meta_summary(m, &bob, top, &s, &err), 0);
	CHECK_RC(s.dirs, 2);
	CHECK_RC(s.files, 4);
	CHECK_RC(s.length, 5000 + CHUNK + 1);
	/* juicefs: 4 KiB per dir, align4K(length) per file, 4 KiB for an empty file or link */
	CHECK_RC(s.space, 2 * 4096 + 8192 + (CHUNK + 4096) + 4096 + 4096);
	CHECK_RC(sl_meta_summary(m, &bob, f1, &s, &err), 0);
	CHECK(s.files == 1 && s.dirs == 0 && s.length == 5000 && s.space == 8192);
	struct sl_attr in = {.mode = 0700}, attr;
	CHECK_RC(sl_meta_setattr(m, &alice, sub, SL_SET_MODE, &in, &attr, &err), 0);
	CHECK_RC(sl_meta_summary(m, &bob, top, &s, &err), -EACCES);
	CHECK_RC(sl_meta_summary(m, &alice, top, &s, &err), 0);
}

/* Compares the flushed counters and directory stats with a count from the tables, as juicefs
 * would compute them. */
static void test_usage(void)
{
	struct sl_err err = {0};
	CHECK_RC(sl_meta_flush_usage(m, &err), 0);
	CHECK(m->npending_dirs == 0 && m->pending_space == 0 && m->pending_inodes == 0);
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT SUM(CASE WHEN type = 1 AND length > 0 THEN "
		 "(length + 4095) / 4096 * 4096 ELSE 4096 END) FROM jfs_node WHERE inode NOT IN "
		 "(1, %" PRIu64 ")", (uint64_t)SL_TRASH_INO);
	CHECK_RC(counter("usedSpace"), q1(sql));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jfs_node WHERE inode NOT IN (1, %" PRIu64
		 ")", (uint64_t)SL_TRASH_INO);
	CHECK_RC(counter("totalInodes"), q1(sql));
	/* every directory's stats row equals the sum over its entries */
	char big[1024];
	snprintf(big, sizeof(big),
		"SELECT COUNT(*) FROM jfs_node d LEFT JOIN jfs_dir_stats s ON s.inode = d.inode "
		"LEFT JOIN (SELECT e.parent AS p, COUNT(*) AS cnt, "
		"SUM(CASE WHEN n.type = 1 THEN n.length ELSE 0 END) AS len, "
		"SUM(CASE WHEN n.type = 1 AND n.length > 0 THEN (n.length + 4095) / 4096 * 4096 "
		"ELSE 4096 END) AS space FROM jfs_edge e JOIN jfs_node n ON n.inode = e.inode "
		"GROUP BY e.parent) c ON c.p = d.inode WHERE d.type = 2 AND d.inode <> %" PRIu64
		" AND (s.inode IS NULL OR s.used_inodes <> IFNULL(c.cnt, 0) OR "
		"s.data_length <> IFNULL(c.len, 0) OR s.used_space <> IFNULL(c.space, 0))",
		(uint64_t)SL_TRASH_INO);
	CHECK_RC(q1(big), 0);
	/* the root got its row from a count on the first flush */
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_dir_stats WHERE inode = 1"), 1);
	/* directory link counts: 2 + subdirectories */
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_node d WHERE d.type = 2 AND d.inode < 1000000 AND "
		    "d.nlink <> 2 + (SELECT COUNT(*) FROM jfs_edge e WHERE e.parent = d.inode AND "
		    "e.type = 2)"), 0);
}

struct sess_seen {
	int n;
	uint64_t sid;
	char info[64];
};

static int sess_cb(void *arg, const struct sl_session_info *s)
{
	struct sess_seen *x = arg;
	x->n++;
	x->sid = s->sid;
	snprintf(x->info, sizeof(x->info), "%s", s->info_json);
	return 0;
}

/* write_chunks (hflush's group commit): several records of several files in one transaction,
 * each checked as write_chunk checks it; a record that fails leaves none of them committed. The
 * core's fallback without the slot commits one write_chunk per record and stops at a failure. */
static void test_write_chunks(void)
{
	struct sl_err err = {0};
	sl_ino dir = mk(&alice, SL_ROOT_INO, "batch", SL_TYPE_DIR, 0755);
	sl_ino f = mk(&alice, dir, "f", SL_TYPE_FILE, 0644);
	sl_ino g = mk(&alice, dir, "g", SL_TYPE_FILE, 0644);
	struct sl_meta_chunk_write r[4] = {
		{.u = &alice, .ino = f, .s = {.pos = 0, .id = new_slice(), .size = 100, .len = 100},
		 .mtime_ns = 5},
		{.u = &alice, .ino = g, .s = {.pos = 0, .id = new_slice(), .size = 7, .len = 7},
		 .mtime_ns = 6},
		{.u = &alice, .ino = f, .s = {.pos = 100, .id = new_slice(), .size = 50, .len = 50},
		 .mtime_ns = 7},
		{.u = &alice, .ino = f, .indx = 1, .s = {.id = new_slice(), .size = 10, .len = 10},
		 .mtime_ns = 8},
	};
	size_t done = 9;
	unsigned txns = 0;
	int64_t before = q1("SELECT COUNT(*) FROM jfs_chunk_ref");
	CHECK_RC(sl_meta_write_chunks(m, r, 4, true, &done, &txns, &err), 0);
	CHECK(done == 4 && txns == 1);
	CHECK_RC(r[2].attr.length, 150);
	CHECK_RC(r[3].attr.length, CHUNK + 10);
	CHECK_RC(r[1].attr.length, 7);
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_chunk_ref") - before, 4);
	CHECK_RC(q1f("SELECT length(slices) FROM jfs_chunk WHERE inode = %" PRIu64 " AND indx = 0",
		     f), 48);

	/* bob may not write alice's 0644 file: the whole batch fails, nothing changes */
	struct sl_meta_chunk_write bad[2] = {
		{.u = &alice, .ino = g, .s = {.pos = 7, .id = new_slice(), .size = 3, .len = 3}},
		{.u = &bob, .ino = f, .indx = 2, .s = {.id = new_slice(), .size = 3, .len = 3}},
	};
	CHECK_RC(sl_meta_write_chunks(m, bad, 2, true, &done, &txns, &err), -EACCES);
	CHECK_RC(done, 0);
	CHECK(strstr(err.msg, "permission") != NULL);
	sl_err_clear(&err);
	struct sl_attr attr;
	CHECK_RC(sl_meta_getattr(m, NULL, g, &attr, &err), 0);
	CHECK_RC(attr.length, 7);
	/* a slice past the chunk: refused before the transaction */
	struct sl_meta_chunk_write big = {.ino = g, .s = {.pos = CHUNK - 1, .id = 77, .size = 2,
							  .len = 2}};
	CHECK_RC(sl_meta_write_chunks(m, &big, 1, true, &done, &txns, &err), -EINVAL);
	sl_err_clear(&err);

	/* the fallback: record by record, the ones before the failure stay committed */
	const struct sl_meta_backend *saved = m->be;
	struct sl_meta_backend plain = *saved;
	plain.write_chunks = NULL;
	m->be = &plain;
	bad[0].s.id = new_slice();
	bad[1].s.id = new_slice();
	CHECK_RC(sl_meta_write_chunks(m, bad, 2, true, &done, &txns, &err), -ENOSYS);
	CHECK(done == 0 && txns == 0); /* records of several streams are never committed in part */
	sl_err_clear(&err);
	CHECK_RC(sl_meta_write_chunks(m, bad, 2, false, &done, &txns, &err), -EACCES);
	CHECK(done == 1 && txns == 2);
	sl_err_clear(&err);
	m->be = saved;
	CHECK_RC(sl_meta_getattr(m, NULL, g, &attr, &err), 0);
	CHECK_RC(attr.length, 10);
}

static void test_sessions(void)
{
	struct sl_err err = {0};
	uint64_t sid;
	CHECK_RC(sl_meta_new_session(m, "{\"HostName\":\"h\"}", 1000, &sid, &err), 0);
	CHECK_RC(sid, 1); /* nextSession starts at 0; the session takes the incremented value */
	m->sid = sid;
	struct sess_seen seen = {0};
	CHECK_RC(sl_meta_list_sessions(m, sess_cb, &seen, &err), 0);
	CHECK(seen.n == 1 && seen.sid == 1 && !strcmp(seen.info, "{\"HostName\":\"h\"}"));
	CHECK_RC(sl_meta_refresh_session(m, sid, 2000, &err), 0);
	CHECK_RC(q1("SELECT expire FROM jfs_session2 WHERE sid = 1"), 2000);
	/* cleaned by someone else: refresh registers it again */
	CHECK_RC(sqlite3_exec(db, "DELETE FROM jfs_session2", NULL, NULL, NULL), SQLITE_OK);
	CHECK_RC(sl_meta_refresh_session(m, sid, 3000, &err), 0);
	CHECK_RC(q1("SELECT expire FROM jfs_session2 WHERE sid = 1"), 3000);

	/* unlink while open: sustained, then release turns it into a deletion */
	sl_ino dir = mk(&alice, SL_ROOT_INO, "open", SL_TYPE_DIR, 0755);
	sl_ino f = mk(&alice, dir, "f", SL_TYPE_FILE, 0644);
	uint64_t s1 = new_slice();
	write_slice(f, 0, 0, s1, 10000);
	sl_meta_open_inc(m, f);
	struct sl_removed rm;
	CHECK_RC(sl_meta_unlink(m, &alice, dir, "f", &rm, &err), 0);
	CHECK(rm.ino == f && !rm.data_pending);
	CHECK_RC(q1f("SELECT nlink FROM jfs_node WHERE inode = %" PRIu64, f), 0);
	CHECK_RC(q1f("SELECT sid FROM jfs_sustained WHERE inode = %" PRIu64, f), 1);
	test_usage(); /* sustained inodes still count in usedSpace/totalInodes, not in dir stats */
	bool orphan = false, sustained = false;
	sl_meta_open_sustain(m, f);
	CHECK(sl_meta_open_dec(m, f, &sustained));
	CHECK(sustained);
	CHECK_RC(sl_meta_release(m, f, &orphan, &err), 0);
	CHECK(orphan);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_sustained WHERE inode = %" PRIu64, f), 0);
	CHECK_RC(q1f("SELECT length FROM jfs_delfile WHERE inode = %" PRIu64, f), 10000);
	CHECK_RC(sl_meta_release(m, f, &orphan, &err), 0);
	CHECK(!orphan);
	int seen_slices[64] = {0};
	CHECK_RC(sl_meta_delete_file_data(m, f, count_slice, seen_slices, &err), 0);
	CHECK_RC(seen_slices[0], 1);

	/* close_session turns what it kept alive into deletions */
	sl_ino g = mk(&alice, dir, "g", SL_TYPE_FILE, 0644);
	sl_meta_open_inc(m, g);
	CHECK_RC(sl_meta_unlink(m, &alice, dir, "g", &rm, &err), 0);
	CHECK_RC(sl_meta_close_session(m, sid, &err), 0);
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_session2"), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_delfile WHERE inode = %" PRIu64, g), 1);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_node WHERE inode = %" PRIu64, g), 0);
	sl_meta_open_dec(m, g, &sustained);
	m->sid = 0;
	test_usage();
}

static int delfile_cb(void *arg, sl_ino ino, uint64_t length)
{
	(void)length;
	int *n = arg;
	(*n)++;
	struct sl_err err = {0};
	int seen[64] = {0};
	CHECK_RC(sl_meta_delete_file_data(m, ino, count_slice, seen, &err), 0);
	return 0;
}

static void test_delfiles(void)
{
	struct sl_err err = {0};
	int n = 0;
	CHECK_RC(sl_meta_list_delfiles(m, (int64_t)time(NULL) + 10, delfile_cb, &n, &err), 0);
	CHECK(n > 0);
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_delfile"), 0);
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_chunk c LEFT JOIN jfs_node n ON n.inode = c.inode "
		    "WHERE n.inode IS NULL"), 0);
	/* every remaining reference count equals the records that point at the slice */
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_chunk_ref WHERE refs <= 0"), 0);
}

static sl_ino conc_dir;

static void *creator(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct sl_err err = {0};
	struct sl_meta_user u = {.uid = 2000 + (uint32_t)id, .ngids = 1};
	int failures = 0;
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof(name), "t%d-%03d", id, i);
		sl_ino ino;
		struct sl_attr attr;
		struct sl_removed rm;
		int rc = sl_meta_mknod(m, &u, conc_dir, name, SL_TYPE_FILE, 0644, 0, NULL, &ino, &attr,
				       &rm, &err);
		if (rc) {
			fprintf(stderr, "thread %d: %s: %s\n", id, name, err.msg);
			failures++;
		}
	}
	return (void *)(intptr_t)failures;
}

/* n creators at once, each 200 files in conc_dir: the files they failed to make. */
static int run_creators(int n)
{
	pthread_t th[4];
	REQUIRE(n <= 4);
	for (int i = 0; i < n; i++)
		REQUIRE(pthread_create(&th[i], NULL, creator, (void *)(intptr_t)i) == 0);
	int failures = 0;
	for (int i = 0; i < n; i++) {
		void *r;
		pthread_join(th[i], &r);
		failures += (int)(intptr_t)r;
	}
	return failures;
}

/* The trash as the vfs uses it for recursive deletes: hour directories numbered from nextTrash,
 * a tree parked there while it is emptied. */
static void test_trash_and_counters(void)
{
	struct sl_err err = {0};
	struct sl_attr attr, tattr;
	struct sl_removed rm;
	sl_ino hour;
	CHECK_RC(sl_meta_getattr(m, NULL, SL_TRASH_INO, &tattr, &err), 0);
	CHECK_RC(sl_meta_mknod(m, &root_u, SL_TRASH_INO, "2026-01-01-00", SL_TYPE_DIR, 0555, 0, NULL,
			       &hour, &attr, &rm, &err), 0);
	CHECK_RC(hour, SL_TRASH_INO + 1);
	CHECK_RC(counter("nextTrash"), 1);
	CHECK_RC(sl_meta_getattr(m, NULL, SL_TRASH_INO, &attr, &err), 0);
	CHECK(attr.nlink == tattr.nlink && attr.mtime_ns == tattr.mtime_ns);
	sl_ino doomed = mk(&alice, SL_ROOT_INO, "doomed", SL_TYPE_DIR, 0755);
	sl_ino inner = mk(&alice, doomed, "inner", SL_TYPE_FILE, 0644);
	CHECK_RC(sl_meta_rename(m, &root_u, SL_ROOT_INO, "doomed", hour, "1-x-doomed",
				SL_RENAME_NOREPLACE, &rm, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, doomed, &attr, &err), 0);
	CHECK_RC(attr.parent, hour);
	/* nothing new may appear inside a directory that is being deleted */
	sl_ino ino;
	CHECK_RC(sl_meta_mknod(m, &root_u, doomed, "late", SL_TYPE_FILE, 0644, 0, NULL, &ino, &attr,
			       &rm, &err), -ENOENT);
	CHECK_RC(sl_meta_unlink(m, &root_u, doomed, "inner", &rm, &err), 0);
	CHECK(rm.ino == inner && rm.data_pending);
	CHECK_RC(sl_meta_rmdir(m, &root_u, hour, "1-x-doomed", &err), 0);
	CHECK_RC(sl_meta_rmdir(m, &root_u, SL_TRASH_INO, "2026-01-01-00", &err), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_node WHERE inode = %" PRIu64, hour), 0);

	int64_t v = 0;
	CHECK_RC(sl_meta_incr_counter(m, "sluiceTest", 5, &v, &err), 0);
	CHECK_RC(v, 5);
	CHECK_RC(sl_meta_incr_counter(m, "sluiceTest", -7, &v, &err), 0);
	CHECK_RC(v, -2);
	CHECK_RC(counter("sluiceTest"), -2);
	/* update_dir_stats: a directory without a row gets one counted from its entries */
	CHECK_RC(sqlite3_exec(db, "DELETE FROM jfs_dir_stats WHERE inode = 1", NULL, NULL, NULL),
		 SQLITE_OK);
	sl_ino inos[2] = {SL_ROOT_INO, 999999999};
	int64_t len[2] = {1, 1}, space[2] = {1, 1}, inodes[2] = {1, 1};
	CHECK_RC(sl_meta_update_dir_stats(m, inos, len, space, inodes, 2, &err), 0);
	CHECK_RC(q1("SELECT used_inodes FROM jfs_dir_stats WHERE inode = 1"),
		 q1("SELECT COUNT(*) FROM jfs_edge WHERE parent = 1"));
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_dir_stats WHERE inode = 999999999"), 0);
}

static void exec_f(const char *fmt, uint64_t a)
{
	char sql[512];
	snprintf(sql, sizeof(sql), fmt, a);
	CHECK_RC(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* check_dir (sluice fsck --path): a directory whose node row is gone is reported, and made anew
 * by a repair, only while an entry still names it; once the entry is gone too, the directory was
 * removed since its parent was listed: -ENOENT, and a repair makes no orphan node. */
static void test_check_dir(void)
{
	struct sl_err err = {0};
	struct sl_meta_dir_check c;
	const struct sl_meta_dir_repair rep = {.mode = 0750, .stats = true};
	struct sl_attr attr;
	sl_ino top = mk(&alice, SL_ROOT_INO, "fsck", SL_TYPE_DIR, 0755);
	sl_ino sub = mk(&alice, top, "sub", SL_TYPE_DIR, 0755);
	CHECK_RC(sl_meta_check_dir(m, SL_ROOT_INO, top, NULL, &c, &err), 0);
	CHECK(!c.node_missing && c.nlink == 3 && c.want_nlink == 3);

	exec_f("DELETE FROM jfs_node WHERE inode = %" PRIu64, sub);
	CHECK_RC(sl_meta_check_dir(m, top, sub, NULL, &c, &err), 0);
	CHECK(c.node_missing && !c.repaired);
	CHECK_RC(sl_meta_check_dir(m, top, sub, &rep, &c, &err), 0);
	CHECK(c.node_missing && c.repaired);
	CHECK_RC(sl_meta_getattr(m, NULL, sub, &attr, &err), 0);
	CHECK(attr.type == SL_TYPE_DIR && attr.mode == 0750 && attr.nlink == 2 &&
	      attr.parent == top);

	/* removed since top was listed */
	CHECK_RC(sl_meta_rmdir(m, &alice, top, "sub", &err), 0);
	CHECK_RC(sl_meta_check_dir(m, top, sub, NULL, &c, &err), -ENOENT);
	CHECK_RC(sl_meta_check_dir(m, top, sub, &rep, &c, &err), -ENOENT);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_node WHERE inode = %" PRIu64, sub), 0);
	CHECK_RC(sl_meta_check_dir(m, SL_ROOT_INO, top, NULL, &c, &err), 0);
	CHECK(!c.node_missing && c.nlink == 2 && c.want_nlink == 2);
	CHECK_RC(sl_meta_rmdir(m, &alice, SL_ROOT_INO, "fsck", &err), 0);
}

/* A pool of one connection: callers queue for it. Unknown options are refused. */
static void test_small_pool(const char *path)
{
	struct sl_err err = {0};
	char url[700];
	struct sl_meta *m1 = NULL;
	snprintf(url, sizeof(url), "sqlite3://%s?max_open_conns=abc", path);
	CHECK_RC(sl_meta_open(url, NULL, NULL, &m1, &err), -EINVAL);
	CHECK(strstr(err.msg, "max_open_conns"));
	snprintf(url, sizeof(url), "sqlite3://%s?table_prefix=x", path);
	CHECK_RC(sl_meta_open(url, NULL, NULL, &m1, &err), -ENOTSUP);
	snprintf(url, sizeof(url), "sqlite3://%s?max_open_conns=1&_busy_timeout=2000", path);
	REQUIRE(sl_meta_open(url, NULL, NULL, &m1, &err) == 0);
	struct sl_meta *saved = m;
	m = m1;
	conc_dir = mk(&root_u, SL_ROOT_INO, "conc1", SL_TYPE_DIR, 0777);
	CHECK_RC(run_creators(3), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_edge WHERE parent = %" PRIu64, conc_dir), 600);
	sl_meta_close(m1); /* flushes its usage */
	m = saved;
	test_usage();
}

/* ---- concurrency ---------------------------------------------------------------------------- */

static void test_concurrency(void)
{
	struct sl_err err = {0};
	CHECK_RC(sl_meta_flush_usage(m, &err), 0);
	int64_t inodes_before = counter("totalInodes");
	conc_dir = mk(&root_u, SL_ROOT_INO, "conc", SL_TYPE_DIR, 0777);
	CHECK_RC(run_creators(4), 0);
	CHECK_RC(q1f("SELECT COUNT(*) FROM jfs_edge WHERE parent = %" PRIu64, conc_dir), 800);
	CHECK_RC(q1f("SELECT COUNT(DISTINCT inode) FROM jfs_edge WHERE parent = %" PRIu64,
		     conc_dir), 800);
	CHECK_RC(sl_meta_flush_usage(m, &err), 0);
	CHECK_RC(counter("totalInodes"), inodes_before + 801);
	CHECK_RC(q1f("SELECT used_inodes FROM jfs_dir_stats WHERE inode = %" PRIu64, conc_dir),
		 800);
	CHECK_RC(q1f("SELECT used_space FROM jfs_dir_stats WHERE inode = %" PRIu64, conc_dir),
		 800 * 4096);
	CHECK(counter("nextInode") > q1("SELECT MAX(inode) FROM jfs_node WHERE inode < 1000000000"));
	test_usage();
}

/* Claims on uploads (meta_claim_checks.h) through a second handle as the other client; the
 * table is created on first use and holds what the slots said. */
static void test_block_claims(const char *url)
{
	struct sl_err err = {0};
	struct sl_meta *other = NULL;
	REQUIRE(sl_meta_open(url, NULL, NULL, &other, &err) == 0);
	CHECK(sl_meta_supports(m, SL_META_OP_BLOCK_CLAIM) &&
	      sl_meta_supports(m, SL_META_OP_BLOCK_CLAIM_END));
	check_block_claims(m, other);
	enum sl_meta_claim c;
	CHECK_RC(sl_meta_block_claim(other, 77, 5, 9, 300, &c, &err), 0);
	CHECK(c == SL_CLAIM_WON);
	CHECK_RC(q1("SELECT sid FROM sluice_block_claim WHERE id = 77 AND indx = 5 AND done = 0"), 9);
	CHECK_RC(sl_meta_block_claim_end(m, 77, 5, 9, true, &err), 0);
	CHECK_RC(q1("SELECT done FROM sluice_block_claim WHERE id = 77 AND indx = 5"), 1);
	sl_meta_close(other);
}

/* The calls layer (calls.c): every call counted, a slot the backend lacks refused by name, a
 * fault injected by a test failing the call before the backend sees it. */
static void test_calls(void)
{
	struct sl_err err = {0};
	for (int op = 0; op < SL_META_NOPS; op++)
		CHECK(sl_meta_op_name(op) && sl_meta_op_name(op)[0] && strcmp(sl_meta_op_name(op), "?"));
	CHECK(!strcmp(sl_meta_op_name(SL_META_OP_READ_CHUNK), "read_chunk"));
	CHECK(!strcmp(sl_meta_backend_name(m), "sql"));

	struct sl_meta_op_stats before, after;
	sl_meta_op_stats(m, SL_META_OP_GETATTR, &before);
	struct sl_attr a;
	CHECK_RC(sl_meta_getattr(m, NULL, SL_ROOT_INO, &a, &err), 0);
	CHECK_RC(sl_meta_getattr(m, NULL, 999999, &a, &err), -ENOENT);
	sl_meta_op_stats(m, SL_META_OP_GETATTR, &after);
	CHECK_RC(after.calls - before.calls, 2);
	CHECK_RC(after.failures - before.failures, 1);
	CHECK(after.ns > before.ns);

	/* the sql backend is no gateway: it has no whoami */
	CHECK(!sl_meta_supports(m, SL_META_OP_WHOAMI));
	CHECK(sl_meta_supports(m, SL_META_OP_READ_CHUNK));
	char name[64];
	CHECK_RC(sl_meta_whoami(m, name, sizeof(name), &err), -EOPNOTSUPP);
	CHECK(strstr(err.msg, "whoami") && strstr(err.msg, "sql"));
	sl_meta_op_stats(m, SL_META_OP_WHOAMI, &after);
	CHECK_RC(after.failures, 1);

	/* two mknods fail as injected and create nothing; the third goes through */
	sl_meta_inject_fault(m, SL_META_OP_MKNOD, -EIO, 2);
	sl_ino ino;
	struct sl_removed rm = {0};
	for (int i = 0; i < 2; i++) {
		CHECK_RC(sl_meta_mknod(m, &root_u, SL_ROOT_INO, "faulty", SL_TYPE_FILE, 0644, 0, NULL,
				       &ino, &a, &rm, &err), -EIO);
		CHECK(strstr(err.msg, "mknod") && strstr(err.msg, "injected"));
		CHECK_RC(sl_meta_lookup(m, &root_u, SL_ROOT_INO, "faulty", &ino, &a, &err), -ENOENT);
	}
	CHECK_RC(sl_meta_mknod(m, &root_u, SL_ROOT_INO, "faulty", SL_TYPE_FILE, 0644, 0, NULL, &ino,
			       &a, &rm, &err), 0);
	CHECK_RC(sl_meta_unlink(m, &root_u, SL_ROOT_INO, "faulty", &rm, &err), 0);
	/* count 0 clears a fault */
	sl_meta_inject_fault(m, SL_META_OP_GETATTR, -EIO, 5);
	sl_meta_inject_fault(m, SL_META_OP_GETATTR, 0, 0);
	CHECK_RC(sl_meta_getattr(m, NULL, SL_ROOT_INO, &a, &err), 0);
}

int main(void)
{
	char *dir = tu_tempdir("meta");
	char path[600], url[700];
	snprintf(path, sizeof(path), "%s/meta.db", dir);
	snprintf(url, sizeof(url), "sqlite3://%s", path);
	struct sl_err err = {0};
	test_urls();
	test_access();

	REQUIRE(sl_meta_open(url, NULL, NULL, &m, &err) == 0);
	CHECK(!strcmp(m->url_redacted, url));
	char *json = NULL;
	CHECK_RC(sl_meta_load_format(m, &json, &err), -ENOENT);
	CHECK(strstr(err.msg, "no volume"));
	const char *fmt = "{\n\"Name\": \"test\",\n\"UUID\": \"00000000-0000-0000-0000-000000000001\","
			  "\n\"Storage\": \"file\",\n\"BlockSize\": 4096\n}";
	struct sl_attr root = {.type = SL_TYPE_DIR, .mode = 0777, .nlink = 2, .length = 4096,
			       .atime_ns = 1700000000123456789LL, .mtime_ns = 1700000000123456789LL,
			       .ctime_ns = 1700000000123456789LL};
	CHECK_RC(sl_meta_format(m, fmt, &root, false, &err), 0);
	CHECK_RC(sl_meta_format(m, fmt, &root, false, &err), -EEXIST);
	CHECK_RC(sl_meta_format(m, fmt, &root, true, &err), 0);
	CHECK_RC(sl_meta_load_format(m, &json, &err), 0);
	CHECK(json && !strcmp(json, fmt));
	free(json);
	REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	test_schema();
	CHECK_RC(counter("nextInode"), 2);
	CHECK_RC(counter("nextChunk"), 1);
	CHECK_RC(counter("nextSession"), 0);
	CHECK_RC(counter("usedSpace"), 0);
	CHECK_RC(counter("totalInodes"), 0);
	CHECK_RC(counter("nextCleanupSlices"), 0);
	CHECK_RC(q1("SELECT mtime FROM jfs_node WHERE inode = 1"), 1700000000123456LL);
	CHECK_RC(q1("SELECT mtimensec FROM jfs_node WHERE inode = 1"), 789);
	CHECK_RC(q1("SELECT mode FROM jfs_node WHERE inode = 9223372032828243968"), 0555);

	test_open_files();
	test_ids();
	test_namespace();
	test_readdir();
	test_rename_unlink();
	test_permissions();
	test_data();
	test_write_chunks();
	test_concat();
	test_xattrs();
	test_summary();
	test_usage();
	test_sessions();
	test_delfiles();
	test_trash_and_counters();
	test_check_dir();
	test_concurrency();
	test_small_pool(path);
	test_block_claims(url);

	/* a reopened volume reads what was written */
	sl_meta_close(m);
	REQUIRE(sl_meta_open(url, NULL, NULL, &m, &err) == 0);
	sl_ino ino;
	struct sl_attr attr;
	CHECK_RC(sl_meta_resolve(m, &alice, "/a/b/c/d/f", &ino, &attr, &err), 0);
	CHECK(ino == file_f);
	test_calls();
	sl_meta_close(m);
	sqlite3_close(db);

	/* an empty file is "no volume"; a directory that cannot hold a database is an error */
	snprintf(url, sizeof(url), "sqlite3://%s/empty.db", dir);
	REQUIRE(sl_meta_open(url, NULL, NULL, &m, &err) == 0);
	CHECK_RC(sl_meta_load_format(m, &json, &err), -ENOENT);
	sl_meta_close(m);
	snprintf(url, sizeof(url), "sqlite3://%s/missing/dir/x.db", dir);
	m = NULL;
	CHECK(sl_meta_open(url, NULL, NULL, &m, &err) < 0);
	CHECK(!m && strstr(err.msg, "missing/dir"));

	if (tu_rm_rf(dir) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
	return tu_finish("test_meta_sqlite");
}
