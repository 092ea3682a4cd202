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

int main(void)
{
	run_local("vfs-none", "none", 0, false);
	run_local("vfs-lz4", "lz4", 0, false);
	run_local("vfs-cached", "lz4", 0, true);
	return tu_finish("test_vfs_local");
}
