/*
 * jni_util.h - what every JNI source shares: class/field IDs cached once in JNI_OnLoad, the one
 * errno -> Java exception translation, argument checks that throw, and UTF-8 <-> String helpers.
 */
#ifndef SL_JNI_UTIL_H
#define SL_JNI_UTIL_H

#include <jni.h>
#include <stddef.h>

#include "sluice.h"

/* Global references and IDs, written only by JNI_OnLoad/JNI_OnUnload and read-only in between
 * (the JVM runs JNI_OnLoad before any native of the library can be called). */
struct sj_cache {
	jclass stat_cls;
	jmethodID stat_ctor;
	jfieldID st_name, st_inode, st_type, st_mode, st_nlink, st_length, st_mtime, st_atime,
		st_ctime, st_owner, st_group, st_block_size, st_mtime_ns, st_has_acl;
	jclass string_cls;
	/* always present (java.*) */
	jclass ioe, fnfe, eofe, iae, ioobe, npe, uoe, oome;
	/* Hadoop's; NULL when not on the class path, then IOException is thrown instead */
	jclass faee, ace, pinede, pnde, pide, dose, dsqe, nsqe, snpe;
};

extern struct sj_cache sj;

/* Throws the exception for a negative errno rc. msg is the native message (may be NULL); path, if
 * not NULL, is used as the subject of Hadoop's Path*Exception classes and added to a message that
 * does not mention it. */
void sj_throw_errno(JNIEnv *env, int rc, const char *msg, const char *path);
/* Throws cls (one of sj's) with a formatted message. */
void sj_throwf(JNIEnv *env, jclass cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Standard UTF-8 (not JNI's modified UTF-8) of s, malloc'd; NULL with an exception pending on
 * failure (s NULL: NullPointerException naming what). */
char *sj_utf8(JNIEnv *env, jstring s, const char *what);
/* Like sj_utf8 but a NULL s gives NULL without an exception; *failed tells the two apart. */
char *sj_utf8_opt(JNIEnv *env, jstring s, int *failed);
/* A String from UTF-8 bytes; invalid sequences become U+FFFD. NULL with an exception pending. */
jstring sj_string(JNIEnv *env, const char *utf8);

/* A String[] as malloc'd UTF-8 strings (elements must be non-null); *n gets the count.
 * Returns 0, or -1 with an exception pending. Free with sj_free_strings. */
int sj_strings(JNIEnv *env, jobjectArray arr, const char *what, char ***out, size_t *n);
void sj_free_strings(char **v, size_t n);

/* The caller's identity for one call; user NULL means the volume's default user. */
struct sj_user {
	sluice_user u;
	char *name;
	char **groups;
	size_t ngroups;
	int is_default;
};
int sj_user_get(JNIEnv *env, jstring user, jobjectArray groups, struct sj_user *out);
/* NULL for the default user, else &su->u. */
static inline const sluice_user *sj_user_ptr(struct sj_user *su)
{
	return su->is_default ? NULL : &su->u;
}
void sj_user_free(struct sj_user *su);

/* Copies a sluice_stat into a NativeStat (name: a String or NULL to leave the field alone).
 * Returns 0, or -1 with an exception pending. */
int sj_fill_stat(JNIEnv *env, jobject obj, const sluice_stat *st, jstring name, jstring owner,
		 jstring group);

#endif
