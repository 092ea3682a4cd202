/* test_vfs_checksum.c - file checksums (Hadoop's COMPOSITE-CRC32C): the CRC32C composition. */
#include "util/crc32c.h"
#include "vfs_suite.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_combine(void)
{
	size_t max = 20000;
	uint8_t *buf = malloc(max);
	fill_pattern(buf, max, 3);
	int bad = 0;
	/* many random buffers and splits, including empty halves */
	for (int i = 0; i < 2000; i++) {
		size_t n = rnd() % max, cut = n ? rnd() % (n + 1) : 0;
		size_t start = rnd() % (max - n + 1);
		uint8_t *p = buf + start;
		uint32_t want = sl_crc32c(0, p, n);
		uint32_t a = sl_crc32c(0, p, cut), b = sl_crc32c(0, p + cut, n - cut);
		bad += sl_crc32c_combine(a, b, n - cut) != want;
	}
	/* three-way splits, composed left to right and right to left */
	for (int i = 0; i < 500; i++) {
		size_t n = rnd() % max, c1 = n ? rnd() % (n + 1) : 0, c2 = c1 + rnd() % (n - c1 + 1);
		uint32_t want = sl_crc32c(0, buf, n);
		uint32_t a = sl_crc32c(0, buf, c1), b = sl_crc32c(0, buf + c1, c2 - c1),
			 c = sl_crc32c(0, buf + c2, n - c2);
		bad += sl_crc32c_combine(sl_crc32c_combine(a, b, c2 - c1), c, n - c2) != want;
		bad += sl_crc32c_combine(a, sl_crc32c_combine(b, c, n - c2), n - c1) != want;
	}
	CHECK_RC(bad, 0);
	CHECK_RC(sl_crc32c_combine(sl_crc32c(0, "12345", 5), sl_crc32c(0, "6789", 4), 4),
		 0xE3069283u);
	/* zeros: against the bytes, and composition over lengths past 4 GiB */
	uint8_t *z = calloc(1, (1 << 20) + 7);
	for (size_t n = 0; n < 3000; n++)
		bad += sl_crc32c_zeros(n) != sl_crc32c(0, z, n);
	CHECK_RC(bad, 0);
	CHECK_RC(sl_crc32c_zeros((1 << 20) + 7), sl_crc32c(0, z, (1 << 20) + 7));
	uint64_t half = 5ULL << 29; /* 2.5 GiB */
	CHECK_RC(sl_crc32c_combine(sl_crc32c_zeros(half), sl_crc32c_zeros(half), half),
		 sl_crc32c_zeros(2 * half));
	CHECK_RC(sl_crc32c_combine(sl_crc32c(0, "ab", 2), sl_crc32c_zeros(1 << 20), 1 << 20),
		 sl_crc32c(sl_crc32c(0, "ab", 2), z, 1 << 20));
	free(z);
	free(buf);
}

int main(void)
{
	(void)run_suite; /* this test uses vfs_suite.h's helpers only */
	test_combine();
	return tu_finish("test_vfs_checksum");
}
