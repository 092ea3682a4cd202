/*
 * sql_changes.c - the "sql" backend's namespace changes: mknod, unlink and rmdir, rename, and
 * removing a tree (moved into the trash in one transaction, then emptied there); and removing a
 * link, where a file's last link hands its data to deletion (jfs_delfile) unless the file is
 * open here (jfs_sustained). The rules of sql.c's header hold here too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice.h"
#include "sql_internal.h"

/* ---- removing a link ------------------------------------------------------------------------- */

/* Drops one link of non-directory ino (node already read for update as a) whose entry in parent
 * the caller removes. The last link of a file becomes a jfs_delfile row (data deleted by the
 * caller), or a jfs_sustained row of our session while the file is open here. */
static int drop_link(struct tx *t, sl_ino parent, sl_ino ino, struct sl_attr *a, int64_t now,
		     struct sl_removed *out, struct acct *ac)
{
	int rc;
	uint64_t flen = a->type == SL_TYPE_FILE ? a->length : 0;
	if ((rc = sl_sql_acct_dir(t, ac, parent, -(int64_t)flen, -sl_sql_jfs_space(flen), -1)))
		return rc;
	a->nlink = a->nlink ? a->nlink - 1 : 0;
	a->ctime_ns = now;
	if (a->nlink > 0)
		return sl_sqlq_write(t,
				     "UPDATE jfs_node SET nlink = ?, ctime = ?, ctimensec = ? "
				     "WHERE inode = ?",
				     "iiii", (int64_t)a->nlink, sl_time_us(now), sl_time_nsrem(now),
				     (int64_t)ino);
	out->ino = ino;
	out->length = a->length;
	out->data_pending = false;
	if (a->type == SL_TYPE_FILE && t->m->sid && sl_meta_is_open(t->m, ino)) {
		/* Open here: keep the inode until the last handle closes (release). */
		rc = sl_sqlq_write(t, "INSERT INTO jfs_sustained (sid, inode) VALUES (?, ?)",
				   "ii", (int64_t)t->m->sid, (int64_t)ino);
		if (!rc)
			rc = sl_sqlq_write(t,
					   "UPDATE jfs_node SET nlink = 0, ctime = ?, ctimensec = ? "
					   "WHERE inode = ?",
					   "iii", sl_time_us(now), sl_time_nsrem(now), (int64_t)ino);
	} else {
		if (a->type == SL_TYPE_FILE) {
			rc = sl_sqlq_write(t,
					   "INSERT INTO jfs_delfile (inode, length, expire) VALUES "
					   "(?, ?, ?)", "iii", (int64_t)ino, (int64_t)a->length,
					   now / 1000000000LL);
			out->data_pending = true;
		} else if (a->type == SL_TYPE_SYMLINK) {
			rc = sl_sqlq_write(t, "DELETE FROM jfs_symlink WHERE inode = ?", "i",
					   (int64_t)ino);
		}
		if (!rc)
			rc = sl_sqlq_write(t, "DELETE FROM jfs_node WHERE inode = ?", "i",
					   (int64_t)ino);
		sl_sql_acct_total(ac, -sl_sql_jfs_space(flen), -1);
	}
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_xattr WHERE inode = ?", "i",
				   (int64_t)ino);
	return rc;
}

/* Removes an empty directory node (its entry is removed by the caller). */
static int drop_dir(struct tx *t, sl_ino parent, sl_ino ino, struct acct *ac)
{
	int rc = sl_sqlq_write(t, "DELETE FROM jfs_node WHERE inode = ?", "i", (int64_t)ino);
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_dir_stats WHERE inode = ?", "i",
				   (int64_t)ino);
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_dir_quota WHERE inode = ?", "i",
				   (int64_t)ino);
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_xattr WHERE inode = ?", "i",
				   (int64_t)ino);
	if (!rc)
		rc = sl_sql_acct_dir(t, ac, parent, 0, -DIR_SPACE, -1);
	sl_sql_acct_total(ac, -DIR_SPACE, -1);
	return rc;
}

int sl_sql_dir_is_empty(struct tx *t, sl_ino dir, bool *empty)
{
	char buf[128];
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     FU(t, buf, "SELECT inode FROM jfs_edge WHERE parent = ? LIMIT 1"),
			     "i", (int64_t)dir);
	if (rc < 0)
		return rc;
	*empty = rc == 0;
	t->d->finalize(s);
	return 0;
}

/* ---- namespace: changes ---------------------------------------------------------------------- */

/* Entry name of parent, not locked: 0 with its *ino and *type, or -ENOENT. */
int sl_sql_edge_get(struct tx *t, sl_ino parent, const char *name, sl_ino *ino, uint8_t *type)
{
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT inode, type FROM jfs_edge WHERE parent = ? AND name = ?",
			     "ib", (int64_t)parent, name, strlen(name));
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	*ino = sl_sql_col_u64(t, s, 0);
	*type = (uint8_t)sl_sql_col_u64(t, s, 1);
	t->d->finalize(s);
	return 0;
}

/* juicefs shows the trash as /.trash; an entry of that name in the root would clash with it. */
static int check_reserved(sl_ino parent, const char *name, struct sl_err *err)
{
	if (parent == SL_ROOT_INO && !strcmp(name, ".trash"))
		return sl_errf(err, -EPERM, "/.trash is reserved for the JuiceFS trash");
	return 0;
}

/* A name a new entry may take: HDFS keeps .snapshot for the snapshots of every directory (one
 * juicefs made stays usable, shadowed where its directory has snapshots). */
static int check_new_name(sl_ino parent, const char *name, struct sl_err *err)
{
	if (!strcmp(name, SL_SNAPSHOT_NAME))
		return sl_errf(err, -EINVAL, "\"%s\" is a reserved name (directory snapshots)",
			       SL_SNAPSHOT_NAME);
	return check_reserved(parent, name, err);
}


int sl_sql_mknod_op(struct tx *t, void *arg)
{
	struct mknod_arg *a = arg;
	struct sl_attr p;
	memset(&a->replaced, 0, sizeof(a->replaced));
	sl_sql_acct_reset(&a->ac);
	sl_ino old;
	uint8_t otype;
	int found = sl_sql_dir_entry_lock(t, a->parent, a->name, &p, &old, &otype);
	if (found < 0)
		return found;
	int rc = sl_sql_dir_change_check(t, a->u, a->parent, &p);
	if (rc)
		return rc;
	if (p.parent > SL_TRASH_INO) /* a directory that was deleted into the trash */
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " is being deleted", a->parent);
	int64_t now = sl_real_ns();
	bool replace = false;
	if (found) {
		struct sl_attr oa;
		int grc = sl_sql_node_get(t, old, true, &oa);
		if (grc == -ENOENT) {
			sl_err_clear(t->err);
			oa = (struct sl_attr){.type = otype, .parent = a->parent};
		} else if (grc) {
			return grc;
		}
		if (!(a->flags & SL_MKNOD_REPLACE) || otype == SL_TYPE_DIR || a->type == SL_TYPE_DIR) {
			a->ino = old;
			a->attr = oa;
			return sl_errf(t->err, -EEXIST, "'%s' exists in directory %" PRIu64, a->name,
				       a->parent);
		}
		if (sl_meta_sticky_denies(a->u, &p, &oa))
			return sl_sql_deny(t,
					   "sticky directory: cannot replace another user's file",
					   a->parent);
		if (oa.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
			return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
		if (grc == 0 && (rc = drop_link(t, a->parent, old, &oa, now, &a->replaced, &a->ac)))
			return rc;
		if (grc)
			rc = sl_sql_acct_dir(t, &a->ac, a->parent, 0, -DIR_SPACE, -1);
		if (rc)
			return rc;
		replace = true;
	}
	if (a->parent == SL_TRASH_INO) {
		/* juicefs numbers the entries of the trash from their own counter */
		int64_t v;
		if ((rc = sl_sql_counter_add(t, "nextTrash", 1, &v)))
			return rc;
		a->ino = SL_TRASH_INO + (uint64_t)v;
	}
	struct sl_attr *n = &a->attr;
	memset(n, 0, sizeof(*n));
	n->type = a->type;
	n->mode = a->mode & 07777;
	/* a directory's default ACL takes the place of the creator's umask */
	if (p.default_acl && a->type != SL_TYPE_SYMLINK)
		rc = sl_sql_acl_inherit(t, &p, n);
	else
		n->mode &= (uint16_t)~SL_MKNOD_UMASK_OF(a->flags);
	if (rc)
		return rc;
	n->uid = a->u ? a->u->uid : 0;
	n->gid = p.gid; /* Hadoop: a new inode takes the group of its directory (BSD rule) */
	n->flags = p.flags & SL_FLAG_SKIPTRASH;
	n->atime_ns = n->mtime_ns = n->ctime_ns = now;
	n->nlink = a->type == SL_TYPE_DIR ? 2 : 1;
	n->length = a->type == SL_TYPE_DIR ? DIR_SPACE
		    : a->type == SL_TYPE_SYMLINK ? strlen(a->target) : 0;
	n->parent = a->parent;
	if (replace)
		rc = sl_sqlq_write(t, "UPDATE jfs_edge SET inode = ?, type = ? WHERE parent = ? AND "
				   "name = ?", "iiib", (int64_t)a->ino, (int64_t)a->type,
				   (int64_t)a->parent, a->name, strlen(a->name));
	else
		rc = sl_sqlq_write(t, "INSERT INTO jfs_edge (parent, name, inode, type) VALUES "
				   "(?, ?, ?, ?)", "ibii", (int64_t)a->parent, a->name,
				   strlen(a->name), (int64_t)a->ino, (int64_t)a->type);
	if (!rc)
		rc = sl_sql_node_insert(t, a->ino, n);
	if (!rc && a->lease)
		rc = sl_sql_lease_insert(t, a->ino, a->lease);
	if (!rc && a->type == SL_TYPE_SYMLINK)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_symlink (inode, target) VALUES (?, ?)",
				   "ib", (int64_t)a->ino, a->target, strlen(a->target));
	if (!rc && a->type == SL_TYPE_DIR)
		rc = sl_sqlq_write(t, "INSERT INTO jfs_dir_stats (inode, data_length, used_space, "
				   "used_inodes) VALUES (?, 0, 0, 0)", "i", (int64_t)a->ino);
	/* juicefs leaves the trash directory itself untouched when it adds to it */
	if (!rc && a->parent != SL_TRASH_INO)
		rc = sl_sql_locked_dir_touch(t, a->parent, a->type == SL_TYPE_DIR ? 1 : 0, now);
	if (!rc && a->parent != SL_TRASH_INO && !replace)
		rc = sl_meta_check_capacity(t->m, DIR_SPACE, 1, t->err);
	if (!rc && a->parent != SL_TRASH_INO && !replace)
		rc = sl_sql_quota_check(t, a->parent, DIR_SPACE, 1);
	if (!rc)
		rc = sl_sql_acct_dir(t, &a->ac, a->parent, 0, DIR_SPACE, 1);
	sl_sql_acct_total(&a->ac, DIR_SPACE, 1);
	return rc;
}

static int mknod_run(struct sl_meta *m, struct mknod_arg a, sl_ino *ino, struct sl_attr *attr,
		     struct sl_removed *replaced, struct sl_err *err);

int sl_sql_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		 const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
		 sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
		 struct sl_err *err)
{
	struct mknod_arg a = {.u = u, .parent = parent, .name = name, .type = type, .mode = mode,
			      .flags = flags, .target = target};
	return mknod_run(m, a, ino, attr, replaced, err);
}

int sl_sql_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, uint16_t mode, int flags, uint64_t sid,
			struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			struct sl_removed *replaced, struct sl_err *err)
{
	int rc = sl_sql_lease_new(m, sid, lease, err);
	if (rc)
		return rc;
	struct mknod_arg a = {.u = u, .parent = parent, .name = name, .type = SL_TYPE_FILE,
			      .mode = mode, .flags = flags, .lease = lease};
	return mknod_run(m, a, ino, attr, replaced, err);
}

static int mknod_run(struct sl_meta *m, struct mknod_arg a, sl_ino *ino, struct sl_attr *attr,
		     struct sl_removed *replaced, struct sl_err *err)
{
	const char *name = a.name, *target = a.target;
	sl_ino parent = a.parent;
	uint8_t type = a.type;
	if (replaced)
		memset(replaced, 0, sizeof(*replaced));
	int rc = sl_sql_check_name(name, err);
	if (!rc)
		rc = check_new_name(parent, name, err);
	if (rc)
		return rc;
	if (type != SL_TYPE_FILE && type != SL_TYPE_DIR && type != SL_TYPE_SYMLINK)
		return sl_errf(err, -EINVAL, "cannot create inodes of type %d", type);
	if (type == SL_TYPE_SYMLINK && (!target || !*target || strlen(target) > 4096))
		return sl_errf(err, -EINVAL, "a symlink needs a target of 1 to 4096 bytes");
	if (parent != SL_TRASH_INO && (rc = sl_meta_next_inode(m, &a.ino, err)))
		return rc;
	rc = sl_sqlq_run_once(m, sl_sql_mknod_op, &a, err);
	if (!rc)
		sl_sql_acct_apply(m, &a.ac);
	sl_sql_acct_free(&a.ac);
	if (!rc || rc == -EEXIST) {
		if (ino)
			*ino = a.ino;
		if (attr)
			*attr = a.attr;
	}
	if (!rc && replaced)
		*replaced = a.replaced;
	return rc;
}


/* The entry name of parent that u is about to remove: parent (*p) writable and not append-only,
 * both locked for update. */
static int entry_to_remove(struct tx *t, const struct sl_meta_user *u, sl_ino parent,
			   const char *name, struct sl_attr *p, sl_ino *ino, uint8_t *type)
{
	int found = sl_sql_dir_entry_lock(t, parent, name, p, ino, type);
	if (found < 0)
		return found;
	int rc = sl_sql_dir_change_check(t, u, parent, p);
	if (rc)
		return rc;
	if (p->flags & SL_FLAG_APPEND)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is append-only", parent);
	if (!found)
		return sl_errf(t->err, -ENOENT, "'%s' does not exist in directory %" PRIu64, name,
			       parent);
	return 0;
}

int sl_sql_unlink_op(struct tx *t, void *arg)
{
	struct unlink_arg *a = arg;
	memset(&a->removed, 0, sizeof(a->removed));
	sl_sql_acct_reset(&a->ac);
	struct sl_attr p, n;
	sl_ino ino;
	uint8_t type;
	int rc = entry_to_remove(t, a->u, a->parent, a->name, &p, &ino, &type);
	if (rc)
		return rc;
	if (a->dir && type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "'%s' is not a directory", a->name);
	if (!a->dir && type == SL_TYPE_DIR)
		return sl_errf(t->err, -EISDIR, "'%s' is a directory", a->name);
	int grc = sl_sql_node_get(t, ino, true, &n);
	if (grc == -ENOENT) { /* a dangling entry: remove it all the same */
		sl_err_clear(t->err);
		n = (struct sl_attr){.type = type, .nlink = 1};
	} else if (grc) {
		return grc;
	}
	if (sl_meta_sticky_denies(a->u, &p, &n))
		return sl_sql_deny(t, "sticky directory: cannot remove another user's entry",
				   a->parent);
	if (n.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
	int64_t now = sl_real_ns();
	if (a->dir) {
		bool empty;
		if (n.flags & SL_FLAG_SNAPSHOTS)
			return sl_sql_no_snapshots_below(t, ino, a->name);
		if ((rc = sl_sql_dir_is_empty(t, ino, &empty)))
			return rc;
		if (!empty)
			return sl_errf(t->err, -ENOTEMPTY, "directory '%s' is not empty", a->name);
		rc = drop_dir(t, a->parent, ino, &a->ac);
	} else if (grc == 0) {
		rc = drop_link(t, a->parent, ino, &n, now, &a->removed, &a->ac);
	} else {
		rc = sl_sql_acct_dir(t, &a->ac, a->parent, 0, -DIR_SPACE, -1);
	}
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_edge WHERE parent = ? AND name = ?", "ib",
				   (int64_t)a->parent, a->name, strlen(a->name));
	if (!rc && a->parent != SL_TRASH_INO)
		rc = sl_sql_locked_dir_touch(t, a->parent, a->dir ? -1 : 0, now);
	return rc;
}

static int do_unlink(struct sl_meta *m, struct unlink_arg *a, struct sl_err *err)
{
	int rc = sl_sql_check_name(a->name, err);
	if (!rc)
		rc = sl_sqlq_run_once(m, sl_sql_unlink_op, a, err);
	if (!rc)
		sl_sql_acct_apply(m, &a->ac);
	sl_sql_acct_free(&a->ac);
	return rc;
}

int sl_sql_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		  const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct unlink_arg a = {.u = u, .parent = parent, .name = name};
	int rc = do_unlink(m, &a, err);
	if (removed)
		*removed = rc ? (struct sl_removed){0} : a.removed;
	return rc;
}

int sl_sql_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		 const char *name, struct sl_err *err)
{
	struct unlink_arg a = {.u = u, .parent = parent, .name = name, .dir = true};
	return do_unlink(m, &a, err);
}

/* True if dir is anc or lies below it, following the parent column up to the root. */
static int is_below(struct tx *t, sl_ino dir, sl_ino anc, bool *below)
{
	*below = dir == anc;
	if (*below || dir == SL_ROOT_INO)
		return 0;
	/* UNION (not UNION ALL) ends the walk even if corrupt parents form a loop. */
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     "WITH RECURSIVE up(ino) AS ("
			     "SELECT parent FROM jfs_node WHERE inode = ? "
			     "UNION SELECT n.parent FROM jfs_node n JOIN up ON n.inode = up.ino "
			     "WHERE up.ino <> 1 AND n.parent IS NOT NULL AND n.parent <> 0) "
			     "SELECT ino FROM up WHERE ino = ?",
			     "ii", (int64_t)dir, (int64_t)anc);
	if (rc < 0)
		return rc;
	*below = rc > 0;
	t->d->finalize(s);
	return 0;
}


/* SL_RENAME_INTO_DIR: when the destination is a directory, the entry goes into it under its own
 * name (Hadoop's rename). Looking the destination up needs search permission on its parent.
 * Returns 1 when that puts the entry where it is already (nothing to do). */
static int into_dir(struct tx *t, const struct rename_arg *a, sl_ino *pdst, const char **ndst)
{
	struct sl_attr parent;
	int rc = sl_sql_node_get(t, *pdst, false, &parent);
	if (rc)
		return rc;
	if ((rc = sl_sql_may(t, a->u, *pdst, &parent, SL_MAY_EXEC,
			      "cannot search the destination's directory")))
		return rc;
	sl_ino d;
	uint8_t type;
	rc = sl_sql_edge_get(t, *pdst, *ndst, &d, &type);
	if (rc == -ENOENT) {
		sl_err_clear(t->err);
		return 0;
	}
	if (rc || type != SL_TYPE_DIR)
		return rc;
	*pdst = d;
	*ndst = a->nsrc;
	return d == a->psrc ? 1 : 0;
}

int sl_sql_rename_op(struct tx *t, void *arg)
{
	struct rename_arg *a = arg;
	memset(&a->replaced, 0, sizeof(a->replaced));
	sl_sql_acct_reset(&a->ac);
	a->moved_dir = a->moved_to = 0;
	struct sl_attr sp, dp, sn, dn;
	sl_ino pdst = a->pdst;
	const char *ndst = a->ndst;
	int rc;
	if ((a->flags & SL_RENAME_INTO_DIR) && (rc = into_dir(t, a, &pdst, &ndst)))
		return rc == 1 ? 0 : rc;
	/* Both directories with their entries, locked, the lower inode first: every namespace
	 * change locks directories before entries and nodes, so that none waits for another in a
	 * cycle. */
	sl_ino sino, dino;
	uint8_t stype, dtype;
	int sfound, dfound;
	if (a->psrc == pdst) {
		sfound = sl_sql_dir_entry_lock(t, a->psrc, a->nsrc, &sp, &sino, &stype);
		dfound = sfound < 0 ? sfound
				    : sl_sql_dir_entry_lock(t, pdst, ndst, &dp, &dino, &dtype);
	} else {
		struct sl_sql_dir_entry src = {.dir = a->psrc, .name = a->nsrc},
					dst = {.dir = pdst, .name = ndst};
		if ((rc = sl_sql_dirs_entries_lock(t, &src, &dst)))
			return rc;
		sp = src.attr, sino = src.ino, stype = src.type, sfound = src.found;
		dp = dst.attr, dino = dst.ino, dtype = dst.type, dfound = dst.found;
	}
	if (sfound < 0 || dfound < 0)
		return sfound < 0 ? sfound : dfound;
	rc = sl_sql_dir_change_check(t, a->u, a->psrc, &sp);
	if (!rc)
		rc = sl_sql_dir_change_check(t, a->u, pdst, &dp);
	if (rc)
		return rc;
	if (sp.flags & SL_FLAG_APPEND)
		return sl_errf(t->err, -EPERM, "directory %" PRIu64 " is append-only", a->psrc);
	if (dp.parent > SL_TRASH_INO)
		return sl_errf(t->err, -ENOENT, "directory %" PRIu64 " is being deleted", pdst);
	if (!sfound)
		return sl_errf(t->err, -ENOENT, "'%s' does not exist in directory %" PRIu64,
			       a->nsrc, a->psrc);
	if (a->psrc == pdst && !strcmp(a->nsrc, ndst))
		return (a->flags & SL_RENAME_NOREPLACE)
			? sl_errf(t->err, -EEXIST, "'%s' exists", ndst) : 0;
	if ((rc = sl_sql_node_get(t, sino, true, &sn)))
		return rc;
	if (sn.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->nsrc);
	if (sl_meta_sticky_denies(a->u, &sp, &sn))
		return sl_sql_deny(t, "sticky directory: cannot move another user's entry",
				   a->psrc);
	if (stype == SL_TYPE_DIR && a->psrc != pdst) {
		bool below;
		if ((rc = is_below(t, pdst, sino, &below)))
			return rc;
		if (below)
			return sl_errf(t->err, -EINVAL, "cannot move directory '%s' into itself",
				       a->nsrc);
	}
	int64_t now = sl_real_ns();
	int64_t snlink = 0, dnlink = 0;
	if (dfound) {
		if (a->flags & SL_RENAME_NOREPLACE)
			return sl_errf(t->err, -EEXIST, "'%s' exists in directory %" PRIu64, ndst,
				       pdst);
		if (dino == sino) /* two links of one file: nothing to do, as POSIX says */
			return 0;
		int grc = sl_sql_node_get(t, dino, true, &dn);
		if (grc == -ENOENT) {
			sl_err_clear(t->err);
			dn = (struct sl_attr){.type = dtype, .nlink = 1};
		} else if (grc) {
			return grc;
		}
		if (stype == SL_TYPE_DIR && dtype != SL_TYPE_DIR)
			return sl_errf(t->err, -ENOTDIR, "cannot replace non-directory '%s' by a "
				       "directory", ndst);
		if (stype != SL_TYPE_DIR && dtype == SL_TYPE_DIR)
			return sl_errf(t->err, -EISDIR, "cannot replace directory '%s' by a "
				       "non-directory", ndst);
		if (dn.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
			return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", ndst);
		if (sl_meta_sticky_denies(a->u, &dp, &dn))
			return sl_sql_deny(t,
					   "sticky directory: cannot replace another user's entry",
					   pdst);
		if (dtype == SL_TYPE_DIR) {
			bool empty;
			if (dn.flags & SL_FLAG_SNAPSHOTS)
				return sl_sql_no_snapshots_below(t, dino, ndst);
			if ((rc = sl_sql_dir_is_empty(t, dino, &empty)))
				return rc;
			if (!empty)
				return sl_errf(t->err, -ENOTEMPTY, "directory '%s' is not empty",
					       ndst);
			rc = drop_dir(t, pdst, dino, &a->ac);
			dnlink--;
		} else if (grc == 0) {
			rc = drop_link(t, pdst, dino, &dn, now, &a->replaced, &a->ac);
		} else {
			rc = sl_sql_acct_dir(t, &a->ac, pdst, 0, -DIR_SPACE, -1);
		}
		if (!rc)
			rc = sl_sqlq_write(t, "DELETE FROM jfs_edge WHERE parent = ? AND name = ?",
					   "ib", (int64_t)pdst, ndst, strlen(ndst));
		if (rc)
			return rc;
	}
	if ((rc = sl_sqlq_write(t, "UPDATE jfs_edge SET parent = ?, name = ? WHERE parent = ? AND "
				"name = ?", "ibib", (int64_t)pdst, ndst, strlen(ndst),
				(int64_t)a->psrc, a->nsrc, strlen(a->nsrc))))
		return rc;
	sl_ino newparent = sn.parent;
	if (a->psrc != pdst) {
		if (stype == SL_TYPE_DIR) {
			snlink--;
			dnlink++;
		}
		if (sn.parent) /* hard-linked files keep parent 0 */
			newparent = pdst;
		uint64_t flen = stype == SL_TYPE_FILE ? sn.length : 0;
		int64_t space = stype == SL_TYPE_FILE ? sl_sql_jfs_space(flen) : DIR_SPACE;
		/* the quotas over the destination (and not over the source) weigh what arrives: the
		 * entry and, for a directory, the tree under it */
		int64_t tree_space = 0, tree_inodes = 0;
		if (stype == SL_TYPE_DIR) {
			a->moved_dir = sino;
			a->moved_to = pdst;
			rc = sl_sql_quota_moving(t, sino, a->psrc, pdst, &tree_space, &tree_inodes);
		}
		if (!rc)
			rc = sl_sql_quota_check_move(t, a->psrc, pdst, space + tree_space,
						     1 + tree_inodes);
		if (rc)
			return rc;
		sl_sql_acct_move(&a->ac, a->psrc, pdst, tree_space, tree_inodes);
		if ((rc = sl_sql_acct_dir(t, &a->ac, a->psrc, -(int64_t)flen, -space, -1)) ||
		    (rc = sl_sql_acct_dir(t, &a->ac, pdst, (int64_t)flen, space, 1)))
			return rc;
	}
	if ((rc = sl_sqlq_write(t, "UPDATE jfs_node SET ctime = ?, ctimensec = ?, parent = ? "
				"WHERE inode = ?", "iiii", sl_time_us(now), sl_time_nsrem(now),
				(int64_t)newparent, (int64_t)sino)))
		return rc;
	if (a->psrc == pdst)
		return a->psrc == SL_TRASH_INO
			? 0 : sl_sql_locked_dir_touch(t, a->psrc, snlink + dnlink, now);
	if (a->psrc != SL_TRASH_INO && (rc = sl_sql_locked_dir_touch(t, a->psrc, snlink, now)))
		return rc;
	return pdst == SL_TRASH_INO ? 0 : sl_sql_locked_dir_touch(t, pdst, dnlink, now);
}

int sl_sql_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
		  const char *nsrc, sl_ino pdst, const char *ndst, int flags,
		  struct sl_removed *replaced, struct sl_err *err)
{
	struct rename_arg a = {.u = u, .psrc = psrc, .pdst = pdst, .nsrc = nsrc, .ndst = ndst,
			       .flags = flags};
	if (replaced)
		memset(replaced, 0, sizeof(*replaced));
	int rc = sl_sql_check_name(nsrc, err);
	if (!rc)
		rc = sl_sql_check_name(ndst, err);
	if (!rc)
		rc = check_reserved(psrc, nsrc, err);
	if (!rc)
		rc = check_new_name(pdst, ndst, err);
	if (!rc && (flags & ~(SL_RENAME_NOREPLACE | SL_RENAME_INTO_DIR)))
		rc = sl_errf(err, -EINVAL, "unknown rename flags %#x", flags);
	if (!rc)
		rc = sl_sqlq_run_once(m, sl_sql_rename_op, &a, err);
	if (!rc) {
		sl_sql_quota_moved_dir(m, a.moved_dir, a.moved_to);
		sl_sql_acct_apply(m, &a.ac);
		if (replaced)
			*replaced = a.replaced;
	}
	sl_sql_acct_free(&a.ac);
	return rc;
}

/* ---- removing a tree ------------------------------------------------------------------------- */

/* A recursive delete takes the whole tree out of the namespace in one transaction, by moving it
 * into the trash, then empties it there with the volume's own rights. JuiceFS's names
 * (.trash/<YYYY-MM-DD-HH>/<parent>-<inode>-<name>) let any client's trash cleaner finish the job
 * after a crash. */

/* Hadoop: deleting a tree needs read, write and search permission on every non-empty directory
 * in it, as HDFS checks it (empty ones need nothing). One query collects the directories. */
static int check_tree(struct tx *t, const struct sl_meta_user *u, sl_ino top)
{
	struct sl_sql_stmt *s;
	/* UNION (not UNION ALL) ends the walk even if corrupt entries form a loop. */
	int rc = sl_sqlq_open(t, &s,
			      "WITH RECURSIVE sub(ino) AS (SELECT ? UNION SELECT e.inode "
			      "FROM jfs_edge e JOIN sub ON e.parent = sub.ino WHERE e.type = 2) "
			      "SELECT n.mode, n.uid, n.gid, n.access_acl_id, n.inode FROM sub JOIN "
			      "jfs_node n ON n.inode = sub.ino WHERE EXISTS (SELECT 1 FROM jfs_edge "
			      "c WHERE c.parent = n.inode)",
			      "i", (int64_t)top);
	sl_ino denied = 0;
	if (rc || (rc = sl_sql_dirs_may(t, u, s, SL_MAY_READ | SL_MAY_WRITE | SL_MAY_EXEC, 0,
					&denied)))
		return rc;
	return denied ? sl_sql_deny(t, "cannot delete inside the directory", denied) : 0;
}

static int trash_tree_op(struct tx *t, void *arg)
{
	struct sl_sql_tree *a = arg;
	struct sl_attr p, n;
	uint8_t type;
	int rc = entry_to_remove(t, a->u, a->parent, a->name, &p, &a->ino, &type);
	if (rc)
		return rc;
	if (type != SL_TYPE_DIR)
		return sl_errf(t->err, -ENOTDIR, "'%s' is not a directory", a->name);
	if ((rc = sl_sql_node_get(t, a->ino, true, &n)))
		return rc;
	if (sl_meta_sticky_denies(a->u, &p, &n))
		return sl_sql_deny(t, "sticky directory: cannot remove another user's entry",
				   a->parent);
	if (n.flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND))
		return sl_errf(t->err, -EPERM, "'%s' is immutable or append-only", a->name);
	if (!sl_meta_superuser(a->u) && (rc = check_tree(t, a->u, a->ino)))
		return rc;
	if ((rc = sl_sql_no_snapshots_below(t, a->ino, a->name)))
		return rc;
	return sl_sql_tree_to_trash(t, a);
}

void sl_sql_tree_init(struct sl_sql_tree *a)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(a->hour, sizeof(a->hour), "%Y-%m-%d-%H", &tm);
}

int sl_sql_tree_to_trash(struct tx *t, struct sl_sql_tree *a)
{
	/* The hour's directory, made if missing (numbered from the trash's own counter). */
	a->hour_dir = (struct mknod_arg){.parent = SL_TRASH_INO, .name = a->hour,
					 .type = SL_TYPE_DIR, .mode = 0555};
	int rc = sl_sql_mknod_op(t, &a->hour_dir);
	if (rc == -EEXIST) {
		sl_err_clear(t->err);
		rc = a->hour_dir.attr.type == SL_TYPE_DIR
			? 0 : sl_errf(t->err, -EIO, "trash entry %s is not a directory", a->hour);
	}
	if (rc)
		return rc;
	snprintf(a->trash_name, sizeof(a->trash_name), "%" PRIu64 "-%" PRIu64 "-%s", a->parent,
		 a->ino, a->name);
	a->move = (struct rename_arg){.psrc = a->parent, .nsrc = a->name, .pdst = a->hour_dir.ino,
				      .ndst = a->trash_name, .flags = SL_RENAME_NOREPLACE};
	return sl_sql_rename_op(t, &a->move);
}

int sl_sql_no_snapshots_below(struct tx *t, sl_ino top, const char *name)
{
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s,
			     "WITH RECURSIVE sub(ino) AS (SELECT ? UNION SELECT e.inode "
			     "FROM jfs_edge e JOIN sub ON e.parent = sub.ino WHERE e.type = 2) "
			     "SELECT n.inode FROM sub JOIN jfs_node n ON n.inode = sub.ino "
			     "WHERE (n.flags & 128) <> 0 LIMIT 1",
			     "i", (int64_t)top);
	if (rc <= 0)
		return rc;
	sl_ino dir = sl_sql_col_u64(t, s, 0);
	t->d->finalize(s);
	return sl_errf(t->err, -EPERM, "'%s' cannot be deleted: directory %" PRIu64 " %s "
		       SLUICE_HAS_SNAPSHOTS_MSG " (delete them first)", name, dir,
		       dir == top ? "(itself)" : "in it");
}

/* Removes everything below dir with the volume's rights; removed files go to cb and are
 * counted in *files (if not NULL). */
static int empty_tree(struct sl_meta *m, sl_ino dir, sl_meta_removed_cb cb, void *arg,
		      uint64_t *files, struct sl_err *err, int depth)
{
	if (depth > 1000)
		return sl_errf(err, -ELOOP, "directory tree too deep");
	for (;;) {
		struct readdir_arg l = {.dir = dir, .limit = 1000};
		int rc = sl_sqlq_run(m, false, sl_sql_readdir_op, &l, err);
		size_t n = rc ? 0 : l.n;
		for (size_t i = 0; !rc && i < n; i++) {
			char name[SL_NAME_MAX + 1];
			snprintf(name, sizeof(name), "%.*s", (int)l.rows[i].len, l.rows[i].name);
			if (l.rows[i].attr.type == SL_TYPE_DIR) {
				rc = empty_tree(m, l.rows[i].ino, cb, arg, files, err, depth + 1);
				if (!rc)
					rc = sl_sql_rmdir(m, NULL, dir, name, err);
			} else {
				struct sl_removed removed = {0};
				rc = sl_sql_unlink(m, NULL, dir, name, &removed, err);
				if (!rc && removed.ino && cb)
					cb(arg, &removed);
				if (!rc && files)
					(*files)++;
			}
			if (rc == -ENOENT) { /* removed meanwhile (by a trash cleaner) */
				sl_err_clear(err);
				rc = 0;
			}
		}
		sl_sql_dirent_rows_clear(&l);
		free(l.rows);
		if (rc || n == 0)
			return rc;
	}
}

int sl_sql_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		       const char *name, sl_meta_removed_cb cb, void *arg, struct sl_err *err)
{
	struct sl_sql_tree a = {.u = u, .parent = parent, .name = name};
	int rc = sl_sql_check_name(name, err);
	if (!rc)
		rc = check_reserved(parent, name, err);
	if (rc)
		return rc;
	sl_sql_tree_init(&a);
	rc = sl_sqlq_run_once(m, trash_tree_op, &a, err);
	return sl_sql_tree_remove(m, &a, rc, cb, arg);
}

int sl_sql_tree_remove(struct sl_meta *m, struct sl_sql_tree *a, int rc, sl_meta_removed_cb cb,
		       void *arg)
{
	if (!rc) {
		sl_sql_quota_moved_dir(m, a->move.moved_dir, a->move.moved_to);
		sl_sql_acct_apply(m, &a->hour_dir.ac);
		sl_sql_acct_apply(m, &a->move.ac);
	}
	sl_sql_acct_free(&a->hour_dir.ac);
	sl_sql_acct_free(&a->move.ac);
	if (rc)
		return rc;
	/* The tree is gone for every client; what fails from here is left to a trash cleaner. */
	struct sl_err e = {0};
	int erc = empty_tree(m, a->ino, cb, arg, NULL, &e, 0);
	if (!erc)
		erc = sl_sql_rmdir(m, NULL, a->hour_dir.ino, a->trash_name, &e);
	if (erc) {
		sl_log(m->log, SL_LOG_WARN, "emptying .trash/%s/%s: %s", a->hour, a->trash_name,
		       e.msg);
		return 0;
	}
	/* The hour's directory goes too once empty (a volume without trash days keeps no trash);
	 * if another delete or juicefs put something there meanwhile, it stays. */
	erc = sl_sql_rmdir(m, NULL, SL_TRASH_INO, a->hour, &e);
	if (erc && erc != -ENOTEMPTY && erc != -ENOENT)
		sl_log(m->log, SL_LOG_WARN, "removing .trash/%s: %s", a->hour, e.msg);
	return 0;
}

/* ---- the trash cleaner ------------------------------------------------------------------------ */

/* The start (unix seconds, UTC) of the hour a trash directory is named after, or -1 if the name
 * is not <YYYY-MM-DD-HH>. */
static int64_t trash_hour(const char *name, size_t len)
{
	int y, mo, d, h, n = 0;
	char buf[32];
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = 0;
	if (sscanf(buf, "%4d-%2d-%2d-%2d%n", &y, &mo, &d, &h, &n) != 4 || n != 13 || len != 13 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
	return (int64_t)timegm(&tm);
}

struct delayed_arg {
	int64_t before;
	uint64_t *ids;
	size_t n, cap;
};

static int list_delayed_op(struct tx *t, void *arg)
{
	struct delayed_arg *a = arg;
	a->n = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT chunkid FROM jfs_delslices WHERE deleted < ?", "i",
			      a->before);
	while (!rc && (rc = t->d->step(s, t->err)) > 0) {
		rc = 0;
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			uint64_t *ni = realloc(a->ids, nc * sizeof(*ni));
			if (!ni) {
				rc = sl_sql_nomem(t);
				break;
			}
			a->ids = ni;
			a->cap = nc;
		}
		a->ids[a->n++] = sl_sql_col_u64(t, s, 0);
	}
	t->d->finalize(s);
	return rc;
}

struct release_delayed_arg {
	uint64_t id;
	bool released;
};

/* One jfs_delslices row: its slices (12 bytes each, big-endian id and size) lose the reference
 * the row held, and the row goes, together. */
static int release_delayed_op(struct tx *t, void *arg)
{
	struct release_delayed_arg *a = arg;
	a->released = false;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT slices FROM jfs_delslices WHERE chunkid = ?", "i",
			     (int64_t)a->id);
	if (rc <= 0)
		return rc; /* gone: another client released it */
	rc = 0;
	size_t len = 0;
	uint8_t *slices = (uint8_t *)sl_sql_col_dup(t, s, 0, &len);
	t->d->finalize(s);
	if (!slices)
		return sl_sql_nomem(t);
	if (len % 12)
		rc = sl_errf(t->err, -EIO, "delayed slices %" PRIu64 ": %zu bytes is not a list of "
			     "slices", a->id, len);
	for (size_t i = 0; !rc && i + 12 <= len; i += 12) {
		uint64_t id = 0;
		uint32_t size = 0;
		for (int k = 0; k < 8; k++)
			id = id << 8 | slices[i + k];
		for (int k = 8; k < 12; k++)
			size = size << 8 | slices[i + k];
		rc = sl_sqlq_write(t, "UPDATE jfs_chunk_ref SET refs = refs - 1 WHERE chunkid = ? "
				   "AND size = ?", "ii", (int64_t)id, (int64_t)size);
	}
	free(slices);
	if (!rc)
		rc = sl_sqlq_write(t, "DELETE FROM jfs_delslices WHERE chunkid = ?", "i",
				   (int64_t)a->id);
	a->released = !rc;
	return rc;
}

int sl_sql_clean_trash(struct sl_meta *m, int64_t before_s, sl_meta_removed_cb removed,
		       void *arg, uint64_t *files, uint64_t *delayed, struct sl_err *err)
{
	*files = *delayed = 0;
	struct readdir_arg l = {.dir = SL_TRASH_INO, .limit = 100000};
	int rc = sl_sqlq_run(m, false, sl_sql_readdir_op, &l, err);
	for (size_t i = 0; !rc && i < l.n; i++) {
		const struct dirent_row *e = &l.rows[i];
		int64_t hour = trash_hour(e->name, e->len);
		if (e->attr.type != SL_TYPE_DIR || hour < 0) {
			sl_log(m->log, SL_LOG_DEBUG, "trash entry %.*s is not an hour's directory",
			       (int)e->len, e->name);
			continue;
		}
		if (hour >= before_s)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)e->len, e->name);
		struct sl_err e2 = {0};
		int erc = empty_tree(m, e->ino, removed, arg, files, &e2, 0);
		if (!erc)
			erc = sl_sql_rmdir(m, NULL, SL_TRASH_INO, name, &e2);
		if (erc && erc != -ENOENT)
			sl_log(m->log, SL_LOG_WARN, "cleaning .trash/%s: %s", name, e2.msg);
	}
	sl_sql_dirent_rows_clear(&l);
	free(l.rows);
	if (rc)
		return rc;
	struct delayed_arg d = {.before = before_s};
	rc = sl_sqlq_run(m, false, list_delayed_op, &d, err);
	for (size_t i = 0; !rc && i < d.n; i++) {
		struct release_delayed_arg r = {.id = d.ids[i]};
		struct sl_err e2 = {0};
		if (sl_sqlq_run(m, true, release_delayed_op, &r, &e2))
			sl_log(m->log, SL_LOG_WARN, "releasing delayed slices %" PRIu64 ": %s",
			       d.ids[i], e2.msg);
		else if (r.released)
			(*delayed)++;
	}
	free(d.ids);
	return rc;
}
