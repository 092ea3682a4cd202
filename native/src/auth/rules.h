/*
 * rules.h - who a Kerberos caller is on the gateway, with Hadoop's rules: auth_to_local (principal to
 * short name), proxy users (who may act for whom, from where) and group mapping (static overrides,
 * else the OS). Parsed once from configuration into immutable objects that any thread may query.
 */
#ifndef SL_AUTH_RULES_H
#define SL_AUTH_RULES_H

#include <stddef.h>

#include "util/err.h"

/* ---- auth_to_local (hadoop.security.auth_to_local, KerberosName) ----------------------------- */

struct sl_auth_rules;

/* text: the rules (NULL or "" means "DEFAULT"); default_realm: e.g. "SLUICE.TEST";
 * mechanism: "hadoop" (default) or "mit". -EINVAL with a message naming the bad rule. */
int sl_auth_rules_parse(const char *text, const char *default_realm, const char *mechanism,
			struct sl_auth_rules **out, struct sl_err *err);
/* principal "alice@SLUICE.TEST" or "hive/host.example.com@SLUICE.TEST" -> short name.
 * -EACCES (hadoop mechanism) when no rule applies or the result is not a valid short name
 * (empty, or containing '/' or '@'). -EINVAL for a principal Hadoop calls malformed (three
 * components, empty realm), -ERANGE when the result does not fit in size. */
int sl_auth_rules_map(const struct sl_auth_rules *r, const char *principal, char *out,
		      size_t size, struct sl_err *err);
void sl_auth_rules_free(struct sl_auth_rules *r);

/* ---- proxy users (hadoop.proxyuser.<user>.hosts/users/groups) ------------------------------- */

struct sl_proxy_rules;

/* kv: the config entries "proxyuser.<real>.hosts" / ".users" / ".groups" (values comma-separated,
 * "*" for any; hosts may be IPv4/IPv6 addresses, CIDR ranges, or host names resolved once at parse
 * time). */
int sl_proxy_rules_parse(const char *const *keys, const char *const *values, size_t n,
			 struct sl_proxy_rules **out, struct sl_err *err);
/* May real user `real` connecting from address `addr` (numeric string) act as `user`, whose groups
 * are groups[0..ngroups)? Hadoop's rule: the real user must have a hosts entry that matches AND
 * (users contains user OR groups intersects user's groups). 0 or -EACCES with a message saying
 * which rule refused ("hive is not allowed to impersonate bob from 10.0.0.5"). */
int sl_proxy_check(const struct sl_proxy_rules *r, const char *real, const char *addr,
		   const char *user, const char *const *groups, size_t ngroups, struct sl_err *err);
void sl_proxy_rules_free(struct sl_proxy_rules *r);

/* ---- group mapping (hadoop.user.group.static.mapping.overrides, then the OS) ------------------ */

struct sl_groups;

/* static_overrides: "user1=g1,g2;user2=;" (NULL or "": none). -EINVAL naming the bad entry. */
int sl_groups_new(const char *static_overrides, struct sl_groups **out, struct sl_err *err);
/* Fills names of the user's groups (primary first); *n in/out; strings point into *buf (caller-owned).
 * A user unknown to the OS has no groups (0, *n = 0). -ERANGE when names[] or buf is too small. */
int sl_groups_of(const struct sl_groups *g, const char *user, char *buf, size_t bufsize,
		 const char **names, size_t *n, struct sl_err *err);
void sl_groups_free(struct sl_groups *g);

#endif
