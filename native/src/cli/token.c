/*
 * token.c - `sluice token issue|renew|cancel`: delegation tokens of a gateway for operators and
 * scripts. A token file holds KEY=VALUE lines: service (the gateway's HOST:PORT), and the
 * configuration keys token.identifier and token.password (base64) that let a client use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util/base64.h"

#define CMD "token"
#define MAX_OPTS 64

static int usage(void)
{
	fprintf(stderr,
		"usage: sluice token issue [-o KEY=VALUE]... [--renewer USER] [--user USER] "
		"gateway://HOST[:PORT] FILE\n"
		"       sluice token renew [-o KEY=VALUE]... FILE\n"
		"       sluice token cancel [-o KEY=VALUE]... FILE\n"
		"Kerberos credentials come from the ticket cache, or -o kerberos.keytab=... and\n"
		"-o kerberos.principal=...; FILE (written with mode 0600) holds the token.\n");
	return 2;
}

static int write_token(const char *path, const sluice_token *t)
{
	char ident[4 * ((SLUICE_TOKEN_IDENT_MAX + 2) / 3) + 1], pass[64];
	EVP_EncodeBlock((unsigned char *)ident, t->identifier, (int)t->identifier_len);
	EVP_EncodeBlock((unsigned char *)pass, t->password, (int)sizeof(t->password));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cli_fail(CMD, "%s: %s", path, strerror(e));
	}
	fprintf(f, "# a Sluice delegation token (%s): whoever holds it acts as its owner\n"
		"service=%s\ntoken.identifier=%s\ntoken.password=%s\n", SLUICE_TOKEN_KIND,
		t->service, ident, pass);
	OPENSSL_cleanse(pass, sizeof(pass));
	if (fclose(f))
		return cli_fail(CMD, "%s: %s", path, strerror(errno));
	return 0;
}

static int read_token(const char *path, sluice_token *t)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cli_fail(CMD, "%s: %s", path, strerror(errno));
	memset(t, 0, sizeof(*t));
	char line[4096];
	bool ident = false, pass = false;
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *eq = strchr(line, '=');
		if (!line[0] || line[0] == '#' || !eq)
			continue;
		*eq = 0;
		const char *v = eq + 1;
		size_t plen = 0;
		if (!strcmp(line, "service")) {
			snprintf(t->service, sizeof(t->service), "%s", v);
		} else if (!strcmp(line, "token.identifier")) {
			ident = !sl_base64_decode(v, t->identifier, sizeof(t->identifier),
						 &t->identifier_len);
			rc = ident ? 0 : -EINVAL;
		} else if (!strcmp(line, "token.password")) {
			pass = !sl_base64_decode(v, t->password, sizeof(t->password), &plen) &&
			       plen == sizeof(t->password);
			rc = pass ? 0 : -EINVAL;
		}
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (rc || !ident || !pass || !t->service[0])
		return cli_fail(CMD, "%s is not a token file (service, token.identifier and "
				"token.password lines, base64)", path);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *sub = argv[1];
	char *opts[MAX_OPTS];
	int nopts = 0;
	const char *renewer = NULL, *user = NULL, *pos[2];
	int npos = 0;
	for (int i = 2; i < argc; i++) {
		bool has_arg = i + 1 < argc;
		if (!strcmp(argv[i], "-o") && has_arg && nopts < MAX_OPTS)
			opts[nopts++] = argv[++i];
		else if (!strcmp(argv[i], "--renewer") && has_arg)
			renewer = argv[++i];
		else if (!strcmp(argv[i], "--user") && has_arg)
			user = argv[++i];
		else if (argv[i][0] == '-' || npos == 2)
			return usage();
		else
			pos[npos++] = argv[i];
	}
	sluice_token t;
	char msg[1024];
	int rc = 0;
	if (!strcmp(sub, "issue")) {
		if (npos != 2)
			return usage();
		sluice_volume *vol = NULL;
		if (cli_open_volume(CMD, pos[0], opts, nopts, &vol))
			return 1;
		const sluice_user u = {.name = user};
		if (sluice_token_issue(vol, user ? &u : NULL, renewer, &t))
			rc = cli_fail(CMD, "%s", sluice_last_error(vol));
		else
			rc = write_token(pos[1], &t);
		sluice_shutdown(vol);
		OPENSSL_cleanse(&t, sizeof(t));
		return rc;
	}
	if ((strcmp(sub, "renew") && strcmp(sub, "cancel")) || npos != 1 || renewer || user)
		return usage();
	if (read_token(pos[0], &t))
		return 1;
	char meta[320];
	snprintf(meta, sizeof(meta), "gateway://%s", t.service);
	struct cli_conf c;
	rc = cli_conf_build(CMD, meta, opts, nopts, &c);
	if (!rc && !strcmp(sub, "renew")) {
		int64_t expiry = 0;
		if (sluice_token_renew(c.kv, c.n, &t, &expiry, msg, sizeof(msg))) {
			rc = cli_fail(CMD, "%s", msg);
		} else {
			time_t secs = (time_t)(expiry / 1000);
			struct tm tm;
			char when[64];
			gmtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("renewed: expires %s (%" PRId64 " ms since the epoch)\n", when, expiry);
		}
	} else if (!rc) {
		if (sluice_token_cancel(c.kv, c.n, &t, msg, sizeof(msg)))
			rc = cli_fail(CMD, "%s", msg);
		else
			printf("cancelled\n");
	}
	cli_conf_free(&c);
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}
