/*
 * remote_ops.c - the slots of the "gateway://" metadata backend (remote.c): each is one request
 * to the gateway, its arguments and results encoded with the op's layouts (rpc/codec.h); and the
 * backend's table, sl_meta_remote_backend.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_data.h"
#include "remote_internal.h"

_Static_assert(SL_RPC_MAX_TOKEN_IDENT <= SL_META_TOKEN_IDENT_MAX, "an issued token must fit");

/* ---- volume ---------------------------------------------------------------------------------- */

static int copy_str(const char *s, char **out, struct sl_err *err)
{
	if (!(*out = strdup(s ? s : "")))
		return sl_errf(err, -ENOMEM, "out of memory");
	return 0;
}

/* A string result (s, decoded when rc is 0), copied for the caller. */
static int take_str(struct call *c, int rc, const char *s, char **out, struct sl_err *err)
{
	*out = NULL;
	if (!rc && sl_r_done(&c->r))
		rc = copy_str(s, out, err);
	rc = sl_remote_finish(c, rc, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* A text result (LOAD_FORMAT, GET_SETTING). */
static int take_text(struct call *c, int rc, char **out, struct sl_err *err)
{
	struct sl_rpc_text t = {0};
	if (!rc)
		sl_r_text(&c->r, &t);
	return take_str(c, rc, t.text, out, err);
}

/* A path result (READLINK, INODE_PATH). */
static int take_path(struct call *c, int rc, char **out, struct sl_err *err)
{
	struct sl_rpc_path p = {0};
	if (!rc)
		sl_r_path(&c->r, &p);
	return take_str(c, rc, p.path, out, err);
}

/* Attributes as the result (out may be NULL). */
static int take_attr(struct call *c, int rc, struct sl_attr *out, struct sl_err *err)
{
	struct sl_attr a;
	if (!rc && !sl_r_attr(&c->r, &a) && out)
		*out = a;
	return sl_remote_finish(c, rc, err);
}

/* An inode and its attributes as the result (RESOLVE, LOOKUP). */
static int take_found(struct call *c, int rc, sl_ino *ino, struct sl_attr *attr,
		      struct sl_err *err)
{
	struct sl_rpc_found f;
	if (!rc && !sl_r_found(&c->r, &f)) {
		*ino = f.ino;
		if (attr)
			*attr = f.attr;
	}
	return sl_remote_finish(c, rc, err);
}

static int remote_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LOAD_FORMAT, NULL);
	return take_text(&c, sl_remote_invoke(m, &c, err), json, err);
}

static int remote_get_setting(struct sl_meta *m, const char *name, char **value,
			      struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GET_SETTING, NULL);
	sl_w_setting_name(&c.req, &(struct sl_rpc_setting_name){.name = name});
	return take_text(&c, sl_remote_invoke(m, &c, err), value, err);
}

static int remote_add_setting(struct sl_meta *m, const char *name, const char *value,
			      struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_ADD_SETTING, NULL);
	sl_w_setting(&c.req, &(struct sl_rpc_setting){.name = name, .value = value});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_format(struct sl_meta *m, const char *json, const struct sl_attr *root,
			 bool force, struct sl_err *err)
{
	(void)json;
	(void)root;
	(void)force;
	return sl_errf(err, -EPERM, "%s: a volume is formatted on its database directly, not "
		       "through the gateway", m->url_redacted);
}

/* ---- sessions and counters ------------------------------------------------------------------- */

static int remote_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s,
			      uint64_t *sid, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_NEW_SESSION, NULL);
	struct sl_rpc_new_session a = {.info_json = info_json, .expire_s = expire_s};
	sl_w_new_session(&c.req, &a);
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_session_id res;
	if (!rc && !sl_r_session_id(&c.r, &res))
		*sid = res.sid;
	return sl_remote_finish(&c, rc, err);
}

static int remote_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
				  struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_REFRESH_SESSION, NULL);
	sl_w_refresh_session(&c.req,
			     &(struct sl_rpc_refresh_session){.sid = sid, .expire_s = expire_s});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_CLOSE_SESSION, NULL);
	sl_w_session_id(&c.req, &(struct sl_rpc_session_id){.sid = sid});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
				struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LIST_SESSIONS, NULL);
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_count head = {0};
	if (!rc)
		sl_r_count(&c.r, &head);
	for (uint32_t i = 0; i < head.n && !c.r.bad; i++) {
		struct sl_session_info s;
		if (!sl_r_session(&c.r, &s) && cb(arg, &s))
			break;
	}
	if (!rc && c.r.bad)
		rc = sl_errf(err, -EPROTO, "malformed session list from the gateway");
	sl_wbuf_free(&c.req);
	free(c.resp);
	return rc;
}

/* Reads (delta 0) of usedSpace and totalInodes, batches (delta > 0) of nextInode and nextChunk;
 * the gateway refuses the rest. A batch of "nextChunk" ids comes with its grant, which is kept
 * (remote_data.h) for the PUTs and commits of those ids, and the core hands the ids out during
 * the first half of the grant's lifetime only, so that the slices begun with them have the other
 * half to be uploaded and committed. */
static int remote_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			       struct sl_err *err)
{
	int64_t asked = sl_clock_mono_ms(m->clock);
	struct call c;
	sl_remote_begin(&c, SL_OP_NEXT_IDS, NULL);
	sl_w_counter(&c.req, &(struct sl_rpc_counter){.name = name, .delta = delta});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_ids res = {0};
	struct sl_slice_grant g = {0};
	if (!rc && !sl_r_ids(&c.r, &res)) {
		*value = res.value;
		if (res.has_grant && res.grant.mac_len == SL_GRANT_MAC_BYTES)
			memcpy(g.mac, res.grant.mac, SL_GRANT_MAC_BYTES);
		else if (res.has_grant)
			c.r.bad = true;
		g.issued = res.grant.issued;
	}
	rc = sl_remote_finish(&c, rc, err);
	if (!rc && res.has_grant && delta > 0 && delta <= UINT32_MAX && *value >= delta) {
		g.first = (uint64_t)(*value - delta);
		g.count = (uint32_t)delta;
		sl_rdata_add_grant(sl_remote_of(m)->data, &g);
		pthread_mutex_lock(&m->lock);
		m->slice_batch_until_ms = asked + (int64_t)res.grant.lifetime_s * 500;
		pthread_mutex_unlock(&m->lock);
	}
	return rc;
}

static int remote_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
				   const int64_t *space, const int64_t *inodes, size_t n,
				   struct sl_err *err)
{
	/* Never reached with anything to do: this backend reports no usage (remote.c's header). */
	(void)m, (void)inos, (void)length, (void)space, (void)inodes, (void)err;
	return n ? sl_errf(err, -EPERM, "usage is accounted by the gateway") : 0;
}

/* ---- namespace ------------------------------------------------------------------------------- */

/* What an op removed or replaced as the result (out may be NULL). */
static int take_removed(struct call *c, int rc, struct sl_removed *out, struct sl_err *err)
{
	struct sl_removed x;
	if (!rc && !sl_r_removed(&c->r, &x) && out)
		*out = x;
	return sl_remote_finish(c, rc, err);
}

static int remote_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
			  sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RESOLVE, u);
	sl_w_path(&c.req, &(struct sl_rpc_path){.path = path});
	return take_found(&c, sl_remote_invoke(m, &c, err), ino, attr, err);
}

static int remote_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LOOKUP, u);
	sl_w_entry(&c.req, &(struct sl_rpc_entry){.parent = parent, .name = name});
	return take_found(&c, sl_remote_invoke(m, &c, err), ino, attr, err);
}

static int remote_snapshot(struct sl_meta *m, const struct sl_meta_user *u,
			   enum sl_snapshot_op op, sl_ino dir, const char *name,
			   const char *new_name, sl_meta_removed_cb removed, void *arg, sl_ino *ino,
			   struct sl_attr *attr, struct sl_err *err)
{
	(void)removed; /* the gateway deletes the data of what it removes */
	(void)arg;
	struct call c;
	sl_remote_begin(&c, SL_OP_SNAPSHOT, u);
	sl_w_snapshot(&c.req, &(struct sl_rpc_snapshot){.op = (uint32_t)op, .dir = dir,
							.name = name, .new_name = new_name});
	sl_ino found;
	int rc = take_found(&c, sl_remote_invoke(m, &c, err), &found, attr, err);
	if (!rc && ino)
		*ino = found;
	return rc;
}

static int remote_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GETATTR, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	return take_attr(&c, sl_remote_invoke(m, &c, err), attr, err);
}

static int remote_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
			  const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_SETATTR, u);
	sl_w_setattr(&c.req,
		     &(struct sl_rpc_setattr){.ino = ino, .set = (uint32_t)set, .attr = *in});
	return take_attr(&c, sl_remote_invoke(m, &c, err), out, err);
}

static int remote_getfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GETFACL, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_facl res = {0};
	if (!rc && sl_r_facl(&c.r, &res))
		rc = sl_errf(err, -ENOMEM, "out of memory");
	if (!rc) {
		memset(out, 0, sizeof(*out));
		*attr = res.attr;
		out->mode = res.mode;
		out->has_access = res.has_access;
		out->has_default = res.has_default;
		if ((res.has_access && !sl_acl_decode(res.access, res.access_len, &out->access)) ||
		    (res.has_default && !sl_acl_decode(res.def, res.def_len, &out->def)))
			rc = sl_errf(err, -EPROTO, "the gateway sent a malformed ACL");
	}
	return sl_remote_finish(&c, rc, err);
}

static int remote_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
			  struct sl_attr *attr, struct sl_err *err)
{
	if (n > SL_ACL_MAX_ENTRIES)
		return sl_errf(err, -EINVAL, "Invalid ACL: ACL spec has %zu entries, which exceeds "
			       "maximum of %d.", n, SL_ACL_MAX_ENTRIES);
	uint8_t buf[SL_ACL_MAX_ENTRIES * SL_ACL_SPEC_BYTES];
	sl_acl_spec_encode(spec, n, buf);
	struct call c;
	sl_remote_begin(&c, SL_OP_SETFACL, u);
	sl_w_setfacl(&c.req, &(struct sl_rpc_setfacl){.ino = ino, .op = (uint32_t)op, .spec = buf,
						     .spec_len = n * SL_ACL_SPEC_BYTES});
	struct sl_attr ignored;
	return take_attr(&c, sl_remote_invoke(m, &c, err), attr ? attr : &ignored, err);
}

static int remote_access(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int mask,
			 struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_ACCESS, u);
	sl_w_access(&c.req, &(struct sl_rpc_access){.ino = ino, .mask = (uint32_t)mask});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

/* A create's answer: its results follow success and -EEXIST (the entry that exists), read whole
 * in either case. */
static int finish_create(struct call *c, int rc, struct sl_err *err)
{
	if (rc == -EEXIST && !sl_r_done(&c->r))
		rc = sl_errf(err, -EPROTO, "malformed response from the gateway");
	return sl_remote_finish(c, rc, err);
}

static int remote_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
			sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
			struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_MKNOD, u);
	sl_w_mknod(&c.req, &(struct sl_rpc_mknod){.parent = parent, .name = name, .type = type,
						  .mode = mode, .flags = (uint32_t)flags,
						  .target = target});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_made made;
	if ((!rc || rc == -EEXIST) && !sl_r_made(&c.r, &made)) {
		if (ino)
			*ino = made.ino;
		if (attr)
			*attr = made.attr;
		if (replaced)
			*replaced = made.replaced;
	}
	return finish_create(&c, rc, err);
}

static int remote_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			       const char *name, uint16_t mode, int flags, uint64_t sid,
			       struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			       struct sl_removed *replaced, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_MKNOD_LEASED, u);
	sl_w_mknod_leased(&c.req, &(struct sl_rpc_mknod_leased){
		.parent = parent, .name = name, .mode = mode, .flags = (uint32_t)flags, .sid = sid});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_made_leased made;
	if ((!rc || rc == -EEXIST) && !sl_r_made_leased(&c.r, &made)) {
		*ino = made.ino;
		*attr = made.attr;
		if (replaced)
			*replaced = made.replaced;
		*lease = (struct sl_meta_lease){.sid = sid, .gen = made.gen};
	}
	return finish_create(&c, rc, err);
}

static int remote_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_UNLINK, u);
	sl_w_entry(&c.req, &(struct sl_rpc_entry){.parent = parent, .name = name});
	return take_removed(&c, sl_remote_invoke(m, &c, err), removed, err);
}

static int remote_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RMDIR, u);
	sl_w_entry(&c.req, &(struct sl_rpc_entry){.parent = parent, .name = name});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_whoami(struct sl_meta *m, char *name, size_t size, struct sl_err *err)
{
	struct remote *r = sl_remote_of(m);
	pthread_mutex_lock(&r->lock);
	int n = snprintf(name, size, "%s", r->self);
	pthread_mutex_unlock(&r->lock);
	return n > 0 ? 0 : sl_errf(err, -ENOTCONN, "not connected to the gateway yet");
}

/* The gateway deletes the data of what it removes: removed is never called here. */
static int remote_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			      const char *name, sl_meta_removed_cb removed, void *arg,
			      struct sl_err *err)
{
	(void)removed;
	(void)arg;
	struct call c;
	sl_remote_begin(&c, SL_OP_REMOVE_TREE, u);
	sl_w_entry(&c.req, &(struct sl_rpc_entry){.parent = parent, .name = name});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
			 const char *nsrc, sl_ino pdst, const char *ndst, int flags,
			 struct sl_removed *replaced, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RENAME, u);
	sl_w_rename(&c.req, &(struct sl_rpc_rename){.psrc = psrc, .nsrc = nsrc, .pdst = pdst,
						   .ndst = ndst, .flags = (uint32_t)flags});
	return take_removed(&c, sl_remote_invoke(m, &c, err), replaced, err);
}

/* Pages of at most SL_RPC_MAX_LIST entries until limit entries came or the directory ended. */
static int remote_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir,
			  const char *after, size_t limit, sl_meta_dirent_cb cb, void *arg,
			  struct sl_err *err)
{
	char last[SL_NAME_MAX + 1];
	bool stop = false;
	int rc = 0;
	while (!rc && !stop && limit) {
		size_t page = limit < SL_RPC_MAX_LIST ? limit : SL_RPC_MAX_LIST;
		struct call c;
		sl_remote_begin(&c, SL_OP_READDIR, u);
		sl_w_readdir(&c.req, &(struct sl_rpc_readdir){.ino = dir, .after = after,
							     .limit = (uint32_t)page});
		rc = sl_remote_invoke(m, &c, err);
		struct sl_rpc_count head = {0};
		if (!rc)
			sl_r_count(&c.r, &head);
		uint32_t n = head.n;
		if (n > page)
			c.r.bad = true;
		for (uint32_t i = 0; i < n && !c.r.bad && !stop; i++) {
			struct sl_rpc_dirent d;
			if (sl_r_dirent(&c.r, &d) || !d.name)
				break;
			struct sl_dirent_info e = {.name = d.name, .name_len = strlen(d.name),
						   .ino = d.ino, .attr = d.attr};
			snprintf(last, sizeof(last), "%s", e.name);
			stop = cb(arg, &e) != 0;
		}
		if (!rc && (c.r.bad || (!stop && !sl_r_done(&c.r))))
			rc = sl_errf(err, -EPROTO, "malformed directory listing from the gateway");
		sl_wbuf_free(&c.req);
		free(c.resp);
		if (n < page)
			break;
		limit -= n;
		after = last;
	}
	return rc;
}

static int remote_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   char **target, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_READLINK, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	return take_path(&c, sl_remote_invoke(m, &c, err), target, err);
}

static int remote_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     char **path, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_INODE_PATH, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	return take_path(&c, sl_remote_invoke(m, &c, err), path, err);
}

/* ---- file data ------------------------------------------------------------------------------- */

static int remote_read_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     uint32_t indx, struct sl_slice **slices, size_t *n,
			     struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_READ_CHUNK, u);
	sl_w_chunk(&c.req, &(struct sl_rpc_chunk){.ino = ino, .indx = indx});
	*slices = NULL;
	*n = 0;
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_slices res = {0};
	if (!rc && sl_r_slices(&c.r, &res) == -ENOMEM)
		rc = sl_errf(err, -ENOMEM, "out of memory");
	struct sl_slice *ss = (struct sl_slice *)res.slices; /* the decoder's: ours now */
	rc = sl_remote_finish(&c, rc, err);
	if (rc) {
		free(ss);
		return rc;
	}
	/* what a PRESIGN GET of their blocks names, so that the gateway can repeat this check */
	for (uint32_t i = 0; i < res.slices_n; i++)
		if (ss[i].id)
			sl_rdata_note_read(sl_remote_of(m)->data, ss[i].id, ino, indx,
					   u ? u->name : NULL);
	*slices = ss;
	*n = res.slices_n;
	return 0;
}

/* The grant of a slice this client is about to commit (the gateway accepts new slices only with
 * the grant of their id). */
static int grant_for_commit(struct sl_meta *m, uint64_t id, struct sl_slice_grant *g,
			    struct sl_err *err)
{
	if (!sl_rdata_grant_of(sl_remote_of(m)->data, id, g))
		return sl_errf(err, -EPERM, "%s: slice %" PRIu64 " was not granted to this client "
			       "by the gateway (taken by an earlier process, or its grant was "
			       "forgotten), so it cannot be committed", m->url_redacted, id);
	return 0;
}

static int remote_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			      const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			      const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			      struct sl_err *err)
{
	struct sl_rpc_write_chunk a = {.ino = ino, .indx = indx, .slice = *s, .mtime_ns = mtime_ns,
				       .has_grant = true, .has_lease = lease != NULL,
				       .lease = lease ? *lease : (struct sl_meta_lease){0}};
	int rc = grant_for_commit(m, s->id, &a.grant, err);
	if (rc)
		return rc;
	struct call c;
	sl_remote_begin(&c, SL_OP_WRITE_CHUNK, u);
	sl_w_write_chunk(&c.req, &a);
	return take_attr(&c, sl_remote_invoke(m, &c, err), attr, err);
}

/* Group commit in one request (op WRITE_CHUNKS). A gateway older than the op answers ENOSYS,
 * remembered: sl_meta_write_chunks then commits record by record, as before. */
static int remote_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			       size_t *done, struct sl_err *err)
{
	struct remote *r = sl_remote_of(m);
	*done = 0;
	pthread_mutex_lock(&r->lock);
	bool old_gateway = r->no_write_chunks;
	pthread_mutex_unlock(&r->lock);
	if (old_gateway)
		return sl_errf(err, -ENOSYS, "the gateway commits one slice per request");
	if (n > SL_RPC_MAX_BATCH)
		return sl_errf(err, -E2BIG, "a group commit of more than %u records",
			       SL_RPC_MAX_BATCH);
	struct call c;
	sl_remote_begin(&c, SL_OP_WRITE_CHUNKS, NULL);
	sl_w_count(&c.req, &(struct sl_rpc_count){.n = (uint32_t)n});
	for (size_t i = 0; i < n; i++) {
		const struct sl_meta_chunk_write *w = &recs[i];
		struct sl_rpc_chunk_write a = {
			.acting = w->u ? w->u->name : NULL, .ino = w->ino, .indx = w->indx,
			.slice = w->s, .mtime_ns = w->mtime_ns, .has_grant = true,
			.has_lease = w->lease != NULL,
			.lease = w->lease ? *w->lease : (struct sl_meta_lease){0}};
		int rc = grant_for_commit(m, w->s.id, &a.grant, err);
		if (rc) {
			sl_wbuf_free(&c.req);
			return rc;
		}
		sl_w_chunk_write(&c.req, &a);
	}
	int rc = sl_remote_invoke(m, &c, err);
	if (rc == -ENOSYS) {
		pthread_mutex_lock(&r->lock);
		r->no_write_chunks = true;
		pthread_mutex_unlock(&r->lock);
	}
	for (size_t i = 0; !rc && i < n; i++)
		sl_r_attr(&c.r, &recs[i].attr);
	rc = sl_remote_finish(&c, rc, err);
	if (!rc)
		*done = n;
	return rc;
}

static int remote_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   uint64_t length, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_TRUNCATE, u);
	sl_w_inode_length(&c.req, &(struct sl_rpc_inode_length){.ino = ino, .length = length});
	return take_attr(&c, sl_remote_invoke(m, &c, err), attr, err);
}

static int remote_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
			 const sl_ino *srcs, size_t n, struct sl_err *err)
{
	if (n > SL_RPC_MAX_CONCAT)
		return sl_errf(err, -E2BIG, "concat of more than %u files at once",
			       SL_RPC_MAX_CONCAT);
	struct call c;
	sl_remote_begin(&c, SL_OP_CONCAT, u);
	sl_w_concat(&c.req, &(struct sl_rpc_concat){.target = target, .srcs_n = (uint32_t)n,
						   .srcs = srcs});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
				   struct sl_err *err)
{
	(void)cb, (void)arg;
	return sl_errf(err, -EPERM, "%s: the gateway deletes the data of inode %" PRIu64 " itself",
		       m->url_redacted, ino);
}

/* Slices the compaction frees are deleted by the gateway (cb is not called here). */
static int remote_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
				const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
				const struct sl_slice *expect, size_t n, size_t skip,
				const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err)
{
	(void)cb, (void)arg;
	if (n > SL_RPC_MAX_SLICES)
		return sl_errf(err, -E2BIG, "too many slices to compact at once");
	struct sl_rpc_compact_chunk a = {
		.ino = ino, .indx = indx, .expect_n = (uint32_t)n, .expect = expect,
		.skip = (uint32_t)skip, .repl = *repl, .has_grant = true,
		.has_lease = lease != NULL, .lease = lease ? *lease : (struct sl_meta_lease){0}};
	int rc = grant_for_commit(m, repl->id, &a.grant, err);
	if (rc)
		return rc;
	struct call c;
	sl_remote_begin(&c, SL_OP_COMPACT_CHUNK, u);
	sl_w_compact_chunk(&c.req, &a);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				uint64_t sid, struct sl_meta_lease *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_ACQUIRE, u);
	sl_w_lease_acquire(&c.req, &(struct sl_rpc_lease_acquire){.ino = ino, .sid = sid});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_generation res;
	if (!rc && !sl_r_generation(&c.r, &res))
		*out = (struct sl_meta_lease){.sid = sid, .gen = res.gen};
	return sl_remote_finish(&c, rc, err);
}

static int remote_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
				struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_RELEASE, NULL);
	sl_w_lease_release(&c.req, &(struct sl_rpc_lease_release){.ino = ino, .lease = *lease});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				bool recover, bool *closed, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_RECOVER, u);
	sl_w_lease_recover(&c.req, &(struct sl_rpc_lease_recover){.ino = ino, .recover = recover});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_closed res = {0};
	if (!rc)
		sl_r_closed(&c.r, &res);
	*closed = res.closed;
	return sl_remote_finish(&c, rc, err);
}

static int remote_file_crc(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   uint64_t length, uint32_t *crc, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_FILE_CRC, u);
	sl_w_inode_length(&c.req, &(struct sl_rpc_inode_length){.ino = ino, .length = length});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_crc res = {0};
	if (!rc)
		sl_r_crc(&c.r, &res);
	*crc = res.crc;
	return sl_remote_finish(&c, rc, err);
}

static int remote_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err)
{
	return sl_errf(err, -EPERM, "%s: the gateway deletes slice %" PRIu64 " itself",
		       m->url_redacted, id);
}

static int remote_list_delfiles(struct sl_meta *m, int64_t before_s,
				int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
				struct sl_err *err)
{
	(void)m, (void)before_s, (void)cb, (void)arg, (void)err;
	return 0; /* pending deletions are the gateway's to sweep */
}

static int remote_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	/* Nothing is kept alive for this client: the gateway never records its open files. */
	(void)m, (void)ino, (void)err;
	if (orphan)
		*orphan = false;
	return 0;
}

/* ---- xattrs ---------------------------------------------------------------------------------- */

/* A GETXATTR or LISTXATTR result, copied for the caller. */
static int take_bytes(struct call *c, void **value, size_t *len, struct sl_err *err)
{
	struct sl_rpc_xattr_value res;
	if (sl_r_xattr_value(&c->r, &res))
		return 0; /* finish reports it */
	const void *p = res.value;
	size_t n = res.value_len;
	void *copy = malloc(n ? n : 1);
	if (!copy)
		return sl_errf(err, -ENOMEM, "out of memory");
	if (n)
		memcpy(copy, p, n);
	*value = copy;
	*len = n;
	return 0;
}

static int remote_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, void **value, size_t *len, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GETXATTR, u);
	sl_w_xattr(&c.req, &(struct sl_rpc_xattr){.ino = ino, .name = name});
	*value = NULL;
	*len = 0;
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, value, len, err);
	rc = sl_remote_finish(&c, rc, err);
	if (rc) {
		free(*value);
		*value = NULL;
		*len = 0;
	}
	return rc;
}

static int remote_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   const char *name, const void *value, size_t len, int flags,
			   struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_SETXATTR, u);
	sl_w_setxattr(&c.req, &(struct sl_rpc_setxattr){.ino = ino, .name = name, .value = value,
						       .value_len = len, .flags = (uint32_t)flags});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			    char **names, size_t *len, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LISTXATTR, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	void *v = NULL;
	*names = NULL;
	*len = 0;
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, &v, len, err);
	rc = sl_remote_finish(&c, rc, err);
	if (rc) {
		free(v);
		*len = 0;
		return rc;
	}
	*names = v;
	return 0;
}

static int remote_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			      const char *name, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_REMOVEXATTR, u);
	sl_w_xattr(&c.req, &(struct sl_rpc_xattr){.ino = ino, .name = name});
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

/* ---- summaries ------------------------------------------------------------------------------- */

static int remote_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_meta_summary *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_SUMMARY, u);
	sl_w_inode(&c.req, &(struct sl_rpc_inode){.ino = ino});
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		sl_r_summary(&c.r, out);
	return sl_remote_finish(&c, rc, err);
}

static int remote_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				       struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_UNSUPPORTED_FEATURES, NULL);
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_features res = {0};
	if (!rc && sl_r_features(&c.r, &res))
		res.what = NULL;
	if (what_size)
		snprintf(what, what_size, "%s", res.what ? res.what : "");
	return sl_remote_finish(&c, rc, err);
}

/* ---- delegation tokens ----------------------------------------------------------------------- */

/* Ends a call whose request carried a token's password. */
static int finish_secret(struct call *c, int rc, struct sl_err *err)
{
	if (c->req.p)
		OPENSSL_cleanse(c->req.p, c->req.len);
	return sl_remote_finish(c, rc, err);
}

static int remote_issue_token(struct sl_meta *m, const struct sl_meta_user *u, const char *renewer,
			      struct sl_meta_token *out, char *service, size_t service_size,
			      struct sl_err *err)
{
	struct remote *r = sl_remote_of(m);
	if (r->use_token)
		return sl_errf(err, -EPERM, "this client authenticates with a delegation token "
			       "itself; tokens are issued to Kerberos clients only");
	struct call c;
	sl_remote_begin(&c, SL_OP_ISSUE_TOKEN, u);
	sl_w_renewer(&c.req, &(struct sl_rpc_renewer){.renewer = renewer && *renewer ? renewer
									  : NULL});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_issued_token res;
	if (!rc && !sl_r_issued_token(&c.r, &res) && sl_r_done(&c.r) && res.ident_len &&
	    res.password_len == sizeof(out->password)) {
		memcpy(out->ident, res.ident, res.ident_len);
		out->ident_len = res.ident_len;
		memcpy(out->password, res.password, res.password_len);
		OPENSSL_cleanse((void *)res.password, res.password_len);
	} else if (!rc) {
		c.r.bad = true;
	}
	rc = sl_remote_finish(&c, rc, err);
	if (rc)
		return rc;
	/* The name this client reaches the gateway by: what Hadoop's token selection matches. */
	snprintf(service, service_size, strchr(r->gw[0].host, ':') ? "[%s]:%s" : "%s:%s",
		 r->gw[0].host, r->gw[0].port);
	return 0;
}

static int remote_renew_token(struct sl_meta *m, const struct sl_meta_token *t,
			      int64_t *expiry_ms, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RENEW_TOKEN, NULL);
	sl_w_token(&c.req, &(struct sl_rpc_token){.ident = t->ident, .ident_len = t->ident_len,
						 .password = t->password,
						 .password_len = sizeof(t->password)});
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_rpc_expiry res;
	if (!rc && !sl_r_expiry(&c.r, &res))
		*expiry_ms = res.expiry_ms;
	return finish_secret(&c, rc, err);
}

static int remote_cancel_token(struct sl_meta *m, const struct sl_meta_token *t,
			       struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_CANCEL_TOKEN, NULL);
	sl_w_token(&c.req, &(struct sl_rpc_token){.ident = t->ident, .ident_len = t->ident_len,
						 .password = t->password,
						 .password_len = sizeof(t->password)});
	return finish_secret(&c, sl_remote_invoke(m, &c, err), err);
}

const struct sl_meta_backend sl_meta_remote_backend = {
	.version = SL_META_BACKEND_VERSION,
	.name = "gateway",
	.priv_size = sizeof(struct remote),
	.caps = SL_META_CAP_SERVER_CHECKS | SL_META_CAP_COMMIT_STORED,
	.init = sl_remote_init,
	.cleanup = sl_remote_cleanup,
	.load_format = remote_load_format,
	.get_setting = remote_get_setting,
	.add_setting = remote_add_setting,
	.format = remote_format,
	.new_session = remote_new_session,
	.refresh_session = remote_refresh_session,
	.close_session = remote_close_session,
	.list_sessions = remote_list_sessions,
	.incr_counter = remote_incr_counter,
	.update_dir_stats = remote_update_dir_stats,
	.resolve = remote_resolve,
	.lookup = remote_lookup,
	.getattr = remote_getattr,
	.setattr = remote_setattr,
	.mknod = remote_mknod,
	.mknod_leased = remote_mknod_leased,
	.unlink = remote_unlink,
	.rmdir = remote_rmdir,
	.rename = remote_rename,
	.remove_tree = remote_remove_tree,
	.readdir = remote_readdir,
	.readlink = remote_readlink,
	.inode_path = remote_inode_path,
	.read_chunk = remote_read_chunk,
	.write_chunk = remote_write_chunk,
	.write_chunks = remote_write_chunks,
	.truncate = remote_truncate,
	.lease_acquire = remote_lease_acquire,
	.lease_release = remote_lease_release,
	.lease_recover = remote_lease_recover,
	.file_crc = remote_file_crc,
	.concat = remote_concat,
	.delete_file_data = remote_delete_file_data,
	.compact_chunk = remote_compact_chunk,
	.forget_slice = remote_forget_slice,
	.list_delfiles = remote_list_delfiles,
	.release = remote_release,
	.getxattr = remote_getxattr,
	.setxattr = remote_setxattr,
	.listxattr = remote_listxattr,
	.removexattr = remote_removexattr,
	.summary = remote_summary,
	.getfacl = remote_getfacl,
	.snapshot = remote_snapshot,
	.setfacl = remote_setfacl,
	.access = remote_access,
	.unsupported_features = remote_unsupported_features,
	.issue_token = remote_issue_token,
	.renew_token = remote_renew_token,
	.cancel_token = remote_cancel_token,
	.whoami = remote_whoami,
	.object_provider = sl_remote_object_provider,
};
