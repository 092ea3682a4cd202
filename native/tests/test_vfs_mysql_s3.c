/* test_vfs_mysql_s3.c - the public API end to end on MariaDB + the S3 server that make test
 * starts (SLUICE_TEST_MYSQL_URL/ADMIN, SLUICE_TEST_S3_*), in a database and bucket of its own. */
#include "vfs_suite.h"

int main(void)
{
	const char *base_url = tu_service_env("SLUICE_TEST_MYSQL_URL");
	const char *admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN");
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *ak = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	const char *sk = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	char db[64], cmd[2048], url[1024], bucket[1024];
	snprintf(db, sizeof(db), "vfs_test_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s -e 'CREATE DATABASE %s'", admin, db);
	REQUIRE(system(cmd) == 0);
	const char *slash = strrchr(base_url, '/');
	REQUIRE(slash != NULL);
	snprintf(url, sizeof(url), "%.*s/%s", (int)(slash - base_url), base_url, db);
	snprintf(bucket, sizeof(bucket), "%s/vfs-test-%d", endpoint, (int)getpid());
	struct suite s = {.meta_url = url};
	s.fmt = (sluice_format_options){.meta_url = url, .name = "s3vol", .storage = "minio",
					.bucket = bucket, .access_key = ak, .secret_key = sk,
					.compression = "lz4", .trash_days = -1};
	s.conf[s.nconf++] = (sluice_kv){"meta", url};
	s.conf[s.nconf++] = (sluice_kv){"get-timeout", "1"};
	run_suite(&s);
	snprintf(cmd, sizeof(cmd), "%s -e 'DROP DATABASE %s'", admin, db);
	CHECK(system(cmd) == 0);
	return tu_finish("test_vfs_mysql_s3");
}
