/*
 * acl.c - POSIX ACL rules in JuiceFS's form and HDFS's ACL changes on them (see acl.h).
 */
#include "acl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get32(const uint8_t *p);

void sl_acl_init(struct sl_acl *a)
{
	memset(a, 0, sizeof(*a));
	a->owner = a->group = a->mask = a->other = SL_ACL_UNSET;
}

bool sl_acl_minimal(const struct sl_acl *a)
{
	return !a->nusers && !a->ngroups && a->mask == SL_ACL_UNSET;
}

static bool entries_equal(const struct sl_acl_entry *a, const struct sl_acl_entry *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].id != b[i].id || a[i].perm != b[i].perm)
			return false;
	return true;
}

bool sl_acl_equal(const struct sl_acl *a, const struct sl_acl *b)
{
	return a->owner == b->owner && a->group == b->group && a->mask == b->mask &&
	       a->other == b->other && a->nusers == b->nusers && a->ngroups == b->ngroups &&
	       entries_equal(a->users, b->users, a->nusers) &&
	       entries_equal(a->groups, b->groups, a->ngroups);
}

void sl_acl_encode_entries(const struct sl_acl_entry *e, uint32_t n, uint8_t *out)
{
	for (uint32_t i = 0; i < n; i++, out += SL_ACL_ENTRY_BYTES) {
		out[0] = (uint8_t)(e[i].id >> 24);
		out[1] = (uint8_t)(e[i].id >> 16);
		out[2] = (uint8_t)(e[i].id >> 8);
		out[3] = (uint8_t)e[i].id;
		out[4] = (uint8_t)(e[i].perm >> 8);
		out[5] = (uint8_t)e[i].perm;
	}
}

static int by_id(const void *x, const void *y)
{
	const struct sl_acl_entry *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

bool sl_acl_decode_entries(const uint8_t *buf, size_t len, struct sl_acl_entry *e, uint32_t *n)
{
	if (len % SL_ACL_ENTRY_BYTES || len / SL_ACL_ENTRY_BYTES > SL_ACL_MAX_NAMED)
		return false;
	*n = (uint32_t)(len / SL_ACL_ENTRY_BYTES);
	for (uint32_t i = 0; i < *n; i++, buf += SL_ACL_ENTRY_BYTES) {
		e[i].id = get32(buf);
		e[i].perm = (uint16_t)(buf[4] << 8 | buf[5]);
	}
	qsort(e, *n, sizeof(*e), by_id);
	return true;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t sl_acl_encode(const struct sl_acl *a, uint8_t *out)
{
	uint8_t *p = out;
	const uint16_t base[] = {a->owner, a->group, a->mask, a->other};
	for (int i = 0; i < 4; i++, p += 2) {
		p[0] = (uint8_t)(base[i] >> 8);
		p[1] = (uint8_t)base[i];
	}
	p = put32(p, a->nusers);
	sl_acl_encode_entries(a->users, a->nusers, p);
	p += a->nusers * SL_ACL_ENTRY_BYTES;
	p = put32(p, a->ngroups);
	sl_acl_encode_entries(a->groups, a->ngroups, p);
	p += a->ngroups * SL_ACL_ENTRY_BYTES;
	return (size_t)(p - out);
}

bool sl_acl_decode(const uint8_t *buf, size_t len, struct sl_acl *a)
{
	sl_acl_init(a);
	if (len < 12)
		return false;
	a->owner = (uint16_t)(buf[0] << 8 | buf[1]);
	a->group = (uint16_t)(buf[2] << 8 | buf[3]);
	a->mask = (uint16_t)(buf[4] << 8 | buf[5]);
	a->other = (uint16_t)(buf[6] << 8 | buf[7]);
	size_t off = 8;
	for (int k = 0; k < 2; k++) {
		if (len - off < 4)
			return false;
		uint32_t n = get32(buf + off);
		off += 4;
		if (n > SL_ACL_MAX_NAMED || (len - off) / SL_ACL_ENTRY_BYTES < n)
			return false;
		size_t bytes = (size_t)n * SL_ACL_ENTRY_BYTES;
		if (!sl_acl_decode_entries(buf + off, bytes, k ? a->groups : a->users,
					   k ? &a->ngroups : &a->nusers))
			return false;
		off += bytes;
	}
	return off == len;
}

void sl_acl_spec_encode(const struct sl_acl_spec *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++, out += SL_ACL_SPEC_BYTES) {
		out[0] = s[i].scope;
		out[1] = s[i].type;
		out[2] = s[i].named;
		out[3] = (uint8_t)s[i].perm;
		put32(out + 4, s[i].id);
	}
}

bool sl_acl_spec_decode(const uint8_t *buf, size_t len, struct sl_acl_spec *s, size_t max,
			size_t *n)
{
	if (len % SL_ACL_SPEC_BYTES || len / SL_ACL_SPEC_BYTES > max)
		return false;
	*n = len / SL_ACL_SPEC_BYTES;
	for (size_t i = 0; i < *n; i++, buf += SL_ACL_SPEC_BYTES)
		s[i] = (struct sl_acl_spec){.scope = buf[0], .type = buf[1], .named = buf[2] != 0,
					    .perm = buf[3], .id = get32(buf + 4)};
	return true;
}

uint16_t sl_acl_mode(const struct sl_acl *a)
{
	uint16_t g = sl_acl_minimal(a) ? a->group : a->mask;
	return (uint16_t)((a->owner & 7) << 6 | (g & 7) << 3 | (a->other & 7));
}

void sl_acl_set_mode(struct sl_acl *a, uint16_t mode)
{
	a->owner = (uint16_t)((a->owner & 0xFFF8) | ((mode >> 6) & 7));
	if (sl_acl_minimal(a))
		a->group = (uint16_t)((a->group & 0xFFF8) | ((mode >> 3) & 7));
	else
		a->mask = (uint16_t)((a->mask & 0xFFF8) | ((mode >> 3) & 7));
	a->other = (uint16_t)((a->other & 0xFFF8) | (mode & 7));
}

bool sl_acl_allows(const struct sl_acl *a, uint32_t uid, const uint32_t *gids, int ngids,
		   uint32_t fuid, uint32_t fgid, int mask)
{
	mask &= 7;
	if (uid == fuid)
		return ((a->owner & 7) & mask) == mask;
	int m = a->mask & 7;
	for (uint32_t i = 0; i < a->nusers; i++)
		if (a->users[i].id == uid)
			return ((a->users[i].perm & m) & mask) == mask;
	/* POSIX: any matching group entry that grants the access; if some matched but none
	 * grants it, no access (other is not consulted) */
	bool matched = false;
	for (int k = 0; k < ngids; k++) {
		if (gids[k] == fgid) {
			if (((a->group & m) & mask) == mask)
				return true;
			matched = true;
		}
		for (uint32_t i = 0; i < a->ngroups; i++)
			if (a->groups[i].id == gids[k]) {
				if (((a->groups[i].perm & m) & mask) == mask)
					return true;
				matched = true;
			}
	}
	return !matched && ((a->other & 7) & mask) == mask;
}

void sl_acl_inherit(const struct sl_acl *def, uint16_t *mode, bool *has_access,
		    struct sl_acl *access)
{
	if (sl_acl_minimal(def)) {
		*has_access = false;
		*mode = (uint16_t)(*mode & (07000 | sl_acl_mode(def)));
		return;
	}
	*access = *def;
	access->owner = (uint16_t)((*mode >> 6) & 7 & def->owner);
	access->mask = (uint16_t)((*mode >> 3) & 7 & def->mask);
	access->other = (uint16_t)(*mode & 7 & def->other);
	*has_access = true;
	*mode = (uint16_t)((*mode & 07000) | sl_acl_mode(access));
}

/* ---- HDFS's form ----------------------------------------------------------------------------- */

static size_t add(struct sl_acl_spec *out, size_t n, uint8_t scope, uint8_t type, bool named,
		  uint32_t id, uint16_t perm)
{
	out[n] = (struct sl_acl_spec){.scope = scope, .type = type, .named = named,
				      .id = named ? id : 0, .perm = (uint16_t)(perm & 7)};
	return n + 1;
}

static size_t list_rule(const struct sl_acl *r, uint8_t scope, uint16_t mask, bool with_mask,
			struct sl_acl_spec *out, size_t n)
{
	n = add(out, n, scope, SL_ACL_USER, false, 0, r->owner);
	for (uint32_t i = 0; i < r->nusers; i++)
		n = add(out, n, scope, SL_ACL_USER, true, r->users[i].id, r->users[i].perm);
	n = add(out, n, scope, SL_ACL_GROUP, false, 0, r->group);
	for (uint32_t i = 0; i < r->ngroups; i++)
		n = add(out, n, scope, SL_ACL_GROUP, true, r->groups[i].id, r->groups[i].perm);
	if (with_mask)
		n = add(out, n, scope, SL_ACL_MASK, false, 0, mask);
	return add(out, n, scope, SL_ACL_OTHER, false, 0, r->other);
}

size_t sl_acl_list(const struct sl_acl_state *s, struct sl_acl_spec *out)
{
	size_t n = 0;
	if (s->has_access) { /* the mask is in the permission bits, as HDFS keeps it */
		struct sl_acl r = s->access;
		r.owner = (s->mode >> 6) & 7;
		r.other = s->mode & 7;
		n = list_rule(&r, SL_ACL_ACCESS, (s->mode >> 3) & 7, true, out, n);
	} else {
		n = add(out, n, SL_ACL_ACCESS, SL_ACL_USER, false, 0, s->mode >> 6);
		n = add(out, n, SL_ACL_ACCESS, SL_ACL_GROUP, false, 0, s->mode >> 3);
		n = add(out, n, SL_ACL_ACCESS, SL_ACL_OTHER, false, 0, s->mode);
	}
	if (s->has_default)
		n = list_rule(&s->def, SL_ACL_DEFAULT, s->def.mask,
			      s->def.mask != SL_ACL_UNSET, out, n);
	return n;
}

static int cmp_key(const struct sl_acl_spec *a, const struct sl_acl_spec *b)
{
	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->named != b->named)
		return a->named ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_entries(const void *x, const void *y)
{
	return cmp_key(x, y);
}

static const struct sl_acl_spec *find(const struct sl_acl_spec *l, size_t n,
				      const struct sl_acl_spec *key)
{
	for (size_t i = 0; i < n; i++)
		if (!cmp_key(&l[i], key))
			return &l[i];
	return NULL;
}

static int invalid(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The entries being built, with what HDFS tracks for its masks, per scope. */
struct builder {
	struct sl_acl_spec e[SL_ACL_MAX_LIST + 8];
	size_t n;
	bool has_mask[2], mask_dirty[2], scope_dirty[2];
	struct sl_acl_spec mask[2];
};

static void keep(struct builder *b, const struct sl_acl_spec *e)
{
	if (b->n < sizeof(b->e) / sizeof(b->e[0]))
		b->e[b->n++] = *e;
}

static void provide_mask(struct builder *b, const struct sl_acl_spec *e, bool dirty)
{
	b->has_mask[e->scope] = true;
	b->mask[e->scope] = *e;
	if (dirty)
		b->mask_dirty[e->scope] = true;
}

/* A default ACL lacking base entries takes them from the access ACL (HDFS's
 * copyDefaultsIfNeeded). */
static void copy_defaults(struct builder *b)
{
	bool any = false;
	for (size_t i = 0; i < b->n; i++)
		any |= b->e[i].scope == SL_ACL_DEFAULT;
	if (!any)
		return;
	static const uint8_t base[] = {SL_ACL_USER, SL_ACL_GROUP, SL_ACL_OTHER};
	for (size_t k = 0; k < sizeof(base); k++) {
		struct sl_acl_spec key = {.scope = SL_ACL_DEFAULT, .type = base[k]};
		if (find(b->e, b->n, &key))
			continue;
		key.scope = SL_ACL_ACCESS;
		const struct sl_acl_spec *a = find(b->e, b->n, &key);
		if (a) {
			struct sl_acl_spec d = *a;
			d.scope = SL_ACL_DEFAULT;
			keep(b, &d);
		}
	}
}

/* HDFS's calculateMasks. */
static int calculate_masks(struct builder *b, char *why, size_t size)
{
	bool found[2] = {false, false}, needed[2] = {false, false};
	uint16_t un[2] = {0, 0};
	for (size_t i = 0; i < b->n; i++) {
		const struct sl_acl_spec *e = &b->e[i];
		found[e->scope] = true;
		if (e->type == SL_ACL_GROUP || e->named)
			un[e->scope] |= e->perm;
		if (e->named)
			needed[e->scope] = true;
	}
	for (int s = 0; s < 2; s++) {
		if (!found[s])
			continue;
		if (!b->has_mask[s] && needed[s] && b->mask_dirty[s])
			return invalid(why, size, "Invalid ACL: mask is required and cannot be "
				       "deleted.");
		struct sl_acl_spec m = {.scope = (uint8_t)s, .type = SL_ACL_MASK, .perm = un[s]};
		if (b->has_mask[s] && (!b->scope_dirty[s] || b->mask_dirty[s]))
			keep(b, &b->mask[s]);
		else if (needed[s] || b->has_mask[s])
			keep(b, &m);
	}
	return 0;
}

/* HDFS's buildAndValidateAcl. */
static int validate(struct builder *b, bool dir, char *why, size_t size)
{
	if (b->n > SL_ACL_MAX_ENTRIES)
		return invalid(why, size, "Invalid ACL: ACL has %zu entries, which exceeds maximum "
			       "of %d.", b->n, SL_ACL_MAX_ENTRIES);
	qsort(b->e, b->n, sizeof(b->e[0]), cmp_entries);
	bool found[2] = {false, false}, base[2][4] = {{false}};
	for (size_t i = 0; i < b->n; i++) {
		const struct sl_acl_spec *e = &b->e[i];
		if (i && !cmp_key(&b->e[i - 1], e))
			return invalid(why, size, "Invalid ACL: multiple entries with same scope, "
				       "type and name.");
		if (e->named && (e->type == SL_ACL_MASK || e->type == SL_ACL_OTHER))
			return invalid(why, size, "Invalid ACL: this entry type must not have a "
				       "name: %s", e->type == SL_ACL_MASK ? "mask" : "other");
		found[e->scope] = true;
		if (!e->named)
			base[e->scope][e->type] = true;
	}
	for (int s = 0; s < 2; s++)
		if (found[s] && !(base[s][SL_ACL_USER] && base[s][SL_ACL_GROUP] &&
				  base[s][SL_ACL_OTHER]))
			return invalid(why, size, "Invalid ACL: the user, group and other entries "
				       "are required.");
	if (found[SL_ACL_DEFAULT] && !dir)
		return invalid(why, size, "Invalid ACL: only directories may have a default ACL.");
	return 0;
}

/* Turns the validated entries of one scope into a rule; false if there are too many named
 * entries of a kind for one rule. */
static bool to_rule(const struct builder *b, uint8_t scope, struct sl_acl *r, bool *extended)
{
	sl_acl_init(r);
	*extended = false;
	for (size_t i = 0; i < b->n; i++) {
		const struct sl_acl_spec *e = &b->e[i];
		if (e->scope != scope)
			continue;
		if (e->named) {
			*extended = true;
			uint32_t *n = e->type == SL_ACL_USER ? &r->nusers : &r->ngroups;
			struct sl_acl_entry *l = e->type == SL_ACL_USER ? r->users : r->groups;
			if (*n == SL_ACL_MAX_NAMED)
				return false;
			l[(*n)++] = (struct sl_acl_entry){e->id, e->perm};
		} else if (e->type == SL_ACL_USER) {
			r->owner = e->perm;
		} else if (e->type == SL_ACL_GROUP) {
			r->group = e->perm;
		} else if (e->type == SL_ACL_MASK) {
			r->mask = e->perm;
			*extended = true;
		} else {
			r->other = e->perm;
		}
	}
	return true;
}

int sl_acl_change(struct sl_acl_state *s, bool dir, enum sl_acl_op op,
		  const struct sl_acl_spec *spec, size_t n, char *why, size_t why_size)
{
	if (op == SL_ACL_OP_REMOVE) { /* HDFS: the group bits get the group entry's back */
		if (s->has_access)
			s->mode = (uint16_t)((s->mode & ~070) | (s->access.group & 7) << 3);
		s->has_access = s->has_default = false;
		return 0;
	}
	if (n > SL_ACL_MAX_ENTRIES)
		return invalid(why, why_size, "Invalid ACL: ACL spec has %zu entries, which "
			       "exceeds maximum of %d.", n, SL_ACL_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		if (spec[i].scope > SL_ACL_DEFAULT || spec[i].type > SL_ACL_OTHER)
			return invalid(why, why_size, "Invalid ACL: unknown entry scope or type");
		if (find(spec, i, &spec[i]))
			return invalid(why, why_size, "Invalid ACL: the ACL spec contains duplicate "
				       "entries.");
	}
	struct sl_acl_spec old[SL_ACL_MAX_LIST];
	size_t nold = sl_acl_list(s, old);
	struct builder *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	int rc = 0;
	switch (op) {
	case SL_ACL_OP_MODIFY: {
		bool used[SL_ACL_MAX_ENTRIES] = {false};
		for (size_t i = 0; i < nold; i++) {
			const struct sl_acl_spec *e = find(spec, n, &old[i]);
			if (e) {
				used[e - spec] = true;
				b->scope_dirty[e->scope] = true;
			} else {
				e = &old[i];
			}
			if (e->type == SL_ACL_MASK)
				provide_mask(b, e, e != &old[i]);
			else
				keep(b, e);
		}
		for (size_t i = 0; i < n; i++) {
			if (used[i])
				continue;
			b->scope_dirty[spec[i].scope] = true;
			if (spec[i].type == SL_ACL_MASK)
				provide_mask(b, &spec[i], true);
			else
				keep(b, &spec[i]);
		}
		break;
	}
	case SL_ACL_OP_REMOVE_ENTRIES:
		for (size_t i = 0; i < nold; i++) {
			if (find(spec, n, &old[i])) {
				b->scope_dirty[old[i].scope] = true;
				if (old[i].type == SL_ACL_MASK)
					b->mask_dirty[old[i].scope] = true;
			} else if (old[i].type == SL_ACL_MASK) {
				provide_mask(b, &old[i], false);
			} else {
				keep(b, &old[i]);
			}
		}
		break;
	case SL_ACL_OP_SET:
		for (size_t i = 0; i < n; i++) {
			b->scope_dirty[spec[i].scope] = true;
			if (spec[i].type == SL_ACL_MASK)
				provide_mask(b, &spec[i], true);
			else
				keep(b, &spec[i]);
		}
		for (size_t i = 0; i < nold; i++) {
			if (b->scope_dirty[old[i].scope])
				continue;
			if (old[i].type == SL_ACL_MASK)
				provide_mask(b, &old[i], false);
			else
				keep(b, &old[i]);
		}
		break;
	case SL_ACL_OP_REMOVE_DEFAULT:
		for (size_t i = 0; i < nold; i++)
			if (old[i].scope == SL_ACL_ACCESS)
				keep(b, &old[i]);
		break;
	default:
		rc = invalid(why, why_size, "unknown ACL operation %d", (int)op);
	}
	if (!rc && op != SL_ACL_OP_REMOVE_DEFAULT) {
		copy_defaults(b);
		rc = calculate_masks(b, why, why_size);
	}
	if (!rc)
		rc = validate(b, dir, why, why_size);
	struct sl_acl access, def;
	bool access_ext = false, def_ext = false;
	if (!rc && (!to_rule(b, SL_ACL_ACCESS, &access, &access_ext) ||
		    !to_rule(b, SL_ACL_DEFAULT, &def, &def_ext)))
		rc = invalid(why, why_size, "Invalid ACL: more than %d named users or groups",
			     SL_ACL_MAX_NAMED);
	if (!rc) {
		bool has_default = false;
		for (size_t i = 0; i < b->n; i++)
			has_default |= b->e[i].scope == SL_ACL_DEFAULT;
		uint16_t g = access_ext ? access.mask : access.group;
		s->mode = (uint16_t)((s->mode & 07000) | (access.owner & 7) << 6 | (g & 7) << 3 |
				     (access.other & 7));
		s->has_access = access_ext;
		s->access = access;
		s->has_default = has_default;
		s->def = def;
	}
	free(b);
	return rc;
}
