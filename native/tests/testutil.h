/*
 * testutil.h - the few helpers the C tests share: CHECK macros that report file:line and fail
 * the test, and access to the services make test starts (S3 server, MariaDB).
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int tu_failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			tu_failures++;                                                     \
		}                                                                          \
	} while (0)

/* CHECK_RC(expr, expected): integer result with the actual value in the message. */
#define CHECK_RC(expr, expected)                                                           \
	do {                                                                               \
		long long tu_rc_ = (long long)(expr);                                      \
		if (tu_rc_ != (long long)(expected)) {                                     \
			fprintf(stderr, "%s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, \
				#expr, tu_rc_, (long long)(expected));                     \
			tu_failures++;                                                     \
		}                                                                          \
	} while (0)

/* Stops the test at once (for setup that later checks depend on). */
#define REQUIRE(cond)                                                                      \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* Whether make test requires the services (SLUICE_TEST_REQUIRE_SERVICES=1): a test whose
 * services are missing then fails instead of skipping. */
static inline bool tu_services_required(void)
{
	const char *req = getenv("SLUICE_TEST_REQUIRE_SERVICES");
	return req && !strcmp(req, "1");
}

/* Returns the value of a service variable, or exits with 77 (skip) if it is unset, or with 1 if
 * make test requires the services. */
static inline const char *tu_service_env(const char *name)
{
	const char *v = getenv(name);
	if (v && *v)
		return v;
	if (tu_services_required()) {
		fprintf(stderr, "%s is not set but services are required\n", name);
		exit(1);
	}
	fprintf(stderr, "skipping: %s is not set (run through make test)\n", name);
	exit(77);
}

/* A database of the test's own on make test's MariaDB, named PREFIX_<pid>; url is
 * SLUICE_TEST_MYSQL_URL with that database in place of the service's. */
struct tu_mysql_db {
	char name[64];
	char url[1024];
};

/* Runs one statement through SLUICE_TEST_MYSQL_ADMIN: system()'s status. */
static inline int tu_mysql_admin(const char *statement, const char *name)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s -e '%s %s'", tu_service_env("SLUICE_TEST_MYSQL_ADMIN"),
		 statement, name);
	return system(cmd);
}

static inline void tu_mysql_db_create(struct tu_mysql_db *db, const char *prefix)
{
	const char *base = tu_service_env("SLUICE_TEST_MYSQL_URL");
	snprintf(db->name, sizeof(db->name), "%s_%d", prefix, (int)getpid());
	REQUIRE(tu_mysql_admin("CREATE DATABASE", db->name) == 0);
	const char *slash = strrchr(base, '/');
	REQUIRE(slash != NULL);
	snprintf(db->url, sizeof(db->url), "%.*s/%s", (int)(slash - base), base, db->name);
}

/* system()'s status: the caller checks it. */
static inline int tu_mysql_db_drop(const struct tu_mysql_db *db)
{
	return tu_mysql_admin("DROP DATABASE", db->name);
}

/* A fresh private directory under $TMPDIR for one test. Caller frees. */
static inline char *tu_tempdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/sluice-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	char *d = mkdtemp(tmpl);
	REQUIRE(d != NULL);
	return strdup(d);
}

/* Removes a directory tree: system()'s status, for the caller to check or report. */
static inline int tu_rm_rf(const char *path)
{
	size_t size = strlen(path) + sizeof("rm -rf ''");
	char *cmd = malloc(size);
	REQUIRE(cmd != NULL);
	snprintf(cmd, size, "rm -rf '%s'", path);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

/* A TCP port free on the loopback address addr (e.g. 127.0.0.2) when called. */
static inline int tu_free_port(const char *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	REQUIRE(inet_pton(AF_INET, addr, &a.sin_addr) == 1);
	socklen_t len = sizeof(a);
	REQUIRE(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
		!getsockname(fd, (struct sockaddr *)&a, &len));
	close(fd);
	return ntohs(a.sin_port);
}

/* Runs argv (argv[0] a path, NULL-terminated) in a child process whose stdout comes back in *out
 * (the caller reads it, reaps the child and fcloses *out): the child's pid. */
static inline pid_t tu_spawn(char *const argv[], FILE **out)
{
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	REQUIRE(*out != NULL);
	return pid;
}

/* Runs argv, a writer whose threads print "THREAD END" for each record they had acknowledged,
 * until it printed `after` such lines, then kills it with SIGKILL and reaps it, checking both:
 * acked[t] (for threads 0..nthreads-1) gets thread t's highest acknowledged end. */
static inline void tu_kill_after_acks(char *const argv[], int nthreads, int after, size_t *acked)
{
	FILE *out;
	pid_t pid = tu_spawn(argv, &out);
	int t, n = 0;
	size_t end;
	memset(acked, 0, (size_t)nthreads * sizeof(*acked));
	while (n < after && fscanf(out, "%d %zu", &t, &end) == 2 && t >= 0 && t < nthreads) {
		acked[t] = end > acked[t] ? end : acked[t];
		n++;
	}
	kill(pid, SIGKILL);
	int status = 0;
	waitpid(pid, &status, 0);
	fclose(out);
	CHECK_RC(n, after);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static inline int tu_finish(const char *name)
{
	if (tu_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, tu_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
