/*
 * server.c - the gateway's listener and connections: one thread per connection up to
 * gateway.max-connections (further clients are refused with a message), a deadline for the
 * handshake, an idle timeout, and a connection ends when its Kerberos ticket does. A connection
 * authenticated with a delegation token acts as the token's owner and has its token re-checked
 * before requests (tokens.c); once the token is cancelled or expired its next request is refused
 * and the connection closed.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../rpc/conn.h"
#include "../util/net.h"

struct conn_job {
	struct sl_gateway *gw;
	int fd, slot;
	char addr[INET6_ADDRSTRLEN];
};

static int do_listen(struct sl_gateway *gw, const char *where, struct sl_err *err)
{
	return sl_net_listen(where, "gateway.listen", &gw->listen_fd, &gw->port, err);
}

static int conf_ms(const struct sl_conf *c, const char *key, int *out, struct sl_err *err)
{
	uint64_t v;
	int rc = sl_conf_u64(c, key, &v, err);
	if (rc)
		return rc;
	if (!v || v > 86400)
		return sl_errf(err, -EINVAL, "config key '%s' must be 1-86400 seconds", key);
	*out = (int)v * 1000;
	return 0;
}

static int setup(struct sl_gateway *gw, struct sl_err *err)
{
	const struct sl_conf *c = gw->vol->core.conf;
	uint64_t max_conns, max_frame;
	int rc;
	if ((rc = sl_conf_u64(c, "gateway.max-connections", &max_conns, err)) ||
	    (rc = sl_conf_u64(c, "gateway.max-frame", &max_frame, err)) ||
	    (rc = conf_ms(c, "gateway.idle-timeout", &gw->idle_timeout_ms, err)) ||
	    (rc = conf_ms(c, "gateway.handshake-timeout", &gw->handshake_timeout_ms, err)) ||
	    (rc = sl_rpc_conf_privacy(c, &gw->privacy, err)))
		return rc;
	if (gw->vol->core.cipher && !gw->privacy)
		return sl_errf(err, -EINVAL, "volume %s is encrypted and its clients get the data "
			       "keys of the blocks they read from the gateway: set "
			       "gateway.protection=privacy", gw->vol->core.format.name);
	if (!max_conns || max_conns > 65536 || max_frame < 4096 || max_frame > (1u << 30))
		return sl_errf(err, -EINVAL, "gateway.max-connections must be 1-65536 and "
			       "gateway.max-frame 4K-1G");
	gw->max_conns = max_conns;
	gw->max_frame = (uint32_t)max_frame;
	gw->gss.keytab = sl_conf_str(c, "gateway.keytab");
	gw->gss.principal = sl_conf_str(c, "gateway.principal");
	gw->gss.rcache = sl_conf_str(c, "gateway.rcache");
	if (!gw->gss.keytab || !*gw->gss.keytab)
		return sl_errf(err, -EINVAL, "config key 'gateway.keytab' (the service keytab) is "
			       "not set");
	if (access(gw->gss.keytab, R_OK))
		return sl_errf(err, -errno, "gateway.keytab %s: %s", gw->gss.keytab,
			       strerror(errno));
	/* DEFAULT and $0 rules need the default realm: the realm of the gateway's own principal */
	const char *at = gw->gss.principal ? strrchr(gw->gss.principal, '@') : NULL;
	if (!at || !at[1])
		return sl_errf(err, -EINVAL, "config key 'gateway.principal' must name the service "
			       "principal with its realm, e.g. sluice/host.example.com@EXAMPLE.COM");
	if ((rc = sl_auth_rules_parse(sl_conf_str(c, "auth-to-local"), at + 1,
				      sl_conf_str(c, "auth-to-local.mechanism"), &gw->rules, err)))
		return sl_err_wrap(err, "config key 'auth-to-local'");
	const char *keys[256], *values[256];
	size_t np = 0;
	const char *k, *v;
	for (size_t i = 0; sl_conf_entry(c, i, &k, &v); i++) {
		if (strncmp(k, "proxyuser.", 10))
			continue;
		if (np == 256)
			return sl_errf(err, -EINVAL, "more than 256 proxyuser.* keys");
		keys[np] = k;
		values[np++] = v;
	}
	if ((rc = sl_proxy_rules_parse(keys, values, np, &gw->proxy, err)) ||
	    (rc = sl_groups_new(sl_conf_str(c, "group-mapping.static"), &gw->groups, err)) ||
	    (rc = sl_gw_tokens_new(gw->vol->core.meta, c, &gw->vol->core.log, &gw->tokens, err)) ||
	    (rc = sl_gw_data_setup(gw, err)))
		return rc;
	if (!(gw->conn_fds = malloc(gw->max_conns * sizeof(int))))
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < gw->max_conns; i++)
		gw->conn_fds[i] = -1;
	if (pipe2(gw->wake, O_CLOEXEC | O_NONBLOCK))
		return sl_errf(err, -errno, "pipe: %s", strerror(errno));
	return do_listen(gw, sl_conf_str(c, "gateway.listen"), err);
}

int sl_gateway_new(const sluice_kv *conf, size_t nconf, const struct sl_clock *clock,
		   struct sl_gateway **out, char *errmsg, size_t errmsg_size)
{
	*out = NULL;
	struct sl_gateway *gw = calloc(1, sizeof(*gw));
	if (!gw) {
		snprintf(errmsg, errmsg_size, "out of memory");
		return -ENOMEM;
	}
	gw->listen_fd = gw->wake[0] = gw->wake[1] = -1;
	pthread_mutex_init(&gw->lock, NULL);
	pthread_cond_init(&gw->idle, NULL);
	int rc = sl_vol_init(conf, nconf, clock, &gw->vol, errmsg, errmsg_size);
	if (!rc) {
		struct sl_err err = {0};
		if ((rc = setup(gw, &err)))
			snprintf(errmsg, errmsg_size, "%s", err.msg);
	}
	if (rc) {
		sl_gateway_free(gw);
		return rc;
	}
	*out = gw;
	return 0;
}

sluice_volume *sl_gateway_volume(struct sl_gateway *gw)
{
	return gw->vol;
}

int sl_gateway_port(const struct sl_gateway *gw) { return gw->port; }

void sl_gateway_stop(struct sl_gateway *gw)
{
	char b = 1;
	ssize_t n = write(gw->wake[1], &b, 1);
	(void)n; /* a full pipe already holds a wake-up */
}

void sl_gateway_free(struct sl_gateway *gw)
{
	if (!gw)
		return;
	if (gw->listen_fd >= 0)
		close(gw->listen_fd);
	for (int i = 0; i < 2; i++)
		if (gw->wake[i] >= 0)
			close(gw->wake[i]);
	free(gw->conn_fds);
	sl_gw_tokens_free(gw->tokens);
	sl_groups_free(gw->groups);
	sl_proxy_rules_free(gw->proxy);
	sl_auth_rules_free(gw->rules);
	sl_gw_data_free(gw);
	if (gw->vol)
		sluice_shutdown(gw->vol);
	pthread_cond_destroy(&gw->idle);
	pthread_mutex_destroy(&gw->lock);
	free(gw);
}

/* ---- one connection ------------------------------------------------------------------------- */

static void welcome(struct sl_rpc_conn *c, int status, const char *text)
{
	struct sl_wbuf w = {0};
	struct sl_err err = {0};
	sl_w_u32(&w, (uint32_t)status);
	sl_w_str(&w, text);
	sl_rpc_send(c, &w, &err);
	sl_wbuf_free(&w);
}

/* The handshake's token lookup: the connection's token state is its argument. */
struct token_lookup {
	struct sl_gateway *gw;
	struct sl_gw_token_conn st;
};

static int token_lookup(void *arg, const uint8_t *ident, size_t len, uint8_t *password,
			struct sl_err *err)
{
	struct token_lookup *tl = arg;
	return sl_gw_token_verify(tl->gw->tokens, ident, len, password, &tl->st, err);
}

/* Whether a token connection may go on; if not, the request gets the reason as its answer. */
static bool token_still_valid(struct sl_gateway *gw, struct sl_rpc_conn *c,
			      struct token_lookup *tl, const char *addr)
{
	struct sl_err err = {0};
	int rc = sl_gw_token_recheck(gw->tokens, &tl->st, &err);
	if (!rc)
		return true;
	sl_log(&gw->vol->core.log, SL_LOG_INFO, "gateway: token connection of %s from %s ends: %s",
	       tl->st.owner, addr, err.msg);
	struct sl_wbuf w = {0};
	sl_w_u32(&w, (uint32_t)(rc == -EACCES ? rc : -EACCES));
	sl_w_str(&w, rc == -EACCES ? "the delegation token of this connection was cancelled or has "
				     "expired" : "the delegation token of this connection could not "
				     "be checked; the gateway's log says why");
	struct sl_err ignored = {0};
	sl_rpc_send(c, &w, &ignored);
	sl_wbuf_free(&w);
	return false;
}

static void serve(struct conn_job *job)
{
	struct sl_gateway *gw = job->gw;
	struct sl_logger *log = &gw->vol->core.log;
	struct sl_rpc_conn c = {.fd = job->fd, .max_frame = gw->max_frame,
				.timeout_ms = gw->handshake_timeout_ms, .confidential = gw->privacy};
	struct sl_err err = {0};
	char name[256];
	struct token_lookup *tl = calloc(1, sizeof(*tl));
	if (!tl)
		goto out;
	tl->gw = gw;
	struct sl_rpc_server_auth auth = {.gss = &gw->gss,
					  .token_lookup = gw->tokens ? token_lookup : NULL,
					  .token_arg = tl};
	if (sl_rpc_server_handshake(&c, &auth, &err)) {
		sl_log(log, SL_LOG_INFO, "gateway: refused %s: %s", job->addr, err.msg);
		goto out;
	}
	bool token = c.mech == SL_RPC_MECH_TOKEN;
	if (token) {
		snprintf(name, sizeof(name), "%s", tl->st.owner);
		sl_log(log, SL_LOG_DEBUG, "gateway: delegation token %d of %s connected from %s",
		       (int)tl->st.seq, name, job->addr);
	} else {
		const char *principal = sl_gss_peer(c.gss);
		if (sl_auth_rules_map(gw->rules, principal, name, sizeof(name), &err)) {
			sl_log(log, SL_LOG_WARN, "gateway: %s from %s: %s", principal, job->addr,
			       err.msg);
			welcome(&c, -EACCES, err.msg);
			goto out;
		}
		sl_log(log, SL_LOG_DEBUG, "gateway: %s (%s) connected from %s", principal, name,
		       job->addr);
	}
	welcome(&c, 0, name);
	struct sl_gw_caller caller = {.name = name, .addr = job->addr, .token = token};
	for (;;) {
		int wait = gw->idle_timeout_ms;
		if (!token) {
			int64_t left = sl_gss_lifetime(c.gss);
			if (left <= 0) /* the ticket expired: the client reconnects with a fresh one */
				break;
			if (left * 1000 < wait)
				wait = (int)(left * 1000);
		}
		void *req = NULL;
		size_t len = 0;
		c.timeout_ms = gw->idle_timeout_ms;
		if (sl_rpc_recv(&c, wait, &req, &len, &err)) {
			if (err.code != -ECONNRESET && err.code != -ETIMEDOUT)
				sl_log(log, SL_LOG_INFO, "gateway: %s from %s: %s", name, job->addr,
				       err.msg);
			break;
		}
		if (token && !token_still_valid(gw, &c, tl, job->addr)) {
			free(req);
			break;
		}
		struct sl_wbuf resp = {0};
		sl_gw_dispatch(gw, &caller, req, len, &resp);
		free(req);
		int rc = sl_rpc_send(&c, &resp, &err);
		sl_wbuf_free(&resp);
		if (rc)
			break;
	}
out:
	sl_rpc_conn_close(&c);
	if (tl)
		OPENSSL_cleanse(tl, sizeof(*tl));
	free(tl);
}

static void *conn_main(void *arg)
{
	struct conn_job *job = arg;
	struct sl_gateway *gw = job->gw;
	serve(job); /* closes job->fd */
	pthread_mutex_lock(&gw->lock);
	gw->conn_fds[job->slot] = -1;
	if (--gw->nconns == 0 && gw->nrefusing == 0)
		pthread_cond_broadcast(&gw->idle);
	pthread_mutex_unlock(&gw->lock);
	free(job);
	return NULL;
}

/* A thread nobody joins: a connection's, or a refusal's (the gateway counts them instead). */
static int spawn_detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

/* A client beyond the limit reads the refusal in place of the gateway's opening answer. The
 * gateway then reads what the client sends (its opening) until the client hangs up, for at most
 * REFUSE_LINGER_MS: closing a socket with unread input makes the kernel answer with a reset, and
 * the client would see "broken pipe" instead of the message. At most MAX_REFUSING clients are
 * told at once; beyond that they are just hung up on. */
#define REFUSE_LINGER_MS 2000
#define MAX_REFUSING 32

struct refusal {
	struct sl_gateway *gw;
	int fd;
};

static void refusal_done(struct sl_gateway *gw)
{
	pthread_mutex_lock(&gw->lock);
	if (--gw->nrefusing == 0 && gw->nconns == 0)
		pthread_cond_broadcast(&gw->idle);
	pthread_mutex_unlock(&gw->lock);
}

static void *refuse_main(void *arg)
{
	struct refusal *rf = arg;
	struct sl_gateway *gw = rf->gw;
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "SLGW%c%c%cthe gateway serves %zu connections already "
			 "(gateway.max-connections)", 0, SL_RPC_VERSION, 1, gw->max_conns);
	struct sl_err err = {0};
	if (!sl_rpc_frame_write(rf->fd, msg, (size_t)(n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1),
				1000, &err)) {
		shutdown(rf->fd, SHUT_WR);
		char sink[512];
		for (int rounds = 0; rounds < REFUSE_LINGER_MS / 100; rounds++) {
			struct pollfd p = {.fd = rf->fd, .events = POLLIN};
			if (poll(&p, 1, 100) <= 0)
				continue;
			ssize_t got = recv(rf->fd, sink, sizeof(sink), MSG_DONTWAIT);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
				break; /* the client hung up */
		}
	}
	close(rf->fd);
	free(rf);
	refusal_done(gw);
	return NULL;
}

static void refuse_busy(struct sl_gateway *gw, int fd)
{
	struct refusal *rf = NULL;
	pthread_mutex_lock(&gw->lock);
	if (gw->nrefusing < MAX_REFUSING && (rf = malloc(sizeof(*rf))))
		gw->nrefusing++;
	pthread_mutex_unlock(&gw->lock);
	if (!rf) {
		close(fd);
		return;
	}
	*rf = (struct refusal){.gw = gw, .fd = fd};
	int rc = spawn_detached(refuse_main, rf);
	if (rc) {
		close(fd);
		free(rf);
		refusal_done(gw);
	}
}

static void accept_one(struct sl_gateway *gw)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(gw->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn_job *job = calloc(1, sizeof(*job));
	if (!job) {
		close(fd);
		return;
	}
	job->gw = gw;
	job->fd = fd;
	getnameinfo((struct sockaddr *)&ss, sl, job->addr, sizeof(job->addr), NULL, 0,
		    NI_NUMERICHOST);
	pthread_mutex_lock(&gw->lock);
	job->slot = -1;
	for (size_t i = 0; i < gw->max_conns && job->slot < 0; i++)
		if (gw->conn_fds[i] < 0)
			job->slot = (int)i;
	if (job->slot >= 0) {
		gw->conn_fds[job->slot] = fd;
		gw->nconns++;
	}
	pthread_mutex_unlock(&gw->lock);
	if (job->slot < 0) {
		refuse_busy(gw, fd);
		free(job);
		return;
	}
	int rc = spawn_detached(conn_main, job);
	if (rc) {
		pthread_mutex_lock(&gw->lock);
		gw->conn_fds[job->slot] = -1;
		if (--gw->nconns == 0 && gw->nrefusing == 0)
			pthread_cond_broadcast(&gw->idle);
		pthread_mutex_unlock(&gw->lock);
		close(fd);
		free(job);
	}
}

int sl_gateway_run(struct sl_gateway *gw)
{
	struct sl_err err = {0};
	if (gw->tokens && sl_gw_tokens_start(gw->tokens, &err)) {
		sl_log(&gw->vol->core.log, SL_LOG_ERROR, "gateway: %s", err.msg);
		return err.code;
	}
	sl_log(&gw->vol->core.log, SL_LOG_INFO, "gateway: listening on port %d", gw->port);
	int rc = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = gw->listen_fd, .events = POLLIN},
				      {.fd = gw->wake[0], .events = POLLIN}};
		int n = poll(p, 2, -1);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			accept_one(gw);
	}
	/* Stop: end every connection (their threads see the socket shut) and wait for them. */
	pthread_mutex_lock(&gw->lock);
	for (size_t i = 0; i < gw->max_conns; i++)
		if (gw->conn_fds[i] >= 0)
			shutdown(gw->conn_fds[i], SHUT_RDWR);
	while (gw->nconns || gw->nrefusing)
		pthread_cond_wait(&gw->idle, &gw->lock);
	pthread_mutex_unlock(&gw->lock);
	if (gw->tokens)
		sl_gw_tokens_stop(gw->tokens);
	return rc;
}
