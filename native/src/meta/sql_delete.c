/*
 * sql_delete.c - the "sql" backend's deletion of file data: the references of jfs_chunk_ref,
 * dropped chunk by chunk for a deleted file and by a compaction (a slice is reported dead by the
 * one transaction that takes its count to zero), unreferenced slices, jfs_delfile rows, and the
 * release of a file kept open here after its last link went. The rules of sql.c's header hold
 * here too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

/* ---- deletion of file data ------------------------------------------------------------------- */

struct dead_slice {
	uint64_t id;
	uint32_t size;
};

struct chunks_arg {
	sl_ino ino;
	bool alive;
	uint32_t *idx;
	size_t n, cap;
};

static int list_chunks_op(struct tx *t, void *arg)
{
	struct chunks_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT inode FROM jfs_node WHERE inode = ?", "i",
			     (int64_t)a->ino);
	if (rc < 0)
		return rc;
	a->alive = rc > 0;
	t->d->finalize(s);
	if (a->alive)
		return 0;
	rc = sl_sqlq_open(t, &s, "SELECT indx FROM jfs_chunk WHERE inode = ? ORDER BY indx", "i",
			  (int64_t)a->ino);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 16;
			uint32_t *ni = realloc(a->idx, nc * sizeof(*ni));
			if (!ni) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->idx = ni;
			a->cap = nc;
		}
		a->idx[a->n++] = (uint32_t)t->d->col_i64(s, 0);
	}
	t->d->finalize(s);
	return rc;
}

struct del_chunk_arg {
	sl_ino ino;
	uint32_t indx;
	struct dead_slice *dead;
	size_t ndead, cap;
};

/* Drops refs references of slice id; appends it to dead[] when this takes its count to zero. */
static int unref_slice(struct tx *t, uint64_t id, uint32_t refs, struct del_chunk_arg *a)
{
	char sql[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     FU(t, sql, "SELECT refs, size FROM jfs_chunk_ref WHERE chunkid = ?"),
			     "i", (int64_t)id);
	if (rc <= 0)
		return rc; /* no row: nothing to count (juicefs's gc finds such leaks) */
	int64_t old = t->d->col_i64(s, 0);
	uint32_t size = (uint32_t)sl_sql_col_u64(t, s, 1);
	t->d->finalize(s);
	rc = sl_sqlq_exec(t, NULL, "UPDATE jfs_chunk_ref SET refs = refs - ? WHERE chunkid = ?",
			  "ii", (int64_t)refs, (int64_t)id);
	if (rc || !(old > 0 && old - (int64_t)refs <= 0))
		return rc;
	if (a->ndead == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct dead_slice *nd = realloc(a->dead, nc * sizeof(*nd));
		if (!nd)
			return sl_sql_nomem(t);
		a->dead = nd;
		a->cap = nc;
	}
	a->dead[a->ndead++] = (struct dead_slice){id, size};
	return 0;
}

/* Drops one chunk row and one reference per slice record in it. A slice is reported dead only
 * by the transaction that takes its count from positive to zero, so exactly once. */
static int del_chunk_op(struct tx *t, void *arg)
{
	struct del_chunk_arg *a = arg;
	a->ndead = 0;
	uint8_t *buf;
	size_t len;
	int rc = sl_sql_chunk_load(t, a->ino, a->indx, true, &buf, &len);
	if (rc || !buf)
		return rc;
	size_t cnt = len / SL_SLICE_BYTES;
	struct sl_slice *ss = malloc((cnt ? cnt : 1) * sizeof(*ss));
	if (!ss) {
		free(buf);
		return sl_sql_nomem(t);
	}
	for (size_t i = 0; i < cnt; i++)
		sl_slice_decode(buf + i * SL_SLICE_BYTES, &ss[i]);
	free(buf);
	for (size_t i = 0; !rc && i < cnt; i++) {
		if (!ss[i].id)
			continue;
		uint32_t refs = 1; /* this record and any later ones of the same slice */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = ss[j].id == ss[i].id;
		if (seen)
			continue;
		for (size_t j = i + 1; j < cnt; j++)
			refs += ss[j].id == ss[i].id;
		rc = unref_slice(t, ss[i].id, refs, a);
	}
	free(ss);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_chunk WHERE inode = ? AND indx = ?",
				  "ii", (int64_t)a->ino, (int64_t)a->indx);
	return rc;
}

struct compact_arg {
	struct del_chunk_arg dead; /* ino, indx and the dead slices */
	const uint8_t *expect;      /* n encoded records */
	size_t n, skip;
	const struct sl_slice *repl;
	const struct sl_meta_user *u;
	const struct sl_meta_lease *lease;
};

static int compact_op(struct tx *t, void *arg)
{
	struct compact_arg *a = arg;
	a->dead.ndead = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_attr attr;
	int rc = a->u ? sl_sql_data_access(t, a->u, a->dead.ino, SL_MAY_WRITE, &attr) : 0;
	if (!rc)
		rc = sl_sql_lease_check(t, a->dead.ino, a->lease);
	if (!rc)
		rc = sl_sql_chunk_load(t, a->dead.ino, a->dead.indx, true, &buf, &len);
	if (rc)
		return rc;
	size_t cnt = buf ? len / SL_SLICE_BYTES : 0;
	if (cnt < a->n || memcmp(buf, a->expect, a->n * SL_SLICE_BYTES)) {
		free(buf);
		return sl_errf(t->err, -ESTALE, "chunk %u of inode %" PRIu64 " changed while it was "
			       "compacted", a->dead.indx, a->dead.ino);
	}
	struct sl_slice *ss = malloc(a->n * sizeof(*ss));
	if (!ss) {
		free(buf);
		return sl_sql_nomem(t);
	}
	for (size_t i = 0; i < a->n; i++)
		sl_slice_decode(buf + i * SL_SLICE_BYTES, &ss[i]);
	for (size_t i = a->skip; !rc && i < a->n; i++) {
		if (!ss[i].id)
			continue;
		bool seen = false;
		for (size_t j = a->skip; j < i && !seen; j++)
			seen = ss[j].id == ss[i].id;
		if (seen)
			continue;
		uint32_t refs = 1;
		for (size_t j = i + 1; j < a->n; j++)
			refs += ss[j].id == ss[i].id;
		rc = unref_slice(t, ss[i].id, refs, &a->dead);
	}
	free(ss);
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES "
				  "(?, ?, 1)", "ii", (int64_t)a->repl->id, (int64_t)a->repl->size);
	if (!rc) {
		/* [0, skip) + repl + [n, cnt): the list shrinks, so it fits in the old buffer */
		uint8_t *tail = buf + a->n * SL_SLICE_BYTES;
		size_t tail_len = len - a->n * SL_SLICE_BYTES;
		sl_slice_encode(a->repl, buf + a->skip * SL_SLICE_BYTES);
		memmove(buf + (a->skip + 1) * SL_SLICE_BYTES, tail, tail_len);
		rc = sl_sql_chunk_store(t, a->dead.ino, a->dead.indx, true, buf,
					(a->skip + 1) * SL_SLICE_BYTES + tail_len);
	}
	free(buf);
	return rc;
}

int sl_sql_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			 const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			 const struct sl_slice *expect, size_t n, size_t skip,
			 const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			 struct sl_err *err)
{
	if (skip + 2 > n || !sl_sql_new_slice_ok(repl))
		return sl_errf(err, -EINVAL, "compaction needs at least two records and a valid "
			       "slice");
	uint8_t *enc = malloc(n * SL_SLICE_BYTES);
	if (!enc)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		sl_slice_encode(&expect[i], enc + i * SL_SLICE_BYTES);
	struct compact_arg a = {.dead = {.ino = ino, .indx = indx}, .expect = enc, .n = n,
				.skip = skip, .repl = repl, .u = u, .lease = lease};
	int rc = sl_sqlq_run_once(m, compact_op, &a, err);
	for (size_t j = 0; !rc && j < a.dead.ndead; j++)
		if (cb)
			cb(arg, a.dead.dead[j].id, a.dead.dead[j].size);
	free(a.dead.dead);
	free(enc);
	return rc;
}

struct ino_arg {
	sl_ino ino;
};

static int del_delfile_op(struct tx *t, void *arg)
{
	struct ino_arg *a = arg;
	return sl_sqlq_exec(t, NULL, "DELETE FROM jfs_delfile WHERE inode = ?", "i",
			    (int64_t)a->ino);
}

int sl_sql_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
			    struct sl_err *err)
{
	struct chunks_arg ca = {.ino = ino};
	int rc = sl_sqlq_run(m, false, list_chunks_op, &ca, err);
	if (!rc && ca.alive)
		rc = sl_errf(err, -EBUSY, "inode %" PRIu64 " still exists; its data is not deleted",
			     ino);
	int cbrc = 0;
	struct del_chunk_arg da = {.ino = ino};
	for (size_t i = 0; !rc && i < ca.n; i++) {
		da.indx = ca.idx[i];
		if ((rc = sl_sqlq_run(m, true, del_chunk_op, &da, err)))
			break;
		/* The chunk is gone for good now; the caller deletes the blocks of dead slices and
		 * forgets them. A failure leaves the slice with refs 0 for a later cleanup. */
		for (size_t j = 0; j < da.ndead; j++) {
			int r = cb ? cb(arg, da.dead[j].id, da.dead[j].size) : 0;
			if (r && !cbrc)
				cbrc = r < 0 ? r : -EIO;
		}
	}
	free(da.dead);
	free(ca.idx);
	if (!rc) {
		struct ino_arg ia = {ino};
		rc = sl_sqlq_run(m, true, del_delfile_op, &ia, err);
	}
	if (!rc && cbrc)
		rc = sl_errf(err, cbrc, "deleting the slices of inode %" PRIu64 " failed in part; "
			     "they are left for a later cleanup", ino);
	return rc;
}

struct slice_arg {
	uint64_t id;
};

static int forget_slice_op(struct tx *t, void *arg)
{
	struct slice_arg *a = arg;
	/* Only while unreferenced: a slice must never lose a row that something points at. */
	int64_t n = 0;
	int rc = sl_sqlq_exec(t, &n, "DELETE FROM jfs_chunk_ref WHERE chunkid = ? AND refs <= 0",
			      "i", (int64_t)a->id);
	if (!rc && n)
		rc = sl_sql_block_crc_forget(t, a->id); /* its blocks are gone: so are their CRCs */
	if (!rc && n)
		rc = sl_sql_block_claim_forget(t, a->id); /* and nothing is left to upload */
	return rc;
}

int sl_sql_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err)
{
	struct slice_arg a = {id};
	int rc = sl_sql_block_crc_table(m, err);
	if (!rc)
		rc = sl_sql_block_claim_table(m, err);
	return rc ? rc : sl_sqlq_run(m, true, forget_slice_op, &a, err);
}

struct slice_refs_arg {
	uint64_t id;
	int64_t refs;
	uint32_t size;
};

static int slice_refs_op(struct tx *t, void *arg)
{
	struct slice_refs_arg *a = arg;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT refs, size FROM jfs_chunk_ref WHERE chunkid = ?", "i",
			     (int64_t)a->id);
	if (rc <= 0)
		return rc < 0 ? rc : sl_errf(t->err, -ENOENT, "slice %" PRIu64 " has no jfs_chunk_ref "
					     "row", a->id);
	a->refs = t->d->col_i64(s, 0);
	a->size = (uint32_t)sl_sql_col_u64(t, s, 1);
	t->d->finalize(s);
	return 0;
}

int sl_sql_slice_refs(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
		      struct sl_err *err)
{
	struct slice_refs_arg a = {.id = id};
	int rc = sl_sqlq_run(m, false, slice_refs_op, &a, err);
	if (!rc) {
		*refs = a.refs;
		*size = a.size;
	}
	return rc;
}

struct dead_slices_arg {
	struct dead_slice *rows;
	size_t n, cap;
};

static int dead_slices_op(struct tx *t, void *arg)
{
	struct dead_slices_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT chunkid, size FROM jfs_chunk_ref WHERE refs <= 0", "");
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct dead_slice *nr = realloc(a->rows, nc * sizeof(*nr));
			if (!nr) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		a->rows[a->n++] = (struct dead_slice){sl_sql_col_u64(t, s, 0),
						      (uint32_t)sl_sql_col_u64(t, s, 1)};
	}
	t->d->finalize(s);
	return rc;
}

int sl_sql_list_dead_slices(struct sl_meta *m, sl_meta_slice_cb cb, void *arg,
			    struct sl_err *err)
{
	struct dead_slices_arg a = {0};
	int rc = sl_sqlq_run(m, false, dead_slices_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++)
		cb(arg, a.rows[i].id, a.rows[i].size);
	free(a.rows);
	return rc;
}

struct set_if_small_arg {
	const char *name;
	int64_t value, diff;
	bool changed;
};

static int set_if_small_op(struct tx *t, void *arg)
{
	struct set_if_small_arg *a = arg;
	a->changed = false;
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, FU(t, buf, "SELECT value FROM jfs_counter WHERE name = ?"), "t",
			     a->name);
	if (rc < 0)
		return rc;
	bool exists = rc > 0;
	if (exists) {
		int64_t old = t->d->col_i64(s, 0);
		t->d->finalize(s);
		if (old > a->value - a->diff)
			return 0;
		rc = sl_sqlq_exec(t, NULL, "UPDATE jfs_counter SET value = ? WHERE name = ?", "it",
				  a->value, a->name);
	} else {
		rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_counter (name, value) VALUES (?, ?)",
				  "ti", a->name, a->value);
	}
	a->changed = !rc;
	return rc;
}

int sl_sql_set_if_small(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			bool *changed, struct sl_err *err)
{
	struct set_if_small_arg a = {.name = name, .value = value, .diff = diff};
	int rc = sl_sqlq_run(m, true, set_if_small_op, &a, err);
	*changed = !rc && a.changed;
	return rc;
}

struct delfiles_arg {
	int64_t before;
	struct {
		sl_ino ino;
		uint64_t length;
	} *rows;
	size_t n, cap;
};

static int list_delfiles_op(struct tx *t, void *arg)
{
	struct delfiles_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT inode, length FROM jfs_delfile WHERE expire <= ?", "i",
			      a->before);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 16;
			void *nr = realloc(a->rows, nc * sizeof(*a->rows));
			if (!nr) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->rows = nr;
			a->cap = nc;
		}
		a->rows[a->n].ino = sl_sql_col_u64(t, s, 0);
		a->rows[a->n].length = sl_sql_col_u64(t, s, 1);
		a->n++;
	}
	t->d->finalize(s);
	return rc;
}

int sl_sql_list_delfiles(struct sl_meta *m, int64_t before_s,
			 int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			 struct sl_err *err)
{
	struct delfiles_arg a = {.before = before_s};
	int rc = sl_sqlq_run(m, false, list_delfiles_op, &a, err);
	for (size_t i = 0; !rc && i < a.n; i++)
		if (cb(arg, a.rows[i].ino, a.rows[i].length))
			break;
	free(a.rows);
	return rc;
}

struct release_arg {
	sl_ino ino;
	bool orphan;
	struct acct ac;
};

static int release_op(struct tx *t, void *arg)
{
	struct release_arg *a = arg;
	a->orphan = false;
	sl_sql_acct_reset(&a->ac);
	char sql[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     FU(t, sql, "SELECT id FROM jfs_sustained WHERE sid = ? AND inode = ?"),
			     "ii", (int64_t)t->m->sid, (int64_t)a->ino);
	if (rc <= 0)
		return rc;
	t->d->finalize(s);
	return sl_sql_unsustain(t, t->m->sid, a->ino, &a->ac, &a->orphan);
}

int sl_sql_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	struct release_arg a = {.ino = ino};
	*orphan = false;
	if (!m->sid)
		return 0;
	int rc = sl_sqlq_run(m, true, release_op, &a, err);
	if (!rc) {
		sl_sql_acct_apply(m, &a.ac);
		*orphan = a.orphan;
	}
	sl_sql_acct_free(&a.ac);
	return rc;
}
