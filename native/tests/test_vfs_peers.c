/* test_vfs_peers.c - the cache group (peer.c) with three nodes on loopback addresses 127.0.0.2-4
 * (weights 1:2:3), each a volume handle of its own with its own cache dir, in this process: a
 * cold read puts each block in its owner's cache, in the proportions of the weights, on the host
 * getFileBlockLocations names for it; a stopped
 * node costs a fallback to object storage, not a failure; blocks cached in the group are read
 * from it, not from object storage (whose objects are deleted first, so nothing else could
 * answer), also by `sluice cache-server` in place of a client; a corrupted cached copy is not
 * served; a client of another volume (its own group
 * key) is refused by the servers and reads from its own store; replicated hflush with a writer
 * killed with SIGKILL (below: holders keep small replicas in their journals alone, serve them
 * from there, and write their files when they sweep), and each block it left uploaded exactly
 * once by the nodes that keep it, on SQLite + files and on MariaDB + S3. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfs/vfs.h"
#include "volume_testutil.h"

#define MiB (1u << 20)
#define BLOCK_KIB 64 /* many blocks, so that the shares of the weights show */
#define FILE_LEN (64 * MiB + 12345)
#define NBLOCKS 1025 /* of 64 KiB, the last one short */
#define NODES "127.0.0.2:1,127.0.0.3:2,127.0.0.4:3"

static char dir[1024], port[16];

static uint8_t byte_at(size_t i, unsigned seed)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

/* A free TCP port on 127.0.0.2 (the same number is free on the other addresses in practice). */
static void pick_port(void)
{
	snprintf(port, sizeof(port), "%d", tu_free_port("127.0.0.2"));
}

static void format(const char *meta, const char *name, const char *bucket)
{
	sluice_format_options fo = {.meta_url = meta, .name = name, .storage = "file",
				    .bucket = bucket, .trash_days = 0, .block_size_kib = BLOCK_KIB};
	tu_format(&fo);
}

/* A node (host) of the group on volume meta, with a cache dir of its own unless cache is NULL;
 * with bucket, an object store of its own instead of the volume's. */
static sluice_volume *node_on(const char *meta, const char *host, const char *cache,
			      const char *bucket, const char *cache_size)
{
	char cdir[1100], msg[1024];
	snprintf(cdir, sizeof(cdir), "%s/cache-%s", dir, cache ? cache : "");
	sluice_kv conf[14] = {
		{"meta", meta},
		{"nodes", NODES},
		{"cache-group.port", port},
		{"cache-group.host", host},
		{"cache-group.timeout", "2000"},
		{"get-timeout", "1"}, /* a block no one has fails the read at once */
		{"free-space-ratio", "0"},
		{"cache-writers", "0"}, /* every block offered is kept, so the counts are exact */
		{"block.size", "65536"}, /* logical blocks (placement) as small as stored blocks */
	};
	size_t n = 9;
	if (cache)
		conf[n++] = (sluice_kv){"cache-dir", cdir};
	if (cache_size)
		conf[n++] = (sluice_kv){"cache-size", cache_size};
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
	return node_on(meta, host, cache, NULL, NULL);
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
	unsigned long long id;
	unsigned indx, len;
	if (flag == FTW_F && tu_block_file(path, &id, &indx, &len)) {
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
	unsigned long long id;
	unsigned indx, len;
	if (flag == FTW_F && tu_block_file(path, &id, &indx, &len)) {
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

/* ---- replicated hflush, with a writer killed with SIGKILL ----------------------------------- *
 * The writer is node 127.0.0.2 in a process of its own, whose object store refuses everything
 * (its node's link to object storage is down): THREADS threads append 1 KiB records to files of
 * their own, hflush each, and report each acknowledged end on stdout. It is killed, and its cache
 * dir deleted (the node is lost). A reader on another node has read every acknowledged record
 * from the group meanwhile; the holders then upload the replicas, and a client without the group
 * reads every acknowledged record from object storage. */
enum { THREADS = 4, RECORD_LEN = 1024, KILL_AFTER = 120 };
#define HOLD 3600 /* a grace period no replica of a test reaches: a sweep only writes files */

static int writer_main(char **argv)
{
	/* --writer META BUCKET CACHEDIR PORT REPLICAS */
	sluice_kv conf[] = {
		{"meta", argv[2]}, {"bucket", argv[3]}, {"cache-dir", argv[4]},
		{"cache-group.port", argv[5]}, {"cache-group.host", "127.0.0.2"},
		{"nodes", NODES}, {"free-space-ratio", "0"}, {"io-retries", "1"},
		{"block.size", "65536"},
		{"connect-timeout", "1"},
		{"hflush.replicas", argv[6]},
	};
	sluice_volume *vol;
	char msg[512];
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &vol, msg, sizeof(msg))) {
		fprintf(stderr, "writer: %s\n", msg);
		return 1;
	}
	return tu_run_wal_writers(vol, THREADS, "wal", SLUICE_O_CREATE | SLUICE_O_OVERWRITE,
				  byte_at, 0, RECORD_LEN);
}

static int read_records(sluice_volume *v, int t, size_t len)
{
	char path[32];
	snprintf(path, sizeof(path), "/wal-%d", t);
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_READ, 0, 0, &f);
	if (rc == -ENOENT && !len)
		return 0; /* killed before this thread's create committed: it acknowledged nothing */
	if (rc)
		return rc;
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n = sluice_pread(f, buf, len, 0);
	sluice_close(f);
	rc = n < 0 ? (int)n : (size_t)n != len ? -EIO : 0;
	for (size_t i = 0; !rc && i < len; i++)
		if (buf[i] != byte_at(i, (unsigned)t))
			rc = -EBADMSG;
	free(buf);
	return rc;
}

/* Runs the writer (cache dir wcache, object store broken, hflush.replicas) until it
 * acknowledged KILL_AFTER records, then kills it with SIGKILL; acked[t] gets thread t's
 * acknowledged length. */
static void wal_until_killed(const char *self, const char *meta, const char *broken,
			     const char *wcache, const char *replicas, size_t acked[THREADS])
{
	char *const wargv[] = {(char *)self, "--writer", (char *)meta, (char *)broken,
			       (char *)wcache, port, (char *)replicas, NULL};
	tu_kill_after_acks(wargv, THREADS, KILL_AFTER, acked);
}

/* The replicas the holders keep as files (a small one has none until its holder's sweep). */
enum { MAX_KEYS = 4096 };
static char *replica_keys[MAX_KEYS];
static int nreplica_keys;

/* Notes the key of each replica file under a cache dir, once whichever holder keeps it. */
static int note_replica(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	const char *at = strstr(path, "/replicas/");
	if (flag != FTW_F || !at || path[ftw->base] == '.')
		return 0;
	const char *key = at + strlen("/replicas/");
	for (int i = 0; i < nreplica_keys; i++)
		if (!strcmp(replica_keys[i], key))
			return 0;
	REQUIRE(nreplica_keys < MAX_KEYS);
	replica_keys[nreplica_keys++] = strdup(key);
	return 0;
}

static void forget_replica_keys(void)
{
	for (int i = 0; i < nreplica_keys; i++)
		free(replica_keys[i]);
	nreplica_keys = 0;
}

/* The keys of the replicas the holders keep in their cache dirs: how many. */
static int replica_keys_under(const char *bdir, const char *cdir)
{
	forget_replica_keys();
	nftw(bdir, note_replica, 16, FTW_PHYS);
	nftw(cdir, note_replica, 16, FTW_PHYS);
	return nreplica_keys;
}

static void test_replicated_hflush(const char *self, const char *meta, const char *broken,
				   const char *tag)
{
	char wcache[1100], bname[32], cname[32], bdir[1100], cdir[1100];
	snprintf(wcache, sizeof(wcache), "%s/cache-w-%s", dir, tag);
	snprintf(bname, sizeof(bname), "b-%s", tag);
	snprintf(cname, sizeof(cname), "c-%s", tag);
	sluice_volume *b = node(meta, "127.0.0.3", bname);
	sluice_volume *c = node(meta, "127.0.0.4", cname);
	size_t acked[THREADS];
	int t;
	wal_until_killed(self, meta, broken, wcache, "2", acked);
	CHECK(atomic_load(&sl_peers_stats(b->core.peers)->kept) +
	      atomic_load(&sl_peers_stats(c->core.peers)->kept) >= KILL_AFTER);
	/* the replicas are small (the WAL's blocks): their holders' journals alone keep them */
	snprintf(bdir, sizeof(bdir), "%s/cache-%s", dir, bname);
	snprintf(cdir, sizeof(cdir), "%s/cache-%s", dir, cname);
	CHECK_RC(replica_keys_under(bdir, cdir), 0);

	/* a reader on a node of its own reads every acknowledged record, none from object storage
	 * (which never got them) and none from the writer (dead): from the replicas, in journals */
	sluice_volume *r = node(meta, "127.0.0.9", NULL);
	for (t = 0; t < THREADS; t++)
		CHECK_RC(read_records(r, t, acked[t]), 0);
	CHECK(atomic_load(&sl_peers_stats(r->core.peers)->fetched) > 0);
	sluice_shutdown(r);

	/* a sweep writes their files (and hands none over before its grace): all of them, as a
	 * clean stop, which writes the files of what only the journals hold, finds none left */
	CHECK_RC(sl_peers_sweep(b->core.peers, HOLD) + sl_peers_sweep(c->core.peers, HOLD), 0);
	int nfiles = replica_keys_under(bdir, cdir);
	CHECK(nfiles > 0);
	sluice_shutdown(b);
	sluice_shutdown(c);
	CHECK_RC(replica_keys_under(bdir, cdir), nfiles);
	forget_replica_keys();
	b = node(meta, "127.0.0.3", bname);
	c = node(meta, "127.0.0.4", cname);

	/* the writer's node is lost with its disk; the holders upload what they keep */
	CHECK(tu_rm_rf(wcache) == 0);
	CHECK(sl_peers_sweep(b->core.peers, 0) + sl_peers_sweep(c->core.peers, 0) >= 1);
	char msg[512];
	sluice_kv plain[] = {{"meta", meta}};
	REQUIRE(sluice_init(plain, 1, &r, msg, sizeof(msg)) == 0);
	for (t = 0; t < THREADS; t++)
		CHECK_RC(read_records(r, t, acked[t]), 0);
	sluice_shutdown(r);
	sluice_shutdown(b);
	sluice_shutdown(c);
}

/* ---- exactly one upload of each block a dead writer left ---------------------------------- *
 * With hflush.replicas=3 both other nodes keep a copy of every block the writer hflushed. The
 * writer is killed; its node is lost, or (takeover) a client starts on its cache dir and uploads
 * what the dead one staged while the holders hand over. The two holders hand over at the same
 * time, in rounds (a later one adopts what an earlier one left to another node): every
 * acknowledged record is read from object storage, and the nodes stored each block in it once
 * between them (their PUTs equal the number of replicated blocks that are in object storage). */
static int nstaged;
static int count_staged(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	unsigned long long id;
	unsigned indx, len;
	nstaged += flag == FTW_F && strstr(path, "/rawstaging/") && path[ftw->base] != '.' &&
		   tu_block_file(path, &id, &indx, &len);
	return 0;
}

static void *sweep_main(void *arg)
{
	sl_peers_sweep(arg, 0);
	return NULL;
}

/* A round of both holders' hand-over, at the same time. */
static void hand_over_round(sluice_volume *b, sluice_volume *c)
{
	pthread_t tb, tc;
	REQUIRE(pthread_create(&tb, NULL, sweep_main, b->core.peers) == 0);
	REQUIRE(pthread_create(&tc, NULL, sweep_main, c->core.peers) == 0);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
}

static uint64_t puts_of(sluice_volume *v)
{
	return v ? atomic_load(&v->core.store->stats.puts) : 0;
}

static void test_exactly_once(const char *self, const char *meta, const char *broken,
			      const char *tag, bool takeover)
{
	char wname[32], wcache[1100], bname[32], cname[32], bdir[1100], cdir[1100];
	snprintf(wname, sizeof(wname), "w3-%s-%d", tag, takeover);
	snprintf(bname, sizeof(bname), "b3-%s-%d", tag, takeover);
	snprintf(cname, sizeof(cname), "c3-%s-%d", tag, takeover);
	snprintf(wcache, sizeof(wcache), "%s/cache-%s", dir, wname);
	snprintf(bdir, sizeof(bdir), "%s/cache-%s", dir, bname);
	snprintf(cdir, sizeof(cdir), "%s/cache-%s", dir, cname);
	sluice_volume *b = node(meta, "127.0.0.3", bname);
	sluice_volume *c = node(meta, "127.0.0.4", cname);
	size_t acked[THREADS];
	wal_until_killed(self, meta, broken, wcache, "3", acked);
	/* each holder got every hflush's copy */
	CHECK(atomic_load(&sl_peers_stats(b->core.peers)->kept) >= KILL_AFTER);
	CHECK(atomic_load(&sl_peers_stats(c->core.peers)->kept) >= KILL_AFTER);
	/* their files, so that their keys can be counted */
	CHECK_RC(sl_peers_sweep(b->core.peers, HOLD) + sl_peers_sweep(c->core.peers, HOLD), 0);
	int nreplicated = replica_keys_under(bdir, cdir);
	CHECK(nreplicated > 0);

	uint64_t puts0 = puts_of(b) + puts_of(c);
	sluice_volume *w = NULL;
	if (takeover) {
		/* the client takes over the dead one's staging directory at start and uploads its
		 * blocks once they settled (5 s): the holders hand over meanwhile */
		w = node(meta, "127.0.0.2", wname);
		sleep(5);
	} else {
		CHECK(tu_rm_rf(wcache) == 0);
	}
	hand_over_round(b, c);
	hand_over_round(b, c);
	for (int waited = 0; takeover && waited < 600; waited++) {
		nstaged = 0;
		nftw(wcache, count_staged, 16, FTW_PHYS);
		if (!nstaged)
			break;
		usleep(100 * 1000);
	}
	CHECK_RC(nstaged, 0);
	hand_over_round(b, c);

	int stored = 0;
	for (int i = 0; i < nreplica_keys; i++) {
		struct sl_obj_info info;
		struct sl_err err = {0};
		stored += sl_obj_head(b->core.store, replica_keys[i], &info, &err) == 0;
	}
	uint64_t puts = puts_of(b) + puts_of(c) + puts_of(w) - puts0;
	fprintf(stderr, "  %s%s: %d replicated blocks, %d in object storage, %llu PUTs in all "
		"(%llu by the client that took over)\n", tag, takeover ? " (takeover)" : "",
		nreplicated, stored, (unsigned long long)puts, (unsigned long long)puts_of(w));
	CHECK(stored > 0);
	CHECK_RC(puts, (uint64_t)stored);
	/* the copies of what is stored went into the holders' caches: the replicas left are of
	 * slices never committed */
	int left = replica_keys_under(bdir, cdir);
	CHECK_RC(left, nreplicated - stored);
	forget_replica_keys();

	char msg[512];
	sluice_volume *r;
	sluice_kv plain[] = {{"meta", meta}};
	REQUIRE(sluice_init(plain, 1, &r, msg, sizeof(msg)) == 0);
	for (int t = 0; t < THREADS; t++)
		CHECK_RC(read_records(r, t, acked[t]), 0);
	sluice_shutdown(r);
	if (w)
		sluice_shutdown(w);
	sluice_shutdown(b);
	sluice_shutdown(c);
}

/* nftw helpers of test_holder_crash: replica files under a cache dir are emptied, as a crash
 * of the machine may leave files that were never synced, and journals counted; replica files
 * that are not empty counted. */
static int replicas_damaged, replicas_whole, journals_seen;
static int damage_replica(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	const char *name = path + ftw->base;
	if (flag != FTW_F || !strstr(path, "/replicas/"))
		return 0;
	if (!strcmp(name, ".journal"))
		journals_seen++;
	else if (name[0] != '.' && truncate(path, 0) == 0)
		replicas_damaged++;
	return 0;
}

static int count_whole(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	replicas_whole += flag == FTW_F && strstr(path, "/replicas/") &&
			  path[ftw->base] != '.' && st->st_size > 0;
	return 0;
}

static int count_journals(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	journals_seen += flag == FTW_F && !strcmp(path + ftw->base, ".journal");
	return 0;
}

/* A holder that crashes with its machine keeps the copies it acknowledged: they are journaled,
 * and the server that starts on its cache dir restores their files (which the crash lost, or
 * which the holder never wrote: small replicas have none before a sweep). The holder is a
 * `sluice cache-server` (127.0.0.3; 127.0.0.4 is down, so every copy goes to it); the writer is
 * killed and its node lost; the holder is killed, its replica files (if any) emptied, and
 * restarted: it has whole files again, and a reader gets every acknowledged record from it. */
static void test_holder_crash(const char *self, const char *meta, const char *broken)
{
	char cli[1100], hcache[1100], copt[1200], popt[64], wcache[1100];
	snprintf(cli, sizeof(cli), "%.*s/bin/sluice", (int)(strrchr(self, '/') - self), self);
	snprintf(hcache, sizeof(hcache), "%s/cache-holder", dir);
	snprintf(wcache, sizeof(wcache), "%s/cache-w-holder", dir);
	snprintf(copt, sizeof(copt), "cache-dir=%s", hcache);
	snprintf(popt, sizeof(popt), "cache-group.port=%s", port);
	char *const sargv[] = {cli, "cache-server", "-o", popt, "-o", "cache-group.host=127.0.0.3",
			       "-o", copt, "-o", "nodes=" NODES, "-o", "free-space-ratio=0",
			       (char *)meta, NULL};
	FILE *said;
	pid_t holder = tu_spawn(sargv, &said);
	char line[256] = "";
	CHECK(fgets(line, sizeof(line), said) && strstr(line, "serving volume peervol"));

	size_t acked[THREADS];
	int t;
	wal_until_killed(self, meta, broken, wcache, "2", acked);
	CHECK(tu_rm_rf(wcache) == 0);

	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	fclose(said);
	replicas_damaged = journals_seen = 0;
	nftw(hcache, damage_replica, 16, FTW_PHYS);
	CHECK_RC(journals_seen, 1);
	fprintf(stderr, "  holder crash: %d replica files emptied\n", replicas_damaged);

	holder = tu_spawn(sargv, &said);
	CHECK(fgets(line, sizeof(line), said) && strstr(line, "serving volume peervol"));
	replicas_whole = 0; /* restored from the journal before the server took connections */
	nftw(hcache, count_whole, 16, FTW_PHYS);
	CHECK(replicas_whole > 0);
	sluice_volume *r = node(meta, "127.0.0.9", NULL);
	for (t = 0; t < THREADS; t++)
		CHECK_RC(read_records(r, t, acked[t]), 0);
	CHECK(atomic_load(&sl_peers_stats(r->core.peers)->fetched) > 0);
	sluice_shutdown(r);
	kill(holder, SIGTERM);
	int status = 0;
	waitpid(holder, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(said);
	journals_seen = 0; /* a server that stops cleanly syncs its replicas and drops the journal */
	nftw(hcache, count_journals, 16, FTW_PHYS);
	CHECK_RC(journals_seen, 0);
}

/* A holder keeps replicas within its cache-size: cached blocks are evicted to make room for
 * them, and a replica that does not fit is refused, so that the writer counts the block as
 * degraded instead of filling the holder's disk. */
static void test_replica_room(const char *meta)
{
	/* C (127.0.0.4) is not running: every replica of W's blocks goes to H, or nowhere */
	sluice_volume *w = node(meta, "127.0.0.2", "room-w");
	sluice_volume *h = node_on(meta, "127.0.0.3", "room-h", NULL, "1M");
	enum { BLK = BLOCK_KIB * 1024, FILE_BYTES = BLK + 4 + 16, FIT = (1 << 20) / FILE_BYTES };
	static uint8_t blk[BLK];
	for (int i = 0; i < 12; i++) { /* blocks H cached for readers, nothing a writer needs */
		char key[64];
		snprintf(key, sizeof(key), "peervol/chunks/9/9/%d_0_%d", 900000 + i, BLK);
		memset(blk, i, sizeof(blk));
		CHECK(sl_diskcache_put(h->core.disk, key, blk, BLK, true));
	}
	uint64_t cached0, cached;
	sl_diskcache_usage(h->core.disk, &cached0, NULL, NULL);
	CHECK_RC(cached0, 12 * FILE_BYTES);
	uint64_t kept0 = atomic_load(&sl_peers_stats(h->core.peers)->kept);

	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/room", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 022,
			    &f) == 0);
	for (int i = 0; i < FIT + 5; i++) { /* a block per hflush */
		memset(blk, 100 + i, sizeof(blk));
		CHECK_RC(sluice_write(f, blk, BLK), BLK);
		CHECK_RC(sluice_hflush(f), 0);
		if (i == 7) { /* 8 replicas: cached blocks made way for them */
			sl_diskcache_usage(h->core.disk, &cached, NULL, NULL);
			CHECK(cached + 8 * FILE_BYTES <= (1 << 20));
			CHECK(cached < cached0);
			CHECK_RC(atomic_load(&sl_peers_stats(w->core.peers)->degraded), 0);
		}
	}
	/* as many as fit; the rest refused and counted by the writer */
	CHECK_RC(atomic_load(&sl_peers_stats(h->core.peers)->kept) - kept0, FIT);
	CHECK_RC(atomic_load(&sl_peers_stats(w->core.peers)->degraded), 5);
	sl_diskcache_usage(h->core.disk, &cached, NULL, NULL);
	CHECK_RC(cached, 0);
	CHECK_RC(sluice_close(f), 0);
	/* the writer uploaded everything: the holder's sweep hands the replicas over (into its
	 * cache, as far as it has room) and counts none as kept any more */
	sl_peers_sweep(h->core.peers, 0);
	sl_diskcache_usage(h->core.disk, &cached, NULL, NULL);
	CHECK(cached > 0 && cached <= (1 << 20));
	sluice_shutdown(w);
	sluice_shutdown(h);
}

int main(int argc, char **argv)
{
	if (argc > 6 && !strcmp(argv[1], "--writer")) {
		snprintf(port, sizeof(port), "%s", argv[5]);
		return writer_main(argv);
	}
	char self[1024];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(sn > 0);
	self[sn] = 0;
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

	/* A writes (a writer caches nothing); a client on a node outside the list reads the file
	 * cold: from object storage, and each block goes to its first owner's cache, in the
	 * proportions of the weights 1:2:3 */
	write_file(a, "/f", 1);
	sluice_volume *d = node(meta, "127.0.0.9", NULL);
	uint64_t g0 = gets(d);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK(gets(d) - g0 >= NBLOCKS);
	uint64_t shares[3] = {atomic_load(&sl_peers_stats(a->core.peers)->offered),
			      atomic_load(&sl_peers_stats(b->core.peers)->offered),
			      atomic_load(&sl_peers_stats(c->core.peers)->offered)};
	fprintf(stderr, "  blocks offered to A:B:C = %llu:%llu:%llu\n", (unsigned long long)shares[0],
		(unsigned long long)shares[1], (unsigned long long)shares[2]);
	CHECK_RC((int)(shares[0] + shares[1] + shares[2]), NBLOCKS);
	for (int i = 0; i < 3; i++) { /* within 6 points of 1/6, 2/6, 3/6 */
		double share = (double)shares[i] / NBLOCKS, want = (i + 1) / 6.0;
		CHECK(share > want - 0.06 && share < want + 0.06);
	}
	/* and on the hosts getFileBlockLocations names (a logical block per stored block here),
	 * where Hadoop runs the tasks that read them */
	sluice_block *blocks = calloc(NBLOCKS, sizeof(*blocks));
	CHECK_RC(sluice_file_blocks(d, NULL, "/f", 0, FILE_LEN, blocks, NBLOCKS), NBLOCKS);
	uint64_t located[3] = {0};
	for (int i = 0; i < NBLOCKS; i++)
		for (int h = 0; h < 3; h++) {
			char name[16];
			snprintf(name, sizeof(name), "127.0.0.%d", h + 2);
			located[h] += blocks[i].nhosts && !strcmp(blocks[i].hosts[0], name);
		}
	free(blocks);
	for (int h = 0; h < 3; h++)
		CHECK(located[h] == shares[h]);
	sluice_shutdown(d);

	/* C stops: its blocks cost a refused connection and come from object storage; the
	 * others come from A and B */
	sluice_shutdown(c);
	d = node(meta, "127.0.0.9", NULL);
	g0 = gets(d);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(d->core.peers)->fetched),
		 (int)(shares[0] + shares[1]));
	CHECK(gets(d) - g0 >= shares[2]);
	sluice_shutdown(d);
	c = node(meta, "127.0.0.4", "c"); /* back, with its disk cache */

	/* object storage loses the blocks: only the group can answer now, and it does */
	CHECK_RC(nblocks_under(bucket), NBLOCKS);
	d = node(meta, "127.0.0.9", NULL);
	g0 = gets(d);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK(gets(d) == g0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(d->core.peers)->fetched), NBLOCKS);
	sluice_shutdown(d);

	/* small random reads (a Parquet footer, an index lookup) fetch just their bytes from the
	 * owners, not whole blocks */
	d = node(meta, "127.0.0.9", NULL);
	sluice_file *rf;
	REQUIRE(sluice_open(d, NULL, "/f", SLUICE_O_READ, 0, 0, &rf) == 0);
	bool same = true;
	for (int i = 0; i < 64; i++) {
		uint8_t small[100];
		size_t at = ((size_t)i * 7919 * 4099) % (FILE_LEN - sizeof(small));
		CHECK_RC(sluice_pread(rf, small, sizeof(small), at), sizeof(small));
		for (size_t k = 0; k < sizeof(small); k++)
			same &= small[k] == byte_at(at + k, 1);
	}
	sluice_close(rf);
	CHECK(same);
	CHECK(gets(d) == 0);
	CHECK(atomic_load(&sl_peers_stats(d->core.peers)->fetched_bytes) < 64ull * BLOCK_KIB * 1024);
	sluice_shutdown(d);

	/* C's node runs `sluice cache-server` on C's cache dir instead of a client: it serves the
	 * same share */
	sluice_shutdown(c);
	c = NULL;
	char cli[1100], ccache[1100], copt[1200], popt[64];
	snprintf(cli, sizeof(cli), "%.*s/bin/sluice", (int)(strrchr(self, '/') - self), self);
	snprintf(ccache, sizeof(ccache), "%s/cache-c", dir);
	snprintf(copt, sizeof(copt), "cache-dir=%s", ccache);
	snprintf(popt, sizeof(popt), "cache-group.port=%s", port);
	char *const sargv[] = {cli, "cache-server", "-o", popt, "-o", "cache-group.host=127.0.0.4",
			       "-o", copt, "-o", "nodes=" NODES, "-o", "free-space-ratio=0", meta,
			       NULL};
	FILE *said;
	pid_t server = tu_spawn(sargv, &said);
	char line[256] = "";
	CHECK(fgets(line, sizeof(line), said) && strstr(line, "serving volume peervol"));
	/* a client on the cache server's host that only reads from the group */
	sluice_kv rconf[] = {{"meta", meta}, {"nodes", NODES}, {"cache-group.port", port},
			     {"cache-group.host", "127.0.0.4"}, {"cache-group.serve", "false"},
			     {"block.size", "65536"}};
	char rmsg[512];
	REQUIRE(sluice_init(rconf, sizeof(rconf) / sizeof(rconf[0]), &d, rmsg, sizeof(rmsg)) == 0);
	CHECK(d->core.peers && !sl_peers_serving(d->core.peers));
	g0 = gets(d);
	CHECK_RC(check_file(d, "/f", 1), 0);
	CHECK(gets(d) == g0);
	CHECK_RC((int)atomic_load(&sl_peers_stats(d->core.peers)->fetched), NBLOCKS);
	sluice_shutdown(d);
	kill(server, SIGTERM);
	int sstatus = 0;
	waitpid(server, &sstatus, 0);
	CHECK(WIFEXITED(sstatus) && WEXITSTATUS(sstatus) == 0);
	fclose(said);

	/* B's copies are corrupted: its disk cache finds out and serves none of them (and drops
	 * them); no copy of B's share is left, so the read fails with an error, in time */
	char bcache[1100];
	snprintf(bcache, sizeof(bcache), "%s/cache-b", dir);
	blocks_seen = 0;
	nftw(bcache, corrupt_one, 16, FTW_PHYS);
	CHECK(blocks_seen >= (int)shares[1]);
	uint64_t served_b = atomic_load(&sl_peers_stats(b->core.peers)->served);
	d = node(meta, "127.0.0.9", NULL);
	CHECK(check_file(d, "/f", 1) < 0);
	CHECK(atomic_load(&sl_peers_stats(b->core.peers)->served) == served_b);
	sluice_shutdown(d);

	/* a stranger's GET with the longest key the protocol allows, read in full before its HMAC
	 * can be checked (under ASan, a buffer too small for it is an error), is refused */
	{
		uint64_t refused0 = atomic_load(&sl_peers_stats(b->core.peers)->refused);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
		inet_pton(AF_INET, "127.0.0.3", &sa.sin_addr);
		REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		uint8_t req[8 + SL_KEY_MAX - 1 + 16 + 32];
		memset(req, 'k', sizeof(req));
		memcpy(req, "SLPG\1\1", 6);
		req[6] = (uint8_t)((SL_KEY_MAX - 1) >> 8);
		req[7] = (uint8_t)(SL_KEY_MAX - 1);
		CHECK(write(fd, req, sizeof(req)) == (ssize_t)sizeof(req));
		char c;
		CHECK(read(fd, &c, 1) == 0); /* closed without an answer */
		close(fd);
		CHECK_RC(atomic_load(&sl_peers_stats(b->core.peers)->refused) - refused0, 1);
	}

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
	char broken[1100];
	snprintf(broken, sizeof(broken), "%s/meta.db/not-a-directory", dir);
	test_replicated_hflush(self, meta, broken, "sqlite");
	test_replica_room(meta);
	test_holder_crash(self, meta, broken);
	test_exactly_once(self, meta, broken, "sqlite", false);
	test_exactly_once(self, meta, broken, "sqlite", true);

	/* on MariaDB + S3 too (make test's services) */
	struct tu_mysql_db db;
	if (tu_mysql_s3_volume(&db, "peers", "peervol", "lz4")) {
		test_replicated_hflush(self, db.url, "http://127.0.0.1:9/refused", "mysql");
		test_exactly_once(self, db.url, "http://127.0.0.1:9/refused", "mysql", false);
		test_exactly_once(self, db.url, "http://127.0.0.1:9/refused", "mysql", true);
		CHECK(tu_mysql_db_drop(&db) == 0);
	}
	return tu_finish("test_vfs_peers");
}
