/*
 * cipher.c - sealing and opening stored blocks with a per-block data key wrapped by the volume's
 * RSA key, byte-compatible with JuiceFS's encrypted object storage (cipher.h).
 */
#include "cipher.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DATA_KEY_LEN SL_CIPHER_DATA_KEY /* both AEADs take 256-bit keys */
#define NONCE_LEN 12
#define TAG_LEN 16
#define HEADER_LEN 3
#define OAEP_LABEL "keys"

struct sl_cipher {
	EVP_PKEY *key;      /* private, or public only with an unwrapper */
	struct sl_cipher_unwrapper unwrapper;
	const EVP_CIPHER *aead;
	size_t wrapped_len; /* the RSA modulus size */
};

int sl_cipher_check_algo(const char *algo, struct sl_err *err)
{
	if (!algo || !*algo || !strcmp(algo, "aes256gcm-rsa") || !strcmp(algo, "chacha20-rsa"))
		return 0;
	return sl_errf(err, -ENOTSUP, "encryption algorithm '%s' is not supported by this version "
		       "of Sluice (aes256gcm-rsa, chacha20-rsa)", algo);
}

static int pass_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)rwflag;
	const char *pass = arg;
	size_t n = pass ? strlen(pass) : 0;
	if (!n || n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

/* Takes key (freed on failure). */
static int make(const char *algo, EVP_PKEY *key, const struct sl_cipher_unwrapper *u,
		struct sl_cipher **out, struct sl_err *err)
{
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		EVP_PKEY_free(key);
		return sl_errf(err, -EINVAL, "the volume's encryption key is not an RSA key (SM2 "
			       "keys are not supported)");
	}
	struct sl_cipher *c = calloc(1, sizeof(*c));
	if (!c) {
		EVP_PKEY_free(key);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	c->key = key;
	if (u)
		c->unwrapper = *u;
	c->aead = algo && !strcmp(algo, "chacha20-rsa") ? EVP_chacha20_poly1305()
							: EVP_aes_256_gcm();
	c->wrapped_len = (size_t)EVP_PKEY_get_size(key);
	*out = c;
	return 0;
}

int sl_cipher_new(const char *algo, const char *pem, const char *passphrase,
		  struct sl_cipher **out, struct sl_err *err)
{
	int rc = sl_cipher_check_algo(algo, err);
	if (rc)
		return rc;
	bool protected = strstr(pem, "ENCRYPTED") != NULL;
	bool have_pass = passphrase && *passphrase;
	if (protected && !have_pass)
		return sl_errf(err, -EINVAL, "the volume's RSA key is protected by a passphrase: "
			       "set encrypt.passphrase (or JFS_RSA_PASSPHRASE in the environment)");
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (!bio)
		return sl_errf(err, -ENOMEM, "out of memory");
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)passphrase);
	BIO_free(bio);
	ERR_clear_error();
	if (!key)
		return sl_errf(err, -EINVAL, protected ? "cannot decrypt the volume's RSA key: wrong "
						       "passphrase?"
						     : "the volume's encryption key is not a PEM private "
						       "key");
	return make(algo, key, NULL, out, err);
}

int sl_cipher_new_public(const char *algo, const char *public_pem,
			 const struct sl_cipher_unwrapper *u, struct sl_cipher **out,
			 struct sl_err *err)
{
	int rc = sl_cipher_check_algo(algo, err);
	if (rc)
		return rc;
	BIO *bio = BIO_new_mem_buf(public_pem, -1);
	if (!bio)
		return sl_errf(err, -ENOMEM, "out of memory");
	EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!key)
		return sl_errf(err, -EINVAL, "the volume's public encryption key is not a PEM "
			       "public key");
	return make(algo, key, u, out, err);
}

void sl_cipher_free(struct sl_cipher *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->key);
	free(c);
}

size_t sl_cipher_overhead(const struct sl_cipher *c)
{
	return HEADER_LEN + c->wrapped_len + NONCE_LEN + TAG_LEN;
}

size_t sl_cipher_header_len(const struct sl_cipher *c)
{
	return HEADER_LEN + c->wrapped_len + NONCE_LEN;
}

int sl_cipher_public_pem(const struct sl_cipher *c, char **out, struct sl_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len = 0;
	int rc = 0;
	if (!bio || PEM_write_bio_PUBKEY(bio, c->key) != 1 ||
	    (len = BIO_get_mem_data(bio, &data)) <= 0 || !(*out = strndup(data, (size_t)len))) {
		ERR_clear_error();
		rc = sl_errf(err, -ENOMEM, "cannot write the volume's public key");
	}
	BIO_free(bio);
	return rc;
}

/* An OAEP context for the volume key: SHA-256 for the digest and MGF1, label "keys". */
static EVP_PKEY_CTX *oaep_ctx(const struct sl_cipher *c, bool wrap)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(c->key, NULL);
	char *label = OPENSSL_strdup(OAEP_LABEL);
	if (!ctx || !label || (wrap ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, (int)strlen(OAEP_LABEL)) != 1) {
		OPENSSL_free(label);
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx; /* owns label now */
}

int64_t sl_cipher_seal(const struct sl_cipher *c, const void *in, size_t n, void *out, size_t cap,
		       struct sl_err *err)
{
	if (cap < n + sl_cipher_overhead(c) || n > INT32_MAX)
		return sl_errf(err, -EINVAL, "seal: buffer too small");
	uint8_t *o = out;
	unsigned char data_key[DATA_KEY_LEN];
	uint8_t *wrapped = o + HEADER_LEN, *nonce = wrapped + c->wrapped_len,
		*body = nonce + NONCE_LEN;
	size_t wlen = c->wrapped_len;
	EVP_PKEY_CTX *pctx = oaep_ctx(c, true);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	int64_t rc;
	if (!pctx || !ctx || RAND_bytes(data_key, sizeof(data_key)) != 1 ||
	    RAND_bytes(nonce, NONCE_LEN) != 1 ||
	    EVP_PKEY_encrypt(pctx, wrapped, &wlen, data_key, sizeof(data_key)) != 1 ||
	    wlen != c->wrapped_len ||
	    EVP_EncryptInit_ex(ctx, c->aead, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, data_key, nonce) != 1 ||
	    (n && EVP_EncryptUpdate(ctx, body, &len, in, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(ctx, body + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, body + n) != 1) {
		ERR_clear_error();
		rc = sl_errf(err, -EIO, "encrypting a block of %zu bytes failed", n);
	} else {
		o[0] = (uint8_t)(wlen >> 8);
		o[1] = (uint8_t)wlen;
		o[2] = NONCE_LEN;
		rc = (int64_t)(n + sl_cipher_overhead(c));
	}
	OPENSSL_cleanse(data_key, sizeof(data_key));
	EVP_CIPHER_CTX_free(ctx);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

/* The wrapped key's length from a stored block's first n bytes (at least a whole header, and
 * a tag after it if whole is set); -EIO naming key if they cannot start a sealed block. */
static int64_t wrapped_len(const uint8_t *p, size_t n, bool whole, const char *key,
			   struct sl_err *err)
{
	if (n < HEADER_LEN)
		return sl_errf(err, -EIO, "object %s is corrupt: %zu bytes cannot be an encrypted "
			       "block", key, n);
	size_t wlen = ((size_t)p[0] << 8) | p[1], nlen = p[2];
	if (nlen != NONCE_LEN || HEADER_LEN + wlen + nlen + (whole ? TAG_LEN : 0) > n)
		return sl_errf(err, -EIO, "object %s is corrupt: a malformed encryption header "
			       "(wrapped key %zu bytes, nonce %zu, object %zu)", key, wlen, nlen, n);
	return (int64_t)wlen;
}

int sl_cipher_unwrap(const struct sl_cipher *c, const void *head, size_t n,
		     uint8_t out[SL_CIPHER_DATA_KEY], const char *key, struct sl_err *err)
{
	int64_t wlen = wrapped_len(head, n, false, key, err);
	if (wlen < 0)
		return (int)wlen;
	if (c->unwrapper.unwrap)
		return sl_errf(err, -EPERM, "object %s: this client does not hold the volume's "
			       "private key", key);
	unsigned char data_key[512]; /* OAEP output fits in the modulus */
	size_t klen = sizeof(data_key);
	EVP_PKEY_CTX *pctx = oaep_ctx(c, false);
	int rc = 0;
	if (!pctx ||
	    EVP_PKEY_decrypt(pctx, data_key, &klen, (const uint8_t *)head + HEADER_LEN,
			     (size_t)wlen) != 1 ||
	    klen != DATA_KEY_LEN) {
		ERR_clear_error();
		rc = sl_errf(err, -EIO, "object %s cannot be decrypted: its data key was not "
			     "wrapped with this volume's RSA key, or is damaged", key);
	} else {
		memcpy(out, data_key, DATA_KEY_LEN);
	}
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_cleanse(data_key, sizeof(data_key));
	return rc;
}

int64_t sl_cipher_open(const struct sl_cipher *c, const void *in, size_t n, void *out, size_t cap,
		       const char *key, struct sl_err *err)
{
	const uint8_t *p = in;
	int64_t wlen = wrapped_len(p, n, true, key, err);
	if (wlen < 0)
		return wlen;
	const uint8_t *nonce = p + HEADER_LEN + wlen, *body = nonce + NONCE_LEN;
	size_t blen = n - HEADER_LEN - (size_t)wlen - NONCE_LEN - TAG_LEN;
	if (blen > cap || blen > INT32_MAX)
		return sl_errf(err, -EIO, "object %s is corrupt: %zu bytes of plaintext, at most %zu "
			       "expected", key, blen, cap);
	uint8_t data_key[DATA_KEY_LEN];
	int urc = c->unwrapper.unwrap ? c->unwrapper.unwrap(c->unwrapper.arg, key, data_key, err)
				      : sl_cipher_unwrap(c, in, n, data_key, key, err);
	if (urc)
		return urc;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	int64_t rc = (int64_t)blen;
	if (!ctx || EVP_DecryptInit_ex(ctx, c->aead, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, data_key, nonce) != 1 ||
	    (blen && EVP_DecryptUpdate(ctx, out, &len, body, (int)blen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)(body + blen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (uint8_t *)out + len, &fin) != 1) {
		ERR_clear_error();
		rc = sl_errf(err, -EIO, "object %s is corrupt: its authentication tag does not "
			     "match (changed or truncated in storage)", key);
	}
	OPENSSL_cleanse(data_key, sizeof(data_key));
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
