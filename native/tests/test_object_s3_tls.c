/* test_object_s3_tls.c - S3 over HTTPS against the TLS instance of the S3 server that make test
 * starts (SLUICE_TEST_S3TLS_*): certificate verification is always on, a private CA works when
 * configured, and an unknown certificate is refused with a message saying what to do. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "object/object.h"
#include "testutil.h"

static struct sl_objstore *open_store(const char *bucket, const char *ca, struct sl_err *err,
				      int *rc)
{
	struct sl_obj_config cfg = {
		.storage = "minio",
		.bucket = bucket,
		.access_key = tu_service_env("SLUICE_TEST_S3TLS_ACCESS_KEY"),
		.secret_key = tu_service_env("SLUICE_TEST_S3TLS_SECRET_KEY"),
		.path_style = -1,
		.ca_file = ca,
		.connect_timeout_s = 5,
		.io_timeout_s = 10,
		.retries = 2,
	};
	struct sl_objstore *s = NULL;
	*rc = sl_obj_open(&cfg, &s, err);
	return s;
}

int main(void)
{
	const char *endpoint = tu_service_env("SLUICE_TEST_S3TLS_ENDPOINT");
	const char *ca = tu_service_env("SLUICE_TEST_S3TLS_CA");
	REQUIRE(!strncmp(endpoint, "https://", 8));
	char bucket[512];
	snprintf(bucket, sizeof(bucket), "%s/tls-test-%d", endpoint, (int)getpid());
	struct sl_err err = {0};
	int rc;

	/* with the CA: everything works */
	struct sl_objstore *s = open_store(bucket, ca, &err, &rc);
	REQUIRE(rc == 0);
	CHECK_RC(sl_obj_create_bucket(s, &err), 0);
	CHECK_RC(sl_obj_put(s, "vol/k", "secret data", 11, &err), 0);
	char buf[32];
	CHECK_RC(sl_obj_get(s, "vol/k", 0, buf, sizeof(buf), &err), 11);
	CHECK(!memcmp(buf, "secret data", 11));
	sl_obj_close(s);

	/* without it the self-signed certificate is refused, not silently accepted */
	s = open_store(bucket, NULL, &err, &rc);
	if (!rc) {
		sl_err_clear(&err);
		CHECK_RC(sl_obj_get(s, "vol/k", 0, buf, sizeof(buf), &err), -EACCES);
		CHECK(strstr(err.msg, "certificate") != NULL);
		CHECK(strstr(err.msg, "s3.ca-file") != NULL);
		CHECK_RC(sl_obj_put(s, "vol/other", "x", 1, &err), -EACCES);
		sl_obj_close(s);
	} else {
		CHECK_RC(rc, -EACCES);
	}

	s = open_store(bucket, ca, &err, &rc);
	REQUIRE(rc == 0);
	CHECK_RC(sl_obj_delete(s, "vol/k", &err), 0);
	sl_obj_close(s);
	return tu_finish("test_object_s3_tls");
}
