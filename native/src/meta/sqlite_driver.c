/*
 * sqlite_driver.c - the SQL driver for SQLite 3 (the embedded default): connections in WAL mode
 * with a busy timeout, BEGIN IMMEDIATE for writers, a per-connection cache of prepared
 * statements, and the tables exactly as `juicefs format` creates them on SQLite.
 */
#include "sql_driver.h"
#include "sql_stmt_cache.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* How long a writer waits for the lock before SQLITE_BUSY (juicefs uses the same 5 s). */
#define BUSY_TIMEOUT_MS 5000
/* Idle prepared statements kept per connection. */
#define STMT_CACHE_MAX 256
/* How much of a statement's SQL goes into error messages. */
#define SQL_IN_MSG 120

/* The DDL of juicefs 1.4 on SQLite (xorm's output), with IF NOT EXISTS. It is 1.3's plus
 * jfs_node.tier_id and three tables; juicefs 1.3 works on it too, while 1.4 cannot use a 1.3
 * schema (it selects tier_id), so the superset is what keeps both clients working. SQLite keeps the text
 * from the object name on in sqlite_master, so the stored schema is byte-identical to juicefs's.
 * sqlite_sequence appears by itself with the first AUTOINCREMENT table, as it does for juicefs. */
static const char *const sqlite_schema[] = {
	"CREATE TABLE IF NOT EXISTS `jfs_setting` (`name` TEXT PRIMARY KEY NOT NULL, "
	"`value` TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_counter` (`name` TEXT PRIMARY KEY NOT NULL, "
	"`value` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_edge` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `parent` INTEGER NOT NULL, `name` BLOB NOT NULL, `inode` INTEGER NOT NULL, "
	"`type` INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_edge_edge` ON `jfs_edge` (`parent`,`name`)",
	"CREATE INDEX IF NOT EXISTS `IDX_jfs_edge_inode` ON `jfs_edge` (`inode`)",
	"CREATE TABLE IF NOT EXISTS `jfs_node` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`type` INTEGER NOT NULL, `flags` INTEGER NOT NULL, `mode` INTEGER NOT NULL, "
	"`uid` INTEGER NOT NULL, `gid` INTEGER NOT NULL, `atime` INTEGER NOT NULL, "
	"`mtime` INTEGER NOT NULL, `ctime` INTEGER NOT NULL, "
	"`atimensec` INTEGER DEFAULT 0 NOT NULL, `mtimensec` INTEGER DEFAULT 0 NOT NULL, "
	"`ctimensec` INTEGER DEFAULT 0 NOT NULL, `nlink` INTEGER NOT NULL, "
	"`length` INTEGER NOT NULL, `rdev` INTEGER NULL, `parent` INTEGER NULL, "
	"`access_acl_id` INTEGER NULL, `default_acl_id` INTEGER NULL, `tier_id` INTEGER NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_symlink` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`target` BLOB NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_xattr` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `inode` INTEGER NOT NULL, `name` TEXT NOT NULL, `value` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_xattr_name` ON `jfs_xattr` (`inode`,`name`)",
	"CREATE TABLE IF NOT EXISTS `jfs_chunk` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `inode` INTEGER NOT NULL, `indx` INTEGER NOT NULL, `slices` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_chunk_chunk` ON `jfs_chunk` "
	"(`inode`,`indx`)",
	"CREATE TABLE IF NOT EXISTS `jfs_chunk_ref` (`chunkid` INTEGER PRIMARY KEY NOT NULL, "
	"`size` INTEGER NOT NULL, `refs` INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS `IDX_jfs_chunk_ref_refs` ON `jfs_chunk_ref` (`refs`)",
	"CREATE TABLE IF NOT EXISTS `jfs_delslices` (`chunkid` INTEGER PRIMARY KEY NOT NULL, "
	"`deleted` INTEGER NOT NULL, `slices` BLOB NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_session2` (`sid` INTEGER PRIMARY KEY NOT NULL, "
	"`expire` INTEGER NOT NULL, `info` BLOB NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_sustained` (`id` INTEGER PRIMARY KEY AUTOINCREMENT "
	"NOT NULL, `sid` INTEGER NOT NULL, `inode` INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_sustained_sustained` ON `jfs_sustained` "
	"(`sid`,`inode`)",
	"CREATE TABLE IF NOT EXISTS `jfs_delfile` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`length` INTEGER NOT NULL, `expire` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_flock` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `inode` INTEGER NOT NULL, `sid` INTEGER NOT NULL, `owner` INTEGER NOT NULL, "
	"`ltype` INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_flock_flock` ON `jfs_flock` "
	"(`inode`,`sid`,`owner`)",
	"CREATE TABLE IF NOT EXISTS `jfs_plock` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `inode` INTEGER NOT NULL, `sid` INTEGER NOT NULL, `owner` INTEGER NOT NULL, "
	"`records` BLOB NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS `UQE_jfs_plock_plock` ON `jfs_plock` "
	"(`inode`,`sid`,`owner`)",
	"CREATE TABLE IF NOT EXISTS `jfs_dir_quota` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`max_space` INTEGER NOT NULL, `max_inodes` INTEGER NOT NULL, "
	"`used_space` INTEGER NOT NULL, `used_inodes` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_user_group_quota` (`qtype` INTEGER NOT NULL, "
	"`qkey` INTEGER NOT NULL, `max_space` INTEGER NOT NULL, `max_inodes` INTEGER NOT NULL, "
	"`used_space` INTEGER NOT NULL, `used_inodes` INTEGER NOT NULL, "
	"PRIMARY KEY ( `qtype`,`qkey` ))",
	"CREATE TABLE IF NOT EXISTS `jfs_dir_stats` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`data_length` INTEGER NOT NULL, `used_space` INTEGER NOT NULL, "
	"`used_inodes` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_detached_node` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`added` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_acl` (`id` INTEGER PRIMARY KEY AUTOINCREMENT NOT "
	"NULL, `owner` INTEGER NULL, `group` INTEGER NULL, `mask` INTEGER NULL, "
	"`other` INTEGER NULL, `named_users` BLOB NULL, `named_groups` BLOB NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_delegation_token` (`id` INTEGER PRIMARY KEY "
	"AUTOINCREMENT NOT NULL, `token` BLOB NULL)",
	"CREATE TABLE IF NOT EXISTS `jfs_change_log` (`id` INTEGER PRIMARY KEY AUTOINCREMENT "
	"NOT NULL, `entry` TEXT NOT NULL)",
	NULL,
};

struct sl_sql_conn {
	sqlite3 *db;
	char path[256]; /* for messages */
	struct sl_sql_stmt_cache idle;
};

enum stmt_state { ST_READY, ST_ROWS, ST_DONE };

struct sl_sql_stmt {
	struct sl_sql_idle idle; /* in c->idle between uses; idle.sql is sql */
	struct sl_sql_conn *c;
	sqlite3_stmt *st;
	char *sql;
	enum stmt_state state;
	int64_t changes;
};

/* ---- errors ---------------------------------------------------------------------------------- */

static int map_code(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EDEADLK;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EIO;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN: {
		int e = db ? sqlite3_system_errno(db) : 0;
		if (e == EACCES || e == EPERM)
			return -EACCES;
		if (e == EROFS)
			return -EROFS;
		return -ENOENT;
	}
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

static int conn_err(struct sl_sql_conn *c, int rc, struct sl_err *err, const char *what,
		    const char *sql)
{
	int ext = c->db ? sqlite3_extended_errcode(c->db) : rc;
	if ((ext & 0xff) != (rc & 0xff))
		ext = rc;
	int code = map_code(c->db, ext);
	const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	if (sql)
		sl_errf(err, code, "%s \"%.*s%s\" on %s: %s (sqlite error %d)", what, SQL_IN_MSG,
			sql, strlen(sql) > SQL_IN_MSG ? "..." : "", c->path, msg, ext);
	else
		sl_errf(err, code, "%s on %s: %s (sqlite error %d)", what, c->path, msg, ext);
	return sl_err_internal(err, code); /* the statement and the file stay on the server */
}

/* ---- connections ----------------------------------------------------------------------------- */

static struct sl_sql_stmt *stmt_of(struct sl_sql_idle *i)
{
	return (struct sl_sql_stmt *)((char *)i - offsetof(struct sl_sql_stmt, idle));
}

static void stmt_destroy(struct sl_sql_stmt *s)
{
	sqlite3_finalize(s->st);
	free(s->sql);
	free(s);
}

static void lite_disconnect(struct sl_sql_conn *c)
{
	if (!c)
		return;
	for (struct sl_sql_idle *i; (i = sl_sql_stmt_cache_evict(&c->idle));)
		stmt_destroy(stmt_of(i));
	sl_sql_stmt_cache_destroy(&c->idle);
	sqlite3_close_v2(c->db);
	free(c);
}

/* "_busy_timeout=MS" or "_timeout=MS" among juicefs's (go-sqlite3's) URL parameters. */
static int busy_timeout(const char *params)
{
	int ms = BUSY_TIMEOUT_MS;
	for (const char *p = params; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > 14 && !strncmp(p, "_busy_timeout=", 14))
			ms = atoi(p + 14);
		else if (n > 9 && !strncmp(p, "_timeout=", 9))
			ms = atoi(p + 9);
		p = amp ? amp + 1 : NULL;
	}
	return ms > 0 ? ms : BUSY_TIMEOUT_MS;
}

static int lite_exec_raw(struct sl_sql_conn *c, const char *sql, struct sl_err *err)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : conn_err(c, rc, err, "executing", sql);
}

static int lite_connect(const struct sl_sql_url *u, struct sl_sql_conn **out, struct sl_err *err)
{
	*out = NULL;
	if (!u->database || !*u->database)
		return sl_errf(err, -EINVAL, "no SQLite database file given");
	struct sl_sql_conn *c = calloc(1, sizeof(*c));
	if (!c || sl_sql_stmt_cache_init(&c->idle, STMT_CACHE_MAX)) {
		free(c);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	snprintf(c->path, sizeof(c->path), "%s", u->database);
	/* The file is created when missing: `format` needs that, and opening an empty database
	 * for a volume finds no format record and says so. One thread uses a connection at a time
	 * (the pool), so SQLite's own mutexes are not needed. */
	int rc = sqlite3_open_v2(u->database, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	int ret = 0;
	if (rc != SQLITE_OK) {
		ret = conn_err(c, rc, err, "opening the SQLite database", NULL);
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, busy_timeout(u->params));
	/* WAL: readers never block the writer nor each other. Foreign keys stay off (juicefs
	 * declares none). */
	if ((ret = lite_exec_raw(c, "PRAGMA journal_mode=WAL", err)) ||
	    (ret = lite_exec_raw(c, "PRAGMA foreign_keys=OFF", err)))
		goto out;
	*out = c;
	return 0;
out:
	lite_disconnect(c);
	return ret;
}

static int lite_ping(struct sl_sql_conn *c, struct sl_err *err)
{
	/* An embedded database cannot be lost; check the handle is usable anyway. */
	return lite_exec_raw(c, "SELECT 1", err);
}

static int lite_exec(struct sl_sql_conn *c, const char *sql, struct sl_err *err)
{
	return lite_exec_raw(c, sql, err);
}

static int lite_begin(struct sl_sql_conn *c, bool write, struct sl_err *err)
{
	/* A writer takes the write lock now rather than upgrading a read lock later, which could
	 * fail with SQLITE_BUSY without the busy handler being able to help. */
	return lite_exec_raw(c, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int lite_commit(struct sl_sql_conn *c, struct sl_err *err)
{
	return lite_exec_raw(c, "COMMIT", err);
}

static void lite_rollback(struct sl_sql_conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- statements ------------------------------------------------------------------------------ */

static int lite_prepare(struct sl_sql_conn *c, const char *sql, struct sl_sql_stmt **out,
			struct sl_err *err)
{
	*out = NULL;
	struct sl_sql_idle *idle = sl_sql_stmt_cache_take(&c->idle, sql);
	if (idle) {
		struct sl_sql_stmt *s = stmt_of(idle);
		s->state = ST_READY;
		s->changes = 0;
		*out = s;
		return 0;
	}
	struct sl_sql_stmt *s = calloc(1, sizeof(*s));
	if (!s || !(s->sql = strdup(sql))) {
		free(s);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &s->st, NULL);
	if (rc != SQLITE_OK) {
		int ret = conn_err(c, rc, err, "preparing", sql);
		stmt_destroy(s);
		return ret;
	}
	s->c = c;
	s->idle.sql = s->sql;
	*out = s;
	return 0;
}

static int lite_bind_i64(struct sl_sql_stmt *s, int idx, int64_t v)
{
	return sqlite3_bind_int64(s->st, idx, v) == SQLITE_OK ? 0 : -EINVAL;
}

static int lite_bind_blob(struct sl_sql_stmt *s, int idx, const void *p, size_t n)
{
	/* A NULL pointer would bind SQL NULL; an empty value must stay an empty blob. */
	int rc = n ? sqlite3_bind_blob64(s->st, idx, p, n, SQLITE_TRANSIENT)
		   : sqlite3_bind_zeroblob(s->st, idx, 0);
	return rc == SQLITE_OK ? 0 : -EINVAL;
}

static int lite_bind_text(struct sl_sql_stmt *s, int idx, const char *p)
{
	return sqlite3_bind_text(s->st, idx, p, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -EINVAL;
}

static int lite_bind_null(struct sl_sql_stmt *s, int idx)
{
	return sqlite3_bind_null(s->st, idx) == SQLITE_OK ? 0 : -EINVAL;
}

static int lite_step(struct sl_sql_stmt *s, struct sl_err *err)
{
	if (s->state == ST_DONE)
		return 0; /* SQLite would silently run the statement again */
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW) {
		s->state = ST_ROWS;
		return 1;
	}
	if (rc == SQLITE_DONE) {
		s->state = ST_DONE;
		s->changes = sqlite3_changes64(s->c->db);
		return 0;
	}
	s->state = ST_DONE;
	return conn_err(s->c, rc, err, "running", s->sql);
}

static int64_t lite_col_i64(struct sl_sql_stmt *s, int col)
{
	return sqlite3_column_int64(s->st, col);
}

static const void *lite_col_blob(struct sl_sql_stmt *s, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(s->st, col);
	*len = (size_t)sqlite3_column_bytes(s->st, col);
	return p;
}

static bool lite_col_null(struct sl_sql_stmt *s, int col)
{
	return sqlite3_column_type(s->st, col) == SQLITE_NULL;
}

static int64_t lite_changes(struct sl_sql_stmt *s) { return s->changes; }

static void lite_finalize(struct sl_sql_stmt *s)
{
	if (!s)
		return;
	struct sl_sql_conn *c = s->c;
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	struct sl_sql_idle *gone = sl_sql_stmt_cache_keep(&c->idle, &s->idle);
	if (gone)
		stmt_destroy(stmt_of(gone));
}

/* ---- Sluice's own tables (sql_driver.h) -------------------------------------------------------- */

static const char *const sqlite_lease_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_lease` (`inode` INTEGER PRIMARY KEY NOT NULL, "
	"`sid` INTEGER NOT NULL, `gen` INTEGER NOT NULL, `since` INTEGER NOT NULL)",
	NULL,
};

static const char *const sqlite_block_crc_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_block_crc` (`id` INTEGER NOT NULL, "
	"`indx` INTEGER NOT NULL, `crc` INTEGER NOT NULL, `len` INTEGER NOT NULL, "
	"PRIMARY KEY (`id`, `indx`))",
	NULL,
};

static const char *const sqlite_block_claim_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_block_claim` (`id` INTEGER NOT NULL, "
	"`indx` INTEGER NOT NULL, `sid` INTEGER NOT NULL, `expire` INTEGER NOT NULL, "
	"`done` INTEGER NOT NULL, PRIMARY KEY (`id`, `indx`))",
	NULL,
};

static const char *const sqlite_token_tables[] = {
	"CREATE TABLE IF NOT EXISTS `sluice_dt_key` (`id` INTEGER PRIMARY KEY NOT NULL, "
	"`secret` BLOB NOT NULL, `created` INTEGER NOT NULL, `expiry` INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS `sluice_dt_token` (`seq` INTEGER PRIMARY KEY NOT NULL, "
	"`owner` BLOB NOT NULL, `renewer` BLOB NOT NULL, `real_user` BLOB NOT NULL, "
	"`issue_date` INTEGER NOT NULL, `max_date` INTEGER NOT NULL, `expiry` INTEGER NOT NULL, "
	"`key_id` INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS `IDX_sluice_dt_token_expiry` ON `sluice_dt_token` (`expiry`)",
	"CREATE TABLE IF NOT EXISTS `sluice_dt_counter` (`name` TEXT PRIMARY KEY NOT NULL, "
	"`value` INTEGER NOT NULL)",
	NULL,
};

/* ---- the META-URL ---------------------------------------------------------------------------- */

/* sqlite3://PATH[?params]: the file, relative or absolute (sqlite3:///abs/x.db). */
static int lite_parse_url(const char *rest, struct sl_sql_url *out, struct sl_err *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (n == 0)
		return sl_errf(err, -EINVAL, "META-URL %s has no database file: expected "
			       "sqlite3://PATH (relative) or sqlite3:///ABSOLUTE/PATH", out->redacted);
	out->database = strndup(rest, n);
	if (!out->database || (q && !(out->params = strdup(q + 1))))
		return sl_sql_url_nomem(err);
	return 0;
}

const struct sl_sql_driver sl_sqlite_driver = {
	.version = SL_SQL_DRIVER_VERSION,
	.scheme = "sqlite3",
	.url_example = "sqlite3://PATH",
	.parse_url = lite_parse_url,
	.schema = sqlite_schema,
	.lease_tables = sqlite_lease_tables,
	.block_crc_tables = sqlite_block_crc_tables,
	.block_claim_tables = sqlite_block_claim_tables,
	.token_tables = sqlite_token_tables,
	.for_update = "",
	/* || makes text of blobs (byte for byte); the cast keeps the column's values blobs */
	.upsert_slices = "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?) ON CONFLICT "
			 "(inode, indx) DO UPDATE SET slices = CAST(slices || excluded.slices AS BLOB)",
	.connect = lite_connect,
	.disconnect = lite_disconnect,
	.ping = lite_ping,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.exec = lite_exec,
	.prepare = lite_prepare,
	.bind_i64 = lite_bind_i64,
	.bind_blob = lite_bind_blob,
	.bind_text = lite_bind_text,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.col_i64 = lite_col_i64,
	.col_blob = lite_col_blob,
	.col_null = lite_col_null,
	.changes = lite_changes,
	.finalize = lite_finalize,
};
