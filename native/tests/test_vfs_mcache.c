/*
 * test_vfs_mcache.c - the public API with the metadata cache on (SQLite + file storage): the
 * end-to-end suite must pass, since a client always sees its own changes, and the cache keys of
 * sluice_init are checked and reach the metadata layer.
 */
#include "vfs_suite.h"

/* A volume on SQLite + file storage in a new directory of its own; the suite's settings, which
 * point into the struct, open it. */
struct volume {
	char *dir;
	char url[1024], bucket[1024];
	struct suite s;
};

static void new_volume(struct volume *v, const char *tag)
{
	v->dir = tu_tempdir(tag);
	snprintf(v->url, sizeof(v->url), "sqlite3://%s/meta.db", v->dir);
	snprintf(v->bucket, sizeof(v->bucket), "%s/data", v->dir);
	v->s = (struct suite){.meta_url = v->url};
	v->s.fmt = (sluice_format_options){.meta_url = v->url, .name = "testvol", .storage = "file",
					   .bucket = v->bucket, .compression = "lz4",
					   .trash_days = -1};
	v->s.conf[v->s.nconf++] = (sluice_kv){"meta", v->url};
	v->s.conf[v->s.nconf++] = (sluice_kv){"get-timeout", "1"};
}

/* Handles opened from s later cache entries, directory entries and open files for ttl seconds,
 * and with attrs attributes too. */
static void cache_for(struct suite *s, const char *ttl, bool attrs)
{
	if (attrs)
		s->conf[s->nconf++] = (sluice_kv){"attr-cache", ttl};
	s->conf[s->nconf++] = (sluice_kv){"entry-cache", ttl};
	s->conf[s->nconf++] = (sluice_kv){"dir-entry-cache", ttl};
	s->conf[s->nconf++] = (sluice_kv){"open-cache", ttl};
}

/* Entry, directory-entry and open caches, attributes fresh: even the suite's checks of what
 * another handle sees hold, since slice lists follow the attributes. */
static void run_without_attr_cache(void)
{
	struct volume v;
	new_volume(&v, "vfs-mcache-a");
	cache_for(&v.s, "60", false);
	run_suite(&v.s);
	free(v.dir);
}

/* Everything cached for a minute: every test of one client's own view must pass. Left out:
 * test_hflush_visibility, which checks that ANOTHER handle sees new lengths at once - exactly
 * what attr-cache gives up. */
static void run_all_caches(void)
{
	struct volume v;
	new_volume(&v, "vfs-mcache-b");
	struct suite s = v.s;
	cache_for(&s, "60", true);
	tu_format(&s.fmt);
	sluice_volume *vol = open_vol(&s, NULL, NULL);
	struct sl_meta_cache_stats st;
	CHECK(sl_meta_cache_stats(vol->core.meta, &st));
	test_paths(vol);
	test_write_read(vol);
	test_create_modes(vol);
	test_rename(vol);
	test_truncate_concat(vol);
	test_listing(vol);
	test_permissions(&s, vol);
	test_xattrs(vol);
	test_symlink(vol);
	test_compaction(vol);
	test_statfs_info(vol);
	test_corruption(vol);
	CHECK(sl_meta_cache_stats(vol->core.meta, &st) && st.hits > 0);
	CHECK_RC(sluice_shutdown(vol), 0);
	test_delete(&s);
	test_concurrency(&s);
	test_refuse_unsupported(&s);
	free(v.dir);
}

/* The reader's clock, by which its metadata cache entries age: moved on instead of waiting. */
static struct sl_clock reader_clock;

static double now_s(void)
{
	return (double)sl_clock_mono_ns(&reader_clock) / 1e9;
}

/* Bad values are refused; a reader with all caches at 2 s sees a writer's appends on another
 * handle late but never wrong: no zeros in place of data. */
static void test_keys_and_staleness(void)
{
	struct volume v;
	new_volume(&v, "vfs-mcache-c");
	struct suite s = v.s;
	tu_format(&s.fmt);
	char msg[512];
	sluice_volume *bad = NULL;
	const char *bad_values[][2] = {{"attr-cache", "1.5"}, {"entry-cache", "-1"},
				       {"dir-entry-cache", "abc"}, {"open-cache", "86401"}};
	for (size_t i = 0; i < 4; i++) {
		sluice_kv conf[8];
		memcpy(conf, s.conf, s.nconf * sizeof(conf[0]));
		conf[s.nconf] = (sluice_kv){bad_values[i][0], bad_values[i][1]};
		msg[0] = 0;
		CHECK_RC(sluice_init(conf, s.nconf + 1, &bad, msg, sizeof(msg)), -EINVAL);
		CHECK(strstr(msg, bad_values[i][0]) != NULL);
	}
	sluice_volume *w = open_vol(&s, NULL, NULL);
	CHECK(!sl_meta_cache_stats(w->core.meta, &(struct sl_meta_cache_stats){0})); /* off */
	cache_for(&s, "4", true);
	sluice_volume *r = NULL;
	REQUIRE(sl_vol_init(s.conf, s.nconf, &reader_clock, &r, msg, sizeof(msg)) == 0);

	uint8_t data[200000], buf[200000];
	tu_fill_pattern(data, sizeof(data), 42);
	sluice_file *wf, *rf;
	REQUIRE(sluice_open(w, NULL, "/tail", SLUICE_O_CREATE, 0644, 0, &wf) == 0);
	CHECK_RC(sluice_write(wf, data, 100000), 100000);
	CHECK_RC(sluice_hflush(wf), 0);
	double t0 = now_s();
	sluice_stat st;
	CHECK_RC(sluice_stat_path(r, NULL, "/tail", &st), 0);
	CHECK_RC(st.length, 100000);
	REQUIRE(sluice_open(r, NULL, "/tail", SLUICE_O_READ, 0, 0, &rf) == 0);
	CHECK_RC(sluice_pread(rf, buf, sizeof(buf), 0), 100000);
	CHECK(!memcmp(buf, data, 100000));

	CHECK_RC(sluice_write(wf, data + 100000, 100000), 100000);
	CHECK_RC(sluice_hflush(wf), 0);
	/* within the TTL: the reader's handle still has the old length */
	CHECK(now_s() - t0 < 3.5); /* else the machine is too slow for this test */
	CHECK_RC(sluice_stat_path(r, NULL, "/tail", &st), 0);
	CHECK_RC(st.length, 100000);
	CHECK_RC(sluice_pread(rf, buf, 1000, 100000), 0);
	/* after it: the new bytes, exactly */
	if (now_s() < t0 + 4.2)
		sl_clock_advance(&reader_clock, (int64_t)((t0 + 4.2 - now_s()) * 1000) + 1);
	CHECK_RC(sluice_stat_path(r, NULL, "/tail", &st), 0);
	CHECK_RC(st.length, 200000);
	memset(buf, 0, sizeof(buf));
	CHECK_RC(sluice_pread(rf, buf, sizeof(buf), 0), 200000);
	CHECK(!memcmp(buf, data, 200000));
	sluice_file *rf2;
	REQUIRE(sluice_open(r, NULL, "/tail", SLUICE_O_READ, 0, 0, &rf2) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_RC(sluice_pread(rf2, buf, sizeof(buf), 0), 200000);
	CHECK(!memcmp(buf, data, 200000));
	CHECK_RC(sluice_close(rf2), 0);
	CHECK_RC(sluice_close(rf), 0);
	CHECK_RC(sluice_close(wf), 0);

	/* the reader's own change is seen by itself at once, whatever the TTL */
	CHECK_RC(sluice_rename(r, NULL, "/tail", "/tail2", 0), 0);
	CHECK_RC(sluice_stat_path(r, NULL, "/tail", &st), -ENOENT);
	CHECK_RC(sluice_stat_path(r, NULL, "/tail2", &st), 0);
	CHECK_RC(st.length, 200000);
	CHECK_RC(sluice_shutdown(r), 0);
	CHECK_RC(sluice_shutdown(w), 0);
	free(v.dir);
}

/* Another client compacts a file (deleting the blocks of the slices it merged) while this
 * client holds the old slice list in its open-cache: a reader that then finds a block missing
 * must get the new list, not the cached one again. */
static void test_foreign_compaction(void)
{
	struct volume v;
	new_volume(&v, "vfs-mcache-d");
	tu_format(&v.s.fmt);
	sluice_volume *w = open_vol(&v.s, NULL, NULL);
	sluice_volume *r = open_vol(&v.s, "open-cache", "600");

	enum { REC = 1000, NREC = 320 };
	uint8_t *want = malloc((size_t)REC * NREC), *got = malloc((size_t)REC * NREC);
	tu_fill_pattern(want, (size_t)REC * NREC, 77);
	sluice_file *wf, *rf;
	REQUIRE(sluice_open(w, NULL, "/wal", SLUICE_O_CREATE, 0644, 0, &wf) == 0);
	for (int i = 0; i < 50; i++) {
		CHECK_RC(sluice_write(wf, want + (size_t)i * REC, REC), REC);
		CHECK_RC(sluice_hflush(wf), 0);
	}
	REQUIRE(sluice_open(r, NULL, "/wal", SLUICE_O_READ, 0, 0, &rf) == 0);
	CHECK_RC(sluice_pread(rf, got, 50 * REC, 0), 50 * REC);
	CHECK(!memcmp(got, want, 50 * REC));
	for (int i = 50; i < NREC; i++) { /* compacted at 300 records */
		CHECK_RC(sluice_write(wf, want + (size_t)i * REC, REC), REC);
		CHECK_RC(sluice_hflush(wf), 0);
	}
	CHECK_RC(sluice_close(wf), 0);
	sl_blockcache_drop_all(r->core.cache); /* the reader must go to object storage */
	memset(got, 0, (size_t)REC * NREC);
	CHECK_RC(sluice_pread(rf, got, 50 * REC, 0), 50 * REC);
	CHECK(!memcmp(got, want, 50 * REC));
	CHECK_RC(sluice_pread(rf, got, (size_t)REC * NREC, 0), REC * NREC);
	CHECK(!memcmp(got, want, (size_t)REC * NREC));
	CHECK_RC(sluice_close(rf), 0);
	CHECK_RC(sluice_shutdown(r), 0);
	CHECK_RC(sluice_shutdown(w), 0);
	free(want);
	free(got);
	free(v.dir);
}

/* A file deleted by another client while this one has its path and attributes cached: opening
 * it may still succeed (stale), but reading must fail, never return zeros. */
static void test_deleted_elsewhere(void)
{
	struct volume v;
	new_volume(&v, "vfs-mcache-e");
	tu_format(&v.s.fmt);
	sluice_volume *w = open_vol(&v.s, NULL, NULL);
	cache_for(&v.s, "600", true);
	sluice_volume *r = open_vol(&v.s, NULL, NULL);
	uint8_t data[100000], buf[100000];
	tu_fill_pattern(data, sizeof(data), 9);
	CHECK_RC(write_file(w, NULL, "/read-before", data, sizeof(data), sizeof(data), 0), 0);
	CHECK_RC(write_file(w, NULL, "/stat-before", data, sizeof(data), sizeof(data), 0), 0);
	CHECK_RC(check_file(r, NULL, "/read-before", data, sizeof(data), 10000), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(r, NULL, "/stat-before", &st), 0);
	CHECK_RC(sluice_delete(w, NULL, "/read-before", 0), 0);
	CHECK_RC(sluice_delete(w, NULL, "/stat-before", 0), 0);
	CHECK_RC(sluice_shutdown(w), 0); /* finishes deleting the data */
	sl_blockcache_drop_all(r->core.cache);
	const char *paths[] = {"/read-before", "/stat-before"};
	for (int i = 0; i < 2; i++) {
		sluice_file *f;
		CHECK_RC(sluice_stat_path(r, NULL, paths[i], &st), 0); /* stale, as promised */
		REQUIRE(sluice_open(r, NULL, paths[i], SLUICE_O_READ, 0, 0, &f) == 0);
		memset(buf, 0, sizeof(buf));
		CHECK_RC(sluice_pread(f, buf, sizeof(buf), 0), -ESTALE);
		CHECK(strstr(sluice_last_error(r), "deleted") != NULL);
		CHECK_RC(sluice_close(f), 0);
	}
	CHECK_RC(sluice_shutdown(r), 0);
	free(v.dir);
}

int main(void)
{
	test_deleted_elsewhere();
	test_foreign_compaction();
	test_keys_and_staleness();
	run_without_attr_cache();
	run_all_caches();
	return tu_finish("test_vfs_mcache");
}
