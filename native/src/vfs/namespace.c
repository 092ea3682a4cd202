/*
 * namespace.c - the path-level operations of sluice.h: stat, mkdir(s), rename, delete, truncate,
 * concat, attributes, symlinks, listing, xattrs, summaries. Each resolves paths (one round trip
 * per path) and runs one metadata transaction; data of removed files is handed to the volume's
 * background deletion. A recursive delete first moves the directory into the volume's trash
 * (atomic: the whole tree disappears at once, as HDFS does it), then empties it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

#define MAX_SYMLINK_HOPS 16
#define LIST_PAGE 1000

void sl_fill_stat(struct sl_volume_core *v, sl_ino ino, const struct sl_attr *a, sluice_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->inode = ino;
	switch (a->type) {
	case SL_TYPE_FILE: st->type = SLUICE_FILE; break;
	case SL_TYPE_DIR: st->type = SLUICE_DIR; break;
	case SL_TYPE_SYMLINK: st->type = SLUICE_SYMLINK; break;
	default: st->type = SLUICE_OTHER;
	}
	st->mode = a->mode & 07777;
	st->nlink = a->nlink;
	st->length = a->type == SL_TYPE_DIR ? 0 : a->length;
	st->mtime_ms = a->mtime_ns / 1000000;
	st->mtime_ns = a->mtime_ns;
	st->has_acl = a->access_acl || a->default_acl;
	st->atime_ms = a->atime_ns / 1000000;
	st->ctime_ms = a->ctime_ns / 1000000;
	st->uid = a->uid;
	st->gid = a->gid;
	sl_idmap_user_name(v->ids, a->uid, st->owner, sizeof(st->owner));
	sl_idmap_group_name(v->ids, a->gid, st->group, sizeof(st->group));
	st->block_size = v->logical_block_size;
}

/* Joins a symlink target to the directory holding the link and cleans "." and ".." lexically. */
static int symlink_join(const char *dir, const char *target, char *out, size_t size)
{
	char tmp[PATH_MAX * 2];
	if (target[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", target);
	else
		snprintf(tmp, sizeof(tmp), "%s/%s", dir, target);
	size_t k = 0;
	char *save = NULL;
	out[0] = 0;
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			while (k > 0 && out[k - 1] != '/')
				k--;
			if (k > 0)
				k--;
			out[k] = 0;
			continue;
		}
		size_t len = strlen(c);
		if (k + 1 + len + 1 > size)
			return -ENAMETOOLONG;
		out[k++] = '/';
		memcpy(out + k, c, len + 1);
		k += len;
	}
	if (k == 0)
		snprintf(out, size, "/");
	return 0;
}

/* Resolves path (normalized into norm) and, if follow, a final symlink (absolute or relative). */
int sl_resolve(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
	       bool follow, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct sl_volume_core *v = &vol->core;
	char norm[PATH_MAX];
	int rc = sl_path_normalize(path, norm, sizeof(norm), err);
	for (int hops = 0; !rc; hops++) {
		rc = sl_snapshot_resolve(vol, mu, norm, ino, attr, err);
		if (rc || !follow || attr->type != SL_TYPE_SYMLINK)
			break;
		if (hops == MAX_SYMLINK_HOPS)
			return sl_errf(err, -ELOOP, "too many symlinks resolving %s", path);
		char *target = NULL;
		if ((rc = sl_meta_readlink(v->meta, mu, *ino, &target, err)))
			break;
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", norm);
		char *slash = strrchr(dir, '/');
		if (slash)
			slash == dir ? (void)(dir[1] = 0) : (void)(*slash = 0);
		rc = symlink_join(dir, target, norm, sizeof(norm));
		free(target);
		if (rc)
			rc = sl_errf(err, rc, "symlink target of %s is too long", path);
	}
	return rc;
}

int sl_resolve_file(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		    sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	int rc = sl_resolve(vol, mu, path, true, ino, attr, err);
	if (rc)
		return rc;
	if (attr->type == SL_TYPE_DIR)
		return sl_errf(err, -EISDIR, "%s is a directory, not a file", path);
	if (attr->type != SL_TYPE_FILE)
		return sl_errf(err, -EINVAL, "%s is not a regular file", path);
	return 0;
}

/* Resolves the parent directory of path; *name points into norm. */
static int resolve_parent(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
			  char norm[PATH_MAX], sl_ino *parent, const char **name, struct sl_err *err)
{
	int rc = sl_path_normalize(path, norm, PATH_MAX, err);
	if (rc)
		return rc;
	char ppath[PATH_MAX];
	if (sl_path_split(norm, ppath, sizeof(ppath), name))
		return sl_errf(err, -EINVAL, "the root directory has no parent (path %s)", path);
	struct sl_attr pattr;
	rc = sl_resolve(vol, mu, ppath, true, parent, &pattr, err);
	if (!rc && pattr.type != SL_TYPE_DIR)
		rc = sl_errf(err, -ENOTDIR, "parent %s of %s is not a directory", ppath, norm);
	return rc;
}

static int check_writable(sluice_volume *vol, struct sl_err *err)
{
	if (vol->core.read_only)
		return sl_errf(err, -EROFS, "volume %s is opened read-only", vol->core.format.name);
	return 0;
}

/* What a call on one path needs: the calling thread's error, the caller as the metadata sees
 * it, and the path resolved. */
struct path_call {
	struct sl_err *err;
	struct sl_meta_user mu;
	sl_ino ino;
	struct sl_attr attr;
};

enum { READS = 0, WRITES = 1 };

/* Resolves path for u (a final symlink followed when follow), after checking that the volume
 * takes changes when the call writes. */
static int path_begin(sluice_volume *vol, const sluice_user *u, const char *path, bool follow,
		      int writes, struct path_call *c)
{
	c->err = sl_vol_err(vol);
	sl_vol_user(&vol->core, u, &c->mu);
	int rc = writes == WRITES ? check_writable(vol, c->err) : 0;
	return rc ? rc : sl_resolve(vol, &c->mu, path, follow, &c->ino, &c->attr, c->err);
}

static int stat_common(sluice_volume *vol, const sluice_user *u, const char *path, bool follow,
		       sluice_stat *st)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, follow, READS, &c);
	if (!rc)
		sl_fill_stat(&vol->core, c.ino, &c.attr, st);
	return rc;
}

int sluice_stat_path(sluice_volume *vol, const sluice_user *u, const char *path, sluice_stat *st)
{
	return stat_common(vol, u, path, true, st);
}

int sluice_lstat(sluice_volume *vol, const sluice_user *u, const char *path, sluice_stat *st)
{
	return stat_common(vol, u, path, false, st);
}

/* Data of a removed file goes now, or at its last local close if it is open here. */
static void doom_removed(sluice_volume *vol, const struct sl_removed *r)
{
	if (r->ino && r->data_pending)
		sl_vol_doom(vol, r->ino);
	else if (r->ino)
		sl_meta_open_sustain(vol->core.meta, r->ino);
}

int sl_create_entry(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		    uint8_t type, uint16_t mode, int flags, sl_ino *ino, struct sl_attr *attr,
		    struct sl_meta_lease *lease, bool *leased, struct sl_err *err)
{
	char norm[PATH_MAX];
	sl_ino parent;
	const char *name;
	struct sl_volume_core *v = &vol->core;
	int rc = check_writable(vol, err);
	if (!rc)
		rc = resolve_parent(vol, mu, path, norm, &parent, &name, err);
	if (leased)
		*leased = false;
	if (rc)
		return rc;
	struct sl_removed replaced = {0};
	/* a stream's lease in the create's own transaction, where the backend can */
	if (lease && type == SL_TYPE_FILE && v->leases && v->meta->sid &&
	    sl_meta_supports(v->meta, SL_META_OP_MKNOD_LEASED)) {
		rc = sl_meta_mknod_leased(v->meta, mu, parent, name, mode, flags, v->meta->sid,
					  lease, ino, attr, &replaced, err);
		*leased = !rc;
	} else {
		rc = sl_meta_mknod(v->meta, mu, parent, name, type, mode, flags, NULL, ino, attr,
				   &replaced, err);
	}
	doom_removed(vol, &replaced);
	return rc;
}

int sluice_mkdir(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode,
		 uint32_t umask)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	sl_ino ino;
	struct sl_attr attr;
	return sl_create_entry(vol, &mu, path, SL_TYPE_DIR, (uint16_t)(mode & 07777),
			       SL_MKNOD_UMASK(umask),
			       &ino, &attr, NULL, NULL, err);
}

int sl_mkdirs_user(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
		   uint16_t mode, uint16_t umask, struct sl_err *err)
{
	struct sl_volume_core *v = &vol->core;
	char norm[PATH_MAX];
	sl_ino ino;
	struct sl_attr attr;
	int rc = sl_path_normalize(path, norm, sizeof(norm), err);
	if (rc)
		return rc;
	rc = sl_resolve(vol, mu, norm, true, &ino, &attr, err);
	if (!rc)
		return attr.type == SL_TYPE_DIR ? 0
			: sl_errf(err, -EEXIST, "%s exists and is not a directory", norm);
	if (rc != -ENOENT)
		return rc;
	if ((rc = check_writable(vol, err)))
		return rc;
	/* Walk down from the root, creating what is missing. Parents get the same mode with
	 * u+wx so that the walk can continue, as Hadoop's mkdirs does. */
	ino = SL_ROOT_INO;
	char *save = NULL;
	for (char *c = strtok_r(norm, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		sl_ino child;
		rc = sl_meta_lookup(v->meta, mu, ino, c, &child, &attr, err);
		if (rc == -ENOENT) {
			struct sl_removed none = {0};
			rc = sl_meta_mknod(v->meta, mu, ino, c, SL_TYPE_DIR, mode,
					   SL_MKNOD_UMASK(umask), NULL, &child, &attr, &none, err);
			if (rc == -EEXIST) /* created concurrently by someone else */
				rc = sl_meta_lookup(v->meta, mu, ino, c, &child, &attr, err);
		}
		if (rc)
			return rc;
		if (attr.type == SL_TYPE_SYMLINK) {
			rc = sl_meta_getattr(v->meta, mu, child, &attr, err);
			return rc ? rc : sl_errf(err, -ENOTDIR, "%s is a symlink", c);
		}
		if (attr.type != SL_TYPE_DIR)
			return sl_errf(err, save && *save ? -ENOTDIR : -EEXIST,
				       "%s exists and is not a directory", c);
		ino = child;
	}
	return 0;
}

int sluice_mkdirs(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode,
		  uint32_t umask)
{
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	return sl_mkdirs_user(vol, &mu, path, (uint16_t)(mode & 07777), (uint16_t)umask,
			      sl_vol_err(vol));
}

/* SLUICE_RENAME_INTO_DIR through a gateway older than it: the destination looked up first, then
 * renamed in a transaction of its own (a directory created in between is replaced, or refused
 * with NOREPLACE). */
static int rename_into_dir_in_two_steps(sluice_volume *vol, const struct sl_meta_user *mu,
					sl_ino psrc, const char *name_src, sl_ino pdst,
					const char *name_dst, int mflags, struct sl_err *err)
{
	sl_err_clear(err);
	sl_ino d;
	struct sl_attr attr;
	int rc = sl_meta_lookup(vol->core.meta, mu, pdst, name_dst, &d, &attr, err);
	if (!rc && attr.type == SL_TYPE_DIR) {
		if (d == psrc)
			return 0; /* already there */
		pdst = d;
		name_dst = name_src;
	} else if (rc == -ENOENT) {
		sl_err_clear(err);
	} else if (rc) {
		return rc;
	}
	struct sl_removed replaced = {0};
	rc = sl_meta_rename(vol->core.meta, mu, psrc, name_src, pdst, name_dst, mflags, &replaced,
			    err);
	doom_removed(vol, &replaced);
	return rc;
}

int sluice_rename(sluice_volume *vol, const sluice_user *u, const char *src, const char *dst,
		  int flags)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	char nsrc[PATH_MAX], ndst[PATH_MAX];
	sl_ino psrc, pdst;
	const char *name_src, *name_dst;
	int rc = check_writable(vol, err);
	if (!rc)
		rc = resolve_parent(vol, &mu, src, nsrc, &psrc, &name_src, err);
	if (!rc)
		rc = resolve_parent(vol, &mu, dst, ndst, &pdst, &name_dst, err);
	if (rc)
		return rc;
	size_t sl = strlen(nsrc);
	if (!strncmp(ndst, nsrc, sl) && ndst[sl] == '/')
		return sl_errf(err, -EINVAL, "cannot move %s into itself (%s)", nsrc, ndst);
	if (!strcmp(nsrc, ndst)) {
		sl_ino ino;
		struct sl_attr attr;
		rc = sl_meta_lookup(vol->core.meta, &mu, psrc, name_src, &ino, &attr, err);
		return rc ? rc : (flags & SLUICE_RENAME_NOREPLACE)
			? sl_errf(err, -EEXIST, "%s exists", ndst) : 0;
	}
	int mflags = (flags & SLUICE_RENAME_NOREPLACE ? SL_RENAME_NOREPLACE : 0) |
		     (flags & SLUICE_RENAME_INTO_DIR ? SL_RENAME_INTO_DIR : 0);
	struct sl_removed replaced = {0};
	rc = sl_meta_rename(vol->core.meta, &mu, psrc, name_src, pdst, name_dst, mflags,
			    &replaced, err);
	if (rc == -EINVAL && (mflags & SL_RENAME_INTO_DIR) &&
	    strstr(err->msg, "unknown rename flags"))
		return rename_into_dir_in_two_steps(vol, &mu, psrc, name_src, pdst, name_dst,
						    mflags & ~SL_RENAME_INTO_DIR, err);
	doom_removed(vol, &replaced);
	return rc;
}

/* ---- delete ----------------------------------------------------------------------------------- */

void sl_vol_doom_removed(void *vol, const struct sl_removed *r)
{
	doom_removed(vol, r);
}

/* Deletes one entry of dir: a file, an empty directory, or (recursive) a whole tree, which the
 * backend takes away in one step (meta.h, remove_tree). */
static int delete_entry(sluice_volume *vol, const struct sl_meta_user *mu, sl_ino dir,
			const char *name, uint8_t type, bool recursive, struct sl_err *err)
{
	struct sl_meta *m = vol->core.meta;
	if (type != SL_TYPE_DIR) {
		struct sl_removed removed = {0};
		int rc = sl_meta_unlink(m, mu, dir, name, &removed, err);
		doom_removed(vol, &removed);
		return rc;
	}
	int rc = sl_meta_rmdir(m, mu, dir, name, err);
	if (rc != -ENOTEMPTY || !recursive)
		return rc;
	sl_err_clear(err);
	return sl_meta_remove_tree(m, mu, dir, name, sl_vol_doom_removed, vol, err);
}

struct child_list {
	char **names;
	uint8_t *types;
	size_t n, cap;
};

static int collect_child(void *arg, const struct sl_dirent_info *e)
{
	struct child_list *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		char **nn = realloc(l->names, nc * sizeof(char *));
		if (!nn)
			return -ENOMEM;
		l->names = nn;
		uint8_t *nt = realloc(l->types, nc);
		if (!nt)
			return -ENOMEM;
		l->types = nt;
		l->cap = nc;
	}
	l->names[l->n] = strndup(e->name, e->name_len);
	if (!l->names[l->n])
		return -ENOMEM;
	l->types[l->n++] = e->attr.type;
	return 0;
}

static void child_list_free(struct child_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->types);
	memset(l, 0, sizeof(*l));
}

/* The root cannot go away: deleting it recursively deletes what it holds, entry by entry (HDFS
 * refuses; Hadoop's specification allows either). */
static int empty_root(sluice_volume *vol, const struct sl_meta_user *mu, bool recursive,
		      struct sl_err *err)
{
	struct sl_meta *m = vol->core.meta;
	for (;;) {
		struct child_list l = {0};
		int rc = sl_meta_readdir(m, mu, SL_ROOT_INO, NULL, recursive ? LIST_PAGE : 1,
					 collect_child, &l, err);
		size_t n = rc ? 0 : l.n;
		if (n && !recursive)
			rc = sl_errf(err, -ENOTEMPTY, "/ is not empty");
		for (size_t i = 0; !rc && i < n; i++) {
			rc = delete_entry(vol, mu, SL_ROOT_INO, l.names[i], l.types[i], true, err);
			if (rc == -ENOENT) { /* removed concurrently */
				sl_err_clear(err);
				rc = 0;
			}
		}
		child_list_free(&l);
		if (rc || n == 0)
			return rc;
	}
}

int sluice_delete(sluice_volume *vol, const sluice_user *u, const char *path, int recursive)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta *m = vol->core.meta;
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	char norm[PATH_MAX];
	int rc = check_writable(vol, err);
	if (!rc)
		rc = sl_path_normalize(path, norm, sizeof(norm), err);
	if (rc)
		return rc;
	if (!strcmp(norm, "/"))
		return empty_root(vol, &mu, recursive, err);
	sl_ino parent;
	const char *name;
	char pnorm[PATH_MAX];
	if ((rc = resolve_parent(vol, &mu, path, pnorm, &parent, &name, err)))
		return rc;
	/* Most deletes are of files: unlink at once, which refuses a directory (EISDIR), rather than
	 * look the entry's type up in a round trip of its own first. */
	rc = delete_entry(vol, &mu, parent, name, SL_TYPE_FILE, recursive, err);
	if (rc == -EISDIR) {
		sl_err_clear(err);
		return delete_entry(vol, &mu, parent, name, SL_TYPE_DIR, recursive, err);
	}
	if (rc == -EACCES || rc == -EPERM) {
		/* a missing entry is ENOENT whatever the parent's permissions, as with the lookup
		 * first: Hadoop's delete answers false to it, not an AccessControlException */
		struct sl_err denied = *err;
		sl_ino ino;
		struct sl_attr attr;
		if (sl_meta_lookup(m, &mu, parent, name, &ino, &attr, err) == -ENOENT)
			return -ENOENT;
		*err = denied;
	}
	return rc;
}

/* ---- data-level namespace ops --------------------------------------------------------------- */

int sluice_truncate(sluice_volume *vol, const sluice_user *u, const char *path, uint64_t length)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, WRITES, &c);
	if (!rc && c.attr.type == SL_TYPE_DIR)
		rc = sl_errf(c.err, -EISDIR, "%s is a directory", path);
	if (!rc)
		rc = sl_meta_truncate(vol->core.meta, &c.mu, c.ino, length, &c.attr, c.err);
	return rc;
}

int sluice_concat(sluice_volume *vol, const sluice_user *u, const char *target,
		  const char *const *srcs, size_t nsrcs)
{
	struct path_call c;
	int rc = path_begin(vol, u, target, true, WRITES, &c);
	if (rc)
		return rc;
	struct sl_err *err = c.err;
	sl_ino tino = c.ino;
	sl_ino *inos = calloc(nsrcs ? nsrcs : 1, sizeof(sl_ino));
	if (!inos)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < nsrcs; i++) {
		struct sl_attr sattr;
		rc = sl_resolve(vol, &c.mu, srcs[i], false, &inos[i], &sattr, err);
		if (!rc && inos[i] == tino)
			rc = sl_errf(err, -EINVAL, "cannot concat %s to itself", srcs[i]);
		for (size_t j = 0; !rc && j < i; j++)
			if (inos[j] == inos[i])
				rc = sl_errf(err, -EINVAL, "%s is given twice", srcs[i]);
	}
	if (!rc)
		rc = sl_meta_concat(vol->core.meta, &c.mu, tino, inos, nsrcs, err);
	free(inos);
	return rc;
}

static int set_attr(sluice_volume *vol, const sluice_user *u, const char *path, int set,
		    const struct sl_attr *in)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, WRITES, &c);
	if (!rc)
		rc = sl_meta_setattr(vol->core.meta, &c.mu, c.ino, set, in, &c.attr, c.err);
	return rc;
}

int sluice_chmod(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t mode)
{
	struct sl_attr in = {.mode = (uint16_t)(mode & 07777)};
	return set_attr(vol, u, path, SL_SET_MODE, &in);
}

int sluice_chown(sluice_volume *vol, const sluice_user *u, const char *path, const char *owner,
		 const char *group)
{
	struct sl_attr in = {0};
	int set = 0;
	if (owner && *owner) {
		in.uid = sl_idmap_uid(vol->core.ids, owner);
		set |= SL_SET_UID;
	}
	if (group && *group) {
		in.gid = sl_idmap_gid(vol->core.ids, group);
		set |= SL_SET_GID;
	}
	if (!set)
		return 0;
	return set_attr(vol, u, path, set, &in);
}

/* ---- ACLs ------------------------------------------------------------------------------------ */

static const char *const acl_types[] = {"user", "group", "mask", "other"};

int sluice_acl_parse(const char *s, sluice_acl_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!strncmp(s, "default:", 8)) {
		e->scope = SLUICE_ACL_DEFAULT;
		s += 8;
	}
	const char *c1 = strchr(s, ':');
	if (!c1)
		return -EINVAL;
	e->type = -1;
	for (int t = 0; t < 4; t++)
		if ((size_t)(c1 - s) == strlen(acl_types[t]) && !strncmp(s, acl_types[t], c1 - s))
			e->type = t;
	const char *name = c1 + 1, *c2 = strchr(name, ':');
	size_t nlen = c2 ? (size_t)(c2 - name) : strlen(name);
	if (e->type < 0 || nlen >= sizeof(e->name))
		return -EINVAL;
	memcpy(e->name, name, nlen);
	const char *p = c2 ? c2 + 1 : "";
	if (!*p) /* no permission: an entry of a removal spec */
		return 0;
	if (strlen(p) != 3)
		return -EINVAL;
	static const char bits[] = "rwx";
	for (int i = 0; i < 3; i++) {
		if (p[i] == bits[i])
			e->perm |= 4u >> i;
		else if (p[i] != '-')
			return -EINVAL;
	}
	return 0;
}

void sluice_acl_format(const sluice_acl_entry *e, char *buf, size_t size)
{
	char p[4];
	static const char bits[] = "rwx";
	for (int b = 0; b < 3; b++)
		p[b] = e->perm & (4u >> b) ? bits[b] : '-';
	p[3] = 0;
	snprintf(buf, size, "%s%s:%s:%s", e->scope == SLUICE_ACL_DEFAULT ? "default:" : "",
		 acl_types[e->type & 3], e->name, p);
}

/* HDFS refuses every ACL call, getAclStatus too, where ACLs are off (dfs.namenode.acls.enabled
 * false), and engines rely on it: Spark's TRUNCATE TABLE puts back what getAclStatus returned
 * and fails if that is refused. */
static int acls_off(sluice_volume *vol, struct sl_err *err)
{
	if (vol->core.format.enable_acl)
		return 0;
	return sl_errf(err, -ENOTSUP, "ACLs are off on volume %s: juicefs config META-URL "
		       "--enable-acl turns them on (juicefs clients before 1.2 then stay out)",
		       vol->core.format.name);
}

int sluice_acl_change(sluice_volume *vol, const sluice_user *u, const char *path, int op,
		      const sluice_acl_entry *spec, size_t n)
{
	struct sl_err *err = sl_vol_err(vol);
	if (op < SLUICE_ACL_SET || op > SLUICE_ACL_REMOVE || (n && !spec))
		return sl_errf(err, -EINVAL, "invalid ACL operation %d", op);
	if (n > SL_ACL_MAX_ENTRIES)
		return sl_errf(err, -EINVAL, "Invalid ACL: ACL spec has %zu entries, which exceeds "
			       "maximum of %d.", n, SL_ACL_MAX_ENTRIES);
	struct sl_acl_spec s[SL_ACL_MAX_ENTRIES];
	for (size_t i = 0; i < n; i++) {
		const sluice_acl_entry *e = &spec[i];
		if (e->scope < 0 || e->scope > SLUICE_ACL_DEFAULT || e->type < 0 ||
		    e->type > SLUICE_ACL_OTHER || e->perm > 7)
			return sl_errf(err, -EINVAL, "invalid ACL entry %zu (scope %d, type %d, "
				       "perm %u)", i, e->scope, e->type, e->perm);
		bool named = e->name[0] != 0;
		uint32_t id = !named ? 0 : e->type == SLUICE_ACL_USER
			? sl_idmap_uid(vol->core.ids, e->name) : sl_idmap_gid(vol->core.ids, e->name);
		s[i] = (struct sl_acl_spec){.scope = (uint8_t)e->scope, .type = (uint8_t)e->type,
					    .named = named, .id = id, .perm = (uint16_t)e->perm};
	}
	int rc = acls_off(vol, err);
	if (rc)
		return rc;
	struct path_call c;
	rc = path_begin(vol, u, path, true, WRITES, &c);
	if (!rc)
		rc = sl_meta_setfacl(vol->core.meta, &c.mu, c.ino, (enum sl_acl_op)op, s, n, &c.attr,
				     c.err);
	return rc;
}

int sluice_acl_get(sluice_volume *vol, const sluice_user *u, const char *path, uint32_t *mode,
		   sluice_acl_entry *out, size_t max)
{
	int rc = acls_off(vol, sl_vol_err(vol));
	if (rc)
		return rc;
	struct path_call c;
	rc = path_begin(vol, u, path, true, READS, &c);
	struct sl_acl_state st;
	if (!rc)
		rc = sl_meta_getfacl(vol->core.meta, &c.mu, c.ino, &c.attr, &st, c.err);
	if (rc)
		return rc;
	*mode = st.mode;
	struct sl_acl_spec all[SL_ACL_MAX_LIST];
	size_t n = sl_acl_list(&st, all), k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sl_acl_spec *e = &all[i];
		/* HDFS lists the access ACL's user::, mask:: and other:: as permission bits, and
		 * its group:: only when the ACL has more than those */
		if (e->scope == SL_ACL_ACCESS &&
		    (!st.has_access || e->type == SL_ACL_MASK || e->type == SL_ACL_OTHER ||
		     (e->type == SL_ACL_USER && !e->named)))
			continue;
		if (k < max) {
			sluice_acl_entry *o = &out[k];
			*o = (sluice_acl_entry){.scope = e->scope, .type = e->type, .perm = e->perm};
			if (e->named && e->type == SL_ACL_USER)
				sl_idmap_user_name(vol->core.ids, e->id, o->name, sizeof(o->name));
			else if (e->named)
				sl_idmap_group_name(vol->core.ids, e->id, o->name, sizeof(o->name));
		}
		k++;
	}
	return (int)k;
}

int sluice_utimes(sluice_volume *vol, const sluice_user *u, const char *path, int64_t mtime_ms,
		  int64_t atime_ms)
{
	struct sl_attr in = {0};
	int set = 0;
	if (mtime_ms >= 0) {
		in.mtime_ns = mtime_ms * 1000000;
		set |= SL_SET_MTIME;
	}
	if (atime_ms >= 0) {
		in.atime_ns = atime_ms * 1000000;
		set |= SL_SET_ATIME;
	}
	if (!set)
		return 0;
	return set_attr(vol, u, path, set, &in);
}

ssize_t sluice_readlink(sluice_volume *vol, const sluice_user *u, const char *path, char *buf,
			size_t size)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, false, READS, &c);
	if (!rc && c.attr.type != SL_TYPE_SYMLINK)
		rc = sl_errf(c.err, -EINVAL, "%s is not a symlink", path);
	char *target = NULL;
	if (!rc)
		rc = sl_meta_readlink(vol->core.meta, &c.mu, c.ino, &target, c.err);
	if (rc)
		return rc;
	size_t len = strlen(target);
	if (size)
		snprintf(buf, size, "%s", target);
	free(target);
	return (ssize_t)len;
}

/* ---- listing -------------------------------------------------------------------------------- */

struct sluice_dir {
	sluice_volume *vol;
	struct sl_held_user user; /* the caller's name outlives the opendir call */
	sl_ino ino;
	char *last;            /* name after which the next page starts */
	char **names;          /* names of the page returned last */
	size_t nnames;
	bool done;
};

int sluice_opendir(sluice_volume *vol, const sluice_user *u, const char *path, sluice_dir **out)
{
	struct sl_err *err = sl_vol_err(vol);
	sluice_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return sl_errf(err, -ENOMEM, "out of memory");
	d->vol = vol;
	struct sl_meta_user mu;
	sl_vol_user(&vol->core, u, &mu);
	struct sl_attr attr;
	int rc = sl_held_user_set(&d->user, &mu) ? sl_errf(err, -ENOMEM, "out of memory") : 0;
	if (!rc)
		rc = sl_resolve(vol, &mu, path, true, &d->ino, &attr, err);
	if (!rc && attr.type != SL_TYPE_DIR)
		rc = sl_errf(err, -ENOTDIR, "%s is not a directory", path);
	if (!rc && (rc = sl_meta_may(vol->core.meta, &mu, d->ino, &attr, SL_MAY_READ, err)) ==
		   -EACCES)
		rc = sl_errf(err, -EACCES, "permission denied listing %s", path);
	if (rc) {
		sl_held_user_clear(&d->user);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

struct fill_arg {
	sluice_dir *d;
	sluice_dirent *ents;
	size_t n, max;
};

static int fill_entry(void *arg, const struct sl_dirent_info *e)
{
	struct fill_arg *a = arg;
	if (a->n >= a->max)
		return 1;
	char *name = strndup(e->name, e->name_len);
	if (!name)
		return -ENOMEM;
	a->d->names[a->n] = name;
	a->ents[a->n].name = name;
	sl_fill_stat(&a->d->vol->core, e->ino, &e->attr, &a->ents[a->n].st);
	a->n++;
	return 0;
}

static void free_page(sluice_dir *d)
{
	for (size_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->nnames = 0;
}

int sluice_readdir(sluice_dir *d, sluice_dirent *ents, size_t max)
{
	struct sl_err *err = sl_vol_err(d->vol);
	if (d->done || max == 0)
		return 0;
	if (d->nnames) { /* the next page starts after the last name of this one */
		free(d->last);
		d->last = strdup(d->names[d->nnames - 1]);
		free_page(d);
		if (!d->last)
			return sl_errf(err, -ENOMEM, "out of memory");
	}
	d->names = calloc(max, sizeof(char *));
	if (!d->names)
		return sl_errf(err, -ENOMEM, "out of memory");
	struct fill_arg a = {.d = d, .ents = ents, .max = max};
	struct sl_meta *m = d->vol->core.meta;
	int rc = sl_meta_readdir(m, &d->user.mu, d->ino, d->last, max, fill_entry, &a, err);
	d->nnames = a.n;
	if (rc < 0)
		return rc;
	if (a.n < max)
		d->done = true;
	return (int)a.n;
}

void sluice_closedir(sluice_dir *d)
{
	if (!d)
		return;
	free_page(d);
	free(d->last);
	sl_held_user_clear(&d->user);
	free(d);
}

/* ---- xattrs --------------------------------------------------------------------------------- */

ssize_t sluice_getxattr(sluice_volume *vol, const sluice_user *u, const char *path,
			const char *name, void *value, size_t size)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, READS, &c);
	void *v = NULL;
	size_t len = 0;
	if (!rc)
		rc = sl_meta_getxattr(vol->core.meta, &c.mu, c.ino, name, &v, &len, c.err);
	if (rc)
		return rc;
	if (size && size < len)
		rc = sl_errf(c.err, -ERANGE, "xattr %s is %zu bytes, buffer is %zu", name, len, size);
	else if (size)
		memcpy(value, v, len);
	free(v);
	return rc ? rc : (ssize_t)len;
}

int sluice_setxattr(sluice_volume *vol, const sluice_user *u, const char *path, const char *name,
		    const void *value, size_t size, int flags)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, WRITES, &c);
	int mflags = (flags & SLUICE_XATTR_CREATE ? SL_XATTR_CREATE : 0) |
		     (flags & SLUICE_XATTR_REPLACE ? SL_XATTR_REPLACE : 0);
	if (!rc)
		rc = sl_meta_setxattr(vol->core.meta, &c.mu, c.ino, name, value, size, mflags,
				      c.err);
	return rc;
}

ssize_t sluice_listxattr(sluice_volume *vol, const sluice_user *u, const char *path, char *list,
			 size_t size)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, READS, &c);
	char *names = NULL;
	size_t len = 0;
	if (!rc)
		rc = sl_meta_listxattr(vol->core.meta, &c.mu, c.ino, &names, &len, c.err);
	if (rc)
		return rc;
	if (size && size < len)
		rc = sl_errf(c.err, -ERANGE, "xattr names need %zu bytes, buffer is %zu", len, size);
	else if (size)
		memcpy(list, names, len);
	free(names);
	return rc ? rc : (ssize_t)len;
}

int sluice_removexattr(sluice_volume *vol, const sluice_user *u, const char *path,
		       const char *name)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, WRITES, &c);
	if (!rc)
		rc = sl_meta_removexattr(vol->core.meta, &c.mu, c.ino, name, c.err);
	return rc;
}

/* ---- summaries, statfs, info, blocks ------------------------------------------------------- */

int sluice_summary_path(sluice_volume *vol, const sluice_user *u, const char *path,
			sluice_summary *out)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, READS, &c);
	struct sl_meta_summary s = {0};
	if (!rc)
		rc = sl_meta_summary(vol->core.meta, &c.mu, c.ino, &s, c.err);
	if (!rc) {
		out->length = s.length;
		out->files = s.files;
		out->directories = s.dirs;
		out->space = s.space;
		/* juicefs: a limit of 0 is none too */
		out->quota_space = s.has_quota && s.quota_space > 0 ? s.quota_space : -1;
		out->quota_inodes = s.has_quota && s.quota_inodes > 0 ? s.quota_inodes : -1;
	}
	return rc;
}

int sluice_statfs_get(sluice_volume *vol, sluice_statfs *out)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta *m = vol->core.meta;
	int64_t used = 0, inodes = 0;
	/* every handle of this process first, so that the counters hold all of its changes */
	int rc = sl_meta_flush_usage_shared(m, err);
	if (!rc)
		rc = sl_meta_incr_counter(m, "usedSpace", 0, &used, err);
	if (!rc)
		rc = sl_meta_incr_counter(m, "totalInodes", 0, &inodes, err);
	if (rc)
		return rc;
	if (used < 0)
		used = 0;
	if (inodes < 0)
		inodes = 0;
	const struct sl_format *f = &vol->core.format;
	/* Without a quota, report 1 PiB free as JuiceFS does: object storage has no fixed size. */
	uint64_t cap = f->capacity ? f->capacity : (uint64_t)used + (1ULL << 50);
	out->capacity = cap;
	out->used = (uint64_t)used;
	out->remaining = cap > (uint64_t)used ? cap - (uint64_t)used : 0;
	out->inodes_used = (uint64_t)inodes;
	uint64_t icap = f->inodes ? f->inodes : (uint64_t)inodes + (10ULL << 20);
	out->inodes_available = icap > (uint64_t)inodes ? icap - (uint64_t)inodes : 0;
	return 0;
}

int sluice_volume_get_info(sluice_volume *vol, sluice_volume_info *out)
{
	const struct sl_volume_core *v = &vol->core;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", v->format.name);
	snprintf(out->uuid, sizeof(out->uuid), "%s", v->format.uuid);
	snprintf(out->storage, sizeof(out->storage), "%s", v->format.storage);
	snprintf(out->bucket, sizeof(out->bucket), "%s", v->store->description);
	out->block_size = v->layout.block_size;
	snprintf(out->compression, sizeof(out->compression), "%s",
		 v->format.compression[0] ? v->format.compression : "none");
	out->trash_days = v->format.trash_days;
	out->logical_block_size = v->logical_block_size;
	out->session_id = v->meta->sid;
	struct sl_err ignored = {0};
	if (!sl_meta_supports(v->meta, SL_META_OP_WHOAMI) ||
	    sl_meta_whoami(v->meta, out->user, sizeof(out->user), &ignored))
		snprintf(out->user, sizeof(out->user), "%s", v->default_user);
	return 0;
}

int sluice_file_blocks(sluice_volume *vol, const sluice_user *u, const char *path, uint64_t start,
		       uint64_t len, sluice_block *out, size_t max)
{
	struct path_call c;
	int rc = path_begin(vol, u, path, true, READS, &c);
	if (rc)
		return rc;
	const struct sl_attr attr = c.attr;
	const sl_ino ino = c.ino;
	if (attr.type == SL_TYPE_DIR)
		return 0;
	uint64_t bs = vol->core.logical_block_size;
	uint64_t end = start + len < start || start + len > attr.length ? attr.length : start + len;
	size_t n = 0;
	struct sl_ring *ring = sl_vol_ring(&vol->core);
	for (uint64_t b = start / bs; b * bs < end && n < max; b++) {
		uint64_t off = b * bs;
		out[n++] = (sluice_block){.offset = off,
					  .length = off + bs > attr.length ? attr.length - off : bs,
					  .inode = ino,
					  .index = b};
		if (ring)
			out[n - 1].nhosts = (int)sl_ring_lookup(ring, ino, b, out[n - 1].hosts,
								vol->core.cache_replicas);
	}
	return (int)n;
}
