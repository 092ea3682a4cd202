/*
 * test_gateway_data.c - presigned data access in Kerberos mode, end to end against the real KDC
 * and S3 server of the test environment: gateways in this process serve an SQLite + S3 volume,
 * and clients that hold no bucket keys write, read and remove files through URLs the gateways
 * sign. Checks who gets which URL (read permission, slice grants, no deletes), that a URL serves
 * exactly one object until it expires, and that clients get fresh URLs on their own. On an
 * encrypted volume, clients seal with the public key and get from the gateway the data keys of
 * the blocks they may read, and nothing else of the key.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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

#define VOL "gwdata"
#define SERVICE "sluice/localhost@SLUICE.TEST"
#define MiB (1u << 20)

static const char *kdir, *s3_endpoint, *s3_access, *s3_secret;
static char bucket[512];
static struct sl_objstore *direct; /* the bucket with its real keys: what is really there */

static struct served gw_main;   /* defaults */
static struct served gw_short;  /* gateway.presign-expiry=1, gateway.grant-lifetime=3 */
static struct served gw_file;   /* a file-storage volume: nothing to presign */
static struct served gw_enc;    /* an encrypted volume, gateway.protection=privacy */
static char enc_meta[1100], enc_bucket[512];
#define ENC_PASS "gw-enc-pass"
/* The gateways' clock, which decides a grant's age: moved on instead of waiting. Presigned URLs
 * are signed on the system clock, which the object store checks. */
static struct sl_clock gw_clock;

static void serve(struct served *s, const char *meta, const char *rcache, const char *expiry,
		  const char *lifetime)
{
	char keytab[1100];
	bool enc = s == &gw_enc;
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
		{"gateway.presign-expiry", expiry},
		{"gateway.grant-lifetime", lifetime},
		{"encrypt.passphrase", ENC_PASS},
		{"gateway.protection", "privacy"},
	};
	size_t n = sizeof(conf) / sizeof(conf[0]);
	tu_serve(s, conf, enc ? n : n - 2, &gw_clock);
}

/* A client logged in from who's keytab, configured with no bucket keys (unless keys). */
static sluice_volume *client(const char *who, const struct served *s, bool keys)
{
	char keytab[1024], msg[1024];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", s->url},
		{"gateway.principal", SERVICE},
		{"kerberos.keytab", keytab},
		{"io-timeout", "10"},
		{"access-key", s3_access},
		{"secret-key", s3_secret},
	};
	sluice_volume *v = NULL;
	if (sluice_init(conf, keys ? 6 : 4, &v, msg, sizeof(msg))) {
		fprintf(stderr, "client %s: %s\n", who, msg);
		return NULL;
	}
	return v;
}

/* ---- raw protocol: what a modified client could send --------------------------------------- */

static bool raw_open(struct sl_rpc_conn *c, const char *who, const struct served *s)
{
	char keytab[1100], port[16];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	snprintf(port, sizeof(port), "%d", s->port);
	struct sl_gss_client_conf gc = {.service = SERVICE, .keytab = keytab};
	*c = (struct sl_rpc_conn){.fd = -1, .max_frame = 16 * MiB, .timeout_ms = 10000};
	struct sl_err err = {0};
	void *m = NULL;
	size_t len = 0;
	if (sl_rpc_connect("127.0.0.1", port, 5000, &c->fd, &err) ||
	    sl_rpc_client_handshake(c, &gc, &err) || sl_rpc_recv(c, 10000, &m, &len, &err)) {
		fprintf(stderr, "raw %s: %s\n", who, err.msg);
		free(m);
		sl_rpc_conn_close(c);
		return false;
	}
	struct sl_rbuf r = sl_rbuf_of(m, len);
	bool ok = sl_r_u32(&r) == 0;
	free(m);
	return ok;
}

/* Sends req (freed) and returns the status; the results follow in *r, whose bytes *resp owns;
 * the message of a failure goes to msg. */
static int raw_call(struct sl_rpc_conn *c, struct sl_wbuf *req, void **resp, struct sl_rbuf *r,
		    char *msg, size_t msize)
{
	struct sl_err err = {0};
	size_t len = 0;
	*resp = NULL;
	msg[0] = 0;
	int rc = sl_rpc_send(c, req, &err);
	sl_wbuf_free(req);
	if (!rc)
		rc = sl_rpc_recv(c, 10000, resp, &len, &err);
	if (rc) {
		snprintf(msg, msize, "%s", err.msg);
		return -999; /* a transport failure: no test expects it */
	}
	*r = sl_rbuf_of(*resp, len);
	int32_t status = (int32_t)sl_r_u32(r);
	if (status) {
		const char *text = sl_r_str(r, 1024);
		snprintf(msg, msize, "%s", text ? text : "");
	}
	return status;
}

/* PRESIGN; the URL into url (SL_PRESIGN_URL_MAX) on success. */
static int presign(struct sl_rpc_conn *c, const char *acting, const char *method, const char *key,
		   sl_ino ino, uint32_t indx, const struct sl_slice_grant *g, char *url, char *msg,
		   size_t msize)
{
	struct sl_wbuf w = {0};
	sl_w_u16(&w, SL_OP_PRESIGN);
	sl_w_str(&w, acting);
	sl_w_str(&w, method);
	sl_w_str(&w, key);
	sl_w_u64(&w, ino);
	sl_w_u32(&w, indx);
	sl_w_u64(&w, g ? g->first : 0);
	sl_w_u32(&w, g ? g->count : 0);
	sl_w_i64(&w, g ? g->issued : 0);
	sl_w_bytes(&w, g ? g->mac : NULL, g ? SL_GRANT_MAC_BYTES : 0);
	void *resp;
	struct sl_rbuf r;
	int rc = raw_call(c, &w, &resp, &r, msg, msize);
	if (!rc) {
		const char *u = sl_r_str(&r, SL_PRESIGN_URL_MAX - 1);
		uint32_t expires = sl_r_u32(&r);
		CHECK(sl_r_done(&r) && u && expires > 0);
		snprintf(url, SL_PRESIGN_URL_MAX, "%s", u ? u : "");
	}
	free(resp);
	return rc;
}

/* NEXT_IDS of count slice ids; *first and the grant (false if none came). */
static bool next_ids(struct sl_rpc_conn *c, uint32_t count, struct sl_slice_grant *g)
{
	struct sl_wbuf w = {0};
	sl_w_u16(&w, SL_OP_NEXT_IDS);
	sl_w_str(&w, NULL);
	sl_w_str(&w, "nextChunk");
	sl_w_i64(&w, count);
	void *resp;
	struct sl_rbuf r;
	char msg[512];
	int rc = raw_call(c, &w, &resp, &r, msg, sizeof(msg));
	CHECK_RC(rc, 0);
	bool granted = false;
	if (!rc) {
		int64_t v = sl_r_i64(&r);
		granted = sl_r_bool(&r);
		*g = (struct sl_slice_grant){.first = (uint64_t)(v - count), .count = count};
		if (granted) {
			g->issued = sl_r_i64(&r);
			const void *mac;
			CHECK(sl_r_bytes(&r, &mac, SL_GRANT_MAC_BYTES) == SL_GRANT_MAC_BYTES);
			if (!r.bad)
				memcpy(g->mac, mac, SL_GRANT_MAC_BYTES);
			CHECK(sl_r_u32(&r) > 0); /* its lifetime */
		}
		CHECK(sl_r_done(&r));
	}
	free(resp);
	return granted;
}

/* ---- HTTP as any client would send it ------------------------------------------------------- */

struct resp {
	long status;
	char *body;
	size_t len, cap;
};

static size_t resp_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb;
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->body = realloc(r->body, r->cap);
		REQUIRE(r->body);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = 0;
	return n;
}

/* The status of method on url (with body for PUT); the body that came back in *out if wanted. */
static long http(const char *method, const char *url, const void *body, size_t len,
		 struct resp *out)
{
	struct resp r = {0};
	CURL *h = curl_easy_init();
	REQUIRE(h);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, resp_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		fprintf(stderr, "%s: %s\n", method, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	long st = r.status;
	if (out)
		*out = r;
	else
		free(r.body);
	return st;
}

/* url with its path (the object) replaced by that of key: the same signature for another object. */
static void swap_object(const char *url, const char *key, char *out, size_t size)
{
	const char *path = strstr(url, "/" VOL "/");
	const char *query = strchr(url, '?');
	REQUIRE(path && query);
	snprintf(out, size, "%.*s/%s%s", (int)(path - url), url, key, query);
}

/* ---- the volume as the gateway sees it ------------------------------------------------------ */

/* The keys of every block of chunk indx of ino, from the gateway's own metadata (gw_main's
 * volume, or s's); count returned. */
static size_t chunk_keys_of(const struct served *s, sl_ino ino, uint32_t indx,
			    char keys[][SL_KEY_MAX], size_t max)
{
	struct sl_volume_core *v = &s->gw->vol->core;
	struct sl_slice *ss = NULL;
	size_t n = 0, k = 0;
	struct sl_err err = {0};
	CHECK_RC(sl_meta_read_chunk(v->meta, NULL, ino, indx, &ss, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		for (uint32_t b = 0; ss[i].id && b < sl_block_count(&v->layout, ss[i].size); b++)
			if (k < max)
				sl_block_key(&v->layout, ss[i].id, b, ss[i].size, keys[k++]);
	free(ss);
	return k;
}

static size_t chunk_keys(sl_ino ino, uint32_t indx, char keys[][SL_KEY_MAX], size_t max)
{
	return chunk_keys_of(&gw_main, ino, indx, keys, max);
}

static sl_ino inode_of(sluice_volume *v, const char *path)
{
	sluice_stat st;
	CHECK_RC(sluice_stat_path(v, NULL, path, &st), 0);
	return st.inode;
}

static bool exists(const char *key)
{
	struct sl_obj_info info;
	struct sl_err err = {0};
	int rc = sl_obj_head(direct, key, &info, &err);
	CHECK(rc == 0 || rc == -ENOENT);
	return rc == 0;
}

static size_t count_existing(char keys[][SL_KEY_MAX], size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += exists(keys[i]);
	return k;
}

/* ---- files ---------------------------------------------------------------------------------- */

static uint8_t byte_at(uint64_t off, unsigned seed)
{
	uint64_t x = (off + seed) * 0x9E3779B97F4A7C15ULL;
	return (uint8_t)(x >> 29);
}

static void fill(uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = byte_at(off + i, seed);
}

/* Writes len bytes of pattern seed (from file offset start) in pieces; append or create. */
static int write_pattern(sluice_volume *v, const char *path, uint64_t start, size_t len,
			 unsigned seed, uint32_t mode, bool append)
{
	sluice_file *f;
	int flags = append ? SLUICE_O_WRITE | SLUICE_O_APPEND
			   : SLUICE_O_CREATE | SLUICE_O_OVERWRITE;
	int rc = sluice_open(v, NULL, path, flags, mode, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(MiB);
	REQUIRE(buf);
	for (size_t done = 0; done < len && !rc;) {
		size_t n = len - done < MiB ? len - done : MiB;
		fill(buf, n, start + done, seed);
		ssize_t w = sluice_write(f, buf, n);
		if (w != (ssize_t)n)
			rc = w < 0 ? (int)w : -EIO;
		done += n;
	}
	free(buf);
	int crc = sluice_close(f);
	return rc ? rc : crc;
}

/* 0 if the file holds exactly len bytes of the pattern (bytes of another seed from `from`). */
static int check_pattern(sluice_volume *v, const char *path, size_t len, unsigned seed,
			 uint64_t from, unsigned seed2)
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
		if (buf[i] != byte_at(i, i < from ? seed : seed2)) {
			fprintf(stderr, "%s: byte %zu differs\n", path, i);
			rc = -EIO;
		}
	free(buf);
	return rc;
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* A keyless client does everything a file system does; the data really goes to the bucket and
 * away again. */
static void test_roundtrip(void)
{
	sluice_volume *a = client("alice", &gw_main, false);
	REQUIRE(a);
	/* the gateway kept the keys: the client's store is the presigned one */
	CHECK(!strcmp(a->core.store->be->name, "presigned"));
	CHECK(a->core.format.access_key[0] == 0 && a->core.format.secret_key[0] == 0);

	CHECK_RC(sluice_mkdir(a, NULL, "/a", 0755, 0), 0);
	const size_t big = 10 * MiB + 12345, small = 100, tail = 5000;
	CHECK_RC(write_pattern(a, "/a/big", 0, big, 1, 0644, false), 0);
	CHECK_RC(write_pattern(a, "/a/small", 0, small, 2, 0644, false), 0);
	CHECK_RC(check_pattern(a, "/a/big", big, 1, big, 1), 0);
	CHECK_RC(check_pattern(a, "/a/small", small, 2, small, 2), 0);

	sl_ino big_ino = inode_of(a, "/a/big"), small_ino = inode_of(a, "/a/small");
	static char keys[64][SL_KEY_MAX];
	size_t nbig = chunk_keys(big_ino, 0, keys, 60);
	CHECK(nbig >= 3); /* 10 MiB in 4 MiB blocks */
	size_t n = nbig + chunk_keys(small_ino, 0, keys + nbig, 64 - nbig);
	CHECK_RC(n, nbig + 1);
	CHECK_RC(count_existing(keys, n), n);

	/* append (a new slice), then read across the old end */
	CHECK_RC(write_pattern(a, "/a/big", big, tail, 3, 0, true), 0);
	CHECK_RC(check_pattern(a, "/a/big", big + tail, 1, big, 3), 0);
	/* truncate, rename, read again */
	CHECK_RC(sluice_truncate(a, NULL, "/a/big", 5 * MiB + 7), 0);
	CHECK_RC(check_pattern(a, "/a/big", 5 * MiB + 7, 1, big, 1), 0);
	CHECK_RC(sluice_rename(a, NULL, "/a/big", "/a/big2", 0), 0);
	CHECK_RC(check_pattern(a, "/a/big2", 5 * MiB + 7, 1, big, 1), 0);

	/* every block the file ever had is in the bucket until the delete, then the gateway
	 * removes them (the client may not) */
	n = chunk_keys(big_ino, 0, keys, 60);
	CHECK(n >= nbig + 1);
	n += chunk_keys(small_ino, 0, keys + n, 64 - n);
	CHECK_RC(count_existing(keys, n), n);
	CHECK_RC(sluice_delete(a, NULL, "/a/big2", 0), 0);
	CHECK_RC(sluice_delete(a, NULL, "/a/small", 0), 0);
	size_t left = n;
	for (int i = 0; i < 200 && left; i++) {
		usleep(100000);
		left = count_existing(keys, n);
	}
	CHECK_RC(left, 0);
	sluice_shutdown(a);

	/* a client configured with the keys keeps reaching the bucket directly */
	sluice_volume *k = client("alice", &gw_main, true);
	REQUIRE(k);
	CHECK(strcmp(k->core.store->be->name, "presigned") != 0);
	CHECK_RC(write_pattern(k, "/a/keyed", 0, 3000, 4, 0644, false), 0);
	CHECK_RC(check_pattern(k, "/a/keyed", 3000, 4, 3000, 4), 0);
	sluice_shutdown(k);
}

/* URLs for reading: only for a block of a chunk the acting user may read, and only that
 * object. */
static void test_read_permission(void)
{
	sluice_volume *a = client("alice", &gw_main, false);
	sluice_volume *b = client("bob", &gw_main, false);
	REQUIRE(a && b);
	CHECK_RC(sluice_mkdir(a, NULL, "/p", 0755, 0), 0);
	CHECK_RC(write_pattern(a, "/p/private", 0, 3000, 5, 0600, false), 0);
	CHECK_RC(write_pattern(a, "/p/open", 0, 2000, 6, 0644, false), 0);
	sl_ino priv = inode_of(a, "/p/private"), open = inode_of(a, "/p/open");
	static char pk[4][SL_KEY_MAX], ok[4][SL_KEY_MAX];
	REQUIRE(chunk_keys(priv, 0, pk, 4) == 1 && chunk_keys(open, 0, ok, 4) == 1);

	/* bob reads neither through his client nor by asking for the URL himself */
	char msg[1024];
	CHECK_RC(check_pattern(b, "/p/private", 3000, 5, 3000, 5), -EACCES);
	CHECK_RC(check_pattern(b, "/p/open", 2000, 6, 2000, 6), 0);
	char *url = malloc(SL_PRESIGN_URL_MAX), *other = malloc(SL_PRESIGN_URL_MAX);
	REQUIRE(url && other);
	struct sl_rpc_conn cb, ca, ch;
	REQUIRE(raw_open(&cb, "bob", &gw_main) && raw_open(&ca, "alice", &gw_main) &&
		raw_open(&ch, "hive", &gw_main));
	CHECK_RC(presign(&cb, NULL, "GET", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), -EACCES);
	CHECK(strstr(msg, "permission denied") != NULL);
	CHECK_RC(presign(&cb, NULL, "HEAD", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), -EACCES);
	/* naming a file he may read does not help: the key is not in its chunk */
	CHECK_RC(presign(&cb, NULL, "GET", pk[0], open, 0, NULL, url, msg, sizeof(msg)), -ENOENT);
	/* nor does claiming to be alice: he is no proxy user */
	CHECK(presign(&cb, "alice", "GET", pk[0], priv, 0, NULL, url, msg, sizeof(msg)) < 0);
	/* hive may act for alice */
	CHECK_RC(presign(&ch, "alice", "GET", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), 0);
	CHECK_RC(presign(&ch, NULL, "GET", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), -EACCES);

	/* alice gets the URL; it serves that object and no other, and only to read */
	CHECK_RC(presign(&ca, NULL, "GET", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), 0);
	CHECK(strstr(url, "X-Amz-Expires=900&") != NULL); /* the default gateway.presign-expiry */
	struct resp r;
	CHECK_RC(http("GET", url, NULL, 0, &r), 200);
	CHECK(r.len == 3000 && r.body && r.body[0] == (char)byte_at(0, 5) &&
	      r.body[2999] == (char)byte_at(2999, 5));
	free(r.body);
	swap_object(url, ok[0], other, SL_PRESIGN_URL_MAX);
	CHECK_RC(http("GET", other, NULL, 0, NULL), 403);
	CHECK_RC(http("PUT", url, "x", 1, NULL), 403);
	CHECK_RC(http("DELETE", url, NULL, 0, NULL), 403);
	CHECK(exists(pk[0]));

	/* keys that are not blocks of that chunk */
	char key[SL_KEY_MAX];
	snprintf(key, sizeof(key), "%s", pk[0]);
	char *sz = strrchr(key, '_');
	REQUIRE(sz);
	snprintf(sz, sizeof(key) - (size_t)(sz - key), "_3001"); /* wrong size suffix */
	CHECK_RC(presign(&ca, NULL, "GET", key, priv, 0, NULL, url, msg, sizeof(msg)), -ENOENT);
	snprintf(sz, sizeof(key) - (size_t)(sz - key), "_03000"); /* another spelling */
	CHECK_RC(presign(&ca, NULL, "GET", key, priv, 0, NULL, url, msg, sizeof(msg)), -EINVAL);
	CHECK_RC(presign(&ca, NULL, "GET", ok[0], priv, 0, NULL, url, msg, sizeof(msg)), -ENOENT);
	CHECK_RC(presign(&ca, NULL, "GET", pk[0], priv, 1, NULL, url, msg, sizeof(msg)), -ENOENT);
	snprintf(key, sizeof(key), "%s", pk[0]);
	sz = strrchr(key, '/');
	uint64_t id = strtoull(sz + 1, NULL, 10);
	snprintf(sz, sizeof(key) - (size_t)(sz - key), "/%llu_1_3000", (unsigned long long)id);
	CHECK_RC(presign(&ca, NULL, "GET", key, priv, 0, NULL, url, msg, sizeof(msg)), -ENOENT);
	CHECK_RC(presign(&ca, NULL, "GET", "othervol/chunks/0/0/1_0_100", priv, 0, NULL, url, msg,
			 sizeof(msg)), -EINVAL);
	CHECK_RC(presign(&ca, NULL, "GET", VOL "/chunks/0/0/../../x", priv, 0, NULL, url, msg,
			 sizeof(msg)), -EINVAL);
	CHECK_RC(presign(&ca, NULL, "GET", VOL "/x", priv, 0, NULL, url, msg, sizeof(msg)), -EINVAL);
	CHECK_RC(presign(&ca, NULL, "POST", pk[0], priv, 0, NULL, url, msg, sizeof(msg)), -EINVAL);

	/* a block the vfs asks for without having read its chunk here: the provider says -ENOENT
	 * (the reader then re-reads the chunk); DELETE is refused before asking */
	struct sl_err err = {0};
	sluice_volume *a2 = client("alice", &gw_main, false);
	REQUIRE(a2);
	struct sl_presign_provider prov2;
	REQUIRE(sl_meta_object_provider(a2->core.meta, &prov2, &err) == 0);
	CHECK_RC(prov2.url(prov2.arg, "GET", pk[0], 0, url, SL_PRESIGN_URL_MAX, &err), -ENOENT);
	CHECK_RC(prov2.url(prov2.arg, "DELETE", pk[0], 0, url, SL_PRESIGN_URL_MAX, &err), -EPERM);
	CHECK_RC(prov2.url(prov2.arg, "PUT", pk[0], 0, url, SL_PRESIGN_URL_MAX, &err), -EPERM);
	CHECK(strstr(err.msg, "not granted") != NULL);
	/* ... and reads through the client do (which notes the chunk) */
	CHECK_RC(check_pattern(a2, "/p/private", 3000, 5, 3000, 5), 0);
	CHECK_RC(prov2.url(prov2.arg, "GET", pk[0], 0, url, SL_PRESIGN_URL_MAX, &err), 0);
	/* URLs are reused until near their end, and a fresh one is had on demand */
	CHECK_RC(prov2.url(prov2.arg, "GET", pk[0], 0, other, SL_PRESIGN_URL_MAX, &err), 0);
	CHECK(!strcmp(url, other));
	sleep(1); /* a fresh URL differs by its X-Amz-Date: whole seconds of the system clock */
	CHECK_RC(prov2.url(prov2.arg, "GET", pk[0], 0, other, SL_PRESIGN_URL_MAX, &err), 0);
	CHECK(!strcmp(url, other));
	CHECK_RC(prov2.url(prov2.arg, "GET", pk[0], SL_PRESIGN_FRESH, other, SL_PRESIGN_URL_MAX,
			   &err), 0);
	CHECK(strcmp(url, other) != 0);
	sluice_shutdown(a2);

	sl_rpc_conn_close(&ca);
	sl_rpc_conn_close(&cb);
	sl_rpc_conn_close(&ch);
	free(url);
	free(other);
	sluice_shutdown(a);
	sluice_shutdown(b);
}

/* URLs for writing: only blocks of slices granted to this caller, checked by any gateway. */
static void test_put_grants(void)
{
	char *url = malloc(SL_PRESIGN_URL_MAX), *other = malloc(SL_PRESIGN_URL_MAX);
	char msg[1024], key[SL_KEY_MAX];
	REQUIRE(url && other);
	struct sl_rpc_conn ca, cb, cs;
	REQUIRE(raw_open(&ca, "alice", &gw_main) && raw_open(&cb, "bob", &gw_main) &&
		raw_open(&cs, "alice", &gw_short));
	struct sl_slice_grant g, bad;
	REQUIRE(next_ids(&ca, 16, &g));
	const struct sl_chunk_layout *l = &gw_main.gw->vol->core.layout;

	sl_block_key(l, g.first, 0, 1000, key);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), 0);
	static char data[1000];
	memset(data, 'p', sizeof(data));
	CHECK_RC(http("PUT", url, data, sizeof(data), NULL), 200);
	CHECK(exists(key));
	/* that URL writes that object only, and does not read or delete */
	char key2[SL_KEY_MAX];
	sl_block_key(l, g.first + 1, 0, 1000, key2);
	swap_object(url, key2, other, SL_PRESIGN_URL_MAX);
	CHECK_RC(http("PUT", other, data, sizeof(data), NULL), 403);
	CHECK(!exists(key2));
	CHECK_RC(http("GET", url, NULL, 0, NULL), 403);
	CHECK_RC(http("DELETE", url, NULL, 0, NULL), 403);
	CHECK(exists(key));

	/* the last id of the range and a full block of it; not one past either end */
	sl_block_key(l, g.first + 15, 1, l->block_size + 10, key);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), 0);
	sl_block_key(l, g.first + 16, 0, 1000, key);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EPERM);
	CHECK(strstr(msg, "not among the ids granted") != NULL);
	sl_block_key(l, g.first - 1, 0, 1000, key);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EPERM);
	/* a block longer than the block size, or past the chunk, is no block key */
	snprintf(key, sizeof(key), "%s", key2);
	char *sz = strrchr(key, '_');
	snprintf(sz, sizeof(key) - (size_t)(sz - key), "_%u", l->block_size + 1);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EINVAL);
	sl_block_key(l, g.first + 1, (uint32_t)(SL_CHUNK_SIZE / l->block_size),
		     (uint32_t)SL_CHUNK_SIZE + 10, key);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EINVAL);

	/* altered grants */
	sl_block_key(l, g.first + 1, 0, 1000, key);
	bad = g;
	bad.mac[7] ^= 1;
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &bad, url, msg, sizeof(msg)), -EPERM);
	CHECK(strstr(msg, "not issued") != NULL);
	bad = g;
	bad.count = 1u << 20; /* a wider range */
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &bad, url, msg, sizeof(msg)), -EPERM);
	bad = g;
	bad.first -= 1;
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &bad, url, msg, sizeof(msg)), -EPERM);
	bad = g;
	bad.issued += 100; /* a younger grant */
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &bad, url, msg, sizeof(msg)), -EPERM);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, NULL, url, msg, sizeof(msg)), -EPERM);
	/* a grant shown by another principal than the one it was issued to */
	CHECK_RC(presign(&cb, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EPERM);
	CHECK(strstr(msg, "bob") != NULL);
	/* DELETE, with or without a grant */
	CHECK_RC(presign(&ca, NULL, "DELETE", key, 0, 0, &g, url, msg, sizeof(msg)), -EPERM);
	sl_block_key(l, g.first, 0, 1000, key);
	CHECK_RC(presign(&ca, NULL, "DELETE", key, 0, 0, NULL, url, msg, sizeof(msg)), -EPERM);
	CHECK(exists(key));

	/* any gateway of the volume checks a grant (no shared state); each applies its own
	 * gateway.grant-lifetime (3 s at gw_short) */
	sl_block_key(l, g.first + 2, 0, 1000, key);
	CHECK_RC(presign(&cs, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), 0);
	sl_clock_advance(&gw_clock, 4000);
	CHECK_RC(presign(&cs, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), -EPERM);
	CHECK(strstr(msg, "grant-lifetime") != NULL);
	CHECK_RC(presign(&ca, NULL, "PUT", key, 0, 0, &g, url, msg, sizeof(msg)), 0);

	/* a gateway of a volume whose storage cannot be presigned signs nothing (it grants slice
	 * ids all the same: commits need the grants) */
	struct sl_rpc_conn cf;
	REQUIRE(raw_open(&cf, "alice", &gw_file));
	CHECK(next_ids(&cf, 4, &bad));
	CHECK_RC(presign(&cf, NULL, "GET", key, 2, 0, NULL, url, msg, sizeof(msg)), -EOPNOTSUPP);
	CHECK(strstr(msg, "access-key/secret-key") != NULL);
	sl_rpc_conn_close(&cf);

	sl_rpc_conn_close(&ca);
	sl_rpc_conn_close(&cb);
	sl_rpc_conn_close(&cs);
	free(url);
	free(other);
}

/* Waits until the wall clock is just past a full second, so that a URL signed now (whose date
 * has whole seconds) lives its full expiry. */
static void at_second_start(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct timespec d = {0, 1000000000L - ts.tv_nsec + 20000000L};
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec = 1;
		d.tv_nsec -= 1000000000L;
	}
	nanosleep(&d, NULL);
}

/* gateway.presign-expiry=1: URLs die within seconds; clients get fresh ones on their own. */
static void test_expiry(void)
{
	sluice_volume *a = client("alice", &gw_short, false);
	REQUIRE(a);
	CHECK_RC(sluice_mkdir(a, NULL, "/e", 0755, 0), 0);
	const size_t len = 6 * MiB;
	CHECK_RC(write_pattern(a, "/e/f", 0, len, 7, 0644, false), 0);
	CHECK_RC(check_pattern(a, "/e/f", len, 7, len, 7), 0);
	static char keys[8][SL_KEY_MAX];
	sl_ino ino = inode_of(a, "/e/f");
	REQUIRE(chunk_keys(ino, 0, keys, 8) == 2);
	CHECK(strstr(keys[1], "_1_2097152") != NULL); /* one slice: 4 MiB, then 2 MiB */

	char *url = malloc(SL_PRESIGN_URL_MAX), msg[1024];
	REQUIRE(url);
	struct sl_rpc_conn c;
	REQUIRE(raw_open(&c, "alice", &gw_short));
	at_second_start();
	CHECK_RC(presign(&c, NULL, "GET", keys[0], ino, 0, NULL, url, msg, sizeof(msg)), 0);
	CHECK(strstr(url, "X-Amz-Expires=1&") != NULL);
	CHECK_RC(http("GET", url, NULL, 0, NULL), 200);
	sleep(3); /* the object store decides on its own clock that a URL expired: real time */
	struct resp r;
	CHECK_RC(http("GET", url, NULL, 0, &r), 403);
	CHECK(r.body && strstr(r.body, "xpired") != NULL);
	free(r.body);
	sl_rpc_conn_close(&c);

	/* the client reads on: small random reads go to object storage every time */
	sluice_file *f;
	REQUIRE(sluice_open(a, NULL, "/e/f", SLUICE_O_READ, 0, 0, &f) == 0);
	uint8_t buf[1000];
	uint64_t gets = a->core.store->stats.gets;
	for (int round = 0; round < 3; round++) {
		uint64_t off = (uint64_t)round * (MiB / 3) + 100;
		CHECK_RC(sluice_pread(f, buf, sizeof(buf), off), sizeof(buf));
		CHECK(buf[0] == byte_at(off, 7) && buf[999] == byte_at(off + 999, 7));
		CHECK_RC(sluice_pread(f, buf, sizeof(buf), off + 4 * MiB), sizeof(buf));
		CHECK(buf[0] == byte_at(off + 4 * MiB, 7));
		sleep(2); /* every URL had so far has expired */
	}
	CHECK(a->core.store->stats.gets >= gets + 6);
	sluice_close(f);
	/* the same through the client's store directly, past the expiry of its cached URL */
	struct sl_err err = {0};
	CHECK_RC(sl_obj_get(a->core.store, keys[1], 10, buf, 100, &err), 100);
	sleep(2); /* past the URL's expiry on the object store's clock */
	CHECK_RC(sl_obj_get(a->core.store, keys[1], 20, buf, 100, &err), 100);
	CHECK(buf[0] == byte_at(4 * MiB + 20, 7));
	free(url);
	sluice_shutdown(a);
}

/* An encrypted volume through the gateway: the gateway insists on privacy; its clients get the
 * public key, never the private one; what they write is sealed (a direct client with the key
 * reads it, and the reverse); a data key goes to those who may read the block, as a URL does. */
static void test_encrypted(const char *keyfile)
{
	char keytab[1100], rcache[1100], msg[1024];
	snprintf(keytab, sizeof(keytab), "%s/gateway.keytab", kdir);
	snprintf(rcache, sizeof(rcache), "%s.rc", keyfile);
	sluice_kv no_privacy[] = {{"meta", enc_meta}, {"gateway.listen", "127.0.0.1:0"},
			     {"gateway.keytab", keytab}, {"gateway.principal", SERVICE},
			     {"gateway.rcache", rcache}, {"encrypt.passphrase", ENC_PASS}};
	struct sl_gateway *refused = NULL;
	CHECK_RC(sl_gateway_new(no_privacy, 6, NULL, &refused, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "gateway.protection=privacy") != NULL);

	sluice_volume *a = client("alice", &gw_enc, false);
	sluice_volume *b = client("bob", &gw_enc, false);
	REQUIRE(a && b);
	CHECK(!strcmp(a->core.store->be->name, "presigned"));
	CHECK(a->core.format.encrypt_key == NULL && a->core.format.encrypt_public_key != NULL);
	CHECK(a->core.layout.cipher != NULL);
	CHECK(strstr(a->core.format.encrypt_public_key, "PRIVATE") == NULL);

	const size_t big = 5 * MiB + 777;
	CHECK_RC(sluice_mkdir(a, NULL, "/e", 0755, 0), 0);
	CHECK_RC(write_pattern(a, "/e/big", 0, big, 7, 0600, false), 0);
	CHECK_RC(write_pattern(a, "/e/open", 0, 3000, 8, 0644, false), 0);
	CHECK_RC(check_pattern(a, "/e/big", big, 7, big, 7), 0);
	CHECK_RC(check_pattern(b, "/e/open", 3000, 8, 3000, 8), 0);
	CHECK_RC(check_pattern(b, "/e/big", big, 7, big, 7), -EACCES);

	/* stored sealed: one block's object is its length plus the overhead, not its bytes */
	sl_ino ino = inode_of(a, "/e/big"), open_ino = inode_of(a, "/e/open");
	static char keys[8][SL_KEY_MAX];
	REQUIRE(chunk_keys_of(&gw_enc, ino, 0, keys, 8) == 2);
	struct sl_objstore *store = NULL;
	struct sl_obj_config oc = {.storage = "minio", .bucket = enc_bucket,
				   .access_key = s3_access, .secret_key = s3_secret,
				   .path_style = -1, .connect_timeout_s = 10, .io_timeout_s = 30,
				   .retries = 3};
	struct sl_err err = {0};
	REQUIRE(sl_obj_open(&oc, &store, &err) == 0);
	uint8_t *obj = malloc(5 * MiB), *want = malloc(4 * MiB);
	int64_t n = sl_obj_get(store, keys[0], 0, obj, 5 * MiB, &err);
	CHECK_RC(n, 4 * MiB + sl_cipher_overhead(a->core.layout.cipher));
	fill(want, 4 * MiB, 0, 7);
	CHECK(n < 4096 || memcmp(obj + n - 4096 - 16, want + 4 * MiB - 4096, 4096) != 0);

	/* a client with the private key (direct mode) reads what the gateway's client wrote, and
	 * the reverse */
	sluice_kv dconf[] = {{"meta", enc_meta}, {"encrypt.passphrase", ENC_PASS}, {"user", "alice"}};
	sluice_volume *d = NULL;
	REQUIRE(sluice_init(dconf, 3, &d, msg, sizeof(msg)) == 0);
	const sluice_user alice_u = {"alice", (const char *const[]){"alice"}, 1};
	CHECK_RC(check_pattern(d, "/e/big", big, 7, big, 7), 0);
	sluice_file *f;
	uint8_t buf[4000];
	fill(buf, sizeof(buf), 0, 9);
	REQUIRE(sluice_open(d, &alice_u, "/e/direct", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	CHECK_RC(sluice_write(f, buf, sizeof(buf)), (long long)sizeof(buf));
	CHECK_RC(sluice_close(f), 0);
	CHECK_RC(check_pattern(a, "/e/direct", sizeof(buf), 9, sizeof(buf), 9), 0);
	sluice_shutdown(d);

	/* data keys: for those who may read the block, as URLs are; a malformed one goes nowhere */
	struct sl_rpc_conn ca, cb;
	REQUIRE(raw_open(&ca, "alice", &gw_enc) && raw_open(&cb, "bob", &gw_enc));
	char *key = malloc(SL_PRESIGN_URL_MAX), *other = malloc(SL_PRESIGN_URL_MAX);
	REQUIRE(key && other);
	CHECK_RC(presign(&ca, NULL, "KEY", keys[0], ino, 0, NULL, key, msg, sizeof(msg)), 0);
	CHECK_RC(strlen(key), 64);
	CHECK_RC(presign(&ca, NULL, "KEY", keys[1], ino, 0, NULL, other, msg, sizeof(msg)), 0);
	CHECK(strcmp(key, other) != 0); /* a data key per block */
	CHECK_RC(presign(&cb, NULL, "KEY", keys[0], ino, 0, NULL, key, msg, sizeof(msg)), -EACCES);
	static char okeys[2][SL_KEY_MAX];
	REQUIRE(chunk_keys_of(&gw_enc, open_ino, 0, okeys, 2) == 1);
	CHECK_RC(presign(&cb, NULL, "KEY", keys[0], open_ino, 0, NULL, key, msg, sizeof(msg)),
		 -ENOENT);
	CHECK_RC(presign(&cb, NULL, "KEY", okeys[0], open_ino, 0, NULL, key, msg, sizeof(msg)), 0);
	/* the key opens the block: AES-256-GCM over what follows the header */
	size_t hlen = sl_cipher_header_len(a->core.layout.cipher);
	uint8_t dk[32], *plain = malloc(4 * MiB);
	for (int i = 0; i < 32; i++) {
		unsigned x;
		REQUIRE(sscanf(key + 2 * i, "%2x", &x) == 1);
		dk[i] = (uint8_t)x;
	}
	uint8_t *small = malloc(8192);
	int64_t sn = sl_obj_get(store, okeys[0], 0, small, 8192, &err);
	REQUIRE(sn == (int64_t)(3000 + sl_cipher_overhead(a->core.layout.cipher)));
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	CHECK(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, dk, small + hlen - 12) == 1 &&
	      EVP_DecryptUpdate(ctx, plain, &len, small + hlen, 3000) == 1 &&
	      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, small + hlen + 3000) == 1 &&
	      EVP_DecryptFinal_ex(ctx, plain + len, &fin) == 1);
	fill(want, 3000, 0, 8);
	CHECK(len == 3000 && memcmp(plain, want, 3000) == 0);
	EVP_CIPHER_CTX_free(ctx);
	/* a volume without encryption has no data keys */
	struct sl_rpc_conn cm;
	REQUIRE(raw_open(&cm, "alice", &gw_main));
	CHECK_RC(presign(&cm, NULL, "KEY", okeys[0], open_ino, 0, NULL, key, msg, sizeof(msg)),
		 -EINVAL);
	sl_rpc_conn_close(&cm);
	sl_rpc_conn_close(&ca);
	sl_rpc_conn_close(&cb);
	free(small);
	free(plain);
	free(key);
	free(other);
	free(obj);
	free(want);
	sl_obj_close(store);
	sluice_shutdown(a);
	sluice_shutdown(b);
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	s3_endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	s3_access = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	s3_secret = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char *dir = tu_tempdir("gwdata");
	char meta[1100], fmeta[1100], fbucket[1100], rc1[1100], rc2[1100], rc3[1100], msg[1024];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(fmeta, sizeof(fmeta), "sqlite3://%s/file-meta.db", dir);
	snprintf(fbucket, sizeof(fbucket), "%s/data", dir);
	snprintf(rc1, sizeof(rc1), "%s/rcache1", dir);
	snprintf(rc2, sizeof(rc2), "%s/rcache2", dir);
	snprintf(rc3, sizeof(rc3), "%s/rcache3", dir);
	snprintf(bucket, sizeof(bucket), "%s/gwdata-%ld-%ld", s3_endpoint, (long)getpid(),
		 (long)time(NULL));
	sluice_format_options fo = {.meta_url = meta, .name = VOL, .storage = "minio",
				    .bucket = bucket, .access_key = s3_access,
				    .secret_key = s3_secret, .trash_days = 0};
	if (sluice_format(&fo, msg, sizeof(msg))) {
		fprintf(stderr, "format: %s\n", msg);
		return 1;
	}
	sluice_format_options ff = {.meta_url = fmeta, .name = "gwfile", .storage = "file",
				    .bucket = fbucket, .trash_days = 0};
	REQUIRE(sluice_format(&ff, msg, sizeof(msg)) == 0);
	struct sl_obj_config oc = {.storage = "minio", .bucket = bucket, .access_key = s3_access,
				   .secret_key = s3_secret, .path_style = -1,
				   .connect_timeout_s = 10, .io_timeout_s = 30, .retries = 3};
	struct sl_err err = {0};
	if (sl_obj_open(&oc, &direct, &err)) {
		fprintf(stderr, "bucket: %s\n", err.msg);
		return 1;
	}
	/* the encrypted volume: a passphrase-protected RSA key */
	char keyfile[1100], rc4[1100];
	snprintf(keyfile, sizeof(keyfile), "%s/key.pem", dir);
	snprintf(rc4, sizeof(rc4), "%s/rcache4", dir);
	snprintf(enc_meta, sizeof(enc_meta), "sqlite3://%s/enc-meta.db", dir);
	snprintf(enc_bucket, sizeof(enc_bucket), "%s-enc", bucket);
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	FILE *kf = fopen(keyfile, "w");
	REQUIRE(rsa && kf && PEM_write_PrivateKey(kf, rsa, EVP_aes_256_cbc(),
						  (unsigned char *)ENC_PASS, strlen(ENC_PASS),
						  NULL, NULL) == 1);
	fclose(kf);
	EVP_PKEY_free(rsa);
	sluice_format_options fe = {.meta_url = enc_meta, .name = "gwenc", .storage = "minio",
				    .bucket = enc_bucket, .access_key = s3_access,
				    .secret_key = s3_secret, .trash_days = 0,
				    .encrypt_rsa_key = keyfile};
	REQUIRE(setenv("JFS_RSA_PASSPHRASE", ENC_PASS, 1) == 0);
	if (sluice_format(&fe, msg, sizeof(msg))) {
		fprintf(stderr, "format (encrypted): %s\n", msg);
		return 1;
	}
	REQUIRE(unsetenv("JFS_RSA_PASSPHRASE") == 0);
	serve(&gw_enc, enc_meta, rc4, "900", "86400");
	serve(&gw_main, meta, rc1, "900", "86400");
	serve(&gw_short, meta, rc2, "1", "3");
	serve(&gw_file, fmeta, rc3, "900", "86400");

	test_roundtrip();
	test_read_permission();
	test_put_grants();
	test_expiry();
	test_encrypted(keyfile);

	tu_unserve(&gw_main);
	tu_unserve(&gw_short);
	tu_unserve(&gw_file);
	tu_unserve(&gw_enc);
	sl_obj_close(direct);
	curl_global_cleanup();
	free(dir);
	return tu_finish("test_gateway_data");
}
