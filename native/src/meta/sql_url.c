/*
 * sql_url.c - the registry of SQL drivers, and what their META-URL parsers share: the split at
 * "://" that picks the driver, %-decoding, and the list of schemes for messages. Each driver
 * parses the rest of its URL in JuiceFS's syntax (sql_driver.h); malformed URLs get a message
 * naming the part.
 */
#include "sql_driver.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The drivers, in the order their schemes are listed in messages. A new driver is its file and
 * a line here. */
const struct sl_sql_driver *const sl_sql_drivers[] = {&sl_sqlite_driver, &sl_mysql_driver, NULL};

void sl_sql_url_free(struct sl_sql_url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->user);
	if (u->password) {
		/* The password should not linger in freed memory. */
		volatile char *p = u->password;
		while (*p)
			*p++ = 0;
		free(u->password);
	}
	free(u->host);
	free(u->socket);
	free(u->database);
	free(u->params);
	memset(u, 0, sizeof(*u));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *sl_sql_url_decode(const char *s, size_t n, bool *bad)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(d);
				*bad = true;
				return NULL;
			}
			d[j++] = (char)(hi * 16 + lo);
			i += 2;
			continue;
		}
		d[j++] = s[i];
	}
	d[j] = 0;
	return d;
}

int sl_sql_url_nomem(struct sl_err *err)
{
	return sl_errf(err, -ENOMEM, "out of memory parsing the META-URL");
}

/* "sqlite3://PATH or mysql://USER:PASSWORD@(HOST:PORT)/DATABASE", from the drivers' examples. */
static void examples(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; sl_sql_drivers[i] && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " or " : "",
					 sl_sql_drivers[i]->url_example);
}

int sl_sql_url_parse(const char *url, struct sl_sql_url *out, struct sl_err *err)
{
	memset(out, 0, sizeof(*out));
	char expected[256];
	examples(expected, sizeof(expected));
	if (!url || !*url)
		return sl_errf(err, -EINVAL, "the META-URL is empty (expected %s)", expected);
	const char *sep = strstr(url, "://");
	int rc;
	if (!sep || sep == url) {
		/* Do not echo the URL: without a scheme we cannot tell where a password would be. */
		rc = sl_errf(err, -EINVAL, "the META-URL has no scheme: expected %s", expected);
		goto out;
	}
	if (!(out->scheme = strndup(url, (size_t)(sep - url)))) {
		rc = sl_sql_url_nomem(err);
		goto out;
	}
	for (size_t i = 0; sl_sql_drivers[i]; i++)
		if (!strcmp(out->scheme, sl_sql_drivers[i]->scheme))
			out->driver = sl_sql_drivers[i];
	if (out->driver) {
		snprintf(out->redacted, sizeof(out->redacted), "%s", url);
		rc = out->driver->parse_url(sep + 3, out, err);
	} else {
		char schemes[128];
		size_t used = 0;
		for (size_t i = 0; sl_sql_drivers[i] && used < sizeof(schemes); i++)
			used += (size_t)snprintf(schemes + used, sizeof(schemes) - used, "%s%s://",
						 i ? ", " : "", sl_sql_drivers[i]->scheme);
		rc = sl_errf(err, -EINVAL, "unsupported META-URL scheme '%.32s://' (supported: %s, "
			     "and gateway:// for a Sluice gateway)", out->scheme, schemes);
	}
out:
	if (rc)
		sl_sql_url_free(out);
	return rc;
}
