/*
 * stream.c - libhdfs streams (hdfsFile) over sluice_file: hdfsOpenFile and the stream builder,
 * reads, writes, seeks, flushes and read statistics; and the calls that make no sense without
 * HDFS (zero-copy reads, hedged read metrics), which fail with ENOTSUP.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
	if (hd_resolve(fs, path, p) < 0)
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
