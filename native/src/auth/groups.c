/*
 * groups.c - Hadoop's group mapping on the gateway: the static overrides, else the OS's groups.
 * Parsed once into an immutable object.
 */

#include "rules.h"
#include "rules_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/log.h"
#include "util/retry.h"

/* ================================================================================================
 * Group mapping: hadoop.user.group.static.mapping.overrides ("user1=g1,g2;user2=;"; a user listed
 * there gets exactly those groups, possibly none), else the OS's groups of the user, primary
 * first. Unlike Hadoop we trim spaces around names and refuse an entry with an empty user name
 * or more than one '='; a later entry for the same user wins, as in Hadoop.
 * ============================================================================================== */

struct static_user {
	char *user;
	char **groups;
	size_t ngroups;
};

struct sl_groups {
	struct static_user *u;
	size_t n;
};

void sl_groups_free(struct sl_groups *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->u[i].user);
		sl_rules_free_list(g->u[i].groups, g->u[i].ngroups);
	}
	free(g->u);
	free(g);
}

int sl_groups_new(const char *static_overrides, struct sl_groups **out, struct sl_err *err)
{
	int rc = 0;
	size_t cap = 0;
	*out = NULL;
	struct sl_groups *g = calloc(1, sizeof(*g));
	if (!g)
		return sl_errf(err, -ENOMEM, "out of memory parsing group mapping");
	for (const char *p = static_overrides; p && *p;) {
		size_t len = strcspn(p, ";");
		const char *ent = p;
		size_t elen = len;
		p += len;
		if (*p == ';')
			p++;
		sl_rules_trim(&ent, &elen);
		if (!elen)
			continue;
		const char *eq = memchr(ent, '=', elen);
		const char *user = ent;
		size_t ulen = eq ? (size_t)(eq - ent) : elen;
		sl_rules_trim(&user, &ulen);
		if (!ulen || (eq && memchr(eq + 1, '=', elen - (size_t)(eq + 1 - ent)))) {
			rc = sl_errf(err, -EINVAL,
				     "invalid static group mapping entry '%.*s': expected user=group1,group2",
				     (int)elen, ent);
			goto out;
		}
		if (g->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct static_user *nu = realloc(g->u, ncap * sizeof(*nu));
			if (!nu)
				goto oom;
			g->u = nu;
			cap = ncap;
		}
		struct static_user *su = &g->u[g->n];
		memset(su, 0, sizeof(*su));
		g->n++;
		su->user = strndup(user, ulen);
		if (!su->user)
			goto oom;
		if (eq) {
			char *list = strndup(eq + 1, elen - (size_t)(eq + 1 - ent));
			if (!list)
				goto oom;
			char **items = NULL;
			size_t nitems = 0;
			rc = sl_rules_split_list(list, &items, &nitems);
			free(list);
			if (rc)
				goto oom;
			/* Keep the first of duplicates (Hadoop collects them in a LinkedHashSet). */
			su->groups = items;
			for (size_t i = 0; i < nitems; i++) {
				if (sl_rules_in_list(su->groups, su->ngroups, items[i]))
					free(items[i]);
				else
					su->groups[su->ngroups++] = items[i];
			}
			if (!su->ngroups) {
				free(su->groups);
				su->groups = NULL;
			}
		}
	}
	*out = g;
	g = NULL;
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory parsing group mapping");
out:
	sl_groups_free(g);
	return rc;
}

/* Appends name to the output arrays unless it is there already. */
static int put_group(const char *user, const char *name, char *buf, size_t bufsize, size_t *used,
		     const char **names, size_t cap, size_t *n, struct sl_err *err)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return 0;
	size_t len = strlen(name) + 1;
	if (*n == cap || bufsize - *used < len)
		return sl_errf(err, -ERANGE, "user %s has more groups than fit in %zu names / %zu bytes",
			       user, cap, bufsize);
	memcpy(buf + *used, name, len);
	names[(*n)++] = buf + *used;
	*used += len;
	return 0;
}

static size_t sysconf_size(int name)
{
	long v = sysconf(name);
	return v > 0 ? (size_t)v : 16384;
}

/* getgrgid_r into a growing buffer; *name NULL when the group has no name. */
static int group_name(gid_t gid, char **tmp, size_t *tmpsize, const char **name)
{
	struct group gr, *res = NULL;
	*name = NULL;
	for (;;) {
		int e = getgrgid_r(gid, &gr, *tmp, *tmpsize, &res);
		if (e == ERANGE && *tmpsize < (1u << 24)) {
			char *nt = realloc(*tmp, *tmpsize * 2);
			if (!nt)
				return -ENOMEM;
			*tmp = nt;
			*tmpsize *= 2;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
			return -e;
		if (res)
			*name = res->gr_name;
		return 0;
	}
}

int sl_groups_of(const struct sl_groups *g, const char *user, char *buf, size_t bufsize,
		 const char **names, size_t *n, struct sl_err *err)
{
	size_t cap = *n, used = 0;
	int rc = 0;
	char *tmp = NULL;
	gid_t *gids = NULL;
	*n = 0;
	if (!user || !*user)
		return sl_errf(err, -EINVAL, "group lookup without a user name");

	for (size_t i = g ? g->n : 0; i-- > 0;) {
		const struct static_user *su = &g->u[i];
		if (strcmp(su->user, user))
			continue;
		for (size_t j = 0; j < su->ngroups; j++) {
			rc = put_group(user, su->groups[j], buf, bufsize, &used, names, cap, n, err);
			if (rc) {
				*n = 0;
				return rc;
			}
		}
		return 0;
	}

	size_t tmpsize = sysconf_size(_SC_GETPW_R_SIZE_MAX);
	size_t grsize = sysconf_size(_SC_GETGR_R_SIZE_MAX);
	if (grsize > tmpsize)
		tmpsize = grsize;
	tmp = malloc(tmpsize);
	if (!tmp)
		goto oom;
	struct passwd pw, *pwres = NULL;
	for (;;) {
		int e = getpwnam_r(user, &pw, tmp, tmpsize, &pwres);
		if (e == ERANGE && tmpsize < (1u << 24)) {
			char *nt = realloc(tmp, tmpsize * 2);
			if (!nt)
				goto oom;
			tmp = nt;
			tmpsize *= 2;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM) {
			rc = sl_errf(err, -e, "cannot look up user %s: %s", user, strerror(e));
			goto out;
		}
		break;
	}
	if (!pwres)
		goto out; /* unknown to the OS: no groups */
	gid_t primary = pw.pw_gid;
	int ngids = 32;
	for (;;) {
		gid_t *ng = realloc(gids, (size_t)ngids * sizeof(*ng));
		if (!ng)
			goto oom;
		gids = ng;
		int want = ngids;
		if (getgrouplist(user, primary, gids, &want) >= 0) {
			ngids = want;
			break;
		}
		if (want <= ngids) /* shrank or failed without saying how many: give up growing */
			want = ngids * 2;
		if (want > 65536) {
			rc = sl_errf(err, -ERANGE, "user %s is in too many groups", user);
			goto out;
		}
		ngids = want;
	}
	/* Primary first, then the rest in the order the OS gives them. */
	const char *name = NULL;
	rc = group_name(primary, &tmp, &tmpsize, &name);
	if (rc)
		goto lookup_failed;
	if (name) {
		rc = put_group(user, name, buf, bufsize, &used, names, cap, n, err);
		if (rc)
			goto out;
	}
	for (int i = 0; i < ngids; i++) {
		if (gids[i] == primary)
			continue;
		rc = group_name(gids[i], &tmp, &tmpsize, &name);
		if (rc)
			goto lookup_failed;
		if (!name)
			continue; /* a gid without a name cannot match a group name */
		rc = put_group(user, name, buf, bufsize, &used, names, cap, n, err);
		if (rc)
			goto out;
	}
	goto out;
lookup_failed:
	if (rc == -ENOMEM)
		goto oom;
	rc = sl_errf(err, rc, "cannot look up the groups of user %s: %s", user, strerror(-rc));
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory looking up the groups of user %s", user);
out:
	if (rc)
		*n = 0;
	free(gids);
	free(tmp);
	return rc;
}
