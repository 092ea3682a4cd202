/*
 * remote.c - the "gateway://HOST[:PORT]" metadata backend: every slot is one request to a Sluice
 * gateway (Kerberos mode, DESIGN.md section 6) over an authenticated, integrity-protected
 * connection (rpc/conn.h). The gateway runs the transaction with the identity it verified; the
 * user a slot is given only names whom the caller acts for (a proxy user request when it differs).
 *
 * The client authenticates with Kerberos (ticket cache or keytab), or, when the configuration holds
 * "token.identifier" and "token.password" (standard base64), with that delegation token instead
 * (no Kerberos credentials needed; the gateway then serves it as the token's owner only).
 *
 * What the client does not do in this mode, because it holds no database password: it never
 * deletes data or sweeps deletions (the gateway does both), never formats, and never writes usage
 * counters (the gateway accounts every change it commits). The argument and result layouts of each
 * op are the mirror of gateway/dispatch.c.
 *
 * Without bucket keys either, it reaches object storage through presigned URLs the gateway signs
 * (object_provider, used by the `presigned` object backend): a GET for a block of a slice this
 * client saw in a chunk list (the gateway repeats that read's permission check), a PUT for a
 * block of a slice whose id the gateway granted it (remote_data.h keeps both, and the URLs).
 * With or without keys, a commit of a new slice shows the grant of its id, and the gateway
 * checks there that its last block is stored with the size committed (SL_META_CAP_COMMIT_STORED).
 */
#include "meta.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../object/presign.h"
#include "../rpc/conn.h"
#include "../rpc/proto.h"
#include "../rpc/wire.h"
#include "../util/base64.h"
#include "remote_data.h"

#define DEFAULT_PORT "9810"
#define MAX_POOL 64
#define POOL_IDLE_MS 60000 /* well below the gateway's idle timeout, so a pooled one is alive */

struct pooled {
	struct sl_rpc_conn c;
	int64_t last_used_ms;
};

struct remote {
	char host[256], port[16];
	char service[512];
	char *principal, *keytab, *ccache;
	bool use_token;            /* authenticate with tok, not Kerberos */
	struct sl_meta_token tok;
	bool confidential;
	int timeout_ms;
	size_t max_idle;
	pthread_mutex_t lock;
	struct pooled *idle[MAX_POOL];
	size_t nidle;
	struct sl_rdata *data; /* read contexts, slice grants and URLs for presigned data access */
	char self[256];        /* the gateway's name for us (its welcome), guarded by lock */
	bool no_write_chunks;  /* the gateway has no WRITE_CHUNKS (older): guarded by lock */
};

static struct remote *rm_of(struct sl_meta *m) { return m->priv; }

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* "gateway://host[:port]", host may be "[v6]"; no path, no parameters. */
static int parse_url(struct remote *r, const char *url, struct sl_err *err)
{
	const char *h = url + strlen("gateway://");
	const char *end = h + strcspn(h, "/?#");
	if (*end && strcmp(end, "/"))
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': expected gateway://HOST[:PORT]",
			       url);
	const char *colon;
	const char *hs = h, *he;
	if (*h == '[') {
		hs = h + 1;
		he = memchr(hs, ']', (size_t)(end - hs));
		if (!he)
			return sl_errf(err, -EINVAL, "gateway URL '%.200s': unclosed '['", url);
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		he = colon ? colon : end;
	}
	size_t hl = (size_t)(he - hs);
	if (!hl || hl >= sizeof(r->host))
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': missing or too long host", url);
	memcpy(r->host, hs, hl);
	r->host[hl] = 0;
	const char *ps = colon ? colon + 1 : DEFAULT_PORT;
	size_t pl = colon ? (size_t)(end - ps) : strlen(ps);
	if (!pl || pl >= sizeof(r->port) || strspn(ps, "0123456789") < pl)
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': the port must be a number", url);
	memcpy(r->port, ps, pl);
	r->port[pl] = 0;
	return 0;
}

/* A base64 setting decoded into at most size bytes. */
static int b64_setting(const char *key, const char *in, uint8_t *out, size_t size, size_t *len,
		       struct sl_err *err)
{
	int rc = sl_base64_decode(in, out, size, len);
	if (rc == -EMSGSIZE)
		return sl_errf(err, -EINVAL, "config key '%s' is longer than %zu bytes", key, size);
	if (rc)
		return sl_errf(err, -EINVAL, "config key '%s' is not base64", key);
	return 0;
}

static void remote_cleanup(struct sl_meta *m);

static int read_token(struct remote *r, const struct sl_conf *conf, struct sl_err *err)
{
	const char *ident = sl_conf_str(conf, "token.identifier");
	const char *pass = sl_conf_str(conf, "token.password");
	bool has_i = ident && *ident, has_p = pass && *pass;
	if (!has_i && !has_p)
		return 0;
	if (!has_i || !has_p)
		return sl_errf(err, -EINVAL, "config keys 'token.identifier' and 'token.password' "
			       "must be set together");
	size_t plen = 0;
	int rc = b64_setting("token.identifier", ident, r->tok.ident, sizeof(r->tok.ident),
			    &r->tok.ident_len, err);
	if (!rc)
		rc = b64_setting("token.password", pass, r->tok.password, sizeof(r->tok.password),
				&plen, err);
	if (!rc && (!r->tok.ident_len || plen != sizeof(r->tok.password)))
		rc = sl_errf(err, -EINVAL, "config keys 'token.identifier' and 'token.password' "
			     "do not hold a delegation token (an identifier and %zu password bytes)",
			     sizeof(r->tok.password));
	r->use_token = !rc;
	return rc;
}

static int remote_init(struct sl_meta *m, const char *url, struct sl_err *err)
{
	struct remote *r = rm_of(m);
	pthread_mutex_init(&r->lock, NULL);
	int rc = parse_url(r, url, err);
	if (rc)
		return rc;
	snprintf(m->url_redacted, sizeof(m->url_redacted), "gateway://%s:%s", r->host, r->port);
	const char *svc = sl_conf_str(m->conf, "gateway.principal");
	if (svc && *svc)
		snprintf(r->service, sizeof(r->service), "%s", svc);
	else
		snprintf(r->service, sizeof(r->service), "sluice@%s", r->host);
	if ((rc = sl_rpc_conf_privacy(m->conf, &r->confidential, err)))
		return rc;
	uint64_t timeout = 60, conns = 8;
	if (m->conf && ((rc = sl_conf_u64(m->conf, "io-timeout", &timeout, err)) ||
			(rc = sl_conf_u64(m->conf, "gateway.connections", &conns, err))))
		return rc;
	if (!timeout || timeout > 86400 || !conns || conns > MAX_POOL)
		return sl_errf(err, -EINVAL, "io-timeout must be 1-86400 s and gateway.connections "
			       "1-%d", MAX_POOL);
	r->timeout_ms = (int)timeout * 1000;
	r->max_idle = conns;
	if (sl_rdata_new(&r->data))
		return sl_errf(err, -ENOMEM, "out of memory");
	r->principal = dup_opt(sl_conf_str(m->conf, "kerberos.principal"));
	r->keytab = dup_opt(sl_conf_str(m->conf, "kerberos.keytab"));
	r->ccache = dup_opt(sl_conf_str(m->conf, "kerberos.ccache"));
	if ((rc = read_token(r, m->conf, err)))
		remote_cleanup(m); /* the core calls cleanup only after a successful init */
	return rc;
}

static void drop(struct pooled *p)
{
	sl_rpc_conn_close(&p->c);
	free(p);
}

static void remote_cleanup(struct sl_meta *m)
{
	struct remote *r = rm_of(m);
	for (size_t i = 0; i < r->nidle; i++)
		drop(r->idle[i]);
	r->nidle = 0;
	free(r->principal);
	free(r->keytab);
	free(r->ccache);
	OPENSSL_cleanse(&r->tok, sizeof(r->tok));
	sl_rdata_free(r->data);
	pthread_mutex_destroy(&r->lock);
}

/* A new authenticated connection; the gateway's welcome tells whether it accepts the principal. */
static int dial(struct remote *r, struct pooled **out, struct sl_err *err)
{
	struct pooled *p = calloc(1, sizeof(*p));
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory");
	p->c.fd = -1;
	p->c.confidential = r->confidential;
	p->c.max_frame = SL_RPC_DEFAULT_MAX_FRAME;
	p->c.timeout_ms = r->timeout_ms;
	struct sl_gss_client_conf gc = {.service = r->service, .principal = r->principal,
					.keytab = r->keytab, .ccache = r->ccache};
	void *msg = NULL;
	size_t len = 0;
	int rc = sl_rpc_connect(r->host, r->port, r->timeout_ms, &p->c.fd, err);
	if (!rc && r->use_token)
		rc = sl_rpc_client_token_handshake(&p->c, r->tok.ident, r->tok.ident_len,
						   r->tok.password, err);
	else if (!rc)
		rc = sl_rpc_client_handshake(&p->c, &gc, err);
	if (!rc)
		rc = sl_rpc_recv(&p->c, r->timeout_ms, &msg, &len, err);
	if (!rc) {
		struct sl_rbuf rb = sl_rbuf_of(msg, len);
		int32_t status = (int32_t)sl_r_u32(&rb);
		const char *text = sl_r_str(&rb, 1024);
		if (!sl_r_done(&rb))
			rc = sl_errf(err, -EPROTO, "malformed welcome from the gateway");
		else if (status)
			rc = sl_errf(err, status < 0 ? status : -EACCES, "the gateway refused %s: %s",
				     r->use_token ? "this delegation token"
				     : r->principal ? r->principal : "this client",
				     text ? text : "no reason given");
		else if (text) {
			pthread_mutex_lock(&r->lock);
			snprintf(r->self, sizeof(r->self), "%s", text);
			pthread_mutex_unlock(&r->lock);
		}
	}
	free(msg);
	if (rc) {
		sl_err_wrap(err, "gateway %s:%s", r->host, r->port);
		drop(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- one call ------------------------------------------------------------------------------- */

struct call {
	struct sl_wbuf req;
	void *resp;
	size_t resp_len;
	struct sl_rbuf r; /* the results, after status and message */
};

static void begin(struct call *c, enum sl_rpc_op op, const struct sl_meta_user *u)
{
	*c = (struct call){0};
	sl_w_u16(&c->req, (uint16_t)op);
	sl_w_str(&c->req, u ? u->name : NULL);
}

/* An idle connection with something to read was closed by the gateway (its idle timeout, a
 * ticket or token that ended) or is out of step: it cannot carry a request. */
static bool peer_gone(const struct pooled *p)
{
	struct pollfd pf = {.fd = p->c.fd, .events = POLLIN};
	return poll(&pf, 1, 0) != 0;
}

static int exchange(struct remote *r, struct pooled *p, struct call *c, struct sl_err *err)
{
	int rc = sl_rpc_send(&p->c, &c->req, err);
	if (!rc)
		rc = sl_rpc_recv(&p->c, r->timeout_ms, &c->resp, &c->resp_len, err);
	return rc;
}

/* Sends the request and reads the response: the op's status with the gateway's message, or a
 * transport error (the connection is then dropped). A request is resent on a fresh connection
 * only if the pooled one turned out closed before anything could have been processed. */
static int invoke(struct sl_meta *m, struct call *c, struct sl_err *err)
{
	struct remote *r = rm_of(m);
	struct pooled *p = NULL;
	int64_t now = now_ms();
	pthread_mutex_lock(&r->lock);
	while (r->nidle && !p) {
		p = r->idle[--r->nidle];
		if (now - p->last_used_ms > POOL_IDLE_MS || peer_gone(p)) {
			drop(p);
			p = NULL;
		}
	}
	pthread_mutex_unlock(&r->lock);
	int rc;
	if (p) {
		rc = sl_rpc_send(&p->c, &c->req, err);
		if (rc == -EPIPE || rc == -ECONNRESET) { /* closed while idle: nothing was sent */
			sl_err_clear(err);
			drop(p);
			p = NULL;
		} else if (!rc) {
			rc = sl_rpc_recv(&p->c, r->timeout_ms, &c->resp, &c->resp_len, err);
		}
	}
	if (!p) {
		if ((rc = dial(r, &p, err)))
			return rc;
		rc = exchange(r, p, c, err);
	}
	if (rc) {
		drop(p);
		return sl_err_wrap(err, "gateway %s:%s", r->host, r->port);
	}
	p->last_used_ms = now_ms();
	pthread_mutex_lock(&r->lock);
	if (r->nidle < r->max_idle) {
		r->idle[r->nidle++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (p)
		drop(p);
	c->r = sl_rbuf_of(c->resp, c->resp_len);
	int32_t status = (int32_t)sl_r_u32(&c->r);
	if (c->r.bad)
		return sl_errf(err, -EPROTO, "malformed response from the gateway");
	if (status > 0 || status < -4095)
		return sl_errf(err, -EPROTO, "malformed status %d from the gateway", status);
	if (status) {
		const char *text = sl_r_str(&c->r, 1024);
		return sl_errf(err, status, "%s", text ? text : strerror(-status));
	}
	return 0;
}

/* Ends a call: a successful one must have been read exactly to its end. */
static int finish(struct call *c, int rc, struct sl_err *err)
{
	if (!rc && !sl_r_done(&c->r))
		rc = sl_errf(err, -EPROTO, "malformed response from the gateway");
	sl_wbuf_free(&c->req);
	free(c->resp);
	return rc;
}

/* ---- volume ---------------------------------------------------------------------------------- */

static int copy_str(const char *s, char **out, struct sl_err *err)
{
	if (!(*out = strdup(s ? s : "")))
		return sl_errf(err, -ENOMEM, "out of memory");
	return 0;
}

/* A string result, copied for the caller. */
static int take_str(struct call *c, int rc, size_t max, char **out, struct sl_err *err)
{
	*out = NULL;
	const char *s = rc ? NULL : sl_r_str(&c->r, max);
	if (!rc && sl_r_done(&c->r))
		rc = copy_str(s, out, err);
	rc = finish(c, rc, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Attributes as the result (out may be NULL). */
static int take_attr(struct call *c, int rc, struct sl_attr *out, struct sl_err *err)
{
	struct sl_attr a;
	if (!rc) {
		sl_r_attr(&c->r, &a);
		if (out && !c->r.bad)
			*out = a;
	}
	return finish(c, rc, err);
}

/* An inode and its attributes as the result. */
static int take_entry(struct call *c, int rc, sl_ino *ino, struct sl_attr *attr,
		      struct sl_err *err)
{
	if (!rc)
		*ino = sl_r_u64(&c->r);
	return take_attr(c, rc, attr, err);
}

static int remote_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LOAD_FORMAT, NULL);
	return take_str(&c, invoke(m, &c, err), SL_RPC_MAX_JSON, json, err);
}

static int remote_get_setting(struct sl_meta *m, const char *name, char **value,
			      struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_GET_SETTING, NULL);
	sl_w_str(&c.req, name);
	return take_str(&c, invoke(m, &c, err), SL_RPC_MAX_JSON, value, err);
}

static int remote_add_setting(struct sl_meta *m, const char *name, const char *value,
			      struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_ADD_SETTING, NULL);
	sl_w_str(&c.req, name);
	sl_w_str(&c.req, value);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_format(struct sl_meta *m, const char *json, const struct sl_attr *root,
			 bool force, struct sl_err *err)
{
	(void)json;
	(void)root;
	(void)force;
	return sl_errf(err, -EPERM, "%s: a volume is formatted on its database directly, not "
		       "through the gateway", m->url_redacted);
}

/* ---- sessions and counters ------------------------------------------------------------------- */

static int remote_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s,
			      uint64_t *sid, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_NEW_SESSION, NULL);
	sl_w_str(&c.req, info_json);
	sl_w_i64(&c.req, expire_s);
	int rc = invoke(m, &c, err);
	if (!rc)
		*sid = sl_r_u64(&c.r);
	return finish(&c, rc, err);
}

static int remote_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
				  struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_REFRESH_SESSION, NULL);
	sl_w_u64(&c.req, sid);
	sl_w_i64(&c.req, expire_s);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_CLOSE_SESSION, NULL);
	sl_w_u64(&c.req, sid);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
				struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LIST_SESSIONS, NULL);
	int rc = invoke(m, &c, err);
	uint32_t n = rc ? 0 : sl_r_u32(&c.r);
	for (uint32_t i = 0; i < n && !c.r.bad; i++) {
		struct sl_session_info s;
		s.sid = sl_r_u64(&c.r);
		s.expire_s = sl_r_i64(&c.r);
		s.info_json = sl_r_str(&c.r, SL_RPC_MAX_JSON);
		if (!c.r.bad && cb(arg, &s))
			break;
	}
	if (!rc && c.r.bad)
		rc = sl_errf(err, -EPROTO, "malformed session list from the gateway");
	sl_wbuf_free(&c.req);
	free(c.resp);
	return rc;
}

/* Reads (delta 0) of usedSpace and totalInodes, batches (delta > 0) of nextInode and nextChunk;
 * the gateway refuses the rest. The results: i64 the counter's new value, u8 whether a grant
 * follows, and for a batch of "nextChunk" ids [value - delta, value): i64 issued, bytes mac, u32
 * the seconds the gateway accepts it. The grant is kept (remote_data.h) for the PUTs and commits
 * of those ids, and the core hands the ids out during the first half of that time only, so that
 * the slices begun with them have the other half to be uploaded and committed. */
static int remote_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			       struct sl_err *err)
{
	int64_t asked = now_ms();
	struct call c;
	begin(&c, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&c.req, name);
	sl_w_i64(&c.req, delta);
	int rc = invoke(m, &c, err);
	struct sl_slice_grant g = {0};
	bool granted = false;
	uint32_t lifetime = 0;
	if (!rc) {
		*value = sl_r_i64(&c.r);
		if ((granted = sl_r_bool(&c.r))) {
			g.issued = sl_r_i64(&c.r);
			const void *mac;
			if (sl_r_bytes(&c.r, &mac, SL_GRANT_MAC_BYTES) == SL_GRANT_MAC_BYTES)
				memcpy(g.mac, mac, SL_GRANT_MAC_BYTES);
			else
				c.r.bad = true;
			lifetime = sl_r_u32(&c.r);
		}
	}
	rc = finish(&c, rc, err);
	if (!rc && granted && delta > 0 && delta <= UINT32_MAX && *value >= delta) {
		g.first = (uint64_t)(*value - delta);
		g.count = (uint32_t)delta;
		sl_rdata_add_grant(rm_of(m)->data, &g);
		pthread_mutex_lock(&m->lock);
		m->slice_batch_until_ms = asked + (int64_t)lifetime * 500;
		pthread_mutex_unlock(&m->lock);
	}
	return rc;
}

static int remote_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
				   const int64_t *space, const int64_t *inodes, size_t n,
				   struct sl_err *err)
{
	/* Never reached with anything to do: this backend reports no usage (see the top). */
	(void)m, (void)inos, (void)length, (void)space, (void)inodes, (void)err;
	return n ? sl_errf(err, -EPERM, "usage is accounted by the gateway") : 0;
}

/* ---- namespace ------------------------------------------------------------------------------- */

static void read_removed(struct sl_rbuf *r, struct sl_removed *out)
{
	struct sl_removed x;
	x.ino = sl_r_u64(r);
	x.length = sl_r_u64(r);
	x.data_pending = sl_r_bool(r);
	if (out)
		*out = x;
}

static int remote_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
			  sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_RESOLVE, u);
	sl_w_str(&c.req, path);
	return take_entry(&c, invoke(m, &c, err), ino, attr, err);
}

static int remote_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LOOKUP, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	return take_entry(&c, invoke(m, &c, err), ino, attr, err);
}

static int remote_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_GETATTR, u);
	sl_w_u64(&c.req, ino);
	return take_attr(&c, invoke(m, &c, err), attr, err);
}

static int remote_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
			  const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_SETATTR, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, (uint32_t)set);
	sl_w_attr(&c.req, in);
	return take_attr(&c, invoke(m, &c, err), out, err);
}

/* mknod reports the existing entry with -EEXIST, so its results follow any status. */
static int remote_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
			sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
			struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_MKNOD, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	sl_w_u8(&c.req, type);
	sl_w_u16(&c.req, mode);
	sl_w_u32(&c.req, (uint32_t)flags);
	sl_w_str(&c.req, target);
	int rc = invoke(m, &c, err);
	if (!rc || rc == -EEXIST) {
		struct sl_rbuf *r = &c.r;
		sl_ino i = sl_r_u64(r);
		struct sl_attr a;
		sl_r_attr(r, &a);
		read_removed(r, replaced);
		if (!r->bad) {
			if (ino)
				*ino = i;
			if (attr)
				*attr = a;
		}
		if (rc && !sl_r_done(r))
			rc = sl_errf(err, -EPROTO, "malformed response from the gateway");
		if (rc) {
			sl_wbuf_free(&c.req);
			free(c.resp);
			return rc;
		}
	}
	return finish(&c, rc, err);
}

static int remote_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_UNLINK, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	int rc = invoke(m, &c, err);
	if (!rc)
		read_removed(&c.r, removed);
	return finish(&c, rc, err);
}

static int remote_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_RMDIR, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_whoami(struct sl_meta *m, char *name, size_t size, struct sl_err *err)
{
	struct remote *r = rm_of(m);
	pthread_mutex_lock(&r->lock);
	int n = snprintf(name, size, "%s", r->self);
	pthread_mutex_unlock(&r->lock);
	return n > 0 ? 0 : sl_errf(err, -ENOTCONN, "not connected to the gateway yet");
}

/* The gateway deletes the data of what it removes: removed is never called here. */
static int remote_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			      const char *name, sl_meta_removed_cb removed, void *arg,
			      struct sl_err *err)
{
	(void)removed;
	(void)arg;
	struct call c;
	begin(&c, SL_OP_REMOVE_TREE, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
			 const char *nsrc, sl_ino pdst, const char *ndst, int flags,
			 struct sl_removed *replaced, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_RENAME, u);
	sl_w_u64(&c.req, psrc);
	sl_w_str(&c.req, nsrc);
	sl_w_u64(&c.req, pdst);
	sl_w_str(&c.req, ndst);
	sl_w_u32(&c.req, (uint32_t)flags);
	int rc = invoke(m, &c, err);
	if (!rc)
		read_removed(&c.r, replaced);
	return finish(&c, rc, err);
}

/* Pages of at most SL_RPC_MAX_LIST entries until limit entries came or the directory ended. */
static int remote_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
			  const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
			  struct sl_err *err)
{
	char last[SL_NAME_MAX + 1];
	bool stop = false;
	int rc = 0;
	while (!rc && !stop && limit) {
		size_t page = limit < SL_RPC_MAX_LIST ? limit : SL_RPC_MAX_LIST;
		struct call c;
		begin(&c, SL_OP_READDIR, u);
		sl_w_u64(&c.req, dir);
		sl_w_str(&c.req, after);
		sl_w_u32(&c.req, (uint32_t)page);
		rc = invoke(m, &c, err);
		uint32_t n = rc ? 0 : sl_r_u32(&c.r);
		if (n > page)
			c.r.bad = true;
		uint32_t i;
		for (i = 0; i < n && !c.r.bad && !stop; i++) {
			struct sl_dirent_info e;
			e.name = sl_r_str(&c.r, SL_RPC_MAX_NAME);
			e.ino = sl_r_u64(&c.r);
			sl_r_attr(&c.r, &e.attr);
			if (c.r.bad || !e.name)
				break;
			e.name_len = strlen(e.name);
			snprintf(last, sizeof(last), "%s", e.name);
			stop = cb(arg, &e) != 0;
		}
		if (!rc && (c.r.bad || (!stop && !sl_r_done(&c.r))))
			rc = sl_errf(err, -EPROTO, "malformed directory listing from the gateway");
		sl_wbuf_free(&c.req);
		free(c.resp);
		if (n < page)
			break;
		limit -= n;
		after = last;
	}
	return rc;
}

static int remote_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   char **target, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_READLINK, u);
	sl_w_u64(&c.req, ino);
	return take_str(&c, invoke(m, &c, err), SL_RPC_MAX_PATH, target, err);
}

static int remote_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     char **path, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_INODE_PATH, u);
	sl_w_u64(&c.req, ino);
	return take_str(&c, invoke(m, &c, err), SL_RPC_MAX_PATH, path, err);
}

/* ---- file data ------------------------------------------------------------------------------- */

static int remote_read_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     uint32_t indx, struct sl_slice **slices, size_t *n,
			     struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_READ_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	*slices = NULL;
	*n = 0;
	int rc = invoke(m, &c, err);
	uint32_t cnt = rc ? 0 : sl_r_u32(&c.r);
	if (cnt > SL_RPC_MAX_SLICES || cnt * (size_t)SL_SLICE_BYTES > c.r.len - c.r.pos)
		c.r.bad = true;
	struct sl_slice *ss = NULL;
	if (!rc && !c.r.bad && cnt && !(ss = malloc(cnt * sizeof(*ss))))
		rc = sl_errf(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; !rc && !c.r.bad && i < cnt; i++)
		sl_r_slice(&c.r, &ss[i]);
	rc = finish(&c, rc, err);
	if (rc) {
		free(ss);
		return rc;
	}
	/* what a PRESIGN GET of their blocks names, so that the gateway can repeat this check */
	for (uint32_t i = 0; i < cnt; i++)
		if (ss[i].id)
			sl_rdata_note_read(rm_of(m)->data, ss[i].id, ino, indx, u ? u->name : NULL);
	*slices = ss;
	*n = cnt;
	return 0;
}

/* The stream's lease after a data op's arguments (proto.h), if it holds one. */
static void put_lease(struct call *c, const struct sl_meta_lease *lease)
{
	if (lease) {
		sl_w_u64(&c->req, lease->sid);
		sl_w_u64(&c->req, lease->gen);
	}
}

/* The grant of a slice this client is about to commit (the gateway accepts new slices only with
 * the grant of their id). */
static int grant_for_commit(struct sl_meta *m, uint64_t id, struct sl_slice_grant *g,
			    struct sl_err *err)
{
	if (!sl_rdata_grant_of(rm_of(m)->data, id, g))
		return sl_errf(err, -EPERM, "%s: slice %" PRIu64 " was not granted to this client "
			       "by the gateway (taken by an earlier process, or its grant was "
			       "forgotten), so it cannot be committed", m->url_redacted, id);
	return 0;
}

/* Arguments: u64 inode, u32 chunk index, the slice, i64 mtime, the slice's grant, the stream's
 * lease if it holds one. */
static int remote_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			      const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			      const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			      struct sl_err *err)
{
	struct sl_slice_grant g;
	int rc = grant_for_commit(m, s->id, &g, err);
	if (rc)
		return rc;
	struct call c;
	begin(&c, SL_OP_WRITE_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	sl_w_slice(&c.req, s);
	sl_w_i64(&c.req, mtime_ns);
	sl_w_grant(&c.req, &g);
	put_lease(&c, lease);
	return take_attr(&c, invoke(m, &c, err), attr, err);
}

/* Group commit in one request (op WRITE_CHUNKS). A gateway older than the op answers ENOSYS,
 * remembered: sl_meta_write_chunks then commits record by record, as before. */
static int remote_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			       size_t *done, struct sl_err *err)
{
	struct remote *r = rm_of(m);
	*done = 0;
	pthread_mutex_lock(&r->lock);
	bool old_gateway = r->no_write_chunks;
	pthread_mutex_unlock(&r->lock);
	if (old_gateway)
		return sl_errf(err, -ENOSYS, "the gateway commits one slice per request");
	if (n > SL_RPC_MAX_BATCH)
		return sl_errf(err, -E2BIG, "a group commit of more than %u records",
			       SL_RPC_MAX_BATCH);
	struct call c;
	begin(&c, SL_OP_WRITE_CHUNKS, NULL);
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct sl_meta_chunk_write *w = &recs[i];
		struct sl_slice_grant g;
		int rc = grant_for_commit(m, w->s.id, &g, err);
		if (rc) {
			sl_wbuf_free(&c.req);
			return rc;
		}
		sl_w_str(&c.req, w->u ? w->u->name : NULL);
		sl_w_u64(&c.req, w->ino);
		sl_w_u32(&c.req, w->indx);
		sl_w_slice(&c.req, &w->s);
		sl_w_i64(&c.req, w->mtime_ns);
		sl_w_grant(&c.req, &g);
		sl_w_bool(&c.req, w->lease != NULL);
		put_lease(&c, w->lease);
	}
	int rc = invoke(m, &c, err);
	if (rc == -ENOSYS) {
		pthread_mutex_lock(&r->lock);
		r->no_write_chunks = true;
		pthread_mutex_unlock(&r->lock);
	}
	for (size_t i = 0; !rc && i < n; i++)
		sl_r_attr(&c.r, &recs[i].attr);
	rc = finish(&c, rc, err);
	if (!rc)
		*done = n;
	return rc;
}

static int remote_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   uint64_t length, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_TRUNCATE, u);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, length);
	return take_attr(&c, invoke(m, &c, err), attr, err);
}

static int remote_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
			 const sl_ino *srcs, size_t n, struct sl_err *err)
{
	if (n > SL_RPC_MAX_CONCAT)
		return sl_errf(err, -E2BIG, "concat of more than %u files at once",
			       SL_RPC_MAX_CONCAT);
	struct call c;
	begin(&c, SL_OP_CONCAT, u);
	sl_w_u64(&c.req, target);
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		sl_w_u64(&c.req, srcs[i]);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
				   struct sl_err *err)
{
	(void)cb, (void)arg;
	return sl_errf(err, -EPERM, "%s: the gateway deletes the data of inode %" PRIu64 " itself",
		       m->url_redacted, ino);
}

/* Slices the compaction frees are deleted by the gateway (cb is not called here). Arguments:
 * u64 inode, u32 chunk index, u32 n and the n records expected, u32 skip, the replacement slice,
 * its grant, the stream's lease if it holds one. */
static int remote_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
				const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
				const struct sl_slice *expect, size_t n, size_t skip,
				const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err)
{
	(void)cb, (void)arg;
	if (n > SL_RPC_MAX_SLICES)
		return sl_errf(err, -E2BIG, "too many slices to compact at once");
	struct sl_slice_grant g;
	int rc = grant_for_commit(m, repl->id, &g, err);
	if (rc)
		return rc;
	struct call c;
	begin(&c, SL_OP_COMPACT_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		sl_w_slice(&c.req, &expect[i]);
	sl_w_u32(&c.req, (uint32_t)skip);
	sl_w_slice(&c.req, repl);
	sl_w_grant(&c.req, &g);
	put_lease(&c, lease);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				uint64_t sid, struct sl_meta_lease *out, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LEASE_ACQUIRE, u);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, sid);
	int rc = invoke(m, &c, err);
	if (!rc)
		*out = (struct sl_meta_lease){.sid = sid, .gen = sl_r_u64(&c.r)};
	return finish(&c, rc, err);
}

static int remote_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
				struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LEASE_RELEASE, NULL);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, lease->sid);
	sl_w_u64(&c.req, lease->gen);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				bool recover, bool *closed, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LEASE_RECOVER, u);
	sl_w_u64(&c.req, ino);
	sl_w_bool(&c.req, recover);
	int rc = invoke(m, &c, err);
	*closed = !rc && sl_r_bool(&c.r);
	return finish(&c, rc, err);
}

static int remote_file_crc(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   uint64_t length, uint32_t *crc, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_FILE_CRC, u);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, length);
	int rc = invoke(m, &c, err);
	*crc = rc ? 0 : sl_r_u32(&c.r);
	return finish(&c, rc, err);
}

static int remote_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err)
{
	return sl_errf(err, -EPERM, "%s: the gateway deletes slice %" PRIu64 " itself",
		       m->url_redacted, id);
}

static int remote_list_delfiles(struct sl_meta *m, int64_t before_s,
				int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
				struct sl_err *err)
{
	(void)m, (void)before_s, (void)cb, (void)arg, (void)err;
	return 0; /* pending deletions are the gateway's to sweep */
}

static int remote_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	/* Nothing is kept alive for this client: the gateway never records its open files. */
	(void)m, (void)ino, (void)err;
	if (orphan)
		*orphan = false;
	return 0;
}

/* ---- xattrs ---------------------------------------------------------------------------------- */

static int take_bytes(struct call *c, void **value, size_t *len, size_t max, struct sl_err *err)
{
	const void *p;
	size_t n = sl_r_bytes(&c->r, &p, max);
	if (c->r.bad)
		return 0; /* finish reports it */
	void *copy = malloc(n ? n : 1);
	if (!copy)
		return sl_errf(err, -ENOMEM, "out of memory");
	if (n)
		memcpy(copy, p, n);
	*value = copy;
	*len = n;
	return 0;
}

static int remote_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, void **value, size_t *len, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_GETXATTR, u);
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	*value = NULL;
	*len = 0;
	int rc = invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, value, len, SL_RPC_MAX_XATTR, err);
	rc = finish(&c, rc, err);
	if (rc) {
		free(*value);
		*value = NULL;
		*len = 0;
	}
	return rc;
}

static int remote_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, const void *value, size_t len, int flags,
			   struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_SETXATTR, u);
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	sl_w_bytes(&c.req, value, len);
	sl_w_u32(&c.req, (uint32_t)flags);
	return finish(&c, invoke(m, &c, err), err);
}

static int remote_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			    char **names, size_t *len, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_LISTXATTR, u);
	sl_w_u64(&c.req, ino);
	void *v = NULL;
	*names = NULL;
	*len = 0;
	int rc = invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, &v, len, SL_RPC_MAX_XATTR, err);
	rc = finish(&c, rc, err);
	if (rc) {
		free(v);
		*len = 0;
		return rc;
	}
	*names = v;
	return 0;
}

static int remote_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			      const char *name, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_REMOVEXATTR, u);
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	return finish(&c, invoke(m, &c, err), err);
}

/* ---- summaries ------------------------------------------------------------------------------- */

static int remote_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_meta_summary *out, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_SUMMARY, u);
	sl_w_u64(&c.req, ino);
	int rc = invoke(m, &c, err);
	if (!rc) {
		out->length = sl_r_u64(&c.r);
		out->space = sl_r_u64(&c.r);
		out->files = sl_r_u64(&c.r);
		out->dirs = sl_r_u64(&c.r);
	}
	return finish(&c, rc, err);
}

static int remote_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				       struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_UNSUPPORTED_FEATURES, NULL);
	int rc = invoke(m, &c, err);
	const char *s = rc ? NULL : sl_r_str(&c.r, 1024);
	if (what_size)
		snprintf(what, what_size, "%s", s && !c.r.bad ? s : "");
	return finish(&c, rc, err);
}

/* ---- delegation tokens ----------------------------------------------------------------------- */

/* Ends a call whose request carried a token's password. */
static int finish_secret(struct call *c, int rc, struct sl_err *err)
{
	if (c->req.p)
		OPENSSL_cleanse(c->req.p, c->req.len);
	return finish(c, rc, err);
}

static int remote_issue_token(struct sl_meta *m, const struct sl_meta_user *u, const char *renewer,
			      struct sl_meta_token *out, char *service, size_t service_size,
			      struct sl_err *err)
{
	struct remote *r = rm_of(m);
	if (r->use_token)
		return sl_errf(err, -EPERM, "this client authenticates with a delegation token "
			       "itself; tokens are issued to Kerberos clients only");
	struct call c;
	begin(&c, SL_OP_ISSUE_TOKEN, u);
	sl_w_str(&c.req, renewer && *renewer ? renewer : NULL);
	int rc = invoke(m, &c, err);
	if (!rc) {
		const void *ident, *pass;
		size_t ilen = sl_r_bytes(&c.r, &ident, sizeof(out->ident));
		size_t plen = sl_r_bytes(&c.r, &pass, sizeof(out->password));
		if (sl_r_done(&c.r) && ilen && plen == sizeof(out->password)) {
			memcpy(out->ident, ident, ilen);
			out->ident_len = ilen;
			memcpy(out->password, pass, plen);
			OPENSSL_cleanse((void *)pass, plen);
		} else {
			c.r.bad = true;
		}
	}
	rc = finish(&c, rc, err);
	if (rc)
		return rc;
	/* The name this client reaches the gateway by: what Hadoop's token selection matches. */
	snprintf(service, service_size, strchr(r->host, ':') ? "[%s]:%s" : "%s:%s", r->host,
		 r->port);
	return 0;
}

static int remote_renew_token(struct sl_meta *m, const struct sl_meta_token *t,
			      int64_t *expiry_ms, struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_RENEW_TOKEN, NULL);
	sl_w_bytes(&c.req, t->ident, t->ident_len);
	sl_w_bytes(&c.req, t->password, sizeof(t->password));
	int rc = invoke(m, &c, err);
	if (!rc)
		*expiry_ms = sl_r_i64(&c.r);
	return finish_secret(&c, rc, err);
}

static int remote_cancel_token(struct sl_meta *m, const struct sl_meta_token *t,
			       struct sl_err *err)
{
	struct call c;
	begin(&c, SL_OP_CANCEL_TOKEN, NULL);
	sl_w_bytes(&c.req, t->ident, t->ident_len);
	sl_w_bytes(&c.req, t->password, sizeof(t->password));
	return finish_secret(&c, invoke(m, &c, err), err);
}

/* ---- data access: presigned URLs ------------------------------------------------------------ */

/* The slice id of a block key ".../<id>_<indx>_<len>" (three runs of digits); the gateway checks
 * the rest of the key. */
static bool slice_of_key(const char *key, uint64_t *id)
{
	const char *p = strrchr(key, '/');
	p = p ? p + 1 : key;
	const char *start = p;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == start || *p++ != '_')
		return false;
	size_t n = strspn(p, "0123456789");
	if (!n || p[n] != '_')
		return false;
	p += n + 1;
	n = strspn(p, "0123456789");
	if (!n || p[n])
		return false;
	*id = v;
	return true;
}

/* Arguments: str method, str key, u64 inode, u32 chunk index (GET/HEAD: the read the URL is
 * for; 0 otherwise), u64 grant first, u32 count, i64 issued, bytes mac (PUT: the grant of the
 * key's slice; zeros and no mac otherwise). Results: str URL, u32 seconds it is valid for. The
 * acting user of a GET is the one that read the chunk. */
static int remote_presign(struct sl_meta *m, const char *method, const char *key,
			  const char *user, sl_ino ino, uint32_t indx,
			  const struct sl_slice_grant *g, char *out, size_t size,
			  uint32_t *expires_s, struct sl_err *err)
{
	struct sl_meta_user as = {.name = user && *user ? user : NULL};
	struct call c;
	begin(&c, SL_OP_PRESIGN, &as);
	sl_w_str(&c.req, method);
	sl_w_str(&c.req, key);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	sl_w_grant(&c.req, g);
	int rc = invoke(m, &c, err);
	const char *url = rc ? NULL : sl_r_str(&c.r, SL_PRESIGN_URL_MAX - 1);
	*expires_s = rc ? 0 : sl_r_u32(&c.r);
	if (!rc && sl_r_done(&c.r)) { /* url points into the response: copy before finish */
		if (!url || !*expires_s)
			rc = sl_errf(err, -EPROTO, "malformed presigned URL from the gateway");
		else if (strlen(url) >= size)
			rc = sl_errf(err, -ENAMETOOLONG, "the URL for %s does not fit %zu bytes", key,
				     size);
		else
			memcpy(out, url, strlen(url) + 1);
	}
	return finish(&c, rc, err);
}

/* struct sl_presign_provider's url() (arg: the sl_meta): from the cache, or from the gateway
 * with this client's proof that it may (the read context or the grant of the key's slice). */
static int remote_url(void *arg, const char *method, const char *key, unsigned flags, char *out,
		      size_t size, struct sl_err *err)
{
	struct sl_meta *m = arg;
	struct remote *r = rm_of(m);
	bool put = !strcmp(method, "PUT");
	if (!strcmp(method, "DELETE"))
		return sl_errf(err, -EPERM, "%s: a client in Kerberos mode does not delete objects; "
			       "the gateway deletes the data of removed files and slices (%s is "
			       "left for it or for gc)", m->url_redacted, key);
	/* PEER: a ticket for GETs from the cache group's servers, given for reads as a GET URL */
	if (!put && strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "PEER"))
		return sl_errf(err, -EINVAL, "presign: method %s is not GET, HEAD, PEER or PUT",
			       method);
	uint64_t id;
	if (!slice_of_key(key, &id))
		return sl_errf(err, put ? -EPERM : -EACCES, "%s: '%s' is not a data block key; the "
			       "gateway presigns data blocks only", m->url_redacted, key);
	int64_t start = now_ms();
	if (!(flags & SL_PRESIGN_FRESH) && sl_rdata_url_get(r->data, method, key, start, out, size))
		return 0;
	sl_ino ino = 0;
	uint32_t indx = 0, expires = 0;
	char user[SL_RPC_MAX_USER + 1] = "";
	struct sl_slice_grant g;
	int rc;
	if (put) {
		if (!sl_rdata_grant_of(r->data, id, &g))
			return sl_errf(err, -EPERM, "%s: slice %" PRIu64 " was not granted to this "
				       "client by the gateway (written by an earlier process, or its "
				       "grant was forgotten), so it cannot be uploaded",
				       m->url_redacted, id);
		rc = remote_presign(m, method, key, NULL, 0, 0, &g, out, size, &expires, err);
	} else {
		/* -ENOENT makes a reader re-read the chunk list (as for a block a compaction
		 * replaced), which records the context again */
		if (!sl_rdata_read_of(r->data, id, &ino, &indx, user))
			return sl_errf(err, -ENOENT, "%s: no chunk list read here holds slice %" PRIu64
				       " (any more): read the file's chunk again", m->url_redacted, id);
		rc = remote_presign(m, method, key, user, ino, indx, NULL, out, size, &expires, err);
	}
	if (rc)
		return rc;
	/* used until a fifth of its life (at most a minute) is left, counted from before asking */
	int64_t margin = (int64_t)expires * 200 < 60000 ? (int64_t)expires * 200 : 60000;
	sl_rdata_url_put(r->data, method, key, out, start + (int64_t)expires * 1000 - margin);
	return 0;
}

static int remote_object_provider(struct sl_meta *m, struct sl_presign_provider *out,
				  struct sl_err *err)
{
	(void)err;
	out->url = remote_url;
	out->arg = m;
	return 0;
}

const struct sl_meta_backend sl_meta_remote_backend = {
	.version = SL_META_BACKEND_VERSION,
	.name = "gateway",
	.priv_size = sizeof(struct remote),
	.caps = SL_META_CAP_SERVER_CHECKS | SL_META_CAP_COMMIT_STORED,
	.init = remote_init,
	.cleanup = remote_cleanup,
	.load_format = remote_load_format,
	.get_setting = remote_get_setting,
	.add_setting = remote_add_setting,
	.format = remote_format,
	.new_session = remote_new_session,
	.refresh_session = remote_refresh_session,
	.close_session = remote_close_session,
	.list_sessions = remote_list_sessions,
	.incr_counter = remote_incr_counter,
	.update_dir_stats = remote_update_dir_stats,
	.resolve = remote_resolve,
	.lookup = remote_lookup,
	.getattr = remote_getattr,
	.setattr = remote_setattr,
	.mknod = remote_mknod,
	.unlink = remote_unlink,
	.rmdir = remote_rmdir,
	.rename = remote_rename,
	.remove_tree = remote_remove_tree,
	.readdir = remote_readdir,
	.readlink = remote_readlink,
	.inode_path = remote_inode_path,
	.read_chunk = remote_read_chunk,
	.write_chunk = remote_write_chunk,
	.write_chunks = remote_write_chunks,
	.truncate = remote_truncate,
	.lease_acquire = remote_lease_acquire,
	.lease_release = remote_lease_release,
	.lease_recover = remote_lease_recover,
	.file_crc = remote_file_crc,
	.concat = remote_concat,
	.delete_file_data = remote_delete_file_data,
	.compact_chunk = remote_compact_chunk,
	.forget_slice = remote_forget_slice,
	.list_delfiles = remote_list_delfiles,
	.release = remote_release,
	.getxattr = remote_getxattr,
	.setxattr = remote_setxattr,
	.listxattr = remote_listxattr,
	.removexattr = remote_removexattr,
	.summary = remote_summary,
	.unsupported_features = remote_unsupported_features,
	.issue_token = remote_issue_token,
	.renew_token = remote_renew_token,
	.cancel_token = remote_cancel_token,
	.whoami = remote_whoami,
	.object_provider = remote_object_provider,
};
