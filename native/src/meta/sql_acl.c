/*
 * sql_acl.c - POSIX ACLs of the sql backend in JuiceFS's rows: rules in jfs_acl (never changed
 * once written, so cached by id for the handle's life), referred to by jfs_node.access_acl_id
 * and default_acl_id; the permission check that honours them (sl_sql_access), inheritance of a
 * directory's default ACL, and the slots that read and change an inode's ACL by HDFS's rules
 * (acl.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

#define ACL_CACHE_MAX 4096 /* rules kept; more empties the cache (rules are few in practice) */

struct acl_cached {
	uint32_t id;
	struct sl_acl rule;
};

void sl_sql_acls_init(struct sql_acls *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void sl_sql_acls_free(struct sql_acls *c)
{
	free(c->e);
	pthread_mutex_destroy(&c->lock);
}

static bool cache_get(struct sql_acls *c, uint32_t id, struct sl_acl *out)
{
	bool found = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n && !found; i++)
		if (c->e[i].id == id) {
			*out = c->e[i].rule;
			found = true;
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static void cache_put(struct sql_acls *c, uint32_t id, const struct sl_acl *rule)
{
	pthread_mutex_lock(&c->lock);
	if (c->n == ACL_CACHE_MAX)
		c->n = 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct acl_cached *ne = realloc(c->e, cap * sizeof(*ne));
		if (!ne) {
			pthread_mutex_unlock(&c->lock);
			return; /* read again next time */
		}
		c->e = ne;
		c->cap = cap;
	}
	c->e[c->n++] = (struct acl_cached){id, *rule};
	pthread_mutex_unlock(&c->lock);
}

/* Reads a rule's columns from s (owner, group, mask, other, named_users, named_groups from c0). */
static int rule_row(struct tx *t, struct sl_sql_stmt *s, int c0, uint32_t id, struct sl_acl *r)
{
	sl_acl_init(r);
	r->owner = (uint16_t)sl_sql_col_u64(t, s, c0);
	r->group = (uint16_t)sl_sql_col_u64(t, s, c0 + 1);
	r->mask = (uint16_t)sl_sql_col_u64(t, s, c0 + 2);
	r->other = (uint16_t)sl_sql_col_u64(t, s, c0 + 3);
	size_t ulen = 0, glen = 0;
	const uint8_t *u = t->d->col_null(s, c0 + 4) ? NULL : t->d->col_blob(s, c0 + 4, &ulen);
	const uint8_t *g = t->d->col_null(s, c0 + 5) ? NULL : t->d->col_blob(s, c0 + 5, &glen);
	if (!sl_acl_decode_entries(u, u ? ulen : 0, r->users, &r->nusers) ||
	    !sl_acl_decode_entries(g, g ? glen : 0, r->groups, &r->ngroups))
		return sl_errf(t->err, -EIO, "ACL rule %" PRIu32 " in jfs_acl is corrupt or has more "
			       "than %d named entries of a kind", id, SL_ACL_MAX_NAMED);
	return 0;
}

int sl_sql_acl_get(struct tx *t, uint32_t id, struct sl_acl *out)
{
	struct sql_acls *c = &sl_sql_be_of(t->m)->acls;
	if (cache_get(c, id, out))
		return 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_row(t, &s, "SELECT owner, `group`, mask, other, named_users, named_groups "
			     "FROM jfs_acl WHERE id = ?", "i", (int64_t)id);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_errf(t->err, -EIO, "ACL rule %" PRIu32 " is missing from jfs_acl", id);
	rc = rule_row(t, s, 0, id, out);
	t->d->finalize(s);
	if (!rc)
		cache_put(c, id, out);
	return rc;
}

/* The id of a row holding rule r, or 0. */
static int find_rule(struct tx *t, const struct sl_acl *r, uint32_t *id)
{
	*id = 0;
	struct sl_sql_stmt *s;
	int rc = sl_sqlq_open(t, &s, "SELECT id, owner, `group`, mask, other, named_users, "
			      "named_groups FROM jfs_acl WHERE owner = ? AND `group` = ? AND "
			      "mask = ? AND other = ? ORDER BY id", "iiii", (int64_t)r->owner,
			      (int64_t)r->group, (int64_t)r->mask, (int64_t)r->other);
	if (rc)
		return rc;
	while (!*id && (rc = t->d->step(s, t->err)) > 0) {
		struct sl_acl row;
		uint32_t rid = (uint32_t)sl_sql_col_u64(t, s, 0);
		if (rule_row(t, s, 1, rid, &row)) {
			sl_err_clear(t->err); /* a corrupt row is not the one */
			continue;
		}
		if (sl_acl_equal(&row, r))
			*id = rid;
	}
	t->d->finalize(s);
	return rc < 0 ? rc : 0;
}

int sl_sql_acl_put(struct tx *t, const struct sl_acl *rule, uint32_t *id)
{
	int rc = find_rule(t, rule, id);
	if (rc || *id)
		return rc;
	uint8_t users[SL_ACL_MAX_NAMED * SL_ACL_ENTRY_BYTES];
	uint8_t groups[SL_ACL_MAX_NAMED * SL_ACL_ENTRY_BYTES];
	sl_acl_encode_entries(rule->users, rule->nusers, users);
	sl_acl_encode_entries(rule->groups, rule->ngroups, groups);
	rc = sl_sqlq_exec(t, NULL, "INSERT INTO jfs_acl (owner, `group`, mask, other, named_users, "
			  "named_groups) VALUES (?, ?, ?, ?, ?, ?)", "iiiibb", (int64_t)rule->owner,
			  (int64_t)rule->group, (int64_t)rule->mask, (int64_t)rule->other, users,
			  (size_t)rule->nusers * SL_ACL_ENTRY_BYTES, groups,
			  (size_t)rule->ngroups * SL_ACL_ENTRY_BYTES);
	if (!rc)
		rc = find_rule(t, rule, id);
	if (!rc && !*id)
		rc = sl_errf(t->err, -EIO, "an ACL rule written to jfs_acl cannot be read back");
	return rc;
}

int sl_sql_access(struct tx *t, const struct sl_meta_user *u, const struct sl_attr *a, int mask)
{
	struct sl_acl rule;
	const struct sl_acl *acl = NULL;
	if (a->access_acl && !sl_meta_superuser(u) && (mask & 7)) {
		int rc = sl_sql_acl_get(t, a->access_acl, &rule);
		if (rc)
			return rc;
		acl = &rule;
	}
	return sl_meta_access(u, a, acl, mask);
}

/* ---- inheritance ------------------------------------------------------------------------------ */

int sl_sql_acl_inherit(struct tx *t, const struct sl_attr *parent, struct sl_attr *child)
{
	if (!parent->default_acl || child->type == SL_TYPE_SYMLINK)
		return 0;
	struct sl_acl def, access;
	int rc = sl_sql_acl_get(t, parent->default_acl, &def);
	if (rc)
		return rc;
	bool has_access = false;
	sl_acl_inherit(&def, &child->mode, &has_access, &access);
	if (has_access && (rc = sl_sql_acl_put(t, &access, &child->access_acl)))
		return rc;
	if (child->type == SL_TYPE_DIR)
		child->default_acl = parent->default_acl;
	return 0;
}

/* ---- the slots ------------------------------------------------------------------------------- */

struct acl_arg {
	const struct sl_meta_user *u;
	sl_ino ino;
	enum sl_acl_op op;
	const struct sl_acl_spec *spec;
	size_t n;
	struct sl_acl_state state;
	struct sl_attr attr;
	int mask;
};

/* The ACL state of node a. */
static int state_of(struct tx *t, const struct sl_attr *a, struct sl_acl_state *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = a->mode;
	int rc = 0;
	if (a->access_acl) {
		s->has_access = true;
		rc = sl_sql_acl_get(t, a->access_acl, &s->access);
	}
	if (!rc && a->default_acl) {
		s->has_default = true;
		rc = sl_sql_acl_get(t, a->default_acl, &s->def);
	}
	return rc;
}

static int getfacl_op(struct tx *t, void *arg)
{
	struct acl_arg *a = arg;
	int rc = sl_sql_node_get(t, a->ino, false, &a->attr);
	return rc ? rc : state_of(t, &a->attr, &a->state);
}

int sl_sql_getfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   struct sl_attr *attr, struct sl_acl_state *out, struct sl_err *err)
{
	struct acl_arg a = {.u = u, .ino = ino};
	int rc = sl_sqlq_run(m, false, getfacl_op, &a, err);
	if (!rc) {
		*attr = a.attr;
		*out = a.state;
	}
	return rc;
}

static int setfacl_op(struct tx *t, void *arg)
{
	struct acl_arg *a = arg;
	struct sl_attr *n = &a->attr;
	int rc = sl_sql_node_get(t, a->ino, true, n);
	if (rc)
		return rc;
	/* HDFS: only the owner (or a superuser) changes an ACL */
	if (!sl_meta_superuser(a->u) && a->u->uid != n->uid)
		return sl_sql_deny(t, "only the owner may change the ACL", a->ino);
	if (n->flags & SL_FLAG_IMMUTABLE)
		return sl_errf(t->err, -EPERM, "inode %" PRIu64 " is immutable", a->ino);
	if (n->type == SL_TYPE_SYMLINK)
		return sl_errf(t->err, -EINVAL, "a symlink has no ACL");
	if ((rc = state_of(t, n, &a->state)))
		return rc;
	char why[256];
	rc = sl_acl_change(&a->state, n->type == SL_TYPE_DIR, a->op, a->spec, a->n, why,
			   sizeof(why));
	if (rc == -ENOMEM)
		return sl_sql_nomem(t);
	if (rc)
		return sl_errf(t->err, rc, "%s", why);
	uint32_t access = 0, def = 0;
	if (a->state.has_access && (rc = sl_sql_acl_put(t, &a->state.access, &access)))
		return rc;
	if (a->state.has_default && (rc = sl_sql_acl_put(t, &a->state.def, &def)))
		return rc;
	int64_t now = sl_real_ns();
	n->mode = a->state.mode;
	n->access_acl = access;
	n->default_acl = def;
	n->ctime_ns = now;
	return sl_sqlq_exec(t, NULL, "UPDATE jfs_node SET mode = ?, access_acl_id = ?, "
			    "default_acl_id = ?, ctime = ?, ctimensec = ? WHERE inode = ?",
			    "iiiiii", (int64_t)n->mode, (int64_t)access, (int64_t)def,
			    sl_time_us(now), sl_time_nsrem(now), (int64_t)a->ino);
}

int sl_sql_setfacl(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino,
		   enum sl_acl_op op, const struct sl_acl_spec *spec, size_t n,
		   struct sl_attr *attr, struct sl_err *err)
{
	struct acl_arg a = {.u = u, .ino = ino, .op = op, .spec = spec, .n = n};
	int rc = sl_sqlq_run_once(m, setfacl_op, &a, err);
	if (!rc && attr)
		*attr = a.attr;
	return rc;
}

static int access_op(struct tx *t, void *arg)
{
	struct acl_arg *a = arg;
	int rc = sl_sql_node_get(t, a->ino, false, &a->attr);
	if (!rc && (rc = sl_sql_access(t, a->u, &a->attr, a->mask)) == -EACCES)
		rc = sl_sql_deny(t, "the permissions or the ACL do not allow it", a->ino);
	return rc;
}

int sl_sql_access_check(struct sl_meta *m, const struct sl_meta_user *u, sl_ino ino, int mask,
			struct sl_err *err)
{
	struct acl_arg a = {.u = u, .ino = ino, .mask = mask};
	return sl_sqlq_run(m, false, access_op, &a, err);
}

int sl_sql_may(struct tx *t, const struct sl_meta_user *u, sl_ino ino, const struct sl_attr *a,
	       int mask, const char *what)
{
	int rc = sl_sql_access(t, u, a, mask);
	return rc == -EACCES ? sl_sql_deny(t, what, ino) : rc;
}

struct rule_arg {
	uint32_t id;
	struct sl_acl rule;
};

static int rule_op(struct tx *t, void *arg)
{
	struct rule_arg *a = arg;
	return sl_sql_acl_get(t, a->id, &a->rule);
}

int sl_sql_access_outside(struct sl_meta *m, const struct sl_meta_user *u,
			  const struct sl_attr *a, int mask, struct sl_err *err)
{
	if (!a->access_acl || sl_meta_superuser(u) || !(mask & 7))
		return sl_meta_access(u, a, NULL, mask);
	struct rule_arg r = {.id = a->access_acl};
	if (!cache_get(&sl_sql_be_of(m)->acls, r.id, &r.rule)) {
		int rc = sl_sqlq_run(m, false, rule_op, &r, err);
		if (rc)
			return rc;
	}
	return sl_meta_access(u, a, &r.rule, mask);
}

/* ---- checks of rows a statement is still reading ---------------------------------------------- */

int sl_sql_access_or_defer(struct tx *t, const struct sl_meta_user *u, sl_ino ino,
			   const struct sl_attr *a, int mask, struct sl_sql_deferred *d)
{
	if (!a->access_acl || sl_meta_superuser(u))
		return sl_meta_access(u, a, NULL, mask);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct sl_sql_deferred_node *ne = realloc(d->e, cap * sizeof(*ne));
		if (!ne)
			return sl_sql_nomem(t);
		d->e = ne;
		d->cap = cap;
	}
	d->e[d->n++] = (struct sl_sql_deferred_node){ino, *a};
	return 0;
}

int sl_sql_access_deferred(struct tx *t, const struct sl_meta_user *u, int mask,
			   struct sl_sql_deferred *d, sl_ino *denied)
{
	int rc = 0;
	for (size_t i = 0; !rc && !*denied && i < d->n; i++) {
		rc = sl_sql_access(t, u, &d->e[i].attr, mask);
		if (rc == -EACCES) {
			*denied = d->e[i].ino;
			rc = 0;
		}
	}
	free(d->e);
	*d = (struct sl_sql_deferred){0};
	return rc;
}

int sl_sql_dirs_may(struct tx *t, const struct sl_meta_user *u, struct sl_sql_stmt *s, int mask,
		    sl_ino whole, sl_ino *denied)
{
	struct sl_sql_deferred later = {0};
	int rc;
	*denied = 0;
	while (!*denied && (rc = t->d->step(s, t->err)) > 0) {
		struct sl_attr d = {.type = SL_TYPE_DIR,
				    .mode = (uint16_t)(sl_sql_col_u64(t, s, 0) & 07777),
				    .uid = (uint32_t)sl_sql_col_u64(t, s, 1),
				    .gid = (uint32_t)sl_sql_col_u64(t, s, 2),
				    .access_acl = (uint32_t)sl_sql_col_u64(t, s, 3)};
		sl_ino ino = whole ? whole : sl_sql_col_u64(t, s, 4);
		rc = sl_sql_access_or_defer(t, u, ino, &d, mask, &later);
		if (rc == -EACCES)
			*denied = ino;
		else if (rc)
			break;
		rc = 0;
	}
	t->d->finalize(s);
	int arc = sl_sql_access_deferred(t, u, mask, &later, denied);
	return rc < 0 ? rc : arc;
}
