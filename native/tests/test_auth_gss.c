/*
 * test_auth_gss.c - GSSAPI contexts (auth/gss.c) against the real throw-away KDC of tests/env/kdc.sh:
 * both ends in one process with tokens passed in memory; good logins, and every refusal Kerberos
 * mode promises (no ticket, wrong service, forged, replayed, expired, tampered or reordered messages).
 */
#include "auth/gss.h"
#include "testutil.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* tests/env/kdc.sh: carol's tickets live 5 s and the realm's clockskew is 5 s; MIT accepts a
 * ticket until endtime + clockskew, so 12 s after carol's login her ticket is refused. */
#define CAROL_DEAD_AFTER_S 12

static const char *kdir;
static const char *realm;
static char *rcdir;

static char *kpath(const char *file)
{
	char *p;
	REQUIRE(asprintf(&p, "%s/%s", kdir, file) > 0);
	return p;
}

static char *princ(const char *name)
{
	char *p;
	REQUIRE(asprintf(&p, "%s@%s", name, realm) > 0);
	return p;
}

/* A client logging in from a user's keytab, to the given service. */
static int client_for(const char *user, const char *service, struct sl_gss **out,
		      struct sl_err *err)
{
	char *kt_file, *p = princ(user), *svc = NULL;
	REQUIRE(asprintf(&kt_file, "%s.keytab", strchr(user, '/') ? "hive" : user) > 0);
	char *kt = kpath(kt_file);
	if (strchr(service, '@'))
		svc = strdup(service);
	else
		svc = princ(service);
	struct sl_gss_client_conf c = { .service = svc, .principal = p, .keytab = kt };
	int rc = sl_gss_client_new(&c, out, err);
	free(kt_file);
	free(kt);
	free(p);
	free(svc);
	return rc;
}

static int server_for(const char *keytab_file, const char *principal, struct sl_gss **out,
		      struct sl_err *err)
{
	char *kt = kpath(keytab_file);
	char *p = principal ? princ(principal) : NULL;
	struct sl_gss_server_conf c = { .keytab = kt, .principal = p, .rcache = rcdir };
	int rc = sl_gss_server_new(&c, out, err);
	free(kt);
	free(p);
	return rc;
}

/* Runs a handshake to the end, tokens alternating client -> server -> client. Returns the first
 * error; *who says which side failed ('c' or 's'). */
static int handshake(struct sl_gss *c, struct sl_gss *s, char *who, struct sl_err *err)
{
	void *tok = NULL, *next = NULL;
	size_t len = 0, nlen = 0;
	bool cdone = false, sdone = false;
	*who = 'c';
	int rc = sl_gss_step(c, NULL, 0, &tok, &len, &cdone, err);
	for (int turn = 0; !rc && !(cdone && sdone) && turn < 10; turn++) {
		if (!len) {
			rc = -EPROTO;
			break;
		}
		bool server_turn = turn % 2 == 0;
		*who = server_turn ? 's' : 'c';
		rc = sl_gss_step(server_turn ? s : c, tok, len, &next, &nlen,
				 server_turn ? &sdone : &cdone, err);
		free(tok);
		tok = next;
		len = nlen;
		next = NULL;
	}
	free(tok);
	if (!rc && !(cdone && sdone))
		rc = -EPROTO;
	return rc;
}

/* One message from a to b through wrap/unwrap; checks it arrives unchanged. */
static int send_msg(struct sl_gss *a, struct sl_gss *b, bool conf, const void *msg, size_t len,
		    struct sl_err *err)
{
	void *w = NULL, *u = NULL;
	size_t wl = 0, ul = 0;
	int rc = sl_gss_wrap(a, conf, msg, len, &w, &wl, err);
	if (!rc)
		rc = sl_gss_unwrap(b, w, wl, &u, &ul, err);
	if (!rc && (ul != len || (len && memcmp(u, msg, len))))
		rc = -EBADMSG;
	if (!rc && conf && len >= 16 && memmem(w, wl, msg, 16))
		rc = -EPROTO; /* "confidential" but the plaintext is in the token */
	free(w);
	free(u);
	return rc;
}

static bool has(const struct sl_err *e, const char *needle)
{
	return strcasestr(e->msg, needle) != NULL;
}

static void test_good_login(void)
{
	struct sl_err err = { 0 };
	struct sl_gss *c = NULL, *s = NULL;
	char who;
	char *alice = princ("alice");
	CHECK_RC(client_for("alice", "sluice/localhost", &c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &s, &err), 0);
	REQUIRE(c && s);
	CHECK(sl_gss_peer(s) == NULL);
	CHECK(sl_gss_lifetime(s) == 0);
	void *w = NULL;
	size_t wl = 0;
	CHECK_RC(sl_gss_wrap(c, false, "x", 1, &w, &wl, &err), -EINVAL); /* not established yet */
	int rc = handshake(c, s, &who, &err);
	if (rc)
		fprintf(stderr, "handshake (%c): %s\n", who, err.msg);
	REQUIRE(rc == 0);
	CHECK(sl_gss_peer(s) && !strcmp(sl_gss_peer(s), alice));
	CHECK(sl_gss_peer(c) && !strcmp(sl_gss_peer(c), alice));
	CHECK(sl_gss_lifetime(s) > 60);
	CHECK(sl_gss_lifetime(c) > 60);
	/* A finished context takes no more handshake tokens. */
	bool done;
	void *o = NULL;
	size_t ol = 0;
	CHECK_RC(sl_gss_step(s, "abc", 3, &o, &ol, &done, &err), -EINVAL);

	static const char hello[] = "hello, gateway: a message long enough to look for";
	size_t big_len = 1 << 20;
	char *big = malloc(big_len);
	REQUIRE(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)(i * 31 + 7);
	for (int conf = 0; conf < 2; conf++) {
		CHECK_RC(send_msg(c, s, conf, hello, sizeof(hello), &err), 0);
		CHECK_RC(send_msg(s, c, conf, hello, sizeof(hello), &err), 0);
		CHECK_RC(send_msg(c, s, conf, "", 0, &err), 0);
		CHECK_RC(send_msg(s, c, conf, big, big_len, &err), 0);
		CHECK_RC(send_msg(c, s, conf, big, big_len, &err), 0);
	}
	free(big);
	sl_gss_free(c);
	sl_gss_free(s);

	/* Host-based service name on the client, "any key in the keytab" on the server, and a bob
	 * login whose MEMORY cache is separate from alice's. */
	c = s = NULL;
	CHECK_RC(client_for("bob", "sluice@localhost", &c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", NULL, &s, &err), 0);
	REQUIRE(c && s);
	rc = handshake(c, s, &who, &err);
	if (rc)
		fprintf(stderr, "host-based handshake (%c): %s\n", who, err.msg);
	CHECK_RC(rc, 0);
	char *bob = princ("bob");
	CHECK(sl_gss_peer(s) && !strcmp(sl_gss_peer(s), bob));
	CHECK_RC(send_msg(c, s, true, hello, sizeof(hello), &err), 0);
	free(bob);
	sl_gss_free(c);
	sl_gss_free(s);

	/* A client from a ticket cache someone filled before (here: a keytab login that used an
	 * explicit cache), then one from that cache alone. */
	char *kt = kpath("hive.keytab"), *hive = princ("hive/localhost"), *svc = princ("sluice/localhost");
	char *cc;
	REQUIRE(asprintf(&cc, "FILE:%s/hive.ccache", rcdir) > 0);
	struct sl_gss_client_conf cc1 = { .service = svc, .principal = hive, .keytab = kt, .ccache = cc };
	struct sl_gss_client_conf cc2 = { .service = svc, .ccache = cc };
	for (int i = 0; i < 2; i++) {
		c = s = NULL;
		CHECK_RC(sl_gss_client_new(i ? &cc2 : &cc1, &c, &err), 0);
		CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &s, &err), 0);
		REQUIRE(c && s);
		rc = handshake(c, s, &who, &err);
		if (rc)
			fprintf(stderr, "ccache handshake %d (%c): %s\n", i, who, err.msg);
		CHECK_RC(rc, 0);
		CHECK(sl_gss_peer(s) && !strcmp(sl_gss_peer(s), hive));
		sl_gss_free(c);
		sl_gss_free(s);
	}
	free(cc);
	free(kt);
	free(hive);
	free(svc);
	free(alice);
}

static void test_no_credentials(void)
{
	struct sl_err err = { 0 };
	struct sl_gss *c = NULL;
	char *svc = princ("sluice/localhost");
	char *cc;
	REQUIRE(asprintf(&cc, "FILE:%s/empty.ccache", rcdir) > 0);
	const char *caches[] = { "MEMORY:sluice-test-empty", cc };
	for (int i = 0; i < 2; i++) {
		struct sl_gss_client_conf conf = { .service = svc, .ccache = caches[i] };
		sl_err_clear(&err);
		int rc = sl_gss_client_new(&conf, &c, &err);
		if (!rc) { /* MIT may defer the failure to the first step */
			void *o = NULL;
			size_t ol = 0;
			bool done;
			rc = sl_gss_step(c, NULL, 0, &o, &ol, &done, &err);
			CHECK(o == NULL);
			sl_gss_free(c);
			c = NULL;
		}
		CHECK_RC(rc, -EACCES);
		CHECK(err.code == -EACCES);
		CHECK(has(&err, "credentials") || has(&err, "cache"));
		fprintf(stderr, "  no credentials (%s): %s\n", caches[i], err.msg);
	}
	/* A keytab that is not there, on either side. */
	char *missing = kpath("missing.keytab"), *alice = princ("alice");
	struct sl_gss_client_conf conf = { .service = svc, .principal = alice, .keytab = missing };
	sl_err_clear(&err);
	int rc = sl_gss_client_new(&conf, &c, &err);
	if (!rc) {
		void *o = NULL;
		size_t ol = 0;
		bool done;
		rc = sl_gss_step(c, NULL, 0, &o, &ol, &done, &err);
		sl_gss_free(c);
		c = NULL;
	}
	CHECK_RC(rc, -ENOENT);
	CHECK(has(&err, "missing.keytab"));
	fprintf(stderr, "  missing client keytab: %s\n", err.msg);
	struct sl_gss_server_conf sc = { .keytab = missing, .principal = svc };
	struct sl_gss *s = NULL;
	sl_err_clear(&err);
	CHECK_RC(sl_gss_server_new(&sc, &s, &err), -ENOENT);
	CHECK(s == NULL);
	CHECK(has(&err, "missing.keytab"));
	fprintf(stderr, "  missing server keytab: %s\n", err.msg);
	char *gkt = kpath("gateway.keytab");
	struct sl_gss_server_conf norc = { .keytab = gkt, .principal = svc, .rcache = "none:" };
	CHECK_RC(sl_gss_server_new(&norc, &s, &err), -EINVAL);
	CHECK(s == NULL);
	free(gkt);
	struct sl_gss_server_conf none = { 0 };
	CHECK_RC(sl_gss_server_new(&none, &s, &err), -EINVAL);
	struct sl_gss_client_conf nosvc = { 0 };
	CHECK_RC(sl_gss_client_new(&nosvc, &c, &err), -EINVAL);
	free(missing);
	free(alice);
	free(cc);
	free(svc);
}

/* The first client token (the AP-REQ) of a fresh login; caller frees. */
static void *first_token(const char *user, const char *service, size_t *len)
{
	struct sl_err err = { 0 };
	struct sl_gss *c = NULL;
	void *tok = NULL;
	bool done;
	int rc = client_for(user, service, &c, &err);
	if (!rc)
		rc = sl_gss_step(c, NULL, 0, &tok, len, &done, &err);
	if (rc)
		fprintf(stderr, "first token of %s for %s: %s\n", user, service, err.msg);
	REQUIRE(rc == 0 && tok && *len > 100);
	sl_gss_free(c);
	return tok;
}

/* Hands a token to a fresh acceptor; returns its result. */
static int accept_one(const char *keytab_file, const char *principal, const void *tok, size_t len,
		      struct sl_err *err)
{
	struct sl_gss *s = NULL;
	void *o = NULL;
	size_t ol = 0;
	bool done = false;
	sl_err_clear(err);
	int rc = server_for(keytab_file, principal, &s, err);
	REQUIRE(rc == 0);
	rc = sl_gss_step(s, tok, len, &o, &ol, &done, err);
	if (rc) {
		CHECK(o == NULL && ol == 0 && !done);
		CHECK(sl_gss_peer(s) == NULL);
		/* A failed context stays failed. */
		struct sl_err e2 = { 0 };
		CHECK(sl_gss_step(s, tok, len, &o, &ol, &done, &e2) < 0);
	} else {
		CHECK(done && o && ol > 0);
	}
	free(o);
	sl_gss_free(s);
	return rc;
}

static void test_wrong_service(void)
{
	struct sl_err err = { 0 };
	size_t len;
	void *tok = first_token("alice", "other/localhost", &len);
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", tok, len, &err), -EACCES);
	fprintf(stderr, "  ticket for other/localhost, acceptor sluice/localhost: %s\n", err.msg);
	CHECK_RC(accept_one("gateway.keytab", NULL, tok, len, &err), -EACCES);
	fprintf(stderr, "  ticket for other/localhost, acceptor with any key: %s\n", err.msg);
	/* The same ticket is fine for the service it was made for. */
	CHECK_RC(accept_one("other.keytab", "other/localhost", tok, len, &err), 0);
	free(tok);
}

static void test_forged(void)
{
	struct sl_err err = { 0 };
	size_t len;
	void *good = first_token("alice", "sluice/localhost", &len);
	unsigned char *t = malloc(len);
	REQUIRE(t);
	/* Bytes inside the encrypted authenticator (the end) and the ticket (the middle): the
	 * integrity check fails. */
	size_t pos[] = { len - 1, len - 20, len / 2 };
	for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		memcpy(t, good, len);
		t[pos[i]] ^= 0x5a;
		int rc = accept_one("gateway.keytab", "sluice/localhost", t, len, &err);
		CHECK(rc == -EACCES || rc == -EINVAL);
		fprintf(stderr, "  byte %zu of %zu flipped: %d %s\n", pos[i], len, rc, err.msg);
	}
	/* The framing: malformed, not an authentication attempt. */
	memcpy(t, good, len);
	t[0] ^= 0xff;
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", t, len, &err), -EINVAL);
	fprintf(stderr, "  first byte flipped: %s\n", err.msg);
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", good, len / 2, &err), -EINVAL);
	fprintf(stderr, "  truncated: %s\n", err.msg);
	for (size_t i = 0; i < len; i++)
		t[i] = (unsigned char)(i * 131 + 17);
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", t, len, &err), -EINVAL);
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", t, 1, &err), -EINVAL);
	/* The untouched token still works: the refusals above were about the bytes. */
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", good, len, &err), 0);
	free(t);
	free(good);
}

/* An AP-REQ from a plain GSSAPI initiator asking for fewer protections than Sluice requires. */
static void *weak_token(OM_uint32 flags, size_t *len)
{
	OM_uint32 maj, min;
	char *kt = kpath("alice.keytab"), *ktv, *alice = princ("alice"), *svc = princ("sluice/localhost");
	REQUIRE(asprintf(&ktv, "FILE:%s", kt) > 0);
	gss_key_value_element_desc kv[2] = { { "client_keytab", ktv },
					     { "ccache", "MEMORY:sluice-test-weak" } };
	gss_key_value_set_desc store = { 2, kv };
	gss_buffer_desc b1 = { strlen(alice), alice }, b2 = { strlen(svc), svc };
	gss_name_t me = GSS_C_NO_NAME, target = GSS_C_NO_NAME;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	REQUIRE(gss_import_name(&min, &b1, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &me) == 0);
	REQUIRE(gss_import_name(&min, &b2, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &target) == 0);
	maj = gss_acquire_cred_from(&min, me, 0, GSS_C_NO_OID_SET, GSS_C_INITIATE, &store, &cred,
				    NULL, NULL);
	REQUIRE(!GSS_ERROR(maj));
	maj = gss_init_sec_context(&min, cred, &ctx, target, (gss_OID)gss_mech_krb5, flags, 0,
				   GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
	REQUIRE(!GSS_ERROR(maj) && out.length > 0);
	void *tok = malloc(out.length);
	REQUIRE(tok);
	memcpy(tok, out.value, out.length);
	*len = out.length;
	gss_release_buffer(&min, &out);
	gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	gss_release_cred(&min, &cred);
	gss_release_name(&min, &me);
	gss_release_name(&min, &target);
	free(kt);
	free(ktv);
	free(alice);
	free(svc);
	return tok;
}

static void test_weak_peers(void)
{
	struct sl_err err = { 0 };
	size_t len;
	OM_uint32 weak[] = { GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG,
			     GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG };
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		void *tok = weak_token(weak[i], &len);
		CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", tok, len, &err), -EACCES);
		CHECK(has(&err, "lacks"));
		fprintf(stderr, "  weak initiator (flags 0x%x): %s\n", (unsigned)weak[i], err.msg);
		free(tok);
	}
	/* The client checks the server too: a forged AP-REP (mutual authentication) is refused. */
	struct sl_gss *c = NULL, *s = NULL;
	CHECK_RC(client_for("alice", "sluice/localhost", &c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &s, &err), 0);
	REQUIRE(c && s);
	void *t1 = NULL, *t2 = NULL, *t3 = NULL;
	size_t l1 = 0, l2 = 0, l3 = 0;
	bool cdone = false, sdone = false;
	REQUIRE(sl_gss_step(c, NULL, 0, &t1, &l1, &cdone, &err) == 0 && !cdone);
	REQUIRE(sl_gss_step(s, t1, l1, &t2, &l2, &sdone, &err) == 0 && sdone && l2 > 20);
	((unsigned char *)t2)[l2 - 3] ^= 0x20;
	int rc = sl_gss_step(c, t2, l2, &t3, &l3, &cdone, &err);
	CHECK(rc == -EACCES || rc == -EINVAL);
	CHECK(!cdone && t3 == NULL && sl_gss_peer(c) == NULL);
	fprintf(stderr, "  forged AP-REP: %d %s\n", rc, err.msg);
	free(t1);
	free(t2);
	sl_gss_free(c);
	sl_gss_free(s);
}

static void test_replay(void)
{
	struct sl_err err = { 0 };
	size_t len;
	void *tok = first_token("alice", "sluice/localhost", &len);
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", tok, len, &err), 0);
	/* A second acceptor sharing the replay cache (another gateway thread or process). */
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", tok, len, &err), -EACCES);
	CHECK(has(&err, "replay"));
	fprintf(stderr, "  replayed AP-REQ: %s\n", err.msg);
	free(tok);
}

static void test_messages(void)
{
	struct sl_err err = { 0 };
	struct sl_gss *c = NULL, *s = NULL;
	char who;
	CHECK_RC(client_for("alice", "sluice/localhost", &c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &s, &err), 0);
	REQUIRE(c && s);
	REQUIRE(handshake(c, s, &who, &err) == 0);

	static const char msg[] = "rename /a to /b";
	void *w[4] = { 0 }, *u = NULL;
	size_t wl[4] = { 0 }, ul;
	for (int conf = 0; conf < 2; conf++) {
		/* Tampered: every byte position of a token, each in turn, fails the check and does
		 * not disturb the stream, so the intact token still goes through after. */
		REQUIRE(sl_gss_wrap(c, conf, msg, sizeof(msg), &w[0], &wl[0], &err) == 0);
		unsigned char *t = malloc(wl[0]);
		REQUIRE(t);
		int bad = 0;
		for (size_t i = 0; i < wl[0]; i++) {
			memcpy(t, w[0], wl[0]);
			t[i] ^= 0x01;
			int rc = sl_gss_unwrap(s, t, wl[0], &u, &ul, &err);
			if (rc != -EBADMSG) {
				fprintf(stderr, "  tampered byte %zu (conf=%d): %d %s\n", i, conf, rc,
					err.msg);
				bad++;
			}
			free(u);
			u = NULL;
		}
		CHECK_RC(bad, 0);
		fprintf(stderr, "  tampered message: %s\n", err.msg);
		CHECK_RC(sl_gss_unwrap(s, t, wl[0] / 2, &u, &ul, &err), -EBADMSG);
		free(t);
		CHECK_RC(sl_gss_unwrap(s, w[0], wl[0], &u, &ul, &err), 0);
		CHECK(u && ul == sizeof(msg) && !memcmp(u, msg, ul));
		free(u);
		u = NULL;
		/* The same message twice. */
		CHECK_RC(sl_gss_unwrap(s, w[0], wl[0], &u, &ul, &err), -EPROTO);
		CHECK(u == NULL);
		fprintf(stderr, "  replayed message: %s\n", err.msg);
		/* A gap (1 is skipped), then the skipped one late (reordered). */
		for (int i = 1; i < 4; i++)
			REQUIRE(sl_gss_wrap(c, conf, msg, sizeof(msg), &w[i], &wl[i], &err) == 0);
		CHECK_RC(sl_gss_unwrap(s, w[2], wl[2], &u, &ul, &err), -EPROTO);
		fprintf(stderr, "  gap: %s\n", err.msg);
		CHECK_RC(sl_gss_unwrap(s, w[1], wl[1], &u, &ul, &err), -EPROTO);
		fprintf(stderr, "  reordered: %s\n", err.msg);
		/* The stream goes on with the next one in order. */
		CHECK_RC(sl_gss_unwrap(s, w[3], wl[3], &u, &ul, &err), 0);
		free(u);
		u = NULL;
		/* A token of the other direction (a reflection) is refused too. */
		void *r = NULL;
		size_t rl;
		REQUIRE(sl_gss_wrap(s, conf, msg, sizeof(msg), &r, &rl, &err) == 0);
		CHECK(sl_gss_unwrap(s, r, rl, &u, &ul, &err) < 0);
		free(u);
		u = NULL;
		CHECK_RC(sl_gss_unwrap(c, r, rl, &u, &ul, &err), 0);
		free(u);
		u = NULL;
		free(r);
		for (int i = 0; i < 4; i++) {
			free(w[i]);
			w[i] = NULL;
		}
	}
	/* Confidentiality required: integrity-only messages are refused, and not sent. */
	sl_gss_set_require_confidentiality(s, true);
	REQUIRE(sl_gss_wrap(c, false, msg, sizeof(msg), &w[0], &wl[0], &err) == 0);
	CHECK_RC(sl_gss_unwrap(s, w[0], wl[0], &u, &ul, &err), -EPROTO);
	fprintf(stderr, "  integrity-only where confidentiality is required: %s\n", err.msg);
	free(w[0]);
	CHECK_RC(sl_gss_wrap(s, false, msg, sizeof(msg), &w[0], &wl[0], &err), -EINVAL);
	CHECK_RC(send_msg(c, s, true, msg, sizeof(msg), &err), 0);
	sl_gss_free(c);
	sl_gss_free(s);
}

/* Carol's ticket expires within seconds: set up early, checked at the end (expire_check). */
struct carol {
	struct timespec t0;
	struct sl_gss *c, *s; /* an established context */
	void *tok;            /* an AP-REQ made before the expiry */
	size_t len;
};

static void expire_setup(struct carol *k)
{
	struct sl_err err = { 0 };
	char who;
	clock_gettime(CLOCK_MONOTONIC, &k->t0);
	CHECK_RC(client_for("carol", "sluice/localhost", &k->c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &k->s, &err), 0);
	REQUIRE(k->c && k->s);
	int rc = handshake(k->c, k->s, &who, &err);
	if (rc)
		fprintf(stderr, "carol handshake (%c): %s\n", who, err.msg);
	REQUIRE(rc == 0);
	CHECK(sl_gss_lifetime(k->c) > 0 && sl_gss_lifetime(k->c) <= 5);
	CHECK(sl_gss_lifetime(k->s) > 0 && sl_gss_lifetime(k->s) <= 10);
	CHECK_RC(send_msg(k->c, k->s, false, "hi", 2, &err), 0);
	k->tok = first_token("carol", "sluice/localhost", &k->len);
}

static void expire_check(struct carol *k)
{
	struct sl_err err = { 0 };
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double waited = (double)(now.tv_sec - k->t0.tv_sec) + (now.tv_nsec - k->t0.tv_nsec) / 1e9;
	if (waited < CAROL_DEAD_AFTER_S) { /* Kerberos, not Sluice, checks the ticket's end time */
		fprintf(stderr, "  waiting %.1f s for carol's ticket to expire\n",
			CAROL_DEAD_AFTER_S - waited);
		usleep((useconds_t)((CAROL_DEAD_AFTER_S - waited) * 1e6));
	}
	CHECK_RC(accept_one("gateway.keytab", "sluice/localhost", k->tok, k->len, &err), -EACCES);
	CHECK(has(&err, "expired"));
	fprintf(stderr, "  expired ticket: %s\n", err.msg);
	/* The established context is over too, in both directions. */
	CHECK_RC(sl_gss_lifetime(k->s), 0);
	CHECK_RC(sl_gss_lifetime(k->c), 0);
	void *w = NULL, *u = NULL;
	size_t wl, ul;
	CHECK_RC(sl_gss_wrap(k->c, false, "hi", 2, &w, &wl, &err), -EACCES);
	CHECK(has(&err, "expired"));
	CHECK_RC(sl_gss_wrap(k->s, false, "hi", 2, &w, &wl, &err), -EACCES);
	CHECK_RC(sl_gss_unwrap(k->s, "hi", 2, &u, &ul, &err), -EACCES);
	CHECK(w == NULL && u == NULL);
	/* A new login from the keytab gets a fresh ticket. */
	struct sl_gss *c = NULL, *s = NULL;
	char who;
	CHECK_RC(client_for("carol", "sluice/localhost", &c, &err), 0);
	CHECK_RC(server_for("gateway.keytab", "sluice/localhost", &s, &err), 0);
	REQUIRE(c && s);
	int rc = handshake(c, s, &who, &err);
	if (rc)
		fprintf(stderr, "carol re-login (%c): %s\n", who, err.msg);
	CHECK_RC(rc, 0);
	sl_gss_free(c);
	sl_gss_free(s);
	sl_gss_free(k->c);
	sl_gss_free(k->s);
	free(k->tok);
}

#define THREADS 6
#define ROUNDS 8

struct worker {
	int id;
	int failures;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	static const char *users[] = { "alice", "bob", "hive/localhost" };
	char msg[64];
	for (int r = 0; r < ROUNDS; r++) {
		struct sl_err err = { 0 };
		struct sl_gss *c = NULL, *s = NULL;
		char who;
		const char *user = users[(wk->id + r) % 3];
		int rc = client_for(user, "sluice/localhost", &c, &err);
		if (!rc)
			rc = server_for("gateway.keytab", "sluice/localhost", &s, &err);
		if (!rc)
			rc = handshake(c, s, &who, &err);
		char *want = princ(user);
		if (!rc && (!sl_gss_peer(s) || strcmp(sl_gss_peer(s), want)))
			rc = -EACCES;
		free(want);
		for (int m = 0; !rc && m < 20; m++) {
			int n = snprintf(msg, sizeof(msg), "thread %d round %d message %d", wk->id, r, m);
			rc = send_msg(m % 2 ? s : c, m % 2 ? c : s, m % 3 == 0, msg, (size_t)n, &err);
		}
		if (rc) {
			fprintf(stderr, "thread %d round %d (%s): %d %s\n", wk->id, r, user, rc, err.msg);
			wk->failures++;
		}
		sl_gss_free(c);
		sl_gss_free(s);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		REQUIRE(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_RC(w[i].failures, 0);
	}
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	realm = getenv("SLUICE_TEST_KRB5_REALM");
	if (!realm || !*realm)
		realm = "SLUICE.TEST";
	rcdir = tu_tempdir("gss");

	struct carol k = { 0 };
	fprintf(stderr, "expiry setup\n");
	expire_setup(&k);
	fprintf(stderr, "good login\n");
	test_good_login();
	fprintf(stderr, "no credentials\n");
	test_no_credentials();
	fprintf(stderr, "wrong service\n");
	test_wrong_service();
	fprintf(stderr, "forged AP-REQ\n");
	test_forged();
	fprintf(stderr, "weak peers\n");
	test_weak_peers();
	fprintf(stderr, "replayed AP-REQ\n");
	test_replay();
	fprintf(stderr, "messages\n");
	test_messages();
	fprintf(stderr, "threads\n");
	test_threads();
	fprintf(stderr, "expired ticket\n");
	expire_check(&k);

	char *cmd;
	REQUIRE(asprintf(&cmd, "rm -rf '%s'", rcdir) > 0);
	CHECK_RC(system(cmd), 0);
	free(cmd);
	free(rcdir);
	return tu_finish("test_auth_gss");
}
