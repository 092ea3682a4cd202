/*
 * native_volume.c - the natives of io.sluice.hadoop.nativeio.NativeVolume on a volume: versions,
 * the volume's life (init, log lines, counters, shutdown) and its path calls (metadata, block
 * locations, xattrs). Open files are native_file.c's, directory listings native_dir.c's and
 * delegation tokens native_token.c's; what they share is native_internal.h, defined here.
 * Every native is argument conversion, bounds checks and error translation around each sluice_*
 * call, nothing more. No Java monitor is held and no Java call is made during a sluice_* call.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jni/native_internal.h"
#include "util/strbuf.h"

/* The frame of a path call (native_internal.h). */

int sj_call_begin(JNIEnv *env, jlong vol, jstring user, jobjectArray groups, jstring path,
		  struct call *c)
{
	memset(c, 0, sizeof(*c));
	if (sj_check_handle(env, vol, "volume"))
		return -1;
	if (sj_user_get(env, user, groups, &c->user))
		return -1;
	c->path = sj_utf8(env, path, "path");
	if (!c->path) {
		sj_user_free(&c->user);
		return -1;
	}
	return 0;
}

void sj_call_end(struct call *c)
{
	sj_user_free(&c->user);
	free(c->path);
}

/* ---- versions and volume ------------------------------------------------------------------- */

JNIEXPORT jint JNICALL JNAME(abiVersion)(JNIEnv *env, jclass cls)
{
	(void)env, (void)cls;
	return sluice_abi_version();
}

JNIEXPORT jstring JNICALL JNAME(version)(JNIEnv *env, jclass cls)
{
	(void)cls;
	return sj_string(env, sluice_version());
}

/* A configuration from two String[] (native_internal.h): init's, and renewToken's and
 * cancelToken's in native_token.c. */
int sj_conf_begin(JNIEnv *env, jobjectArray keys, jobjectArray values, struct jconf *c)
{
	memset(c, 0, sizeof(*c));
	if (!keys || !values) {
		sj_throwf(env, sj.npe, "keys and values must not be null");
		return -1;
	}
	if (sj_strings(env, keys, "configuration key", &c->k, &c->nk) ||
	    sj_strings(env, values, "configuration value", &c->v, &c->nv))
		return -1;
	if (c->nk != c->nv) {
		sj_throwf(env, sj.iae, "%zu configuration keys but %zu values", c->nk, c->nv);
		return -1;
	}
	c->kv = calloc(c->nk ? c->nk : 1, sizeof(*c->kv));
	if (!c->kv) {
		sj_throwf(env, sj.oome, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->nk; i++)
		c->kv[i] = (sluice_kv){.key = c->k[i], .value = c->v[i]};
	return 0;
}

void sj_conf_end(struct jconf *c)
{
	free(c->kv);
	sj_free_strings(c->k, c->nk);
	sj_free_strings(c->v, c->nv);
	memset(c, 0, sizeof(*c));
}

JNIEXPORT jlong JNICALL JNAME(init)(JNIEnv *env, jclass cls, jobjectArray keys,
				    jobjectArray values)
{
	(void)cls;
	struct jconf c;
	sluice_volume *vol = NULL;
	if (sj_conf_begin(env, keys, values, &c))
		goto out;
	char errmsg[1024] = "";
	int rc = sluice_init(c.kv, c.nk, &vol, errmsg, sizeof(errmsg));
	if (rc < 0) {
		vol = NULL;
		sj_throw_errno(env, rc, errmsg, NULL);
	}
out:
	sj_conf_end(&c);
	return HANDLE(vol);
}

JNIEXPORT jstring JNICALL JNAME(logNext)(JNIEnv *env, jclass cls, jlong vol)
{
	(void)cls;
	if (sj_check_handle(env, vol, "the volume"))
		return NULL;
	char line[1 + 1024];
	int level;
	if (!sluice_log_next(VOL(vol), &level, line + 1, sizeof(line) - 1))
		return NULL;
	line[0] = (char)('0' + (level >= 0 && level <= 3 ? level : 1));
	return sj_string(env, line);
}

static void add_counter(void *arg, const char *name, uint64_t value)
{
	sl_strbuf_printf(arg, "%s %llu\n", name, (unsigned long long)value);
}

JNIEXPORT jstring JNICALL JNAME(stats)(JNIEnv *env, jclass cls, jlong vol)
{
	(void)cls;
	if (sj_check_handle(env, vol, "the volume"))
		return NULL;
	struct sl_strbuf t = {0};
	sluice_stats(VOL(vol), add_counter, &t);
	const char *text = sl_strbuf_str(&t);
	jstring out = NULL;
	if (!text)
		sj_throwf(env, sj.oome, "out of memory reading the volume's counters");
	else
		out = sj_string(env, text);
	sl_strbuf_free(&t);
	return out;
}

JNIEXPORT void JNICALL JNAME(shutdown)(JNIEnv *env, jclass cls, jlong vol)
{
	(void)cls;
	if (!vol)
		return;
	int rc = sluice_shutdown(VOL(vol));
	/* the volume (and its last error) is gone now */
	if (rc < 0)
		sj_throw_errno(env, rc, "shutting the volume down: files could not be closed cleanly",
			       NULL);
}

/* ---- metadata ------------------------------------------------------------------------------ */

JNIEXPORT void JNICALL JNAME(stat)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				   jobjectArray groups, jstring path, jboolean follow, jobject st)
{
	(void)cls;
	struct call c;
	if (!st) {
		sj_throwf(env, sj.npe, "stat: the NativeStat is null");
		return;
	}
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	sluice_stat s;
	int rc = follow ? sluice_stat_path(VOL(vol), sj_user_ptr(&c.user), c.path, &s)
			: sluice_lstat(VOL(vol), sj_user_ptr(&c.user), c.path, &s);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	else
		sj_fill_stat(env, st, &s, NULL, NULL, NULL);
	sj_call_end(&c);
}

JNIEXPORT jstring JNICALL JNAME(inodePath)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					   jobjectArray groups, jlong inode)
{
	(void)cls;
	if (sj_check_handle(env, vol, "volume"))
		return NULL;
	struct sj_user u;
	if (sj_user_get(env, user, groups, &u))
		return NULL;
	jstring r = NULL;
	char *buf = malloc(PATH_MAX + 1);
	if (!buf) {
		sj_throwf(env, sj.oome, "out of memory");
	} else {
		ssize_t n = sluice_inode_path(VOL(vol), sj_user_ptr(&u), (uint64_t)inode, buf,
					      PATH_MAX + 1);
		if (n < 0)
			sj_throw_vol(env, VOL(vol), (int)n, NULL);
		else
			r = sj_string(env, buf);
	}
	free(buf);
	sj_user_free(&u);
	return r;
}

JNIEXPORT void JNICALL JNAME(mkdirs)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				     jobjectArray groups, jstring path, jint mode, jint umask)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_mkdirs(VOL(vol), sj_user_ptr(&c.user), c.path, (uint32_t)mode,
			       (uint32_t)umask);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(mkdir)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				    jobjectArray groups, jstring path, jint mode, jint umask)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_mkdir(VOL(vol), sj_user_ptr(&c.user), c.path, (uint32_t)mode,
			      (uint32_t)umask);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(rename)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				     jobjectArray groups, jstring src, jstring dst, jint flags)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, src, &c))
		return;
	char *d = sj_utf8(env, dst, "destination path");
	if (d) {
		int rc = sluice_rename(VOL(vol), sj_user_ptr(&c.user), c.path, d, flags);
		/* EEXIST is about the destination; other errors are usually about the source */
		if (rc < 0)
			sj_throw_vol(env, VOL(vol), rc, rc == -EEXIST ? d : c.path);
		free(d);
	}
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(delete)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				     jobjectArray groups, jstring path, jboolean recursive)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_delete(VOL(vol), sj_user_ptr(&c.user), c.path, recursive ? 1 : 0);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(truncate)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				       jobjectArray groups, jstring path, jlong length)
{
	(void)cls;
	struct call c;
	if (length < 0) {
		sj_throwf(env, sj.iae, "truncate: negative length %lld", (long long)length);
		return;
	}
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_truncate(VOL(vol), sj_user_ptr(&c.user), c.path, (uint64_t)length);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

/* recover: sluice_recover_lease, else sluice_is_file_closed; true when the file is closed. */
static jboolean lease_call(JNIEnv *env, jlong vol, jstring user, jobjectArray groups,
			   jstring path, bool recover)
{
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return JNI_FALSE;
	int rc = recover ? sluice_recover_lease(VOL(vol), sj_user_ptr(&c.user), c.path)
			 : sluice_is_file_closed(VOL(vol), sj_user_ptr(&c.user), c.path);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
	return rc > 0 ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jboolean JNICALL JNAME(recoverLease)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					       jobjectArray groups, jstring path)
{
	(void)cls;
	return lease_call(env, vol, user, groups, path, true);
}

JNIEXPORT jboolean JNICALL JNAME(isFileClosed)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					       jobjectArray groups, jstring path)
{
	(void)cls;
	return lease_call(env, vol, user, groups, path, false);
}

JNIEXPORT jint JNICALL JNAME(fileChecksum)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					   jobjectArray groups, jstring path, jlong length)
{
	(void)cls;
	if (length < 0) {
		sj_throwf(env, sj.iae, "fileChecksum: negative length %lld", (long long)length);
		return 0;
	}
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return 0;
	uint32_t crc = 0;
	int rc = sluice_file_checksum(VOL(vol), sj_user_ptr(&c.user), c.path, (uint64_t)length,
				      &crc);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
	return (jint)crc;
}

JNIEXPORT void JNICALL JNAME(concat)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				     jobjectArray groups, jstring target, jobjectArray srcs)
{
	(void)cls;
	struct call c;
	if (!srcs) {
		sj_throwf(env, sj.npe, "concat: srcs is null");
		return;
	}
	if (sj_call_begin(env, vol, user, groups, target, &c))
		return;
	char **s = NULL;
	size_t n = 0;
	if (!sj_strings(env, srcs, "source path", &s, &n)) {
		int rc = sluice_concat(VOL(vol), sj_user_ptr(&c.user), c.path,
				       (const char *const *)s, n);
		if (rc < 0)
			sj_throw_vol(env, VOL(vol), rc, c.path);
		sj_free_strings(s, n);
	}
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(chmod)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				    jobjectArray groups, jstring path, jint mode)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_chmod(VOL(vol), sj_user_ptr(&c.user), c.path, (uint32_t)mode);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(chown)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				    jobjectArray groups, jstring path, jstring owner,
				    jstring group)
{
	(void)cls;
	struct call c;
	char *o = NULL, *g = NULL;
	int failed;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	o = sj_utf8_opt(env, owner, &failed);
	if (failed)
		goto out;
	g = sj_utf8_opt(env, group, &failed);
	if (failed)
		goto out;
	int rc = sluice_chown(VOL(vol), sj_user_ptr(&c.user), c.path, o, g);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
out:
	free(o);
	free(g);
	sj_call_end(&c);
}

JNIEXPORT void JNICALL JNAME(utimes)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				     jobjectArray groups, jstring path, jlong mtime,
				     jlong atime)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	int rc = sluice_utimes(VOL(vol), sj_user_ptr(&c.user), c.path, mtime, atime);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	sj_call_end(&c);
}

JNIEXPORT jstring JNICALL JNAME(readlink)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					  jobjectArray groups, jstring path)
{
	(void)cls;
	struct call c;
	jstring r = NULL;
	char *buf = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	size_t size = 4096;
	for (;;) {
		buf = malloc(size);
		if (!buf) {
			sj_throwf(env, sj.oome, "out of memory");
			goto out;
		}
		ssize_t n = sluice_readlink(VOL(vol), sj_user_ptr(&c.user), c.path, buf, size);
		if (n < 0) {
			sj_throw_vol(env, VOL(vol), (int)n, c.path);
			goto out;
		}
		if ((size_t)n < size) { /* room for the NUL: complete */
			buf[n] = 0;
			r = sj_string(env, buf);
			goto out;
		}
		free(buf);
		buf = NULL;
		size = (size_t)n + 1;
	}
out:
	free(buf);
	sj_call_end(&c);
	return r;
}

static jlongArray long_array(JNIEnv *env, const jlong *v, jsize n)
{
	jlongArray a = (*env)->NewLongArray(env, n);
	if (a && n)
		(*env)->SetLongArrayRegion(env, a, 0, n, v);
	return a;
}

JNIEXPORT jlongArray JNICALL JNAME(summary)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					    jobjectArray groups, jstring path)
{
	(void)cls;
	struct call c;
	jlongArray r = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	sluice_summary s;
	int rc = sluice_summary_path(VOL(vol), sj_user_ptr(&c.user), c.path, &s);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, c.path);
	} else {
		jlong v[6] = {(jlong)s.length, (jlong)s.files, (jlong)s.directories,
			      (jlong)s.space, (jlong)s.quota_space, (jlong)s.quota_inodes};
		r = long_array(env, v, 6);
	}
	sj_call_end(&c);
	return r;
}

JNIEXPORT jstring JNICALL JNAME(userName)(JNIEnv *env, jclass cls, jlong vol)
{
	(void)cls;
	if (sj_check_handle(env, vol, "volume"))
		return NULL;
	sluice_volume_info info;
	int rc = sluice_volume_get_info(VOL(vol), &info);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, NULL);
		return NULL;
	}
	return sj_string(env, info.user);
}

JNIEXPORT jlongArray JNICALL JNAME(statfs)(JNIEnv *env, jclass cls, jlong vol)
{
	(void)cls;
	if (sj_check_handle(env, vol, "volume"))
		return NULL;
	sluice_statfs s;
	int rc = sluice_statfs_get(VOL(vol), &s);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, NULL);
		return NULL;
	}
	/* a capacity without quota may exceed 2^63: clamp rather than turn negative */
	uint64_t u[5] = {s.capacity, s.used, s.remaining, s.inodes_used, s.inodes_available};
	jlong v[5];
	for (int i = 0; i < 5; i++)
		v[i] = u[i] > (uint64_t)INT64_MAX ? INT64_MAX : (jlong)u[i];
	return long_array(env, v, 5);
}

/* The logical blocks of [start, start+len) of the call's path, malloc'd into *out; returns the
 * count, or -1 with an exception pending. */
static int fetch_blocks(JNIEnv *env, jlong vol, struct call *c, const char *what, jlong start,
			jlong len, sluice_block **out)
{
	*out = NULL;
	if (start < 0 || len < 0) {
		sj_throwf(env, sj.iae, "%s: negative start %lld or length %lld", what,
			  (long long)start, (long long)len);
		return -1;
	}
	/* a full buffer may mean more blocks: retry with a larger one */
	size_t max = 64;
	for (;;) {
		sluice_block *b = malloc(max * sizeof(*b));
		if (!b) {
			sj_throwf(env, sj.oome, "out of memory");
			return -1;
		}
		int n = sluice_file_blocks(VOL(vol), sj_user_ptr(&c->user), c->path,
					   (uint64_t)start, (uint64_t)len, b, max);
		if (n < 0) {
			free(b);
			sj_throw_vol(env, VOL(vol), n, c->path);
			return -1;
		}
		if ((size_t)n < max || max >= (1u << 24)) {
			*out = b;
			return n;
		}
		free(b);
		max *= 8;
	}
}

JNIEXPORT jlongArray JNICALL JNAME(fileBlocks)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					       jobjectArray groups, jstring path, jlong start,
					       jlong len)
{
	(void)cls;
	struct call c;
	jlongArray r = NULL;
	sluice_block *b = NULL;
	jlong *flat = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	int n = fetch_blocks(env, vol, &c, "fileBlocks", start, len, &b);
	if (n < 0)
		goto out;
	flat = malloc(((size_t)n * 2 + 1) * sizeof(*flat));
	if (!flat) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		flat[2 * i] = (jlong)b[i].offset;
		flat[2 * i + 1] = (jlong)b[i].length;
	}
	r = long_array(env, flat, (jsize)n * 2);
out:
	free(flat);
	free(b);
	sj_call_end(&c);
	return r;
}

/* The hosts of each logical block of [start, start+len) (the same blocks as fileBlocks): one
 * String[] per block, empty when the volume has no node list. */
JNIEXPORT jobjectArray JNICALL JNAME(fileBlockHosts)(JNIEnv *env, jclass cls, jlong vol,
						     jstring user, jobjectArray groups,
						     jstring path, jlong start, jlong len)
{
	(void)cls;
	struct call c;
	jobjectArray r = NULL;
	sluice_block *b = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	int n = fetch_blocks(env, vol, &c, "fileBlockHosts", start, len, &b);
	if (n < 0)
		goto out;
	/* String[] has no cached class: take it from an empty instance */
	jobjectArray probe = (*env)->NewObjectArray(env, 0, sj.string_cls, NULL);
	if (!probe)
		goto out;
	jclass sarr = (*env)->GetObjectClass(env, probe);
	(*env)->DeleteLocalRef(env, probe);
	r = (*env)->NewObjectArray(env, n, sarr, NULL);
	(*env)->DeleteLocalRef(env, sarr);
	if (!r)
		goto out;
	for (int i = 0; i < n; i++) {
		jobjectArray hosts = (*env)->NewObjectArray(env, b[i].nhosts, sj.string_cls, NULL);
		if (!hosts)
			goto fail;
		for (int k = 0; k < b[i].nhosts; k++) {
			jstring h = sj_string(env, b[i].hosts[k]);
			if (!h) {
				(*env)->DeleteLocalRef(env, hosts);
				goto fail;
			}
			(*env)->SetObjectArrayElement(env, hosts, k, h);
			(*env)->DeleteLocalRef(env, h);
		}
		(*env)->SetObjectArrayElement(env, r, i, hosts);
		(*env)->DeleteLocalRef(env, hosts);
	}
	goto out;
fail:
	(*env)->DeleteLocalRef(env, r);
	r = NULL;
out:
	free(b);
	sj_call_end(&c);
	return r;
}

/* ---- xattrs -------------------------------------------------------------------------------- */

JNIEXPORT jbyteArray JNICALL JNAME(getxattr)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					     jobjectArray groups, jstring path, jstring name)
{
	(void)cls;
	struct call c;
	jbyteArray r = NULL;
	char *nm = NULL;
	void *buf = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	nm = sj_utf8(env, name, "xattr name");
	if (!nm)
		goto out;
	/* size, then value; the value may grow in between (-ERANGE): ask again */
	for (int attempt = 0;; attempt++) {
		ssize_t n = sluice_getxattr(VOL(vol), sj_user_ptr(&c.user), c.path, nm, NULL, 0);
		if (n == -ENODATA)
			goto out;
		if (n < 0) {
			sj_throw_vol(env, VOL(vol), (int)n, c.path);
			goto out;
		}
		buf = malloc(n ? (size_t)n : 1);
		if (!buf) {
			sj_throwf(env, sj.oome, "out of memory");
			goto out;
		}
		ssize_t m = n ? sluice_getxattr(VOL(vol), sj_user_ptr(&c.user), c.path, nm, buf,
						(size_t)n)
			      : 0;
		if (m == -ERANGE && attempt < 8) {
			free(buf);
			buf = NULL;
			continue;
		}
		if (m == -ENODATA)
			goto out;
		if (m < 0) {
			sj_throw_vol(env, VOL(vol), (int)m, c.path);
			goto out;
		}
		r = (*env)->NewByteArray(env, (jsize)m);
		if (r && m)
			(*env)->SetByteArrayRegion(env, r, 0, (jsize)m, buf);
		goto out;
	}
out:
	free(buf);
	free(nm);
	sj_call_end(&c);
	return r;
}

JNIEXPORT void JNICALL JNAME(setxattr)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				       jobjectArray groups, jstring path, jstring name,
				       jbyteArray value, jint flags)
{
	(void)cls;
	struct call c;
	char *nm = NULL;
	jbyte *v = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	nm = sj_utf8(env, name, "xattr name");
	if (!nm)
		goto out;
	jsize n = value ? (*env)->GetArrayLength(env, value) : 0;
	v = malloc(n ? (size_t)n : 1);
	if (!v) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	if (n)
		(*env)->GetByteArrayRegion(env, value, 0, n, v);
	int rc = sluice_setxattr(VOL(vol), sj_user_ptr(&c.user), c.path, nm, v, (size_t)n, flags);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
out:
	free(v);
	free(nm);
	sj_call_end(&c);
}

JNIEXPORT jobjectArray JNICALL JNAME(listxattr)(JNIEnv *env, jclass cls, jlong vol,
						jstring user, jobjectArray groups, jstring path)
{
	(void)cls;
	struct call c;
	jobjectArray r = NULL;
	char *buf = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	ssize_t m = 0;
	for (int attempt = 0;; attempt++) {
		ssize_t n = sluice_listxattr(VOL(vol), sj_user_ptr(&c.user), c.path, NULL, 0);
		if (n < 0) {
			sj_throw_vol(env, VOL(vol), (int)n, c.path);
			goto out;
		}
		buf = malloc((size_t)n + 1);
		if (!buf) {
			sj_throwf(env, sj.oome, "out of memory");
			goto out;
		}
		m = n ? sluice_listxattr(VOL(vol), sj_user_ptr(&c.user), c.path, buf, (size_t)n) : 0;
		if (m == -ERANGE && attempt < 8) {
			free(buf);
			buf = NULL;
			continue;
		}
		if (m < 0) {
			sj_throw_vol(env, VOL(vol), (int)m, c.path);
			goto out;
		}
		break;
	}
	buf[m] = 0;
	jsize count = 0;
	for (ssize_t i = 0; i < m; i += (ssize_t)strlen(buf + i) + 1)
		if (buf[i])
			count++;
	r = (*env)->NewObjectArray(env, count, sj.string_cls, NULL);
	if (!r)
		goto out;
	jsize k = 0;
	for (ssize_t i = 0; i < m; i += (ssize_t)strlen(buf + i) + 1) {
		if (!buf[i])
			continue;
		jstring s = sj_string(env, buf + i);
		if (!s) {
			(*env)->DeleteLocalRef(env, r);
			r = NULL;
			goto out;
		}
		(*env)->SetObjectArrayElement(env, r, k++, s);
		(*env)->DeleteLocalRef(env, s);
	}
out:
	free(buf);
	sj_call_end(&c);
	return r;
}

JNIEXPORT void JNICALL JNAME(removexattr)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					  jobjectArray groups, jstring path, jstring name)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	char *nm = sj_utf8(env, name, "xattr name");
	if (nm) {
		int rc = sluice_removexattr(VOL(vol), sj_user_ptr(&c.user), c.path, nm);
		if (rc < 0)
			sj_throw_vol(env, VOL(vol), rc, c.path);
		free(nm);
	}
	sj_call_end(&c);
}

/* ---- snapshots: op 1 create (returns the snapshot's path), 2 delete, 3 rename ------------- */

JNIEXPORT jstring JNICALL JNAME(snapshot)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					  jobjectArray groups, jstring path, jint op, jstring name,
					  jstring new_name)
{
	(void)cls;
	struct call c;
	jstring r = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	char *nm = name ? sj_utf8(env, name, "snapshot name") : NULL;
	char *nn = new_name ? sj_utf8(env, new_name, "new snapshot name") : NULL;
	if ((name && !nm) || (new_name && !nn))
		goto out;
	if (op < 1 || op > 3) {
		sj_throwf(env, sj.iae, "unknown snapshot operation %d", (int)op);
		goto out;
	}
	char out[4096];
	int rc = op == 1 ? sluice_snapshot_create(VOL(vol), sj_user_ptr(&c.user), c.path, nm, out,
						  sizeof(out))
		 : op == 2 ? sluice_snapshot_delete(VOL(vol), sj_user_ptr(&c.user), c.path, nm)
			   : sluice_snapshot_rename(VOL(vol), sj_user_ptr(&c.user), c.path, nm, nn);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
	else if (op == 1)
		r = sj_string(env, out);
out:
	free(nm);
	free(nn);
	sj_call_end(&c);
	return r;
}

/* ---- ACLs: entries in Hadoop's AclEntry text ([default:]user|group|mask|other:[name][:rwx]) */

JNIEXPORT void JNICALL JNAME(aclChange)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					jobjectArray groups, jstring path, jint op,
					jobjectArray spec)
{
	(void)cls;
	struct call c;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return;
	jsize n = spec ? (*env)->GetArrayLength(env, spec) : 0;
	sluice_acl_entry *e = n ? calloc((size_t)n, sizeof(*e)) : NULL;
	if (n && !e) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	for (jsize i = 0; i < n; i++) {
		jstring js = (jstring)(*env)->GetObjectArrayElement(env, spec, i);
		char *s = sj_utf8(env, js, "ACL entry");
		(*env)->DeleteLocalRef(env, js);
		if (!s)
			goto out;
		bool ok = sluice_acl_parse(s, &e[i]) == 0;
		if (!ok)
			sj_throwf(env, sj.iae, "Invalid ACL entry: %s", s);
		free(s);
		if (!ok)
			goto out;
	}
	int rc = sluice_acl_change(VOL(vol), sj_user_ptr(&c.user), c.path, (int)op, e, (size_t)n);
	if (rc < 0)
		sj_throw_vol(env, VOL(vol), rc, c.path);
out:
	free(e);
	sj_call_end(&c);
}

/* {permission bits in octal, then each entry of getAclStatus in AclEntry's text} */
JNIEXPORT jobjectArray JNICALL JNAME(getAcl)(JNIEnv *env, jclass cls, jlong vol, jstring user,
					     jobjectArray groups, jstring path)
{
	(void)cls;
	struct call c;
	jobjectArray r = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return NULL;
	size_t max = 2 * (2 * 32 + 4);
	sluice_acl_entry *e = calloc(max, sizeof(*e));
	if (!e) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	uint32_t mode = 0;
	int n = sluice_acl_get(VOL(vol), sj_user_ptr(&c.user), c.path, &mode, e, max);
	if (n < 0) {
		sj_throw_vol(env, VOL(vol), n, c.path);
		goto out;
	}
	if ((size_t)n > max)
		n = (int)max;
	r = (*env)->NewObjectArray(env, n + 1, sj.string_cls, NULL);
	for (int i = -1; r && i < n; i++) {
		char text[320];
		if (i < 0)
			snprintf(text, sizeof(text), "%o", mode);
		else
			sluice_acl_format(&e[i], text, sizeof(text));
		jstring s = sj_string(env, text);
		if (!s) {
			(*env)->DeleteLocalRef(env, r);
			r = NULL;
			break;
		}
		(*env)->SetObjectArrayElement(env, r, i + 1, s);
		(*env)->DeleteLocalRef(env, s);
	}
out:
	free(e);
	sj_call_end(&c);
	return r;
}
