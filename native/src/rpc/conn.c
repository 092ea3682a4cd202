/* conn.c - frames, the opening exchange, the handshakes (GSSAPI, delegation token) and message
 * protection (conn.h). */
#include "conn.h"
#include "../util/clock.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint8_t MAGIC[4] = {'S', 'L', 'G', 'W'};

/* Waits for fd to become ready for events until the deadline (-1: none). */
static int wait_fd(int fd, short events, int64_t deadline, struct sl_err *err)
{
	for (;;) {
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - sl_mono_ms();
			if (l <= 0)
				return sl_errf(err, -ETIMEDOUT, "the gateway connection timed out");
			left = l > INT32_MAX ? INT32_MAX : (int)l;
		}
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return sl_errf(err, -errno, "poll: %s", strerror(errno));
	}
}

static int write_all(int fd, const uint8_t *p, size_t len, int64_t deadline, struct sl_err *err)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLOUT, deadline, err);
			if (rc)
				return rc;
			continue;
		}
		return sl_errf(err, n < 0 ? -errno : -EIO, "sending to the gateway connection: %s",
			       n < 0 ? strerror(errno) : "nothing written");
	}
	return 0;
}

/* Reads exactly len bytes; -ECONNRESET if the stream ends first. */
static int read_all(int fd, uint8_t *p, size_t len, int64_t deadline, struct sl_err *err)
{
	while (len) {
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return sl_errf(err, -ECONNRESET, "the peer closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(fd, POLLIN, deadline, err);
			if (rc)
				return rc;
			continue;
		}
		return sl_errf(err, -errno, "reading from the gateway connection: %s",
			       strerror(errno));
	}
	return 0;
}

int sl_rpc_frame_write(int fd, const void *p, size_t len, int timeout_ms, struct sl_err *err)
{
	if (len > UINT32_MAX)
		return sl_errf(err, -EMSGSIZE, "a message of %zu bytes is too big to send", len);
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	int64_t deadline = sl_mono_ms() + timeout_ms;
	int rc = write_all(fd, hdr, 4, deadline, err);
	return rc ? rc : write_all(fd, p, len, deadline, err);
}

int sl_rpc_frame_read(int fd, uint32_t max, int wait_ms, int timeout_ms, void **p, size_t *len,
		      struct sl_err *err)
{
	*p = NULL;
	*len = 0;
	uint8_t hdr[4];
	int rc = wait_fd(fd, POLLIN, wait_ms < 0 ? -1 : sl_mono_ms() + wait_ms, err);
	if (rc)
		return rc;
	int64_t deadline = sl_mono_ms() + timeout_ms;
	if ((rc = read_all(fd, hdr, 4, deadline, err)))
		return rc;
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > max)
		return sl_errf(err, -EMSGSIZE, "a frame of %u bytes exceeds the limit of %u bytes",
			       n, max);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return sl_errf(err, -ENOMEM, "out of memory");
	if ((rc = read_all(fd, buf, n, deadline, err))) {
		free(buf);
		return rc;
	}
	*p = buf;
	*len = n;
	return 0;
}

int sl_rpc_connect(const char *host, const char *port, int timeout_ms, int *fd, struct sl_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g)
		return sl_errf(err, -EHOSTUNREACH, "cannot resolve gateway host %s: %s", host,
			       gai_strerror(g));
	int rc = -ECONNREFUSED;
	int last_errno = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			       ai->ai_protocol);
		if (s < 0) {
			last_errno = errno;
			continue;
		}
		if (!connect(s, ai->ai_addr, ai->ai_addrlen) || errno == EINPROGRESS) {
			struct sl_err e2 = {0};
			int ok = wait_fd(s, POLLOUT, sl_mono_ms() + timeout_ms, &e2);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (!ok && !getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) && !soerr) {
				int one = 1;
				setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				*fd = s;
				rc = 0;
				break;
			}
			last_errno = ok ? ETIMEDOUT : soerr;
		} else {
			last_errno = errno;
		}
		close(s);
	}
	freeaddrinfo(res);
	if (rc)
		return sl_errf(err, -last_errno, "cannot connect to the gateway at %s:%s: %s", host,
			       port, strerror(last_errno));
	return 0;
}

/* ---- protection ----------------------------------------------------------------------------- */

/* One per mechanism: how a message is protected once the handshake established its keys. */
struct sl_rpc_protection {
	int (*wrap)(struct sl_rpc_conn *c, const void *in, size_t len, void **out, size_t *outlen,
		    struct sl_err *err);
	int (*unwrap)(struct sl_rpc_conn *c, const void *in, size_t len, void **out,
		      size_t *outlen, struct sl_err *err);
};

/* The server answers as the stronger of its own demand, the client's and the message's. */
static int gss_wrap(struct sl_rpc_conn *c, const void *in, size_t len, void **out, size_t *outlen,
		    struct sl_err *err)
{
	bool conf = c->confidential || sl_gss_last_confidential(c->gss);
	return sl_gss_wrap(c->gss, conf, in, len, out, outlen, err);
}

static int gss_unwrap(struct sl_rpc_conn *c, const void *in, size_t len, void **out,
		      size_t *outlen, struct sl_err *err)
{
	return sl_gss_unwrap(c->gss, in, len, out, outlen, err);
}

static const struct sl_rpc_protection gss_protection = {.wrap = gss_wrap, .unwrap = gss_unwrap};

static int token_wrap(struct sl_rpc_conn *c, const void *in, size_t len, void **out,
		      size_t *outlen, struct sl_err *err)
{
	return sl_ts_seal(c->ts, in, len, out, outlen, err);
}

static int token_unwrap(struct sl_rpc_conn *c, const void *in, size_t len, void **out,
			size_t *outlen, struct sl_err *err)
{
	return sl_ts_open(c->ts, in, len, out, outlen, err);
}

static const struct sl_rpc_protection token_protection = {.wrap = token_wrap,
							   .unwrap = token_unwrap};

/* ---- handshake ------------------------------------------------------------------------------ */

static int send_kind(struct sl_rpc_conn *c, uint8_t kind, const void *p, size_t len,
		     struct sl_err *err)
{
	uint8_t *buf = malloc(len + 1);
	if (!buf)
		return sl_errf(err, -ENOMEM, "out of memory");
	buf[0] = kind;
	if (len)
		memcpy(buf + 1, p, len);
	int rc = sl_rpc_frame_write(c->fd, buf, len + 1, c->timeout_ms, err);
	free(buf);
	return rc;
}

/* Reads a handshake frame; a peer's error frame becomes -EACCES with its message. */
static int recv_token(struct sl_rpc_conn *c, void **p, size_t *len, struct sl_err *err)
{
	int rc = sl_rpc_frame_read(c->fd, c->max_frame, c->timeout_ms, c->timeout_ms, p, len, err);
	if (rc)
		return rc;
	uint8_t *b = *p;
	if (*len < 1 || b[0] > 1) {
		free(*p);
		*p = NULL;
		return sl_errf(err, -EPROTO, "malformed handshake frame");
	}
	if (b[0] == 1) {
		rc = sl_errf(err, -EACCES, "the gateway refused the connection: %.*s",
			     (int)(*len - 1 > 400 ? 400 : *len - 1), (const char *)b + 1);
		free(*p);
		*p = NULL;
		return rc;
	}
	memmove(b, b + 1, *len - 1);
	(*len)--;
	return 0;
}

/* The client's opening and the server's answer to it; hello gets the 8 bytes sent. */
static int client_opening(struct sl_rpc_conn *c, uint8_t mech, uint8_t hello[8],
			  struct sl_err *err)
{
	memcpy(hello, MAGIC, 4);
	hello[4] = 0;
	hello[5] = SL_RPC_VERSION;
	hello[6] = mech;
	hello[7] = c->confidential ? 1 : 0;
	void *in = NULL;
	size_t inlen = 0;
	/* A gateway refusing the connection (at its limit) may answer and hang up before the
	 * opening arrives: its answer is read even if sending failed, since it says why. */
	int wrc = sl_rpc_frame_write(c->fd, hello, 8, c->timeout_ms, err);
	struct sl_err rerr = {0};
	int rc = sl_rpc_frame_read(c->fd, 4096, c->timeout_ms, c->timeout_ms, &in, &inlen, &rerr);
	if (rc && wrc)
		return wrc;
	if (rc) {
		*err = rerr;
		return rc;
	}
	const uint8_t *a = in;
	if (inlen < 7 || memcmp(a, MAGIC, 4))
		rc = sl_errf(err, -EPROTO, "the peer is not a Sluice gateway");
	else if (a[6])
		rc = sl_errf(err, -EPROTO, "the gateway refused the connection: %.*s",
			     (int)(inlen - 7 > 400 ? 400 : inlen - 7), (const char *)a + 7);
	free(in);
	return rc;
}

int sl_rpc_client_handshake(struct sl_rpc_conn *c, const struct sl_gss_client_conf *gc,
			    struct sl_err *err)
{
	uint8_t hello[8];
	void *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	int rc = client_opening(c, SL_RPC_MECH_KERBEROS, hello, err);
	if (rc)
		goto out;
	if ((rc = sl_gss_client_new(gc, &c->gss, err)))
		goto out;
	sl_gss_set_require_confidentiality(c->gss, c->confidential);
	bool done = false;
	for (;;) {
		if ((rc = sl_gss_step(c->gss, in, inlen, &out, &outlen, &done, err)))
			break;
		free(in);
		in = NULL;
		if (outlen && (rc = send_kind(c, 0, out, outlen, err)))
			break;
		free(out);
		out = NULL;
		outlen = 0;
		if (done)
			break;
		if ((rc = recv_token(c, &in, &inlen, err)))
			break;
	}
	if (!rc) {
		c->mech = SL_RPC_MECH_KERBEROS;
		c->prot = &gss_protection;
	}
out:
	free(in);
	free(out);
	return rc;
}

/* Reads a token handshake message: n fields of bytes, field i exactly sizes[i] long (0: up to
 * SL_RPC_TOKEN_IDENT_MAX). p[i] point into *msg, which the caller frees. */
static int recv_fields(struct sl_rpc_conn *c, void **msg, size_t n, const void **p,
		       size_t *lens, const size_t *sizes, struct sl_err *err)
{
	size_t len = 0;
	int rc = recv_token(c, msg, &len, err);
	if (rc)
		return rc;
	struct sl_rbuf r = sl_rbuf_of(*msg, len);
	for (size_t i = 0; i < n; i++) {
		lens[i] = sl_r_bytes(&r, &p[i], sizes[i] ? sizes[i] : SL_RPC_TOKEN_IDENT_MAX);
		if (sizes[i] && lens[i] != sizes[i])
			r.bad = true;
	}
	if (!sl_r_done(&r))
		return sl_errf(err, -EPROTO, "malformed token handshake message");
	return 0;
}

static int send_fields(struct sl_rpc_conn *c, size_t n, const void *const *p, const size_t *lens,
		       struct sl_err *err)
{
	struct sl_wbuf w = {0};
	for (size_t i = 0; i < n; i++)
		sl_w_bytes(&w, p[i], lens[i]);
	int rc = w.oom ? sl_errf(err, -ENOMEM, "out of memory") : send_kind(c, 0, w.p, w.len, err);
	sl_wbuf_free(&w);
	return rc;
}

int sl_rpc_client_token_handshake(struct sl_rpc_conn *c, const uint8_t *ident, size_t ident_len,
				  const uint8_t password[SL_TS_PASSWORD_LEN], struct sl_err *err)
{
	uint8_t hello[8], nonce_c[SL_TS_NONCE_LEN], mine[SL_TS_PROOF_LEN];
	void *in = NULL;
	const void *f[2];
	size_t flen[2];
	static const size_t sizes[2] = {SL_TS_NONCE_LEN, SL_TS_PROOF_LEN};
	if (!ident_len || ident_len > SL_RPC_TOKEN_IDENT_MAX)
		return sl_errf(err, -EINVAL, "a delegation token identifier must have 1-%d bytes",
			       SL_RPC_TOKEN_IDENT_MAX);
	c->confidential = true;
	int rc = sl_ts_random(nonce_c, sizeof(nonce_c), err);
	if (!rc)
		rc = client_opening(c, SL_RPC_MECH_TOKEN, hello, err);
	if (!rc) {
		const void *snd[2] = {ident, nonce_c};
		const size_t sndlen[2] = {ident_len, SL_TS_NONCE_LEN};
		rc = send_fields(c, 2, snd, sndlen, err);
	}
	if (!rc)
		rc = recv_fields(c, &in, 2, f, flen, sizes, err);
	if (rc)
		goto out;
	struct sl_ts_transcript t = {.opening = hello, .opening_len = sizeof(hello),
				     .ident = ident, .ident_len = ident_len,
				     .nonce_c = nonce_c, .nonce_s = f[0]};
	if ((rc = sl_ts_proof(password, true, &t, mine, err)))
		goto out;
	if (!sl_ts_proof_equal(mine, f[1])) {
		rc = sl_errf(err, -EACCES, "the gateway did not prove that it knows the delegation "
			     "token's key: the token's password is wrong, or the peer is not a "
			     "gateway of this volume");
		goto out;
	}
	if ((rc = sl_ts_proof(password, false, &t, mine, err)))
		goto out;
	const void *snd[1] = {mine};
	const size_t sndlen[1] = {SL_TS_PROOF_LEN};
	if ((rc = send_fields(c, 1, snd, sndlen, err)) ||
	    (rc = sl_ts_new(password, nonce_c, f[0], false, &c->ts, err)))
		goto out;
	c->mech = SL_RPC_MECH_TOKEN;
	c->prot = &token_protection;
out:
	free(in);
	return rc;
}

/* The reason (in err) stays in the server's log: MIT's error text can name principals, and a
 * token lookup's says whether a token exists. */
static void refuse(struct sl_rpc_conn *c)
{
	static const char why[] = "authentication failed; the gateway's log says why";
	struct sl_err ignored = {0};
	send_kind(c, 1, why, sizeof(why) - 1, &ignored);
}

static int server_gss(struct sl_rpc_conn *c, const struct sl_gss_server_conf *gc,
		      struct sl_err *err)
{
	void *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	int rc = sl_gss_server_new(gc, &c->gss, err);
	if (rc) {
		refuse(c);
		return rc;
	}
	sl_gss_set_require_confidentiality(c->gss, c->confidential);
	bool done = false;
	while (!done) {
		if ((rc = recv_token(c, &in, &inlen, err)))
			break;
		rc = sl_gss_step(c->gss, in, inlen, &out, &outlen, &done, err);
		free(in);
		in = NULL;
		if (rc) {
			refuse(c);
			break;
		}
		if (outlen && (rc = send_kind(c, 0, out, outlen, err)))
			break;
		free(out);
		out = NULL;
		outlen = 0;
	}
	free(out);
	if (!rc) {
		c->mech = SL_RPC_MECH_KERBEROS;
		c->prot = &gss_protection;
	}
	return rc;
}

static int server_token(struct sl_rpc_conn *c, const struct sl_rpc_server_auth *auth,
			const uint8_t hello[8], struct sl_err *err)
{
	uint8_t password[SL_TS_PASSWORD_LEN], nonce_s[SL_TS_NONCE_LEN], proof[SL_TS_PROOF_LEN];
	void *m1 = NULL, *m3 = NULL;
	const void *f[2], *g[1];
	size_t flen[2], glen[1];
	static const size_t sizes1[2] = {0, SL_TS_NONCE_LEN}, sizes3[1] = {SL_TS_PROOF_LEN};
	c->confidential = true;
	int rc = recv_fields(c, &m1, 2, f, flen, sizes1, err);
	if (rc) {
		refuse(c);
		goto out;
	}
	if (!flen[0]) {
		rc = sl_errf(err, -EPROTO, "an empty delegation token identifier");
		refuse(c);
		goto out;
	}
	if ((rc = auth->token_lookup(auth->token_arg, f[0], flen[0], password, err))) {
		refuse(c);
		goto out;
	}
	struct sl_ts_transcript t = {.opening = hello, .opening_len = 8, .ident = f[0],
				     .ident_len = flen[0], .nonce_c = f[1], .nonce_s = nonce_s};
	if ((rc = sl_ts_random(nonce_s, sizeof(nonce_s), err)) ||
	    (rc = sl_ts_proof(password, true, &t, proof, err))) {
		refuse(c);
		goto out;
	}
	const void *snd[2] = {nonce_s, proof};
	const size_t sndlen[2] = {SL_TS_NONCE_LEN, SL_TS_PROOF_LEN};
	if ((rc = send_fields(c, 2, snd, sndlen, err)))
		goto out;
	if ((rc = recv_fields(c, &m3, 1, g, glen, sizes3, err)) ||
	    (rc = sl_ts_proof(password, false, &t, proof, err))) {
		refuse(c);
		goto out;
	}
	if (!sl_ts_proof_equal(proof, g[0])) {
		rc = sl_errf(err, -EACCES, "the client's proof of the delegation token's password "
			     "is wrong");
		refuse(c);
		goto out;
	}
	if ((rc = sl_ts_new(password, f[1], nonce_s, true, &c->ts, err))) {
		refuse(c);
		goto out;
	}
	c->mech = SL_RPC_MECH_TOKEN;
	c->prot = &token_protection;
out:
	OPENSSL_cleanse(password, sizeof(password));
	free(m1);
	free(m3);
	return rc;
}

int sl_rpc_server_handshake(struct sl_rpc_conn *c, const struct sl_rpc_server_auth *auth,
			    struct sl_err *err)
{
	void *in = NULL;
	size_t inlen = 0;
	int rc = sl_rpc_frame_read(c->fd, 64, c->timeout_ms, c->timeout_ms, &in, &inlen, err);
	if (rc)
		return rc;
	uint8_t hello[8];
	uint8_t reply[7 + 64];
	memcpy(reply, MAGIC, 4);
	reply[4] = 0;
	reply[5] = SL_RPC_VERSION;
	reply[6] = 0;
	size_t rlen = 7;
	if (inlen != 8 || memcmp(in, MAGIC, 4)) {
		rc = sl_errf(err, -EPROTO, "not a Sluice client (bad opening)");
		free(in);
		return rc; /* not our protocol: no answer */
	}
	memcpy(hello, in, 8);
	free(in);
	uint16_t version = (uint16_t)(hello[4] << 8 | hello[5]);
	uint8_t mech = hello[6];
	bool token_ok = mech == SL_RPC_MECH_TOKEN && auth->token_lookup;
	if (version != SL_RPC_VERSION || (mech != SL_RPC_MECH_KERBEROS && !token_ok) ||
	    hello[7] > 1) {
		rc = sl_errf(err, -EPROTONOSUPPORT, "unsupported protocol version %u / mechanism %u "
			     "(this gateway speaks version %u with Kerberos%s)", version, mech,
			     SL_RPC_VERSION, auth->token_lookup ? " or delegation tokens" : "");
		reply[6] = 1;
		int m = version != SL_RPC_VERSION
				? snprintf((char *)reply + 7, 64, "protocol version %u is not supported",
					   version)
				: snprintf((char *)reply + 7, 64, "authentication mechanism %u is not "
					   "accepted", mech);
		rlen += (size_t)(m < 64 ? m : 63);
	}
	c->confidential |= hello[7] == 1;
	struct sl_err ignored = {0};
	int wrc = sl_rpc_frame_write(c->fd, reply, rlen, c->timeout_ms, rc ? &ignored : err);
	if (rc || wrc)
		return rc ? rc : wrc;
	if (mech == SL_RPC_MECH_TOKEN)
		return server_token(c, auth, hello, err);
	return server_gss(c, auth->gss, err);
}

/* ---- protected messages --------------------------------------------------------------------- */

int sl_rpc_send(struct sl_rpc_conn *c, const struct sl_wbuf *msg, struct sl_err *err)
{
	if (msg->oom)
		return sl_errf(err, -ENOMEM, "out of memory building a gateway message");
	if (!c->prot)
		return sl_errf(err, -EINVAL, "the gateway connection is not authenticated");
	void *w = NULL;
	size_t wlen = 0;
	int rc = c->prot->wrap(c, msg->p, msg->len, &w, &wlen, err);
	if (!rc)
		rc = sl_rpc_frame_write(c->fd, w, wlen, c->timeout_ms, err);
	free(w);
	return rc;
}

int sl_rpc_recv(struct sl_rpc_conn *c, int wait_ms, void **msg, size_t *len, struct sl_err *err)
{
	void *w = NULL;
	size_t wlen = 0;
	*msg = NULL;
	*len = 0;
	if (!c->prot)
		return sl_errf(err, -EINVAL, "the gateway connection is not authenticated");
	int rc = sl_rpc_frame_read(c->fd, c->max_frame, wait_ms, c->timeout_ms, &w, &wlen, err);
	if (!rc)
		rc = c->prot->unwrap(c, w, wlen, msg, len, err);
	free(w);
	return rc;
}

int sl_rpc_conf_privacy(const struct sl_conf *conf, bool *privacy, struct sl_err *err)
{
	const char *prot = sl_conf_str(conf, "gateway.protection");
	if (strcmp(prot, "integrity") && strcmp(prot, "privacy"))
		return sl_errf(err, -EINVAL, "config key 'gateway.protection': '%s' is neither "
			       "integrity nor privacy", prot);
	*privacy = !strcmp(prot, "privacy");
	return 0;
}

void sl_rpc_conn_close(struct sl_rpc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	sl_gss_free(c->gss);
	c->gss = NULL;
	sl_ts_free(c->ts);
	c->ts = NULL;
	c->prot = NULL;
	c->mech = 0;
}
