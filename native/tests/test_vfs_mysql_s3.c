/* test_vfs_mysql_s3.c - the public API end to end on MariaDB + the S3 server that make test
 * starts (SLUICE_TEST_MYSQL_URL/ADMIN, SLUICE_TEST_S3_*), in a database and bucket of its own. */
#include "vfs_suite.h"

int main(void)
{
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *ak = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	const char *sk = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	struct tu_mysql_db db;
	tu_mysql_db_create(&db, "vfs_test");
	char bucket[1024];
	snprintf(bucket, sizeof(bucket), "%s/vfs-test-%d", endpoint, (int)getpid());
	struct suite s = {.meta_url = db.url};
	s.fmt = (sluice_format_options){.meta_url = db.url, .name = "s3vol", .storage = "minio",
					.bucket = bucket, .access_key = ak, .secret_key = sk,
					.compression = "lz4", .trash_days = -1};
	s.conf[s.nconf++] = (sluice_kv){"meta", db.url};
	s.conf[s.nconf++] = (sluice_kv){"get-timeout", "1"};
	run_suite(&s);
	CHECK(tu_mysql_db_drop(&db) == 0);
	return tu_finish("test_vfs_mysql_s3");
}
