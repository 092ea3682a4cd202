/* token_session.c - proofs, key derivation and AES-256-GCM messages of the token mechanism
 * (token_session.h). */
#include "token_session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN 32
#define IV_LEN 12
#define MAX_OPENING 64
#define MAX_IDENT 1024

struct sl_ts {
	uint8_t send_key[KEY_LEN], recv_key[KEY_LEN];
	uint64_t sent, received; /* messages so far in each direction: the next nonce */
	bool broken;             /* a message failed: nothing more is accepted */
};

int sl_ts_random(uint8_t *p, size_t n, struct sl_err *err)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return sl_errf(err, -EIO, "the random number generator failed");
	return 0;
}

static size_t put_part(uint8_t *buf, size_t pos, const void *p, size_t n)
{
	buf[pos] = (uint8_t)(n >> 8);
	buf[pos + 1] = (uint8_t)n;
	memcpy(buf + pos + 2, p, n);
	return pos + 2 + n;
}

int sl_ts_proof(const uint8_t password[SL_TS_PASSWORD_LEN], bool server,
		const struct sl_ts_transcript *t, uint8_t out[SL_TS_PROOF_LEN], struct sl_err *err)
{
	static const char sl[] = "sluice-token-v1 server", cl[] = "sluice-token-v1 client";
	uint8_t buf[2 + sizeof(sl) + 2 + MAX_OPENING + 2 + MAX_IDENT + 2 * (2 + SL_TS_NONCE_LEN)];
	if (t->opening_len > MAX_OPENING || t->ident_len > MAX_IDENT)
		return sl_errf(err, -EINVAL, "token handshake: opening or identifier too long");
	size_t pos = put_part(buf, 0, server ? sl : cl, sizeof(sl) - 1);
	pos = put_part(buf, pos, t->opening, t->opening_len);
	pos = put_part(buf, pos, t->ident, t->ident_len);
	pos = put_part(buf, pos, t->nonce_c, SL_TS_NONCE_LEN);
	pos = put_part(buf, pos, t->nonce_s, SL_TS_NONCE_LEN);
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), password, SL_TS_PASSWORD_LEN, buf, pos, out, &len) ||
	    len != SL_TS_PROOF_LEN)
		return sl_errf(err, -EIO, "token handshake: HMAC-SHA256 failed");
	return 0;
}

bool sl_ts_proof_equal(const uint8_t a[SL_TS_PROOF_LEN], const uint8_t b[SL_TS_PROOF_LEN])
{
	return CRYPTO_memcmp(a, b, SL_TS_PROOF_LEN) == 0;
}

static int hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		const char *info, uint8_t out[KEY_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = KEY_LEN;
	int ok = ctx && EVP_PKEY_derive_init(ctx) > 0 &&
		 EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
		 EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)salt_len) > 0 &&
		 EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int)ikm_len) > 0 &&
		 EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info, (int)strlen(info)) > 0 &&
		 EVP_PKEY_derive(ctx, out, &len) > 0 && len == KEY_LEN;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int sl_ts_new(const uint8_t password[SL_TS_PASSWORD_LEN], const uint8_t nonce_c[SL_TS_NONCE_LEN],
	      const uint8_t nonce_s[SL_TS_NONCE_LEN], bool server, struct sl_ts **out,
	      struct sl_err *err)
{
	*out = NULL;
	struct sl_ts *s = calloc(1, sizeof(*s));
	if (!s)
		return sl_errf(err, -ENOMEM, "out of memory");
	uint8_t salt[2 * SL_TS_NONCE_LEN];
	memcpy(salt, nonce_c, SL_TS_NONCE_LEN);
	memcpy(salt + SL_TS_NONCE_LEN, nonce_s, SL_TS_NONCE_LEN);
	uint8_t c2s[KEY_LEN], s2c[KEY_LEN];
	if (hkdf(password, SL_TS_PASSWORD_LEN, salt, sizeof(salt), "sluice-token-v1 c2s", c2s) ||
	    hkdf(password, SL_TS_PASSWORD_LEN, salt, sizeof(salt), "sluice-token-v1 s2c", s2c)) {
		OPENSSL_cleanse(c2s, sizeof(c2s));
		OPENSSL_cleanse(s2c, sizeof(s2c));
		free(s);
		return sl_errf(err, -EIO, "token handshake: HKDF-SHA256 failed");
	}
	memcpy(s->send_key, server ? s2c : c2s, KEY_LEN);
	memcpy(s->recv_key, server ? c2s : s2c, KEY_LEN);
	OPENSSL_cleanse(c2s, sizeof(c2s));
	OPENSSL_cleanse(s2c, sizeof(s2c));
	*out = s;
	return 0;
}

static void nonce_of(uint64_t n, uint8_t iv[IV_LEN])
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(n >> (56 - 8 * i));
}

int sl_ts_seal(struct sl_ts *s, const void *in, size_t len, void **out, size_t *outlen,
	       struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (s->broken || s->sent == UINT64_MAX)
		return sl_errf(err, -EPROTO, "the token session is closed");
	if (len > INT32_MAX - SL_TS_TAG_LEN)
		return sl_errf(err, -EMSGSIZE, "a message of %zu bytes is too big to protect", len);
	uint8_t *buf = malloc(len + SL_TS_TAG_LEN);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int rc = 0, n = 0, fin = 0;
	uint8_t iv[IV_LEN];
	nonce_of(s->sent, iv);
	if (!buf || !ctx) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
	} else if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->send_key, iv) != 1 ||
		   (len && EVP_EncryptUpdate(ctx, buf, &n, in, (int)len) != 1) ||
		   EVP_EncryptFinal_ex(ctx, buf + n, &fin) != 1 ||
		   EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SL_TS_TAG_LEN, buf + len) != 1) {
		rc = sl_errf(err, -EIO, "AES-256-GCM encryption failed");
	}
	EVP_CIPHER_CTX_free(ctx);
	if (rc) {
		free(buf);
		return rc;
	}
	s->sent++;
	*out = buf;
	*outlen = len + SL_TS_TAG_LEN;
	return 0;
}

int sl_ts_open(struct sl_ts *s, const void *in, size_t len, void **out, size_t *outlen,
	       struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (s->broken || s->received == UINT64_MAX)
		return sl_errf(err, -EPROTO, "the token session is closed after a bad message");
	if (len < SL_TS_TAG_LEN || len > INT32_MAX) {
		s->broken = true;
		return sl_errf(err, -EBADMSG, "a protected message of %zu bytes is malformed", len);
	}
	size_t plen = len - SL_TS_TAG_LEN;
	uint8_t *buf = malloc(plen ? plen : 1);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[IV_LEN], tag[SL_TS_TAG_LEN];
	memcpy(tag, (const uint8_t *)in + plen, SL_TS_TAG_LEN);
	nonce_of(s->received, iv);
	int rc = 0, n = 0, fin = 0;
	if (!buf || !ctx) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
	} else if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->recv_key, iv) != 1 ||
		   (plen && EVP_DecryptUpdate(ctx, buf, &n, in, (int)plen) != 1) ||
		   EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SL_TS_TAG_LEN, tag) != 1 ||
		   EVP_DecryptFinal_ex(ctx, buf + n, &fin) != 1) {
		s->broken = true;
		rc = sl_errf(err, -EBADMSG, "a protected message failed authentication (altered, "
			     "replayed, out of order or after a lost one)");
	}
	EVP_CIPHER_CTX_free(ctx);
	if (rc) {
		if (buf)
			OPENSSL_cleanse(buf, plen);
		free(buf);
		return rc;
	}
	s->received++;
	*out = buf;
	*outlen = plen;
	return 0;
}

void sl_ts_free(struct sl_ts *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
