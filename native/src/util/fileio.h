/*
 * fileio.h - the few pieces of file I/O that the self-checking files of the local cache need
 * (cache files, cache/cachefile.c; the staging journal, cache/journal.c): little-endian integers in
 * their headers, whole reads at an offset, and syncing a file or directory by name; and reading a
 * small file whole (a key file).
 */
#ifndef SL_FILEIO_H
#define SL_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

static inline void sl_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t sl_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sl_put_le64(uint8_t *p, uint64_t v)
{
	sl_put_le32(p, (uint32_t)v);
	sl_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t sl_get_le64(const uint8_t *p)
{
	return (uint64_t)sl_get_le32(p) | (uint64_t)sl_get_le32(p + 4) << 32;
}

/* Reads exactly len bytes at off: 0, an errno, or -1 if the file ended first. */
int sl_pread_all(int fd, void *buf, size_t len, uint64_t off);
/* fsync of the file or directory at path: 0 or an errno. */
int sl_fsync_path(const char *path);
/* The whole file at path (at most max bytes, else -EFBIG), NUL-terminated; caller frees. */
int sl_read_small_file(const char *path, size_t max, char **out, size_t *len, struct sl_err *err);

#endif
