/*
 * codec.h - the layout of every gateway operation's arguments and results (proto.h), written once
 * as field lists that the client (meta/remote*.c), the gateway (gateway/dispatch.c) and the fuzz
 * seeds encode and decode with. SL_RPC_OPS says which layout each op sends and answers.
 *
 * A layout is an X-macro, SL_FIELDS_name(F), listing its fields in wire order: F(kind, member)
 * or F(kind, member, extra). The kinds and the C members they become:
 *   u8 u16 u32 u64 i64 bool        the integer of that width (wire.h)
 *   str, max                       const char *: NULL is sent as length 0; a longer one is bad
 *   bytes, max                     const void *member, size_t member_len
 *   grant                          struct sl_slice_grant member, bool has_member (sl_w_grant)
 *   rec, layout                    a record of another layout
 *   opt, layout                    bool has_member, the record: u8 0/1, then the record if 1
 *   tail, layout                   bool has_member, the record: present when bytes remain
 *   list, layout, max              uint32_t member_n, const T *member: u32 n, then n records
 *   ids, max                       uint32_t member_n, const uint64_t *member: u32 n, n u64s
 * Strings and bytes a decoder returns point into its input; a list it returns is allocated
 * (NULL when empty), and its owner frees it whatever the decoder returned.
 *
 * The records of SL_RPC_RECORDS are the metadata types (attributes, slices, ...), which rpc/
 * does not know: the layer that owns them names each one's C struct as SL_RPC_T_name and
 * instantiates their codecs (meta/codec.h). The layouts of SL_RPC_LAYOUTS get a struct of
 * their own, struct sl_rpc_name. Each layout name gets sl_w_name(w, const T *), which appends it,
 * and sl_r_name(r, T *), which reads it and returns 0, -EPROTO (the reader went bad) or
 * -ENOMEM; whether the whole message was read is the caller's check (sl_r_done).
 */
#ifndef SL_RPC_CODEC_H
#define SL_RPC_CODEC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/token.h"
#include "proto.h"
#include "wire.h"

/* A slice grant as PRESIGN (PUT), WRITE_CHUNK and COMPACT_CHUNK show it: u64 first, u32 count,
 * i64 issued, bytes mac. NULL: none (zeros and an empty mac). */
void sl_w_grant(struct sl_wbuf *w, const struct sl_slice_grant *g);
/* Reads a grant written by sl_w_grant: false when none was shown (an empty mac); a mac of
 * another length makes r bad. */
bool sl_r_grant(struct sl_rbuf *r, struct sl_slice_grant *g);

/* ---- the records of the layer above (C types: SL_RPC_T_name) ------------------------------- */

#define SL_FIELDS_attr(F)                                                                       \
	F(u8, type) F(u8, flags) F(u16, mode) F(u32, uid) F(u32, gid) F(i64, atime_ns)            \
	F(i64, mtime_ns) F(i64, ctime_ns) F(u32, nlink) F(u64, length) F(u32, rdev) F(u64, parent) \
	F(u32, access_acl) F(u32, default_acl)
#define SL_FIELDS_slice(F) F(u32, pos) F(u64, id) F(u32, size) F(u32, off) F(u32, len)
/* What an unlink, a rename or a mknod replaced; the gateway deletes its data itself, so it
 * always sends data_pending false. */
#define SL_FIELDS_removed(F) F(u64, ino) F(u64, length) F(bool, data_pending)
#define SL_FIELDS_lease(F) F(u64, sid) F(u64, gen)
#define SL_FIELDS_session(F) F(u64, sid) F(i64, expire_s) F(str, info_json, SL_RPC_MAX_JSON)
#define SL_FIELDS_summary(F) F(u64, length) F(u64, space) F(u64, files) F(u64, dirs) \
	F(bool, has_quota) F(i64, quota_space) F(i64, quota_inodes)

#define SL_RPC_RECORDS(R) R(attr) R(slice) R(removed) R(lease) R(session) R(summary)

/* ---- the layouts of the operations (struct sl_rpc_name), in the order they nest ------------- */

#define SL_FIELDS_count(F) F(u32, n) /* records follow (SL_RPC_OPS) */
#define SL_FIELDS_text(F) F(str, text, SL_RPC_MAX_JSON)
#define SL_FIELDS_setting_name(F) F(str, name, SL_RPC_MAX_NAME)
#define SL_FIELDS_setting(F) F(str, name, SL_RPC_MAX_NAME) F(str, value, SL_RPC_MAX_NAME)
#define SL_FIELDS_new_session(F) F(str, info_json, SL_RPC_MAX_JSON) F(i64, expire_s)
#define SL_FIELDS_refresh_session(F) F(u64, sid) F(i64, expire_s)
#define SL_FIELDS_session_id(F) F(u64, sid)
/* NEXT_IDS: a counter's name and how much to add (0: a read) */
#define SL_FIELDS_counter(F) F(str, name, SL_RPC_MAX_NAME) F(i64, delta)
/* the grant of a batch of "nextChunk" ids [value - delta, value), and how many seconds
 * gateways accept it (proto.h) */
#define SL_FIELDS_id_grant(F) F(i64, issued) F(bytes, mac, SL_GRANT_MAC_BYTES) F(u32, lifetime_s)
#define SL_RPC_T_id_grant struct sl_rpc_id_grant
#define SL_FIELDS_ids(F) F(i64, value) F(opt, grant, id_grant)
#define SL_FIELDS_path(F) F(str, path, SL_RPC_MAX_PATH)
#define SL_FIELDS_inode(F) F(u64, ino)
/* a name in a directory: LOOKUP, UNLINK, RMDIR, REMOVE_TREE */
#define SL_FIELDS_entry(F) F(u64, parent) F(str, name, SL_RPC_MAX_NAME)
#define SL_FIELDS_found(F) F(u64, ino) F(rec, attr, attr)
#define SL_FIELDS_setattr(F) F(u64, ino) F(u32, set) F(rec, attr, attr)
#define SL_FIELDS_mknod(F)                                                                      \
	F(u64, parent) F(str, name, SL_RPC_MAX_NAME) F(u8, type) F(u16, mode) F(u32, flags)       \
	F(str, target, SL_RPC_MAX_PATH)
/* also after -EEXIST: the entry that exists */
#define SL_FIELDS_made(F) F(u64, ino) F(rec, attr, attr) F(rec, replaced, removed)
/* a file for an output stream of session sid, under its lease from the create on */
#define SL_FIELDS_mknod_leased(F)                                                               \
	F(u64, parent) F(str, name, SL_RPC_MAX_NAME) F(u16, mode) F(u32, flags) F(u64, sid)
/* also after -EEXIST (gen 0: no lease taken) */
#define SL_FIELDS_made_leased(F)                                                                \
	F(u64, ino) F(rec, attr, attr) F(rec, replaced, removed) F(u64, gen)
#define SL_FIELDS_rename(F)                                                                     \
	F(u64, psrc) F(str, nsrc, SL_RPC_MAX_NAME) F(u64, pdst) F(str, ndst, SL_RPC_MAX_NAME)     \
	F(u32, flags)
/* a page of at most limit (1..SL_RPC_MAX_LIST) entries after the name after (NULL: from the
 * start) */
#define SL_FIELDS_readdir(F) F(u64, ino) F(str, after, SL_RPC_MAX_NAME) F(u32, limit)
#define SL_FIELDS_dirent(F) F(str, name, SL_RPC_MAX_NAME) F(u64, ino) F(rec, attr, attr)
#define SL_FIELDS_chunk(F) F(u64, ino) F(u32, indx)
#define SL_FIELDS_slices(F) F(list, slices, slice, SL_RPC_MAX_SLICES)
/* the slice's grant, and the stream's lease if it holds one */
#define SL_FIELDS_write_chunk(F)                                                                \
	F(u64, ino) F(u32, indx) F(rec, slice, slice) F(i64, mtime_ns) F(grant, grant)           \
	F(tail, lease, lease)
/* one record of WRITE_CHUNKS: WRITE_CHUNK's arguments after the record's acting user (empty:
 * the caller's), its lease behind a flag */
#define SL_FIELDS_chunk_write(F)                                                                \
	F(str, acting, SL_RPC_MAX_NAME) F(u64, ino) F(u32, indx) F(rec, slice, slice)            \
	F(i64, mtime_ns) F(grant, grant) F(opt, lease, lease)
/* TRUNCATE and FILE_CRC */
#define SL_FIELDS_inode_length(F) F(u64, ino) F(u64, length)
#define SL_FIELDS_concat(F) F(u64, target) F(ids, srcs, SL_RPC_MAX_CONCAT)
/* the records expected in the chunk, how many of them stay in front, the replacement slice, its
 * grant, the stream's lease if it holds one */
#define SL_FIELDS_compact_chunk(F)                                                              \
	F(u64, ino) F(u32, indx) F(list, expect, slice, SL_RPC_MAX_SLICES) F(u32, skip)          \
	F(rec, repl, slice) F(grant, grant) F(tail, lease, lease)
#define SL_FIELDS_xattr(F) F(u64, ino) F(str, name, SL_RPC_MAX_NAME)
#define SL_FIELDS_setxattr(F)                                                                   \
	F(u64, ino) F(str, name, SL_RPC_MAX_NAME) F(bytes, value, SL_RPC_MAX_XATTR) F(u32, flags)
#define SL_FIELDS_xattr_value(F) F(bytes, value, SL_RPC_MAX_XATTR)
#define SL_FIELDS_features(F) F(str, what, 1024)
/* GET/HEAD: the read the URL is for (ino, indx; its acting user is the one that read the
 * chunk); PUT: the grant of the key's slice */
#define SL_FIELDS_presign(F)                                                                    \
	F(str, method, 16) F(str, key, SL_RPC_MAX_KEY) F(u64, ino) F(u32, indx) F(grant, grant)
#define SL_FIELDS_url(F) F(str, url, SL_RPC_MAX_URL) F(u32, expires_s)
#define SL_FIELDS_renewer(F) F(str, renewer, SL_RPC_MAX_USER)
#define SL_FIELDS_issued_token(F)                                                               \
	F(bytes, ident, SL_RPC_MAX_TOKEN_IDENT) F(bytes, password, SL_DT_PASSWORD_LEN)
#define SL_FIELDS_token(F) F(bytes, ident, SL_DT_IDENT_MAX) F(bytes, password, SL_DT_PASSWORD_LEN)
#define SL_FIELDS_expiry(F) F(i64, expiry_ms)
#define SL_FIELDS_lease_acquire(F) F(u64, ino) F(u64, sid)
#define SL_FIELDS_generation(F) F(u64, gen)
#define SL_FIELDS_lease_release(F) F(u64, ino) F(rec, lease, lease)
#define SL_FIELDS_lease_recover(F) F(u64, ino) F(bool, recover)
#define SL_FIELDS_closed(F) F(bool, closed)
#define SL_FIELDS_crc(F) F(u32, crc)
#define SL_FIELDS_facl(F)                                                                       \
	F(rec, attr, attr) F(u16, mode) F(bool, has_access) F(bool, has_default)                 \
	F(bytes, access, SL_RPC_MAX_ACL) F(bytes, def, SL_RPC_MAX_ACL)
#define SL_FIELDS_setfacl(F) F(u64, ino) F(u32, op) F(bytes, spec, SL_RPC_MAX_ACL)
#define SL_FIELDS_access(F) F(u64, ino) F(u32, mask)
#define SL_FIELDS_snapshot(F)                                                                   \
	F(u32, op) F(u64, dir) F(str, name, SL_RPC_MAX_NAME) F(str, new_name, SL_RPC_MAX_NAME)

#define SL_RPC_LAYOUTS(L)                                                                       \
	L(count) L(text) L(setting_name) L(setting) L(new_session) L(refresh_session)            \
	L(session_id) L(counter) L(id_grant) L(ids) L(path) L(inode) L(entry) L(found)           \
	L(setattr) L(mknod) L(made) L(rename) L(readdir) L(dirent) L(chunk) L(slices)            \
	L(write_chunk) L(chunk_write) L(inode_length) L(concat) L(compact_chunk) L(xattr)        \
	L(setxattr) L(xattr_value) L(features) L(presign) L(url) L(renewer) L(issued_token)      \
	L(token) L(expiry) L(lease_acquire) L(generation) L(lease_release) L(lease_recover)      \
	L(closed) L(crc) L(facl) L(setfacl) L(access) L(snapshot) L(mknod_leased) L(made_leased)

/* ---- the operations ----------------------------------------------------------------------- *
 * X(op, args, each arg record, results, each result record): after a count layout, count
 * records of the second layout follow; WRITE_CHUNKS answers one attr per record it was sent.
 * "none": nothing. A status other than 0 comes without results, except MKNOD's -EEXIST. */
#define SL_RPC_OPS(X)                                                                           \
	X(LOAD_FORMAT, none, none, text, none)                                                    \
	X(GET_SETTING, setting_name, none, text, none)                                            \
	X(ADD_SETTING, setting, none, none, none)                                                 \
	X(NEW_SESSION, new_session, none, session_id, none)                                       \
	X(REFRESH_SESSION, refresh_session, none, none, none)                                     \
	X(CLOSE_SESSION, session_id, none, none, none)                                            \
	X(LIST_SESSIONS, none, none, count, session)                                              \
	X(NEXT_IDS, counter, none, ids, none)                                                     \
	X(RESOLVE, path, none, found, none)                                                       \
	X(LOOKUP, entry, none, found, none)                                                       \
	X(GETATTR, inode, none, attr, none)                                                       \
	X(SETATTR, setattr, none, attr, none)                                                     \
	X(MKNOD, mknod, none, made, none)                                                         \
	X(UNLINK, entry, none, removed, none)                                                     \
	X(RMDIR, entry, none, none, none)                                                         \
	X(RENAME, rename, none, removed, none)                                                    \
	X(READDIR, readdir, none, count, dirent)                                                  \
	X(READLINK, inode, none, path, none)                                                      \
	X(READ_CHUNK, chunk, none, slices, none)                                                  \
	X(WRITE_CHUNK, write_chunk, none, attr, none)                                             \
	X(TRUNCATE, inode_length, none, attr, none)                                               \
	X(CONCAT, concat, none, none, none)                                                       \
	X(COMPACT_CHUNK, compact_chunk, none, none, none)                                         \
	X(GETXATTR, xattr, none, xattr_value, none)                                               \
	X(SETXATTR, setxattr, none, none, none)                                                   \
	X(LISTXATTR, inode, none, xattr_value, none)                                              \
	X(REMOVEXATTR, xattr, none, none, none)                                                   \
	X(SUMMARY, inode, none, summary, none)                                                    \
	X(UNSUPPORTED_FEATURES, none, none, features, none)                                       \
	X(PRESIGN, presign, none, url, none)                                                      \
	X(ISSUE_TOKEN, renewer, none, issued_token, none)                                         \
	X(RENEW_TOKEN, token, none, expiry, none)                                                 \
	X(CANCEL_TOKEN, token, none, none, none)                                                  \
	X(REMOVE_TREE, entry, none, none, none)                                                   \
	X(LEASE_ACQUIRE, lease_acquire, none, generation, none)                                   \
	X(LEASE_RELEASE, lease_release, none, none, none)                                         \
	X(LEASE_RECOVER, lease_recover, none, closed, none)                                       \
	X(INODE_PATH, inode, none, path, none)                                                    \
	X(FILE_CRC, inode_length, none, crc, none)                                                \
	X(WRITE_CHUNKS, count, chunk_write, none, attr)                                           \
	X(GETFACL, inode, none, facl, none)                                                       \
	X(SETFACL, setfacl, none, attr, none)                                                     \
	X(ACCESS, access, none, none, none)                                                       \
	X(SNAPSHOT, snapshot, none, found, none)                                                   \
	X(MKNOD_LEASED, mknod_leased, none, made_leased, none)

/* ---- what a field list expands to ---------------------------------------------------------- *
 * M: the struct member; W: appends it from s to w; R: reads it from r into s (rc: -ENOMEM);
 * Z: the fewest bytes it takes on the wire (a list's count is checked against them before the
 * list is allocated). */
#define SL_RPC_M(kind, ...) SL_RPC_M_##kind(__VA_ARGS__)
#define SL_RPC_W(kind, ...) SL_RPC_W_##kind(__VA_ARGS__)
#define SL_RPC_R(kind, ...) SL_RPC_R_##kind(__VA_ARGS__)
#define SL_RPC_Z(kind, ...) +SL_RPC_Z_##kind(__VA_ARGS__)

#define SL_RPC_M_u8(m) uint8_t m;
#define SL_RPC_W_u8(m) sl_w_u8(w, s->m);
#define SL_RPC_R_u8(m) s->m = sl_r_u8(r);
#define SL_RPC_Z_u8(m) 1
#define SL_RPC_M_u16(m) uint16_t m;
#define SL_RPC_W_u16(m) sl_w_u16(w, s->m);
#define SL_RPC_R_u16(m) s->m = sl_r_u16(r);
#define SL_RPC_Z_u16(m) 2
#define SL_RPC_M_u32(m) uint32_t m;
#define SL_RPC_W_u32(m) sl_w_u32(w, s->m);
#define SL_RPC_R_u32(m) s->m = sl_r_u32(r);
#define SL_RPC_Z_u32(m) 4
#define SL_RPC_M_u64(m) uint64_t m;
#define SL_RPC_W_u64(m) sl_w_u64(w, s->m);
#define SL_RPC_R_u64(m) s->m = sl_r_u64(r);
#define SL_RPC_Z_u64(m) 8
#define SL_RPC_M_i64(m) int64_t m;
#define SL_RPC_W_i64(m) sl_w_i64(w, s->m);
#define SL_RPC_R_i64(m) s->m = sl_r_i64(r);
#define SL_RPC_Z_i64(m) 8
#define SL_RPC_M_bool(m) bool m;
#define SL_RPC_W_bool(m) sl_w_bool(w, s->m);
#define SL_RPC_R_bool(m) s->m = sl_r_bool(r);
#define SL_RPC_Z_bool(m) 1
#define SL_RPC_M_str(m, max) const char *m;
#define SL_RPC_W_str(m, max) sl_w_str(w, s->m);
#define SL_RPC_R_str(m, max) s->m = sl_r_str(r, max);
#define SL_RPC_Z_str(m, max) 4
#define SL_RPC_M_bytes(m, max) const void *m; size_t m##_len;
#define SL_RPC_W_bytes(m, max) sl_w_bytes(w, s->m, s->m##_len);
#define SL_RPC_R_bytes(m, max) s->m##_len = sl_r_bytes(r, &s->m, max);
#define SL_RPC_Z_bytes(m, max) 4
#define SL_RPC_M_grant(m) struct sl_slice_grant m; bool has_##m;
#define SL_RPC_W_grant(m) sl_w_grant(w, s->has_##m ? &s->m : NULL);
#define SL_RPC_R_grant(m) s->has_##m = sl_r_grant(r, &s->m);
#define SL_RPC_Z_grant(m) 24
#define SL_RPC_M_rec(m, layout) SL_RPC_T_##layout m;
#define SL_RPC_W_rec(m, layout) sl_w_##layout(w, &s->m);
#define SL_RPC_R_rec(m, layout) sl_rpc_keep_nomem(&rc, sl_r_##layout(r, &s->m));
#define SL_RPC_Z_rec(m, layout) sl_rpc_min_##layout
#define SL_RPC_M_opt(m, layout) bool has_##m; SL_RPC_T_##layout m;
#define SL_RPC_W_opt(m, layout)                                                                 \
	sl_w_bool(w, s->has_##m);                                                                 \
	if (s->has_##m)                                                                           \
		sl_w_##layout(w, &s->m);
#define SL_RPC_R_opt(m, layout)                                                                 \
	s->m = (SL_RPC_T_##layout){0};                                                            \
	if ((s->has_##m = sl_r_bool(r)))                                                          \
		sl_rpc_keep_nomem(&rc, sl_r_##layout(r, &s->m));
#define SL_RPC_Z_opt(m, layout) 1
#define SL_RPC_M_tail(m, layout) bool has_##m; SL_RPC_T_##layout m;
#define SL_RPC_W_tail(m, layout)                                                                \
	if (s->has_##m)                                                                           \
		sl_w_##layout(w, &s->m);
#define SL_RPC_R_tail(m, layout)                                                                \
	s->m = (SL_RPC_T_##layout){0};                                                            \
	if ((s->has_##m = !r->bad && r->pos < r->len))                                            \
		sl_rpc_keep_nomem(&rc, sl_r_##layout(r, &s->m));
#define SL_RPC_Z_tail(m, layout) 0
#define SL_RPC_M_list(m, layout, max) uint32_t m##_n; const SL_RPC_T_##layout *m;
#define SL_RPC_W_list(m, layout, max)                                                           \
	sl_w_u32(w, s->m##_n);                                                                    \
	for (uint32_t i = 0; i < s->m##_n; i++)                                                   \
		sl_w_##layout(w, &s->m[i]);
#define SL_RPC_R_list(m, layout, max)                                                           \
	{                                                                                         \
		SL_RPC_T_##layout *items = sl_rpc_list_new(r, &s->m##_n, max, sl_rpc_min_##layout, \
							  sizeof(*items), &rc);             \
		for (uint32_t i = 0; items && i < s->m##_n; i++)                                  \
			sl_rpc_keep_nomem(&rc, sl_r_##layout(r, &items[i]));                      \
		s->m = items;                                                                     \
	}
#define SL_RPC_Z_list(m, layout, max) 4
#define SL_RPC_M_ids(m, max) uint32_t m##_n; const uint64_t *m;
#define SL_RPC_W_ids(m, max)                                                                    \
	sl_w_u32(w, s->m##_n);                                                                    \
	for (uint32_t i = 0; i < s->m##_n; i++)                                                   \
		sl_w_u64(w, s->m[i]);
#define SL_RPC_R_ids(m, max)                                                                    \
	{                                                                                         \
		uint64_t *items = sl_rpc_list_new(r, &s->m##_n, max, 8, sizeof(*items), &rc);     \
		for (uint32_t i = 0; items && i < s->m##_n; i++)                                  \
			items[i] = sl_r_u64(r);                                                   \
		s->m = items;                                                                     \
	}
#define SL_RPC_Z_ids(m, max) 4

/* Reads a list's count; bad when it is over max or more records than min_bytes each could fill
 * the rest of r. Room for the records (NULL for none; NULL and *rc = -ENOMEM when out of
 * memory). */
void *sl_rpc_list_new(struct sl_rbuf *r, uint32_t *n, uint32_t max, size_t min_bytes, size_t size,
		      int *rc);
/* Keeps the first -ENOMEM of a nested record in *rc (a bad reader is reported at the end). */
static inline void sl_rpc_keep_nomem(int *rc, int nested)
{
	if (nested == -ENOMEM)
		*rc = nested;
}

/* ---- instantiation (meta/codec.h, meta/codec.c) -------------------------------------------- */

#define SL_RPC_STRUCT(name) struct sl_rpc_##name { SL_FIELDS_##name(SL_RPC_M) };
#define SL_RPC_DECLARE(name, type)                                                              \
	enum { sl_rpc_min_##name = 0 SL_FIELDS_##name(SL_RPC_Z) };                                \
	void sl_w_##name(struct sl_wbuf *w, const type *s);                                       \
	int sl_r_##name(struct sl_rbuf *r, type *s);
#define SL_RPC_DEFINE(name, type)                                                               \
	void sl_w_##name(struct sl_wbuf *w, const type *s) { SL_FIELDS_##name(SL_RPC_W) }          \
	int sl_r_##name(struct sl_rbuf *r, type *s)                                               \
	{                                                                                         \
		int rc = 0;                                                                       \
		SL_FIELDS_##name(SL_RPC_R)                                                        \
		return rc ? rc : r->bad ? -EPROTO : 0;                                            \
	}

#endif
