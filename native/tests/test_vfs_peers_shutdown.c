/* test_vfs_peers_shutdown.c - a volume handle shut down while its readahead still offers a block
 * to the block's owner in the cache group (peer.c). The readahead runs on the download pool, after
 * the reader has its bytes; a reader that reads a file to its end and shuts down (benchmarks'
 * cold read) does so with offers in flight. The group must outlive them: freed under them, an
 * offer checks its answer with a key that is gone ("offering ...: Bad message" while the owner
 * stored the block) and puts its connection into a pool that is gone (never closed).
 *
 * The owner here is the test's: it knows the group key and speaks the protocol, and it holds the
 * answer to the offer until the reader's group lets go of its idle connections (it was freed
 * under the offer: the failure) or HOLD_MS pass (it was not: the reader is waiting for the
 * offer, as it must). */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vfs/vfs.h"
#include "volume_testutil.h"

#define BLK 65536
#define KEY_LABEL "sluice cache group v1" /* vfs/peer_internal.h's: the owner answers as a member */
#define MAC_BYTES SL_META_KEY_BYTES
#define HOLD_MS 2000 /* a teardown that frees the group first does so within milliseconds */
#define MAX_FDS 8

enum { OP_GET = 1, OP_OFFER = 3 };

struct owner {
	int lfd;
	uint8_t key[MAC_BYTES];
	int fds[MAX_FDS]; /* connections from the reader */
	size_t nfds;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool offered;      /* an offer is being held */
	int held;          /* its connection */
	bool freed_early;  /* an idle connection was closed while the offer was unanswered */
	bool done;
};

static bool read_exact(int fd, void *buf, size_t n)
{
	uint8_t *b = buf;
	while (n) {
		ssize_t k = recv(fd, b, n, 0);
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

/* One request (its block read and dropped): its op and HMAC, or false at the end of the stream. */
static bool read_request(int fd, uint8_t *op, uint8_t mac[MAC_BYTES])
{
	uint8_t head[8], word[8];
	if (!read_exact(fd, head, sizeof(head)))
		return false;
	REQUIRE(!memcmp(head, "SLPG", 4) && head[4] == 1);
	*op = head[5];
	size_t klen = (size_t)head[6] << 8 | head[7];
	char key[SL_KEY_MAX];
	REQUIRE(klen < sizeof(key) && read_exact(fd, key, klen) && read_exact(fd, word, 8));
	if (*op == OP_GET) {
		REQUIRE(read_exact(fd, word, 8)); /* offset, length */
	} else {
		REQUIRE(*op == OP_OFFER && read_exact(fd, word, 4));
		uint32_t len = (uint32_t)word[0] << 24 | (uint32_t)word[1] << 16 |
			       (uint32_t)word[2] << 8 | word[3];
		REQUIRE(len == BLK);
		uint8_t *block = malloc(len);
		REQUIRE(block && read_exact(fd, block, len));
		free(block);
	}
	return read_exact(fd, mac, MAC_BYTES);
}

/* An answer without bytes, with the HMAC a member computes. */
static void answer(const struct owner *o, int fd, const uint8_t reqmac[MAC_BYTES], uint8_t status)
{
	uint8_t covered[MAC_BYTES + 5] = {0};
	memcpy(covered, reqmac, MAC_BYTES);
	covered[MAC_BYTES] = status;
	uint8_t out[5 + MAC_BYTES] = {status};
	unsigned len = 0;
	REQUIRE(HMAC(EVP_sha256(), o->key, MAC_BYTES, covered, sizeof(covered), out + 5, &len) &&
		len == MAC_BYTES);
	REQUIRE(send(fd, out, sizeof(out), MSG_NOSIGNAL) == (ssize_t)sizeof(out));
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Holds the offer on o->held until another connection ends or HOLD_MS pass, then takes it. */
static void hold_offer(struct owner *o, const uint8_t reqmac[MAC_BYTES])
{
	int64_t until = mono_ms() + HOLD_MS;
	for (int64_t left; !o->freed_early && (left = until - mono_ms()) > 0;) {
		struct pollfd pf[MAX_FDS];
		nfds_t n = 0;
		for (size_t i = 0; i < o->nfds; i++)
			if (o->fds[i] != o->held)
				pf[n++] = (struct pollfd){.fd = o->fds[i], .events = POLLIN};
		if (poll(pf, n, (int)left) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			char c;
			/* nothing else is asked meanwhile: readable is the end of the stream */
			if (pf[i].revents && recv(pf[i].fd, &c, 1, MSG_PEEK) <= 0)
				o->freed_early = true;
		}
	}
	answer(o, o->held, reqmac, 0);
}

static void *owner_main(void *arg)
{
	struct owner *o = arg;
	uint8_t op, mac[MAC_BYTES];
	/* two GETs at once: two connections, one of which stays idle in the reader's pool (the
	 * other carries the readahead's GET and offer) and is closed when its group is freed */
	uint8_t macs[2][MAC_BYTES];
	for (int i = 0; i < 2; i++) {
		int fd = accept(o->lfd, NULL, NULL);
		REQUIRE(fd >= 0);
		o->fds[o->nfds++] = fd;
		REQUIRE(read_request(fd, &op, macs[i]) && op == OP_GET);
	}
	for (int i = 0; i < 2; i++)
		answer(o, o->fds[i], macs[i], ENOENT);
	/* the readahead: a GET (nobody has it), then the offer of what it downloaded */
	for (;;) {
		struct pollfd pf[MAX_FDS + 1] = {{.fd = o->lfd, .events = POLLIN}};
		for (size_t i = 0; i < o->nfds; i++)
			pf[i + 1] = (struct pollfd){.fd = o->fds[i], .events = POLLIN};
		REQUIRE(poll(pf, o->nfds + 1, -1) > 0);
		if (pf[0].revents) {
			int fd = accept(o->lfd, NULL, NULL);
			REQUIRE(fd >= 0 && o->nfds < MAX_FDS);
			o->fds[o->nfds++] = fd;
			continue;
		}
		for (size_t i = 0; i < o->nfds; i++) {
			if (!pf[i + 1].revents)
				continue;
			int fd = o->fds[i];
			REQUIRE(read_request(fd, &op, mac));
			if (op == OP_GET) {
				answer(o, fd, mac, ENOENT);
				continue;
			}
			pthread_mutex_lock(&o->lock);
			o->offered = true;
			o->held = fd;
			pthread_cond_broadcast(&o->changed);
			pthread_mutex_unlock(&o->lock);
			hold_offer(o, mac);
			return NULL;
		}
	}
}

struct fetch_arg {
	sluice_volume *v;
	const char *key;
	int rc;
	uint8_t buf[BLK];
};

static void *fetch_main(void *arg)
{
	struct fetch_arg *f = arg;
	f->rc = sl_peers_fetch(f->v->core.peers, f->key, NULL, 0, f->buf, BLK);
	return NULL;
}

static unsigned long long block_id;
static int find_block(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	unsigned long long id;
	unsigned indx, len;
	if (flag == FTW_F && tu_block_file(path, &id, &indx, &len) && indx == 0 && len == BLK)
		block_id = id;
	return 0;
}

int main(void)
{
	char *dir = tu_tempdir("peers-shutdown");
	char meta[1100], bucket[1100], msg[512];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = meta, .name = "peervol", .storage = "file",
				    .bucket = bucket, .trash_days = 0, .block_size_kib = BLK / 1024};
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);

	/* a file of one block, in object storage only */
	sluice_kv plain[] = {{"meta", meta}};
	sluice_volume *w;
	REQUIRE(sluice_init(plain, 1, &w, msg, sizeof(msg)) == 0);
	static uint8_t data[BLK];
	memset(data, 0x5a, sizeof(data));
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/f", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	CHECK_RC(sluice_write(f, data, BLK), BLK);
	CHECK_RC(sluice_close(f), 0);
	sluice_shutdown(w);
	nftw(bucket, find_block, 16, FTW_PHYS);
	REQUIRE(block_id != 0);

	/* the block's owner, 127.0.0.2, is the test's */
	struct owner o = {.held = -1};
	pthread_mutex_init(&o.lock, NULL);
	pthread_cond_init(&o.changed, NULL);
	o.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	socklen_t alen = sizeof(a);
	REQUIRE(o.lfd >= 0 && !bind(o.lfd, (struct sockaddr *)&a, sizeof(a)) &&
		!listen(o.lfd, 8) && !getsockname(o.lfd, (struct sockaddr *)&a, &alen));
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));

	/* a reader outside the node list, without a disk cache of its own: what it downloads is
	 * offered to the owner; its timeout is longer than the owner's hold */
	sluice_kv rconf[] = {{"meta", meta}, {"nodes", "127.0.0.2"}, {"cache-group.port", port},
			     {"cache-group.host", "127.0.0.9"}, {"cache-group.serve", "false"},
			     {"cache-group.timeout", "30000"}};
	sluice_volume *r;
	REQUIRE(sluice_init(rconf, sizeof(rconf) / sizeof(rconf[0]), &r, msg, sizeof(msg)) == 0);
	REQUIRE(r->core.peers != NULL);
	struct sl_err err = {0};
	REQUIRE(sl_meta_volume_key(r->core.meta, KEY_LABEL, o.key, &err) == 0);
	char key[SL_KEY_MAX];
	sl_block_key(&r->core.layout, block_id, 0, BLK, key);

	pthread_t ot;
	REQUIRE(pthread_create(&ot, NULL, owner_main, &o) == 0);
	static struct fetch_arg fa[2];
	for (int i = 0; i < 2; i++)
		fa[i] = (struct fetch_arg){.v = r, .key = key};
	pthread_t ft[2];
	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&ft[i], NULL, fetch_main, &fa[i]) == 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(ft[i], NULL);
		CHECK_RC(fa[i].rc, -ENOENT);
	}

	/* readahead of the block: the download pool fetches it from object storage and offers it */
	sl_blockcache_prefetch(r->core.cache, block_id, BLK, 0, NULL);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&o.lock);
	while (!o.offered && pthread_cond_timedwait(&o.changed, &o.lock, &until) == 0)
		;
	bool offered = o.offered;
	pthread_mutex_unlock(&o.lock);
	REQUIRE(offered);

	/* the reader is done and shuts down, the offer still unanswered */
	sluice_shutdown(r);
	pthread_join(ot, NULL);
	/* the group lived until the offer had its answer ... */
	CHECK(!o.freed_early);
	/* ... and the offer's connection, back in the pool, was closed with it */
	struct pollfd pf = {.fd = o.held, .events = POLLIN};
	char c;
	CHECK(poll(&pf, 1, 5000) == 1 && recv(o.held, &c, 1, 0) == 0);

	for (size_t i = 0; i < o.nfds; i++)
		close(o.fds[i]);
	close(o.lfd);
	pthread_cond_destroy(&o.changed);
	pthread_mutex_destroy(&o.lock);
	CHECK(tu_rm_rf(dir) == 0);
	free(dir);
	return tu_finish("test_vfs_peers_shutdown");
}
