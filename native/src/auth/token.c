/*
 * token.c - the Writable bytes of Hadoop's AbstractDelegationTokenIdentifier and the HMAC-SHA1
 * password SecretManager.createPassword computes over them (see token.h).
 *
 * Identifier layout (version 0): byte 0, owner, renewer, realUser as Text (vint length + bytes),
 * issueDate and maxDate as vlongs, sequenceNumber and masterKeyId as vints.
 * VLong (WritableUtils): -112..127 is one byte; otherwise a first byte saying sign and length
 * (-113..-120: positive, 1..8 bytes follow; -121..-128: negative, 1..8 bytes of the one's
 * complement follow), then the magnitude big-endian with no leading zero bytes.
 */
#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define DT_VERSION 0

size_t sl_vlong_put(int64_t v, uint8_t *buf, size_t size)
{
	if (v >= -112 && v <= 127) {
		if (size < 1)
			return 0;
		buf[0] = (uint8_t)v;
		return 1;
	}
	bool neg = v < 0;
	uint64_t mag = neg ? ~(uint64_t)v : (uint64_t)v;
	int nbytes = 0;
	for (uint64_t t = mag; t; t >>= 8)
		nbytes++;
	if (size < (size_t)nbytes + 1)
		return 0;
	buf[0] = (uint8_t)(int8_t)((neg ? -120 : -112) - nbytes);
	for (int i = 0; i < nbytes; i++)
		buf[1 + i] = (uint8_t)(mag >> (8 * (nbytes - 1 - i)));
	return (size_t)nbytes + 1;
}

int sl_vlong_get(const uint8_t *buf, size_t len, int64_t *v, size_t *used)
{
	if (len < 1)
		return -EINVAL;
	int first = (int8_t)buf[0];
	if (first >= -112) {
		*v = first;
		*used = 1;
		return 0;
	}
	bool neg = first < -120;
	size_t nbytes = (size_t)(neg ? -120 - first : -112 - first); /* 1..8 */
	if (len < nbytes + 1)
		return -EINVAL;
	uint64_t mag = 0;
	for (size_t i = 0; i < nbytes; i++)
		mag = (mag << 8) | buf[1 + i];
	/* As readVLong: the bits are taken as a two's complement long, whatever the sign byte said. */
	uint64_t bits = neg ? ~mag : mag;
	int64_t out;
	memcpy(&out, &bits, sizeof(out));
	*v = out;
	*used = nbytes + 1;
	return 0;
}

int sl_vint_get(const uint8_t *buf, size_t len, int32_t *v, size_t *used)
{
	int64_t l;
	int rc = sl_vlong_get(buf, len, &l, used);
	if (rc)
		return rc;
	if (l < INT32_MIN || l > INT32_MAX)
		return -EINVAL;
	*v = (int32_t)l;
	return 0;
}

static int put_text(const char *field, const char *s, size_t cap, uint8_t *buf, size_t size,
		    size_t *pos, struct sl_err *err)
{
	const char *end = memchr(s, 0, cap);
	if (!end)
		return sl_errf(err, -EINVAL, "delegation token %s is not NUL-terminated within %zu bytes",
			       field, cap);
	size_t n = (size_t)(end - s);
	size_t k = sl_vlong_put((int64_t)n, buf + *pos, size - *pos);
	if (!k || size - *pos - k < n)
		return sl_errf(err, -ENOSPC, "delegation token identifier does not fit in %zu bytes", size);
	*pos += k;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return 0;
}

static int put_num(int64_t v, uint8_t *buf, size_t size, size_t *pos, struct sl_err *err)
{
	size_t k = sl_vlong_put(v, buf + *pos, size - *pos);
	if (!k)
		return sl_errf(err, -ENOSPC, "delegation token identifier does not fit in %zu bytes", size);
	*pos += k;
	return 0;
}

int sl_dt_encode(const struct sl_dt_ident *id, uint8_t *buf, size_t size, size_t *len, struct sl_err *err)
{
	size_t pos = 0;
	int rc;
	*len = 0;
	if (size < 1)
		return sl_errf(err, -ENOSPC, "delegation token identifier does not fit in %zu bytes", size);
	buf[pos++] = DT_VERSION;
	rc = put_text("owner", id->owner, sizeof(id->owner), buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_text("renewer", id->renewer, sizeof(id->renewer), buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_text("real user", id->real_user, sizeof(id->real_user), buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_num(id->issue_ms, buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_num(id->max_ms, buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_num(id->seq, buf, size, &pos, err);
	if (rc)
		return rc;
	rc = put_num(id->master_key_id, buf, size, &pos, err);
	if (rc)
		return rc;
	*len = pos;
	return 0;
}

static int get_text(const char *field, const uint8_t *buf, size_t len, size_t *pos, char *out,
		    size_t cap, struct sl_err *err)
{
	int32_t n;
	size_t k;
	if (sl_vint_get(buf + *pos, len - *pos, &n, &k))
		return sl_errf(err, -EINVAL, "malformed delegation token identifier: bad %s length", field);
	*pos += k;
	if (n < 0)
		return sl_errf(err, -EINVAL, "malformed delegation token identifier: negative %s length",
			       field);
	if ((size_t)n >= cap)
		return sl_errf(err, -EINVAL,
			       "delegation token identifier: %s of %d bytes is longer than %zu", field, n,
			       cap - 1);
	if ((size_t)n > len - *pos)
		return sl_errf(err, -EINVAL, "malformed delegation token identifier: truncated %s", field);
	if (memchr(buf + *pos, 0, (size_t)n))
		return sl_errf(err, -EINVAL, "delegation token identifier: %s contains a NUL byte", field);
	memcpy(out, buf + *pos, (size_t)n);
	out[n] = 0;
	*pos += (size_t)n;
	return 0;
}

static int get_long(const char *field, const uint8_t *buf, size_t len, size_t *pos, int64_t *v,
		    struct sl_err *err)
{
	size_t k;
	if (sl_vlong_get(buf + *pos, len - *pos, v, &k))
		return sl_errf(err, -EINVAL, "malformed delegation token identifier: truncated %s", field);
	*pos += k;
	return 0;
}

static int get_int(const char *field, const uint8_t *buf, size_t len, size_t *pos, int32_t *v,
		   struct sl_err *err)
{
	size_t k;
	if (sl_vint_get(buf + *pos, len - *pos, v, &k))
		return sl_errf(err, -EINVAL,
			       "malformed delegation token identifier: truncated or out-of-range %s",
			       field);
	*pos += k;
	return 0;
}

int sl_dt_decode(const uint8_t *buf, size_t len, struct sl_dt_ident *id, struct sl_err *err)
{
	struct sl_dt_ident tmp;
	size_t pos = 0;
	int rc;
	memset(&tmp, 0, sizeof(tmp));
	if (len < 1)
		return sl_errf(err, -EINVAL, "empty delegation token identifier");
	if (buf[0] != DT_VERSION)
		return sl_errf(err, -EINVAL, "unknown delegation token identifier version %d",
			       (int)(int8_t)buf[0]);
	pos = 1;
	rc = get_text("owner", buf, len, &pos, tmp.owner, sizeof(tmp.owner), err);
	if (rc)
		return rc;
	rc = get_text("renewer", buf, len, &pos, tmp.renewer, sizeof(tmp.renewer), err);
	if (rc)
		return rc;
	rc = get_text("real user", buf, len, &pos, tmp.real_user, sizeof(tmp.real_user), err);
	if (rc)
		return rc;
	rc = get_long("issue date", buf, len, &pos, &tmp.issue_ms, err);
	if (rc)
		return rc;
	rc = get_long("max date", buf, len, &pos, &tmp.max_ms, err);
	if (rc)
		return rc;
	rc = get_int("sequence number", buf, len, &pos, &tmp.seq, err);
	if (rc)
		return rc;
	rc = get_int("master key id", buf, len, &pos, &tmp.master_key_id, err);
	if (rc)
		return rc;
	if (pos != len)
		return sl_errf(err, -EINVAL,
			       "malformed delegation token identifier: %zu unexpected bytes at the end",
			       len - pos);
	*id = tmp;
	return 0;
}

void sl_dt_password(const uint8_t *key, size_t keylen, const uint8_t *ident, size_t len, uint8_t out[20])
{
	static const uint8_t empty[1] = {0};
	unsigned int outlen = 0;
	if (keylen <= INT32_MAX && HMAC(EVP_sha1(), key ? key : empty, (int)(key ? keylen : 0), ident ? ident : empty,
		 ident ? len : 0, out, &outlen) &&
	    outlen == SL_DT_PASSWORD_LEN)
		return;
	/* Fail closed: a password we could not compute must never equal one a caller presents, so
	 * it must not be a predictable value such as zeros. */
	if (RAND_bytes(out, SL_DT_PASSWORD_LEN) != 1)
		abort();
}

bool sl_dt_password_equal(const uint8_t a[20], const uint8_t b[20])
{
	return CRYPTO_memcmp(a, b, SL_DT_PASSWORD_LEN) == 0;
}
