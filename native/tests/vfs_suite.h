/*
 * vfs_suite.h - the end-to-end tests of the public API (sluice.h), run against one backend pair
 * (test_vfs_local: SQLite + file storage; test_vfs_mysql_s3: MariaDB + the S3 server). Each test
 * works in its own directory of one freshly formatted volume.
 */
#ifndef SL_VFS_SUITE_H
#define SL_VFS_SUITE_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meta/sql_internal.h"
#include "util/crc32c.h"
#include "vfs/vfs.h"
#include "volume_testutil.h"

struct suite {
	const char *meta_url;
	sluice_format_options fmt;
	sluice_kv conf[8];
	size_t nconf;
};

static const sluice_user alice = {"alice", (const char *const[]){"staff"}, 1};
static const sluice_user bob = {"bob", (const char *const[]){"bob"}, 1};
/* The superuser by default ("superuser" unset), as HDFS's NameNode user; the suites leave the key
 * unset. root is an ordinary user unless configured (a process running as root, as in containers,
 * gets no more rights than anyone). */
static const sluice_user su_hdfs = {"hdfs", (const char *const[]){"hdfs"}, 1};
static const sluice_user root_user = {"root", (const char *const[]){"root"}, 1};
static const sluice_user carol_super = {"carol", (const char *const[]){"carol", "supergroup"}, 2};

static sluice_volume *open_vol(struct suite *s, const char *extra_key, const char *extra_value)
{
	sluice_kv conf[10];
	size_t n = s->nconf;
	memcpy(conf, s->conf, n * sizeof(sluice_kv));
	if (extra_key)
		conf[n++] = (sluice_kv){extra_key, extra_value};
	return tu_open(conf, n);
}

static int write_file(sluice_volume *vol, const sluice_user *u, const char *path,
		      const uint8_t *data, size_t len, size_t chunk, int flags)
{
	sluice_file *f;
	int rc = sluice_open(vol, u, path, SLUICE_O_CREATE | flags, 0644, 022, &f);
	if (rc)
		return rc;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w = sluice_write(f, data + off, n);
		if (w != (ssize_t)n) {
			sluice_close(f);
			return w < 0 ? (int)w : -EIO;
		}
	}
	return sluice_close(f);
}

/* Reads the whole file sequentially with the given read size and compares. */
static int check_file(sluice_volume *vol, const sluice_user *u, const char *path,
		      const uint8_t *want, size_t len, size_t chunk)
{
	sluice_file *f;
	int rc = sluice_open(vol, u, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(chunk);
	size_t off = 0;
	for (;;) {
		ssize_t n = sluice_read(f, buf, chunk);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (off + (size_t)n > len || memcmp(buf, want + off, (size_t)n)) {
			fprintf(stderr, "%s: content differs at %zu\n", path, off);
			rc = -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!rc && off != len) {
		fprintf(stderr, "%s: read %zu bytes, expected %zu\n", path, off, len);
		rc = -EIO;
	}
	free(buf);
	sluice_close(f);
	return rc;
}

static void test_bad_input(struct suite *s)
{
	sluice_volume *vol = NULL;
	char msg[512];
	sluice_kv bad_url[] = {{"meta", "postgres://nowhere/db"}};
	CHECK(sluice_init(bad_url, 1, &vol, msg, sizeof(msg)) < 0);
	CHECK(vol == NULL);
	CHECK(strstr(msg, "postgres") != NULL);

	sluice_kv no_meta[] = {{"user", "alice"}};
	CHECK_RC(sluice_init(no_meta, 1, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "meta") != NULL);

	/* a database without a volume */
	char empty_url[1024];
	char *dir = tu_tempdir("novol");
	snprintf(empty_url, sizeof(empty_url), "sqlite3://%s/empty.db", dir);
	sluice_kv novol[] = {{"meta", empty_url}};
	CHECK_RC(sluice_init(novol, 1, &vol, msg, sizeof(msg)), -ENOENT);
	CHECK(strstr(msg, "no volume") != NULL);
	free(dir);

	sluice_kv typo[] = {{"meta", s->meta_url}, {"memory-sise", "10M"}};
	CHECK_RC(sluice_init(typo, 2, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "memory-sise") != NULL);

	sluice_kv badnum[] = {{"meta", s->meta_url}, {"memory-size", "lots"}};
	CHECK_RC(sluice_init(badnum, 2, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "lots") != NULL);

	sluice_format_options o = s->fmt;
	o.name = "Bad_Name";
	CHECK_RC(sluice_format(&o, msg, sizeof(msg)), -EINVAL);
	o = s->fmt;
	o.storage = "ftp";
	CHECK_RC(sluice_format(&o, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "ftp") != NULL);
	/* Changing the name of an existing volume is refused and changes nothing. */
	o = s->fmt;
	o.name = "other-name";
	CHECK_RC(sluice_format(&o, msg, sizeof(msg)), -EEXIST);
	vol = open_vol(s, NULL, NULL);
	sluice_volume_info vi;
	sluice_volume_get_info(vol, &vi);
	CHECK(!strcmp(vi.name, s->fmt.name));
	sluice_shutdown(vol);
}

static void test_paths(sluice_volume *vol)
{
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "relative/path", &st), -EINVAL);
	CHECK_RC(sluice_stat_path(vol, NULL, "/a/../b", &st), -EINVAL);
	CHECK_RC(sluice_stat_path(vol, NULL, "/no/such/file", &st), -ENOENT);
	CHECK_RC(sluice_stat_path(vol, NULL, "/", &st), 0);
	CHECK(st.type == SLUICE_DIR && st.inode == 1);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = 0;
	CHECK_RC(sluice_mkdir(vol, NULL, longname, 0755, 0), -ENAMETOOLONG);
	/* a path of more components than one lookup query walks (the backend goes on from where it
	 * ended) */
	char deep[400] = "/paths";
	for (int d = 1; d <= 50; d++)
		snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "/d%d", d);
	CHECK_RC(sluice_mkdirs(vol, NULL, deep, 0755, 0), 0);
	char file[420];
	snprintf(file, sizeof(file), "%s/f", deep);
	CHECK_RC(write_file(vol, NULL, file, (const uint8_t *)"deep", 4, 4, 0), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, file, &st), 0);
	CHECK(st.type == SLUICE_FILE && st.length == 4);
	snprintf(file, sizeof(file), "%s/f/under", deep);
	CHECK_RC(sluice_stat_path(vol, NULL, file, &st), -ENOTDIR);
	snprintf(file, sizeof(file), "%s/none/f", deep);
	CHECK_RC(sluice_stat_path(vol, NULL, file, &st), -ENOENT);
}

static void test_write_read(sluice_volume *vol)
{
	const size_t len = 70u << 20; /* crosses a chunk boundary */
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 1);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/wr/deep/er", 0755, 022), 0);
	CHECK_RC(write_file(vol, NULL, "/wr/deep/er/big", data, len, 1000003, 0), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/wr/deep/er/big", &st), 0);
	CHECK(st.length == len && st.type == SLUICE_FILE && st.mode == 0644);
	CHECK_RC(check_file(vol, NULL, "/wr/deep/er/big", data, len, 1 << 20), 0);
	CHECK_RC(check_file(vol, NULL, "/wr/deep/er/big", data, len, 65536 + 7), 0);

	/* positional reads, including across the chunk boundary and past the end */
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/wr/deep/er/big", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t buf[100000];
	uint64_t offs[] = {0, 4095, (64u << 20) - 500, len - 100, 12345678, 4u << 20};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		ssize_t want = offs[i] + sizeof(buf) > len ? (ssize_t)(len - offs[i]) : (ssize_t)sizeof(buf);
		CHECK_RC(sluice_pread(f, buf, sizeof(buf), offs[i]), want);
		CHECK(!memcmp(buf, data + offs[i], (size_t)want));
	}
	CHECK_RC(sluice_pread(f, buf, 10, len), 0);
	CHECK_RC(sluice_tell(f), 0);
	CHECK_RC(sluice_seek(f, len - 10), 0);
	CHECK_RC(sluice_read(f, buf, 100), 10);
	CHECK(!memcmp(buf, data + len - 10, 10));
	sluice_unbuffer(f);
	CHECK_RC(sluice_close(f), 0);

	/* an empty file */
	CHECK_RC(write_file(vol, NULL, "/wr/empty", data, 0, 1, 0), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/wr/empty", &st), 0);
	CHECK(st.length == 0);
	CHECK_RC(check_file(vol, NULL, "/wr/empty", data, 0, 10), 0);
	free(data);
}

static void test_create_modes(sluice_volume *vol)
{
	uint8_t a[5000], b[3000];
	tu_fill_pattern(a, sizeof(a), 2);
	tu_fill_pattern(b, sizeof(b), 3);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/cm", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/cm/f", a, sizeof(a), 1000, 0), 0);
	/* no-replace */
	sluice_file *f;
	CHECK_RC(sluice_open(vol, NULL, "/cm/f", SLUICE_O_CREATE | SLUICE_O_EXCL, 0644, 0, &f),
		 -EEXIST);
	CHECK_RC(sluice_open(vol, NULL, "/cm", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &f),
		 -EISDIR);
	CHECK_RC(sluice_open(vol, NULL, "/cm/nodir/x", SLUICE_O_CREATE, 0644, 0, &f), -ENOENT);
	CHECK_RC(sluice_open(vol, NULL, "/cm/f/x", SLUICE_O_CREATE, 0644, 0, &f), -ENOTDIR);
	CHECK_RC(sluice_open(vol, NULL, "/cm", SLUICE_O_READ, 0, 0, &f), -EISDIR);
	/* overwrite is atomic; a reader of the old file keeps the old data */
	sluice_file *old;
	REQUIRE(sluice_open(vol, NULL, "/cm/f", SLUICE_O_READ, 0, 0, &old) == 0);
	CHECK_RC(write_file(vol, NULL, "/cm/f", b, sizeof(b), 777, SLUICE_O_OVERWRITE), 0);
	CHECK_RC(check_file(vol, NULL, "/cm/f", b, sizeof(b), 4096), 0);
	uint8_t buf[5000];
	CHECK_RC(sluice_pread(old, buf, sizeof(buf), 0), sizeof(a));
	CHECK(!memcmp(buf, a, sizeof(a)));
	CHECK_RC(sluice_close(old), 0);
	/* append */
	REQUIRE(sluice_open(vol, NULL, "/cm/f", SLUICE_O_APPEND, 0, 0, &f) == 0);
	CHECK_RC(sluice_write(f, a, sizeof(a)), sizeof(a));
	CHECK_RC(sluice_file_length(f), sizeof(a) + sizeof(b));
	CHECK_RC(sluice_close(f), 0);
	uint8_t both[8000];
	memcpy(both, b, sizeof(b));
	memcpy(both + sizeof(b), a, sizeof(a));
	CHECK_RC(check_file(vol, NULL, "/cm/f", both, sizeof(both), 1000), 0);
	/* create with missing parents */
	CHECK_RC(write_file(vol, NULL, "/cm/p/q/r", a, 10, 10, SLUICE_O_MKDIRS), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/cm/p/q", &st), 0);
	CHECK(st.type == SLUICE_DIR);
	/* mkdir semantics */
	CHECK_RC(sluice_mkdir(vol, NULL, "/cm/p", 0755, 0), -EEXIST);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/cm/p", 0755, 0), 0);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/cm/f/sub", 0755, 0), -ENOTDIR);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/cm/f", 0755, 0), -EEXIST);
}

static void test_hflush_visibility(struct suite *s, sluice_volume *vol)
{
	sluice_volume *other = open_vol(s, NULL, NULL);
	uint8_t data[300000];
	tu_fill_pattern(data, sizeof(data), 4);
	sluice_file *w;
	REQUIRE(sluice_open(vol, NULL, "/hflush", SLUICE_O_CREATE, 0644, 0, &w) == 0);
	size_t written = 0;
	for (int round = 0; round < 5; round++) {
		size_t n = 60000;
		CHECK_RC(sluice_write(w, data + written, n), n);
		written += n;
		CHECK_RC(round % 2 ? sluice_hsync(w) : sluice_hflush(w), 0);
		/* a new reader on another volume handle sees exactly the flushed bytes */
		sluice_stat st;
		CHECK_RC(sluice_stat_path(other, NULL, "/hflush", &st), 0);
		CHECK(st.length == written);
		uint8_t buf[300000];
		sluice_file *r;
		REQUIRE(sluice_open(other, NULL, "/hflush", SLUICE_O_READ, 0, 0, &r) == 0);
		CHECK_RC(sluice_pread(r, buf, sizeof(buf), 0), written);
		CHECK(!memcmp(buf, data, written));
		CHECK_RC(sluice_close(r), 0);
	}
	CHECK_RC(sluice_close(w), 0);
	sluice_shutdown(other);
}

/* A reader whose file another client deletes gets an error once the data is gone, never zeros. */
static void test_read_deleted_elsewhere(struct suite *s, sluice_volume *vol)
{
	static uint8_t d[100000], buf[100000];
	tu_fill_pattern(d, sizeof(d), 21);
	CHECK_RC(write_file(vol, NULL, "/gone", d, sizeof(d), sizeof(d), 0), 0);
	sluice_volume *other = open_vol(s, NULL, NULL);
	sluice_file *r;
	REQUIRE(sluice_open(other, NULL, "/gone", SLUICE_O_READ, 0, 0, &r) == 0);
	CHECK_RC(sluice_pread(r, buf, sizeof(buf), 0), sizeof(buf));
	CHECK_RC(sluice_delete(vol, NULL, "/gone", 0), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 60000), 0); /* the deleting client removed the data */
	sluice_unbuffer(r);
	sl_blockcache_drop_all(other->core.cache);
	CHECK_RC(sluice_pread(r, buf, sizeof(buf), 0), -ESTALE);
	CHECK(strstr(sluice_last_error(other), "deleted") != NULL);
	sluice_close(r);
	sluice_shutdown(other);
}

static void test_rename(sluice_volume *vol)
{
	uint8_t d[100];
	tu_fill_pattern(d, sizeof(d), 5);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/rn/a/b", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/rn/a/b/f", d, sizeof(d), 100, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/rn/g", d, 50, 50, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/a", "/rn/a/b/c", 0), -EINVAL);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/a/b/f", "/rn/g", SLUICE_RENAME_NOREPLACE), -EEXIST);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/missing", "/rn/x", 0), -ENOENT);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/a/b/f", "/rn/nodir/f", 0), -ENOENT);
	/* replace a file (POSIX) */
	CHECK_RC(sluice_rename(vol, NULL, "/rn/a/b/f", "/rn/g", 0), 0);
	CHECK_RC(check_file(vol, NULL, "/rn/g", d, sizeof(d), 64), 0);
	/* a directory with content moves atomically */
	CHECK_RC(write_file(vol, NULL, "/rn/a/b/h", d, 10, 10, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/a", "/rn/moved", SLUICE_RENAME_NOREPLACE), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/moved/b/h", &st), 0);
	CHECK(st.length == 10);
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/a", &st), -ENOENT);
	/* onto a non-empty directory */
	CHECK_RC(sluice_mkdirs(vol, NULL, "/rn/other/x", 0755, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/moved", "/rn/other", 0), -ENOTEMPTY);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/g", "/rn/g", 0), 0);

	/* Hadoop's rename: into an existing directory under its own name, in one transaction */
	const int hadoop = SLUICE_RENAME_NOREPLACE | SLUICE_RENAME_INTO_DIR;
	CHECK_RC(write_file(vol, NULL, "/rn/into", d, 20, 20, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/into", "/rn/other", hadoop), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/other/into", &st), 0);
	CHECK(st.length == 20);
	/* its name taken there: refused, nothing moves */
	CHECK_RC(write_file(vol, NULL, "/rn/into", d, 30, 30, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/into", "/rn/other", hadoop), -EEXIST);
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/into", &st), 0);
	CHECK(st.length == 30);
	/* into the directory it is in already: nothing to do */
	CHECK_RC(sluice_rename(vol, NULL, "/rn/other/into", "/rn/other", hadoop), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/other/into", &st), 0);
	/* a destination that is no directory: a plain rename, or EEXIST */
	CHECK_RC(sluice_rename(vol, NULL, "/rn/into", "/rn/into2", hadoop), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/into2", "/rn/g", hadoop), -EEXIST);
	/* a directory into a directory */
	CHECK_RC(sluice_mkdirs(vol, NULL, "/rn/dd/e", 0755, 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/rn/dd", "/rn/other", hadoop), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/rn/other/dd/e", &st), 0);
	CHECK(st.type == SLUICE_DIR);
}

static int count_objects_cb(void *arg, const struct sl_obj_info *info)
{
	(void)info;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count_chunk_objects(sluice_volume *vol)
{
	size_t n = 0;
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%schunks/", vol->core.layout.prefix);
	struct sl_err err = {0};
	REQUIRE(sl_obj_list(vol->core.store, prefix, NULL, count_objects_cb, &n, &err) == 0);
	return n;
}

/* ---- JuiceFS's trash, as juicefs leaves it, cleaned (meta.h, clean_trash) ---------------- */

struct delayed_row {
	uint64_t row, id;
	uint32_t size;
	int64_t deleted;
};

/* What juicefs does when it replaces a slice on a volume with trash days: the slice keeps a
 * reference, recorded in jfs_delslices with the time. */
static int plant_delayed_op(struct tx *t, void *arg)
{
	const struct delayed_row *d = arg;
	uint8_t b[12];
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(d->id >> (56 - 8 * k));
	for (int k = 0; k < 4; k++)
		b[8 + k] = (uint8_t)(d->size >> (24 - 8 * k));
	int rc = sl_sqlq_write(t, "INSERT INTO jfs_delslices (chunkid, deleted, slices) VALUES "
			       "(?, ?, ?)", "iib", (int64_t)d->row, d->deleted, b, sizeof(b));
	return rc ? rc : sl_sqlq_write(t, "UPDATE jfs_chunk_ref SET refs = refs + 1 WHERE "
				       "chunkid = ?", "i", (int64_t)d->id);
}

/* Moves path into the trash hour directory hour as juicefs's unlink does. */
static void trash_like_juicefs(sluice_volume *vol, const char *path, sl_ino hour)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	sluice_stat st, pst;
	char parent[256];
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(path, '/') - path), path);
	REQUIRE(sluice_stat_path(vol, NULL, path, &st) == 0);
	REQUIRE(sluice_stat_path(vol, NULL, parent, &pst) == 0);
	char name[300];
	snprintf(name, sizeof(name), "%" PRIu64 "-%" PRIu64 "-%s", pst.inode, st.inode,
		 strrchr(path, '/') + 1);
	REQUIRE(sl_meta_rename(m, NULL, pst.inode, strrchr(path, '/') + 1, hour, name,
			       SL_RENAME_NOREPLACE, NULL, &err) == 0);
}

struct set_flags {
	sl_ino ino;
	int64_t flags;
};

static int set_flags_op(struct tx *t, void *arg)
{
	struct set_flags *a = arg;
	return sl_sqlq_exec(t, NULL, "UPDATE jfs_node SET flags = ? WHERE inode = ?", "ii",
			    a->flags, (int64_t)a->ino);
}

/* juicefs 1.4's skip-trash flag (chattr +s, 32) passes to new entries; the Windows attributes
 * next to it (4, 8, 16) do not. */
static void test_flags_inherited(sluice_volume *vol)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	sluice_stat st;
	struct sl_attr at;
	REQUIRE(sluice_mkdirs(vol, NULL, "/flags", 0755, 0) == 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/flags", &st) == 0);
	struct set_flags f = {.ino = st.inode, .flags = 32 | 4 | 8 | 16};
	REQUIRE(sl_sqlq_run(m, true, set_flags_op, &f, &err) == 0);
	CHECK_RC(tu_put_text(vol, NULL, "/flags/f", "x", 0644), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/flags/f", &st) == 0);
	CHECK_RC(sl_meta_getattr(m, NULL, st.inode, &at, &err), 0);
	CHECK_RC(at.flags, 32);
	CHECK_RC(sluice_delete(vol, NULL, "/flags", 1), 0);
}

struct plant_session {
	sl_ino ino;
};

/* A session that expired long ago, keeping alive a file whose last link went (a client that died
 * with the file open). */
static int plant_session_op(struct tx *t, void *arg)
{
	struct plant_session *p = arg;
	int rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_edge WHERE inode = ?", "i", (int64_t)p->ino);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "UPDATE jfs_node SET nlink = 0 WHERE inode = ?", "i",
				  (int64_t)p->ino);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_session2 (sid, expire, info) VALUES "
				  "(777777, 1000, ?)", "b", "{}", (size_t)2);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_sustained (sid, inode) VALUES "
				  "(777777, ?)", "i", (int64_t)p->ino);
	/* and a dead writer's session, whose lease its file's recovery still needs */
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_session2 (sid, expire, info) VALUES "
				  "(777778, 1000, ?)", "b", "{}", (size_t)2);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO sluice_lease (inode, sid, gen, since) VALUES "
				  "(?, 777778, 1, 1000)", "i", (int64_t)p->ino + 1000000);
	return rc;
}

static int drop_planted_op(struct tx *t, void *arg)
{
	(void)arg;
	int rc = sl_sqlq_exec(t, NULL, "DELETE FROM sluice_lease WHERE sid = 777778", "");
	return rc ? rc : sl_sqlq_exec(t, NULL, "DELETE FROM jfs_session2 WHERE sid = 777778", "");
}

static int count_delfile(void *arg, sl_ino ino, uint64_t length)
{
	(void)length;
	struct plant_session *p = arg;
	if (ino == p->ino)
		p->ino = 0;
	return 0;
}

/* Stale sessions are closed as juicefs closes them: their sustained files become pending
 * deletions; one whose writer's lease is still there stays until the lease is swept. */
static void test_stale_sessions(sluice_volume *vol)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	sluice_stat st;
	CHECK_RC(tu_put_text(vol, NULL, "/stale-file", "kept by a dead client", 0644), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/stale-file", &st) == 0);
	struct plant_session p = {.ino = st.inode};
	REQUIRE(sl_sql_lease_ready(m, &err) == 0);
	REQUIRE(sl_sqlq_run(m, true, plant_session_op, &p, &err) == 0);
	uint64_t n = 0, closed = 0;
	CHECK_RC(sl_vol_stale_sessions(&vol->core, false, &n, &closed, &err), 0);
	CHECK(n == 2 && closed == 0);
	CHECK_RC(sl_vol_stale_sessions(&vol->core, true, &n, &closed, &err), 0);
	CHECK(n == 2 && closed == 1);
	CHECK_RC(sl_vol_stale_sessions(&vol->core, false, &n, &closed, &err), 0);
	CHECK_RC(n, 1); /* the one with a lease */
	REQUIRE(sl_sqlq_run(m, true, drop_planted_op, NULL, &err) == 0);
	CHECK_RC(sl_meta_list_delfiles(m, INT64_MAX / 2, count_delfile, &p, &err), 0);
	CHECK(p.ino == 0); /* its data is now a pending deletion */
}

static void test_trash_cleaning(sluice_volume *vol)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	struct sl_attr at;
	sl_ino old_hour, new_hour, other;
	time_t now = time(NULL);
	struct tm tm;
	char this_hour[32];
	gmtime_r(&now, &tm);
	strftime(this_hour, sizeof(this_hour), "%Y-%m-%d-%H", &tm);
	REQUIRE(sl_meta_mknod(m, NULL, SL_TRASH_INO, "2020-01-02-03", SL_TYPE_DIR, 0555, 0, NULL,
			      &old_hour, &at, NULL, &err) == 0);
	int rc = sl_meta_mknod(m, NULL, SL_TRASH_INO, this_hour, SL_TYPE_DIR, 0555, 0, NULL,
			       &new_hour, &at, NULL, &err);
	REQUIRE(rc == 0 || rc == -EEXIST);
	REQUIRE(sl_meta_mknod(m, NULL, SL_TRASH_INO, "not-an-hour", SL_TYPE_DIR, 0555, 0, NULL,
			      &other, &at, NULL, &err) == 0);

	static uint8_t d[5 << 20];
	tu_fill_pattern(d, sizeof(d), 41);
	REQUIRE(sluice_mkdirs(vol, NULL, "/tt/d", 0755, 0) == 0);
	CHECK_RC(write_file(vol, NULL, "/tt/a", d, sizeof(d), 1 << 20, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tt/d/e", d, 1000, 1000, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tt/b", d, 2000, 2000, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tt/c", d, 3000, 3000, 0), 0);
	size_t objects = count_chunk_objects(vol);
	trash_like_juicefs(vol, "/tt/a", old_hour);
	trash_like_juicefs(vol, "/tt/d", old_hour);
	trash_like_juicefs(vol, "/tt/b", new_hour);
	CHECK_RC(count_chunk_objects(vol), objects); /* in the trash, the data stays */

	/* c's slice: once replaced long ago and once just now, as juicefs records it */
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/tt/c", &st) == 0);
	struct sl_slice *ss = NULL;
	size_t n = 0;
	REQUIRE(sl_meta_read_chunk(m, NULL, st.inode, 0, &ss, &n, &err) == 0 && n == 1);
	struct delayed_row old_row = {.row = ss[0].id, .id = ss[0].id, .size = ss[0].size,
				      .deleted = 1000};
	struct delayed_row new_row = {.row = ss[0].id + 1000000, .id = ss[0].id,
				      .size = ss[0].size, .deleted = (int64_t)now};
	free(ss);
	REQUIRE(sl_sqlq_run(m, true, plant_delayed_op, &old_row, &err) == 0);
	REQUIRE(sl_sqlq_run(m, true, plant_delayed_op, &new_row, &err) == 0);
	CHECK_RC(sluice_delete(vol, NULL, "/tt/c", 0), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 10000), 0);
	int64_t refs = 0;
	uint32_t size = 0;
	CHECK_RC(sl_meta_slice_refs(m, old_row.id, &refs, &size, &err), 0);
	CHECK_RC(refs, 2); /* the file's reference went, the delayed ones stay */

	/* a round for the trash days: the old hour goes, this hour and a stray name stay */
	uint64_t files = 0, delayed = 0;
	CHECK_RC(sl_vol_clean_trash(vol, (int64_t)now - 2 * 3600, &files, &delayed, &err), 0);
	CHECK_RC(files, 2);
	CHECK_RC(delayed, 1);
	sl_ino ino;
	CHECK_RC(sl_meta_lookup(m, NULL, SL_TRASH_INO, "2020-01-02-03", &ino, &at, &err), -ENOENT);
	CHECK_RC(sl_meta_lookup(m, NULL, SL_TRASH_INO, this_hour, &ino, &at, &err), 0);
	CHECK_RC(sl_meta_lookup(m, NULL, SL_TRASH_INO, "not-an-hour", &ino, &at, &err), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 10000), 0);
	CHECK_RC(count_chunk_objects(vol), objects - 3); /* a's 2 blocks (5 MiB), e's 1 */
	CHECK_RC(sl_meta_slice_refs(m, old_row.id, &refs, &size, &err), 0);
	CHECK_RC(refs, 1);

	/* everything older than a day from now: the rest goes, c's slice with its last reference */
	CHECK_RC(sl_vol_clean_trash(vol, (int64_t)now + 86400, &files, &delayed, &err), 0);
	CHECK_RC(files, 1);
	CHECK_RC(delayed, 1);
	CHECK_RC(sl_meta_lookup(m, NULL, SL_TRASH_INO, this_hour, &ino, &at, &err), -ENOENT);
	CHECK_RC(sl_vol_settle_deletions(vol, 10000), 0);
	CHECK_RC(count_chunk_objects(vol), objects - 5); /* b's block, c's */
	CHECK_RC(sl_meta_slice_refs(m, old_row.id, &refs, &size, &err), -ENOENT);
	CHECK_RC(sl_vol_clean_trash(vol, (int64_t)now + 86400, &files, &delayed, &err), 0);
	CHECK(files == 0 && delayed == 0);
	CHECK_RC(sl_meta_rmdir(m, NULL, SL_TRASH_INO, "not-an-hour", &err), 0);
}

struct quota_seen {
	struct sl_meta_quota q;
	int found;
};

static int see_quota(void *arg, const struct sl_meta_quota *q)
{
	struct quota_seen *s = arg;
	s->q = *q;
	s->found++;
	return 0;
}

/* The quota of path as flushed to the database, after m's own usage is written. */
static struct sl_meta_quota quota_of(sluice_volume *vol, const char *path)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, path, &st) == 0);
	REQUIRE(sl_meta_flush_usage(m, &err) == 0);
	struct quota_seen seen = {0};
	REQUIRE(sl_meta_quota_list(m, st.inode, see_quota, &seen, &err) == 0);
	CHECK_RC(seen.found, 1);
	return seen.q;
}

/* Sets a quota on path as `sluice quota set` does: the limits, then the usage of the tree. */
static void set_quota(sluice_volume *vol, const char *path, int64_t space, int64_t inodes)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	sluice_stat st;
	sluice_summary sum;
	REQUIRE(sluice_stat_path(vol, NULL, path, &st) == 0);
	struct sl_meta_quota q = {.ino = st.inode, .max_space = space, .max_inodes = inodes,
				  .used_space = -1, .used_inodes = -1};
	bool created = false;
	REQUIRE(sl_meta_quota_set(m, &q, &created, &err) == 0);
	CHECK(created);
	REQUIRE(sluice_summary_path(vol, NULL, path, &sum) == 0);
	q = (struct sl_meta_quota){.ino = st.inode, .max_space = -1, .max_inodes = -1,
				   .used_space = (int64_t)sum.space - 4096,
				   .used_inodes = (int64_t)(sum.files + sum.directories) - 1};
	REQUIRE(sl_meta_quota_set(m, &q, NULL, &err) == 0);
}

/* A quota's usage as flushed equals what the tree holds. */
static void check_quota_usage(sluice_volume *vol, const char *path)
{
	struct sl_meta_quota q = quota_of(vol, path);
	sluice_summary sum;
	REQUIRE(sluice_summary_path(vol, NULL, path, &sum) == 0);
	CHECK_RC(q.used_space, (int64_t)sum.space - 4096);
	CHECK_RC(q.used_inodes, (int64_t)(sum.files + sum.directories) - 1);
}

/* Directory quotas (jfs_dir_quota, juicefs quota's rules): every operation that would take a
 * tree past its space or inode limit fails with EDQUOT and changes nothing; renames and
 * deletes move usage between quotas; a second client enforces them too. */
static void test_dir_quotas(struct suite *s, sluice_volume *vol)
{
	static uint8_t d[64 << 10];
	tu_fill_pattern(d, sizeof(d), 77);
	REQUIRE(sluice_mkdirs(vol, NULL, "/q/in/deep", 0755, 0) == 0);
	REQUIRE(sluice_mkdirs(vol, NULL, "/q/out/tree/sub", 0755, 0) == 0);
	CHECK_RC(write_file(vol, NULL, "/q/in/a", d, 10000, 10000, 0), 0);
	set_quota(vol, "/q/in", 72 << 10, 5);
	struct sl_meta_quota q = quota_of(vol, "/q/in");
	CHECK_RC(q.used_space, 4096 + 12288); /* deep, and a's 10000 bytes in 4 KiB units */
	CHECK_RC(q.used_inodes, 2);
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(vol, NULL, "/q/in", &sum), 0);
	CHECK(sum.quota_space == 72 << 10 && sum.quota_inodes == 5);
	CHECK_RC(sluice_summary_path(vol, NULL, "/q/out", &sum), 0);
	CHECK(sum.quota_space == -1 && sum.quota_inodes == -1);

	/* space: 40 KiB fits below, 20 KiB more does not; the refused write leaves nothing */
	CHECK_RC(write_file(vol, NULL, "/q/in/deep/b", d, 40000, 40000, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/q/in/c", d, 20000, 20000, 0), -EDQUOT);
	CHECK(strstr(sluice_last_error(vol), "space quota") != NULL);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/in/c", &st), 0);
	CHECK_RC(st.length, 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/q/in/c", 20000), -EDQUOT);
	CHECK_RC(sluice_truncate(vol, NULL, "/q/in/c", 4000), 0); /* within its 4 KiB */
	/* inodes: deep, a, b, c and one more */
	CHECK_RC(sluice_mkdir(vol, NULL, "/q/in/e", 0755, 0), 0);
	CHECK_RC(tu_put_text(vol, NULL, "/q/in/f", "x", 0644), -EDQUOT);
	CHECK(strstr(sluice_last_error(vol), SLUICE_INODE_QUOTA_MSG) != NULL);
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/in/f", &st), -ENOENT);
	CHECK_RC(tu_put_text(vol, NULL, "/q/in/c", "y", 0644), 0); /* a replacement adds none */
	check_quota_usage(vol, "/q/in");

	/* renames into the tree weigh what arrives, renames inside it nothing */
	CHECK_RC(tu_put_text(vol, NULL, "/q/out/x", "x", 0644), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/q/out/x", "/q/in/x", 0), -EDQUOT);
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/out/x", &st), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/q/in/a", "/q/in/deep/a", 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/q/in/deep/a", "/q/out/a", 0), 0); /* room again */
	CHECK_RC(sluice_rename(vol, NULL, "/q/out/x", "/q/in/x", 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/q/out/tree", "/q/in/tree", 0), -EDQUOT);
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/out/tree/sub", &st), 0);
	/* a directory moved out takes its tree's usage along */
	CHECK_RC(sluice_rename(vol, NULL, "/q/in/deep", "/q/out/deep", 0), 0);
	q = quota_of(vol, "/q/in");
	CHECK_RC(q.used_inodes, 3); /* c, e, x */
	CHECK_RC(sluice_rename(vol, NULL, "/q/out/tree", "/q/in/tree", 0), 0);
	check_quota_usage(vol, "/q/in");
	/* concat of a file from elsewhere brings its bytes */
	CHECK_RC(write_file(vol, NULL, "/q/out/big", d, 60000, 60000, 0), 0);
	const char *srcs[] = {"/q/out/big"};
	CHECK_RC(sluice_concat(vol, NULL, "/q/in/c", srcs, 1), -EDQUOT);
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/out/big", &st), 0);

	/* nested: the quota of /q holds for /q/in as well */
	CHECK_RC(sluice_delete(vol, NULL, "/q/out", 1), 0);
	set_quota(vol, "/q", -1, 7); /* in, its 5 entries and one more */
	CHECK_RC(sluice_mkdir(vol, NULL, "/q/g", 0755, 0), 0);
	CHECK_RC(sluice_mkdir(vol, NULL, "/q/h", 0755, 0), -EDQUOT);
	CHECK_RC(sluice_delete(vol, NULL, "/q/in/tree", 1), 0);
	CHECK_RC(sluice_mkdir(vol, NULL, "/q/h", 0755, 0), 0);
	CHECK_RC(sluice_mkdir(vol, NULL, "/q/j", 0755, 0), 0);
	check_quota_usage(vol, "/q");
	check_quota_usage(vol, "/q/in");

	/* another client enforces the quotas with the first one's usage */
	sluice_volume *b = open_vol(s, NULL, NULL);
	CHECK_RC(sluice_mkdir(b, NULL, "/q/in/i", 0755, 0), -EDQUOT);
	CHECK_RC(sluice_delete(b, NULL, "/q/h", 0), 0);
	CHECK_RC(sluice_mkdir(b, NULL, "/q/in/i", 0755, 0), 0);
	CHECK_RC(sluice_shutdown(b), 0);
	check_quota_usage(vol, "/q");
	/* a client whose only change is a deletion counts it too */
	b = open_vol(s, NULL, NULL);
	CHECK_RC(sluice_delete(b, NULL, "/q/j", 0), 0);
	CHECK_RC(sluice_shutdown(b), 0);
	check_quota_usage(vol, "/q");

	/* a quota goes with its directory */
	struct sl_err err = {0};
	CHECK_RC(sluice_stat_path(vol, NULL, "/q/in", &st), 0);
	CHECK_RC(sluice_delete(vol, NULL, "/q", 1), 0);
	struct quota_seen seen = {0};
	CHECK_RC(sl_meta_quota_list(vol->core.meta, 0, see_quota, &seen, &err), 0);
	CHECK_RC(seen.found, 0);
	CHECK_RC(sl_meta_quota_delete(vol->core.meta, st.inode, &err), -ENOENT);
}

/* An ACL entry for a spec: scope, type, name ("" none), perm. */
static sluice_acl_entry acl_entry(int scope, int type, const char *name, unsigned perm)
{
	sluice_acl_entry e = {.scope = scope, .type = type, .perm = perm};
	snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

/* Whether getAclStatus of path lists an entry (scope, type, name, perm). */
static bool acl_lists(sluice_volume *vol, const char *path, int scope, int type,
		      const char *name, unsigned perm)
{
	sluice_acl_entry e[64];
	uint32_t mode;
	int n = sluice_acl_get(vol, &su_hdfs, path, &mode, e, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (e[i].scope == scope && e[i].type == type && !strcmp(e[i].name, name) &&
		    e[i].perm == perm)
			return true;
	return false;
}

/* POSIX ACLs by HDFS's rules in JuiceFS's rows: named entries grant access under the mask, only
 * the owner changes an ACL, chmod moves the mask, a directory's default ACL is inherited (in
 * place of the umask), invalid ACLs are refused with HDFS's reasons, removeAcl restores the
 * permission bits. */
static void test_acls(sluice_volume *vol)
{
	uint8_t d[10] = {1};
	char buf[16];
	CHECK_RC(sluice_mkdirs(vol, &alice, "/acl/dir", 0700, 0), 0);
	CHECK_RC(sluice_chmod(vol, &alice, "/acl", 0755), 0);
	CHECK_RC(write_file(vol, &alice, "/acl/dir/f", d, sizeof(d), 10, 0), 0);
	CHECK_RC(sluice_chmod(vol, &alice, "/acl/dir/f", 0600), 0);
	CHECK_RC(tu_get_text(vol, &bob, "/acl/dir/f", buf, sizeof(buf)), -EACCES);

	sluice_acl_entry bob_rx = acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "bob", 5);
	sluice_acl_entry bob_r = acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "bob", 4);
	CHECK_RC(sluice_acl_change(vol, &bob, "/acl/dir", SLUICE_ACL_MODIFY, &bob_rx, 1), -EACCES);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir", SLUICE_ACL_MODIFY, &bob_rx, 1), 0);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_MODIFY, &bob_r, 1), 0);
	CHECK_RC(tu_get_text(vol, &bob, "/acl/dir/f", buf, sizeof(buf)), 0);
	CHECK_RC(write_file(vol, &bob, "/acl/dir/f", d, sizeof(d), 10, SLUICE_O_OVERWRITE), -EACCES);
	CHECK_RC(write_file(vol, &bob, "/acl/dir/g", d, sizeof(d), 10, 0), -EACCES);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, &bob, "/acl/dir/f", &st), 0);
	CHECK_RC(st.mode & 0777, 0640); /* the group bits show the mask: r, bob's entry */
	CHECK(acl_lists(vol, "/acl/dir/f", SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "bob", 4));
	CHECK(acl_lists(vol, "/acl/dir/f", SLUICE_ACL_ACCESS, SLUICE_ACL_GROUP, "", 0));
	/* chmod sets the mask: group bits 0 leave only the permission bits to decide */
	CHECK_RC(sluice_chmod(vol, &alice, "/acl/dir/f", 0600), 0);
	CHECK_RC(tu_get_text(vol, &bob, "/acl/dir/f", buf, sizeof(buf)), -EACCES);
	CHECK_RC(sluice_chmod(vol, &alice, "/acl/dir/f", 0640), 0);
	CHECK_RC(tu_get_text(vol, &bob, "/acl/dir/f", buf, sizeof(buf)), 0);
	/* a mask given explicitly holds even over a named entry's rights */
	sluice_acl_entry mask0 = acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_MASK, "", 0);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_MODIFY, &mask0, 1), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/acl/dir/f", &st), 0);
	CHECK_RC(st.mode & 0777, 0600);
	/* removeAclEntries recalculates the mask; removeAcl restores the bits */
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_REMOVE_ENTRIES, &bob_r, 1),
		 0);
	uint32_t mode;
	sluice_acl_entry e[64];
	/* as HDFS: an ACL that had a mask keeps one (recalculated), so group:: stays listed */
	CHECK_RC(sluice_acl_get(vol, &alice, "/acl/dir/f", &mode, e, 64), 1);
	CHECK(e[0].type == SLUICE_ACL_GROUP && !e[0].name[0] && e[0].perm == 0);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir", SLUICE_ACL_REMOVE, NULL, 0), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/acl/dir", &st), 0);
	CHECK_RC(st.mode & 0777, 0700);
	CHECK_RC(sluice_stat_path(vol, &bob, "/acl/dir/f", &st), -EACCES);

	/* default ACLs: inherited by new files (umask not applied) and directories */
	sluice_acl_entry defs[] = {
		acl_entry(SLUICE_ACL_DEFAULT, SLUICE_ACL_USER, "bob", 7),
		acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "bob", 5),
	};
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir", SLUICE_ACL_MODIFY, defs, 2), 0);
	CHECK(acl_lists(vol, "/acl/dir", SLUICE_ACL_DEFAULT, SLUICE_ACL_USER, "bob", 7));
	CHECK(acl_lists(vol, "/acl/dir", SLUICE_ACL_DEFAULT, SLUICE_ACL_MASK, "", 7));
	sluice_file *f;
	REQUIRE(sluice_open(vol, &alice, "/acl/dir/shared", SLUICE_O_CREATE | SLUICE_O_WRITE,
			    0666, 022, &f) == 0);
	CHECK_RC(sluice_close(f), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/acl/dir/shared", &st), 0);
	CHECK_RC(st.mode & 0777, 0660); /* other: the default ACL's, copied from the access ACL */
	CHECK_RC(sluice_open(vol, &bob, "/acl/dir/shared", SLUICE_O_WRITE, 0, 0, &f), 0);
	CHECK_RC(sluice_close(f), 0);
	CHECK_RC(sluice_mkdir(vol, &alice, "/acl/dir/sub", 0755, 022), 0);
	CHECK(acl_lists(vol, "/acl/dir/sub", SLUICE_ACL_DEFAULT, SLUICE_ACL_USER, "bob", 7));
	CHECK(acl_lists(vol, "/acl/dir/sub", SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "bob", 7));
	CHECK_RC(sluice_stat_path(vol, &bob, "/acl/dir/sub", &st), 0); /* bob's r-x under mask */
	sluice_summary sum; /* READ_EXECUTE on every directory below, granted by the ACLs */
	CHECK_RC(sluice_summary_path(vol, &bob, "/acl/dir/sub", &sum), 0);
	CHECK_RC(sluice_delete(vol, &bob, "/acl/dir/sub", 1), -EACCES); /* no write in /acl/dir */
	CHECK_RC(sluice_stat_path(vol, &alice, "/acl/dir/sub", &st), 0);
	CHECK_RC(st.mode & 0777, 0750);
	CHECK_RC(write_file(vol, &bob, "/acl/dir/sub/bobs", d, sizeof(d), 10, 0), -EACCES);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir", SLUICE_ACL_REMOVE_DEFAULT, NULL, 0), 0);
	CHECK(!acl_lists(vol, "/acl/dir", SLUICE_ACL_DEFAULT, SLUICE_ACL_USER, "bob", 7));

	/* HDFS's refusals */
	sluice_acl_entry partial = acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "", 7);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_SET, &partial, 1), -EINVAL);
	CHECK(strstr(sluice_last_error(vol), "the user, group and other entries are required"));
	sluice_acl_entry deffile = acl_entry(SLUICE_ACL_DEFAULT, SLUICE_ACL_USER, "bob", 7);
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_MODIFY, &deffile, 1),
		 -EINVAL);
	CHECK(strstr(sluice_last_error(vol), "only directories may have a default ACL"));
	sluice_acl_entry full[] = {
		acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_USER, "", 6),
		acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_GROUP, "", 4),
		acl_entry(SLUICE_ACL_ACCESS, SLUICE_ACL_OTHER, "", 4),
	};
	CHECK_RC(sluice_acl_change(vol, &alice, "/acl/dir/f", SLUICE_ACL_SET, full, 3), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/acl/dir/f", &st), 0);
	CHECK_RC(st.mode & 0777, 0644);
	CHECK_RC(sluice_acl_get(vol, &alice, "/acl/dir/f", &mode, e, 64), 0); /* minimal: none */
	CHECK_RC(sluice_delete(vol, &alice, "/acl", 1), 0);
}

static int count_entry(void *arg, const struct sl_dirent_info *e)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* Entries of the volume's .trash (its hour directories). */
static size_t trash_entries(sluice_volume *vol)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	size_t n = 0;
	REQUIRE(sl_meta_readdir(m, NULL, SL_TRASH_INO, NULL, 100, count_entry, &n, &err) == 0);
	return n;
}

/* Names in directory path, in order, joined by ',' into buf. */
static const char *list_names(sluice_volume *vol, const sluice_user *u, const char *path,
			      char *buf, size_t size)
{
	sluice_dir *dir;
	buf[0] = 0;
	if (sluice_opendir(vol, u, path, &dir))
		return "(error)";
	sluice_dirent ents[16];
	size_t k = 0;
	for (int n; (n = sluice_readdir(dir, ents, 16)) > 0;)
		for (int i = 0; i < n; i++)
			k += (size_t)snprintf(buf + k, size - k, "%s%s", k ? "," : "", ents[i].name);
	sluice_closedir(dir);
	return buf;
}

static void test_snapshots(sluice_volume *vol)
{
	static uint8_t d1[300 << 10], d2[200 << 10];
	tu_fill_pattern(d1, sizeof(d1), 31);
	tu_fill_pattern(d2, sizeof(d2), 32);
	struct sl_meta *m = vol->core.meta;
	struct sl_meta_user root = {.uid = 0, .ngids = 1, .superuser = true};
	struct sl_err err = {0};
	REQUIRE(sluice_mkdirs(vol, NULL, "/snap", 0777, 0) == 0);
	REQUIRE(sluice_mkdirs(vol, &alice, "/snap/d/sub", 0755, 0) == 0);
	/* a: two slices (an append after the first close); sub/b; an xattr; a symlink */
	CHECK_RC(write_file(vol, &alice, "/snap/d/a", d1, 100 << 10, 64 << 10, 0), 0);
	CHECK_RC(write_file(vol, &alice, "/snap/d/a", d1 + (100 << 10), 200 << 10, 64 << 10,
			    SLUICE_O_APPEND), 0);
	CHECK_RC(tu_put_text(vol, &alice, "/snap/d/sub/b", "bee", 0640), 0);
	CHECK_RC(sluice_setxattr(vol, &alice, "/snap/d/a", "user.k", "v1", 2, 0), 0);
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/snap/d", &st) == 0);
	sl_ino ino;
	struct sl_attr attr;
	struct sl_removed none = {0};
	CHECK_RC(sl_meta_mknod(m, &root, st.inode, "ln", SL_TYPE_SYMLINK, 0777, 0, "a", &ino,
			       &attr, &none, &err), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/snap/d/a", &st) == 0);
	struct sl_slice *ss = NULL;
	size_t n = 0;
	REQUIRE(sl_meta_read_chunk(m, NULL, st.inode, 0, &ss, &n, &err) == 0 && n == 2);
	uint64_t first_slice = ss[0].id;
	free(ss);
	int64_t refs = 0;
	uint32_t size = 0;
	CHECK_RC(sl_meta_slice_refs(m, first_slice, &refs, &size, &err), 0);
	CHECK_RC(refs, 1);

	/* only the owner (or a superuser) takes snapshots; names are checked */
	char path[256];
	CHECK_RC(sluice_snapshot_create(vol, &bob, "/snap/d", "s1", NULL, 0), -EACCES);
	CHECK_RC(sluice_snapshot_create(vol, &alice, "/snap/d/a", "s1", NULL, 0), -ENOTDIR);
	CHECK_RC(sluice_snapshot_create(vol, &alice, "/snap/d", "x/y", NULL, 0), -EINVAL);
	CHECK_RC(sluice_snapshot_create(vol, &alice, "/snap/d", "s1", path, sizeof(path)), 0);
	CHECK(!strcmp(path, "/snap/d/.snapshot/s1"));
	CHECK_RC(sluice_snapshot_create(vol, &alice, "/snap/d", "s1", NULL, 0), -EEXIST);
	CHECK_RC(sl_meta_slice_refs(m, first_slice, &refs, &size, &err), 0);
	CHECK_RC(refs, 2); /* shared, not copied */

	/* the live tree changes; the snapshot does not */
	CHECK_RC(write_file(vol, &alice, "/snap/d/a", d2, sizeof(d2), 64 << 10,
			    SLUICE_O_OVERWRITE), 0);
	CHECK_RC(sluice_delete(vol, &alice, "/snap/d/sub/b", 0), 0);
	CHECK_RC(tu_put_text(vol, &alice, "/snap/d/new", "new", 0644), 0);
	CHECK_RC(sluice_setxattr(vol, &alice, "/snap/d/a", "user.k", "v2", 2, 0), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 10000), 0);
	CHECK_RC(sl_meta_slice_refs(m, first_slice, &refs, &size, &err), 0);
	CHECK_RC(refs, 1); /* a's old data stays for the snapshot */
	CHECK_RC(check_file(vol, &alice, "/snap/d/.snapshot/s1/a", d1, sizeof(d1), 50 << 10), 0);
	CHECK_RC(check_file(vol, &alice, "/snap/d/a", d2, sizeof(d2), 50 << 10), 0);
	char text[64];
	CHECK_RC(tu_get_text(vol, &alice, "/snap/d/.snapshot/s1/sub/b", text, sizeof(text)), 0);
	CHECK(!strcmp(text, "bee"));
	CHECK_RC(tu_get_text(vol, &bob, "/snap/d/.snapshot/s1/sub/b", text, sizeof(text)),
		 -EACCES); /* its permissions come along */
	CHECK_RC(sluice_stat_path(vol, &alice, "/snap/d/.snapshot/s1/new", &st), -ENOENT);
	CHECK_RC(sluice_getxattr(vol, &alice, "/snap/d/.snapshot/s1/a", "user.k", text,
				 sizeof(text)), 2);
	CHECK(!memcmp(text, "v1", 2));
	CHECK_RC(sluice_lstat(vol, &alice, "/snap/d/.snapshot/s1/ln", &st), 0);
	CHECK(st.type == SLUICE_SYMLINK);
	CHECK_RC(sluice_stat_path(vol, &alice, "/snap/d/.snapshot/s1/ln", &st), 0);
	CHECK(st.type == SLUICE_FILE && st.length == sizeof(d1));
	char names[256];
	CHECK(!strcmp(list_names(vol, &alice, "/snap/d/.snapshot/s1", names, sizeof(names)),
		      "a,ln,sub"));
	CHECK(!strcmp(list_names(vol, &alice, "/snap/d/.snapshot", names, sizeof(names)), "s1"));
	CHECK(!strcmp(list_names(vol, &alice, "/snap/d", names, sizeof(names)), "a,ln,new,sub"));

	/* read-only, for its owner and the superuser alike */
	sluice_file *f;
	CHECK_RC(sluice_open(vol, &alice, "/snap/d/.snapshot/s1/a", SLUICE_O_APPEND, 0, 0, &f),
		 -EPERM);
	CHECK_RC(tu_put_text(vol, &su_hdfs, "/snap/d/.snapshot/s1/x", "x", 0644), -EPERM);
	CHECK_RC(sluice_delete(vol, &su_hdfs, "/snap/d/.snapshot/s1/a", 0), -EPERM);
	CHECK_RC(sluice_delete(vol, &su_hdfs, "/snap/d/.snapshot/s1/sub", 1), -EPERM);
	CHECK_RC(sluice_delete(vol, &su_hdfs, "/snap/d/.snapshot/s1", 1), -EPERM);
	CHECK_RC(sluice_rename(vol, &su_hdfs, "/snap/d/.snapshot/s1/a", "/snap/a", 0), -EPERM);
	CHECK_RC(sluice_chmod(vol, &su_hdfs, "/snap/d/.snapshot/s1/a", 0777), -EPERM);
	CHECK_RC(sluice_truncate(vol, &su_hdfs, "/snap/d/.snapshot/s1/a", 0), -EPERM);
	CHECK_RC(sluice_snapshot_create(vol, &su_hdfs, "/snap/d/.snapshot/s1/sub", "x", NULL, 0),
		 -EPERM);
	CHECK_RC(sluice_mkdir(vol, &alice, "/snap/d/.snapshot", 0755, 0), -EINVAL); /* reserved */

	/* a directory with snapshots stays; a copy of it elsewhere is an ordinary tree */
	CHECK_RC(sluice_delete(vol, &alice, "/snap/d", 1), -EPERM);
	CHECK(strstr(sluice_last_error(vol), SLUICE_HAS_SNAPSHOTS_MSG) != NULL);
	CHECK_RC(sluice_delete(vol, &su_hdfs, "/snap", 1), -EPERM);
	CHECK_RC(sluice_stat_path(vol, NULL, "/snap/d/a", &st), 0);
	CHECK_RC(sluice_rename(vol, &alice, "/snap/d", "/snap/moved", 0), 0); /* they move along */
	CHECK_RC(check_file(vol, &alice, "/snap/moved/.snapshot/s1/a", d1, sizeof(d1), 1 << 20), 0);
	CHECK_RC(sluice_rename(vol, &alice, "/snap/moved", "/snap/d", 0), 0);

	/* rename; a default name; delete */
	CHECK_RC(sluice_snapshot_rename(vol, &bob, "/snap/d", "s1", "s2"), -EACCES);
	CHECK_RC(sluice_snapshot_rename(vol, &alice, "/snap/d", "nope", "s2"), -ENOENT);
	CHECK_RC(sluice_snapshot_rename(vol, &alice, "/snap/d", "s1", "s2"), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/snap/d/.snapshot/s1", &st), -ENOENT);
	CHECK_RC(check_file(vol, &alice, "/snap/d/.snapshot/s2/a", d1, sizeof(d1), 1 << 20), 0);
	CHECK_RC(sluice_snapshot_create(vol, &alice, "/snap/d", NULL, path, sizeof(path)), 0);
	CHECK(!strncmp(path, "/snap/d/.snapshot/s", 19) && strlen(path) == 19 + 19);
	char second[256];
	snprintf(second, sizeof(second), "%s/a", path);
	CHECK_RC(check_file(vol, &alice, second, d2, sizeof(d2), 1 << 20), 0);
	CHECK_RC(sluice_delete(vol, &alice, "/snap/d/a", 0), 0);
	CHECK_RC(sluice_snapshot_delete(vol, &bob, "/snap/d", "s2"), -EACCES);
	CHECK_RC(sluice_snapshot_delete(vol, &alice, "/snap/d", "s2"), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 10000), 0);
	CHECK_RC(sl_meta_slice_refs(m, first_slice, &refs, &size, &err), -ENOENT); /* freed */
	CHECK_RC(sluice_stat_path(vol, &alice, "/snap/d/.snapshot/s2", &st), -ENOENT);
	CHECK_RC(sluice_delete(vol, &alice, "/snap/d", 1), -EPERM); /* one left */
	CHECK_RC(sluice_snapshot_delete(vol, &alice, "/snap/d", path + 18), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/snap/d/.snapshot", &st), -ENOENT);
	CHECK_RC(sluice_delete(vol, &alice, "/snap/d", 1), 0);
	CHECK_RC(sluice_snapshot_delete(vol, &su_hdfs, "/snap", "s1"), -ENOENT);
}

static void add_meta_calls(void *arg, const char *name, uint64_t value)
{
	const char *want = ((const char **)arg)[0];
	uint64_t *sum = (uint64_t *)((const char **)arg)[1];
	if (!strcmp(name, want))
		*sum += value;
}

/* how often this handle has called the metadata operation op (sluice_stats "meta.OP.calls") */
static uint64_t meta_calls(sluice_volume *vol, const char *op)
{
	char name[64];
	uint64_t sum = 0;
	snprintf(name, sizeof(name), "meta.%s.calls", op);
	const char *arg[2] = {name, (const char *)&sum};
	sluice_stats(vol, add_meta_calls, arg);
	return sum;
}

static void test_delete(struct suite *s)
{
	sluice_volume *vol = open_vol(s, NULL, NULL);
	uint8_t *d = malloc(5u << 20);
	tu_fill_pattern(d, 5u << 20, 6);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/del", 0755, 0), 0);
	sluice_statfs fs0, fs1;
	CHECK_RC(sluice_statfs_get(vol, &fs0), 0);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/del/t/u/v", 0755, 0), 0);
	size_t before = count_chunk_objects(vol);
	for (int i = 0; i < 5; i++) {
		char p[64];
		snprintf(p, sizeof(p), i % 2 ? "/del/t/u/v/f%d" : "/del/t/u/f%d", i);
		CHECK_RC(write_file(vol, NULL, p, d, 5u << 20, 1 << 20, 0), 0);
	}
	CHECK(count_chunk_objects(vol) >= before + 10);
	CHECK_RC(sluice_delete(vol, NULL, "/del/t", 0), -ENOTEMPTY);
	CHECK_RC(sluice_delete(vol, NULL, "/del/t", 1), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/del/t", &st), -ENOENT);
	CHECK_RC(sluice_delete(vol, NULL, "/del/t", 1), -ENOENT);
	/* nothing stays behind in the trash, nor in the usage counted */
	CHECK(trash_entries(vol) == 0);
	CHECK_RC(sluice_statfs_get(vol, &fs1), 0);
	CHECK(fs1.inodes_used == fs0.inodes_used && fs1.used == fs0.used);
	CHECK_RC(sluice_stat_path(vol, NULL, "/del", &st), 0);
	/* a file goes in one metadata operation, no lookup of its type first; a directory too */
	CHECK_RC(write_file(vol, NULL, "/del/one", d, 10, 10, 0), 0);
	CHECK_RC(sluice_mkdir(vol, NULL, "/del/empty", 0755, 0), 0);
	uint64_t lookups = meta_calls(vol, "lookup"), unlinks = meta_calls(vol, "unlink");
	CHECK_RC(sluice_delete(vol, NULL, "/del/one", 0), 0);
	CHECK(meta_calls(vol, "lookup") == lookups && meta_calls(vol, "unlink") == unlinks + 1);
	CHECK_RC(sluice_delete(vol, NULL, "/del/empty", 0), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/del/one", &st), -ENOENT);
	CHECK_RC(sluice_stat_path(vol, NULL, "/del/empty", &st), -ENOENT);
	/* a file deleted while open stays readable until closed */
	CHECK_RC(write_file(vol, NULL, "/del/open", d, 100000, 100000, 0), 0);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/del/open", SLUICE_O_READ, 0, 0, &f) == 0);
	CHECK_RC(sluice_delete(vol, NULL, "/del/open", 0), 0);
	uint8_t buf[100000];
	CHECK_RC(sluice_pread(f, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(!memcmp(buf, d, sizeof(buf)));
	CHECK_RC(sluice_close(f), 0);
	CHECK_RC(sluice_shutdown(vol), 0); /* finishes pending deletions */
	vol = open_vol(s, NULL, NULL);
	CHECK_RC(count_chunk_objects(vol), before);
	sluice_shutdown(vol);
	free(d);
}

static void test_truncate_concat(sluice_volume *vol)
{
	uint8_t d[300000], want[900000];
	tu_fill_pattern(d, sizeof(d), 7);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/tc", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tc/t", d, sizeof(d), 65536, 0), 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/tc/t", 1000), 0);
	CHECK_RC(check_file(vol, NULL, "/tc/t", d, 1000, 4096), 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/tc/t", 5000), 0);
	memcpy(want, d, 1000);
	memset(want + 1000, 0, 4000); /* the old bytes never come back */
	CHECK_RC(check_file(vol, NULL, "/tc/t", want, 5000, 4096), 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/tc", 0), -EISDIR);
	/* past the largest file (2^57 bytes, as JuiceFS): refused, nothing changes (Hadoop callers
	 * can pass Long.MAX_VALUE; the usage arithmetic would overflow) */
	CHECK_RC(sluice_truncate(vol, NULL, "/tc/t", UINT64_MAX), -EFBIG);
	CHECK_RC(sluice_truncate(vol, NULL, "/tc/t", (uint64_t)INT64_MAX), -EFBIG);
	CHECK_RC(sluice_truncate(vol, NULL, "/tc/t", 64ULL << 51), -EFBIG);
	CHECK_RC(check_file(vol, NULL, "/tc/t", want, 5000, 4096), 0);

	/* concat: pieces of odd sizes */
	CHECK_RC(write_file(vol, NULL, "/tc/c0", d, 1234, 1234, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tc/c1", d + 1234, 100000, 30000, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/tc/c2", d + 101234, 77, 77, 0), 0);
	const char *srcs[] = {"/tc/c1", "/tc/c2"};
	CHECK_RC(sluice_concat(vol, NULL, "/tc/c0", srcs, 2), 0);
	CHECK_RC(check_file(vol, NULL, "/tc/c0", d, 101311, 50000), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/tc/c1", &st), -ENOENT);
	const char *self[] = {"/tc/c0"};
	CHECK_RC(sluice_concat(vol, NULL, "/tc/c0", self, 1), -EINVAL);
}

static void test_listing(sluice_volume *vol)
{
	CHECK_RC(sluice_mkdirs(vol, NULL, "/ls", 0755, 0), 0);
	const int n = 2345;
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/ls/f%05d", i);
		sluice_file *f;
		REQUIRE(sluice_open(vol, NULL, p, SLUICE_O_CREATE | SLUICE_O_EXCL, 0644, 0, &f) == 0);
		if (i % 100 == 0)
			sluice_write(f, p, strlen(p));
		sluice_close(f);
	}
	CHECK_RC(sluice_mkdir(vol, NULL, "/ls/zdir", 0700, 0), 0);
	sluice_dir *d;
	REQUIRE(sluice_opendir(vol, NULL, "/ls", &d) == 0);
	sluice_dirent ents[1000];
	int got = 0, r;
	char last[64] = "";
	while ((r = sluice_readdir(d, ents, 1000)) > 0) {
		for (int i = 0; i < r; i++) {
			CHECK(strcmp(ents[i].name, last) > 0);
			snprintf(last, sizeof(last), "%s", ents[i].name);
			if (i + got < n) {
				char want[64];
				snprintf(want, sizeof(want), "f%05d", i + got);
				CHECK(!strcmp(ents[i].name, want));
				CHECK(ents[i].st.type == SLUICE_FILE);
				CHECK(ents[i].st.length == ((i + got) % 100 == 0 ? strlen("/ls/f00000") : 0));
			} else {
				CHECK(!strcmp(ents[i].name, "zdir") && ents[i].st.type == SLUICE_DIR);
				CHECK(ents[i].st.mode == 0700);
			}
		}
		got += r;
	}
	CHECK_RC(r, 0);
	CHECK_RC(got, n + 1);
	sluice_closedir(d);
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(vol, NULL, "/ls", &sum), 0);
	CHECK(sum.files == (uint64_t)n && sum.directories == 2);
	CHECK(sum.length == (uint64_t)(n + 99) / 100 * strlen("/ls/f00000"));
	CHECK(sum.space == 4096 * (uint64_t)(n + 2));
	CHECK_RC(sluice_opendir(vol, NULL, "/ls/f00001", &d), -ENOTDIR);
}

static void test_permissions(struct suite *s, sluice_volume *vol)
{
	uint8_t d[10] = {0};
	CHECK_RC(sluice_mkdirs(vol, &su_hdfs, "/perm", 0777, 0), 0);
	CHECK_RC(sluice_mkdir(vol, &bob, "/perm/bob", 0700, 0), 0);
	CHECK_RC(write_file(vol, &bob, "/perm/bob/secret", d, sizeof(d), 10, 0), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, &bob, "/perm/bob/secret", &st), 0);
	CHECK(!strcmp(st.owner, "bob"));
	/* names unknown to the system map the same way in another client (the volume's registry) */
	sluice_volume *other = open_vol(s, NULL, NULL);
	sluice_stat ost;
	CHECK_RC(sluice_stat_path(other, &su_hdfs, "/perm/bob/secret", &ost), 0);
	CHECK(!strcmp(ost.owner, "bob") && ost.uid == st.uid);
	sluice_shutdown(other);
	CHECK_RC(sluice_stat_path(vol, &alice, "/perm/bob/secret", &st), -EACCES);
	CHECK_RC(write_file(vol, &alice, "/perm/bob/mine", d, sizeof(d), 10, 0), -EACCES);
	CHECK_RC(sluice_delete(vol, &alice, "/perm/bob", 1), -EACCES);
	CHECK_RC(sluice_delete(vol, &alice, "/perm/bob/none", 0), -EACCES); /* cannot even look */
	/* a name missing from a directory one may search but not write: ENOENT (Hadoop's delete
	 * answers false), an existing one: EACCES */
	CHECK_RC(sluice_mkdir(vol, &bob, "/perm/ro", 0755, 0), 0);
	CHECK_RC(write_file(vol, &bob, "/perm/ro/f", d, sizeof(d), 10, 0), 0);
	CHECK_RC(sluice_delete(vol, &alice, "/perm/ro/none", 0), -ENOENT);
	CHECK_RC(sluice_delete(vol, &alice, "/perm/ro/f", 0), -EACCES);
	CHECK_RC(sluice_stat_path(vol, &alice, "/perm/ro/f", &st), 0);
	/* a recursive delete needs rwx on every non-empty directory of the tree (as HDFS), none on
	 * empty ones; a refusal leaves the whole tree in place */
	CHECK_RC(sluice_mkdirs(vol, &alice, "/perm/at/empty", 0755, 0), 0);
	CHECK_RC(sluice_mkdir(vol, &alice, "/perm/at/full", 0755, 0), 0);
	CHECK_RC(write_file(vol, &alice, "/perm/at/full/f", d, sizeof(d), 10, 0), 0);
	CHECK_RC(sluice_chmod(vol, &alice, "/perm/at/empty", 0), 0);
	CHECK_RC(sluice_chmod(vol, &alice, "/perm/at/full", 0555), 0);
	CHECK_RC(sluice_delete(vol, &alice, "/perm/at", 1), -EACCES);
	CHECK_RC(sluice_stat_path(vol, &alice, "/perm/at/full/f", &st), 0);
	CHECK_RC(sluice_chmod(vol, &alice, "/perm/at/full", 0700), 0);
	CHECK_RC(sluice_delete(vol, &bob, "/perm/at", 1), -EACCES); /* not bob's to delete */
	CHECK_RC(sluice_delete(vol, &alice, "/perm/at", 1), 0);
	CHECK_RC(sluice_stat_path(vol, &alice, "/perm/at", &st), -ENOENT);
	CHECK_RC(sluice_chmod(vol, &alice, "/perm/bob", 0777), -EACCES);
	CHECK_RC(sluice_chown(vol, &bob, "/perm/bob", "alice", NULL), -EACCES);
	CHECK_RC(sluice_stat_path(vol, &su_hdfs, "/perm/bob/secret", &st), 0);
	CHECK_RC(sluice_stat_path(vol, &carol_super, "/perm/bob/secret", &st), 0);
	/* root is not the superuser unless configured so; the process owner (NULL) neither */
	CHECK_RC(sluice_stat_path(vol, &root_user, "/perm/bob/secret", &st), -EACCES);
	sluice_dir *dh;
	CHECK_RC(sluice_mkdir(vol, &bob, "/perm/none", 0000, 0), 0);
	CHECK_RC(sluice_opendir(vol, &root_user, "/perm/none", &dh), -EACCES);
	CHECK_RC(sluice_opendir(vol, NULL, "/perm/none", &dh), -EACCES);
	CHECK_RC(sluice_opendir(vol, &alice, "/perm/none", &dh), -EACCES);
	CHECK_RC(sluice_opendir(vol, &su_hdfs, "/perm/none", &dh), 0);
	sluice_closedir(dh);
	CHECK_RC(sluice_opendir(vol, &carol_super, "/perm/none", &dh), 0);
	sluice_closedir(dh);
	sluice_volume *rooted = open_vol(s, "superuser", "root");
	CHECK_RC(sluice_opendir(rooted, &root_user, "/perm/none", &dh), 0);
	sluice_closedir(dh);
	CHECK_RC(sluice_opendir(rooted, &su_hdfs, "/perm/none", &dh), -EACCES);
	sluice_shutdown(rooted);
	/* the owner opens it up; then alice may read but not write the 0644 file */
	CHECK_RC(sluice_chmod(vol, &bob, "/perm/bob", 0755), 0);
	CHECK_RC(check_file(vol, &alice, "/perm/bob/secret", d, sizeof(d), 10), 0);
	sluice_file *f;
	CHECK_RC(sluice_open(vol, &alice, "/perm/bob/secret", SLUICE_O_WRITE | SLUICE_O_APPEND, 0, 0, &f),
		 -EACCES);
	/* the superuser may chown; times are settable by the owner */
	CHECK_RC(sluice_chown(vol, &root_user, "/perm/bob/secret", "alice", "staff"), -EACCES);
	CHECK_RC(sluice_chown(vol, &su_hdfs, "/perm/bob/secret", "alice", "staff"), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/perm/bob/secret", &st), 0);
	CHECK(!strcmp(st.owner, "alice") && !strcmp(st.group, "staff"));
	CHECK_RC(sluice_utimes(vol, &alice, "/perm/bob/secret", 1500000000123LL, 1500000000456LL), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/perm/bob/secret", &st), 0);
	CHECK(st.mtime_ms == 1500000000123LL && st.atime_ms == 1500000000456LL);
}

static void test_xattrs(sluice_volume *vol)
{
	CHECK_RC(sluice_mkdirs(vol, NULL, "/xa", 0755, 0), 0);
	CHECK_RC(sluice_setxattr(vol, NULL, "/xa", "user.a", "hello", 5, 0), 0);
	CHECK_RC(sluice_setxattr(vol, NULL, "/xa", "user.b", "", 0, 0), 0);
	CHECK_RC(sluice_setxattr(vol, NULL, "/xa", "user.a", "x", 1, SLUICE_XATTR_CREATE), -EEXIST);
	CHECK_RC(sluice_setxattr(vol, NULL, "/xa", "user.c", "x", 1, SLUICE_XATTR_REPLACE), -ENODATA);
	char buf[64];
	CHECK_RC(sluice_getxattr(vol, NULL, "/xa", "user.a", buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_RC(sluice_getxattr(vol, NULL, "/xa", "user.a", NULL, 0), 5);
	CHECK_RC(sluice_getxattr(vol, NULL, "/xa", "user.a", buf, 2), -ERANGE);
	CHECK_RC(sluice_listxattr(vol, NULL, "/xa", buf, sizeof(buf)), 14);
	CHECK_RC(sluice_removexattr(vol, NULL, "/xa", "user.a"), 0);
	CHECK_RC(sluice_getxattr(vol, NULL, "/xa", "user.a", buf, sizeof(buf)), -ENODATA);
}

struct writer_arg {
	sluice_volume *vol;
	int id;
	int rc;
};

static void *concurrent_writer(void *p)
{
	struct writer_arg *a = p;
	size_t len = (6u << 20) + (size_t)a->id * 1000;
	uint8_t *d = malloc(len);
	tu_fill_pattern(d, len, 100 + (uint64_t)a->id);
	char path[64];
	snprintf(path, sizeof(path), "/conc/w%d", a->id);
	a->rc = write_file(a->vol, NULL, path, d, len, 100000, 0);
	if (!a->rc)
		a->rc = check_file(a->vol, NULL, path, d, len, 1 << 20);
	free(d);
	return NULL;
}

struct reader_arg {
	sluice_file *f;
	const uint8_t *want;
	size_t len;
	int id, bad;
};

static void *concurrent_reader(void *p)
{
	struct reader_arg *a = p;
	uint8_t buf[70000];
	uint64_t x = (uint64_t)a->id + 1;
	for (int i = 0; i < 200; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t off = (x >> 11) % (a->len - sizeof(buf));
		if (sluice_pread(a->f, buf, sizeof(buf), off) != (ssize_t)sizeof(buf) ||
		    memcmp(buf, a->want + off, sizeof(buf)))
			a->bad++;
	}
	return NULL;
}

static void test_concurrency(struct suite *s)
{
	/* A small memory limit: writers must wait for uploads instead of growing. */
	sluice_volume *vol = open_vol(s, "memory-size", "24M");
	CHECK_RC(sluice_mkdirs(vol, NULL, "/conc", 0755, 0), 0);
	pthread_t th[8];
	struct writer_arg wa[8];
	for (int i = 0; i < 8; i++) {
		wa[i] = (struct writer_arg){.vol = vol, .id = i};
		pthread_create(&th[i], NULL, concurrent_writer, &wa[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(wa[i].rc, 0);
	}
	/* the limit held, and it was reached: the writers really had to wait */
	CHECK(vol->core.mem.peak <= vol->core.mem.limit);
	CHECK(vol->core.mem.peak + 4 * vol->core.layout.block_size > vol->core.mem.limit);

	/* many threads reading one handle at random offsets */
	size_t len = 20u << 20;
	uint8_t *d = malloc(len);
	tu_fill_pattern(d, len, 9);
	CHECK_RC(write_file(vol, NULL, "/conc/shared", d, len, 1 << 20, 0), 0);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/conc/shared", SLUICE_O_READ, 0, 0, &f) == 0);
	struct reader_arg ra[6];
	for (int i = 0; i < 6; i++) {
		ra[i] = (struct reader_arg){.f = f, .want = d, .len = len, .id = i};
		pthread_create(&th[i], NULL, concurrent_reader, &ra[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(ra[i].bad, 0);
	}
	sluice_close(f);
	free(d);
	sluice_shutdown(vol);
}

/* Damaged objects give a clear error, never wrong data. */
static void test_corruption(sluice_volume *vol)
{
	uint8_t d[200000];
	tu_fill_pattern(d, sizeof(d), 11);
	CHECK_RC(write_file(vol, NULL, "/corrupt", d, sizeof(d), sizeof(d), 0), 0);
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/corrupt", &st) == 0);
	struct sl_slice *slices = NULL;
	size_t n = 0;
	struct sl_err err = {0};
	REQUIRE(sl_meta_read_chunk(vol->core.meta, NULL, st.inode, 0, &slices, &n, &err) == 0);
	REQUIRE(n == 1);
	char key[SL_KEY_MAX];
	sl_block_key(&vol->core.layout, slices[0].id, 0, slices[0].size, key);
	free(slices);
	if (vol->core.disk) /* the disk cache holds a good copy: this is about object storage */
		sl_diskcache_forget(vol->core.disk, key);
	/* truncated object */
	REQUIRE(sl_obj_put(vol->core.store, key, d, 1000, &err) == 0);
	sl_blockcache_drop_all(vol->core.cache);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/corrupt", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t buf[200000];
	CHECK_RC(sluice_read(f, buf, sizeof(buf)), -EIO);
	CHECK(strstr(sluice_last_error(vol), key) != NULL);
	/* missing object (reported after get-timeout, which the suite sets to 1 s) */
	REQUIRE(sl_obj_delete(vol->core.store, key, &err) == 0);
	CHECK_RC(sluice_pread(f, buf, sizeof(buf), 0), -EIO);
	CHECK(strstr(sluice_last_error(vol), "missing") != NULL);
	sluice_close(f);
}

/* A WAL-like writer (a small record and an hflush, many times) gets its slices compacted; the
 * data stays exact, replaced slices' blocks are deleted, and a reader that cached the old slice
 * list finds the data again. */
static void test_compaction(sluice_volume *vol)
{
	enum { REC = 1000, NREC = 650 };
	uint8_t *want = malloc((size_t)REC * NREC);
	tu_fill_pattern(want, (size_t)REC * NREC, 13);
	CHECK_RC(sl_vol_settle_deletions(vol, 60000), 0); /* earlier tests' objects are gone */
	size_t objects_before = count_chunk_objects(vol);
	sluice_file *w, *r = NULL;
	REQUIRE(sluice_open(vol, NULL, "/wal", SLUICE_O_CREATE | SLUICE_O_EXCL, 0644, 0, &w) == 0);
	uint8_t early[50 * REC];
	for (int i = 0; i < NREC; i++) {
		CHECK_RC(sluice_write(w, want + (size_t)i * REC, REC), REC);
		CHECK_RC(sluice_hflush(w), 0);
		if (i == 49) {
			REQUIRE(sluice_open(vol, NULL, "/wal", SLUICE_O_READ, 0, 0, &r) == 0);
			CHECK_RC(sluice_pread(r, early, sizeof(early), 0), sizeof(early));
		}
	}
	CHECK_RC(sluice_close(w), 0);
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/wal", &st) == 0);
	struct sl_slice *slices = NULL;
	size_t n = 0;
	struct sl_err err = {0};
	REQUIRE(sl_meta_read_chunk(vol->core.meta, NULL, st.inode, 0, &slices, &n, &err) == 0);
	free(slices);
	/* 650 flushes: compacted when 300 or more slices are there at a 100th commit; a compaction
	 * merges what it finds when it runs, so later commits may find fewer than 300 at the next
	 * check, and at most 300 + 100 are ever left */
	CHECK(n < 400);
	CHECK_RC(count_chunk_objects(vol), objects_before + n);
	CHECK_RC(check_file(vol, NULL, "/wal", want, (size_t)REC * NREC, 65536), 0);
	uint32_t crc = 0;
	CHECK_RC(sluice_file_checksum(vol, NULL, "/wal", UINT64_MAX, &crc), 0);
	CHECK_RC(crc, sl_crc32c(0, want, (size_t)REC * NREC));
	/* the early reader's cached view names slices that are gone */
	memset(early, 0, sizeof(early));
	CHECK_RC(sluice_pread(r, early, sizeof(early), 0), sizeof(early));
	CHECK(!memcmp(early, want, sizeof(early)));
	CHECK_RC(sluice_close(r), 0);
	free(want);
}

/* File checksums (Hadoop's COMPOSITE-CRC32C) are the CRC32C of the bytes, on every backend: full
 * blocks from the CRCs the writer recorded, short and partly overwritten ones read. */
static void test_checksums(sluice_volume *vol)
{
	size_t len = (9 << 20) + 1000, len2 = (7 << 20) + 3;
	uint8_t *d = malloc(len), *want = malloc(len2);
	tu_fill_pattern(d, len, 21);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/sums", 0755, 0), 0);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/sums/f", SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK_RC(sluice_write(f, d, 1000), 1000);
	CHECK_RC(sluice_hflush(f), 0);
	CHECK_RC(sluice_write(f, d + 1000, len - 1000), (long long)(len - 1000));
	CHECK_RC(sluice_close(f), 0);
	uint32_t crc = 0;
	for (int i = 0; i < 2; i++) { /* the second time from recorded CRCs only */
		CHECK_RC(sluice_file_checksum(vol, NULL, "/sums/f", UINT64_MAX, &crc), 0);
		CHECK_RC(crc, sl_crc32c(0, d, len));
	}
	CHECK_RC(sluice_file_checksum(vol, NULL, "/sums/f", 5 << 20, &crc), 0);
	CHECK_RC(crc, sl_crc32c(0, d, 5 << 20));
	/* a newer slice over the tail of the first full block */
	CHECK_RC(sluice_truncate(vol, NULL, "/sums/f", (5 << 20) + 3), 0);
	REQUIRE(sluice_open(vol, NULL, "/sums/f", SLUICE_O_WRITE | SLUICE_O_APPEND, 0, 022, &f) == 0);
	CHECK_RC(sluice_write(f, d, 2 << 20), 2 << 20);
	CHECK_RC(sluice_close(f), 0);
	memcpy(want, d, (5 << 20) + 3);
	memcpy(want + (5 << 20) + 3, d, 2 << 20);
	CHECK_RC(check_file(vol, NULL, "/sums/f", want, len2, 1 << 20), 0);
	CHECK_RC(sluice_file_checksum(vol, NULL, "/sums/f", UINT64_MAX, &crc), 0);
	CHECK_RC(crc, sl_crc32c(0, want, len2));
	CHECK_RC(sluice_file_checksum(vol, NULL, "/sums", UINT64_MAX, &crc), -EISDIR);
	free(d);
	free(want);
}

static void test_statfs_info(sluice_volume *vol)
{
	sluice_statfs fs;
	CHECK_RC(sluice_statfs_get(vol, &fs), 0);
	CHECK(fs.used > 0 && fs.inodes_used > 0 && fs.capacity > fs.used);
	sluice_volume_info vi;
	CHECK_RC(sluice_volume_get_info(vol, &vi), 0);
	CHECK(vi.block_size == 4u << 20 && vi.logical_block_size == 128u << 20);
	CHECK(strstr(vi.bucket, "secret") == NULL);
	sluice_block blocks[4];
	uint8_t d[10];
	CHECK_RC(write_file(vol, NULL, "/blocks", d, 10, 10, 0), 0);
	CHECK_RC(sluice_file_blocks(vol, NULL, "/blocks", 0, 100, blocks, 4), 1);
	CHECK(blocks[0].offset == 0 && blocks[0].length == 10);
}

/* Usage is counted in memory and flushed about once a second per handle; a statfs on any handle
 * of the process first flushes every handle on the volume, so it sees the others' changes. */
/* A content summary counts another client's changes the moment they are made (HDFS's is exact;
 * the directories' jfs_dir_stats, which each client writes about once a second, would lag). */
static void test_summary_across_clients(struct suite *s, sluice_volume *vol)
{
	sluice_volume *b = open_vol(s, NULL, NULL);
	CHECK_RC(sluice_mkdirs(b, NULL, "/sumx/sub", 0755, 0), 0);
	CHECK_RC(tu_put_text(b, NULL, "/sumx/a", "12345", 0644), 0);
	CHECK_RC(tu_put_text(b, NULL, "/sumx/sub/b", "123", 0644), 0);
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(vol, NULL, "/sumx", &sum), 0);
	CHECK(sum.files == 2 && sum.directories == 2 && sum.length == 8);
	CHECK_RC(sluice_delete(b, NULL, "/sumx/a", 0), 0);
	CHECK_RC(sluice_summary_path(vol, NULL, "/sumx", &sum), 0);
	CHECK(sum.files == 1 && sum.length == 3);
	CHECK_RC(sluice_shutdown(b), 0);
	CHECK_RC(sluice_delete(vol, NULL, "/sumx", 1), 0);
}

static void test_statfs_across_handles(struct suite *s, sluice_volume *vol)
{
	sluice_volume *other = open_vol(s, NULL, NULL);
	sluice_statfs a, b;
	size_t len = 1u << 20;
	uint8_t *d = calloc(1, len);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/usage", 0755, 0), 0);
	CHECK_RC(sluice_statfs_get(vol, &a), 0);
	CHECK_RC(write_file(vol, NULL, "/usage/f", d, len, len, 0), 0);
	CHECK_RC(sluice_statfs_get(other, &b), 0);
	CHECK(b.used == a.used + len && b.inodes_used == a.inodes_used + 1);
	CHECK_RC(sluice_delete(other, NULL, "/usage/f", 0), 0);
	CHECK_RC(sluice_statfs_get(vol, &b), 0);
	CHECK(b.used == a.used && b.inodes_used == a.inodes_used);
	/* a closed handle is off the list; statfs goes on working with the rest */
	CHECK_RC(write_file(other, NULL, "/usage/g", d, 4096, 4096, 0), 0);
	CHECK_RC(sluice_shutdown(other), 0);
	CHECK_RC(sluice_statfs_get(vol, &b), 0);
	CHECK(b.used == a.used + 4096);
	CHECK_RC(sluice_delete(vol, NULL, "/usage", 1), 0);
	free(d);
}

/* A file's path from its inode number, across renames, as the caller may reach it. */
static void test_inode_path(sluice_volume *vol)
{
	uint8_t d[10] = {0};
	char buf[256];
	sluice_stat st;
	CHECK_RC(sluice_inode_path(vol, NULL, 1, buf, sizeof(buf)), 1);
	CHECK(!strcmp(buf, "/"));
	CHECK_RC(write_file(vol, NULL, "/ip/a/f", d, sizeof(d), 10, SLUICE_O_MKDIRS), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/ip/a/f", &st) == 0);
	CHECK(st.mtime_ns / 1000000 == st.mtime_ms && st.mtime_ns > 0);
	uint64_t ino = st.inode;
	CHECK_RC(sluice_inode_path(vol, NULL, ino, buf, sizeof(buf)), 7);
	CHECK(!strcmp(buf, "/ip/a/f"));
	CHECK_RC(sluice_rename(vol, NULL, "/ip/a", "/ip/b", 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/ip/b/f", "/ip/b/g", 0), 0);
	CHECK_RC(sluice_inode_path(vol, NULL, ino, buf, sizeof(buf)), 7);
	CHECK(!strcmp(buf, "/ip/b/g"));
	CHECK_RC(sluice_inode_path(vol, NULL, ino, buf, 7), -ERANGE);
	REQUIRE(sluice_stat_path(vol, NULL, "/ip/b", &st) == 0);
	CHECK_RC(sluice_inode_path(vol, NULL, st.inode, buf, sizeof(buf)), 5);
	/* a name the caller could not resolve is not given away */
	CHECK_RC(sluice_chmod(vol, NULL, "/ip/b", 0700), 0);
	CHECK_RC(sluice_inode_path(vol, &alice, ino, buf, sizeof(buf)), -EACCES);
	CHECK_RC(sluice_inode_path(vol, &su_hdfs, ino, buf, sizeof(buf)), 7);
	CHECK_RC(sluice_delete(vol, NULL, "/ip/b/g", 0), 0);
	CHECK_RC(sluice_inode_path(vol, NULL, ino, buf, sizeof(buf)), -ENOENT);
	CHECK_RC(sluice_inode_path(vol, NULL, 1u << 30, buf, sizeof(buf)), -ENOENT);
	/* a directory deleted recursively passes through the trash: no name there either */
	CHECK_RC(write_file(vol, NULL, "/ip/b/t/x", d, sizeof(d), 10, SLUICE_O_MKDIRS), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/ip/b/t/x", &st) == 0);
	CHECK_RC(sluice_delete(vol, NULL, "/ip", 1), 0);
	CHECK_RC(sluice_inode_path(vol, NULL, st.inode, buf, sizeof(buf)), -ENOENT);
}

static void test_symlink(sluice_volume *vol)
{
	/* Symlinks are created by POSIX clients (juicefs mount); Sluice reads them. */
	struct sl_meta *m = vol->core.meta;
	struct sl_meta_user root = {.uid = 0, .ngids = 1, .superuser = true};
	struct sl_err err = {0};
	uint8_t d[321];
	tu_fill_pattern(d, sizeof(d), 12);
	CHECK_RC(sluice_mkdirs(vol, NULL, "/sym/real", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/sym/real/target", d, sizeof(d), 100, 0), 0);
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/sym", &st) == 0);
	sl_ino ino;
	struct sl_attr attr;
	struct sl_removed none = {0};
	CHECK_RC(sl_meta_mknod(m, &root, st.inode, "link", SL_TYPE_SYMLINK, 0777, 0, "real/target",
			       &ino, &attr, &none, &err), 0);
	char buf[256];
	CHECK_RC(sluice_readlink(vol, NULL, "/sym/link", buf, sizeof(buf)), 11);
	CHECK(!strcmp(buf, "real/target"));
	CHECK_RC(sluice_lstat(vol, NULL, "/sym/link", &st), 0);
	CHECK(st.type == SLUICE_SYMLINK);
	CHECK_RC(sluice_stat_path(vol, NULL, "/sym/link", &st), 0);
	CHECK(st.type == SLUICE_FILE && st.length == sizeof(d));
	CHECK_RC(check_file(vol, NULL, "/sym/link", d, sizeof(d), 100), 0);
}

static void test_refuse_unsupported(struct suite *s)
{
	sluice_volume *vol = open_vol(s, NULL, NULL);
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	char *json = NULL;
	REQUIRE(sl_meta_load_format(m, &json, &err) == 0);
	/* add a feature Sluice lacks to the record: Ranger authorization */
	char *patched = malloc(strlen(json) + 64);
	char *brace = strrchr(json, '}');
	REQUIRE(brace != NULL);
	*brace = 0;
	sprintf(patched, "%s,\"RangerRestUrl\":\"http://ranger\"}", json);
	struct sl_attr root = {.type = SL_TYPE_DIR, .mode = 0777, .nlink = 2};
	*brace = '}';
	REQUIRE(sl_meta_format(m, patched, &root, true, &err) == 0);
	sluice_shutdown(vol);
	sluice_volume *v2 = NULL;
	char msg[512];
	CHECK_RC(sluice_init(s->conf, s->nconf, &v2, msg, sizeof(msg)), -ENOTSUP);
	CHECK(strstr(msg, "Ranger") != NULL);
	/* put the original back */
	vol = NULL;
	struct sl_logger lg = {.level = SL_LOG_WARN};
	struct sl_meta *m2;
	REQUIRE(sl_meta_open(s->meta_url, NULL, &lg, &m2, &err) == 0);
	REQUIRE(sl_meta_format(m2, json, &root, true, &err) == 0);
	sl_meta_close(m2);
	free(patched);
	free(json);
	vol = open_vol(s, NULL, NULL);
	sluice_shutdown(vol);
}

struct wal_writer {
	sluice_file *f;
	const uint8_t *d;
	size_t acked; /* bytes whose hflush returned 0 (atomic) */
	int rc;       /* the first failure (atomic) */
};

/* An HBase WAL: a record and an hflush, until one fails. */
static void *wal_writer_run(void *p)
{
	struct wal_writer *a = p;
	for (size_t off = 0; off + 100 <= 200000; off += 100) {
		ssize_t n = sluice_write(a->f, a->d + off, 100);
		int rc = n < 0 ? (int)n : sluice_hflush(a->f);
		if (rc) {
			__atomic_store_n(&a->rc, rc, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&a->acked, off + 100, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Writer leases (HDFS semantics, what HBase's WAL recovery needs): recoverLease fences the old
 * writer inside its next commit; isFileClosed; a dead writer's lease is free; leases=false. */
static void test_leases(struct suite *s, sluice_volume *a)
{
	static uint8_t d[3000];
	tu_fill_pattern(d, sizeof(d), 77);
	sluice_volume *b = open_vol(s, NULL, NULL);
	CHECK_RC(sluice_mkdirs(a, NULL, "/lease", 0777, 0), 0);

	/* A writes and hflushes twice; B cannot write beside it, then recovers the lease. The
	 * file is under A's lease from its create on, taken in the create's transaction where the
	 * backend can (no lease_acquire of its own; through a gateway too) */
	sluice_file *fa, *fb;
	struct sl_meta_op_stats acq0, acq1;
	sl_meta_op_stats(a->core.meta, SL_META_OP_LEASE_ACQUIRE, &acq0);
	REQUIRE(sluice_open(a, NULL, "/lease/wal", SLUICE_O_CREATE, 0644, 0, &fa) == 0);
	sl_meta_op_stats(a->core.meta, SL_META_OP_LEASE_ACQUIRE, &acq1);
	CHECK(acq1.calls - acq0.calls ==
	      (sl_meta_supports(a->core.meta, SL_META_OP_MKNOD_LEASED) ? 0u : 1u));
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/wal"), 0);
	CHECK_RC(sluice_open(b, NULL, "/lease/wal", SLUICE_O_APPEND, 0, 0, &fb), -ETXTBSY);
	CHECK_RC(sluice_write(fa, d, 600), 600);
	CHECK_RC(sluice_hflush(fa), 0);
	CHECK_RC(sluice_write(fa, d + 600, 400), 400);
	CHECK_RC(sluice_hflush(fa), 0);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/wal"), 0);
	CHECK_RC(sluice_open(b, NULL, "/lease/wal", SLUICE_O_APPEND, 0, 0, &fb), -ETXTBSY);
	CHECK(strstr(sluice_last_error(b), "being written") != NULL);
	CHECK_RC(sluice_open(a, NULL, "/lease/wal", SLUICE_O_APPEND, 0, 0, &fb), -ETXTBSY);
	CHECK_RC(sluice_recover_lease(b, NULL, "/lease/wal"), 1);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/wal"), 1);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/wal"), 1);

	/* a written file's close ends its lease in its last commit where the backend can: no
	 * lease_release call of its own; closed at once, and another writer may append */
	{
		sluice_file *fc;
		struct sl_meta_op_stats rel0, rel1;
		REQUIRE(sluice_open(a, NULL, "/lease/closed", SLUICE_O_CREATE, 0644, 0, &fc) == 0);
		CHECK_RC(sluice_write(fc, d, 700), 700);
		sl_meta_op_stats(a->core.meta, SL_META_OP_LEASE_RELEASE, &rel0);
		CHECK_RC(sluice_close(fc), 0);
		sl_meta_op_stats(a->core.meta, SL_META_OP_LEASE_RELEASE, &rel1);
		CHECK(rel1.calls - rel0.calls ==
		      (sl_meta_caps(a->core.meta) & SL_META_CAP_COMMIT_ENDS_LEASE ? 0u : 1u));
		CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/closed"), 1);
		REQUIRE(sluice_open(b, NULL, "/lease/closed", SLUICE_O_APPEND, 0, 0, &fc) == 0);
		CHECK_RC(sluice_write(fc, d + 700, 300), 300);
		CHECK_RC(sluice_close(fc), 0);
		uint8_t back[1001];
		REQUIRE(sluice_open(b, NULL, "/lease/closed", SLUICE_O_READ, 0, 0, &fc) == 0);
		CHECK_RC(sluice_pread(fc, back, sizeof(back), 0), 1000);
		CHECK(!memcmp(back, d, 1000));
		CHECK_RC(sluice_close(fc), 0);
	}

	/* the fenced writer's commits fail in their transaction: slices and compaction alike */
	struct sl_meta *m = a->core.meta;
	struct sl_err err = {0};
	struct sl_slice *ss = NULL;
	size_t n = 0;
	CHECK_RC(sl_meta_read_chunk(m, NULL, fa->ino, 0, &ss, &n, &err), 0);
	CHECK(n == 2);
	uint64_t id = 0;
	CHECK_RC(sl_meta_next_slice_id(m, &id, &err), 0);
	struct sl_slice merged = {.pos = 0, .id = id, .size = 1000, .off = 0, .len = 1000};
	if (n == 2)
		CHECK_RC(sl_meta_compact_chunk(m, NULL, &fa->lease, fa->ino, 0, ss, n, 0, &merged,
					       NULL, NULL, &err), -ENOLCK);
	free(ss);
	struct sl_attr attr;
	CHECK_RC(sl_meta_write_chunk(m, NULL, &fa->lease, fa->ino, 0, &merged, 0, &attr, &err),
		 -ENOLCK);
	CHECK(strstr(err.msg, "recovered") != NULL);
	CHECK_RC(sluice_write(fa, d + 1000, 500), 500); /* buffered: fails at the commit */
	CHECK_RC(sluice_hflush(fa), -ENOLCK);
	CHECK(strstr(sluice_last_error(a), "lease") != NULL);
	CHECK(strstr(sluice_last_error(a), "recovered") != NULL);
	CHECK_RC(sluice_hsync(fa), -ENOLCK);
	CHECK_RC(sluice_close(fa), -ENOLCK);

	/* B reads exactly what A hflushed before the recovery, then appends as the new writer */
	sluice_stat st;
	CHECK_RC(sluice_stat_path(b, NULL, "/lease/wal", &st), 0);
	CHECK(st.length == 1000);
	CHECK_RC(check_file(b, NULL, "/lease/wal", d, 1000, 333), 0);
	REQUIRE(sluice_open(b, NULL, "/lease/wal", SLUICE_O_APPEND, 0, 0, &fb) == 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/wal"), 0);
	CHECK_RC(sluice_write(fb, d + 1000, 1000), 1000);
	CHECK_RC(sluice_close(fb), 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/wal"), 1);
	CHECK_RC(check_file(a, NULL, "/lease/wal", d, 2000, 700), 0);

	/* recovery in the middle of a stream of hflushes: the file holds exactly what the writer
	 * was told is flushed (the check runs inside the commit, not before it) */
	static uint8_t w[200000];
	tu_fill_pattern(w, sizeof(w), 78);
	struct wal_writer ww = {.d = w};
	REQUIRE(sluice_open(a, NULL, "/lease/busy", SLUICE_O_CREATE, 0644, 0, &ww.f) == 0);
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, wal_writer_run, &ww) == 0);
	while (__atomic_load_n(&ww.acked, __ATOMIC_ACQUIRE) < 1000 &&
	       !__atomic_load_n(&ww.rc, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK_RC(sluice_recover_lease(b, NULL, "/lease/busy"), 1);
	pthread_join(th, NULL);
	CHECK_RC(ww.rc, -ENOLCK);
	CHECK(ww.acked > 0);
	CHECK_RC(sluice_close(ww.f), -ENOLCK);
	CHECK_RC(sluice_stat_path(b, NULL, "/lease/busy", &st), 0);
	CHECK(st.length == ww.acked);
	CHECK_RC(check_file(b, NULL, "/lease/busy", w, ww.acked, 4096), 0);

	/* a fenced stream with nothing left to commit still fails its close, as in HDFS */
	REQUIRE(sluice_open(a, NULL, "/lease/idle", SLUICE_O_CREATE, 0644, 0, &fa) == 0);
	CHECK_RC(sluice_write(fa, d, 100), 100);
	CHECK_RC(sluice_hflush(fa), 0);
	CHECK_RC(sluice_recover_lease(b, NULL, "/lease/idle"), 1);
	CHECK_RC(sluice_close(fa), -ENOLCK);
	CHECK_RC(check_file(b, NULL, "/lease/idle", d, 100, 100), 0);
	/* a closed file: closed, and recovering it is a no-op */
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/idle"), 1);
	CHECK_RC(sluice_recover_lease(b, NULL, "/lease/idle"), 1);
	CHECK_RC(sluice_recover_lease(b, NULL, "/lease/none"), -ENOENT);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease"), -EISDIR);
	/* recovery needs write permission on the file, as in HDFS */
	CHECK_RC(write_file(a, &alice, "/lease/alices", d, 10, 10, 0), 0);
	CHECK_RC(sluice_recover_lease(b, &bob, "/lease/alices"), -EACCES);
	CHECK_RC(sluice_is_file_closed(b, &bob, "/lease/alices"), 1);

	/* a writer whose process died (its session expired): its file stays open (isFileClosed
	 * false, as HDFS's until recovery), but the next writer takes the lease over, and the
	 * dead one (were it only paused) is fenced */
	sluice_volume *c = open_vol(s, "heartbeat", "600");
	REQUIRE(sluice_open(c, NULL, "/lease/dead", SLUICE_O_CREATE, 0644, 0, &fa) == 0);
	CHECK_RC(sluice_write(fa, d, 700), 700);
	CHECK_RC(sluice_hsync(fa), 0);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/dead"), 0);
	CHECK_RC(sl_meta_refresh_session(c->core.meta, c->core.meta->sid, 1, &err), 0);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/lease/dead"), 0);
	REQUIRE(sluice_open(b, NULL, "/lease/dead", SLUICE_O_APPEND, 0, 0, &fb) == 0);
	CHECK_RC(sluice_write(fa, d + 700, 50), 50);
	CHECK_RC(sluice_hflush(fa), -ENOLCK);
	CHECK_RC(sluice_write(fb, d + 700, 300), 300);
	CHECK_RC(sluice_close(fb), 0);
	CHECK_RC(sluice_close(fa), -ENOLCK);
	sluice_shutdown(c);
	CHECK_RC(check_file(a, NULL, "/lease/dead", d, 1000, 1000), 0);

	/* HDFS's hard limit: the sweep closes the files of writers whose session expired longer
	 * ago, and forgets the leases of files that are gone; live writers keep theirs */
	sluice_file *fc;
	c = open_vol(s, "heartbeat", "600");
	REQUIRE(sluice_open(c, NULL, "/lease/hard", SLUICE_O_CREATE, 0644, 0, &fc) == 0);
	REQUIRE(sluice_open(b, NULL, "/lease/alive", SLUICE_O_CREATE, 0644, 0, &fb) == 0);
	CHECK_RC(sluice_write(fc, d, 10), 10);
	CHECK_RC(sluice_hflush(fc), 0);
	CHECK_RC(sl_meta_refresh_session(c->core.meta, c->core.meta->sid,
					 time(NULL) - 100, &err), 0);
	uint64_t ended = 99;
	CHECK_RC(sl_meta_lease_sweep(m, 3600, &ended, &err), 0);
	CHECK(ended == 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/hard"), 0);
	CHECK_RC(sl_meta_lease_sweep(m, 50, &ended, &err), 0);
	CHECK(ended == 1);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/hard"), 1);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/alive"), 0);
	CHECK_RC(sluice_write(fc, d, 10), 10);
	CHECK_RC(sluice_hflush(fc), -ENOLCK);
	CHECK_RC(sluice_close(fc), -ENOLCK);
	sluice_shutdown(c);

	/* HDFS refuses truncate and concat on a file under construction: a live writer's lease
	 * holds them off, a dead writer's is taken over (and that writer fenced) */
	CHECK_RC(write_file(a, NULL, "/lease/src", d, 100, 100, 0), 0);
	CHECK_RC(sluice_write(fb, d, 100), 100);
	CHECK_RC(sluice_hflush(fb), 0);
	CHECK_RC(sluice_truncate(a, NULL, "/lease/alive", 10), -ETXTBSY);
	CHECK(strstr(sluice_last_error(a), "open for writing") != NULL);
	const char *srcs[] = {"/lease/src"};
	CHECK_RC(sluice_concat(a, NULL, "/lease/alive", srcs, 1), -ETXTBSY);
	const char *alive[] = {"/lease/alive"};
	CHECK_RC(sluice_concat(a, NULL, "/lease/src", alive, 1), -ETXTBSY);
	CHECK_RC(check_file(a, NULL, "/lease/src", d, 100, 100), 0);
	CHECK_RC(sluice_close(fb), 0);
	CHECK_RC(sluice_truncate(a, NULL, "/lease/alive", 10), 0);
	c = open_vol(s, "heartbeat", "600");
	REQUIRE(sluice_open(c, NULL, "/lease/src", SLUICE_O_APPEND, 0, 0, &fc) == 0);
	CHECK_RC(sl_meta_refresh_session(c->core.meta, c->core.meta->sid, 1, &err), 0);
	CHECK_RC(sluice_concat(a, NULL, "/lease/alive", srcs, 1), 0);
	CHECK_RC(sluice_stat_path(a, NULL, "/lease/alive", &st), 0);
	CHECK(st.length == 110);
	CHECK_RC(sluice_write(fc, d, 10), 10);
	CHECK(sluice_close(fc) < 0); /* its file is gone into the target */
	CHECK_RC(sluice_stat_path(a, NULL, "/lease/alive", &st), 0);
	CHECK(st.length == 110);
	sluice_shutdown(c);

	/* a session that closes ends its leases: a client that exits with a stream still open
	 * leaves its file closed */
	c = open_vol(s, NULL, NULL);
	REQUIRE(sluice_open(c, NULL, "/lease/left-open", SLUICE_O_CREATE, 0644, 0, &fc) == 0);
	CHECK_RC(sluice_write(fc, d, 10), 10);
	CHECK_RC(sluice_hflush(fc), 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/left-open"), 0);
	CHECK_RC(sl_meta_close_session(c->core.meta, c->core.meta->sid, &err), 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/left-open"), 1);
	CHECK_RC(sluice_write(fc, d, 10), 10);
	CHECK_RC(sluice_hflush(fc), -ENOLCK);
	sluice_close(fc);
	sluice_shutdown(c);

	/* leases=false: several writers per file, as JuiceFS; nobody holds a lease */
	sluice_volume *x = open_vol(s, "leases", "false");
	sluice_volume *y = open_vol(s, "leases", "false");
	REQUIRE(sluice_open(x, NULL, "/lease/multi", SLUICE_O_CREATE, 0644, 0, &fa) == 0);
	REQUIRE(sluice_open(y, NULL, "/lease/multi", SLUICE_O_APPEND, 0, 0, &fb) == 0);
	CHECK_RC(sluice_write(fa, d, 100), 100);
	CHECK_RC(sluice_hflush(fa), 0);
	CHECK_RC(sluice_write(fb, d + 100, 100), 100);
	CHECK_RC(sluice_hflush(fb), 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/lease/multi"), 1);
	CHECK_RC(sluice_close(fa), 0);
	CHECK_RC(sluice_close(fb), 0);
	CHECK_RC(sluice_stat_path(a, NULL, "/lease/multi", &st), 0);
	CHECK(st.length == 100); /* both wrote at offset 0: the later commit won */
	sluice_shutdown(x);
	sluice_shutdown(y);
	sluice_shutdown(b);
}

static int run_suite(struct suite *s)
{
	s->fmt.enable_acl = 1;
	tu_format(&s->fmt);
	test_bad_input(s);
	sluice_volume *vol = open_vol(s, NULL, NULL);
	test_paths(vol);
	test_write_read(vol);
	test_create_modes(vol);
	test_hflush_visibility(s, vol);
	test_read_deleted_elsewhere(s, vol);
	test_leases(s, vol);
	test_rename(vol);
	test_truncate_concat(vol);
	test_listing(vol);
	test_permissions(s, vol);
	test_xattrs(vol);
	test_symlink(vol);
	test_compaction(vol);
	test_checksums(vol);
	test_statfs_info(vol);
	test_statfs_across_handles(s, vol);
	test_summary_across_clients(s, vol);
	test_inode_path(vol);
	test_trash_cleaning(vol);
	test_flags_inherited(vol);
	test_stale_sessions(vol);
	test_dir_quotas(s, vol);
	test_acls(vol);
	test_snapshots(vol);
	test_corruption(vol);
	CHECK_RC(sluice_shutdown(vol), 0);
	test_delete(s);
	test_concurrency(s);
	test_refuse_unsupported(s);
	return tu_failures;
}

#endif
