/*
 * volume_testutil.h - helpers of the tests that use volumes through the public API (sluice.h):
 * formatting and opening one, with the library's message on stderr when that fails, and test
 * data.
 */
#ifndef SL_VOLUME_TESTUTIL_H
#define SL_VOLUME_TESTUTIL_H

#include <stdint.h>

#include "sluice.h"
#include "testutil.h"

/* Formats a volume, or stops the test. */
static inline void tu_format(const sluice_format_options *fo)
{
	char msg[512];
	int rc = sluice_format(fo, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "sluice_format: %s\n", msg);
	REQUIRE(rc == 0);
}

/* Opens a volume with the settings conf[0..n), or stops the test. */
static inline sluice_volume *tu_open(const sluice_kv *conf, size_t n)
{
	sluice_volume *vol = NULL;
	char msg[512];
	int rc = sluice_init(conf, n, &vol, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "sluice_init: %s\n", msg);
	REQUIRE(rc == 0);
	return vol;
}

/* Writes text as the whole of path (created or overwritten with mode): 0 or a negative errno. */
static inline int tu_put_text(sluice_volume *v, const sluice_user *u, const char *path,
			      const char *text, uint32_t mode)
{
	sluice_file *f;
	int rc = sluice_open(v, u, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, mode, 0, &f);
	if (rc)
		return rc;
	ssize_t n = sluice_write(f, text, strlen(text));
	rc = sluice_close(f);
	return n < 0 ? (int)n : rc;
}

/* Reads path into buf as a string (at most size - 1 bytes): 0 or a negative errno. */
static inline int tu_get_text(sluice_volume *v, const sluice_user *u, const char *path, char *buf,
			      size_t size)
{
	sluice_file *f;
	int rc = sluice_open(v, u, path, SLUICE_O_READ, 0, 0, &f);
	if (rc)
		return rc;
	ssize_t n = sluice_pread(f, buf, size - 1, 0);
	sluice_close(f);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	return 0;
}

/* Whether path is a block in file object storage (named id_indx_len, as block keys end), and the
 * numbers in its name. */
static inline bool tu_block_file(const char *path, unsigned long long *id, unsigned *indx,
				 unsigned *len)
{
	const char *base = strrchr(path, '/');
	char extra;
	return base && sscanf(base + 1, "%llu_%u_%u%c", id, indx, len, &extra) == 3;
}

/* n bytes of a pseudo-random pattern (xorshift) that seed determines. */
static inline void tu_fill_pattern(uint8_t *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

#endif
