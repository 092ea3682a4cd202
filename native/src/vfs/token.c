/*
 * token.c - the public delegation token calls (sluice.h): issuing through a volume's gateway
 * connection, renewing and cancelling through a connection of their own to the gateway the
 * configuration names (the remote metadata backend's dialing, without opening a volume).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

int sluice_token_issue(sluice_volume *vol, const sluice_user *u, const char *renewer,
		       sluice_token *out)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta *m = vol->core.meta;
	if (!sl_meta_supports(m, SL_META_OP_ISSUE_TOKEN))
		return sl_errf(err, -EOPNOTSUPP, "%s is reached directly: delegation tokens come from "
			       "a gateway (a gateway:// META-URL)", m->url_redacted);
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	struct sl_meta_token t;
	char service[sizeof(out->service)];
	int rc = sl_meta_issue_token(m, &mu, renewer, &t, service, sizeof(service), err);
	if (!rc && t.ident_len > sizeof(out->identifier))
		rc = sl_errf(err, -EOVERFLOW, "the gateway issued an identifier of %zu bytes",
			     t.ident_len);
	if (!rc) {
		memset(out, 0, sizeof(*out));
		memcpy(out->identifier, t.ident, t.ident_len);
		out->identifier_len = t.ident_len;
		memcpy(out->password, t.password, sizeof(out->password));
		snprintf(out->service, sizeof(out->service), "%s", service);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}

/* Opens the gateway conf names and renews (expiry_ms) or cancels (NULL) t. */
static int token_call(const sluice_kv *conf, size_t nconf, const sluice_token *t,
		      int64_t *expiry_ms, struct sl_err *err)
{
	const char **keys = calloc(nconf + 1, sizeof(char *));
	const char **values = calloc(nconf + 1, sizeof(char *));
	struct sl_conf *c = NULL;
	struct sl_meta *m = NULL;
	struct sl_logger log = {.level = SL_LOG_WARN};
	struct sl_meta_token mt;
	int rc = 0;
	if (!keys || !values) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nconf; i++) {
		keys[i] = conf[i].key;
		values[i] = conf[i].value;
	}
	if ((rc = sl_conf_new(keys, values, nconf, &c))) {
		sl_errf(err, rc, "out of memory");
		goto out;
	}
	if ((rc = sl_conf_check_keys(c, err)))
		goto out;
	const char *level = sl_conf_str(c, "log-level");
	if ((log.level = sl_log_parse_level(level)) < 0) {
		rc = sl_errf(err, -EINVAL, "config key 'log-level': '%s' is not one of error, warn, "
			     "info, debug", level);
		goto out;
	}
	const char *url = sl_conf_str(c, "meta");
	if (!url || strncmp(url, "gateway://", 10)) {
		rc = sl_errf(err, -EINVAL, "config key 'meta' must name the token's gateway "
			     "(gateway://HOST:PORT, from the token's service)");
		goto out;
	}
	if (!t->identifier_len || t->identifier_len > sizeof(t->identifier)) {
		rc = sl_errf(err, -EINVAL, "a delegation token identifier must have 1-%zu bytes",
			     sizeof(t->identifier));
		goto out;
	}
	if ((rc = sl_meta_open(url, c, &log, &m, err)))
		goto out;
	memcpy(mt.ident, t->identifier, t->identifier_len);
	mt.ident_len = t->identifier_len;
	memcpy(mt.password, t->password, sizeof(mt.password));
	if (expiry_ms)
		rc = sl_meta_renew_token(m, &mt, expiry_ms, err);
	else
		rc = sl_meta_cancel_token(m, &mt, err);
	OPENSSL_cleanse(&mt, sizeof(mt));
out:
	sl_meta_close(m);
	sl_conf_free(c);
	free(keys);
	free(values);
	return rc;
}

int sluice_token_renew(const sluice_kv *conf, size_t nconf, const sluice_token *t,
		       int64_t *expiry_ms, char *errmsg, size_t errmsg_size)
{
	struct sl_err err = {0};
	int64_t expiry = 0;
	int rc = token_call(conf, nconf, t, &expiry, &err);
	if (!rc)
		*expiry_ms = expiry;
	if (errmsg && errmsg_size)
		snprintf(errmsg, errmsg_size, "%s", rc ? err.msg : "");
	return rc;
}

int sluice_token_cancel(const sluice_kv *conf, size_t nconf, const sluice_token *t, char *errmsg,
			size_t errmsg_size)
{
	struct sl_err err = {0};
	int rc = token_call(conf, nconf, t, NULL, &err);
	if (errmsg && errmsg_size)
		snprintf(errmsg, errmsg_size, "%s", rc ? err.msg : "");
	return rc;
}
