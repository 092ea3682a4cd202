/* conn.c - frames, the opening exchange, the GSSAPI handshake and message protection (conn.h). */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint8_t MAGIC[4] = {'S', 'L', 'G', 'W'};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to become ready for events until the deadline (-1: none). */
static int wait_fd(int fd, short events, int64_t deadline, struct sl_err *err)
{
	for (;;) {
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - now_ms();
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
	int64_t deadline = now_ms() + timeout_ms;
	int rc = write_all(fd, hdr, 4, deadline, err);
	return rc ? rc : write_all(fd, p, len, deadline, err);
}

int sl_rpc_frame_read(int fd, uint32_t max, int wait_ms, int timeout_ms, void **p, size_t *len,
		      struct sl_err *err)
{
	*p = NULL;
	*len = 0;
	uint8_t hdr[4];
	int rc = wait_fd(fd, POLLIN, wait_ms < 0 ? -1 : now_ms() + wait_ms, err);
	if (rc)
		return rc;
	int64_t deadline = now_ms() + timeout_ms;
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
			int ok = wait_fd(s, POLLOUT, now_ms() + timeout_ms, &e2);
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

int sl_rpc_client_handshake(struct sl_rpc_conn *c, const struct sl_gss_client_conf *gc,
			    struct sl_err *err)
{
	uint8_t hello[8];
	memcpy(hello, MAGIC, 4);
	hello[4] = 0;
	hello[5] = SL_RPC_VERSION;
	hello[6] = SL_RPC_MECH_KERBEROS;
	hello[7] = c->confidential ? 1 : 0;
	void *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	int rc = sl_rpc_frame_write(c->fd, hello, sizeof(hello), c->timeout_ms, err);
	if (!rc)
		rc = sl_rpc_frame_read(c->fd, 4096, c->timeout_ms, c->timeout_ms, &in, &inlen, err);
	if (rc)
		goto out;
	const uint8_t *a = in;
	if (inlen < 7 || memcmp(a, MAGIC, 4)) {
		rc = sl_errf(err, -EPROTO, "the peer is not a Sluice gateway");
		goto out;
	}
	if (a[6]) {
		rc = sl_errf(err, -EPROTO, "the gateway refused the connection: %.*s",
			     (int)(inlen - 7 > 400 ? 400 : inlen - 7), (const char *)a + 7);
		goto out;
	}
	free(in);
	in = NULL;
	inlen = 0;
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
out:
	free(in);
	free(out);
	return rc;
}

/* The reason (in err) stays in the server's log: MIT's error text can name principals. */
static void refuse(struct sl_rpc_conn *c)
{
	static const char why[] = "authentication failed; the gateway's log says why";
	struct sl_err ignored = {0};
	send_kind(c, 1, why, sizeof(why) - 1, &ignored);
}

int sl_rpc_server_handshake(struct sl_rpc_conn *c, const struct sl_gss_server_conf *gc,
			    struct sl_err *err)
{
	void *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	int rc = sl_rpc_frame_read(c->fd, 64, c->timeout_ms, c->timeout_ms, &in, &inlen, err);
	if (rc)
		return rc;
	const uint8_t *h = in;
	uint8_t reply[7 + 64];
	memcpy(reply, MAGIC, 4);
	reply[4] = 0;
	reply[5] = SL_RPC_VERSION;
	reply[6] = 0;
	size_t rlen = 7;
	if (inlen != 8 || memcmp(h, MAGIC, 4)) {
		rc = sl_errf(err, -EPROTO, "not a Sluice client (bad opening)");
		free(in);
		return rc; /* not our protocol: no answer */
	}
	uint16_t version = (uint16_t)(h[4] << 8 | h[5]);
	if (version != SL_RPC_VERSION || h[6] != SL_RPC_MECH_KERBEROS || h[7] > 1) {
		rc = sl_errf(err, -EPROTONOSUPPORT, "unsupported protocol version %u / mechanism %u "
			     "(this gateway speaks version %u with Kerberos)", version, h[6],
			     SL_RPC_VERSION);
		reply[6] = 1;
		int m = snprintf((char *)reply + 7, 64, "protocol version %u is not supported",
				 version);
		rlen += (size_t)(m < 64 ? m : 63);
	}
	c->confidential |= h[7] == 1;
	free(in);
	in = NULL;
	struct sl_err ignored = {0};
	int wrc = sl_rpc_frame_write(c->fd, reply, rlen, c->timeout_ms, rc ? &ignored : err);
	if (rc || wrc)
		return rc ? rc : wrc;
	if ((rc = sl_gss_server_new(gc, &c->gss, err))) {
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
	return rc;
}

/* ---- protected messages --------------------------------------------------------------------- */

int sl_rpc_send(struct sl_rpc_conn *c, const struct sl_wbuf *msg, struct sl_err *err)
{
	if (msg->oom)
		return sl_errf(err, -ENOMEM, "out of memory building a gateway message");
	void *w = NULL;
	size_t wlen = 0;
	bool conf = c->confidential || sl_gss_last_confidential(c->gss);
	int rc = sl_gss_wrap(c->gss, conf, msg->p, msg->len, &w, &wlen, err);
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
	int rc = sl_rpc_frame_read(c->fd, c->max_frame, wait_ms, c->timeout_ms, &w, &wlen, err);
	if (!rc)
		rc = sl_gss_unwrap(c->gss, w, wlen, msg, len, err);
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
}
