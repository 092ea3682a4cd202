/*
 * test_gateway_grants.c - what a modified Kerberos client cannot do with slice ids (issue 20), on
 * the production stack: two gateways in this process serve one MariaDB + S3 volume, alice writes
 * through an ordinary client that holds no bucket keys, and bob sends hand-made requests. Bob
 * cannot commit an id he was not granted (the next one, read from a counter or guessed), another
 * user's granted id, an id with a size its blocks were not stored with, a compaction or a concat
 * that places slices of alice's files into his, and cannot read the counters that name the next
 * ids; alice's writes and reads go on unharmed. Also: error texts that name SQL or the database
 * reach the gateway's log, not the client; a client of both gateways goes on when one stops.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/internal.h"
#include "object/presign.h"
#include "rpc/conn.h"
#include "rpc/proto.h"
#include "sluice.h"
#include "gateway_testutil.h"
#include "testutil.h"
#include "volume_testutil.h"

#define VOL "gwgrants"
#define SERVICE "sluice/localhost@SLUICE.TEST"
#define MiB (1u << 20)

static const char *kdir, *admin;
static struct tu_mysql_db db;

static struct served gw_a, gw_b; /* two gateways of one volume */
static struct served gw_short;    /* a third, with gateway.grant-lifetime=2 */
/* The clock of the gateways and the clients, which decides a grant's age: moved on instead of
 * waiting for grants to age. */
static struct sl_clock test_clock;

static void serve(struct served *s, const char *meta, const char *rcache, const char *lifetime)
{
	char keytab[1100];
	snprintf(keytab, sizeof(keytab), "%s/gateway.keytab", kdir);
	sluice_kv conf[] = {
		{"meta", meta},
		{"gateway.listen", "127.0.0.1:0"},
		{"gateway.keytab", keytab},
		{"gateway.principal", SERVICE},
		{"gateway.rcache", rcache},
		{"superuser", "hdfs"},
		{"group-mapping.static", "alice=alice;bob=bob;hive=hive"},
		{"proxyuser.hive.hosts", "127.0.0.1"},
		{"proxyuser.hive.users", "alice"},
		{"gateway.grant-lifetime", lifetime},
	};
	tu_serve(s, conf, sizeof(conf) / sizeof(conf[0]), &test_clock);
}

/* An ordinary client of who (keytab login, no bucket keys); with cache_dir, hflush stages. */
static sluice_volume *client(const char *who, const struct served *s, const char *cache_dir)
{
	char keytab[1024], msg[1024];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", s->url},
		{"gateway.principal", SERVICE},
		{"kerberos.keytab", keytab},
		{"io-timeout", "10"},
		{"get-timeout", "2"},
		{"cache-dir", cache_dir},
	};
	sluice_volume *v = NULL;
	if (sl_vol_init(conf, cache_dir ? 6 : 5, &test_clock, &v, msg, sizeof(msg))) {
		fprintf(stderr, "client %s: %s\n", who, msg);
		return NULL;
	}
	return v;
}

static const struct sl_chunk_layout *layout(void) { return &gw_a.gw->vol->core.layout; }

/* ---- the modified client: hand-made requests ------------------------------------------------ */

struct raw {
	struct sl_rpc_conn c;
	char msg[1024]; /* the message of the last failure */
};

static void raw_open(struct raw *x, const char *who, const struct served *s)
{
	char keytab[1100], port[16];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	snprintf(port, sizeof(port), "%d", s->port);
	struct sl_gss_client_conf gc = {.service = SERVICE, .keytab = keytab};
	x->c = (struct sl_rpc_conn){.fd = -1, .max_frame = 16 * MiB, .timeout_ms = 10000};
	struct sl_err err = {0};
	void *m = NULL;
	size_t len = 0;
	if (sl_rpc_connect("127.0.0.1", port, 5000, &x->c.fd, &err) ||
	    sl_rpc_client_handshake(&x->c, &gc, &err) || sl_rpc_recv(&x->c, 10000, &m, &len, &err)) {
		fprintf(stderr, "raw %s: %s\n", who, err.msg);
		exit(1);
	}
	struct sl_rbuf r = sl_rbuf_of(m, len);
	REQUIRE(sl_r_u32(&r) == 0);
	free(m);
}

static void raw_close(struct raw *x) { sl_rpc_conn_close(&x->c); }

static void begin(struct sl_wbuf *w, uint16_t op, const char *acting)
{
	*w = (struct sl_wbuf){0};
	sl_w_u16(w, op);
	sl_w_str(w, acting);
}

/* Sends req (freed) and returns the status; the results follow in *r, whose bytes *resp owns (NULL
 * r: none wanted). The message of a failure goes to x->msg. */
static int call(struct raw *x, struct sl_wbuf *req, void **resp, struct sl_rbuf *r)
{
	struct sl_err err = {0};
	size_t len = 0;
	void *p = NULL;
	x->msg[0] = 0;
	int rc = sl_rpc_send(&x->c, req, &err);
	sl_wbuf_free(req);
	if (!rc)
		rc = sl_rpc_recv(&x->c, 10000, &p, &len, &err);
	if (rc) {
		fprintf(stderr, "transport: %s\n", err.msg);
		exit(1);
	}
	struct sl_rbuf rb = sl_rbuf_of(p, len);
	int32_t status = (int32_t)sl_r_u32(&rb);
	if (status) {
		const char *text = sl_r_str(&rb, 1024);
		snprintf(x->msg, sizeof(x->msg), "%s", text ? text : "");
	}
	if (r) {
		*r = rb;
		*resp = p;
	} else {
		free(p);
	}
	return status;
}

/* NEXT_IDS of counter with delta; the value into *v. */
static int counter(struct raw *x, const char *name, int64_t delta, int64_t *v)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&w, name);
	sl_w_i64(&w, delta);
	void *resp;
	struct sl_rbuf r;
	int rc = call(x, &w, &resp, &r);
	if (!rc)
		*v = sl_r_i64(&r);
	free(resp);
	return rc;
}

/* A batch of count slice ids and its grant. */
static struct sl_slice_grant take_ids(struct raw *x, uint32_t count)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&w, "nextChunk");
	sl_w_i64(&w, count);
	void *resp;
	struct sl_rbuf r;
	REQUIRE(call(x, &w, &resp, &r) == 0);
	int64_t v = sl_r_i64(&r);
	struct sl_slice_grant g = {.first = (uint64_t)(v - count), .count = count};
	REQUIRE(sl_r_bool(&r)); /* every gateway grants, presigning or not */
	g.issued = sl_r_i64(&r);
	const void *mac;
	REQUIRE(sl_r_bytes(&r, &mac, SL_GRANT_MAC_BYTES) == SL_GRANT_MAC_BYTES);
	memcpy(g.mac, mac, SL_GRANT_MAC_BYTES);
	REQUIRE(sl_r_u32(&r) > 0); /* how long gateways accept it */
	REQUIRE(sl_r_done(&r));
	free(resp);
	return g;
}

static size_t discard(char *d, size_t size, size_t n, void *arg)
{
	(void)d, (void)arg;
	return size * n;
}

/* Stores len bytes as block indx of slice id (of slice_size bytes) through a presigned PUT. */
static int put_block(struct raw *x, const struct sl_slice_grant *g, uint64_t id, uint32_t indx,
		     uint32_t slice_size, uint32_t len)
{
	char key[SL_KEY_MAX];
	sl_block_key(layout(), id, indx, slice_size, key);
	struct sl_wbuf w;
	begin(&w, SL_OP_PRESIGN, NULL);
	sl_w_str(&w, "PUT");
	sl_w_str(&w, key);
	sl_w_u64(&w, 0);
	sl_w_u32(&w, 0);
	sl_w_grant(&w, g);
	void *resp;
	struct sl_rbuf r;
	int rc = call(x, &w, &resp, &r);
	if (rc) {
		free(resp);
		return rc;
	}
	const char *url = sl_r_str(&r, SL_PRESIGN_URL_MAX);
	REQUIRE(url);
	char *body = malloc(len ? len : 1);
	REQUIRE(body);
	memset(body, 'b', len);
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	long status = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(body);
	free(resp);
	return status == 200 ? 0 : -EIO;
}

static struct sl_slice slice(uint32_t pos, uint64_t id, uint32_t size, uint32_t len)
{
	return (struct sl_slice){.pos = pos, .id = id, .size = size, .off = 0, .len = len};
}

/* WRITE_CHUNK of s into chunk 0 of ino, acting as acting (NULL: oneself), showing g (NULL:
 * none). */
static int commit(struct raw *x, const char *acting, sl_ino ino, struct sl_slice s,
		  const struct sl_slice_grant *g)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_WRITE_CHUNK, acting);
	sl_w_u64(&w, ino);
	sl_w_u32(&w, 0);
	sl_w_slice(&w, &s);
	sl_w_i64(&w, 1700000000000000000LL);
	sl_w_grant(&w, g);
	return call(x, &w, NULL, NULL);
}

static int compact(struct raw *x, sl_ino ino, const struct sl_slice *expect, uint32_t n,
		   uint32_t skip, struct sl_slice repl, const struct sl_slice_grant *g)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_COMPACT_CHUNK, NULL);
	sl_w_u64(&w, ino);
	sl_w_u32(&w, 0);
	sl_w_u32(&w, n);
	for (uint32_t i = 0; i < n; i++)
		sl_w_slice(&w, &expect[i]);
	sl_w_u32(&w, skip);
	sl_w_slice(&w, &repl);
	sl_w_grant(&w, g);
	return call(x, &w, NULL, NULL);
}

static int concat(struct raw *x, sl_ino target, sl_ino src)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_CONCAT, NULL);
	sl_w_u64(&w, target);
	sl_w_u32(&w, 1);
	sl_w_u64(&w, src);
	return call(x, &w, NULL, NULL);
}

static int get_setting(struct raw *x, const char *name)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_GET_SETTING, NULL);
	sl_w_str(&w, name);
	return call(x, &w, NULL, NULL);
}

static int presign_get(struct raw *x, const char *key, sl_ino ino)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_PRESIGN, NULL);
	sl_w_str(&w, "GET");
	sl_w_str(&w, key);
	sl_w_u64(&w, ino);
	sl_w_u32(&w, 0);
	sl_w_grant(&w, NULL);
	return call(x, &w, NULL, NULL);
}

/* ---- the volume as the gateway sees it ------------------------------------------------------ */

/* The slices of chunk 0 of ino (at most max), from the gateway's own metadata; their count. */
static size_t slices_of(sl_ino ino, struct sl_slice *out, size_t max)
{
	struct sl_meta *m = gw_a.gw->vol->core.meta;
	struct sl_slice *ss = NULL;
	size_t n = 0;
	struct sl_err err = {0};
	CHECK_RC(sl_meta_read_chunk(m, NULL, ino, 0, &ss, &n, &err), 0);
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = ss[i];
	free(ss);
	return n;
}

static sl_ino inode_of(sluice_volume *v, const char *path)
{
	sluice_stat st;
	CHECK_RC(sluice_stat_path(v, NULL, path, &st), 0);
	return st.inode;
}

/* ---- files ---------------------------------------------------------------------------------- */

static uint8_t byte_at(uint64_t off, unsigned seed)
{
	uint64_t x = (off + seed) * 0x9E3779B97F4A7C15ULL;
	return (uint8_t)(x >> 29);
}

static int write_pattern(sluice_volume *v, const char *path, size_t len, unsigned seed,
			 uint32_t mode)
{
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, mode, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(len);
	REQUIRE(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(i, seed);
	ssize_t w = sluice_write(f, buf, len);
	free(buf);
	int crc = sluice_close(f);
	return w != (ssize_t)len ? (w < 0 ? (int)w : -EIO) : crc;
}

/* 0 if path holds exactly len bytes of pattern seed. */
static int check_pattern(sluice_volume *v, const char *path, size_t len, unsigned seed)
{
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(len + 1);
	REQUIRE(buf);
	ssize_t n = sluice_pread(f, buf, len + 1, 0);
	sluice_close(f);
	if (n < 0)
		rc = (int)n;
	else if ((size_t)n != len)
		rc = -EIO;
	for (size_t i = 0; !rc && i < len; i++)
		if (buf[i] != byte_at(i, seed))
			rc = -EIO;
	free(buf);
	return rc;
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* The counters that name the next inode and slice ids are nobody's to read; usage is. */
static void test_counters(void)
{
	struct raw b;
	raw_open(&b, "bob", &gw_a);
	int64_t v = -1;
	CHECK_RC(counter(&b, "nextChunk", 0, &v), -EPERM);
	CHECK(strstr(b.msg, "not readable") != NULL);
	CHECK_RC(counter(&b, "nextInode", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "nextSession", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "nextTrash", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "usedSpace", 1, &v), -EPERM);
	CHECK_RC(counter(&b, "usedSpace", 0, &v), 0);
	CHECK_RC(counter(&b, "totalInodes", 0, &v), 0);
	/* nor the secret the grants are made with, nor other settings */
	CHECK_RC(get_setting(&b, "sluice.grant-secret"), -EPERM);
	CHECK_RC(get_setting(&b, "format"), -EPERM);
	CHECK_RC(get_setting(&b, "sluice.uid.1073741824"), -ENOENT); /* the registry is readable */
	raw_close(&b);

	/* statfs through an ordinary client still works */
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	sluice_statfs sf;
	CHECK_RC(sluice_mkdir(a, NULL, "/counted", 0755, 0), 0);
	CHECK_RC(sluice_statfs_get(a, &sf), 0);
	CHECK(sf.inodes_used >= 1);
	sluice_shutdown(a);
}

/* The report: bob commits the next slice id (alice's, soon) into his own file, so that alice's
 * commit fails and he reads her bytes. Neither a guessed id, nor one granted to alice, nor one of
 * his own with the wrong size gets into his file; alice writes on and reads her data. */
static void test_commits(void)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	sluice_volume *bv = client("bob", &gw_a, NULL);
	REQUIRE(a && bv);
	CHECK_RC(sluice_mkdir(a, NULL, "/alice", 0700, 0), 0);
	CHECK_RC(write_pattern(a, "/alice/before", 5000, 1, 0600), 0);
	CHECK_RC(sluice_mkdir(bv, NULL, "/bob", 0755, 0), 0);
	CHECK_RC(write_pattern(bv, "/bob/mine", 100, 2, 0644), 0);
	sl_ino mine = inode_of(bv, "/bob/mine");
	sl_ino before = inode_of(a, "/alice/before");
	sluice_shutdown(a); /* alice's next client takes a fresh batch, after bob's */

	struct raw b, al;
	raw_open(&b, "bob", &gw_a);
	raw_open(&al, "alice", &gw_a);
	struct sl_slice_grant ga = take_ids(&al, 4); /* alice's, by hand */
	struct sl_slice_grant gb = take_ids(&b, 16);
	uint64_t next = gb.first + gb.count; /* the id the next batch begins with: alice's */

	/* an id he was not granted, with his grant or none (uploading is refused already) */
	CHECK_RC(put_block(&b, &gb, next, 0, 64 * MiB, 4 * MiB), -EPERM);
	CHECK_RC(commit(&b, NULL, mine, slice(0, next, 64 * MiB, 64 * MiB), &gb), -EPERM);
	CHECK(strstr(b.msg, "not among the ids granted") != NULL);
	CHECK_RC(commit(&b, NULL, mine, slice(0, next, 64 * MiB, 64 * MiB), NULL), -EPERM);
	CHECK(strstr(b.msg, "no slice grant") != NULL);
	struct sl_slice_grant wide = gb;
	wide.count = 1u << 20;
	CHECK_RC(commit(&b, NULL, mine, slice(0, next, 64 * MiB, 64 * MiB), &wide), -EPERM);
	CHECK(strstr(b.msg, "not issued to bob") != NULL);
	/* an id granted to alice, with alice's grant (however he got it): it is hers */
	CHECK_RC(put_block(&al, &ga, ga.first, 0, 3000, 3000), 0);
	CHECK_RC(put_block(&b, &ga, ga.first, 0, 3000, 3000), -EPERM);
	CHECK_RC(commit(&b, NULL, mine, slice(0, ga.first, 3000, 3000), &ga), -EPERM);
	CHECK(strstr(b.msg, "not issued to bob") != NULL);
	/* ... nor by acting as alice: he is no proxy user */
	CHECK(commit(&b, "alice", mine, slice(0, ga.first, 3000, 3000), &ga) < 0);

	/* his own ids, with sizes their blocks were not stored with */
	uint64_t x = gb.first;
	CHECK_RC(put_block(&b, &gb, x, 0, 1000, 1000), 0);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 64 * MiB, 1000), &gb), -EINVAL);
	CHECK(strstr(b.msg, "not in object storage") != NULL);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 2000, 1000), &gb), -EINVAL);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 64 * MiB + 1, 1000), &gb), -EINVAL);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 0xFFFFFFFFu, 1000), &gb), -EINVAL);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x + 1, 1000, 1000), &gb), -EINVAL); /* no PUT */
	/* a block of the right name and the wrong length */
	CHECK_RC(put_block(&b, &gb, x + 2, 0, 1000, 999), 0);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x + 2, 1000, 1000), &gb), -EINVAL);
	CHECK(strstr(b.msg, "holds 999 bytes") != NULL);
	/* a multi-block slice: only its last block spells the size */
	CHECK_RC(put_block(&b, &gb, x + 3, 1, 4 * MiB + 10, 10), 0);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x + 3, 4 * MiB + 20, 10), &gb), -EINVAL);
	/* what he did store, he commits (once) */
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 1000, 1000), &gb), 0);
	CHECK_RC(commit(&b, NULL, mine, slice(0, x, 1000, 1000), &gb), -EEXIST);
	/* a grant is good at any gateway of the volume (no shared state) */
	CHECK_RC(put_block(&b, &gb, x + 4, 0, 500, 500), 0);
	struct raw b2;
	raw_open(&b2, "bob", &gw_b);
	CHECK_RC(commit(&b2, NULL, mine, slice(1000, x + 4, 500, 500), &gb), 0);
	raw_close(&b2);
	/* an id alice committed is refused to her as well: each id goes into a file once */
	struct sl_slice as[4];
	REQUIRE(slices_of(before, as, 4) == 1);
	CHECK_RC(commit(&al, NULL, before, as[0], &ga), -EPERM); /* not in this grant */
	CHECK_RC(commit(&al, NULL, before, slice(0, ga.first, 3000, 3000), &ga), 0);
	CHECK_RC(commit(&al, NULL, before, slice(0, ga.first, 3000, 3000), &ga), -EEXIST);

	/* nothing of alice's got into his file, so no URL for her blocks comes with it */
	struct sl_slice bs[8];
	size_t nb = slices_of(mine, bs, 8);
	CHECK_RC(nb, 3);
	for (size_t i = 0; i < nb && i < 8; i++)
		CHECK(bs[i].id != next && bs[i].id != ga.first && bs[i].id != as[0].id);
	char key[SL_KEY_MAX];
	sl_block_key(layout(), as[0].id, 0, as[0].size, key);
	CHECK_RC(presign_get(&b, key, mine), -ENOENT);
	CHECK_RC(presign_get(&b, key, before), -EACCES);

	/* alice, with a fresh client: her batch begins with the id bob went for; she writes and
	 * reads back what she wrote */
	a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	CHECK_RC(write_pattern(a, "/alice/after", 70000, 3, 0600), 0);
	struct sl_slice after[2];
	REQUIRE(slices_of(inode_of(a, "/alice/after"), after, 2) == 1);
	CHECK(after[0].id == next);
	CHECK_RC(check_pattern(a, "/alice/after", 70000, 3), 0);
	CHECK_RC(check_pattern(bv, "/alice/after", 70000, 3), -EACCES);
	raw_close(&b);
	raw_close(&al);
	sluice_shutdown(a);
	sluice_shutdown(bv);
}

/* A compaction replaces records of a chunk by a new slice: the new slice must be granted and
 * stored, and the records must be those of the chunk, in a file the caller may write. */
static void test_compaction(void)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	CHECK_RC(sluice_mkdir(a, NULL, "/c", 0755, 0), 0);
	CHECK_RC(write_pattern(a, "/c/alices", 2000, 4, 0644), 0);
	sluice_file *f;
	REQUIRE(sluice_open(a, NULL, "/c/alices", SLUICE_O_WRITE | SLUICE_O_APPEND, 0, 0, &f) == 0);
	CHECK_RC(sluice_write(f, "more", 4), 4);
	CHECK_RC(sluice_close(f), 0);
	sl_ino theirs = inode_of(a, "/c/alices");
	struct sl_slice aslices[4];
	REQUIRE(slices_of(theirs, aslices, 4) == 2);

	struct raw b;
	raw_open(&b, "bob", &gw_a);
	struct sl_slice_grant g = take_ids(&b, 8);
	sluice_volume *bv = client("bob", &gw_a, NULL);
	REQUIRE(bv);
	CHECK_RC(write_pattern(bv, "/bob/two", 10, 5, 0644), 0);
	sl_ino mine = inode_of(bv, "/bob/two");
	CHECK_RC(put_block(&b, &g, g.first, 0, 10, 10), 0);
	CHECK_RC(commit(&b, NULL, mine, slice(0, g.first, 10, 10), &g), 0);
	struct sl_slice bslices[4];
	REQUIRE(slices_of(mine, bslices, 4) == 2);
	CHECK_RC(put_block(&b, &g, g.first + 1, 0, 10, 10), 0);

	/* alice's slice as his replacement */
	CHECK_RC(compact(&b, mine, bslices, 2, 0, aslices[0], &g), -EPERM);
	/* alice's records as the ones replaced in his file */
	CHECK_RC(compact(&b, mine, aslices, 2, 0, slice(0, g.first + 1, 10, 10), &g), -ESTALE);
	/* his replacement in her file */
	CHECK_RC(compact(&b, theirs, aslices, 2, 0, slice(0, g.first + 1, 10, 10), &g), -EACCES);
	/* a replacement of a size not stored, or without the grant */
	CHECK_RC(compact(&b, mine, bslices, 2, 0, slice(0, g.first + 1, 2000, 10), &g), -EINVAL);
	CHECK_RC(compact(&b, mine, bslices, 2, 0, slice(0, g.first + 1, 10, 10), NULL), -EPERM);
	/* and the honest one */
	CHECK_RC(compact(&b, mine, bslices, 2, 0, slice(0, g.first + 1, 10, 10), &g), 0);
	CHECK_RC(slices_of(mine, bslices, 4), 1);
	struct sl_slice now[4];
	CHECK_RC(slices_of(theirs, now, 4), 2);
	CHECK(now[0].id == aslices[0].id && now[1].id == aslices[1].id);
	raw_close(&b);
	sluice_shutdown(bv);
	sluice_shutdown(a);
}

/* CONCAT moves the slices of whole files; bob cannot move alice's into his. */
static void test_concat(void)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	sluice_volume *bv = client("bob", &gw_a, NULL);
	REQUIRE(a && bv);
	CHECK_RC(write_pattern(a, "/alice/private", 3000, 6, 0600), 0);
	CHECK_RC(write_pattern(a, "/c/open", 3000, 7, 0644), 0); /* readable, in her directory */
	CHECK_RC(write_pattern(bv, "/bob/target", 10, 8, 0644), 0);
	sl_ino target = inode_of(bv, "/bob/target");
	struct raw b;
	raw_open(&b, "bob", &gw_a);
	CHECK_RC(concat(&b, target, inode_of(a, "/alice/private")), -EACCES);
	CHECK_RC(concat(&b, target, inode_of(a, "/c/open")), -EACCES);
	struct sl_slice ts[4];
	CHECK_RC(slices_of(target, ts, 4), 1);
	CHECK_RC(check_pattern(a, "/alice/private", 3000, 6), 0);
	CHECK_RC(check_pattern(a, "/c/open", 3000, 7), 0);
	/* his own files he may concatenate */
	CHECK_RC(write_pattern(bv, "/bob/part", 20, 9, 0644), 0);
	CHECK_RC(concat(&b, target, inode_of(bv, "/bob/part")), 0);
	CHECK_RC(slices_of(target, ts, 4), 2);
	raw_close(&b);
	sluice_shutdown(a);
	sluice_shutdown(bv);
}

/* hflush through the gateway: its commit waits for the slice's last block to be stored (the
 * gateway checks the size there), and a reader elsewhere sees the data at once; hundreds of
 * records make the writer compact the chunk, through the gateway too. */
static void test_hflush(const char *dir)
{
	char cache[1100];
	snprintf(cache, sizeof(cache), "%s/cache-alice", dir);
	sluice_volume *a = client("alice", &gw_a, cache);
	sluice_volume *r = client("alice", &gw_b, NULL);
	REQUIRE(a && r);
	sluice_file *f;
	REQUIRE(sluice_open(a, NULL, "/alice/wal", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0600, 0,
			    &f) == 0);
	uint8_t rec[100];
	const int n = 320;
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(rec); k++)
			rec[k] = byte_at((uint64_t)i * sizeof(rec) + k, 10);
		CHECK_RC(sluice_write(f, rec, sizeof(rec)), sizeof(rec));
		CHECK_RC(sluice_hflush(f), 0);
		if (i == 0 || i == n - 1) { /* a new reader sees it, through another gateway */
			sluice_file *g;
			REQUIRE(sluice_open(r, NULL, "/alice/wal", SLUICE_O_READ, 0, 0, &g) == 0);
			uint8_t got[sizeof(rec)];
			CHECK_RC(sluice_pread(g, got, sizeof(got), (uint64_t)i * sizeof(rec)),
				 sizeof(rec));
			CHECK(!memcmp(got, rec, sizeof(rec)));
			sluice_close(g);
		}
	}
	CHECK_RC(sluice_close(f), 0);
	CHECK_RC(check_pattern(r, "/alice/wal", (size_t)n * sizeof(rec), 10), 0);
	struct sl_slice ss[400];
	size_t ns = slices_of(inode_of(r, "/alice/wal"), ss, 400);
	CHECK(ns > 0 && ns < (size_t)n); /* compacted */
	sluice_shutdown(a);
	sluice_shutdown(r);
}

/* Group commit through the gateway: streams hflushing at the same time share WRITE_CHUNKS
 * requests (one transaction each), every record lands, and a fenced stream fails alone. */
struct gc_writer {
	sluice_volume *vol;
	int id;
	int rc;
};

enum { GC_THREADS = 6, GC_RECORDS = 40, GC_LEN = 200 };

static void *gc_main(void *arg)
{
	struct gc_writer *w = arg;
	char path[64];
	snprintf(path, sizeof(path), "/alice/gc-%d", w->id);
	sluice_file *f;
	w->rc = sluice_open(w->vol, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0600, 0, &f);
	uint8_t rec[GC_LEN];
	for (int i = 0; !w->rc && i < GC_RECORDS; i++) {
		for (size_t k = 0; k < sizeof(rec); k++)
			rec[k] = byte_at((uint64_t)i * sizeof(rec) + k, (unsigned)w->id);
		if (sluice_write(f, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
			w->rc = -EIO;
		else
			w->rc = sluice_hflush(f);
	}
	if (f) {
		int rc = sluice_close(f);
		if (!w->rc)
			w->rc = rc;
	}
	return NULL;
}

static void test_group_commit(const char *dir)
{
	char cache[1100];
	snprintf(cache, sizeof(cache), "%s/cache-gc", dir);
	sluice_volume *a = client("alice", &gw_a, cache);
	sluice_volume *r = client("alice", &gw_b, NULL);
	REQUIRE(a && r);
	struct sl_flush_stats *fs = &a->core.flush;
	uint64_t c0 = fs->commits, r0 = fs->records;
	struct gc_writer w[GC_THREADS];
	pthread_t t[GC_THREADS];
	for (int i = 0; i < GC_THREADS; i++) {
		w[i] = (struct gc_writer){.vol = a, .id = i + 1};
		REQUIRE(pthread_create(&t[i], NULL, gc_main, &w[i]) == 0);
	}
	for (int i = 0; i < GC_THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_RC(w[i].rc, 0);
	}
	uint64_t commits = fs->commits - c0, records = fs->records - r0;
	fprintf(stderr, "  %d streams through the gateway: %llu slices in %llu transactions\n",
		GC_THREADS, (unsigned long long)records, (unsigned long long)commits);
	CHECK(records >= (uint64_t)GC_THREADS * GC_RECORDS);
	CHECK(commits < records);
	for (int i = 0; i < GC_THREADS; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/alice/gc-%d", i + 1);
		CHECK_RC(check_pattern(r, path, (size_t)GC_RECORDS * GC_LEN, (unsigned)(i + 1)), 0);
	}

	/* a stream whose lease another client recovered fails; the other stream goes on */
	sluice_file *x, *y;
	REQUIRE(sluice_open(a, NULL, "/alice/gc-x", SLUICE_O_CREATE, 0600, 0, &x) == 0);
	REQUIRE(sluice_open(a, NULL, "/alice/gc-y", SLUICE_O_CREATE, 0600, 0, &y) == 0);
	uint8_t rec[GC_LEN] = {1};
	CHECK_RC(sluice_write(x, rec, sizeof(rec)), sizeof(rec));
	CHECK_RC(sluice_hflush(x), 0);
	CHECK_RC(sluice_recover_lease(r, NULL, "/alice/gc-x"), 1);
	CHECK_RC(sluice_write(x, rec, sizeof(rec)), sizeof(rec));
	CHECK_RC(sluice_write(y, rec, sizeof(rec)), sizeof(rec));
	CHECK_RC(sluice_hflush(x), -ENOLCK);
	CHECK_RC(sluice_hflush(y), 0);
	CHECK_RC(sluice_close(x), -ENOLCK);
	CHECK_RC(sluice_close(y), 0);
	struct sluice_stat st;
	CHECK_RC(sluice_stat_path(r, NULL, "/alice/gc-x", &st), 0);
	CHECK(st.length == GC_LEN);
	sluice_shutdown(a);
	sluice_shutdown(r);
}

/* A grant is accepted for gateway.grant-lifetime (2 s at gw_short); a client uses the ids of a
 * batch during the first half of it and then takes a new batch, so that a long-lived client
 * never commits with a grant past its time. */
static void test_grant_lifetime(void)
{
	sluice_volume *a = client("alice", &gw_short, NULL);
	REQUIRE(a);
	CHECK_RC(write_pattern(a, "/alice/early", 100, 12, 0600), 0);
	sl_clock_advance(&test_clock, 3000);
	CHECK_RC(write_pattern(a, "/alice/late", 100, 13, 0600), 0);
	CHECK_RC(check_pattern(a, "/alice/late", 100, 13), 0);
	struct sl_slice e[2], l[2];
	REQUIRE(slices_of(inode_of(a, "/alice/early"), e, 2) == 1);
	REQUIRE(slices_of(inode_of(a, "/alice/late"), l, 2) == 1);
	CHECK(l[0].id >= e[0].id + 4096 - 1); /* from a batch of its own */
	/* a grant past its time is refused, for commits as for PUTs */
	struct raw x;
	raw_open(&x, "alice", &gw_short);
	struct sl_slice_grant g = take_ids(&x, 2);
	CHECK_RC(put_block(&x, &g, g.first, 0, 10, 10), 0);
	sl_clock_advance(&test_clock, 3000);
	CHECK_RC(commit(&x, NULL, inode_of(a, "/alice/late"), slice(0, g.first, 10, 10), &g), -EPERM);
	CHECK(strstr(x.msg, "grant-lifetime") != NULL);
	raw_close(&x);
	sluice_shutdown(a);
}

/* Runs fn with stderr (the gateway's log) going to file; returns what was logged. */
static char *logged_during(const char *file, int (*fn)(void *), void *arg, int *rc)
{
	fflush(stderr);
	int saved = dup(2);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	*rc = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	FILE *in = fopen(file, "r");
	REQUIRE(in);
	static char text[64 << 10];
	size_t len = fread(text, 1, sizeof(text) - 1, in);
	text[len] = 0;
	fclose(in);
	return strdup(text);
}

static void sql(const char *statement)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s %s -e '%s'", admin, db.name, statement);
	REQUIRE(system(cmd) == 0);
}

struct xattr_call {
	struct raw *x;
	sl_ino ino;
	const char *name;
	bool set;
};

static int xattr_op(void *arg)
{
	struct xattr_call *c = arg;
	struct sl_wbuf w;
	begin(&w, c->set ? SL_OP_SETXATTR : SL_OP_GETXATTR, NULL);
	sl_w_u64(&w, c->ino);
	sl_w_str(&w, c->name);
	if (c->set) {
		sl_w_bytes(&w, "same", 4);
		sl_w_u32(&w, 0);
	}
	return call(c->x, &w, NULL, NULL);
}

/* The client's message names no SQL, table, database address or driver text, but a request id
 * that the gateway's log holds with the full text. */
static void check_hidden(const char *msg, const char *log, const char *detail)
{
	static const char *const leaks[] = {"mysql", "jfs_", "SELECT", "INSERT", "127.0.0.1",
					    "root", "error 1", "Duplicate", "doesn't"};
	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
		if (strstr(msg, leaks[i])) {
			fprintf(stderr, "the client's message shows '%s': %s\n", leaks[i], msg);
			CHECK(false);
		}
	CHECK(strstr(msg, db.name) == NULL);
	const char *at = strstr(msg, "under request ");
	REQUIRE(at);
	char id[32] = "";
	sscanf(at + strlen("under request "), "%16[0-9a-f]", id);
	CHECK(strlen(id) == 16);
	char want[64];
	snprintf(want, sizeof(want), "request %s ", id);
	const char *line = strstr(log, want);
	CHECK(line != NULL);
	if (line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		CHECK(memmem(line, len, detail, strlen(detail)) != NULL);
		CHECK(memmem(line, len, "alice", 5) != NULL);
	}
}

/* Errors of the database reach the client as their errno, a generic text and a request id;
 * the full text (statement, database address, the server's words) goes to the gateway's log.
 * Answers about the request itself keep their words. */
static void test_error_texts(const char *dir)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	CHECK_RC(sluice_mkdir(a, NULL, "/e", 0700, 0), 0);
	CHECK_RC(write_pattern(a, "/e/x", 10, 11, 0600), 0);
	sl_ino ino = inode_of(a, "/e/x");
	sluice_shutdown(a);
	struct raw al, b;
	raw_open(&al, "alice", &gw_a);
	raw_open(&b, "bob", &gw_a);
	char logfile[1100];
	snprintf(logfile, sizeof(logfile), "%s/gateway-log", dir);

	/* a database error of an I/O class: the table is gone */
	sql("ALTER TABLE jfs_xattr RENAME TO jfs_xattr_away");
	struct xattr_call get = {.x = &al, .ino = ino, .name = "user.k"};
	int rc;
	char *log = logged_during(logfile, xattr_op, &get, &rc);
	sql("ALTER TABLE jfs_xattr_away RENAME TO jfs_xattr");
	CHECK_RC(rc, -EIO);
	check_hidden(al.msg, log, "jfs_xattr");
	free(log);

	/* a database error of a class a client may see (a unique key the operation did not
	 * expect): the errno stays, the words do not */
	sql("CREATE UNIQUE INDEX grants_test ON jfs_xattr (value(8))");
	struct xattr_call set1 = {.x = &al, .ino = ino, .name = "user.a", .set = true};
	struct xattr_call set2 = {.x = &al, .ino = ino, .name = "user.b", .set = true};
	CHECK_RC(xattr_op(&set1), 0);
	log = logged_during(logfile, xattr_op, &set2, &rc);
	sql("DROP INDEX grants_test ON jfs_xattr");
	CHECK_RC(rc, -EEXIST);
	check_hidden(al.msg, log, "Duplicate");
	free(log);

	/* answers about the request keep their words */
	get.x = &b;
	CHECK_RC(xattr_op(&get), -EACCES);
	CHECK(strstr(b.msg, "ermission denied") != NULL && strstr(b.msg, "request") == NULL);
	get.x = &al;
	CHECK_RC(xattr_op(&get), -ENODATA);
	CHECK(strstr(al.msg, "user.k") != NULL);
	CHECK_RC(xattr_op(&set2), 0); /* the index is gone: the volume works again */
	raw_close(&al);
	raw_close(&b);
}

/* ---- several gateways in one URL ------------------------------------------------------------- */

static void add_calls(void *arg, const char *name, uint64_t value)
{
	size_t n = strlen(name);
	if (!strncmp(name, "meta.", 5) && n > 6 && !strcmp(name + n - 6, ".calls"))
		*(uint64_t *)arg += value;
}

static uint64_t calls_of(struct served *s)
{
	uint64_t n = 0;
	sluice_stats(s->gw->vol, add_calls, &n);
	return n;
}

struct worker {
	sluice_volume *v;
	int id, round, failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char path[64], text[64], back[64];
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/failover/w%d-%d-%d", w->id, w->round, i);
		snprintf(text, sizeof(text), "round %d, file %d", w->round, i);
		if (tu_put_text(w->v, NULL, path, text, 0644) ||
		    tu_get_text(w->v, NULL, path, back, sizeof(back)) || strcmp(text, back)) {
			fprintf(stderr, "worker %d: %s: %s\n", w->id, path, sluice_last_error(w->v));
			w->failures++;
		}
	}
	return NULL;
}

/* Two workers, one round; meanwhile (NULL: nothing) runs while they work. */
static void run_workers(struct worker *w, int round, void (*meanwhile)(void))
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		w[i].round = round;
		REQUIRE(pthread_create(&t[i], NULL, work, &w[i]) == 0);
	}
	if (meanwhile)
		meanwhile();
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void stop_gw_b_soon(void)
{
	usleep(30 * 1000);
	tu_unserve(&gw_b);
}

/* A tokened request (proto.h, SL_OP_ONCE) of op with the arguments in args (freed) through x. */
static int once_call(struct raw *x, uint16_t op, uint64_t token, struct sl_wbuf *args,
		     void **resp, struct sl_rbuf *r)
{
	struct sl_wbuf w = {0};
	sl_w_u16(&w, (uint16_t)(op | SL_OP_ONCE));
	sl_w_u64(&w, token);
	sl_w_str(&w, NULL);
	sl_w_raw(&w, args->p, args->len);
	sl_wbuf_free(args);
	return call(x, &w, resp, r);
}

static int once_mknod(struct raw *x, uint64_t token, sl_ino parent, const char *name, sl_ino *ino)
{
	struct sl_wbuf a = {0};
	sl_w_mknod(&a, &(struct sl_rpc_mknod){.parent = parent, .name = name, .type = SL_TYPE_FILE,
					       .mode = 0644});
	void *resp = NULL;
	struct sl_rbuf r;
	int rc = once_call(x, SL_OP_MKNOD, token, &a, &resp, &r);
	struct sl_rpc_made made = {0};
	if (!rc && sl_r_made(&r, &made) == 0)
		*ino = made.ino;
	free(resp);
	return rc;
}

static int once_mknod_leased(struct raw *x, uint64_t token, sl_ino parent, const char *name,
			     uint64_t sid, struct sl_rpc_made_leased *made)
{
	struct sl_wbuf a = {0};
	sl_w_mknod_leased(&a, &(struct sl_rpc_mknod_leased){.parent = parent, .name = name,
							     .mode = 0644, .sid = sid});
	void *resp = NULL;
	struct sl_rbuf r;
	int rc = once_call(x, SL_OP_MKNOD_LEASED, token, &a, &resp, &r);
	if (!rc && sl_r_made_leased(&r, made))
		rc = -EPROTO;
	free(resp);
	return rc;
}

static int once_lease(struct raw *x, uint64_t token, sl_ino ino, uint64_t sid, uint64_t *gen)
{
	struct sl_wbuf a = {0};
	sl_w_lease_acquire(&a, &(struct sl_rpc_lease_acquire){.ino = ino, .sid = sid});
	void *resp = NULL;
	struct sl_rbuf r;
	int rc = once_call(x, SL_OP_LEASE_ACQUIRE, token, &a, &resp, &r);
	struct sl_rpc_generation res = {0};
	if (!rc && sl_r_generation(&r, &res) == 0)
		*gen = res.gen;
	free(resp);
	return rc;
}

static int once_recover(struct raw *x, uint64_t token, sl_ino ino, bool *closed)
{
	struct sl_wbuf a = {0};
	sl_w_lease_recover(&a, &(struct sl_rpc_lease_recover){.ino = ino, .recover = true});
	void *resp = NULL;
	struct sl_rbuf r;
	int rc = once_call(x, SL_OP_LEASE_RECOVER, token, &a, &resp, &r);
	struct sl_rpc_closed res = {0};
	if (!rc && sl_r_closed(&r, &res) == 0)
		*closed = res.closed;
	free(resp);
	return rc;
}

static int once_entry(struct raw *x, uint16_t op, uint64_t token, struct sl_wbuf *a)
{
	void *resp = NULL;
	struct sl_rbuf r;
	int rc = once_call(x, op, token, a, &resp, &r);
	free(resp);
	return rc;
}

/* A change sent again with its token, to another gateway, as a client does when the first one went
 * away before answering: answered as the first sending was, made once. */
static void test_idempotency_tokens(void)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	CHECK_RC(sluice_mkdirs(a, NULL, "/once", 0755, 0), 0);
	sluice_stat dir, st;
	REQUIRE(sluice_stat_path(a, NULL, "/once", &dir) == 0);
	struct raw xa, xb;
	raw_open(&xa, "alice", &gw_a);
	raw_open(&xb, "alice", &gw_b);

	sl_ino first = 0, again = 0;
	CHECK_RC(once_mknod(&xa, 0x1234567, dir.inode, "f", &first), 0);
	CHECK_RC(once_mknod(&xb, 0x1234567, dir.inode, "f", &again), 0);
	CHECK(first != 0 && again == first);
	CHECK_RC(once_mknod(&xb, 0x1234568, dir.inode, "f", &again), -EEXIST); /* a new request */

	struct sl_wbuf w = {0};
	struct sl_rpc_rename mv = {.psrc = dir.inode, .nsrc = "f", .pdst = dir.inode, .ndst = "g",
				   .flags = SLUICE_RENAME_NOREPLACE};
	sl_w_rename(&w, &mv);
	CHECK_RC(once_entry(&xa, SL_OP_RENAME, 0x2345678, &w), 0);
	sl_w_rename(&w, &mv);
	CHECK_RC(once_entry(&xb, SL_OP_RENAME, 0x2345678, &w), 0);
	CHECK_RC(sluice_stat_path(a, NULL, "/once/g", &st), 0);
	CHECK_RC(st.inode, first);
	CHECK_RC(sluice_stat_path(a, NULL, "/once/f", &st), -ENOENT);
	sl_w_rename(&w, &mv);
	CHECK_RC(once_entry(&xb, SL_OP_RENAME, 0x2345679, &w), -ENOENT);

	struct sl_rpc_entry rm = {.parent = dir.inode, .name = "g"};
	sl_w_entry(&w, &rm);
	CHECK_RC(once_entry(&xb, SL_OP_UNLINK, 0x3456789, &w), 0);
	sl_w_entry(&w, &rm);
	CHECK_RC(once_entry(&xa, SL_OP_UNLINK, 0x3456789, &w), 0);
	CHECK_RC(sluice_stat_path(a, NULL, "/once/g", &st), -ENOENT);
	sl_w_entry(&w, &rm);
	CHECK_RC(once_entry(&xa, SL_OP_UNLINK, 0x345678a, &w), -ENOENT);

	/* A writer lease: answered with the same generation, taken once; then a recovery. */
	struct sl_wbuf sa = {0};
	begin(&sa, SL_OP_NEW_SESSION, NULL);
	sl_w_new_session(&sa, &(struct sl_rpc_new_session){.info_json = "{}",
						       .expire_s = (int64_t)time(NULL) + 600});
	void *resp = NULL;
	struct sl_rbuf r;
	struct sl_rpc_session_id sess = {0};
	REQUIRE(call(&xa, &sa, &resp, &r) == 0 && sl_r_session_id(&r, &sess) == 0);
	free(resp);
	/* created under its lease: answered as the first sending was */
	struct sl_rpc_made_leased made_a = {0}, made_b = {0};
	CHECK_RC(once_mknod_leased(&xa, 0x4567890, dir.inode, "leased", sess.sid, &made_a), 0);
	CHECK_RC(once_mknod_leased(&xb, 0x4567890, dir.inode, "leased", sess.sid, &made_b), 0);
	CHECK(made_a.ino != 0 && made_b.ino == made_a.ino && made_a.gen == 0x4567890 &&
	      made_b.gen == made_a.gen);
	CHECK_RC(once_mknod_leased(&xb, 0x4567891, dir.inode, "leased", sess.sid, &made_b), -EEXIST);
	sl_ino leased = made_a.ino;
	bool closed_a = false, closed_b = false;
	CHECK_RC(once_recover(&xa, 0x4567892, leased, &closed_a), 0);
	CHECK(closed_a);
	uint64_t gen_a = 0, gen_b = 0, gen_c = 0;
	CHECK_RC(once_lease(&xa, 0x5678901, leased, sess.sid, &gen_a), 0);
	CHECK_RC(once_lease(&xb, 0x5678901, leased, sess.sid, &gen_b), 0);
	CHECK(gen_a != 0 && gen_b == gen_a);
	CHECK_RC(once_lease(&xb, 0x5678902, leased, sess.sid, &gen_c), -SL_ELEASE_HELD);
	closed_a = false;
	CHECK_RC(once_recover(&xa, 0x6789012, leased, &closed_a), 0);
	CHECK_RC(once_recover(&xb, 0x6789012, leased, &closed_b), 0);
	CHECK(closed_a && closed_b);
	/* recovered once: the next writer takes the lease at once */
	CHECK_RC(once_lease(&xb, 0x5678903, leased, sess.sid, &gen_c), 0);
	CHECK(gen_c != gen_a);
	begin(&sa, SL_OP_CLOSE_SESSION, NULL);
	sl_w_session_id(&sa, &sess);
	CHECK_RC(call(&xa, &sa, NULL, NULL), 0);

	raw_close(&xa);
	raw_close(&xb);
	CHECK_RC(sluice_delete(a, NULL, "/once", 1), 0);
	sluice_shutdown(a);
}

/* A client of "gateway://A,B" spreads its connections over both gateways and, when one stops in
 * the middle of the work, goes on through the other: no request fails, the ones in flight are
 * sent again (changes with their tokens), nothing is done twice. gw_b stays stopped. */
static void test_failover(void)
{
	struct served both = {0};
	snprintf(both.url, sizeof(both.url), "gateway://127.0.0.1:%d,127.0.0.1:%d", gw_a.port,
		 gw_b.port);
	sluice_volume *a = client("alice", &both, NULL);
	REQUIRE(a);
	CHECK_RC(sluice_mkdirs(a, NULL, "/failover", 0777, 0), 0);
	struct worker w[2] = {{.v = a, .id = 0}, {.v = a, .id = 1}};
	uint64_t a0 = calls_of(&gw_a), b0 = calls_of(&gw_b);
	run_workers(w, 0, NULL); /* two threads: two connections, one to each gateway */
	CHECK(calls_of(&gw_a) > a0 && calls_of(&gw_b) > b0);
	run_workers(w, 1, stop_gw_b_soon);
	run_workers(w, 2, NULL);
	CHECK_RC(w[0].failures + w[1].failures, 0);
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(a, NULL, "/failover", &sum), 0);
	CHECK_RC(sum.files, 120);
	CHECK_RC(sluice_delete(a, NULL, "/failover", 1), 0);
	sluice_shutdown(a);
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN");
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *ak = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	const char *sk = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char *dir = tu_tempdir("gwgrants");
	char bucket[1024], rc1[1100], rc2[1100], rc3[1100], msg[1024];
	tu_mysql_db_create(&db, "gwgrants");
	const char *meta = db.url;
	snprintf(bucket, sizeof(bucket), "%s/gwgrants-%ld-%ld", endpoint, (long)getpid(),
		 (long)time(NULL));
	sluice_format_options fo = {.meta_url = meta, .name = VOL, .storage = "minio",
				    .bucket = bucket, .access_key = ak, .secret_key = sk,
				    .trash_days = 0};
	if (sluice_format(&fo, msg, sizeof(msg))) {
		fprintf(stderr, "format: %s\n", msg);
		return 1;
	}
	snprintf(rc1, sizeof(rc1), "%s/rcache1", dir);
	snprintf(rc2, sizeof(rc2), "%s/rcache2", dir);
	snprintf(rc3, sizeof(rc3), "%s/rcache3", dir);
	serve(&gw_a, meta, rc1, "86400");
	serve(&gw_b, meta, rc2, "86400");
	serve(&gw_short, meta, rc3, "2");

	test_counters();
	test_commits();
	test_compaction();
	test_concat();
	test_hflush(dir);
	test_group_commit(dir);
	test_grant_lifetime();
	test_error_texts(dir);
	test_idempotency_tokens();
	test_failover();

	tu_unserve(&gw_a);
	tu_unserve(&gw_short);
	CHECK(tu_mysql_db_drop(&db) == 0);
	curl_global_cleanup();
	free(dir);
	return tu_finish("test_gateway_grants");
}
