/*
 * s3_sign.h - the parts of the s3 backend that tests check without a server: AWS SigV4 signing,
 * SigV4 URI encoding and the parsing of JuiceFS-style bucket URLs; and its HTTP transport, which
 * the presigned backend shares. Private to object/ and tests.
 */
#ifndef SL_S3_SIGN_H
#define SL_S3_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "object.h"

/* A request header to sign: lower-case name, value without surrounding blanks. */
struct sl_s3_header {
	const char *name;
	const char *value;
};

struct sl_s3_sign_input {
	const char *access_key, *secret_key, *region;
	const char *method;
	const char *uri;   /* the URI-encoded path, as sent */
	const char *query; /* the canonical query string (sorted, encoded), "" if none */
	const struct sl_s3_header *headers; /* sorted by name; host, x-amz-date, ... */
	size_t nheaders;
	const char *payload_hash; /* hex SHA-256 of the body */
	const char *amz_date;     /* YYYYMMDD'T'HHMMSS'Z' */
};

/* Writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=...") into out.
 * -ENOMEM, or -ENAMETOOLONG if out is too small. */
int sl_s3_sign(const struct sl_s3_sign_input *in, char *out, size_t size);
/* Just the hex signature of the same request (presigned URLs carry it in their query string).
 * -ENOMEM, or -ENAMETOOLONG if the header names do not fit. */
int sl_s3_signature(const struct sl_s3_sign_input *in, char out[65]);

/* SigV4 URI encoding: every byte but A-Za-z0-9-._~ as %XX (and '/' unless keep_slash). Returns the
 * length written, or -ENAMETOOLONG if out (3 * strlen(s) + 1 always suffices) is too small. */
int sl_s3_uri_encode(const char *s, bool keep_slash, char *out, size_t size);

/* Base64 of the big-endian CRC32C of data (x-amz-checksum-crc32c): 8 characters and a NUL. */
void sl_s3_crc32c_b64(const void *data, size_t len, char out[16]);
/* Lower-case hex SHA-256 of data. */
void sl_s3_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Where requests go, from a bucket URL in JuiceFS's --bucket forms:
 *   minio: [http://]HOST[:PORT]/BUCKET[?region=R]
 *   s3:    http(s)://HOST[:PORT]/BUCKET          (path form; region from an amazonaws.com host)
 *          https://BUCKET.s3.REGION.amazonaws.com (virtual-host form), https://BUCKET.HOST
 * path_style: 1, 0, or -1 for auto: path style for an IP address, localhost or minio, and for the
 * path form; virtual-host style when the URL was written in virtual-host form. An IP address
 * always gets path style.
 * Region: the one the URL names (amazonaws.com host or ?region=), else `region`, else us-east-1.
 */
struct sl_s3_endpoint {
	char base[600];  /* scheme://host[:port] requests go to */
	char host[520];  /* the Host header */
	char prefix[80]; /* "/BUCKET" in path style, "" in virtual-host style */
	char bucket[64];
	char region[64];
	bool https, path_style;
};
int sl_s3_parse_endpoint(const char *storage, const char *url, int path_style, const char *region,
			 struct sl_s3_endpoint *out, struct sl_err *err);

/*
 * The HTTP transport of the s3 backend (libcurl handles kept for reuse, timeouts, CA file, the
 * mapping of transfer and S3 errors to errno), for requests to presigned URLs. Thread-safe.
 */
struct sl_s3_http;
/* Uses cfg's ca_file, connect_timeout_s and io_timeout_s; cfg->storage names it in messages. */
int sl_s3_http_new(const struct sl_obj_config *cfg, struct sl_s3_http **out, struct sl_err *err);
void sl_s3_http_free(struct sl_s3_http *t);

/* One object request to a URL that carries its own authorisation (SigV4 in its query string). */
struct sl_s3_url_op {
	const char *method; /* "PUT", "GET", "HEAD" or "DELETE" */
	const char *url;    /* sent as it is; a credential while valid, so never put in messages */
	const char *label;  /* names the request in messages, e.g. "presigned GET http://h/b/key" */
	const char *key;    /* for info->key */
	const void *body;   /* PUT */
	size_t body_len;
	void *dst;          /* GET: [off, off+len) lands here */
	size_t len;
	uint64_t off;
	struct sl_obj_info *info; /* HEAD */
	bool expired;             /* out: refused (-EACCES) because the URL's time ran out */
};
/* Results and errors as the s3 backend's put/get/head/del give them (see object.h): GET returns
 * the bytes read, 0 past the end; a DELETE of a missing object succeeds. */
int64_t sl_s3_url_call(struct sl_s3_http *t, struct sl_s3_url_op *op, struct sl_err *err);

#endif
