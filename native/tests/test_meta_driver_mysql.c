/*
 * test_meta_driver_mysql.c - the MySQL driver against a real MariaDB (tests/env/mariadb.sh): the
 * shared driver conformance checks, plus what only a server has: connection errors, unix sockets,
 * the exact juicefs table layout, and connections killed by the server.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver_conformance.h"

static const struct sl_sql_driver *D = &sl_mysql_driver;

/* Connecting to url must fail with `expected`, and the message must not show `secret`. */
static void expect_connect_error(const char *what, const char *url, int expected,
				 const char *secret)
{
	struct sl_sql_url u;
	struct sl_err err = {0};
	memset(&u, 0, sizeof(u));
	int rc = sl_sql_url_parse(url, &u, &err);
	if (rc) {
		fprintf(stderr, "%s: parse failed: %s\n", what, err.msg);
		tu_failures++;
		return;
	}
	struct sl_sql_conn *c = NULL;
	sl_err_clear(&err);
	rc = D->connect(&u, &c, &err);
	printf("%s: rc %d: %s\n", what, rc, err.msg);
	CHECK_RC(rc, expected);
	CHECK_RC(err.code, expected);
	CHECK(c == NULL);
	CHECK(err.msg[0] != 0);
	if (secret && *secret && strstr(err.msg, secret)) {
		fprintf(stderr, "%s: the message shows the password\n", what);
		tu_failures++;
	}
	if (c)
		D->disconnect(c);
	sl_sql_url_free(&u);
}

static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd); /* nobody listens there now */
	return ntohs(a.sin_port);
}

static void test_connect_errors(const struct sl_sql_url *base)
{
	char url[1024];
	const char *wrong = "Wr0ngPassw0rd-x7";
	snprintf(url, sizeof(url), "mysql://%s:%s@(%s:%d)/%s", base->user, wrong, base->host,
		 base->port, base->database);
	expect_connect_error("wrong password", url, -EACCES, wrong);

	snprintf(url, sizeof(url), "mysql://%s:%s@(127.0.0.1:%d)/%s", base->user,
		 base->password ? base->password : "", closed_port(), base->database);
	expect_connect_error("closed port", url, -ECONNREFUSED, base->password);

	snprintf(url, sizeof(url), "mysql://%s:%s@(%s:%d)/sluice_no_such_database", base->user,
		 base->password ? base->password : "", base->host, base->port);
	expect_connect_error("unknown database", url, -ENOENT, base->password);

	snprintf(url, sizeof(url), "mysql://%s:%s@(no-such-host.invalid:3306)/x", base->user,
		 base->password ? base->password : "");
	expect_connect_error("unknown host", url, -EHOSTUNREACH, base->password);
}

/* The same server through its unix socket, when mariadb.sh told us where it is. */
static void test_unix_socket(const struct sl_sql_url *base)
{
	const char *sock = getenv("SLUICE_TEST_MYSQL_SOCKET");
	if (!sock || !*sock) {
		printf("unix socket: skipped (SLUICE_TEST_MYSQL_SOCKET not set)\n");
		return;
	}
	char url[1024];
	snprintf(url, sizeof(url), "mysql://%s:%s@unix(%s)/%s", base->user,
		 base->password ? base->password : "", sock, base->database);
	struct sl_sql_url u;
	struct sl_err err = {0};
	memset(&u, 0, sizeof(u));
	DC_OK(sl_sql_url_parse(url, &u, &err));
	struct sl_sql_conn *c = NULL;
	DC_OK(D->connect(&u, &c, &err));
	if (c) {
		struct dc_ctx t = {.d = D, .url = &u, .row_locks = true};
		int64_t one = 0;
		CHECK_RC(dc_i64(&t, c, &err, &one, "SELECT 1", NULL), 1);
		CHECK_RC(one, 1);
		D->disconnect(c);
	}
	sl_sql_url_free(&u);
}

/* What `juicefs format` 1.4.2 created on MariaDB 10.11 (information_schema, so that display widths
 * and SHOW CREATE TABLE spelling of other versions do not matter). */
static const struct {
	const char *table, *cols, *idx;
} jfs_layout[] = {
	{"jfs_acl", "id int auto, owner int null, group int null, mask int null, other int null, "
		    "named_users blob(65535) null, named_groups blob(65535) null",
	 "PRIMARY unique id"},
	{"jfs_change_log", "id bigint auto, entry text(65535)", "PRIMARY unique id"},
	{"jfs_chunk", "id bigint auto, inode bigint, indx int, slices blob(65535)",
	 "PRIMARY unique id, UQE_jfs_chunk_chunk unique inode, UQE_jfs_chunk_chunk unique indx"},
	{"jfs_chunk_ref", "chunkid bigint, size int, refs int",
	 "IDX_jfs_chunk_ref_refs refs, PRIMARY unique chunkid"},
	{"jfs_counter", "name varchar(255), value bigint", "PRIMARY unique name"},
	{"jfs_delegation_token", "id int auto, token blob(65535) null", "PRIMARY unique id"},
	{"jfs_delfile", "inode bigint, length bigint, expire bigint", "PRIMARY unique inode"},
	{"jfs_delslices", "chunkid bigint, deleted bigint, slices blob(65535)",
	 "PRIMARY unique chunkid"},
	{"jfs_detached_node", "inode bigint, added bigint", "PRIMARY unique inode"},
	{"jfs_dir_quota", "inode bigint, max_space bigint, max_inodes bigint, used_space bigint, "
			  "used_inodes bigint",
	 "PRIMARY unique inode"},
	{"jfs_dir_stats", "inode bigint, data_length bigint, used_space bigint, used_inodes bigint",
	 "PRIMARY unique inode"},
	{"jfs_edge", "id bigint auto, parent bigint, name varbinary(255), inode bigint, type int",
	 "IDX_jfs_edge_inode inode, PRIMARY unique id, UQE_jfs_edge_edge unique parent, "
	 "UQE_jfs_edge_edge unique name"},
	{"jfs_flock", "id bigint auto, inode bigint, sid bigint, owner bigint, ltype int",
	 "PRIMARY unique id, UQE_jfs_flock_flock unique inode, UQE_jfs_flock_flock unique sid, "
	 "UQE_jfs_flock_flock unique owner"},
	{"jfs_node", "inode bigint, type int, flags int, mode int, uid int, gid int, atime bigint, "
		     "mtime bigint, ctime bigint, atimensec int, mtimensec int, ctimensec int, "
		     "nlink int, length bigint, rdev int null, parent bigint null, "
		     "access_acl_id int null, default_acl_id int null, tier_id int null",
	 "PRIMARY unique inode"},
	{"jfs_plock", "id bigint auto, inode bigint, sid bigint, owner bigint, records blob(65535)",
	 "PRIMARY unique id, UQE_jfs_plock_plock unique inode, UQE_jfs_plock_plock unique sid, "
	 "UQE_jfs_plock_plock unique owner"},
	{"jfs_session2", "sid bigint, expire bigint, info blob(65535) null", "PRIMARY unique sid"},
	{"jfs_setting", "name varchar(255), value text(65535)", "PRIMARY unique name"},
	{"jfs_sustained", "id bigint auto, sid bigint, inode bigint",
	 "PRIMARY unique id, UQE_jfs_sustained_sustained unique sid, "
	 "UQE_jfs_sustained_sustained unique inode"},
	{"jfs_symlink", "inode bigint, target varbinary(4096)", "PRIMARY unique inode"},
	{"jfs_user_group_quota", "qtype int, qkey bigint, max_space bigint, max_inodes bigint, "
				 "used_space bigint, used_inodes bigint",
	 "PRIMARY unique qtype, PRIMARY unique qkey"},
	{"jfs_xattr", "id bigint auto, inode bigint, name varchar(255), value blob(65535)",
	 "PRIMARY unique id, UQE_jfs_xattr_name unique inode, UQE_jfs_xattr_name unique name"},
};

static void test_jfs_layout(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	DC_OK(D->exec(c, "SET SESSION group_concat_max_len = 100000", &err));
	static const char q[] =
		"SELECT c.table_name, GROUP_CONCAT(CONCAT(c.column_name, ' ', c.data_type, "
		"IFNULL(CONCAT('(', c.character_maximum_length, ')'), ''), "
		"IF(c.is_nullable = 'YES', ' null', ''), "
		"IF(c.extra LIKE '%auto_increment%', ' auto', '')) "
		"ORDER BY c.ordinal_position SEPARATOR ', '), "
		"(SELECT GROUP_CONCAT(CONCAT(s.index_name, IF(s.non_unique = 0, ' unique', ''), ' ', "
		"s.column_name) ORDER BY s.index_name, s.seq_in_index SEPARATOR ', ') "
		"FROM information_schema.statistics s "
		"WHERE s.table_schema = c.table_schema AND s.table_name = c.table_name) "
		"FROM information_schema.columns c "
		"WHERE c.table_schema = DATABASE() AND c.table_name LIKE 'jfs\\_%' "
		"GROUP BY c.table_name ORDER BY c.table_name";
	struct sl_sql_stmt *s = NULL;
	DC_OK(D->prepare(c, q, &s, &err));
	size_t n = 0, want = sizeof(jfs_layout) / sizeof(jfs_layout[0]);
	int rc;
	while (s && (rc = D->step(s, &err)) == 1) {
		size_t lt, lc, li;
		const char *tab = D->col_blob(s, 0, &lt);
		const char *cols = D->col_blob(s, 1, &lc);
		const char *idx = D->col_blob(s, 2, &li);
		if (n >= want) {
			fprintf(stderr, "unexpected table %.*s\n", (int)lt, tab);
			tu_failures++;
			continue;
		}
		bool same = lt == strlen(jfs_layout[n].table) && !memcmp(tab, jfs_layout[n].table, lt) &&
			    lc == strlen(jfs_layout[n].cols) && !memcmp(cols, jfs_layout[n].cols, lc) &&
			    li == strlen(jfs_layout[n].idx) && !memcmp(idx, jfs_layout[n].idx, li);
		if (!same) {
			fprintf(stderr, "layout differs from juicefs:\n  got  %.*s: %.*s | %.*s\n"
					"  want %s: %s | %s\n",
				(int)lt, tab, (int)lc, cols, (int)li, idx, jfs_layout[n].table,
				jfs_layout[n].cols, jfs_layout[n].idx);
			tu_failures++;
		}
		n++;
	}
	CHECK_RC(n, want);
	D->finalize(s);
	/* Tables are InnoDB (transactions, row locks). */
	int64_t other = -1;
	CHECK_RC(dc_i64(t, c, &err, &other, "SELECT COUNT(*) FROM information_schema.tables WHERE "
			"table_schema = DATABASE() AND table_name LIKE 'jfs\\_%' AND engine <> 'InnoDB'",
			NULL), 1);
	CHECK_RC(other, 0);
	D->disconnect(c);
}

/* A connection the server killed reports -ENOTCONN (retryable: the pool opens a new one), found
 * by ping or by the next statement, also one prepared before the kill. */
static void kill_conn(const struct dc_ctx *t, struct sl_sql_conn *killer, struct sl_sql_conn *victim)
{
	struct sl_err err = {0};
	int64_t id = 0;
	CHECK_RC(dc_i64(t, victim, &err, &id, "SELECT CONNECTION_ID()", NULL), 1);
	char sql[64];
	snprintf(sql, sizeof(sql), "KILL CONNECTION %" PRId64, id);
	DC_OK(D->exec(killer, sql, &err));
	dc_sleep_ms(100);
}

static void test_killed_connection(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *killer = dc_connect(t);

	struct sl_sql_conn *v = dc_connect(t);
	kill_conn(t, killer, v);
	int rc = D->ping(v, &err);
	printf("ping on a killed connection: rc %d: %s\n", rc, err.msg);
	CHECK_RC(rc, -ENOTCONN);
	sl_err_clear(&err);
	struct sl_sql_stmt *s = NULL;
	CHECK_RC(D->prepare(v, "SELECT 1", &s, &err), -ENOTCONN);
	CHECK(s == NULL);
	D->rollback(v); /* harmless */
	D->disconnect(v);

	v = dc_connect(t);
	int64_t one = 0;
	const char *q = "SELECT 1 FROM dual WHERE ? = 1";
	CHECK_RC(dc_i64(t, v, &err, &one, q, "i", (int64_t)1), 1); /* now cached */
	kill_conn(t, killer, v);
	sl_err_clear(&err);
	rc = dc_i64(t, v, &err, &one, q, "i", (int64_t)1);
	printf("statement on a killed connection: rc %d: %s\n", rc, err.msg);
	CHECK_RC(rc, -ENOTCONN);
	CHECK_RC(D->ping(v, &err), -ENOTCONN);
	D->disconnect(v);

	v = dc_connect(t);
	kill_conn(t, killer, v);
	sl_err_clear(&err);
	rc = D->begin(v, true, &err);
	printf("begin on a killed connection: rc %d: %s\n", rc, err.msg);
	CHECK_RC(rc, -ENOTCONN);
	D->rollback(v);
	D->disconnect(v);

	DC_OK(D->ping(killer, &err));
	D->disconnect(killer);
}

/* Lock wait timeout is a deadlock for our purposes: retry the transaction. */
static void test_lock_wait_timeout(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *a = dc_connect(t), *b = dc_connect(t);
	dc_make_tables(t, a);
	DC_OK(dc_do(t, a, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (1, 0)", NULL));
	DC_OK(D->exec(b, "SET SESSION innodb_lock_wait_timeout = 1", &err));
	DC_OK(D->begin(a, true, &err));
	DC_OK(dc_do(t, a, &err, NULL, "UPDATE dc_c SET v = 1 WHERE id = 1", NULL));
	DC_OK(D->begin(b, true, &err));
	sl_err_clear(&err);
	int rc = dc_do(t, b, &err, NULL, "UPDATE dc_c SET v = 2 WHERE id = 1", NULL);
	printf("lock wait timeout: rc %d: %s\n", rc, err.msg);
	CHECK_RC(rc, -EDEADLK);
	D->rollback(b);
	D->rollback(a);
	D->disconnect(a);
	D->disconnect(b);
}

/* The base URL with another database name. */
static char *url_with_db(const char *url, const char *db)
{
	const char *q = strchr(url, '?');
	const char *end = q ? q : url + strlen(url);
	const char *slash = end;
	while (slash > url && *slash != '/')
		slash--;
	REQUIRE(*slash == '/' && slash > url && slash[-1] == ')');
	size_t n = (size_t)(slash - url) + 1 + strlen(db) + strlen(end) + 1;
	char *out = malloc(n);
	REQUIRE(out);
	snprintf(out, n, "%.*s/%s%s", (int)(slash - url), url, db, end);
	return out;
}

int main(void)
{
	const char *env = tu_service_env("SLUICE_TEST_MYSQL_URL");
	struct sl_sql_url base, u;
	struct sl_err err = {0};
	memset(&base, 0, sizeof(base));
	memset(&u, 0, sizeof(u));
	int rc = sl_sql_url_parse(env, &base, &err);
	if (rc)
		fprintf(stderr, "SLUICE_TEST_MYSQL_URL: %s\n", err.msg);
	REQUIRE(rc == 0);
	REQUIRE(base.host && base.database && base.user);

	/* A database of our own, so runs never see each other's tables. */
	char db[64];
	snprintf(db, sizeof(db), "sluice_dc_%d", (int)getpid());
	struct dc_ctx admin = {.d = D, .url = &base, .row_locks = true};
	struct sl_sql_conn *c = dc_connect(&admin);
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
	dc_exec(&admin, c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	dc_exec(&admin, c, sql);

	char *url = url_with_db(env, db);
	rc = sl_sql_url_parse(url, &u, &err);
	REQUIRE(rc == 0);
	CHECK(strstr(u.redacted, base.password ? base.password : "\001") == NULL);
	struct dc_ctx t = {.d = D, .url = &u, .row_locks = true};

	dc_run_all(&t);
	int before = tu_failures;
	test_jfs_layout(&t); /* dc_test_schema created the tables */
	test_connect_errors(&base);
	test_unix_socket(&base);
	test_killed_connection(&t);
	test_lock_wait_timeout(&t);
	printf("[mysql] server specifics: %s\n", tu_failures == before ? "ok" : "FAILED");

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
	dc_exec(&admin, c, sql);
	D->disconnect(c);
	sl_sql_url_free(&u);
	sl_sql_url_free(&base);
	free(url);
	return tu_finish("test_meta_driver_mysql");
}
