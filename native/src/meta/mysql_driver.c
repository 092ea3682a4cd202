/*
 * mysql_driver.c - the SQL driver for MySQL, MariaDB (also as a Galera cluster) and TiDB through the
 * MySQL client API (MariaDB Connector/C): connections, a per-connection cache of prepared
 * statements, and the tables exactly as `juicefs format` creates them on these servers.
 *
 * Statements always buffer their whole result on the client (mysql_stmt_store_result, or
 * mysql_store_result for one sent as text), so several statements may be open on one connection
 * at once, as SQLite allows. A write transaction's BEGIN, operation id and deferred writes wait on
 * the connection and travel with its next query (see "deferred statements"). `changes` counts matched rows
 * (CLIENT_FOUND_ROWS), as SQLite's does, not only rows whose values changed.
 */
#include "sql_driver.h"
#include "sql_stmt_cache.h"
#include "../util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

#define CONNECT_TIMEOUT_S 10
#define READ_TIMEOUT_S 30
#define WRITE_TIMEOUT_S 30
#define MAX_PACKET (1UL << 30)
/* Idle prepared statements kept per connection; each also holds server memory, and the server
 * caps the total (max_prepared_stmt_count), so dynamic SQL must not grow the cache unbounded. */
#define STMT_CACHE_MAX 128
/* First buffer of a text/blob column; longer values grow it (see fetch_row). */
#define COL_BUF_INIT 256
/* A cached statement does not keep column buffers bigger than this (one huge value once). */
#define COL_BUF_KEEP (256 << 10)
/* How much of a statement's SQL goes into error messages. */
#define SQL_IN_MSG 120

struct sl_sql_conn {
	MYSQL *my;
	char where[200];   /* user@(host:port)/db for messages; never the password */
	bool broken;       /* the server connection is gone: statements are not cached any more */
	bool galera;       /* the server is a node of a Galera cluster (join_causal_reads) */
	struct sl_sql_stmt_cache idle;
	/* Statements deferred to the next query (my_defer, my_begin_op), sent in front of it in
	 * the same round trip; op_at numbers the operation id's INSERT among them (0: none), and
	 * *op_taken is set when that INSERT finds the id taken; *changed_out gets the changed rows
	 * of statement changed_at (0: none). */
	struct sl_strbuf pending;
	int npending, op_at, changed_at;
	bool *op_taken;
	int64_t *changed_out;
};

struct param {
	int64_t i;
	char *buf; /* copy of blob/text data */
	size_t cap;
	unsigned long len;
};

struct col {
	int64_t i;     /* integer and decimal columns */
	char *buf;     /* other columns, NUL-terminated; allocated cap + 1 */
	size_t cap;
	unsigned long len;
	my_bool is_null, error;
	bool numeric, is_unsigned;
	char text[24]; /* an integer column read as blob */
};

enum stmt_state { ST_READY, ST_ROWS, ST_DONE };

struct sl_sql_stmt {
	struct sl_sql_idle idle; /* in c->idle between uses; idle.sql is sql */
	struct sl_sql_conn *c;
	MYSQL_STMT *st;
	char *sql;
	unsigned nparams;
	MYSQL_BIND *pbind;
	struct param *pv;
	unsigned ncols, cols_cap;
	MYSQL_BIND *rbind;
	struct col *cv;
	enum stmt_state state;
	int64_t changes;
	MYSQL_RES *res; /* rows read through the text protocol (run_as_text), else NULL */
};

/* ---- library and thread initialisation -------------------------------------------------------
 * mysql_library_init is not thread-safe and must run once per process before any mysql_init; the
 * client library also wants mysql_thread_init in every thread that uses it and mysql_thread_end
 * before that thread exits (libmysqlclient keeps per-thread state; Connector/C 3 tolerates both).
 * This is process state by nature, so it lives here, written once under pthread_once. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;
static pthread_key_t thread_key;
static char thread_marker;

static void thread_end(void *p)
{
	(void)p;
	mysql_thread_end();
}

static void lib_init_once(void)
{
	if (mysql_library_init(0, NULL, NULL)) {
		lib_rc = -EIO;
		return;
	}
	if (pthread_key_create(&thread_key, thread_end))
		lib_rc = -EAGAIN;
}

/* Called on every entry point that may be the first use of the library in this thread. */
static int enter(struct sl_err *err)
{
	pthread_once(&lib_once, lib_init_once);
	if (lib_rc)
		return sl_errf(err, lib_rc, "initialising the MySQL client library failed");
	if (!pthread_getspecific(thread_key)) {
		if (mysql_thread_init())
			return sl_errf(err, -ENOMEM, "mysql_thread_init failed");
		if (pthread_setspecific(thread_key, &thread_marker)) {
			mysql_thread_end();
			return sl_errf(err, -ENOMEM, "pthread_setspecific failed");
		}
	}
	return 0;
}

/* ---- errors ------------------------------------------------------------------------------------ */

/* Server (1xxx, 4xxx, TiDB 8xxx/9xxx) and client (2xxx) error numbers, mapped as sql_driver.h says. */
static int map_errno(unsigned e)
{
	switch (e) {
	case 1213: /* ER_LOCK_DEADLOCK */
	case 1205: /* ER_LOCK_WAIT_TIMEOUT */
	case 1020: /* ER_CHECKREAD: MariaDB innodb_snapshot_isolation write conflict */
	case 8002: /* TiDB: cannot retry SELECT FOR UPDATE */
	case 8022: /* TiDB: transaction commit failed, try again later */
	case 8028: /* TiDB: information schema changed during the transaction */
	case 9007: /* TiDB: write conflict */
		return -EDEADLK;
	case 1047: /* ER_UNKNOWN_COM_ERROR: a Galera node out of the primary component, or not yet
		    * synced, refuses work until it is back */
	case 2006: /* CR_SERVER_GONE_ERROR */
	case 2013: /* CR_SERVER_LOST */
	case 2055: /* CR_SERVER_LOST_EXTENDED */
	case 1040: /* ER_CON_COUNT_ERROR: too many connections */
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 1158: case 1159: case 1160: case 1161: /* ER_NET_*: network read/write errors */
	case 1927: /* ER_CONNECTION_KILLED */
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8) */
		return -ENOTCONN;
	case 2002: /* CR_CONNECTION_ERROR (socket) */
	case 2003: /* CR_CONN_HOST_ERROR */
		return -ECONNREFUSED;
	case 2005: /* CR_UNKNOWN_HOST */
		return -EHOSTUNREACH;
	case 1044: /* ER_DBACCESS_DENIED_ERROR */
	case 1045: /* ER_ACCESS_DENIED_ERROR */
	case 1698: /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */
	case 1142: /* ER_TABLEACCESS_DENIED_ERROR */
		return -EACCES;
	case 1049: /* ER_BAD_DB_ERROR */
		return -ENOENT;
	case 1062: /* ER_DUP_ENTRY */
	case 1586: /* ER_DUP_ENTRY_WITH_KEY_NAME */
		return -EEXIST;
	case 1021: /* ER_DISK_FULL */
	case 1114: /* ER_RECORD_FILE_FULL */
		return -ENOSPC;
	case 1290: /* ER_OPTION_PREVENTS_STATEMENT (--read-only) */
	case 1792: /* ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
	case 1836: /* ER_READ_ONLY_MODE */
		return -EROFS;
	default:
		return -EIO;
	}
}

static int conn_err(struct sl_sql_conn *c, struct sl_err *err, const char *what)
{
	unsigned e = mysql_errno(c->my);
	int code = e ? map_errno(e) : -EIO;
	if (code == -ENOTCONN)
		c->broken = true;
	sl_errf(err, code, "%s %s: %s (mysql error %u)", what, c->where,
		e ? mysql_error(c->my) : "unknown error", e);
	return sl_err_internal(err, code);
}

static int stmt_err(struct sl_sql_stmt *s, struct sl_err *err, const char *what)
{
	unsigned e = mysql_stmt_errno(s->st);
	int code = e ? map_errno(e) : -EIO;
	if (code == -ENOTCONN)
		s->c->broken = true;
	sl_errf(err, code, "%s \"%.*s%s\" on %s: %s (mysql error %u)", what, SQL_IN_MSG, s->sql,
		strlen(s->sql) > SQL_IN_MSG ? "..." : "", s->c->where,
		e ? mysql_stmt_error(s->st) : "unknown error", e);
	return sl_err_internal(err, code);
}

static int lost(struct sl_sql_conn *c, struct sl_err *err)
{
	sl_errf(err, -ENOTCONN, "connection to %s was lost", c->where);
	return sl_err_internal(err, -ENOTCONN);
}

/* ---- connections ------------------------------------------------------------------------------- */

static void cache_clear(struct sl_sql_conn *c);

static void my_disconnect(struct sl_sql_conn *c)
{
	if (!c)
		return;
	cache_clear(c);
	sl_sql_stmt_cache_destroy(&c->idle);
	sl_strbuf_free(&c->pending);
	if (c->my)
		mysql_close(c->my);
	free(c);
}

static int set_opt(struct sl_sql_conn *c, enum mysql_option opt, const void *v, struct sl_err *err)
{
	if (mysql_options(c->my, opt, v))
		return sl_errf(err, -EINVAL, "setting MySQL client option %d failed", (int)opt);
	return 0;
}

/* On a Galera cluster (wsrep_on), a node applies the other nodes' commits asynchronously: without
 * wsrep_sync_wait a transaction may begin before a change another client already saw committed on
 * another node is applied here, and read the old state. Waiting at BEGIN and at every read
 * (bit 1) makes each transaction see every commit the cluster made before it began, as one
 * server would. Servers without Galera (MySQL, TiDB, MariaDB alone) have no such variable or have
 * it off, and are left as they are. Galera also ends statement batching (my_batches). */
static int join_causal_reads(struct sl_sql_conn *c, struct sl_err *err)
{
	static const char ask[] = "SHOW VARIABLES LIKE 'wsrep_on'";
	static const char wait[] = "SET SESSION wsrep_sync_wait = 1";
	if (mysql_real_query(c->my, ask, sizeof(ask) - 1))
		return conn_err(c, err, "asking whether Galera replicates");
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		return conn_err(c, err, "reading whether Galera replicates from");
	MYSQL_ROW row = mysql_fetch_row(res);
	c->galera = row && row[1] && strcasecmp(row[1], "ON") == 0;
	mysql_free_result(res);
	if (c->galera && mysql_real_query(c->my, wait, sizeof(wait) - 1))
		return conn_err(c, err, "setting wsrep_sync_wait on");
	return 0;
}

static int my_connect(const struct sl_sql_url *u, struct sl_sql_conn **out, struct sl_err *err)
{
	*out = NULL;
	int rc = enter(err);
	if (rc)
		return rc;
	struct sl_sql_conn *c = calloc(1, sizeof(*c));
	if (!c || sl_sql_stmt_cache_init(&c->idle, STMT_CACHE_MAX)) {
		free(c);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	/* juicefs (Go's MySQL driver) talks TCP to 127.0.0.1:3306 when the address is empty, and
	 * TCP even to "localhost", where libmysql would silently switch to the default socket. */
	const char *host = u->socket ? "localhost" : (u->host && *u->host ? u->host : "127.0.0.1");
	const char *db = u->database && *u->database ? u->database : NULL;
	unsigned port = u->port > 0 ? (unsigned)u->port : 3306;
	if (u->redacted[0])
		snprintf(c->where, sizeof(c->where), "%.*s", (int)sizeof(c->where) - 1, u->redacted);
	else if (u->socket)
		snprintf(c->where, sizeof(c->where), "mysql://%s@unix(%s)/%s", u->user ? u->user : "",
			 u->socket, db ? db : "");
	else
		snprintf(c->where, sizeof(c->where), "mysql://%s@(%s:%u)/%s", u->user ? u->user : "",
			 host, port, db ? db : "");

	c->my = mysql_init(NULL);
	if (!c->my) {
		rc = sl_errf(err, -ENOMEM, "mysql_init failed");
		goto out;
	}
	unsigned connect_to = CONNECT_TIMEOUT_S, read_to = READ_TIMEOUT_S,
		 write_to = WRITE_TIMEOUT_S;
	unsigned long max_packet = MAX_PACKET;
	/* The pool notices a dead connection (ping) and opens a new one; a silent reconnect inside
	 * the library would lose the transaction and the session settings. */
	my_bool reconnect = 0;
	unsigned protocol = u->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	unsigned local_infile = 0;
	if ((rc = set_opt(c, MYSQL_OPT_CONNECT_TIMEOUT, &connect_to, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_READ_TIMEOUT, &read_to, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_WRITE_TIMEOUT, &write_to, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_RECONNECT, &reconnect, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_PROTOCOL, &protocol, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_LOCAL_INFILE, &local_infile, err)) ||
	    (rc = set_opt(c, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet, err)) ||
	    (rc = set_opt(c, MYSQL_SET_CHARSET_NAME, "utf8mb4", err)))
		goto out;

	/* CLIENT_MULTI_STATEMENTS for queries of several statements, all of Sluice's own making:
	 * deferred ones (my_begin_op's, and writes from sl_sqlq_write whose values are integers and
	 * hex literals written by sql.c) in front of a constant or of a prepared statement written
	 * out with its values (render); every other query is a prepared statement or a constant. */
	if (!mysql_real_connect(c->my, u->socket ? NULL : host, u->user, u->password, db,
				u->socket ? 0 : port, u->socket,
				CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS)) {
		rc = conn_err(c, err, "connecting to");
		goto out;
	}
	/* juicefs sets transaction_isolation='repeatable-read' per session (InnoDB's default, but a
	 * server may be configured otherwise); this spelling works on MySQL, MariaDB and TiDB. */
	static const char iso[] = "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";
	if (mysql_real_query(c->my, iso, sizeof(iso) - 1)) {
		rc = conn_err(c, err, "setting the isolation level on");
		goto out;
	}
	if ((rc = join_causal_reads(c, err)))
		goto out;
	*out = c;
	return 0;
out:
	my_disconnect(c);
	return rc;
}

static int my_ping(struct sl_sql_conn *c, struct sl_err *err)
{
	int rc = enter(err);
	if (rc)
		return rc;
	if (c->broken)
		return lost(c, err);
	if (mysql_ping(c->my))
		return conn_err(c, err, "ping of");
	return 0;
}

/* Reads every result of the query just sent (one per statement): 0, or the error of the first
 * statement that failed (the server runs none after it). */
static int drain_results(struct sl_sql_conn *c, const char *sql, struct sl_err *err)
{
	for (;;) {
		/* A statement that returns rows must have them read, or the connection is out of
		 * sync. */
		MYSQL_RES *res = mysql_store_result(c->my);
		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(c->my))
			return conn_err(c, err, "reading the result from");
		int r = mysql_next_result(c->my);
		if (r < 0)
			return 0;
		if (r > 0) {
			char what[SQL_IN_MSG + 32];
			snprintf(what, sizeof(what), "executing \"%.*s%s\" on", SQL_IN_MSG, sql,
				 strlen(sql) > SQL_IN_MSG ? "..." : "");
			return conn_err(c, err, what);
		}
	}
}

/* ---- deferred statements ------------------------------------------------------------------------
 * A write transaction's BEGIN, its operation id and the writes whose results it does not need wait
 * on the connection for its next query, and go in front of it as one query of several statements:
 * on a server a round trip costs more than the statements do. The server runs none after the
 * first that fails, and the error of a deferred statement is that query's error. */

static void pending_clear(struct sl_sql_conn *c)
{
	sl_strbuf_free(&c->pending);
	c->npending = 0;
	c->op_at = 0;
	c->op_taken = NULL;
	c->changed_at = 0;
	c->changed_out = NULL;
}

static int send_query(struct sl_sql_conn *c, const char *sql, struct sl_err *err);

static int my_defer(struct sl_sql_conn *c, const char *sql, int64_t *changed, struct sl_err *err)
{
	/* one counted statement per query: a second one sends what waits first */
	int rc;
	if (changed && c->changed_out && (rc = send_query(c, NULL, err)))
		return rc;
	if (c->pending.len)
		sl_strbuf_puts(&c->pending, "; ");
	sl_strbuf_puts(&c->pending, sql);
	c->npending++;
	if (changed) {
		c->changed_at = c->npending;
		c->changed_out = changed;
	}
	return c->pending.oom ? sl_errf(err, -ENOMEM, "out of memory") : 0;
}

/* The error of statement k (1-based) of the query text just sent. */
static int statement_err(struct sl_sql_conn *c, const char *text, int k, struct sl_err *err)
{
	char what[SQL_IN_MSG + 32];
	snprintf(what, sizeof(what), "executing \"%.*s%s\" on", SQL_IN_MSG, text,
		 strlen(text) > SQL_IN_MSG ? "..." : "");
	int rc = conn_err(c, err, what);
	if (k == c->op_at && rc == -EEXIST && c->op_taken)
		*c->op_taken = true;
	return rc;
}

/* Sends the deferred statements followed by sql (NULL: none) as one query and reads the results of
 * the deferred ones; sql's result is left for the caller to read. The deferred statements are
 * gone afterwards, sent or failed. */
static int send_query(struct sl_sql_conn *c, const char *sql, struct sl_err *err)
{
	int n = c->npending, rc = 0;
	const char *text = sql;
	if (n && sql) {
		sl_strbuf_puts(&c->pending, "; ");
		sl_strbuf_puts(&c->pending, sql);
	}
	if (n && !(text = sl_strbuf_str(&c->pending))) {
		pending_clear(c);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	if (!text)
		return 0;
	int total = n + (sql ? 1 : 0);
	if (mysql_real_query(c->my, text, strlen(text))) {
		rc = statement_err(c, text, 1, err);
	} else {
		for (int k = 1; k <= n; k++) {
			MYSQL_RES *res = mysql_store_result(c->my);
			if (res)
				mysql_free_result(res);
			else if (mysql_field_count(c->my)) {
				rc = conn_err(c, err, "reading the result from");
				break;
			}
			if (k == c->changed_at)
				*c->changed_out = (int64_t)mysql_affected_rows(c->my);
			int r = mysql_next_result(c->my);
			if (k == total) {
				if (r > 0)
					rc = conn_err(c, err, "reading the results from");
				break;
			}
			if (r < 0) { /* fewer results than statements: out of step with the server */
				c->broken = true;
				rc = sl_errf(err, -ENOTCONN, "%s answered %d statements of %d", c->where,
					     k, total);
				rc = sl_err_internal(err, rc);
				break;
			}
			if (r > 0) {
				rc = statement_err(c, text, k + 1, err);
				break;
			}
		}
	}
	pending_clear(c);
	return rc;
}

static int my_exec(struct sl_sql_conn *c, const char *sql, struct sl_err *err)
{
	int rc = enter(err);
	if (rc)
		return rc;
	if (c->broken)
		return lost(c, err);
	if ((rc = send_query(c, sql, err)) || !sql)
		return rc;
	return drain_results(c, sql, err);
}

/* Deferred writes go together in one query of several statements, except on Galera: when a
 * replicated transaction aborts ours (a brute-force abort, on a conflicting row) while such a query
 * runs, the node went on with the query's later statements outside any transaction, and they
 * stayed committed: test_vfs_galera saw file nodes without their directory entries. Sent one by
 * one, the first statement after the abort fails and nothing runs after it. */
static bool my_batches(const struct sl_sql_conn *c) { return !c->galera; }

static int my_begin(struct sl_sql_conn *c, bool write, struct sl_err *err)
{
	/* InnoDB locks rows as they are written or read FOR UPDATE; there is no lock to take up
	 * front for writers. */
	(void)write;
	return my_exec(c, "BEGIN", err);
}

/* BEGIN and the operation id's INSERT, deferred to the transaction's first query when the server
 * takes several statements in one (taken: where a taken id is reported then), else sent now as
 * one query of two statements: the id costs no round trip of its own. */
static int my_begin_op(struct sl_sql_conn *c, int64_t op, int64_t expire, bool *taken,
		       struct sl_err *err)
{
	int rc = enter(err);
	if (rc)
		return rc;
	char sql[96];
	snprintf(sql, sizeof(sql), "INSERT INTO sluice_op (id, expire) VALUES (%" PRId64 ", %" PRId64
		 ")", op, expire);
	pending_clear(c);
	if ((rc = my_defer(c, "BEGIN", NULL, err)) || (rc = my_defer(c, sql, NULL, err))) {
		pending_clear(c);
		return rc;
	}
	c->op_at = 2;
	c->op_taken = taken;
	if (taken && my_batches(c))
		return 0;
	return my_exec(c, NULL, err); /* an error of the INSERT shows here */
}

static int my_commit(struct sl_sql_conn *c, struct sl_err *err)
{
	return my_exec(c, "COMMIT", err);
}

static void my_rollback(struct sl_sql_conn *c)
{
	pending_clear(c);
	if (enter(NULL) || c->broken)
		return;
	if (mysql_real_query(c->my, "ROLLBACK", 8))
		(void)conn_err(c, NULL, "rollback on");
}

/* ---- statement cache --------------------------------------------------------------------------- */

static struct sl_sql_stmt *stmt_of(struct sl_sql_idle *i)
{
	return (struct sl_sql_stmt *)((char *)i - offsetof(struct sl_sql_stmt, idle));
}

static void stmt_destroy(struct sl_sql_stmt *s)
{
	if (!s)
		return;
	if (s->st)
		mysql_stmt_close(s->st);
	if (s->res)
		mysql_free_result(s->res);
	for (unsigned i = 0; i < s->nparams; i++)
		free(s->pv[i].buf);
	for (unsigned i = 0; i < s->cols_cap; i++)
		free(s->cv[i].buf);
	free(s->pbind);
	free(s->pv);
	free(s->rbind);
	free(s->cv);
	free(s->sql);
	free(s);
}

static void cache_clear(struct sl_sql_conn *c)
{
	for (struct sl_sql_idle *i; (i = sl_sql_stmt_cache_evict(&c->idle));)
		stmt_destroy(stmt_of(i));
}

static void param_clear(MYSQL_BIND *b)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_NULL;
}

static int stmt_create(struct sl_sql_conn *c, const char *sql, struct sl_sql_stmt **out,
		       unsigned *myerr, struct sl_err *err)
{
	*myerr = 0;
	int rc;
	struct sl_sql_stmt *s = calloc(1, sizeof(*s));
	if (!s)
		return sl_errf(err, -ENOMEM, "out of memory");
	s->c = c;
	s->sql = strdup(sql);
	s->idle.sql = s->sql;
	if (!s->sql) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	s->st = mysql_stmt_init(c->my);
	if (!s->st) {
		rc = conn_err(c, err, "mysql_stmt_init on");
		goto out;
	}
	if (mysql_stmt_prepare(s->st, sql, strlen(sql))) {
		*myerr = mysql_stmt_errno(s->st);
		rc = stmt_err(s, err, "preparing");
		goto out;
	}
	s->nparams = (unsigned)mysql_stmt_param_count(s->st);
	if (s->nparams) {
		s->pbind = calloc(s->nparams, sizeof(*s->pbind));
		s->pv = calloc(s->nparams, sizeof(*s->pv));
		if (!s->pbind || !s->pv) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
		for (unsigned i = 0; i < s->nparams; i++)
			param_clear(&s->pbind[i]);
	}
	*out = s;
	return 0;
out:
	stmt_destroy(s);
	return rc;
}

static int my_prepare(struct sl_sql_conn *c, const char *sql, struct sl_sql_stmt **out,
		      struct sl_err *err)
{
	*out = NULL;
	int rc = enter(err);
	if (rc)
		return rc;
	if (c->broken)
		return lost(c, err);
	struct sl_sql_idle *idle = sl_sql_stmt_cache_take(&c->idle, sql);
	if (idle) {
		*out = stmt_of(idle);
		return 0;
	}
	unsigned myerr;
	rc = stmt_create(c, sql, out, &myerr, err);
	/* ER_MAX_PREPARED_STMT_COUNT_REACHED: the server-wide cap; give back what we hold. */
	if (rc && myerr == 1461 && sl_sql_stmt_cache_count(&c->idle)) {
		cache_clear(c);
		sl_err_clear(err);
		rc = stmt_create(c, sql, out, &myerr, err);
	}
	return rc;
}

static void my_finalize(struct sl_sql_stmt *s)
{
	if (!s)
		return;
	struct sl_sql_conn *c = s->c;
	/* Client side only: drops the buffered rows (or drains an unread result) and the error. */
	mysql_stmt_free_result(s->st);
	if (s->res) {
		mysql_free_result(s->res);
		s->res = NULL;
	}
	for (unsigned i = 0; i < s->nparams; i++) {
		param_clear(&s->pbind[i]);
		if (s->pv[i].cap > COL_BUF_KEEP) {
			free(s->pv[i].buf);
			s->pv[i].buf = NULL;
			s->pv[i].cap = 0;
		}
	}
	for (unsigned i = 0; i < s->cols_cap; i++) {
		if (s->cv[i].cap > COL_BUF_KEEP) {
			free(s->cv[i].buf);
			s->cv[i].buf = NULL;
			s->cv[i].cap = 0;
		}
	}
	s->state = ST_READY;
	s->changes = 0;
	s->ncols = 0;
	if (c->broken) {
		stmt_destroy(s);
		return;
	}
	struct sl_sql_idle *gone = sl_sql_stmt_cache_keep(&c->idle, &s->idle);
	if (gone)
		stmt_destroy(stmt_of(gone));
}

/* ---- parameters -------------------------------------------------------------------------------- */

static MYSQL_BIND *param_at(struct sl_sql_stmt *s, int idx)
{
	if (idx < 1 || (unsigned)idx > s->nparams)
		return NULL;
	return &s->pbind[idx - 1];
}

static int my_bind_i64(struct sl_sql_stmt *s, int idx, int64_t v)
{
	MYSQL_BIND *b = param_at(s, idx);
	if (!b)
		return -ERANGE;
	struct param *p = &s->pv[idx - 1];
	p->i = v;
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->i;
	return 0;
}

static int bind_bytes(struct sl_sql_stmt *s, int idx, const void *data, size_t n,
		      enum enum_field_types type)
{
	MYSQL_BIND *b = param_at(s, idx);
	if (!b)
		return -ERANGE;
	struct param *p = &s->pv[idx - 1];
	if (n > p->cap || !p->buf) {
		size_t cap = n > 64 ? n : 64;
		char *nb = realloc(p->buf, cap);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = cap;
	}
	if (n)
		memcpy(p->buf, data, n);
	p->len = (unsigned long)n;
	memset(b, 0, sizeof(*b));
	b->buffer_type = type;
	b->buffer = p->buf;
	b->buffer_length = (unsigned long)n;
	b->length = &p->len;
	return 0;
}

static int my_bind_blob(struct sl_sql_stmt *s, int idx, const void *p, size_t n)
{
	return bind_bytes(s, idx, p, n, MYSQL_TYPE_BLOB);
}

static int my_bind_text(struct sl_sql_stmt *s, int idx, const char *p)
{
	if (!p) {
		MYSQL_BIND *b = param_at(s, idx);
		if (!b)
			return -ERANGE;
		param_clear(b);
		return 0;
	}
	return bind_bytes(s, idx, p, strlen(p), MYSQL_TYPE_STRING);
}

static int my_bind_null(struct sl_sql_stmt *s, int idx)
{
	MYSQL_BIND *b = param_at(s, idx);
	if (!b)
		return -ERANGE;
	param_clear(b);
	return 0;
}

/* ---- execution and results --------------------------------------------------------------------- */

static bool is_numeric(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_YEAR:
	case MYSQL_TYPE_DECIMAL:    /* SUM() of integers is a DECIMAL */
	case MYSQL_TYPE_NEWDECIMAL:
		return true;
	default:
		return false;
	}
}

static int grow_col(struct col *cv, size_t need)
{
	if (cv->buf && need <= cv->cap)
		return 0;
	size_t cap = cv->cap ? cv->cap : COL_BUF_INIT;
	while (cap < need)
		cap *= 2;
	char *nb = realloc(cv->buf, cap + 1);
	if (!nb)
		return -ENOMEM;
	cv->buf = nb;
	cv->cap = cap;
	return 0;
}

/* Room for nf result columns. */
static int cols_reserve(struct sl_sql_stmt *s, unsigned nf, struct sl_err *err)
{
	if (nf <= s->cols_cap)
		return 0;
	MYSQL_BIND *rb = realloc(s->rbind, nf * sizeof(*rb));
	if (!rb)
		return sl_errf(err, -ENOMEM, "out of memory");
	s->rbind = rb;
	struct col *cv = realloc(s->cv, nf * sizeof(*cv));
	if (!cv)
		return sl_errf(err, -ENOMEM, "out of memory");
	memset(cv + s->cols_cap, 0, (nf - s->cols_cap) * sizeof(*cv));
	s->cv = cv;
	s->cols_cap = nf;
	return 0;
}

static int setup_result(struct sl_sql_stmt *s, unsigned nf, struct sl_err *err)
{
	int rc = cols_reserve(s, nf, err);
	if (rc)
		return rc;
	MYSQL_RES *md = mysql_stmt_result_metadata(s->st);
	if (!md)
		return stmt_err(s, err, "reading the result columns of");
	MYSQL_FIELD *f = mysql_fetch_fields(md);
	for (unsigned i = 0; i < nf; i++) {
		MYSQL_BIND *b = &s->rbind[i];
		struct col *cv = &s->cv[i];
		memset(b, 0, sizeof(*b));
		cv->numeric = is_numeric(f[i].type);
		cv->is_unsigned = (f[i].flags & UNSIGNED_FLAG) != 0;
		if (cv->numeric) {
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &cv->i;
			b->is_unsigned = cv->is_unsigned;
		} else {
			if (grow_col(cv, COL_BUF_INIT)) {
				mysql_free_result(md);
				return sl_errf(err, -ENOMEM, "out of memory");
			}
			b->buffer_type = MYSQL_TYPE_BLOB;
			b->buffer = cv->buf;
			b->buffer_length = (unsigned long)cv->cap;
		}
		b->length = &cv->len;
		b->is_null = &cv->is_null;
		b->error = &cv->error;
	}
	mysql_free_result(md);
	s->ncols = nf;
	if (mysql_stmt_bind_result(s->st, s->rbind))
		return stmt_err(s, err, "binding the result of");
	return 0;
}

static int fetch_row(struct sl_sql_stmt *s, struct sl_err *err)
{
	int r = mysql_stmt_fetch(s->st);
	if (r == MYSQL_NO_DATA) {
		s->state = ST_DONE;
		return 0;
	}
	if (r == 1) {
		s->state = ST_DONE;
		return stmt_err(s, err, "fetching a row of");
	}
	if (r == MYSQL_DATA_TRUNCATED) {
		/* A value longer than its buffer: grow the buffer, read the whole value, and keep
		 * the bigger buffer bound for the rows that follow. */
		bool rebind = false;
		for (unsigned i = 0; i < s->ncols; i++) {
			struct col *cv = &s->cv[i];
			if (cv->numeric || cv->is_null || cv->len <= cv->cap)
				continue;
			if (grow_col(cv, cv->len)) {
				s->state = ST_DONE;
				return sl_errf(err, -ENOMEM, "out of memory for a %lu-byte value",
					       cv->len);
			}
			MYSQL_BIND *b = &s->rbind[i];
			b->buffer = cv->buf;
			b->buffer_length = (unsigned long)cv->cap;
			if (mysql_stmt_fetch_column(s->st, b, i, 0)) {
				s->state = ST_DONE;
				return stmt_err(s, err, "fetching a column of");
			}
			rebind = true;
		}
		if (rebind && mysql_stmt_bind_result(s->st, s->rbind)) {
			s->state = ST_DONE;
			return stmt_err(s, err, "binding the result of");
		}
	}
	for (unsigned i = 0; i < s->ncols; i++) {
		struct col *cv = &s->cv[i];
		if (!cv->numeric && cv->buf)
			cv->buf[cv->is_null ? 0 : cv->len] = 0;
	}
	return 1;
}

/* ---- the text protocol, for a statement sent behind deferred ones ----------------------------
 * A prepared statement cannot share a round trip with other statements; a transaction's first
 * query (usually a read that locks rows) would pay one for its BEGIN alone. Such a statement is
 * written out with its parameters' values and sent behind them as text instead: integers in
 * decimal, blobs as hex literals, text escaped and quoted (compared with the column's collation,
 * as a bound string is). */

/* s's SQL with each '?' replaced by its bound value, in b; -EINVAL if they do not pair up. */
static int render(struct sl_sql_stmt *s, struct sl_strbuf *b)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned k = 0;
	for (const char *p = s->sql; *p; p++) {
		if (*p != '?') {
			sl_strbuf_putc(b, *p);
			continue;
		}
		if (k >= s->nparams)
			return -EINVAL;
		const MYSQL_BIND *pb = &s->pbind[k];
		const struct param *pv = &s->pv[k++];
		switch (pb->buffer_type) {
		case MYSQL_TYPE_LONGLONG:
			sl_strbuf_printf(b, "%" PRId64, pv->i);
			break;
		case MYSQL_TYPE_BLOB:
			sl_strbuf_puts(b, "X'");
			for (unsigned long i = 0; i < pv->len; i++) {
				unsigned char ch = (unsigned char)pv->buf[i];
				char two[2] = {hex[ch >> 4], hex[ch & 15]};
				sl_strbuf_putn(b, two, 2);
			}
			sl_strbuf_putc(b, '\'');
			break;
		case MYSQL_TYPE_STRING: {
			char *e = malloc(2 * (size_t)pv->len + 1);
			if (!e)
				return -ENOMEM;
			unsigned long n = mysql_real_escape_string(s->c->my, e, pv->buf ? pv->buf : "",
								   pv->len);
			if (n == (unsigned long)-1) { /* a client that will not escape: bind it */
				free(e);
				return -EINVAL;
			}
			sl_strbuf_putc(b, '\'');
			sl_strbuf_putn(b, e, n);
			sl_strbuf_putc(b, '\'');
			free(e);
			break;
		}
		default:
			sl_strbuf_puts(b, "NULL");
		}
	}
	if (k != s->nparams)
		return -EINVAL;
	return b->oom ? -ENOMEM : 0;
}

static int text_fetch(struct sl_sql_stmt *s, struct sl_err *err)
{
	MYSQL_ROW row = mysql_fetch_row(s->res);
	if (!row) {
		s->state = ST_DONE;
		return 0;
	}
	unsigned long *len = mysql_fetch_lengths(s->res);
	for (unsigned i = 0; i < s->ncols; i++) {
		struct col *cv = &s->cv[i];
		cv->is_null = row[i] == NULL;
		if (cv->is_null)
			continue;
		if (cv->numeric) {
			cv->i = cv->is_unsigned ? (int64_t)strtoull(row[i], NULL, 10)
						: strtoll(row[i], NULL, 10);
			continue;
		}
		if (grow_col(cv, len[i])) {
			s->state = ST_DONE;
			return sl_errf(err, -ENOMEM, "out of memory for a %lu-byte value", len[i]);
		}
		memcpy(cv->buf, row[i], len[i]);
		cv->buf[len[i]] = 0;
		cv->len = len[i];
	}
	return 1;
}

/* Runs s as text behind the deferred statements (see above); 1 when it found a row. */
static int run_as_text(struct sl_sql_stmt *s, const char *text, struct sl_err *err)
{
	struct sl_sql_conn *c = s->c;
	int rc = send_query(c, text, err);
	if (rc)
		return rc;
	s->res = mysql_store_result(c->my);
	if (!s->res) {
		if (mysql_field_count(c->my))
			return conn_err(c, err, "reading the result from");
		s->changes = (int64_t)mysql_affected_rows(c->my);
		return 0;
	}
	unsigned nf = mysql_num_fields(s->res);
	if ((rc = cols_reserve(s, nf, err)))
		return rc;
	MYSQL_FIELD *f = mysql_fetch_fields(s->res);
	for (unsigned i = 0; i < nf; i++) {
		s->cv[i].numeric = is_numeric(f[i].type);
		s->cv[i].is_unsigned = (f[i].flags & UNSIGNED_FLAG) != 0;
	}
	s->ncols = nf;
	s->state = ST_ROWS;
	return text_fetch(s, err);
}

static int my_step(struct sl_sql_stmt *s, struct sl_err *err)
{
	int rc;
	switch (s->state) {
	case ST_DONE:
		return 0;
	case ST_ROWS:
		return s->res ? text_fetch(s, err) : fetch_row(s, err);
	case ST_READY:
		break;
	}
	s->state = ST_DONE;
	struct sl_sql_conn *c = s->c;
	if (c->npending) {
		struct sl_strbuf text = {0};
		rc = render(s, &text);
		if (!rc)
			rc = run_as_text(s, sl_strbuf_str(&text), err);
		sl_strbuf_free(&text);
		if (rc != -EINVAL)
			return rc == -ENOMEM ? sl_errf(err, rc, "out of memory") : rc;
		/* not a statement to write out: the deferred ones go first, alone */
		if ((rc = send_query(c, NULL, err)))
			return rc;
	}
	if (s->nparams && mysql_stmt_bind_param(s->st, s->pbind))
		return stmt_err(s, err, "binding the parameters of");
	if (mysql_stmt_execute(s->st))
		return stmt_err(s, err, "executing");
	unsigned nf = mysql_stmt_field_count(s->st);
	if (nf == 0) {
		s->changes = (int64_t)mysql_stmt_affected_rows(s->st);
		return 0;
	}
	rc = setup_result(s, nf, err);
	if (rc)
		return rc;
	if (mysql_stmt_store_result(s->st))
		return stmt_err(s, err, "reading the result of");
	s->state = ST_ROWS;
	return fetch_row(s, err);
}

static struct col *col_at(struct sl_sql_stmt *s, int col)
{
	if (s->state != ST_ROWS || col < 0 || (unsigned)col >= s->ncols)
		return NULL;
	return &s->cv[col];
}

static int64_t my_col_i64(struct sl_sql_stmt *s, int col)
{
	struct col *cv = col_at(s, col);
	if (!cv || cv->is_null)
		return 0;
	if (cv->numeric)
		return cv->i;
	/* Text holding a number, as SQLite converts it. */
	return cv->buf ? strtoll(cv->buf, NULL, 10) : 0;
}

static const void *my_col_blob(struct sl_sql_stmt *s, int col, size_t *len)
{
	struct col *cv = col_at(s, col);
	if (!cv || cv->is_null) {
		*len = 0;
		return NULL;
	}
	if (cv->numeric) {
		int n = cv->is_unsigned ? snprintf(cv->text, sizeof(cv->text), "%" PRIu64, (uint64_t)cv->i)
					: snprintf(cv->text, sizeof(cv->text), "%" PRId64, cv->i);
		*len = (size_t)n;
		return cv->text;
	}
	*len = cv->len;
	return cv->buf;
}

static bool my_col_null(struct sl_sql_stmt *s, int col)
{
	struct col *cv = col_at(s, col);
	return !cv || cv->is_null;
}

static int64_t my_changes(struct sl_sql_stmt *s)
{
	return s->changes;
}

/* ---- schema -------------------------------------------------------------------------------------
 * The statements juicefs 1.4 (xorm) sends to MySQL/MariaDB (1.3's plus jfs_node.tier_id, a TEXT
 * jfs_setting.value and three tables: 1.3 works on this superset, 1.4 not on 1.3's), with its separate CREATE [UNIQUE]
 * INDEX statements folded into the CREATE TABLE, same names and columns: MySQL has no CREATE INDEX
 * IF NOT EXISTS, and this way every statement is idempotent on MySQL, MariaDB and TiDB. No charset
 * is given, as juicefs gives none: the tables take the database's default. */
static const char *const mysql_schema[] = {
	"CREATE TABLE IF NOT EXISTS `jfs_setting` (`name` VARCHAR(255) PRIMARY KEY NOT NULL, "
	"`value` TEXT NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_counter` (`name` VARCHAR(255) PRIMARY KEY NOT NULL, "
	"`value` BIGINT(20) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_edge` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`parent` BIGINT(20) NOT NULL, `name` VARBINARY(255) NOT NULL, `inode` BIGINT(20) NOT NULL, "
	"`type` INT NOT NULL, "
	"UNIQUE KEY `UQE_jfs_edge_edge` (`parent`,`name`), "
	"KEY `IDX_jfs_edge_inode` (`inode`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_node` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`type` INT NOT NULL, `flags` INT NOT NULL, `mode` INT NOT NULL, `uid` INT NOT NULL, "
	"`gid` INT NOT NULL, `atime` BIGINT(20) NOT NULL, `mtime` BIGINT(20) NOT NULL, "
	"`ctime` BIGINT(20) NOT NULL, `atimensec` INT DEFAULT 0 NOT NULL, "
	"`mtimensec` INT DEFAULT 0 NOT NULL, `ctimensec` INT DEFAULT 0 NOT NULL, "
	"`nlink` INT NOT NULL, `length` BIGINT(20) NOT NULL, `rdev` INT NULL, "
	"`parent` BIGINT(20) NULL, `access_acl_id` INT NULL, `default_acl_id` INT NULL, "
	"`tier_id` INT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_symlink` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`target` VARBINARY(4096) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_xattr` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`inode` BIGINT(20) NOT NULL, `name` VARCHAR(255) NOT NULL, `value` BLOB NOT NULL, "
	"UNIQUE KEY `UQE_jfs_xattr_name` (`inode`,`name`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_chunk` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`inode` BIGINT(20) NOT NULL, `indx` INT NOT NULL, `slices` BLOB NOT NULL, "
	"UNIQUE KEY `UQE_jfs_chunk_chunk` (`inode`,`indx`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_chunk_ref` (`chunkid` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`size` INT NOT NULL, `refs` INT NOT NULL, "
	"KEY `IDX_jfs_chunk_ref_refs` (`refs`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_delslices` (`chunkid` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`deleted` BIGINT(20) NOT NULL, `slices` BLOB NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_session2` (`sid` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`expire` BIGINT(20) NOT NULL, `info` BLOB NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_sustained` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`sid` BIGINT(20) NOT NULL, `inode` BIGINT(20) NOT NULL, "
	"UNIQUE KEY `UQE_jfs_sustained_sustained` (`sid`,`inode`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_delfile` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`length` BIGINT(20) NOT NULL, `expire` BIGINT(20) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_flock` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`inode` BIGINT(20) NOT NULL, `sid` BIGINT(20) NOT NULL, `owner` BIGINT(20) NOT NULL, "
	"`ltype` INT NOT NULL, "
	"UNIQUE KEY `UQE_jfs_flock_flock` (`inode`,`sid`,`owner`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_plock` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`inode` BIGINT(20) NOT NULL, `sid` BIGINT(20) NOT NULL, `owner` BIGINT(20) NOT NULL, "
	"`records` BLOB NOT NULL, "
	"UNIQUE KEY `UQE_jfs_plock_plock` (`inode`,`sid`,`owner`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_dir_quota` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`max_space` BIGINT(20) NOT NULL, `max_inodes` BIGINT(20) NOT NULL, "
	"`used_space` BIGINT(20) NOT NULL, `used_inodes` BIGINT(20) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_user_group_quota` (`qtype` INT NOT NULL, "
	"`qkey` BIGINT(20) NOT NULL, `max_space` BIGINT(20) NOT NULL, "
	"`max_inodes` BIGINT(20) NOT NULL, `used_space` BIGINT(20) NOT NULL, "
	"`used_inodes` BIGINT(20) NOT NULL, PRIMARY KEY (`qtype`,`qkey`)) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_dir_stats` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`data_length` BIGINT(20) NOT NULL, `used_space` BIGINT(20) NOT NULL, "
	"`used_inodes` BIGINT(20) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_detached_node` (`inode` BIGINT(20) PRIMARY KEY NOT NULL, "
	"`added` BIGINT(20) NOT NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_acl` (`id` INT PRIMARY KEY AUTO_INCREMENT NOT NULL, "
	"`owner` INT NULL, `group` INT NULL, `mask` INT NULL, `other` INT NULL, "
	"`named_users` BLOB NULL, `named_groups` BLOB NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_delegation_token` (`id` INT PRIMARY KEY AUTO_INCREMENT "
	"NOT NULL, `token` BLOB NULL) ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS `jfs_change_log` (`id` BIGINT(20) PRIMARY KEY AUTO_INCREMENT "
	"NOT NULL, `entry` TEXT NOT NULL) ENGINE=InnoDB",

	NULL,
};

/* ---- Sluice's own tables (sql_driver.h) -------------------------------------------------------- */

static const char *const mysql_lease_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_lease` (`inode` BIGINT NOT NULL PRIMARY KEY, "
	"`sid` BIGINT NOT NULL, `gen` BIGINT NOT NULL, `since` BIGINT NOT NULL) ENGINE=InnoDB",
	NULL,
};

static const char *const mysql_block_crc_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_block_crc` (`id` BIGINT NOT NULL, "
	"`indx` INT NOT NULL, `crc` BIGINT NOT NULL, `len` INT NOT NULL, "
	"PRIMARY KEY (`id`, `indx`)) ENGINE=InnoDB",
	NULL,
};

static const char *const mysql_block_claim_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_block_claim` (`id` BIGINT NOT NULL, "
	"`indx` INT NOT NULL, `sid` BIGINT NOT NULL, `expire` BIGINT NOT NULL, "
	"`done` TINYINT NOT NULL, PRIMARY KEY (`id`, `indx`)) ENGINE=InnoDB",
	NULL,
};

static const char *const mysql_token_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_dt_key` (`id` INT NOT NULL PRIMARY KEY, "
	"`secret` VARBINARY(64) NOT NULL, `created` BIGINT NOT NULL, `expiry` BIGINT NOT NULL) "
	"ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS `sluice_dt_token` (`seq` INT NOT NULL PRIMARY KEY, "
	"`owner` VARBINARY(255) NOT NULL, `renewer` VARBINARY(255) NOT NULL, "
	"`real_user` VARBINARY(255) NOT NULL, `issue_date` BIGINT NOT NULL, "
	"`max_date` BIGINT NOT NULL, `expiry` BIGINT NOT NULL, `key_id` INT NOT NULL, "
	"KEY `IDX_sluice_dt_token_expiry` (`expiry`)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS `sluice_dt_counter` (`name` VARCHAR(32) NOT NULL PRIMARY KEY, "
	"`value` BIGINT NOT NULL) ENGINE=InnoDB",
	NULL,
};

/* ---- the META-URL ---------------------------------------------------------------------------- */

#define MY_URL_EXAMPLE "mysql://USER:PASSWORD@(HOST:PORT)/DATABASE"

/* The address part of a MySQL DSN: "", "(host[:port])", "tcp(host[:port])", "unix(/sock)". */
static int my_parse_addr(const char *a, size_t n, struct sl_sql_url *out, struct sl_err *err)
{
	if (n == 0)
		return 0; /* the driver's default host, 127.0.0.1 */
	const char *open = memchr(a, '(', n);
	if (!open || a[n - 1] != ')')
		return sl_errf(err, -EINVAL, "META-URL %s: the server address must be written in "
			       "parentheses, e.g. %s or USER@unix(/path/to.sock)/DATABASE",
			       out->redacted, MY_URL_EXAMPLE);
	size_t netlen = (size_t)(open - a);
	const char *in = open + 1;
	size_t inlen = (size_t)(a + n - 1 - in);
	if (netlen == 4 && !strncmp(a, "unix", 4)) {
		if (inlen == 0)
			return sl_errf(err, -EINVAL, "META-URL %s: unix() needs the socket path",
				       out->redacted);
		if (!(out->socket = strndup(in, inlen)))
			return sl_sql_url_nomem(err);
		return 0;
	}
	if (!(netlen == 0 || (netlen == 3 && !strncmp(a, "tcp", 3))))
		return sl_errf(err, -EINVAL, "META-URL %s: unknown network '%.*s' (use tcp(HOST:PORT) "
			       "or unix(/path/to.sock))", out->redacted, (int)netlen, a);
	if (inlen == 0)
		return 0;
	const char *hs = in, *he, *colon = NULL;
	if (*in == '[') { /* [ipv6]:port */
		const char *rb = memchr(in, ']', inlen);
		if (!rb)
			return sl_errf(err, -EINVAL, "META-URL %s: unbalanced '[' in the IPv6 address",
				       out->redacted);
		hs = in + 1;
		he = rb;
		if (rb + 1 < in + inlen) {
			if (rb[1] != ':')
				return sl_errf(err, -EINVAL, "META-URL %s: expected ':PORT' after the "
					       "IPv6 address", out->redacted);
			colon = rb + 1;
		}
	} else {
		colon = memchr(in, ':', inlen);
		he = colon ? colon : in + inlen;
	}
	if (he == hs)
		return sl_errf(err, -EINVAL, "META-URL %s: empty host name", out->redacted);
	if (colon) {
		const char *ps = colon + 1, *pe = in + inlen;
		long port = 0;
		if (ps == pe)
			return sl_errf(err, -EINVAL, "META-URL %s: empty port after ':'", out->redacted);
		for (const char *p = ps; p < pe; p++) {
			if (!isdigit((unsigned char)*p) || port > 65535)
				return sl_errf(err, -EINVAL, "META-URL %s: port '%.*s' is not a number",
					       out->redacted, (int)(pe - ps), ps);
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return sl_errf(err, -EINVAL, "META-URL %s: port %ld is out of range 1-65535",
				       out->redacted, port);
		out->port = (int)port;
	}
	if (!(out->host = strndup(hs, (size_t)(he - hs))))
		return sl_sql_url_nomem(err);
	return 0;
}

/* mysql://[USER[:PASSWORD]@](HOST[:PORT])/DATABASE[?params], and the tcp(...) and unix(...)
 * forms of Go's MySQL DSN; the password may come from $META_PASSWORD. out->redacted comes holding
 * the URL as given; the password is hidden in it first. */
static int my_parse_url(const char *rest, struct sl_sql_url *out, struct sl_err *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	/* As Go's MySQL DSN parser does: the database follows the last '/', the credentials end at
	 * the last '@' before it (so passwords may hold '@' and '/'). */
	const char *slash = NULL;
	for (const char *p = rest + n; p > rest; p--)
		if (p[-1] == '/') {
			slash = p - 1;
			break;
		}
	/* A '/' inside unix(...) is part of the socket path, not the start of the database. */
	if (slash) {
		const char *rp = memchr(slash, ')', (size_t)(rest + n - slash));
		if (rp)
			slash = NULL;
	}
	const char *at = NULL;
	const char *end = slash ? slash : rest + n;
	for (const char *p = end; p > rest; p--)
		if (p[-1] == '@') {
			at = p - 1;
			break;
		}
	/* Redacted form first, so later messages can use it. */
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon)
			snprintf(out->redacted, sizeof(out->redacted), "mysql://%.*s:****%s",
				 (int)(colon - rest), rest, at);
	}
	if (!slash)
		return sl_errf(err, -EINVAL, "META-URL %s has no database name: expected %s",
			       out->redacted, MY_URL_EXAMPLE);
	if (slash + 1 == rest + n)
		return sl_errf(err, -EINVAL, "META-URL %s: the database name after '/' is empty "
			       "(expected %s)", out->redacted, MY_URL_EXAMPLE);
	if (!(out->database = strndup(slash + 1, (size_t)(rest + n - slash - 1))))
		return sl_sql_url_nomem(err);
	if (q && !(out->params = strdup(q + 1)))
		return sl_sql_url_nomem(err);
	const char *addr = rest;
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		const char *ue = colon ? colon : at;
		bool bad = false;
		if (ue > rest && !(out->user = sl_sql_url_decode(rest, (size_t)(ue - rest), &bad)))
			return bad ? sl_errf(err, -EINVAL, "META-URL %s: broken %%-escape in the user "
					     "name", out->redacted) : sl_sql_url_nomem(err);
		if (colon && !(out->password = sl_sql_url_decode(colon + 1, (size_t)(at - colon - 1), &bad)))
			return bad ? sl_errf(err, -EINVAL, "META-URL %s: broken %%-escape in the "
					     "password", out->redacted) : sl_sql_url_nomem(err);
		addr = at + 1;
	}
	int rc = my_parse_addr(addr, (size_t)(slash - addr), out, err);
	if (rc)
		return rc;
	if (!out->socket && !out->port)
		out->port = 3306;
	if (!out->password) {
		const char *env = getenv("META_PASSWORD");
		if (env && *env && !(out->password = strdup(env)))
			return sl_sql_url_nomem(err);
	}
	return 0;
}

const struct sl_sql_driver sl_mysql_driver = {
	.version = SL_SQL_DRIVER_VERSION,
	.scheme = "mysql",
	.url_example = MY_URL_EXAMPLE,
	.parse_url = my_parse_url,
	.schema = mysql_schema,
	.lease_tables = mysql_lease_tables,
	.block_crc_tables = mysql_block_crc_tables,
	.block_claim_tables = mysql_block_claim_tables,
	.token_tables = mysql_token_tables,
	.for_update = " FOR UPDATE",
	.upsert_slices = "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?) ON DUPLICATE "
			 "KEY UPDATE slices = CONCAT(slices, VALUES(slices))",
	.batches_statements = my_batches,
	.defer = my_defer,
	.op_table = "CREATE TABLE IF NOT EXISTS `sluice_op` (`id` BIGINT(20) PRIMARY KEY NOT NULL, "
		    "`expire` BIGINT(20) NOT NULL, KEY `IDX_sluice_op_expire` (`expire`)) ENGINE=InnoDB",
	.begin_op = my_begin_op,
	.connect = my_connect,
	.disconnect = my_disconnect,
	.ping = my_ping,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.exec = my_exec,
	.prepare = my_prepare,
	.bind_i64 = my_bind_i64,
	.bind_blob = my_bind_blob,
	.bind_text = my_bind_text,
	.bind_null = my_bind_null,
	.step = my_step,
	.col_i64 = my_col_i64,
	.col_blob = my_col_blob,
	.col_null = my_col_null,
	.changes = my_changes,
	.finalize = my_finalize,
};
