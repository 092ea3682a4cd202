/*
 * namespace.c - libhdfs calls on paths (hdfsExists, hdfsGetPathInfo, hdfsListDirectory, create,
 * delete, rename, copy and move across connections, the working directory, block hosts, sizes,
 * owner, mode, times and truncate), each one or a few sluice_* calls on the resolved path.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- namespace ------------------------------------------------------------------------------- */

static char *uri_of(hdfsFS fs, const char *path)
{
	size_t n = strlen(HD_SCHEME) + strlen(fs->volume) + strlen(path) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", HD_SCHEME, fs->volume, path);
	return s;
}

static void child_path(const char *dir, const char *name, char *out)
{
	snprintf(out, HD_PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
}

int hdfsExists(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	sluice_stat st;
	int rc = sluice_stat_path(fs->vol, hd_user(fs), p, &st);
	return rc < 0 ? hd_fail_rc(fs, rc, "exists", p) : 0;
}

static int fill_info(hdfsFS fs, const char *path, const sluice_stat *st, hdfsFileInfo *fi)
{
	bool dir = st->type == SLUICE_DIR;
	fi->mKind = dir ? kObjectKindDirectory : kObjectKindFile;
	fi->mName = uri_of(fs, path);
	fi->mLastMod = (tTime)(st->mtime_ms / 1000);
	fi->mLastAccess = (tTime)(st->atime_ms / 1000);
	fi->mSize = dir ? 0 : (tOffset)st->length;
	fi->mReplication = dir ? 0 : 1;
	fi->mBlockSize = dir ? 0 : (tOffset)st->block_size;
	fi->mOwner = strdup(st->owner);
	fi->mGroup = strdup(st->group);
	fi->mPermissions = (short)(st->mode & 07777);
	if (!fi->mName || !fi->mOwner || !fi->mGroup)
		return hd_fail(ENOMEM, "out of memory");
	return 0;
}

void hdfsFreeFileInfo(hdfsFileInfo *infos, int numEntries)
{
	if (!infos)
		return;
	for (int i = 0; i < numEntries; i++) {
		free(infos[i].mName);
		free(infos[i].mOwner);
		free(infos[i].mGroup);
	}
	free(infos);
}

hdfsFileInfo *hdfsGetPathInfo(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return NULL;
	sluice_stat st;
	int rc = sluice_stat_path(fs->vol, hd_user(fs), p, &st);
	if (rc < 0) {
		hd_fail_rc(fs, rc, "getPathInfo", p);
		return NULL;
	}
	hdfsFileInfo *fi = calloc(1, sizeof(*fi));
	if (!fi) {
		hd_fail(ENOMEM, "out of memory");
		return NULL;
	}
	if (fill_info(fs, p, &st, fi) < 0) {
		hdfsFreeFileInfo(fi, 1);
		return NULL;
	}
	return fi;
}

hdfsFileInfo *hdfsListDirectory(hdfsFS fs, const char *path, int *numEntries)
{
	char p[HD_PATH_MAX], cp[HD_PATH_MAX];
	if (numEntries)
		*numEntries = 0;
	if (hd_resolve(fs, path, p) < 0)
		return NULL;
	sluice_stat st;
	int rc = sluice_stat_path(fs->vol, hd_user(fs), p, &st);
	if (rc < 0) {
		hd_fail_rc(fs, rc, "listDirectory", p);
		return NULL;
	}
	if (st.type != SLUICE_DIR) { /* listing a file lists the file, as FileSystem.listStatus */
		hdfsFileInfo *fi = hdfsGetPathInfo(fs, p);
		if (fi && numEntries)
			*numEntries = 1;
		return fi;
	}
	sluice_dir *d;
	rc = sluice_opendir(fs->vol, hd_user(fs), p, &d);
	if (rc < 0) {
		hd_fail_rc(fs, rc, "listDirectory", p);
		return NULL;
	}
	hdfsFileInfo *out = NULL;
	size_t n = 0, cap = 0;
	sluice_dirent ents[128];
	for (;;) {
		rc = sluice_readdir(d, ents, 128);
		if (rc <= 0)
			break;
		if (n + (size_t)rc > cap) {
			size_t ncap = (n + (size_t)rc) * 2;
			hdfsFileInfo *g = realloc(out, ncap * sizeof(*g));
			if (!g) {
				rc = -ENOMEM;
				break;
			}
			out = g;
			cap = ncap;
		}
		for (int i = 0; i < rc; i++) {
			memset(&out[n], 0, sizeof(out[n]));
			child_path(p, ents[i].name, cp);
			int frc = fill_info(fs, cp, &ents[i].st, &out[n]);
			n++;
			if (frc < 0) {
				rc = -ENOMEM;
				break;
			}
		}
		if (rc < 0)
			break;
	}
	if (rc < 0)
		hd_fail_rc(fs, rc, "listDirectory", p);
	sluice_closedir(d);
	if (rc < 0 || n > INT_MAX) {
		hdfsFreeFileInfo(out, (int)n);
		if (rc >= 0)
			hd_fail(EOVERFLOW, "listDirectory %s: too many entries", p);
		return NULL;
	}
	if (numEntries)
		*numEntries = (int)n;
	errno = 0; /* an empty directory returns NULL with errno 0 */
	return out;
}

int hdfsCreateDirectory(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_mkdirs(fs->vol, hd_user(fs), p, 0777, fs->umask);
	return rc < 0 ? hd_fail_rc(fs, rc, "mkdirs", p) : 0;
}

int hdfsDelete(hdfsFS fs, const char *path, int recursive)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_delete(fs->vol, hd_user(fs), p, recursive);
	return rc < 0 ? hd_fail_rc(fs, rc, "delete", p) : 0;
}

/* Where FileSystem.rename and FileUtil.copy put src when dst is an existing directory: inside it. */
static void into_dir(hdfsFS fs, const char *src, char *dst)
{
	sluice_stat st;
	if (strcmp(dst, "/") && sluice_stat_path(fs->vol, hd_user(fs), dst, &st) < 0)
		return;
	if (!strcmp(dst, "/") || st.type == SLUICE_DIR) {
		const char *base = strrchr(src, '/') + 1;
		if (!*base)
			return;
		char d[HD_PATH_MAX];
		child_path(dst, base, d);
		memcpy(dst, d, HD_PATH_MAX);
	}
}

static int rename_in(hdfsFS fs, const char *s, char *d)
{
	if (!strcmp(d, "/")) /* the root has no parent to rename into: its child by name */
		into_dir(fs, s, d);
	int rc = sluice_rename(fs->vol, hd_user(fs), s, d,
			       SLUICE_RENAME_NOREPLACE | SLUICE_RENAME_INTO_DIR);
	return rc < 0 ? hd_fail_rc(fs, rc, "rename", s) : 0;
}

int hdfsRename(hdfsFS fs, const char *oldPath, const char *newPath)
{
	char s[HD_PATH_MAX], d[HD_PATH_MAX];
	if (hd_resolve(fs, oldPath, s) < 0 || hd_resolve(fs, newPath, d) < 0)
		return -1;
	return rename_in(fs, s, d);
}

static int copy_file(hdfsFS sfs, const char *s, hdfsFS dfs, const char *d)
{
	sluice_file *in = NULL, *out = NULL;
	char *buf = malloc(1 << 20);
	int rc = buf ? 0 : -ENOMEM;
	hdfsFS failed = sfs;
	const char *fpath = s;
	if (!rc)
		rc = sluice_open(sfs->vol, hd_user(sfs), s, SLUICE_O_READ, 0, 0, &in);
	if (!rc) {
		failed = dfs, fpath = d;
		rc = sluice_open(dfs->vol, hd_user(dfs), d,
				 SLUICE_O_WRITE | SLUICE_O_CREATE | SLUICE_O_OVERWRITE | SLUICE_O_MKDIRS,
				 0666, dfs->umask, &out);
	}
	while (!rc) {
		ssize_t n = sluice_read(in, buf, 1 << 20);
		if (n <= 0) {
			if (n < 0)
				failed = sfs, fpath = s;
			rc = (int)n;
			break;
		}
		n = sluice_write(out, buf, (size_t)n);
		if (n < 0) {
			failed = dfs, fpath = d;
			rc = (int)n;
		}
	}
	if (rc < 0)
		hd_fail_rc(failed, rc, "copy", fpath);
	if (in)
		sluice_close(in);
	if (out) {
		int crc = sluice_close(out);
		if (!rc && crc < 0)
			rc = hd_fail_rc(dfs, crc, "copy", d);
	}
	free(buf);
	return rc < 0 ? -1 : 0;
}

static int copy_tree(hdfsFS sfs, const char *s, hdfsFS dfs, const char *d)
{
	sluice_stat st;
	int rc = sluice_stat_path(sfs->vol, hd_user(sfs), s, &st);
	if (rc < 0)
		return hd_fail_rc(sfs, rc, "copy", s);
	if (st.type != SLUICE_DIR)
		return copy_file(sfs, s, dfs, d);
	rc = sluice_mkdirs(dfs->vol, hd_user(dfs), d, 0777, dfs->umask);
	if (rc < 0)
		return hd_fail_rc(dfs, rc, "copy", d);
	sluice_dir *dir;
	rc = sluice_opendir(sfs->vol, hd_user(sfs), s, &dir);
	if (rc < 0)
		return hd_fail_rc(sfs, rc, "copy", s);
	sluice_dirent ents[64];
	char *cs = malloc(2 * HD_PATH_MAX), *cd = cs + HD_PATH_MAX;
	int ret = cs ? 0 : hd_fail(ENOMEM, "out of memory");
	while (!ret && (rc = sluice_readdir(dir, ents, 64)) > 0) {
		for (int i = 0; i < rc && !ret; i++) {
			child_path(s, ents[i].name, cs);
			child_path(d, ents[i].name, cd);
			ret = copy_tree(sfs, cs, dfs, cd);
		}
	}
	if (!ret && rc < 0)
		ret = hd_fail_rc(sfs, rc, "copy", s);
	sluice_closedir(dir);
	free(cs);
	return ret;
}

int hdfsCopy(hdfsFS srcFS, const char *src, hdfsFS dstFS, const char *dst)
{
	char s[HD_PATH_MAX], d[HD_PATH_MAX];
	if (hd_resolve(srcFS, src, s) < 0 || hd_resolve(dstFS, dst, d) < 0)
		return -1;
	into_dir(dstFS, s, d);
	if (srcFS->shared == dstFS->shared && (!strcmp(s, d) || (!strncmp(d, s, strlen(s)) &&
								  d[strlen(s)] == '/')))
		return hd_fail(EINVAL, "copy %s: the destination %s is inside the source", s, d);
	return copy_tree(srcFS, s, dstFS, d);
}

int hdfsMove(hdfsFS srcFS, const char *src, hdfsFS dstFS, const char *dst)
{
	char s[HD_PATH_MAX], d[HD_PATH_MAX];
	if (hd_resolve(srcFS, src, s) < 0 || hd_resolve(dstFS, dst, d) < 0)
		return -1;
	if (srcFS->shared == dstFS->shared)
		return rename_in(srcFS, s, d);
	/* another volume: copy, then delete the source */
	into_dir(dstFS, s, d);
	if (copy_tree(srcFS, s, dstFS, d) < 0)
		return -1;
	int rc = sluice_delete(srcFS->vol, hd_user(srcFS), s, 1);
	return rc < 0 ? hd_fail_rc(srcFS, rc, "move (delete source)", s) : 0;
}

char *hdfsGetWorkingDirectory(hdfsFS fs, char *buffer, size_t bufferSize)
{
	if (!fs || !buffer) {
		hd_fail(EINVAL, "hdfsGetWorkingDirectory: no file system or buffer");
		return NULL;
	}
	pthread_mutex_lock(&fs->cwd_lock);
	int n = snprintf(buffer, bufferSize, "%s%s%s", HD_SCHEME, fs->volume, fs->cwd);
	pthread_mutex_unlock(&fs->cwd_lock);
	if (n < 0 || (size_t)n >= bufferSize) {
		hd_fail(ERANGE, "hdfsGetWorkingDirectory: buffer of %zu bytes is too small",
			bufferSize);
		return NULL;
	}
	return buffer;
}

int hdfsSetWorkingDirectory(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	char *c = strdup(p);
	if (!c)
		return hd_fail(ENOMEM, "out of memory");
	pthread_mutex_lock(&fs->cwd_lock);
	char *old = fs->cwd;
	fs->cwd = c;
	pthread_mutex_unlock(&fs->cwd_lock);
	free(old);
	return 0;
}

/* Replication has no meaning for object storage: accepted for files that exist. */
int hdfsSetReplication(hdfsFS fs, const char *path, int16_t replication)
{
	(void)replication;
	return hdfsExists(fs, path);
}

int hdfsFileIsEncrypted(hdfsFileInfo *info)
{
	(void)info;
	return 0;
}

char ***hdfsGetHosts(hdfsFS fs, const char *path, tOffset start, tOffset length)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return NULL;
	if (start < 0 || length < 0) {
		hd_fail(EINVAL, "hdfsGetHosts: negative start or length");
		return NULL;
	}
	uint64_t bs = fs->block_size > 0 ? (uint64_t)fs->block_size : (128u << 20);
	uint64_t max = ((uint64_t)start % bs + (uint64_t)length) / bs + 2;
	if (max > (1u << 20))
		max = 1u << 20;
	sluice_block *blocks = calloc(max, sizeof(*blocks));
	if (!blocks) {
		hd_fail(ENOMEM, "out of memory");
		return NULL;
	}
	int n = sluice_file_blocks(fs->vol, hd_user(fs), p, (uint64_t)start, (uint64_t)length, blocks,
				   max);
	char ***out = NULL;
	if (n < 0) {
		hd_fail_rc(fs, n, "getHosts", p);
		goto done;
	}
	out = calloc((size_t)n + 1, sizeof(*out));
	if (!out)
		goto nomem;
	for (int i = 0; i < n; i++) {
		int nh = blocks[i].nhosts;
		out[i] = calloc((size_t)(nh ? nh : 1) + 1, sizeof(char *));
		if (!out[i])
			goto nomem;
		for (int h = 0; h < nh; h++)
			if (!(out[i][h] = strdup(blocks[i].hosts[h])))
				goto nomem;
		if (!nh && !(out[i][0] = strdup("localhost")))
			goto nomem;
	}
	goto done;
nomem:
	hdfsFreeHosts(out);
	out = NULL;
	hd_fail(ENOMEM, "out of memory");
done:
	free(blocks);
	return out;
}

void hdfsFreeHosts(char ***blockHosts)
{
	if (!blockHosts)
		return;
	for (int i = 0; blockHosts[i]; i++) {
		for (int h = 0; blockHosts[i][h]; h++)
			free(blockHosts[i][h]);
		free(blockHosts[i]);
	}
	free(blockHosts);
}

tOffset hdfsGetDefaultBlockSize(hdfsFS fs)
{
	if (!fs)
		return hd_fail(EINVAL, "no file system handle");
	return fs->block_size;
}

tOffset hdfsGetDefaultBlockSizeAtPath(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	return fs->block_size;
}

static tOffset statfs_field(hdfsFS fs, bool capacity)
{
	if (!fs)
		return hd_fail(EINVAL, "no file system handle");
	sluice_statfs sf;
	int rc = sluice_statfs_get(fs->vol, &sf);
	if (rc < 0)
		return hd_fail_rc(fs, rc, "statfs", fs->volume);
	uint64_t v = capacity ? sf.capacity : sf.used;
	return v > INT64_MAX ? INT64_MAX : (tOffset)v;
}

tOffset hdfsGetCapacity(hdfsFS fs)
{
	return statfs_field(fs, true);
}

tOffset hdfsGetUsed(hdfsFS fs)
{
	return statfs_field(fs, false);
}

int hdfsChown(hdfsFS fs, const char *path, const char *owner, const char *group)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	if (!owner && !group)
		return 0;
	int rc = sluice_chown(fs->vol, hd_user(fs), p, owner, group);
	return rc < 0 ? hd_fail_rc(fs, rc, "chown", p) : 0;
}

int hdfsChmod(hdfsFS fs, const char *path, short mode)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_chmod(fs->vol, hd_user(fs), p, (uint32_t)(uint16_t)mode & 07777);
	return rc < 0 ? hd_fail_rc(fs, rc, "chmod", p) : 0;
}

int hdfsUtime(hdfsFS fs, const char *path, tTime mtime, tTime atime)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_utimes(fs->vol, hd_user(fs), p, mtime < 0 ? -1 : (int64_t)mtime * 1000,
			       atime < 0 ? -1 : (int64_t)atime * 1000);
	return rc < 0 ? hd_fail_rc(fs, rc, "utime", p) : 0;
}

int hdfsTruncateFile(hdfsFS fs, const char *path, tOffset newlength)
{
	char p[HD_PATH_MAX];
	if (hd_resolve(fs, path, p) < 0)
		return -1;
	if (newlength < 0)
		return hd_fail(EINVAL, "truncate %s: negative length", p);
	int rc = sluice_truncate(fs->vol, hd_user(fs), p, (uint64_t)newlength);
	/* 1: done at once, nothing runs in the background */
	return rc < 0 ? hd_fail_rc(fs, rc, "truncate", p) : 1;
}
