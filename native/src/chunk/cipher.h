/*
 * cipher.h - encryption at rest as JuiceFS does it (`juicefs format --encrypt-rsa-key`): every
 * stored block is sealed with a fresh random data key under an AEAD (AES-256-GCM for
 * "aes256gcm-rsa", ChaCha20-Poly1305 for "chacha20-rsa"), and the data key is wrapped with the
 * volume's RSA key (OAEP, SHA-256, label "keys"). A stored block is
 *   [2 bytes wrapped-key length, big-endian][1 byte nonce length][wrapped key][nonce]
 *   [ciphertext][16-byte tag]
 * and holds the block after compression. Sealing needs only the public half of the key; opening
 * needs the private half (the volume's format record holds it as PEM, optionally protected by a
 * passphrase, which JuiceFS takes from JFS_RSA_PASSPHRASE).
 */
#ifndef SL_CIPHER_H
#define SL_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct sl_cipher;

/* Whether algo names a data cipher Sluice implements ("", "aes256gcm-rsa" or "chacha20-rsa"). */
int sl_cipher_check_algo(const char *algo, struct sl_err *err);
/* Loads the private key from PEM (PKCS#1 or PKCS#8, passphrase-protected or not; passphrase
 * NULL or "" for none) for algo. -EINVAL with a message saying what is wrong: not a key, not RSA,
 * a passphrase needed or wrong. Safe to use from many threads once made. */
int sl_cipher_new(const char *algo, const char *pem, const char *passphrase,
		  struct sl_cipher **out, struct sl_err *err);
void sl_cipher_free(struct sl_cipher *c);
/* Bytes a sealed block has beyond its plaintext. */
size_t sl_cipher_overhead(const struct sl_cipher *c);
/* Seals n bytes into out (capacity at least n + overhead); returns the sealed length. */
int64_t sl_cipher_seal(const struct sl_cipher *c, const void *in, size_t n, void *out, size_t cap,
		       struct sl_err *err);
/* Opens a sealed block into out (capacity cap); returns the plaintext length. -EIO naming key
 * if the block is malformed, was sealed with another key or was changed. */
int64_t sl_cipher_open(const struct sl_cipher *c, const void *in, size_t n, void *out, size_t cap,
		       const char *key, struct sl_err *err);

#endif
