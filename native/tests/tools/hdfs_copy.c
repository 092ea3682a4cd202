/* hdfs_copy.c - copies one file into or out of a Sluice volume through the libhdfs API of
 * libsluice-hdfs.so, so that other clients (the Java FileSystem, juicefs) can be checked against
 * what libhdfs wrote, and libhdfs against what they wrote. Settings come from core-site.xml in
 * HADOOP_CONF_DIR, as for any libhdfs program.
 *   usage: hdfs_copy put LOCAL sluice://VOLUME/PATH
 *          hdfs_copy get sluice://VOLUME/PATH LOCAL
 * Exits 0, or 1 with the reason on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdfs.h"

#define BUF_SIZE (1 << 20)

/* "sluice://VOLUME/PATH": the name node "sluice://VOLUME" and the path. */
static int split_uri(const char *uri, char *nn, size_t size, const char **path)
{
	const char *scheme = "sluice://";
	if (strncmp(uri, scheme, strlen(scheme)))
		return -1;
	const char *slash = strchr(uri + strlen(scheme), '/');
	if (!slash || (size_t)(slash - uri) >= size)
		return -1;
	memcpy(nn, uri, (size_t)(slash - uri));
	nn[slash - uri] = 0;
	*path = slash;
	return 0;
}

static int fail(const char *what, const char *name)
{
	fprintf(stderr, "hdfs_copy: %s %s: %s\n", what, name, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "put") && strcmp(argv[1], "get"))) {
		fprintf(stderr, "usage: hdfs_copy put LOCAL sluice://VOLUME/PATH\n"
				"       hdfs_copy get sluice://VOLUME/PATH LOCAL\n");
		return 2;
	}
	bool put = !strcmp(argv[1], "put");
	const char *uri = put ? argv[3] : argv[2], *local = put ? argv[2] : argv[3];
	char nn[512];
	const char *path;
	if (split_uri(uri, nn, sizeof(nn), &path)) {
		fprintf(stderr, "hdfs_copy: '%s' is not sluice://VOLUME/PATH\n", uri);
		return 2;
	}
	hdfsFS fs = hdfsConnect(nn, 0);
	if (!fs)
		return fail("connecting to", nn);
	FILE *lf = fopen(local, put ? "rb" : "wb");
	if (!lf) {
		hdfsDisconnect(fs);
		return fail("opening", local);
	}
	hdfsFile hf = hdfsOpenFile(fs, path, put ? O_WRONLY : O_RDONLY, 0, 0, 0);
	char *buf = malloc(BUF_SIZE);
	int rc = !hf ? fail("opening", uri) : !buf ? fail("allocating", "a buffer") : 0;
	while (!rc) {
		if (put) {
			size_t n = fread(buf, 1, BUF_SIZE, lf);
			if (n && hdfsWrite(fs, hf, buf, (tSize)n) != (tSize)n)
				rc = fail("writing", uri);
			else if (n < BUF_SIZE && ferror(lf))
				rc = fail("reading", local);
			if (n < BUF_SIZE)
				break;
		} else {
			tSize n = hdfsRead(fs, hf, buf, BUF_SIZE);
			if (n < 0)
				rc = fail("reading", uri);
			else if (n && fwrite(buf, 1, (size_t)n, lf) != (size_t)n)
				rc = fail("writing", local);
			if (n <= 0)
				break;
		}
	}
	if (hf && hdfsCloseFile(fs, hf) && !rc)
		rc = fail("closing", uri);
	if (fclose(lf) && !rc)
		rc = fail("closing", local);
	free(buf);
	if (hdfsDisconnect(fs) && !rc)
		rc = fail("disconnecting from", nn);
	return rc;
}
