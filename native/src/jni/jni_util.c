/*
 * jni_util.c - JNI_OnLoad/OnUnload (global class references and field IDs, cached once), the one
 * place that turns a negative errno into a Java exception, and String <-> UTF-8 conversion.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jni/jni_util.h"

#define SJ_JNI_VERSION JNI_VERSION_1_8
#define SJ_STAT_CLASS "io/sluice/hadoop/nativeio/NativeStat"

struct sj_cache sj;

/* ---- loading ------------------------------------------------------------------------------- */

static void drop(JNIEnv *env, jclass *c)
{
	if (*c) {
		(*env)->DeleteGlobalRef(env, *c);
		*c = NULL;
	}
}

static void drop_all(JNIEnv *env)
{
	jclass *all[] = {&sj.stat_cls, &sj.string_cls, &sj.ioe,   &sj.fnfe,  &sj.eofe,
			 &sj.iae,      &sj.ioobe,      &sj.npe,   &sj.uoe,   &sj.oome,
			 &sj.faee,     &sj.ace,        &sj.pinede, &sj.pnde, &sj.pide,
			 &sj.dose,     &sj.dsqe,       &sj.nsqe,  &sj.snpe};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		drop(env, all[i]);
}

/* A global reference to a class; NULL (exception cleared) if it cannot be found. */
static jclass global_class(JNIEnv *env, const char *name)
{
	jclass local = (*env)->FindClass(env, name);
	if (!local) {
		(*env)->ExceptionClear(env);
		return NULL;
	}
	jclass g = (*env)->NewGlobalRef(env, local);
	(*env)->DeleteLocalRef(env, local);
	return g;
}

/* Loading fails with UnsatisfiedLinkError naming what is missing: a half-initialised bridge
 * would crash later instead. */
static jint load_fail(JNIEnv *env, const char *what)
{
	(*env)->ExceptionClear(env);
	drop_all(env);
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "libsluice JNI: %s not found; the library does not match the sluice-hadoop classes "
		 "on the class path",
		 what);
	jclass ule = (*env)->FindClass(env, "java/lang/UnsatisfiedLinkError");
	if (ule)
		(*env)->ThrowNew(env, ule, msg);
	return JNI_ERR;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
	(void)reserved;
	JNIEnv *env;
	if ((*vm)->GetEnv(vm, (void **)&env, SJ_JNI_VERSION) != JNI_OK)
		return JNI_ERR;
	memset(&sj, 0, sizeof(sj));

	static const struct {
		jclass *slot;
		const char *name;
	} required[] = {
		{&sj.stat_cls, SJ_STAT_CLASS},
		{&sj.string_cls, "java/lang/String"},
		{&sj.ioe, "java/io/IOException"},
		{&sj.fnfe, "java/io/FileNotFoundException"},
		{&sj.eofe, "java/io/EOFException"},
		{&sj.iae, "java/lang/IllegalArgumentException"},
		{&sj.ioobe, "java/lang/IndexOutOfBoundsException"},
		{&sj.npe, "java/lang/NullPointerException"},
		{&sj.uoe, "java/lang/UnsupportedOperationException"},
		{&sj.oome, "java/lang/OutOfMemoryError"},
	}, optional[] = {
		{&sj.faee, "org/apache/hadoop/fs/FileAlreadyExistsException"},
		{&sj.ace, "org/apache/hadoop/security/AccessControlException"},
		{&sj.pinede, "org/apache/hadoop/fs/PathIsNotEmptyDirectoryException"},
		{&sj.pnde, "org/apache/hadoop/fs/ParentNotDirectoryException"},
		{&sj.pide, "org/apache/hadoop/fs/PathIsDirectoryException"},
		{&sj.dose, "org/apache/hadoop/util/DiskChecker$DiskOutOfSpaceException"},
		{&sj.dsqe, "org/apache/hadoop/hdfs/protocol/DSQuotaExceededException"},
		{&sj.nsqe, "org/apache/hadoop/hdfs/protocol/NSQuotaExceededException"},
		{&sj.snpe, "org/apache/hadoop/hdfs/protocol/SnapshotException"},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		*required[i].slot = global_class(env, required[i].name);
		if (!*required[i].slot)
			return load_fail(env, required[i].name);
	}
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		*optional[i].slot = global_class(env, optional[i].name);

	static const struct {
		jfieldID *slot;
		const char *name, *sig;
	} fields[] = {
		{&sj.st_name, "name", "Ljava/lang/String;"},
		{&sj.st_inode, "inode", "J"},
		{&sj.st_type, "type", "I"},
		{&sj.st_mode, "mode", "I"},
		{&sj.st_nlink, "nlink", "I"},
		{&sj.st_length, "length", "J"},
		{&sj.st_mtime, "mtimeMs", "J"},
		{&sj.st_atime, "atimeMs", "J"},
		{&sj.st_ctime, "ctimeMs", "J"},
		{&sj.st_owner, "owner", "Ljava/lang/String;"},
		{&sj.st_group, "group", "Ljava/lang/String;"},
		{&sj.st_block_size, "blockSize", "J"},
		{&sj.st_mtime_ns, "mtimeNs", "J"},
		{&sj.st_has_acl, "hasAcl", "Z"},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		*fields[i].slot = (*env)->GetFieldID(env, sj.stat_cls, fields[i].name, fields[i].sig);
		if (!*fields[i].slot)
			return load_fail(env, "a field of " SJ_STAT_CLASS);
	}
	sj.stat_ctor = (*env)->GetMethodID(env, sj.stat_cls, "<init>", "()V");
	if (!sj.stat_ctor)
		return load_fail(env, "the constructor " SJ_STAT_CLASS "()");
	return SJ_JNI_VERSION;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved)
{
	(void)reserved;
	JNIEnv *env;
	if ((*vm)->GetEnv(vm, (void **)&env, SJ_JNI_VERSION) != JNI_OK)
		return;
	drop_all(env);
}

/* ---- exceptions ---------------------------------------------------------------------------- */

void sj_throwf(JNIEnv *env, jclass cls, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jstring s = sj_string(env, msg);
	if (!s)
		return; /* OutOfMemoryError pending */
	jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "(Ljava/lang/String;)V");
	jthrowable t = ctor ? (*env)->NewObject(env, cls, ctor, s) : NULL;
	if (t) {
		(*env)->Throw(env, t);
		(*env)->DeleteLocalRef(env, t);
	} else if (!(*env)->ExceptionCheck(env)) {
		(*env)->ThrowNew(env, sj.ioe, msg);
	}
	(*env)->DeleteLocalRef(env, s);
}

void sj_throw_errno(JNIEnv *env, int rc, const char *msg, const char *path)
{
	int e = rc < 0 ? -rc : rc;
	if (!msg || !*msg)
		msg = strerror(e);
	/* The native messages usually name the path already; add it only when they do not. */
	char full[1024];
	if (path && *path && !strstr(msg, path))
		snprintf(full, sizeof(full), "%s: %s", path, msg);
	else
		snprintf(full, sizeof(full), "%s", msg);

	jclass cls = NULL;
	int path_subject = 0; /* Hadoop's Path*Exception(String path) build "`path': reason" */
	int add_errno = 0;
	switch (e) {
	case ENOENT:
	case ESTALE: /* the file was deleted by another client while this one read it */
		cls = sj.fnfe;
		break;
	case EEXIST:
		cls = sj.faee;
		break;
	case EACCES:
	case EPERM: /* HDFS refuses to delete a directory with snapshots with a SnapshotException */
		cls = strstr(msg, SLUICE_HAS_SNAPSHOTS_MSG) ? (sj.snpe ? sj.snpe : sj.ioe) : sj.ace;
		break;
	case ENOTEMPTY:
		cls = sj.pinede;
		path_subject = 1;
		break;
	case ENOTDIR:
		cls = sj.pnde;
		break;
	case EISDIR:
		cls = sj.pide;
		path_subject = 1;
		break;
	case EDQUOT: /* HDFS's exceptions where hadoop-hdfs-client is on the class path */
		cls = strstr(msg, SLUICE_INODE_QUOTA_MSG) ? sj.nsqe : sj.dsqe;
		if (!cls)
			cls = sj.dose;
		break;
	case ENOSPC:
		cls = sj.dose;
		break;
	case ENOTSUP:
		cls = sj.uoe;
		break;
	case ENOMEM:
		cls = sj.oome;
		break;
	case EINVAL:
	case EROFS:
	case ENOLCK:  /* a writer fenced by lease recovery (HDFS: LeaseExpiredException) */
	case ETXTBSY: /* a lease held by another writer (HDFS: AlreadyBeingCreatedException) */
		cls = sj.ioe;
		break;
	default:
		cls = sj.ioe;
		add_errno = 1;
		break;
	}
	if (!cls)
		cls = sj.ioe; /* a Hadoop class that is not on the class path */
	if (path_subject && cls != sj.ioe && path && *path)
		sj_throwf(env, cls, "%s", path);
	else if (add_errno)
		sj_throwf(env, cls, "%s (errno %d)", full, e);
	else
		sj_throwf(env, cls, "%s", full);
}

/* ---- strings ------------------------------------------------------------------------------- */

char *sj_utf8(JNIEnv *env, jstring s, const char *what)
{
	if (!s) {
		sj_throwf(env, sj.npe, "%s is null", what);
		return NULL;
	}
	jsize n = (*env)->GetStringLength(env, s);
	/* at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units); allocated before
	 * the critical section, which must not block */
	char *out = malloc((size_t)n * 3 + 1);
	if (!out) {
		sj_throwf(env, sj.oome, "out of memory converting %s", what);
		return NULL;
	}
	const jchar *c = (*env)->GetStringCritical(env, s, NULL);
	if (!c) {
		free(out);
		return NULL; /* OutOfMemoryError pending */
	}
	size_t o = 0;
	for (jsize i = 0; i < n; i++) {
		uint32_t cp = c[i];
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && c[i + 1] >= 0xDC00 &&
		    c[i + 1] <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (c[i + 1] - 0xDC00);
			i++;
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	out[o] = 0;
	(*env)->ReleaseStringCritical(env, s, c);
	return out;
}

char *sj_utf8_opt(JNIEnv *env, jstring s, int *failed)
{
	*failed = 0;
	if (!s)
		return NULL;
	char *r = sj_utf8(env, s, "string");
	*failed = r == NULL;
	return r;
}

/* Decodes one UTF-8 sequence at p (n bytes left); returns its length (1 for an invalid byte,
 * with *cp = U+FFFD). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char b = p[0];
	size_t len;
	uint32_t v, min;
	if (b < 0x80) {
		*cp = b;
		return 1;
	} else if ((b & 0xE0) == 0xC0) {
		len = 2, v = b & 0x1F, min = 0x80;
	} else if ((b & 0xF0) == 0xE0) {
		len = 3, v = b & 0x0F, min = 0x800;
	} else if ((b & 0xF8) == 0xF0) {
		len = 4, v = b & 0x07, min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (len > n)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xFFFD;
	return 1;
}

jstring sj_string(JNIEnv *env, const char *utf8)
{
	size_t n = strlen(utf8);
	int ascii = 1;
	for (size_t i = 0; i < n && ascii; i++)
		ascii = (unsigned char)utf8[i] < 0x80;
	if (ascii) /* ASCII is the same in modified UTF-8: the common, fast case */
		return (*env)->NewStringUTF(env, utf8);

	jchar stackbuf[256];
	jchar *u = n <= 256 ? stackbuf : malloc(n * sizeof(jchar)); /* never more units than bytes */
	if (!u) {
		(*env)->ThrowNew(env, sj.oome, "out of memory converting a name");
		return NULL;
	}
	size_t k = 0;
	const unsigned char *p = (const unsigned char *)utf8;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += utf8_next(p + i, n - i, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[k++] = (jchar)(0xD800 + (cp >> 10));
			u[k++] = (jchar)(0xDC00 + (cp & 0x3FF));
		} else {
			u[k++] = (jchar)cp;
		}
	}
	jstring s = (*env)->NewString(env, u, (jsize)k);
	if (u != stackbuf)
		free(u);
	return s;
}

void sj_free_strings(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int sj_strings(JNIEnv *env, jobjectArray arr, const char *what, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!arr)
		return 0;
	jsize len = (*env)->GetArrayLength(env, arr);
	char **v = calloc((size_t)len + 1, sizeof(char *));
	if (!v) {
		sj_throwf(env, sj.oome, "out of memory converting %s", what);
		return -1;
	}
	for (jsize i = 0; i < len; i++) {
		jstring s = (*env)->GetObjectArrayElement(env, arr, i);
		if (!s && (*env)->ExceptionCheck(env))
			goto fail;
		v[i] = sj_utf8(env, s, what);
		if (s)
			(*env)->DeleteLocalRef(env, s);
		if (!v[i])
			goto fail;
	}
	*out = v;
	*n = (size_t)len;
	return 0;
fail:
	sj_free_strings(v, (size_t)len);
	return -1;
}

/* ---- identity ------------------------------------------------------------------------------ */

int sj_user_get(JNIEnv *env, jstring user, jobjectArray groups, struct sj_user *out)
{
	memset(out, 0, sizeof(*out));
	if (!user) {
		out->is_default = 1;
		return 0;
	}
	out->name = sj_utf8(env, user, "user");
	if (!out->name)
		return -1;
	if (sj_strings(env, groups, "group", &out->groups, &out->ngroups)) {
		free(out->name);
		out->name = NULL;
		return -1;
	}
	out->u.name = out->name;
	out->u.groups = (const char *const *)out->groups;
	out->u.ngroups = out->ngroups;
	return 0;
}

void sj_user_free(struct sj_user *su)
{
	free(su->name);
	sj_free_strings(su->groups, su->ngroups);
	memset(su, 0, sizeof(*su));
}

/* ---- NativeStat ---------------------------------------------------------------------------- */

int sj_fill_stat(JNIEnv *env, jobject obj, const sluice_stat *st, jstring name, jstring owner,
		 jstring group)
{
	jstring own = owner, grp = group;
	int rc = -1;
	if (!own && !(own = sj_string(env, st->owner)))
		goto out;
	if (!grp && !(grp = sj_string(env, st->group)))
		goto out;
	if (name)
		(*env)->SetObjectField(env, obj, sj.st_name, name);
	(*env)->SetLongField(env, obj, sj.st_inode, (jlong)st->inode);
	(*env)->SetIntField(env, obj, sj.st_type, st->type);
	(*env)->SetIntField(env, obj, sj.st_mode, (jint)st->mode);
	(*env)->SetIntField(env, obj, sj.st_nlink, (jint)st->nlink);
	(*env)->SetLongField(env, obj, sj.st_length, (jlong)st->length);
	(*env)->SetLongField(env, obj, sj.st_mtime, st->mtime_ms);
	(*env)->SetLongField(env, obj, sj.st_atime, st->atime_ms);
	(*env)->SetLongField(env, obj, sj.st_ctime, st->ctime_ms);
	(*env)->SetObjectField(env, obj, sj.st_owner, own);
	(*env)->SetObjectField(env, obj, sj.st_group, grp);
	(*env)->SetLongField(env, obj, sj.st_block_size, (jlong)st->block_size);
	(*env)->SetLongField(env, obj, sj.st_mtime_ns, st->mtime_ns);
	(*env)->SetBooleanField(env, obj, sj.st_has_acl, st->has_acl ? JNI_TRUE : JNI_FALSE);
	rc = 0;
out:
	if (own && own != owner)
		(*env)->DeleteLocalRef(env, own);
	if (grp && grp != group)
		(*env)->DeleteLocalRef(env, grp);
	return rc;
}
