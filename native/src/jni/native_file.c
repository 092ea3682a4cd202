/*
 * native_file.c - the natives of io.sluice.hadoop.nativeio.NativeVolume on an open file: open and
 * close, reads and writes into heap arrays (through a bounded temp) or direct buffers (in place),
 * seek, length, fstat, hflush, hsync and unbuffer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "jni/native_internal.h"

#define COPY_CHUNK (1u << 20)   /* heap-array reads/writes go through a temp of at most this */
#define STACK_CHUNK (8u << 10)  /* ... and through the stack up to this */

/* ---- files --------------------------------------------------------------------------------- */

struct jfile {
	sluice_file *f;
	sluice_volume *vol;
};

static inline struct jfile *FILEH(jlong h)
{
	return (struct jfile *)(intptr_t)h;
}

JNIEXPORT jlong JNICALL JNAME(open)(JNIEnv *env, jclass cls, jlong vol, jstring user,
				    jobjectArray groups, jstring path, jint flags, jint mode,
				    jint umask)
{
	(void)cls;
	struct call c;
	struct jfile *jf = NULL;
	if (sj_call_begin(env, vol, user, groups, path, &c))
		return 0;
	jf = calloc(1, sizeof(*jf));
	if (!jf) {
		sj_throwf(env, sj.oome, "out of memory");
		goto out;
	}
	jf->vol = VOL(vol);
	int rc = sluice_open(VOL(vol), sj_user_ptr(&c.user), c.path, flags, (uint32_t)mode,
			     (uint32_t)umask, &jf->f);
	if (rc < 0) {
		sj_throw_vol(env, VOL(vol), rc, c.path);
		free(jf);
		jf = NULL;
	}
out:
	sj_call_end(&c);
	return HANDLE(jf);
}

JNIEXPORT void JNICALL JNAME(close)(JNIEnv *env, jclass cls, jlong file)
{
	(void)cls;
	struct jfile *jf = FILEH(file);
	if (!jf)
		return;
	int rc = sluice_close(jf->f); /* frees the file even when it fails */
	if (rc < 0)
		sj_throw_vol(env, jf->vol, rc, NULL);
	free(jf);
}

/* Checks [off, off+len) against an array or buffer of cap bytes. */
static int check_range(JNIEnv *env, const char *what, jlong cap, jint off, jint len)
{
	if (off < 0 || len < 0 || (jlong)off + (jlong)len > cap) {
		sj_throwf(env, sj.ioobe, "%s: offset %d and length %d outside a buffer of %lld bytes",
			  what, (int)off, (int)len, (long long)cap);
		return -1;
	}
	return 0;
}

static int check_array(JNIEnv *env, const char *what, jbyteArray buf, jint off, jint len)
{
	if (!buf) {
		sj_throwf(env, sj.npe, "%s: the buffer is null", what);
		return -1;
	}
	return check_range(env, what, (*env)->GetArrayLength(env, buf), off, len);
}

/* The address of a direct buffer's [pos, pos+len), or NULL with an exception pending. */
static char *direct_range(JNIEnv *env, const char *what, jobject buf, jint pos, jint len)
{
	if (!buf) {
		sj_throwf(env, sj.npe, "%s: the buffer is null", what);
		return NULL;
	}
	char *addr = (*env)->GetDirectBufferAddress(env, buf);
	jlong cap = (*env)->GetDirectBufferCapacity(env, buf);
	if (!addr || cap < 0) {
		sj_throwf(env, sj.iae, "%s: not a direct ByteBuffer", what);
		return NULL;
	}
	if (check_range(env, what, cap, pos, len))
		return NULL;
	return addr + pos;
}

/* Reads into a heap array through a bounded temp: pread when position >= 0, else sequential.
 * Loops until len bytes, EOF or an error; an error after some bytes returns those bytes (the
 * error recurs on the next call). Returns bytes read, -1 at EOF, or 0 with an exception. */
static jint read_heap(JNIEnv *env, struct jfile *jf, jlong position, jbyteArray buf, jint off,
		      jint len)
{
	char stackbuf[STACK_CHUNK];
	char *tmp = stackbuf;
	size_t tmpsize = sizeof(stackbuf);
	if ((size_t)len > tmpsize) {
		tmpsize = (size_t)len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
		tmp = malloc(tmpsize);
		if (!tmp) {
			sj_throwf(env, sj.oome, "out of memory for a read buffer");
			return 0;
		}
	}
	jint done = 0;
	while (done < len) {
		size_t want = (size_t)(len - done) < tmpsize ? (size_t)(len - done) : tmpsize;
		ssize_t n = position >= 0
				    ? sluice_pread(jf->f, tmp, want, (uint64_t)position + (uint64_t)done)
				    : sluice_read(jf->f, tmp, want);
		if (n < 0) {
			if (!done)
				sj_throw_vol(env, jf->vol, (int)n, NULL);
			break;
		}
		if (n == 0)
			break;
		(*env)->SetByteArrayRegion(env, buf, off + done, (jsize)n, (const jbyte *)tmp);
		done += (jint)n;
		if ((size_t)n < want) /* short: EOF */
			break;
	}
	if (tmp != stackbuf)
		free(tmp);
	if (done == 0 && len > 0 && !(*env)->ExceptionCheck(env))
		return -1;
	return done;
}

/* As read_heap, straight into memory the caller owns. */
static jint read_direct(JNIEnv *env, struct jfile *jf, jlong position, char *dst, jint len)
{
	jint done = 0;
	while (done < len) {
		size_t want = (size_t)(len - done);
		ssize_t n = position >= 0 ? sluice_pread(jf->f, dst + done, want,
							 (uint64_t)position + (uint64_t)done)
					  : sluice_read(jf->f, dst + done, want);
		if (n < 0) {
			if (!done)
				sj_throw_vol(env, jf->vol, (int)n, NULL);
			break;
		}
		if (n == 0)
			break;
		done += (jint)n;
		if ((size_t)n < want)
			break;
	}
	if (done == 0 && len > 0 && !(*env)->ExceptionCheck(env))
		return -1;
	return done;
}

static int check_position(JNIEnv *env, jlong position)
{
	if (position >= 0)
		return 0;
	sj_throwf(env, sj.eofe, "Cannot seek to a negative offset (%lld)", (long long)position);
	return -1;
}

JNIEXPORT jint JNICALL JNAME(read)(JNIEnv *env, jclass cls, jlong file, jbyteArray buf, jint off,
				   jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file") || check_array(env, "read", buf, off, len))
		return 0;
	return read_heap(env, FILEH(file), -1, buf, off, len);
}

JNIEXPORT jint JNICALL JNAME(readDirect)(JNIEnv *env, jclass cls, jlong file, jobject buf,
					 jint pos, jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return 0;
	char *dst = direct_range(env, "readDirect", buf, pos, len);
	if (!dst)
		return 0;
	return read_direct(env, FILEH(file), -1, dst, len);
}

JNIEXPORT jint JNICALL JNAME(pread)(JNIEnv *env, jclass cls, jlong file, jlong position,
				    jbyteArray buf, jint off, jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file") || check_position(env, position) ||
	    check_array(env, "pread", buf, off, len))
		return 0;
	return read_heap(env, FILEH(file), position, buf, off, len);
}

JNIEXPORT jint JNICALL JNAME(preadDirect)(JNIEnv *env, jclass cls, jlong file, jlong position,
					  jobject buf, jint pos, jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file") || check_position(env, position))
		return 0;
	char *dst = direct_range(env, "preadDirect", buf, pos, len);
	if (!dst)
		return 0;
	return read_direct(env, FILEH(file), position, dst, len);
}

static int write_all(JNIEnv *env, struct jfile *jf, const char *src, size_t len)
{
	while (len) {
		ssize_t n = sluice_write(jf->f, src, len);
		if (n < 0) {
			sj_throw_vol(env, jf->vol, (int)n, NULL);
			return -1;
		}
		if (n == 0) {
			sj_throwf(env, sj.ioe, "write made no progress");
			return -1;
		}
		src += n;
		len -= (size_t)n;
	}
	return 0;
}

JNIEXPORT void JNICALL JNAME(write)(JNIEnv *env, jclass cls, jlong file, jbyteArray buf,
				    jint off, jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file") || check_array(env, "write", buf, off, len) || !len)
		return;
	char stackbuf[STACK_CHUNK];
	char *tmp = stackbuf;
	size_t tmpsize = sizeof(stackbuf);
	if ((size_t)len > tmpsize) {
		tmpsize = (size_t)len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
		tmp = malloc(tmpsize);
		if (!tmp) {
			sj_throwf(env, sj.oome, "out of memory for a write buffer");
			return;
		}
	}
	for (jint done = 0; done < len;) {
		size_t n = (size_t)(len - done) < tmpsize ? (size_t)(len - done) : tmpsize;
		(*env)->GetByteArrayRegion(env, buf, off + done, (jsize)n, (jbyte *)tmp);
		if (write_all(env, FILEH(file), tmp, n))
			break;
		done += (jint)n;
	}
	if (tmp != stackbuf)
		free(tmp);
}

JNIEXPORT void JNICALL JNAME(writeDirect)(JNIEnv *env, jclass cls, jlong file, jobject buf,
					  jint pos, jint len)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return;
	char *src = direct_range(env, "writeDirect", buf, pos, len);
	if (src)
		write_all(env, FILEH(file), src, (size_t)len);
}

JNIEXPORT void JNICALL JNAME(seek)(JNIEnv *env, jclass cls, jlong file, jlong position)
{
	(void)cls;
	if (sj_check_handle(env, file, "file") || check_position(env, position))
		return;
	int rc = sluice_seek(FILEH(file)->f, (uint64_t)position);
	if (rc < 0)
		sj_throw_vol(env, FILEH(file)->vol, rc, NULL);
}

JNIEXPORT jlong JNICALL JNAME(tell)(JNIEnv *env, jclass cls, jlong file)
{
	(void)env, (void)cls;
	return file ? (jlong)sluice_tell(FILEH(file)->f) : 0;
}

JNIEXPORT jlong JNICALL JNAME(length)(JNIEnv *env, jclass cls, jlong file)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return 0;
	return (jlong)sluice_file_length(FILEH(file)->f);
}

JNIEXPORT void JNICALL JNAME(fstat)(JNIEnv *env, jclass cls, jlong file, jobject st)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return;
	if (!st) {
		sj_throwf(env, sj.npe, "fstat: the NativeStat is null");
		return;
	}
	sluice_stat s;
	int rc = sluice_fstat(FILEH(file)->f, &s);
	if (rc < 0)
		sj_throw_vol(env, FILEH(file)->vol, rc, NULL);
	else
		sj_fill_stat(env, st, &s, NULL, NULL, NULL);
}

JNIEXPORT void JNICALL JNAME(hflush)(JNIEnv *env, jclass cls, jlong file)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return;
	int rc = sluice_hflush(FILEH(file)->f);
	if (rc < 0)
		sj_throw_vol(env, FILEH(file)->vol, rc, NULL);
}

JNIEXPORT void JNICALL JNAME(hsync)(JNIEnv *env, jclass cls, jlong file)
{
	(void)cls;
	if (sj_check_handle(env, file, "file"))
		return;
	int rc = sluice_hsync(FILEH(file)->f);
	if (rc < 0)
		sj_throw_vol(env, FILEH(file)->vol, rc, NULL);
}

JNIEXPORT void JNICALL JNAME(unbuffer)(JNIEnv *env, jclass cls, jlong file)
{
	(void)env, (void)cls;
	if (file)
		sluice_unbuffer(FILEH(file)->f);
}
