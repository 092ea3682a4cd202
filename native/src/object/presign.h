/*
 * presign.h - presigned S3 URLs for Kerberos mode: the signer the gateway uses (SigV4 in the query
 * string, so the URL alone authorises one method on one object until it expires), and the provider
 * interface through which the credential-less `presigned` object backend asks for such URLs.
 */
#ifndef SL_PRESIGN_H
#define SL_PRESIGN_H

#include <stddef.h>
#include <time.h>

#include "../util/err.h"
#include "object.h"

#define SL_PRESIGN_EXPIRES_MAX 604800 /* seconds: SigV4's limit of X-Amz-Expires (7 days) */
/* Room for any URL: endpoint, bucket, a 1024-byte key fully %-encoded, credential scope and a
 * session token. Providers get a buffer of this size. */
#define SL_PRESIGN_URL_MAX 16384

/* ---- signing (needs the bucket's keys: the gateway, tests) ---- */

struct sl_presigner;

/*
 * A signer for one bucket. Uses cfg's storage ("s3" or "minio"), bucket, access_key, secret_key
 * (both required), session_token, region and path_style exactly as the s3 backend reads them, so
 * a URL goes to the host, path and region the s3 backend would use. -EINVAL for a bad bucket URL,
 * another storage or missing keys. Thread-safe once made; free wipes the keys.
 */
int sl_presigner_new(const struct sl_obj_config *cfg, struct sl_presigner **out,
		     struct sl_err *err);
void sl_presigner_free(struct sl_presigner *ps);

/*
 * Writes into out a URL that lets its holder do `method` ("GET", "PUT", "HEAD" or "DELETE") on
 * object `key` (relative to the bucket, as in object.h) from `now` for expires_s seconds
 * (1..SL_PRESIGN_EXPIRES_MAX): X-Amz-Algorithm, -Credential, -Date, -Expires, [-Security-Token,]
 * -SignedHeaders=host and -Signature; the payload is UNSIGNED-PAYLOAD. A GET URL also serves
 * ranged reads (Range is not signed). Pass time(NULL) as now; tests pass fixed times.
 * -EINVAL for another method, an empty key or a bad expiry; -ENAMETOOLONG if out is too small
 * (SL_PRESIGN_URL_MAX always suffices) or the key is longer than 1024 bytes.
 */
int sl_presign(const struct sl_presigner *ps, const char *method, const char *key, int expires_s,
	       time_t now, char *out, size_t size, struct sl_err *err);

/* ---- the provider the presigned backend asks (the gateway client implements it) ---- */

/* url() flag: the URL last handed out for this method and key came back refused as expired, so
 * do not answer from a cache; sign (or ask the gateway for) a new one. */
#define SL_PRESIGN_FRESH 1u

struct sl_presign_provider {
	/*
	 * Writes a presigned URL (http:// or https://, NUL-terminated) for `method` ("GET", "PUT",
	 * "HEAD" or "DELETE") on `key` into out, which has `size` (SL_PRESIGN_URL_MAX) bytes.
	 * flags: 0 or SL_PRESIGN_FRESH. Called from many threads at once, once per request (and
	 * once more per retry), so a provider may cache URLs until shortly before they expire.
	 * Returns 0, or a negative errno with a message in err, which the object layer passes on:
	 *   -EACCES/-EPERM  the caller may not do this to this object (never retried);
	 *   -ENOENT         no such object as far as the provider knows (GET/HEAD: missing);
	 *   -EAGAIN, -ETIMEDOUT, -ECONNRESET, -ECONNREFUSED  the provider (gateway) is briefly
	 *                   unreachable or busy: the object layer retries with backoff;
	 *   -ENAMETOOLONG   the URL does not fit.
	 */
	int (*url)(void *arg, const char *method, const char *key, unsigned flags, char *out,
		   size_t size, struct sl_err *err);
	void *arg; /* the provider's own state, passed to url(); must outlive the store */
};

/*
 * The `presigned` backend (presigned.c) is opened with sl_obj_open and a config with
 * storage = "presigned", presign = the provider, bucket = the volume's bucket URL (shown in
 * messages only), and the usual ca_file, timeouts and retries; it holds no keys and ignores any.
 * put/get/head/del work on any key the provider signs; an expired URL gets one fresh URL and one
 * more try. list returns -ENOTSUP (gc and fsck run with the bucket's real keys) and
 * create_bucket -EOPNOTSUPP.
 */

#endif
