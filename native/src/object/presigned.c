/*
 * presigned.c - object storage backend "presigned" for Kerberos mode: holds no bucket keys; for each
 * request it asks a provider (the gateway client) for a presigned URL and sends it with the s3
 * backend's transport. An expired URL earns one fresh URL and one more try; listing is refused.
 */
#include "presign.h"
#include "s3_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LABEL_MAX 1200 /* "presigned METHOD" and the URL without its query string */

struct presigned {
	struct sl_presign_provider prov;
	struct sl_s3_http *http;
};

static int presigned_init(struct sl_objstore *s, const struct sl_obj_config *cfg,
			  struct sl_err *err)
{
	struct presigned *p = s->priv;
	if (!cfg->presign || !cfg->presign->url)
		return sl_errf(err, -EINVAL, "presigned: no URL provider; this storage is for "
			       "Kerberos mode, where the gateway hands out presigned URLs");
	p->prov = *cfg->presign;
	return sl_s3_http_new(cfg, &p->http, err);
}

static void presigned_cleanup(struct sl_objstore *s)
{
	struct presigned *p = s->priv;
	sl_s3_http_free(p->http);
	p->http = NULL;
}

/* The value of query parameter name= in url, or NULL. */
static const char *query_param(const char *url, const char *name)
{
	size_t n = strlen(name);
	for (const char *q = strchr(url, '?'); q; q = strchr(q + 1, '&'))
		if (!strncmp(q + 1, name, n) && q[1 + n] == '=')
			return q + 2 + n;
	return NULL;
}

/* Whether the URL's own X-Amz-Date + X-Amz-Expires lies in the past by this host's clock: what
 * tells an expired URL from another refusal when the answer has no text (HEAD). */
static bool expired_here(const char *url, time_t now)
{
	const char *d = query_param(url, "X-Amz-Date"), *e = query_param(url, "X-Amz-Expires");
	struct tm tm = {0};
	long expires;
	if (!d || !e || sscanf(d, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			       &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
	    sscanf(e, "%ld", &expires) != 1)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) + expires <= (int64_t)now;
}

/* A URL for method on key from the provider, into url (SL_PRESIGN_URL_MAX bytes). */
static int provide(struct presigned *p, const char *method, const char *key, unsigned flags,
		   char *url, struct sl_err *err)
{
	struct sl_err perr = {0};
	url[0] = 0;
	int rc = p->prov.url(p->prov.arg, method, key, flags, url, SL_PRESIGN_URL_MAX, &perr);
	if (rc > 0)
		rc = -EIO;
	if (rc)
		return sl_errf(err, rc, "presigned %s '%s': no URL: %s", method, key,
			       perr.msg[0] ? perr.msg : strerror(-rc));
	if (!memchr(url, 0, SL_PRESIGN_URL_MAX) ||
	    (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
		return sl_errf(err, -EINVAL, "presigned %s '%s': the URL provider answered with "
			       "something that is not an http(s) URL", method, key);
	return 0;
}

/* One request: a URL, the exchange, and once more with a fresh URL if that one had expired. */
static int64_t presigned_call(struct sl_objstore *s, struct sl_s3_url_op *op, struct sl_err *err)
{
	struct presigned *p = s->priv;
	char *url = malloc(SL_PRESIGN_URL_MAX), label[LABEL_MAX];
	if (!url)
		return sl_errf(err, -ENOMEM, "out of memory");
	int64_t rc;
	bool expired = false;
	for (unsigned flags = 0;; flags = SL_PRESIGN_FRESH) {
		expired = false;
		if ((rc = provide(p, op->method, op->key, flags, url, err)))
			break;
		/* The query string is the credential: messages show only what is before it. */
		snprintf(label, sizeof(label), "presigned %s %.*s", op->method,
			 (int)strcspn(url, "?#"), url);
		op->url = url;
		op->label = label;
		rc = sl_s3_url_call(p->http, op, err);
		expired = rc == -EACCES && (op->expired || expired_here(url, time(NULL)));
		if (!expired || flags & SL_PRESIGN_FRESH)
			break;
		sl_err_clear(err);
	}
	if (expired)
		sl_err_wrap(err, "a fresh URL had expired too (are the clocks of this host, the "
			    "gateway and the object store far apart?)");
	op->url = op->label = NULL;
	free(url);
	return rc;
}

static int presigned_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
			 struct sl_err *err)
{
	struct sl_s3_url_op op = {.method = "PUT", .key = key, .body = buf, .body_len = len};
	return (int)presigned_call(s, &op, err);
}

static int64_t presigned_get(struct sl_objstore *s, const char *key, uint64_t off, void *buf,
			     size_t len, struct sl_err *err)
{
	struct sl_s3_url_op op = {.method = "GET", .key = key, .dst = buf, .len = len, .off = off};
	return presigned_call(s, &op, err);
}

static int presigned_head(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
			  struct sl_err *err)
{
	struct sl_s3_url_op op = {.method = "HEAD", .key = key, .info = out};
	return (int)presigned_call(s, &op, err);
}

static int presigned_del(struct sl_objstore *s, const char *key, struct sl_err *err)
{
	struct sl_s3_url_op op = {.method = "DELETE", .key = key};
	return (int)presigned_call(s, &op, err);
}

static int presigned_list(struct sl_objstore *s, const char *prefix, const char *after,
			  sl_obj_list_cb cb, void *arg, struct sl_err *err)
{
	(void)s, (void)after, (void)cb, (void)arg;
	return sl_errf(err, -ENOTSUP, "presigned: cannot list '%s': a client in Kerberos mode holds "
		       "no bucket keys and the gateway signs single objects only; run gc and fsck "
		       "with the volume's own credentials", prefix);
}

const struct sl_obj_backend sl_obj_presigned_backend = {
	.version = SL_OBJ_BACKEND_VERSION,
	.name = "presigned",
	.priv_size = sizeof(struct presigned),
	.init = presigned_init,
	.cleanup = presigned_cleanup,
	.put = presigned_put,
	.get = presigned_get,
	.head = presigned_head,
	.del = presigned_del,
	.list = presigned_list,
};
