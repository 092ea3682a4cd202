/*
 * test_gateway_tokens.c - delegation tokens end to end against a real MIT KDC (tests/env/kdc.sh):
 * two gateways in this process serve one volume (SQLite, and MariaDB when make test provides it);
 * Kerberos clients issue, renew and cancel tokens, and clients holding only a token (no ticket
 * cache, no keytab) use the volume as the token's owner until it is cancelled or expires. Forged
 * tokens and tampered protected messages are refused.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/token.h"
#include "gateway/gateway.h"
#include "meta/meta.h"
#include "rpc/conn.h"
#include "rpc/proto.h"
#include "sluice.h"
#include "gateway_testutil.h"
#include "volume_testutil.h"

/* Gateway 1: tokens live 30 s (60 s at most); gateway 2: 2 s (6 s at most). Both make a new
 * master key every second, so rotation happens within a test. */
#define G1_RENEW_MS 30000
#define G1_MAX_MS 60000
#define G2_RENEW_MS 2000
#define G2_MAX_MS 6000

static const char *kdir;
static const char *meta;
static char bucket[1024], no_ccache[1200];
static struct served g1, g2;

/* The gateways' clock, by which tokens and master keys age and connections are re-checked:
 * moved on instead of waiting. Their sweeps still run every second of real time. */
static struct sl_clock gw_clock;

static int64_t now_ms(void) { return sl_clock_real_ms(&gw_clock); }

static void advance_ms(int64_t ms) { sl_clock_advance(&gw_clock, ms); }

/* Moves the gateways' clock past the time t (ms since the epoch). */
static void advance_past(int64_t t)
{
	int64_t now = now_ms();
	if (now <= t)
		advance_ms(t - now + 1);
}

/* Waits up to 1.5 s, about a round of both gateways' sweeps, for get to say -ENOENT; returns
 * what it said last. */
static int swept(int (*get)(struct sl_meta *, int64_t), struct sl_meta *m, int64_t id)
{
	int rc;
	for (int waited = 0; (rc = get(m, id)) != -ENOENT && waited < 1500; waited += 50)
		usleep(50 * 1000);
	return rc;
}

static int get_token(struct sl_meta *m, int64_t seq)
{
	struct sl_dt_row row;
	struct sl_err err = {0};
	return sl_meta_dt_get_token(m, (int32_t)seq, &row, &err);
}

static int get_key(struct sl_meta *m, int64_t id)
{
	struct sl_dt_key key;
	struct sl_err err = {0};
	return sl_meta_dt_get_key(m, (int32_t)id, &key, &err);
}

static void start(struct served *s, const char *renew, const char *max)
{
	char keytab[1100], rcache[1100];
	snprintf(keytab, sizeof(keytab), "%s/gateway.keytab", kdir);
	snprintf(rcache, sizeof(rcache), "%s/rcache", bucket);
	sluice_kv conf[] = {
		{"meta", meta},
		{"gateway.listen", "127.0.0.1:0"},
		{"gateway.keytab", keytab},
		{"gateway.principal", "sluice/localhost@SLUICE.TEST"},
		{"gateway.rcache", rcache},
		{"gateway.handshake-timeout", "2"},
		{"group-mapping.static", "alice=alice,staff;bob=bob;hive=hive;carol=carol,supergroup"},
		{"proxyuser.hive.hosts", "127.0.0.1"},
		{"proxyuser.hive.users", "alice"},
		{"gateway.token.renew-interval", renew},
		{"gateway.token.max-lifetime", max},
		{"gateway.token.key-update-interval", "1"},
	};
	tu_serve(s, conf, sizeof(conf) / sizeof(conf[0]), &gw_clock);
}

/* ---- clients -------------------------------------------------------------------------------- */

/* A Kerberos client volume logged in from who's keytab. */
static sluice_volume *kclient(const char *who, const char *url)
{
	char keytab[1100], msg[512];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", url},
		{"gateway.principal", "sluice/localhost@SLUICE.TEST"},
		{"kerberos.keytab", keytab},
		{"bucket", bucket},
		{"io-timeout", "10"},
	};
	sluice_volume *v = NULL;
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &v, msg, sizeof(msg)))
		fprintf(stderr, "kclient %s: %s\n", who, msg);
	return v;
}

static void b64(const void *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* A client that holds only the token: no keytab, and a ticket cache that does not exist. */
static sluice_volume *tclient(const sluice_token *t, const char *url, char *msg, size_t size)
{
	char ident[2 * SLUICE_TOKEN_IDENT_MAX], pass[64];
	b64(t->identifier, t->identifier_len, ident);
	b64(t->password, sizeof(t->password), pass);
	sluice_kv conf[] = {
		{"meta", url},
		{"kerberos.ccache", no_ccache},
		{"token.identifier", ident},
		{"token.password", pass},
		{"bucket", bucket},
		{"io-timeout", "10"},
	};
	sluice_volume *v = NULL;
	msg[0] = 0;
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &v, msg, size))
		return NULL;
	return v;
}

/* Renews (expiry != NULL) or cancels t as who (Kerberos, from its keytab) through url. */
static int as_user(const char *who, const char *url, const sluice_token *t, int64_t *expiry,
		   char *msg, size_t size)
{
	char keytab[1100];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", url},
		{"gateway.principal", "sluice/localhost@SLUICE.TEST"},
		{"kerberos.keytab", keytab},
		{"io-timeout", "10"},
	};
	size_t n = sizeof(conf) / sizeof(conf[0]);
	return expiry ? sluice_token_renew(conf, n, t, expiry, msg, size)
		      : sluice_token_cancel(conf, n, t, msg, size);
}


static struct sl_dt_ident decode(const sluice_token *t)
{
	struct sl_dt_ident id;
	struct sl_err err = {0};
	memset(&id, 0, sizeof(id));
	CHECK_RC(sl_dt_decode(t->identifier, t->identifier_len, &id, &err), 0);
	return id;
}

/* A request that needs the gateway: the root's attributes are not cached by a client. */
static int ping(sluice_volume *v)
{
	sluice_stat st;
	return sluice_stat_path(v, NULL, "/", &st);
}

static sluice_token issue(sluice_volume *v, const sluice_user *u, const char *renewer)
{
	sluice_token t;
	memset(&t, 0, sizeof(t));
	int rc = sluice_token_issue(v, u, renewer, &t);
	if (rc)
		fprintf(stderr, "issue: %s\n", sluice_last_error(v));
	REQUIRE(rc == 0);
	return t;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Issue to a Kerberos user, then use the token alone: as its owner, and as nobody else. */
static void test_issue_and_use(void)
{
	char msg[512], buf[128], service[64];
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	int64_t before = now_ms();
	sluice_token t = issue(alice, NULL, "hive@SLUICE.TEST"); /* a principal: mapped to hive */
	struct sl_dt_ident id = decode(&t);
	CHECK(!strcmp(id.owner, "alice"));
	CHECK(!strcmp(id.renewer, "hive"));
	CHECK(!strcmp(id.real_user, ""));
	CHECK(id.issue_ms >= before - 1000 && id.issue_ms <= now_ms() + 1000);
	CHECK_RC(id.max_ms - id.issue_ms, G1_MAX_MS);
	CHECK(id.seq > 0 && id.master_key_id > 0);
	snprintf(service, sizeof(service), "127.0.0.1:%d", g1.port);
	CHECK(!strcmp(t.service, service));

	CHECK_RC(sluice_mkdir(alice, NULL, "/alice", 0700, 0), 0);
	sluice_volume *tv = tclient(&t, g1.url, msg, sizeof(msg));
	if (!tv)
		fprintf(stderr, "token client: %s\n", msg);
	REQUIRE(tv);
	CHECK_RC(tu_put_text(tv, NULL, "/alice/by-token", "written with a token", 0644), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(tv, NULL, "/alice/by-token", &st), 0);
	CHECK(!strcmp(st.owner, "alice"));
	CHECK_RC(tu_get_text(alice, NULL, "/alice/by-token", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "written with a token"));
	const sluice_user as_alice = {.name = "alice"};
	CHECK_RC(sluice_stat_path(tv, &as_alice, "/alice/by-token", &st), 0);
	/* the token acts only as alice: no proxy requests, whatever the proxy rules say */
	const sluice_user as_bob = {.name = "bob"};
	CHECK_RC(tu_put_text(tv, &as_bob, "/bob-by-token", "x", 0644), -EACCES);
	CHECK(strstr(sluice_last_error(tv), "delegation token") != NULL);
	/* and cannot beget tokens */
	sluice_token t2;
	CHECK_RC(sluice_token_issue(tv, NULL, "hive", &t2), -EPERM);
	sluice_shutdown(tv);

	/* a proxy user obtains a token for the user it acts for: owner alice, real user hive */
	sluice_volume *hive = kclient("hive", g1.url);
	REQUIRE(hive);
	sluice_token th = issue(hive, &as_alice, NULL);
	id = decode(&th);
	CHECK(!strcmp(id.owner, "alice"));
	CHECK(!strcmp(id.real_user, "hive"));
	CHECK(!strcmp(id.renewer, ""));
	tv = tclient(&th, g1.url, msg, sizeof(msg));
	REQUIRE(tv);
	CHECK_RC(tu_get_text(tv, NULL, "/alice/by-token", buf, sizeof(buf)), 0);
	sluice_shutdown(tv);
	/* but not for a user it may not act for */
	const sluice_user as_carol = {.name = "carol"};
	CHECK(sluice_token_issue(hive, &as_carol, NULL, &t2) == -EACCES);
	sluice_shutdown(hive);

	/* a volume reached directly has no tokens */
	sluice_kv dconf[] = {{"meta", meta}};
	sluice_volume *direct = NULL;
	REQUIRE(sluice_init(dconf, 1, &direct, msg, sizeof(msg)) == 0);
	CHECK_RC(sluice_token_issue(direct, NULL, "hive", &t2), -EOPNOTSUPP);
	sluice_shutdown(direct);
	sluice_shutdown(alice);
}

/* Renewal: the renewer only, and never past the max date. */
static void test_renew(void)
{
	char msg[512];
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	sluice_token t = issue(alice, NULL, "hive");
	struct sl_dt_ident id = decode(&t);
	advance_ms(1100);
	int64_t expiry = 0;
	int rc = as_user("hive", g1.url, &t, &expiry, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "renew: %s\n", msg);
	CHECK_RC(rc, 0);
	CHECK(expiry > id.issue_ms + G1_RENEW_MS && expiry <= now_ms() + G1_RENEW_MS);
	CHECK(expiry <= id.max_ms);
	/* not by the owner, nor anyone else who is not the renewer */
	CHECK_RC(as_user("alice", g1.url, &t, &expiry, msg, sizeof(msg)), -EACCES);
	CHECK(strstr(msg, "may not renew") != NULL);
	CHECK_RC(as_user("bob", g1.url, &t, &expiry, msg, sizeof(msg)), -EACCES);
	/* nor with a wrong password */
	sluice_token bad = t;
	bad.password[3] ^= 1;
	CHECK_RC(as_user("hive", g1.url, &bad, &expiry, msg, sizeof(msg)), -EACCES);
	/* a token that names no renewer cannot be renewed */
	sluice_token nr = issue(alice, NULL, NULL);
	CHECK_RC(as_user("hive", g1.url, &nr, &expiry, msg, sizeof(msg)), -EACCES);
	CHECK(strstr(msg, "no renewer") != NULL);

	/* On gateway 2 tokens live 2 s: renewed, one outlives that, but not its max date (6 s).
	 * Gateway 1 serves its holder, and learns of each renewal from the database. */
	sluice_volume *alice2 = kclient("alice", g2.url);
	REQUIRE(alice2);
	sluice_token s = issue(alice2, NULL, "hive");
	sluice_shutdown(alice2);
	id = decode(&s);
	CHECK_RC(id.max_ms - id.issue_ms, G2_MAX_MS);
	sluice_volume *tv = tclient(&s, g1.url, msg, sizeof(msg));
	REQUIRE(tv);
	int64_t last = 0;
	for (int i = 0; i < 8 && last < id.max_ms; i++) {
		advance_ms(1200);
		CHECK_RC(as_user("hive", g2.url, &s, &last, msg, sizeof(msg)), 0);
		CHECK(last <= id.max_ms);
		CHECK_RC(ping(tv), 0); /* alive past the 2 s it was issued for */
	}
	CHECK(last == id.max_ms); /* capped */
	advance_past(id.max_ms + 100);
	CHECK_RC(as_user("hive", g2.url, &s, &last, msg, sizeof(msg)), -EACCES);
	CHECK(ping(tv) != 0);
	sluice_shutdown(tv);
	CHECK(tclient(&s, g1.url, msg, sizeof(msg)) == NULL);
	sluice_shutdown(alice);
}

/* Cancel: by the owner or the renewer; open token connections stop within the re-check time,
 * new ones are refused. */
static void test_cancel(void)
{
	char msg[512];
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	sluice_token t = issue(alice, NULL, "hive");
	sluice_volume *tv = tclient(&t, g1.url, msg, sizeof(msg));
	sluice_volume *tv2 = tclient(&t, g2.url, msg, sizeof(msg)); /* on the other gateway */
	REQUIRE(tv && tv2);
	CHECK_RC(ping(tv), 0);
	CHECK_RC(ping(tv2), 0);
	CHECK_RC(as_user("bob", g1.url, &t, NULL, msg, sizeof(msg)), -EACCES);
	CHECK(strstr(msg, "may not cancel") != NULL);
	CHECK_RC(ping(tv), 0);
	CHECK_RC(as_user("alice", g1.url, &t, NULL, msg, sizeof(msg)), 0);
	advance_ms(1200); /* SL_GW_TOKEN_RECHECK_MS */
	CHECK_RC(ping(tv), -EACCES);
	CHECK(strstr(sluice_last_error(tv), "cancelled or has expired") != NULL);
	CHECK(ping(tv) != 0); /* and the next one too (a new connection is refused) */
	CHECK(ping(tv2) != 0);
	sluice_shutdown(tv);
	sluice_shutdown(tv2);
	CHECK(tclient(&t, g1.url, msg, sizeof(msg)) == NULL);
	CHECK(strstr(msg, "authentication failed") != NULL);
	CHECK_RC(as_user("alice", g1.url, &t, NULL, msg, sizeof(msg)), -EACCES); /* gone */
	/* the renewer may cancel too */
	sluice_token r = issue(alice, NULL, "hive");
	CHECK_RC(as_user("hive", g2.url, &r, NULL, msg, sizeof(msg)), 0);
	CHECK(tclient(&r, g1.url, msg, sizeof(msg)) == NULL);
	sluice_shutdown(alice);
}

/* Without renewal a token ends at its expiry (2 s on gateway 2). */
static void test_expiry(void)
{
	char msg[512];
	sluice_volume *alice = kclient("alice", g2.url);
	REQUIRE(alice);
	sluice_token t = issue(alice, NULL, "hive");
	struct sl_dt_ident id = decode(&t);
	sluice_volume *tv = tclient(&t, g2.url, msg, sizeof(msg));
	REQUIRE(tv);
	CHECK_RC(ping(tv), 0);
	advance_past(id.issue_ms + G2_RENEW_MS + 100);
	CHECK_RC(ping(tv), -EACCES);
	sluice_shutdown(tv);
	CHECK(tclient(&t, g2.url, msg, sizeof(msg)) == NULL);
	CHECK(tclient(&t, g1.url, msg, sizeof(msg)) == NULL);
	int64_t expiry;
	CHECK_RC(as_user("hive", g2.url, &t, &expiry, msg, sizeof(msg)), -EACCES);
	/* swept from the database soon after (both gateways sweep every second here) */
	struct sl_meta *m = NULL;
	struct sl_err err = {0};
	REQUIRE(sl_meta_open(meta, NULL, NULL, &m, &err) == 0);
	CHECK_RC(swept(get_token, m, id.seq), -ENOENT);
	sl_meta_close(m);
	sluice_shutdown(alice);
}

/* Forged tokens: another owner in the identifier, a wrong password, a cut identifier. The
 * refusal tells the unauthenticated peer nothing. */
static void test_forgery(void)
{
	char msg[512];
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	sluice_token t = issue(alice, NULL, "hive");
	struct sl_dt_ident id = decode(&t);
	snprintf(id.owner, sizeof(id.owner), "bob");
	sluice_token f = t;
	struct sl_err err = {0};
	REQUIRE(sl_dt_encode(&id, f.identifier, sizeof(f.identifier), &f.identifier_len, &err) == 0);
	CHECK(tclient(&f, g1.url, msg, sizeof(msg)) == NULL);
	CHECK(strstr(msg, "authentication failed") != NULL);
	CHECK(strstr(msg, "bob") == NULL);
	/* the same with the password recomputed under a key the gateway does not have */
	uint8_t key[64] = {1, 2, 3};
	sl_dt_password(key, sizeof(key), f.identifier, f.identifier_len, f.password);
	CHECK(tclient(&f, g1.url, msg, sizeof(msg)) == NULL);
	/* the right identifier, a wrong password: the gateway cannot prove itself, the client stops */
	f = t;
	f.password[0] ^= 0x80;
	CHECK(tclient(&f, g1.url, msg, sizeof(msg)) == NULL);
	CHECK(strstr(msg, "password") != NULL);
	f = t;
	f.identifier_len--;
	CHECK(tclient(&f, g1.url, msg, sizeof(msg)) == NULL);
	/* the genuine one still works */
	sluice_volume *tv = tclient(&t, g1.url, msg, sizeof(msg));
	CHECK(tv != NULL);
	if (tv)
		sluice_shutdown(tv);
	sluice_shutdown(alice);
}

/* A token signed with a key that is no longer the newest still works; so does one issued by
 * the other gateway. */
static void test_rotation(void)
{
	char msg[512];
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	sluice_token t1 = issue(alice, NULL, "hive");
	advance_ms(1200); /* past gateway.token.key-update-interval */
	sluice_token t2 = issue(alice, NULL, "hive");
	struct sl_dt_ident i1 = decode(&t1), i2 = decode(&t2);
	CHECK(i2.master_key_id > i1.master_key_id);
	const struct served *gws[] = {&g1, &g2};
	const sluice_token *toks[] = {&t1, &t2};
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < 2; k++) {
			sluice_volume *tv = tclient(toks[k], gws[g]->url, msg, sizeof(msg));
			CHECK(tv != NULL);
			if (!tv)
				continue;
			CHECK_RC(ping(tv), 0);
			sluice_shutdown(tv);
		}
	int64_t expiry;
	CHECK_RC(as_user("hive", g2.url, &t1, &expiry, msg, sizeof(msg)), 0);
	sluice_shutdown(alice);
}

/* Gateways racing to make a master key each get a valid one. */
struct racer {
	int64_t base;
	int rc;
	struct sl_dt_key keys[20];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct sl_meta *m = NULL;
	struct sl_err err = {0};
	r->rc = sl_meta_open(meta, NULL, NULL, &m, &err);
	for (int i = 0; !r->rc && i < 20; i++) {
		uint8_t secret[64];
		memset(secret, i + 1, sizeof(secret));
		r->rc = sl_meta_dt_signing_key(m, now_ms(), 1, 1000, secret, &r->keys[i], &err);
	}
	if (r->rc)
		fprintf(stderr, "race: %s\n", err.msg);
	sl_meta_close(m);
	return NULL;
}

static void test_key_race(void)
{
	struct racer r[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		REQUIRE(pthread_create(&t[i], NULL, race, &r[i]) == 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	struct sl_meta *m = NULL;
	struct sl_err err = {0};
	REQUIRE(sl_meta_open(meta, NULL, NULL, &m, &err) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK_RC(r[i].rc, 0);
		for (int k = 0; !r[i].rc && k < 20; k++) {
			struct sl_dt_key got;
			CHECK_RC(sl_meta_dt_get_key(m, r[i].keys[k].id, &got, &err), 0);
			CHECK(!memcmp(got.secret, r[i].keys[k].secret, sizeof(got.secret)));
		}
	}
	/* keys are swept after their expiry (these: 1 ms + 1 s after they were made) */
	advance_ms(1100);
	CHECK_RC(swept(get_key, m, r[0].keys[0].id), -ENOENT);
	sl_meta_close(m);
}

/* ---- the protected messages of a token connection, at the frame level ---------------------- */

static int open_raw(const sluice_token *t, struct sl_rpc_conn *c)
{
	char p[16];
	struct sl_err err = {0};
	snprintf(p, sizeof(p), "%d", g1.port);
	*c = (struct sl_rpc_conn){.fd = -1, .max_frame = 1 << 20, .timeout_ms = 5000};
	int rc = sl_rpc_connect("127.0.0.1", p, 2000, &c->fd, &err);
	if (!rc)
		rc = sl_rpc_client_token_handshake(c, t->identifier, t->identifier_len, t->password,
						   &err);
	void *m = NULL;
	size_t len = 0;
	if (!rc)
		rc = sl_rpc_recv(c, 5000, &m, &len, &err); /* the welcome */
	if (!rc) {
		struct sl_rbuf r = sl_rbuf_of(m, len);
		uint32_t status = sl_r_u32(&r);
		const char *name = sl_r_str(&r, 255);
		CHECK(!status && name && !strcmp(name, "alice"));
	}
	if (rc)
		fprintf(stderr, "raw token connection: %s\n", err.msg);
	free(m);
	return rc;
}

/* A request's frame sealed as the connection's next message. */
static void seal(struct sl_rpc_conn *c, const struct sl_wbuf *req, void **frame, size_t *len)
{
	struct sl_err err = {0};
	REQUIRE(sl_ts_seal(c->ts, req->p, req->len, frame, len, &err) == 0);
}

static void getattr_req(struct sl_wbuf *w, const char *acting)
{
	*w = (struct sl_wbuf){0};
	sl_w_u16(w, SL_OP_GETATTR);
	sl_w_str(w, acting);
	sl_w_u64(w, 1);
}

/* The status of the next response, or the transport error. */
static int answer(struct sl_rpc_conn *c)
{
	void *m = NULL;
	size_t len = 0;
	struct sl_err err = {0};
	int rc = sl_rpc_recv(c, 5000, &m, &len, &err);
	if (!rc) {
		struct sl_rbuf r = sl_rbuf_of(m, len);
		rc = (int32_t)sl_r_u32(&r);
		CHECK(!r.bad);
		if (rc == 0)
			rc = 1; /* distinguishes success from a transport error */
	}
	free(m);
	return rc;
}

static void test_frames(void)
{
	sluice_volume *alice = kclient("alice", g1.url);
	REQUIRE(alice);
	sluice_token t = issue(alice, NULL, "hive");
	sluice_shutdown(alice);
	struct sl_rpc_conn c;
	struct sl_err err = {0};
	struct sl_wbuf req;
	void *f1 = NULL, *f2 = NULL;
	size_t l1 = 0, l2 = 0;

	/* a message replayed: the first is answered, the copy ends the connection */
	REQUIRE(open_raw(&t, &c) == 0);
	getattr_req(&req, NULL);
	seal(&c, &req, &f1, &l1);
	CHECK_RC(sl_rpc_frame_write(c.fd, f1, l1, 5000, &err), 0);
	CHECK_RC(answer(&c), 1);
	CHECK_RC(sl_rpc_frame_write(c.fd, f1, l1, 5000, &err), 0);
	CHECK_RC(answer(&c), -ECONNRESET); /* hung up, no answer */
	free(f1);
	sl_rpc_conn_close(&c);

	/* a message altered in flight */
	REQUIRE(open_raw(&t, &c) == 0);
	seal(&c, &req, &f1, &l1);
	((uint8_t *)f1)[l1 / 2] ^= 1;
	CHECK_RC(sl_rpc_frame_write(c.fd, f1, l1, 5000, &err), 0);
	CHECK_RC(answer(&c), -ECONNRESET);
	free(f1);
	sl_rpc_conn_close(&c);

	/* two messages swapped */
	REQUIRE(open_raw(&t, &c) == 0);
	seal(&c, &req, &f1, &l1);
	seal(&c, &req, &f2, &l2);
	CHECK_RC(sl_rpc_frame_write(c.fd, f2, l2, 5000, &err), 0);
	CHECK_RC(answer(&c), -ECONNRESET);
	free(f1);
	free(f2);
	sl_rpc_conn_close(&c);
	sl_wbuf_free(&req);

	/* what a token connection may not ask, whatever its client library says */
	REQUIRE(open_raw(&t, &c) == 0);
	struct sl_wbuf w = {0};
	sl_w_u16(&w, SL_OP_ISSUE_TOKEN);
	sl_w_str(&w, NULL);
	sl_w_str(&w, "hive");
	CHECK_RC(sl_rpc_send(&c, &w, &err), 0);
	CHECK_RC(answer(&c), -EPERM);
	sl_wbuf_free(&w);
	sl_w_u16(&w, SL_OP_RENEW_TOKEN);
	sl_w_str(&w, NULL);
	sl_w_bytes(&w, t.identifier, t.identifier_len);
	sl_w_bytes(&w, t.password, sizeof(t.password));
	CHECK_RC(sl_rpc_send(&c, &w, &err), 0);
	CHECK_RC(answer(&c), -EPERM);
	sl_wbuf_free(&w);
	getattr_req(&w, "bob");
	CHECK_RC(sl_rpc_send(&c, &w, &err), 0);
	CHECK_RC(answer(&c), -EACCES);
	sl_wbuf_free(&w);
	getattr_req(&w, "alice");
	CHECK_RC(sl_rpc_send(&c, &w, &err), 0);
	CHECK_RC(answer(&c), 1);
	sl_wbuf_free(&w);
	sl_rpc_conn_close(&c);

	/* the handshake's first message at the frame level: an identifier nobody issued */
	char p[16];
	snprintf(p, sizeof(p), "%d", g1.port);
	c = (struct sl_rpc_conn){.fd = -1, .max_frame = 1 << 20, .timeout_ms = 5000};
	REQUIRE(sl_rpc_connect("127.0.0.1", p, 2000, &c.fd, &err) == 0);
	CHECK_RC(sl_rpc_client_token_handshake(&c, (const uint8_t *)"\0\3bob", 5, t.password,
					       &err), -EACCES);
	CHECK(strstr(err.msg, "authentication failed") != NULL);
	sl_rpc_conn_close(&c);
}

/* ---- the CLI (sluice token) ------------------------------------------------------------------ */

static void cli_path(char *out, size_t size)
{
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = 0;
	char *slash = strrchr(self, '/');
	REQUIRE(slash);
	*slash = 0;
	snprintf(out, size, "%s/bin/sluice", self); /* the build directory's CLI */
}

static int cli(const char *args)
{
	char exe[1100], cmd[4096];
	cli_path(exe, sizeof(exe));
	snprintf(cmd, sizeof(cmd), "%s token %s", exe, args);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A token file's value of key (the line "key=value"). */
static bool file_value(const char *path, const char *key, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool found = false;
	size_t kl = strlen(key);
	while (f && !found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			snprintf(out, size, "%s", line + kl + 1);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void test_cli(void)
{
	char file[1200], args[4096], ident[2048], pass[64], service[300], msg[512];
	snprintf(file, sizeof(file), "%s/alice.token", bucket);
	snprintf(args, sizeof(args), "issue -o gateway.principal=sluice/localhost@SLUICE.TEST "
		 "-o kerberos.keytab=%s/alice.keytab -o bucket=%s --renewer hive %s %s", kdir, bucket,
		 g1.url, file);
	CHECK_RC(cli(args), 0);
	struct stat st;
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	REQUIRE(file_value(file, "token.identifier", ident, sizeof(ident)) &&
		file_value(file, "token.password", pass, sizeof(pass)) &&
		file_value(file, "service", service, sizeof(service)));
	CHECK(strstr(g1.url, service) != NULL);
	/* the file's lines are the client's configuration */
	sluice_kv conf[] = {{"meta", g1.url}, {"kerberos.ccache", no_ccache},
			    {"token.identifier", ident}, {"token.password", pass},
			    {"bucket", bucket}};
	sluice_volume *tv = NULL;
	CHECK_RC(sluice_init(conf, 5, &tv, msg, sizeof(msg)), 0);
	if (tv) {
		CHECK_RC(ping(tv), 0);
		sluice_shutdown(tv);
	}
	snprintf(args, sizeof(args), "renew -o gateway.principal=sluice/localhost@SLUICE.TEST "
		 "-o kerberos.keytab=%s/hive.keytab %s >/dev/null", kdir, file);
	CHECK_RC(cli(args), 0);
	snprintf(args, sizeof(args), "renew -o gateway.principal=sluice/localhost@SLUICE.TEST "
		 "-o kerberos.keytab=%s/bob.keytab %s 2>/dev/null", kdir, file);
	CHECK_RC(cli(args), 1);
	snprintf(args, sizeof(args), "cancel -o gateway.principal=sluice/localhost@SLUICE.TEST "
		 "-o kerberos.keytab=%s/alice.keytab %s >/dev/null", kdir, file);
	CHECK_RC(cli(args), 0);
	CHECK(sluice_init(conf, 5, &tv, msg, sizeof(msg)) != 0);
}

static void run_all(const char *label)
{
	fprintf(stderr, "== %s\n", label);
	start(&g1, "30", "60");
	start(&g2, "2", "6");
	test_issue_and_use();
	test_forgery();
	test_rotation();
	test_frames();
	test_cancel();
	test_expiry();
	test_renew();
	test_key_race();
	test_cli();
	tu_unserve(&g1);
	tu_unserve(&g2);
}

static void format(const char *url, const char *dir)
{
	char msg[1024];
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fo = {.meta_url = url, .name = "tokvol", .storage = "file",
				    .bucket = bucket, .trash_days = 0};
	if (sluice_format(&fo, msg, sizeof(msg))) {
		fprintf(stderr, "format: %s\n", msg);
		exit(1);
	}
	meta = url;
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	char *dir = tu_tempdir("tokens");
	/* no Kerberos credentials for the token clients: a ticket cache that does not exist */
	snprintf(no_ccache, sizeof(no_ccache), "FILE:%s/no-such-ccache", dir);
	setenv("KRB5CCNAME", no_ccache, 1);

	char url[1100];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	format(url, dir);
	run_all("SQLite");

	/* MariaDB, when make test runs it (or must) */
	if (getenv("SLUICE_TEST_MYSQL_URL") || tu_services_required()) {
		struct tu_mysql_db db;
		tu_mysql_db_create(&db, "tokens_test");
		char mdir[1200];
		snprintf(mdir, sizeof(mdir), "%s/mysql", dir);
		REQUIRE(mkdir(mdir, 0700) == 0);
		format(db.url, mdir);
		run_all("MariaDB");
		CHECK(tu_mysql_db_drop(&db) == 0);
	} else {
		fprintf(stderr, "MariaDB: skipped (SLUICE_TEST_MYSQL_URL is not set)\n");
	}
	free(dir);
	return tu_finish("test_gateway_tokens");
}
