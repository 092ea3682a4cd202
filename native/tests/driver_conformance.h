/*
 * driver_conformance.h - what every sl_sql_driver must do, checked through the driver table only:
 * test_meta_driver_sqlite.c and test_meta_driver_mysql.c run these against their driver, so both
 * behave the same for sql.c (values, NULLs, errors, changes, statement cache, transactions, threads).
 */
#ifndef SL_DRIVER_CONFORMANCE_H
#define SL_DRIVER_CONFORMANCE_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meta/sql_driver.h"
#include "testutil.h"

struct dc_ctx {
	const struct sl_sql_driver *d;
	const struct sl_sql_url *url; /* a database of its own for this run */
	bool row_locks;               /* row-level locking: two transactions can deadlock */
};

/* The tables `juicefs format` creates (1.4), in every dialect. */
static const char *const dc_jfs_tables[] = {
	"jfs_setting", "jfs_counter", "jfs_edge", "jfs_node", "jfs_symlink", "jfs_xattr",
	"jfs_chunk", "jfs_chunk_ref", "jfs_delslices", "jfs_session2", "jfs_sustained",
	"jfs_delfile", "jfs_flock", "jfs_plock", "jfs_dir_quota", "jfs_dir_stats",
	"jfs_detached_node", "jfs_acl", "jfs_user_group_quota", "jfs_delegation_token",
	"jfs_change_log", NULL,
};

static inline struct sl_sql_conn *dc_connect(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = NULL;
	int rc = t->d->connect(t->url, &c, &err);
	if (rc)
		fprintf(stderr, "connect %s: %d %s\n", t->url->redacted, rc, err.msg);
	REQUIRE(rc == 0 && c != NULL);
	return c;
}

static inline void dc_exec(const struct dc_ctx *t, struct sl_sql_conn *c, const char *sql)
{
	struct sl_err err = {0};
	int rc = t->d->exec(c, sql, &err);
	if (rc)
		fprintf(stderr, "exec %s: %d %s\n", sql, rc, err.msg);
	REQUIRE(rc == 0);
}

/* Binds params by a format: i = int64_t, b = (const void *, size_t), t = const char *, n = NULL. */
static inline int dc_bindv(const struct sl_sql_driver *d, struct sl_sql_stmt *s, const char *fmt,
			   va_list ap)
{
	int idx = 1;
	for (; fmt && *fmt; fmt++, idx++) {
		int rc = 0;
		switch (*fmt) {
		case 'i':
			rc = d->bind_i64(s, idx, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = d->bind_blob(s, idx, p, n);
			break;
		}
		case 't':
			rc = d->bind_text(s, idx, va_arg(ap, const char *));
			break;
		case 'n':
			rc = d->bind_null(s, idx);
			break;
		default:
			REQUIRE(!"bad bind format");
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Runs a statement to the end (rows are skipped); *changes gets changes() if not NULL. */
static inline int dc_do(const struct dc_ctx *t, struct sl_sql_conn *c, struct sl_err *err,
			int64_t *changes, const char *sql, const char *fmt, ...)
{
	struct sl_sql_stmt *s = NULL;
	int rc = t->d->prepare(c, sql, &s, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = dc_bindv(t->d, s, fmt, ap);
	va_end(ap);
	while (!rc && (rc = t->d->step(s, err)) == 1)
		;
	if (!rc && changes)
		*changes = t->d->changes(s);
	t->d->finalize(s);
	return rc;
}

/* First column of the first row as an integer: 1 if there was a row, 0 if none, <0 error. */
static inline int dc_i64(const struct dc_ctx *t, struct sl_sql_conn *c, struct sl_err *err,
			 int64_t *out, const char *sql, const char *fmt, ...)
{
	struct sl_sql_stmt *s = NULL;
	int rc = t->d->prepare(c, sql, &s, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = dc_bindv(t->d, s, fmt, ap);
	va_end(ap);
	if (!rc)
		rc = t->d->step(s, err);
	if (rc == 1)
		*out = t->d->col_i64(s, 0);
	t->d->finalize(s);
	return rc;
}

/* Must succeed; prints the driver's message otherwise. */
#define DC_OK(expr)                                                                         \
	do {                                                                                \
		struct sl_err *dc_e_ = &err;                                                \
		sl_err_clear(dc_e_);                                                        \
		int dc_rc_ = (expr);                                                        \
		if (dc_rc_ < 0) {                                                           \
			fprintf(stderr, "%s:%d: %s = %d (%s)\n", __FILE__, __LINE__, #expr, \
				dc_rc_, dc_e_->msg);                                        \
			tu_failures++;                                                      \
		}                                                                           \
	} while (0)

static inline void dc_fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

static inline void dc_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- the checks ---------------------------------------------------------------------------- */

static inline void dc_test_table(const struct dc_ctx *t)
{
	CHECK_RC(t->d->version, SL_SQL_DRIVER_VERSION);
	CHECK(t->d->scheme && !strcmp(t->d->scheme, t->url->scheme));
	CHECK(t->d->schema && t->d->schema[0]);
	CHECK(t->d->for_update != NULL && t->d->upsert_slices != NULL);
	CHECK(t->d->connect && t->d->disconnect && t->d->ping && t->d->begin && t->d->commit &&
	      t->d->rollback && t->d->exec && t->d->prepare && t->d->bind_i64 &&
	      t->d->bind_blob && t->d->bind_text && t->d->bind_null && t->d->step &&
	      t->d->col_i64 && t->d->col_blob && t->d->col_null && t->d->changes &&
	      t->d->finalize);
	t->d->finalize(NULL); /* safe on NULL */
}

static inline void dc_test_schema(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	for (int round = 0; round < 2; round++) /* idempotent */
		for (const char *const *q = t->d->schema; *q; q++)
			DC_OK(t->d->exec(c, *q, &err));
	for (const char *const *tab = dc_jfs_tables; *tab; tab++) {
		char sql[128];
		int64_t n = -1;
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", *tab);
		DC_OK(dc_i64(t, c, &err, &n, sql, NULL));
		if (n != 0)
			fprintf(stderr, "table %s: count %" PRId64 "\n", *tab, n);
		CHECK_RC(n, 0);
	}
	/* Names are bytes (VARBINARY/BLOB), any byte value, unique per parent. */
	static const unsigned char name[] = {'a', 0x00, 0xff, 0xc3, 0x28, 'Z'};
	const char *ins = "INSERT INTO jfs_edge (parent, name, inode, type) VALUES (?, ?, ?, ?)";
	DC_OK(dc_do(t, c, &err, NULL, ins, "ibii", (int64_t)1, name, sizeof(name), (int64_t)2,
		    (int64_t)1));
	CHECK_RC(dc_do(t, c, &err, NULL, ins, "ibii", (int64_t)1, name, sizeof(name), (int64_t)3,
		       (int64_t)1), -EEXIST);
	DC_OK(dc_do(t, c, &err, NULL, ins, "ibii", (int64_t)1, "a", (size_t)1, (int64_t)4,
		    (int64_t)1));
	/* Case matters in names. */
	DC_OK(dc_do(t, c, &err, NULL, ins, "ibii", (int64_t)1, "A", (size_t)1, (int64_t)5,
		    (int64_t)1));
	struct sl_sql_stmt *s = NULL;
	DC_OK(t->d->prepare(c, "SELECT name, inode FROM jfs_edge WHERE parent = ? AND name = ?", &s,
			    &err));
	if (s) {
		CHECK_RC(t->d->bind_i64(s, 1, 1), 0);
		CHECK_RC(t->d->bind_blob(s, 2, name, sizeof(name)), 0);
		CHECK_RC(t->d->step(s, &err), 1);
		size_t len = 0;
		const void *p = t->d->col_blob(s, 0, &len);
		CHECK(len == sizeof(name) && p && !memcmp(p, name, len));
		CHECK_RC(t->d->col_i64(s, 1), 2);
		CHECK_RC(t->d->step(s, &err), 0);
		t->d->finalize(s);
	}

	/* The upsert of chunk records appends in the database, and makes the row when missing */
	const char *up = t->d->upsert_slices;
	DC_OK(dc_do(t, c, &err, NULL, up, "iib", (int64_t)7, (int64_t)0, "\0\1", (size_t)2));
	DC_OK(dc_do(t, c, &err, NULL, up, "iib", (int64_t)7, (int64_t)0, "\2\0", (size_t)2));
	struct sl_sql_stmt *cs = NULL;
	DC_OK(t->d->prepare(c, "SELECT slices FROM jfs_chunk WHERE inode = 7 AND indx = 0", &cs,
			    &err));
	if (cs) {
		CHECK_RC(t->d->step(cs, &err), 1);
		size_t blen = 0;
		const void *b = t->d->col_blob(cs, 0, &blen);
		CHECK(blen == 4 && b && !memcmp(b, "\0\1\2\0", 4));
		t->d->finalize(cs);
	}
	DC_OK(dc_do(t, c, &err, NULL, "DELETE FROM jfs_chunk", NULL));
	DC_OK(dc_do(t, c, &err, NULL, "DELETE FROM jfs_edge", NULL));
	t->d->disconnect(c);
}

static inline void dc_make_tables(const struct dc_ctx *t, struct sl_sql_conn *c)
{
	dc_exec(t, c, "DROP TABLE IF EXISTS dc_t");
	dc_exec(t, c, "DROP TABLE IF EXISTS dc_c");
	dc_exec(t, c, "CREATE TABLE dc_t (id BIGINT NOT NULL PRIMARY KEY, v BIGINT NULL, "
		      "b LONGBLOB NULL, s VARCHAR(255) NULL, UNIQUE (s))");
	dc_exec(t, c, "CREATE TABLE dc_c (id BIGINT NOT NULL PRIMARY KEY, v BIGINT NOT NULL)");
}

static inline void dc_test_values(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	dc_make_tables(t, c);
	const char *ins = "INSERT INTO dc_t (id, v, b, s) VALUES (?, ?, ?, ?)";

	static const int64_t ints[] = {INT64_MIN, INT64_MAX, 0, -1, 1, 0x7FFFFFFF10000000LL,
				       (int64_t)0x8000000000000001ULL, 4294967296LL, -4294967297LL};
	const size_t nints = sizeof(ints) / sizeof(ints[0]);
	for (size_t i = 0; i < nints; i++)
		DC_OK(dc_do(t, c, &err, NULL, ins, "iinn", (int64_t)(100 + i), ints[i]));
	for (size_t i = 0; i < nints; i++) {
		int64_t v = 12345;
		CHECK_RC(dc_i64(t, c, &err, &v, "SELECT v FROM dc_t WHERE id = ?", "i",
				(int64_t)(100 + i)), 1);
		CHECK_RC(v, ints[i]);
		int64_t id = -1; /* extremes as parameters, too */
		CHECK_RC(dc_i64(t, c, &err, &id, "SELECT id FROM dc_t WHERE v = ?", "i", ints[i]), 1);
		CHECK_RC(id, (int64_t)(100 + i));
	}
	/* Aggregates (MySQL: SUM is a DECIMAL) read as integers. */
	int64_t sum = 0, cnt = 0;
	CHECK_RC(dc_i64(t, c, &err, &sum, "SELECT SUM(v) FROM dc_t WHERE id IN (?, ?, ?)", "iii",
			(int64_t)103, (int64_t)104, (int64_t)107), 1);
	CHECK_RC(sum, 4294967296LL);
	CHECK_RC(dc_i64(t, c, &err, &cnt, "SELECT COUNT(*) FROM dc_t", NULL), 1);
	CHECK_RC(cnt, (int64_t)nints);
	CHECK_RC(dc_i64(t, c, &err, &sum, "SELECT SUM(v) FROM dc_t WHERE id < 0", NULL), 1);
	CHECK_RC(sum, 0); /* NULL reads as 0 */

	/* Blobs of many sizes, then read back one by one and all in one result (buffers grow
	 * and shrink between rows). */
	static const size_t sizes[] = {0, 1, 300, 1 << 20, 7, 65536, 0, 3};
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	unsigned char *buf = malloc(1 << 20);
	REQUIRE(buf);
	for (size_t i = 0; i < nsizes; i++) {
		dc_fill(buf, sizes[i], (unsigned)i);
		DC_OK(dc_do(t, c, &err, NULL, ins, "inbn", (int64_t)(200 + i), buf, sizes[i]));
	}
	struct sl_sql_stmt *s = NULL;
	for (size_t i = 0; i < nsizes; i++) {
		DC_OK(t->d->prepare(c, "SELECT b, v, s FROM dc_t WHERE id = ?", &s, &err));
		if (!s)
			break;
		CHECK_RC(t->d->bind_i64(s, 1, (int64_t)(200 + i)), 0);
		CHECK_RC(t->d->step(s, &err), 1);
		size_t len = 12345;
		const void *p = t->d->col_blob(s, 0, &len);
		dc_fill(buf, sizes[i], (unsigned)i);
		CHECK_RC(len, sizes[i]);
		CHECK(!t->d->col_null(s, 0));
		if (len == sizes[i] && len)
			CHECK(p && !memcmp(p, buf, len));
		CHECK(t->d->col_null(s, 1));
		CHECK(t->d->col_null(s, 2));
		CHECK_RC(t->d->col_i64(s, 1), 0);
		len = 12345;
		CHECK(t->d->col_blob(s, 2, &len) == NULL || len == 0);
		CHECK_RC(len, 0);
		CHECK_RC(t->d->step(s, &err), 0);
		t->d->finalize(s);
		s = NULL;
	}
	DC_OK(t->d->prepare(c, "SELECT id, b FROM dc_t WHERE id >= 200 ORDER BY id", &s, &err));
	if (s) {
		size_t i = 0;
		int rc;
		while ((rc = t->d->step(s, &err)) == 1) {
			REQUIRE(i < nsizes);
			CHECK_RC(t->d->col_i64(s, 0), (int64_t)(200 + i));
			size_t len = 0;
			const void *p = t->d->col_blob(s, 1, &len);
			dc_fill(buf, sizes[i], (unsigned)i);
			CHECK_RC(len, sizes[i]);
			if (len == sizes[i] && len)
				CHECK(p && !memcmp(p, buf, len));
			i++;
		}
		CHECK_RC(rc, 0);
		CHECK_RC(i, nsizes);
		t->d->finalize(s);
		s = NULL;
	}
	free(buf);

	/* Text, and NULLs bound explicitly. */
	const char *txt = "name-\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80"; /* 2, 3 and 4-byte UTF-8 */
	DC_OK(dc_do(t, c, &err, NULL, ins, "innt", (int64_t)300, txt));
	DC_OK(dc_do(t, c, &err, NULL, ins, "innn", (int64_t)301));
	DC_OK(t->d->prepare(c, "SELECT s, v, b FROM dc_t WHERE id = ?", &s, &err));
	if (s) {
		CHECK_RC(t->d->bind_i64(s, 1, 300), 0);
		CHECK_RC(t->d->step(s, &err), 1);
		size_t len = 0;
		const char *p = t->d->col_blob(s, 0, &len);
		CHECK(len == strlen(txt) && p && !memcmp(p, txt, len));
		CHECK(t->d->col_null(s, 1) && t->d->col_null(s, 2));
		t->d->finalize(s);
		s = NULL;
	}
	int64_t n = -1;
	CHECK_RC(dc_i64(t, c, &err, &n, "SELECT COUNT(*) FROM dc_t WHERE id = ? AND v IS NULL AND "
			"b IS NULL AND s IS NULL", "i", (int64_t)301), 1);
	CHECK_RC(n, 1);
	/* A row that is not there. */
	CHECK_RC(dc_i64(t, c, &err, &n, "SELECT v FROM dc_t WHERE id = ?", "i", (int64_t)-5), 0);
	t->d->disconnect(c);
}

static inline void dc_test_errors_and_changes(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	dc_make_tables(t, c);
	const char *ins = "INSERT INTO dc_t (id, v, s) VALUES (?, ?, ?)";
	int64_t ch = -1;
	DC_OK(dc_do(t, c, &err, &ch, ins, "iit", (int64_t)1, (int64_t)10, "one"));
	CHECK_RC(ch, 1);
	DC_OK(dc_do(t, c, &err, &ch, ins, "iit", (int64_t)2, (int64_t)20, "two"));
	DC_OK(dc_do(t, c, &err, &ch, ins, "iit", (int64_t)3, (int64_t)30, "three"));

	/* Duplicate primary key and duplicate unique value. */
	sl_err_clear(&err);
	CHECK_RC(dc_do(t, c, &err, NULL, ins, "iit", (int64_t)1, (int64_t)11, "uno"), -EEXIST);
	CHECK_RC(err.code, -EEXIST);
	CHECK(err.msg[0] != 0);
	printf("duplicate key message: %s\n", err.msg);
	sl_err_clear(&err);
	CHECK_RC(dc_do(t, c, &err, NULL, ins, "iit", (int64_t)9, (int64_t)11, "two"), -EEXIST);

	/* Several statements in one exec (deferred writes, sl_sqlq_write): all run, or the first
	 * that fails says why and none after it runs. */
	DC_OK(t->d->exec(c, "INSERT INTO dc_t (id, v, s) VALUES (40, 400, 'forty'); "
			    "INSERT INTO dc_t (id, v, s) VALUES (41, 410, 'forty-one')", &err));
	int64_t n = -1;
	CHECK_RC(dc_i64(t, c, &err, &n, "SELECT COUNT(*) FROM dc_t WHERE id IN (40, 41)", NULL), 1);
	CHECK_RC(n, 2);
	sl_err_clear(&err);
	CHECK_RC(t->d->exec(c, "INSERT INTO dc_t (id, v, s) VALUES (42, 420, 'forty-two'); "
			       "INSERT INTO dc_t (id, v, s) VALUES (1, 11, 'dup'); "
			       "INSERT INTO dc_t (id, v, s) VALUES (43, 430, 'never')", &err),
		 -EEXIST);
	CHECK(err.msg[0] != 0);
	CHECK_RC(dc_i64(t, c, &err, &n, "SELECT COUNT(*) FROM dc_t WHERE id = 43", NULL), 1);
	CHECK_RC(n, 0);
	DC_OK(dc_do(t, c, &err, NULL, "DELETE FROM dc_t WHERE id >= 40", NULL));

	/* Bad SQL fails (at prepare or at step) with a message; the connection stays usable. */
	sl_err_clear(&err);
	int rc = dc_do(t, c, &err, NULL, "SELEKT nothing FROM nowhere", NULL);
	CHECK(rc < 0 && rc != -EEXIST && rc != -EDEADLK);
	CHECK(err.msg[0] != 0);
	sl_err_clear(&err);
	CHECK(t->d->exec(c, "CREATE TABLEX oops", &err) < 0);
	CHECK(err.msg[0] != 0);
	/* A parameter index out of range is refused. */
	struct sl_sql_stmt *s = NULL;
	DC_OK(t->d->prepare(c, "SELECT v FROM dc_t WHERE id = ?", &s, &err));
	if (s) {
		CHECK(t->d->bind_i64(s, 2, 1) < 0);
		CHECK(t->d->bind_i64(s, 0, 1) < 0);
		t->d->finalize(s);
	}

	/* changes() counts the rows a statement matched, even where no value changed. */
	ch = -1;
	DC_OK(dc_do(t, c, &err, &ch, "UPDATE dc_t SET v = v WHERE id IN (1, 2, 3)", NULL));
	CHECK_RC(ch, 3);
	DC_OK(dc_do(t, c, &err, &ch, "UPDATE dc_t SET v = v + 1 WHERE id >= ?", "i", (int64_t)2));
	CHECK_RC(ch, 2);
	DC_OK(dc_do(t, c, &err, &ch, "UPDATE dc_t SET v = 0 WHERE id = ?", "i", (int64_t)77));
	CHECK_RC(ch, 0);
	DC_OK(dc_do(t, c, &err, &ch, "DELETE FROM dc_t WHERE id <= ?", "i", (int64_t)2));
	CHECK_RC(ch, 2);
	DC_OK(dc_do(t, c, &err, &ch, "DELETE FROM dc_t WHERE id <= ?", "i", (int64_t)2));
	CHECK_RC(ch, 0);
	int64_t v = 0;
	CHECK_RC(dc_i64(t, c, &err, &v, "SELECT v FROM dc_t WHERE id = 3", NULL), 1);
	CHECK_RC(v, 31);
	t->d->disconnect(c);
}

static inline void dc_test_stmt_cache(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	dc_make_tables(t, c);
	/* The same INSERT and SELECT 1000 times each. */
	for (int i = 0; i < 1000; i++)
		DC_OK(dc_do(t, c, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (?, ?)", "ii",
			    (int64_t)i, (int64_t)i * 3));
	int bad = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t v = -1;
		if (dc_i64(t, c, &err, &v, "SELECT v FROM dc_c WHERE id = ?", "i", (int64_t)i) != 1 ||
		    v != (int64_t)i * 3)
			bad++;
	}
	CHECK_RC(bad, 0);
	/* More distinct statements than any cache holds. */
	bad = 0;
	for (int i = 0; i < 400; i++) {
		char sql[96];
		int64_t v = -1;
		snprintf(sql, sizeof(sql), "SELECT v + %d FROM dc_c WHERE id = ?", i);
		if (dc_i64(t, c, &err, &v, sql, "i", (int64_t)i) != 1 || v != (int64_t)i * 4)
			bad++;
	}
	CHECK_RC(bad, 0);

	/* The same SQL open twice at once gets two independent statements. */
	const char *q = "SELECT v FROM dc_c WHERE id >= ? ORDER BY id";
	struct sl_sql_stmt *a = NULL, *b = NULL;
	DC_OK(t->d->prepare(c, q, &a, &err));
	DC_OK(t->d->prepare(c, q, &b, &err));
	REQUIRE(a && b);
	CHECK(a != b);
	CHECK_RC(t->d->bind_i64(a, 1, 10), 0);
	CHECK_RC(t->d->bind_i64(b, 1, 500), 0);
	CHECK_RC(t->d->step(a, &err), 1);
	CHECK_RC(t->d->step(b, &err), 1);
	CHECK_RC(t->d->col_i64(a, 0), 30);
	CHECK_RC(t->d->col_i64(b, 0), 1500);
	CHECK_RC(t->d->step(a, &err), 1);
	CHECK_RC(t->d->col_i64(a, 0), 33);
	CHECK_RC(t->d->col_i64(b, 0), 1500);
	t->d->finalize(b);
	/* Writes on the same connection while a result is open (sql.c does this). */
	int64_t ch = 0;
	DC_OK(dc_do(t, c, &err, &ch, "UPDATE dc_c SET v = v + 1 WHERE id = ?", "i", (int64_t)999));
	CHECK_RC(ch, 1);
	int rows = 2; /* read above */
	int rc;
	while ((rc = t->d->step(a, &err)) == 1)
		rows++;
	CHECK_RC(rc, 0);
	CHECK_RC(rows, 990);
	CHECK_RC(t->d->step(a, &err), 0); /* stays done */
	t->d->finalize(a);
	/* A statement finalized in the middle of its rows is clean when it comes back. */
	DC_OK(t->d->prepare(c, q, &a, &err));
	if (a) {
		CHECK_RC(t->d->bind_i64(a, 1, 0), 0);
		CHECK_RC(t->d->step(a, &err), 1);
		t->d->finalize(a);
	}
	int64_t v = -1;
	CHECK_RC(dc_i64(t, c, &err, &v, q, "i", (int64_t)998), 1);
	CHECK_RC(v, 998 * 3);
	t->d->disconnect(c);
}

static inline void dc_test_transactions(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *a = dc_connect(t), *b = dc_connect(t);
	dc_make_tables(t, a);
	const char *cnt = "SELECT COUNT(*) FROM dc_c WHERE id = ?";
	int64_t n = -1;

	DC_OK(t->d->begin(a, true, &err));
	DC_OK(dc_do(t, a, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (?, ?)", "ii", (int64_t)1,
		    (int64_t)1));
	CHECK_RC(dc_i64(t, a, &err, &n, cnt, "i", (int64_t)1), 1);
	CHECK_RC(n, 1); /* own writes are visible */
	CHECK_RC(dc_i64(t, b, &err, &n, cnt, "i", (int64_t)1), 1);
	CHECK_RC(n, 0); /* others do not see them before commit */
	DC_OK(t->d->commit(a, &err));
	CHECK_RC(dc_i64(t, b, &err, &n, cnt, "i", (int64_t)1), 1);
	CHECK_RC(n, 1);

	DC_OK(t->d->begin(a, true, &err));
	DC_OK(dc_do(t, a, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (?, ?)", "ii", (int64_t)2,
		    (int64_t)2));
	DC_OK(dc_do(t, a, &err, NULL, "UPDATE dc_c SET v = 100 WHERE id = 1", NULL));
	t->d->rollback(a);
	CHECK_RC(dc_i64(t, a, &err, &n, cnt, "i", (int64_t)2), 1);
	CHECK_RC(n, 0);
	CHECK_RC(dc_i64(t, b, &err, &n, cnt, "i", (int64_t)2), 1);
	CHECK_RC(n, 0);
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT v FROM dc_c WHERE id = 1", NULL), 1);
	CHECK_RC(n, 1);

	/* A failed statement inside a transaction, then rollback: the connection works on. */
	DC_OK(t->d->begin(a, false, &err));
	CHECK_RC(dc_do(t, a, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (?, ?)", "ii",
		       (int64_t)1, (int64_t)5), -EEXIST);
	t->d->rollback(a);
	DC_OK(t->d->ping(a, &err));
	DC_OK(t->d->begin(a, false, &err));
	CHECK_RC(dc_i64(t, a, &err, &n, "SELECT COUNT(*) FROM dc_c", NULL), 1);
	CHECK_RC(n, 1);
	DC_OK(t->d->commit(a, &err));
	t->d->disconnect(a);
	t->d->disconnect(b);
}

/* A driver that defers statements (defer, begin_op with taken) sends them in front of the next
 * query: that query reads what they wrote, values come back as a statement executed alone returns
 * them, a deferred statement's error is the next query's, a taken operation id is reported
 * there, rollback drops what waits and commit sends it, and a deferred statement's count of
 * changed rows is there once it has been sent. */
static inline void dc_test_deferred(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *a = dc_connect(t), *b = dc_connect(t);
	if (!t->d->defer || !t->d->batches_statements(a)) {
		printf("[%s] deferred statements: not deferred by this driver\n", t->d->scheme);
		goto out;
	}
	dc_make_tables(t, a);
	dc_exec(t, a, t->d->op_table);
	dc_exec(t, a, "DELETE FROM sluice_op");
	const int64_t big = (int64_t)0x8000000000000001ULL;
	unsigned char bytes[256]; /* every byte: NUL, quotes, backslash */
	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	const char *txt = "it's \\ \"quoted\" \xc3\xa9\xe2\x82\xac";
	int64_t n = -1;
	bool taken = false;

	/* The first query carries BEGIN, the id and a write, and reads the write. */
	DC_OK(t->d->begin_op(a, 11, 99, &taken, &err));
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v, s) VALUES (1, -9223372036854775807, 'w')",
			  NULL, &err));
	struct sl_sql_stmt *s = NULL;
	DC_OK(t->d->prepare(a, "SELECT v, s, ? , ?, ?, ?, ? FROM dc_t WHERE id = ?", &s, &err));
	if (s) {
		CHECK_RC(t->d->bind_i64(s, 1, big), 0);
		CHECK_RC(t->d->bind_blob(s, 2, bytes, sizeof(bytes)), 0);
		CHECK_RC(t->d->bind_text(s, 3, txt), 0);
		CHECK_RC(t->d->bind_null(s, 4), 0);
		CHECK_RC(t->d->bind_blob(s, 5, "", 0), 0);
		CHECK_RC(t->d->bind_i64(s, 6, 1), 0);
		CHECK_RC(t->d->step(s, &err), 1);
		CHECK_RC(t->d->col_i64(s, 0), -9223372036854775807LL);
		size_t len = 0;
		const char *p = t->d->col_blob(s, 1, &len);
		CHECK(len == 1 && p && p[0] == 'w');
		CHECK_RC(t->d->col_i64(s, 2), big);
		p = t->d->col_blob(s, 3, &len);
		CHECK(len == sizeof(bytes) && p && !memcmp(p, bytes, len));
		p = t->d->col_blob(s, 4, &len);
		CHECK(len == strlen(txt) && p && !memcmp(p, txt, len));
		CHECK(t->d->col_null(s, 5));
		CHECK(!t->d->col_null(s, 6));
		t->d->col_blob(s, 6, &len);
		CHECK_RC(len, 0);
		CHECK_RC(t->d->step(s, &err), 0);
		t->d->finalize(s);
	}
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT COUNT(*) FROM sluice_op WHERE id = 11", NULL), 1);
	CHECK_RC(n, 0); /* begun: nothing is seen from outside */
	DC_OK(t->d->commit(a, &err));
	CHECK(!taken);
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT COUNT(*) FROM sluice_op WHERE id = 11", NULL), 1);
	CHECK_RC(n, 1);

	/* A statement that changes rows, sent behind deferred ones, counts its own changes. */
	DC_OK(t->d->begin_op(a, 12, 99, &taken, &err));
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v) VALUES (2, 2)", NULL, &err));
	int64_t ch = -1;
	DC_OK(dc_do(t, a, &err, &ch, "UPDATE dc_t SET v = v + 1 WHERE id >= ?", "i", (int64_t)1));
	CHECK_RC(ch, 2);
	/* Commit sends what waits: the last write goes with it. */
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v) VALUES (3, 3)", NULL, &err));
	DC_OK(t->d->commit(a, &err));
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT SUM(v) FROM dc_t", NULL), 1);
	CHECK_RC(n, -9223372036854775806LL + 3 + 3);

	/* A taken id: the first query fails with EEXIST and says so; the write did not happen. */
	taken = false;
	DC_OK(t->d->begin_op(a, 11, 99, &taken, &err));
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v) VALUES (4, 4)", NULL, &err));
	CHECK_RC(dc_i64(t, a, &err, &n, "SELECT COUNT(*) FROM dc_t", NULL), -EEXIST);
	CHECK(taken);
	t->d->rollback(a);
	/* ... and asked at once (no taken flag), the error comes from begin_op itself. */
	CHECK_RC(t->d->begin_op(a, 11, 99, NULL, &err), -EEXIST);
	t->d->rollback(a);

	/* A deferred write that fails: the next query has its error, the id was not taken. */
	taken = false;
	DC_OK(t->d->begin_op(a, 13, 99, &taken, &err));
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v) VALUES (2, 5)", NULL, &err)); /* duplicate */
	CHECK_RC(dc_i64(t, a, &err, &n, "SELECT COUNT(*) FROM dc_t", NULL), -EEXIST);
	CHECK(!taken);
	t->d->rollback(a);

	/* Rollback drops what waits; the connection works on. */
	DC_OK(t->d->begin_op(a, 14, 99, &taken, &err));
	DC_OK(t->d->defer(a, "INSERT INTO dc_t (id, v) VALUES (5, 5)", NULL, &err));
	t->d->rollback(a);
	CHECK_RC(dc_i64(t, a, &err, &n, "SELECT COUNT(*) FROM dc_t WHERE id >= 4", NULL), 1);
	CHECK_RC(n, 0);
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT COUNT(*) FROM sluice_op WHERE id IN (13, 14)",
			NULL), 1);
	CHECK_RC(n, 0);

	/* Text written out reads back as bound whatever the session's escaping rules. */
	if (!strcmp(t->d->scheme, "mysql")) {
		dc_exec(t, a, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
		DC_OK(t->d->begin_op(a, 15, 99, &taken, &err));
		s = NULL;
		DC_OK(t->d->prepare(a, "SELECT ?", &s, &err));
		if (s) {
			CHECK_RC(t->d->bind_text(s, 1, txt), 0);
			CHECK_RC(t->d->step(s, &err), 1);
			size_t len = 0;
			const char *p = t->d->col_blob(s, 0, &len);
			CHECK(len == strlen(txt) && p && !memcmp(p, txt, len));
			t->d->finalize(s);
		}
		t->d->rollback(a);
	}

	/* A deferred write's count of changed rows arrives with the query that sends it: the
	 * commit's, or the one a second counted write sends first. */
	int64_t gone1 = -1, gone2 = -1;
	taken = false;
	DC_OK(t->d->begin_op(a, 16, 99, &taken, &err));
	DC_OK(t->d->defer(a, "DELETE FROM dc_t WHERE id IN (2, 3)", &gone1, &err));
	CHECK_RC(gone1, -1); /* not sent yet */
	DC_OK(t->d->defer(a, "DELETE FROM dc_t WHERE id = 2", &gone2, &err));
	CHECK_RC(gone1, 2);
	CHECK_RC(gone2, -1);
	DC_OK(t->d->commit(a, &err));
	CHECK_RC(gone2, 0);
	CHECK(!taken);
	CHECK_RC(dc_i64(t, b, &err, &n, "SELECT COUNT(*) FROM dc_t WHERE id IN (2, 3)", NULL), 1);
	CHECK_RC(n, 0);
out:
	t->d->disconnect(a);
	t->d->disconnect(b);
}

/* Many threads, each with its own connection, increment one counter under FOR UPDATE. */
#define DC_THREADS 8
#define DC_INCREMENTS 25

struct dc_worker {
	const struct dc_ctx *t;
	int retries;
	int failures;
	char msg[SL_ERR_MSG_MAX + 64];
};

static inline int dc_increment(const struct dc_ctx *t, struct sl_sql_conn *c, struct sl_err *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT v FROM dc_c WHERE id = 1%s", t->d->for_update);
	int64_t v = 0;
	int rc = t->d->begin(c, true, err);
	if (rc)
		return rc;
	rc = dc_i64(t, c, err, &v, sql, NULL);
	if (rc == 1)
		rc = dc_do(t, c, err, NULL, "UPDATE dc_c SET v = ? WHERE id = 1", "i", v + 1);
	else if (rc == 0)
		rc = -ENOENT;
	if (!rc)
		rc = t->d->commit(c, err);
	if (rc)
		t->d->rollback(c);
	return rc;
}

static inline void *dc_worker_main(void *p)
{
	struct dc_worker *w = p;
	struct sl_err err = {0};
	struct sl_sql_conn *c = NULL;
	unsigned seed = (unsigned)(uintptr_t)p;
	int rc = w->t->d->connect(w->t->url, &c, &err);
	if (rc) {
		snprintf(w->msg, sizeof(w->msg), "connect: %s", err.msg);
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < DC_INCREMENTS; i++) {
		for (int attempt = 0;; attempt++) {
			sl_err_clear(&err);
			rc = dc_increment(w->t, c, &err);
			if (!rc)
				break;
			if ((rc == -EDEADLK || rc == -EBUSY) && attempt < 100) {
				w->retries++;
				dc_sleep_ms(1 + rand_r(&seed) % 5);
				continue;
			}
			snprintf(w->msg, sizeof(w->msg), "increment: %d %s", rc, err.msg);
			w->failures++;
			break;
		}
	}
	w->t->d->disconnect(c);
	return NULL;
}

static inline void dc_test_threads(const struct dc_ctx *t)
{
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	dc_make_tables(t, c);
	DC_OK(dc_do(t, c, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (1, 0)", NULL));
	struct dc_worker w[DC_THREADS];
	pthread_t th[DC_THREADS];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < DC_THREADS; i++) {
		w[i].t = t;
		REQUIRE(pthread_create(&th[i], NULL, dc_worker_main, &w[i]) == 0);
	}
	int retries = 0;
	for (int i = 0; i < DC_THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failures)
			fprintf(stderr, "worker %d: %s\n", i, w[i].msg);
		CHECK_RC(w[i].failures, 0);
		retries += w[i].retries;
	}
	int64_t v = -1;
	CHECK_RC(dc_i64(t, c, &err, &v, "SELECT v FROM dc_c WHERE id = 1", NULL), 1);
	CHECK_RC(v, DC_THREADS * DC_INCREMENTS);
	printf("%d threads x %d increments, %d retries\n", DC_THREADS, DC_INCREMENTS, retries);
	t->d->disconnect(c);
}

/* Two transactions lock two rows in opposite order: the database must break the deadlock and the
 * driver must report it as -EDEADLK on exactly one side. */
struct dc_locker {
	const struct dc_ctx *t;
	struct sl_sql_conn *c;
	pthread_barrier_t *bar;
	int64_t first, second;
	int rc;
	char msg[SL_ERR_MSG_MAX + 64];
};

static inline void *dc_locker_main(void *p)
{
	struct dc_locker *l = p;
	struct sl_err err = {0};
	const char *upd = "UPDATE dc_c SET v = v + 1 WHERE id = ?";
	int rc = l->t->d->begin(l->c, true, &err);
	if (!rc)
		rc = dc_do(l->t, l->c, &err, NULL, upd, "i", l->first);
	pthread_barrier_wait(l->bar);
	if (!rc)
		rc = dc_do(l->t, l->c, &err, NULL, upd, "i", l->second);
	if (!rc)
		rc = l->t->d->commit(l->c, &err);
	if (rc)
		l->t->d->rollback(l->c);
	l->rc = rc;
	snprintf(l->msg, sizeof(l->msg), "%s", err.msg);
	return NULL;
}

static inline void dc_test_deadlock(const struct dc_ctx *t)
{
	if (!t->row_locks)
		return;
	struct sl_err err = {0};
	struct sl_sql_conn *c = dc_connect(t);
	dc_make_tables(t, c);
	DC_OK(dc_do(t, c, &err, NULL, "INSERT INTO dc_c (id, v) VALUES (1, 0), (2, 0)", NULL));
	pthread_barrier_t bar;
	REQUIRE(pthread_barrier_init(&bar, NULL, 2) == 0);
	struct dc_locker l[2] = {
		{.t = t, .c = dc_connect(t), .bar = &bar, .first = 1, .second = 2},
		{.t = t, .c = dc_connect(t), .bar = &bar, .first = 2, .second = 1},
	};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&th[i], NULL, dc_locker_main, &l[i]) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	int deadlocks = (l[0].rc == -EDEADLK) + (l[1].rc == -EDEADLK);
	int ok = (l[0].rc == 0) + (l[1].rc == 0);
	for (int i = 0; i < 2; i++)
		printf("locker %d: rc %d %s\n", i, l[i].rc, l[i].msg);
	CHECK_RC(deadlocks, 1);
	CHECK_RC(ok, 1);
	int64_t v1 = -1, v2 = -1;
	CHECK_RC(dc_i64(t, c, &err, &v1, "SELECT v FROM dc_c WHERE id = 1", NULL), 1);
	CHECK_RC(dc_i64(t, c, &err, &v2, "SELECT v FROM dc_c WHERE id = 2", NULL), 1);
	CHECK_RC(v1, 1);
	CHECK_RC(v2, 1);
	/* The loser's connection is still good after its rollback. */
	for (int i = 0; i < 2; i++) {
		DC_OK(t->d->ping(l[i].c, &err));
		t->d->disconnect(l[i].c);
	}
	t->d->disconnect(c);
}

static inline void dc_run_all(const struct dc_ctx *t)
{
	struct {
		const char *name;
		void (*fn)(const struct dc_ctx *);
	} tests[] = {
		{"driver table", dc_test_table},
		{"schema", dc_test_schema},
		{"values", dc_test_values},
		{"errors and changes", dc_test_errors_and_changes},
		{"statement cache", dc_test_stmt_cache},
		{"transactions", dc_test_transactions},
		{"deferred statements", dc_test_deferred},
		{"threads", dc_test_threads},
		{"deadlock", dc_test_deadlock},
	};
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = tu_failures;
		if (tests[i].fn == dc_test_deadlock && !t->row_locks) {
			printf("[%s] %s: skipped (the engine locks the whole database)\n",
			       t->d->scheme, tests[i].name);
			continue;
		}
		tests[i].fn(t);
		printf("[%s] %s: %s\n", t->d->scheme, tests[i].name,
		       tu_failures == before ? "ok" : "FAILED");
		fflush(stdout);
	}
}

#endif
