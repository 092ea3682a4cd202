/*
 * cipher.h - encryption at rest as JuiceFS does it (`juicefs format --encrypt-rsa-key`): every
 * stored block is sealed with a fresh random data key under an AEAD (AES-256-GCM for
 * "aes256gcm-rsa", ChaCha20-Poly1305 for "chacha20-rsa"), and the data key is wrapped with the
 * volume's RSA key (OAEP, SHA-256, label "keys"). A stored block is
 *   [2 bytes wrapped-key length, big-endian][1 byte nonce length][wrapped key][nonce]
 *   [ciphertext][16-byte tag]
 * and holds the block after compression. Sealing needs only the public half of the key; opening
 * needs the private half (the volume's format record holds it as PEM, optionally protected by a
 * passphrase, which JuiceFS takes from JFS_RSA_PASSPHRASE), or someone who has it: a client of
 * the gateway holds the public key and asks the gateway for each block's data key.
 */
#ifndef SL_CIPHER_H
#define SL_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct sl_cipher;

#define SL_CIPHER_DATA_KEY 32 /* bytes of a block's data key */

/* Who opens a block's data key for a cipher without the private key. */
struct sl_cipher_unwrapper {
	/* Writes the data key of stored block `key` (an object key) to out; 0 or a negative
	 * errno with a message in err. Called from many threads at once. */
	int (*unwrap)(void *arg, const char *key, uint8_t out[SL_CIPHER_DATA_KEY],
		      struct sl_err *err);
	void *arg; /* must outlive the cipher */
};

/* Whether algo names a data cipher Sluice implements ("", "aes256gcm-rsa" or "chacha20-rsa"). */
int sl_cipher_check_algo(const char *algo, struct sl_err *err);
/* Loads the private key from PEM (PKCS#1 or PKCS#8, passphrase-protected or not; passphrase
 * NULL or "" for none) for algo. -EINVAL with a message saying what is wrong: not a key, not RSA,
 * a passphrase needed or wrong. Safe to use from many threads once made. */
int sl_cipher_new(const char *algo, const char *pem, const char *passphrase,
		  struct sl_cipher **out, struct sl_err *err);
/* A cipher from the public key's PEM (SubjectPublicKeyInfo) that seals itself and has u open
 * data keys. */
int sl_cipher_new_public(const char *algo, const char *public_pem,
			 const struct sl_cipher_unwrapper *u, struct sl_cipher **out,
			 struct sl_err *err);
void sl_cipher_free(struct sl_cipher *c);
/* The public key as PEM, for sl_cipher_new_public; caller frees. */
int sl_cipher_public_pem(const struct sl_cipher *c, char **out, struct sl_err *err);
/* How many bytes at the start of a stored block hold its wrapped data key (what
 * sl_cipher_unwrap needs). */
size_t sl_cipher_header_len(const struct sl_cipher *c);
/* The data key of a stored block from its first bytes (at least sl_cipher_header_len), with
 * the private key. -EIO naming key if it does not open. */
int sl_cipher_unwrap(const struct sl_cipher *c, const void *head, size_t n,
		     uint8_t out[SL_CIPHER_DATA_KEY], const char *key, struct sl_err *err);
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
