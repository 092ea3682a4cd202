/*
 * test_gateway_grants.c - what a modified Kerberos client cannot learn or do through the gateway,
 * on the production stack: a gateway in this process serves a MariaDB + S3 volume, alice and bob
 * send hand-made requests. Bob cannot read the counters that name the next ids, nor settings
 * other than the user registry. Error texts that name SQL or the database reach the gateway's
 * log, not the client.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/internal.h"
#include "rpc/conn.h"
#include "rpc/proto.h"
#include "sluice.h"
#include "testutil.h"

#define VOL "gwgrants"
#define SERVICE "sluice/localhost@SLUICE.TEST"
#define MiB (1u << 20)

static const char *kdir, *admin;
static char db[64];

struct served {
	struct sl_gateway *gw;
	pthread_t t;
	int port;
	char url[64];
};
static struct served gw_a;

static void *run_gateway(void *arg)
{
	struct served *s = arg;
	sl_gateway_run(s->gw);
	return NULL;
}

static void serve(struct served *s, const char *meta, const char *rcache)
{
	char keytab[1100], msg[1024];
	snprintf(keytab, sizeof(keytab), "%s/gateway.keytab", kdir);
	sluice_kv conf[] = {
		{"meta", meta},
		{"gateway.listen", "127.0.0.1:0"},
		{"gateway.keytab", keytab},
		{"gateway.principal", SERVICE},
		{"gateway.rcache", rcache},
		{"superuser", "hdfs"},
		{"group-mapping.static", "alice=alice;bob=bob;hive=hive"},
		{"proxyuser.hive.hosts", "127.0.0.1"},
		{"proxyuser.hive.users", "alice"},
	};
	if (sl_gateway_new(conf, sizeof(conf) / sizeof(conf[0]), &s->gw, msg, sizeof(msg))) {
		fprintf(stderr, "gateway: %s\n", msg);
		exit(1);
	}
	s->port = sl_gateway_port(s->gw);
	snprintf(s->url, sizeof(s->url), "gateway://127.0.0.1:%d", s->port);
	REQUIRE(pthread_create(&s->t, NULL, run_gateway, s) == 0);
}

static void unserve(struct served *s)
{
	sl_gateway_stop(s->gw);
	pthread_join(s->t, NULL);
	sl_gateway_free(s->gw);
}

/* An ordinary client of who (keytab login, no bucket keys); with cache_dir, hflush stages. */
static sluice_volume *client(const char *who, const struct served *s, const char *cache_dir)
{
	char keytab[1024], msg[1024];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", s->url},
		{"gateway.principal", SERVICE},
		{"kerberos.keytab", keytab},
		{"io-timeout", "10"},
		{"get-timeout", "2"},
		{"cache-dir", cache_dir},
	};
	sluice_volume *v = NULL;
	if (sluice_init(conf, cache_dir ? 6 : 5, &v, msg, sizeof(msg))) {
		fprintf(stderr, "client %s: %s\n", who, msg);
		return NULL;
	}
	return v;
}

/* ---- the modified client: hand-made requests ------------------------------------------------ */

struct raw {
	struct sl_rpc_conn c;
	char msg[1024]; /* the message of the last failure */
};

static void raw_open(struct raw *x, const char *who, const struct served *s)
{
	char keytab[1100], port[16];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	snprintf(port, sizeof(port), "%d", s->port);
	struct sl_gss_client_conf gc = {.service = SERVICE, .keytab = keytab};
	x->c = (struct sl_rpc_conn){.fd = -1, .max_frame = 16 * MiB, .timeout_ms = 10000};
	struct sl_err err = {0};
	void *m = NULL;
	size_t len = 0;
	if (sl_rpc_connect("127.0.0.1", port, 5000, &x->c.fd, &err) ||
	    sl_rpc_client_handshake(&x->c, &gc, &err) || sl_rpc_recv(&x->c, 10000, &m, &len, &err)) {
		fprintf(stderr, "raw %s: %s\n", who, err.msg);
		exit(1);
	}
	struct sl_rbuf r = sl_rbuf_of(m, len);
	REQUIRE(sl_r_u32(&r) == 0);
	free(m);
}

static void raw_close(struct raw *x) { sl_rpc_conn_close(&x->c); }

static void begin(struct sl_wbuf *w, uint16_t op, const char *acting)
{
	*w = (struct sl_wbuf){0};
	sl_w_u16(w, op);
	sl_w_str(w, acting);
}

/* Sends req (freed) and returns the status; the results follow in *r, whose bytes *resp owns (NULL
 * r: none wanted). The message of a failure goes to x->msg. */
static int call(struct raw *x, struct sl_wbuf *req, void **resp, struct sl_rbuf *r)
{
	struct sl_err err = {0};
	size_t len = 0;
	void *p = NULL;
	x->msg[0] = 0;
	int rc = sl_rpc_send(&x->c, req, &err);
	sl_wbuf_free(req);
	if (!rc)
		rc = sl_rpc_recv(&x->c, 10000, &p, &len, &err);
	if (rc) {
		fprintf(stderr, "transport: %s\n", err.msg);
		exit(1);
	}
	struct sl_rbuf rb = sl_rbuf_of(p, len);
	int32_t status = (int32_t)sl_r_u32(&rb);
	if (status) {
		const char *text = sl_r_str(&rb, 1024);
		snprintf(x->msg, sizeof(x->msg), "%s", text ? text : "");
	}
	if (r) {
		*r = rb;
		*resp = p;
	} else {
		free(p);
	}
	return status;
}

/* NEXT_IDS of counter with delta; the value into *v. */
static int counter(struct raw *x, const char *name, int64_t delta, int64_t *v)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&w, name);
	sl_w_i64(&w, delta);
	void *resp;
	struct sl_rbuf r;
	int rc = call(x, &w, &resp, &r);
	if (!rc)
		*v = sl_r_i64(&r);
	free(resp);
	return rc;
}

static int get_setting(struct raw *x, const char *name)
{
	struct sl_wbuf w;
	begin(&w, SL_OP_GET_SETTING, NULL);
	sl_w_str(&w, name);
	return call(x, &w, NULL, NULL);
}

/* ---- the volume as the gateway sees it ------------------------------------------------------ */

static sl_ino inode_of(sluice_volume *v, const char *path)
{
	sluice_stat st;
	CHECK_RC(sluice_stat_path(v, NULL, path, &st), 0);
	return st.inode;
}

/* ---- files ---------------------------------------------------------------------------------- */

static uint8_t byte_at(uint64_t off, unsigned seed)
{
	uint64_t x = (off + seed) * 0x9E3779B97F4A7C15ULL;
	return (uint8_t)(x >> 29);
}

static int write_pattern(sluice_volume *v, const char *path, size_t len, unsigned seed,
			 uint32_t mode)
{
	sluice_file *f;
	int rc = sluice_open(v, NULL, path, SLUICE_O_CREATE | SLUICE_O_OVERWRITE, mode, 0, &f);
	if (rc)
		return rc;
	uint8_t *buf = malloc(len);
	REQUIRE(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(i, seed);
	ssize_t w = sluice_write(f, buf, len);
	free(buf);
	int crc = sluice_close(f);
	return w != (ssize_t)len ? (w < 0 ? (int)w : -EIO) : crc;
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* The counters that name the next inode and slice ids are nobody's to read; usage is. */
static void test_counters(void)
{
	struct raw b;
	raw_open(&b, "bob", &gw_a);
	int64_t v = -1;
	CHECK_RC(counter(&b, "nextChunk", 0, &v), -EPERM);
	CHECK(strstr(b.msg, "not readable") != NULL);
	CHECK_RC(counter(&b, "nextInode", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "nextSession", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "nextTrash", 0, &v), -EPERM);
	CHECK_RC(counter(&b, "usedSpace", 1, &v), -EPERM);
	CHECK_RC(counter(&b, "usedSpace", 0, &v), 0);
	CHECK_RC(counter(&b, "totalInodes", 0, &v), 0);
	/* nor the secret the grants are made with, nor other settings */
	CHECK_RC(get_setting(&b, "sluice.grant-secret"), -EPERM);
	CHECK_RC(get_setting(&b, "format"), -EPERM);
	CHECK_RC(get_setting(&b, "sluice.uid.1073741824"), -ENOENT); /* the registry is readable */
	raw_close(&b);

	/* statfs through an ordinary client still works */
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	sluice_statfs sf;
	CHECK_RC(sluice_mkdir(a, NULL, "/counted", 0755, 0), 0);
	CHECK_RC(sluice_statfs_get(a, &sf), 0);
	CHECK(sf.inodes_used >= 1);
	sluice_shutdown(a);
}

/* Runs fn with stderr (the gateway's log) going to file; returns what was logged. */
static char *logged_during(const char *file, int (*fn)(void *), void *arg, int *rc)
{
	fflush(stderr);
	int saved = dup(2);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	*rc = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	FILE *in = fopen(file, "r");
	REQUIRE(in);
	static char text[64 << 10];
	size_t len = fread(text, 1, sizeof(text) - 1, in);
	text[len] = 0;
	fclose(in);
	return strdup(text);
}

static void sql(const char *statement)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s %s -e '%s'", admin, db, statement);
	REQUIRE(system(cmd) == 0);
}

struct xattr_call {
	struct raw *x;
	sl_ino ino;
	const char *name;
	bool set;
};

static int xattr_op(void *arg)
{
	struct xattr_call *c = arg;
	struct sl_wbuf w;
	begin(&w, c->set ? SL_OP_SETXATTR : SL_OP_GETXATTR, NULL);
	sl_w_u64(&w, c->ino);
	sl_w_str(&w, c->name);
	if (c->set) {
		sl_w_bytes(&w, "same", 4);
		sl_w_u32(&w, 0);
	}
	return call(c->x, &w, NULL, NULL);
}

/* The client's message names no SQL, table, database address or driver text, but a request id
 * that the gateway's log holds with the full text. */
static void check_hidden(const char *msg, const char *log, const char *detail)
{
	static const char *const leaks[] = {"mysql", "jfs_", "SELECT", "INSERT", "127.0.0.1",
					    "root", "error 1", "Duplicate", "doesn't"};
	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
		if (strstr(msg, leaks[i])) {
			fprintf(stderr, "the client's message shows '%s': %s\n", leaks[i], msg);
			CHECK(false);
		}
	CHECK(strstr(msg, db) == NULL);
	const char *at = strstr(msg, "under request ");
	REQUIRE(at);
	char id[32] = "";
	sscanf(at + strlen("under request "), "%16[0-9a-f]", id);
	CHECK(strlen(id) == 16);
	char want[64];
	snprintf(want, sizeof(want), "request %s ", id);
	const char *line = strstr(log, want);
	CHECK(line != NULL);
	if (line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		CHECK(memmem(line, len, detail, strlen(detail)) != NULL);
		CHECK(memmem(line, len, "alice", 5) != NULL);
	}
}

/* Errors of the database reach the client as their errno, a generic text and a request id;
 * the full text (statement, database address, the server's words) goes to the gateway's log.
 * Answers about the request itself keep their words. */
static void test_error_texts(const char *dir)
{
	sluice_volume *a = client("alice", &gw_a, NULL);
	REQUIRE(a);
	CHECK_RC(sluice_mkdir(a, NULL, "/e", 0700, 0), 0);
	CHECK_RC(write_pattern(a, "/e/x", 10, 11, 0600), 0);
	sl_ino ino = inode_of(a, "/e/x");
	sluice_shutdown(a);
	struct raw al, b;
	raw_open(&al, "alice", &gw_a);
	raw_open(&b, "bob", &gw_a);
	char logfile[1100];
	snprintf(logfile, sizeof(logfile), "%s/gateway-log", dir);

	/* a database error of an I/O class: the table is gone */
	sql("ALTER TABLE jfs_xattr RENAME TO jfs_xattr_away");
	struct xattr_call get = {.x = &al, .ino = ino, .name = "user.k"};
	int rc;
	char *log = logged_during(logfile, xattr_op, &get, &rc);
	sql("ALTER TABLE jfs_xattr_away RENAME TO jfs_xattr");
	CHECK_RC(rc, -EIO);
	check_hidden(al.msg, log, "jfs_xattr");
	free(log);

	/* a database error of a class a client may see (a unique key the operation did not
	 * expect): the errno stays, the words do not */
	sql("CREATE UNIQUE INDEX grants_test ON jfs_xattr (value(8))");
	struct xattr_call set1 = {.x = &al, .ino = ino, .name = "user.a", .set = true};
	struct xattr_call set2 = {.x = &al, .ino = ino, .name = "user.b", .set = true};
	CHECK_RC(xattr_op(&set1), 0);
	log = logged_during(logfile, xattr_op, &set2, &rc);
	sql("DROP INDEX grants_test ON jfs_xattr");
	CHECK_RC(rc, -EEXIST);
	check_hidden(al.msg, log, "Duplicate");
	free(log);

	/* answers about the request keep their words */
	get.x = &b;
	CHECK_RC(xattr_op(&get), -EACCES);
	CHECK(strstr(b.msg, "ermission denied") != NULL && strstr(b.msg, "request") == NULL);
	get.x = &al;
	CHECK_RC(xattr_op(&get), -ENODATA);
	CHECK(strstr(al.msg, "user.k") != NULL);
	CHECK_RC(xattr_op(&set2), 0); /* the index is gone: the volume works again */
	raw_close(&al);
	raw_close(&b);
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	const char *base_url = tu_service_env("SLUICE_TEST_MYSQL_URL");
	admin = tu_service_env("SLUICE_TEST_MYSQL_ADMIN");
	const char *endpoint = tu_service_env("SLUICE_TEST_S3_ENDPOINT");
	const char *ak = tu_service_env("SLUICE_TEST_S3_ACCESS_KEY");
	const char *sk = tu_service_env("SLUICE_TEST_S3_SECRET_KEY");
	char *dir = tu_tempdir("gwgrants");
	char cmd[2048], meta[1024], bucket[1024], rc1[1100], msg[1024];
	snprintf(db, sizeof(db), "gwgrants_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s -e 'CREATE DATABASE %s'", admin, db);
	REQUIRE(system(cmd) == 0);
	const char *slash = strrchr(base_url, '/');
	REQUIRE(slash);
	snprintf(meta, sizeof(meta), "%.*s/%s", (int)(slash - base_url), base_url, db);
	snprintf(bucket, sizeof(bucket), "%s/gwgrants-%ld-%ld", endpoint, (long)getpid(),
		 (long)time(NULL));
	sluice_format_options fo = {.meta_url = meta, .name = VOL, .storage = "minio",
				    .bucket = bucket, .access_key = ak, .secret_key = sk,
				    .trash_days = 0};
	if (sluice_format(&fo, msg, sizeof(msg))) {
		fprintf(stderr, "format: %s\n", msg);
		return 1;
	}
	snprintf(rc1, sizeof(rc1), "%s/rcache1", dir);
	serve(&gw_a, meta, rc1);

	test_counters();
	test_error_texts(dir);

	unserve(&gw_a);
	snprintf(cmd, sizeof(cmd), "%s -e 'DROP DATABASE %s'", admin, db);
	CHECK(system(cmd) == 0);
	free(dir);
	return tu_finish("test_gateway_grants");
}
