/*
 * cachefile.h - one block on local disk that checks itself, the file format the disk cache, hflush
 * staging and the cache group's replicas share (cachefile.c).
 */
#ifndef SL_CACHEFILE_H
#define SL_CACHEFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* One block on local disk, for the disk cache and for hflush staging: the raw (decompressed)
 * bytes, then a CRC32C per 64 KiB segment, then a footer (magic, version, length, CRC32C of the
 * CRC list). A read verifies the segments it touches, so a flipped byte is detected, never
 * returned. */
#define SL_CACHEFILE_SEGMENT 65536
/* Temporary files of unfinished writes are named SL_CACHEFILE_TMP_PREFIX "<name>.tmp.<random>"
 * in the target's directory. */
#define SL_CACHEFILE_TMP_PREFIX ".slcb-"
/* Writes data to path atomically (a temporary file renamed over it), creating missing parent
 * directories (mode 0700). With sync, the file is fdatasync'ed and its directory fsync'ed
 * before returning: the block survives a crash of the process or the machine. */
int sl_cachefile_write(const char *path, const void *data, uint32_t len, bool sync,
		       struct sl_err *err);
/* sl_cachefile_write with sync; *sync_ns gets the time spent in fdatasync and the directory's
 * fsync (the benchmark's per-phase breakdown of hflush). */
int sl_cachefile_write_synced(const char *path, const void *data, uint32_t len,
			      int64_t *sync_ns, struct sl_err *err);
/* Writes n cache files. With sync, sharing the cost of making them durable: all are written
 * and their writeback started, then each is fdatasync'ed and renamed, then each directory is
 * fsync'ed once. rcs[i] gets each file's outcome; returns the first error (in *err), or 0. */
int sl_cachefile_write_many(const char *const *paths, const uint8_t *const *data,
			    const uint32_t *lens, size_t n, bool sync, int *rcs, int64_t *sync_ns,
			    struct sl_err *err);
/* A cache file written into its temporary file but not in place yet: so that a caller can do the
 * costly part (creating the file, writing the block) outside its lock and decide under the lock
 * whether the file goes into place (sl_cachefile_finish) or not (sl_cachefile_abandon). */
struct sl_cachefile_pending {
	const char *path; /* the caller's, until finished or abandoned */
	size_t dirlen;
	char tmp[PATH_MAX];
	int fd;
};
/* Creates the temporary file of path (and missing parent directories) and writes the block into
 * it: 0 with the file open, or an error (nothing left behind). */
int sl_cachefile_begin(struct sl_cachefile_pending *pw, const char *path, const void *data,
		       uint32_t len, struct sl_err *err);
/* fdatasync (with sync; *sync_ns, if not NULL, gets the time added), close and rename into place;
 * the directory is not synced here. On an error the temporary file is removed. */
int sl_cachefile_finish(struct sl_cachefile_pending *pw, bool sync, int64_t *sync_ns,
			struct sl_err *err);
/* Closes and removes the temporary file: the block is not to be kept after all. */
void sl_cachefile_abandon(struct sl_cachefile_pending *pw);
/* Reads [off, off+n) of the block in path (n is cut at the block's end) and returns the bytes
 * read; *blen (may be NULL) gets the block's length. -ENOENT if there is no such file,
 * -EBADMSG if it is corrupt or truncated (callers delete it and fetch the block elsewhere). */
int64_t sl_cachefile_read(const char *path, uint32_t off, void *buf, uint32_t n, uint32_t *blen,
			  struct sl_err *err);
/* Reads and verifies the whole block into a new buffer (caller frees). */
int sl_cachefile_read_all(const char *path, uint8_t **data, uint32_t *len, struct sl_err *err);

#endif
