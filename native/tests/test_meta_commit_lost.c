/* test_meta_commit_lost.c - a COMMIT whose reply is lost. A small TCP proxy between the metadata
 * client and MariaDB cuts the connection at a COMMIT: either right after the server answered it
 * (the transaction happened, the client cannot know) or before forwarding it (it did not). Every
 * kind of modifying operation then must succeed, and its effect must be there exactly once: a
 * retried mknod does not fail with EEXIST for the file it created itself, a retried rename not
 * with ENOENT, a write_chunk is not appended twice, a counter not added twice, a claim not
 * found held by its own first attempt, and so on. The state is checked through a second handle
 * that talks to the server directly. The proxy also counts round trips: what a counter, a mknod,
 * a rename and an unlink each cost. Then the claim slots on MariaDB (meta_claim_checks.h). Last,
 * a server that stays away: the operation gives up after meta-retry-seconds, naming the database
 * once. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "meta/meta.h"
#include "meta/sql_driver.h"
#include "meta_claim_checks.h"
#include "util/retry.h"
#include "testutil.h"

/* ---- the proxy -------------------------------------------------------------------------------- */

enum cut { CUT_NONE, CUT_AFTER_REPLY, CUT_BEFORE };

#define MAX_CONNS 512

static struct {
	int listen_fd;
	struct sockaddr_in server;
	atomic_int mode;        /* enum cut */
	atomic_int commits;     /* COMMITs seen */
	atomic_int cuts;        /* connections cut */
	atomic_int commands;    /* client commands forwarded: round trips */
	atomic_bool stopping;
	atomic_bool down;       /* the server is unreachable: connections are cut and refused */
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_t threads[MAX_CONNS];
	int fds[MAX_CONNS][2];
	int nconns;
} px;

struct relay {
	int client, server;
};

/* A client packet that is COM_QUERY ending in COMMIT: "COMMIT" alone, or the last of several
 * statements, after the writes the driver deferred to it (the MySQL protocol: 3 bytes length, 1
 * byte sequence, then the command byte, 0x03 for a query, and its text). */
static bool is_commit(const uint8_t *p, size_t len)
{
	if (len < 7 || p[0] != 0x03 || strncasecmp((const char *)p + len - 6, "COMMIT", 6))
		return false;
	return len == 7 || (len >= 9 && !memcmp(p + len - 8, "; ", 2));
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Whether this COMMIT is cut: CUT_AFTER_REPLY cuts every one (the retry of an operation that
 * happened needs no COMMIT); CUT_BEFORE every other one, so that the retry gets through. */
static enum cut cut_this_commit(void)
{
	int n = atomic_fetch_add(&px.commits, 1);
	enum cut m = (enum cut)atomic_load(&px.mode);
	if (m == CUT_BEFORE && n % 2)
		return CUT_NONE;
	return m;
}

static void *relay_main(void *arg)
{
	struct relay r = *(struct relay *)arg;
	free(arg);
	uint8_t *buf = malloc(1 << 20); /* client bytes not forwarded yet (partial packets) */
	size_t have = 0;
	uint8_t tmp[65536];
	REQUIRE(buf != NULL);
	for (;;) {
		struct pollfd p[2] = {{r.client, POLLIN, 0}, {r.server, POLLIN, 0}};
		if (poll(p, 2, 200) < 0 || atomic_load(&px.stopping) || atomic_load(&px.down))
			break;
		if (p[1].revents) { /* server to client: relayed as it comes */
			ssize_t n = recv(r.server, tmp, sizeof(tmp), 0);
			if (n <= 0 || !send_all(r.client, tmp, (size_t)n))
				break;
		}
		if (!p[0].revents)
			continue;
		ssize_t n = recv(r.client, buf + have, (1 << 20) - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		/* Forward whole packets; look at each. */
		size_t off = 0;
		bool cut = false;
		while (have - off >= 4) {
			size_t len = buf[off] | buf[off + 1] << 8 | (size_t)buf[off + 2] << 16;
			if (have - off < 4 + len)
				break;
			enum cut c = is_commit(buf + off + 4, len) ? cut_this_commit() : CUT_NONE;
			if (buf[off + 3] == 0) /* a command's first packet */
				atomic_fetch_add(&px.commands, 1);
			if (c == CUT_BEFORE) {
				cut = true;
				break;
			}
			if (!send_all(r.server, buf + off, 4 + len)) {
				cut = true;
				break;
			}
			off += 4 + len;
			if (c == CUT_AFTER_REPLY) {
				/* The server has the COMMIT; wait for its answer, then drop it. */
				struct pollfd s = {r.server, POLLIN, 0};
				if (poll(&s, 1, 10000) == 1)
					(void)recv(r.server, tmp, sizeof(tmp), 0);
				cut = true;
				break;
			}
		}
		if (cut) {
			atomic_fetch_add(&px.cuts, 1);
			break;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	free(buf);
	shutdown(r.client, SHUT_RDWR);
	shutdown(r.server, SHUT_RDWR);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(px.listen_fd, NULL, NULL);
		if (c < 0)
			break;
		if (atomic_load(&px.down)) {
			close(c);
			continue;
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);
		REQUIRE(s >= 0);
		if (connect(s, (struct sockaddr *)&px.server, sizeof(px.server))) {
			close(c);
			close(s);
			continue;
		}
		struct relay *r = malloc(sizeof(*r));
		REQUIRE(r != NULL);
		*r = (struct relay){c, s};
		pthread_mutex_lock(&px.lock);
		REQUIRE(px.nconns < MAX_CONNS);
		px.fds[px.nconns][0] = c;
		px.fds[px.nconns][1] = s;
		REQUIRE(pthread_create(&px.threads[px.nconns], NULL, relay_main, r) == 0);
		px.nconns++;
		pthread_mutex_unlock(&px.lock);
	}
	return NULL;
}

static int proxy_start(const char *host, int port)
{
	memset(&px.server, 0, sizeof(px.server));
	px.server.sin_family = AF_INET;
	px.server.sin_port = htons((uint16_t)port);
	REQUIRE(inet_pton(AF_INET, host, &px.server.sin_addr) == 1);
	pthread_mutex_init(&px.lock, NULL);
	px.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(px.listen_fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	REQUIRE(bind(px.listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(px.listen_fd, 64) == 0);
	REQUIRE(getsockname(px.listen_fd, (struct sockaddr *)&a, &alen) == 0);
	REQUIRE(pthread_create(&px.acceptor, NULL, accept_main, NULL) == 0);
	return ntohs(a.sin_port);
}

static void proxy_stop(void)
{
	atomic_store(&px.stopping, true);
	shutdown(px.listen_fd, SHUT_RDWR);
	pthread_join(px.acceptor, NULL);
	close(px.listen_fd);
	for (int i = 0; i < px.nconns; i++) {
		pthread_join(px.threads[i], NULL);
		close(px.fds[i][0]);
		close(px.fds[i][1]);
	}
	pthread_mutex_destroy(&px.lock);
}

/* ---- the checks ------------------------------------------------------------------------------- */

static struct sl_meta *m;  /* through the proxy */
static struct sl_meta *md; /* directly */
static const char *admin;
static struct tu_mysql_db db;
static const struct sl_meta_user root_u = {.uid = 0, .gids = {0}, .ngids = 1, .superuser = true};

/* One number from the database, through the admin client. */
static int64_t q1(const char *fmt, ...)
{
	char sql[512], cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s -N -B -D %s -e \"%s\"", admin, db.name, sql);
	FILE *p = popen(cmd, "r");
	REQUIRE(p != NULL);
	long long v = -999;
	if (fscanf(p, "%lld", &v) != 1)
		v = -998;
	pclose(p);
	return v;
}

static int report(const char *what, int rc, const struct sl_err *err)
{
	if (rc)
		fprintf(stderr, "%s: %d %s\n", what, rc, err->msg);
	return rc;
}

static size_t records(sl_ino ino, uint32_t indx, uint64_t id)
{
	struct sl_err err = {0};
	struct sl_slice *ss = NULL;
	size_t n = 0, found = 0;
	CHECK_RC(report("read_chunk", sl_meta_read_chunk(md, NULL, ino, indx, &ss, &n, &err), &err),
		 0);
	for (size_t i = 0; i < n; i++)
		found += !id || ss[i].id == id;
	free(ss);
	return found;
}

static bool exists(sl_ino parent, const char *name, sl_ino *ino)
{
	struct sl_err err = {0};
	struct sl_attr a;
	sl_ino i = 0;
	int rc = sl_meta_lookup(md, &root_u, parent, name, &i, &a, &err);
	if (ino)
		*ino = i;
	return rc == 0;
}

static uint32_t nlink(sl_ino ino)
{
	struct sl_err err = {0};
	struct sl_attr a = {0};
	CHECK_RC(sl_meta_getattr(md, NULL, ino, &a, &err), 0);
	return a.nlink;
}

struct dead {
	uint64_t ids[16];
	int n;
};

static int on_dead(void *arg, uint64_t id, uint32_t size)
{
	(void)size;
	struct dead *d = arg;
	if (d->n < 16)
		d->ids[d->n++] = id;
	return 0;
}

static uint64_t slice_id(void)
{
	struct sl_err err = {0};
	uint64_t id = 0;
	CHECK_RC(report("next slice id", sl_meta_next_slice_id(m, &id, &err), &err), 0);
	return id;
}

/* Every modifying slot, each checked for an effect applied exactly once. tag names the round. */
static void round_of_ops(const char *tag)
{
	struct sl_err err = {0};
	struct sl_attr a;
	struct sl_removed rm;
	sl_ino f = 0, d = 0, g = 0;
	char name[64], dname[64];
	int before = tu_failures, cuts = atomic_load(&px.cuts);

	/* mknod of a file and of a directory */
	snprintf(name, sizeof(name), "file-%s", tag);
	snprintf(dname, sizeof(dname), "dir-%s", tag);
	uint32_t root_links = nlink(SL_ROOT_INO);
	CHECK_RC(report("mknod", sl_meta_mknod(m, &root_u, SL_ROOT_INO, name, SL_TYPE_FILE, 0644, 0,
					       NULL, &f, &a, &rm, &err), &err), 0);
	sl_ino seen = 0;
	CHECK(exists(SL_ROOT_INO, name, &seen) && seen == f);
	CHECK_RC(report("mkdir", sl_meta_mknod(m, &root_u, SL_ROOT_INO, dname, SL_TYPE_DIR, 0755, 0,
					       NULL, &d, &a, &rm, &err), &err), 0);
	CHECK_RC(nlink(SL_ROOT_INO), root_links + 1);

	/* write_chunk, twice */
	uint64_t s1 = slice_id(), s2 = slice_id();
	struct sl_slice sl1 = {.pos = 0, .id = s1, .size = 1000, .len = 1000};
	struct sl_slice sl2 = {.pos = 1000, .id = s2, .size = 500, .len = 500};
	CHECK_RC(report("write_chunk", sl_meta_write_chunk(m, &root_u, NULL, f, 0, &sl1, 1, &a, &err), &err),
		 0);
	CHECK_RC(report("write_chunk", sl_meta_write_chunk(m, &root_u, NULL, f, 0, &sl2, 2, &a, &err), &err),
		 0);
	CHECK_RC(records(f, 0, s1), 1);
	CHECK_RC(records(f, 0, s2), 1);
	CHECK_RC(q1("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, s1), 1);
	CHECK_RC(a.length, 1500);

	/* truncate: one hole record, not two */
	CHECK_RC(report("truncate", sl_meta_truncate(m, &root_u, f, 1200, &a, &err), &err), 0);
	CHECK_RC(records(f, 0, 0), 3);

	/* setxattr with CREATE: a retry must not find "its" attribute and fail */
	CHECK_RC(report("setxattr", sl_meta_setxattr(m, &root_u, f, "user.k", "v", 1,
						     SL_XATTR_CREATE, &err), &err), 0);

	/* counters: added once */
	int64_t v0 = 0, v1 = 0;
	CHECK_RC(sl_meta_incr_counter(md, "sluiceTestCounter", 0, &v0, &err), 0);
	CHECK_RC(report("incr_counter", sl_meta_incr_counter(m, "sluiceTestCounter", 7, &v1, &err),
			&err), 0);
	CHECK_RC(v1, v0 + 7);
	CHECK_RC(q1("SELECT value FROM jfs_counter WHERE name = 'sluiceTestCounter'"), v0 + 7);

	/* compact_chunk: the callback hears of each dead slice once */
	struct sl_slice *ss = NULL;
	size_t n = 0;
	CHECK_RC(sl_meta_read_chunk(md, NULL, f, 0, &ss, &n, &err), 0);
	uint64_t merged_id = slice_id();
	struct sl_slice merged = {.pos = 0, .id = merged_id, .size = 1500, .len = 1500};
	struct dead dead = {0};
	CHECK_RC(report("compact_chunk", sl_meta_compact_chunk(m, &root_u, NULL, f, 0, ss, n, 0, &merged,
							       on_dead, &dead, &err), &err), 0);
	free(ss);
	CHECK_RC(dead.n, 2); /* s1 and s2; the hole has no slice */
	CHECK_RC(records(f, 0, 0), 1);
	CHECK_RC(records(f, 0, merged_id), 1);
	CHECK_RC(q1("SELECT refs FROM jfs_chunk_ref WHERE chunkid = %" PRIu64, merged_id), 1);

	/* concat: another file's slice moves over once */
	snprintf(name, sizeof(name), "src-%s", tag);
	CHECK_RC(report("mknod", sl_meta_mknod(m, &root_u, d, name, SL_TYPE_FILE, 0644, 0, NULL, &g,
					       &a, &rm, &err), &err), 0);
	uint64_t s3 = slice_id();
	struct sl_slice sl3 = {.pos = 0, .id = s3, .size = 300, .len = 300};
	CHECK_RC(report("write_chunk", sl_meta_write_chunk(m, &root_u, NULL, g, 0, &sl3, 3, &a, &err), &err),
		 0);
	CHECK_RC(report("concat", sl_meta_concat(m, &root_u, f, &g, 1, &err), &err), 0);
	CHECK_RC(records(f, 0, s3), 1);
	CHECK(!exists(d, name, NULL));
	CHECK_RC(sl_meta_getattr(md, NULL, f, &a, &err), 0);
	CHECK_RC(a.length, 1500);

	/* rename into the directory, and back under another name */
	snprintf(name, sizeof(name), "file-%s", tag);
	CHECK_RC(report("rename", sl_meta_rename(m, &root_u, SL_ROOT_INO, name, d, "moved", 0, &rm,
						 &err), &err), 0);
	CHECK(!exists(SL_ROOT_INO, name, NULL));
	CHECK(exists(d, "moved", &seen) && seen == f);

	/* block_claim: a retry does not take the claim its own first attempt made for another's */
	uint64_t cid = slice_id();
	enum sl_meta_claim claim = SL_CLAIM_HELD;
	CHECK_RC(report("block_claim", sl_meta_block_claim(m, cid, 0, 1, 300, &claim, &err), &err),
		 0);
	CHECK(claim == SL_CLAIM_WON);
	CHECK_RC(report("block_claim_end", sl_meta_block_claim_end(m, cid, 0, 1, true, &err), &err),
		 0);
	CHECK_RC(sl_meta_block_claim(md, cid, 0, 2, 300, &claim, &err), 0);
	CHECK(claim == SL_CLAIM_DONE);

	/* lease_release (its DELETE goes with the COMMIT): a retry finds the release done, not the
	 * lease lost */
	uint64_t sid = 0;
	struct sl_meta_lease lease;
	sl_ino lf = 0;
	snprintf(name, sizeof(name), "leased-%s", tag);
	CHECK_RC(sl_meta_new_session(md, "{\"HostName\":\"cut\"}", (int64_t)time(NULL) + 3600, &sid,
				     &err), 0);
	CHECK_RC(sl_meta_mknod_leased(md, &root_u, d, name, 0644, 0, sid, &lease, &lf, &a, &rm,
				      &err), 0);
	CHECK_RC(report("lease_release", sl_meta_lease_release(m, lf, &lease, &err), &err), 0);
	CHECK_RC(q1("SELECT COUNT(*) FROM sluice_lease WHERE inode = %" PRIu64, lf), 0);
	/* gone now (asked directly: a release whose commit's answer is lost counts as done, as
	 * no lease of the stream is left either way) */
	CHECK_RC(sl_meta_lease_release(md, lf, &lease, &err), -SL_ELEASE_LOST);
	CHECK_RC(sl_meta_unlink(md, &root_u, d, name, &rm, &err), 0);
	CHECK_RC(sl_meta_close_session(md, sid, &err), 0);

	/* unlink and rmdir */
	CHECK_RC(report("unlink", sl_meta_unlink(m, &root_u, d, "moved", &rm, &err), &err), 0);
	CHECK(!exists(d, "moved", NULL));
	CHECK_RC(q1("SELECT COUNT(*) FROM jfs_delfile WHERE inode = %" PRIu64, f), 1);
	CHECK_RC(report("rmdir", sl_meta_rmdir(m, &root_u, SL_ROOT_INO, dname, &err), &err), 0);
	CHECK(!exists(SL_ROOT_INO, dname, NULL));
	CHECK_RC(nlink(SL_ROOT_INO), root_links);

	printf("%s: %d connections cut at a COMMIT; %s\n", tag, atomic_load(&px.cuts) - cuts,
	       tu_failures == before ? "every operation happened once" : "FAILED");
	if (atomic_load(&px.mode) != CUT_NONE)
		CHECK(atomic_load(&px.cuts) - cuts >= 12);
}

/* Round trips to the server per operation, counted as client commands at the proxy, with every
 * statement prepared already (each is run once before it is counted): a write transaction's
 * BEGIN, operation id and deferred writes travel with its queries and its COMMIT. */
static int round_trips(const char *what, int rc, int before, int most)
{
	int n = atomic_load(&px.commands) - before;
	printf("round trips: %-12s %d (at most %d)\n", what, n, most);
	CHECK_RC(rc, 0);
	CHECK(n <= most);
	return n;
}

static void test_round_trips(void)
{
	struct sl_err err = {0};
	struct sl_attr a;
	struct sl_removed rm;
	sl_ino f, d;
	int64_t v;
	int n;
	/* pass 0 prepares the statements; pass 1 counts */
	CHECK_RC(sl_meta_mknod(m, &root_u, SL_ROOT_INO, "rt-dir", SL_TYPE_DIR, 0755, 0, NULL, &d,
			       &a, &rm, &err), 0);
	uint64_t sid = 0;
	CHECK_RC(sl_meta_new_session(m, "{\"HostName\":\"rt\"}", (int64_t)time(NULL) + 3600, &sid,
				     &err), 0);
	for (int pass = 0; pass < 2; pass++) {
		char name[32], moved[32];
		snprintf(name, sizeof(name), "rt-%d", pass);
		snprintf(moved, sizeof(moved), "rt-moved-%d", pass);
		n = atomic_load(&px.commands);
		int rc = sl_meta_incr_counter(m, "sluiceTestCounter", 1, &v, &err);
		if (pass)
			round_trips("incr_counter", rc, n, 2);
		n = atomic_load(&px.commands);
		rc = sl_meta_mknod(m, &root_u, d, name, SL_TYPE_FILE, 0644, 0, NULL, &f, &a, &rm,
				   &err);
		if (pass)
			round_trips("mknod", rc, n, 2);
		n = atomic_load(&px.commands);
		rc = sl_meta_rename(m, &root_u, d, name, SL_ROOT_INO, moved, 0, &rm, &err);
		if (pass)
			round_trips("rename", rc, n, 3);
		n = atomic_load(&px.commands);
		rc = sl_meta_unlink(m, &root_u, SL_ROOT_INO, moved, &rm, &err);
		if (pass)
			round_trips("unlink", rc, n, 3);
		struct sl_meta_lease lease;
		CHECK_RC(sl_meta_mknod_leased(m, &root_u, d, name, 0644, 0, sid, &lease, &f, &a, &rm,
					      &err), 0);
		n = atomic_load(&px.commands);
		rc = sl_meta_lease_release(m, f, &lease, &err);
		if (pass)
			round_trips("lease_release", rc, n, 1);
		CHECK_RC(sl_meta_unlink(m, &root_u, d, name, &rm, &err), 0);
	}
	CHECK_RC(sl_meta_close_session(m, sid, &err), 0);
	CHECK_RC(sl_meta_rmdir(m, &root_u, SL_ROOT_INO, "rt-dir", &err), 0);
}

/* A database that stays away: an operation retries for meta-retry-seconds, then fails with a
 * message that names the database once. */
static void test_gives_up(const char *proxied)
{
	const char *keys[] = {"meta-retry-seconds"}, *values[] = {"2"};
	struct sl_conf *conf;
	REQUIRE(sl_conf_new(keys, values, 1, &conf) == 0);
	struct sl_meta *mg;
	struct sl_err err = {0};
	REQUIRE(sl_meta_open(proxied, conf, NULL, &mg, &err) == 0);
	atomic_store(&px.down, true);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int64_t v = 0;
	int rc = sl_meta_incr_counter(mg, "sluiceTestCounter", 1, &v, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("an unreachable database: gave up after %.1f s: %s\n", took, err.msg);
	CHECK(sl_retryable(rc));
	CHECK(took >= 1.9 && took < 5);
	CHECK(strstr(err.msg, "gave up after 2 s") != NULL);
	const char *first = strstr(err.msg, "connecting to");
	CHECK(first && !strstr(first + 1, "connecting to"));
	atomic_store(&px.down, false);
	sl_meta_close(mg);
	sl_conf_free(conf);
}

int main(void)
{
	const char *base = tu_service_env("SLUICE_TEST_MYSQL_URL");
	admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN");
	const char *host = tu_service_env("SLUICE_TEST_MYSQL_HOST");
	int port = atoi(tu_service_env("SLUICE_TEST_MYSQL_PORT"));
	tu_mysql_db_create(&db, "commit_lost");

	/* The same URL with the database replaced, directly and through the proxy. */
	const char *at = strrchr(base, '@'), *slash = strrchr(base, '/');
	REQUIRE(at && slash && slash > at);
	const char *direct = db.url;
	char proxied[1024];
	int pport = proxy_start(host, port);
	snprintf(proxied, sizeof(proxied), "%.*s@(127.0.0.1:%d)/%s", (int)(at - base), base, pport,
		 db.name);

	struct sl_err err = {0};
	REQUIRE(sl_meta_open(direct, NULL, NULL, &md, &err) == 0);
	const char *fmt = "{\"Name\": \"lost\", \"UUID\": \"00000000-0000-0000-0000-00000000c0de\","
			  " \"Storage\": \"file\", \"BlockSize\": 4096}";
	struct sl_attr root = {.type = SL_TYPE_DIR, .mode = 0777, .nlink = 2, .length = 4096};
	REQUIRE(sl_meta_format(md, fmt, &root, false, &err) == 0);
	REQUIRE(sl_meta_open(proxied, NULL, NULL, &m, &err) == 0);

	round_of_ops("none"); /* the proxy itself changes nothing */
	CHECK_RC(atomic_load(&px.cuts), 0);
	test_round_trips();
	atomic_store(&px.mode, CUT_AFTER_REPLY);
	round_of_ops("after-reply");
	atomic_store(&px.mode, CUT_BEFORE);
	round_of_ops("before");
	atomic_store(&px.mode, CUT_NONE);
	check_block_claims(m, md);
	test_gives_up(proxied);

	sl_meta_close(m);
	sl_meta_close(md);
	proxy_stop();
	CHECK(tu_mysql_db_drop(&db) == 0);
	return tu_finish("test_meta_commit_lost");
}
