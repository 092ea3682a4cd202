/* test_vfs_checksum.c - file checksums (Hadoop's COMPOSITE-CRC32C): the CRC32C composition, and
 * sluice_file_checksum on a SQLite + file volume against the CRC32C of the bytes the file holds,
 * after appends, overwrites by a newer slice, truncation and concat, whole and ranged. */
#include <sys/stat.h>

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
	tu_fill_pattern(buf, max, 3);
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

/* The checksum of path (whole or first `length` bytes) must be the CRC32C of want[0, len). */
static void check_sum(sluice_volume *vol, const char *path, uint64_t length, const uint8_t *want,
		      size_t len, int line)
{
	uint32_t crc = 0xdeadbeef;
	int rc = sluice_file_checksum(vol, NULL, path, length, &crc);
	uint32_t expect = sl_crc32c(0, want, len);
	if (rc || crc != expect) {
		fprintf(stderr, "line %d: checksum of %s (length %" PRIu64 "): rc %d (%s), "
			"%08x, expected %08x\n", line, path, length, rc,
			rc ? sluice_last_error(vol) : "", crc, expect);
		tu_failures++;
	}
}
#define CHECK_SUM(vol, path, length, want, len) check_sum(vol, path, length, want, len, __LINE__)

#define MIB (1ULL << 20)

/* Removes every stored object of the volume (file storage under dir/data). */
static void remove_objects(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "find '%s/data' -type f -path '*/chunks/*' -delete", dir);
	REQUIRE(system(cmd) == 0);
}

static void test_files(struct suite *s, const char *dir)
{
	sluice_volume *vol = open_vol(s, NULL, NULL);
	size_t big = 70 * MIB + 123;
	uint8_t *d = malloc(big), *want = malloc(big);
	tu_fill_pattern(d, big, 11);
	REQUIRE(sluice_mkdirs(vol, NULL, "/c", 0755, 0) == 0);

	/* sizes around the 512-byte checksum chunks and the 4 MiB blocks; 70 MiB spans 2 chunks */
	const size_t sizes[] = {0, 1, 511, 512, 513, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, big};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/c/s%zu", sizes[i]);
		CHECK_RC(write_file(vol, NULL, path, d, sizes[i], 3 * MIB, 0), 0);
		CHECK_SUM(vol, path, UINT64_MAX, d, sizes[i]);
		CHECK_SUM(vol, path, UINT64_MAX, d, sizes[i]); /* now from the recorded CRCs */
	}
	/* ranged: prefixes ending inside blocks, at block and chunk ends, past the end */
	const uint64_t lens[] = {0, 1, 511, 4 * MIB - 1, 4 * MIB, 4 * MIB + 3, 64 * MIB - 1,
				 64 * MIB, 64 * MIB + 5, big - 1};
	char bigpath[64];
	snprintf(bigpath, sizeof(bigpath), "/c/s%zu", big);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		CHECK_SUM(vol, bigpath, lens[i], d, lens[i]);
	CHECK_SUM(vol, bigpath, big + 100, d, big);

	/* append: a second slice after hflushed ones */
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/c/app", SLUICE_O_CREATE, 0644, 022, &f) == 0);
	CHECK_RC(sluice_write(f, d, 1000), 1000);
	CHECK_RC(sluice_hflush(f), 0);
	CHECK_SUM(vol, "/c/app", UINT64_MAX, d, 1000);
	CHECK_RC(sluice_write(f, d + 1000, 5 * MIB), (long long)(5 * MIB));
	CHECK_RC(sluice_close(f), 0);
	CHECK_SUM(vol, "/c/app", UINT64_MAX, d, 1000 + 5 * MIB);
	REQUIRE(sluice_open(vol, NULL, "/c/app", SLUICE_O_WRITE | SLUICE_O_APPEND, 0, 022, &f) == 0);
	CHECK_RC(sluice_write(f, d + 1000 + 5 * MIB, 777), 777);
	CHECK_RC(sluice_close(f), 0);
	CHECK_SUM(vol, "/c/app", UINT64_MAX, d, 1777 + 5 * MIB);
	CHECK_SUM(vol, "/c/app", 3000, d, 3000);

	/* overwrite by a newer slice: truncate into the first block of a 9 MiB slice and append;
	 * the old slice stays visible only up to the cut (part of its first block) */
	CHECK_RC(write_file(vol, NULL, "/c/ow", d, 9 * MIB, 9 * MIB, 0), 0);
	CHECK_SUM(vol, "/c/ow", UINT64_MAX, d, 9 * MIB);
	CHECK_RC(sluice_truncate(vol, NULL, "/c/ow", MIB + 17), 0);
	REQUIRE(sluice_open(vol, NULL, "/c/ow", SLUICE_O_WRITE | SLUICE_O_APPEND, 0, 022, &f) == 0);
	CHECK_RC(sluice_write(f, d + 20 * MIB, 6 * MIB), (long long)(6 * MIB));
	CHECK_RC(sluice_close(f), 0);
	memcpy(want, d, MIB + 17);
	memcpy(want + MIB + 17, d + 20 * MIB, 6 * MIB);
	CHECK_SUM(vol, "/c/ow", UINT64_MAX, want, 7 * MIB + 17);
	CHECK_SUM(vol, "/c/ow", 5 * MIB, want, 5 * MIB);

	/* truncate: shorter, then longer (zeros, never the old bytes) */
	CHECK_RC(write_file(vol, NULL, "/c/tr", d, 6 * MIB, MIB, 0), 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/c/tr", 4 * MIB + 5), 0);
	CHECK_SUM(vol, "/c/tr", UINT64_MAX, d, 4 * MIB + 5);
	CHECK_RC(sluice_truncate(vol, NULL, "/c/tr", 66 * MIB), 0);
	memcpy(want, d, 4 * MIB + 5);
	memset(want + 4 * MIB + 5, 0, 62 * MIB - 5);
	CHECK_SUM(vol, "/c/tr", UINT64_MAX, want, 66 * MIB);
	CHECK_SUM(vol, "/c/tr", 65 * MIB, want, 65 * MIB);
	CHECK_RC(sluice_truncate(vol, NULL, "/c/tr", 0), 0);
	CHECK_SUM(vol, "/c/tr", UINT64_MAX, want, 0);

	/* concat: pieces of odd sizes, the second crossing the chunk boundary */
	CHECK_RC(write_file(vol, NULL, "/c/k0", d, 3 * MIB + 7, MIB, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/c/k1", d + 3 * MIB + 7, 62 * MIB, 8 * MIB, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/c/k2", d + 65 * MIB + 7, 99, 99, 0), 0);
	const char *srcs[] = {"/c/k1", "/c/k2"};
	CHECK_RC(sluice_concat(vol, NULL, "/c/k0", srcs, 2), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(vol, NULL, "/c/k0", &st), 0);
	CHECK_RC(st.length, 65 * MIB + 106);
	CHECK_RC(check_file(vol, NULL, "/c/k0", d, 65 * MIB + 106, 8 * MIB), 0);
	CHECK_SUM(vol, "/c/k0", UINT64_MAX, d, 65 * MIB + 106);

	/* a sparse file of 2^56 bytes: the holes are composed as zeros, chunk lookups skip them */
	uint32_t crc;
	const uint64_t huge = 1ULL << 56;
	CHECK_RC(sluice_truncate(vol, NULL, "/c/k2", 0), -ENOENT); /* concat took it */
	CHECK_RC(write_file(vol, NULL, "/c/sparse", d, 100, 100, 0), 0);
	CHECK_RC(sluice_truncate(vol, NULL, "/c/sparse", huge - 50), 0);
	sluice_file *sf;
	REQUIRE(sluice_open(vol, NULL, "/c/sparse", SLUICE_O_APPEND, 0, 0, &sf) == 0);
	CHECK_RC(sluice_write(sf, d + 100, 50), 50);
	CHECK_RC(sluice_close(sf), 0);
	CHECK_RC(sluice_file_checksum(vol, NULL, "/c/sparse", UINT64_MAX, &crc), 0);
	uint32_t want_sparse = sl_crc32c_combine(sl_crc32c(0, d, 100),
						 sl_crc32c_zeros(huge - 150), huge - 150);
	want_sparse = sl_crc32c_combine(want_sparse, sl_crc32c(0, d + 100, 50), 50);
	CHECK(crc == want_sparse);

	/* errors: a directory, a missing file, no read permission */
	CHECK_RC(sluice_file_checksum(vol, NULL, "/c", UINT64_MAX, &crc), -EISDIR);
	CHECK_RC(sluice_file_checksum(vol, NULL, "/c/none", UINT64_MAX, &crc), -ENOENT);
	CHECK_RC(sluice_chmod(vol, NULL, "/c/s1", 0600), 0);
	CHECK_RC(sluice_file_checksum(vol, &bob, "/c/s1", UINT64_MAX, &crc), -EACCES);
	/* a deleted file's slices take their rows along */
	CHECK_RC(write_file(vol, NULL, "/c/del", d, 9 * MIB, MIB, 0), 0);
	REQUIRE(sluice_stat_path(vol, NULL, "/c/del", &st) == 0);
	struct sl_meta *m = vol->core.meta;
	struct sl_slice *slices = NULL;
	size_t nslices = 0;
	struct sl_err err = {0};
	REQUIRE(sl_meta_read_chunk(m, NULL, st.inode, 0, &slices, &nslices, &err) == 0);
	REQUIRE(nslices == 1);
	uint64_t del_id = slices[0].id;
	free(slices);
	uint32_t rcrc[4] = {0}, rlen[4] = {0};
	/* by the writer: the full blocks, not the short last one */
	CHECK_RC(sl_meta_block_crc_get(m, del_id, 0, 4, rcrc, rlen, &err), 0);
	CHECK_RC(rcrc[1], sl_crc32c(0, d + 4 * MIB, 4 * MIB));
	CHECK_RC(rlen[0], 4 * MIB);
	CHECK_RC(rlen[1], 4 * MIB);
	CHECK_RC(rlen[2], 0);
	CHECK_RC(rlen[3], 0);
	CHECK_RC(sl_meta_block_crc_get(m, del_id, 1, 1, rcrc, rlen, &err), 0);
	CHECK_RC(rcrc[0], sl_crc32c(0, d + 4 * MIB, 4 * MIB));
	CHECK_RC(sluice_delete(vol, NULL, "/c/del", 0), 0);
	CHECK_RC(sl_vol_settle_deletions(vol, 60000), 0);
	CHECK_RC(sl_meta_block_crc_get(m, del_id, 0, 4, rcrc, rlen, &err), 0);
	CHECK_RC(rlen[0] + rlen[1], 0);
	/* never checksummed: the writer recorded its full blocks' CRCs, not the short last one */
	CHECK_RC(write_file(vol, NULL, "/c/w9", d, 9 * MIB, MIB, 0), 0);
	CHECK_RC(sluice_shutdown(vol), 0);

	/* Whole blocks come from the recorded CRCs: with every object gone, a fresh handle (no
	 * cached blocks) still computes the checksums of files made of whole blocks... */
	remove_objects(dir);
	vol = open_vol(s, NULL, NULL);
	CHECK_SUM(vol, bigpath, UINT64_MAX, d, big);
	CHECK_SUM(vol, "/c/s4194304", UINT64_MAX, d, 4 * MIB);
	CHECK_SUM(vol, "/c/app", UINT64_MAX, d, 1777 + 5 * MIB);
	CHECK_SUM(vol, "/c/w9", 8 * MIB, d, 8 * MIB);
	/* ...while a prefix ending inside a block needs that block's bytes, and so does a short
	 * block nobody recorded */
	CHECK_RC(sluice_file_checksum(vol, NULL, bigpath, 4 * MIB + 3, &crc), -EIO);
	CHECK_RC(sluice_file_checksum(vol, NULL, "/c/w9", UINT64_MAX, &crc), -EIO);
	CHECK_RC(sluice_shutdown(vol), 0);
	free(d);
	free(want);
}

int main(void)
{
	(void)run_suite; /* this test uses vfs_suite.h's helpers only */
	test_combine();
	char *dir = tu_tempdir("checksum");
	char url[1024], bucket[1024];
	snprintf(url, sizeof(url), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	struct suite s = {.meta_url = url};
	s.fmt = (sluice_format_options){.meta_url = url, .name = "testvol", .storage = "file",
					.bucket = bucket, .compression = "none", .trash_days = -1};
	s.conf[s.nconf++] = (sluice_kv){"meta", url};
	s.conf[s.nconf++] = (sluice_kv){"get-timeout", "1"};
	tu_format(&s.fmt);
	test_files(&s, dir);
	if (tu_rm_rf(dir) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
	return tu_finish("test_vfs_checksum");
}
