/*
 * file.c - object storage backend "file": the bucket is a directory and keys are paths under it,
 * laid out exactly as JuiceFS's file storage does, so either client can read the other's objects.
 */
#include "object.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Modes as JuiceFS creates them (0666/0777 less the umask), so a juicefs client running as another
 * user of the same group policy sees the same permissions on objects either client wrote. */
#define FILE_MODE 0666
#define DIR_MODE 0777

struct file_store {
	char root[PATH_MAX]; /* absolute, ends with '/' */
	size_t rootlen;
};

/* Temporary files of a put: ".jfs.<name>.tmp.<random>", the shape JuiceFS uses, so listings skip
 * the leftovers of a crashed writer of either client. */
static bool is_temp_name(const char *name)
{
	return !strncmp(name, ".jfs.", 5) && strstr(name + 5, ".tmp.");
}

/* To a reader, a path component that is a file, or an object path that is a directory, means
 * "no such object"; to a writer it is a conflict, reported as it is. */
static int sys_err(struct sl_err *err, int e, bool reading, const char *what, const char *key,
		   const char *path)
{
	int code = reading && (e == ENOTDIR || e == EISDIR) ? -ENOENT : e == EPERM ? -EACCES : -e;
	return sl_errf(err, code, "file %s '%s': %s: %s", what, key, path, strerror(e));
}

/* A key must name a file strictly inside the root: relative, no empty, "." or ".." components. */
static int check_components(const char *key, size_t len, struct sl_err *err)
{
	if (key[0] == '/' || (len && key[len - 1] == '/'))
		return sl_errf(err, -EINVAL, "file: object key '%s' must not start or end with '/'",
			       key);
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(key + i, "/");
		if (n > len - i)
			n = len - i;
		bool dots = key[i] == '.' && (n == 1 || (n == 2 && key[i + 1] == '.'));
		if (!n || dots)
			return sl_errf(err, -EINVAL, "file: object key '%s' has an empty, '.' or "
				       "'..' component", key);
		i += n + 1;
	}
	return 0;
}

static int object_path(struct sl_objstore *s, const char *key, char *path, struct sl_err *err)
{
	struct file_store *fs = s->priv;
	int rc = check_components(key, strlen(key), err);
	if (rc)
		return rc;
	if (fs->rootlen + strlen(key) >= PATH_MAX)
		return sl_errf(err, -ENAMETOOLONG, "file: path of object '%s' is too long", key);
	memcpy(path, fs->root, fs->rootlen);
	strcpy(path + fs->rootlen, key);
	return 0;
}

/* mkdir -p; concurrent creators of the same directories are fine. */
static int make_dirs(char *path, const char *key, struct sl_err *err)
{
	if (!path[0]) /* the directory of "/x" */
		return 0;
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		int e = mkdir(path, DIR_MODE) && errno != EEXIST ? errno : 0;
		int rc = e ? sys_err(err, e, false, "mkdir for", key, path) : 0;
		*p = c;
		if (rc)
			return rc;
		if (!c)
			return 0;
	}
}

static int file_init(struct sl_objstore *s, const struct sl_obj_config *cfg, struct sl_err *err)
{
	struct file_store *fs = s->priv;
	const char *b = cfg->bucket;
	if (!strncmp(b, "file://", 7))
		b += 7;
	char cwd[PATH_MAX] = "";
	if (b[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return sl_errf(err, -errno, "file: cannot resolve relative bucket '%s': %s", b,
			       strerror(errno));
	size_t len = strlen(b);
	int n = snprintf(fs->root, sizeof(fs->root), "%s%s%s%s", cwd, cwd[0] ? "/" : "", b,
			 len && b[len - 1] == '/' ? "" : "/");
	if (n < 0 || (size_t)n >= sizeof(fs->root) - 1)
		return sl_errf(err, -ENAMETOOLONG, "file: bucket path '%s' is too long", b);
	fs->rootlen = (size_t)n;
	return 0;
}

static int file_create_bucket(struct sl_objstore *s, struct sl_err *err)
{
	struct file_store *fs = s->priv;
	char path[PATH_MAX];
	memcpy(path, fs->root, fs->rootlen + 1);
	if (fs->rootlen > 1)
		path[fs->rootlen - 1] = 0; /* without the trailing '/' */
	int rc = make_dirs(path, "", err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st))
		return sys_err(err, errno, false, "create bucket", "", path);
	if (!S_ISDIR(st.st_mode))
		return sl_errf(err, -ENOTDIR, "file: bucket %s is not a directory", path);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *path, size_t dirlen)
{
	char dir[PATH_MAX] = "/";
	if (dirlen) {
		memcpy(dir, path, dirlen);
		dir[dirlen] = 0;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc;
}

/* Write a temp file beside the target, fsync, rename over it, fsync the directory: a reader sees
 * the old object or the whole new one, and the new one survives a crash once put returns. */
static int file_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
		    struct sl_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int rc = object_path(s, key, path, err);
	if (rc)
		return rc;
	const char *name = strrchr(path, '/') + 1;
	size_t dirlen = (size_t)(name - path - 1);
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sl_errf(err, -EIO, "file put '%s': getrandom: %s", key, strerror(errno));
	int n = snprintf(tmp, sizeof(tmp), "%.*s/.jfs.%.200s.tmp.%016llx", (int)dirlen, path, name,
			 (unsigned long long)rnd);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sl_errf(err, -ENAMETOOLONG, "file: path of object '%s' is too long", key);

	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
	if (fd < 0 && errno == ENOENT) {
		path[dirlen] = 0;
		rc = make_dirs(path, key, err);
		path[dirlen] = '/';
		if (rc)
			return rc;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
	}
	if (fd < 0)
		return sys_err(err, errno, false, "put", key, tmp);
	const char *step = "write";
	int e = write_all(fd, buf, len);
	if (!e && fsync(fd))
		e = errno, step = "fsync";
	if (close(fd) && !e)
		e = errno, step = "close";
	if (!e && rename(tmp, path))
		e = errno, step = "rename";
	if (e) {
		unlink(tmp);
		return sl_errf(err, e == ENOENT ? -EIO : -e, "file put '%s': %s %s: %s", key, step,
			       tmp, strerror(e));
	}
	if ((e = fsync_dir(path, dirlen)))
		return sl_errf(err, -e, "file put '%s': fsync of its directory: %s", key,
			       strerror(e));
	return 0;
}

static int64_t file_get(struct sl_objstore *s, const char *key, uint64_t off, void *buf,
			size_t len, struct sl_err *err)
{
	char path[PATH_MAX];
	int rc = object_path(s, key, path, err);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(err, errno, true, "get", key, path);
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sys_err(err, errno, true, "get", key, path);
			break;
		}
		if (!n)
			break;
		done += (size_t)n;
	}
	close(fd);
	return rc ? rc : (int64_t)done;
}

static int file_head(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
		     struct sl_err *err)
{
	char path[PATH_MAX];
	int rc = object_path(s, key, path, err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st))
		return sys_err(err, errno, true, "head", key, path);
	if (!S_ISREG(st.st_mode))
		return sl_errf(err, -ENOENT, "file head '%s': %s is not a regular file", key, path);
	*out = (struct sl_obj_info){.key = key, .size = (uint64_t)st.st_size,
				    .mtime_s = (int64_t)st.st_mtime};
	return 0;
}

static int file_del(struct sl_objstore *s, const char *key, struct sl_err *err)
{
	char path[PATH_MAX];
	int rc = object_path(s, key, path, err);
	if (rc)
		return rc;
	/* Nothing there, or a directory (never an object): the object is gone either way. */
	if (unlink(path) && errno != ENOENT && errno != ENOTDIR && errno != EISDIR)
		return sys_err(err, errno, true, "delete", key, path);
	return 0;
}

/*
 * Listing walks directories depth first. Within a directory, entries are sorted with a '/' appended
 * to directory names, so that the keys come out in plain byte order ("a.b" < "a/b" < "a0").
 * Subtrees that cannot hold a key with the prefix, or a key after `after`, are not entered.
 */
struct walk {
	struct sl_objstore *s;
	const char *prefix, *after;
	size_t plen;
	sl_obj_list_cb cb;
	void *arg;
	struct sl_err *err;
	bool stopped;
	char path[PATH_MAX]; /* root + current key */
};

struct entry {
	char *name; /* with '/' appended for a directory */
	bool dir;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Whether the key (or, for a directory key ending in '/', some key below it) can be listed. */
static bool wanted(const struct walk *w, const char *key, size_t klen, bool dir)
{
	size_t n = klen < w->plen ? klen : w->plen;
	if (memcmp(key, w->prefix, n) || (!dir && klen < w->plen))
		return false;
	if (!w->after)
		return true;
	int c = strcmp(key, w->after);
	return c > 0 || (dir && !strncmp(w->after, key, klen));
}

static int walk_dir(struct walk *w, size_t keylen)
{
	struct file_store *fs = w->s->priv;
	char *key = w->path + fs->rootlen;
	struct entry *ents = NULL;
	size_t nents = 0, cap = 0;
	int rc = 0;

	DIR *d = opendir(w->path);
	if (!d) /* a directory that is not there holds no keys */
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : sys_err(w->err, errno, true, "list", w->prefix, w->path);
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || is_temp_name(name))
			continue;
		bool dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
			struct stat st;
			if (fstatat(dirfd(d), name, &st, 0))
				continue;
			if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
				continue;
			dir = S_ISDIR(st.st_mode);
		} else if (!dir && de->d_type != DT_REG) {
			continue;
		}
		size_t nlen = strlen(name);
		if (fs->rootlen + keylen + nlen + 2 >= PATH_MAX)
			continue;
		memcpy(key + keylen, name, nlen);
		if (dir)
			key[keylen + nlen++] = '/';
		key[keylen + nlen] = 0;
		if (!wanted(w, key, keylen + nlen, dir))
			continue;
		if (nents == cap) {
			struct entry *p = realloc(ents, (cap = cap ? 2 * cap : 64) * sizeof(*p));
			if (!p) {
				rc = sl_errf(w->err, -ENOMEM, "out of memory");
				goto out;
			}
			ents = p;
		}
		if (!(ents[nents].name = strdup(key + keylen))) {
			rc = sl_errf(w->err, -ENOMEM, "out of memory");
			goto out;
		}
		ents[nents++].dir = dir;
	}
	if (errno) {
		key[keylen] = 0;
		rc = sys_err(w->err, errno, true, "list", w->prefix, w->path);
		goto out;
	}
	closedir(d);
	d = NULL;
	if (nents)
		qsort(ents, nents, sizeof(*ents), cmp_entry);

	for (size_t i = 0; i < nents && !rc && !w->stopped; i++) {
		size_t nlen = strlen(ents[i].name);
		memcpy(key + keylen, ents[i].name, nlen + 1);
		if (ents[i].dir) {
			rc = walk_dir(w, keylen + nlen);
			continue;
		}
		struct stat st;
		if (stat(w->path, &st)) /* deleted meanwhile */
			continue;
		struct sl_obj_info info = {.key = key, .size = (uint64_t)st.st_size,
					   .mtime_s = (int64_t)st.st_mtime};
		if (w->cb(w->arg, &info))
			w->stopped = true;
	}
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < nents; i++)
		free(ents[i].name);
	free(ents);
	key[keylen] = 0;
	return rc;
}

static int file_list(struct sl_objstore *s, const char *prefix, const char *after,
		     sl_obj_list_cb cb, void *arg, struct sl_err *err)
{
	struct file_store *fs = s->priv;
	/* Start in the deepest directory the prefix names in full. */
	const char *slash = strrchr(prefix, '/');
	size_t dirlen = slash ? (size_t)(slash - prefix) + 1 : 0;
	if (dirlen && check_components(prefix, dirlen - 1, err))
		return sl_err_wrap(err, "file list: bad prefix");
	if (fs->rootlen + dirlen >= PATH_MAX)
		return sl_errf(err, -ENAMETOOLONG, "file list: prefix '%s' is too long", prefix);
	struct walk *w = malloc(sizeof(*w));
	if (!w)
		return sl_errf(err, -ENOMEM, "out of memory");
	*w = (struct walk){.s = s, .prefix = prefix, .plen = strlen(prefix), .after = after,
			   .cb = cb, .arg = arg, .err = err};
	memcpy(w->path, fs->root, fs->rootlen);
	memcpy(w->path + fs->rootlen, prefix, dirlen);
	w->path[fs->rootlen + dirlen] = 0;
	int rc = wanted(w, w->path + fs->rootlen, dirlen, true) ? walk_dir(w, dirlen) : 0;
	free(w);
	return rc;
}

const struct sl_obj_backend sl_obj_file_backend = {
	.version = SL_OBJ_BACKEND_VERSION,
	.name = "file",
	.priv_size = sizeof(struct file_store),
	.init = file_init,
	.create_bucket = file_create_bucket,
	.put = file_put,
	.get = file_get,
	.head = file_head,
	.del = file_del,
	.list = file_list,
};
