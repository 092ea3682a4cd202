/* rules_internal.h - what the identity rules' files (rules.c, proxyusers.c, groups.c) share. */
#ifndef SL_AUTH_RULES_INTERNAL_H
#define SL_AUTH_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Narrows [*s, *s + *n) to its bounds without leading and trailing whitespace. */
void sl_rules_trim(const char **s, size_t *n);
/* Splits a comma-separated value into trimmed, non-empty items (*out: n strdup'ed strings);
 * 0 or -ENOMEM. */
int sl_rules_split_list(const char *v, char ***out, size_t *n);
void sl_rules_free_list(char **l, size_t n);
bool sl_rules_in_list(char *const *l, size_t n, const char *s);

#endif
