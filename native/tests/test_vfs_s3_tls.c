/* test_vfs_s3_tls.c - a volume on the TLS instance of the S3 server that make test starts
 * (SLUICE_TEST_S3TLS_*), whose certificate a private CA signed: `sluice format --ca-file`
 * (sluice_format_options.ca_file) tests the storage with that CA and without it says what failed;
 * the volume then takes files through s3.ca-file and reads them back from object storage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice.h"
#include "testutil.h"

int main(void)
{
	const char *endpoint = tu_service_env("SLUICE_TEST_S3TLS_ENDPOINT");
	const char *ca = tu_service_env("SLUICE_TEST_S3TLS_CA");
	REQUIRE(!strncmp(endpoint, "https://", 8));
	char *dir = tu_tempdir("vfs-s3tls");
	char url[1024], bucket[512], msg[512];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/tls-vol-%d", endpoint, (int)getpid());
	sluice_format_options fo = {.meta_url = url, .name = "tlsvol", .storage = "minio",
				    .bucket = bucket, .trash_days = 0,
				    .access_key = tu_service_env("SLUICE_TEST_S3TLS_ACCESS_KEY"),
				    .secret_key = tu_service_env("SLUICE_TEST_S3TLS_SECRET_KEY")};
	/* without the CA: refused, saying why; nothing is formatted */
	CHECK_RC(sluice_format(&fo, msg, sizeof(msg)), -EACCES);
	CHECK(strstr(msg, "certificate") != NULL);
	sluice_kv conf[] = {{"meta", url}, {"s3.ca-file", ca}};
	sluice_volume *vol;
	CHECK(sluice_init(conf, 2, &vol, msg, sizeof(msg)) != 0);

	fo.ca_file = ca;
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);
	REQUIRE(sluice_init(conf, 2, &vol, msg, sizeof(msg)) == 0);
	static char data[5 << 20]; /* more than one 4 MiB block */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 131 + 7);
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/f", SLUICE_O_WRITE | SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK_RC(sluice_write(f, data, sizeof(data)), (ssize_t)sizeof(data));
	CHECK_RC(sluice_close(f), 0);
	REQUIRE(sluice_shutdown(vol) == 0);

	/* a new handle reads from object storage, not from the writer's memory */
	REQUIRE(sluice_init(conf, 2, &vol, msg, sizeof(msg)) == 0);
	static char back[sizeof(data)];
	REQUIRE(sluice_open(vol, NULL, "/f", SLUICE_O_READ, 0, 0, &f) == 0);
	CHECK_RC(sluice_pread(f, back, sizeof(back), 0), (ssize_t)sizeof(back));
	CHECK(!memcmp(back, data, sizeof(data)));
	CHECK_RC(sluice_close(f), 0);
	REQUIRE(sluice_shutdown(vol) == 0);
	if (tu_rm_rf(dir) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
	return tu_finish("test_vfs_s3_tls");
}
