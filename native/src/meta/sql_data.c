/*
 * sql_data.c - the "sql" backend's file data: the slice records of jfs_chunk (sql.c's codec),
 * read, appended as write_chunk and its group commit write_chunks commit new slices, covered by
 * hole slices by truncate, and moved to the target by concat. The rules of sql.c's header hold
 * here too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

/* ---- file data ------------------------------------------------------------------------------- */

/* The slices blob of a chunk (locked for update when lock); *buf is NULL if there is none. */
int sl_sql_chunk_load(struct tx *t, sl_ino ino, uint32_t indx, bool lock, uint8_t **buf,
		      size_t *len)
{
	char sql[128];
	const char *q = "SELECT slices FROM jfs_chunk WHERE inode = ? AND indx = ?";
	struct sl_sql_stmt *s;
	*buf = NULL;
	*len = 0;
	int rc = sl_sqlq_row(t, &s, lock ? FU(t, sql, q) : q, "ii", (int64_t)ino, (int64_t)indx);
	if (rc <= 0)
		return rc;
	*buf = (uint8_t *)sl_sql_col_dup(t, s, 0, len);
	t->d->finalize(s);
	if (!*buf)
		return sl_sql_nomem(t);
	if (*len % SL_SLICE_BYTES) {
		free(*buf);
		*buf = NULL;
		return sl_errf(t->err, -EIO, "chunk %u of inode %" PRIu64 " is corrupt (%zu bytes of "
			       "slices)", indx, ino, *len);
	}
	return 0;
}

/* Writes a chunk's slices back: existed says whether the row was there (from
 * sl_sql_chunk_load). */
int sl_sql_chunk_store(struct tx *t, sl_ino ino, uint32_t indx, bool existed, const uint8_t *buf,
		       size_t len)
{
	if (existed && !len)
		return sl_sqlq_exec(t, NULL, "DELETE FROM jfs_chunk WHERE inode = ? AND indx = ?",
				    "ii", (int64_t)ino, (int64_t)indx);
	if (existed)
		return sl_sqlq_exec(t, NULL,
				    "UPDATE jfs_chunk SET slices = ? WHERE inode = ? AND indx = ?",
				    "bii", (const void *)buf, len, (int64_t)ino, (int64_t)indx);
	if (!len)
		return 0;
	return sl_sqlq_exec(t, NULL, "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?)",
			    "iib", (int64_t)ino, (int64_t)indx, (const void *)buf, len);
}

/* Appends slice records to a chunk in one statement, the chunk's row made if it has none.
 * (Read and written back, a chunk's records went to the client and back on every hflush.) */
static int chunk_append(struct tx *t, sl_ino ino, uint32_t indx, const uint8_t *add, size_t n)
{
	return sl_sqlq_write(t, t->d->upsert_slices, "iib", (int64_t)ino, (int64_t)indx,
			     (const void *)add, n);
}

static int append_hole(struct tx *t, sl_ino ino, uint32_t indx, uint32_t pos, uint32_t len)
{
	uint8_t rec[SL_SLICE_BYTES];
	struct sl_slice s = {.pos = pos, .len = len};
	sl_slice_encode(&s, rec);
	return chunk_append(t, ino, indx, rec, sizeof(rec));
}

/* A read of a file deleted (by another client) while it was read must fail, not read as zeros. */
static int deleted_while_read(struct tx *t, sl_ino ino)
{
	sl_err_clear(t->err);
	return sl_errf(t->err, -ESTALE, "inode %" PRIu64 " was deleted while it was being read", ino);
}

/* The data slots' rule (meta.h): u may read or write the file attr describes; its owner always
 * may. */
static int data_denied(struct tx *t, const struct sl_meta_user *u, sl_ino ino,
		       const struct sl_attr *attr, int mask)
{
	struct sl_acl rule;
	const struct sl_acl *acl = NULL;
	if (u && attr->access_acl && u->uid != attr->uid) {
		int rc = sl_sql_acl_get(t, attr->access_acl, &rule);
		if (rc)
			return rc;
		acl = &rule;
	}
	if (!sl_meta_data_denied(u, attr, acl, mask))
		return 0;
	return sl_errf(t->err, -EACCES, "permission denied: %s inode %" PRIu64,
		       mask == SL_MAY_READ ? "reading" : "writing", ino);
}

/* Loads ino and applies data_denied. */
int sl_sql_data_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
		       struct sl_attr *attr)
{
	int rc = sl_sql_node_get(t, ino, false, attr);
	if (rc == -ENOENT && mask == SL_MAY_READ)
		return deleted_while_read(t, ino);
	return rc ? rc : data_denied(t, u, ino, attr, mask);
}

int sl_sqlq_file_check(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
		       const struct sl_attr *attr)
{
	if (attr->type != SL_TYPE_FILE)
		return attr->type == SL_TYPE_DIR
			       ? sl_errf(t->err, -EISDIR, "inode %" PRIu64 " is a directory", ino)
			       : sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a regular file",
					 ino);
	return u ? data_denied(t, u, ino, attr, mask) : 0;
}

int sl_sqlq_file_access(struct tx *t, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_attr *attr)
{
	int rc = sl_sql_node_get(t, ino, false, attr);
	return rc ? rc : sl_sqlq_file_check(t, u, ino, mask, attr);
}

struct next_chunk_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint32_t from, next;
};

static int next_chunk_op(struct tx *t, void *arg)
{
	struct next_chunk_arg *a = arg;
	struct sl_attr attr;
	int rc = sl_sql_data_access(t, a->u, a->ino, SL_MAY_READ, &attr);
	struct sl_sql_stmt *s;
	if (!rc)
		rc = sl_sqlq_row(t, &s,
				 "SELECT MIN(indx) FROM jfs_chunk WHERE inode = ? AND indx >= ?",
				 "ii", (int64_t)a->ino, (int64_t)a->from);
	if (rc < 0)
		return rc;
	bool none = !rc || t->d->col_null(s, 0);
	if (rc)
		a->next = none ? 0 : (uint32_t)t->d->col_i64(s, 0);
	if (rc)
		t->d->finalize(s);
	return none ? -ENOENT : 0;
}

int sl_sql_next_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		      uint32_t from, uint32_t *next, struct sl_err *err)
{
	struct next_chunk_arg a = {.u = u, .ino = ino, .from = from};
	int rc = sl_sqlq_run(m, false, next_chunk_op, &a, err);
	if (rc == -ENOENT)
		sl_err_clear(err);
	else if (!rc)
		*next = a.next;
	return rc;
}

struct read_chunk_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint32_t indx;
	uint8_t *buf;
	size_t len;
};

static int read_chunk_op(struct tx *t, void *arg)
{
	struct read_chunk_arg *a = arg;
	free(a->buf);
	a->buf = NULL;
	struct sl_attr attr;
	int rc = a->u ? sl_sql_data_access(t, a->u, a->ino, SL_MAY_READ, &attr) : 0;
	if (!rc)
		rc = sl_sql_chunk_load(t, a->ino, a->indx, false, &a->buf, &a->len);
	if (rc || a->len || a->u) /* with a caller, sl_sql_data_access has seen the inode */
		return rc;
	/* No slices: a hole, or a file deleted while it was read, whose data is gone. */
	rc = sl_sql_node_get(t, a->ino, false, &attr);
	return rc == -ENOENT ? deleted_while_read(t, a->ino) : rc;
}

int sl_sql_read_chunk(struct sl_meta *m, const struct sl_meta_user *u,
		      sl_ino ino, uint32_t indx, struct sl_slice **slices,
		      size_t *n, struct sl_err *err)
{
	struct read_chunk_arg a = {.u = u, .ino = ino, .indx = indx};
	*slices = NULL;
	*n = 0;
	int rc = sl_sqlq_run(m, false, read_chunk_op, &a, err);
	size_t cnt = a.len / SL_SLICE_BYTES;
	if (!rc && cnt) {
		struct sl_slice *ss = malloc(cnt * sizeof(*ss));
		if (!ss) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
		} else {
			for (size_t i = 0; i < cnt; i++)
				sl_slice_decode(a.buf + i * SL_SLICE_BYTES, &ss[i]);
			*slices = ss;
			*n = cnt;
		}
	}
	free(a.buf);
	return rc;
}

/* Loads the regular file ino is, locked; with l, its lease row too, in the same query. */
static int file_for_data(struct tx *t, sl_ino ino, struct sl_attr *a, struct sl_sql_lease_row *l)
{
	int rc = l ? sl_sql_node_lease_get(t, ino, a, l) : sl_sql_node_get(t, ino, true, a);
	if (rc)
		return rc;
	if (a->type == SL_TYPE_DIR)
		return sl_errf(t->err, -EISDIR, "inode %" PRIu64 " is a directory", ino);
	if (a->type != SL_TYPE_FILE)
		return sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is not a regular file", ino);
	return 0;
}

static int set_length(struct tx *t, sl_ino ino, uint64_t length, int64_t mtime, int64_t ctime)
{
	return sl_sqlq_write(t, "UPDATE jfs_node SET length = ?, mtime = ?, mtimensec = ?, ctime = ?, "
			     "ctimensec = ? WHERE inode = ?",
			     "iiiiii", (int64_t)length, sl_time_us(mtime), sl_time_nsrem(mtime),
			     sl_time_us(ctime), sl_time_nsrem(ctime), (int64_t)ino);
}

struct write_chunk_arg {
	const struct sl_meta_user *u;
	const struct sl_meta_lease *lease;
	sl_ino ino;
	uint32_t indx;
	const struct sl_slice *s;
	int64_t mtime;
	bool end_lease;
	struct sl_attr attr;
	int64_t dlen, dspace;
};

struct write_chunks_arg {
	struct write_chunk_arg *a;
	size_t n;
	bool *done; /* records of inodes handled already (per attempt) */
};


/* The records of inode a[first].ino, from first on: checked one by one as write_chunk checks
 * them (permission, lease, immutability, sizes), but the inode and its lease (one query) and
 * each chunk are read and written once for all of them. A stream's hflushes that meet commit
 * several slices of one file; the cost of the transaction then grows by one statement per slice,
 * not four. */
static int write_inode_records(struct tx *t, struct write_chunks_arg *b, size_t first)
{
	struct write_chunk_arg *a = b->a;
	sl_ino ino = a[first].ino;
	struct sl_attr n;
	struct sl_sql_lease_row lease_row;
	bool leased = false;
	for (size_t i = first; i < b->n && !leased; i++)
		leased = a[i].ino == ino && a[i].lease;
	int rc = file_for_data(t, ino, &n, leased ? &lease_row : NULL);
	if (rc)
		return rc;
	int64_t grown = 0;
	for (size_t i = first; i < b->n; i++) {
		if (a[i].ino != ino)
			continue;
		b->done[i] = true;
		if (a[i].u && (rc = data_denied(t, a[i].u, ino, &n, SL_MAY_WRITE)))
			return rc;
		if ((rc = sl_sql_lease_check_row(t, ino, a[i].lease, &lease_row)))
			return rc;
		if (n.flags & SL_FLAG_IMMUTABLE)
			return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", ino);
		uint64_t end = (uint64_t)a[i].indx * SL_CHUNK_SIZE + a[i].s->pos + a[i].s->len;
		a[i].dlen = a[i].dspace = 0;
		if (end > n.length) {
			a[i].dlen = (int64_t)(end - n.length);
			a[i].dspace = sl_sql_jfs_space(end) - sl_sql_jfs_space(n.length);
			grown += a[i].dspace;
			n.length = end;
		}
		n.mtime_ns = a[i].mtime;
		n.ctime_ns = sl_real_ns();
		a[i].attr = n; /* the file as this record leaves it */
		if ((rc = sl_sqlq_write(t, "INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES "
					"(?, ?, 1)", "ii", (int64_t)a[i].s->id, (int64_t)a[i].s->size)))
			return rc == -EEXIST ? sl_errf(t->err, -EEXIST, "slice %" PRIu64 " is already "
						       "committed", a[i].s->id) : rc;
	}
	if ((rc = sl_meta_check_capacity(t->m, grown, 0, t->err)) ||
	    (rc = sl_sql_quota_check(t, n.parent, grown, 0)))
		return rc;
	/* each chunk once, its new slices appended in the order of the records */
	for (size_t i = first; i < b->n; i++) {
		if (a[i].ino != ino)
			continue;
		bool seen = false;
		for (size_t k = first; k < i && !seen; k++)
			seen = a[k].ino == ino && a[k].indx == a[i].indx;
		if (seen)
			continue;
		size_t cnt = 0;
		for (size_t k = i; k < b->n; k++)
			cnt += a[k].ino == ino && a[k].indx == a[i].indx;
		uint8_t *recs = malloc(cnt * SL_SLICE_BYTES);
		if (!recs)
			return sl_sql_nomem(t);
		size_t at = 0;
		for (size_t k = i; k < b->n; k++)
			if (a[k].ino == ino && a[k].indx == a[i].indx)
				sl_slice_encode(a[k].s, recs + SL_SLICE_BYTES * at++);
		rc = chunk_append(t, ino, a[i].indx, recs, cnt * SL_SLICE_BYTES);
		free(recs);
		if (rc)
			return rc;
	}
	return set_length(t, ino, n.length, n.mtime_ns, n.ctime_ns);
}

static int write_chunks_op(struct tx *t, void *arg)
{
	struct write_chunks_arg *b = arg;
	memset(b->done, 0, b->n * sizeof(*b->done));
	for (size_t i = 0; i < b->n; i++) {
		if (b->done[i])
			continue;
		int rc = write_inode_records(t, b, i);
		if (rc)
			return rc;
	}
	/* a stream's last commit ends its lease (checked above, row locked) */
	for (size_t i = 0; i < b->n; i++) {
		const struct write_chunk_arg *a = &b->a[i];
		int rc = a->end_lease && a->lease
				 ? sl_sqlq_write(t, "DELETE FROM sluice_lease WHERE inode = ? AND "
						 "sid = ? AND gen = ?", "iii", (int64_t)a->ino,
						 (int64_t)a->lease->sid, (int64_t)a->lease->gen)
				 : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* A slice to be added to a chunk: data of its own (no hole), within the chunk, and within its
 * slice, which is at most a chunk (so it has at most a chunk's blocks to store and delete). */
bool sl_sql_new_slice_ok(const struct sl_slice *s)
{
	return s->id && s->len && s->size <= SL_CHUNK_SIZE &&
	       (uint64_t)s->pos + s->len <= SL_CHUNK_SIZE && (uint64_t)s->off + s->len <= s->size;
}

static int check_new_slice(uint32_t indx, const struct sl_slice *s, struct sl_err *err)
{
	if (indx >= SL_MAX_FILE_LENGTH / SL_CHUNK_SIZE)
		return sl_errf(err, -EFBIG, "chunk %u is past the largest file size", indx);
	if (!sl_sql_new_slice_ok(s))
		return sl_errf(err, -EINVAL, "invalid slice (id %" PRIu64 ", pos %u, size %u, off %u, "
			       "len %u)", s->id, s->pos, s->size, s->off, s->len);
	return 0;
}

/* write_chunk's checks and effects for every record, in one transaction (group commit); the
 * usage of each record's parent directory is accounted once it committed. */
static int write_records(struct sl_meta *m, struct write_chunk_arg *a, size_t n,
			 struct sl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = check_new_slice(a[i].indx, a[i].s, err);
		if (rc)
			return rc;
	}
	struct write_chunks_arg b = {.a = a, .n = n, .done = calloc(n, sizeof(*b.done))};
	if (!b.done)
		return sl_errf(err, -ENOMEM, "out of memory");
	int rc = sl_sqlq_run_once(m, write_chunks_op, &b, err);
	free(b.done);
	for (size_t i = 0; !rc && i < n; i++)
		if (a[i].dlen || a[i].dspace)
			sl_sql_account(m, a[i].attr.parent, a[i].dlen, a[i].dspace, 0);
	return rc;
}

int sl_sql_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
		       const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
		       const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
		       struct sl_err *err)
{
	struct write_chunk_arg a = {.u = u, .lease = lease, .ino = ino, .indx = indx, .s = s,
				    .mtime = mtime_ns};
	int rc = write_records(m, &a, 1, err);
	if (!rc && attr)
		*attr = a.attr;
	return rc;
}

int sl_sql_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			size_t *done, struct sl_err *err)
{
	*done = 0;
	struct write_chunk_arg *a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		a[i] = (struct write_chunk_arg){.u = recs[i].u, .lease = recs[i].lease,
						.ino = recs[i].ino, .indx = recs[i].indx,
						.s = &recs[i].s, .mtime = recs[i].mtime_ns,
						.end_lease = recs[i].end_lease};
	int rc = write_records(m, a, n, err);
	for (size_t i = 0; !rc && i < n; i++)
		recs[i].attr = a[i].attr;
	if (!rc)
		*done = n;
	free(a);
	return rc;
}

struct truncate_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	uint64_t length;
	struct sl_attr attr;
	int64_t dlen, dspace;
};

/* As juicefs: the range between the old and the new length gets hole slices (in the partial
 * chunks at both ends, and in every chunk row in between), so that data beyond a shrunk length
 * never reappears when the file grows again, and a grown file reads zeros. */
static int truncate_op(struct tx *t, void *arg)
{
	struct truncate_arg *a = arg;
	struct sl_attr *n = &a->attr;
	a->dlen = a->dspace = 0;
	int rc = file_for_data(t, a->ino, n, NULL);
	if (rc)
		return rc;
	if (n->flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable or append-only",
			       a->ino);
	if ((rc = sl_sql_may(t, a->u, a->ino, n, SL_MAY_WRITE, "cannot write to the file")))
		return rc;
	if ((rc = sl_sql_lease_idle(t, a->ino, "truncate")))
		return rc;
	if (a->length == n->length)
		return 0;
	a->dlen = (int64_t)a->length - (int64_t)n->length;
	a->dspace = sl_sql_jfs_space(a->length) - sl_sql_jfs_space(n->length);
	if ((rc = sl_meta_check_capacity(t->m, a->dspace, 0, t->err)) ||
	    (rc = sl_sql_quota_check(t, n->parent, a->dspace, 0)))
		return rc;
	uint64_t left = n->length < a->length ? n->length : a->length;
	uint64_t right = n->length < a->length ? a->length : n->length;
	uint64_t lc = left / SL_CHUNK_SIZE, rcix = right / SL_CHUNK_SIZE;
	/* Existing chunks strictly between the two ends get a hole over the whole chunk. */
	uint32_t *mid = NULL;
	size_t nmid = 0, cap = 0;
	if (rcix - lc > 1) {
		char sql[160];
		struct sl_sql_stmt *s;
		rc = sl_sqlq_open(t, &s,
				  FU(t, sql, "SELECT indx FROM jfs_chunk WHERE inode = ? AND "
					    "indx > ? AND indx < ?"),
				  "iii", (int64_t)a->ino, (int64_t)lc, (int64_t)rcix);
		while (!rc && (rc = t->d->step(s, t->err)) > 0) {
			rc = 0;
			if (nmid == cap) {
				size_t nc = cap ? cap * 2 : 16;
				uint32_t *nm = realloc(mid, nc * sizeof(*nm));
				if (!nm) {
					rc = sl_sql_nomem(t);
					break;
				}
				mid = nm;
				cap = nc;
			}
			mid[nmid++] = (uint32_t)t->d->col_i64(s, 0);
		}
		t->d->finalize(s);
	}
	uint32_t first_len = (uint32_t)(right - left);
	if (right > (lc + 1) * SL_CHUNK_SIZE)
		first_len = (uint32_t)(SL_CHUNK_SIZE - left % SL_CHUNK_SIZE);
	if (!rc)
		rc = append_hole(t, a->ino, (uint32_t)lc, (uint32_t)(left % SL_CHUNK_SIZE),
				 first_len);
	for (size_t i = 0; !rc && i < nmid; i++)
		rc = append_hole(t, a->ino, mid[i], 0, (uint32_t)SL_CHUNK_SIZE);
	if (!rc && right > (lc + 1) * SL_CHUNK_SIZE && right % SL_CHUNK_SIZE)
		rc = append_hole(t, a->ino, (uint32_t)rcix, 0, (uint32_t)(right % SL_CHUNK_SIZE));
	free(mid);
	if (rc)
		return rc;
	n->length = a->length;
	n->mtime_ns = n->ctime_ns = sl_real_ns();
	return set_length(t, a->ino, n->length, n->mtime_ns, n->ctime_ns);
}

int sl_sql_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    uint64_t length, struct sl_attr *attr, struct sl_err *err)
{
	if (length >= SL_MAX_FILE_LENGTH)
		return sl_errf(err, -EFBIG, "a length of %" PRIu64 " is past the largest file size",
			       length);
	struct truncate_arg a = {.u = u, .ino = ino, .length = length};
	int rc = sl_sql_lease_ready(m, err);
	if (!rc)
		rc = sl_sqlq_run_once(m, truncate_op, &a, err);
	if (rc)
		return rc;
	if (a.dlen || a.dspace)
		sl_sql_account(m, a.attr.parent, a.dlen, a.dspace, 0);
	if (attr)
		*attr = a.attr;
	return 0;
}

/* Slice records to append to the chunks of the concat target, by chunk index. */
struct pending_chunk {
	uint32_t indx;
	uint8_t *buf;
	size_t len, cap;
};
struct pending {
	struct pending_chunk *c;
	size_t n, cap;
};

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->c[i].buf);
	free(p->c);
	memset(p, 0, sizeof(*p));
}

static int pending_add(struct tx *t, struct pending *p, uint32_t indx, const struct sl_slice *s)
{
	struct pending_chunk *c = p->n && p->c[p->n - 1].indx == indx ? &p->c[p->n - 1] : NULL;
	for (size_t i = 0; !c && i < p->n; i++)
		if (p->c[i].indx == indx)
			c = &p->c[i];
	if (!c) {
		if (p->n == p->cap) {
			size_t nc = p->cap ? p->cap * 2 : 8;
			struct pending_chunk *np = realloc(p->c, nc * sizeof(*np));
			if (!np)
				return sl_sql_nomem(t);
			p->c = np;
			p->cap = nc;
		}
		c = &p->c[p->n++];
		memset(c, 0, sizeof(*c));
		c->indx = indx;
	}
	if (c->len + SL_SLICE_BYTES > c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16 * SL_SLICE_BYTES;
		uint8_t *nb = realloc(c->buf, nc);
		if (!nb)
			return sl_sql_nomem(t);
		c->buf = nb;
		c->cap = nc;
	}
	sl_slice_encode(s, c->buf + c->len);
	c->len += SL_SLICE_BYTES;
	return 0;
}

struct concat_arg {
	const struct sl_meta_user *u;
	sl_ino target;
	const sl_ino *srcs;
	size_t n;
	struct acct ac;
};

/* Moves the chunks of src (length slen) to the target at offset off: every slice record within
 * the file's length is rewritten at its new position (split in two where it crosses a chunk
 * boundary of the target: one more reference), clipped at the source's length. Records wholly
 * beyond the length (hidden data left by a truncate) stay with src, which then gets a jfs_delfile
 * row so that the usual deletion drops them; so every reference is accounted exactly once. */
static int concat_move(struct tx *t, sl_ino src, uint64_t slen, uint64_t off, struct pending *p,
		       bool *leftover)
{
	struct idx_list {
		uint32_t *v;
		size_t n, cap;
	} idx = {0};
	struct sl_sql_stmt *s;
	char sql[128];
	int rc = sl_sqlq_open(t, &s, FU(t, sql, "SELECT indx FROM jfs_chunk WHERE inode = ?"), "i",
			      (int64_t)src);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (idx.n == idx.cap) {
			size_t nc = idx.cap ? idx.cap * 2 : 16;
			uint32_t *nv = realloc(idx.v, nc * sizeof(*nv));
			if (!nv) {
				rc = sl_sql_nomem(t);
				break;
			}
			idx.v = nv;
			idx.cap = nc;
		}
		idx.v[idx.n++] = (uint32_t)t->d->col_i64(s, 0);
	}
	t->d->finalize(s);
	for (size_t k = 0; !rc && k < idx.n; k++) {
		uint32_t ci = idx.v[k];
		uint64_t base = (uint64_t)ci * SL_CHUNK_SIZE;
		uint8_t *buf;
		size_t len;
		if ((rc = sl_sql_chunk_load(t, src, ci, true, &buf, &len)))
			break;
		uint64_t valid = base >= slen ? 0 : slen - base;
		if (valid > SL_CHUNK_SIZE)
			valid = SL_CHUNK_SIZE;
		size_t keep = 0; /* records left with src, compacted at the front of buf */
		for (size_t i = 0; !rc && i < len; i += SL_SLICE_BYTES) {
			struct sl_slice sl;
			sl_slice_decode(buf + i, &sl);
			if (sl.pos >= valid) {
				memmove(buf + keep, buf + i, SL_SLICE_BYTES);
				keep += SL_SLICE_BYTES;
				continue;
			}
			if (sl.pos + (uint64_t)sl.len > valid)
				sl.len = (uint32_t)(valid - sl.pos);
			uint64_t dst = off + base + sl.pos;
			uint32_t dpos = (uint32_t)(dst % SL_CHUNK_SIZE);
			uint32_t dindx = (uint32_t)(dst / SL_CHUNK_SIZE);
			if ((uint64_t)dpos + sl.len <= SL_CHUNK_SIZE) {
				sl.pos = dpos;
				rc = pending_add(t, p, dindx, &sl);
				continue;
			}
			struct sl_slice head = sl, tail = sl;
			head.pos = dpos;
			head.len = (uint32_t)(SL_CHUNK_SIZE - dpos);
			tail.pos = 0;
			tail.off = sl.off + head.len;
			tail.len = sl.len - head.len;
			rc = pending_add(t, p, dindx, &head);
			if (!rc)
				rc = pending_add(t, p, dindx + 1, &tail);
			if (!rc && sl.id)
				rc = sl_sqlq_exec(t, NULL,
						  "UPDATE jfs_chunk_ref SET refs = refs + 1 WHERE "
						  "chunkid = ?", "i", (int64_t)sl.id);
		}
		if (!rc)
			rc = sl_sql_chunk_store(t, src, ci, true, buf, keep);
		if (keep)
			*leftover = true;
		free(buf);
	}
	free(idx.v);
	return rc;
}

static int concat_op(struct tx *t, void *arg)
{
	struct concat_arg *a = arg;
	sl_sql_acct_reset(&a->ac);
	struct pending p = {0};
	struct sl_attr ta, sa, pa;
	int rc;
	/* Lock the files in inode order, so that concurrent operations cannot deadlock. */
	sl_ino *order = malloc((a->n + 1) * sizeof(*order));
	if (!order)
		return sl_sql_nomem(t);
	order[0] = a->target;
	for (size_t i = 0; i < a->n; i++)
		order[i + 1] = a->srcs[i];
	for (size_t i = 1; i <= a->n; i++)
		for (size_t j = i; j > 0 && order[j - 1] > order[j]; j--) {
			sl_ino x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	rc = 0;
	for (size_t i = 0; !rc && i <= a->n; i++) {
		if (i && order[i] == order[i - 1])
			rc = sl_errf(t->err, -EINVAL, "inode %" PRIu64 " is given twice to concat",
				     order[i]);
		else
			rc = file_for_data(t, order[i], &sa, NULL);
	}
	free(order);
	if (rc)
		return rc;
	if ((rc = sl_sql_node_get(t, a->target, true, &ta)))
		return rc;
	if (ta.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->target);
	if ((rc = sl_sql_may(t, a->u, a->target, &ta, SL_MAY_WRITE,
			      "cannot write to the concat target")))
		return rc;
	if ((rc = sl_sql_lease_idle(t, a->target, "concat to")))
		return rc;
	uint64_t off = ta.length;
	int64_t now = sl_real_ns();
	for (size_t i = 0; !rc && i < a->n; i++) {
		sl_ino src = a->srcs[i];
		if ((rc = sl_sql_node_get(t, src, true, &sa)))
			break;
		/* Hadoop: the sources need READ, and WRITE on their directories (they go away). */
		if ((rc = sl_sql_may(t, a->u, src, &sa, SL_MAY_READ, "cannot read a concat source")))
			break;
		if (sa.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND)) {
			rc = sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", src);
			break;
		}
		if (sa.nlink != 1 || !sa.parent) {
			rc = sl_errf(t->err, -EINVAL, "concat source %" PRIu64 " has %u links; only "
				     "files with one name can be concatenated", src, sa.nlink);
			break;
		}
		if ((rc = sl_sql_dir_for_change(t, a->u, sa.parent, &pa)))
			break;
		if (sl_meta_sticky_denies(a->u, &pa, &sa)) {
			rc = sl_sql_deny(t, "sticky directory: cannot remove a concat source",
					 sa.parent);
			break;
		}
		if ((rc = sl_sql_lease_idle(t, src, "concat")))
			break;
		if (sa.length >= SL_MAX_FILE_LENGTH - off) {
			rc = sl_errf(t->err, -EFBIG, "concat would make inode %" PRIu64 " longer than "
				     "the largest file size", a->target);
			break;
		}
		/* what moves from another directory counts toward the quotas over the target's */
		if ((rc = sl_sql_quota_check_move(t, sa.parent, ta.parent,
						  sl_sql_jfs_space(sa.length), 0)))
			break;
		bool leftover = false;
		if ((rc = concat_move(t, src, sa.length, off, &p, &leftover)))
			break;
		off += sa.length;
		if (leftover)
			rc = sl_sqlq_exec(t, NULL,
					  "INSERT INTO jfs_delfile (inode, length, expire) VALUES "
					  "(?, ?, ?)", "iii", (int64_t)src, (int64_t)sa.length,
					  now / 1000000000LL);
		if (!rc)
			rc = sl_sqlq_exec(t, NULL,
					  "DELETE FROM jfs_edge WHERE parent = ? AND inode = ?",
					  "ii", (int64_t)sa.parent, (int64_t)src);
		if (!rc)
			rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i",
					  (int64_t)src);
		if (!rc)
			rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_xattr WHERE inode = ?", "i",
					  (int64_t)src);
		if (!rc)
			rc = sl_sql_dir_touch(t, sa.parent, 0, now);
		if (!rc)
			rc = sl_sql_acct_dir(t, &a->ac, sa.parent, -(int64_t)sa.length,
					     -sl_sql_jfs_space(sa.length), -1);
		sl_sql_acct_total(&a->ac, -sl_sql_jfs_space(sa.length), -1);
	}
	for (size_t i = 0; !rc && i < p.n; i++)
		rc = chunk_append(t, a->target, p.c[i].indx, p.c[i].buf, p.c[i].len);
	pending_free(&p);
	if (rc)
		return rc;
	int64_t dspace = sl_sql_jfs_space(off) - sl_sql_jfs_space(ta.length);
	if ((rc = sl_sql_acct_dir(t, &a->ac, ta.parent, (int64_t)(off - ta.length), dspace, 0)))
		return rc;
	sl_sql_acct_total(&a->ac, dspace, 0);
	return set_length(t, a->target, off, now, now);
}

int sl_sql_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		  const sl_ino *srcs, size_t n, struct sl_err *err)
{
	struct concat_arg a = {.u = u, .target = target, .srcs = srcs, .n = n};
	for (size_t i = 0; i < n; i++)
		if (srcs[i] == target)
			return sl_errf(err, -EINVAL, "cannot concat inode %" PRIu64 " to itself",
				       target);
	int rc = n ? sl_sql_lease_ready(m, err) : 0;
	if (n && !rc)
		rc = sl_sqlq_run_once(m, concat_op, &a, err);
	if (!rc)
		sl_sql_acct_apply(m, &a.ac);
	sl_sql_acct_free(&a.ac);
	return rc;
}
