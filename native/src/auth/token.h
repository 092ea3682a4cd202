/*
 * token.h - Hadoop delegation token identifiers (AbstractDelegationTokenIdentifier's Writable bytes)
 * and their passwords (HMAC-SHA1 with a master key, as SecretManager.createPassword), so tokens the
 * gateway issues work with Java's Token<...> machinery. Pure functions: no I/O, no state.
 */
#ifndef SL_AUTH_TOKEN_H
#define SL_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Largest encoding of an sl_dt_ident: version, three 255-byte Texts with 5-byte lengths,
 * two 9-byte vlongs, two 5-byte vints. */
#define SL_DT_IDENT_MAX (1 + 3 * (5 + 255) + 2 * 9 + 2 * 5)
#define SL_DT_PASSWORD_LEN 20 /* HMAC-SHA1 */

struct sl_dt_ident {
	char owner[256], renewer[256], real_user[256];
	int64_t issue_ms, max_ms;
	int32_t seq, master_key_id;
};

/* -EINVAL for a name not NUL-terminated within its field, -ENOSPC when size is too small. */
int sl_dt_encode(const struct sl_dt_ident *id, uint8_t *buf, size_t size, size_t *len, struct sl_err *err);
/* -EINVAL for malformed/truncated input or an unknown version; never reads out of bounds.
 * Also -EINVAL for bytes after the last field, and for a name that does not fit its field or
 * contains a NUL byte (Hadoop allows Texts up to 1 MiB). */
int sl_dt_decode(const uint8_t *buf, size_t len, struct sl_dt_ident *id, struct sl_err *err);
void sl_dt_password(const uint8_t *key, size_t keylen, const uint8_t *ident, size_t len, uint8_t out[20]);
/* Constant-time comparison for verifying a presented password. */
bool sl_dt_password_equal(const uint8_t a[20], const uint8_t b[20]);

/* ---- Hadoop's variable-length integers (WritableUtils.writeVLong / readVLong) ----------------- */

#define SL_VLONG_MAX 9 /* bytes of the longest encoding */

/* Writes v in 1..9 bytes; returns the count, or 0 (nothing written) if size is too small.
 * writeVInt is the same encoding for an int32_t. */
size_t sl_vlong_put(int64_t v, uint8_t *buf, size_t size);
/* Reads one number from buf[0..len); *used = its length. -EINVAL if it runs past len. */
int sl_vlong_get(const uint8_t *buf, size_t len, int64_t *v, size_t *used);
/* readVInt: as sl_vlong_get, and -EINVAL if the value does not fit in an int32_t. */
int sl_vint_get(const uint8_t *buf, size_t len, int32_t *v, size_t *used);

#endif
