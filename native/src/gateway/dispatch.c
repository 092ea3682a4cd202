/*
 * dispatch.c - the gateway's operations: decodes a request (rpc/proto.h, its layouts rpc/codec.h),
 * decides who the caller acts as (itself, or another user when proxy rules allow
 * it), and runs the metadata backend slot with that identity, so that every permission check
 * happens here, inside the slot's transaction. What a client must not do with the gateway's
 * database rights is refused or done by the gateway itself: formatting, usage counters, settings
 * other than the user/group registry, and deleting data (the gateway deletes what an operation
 * frees, in its own background thread). Delegation tokens (issue, renew, cancel) are tokens.c's;
 * a connection authenticated with a token acts only as the token's owner. Error texts that name
 * internals (SQL, the database, the object store) go to the gateway's log, and the client gets
 * the errno with a request id (hide_error).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rpc/proto.h"
#include "internal.h"

#define MAX_ID_BATCH (1 << 20)

struct req {
	struct sl_gateway *gw;
	struct sl_meta *m;
	struct sl_rbuf r;
	struct sl_wbuf out; /* the results */
	struct sl_meta_user mu;
	const char *user;   /* whom the request acts for (the caller, or whom it acts for) */
	const struct sl_gw_caller *caller;
	struct sl_err err;
	struct sl_meta_once once; /* the request's idempotency token (proto.h, SL_OP_ONCE) */
};

/* Whether rc says that an earlier sending of this request made its change (sl_meta_once): the
 * op then answers from what is stored, as if it had made the change now. */
static bool done_before(struct req *q, int rc)
{
	if (rc != -EALREADY || !q->once.done_before)
		return false;
	sl_err_clear(&q->err);
	return true;
}

/* The identity of a request: the authenticated user, or the one it acts for if proxy rules let it.
 * Groups always come from the gateway's own mapping, never from the client. */
static int identify(struct req *q, const struct sl_gw_caller *caller, const char *acting)
{
	const char *user = acting ? acting : caller->name;
	if (!*user || strchr(user, '/') || strchr(user, '@'))
		return sl_errf(&q->err, -EINVAL, "'%s' is not a user name", user);
	if (caller->token && strcmp(user, caller->name))
		return sl_errf(&q->err, -EACCES, "a connection authenticated with a delegation token "
			       "of %s acts only as %s, not as %s", caller->name, caller->name, user);
	char gbuf[8192];
	const char *gnames[SL_MAX_GROUPS];
	size_t ng = SL_MAX_GROUPS;
	int rc = sl_groups_of(q->gw->groups, user, gbuf, sizeof(gbuf), gnames, &ng, &q->err);
	if (!rc && strcmp(user, caller->name))
		rc = sl_proxy_check(q->gw->proxy, caller->name, caller->addr, user, gnames, ng,
				    &q->err);
	if (rc)
		return rc;
	sluice_user su = {.name = user, .groups = gnames, .ngroups = ng};
	sl_vol_user(&q->gw->vol->core, &su, &q->mu);
	q->mu.name = NULL; /* points into gbuf's neighbour: not needed past this call */
	q->user = user;
	return 0;
}

/* What was removed is deleted here; the client learns there is nothing left for it to do. */
static struct sl_removed doomed(struct req *q, const struct sl_removed *rm)
{
	if (rm->ino && rm->data_pending)
		sl_vol_doom(q->gw->vol, rm->ino);
	return (struct sl_removed){.ino = rm->ino, .length = rm->length, .data_pending = false};
}

static void put_removed(struct req *q, const struct sl_removed *rm)
{
	struct sl_removed sent = doomed(q, rm);
	sl_w_removed(&q->out, &sent);
}

/* rc, what decoding an op's arguments returned, and whether they were all the request held. */
static int args_read(struct req *q, uint16_t op, int rc)
{
	if (rc == -ENOMEM)
		return sl_errf(&q->err, -ENOMEM, "out of memory");
	if (rc || !sl_r_done(&q->r))
		return sl_errf(&q->err, -EPROTO, "malformed arguments of operation %u", op);
	return 0;
}

/* A request that names an inode reaches it only if its caller could by a path (meta.h, reach):
 * inode numbers are easy to guess, and HDFS never lets a caller at an entry it cannot traverse
 * to. */
static int reach(struct req *q, sl_ino ino)
{
	return sl_meta_reach(q->m, &q->mu, ino, &q->err);
}

/* The arguments of an op on one entry (LOOKUP, UNLINK, RMDIR, REMOVE_TREE): a directory the
 * caller can reach and a name in it. */
static int entry_args(struct req *q, uint16_t op, struct sl_rpc_entry *a)
{
	int rc = args_read(q, op, sl_r_entry(&q->r, a));
	if (rc)
		return rc;
	if (!a->name)
		return sl_errf(&q->err, -EINVAL, "no name");
	return reach(q, a->parent);
}

/* The arguments of an op on an inode the caller can reach (GETATTR, READLINK, LISTXATTR,
 * SUMMARY). */
static int inode_args(struct req *q, uint16_t op, struct sl_rpc_inode *a)
{
	int rc = args_read(q, op, sl_r_inode(&q->r, a));
	return rc ? rc : reach(q, a->ino);
}

/* The arguments of an op on an extended attribute (GETXATTR, REMOVEXATTR): its name, of an inode
 * the caller can reach. */
static int xattr_args(struct req *q, uint16_t op, struct sl_rpc_xattr *a)
{
	int rc = args_read(q, op, sl_r_xattr(&q->r, a));
	if (rc)
		return rc;
	if (!a->name)
		return sl_errf(&q->err, -EINVAL, "no name");
	return reach(q, a->ino);
}

static void doom_removed(void *vol, const struct sl_removed *rm)
{
	if (rm->data_pending)
		sl_vol_doom(vol, rm->ino);
}

/* The format record without the object storage credentials, which stay on the gateway. */
static int op_load_format(struct req *q)
{
	char *json = NULL;
	int rc = sl_meta_load_format(q->m, &json, &q->err);
	if (rc)
		return rc;
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	free(json);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return sl_errf(&q->err, -EIO, "the volume's format record is not a JSON object");
	}
	static const char *const secret[] = {"AccessKey", "SecretKey", "SessionToken",
					     "EncryptKey", "EncryptKeyFile"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		json_object_del(o, secret[i]);
	/* an encrypted volume's clients seal blocks with the public key and ask for data keys */
	char *pub = NULL;
	const struct sl_cipher *c = q->gw->vol->core.cipher;
	if (c && (rc = sl_cipher_public_pem(c, &pub, &q->err))) {
		json_decref(o);
		return rc;
	}
	if (pub) {
		json_object_set_new(o, "EncryptPublicKey", json_string(pub));
		free(pub);
	}
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return sl_errf(&q->err, -ENOMEM, "out of memory");
	sl_w_text(&q->out, &(struct sl_rpc_text){.text = text});
	free(text);
	return 0;
}

static bool registry_name(const char *name)
{
	return name && (!strncmp(name, "sluice.uid.", 11) || !strncmp(name, "sluice.gid.", 11));
}

/* Clients read the usage counters (statfs) and take batches of inode numbers and slice ids;
 * nothing else. The next free ids stay unknown to them: they are no one's business before they
 * are handed out. A batch of slice ids comes with its grant, which the caller shows to have
 * blocks of them presigned for upload and to commit them. */
static bool readable_counter(const char *name)
{
	return !strcmp(name, "usedSpace") || !strcmp(name, "totalInodes");
}

static int op_next_ids(struct req *q, const struct sl_gw_caller *caller, const char *name,
		       int64_t delta)
{
	if (!name || (delta && strcmp(name, "nextInode") && strcmp(name, "nextChunk")))
		return sl_errf(&q->err, -EPERM, "counter '%s' is not the client's to change",
			       name ? name : "");
	if (!delta && !readable_counter(name))
		return sl_errf(&q->err, -EPERM, "counter '%s' is not readable through the gateway "
			       "(usedSpace and totalInodes are)", name);
	if (delta < 0 || delta > MAX_ID_BATCH)
		return sl_errf(&q->err, -EINVAL, "id batch of %lld is out of range",
			       (long long)delta);
	if (!delta) { /* a read: this gateway's unflushed usage first, so that statfs is current */
		struct sl_err ignored = {0}; /* what fails to flush stays pending for the next flush */
		sl_meta_flush_usage(q->m, &ignored);
	}
	int64_t v;
	int rc = sl_meta_incr_counter(q->m, name, delta, &v, &q->err);
	if (rc)
		return rc;
	struct sl_slice_grant g;
	bool granted = delta && !strcmp(name, "nextChunk");
	if (granted && (v < delta ||
			!sl_gw_grant(q->gw, caller->name, (uint64_t)(v - delta), (uint32_t)delta, &g)))
		return sl_errf(&q->err, -EIO, "cannot grant slice ids %" PRId64 "-%" PRId64, v - delta,
			       v - 1);
	struct sl_rpc_ids res = {.value = v, .has_grant = granted};
	if (granted)
		res.grant = (struct sl_rpc_id_grant){
			.issued = g.issued, .mac = g.mac, .mac_len = SL_GRANT_MAC_BYTES,
			.lifetime_s = (uint32_t)q->gw->grant_lifetime_s}; /* how long it holds */
	sl_w_ids(&q->out, &res);
	return 0;
}

/* A session belongs to the user who opened it: the gateway writes that name into the session's
 * record (JuiceFS readers ignore the extra field), and only that user may refresh or close it. The
 * gateway's own session has no owner, so no client can end it. */
#define SESSION_OWNER "SluiceOwner"

static int op_new_session(struct req *q, const char *info, int64_t expire)
{
	json_error_t je;
	json_t *o = json_loads(info ? info : "{}", 0, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return sl_errf(&q->err, -EINVAL, "the session record is not a JSON object");
	}
	char *text = NULL;
	if (!json_object_set_new(o, SESSION_OWNER, json_string(q->caller->name)))
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return sl_errf(&q->err, -ENOMEM, "out of memory");
	uint64_t sid;
	int rc = sl_meta_new_session(q->m, text, expire, &sid, &q->err);
	free(text);
	if (!rc)
		sl_w_session_id(&q->out, &(struct sl_rpc_session_id){.sid = sid});
	return rc;
}

struct session_owner {
	uint64_t sid;
	const char *name;
	bool found, owned;
};

static int match_session(void *arg, const struct sl_session_info *s)
{
	struct session_owner *so = arg;
	if (s->sid != so->sid)
		return 0;
	json_t *o = json_loads(s->info_json ? s->info_json : "", 0, NULL);
	const char *owner = json_string_value(json_object_get(o, SESSION_OWNER));
	so->found = true;
	so->owned = owner && !strcmp(owner, so->name);
	json_decref(o);
	return 1;
}

static int check_session_owner(struct req *q, uint64_t sid)
{
	struct session_owner so = {.sid = sid, .name = q->caller->name};
	int rc = sl_meta_get_session(q->m, sid, match_session, &so, &q->err);
	if (rc < 0)
		return rc;
	if (!so.found)
		return sl_errf(&q->err, -ENOENT, "no session %" PRIu64, sid);
	if (!so.owned)
		return sl_errf(&q->err, -EPERM, "session %" PRIu64 " is not %s's", sid,
			       q->caller->name);
	return 0;
}

struct list_ctx {
	struct sl_wbuf *w;
	uint32_t n;
};

static int put_dirent(void *arg, const struct sl_dirent_info *e)
{
	struct list_ctx *l = arg;
	char name[SL_NAME_MAX + 1];
	size_t n = e->name_len > SL_NAME_MAX ? SL_NAME_MAX : e->name_len;
	memcpy(name, e->name, n);
	name[n] = 0;
	sl_w_dirent(l->w, &(struct sl_rpc_dirent){.name = name, .ino = e->ino, .attr = e->attr});
	l->n++;
	return 0;
}

static int put_session(void *arg, const struct sl_session_info *s)
{
	struct list_ctx *l = arg;
	sl_w_session(l->w, s);
	l->n++;
	return 0;
}

/* Writes the count, then the entries a listing collected in a buffer of its own. */
static int put_list(struct req *q, int rc, struct sl_wbuf *items, uint32_t n)
{
	if (!rc) {
		sl_w_count(&q->out, &(struct sl_rpc_count){.n = n});
		sl_w_raw(&q->out, items->p, items->len);
		if (items->oom)
			q->out.oom = true;
	}
	sl_wbuf_free(items);
	return rc;
}

/* ---- delegation tokens -------------------------------------------------------------------- */

static int tokens_of(struct req *q, struct sl_gw_tokens **t)
{
	if (!(*t = q->gw->tokens))
		return sl_errf(&q->err, -EOPNOTSUPP, "this gateway does not handle delegation tokens");
	return 0;
}

/* Owner: whom the request acts for; real user: the authenticated caller when that differs (a
 * proxy user). A renewer given as a principal is mapped to its short name, as Hadoop does. */
static int op_issue_token(struct req *q, const char *renewer)
{
	struct sl_gw_tokens *t;
	int rc = tokens_of(q, &t);
	if (rc)
		return rc;
	if (q->caller->token)
		return sl_errf(&q->err, -EPERM, "a connection authenticated with a delegation token "
			       "cannot obtain delegation tokens (use Kerberos)");
	char rshort[256] = "";
	if (renewer && (strchr(renewer, '@') || strchr(renewer, '/'))) {
		if (!q->gw->rules)
			return sl_errf(&q->err, -EINVAL, "renewer %s: no auth_to_local rules", renewer);
		if ((rc = sl_auth_rules_map(q->gw->rules, renewer, rshort, sizeof(rshort), &q->err)))
			return sl_err_wrap(&q->err, "renewer %s", renewer);
	} else if (renewer) {
		snprintf(rshort, sizeof(rshort), "%s", renewer);
	}
	const char *real = strcmp(q->user, q->caller->name) ? q->caller->name : NULL;
	struct sl_meta_token tok;
	if ((rc = sl_gw_token_issue(t, q->user, real, rshort, &tok, &q->err)))
		return rc;
	sl_w_issued_token(&q->out, &(struct sl_rpc_issued_token){
		.ident = tok.ident, .ident_len = tok.ident_len, .password = tok.password,
		.password_len = sizeof(tok.password)});
	OPENSSL_cleanse(&tok, sizeof(tok));
	return 0;
}

/* PRESIGN (the mirror of remote_presign): method, key, the read it is for (GET/HEAD), the grant
 * (PUT); answers the URL and how long it is valid. */
static int op_presign(struct req *q, const struct sl_gw_caller *caller)
{
	struct sl_rpc_presign a;
	int rc = args_read(q, SL_OP_PRESIGN, sl_r_presign(&q->r, &a));
	if (rc)
		return rc;
	struct sl_gw_presign_req p = {.method = a.method, .key = a.key, .ino = a.ino,
				      .indx = a.indx, .grant = a.grant, .has_mac = a.has_grant};
	char *url = malloc(SL_PRESIGN_URL_MAX);
	if (!url)
		return sl_errf(&q->err, -ENOMEM, "out of memory");
	uint32_t expires = 0;
	rc = sl_gw_presign(q->gw, caller, &q->mu, &p, url, SL_PRESIGN_URL_MAX, &expires, &q->err);
	if (!rc)
		sl_w_url(&q->out, &(struct sl_rpc_url){.url = url, .expires_s = expires});
	OPENSSL_cleanse(url, strnlen(url, SL_PRESIGN_URL_MAX)); /* may be a data key */
	free(url);
	return rc;
}

/* WRITE_CHUNKS: every record passes WRITE_CHUNK's checks as its own acting user (the streams
 * of one client may act for several users), then all commit in one transaction. */
static int op_write_chunks(struct req *q, const struct sl_gw_caller *caller)
{
	struct sl_rbuf *r = &q->r;
	struct sl_err *err = &q->err;
	struct sl_rpc_count head;
	uint32_t n = sl_r_count(r, &head) ? 0 : head.n;
	if (!n || n > SL_RPC_MAX_BATCH)
		return sl_errf(err, -EPROTO, "malformed arguments of operation %u",
			       SL_OP_WRITE_CHUNKS);
	struct sl_meta_chunk_write *recs = calloc(n, sizeof(*recs));
	struct sl_meta_user *users = calloc(n, sizeof(*users));
	struct sl_meta_lease *leases = calloc(n, sizeof(*leases));
	int rc = recs && users && leases ? 0 : sl_errf(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; !rc && i < n; i++) {
		struct sl_meta_chunk_write *w = &recs[i];
		struct sl_rpc_chunk_write a;
		if (sl_r_chunk_write(r, &a)) {
			rc = sl_errf(err, -EPROTO, "malformed arguments of operation %u",
				     SL_OP_WRITE_CHUNKS);
			break;
		}
		*w = (struct sl_meta_chunk_write){.ino = a.ino, .indx = a.indx, .s = a.slice,
						  .mtime_ns = a.mtime_ns};
		if (a.has_lease) {
			leases[i] = a.lease;
			w->lease = &leases[i];
		}
		if ((rc = identify(q, caller, a.acting && *a.acting ? a.acting : NULL)) ||
		    (rc = reach(q, w->ino)) ||
		    (w->lease && (rc = check_session_owner(q, w->lease->sid))) ||
		    (rc = sl_gw_check_new_slice(q->gw, caller, a.has_grant ? &a.grant : NULL, &w->s,
						err)))
			break;
		users[i] = q->mu;
		w->u = &users[i];
	}
	if (!rc && !sl_r_done(r))
		rc = sl_errf(err, -EPROTO, "malformed arguments of operation %u", SL_OP_WRITE_CHUNKS);
	size_t done = 0;
	if (!rc)
		rc = sl_meta_slot_write_chunks(q->m, recs, n, &done, err);
	if (done_before(q, rc)) {
		rc = 0;
		for (uint32_t i = 0; !rc && i < n; i++)
			rc = sl_meta_getattr(q->m, recs[i].u, recs[i].ino, &recs[i].attr, err);
	}
	for (uint32_t i = 0; !rc && i < n; i++)
		sl_w_attr(&q->out, &recs[i].attr);
	free(recs);
	free(users);
	free(leases);
	return rc;
}

/* One op: reads its arguments (all of them, before acting), runs it, writes its results. */
static int run_op(struct req *q, const struct sl_gw_caller *caller, uint16_t op)
{
	struct sl_rbuf *r = &q->r;
	struct sl_meta *m = q->m;
	struct sl_meta_user *u = &q->mu;
	struct sl_err *err = &q->err;
	struct sl_attr attr;
	int rc;
/* Reads the op's arguments (layout: rpc/codec.h) into a; returns when they are malformed. */
#define ARGS(layout, a)                                                                      \
	do {                                                                                 \
		if ((rc = args_read(q, op, sl_r_##layout(r, &(a)))))                         \
			return rc;                                                           \
	} while (0)
#define NO_ARGS()                                                                            \
	do {                                                                                 \
		if ((rc = args_read(q, op, 0)))                                              \
			return rc;                                                           \
	} while (0)

	switch (op) {
	case SL_OP_LOAD_FORMAT:
		NO_ARGS();
		return op_load_format(q);
	case SL_OP_GET_SETTING: {
		struct sl_rpc_setting_name a;
		ARGS(setting_name, a);
		if (!registry_name(a.name))
			return sl_errf(err, -EPERM, "setting '%s' is not readable through the "
				       "gateway (only the user and group registry is)",
				       a.name ? a.name : "");
		char *v = NULL;
		if (!(rc = sl_meta_get_setting(m, a.name, &v, err)))
			sl_w_text(&q->out, &(struct sl_rpc_text){.text = v});
		free(v);
		return rc;
	}
	case SL_OP_ADD_SETTING: {
		struct sl_rpc_setting a;
		ARGS(setting, a);
		if (!registry_name(a.name) || !a.value)
			return sl_errf(err, -EPERM, "only the user and group registry may be added "
				       "to through the gateway");
		return sl_meta_add_setting(m, a.name, a.value, err);
	}
	case SL_OP_NEW_SESSION: {
		struct sl_rpc_new_session a;
		ARGS(new_session, a);
		return op_new_session(q, a.info_json, a.expire_s);
	}
	case SL_OP_REFRESH_SESSION: {
		struct sl_rpc_refresh_session a;
		ARGS(refresh_session, a);
		if ((rc = check_session_owner(q, a.sid)))
			return rc;
		return sl_meta_refresh_session(m, a.sid, a.expire_s, err);
	}
	case SL_OP_CLOSE_SESSION: {
		struct sl_rpc_session_id a;
		ARGS(session_id, a);
		if ((rc = check_session_owner(q, a.sid)))
			return rc;
		return sl_meta_close_session(m, a.sid, err);
	}
	case SL_OP_LIST_SESSIONS: {
		NO_ARGS();
		struct sl_wbuf items = {0};
		struct list_ctx l = {.w = &items};
		rc = sl_meta_list_sessions(m, put_session, &l, err);
		return put_list(q, rc, &items, l.n);
	}
	case SL_OP_NEXT_IDS: {
		struct sl_rpc_counter a;
		ARGS(counter, a);
		return op_next_ids(q, caller, a.name, a.delta);
	}
	case SL_OP_RESOLVE: {
		struct sl_rpc_path a;
		ARGS(path, a);
		if (!a.path)
			return sl_errf(err, -EINVAL, "no path");
		struct sl_rpc_found res;
		if (!(rc = sl_meta_resolve(m, u, a.path, &res.ino, &res.attr, err)))
			sl_w_found(&q->out, &res);
		return rc;
	}
	case SL_OP_LOOKUP: {
		struct sl_rpc_entry a;
		if ((rc = entry_args(q, op, &a)))
			return rc;
		struct sl_rpc_found res;
		if (!(rc = sl_meta_lookup(m, u, a.parent, a.name, &res.ino, &res.attr, err)))
			sl_w_found(&q->out, &res);
		return rc;
	}
	case SL_OP_GETATTR: {
		struct sl_rpc_inode a;
		if (!(rc = inode_args(q, op, &a)) && !(rc = sl_meta_getattr(m, u, a.ino, &attr, err)))
			sl_w_attr(&q->out, &attr);
		return rc;
	}
	case SL_OP_SETATTR: {
		struct sl_rpc_setattr a;
		ARGS(setattr, a);
		if ((rc = reach(q, a.ino)))
			return rc;
		rc = sl_meta_setattr(m, u, a.ino, (int)a.set, &a.attr, &attr, err);
		if (done_before(q, rc))
			rc = sl_meta_getattr(m, u, a.ino, &attr, err);
		if (!rc)
			sl_w_attr(&q->out, &attr);
		return rc;
	}
	case SL_OP_MKNOD: {
		struct sl_rpc_mknod a;
		ARGS(mknod, a);
		if (!a.name)
			return sl_errf(err, -EINVAL, "no name");
		if ((rc = reach(q, a.parent)))
			return rc;
		struct sl_rpc_made res = {0};
		struct sl_removed rm = {0};
		rc = sl_meta_mknod(m, u, a.parent, a.name, a.type, a.mode, (int)a.flags, a.target,
				   &res.ino, &res.attr, &rm, err);
		if (done_before(q, rc)) /* what it replaced then was doomed then */
			rc = sl_meta_lookup(m, u, a.parent, a.name, &res.ino, &res.attr, err);
		if (!rc || rc == -EEXIST) { /* the existing entry is reported with -EEXIST */
			res.replaced = doomed(q, &rm);
			sl_w_made(&q->out, &res);
		}
		return rc;
	}
	case SL_OP_MKNOD_LEASED: {
		struct sl_rpc_mknod_leased a;
		ARGS(mknod_leased, a);
		if (!a.name)
			return sl_errf(err, -EINVAL, "no name");
		if ((rc = reach(q, a.parent)) || (rc = check_session_owner(q, a.sid)))
			return rc;
		struct sl_rpc_made_leased res = {0};
		struct sl_removed rm = {0};
		struct sl_meta_lease lease = {0};
		rc = sl_meta_mknod_leased(m, u, a.parent, a.name, a.mode, (int)a.flags, a.sid, &lease,
					  &res.ino, &res.attr, &rm, err);
		if (done_before(q, rc)) { /* the token is the generation (sql_leases.c) */
			rc = sl_meta_lookup(m, u, a.parent, a.name, &res.ino, &res.attr, err);
			lease.gen = q->once.token;
		}
		if (!rc || rc == -EEXIST) {
			res.replaced = doomed(q, &rm);
			res.gen = rc ? 0 : lease.gen;
			sl_w_made_leased(&q->out, &res);
		}
		return rc;
	}
	case SL_OP_UNLINK: {
		struct sl_rpc_entry a;
		if ((rc = entry_args(q, op, &a)))
			return rc;
		struct sl_removed rm = {0};
		rc = sl_meta_unlink(m, u, a.parent, a.name, &rm, err);
		if (done_before(q, rc))
			rc = 0;
		if (!rc)
			put_removed(q, &rm);
		return rc;
	}
	case SL_OP_RMDIR: {
		struct sl_rpc_entry a;
		if ((rc = entry_args(q, op, &a)))
			return rc;
		rc = sl_meta_rmdir(m, u, a.parent, a.name, err);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_RENAME: {
		struct sl_rpc_rename a;
		ARGS(rename, a);
		if (!a.nsrc || !a.ndst)
			return sl_errf(err, -EINVAL, "no name");
		if ((rc = reach(q, a.psrc)) || (rc = reach(q, a.pdst)))
			return rc;
		struct sl_removed rm = {0};
		rc = sl_meta_rename(m, u, a.psrc, a.nsrc, a.pdst, a.ndst, (int)a.flags, &rm, err);
		if (done_before(q, rc))
			rc = 0;
		if (!rc)
			put_removed(q, &rm);
		return rc;
	}
	case SL_OP_REMOVE_TREE: {
		struct sl_rpc_entry a;
		if ((rc = entry_args(q, op, &a)))
			return rc;
		rc = sl_meta_remove_tree(m, u, a.parent, a.name, doom_removed, q->gw->vol, err);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_READDIR: {
		struct sl_rpc_readdir a;
		ARGS(readdir, a);
		if (!a.limit || a.limit > SL_RPC_MAX_LIST)
			return sl_errf(err, -EINVAL, "a listing page must hold 1-%u entries",
				       SL_RPC_MAX_LIST);
		if ((rc = reach(q, a.ino)))
			return rc;
		struct sl_wbuf items = {0};
		struct list_ctx l = {.w = &items};
		rc = sl_meta_readdir(m, u, a.ino, a.after, a.limit, put_dirent, &l, err);
		return put_list(q, rc, &items, l.n);
	}
	case SL_OP_READLINK: {
		struct sl_rpc_inode a;
		if ((rc = inode_args(q, op, &a)))
			return rc;
		char *target = NULL;
		if (!(rc = sl_meta_readlink(m, u, a.ino, &target, err)))
			sl_w_path(&q->out, &(struct sl_rpc_path){.path = target});
		free(target);
		return rc;
	}
	case SL_OP_INODE_PATH: {
		struct sl_rpc_inode a;
		ARGS(inode, a);
		char *path = NULL; /* resolved as the caller */
		if (!(rc = sl_meta_inode_path(m, u, a.ino, &path, err)))
			sl_w_path(&q->out, &(struct sl_rpc_path){.path = path});
		free(path);
		return rc;
	}
	case SL_OP_READ_CHUNK: {
		struct sl_rpc_chunk a;
		ARGS(chunk, a);
		if ((rc = reach(q, a.ino)))
			return rc;
		struct sl_slice *ss = NULL;
		size_t n = 0;
		if (!(rc = sl_meta_read_chunk(m, u, a.ino, a.indx, &ss, &n, err)))
			sl_w_slices(&q->out, &(struct sl_rpc_slices){.slices_n = (uint32_t)n,
								   .slices = ss});
		free(ss);
		return rc;
	}
	case SL_OP_WRITE_CHUNK: {
		struct sl_rpc_write_chunk a;
		ARGS(write_chunk, a);
		if ((rc = reach(q, a.ino)) ||
		    (a.has_lease && (rc = check_session_owner(q, a.lease.sid))))
			return rc;
		/* a new slice: granted to the caller, stored with its size (data.c) */
		if ((rc = sl_gw_check_new_slice(q->gw, caller, a.has_grant ? &a.grant : NULL,
						&a.slice, err)))
			return rc;
		rc = sl_meta_write_chunk(m, u, a.has_lease ? &a.lease : NULL, a.ino, a.indx, &a.slice,
					 a.mtime_ns, &attr, err);
		if (done_before(q, rc))
			rc = sl_meta_getattr(m, u, a.ino, &attr, err);
		if (!rc)
			sl_w_attr(&q->out, &attr);
		return rc;
	}
	case SL_OP_WRITE_CHUNKS:
		return op_write_chunks(q, caller);
	case SL_OP_TRUNCATE: {
		struct sl_rpc_inode_length a;
		ARGS(inode_length, a);
		if ((rc = reach(q, a.ino)))
			return rc;
		rc = sl_meta_truncate(m, u, a.ino, a.length, &attr, err);
		if (done_before(q, rc))
			rc = sl_meta_getattr(m, u, a.ino, &attr, err);
		if (!rc)
			sl_w_attr(&q->out, &attr);
		return rc;
	}
	case SL_OP_CONCAT: {
		/* No slice ids on the wire: the slot moves the slices of sources the acting user may
		 * read and remove (Hadoop's rule) into a target it may write, in one transaction. */
		struct sl_rpc_concat a;
		if (!(rc = args_read(q, op, sl_r_concat(r, &a))))
			rc = reach(q, a.target);
		for (uint32_t i = 0; !rc && i < a.srcs_n; i++)
			rc = reach(q, a.srcs[i]);
		if (!rc)
			rc = sl_meta_concat(m, u, a.target, a.srcs, a.srcs_n, err);
		free((void *)a.srcs);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_COMPACT_CHUNK: {
		/* The replacement is a new slice (granted, stored with its size); the records it
		 * replaces are matched byte for byte against the chunk in the slot's transaction,
		 * which checks write permission on the file: no other slice gets in. */
		struct sl_rpc_compact_chunk a;
		rc = args_read(q, op, sl_r_compact_chunk(r, &a));
		if (!rc && !(rc = reach(q, a.ino)) && a.has_lease)
			rc = check_session_owner(q, a.lease.sid);
		if (!rc)
			rc = sl_gw_check_new_slice(q->gw, caller, a.has_grant ? &a.grant : NULL,
						   &a.repl, err);
		if (!rc) /* the slices it frees are deleted by the gateway, as after an unlink */
			rc = sl_meta_compact_chunk(m, u, a.has_lease ? &a.lease : NULL, a.ino,
						   a.indx, a.expect, a.expect_n, a.skip, &a.repl,
						   sl_vol_delete_slice, &q->gw->vol->core, err);
		free((void *)a.expect);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_GETXATTR: {
		struct sl_rpc_xattr a;
		if ((rc = xattr_args(q, op, &a)))
			return rc;
		void *v = NULL;
		size_t len = 0;
		if (!(rc = sl_meta_getxattr(m, u, a.ino, a.name, &v, &len, err)))
			sl_w_xattr_value(&q->out, &(struct sl_rpc_xattr_value){.value = v,
									     .value_len = len});
		free(v);
		return rc;
	}
	case SL_OP_SETXATTR: {
		struct sl_rpc_setxattr a;
		ARGS(setxattr, a);
		if (!a.name)
			return sl_errf(err, -EINVAL, "no name");
		if ((rc = reach(q, a.ino)))
			return rc;
		rc = sl_meta_setxattr(m, u, a.ino, a.name, a.value, a.value_len, (int)a.flags, err);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_LISTXATTR: {
		struct sl_rpc_inode a;
		if ((rc = inode_args(q, op, &a)))
			return rc;
		char *names = NULL;
		size_t len = 0;
		if (!(rc = sl_meta_listxattr(m, u, a.ino, &names, &len, err)))
			sl_w_xattr_value(&q->out, &(struct sl_rpc_xattr_value){.value = names,
									     .value_len = len});
		free(names);
		return rc;
	}
	case SL_OP_REMOVEXATTR: {
		struct sl_rpc_xattr a;
		if ((rc = xattr_args(q, op, &a)))
			return rc;
		rc = sl_meta_removexattr(m, u, a.ino, a.name, err);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_SUMMARY: {
		struct sl_rpc_inode a;
		if ((rc = inode_args(q, op, &a)))
			return rc;
		struct sl_meta_summary s;
		if (!(rc = sl_meta_summary(m, u, a.ino, &s, err)))
			sl_w_summary(&q->out, &s);
		return rc;
	}
	case SL_OP_UNSUPPORTED_FEATURES: {
		NO_ARGS();
		char what[512] = "";
		if (!(rc = sl_meta_unsupported_features(m, what, sizeof(what), err)))
			sl_w_features(&q->out, &(struct sl_rpc_features){.what = what});
		return rc;
	}
	case SL_OP_ISSUE_TOKEN: {
		struct sl_rpc_renewer a;
		ARGS(renewer, a);
		return op_issue_token(q, a.renewer && *a.renewer ? a.renewer : NULL);
	}
	case SL_OP_RENEW_TOKEN: {
		struct sl_rpc_token a;
		ARGS(token, a);
		struct sl_gw_tokens *t;
		if ((rc = tokens_of(q, &t)))
			return rc;
		if (q->caller->token) /* as HDFS: renewal needs the renewer's own credentials */
			return sl_errf(err, -EPERM, "a delegation token cannot be renewed over a "
				       "connection authenticated with a token (use Kerberos)");
		if (a.password_len != SL_DT_PASSWORD_LEN)
			return sl_errf(err, -EACCES, "a delegation token password has %d bytes",
				       SL_DT_PASSWORD_LEN);
		struct sl_rpc_expiry res = {0};
		if (!(rc = sl_gw_token_renew(t, q->user, a.ident, a.ident_len, a.password,
					     &res.expiry_ms, err)))
			sl_w_expiry(&q->out, &res);
		return rc;
	}
	case SL_OP_CANCEL_TOKEN: {
		struct sl_rpc_token a;
		ARGS(token, a);
		struct sl_gw_tokens *t;
		if ((rc = tokens_of(q, &t)))
			return rc;
		if (a.password_len != SL_DT_PASSWORD_LEN)
			return sl_errf(err, -EACCES, "a delegation token password has %d bytes",
				       SL_DT_PASSWORD_LEN);
		return sl_gw_token_cancel(t, q->user, a.ident, a.ident_len, a.password, err);
	}
	case SL_OP_PRESIGN:
		return op_presign(q, caller);
	case SL_OP_LEASE_ACQUIRE: {
		struct sl_rpc_lease_acquire a;
		ARGS(lease_acquire, a);
		struct sl_meta_lease lease;
		if ((rc = reach(q, a.ino)) || (rc = check_session_owner(q, a.sid)))
			return rc;
		rc = sl_meta_lease_acquire(m, u, a.ino, a.sid, &lease, err);
		if (done_before(q, rc)) { /* the token is the generation (sql_leases.c) */
			rc = 0;
			lease.gen = q->once.token;
		}
		if (!rc)
			sl_w_generation(&q->out, &(struct sl_rpc_generation){.gen = lease.gen});
		return rc;
	}
	case SL_OP_LEASE_RELEASE: {
		struct sl_rpc_lease_release a;
		ARGS(lease_release, a);
		if ((rc = check_session_owner(q, a.lease.sid)))
			return rc;
		rc = sl_meta_lease_release(m, a.ino, &a.lease, err);
		return done_before(q, rc) ? 0 : rc;
	}
	case SL_OP_LEASE_RECOVER: {
		struct sl_rpc_lease_recover a;
		ARGS(lease_recover, a);
		if ((rc = reach(q, a.ino)))
			return rc;
		struct sl_rpc_closed res = {0};
		rc = sl_meta_lease_recover(m, u, a.ino, a.recover, &res.closed, err);
		if (done_before(q, rc)) { /* the earlier sending ended the lease */
			rc = 0;
			res.closed = true;
		}
		if (!rc)
			sl_w_closed(&q->out, &res);
		return rc;
	}
	case SL_OP_FILE_CRC: {
		struct sl_rpc_inode_length a;
		ARGS(inode_length, a);
		struct sl_rpc_crc res = {0};
		if ((rc = reach(q, a.ino)) || (rc = sl_meta_getattr(m, u, a.ino, &attr, err)))
			return rc;
		if (attr.type != SL_TYPE_FILE)
			return sl_errf(err, -EISDIR, "inode %" PRIu64 " is not a file", a.ino);
		uint64_t length = a.length < attr.length ? a.length : attr.length;
		/* read_chunk, as the caller, checks its read permission on every chunk */
		if (!(rc = sl_checksum_inode(&q->gw->vol->core, u, a.ino, length, &res.crc, err)))
			sl_w_crc(&q->out, &res);
		return rc;
	}
	case SL_OP_GETFACL: {
		struct sl_rpc_inode a;
		if ((rc = inode_args(q, op, &a)))
			return rc;
		struct sl_acl_state st;
		if ((rc = sl_meta_getfacl(m, u, a.ino, &attr, &st, err)))
			return rc;
		uint8_t access[SL_ACL_RULE_BYTES], def[SL_ACL_RULE_BYTES];
		struct sl_rpc_facl res = {.attr = attr, .mode = st.mode,
					  .has_access = st.has_access,
					  .has_default = st.has_default, .access = access,
					  .def = def};
		res.access_len = st.has_access ? sl_acl_encode(&st.access, access) : 0;
		res.def_len = st.has_default ? sl_acl_encode(&st.def, def) : 0;
		sl_w_facl(&q->out, &res);
		return 0;
	}
	case SL_OP_SETFACL: {
		struct sl_rpc_setfacl a;
		ARGS(setfacl, a);
		struct sl_acl_spec spec[SL_ACL_MAX_ENTRIES];
		size_t n;
		if (!sl_acl_spec_decode(a.spec, a.spec_len, spec, SL_ACL_MAX_ENTRIES, &n))
			return sl_errf(err, -EINVAL, "a malformed ACL spec");
		if ((rc = reach(q, a.ino)))
			return rc;
		rc = sl_meta_setfacl(m, u, a.ino, (enum sl_acl_op)a.op, spec, n, &attr, err);
		if (done_before(q, rc))
			rc = sl_meta_getattr(m, u, a.ino, &attr, err);
		if (!rc)
			sl_w_attr(&q->out, &attr);
		return rc;
	}
	case SL_OP_ACCESS: {
		struct sl_rpc_access a;
		ARGS(access, a);
		if ((rc = reach(q, a.ino)) || (rc = sl_meta_getattr(m, u, a.ino, &attr, err)))
			return rc;
		return sl_meta_may(m, u, a.ino, &attr, (int)a.mask, err);
	}
	case SL_OP_SNAPSHOT: {
		struct sl_rpc_snapshot a;
		ARGS(snapshot, a);
		if ((rc = reach(q, a.dir)))
			return rc;
		struct sl_rpc_found res = {0};
		if (!(rc = sl_meta_snapshot(m, u, (enum sl_snapshot_op)a.op, a.dir, a.name,
					    a.new_name, doom_removed, q->gw->vol, &res.ino,
					    &res.attr, err)))
			sl_w_found(&q->out, &res);
		return rc;
	}
	default:
		return sl_errf(err, -ENOSYS, "unknown operation %u", op);
	}
#undef ARGS
#undef NO_ARGS
}

/* Whether a client may read the message of an error of this class: the answers about its own
 * request (permissions, names, arguments, limits, conflicts). The other classes (I/O, the
 * database, the object store, timeouts, memory) are the gateway's business. */
static bool client_errno(int rc)
{
	switch (-rc) {
	case EPERM: case ENOENT: case EACCES: case EEXIST: case ENOTDIR: case EISDIR:
	case EINVAL: case EFBIG: case ENOSPC: case EROFS: case ENAMETOOLONG: case ENOTEMPTY:
	case ELOOP: case ESTALE: case EXDEV: case E2BIG: case EPROTO: case ENOSYS:
	case EOPNOTSUPP: case EBUSY: case ENODATA: case ERANGE: case EDQUOT: case EMLINK:
	case EBADF: case ENOLCK: case ETXTBSY: /* writer leases: lost, held by another stream */
		return true;
	default:
		return false;
	}
}

/* An error whose text is not for the client (it names SQL, the database, the object store, or
 * is of an internal class): the full text goes to the log under a random request id, the client
 * gets the errno, a generic text and that id. */
static void hide_error(struct sl_gateway *gw, const struct sl_gw_caller *caller, uint16_t op,
		       struct sl_err *err)
{
	uint8_t r[8];
	char id[2 * sizeof(r) + 1];
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	sl_log(&gw->vol->core.log, SL_LOG_WARN, "gateway: request %s (operation %u of %s from %s) "
	       "failed: %s", id, op, caller->name, caller->addr, err->msg);
	int rc = err->code;
	sl_errf(err, rc, "%s (the gateway's log has the details under request %s)",
		strerror(-rc), id);
}

void sl_gw_dispatch(struct sl_gateway *gw, const struct sl_gw_caller *caller, const void *req,
		    size_t len, struct sl_wbuf *resp)
{
	struct req q = {.gw = gw, .m = gw->vol->core.meta, .r = sl_rbuf_of(req, len),
			.caller = caller};
	uint16_t op = sl_r_u16(&q.r);
	if (op & SL_OP_ONCE) {
		op &= (uint16_t)~SL_OP_ONCE;
		q.once.token = sl_r_u64(&q.r);
	}
	const char *acting = sl_r_str(&q.r, SL_RPC_MAX_USER);
	int rc;
	if (q.r.bad)
		rc = sl_errf(&q.err, -EPROTO, "malformed request");
	else
		rc = identify(&q, caller, acting);
	if (!rc) {
		bool armed = q.once.token && sl_meta_arm_once(q.m, &q.once);
		rc = run_op(&q, caller, op);
		if (armed)
			sl_meta_arm_once(q.m, NULL);
	}
	if (q.out.oom)
		rc = sl_errf(&q.err, -ENOMEM, "out of memory");
	*resp = (struct sl_wbuf){0};
	sl_w_u32(resp, (uint32_t)rc);
	if (rc) {
		if (!q.err.msg[0])
			sl_errf(&q.err, rc, "%s", strerror(-rc));
		q.err.code = rc;
		if (q.err.internal || !client_errno(rc))
			hide_error(gw, caller, op, &q.err);
		sl_w_str(resp, q.err.msg);
	}
	if (!rc || (rc == -EEXIST && (op == SL_OP_MKNOD || op == SL_OP_MKNOD_LEASED)))
		sl_w_raw(resp, q.out.p, q.out.len);
	sl_wbuf_free(&q.out);
}
