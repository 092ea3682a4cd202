/*
 * native_token.c - the natives of io.sluice.hadoop.nativeio.NativeVolume for delegation tokens:
 * issue (on a volume), renew and cancel (with a configuration of their own, as Hadoop's token
 * renewer calls them without a file system).
 */
#include <stdlib.h>
#include <string.h>

#include "jni/native_internal.h"

/* ---- delegation tokens ---------------------------------------------------------------------- */
/* The token's password is a credential: every copy on this side is wiped before it goes. */

static jbyteArray byte_array(JNIEnv *env, const void *p, size_t n)
{
	jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
	if (a && n)
		(*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte *)p);
	return a;
}

JNIEXPORT jobjectArray JNICALL JNAME(issueToken)(JNIEnv *env, jclass cls, jlong vol, jstring user,
						 jobjectArray groups, jstring renewer)
{
	(void)cls;
	struct sj_user su;
	sluice_token t;
	char *ren = NULL;
	jbyteArray ident = NULL, pw = NULL;
	jobjectArray r = NULL;
	int failed = 0;
	memset(&t, 0, sizeof(t));
	if (sj_check_handle(env, vol, "volume"))
		return NULL;
	if (sj_user_get(env, user, groups, &su))
		return NULL;
	ren = sj_utf8_opt(env, renewer, &failed);
	if (failed)
		goto out;
	int rc = sluice_token_issue(VOL(vol), sj_user_ptr(&su), ren, &t);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, NULL);
		goto out;
	}
	if (!t.identifier_len || t.identifier_len > sizeof(t.identifier)) {
		sj_throwf(env, sj.ioe,
			  "libsluice issued a delegation token identifier of %zu bytes (1-%zu expected)",
			  t.identifier_len, sizeof(t.identifier));
		goto out;
	}
	if (!(ident = byte_array(env, t.identifier, t.identifier_len)) ||
	    !(pw = byte_array(env, t.password, sizeof(t.password))))
		goto out;
	r = (*env)->NewObjectArray(env, 2, (*env)->GetObjectClass(env, ident), NULL);
	if (!r)
		goto out;
	(*env)->SetObjectArrayElement(env, r, 0, ident);
	(*env)->SetObjectArrayElement(env, r, 1, pw);
out:
	if (ident)
		(*env)->DeleteLocalRef(env, ident);
	if (pw)
		(*env)->DeleteLocalRef(env, pw);
	explicit_bzero(&t, sizeof(t));
	free(ren);
	sj_user_free(&su);
	return r;
}

/* A token from the Java arrays, bounds-checked against sluice_token. Returns 0, or -1 with an
 * exception pending. */
static int token_get(JNIEnv *env, jbyteArray identifier, jbyteArray password, sluice_token *t)
{
	memset(t, 0, sizeof(*t));
	if (!identifier || !password) {
		sj_throwf(env, sj.npe, "the token's identifier and password must not be null");
		return -1;
	}
	jsize n = (*env)->GetArrayLength(env, identifier);
	jsize pn = (*env)->GetArrayLength(env, password);
	if (n <= 0 || (size_t)n > sizeof(t->identifier)) {
		sj_throwf(env, sj.ioe,
			  "not a sluice delegation token: its identifier has %d bytes (1-%zu expected)",
			  (int)n, sizeof(t->identifier));
		return -1;
	}
	if ((size_t)pn != sizeof(t->password)) {
		sj_throwf(env, sj.ioe,
			  "not a sluice delegation token: its password has %d bytes (%zu expected)",
			  (int)pn, sizeof(t->password));
		return -1;
	}
	(*env)->GetByteArrayRegion(env, identifier, 0, n, (jbyte *)t->identifier);
	(*env)->GetByteArrayRegion(env, password, 0, pn, (jbyte *)t->password);
	t->identifier_len = (size_t)n;
	return 0;
}

JNIEXPORT jlong JNICALL JNAME(renewToken)(JNIEnv *env, jclass cls, jobjectArray keys,
					  jobjectArray values, jbyteArray identifier,
					  jbyteArray password)
{
	(void)cls;
	struct jconf c;
	sluice_token t;
	int64_t expiry = 0;
	memset(&t, 0, sizeof(t));
	if (sj_conf_begin(env, keys, values, &c) || token_get(env, identifier, password, &t))
		goto out;
	char errmsg[1024] = "";
	int rc = sluice_token_renew(c.kv, c.nk, &t, &expiry, errmsg, sizeof(errmsg));
	if (rc < 0)
		sj_throw_errno(env, rc, errmsg, NULL);
out:
	explicit_bzero(&t, sizeof(t));
	sj_conf_end(&c);
	return (jlong)expiry;
}

JNIEXPORT void JNICALL JNAME(cancelToken)(JNIEnv *env, jclass cls, jobjectArray keys,
					  jobjectArray values, jbyteArray identifier,
					  jbyteArray password)
{
	(void)cls;
	struct jconf c;
	sluice_token t;
	memset(&t, 0, sizeof(t));
	if (sj_conf_begin(env, keys, values, &c) || token_get(env, identifier, password, &t))
		goto out;
	char errmsg[1024] = "";
	int rc = sluice_token_cancel(c.kv, c.nk, &t, errmsg, sizeof(errmsg));
	if (rc < 0)
		sj_throw_errno(env, rc, errmsg, NULL);
out:
	explicit_bzero(&t, sizeof(t));
	sj_conf_end(&c);
}
