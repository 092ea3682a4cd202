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
 * op are rpc/codec.h's.
 *
 * Without bucket keys either, it reaches object storage through presigned URLs the gateway signs
 * (object_provider, used by the `presigned` object backend): a GET for a block of a slice this
 * client saw in a chunk list (the gateway repeats that read's permission check), a PUT for a
 * block of a slice whose id the gateway granted it (remote_data.h keeps both, and the URLs).
 * With or without keys, a commit of a new slice shows the grant of its id, and the gateway
 * checks there that its last block is stored with the size committed (SL_META_CAP_COMMIT_STORED).
 *
 * This file holds the backend's state and configuration, its pooled connections, the frame of a
 * request and presigned data access; the slots, one request each, and the backend's table are
 * remote_ops.c's (what the two share: remote_internal.h).
 */
#include "remote_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../object/presign.h"
#include "../rpc/conn.h"
#include "../rpc/proto.h"
#include "../rpc/wire.h"
#include "../util/base64.h"
#include "remote_data.h"

_Static_assert(SL_RPC_MAX_URL == SL_PRESIGN_URL_MAX - 1, "a presigned URL must fit its buffer");

#define DEFAULT_PORT "9810"
#define POOL_IDLE_MS 60000 /* well below the gateway's idle timeout, so a pooled one is alive */

struct pooled {
	struct sl_rpc_conn c;
	int64_t last_used_ms;
};

static char *dup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* One "host[:port]" of the URL (host may be "[v6]") into g. */
static int parse_gateway(struct gateway_addr *g, const char *h, const char *end, const char *url,
			 struct sl_err *err)
{
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
	if (!hl || hl >= sizeof(g->host))
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': missing or too long host", url);
	memcpy(g->host, hs, hl);
	g->host[hl] = 0;
	const char *ps = colon ? colon + 1 : DEFAULT_PORT;
	size_t pl = colon ? (size_t)(end - ps) : strlen(ps);
	if (!pl || pl >= sizeof(g->port) || strspn(ps, "0123456789") < pl)
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': the port must be a number", url);
	memcpy(g->port, ps, pl);
	g->port[pl] = 0;
	return 0;
}

/* "gateway://host[:port][,host[:port]]...": one gateway or several of one volume; no path, no
 * parameters. */
static int parse_url(struct remote *r, const char *url, struct sl_err *err)
{
	const char *h = url + strlen("gateway://");
	const char *end = h + strcspn(h, "/?#");
	if (*end && strcmp(end, "/"))
		return sl_errf(err, -EINVAL, "gateway URL '%.200s': expected "
			       "gateway://HOST[:PORT][,HOST[:PORT]]...", url);
	for (const char *p = h; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		if (r->ngw == MAX_GATEWAYS)
			return sl_errf(err, -EINVAL, "gateway URL '%.200s': more than %d gateways",
				       url, MAX_GATEWAYS);
		int rc = parse_gateway(&r->gw[r->ngw], p, e, url, err);
		if (rc)
			return rc;
		r->ngw++;
		p = comma ? comma + 1 : end;
	}
	return r->ngw ? 0 : sl_errf(err, -EINVAL, "gateway URL '%.200s': no gateway", url);
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

int sl_remote_init(struct sl_meta *m, const char *url, struct sl_err *err)
{
	struct remote *r = sl_remote_of(m);
	pthread_mutex_init(&r->lock, NULL);
	int rc = parse_url(r, url, err);
	if (rc)
		return rc;
	size_t k = (size_t)snprintf(m->url_redacted, sizeof(m->url_redacted), "gateway://");
	const char *svc = sl_conf_str(m->conf, "gateway.principal");
	for (size_t i = 0; i < r->ngw; i++) {
		struct gateway_addr *g = &r->gw[i];
		if (k < sizeof(m->url_redacted))
			k += (size_t)snprintf(m->url_redacted + k, sizeof(m->url_redacted) - k,
					      "%s%s:%s", i ? "," : "", g->host, g->port);
		char service[sizeof(g->service)]; /* not straight into g: it holds g->host too */
		if (svc && *svc)
			snprintf(service, sizeof(service), "%s", svc);
		else
			snprintf(service, sizeof(service), "sluice@%s", g->host);
		memcpy(g->service, service, sizeof(service));
	}
	/* clients of several gateways start at different ones, which spreads their connections */
	unsigned seed = (unsigned)sl_mono_ms() ^ (unsigned)(uintptr_t)m;
	r->next_gw = (size_t)rand_r(&seed) % r->ngw;
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
		sl_remote_cleanup(m); /* the core calls cleanup only after a successful init */
	return rc;
}

static void drop(struct pooled *p)
{
	sl_rpc_conn_close(&p->c);
	free(p);
}

void sl_remote_cleanup(struct sl_meta *m)
{
	struct remote *r = sl_remote_of(m);
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

/* A new authenticated connection to gateway g; its welcome tells whether it accepts the
 * principal. */
static int dial_one(struct remote *r, const struct gateway_addr *g, struct pooled **out,
		    struct sl_err *err)
{
	struct pooled *p = calloc(1, sizeof(*p));
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory");
	p->c.fd = -1;
	p->c.confidential = r->confidential;
	p->c.max_frame = SL_RPC_DEFAULT_MAX_FRAME;
	p->c.timeout_ms = r->timeout_ms;
	struct sl_gss_client_conf gc = {.service = g->service, .principal = r->principal,
					.keytab = r->keytab, .ccache = r->ccache};
	void *msg = NULL;
	size_t len = 0;
	int rc = sl_rpc_connect(g->host, g->port, r->timeout_ms, &p->c.fd, err);
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
		sl_err_wrap(err, "gateway %s:%s", g->host, g->port);
		drop(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* A new connection: to the next gateway of the URL, or to the one after it if that one cannot
 * be reached (a gateway that refuses the client refuses it: that ends the search). */
static int dial(struct remote *r, struct pooled **out, struct sl_err *err)
{
	pthread_mutex_lock(&r->lock);
	size_t start = r->next_gw++ % r->ngw;
	pthread_mutex_unlock(&r->lock);
	int rc = -ENOTCONN;
	for (size_t k = 0; k < r->ngw; k++) {
		if (k)
			sl_err_clear(err);
		rc = dial_one(r, &r->gw[(start + k) % r->ngw], out, err);
		if (!rc || sl_retry_class_of(rc) != SL_RETRY_CONNECTION)
			break;
	}
	return rc;
}

/* Requests that only read (or, as NEXT_IDS, whose repetition only wastes ids): sent again to
 * another gateway when theirs went away mid-request. */
static bool idempotent(enum sl_rpc_op op)
{
	switch (op) {
	case SL_OP_LOAD_FORMAT:
	case SL_OP_GET_SETTING:
	case SL_OP_REFRESH_SESSION:
	case SL_OP_LIST_SESSIONS:
	case SL_OP_NEXT_IDS:
	case SL_OP_RESOLVE:
	case SL_OP_LOOKUP:
	case SL_OP_GETATTR:
	case SL_OP_READDIR:
	case SL_OP_READLINK:
	case SL_OP_READ_CHUNK:
	case SL_OP_GETXATTR:
	case SL_OP_LISTXATTR:
	case SL_OP_SUMMARY:
	case SL_OP_UNSUPPORTED_FEATURES:
	case SL_OP_PRESIGN:
	case SL_OP_INODE_PATH:
	case SL_OP_FILE_CRC:
	case SL_OP_GETFACL:
	case SL_OP_ACCESS:
		return true;
	default:
		return false;
	}
}

/* ---- one call ------------------------------------------------------------------------------- */
/* The frame of every slot's request (remote_internal.h). */

/* Changes the gateway can answer again from what is stored when an earlier sending made them
 * (proto.h, idempotency tokens): sent again, with their token, to another gateway when theirs
 * went away mid-request. */
static bool once_able(enum sl_rpc_op op)
{
	switch (op) {
	case SL_OP_SETATTR:
	case SL_OP_MKNOD:
	case SL_OP_MKNOD_LEASED:
	case SL_OP_UNLINK:
	case SL_OP_RMDIR:
	case SL_OP_RENAME:
	case SL_OP_REMOVE_TREE:
	case SL_OP_WRITE_CHUNK:
	case SL_OP_WRITE_CHUNKS:
	case SL_OP_TRUNCATE:
	case SL_OP_CONCAT:
	case SL_OP_COMPACT_CHUNK:
	case SL_OP_SETXATTR:
	case SL_OP_REMOVEXATTR:
	case SL_OP_SETFACL:
	case SL_OP_LEASE_ACQUIRE:
	case SL_OP_LEASE_RELEASE:
	case SL_OP_LEASE_RECOVER:
		return true;
	default:
		return false;
	}
}

void sl_remote_begin(struct call *c, enum sl_rpc_op op, const struct sl_meta_user *u)
{
	*c = (struct call){.op = op};
	uint64_t token = 0;
	if (once_able(op) && RAND_bytes((unsigned char *)&token, sizeof(token)) == 1)
		token = (token & INT64_MAX) | 1; /* the database keeps it as a positive BIGINT */
	if (token) {
		c->once = true;
		sl_w_u16(&c->req, (uint16_t)(op | SL_OP_ONCE));
		sl_w_u64(&c->req, token);
	} else {
		sl_w_u16(&c->req, (uint16_t)op);
	}
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

int sl_remote_invoke(struct sl_meta *m, struct call *c, struct sl_err *err)
{
	struct remote *r = sl_remote_of(m);
	struct pooled *p = NULL;
	int64_t now = sl_mono_ms();
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
	/* a fresh connection; one more per other gateway for a read or a change with a token whose
	 * gateway went away */
	for (size_t tries = 0; !p || (rc && (idempotent(c->op) || c->once) && tries <= r->ngw &&
				      sl_retry_class_of(rc) == SL_RETRY_CONNECTION); tries++) {
		if (p) {
			drop(p);
			p = NULL;
			sl_err_clear(err);
		}
		if ((rc = dial(r, &p, err)))
			return rc;
		rc = exchange(r, p, c, err);
	}
	if (rc) {
		drop(p);
		return sl_err_wrap(err, "gateway %s", m->url_redacted + strlen("gateway://"));
	}
	p->last_used_ms = sl_mono_ms();
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

int sl_remote_finish(struct call *c, int rc, struct sl_err *err)
{
	if (!rc && !sl_r_done(&c->r))
		rc = sl_errf(err, -EPROTO, "malformed response from the gateway");
	sl_wbuf_free(&c->req);
	free(c->resp);
	return rc;
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

/* GET/HEAD name the read the URL is for (ino, indx), PUT the grant of the key's slice
 * (rpc/codec.h, SL_FIELDS_presign); the acting user of a GET is the one that read the chunk. */
static int remote_presign(struct sl_meta *m, const char *method, const char *key,
			  const char *user, sl_ino ino, uint32_t indx,
			  const struct sl_slice_grant *g, char *out, size_t size,
			  uint32_t *expires_s, struct sl_err *err)
{
	struct sl_meta_user as = {.name = user && *user ? user : NULL};
	struct call c;
	sl_remote_begin(&c, SL_OP_PRESIGN, &as);
	struct sl_rpc_presign a = {.method = method, .key = key, .ino = ino, .indx = indx,
				   .has_grant = g != NULL};
	if (g)
		a.grant = *g;
	sl_w_presign(&c.req, &a);
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_url res = {0};
	if (!rc)
		sl_r_url(&c.r, &res);
	const char *url = res.url;
	*expires_s = res.expires_s;
	if (!rc && sl_r_done(&c.r)) { /* url points into the response: copy before finish */
		if (!url || !*expires_s)
			rc = sl_errf(err, -EPROTO, "malformed presigned URL from the gateway");
		else if (strlen(url) >= size)
			rc = sl_errf(err, -ENAMETOOLONG, "the URL for %s does not fit %zu bytes", key,
				     size);
		else
			memcpy(out, url, strlen(url) + 1);
	}
	return sl_remote_finish(&c, rc, err);
}

/* struct sl_presign_provider's url() (arg: the sl_meta): from the cache, or from the gateway
 * with this client's proof that it may (the read context or the grant of the key's slice). */
static int remote_url(void *arg, const char *method, const char *key, unsigned flags, char *out,
		      size_t size, struct sl_err *err)
{
	struct sl_meta *m = arg;
	struct remote *r = sl_remote_of(m);
	bool put = !strcmp(method, "PUT");
	if (!strcmp(method, "DELETE"))
		return sl_errf(err, -EPERM, "%s: a client in Kerberos mode does not delete objects; "
			       "the gateway deletes the data of removed files and slices (%s is "
			       "left for it or for gc)", m->url_redacted, key);
	/* PEER: a ticket for GETs from the cache group's servers, and KEY: an encrypted block's
	 * data key, each given for reads as a GET URL */
	if (!put && strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "PEER") &&
	    strcmp(method, "KEY"))
		return sl_errf(err, -EINVAL, "presign: method %s is not GET, HEAD, KEY, PEER or PUT",
			       method);
	uint64_t id;
	if (!slice_of_key(key, &id))
		return sl_errf(err, put ? -EPERM : -EACCES, "%s: '%s' is not a data block key; the "
			       "gateway presigns data blocks only", m->url_redacted, key);
	int64_t start = sl_clock_mono_ms(m->clock);
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

int sl_remote_object_provider(struct sl_meta *m, struct sl_presign_provider *out,
			      struct sl_err *err)
{
	(void)err;
	out->url = remote_url;
	out->arg = m;
	return 0;
}
