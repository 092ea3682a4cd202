/*
 * test_object_presign.c - presigned S3 URLs (presign.h) against AWS's documented example, what the
 * real S3 server of the test environment accepts and refuses (another key, another method, expired,
 * tampered), and the credential-less "presigned" backend passing the object contract through a
 * provider that signs with the real keys (SLUICE_TEST_S3_ENDPOINT/ACCESS_KEY/SECRET_KEY).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "object/object.h"
#include "object/presign.h"
#include "object/s3_sign.h"
#include "object_checks.h"
#include "testutil.h"

static const char *endpoint, *access_key, *secret_key;
static char bucket_url[512];

static struct sl_presigner *presigner(const char *storage, const char *url, const char *ak,
				      const char *sk, const char *token, int path_style)
{
	struct sl_obj_config cfg = {.storage = storage, .bucket = url, .access_key = ak,
				    .secret_key = sk, .session_token = token,
				    .path_style = path_style};
	struct sl_presigner *ps = NULL;
	struct sl_err err = {0};
	if (sl_presigner_new(&cfg, &ps, &err))
		fprintf(stderr, "presigner %s: %s\n", url, err.msg);
	return ps;
}

/* ---- (a) without a server ---- */

static void test_vector(void)
{
	/* AWS, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)": GET
	 * examplebucket/test.txt on 24 May 2013 00:00:00 UTC, valid for 86400 s. */
	struct sl_presigner *ps =
		presigner("s3", "https://examplebucket.s3.amazonaws.com", "AKIAIOSFODNN7EXAMPLE",
			  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, -1);
	REQUIRE(ps);
	const time_t t2013 = 1369353600; /* 20130524T000000Z */
	char url[SL_PRESIGN_URL_MAX];
	struct sl_err err = {0};
	CHECK_RC(sl_presign(ps, "GET", "test.txt", 86400, t2013, url, sizeof(url), &err), 0);
	const char *want =
		"https://examplebucket.s3.amazonaws.com/test.txt"
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
	if (strcmp(url, want)) {
		fprintf(stderr, "AWS example:\n got  %s\n want %s\n", url, want);
		tu_failures++;
	}

	/* Each input changes the signature: method, key, time, expiry. */
	char other[SL_PRESIGN_URL_MAX];
	const char *sig = strstr(url, "X-Amz-Signature=");
	REQUIRE(sig);
	CHECK_RC(sl_presign(ps, "PUT", "test.txt", 86400, t2013, other, sizeof(other), &err), 0);
	CHECK(strncmp(other, url, (size_t)(sig - url)) == 0 && strcmp(other, url));
	CHECK_RC(sl_presign(ps, "GET", "test.txu", 86400, t2013, other, sizeof(other), &err), 0);
	CHECK(strcmp(strstr(other, "X-Amz-Signature="), sig));
	CHECK_RC(sl_presign(ps, "GET", "test.txt", 86400, t2013 + 1, other, sizeof(other), &err),
		 0);
	CHECK(strstr(other, "X-Amz-Date=20130524T000001Z") && strcmp(strstr(other, "X-Amz-Sig"),
								      sig));

	/* bad arguments */
	CHECK_RC(sl_presign(ps, "GET", "k", 0, t2013, other, sizeof(other), &err), -EINVAL);
	CHECK(strstr(err.msg, "expiry") != NULL);
	CHECK_RC(sl_presign(ps, "GET", "k", SL_PRESIGN_EXPIRES_MAX + 1, t2013, other, sizeof(other),
			    &err), -EINVAL);
	CHECK_RC(sl_presign(ps, "GET", "k", SL_PRESIGN_EXPIRES_MAX, t2013, other, sizeof(other),
			    &err), 0);
	CHECK(strstr(other, "X-Amz-Expires=604800&") != NULL);
	CHECK_RC(sl_presign(ps, "GET", "k", 1, t2013, other, sizeof(other), &err), 0);
	CHECK_RC(sl_presign(ps, "POST", "k", 60, t2013, other, sizeof(other), &err), -EINVAL);
	CHECK_RC(sl_presign(ps, "get", "k", 60, t2013, other, sizeof(other), &err), -EINVAL);
	CHECK_RC(sl_presign(ps, "GET", "", 60, t2013, other, sizeof(other), &err), -EINVAL);
	char longkey[1100];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	CHECK_RC(sl_presign(ps, "GET", longkey, 60, t2013, other, sizeof(other), &err),
		 -ENAMETOOLONG);
	longkey[1024] = 0; /* the longest key S3 takes, every byte encoded, fits the buffer */
	memset(longkey, '\xff', 1024);
	CHECK_RC(sl_presign(ps, "GET", longkey, 60, t2013, other, sizeof(other), &err), 0);
	CHECK_RC(sl_presign(ps, "GET", "test.txt", 86400, t2013, other, 100, &err), -ENAMETOOLONG);
	CHECK(!strstr(err.msg, "wJalrXUtnFEMI"));
	CHECK_RC(sl_presign(ps, "GET", "test.txt", 86400, t2013, other, strlen(want), &err),
		 -ENAMETOOLONG);
	CHECK_RC(sl_presign(ps, "GET", "test.txt", 86400, t2013, other, strlen(want) + 1, &err), 0);
	sl_presigner_free(ps);

	/* path style, a region from the URL, keys that need encoding, and a session token (signed,
	 * sorted before SignedHeaders) */
	ps = presigner("minio", "http://127.0.0.1:9000/bkt?region=eu-west-3", "AK", "SK",
		       "tok/en+=", -1);
	REQUIRE(ps);
	CHECK_RC(sl_presign(ps, "DELETE", "v/a b+c/\xc3\xbc~", 60, t2013, other, sizeof(other),
			    &err), 0);
	const char *prefix = "http://127.0.0.1:9000/bkt/v/a%20b%2Bc/%C3%BC~?X-Amz-Algorithm="
			     "AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Feu-west-3%2Fs3%2F"
			     "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60"
			     "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host"
			     "&X-Amz-Signature=";
	if (strncmp(other, prefix, strlen(prefix)) || strlen(other) != strlen(prefix) + 64) {
		fprintf(stderr, "path style:\n got  %s\n want %s<64 hex>\n", other, prefix);
		tu_failures++;
	}
	sl_presigner_free(ps);

	/* virtual-host style when the bucket URL is written that way, path style when asked */
	ps = presigner("s3", "https://b1.s3.eu-central-1.amazonaws.com", "AK", "SK", NULL, 1);
	REQUIRE(ps);
	CHECK_RC(sl_presign(ps, "HEAD", "k", 60, t2013, other, sizeof(other), &err), 0);
	CHECK(!strncmp(other, "https://s3.eu-central-1.amazonaws.com/b1/k?", 43));
	CHECK(strstr(other, "%2Feu-central-1%2F") != NULL);
	sl_presigner_free(ps);

	/* bad configurations, and the secret never in a message */
	struct sl_presigner *bad = NULL;
	struct sl_obj_config cfg = {.storage = "file", .bucket = "/tmp/x", .access_key = "AK",
				    .secret_key = "hunter2-secret"};
	CHECK_RC(sl_presigner_new(&cfg, &bad, &err), -EINVAL);
	CHECK(bad == NULL && strstr(err.msg, "s3 or minio"));
	cfg.storage = "minio";
	cfg.bucket = "http://127.0.0.1:9000";
	CHECK_RC(sl_presigner_new(&cfg, &bad, &err), -EINVAL);
	CHECK(!strstr(err.msg, "hunter2"));
	cfg.bucket = "http://127.0.0.1:9000/b";
	cfg.secret_key = NULL;
	CHECK_RC(sl_presigner_new(&cfg, &bad, &err), -EINVAL);
	CHECK(strstr(err.msg, "secret key") != NULL);
	cfg.secret_key = "hunter2-secret";
	cfg.access_key = "";
	CHECK_RC(sl_presigner_new(&cfg, &bad, &err), -EINVAL);
	CHECK(bad == NULL);

	/* the backend refuses to open without a provider */
	struct sl_objstore *s = NULL;
	struct sl_obj_config pc = {.storage = "presigned", .bucket = "http://127.0.0.1:9/b",
				   .retries = 1};
	CHECK_RC(sl_obj_open(&pc, &s, &err), -EINVAL);
	CHECK(s == NULL && strstr(err.msg, "provider"));
}

/* ---- (b) the URLs against the server, with a plain HTTP client ---- */

struct resp {
	long status;
	char *body;
	size_t len, cap;
	curl_off_t length; /* Content-Length */
};

static size_t resp_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb;
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->body = realloc(r->body, r->cap);
		REQUIRE(r->body);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = 0;
	return n;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;
	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(dst, u->data + u->off, n);
	u->off += n;
	return n;
}

/* One request as any HTTP client would send it: the URL, nothing signed by us. */
static struct resp http(const char *method, const char *url, const void *body, size_t len,
			const char *range)
{
	struct resp r = {0};
	struct upload u = {.data = body, .len = len};
	CURL *h = curl_easy_init();
	REQUIRE(h);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	if (range) {
		char line[80];
		snprintf(line, sizeof(line), "Range: %s", range);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, resp_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &u);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		fprintf(stderr, "%s: %s\n", method, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r.length);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	*r = (struct resp){0};
}

/* The status of one request, and the error document's text in *why if wanted. */
static long status_of(const char *method, const char *url, const void *body, size_t len,
		      char *why, size_t why_size)
{
	struct resp r = http(method, url, body, len, NULL);
	if (why)
		snprintf(why, why_size, "%s", r.body ? r.body : "");
	long st = r.status;
	resp_free(&r);
	return st;
}

static char *sign(const struct sl_presigner *ps, const char *method, const char *key, int expires,
		  time_t now)
{
	char *url = malloc(SL_PRESIGN_URL_MAX);
	struct sl_err err = {0};
	REQUIRE(url);
	int rc = sl_presign(ps, method, key, expires, now, url, SL_PRESIGN_URL_MAX, &err);
	if (rc)
		fprintf(stderr, "presign %s %s: %s\n", method, key, err.msg);
	REQUIRE(rc == 0);
	return url;
}

/* url with its path's last component `from` replaced by `to` (the signature left as it was). */
static char *retarget(const char *url, const char *from, const char *to)
{
	const char *q = strchr(url, '?');
	size_t flen = strlen(from);
	REQUIRE(q && (size_t)(q - url) >= flen && !memcmp(q - flen, from, flen));
	char *out = NULL;
	REQUIRE(asprintf(&out, "%.*s%s%s", (int)(q - url - (ptrdiff_t)flen), url, to, q) > 0);
	return out;
}

static bool exists(struct sl_objstore *s3, const char *key)
{
	struct sl_err err = {0};
	struct sl_obj_info info;
	int rc = sl_obj_head(s3, key, &info, &err);
	REQUIRE(rc == 0 || rc == -ENOENT);
	return rc == 0;
}

static void test_urls(struct sl_presigner *ps, struct sl_objstore *s3)
{
	struct sl_err err = {0};
	time_t now = time(NULL);
	char why[4096];

	/* valid URLs do what they were signed for, with binary data of 0 B, 1 B and 4 MiB */
	const size_t sizes[] = {0, 1, 4 << 20};
	char *data = malloc(4 << 20), *buf = malloc(4 << 20);
	REQUIRE(data && buf);
	for (size_t i = 0; i < 3; i++) {
		size_t len = sizes[i];
		char key[64];
		snprintf(key, sizeof(key), "urls/bin_%zu", len);
		fill(data, len, (unsigned)i + 40);
		if (len)
			data[0] = 0; /* a NUL first: binary, not text */
		char *put = sign(ps, "PUT", key, 300, now), *get = sign(ps, "GET", key, 300, now);
		char *head = sign(ps, "HEAD", key, 300, now), *del = sign(ps, "DELETE", key, 300, now);
		CHECK_RC(status_of("PUT", put, data, len, NULL, 0), 200);
		struct resp r = http("GET", get, NULL, 0, NULL);
		CHECK_RC(r.status, 200);
		CHECK(r.len == len && (!len || !memcmp(r.body, data, len)));
		resp_free(&r);
		r = http("HEAD", head, NULL, 0, NULL);
		CHECK_RC(r.status, 200);
		CHECK_RC(r.length, (long long)len);
		resp_free(&r);
		if (len > 1) { /* a GET URL serves ranges too */
			r = http("GET", get, NULL, 0, "bytes=1000-1999");
			CHECK_RC(r.status, 206);
			CHECK(r.len == 1000 && !memcmp(r.body, data + 1000, 1000));
			resp_free(&r);
		}
		/* what the URL wrote is what the s3 backend reads at that key */
		int64_t n = sl_obj_get(s3, key, 0, buf, 4 << 20, &err);
		CHECK_RC(n, (int64_t)len);
		CHECK(n <= 0 || !memcmp(buf, data, len));
		long st = status_of("DELETE", del, NULL, 0, NULL, 0);
		CHECK(st == 204 || st == 200);
		CHECK(!exists(s3, key));
		CHECK_RC(status_of("GET", get, NULL, 0, why, sizeof(why)), 404);
		CHECK(strstr(why, "NoSuchKey") != NULL);
		free(put);
		free(get);
		free(head);
		free(del);
	}

	/* a URL for key A neither reads nor writes nor deletes key B */
	const char *a = "urls/keyA", *b = "urls/keyB";
	CHECK_RC(sl_obj_put(s3, a, "A-data", 6, &err), 0);
	CHECK_RC(sl_obj_put(s3, b, "B-data", 6, &err), 0);
	char *get_a = sign(ps, "GET", a, 300, now), *put_a = sign(ps, "PUT", a, 300, now);
	char *del_a = sign(ps, "DELETE", a, 300, now), *head_a = sign(ps, "HEAD", a, 300, now);
	char *get_b = retarget(get_a, "keyA", "keyB"), *put_b = retarget(put_a, "keyA", "keyB");
	char *del_b = retarget(del_a, "keyA", "keyB"), *head_b = retarget(head_a, "keyA", "keyB");
	CHECK_RC(status_of("GET", get_b, NULL, 0, why, sizeof(why)), 403);
	CHECK(strstr(why, "SignatureDoesNotMatch") != NULL);
	CHECK(!strstr(why, "B-data"));
	CHECK_RC(status_of("PUT", put_b, "evil", 4, NULL, 0), 403);
	CHECK_RC(status_of("DELETE", del_b, NULL, 0, NULL, 0), 403);
	CHECK_RC(status_of("HEAD", head_b, NULL, 0, NULL, 0), 403);
	char small[16];
	CHECK_RC(sl_obj_get(s3, b, 0, small, sizeof(small), &err), 6);
	CHECK(!memcmp(small, "B-data", 6));
	/* nor a key that does not exist yet */
	char *put_c = retarget(put_a, "keyA", "keyC");
	CHECK_RC(status_of("PUT", put_c, "evil", 4, NULL, 0), 403);
	CHECK(!exists(s3, "urls/keyC"));
	/* nor a key under another prefix that merely ends the same */
	char *get_pa = sign(ps, "GET", "p/x", 300, now), *get_qa = retarget(get_pa, "p/x", "q/x");
	CHECK_RC(status_of("GET", get_qa, NULL, 0, NULL, 0), 403);

	/* a URL for one method does not serve another */
	CHECK_RC(status_of("PUT", get_a, "evil", 4, why, sizeof(why)), 403);
	CHECK(strstr(why, "SignatureDoesNotMatch") != NULL);
	CHECK_RC(status_of("DELETE", get_a, NULL, 0, NULL, 0), 403);
	CHECK_RC(status_of("GET", put_a, NULL, 0, NULL, 0), 403);
	CHECK_RC(status_of("GET", head_a, NULL, 0, NULL, 0), 403);
	CHECK_RC(status_of("PUT", del_a, "evil", 4, NULL, 0), 403);
	CHECK_RC(status_of("HEAD", get_a, NULL, 0, NULL, 0), 403);
	CHECK_RC(sl_obj_get(s3, a, 0, small, sizeof(small), &err), 6);
	CHECK(!memcmp(small, "A-data", 6));
	/* but each works for its own */
	CHECK_RC(status_of("GET", get_a, NULL, 0, NULL, 0), 200);
	CHECK_RC(status_of("HEAD", head_a, NULL, 0, NULL, 0), 200);

	/* a tampered URL (a longer life, a different signature) or wrong keys: refused */
	char *longer = strdup(get_a), *p = strstr(longer, "X-Amz-Expires=300");
	REQUIRE(p);
	memcpy(p, "X-Amz-Expires=900", 17);
	CHECK_RC(status_of("GET", longer, NULL, 0, NULL, 0), 403);
	char *sigless = strdup(get_a), *sig = strstr(sigless, "X-Amz-Signature=");
	REQUIRE(sig);
	sig[16] = sig[16] == '0' ? '1' : '0';
	CHECK_RC(status_of("GET", sigless, NULL, 0, NULL, 0), 403);
	struct sl_presigner *wrong = presigner("minio", bucket_url, access_key, "not-the-secret",
					       NULL, -1);
	REQUIRE(wrong);
	char *get_wrong = sign(wrong, "GET", a, 300, now);
	CHECK_RC(status_of("GET", get_wrong, NULL, 0, NULL, 0), 403);
	sl_presigner_free(wrong);
	/* the query string alone is the credential: without it the bucket is closed */
	char *bare = strdup(get_a);
	*strchr(bare, '?') = 0;
	CHECK_RC(status_of("GET", bare, NULL, 0, NULL, 0), 403);

	/* expired: signed an hour ago for a minute, or for 1 s and used 2 s later */
	char *old = sign(ps, "GET", a, 60, now - 3600);
	CHECK_RC(status_of("GET", old, NULL, 0, why, sizeof(why)), 403);
	CHECK(strstr(why, "Request has expired") != NULL);
	char *old_put = sign(ps, "PUT", b, 60, now - 3600);
	CHECK_RC(status_of("PUT", old_put, "evil", 4, NULL, 0), 403);
	CHECK_RC(sl_obj_get(s3, b, 0, small, sizeof(small), &err), 6);
	CHECK(!memcmp(small, "B-data", 6));
	char *short_get = sign(ps, "GET", a, 1, time(NULL)), *short_del = sign(ps, "DELETE", a, 1,
										time(NULL));
	sleep(2); /* the S3 server checks the expiry, on its own clock */
	CHECK_RC(status_of("GET", short_get, NULL, 0, why, sizeof(why)), 403);
	CHECK(strstr(why, "Request has expired") != NULL);
	CHECK_RC(status_of("DELETE", short_del, NULL, 0, NULL, 0), 403);
	CHECK(exists(s3, a));
	/* signed for the future: not valid yet */
	char *future = sign(ps, "GET", a, 60, time(NULL) + 3600);
	CHECK_RC(status_of("GET", future, NULL, 0, NULL, 0), 403);

	/* the shared transport tells S3's "Request has expired" from other refusals, and keeps the
	 * query string (the credential) out of its messages; a HEAD answer has no text to tell by */
	struct sl_obj_config tc = {.storage = "presigned", .connect_timeout_s = 3,
				   .io_timeout_s = 30};
	struct sl_s3_http *t = NULL;
	REQUIRE(sl_s3_http_new(&tc, &t, &err) == 0);
	const char *methods[] = {"GET", "PUT", "DELETE", "HEAD"};
	for (size_t i = 0; i < 4; i++) {
		char *u = sign(ps, methods[i], a, 60, now - 3600);
		struct sl_obj_info info;
		struct sl_s3_url_op op = {.method = methods[i], .url = u, .label = "L", .key = a,
					  .body = "evil", .body_len = 4, .info = &info};
		if (i == 0)
			op.dst = small, op.len = sizeof(small);
		CHECK_RC(sl_s3_url_call(t, &op, &err), -EACCES);
		CHECK(op.expired == (i < 3));
		CHECK(!strncmp(err.msg, "L: HTTP 403", 11) && !strstr(err.msg, "X-Amz"));
		CHECK(i == 3 || strstr(err.msg, "Request has expired"));
		free(u);
	}
	struct sl_s3_url_op op = {.method = "GET", .url = get_b, .label = "L", .key = b,
				  .dst = small, .len = sizeof(small)};
	CHECK_RC(sl_s3_url_call(t, &op, &err), -EACCES);
	CHECK(!op.expired && strstr(err.msg, "SignatureDoesNotMatch"));
	op = (struct sl_s3_url_op){.method = "GET", .url = get_a, .label = "L", .key = a,
				   .dst = small, .off = 2, .len = sizeof(small)};
	CHECK_RC(sl_s3_url_call(t, &op, &err), 4);
	CHECK(!memcmp(small, "data", 4));
	sl_s3_http_free(t);
	CHECK(exists(s3, a));

	/* keys that need encoding */
	const char *odd[] = {"urls/with space/a+b=c&d?e#f%g;h,i", "urls/\xc3\xbcnic\xc3\xb6" "de",
			     "urls/tilde~/*star*/(paren)!$'", "urls/dots..x/.hidden/y.."};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *put = sign(ps, "PUT", odd[i], 60, now), *get = sign(ps, "GET", odd[i], 60, now);
		CHECK_RC(status_of("PUT", put, odd[i], strlen(odd[i]), why, sizeof(why)), 200);
		struct resp r = http("GET", get, NULL, 0, NULL);
		CHECK_RC(r.status, 200);
		CHECK(r.len == strlen(odd[i]) && !memcmp(r.body, odd[i], r.len));
		resp_free(&r);
		CHECK_RC(sl_obj_get(s3, odd[i], 0, buf, 256, &err), (int64_t)strlen(odd[i]));
		CHECK_RC(sl_obj_delete(s3, odd[i], &err), 0);
		free(put);
		free(get);
	}

	char *all[] = {get_a, put_a, del_a, head_a, get_b, put_b, del_b, head_b, put_c, get_pa,
		       get_qa, longer, sigless, get_wrong, bare, old, old_put, short_get, short_del,
		       future, data, buf};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	CHECK_RC(sl_obj_delete(s3, a, &err), 0);
	CHECK_RC(sl_obj_delete(s3, b, &err), 0);
}

/* ---- (c) the presigned backend ---- */

/* A provider that signs with the real keys, as the gateway will, with faults to inject. */
struct provider {
	struct sl_presigner *ps;
	int expires_s;
	atomic_int calls, fresh_calls;
	atomic_int fail_transient; /* this many calls fail with -ECONNREFUSED */
	bool expired_unless_fresh; /* hand out already expired URLs unless asked for a fresh one */
	bool always_expired;
	const char *deny_prefix;   /* keys the caller may not touch */
	const char *bad_url;       /* answer with this instead */
};

static int provider_url(void *arg, const char *method, const char *key, unsigned flags,
			char *out, size_t size, struct sl_err *err)
{
	struct provider *pv = arg;
	atomic_fetch_add(&pv->calls, 1);
	if (flags & SL_PRESIGN_FRESH)
		atomic_fetch_add(&pv->fresh_calls, 1);
	if (atomic_load(&pv->fail_transient) > 0) {
		atomic_fetch_sub(&pv->fail_transient, 1);
		return sl_errf(err, -ECONNREFUSED, "gateway unreachable (test)");
	}
	if (pv->deny_prefix && !strncmp(key, pv->deny_prefix, strlen(pv->deny_prefix)))
		return sl_errf(err, -EACCES, "permission denied: user test may not %s %s", method,
			       key);
	if (pv->bad_url) {
		snprintf(out, size, "%s", pv->bad_url);
		return 0;
	}
	time_t now = time(NULL);
	bool old = pv->always_expired || (pv->expired_unless_fresh && !(flags & SL_PRESIGN_FRESH));
	return sl_presign(pv->ps, method, key, pv->expires_s,
			  old ? now - 2 * pv->expires_s : now, out, size, err);
}

static struct sl_objstore *open_presigned(struct sl_presign_provider *prov, int retries)
{
	struct sl_obj_config cfg = {.storage = "presigned", .bucket = bucket_url,
				    .connect_timeout_s = 3, .io_timeout_s = 30, .retries = retries,
				    .presign = prov};
	struct sl_objstore *s = NULL;
	struct sl_err err = {0};
	if (sl_obj_open(&cfg, &s, &err))
		fprintf(stderr, "open presigned: %s\n", err.msg);
	REQUIRE(s);
	return s;
}

static int count_cb(void *arg, const struct sl_obj_info *info)
{
	(void)arg, (void)info;
	return 0;
}

/* The object contract as test_object_s3 checks it; listing and bucket creation excepted. */
static void test_contract(struct sl_objstore *s, struct sl_objstore *s3)
{
	struct sl_err err = {0};
	char data[1000], buf[1000];
	fill(data, sizeof(data), 3);
	const char *key = "vol/chunks/0/0/1_0_1000";
	CHECK_RC(sl_obj_put(s, key, data, sizeof(data), &err), 0);
	check_ranged_gets(s, key, data);
	/* the same object through the s3 backend: same keys, same bytes */
	CHECK_RC(sl_obj_get(s3, key, 0, buf, sizeof(buf), &err), 1000);
	CHECK(!memcmp(buf, data, sizeof(data)));

	struct sl_obj_info info;
	CHECK_RC(sl_obj_head(s, key, &info, &err), 0);
	CHECK_RC(info.size, 1000);
	CHECK(llabs((long long)(info.mtime_s - time(NULL))) < 300);
	CHECK(info.key && !strcmp(info.key, key));

	CHECK_RC(sl_obj_put(s, "vol/empty", NULL, 0, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/empty", 0, buf, 10, &err), 0);
	CHECK_RC(sl_obj_head(s, "vol/empty", &info, &err), 0);
	CHECK_RC(info.size, 0);
	CHECK_RC(sl_obj_put(s, "vol/one", "\0", 1, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/one", 0, buf, 10, &err), 1);
	CHECK(buf[0] == 0);

	CHECK_RC(sl_obj_get(s, "vol/missing", 0, buf, 10, &err), -ENOENT);
	CHECK(strstr(err.msg, "vol/missing") && strstr(err.msg, "NoSuchKey"));
	CHECK(!strstr(err.msg, "X-Amz-") && !strstr(err.msg, "?"));
	CHECK_RC(sl_obj_head(s, "vol/missing", &info, &err), -ENOENT);
	CHECK_RC(atomic_load(&s->stats.retries), 0);

	CHECK_RC(sl_obj_delete(s, key, &err), 0);
	CHECK_RC(sl_obj_delete(s, key, &err), 0); /* a missing object: still success */
	CHECK_RC(sl_obj_get(s, key, 0, buf, 10, &err), -ENOENT);
	CHECK_RC(sl_obj_get(s3, key, 0, buf, 10, &err), -ENOENT);
	CHECK_RC(sl_obj_delete(s, "vol/empty", &err), 0);
	CHECK_RC(sl_obj_delete(s, "vol/one", &err), 0);

	/* written by the s3 backend, read through URLs */
	CHECK_RC(sl_obj_put(s3, "vol/from-s3", "hello", 5, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/from-s3", 0, buf, sizeof(buf), &err), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_RC(sl_obj_delete(s, "vol/from-s3", &err), 0);

	/* no listing, no bucket creation: clear errors, no retries */
	CHECK_RC(sl_obj_list(s, "vol/", NULL, count_cb, NULL, &err), -ENOTSUP);
	CHECK(strstr(err.msg, "cannot list") && strstr(err.msg, "gc and fsck"));
	CHECK_RC(sl_obj_create_bucket(s, &err), -EOPNOTSUPP);
	CHECK_RC(atomic_load(&s->stats.retries), 0);

	/* sizes of 0 B, 1 B and 4 MiB of binary data */
	enum { MB4 = 4 << 20 };
	char *big = malloc(MB4), *bbuf = malloc(MB4);
	REQUIRE(big && bbuf);
	fill(big, MB4, 77);
	CHECK_RC(sl_obj_put(s, "vol/4m", big, MB4, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/4m", 0, bbuf, MB4, &err), MB4);
	CHECK(!memcmp(big, bbuf, MB4));
	CHECK_RC(sl_obj_get(s, "vol/4m", MB4 - 3, bbuf, 100, &err), 3);
	CHECK(!memcmp(big + MB4 - 3, bbuf, 3));
	CHECK_RC(sl_obj_head(s, "vol/4m", &info, &err), 0);
	CHECK_RC(info.size, MB4);
	CHECK_RC(sl_obj_delete(s, "vol/4m", &err), 0);
	free(big);
	free(bbuf);
}

static void test_odd_keys(struct sl_objstore *s)
{
	struct sl_err err = {0};
	put_odd_keys(s);
	for (size_t i = 0; i < N_ODD_KEYS; i++) {
		struct sl_obj_info info;
		CHECK_RC(sl_obj_head(s, odd_keys[i], &info, &err), 0);
		CHECK_RC(info.size, strlen(odd_keys[i]));
		CHECK_RC(sl_obj_delete(s, odd_keys[i], &err), 0);
		CHECK_RC(sl_obj_head(s, odd_keys[i], &info, &err), -ENOENT);
	}
}

/* What the backend does with an expired URL, a refusal, an unreachable gateway, a bad answer. */
static void test_provider_faults(struct provider *pv, struct sl_objstore *s,
				 struct sl_objstore *s3)
{
	struct sl_err err = {0};
	char buf[64];
	struct sl_obj_info info;

	/* an expired URL: one fresh URL and one more try, for every method */
	pv->expired_unless_fresh = true;
	atomic_store(&pv->calls, 0);
	atomic_store(&pv->fresh_calls, 0);
	CHECK_RC(sl_obj_put(s, "faults/k", "data", 4, &err), 0);
	CHECK_RC(sl_obj_get(s, "faults/k", 0, buf, sizeof(buf), &err), 4);
	CHECK_RC(sl_obj_head(s, "faults/k", &info, &err), 0); /* 403 without a body */
	CHECK_RC(info.size, 4);
	CHECK_RC(sl_obj_delete(s, "faults/k", &err), 0);
	CHECK_RC(atomic_load(&pv->calls), 8);
	CHECK_RC(atomic_load(&pv->fresh_calls), 4);
	CHECK_RC(atomic_load(&s->stats.retries), 0);
	CHECK(!exists(s3, "faults/k"));
	pv->expired_unless_fresh = false;

	/* expired again: given up after the one fresh URL, not retried by the core */
	pv->always_expired = true;
	atomic_store(&pv->calls, 0);
	CHECK_RC(sl_obj_get(s, "faults/none", 0, buf, sizeof(buf), &err), -EACCES);
	CHECK(strstr(err.msg, "expired") && strstr(err.msg, "clocks"));
	CHECK_RC(atomic_load(&pv->calls), 2);
	atomic_store(&pv->calls, 0);
	CHECK_RC(sl_obj_head(s, "faults/none", &info, &err), -EACCES);
	CHECK_RC(atomic_load(&pv->calls), 2);
	CHECK_RC(sl_obj_put(s, "faults/none", "x", 1, &err), -EACCES);
	CHECK(!exists(s3, "faults/none"));
	CHECK_RC(atomic_load(&s->stats.retries), 0);
	pv->always_expired = false;

	/* the provider (gateway) refuses: its message, at once, no retry */
	pv->deny_prefix = "private/";
	atomic_store(&pv->calls, 0);
	CHECK_RC(sl_obj_get(s, "private/x", 0, buf, sizeof(buf), &err), -EACCES);
	CHECK(strstr(err.msg, "permission denied: user test") && strstr(err.msg, "private/x"));
	CHECK_RC(sl_obj_put(s, "private/x", "x", 1, &err), -EACCES);
	CHECK_RC(atomic_load(&pv->calls), 2);
	CHECK_RC(atomic_load(&s->stats.retries), 0);
	pv->deny_prefix = NULL;

	/* the provider is briefly unreachable: the core's retries ask it again */
	atomic_store(&pv->fail_transient, 2);
	uint64_t retries = atomic_load(&s->stats.retries);
	CHECK_RC(sl_obj_put(s, "faults/t", "t", 1, &err), 0);
	CHECK_RC(atomic_load(&s->stats.retries), retries + 2);
	atomic_store(&pv->fail_transient, 100);
	CHECK_RC(sl_obj_get(s, "faults/t", 0, buf, sizeof(buf), &err), -ECONNREFUSED);
	CHECK(strstr(err.msg, "gateway unreachable") && strstr(err.msg, "after 3 attempts"));
	atomic_store(&pv->fail_transient, 0);
	CHECK_RC(sl_obj_delete(s, "faults/t", &err), 0);

	/* answers that are not http(s) URLs are refused before anything is sent */
	const char *bad[] = {"file:///etc/passwd", "ftp://127.0.0.1/x", "", "gopher://x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pv->bad_url = bad[i];
		CHECK_RC(sl_obj_get(s, "faults/x", 0, buf, sizeof(buf), &err), -EINVAL);
		CHECK(strstr(err.msg, "not an http(s) URL") != NULL);
	}
	pv->bad_url = NULL;

	/* a URL whose signature is wrong: -EACCES with S3's reason, the query never shown */
	struct sl_presigner *good = pv->ps;
	pv->ps = presigner("minio", bucket_url, access_key, "not-the-secret", NULL, -1);
	REQUIRE(pv->ps);
	atomic_store(&pv->calls, 0);
	CHECK_RC(sl_obj_get(s, "faults/x", 0, buf, sizeof(buf), &err), -EACCES);
	CHECK(strstr(err.msg, "SignatureDoesNotMatch") && strstr(err.msg, "presigned GET http://"));
	CHECK(!strstr(err.msg, "X-Amz") && !strstr(err.msg, "not-the-secret") &&
	      !strstr(err.msg, secret_key));
	CHECK_RC(atomic_load(&pv->calls), 1); /* not an expiry: no fresh URL */
	sl_presigner_free(pv->ps);
	pv->ps = good;
}

int main(void)
{
	test_vector();

	endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	char bucket[64];
	snprintf(bucket, sizeof(bucket), "sluice-presign-%ld-%d", (long)time(NULL), (int)getpid());
	snprintf(bucket_url, sizeof(bucket_url), "%s/%s", endpoint, bucket);

	struct sl_err err = {0};
	struct sl_obj_config cfg = {
		.storage = "minio", .bucket = bucket_url, .access_key = access_key,
		.secret_key = secret_key, .path_style = -1, .connect_timeout_s = 3,
		.io_timeout_s = 30, .retries = 3,
	};
	struct sl_objstore *s3 = NULL;
	int rc = sl_obj_open(&cfg, &s3, &err);
	if (!rc)
		rc = sl_obj_create_bucket(s3, &err);
	if (rc)
		fprintf(stderr, "s3 store: %s\n", err.msg);
	REQUIRE(rc == 0);
	struct sl_presigner *ps = NULL;
	rc = sl_presigner_new(&cfg, &ps, &err);
	if (rc)
		fprintf(stderr, "presigner: %s\n", err.msg);
	REQUIRE(rc == 0);

	test_urls(ps, s3);

	struct provider pv = {.ps = ps, .expires_s = 300};
	struct sl_presign_provider prov = {.url = provider_url, .arg = &pv};
	struct sl_objstore *s = open_presigned(&prov, 3);
	CHECK(!strncmp(s->description, "presigned http://", 17));
	test_contract(s, s3);
	test_odd_keys(s);
	run_threads(s, rw_worker, THREADS);
	test_big(s);
	test_provider_faults(&pv, s, s3);
	sl_obj_close(s);

	sl_presigner_free(ps);
	sl_obj_close(s3);
	curl_global_cleanup();
	return tu_finish("test_object_presign");
}
