/* conf.c - the key/value configuration of a volume (see conf.h, keys in conf_keys.h). */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_keys.h"

struct conf_key {
	const char *key;
	const char *def;
	int is_size;
};

static const struct conf_key known_keys[] = {
#define SL_KEY_ROW(k, d, size, client, desc) {k, d, size},
	SL_CONF_KEYS(SL_KEY_ROW)
#undef SL_KEY_ROW
};

struct sl_conf {
	size_t n;
	char **keys;
	char **values;
};

static const struct conf_key *find_key(const char *key)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++) {
		const char *k = known_keys[i].key;
		size_t n = strlen(k);
		/* "prefix.*" declares a family of keys, such as proxyuser.<user>.hosts */
		if (n > 2 && k[n - 1] == '*' ? !strncmp(k, key, n - 1) && key[n - 1] : !strcmp(k, key))
			return &known_keys[i];
	}
	return NULL;
}

int sl_conf_new(const char *const *keys, const char *const *values, size_t n, struct sl_conf **out)
{
	struct sl_conf *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->keys = calloc(n ? n : 1, sizeof(char *));
	c->values = calloc(n ? n : 1, sizeof(char *));
	if (!c->keys || !c->values)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		c->keys[i] = strdup(keys[i] ? keys[i] : "");
		c->values[i] = strdup(values[i] ? values[i] : "");
		c->n = i + 1;
		if (!c->keys[i] || !c->values[i])
			goto nomem;
	}
	*out = c;
	return 0;
nomem:
	sl_conf_free(c);
	return -ENOMEM;
}

void sl_conf_free(struct sl_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	free(c);
}

const char *sl_conf_str(const struct sl_conf *c, const char *key)
{
	for (size_t i = c ? c->n : 0; i-- > 0;)
		if (!strcmp(c->keys[i], key))
			return c->values[i];
	const struct conf_key *k = find_key(key);
	return k ? k->def : NULL;
}

int sl_conf_u64(const struct sl_conf *c, const char *key, uint64_t *out, struct sl_err *err)
{
	const char *v = sl_conf_str(c, key);
	if (!v || !*v)
		return sl_errf(err, -EINVAL, "config key '%s' has no value", key);
	const struct conf_key *k = find_key(key);
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v || errno || *v == '-')
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is not a number", key, v);
	uint64_t mult = 1;
	if (*end && k && k->is_size) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mult = 1ULL << 10; break;
		case 'm': mult = 1ULL << 20; break;
		case 'g': mult = 1ULL << 30; break;
		case 't': mult = 1ULL << 40; break;
		default: mult = 0;
		}
		end++;
		if (*end == 'b' || *end == 'B' || *end == 'i')
			end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	}
	if (*end || !mult)
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is not a valid %s", key, v,
			       k && k->is_size ? "size (e.g. 64M)" : "number");
	if (x > UINT64_MAX / mult)
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is too large", key, v);
	*out = (uint64_t)x * mult;
	return 0;
}

int sl_conf_double(const struct sl_conf *c, const char *key, double *out, struct sl_err *err)
{
	const char *v = sl_conf_str(c, key);
	if (!v || !*v)
		return sl_errf(err, -EINVAL, "config key '%s' has no value", key);
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !(x >= 0) || x > 1e15)
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is not a non-negative number",
			       key, v);
	*out = x;
	return 0;
}

int sl_conf_bool(const struct sl_conf *c, const char *key, bool *out, struct sl_err *err)
{
	const char *v = sl_conf_str(c, key);
	if (!v)
		return sl_errf(err, -EINVAL, "config key '%s' has no value", key);
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
		*out = false;
	else
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is not true or false", key, v);
	return 0;
}

bool sl_conf_entry(const struct sl_conf *c, size_t i, const char **key, const char **value)
{
	if (!c || i >= c->n)
		return false;
	*key = c->keys[i];
	*value = c->values[i];
	return true;
}

int sl_conf_check_keys(const struct sl_conf *c, struct sl_err *err)
{
	for (size_t i = 0; i < c->n; i++)
		if (!find_key(c->keys[i]))
			return sl_errf(err, -EINVAL, "unknown config key '%s'", c->keys[i]);
	return 0;
}
