/* test_vfs_peers.c - the cache group (peer.c) with three nodes on loopback addresses 127.0.0.2-4
 * (weights 1:2:3), each a volume handle of its own with its own cache dir, in this process: a
 * block cached on the nodes is read by another client from them, not from object storage (whose
 * objects are deleted first, so nothing else could answer); a node that stopped costs a fallback,
 * not a failure; a corrupted cached copy is not served; a client of another volume (its own group
 * key) is refused by the servers and reads from its own store; replicated hflush (below). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice.h"
#include "testutil.h"
#include "vfs/vfs.h"

#define MiB (1u << 20)
#define FILE_LEN (6 * 4 * MiB + 12345) /* 7 blocks of 4 MiB, the last one short */
#define NBLOCKS 7
#define NODES "127.0.0.2:1,127.0.0.3:2,127.0.0.4:3"

static char dir[1024], port[16];

static uint8_t byte_at(size_t i, unsigned seed)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

/* A free TCP port on 127.0.0.2 (the same number is free on the other addresses in practice). */
static void pick_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	socklen_t len = sizeof(a);
	REQUIRE(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
		!getsockname(fd, (struct sockaddr *)&a, &len));
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	close(fd);
}

static void format(const char *meta, const char *name, const char *bucket)
{
	char msg[512];
	sluice_format_options fo = {.meta_url = meta, .name = name, .storage = "file",
				    .bucket = bucket, .trash_days = 0};
	int rc = sluice_format(&fo, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "format: %s\n", msg);
	REQUIRE(rc == 0);
}

/* A node (host) of the group on volume meta, with a cache dir of its own unless cache is NULL;
 * with bucket, an object store of its own instead of the volume's. */
static sluice_volume *node_on(const char *meta, const char *host, const char *cache,
			      const char *bucket)
{
	char cdir[1100], msg[1024];
	snprintf(cdir, sizeof(cdir), "%s/cache-%s", dir, cache ? cache : "");
	sluice_kv conf[11] = {
		{"meta", meta},
		{"nodes", NODES},
		{"cache-group.port", port},
		{"cache-group.host", host},
		{"cache-group.timeout", "2000"},
		{"get-timeout", "1"}, /* a block no one has fails the read at once */
		{"free-space-ratio", "0"},
	};
	size_t n = 7;
	if (cache)
		conf[n++] = (sluice_kv){"cache-dir", cdir};
	if (bucket) {
		conf[n++] = (sluice_kv){"bucket", bucket};
		conf[n++] = (sluice_kv){"io-retries", "1"};
	}
	sluice_volume *v = NULL;
	int rc = sluice_init(conf, n, &v, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "node %s: %s\n", host, msg);
	REQUIRE(rc == 0);
	return v;
}

static sluice_volume *node(const char *meta, const char *host, const char *cache)
{
	return node_on(meta, host, cache, NULL);
}

static int check_file(sluice_volume *v, const char *path, unsigned seed)
{
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(FILE_LEN);
	ssize_t n = sluice_pread(f, buf, FILE_LEN, 0);
	sluice_close(f);
	if (n != FILE_LEN) {
		free(buf);
		return n < 0 ? (int)n : -EIO;
	}
	for (size_t i = 0; i < FILE_LEN; i++)
		if (buf[i] != byte_at(i, seed)) {
			free(buf);
			return -EBADMSG;
		}
	free(buf);
	return 0;
}

static void write_file(sluice_volume *v, const char *path, unsigned seed)
{
	uint8_t *buf = malloc(FILE_LEN);
	for (size_t i = 0; i < FILE_LEN; i++)
		buf[i] = byte_at(i, seed);
	sluice_file *f;
	REQUIRE(sluice_open(v, NULL, path, SLUICE_O_CREATE, 0644, 0, &f) == 0);
	CHECK_RC(sluice_write(f, buf, FILE_LEN), FILE_LEN);
	CHECK_RC(sluice_close(f), 0);
	free(buf);
}

/* Deletes every file under root whose name has the block key's shape (id_indx_len). */
static int blocks_seen;
static int delete_block(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	const char *base = strrchr(path, '/');
	unsigned long long id;
	unsigned indx, len;
	char extra;
	if (flag == FTW_F && base && sscanf(base + 1, "%llu_%u_%u%c", &id, &indx, &len, &extra) == 3) {
		blocks_seen++;
		unlink(path);
	}
	return 0;
}

static int nblocks_under(const char *root)
{
	blocks_seen = 0;
	nftw(root, delete_block, 16, FTW_PHYS);
	return blocks_seen;
}

/* Flips a byte in the middle of every cached block file under root. */
static int corrupt_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	const char *base = strrchr(path, '/');
	unsigned long long id;
	unsigned indx, len;
	char extra;
	if (flag == FTW_F && base && sscanf(base + 1, "%llu_%u_%u%c", &id, &indx, &len, &extra) == 3) {
		int fd = open(path, O_RDWR);
		if (fd >= 0) {
			uint8_t b;
			off_t at = st->st_size / 2;
			if (pread(fd, &b, 1, at) == 1) {
				b ^= 0x5a;
				CHECK(pwrite(fd, &b, 1, at) == 1);
				blocks_seen++;
			}
			close(fd);
		}
	}
	return 0;
}

static uint64_t gets(sluice_volume *v)
{
	return atomic_load(&v->core.store->stats.gets);
}

/* Replicated hflush: a writer whose uploads all fail (its node's link to object storage is down)
 * hflushes records; each is kept on another owner too, so a reader on another node reads them at
 * once from the group, and once the writer's node is gone (its cache dir deleted) the holders
 * upload them: a client without the group reads every acknowledged record from object storage. */
enum { RECORDS = 30, RECORD_LEN = 1000 };

static void test_replicated_hflush(const char *meta)
{
	char broken[1100];
	snprintf(broken, sizeof(broken), "%s/meta.db/not-a-directory", dir);
	sluice_volume *w = node_on(meta, "127.0.0.2", "w", broken);
	sluice_volume *b = node(meta, "127.0.0.3", "b2");
	sluice_volume *c = node(meta, "127.0.0.4", "c2");
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/wal", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	uint8_t rec[RECORD_LEN];
	for (int i = 0; i < RECORDS; i++) {
		for (size_t k = 0; k < sizeof(rec); k++)
			rec[k] = byte_at((size_t)i * RECORD_LEN + k, 3);
		CHECK_RC(sluice_write(f, rec, sizeof(rec)), sizeof(rec));
		CHECK_RC(sluice_hflush(f), 0);
	}
	const struct sl_peer_stats *ws = sl_peers_stats(w->core.peers);
	CHECK(atomic_load(&ws->replicated) >= RECORDS);
	CHECK(atomic_load(&ws->degraded) == 0);
	CHECK(atomic_load(&sl_peers_stats(b->core.peers)->kept) +
	      atomic_load(&sl_peers_stats(c->core.peers)->kept) >= RECORDS);

	/* a reader on a node of its own: every record at once, none from object storage */
	sluice_volume *r = node(meta, "127.0.0.9", NULL);
	uint64_t g0 = gets(r);
	uint8_t *got = malloc(RECORDS * RECORD_LEN);
	sluice_file *g;
	REQUIRE(sluice_open(r, NULL, "/wal", SLUICE_O_READ, 0, 0, &g) == 0);
	CHECK_RC(sluice_pread(g, got, RECORDS * RECORD_LEN, 0), RECORDS * RECORD_LEN);
	sluice_close(g);
	for (size_t i = 0; i < RECORDS * RECORD_LEN; i++)
		if (got[i] != byte_at(i, 3)) {
			CHECK(!"a record differs");
			break;
		}
	CHECK(gets(r) == g0);
	sluice_shutdown(r);

	/* the writer's node is lost: its process ends without uploading, its disk goes */
	CHECK(sluice_close(f) < 0); /* close waits for object storage, which refuses */
	sluice_shutdown(w);
	char wcache[1100];
	snprintf(wcache, sizeof(wcache), "%s/cache-w", dir);
	CHECK(nblocks_under(wcache) >= 1);
	CHECK(sl_peers_sweep(b->core.peers, 0) + sl_peers_sweep(c->core.peers, 0) >= RECORDS);

	/* every acknowledged record is in object storage now */
	char msg[512];
	sluice_kv plain[] = {{"meta", meta}};
	REQUIRE(sluice_init(plain, 1, &r, msg, sizeof(msg)) == 0);
	REQUIRE(sluice_open(r, NULL, "/wal", SLUICE_O_READ, 0, 0, &g) == 0);
	memset(got, 0, RECORDS * RECORD_LEN);
	CHECK_RC(sluice_pread(g, got, RECORDS * RECORD_LEN, 0), RECORDS * RECORD_LEN);
	sluice_close(g);
	for (size_t i = 0; i < RECORDS * RECORD_LEN; i++)
		if (got[i] != byte_at(i, 3)) {
			CHECK(!"a record differs after the takeover");
			break;
		}
	free(got);
	sluice_shutdown(r);
	sluice_shutdown(b);
	sluice_shutdown(c);
}

int main(void)
{
	char *tmp = tu_tempdir("peers");
	snprintf(dir, sizeof(dir), "%s", tmp);
	free(tmp);
	pick_port();
	char meta[1100], bucket[1100];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	format(meta, "peervol", bucket);

	sluice_volume *a = node(meta, "127.0.0.2", "a");
	sluice_volume *b = node(meta, "127.0.0.3", "b");
	sluice_volume *c = node(meta, "127.0.0.4", "c");
	CHECK(sl_peers_serving(a->core.peers) && sl_peers_serving(b->core.peers) &&
	      sl_peers_serving(c->core.peers));

	/* A writes; B and C read everything (B's and C's caches now hold every block). */
	write_file(a, "/f", 1);
	CHECK_RC(check_file(b, "/f", 1), 0);
	CHECK_RC(check_file(c, "/f", 1), 0);

	/* object storage loses the blocks: only the group can answer now */
	CHECK_RC(nblocks_under(bucket), NBLOCKS);

	/* a client on node A's address (A serves the port; this one only reads from the group)
	 * without a cache of its own reads every block from B or C */
	sluice_volume *d = node(meta, "127.0.0.2", NULL);
	CHECK(!sl_peers_serving(d->core.peers));
	uint64_t g0 = gets(d);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK(gets(d) == g0); /* nothing from object storage */
	const struct sl_peer_stats *ds = sl_peers_stats(d->core.peers);
	CHECK_RC((int)atomic_load(&ds->fetched), NBLOCKS);
	uint64_t served = atomic_load(&sl_peers_stats(b->core.peers)->served) +
			  atomic_load(&sl_peers_stats(c->core.peers)->served);
	CHECK(served >= NBLOCKS);
	sluice_shutdown(d);

	/* C stops: the blocks it owned come from B; a stopped node costs a refused connection */
	sluice_shutdown(c);
	d = node(meta, "127.0.0.2", NULL);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(d->core.peers)->fetched), NBLOCKS);
	sluice_shutdown(d);

	/* B's copies are corrupted: its disk cache finds out and serves none of them (and drops
	 * them), so with C gone no copy is left anywhere; the read fails with an error, in time */
	char bcache[1100];
	snprintf(bcache, sizeof(bcache), "%s/cache-b", dir);
	blocks_seen = 0;
	nftw(bcache, corrupt_one, 16, FTW_PHYS);
	CHECK(blocks_seen >= NBLOCKS);
	uint64_t served_b = atomic_load(&sl_peers_stats(b->core.peers)->served);
	d = node(meta, "127.0.0.2", NULL);
	CHECK(check_file(d, "/f", 1) < 0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(d->core.peers)->fetched), 0);
	CHECK(atomic_load(&sl_peers_stats(b->core.peers)->served) == served_b);
	sluice_shutdown(d);

	/* a volume of its own (another secret, so another group key) with the same node names:
	 * B refuses its requests, and it reads its own store */
	char meta2[1100], bucket2[1100];
	snprintf(meta2, sizeof(meta2), "sqlite3://%s/meta2.db", dir);
	snprintf(bucket2, sizeof(bucket2), "%s/data2", dir);
	format(meta2, "othervol", bucket2);
	sluice_volume *e = node(meta2, "127.0.0.2", NULL); /* 127.0.0.2's port is A's: not served */
	write_file(e, "/g", 2);
	sluice_shutdown(e);
	e = node(meta2, "127.0.0.9", NULL); /* not in the list: asks two owners, A or B among them */
	uint64_t refused0 = atomic_load(&sl_peers_stats(a->core.peers)->refused) +
			    atomic_load(&sl_peers_stats(b->core.peers)->refused);
	CHECK_RC(check_file(e, "/g", 2), 0);
	CHECK(atomic_load(&sl_peers_stats(a->core.peers)->refused) +
	      atomic_load(&sl_peers_stats(b->core.peers)->refused) > refused0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(e->core.peers)->fetched), 0);
	sluice_shutdown(e);

	sluice_shutdown(a);
	sluice_shutdown(b);
	test_replicated_hflush(meta);
	return tu_finish("test_vfs_peers");
}
