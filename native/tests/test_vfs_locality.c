/* test_vfs_locality.c - the block placement policy: the consistent hash ring of locality.c (stable,
 * weighted, minimal movement, distinct replicas, strict parsing) and its use by sluice_file_blocks. */
#include <stdint.h>
#include <unistd.h>

#include "sluice.h"
#include "testutil.h"
#include "../src/vfs/vfs.h"

#define NBLOCKS 100000

static struct sl_ring *ring(const char *spec)
{
	struct sl_ring *r = NULL;
	struct sl_err err = {0};
	int rc = sl_ring_new(spec, &r, &err);
	if (rc)
		fprintf(stderr, "sl_ring_new(%s): %s\n", spec, err.msg);
	REQUIRE(rc == 0 && r != NULL);
	return r;
}

static size_t host_index(const struct sl_ring *r, const char *h)
{
	for (size_t i = 0; i < sl_ring_nhosts(r); i++)
		if (!strcmp(sl_ring_host(r, i), h))
			return i;
	REQUIRE(!"host not in ring");
	return 0;
}

/* Same block -> same hosts, across calls and across separately built rings (as two processes
 * would build them), whatever the order of the list. */
static void test_stable(void)
{
	struct sl_ring *a = ring("alpha:2,beta,gamma:3,delta");
	struct sl_ring *b = ring("delta, gamma:3 ,beta,alpha:2");
	for (uint64_t i = 0; i < 2000; i++) {
		uint64_t ino = 1000 + i / 7, idx = i % 7;
		const char *h1[4], *h2[4], *h3[4];
		size_t n1 = sl_ring_lookup(a, ino, idx, h1, 3);
		size_t n2 = sl_ring_lookup(a, ino, idx, h2, 3);
		size_t n3 = sl_ring_lookup(b, ino, idx, h3, 3);
		CHECK_RC(n1, 3);
		CHECK_RC(n2, 3);
		CHECK_RC(n3, 3);
		for (size_t k = 0; k < 3 && k < n1 && k < n3; k++) {
			CHECK(h1[k] == h2[k]); /* pointers into the ring */
			CHECK(!strcmp(h1[k], h3[k]));
		}
	}
	/* fixed answers: a change of the hash would move every cached block of every cluster */
	const char *h[1];
	CHECK_RC(sl_ring_lookup(a, 1, 0, h, 1), 1);
	const char *first = h[0];
	struct sl_ring *c = ring("alpha:2,beta,gamma:3,delta");
	CHECK_RC(sl_ring_lookup(c, 1, 0, h, 1), 1);
	CHECK(!strcmp(first, h[0]));
	sl_ring_free(c);
	sl_ring_free(a);
	sl_ring_free(b);
}

/* Weights 1:2:3 give shares near 1/6, 2/6, 3/6. */
static void test_weights(void)
{
	struct sl_ring *r = ring("small:1,medium:2,large:3");
	const char *names[3] = {"small", "medium", "large"};
	size_t count[3] = {0}, idx[3];
	for (int i = 0; i < 3; i++)
		idx[i] = host_index(r, names[i]);
	for (uint64_t i = 0; i < NBLOCKS; i++) {
		const char *h[1];
		REQUIRE(sl_ring_lookup(r, 5000 + i / 16, i % 16, h, 1) == 1);
		size_t hi = host_index(r, h[0]);
		for (int k = 0; k < 3; k++)
			count[k] += idx[k] == hi;
	}
	for (int i = 0; i < 3; i++) {
		double share = (double)count[i] / NBLOCKS, want = (i + 1) / 6.0;
		printf("weight %d: share %.4f (want %.4f)\n", i + 1, share, want);
		/* within 2.5 points of the share, and within 8% of it */
		CHECK(share > want - 0.025 && share < want + 0.025);
		CHECK(share > want * 0.92 && share < want * 1.08);
	}
	sl_ring_free(r);
}

/* A fourth node of equal weight takes about a quarter of the blocks, all from the others; no
 * block moves between the old nodes. */
static void test_add_node(void)
{
	struct sl_ring *before = ring("n1,n2,n3");
	struct sl_ring *after = ring("n1,n2,n3,n4");
	size_t moved = 0, moved_elsewhere = 0;
	for (uint64_t i = 0; i < NBLOCKS; i++) {
		const char *h0[1], *h1[1];
		REQUIRE(sl_ring_lookup(before, 42 + i / 32, i % 32, h0, 1) == 1);
		REQUIRE(sl_ring_lookup(after, 42 + i / 32, i % 32, h1, 1) == 1);
		if (strcmp(h0[0], h1[0])) {
			moved++;
			if (strcmp(h1[0], "n4"))
				moved_elsewhere++;
		}
	}
	double frac = (double)moved / NBLOCKS;
	printf("adding a 4th node moved %.4f of the blocks\n", frac);
	CHECK(frac > 0.20 && frac < 0.30);
	CHECK_RC(moved_elsewhere, 0);
	/* and removing it again moves exactly those back: the replica sets too only gain n4 */
	for (uint64_t i = 0; i < 5000; i++) {
		const char *h0[3], *h1[3];
		REQUIRE(sl_ring_lookup(before, 7 + i, 0, h0, 2) == 2);
		REQUIRE(sl_ring_lookup(after, 7 + i, 0, h1, 2) == 2);
		for (int k = 0; k < 2; k++) {
			bool kept = !strcmp(h1[k], "n4");
			for (int j = 0; j < 2; j++)
				kept |= !strcmp(h1[k], h0[j]);
			CHECK(kept);
		}
	}
	sl_ring_free(before);
	sl_ring_free(after);
}

/* Replicas are distinct and capped at the number of hosts. */
static void test_replicas(void)
{
	struct sl_ring *r = ring("a:1000,b,c");
	for (uint64_t i = 0; i < 3000; i++) {
		const char *h[4] = {0};
		size_t n = sl_ring_lookup(r, 9, i, h, 4);
		CHECK_RC(n, 3);
		CHECK(h[0] && h[1] && h[2] && strcmp(h[0], h[1]) && strcmp(h[0], h[2]) &&
		      strcmp(h[1], h[2]));
		CHECK(h[3] == NULL);
	}
	struct sl_ring *one = ring("solo");
	const char *h[4];
	CHECK_RC(sl_ring_lookup(one, 1, 2, h, 3), 1);
	CHECK(!strcmp(h[0], "solo"));
	CHECK_RC(sl_ring_lookup(one, 1, 2, h, 0), 0);
	sl_ring_free(one);
	sl_ring_free(r);
}

static void expect_bad(const char *spec, const char *needle)
{
	struct sl_ring *r = (struct sl_ring *)1;
	struct sl_err err = {0};
	CHECK_RC(sl_ring_new(spec, &r, &err), -EINVAL);
	CHECK(r == NULL);
	if (!strstr(err.msg, needle)) {
		fprintf(stderr, "'%s': message '%s' lacks '%s'\n", spec, err.msg, needle);
		tu_failures++;
	}
}

static void test_malformed(void)
{
	expect_bad("", "entry 1");
	expect_bad("a,,b", "entry 2");
	expect_bad("a,b,", "entry 3");
	expect_bad("a:0", "'a:0'");
	expect_bad("a,b:1001", "'b:1001'");
	expect_bad("a:x", "'a:x'");
	expect_bad("a:", "'a:'");
	expect_bad("a:-1", "'a:-1'");
	expect_bad("a:1:2", "'a:1:2'");
	expect_bad(":3", "no host name");
	expect_bad("good,bad host", "'bad host'");
	expect_bad("a,b,a:2", "listed twice");
	expect_bad("a:1000,b:1000,c:1000,d:1000,e:1000,f:1000,g:1000,h:1000,i:1000,j:1000,k:1",
		   "add up to 10001");
	struct sl_ring *r = ring(" a:1 , b:1000 ");
	CHECK_RC(sl_ring_nhosts(r), 2);
	CHECK(!strcmp(sl_ring_host(r, 0), "a") && !strcmp(sl_ring_host(r, 1), "b"));
	sl_ring_free(r);
}

static int open_vol(const char *url, const char *nodes, const char *replicas, sluice_volume **vol,
		    char *msg, size_t msize)
{
	sluice_kv conf[4];
	size_t n = 0;
	conf[n++] = (sluice_kv){"meta", url};
	conf[n++] = (sluice_kv){"block.size", "1M"};
	if (nodes)
		conf[n++] = (sluice_kv){"nodes", nodes};
	if (replicas)
		conf[n++] = (sluice_kv){"cache-replicas", replicas};
	return sluice_init(conf, n, vol, msg, msize);
}

/* Through the public API: sluice_file_blocks fills the hosts from "nodes", two volume handles
 * agree, and bad settings fail sluice_init with a message naming them. */
static void write_text(sluice_volume *vol, const char *path, const char *text)
{
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE | SLUICE_O_MKDIRS,
			    0644, 022, &f) == 0);
	CHECK_RC(sluice_write(f, text, strlen(text)), (long long)strlen(text));
	CHECK_RC(sluice_close(f), 0);
}

/* A nodes list kept in a file on the volume: read at init, re-read every nodes-refresh seconds;
 * a malformed rewrite keeps the ring there is. */
static void test_nodes_file(const char *url)
{
	char msg[512];
	sluice_volume *writer = NULL, *vol = NULL;
	REQUIRE(open_vol(url, NULL, NULL, &writer, msg, sizeof(msg)) == 0);
	write_text(writer, "/.sluice/nodes", "# cache nodes\nn1\nn2:2\n");
	sluice_kv conf[] = {{"meta", url}, {"nodes", "/.sluice/nodes"}, {"nodes-refresh", "1"}};
	REQUIRE(sluice_init(conf, 3, &vol, msg, sizeof(msg)) == 0);
	sluice_block b[2];
	CHECK_RC(sluice_file_blocks(vol, NULL, "/multi", 0, 1, b, 2), 1);
	CHECK(b[0].nhosts == 1 && (!strcmp(b[0].hosts[0], "n1") || !strcmp(b[0].hosts[0], "n2")));
	const char *before = b[0].hosts[0];

	write_text(writer, "/.sluice/nodes", "n9\n");
	int changed = 0;
	for (int i = 0; i < 40 && !changed; i++) { /* refreshed within about a second */
		usleep(100 * 1000);
		CHECK_RC(sluice_file_blocks(vol, NULL, "/multi", 0, 1, b, 2), 1);
		changed = b[0].nhosts == 1 && !strcmp(b[0].hosts[0], "n9");
	}
	CHECK(changed);
	CHECK(strlen(before) == 2); /* hosts handed out earlier stay valid */

	write_text(writer, "/.sluice/nodes", "n9:zz\n"); /* malformed: the old ring stays */
	usleep(1500 * 1000);
	CHECK_RC(sluice_file_blocks(vol, NULL, "/multi", 0, 1, b, 2), 1);
	CHECK(b[0].nhosts == 1 && !strcmp(b[0].hosts[0], "n9"));
	CHECK_RC(sluice_shutdown(vol), 0);
	CHECK_RC(sluice_shutdown(writer), 0);
}

static void test_volume(void)
{
	char *dir = tu_tempdir("locality");
	char url[1024], bucket[1024], msg[512], cmd[1100];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = url, .name = "locvol", .storage = "file",
				    .bucket = bucket, .trash_days = -1};
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);

	const char *nodes = "h1:1,h2:2,h3:3";
	sluice_volume *a = NULL, *b = NULL, *plain = NULL;
	REQUIRE(open_vol(url, nodes, "2", &a, msg, sizeof(msg)) == 0);
	REQUIRE(open_vol(url, "h3:3,h2:2,h1", "2", &b, msg, sizeof(msg)) == 0);
	REQUIRE(open_vol(url, NULL, NULL, &plain, msg, sizeof(msg)) == 0);

	static char data[(5u << 20) + 123];
	memset(data, 'x', sizeof(data));
	sluice_file *f;
	REQUIRE(sluice_open(a, NULL, "/multi", SLUICE_O_WRITE | SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK_RC(sluice_write(f, data, sizeof(data)), sizeof(data));
	CHECK_RC(sluice_close(f), 0);

	sluice_block ba[8], bb[8], bp[8];
	CHECK_RC(sluice_file_blocks(a, NULL, "/multi", 0, sizeof(data), ba, 8), 6);
	CHECK_RC(sluice_file_blocks(b, NULL, "/multi", 0, sizeof(data), bb, 8), 6);
	CHECK_RC(sluice_file_blocks(plain, NULL, "/multi", 0, sizeof(data), bp, 8), 6);
	for (int i = 0; i < 6; i++) {
		CHECK(ba[i].offset == (uint64_t)i << 20 && bb[i].index == (uint64_t)i);
		CHECK_RC(ba[i].nhosts, 2);
		CHECK_RC(bb[i].nhosts, 2);
		CHECK_RC(bp[i].nhosts, 0);
		for (int k = 0; k < 2 && k < ba[i].nhosts && k < bb[i].nhosts; k++) {
			CHECK(!strcmp(ba[i].hosts[k], bb[i].hosts[k]));
			CHECK(strstr("h1 h2 h3", ba[i].hosts[k]) != NULL);
		}
		CHECK(ba[i].nhosts < 2 || strcmp(ba[i].hosts[0], ba[i].hosts[1]));
	}
	/* a range in the middle gives the same hosts for the same block */
	CHECK_RC(sluice_file_blocks(a, NULL, "/multi", (3u << 20) + 5, 10, bb, 8), 1);
	CHECK(bb[0].index == 3 && bb[0].nhosts == 2 && !strcmp(bb[0].hosts[0], ba[3].hosts[0]));
	CHECK_RC(sluice_shutdown(a), 0);
	CHECK_RC(sluice_shutdown(b), 0);
	CHECK_RC(sluice_shutdown(plain), 0);

	sluice_volume *bad = (sluice_volume *)1;
	CHECK_RC(open_vol(url, "h1,h2:zz", NULL, &bad, msg, sizeof(msg)), -EINVAL);
	CHECK(bad == NULL && strstr(msg, "'h2:zz'") != NULL);
	CHECK_RC(open_vol(url, nodes, "5", &bad, msg, sizeof(msg)), -EINVAL);
	CHECK(bad == NULL && strstr(msg, "cache-replicas") != NULL);
	CHECK_RC(open_vol(url, nodes, "0", &bad, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "cache-replicas") != NULL);
	/* more replicas than hosts: capped */
	REQUIRE(open_vol(url, "only", "4", &a, msg, sizeof(msg)) == 0);
	CHECK_RC(sluice_file_blocks(a, NULL, "/multi", 0, 1, ba, 8), 1);
	CHECK(ba[0].nhosts == 1 && !strcmp(ba[0].hosts[0], "only"));
	CHECK_RC(sluice_shutdown(a), 0);

	test_nodes_file(url);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_RC(system(cmd), 0);
	free(dir);
}

int main(void)
{
	test_stable();
	test_weights();
	test_add_node();
	test_replicas();
	test_malformed();
	test_volume();
	return tu_finish("test_vfs_locality");
}
