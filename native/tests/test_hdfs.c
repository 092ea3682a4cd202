/* test_hdfs.c - the libhdfs API of libsluice-hdfs.so (called through the shared library's exports)
 * on SQLite + file storage, and on MariaDB + the S3 server when make test provides them: every
 * call, the errors engines rely on (errno and the message), configuration from core-site.xml and
 * from the builder, and eight threads reading one file with hdfsPread. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hdfs.h"
#include "volume_testutil.h"

#define FILE_SIZE (3 * 1024 * 1024 + 12345)

struct target {
	const char *volume;
	char meta[1024];
};

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 31 + i / 7);
}

static hdfsFS connect_full(const struct target *t, const char *user, bool force_new)
{
	struct hdfsBuilder *b = hdfsNewBuilder();
	REQUIRE(b);
	if (force_new)
		hdfsBuilderSetForceNewInstance(b);
	char nn[300], key[300];
	snprintf(nn, sizeof(nn), "sluice://%s", t->volume);
	hdfsBuilderSetNameNode(b, nn);
	hdfsBuilderSetNameNodePort(b, 0);
	if (user)
		hdfsBuilderSetUserName(b, user);
	snprintf(key, sizeof(key), "sluice.%s.meta", t->volume);
	CHECK_RC(hdfsBuilderConfSetStr(b, key, t->meta), 0);
	CHECK_RC(hdfsBuilderConfSetStr(b, "sluice.get-timeout", "1"), 0);
	hdfsFS fs = hdfsBuilderConnect(b);
	if (!fs)
		fprintf(stderr, "connect: %s\n", hdfsGetLastExceptionRootCause());
	REQUIRE(fs);
	return fs;
}

static hdfsFS connect_as(const struct target *t, const char *user)
{
	return connect_full(t, user, false);
}

/* errno of a call that must fail with -1 or NULL */
#define CHECK_ERR(expr, err)                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long long r_ = (long long)(intptr_t)(expr);                                \
		int e_ = errno;                                                            \
		if ((r_ != -1 && r_ != 0) || e_ != (err)) {                                \
			fprintf(stderr, "%s:%d: %s = %lld errno %d (%s), expected errno %d\n", \
				__FILE__, __LINE__, #expr, r_, e_, strerror(e_), err);     \
			tu_failures++;                                                     \
		} else {                                                                   \
			const char *m_ = hdfsGetLastExceptionRootCause();                  \
			CHECK(m_ && *m_);                                                  \
		}                                                                          \
	} while (0)

static void write_file(hdfsFS fs, const char *path, uint64_t size)
{
	hdfsFile f = hdfsOpenFile(fs, path, O_WRONLY, 0, 0, 0);
	REQUIRE(f);
	CHECK(hdfsFileIsOpenForWrite(f));
	CHECK(!hdfsFileIsOpenForRead(f));
	unsigned char buf[65536];
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		CHECK_RC(hdfsWrite(fs, f, buf, (tSize)n), n);
		off += n;
	}
	CHECK_RC(hdfsTell(fs, f), size);
	CHECK_RC(hdfsFlush(fs, f), 0);
	CHECK_RC(hdfsCloseFile(fs, f), 0);
}

static bool check_pattern(const unsigned char *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(off + i))
			return false;
	return true;
}

struct preader {
	hdfsFS fs;
	hdfsFile f;
	int seed;
	int bad;
};

static void *pread_thread(void *arg)
{
	struct preader *r = arg;
	unsigned int seed = (unsigned int)r->seed;
	unsigned char *buf = malloc(300000);
	for (int i = 0; i < 60; i++) {
		uint64_t off = (uint64_t)rand_r(&seed) % FILE_SIZE;
		tSize len = (tSize)(rand_r(&seed) % 300000);
		tSize want = off + (uint64_t)len > FILE_SIZE ? (tSize)(FILE_SIZE - off) : len;
		tSize n = hdfsPread(r->fs, r->f, (tOffset)off, buf, len);
		if (n != want || !check_pattern(buf, (size_t)n, off))
			r->bad++;
	}
	free(buf);
	return NULL;
}

/* Threads connecting, reading and disconnecting at once share one volume handle safely. */
struct connector {
	const struct target *t;
	int bad;
};

static void *connect_thread(void *arg)
{
	struct connector *c = arg;
	unsigned char buf[1000];
	for (int i = 0; i < 10; i++) {
		hdfsFS fs = connect_as(c->t, i % 2 ? "alice" : NULL);
		hdfsFile f = hdfsOpenFile(fs, "/data/f1", O_RDONLY, 0, 0, 0);
		if (!f || hdfsPread(fs, f, 777, buf, sizeof(buf)) != sizeof(buf) ||
		    !check_pattern(buf, sizeof(buf), 777))
			c->bad++;
		if (f && hdfsCloseFile(fs, f))
			c->bad++;
		if (hdfsDisconnect(fs))
			c->bad++;
	}
	return NULL;
}

static void test_connect_threads(const struct target *t)
{
	pthread_t th[8];
	struct connector c[8];
	for (int i = 0; i < 8; i++) {
		c[i] = (struct connector){.t = t};
		REQUIRE(pthread_create(&th[i], NULL, connect_thread, &c[i]) == 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(c[i].bad, 0);
	}
}

static void test_streams(hdfsFS fs, const struct target *t)
{
	write_file(fs, "/data/f1", FILE_SIZE);
	hdfsFile f = hdfsOpenFile(fs, "/data/f1", O_RDONLY, 0, 0, 0);
	REQUIRE(f);
	CHECK(hdfsFileIsOpenForRead(f));
	CHECK_RC(hdfsAvailable(fs, f), FILE_SIZE);
	unsigned char *buf = malloc(FILE_SIZE + 100);
	size_t got = 0;
	for (;;) {
		tSize n = hdfsRead(fs, f, buf + got, 100000);
		REQUIRE(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	CHECK_RC(got, FILE_SIZE);
	CHECK(check_pattern(buf, got, 0));
	CHECK_RC(hdfsTell(fs, f), FILE_SIZE);
	CHECK_RC(hdfsAvailable(fs, f), 0);
	CHECK_RC(hdfsSeek(fs, f, 1000000), 0);
	CHECK_RC(hdfsTell(fs, f), 1000000);
	CHECK_RC(hdfsRead(fs, f, buf, 10), 10);
	CHECK(check_pattern(buf, 10, 1000000));
	CHECK_ERR(hdfsSeek(fs, f, FILE_SIZE + 1), EINVAL);
	CHECK_RC(hdfsPread(fs, f, 2000000, buf, 5000), 5000);
	CHECK(check_pattern(buf, 5000, 2000000));
	CHECK_RC(hdfsTell(fs, f), 1000010); /* pread does not move the position */
	CHECK_RC(hdfsPread(fs, f, FILE_SIZE - 10, buf, 100), 10);
	CHECK_RC(hdfsPread(fs, f, FILE_SIZE, buf, 100), 0);
	CHECK_RC(hdfsPreadFully(fs, f, 3000000, buf, 4096), 0);
	CHECK(check_pattern(buf, 4096, 3000000));
	CHECK_ERR(hdfsPreadFully(fs, f, FILE_SIZE - 10, buf, 100), EINVAL);
	CHECK_ERR(hdfsWrite(fs, f, buf, 10), EINVAL);
	CHECK_ERR(hdfsHFlush(fs, f), EINVAL);
	struct hdfsReadStatistics *stats = NULL;
	CHECK_RC(hdfsFileGetReadStatistics(f, &stats), 0);
	REQUIRE(stats);
	CHECK(stats->totalBytesRead >= FILE_SIZE);
	CHECK_RC(hdfsReadStatisticsGetRemoteBytesRead(stats), stats->totalBytesRead);
	hdfsFileFreeReadStatistics(stats);
	CHECK_RC(hdfsFileClearReadStatistics(f), 0);
	CHECK_RC(hdfsUnbufferFile(f), 0);
	CHECK_ERR(hadoopReadZero(f, NULL, 100), ENOTSUP);

	/* eight threads, one handle, random preads */
	pthread_t th[8];
	struct preader r[8];
	for (int i = 0; i < 8; i++) {
		r[i] = (struct preader){.fs = fs, .f = f, .seed = i + 1};
		REQUIRE(pthread_create(&th[i], NULL, pread_thread, &r[i]) == 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(r[i].bad, 0);
	}
	CHECK_RC(hdfsCloseFile(fs, f), 0);

	/* a writer's hflush is visible to a new reader on another connection at once */
	hdfsFS other = connect_full(t, NULL, true); /* a volume handle of its own */
	hdfsFile w = hdfsOpenFile(fs, "/data/log", O_WRONLY, 4096, 3, 1 << 20);
	REQUIRE(w);
	CHECK_RC(hdfsWrite(fs, w, "hello ", 6), 6);
	CHECK_RC(hdfsHFlush(fs, w), 0);
	hdfsFileInfo *fi = hdfsGetPathInfo(other, "/data/log");
	REQUIRE(fi);
	CHECK_RC(fi->mSize, 6);
	hdfsFreeFileInfo(fi, 1);
	CHECK_RC(hdfsWrite(fs, w, "world", 5), 5);
	CHECK_RC(hdfsHSync(fs, w), 0);
	CHECK_ERR(hdfsRead(fs, w, buf, 5), EINVAL);
	CHECK_ERR(hdfsSeek(fs, w, 0), EINVAL);
	CHECK_RC(hdfsCloseFile(fs, w), 0);
	/* append */
	w = hdfsOpenFile(other, "/data/log", O_WRONLY | O_APPEND, 0, 0, 0);
	REQUIRE(w);
	CHECK_RC(hdfsWrite(other, w, "!", 1), 1);
	CHECK_RC(hdfsCloseFile(other, w), 0);
	f = hdfsOpenFile(fs, "sluice://hdvol/data/log", O_RDONLY, 0, 0, 0);
	REQUIRE(f);
	CHECK_RC(hdfsRead(fs, f, buf, 100), 12);
	CHECK(!memcmp(buf, "hello world!", 12));
	CHECK_RC(hdfsCloseFile(fs, f), 0);
	CHECK_ERR(hdfsOpenFile(fs, "/data/missing", O_WRONLY | O_APPEND, 0, 0, 0), ENOENT);
	/* the stream builder */
	struct hdfsStreamBuilder *sb = hdfsStreamBuilderAlloc(fs, "/data/built", O_WRONLY);
	REQUIRE(sb);
	CHECK_RC(hdfsStreamBuilderSetBufferSize(sb, 1 << 16), 0);
	CHECK_RC(hdfsStreamBuilderSetReplication(sb, 3), 0);
	CHECK_RC(hdfsStreamBuilderSetDefaultBlockSize(sb, 1 << 30), 0);
	w = hdfsStreamBuilderBuild(sb);
	REQUIRE(w);
	CHECK_RC(hdfsWrite(fs, w, "x", 1), 1);
	CHECK_RC(hdfsCloseFile(fs, w), 0);
	sb = hdfsStreamBuilderAlloc(fs, "/data/built", O_RDONLY);
	CHECK_ERR(hdfsStreamBuilderSetReplication(sb, 3), EINVAL);
	hdfsStreamBuilderFree(sb);
	CHECK_RC(hdfsDisconnect(other), 0);
	free(buf);
}

static void test_namespace(hdfsFS fs, const char *user)
{
	/* working directory: /user/NAME, relative paths resolve against it */
	char wd[512], want[512];
	CHECK(hdfsGetWorkingDirectory(fs, wd, sizeof(wd)) == wd);
	snprintf(want, sizeof(want), "sluice://hdvol/user/%s", user);
	CHECK(!strcmp(wd, want));
	CHECK_ERR(hdfsGetWorkingDirectory(fs, wd, 5), ERANGE);
	CHECK_RC(hdfsCreateDirectory(fs, "/ns/a/b"), 0);
	CHECK_RC(hdfsSetWorkingDirectory(fs, "/ns"), 0);
	CHECK_RC(hdfsExists(fs, "a/b"), 0);
	CHECK_RC(hdfsExists(fs, "./a/../a/b/"), 0);
	CHECK_ERR(hdfsExists(fs, "a/c"), ENOENT);
	CHECK_RC(hdfsSetWorkingDirectory(fs, "a"), 0);
	CHECK(hdfsGetWorkingDirectory(fs, wd, sizeof(wd)) && !strcmp(wd, "sluice://hdvol/ns/a"));
	CHECK_RC(hdfsSetWorkingDirectory(fs, "sluice://hdvol/ns"), 0);

	write_file(fs, "a/f", 1000);
	hdfsFileInfo *fi = hdfsGetPathInfo(fs, "a/f");
	REQUIRE(fi);
	CHECK(fi->mKind == kObjectKindFile);
	CHECK(!strcmp(fi->mName, "sluice://hdvol/ns/a/f"));
	CHECK_RC(fi->mSize, 1000);
	CHECK_RC(fi->mPermissions, 0644);
	CHECK_RC(fi->mReplication, 1);
	CHECK_RC(fi->mBlockSize, 128 << 20);
	CHECK(!strcmp(fi->mOwner, user));
	CHECK(fi->mLastMod > 1700000000);
	CHECK_RC(hdfsFileIsEncrypted(fi), 0);
	hdfsFreeFileInfo(fi, 1);
	fi = hdfsGetPathInfo(fs, "/ns/a");
	REQUIRE(fi);
	CHECK(fi->mKind == kObjectKindDirectory);
	CHECK_RC(fi->mPermissions, 0755);
	CHECK_RC(fi->mSize, 0);
	hdfsFreeFileInfo(fi, 1);

	/* listing: full URIs, in name order; an empty directory is NULL with errno 0 */
	int n = -1;
	hdfsFileInfo *ls = hdfsListDirectory(fs, "/ns/a", &n);
	CHECK_RC(n, 2);
	REQUIRE(ls);
	CHECK(!strcmp(ls[0].mName, "sluice://hdvol/ns/a/b") && ls[0].mKind == kObjectKindDirectory);
	CHECK(!strcmp(ls[1].mName, "sluice://hdvol/ns/a/f") && ls[1].mSize == 1000);
	hdfsFreeFileInfo(ls, n);
	errno = EIO;
	CHECK(hdfsListDirectory(fs, "/ns/a/b", &n) == NULL);
	CHECK_RC(errno, 0);
	CHECK_RC(n, 0);
	CHECK_ERR(hdfsListDirectory(fs, "/ns/nothing", &n), ENOENT);
	for (int i = 0; i < 300; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/ns/many/d%03d", i);
		CHECK_RC(hdfsCreateDirectory(fs, p), 0);
	}
	ls = hdfsListDirectory(fs, "/ns/many", &n);
	CHECK_RC(n, 300);
	CHECK(ls && !strcmp(ls[299].mName, "sluice://hdvol/ns/many/d299"));
	hdfsFreeFileInfo(ls, n);

	/* rename: into an existing directory, never over an existing file */
	write_file(fs, "/ns/g", 10);
	CHECK_ERR(hdfsRename(fs, "/ns/g", "/ns/a/f"), EEXIST);
	CHECK_RC(hdfsRename(fs, "/ns/g", "/ns/a/b"), 0);
	CHECK_RC(hdfsExists(fs, "/ns/a/b/g"), 0);
	CHECK_RC(hdfsRename(fs, "/ns/a/b/g", "/ns/h"), 0);
	CHECK_ERR(hdfsRename(fs, "/ns/nothing", "/ns/x"), ENOENT);

	/* copy and move, files and trees */
	CHECK_RC(hdfsCopy(fs, "/ns/a", fs, "/ns/copy"), 0);
	fi = hdfsGetPathInfo(fs, "/ns/copy/f");
	CHECK(fi && fi->mSize == 1000);
	hdfsFreeFileInfo(fi, 1);
	CHECK_RC(hdfsExists(fs, "/ns/copy/b"), 0);
	CHECK_ERR(hdfsCopy(fs, "/ns/a", fs, "/ns/a/b/c"), EINVAL);
	CHECK_RC(hdfsCopy(fs, "/ns/h", fs, "/ns/h2"), 0);
	CHECK_RC(hdfsMove(fs, "/ns/h2", fs, "/ns/h3"), 0);
	CHECK_ERR(hdfsExists(fs, "/ns/h2"), ENOENT);
	CHECK_RC(hdfsExists(fs, "/ns/h3"), 0);

	/* delete */
	CHECK_ERR(hdfsDelete(fs, "/ns/copy", 0), ENOTEMPTY);
	CHECK_RC(hdfsDelete(fs, "/ns/copy", 1), 0);
	CHECK_ERR(hdfsExists(fs, "/ns/copy"), ENOENT);
	CHECK_ERR(hdfsDelete(fs, "/ns/copy", 1), ENOENT);

	/* attributes */
	CHECK_RC(hdfsChmod(fs, "/ns/h", 0600), 0);
	CHECK_RC(hdfsUtime(fs, "/ns/h", 1600000000, -1), 0);
	fi = hdfsGetPathInfo(fs, "/ns/h");
	REQUIRE(fi);
	CHECK_RC(fi->mPermissions, 0600);
	CHECK_RC(fi->mLastMod, 1600000000);
	hdfsFreeFileInfo(fi, 1);
	CHECK_RC(hdfsChown(fs, "/ns/h", NULL, NULL), 0);
	CHECK_RC(hdfsTruncateFile(fs, "/ns/h", 4), 1);
	fi = hdfsGetPathInfo(fs, "/ns/h");
	CHECK(fi && fi->mSize == 4);
	hdfsFreeFileInfo(fi, 1);
	CHECK_RC(hdfsSetReplication(fs, "/ns/h", 3), 0);

	/* errors */
	CHECK_ERR(hdfsOpenFile(fs, "/ns/nothing", O_RDONLY, 0, 0, 0), ENOENT);
	CHECK_ERR(hdfsOpenFile(fs, "/ns/a", O_RDONLY, 0, 0, 0), EISDIR);
	CHECK_ERR(hdfsOpenFile(fs, "/ns/h", O_RDWR, 0, 0, 0), ENOTSUP);
	CHECK_ERR(hdfsOpenFile(fs, "/ns/h", O_WRONLY | O_CREAT | O_EXCL, 0, 0, 0), ENOTSUP);
	CHECK_ERR(hdfsCreateDirectory(fs, "/ns/h"), EEXIST);
	CHECK_ERR(hdfsGetPathInfo(fs, "sluice://othervol/ns/h"), EINVAL);
	CHECK_ERR(hdfsGetPathInfo(fs, "hdfs://nn:8020/ns/h"), EINVAL);
	CHECK_ERR(hdfsGetPathInfo(fs, "s3a://hdvol/ns/h"), EINVAL);
	CHECK_RC(hdfsExists(fs, "hdfs://hdvol/ns/h"), 0); /* what HDFS-minded engines build */
	CHECK_RC(hdfsExists(fs, "hdfs://hdvol:8020/ns/h"), 0);
	CHECK_RC(hdfsExists(fs, "sluice://hdvol:0/ns/h"), 0);
	CHECK_ERR(hdfsExists(fs, "sluice://hdvolx/ns/h"), EINVAL);
	CHECK_ERR(hdfsGetPathInfo(fs, ""), EINVAL);
	CHECK_ERR(hadoopRzOptionsAlloc(), ENOTSUP);
	struct hdfsHedgedReadMetrics *hm = NULL;
	CHECK_ERR(hdfsGetHedgedReadMetrics(fs, &hm), ENOTSUP);

	/* volume facts */
	char ***hosts = hdfsGetHosts(fs, "/data/f1", 0, FILE_SIZE);
	REQUIRE(hosts);
	CHECK(hosts[0] && hosts[0][0] && !strcmp(hosts[0][0], "localhost") && !hosts[0][1]);
	CHECK(!hosts[1]);
	hdfsFreeHosts(hosts);
	CHECK_RC(hdfsGetDefaultBlockSize(fs), 128 << 20);
	CHECK_RC(hdfsGetDefaultBlockSizeAtPath(fs, "/whatever"), 128 << 20);
	CHECK(hdfsGetCapacity(fs) > 0);
	CHECK(hdfsGetUsed(fs) >= FILE_SIZE);
	CHECK_RC(hdfsSetWorkingDirectory(fs, "/"), 0);
}

/* Permissions as HDFS: the superuser is "hdfs"; alice's 0700 directory is closed to bob. */
static void test_users(const struct target *t)
{
	hdfsFS su = connect_as(t, "hdfs");
	CHECK_RC(hdfsCreateDirectory(su, "/user/alice"), 0);
	CHECK_RC(hdfsChown(su, "/user/alice", "alice", "alice"), 0);
	hdfsFS alice = connect_as(t, "alice");
	hdfsFS bob = connect_as(t, "bob");
	char wd[256];
	CHECK(hdfsGetWorkingDirectory(alice, wd, sizeof(wd)) &&
	      !strcmp(wd, "sluice://hdvol/user/alice"));
	CHECK_RC(hdfsCreateDirectory(alice, "private"), 0);
	CHECK_RC(hdfsChmod(alice, "private", 0700), 0);
	write_file(alice, "private/secret", 100);
	hdfsFileInfo *fi = hdfsGetPathInfo(alice, "private/secret");
	CHECK(fi && !strcmp(fi->mOwner, "alice"));
	hdfsFreeFileInfo(fi, 1);
	int n;
	CHECK_ERR(hdfsListDirectory(bob, "/user/alice/private", &n), EACCES);
	CHECK_ERR(hdfsOpenFile(bob, "/user/alice/private/secret", O_RDONLY, 0, 0, 0), EACCES);
	CHECK_ERR(hdfsOpenFile(bob, "/user/alice/private/x", O_WRONLY, 0, 0, 0), EACCES);
	CHECK_ERR(hdfsDelete(bob, "/user/alice/private", 1), EACCES);
	CHECK_ERR(hdfsChmod(bob, "/user/alice/private", 0777), EACCES); /* AccessControlException */
	CHECK_ERR(hdfsChown(alice, "/user/alice/private", "bob", NULL), EACCES);
	/* the superuser passes every check */
	CHECK_RC(hdfsExists(su, "/user/alice/private/secret"), 0);
	CHECK_RC(hdfsChown(su, "/user/alice/private/secret", "bob", "bob"), 0);
	fi = hdfsGetPathInfo(su, "/user/alice/private/secret");
	CHECK(fi && !strcmp(fi->mOwner, "bob") && !strcmp(fi->mGroup, "bob"));
	hdfsFreeFileInfo(fi, 1);
	CHECK_RC(hdfsDisconnect(bob), 0);
	CHECK_RC(hdfsDisconnect(alice), 0);
	CHECK_RC(hdfsDisconnect(su), 0);
}

/* Connections from core-site.xml: "default" and a bare volume name; hdfsConfGet*. */
static void test_core_site(const struct target *t)
{
	char *dir = tu_tempdir("hdfs-conf");
	char path[1200];
	snprintf(path, sizeof(path), "%s/core-site.xml", dir);
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fprintf(f, "<?xml version=\"1.0\"?>\n<configuration>\n"
		   "  <property><name>sluice.default.volume</name><value>%s</value></property>\n"
		   "  <property>\n    <name> sluice.%s.meta </name>\n    <value>%s</value>\n"
		   "  </property>\n"
		   "  <property><name>sluice.meta</name><value>sqlite3:///nonexistent/x.db</value>"
		   "</property>\n"
		   "  <property><name>fs.permissions.umask-mode</name><value>077</value></property>\n"
		   "  <property><name>io.file.buffer.size</name><value>65536</value></property>\n"
		   "</configuration>\n",
		t->volume, t->volume, t->meta);
	fclose(f);
	setenv("HADOOP_CONF_DIR", dir, 1);
	char *v = NULL;
	CHECK_RC(hdfsConfGetStr("sluice.default.volume", &v), 0);
	CHECK(v && !strcmp(v, t->volume));
	hdfsConfStrFree(v);
	CHECK_RC(hdfsConfGetStr("no.such.key", &v), 0);
	CHECK(v == NULL);
	int32_t i = 7;
	CHECK_RC(hdfsConfGetInt("io.file.buffer.size", &i), 0);
	CHECK_RC(i, 65536);
	CHECK_RC(hdfsConfGetInt("no.such.key", &i), 0);
	CHECK_RC(i, 65536);

	hdfsFS a = hdfsConnect("default", 0);
	REQUIRE(a);
	hdfsFS b = hdfsConnect(t->volume, 9000);
	REQUIRE(b);
	write_file(a, "/site/f", 10);
	hdfsFileInfo *fi = hdfsGetPathInfo(b, "/site/f");
	CHECK(fi && fi->mPermissions == 0600); /* umask 077 from core-site.xml */
	hdfsFreeFileInfo(fi, 1);
	hdfsFS c = hdfsConnectAsUser("sluice://" "hdvol", 0, "alice");
	REQUIRE(c);
	CHECK_ERR(hdfsOpenFile(c, "/site/f", O_RDONLY, 0, 0, 0), EACCES);
	hdfsFS d = hdfsConnectAsUserNewInstance(t->volume, 0, "alice");
	REQUIRE(d);
	CHECK_RC(hdfsExists(d, "/user/alice/private"), 0);
	CHECK_RC(hdfsDisconnect(c), 0);
	CHECK_RC(hdfsDisconnect(d), 0);
	CHECK_RC(hdfsDisconnect(a), 0);
	CHECK_RC(hdfsDisconnect(b), 0);
	/* sluice.VOLUME.meta wins over sluice.meta; another volume gets the (bad) global one */
	CHECK_ERR(hdfsConnect("othervol", 0), ENOENT);
	CHECK_ERR(hdfsConnect("s3a://bucket", 0), EINVAL);
	hdfsFS e = hdfsConnect("hdfs://" "hdvol", 0); /* pyarrow: "hdfs://" + host */
	REQUIRE(e);
	CHECK_RC(hdfsDisconnect(e), 0);

	f = fopen(path, "w");
	REQUIRE(f);
	fputs("<configuration><property><name>x</name>", f);
	fclose(f);
	CHECK_ERR(hdfsConnect("default", 0), EINVAL);
	unsetenv("HADOOP_CONF_DIR");
	CHECK_ERR(hdfsConnect("default", 0), EINVAL);
	CHECK(tu_rm_rf(dir) == 0);
	free(dir);
}

static void run(struct target *t, const sluice_format_options *fmt)
{
	tu_format(fmt);
	hdfsFS fs = connect_as(t, NULL);
	/* the process's user: the volume's default user */
	char user[256];
	hdfsFileInfo *root = hdfsGetPathInfo(fs, "/");
	REQUIRE(root && root->mKind == kObjectKindDirectory);
	CHECK(!strcmp(root->mName, "sluice://hdvol/"));
	hdfsFreeFileInfo(root, 1);
	char wd[300];
	REQUIRE(hdfsGetWorkingDirectory(fs, wd, sizeof(wd)));
	snprintf(user, sizeof(user), "%s", wd + strlen("sluice://hdvol/user/"));
	hdfsFS su = connect_as(t, "hdfs");
	CHECK_RC(hdfsChmod(su, "/", 0777), 0);
	CHECK_RC(hdfsDisconnect(su), 0);
	test_streams(fs, t);
	test_connect_threads(t);
	test_namespace(fs, user);
	test_users(t);
	test_core_site(t);
	CHECK_RC(hdfsDisconnect(fs), 0);
}

int main(void)
{
	char *dir = tu_tempdir("hdfs");
	struct target t = {.volume = "hdvol"};
	char bucket[1024];
	snprintf(t.meta, sizeof(t.meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	sluice_format_options fmt = {.meta_url = t.meta, .name = "hdvol", .storage = "file",
				     .bucket = bucket, .trash_days = 0};
	run(&t, &fmt);
	free(dir);

	const char *base_url = getenv("SLUICE_TEST_MYSQL_URL");
	if (base_url && *base_url) {
		const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
		struct tu_mysql_db db;
		tu_mysql_db_create(&db, "hdfs_test");
		snprintf(t.meta, sizeof(t.meta), "%s", db.url);
		snprintf(bucket, sizeof(bucket), "%s/hdfs-test-%d", endpoint, (int)getpid());
		fmt = (sluice_format_options){.meta_url = t.meta, .name = "hdvol", .storage = "minio",
					      .bucket = bucket,
					      .access_key = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY"),
					      .secret_key = tu_service_env("SLUICE_TEST_S3_SECRET_KEY"),
					      .compression = "lz4", .trash_days = 0};
		run(&t, &fmt);
		CHECK(tu_mysql_db_drop(&db) == 0);
	} else if (tu_services_required()) {
		fprintf(stderr, "SLUICE_TEST_MYSQL_URL is not set but services are required\n");
		return 1;
	} else {
		fprintf(stderr, "MariaDB+S3 part skipped: SLUICE_TEST_MYSQL_URL is not set\n");
	}
	return tu_finish("test_hdfs");
}
