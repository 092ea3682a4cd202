/*
 * native_internal.h - what the JNI sources of io.sluice.hadoop.nativeio.NativeVolume share
 * (native_volume.c: the volume and its path calls; native_file.c: open files; native_dir.c:
 * directory listings; native_token.c: delegation tokens): the natives' names, the volume handle,
 * the checks and error translation around every sluice_* call, the frame of a path call and the
 * configuration of the calls that take one. The functions declared here are native_volume.c's.
 * Handles: a volume is the sluice_volume pointer; a file or directory is a small struct that also
 * remembers its volume (native_file.c, native_dir.c), because the error message of a failed call
 * lives on the volume (sluice_last_error).
 */
#ifndef SL_JNI_NATIVE_INTERNAL_H
#define SL_JNI_NATIVE_INTERNAL_H

#include <stdint.h>

#include "jni/jni_util.h"

#define JNAME(n) Java_io_sluice_hadoop_nativeio_NativeVolume_##n

static inline sluice_volume *VOL(jlong h)
{
	return (sluice_volume *)(intptr_t)h;
}

static inline jlong HANDLE(void *p)
{
	return (jlong)(intptr_t)p;
}

/* A null handle throws IOException "<what> is closed": 0, or -1 with it pending. */
static inline int sj_check_handle(JNIEnv *env, jlong h, const char *what)
{
	if (h)
		return 0;
	sj_throwf(env, sj.ioe, "%s is closed", what);
	return -1;
}

/* Throws the exception for rc (< 0) of a call on vol, with the volume's last error message. */
static inline void sj_throw_vol(JNIEnv *env, sluice_volume *vol, int rc, const char *path)
{
	sj_throw_errno(env, rc, sluice_last_error(vol), path);
}

/* The common frame of a path call: user, path, and cleanup on every return. */
struct call {
	struct sj_user user;
	char *path;
};

/* Checks the volume handle, then takes user, groups and path: 0, or -1 with an exception pending
 * (and nothing to end). */
int sj_call_begin(JNIEnv *env, jlong vol, jstring user, jobjectArray groups, jstring path,
		  struct call *c);
void sj_call_end(struct call *c);

/* A configuration from two String[] of equal length; every field is owned by the struct. */
struct jconf {
	char **k, **v;
	size_t nk, nv;
	sluice_kv *kv;
};

/* Returns 0, or -1 with an exception pending (sj_conf_end is still needed). */
int sj_conf_begin(JNIEnv *env, jobjectArray keys, jobjectArray values, struct jconf *c);
void sj_conf_end(struct jconf *c);

#endif
