/* test_object_s3_tls.c - S3 over HTTPS against the TLS instance of the S3 server that make test
 * starts (SLUICE_TEST_S3TLS_*): certificate verification is always on, a private CA works when
 * configured, and an unknown certificate is refused with a message saying what to do. Uploads
 * over HTTPS are signed with UNSIGNED-PAYLOAD and carry a CRC32C the server checks: a body that
 * does not match its checksum is refused. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "object/object.h"
#include "object/s3_sign.h"
#include "testutil.h"

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p, (void)arg;
	return size * n;
}

/* A PUT of body to https://HOST/BUCKET/KEY as the s3 backend signs it over HTTPS, with the
 * CRC32C of claimed (not of body, when they differ) in x-amz-checksum-crc32c: the HTTP status. */
static long put_with_crc(const char *endpoint, const char *bucket, const char *key,
			 const char *ca, const char *body, const char *claimed)
{
	const char *host = endpoint + strlen("https://");
	char path[256], url[512], date[20], crc[16], auth[1024];
	snprintf(path, sizeof(path), "/%s/%s", bucket, key);
	snprintf(url, sizeof(url), "%s%s", endpoint, path);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	sl_s3_crc32c_b64(claimed, strlen(claimed), crc);
	struct sl_s3_header h[] = {{"host", host}, {"x-amz-checksum-crc32c", crc},
				   {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
				   {"x-amz-date", date}};
	struct sl_s3_sign_input in = {
		.access_key = tu_service_env("SLUICE_TEST_S3TLS_ACCESS_KEY"),
		.secret_key = tu_service_env("SLUICE_TEST_S3TLS_SECRET_KEY"), .region = "us-east-1",
		.method = "PUT", .uri = path, .query = "", .headers = h, .nheaders = 4,
		.payload_hash = "UNSIGNED-PAYLOAD", .amz_date = date};
	REQUIRE(sl_s3_sign(&in, auth, sizeof(auth)) == 0);
	struct curl_slist *l = NULL;
	char line[1200];
	for (size_t i = 1; i < 4; i++) {
		snprintf(line, sizeof(line), "%s: %s", h[i].name, h[i].value);
		l = curl_slist_append(l, line);
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	l = curl_slist_append(l, line);
	l = curl_slist_append(l, "Expect:");
	CURL *c = curl_easy_init();
	REQUIRE(c && l);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(l);
	return status;
}

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

	/* the server checks the CRC32C that stands in for the payload's hash */
	char bname[64];
	snprintf(bname, sizeof(bname), "tls-test-%d", (int)getpid());
	CHECK_RC(put_with_crc(endpoint, bname, "vol/crc", ca, "right bytes", "right bytes"), 200);
	long bad = put_with_crc(endpoint, bname, "vol/crc", ca, "wrong bytes", "right bytes");
	CHECK(bad >= 400 && bad < 500);
	s = open_store(bucket, ca, &err, &rc);
	REQUIRE(rc == 0);
	CHECK_RC(sl_obj_get(s, "vol/crc", 0, buf, sizeof(buf), &err), 11);
	CHECK(!memcmp(buf, "right bytes", 11)); /* the refused body did not replace it */
	CHECK_RC(sl_obj_delete(s, "vol/crc", &err), 0);
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
