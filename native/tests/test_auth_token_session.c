/*
 * test_auth_token_session.c - the delegation token mechanism's cryptography (src/auth/
 * token_session.c) without sockets: proofs bound to their transcript, and sessions whose messages
 * arrive only once, in order and unaltered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token_session.h"
#include "testutil.h"

static const uint8_t PASSWORD[SL_TS_PASSWORD_LEN] = "0123456789abcdefghij";
static const uint8_t OPENING[8] = {'S', 'L', 'G', 'W', 0, 1, 2, 1};
static const uint8_t IDENT[] = {0, 5, 'a', 'l', 'i', 'c', 'e', 0, 0, 1, 2, 3, 4};

static void test_proofs(void)
{
	uint8_t nc[SL_TS_NONCE_LEN], ns[SL_TS_NONCE_LEN];
	struct sl_err err = {0};
	CHECK_RC(sl_ts_random(nc, sizeof(nc), &err), 0);
	CHECK_RC(sl_ts_random(ns, sizeof(ns), &err), 0);
	CHECK(memcmp(nc, ns, sizeof(nc)) != 0);
	struct sl_ts_transcript t = {.opening = OPENING, .opening_len = sizeof(OPENING),
				     .ident = IDENT, .ident_len = sizeof(IDENT), .nonce_c = nc,
				     .nonce_s = ns};
	uint8_t server[SL_TS_PROOF_LEN], client[SL_TS_PROOF_LEN], again[SL_TS_PROOF_LEN];
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t, server, &err), 0);
	CHECK_RC(sl_ts_proof(PASSWORD, false, &t, client, &err), 0);
	CHECK(!sl_ts_proof_equal(server, client)); /* one end's proof is no good for the other */
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t, again, &err), 0);
	CHECK(sl_ts_proof_equal(server, again));

	/* every part of the transcript and the password count */
	uint8_t other[SL_TS_PASSWORD_LEN];
	memcpy(other, PASSWORD, sizeof(other));
	other[19] ^= 1;
	CHECK_RC(sl_ts_proof(other, true, &t, again, &err), 0);
	CHECK(!sl_ts_proof_equal(server, again));
	uint8_t op2[8];
	memcpy(op2, OPENING, 8);
	op2[7] = 0;
	struct sl_ts_transcript t2 = t;
	t2.opening = op2;
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t2, again, &err), 0);
	CHECK(!sl_ts_proof_equal(server, again));
	t2 = t;
	t2.ident_len--;
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t2, again, &err), 0);
	CHECK(!sl_ts_proof_equal(server, again));
	t2 = t;
	t2.nonce_c = ns;
	t2.nonce_s = nc;
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t2, again, &err), 0);
	CHECK(!sl_ts_proof_equal(server, again));
	/* lengths are bounded, never overrun */
	t2 = t;
	t2.ident_len = 5000;
	CHECK_RC(sl_ts_proof(PASSWORD, true, &t2, again, &err), -EINVAL);
}

static int roundtrip(struct sl_ts *from, struct sl_ts *to, const char *text)
{
	void *w = NULL, *p = NULL;
	size_t wl = 0, pl = 0;
	struct sl_err err = {0};
	int rc = sl_ts_seal(from, text, strlen(text), &w, &wl, &err);
	if (!rc) {
		CHECK_RC(wl, strlen(text) + SL_TS_TAG_LEN);
		CHECK(strlen(text) < 4 || !memmem(w, wl, text, strlen(text))); /* encrypted */
		rc = sl_ts_open(to, w, wl, &p, &pl, &err);
	}
	if (!rc)
		CHECK(pl == strlen(text) && !memcmp(p, text, pl));
	free(w);
	free(p);
	return rc;
}

static void test_sessions(void)
{
	uint8_t nc[SL_TS_NONCE_LEN] = {1}, ns[SL_TS_NONCE_LEN] = {2};
	struct sl_err err = {0};
	struct sl_ts *c = NULL, *s = NULL;
	REQUIRE(sl_ts_new(PASSWORD, nc, ns, false, &c, &err) == 0);
	REQUIRE(sl_ts_new(PASSWORD, nc, ns, true, &s, &err) == 0);
	CHECK_RC(roundtrip(c, s, "a request"), 0);
	CHECK_RC(roundtrip(s, c, "its answer"), 0);
	CHECK_RC(roundtrip(c, s, ""), 0);
	CHECK_RC(roundtrip(c, s, "another request"), 0);
	/* a message to oneself: the directions have their own keys */
	CHECK_RC(roundtrip(c, c, "echo"), -EBADMSG);
	CHECK_RC(roundtrip(s, c, "after a failure"), -EPROTO); /* c refuses everything now */
	sl_ts_free(c);
	sl_ts_free(s);

	/* replayed, altered, reordered: each refused, and the session is over */
	const char *cases[] = {"replay", "alter", "reorder", "truncate"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(sl_ts_new(PASSWORD, nc, ns, false, &c, &err) == 0);
		REQUIRE(sl_ts_new(PASSWORD, nc, ns, true, &s, &err) == 0);
		void *m1 = NULL, *m2 = NULL, *p = NULL;
		size_t l1 = 0, l2 = 0, pl = 0;
		REQUIRE(sl_ts_seal(c, "first", 5, &m1, &l1, &err) == 0);
		REQUIRE(sl_ts_seal(c, "second", 6, &m2, &l2, &err) == 0);
		int rc;
		if (i == 0) {
			CHECK_RC(sl_ts_open(s, m1, l1, &p, &pl, &err), 0);
			free(p);
			p = NULL;
			rc = sl_ts_open(s, m1, l1, &p, &pl, &err);
		} else if (i == 1) {
			((uint8_t *)m1)[2] ^= 0x10;
			rc = sl_ts_open(s, m1, l1, &p, &pl, &err);
		} else if (i == 2) {
			rc = sl_ts_open(s, m2, l2, &p, &pl, &err);
		} else {
			rc = sl_ts_open(s, m1, l1 - 1, &p, &pl, &err);
		}
		CHECK_RC(rc, -EBADMSG);
		CHECK(p == NULL);
		CHECK(sl_ts_open(s, m2, l2, &p, &pl, &err) != 0);
		free(p);
		free(m1);
		free(m2);
		sl_ts_free(c);
		sl_ts_free(s);
	}

	/* other nonces or another password: other keys */
	uint8_t other[SL_TS_PASSWORD_LEN];
	memcpy(other, PASSWORD, sizeof(other));
	other[0] ^= 1;
	REQUIRE(sl_ts_new(PASSWORD, nc, ns, false, &c, &err) == 0);
	REQUIRE(sl_ts_new(other, nc, ns, true, &s, &err) == 0);
	CHECK_RC(roundtrip(c, s, "wrong password"), -EBADMSG);
	sl_ts_free(c);
	sl_ts_free(s);
	REQUIRE(sl_ts_new(PASSWORD, nc, ns, false, &c, &err) == 0);
	REQUIRE(sl_ts_new(PASSWORD, ns, nc, true, &s, &err) == 0);
	CHECK_RC(roundtrip(c, s, "other nonces"), -EBADMSG);
	sl_ts_free(c);
	sl_ts_free(s);
	sl_ts_free(NULL);
}

int main(void)
{
	test_proofs();
	test_sessions();
	return tu_finish("test_auth_token_session");
}
