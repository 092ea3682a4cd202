/*
 * conf.c - configuration of libsluice-hdfs: core-site.xml (parsed with expat), the settings a
 * volume gets from it (sluice.VOLUME.K over sluice.K, as the Java FileSystem maps them), and the
 * per-process registry that shares one sluice_volume between connections with the same volume
 * and settings (reference counted, under one mutex; the volume itself is thread-safe).
 */
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../util/conf_keys.h"

int hd_conf_set(struct hd_conf *c, const char *key, const char *val)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->keys[i], key)) {
			char *v = val ? strdup(val) : NULL;
			if (val && !v)
				return -ENOMEM;
			free(c->vals[i]);
			c->vals[i] = v;
			return 0;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **k = realloc(c->keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		c->keys = k;
		char **v = realloc(c->vals, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->vals = v;
		c->cap = cap;
	}
	c->keys[c->n] = strdup(key);
	c->vals[c->n] = val ? strdup(val) : NULL;
	if (!c->keys[c->n] || (val && !c->vals[c->n])) {
		free(c->keys[c->n]);
		free(c->vals[c->n]);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

/* NULL when unset or set to no value. */
const char *hd_conf_get(const struct hd_conf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key))
			return c->vals[i];
	return NULL;
}

void hd_conf_free(struct hd_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->vals[i]);
	}
	free(c->keys);
	free(c->vals);
	memset(c, 0, sizeof(*c));
}

/* ---- core-site.xml -------------------------------------------------------------------------
 * <configuration><property><name>K</name><value>V</value></property>...</configuration>; the
 * text of name and value is trimmed, as Hadoop's Configuration trims names (and getTrimmed values). */
struct site_parse {
	struct hd_conf *conf;
	int depth;
	int field; /* 0 none, 1 name, 2 value */
	char name[1024];
	size_t name_len;
	char *value;
	size_t value_len, value_cap;
	bool have_value;
	int rc;
};

static void site_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
	(void)attr;
	struct site_parse *p = ud;
	p->depth++;
	if (p->depth == 2 && !strcmp(el, "property")) {
		p->name_len = 0;
		p->value_len = 0;
		p->have_value = false;
	} else if (p->depth == 3 && !strcmp(el, "name")) {
		p->field = 1;
	} else if (p->depth == 3 && !strcmp(el, "value")) {
		p->field = 2;
		p->have_value = true;
	}
}

static char *trim(char *s, size_t len)
{
	s[len] = 0;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static void site_end(void *ud, const XML_Char *el)
{
	struct site_parse *p = ud;
	if (p->depth == 3)
		p->field = 0;
	if (p->depth == 2 && !strcmp(el, "property") && p->name_len) {
		char *name = trim(p->name, p->name_len);
		char *value = p->have_value && p->value ? trim(p->value, p->value_len) : NULL;
		if (*name && hd_conf_set(p->conf, name, value ? value : "") < 0)
			p->rc = -ENOMEM;
	}
	p->depth--;
}

static void site_text(void *ud, const XML_Char *s, int len)
{
	struct site_parse *p = ud;
	if (p->field == 1) {
		size_t n = (size_t)len;
		if (p->name_len + n >= sizeof(p->name))
			n = sizeof(p->name) - 1 - p->name_len;
		memcpy(p->name + p->name_len, s, n);
		p->name_len += n;
	} else if (p->field == 2) {
		if (p->value_len + (size_t)len + 1 > p->value_cap) {
			size_t cap = (p->value_len + (size_t)len + 1) * 2;
			char *v = realloc(p->value, cap);
			if (!v) {
				p->rc = -ENOMEM;
				return;
			}
			p->value = v;
			p->value_cap = cap;
		}
		memcpy(p->value + p->value_len, s, (size_t)len);
		p->value_len += (size_t)len;
	}
}

int hd_conf_load_site(struct hd_conf *c)
{
	char path[4096];
	const char *dir = getenv("HADOOP_CONF_DIR");
	if (dir && *dir) {
		snprintf(path, sizeof(path), "%s/core-site.xml", dir);
	} else {
		const char *home = getenv("HADOOP_HOME");
		if (!home || !*home)
			return 0;
		snprintf(path, sizeof(path), "%s/etc/hadoop/core-site.xml", home);
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : hd_fail(errno, "cannot read %s: %s", path, strerror(errno));
	XML_Parser xp = XML_ParserCreate(NULL);
	if (!xp) {
		fclose(f);
		return hd_fail(ENOMEM, "out of memory parsing %s", path);
	}
	struct site_parse p = {.conf = c};
	XML_SetUserData(xp, &p);
	XML_SetElementHandler(xp, site_start, site_end);
	XML_SetCharacterDataHandler(xp, site_text);
	char buf[16384];
	int rc = 0;
	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);
		int done = n < sizeof(buf);
		if (XML_Parse(xp, buf, (int)n, done) == XML_STATUS_ERROR) {
			rc = hd_fail(EINVAL, "%s: line %lu: %s", path,
				     (unsigned long)XML_GetCurrentLineNumber(xp),
				     XML_ErrorString(XML_GetErrorCode(xp)));
			break;
		}
		if (p.rc) {
			rc = hd_fail(-p.rc, "cannot parse %s: %s", path, strerror(-p.rc));
			break;
		}
		if (done)
			break;
	}
	XML_ParserFree(xp);
	free(p.value);
	fclose(f);
	return rc;
}

/* ---- volumes ------------------------------------------------------------------------------ */

/* The native keys a connection may take from configuration: the client ones of conf_keys.h
 * (NULL in place of the others). */
#define HD_CLIENT_KEY(key, def, size, client, desc) (client) ? key : NULL,
static const char *const native_keys[] = {SL_CONF_KEYS(HD_CLIENT_KEY)};
#undef HD_CLIENT_KEY
#define NKEYS (sizeof(native_keys) / sizeof(native_keys[0]))

struct hd_shared {
	char *key; /* volume name, then "\n" key "=" value for each setting */
	sluice_volume *vol;
	int refs;
	bool registered;
	struct hd_shared *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hd_shared *registry;

struct hd_shared *hd_volume_acquire(const char *volume, const struct hd_conf *conf, bool force_new,
				    const char *ccache)
{
	sluice_kv kv[NKEYS];
	size_t n = 0;
	size_t keylen = strlen(volume) + 1;
	char hk[512];
	for (size_t i = 0; i < NKEYS; i++) {
		if (!native_keys[i])
			continue;
		snprintf(hk, sizeof(hk), "sluice.%s.%s", volume, native_keys[i]);
		const char *v = hd_conf_get(conf, hk);
		if (!v) {
			snprintf(hk, sizeof(hk), "sluice.%s", native_keys[i]);
			v = hd_conf_get(conf, hk);
		}
		if (!v && !strcmp(native_keys[i], "kerberos.ccache"))
			v = ccache && *ccache ? ccache
					      : hd_conf_get(conf, "hadoop.security.kerberos.ticket.cache.path");
		if (!v || !*v)
			continue;
		kv[n++] = (sluice_kv){native_keys[i], v};
		keylen += strlen(native_keys[i]) + strlen(v) + 2;
	}
	bool have_meta = false;
	for (size_t i = 0; i < n; i++)
		have_meta |= !strcmp(kv[i].key, "meta");
	if (!have_meta) {
		hd_fail(EINVAL,
			"no META-URL for sluice volume '%s': set sluice.%s.meta or sluice.meta in "
			"core-site.xml or with hdfsBuilderConfSetStr",
			volume, volume);
		return NULL;
	}
	char *key = malloc(keylen + 1);
	if (!key) {
		hd_fail(ENOMEM, "out of memory");
		return NULL;
	}
	char *p = key + sprintf(key, "%s", volume);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "\n%s=%s", kv[i].key, kv[i].value);

	pthread_mutex_lock(&registry_lock);
	if (!force_new) {
		for (struct hd_shared *s = registry; s; s = s->next) {
			if (!strcmp(s->key, key)) {
				s->refs++;
				pthread_mutex_unlock(&registry_lock);
				free(key);
				return s;
			}
		}
	}
	/* Opening under the lock keeps two first connections from opening two volumes; connecting
	 * is rare next to the work done on a connection. */
	struct hd_shared *s = calloc(1, sizeof(*s));
	char err[1024] = "";
	int rc = s ? sluice_init(kv, n, &s->vol, err, sizeof(err)) : -ENOMEM;
	if (rc < 0) {
		pthread_mutex_unlock(&registry_lock);
		hd_fail(-rc, "cannot open sluice volume '%s': %s", volume,
			*err ? err : strerror(-rc));
		free(s);
		free(key);
		return NULL;
	}
	s->key = key;
	s->refs = 1;
	if (!force_new) {
		s->registered = true;
		s->next = registry;
		registry = s;
	}
	pthread_mutex_unlock(&registry_lock);
	return s;
}

sluice_volume *hd_volume_handle(struct hd_shared *s)
{
	return s->vol;
}

int hd_volume_release(struct hd_shared *s)
{
	pthread_mutex_lock(&registry_lock);
	if (--s->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return 0;
	}
	if (s->registered) {
		for (struct hd_shared **pp = &registry; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&registry_lock);
	int rc = sluice_shutdown(s->vol);
	free(s->key);
	free(s);
	return rc;
}
