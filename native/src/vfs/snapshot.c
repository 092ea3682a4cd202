/* snapshot.c - HDFS's directory snapshots (sluice_snapshot_*), and the paths they are read by:
 * DIR/.snapshot lists DIR's snapshots and DIR/.snapshot/NAME/... reads one. The backend makes
 * and keeps them (meta.h, the snapshot slot); here paths become its calls. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

/* The first "/.snapshot" component of norm, or NULL. */
static const char *snapshot_component(const char *norm)
{
	static const char comp[] = "/" SL_SNAPSHOT_NAME;
	for (const char *p = strstr(norm, comp); p; p = strstr(p + 1, comp)) {
		char next = p[sizeof(comp) - 1];
		if (next == '/' || next == 0)
			return p;
	}
	return NULL;
}

int sl_snapshot_resolve(sluice_volume *vol, const struct sl_meta_user *mu, const char *norm,
			sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct sl_meta *m = vol->core.meta;
	const char *at = snapshot_component(norm);
	if (!at)
		return sl_meta_resolve(m, mu, norm, ino, attr, err);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", at == norm ? 1 : (int)(at - norm), norm);
	sl_ino d;
	struct sl_attr da;
	int rc = sl_meta_resolve(m, mu, dir, &d, &da, err);
	if (rc)
		return rc;
	if (da.type != SL_TYPE_DIR || !(da.flags & SL_FLAG_SNAPSHOTS)) /* an entry of that name */
		return sl_meta_resolve(m, mu, norm, ino, attr, err);
	rc = sl_meta_snapshot(m, mu, SL_SNAP_LOOKUP, d, NULL, NULL, NULL, NULL, ino, attr, err);
	for (const char *p = at + sizeof(SL_SNAPSHOT_NAME); !rc && *p == '/';) {
		const char *name = p + 1, *end = strchr(name, '/');
		size_t len = end ? (size_t)(end - name) : strlen(name);
		if (attr->type != SL_TYPE_DIR)
			return sl_errf(err, -ENOTDIR, "%.*s is not a directory", (int)(p - norm), norm);
		char comp[SL_NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)len, name);
		rc = sl_meta_lookup(m, mu, *ino, comp, ino, attr, err);
		if (rc == -ENOENT)
			rc = sl_errf(err, -ENOENT, "%.*s does not exist", (int)(name + len - norm),
				     norm);
		p = name + len;
	}
	return rc;
}

/* The directory of a snapshot call, resolved, in a volume that takes changes. */
static int snapshot_dir(sluice_volume *vol, const sluice_user *u, const char *path,
			struct sl_meta_user *mu, sl_ino *dir, struct sl_err *err)
{
	sl_vol_user(&vol->core, u, mu);
	if (vol->core.read_only)
		return sl_errf(err, -EROFS, "volume %s is opened read-only", vol->core.format.name);
	struct sl_attr a;
	int rc = sl_resolve(vol, mu, path, true, dir, &a, err);
	if (!rc && a.type != SL_TYPE_DIR)
		rc = sl_errf(err, -ENOTDIR, "%s is not a directory", path);
	return rc;
}

int sluice_snapshot_create(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *name, char *out, size_t out_size)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_ino d;
	char def[32];
	if (!name) { /* HDFS's default: "s" + the time, to the millisecond */
		int64_t ms = sl_real_ns() / 1000000;
		time_t secs = (time_t)(ms / 1000);
		struct tm tm;
		localtime_r(&secs, &tm);
		size_t k = strftime(def, sizeof(def), "s%Y%m%d-%H%M%S", &tm);
		snprintf(def + k, sizeof(def) - k, ".%03d", (int)(ms % 1000));
		name = def;
	}
	int rc = snapshot_dir(vol, u, dir, &mu, &d, err);
	if (!rc)
		rc = sl_meta_snapshot(vol->core.meta, &mu, SL_SNAP_CREATE, d, name, NULL, NULL, NULL,
				      NULL, NULL, err);
	if (!rc && out && out_size) {
		char norm[PATH_MAX];
		if (sl_path_normalize(dir, norm, sizeof(norm), err) ||
		    snprintf(out, out_size, "%s/%s/%s", strcmp(norm, "/") ? norm : "",
			     SL_SNAPSHOT_NAME, name) >= (int)out_size)
			rc = sl_errf(err, -ENAMETOOLONG, "the path of snapshot %s of %s is too long",
				     name, dir);
	}
	return rc;
}

int sluice_snapshot_delete(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *name)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_ino d;
	int rc = snapshot_dir(vol, u, dir, &mu, &d, err);
	return rc ? rc : sl_meta_snapshot(vol->core.meta, &mu, SL_SNAP_DELETE, d, name, NULL,
					  sl_vol_doom_removed, vol, NULL, NULL, err);
}

int sluice_snapshot_rename(sluice_volume *vol, const sluice_user *u, const char *dir,
			   const char *old_name, const char *new_name)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_meta_user mu;
	sl_ino d;
	int rc = snapshot_dir(vol, u, dir, &mu, &d, err);
	return rc ? rc : sl_meta_snapshot(vol->core.meta, &mu, SL_SNAP_RENAME, d, old_name,
					  new_name, NULL, NULL, NULL, NULL, err);
}
