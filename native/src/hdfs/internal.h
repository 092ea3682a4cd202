/*
 * internal.h - what the files of libsluice-hdfs share: the connection struct behind
 * hdfsFS, the per-process volume registry, configuration lookup, path resolution and
 * the error convention (errno plus the calling thread's message, returned as -1 or NULL).
 */
#ifndef SL_HDFS_INTERNAL_H
#define SL_HDFS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hdfs.h"
#include "sluice.h"

/* Key/value settings; a later set of the same key replaces the earlier value. */
struct hd_conf {
	size_t n, cap;
	char **keys;
	char **vals;
};
int hd_conf_set(struct hd_conf *c, const char *key, const char *val);
const char *hd_conf_get(const struct hd_conf *c, const char *key);
void hd_conf_free(struct hd_conf *c);
/* Adds the properties of $HADOOP_CONF_DIR/core-site.xml (else $HADOOP_HOME/etc/hadoop/); a
 * missing file is no error. Returns 0 or -1 with errno and the thread's message set. */
int hd_conf_load_site(struct hd_conf *c);

/* One sluice_volume per volume name and settings, shared by every connection that names them. */
struct hd_shared;
struct hd_shared *hd_volume_acquire(const char *volume, const struct hd_conf *conf, bool force_new,
				    const char *ccache);
sluice_volume *hd_volume_handle(struct hd_shared *s);
/* Drops a reference; the last one shuts the volume down. Returns 0 or a negative errno. */
int hd_volume_release(struct hd_shared *s);

struct hdfs_internal {
	struct hd_shared *shared;
	sluice_volume *vol;
	char volume[256];
	char *user;            /* NULL: the volume's default user (the process's) */
	char **groups;
	size_t ngroups;
	sluice_user u;
	uint32_t umask;
	tOffset block_size;
	pthread_mutex_t cwd_lock;
	char *cwd;             /* absolute path inside the volume */
};

/* NULL when the connection acts as the volume's default user. */
static inline const sluice_user *hd_user(hdfsFS fs)
{
	return fs->user ? &fs->u : NULL;
}

#define HD_PATH_MAX 4096
#define HD_SCHEME "sluice://"

/* path as an absolute, normalised path inside fs's volume: absolute, relative to the working
 * directory, or sluice://VOLUME/path (or hdfs://VOLUME/path) naming fs's volume. out has
 * HD_PATH_MAX bytes. Returns 0 or -1 with errno and the thread's message set (hdfs.c). */
int hd_resolve(hdfsFS fs, const char *path, char *out);

/* Error convention: records the message for hdfsGetLastExceptionRootCause, sets errno to err and
 * returns -1. */
int hd_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a failed libsluice call (rc < 0): the message names the call and the path, then says what
 * libsluice said. */
int hd_fail_rc(hdfsFS fs, int rc, const char *what, const char *path);

#endif
