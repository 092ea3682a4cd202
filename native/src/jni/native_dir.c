/*
 * native_dir.c - the natives of io.sluice.hadoop.nativeio.NativeVolume on a directory listing:
 * opendir, readdir (a batch of entries into NativeStat objects the caller reuses) and closedir.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jni/native_internal.h"

/* ---- listing ------------------------------------------------------------------------------- */

struct jdir {
	sluice_dir *d;
	sluice_volume *vol;
};

JNIEXPORT jlong JNICALL JNAME(opendir)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				       jobjectArray groups, jstring path)
{
	(void)cls;
	struct call c;
	struct jdir *jd = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return 0;
	jd = calloc(1, sizeof(*jd));
	if (!jd) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	jd->vol = VOL(vol);
	int rc = sluice_opendir(VOL(vol), sj_user_ptr(&c.user), c.path, &jd->d);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, c.path);
		free(jd);
		jd = NULL;
	}
out:
	sj_call_end(&c);
	return HANDLE(jd);
}

JNIEXPORT jint JNICALL JNAME(readdir)(JNIEnv *env, jclass cls, jlong dir, jobjectArray out)
{
	(void)cls;
	struct jdir *jd = (struct jdir *)(intptr_t)dir;
	if (sj_check_handle(env, dir, "directory listing"))
		return 0;
	if (!out) {
		sj_throwf(env, sj.npe, "readdir: the output array is null");
		return 0;
	}
	jsize max = (*env)->GetArrayLength(env, out);
	if (max == 0)
		return 0;
	sluice_dirent *ents = malloc((size_t)max * sizeof(*ents));
	if (!ents) {
		sj_throwf(env, sj.oome, "out of memory");
		return 0;
	}
	int n = sluice_readdir(jd->d, ents, (size_t)max);
	if (n < 0) {
		sj_throw_vol(env, jd->vol, n, NULL);
		free(ents);
		return 0;
	}
	/* entries of one directory mostly share owner and group: reuse the previous Strings */
	jstring own = NULL, grp = NULL;
	const char *own_c = NULL, *grp_c = NULL;
	int i;
	for (i = 0; i < n; i++) {
		const sluice_stat *st = &ents[i].st;
		jobject o = (*env)->GetObjectArrayElement(env, out, i);
		if (!o) {
			o = (*env)->NewObject(env, sj.stat_cls, sj.stat_ctor);
			if (!o)
				break;
			(*env)->SetObjectArrayElement(env, out, i, o);
		}
		if (!own_c || strcmp(own_c, st->owner)) {
			if (own)
				(*env)->DeleteLocalRef(env, own);
			own = sj_string(env, st->owner);
			own_c = own ? st->owner : NULL;
		}
		if (!grp_c || strcmp(grp_c, st->group)) {
			if (grp)
				(*env)->DeleteLocalRef(env, grp);
			grp = sj_string(env, st->group);
			grp_c = grp ? st->group : NULL;
		}
		jstring name = sj_string(env, ents[i].name);
		int rc = (own && grp && name) ? sj_fill_stat(env, o, st, name, own, grp) : -1;
		if (name)
			(*env)->DeleteLocalRef(env, name);
		(*env)->DeleteLocalRef(env, o);
		if (rc)
			break;
	}
	if (own)
		(*env)->DeleteLocalRef(env, own);
	if (grp)
		(*env)->DeleteLocalRef(env, grp);
	free(ents);
	return i == n ? n : 0; /* on a break an exception is pending */
}

JNIEXPORT void JNICALL JNAME(closedir)(JNIEnv *env, jclass cls, jlong dir)
{
	(void)env, (void)cls;
	struct jdir *jd = (struct jdir *)(intptr_t)dir;
	if (!jd)
		return;
	sluice_closedir(jd->d);
	free(jd);
}
