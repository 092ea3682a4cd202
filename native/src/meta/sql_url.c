/*
 * sql_url.c - parses META-URLs of the SQL engines in JuiceFS's syntax (see sql_driver.h) into
 * their parts, with a redacted form for messages. Malformed URLs get a message naming the part.
 */
#include "sql_driver.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MYSQL_EXAMPLE "mysql://USER:PASSWORD@(HOST:PORT)/DATABASE"

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

/* Decodes %XX escapes of [s, s+n) into a new string; NULL with *bad set on a broken escape. */
static char *url_decode(const char *s, size_t n, bool *bad)
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

static int nomem(struct sl_err *err)
{
	return sl_errf(err, -ENOMEM, "out of memory parsing the META-URL");
}

static int parse_sqlite(const char *rest, struct sl_sql_url *out, struct sl_err *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (n == 0)
		return sl_errf(err, -EINVAL, "META-URL %s has no database file: expected "
			       "sqlite3://PATH (relative) or sqlite3:///ABSOLUTE/PATH", out->redacted);
	out->database = strndup(rest, n);
	if (!out->database || (q && !(out->params = strdup(q + 1))))
		return nomem(err);
	return 0;
}

/* The address part of a MySQL DSN: "", "(host[:port])", "tcp(host[:port])", "unix(/sock)". */
static int parse_mysql_addr(const char *a, size_t n, struct sl_sql_url *out, struct sl_err *err)
{
	if (n == 0)
		return 0; /* the driver's default host, 127.0.0.1 */
	const char *open = memchr(a, '(', n);
	if (!open || a[n - 1] != ')')
		return sl_errf(err, -EINVAL, "META-URL %s: the server address must be written in "
			       "parentheses, e.g. %s or USER@unix(/path/to.sock)/DATABASE",
			       out->redacted, MYSQL_EXAMPLE);
	size_t netlen = (size_t)(open - a);
	const char *in = open + 1;
	size_t inlen = (size_t)(a + n - 1 - in);
	if (netlen == 4 && !strncmp(a, "unix", 4)) {
		if (inlen == 0)
			return sl_errf(err, -EINVAL, "META-URL %s: unix() needs the socket path",
				       out->redacted);
		if (!(out->socket = strndup(in, inlen)))
			return nomem(err);
		return 0;
	}
	if (!(netlen == 0 || (netlen == 3 && !strncmp(a, "tcp", 3))))
		return sl_errf(err, -EINVAL, "META-URL %s: unknown network '%.*s' (use tcp(HOST:PORT) "
			       "or unix(/path/to.sock))", out->redacted, (int)netlen, a);
	if (inlen == 0)
		return 0;
	const char *hs = in, *he, *colon = NULL;
	if (*in == '[') { /* [ipv6]:port */
		const char *rb = memchr(in, ']', inlen);
		if (!rb)
			return sl_errf(err, -EINVAL, "META-URL %s: unbalanced '[' in the IPv6 address",
				       out->redacted);
		hs = in + 1;
		he = rb;
		if (rb + 1 < in + inlen) {
			if (rb[1] != ':')
				return sl_errf(err, -EINVAL, "META-URL %s: expected ':PORT' after the "
					       "IPv6 address", out->redacted);
			colon = rb + 1;
		}
	} else {
		colon = memchr(in, ':', inlen);
		he = colon ? colon : in + inlen;
	}
	if (he == hs)
		return sl_errf(err, -EINVAL, "META-URL %s: empty host name", out->redacted);
	if (colon) {
		const char *ps = colon + 1, *pe = in + inlen;
		long port = 0;
		if (ps == pe)
			return sl_errf(err, -EINVAL, "META-URL %s: empty port after ':'", out->redacted);
		for (const char *p = ps; p < pe; p++) {
			if (!isdigit((unsigned char)*p) || port > 65535)
				return sl_errf(err, -EINVAL, "META-URL %s: port '%.*s' is not a number",
					       out->redacted, (int)(pe - ps), ps);
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return sl_errf(err, -EINVAL, "META-URL %s: port %ld is out of range 1-65535",
				       out->redacted, port);
		out->port = (int)port;
	}
	if (!(out->host = strndup(hs, (size_t)(he - hs))))
		return nomem(err);
	return 0;
}

static int parse_mysql(const char *url, const char *rest, struct sl_sql_url *out,
		       struct sl_err *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	/* As Go's MySQL DSN parser does: the database follows the last '/', the credentials end at
	 * the last '@' before it (so passwords may hold '@' and '/'). */
	const char *slash = NULL;
	for (const char *p = rest + n; p > rest; p--)
		if (p[-1] == '/') {
			slash = p - 1;
			break;
		}
	/* A '/' inside unix(...) is part of the socket path, not the start of the database. */
	if (slash) {
		const char *rp = memchr(slash, ')', (size_t)(rest + n - slash));
		if (rp)
			slash = NULL;
	}
	const char *at = NULL;
	const char *end = slash ? slash : rest + n;
	for (const char *p = end; p > rest; p--)
		if (p[-1] == '@') {
			at = p - 1;
			break;
		}
	/* Redacted form first, so later messages can use it. */
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon)
			snprintf(out->redacted, sizeof(out->redacted), "mysql://%.*s:****%s",
				 (int)(colon - rest), rest, at);
		else
			snprintf(out->redacted, sizeof(out->redacted), "%s", url);
	} else {
		snprintf(out->redacted, sizeof(out->redacted), "%s", url);
	}
	if (!slash)
		return sl_errf(err, -EINVAL, "META-URL %s has no database name: expected %s",
			       out->redacted, MYSQL_EXAMPLE);
	if (slash + 1 == rest + n)
		return sl_errf(err, -EINVAL, "META-URL %s: the database name after '/' is empty "
			       "(expected %s)", out->redacted, MYSQL_EXAMPLE);
	if (!(out->database = strndup(slash + 1, (size_t)(rest + n - slash - 1))))
		return nomem(err);
	if (q && !(out->params = strdup(q + 1)))
		return nomem(err);
	const char *addr = rest;
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		const char *ue = colon ? colon : at;
		bool bad = false;
		if (ue > rest && !(out->user = url_decode(rest, (size_t)(ue - rest), &bad)))
			return bad ? sl_errf(err, -EINVAL, "META-URL %s: broken %%-escape in the user "
					     "name", out->redacted) : nomem(err);
		if (colon && !(out->password = url_decode(colon + 1, (size_t)(at - colon - 1), &bad)))
			return bad ? sl_errf(err, -EINVAL, "META-URL %s: broken %%-escape in the "
					     "password", out->redacted) : nomem(err);
		addr = at + 1;
	}
	int rc = parse_mysql_addr(addr, (size_t)(slash - addr), out, err);
	if (rc)
		return rc;
	if (!out->socket && !out->port)
		out->port = 3306;
	if (!out->password) {
		const char *env = getenv("META_PASSWORD");
		if (env && *env && !(out->password = strdup(env)))
			return nomem(err);
	}
	return 0;
}

int sl_sql_url_parse(const char *url, struct sl_sql_url *out, struct sl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!url || !*url)
		return sl_errf(err, -EINVAL, "the META-URL is empty (expected sqlite3://PATH or %s)",
			       MYSQL_EXAMPLE);
	const char *sep = strstr(url, "://");
	int rc;
	if (!sep || sep == url) {
		/* Do not echo the URL: without a scheme we cannot tell where a password would be. */
		rc = sl_errf(err, -EINVAL, "the META-URL has no scheme: expected sqlite3://PATH or %s",
			     MYSQL_EXAMPLE);
		goto out;
	}
	if (!(out->scheme = strndup(url, (size_t)(sep - url)))) {
		rc = nomem(err);
		goto out;
	}
	const char *rest = sep + 3;
	if (!strcmp(out->scheme, "sqlite3")) {
		snprintf(out->redacted, sizeof(out->redacted), "%s", url);
		rc = parse_sqlite(rest, out, err);
	} else if (!strcmp(out->scheme, "mysql")) {
		rc = parse_mysql(url, rest, out, err);
	} else {
		rc = sl_errf(err, -EINVAL, "unsupported META-URL scheme '%s://' (supported: "
			     "sqlite3://, mysql://)", out->scheme);
	}
out:
	if (rc)
		sl_sql_url_free(out);
	return rc;
}
