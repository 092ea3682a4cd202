/*
 * calls.c - the one way above meta/ into a metadata backend: sl_meta_SLOT for every slot of
 * struct sl_meta_backend. Like object/object.c for object stores, it is where an operation is
 * counted (calls, failures, time), where a slot the backend lacks is refused with a message
 * naming both, and where tests inject faults. Then, when the metadata cache is on, the call goes
 * through its stage (cache.c) for the slots it answers or must see, else to the backend.
 *
 * Counters are relaxed atomics: a reader wants totals, not a consistent cut across them. A
 * fault is armed with a count that each call it fails takes one from.
 */
#include "meta.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct op_counters {
	atomic_uint_fast64_t calls, failures, ns;
	atomic_uint fault_count;
	atomic_int fault_rc;
};

struct sl_meta_calls {
	struct op_counters op[SL_META_NOPS];
};

static const char *const op_names[SL_META_NOPS] = {
#define OP_NAME(OP, slot, cache) [SL_META_OP_##OP] = #slot,
	SL_META_OPS(OP_NAME)
#undef OP_NAME
#define TOKEN_OP_NAME(OP, slot, cache) [SL_META_OP_##OP] = "token_store." #slot,
	SL_META_TOKEN_OPS(TOKEN_OP_NAME)
#undef TOKEN_OP_NAME
};

int sl_meta_calls_init(struct sl_meta *m, struct sl_err *err)
{
	m->calls = calloc(1, sizeof(*m->calls));
	return m->calls ? 0 : sl_errf(err, -ENOMEM, "out of memory");
}

void sl_meta_calls_free(struct sl_meta *m)
{
	free(m->calls);
	m->calls = NULL;
}

const char *sl_meta_op_name(enum sl_meta_op op)
{
	return op < SL_META_NOPS ? op_names[op] : "?";
}

bool sl_meta_supports(const struct sl_meta *m, enum sl_meta_op op)
{
	switch (op) {
#define OP_SUPPORTED(OP, slot, cache)                                                              \
	case SL_META_OP_##OP:                                                                      \
		return m->be->slot != NULL;
		SL_META_OPS(OP_SUPPORTED)
#undef OP_SUPPORTED
#define TOKEN_OP_SUPPORTED(OP, slot, cache)                                                        \
	case SL_META_OP_##OP:                                                                      \
		return m->be->token_store && m->be->token_store->slot;
		SL_META_TOKEN_OPS(TOKEN_OP_SUPPORTED)
#undef TOKEN_OP_SUPPORTED
	case SL_META_NOPS:
		break;
	}
	return false;
}

unsigned sl_meta_caps(const struct sl_meta *m)
{
	return m->be->caps;
}

bool sl_meta_arm_once(struct sl_meta *m, struct sl_meta_once *once)
{
	if (!m->be->arm_once)
		return false;
	m->be->arm_once(m, once);
	return true;
}

const char *sl_meta_backend_name(const struct sl_meta *m)
{
	return m->be->name;
}

void sl_meta_op_stats(const struct sl_meta *m, enum sl_meta_op op, struct sl_meta_op_stats *out)
{
	const struct op_counters *c = &m->calls->op[op];
	out->calls = atomic_load_explicit(&c->calls, memory_order_relaxed);
	out->failures = atomic_load_explicit(&c->failures, memory_order_relaxed);
	out->ns = atomic_load_explicit(&c->ns, memory_order_relaxed);
}

void sl_meta_inject_fault(struct sl_meta *m, enum sl_meta_op op, int rc, unsigned count)
{
	struct op_counters *c = &m->calls->op[op];
	atomic_store(&c->fault_rc, rc);
	atomic_store(&c->fault_count, count);
}

/* Before a call: 0 to go on, else the error the call returns (slot missing, fault injected). */
static int call_begin(struct sl_meta *m, enum sl_meta_op op, bool present, uint64_t *t0,
		      struct sl_err *err)
{
	struct op_counters *c = &m->calls->op[op];
	atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
	int rc = 0;
	unsigned left = atomic_load(&c->fault_count);
	while (left && !atomic_compare_exchange_weak(&c->fault_count, &left, left - 1))
		;
	if (left)
		rc = sl_errf(err, atomic_load(&c->fault_rc), "%s: fault injected by a test",
			     op_names[op]);
	else if (!present)
		rc = sl_errf(err, -EOPNOTSUPP, "%s: not supported by the %s metadata backend (%s)",
			     op_names[op], m->be->name, m->url_redacted);
	if (rc)
		atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed);
	*t0 = (uint64_t)sl_mono_ns();
	return rc;
}

static int call_end(struct sl_meta *m, enum sl_meta_op op, uint64_t t0, int rc)
{
	struct op_counters *c = &m->calls->op[op];
	atomic_fetch_add_explicit(&c->ns, (uint64_t)sl_mono_ns() - t0, memory_order_relaxed);
	if (rc)
		atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed);
	return rc;
}

#define CALL(m, OP, slot, args)                                                                    \
	do {                                                                                       \
		uint64_t t0_;                                                                      \
		int rc_ = call_begin(m, SL_META_OP_##OP, (m)->be->slot != NULL, &t0_, err);       \
		if (rc_)                                                                           \
			return rc_;                                                                \
		const struct sl_meta_backend *to_ =                                                \
			(m)->cache && sl_meta_cache_stage.slot ? &sl_meta_cache_stage : (m)->be;   \
		return call_end(m, SL_META_OP_##OP, t0_, to_->slot args);                          \
	} while (0)

#define CALL_TOKEN_STORE(m, OP, slot, args)                                                        \
	do {                                                                                       \
		const struct sl_meta_token_store *ts_ = (m)->be->token_store;                      \
		uint64_t t0_;                                                                      \
		int rc_ = call_begin(m, SL_META_OP_##OP, ts_ && ts_->slot, &t0_, err);             \
		return rc_ ? rc_ : call_end(m, SL_META_OP_##OP, t0_, ts_->slot args);              \
	} while (0)

/* ---- one per slot, in the table's order ------------------------------------------------------ */

int sl_meta_load_format(struct sl_meta *m, char **json, struct sl_err *err)
{
	CALL(m, LOAD_FORMAT, load_format, (m, json, err));
}

int sl_meta_get_setting(struct sl_meta *m, const char *name, char **value, struct sl_err *err)
{
	CALL(m, GET_SETTING, get_setting, (m, name, value, err));
}

int sl_meta_add_setting(struct sl_meta *m, const char *name, const char *value, struct sl_err *err)
{
	CALL(m, ADD_SETTING, add_setting, (m, name, value, err));
}

int sl_meta_format(struct sl_meta *m, const char *json, const struct sl_attr *root, bool force,
		   struct sl_err *err)
{
	CALL(m, FORMAT, format, (m, json, root, force, err));
}

int sl_meta_new_session(struct sl_meta *m, const char *info_json, int64_t expire_s, uint64_t *sid,
			struct sl_err *err)
{
	CALL(m, NEW_SESSION, new_session, (m, info_json, expire_s, sid, err));
}

int sl_meta_refresh_session(struct sl_meta *m, uint64_t sid, int64_t expire_s, struct sl_err *err)
{
	CALL(m, REFRESH_SESSION, refresh_session, (m, sid, expire_s, err));
}

int sl_meta_close_session(struct sl_meta *m, uint64_t sid, struct sl_err *err)
{
	CALL(m, CLOSE_SESSION, close_session, (m, sid, err));
}

int sl_meta_close_stale_session(struct sl_meta *m, uint64_t sid, bool *closed,
				struct sl_err *err)
{
	CALL(m, CLOSE_STALE_SESSION, close_stale_session, (m, sid, closed, err));
}

int sl_meta_list_sessions(struct sl_meta *m, sl_meta_session_cb cb, void *arg, struct sl_err *err)
{
	CALL(m, LIST_SESSIONS, list_sessions, (m, cb, arg, err));
}

int sl_meta_get_session(struct sl_meta *m, uint64_t sid, sl_meta_session_cb cb, void *arg,
			struct sl_err *err)
{
	CALL(m, GET_SESSION, get_session, (m, sid, cb, arg, err));
}

int sl_meta_incr_counter(struct sl_meta *m, const char *name, int64_t delta, int64_t *value,
			 struct sl_err *err)
{
	CALL(m, INCR_COUNTER, incr_counter, (m, name, delta, value, err));
}

int sl_meta_update_dir_stats(struct sl_meta *m, const sl_ino *inos, const int64_t *length,
			     const int64_t *space, const int64_t *inodes, size_t n,
			     struct sl_err *err)
{
	CALL(m, UPDATE_DIR_STATS, update_dir_stats, (m, inos, length, space, inodes, n, err));
}

int sl_meta_resolve(struct sl_meta *m, const struct sl_meta_user *u, const char *path, sl_ino *ino,
		    struct sl_attr *attr, struct sl_err *err)
{
	CALL(m, RESOLVE, resolve, (m, u, path, ino, attr, err));
}

int sl_meta_lookup(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	CALL(m, LOOKUP, lookup, (m, u, parent, name, ino, attr, err));
}

int sl_meta_getattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_attr *attr, struct sl_err *err)
{
	CALL(m, GETATTR, getattr, (m, u, ino, attr, err));
}

int sl_meta_reach(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, struct sl_err *err)
{
	CALL(m, REACH, reach, (m, u, ino, err));
}

int sl_meta_setattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int set,
		    const struct sl_attr *in, struct sl_attr *out, struct sl_err *err)
{
	CALL(m, SETATTR, setattr, (m, u, ino, set, in, out, err));
}

int sl_meta_mknod(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent, const char *name,
		  uint8_t type, uint16_t mode, int flags, const char *target, sl_ino *ino,
		  struct sl_attr *attr, struct sl_removed *replaced, struct sl_err *err)
{
	CALL(m, MKNOD, mknod, (m, u, parent, name, type, mode, flags, target, ino, attr, replaced, err));
}

int sl_meta_unlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
		   const char *name, struct sl_removed *removed, struct sl_err *err)
{
	CALL(m, UNLINK, unlink, (m, u, parent, name, removed, err));
}

int sl_meta_rmdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent, const char *name,
		  struct sl_err *err)
{
	CALL(m, RMDIR, rmdir, (m, u, parent, name, err));
}

int sl_meta_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc, const char *nsrc,
		   sl_ino pdst, const char *ndst, int flags, struct sl_removed *replaced,
		   struct sl_err *err)
{
	CALL(m, RENAME, rename, (m, u, psrc, nsrc, pdst, ndst, flags, replaced, err));
}

int sl_meta_remove_tree(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			const char *name, sl_meta_removed_cb removed, void *arg,
			struct sl_err *err)
{
	CALL(m, REMOVE_TREE, remove_tree, (m, u, parent, name, removed, arg, err));
}

int sl_meta_readdir(struct sl_meta *m, const struct sl_meta_user *u, sl_ino dir, const char *after,
		    size_t limit, sl_meta_dirent_cb cb, void *arg, struct sl_err *err)
{
	CALL(m, READDIR, readdir, (m, u, dir, after, limit, cb, arg, err));
}

int sl_meta_readlink(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **target,
		     struct sl_err *err)
{
	CALL(m, READLINK, readlink, (m, u, ino, target, err));
}

int sl_meta_read_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint32_t indx,
		       struct sl_slice **slices, size_t *n, struct sl_err *err)
{
	CALL(m, READ_CHUNK, read_chunk, (m, u, ino, indx, slices, n, err));
}

int sl_meta_next_chunk(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint32_t from,
		       uint32_t *next, struct sl_err *err)
{
	CALL(m, NEXT_CHUNK, next_chunk, (m, u, ino, from, next, err));
}

int sl_meta_write_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			const struct sl_slice *s, int64_t mtime_ns, struct sl_attr *attr,
			struct sl_err *err)
{
	CALL(m, WRITE_CHUNK, write_chunk, (m, u, lease, ino, indx, s, mtime_ns, attr, err));
}

int sl_meta_truncate(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint64_t length,
		     struct sl_attr *attr, struct sl_err *err)
{
	CALL(m, TRUNCATE, truncate, (m, u, ino, length, attr, err));
}

int sl_meta_concat(struct sl_meta *m, const struct sl_meta_user *u, sl_ino target,
		   const sl_ino *srcs, size_t n, struct sl_err *err)
{
	CALL(m, CONCAT, concat, (m, u, target, srcs, n, err));
}

int sl_meta_delete_file_data(struct sl_meta *m, sl_ino ino, sl_meta_slice_cb cb, void *arg,
			     struct sl_err *err)
{
	CALL(m, DELETE_FILE_DATA, delete_file_data, (m, ino, cb, arg, err));
}

int sl_meta_compact_chunk(struct sl_meta *m, const struct sl_meta_user *u,
			  const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
			  const struct sl_slice *expect, size_t n, size_t skip,
			  const struct sl_slice *repl, sl_meta_slice_cb cb, void *arg,
			  struct sl_err *err)
{
	CALL(m, COMPACT_CHUNK, compact_chunk, (m, u, lease, ino, indx, expect, n, skip, repl, cb, arg, err));
}

int sl_meta_lease_acquire(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  uint64_t sid, struct sl_meta_lease *out, struct sl_err *err)
{
	CALL(m, LEASE_ACQUIRE, lease_acquire, (m, u, ino, sid, out, err));
}

int sl_meta_lease_release(struct sl_meta *m, sl_ino ino, const struct sl_meta_lease *lease,
			  struct sl_err *err)
{
	CALL(m, LEASE_RELEASE, lease_release, (m, ino, lease, err));
}

int sl_meta_lease_recover(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			  bool recover, bool *closed, struct sl_err *err)
{
	CALL(m, LEASE_RECOVER, lease_recover, (m, u, ino, recover, closed, err));
}

int sl_meta_lease_sweep(struct sl_meta *m, int64_t hard_limit_s, uint64_t *ended,
			struct sl_err *err)
{
	CALL(m, LEASE_SWEEP, lease_sweep, (m, hard_limit_s, ended, err));
}

int sl_meta_forget_slice(struct sl_meta *m, uint64_t id, struct sl_err *err)
{
	CALL(m, FORGET_SLICE, forget_slice, (m, id, err));
}

int sl_meta_list_delfiles(struct sl_meta *m, int64_t before_s,
			  int (*cb)(void *arg, sl_ino ino, uint64_t length), void *arg,
			  struct sl_err *err)
{
	CALL(m, LIST_DELFILES, list_delfiles, (m, before_s, cb, arg, err));
}

int sl_meta_release(struct sl_meta *m, sl_ino ino, bool *orphan, struct sl_err *err)
{
	CALL(m, RELEASE, release, (m, ino, orphan, err));
}

int sl_meta_getxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, const char *name,
		     void **value, size_t *len, struct sl_err *err)
{
	CALL(m, GETXATTR, getxattr, (m, u, ino, name, value, len, err));
}

int sl_meta_setxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, const char *name,
		     const void *value, size_t len, int flags, struct sl_err *err)
{
	CALL(m, SETXATTR, setxattr, (m, u, ino, name, value, len, flags, err));
}

int sl_meta_listxattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, char **names,
		      size_t *len, struct sl_err *err)
{
	CALL(m, LISTXATTR, listxattr, (m, u, ino, names, len, err));
}

int sl_meta_removexattr(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			const char *name, struct sl_err *err)
{
	CALL(m, REMOVEXATTR, removexattr, (m, u, ino, name, err));
}

int sl_meta_summary(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_meta_summary *out, struct sl_err *err)
{
	CALL(m, SUMMARY, summary, (m, u, ino, out, err));
}

int sl_meta_unsupported_features(struct sl_meta *m, char *what, size_t what_size,
				 struct sl_err *err)
{
	CALL(m, UNSUPPORTED_FEATURES, unsupported_features, (m, what, what_size, err));
}

int sl_meta_issue_token(struct sl_meta *m, const struct sl_meta_user *u, const char *renewer,
			struct sl_meta_token *out, char *service, size_t service_size,
			struct sl_err *err)
{
	CALL(m, ISSUE_TOKEN, issue_token, (m, u, renewer, out, service, service_size, err));
}

int sl_meta_renew_token(struct sl_meta *m, const struct sl_meta_token *t, int64_t *expiry_ms,
			struct sl_err *err)
{
	CALL(m, RENEW_TOKEN, renew_token, (m, t, expiry_ms, err));
}

int sl_meta_cancel_token(struct sl_meta *m, const struct sl_meta_token *t, struct sl_err *err)
{
	CALL(m, CANCEL_TOKEN, cancel_token, (m, t, err));
}

int sl_meta_dt_setup(struct sl_meta *m, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_SETUP, setup, (m, err));
}

int sl_meta_dt_signing_key(struct sl_meta *m, int64_t now_ms, int64_t update_ms,
			   int64_t lifetime_ms, const uint8_t fresh[SL_META_DT_SECRET_LEN],
			   struct sl_dt_key *out, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_SIGNING_KEY, signing_key, (m, now_ms, update_ms, lifetime_ms, fresh, out, err));
}

int sl_meta_dt_get_key(struct sl_meta *m, int32_t id, struct sl_dt_key *out, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_GET_KEY, get_key, (m, id, out, err));
}

int sl_meta_dt_add_token(struct sl_meta *m, struct sl_dt_row *row, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_ADD_TOKEN, add_token, (m, row, err));
}

int sl_meta_dt_get_token(struct sl_meta *m, int32_t seq, struct sl_dt_row *out, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_GET_TOKEN, get_token, (m, seq, out, err));
}

int sl_meta_dt_renew_token(struct sl_meta *m, int32_t seq, int64_t now_ms, int64_t expiry_ms,
			   struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_RENEW_TOKEN, renew_token, (m, seq, now_ms, expiry_ms, err));
}

int sl_meta_dt_cancel_token(struct sl_meta *m, int32_t seq, struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_CANCEL_TOKEN, cancel_token, (m, seq, err));
}

int sl_meta_dt_sweep(struct sl_meta *m, int64_t now_ms, uint64_t *tokens, uint64_t *keys,
		     struct sl_err *err)
{
	CALL_TOKEN_STORE(m, DT_SWEEP, sweep, (m, now_ms, tokens, keys, err));
}

int sl_meta_whoami(struct sl_meta *m, char *name, size_t size, struct sl_err *err)
{
	CALL(m, WHOAMI, whoami, (m, name, size, err));
}

int sl_meta_object_provider(struct sl_meta *m, struct sl_presign_provider *out, struct sl_err *err)
{
	CALL(m, OBJECT_PROVIDER, object_provider, (m, out, err));
}

int sl_meta_slice_refs(struct sl_meta *m, uint64_t id, int64_t *refs, uint32_t *size,
		       struct sl_err *err)
{
	CALL(m, SLICE_REFS, slice_refs, (m, id, refs, size, err));
}

int sl_meta_list_dead_slices(struct sl_meta *m, sl_meta_slice_cb cb, void *arg, struct sl_err *err)
{
	CALL(m, LIST_DEAD_SLICES, list_dead_slices, (m, cb, arg, err));
}

int sl_meta_clean_trash(struct sl_meta *m, int64_t before_s, sl_meta_removed_cb removed,
			void *arg, uint64_t *files, uint64_t *delayed, struct sl_err *err)
{
	CALL(m, CLEAN_TRASH, clean_trash, (m, before_s, removed, arg, files, delayed, err));
}

int sl_meta_set_if_small(struct sl_meta *m, const char *name, int64_t value, int64_t diff,
			 bool *changed, struct sl_err *err)
{
	CALL(m, SET_IF_SMALL, set_if_small, (m, name, value, diff, changed, err));
}

int sl_meta_quota_set(struct sl_meta *m, const struct sl_meta_quota *q, bool *created,
		      struct sl_err *err)
{
	CALL(m, QUOTA_SET, quota_set, (m, q, created, err));
}

int sl_meta_quota_delete(struct sl_meta *m, sl_ino ino, struct sl_err *err)
{
	CALL(m, QUOTA_DELETE, quota_delete, (m, ino, err));
}

int sl_meta_quota_list(struct sl_meta *m, sl_ino ino, sl_meta_quota_cb cb, void *arg,
		       struct sl_err *err)
{
	CALL(m, QUOTA_LIST, quota_list, (m, ino, cb, arg, err));
}

int sl_meta_quota_flush(struct sl_meta *m, struct sl_err *err)
{
	CALL(m, QUOTA_FLUSH, quota_flush, (m, err));
}

int sl_meta_scan_chunks(struct sl_meta *m, sl_meta_chunk_cb cb, void *arg, struct sl_err *err)
{
	CALL(m, SCAN_CHUNKS, scan_chunks, (m, cb, arg, err));
}

int sl_meta_check_dir(struct sl_meta *m, sl_ino parent, sl_ino ino,
		      const struct sl_meta_dir_repair *repair, struct sl_meta_dir_check *out,
		      struct sl_err *err)
{
	CALL(m, CHECK_DIR, check_dir, (m, parent, ino, repair, out, err));
}

int sl_meta_load(struct sl_meta *m, const struct sl_meta_dumped *d, struct sl_err *err)
{
	CALL(m, LOAD, load, (m, d, err));
}

int sl_meta_snapshot(struct sl_meta *m, const struct sl_meta_user *u, enum sl_snapshot_op op,
		     sl_ino dir, const char *name, const char *new_name,
		     sl_meta_removed_cb removed, void *arg, sl_ino *ino, struct sl_attr *attr,
		     struct sl_err *err)
{
	CALL(m, SNAPSHOT, snapshot, (m, u, op, dir, name, new_name, removed, arg, ino, attr, err));
}

int sl_meta_getfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err)
{
	CALL(m, GETFACL, getfacl, (m, u, ino, attr, out, err));
}

int sl_meta_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		    enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		    struct sl_attr *attr, struct sl_err *err)
{
	CALL(m, SETFACL, setfacl, (m, u, ino, op, spec, n, attr, err));
}

static int meta_access(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int mask,
		       struct sl_err *err)
{
	CALL(m, ACCESS, access, (m, u, ino, mask, err));
}

int sl_meta_may(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		const struct sl_attr *attr, int mask, struct sl_err *err)
{
	if (!attr->access_acl || !(attr->mode & 070) || sl_meta_superuser(u) || !(mask & 7))
		return sl_meta_access(u, attr, NULL, mask);
	return meta_access(m, u, ino, mask, err);
}

int sl_meta_block_crc_get(struct sl_meta *m, uint64_t id, uint32_t first, uint32_t n,
			  uint32_t *crcs, uint32_t *lens, struct sl_err *err)
{
	CALL(m, BLOCK_CRC_GET, block_crc_get, (m, id, first, n, crcs, lens, err));
}

int sl_meta_block_crc_put(struct sl_meta *m, uint64_t id, uint32_t indx, uint32_t crc,
			  uint32_t len, struct sl_err *err)
{
	CALL(m, BLOCK_CRC_PUT, block_crc_put, (m, id, indx, crc, len, err));
}

int sl_meta_file_crc(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, uint64_t length,
		     uint32_t *crc, struct sl_err *err)
{
	CALL(m, FILE_CRC, file_crc, (m, u, ino, length, crc, err));
}

int sl_meta_block_claim(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			int64_t ttl_s, enum sl_meta_claim *out, struct sl_err *err)
{
	CALL(m, BLOCK_CLAIM, block_claim, (m, id, indx, sid, ttl_s, out, err));
}

int sl_meta_block_claim_end(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid,
			    bool uploaded, struct sl_err *err)
{
	CALL(m, BLOCK_CLAIM_END, block_claim_end, (m, id, indx, sid, uploaded, err));
}

int sl_meta_mknod_leased(struct sl_meta *m, const struct sl_meta_user *u, sl_ino parent,
			 const char *name, uint16_t mode, int flags, uint64_t sid,
			 struct sl_meta_lease *lease, sl_ino *ino, struct sl_attr *attr,
			 struct sl_removed *replaced, struct sl_err *err)
{
	CALL(m, MKNOD_LEASED, mknod_leased,
	     (m, u, parent, name, mode, flags, sid, lease, ino, attr, replaced, err));
}

/* The slots behind sl_meta_write_chunks and sl_meta_inode_path (meta.c), counted as the rest. */
int sl_meta_slot_write_chunks(struct sl_meta *m, struct sl_meta_chunk_write *recs, size_t n,
			      size_t *done, struct sl_err *err)
{
	CALL(m, WRITE_CHUNKS, write_chunks, (m, recs, n, done, err));
}

int sl_meta_slot_inode_path(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
			    char **path, struct sl_err *err)
{
	CALL(m, INODE_PATH, inode_path, (m, u, ino, path, err));
}
