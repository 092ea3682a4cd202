/*
 * fuzz_seeds.c - writes the fuzz targets' starting corpus into OUT/{dispatch,frames,wire,s3_xml}:
 * one valid request per gateway op, openings and handshakes (a complete one with a service ticket
 * forged offline from the keytab's key, followed by protected messages; the first messages of the
 * delegation token mechanism) and decoder scripts.
 * Usage: fuzz_seeds OUT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz_common.h"
#include "fuzz_requests.h"
#include "auth/gss.h"
#include "rpc/conn.h"
#include "rpc/proto.h"

/* MIT exports these (its KDC uses them) without declaring them in krb5.h; forging a ticket for a
 * service whose key we hold needs nothing else. */
krb5_error_code krb5_encrypt_tkt_part(krb5_context, const krb5_keyblock *, krb5_ticket *);
krb5_error_code encode_krb5_ticket(const krb5_ticket *, krb5_data **);

static char out[1024];

static void fail(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_seeds: %s: %s\n", what, why);
	exit(1);
}

static void seed(const char *target, const char *name, const void *p, size_t len)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s/%s", out, target, name);
	fz_write_file(path, p, len);
}

static void emit_dispatch(void *arg, const char *name, const struct sl_wbuf *req)
{
	(void)arg;
	seed("dispatch", name, req->p, req->len);
}

/* ---- frames --------------------------------------------------------------------------------- */

static void frame(struct sl_wbuf *w, const void *p, size_t len)
{
	sl_w_u32(w, (uint32_t)len);
	sl_w_raw(w, p, len);
}

static void hello(struct sl_wbuf *w, uint16_t version, uint8_t privacy)
{
	uint8_t h[8] = {'S', 'L', 'G', 'W', (uint8_t)(version >> 8), (uint8_t)version,
			SL_RPC_MECH_KERBEROS, privacy};
	frame(w, h, sizeof(h));
}

static void token_hello(struct sl_wbuf *w)
{
	uint8_t h[8] = {'S', 'L', 'G', 'W', 0, SL_RPC_VERSION, SL_RPC_MECH_TOKEN, 1};
	frame(w, h, sizeof(h));
}

static void token_frame(struct sl_wbuf *w, uint8_t kind, const void *p, size_t len)
{
	sl_w_u32(w, (uint32_t)len + 1);
	sl_w_u8(w, kind);
	sl_w_raw(w, p, len);
}

/* A service ticket for FZ_CLIENT to FZ_SERVICE, made with the service's key (no KDC), stored in
 * the MEMORY ccache ccname. Valid from a minute ago for ten years. */
static void forge_ticket(const char *ccname)
{
	krb5_context ctx = NULL;
	krb5_principal client = NULL, server = NULL;
	krb5_keyblock skey = {0}, session = {0};
	krb5_ccache cc = NULL;
	krb5_data *der = NULL;
	krb5_error_code kc;
	if ((kc = krb5_init_context(&ctx)))
		fail("krb5_init_context", error_message(kc));
	krb5_timestamp now = (krb5_timestamp)time(NULL);
	krb5_enc_tkt_part enc = {
		.flags = TKT_FLG_INITIAL,
		.transited = {.tr_type = KRB5_DOMAIN_X500_COMPRESS},
		.times = {.authtime = now - 60, .starttime = now - 60,
			  .endtime = now + 10 * 365 * 86400},
	};
	krb5_ticket tkt = {0};
	if ((kc = krb5_parse_name(ctx, FZ_CLIENT, &client)) ||
	    (kc = krb5_parse_name(ctx, FZ_SERVICE, &server)) ||
	    (kc = fz_service_key(ctx, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &skey)) ||
	    (kc = krb5_c_make_random_key(ctx, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &session)))
		fail("forging a ticket", krb5_get_error_message(ctx, kc));
	enc.session = &session;
	enc.client = client;
	tkt.server = server;
	tkt.enc_part2 = &enc;
	if ((kc = krb5_encrypt_tkt_part(ctx, &skey, &tkt)))
		fail("encrypting the ticket", krb5_get_error_message(ctx, kc));
	tkt.enc_part.kvno = FZ_KVNO;
	if ((kc = encode_krb5_ticket(&tkt, &der)))
		fail("encoding the ticket", krb5_get_error_message(ctx, kc));
	krb5_creds cr = {.client = client, .server = server, .keyblock = session,
			 .times = enc.times, .ticket = *der, .ticket_flags = enc.flags};
	if ((kc = krb5_cc_resolve(ctx, ccname, &cc)) || (kc = krb5_cc_initialize(ctx, cc, client)) ||
	    (kc = krb5_cc_store_cred(ctx, cc, &cr)))
		fail("storing the ticket", krb5_get_error_message(ctx, kc));
	krb5_cc_close(ctx, cc); /* a MEMORY cache lives on until destroyed */
	krb5_free_data(ctx, der);
	krb5_free_data_contents(ctx, &tkt.enc_part.ciphertext);
	krb5_free_keyblock_contents(ctx, &session);
	krb5_free_keyblock_contents(ctx, &skey);
	krb5_free_principal(ctx, server);
	krb5_free_principal(ctx, client);
	krb5_free_context(ctx);
}

static void gss_check(int rc, const struct sl_err *err, const char *what)
{
	if (rc)
		fail(what, err->msg);
}

/* A client's whole side of a successful connection: opening, its GSS token (the server side runs
 * here too, to finish the client's context), then protected messages. */
static void handshake_seed(const char *name, const char *keytab, const char *dir, bool privacy,
			   size_t nmsgs)
{
	struct sl_gss_client_conf cc = {.service = FZ_SERVICE, .ccache = "MEMORY:sluice-fuzz-seeds"};
	char rcache[1100];
	snprintf(rcache, sizeof(rcache), "%s/seed-rcache-%s", dir, name);
	struct sl_gss_server_conf sc = {.keytab = keytab, .principal = FZ_SERVICE, .rcache = rcache};
	struct sl_gss *cli = NULL, *srv = NULL;
	struct sl_err err = {0};
	void *t1 = NULL, *t2 = NULL, *t3 = NULL;
	size_t l1 = 0, l2 = 0, l3 = 0;
	bool cdone = false, sdone = false;
	gss_check(sl_gss_client_new(&cc, &cli, &err), &err, "client context");
	gss_check(sl_gss_server_new(&sc, &srv, &err), &err, "server context");
	sl_gss_set_require_confidentiality(cli, privacy);
	gss_check(sl_gss_step(cli, NULL, 0, &t1, &l1, &cdone, &err), &err, "client step 1");
	gss_check(sl_gss_step(srv, t1, l1, &t2, &l2, &sdone, &err), &err, "server step");
	gss_check(sl_gss_step(cli, t2, l2, &t3, &l3, &cdone, &err), &err, "client step 2");
	if (!cdone || !sdone || l3)
		fail("handshake", "did not finish in one round trip");

	struct sl_wbuf w = {0};
	hello(&w, SL_RPC_VERSION, privacy);
	token_frame(&w, 0, t1, l1);
	for (size_t i = 0; i < nmsgs; i++) {
		struct sl_wbuf req = {0};
		sl_w_u16(&req, SL_OP_LOOKUP);
		sl_w_str(&req, NULL);
		sl_w_entry(&req, &(struct sl_rpc_entry){.parent = FZ_INO_DIR, .name = "f"});
		void *wr = NULL;
		size_t wl = 0;
		gss_check(sl_gss_wrap(cli, privacy, req.p, req.len, &wr, &wl, &err), &err, "wrap");
		frame(&w, wr, wl);
		free(wr);
		sl_wbuf_free(&req);
	}
	seed("frames", name, w.p, w.len);
	/* the same, cut in the middle of the token */
	char cut[128];
	snprintf(cut, sizeof(cut), "%s-truncated", name);
	seed("frames", cut, w.p, 12 + 4 + l1 / 2);
	sl_wbuf_free(&w);
	free(t1);
	free(t2);
	free(t3);
	sl_gss_free(cli);
	sl_gss_free(srv);
}

/* The token mechanism: its first message (identifier, nonce) with the identifier fuzz_frames'
 * lookup knows or another one, and a last message with a proof that cannot be right (the
 * server's nonce is random, so no stored input gets further). */
static void token_seeds(void)
{
	static const uint8_t nonce[SL_TS_NONCE_LEN] = {1, 2, 3};
	static const uint8_t proof[SL_TS_PROOF_LEN] = {4, 5, 6};
	struct sl_wbuf w = {0}, m = {0};
	token_hello(&w);
	seed("frames", "token-opening-only", w.p, w.len);
	sl_w_bytes(&m, FZ_TOKEN_IDENT, sizeof(FZ_TOKEN_IDENT) - 1);
	sl_w_bytes(&m, nonce, sizeof(nonce));
	token_frame(&w, 0, m.p, m.len);
	seed("frames", "token-first-message", w.p, w.len);
	sl_wbuf_free(&m);
	sl_w_bytes(&m, proof, sizeof(proof));
	token_frame(&w, 0, m.p, m.len);
	seed("frames", "token-wrong-proof", w.p, w.len);
	sl_wbuf_free(&m);
	sl_wbuf_free(&w);
	token_hello(&w);
	sl_w_bytes(&m, "\x00\x03" "bob", 5); /* a token nobody issued (and malformed) */
	sl_w_bytes(&m, nonce, sizeof(nonce));
	token_frame(&w, 0, m.p, m.len);
	seed("frames", "token-unknown", w.p, w.len);
	sl_wbuf_free(&m);
	sl_wbuf_free(&w);
}

static void frames_seeds(void)
{
	const char *dir = fz_tempdir("seeds");
	const char *keytab = fz_krb_setup(dir);
	forge_ticket("MEMORY:sluice-fuzz-seeds");
	handshake_seed("handshake-integrity", keytab, dir, false, 2);
	handshake_seed("handshake-privacy", keytab, dir, true, 2);

	struct sl_wbuf w = {0};
	hello(&w, SL_RPC_VERSION, 0);
	seed("frames", "opening-only", w.p, w.len);
	token_frame(&w, 0, "\x60\x03\x06\x01\x00", 5); /* the start of a GSS token, then junk */
	seed("frames", "opening-bad-token", w.p, w.len);
	sl_wbuf_free(&w);
	hello(&w, SL_RPC_VERSION, 0);
	token_frame(&w, 1, "no", 2); /* a refusal where a token belongs */
	seed("frames", "opening-refusal-kind", w.p, w.len);
	sl_wbuf_free(&w);
	hello(&w, 9, 0);
	seed("frames", "opening-bad-version", w.p, w.len);
	sl_wbuf_free(&w);
	hello(&w, SL_RPC_VERSION, 0);
	sl_w_u32(&w, 0x7fffffff); /* an oversized token frame */
	seed("frames", "opening-oversized-token", w.p, w.len);
	sl_wbuf_free(&w);
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	seed("frames", "http", http, sizeof(http) - 1);
	static const uint8_t small[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 65};
	seed("frames", "small-frames", small, sizeof(small));
}

/* ---- wire ----------------------------------------------------------------------------------- */

/* fuzz_wire reads its script from the first quarter and the fields from the rest. */
static void wire_seed(const char *name, const uint8_t *sel, size_t nsel, const struct sl_wbuf *f)
{
	size_t n = nsel;
	while (f->len > 3 * n)
		n++;
	size_t total = 4 * n;
	uint8_t *b = calloc(1, total);
	if (!b)
		fail("wire seed", "out of memory");
	memcpy(b, sel, nsel); /* extra selectors are 0: u8 reads of the padding */
	memcpy(b + n, f->p, f->len);
	seed("wire", name, b, total);
	free(b);
}

static void wire_seeds(void)
{
	struct sl_wbuf f = {0};
	struct sl_attr a = {.type = 1, .mode = 0644, .uid = 1000, .gid = 1000, .nlink = 1,
			    .length = 12345, .parent = 1, .mtime_ns = 1700000000000000000LL};
	struct sl_slice s = {.pos = 0, .id = 77, .size = 4096, .off = 0, .len = 4096};
	sl_w_attr(&f, &a);
	sl_w_slice(&f, &s);
	sl_w_str(&f, "a name");
	sl_w_bytes(&f, "bytes", 5);
	sl_w_str(&f, NULL);
	sl_w_u8(&f, 7);
	sl_w_u16(&f, 0x1234);
	sl_w_u32(&f, 0x12345678);
	sl_w_u64(&f, 0x123456789abcdefULL);
	sl_w_i64(&f, -5);
	sl_w_bool(&f, true);
	/* selectors: attr, slice, str (max 10*11+7 -> 10), bytes (max 3*7), str (no max), u8..bool */
	const uint8_t sel[] = {9, 10, 7 + 11 * 10, 6 + 11 * 3, 8, 0, 1, 2, 3, 4, 5};
	wire_seed("all-fields", sel, sizeof(sel), &f);
	sl_wbuf_free(&f);
	/* a string without its NUL, one with a NUL inside, a length past the end */
	sl_w_bytes(&f, "abc", 3);
	sl_w_bytes(&f, "a\0c", 4);
	sl_w_u32(&f, 1000);
	const uint8_t sel2[] = {8, 8, 6 + 11 * 20};
	wire_seed("bad-strings", sel2, sizeof(sel2), &f);
	sl_wbuf_free(&f);
}

/* ---- s3_xml ----------------------------------------------------------------------------------- */

static void s3_xml_seeds(void)
{
	static const char *const docs[][2] = {
		{"error", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
			  "<Message>The key &amp; &#233;</Message></Error>"},
		{"listing", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http:"
			    "//s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>true</IsTruncated>"
			    "<Contents><Key>v/a&amp;b</Key><LastModified>2026-12-06T01:02:03.000Z"
			    "</LastModified><Size>4194304</Size></Contents><CommonPrefixes><Prefix>p/"
			    "</Prefix></CommonPrefixes><NextContinuationToken>t</NextContinuationToken>"
			    "</ListBucketResult>"},
		{"doctype", "<!DOCTYPE r [<!ENTITY a \"x\">]><ListBucketResult><Contents><Key>&a;"
			    "</Key><Size>1</Size></Contents></ListBucketResult>"},
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		seed("s3_xml", docs[i][0], docs[i][1], strlen(docs[i][1]));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds OUT\n");
		return 2;
	}
	snprintf(out, sizeof(out), "%s", argv[1]);
	static const char *const targets[] = {"", "/dispatch", "/frames", "/wire", "/s3_xml"};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char path[1200];
		snprintf(path, sizeof(path), "%s%s", out, targets[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			fail(path, strerror(errno));
	}
	fz_fixture_requests(emit_dispatch, NULL, true);
	fz_seed_requests(emit_dispatch, NULL);
	frames_seeds();
	token_seeds();
	wire_seeds();
	s3_xml_seeds();
	return 0;
}
