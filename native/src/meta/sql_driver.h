/*
 * sql_driver.h - what the shared SQL logic (sql.c) needs from a database client library. One table
 * per driver: sqlite_driver.c (SQLite 3, embedded) and mysql_driver.c (MySQL client API; MySQL,
 * MariaDB, TiDB). sql.c writes portable SQL with '?' placeholders; dialect differences are data in
 * this table (schema text, FOR UPDATE), never #ifdefs in sql.c.
 *
 * A connection is used by one thread at a time (the pool in sql_pool.c hands them out).
 * Error mapping every driver must follow, so sql.c and the retry executor can act on errno:
 *   deadlock, lock wait timeout, serialization failure, SQLITE_BUSY/LOCKED -> -EDEADLK (retryable)
 *   lost connection / server gone away (2006, 2013), ER_CON_COUNT          -> -ENOTCONN (retryable)
 *   cannot connect (2002, 2003)                                            -> -ECONNREFUSED
 *   unknown host (2005)                                                    -> -EHOSTUNREACH
 *   access denied (1044, 1045)                                             -> -EACCES
 *   unknown database (1049), SQLite file missing when not creating        -> -ENOENT
 *   duplicate key (1062), SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY                -> -EEXIST
 *   disk full (SQLITE_FULL, 1021, 1114)                                    -> -ENOSPC
 *   read-only database                                                     -> -EROFS
 *   anything else                                                          -> -EIO
 * The message in err carries the database's own error text and code.
 */
#ifndef SL_SQL_DRIVER_H
#define SL_SQL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct sl_sql_driver;

/* A parsed META-URL. JuiceFS syntax:
 *   sqlite3://PATH[?params]                        (PATH relative or absolute: sqlite3:///abs/x.db)
 *   mysql://[USER[:PASS]@](HOST[:PORT])/DB[?params]  also mysql://USER:PASS@tcp(HOST:PORT)/DB and
 *   mysql://USER@unix(/path/to.sock)/DB ; the password may come from $META_PASSWORD. */
struct sl_sql_url {
	char *scheme;   /* "sqlite3" or "mysql" */
	char *user, *password;
	char *host;     /* NULL for sqlite or unix sockets */
	int port;       /* 0: default */
	char *socket;   /* unix socket path or NULL */
	char *database; /* mysql database, or the sqlite file path */
	char *params;   /* the raw query string after '?', or NULL */
	char redacted[512]; /* the URL with the password replaced by "****", for messages */
	const struct sl_sql_driver *driver; /* the driver of the scheme */
};
/* Picks the driver by the scheme (sl_sql_drivers) and has it parse the rest. */
int sl_sql_url_parse(const char *url, struct sl_sql_url *out, struct sl_err *err);
void sl_sql_url_free(struct sl_sql_url *u);
/* For the drivers' parsers: %XX-decodes [s, s+n) into a new string (NULL with *bad set on a
 * broken escape, else on no memory); the error for no memory. */
char *sl_sql_url_decode(const char *s, size_t n, bool *bad);
int sl_sql_url_nomem(struct sl_err *err);

struct sl_sql_conn;
struct sl_sql_stmt;

struct sl_sql_driver {
	int version; /* SL_SQL_DRIVER_VERSION */
	const char *scheme; /* "sqlite3", "mysql" */
	const char *url_example; /* for messages: "sqlite3://PATH" */
	/* Parses what follows "SCHEME://" into out (out->redacted holds the whole URL, which the
	 * parser redacts where it holds a password); on failure the caller frees out. */
	int (*parse_url)(const char *rest, struct sl_sql_url *out, struct sl_err *err);

	/* CREATE TABLE / CREATE INDEX statements, NULL-terminated, in this dialect, producing exactly
	 * the tables `juicefs format` creates for this engine. Each must succeed if the object
	 * already exists (IF NOT EXISTS). */
	const char *const *schema;
	/* Sluice's own tables in this dialect, each a NULL-terminated list of statements that
	 * succeed if the objects exist already, run on first use: sluice_lease (writer leases,
	 * sql_leases.c), sluice_block_crc (block checksums, sql_crc.c), sluice_block_claim (claims
	 * on uploads of blocks a dead writer left, sql_claims.c), and the gateway's delegation
	 * tokens (sluice_dt_key, sluice_dt_token, sluice_dt_counter; sql_tokens.c). */
	const char *const *lease_tables;
	const char *const *block_crc_tables;
	const char *const *block_claim_tables;
	const char *const *token_tables;
	/* Appended to SELECTs that lock rows in a write transaction: " FOR UPDATE" or "". */
	const char *for_update;
	/* Appends slice records to a chunk's row in the database, without reading it, the row
	 * made if it has none: "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?)" and
	 * this dialect's upsert of slices followed by the new ones (a blob stays a blob). */
	const char *upsert_slices;
	/* Whether statements whose results are not needed may wait for the connection's next query
	 * and go with it, in one round trip (defer, sl_sqlq_write): a client-server database's
	 * choice; NULL: never. */
	bool (*batches_statements)(const struct sl_sql_conn *c);
	/* With batches_statements: keeps a statement without parameters or results on c until the
	 * next query (exec, a statement's first step, commit), which sends it first; rollback
	 * drops it. Its error is that query's. changed (NULL: not wanted) gets the rows it changed
	 * once that query's answer has them, and is left alone if it never ran. */
	int (*defer)(struct sl_sql_conn *c, const char *sql, int64_t *changed, struct sl_err *err);
	/* A client-server database can lose the connection after the server committed and before
	 * its answer arrived: the COMMIT ends in doubt. Such a driver names here, as a CREATE TABLE
	 * IF NOT EXISTS statement of its dialect, Sluice's table of operation ids `sluice_op` (id
	 * BIGINT primary key, expire BIGINT, indexed): the pool records an id per write transaction
	 * in it, so that a retry learns whether the transaction happened (sql_pool.c). NULL: a
	 * commit is never in doubt (SQLite, in-process). */
	const char *op_table;
	/* Optional, with op_table: begins a write transaction whose first statement records
	 * operation id `op` (INSERT INTO sluice_op (id, expire) VALUES (op, expire)). With taken
	 * NULL, at once: a duplicate id is -EEXIST, with the transaction begun (the caller rolls
	 * back). Otherwise the driver may defer both to the transaction's first query, as defer
	 * does; a duplicate id then sets *taken and fails that query with -EEXIST. NULL: the pool
	 * runs begin and the INSERT one after the other. */
	int (*begin_op)(struct sl_sql_conn *c, int64_t op, int64_t expire, bool *taken,
			struct sl_err *err);

	int (*connect)(const struct sl_sql_url *url, struct sl_sql_conn **out, struct sl_err *err);
	void (*disconnect)(struct sl_sql_conn *c);
	/* Cheap liveness check used by the pool before handing out an idle connection. */
	int (*ping)(struct sl_sql_conn *c, struct sl_err *err);

	/* Transactions. write=true takes the write lock up front where the engine needs it (SQLite:
	 * BEGIN IMMEDIATE) so that two writers never deadlock on a lock upgrade. */
	int (*begin)(struct sl_sql_conn *c, bool write, struct sl_err *err);
	int (*commit)(struct sl_sql_conn *c, struct sl_err *err);
	void (*rollback)(struct sl_sql_conn *c);
	/* Runs one or more statements (';' between them) without parameters or results (DDL,
	 * sl_sqlq_write); stops at the first that fails, with its error. */
	int (*exec)(struct sl_sql_conn *c, const char *sql, struct sl_err *err);

	/* Prepared statements. A driver caches prepared statements per connection by SQL text, so
	 * prepare is cheap after the first time; finalize returns the statement to that cache. */
	int (*prepare)(struct sl_sql_conn *c, const char *sql, struct sl_sql_stmt **out,
		       struct sl_err *err);
	/* idx is 1-based, like SQLite. Blob/text data is copied or must stay valid until step. */
	int (*bind_i64)(struct sl_sql_stmt *s, int idx, int64_t v);
	int (*bind_blob)(struct sl_sql_stmt *s, int idx, const void *p, size_t n);
	int (*bind_text)(struct sl_sql_stmt *s, int idx, const char *p);
	int (*bind_null)(struct sl_sql_stmt *s, int idx);
	/* Executes on the first call, then advances: 1 = a row is available, 0 = done, <0 error. */
	int (*step)(struct sl_sql_stmt *s, struct sl_err *err);
	/* Columns of the current row (0-based). Blob/text pointers stay valid until the next step,
	 * reset or finalize. */
	int64_t (*col_i64)(struct sl_sql_stmt *s, int col);
	const void *(*col_blob)(struct sl_sql_stmt *s, int col, size_t *len);
	bool (*col_null)(struct sl_sql_stmt *s, int col);
	/* Rows changed by the last INSERT/UPDATE/DELETE executed with this statement. */
	int64_t (*changes)(struct sl_sql_stmt *s);
	/* Releases the statement (back to the per-connection cache); safe on a NULL statement. */
	void (*finalize)(struct sl_sql_stmt *s);
};
#define SL_SQL_DRIVER_VERSION 3

extern const struct sl_sql_driver sl_sqlite_driver;
extern const struct sl_sql_driver sl_mysql_driver;
/* Every driver, NULL-terminated (sql_url.c). */
extern const struct sl_sql_driver *const sl_sql_drivers[];

#endif
