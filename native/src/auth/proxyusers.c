/*
 * proxyusers.c - Hadoop's proxy users on the gateway (DefaultImpersonationProvider with
 * MachineList): who may act for whom, from where. Parsed once into an immutable object.
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
 * Proxy users (Hadoop's DefaultImpersonationProvider with MachineList)
 *
 * proxyuser.<real>.users / .groups: who <real> may act for ("*" in either: anyone); without either
 * key, nobody. proxyuser.<real>.hosts: where <real> must connect from ("*": anywhere); without it,
 * nowhere. Hosts are IPv4/IPv6 addresses, CIDR ranges (both families) or host names; we resolve
 * names to addresses here, once, where Hadoop resolves the client's address back to a name on
 * every check. IPv4-mapped IPv6 addresses count as their IPv4 address. Acting as oneself is not
 * impersonation and is always allowed (Hadoop's server does not consult the rules then).
 * Stricter than Hadoop: a "*" next to other entries, a malformed CIDR range and a key such as
 * proxyuser.hive.hostz are refused at parse time (Hadoop would take "*" as a literal name there,
 * and ignore the unknown key); user names in keys may contain dots (Hadoop ignores such keys).
 * ============================================================================================== */

struct net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
};

struct proxy_entry {
	char *real;
	bool has_acl, any_user, any_group; /* "*" as users or as groups: anyone */
	char **users, **groups;
	size_t nusers, ngroups;
	bool has_hosts, all_hosts;
	struct net *nets;
	size_t nnets;
};

struct sl_proxy_rules {
	struct proxy_entry *e;
	size_t n;
};

static void entry_clear(struct proxy_entry *e)
{
	free(e->real);
	sl_rules_free_list(e->users, e->nusers);
	sl_rules_free_list(e->groups, e->ngroups);
	free(e->nets);
	memset(e, 0, sizeof(*e));
}

void sl_proxy_rules_free(struct sl_proxy_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		entry_clear(&r->e[i]);
	free(r->e);
	free(r);
}

static bool is_wildcard(const char *v)
{
	const char *s = v ? v : "";
	size_t n = strlen(s);
	sl_rules_trim(&s, &n);
	return n == 1 && *s == '*';
}

/* Parses a numeric address (optionally in brackets, with a %zone) into n with a full prefix;
 * IPv4-mapped IPv6 becomes IPv4. */
static bool parse_addr(const char *s, struct net *n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *zone = strchr(buf, '%');
	if (zone)
		*zone = 0;
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		n->prefix = 32;
		return true;
	}
	if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!memcmp(n->addr, mapped, 12)) {
			memmove(n->addr, n->addr + 12, 4);
			memset(n->addr + 4, 0, 12);
			n->family = AF_INET;
			n->prefix = 32;
		} else {
			n->family = AF_INET6;
			n->prefix = 128;
		}
		return true;
	}
	return false;
}

static bool net_contains(const struct net *net, const struct net *a)
{
	if (net->family != a->family)
		return false;
	int bits = net->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (net->addr[i] != a->addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));
		if ((net->addr[i] & mask) != (a->addr[i] & mask))
			return false;
	}
	return true;
}

static int add_net(struct proxy_entry *e, const struct net *n, size_t *cap)
{
	if (e->nnets == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct net *nn = realloc(e->nets, ncap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		e->nets = nn;
		*cap = ncap;
	}
	e->nets[e->nnets++] = *n;
	return 0;
}

/* Resolves a host name into addresses; a name that does not resolve adds nothing (as Hadoop,
 * which skips it), with a warning. */
static int add_host(struct proxy_entry *e, const char *host, size_t *cap)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	const struct sl_retry_policy policy = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000};
	int e_ai = 0;
	for (int attempt = 0; attempt < policy.max_attempts; attempt++) {
		if (attempt)
			sl_backoff(&policy, attempt);
		e_ai = getaddrinfo(host, NULL, &hints, &res);
		if (e_ai != EAI_AGAIN)
			break;
	}
	if (e_ai) {
		if (e_ai == EAI_MEMORY)
			return -ENOMEM;
		sl_log(NULL, SL_LOG_WARN, "proxyuser.%s.hosts: cannot resolve '%s' (%s); ignoring it",
		       e->real, host, gai_strerror(e_ai));
		return 0;
	}
	int rc = 0;
	for (struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
		char num[INET6_ADDRSTRLEN];
		struct net n;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST))
			continue;
		if (parse_addr(num, &n))
			rc = add_net(e, &n, cap);
	}
	freeaddrinfo(res);
	return rc;
}

static int parse_hosts(struct proxy_entry *e, const char *key, const char *value,
		       struct sl_err *err)
{
	char **items = NULL;
	size_t n = 0, cap = 0;
	int rc = sl_rules_split_list(value, &items, &n);
	if (rc)
		return sl_errf(err, rc, "out of memory parsing %s", key);
	free(e->nets);
	e->nets = NULL;
	e->nnets = 0;
	e->has_hosts = true;
	e->all_hosts = n == 1 && !strcmp(items[0], "*");
	for (size_t i = 0; i < n && !e->all_hosts; i++) {
		const char *h = items[i];
		struct net net;
		if (!strcmp(h, "*")) {
			rc = sl_errf(err, -EINVAL, "%s: '*' must be the only entry", key);
			goto out;
		}
		const char *slash = strchr(h, '/');
		if (slash) {
			char addr[INET6_ADDRSTRLEN + 8];
			size_t alen = (size_t)(slash - h);
			char *end = NULL;
			long prefix = strtol(slash + 1, &end, 10);
			bool ok = alen < sizeof(addr) && isdigit((unsigned char)slash[1]) && !*end;
			if (ok) {
				memcpy(addr, h, alen);
				addr[alen] = 0;
				ok = !strchr(addr, '%') && parse_addr(addr, &net);
			}
			if (ok) {
				/* A mapped IPv6 prefix counts in IPv4 bits. */
				bool mapped = net.family == AF_INET && strchr(addr, ':');
				if (mapped)
					prefix -= 96;
				ok = prefix >= 0 && prefix <= (net.family == AF_INET ? 32 : 128);
			}
			if (!ok) {
				rc = sl_errf(err, -EINVAL, "%s: invalid CIDR range '%s'", key, h);
				goto out;
			}
			net.prefix = (int)prefix;
			rc = add_net(e, &net, &cap);
		} else if (parse_addr(h, &net)) {
			rc = add_net(e, &net, &cap);
		} else {
			rc = add_host(e, h, &cap);
		}
		if (rc) {
			rc = sl_errf(err, rc, "out of memory parsing %s", key);
			goto out;
		}
	}
out:
	sl_rules_free_list(items, n);
	return rc;
}

static int parse_acl_list(char ***list, size_t *n, bool *all, const char *key, const char *value,
			  struct sl_err *err)
{
	sl_rules_free_list(*list, *n);
	*list = NULL;
	*n = 0;
	*all = false;
	if (is_wildcard(value)) {
		*all = true;
		return 0;
	}
	int rc = sl_rules_split_list(value, list, n);
	if (rc)
		return sl_errf(err, rc, "out of memory parsing %s", key);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], "*"))
			return sl_errf(err, -EINVAL, "%s: '*' must be the only entry", key);
	return 0;
}

static struct proxy_entry *find_entry(const struct sl_proxy_rules *r, const char *real,
				      size_t real_len)
{
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->e[i].real) == real_len && !memcmp(r->e[i].real, real, real_len))
			return &r->e[i];
	return NULL;
}

int sl_proxy_rules_parse(const char *const *keys, const char *const *values, size_t n,
			 struct sl_proxy_rules **out, struct sl_err *err)
{
	static const char prefix[] = "proxyuser.";
	int rc = 0;
	size_t cap = 0;
	*out = NULL;
	struct sl_proxy_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return sl_errf(err, -ENOMEM, "out of memory parsing proxy user rules");
	for (size_t i = 0; i < n; i++) {
		const char *key = keys[i];
		const char *value = values[i] ? values[i] : "";
		if (!key || strncmp(key, prefix, sizeof(prefix) - 1))
			continue; /* not ours */
		const char *real = key + sizeof(prefix) - 1;
		const char *dot = strrchr(real, '.');
		const char *kind = dot ? dot + 1 : "";
		bool hosts = !strcmp(kind, "hosts"), users = !strcmp(kind, "users");
		if (!dot || dot == real || !(hosts || users || !strcmp(kind, "groups"))) {
			rc = sl_errf(err, -EINVAL,
				     "invalid proxy user key '%s': expected proxyuser.<user>.hosts, .users or .groups",
				     key);
			goto out;
		}
		size_t real_len = (size_t)(dot - real);
		struct proxy_entry *e = find_entry(r, real, real_len);
		if (!e) {
			if (r->n == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct proxy_entry *ne = realloc(r->e, ncap * sizeof(*ne));
				if (!ne)
					goto oom;
				r->e = ne;
				cap = ncap;
			}
			e = &r->e[r->n];
			memset(e, 0, sizeof(*e));
			e->real = strndup(real, real_len);
			if (!e->real)
				goto oom;
			r->n++;
		}
		/* A key given twice: the later value wins, as in sl_conf. */
		if (hosts) {
			rc = parse_hosts(e, key, value, err);
		} else {
			e->has_acl = true;
			if (users)
				rc = parse_acl_list(&e->users, &e->nusers, &e->any_user, key, value, err);
			else
				rc = parse_acl_list(&e->groups, &e->ngroups, &e->any_group, key, value, err);
		}
		if (rc)
			goto out;
	}
	*out = r;
	r = NULL;
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory parsing proxy user rules");
out:
	sl_proxy_rules_free(r);
	return rc;
}

int sl_proxy_check(const struct sl_proxy_rules *r, const char *real, const char *addr,
		   const char *user, const char *const *groups, size_t ngroups, struct sl_err *err)
{
	if (!real || !user || !addr)
		return sl_errf(err, -EACCES, "proxy user check without a user, real user or address");
	if (!strcmp(real, user))
		return 0;
	const struct proxy_entry *e = r ? find_entry(r, real, strlen(real)) : NULL;
	bool allowed = e && e->has_acl &&
		       (e->any_user || e->any_group || sl_rules_in_list(e->users, e->nusers, user));
	for (size_t i = 0; e && !allowed && i < ngroups; i++)
		allowed = groups[i] && sl_rules_in_list(e->groups, e->ngroups, groups[i]);
	if (!allowed)
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: proxyuser.%s.users/groups do not include %s",
			       real, user, addr, real, user);
	if (!e->has_hosts)
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: proxyuser.%s.hosts is not set",
			       real, user, addr, real);
	if (e->all_hosts)
		return 0;
	struct net a;
	if (!parse_addr(addr, &a))
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: not a numeric address",
			       real, user, addr);
	for (size_t i = 0; i < e->nnets; i++)
		if (net_contains(&e->nets[i], &a))
			return 0;
	return sl_errf(err, -EACCES,
		       "%s is not allowed to impersonate %s from %s: address not in proxyuser.%s.hosts",
		       real, user, addr, real);
}
