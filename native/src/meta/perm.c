/*
 * perm.c - the permission rules, in one place for every backend and for the gateway (which runs
 * the sql backend as its callers): POSIX mode bits or ACLs with HDFS's superuser, the sticky bit,
 * HDFS's rules for changing attributes, and the data slots' owner exemption. The backends call
 * them inside their transactions, on the rows they read there.
 */
#include "meta.h"

#include <stdbool.h>

bool sl_meta_superuser(const struct sl_meta_user *u)
{
	return !u || u->superuser;
}

bool sl_meta_in_group(const struct sl_meta_user *u, uint32_t gid)
{
	for (int i = 0; i < u->ngids && i < SL_MAX_GROUPS; i++)
		if (u->gids[i] == gid)
			return true;
	return false;
}

int sl_meta_access(const struct sl_meta_user *u, const struct sl_attr *attr,
		   const struct sl_acl *acl, int mask)
{
	mask &= 7;
	if (!u || !mask)
		return 0;
	if (u->superuser) {
		/* As POSIX: even the superuser may execute a file only if someone may. */
		if ((mask & SL_MAY_EXEC) && attr->type != SL_TYPE_DIR && !(attr->mode & 0111))
			return -EACCES;
		return 0;
	}
	if (attr->access_acl && (attr->mode & 070)) {
		if (!acl)
			return -EACCES;
		return sl_acl_allows(acl, u->uid, u->gids, u->ngids < SL_MAX_GROUPS ? u->ngids :
				     SL_MAX_GROUPS, attr->uid, attr->gid, mask) ? 0 : -EACCES;
	}
	int bits;
	if (u->uid == attr->uid) {
		bits = (attr->mode >> 6) & 7;
	} else {
		bits = sl_meta_in_group(u, attr->gid) ? (attr->mode >> 3) & 7 : attr->mode & 7;
	}
	return (bits & mask) == mask ? 0 : -EACCES;
}

bool sl_meta_sticky_denies(const struct sl_meta_user *u, const struct sl_attr *dir,
			   const struct sl_attr *victim)
{
	return (dir->mode & 01000) && !sl_meta_superuser(u) && u->uid != dir->uid &&
	       u->uid != victim->uid;
}

const char *sl_meta_setattr_denied(const struct sl_meta_user *u, const struct sl_attr *attr,
				   const struct sl_acl *acl, int set, const struct sl_attr *in)
{
	bool su = sl_meta_superuser(u), owner = su || u->uid == attr->uid;
	if ((set & SL_SET_MODE) && !owner)
		return "only the owner may change the permissions";
	if ((set & SL_SET_UID) && in->uid != attr->uid && !su)
		return "only a superuser may change the owner";
	if ((set & (SL_SET_UID | SL_SET_GID)) && !owner)
		return "only the owner may change the owner or group";
	if ((set & SL_SET_GID) && in->gid != attr->gid && !su && !sl_meta_in_group(u, in->gid))
		return "the new group is not one of the caller's groups";
	if ((set & (SL_SET_ATIME | SL_SET_MTIME)) && !owner &&
	    sl_meta_access(u, attr, acl, SL_MAY_WRITE))
		return "cannot change the times";
	return NULL;
}

bool sl_meta_data_denied(const struct sl_meta_user *u, const struct sl_attr *attr,
			 const struct sl_acl *acl, int mask)
{
	return u && u->uid != attr->uid && sl_meta_access(u, attr, acl, mask);
}
