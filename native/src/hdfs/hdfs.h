/*
 * hdfs.h - the C API of Apache Hadoop 3.x's libhdfs (same function names, signatures, types,
 * struct layouts and constants), implemented by libsluice-hdfs.so over libsluice without a JVM.
 * Programs built against Hadoop's hdfs.h load this library unchanged (docs/libhdfs.md).
 *
 * Conventions (those of libhdfs): calls return -1 or NULL on failure and set errno; the text of the
 * last failure in the calling thread is hdfsGetLastExceptionRootCause(). Paths are absolute,
 * relative to the working directory, or full sluice://VOLUME/path URIs.
 */
#ifndef LIBHDFS_HDFS_H
#define LIBHDFS_HDFS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifndef O_RDONLY
#define O_RDONLY 1
#endif
#ifndef O_WRONLY
#define O_WRONLY 2
#endif
#ifndef EINTERNAL
#define EINTERNAL 255
#endif

#define ELASTIC_BYTE_BUFFER_POOL_CLASS "org/apache/hadoop/io/ElasticByteBufferPool"

#ifdef __cplusplus
extern "C" {
#endif

struct hdfsBuilder;
struct hdfsStreamBuilder;
typedef int32_t tSize;   /* size of data for read/write */
typedef time_t tTime;    /* seconds since the epoch */
typedef int64_t tOffset; /* offset within a file */
typedef uint16_t tPort;
typedef enum tObjectKind { kObjectKindFile = 'F', kObjectKindDirectory = 'D' } tObjectKind;

struct hdfs_internal;
typedef struct hdfs_internal *hdfsFS;
struct hdfsFile_internal;
typedef struct hdfsFile_internal *hdfsFile;
struct hadoopRzOptions;
struct hadoopRzBuffer;

/* ---- files: kind and statistics ---------------------------------------------------------- */
int hdfsFileIsOpenForRead(hdfsFile file);
int hdfsFileIsOpenForWrite(hdfsFile file);

struct hdfsReadStatistics {
	uint64_t totalBytesRead;
	uint64_t totalLocalBytesRead;
	uint64_t totalShortCircuitBytesRead;
	uint64_t totalZeroCopyBytesRead;
};
int hdfsFileGetReadStatistics(hdfsFile file, struct hdfsReadStatistics **stats);
int64_t hdfsReadStatisticsGetRemoteBytesRead(const struct hdfsReadStatistics *stats);
int hdfsFileClearReadStatistics(hdfsFile file);
void hdfsFileFreeReadStatistics(struct hdfsReadStatistics *stats);

struct hdfsHedgedReadMetrics {
	uint64_t hedgedReadOps;
	uint64_t hedgedReadOpsWin;
	uint64_t hedgedReadOpsInCurThread;
};
int hdfsGetHedgedReadMetrics(hdfsFS fs, struct hdfsHedgedReadMetrics **metrics);
void hdfsFreeHedgedReadMetrics(struct hdfsHedgedReadMetrics *metrics);

/* ---- connections ------------------------------------------------------------------------- */
hdfsFS hdfsConnectAsUser(const char *nn, tPort port, const char *user);
hdfsFS hdfsConnect(const char *nn, tPort port);
hdfsFS hdfsConnectAsUserNewInstance(const char *nn, tPort port, const char *user);
hdfsFS hdfsConnectNewInstance(const char *nn, tPort port);
/* Frees bld whether or not the connection succeeds. */
hdfsFS hdfsBuilderConnect(struct hdfsBuilder *bld);
struct hdfsBuilder *hdfsNewBuilder(void);
void hdfsBuilderSetForceNewInstance(struct hdfsBuilder *bld);
void hdfsBuilderSetNameNode(struct hdfsBuilder *bld, const char *nn);
void hdfsBuilderSetNameNodePort(struct hdfsBuilder *bld, tPort port);
void hdfsBuilderSetUserName(struct hdfsBuilder *bld, const char *userName);
void hdfsBuilderSetKerbTicketCachePath(struct hdfsBuilder *bld, const char *kerbTicketCachePath);
void hdfsFreeBuilder(struct hdfsBuilder *bld);
int hdfsBuilderConfSetStr(struct hdfsBuilder *bld, const char *key, const char *val);
int hdfsConfGetStr(const char *key, char **val);
int hdfsConfGetInt(const char *key, int32_t *val);
void hdfsConfStrFree(char *val);
int hdfsDisconnect(hdfsFS fs);

/* ---- streams ------------------------------------------------------------------------------ */
hdfsFile hdfsOpenFile(hdfsFS fs, const char *path, int flags, int bufferSize, short replication,
		      tSize blocksize);
struct hdfsStreamBuilder *hdfsStreamBuilderAlloc(hdfsFS fs, const char *path, int flags);
void hdfsStreamBuilderFree(struct hdfsStreamBuilder *bld);
int hdfsStreamBuilderSetBufferSize(struct hdfsStreamBuilder *bld, int32_t bufferSize);
int hdfsStreamBuilderSetReplication(struct hdfsStreamBuilder *bld, int16_t replication);
int hdfsStreamBuilderSetDefaultBlockSize(struct hdfsStreamBuilder *bld, int64_t defaultBlockSize);
hdfsFile hdfsStreamBuilderBuild(struct hdfsStreamBuilder *bld);
int hdfsTruncateFile(hdfsFS fs, const char *path, tOffset newlength);
int hdfsUnbufferFile(hdfsFile file);
int hdfsCloseFile(hdfsFS fs, hdfsFile file);
int hdfsExists(hdfsFS fs, const char *path);
int hdfsSeek(hdfsFS fs, hdfsFile file, tOffset desiredPos);
tOffset hdfsTell(hdfsFS fs, hdfsFile file);
tSize hdfsRead(hdfsFS fs, hdfsFile file, void *buffer, tSize length);
tSize hdfsPread(hdfsFS fs, hdfsFile file, tOffset position, void *buffer, tSize length);
int hdfsPreadFully(hdfsFS fs, hdfsFile file, tOffset position, void *buffer, tSize length);
tSize hdfsWrite(hdfsFS fs, hdfsFile file, const void *buffer, tSize length);
int hdfsFlush(hdfsFS fs, hdfsFile file);
int hdfsHFlush(hdfsFS fs, hdfsFile file);
int hdfsHSync(hdfsFS fs, hdfsFile file);
int hdfsAvailable(hdfsFS fs, hdfsFile file);

/* ---- namespace ---------------------------------------------------------------------------- */
int hdfsCopy(hdfsFS srcFS, const char *src, hdfsFS dstFS, const char *dst);
int hdfsMove(hdfsFS srcFS, const char *src, hdfsFS dstFS, const char *dst);
int hdfsDelete(hdfsFS fs, const char *path, int recursive);
int hdfsRename(hdfsFS fs, const char *oldPath, const char *newPath);
char *hdfsGetWorkingDirectory(hdfsFS fs, char *buffer, size_t bufferSize);
int hdfsSetWorkingDirectory(hdfsFS fs, const char *path);
int hdfsCreateDirectory(hdfsFS fs, const char *path);
int hdfsSetReplication(hdfsFS fs, const char *path, int16_t replication);

typedef struct {
	tObjectKind mKind;
	char *mName;        /* fully qualified: sluice://VOLUME/path */
	tTime mLastMod;     /* seconds */
	tOffset mSize;
	short mReplication;
	tOffset mBlockSize;
	char *mOwner;
	char *mGroup;
	short mPermissions;
	tTime mLastAccess;  /* seconds */
} hdfsFileInfo;

hdfsFileInfo *hdfsListDirectory(hdfsFS fs, const char *path, int *numEntries);
hdfsFileInfo *hdfsGetPathInfo(hdfsFS fs, const char *path);
void hdfsFreeFileInfo(hdfsFileInfo *hdfsFileInfo, int numEntries);
int hdfsFileIsEncrypted(hdfsFileInfo *hdfsFileInfo);
char ***hdfsGetHosts(hdfsFS fs, const char *path, tOffset start, tOffset length);
void hdfsFreeHosts(char ***blockHosts);
tOffset hdfsGetDefaultBlockSize(hdfsFS fs);
tOffset hdfsGetDefaultBlockSizeAtPath(hdfsFS fs, const char *path);
tOffset hdfsGetCapacity(hdfsFS fs);
tOffset hdfsGetUsed(hdfsFS fs);
int hdfsChown(hdfsFS fs, const char *path, const char *owner, const char *group);
int hdfsChmod(hdfsFS fs, const char *path, short mode);
int hdfsUtime(hdfsFS fs, const char *path, tTime mtime, tTime atime);

/* ---- zero-copy reads (not supported: ENOTSUP) --------------------------------------------- */
struct hadoopRzOptions *hadoopRzOptionsAlloc(void);
int hadoopRzOptionsSetSkipChecksum(struct hadoopRzOptions *opts, int skip);
int hadoopRzOptionsSetByteBufferPool(struct hadoopRzOptions *opts, const char *className);
void hadoopRzOptionsFree(struct hadoopRzOptions *opts);
struct hadoopRzBuffer *hadoopReadZero(hdfsFile file, struct hadoopRzOptions *opts,
				      int32_t maxLength);
int32_t hadoopRzBufferLength(const struct hadoopRzBuffer *buffer);
const void *hadoopRzBufferGet(const struct hadoopRzBuffer *buffer);
void hadoopRzBufferFree(hdfsFile file, struct hadoopRzBuffer *buffer);

/* ---- errors: text of the calling thread's last failure (owned by the library) -------------- */
char *hdfsGetLastExceptionRootCause(void);
char *hdfsGetLastExceptionStackTrace(void);

#ifdef __cplusplus
}
#endif
#endif
