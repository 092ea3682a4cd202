/*
 * remote_ops.c - the slots of the "gateway://" metadata backend (remote.c): each is one request
 * to the gateway, its arguments and results the mirror of gateway/dispatch.c; and the backend's
 * table, sl_meta_remote_backend.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_data.h"
#include "remote_internal.h"

/* ---- volume ---------------------------------------------------------------------------------- */

static int copy_str(const char *s, char **out, struct sl_err *err)
{
	if (!(*out = strdup(s ? s : "")))
		return sl_errf(err, -ENOMEM, "out of memory");
	return 0;
}

/* A string result, copied for the caller. */
static int take_str(struct call *c, int rc, size_t max, char **out, struct sl_err *err)
{
	*out = NULL;
	const char *s = rc ? NULL : sl_r_str(&c->r, max);
	if (!rc && sl_r_done(&c->r))
		rc = copy_str(s, out, err);
	rc = sl_remote_finish(c, rc, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Attributes as the result (out may be NULL). */
static int take_attr(struct call *c, int rc, struct sl_attr *out, struct sl_err *err)
{
	struct sl_attr a;
	if (!rc) {
		sl_r_attr(&c->r, &a);
		if (out && !c->r.bad)
			*out = a;
	}
	return sl_remote_finish(c, rc, err);
}

/* An inode and its attributes as the result. */
static int take_entry(struct call *c, int rc, sl_ino *ino, struct sl_attr *attr,
		      struct sl_err *err)
{
	if (!rc)
		*ino = sl_r_u64(&c->r);
	return take_attr(c, rc, attr, err);
}

static int remote_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LOAD_FORMAT, NULL);
	return take_str(&c, sl_remote_invoke(m, &c, err), SL_RPC_MAX_JSON, json, err);
}

static int remote_get_setting(struct sl_meta *m, const char *name, char **value,
			      struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GET_SETTING, NULL);
	sl_w_str(&c.req, name);
	return take_str(&c, sl_remote_invoke(m, &c, err), SL_RPC_MAX_JSON, value, err);
}

static int remote_add_setting(struct sl_meta *m, const char *name, const char *value,
			      struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_ADD_SETTING, NULL);
	sl_w_str(&c.req, name);
	sl_w_str(&c.req, value);
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
	sl_w_str(&c.req, info_json);
	sl_w_i64(&c.req, expire_s);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		*sid = sl_r_u64(&c.r);
	return sl_remote_finish(&c, rc, err);
}

static int remote_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s,
				  struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_REFRESH_SESSION, NULL);
	sl_w_u64(&c.req, sid);
	sl_w_i64(&c.req, expire_s);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_CLOSE_SESSION, NULL);
	sl_w_u64(&c.req, sid);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg,
				struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LIST_SESSIONS, NULL);
	int rc = sl_remote_invoke(m, &c, err);
	uint32_t n = rc ? 0 : sl_r_u32(&c.r);
	for (uint32_t i = 0; i < n && !c.r.bad; i++) {
		struct sl_session_info s;
		s.sid = sl_r_u64(&c.r);
		s.expire_s = sl_r_i64(&c.r);
		s.info_json = sl_r_str(&c.r, SL_RPC_MAX_JSON);
		if (!c.r.bad && cb(arg, &s))
			break;
	}
	if (!rc && c.r.bad)
		rc = sl_errf(err, -EPROTO, "malformed session list from the gateway");
	sl_wbuf_free(&c.req);
	free(c.resp);
	return rc;
}

/* Reads (delta 0) of usedSpace and totalInodes, batches (delta > 0) of nextInode and nextChunk;
 * the gateway refuses the rest. The results: i64 the counter's new value, u8 whether a grant
 * follows, and for a batch of "nextChunk" ids [value - delta, value): i64 issued, bytes mac, u32
 * the seconds the gateway accepts it. The grant is kept (remote_data.h) for the PUTs and commits
 * of those ids, and the core hands the ids out during the first half of that time only, so that
 * the slices begun with them have the other half to be uploaded and committed. */
static int remote_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			       struct sl_err *err)
{
	int64_t asked = sl_clock_mono_ms(m->clock);
	struct call c;
	sl_remote_begin(&c, SL_OP_NEXT_IDS, NULL);
	sl_w_str(&c.req, name);
	sl_w_i64(&c.req, delta);
	int rc = sl_remote_invoke(m, &c, err);
	struct sl_slice_grant g = {0};
	bool granted = false;
	uint32_t lifetime = 0;
	if (!rc) {
		*value = sl_r_i64(&c.r);
		if ((granted = sl_r_bool(&c.r))) {
			g.issued = sl_r_i64(&c.r);
			const void *mac;
			if (sl_r_bytes(&c.r, &mac, SL_GRANT_MAC_BYTES) == SL_GRANT_MAC_BYTES)
				memcpy(g.mac, mac, SL_GRANT_MAC_BYTES);
			else
				c.r.bad = true;
			lifetime = sl_r_u32(&c.r);
		}
	}
	rc = sl_remote_finish(&c, rc, err);
	if (!rc && granted && delta > 0 && delta <= UINT32_MAX && *value >= delta) {
		g.first = (uint64_t)(*value - delta);
		g.count = (uint32_t)delta;
		sl_rdata_add_grant(sl_remote_of(m)->data, &g);
		pthread_mutex_lock(&m->lock);
		m->slice_batch_until_ms = asked + (int64_t)lifetime * 500;
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

static void read_removed(struct sl_rbuf *r, struct sl_removed *out)
{
	struct sl_removed x;
	x.ino = sl_r_u64(r);
	x.length = sl_r_u64(r);
	x.data_pending = sl_r_bool(r);
	if (out)
		*out = x;
}

static int remote_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path,
			  sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RESOLVE, u);
	sl_w_str(&c.req, path);
	return take_entry(&c, sl_remote_invoke(m, &c, err), ino, attr, err);
}

static int remote_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LOOKUP, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	return take_entry(&c, sl_remote_invoke(m, &c, err), ino, attr, err);
}

static int remote_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_attr *attr, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_GETATTR, u);
	sl_w_u64(&c.req, ino);
	return take_attr(&c, sl_remote_invoke(m, &c, err), attr, err);
}

static int remote_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
			  const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_SETATTR, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, (uint32_t)set);
	sl_w_attr(&c.req, in);
	return take_attr(&c, sl_remote_invoke(m, &c, err), out, err);
}

/* mknod reports the existing entry with -EEXIST, so its results follow any status. */
static int remote_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, uint8_t type, uint16_t mode, int flags, const char *target,
			sl_ino *ino, struct sl_attr *attr, struct sl_removed *replaced,
			struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_MKNOD, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	sl_w_u8(&c.req, type);
	sl_w_u16(&c.req, mode);
	sl_w_u32(&c.req, (uint32_t)flags);
	sl_w_str(&c.req, target);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc || rc == -EEXIST) {
		struct sl_rbuf *r = &c.r;
		sl_ino i = sl_r_u64(r);
		struct sl_attr a;
		sl_r_attr(r, &a);
		read_removed(r, replaced);
		if (!r->bad) {
			if (ino)
				*ino = i;
			if (attr)
				*attr = a;
		}
		if (rc && !sl_r_done(r))
			rc = sl_errf(err, -EPROTO, "malformed response from the gateway");
		if (rc) {
			sl_wbuf_free(&c.req);
			free(c.resp);
			return rc;
		}
	}
	return sl_remote_finish(&c, rc, err);
}

static int remote_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, struct sl_removed *removed, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_UNLINK, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		read_removed(&c.r, removed);
	return sl_remote_finish(&c, rc, err);
}

static int remote_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RMDIR, u);
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
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
	sl_w_u64(&c.req, parent);
	sl_w_str(&c.req, name);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
			 const char *nsrc, sl_ino pdst, const char *ndst, int flags,
			 struct sl_removed *replaced, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RENAME, u);
	sl_w_u64(&c.req, psrc);
	sl_w_str(&c.req, nsrc);
	sl_w_u64(&c.req, pdst);
	sl_w_str(&c.req, ndst);
	sl_w_u32(&c.req, (uint32_t)flags);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		read_removed(&c.r, replaced);
	return sl_remote_finish(&c, rc, err);
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
		sl_w_u64(&c.req, dir);
		sl_w_str(&c.req, after);
		sl_w_u32(&c.req, (uint32_t)page);
		rc = sl_remote_invoke(m, &c, err);
		uint32_t n = rc ? 0 : sl_r_u32(&c.r);
		if (n > page)
			c.r.bad = true;
		uint32_t i;
		for (i = 0; i < n && !c.r.bad && !stop; i++) {
			struct sl_dirent_info e;
			e.name = sl_r_str(&c.r, SL_RPC_MAX_NAME);
			e.ino = sl_r_u64(&c.r);
			sl_r_attr(&c.r, &e.attr);
			if (c.r.bad || !e.name)
				break;
			e.name_len = strlen(e.name);
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
	sl_w_u64(&c.req, ino);
	return take_str(&c, sl_remote_invoke(m, &c, err), SL_RPC_MAX_PATH, target, err);
}

static int remote_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     char **path, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_INODE_PATH, u);
	sl_w_u64(&c.req, ino);
	return take_str(&c, sl_remote_invoke(m, &c, err), SL_RPC_MAX_PATH, path, err);
}

/* ---- file data ------------------------------------------------------------------------------- */

static int remote_read_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			     uint32_t indx, struct sl_slice **slices, size_t *n,
			     struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_READ_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	*slices = NULL;
	*n = 0;
	int rc = sl_remote_invoke(m, &c, err);
	uint32_t cnt = rc ? 0 : sl_r_u32(&c.r);
	if (cnt > SL_RPC_MAX_SLICES || cnt * (size_t)SL_SLICE_BYTES > c.r.len - c.r.pos)
		c.r.bad = true;
	struct sl_slice *ss = NULL;
	if (!rc && !c.r.bad && cnt && !(ss = malloc(cnt * sizeof(*ss))))
		rc = sl_errf(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; !rc && !c.r.bad && i < cnt; i++)
		sl_r_slice(&c.r, &ss[i]);
	rc = sl_remote_finish(&c, rc, err);
	if (rc) {
		free(ss);
		return rc;
	}
	/* what a PRESIGN GET of their blocks names, so that the gateway can repeat this check */
	for (uint32_t i = 0; i < cnt; i++)
		if (ss[i].id)
			sl_rdata_note_read(sl_remote_of(m)->data, ss[i].id, ino, indx,
					   u ? u->name : NULL);
	*slices = ss;
	*n = cnt;
	return 0;
}

/* The stream's lease after a data op's arguments (proto.h), if it holds one. */
static void put_lease(struct call *c, const struct sl_meta_lease *lease)
{
	if (lease) {
		sl_w_u64(&c->req, lease->sid);
		sl_w_u64(&c->req, lease->gen);
	}
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

/* Arguments: u64 inode, u32 chunk index, the slice, i64 mtime, the slice's grant, the stream's
 * lease if it holds one. */
static int remote_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			      const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			      const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			      struct sl_err *err)
{
	struct sl_slice_grant g;
	int rc = grant_for_commit(m, s->id, &g, err);
	if (rc)
		return rc;
	struct call c;
	sl_remote_begin(&c, SL_OP_WRITE_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	sl_w_slice(&c.req, s);
	sl_w_i64(&c.req, mtime_ns);
	sl_w_grant(&c.req, &g);
	put_lease(&c, lease);
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
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct sl_meta_chunk_write *w = &recs[i];
		struct sl_slice_grant g;
		int rc = grant_for_commit(m, w->s.id, &g, err);
		if (rc) {
			sl_wbuf_free(&c.req);
			return rc;
		}
		sl_w_str(&c.req, w->u ? w->u->name : NULL);
		sl_w_u64(&c.req, w->ino);
		sl_w_u32(&c.req, w->indx);
		sl_w_slice(&c.req, &w->s);
		sl_w_i64(&c.req, w->mtime_ns);
		sl_w_grant(&c.req, &g);
		sl_w_bool(&c.req, w->lease != NULL);
		put_lease(&c, w->lease);
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
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, length);
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
	sl_w_u64(&c.req, target);
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		sl_w_u64(&c.req, srcs[i]);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
				   struct sl_err *err)
{
	(void)cb, (void)arg;
	return sl_errf(err, -EPERM, "%s: the gateway deletes the data of inode %" PRIu64 " itself",
		       m->url_redacted, ino);
}

/* Slices the compaction frees are deleted by the gateway (cb is not called here). Arguments:
 * u64 inode, u32 chunk index, u32 n and the n records expected, u32 skip, the replacement slice,
 * its grant, the stream's lease if it holds one. */
static int remote_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
				const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
				const struct sl_slice *expect, size_t n, size_t skip,
				const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
				struct sl_err *err)
{
	(void)cb, (void)arg;
	if (n > SL_RPC_MAX_SLICES)
		return sl_errf(err, -E2BIG, "too many slices to compact at once");
	struct sl_slice_grant g;
	int rc = grant_for_commit(m, repl->id, &g, err);
	if (rc)
		return rc;
	struct call c;
	sl_remote_begin(&c, SL_OP_COMPACT_CHUNK, u);
	sl_w_u64(&c.req, ino);
	sl_w_u32(&c.req, indx);
	sl_w_u32(&c.req, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		sl_w_slice(&c.req, &expect[i]);
	sl_w_u32(&c.req, (uint32_t)skip);
	sl_w_slice(&c.req, repl);
	sl_w_grant(&c.req, &g);
	put_lease(&c, lease);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				uint64_t sid, struct sl_meta_lease *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_ACQUIRE, u);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, sid);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		*out = (struct sl_meta_lease){.sid = sid, .gen = sl_r_u64(&c.r)};
	return sl_remote_finish(&c, rc, err);
}

static int remote_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
				struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_RELEASE, NULL);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, lease->sid);
	sl_w_u64(&c.req, lease->gen);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
				bool recover, bool *closed, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LEASE_RECOVER, u);
	sl_w_u64(&c.req, ino);
	sl_w_bool(&c.req, recover);
	int rc = sl_remote_invoke(m, &c, err);
	*closed = !rc && sl_r_bool(&c.r);
	return sl_remote_finish(&c, rc, err);
}

static int remote_file_crc(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			   uint64_t length, uint32_t *crc, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_FILE_CRC, u);
	sl_w_u64(&c.req, ino);
	sl_w_u64(&c.req, length);
	int rc = sl_remote_invoke(m, &c, err);
	*crc = rc ? 0 : sl_r_u32(&c.r);
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

static int take_bytes(struct call *c, void **value, size_t *len, size_t max, struct sl_err *err)
{
	const void *p;
	size_t n = sl_r_bytes(&c->r, &p, max);
	if (c->r.bad)
		return 0; /* finish reports it */
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
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	*value = NULL;
	*len = 0;
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, value, len, SL_RPC_MAX_XATTR, err);
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
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	sl_w_bytes(&c.req, value, len);
	sl_w_u32(&c.req, (uint32_t)flags);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

static int remote_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			    char **names, size_t *len, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_LISTXATTR, u);
	sl_w_u64(&c.req, ino);
	void *v = NULL;
	*names = NULL;
	*len = 0;
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		rc = take_bytes(&c, &v, len, SL_RPC_MAX_XATTR, err);
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
	sl_w_u64(&c.req, ino);
	sl_w_str(&c.req, name);
	return sl_remote_finish(&c, sl_remote_invoke(m, &c, err), err);
}

/* ---- summaries ------------------------------------------------------------------------------- */

static int remote_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  struct sl_meta_summary *out, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_SUMMARY, u);
	sl_w_u64(&c.req, ino);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc) {
		out->length = sl_r_u64(&c.r);
		out->space = sl_r_u64(&c.r);
		out->files = sl_r_u64(&c.r);
		out->dirs = sl_r_u64(&c.r);
	}
	return sl_remote_finish(&c, rc, err);
}

static int remote_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				       struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_UNSUPPORTED_FEATURES, NULL);
	int rc = sl_remote_invoke(m, &c, err);
	const char *s = rc ? NULL : sl_r_str(&c.r, 1024);
	if (what_size)
		snprintf(what, what_size, "%s", s && !c.r.bad ? s : "");
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
	sl_w_str(&c.req, renewer && *renewer ? renewer : NULL);
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc) {
		const void *ident, *pass;
		size_t ilen = sl_r_bytes(&c.r, &ident, sizeof(out->ident));
		size_t plen = sl_r_bytes(&c.r, &pass, sizeof(out->password));
		if (sl_r_done(&c.r) && ilen && plen == sizeof(out->password)) {
			memcpy(out->ident, ident, ilen);
			out->ident_len = ilen;
			memcpy(out->password, pass, plen);
			OPENSSL_cleanse((void *)pass, plen);
		} else {
			c.r.bad = true;
		}
	}
	rc = sl_remote_finish(&c, rc, err);
	if (rc)
		return rc;
	/* The name this client reaches the gateway by: what Hadoop's token selection matches. */
	snprintf(service, service_size, strchr(r->host, ':') ? "[%s]:%s" : "%s:%s", r->host,
		 r->port);
	return 0;
}

static int remote_renew_token(struct sl_meta *m, const struct sl_meta_token *t,
			      int64_t *expiry_ms, struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_RENEW_TOKEN, NULL);
	sl_w_bytes(&c.req, t->ident, t->ident_len);
	sl_w_bytes(&c.req, t->password, sizeof(t->password));
	int rc = sl_remote_invoke(m, &c, err);
	if (!rc)
		*expiry_ms = sl_r_i64(&c.r);
	return finish_secret(&c, rc, err);
}

static int remote_cancel_token(struct sl_meta *m, const struct sl_meta_token *t,
			       struct sl_err *err)
{
	struct call c;
	sl_remote_begin(&c, SL_OP_CANCEL_TOKEN, NULL);
	sl_w_bytes(&c.req, t->ident, t->ident_len);
	sl_w_bytes(&c.req, t->password, sizeof(t->password));
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
	.unsupported_features = remote_unsupported_features,
	.issue_token = remote_issue_token,
	.renew_token = remote_renew_token,
	.cancel_token = remote_cancel_token,
	.whoami = remote_whoami,
	.object_provider = sl_remote_object_provider,
};
