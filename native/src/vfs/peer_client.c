/*
 * peer_client.c - the cache group's client side: reads of a block from its owners (with a ticket
 * from the gateway in Kerberos mode), offers of a downloaded block to its owner's disk cache, and
 * the copies of an hflushed block sent to R-1 owners; over connections kept for the next request
 * to the same peer. The protocol and the server: peer_internal.h, peer.c.
 */
#include <errno.h>
#include <limits.h>
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

#include "../cache/stage.h"
#include "peer_internal.h"

/* ---- client ---------------------------------------------------------------------------------- */

/* "peer-ticket:EXPIRY:HEX" into its expiry and key. */
static bool parse_ticket(const char *s, int64_t *expiry, uint8_t t[MAC_BYTES])
{
	if (strncmp(s, TICKET_PREFIX, strlen(TICKET_PREFIX)))
		return false;
	char *end;
	long long e = strtoll(s + strlen(TICKET_PREFIX), &end, 10);
	if (*end != ':' || strlen(end + 1) != 2 * MAC_BYTES)
		return false;
	for (size_t i = 0; i < MAC_BYTES; i++) {
		unsigned x;
		if (sscanf(end + 1 + 2 * i, "%2x", &x) != 1)
			return false;
		t[i] = (uint8_t)x;
	}
	*expiry = e;
	return true;
}

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
		rc = sl_peer_wait_fd(fd, POLLOUT, deadline);
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

/* An idle connection to host, or a new one: an fd, or a negative errno. *reused says which (a
 * reused one may have been closed by the server meanwhile: the caller tries once more). */
static int take_conn(struct sl_peers *p, const char *host, int64_t deadline, bool *reused)
{
	int64_t now = sl_mono_ms();
	int fd = -1;
	pthread_mutex_lock(&p->pool_lock);
	for (size_t i = p->npool; i-- > 0 && fd < 0;) {
		struct idle_conn *c = &p->pool[i];
		struct pollfd pf = {.fd = c->fd, .events = POLLIN};
		bool stale = now - c->since_ms > POOL_IDLE_MS || poll(&pf, 1, 0) != 0;
		if (stale || !strcmp(c->host, host)) {
			if (stale)
				close(c->fd);
			else
				fd = c->fd;
			*c = p->pool[--p->npool];
		}
	}
	pthread_mutex_unlock(&p->pool_lock);
	*reused = fd >= 0;
	return fd >= 0 ? fd : dial(p, host, deadline);
}

/* Keeps a connection that finished a request cleanly for the next one to host. */
static void give_conn(struct sl_peers *p, const char *host, int fd)
{
	pthread_mutex_lock(&p->pool_lock);
	if (p->npool < POOL_SIZE && strlen(host) < sizeof(p->pool[0].host)) {
		struct idle_conn *c = &p->pool[p->npool++];
		snprintf(c->host, sizeof(c->host), "%s", host);
		c->fd = fd;
		c->since_ms = sl_mono_ms();
		fd = -1;
	}
	pthread_mutex_unlock(&p->pool_lock);
	if (fd >= 0)
		close(fd);
}

/* One exchange on fd: sends req (n bytes and its HMAC), reads the answer into ans (behind the
 * request's HMAC, as the answer's HMAC covers it). 0 when the whole answer was read (whatever
 * its status: the connection stays in step), or an error of the connection. */
static int exchange(int fd, const uint8_t *req, size_t n, uint8_t *ans, uint32_t want_len,
		    int64_t deadline)
{
	int rc = sl_peer_write_full(fd, req, n + MAC_BYTES, deadline);
	if (!rc) {
		memcpy(ans, req + n, MAC_BYTES);
		rc = sl_peer_read_full(fd, ans + MAC_BYTES, ANS_HEAD, deadline);
	}
	uint32_t len = rc ? 0 : sl_peer_get_u32(ans + MAC_BYTES + 1);
	if (!rc && len != (ans[MAC_BYTES] ? 0 : want_len))
		rc = -EPROTO;
	if (!rc)
		rc = sl_peer_read_full(fd, ans + MAC_BYTES + ANS_HEAD, (size_t)len + MAC_BYTES,
				       deadline);
	return rc;
}

/* One request to host: GET (put NULL) fills buf with bytes [off, off+len) of the block; PUT and
 * OFFER (op) send put's len bytes (off 0). 0, or an error. */
/* A ticket from the gateway for one block (Kerberos mode): its expiry and key, and where the
 * block is placed (so that the owner that reads it through keeps it). */
struct ticket {
	int64_t expiry;
	uint8_t key[MAC_BYTES];
	struct sl_place at;
};

static int ask(struct sl_peers *p, const char *host, uint8_t op, const char *key,
	       const uint8_t *put, uint8_t *buf, uint32_t off, uint32_t len,
	       const struct ticket *t)
{
	/* connected within the group's timeout; a COMMIT then waits for a transaction */
	int64_t connected_by = sl_mono_ms() + p->timeout_ms;
	int64_t deadline = op == OP_COMMIT ? sl_mono_ms() + COMMIT_WAIT_MS : connected_by;
	size_t klen = strlen(key);
	size_t n = REQ_HEAD + klen + 8 + (put ? 4 + (size_t)len : t ? 32 : 8);
	uint32_t want_len = put ? 0 : len;
	const uint8_t *mkey = t ? t->key : p->key;
	uint8_t *req = malloc(n + MAC_BYTES);
	uint8_t *ans = malloc(MAC_BYTES + ANS_HEAD + (size_t)want_len + MAC_BYTES);
	if (!req || !ans) {
		free(req);
		free(ans);
		return -ENOMEM;
	}
	memcpy(req, PEER_MAGIC, 4);
	req[4] = PEER_VERSION;
	req[5] = op;
	sl_peer_put_u16(req + 6, (uint16_t)klen);
	memcpy(req + REQ_HEAD, key, klen);
	sl_peer_put_i64(req + REQ_HEAD + klen, (int64_t)time(NULL));
	uint8_t *tail = req + REQ_HEAD + klen + 8;
	if (put) {
		sl_peer_put_u32(tail, len);
		memcpy(tail + 4, put, len);
	} else {
		sl_peer_put_u32(tail, off);
		sl_peer_put_u32(tail + 4, len);
	}
	if (t) {
		sl_peer_put_i64(tail + 8, t->expiry);
		sl_peer_put_i64(tail + 16, (int64_t)t->at.ino);
		sl_peer_put_i64(tail + 24, (int64_t)t->at.lblock);
	}
	int rc = sl_peer_mac(mkey, req, n, req + n) ? 0 : -EIO;
	int fd = -1;
	bool reused = false;
	while (!rc) {
		fd = take_conn(p, host, connected_by, &reused);
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = exchange(fd, req, n, ans, want_len, deadline);
		if (!rc)
			break;
		close(fd);
		fd = -1;
		/* a pooled connection the server closed meanwhile: once more on a new one */
		if (!reused || (rc != -ECONNRESET && rc != -EPIPE))
			break;
		rc = 0;
	}
	if (fd >= 0) /* the whole answer was read: the connection serves the next request */
		give_conn(p, host, fd);
	uint8_t want[MAC_BYTES];
	uint32_t got = rc ? 0 : sl_peer_get_u32(ans + MAC_BYTES + 1);
	size_t covered = MAC_BYTES + ANS_HEAD + (size_t)got;
	if (!rc && (!sl_peer_mac(mkey, ans, covered, want) ||
		    CRYPTO_memcmp(want, ans + covered, MAC_BYTES)))
		rc = -EBADMSG;
	if (!rc && ans[MAC_BYTES])
		rc = -(int)ans[MAC_BYTES];
	if (!rc && !put)
		memcpy(buf, ans + MAC_BYTES + ANS_HEAD, len);
	free(ans);
	free(req);
	return rc;
}

/* Whether host is this process's own server: the one owner never to ask. A client that does not
 * serve asks its node's server (another process, `sluice cache-server`) like any other. */
static bool is_me(const struct sl_peers *p, const char *host)
{
	return p->lfd >= 0 && !strcmp(host, p->self);
}

int sl_peers_commit_pending(struct sl_peers *p, sl_ino ino, bool recovering)
{
	if (!p)
		return -ENOENT;
	if (p->ticketed)
		return -ENOSYS;
	struct sl_ring *ring = sl_vol_ring(p->v);
	char key[64];
	snprintf(key, sizeof(key), COMMIT_PREFIX "%llu%s", (unsigned long long)ino,
		 recovering ? COMMIT_RECOVERING : "");
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t nowners = ring ? sl_ring_lookup(ring, ino, 0, owners, SL_RING_MAX_REPLICAS) : 0;
	size_t nhosts = ring ? sl_ring_nhosts(ring) : 0;
	uint8_t none[1];
	int rc = -ENOENT;
	bool committed = false, busy = false;
	/* The file's first owners first (where its writer runs, when Hadoop placed it there),
	 * then every other node. A writer's node commits everything it acknowledged: done. Nodes
	 * holding copies of a dead writer's records commit what follows the file's end: another
	 * round then, since the records that come first may be held elsewhere. */
	for (size_t round = 0; round <= nhosts; round++) {
		bool progress = false;
		for (size_t i = 0; i < nowners + nhosts; i++) {
			const char *host = i < nowners ? owners[i] : sl_ring_host(ring, i - nowners);
			bool asked = false;
			for (size_t k = 0; k < nowners && i >= nowners && !asked; k++)
				asked = !strcmp(owners[k], host);
			if (asked)
				continue;
			int got = is_me(p, host) ? -sl_peers_commit_held(p, ino, recovering)
						 : ask(p, host, OP_COMMIT, key, NULL, none, 0, 0, NULL);
			if (!got)
				return 0;
			if (got == -EINPROGRESS) {
				progress = committed = true;
			} else if (got == -EBUSY) {
				busy = true;
			} else if (got != -ENOENT) {
				atomic_fetch_add(&p->stats.failed, 1);
				rc = got;
			}
		}
		if (!progress)
			break;
	}
	return committed ? 0 : busy ? -EBUSY : rc;
}

/* The block's owners on the ring, first first: those of its logical block where at says, else
 * those of (slice id, block index) from its key. How many were filled. */
static size_t owners_of(struct sl_peers *p, const char *key, const struct sl_place *at,
			const char *owners[SL_RING_MAX_REPLICAS])
{
	struct sl_ring *ring = p ? sl_vol_ring(p->v) : NULL;
	uint64_t id;
	uint32_t indx, blen;
	if (!ring)
		return 0;
	if (at && at->ino)
		return sl_ring_lookup(ring, at->ino, at->lblock, owners, SL_RING_MAX_REPLICAS);
	if (!sl_block_key_parse(&p->v->layout, key, &id, &indx, &blen))
		return 0;
	return sl_ring_lookup(ring, id, indx, owners, SL_RING_MAX_REPLICAS);
}

/* sl_peers_fetch in Kerberos mode: a ticket for the block from the gateway, then the owners. */
static int fetch_ticketed(struct sl_peers *p, const char *key, const struct sl_place *at,
			  uint32_t off, uint8_t *buf, uint32_t len)
{
	if (atomic_load(&p->no_tickets))
		return -ENOENT;
	char *s = malloc(SL_PRESIGN_URL_MAX);
	struct ticket t = {.at = at ? *at : (struct sl_place){0}};
	struct sl_err err = {0};
	int rc = s ? p->tickets.url(p->tickets.arg, "PEER", key, 0, s, SL_PRESIGN_URL_MAX, &err)
		   : -ENOMEM;
	bool parsed = !rc && parse_ticket(s, &t.expiry, t.key);
	if (s)
		OPENSSL_cleanse(s, SL_PRESIGN_URL_MAX);
	free(s);
	if (rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOSYS) {
		/* a gateway that does not issue tickets (older, or without the group key) */
		if (!atomic_exchange(&p->no_tickets, true))
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: the gateway issues no tickets "
			       "(%s); reading from object storage only", err.msg);
		return -ENOENT;
	}
	if (!parsed)
		return -ENOENT; /* no read context here, or a malformed answer: object storage */
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t n = owners_of(p, key, at, owners);
	rc = -ENOENT;
	for (size_t i = 0; i < n && i < PEER_TRIES && rc; i++) {
		rc = ask(p, owners[i], OP_GET_TICKETED, key, NULL, buf, off, len, &t);
		if (!rc) {
			atomic_fetch_add(&p->stats.fetched, 1);
			atomic_fetch_add(&p->stats.fetched_bytes, len);
		} else if (rc != -ENOENT) {
			atomic_fetch_add(&p->stats.failed, 1);
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: %s from %s: %s", key,
			       owners[i], strerror(-rc));
		}
	}
	OPENSSL_cleanse(t.key, sizeof(t.key));
	return rc ? -ENOENT : 0;
}

int sl_peers_fetch(struct sl_peers *p, const char *key, const struct sl_place *at, uint32_t off,
		   uint8_t *buf, uint32_t len)
{
	if (!p)
		return -ENOENT;
	if (p->ticketed)
		return fetch_ticketed(p, key, at, off, buf, len);
	uint8_t *copy = NULL;
	uint32_t clen = 0;
	if (!sl_peer_read_replica(p, key, &copy, &clen) && off <= clen && len <= clen - off) {
		memcpy(buf, copy + off, len); /* a replica this node keeps for a writer */
		free(copy);
		return 0;
	}
	free(copy);
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t n = owners_of(p, key, at, owners);
	size_t asked = 0;
	for (size_t i = 0; i < n && asked < PEER_TRIES; i++) {
		if (is_me(p, owners[i]))
			continue;
		asked++;
		int rc = ask(p, owners[i], OP_GET, key, NULL, buf, off, len, NULL);
		if (!rc) {
			atomic_fetch_add(&p->stats.fetched, 1);
			atomic_fetch_add(&p->stats.fetched_bytes, len);
			return 0;
		}
		if (rc != -ENOENT) {
			atomic_fetch_add(&p->stats.failed, 1);
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: %s from %s: %s", key,
			       owners[i], strerror(-rc));
		}
	}
	return -ENOENT;
}

/* The copies of one hflushed block, sent by a thread of its own. */
struct replica_job {
	struct sl_peers *p;
	struct sl_peer_batch *batch;
	const char *key;
	struct sl_place at;
	const uint8_t *data;
	uint32_t len;
	bool sync;
	/* a batch (OP_PUT_MANY): every item of the round, key and at those of the first */
	size_t nitems;
	const char *const *keys;
	const uint8_t *const *datas;
	const uint32_t *lens;
	int got;
	bool queued; /* handed to the replicators (else finish sends it itself) */
};

struct sl_peer_batch {
	pthread_mutex_t lock;
	pthread_cond_t done;
	size_t pending; /* queued jobs not finished */
	size_t n;
	bool batched; /* jobs[0] carries every item */
	struct replica_job jobs[];
};

/* The hosts holding copies not synced yet (struct sl_peers): a copy about to be sent without
 * sync is tracked from before it goes until its answer; false when no more hosts can be
 * tracked (the copy is then sent synced). */
static bool unsynced_begin(struct sl_peers *p, const char *host)
{
	if (strlen(host) >= sizeof(p->unsynced[0].host))
		return false;
	pthread_mutex_lock(&p->unsynced_lock);
	struct unsynced_host *h = NULL, *free_slot = NULL;
	for (size_t i = 0; i < p->nunsynced && !h; i++) {
		struct unsynced_host *u = &p->unsynced[i];
		if (!strcmp(u->host, host))
			h = u;
		else if (!free_slot && u->kept == u->synced && !u->inflight)
			free_slot = u;
	}
	if (!h && !free_slot && p->nunsynced < MAX_UNSYNCED_HOSTS)
		free_slot = &p->unsynced[p->nunsynced++];
	if (!h && free_slot) {
		h = free_slot;
		snprintf(h->host, sizeof(h->host), "%s", host);
		h->kept = h->synced = 0;
		h->inflight = 0;
		h->uses++;
	}
	if (h)
		h->inflight++;
	pthread_mutex_unlock(&p->unsynced_lock);
	return h != NULL;
}

/* A copy tracked by unsynced_begin was answered: kept (to be synced), or not. */
static void unsynced_end(struct sl_peers *p, const char *host, bool kept)
{
	pthread_mutex_lock(&p->unsynced_lock);
	for (size_t i = 0; i < p->nunsynced; i++) {
		struct unsynced_host *u = &p->unsynced[i];
		if (!strcmp(u->host, host) && u->inflight) {
			u->inflight--;
			u->kept += kept;
			break;
		}
	}
	pthread_mutex_unlock(&p->unsynced_lock);
}

void sl_peers_sync(struct sl_peers *p)
{
	if (!p)
		return;
	char host[256];
	uint8_t none[1];
	for (size_t i = 0;; i++) {
		/* Only answered copies count: one still on its way when the OP_SYNC starts is
		 * counted when answered, for the next sync (its own slice's commit runs one). */
		pthread_mutex_lock(&p->unsynced_lock);
		while (i < p->nunsynced && p->unsynced[i].kept == p->unsynced[i].synced)
			i++;
		bool more = i < p->nunsynced;
		uint64_t upto = more ? p->unsynced[i].kept : 0;
		uint64_t uses = more ? p->unsynced[i].uses : 0;
		if (more)
			snprintf(host, sizeof(host), "%s", p->unsynced[i].host);
		pthread_mutex_unlock(&p->unsynced_lock);
		if (!more)
			return;
		int rc = ask(p, host, OP_SYNC, SYNC_KEY, NULL, none, 0, 0, NULL);
		pthread_mutex_lock(&p->unsynced_lock);
		/* Unless another SYNC covered it meanwhile and the slot went to a new host. A
		 * holder that failed is not asked again for these copies: it would cost every
		 * commit a timeout, and a holder that is down keeps nothing. */
		if (p->unsynced[i].uses == uses && upto > p->unsynced[i].synced)
			p->unsynced[i].synced = upto;
		pthread_mutex_unlock(&p->unsynced_lock);
		if (rc && atomic_fetch_add(&p->stats.sync_failures, 1) == 0)
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: the copies hflushed to %s could "
			       "not be made durable there (%s); they are counted as sync failures "
			       "from now on, and the writer's own copy is durable", host,
			       strerror(-rc));
	}
}

int sl_peers_hflush_copies(const struct sl_peers *p)
{
	return p ? p->replicas : 1;
}

/* The body of j's OP_PUT_MANY (peer_internal.h), or NULL (no memory); *len its length. */
static uint8_t *batch_body(const struct replica_job *j, uint32_t *len)
{
	size_t total = 4;
	for (size_t k = 0; k < j->nitems; k++)
		total += 2 + strlen(j->keys[k]) + 4 + j->lens[k];
	uint8_t *body = malloc(total), *at = body + 4;
	if (!body)
		return NULL;
	sl_peer_put_u32(body, (uint32_t)j->nitems);
	for (size_t k = 0; k < j->nitems; k++) {
		size_t klen = strlen(j->keys[k]);
		sl_peer_put_u16(at, (uint16_t)klen);
		memcpy(at + 2, j->keys[k], klen);
		sl_peer_put_u32(at + 2 + klen, j->lens[k]);
		memcpy(at + 2 + klen + 4, j->datas[k], j->lens[k]);
		at += 2 + klen + 4 + j->lens[k];
	}
	*len = (uint32_t)total;
	return body;
}

static void replicate_one(struct replica_job *j)
{
	struct sl_peers *p = j->p;
	int want = p->replicas - 1;
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t nowners = owners_of(p, j->key, &j->at, owners);
	bool record = !strncmp(j->key, SL_STAGE_RECORD_DIR "/", strlen(SL_STAGE_RECORD_DIR) + 1);
	uint8_t op = j->nitems ? OP_PUT_MANY : record ? OP_PUT_RECORD : OP_PUT;
	const char *key = j->nitems ? BATCH_KEY : j->key;
	const uint8_t *put = j->data;
	uint32_t len = j->len;
	uint8_t *body = j->nitems ? batch_body(j, &len) : NULL;
	if (j->nitems && !(put = body))
		return; /* no memory: counted as fewer copies */
	for (size_t i = 0; i < nowners && j->got < want; i++) {
		if (is_me(p, owners[i]))
			continue;
		bool sync = j->sync || !unsynced_begin(p, owners[i]);
		int rc = ask(p, owners[i], sync ? op : op | OP_UNSYNCED, key, put, NULL, 0, len,
			     NULL);
		if (!sync)
			unsynced_end(p, owners[i], !rc);
		if (!rc)
			j->got++;
		else
			sl_log(&p->v->log, SL_LOG_DEBUG, "cache group: replica of %s on %s: %s", j->key,
			       owners[i], strerror(-rc));
	}
	free(body);
}

/* Whether the n items of an unsynced round can go in one OP_PUT_MANY: the same owners (an
 * hflush's slice within one logical block: a WAL's always) and a request a block long at most. */
static bool one_batch(struct sl_peers *p, const char *const *keys, const struct sl_place *at,
		      const uint32_t *lens, size_t n)
{
	const char *first[SL_RING_MAX_REPLICAS], *other[SL_RING_MAX_REPLICAS];
	size_t nfirst = owners_of(p, keys[0], &at[0], first);
	size_t total = 4;
	for (size_t k = 0; k < n; k++) {
		total += 2 + strlen(keys[k]) + 4 + lens[k];
		if (total > p->v->layout.block_size || !nfirst)
			return false;
		if (k && owners_of(p, keys[k], &at[k], other) != nfirst)
			return false;
		for (size_t i = 0; k && i < nfirst; i++)
			if (strcmp(first[i], other[i]))
				return false;
	}
	return true;
}

static void replicate_task(void *arg)
{
	struct replica_job *j = arg;
	replicate_one(j);
	struct sl_peer_batch *b = j->batch;
	pthread_mutex_lock(&b->lock);
	if (--b->pending == 0)
		pthread_cond_signal(&b->done);
	pthread_mutex_unlock(&b->lock);
}

struct sl_peer_batch *sl_peers_replicate_start(struct sl_peers *p, const char *const *keys,
					       const struct sl_place *at,
					       const uint8_t *const *data, const uint32_t *lens,
					       size_t n, bool sync)
{
	if (!p || p->replicas < 2 || !n)
		return NULL;
	struct sl_peer_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->jobs[0]));
	if (!b)
		return NULL; /* out of memory: the blocks count as degraded in finish */
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done, NULL);
	b->n = n;
	/* Unsynced, staging here takes microseconds: the round's copies go in one request (so a
	 * holder never keeps a record without its blocks), sent by the caller in finish. */
	if (!sync && n > 1 && one_batch(p, keys, at, lens, n)) {
		b->batched = true;
		b->jobs[0] = (struct replica_job){.p = p, .batch = b, .key = keys[0], .at = at[0],
						  .sync = sync, .nitems = n, .keys = keys,
						  .datas = data, .lens = lens};
		return b;
	}
	pthread_mutex_lock(&b->lock); /* no task finishes before every one is counted */
	for (size_t k = 0; k < n; k++) {
		struct replica_job *j = &b->jobs[k];
		*j = (struct replica_job){.p = p, .batch = b, .key = keys[k], .at = at[k],
					  .data = data[k], .len = lens[k], .sync = sync};
		/* Unsynced, staging here takes microseconds: the caller sends the last copy itself
		 * then, rather than wait idle for a replicator (one handoff less per hflush). */
		if (!sync && k == n - 1)
			break;
		j->queued = p->replicators && !sl_pool_submit(p->replicators, replicate_task, j);
		b->pending += j->queued;
	}
	pthread_mutex_unlock(&b->lock);
	return b;
}

int sl_peers_replicate_finish(struct sl_peers *p, struct sl_peer_batch *b, const int *staged,
			      size_t n)
{
	if (!p || p->replicas < 2 || !n)
		return 0;
	int short_of = 0;
	for (size_t k = 0; b && k < (b->batched ? 1 : n); k++)
		if (!b->jobs[k].queued) /* left to the caller, or no replicator took it */
			replicate_one(&b->jobs[k]);
	if (b) {
		pthread_mutex_lock(&b->lock);
		while (b->pending)
			pthread_cond_wait(&b->done, &b->lock);
		pthread_mutex_unlock(&b->lock);
	}
	for (size_t k = 0; k < n; k++) {
		struct replica_job *j = b ? &b->jobs[b->batched ? 0 : k] : NULL;
		if (staged[k])
			continue; /* not staged here either: this hflush waits for its upload */
		int got = j ? j->got : 0;
		atomic_fetch_add(&p->stats.replicated, (uint64_t)got);
		if (got < p->replicas - 1) {
			short_of++;
			if (atomic_fetch_add(&p->stats.degraded, 1) == 0)
				sl_log(&p->v->log, SL_LOG_WARN, "cache group: hflush kept %d of %d "
				       "copies of block %zu of a batch (peers unreachable or too few "
				       "nodes); such blocks are counted as degraded from now on",
				       got + 1, p->replicas, k);
		}
	}
	if (b) {
		pthread_mutex_destroy(&b->lock);
		pthread_cond_destroy(&b->done);
	}
	free(b);
	return short_of;
}

bool sl_peers_offer(struct sl_peers *p, const char *key, const struct sl_place *at,
		    const uint8_t *data, uint32_t blen)
{
	const char *owner[SL_RING_MAX_REPLICAS];
	/* a Kerberos client cannot prove a block's content: the owner reads it through itself */
	if (!p || p->ticketed || !owners_of(p, key, at, owner) || is_me(p, owner[0]))
		return false;
	int rc = ask(p, owner[0], OP_OFFER, key, data, NULL, 0, blen, NULL);
	if (rc)
		sl_log(&p->v->log, SL_LOG_DEBUG, "cache group: offering %s to %s: %s", key, owner[0],
		       strerror(-rc));
	return !rc;
}
