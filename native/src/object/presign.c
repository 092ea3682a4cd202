/*
 * presign.c - SigV4 query-string presigning of one method on one object (AWS's "authenticating
 * requests: using query parameters"), built on the s3 backend's signer and endpoint parsing.
 */
#include "presign.h"
#include "s3_sign.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 1024 /* S3's limit of a key, in bytes (as object.c) */

struct sl_presigner {
	struct sl_s3_endpoint ep;
	char *access_key, *secret_key, *token;
};

static char *wipe_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
	return NULL;
}

void sl_presigner_free(struct sl_presigner *ps)
{
	if (!ps)
		return;
	free(ps->access_key);
	wipe_free(ps->secret_key);
	wipe_free(ps->token);
	free(ps);
}

int sl_presigner_new(const struct sl_obj_config *cfg, struct sl_presigner **out,
		     struct sl_err *err)
{
	*out = NULL;
	const char *storage = cfg->storage ? cfg->storage : "";
	if (strcmp(storage, "s3") && strcmp(storage, "minio"))
		return sl_errf(err, -EINVAL, "presigned URLs need an s3 or minio storage, not '%s'",
			       storage);
	if (!cfg->bucket || !cfg->bucket[0])
		return sl_errf(err, -EINVAL, "%s: no bucket URL to presign for", storage);
	if (!cfg->access_key || !cfg->access_key[0] || !cfg->secret_key || !cfg->secret_key[0])
		return sl_errf(err, -EINVAL, "%s: presigning needs the bucket's access key and "
			       "secret key", storage);
	struct sl_presigner *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = sl_s3_parse_endpoint(storage, cfg->bucket, cfg->path_style, cfg->region, &ps->ep,
				      err);
	if (rc)
		goto fail;
	ps->access_key = strdup(cfg->access_key);
	ps->secret_key = strdup(cfg->secret_key);
	bool token = cfg->session_token && cfg->session_token[0];
	ps->token = token ? strdup(cfg->session_token) : NULL;
	if (!ps->access_key || !ps->secret_key || (token && !ps->token)) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	*out = ps;
	return 0;
fail:
	sl_presigner_free(ps);
	return rc;
}

static bool known_method(const char *m)
{
	static const char *const methods[] = {"GET", "PUT", "HEAD", "DELETE"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(m, methods[i]))
			return true;
	return false;
}

/* A %-encoded copy of s (every byte but A-Za-z0-9-._~, and '/' unless keep_slash). */
static char *encode_dup(const char *s, bool keep_slash)
{
	size_t size = 3 * strlen(s) + 1;
	char *e = malloc(size);
	if (e && sl_s3_uri_encode(s, keep_slash, e, size) < 0) {
		free(e);
		e = NULL;
	}
	return e;
}

int sl_presign(const struct sl_presigner *ps, const char *method, const char *key, int expires_s,
	       time_t now, char *out, size_t size, struct sl_err *err)
{
	if (!method || !known_method(method))
		return sl_errf(err, -EINVAL, "presign: method '%s' is not GET, PUT, HEAD or DELETE",
			       method ? method : "(null)");
	if (!key || !key[0])
		return sl_errf(err, -EINVAL, "presign: empty object key");
	if (strlen(key) > KEY_MAX)
		return sl_errf(err, -ENAMETOOLONG, "presign: key longer than %d bytes: %.64s...",
			       KEY_MAX, key);
	if (expires_s < 1 || expires_s > SL_PRESIGN_EXPIRES_MAX)
		return sl_errf(err, -EINVAL, "presign: expiry of %d s is outside 1..%d", expires_s,
			       SL_PRESIGN_EXPIRES_MAX);

	char date[20];
	struct tm tm;
	if (!gmtime_r(&now, &tm) || !strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm))
		return sl_errf(err, -EINVAL, "presign: time %lld is out of range", (long long)now);

	char *ekey = encode_dup(key, true), *path = NULL, *query = NULL, *cred = NULL;
	char *ecred = NULL, *etoken = NULL;
	int rc = 0;
	if (!ekey || asprintf(&path, "%s/%s", ps->ep.prefix, ekey) < 0)
		path = NULL;
	if (asprintf(&cred, "%s/%.8s/%s/s3/aws4_request", ps->access_key, date, ps->ep.region) < 0)
		cred = NULL;
	ecred = cred ? encode_dup(cred, false) : NULL;
	etoken = ps->token ? encode_dup(ps->token, false) : NULL;
	/* The canonical query string: parameters sorted by name, names and values encoded. */
	if (!path || !ecred || (ps->token && !etoken) ||
	    asprintf(&query,
		     "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
		     "&X-Amz-Expires=%d%s%s&X-Amz-SignedHeaders=host",
		     ecred, date, expires_s, etoken ? "&X-Amz-Security-Token=" : "",
		     etoken ? etoken : "") < 0) {
		query = NULL;
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	const struct sl_s3_header host = {"host", ps->ep.host};
	struct sl_s3_sign_input in = {
		.access_key = ps->access_key, .secret_key = ps->secret_key, .region = ps->ep.region,
		.method = method, .uri = path, .query = query, .headers = &host, .nheaders = 1,
		.payload_hash = "UNSIGNED-PAYLOAD", .amz_date = date,
	};
	char sig[65];
	if ((rc = sl_s3_signature(&in, sig))) {
		rc = sl_errf(err, rc, "presign %s '%s': cannot sign: %s", method, key,
			     strerror(-rc));
		goto out;
	}
	int n = snprintf(out, size, "%s%s?%s&X-Amz-Signature=%s", ps->ep.base, path, query, sig);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			out[0] = 0;
		rc = sl_errf(err, -ENAMETOOLONG, "presign %s '%s': the URL needs %d bytes, the buffer "
			     "has %zu", method, key, n + 1, size);
	}
out:
	free(ekey);
	free(path);
	free(cred);
	free(ecred);
	wipe_free(etoken);
	wipe_free(query); /* holds the session token too */
	return rc;
}
