/*
 * idmap.c - mapping between Hadoop's user/group names and the numeric ids JuiceFS stores.
 * Order of lookup: the volume's users/groups files (passwd/group format, so the same files can be
 * shared by every node and by juicefs mounts), then the local system, then the volume's own
 * registry: a name unknown to both gets an id in [2^30, 2^31) starting at a hash of the name,
 * recorded in jfs_setting as "sluice.uid.<id>" = name (or gid), so that every client maps it the
 * same way in both directions. The first client to record an id wins it; a colliding name moves
 * on to the next id. Names resolved here are remembered.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs.h"

struct id_entry {
	char *name;
	uint32_t id;
};

struct id_table {
	struct id_entry *e;
	size_t n, cap;
};

#define REGISTRY_BASE (1u << 30)
#define REGISTRY_PROBES 64

struct sl_idmap {
	pthread_mutex_t lock;
	struct id_table users, groups;
	struct sl_meta *meta; /* the registry; NULL: hash only */
	bool may_record;      /* false for read-only volumes: look up, never add */
	const struct sl_logger *log;
};

static int table_add(struct id_table *t, const char *name, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return 0;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct id_entry *ne = realloc(t->e, nc * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		t->e = ne;
		t->cap = nc;
	}
	t->e[t->n].name = strdup(name);
	if (!t->e[t->n].name)
		return -ENOMEM;
	t->e[t->n++].id = id;
	return 0;
}

static void table_free(struct id_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
}

/* Reads "name:x:id:..." (passwd/group) or "name:id" lines. */
static int load_file(struct id_table *t, const char *path, struct sl_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return sl_errf(err, -errno, "cannot read id mapping file %s: %s", path, strerror(errno));
	char line[1024];
	int rc = 0, lineno = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *fields[4] = {0};
		int nf = 0;
		char *save = NULL;
		for (char *tok = strtok_r(line, ":\n", &save); tok && nf < 4;
		     tok = strtok_r(NULL, ":\n", &save))
			fields[nf++] = tok;
		const char *idstr = nf >= 3 ? fields[2] : nf == 2 ? fields[1] : NULL;
		char *end;
		unsigned long id = idstr ? strtoul(idstr, &end, 10) : 0;
		if (!idstr || *end || id > UINT32_MAX)
			rc = sl_errf(err, -EINVAL, "%s:%d: expected name:x:id or name:id", path, lineno);
		else
			rc = table_add(t, fields[0], (uint32_t)id);
	}
	fclose(f);
	return rc;
}

int sl_idmap_new(const char *users_file, const char *groups_file, struct sl_meta *meta,
		 bool may_record, const struct sl_logger *log, struct sl_idmap **out,
		 struct sl_err *err)
{
	struct sl_idmap *m = calloc(1, sizeof(*m));
	if (!m)
		return sl_errf(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&m->lock, NULL);
	m->meta = meta;
	m->may_record = may_record;
	m->log = log;
	int rc = 0;
	if (users_file && *users_file)
		rc = load_file(&m->users, users_file, err);
	if (!rc && groups_file && *groups_file)
		rc = load_file(&m->groups, groups_file, err);
	if (rc) {
		sl_idmap_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void sl_idmap_free(struct sl_idmap *m)
{
	if (!m)
		return;
	table_free(&m->users);
	table_free(&m->groups);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static uint32_t name_hash_id(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return REGISTRY_BASE | (h & (REGISTRY_BASE - 1));
}

static void registry_key(char *buf, size_t size, bool user, uint32_t id)
{
	snprintf(buf, size, "sluice.%s.%u", user ? "uid" : "gid", id);
}

/* The registry's id for name, recording one if the name has none yet. */
static uint32_t registry_id(struct sl_idmap *m, const char *name, bool user)
{
	uint32_t id = name_hash_id(name);
	if (!m->meta)
		return id;
	struct sl_err err = {0};
	for (int probe = 0; probe < REGISTRY_PROBES;) {
		char key[64], *value = NULL;
		registry_key(key, sizeof(key), user, id);
		int rc = sl_meta_get_setting(m->meta, key, &value, &err);
		if (rc == -ENOENT && !m->may_record)
			return name_hash_id(name);
		if (rc == -ENOENT)
			rc = sl_meta_add_setting(m->meta, key, name, &err);
		if (rc == -EEXIST)
			continue; /* someone recorded this id just now: read who */
		if (rc)
			break;
		bool mine = !value || !strcmp(value, name);
		free(value);
		if (mine)
			return id;
		id = REGISTRY_BASE | ((id + 1) & (REGISTRY_BASE - 1));
		probe++;
	}
	sl_log(m->log, SL_LOG_WARN, "cannot record an id for %s '%s' (%s); using %u unrecorded",
	       user ? "user" : "group", name, err.msg[0] ? err.msg : "too many collisions",
	       name_hash_id(name));
	return name_hash_id(name);
}

static uint32_t lookup_id(struct sl_idmap *m, struct id_table *t, const char *name, bool user)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name)) {
			uint32_t id = t->e[i].id;
			pthread_mutex_unlock(&m->lock);
			return id;
		}
	pthread_mutex_unlock(&m->lock);

	uint32_t id;
	char buf[4096];
	if (user) {
		struct passwd pw, *res = NULL;
		id = getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res ? res->pw_uid
								 : registry_id(m, name, true);
	} else {
		struct group gr, *res = NULL;
		id = getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res ? res->gr_gid
								 : registry_id(m, name, false);
	}
	pthread_mutex_lock(&m->lock);
	table_add(t, name, id); /* on ENOMEM we just do not remember it */
	pthread_mutex_unlock(&m->lock);
	return id;
}

uint32_t sl_idmap_uid(struct sl_idmap *m, const char *user) { return lookup_id(m, &m->users, user, true); }

uint32_t sl_idmap_gid(struct sl_idmap *m, const char *group)
{
	return lookup_id(m, &m->groups, group, false);
}

static void lookup_name(struct sl_idmap *m, struct id_table *t, uint32_t id, bool user, char *out,
			size_t size)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].id == id) {
			snprintf(out, size, "%s", t->e[i].name);
			pthread_mutex_unlock(&m->lock);
			return;
		}
	pthread_mutex_unlock(&m->lock);
	char buf[4096];
	const char *name = NULL;
	if (user) {
		struct passwd pw, *res = NULL;
		if (getpwuid_r(id, &pw, buf, sizeof(buf), &res) == 0 && res)
			name = res->pw_name;
	} else {
		struct group gr, *res = NULL;
		if (getgrgid_r(id, &gr, buf, sizeof(buf), &res) == 0 && res)
			name = res->gr_name;
	}
	char *recorded = NULL;
	if (!name && m->meta && id >= REGISTRY_BASE && id < 2 * REGISTRY_BASE) {
		char key[64];
		struct sl_err err = {0};
		registry_key(key, sizeof(key), user, id);
		if (!sl_meta_get_setting(m->meta, key, &recorded, &err))
			name = recorded;
	}
	if (name) {
		snprintf(out, size, "%s", name);
		pthread_mutex_lock(&m->lock);
		table_add(t, name, id);
		pthread_mutex_unlock(&m->lock);
	} else {
		snprintf(out, size, "%u", id);
	}
	free(recorded);
}

void sl_idmap_user_name(struct sl_idmap *m, uint32_t uid, char *buf, size_t size)
{
	lookup_name(m, &m->users, uid, true, buf, size);
}

void sl_idmap_group_name(struct sl_idmap *m, uint32_t gid, char *buf, size_t size)
{
	lookup_name(m, &m->groups, gid, false, buf, size);
}

void sl_vol_user(struct sl_volume_core *v, const sluice_user *u, struct sl_meta_user *out)
{
	memset(out, 0, sizeof(*out));
	const char *name = u && u->name && *u->name ? u->name : v->default_user;
	out->uid = sl_idmap_uid(v->ids, name);
	/* only a name the caller gave: without one, a gateway acts as the authenticated principal */
	out->name = u && u->name && *u->name ? u->name : NULL;
	out->superuser = !strcmp(name, v->superuser);
	size_t ng = u && u->groups ? u->ngroups : 0;
	for (size_t i = 0; i < ng && out->ngids < SL_MAX_GROUPS; i++) {
		if (!u->groups[i])
			continue;
		out->gids[out->ngids++] = sl_idmap_gid(v->ids, u->groups[i]);
		if (!strcmp(u->groups[i], v->supergroup))
			out->superuser = true;
	}
	if (out->ngids == 0) { /* no groups given: a group named like the user, as Hadoop does */
		out->gids[0] = sl_idmap_gid(v->ids, name);
		out->ngids = 1;
	}
	/* Through a gateway, the gateway checks every operation as the acting user with its own
	 * groups and superusers; the flag is never sent, it only turns this client's checks off. */
	if (v->meta && (sl_meta_caps(v->meta) & SL_META_CAP_SERVER_CHECKS))
		out->superuser = true;
}

int sl_held_user_set(struct sl_held_user *h, const struct sl_meta_user *u)
{
	h->mu = *u;
	h->name = u->name ? strdup(u->name) : NULL;
	h->mu.name = h->name;
	return u->name && !h->name ? -ENOMEM : 0;
}

void sl_held_user_clear(struct sl_held_user *h)
{
	free(h->name);
	h->name = NULL;
	h->mu.name = NULL;
}
