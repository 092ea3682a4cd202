/*
 * hdfs.c - the libhdfs API (hdfs.h) over sluice.h: connections, streams, namespace calls and the
 * calls that make no sense without HDFS (zero-copy reads, hedged reads), which fail with ENOTSUP.
 *
 * A connection (hdfsFS) is a user, a umask and a working directory over a shared volume (conf.c);
 * a stream (hdfsFile) is one sluice_file, a reader or a writer. Every call that fails returns -1
 * or NULL, sets errno and keeps a message for hdfsGetLastExceptionRootCause, as libhdfs does.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define HD_PATH_MAX 4096
#define HD_SCHEME "sluice://"

/* ---- errors ---------------------------------------------------------------------------------- */

static __thread char t_error[2048];

int hd_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t_error, sizeof(t_error), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

int hd_fail_rc(hdfsFS fs, int rc, const char *what, const char *path)
{
	const char *msg = fs && fs->vol ? sluice_last_error(fs->vol) : NULL;
	if (!msg || !*msg)
		msg = strerror(-rc);
	return hd_fail(-rc, "%s %s: %s", what, path ? path : "", msg);
}

char *hdfsGetLastExceptionRootCause(void)
{
	return t_error[0] ? t_error : NULL;
}

char *hdfsGetLastExceptionStackTrace(void)
{
	return t_error[0] ? t_error : NULL;
}

/* ---- paths ----------------------------------------------------------------------------------- */

/* path as an absolute, normalised path inside fs's volume: absolute, relative to the working
 * directory, or sluice://VOLUME/path (or hdfs://VOLUME/path) naming fs's volume. */
static int resolve(hdfsFS fs, const char *path, char *out)
{
	if (!fs)
		return hd_fail(EINVAL, "no file system handle");
	if (!path || !*path)
		return hd_fail(EINVAL, "empty path");
	char joined[2 * HD_PATH_MAX + 2];
	const char *p = path;
	size_t scheme = !strncmp(path, HD_SCHEME, strlen(HD_SCHEME)) ? strlen(HD_SCHEME)
			: !strncmp(path, "hdfs://", 7)			     ? 7
									     : 0;
	if (scheme) { /* sluice://VOLUME/path, or hdfs://VOLUME/path from engines that build those */
		const char *auth = path + scheme;
		size_t alen = strcspn(auth, "/"), vlen = strcspn(auth, ":/"); /* a port is ignored */
		if (vlen != strlen(fs->volume) || strncmp(auth, fs->volume, vlen))
			return hd_fail(EINVAL, "path %s is not on volume '%s' of this connection",
				       path, fs->volume);
		p = auth[alen] ? auth + alen : "/";
	} else if (strstr(path, "://") && strcspn(path, "/") > strcspn(path, ":")) {
		return hd_fail(EINVAL, "%s: only sluice:// paths are served here", path);
	}
	if (*p == '/') {
		snprintf(joined, sizeof(joined), "%s", p);
	} else {
		pthread_mutex_lock(&fs->cwd_lock);
		snprintf(joined, sizeof(joined), "%s/%s", fs->cwd, p);
		pthread_mutex_unlock(&fs->cwd_lock);
	}
	/* normalise: drop empty and "." segments, ".." goes up (never above the root) */
	size_t o = 0;
	char *save = NULL;
	for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		size_t n = strlen(seg);
		if (o + n + 2 > HD_PATH_MAX)
			return hd_fail(ENAMETOOLONG, "path too long: %s", path);
		out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

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

/* ---- connections ------------------------------------------------------------------------------ */

struct hdfsBuilder {
	bool force_new;
	char *nn;
	tPort port;
	char *user;
	char *ccache;
	struct hd_conf conf;
};

struct hdfsBuilder *hdfsNewBuilder(void)
{
	struct hdfsBuilder *b = calloc(1, sizeof(*b));
	if (!b)
		hd_fail(ENOMEM, "out of memory");
	return b;
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

void hdfsBuilderSetForceNewInstance(struct hdfsBuilder *bld)
{
	if (bld)
		bld->force_new = true;
}

void hdfsBuilderSetNameNode(struct hdfsBuilder *bld, const char *nn)
{
	if (bld)
		set_str(&bld->nn, nn);
}

void hdfsBuilderSetNameNodePort(struct hdfsBuilder *bld, tPort port)
{
	if (bld)
		bld->port = port;
}

void hdfsBuilderSetUserName(struct hdfsBuilder *bld, const char *userName)
{
	if (bld)
		set_str(&bld->user, userName);
}

void hdfsBuilderSetKerbTicketCachePath(struct hdfsBuilder *bld, const char *kerbTicketCachePath)
{
	if (bld)
		set_str(&bld->ccache, kerbTicketCachePath);
}

int hdfsBuilderConfSetStr(struct hdfsBuilder *bld, const char *key, const char *val)
{
	if (!bld || !key)
		return hd_fail(EINVAL, "hdfsBuilderConfSetStr: no builder or key"), EINVAL;
	int rc = hd_conf_set(&bld->conf, key, val);
	if (rc < 0)
		return hd_fail(-rc, "out of memory"), -rc;
	return 0;
}

void hdfsFreeBuilder(struct hdfsBuilder *bld)
{
	if (!bld)
		return;
	free(bld->nn);
	free(bld->user);
	free(bld->ccache);
	hd_conf_free(&bld->conf);
	free(bld);
}

/* The volume a name node string names: sluice://VOLUME[:port][/...], a bare VOLUME, or "default"
 * (and NULL): sluice.default.volume, else the volume of fs.defaultFS if it is a sluice:// URI. */
static int volume_of(const char *nn, const struct hd_conf *c, char *out, size_t size)
{
	const char *v = nn;
	if (!nn || !*nn || !strcmp(nn, "default")) {
		v = hd_conf_get(c, "sluice.default.volume");
		const char *dfs = hd_conf_get(c, "fs.defaultFS");
		if (!v && dfs && !strncmp(dfs, HD_SCHEME, strlen(HD_SCHEME)))
			v = dfs;
		if (!v)
			return hd_fail(EINVAL, "name node 'default': set sluice.default.volume, or "
					       "fs.defaultFS to sluice://VOLUME");
	}
	/* engines written for HDFS add hdfs:// themselves (pyarrow: "hdfs://" + host) */
	if (!strncmp(v, "hdfs://", 7))
		v += 7;
	if (!strncmp(v, HD_SCHEME, strlen(HD_SCHEME)))
		v += strlen(HD_SCHEME);
	else if (strstr(v, "://"))
		return hd_fail(EINVAL, "name node %s: libsluice-hdfs serves sluice:// volumes only", v);
	size_t n = strcspn(v, ":/");
	if (n == 0 || n >= size)
		return hd_fail(EINVAL, "name node '%s' names no volume", nn ? nn : "default");
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

/* The groups of a user known to this machine, as Hadoop's shell-based group mapping finds them;
 * none for an unknown user (the volume then uses a group named like the user). */
static void lookup_groups(hdfsFS fs)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384];
	if (getpwnam_r(fs->user, &pw, buf, sizeof(buf), &pwp) || !pwp)
		return;
	gid_t gids[256];
	int ng = 256;
	if (getgrouplist(fs->user, pw.pw_gid, gids, &ng) < 0 || ng > 256)
		ng = 256; /* more than 256 groups: the first 256 */
	fs->groups = calloc((size_t)ng, sizeof(char *));
	if (!fs->groups)
		return;
	for (int i = 0; i < ng; i++) {
		struct group gr, *grp = NULL;
		char gbuf[16384];
		if (getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &grp) || !grp)
			continue;
		fs->groups[fs->ngroups] = strdup(gr.gr_name);
		if (fs->groups[fs->ngroups])
			fs->ngroups++;
	}
}

static uint32_t umask_of(const struct hd_conf *c)
{
	const char *v = hd_conf_get(c, "fs.permissions.umask-mode");
	if (!v || !*v)
		return 022;
	char *end;
	unsigned long m = strtoul(v, &end, 8);
	return *end || m > 0777 ? 022 : (uint32_t)m;
}

static void free_fs(hdfsFS fs)
{
	for (size_t i = 0; i < fs->ngroups; i++)
		free(fs->groups[i]);
	free(fs->groups);
	free(fs->user);
	free(fs->cwd);
	pthread_mutex_destroy(&fs->cwd_lock);
	free(fs);
}

hdfsFS hdfsBuilderConnect(struct hdfsBuilder *bld)
{
	if (!bld) {
		hd_fail(EINVAL, "hdfsBuilderConnect: no builder");
		return NULL;
	}
	hdfsFS fs = NULL;
	struct hd_conf conf = {0};
	if (hd_conf_load_site(&conf) < 0)
		goto out;
	for (size_t i = 0; i < bld->conf.n; i++) {
		if (hd_conf_set(&conf, bld->conf.keys[i], bld->conf.vals[i]) < 0) {
			hd_fail(ENOMEM, "out of memory");
			goto out;
		}
	}
	char volume[256];
	if (volume_of(bld->nn, &conf, volume, sizeof(volume)) < 0)
		goto out;
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		hd_fail(ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_init(&fs->cwd_lock, NULL);
	snprintf(fs->volume, sizeof(fs->volume), "%s", volume);
	if (bld->user && *bld->user) {
		fs->user = strdup(bld->user);
		if (!fs->user) {
			hd_fail(ENOMEM, "out of memory");
			goto fail;
		}
		lookup_groups(fs);
		fs->u = (sluice_user){.name = fs->user, .groups = (const char *const *)fs->groups,
				      .ngroups = fs->ngroups};
	}
	fs->umask = umask_of(&conf);
	fs->shared = hd_volume_acquire(volume, &conf, bld->force_new, bld->ccache);
	if (!fs->shared)
		goto fail;
	fs->vol = hd_volume_handle(fs->shared);
	sluice_volume_info info;
	int rc = sluice_volume_get_info(fs->vol, &info);
	if (rc < 0) {
		hd_fail_rc(fs, rc, "connect to", volume);
		goto fail;
	}
	fs->block_size = (tOffset)info.logical_block_size;
	char home[600];
	snprintf(home, sizeof(home), "/user/%s", fs->user ? fs->user : info.user);
	fs->cwd = strdup(home);
	if (!fs->cwd) {
		hd_fail(ENOMEM, "out of memory");
		goto fail;
	}
	goto out;
fail:
	if (fs->shared)
		hd_volume_release(fs->shared);
	free_fs(fs);
	fs = NULL;
out:
	/* as libhdfs, which prints the exception: callers such as pyarrow only say "failed" */
	if (!fs)
		fprintf(stderr, "hdfsBuilderConnect(nn=%s, user=%s): %s\n",
			bld->nn ? bld->nn : "(null)", bld->user ? bld->user : "(default)", t_error);
	hd_conf_free(&conf);
	hdfsFreeBuilder(bld);
	return fs;
}

static hdfsFS connect_as(const char *nn, tPort port, const char *user, bool force_new)
{
	struct hdfsBuilder *b = hdfsNewBuilder();
	if (!b)
		return NULL;
	hdfsBuilderSetNameNode(b, nn);
	hdfsBuilderSetNameNodePort(b, port);
	hdfsBuilderSetUserName(b, user);
	if (force_new)
		hdfsBuilderSetForceNewInstance(b);
	return hdfsBuilderConnect(b);
}

hdfsFS hdfsConnectAsUser(const char *nn, tPort port, const char *user)
{
	return connect_as(nn, port, user, false);
}

hdfsFS hdfsConnect(const char *nn, tPort port)
{
	return connect_as(nn, port, NULL, false);
}

hdfsFS hdfsConnectAsUserNewInstance(const char *nn, tPort port, const char *user)
{
	return connect_as(nn, port, user, true);
}

hdfsFS hdfsConnectNewInstance(const char *nn, tPort port)
{
	return connect_as(nn, port, NULL, true);
}

int hdfsDisconnect(hdfsFS fs)
{
	if (!fs)
		return hd_fail(EINVAL, "hdfsDisconnect: no file system handle");
	char volume[256];
	snprintf(volume, sizeof(volume), "%s", fs->volume);
	int rc = hd_volume_release(fs->shared);
	free_fs(fs);
	if (rc < 0)
		return hd_fail(-rc, "closing volume '%s': %s", volume, strerror(-rc));
	return 0;
}

int hdfsConfGetStr(const char *key, char **val)
{
	if (!key || !val)
		return hd_fail(EINVAL, "hdfsConfGetStr: no key or value pointer"), EINVAL;
	*val = NULL;
	struct hd_conf conf = {0};
	if (hd_conf_load_site(&conf) < 0)
		return errno;
	const char *v = hd_conf_get(&conf, key);
	int rc = 0;
	if (v && !(*val = strdup(v))) {
		hd_fail(ENOMEM, "out of memory");
		rc = ENOMEM;
	}
	hd_conf_free(&conf);
	return rc;
}

int hdfsConfGetInt(const char *key, int32_t *val)
{
	char *s = NULL;
	int rc = hdfsConfGetStr(key, &s);
	if (rc || !s)
		return rc;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX) {
		hd_fail(EINVAL, "%s=%s is not a 32-bit integer", key, s);
		rc = EINVAL;
	} else {
		*val = (int32_t)v;
	}
	free(s);
	return rc;
}

void hdfsConfStrFree(char *val)
{
	free(val);
}

/* ---- streams --------------------------------------------------------------------------------- */

struct hdfsFile_internal {
	sluice_file *f;
	hdfsFS fs;
	bool writer;
	uint64_t bytes_read; /* atomic */
};

static hdfsFile open_file(hdfsFS fs, const char *path, int flags)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
		return NULL;
	int acc = flags & O_ACCMODE;
	int sflags;
	if (acc == O_RDWR) {
		hd_fail(ENOTSUP, "open %s: O_RDWR is not supported", p);
		return NULL;
	}
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		hd_fail(ENOTSUP, "open %s: O_CREAT|O_EXCL is not supported", p);
		return NULL;
	}
	if (acc == O_RDONLY)
		sflags = SLUICE_O_READ;
	else if (flags & O_APPEND)
		sflags = SLUICE_O_WRITE | SLUICE_O_APPEND;
	else /* create or overwrite, with missing parents, as FileSystem.create */
		sflags = SLUICE_O_WRITE | SLUICE_O_CREATE | SLUICE_O_OVERWRITE | SLUICE_O_MKDIRS;
	hdfsFile file = calloc(1, sizeof(*file));
	if (!file) {
		hd_fail(ENOMEM, "out of memory");
		return NULL;
	}
	/* a directory is no stream: sluice_open fails with -EISDIR */
	int rc = sluice_open(fs->vol, hd_user(fs), p, sflags, 0666, fs->umask, &file->f);
	if (rc < 0) {
		hd_fail_rc(fs, rc, "open", p);
		free(file);
		return NULL;
	}
	file->fs = fs;
	file->writer = acc != O_RDONLY;
	return file;
}

hdfsFile hdfsOpenFile(hdfsFS fs, const char *path, int flags, int bufferSize, short replication,
		      tSize blocksize)
{
	/* buffer size, replication and block size have no meaning for a Sluice file */
	(void)bufferSize;
	(void)replication;
	(void)blocksize;
	return open_file(fs, path, flags);
}

struct hdfsStreamBuilder {
	hdfsFS fs;
	int flags;
	char path[];
};

struct hdfsStreamBuilder *hdfsStreamBuilderAlloc(hdfsFS fs, const char *path, int flags)
{
	if (!fs || !path) {
		hd_fail(EINVAL, "hdfsStreamBuilderAlloc: no file system or path");
		return NULL;
	}
	struct hdfsStreamBuilder *b = malloc(sizeof(*b) + strlen(path) + 1);
	if (!b) {
		hd_fail(ENOMEM, "out of memory");
		return NULL;
	}
	b->fs = fs;
	b->flags = flags;
	strcpy(b->path, path);
	return b;
}

void hdfsStreamBuilderFree(struct hdfsStreamBuilder *bld)
{
	free(bld);
}

int hdfsStreamBuilderSetBufferSize(struct hdfsStreamBuilder *bld, int32_t bufferSize)
{
	(void)bufferSize;
	return bld ? 0 : hd_fail(EINVAL, "no stream builder");
}

int hdfsStreamBuilderSetReplication(struct hdfsStreamBuilder *bld, int16_t replication)
{
	(void)replication;
	if (!bld)
		return hd_fail(EINVAL, "no stream builder");
	if ((bld->flags & O_ACCMODE) == O_RDONLY)
		return hd_fail(EINVAL, "replication is for output streams only");
	return 0;
}

int hdfsStreamBuilderSetDefaultBlockSize(struct hdfsStreamBuilder *bld, int64_t defaultBlockSize)
{
	(void)defaultBlockSize;
	if (!bld)
		return hd_fail(EINVAL, "no stream builder");
	if ((bld->flags & O_ACCMODE) == O_RDONLY)
		return hd_fail(EINVAL, "the block size is for output streams only");
	return 0;
}

hdfsFile hdfsStreamBuilderBuild(struct hdfsStreamBuilder *bld)
{
	if (!bld) {
		hd_fail(EINVAL, "no stream builder");
		return NULL;
	}
	hdfsFile f = open_file(bld->fs, bld->path, bld->flags);
	free(bld);
	return f;
}

int hdfsFileIsOpenForRead(hdfsFile file)
{
	return file && !file->writer;
}

int hdfsFileIsOpenForWrite(hdfsFile file)
{
	return file && file->writer;
}

static int check_stream(hdfsFile file, bool writer, const char *what)
{
	if (!file)
		return hd_fail(EBADF, "%s: no file handle", what);
	if (file->writer != writer)
		return hd_fail(EINVAL, "%s: the file is open for %s", what,
			       file->writer ? "writing" : "reading");
	return 0;
}

int hdfsCloseFile(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	if (!file)
		return hd_fail(EBADF, "hdfsCloseFile: no file handle");
	hdfsFS owner = file->fs;
	int rc = sluice_close(file->f);
	free(file);
	return rc < 0 ? hd_fail_rc(owner, rc, "close", "") : 0;
}

tSize hdfsRead(hdfsFS fs, hdfsFile file, void *buffer, tSize length)
{
	(void)fs;
	if (check_stream(file, false, "hdfsRead") < 0)
		return -1;
	if (length < 0 || (!buffer && length))
		return hd_fail(EINVAL, "hdfsRead: bad buffer or length %d", (int)length);
	ssize_t n = sluice_read(file->f, buffer, (size_t)length);
	if (n < 0)
		return hd_fail_rc(file->fs, (int)n, "read", "");
	__atomic_add_fetch(&file->bytes_read, (uint64_t)n, __ATOMIC_RELAXED);
	return (tSize)n;
}

tSize hdfsPread(hdfsFS fs, hdfsFile file, tOffset position, void *buffer, tSize length)
{
	(void)fs;
	if (check_stream(file, false, "hdfsPread") < 0)
		return -1;
	if (length < 0 || position < 0 || (!buffer && length))
		return hd_fail(EINVAL, "hdfsPread: bad position %lld or length %d",
			       (long long)position, (int)length);
	ssize_t n = sluice_pread(file->f, buffer, (size_t)length, (uint64_t)position);
	if (n < 0)
		return hd_fail_rc(file->fs, (int)n, "pread", "");
	__atomic_add_fetch(&file->bytes_read, (uint64_t)n, __ATOMIC_RELAXED);
	return (tSize)n;
}

int hdfsPreadFully(hdfsFS fs, hdfsFile file, tOffset position, void *buffer, tSize length)
{
	tSize n = hdfsPread(fs, file, position, buffer, length);
	if (n < 0)
		return -1;
	/* sluice_pread is short only at the end of the file. libhdfs gets an EOFException there,
	 * which it has no errno for (EINTERNAL); EINVAL says "that range is not in the file" and,
	 * unlike EINTR, no caller retries it. */
	if (n < length)
		return hd_fail(EINVAL, "hdfsPreadFully: end of file at %lld, %d bytes short",
			       (long long)position + n, (int)(length - n));
	return 0;
}

tSize hdfsWrite(hdfsFS fs, hdfsFile file, const void *buffer, tSize length)
{
	(void)fs;
	if (check_stream(file, true, "hdfsWrite") < 0)
		return -1;
	if (length < 0 || (!buffer && length))
		return hd_fail(EINVAL, "hdfsWrite: bad buffer or length %d", (int)length);
	if (length == 0)
		return 0;
	ssize_t n = sluice_write(file->f, buffer, (size_t)length);
	if (n < 0)
		return hd_fail_rc(file->fs, (int)n, "write", "");
	return (tSize)n;
}

/* As DFSOutputStream.flush: no promise of visibility (that is hdfsHFlush), so nothing to do. */
int hdfsFlush(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	return check_stream(file, true, "hdfsFlush");
}

int hdfsHFlush(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	if (check_stream(file, true, "hdfsHFlush") < 0)
		return -1;
	int rc = sluice_hflush(file->f);
	return rc < 0 ? hd_fail_rc(file->fs, rc, "hflush", "") : 0;
}

int hdfsHSync(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	if (check_stream(file, true, "hdfsHSync") < 0)
		return -1;
	int rc = sluice_hsync(file->f);
	return rc < 0 ? hd_fail_rc(file->fs, rc, "hsync", "") : 0;
}

int hdfsSeek(hdfsFS fs, hdfsFile file, tOffset desiredPos)
{
	(void)fs;
	if (check_stream(file, false, "hdfsSeek") < 0)
		return -1;
	if (desiredPos < 0)
		return hd_fail(EINVAL, "hdfsSeek: negative position %lld", (long long)desiredPos);
	if ((uint64_t)desiredPos > sluice_file_length(file->f))
		return hd_fail(EINVAL, "hdfsSeek: position %lld is past the end of the file (%llu)",
			       (long long)desiredPos,
			       (unsigned long long)sluice_file_length(file->f));
	int rc = sluice_seek(file->f, (uint64_t)desiredPos);
	return rc < 0 ? hd_fail_rc(file->fs, rc, "seek", "") : 0;
}

tOffset hdfsTell(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	if (!file)
		return hd_fail(EBADF, "hdfsTell: no file handle");
	return (tOffset)sluice_tell(file->f);
}

int hdfsAvailable(hdfsFS fs, hdfsFile file)
{
	(void)fs;
	if (check_stream(file, false, "hdfsAvailable") < 0)
		return -1;
	uint64_t len = sluice_file_length(file->f), pos = sluice_tell(file->f);
	uint64_t avail = len > pos ? len - pos : 0;
	return avail > INT_MAX ? INT_MAX : (int)avail;
}

int hdfsUnbufferFile(hdfsFile file)
{
	if (!file)
		return hd_fail(EBADF, "hdfsUnbufferFile: no file handle");
	if (file->writer)
		return hd_fail(ENOTSUP, "hdfsUnbufferFile: not for output streams"), ENOTSUP;
	sluice_unbuffer(file->f);
	return 0;
}

int hdfsFileGetReadStatistics(hdfsFile file, struct hdfsReadStatistics **stats)
{
	if (check_stream(file, false, "hdfsFileGetReadStatistics") < 0)
		return -1;
	struct hdfsReadStatistics *s = calloc(1, sizeof(*s));
	if (!s)
		return hd_fail(ENOMEM, "out of memory");
	/* every byte comes from object storage or the cache of this node, none is "local" in the
	 * HDFS sense (a datanode on this host) */
	s->totalBytesRead = __atomic_load_n(&file->bytes_read, __ATOMIC_RELAXED);
	*stats = s;
	return 0;
}

int64_t hdfsReadStatisticsGetRemoteBytesRead(const struct hdfsReadStatistics *stats)
{
	return (int64_t)(stats->totalBytesRead - stats->totalLocalBytesRead);
}

int hdfsFileClearReadStatistics(hdfsFile file)
{
	if (check_stream(file, false, "hdfsFileClearReadStatistics") < 0)
		return EINVAL;
	__atomic_store_n(&file->bytes_read, 0, __ATOMIC_RELAXED);
	return 0;
}

void hdfsFileFreeReadStatistics(struct hdfsReadStatistics *stats)
{
	free(stats);
}

int hdfsGetHedgedReadMetrics(hdfsFS fs, struct hdfsHedgedReadMetrics **metrics)
{
	(void)fs;
	(void)metrics;
	return hd_fail(ENOTSUP, "hedged reads are an HDFS client feature; Sluice has none");
}

void hdfsFreeHedgedReadMetrics(struct hdfsHedgedReadMetrics *metrics)
{
	free(metrics);
}

/* ---- namespace ------------------------------------------------------------------------------- */

int hdfsExists(hdfsFS fs, const char *path)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_mkdirs(fs->vol, hd_user(fs), p, 0777, fs->umask);
	return rc < 0 ? hd_fail_rc(fs, rc, "mkdirs", p) : 0;
}

int hdfsDelete(hdfsFS fs, const char *path, int recursive)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
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
	into_dir(fs, s, d);
	int rc = sluice_rename(fs->vol, hd_user(fs), s, d, SLUICE_RENAME_NOREPLACE);
	return rc < 0 ? hd_fail_rc(fs, rc, "rename", s) : 0;
}

int hdfsRename(hdfsFS fs, const char *oldPath, const char *newPath)
{
	char s[HD_PATH_MAX], d[HD_PATH_MAX];
	if (resolve(fs, oldPath, s) < 0 || resolve(fs, newPath, d) < 0)
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
	if (resolve(srcFS, src, s) < 0 || resolve(dstFS, dst, d) < 0)
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
	if (resolve(srcFS, src, s) < 0 || resolve(dstFS, dst, d) < 0)
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
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
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
	if (resolve(fs, path, p) < 0)
		return -1;
	if (!owner && !group)
		return 0;
	int rc = sluice_chown(fs->vol, hd_user(fs), p, owner, group);
	return rc < 0 ? hd_fail_rc(fs, rc, "chown", p) : 0;
}

int hdfsChmod(hdfsFS fs, const char *path, short mode)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_chmod(fs->vol, hd_user(fs), p, (uint32_t)(uint16_t)mode & 07777);
	return rc < 0 ? hd_fail_rc(fs, rc, "chmod", p) : 0;
}

int hdfsUtime(hdfsFS fs, const char *path, tTime mtime, tTime atime)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
		return -1;
	int rc = sluice_utimes(fs->vol, hd_user(fs), p, mtime < 0 ? -1 : (int64_t)mtime * 1000,
			       atime < 0 ? -1 : (int64_t)atime * 1000);
	return rc < 0 ? hd_fail_rc(fs, rc, "utime", p) : 0;
}

int hdfsTruncateFile(hdfsFS fs, const char *path, tOffset newlength)
{
	char p[HD_PATH_MAX];
	if (resolve(fs, path, p) < 0)
		return -1;
	if (newlength < 0)
		return hd_fail(EINVAL, "truncate %s: negative length", p);
	int rc = sluice_truncate(fs->vol, hd_user(fs), p, (uint64_t)newlength);
	/* 1: done at once, nothing runs in the background */
	return rc < 0 ? hd_fail_rc(fs, rc, "truncate", p) : 1;
}

/* ---- zero-copy reads: HDFS short-circuit mmap, which has no Sluice counterpart --------------- */

struct hadoopRzOptions *hadoopRzOptionsAlloc(void)
{
	hd_fail(ENOTSUP, "zero-copy reads are not supported");
	return NULL;
}

int hadoopRzOptionsSetSkipChecksum(struct hadoopRzOptions *opts, int skip)
{
	(void)opts;
	(void)skip;
	return hd_fail(ENOTSUP, "zero-copy reads are not supported");
}

int hadoopRzOptionsSetByteBufferPool(struct hadoopRzOptions *opts, const char *className)
{
	(void)opts;
	(void)className;
	return hd_fail(ENOTSUP, "zero-copy reads are not supported");
}

void hadoopRzOptionsFree(struct hadoopRzOptions *opts)
{
	(void)opts;
}

struct hadoopRzBuffer *hadoopReadZero(hdfsFile file, struct hadoopRzOptions *opts,
				      int32_t maxLength)
{
	(void)file;
	(void)opts;
	(void)maxLength;
	hd_fail(ENOTSUP, "zero-copy reads are not supported");
	return NULL;
}

int32_t hadoopRzBufferLength(const struct hadoopRzBuffer *buffer)
{
	(void)buffer;
	return 0;
}

const void *hadoopRzBufferGet(const struct hadoopRzBuffer *buffer)
{
	(void)buffer;
	return NULL;
}

void hadoopRzBufferFree(hdfsFile file, struct hadoopRzBuffer *buffer)
{
	(void)file;
	(void)buffer;
}
