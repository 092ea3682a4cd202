/*
 * token_session.h - the cryptography of the delegation token mechanism of the gateway protocol
 * (rpc/conn.h, SL_RPC_MECH_TOKEN): proofs that each end knows the token's password, and the session
 * that protects every later message. Pure functions and state, no sockets, like gss.h.
 *
 * Handshake (the rpc layer moves the bytes):
 *   client -> identifier, nonce_c (32 random bytes)
 *   server -> nonce_s, HMAC-SHA256(password, "server" transcript)   proves it knows the master key
 *   client -> HMAC-SHA256(password, "client" transcript)            proves it holds the token
 * The transcript is the opening exchange's client bytes, the identifier and both nonces, each
 * length-prefixed, so a proof is bound to this connection and to what the client announced.
 * Session keys: HKDF-SHA256 (ikm: the password, salt: nonce_c || nonce_s), one per direction.
 * Messages: AES-256-GCM under the sender's key, the 96-bit nonce being 0 (32 bits) || a 64-bit
 * count of the messages sent in that direction, never transmitted: a replayed, reordered,
 * dropped or altered message fails authentication at the receiver.
 */
#ifndef SL_AUTH_TOKEN_SESSION_H
#define SL_AUTH_TOKEN_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SL_TS_NONCE_LEN 32
#define SL_TS_PROOF_LEN 32
#define SL_TS_PASSWORD_LEN 20 /* the token's HMAC-SHA1 password */
#define SL_TS_TAG_LEN 16      /* what a protected message adds to its plaintext */

/* n random bytes from OpenSSL's generator; -EIO if it fails. */
int sl_ts_random(uint8_t *p, size_t n, struct sl_err *err);

/* The transcript both proofs cover. */
struct sl_ts_transcript {
	const uint8_t *opening; /* the client's opening frame ("SLGW", version, mechanism, flags) */
	size_t opening_len;
	const uint8_t *ident;   /* the identifier as the client sent it */
	size_t ident_len;
	const uint8_t *nonce_c, *nonce_s; /* SL_TS_NONCE_LEN each */
};

/* The proof of the server (server=true) or of the client. */
int sl_ts_proof(const uint8_t password[SL_TS_PASSWORD_LEN], bool server,
		const struct sl_ts_transcript *t, uint8_t out[SL_TS_PROOF_LEN], struct sl_err *err);
/* Constant-time comparison of a received proof with the expected one. */
bool sl_ts_proof_equal(const uint8_t a[SL_TS_PROOF_LEN], const uint8_t b[SL_TS_PROOF_LEN]);

struct sl_ts; /* one established session: two keys, two counters; one thread at a time */

int sl_ts_new(const uint8_t password[SL_TS_PASSWORD_LEN], const uint8_t nonce_c[SL_TS_NONCE_LEN],
	      const uint8_t nonce_s[SL_TS_NONCE_LEN], bool server, struct sl_ts **out,
	      struct sl_err *err);
/* *out (malloc'd, len + SL_TS_TAG_LEN bytes) is the next message to send. */
int sl_ts_seal(struct sl_ts *s, const void *in, size_t len, void **out, size_t *outlen,
	       struct sl_err *err);
/* The next message received: -EBADMSG when it fails authentication (altered, replayed, out of
 * order, or after a dropped one), after which the session refuses everything (-EPROTO). */
int sl_ts_open(struct sl_ts *s, const void *in, size_t len, void **out, size_t *outlen,
	       struct sl_err *err);
void sl_ts_free(struct sl_ts *s);

#endif
