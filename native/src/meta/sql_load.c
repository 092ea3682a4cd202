/*
 * sql_load.c - the "sql" backend's load slot (`sluice load`: a juicefs-format dump into a freshly
 * formatted database). The dump's rows go in as they were, inode numbers kept, in transactions of
 * a few hundred rows; what the dump does not carry is computed from its rows the way juicefs load
 * computes it: jfs_chunk_ref (one reference per slice record), jfs_dir_stats (each directory's
 * entries), the quotas' usage, usedSpace and totalInodes, and the id counters past every id in
 * use. The rules of sql.c's header hold here too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../chunk/slice.h"
#include "sql_internal.h"

#define LOAD_BATCH 500

enum phase { NODES, EDGES, CHUNKS, REFS, XATTRS, STATS, DELFILES, SETTINGS, QUOTAS, DONE };

struct slice_ref {
	uint64_t id;
	uint32_t size;
	int64_t refs;
};

struct dir_stat {
	sl_ino dir;
	int64_t length, space, inodes;
};

struct load_arg {
	const struct sl_meta_dumped *d;
	enum phase phase;
	size_t at; /* the next item of the phase */
	struct slice_ref *refs;
	size_t nrefs;
	struct dir_stat *stats;
	size_t nstats;
};

static int by_ino(const void *a, const void *b)
{
	const struct sl_meta_dumped_node *x = a, *y = b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

static int by_slice(const void *a, const void *b)
{
	const struct slice_ref *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static int by_dir(const void *a, const void *b)
{
	const struct dir_stat *x = a, *y = b;
	return (x->dir > y->dir) - (x->dir < y->dir);
}

static const struct sl_meta_dumped_node *node_of(const struct sl_meta_dumped *d, sl_ino ino)
{
	struct sl_meta_dumped_node key = {.ino = ino};
	return bsearch(&key, d->nodes, d->nnodes, sizeof(key), by_ino);
}

/* One node, its ACL rules stored (shared with identical ones) and its symlink target. The root
 * and the trash exist already (format made them): their rows are replaced. */
static int load_node(struct tx *t, const struct sl_meta_dumped_node *n)
{
	struct sl_attr a = n->attr;
	int rc = 0;
	a.access_acl = a.default_acl = 0;
	if (n->access)
		rc = sl_sql_acl_put(t, n->access, &a.access_acl);
	if (!rc && n->def)
		rc = sl_sql_acl_put(t, n->def, &a.default_acl);
	if (!rc && (n->ino == SL_ROOT_INO || n->ino == SL_TRASH_INO))
		rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_node WHERE inode = ?", "i",
				  (int64_t)n->ino);
	if (!rc && a.type == SL_TYPE_DIR)
		rc = sl_sqlq_exec(t, NULL, "DELETE FROM jfs_dir_stats WHERE inode = ?", "i",
				  (int64_t)n->ino);
	if (!rc && a.type == SL_TYPE_DIR)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
				   "used_inodes) VALUES (?, 0, 0, 0)", "i", (int64_t)n->ino);
	if (!rc)
		rc = sl_sql_node_insert(t, n->ino, &a);
	if (!rc && n->symlink)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_symlink (inode, target) VALUES (?, ?)", "ib",
				   (int64_t)n->ino, n->symlink, strlen(n->symlink));
	return rc;
}

static int load_chunk(struct tx *t, const struct sl_meta_dumped_chunk *c)
{
	uint8_t *buf = malloc(c->n * SL_SLICE_BYTES + 1);
	if (!buf)
		return sl_sql_nomem(t);
	for (size_t i = 0; i < c->n; i++)
		sl_slice_encode(&c->ss[i], buf + i * SL_SLICE_BYTES);
	int rc = sl_sqlq_write(t, "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?)",
			       "iib", (int64_t)c->ino, (int64_t)c->indx, buf, c->n * SL_SLICE_BYTES);
	free(buf);
	return rc;
}

/* The quota of q->ino with the usage of its tree, counted now that the tree is in. */
static int load_quota(struct tx *t, const struct sl_meta_quota *q)
{
	struct sl_meta_summary s;
	int rc = sl_sql_subtree_usage(t, q->ino, &s);
	if (rc)
		return rc;
	return sl_sqlq_write(t, "INSERT INTO jfs_dir_quota (inode, max_space, max_inodes, "
			     "used_space, used_inodes) VALUES (?, ?, ?, ?, ?)", "iiiii",
			     (int64_t)q->ino, q->max_space, q->max_inodes,
			     (int64_t)s.space - DIR_SPACE, (int64_t)(s.files + s.dirs) - 1);
}

static int load_one(struct tx *t, struct load_arg *a, size_t i)
{
	const struct sl_meta_dumped *d = a->d;
	switch (a->phase) {
	case NODES:
		return load_node(t, &d->nodes[i]);
	case EDGES:
		return sl_sqlq_write(t, "INSERT INTO jfs_edge (parent, name, inode, type) VALUES "
				     "(?, ?, ?, ?)", "ibii", (int64_t)d->edges[i].parent,
				     d->edges[i].name, d->edges[i].len, (int64_t)d->edges[i].ino,
				     (int64_t)d->edges[i].type);
	case CHUNKS:
		return load_chunk(t, &d->chunks[i]);
	case REFS:
		return sl_sqlq_write(t, "INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES "
				     "(?, ?, ?)", "iii", (int64_t)a->refs[i].id,
				     (int64_t)a->refs[i].size, a->refs[i].refs);
	case XATTRS:
		return sl_sqlq_write(t, "INSERT INTO jfs_xattr (inode, name, value) VALUES (?, ?, ?)",
				     "ibb", (int64_t)d->xattrs[i].ino, d->xattrs[i].name,
				     strlen(d->xattrs[i].name), d->xattrs[i].value,
				     d->xattrs[i].len);
	case STATS:
		return sl_sqlq_write(t, "UPDATE jfs_dir_stats SET data_length = ?, used_space = ?, "
				     "used_inodes = ? WHERE inode = ?", "iiii", a->stats[i].length,
				     a->stats[i].space, a->stats[i].inodes, (int64_t)a->stats[i].dir);
	case DELFILES:
		return sl_sqlq_write(t, "INSERT INTO jfs_delfile (inode, length, expire) VALUES "
				     "(?, ?, ?)", "iii", (int64_t)d->delfiles[i].ino,
				     (int64_t)d->delfiles[i].length, d->delfiles[i].expire);
	case SETTINGS:
		return sl_sqlq_exec(t, NULL, "INSERT INTO jfs_setting (name, value) VALUES (?, ?)",
				    "tt", d->settings[2 * i], d->settings[2 * i + 1]);
	case QUOTAS:
		return load_quota(t, &d->quotas[i]);
	default:
		return 0;
	}
}

static size_t phase_size(const struct load_arg *a)
{
	const struct sl_meta_dumped *d = a->d;
	switch (a->phase) {
	case NODES:
		return d->nnodes;
	case EDGES:
		return d->nedges;
	case CHUNKS:
		return d->nchunks;
	case REFS:
		return a->nrefs;
	case XATTRS:
		return d->nxattrs;
	case STATS:
		return a->nstats;
	case DELFILES:
		return d->ndelfiles;
	case SETTINGS:
		return d->nsettings;
	case QUOTAS:
		return d->nquotas;
	default:
		return 0;
	}
}

/* Up to LOAD_BATCH items of the current phase; a retry redoes the same ones. */
static int batch_op(struct tx *t, void *arg)
{
	struct load_arg *a = arg;
	size_t end = phase_size(a) - a->at < LOAD_BATCH ? phase_size(a) : a->at + LOAD_BATCH;
	int rc = 0;
	for (size_t i = a->at; !rc && i < end; i++)
		rc = load_one(t, a, i);
	return rc;
}

/* What the dump implies: one reference per slice record, each directory's stats; and the
 * counters. */
static int derive(struct load_arg *a, int64_t *space, int64_t *inodes, uint64_t *max_slice,
		  struct sl_err *err)
{
	const struct sl_meta_dumped *d = a->d;
	size_t n = 0;
	for (size_t i = 0; i < d->nchunks; i++)
		n += d->chunks[i].n;
	a->refs = malloc((n ? n : 1) * sizeof(*a->refs));
	a->stats = malloc((d->nedges ? d->nedges : 1) * sizeof(*a->stats));
	if (!a->refs || !a->stats)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nchunks; i++)
		for (size_t k = 0; k < d->chunks[i].n; k++)
			if (d->chunks[i].ss[k].id)
				a->refs[a->nrefs++] = (struct slice_ref){d->chunks[i].ss[k].id,
									 d->chunks[i].ss[k].size, 1};
	qsort(a->refs, a->nrefs, sizeof(*a->refs), by_slice);
	size_t k = 0;
	for (size_t i = 0; i < a->nrefs; i++) {
		if (k && a->refs[k - 1].id == a->refs[i].id)
			a->refs[k - 1].refs++;
		else
			a->refs[k++] = a->refs[i];
	}
	a->nrefs = k;
	*max_slice = k ? a->refs[k - 1].id : 0;
	for (size_t i = 0; i < d->nedges; i++) {
		const struct sl_meta_dumped_node *c = node_of(d, d->edges[i].ino);
		uint64_t len = c && c->attr.type == SL_TYPE_FILE ? c->attr.length : 0;
		a->stats[a->nstats++] = (struct dir_stat){d->edges[i].parent, (int64_t)len,
							  sl_sql_jfs_space(len), 1};
	}
	qsort(a->stats, a->nstats, sizeof(*a->stats), by_dir);
	k = 0;
	for (size_t i = 0; i < a->nstats; i++) {
		if (k && a->stats[k - 1].dir == a->stats[i].dir) {
			a->stats[k - 1].length += a->stats[i].length;
			a->stats[k - 1].space += a->stats[i].space;
			a->stats[k - 1].inodes++;
		} else {
			a->stats[k++] = a->stats[i];
		}
	}
	a->nstats = k;
	*space = *inodes = 0;
	for (size_t i = 0; i < d->nnodes; i++) {
		const struct sl_attr *at = &d->nodes[i].attr;
		if (d->nodes[i].ino == SL_ROOT_INO || d->nodes[i].ino == SL_TRASH_INO)
			continue;
		*space += sl_sql_jfs_space(at->type == SL_TYPE_FILE ? at->length : 0);
		(*inodes)++;
	}
	return 0;
}

struct counters_arg {
	int64_t values[6];
};

static int counters_op(struct tx *t, void *arg)
{
	struct counters_arg *a = arg;
	static const char *const names[] = {"usedSpace", "totalInodes", "nextInode", "nextChunk",
					    "nextSession", "nextTrash"};
	int rc = 0;
	for (int i = 0; !rc && i < 6; i++) {
		int64_t v;
		if (!(rc = sl_sql_counter_add(t, names[i], 0, &v)))
			rc = sl_sql_counter_add(t, names[i], a->values[i] - v, &v);
	}
	return rc;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int sl_sql_load(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err)
{
	struct load_arg a = {.d = d};
	int64_t space = 0, inodes = 0;
	uint64_t max_slice = 0;
	for (size_t i = 1; i < d->nnodes; i++)
		if (d->nodes[i - 1].ino >= d->nodes[i].ino)
			return sl_errf(err, -EINVAL, "the nodes of a load come in inode order, once each");
	int rc = derive(&a, &space, &inodes, &max_slice, err);
	for (a.phase = NODES; !rc && a.phase < DONE; a.phase++)
		for (a.at = 0; !rc && a.at < phase_size(&a); a.at += LOAD_BATCH)
			rc = sl_sqlq_run(m, true, batch_op, &a, err);
	if (!rc) {
		sl_ino max_ino = 1, max_trash = SL_TRASH_INO;
		for (size_t i = 0; i < d->nnodes; i++)
			if (d->nodes[i].ino >= SL_TRASH_INO)
				max_trash = d->nodes[i].ino > max_trash ? d->nodes[i].ino : max_trash;
			else if (d->nodes[i].ino > max_ino)
				max_ino = d->nodes[i].ino;
		struct counters_arg c = {{space, inodes, max64(d->next_inode, (int64_t)max_ino + 1),
					  max64(d->next_chunk, (int64_t)max_slice + 1),
					  max64(d->next_session, 0),
					  max64(d->next_trash, (int64_t)(max_trash - SL_TRASH_INO))}};
		rc = sl_sqlq_run(m, true, counters_op, &c, err);
	}
	free(a.refs);
	free(a.stats);
	return rc;
}
