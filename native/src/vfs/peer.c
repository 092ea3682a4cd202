/*
 * peer.c - the cache group: the nodes of a volume's node list ("nodes") serve one another the
 * blocks they hold, so that a read that misses memory and the local disk asks the block's owners
 * on the ring (locality.c) before object storage, and a block cached anywhere in the group is
 * read from object storage once.
 *
 * Server: with cache-group.port set, a volume handle listens on that port at the address of
 * cache-group.host (its name in the node list) and answers each GET from its disk cache, then
 * its staging area. One process per node can listen; another one (the port is taken) reads from
 * the group without serving. At most MAX_CONNS connections are served at once.
 *
 * Client: a block's owners are the first hosts of the ring at (slice id, block index); the
 * reader asks them in ring order, skipping itself, each within cache-group.timeout, and falls
 * back to object storage when none has the block. A slow or dead peer costs one timeout.
 *
 * Protocol, big-endian; a connection carries requests one after the other (the client opens one
 * per block for now):
 *   request  "SLPG", u8 version (1), u8 op (1: GET), u16 key length, key, i64 unix time, and an
 *            HMAC-SHA256 under the group key of everything before it
 *   answer   u8 status (0 or an errno), u32 length, the block, and an HMAC-SHA256 of (the
 *            request's HMAC, status, length, block)
 * The group key is derived from the volume's secret (sl_meta_volume_key): every client with
 * direct access to the metadata has it, and nobody else, so a peer of another volume or a
 * stranger is refused and a forged or altered answer is dropped. A request's time must be
 * within CLOCK_SKEW_S of the server's; a replayed GET only fetches a block its sender saw.
 * Keys must be data block keys of this volume (sl_block_key_parse). The disk cache verifies a
 * block's CRC32Cs before it is served, and the answer's HMAC covers it on the way.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vfs.h"

#define PEER_MAGIC "SLPG"
#define PEER_VERSION 1
#define OP_GET 1
#define MAC_BYTES SL_META_KEY_BYTES
#define KEY_LABEL "sluice cache group v1"
#define CLOCK_SKEW_S 300
#define MAX_CONNS 64
#define REQ_HEAD 8 /* magic, version, op, key length */
#define ANS_HEAD 5 /* status, length */
#define PEER_TRIES 2 /* owners asked for one block before object storage */

struct sl_peers {
	struct sl_volume_core *v;
	uint8_t key[MAC_BYTES];
	char self[256]; /* this node's name in the node list */
	char port[16];
	int timeout_ms;
	int lfd; /* -1: not serving */
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	bool stopping;
	int conns[MAX_CONNS]; /* connections being served (their threads are detached) */
	size_t nconns;
	struct sl_peer_stats stats;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_u16(uint8_t *p, uint16_t x) { p[0] = (uint8_t)(x >> 8); p[1] = (uint8_t)x; }
static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put_u32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (24 - 8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_i64(uint8_t *p, int64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)x >> (56 - 8 * i));
}

static int64_t get_i64(const uint8_t *p)
{
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return (int64_t)x;
}

static bool mac(const struct sl_peers *p, const uint8_t *data, size_t n, uint8_t out[MAC_BYTES])
{
	unsigned len = 0;
	return HMAC(EVP_sha256(), p->key, MAC_BYTES, data, n, out, &len) && len == MAC_BYTES;
}

/* Waits until fd is ready for events or the deadline (monotonic ms) passes: 0, -ETIMEDOUT or
 * -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = fd, .events = events};
		int n = poll(&pf, 1, (int)(left > 60000 ? 60000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Reads exactly n bytes: 0, -ECONNRESET at end of stream, -ETIMEDOUT or -errno. */
static int read_full(int fd, void *buf, size_t n, int64_t deadline)
{
	uint8_t *b = buf;
	while (n) {
		int rc = wait_fd(fd, POLLIN, deadline);
		if (rc)
			return rc;
		ssize_t k = recv(fd, b, n, 0);
		if (k == 0)
			return -ECONNRESET;
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t n, int64_t deadline)
{
	const uint8_t *b = buf;
	while (n) {
		int rc = wait_fd(fd, POLLOUT, deadline);
		if (rc)
			return rc;
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* ---- server ---------------------------------------------------------------------------------- */

struct conn {
	struct sl_peers *p;
	int fd;
};

/* The block named by key, from the disk cache or the staging area, into a new buffer of its
 * length: 0, or -ENOENT where this node does not hold it. */
static int local_block(struct sl_peers *p, const char *key, uint32_t blen, uint8_t **out)
{
	struct sl_volume_core *v = p->v;
	uint8_t *data = malloc(blen);
	if (!data)
		return -ENOMEM;
	struct sl_err err = {0};
	if (v->disk && sl_diskcache_read(v->disk, key, 0, data, blen, &err) == (int64_t)blen) {
		*out = data;
		return 0;
	}
	free(data);
	uint8_t *staged = NULL;
	uint32_t slen = 0;
	if (v->stage && !sl_stage_read(v->stage, key, &staged, &slen, &err) && slen == blen) {
		*out = staged;
		return 0;
	}
	free(staged);
	return -ENOENT;
}

/* Answers one request whose head was read; false when the connection must close. */
static bool serve_one(struct sl_peers *p, int fd, const uint8_t head[REQ_HEAD])
{
	int64_t deadline = mono_ms() + p->timeout_ms;
	uint16_t klen = get_u16(head + 6);
	if (memcmp(head, PEER_MAGIC, 4) || head[4] != PEER_VERSION || head[5] != OP_GET ||
	    !klen || klen >= SL_KEY_MAX)
		return false;
	uint8_t req[REQ_HEAD + SL_KEY_MAX + 8 + MAC_BYTES];
	memcpy(req, head, REQ_HEAD);
	size_t body = (size_t)klen + 8;
	if (read_full(fd, req + REQ_HEAD, body + MAC_BYTES, deadline))
		return false;
	const uint8_t *got = req + REQ_HEAD + body;
	uint8_t want[MAC_BYTES];
	int status = 0;
	if (!mac(p, req, REQ_HEAD + body, want) || CRYPTO_memcmp(want, got, MAC_BYTES)) {
		atomic_fetch_add(&p->stats.refused, 1);
		return false; /* not a member of the group: nothing to say to it */
	}
	char key[SL_KEY_MAX];
	memcpy(key, req + REQ_HEAD, klen);
	key[klen] = 0;
	int64_t skew = get_i64(req + REQ_HEAD + klen) - (int64_t)time(NULL);
	uint64_t id;
	uint32_t indx, blen = 0;
	uint8_t *block = NULL;
	if (skew > CLOCK_SKEW_S || skew < -CLOCK_SKEW_S) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EACCES;
	} else if (!sl_block_key_parse(&p->v->layout, key, &id, &indx, &blen)) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EINVAL;
	} else {
		status = -local_block(p, key, blen, &block);
	}
	uint32_t len = status ? 0 : blen;
	/* the answer as its HMAC covers it: the request's HMAC, status, length, block */
	uint8_t *ans = malloc(MAC_BYTES + ANS_HEAD + (size_t)len + MAC_BYTES);
	bool ok = ans != NULL;
	if (ok) {
		memcpy(ans, got, MAC_BYTES);
		ans[MAC_BYTES] = (uint8_t)status;
		put_u32(ans + MAC_BYTES + 1, len);
		if (len)
			memcpy(ans + MAC_BYTES + ANS_HEAD, block, len);
		ok = mac(p, ans, MAC_BYTES + ANS_HEAD + len, ans + MAC_BYTES + ANS_HEAD + len) &&
		     !write_full(fd, ans + MAC_BYTES, ANS_HEAD + (size_t)len + MAC_BYTES, deadline);
	}
	if (ok && !status)
		atomic_fetch_add(&p->stats.served, 1);
	free(ans);
	free(block);
	return ok;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct sl_peers *p = c->p;
	uint8_t head[REQ_HEAD];
	/* one idle minute, then the client connects again */
	while (!read_full(c->fd, head, sizeof(head), mono_ms() + 60000) && serve_one(p, c->fd, head))
		;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nconns; i++)
		if (p->conns[i] == c->fd) {
			p->conns[i] = p->conns[--p->nconns];
			break;
		}
	close(c->fd);
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct sl_peers *p = arg;
	for (;;) {
		int fd = accept(p->lfd, NULL, NULL);
		pthread_mutex_lock(&p->lock);
		bool stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (stop) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec ts = {0, 100 * 1000000L}; /* EMFILE and the like */
				nanosleep(&ts, NULL);
			}
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = malloc(sizeof(*c));
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_mutex_lock(&p->lock);
		bool taken = c && p->nconns < MAX_CONNS;
		if (taken) {
			*c = (struct conn){.p = p, .fd = fd};
			p->conns[p->nconns++] = fd;
			if (pthread_create(&t, &attr, conn_main, c)) {
				p->nconns--;
				taken = false;
			}
		}
		pthread_mutex_unlock(&p->lock);
		pthread_attr_destroy(&attr);
		if (!taken) {
			close(fd);
			free(c);
		}
	}
}

/* Listens at this node's address; -EADDRINUSE when another process of the node serves. */
static int listen_on(struct sl_peers *p, struct sl_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(p->self, p->port, &hints, &ai);
	if (rc)
		return sl_errf(err, -EINVAL, "cache group: cannot resolve this node's name %s: %s",
			       p->self, gai_strerror(rc));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc == -EADDRINUSE ? rc
					 : sl_errf(err, rc, "cache group: cannot listen on %s:%s: %s",
						   p->self, p->port, strerror(-rc));
	}
	freeaddrinfo(ai);
	p->lfd = fd;
	return 0;
}

int sl_peers_new(struct sl_volume_core *v, struct sl_peers **out, struct sl_err *err)
{
	*out = NULL;
	const char *port = sl_conf_str(v->conf, "cache-group.port");
	if (!port || !*port)
		return 0;
	uint64_t timeout_ms, portnum;
	int rc = sl_conf_u64(v->conf, "cache-group.port", &portnum, err);
	if (!rc)
		rc = sl_conf_u64(v->conf, "cache-group.timeout", &timeout_ms, err);
	if (rc)
		return rc;
	if (!portnum || portnum > 65535)
		return sl_errf(err, -EINVAL, "cache-group.port must be a TCP port (1-65535), not %s",
			       port);
	if (!timeout_ms || timeout_ms > 60000)
		return sl_errf(err, -EINVAL, "cache-group.timeout must be 1-60000 milliseconds");
	struct sl_peers *p = calloc(1, sizeof(*p));
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory");
	p->v = v;
	p->lfd = -1;
	p->timeout_ms = (int)timeout_ms;
	snprintf(p->port, sizeof(p->port), "%" PRIu64, portnum);
	const char *self = sl_conf_str(v->conf, "cache-group.host");
	if (self && *self)
		snprintf(p->self, sizeof(p->self), "%s", self);
	else if (gethostname(p->self, sizeof(p->self) - 1))
		snprintf(p->self, sizeof(p->self), "localhost");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	if ((rc = sl_meta_volume_key(v->meta, KEY_LABEL, p->key, err))) {
		sl_err_wrap(err, "cache group: the group key (the cache group needs direct access "
			    "to the metadata)");
		sl_peers_free(p);
		return rc;
	}
	rc = listen_on(p, err);
	if (rc == -EADDRINUSE) {
		sl_log(&v->log, SL_LOG_INFO, "cache group: another process serves %s:%s; this one "
		       "reads from the group without serving", p->self, p->port);
		rc = 0;
	} else if (!rc && pthread_create(&p->acceptor, NULL, accept_main, p)) {
		close(p->lfd);
		p->lfd = -1;
		rc = sl_errf(err, -EAGAIN, "cache group: cannot start the block server's thread");
	}
	if (rc) {
		sl_peers_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void sl_peers_free(struct sl_peers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	bool serving = p->lfd >= 0;
	pthread_mutex_unlock(&p->lock);
	if (serving) {
		shutdown(p->lfd, SHUT_RDWR); /* wakes accept() */
		pthread_join(p->acceptor, NULL);
		close(p->lfd);
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nconns; i++)
		shutdown(p->conns[i], SHUT_RDWR);
	while (p->nconns)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	OPENSSL_cleanse(p->key, sizeof(p->key));
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}

const struct sl_peer_stats *sl_peers_stats(const struct sl_peers *p)
{
	return p ? &p->stats : NULL;
}

bool sl_peers_serving(const struct sl_peers *p)
{
	return p && p->lfd >= 0;
}

/* ---- client ---------------------------------------------------------------------------------- */

static int dial(const struct sl_peers *p, const char *host, int64_t deadline)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, p->port, &hints, &ai))
		return -EHOSTUNREACH;
	int rc = -ECONNREFUSED;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS) {
			rc = -errno;
			close(fd);
			continue;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		rc = wait_fd(fd, POLLOUT, deadline);
		if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			rc = -errno;
		if (!rc && soerr)
			rc = -soerr;
		if (!rc) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			freeaddrinfo(ai);
			return fd;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return rc;
}

/* One GET of key from host: 0 with the block in buf (blen bytes), or an error. */
static int ask(struct sl_peers *p, const char *host, const char *key, uint8_t *buf, uint32_t blen)
{
	int64_t deadline = mono_ms() + p->timeout_ms;
	size_t klen = strlen(key);
	uint8_t req[REQ_HEAD + SL_KEY_MAX + 8 + MAC_BYTES];
	memcpy(req, PEER_MAGIC, 4);
	req[4] = PEER_VERSION;
	req[5] = OP_GET;
	put_u16(req + 6, (uint16_t)klen);
	memcpy(req + REQ_HEAD, key, klen);
	put_i64(req + REQ_HEAD + klen, (int64_t)time(NULL));
	size_t n = REQ_HEAD + klen + 8;
	if (!mac(p, req, n, req + n))
		return -EIO;
	int fd = dial(p, host, deadline);
	if (fd < 0)
		return fd;
	/* the answer as its HMAC covers it, behind the request's HMAC */
	uint8_t *ans = malloc(MAC_BYTES + ANS_HEAD + (size_t)blen + MAC_BYTES);
	int rc = ans ? write_full(fd, req, n + MAC_BYTES, deadline) : -ENOMEM;
	if (!rc) {
		memcpy(ans, req + n, MAC_BYTES);
		rc = read_full(fd, ans + MAC_BYTES, ANS_HEAD, deadline);
	}
	uint32_t len = rc ? 0 : get_u32(ans + MAC_BYTES + 1);
	if (!rc && len != (ans[MAC_BYTES] ? 0 : blen))
		rc = -EPROTO;
	if (!rc)
		rc = read_full(fd, ans + MAC_BYTES + ANS_HEAD, (size_t)len + MAC_BYTES, deadline);
	uint8_t want[MAC_BYTES];
	size_t covered = MAC_BYTES + ANS_HEAD + (size_t)len;
	if (!rc && (!mac(p, ans, covered, want) || CRYPTO_memcmp(want, ans + covered, MAC_BYTES)))
		rc = -EBADMSG;
	if (!rc && ans[MAC_BYTES])
		rc = -(int)ans[MAC_BYTES];
	if (!rc)
		memcpy(buf, ans + MAC_BYTES + ANS_HEAD, blen);
	free(ans);
	close(fd);
	return rc;
}

int sl_peers_fetch(struct sl_peers *p, const char *key, uint64_t id, uint32_t indx, uint8_t *buf,
		   uint32_t blen)
{
	struct sl_ring *ring = p ? sl_vol_ring(p->v) : NULL;
	if (!ring)
		return -ENOENT;
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t n = sl_ring_lookup(ring, id, indx, owners, SL_RING_MAX_REPLICAS);
	size_t asked = 0;
	for (size_t i = 0; i < n && asked < PEER_TRIES; i++) {
		if (!strcmp(owners[i], p->self))
			continue;
		asked++;
		int rc = ask(p, owners[i], key, buf, blen);
		if (!rc) {
			atomic_fetch_add(&p->stats.fetched, 1);
			return 0;
		}
		if (rc != -ENOENT) {
			atomic_fetch_add(&p->stats.failed, 1);
			sl_log(&p->v->log, SL_LOG_DEBUG, "cache group: %s from %s: %s", key,
			       owners[i], strerror(-rc));
		}
	}
	return -ENOENT;
}
