/*
 * tokens.c - the gateway's delegation tokens: issuing, verifying, renewing and cancelling them
 * with the store in the volume's database (meta.h, "delegation token store"), so that any gateway
 * of the volume accepts any token, and a background sweep of what expired.
 *
 * Rules (Hadoop's AbstractDelegationTokenSecretManager, with the state in the database):
 *  - A token's password is HMAC-SHA1(master key, identifier). The newest master key signs; a new
 *    one (64 random bytes) is made when it is older than gateway.token.key-update-interval. A key
 *    expires at created + update interval + max lifetime, after every token it can have signed.
 *  - Issue: expiry = min(now + renew interval, max date), max date = now + max lifetime.
 *  - A token is valid while it is stored, its identifier is exactly the one issued (re-encoded
 *    from the stored row), its expiry has not passed and its key is known.
 *  - Renew: for the renewer only, expiry = min(now + renew interval, max date). Cancel: for the
 *    owner or the renewer.
 *  - A connection authenticated with a token is re-checked before a request when the last check
 *    is SL_GW_TOKEN_RECHECK_MS old or the expiry it knows has passed (so a cancellation takes
 *    effect within that time on every gateway, an expiry at once).
 * Refusals are -EACCES (Hadoop's AccessControlException / InvalidToken); database failures keep
 * their own errno.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth/token_session.h"
#include "internal.h"

#define KEY_CACHE 16
#define MAX_SECONDS (3650LL * 86400) /* a bound for the lifetimes: ten years */

struct sl_gw_tokens {
	struct sl_meta *m;
	const struct sl_clock *clock; /* the handle's: issue, expiry and re-check times */
	const struct sl_logger *log;
	int64_t max_lifetime_ms, renew_ms, update_ms, sweep_ms;

	pthread_mutex_t lock;          /* guards the keys and the sweeper's state */
	struct sl_dt_key signing;      /* the key this gateway signs with, if have_signing */
	bool have_signing;
	struct sl_dt_key keys[KEY_CACHE]; /* keys seen, for verification (immutable rows) */
	size_t nkeys, next_slot;

	pthread_cond_t wake;
	pthread_t sweeper;
	bool sweeping, stop;
};

static int conf_seconds(const struct sl_conf *c, const char *key, int64_t *ms, struct sl_err *err)
{
	uint64_t v;
	int rc = sl_conf_u64(c, key, &v, err);
	if (rc)
		return rc;
	if (!v || v > (uint64_t)MAX_SECONDS)
		return sl_errf(err, -EINVAL, "config key '%s' must be 1-%lld seconds", key,
			       MAX_SECONDS);
	*ms = (int64_t)v * 1000;
	return 0;
}

int sl_gw_tokens_new(struct sl_meta *m, const struct sl_conf *c, const struct sl_logger *log,
		     struct sl_gw_tokens **out, struct sl_err *err)
{
	*out = NULL;
	if (!sl_meta_supports(m, SL_META_OP_DT_SETUP))
		return sl_errf(err, -ENOTSUP, "%s cannot store delegation tokens", m->url_redacted);
	struct sl_gw_tokens *t = calloc(1, sizeof(*t));
	if (!t)
		return sl_errf(err, -ENOMEM, "out of memory");
	t->m = m;
	t->clock = m->clock;
	t->log = log;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc;
	if ((rc = conf_seconds(c, "gateway.token.max-lifetime", &t->max_lifetime_ms, err)) ||
	    (rc = conf_seconds(c, "gateway.token.renew-interval", &t->renew_ms, err)) ||
	    (rc = conf_seconds(c, "gateway.token.key-update-interval", &t->update_ms, err)) ||
	    (rc = sl_meta_dt_setup(m, err)) || (rc = sl_gw_tokens_sweep(t, err))) {
		sl_gw_tokens_free(t);
		return rc;
	}
	/* Often enough that expired rows do not pile up, rarely enough to cost nothing. */
	t->sweep_ms = t->renew_ms < t->update_ms ? t->renew_ms : t->update_ms;
	if (t->sweep_ms > 3600 * 1000)
		t->sweep_ms = 3600 * 1000;
	*out = t;
	return 0;
}

void sl_gw_tokens_free(struct sl_gw_tokens *t)
{
	if (!t)
		return;
	sl_gw_tokens_stop(t);
	OPENSSL_cleanse(t->keys, sizeof(t->keys));
	OPENSSL_cleanse(&t->signing, sizeof(t->signing));
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int sl_gw_tokens_sweep(struct sl_gw_tokens *t, struct sl_err *err)
{
	uint64_t ntok = 0, nkey = 0;
	int64_t now = sl_clock_real_ms(t->clock);
	int rc = sl_meta_dt_sweep(t->m, now, &ntok, &nkey, err);
	if (rc)
		return sl_err_wrap(err, "sweeping expired delegation tokens");
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nkeys; i++)
		if (t->keys[i].expiry_ms < now)
			t->keys[i].id = 0; /* ids start at 1: a free slot */
	pthread_mutex_unlock(&t->lock);
	if (ntok || nkey)
		sl_log(t->log, SL_LOG_INFO, "gateway: removed %llu expired delegation tokens and %llu "
		       "master keys", (unsigned long long)ntok, (unsigned long long)nkey);
	return 0;
}

static void *sweeper_main(void *arg)
{
	struct sl_gw_tokens *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec until = sl_deadline_ms(CLOCK_MONOTONIC, t->sweep_ms);
		while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		struct sl_err err = {0};
		if (sl_gw_tokens_sweep(t, &err)) /* the next round tries again */
			sl_log(t->log, SL_LOG_WARN, "gateway: %s", err.msg);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int sl_gw_tokens_start(struct sl_gw_tokens *t, struct sl_err *err)
{
	pthread_mutex_lock(&t->lock);
	t->stop = false;
	int rc = t->sweeping ? 0 : pthread_create(&t->sweeper, NULL, sweeper_main, t);
	if (!rc)
		t->sweeping = true;
	pthread_mutex_unlock(&t->lock);
	return rc ? sl_errf(err, -rc, "starting the delegation token sweeper: %s", strerror(rc))
		  : 0;
}

void sl_gw_tokens_stop(struct sl_gw_tokens *t)
{
	pthread_mutex_lock(&t->lock);
	bool joining = t->sweeping;
	t->stop = true;
	t->sweeping = false;
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	if (joining)
		pthread_join(t->sweeper, NULL);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static void remember_key(struct sl_gw_tokens *t, const struct sl_dt_key *k)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (t->keys[i].id == k->id)
			return;
	size_t slot = t->nkeys < KEY_CACHE ? t->nkeys++ : t->next_slot++ % KEY_CACHE;
	t->keys[slot] = *k;
}

/* The key that signs a token issued at now (see the top). */
static int signing_key(struct sl_gw_tokens *t, int64_t now, struct sl_dt_key *out,
		       struct sl_err *err)
{
	pthread_mutex_lock(&t->lock);
	bool ok = t->have_signing && t->signing.created_ms > now - t->update_ms &&
		  t->signing.expiry_ms >= now + t->max_lifetime_ms;
	if (ok)
		*out = t->signing;
	pthread_mutex_unlock(&t->lock);
	if (ok)
		return 0;
	uint8_t fresh[SL_META_DT_SECRET_LEN];
	int rc = sl_ts_random(fresh, sizeof(fresh), err);
	if (!rc)
		rc = sl_meta_dt_signing_key(t->m, now, t->update_ms, t->max_lifetime_ms, fresh,
					    out, err);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	if (rc)
		return sl_err_wrap(err, "choosing a delegation token master key");
	pthread_mutex_lock(&t->lock);
	if (!t->have_signing || out->created_ms >= t->signing.created_ms) {
		t->signing = *out;
		t->have_signing = true;
	}
	remember_key(t, out);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* A key by id, from memory or the database; -EACCES when it is gone or expired. */
static int verify_key(struct sl_gw_tokens *t, int32_t id, int64_t now, struct sl_dt_key *out,
		      struct sl_err *err)
{
	bool found = false;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nkeys && !found; i++)
		if (id && t->keys[i].id == id) {
			*out = t->keys[i];
			found = true;
		}
	pthread_mutex_unlock(&t->lock);
	if (!found) {
		int rc = sl_meta_dt_get_key(t->m, id, out, err);
		if (rc == -ENOENT) {
			sl_err_clear(err);
			return sl_errf(err, -EACCES, "the master key %d of the delegation token is "
				       "gone", (int)id);
		}
		if (rc)
			return rc;
		pthread_mutex_lock(&t->lock);
		remember_key(t, out);
		pthread_mutex_unlock(&t->lock);
	}
	if (out->expiry_ms < now)
		return sl_errf(err, -EACCES, "the master key %d of the delegation token expired",
			       (int)id);
	return 0;
}

/* ---- verification ---------------------------------------------------------------------------- */

static void ident_of(const struct sl_dt_row *r, struct sl_dt_ident *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->owner, sizeof(id->owner), "%s", r->owner);
	snprintf(id->renewer, sizeof(id->renewer), "%s", r->renewer);
	snprintf(id->real_user, sizeof(id->real_user), "%s", r->real_user);
	id->issue_ms = r->issue_ms;
	id->max_ms = r->max_ms;
	id->seq = r->seq;
	id->master_key_id = r->key_id;
}

/* Finds the token ident names and checks it as the top says (its expiry too unless
 * any_expiry); *row and password get what is stored and the password. */
static int check(struct sl_gw_tokens *t, const uint8_t *ident, size_t len, int64_t now,
		 bool any_expiry, struct sl_dt_row *row, uint8_t password[SL_DT_PASSWORD_LEN],
		 struct sl_err *err)
{
	struct sl_dt_ident id;
	if (!len || len > SL_DT_IDENT_MAX || sl_dt_decode(ident, len, &id, err)) {
		sl_err_clear(err);
		return sl_errf(err, -EACCES, "a malformed delegation token identifier");
	}
	int rc = sl_meta_dt_get_token(t->m, id.seq, row, err);
	if (rc == -ENOENT) {
		sl_err_clear(err);
		return sl_errf(err, -EACCES, "delegation token %d of %s is not known (never issued, "
			       "cancelled, or expired)", (int)id.seq, id.owner);
	}
	if (rc)
		return rc;
	struct sl_dt_ident stored;
	uint8_t canon[SL_DT_IDENT_MAX];
	size_t clen = 0;
	ident_of(row, &stored);
	if ((rc = sl_dt_encode(&stored, canon, sizeof(canon), &clen, err)))
		return rc;
	if (clen != len || memcmp(canon, ident, len))
		return sl_errf(err, -EACCES, "delegation token %d: the identifier presented (owner "
			       "%s) is not the one issued (owner %s)", (int)id.seq, id.owner,
			       row->owner);
	if (!any_expiry && row->expiry_ms < now)
		return sl_errf(err, -EACCES, "delegation token %d of %s expired", (int)row->seq,
			       row->owner);
	struct sl_dt_key key;
	if ((rc = verify_key(t, row->key_id, now, &key, err)))
		return rc;
	sl_dt_password(key.secret, sizeof(key.secret), canon, clen, password);
	OPENSSL_cleanse(&key, sizeof(key));
	return 0;
}

/* check, and the password presented must be the token's. */
static int check_password(struct sl_gw_tokens *t, const uint8_t *ident, size_t len,
			  const uint8_t *password, int64_t now, bool any_expiry,
			  struct sl_dt_row *row, struct sl_err *err)
{
	uint8_t want[SL_DT_PASSWORD_LEN];
	int rc = check(t, ident, len, now, any_expiry, row, want, err);
	if (!rc && !sl_dt_password_equal(want, password))
		rc = sl_errf(err, -EACCES, "wrong password for delegation token %d of %s",
			     (int)row->seq, row->owner);
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

int sl_gw_token_verify(struct sl_gw_tokens *t, const uint8_t *ident, size_t len,
		       uint8_t password[SL_DT_PASSWORD_LEN], struct sl_gw_token_conn *st,
		       struct sl_err *err)
{
	struct sl_dt_row row;
	int rc = check(t, ident, len, sl_clock_real_ms(t->clock), false, &row, password, err);
	if (rc)
		return rc;
	memcpy(st->ident, ident, len);
	st->ident_len = len;
	snprintf(st->owner, sizeof(st->owner), "%s", row.owner);
	st->seq = row.seq;
	st->expiry_ms = row.expiry_ms;
	st->checked_ms = sl_clock_mono_ms(t->clock);
	return 0;
}

int sl_gw_token_recheck(struct sl_gw_tokens *t, struct sl_gw_token_conn *st, struct sl_err *err)
{
	int64_t now = sl_clock_real_ms(t->clock), mono = sl_clock_mono_ms(t->clock);
	if (mono - st->checked_ms < SL_GW_TOKEN_RECHECK_MS && now <= st->expiry_ms)
		return 0;
	struct sl_dt_row row;
	uint8_t password[SL_DT_PASSWORD_LEN];
	int rc = check(t, st->ident, st->ident_len, now, false, &row, password, err);
	OPENSSL_cleanse(password, sizeof(password));
	if (rc)
		return rc;
	st->expiry_ms = row.expiry_ms;
	st->checked_ms = mono;
	return 0;
}

/* ---- operations ------------------------------------------------------------------------------ */

int sl_gw_token_issue(struct sl_gw_tokens *t, const char *owner, const char *real_user,
		      const char *renewer, struct sl_meta_token *out, struct sl_err *err)
{
	struct sl_dt_row row = {0};
	if (!owner || !*owner || strlen(owner) >= sizeof(row.owner) ||
	    (real_user && strlen(real_user) >= sizeof(row.real_user)) ||
	    (renewer && strlen(renewer) >= sizeof(row.renewer)))
		return sl_errf(err, -EINVAL, "user names of a delegation token must have 1-255 "
			       "bytes");
	int64_t now = sl_clock_real_ms(t->clock);
	struct sl_dt_key key;
	int rc = signing_key(t, now, &key, err);
	if (rc)
		return rc;
	snprintf(row.owner, sizeof(row.owner), "%s", owner);
	snprintf(row.renewer, sizeof(row.renewer), "%s", renewer ? renewer : "");
	snprintf(row.real_user, sizeof(row.real_user), "%s", real_user ? real_user : "");
	row.issue_ms = now;
	row.max_ms = now + t->max_lifetime_ms;
	row.expiry_ms = now + t->renew_ms < row.max_ms ? now + t->renew_ms : row.max_ms;
	row.key_id = key.id;
	struct sl_dt_ident id;
	if (!(rc = sl_meta_dt_add_token(t->m, &row, err))) {
		ident_of(&row, &id);
		rc = sl_dt_encode(&id, out->ident, sizeof(out->ident), &out->ident_len, err);
	}
	if (!rc)
		sl_dt_password(key.secret, sizeof(key.secret), out->ident, out->ident_len,
			       out->password);
	OPENSSL_cleanse(&key, sizeof(key));
	if (rc)
		return sl_err_wrap(err, "issuing a delegation token for %s", owner);
	sl_log(t->log, SL_LOG_INFO, "gateway: issued delegation token %d for %s%s%s, renewer %s, "
	       "key %d", (int)row.seq, owner, *row.real_user ? " via " : "", row.real_user,
	       *row.renewer ? row.renewer : "(none)", (int)row.key_id);
	return 0;
}

int sl_gw_token_renew(struct sl_gw_tokens *t, const char *caller, const uint8_t *ident,
		      size_t len, const uint8_t *password, int64_t *expiry_ms, struct sl_err *err)
{
	int64_t now = sl_clock_real_ms(t->clock);
	struct sl_dt_row row;
	int rc = check_password(t, ident, len, password, now, false, &row, err);
	if (rc)
		return rc;
	if (!*row.renewer || strcmp(row.renewer, caller))
		return sl_errf(err, -EACCES, "%s may not renew delegation token %d of %s: %s", caller,
			       (int)row.seq, row.owner,
			       *row.renewer ? "it names another renewer" : "it names no renewer");
	if (row.max_ms < now)
		return sl_errf(err, -EACCES, "delegation token %d of %s is past its max date",
			       (int)row.seq, row.owner);
	int64_t expiry = now + t->renew_ms < row.max_ms ? now + t->renew_ms : row.max_ms;
	rc = sl_meta_dt_renew_token(t->m, row.seq, now, expiry, err);
	if (rc == -ENOENT) {
		sl_err_clear(err);
		return sl_errf(err, -EACCES, "delegation token %d of %s was cancelled or expired",
			       (int)row.seq, row.owner);
	}
	if (rc)
		return rc;
	*expiry_ms = expiry;
	sl_log(t->log, SL_LOG_DEBUG, "gateway: %s renewed delegation token %d of %s", caller,
	       (int)row.seq, row.owner);
	return 0;
}

int sl_gw_token_cancel(struct sl_gw_tokens *t, const char *caller, const uint8_t *ident,
		       size_t len, const uint8_t *password, struct sl_err *err)
{
	struct sl_dt_row row;
	int64_t now = sl_clock_real_ms(t->clock);
	int rc = check_password(t, ident, len, password, now, true, &row, err);
	if (rc)
		return rc;
	if (strcmp(row.owner, caller) && (!*row.renewer || strcmp(row.renewer, caller)))
		return sl_errf(err, -EACCES, "%s may not cancel delegation token %d of %s: only its "
			       "owner or renewer may", caller, (int)row.seq, row.owner);
	rc = sl_meta_dt_cancel_token(t->m, row.seq, err);
	if (rc == -ENOENT) {
		sl_err_clear(err);
		return sl_errf(err, -EACCES, "delegation token %d of %s was cancelled already",
			       (int)row.seq, row.owner);
	}
	if (!rc)
		sl_log(t->log, SL_LOG_INFO, "gateway: %s cancelled delegation token %d of %s",
		       caller, (int)row.seq, row.owner);
	return rc;
}
