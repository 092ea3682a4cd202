/* path.c - checking, normalizing and splitting the absolute paths callers pass (see vfs.h), and
 * finding a file's path from its inode number (sluice_inode_path). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

int sl_path_normalize(const char *path, char *out, size_t size, struct sl_err *err)
{
	if (!path || path[0] != '/')
		return sl_errf(err, -EINVAL, "path '%s' is not absolute", path ? path : "(null)");
	size_t k = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return sl_errf(err, -EINVAL, "path '%s' contains '.' or '..'", path);
		if (len > SL_NAME_MAX)
			return sl_errf(err, -ENAMETOOLONG, "a name in path '%s' is longer than %d bytes",
				       path, SL_NAME_MAX);
		if (k + 1 + len + 1 > size)
			return sl_errf(err, -ENAMETOOLONG, "path '%s' is too long", path);
		out[k++] = '/';
		memcpy(out + k, p, len);
		k += len;
		p += len;
	}
	if (k == 0)
		out[k++] = '/';
	out[k] = 0;
	return 0;
}

int sl_path_split(const char *path, char *parent, size_t psize, const char **name)
{
	const char *slash = strrchr(path, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	size_t plen = (size_t)(slash - path);
	if (plen == 0)
		plen = 1; /* parent is "/" */
	if (plen + 1 > psize)
		return -ENAMETOOLONG;
	memcpy(parent, path, plen);
	parent[plen] = 0;
	*name = slash + 1;
	return 0;
}

ssize_t sluice_inode_path(sluice_volume *vol, const sluice_user *u, uint64_t inode, char *buf,
			  size_t size)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	char *path;
	int rc = sl_meta_inode_path(vol->core.meta, &mu, inode, &path, err);
	if (rc)
		return rc;
	size_t len = strlen(path);
	if (len >= size)
		rc = sl_errf(err, -ERANGE, "the path of inode %" PRIu64 " is %zu bytes long", inode,
			     len);
	else
		memcpy(buf, path, len + 1);
	free(path);
	return rc ? rc : (ssize_t)len;
}
