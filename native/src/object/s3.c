/*
 * s3.c - object storage backend "s3" (also "minio"): the S3 REST API over libcurl, signed with AWS
 * SigV4 (OpenSSL). Each store keeps a small pool of curl easy handles, so connections and TLS
 * sessions are reused across requests and threads without any global state.
 */
#include "object.h"
#include "s3_sign.h"
#include "s3_xml.h"
#include "../util/crc32c.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* curl's receive buffer for object GETs: its default of 16 KiB cost a recv and a callback per
 * 16 KiB of a block, a quarter of the client's CPU in a cold read. A handle keeps its buffer, so
 * the POOL_MAX idle ones hold at most 16 MiB. */
#define GET_BUFFER_SIZE (256L << 10)
#define POOL_MAX 64               /* idle easy handles (and so connections) kept per store */
#define ERROR_BODY_MAX (64 << 10) /* more than any S3 error document */
#define LIST_BODY_MAX (16 << 20)  /* a page of 1000 keys is a few hundred KiB */
#define LIST_PAGE "1000"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DEFAULT_REGION "us-east-1"

/* ---- SigV4 ---- */

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

void sl_s3_crc32c_b64(const void *data, size_t len, char out[16])
{
	uint32_t c = sl_crc32c(0, data, len);
	unsigned char be[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16),
			       (unsigned char)(c >> 8), (unsigned char)c};
	EVP_EncodeBlock((unsigned char *)out, be, 4);
}

void sl_s3_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	hex(md, 32, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

int sl_s3_uri_encode(const char *s, bool keep_slash, char *out, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
			     (keep_slash && *p == '/');
		if (o + (plain ? 1 : 3) >= size)
			return -ENAMETOOLONG;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = digits[*p >> 4];
			out[o++] = digits[*p & 15];
		}
	}
	if (o >= size)
		return -ENAMETOOLONG;
	out[o] = 0;
	return (int)o;
}

/* "host;range;x-amz-date": the SignedHeaders list of a request. */
static int signed_header_list(const struct sl_s3_sign_input *in, char *out, size_t size)
{
	size_t sh = 0;
	out[0] = 0;
	for (size_t i = 0; i < in->nheaders && sh < size; i++)
		sh += (size_t)snprintf(out + sh, size - sh, "%s%s", i ? ";" : "",
				       in->headers[i].name);
	return sh >= size ? -ENAMETOOLONG : 0;
}

int sl_s3_signature(const struct sl_s3_sign_input *in, char out[65])
{
	char signed_headers[256];
	if (signed_header_list(in, signed_headers, sizeof(signed_headers)))
		return -ENAMETOOLONG;

	char *creq = NULL;
	size_t creqlen = 0;
	FILE *f = open_memstream(&creq, &creqlen);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n%s\n%s\n", in->method, in->uri, in->query);
	for (size_t i = 0; i < in->nheaders; i++)
		fprintf(f, "%s:%s\n", in->headers[i].name, in->headers[i].value);
	fprintf(f, "\n%s\n%s", signed_headers, in->payload_hash);
	bool failed = ferror(f);
	if (fclose(f) || failed) {
		free(creq);
		return -ENOMEM;
	}
	char creq_hash[65];
	sl_s3_sha256_hex(creq, creqlen, creq_hash);
	free(creq);

	char date[9], scope[128], sts[256];
	snprintf(date, sizeof(date), "%.8s", in->amz_date);
	snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date, in->region);
	snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", in->amz_date, scope, creq_hash);

	/* The signing key: HMACs from "AWS4" + secret over date, region, service, terminator. */
	size_t slen = strlen(in->secret_key);
	unsigned char *k0 = malloc(slen + 4), k1[32], k2[32], sig[32];
	if (!k0)
		return -ENOMEM;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, in->secret_key, slen);
	hmac(k0, slen + 4, date, k1);
	OPENSSL_cleanse(k0, slen + 4);
	free(k0);
	hmac(k1, 32, in->region, k2);
	hmac(k2, 32, "s3", k1);
	hmac(k1, 32, "aws4_request", k2);
	hmac(k2, 32, sts, sig);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	hex(sig, 32, out);
	return 0;
}

int sl_s3_sign(const struct sl_s3_sign_input *in, char *out, size_t size)
{
	char signed_headers[256], sighex[65];
	int rc = signed_header_list(in, signed_headers, sizeof(signed_headers));
	if (!rc)
		rc = sl_s3_signature(in, sighex);
	if (rc)
		return rc;
	int n = snprintf(out, size,
			 "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/s3/aws4_request,SignedHeaders=%s,"
			 "Signature=%s",
			 in->access_key, in->amz_date, in->region, signed_headers, sighex);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- bucket URLs ---- */

/* The region of an AWS endpoint such as s3.eu-west-1.amazonaws.com, as JuiceFS derives it. */
static void aws_region(const char *host, char *out, size_t size)
{
	if (!strncmp(host, "s3-", 3) || !strncmp(host, "s3.", 3))
		host += 3;
	if (!strncmp(host, "dualstack.", 10))
		host += 10;
	if (!strcmp(host, "amazonaws.com"))
		host = DEFAULT_REGION ".amazonaws.com";
	snprintf(out, size, "%.*s", (int)strcspn(host, "."), host);
	if (!strcmp(out, "external-1"))
		snprintf(out, size, DEFAULT_REGION);
}

static bool valid_bucket(const char *b, size_t n)
{
	if (!n || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
		      (b[i] >= '0' && b[i] <= '9') || strchr(".-_", b[i])))
			return false;
	return true;
}

int sl_s3_parse_endpoint(const char *storage, const char *url, int path_style, const char *region,
			 struct sl_s3_endpoint *ep, struct sl_err *err)
{
	bool minio = !strcmp(storage, "minio");
	memset(ep, 0, sizeof(*ep));
	const char *sep = strstr(url, "://"), *rest = url, *scheme;
	size_t ulen = strlen(url);
	if (sep) {
		scheme = url;
		rest = sep + 3;
		if (sep - url == 5 && !strncasecmp(url, "https", 5))
			ep->https = true;
		else if (!(sep - url == 4 && !strncasecmp(url, "http", 4)))
			return sl_errf(err, -EINVAL, "%s: bucket URL must start with "
				       "http:// or https://", storage);
	} else {
		/* JuiceFS's default scheme: http for minio and for anything that looks like
		 * host.domain other than AWS, https for AWS and bare bucket names. */
		ep->https = !minio && (!strchr(url, '.') ||
				       (ulen > 14 && !strcmp(url + ulen - 14, ".amazonaws.com")));
		scheme = ep->https ? "https" : "http";
	}
	size_t slen = sep ? (size_t)(sep - url) : strlen(scheme);

	char auth[256], host[256], url_region[64] = "";
	size_t alen = strcspn(rest, "/?");
	if (!alen || alen >= sizeof(auth))
		return sl_errf(err, -EINVAL, "%s: no host in bucket URL '%.200s'", storage, url);
	if (memchr(rest, '@', alen))
		return sl_errf(err, -EINVAL, "%s: credentials in the bucket URL are not supported; "
			       "set access-key and secret-key", storage);
	memcpy(auth, rest, alen);
	auth[alen] = 0;
	size_t hlen = auth[0] == '[' ? strcspn(auth, "]") + 1 : strcspn(auth, ":");
	snprintf(host, sizeof(host), "%.*s", (int)(hlen < alen ? hlen : alen), auth);
	const char *path = rest + alen;
	const char *query = strchr(path, '?');
	size_t plen = query ? (size_t)(query - path) : strlen(path);
	for (const char *q = query; q && *q; q = strchr(q + 1, '&'))
		if (!strncmp(q + 1, "region=", 7))
			snprintf(url_region, sizeof(url_region), "%.*s", (int)strcspn(q + 8, "&"),
				 q + 8);

	while (plen && *path == '/')
		path++, plen--;
	size_t blen = strcspn(path, "/?");
	if (blen > plen)
		blen = plen;
	if (minio && blen == 5 && !strncmp(path, "minio", 5) && plen > 6) { /* minio/BUCKET */
		path += 6;
		blen = strcspn(path, "/?");
	}
	bool amazon = strstr(host, ".amazonaws.com") != NULL;
	const char *endpoint = auth, *bucket = path;
	bool vhost_form = false;
	if (blen) {
		if (amazon && !url_region[0])
			aws_region(host, url_region, sizeof(url_region));
	} else if (minio) {
		return sl_errf(err, -EINVAL, "minio: no bucket name in '%.200s' (expected "
			       "http://HOST:PORT/BUCKET)", url);
	} else {
		/* BUCKET.s3.REGION.amazonaws.com or BUCKET.HOST */
		const char *s3 = amazon ? strstr(auth, ".s3") : NULL;
		const char *dot = s3 ? s3 : strchr(auth, '.');
		if (!dot)
			return sl_errf(err, -EINVAL,
				       "s3: cannot tell endpoint and region of bucket '%s'; use "
				       "https://BUCKET.s3.REGION.amazonaws.com or "
				       "http(s)://HOST[:PORT]/BUCKET", auth);
		bucket = auth;
		blen = (size_t)(dot - auth);
		endpoint = dot + 1;
		vhost_form = true;
		if (amazon && !url_region[0])
			aws_region(endpoint, url_region, sizeof(url_region));
	}
	if (!valid_bucket(bucket, blen))
		return sl_errf(err, -EINVAL, "%s: bad bucket name '%.*s' in '%.200s'", storage,
			       (int)(blen < 100 ? blen : 100), bucket, url);
	snprintf(ep->bucket, sizeof(ep->bucket), "%.*s", (int)blen, bucket);

	struct in_addr a4;
	bool ip = host[0] == '[' || inet_pton(AF_INET, host, &a4) == 1;
	if (path_style < 0)
		path_style = minio || !strcasecmp(host, "localhost") || !vhost_form;
	path_style |= ip; /* BUCKET.1.2.3.4 cannot work */
	ep->path_style = path_style;
	if (path_style) {
		snprintf(ep->host, sizeof(ep->host), "%s", endpoint);
		snprintf(ep->prefix, sizeof(ep->prefix), "/%s", ep->bucket);
	} else {
		snprintf(ep->host, sizeof(ep->host), "%s.%s", ep->bucket, endpoint);
	}
	snprintf(ep->base, sizeof(ep->base), "%.*s://%s", (int)slen, scheme, ep->host);
	snprintf(ep->region, sizeof(ep->region), "%s",
		 url_region[0] ? url_region : region && region[0] ? region : DEFAULT_REGION);
	return 0;
}

/* ---- requests ---- */

/* The transport, shared with the presigned backend: curl handles kept for reuse, and timeouts. */
struct sl_s3_http {
	char *ca_file;
	long connect_timeout_s, io_timeout_s;
	pthread_mutex_t lock; /* guards idle[] */
	CURL *idle[POOL_MAX];
	int nidle;
};

struct s3 {
	struct sl_s3_endpoint ep;
	char *access_key, *secret_key, *token;
	struct sl_s3_http *http;
};

struct buf {
	char *data;
	size_t len, cap, max;
	bool overflow;
};

struct req {
	const struct s3 *p; /* signs the request; NULL: url carries its own authorisation */
	const char *url;    /* a presigned URL (when p is NULL); never shown in messages */
	const char *label;  /* names a presigned request in messages */
	const char *method;
	const char *key;         /* NULL: the bucket itself */
	const char *query;       /* canonical query string */
	const char *list_prefix; /* for messages about a list request */
	const char *range;
	const char *body;
	size_t body_len, body_off;
	char *dst; /* a successful GET of an object lands here */
	size_t dst_cap, dst_len;
	uint64_t off;
	struct buf resp; /* any other body: list pages, error documents */
	int abort_code;  /* why write_cb stopped the transfer */
	const char *abort_why;
	long status;
	curl_off_t size, mtime; /* HEAD */
	bool expired;           /* refused because a presigned URL's time ran out */
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
};

/* OpenSSL frees its global state in an atexit handler unless told not to. A process may call
 * exit() while threads of ours still sign requests: a JVM closes no volume that its shutdown
 * hooks do not (FileContext never closes its AbstractFileSystem; Hive on Tez exited with some
 * volume open), and the volume's workers, uploading or deleting blocks, then crashed in libcrypto
 * (SIGSEGV in pthread_rwlock_rdlock, SIGBUS) after that handler ran. The state stays until the
 * process is gone. Runs when the library is loaded, before any OpenSSL call of ours. */
__attribute__((constructor)) static void openssl_keep_at_exit(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int req_errf(const struct req *r, struct sl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int req_errf(const struct req *r, struct sl_err *err, int code, const char *fmt, ...)
{
	const struct s3 *p = r->p;
	char detail[SL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (!p)
		return sl_errf(err, code, "%s: %s", r->label, detail);
	if (r->list_prefix)
		return sl_errf(err, code, "s3 list %s%s prefix '%s': %s", p->ep.base, p->ep.prefix,
			       r->list_prefix, detail);
	return sl_errf(err, code, "s3 %s %s%s%s%s: %s", r->method, p->ep.base, p->ep.prefix,
		       r->key ? "/" : "", r->key ? r->key : "", detail);
}

static int buf_add(struct buf *b, const char *p, size_t n)
{
	if (n > b->max - b->len) {
		b->overflow = true;
		n = b->max - b->len;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct req *r = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->dst && status / 100 == 2) {
		if (status == 200 && (r->off || n > r->dst_cap - r->dst_len)) {
			r->abort_code = -EIO;
			r->abort_why = "the server ignored the Range header (HTTP 200, not 206)";
			return 0;
		}
		if (n > r->dst_cap - r->dst_len) {
			r->abort_code = -EIO;
			r->abort_why = "the server sent more bytes than requested";
			return 0;
		}
		memcpy(r->dst + r->dst_len, data, n);
		r->dst_len += n;
		return n;
	}
	if (buf_add(&r->resp, data, n)) {
		r->abort_code = -ENOMEM;
		r->abort_why = "out of memory";
		return 0;
	}
	return n;
}

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct req *r = arg;
	size_t n = size * nmemb;
	if (n > r->body_len - r->body_off)
		n = r->body_len - r->body_off;
	memcpy(dst, r->body + r->body_off, n);
	r->body_off += n;
	return n;
}

/* curl rewinds the body when it resends a request on a fresh connection. */
static int seek_cb(void *arg, curl_off_t off, int origin)
{
	struct req *r = arg;
	if (origin != SEEK_SET || off < 0 || (size_t)off > r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static CURL *pool_take(struct sl_s3_http *p)
{
	CURL *h = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->nidle)
		h = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->lock);
	if (h)
		curl_easy_reset(h); /* keeps its live connections, DNS cache and TLS sessions */
	return h ? h : curl_easy_init();
}

static void pool_give(struct sl_s3_http *p, CURL *h)
{
	pthread_mutex_lock(&p->lock);
	if (p->nidle < POOL_MAX) {
		p->idle[p->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (h)
		curl_easy_cleanup(h);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line;
	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	struct curl_slist *l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* The signed headers of a request, and its Authorization unless the store is anonymous. */
static int build_headers(const struct s3 *p, const struct req *r, const char *path,
			 struct curl_slist **out)
{
	char date[20], hash[65], auth[1024], crc[16] = "";
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	if (r->body_len && p->ep.https) {
		/* TLS protects the body on the way; its integrity at the store is checked against a
		 * CRC32C, which costs a fraction of the SHA-256 of every block the signature needs
		 * otherwise */
		snprintf(hash, sizeof(hash), "UNSIGNED-PAYLOAD");
		sl_s3_crc32c_b64(r->body, r->body_len, crc);
	} else if (r->body_len) {
		sl_s3_sha256_hex(r->body, r->body_len, hash);
	} else {
		memcpy(hash, EMPTY_SHA256, sizeof(hash));
	}

	struct sl_s3_header h[6];
	size_t n = 0;
	h[n++] = (struct sl_s3_header){"host", p->ep.host};
	if (r->range)
		h[n++] = (struct sl_s3_header){"range", r->range};
	if (crc[0])
		h[n++] = (struct sl_s3_header){"x-amz-checksum-crc32c", crc};
	h[n++] = (struct sl_s3_header){"x-amz-content-sha256", hash};
	h[n++] = (struct sl_s3_header){"x-amz-date", date};
	if (p->token)
		h[n++] = (struct sl_s3_header){"x-amz-security-token", p->token};
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = add_header(out, h[i].name, h[i].value);
	if (!rc && p->access_key) {
		struct sl_s3_sign_input in = {
			.access_key = p->access_key, .secret_key = p->secret_key,
			.region = p->ep.region, .method = r->method, .uri = path, .query = r->query,
			.headers = h, .nheaders = n, .payload_hash = hash, .amz_date = date,
		};
		rc = sl_s3_sign(&in, auth, sizeof(auth));
		if (!rc)
			rc = add_header(out, "Authorization", auth);
	}
	/* No 100-continue round trip before each upload. */
	struct curl_slist *l = rc ? NULL : curl_slist_append(*out, "Expect:");
	if (l)
		*out = l;
	return rc ? rc : l ? 0 : -ENOMEM;
}

static int curl_error(const struct req *r, CURLcode cc, struct sl_err *err)
{
	const char *detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
	const char *what = "request failed";
	int code = -EIO;
	switch (cc) {
	case CURLE_WRITE_ERROR:
		if (r->abort_code)
			return req_errf(r, err, r->abort_code, "%s", r->abort_why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = -ETIMEDOUT, what = "timed out";
		break;
	case CURLE_COULDNT_CONNECT:
		code = -ECONNREFUSED, what = "cannot connect";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		code = -EHOSTUNREACH, what = "unknown host";
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		code = -ECONNRESET, what = "connection lost";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
		return req_errf(r, err, -EACCES,
				"TLS certificate verification failed (%s); set s3.ca-file to the "
				"CA bundle that signed the server's certificate", detail);
	case CURLE_OUT_OF_MEMORY:
		code = -ENOMEM, what = "out of memory";
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		code = -EINVAL, what = "bad URL";
		break;
	default:
		break;
	}
	return req_errf(r, err, code, "%s (%s)", what, detail);
}

/* The headers of a request to a presigned URL: nothing to sign, a Range to ask for. */
static int url_headers(const struct req *r, struct curl_slist **out)
{
	int rc = r->range ? add_header(out, "Range", r->range) : 0;
	struct curl_slist *l = rc ? NULL : curl_slist_append(*out, "Expect:");
	if (l)
		*out = l;
	return rc ? rc : l ? 0 : -ENOMEM;
}

/* One HTTP exchange. 0 when a response arrived (whatever its status), else a transport error.
 * With r->p the request goes to r->key in p's bucket, signed; without, to r->url as it is. */
static int http_call(struct sl_s3_http *t, struct req *r, struct sl_err *err)
{
	const struct s3 *p = r->p;
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *path = NULL;
	CURL *h = NULL;
	int rc = 0;

	if (p) {
		size_t klen = r->key ? strlen(r->key) : 0;
		size_t size = sizeof(p->ep.prefix) + 3 * klen + 2;
		if (!(path = malloc(size))) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
		int n = snprintf(path, size, "%s%s", p->ep.prefix,
				 r->key || !p->ep.prefix[0] ? "/" : "");
		if (r->key)
			sl_s3_uri_encode(r->key, true, path + n, size - (size_t)n);
		if (asprintf(&url, "%s%s%s%s", p->ep.base, path, r->query[0] ? "?" : "",
			     r->query) < 0) {
			url = NULL;
			rc = sl_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
		rc = build_headers(p, r, path, &hdrs);
	} else {
		rc = url_headers(r, &hdrs);
	}
	if (rc) {
		rc = req_errf(r, err, rc, "cannot %s the request: %s", p ? "sign" : "prepare",
			      strerror(-rc));
		goto out;
	}
	if (!(h = pool_take(t))) {
		rc = req_errf(r, err, -ENOMEM, "cannot create a curl handle");
		goto out;
	}
	r->h = h;
	curl_easy_setopt(h, CURLOPT_URL, p ? url : r->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* "a/../b" is a key, not a path to squash */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t->connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, t->io_timeout_s);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (r->dst)
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, GET_BUFFER_SIZE);
	if (t->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}

	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->size);
	curl_easy_getinfo(h, CURLINFO_FILETIME_T, &r->mtime);
	if (cc != CURLE_OK)
		rc = curl_error(r, cc, err);
out:
	if (h)
		pool_give(t, h);
	curl_slist_free_all(hdrs);
	free(url);
	free(path);
	return rc;
}

static int s3_call(struct sl_objstore *s, struct req *r, struct sl_err *err)
{
	r->p = s->priv;
	return http_call(r->p->http, r, err);
}

/* Code and Message of an S3 error document, if the body is one. */
static void error_fields(const struct req *r, char *code, size_t csize, char *msg, size_t msize)
{
	code[0] = msg[0] = 0;
	if (r->resp.data)
		sl_s3_xml_error(r->resp.data, r->resp.len, code, csize, msg, msize);
}

static int classify(long status, const char *code)
{
	static const struct {
		const char *code;
		int err;
	} codes[] = {
		{"NoSuchKey", -ENOENT},           {"NoSuchBucket", -ENOENT},
		{"AccessDenied", -EACCES},        {"InvalidAccessKeyId", -EACCES},
		{"SignatureDoesNotMatch", -EACCES}, {"ExpiredToken", -EACCES},
		{"InvalidToken", -EACCES},        {"RequestTimeTooSkewed", -EACCES},
		{"AuthorizationHeaderMalformed", -EINVAL}, {"InvalidBucketName", -EINVAL},
		{"RequestTimeout", -ETIMEDOUT},   {"SlowDown", -EAGAIN},
		{"InternalError", -EAGAIN},       {"ServiceUnavailable", -EAGAIN},
		{"OperationAborted", -EAGAIN},
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i].code))
			return codes[i].err;
	if (status == 404)
		return -ENOENT;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 408)
		return -ETIMEDOUT;
	if (status == 429 || status >= 500)
		return -EAGAIN;
	return -EIO;
}

/* Also notes in r->expired whether a presigned URL was refused for its age, the one refusal a fresh
 * URL can cure. S3 and MinIO word it the same; a HEAD response carries no text to tell by. */
static int http_error(struct req *r, struct sl_err *err)
{
	char code[64], msg[256];
	error_fields(r, code, sizeof(code), msg, sizeof(msg));
	int rc = classify(r->status, code);
	r->expired = !r->p && r->status == 403 && strstr(msg, "Request has expired");
	const char *hint = rc == -EACCES && !r->p ? " (a presigned URL for another object or method, "
						     "or signed with wrong keys)"
			   : rc == -EACCES ? " (check access-key, secret-key and the bucket policy)"
			   : !strcmp(code, "NoSuchBucket") ? " (create the bucket or fix its URL)"
							   : "";
	if (r->expired)
		hint = " (the presigned URL has expired)";
	return req_errf(r, err, rc, "HTTP %ld%s%s%s%s%s", r->status, code[0] ? " " : "", code,
			msg[0] ? ": " : "", msg, hint);
}

static void req_free(struct req *r)
{
	free(r->resp.data);
}

/* An object request (r->method on r->key) and its outcome in object.h's terms: GET returns the
 * bytes read (0 for a range past the end), HEAD fills *info, DELETE of a missing object succeeds. */
static int64_t object_call(struct sl_s3_http *t, struct req *r, struct sl_obj_info *info,
			   struct sl_err *err)
{
	char range[64];
	bool get = r->dst != NULL, head = !strcmp(r->method, "HEAD");
	if (get) {
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)r->off,
			 (unsigned long long)(r->off + r->dst_cap - 1));
		r->range = range;
	}
	r->resp.max = ERROR_BODY_MAX;
	const struct req fresh = *r;
	int64_t rc = http_call(t, r, err);
	if (!rc && r->status == 403 && !strcmp(r->method, "PUT")) {
		/* MinIO refuses a PUT with AccessDenied when a DELETE of the last object under the
		 * same prefix removes the directory the upload is being renamed into (its on-disk
		 * layout mirrors the key's slashes). A real refusal says the same twice; that race
		 * does not, so one immediate second try tells them apart. */
		req_free(r);
		*r = fresh;
		rc = http_call(t, r, err);
	}
	if (rc)
		;
	else if ((get && r->status == 416) || (!strcmp(r->method, "DELETE") && r->status == 404))
		rc = 0; /* 416: the range starts at or after the end, a read of 0 bytes */
	else if (r->status / 100 != 2)
		rc = http_error(r, err);
	else if (get)
		rc = (int64_t)r->dst_len;
	else if (head && r->size < 0)
		rc = req_errf(r, err, -EIO, "response without Content-Length");
	else if (head && info)
		*info = (struct sl_obj_info){.key = r->key, .size = (uint64_t)r->size,
					     .mtime_s = r->mtime > 0 ? (int64_t)r->mtime : 0};
	req_free(r);
	return rc;
}

int64_t sl_s3_url_call(struct sl_s3_http *t, struct sl_s3_url_op *op, struct sl_err *err)
{
	struct req r = {.url = op->url, .label = op->label, .method = op->method, .key = op->key,
			.query = "", .body = op->body, .body_len = op->body_len, .dst = op->dst,
			.dst_cap = op->len, .off = op->off};
	int64_t rc = object_call(t, &r, op->info, err);
	op->expired = r.expired;
	return rc;
}

int sl_s3_http_new(const struct sl_obj_config *cfg, struct sl_s3_http **out, struct sl_err *err)
{
	*out = NULL;
	if (pthread_once(&curl_once, curl_init_once) || curl_init_rc != CURLE_OK)
		return sl_errf(err, -EIO, "%s: libcurl failed to initialise: %s", cfg->storage,
			       curl_easy_strerror(curl_init_rc));
	struct sl_s3_http *t = calloc(1, sizeof(*t));
	if (!t)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = pthread_mutex_init(&t->lock, NULL);
	if (rc) {
		free(t);
		return sl_errf(err, -rc, "%s: cannot create a mutex", cfg->storage);
	}
	if (cfg->ca_file && cfg->ca_file[0] && !(t->ca_file = strdup(cfg->ca_file))) {
		sl_s3_http_free(t);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	t->connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
	t->io_timeout_s = cfg->io_timeout_s > 0 ? cfg->io_timeout_s : 60;
	*out = t;
	return 0;
}

void sl_s3_http_free(struct sl_s3_http *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nidle; i++)
		curl_easy_cleanup(t->idle[i]);
	pthread_mutex_destroy(&t->lock);
	free(t->ca_file);
	free(t);
}

/* ---- the backend ---- */

static void s3_cleanup(struct sl_objstore *s)
{
	struct s3 *p = s->priv;
	sl_s3_http_free(p->http);
	p->http = NULL;
	if (p->secret_key)
		OPENSSL_cleanse(p->secret_key, strlen(p->secret_key));
	if (p->token)
		OPENSSL_cleanse(p->token, strlen(p->token));
	free(p->access_key);
	free(p->secret_key);
	free(p->token);
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d = s && s[0] ? strdup(s) : NULL;
	if (s && s[0] && !d)
		*oom = true;
	return d;
}

static int s3_init(struct sl_objstore *s, const struct sl_obj_config *cfg, struct sl_err *err)
{
	struct s3 *p = s->priv;
	int rc = sl_s3_parse_endpoint(cfg->storage, cfg->bucket, cfg->path_style, cfg->region,
				      &p->ep, err);
	if (rc)
		return rc;
	if (cfg->access_key && cfg->access_key[0] && !(cfg->secret_key && cfg->secret_key[0]))
		return sl_errf(err, -EINVAL, "s3: access key given without a secret key");
	if ((rc = sl_s3_http_new(cfg, &p->http, err)))
		return rc;
	if (p->ep.https && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_SSL)) {
		s3_cleanup(s);
		return sl_errf(err, -EINVAL, "s3: this libcurl has no TLS support for %s",
			       p->ep.base);
	}
	bool oom = false;
	p->access_key = dup_opt(cfg->access_key, &oom);
	p->secret_key = p->access_key ? dup_opt(cfg->secret_key, &oom) : NULL;
	p->token = p->access_key ? dup_opt(cfg->session_token, &oom) : NULL;
	if (oom) {
		s3_cleanup(s);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int s3_create_bucket(struct sl_objstore *s, struct sl_err *err)
{
	struct s3 *p = s->priv;
	char body[256] = "";
	if (strcmp(p->ep.region, DEFAULT_REGION))
		snprintf(body, sizeof(body),
			 "<CreateBucketConfiguration "
			 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>%s"
			 "</LocationConstraint></CreateBucketConfiguration>",
			 p->ep.region);
	struct req r = {.method = "PUT", .query = "", .body = body, .body_len = strlen(body),
			.resp.max = ERROR_BODY_MAX};
	int rc = s3_call(s, &r, err);
	if (!rc && r.status / 100 != 2) {
		char code[64], msg[8];
		error_fields(&r, code, sizeof(code), msg, sizeof(msg));
		if (r.status != 409 || (strcmp(code, "BucketAlreadyOwnedByYou") &&
					strcmp(code, "BucketAlreadyExists")))
			rc = http_error(&r, err);
	}
	req_free(&r);
	return rc;
}

static int s3_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
		  struct sl_err *err)
{
	struct req r = {.p = s->priv, .method = "PUT", .key = key, .query = "", .body = buf,
			.body_len = len};
	return (int)object_call(r.p->http, &r, NULL, err);
}

static int64_t s3_get(struct sl_objstore *s, const char *key, uint64_t off, void *buf, size_t len,
		      struct sl_err *err)
{
	struct req r = {.p = s->priv, .method = "GET", .key = key, .query = "", .dst = buf,
			.dst_cap = len, .off = off};
	return object_call(r.p->http, &r, NULL, err);
}

static int s3_head(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
		   struct sl_err *err)
{
	struct req r = {.p = s->priv, .method = "HEAD", .key = key, .query = ""};
	return (int)object_call(r.p->http, &r, out, err);
}

static int s3_del(struct sl_objstore *s, const char *key, struct sl_err *err)
{
	struct req r = {.p = s->priv, .method = "DELETE", .key = key, .query = ""};
	return (int)object_call(r.p->http, &r, NULL, err);
}

struct list_call {
	sl_obj_list_cb cb;
	void *arg;
};

static int list_object(void *arg, const char *key, uint64_t size, int64_t mtime_s)
{
	const struct list_call *l = arg;
	struct sl_obj_info info = {.key = key, .size = size, .mtime_s = mtime_s};
	return l->cb(l->arg, &info);
}

/* Hands the keys of one ListObjectsV2 page to cb; sets *token to the next page's, or NULL. */
static int list_page(const struct req *r, sl_obj_list_cb cb, void *arg, bool *stopped,
		     char **token, struct sl_err *err)
{
	struct list_call l = {cb, arg};
	struct sl_s3_xml_page page;
	int rc = sl_s3_xml_list(r->resp.data ? r->resp.data : "", r->resp.len, list_object, &l,
				&page);
	*stopped = page.stopped;
	if (rc) {
		free(page.next);
		return rc == -ENOMEM ? sl_errf(err, rc, "out of memory")
				     : req_errf(r, err, rc, "%s", page.error);
	}
	*token = page.truncated && !page.stopped ? page.next : NULL;
	if (!*token)
		free(page.next);
	return 0;
}

static char *encode_dup(const char *s)
{
	size_t size = 3 * strlen(s) + 1;
	char *e = malloc(size);
	if (e)
		sl_s3_uri_encode(s, false, e, size);
	return e;
}

static int s3_list(struct sl_objstore *s, const char *prefix, const char *after,
		   sl_obj_list_cb cb, void *arg, struct sl_err *err)
{
	char *eprefix = encode_dup(prefix), *eafter = after ? encode_dup(after) : NULL;
	char *token = NULL;
	bool stopped = false;
	int rc = !eprefix || (after && !eafter) ? sl_errf(err, -ENOMEM, "out of memory") : 0;
	do {
		/* Parameters in canonical (sorted) order; start-after only on the first page. */
		char *etoken = token ? encode_dup(token) : NULL, *query = NULL;
		bool first = !token, start = eafter && first;
		if (!rc && ((token && !etoken) ||
			    asprintf(&query,
				     "%s%s%slist-type=2&max-keys=" LIST_PAGE "&prefix=%s%s%s",
				     first ? "" : "continuation-token=", first ? "" : etoken,
				     first ? "" : "&", eprefix, start ? "&start-after=" : "",
				     start ? eafter : "") < 0)) {
			query = NULL;
			rc = sl_errf(err, -ENOMEM, "out of memory");
		}
		free(token);
		free(etoken);
		token = NULL;
		struct req r = {.method = "GET", .query = query, .list_prefix = prefix,
				.resp.max = LIST_BODY_MAX};
		if (!rc)
			rc = s3_call(s, &r, err);
		if (!rc && r.status / 100 != 2)
			rc = http_error(&r, err);
		else if (!rc && r.resp.overflow)
			rc = req_errf(&r, err, -EIO, "listing page larger than %d bytes",
				      LIST_BODY_MAX);
		if (!rc)
			rc = list_page(&r, cb, arg, &stopped, &token, err);
		req_free(&r);
		free(query);
	} while (!rc && token);
	free(token);
	free(eprefix);
	free(eafter);
	return rc;
}

const struct sl_obj_backend sl_obj_s3_backend = {
	.version = SL_OBJ_BACKEND_VERSION,
	.name = "s3",
	.priv_size = sizeof(struct s3),
	.init = s3_init,
	.cleanup = s3_cleanup,
	.create_bucket = s3_create_bucket,
	.put = s3_put,
	.get = s3_get,
	.head = s3_head,
	.del = s3_del,
	.list = s3_list,
};
