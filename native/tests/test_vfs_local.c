/* test_vfs_local.c - the public API end to end on the embedded backends: SQLite + file storage,
 * once uncompressed and once with LZ4. */
#include "vfs_suite.h"

/* cached: with a cache dir, so that hflush stages blocks and reads go through the disk cache */
static void run_local(const char *tag, const char *compression, uint32_t block_kib, bool cached)
{
	char *dir = tu_tempdir(tag);
	char url[1024], bucket[1024];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	struct suite s = {.meta_url = url};
	s.fmt = (sluice_format_options){.meta_url = url, .name = "testvol", .storage = "file",
					.bucket = bucket, .compression = compression,
					.block_size_kib = block_kib, .trash_days = -1};
	s.conf[s.nconf++] = (sluice_kv){"meta", url};
	s.conf[s.nconf++] = (sluice_kv){"get-timeout", "1"};
	char cache[1100];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	if (cached) {
		s.conf[s.nconf++] = (sluice_kv){"cache-dir", cache};
		/* a machine's disk fuller than the default 10% free must not change what is cached */
		s.conf[s.nconf++] = (sluice_kv){"free-space-ratio", "0"};
	}
	run_suite(&s);
	free(dir);
}

/* A metadata backend that answers SL_RENAME_INTO_DIR as a gateway older than it does. */
static const struct sl_meta_backend *real_backend;
static int renames_refused, renames_passed;

static int old_gateway_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
			      const char *nsrc, sl_ino pdst, const char *ndst, int flags,
			      struct sl_removed *replaced, struct sl_err *err)
{
	if (flags & ~SL_RENAME_NOREPLACE) {
		renames_refused++;
		return sl_errf(err, -EINVAL, "unknown rename flags %#x", flags);
	}
	renames_passed++;
	return real_backend->rename(m, u, psrc, nsrc, pdst, ndst, flags, replaced, err);
}

/* Hadoop's rename through a gateway that does not know SLUICE_RENAME_INTO_DIR: the client
 * looks the destination up itself, then renames. */
static void test_rename_old_gateway(void)
{
	char *dir = tu_tempdir("vfs-oldgw");
	char url[1024], bucket[1024], msg[512];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = url, .name = "testvol", .storage = "file",
				    .bucket = bucket, .trash_days = -1};
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);
	sluice_kv conf[] = {{"meta", url}};
	sluice_volume *vol;
	REQUIRE(sluice_init(conf, 1, &vol, msg, sizeof(msg)) == 0);
	struct sl_meta *m = vol->core.meta;
	real_backend = m->be;
	struct sl_meta_backend old = *real_backend;
	old.rename = old_gateway_rename;
	m->be = &old;
	const int hadoop = SLUICE_RENAME_NOREPLACE | SLUICE_RENAME_INTO_DIR;
	uint8_t d[10] = {0};
	sluice_stat st;
	CHECK_RC(sluice_mkdirs(vol, NULL, "/dst", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/f", d, sizeof(d), sizeof(d), 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/f", "/dst", hadoop), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/dst/f", &st), 0);
	CHECK(renames_refused == 1 && renames_passed == 1);
	CHECK_RC(sluice_rename(vol, NULL, "/dst/f", "/dst", hadoop), 0); /* already there */
	CHECK_RC(sluice_rename(vol, NULL, "/dst/f", "/g", hadoop), 0);   /* no directory */
	CHECK_RC(sluice_stat_path(vol, NULL, "/g", &st), 0);
	m->be = real_backend;
	REQUIRE(sluice_shutdown(vol) == 0);
	if (tu_rm_rf(dir) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

int main(void)
{
	test_rename_old_gateway();
	run_local("vfs-none", "none", 0, false);
	run_local("vfs-lz4", "lz4", 0, false);
	run_local("vfs-cached", "lz4", 0, true);
	return tu_finish("test_vfs_local");
}
