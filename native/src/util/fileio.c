/* fileio.c - see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int sl_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = fsync(fd) ? errno : 0;
	close(fd);
	return e;
}

int sl_read_small_file(const char *path, size_t max, char **out, size_t *len, struct sl_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_errf(err, -errno, "cannot open %s: %s", path, strerror(errno));
	char *buf = malloc(max + 1);
	size_t n = 0;
	int rc = buf ? 0 : sl_errf(err, -ENOMEM, "out of memory");
	while (!rc) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = sl_errf(err, -errno, "cannot read %s: %s", path, strerror(errno));
		else if (r == 0)
			break;
		else if ((n += (size_t)r) > max)
			rc = sl_errf(err, -EFBIG, "%s is larger than %zu bytes", path, max);
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}
