/*
 * test_vfs_cache.c - the disk block cache: CRC32C, cache files and their corruption, reads served
 * from the cache after the objects are gone (across restarts), healing, the size and free-space
 * limits, cache-full-block, several directories, and `sluice warmup`. Everything runs on SQLite +
 * file storage; the tests of the read path run again on MariaDB + S3 when make test provides them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "vfs/vfs.h"
#include "volume_testutil.h"

#define MIB (1024 * 1024)
#define BLOCK (4 * MIB)

/* ---- file system helpers ---------------------------------------------------------------- */

static uint64_t walk_bytes, walk_files;
static int count_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(sb->st_mode)) {
		walk_bytes += (uint64_t)sb->st_size;
		walk_files++;
	}
	return 0;
}

/* Files and bytes below path (0 if it does not exist). Files may vanish during the walk. */
static uint64_t du(const char *path, uint64_t *files)
{
	walk_bytes = walk_files = 0;
	nftw(path, count_cb, 32, FTW_PHYS);
	if (files)
		*files = walk_files;
	return walk_bytes;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
}

/* The cache files (not temporaries) below path, in a list the caller frees. */
static char **list_paths;
static size_t list_n;
static int list_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (flag == FTW_F && S_ISREG(sb->st_mode) && p[ftw->base] != '.') {
		list_paths = realloc(list_paths, (list_n + 1) * sizeof(char *));
		list_paths[list_n++] = strdup(p);
	}
	return 0;
}

static size_t list_files(const char *path, char ***out)
{
	list_paths = NULL;
	list_n = 0;
	nftw(path, list_cb, 32, FTW_PHYS);
	*out = list_paths;
	return list_n;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	REQUIRE(fd >= 0);
	uint8_t b;
	REQUIRE(pread(fd, &b, 1, off) == 1);
	b ^= 0x40;
	REQUIRE(pwrite(fd, &b, 1, off) == 1);
	close(fd);
}

static off_t file_len(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

/* ---- CRC32C ------------------------------------------------------------------------------ */

static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void test_crc32c(void)
{
	/* RFC 3720 B.4 and the usual check value */
	uint8_t z[32] = {0}, ff[32], inc[32], dec[32];
	for (int i = 0; i < 32; i++) {
		ff[i] = 0xff;
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	uint32_t (*fns[])(uint32_t, const void *, size_t) = {sl_crc32c, sl_crc32c_portable};
	for (int f = 0; f < 2; f++) {
		CHECK_RC(fns[f](0, "123456789", 9), 0xE3069283u);
		CHECK_RC(fns[f](0, z, 32), 0x8A9136AAu);
		CHECK_RC(fns[f](0, ff, 32), 0x62A8AB43u);
		CHECK_RC(fns[f](0, inc, 32), 0x46DD794Eu);
		CHECK_RC(fns[f](0, dec, 32), 0x113FDB5Cu);
		CHECK_RC(fns[f](0, "", 0), 0);
	}
	/* every length and alignment around the 8-byte steps, and continuation */
	size_t big = 1 << 20;
	uint8_t *buf = malloc(big + 16);
	tu_fill_pattern(buf, big + 16, 7);
	int bad = 0;
	for (size_t align = 0; align < 8; align++)
		for (size_t n = 0; n < 300; n++) {
			uint32_t want = crc_bitwise(0, buf + align, n);
			bad += sl_crc32c(0, buf + align, n) != want;
			bad += sl_crc32c_portable(0, buf + align, n) != want;
			size_t cut = n / 3;
			bad += sl_crc32c(sl_crc32c(0, buf + align, cut), buf + align + cut, n - cut) !=
			       want;
			bad += sl_crc32c_portable(sl_crc32c_portable(0, buf + align, cut),
						  buf + align + cut, n - cut) != want;
		}
	CHECK_RC(bad, 0);
	uint32_t want = crc_bitwise(0, buf + 3, big);
	CHECK_RC(sl_crc32c(0, buf + 3, big), want);
	CHECK_RC(sl_crc32c_portable(0, buf + 3, big), want);
	/* long inputs go as three streams of 21840 bytes: lengths around one and two rounds,
	 * a cache file's segment, and continuation from a CRC that is not 0 */
	static const size_t longs[] = {65519, 65520, 65521, 65536, 131039, 131040, 131041, 200000};
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		for (size_t align = 0; align < 8; align += 5) {
			size_t n = longs[i];
			want = crc_bitwise(0, buf + align, n);
			bad += sl_crc32c(0, buf + align, n) != want;
			bad += sl_crc32c(sl_crc32c(0, buf + align, 100), buf + align + 100, n - 100) !=
			       want;
		}
	CHECK_RC(bad, 0);
	free(buf);
#if defined(__x86_64__)
	printf("crc32c: hardware path %s\n", __builtin_cpu_supports("sse4.2") ? "used" : "absent");
#endif
}

/* ---- cache files ------------------------------------------------------------------------- */

static void test_cachefile(const char *dir)
{
	static const uint32_t lens[] = {0, 1, 100, 65535, 65536, 65537, 131072, 200000,
					BLOCK - 1, BLOCK};
	uint8_t *data = malloc(BLOCK), *buf = malloc(BLOCK);
	char path[PATH_MAX];
	struct sl_err err = {0};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i];
		tu_fill_pattern(data, len, len);
		snprintf(path, sizeof(path), "%s/cf/a/b/%u", dir, len);
		CHECK_RC(sl_cachefile_write(path, data, len, i % 2 == 0, &err), 0);
		uint64_t nseg = ((uint64_t)len + 65535) / 65536;
		CHECK_RC(file_len(path), len + 4 * nseg + 16);
		uint8_t *all = NULL;
		uint32_t got = 12345;
		CHECK_RC(sl_cachefile_read_all(path, &all, &got, &err), 0);
		CHECK_RC(got, len);
		CHECK(all && memcmp(all, data, len) == 0);
		free(all);
		/* ranges: segment edges, inside one segment, across several, cut at the end */
		const uint32_t offs[] = {0, 1, 65535, 65536, 65537, len / 2, len ? len - 1 : 0, len};
		const uint32_t ns[] = {1, 7, 65536, 65537, 131073, BLOCK};
		for (size_t a = 0; a < sizeof(offs) / sizeof(offs[0]); a++)
			for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
				uint32_t off = offs[a], n = ns[b];
				if (off > len)
					continue;
				uint32_t want = len - off < n ? len - off : n, blen = 0;
				memset(buf, 0xEE, want + 1 < BLOCK ? want + 1 : BLOCK);
				int64_t r = sl_cachefile_read(path, off, buf, n, &blen, &err);
				if (r != (int64_t)want || blen != len ||
				    memcmp(buf, data + off, want)) {
					fprintf(stderr, "cachefile len %u off %u n %u: got %lld (%s)\n",
						len, off, n, (long long)r, err.msg);
					tu_failures++;
				}
			}
	}
	/* nothing but the blocks is left in the directory (no temporaries) */
	uint64_t nfiles = 0;
	du(dir, &nfiles);
	CHECK_RC(nfiles, sizeof(lens) / sizeof(lens[0]));

	/* corruption: 200000 bytes = 4 segments (the last one short) */
	uint32_t len = 200000;
	tu_fill_pattern(data, len, 99);
	snprintf(path, sizeof(path), "%s/corrupt", dir);
	off_t flen = (off_t)len + 4 * 4 + 16;
	struct {
		const char *what;
		off_t at; /* byte to flip, or -1 */
		off_t truncate_to; /* or -1 */
	} cases[] = {
		{"data byte in segment 2", 2 * 65536 + 17, -1},
		{"first data byte", 0, -1},
		{"last data byte", len - 1, -1},
		{"crc byte of segment 2", len + 8 + 1, -1},
		{"crc of the crc list", flen - 2, -1},
		{"magic", flen - 16, -1},
		{"version", flen - 12, -1},
		{"length field", flen - 8, -1},
		{"truncated by one byte", -1, flen - 1},
		{"truncated to half", -1, flen / 2},
		{"truncated inside the footer", -1, 10},
		{"empty file", -1, 0},
		{"one byte too many", -1, flen + 1},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		REQUIRE(sl_cachefile_write(path, data, len, false, &err) == 0);
		if (cases[c].at >= 0)
			flip_byte(path, cases[c].at);
		if (cases[c].truncate_to >= 0)
			REQUIRE(truncate(path, cases[c].truncate_to) == 0);
		struct sl_err e1 = {0}, e2 = {0};
		uint8_t *all = NULL;
		uint32_t got = 0;
		int rc = sl_cachefile_read_all(path, &all, &got, &e1);
		/* a read of the whole block, and one of just the part around the damage */
		off_t around = cases[c].at >= 0 && cases[c].at < (off_t)len ? cases[c].at : 0;
		int64_t r = sl_cachefile_read(path, (uint32_t)around, buf, 1, NULL, &e2);
		if (rc != -EBADMSG || r != -EBADMSG || all || !strstr(e1.msg, path) ||
		    !strstr(e2.msg, path)) {
			fprintf(stderr, "corruption '%s': read_all %d (%s), read %lld (%s)\n",
				cases[c].what, rc, e1.msg, (long long)r, e2.msg);
			tu_failures++;
		}
		free(all);
	}
	/* A segment that is intact still reads: only what a read touches is checked. */
	REQUIRE(sl_cachefile_write(path, data, len, false, &err) == 0);
	flip_byte(path, 3 * 65536 + 5);
	CHECK_RC(sl_cachefile_read(path, 10, buf, 1000, NULL, &err), 1000);
	CHECK(memcmp(buf, data + 10, 1000) == 0);
	CHECK_RC(sl_cachefile_read(path, 65536 * 3 - 10, buf, 20, NULL, &err), -EBADMSG);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_RC(sl_cachefile_read(path, 0, buf, 1, NULL, &err), -ENOENT);
	uint8_t *all = NULL;
	uint32_t got;
	CHECK_RC(sl_cachefile_read_all(path, &all, &got, &err), -ENOENT);
	free(data);
	free(buf);
}

/* ---- volumes ---------------------------------------------------------------------------- */

/* Where test volumes live: SQLite + a local directory, or MariaDB + the S3 server (each volume
 * then gets a database and a bucket of its own). */
struct backend {
	const char *name;
	bool s3;
	const char *endpoint, *mysql_url, *admin, *access_key, *secret_key;
	unsigned seq; /* numbers the databases and buckets of one run */
};

struct env {
	const struct backend *b;
	char *dir; /* private: cache directories, and the SQLite file and data of file volumes */
	char url[1024], bucket[1024], chunks[1200];
	char db[64]; /* the MariaDB database, "" on SQLite */
};

static void mysql_admin(const struct backend *b, const char *sql)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s -e '%s'", b->admin, sql);
	if (system(cmd) != 0) {
		fprintf(stderr, "mysql admin: '%s' failed\n", sql);
		tu_failures++;
	}
}

static void make_volume(struct env *e, struct backend *b, const char *tag,
			const char *compression)
{
	e->b = b;
	e->dir = tu_tempdir(tag);
	e->db[0] = 0;
	e->chunks[0] = 0;
	if (b->s3) {
		unsigned seq = ++b->seq;
		char sql[128];
		snprintf(e->db, sizeof(e->db), "dcache_%d_%u", (int)getpid(), seq);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", e->db);
		mysql_admin(b, sql);
		const char *slash = strrchr(b->mysql_url, '/');
		REQUIRE(slash != NULL);
		snprintf(e->url, sizeof(e->url), "%.*s/%s", (int)(slash - b->mysql_url),
			 b->mysql_url, e->db);
		snprintf(e->bucket, sizeof(e->bucket), "%s/%s-%d-%u", b->endpoint, tag,
			 (int)getpid(), seq);
	} else {
		snprintf(e->url, sizeof(e->url), "sqlite3://%s/meta.db", e->dir);
		snprintf(e->bucket, sizeof(e->bucket), "%s/data", e->dir);
		snprintf(e->chunks, sizeof(e->chunks), "%s/testvol/chunks", e->bucket);
	}
	sluice_format_options o = {.meta_url = e->url, .name = "testvol",
				   .storage = b->s3 ? "minio" : "file", .bucket = e->bucket,
				   .access_key = b->access_key, .secret_key = b->secret_key,
				   .compression = compression, .trash_days = 0};
	char msg[512];
	int rc = sluice_format(&o, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "format (%s): %s\n", b->name, msg);
	REQUIRE(rc == 0);
	printf("== %s: %s, compression %s\n", tag, b->name, compression ? compression : "none");
}

/* Opens the volume with extra settings: pairs of key, value, ending with NULL. */
static sluice_volume *open_vol(struct env *e, ...)
{
	sluice_kv kv[16];
	size_t n = 0;
	kv[n++] = (sluice_kv){"meta", e->url};
	/* these tests count cached blocks: no put may be skipped for a busy disk (test_writers) */
	kv[n++] = (sluice_kv){"cache-writers", "0"};
	/* nor for the machine's disk being fuller than the default 10% free (CI machines are);
	 * test_free_space sets its own ratio, which wins as the later setting */
	kv[n++] = (sluice_kv){"free-space-ratio", "0"};
	va_list ap;
	va_start(ap, e);
	const char *k;
	while ((k = va_arg(ap, const char *)) && n < 16) {
		const char *v = va_arg(ap, const char *);
		kv[n++] = (sluice_kv){k, v};
	}
	va_end(ap);
	return tu_open(kv, n);
}

struct keys {
	char **v;
	size_t n;
};

static int collect_cb(void *arg, const struct sl_obj_info *info)
{
	struct keys *k = arg;
	char **v = realloc(k->v, (k->n + 1) * sizeof(char *));
	REQUIRE(v != NULL);
	k->v = v;
	REQUIRE((k->v[k->n] = strdup(info->key)) != NULL);
	k->n++;
	return 0;
}

/* Deletes the volume's objects below prefix (relative to the volume) through the object store
 * API, as an operator's lifecycle rule or another client would; returns how many there were. */
static size_t remove_objects(struct env *e, const char *prefix)
{
	sluice_volume *vol = open_vol(e, NULL);
	char full[512];
	snprintf(full, sizeof(full), "%s%s", vol->core.layout.prefix, prefix);
	struct keys k = {0};
	struct sl_err err = {0};
	int rc = sl_obj_list(vol->core.store, full, NULL, collect_cb, &k, &err);
	if (rc)
		fprintf(stderr, "list %s: %s\n", full, err.msg);
	CHECK_RC(rc, 0);
	for (size_t i = 0; i < k.n; i++) {
		rc = sl_obj_delete(vol->core.store, k.v[i], &err);
		if (rc)
			fprintf(stderr, "delete %s: %s\n", k.v[i], err.msg);
		CHECK_RC(rc, 0);
		free(k.v[i]);
	}
	free(k.v);
	/* nothing is left */
	struct keys left = {0};
	CHECK_RC(sl_obj_list(vol->core.store, full, NULL, collect_cb, &left, &err), 0);
	CHECK_RC(left.n, 0);
	for (size_t i = 0; i < left.n; i++)
		free(left.v[i]);
	free(left.v);
	REQUIRE(sluice_shutdown(vol) == 0);
	return k.n;
}

/* The data blocks go from object storage; returns how many objects that was on S3 (on file
 * storage the directory goes, and the count is that of its files). */
static size_t delete_chunks(struct env *e)
{
	if (e->b->s3)
		return remove_objects(e, "chunks/");
	uint64_t nfiles = 0;
	du(e->chunks, &nfiles);
	rm_rf(e->chunks);
	CHECK(du(e->chunks, NULL) == 0);
	return (size_t)nfiles;
}

/* Removes what make_volume made: the scratch directory, and the database and objects on S3. */
static void free_volume(struct env *e)
{
	if (e->b->s3) {
		remove_objects(e, "");
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP DATABASE %s", e->db);
		mysql_admin(e->b, sql);
	}
	rm_rf(e->dir);
	free(e->dir);
	e->dir = NULL;
}

static void put_file(sluice_volume *vol, const char *path, const uint8_t *data, size_t len)
{
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE | SLUICE_O_MKDIRS,
			    0644, 022, &f) == 0);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < 3 * MIB ? len - off : 3 * MIB;
		REQUIRE(sluice_write(f, data + off, n) == (ssize_t)n);
		off += n;
	}
	REQUIRE(sluice_close(f) == 0);
}

/* Sequential read in pieces of `step`, compared with want; 0 if all equal. */
static int read_seq(sluice_volume *vol, const char *path, const uint8_t *want, size_t len,
		    size_t step)
{
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f)) {
		fprintf(stderr, "open %s: %s\n", path, sluice_last_error(vol));
		return -1;
	}
	uint8_t *buf = malloc(step);
	size_t off = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = sluice_read(f, buf, step);
		if (n < 0) {
			fprintf(stderr, "read %s at %zu: %s\n", path, off, sluice_last_error(vol));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (off + (size_t)n > len || memcmp(buf, want + off, (size_t)n)) {
			fprintf(stderr, "%s differs at %zu\n", path, off);
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	if (!rc && off != len) {
		fprintf(stderr, "%s: %zu bytes, expected %zu\n", path, off, len);
		rc = -1;
	}
	free(buf);
	sluice_close(f);
	return rc;
}

/* Small positional reads at the given offsets; 0 if all equal. */
static int read_random(sluice_volume *vol, const char *path, const uint8_t *want,
		       const uint64_t *offs, size_t n, size_t len)
{
	sluice_file *f;
	if (sluice_open(vol, NULL, path, SLUICE_O_READ, 0, 0, &f))
		return -1;
	uint8_t buf[8192];
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		ssize_t r = sluice_pread(f, buf, len, offs[i]);
		if (r != (ssize_t)len || memcmp(buf, want + offs[i], len)) {
			fprintf(stderr, "pread %s at %" PRIu64 ": %zd (%s)\n", path, offs[i], r,
				r < 0 ? sluice_last_error(vol) : "content differs");
			rc = -1;
		}
	}
	sluice_close(f);
	return rc;
}

static uint64_t gets(sluice_volume *vol)
{
	return atomic_load(&vol->core.store->stats.gets);
}

/* ---- the read path ------------------------------------------------------------------------ */

/* Cached blocks serve reads after the objects are gone, from a new handle (a restart). */
static void test_survives_restart(struct backend *b, const char *compression)
{
	struct env e;
	make_volume(&e, b, "dc-restart", compression);
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 10 * MIB + 12345;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 1);
	uint8_t small[3000];
	tu_fill_pattern(small, sizeof(small), 2);

	sluice_volume *vol = open_vol(&e, "cache-dir", cache, NULL);
	put_file(vol, "/d/big", data, len);
	put_file(vol, "/d/small", small, sizeof(small));
	CHECK_RC(read_seq(vol, "/d/big", data, len, 1 * MIB), 0);
	CHECK_RC(read_seq(vol, "/d/small", small, sizeof(small), 4096), 0);
	CHECK(vol->core.disk != NULL);
	CHECK_RC(sl_diskcache_nroots(vol->core.disk), 1);
	CHECK(strstr(sl_diskcache_root_at(vol->core.disk, 0), "/cache/") != NULL);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t nfiles = 0;
	du(cache, &nfiles);
	CHECK_RC(nfiles, 4); /* 3 blocks of big, 1 of small */

	/* the objects go; a new handle on the same cache directory still reads everything */
	CHECK(delete_chunks(&e) >= 4);
	vol = open_vol(&e, "cache-dir", cache, NULL);
	CHECK_RC(read_seq(vol, "/d/big", data, len, 1 * MIB), 0);
	CHECK_RC(read_seq(vol, "/d/big", data, len, 100000), 0);
	CHECK_RC(read_seq(vol, "/d/small", small, sizeof(small), 4096), 0);
	uint64_t offs[] = {5 * MIB + 3, 123, 9 * MIB + 77, 4 * MIB - 10, len - 4096};
	CHECK_RC(read_random(vol, "/d/big", data, offs, 5, 4096), 0);
	CHECK_RC(gets(vol), 0); /* not one object was fetched */
	/* the blocks were read from their files into the callers' buffers, readahead included:
	 * none was loaded into memory */
	CHECK_RC(vol->core.mem.peak, 0);
	CHECK_RC(atomic_load(&vol->core.reads.memory), 0);
	CHECK(atomic_load(&vol->core.reads.disk) >= 3);
	REQUIRE(sluice_shutdown(vol) == 0);

	/* without the cache the data is gone: proves the reads above came from the cache */
	vol = open_vol(&e, "get-timeout", "0", NULL);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/d/small", SLUICE_O_READ, 0, 0, &f) == 0);
	CHECK(sluice_pread(f, small, sizeof(small), 0) < 0);
	sluice_close(f);
	sluice_shutdown(vol);
	free(data);
	free_volume(&e);
}

/* A flipped byte in a cached block is detected: the right bytes come from object storage and a
 * good file replaces the bad one. */
static void test_corruption_healed(struct backend *b, const char *compression)
{
	struct env e;
	make_volume(&e, b, "dc-heal", compression);
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 3 * BLOCK;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 3);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, NULL);
	put_file(vol, "/f", data, len);
	CHECK_RC(read_seq(vol, "/f", data, len, 8 * MIB), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	char **files;
	size_t n = list_files(cache, &files);
	REQUIRE(n == 3);

	/* sequential reads (whole blocks through the memory cache) */
	for (size_t i = 0; i < n; i++)
		flip_byte(files[i], 1000 + (off_t)i * 70000);
	uint8_t *blk;
	uint32_t blen;
	struct sl_err err = {0};
	for (size_t i = 0; i < n; i++)
		CHECK_RC(sl_cachefile_read_all(files[i], &blk, &blen, &err), -EBADMSG);
	vol = open_vol(&e, "cache-dir", cache, NULL);
	CHECK_RC(read_seq(vol, "/f", data, len, 1 * MIB), 0);
	CHECK_RC(gets(vol), 3);
	REQUIRE(sluice_shutdown(vol) == 0);
	for (size_t i = 0; i < n; i++) {
		blk = NULL;
		CHECK_RC(sl_cachefile_read_all(files[i], &blk, &blen, &err), 0);
		CHECK_RC(blen, BLOCK);
		/* which block is it? compare with all three */
		bool same = false;
		for (size_t b = 0; b < 3 && blk; b++)
			same |= !memcmp(blk, data + b * BLOCK, BLOCK);
		CHECK(same);
		free(blk);
	}

	/* small random reads: on an uncompressed volume they take the direct path (the disk cache
	 * reads just those bytes; a bad one is fetched with a range GET); on lz4 there is no direct
	 * path and they load the whole block through the memory cache, as above */
	flip_byte(files[0], 5);
	vol = open_vol(&e, "cache-dir", cache, NULL);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/f", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t buf[4096];
	int ok = 0;
	for (size_t b = 0; b < 3; b++) {
		uint64_t off = b * BLOCK + 1; /* covers byte 5 of each block */
		ssize_t r = sluice_pread(f, buf, 100, off);
		ok += r == 100 && !memcmp(buf, data + off, 100);
	}
	CHECK_RC(ok, 3);
	sluice_close(f);
	REQUIRE(sluice_shutdown(vol) == 0);
	for (size_t i = 0; i < n; i++) {
		blk = NULL;
		CHECK_RC(sl_cachefile_read_all(files[i], &blk, &blen, &err), 0);
		free(blk);
	}
	free_list(files, n);
	free(data);
	free_volume(&e);
}

/* cache-size 8M, 4 MiB blocks, 48 MiB read: the files never exceed 8 MiB. A 4 MiB block takes
 * 4 MiB + 272 bytes on disk (checksums, footer), so one block fits, two do not. */
static void test_limit(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-limit", "none");
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 48 * MIB;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 4);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, "cache-size", "8M", NULL);
	put_file(vol, "/big", data, len);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/big", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t *buf = malloc(4 * MIB);
	uint64_t peak = 0;
	int bad = 0;
	for (size_t off = 0; off < len; off += 4 * MIB) {
		ssize_t n = sluice_read(f, buf, 4 * MIB);
		bad += n != 4 * MIB || memcmp(buf, data + off, 4 * MIB);
		uint64_t now = du(cache, NULL);
		peak = now > peak ? now : peak;
	}
	CHECK_RC(bad, 0);
	sluice_close(f);
	/* random reads of every block too (they cache through their own path) */
	uint64_t offs[12];
	for (int i = 0; i < 12; i++)
		offs[i] = (uint64_t)(11 - i) * BLOCK + 1000;
	CHECK_RC(read_random(vol, "/big", data, offs, 12, 4096), 0);
	uint64_t bytes, blocks, limit;
	sl_diskcache_usage(vol->core.disk, &bytes, &blocks, &limit);
	CHECK(bytes <= 8 * MIB);
	CHECK_RC(limit, 8 * MIB);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t nfiles = 0, total = du(cache, &nfiles);
	printf("limit: peak %" PRIu64 " bytes during the read, %" PRIu64 " in %" PRIu64
	       " files at the end\n", peak, total, nfiles);
	CHECK(peak <= 8 * MIB);
	CHECK(total <= 8 * MIB);
	CHECK(total > 0);

	/* a smaller limit at the next start trims what is there */
	vol = open_vol(&e, "cache-dir", cache, "cache-size", "1M", NULL);
	sluice_shutdown(vol);
	CHECK_RC(du(cache, NULL), 0);
	free(buf);
	free(data);
	free_volume(&e);
}

/* cache-full-block=false: blocks read sequentially are not cached, small random reads are. */
static void test_full_block_false(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-fullblock", "none");
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 4 * BLOCK;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 5);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, "cache-full-block", "false", NULL);
	put_file(vol, "/f", data, len);
	CHECK_RC(read_seq(vol, "/f", data, len, 1 * MIB), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t nfiles = 99;
	du(cache, &nfiles);
	CHECK_RC(nfiles, 0);

	vol = open_vol(&e, "cache-dir", cache, "cache-full-block", "false", NULL);
	uint64_t offs[] = {BLOCK + 100, 3 * BLOCK + 5000, BLOCK + 3 * MIB};
	CHECK_RC(read_random(vol, "/f", data, offs, 3, 4096), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	du(cache, &nfiles);
	CHECK_RC(nfiles, 2); /* blocks 1 and 3 */

	/* they serve random reads without object storage */
	CHECK(delete_chunks(&e) >= 4);
	vol = open_vol(&e, "cache-dir", cache, "cache-full-block", "false", NULL);
	uint64_t offs2[] = {BLOCK + 7, 3 * BLOCK + 100000, BLOCK + 2 * MIB, 4 * BLOCK - 4096};
	CHECK_RC(read_random(vol, "/f", data, offs2, 4, 4096), 0);
	CHECK_RC(gets(vol), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	free(data);
	free_volume(&e);
}

/* Several directories share the blocks; a duplicate or unusable one is skipped. */
static void test_dirs(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-dirs", "lz4");
	char c1[1200], c2[1200], plain[1200], bad[1300], spec[4096];
	snprintf(c1, sizeof(c1), "%s/c1", e.dir);
	snprintf(c2, sizeof(c2), "%s/c2", e.dir);
	snprintf(plain, sizeof(plain), "%s/plain", e.dir);
	FILE *fp = fopen(plain, "w");
	REQUIRE(fp != NULL);
	fclose(fp);
	snprintf(bad, sizeof(bad), "%s/sub", plain); /* below a regular file */
	snprintf(spec, sizeof(spec), "%s:%s::%s:%s/", c1, bad, c2, c1);
	size_t len = 48 * MIB;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 6);
	sluice_volume *vol = open_vol(&e, "cache-dir", spec, NULL);
	CHECK_RC(sl_diskcache_nroots(vol->core.disk), 2);
	put_file(vol, "/f", data, len);
	CHECK_RC(read_seq(vol, "/f", data, len, 8 * MIB), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t n1 = 0, n2 = 0;
	du(c1, &n1);
	du(c2, &n2);
	printf("dirs: %" PRIu64 " + %" PRIu64 " blocks\n", n1, n2);
	CHECK(n1 > 0 && n2 > 0);
	CHECK_RC(n1 + n2, 12);

	CHECK(delete_chunks(&e) >= 12);
	vol = open_vol(&e, "cache-dir", spec, NULL);
	CHECK_RC(read_seq(vol, "/f", data, len, 1 * MIB), 0);
	CHECK_RC(gets(vol), 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	/* no usable directory: no disk cache, and the volume still works */
	vol = open_vol(&e, "cache-dir", bad, NULL);
	CHECK(vol->core.disk == NULL);
	sluice_shutdown(vol);
	free(data);
	free_volume(&e);
}

/* The index is rebuilt at start; leftovers of unfinished writes go; adopt and forget. */
static void test_index(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-index", "none");
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, NULL);
	struct sl_diskcache *dc = vol->core.disk;
	REQUIRE(dc != NULL);
	const char *key = "testvol/chunks/0/0/777_0_5000";
	uint8_t block[5000], buf[5000];
	tu_fill_pattern(block, sizeof(block), 8);
	struct sl_err err = {0};

	/* adopt: a finished file under the key's root moves in */
	char staged[PATH_MAX], raw[PATH_MAX], tmp_old[PATH_MAX], tmp_new[PATH_MAX];
	snprintf(staged, sizeof(staged), "%s/rawstaging/me/%s", sl_diskcache_root(dc, key), key);
	snprintf(raw, sizeof(raw), "%s/raw/%s", sl_diskcache_root(dc, key), key);
	REQUIRE(sl_cachefile_write(staged, block, sizeof(block), true, &err) == 0);
	sl_diskcache_adopt(dc, key, staged);
	CHECK(access(staged, F_OK) != 0);
	CHECK(access(raw, F_OK) == 0);
	CHECK_RC(sl_diskcache_read(dc, key, 100, buf, 200, &err), 200);
	CHECK(memcmp(buf, block + 100, 200) == 0);
	uint64_t bytes, blocks;
	sl_diskcache_usage(dc, &bytes, &blocks, NULL);
	CHECK_RC(blocks, 1);
	CHECK_RC(bytes, 5000 + 4 + 16);
	/* an adopt of a key that is cached drops the file */
	REQUIRE(sl_cachefile_write(staged, block, sizeof(block), true, &err) == 0);
	sl_diskcache_adopt(dc, key, staged);
	CHECK(access(staged, F_OK) != 0);
	/* forget */
	sl_diskcache_forget(dc, key);
	CHECK(access(raw, F_OK) != 0);
	CHECK_RC(sl_diskcache_read(dc, key, 0, buf, 10, &err), -ENOENT);
	/* puts: sequential ones only with cache-full-block (default true) */
	sl_diskcache_put(dc, key, block, sizeof(block), false);
	CHECK_RC(sl_diskcache_read(dc, key, 0, buf, sizeof(buf), &err), (int64_t)sizeof(buf));
	CHECK(memcmp(buf, block, sizeof(buf)) == 0);
	/* keys that are not object keys never become paths */
	sl_diskcache_put(dc, "../../escape", block, 10, true);
	sl_diskcache_put(dc, "/abs", block, 10, true);
	sl_diskcache_usage(dc, NULL, &blocks, NULL);
	CHECK_RC(blocks, 1);
	REQUIRE(sluice_shutdown(vol) == 0);

	/* leftovers: an old temporary goes, a fresh one (a write in progress elsewhere) stays */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", raw);
	*strrchr(dir, '/') = 0;
	snprintf(tmp_old, sizeof(tmp_old), "%s/" SL_CACHEFILE_TMP_PREFIX "x.tmp.1", dir);
	snprintf(tmp_new, sizeof(tmp_new), "%s/" SL_CACHEFILE_TMP_PREFIX "y.tmp.2", dir);
	FILE *fp = fopen(tmp_old, "w");
	fputs("partial", fp);
	fclose(fp);
	fp = fopen(tmp_new, "w");
	fclose(fp);
	struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	utimensat(AT_FDCWD, tmp_old, old, 0);
	/* a file another process put while we were not looking is found by a read */
	const char *key2 = "testvol/chunks/0/0/778_0_5000";
	vol = open_vol(&e, "cache-dir", cache, NULL);
	dc = vol->core.disk;
	CHECK(access(tmp_old, F_OK) != 0);
	CHECK(access(tmp_new, F_OK) == 0);
	sl_diskcache_usage(dc, &bytes, &blocks, NULL);
	CHECK_RC(blocks, 1); /* the block put above, found by the scan */
	CHECK_RC(sl_diskcache_read(dc, key, 4990, buf, 100, &err), 10);
	char raw2[PATH_MAX];
	snprintf(raw2, sizeof(raw2), "%s/raw/%s", sl_diskcache_root(dc, key2), key2);
	REQUIRE(sl_cachefile_write(raw2, block, sizeof(block), false, &err) == 0);
	CHECK_RC(sl_diskcache_read(dc, key2, 0, buf, 10, &err), 10);
	sl_diskcache_usage(dc, &bytes, &blocks, NULL);
	CHECK_RC(blocks, 2);
	/* a file deleted behind the cache's back is a miss, and leaves the index */
	unlink(raw2);
	CHECK_RC(sl_diskcache_read(dc, key2, 0, buf, 10, &err), -ENOENT);
	sl_diskcache_usage(dc, &bytes, &blocks, NULL);
	CHECK_RC(blocks, 1);
	REQUIRE(sluice_shutdown(vol) == 0);
	free_volume(&e);
}

/* free-space-ratio: with a ratio no real file system meets, nothing is cached and what was
 * cached goes. Bad values are refused. */
static void test_free_space(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-free", "none");
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 2 * BLOCK;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 9);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, NULL);
	put_file(vol, "/a", data, BLOCK);
	put_file(vol, "/b", data + BLOCK, BLOCK);
	CHECK_RC(read_seq(vol, "/a", data, BLOCK, MIB), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t nfiles = 0;
	du(cache, &nfiles);
	CHECK_RC(nfiles, 1);
	struct statvfs vfs;
	REQUIRE(statvfs(e.dir, &vfs) == 0);
	if ((double)vfs.f_bavail / (double)vfs.f_blocks < 0.999) {
		vol = open_vol(&e, "cache-dir", cache, "free-space-ratio", "0.999", NULL);
		CHECK_RC(read_seq(vol, "/b", data + BLOCK, BLOCK, MIB), 0);
		REQUIRE(sluice_shutdown(vol) == 0);
		du(cache, &nfiles);
		CHECK_RC(nfiles, 0);
	}
	sluice_kv bad[][2] = {
		{{"meta", e.url}, {"free-space-ratio", "1"}},
		{{"meta", e.url}, {"free-space-ratio", "-0.5"}},
		{{"meta", e.url}, {"cache-size", "lots"}},
		{{"meta", e.url}, {"cache-full-block", "maybe"}},
	};
	const char *keys[] = {"free-space-ratio", "free-space-ratio", "cache-size", "cache-full-block"};
	for (size_t i = 0; i < 4; i++) {
		sluice_kv kv[3] = {bad[i][0], bad[i][1], {"cache-dir", cache}};
		char msg[512] = "";
		vol = NULL;
		CHECK(sluice_init(kv, 3, &vol, msg, sizeof(msg)) == -EINVAL);
		CHECK(vol == NULL);
		CHECK(strstr(msg, keys[i]) != NULL);
	}
	free(data);
	free_volume(&e);
}

/* Many readers at once, small and large reads, with a cache small enough to evict all the time:
 * every byte right, and the limit holds. */
struct reader_arg {
	sluice_volume *vol;
	const uint8_t *data;
	size_t len;
	unsigned seed;
	int bad;
};

static void *reader_main(void *arg)
{
	struct reader_arg *a = arg;
	sluice_file *f;
	if (sluice_open(a->vol, NULL, "/f", SLUICE_O_READ, 0, 0, &f)) {
		a->bad++;
		return NULL;
	}
	uint8_t *buf = malloc(2 * MIB);
	for (int i = 0; i < 150; i++) {
		unsigned r = rand_r(&a->seed);
		size_t n = r % 3 == 0 ? 4096 : r % 3 == 1 ? 100 : 2 * MIB;
		uint64_t off = (uint64_t)rand_r(&a->seed) % (a->len - n);
		ssize_t got = sluice_pread(f, buf, n, off);
		a->bad += got != (ssize_t)n || memcmp(buf, a->data + off, n);
	}
	free(buf);
	sluice_close(f);
	return NULL;
}

static void test_concurrent(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-threads", "none");
	char cache[1200];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	size_t len = 8 * BLOCK + 4321;
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 14);
	sluice_volume *vol = open_vol(&e, "cache-dir", cache, "cache-size", "13M",
				      "memory-size", "16M", NULL);
	put_file(vol, "/f", data, len);
	enum { N = 6 };
	pthread_t t[N];
	struct reader_arg args[N];
	for (int i = 0; i < N; i++) {
		args[i] = (struct reader_arg){.vol = vol, .data = data, .len = len,
					      .seed = (unsigned)i + 1};
		REQUIRE(pthread_create(&t[i], NULL, reader_main, &args[i]) == 0);
	}
	int bad = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		bad += args[i].bad;
	}
	CHECK_RC(bad, 0);
	uint64_t bytes, blocks;
	sl_diskcache_usage(vol->core.disk, &bytes, &blocks, NULL);
	REQUIRE(sluice_shutdown(vol) == 0);
	uint64_t nfiles = 0, total = du(cache, &nfiles);
	printf("threads: %" PRIu64 " bytes in %" PRIu64 " files at the end\n", total, nfiles);
	CHECK(total <= 13 * MIB);
	CHECK(nfiles >= 1 && nfiles <= 3);
	free(data);
	free_volume(&e);
}

/* ---- sluice warmup ----------------------------------------------------------------------- */

static void cli_path(char *out, size_t size)
{
	const char *env = getenv("SLUICE_CLI");
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = 0;
	snprintf(out, size, "%s/bin/sluice", dirname(self)); /* the build directory's CLI */
}

/* Runs the CLI with argv (NULL-terminated), stderr into errfile; returns the exit status. */
static int run_cli(char *const argv[], const char *errfile)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool file_contains(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static void test_warmup(struct backend *be)
{
	char cli[PATH_MAX];
	cli_path(cli, sizeof(cli));
	if (access(cli, X_OK)) {
		fprintf(stderr, "warmup: the CLI %s is not built (build target sluice_cli, or set "
			"SLUICE_CLI)\n", cli);
		tu_failures++;
		return;
	}
	struct env e;
	make_volume(&e, be, "dc-warmup", "lz4");
	char cache[1200], errfile[1200], opt[1300];
	snprintf(cache, sizeof(cache), "%s/cache", e.dir);
	snprintf(errfile, sizeof(errfile), "%s/stderr", e.dir);
	snprintf(opt, sizeof(opt), "cache-dir=%s", cache);
	size_t la = 9 * MIB, lb = 5 * MIB + 123, lc = 100;
	uint8_t *a = malloc(la), *b = malloc(lb), *c = malloc(lc), *other = malloc(BLOCK);
	tu_fill_pattern(a, la, 10);
	tu_fill_pattern(b, lb, 11);
	tu_fill_pattern(c, lc, 12);
	tu_fill_pattern(other, BLOCK, 13);
	sluice_volume *vol = open_vol(&e, NULL);
	put_file(vol, "/wm/a", a, la);
	put_file(vol, "/wm/sub/b", b, lb);
	put_file(vol, "/wm/sub/deeper/c", c, lc);
	put_file(vol, "/elsewhere", other, BLOCK);
	REQUIRE(sluice_mkdirs(vol, NULL, "/wm/empty", 0755, 022) == 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	/* without a cache directory it refuses, with exit status 2 */
	char *argv0[] = {cli, "warmup", e.url, "/wm", NULL};
	CHECK_RC(run_cli(argv0, errfile), 2);
	CHECK(file_contains(errfile, "cache-dir"));

	/* as open_vol: a disk fuller than the default 10% free must not keep warmup from caching */
	char *argv1[] = {cli, "warmup", "-o", opt, "-o", "free-space-ratio=0", "-p", "2", e.url,
			 "/wm", NULL};
	CHECK_RC(run_cli(argv1, errfile), 0);
	CHECK(file_contains(errfile, "files 3/3"));
	uint64_t nfiles = 0;
	du(cache, &nfiles);
	CHECK_RC(nfiles, 3 + 2 + 1); /* a: 3 blocks, b: 2, c: 1 */

	/* a path that does not exist is reported, the rest is warmed, exit status 1 */
	char *argv2[] = {cli, "warmup", "-o", opt, "-o", "free-space-ratio=0", e.url, "/nope",
			 "/elsewhere", NULL};
	CHECK_RC(run_cli(argv2, errfile), 1);
	CHECK(file_contains(errfile, "/nope"));
	CHECK(file_contains(errfile, "files 1/1"));

	/* warmup and info act as the superuser: a directory only bob may read is warmed and shown;
	 * a file command acts as the process owner (not the superuser, even as root) and is refused */
	vol = open_vol(&e, NULL);
	const char *bob_groups[] = {"bob"};
	const sluice_user bob = {"bob", bob_groups, 1};
	sluice_file *f;
	REQUIRE(sluice_mkdirs(vol, &bob, "/bobs", 0700, 0) == 0);
	REQUIRE(sluice_open(vol, &bob, "/bobs/x", SLUICE_O_CREATE, 0600, 0, &f) == 0);
	REQUIRE(sluice_write(f, c, lc) == (ssize_t)lc);
	REQUIRE(sluice_close(f) == 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	char *argv3[] = {cli, "warmup", "-o", opt, "-o", "free-space-ratio=0", e.url, "/bobs", NULL};
	CHECK_RC(run_cli(argv3, errfile), 0);
	CHECK(file_contains(errfile, "files 1/1"));
	char *argv4[] = {cli, "info", e.url, "/bobs/x", NULL};
	CHECK_RC(run_cli(argv4, errfile), 0);
	char *argv5[] = {cli, "cat", e.url, "/bobs/x", NULL};
	CHECK_RC(run_cli(argv5, errfile), 1);
	CHECK(file_contains(errfile, "ermission denied"));

	CHECK(delete_chunks(&e) >= 7);
	vol = open_vol(&e, "cache-dir", cache, NULL);
	CHECK_RC(read_seq(vol, "/wm/a", a, la, MIB), 0);
	CHECK_RC(read_seq(vol, "/wm/sub/b", b, lb, MIB), 0);
	CHECK_RC(read_seq(vol, "/wm/sub/deeper/c", c, lc, MIB), 0);
	CHECK_RC(read_seq(vol, "/elsewhere", other, BLOCK, MIB), 0);
	CHECK_RC(gets(vol), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	free(a);
	free(b);
	free(c);
	free(other);
	free_volume(&e);
}

/* cache-writers: puts beyond the limit of files being written to a directory are skipped (a
 * reader must not wait for the cache disk); 0 writes every block. 8 threads put 64 blocks. */
struct put_arg {
	struct sl_diskcache *dc;
	int id;
	const uint8_t *block;
};

static void *put_main(void *p)
{
	struct put_arg *a = p;
	for (int i = 0; i < 8; i++) {
		char key[128];
		snprintf(key, sizeof(key), "testvol/chunks/0/0/%d_0_%u", 1000 + a->id * 8 + i, BLOCK);
		sl_diskcache_put(a->dc, key, a->block, BLOCK, false);
	}
	return NULL;
}

static void test_writers(struct backend *b)
{
	for (int limit = 0; limit <= 1; limit++) {
		struct env e;
		make_volume(&e, b, "dc-writers", "none");
		char cache[1200];
		snprintf(cache, sizeof(cache), "%s/cache", e.dir);
		sluice_volume *vol = open_vol(&e, "cache-dir", cache, "cache-writers",
					      limit ? "1" : "0", NULL);
		uint8_t *block = malloc(BLOCK);
		tu_fill_pattern(block, BLOCK, 9);
		pthread_t t[8];
		struct put_arg a[8];
		for (int i = 0; i < 8; i++) {
			a[i] = (struct put_arg){vol->core.disk, i, block};
			REQUIRE(pthread_create(&t[i], NULL, put_main, &a[i]) == 0);
		}
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		uint64_t blocks, skipped = sl_diskcache_skipped(vol->core.disk);
		sl_diskcache_usage(vol->core.disk, NULL, &blocks, NULL);
		CHECK_RC(blocks + skipped, 64);
		if (limit)
			CHECK(skipped > 0); /* 8 writers, room for one */
		else
			CHECK_RC(skipped, 0);
		free(block);
		sluice_shutdown(vol);
		free_volume(&e);
	}
}

/* log-queue: the warnings of an unusable cache dir are queued for the program to take, in order,
 * and a full queue keeps the newest lines and says how many it dropped. */
static void test_log_queue(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-log", "none");
	char plain[1200], bad[1300];
	snprintf(plain, sizeof(plain), "%s/plain", e.dir);
	FILE *fp = fopen(plain, "w");
	REQUIRE(fp != NULL);
	fclose(fp);
	snprintf(bad, sizeof(bad), "%s/sub", plain); /* below a regular file */
	int level = -1;
	char line[2048];

	sluice_volume *vol = open_vol(&e, "cache-dir", bad, "log-queue", "10", NULL);
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 1);
	CHECK_RC(level, 1);
	CHECK(strstr(line, bad) && strstr(line, "is not used"));
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 1);
	CHECK(strstr(line, "no usable directory"));
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	vol = open_vol(&e, "cache-dir", bad, "log-queue", "1", NULL);
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 1);
	CHECK(strstr(line, "1 log lines were dropped"));
	CHECK_RC(sluice_log_next(vol, &level, line, 16), 1);
	CHECK(strlen(line) == 15 && !strncmp(line, "cache-dir: no u", 15)); /* cut to the size */
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	vol = open_vol(&e, "cache-dir", bad, NULL); /* no queue: to stderr, nothing to take */
	CHECK_RC(sluice_log_next(vol, &level, line, sizeof(line)), 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	sluice_kv kv[] = {{"meta", e.url}, {"log-queue", "100001"}};
	char msg[512] = "";
	vol = NULL;
	CHECK_RC(sluice_init(kv, 2, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(vol == NULL && strstr(msg, "log-queue"));
	free_volume(&e);
}

struct counter_find {
	const char *name;
	uint64_t value;
	int found, total;
};

static void find_counter(void *arg, const char *name, uint64_t value)
{
	struct counter_find *f = arg;
	f->total++;
	if (!strcmp(name, f->name)) {
		f->value = value;
		f->found++;
	}
}

/* sluice_stats's value of one counter; -1 if it was not named exactly once. */
static int64_t counter(sluice_volume *vol, const char *name)
{
	struct counter_find f = {.name = name};
	sluice_stats(vol, find_counter, &f);
	return f.found == 1 ? (int64_t)f.value : -1;
}

/* sluice_stats: object requests, where blocks came from, metadata operations used. */
static void test_stats(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-stats", "none");
	size_t len = 5 * MIB; /* two blocks */
	uint8_t *data = malloc(len);
	tu_fill_pattern(data, len, 9);
	sluice_volume *vol = open_vol(&e, NULL);
	CHECK_RC(counter(vol, "object.puts"), 0);
	CHECK_RC(counter(vol, "meta.whoami.calls"), -1); /* never used: not listed */
	put_file(vol, "/s", data, len);
	CHECK(counter(vol, "object.puts") >= 2);
	CHECK(counter(vol, "object.put_bytes") >= (int64_t)len);
	CHECK(counter(vol, "commit.slices") >= 1);
	/* a file created for writing takes its lease in the create (mknod_leased) */
	CHECK(counter(vol, "meta.mknod_leased.calls") >= 1 || counter(vol, "meta.mknod.calls") >= 1);
	REQUIRE(sluice_shutdown(vol) == 0);

	vol = open_vol(&e, NULL); /* nothing cached: no cache dir, a new memory cache */
	CHECK_RC(read_seq(vol, "/s", data, len, 1 * MIB), 0);
	CHECK_RC(counter(vol, "block_reads.object"), 2);
	CHECK(counter(vol, "object.gets") >= 2);
	CHECK(counter(vol, "object.get_bytes") >= (int64_t)len);
	int64_t memory = counter(vol, "block_reads.memory");
	CHECK_RC(read_seq(vol, "/s", data, len, 1 * MIB), 0);
	CHECK(counter(vol, "block_reads.memory") > memory);
	CHECK_RC(counter(vol, "block_reads.object"), 2);
	CHECK(counter(vol, "meta.read_chunk.calls") >= 1);
	CHECK_RC(counter(vol, "meta.read_chunk.failures"), 0);
	CHECK(counter(vol, "meta.read_chunk.ns") > 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	free(data);
	free_volume(&e);
}

/* A long sequential read streams: the blocks it read to their end past its first 16 blocks are
 * not kept in memory (their buffers serve the next downloads); a second read finds the first 16
 * in memory and downloads the rest again (a block someone else holds when it is passed stays). */
static void test_streaming(struct backend *b)
{
	struct env e;
	make_volume(&e, b, "dc-stream", "none");
	size_t len = 20 * 4 * MIB; /* 20 blocks */
	uint8_t *data = malloc(len);
	REQUIRE(data);
	tu_fill_pattern(data, len, 5);
	sluice_volume *vol = open_vol(&e, NULL);
	put_file(vol, "/big", data, len);
	REQUIRE(sluice_shutdown(vol) == 0);

	vol = open_vol(&e, "readahead", "8M", NULL);
	CHECK_RC(read_seq(vol, "/big", data, len, 1 * MIB), 0);
	CHECK_RC(counter(vol, "block_reads.object"), 20);
	int64_t memory = counter(vol, "block_reads.memory");
	CHECK_RC(read_seq(vol, "/big", data, len, 1 * MIB), 0);
	/* the last 4 again, but for any a loading thread still held when the reader passed it */
	int64_t object = counter(vol, "block_reads.object");
	CHECK(object > 20 && object <= 24);
	CHECK(counter(vol, "block_reads.memory") >= memory + 16);
	REQUIRE(sluice_shutdown(vol) == 0);
	free(data);
	free_volume(&e);
}

int main(void)
{
	test_crc32c();
	char *dir = tu_tempdir("dc-cachefile");
	test_cachefile(dir);
	rm_rf(dir);
	free(dir);
	struct backend local = {.name = "sqlite3 + file"};
	test_survives_restart(&local, "none");
	test_survives_restart(&local, "lz4");
	test_corruption_healed(&local, "none");
	test_limit(&local);
	test_full_block_false(&local);
	test_dirs(&local);
	test_log_queue(&local);
	test_stats(&local);
	test_streaming(&local);
	test_index(&local);
	test_free_space(&local);
	test_concurrent(&local);
	test_writers(&local);
	test_warmup(&local);

	/* The read path once more on MariaDB + S3. Without the services the local results stand
	 * (no skip status, which would hide them), unless make test requires the services. */
	const char *endpoint = getenv("SLUICE_TEST_S3_ENDPOINT");
	const char *required = getenv("SLUICE_TEST_REQUIRE_SERVICES");
	if (!endpoint || !*endpoint) {
		if (required && !strcmp(required, "1")) {
			fprintf(stderr, "SLUICE_TEST_S3_ENDPOINT is not set but services are "
				"required\n");
			tu_failures++;
		} else {
			printf("MariaDB + S3 part skipped: SLUICE_TEST_S3_ENDPOINT is not set (run "
			       "through make test)\n");
		}
		return tu_finish("test_vfs_cache");
	}
	struct backend s3 = {.name = "MariaDB + S3", .s3 = true, .endpoint = endpoint,
			     .mysql_url = tu_service_env("SLUICE_TEST_MYSQL_URL"),
			     .admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN"),
			     .access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY"),
			     .secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY")};
	test_survives_restart(&s3, "lz4");
	test_survives_restart(&s3, "none");
	test_corruption_healed(&s3, "lz4");
	test_corruption_healed(&s3, "none");
	test_full_block_false(&s3);
	test_dirs(&s3);
	test_warmup(&s3);
	return tu_finish("test_vfs_cache");
}
