/*
 * conf.h - volume configuration: the key/value pairs given to sluice_init, read through typed
 * getters that reject malformed values with a clear error. Every key and its default is declared
 * once, in conf_keys.h; docs/configuration.md lists the same table.
 */
#ifndef SL_CONF_H
#define SL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sl_conf;

/* Copies the pairs; later duplicates of a key win. */
int sl_conf_new(const char *const *keys, const char *const *values, size_t n, struct sl_conf **out);
void sl_conf_free(struct sl_conf *c);
/* The value set for key, or the key's default from conf_keys.h (NULL if it has none). */
const char *sl_conf_str(const struct sl_conf *c, const char *key);
/* Integers accept suffixes k/K, m/M, g/G (powers of 1024) where the key says it is a size. */
int sl_conf_u64(const struct sl_conf *c, const char *key, uint64_t *out, struct sl_err *err);
/* A non-negative decimal number such as "0.1" or "2.5". */
int sl_conf_double(const struct sl_conf *c, const char *key, double *out, struct sl_err *err);
int sl_conf_bool(const struct sl_conf *c, const char *key, bool *out, struct sl_err *err);
/* The i-th pair as given (to collect families of keys such as proxyuser.*); false past the end. */
bool sl_conf_entry(const struct sl_conf *c, size_t i, const char **key, const char **value);
/* Rejects keys that are not declared in conf_keys.h (a typo must not be silently ignored). */
int sl_conf_check_keys(const struct sl_conf *c, struct sl_err *err);

#endif
