/*
 * sql_snapshot.c - the "sql" backend's directory snapshots (HDFS's createSnapshot,
 * deleteSnapshot, renameSnapshot, and what DIR/.snapshot/NAME resolves to).
 *
 * A snapshot is a copy of a directory's tree made in one transaction, as `juicefs clone` copies
 * a tree but all at once: nodes (marked immutable), entries, symlinks, xattrs, directory stats
 * and chunk rows, each slice record of which adds a reference in jfs_chunk_ref. No data is
 * copied; a later write, truncate or delete in the live tree drops its own references only, and
 * the data goes when the last copy that holds it is deleted.
 *
 * Snapshots live where juicefs clients show nothing and clean nothing (its trash cleaner skips
 * names that are not hours, and so does Sluice's):
 *     .trash/.sluice-snapshots/<the directory's inode>/<snapshot name>
 * The directory carries SL_FLAG_SNAPSHOTS while it has any, which stops its removal (HDFS
 * refuses to delete a directory with snapshots too). The gateway lets a user reach a node in a
 * snapshot only if it could reach the snapshot's directory (sl_sql_snapshot_owner).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../chunk/slice.h"
#include "../util/clock.h"
#include "sql_internal.h"

#define SNAPSHOTS_TOP ".sluice-snapshots"

struct snap_arg {
	const struct sl_meta_user *u;
	enum sl_snapshot_op op;
	sl_ino dir;
	const char *name, *new_name;
	char box_name[24];          /* the directory's inode in decimal */
	sl_ino top, box;            /* the containers, once found */
	struct mknod_arg make_top, make_box;
	struct unlink_arg drop_box; /* DELETE of the last snapshot: the box goes too */
	struct unlink_arg drop_top; /* and the boxes' directory after the last box */
	struct sl_sql_tree tree;    /* DELETE: the snapshot on its way out */
	struct acct ac;             /* CREATE: the copies */
	sl_ino ino;
	struct sl_attr attr;
};

/* One entry of the tree being copied, and the inode of its copy. */
struct copy_entry {
	sl_ino parent, ino, copy;
	uint8_t type;
	uint64_t length;
	char *name;
	size_t len;
};

struct dir_map {
	sl_ino from, to;
};

static int map_cmp(const void *a, const void *b)
{
	const struct dir_map *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* n fresh inodes [*first, *first + n) from juicefs's counter. */
static int new_inodes(struct tx *t, uint64_t n, sl_ino *first)
{
	int64_t v;
	int rc = sl_sql_counter_add(t, "nextInode", (int64_t)n, &v);
	if (!rc && v - (int64_t)n < 2) /* inodes 0 and 1 are not for use */
		rc = sl_sql_counter_add(t, "nextInode", 2 - (v - (int64_t)n), &v);
	if (!rc)
		*first = (sl_ino)v - n;
	return rc;
}

/* The directory a snapshot operation is on, locked; CREATE, DELETE and RENAME are for its owner
 * or a superuser, as HDFS has them. */
static int owned_dir(struct tx *t, struct snap_arg *a, struct sl_attr *d)
{
	int rc = sl_sql_node_get(t, a->dir, true, d);
	if (rc)
		return rc;
	if (d->type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->dir);
	if (a->dir >= SL_TRASH_INO || d->parent >= SL_TRASH_INO)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " is in the trash", a->dir);
	if (!sl_meta_superuser(a->u) && a->u->uid != d->uid)
		return sl_sql_deny(t, "only the directory's owner may manage its snapshots",
				   a->dir);
	return 0;
}

/* The box of a->dir's snapshots into a->box (a->top: the boxes' directory); made if missing
 * when make, else -ENOENT. */
static int find_box(struct tx *t, struct snap_arg *a, bool make)
{
	uint8_t type;
	snprintf(a->box_name, sizeof(a->box_name), "%" PRIu64, a->dir);
	int rc = sl_sql_edge_get(t, SL_TRASH_INO, SNAPSHOTS_TOP, &a->top, &type);
	if (rc == -ENOENT && make) {
		a->make_top = (struct mknod_arg){.parent = SL_TRASH_INO, .name = SNAPSHOTS_TOP,
						 .type = SL_TYPE_DIR, .mode = 0555};
		rc = sl_sql_mknod_op(t, &a->make_top);
		a->top = a->make_top.ino;
	}
	if (!rc)
		rc = sl_sql_edge_get(t, a->top, a->box_name, &a->box, &type);
	if (rc == -ENOENT && make) {
		a->make_box = (struct mknod_arg){.parent = a->top, .name = a->box_name,
						 .type = SL_TYPE_DIR, .mode = 0555};
		if (!(rc = new_inodes(t, 1, &a->make_box.ino)))
			rc = sl_sql_mknod_op(t, &a->make_box);
		a->box = a->make_box.ino;
	}
	if (rc == -ENOENT)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " has no snapshots", a->dir);
	return rc;
}

/* The snapshot called name in a->box: *ino, or -ENOENT. */
static int find_snapshot(struct tx *t, struct snap_arg *a, const char *name, sl_ino *ino)
{
	uint8_t type;
	int rc = sl_sql_edge_get(t, a->box, name, ino, &type);
	if (rc == -ENOENT)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " has no snapshot '%s'",
			       a->dir, name);
	return rc;
}

/* Every entry below a->dir (dangling ones left out), into *out. */
static int list_tree(struct tx *t, sl_ino dir, struct copy_entry **out, size_t *n)
{
	struct sl_sql_stmt *s;
	/* UNION (not UNION ALL) ends the walk even if corrupt entries form a loop. */
	int rc = sl_sqlq_open(t, &s,
			      "WITH RECURSIVE sub(ino) AS (SELECT ? UNION SELECT e.inode "
			      "FROM jfs_edge e JOIN sub ON e.parent = sub.ino WHERE e.type = 2) "
			      "SELECT e.parent, e.name, e.inode, n.type, n.length FROM sub "
			      "JOIN jfs_edge e ON e.parent = sub.ino JOIN jfs_node n "
			      "ON n.inode = e.inode",
			      "i", (int64_t)dir);
	if (rc)
		return rc;
	size_t cap = 0;
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct copy_entry *ne = realloc(*out, nc * sizeof(*ne));
			if (!ne) {
				rc = sl_sql_nomem(t);
				break;
			}
			*out = ne;
			cap = nc;
		}
		struct copy_entry *e = &(*out)[*n];
		e->parent = sl_sql_col_u64(t, s, 0);
		if (!(e->name = sl_sql_col_dup(t, s, 1, &e->len))) {
			rc = sl_sql_nomem(t);
			break;
		}
		e->ino = sl_sql_col_u64(t, s, 2);
		e->type = (uint8_t)sl_sql_col_u64(t, s, 3);
		e->length = sl_sql_col_u64(t, s, 4);
		(*n)++;
	}
	t->d->finalize(s);
	return rc < 0 ? rc : 0;
}

/* Node `from` copied as `to` under parent: immutable, one link for a file (a hard link in the
 * tree becomes a file of its own, as juicefs clone makes it), its xattrs with it. */
static int copy_node(struct tx *t, sl_ino from, sl_ino to, sl_ino parent)
{
	int rc = sl_sqlq_write(t, "INSERT INTO jfs_node (" NODE_COLS ") SELECT ?, type, "
			       "(flags & 127) | 1, mode, uid, gid, atime, mtime, ctime, atimensec, "
			       "mtimensec, ctimensec, CASE WHEN type = 2 THEN nlink ELSE 1 END, "
			       "length, rdev, ?, access_acl_id, default_acl_id FROM jfs_node "
			       "WHERE inode = ?",
			       "iii", (int64_t)to, (int64_t)parent, (int64_t)from);
	if (!rc)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_xattr (inode, name, value) SELECT ?, name, "
				   "value FROM jfs_xattr WHERE inode = ?",
				   "ii", (int64_t)to, (int64_t)from);
	return rc;
}

/* File from's chunks copied to file to, each slice record one more reference. The rows are read
 * locked, so that a compaction cannot replace a slice between the copy and its count. */
static int copy_chunks(struct tx *t, sl_ino from, sl_ino to)
{
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, FU(t, buf, "SELECT indx, slices FROM jfs_chunk WHERE "
				       "inode = ?"), "i", (int64_t)from);
	if (rc)
		return rc;
	struct sl_slice *refs = NULL;
	size_t nrefs = 0, cap = 0;
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		int64_t indx = t->d->col_i64(s, 0);
		size_t len;
		uint8_t *slices = (uint8_t *)sl_sql_col_dup(t, s, 1, &len);
		if (!slices) {
			rc = sl_sql_nomem(t);
			break;
		}
		rc = sl_sqlq_write(t, "INSERT INTO jfs_chunk (inode, indx, slices) VALUES (?, ?, ?)",
				   "iib", (int64_t)to, indx, slices, len);
		for (size_t i = 0; !rc && i + SL_SLICE_BYTES <= len; i += SL_SLICE_BYTES) {
			struct sl_slice sl;
			sl_slice_decode(slices + i, &sl);
			if (!sl.id)
				continue;
			if (nrefs == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct sl_slice *nr = realloc(refs, nc * sizeof(*nr));
				if (!nr) {
					rc = sl_sql_nomem(t);
					break;
				}
				refs = nr;
				cap = nc;
			}
			refs[nrefs++] = sl;
		}
		free(slices);
	}
	t->d->finalize(s);
	rc = rc < 0 ? rc : 0;
	/* one UPDATE per slice, adding all its records (as many as a delete will drop) */
	for (size_t i = 0; !rc && i < nrefs; i++) {
		if (!refs[i].id)
			continue;
		int64_t k = 1;
		for (size_t j = i + 1; j < nrefs; j++)
			if (refs[j].id == refs[i].id) {
				refs[j].id = 0;
				k++;
			}
		rc = sl_sqlq_write(t, "UPDATE jfs_chunk_ref SET refs = refs + ? WHERE chunkid = ? "
				   "AND size = ?", "iii", k, (int64_t)refs[i].id,
				   (int64_t)refs[i].size);
	}
	free(refs);
	return rc;
}

/* The copy of an entry: its node, entry, and what its type has besides. */
static int copy_entry(struct tx *t, const struct copy_entry *e, sl_ino parent)
{
	int rc = copy_node(t, e->ino, e->copy, parent);
	if (!rc)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_edge (parent, name, inode, type) VALUES "
				   "(?, ?, ?, ?)", "ibii", (int64_t)parent, e->name, e->len,
				   (int64_t)e->copy, (int64_t)e->type);
	if (rc)
		return rc;
	switch (e->type) {
	case SL_TYPE_DIR:
		return sl_sqlq_write(t, "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
				     "used_inodes) SELECT ?, data_length, used_space, used_inodes "
				     "FROM jfs_dir_stats WHERE inode = ?",
				     "ii", (int64_t)e->copy, (int64_t)e->ino);
	case SL_TYPE_FILE:
		return e->length ? copy_chunks(t, e->ino, e->copy) : 0;
	case SL_TYPE_SYMLINK:
		return sl_sqlq_write(t, "INSERT INTO jfs_symlink (inode, target) SELECT ?, target "
				     "FROM jfs_symlink WHERE inode = ?",
				     "ii", (int64_t)e->copy, (int64_t)e->ino);
	default:
		return 0;
	}
}

/* a->dir's tree copied as snapshot a->name into a->box: *root gets the copy of a->dir. */
static int copy_tree(struct tx *t, struct snap_arg *a, sl_ino *root)
{
	struct copy_entry *es = NULL;
	size_t n = 0;
	struct dir_map *map = NULL;
	int rc = list_tree(t, a->dir, &es, &n);
	sl_ino first = 0;
	if (!rc)
		rc = new_inodes(t, n + 1, &first);
	size_t ndirs = 1;
	for (size_t i = 0; !rc && i < n; i++)
		ndirs += es[i].type == SL_TYPE_DIR;
	if (!rc && !(map = malloc(ndirs * sizeof(*map))))
		rc = sl_sql_nomem(t);
	if (!rc) {
		*root = first;
		map[0] = (struct dir_map){a->dir, *root};
		size_t k = 1;
		for (size_t i = 0; i < n; i++) {
			es[i].copy = first + 1 + i;
			if (es[i].type == SL_TYPE_DIR)
				map[k++] = (struct dir_map){es[i].ino, es[i].copy};
		}
		qsort(map, ndirs, sizeof(*map), map_cmp);
	}
	/* the snapshot's own directory: a's directory as it is, dated now (HDFS shows a
	 * snapshot's creation time as its modification time) */
	int64_t now = sl_real_ns();
	if (!rc)
		rc = copy_node(t, a->dir, *root, a->box);
	if (!rc)
		rc = sl_sqlq_write(t, "UPDATE jfs_node SET mtime = ?, mtimensec = ?, ctime = ?, "
				   "ctimensec = ? WHERE inode = ?", "iiiii", sl_time_us(now),
				   sl_time_nsrem(now), sl_time_us(now), sl_time_nsrem(now),
				   (int64_t)*root);
	if (!rc)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
				   "used_inodes) SELECT ?, data_length, used_space, used_inodes FROM "
				   "jfs_dir_stats WHERE inode = ?", "ii", (int64_t)*root,
				   (int64_t)a->dir);
	if (!rc)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_edge (parent, name, inode, type) VALUES "
				   "(?, ?, ?, ?)", "ibii", (int64_t)a->box, a->name,
				   strlen(a->name), (int64_t)*root, (int64_t)SL_TYPE_DIR);
	int64_t space = DIR_SPACE, inodes = 1;
	for (size_t i = 0; !rc && i < n; i++) {
		struct dir_map key = {es[i].parent, 0};
		const struct dir_map *p = bsearch(&key, map, ndirs, sizeof(*map), map_cmp);
		if (!p) /* below a directory whose node is missing */
			continue;
		rc = copy_entry(t, &es[i], p->to);
		space += sl_sql_jfs_space(es[i].type == SL_TYPE_FILE ? es[i].length : 0);
		inodes++;
	}
	if (!rc)
		rc = sl_meta_check_capacity(t->m, space, inodes, t->err);
	if (!rc)
		rc = sl_sql_locked_dir_touch(t, a->box, 1, now);
	if (!rc)
		rc = sl_sql_acct_dir(t, &a->ac, a->box, 0, DIR_SPACE, 1);
	sl_sql_acct_total(&a->ac, space, inodes);
	for (size_t i = 0; i < n; i++)
		free(es[i].name);
	free(es);
	free(map);
	return rc;
}

static int create_op(struct tx *t, struct snap_arg *a)
{
	struct sl_attr d, b;
	sl_ino old;
	uint8_t type;
	int rc = owned_dir(t, a, &d);
	if (rc)
		return rc;
	if (d.flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is read-only (in a snapshot?)",
			       a->dir);
	if ((rc = find_box(t, a, true)) || (rc = sl_sql_node_get(t, a->box, true, &b)))
		return rc;
	rc = sl_sql_edge_get(t, a->box, a->name, &old, &type);
	if (rc != -ENOENT)
		return rc ? rc : sl_errf(t->err, -EEXIST, "directory %" PRIu64 " has a snapshot "
					 "'%s' already", a->dir, a->name);
	if ((rc = copy_tree(t, a, &a->ino)))
		return rc;
	if (!(d.flags & SL_FLAG_SNAPSHOTS))
		rc = sl_sqlq_write(t, "UPDATE jfs_node SET flags = flags | ? WHERE inode = ?", "ii",
				   (int64_t)SL_FLAG_SNAPSHOTS, (int64_t)a->dir);
	return rc ? rc : sl_sql_node_get(t, a->ino, false, &a->attr);
}

/* Snapshot a->name of a->dir, for its owner: a->ino, and its box locked. */
static int owned_snapshot(struct tx *t, struct snap_arg *a)
{
	struct sl_attr d, b;
	int rc = owned_dir(t, a, &d);
	if (!rc)
		rc = find_box(t, a, false);
	if (!rc)
		rc = sl_sql_node_get(t, a->box, true, &b);
	return rc ? rc : find_snapshot(t, a, a->name, &a->ino);
}

static int delete_op(struct tx *t, struct snap_arg *a)
{
	int rc = owned_snapshot(t, a);
	/* writable again, so that the trash cleaner's rules can remove it */
	if (!rc)
		rc = sl_sqlq_exec(t, NULL, "UPDATE jfs_node SET flags = flags & 254 WHERE inode IN "
				  "(WITH RECURSIVE sub(ino) AS (SELECT ? UNION SELECT e.inode "
				  "FROM jfs_edge e JOIN sub ON e.parent = sub.ino) SELECT ino "
				  "FROM sub)", "i", (int64_t)a->ino);
	if (rc)
		return rc;
	a->tree.parent = a->box;
	a->tree.name = a->name;
	a->tree.ino = a->ino;
	if ((rc = sl_sql_tree_to_trash(t, &a->tree)))
		return rc;
	bool empty;
	if ((rc = sl_sql_dir_is_empty(t, a->box, &empty)) || !empty)
		return rc;
	a->drop_box = (struct unlink_arg){.parent = a->top, .name = a->box_name, .dir = true};
	if ((rc = sl_sql_unlink_op(t, &a->drop_box)) ||
	    (rc = sl_sql_dir_is_empty(t, a->top, &empty)))
		return rc;
	a->drop_top = (struct unlink_arg){.parent = SL_TRASH_INO, .name = SNAPSHOTS_TOP,
					  .dir = true};
	if (empty && (rc = sl_sql_unlink_op(t, &a->drop_top)))
		return rc;
	return sl_sqlq_write(t, "UPDATE jfs_node SET flags = flags & ? WHERE inode = ?", "ii",
			     (int64_t)(0xFF & ~SL_FLAG_SNAPSHOTS), (int64_t)a->dir);
}

static int rename_snapshot_op(struct tx *t, struct snap_arg *a)
{
	sl_ino other;
	uint8_t type;
	int rc = owned_snapshot(t, a);
	if (rc || !strcmp(a->name, a->new_name))
		return rc;
	rc = sl_sql_edge_get(t, a->box, a->new_name, &other, &type);
	if (rc != -ENOENT)
		return rc ? rc : sl_errf(t->err, -EEXIST, "directory %" PRIu64 " has a snapshot "
					 "'%s' already", a->dir, a->new_name);
	sl_err_clear(t->err);
	rc = sl_sqlq_write(t, "UPDATE jfs_edge SET name = ? WHERE parent = ? AND name = ?", "bib",
			   a->new_name, strlen(a->new_name), (int64_t)a->box, a->name,
			   strlen(a->name));
	return rc ? rc : sl_sql_node_get(t, a->ino, false, &a->attr);
}

static int lookup_op(struct tx *t, struct snap_arg *a)
{
	struct sl_attr d;
	int rc = sl_sql_node_get(t, a->dir, false, &d);
	if (!rc && d.type != SL_TYPE_DIR)
		rc = sl_errf(t->err, -ENOTDIR, "inode %" PRIu64 " is not a directory", a->dir);
	if (!rc)
		rc = sl_sql_may(t, a->u, a->dir, &d, SL_MAY_EXEC, "cannot search the directory");
	if (!rc)
		rc = find_box(t, a, false);
	a->ino = a->box;
	if (!rc && a->name)
		rc = find_snapshot(t, a, a->name, &a->ino);
	return rc ? rc : sl_sql_node_get(t, a->ino, false, &a->attr);
}

static int snapshot_op(struct tx *t, void *arg)
{
	struct snap_arg *a = arg;
	sl_sql_acct_reset(&a->ac);
	sl_sql_acct_reset(&a->make_top.ac);
	sl_sql_acct_reset(&a->make_box.ac);
	sl_sql_acct_reset(&a->drop_box.ac);
	sl_sql_acct_reset(&a->drop_top.ac);
	switch (a->op) {
	case SL_SNAP_CREATE:
		return create_op(t, a);
	case SL_SNAP_DELETE:
		return delete_op(t, a);
	case SL_SNAP_RENAME:
		return rename_snapshot_op(t, a);
	default:
		return lookup_op(t, a);
	}
}

int sl_sql_snapshot(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
		    sl_ino dir, const char *name, const char *new_name,
		    sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
		    struct sl_err *err)
{
	struct snap_arg a = {.u = u, .op = op, .dir = dir, .name = name, .new_name = new_name};
	int rc = 0;
	if (op < SL_SNAP_LOOKUP || op > SL_SNAP_RENAME)
		return sl_errf(err, -EINVAL, "unknown snapshot operation %d", (int)op);
	if (op != SL_SNAP_LOOKUP || name)
		rc = sl_sql_check_name(name, err);
	if (!rc && op == SL_SNAP_RENAME)
		rc = sl_sql_check_name(new_name, err);
	if (rc)
		return rc;
	sl_sql_tree_init(&a.tree);
	rc = sl_sqlq_run(m, op != SL_SNAP_LOOKUP, snapshot_op, &a, err);
	if (!rc) {
		sl_sql_acct_apply(m, &a.make_top.ac);
		sl_sql_acct_apply(m, &a.make_box.ac);
		sl_sql_acct_apply(m, &a.ac);
		sl_sql_acct_apply(m, &a.drop_box.ac);
		sl_sql_acct_apply(m, &a.drop_top.ac);
		if (ino)
			*ino = a.ino;
		if (attr)
			*attr = a.attr;
	}
	sl_sql_acct_free(&a.make_top.ac);
	sl_sql_acct_free(&a.make_box.ac);
	sl_sql_acct_free(&a.ac);
	sl_sql_acct_free(&a.drop_box.ac);
	sl_sql_acct_free(&a.drop_top.ac);
	if (op == SL_SNAP_DELETE)
		rc = sl_sql_tree_remove(m, &a.tree, rc, removed, arg);
	return rc;
}

int sl_sql_snapshot_owner(struct tx *t, sl_ino top, sl_ino box, sl_ino *dir)
{
	*dir = 0;
	sl_ino real_top;
	uint8_t type;
	int rc = sl_sql_edge_get(t, SL_TRASH_INO, SNAPSHOTS_TOP, &real_top, &type);
	if (rc == -ENOENT || (!rc && real_top != top)) {
		sl_err_clear(t->err);
		return 0;
	}
	struct sl_sql_stmt *s;
	if (rc || (rc = sl_sqlq_row(t, &s, "SELECT name FROM jfs_edge WHERE parent = ? AND "
				     "inode = ?", "ii", (int64_t)top, (int64_t)box)) <= 0)
		return rc;
	size_t len;
	char *name = sl_sql_col_dup(t, s, 0, &len);
	t->d->finalize(s);
	if (!name)
		return sl_sql_nomem(t);
	char *end;
	unsigned long long v = strtoull(name, &end, 10);
	if (len && !*end)
		*dir = (sl_ino)v;
	free(name);
	return 0;
}
