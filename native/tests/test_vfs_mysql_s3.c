/* test_vfs_mysql_s3.c - the public API end to end on MariaDB + the S3 server that make test
 * starts (SLUICE_TEST_MYSQL_URL, SLUICE_TEST_S3_*). */
#include "vfs_suite.h"

int main(void)
{
	const char *url = tu_service_env("SLUICE_TEST_MYSQL_URL");
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *ak = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	const char *sk = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	char bucket[1024];
	snprintf(bucket, sizeof(bucket), "%s/vfs-test-%d", endpoint, (int)getpid());
	struct suite s = {.meta_url = url};
	s.fmt = (sluice_format_options){.meta_url = url, .name = "s3vol", .storage = "minio",
					.bucket = bucket, .access_key = ak, .secret_key = sk,
					.compression = "lz4", .trash_days = -1, .force = 1};
	s.conf[s.nconf++] = (sluice_kv){"meta", url};
	run_suite(&s);
	return tu_finish("test_vfs_mysql_s3");
}
