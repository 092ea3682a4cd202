/*
 * sql_tokens.c - the gateway's delegation token store in the volume's database, so that every
 * gateway of a volume verifies every token: three tables of Sluice's own (JuiceFS ignores them;
 * none of its tables is touched), created by the gateway when missing:
 *   sluice_dt_key     (id, secret, created, expiry)        master keys; 64 random bytes each
 *   sluice_dt_token   (seq, owner, renewer, real_user, issue_date, max_date, expiry, key_id)
 *   sluice_dt_counter (name, value)                        "key" and "token": the last ids given
 * Times are ms since the epoch. A token's password is never stored: the gateway recomputes it from
 * its key and identifier. Ids come from the counters, whose row lock serializes their users, so
 * two gateways never hand out one id twice.
 */
#include <stdio.h>
#include <string.h>

#include "sql_internal.h"

#define KEY_COUNTER "key"
#define TOKEN_COUNTER "token"

static int64_t col_i64(struct tx *t, struct sl_sql_stmt *s, int col)
{
	return t->d->col_null(s, col) ? 0 : t->d->col_i64(s, col);
}

/* A name column into a field of 256 bytes; -EIO for a value that cannot be one of ours. */
static int col_name(struct tx *t, struct sl_sql_stmt *s, int col, char out[256])
{
	size_t n = 0;
	const void *p = t->d->col_blob(s, col, &n);
	if (n > 255 || (n && memchr(p, 0, n)))
		return sl_errf(t->err, -EIO, "sluice_dt_token holds a malformed user name");
	if (n)
		memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static int counter_op(struct tx *t, void *arg)
{
	const char *name = arg;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT value FROM sluice_dt_counter WHERE name = ?", "t", name);
	if (rc > 0)
		t->d->finalize(s);
	if (rc)
		return rc < 0 ? rc : 0;
	return sl_sqlq_exec(t, NULL, "INSERT INTO sluice_dt_counter (name, value) VALUES (?, 0)",
			    "t", name);
}

static int dt_setup(struct sl_meta *m, struct sl_err *err)
{
	struct sqlbe *b = m->priv;
	int rc = sl_sqlq_own_table(m, &b->token_tables, b->d->token_tables, "delegation token", err);
	if (rc)
		return rc;
	static const char *const counters[] = {KEY_COUNTER, TOKEN_COUNTER};
	for (size_t i = 0; !rc && i < 2; i++) {
		rc = sl_sqlq_run(m, true, counter_op, (void *)counters[i], err);
		if (rc == -EEXIST) /* another gateway made it in the meantime */
			rc = 0;
	}
	if (rc)
		return sl_err_wrap(err, "creating the delegation token counters in %s",
				   m->url_redacted);
	return 0;
}

/* The next id of a counter, in the caller's write transaction (which holds its row lock from
 * here to the commit). */
static int next_id(struct tx *t, const char *name, int32_t *id)
{
	int64_t changed = 0;
	int rc = sl_sqlq_exec(t, &changed,
			      "UPDATE sluice_dt_counter SET value = value + 1 WHERE name = ?", "t",
			      name);
	if (!rc && !changed)
		rc = sl_errf(t->err, -EIO, "the delegation token counter '%s' is missing", name);
	struct sl_sql_stmt *s = NULL;
	if (!rc)
		rc = sl_sqlq_row(t, &s, "SELECT value FROM sluice_dt_counter WHERE name = ?", "t",
				 name);
	if (rc < 0)
		return rc;
	if (!rc)
		return sl_errf(t->err, -EIO, "the delegation token counter '%s' is missing", name);
	int64_t v = col_i64(t, s, 0);
	t->d->finalize(s);
	if (v < 1 || v > INT32_MAX) /* Hadoop's identifiers hold them as ints */
		return sl_errf(t->err, -EOVERFLOW, "the delegation token counter '%s' is used up "
			       "(%lld)", name, (long long)v);
	*id = (int32_t)v;
	return 0;
}

/* ---- master keys ----------------------------------------------------------------------------- */

#define KEY_COLS "id, secret, created, expiry"

static int key_row(struct tx *t, struct sl_sql_stmt *s, struct sl_dt_key *k)
{
	size_t n = 0;
	const void *p = t->d->col_blob(s, 1, &n);
	if (n != SL_META_DT_SECRET_LEN)
		return sl_errf(t->err, -EIO, "sluice_dt_key holds a secret of %zu bytes, not %d", n,
			       SL_META_DT_SECRET_LEN);
	k->id = (int32_t)col_i64(t, s, 0);
	memcpy(k->secret, p, n);
	k->created_ms = col_i64(t, s, 2);
	k->expiry_ms = col_i64(t, s, 3);
	return 0;
}

struct signing_arg {
	int64_t now, update, lifetime;
	const uint8_t *fresh;
	struct sl_dt_key *out;
};

static int signing_op(struct tx *t, void *arg)
{
	struct signing_arg *a = arg;
	char buf[256];
	struct sl_sql_stmt *s = NULL;
	/* The counter's row lock first: gateways that both find the newest key too old then create
	 * their keys one after the other, and the second one sees the first's. */
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT value FROM sluice_dt_counter "
					       "WHERE name = ?"), "t", KEY_COUNTER);
	if (rc > 0)
		t->d->finalize(s);
	if (!rc)
		rc = sl_errf(t->err, -EIO, "the delegation token counter '%s' is missing",
			     KEY_COUNTER);
	if (rc < 0)
		return rc;
	rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT " KEY_COLS " FROM sluice_dt_key "
					   "ORDER BY created DESC, id DESC LIMIT 1"), "");
	if (rc < 0)
		return rc;
	if (rc > 0) {
		struct sl_dt_key k;
		rc = key_row(t, s, &k);
		t->d->finalize(s);
		if (rc)
			return rc;
		if (k.created_ms > a->now - a->update && k.expiry_ms >= a->now + a->lifetime) {
			*a->out = k;
			return 0;
		}
	}
	struct sl_dt_key k = {.created_ms = a->now, .expiry_ms = a->now + a->update + a->lifetime};
	memcpy(k.secret, a->fresh, SL_META_DT_SECRET_LEN);
	if ((rc = next_id(t, KEY_COUNTER, &k.id)) ||
	    (rc = sl_sqlq_exec(t, NULL, "INSERT INTO sluice_dt_key (" KEY_COLS ") VALUES "
			       "(?, ?, ?, ?)", "ibii", (int64_t)k.id, k.secret,
			       (size_t)SL_META_DT_SECRET_LEN, k.created_ms, k.expiry_ms)))
		return rc;
	*a->out = k;
	return 0;
}

static int dt_signing_key(struct sl_meta *m, int64_t now_ms, int64_t update_ms,
			  int64_t lifetime_ms, const uint8_t fresh[SL_META_DT_SECRET_LEN],
			  struct sl_dt_key *out, struct sl_err *err)
{
	struct signing_arg a = {.now = now_ms, .update = update_ms, .lifetime = lifetime_ms,
				.fresh = fresh, .out = out};
	return sl_sqlq_run(m, true, signing_op, &a, err);
}

struct key_arg {
	int32_t id;
	struct sl_dt_key *out;
};

static int get_key_op(struct tx *t, void *arg)
{
	struct key_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT " KEY_COLS " FROM sluice_dt_key WHERE id = ?", "i",
			     (int64_t)a->id);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "no delegation token master key %d",
					     (int)a->id);
	rc = key_row(t, s, a->out);
	t->d->finalize(s);
	return rc;
}

static int dt_get_key(struct sl_meta *m, int32_t id, struct sl_dt_key *out, struct sl_err *err)
{
	struct key_arg a = {.id = id, .out = out};
	return sl_sqlq_run(m, false, get_key_op, &a, err);
}

/* ---- tokens ---------------------------------------------------------------------------------- */

#define TOKEN_COLS "seq, owner, renewer, real_user, issue_date, max_date, expiry, key_id"

static int add_token_op(struct tx *t, void *arg)
{
	struct sl_dt_row *r = arg;
	int rc = next_id(t, TOKEN_COUNTER, &r->seq);
	if (rc)
		return rc;
	return sl_sqlq_exec(t, NULL, "INSERT INTO sluice_dt_token (" TOKEN_COLS ") VALUES "
			    "(?, ?, ?, ?, ?, ?, ?, ?)", "ibbbiiii", (int64_t)r->seq, r->owner,
			    strlen(r->owner), r->renewer, strlen(r->renewer), r->real_user,
			    strlen(r->real_user), r->issue_ms, r->max_ms, r->expiry_ms,
			    (int64_t)r->key_id);
}

static int dt_add_token(struct sl_meta *m, struct sl_dt_row *row, struct sl_err *err)
{
	if (!memchr(row->owner, 0, sizeof(row->owner)) ||
	    !memchr(row->renewer, 0, sizeof(row->renewer)) ||
	    !memchr(row->real_user, 0, sizeof(row->real_user)))
		return sl_errf(err, -EINVAL, "a delegation token's user names must end within 255 "
			       "bytes");
	return sl_sqlq_run(m, true, add_token_op, row, err);
}

struct token_arg {
	int32_t seq;
	int64_t now, expiry;
	struct sl_dt_row *out;
};

static int get_token_op(struct tx *t, void *arg)
{
	struct token_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT " TOKEN_COLS " FROM sluice_dt_token WHERE seq = ?",
			     "i", (int64_t)a->seq);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "no delegation token %d (never "
					     "issued, cancelled, or expired)", (int)a->seq);
	struct sl_dt_row *r = a->out;
	memset(r, 0, sizeof(*r));
	r->seq = (int32_t)col_i64(t, s, 0);
	if (!(rc = col_name(t, s, 1, r->owner)) && !(rc = col_name(t, s, 2, r->renewer)))
		rc = col_name(t, s, 3, r->real_user);
	r->issue_ms = col_i64(t, s, 4);
	r->max_ms = col_i64(t, s, 5);
	r->expiry_ms = col_i64(t, s, 6);
	r->key_id = (int32_t)col_i64(t, s, 7);
	t->d->finalize(s);
	return rc;
}

static int dt_get_token(struct sl_meta *m, int32_t seq, struct sl_dt_row *out,
			struct sl_err *err)
{
	struct token_arg a = {.seq = seq, .out = out};
	return sl_sqlq_run(m, false, get_token_op, &a, err);
}

static int renew_op(struct tx *t, void *arg)
{
	struct token_arg *a = arg;
	int64_t changed = 0;
	int rc = sl_sqlq_exec(t, &changed, "UPDATE sluice_dt_token SET expiry = ? WHERE seq = ? "
			      "AND expiry >= ?", "iii", a->expiry, (int64_t)a->seq, a->now);
	if (!rc && !changed)
		rc = sl_errf(t->err, -ENOENT, "no delegation token %d (cancelled or expired)",
			     (int)a->seq);
	return rc;
}

static int dt_renew_token(struct sl_meta *m, int32_t seq, int64_t now_ms, int64_t expiry_ms,
			  struct sl_err *err)
{
	struct token_arg a = {.seq = seq, .now = now_ms, .expiry = expiry_ms};
	return sl_sqlq_run(m, true, renew_op, &a, err);
}

static int cancel_op(struct tx *t, void *arg)
{
	struct token_arg *a = arg;
	int64_t changed = 0;
	int rc = sl_sqlq_exec(t, &changed, "DELETE FROM sluice_dt_token WHERE seq = ?", "i",
			      (int64_t)a->seq);
	if (!rc && !changed)
		rc = sl_errf(t->err, -ENOENT, "no delegation token %d (cancelled or expired)",
			     (int)a->seq);
	return rc;
}

static int dt_cancel_token(struct sl_meta *m, int32_t seq, struct sl_err *err)
{
	struct token_arg a = {.seq = seq};
	return sl_sqlq_run(m, true, cancel_op, &a, err);
}

struct sweep_arg {
	int64_t now;
	int64_t tokens, keys;
};

static int sweep_op(struct tx *t, void *arg)
{
	struct sweep_arg *a = arg;
	a->tokens = a->keys = 0;
	int rc = sl_sqlq_exec(t, &a->tokens, "DELETE FROM sluice_dt_token WHERE expiry < ?", "i",
			      a->now);
	if (!rc)
		rc = sl_sqlq_exec(t, &a->keys, "DELETE FROM sluice_dt_key WHERE expiry < ?", "i",
				  a->now);
	return rc;
}

static int dt_sweep(struct sl_meta *m, int64_t now_ms, uint64_t *tokens, uint64_t *keys,
		    struct sl_err *err)
{
	struct sweep_arg a = {.now = now_ms};
	int rc = sl_sqlq_run(m, true, sweep_op, &a, err);
	if (tokens)
		*tokens = rc ? 0 : (uint64_t)a.tokens;
	if (keys)
		*keys = rc ? 0 : (uint64_t)a.keys;
	return rc;
}

const struct sl_meta_token_store sl_sql_token_store = {
	.setup = dt_setup,
	.signing_key = dt_signing_key,
	.get_key = dt_get_key,
	.add_token = dt_add_token,
	.get_token = dt_get_token,
	.renew_token = dt_renew_token,
	.cancel_token = dt_cancel_token,
	.sweep = dt_sweep,
};
