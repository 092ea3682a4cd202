/* test_vfs_local.c - the public API end to end on the embedded backends: SQLite + file storage,
 * once uncompressed and once with LZ4. */
#include "vfs_suite.h"

static void run_local(const char *tag, const char *compression, uint32_t block_kib)
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
	s.conf[s.nconf++] = (sluice_kv){"superuser", "root"};
	run_suite(&s);
	free(dir);
}

int main(void)
{
	run_local("vfs-none", "none", 0);
	run_local("vfs-lz4", "lz4", 0);
	return tu_finish("test_vfs_local");
}
