/*
 * test_auth_token.c - delegation token identifiers and passwords (src/auth/token.c) against bytes
 * written by Hadoop's own classes, and the decoder against truncated, oversized and random input.
 */
#include <stdint.h>
#include <string.h>

#include "auth/token.h"
#include "testutil.h"

/* Vectors produced with Hadoop 3.3.6 (hadoop-common-3.3.6.jar, OpenJDK 17), by a few lines of
 * Java run with `java -cp <the project's target/classpath.txt> Hx.java`:
 *   - vlongs: WritableUtils.writeVLong(new DataOutputBuffer(), v) for each v below;
 *   - IDENT: a subclass of AbstractDelegationTokenIdentifier (kind SLUICE_DELEGATION_TOKEN) built
 *     as new Id(new Text("alice"), new Text("yarn"), new Text("hive")) with setIssueDate(
 *     1700000000000L), setMaxDate(1700604800000L), setSequenceNumber(42), setMasterKeyId(7), then
 *     id.getBytes();
 *   - PASSWORD: SecretManager.createPassword(IDENT, new SecretKeySpec(KEY, "HmacSHA1"))
 *     (the same bytes as Mac "HmacSHA1" over IDENT);
 *   - IDENT2: new Id() (empty names) with issueDate -5, maxDate Long.MAX_VALUE, sequenceNumber
 *     Integer.MIN_VALUE, masterKeyId Integer.MAX_VALUE. */
static const struct {
	int64_t v;
	const char *hex;
} vlongs[] = {
	{0, "00"},
	{1, "01"},
	{-1, "ff"},
	{127, "7f"},
	{128, "8f80"},
	{-112, "90"},
	{-113, "8770"},
	{255, "8fff"},
	{256, "8e0100"},
	{-128, "877f"},
	{-129, "8780"},
	{-256, "87ff"},
	{-257, "860100"},
	{65535, "8effff"},
	{65536, "8d010000"},
	{2147483647LL, "8c7fffffff"},
	{-2147483647LL - 1, "847fffffff"},
	{2147483648LL, "8c80000000"},
	{-2147483649LL, "8480000000"},
	{1099511627776LL, "8a010000000000"},
	{72057594037927935LL, "89ffffffffffffff"},
	{72057594037927936LL, "880100000000000000"},
	{INT64_MAX, "887fffffffffffffff"},
	{INT64_MIN, "807fffffffffffffff"},
	{INT64_MIN + 1, "807ffffffffffffffe"},
	{1700000000000LL, "8a018bcfe56800"},
};

static const char IDENT[] =
	"0005616c696365047961726e04686976658a018bcfe568008a018bf3f1ec002a07";
static const char KEY[] = "736c756963652d6d61737465722d6b65792d30313233343536373839616263646566";
static const char PASSWORD[] = "6f0ceaf44bbeb8e076491b857493fd8ecd652532";
static const char IDENT2[] = "00000000fb887fffffffffffffff847fffffff8c7fffffff";

static size_t unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t n = strlen(hex) / 2;
	REQUIRE(n <= size);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		REQUIRE(sscanf(hex + 2 * i, "%2x", &b) == 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static void test_vlong_vectors(void)
{
	for (size_t i = 0; i < sizeof(vlongs) / sizeof(vlongs[0]); i++) {
		uint8_t want[16], got[16];
		size_t wn = unhex(vlongs[i].hex, want, sizeof(want));
		size_t gn = sl_vlong_put(vlongs[i].v, got, sizeof(got));
		if (gn != wn || memcmp(got, want, wn)) {
			fprintf(stderr, "vlong %lld: wrong encoding, expected %s\n",
				(long long)vlongs[i].v, vlongs[i].hex);
			tu_failures++;
		}
		int64_t v = 0;
		size_t used = 0;
		CHECK_RC(sl_vlong_get(want, wn, &v, &used), 0);
		CHECK(v == vlongs[i].v && used == wn);
		/* Trailing bytes are not part of the number. */
		want[wn] = 0x42;
		CHECK_RC(sl_vlong_get(want, wn + 1, &v, &used), 0);
		CHECK(v == vlongs[i].v && used == wn);
		/* Every shorter prefix is truncated. */
		for (size_t k = 0; k < wn; k++)
			CHECK_RC(sl_vlong_get(want, k, &v, &used), -EINVAL);
		/* A buffer one byte too small writes nothing. */
		CHECK_RC(sl_vlong_put(vlongs[i].v, got, wn - 1), 0);
		int32_t i32;
		bool fits = vlongs[i].v >= INT32_MIN && vlongs[i].v <= INT32_MAX;
		CHECK_RC(sl_vint_get(want, wn, &i32, &used), fits ? 0 : -EINVAL);
		if (fits)
			CHECK(i32 == (int32_t)vlongs[i].v);
	}
}

static void test_vlong_roundtrip(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 200000; i++) {
		int64_t v;
		if (i < 64 * 3) {
			/* Around every power of two, both signs. */
			int64_t p = (int64_t)(1ULL << (i / 3 % 63));
			v = (i / 3 >= 63 ? -p : p) + (i % 3) - 1;
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint64_t bits = x >> (x % 64); /* all magnitudes */
			memcpy(&v, &bits, sizeof(v));
			if (x & 1)
				v = -v - 1;
		}
		uint8_t buf[SL_VLONG_MAX];
		size_t n = sl_vlong_put(v, buf, sizeof(buf));
		int64_t back;
		size_t used;
		if (!n || sl_vlong_get(buf, n, &back, &used) || back != v || used != n) {
			fprintf(stderr, "vlong %lld does not round-trip\n", (long long)v);
			tu_failures++;
			break;
		}
		/* Shortest form: one byte exactly for -112..127. */
		CHECK((n == 1) == (v >= -112 && v <= 127));
	}
}

static void test_ident_vectors(void)
{
	uint8_t want[SL_DT_IDENT_MAX], got[SL_DT_IDENT_MAX];
	size_t wn = unhex(IDENT, want, sizeof(want)), gn = 0;
	struct sl_dt_ident id;
	struct sl_err err = {0};
	memset(&id, 0x5a, sizeof(id));
	CHECK_RC(sl_dt_decode(want, wn, &id, &err), 0);
	CHECK(!strcmp(id.owner, "alice") && !strcmp(id.renewer, "yarn") &&
	      !strcmp(id.real_user, "hive"));
	CHECK(id.issue_ms == 1700000000000LL && id.max_ms == 1700604800000LL);
	CHECK(id.seq == 42 && id.master_key_id == 7);

	struct sl_dt_ident mine;
	memset(&mine, 0, sizeof(mine));
	strcpy(mine.owner, "alice");
	strcpy(mine.renewer, "yarn");
	strcpy(mine.real_user, "hive");
	mine.issue_ms = 1700000000000LL;
	mine.max_ms = 1700604800000LL;
	mine.seq = 42;
	mine.master_key_id = 7;
	CHECK_RC(sl_dt_encode(&mine, got, sizeof(got), &gn, &err), 0);
	CHECK(gn == wn && !memcmp(got, want, wn));

	uint8_t key[64], pw[SL_DT_PASSWORD_LEN], pw_want[SL_DT_PASSWORD_LEN];
	size_t kn = unhex(KEY, key, sizeof(key));
	unhex(PASSWORD, pw_want, sizeof(pw_want));
	sl_dt_password(key, kn, want, wn, pw);
	CHECK(!memcmp(pw, pw_want, sizeof(pw)));
	CHECK(sl_dt_password_equal(pw, pw_want));
	for (int i = 0; i < SL_DT_PASSWORD_LEN; i++) {
		pw[i] ^= 0x01;
		CHECK(!sl_dt_password_equal(pw, pw_want));
		pw[i] ^= 0x01;
	}
	/* Another key or one changed identifier byte gives another password. */
	key[0] ^= 1;
	sl_dt_password(key, kn, want, wn, pw);
	CHECK(!sl_dt_password_equal(pw, pw_want));
	key[0] ^= 1;
	want[wn - 1] ^= 1;
	sl_dt_password(key, kn, want, wn, pw);
	CHECK(!sl_dt_password_equal(pw, pw_want));
	want[wn - 1] ^= 1;

	/* Empty names and extreme numbers. */
	wn = unhex(IDENT2, want, sizeof(want));
	CHECK_RC(sl_dt_decode(want, wn, &id, &err), 0);
	CHECK(!id.owner[0] && !id.renewer[0] && !id.real_user[0]);
	CHECK(id.issue_ms == -5 && id.max_ms == INT64_MAX);
	CHECK(id.seq == INT32_MIN && id.master_key_id == INT32_MAX);
	CHECK_RC(sl_dt_encode(&id, got, sizeof(got), &gn, &err), 0);
	CHECK(gn == wn && !memcmp(got, want, wn));
}

static void test_ident_limits(void)
{
	struct sl_dt_ident id, back;
	struct sl_err err = {0};
	uint8_t buf[SL_DT_IDENT_MAX + 16];
	size_t n = 0;
	memset(&id, 'x', sizeof(id));
	id.owner[255] = id.renewer[255] = id.real_user[255] = 0;
	id.issue_ms = INT64_MIN;
	id.max_ms = INT64_MIN;
	id.seq = INT32_MIN;
	id.master_key_id = INT32_MIN;
	/* The largest identifier fits SL_DT_IDENT_MAX and round-trips. */
	CHECK_RC(sl_dt_encode(&id, buf, SL_DT_IDENT_MAX, &n, &err), 0);
	CHECK(n <= SL_DT_IDENT_MAX);
	CHECK_RC(sl_dt_decode(buf, n, &back, &err), 0);
	CHECK(!memcmp(&id.owner, &back.owner, 256) && back.issue_ms == INT64_MIN &&
	      back.seq == INT32_MIN);
	/* Every smaller output buffer is refused without writing past it. */
	for (size_t size = 0; size < n; size++) {
		size_t len = 99;
		uint8_t *small = malloc(size ? size : 1);
		REQUIRE(small);
		CHECK_RC(sl_dt_encode(&id, small, size, &len, &err), -ENOSPC);
		CHECK(len == 0);
		free(small);
	}
	/* Every truncation of a valid identifier is refused, and so is a trailing byte. */
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		REQUIRE(copy);
		memcpy(copy, buf, len);
		CHECK_RC(sl_dt_decode(copy, len, &back, &err), -EINVAL);
		free(copy);
	}
	buf[n] = 0;
	CHECK_RC(sl_dt_decode(buf, n + 1, &back, &err), -EINVAL);
	CHECK(strstr(err.msg, "unexpected") != NULL);

	/* A name not NUL-terminated in its field cannot be encoded. */
	id.renewer[255] = 'x';
	CHECK_RC(sl_dt_encode(&id, buf, sizeof(buf), &n, &err), -EINVAL);
	CHECK(strstr(err.msg, "renewer") != NULL);

	/* Hand-made bad identifiers. */
	static const char *const bad[] = {
		"01000000000000",         /* version 1 */
		"ff000000000000",         /* version -1 */
		"00ff0000000000",         /* owner length -1 */
		"008e01000000000000",     /* owner length 256: longer than our field */
		"008c7fffffff",           /* owner length 2^31-1, no bytes */
		"008b0080000000",         /* owner length 2^31: not an int */
		"000261000000000000",     /* "a\0" owner: NUL inside a name */
		"000000008c80000000",     /* truncated after the issue date */
		"0000000000008c8000000000", /* sequence number 2^31: not an int */
		"000000000000008480000000", /* master key id -2^31-1: not an int */
		"00000000000000",           /* master key id missing */
		"000000000000000000",       /* one byte after the last field */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t b[64];
		size_t len = unhex(bad[i], b, sizeof(b));
		sl_err_clear(&err);
		memset(&back, 0x33, sizeof(back));
		int rc = sl_dt_decode(b, len, &back, &err);
		if (rc != -EINVAL || !err.msg[0]) {
			fprintf(stderr, "identifier %s: rc %d, expected -EINVAL\n", bad[i], rc);
			tu_failures++;
		}
	}
	/* Hadoop's reader takes non-shortest numbers; so do we (the HMAC covers the exact bytes). */
	uint8_t lenient[] = {0x00, 0x8f, 0x01, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	CHECK_RC(sl_dt_decode(lenient, sizeof(lenient), &back, &err), 0);
	CHECK(!strcmp(back.owner, "a"));
}

/* Random and mutated input must never crash or read out of bounds (ASan checks the bounds: each
 * input is a heap block of exactly its length). */
static void test_decode_fuzz(void)
{
	uint8_t valid[SL_DT_IDENT_MAX];
	size_t vn = unhex(IDENT, valid, sizeof(valid));
	uint64_t x = 88172645463325252ULL;
	int accepted = 0;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len;
		uint8_t *b;
		if (i % 2) {
			len = (size_t)(x % 64);
			b = malloc(len ? len : 1);
			REQUIRE(b);
			uint64_t y = x;
			for (size_t k = 0; k < len; k++) {
				y = y * 6364136223846793005ULL + 1442695040888963407ULL;
				b[k] = (uint8_t)(y >> 56);
			}
			if (len)
				b[0] = 0; /* get past the version byte most of the time */
		} else {
			len = vn - (size_t)(x % 4 == 0 ? x % vn : 0);
			b = malloc(len ? len : 1);
			REQUIRE(b);
			memcpy(b, valid, len);
			if (len)
				b[(x >> 8) % len] ^= (uint8_t)(1u << ((x >> 16) % 8));
		}
		struct sl_dt_ident id;
		struct sl_err err = {0};
		int rc = sl_dt_decode(b, len, &id, &err);
		if (rc == 0) {
			accepted++;
			uint8_t re[SL_DT_IDENT_MAX];
			size_t rn;
			CHECK_RC(sl_dt_encode(&id, re, sizeof(re), &rn, &err), 0);
		} else {
			CHECK(rc == -EINVAL);
		}
		free(b);
	}
	CHECK(accepted > 0);
}

int main(void)
{
	test_vlong_vectors();
	test_vlong_roundtrip();
	test_ident_vectors();
	test_ident_limits();
	test_decode_fuzz();
	return tu_finish("test_auth_token");
}
