/*
 * peer.c - the cache group: the nodes of a volume's node list ("nodes") serve one another the
 * blocks they hold, so that a read that misses memory and the local disk asks the block's owners
 * on the ring (locality.c) before object storage, and a block cached anywhere in the group is
 * read from object storage once.
 *
 * Server: with cache-group.port set, a volume handle listens on that port at the address of
 * cache-group.host (its name in the node list) and answers each GET from its disk cache, then
 * its staging area. One process per node can listen; another one (the port is taken, or
 * cache-group.serve=false where `sluice cache-server` serves the node) reads from the group
 * without serving. At most MAX_CONNS connections are served at once.
 *
 * Client: a block's owners are the first hosts of the ring at its logical block (file, offset /
 * block.size), the hosts getFileBlockLocations names, so that a task Hadoop schedules there reads
 * from its own disk (at (slice id, block index) where a caller cannot say). The reader asks them
 * in ring order, skipping itself if it serves (else its node's server is asked like any other),
 * each within cache-group.timeout, and falls back to object storage when none has the block; a
 * slow or dead peer costs one timeout. Small random reads ask for just their bytes. A block it
 * then downloads goes to its first owner's disk cache (OFFER), not its own, unless it is that
 * owner: a node's disk holds its share of the group's cache.
 *
 * Replicated hflush (hflush.replicas = R): a block the writer staged for an hflush is sent to
 * R-1 owners (the next ones on the ring when one fails), which keep it durably (journaled as
 * hflush staging is, in DIR/<uuid>/replicas/.journal) in DIR/<uuid>/replicas/<key> of their
 * cache dir and serve it like their own: sent by the volume's replicator threads, while the
 * writer stages the same blocks locally. The hflush returns once they have it,
 * so a reader anywhere gets it at once and it survives the loss of the writer's node. Fewer
 * reachable owners than R-1: the hflush still returns, the block is counted as degraded and
 * logged. A holder's sweep (sl_peers_sweep) hands a replica over once
 * it is older than the grace period: into its disk cache if the block is in object storage by
 * then, else uploaded first if its slice was committed (its writer is gone), or dropped if the
 * slice never was after an hour (its writer died before the commit).
 *
 * Protocol, big-endian; a connection carries requests one after the other (clients keep idle
 * connections for the next request to the same peer):
 *   request  "SLPG", u8 version (1), u8 op (1: GET, 2: PUT a replica, 3: OFFER a block to
 *            its owner's cache, 4: a ticketed GET), u16 key length, key, i64 unix time, for
 *            GET u32 offset and u32 length of the bytes wanted (a ticketed GET then i64 the
 *            ticket's expiry, u64 ino and u64 logical block of the block's place), for PUT and
 *            OFFER u32 length and the block, and an HMAC-SHA256 under the group key (a ticketed
 *            GET: under its ticket's key) of everything before it
 *   answer   u8 status (0 or an errno), u32 length, the bytes (GET), and an HMAC-SHA256 under
 *            the same key of (the request's HMAC, status, length, bytes)
 * Kerberos mode: a client has no group key; the gateway gives it a ticket per block it may read
 * (ticket_key: the group key's HMAC of the block's key and an expiry), which it uses as the key of
 * a ticketed GET; the owner derives the same, and reads the block through from object storage if
 * it does not hold it (such a client never offers: it cannot prove a block's content).
 * The group key is derived from the volume's secret (sl_meta_volume_key): every client with
 * direct access to the metadata has it, and nobody else, so a peer of another volume or a
 * stranger is refused and a forged or altered answer is dropped. A request's time must be
 * within CLOCK_SKEW_S of the server's; a replayed GET only fetches a block its sender saw.
 * Keys must be data block keys of this volume (sl_block_key_parse). The disk cache verifies a
 * block's CRC32Cs before it is served, and the answer's HMAC covers it on the way.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../object/presign.h"
#include "vfs.h"

#define PEER_MAGIC "SLPG"
#define PEER_VERSION 1
#define OP_GET 1
#define OP_PUT 2
#define OP_OFFER 3
#define OP_GET_TICKETED 4 /* a GET from a client without the group key (Kerberos mode) */
#define TICKET_LABEL "sluice peer ticket v1"
#define TICKET_PREFIX "peer-ticket:"
#define REPLICA_DIR "replicas"
#define ABANDON_S 3600 /* an uncommitted replica older than this: its writer died */
#define MAC_BYTES SL_META_KEY_BYTES
#define KEY_LABEL "sluice cache group v1"
#define CLOCK_SKEW_S 300
#define MAX_CONNS 256
#define REQ_HEAD 8 /* magic, version, op, key length */
#define ANS_HEAD 5 /* status, length */
#define PEER_TRIES 2 /* owners asked for one block before object storage */
#define POOL_SIZE 32 /* idle connections kept to peers */
#define REPLICATORS 16 /* hflush copies sent at once (as many as the writer's threads, mostly) */
#define POOL_IDLE_MS 30000 /* the server closes after 60 s idle; we let go before */

struct sl_peers {
	struct sl_volume_core *v;
	uint8_t key[MAC_BYTES];
	char self[256]; /* this node's name in the node list */
	char port[16];
	int timeout_ms;
	int replicas; /* hflush.replicas: copies of an hflushed block, the writer's included */
	int lfd; /* -1: not serving */
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	bool stopping;
	int conns[MAX_CONNS]; /* connections being served (their threads are detached) */
	size_t nconns;
	/* idle client connections to peers, reused by the next request to the same host */
	pthread_mutex_t pool_lock;
	struct idle_conn {
		char host[256];
		int fd;
		int64_t since_ms;
	} pool[POOL_SIZE];
	size_t npool;
	/* a serving node's journals of its replicas, one per cache directory (NULL where none
	 * could be kept: each replica is then synced on its own) */
	struct sl_journal **journals;
	size_t njournals;
	/* threads that send an hflush's copies while the writer stages them itself (with
	 * hflush.replicas >= 2), so that no hflush creates a thread */
	struct sl_pool *replicators;
	/* Kerberos mode (no group key): tickets for ticketed GETs come from the gateway through
	 * this provider (method "PEER"); none after a gateway said it issues none */
	bool ticketed;
	struct sl_presign_provider tickets;
	atomic_bool no_tickets;
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

static bool mac(const uint8_t key[MAC_BYTES], const uint8_t *data, size_t n,
		     uint8_t out[MAC_BYTES])
{
	unsigned len = 0;
	return HMAC(EVP_sha256(), key, MAC_BYTES, data, n, out, &len) && len == MAC_BYTES;
}

/* A ticket's key: what a gateway gives a client allowed to read the block `key` until `expiry`
 * (unix seconds), derived from the group key, so that any member can check it. The client never
 * sends it: it signs its request and checks the answer with it. */
static bool ticket_key(const uint8_t group[MAC_BYTES], const char *key, int64_t expiry,
		       uint8_t out[MAC_BYTES])
{
	size_t klen = strlen(key), n = sizeof(TICKET_LABEL) + klen + 8;
	uint8_t *msg = malloc(n);
	if (!msg)
		return false;
	memcpy(msg, TICKET_LABEL, sizeof(TICKET_LABEL)); /* with its NUL: the label ends there */
	memcpy(msg + sizeof(TICKET_LABEL), key, klen);
	put_i64(msg + sizeof(TICKET_LABEL) + klen, expiry);
	bool ok = mac(group, msg, n, out);
	free(msg);
	return ok;
}

int sl_peers_group_key(struct sl_meta *m, uint8_t out[SL_META_KEY_BYTES], struct sl_err *err)
{
	return sl_meta_volume_key(m, KEY_LABEL, out, err);
}

int sl_peers_ticket(const uint8_t group[SL_META_KEY_BYTES], const char *key, int64_t expiry,
		    char *out, size_t size, struct sl_err *err)
{
	uint8_t t[MAC_BYTES];
	if (!ticket_key(group, key, expiry, t))
		return sl_errf(err, -ENOMEM, "cache group: cannot derive a ticket");
	char hex[2 * MAC_BYTES + 1];
	for (size_t i = 0; i < MAC_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", t[i]);
	OPENSSL_cleanse(t, sizeof(t));
	int n = snprintf(out, size, TICKET_PREFIX "%" PRId64 ":%s", expiry, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	if (n < 0 || (size_t)n >= size)
		return sl_errf(err, -ENAMETOOLONG, "cache group: a ticket does not fit %zu bytes",
			       size);
	return 0;
}

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

static bool replica_path(struct sl_volume_core *v, const char *key, char *out, size_t size);

/* Bytes [off, off+len) of the block named by key (blen bytes), from the disk cache, the staging
 * area or the replicas, into a new buffer: 0, or -ENOENT where this node does not hold it. */
static int local_block(struct sl_peers *p, const char *key, uint32_t blen, uint32_t off,
		       uint32_t len, uint8_t **out)
{
	struct sl_volume_core *v = p->v;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	struct sl_err err = {0};
	uint32_t whole = 0;
	if (v->disk && sl_diskcache_read(v->disk, key, off, data, len, &err) == (int64_t)len) {
		*out = data;
		return 0;
	}
	/* staged or a replica: whole blocks (small ones, the last of an hflush's slice mostly) */
	uint8_t *copy = NULL;
	bool found = v->stage && !sl_stage_read(v->stage, key, &copy, &whole, &err) &&
		     whole == blen;
	char path[PATH_MAX];
	if (!found && v->disk && replica_path(v, key, path, sizeof(path))) {
		free(copy);
		copy = NULL;
		found = !sl_cachefile_read_all(path, &copy, &whole, &err) && whole == blen;
	}
	if (found)
		memcpy(data, copy + off, len);
	free(copy);
	if (!found) {
		free(data);
		return -ENOENT;
	}
	*out = data;
	return 0;
}

/* A ticketed GET of a block this node does not hold: its client, in Kerberos mode, cannot be
 * trusted to offer what it downloaded (it could plant a wrong block for others), so the owner
 * loads the block from object storage itself, keeps it as any block it reads, and serves it. */
static int read_through(struct sl_peers *p, uint64_t id, uint32_t indx, uint32_t blen,
			const struct sl_place *at, uint32_t off, uint32_t len, uint8_t **out)
{
	struct sl_volume_core *v = p->v;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	/* a slice size whose block indx is blen long: the block's key is the one asked for */
	uint32_t size = indx * v->layout.block_size + blen;
	struct sl_err err = {0};
	int rc = sl_blockcache_read(v->cache, id, size, indx, at, off, data, len, &err);
	if (rc) {
		sl_log(&v->log, SL_LOG_DEBUG, "cache group: reading through for a ticketed GET: %s",
		       err.msg);
		free(data);
		return rc == -EIO || rc == -ENOENT ? -ENOENT : rc;
	}
	*out = data;
	return 0;
}

/* Where this node keeps the replica of key: false if the path does not fit. */
static bool replica_path(struct sl_volume_core *v, const char *key, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s/%s", sl_diskcache_root(v->disk, key), REPLICA_DIR, key);
	return n > 0 && (size_t)n < size;
}

/* The journal of the cache directory that keeps key's replica, or NULL. */
static struct sl_journal *journal_for(struct sl_peers *p, const char *key)
{
	const char *root = sl_diskcache_root(p->v->disk, key);
	for (size_t i = 0; i < p->njournals; i++)
		if (sl_diskcache_root_at(p->v->disk, i) == root)
			return p->journals[i];
	return NULL;
}

/* PUT: keeps a replica of key durably in this node's cache dir, within its cache-size and
 * free-space-ratio (cached blocks are evicted for it). Durably as hflush staging is: the file
 * unsynced and the block in the directory's journal, whose fdatasync the PUTs that arrive
 * together share (journal.c). */
static int keep_replica(struct sl_peers *p, const char *key, const uint8_t *data, uint32_t len)
{
	struct sl_volume_core *v = p->v;
	char path[PATH_MAX];
	if (!v->disk)
		return -EROFS; /* nowhere durable to keep it: the writer asks the next owner */
	if (!replica_path(v, key, path, sizeof(path)))
		return -ENAMETOOLONG;
	if (!sl_diskcache_keep_room(v->disk, key, len))
		return -ENOSPC; /* the writer asks the next owner */
	struct sl_err err = {0};
	struct sl_journal *j = journal_for(p, key);
	int rc = sl_cachefile_write(path, data, len, !j, &err);
	if (!rc && j && (rc = sl_journal_append(j, &key, &data, &len, 1, NULL, &err)))
		unlink(path); /* never durable: the writer asks the next owner */
	if (rc)
		sl_log(&v->log, SL_LOG_WARN, "cache group: keeping a replica: %s", err.msg);
	return rc;
}

/* A serving node's replica journals: first what a server that died here left is restored
 * (replicas it acknowledged whose files a crash of the machine lost), then new ones open.
 * Before the server takes connections. */
static void open_journals(struct sl_peers *p)
{
	struct sl_volume_core *v = p->v;
	size_t n = v->disk ? sl_diskcache_nroots(v->disk) : 0;
	if (!n || !(p->journals = calloc(n, sizeof(*p->journals))))
		return;
	p->njournals = n;
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		struct sl_err err = {0};
		snprintf(dir, sizeof(dir), "%s/%s", sl_diskcache_root_at(v->disk, i), REPLICA_DIR);
		if (mkdir(dir, 0700) && errno != EEXIST)
			sl_errf(&err, -errno, "cannot create %s: %s", dir, strerror(errno));
		else if (!sl_journal_replay(dir, &v->log, &err))
			sl_journal_open(dir, &p->journals[i], &err);
		if (!p->journals[i])
			sl_log(&v->log, SL_LOG_WARN, "cache group: %s; replicas there are synced one "
			       "by one", err.msg);
	}
}

/* Answers one request whose head was read; false when the connection must close. */
static bool serve_one(struct sl_peers *p, int fd, const uint8_t head[REQ_HEAD])
{
	int64_t deadline = mono_ms() + p->timeout_ms;
	uint16_t klen = get_u16(head + 6);
	uint8_t op = head[5];
	if (memcmp(head, PEER_MAGIC, 4) || head[4] != PEER_VERSION ||
	    (op != OP_GET && op != OP_PUT && op != OP_OFFER && op != OP_GET_TICKETED) || !klen ||
	    klen >= SL_KEY_MAX)
		return false;
	bool carries = op == OP_PUT || op == OP_OFFER; /* a block comes with the request */
	bool ticketed = op == OP_GET_TICKETED;
	/* the request as its HMAC covers it: head, key, time, then [length, block] or [offset,
	 * length, and for a ticketed GET the ticket's expiry and the block's place] */
	uint8_t fixed[REQ_HEAD + SL_KEY_MAX + 8 + 8 + 24]; /* the longest: a ticketed GET's */
	memcpy(fixed, head, REQ_HEAD);
	size_t nfixed = REQ_HEAD + (size_t)klen + 8 + (carries ? 4 : ticketed ? 32 : 8);
	if (read_full(fd, fixed + REQ_HEAD, nfixed - REQ_HEAD, deadline))
		return false;
	const uint8_t *tail = fixed + REQ_HEAD + klen + 8;
	uint32_t plen = carries ? get_u32(tail) : 0;
	uint32_t goff = carries ? 0 : get_u32(tail);
	uint32_t glen = carries ? 0 : get_u32(tail + 4);
	int64_t expiry = ticketed ? get_i64(tail + 8) : 0;
	struct sl_place place = {.ino = ticketed ? (uint64_t)get_i64(tail + 16) : 0,
				 .lblock = ticketed ? (uint64_t)get_i64(tail + 24) : 0};
	if (plen > p->v->layout.block_size)
		return false;
	/* a ticketed request is signed with its ticket's key, the rest with the group key */
	char key[SL_KEY_MAX];
	memcpy(key, fixed + REQ_HEAD, klen);
	key[klen] = 0;
	uint8_t rkey[MAC_BYTES];
	if (!ticketed)
		memcpy(rkey, p->key, MAC_BYTES);
	else if (!ticket_key(p->key, key, expiry, rkey))
		return false;
	uint8_t *req = malloc(nfixed + plen + MAC_BYTES);
	if (!req)
		return false;
	memcpy(req, fixed, nfixed);
	if (read_full(fd, req + nfixed, (size_t)plen + MAC_BYTES, deadline)) {
		free(req);
		return false;
	}
	const uint8_t *got = req + nfixed + plen;
	uint8_t want[MAC_BYTES];
	if (!mac(rkey, req, nfixed + plen, want) || CRYPTO_memcmp(want, got, MAC_BYTES)) {
		atomic_fetch_add(&p->stats.refused, 1);
		free(req);
		OPENSSL_cleanse(rkey, sizeof(rkey));
		return false; /* not a member of the group, no valid ticket: nothing to say */
	}
	int64_t skew = get_i64(req + REQ_HEAD + klen) - (int64_t)time(NULL);
	uint64_t id;
	uint32_t indx, blen = 0;
	uint8_t *block = NULL;
	int status = 0;
	if (skew > CLOCK_SKEW_S || skew < -CLOCK_SKEW_S ||
	    (ticketed && expiry < (int64_t)time(NULL))) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EACCES;
	} else if (!sl_block_key_parse(&p->v->layout, key, &id, &indx, &blen) ||
		   (carries && plen != blen) ||
		   (!carries && (!glen || goff > blen || glen > blen - goff))) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EINVAL;
	} else if (op == OP_PUT) {
		status = -keep_replica(p, key, req + nfixed, plen);
		if (!status)
			atomic_fetch_add(&p->stats.kept, 1);
	} else if (op == OP_OFFER) { /* declined (busy, full, no cache): the sender keeps it */
		status = sl_diskcache_put(p->v->disk, key, req + nfixed, plen, true) ? 0 : EBUSY;
		if (!status)
			atomic_fetch_add(&p->stats.offered, 1);
	} else {
		status = -local_block(p, key, blen, goff, glen, &block);
		if (status == ENOENT && ticketed) /* its client cannot offer it: read through */
			status = -read_through(p, id, indx, blen, &place, goff, glen, &block);
	}
	uint32_t len = status || carries ? 0 : glen;
	/* the answer as its HMAC covers it: the request's HMAC, status, length, block */
	uint8_t *ans = malloc(MAC_BYTES + ANS_HEAD + (size_t)len + MAC_BYTES);
	bool ok = ans != NULL;
	if (ok) {
		memcpy(ans, got, MAC_BYTES);
		ans[MAC_BYTES] = (uint8_t)(status > 255 ? EIO : status);
		put_u32(ans + MAC_BYTES + 1, len);
		if (len)
			memcpy(ans + MAC_BYTES + ANS_HEAD, block, len);
		ok = mac(rkey, ans, MAC_BYTES + ANS_HEAD + len,
			      ans + MAC_BYTES + ANS_HEAD + len) &&
		     !write_full(fd, ans + MAC_BYTES, ANS_HEAD + (size_t)len + MAC_BYTES, deadline);
	}
	if (ok && !status && !carries)
		atomic_fetch_add(&p->stats.served, 1);
	OPENSSL_cleanse(rkey, sizeof(rkey));
	free(ans);
	free(block);
	free(req);
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
	uint64_t replicas = 2;
	if (sl_conf_str(v->conf, "hflush.replicas") &&
	    (rc = sl_conf_u64(v->conf, "hflush.replicas", &replicas, err)))
		return rc;
	if (!replicas || replicas > SL_RING_MAX_REPLICAS)
		return sl_errf(err, -EINVAL, "hflush.replicas must be 1-%d", SL_RING_MAX_REPLICAS);
	struct sl_peers *p = calloc(1, sizeof(*p));
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory");
	p->v = v;
	p->lfd = -1;
	p->timeout_ms = (int)timeout_ms;
	p->replicas = (int)replicas;
	snprintf(p->port, sizeof(p->port), "%" PRIu64, portnum);
	const char *self = sl_conf_str(v->conf, "cache-group.host");
	if (self && *self)
		snprintf(p->self, sizeof(p->self), "%s", self);
	else if (gethostname(p->self, sizeof(p->self) - 1))
		snprintf(p->self, sizeof(p->self), "localhost");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_mutex_init(&p->pool_lock, NULL);
	if (sl_meta_caps(v->meta) & SL_META_CAP_SERVER_CHECKS) {
		/* Kerberos mode: the volume's secret is not for clients, so no group key. Such a
		 * client reads from the group's servers (`sluice cache-server`, direct access)
		 * with a ticket per block from the gateway, and neither serves nor keeps copies. */
		if (sl_conf_str(v->conf, "hflush.replicas") && replicas > 1)
			rc = sl_errf(err, -EINVAL, "cache group: hflush.replicas needs the group key, "
				     "which only clients with direct access to the metadata have; a "
				     "client through a Kerberos gateway reads from the group only");
		else if (!sl_meta_supports(v->meta, SL_META_OP_OBJECT_PROVIDER))
			rc = sl_errf(err, -ENOTSUP, "cache group: this metadata backend issues no "
				     "tickets");
		else
			rc = sl_meta_object_provider(v->meta, &p->tickets, err);
		if (rc) {
			sl_peers_free(p);
			return rc;
		}
		p->ticketed = true;
		p->replicas = 1;
		sl_log(&v->log, SL_LOG_INFO, "cache group: reading from the group's servers with "
		       "tickets from the gateway");
		*out = p;
		return 0;
	}
	if ((rc = sl_meta_volume_key(v->meta, KEY_LABEL, p->key, err))) {
		sl_err_wrap(err, "cache group: the group key (the cache group needs direct access "
			    "to the metadata)");
		sl_peers_free(p);
		return rc;
	}
	bool serve = true;
	if ((rc = sl_conf_bool(v->conf, "cache-group.serve", &serve, err))) {
		sl_peers_free(p);
		return rc;
	}
	rc = serve ? listen_on(p, err) : 0;
	if (rc == -EADDRINUSE) {
		sl_log(&v->log, SL_LOG_INFO, "cache group: another process serves %s:%s; this one "
		       "reads from the group without serving", p->self, p->port);
		rc = 0;
	}
	if (!rc && p->lfd >= 0)
		open_journals(p);
	if (!rc && p->replicas >= 2 && sl_pool_new(REPLICATORS, "sluice-replica", &p->replicators))
		p->replicators = NULL; /* each hflush then sends its copies itself, one by one */
	if (!rc && p->lfd >= 0 && pthread_create(&p->acceptor, NULL, accept_main, p)) {
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
	sl_pool_free(p->replicators); /* no hflush runs any more: nothing is queued */
	for (size_t i = 0; i < p->npool; i++)
		close(p->pool[i].fd);
	for (size_t i = 0; i < p->njournals; i++) /* no connection is served any more */
		sl_journal_close(p->journals[i], &p->v->log);
	free(p->journals);
	OPENSSL_cleanse(p->key, sizeof(p->key));
	pthread_mutex_destroy(&p->pool_lock);
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

/* An idle connection to host, or a new one: an fd, or a negative errno. *reused says which (a
 * reused one may have been closed by the server meanwhile: the caller tries once more). */
static int take_conn(struct sl_peers *p, const char *host, int64_t deadline, bool *reused)
{
	int64_t now = mono_ms();
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
		c->since_ms = mono_ms();
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
	int rc = write_full(fd, req, n + MAC_BYTES, deadline);
	if (!rc) {
		memcpy(ans, req + n, MAC_BYTES);
		rc = read_full(fd, ans + MAC_BYTES, ANS_HEAD, deadline);
	}
	uint32_t len = rc ? 0 : get_u32(ans + MAC_BYTES + 1);
	if (!rc && len != (ans[MAC_BYTES] ? 0 : want_len))
		rc = -EPROTO;
	if (!rc)
		rc = read_full(fd, ans + MAC_BYTES + ANS_HEAD, (size_t)len + MAC_BYTES, deadline);
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
	int64_t deadline = mono_ms() + p->timeout_ms;
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
	put_u16(req + 6, (uint16_t)klen);
	memcpy(req + REQ_HEAD, key, klen);
	put_i64(req + REQ_HEAD + klen, (int64_t)time(NULL));
	uint8_t *tail = req + REQ_HEAD + klen + 8;
	if (put) {
		put_u32(tail, len);
		memcpy(tail + 4, put, len);
	} else {
		put_u32(tail, off);
		put_u32(tail + 4, len);
	}
	if (t) {
		put_i64(tail + 8, t->expiry);
		put_i64(tail + 16, (int64_t)t->at.ino);
		put_i64(tail + 24, (int64_t)t->at.lblock);
	}
	int rc = mac(mkey, req, n, req + n) ? 0 : -EIO;
	int fd = -1;
	bool reused = false;
	while (!rc) {
		fd = take_conn(p, host, deadline, &reused);
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
	uint32_t got = rc ? 0 : get_u32(ans + MAC_BYTES + 1);
	size_t covered = MAC_BYTES + ANS_HEAD + (size_t)got;
	if (!rc &&
	    (!mac(mkey, ans, covered, want) || CRYPTO_memcmp(want, ans + covered, MAC_BYTES)))
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
	char path[PATH_MAX];
	uint8_t *copy = NULL;
	uint32_t clen = 0;
	struct sl_err err = {0};
	if (p->v->disk && replica_path(p->v, key, path, sizeof(path)) &&
	    !sl_cachefile_read_all(path, &copy, &clen, &err) && off <= clen && len <= clen - off) {
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
	int got;
	bool queued; /* handed to the replicators (else finish sends it itself) */
};

struct sl_peer_batch {
	pthread_mutex_t lock;
	pthread_cond_t done;
	size_t pending; /* queued jobs not finished */
	size_t n;
	struct replica_job jobs[];
};

static void replicate_one(struct replica_job *j)
{
	struct sl_peers *p = j->p;
	int want = p->replicas - 1;
	const char *owners[SL_RING_MAX_REPLICAS];
	size_t nowners = owners_of(p, j->key, &j->at, owners);
	for (size_t i = 0; i < nowners && j->got < want; i++) {
		if (is_me(p, owners[i]))
			continue;
		int rc = ask(p, owners[i], OP_PUT, j->key, j->data, NULL, 0, j->len, NULL);
		if (!rc)
			j->got++;
		else
			sl_log(&p->v->log, SL_LOG_DEBUG, "cache group: replica of %s on %s: %s", j->key,
			       owners[i], strerror(-rc));
	}
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
					       size_t n)
{
	if (!p || p->replicas < 2 || !n)
		return NULL;
	struct sl_peer_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->jobs[0]));
	if (!b)
		return NULL; /* out of memory: the blocks count as degraded in finish */
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done, NULL);
	b->n = n;
	pthread_mutex_lock(&b->lock); /* no task finishes before every one is counted */
	for (size_t k = 0; k < n; k++) {
		struct replica_job *j = &b->jobs[k];
		*j = (struct replica_job){.p = p, .batch = b, .key = keys[k], .at = at[k],
					  .data = data[k], .len = lens[k]};
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
	if (b) {
		pthread_mutex_lock(&b->lock);
		while (b->pending)
			pthread_cond_wait(&b->done, &b->lock);
		pthread_mutex_unlock(&b->lock);
	}
	for (size_t k = 0; k < n; k++) {
		struct replica_job *j = b ? &b->jobs[k] : NULL;
		if (j && !j->queued) /* no replicator took it: here, after the others */
			replicate_one(j);
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

/* ---- handing replicas over ------------------------------------------------------------------- */

struct sweep {
	struct sl_peers *p;
	const char *root; /* DIR/<uuid>/replicas of the directory being walked */
	int64_t grace_s, now;
	unsigned handed;
	uint64_t bytes; /* of the replicas still kept */
};

/* Whether slice id is referenced (committed, not deleted): 1, 0, or -1 if the metadata cannot
 * tell now. */
static int referenced(struct sl_volume_core *v, uint64_t id)
{
	int64_t refs = 0;
	uint32_t size = 0;
	struct sl_err err = {0};
	if (!sl_meta_supports(v->meta, SL_META_OP_SLICE_REFS))
		return -1;
	int rc = sl_meta_slice_refs(v->meta, id, &refs, &size, &err);
	return rc == -ENOENT ? 0 : rc ? -1 : refs > 0;
}

static void hand_over(struct sweep *sw, const char *path, const char *key)
{
	struct sl_volume_core *v = sw->p->v;
	uint64_t id;
	uint32_t indx, blen;
	struct sl_err err = {0};
	struct sl_obj_info info;
	if (!sl_block_key_parse(&v->layout, key, &id, &indx, &blen)) {
		unlink(path); /* nothing a peer may have sent */
		return;
	}
	int rc = sl_obj_head(v->store, key, &info, &err);
	if (!rc) { /* its writer uploaded it: the copy is a cached block now */
		sl_diskcache_adopt(v->disk, key, path);
		sw->handed++;
		return;
	}
	if (rc != -ENOENT)
		return; /* the store does not answer: next round */
	int live = referenced(v, id);
	if (live == 0) {
		struct stat st;
		if (!stat(path, &st) && sw->now - st.st_mtime > ABANDON_S)
			unlink(path); /* never committed (or deleted): its writer died first */
		return;
	}
	if (live < 0)
		return;
	/* committed, and not in object storage past the grace: its writer is gone */
	uint8_t *data = NULL;
	uint32_t len = 0;
	rc = sl_cachefile_read_all(path, &data, &len, &err);
	if (rc || len != blen) {
		sl_log(&v->log, SL_LOG_WARN, "cache group: replica %s is unreadable (%s); dropping it",
		       path, rc ? err.msg : "wrong length");
		unlink(path);
		free(data);
		return;
	}
	rc = sl_store_block(v, key, data, len, &err);
	free(data);
	if (rc) {
		sl_log(&v->log, SL_LOG_WARN, "cache group: uploading the replica of %s: %s", key,
		       err.msg);
		return;
	}
	if (referenced(v, id) == 0) { /* deleted meanwhile: take the object back */
		sl_obj_delete(v->store, key, &err);
		unlink(path);
		return;
	}
	sl_log(&v->log, SL_LOG_INFO, "cache group: uploaded %s, hflushed by a writer that is gone",
	       key);
	sl_diskcache_adopt(v->disk, key, path);
	sw->handed++;
}

/* Every replica file under dir (depth-first; keys are a few directory levels deep). */
static void walk(struct sweep *sw, const char *dir, int depth)
{
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') /* ".", "..", unfinished writes (SL_CACHEFILE_TMP_PREFIX) */
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			walk(sw, path, depth + 1);
		else if (S_ISREG(st.st_mode)) {
			if (sw->now - st.st_mtime >= sw->grace_s) {
				/* moved into the cache, it needs room as a cached block */
				sl_diskcache_unkeep(sw->p->v->disk, (uint64_t)st.st_size);
				hand_over(sw, path, path + strlen(sw->root) + 1);
				if (lstat(path, &st))
					continue; /* handed over or dropped */
			}
			sw->bytes += (uint64_t)st.st_size;
		}
	}
	closedir(d);
}

unsigned sl_peers_sweep(struct sl_peers *p, int64_t grace_s)
{
	if (!p || !p->v->disk || p->lfd < 0)
		return 0;
	struct sweep sw = {.p = p, .grace_s = grace_s, .now = (int64_t)time(NULL)};
	for (size_t i = 0; i < sl_diskcache_nroots(p->v->disk); i++) {
		char root[PATH_MAX];
		snprintf(root, sizeof(root), "%s/%s", sl_diskcache_root_at(p->v->disk, i),
			 REPLICA_DIR);
		sw.root = root;
		walk(&sw, root, 0);
	}
	/* the count of kept bytes as on disk: what was handed over or dropped leaves it */
	sl_diskcache_set_kept(p->v->disk, sw.bytes);
	return sw.handed;
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
