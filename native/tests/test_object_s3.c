/*
 * test_object_s3.c - the "s3" backend: the SigV4 signer against AWS's documented example, bucket
 * URL parsing, and the object contract against the real S3 server of the test environment
 * (SLUICE_TEST_S3_ENDPOINT/ACCESS_KEY/SECRET_KEY, started by tests/env/s3-server.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "object/object.h"
#include "object/s3_sign.h"
#include "object_checks.h"
#include "aws_sigv4_example.h"
#include "testutil.h"

static const char *endpoint, *access_key, *secret_key;
static char bucket_url[512];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- without a server ---- */

static void test_sign(void)
{
	/* AWS SigV4 docs, "Example: GET Object": GET /test.txt with Range bytes=0-9. */
	const struct sl_s3_sign_input in = aws_example_request;
	const struct sl_s3_header *h = aws_example_headers;
	char auth[512];
	CHECK_RC(sl_s3_sign(&in, auth, sizeof(auth)), 0);
	CHECK(!strcmp(auth, AWS_EXAMPLE_AUTHORIZATION));
	CHECK_RC(sl_s3_sign(&in, auth, 40), -ENAMETOOLONG);

	char hash[65];
	sl_s3_sha256_hex("", 0, hash);
	CHECK(!strcmp(hash, h[2].value));

	char enc[128];
	CHECK(sl_s3_uri_encode("a b+c/\xc3\xbc~-._*", true, enc, sizeof(enc)) > 0);
	CHECK(!strcmp(enc, "a%20b%2Bc/%C3%BC~-._%2A"));
	CHECK(sl_s3_uri_encode("a/b=c&d", false, enc, sizeof(enc)) > 0);
	CHECK(!strcmp(enc, "a%2Fb%3Dc%26d"));
	CHECK_RC(sl_s3_uri_encode("abc", false, enc, 3), -ENAMETOOLONG);
}

static void check_ep(const char *storage, const char *url, int ps, const char *region,
		     const char *base, const char *host, const char *prefix, const char *bucket,
		     const char *want_region, int line)
{
	struct sl_s3_endpoint ep;
	struct sl_err err = {0};
	int rc = sl_s3_parse_endpoint(storage, url, ps, region, &ep, &err);
	if (rc || strcmp(ep.base, base) || strcmp(ep.host, host) || strcmp(ep.prefix, prefix) ||
	    strcmp(ep.bucket, bucket) || strcmp(ep.region, want_region)) {
		fprintf(stderr, "line %d: %s %s -> rc %d (%s) base %s host %s prefix %s bucket %s "
			"region %s\n", line, storage, url, rc, err.msg, ep.base, ep.host, ep.prefix,
			ep.bucket, ep.region);
		tu_failures++;
	}
}

static void test_endpoints(void)
{
	check_ep("minio", "http://127.0.0.1:9000/bkt", -1, NULL, "http://127.0.0.1:9000",
		 "127.0.0.1:9000", "/bkt", "bkt", "us-east-1", __LINE__);
	check_ep("minio", "127.0.0.1:9000/minio/bkt/?region=eu-1", -1, "us-east-1",
		 "http://127.0.0.1:9000", "127.0.0.1:9000", "/bkt", "bkt", "eu-1", __LINE__);
	check_ep("minio", "http://minio.example.com:9000/bkt", -1, NULL,
		 "http://minio.example.com:9000", "minio.example.com:9000", "/bkt", "bkt",
		 "us-east-1", __LINE__);
	check_ep("s3", "https://mybucket.s3.eu-west-1.amazonaws.com", -1, "us-east-1",
		 "https://mybucket.s3.eu-west-1.amazonaws.com",
		 "mybucket.s3.eu-west-1.amazonaws.com", "", "mybucket", "eu-west-1", __LINE__);
	check_ep("s3", "https://my.dotted.bucket.s3-us-west-1.amazonaws.com/", -1, NULL,
		 "https://my.dotted.bucket.s3-us-west-1.amazonaws.com",
		 "my.dotted.bucket.s3-us-west-1.amazonaws.com", "", "my.dotted.bucket", "us-west-1",
		 __LINE__);
	check_ep("s3", "mybucket.s3.amazonaws.com", -1, NULL, "https://mybucket.s3.amazonaws.com",
		 "mybucket.s3.amazonaws.com", "", "mybucket", "us-east-1", __LINE__);
	check_ep("s3", "https://s3.us-west-2.amazonaws.com/mybucket", -1, NULL,
		 "https://s3.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com", "/mybucket",
		 "mybucket", "us-west-2", __LINE__);
	check_ep("s3", "https://s3.us-west-2.amazonaws.com/mybucket", 0, NULL,
		 "https://mybucket.s3.us-west-2.amazonaws.com",
		 "mybucket.s3.us-west-2.amazonaws.com", "", "mybucket", "us-west-2", __LINE__);
	check_ep("s3", "https://b1.storage.example.com", -1, "ap-south-1",
		 "https://b1.storage.example.com", "b1.storage.example.com", "", "b1", "ap-south-1",
		 __LINE__);
	check_ep("s3", "https://b1.storage.example.com", 1, NULL, "https://storage.example.com",
		 "storage.example.com", "/b1", "b1", "us-east-1", __LINE__);
	check_ep("s3", "http://localhost:9000/b2", -1, NULL, "http://localhost:9000",
		 "localhost:9000", "/b2", "b2", "us-east-1", __LINE__);
	check_ep("s3", "http://[::1]:9000/b3", -1, NULL, "http://[::1]:9000", "[::1]:9000", "/b3",
		 "b3", "us-east-1", __LINE__);
	check_ep("s3", "http://10.1.2.3:9000/b5", 0, NULL, "http://10.1.2.3:9000", "10.1.2.3:9000",
		 "/b5", "b5", "us-east-1", __LINE__);
	check_ep("s3", "ceph.example.com:7480/b4", -1, NULL, "http://ceph.example.com:7480",
		 "ceph.example.com:7480", "/b4", "b4", "us-east-1", __LINE__);

	struct sl_s3_endpoint ep;
	struct sl_err err = {0};
	CHECK_RC(sl_s3_parse_endpoint("minio", "http://127.0.0.1:9000", -1, NULL, &ep, &err),
		 -EINVAL);
	CHECK(strstr(err.msg, "no bucket") != NULL);
	CHECK_RC(sl_s3_parse_endpoint("s3", "https://mybucket", -1, NULL, &ep, &err), -EINVAL);
	CHECK_RC(sl_s3_parse_endpoint("s3", "ftp://h/b", -1, NULL, &ep, &err), -EINVAL);
	CHECK_RC(sl_s3_parse_endpoint("s3", "http://h/bad$bucket", -1, NULL, &ep, &err), -EINVAL);
	CHECK_RC(sl_s3_parse_endpoint("s3", "http://user:hunter2@h/b", -1, NULL, &ep, &err),
		 -EINVAL);
	CHECK(strstr(err.msg, "hunter2") == NULL);
}

/* ---- against the server ---- */

static struct sl_objstore *open_store(const char *storage, const char *url, const char *ak,
				      const char *sk, int retries, int *rc_out, struct sl_err *err)
{
	struct sl_obj_config cfg = {
		.storage = storage, .bucket = url, .access_key = ak, .secret_key = sk,
		.region = "us-east-1", .path_style = -1, .connect_timeout_s = 3,
		.io_timeout_s = 30, .retries = retries,
	};
	struct sl_objstore *s = NULL;
	int rc = sl_obj_open(&cfg, &s, err);
	if (rc_out)
		*rc_out = rc;
	else if (rc)
		fprintf(stderr, "open %s: %s\n", url, err->msg);
	return s;
}

struct keys {
	char **v;
	size_t n, cap, stop_after;
};

static int collect(void *arg, const struct sl_obj_info *info)
{
	struct keys *k = arg;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->v = realloc(k->v, k->cap * sizeof(*k->v));
		REQUIRE(k->v != NULL);
	}
	k->v[k->n++] = strdup(info->key);
	return k->stop_after && k->n >= k->stop_after;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	*k = (struct keys){0};
}

static void test_contract(struct sl_objstore *s)
{
	struct sl_err err = {0};
	CHECK_RC(sl_obj_create_bucket(s, &err), 0); /* exists already: still fine */

	char data[1000], buf[1000];
	fill(data, sizeof(data), 3);
	const char *key = "vol/chunks/0/0/1_0_1000";
	CHECK_RC(sl_obj_put(s, key, data, sizeof(data), &err), 0);
	check_ranged_gets(s, key, data);

	struct sl_obj_info info;
	CHECK_RC(sl_obj_head(s, key, &info, &err), 0);
	CHECK_RC(info.size, 1000);
	CHECK(llabs((long long)(info.mtime_s - time(NULL))) < 300);

	CHECK_RC(sl_obj_put(s, "vol/empty", NULL, 0, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/empty", 0, buf, 10, &err), 0);
	CHECK_RC(sl_obj_head(s, "vol/empty", &info, &err), 0);
	CHECK_RC(info.size, 0);

	CHECK_RC(sl_obj_get(s, "vol/missing", 0, buf, 10, &err), -ENOENT);
	CHECK(strstr(err.msg, "vol/missing") && strstr(err.msg, "NoSuchKey"));
	CHECK_RC(sl_obj_head(s, "vol/missing", &info, &err), -ENOENT);
	CHECK_RC(atomic_load(&s->stats.retries), 0);

	CHECK_RC(sl_obj_delete(s, key, &err), 0);
	CHECK_RC(sl_obj_delete(s, key, &err), 0);
	CHECK_RC(sl_obj_get(s, key, 0, buf, 10, &err), -ENOENT);

	/* listing: byte order, prefix, start-after, early stop */
	const char *keys[] = {"l/a/b", "l/a.b", "l/a-c", "l/a/a/x", "l/a0", "l/b"};
	const char *sorted[] = {"l/a-c", "l/a.b", "l/a/a/x", "l/a/b", "l/a0", "l/b"};
	for (size_t i = 0; i < 6; i++)
		CHECK_RC(sl_obj_put(s, keys[i], keys[i], strlen(keys[i]), &err), 0);
	struct keys k = {0};
	CHECK_RC(sl_obj_list(s, "l/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 6);
	for (size_t i = 0; i < k.n && i < 6; i++)
		CHECK(!strcmp(k.v[i], sorted[i]));
	keys_free(&k);
	CHECK_RC(sl_obj_list(s, "l/a/", "l/a/a/x", collect, &k, &err), 0);
	CHECK(k.n == 1 && !strcmp(k.v[0], "l/a/b"));
	keys_free(&k);
	k.stop_after = 2;
	CHECK_RC(sl_obj_list(s, "l/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 2);
	keys_free(&k);
	CHECK_RC(sl_obj_list(s, "nothing/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 0);
	keys_free(&k);
}

static void test_odd_keys(struct sl_objstore *s)
{
	struct sl_err err = {0};
	put_odd_keys(s);
	/* the listing hands back exactly the same keys (XML entities decoded) */
	struct keys k = {0};
	CHECK_RC(sl_obj_list(s, "odd/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, N_ODD_KEYS);
	for (size_t i = 0; i < N_ODD_KEYS; i++) {
		bool found = false;
		for (size_t j = 0; j < k.n; j++)
			found |= !strcmp(k.v[j], odd_keys[i]);
		if (!found)
			fprintf(stderr, "key '%s' not listed back\n", odd_keys[i]);
		CHECK(found);
	}
	for (size_t j = 1; j < k.n; j++)
		CHECK(strcmp(k.v[j - 1], k.v[j]) < 0);
	keys_free(&k);
	/* a prefix and start-after that need encoding */
	CHECK_RC(sl_obj_list(s, "odd/with space/", "odd/with space/a", collect, &k, &err), 0);
	CHECK_RC(k.n, 1);
	keys_free(&k);
	for (size_t i = 0; i < N_ODD_KEYS; i++)
		CHECK_RC(sl_obj_delete(s, odd_keys[i], &err), 0);
}

/* ---- many threads ---- */

static void *page_worker(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	char key[64];
	for (int i = w->from; i < w->to; i++) {
		snprintf(key, sizeof(key), "page/k%05d", i);
		if (sl_obj_put(w->s, key, key, strlen(key), &err)) {
			fprintf(stderr, "put %s: %s\n", key, err.msg);
			w->failures++;
		}
	}
	return NULL;
}

static void test_paging(struct sl_objstore *s)
{
	enum { N = 1100 }; /* more than one page of 1000 */
	struct sl_err err = {0};
	run_threads(s, page_worker, N);
	struct keys k = {0};
	uint64_t lists = atomic_load(&s->stats.lists);
	CHECK_RC(sl_obj_list(s, "page/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, N);
	char want[64];
	for (size_t i = 0; i < k.n; i++) {
		snprintf(want, sizeof(want), "page/k%05zu", i);
		if (strcmp(k.v[i], want)) {
			fprintf(stderr, "key %zu is %s, want %s\n", i, k.v[i], want);
			tu_failures++;
			break;
		}
	}
	keys_free(&k);
	CHECK_RC(atomic_load(&s->stats.lists), lists + 1);
	/* start-after in the middle, with the rest spanning the page boundary */
	CHECK_RC(sl_obj_list(s, "page/", "page/k00049", collect, &k, &err), 0);
	CHECK_RC(k.n, N - 50);
	CHECK(k.n && !strcmp(k.v[0], "page/k00050") && !strcmp(k.v[k.n - 1], "page/k01099"));
	keys_free(&k);
	/* stopping in the second page */
	k.stop_after = 1050;
	CHECK_RC(sl_obj_list(s, "page/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 1050);
	keys_free(&k);
}

/* Uploads while other threads delete the last object under the same prefix: MinIO removes the
 * emptied directory under an upload and once answered AccessDenied (1 in ~1000 uploads here). */
static void *churn_worker(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	char key[64], data[4096];
	fill(data, sizeof(data), (unsigned)w->id);
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "churn/%d/t%d_%d", i / 100, w->id, i);
		if (sl_obj_put(w->s, key, data, sizeof(data), &err) ||
		    sl_obj_delete(w->s, key, &err)) {
			fprintf(stderr, "churn %s: %s\n", key, err.msg);
			w->failures++;
		}
	}
	return NULL;
}

/* ---- failures ---- */

static void test_failures(const char *bucket)
{
	struct sl_err err = {0};
	char buf[16];
	int rc;

	/* a wrong secret is hopeless: no retries, an answer at once, the secret never shown */
	struct sl_objstore *s = open_store("minio", bucket_url, access_key, "wrong-secret-XYZ", 5,
					   NULL, &err);
	REQUIRE(s);
	double t0 = now_s();
	CHECK_RC(sl_obj_put(s, "k", "x", 1, &err), -EACCES);
	CHECK(now_s() - t0 < 2.0);
	CHECK(strstr(err.msg, "SignatureDoesNotMatch") && strstr(err.msg, "HTTP 403"));
	CHECK(!strstr(err.msg, "wrong-secret-XYZ") && !strstr(err.msg, secret_key));
	CHECK_RC(sl_obj_head(s, "k", &(struct sl_obj_info){0}, &err), -EACCES);
	CHECK_RC(atomic_load(&s->stats.retries), 0);
	sl_obj_close(s);

	/* an unknown access key, and anonymous access to a private bucket */
	s = open_store("minio", bucket_url, "nobody-here", "whatever-secret", 5, NULL, &err);
	REQUIRE(s);
	CHECK_RC(sl_obj_get(s, "k", 0, buf, sizeof(buf), &err), -EACCES);
	CHECK(strstr(err.msg, "InvalidAccessKeyId") != NULL);
	sl_obj_close(s);
	s = open_store("minio", bucket_url, NULL, NULL, 5, NULL, &err);
	REQUIRE(s);
	CHECK_RC(sl_obj_put(s, "k", "x", 1, &err), -EACCES);
	sl_obj_close(s);

	/* a bucket that does not exist */
	char url[600];
	snprintf(url, sizeof(url), "%s/%s-missing", endpoint, bucket);
	s = open_store("minio", url, access_key, secret_key, 3, NULL, &err);
	REQUIRE(s);
	CHECK_RC(sl_obj_get(s, "k", 0, buf, sizeof(buf), &err), -ENOENT);
	CHECK(strstr(err.msg, "NoSuchBucket") != NULL);
	struct keys k = {0};
	CHECK_RC(sl_obj_list(s, "", NULL, collect, &k, &err), -ENOENT);
	sl_obj_close(s);

	/* a closed port: refused on every attempt, retried the configured number of times */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		getsockname(fd, (struct sockaddr *)&sa, &salen) == 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", ntohs(sa.sin_port), bucket);
	s = open_store("minio", url, access_key, secret_key, 3, NULL, &err);
	REQUIRE(s);
	t0 = now_s();
	CHECK_RC(sl_obj_get(s, "k", 0, buf, sizeof(buf), &err), -ECONNREFUSED);
	CHECK(now_s() - t0 < 5.0);
	CHECK(strstr(err.msg, "after 3 attempts") && strstr(err.msg, "cannot connect"));
	CHECK_RC(atomic_load(&s->stats.retries), 2);
	CHECK_RC(atomic_load(&s->stats.errors), 1);
	sl_obj_close(s);

	/* a server that accepts connections but never answers: the I/O timeout, then retries */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = 0;
	salen = sizeof(sa);
	REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		listen(fd, 8) == 0 && getsockname(fd, (struct sockaddr *)&sa, &salen) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", ntohs(sa.sin_port), bucket);
	struct sl_obj_config slow = {
		.storage = "minio", .bucket = url, .access_key = access_key,
		.secret_key = secret_key, .path_style = -1, .connect_timeout_s = 1,
		.io_timeout_s = 1, .retries = 2,
	};
	REQUIRE(sl_obj_open(&slow, &s, &err) == 0);
	t0 = now_s();
	CHECK_RC(sl_obj_get(s, "k", 0, buf, sizeof(buf), &err), -ETIMEDOUT);
	CHECK(now_s() - t0 < 6.0);
	CHECK(strstr(err.msg, "after 2 attempts") && strstr(err.msg, "timed out"));
	sl_obj_close(s);
	close(fd);

	/* a host name that cannot resolve (.invalid never does) is not retried */
	snprintf(url, sizeof(url), "http://sluice-test.invalid:9000/%s", bucket);
	s = open_store("s3", url, access_key, secret_key, 3, NULL, &err);
	REQUIRE(s);
	rc = sl_obj_get(s, "k", 0, buf, sizeof(buf), &err);
	if (rc != -ETIMEDOUT) { /* a resolver that does not answer at all times out instead */
		CHECK_RC(rc, -EHOSTUNREACH);
		CHECK_RC(atomic_load(&s->stats.retries), 0);
	}
	sl_obj_close(s);

	/* bad configurations are refused at open */
	s = open_store("minio", endpoint, access_key, secret_key, 3, &rc, &err);
	CHECK(s == NULL && rc == -EINVAL);
	s = open_store("minio", bucket_url, access_key, NULL, 3, &rc, &err);
	CHECK(s == NULL && rc == -EINVAL);
}

int main(void)
{
	test_sign();
	test_endpoints();

	endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	char bucket[64];
	snprintf(bucket, sizeof(bucket), "sluice-test-%ld-%d", (long)time(NULL), (int)getpid());
	snprintf(bucket_url, sizeof(bucket_url), "%s/%s", endpoint, bucket);

	struct sl_err err = {0};
	struct sl_objstore *s = open_store("minio", bucket_url, access_key, secret_key, 3, NULL,
					   &err);
	REQUIRE(s != NULL);
	CHECK(!strncmp(s->description, "minio http://", 13) && strstr(s->description, bucket));
	int rc = sl_obj_create_bucket(s, &err);
	if (rc)
		fprintf(stderr, "create bucket: %s\n", err.msg);
	REQUIRE(rc == 0);

	test_contract(s);
	test_odd_keys(s);
	test_paging(s);
	run_threads(s, rw_worker, THREADS);
	run_threads(s, churn_worker, THREADS);
	uint64_t got = atomic_load(&s->stats.get_bytes);
	test_big(s);
	CHECK(atomic_load(&s->stats.get_bytes) - got >= (uint64_t)(20 << 20));
	test_failures(bucket);
	sl_obj_close(s);

	/* the same bucket through storage "s3" (path style for an IP address) */
	s = open_store("s3", bucket_url, access_key, secret_key, 3, NULL, &err);
	REQUIRE(s != NULL);
	char buf[16];
	CHECK_RC(sl_obj_get(s, "page/k00007", 0, buf, sizeof(buf), &err), 11);
	CHECK(!memcmp(buf, "page/k00007", 11));
	sl_obj_close(s);
	return tu_finish("test_object_s3");
}
