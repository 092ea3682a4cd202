/*
 * hdfs.c - the libhdfs API (hdfs.h) over sluice.h: connections (hdfsBuilder, hdfsConnect*,
 * hdfsDisconnect) and the configuration they read, the error convention and the resolution of
 * paths that every call shares (internal.h). Streams are stream.c's, namespace calls
 * namespace.c's.
 *
 * A connection (hdfsFS) is a user, a umask and a working directory over a shared volume (conf.c);
 * a stream (hdfsFile) is one sluice_file, a reader or a writer. Every call that fails returns -1
 * or NULL, sets errno and keeps a message for hdfsGetLastExceptionRootCause, as libhdfs does.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

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

int hd_resolve(hdfsFS fs, const char *path, char *out)
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
