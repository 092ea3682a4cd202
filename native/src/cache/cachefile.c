/*
 * cachefile.c - one block in a local file that checks itself: the data, a CRC32C per 64 KiB
 * segment, then a 16-byte footer. Shared by the disk cache and hflush staging (cachefile.h).
 *
 * File layout (all integers u32 little-endian):
 *   data[len] | crc[0..nseg) | "SLCB" | version (1) | len | CRC32C(crc[0..nseg) as stored)
 * nseg = ceil(len / 64 KiB). The file size must be exactly len + 4*nseg + 16; since that size
 * grows strictly with len, a damaged length field never matches a real file size.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/crc32c.h"
#include "../util/fileio.h"
#include "cachefile.h"

#define SEG SL_CACHEFILE_SEGMENT
#define FOOTER 16
#define VERSION 1
static const char MAGIC[4] = {'S', 'L', 'C', 'B'};

static uint64_t nsegs(uint32_t len)
{
	return ((uint64_t)len + SEG - 1) / SEG;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mkdir -p of path[0..len), mode 0700: cached and staged blocks are file data of the volume,
 * readable by no one else on this machine. */
static int make_dirs(const char *path, size_t len)
{
	char dir[PATH_MAX];
	if (len >= sizeof(dir))
		return ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = 0;
	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			return errno;
		*p = c;
		if (!c)
			return 0;
	}
}

static int fsync_dir(const char *path, size_t dirlen)
{
	char dir[PATH_MAX] = "/";
	if (dirlen) {
		if (dirlen >= sizeof(dir))
			return ENAMETOOLONG;
		memcpy(dir, path, dirlen);
		dir[dirlen] = 0;
	}
	return sl_fsync_path(dir);
}

int sl_cachefile_begin(struct sl_cachefile_pending *pw, const char *path, const void *data,
		       uint32_t len, struct sl_err *err)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) : 0;
	const char *name = slash ? slash + 1 : path;
	pw->path = path;
	pw->dirlen = dirlen;
	pw->fd = -1;
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sl_errf(err, -EIO, "writing cache file %s: getrandom: %s", path,
			       strerror(errno));
	int n = snprintf(pw->tmp, sizeof(pw->tmp), "%.*s%s" SL_CACHEFILE_TMP_PREFIX "%.180s.tmp.%016llx",
			 (int)dirlen, path, slash ? "/" : "", name, (unsigned long long)rnd);
	if (n < 0 || (size_t)n >= sizeof(pw->tmp))
		return sl_errf(err, -ENAMETOOLONG, "cache file path %s is too long", path);

	uint64_t ns = nsegs(len);
	size_t tlen = (size_t)(4 * ns + FOOTER);
	uint8_t *trailer = malloc(tlen);
	if (!trailer)
		return sl_errf(err, -ENOMEM, "out of memory");
	const uint8_t *d = data;
	for (uint64_t s = 0; s < ns; s++) {
		uint64_t start = s * SEG;
		size_t slen = len - start < SEG ? (size_t)(len - start) : SEG;
		sl_put_le32(trailer + 4 * s, sl_crc32c(0, d + start, slen));
	}
	uint8_t *f = trailer + 4 * ns;
	memcpy(f, MAGIC, 4);
	sl_put_le32(f + 4, VERSION);
	sl_put_le32(f + 8, len);
	sl_put_le32(f + 12, sl_crc32c(0, trailer, (size_t)(4 * ns)));

	int rc = 0, e = 0;
	int fd = open(pw->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && dirlen) {
		if ((e = make_dirs(path, dirlen))) {
			rc = sl_errf(err, -e, "creating the directory of cache file %s: %s", path,
				     strerror(e));
			goto out;
		}
		fd = open(pw->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		e = errno;
		rc = sl_errf(err, -e, "writing cache file %s: create: %s", path, strerror(e));
		goto out;
	}
	e = write_all(fd, data, len);
	if (!e)
		e = write_all(fd, trailer, tlen);
	if (e) {
		close(fd);
		unlink(pw->tmp);
		rc = sl_errf(err, -e, "writing cache file %s: write: %s", path, strerror(e));
		goto out;
	}
	pw->fd = fd;
out:
	free(trailer);
	return rc;
}

int sl_cachefile_finish(struct sl_cachefile_pending *pw, bool sync, int64_t *sync_ns,
			struct sl_err *err)
{
	int e = 0;
	const char *step = "fdatasync";
	int64_t t0 = sl_mono_ns();
	if (sync && fdatasync(pw->fd))
		e = errno;
	if (sync_ns)
		*sync_ns += sl_mono_ns() - t0;
	if (close(pw->fd) && !e)
		e = errno, step = "close";
	pw->fd = -1;
	if (!e && rename(pw->tmp, pw->path))
		e = errno, step = "rename";
	if (!e)
		return 0;
	unlink(pw->tmp);
	return sl_errf(err, -e, "writing cache file %s: %s: %s", pw->path, step, strerror(e));
}

void sl_cachefile_abandon(struct sl_cachefile_pending *pw)
{
	close(pw->fd);
	pw->fd = -1;
	unlink(pw->tmp);
}

static int sync_dir_of(const struct sl_cachefile_pending *pw, int64_t *sync_ns, struct sl_err *err)
{
	int64_t t0 = sl_mono_ns();
	int e = fsync_dir(pw->path, pw->dirlen);
	if (sync_ns)
		*sync_ns += sl_mono_ns() - t0;
	return e ? sl_errf(err, -e, "writing cache file %s: fsync of the directory of: %s",
			   pw->path, strerror(e)) : 0;
}

static int cachefile_write(const char *path, const void *data, uint32_t len, bool sync,
			   int64_t *sync_ns, struct sl_err *err)
{
	struct sl_cachefile_pending pw;
	int rc = sl_cachefile_begin(&pw, path, data, len, err);
	if (!rc)
		rc = sl_cachefile_finish(&pw, sync, sync_ns, err);
	if (!rc && sync)
		rc = sync_dir_of(&pw, sync_ns, err);
	return rc;
}

int sl_cachefile_write(const char *path, const void *data, uint32_t len, bool sync,
		       struct sl_err *err)
{
	return cachefile_write(path, data, len, sync, NULL, err);
}

int sl_cachefile_write_synced(const char *path, const void *data, uint32_t len,
			      int64_t *sync_ns, struct sl_err *err)
{
	*sync_ns = 0;
	return cachefile_write(path, data, len, true, sync_ns, err);
}

int sl_cachefile_write_many(const char *const *paths, const uint8_t *const *data,
			    const uint32_t *lens, size_t n, bool sync, int *rcs, int64_t *sync_ns,
			    struct sl_err *err)
{
	*sync_ns = 0;
	struct sl_cachefile_pending *pw = calloc(n, sizeof(*pw));
	if (!pw)
		return sl_errf(err, -ENOMEM, "out of memory");
	int first = 0;
	/* 1: every file written, its writeback started, so that the first fdatasync's journal
	 * commit finds the others' blocks allocated and covers them */
	for (size_t i = 0; i < n; i++) {
		struct sl_err e = {0};
		rcs[i] = sl_cachefile_begin(&pw[i], paths[i], data[i], lens[i], &e);
		if (!rcs[i] && sync)
			sync_file_range(pw[i].fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		else if (!first && (first = rcs[i]))
			*err = e;
	}
	/* 2: each made durable and renamed into place */
	for (size_t i = 0; i < n; i++) {
		struct sl_err e = {0};
		if (!rcs[i] && (rcs[i] = sl_cachefile_finish(&pw[i], sync, sync_ns, &e)) && !first)
			first = rcs[i], *err = e;
	}
	/* 3: each directory synced once (its renames with it) */
	for (size_t i = 0; i < n && sync; i++) {
		if (rcs[i])
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !rcs[j] && pw[j].dirlen == pw[i].dirlen &&
			       !memcmp(pw[j].path, pw[i].path, pw[i].dirlen);
		if (seen)
			continue;
		struct sl_err e = {0};
		int rc = sync_dir_of(&pw[i], sync_ns, &e);
		if (!rc)
			continue;
		if (!first)
			first = rc, *err = e;
		for (size_t j = i; j < n; j++) /* every file of that directory */
			if (!rcs[j] && pw[j].dirlen == pw[i].dirlen &&
			    !memcmp(pw[j].path, pw[i].path, pw[i].dirlen))
				rcs[j] = rc;
	}
	free(pw);
	return first;
}

/* What the footer and checksum list of an open cache file say, once checked. */
struct layout {
	uint32_t len;
	uint64_t nseg;
	uint8_t *crcs; /* nseg little-endian u32, owned */
};

static int corrupt(struct sl_err *err, const char *path, const char *why)
{
	return sl_errf(err, -EBADMSG, "cache file %s is corrupt: %s", path, why);
}

static int read_err(int e, const char *path, struct sl_err *err)
{
	return e < 0 ? corrupt(err, path, "truncated while reading")
		     : sl_errf(err, -e, "reading cache file %s: %s", path, strerror(e));
}

static int read_layout(int fd, const char *path, struct layout *lo, struct sl_err *err)
{
	struct stat st;
	if (fstat(fd, &st))
		return sl_errf(err, -errno, "cache file %s: fstat: %s", path, strerror(errno));
	if (st.st_size < FOOTER)
		return corrupt(err, path, "shorter than its footer (truncated)");
	uint8_t f[FOOTER];
	int e = sl_pread_all(fd, f, FOOTER, (uint64_t)st.st_size - FOOTER);
	if (e)
		return read_err(e, path, err);
	if (memcmp(f, MAGIC, 4))
		return corrupt(err, path, "bad magic (not a Sluice cache file, or truncated)");
	if (sl_get_le32(f + 4) != VERSION)
		return corrupt(err, path, "unknown version");
	lo->len = sl_get_le32(f + 8);
	lo->nseg = nsegs(lo->len);
	if ((uint64_t)st.st_size != lo->len + 4 * lo->nseg + FOOTER)
		return corrupt(err, path, "size does not match the length in its footer (truncated)");
	lo->crcs = malloc(lo->nseg ? (size_t)(4 * lo->nseg) : 1);
	if (!lo->crcs)
		return sl_errf(err, -ENOMEM, "out of memory");
	e = sl_pread_all(fd, lo->crcs, (size_t)(4 * lo->nseg), lo->len);
	if (e)
		return read_err(e, path, err);
	if (sl_crc32c(0, lo->crcs, (size_t)(4 * lo->nseg)) != sl_get_le32(f + 12))
		return corrupt(err, path, "checksum list does not match its checksum");
	return 0;
}

static int check_seg(const struct layout *lo, uint64_t s, const uint8_t *p, size_t n,
		     const char *path, struct sl_err *err)
{
	if (sl_crc32c(0, p, n) == sl_get_le32(lo->crcs + 4 * s))
		return 0;
	return sl_errf(err, -EBADMSG, "cache file %s is corrupt: checksum mismatch in bytes "
		       "%llu-%llu", path, (unsigned long long)(s * SEG),
		       (unsigned long long)(s * SEG + n - 1));
}

static uint64_t seg_len(const struct layout *lo, uint64_t s)
{
	uint64_t start = s * SEG;
	return lo->len - start < SEG ? lo->len - start : SEG;
}

/* Whether all of segment s lies inside [off, end). */
static bool seg_wanted(const struct layout *lo, uint64_t s, uint64_t off, uint64_t end)
{
	return s * SEG >= off && s * SEG + seg_len(lo, s) <= end;
}

/* Reads [off, off+n) (inside the block) into buf, verifying every segment it touches. Runs of
 * whole segments go straight into buf; a partly wanted one at either end goes through scratch. */
static int read_range(int fd, const char *path, const struct layout *lo, uint32_t off,
		      uint8_t *buf, uint32_t n, struct sl_err *err)
{
	uint64_t end = (uint64_t)off + n;
	uint64_t last = (end - 1) / SEG;
	uint8_t *scratch = NULL;
	int rc = 0, e;
	for (uint64_t s = off / SEG; s <= last && !rc;) {
		uint64_t start = s * SEG;
		if (seg_wanted(lo, s, off, end)) {
			uint64_t t = s;
			while (t < last && seg_wanted(lo, t + 1, off, end))
				t++;
			uint64_t run_end = t * SEG + seg_len(lo, t);
			if ((e = sl_pread_all(fd, buf + (start - off), (size_t)(run_end - start), start))) {
				rc = read_err(e, path, err);
				break;
			}
			for (uint64_t k = s; k <= t && !rc; k++)
				rc = check_seg(lo, k, buf + (k * SEG - off), (size_t)seg_len(lo, k), path,
					       err);
			s = t + 1;
			continue;
		}
		uint64_t slen = seg_len(lo, s);
		if (!scratch && !(scratch = malloc(SEG))) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
			break;
		}
		if ((e = sl_pread_all(fd, scratch, (size_t)slen, start))) {
			rc = read_err(e, path, err);
			break;
		}
		rc = check_seg(lo, s, scratch, (size_t)slen, path, err);
		if (!rc) {
			uint64_t from = off > start ? off : start;
			uint64_t to = end < start + slen ? end : start + slen;
			memcpy(buf + (from - off), scratch + (from - start), (size_t)(to - from));
		}
		s++;
	}
	free(scratch);
	return rc;
}

static int open_checked(const char *path, struct layout *lo, struct sl_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return sl_errf(err, -ENOENT, "cache file %s does not exist", path);
		return sl_errf(err, -e, "opening cache file %s: %s", path, strerror(e));
	}
	int rc = read_layout(fd, path, lo, err);
	if (rc) {
		close(fd);
		free(lo->crcs);
		lo->crcs = NULL;
		return rc;
	}
	return fd;
}

int64_t sl_cachefile_read(const char *path, uint32_t off, void *buf, uint32_t n, uint32_t *blen,
			  struct sl_err *err)
{
	struct layout lo = {0};
	int fd = open_checked(path, &lo, err);
	if (fd < 0)
		return fd;
	if (blen)
		*blen = lo.len;
	int64_t rc = 0;
	if (off < lo.len && n) {
		if (n > lo.len - off)
			n = lo.len - off;
		rc = read_range(fd, path, &lo, off, buf, n, err);
		if (!rc)
			rc = n;
	}
	close(fd);
	free(lo.crcs);
	return rc;
}

int sl_cachefile_read_all(const char *path, uint8_t **data, uint32_t *len, struct sl_err *err)
{
	struct layout lo = {0};
	int fd = open_checked(path, &lo, err);
	if (fd < 0)
		return fd;
	int rc = 0;
	uint8_t *buf = malloc(lo.len ? lo.len : 1);
	if (!buf)
		rc = sl_errf(err, -ENOMEM, "out of memory");
	else if (lo.len)
		rc = read_range(fd, path, &lo, 0, buf, lo.len, err);
	close(fd);
	free(lo.crcs);
	if (rc) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = lo.len;
	return 0;
}
