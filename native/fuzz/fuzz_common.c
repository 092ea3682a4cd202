/* fuzz_common.c - temp directories, files and the offline Kerberos realm of the fuzz targets. */
#include "fuzz_common.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fuzz entry points have no context argument: what must outlive one input is process-wide. */
static char *tempdirs[4];
static size_t ntempdirs;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tempdirs(void)
{
	for (size_t i = 0; i < ntempdirs; i++) {
		nftw(tempdirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(tempdirs[i]);
	}
	ntempdirs = 0;
}

const char *fz_tempdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char tmpl[1024];
	snprintf(tmpl, sizeof(tmpl), "%s/sluice-fuzz-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	if (ntempdirs == sizeof(tempdirs) / sizeof(tempdirs[0]) || !mkdtemp(tmpl)) {
		fprintf(stderr, "fuzz: cannot create a temp directory %s: %s\n", tmpl,
			strerror(errno));
		exit(1);
	}
	if (!ntempdirs)
		atexit(rm_tempdirs);
	if (!(tempdirs[ntempdirs] = strdup(tmpl))) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(1);
	}
	return tempdirs[ntempdirs++];
}

void fz_write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void krb_die(krb5_context ctx, krb5_error_code kc, const char *what)
{
	const char *m = ctx ? krb5_get_error_message(ctx, kc) : NULL;
	fprintf(stderr, "fuzz: %s: %s\n", what, m ? m : "krb5 error");
	exit(1);
}

krb5_error_code fz_service_key(krb5_context ctx, krb5_enctype enctype, krb5_keyblock *key)
{
	krb5_principal p = NULL;
	krb5_data salt = {0};
	krb5_data pw = {.data = (char *)FZ_PASSWORD, .length = sizeof(FZ_PASSWORD) - 1};
	krb5_error_code kc = krb5_parse_name(ctx, FZ_SERVICE, &p);
	if (!kc)
		kc = krb5_principal2salt(ctx, p, &salt);
	if (!kc)
		kc = krb5_c_string_to_key(ctx, enctype, &pw, &salt, key);
	krb5_free_data_contents(ctx, &salt);
	krb5_free_principal(ctx, p);
	return kc;
}

const char *fz_krb_setup(const char *dir)
{
	static char keytab[1100];
	char conf[1100];
	snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
	snprintf(keytab, sizeof(keytab), "%s/service.keytab", dir);
	/* No KDC: the acceptor needs only its keytab. The skew lets stored seeds (an authenticator
	 * of the time they were made) still be accepted years later. */
	static const char text[] =
		"[libdefaults]\n"
		" default_realm = " FZ_REALM "\n"
		" dns_lookup_realm = false\n"
		" dns_lookup_kdc = false\n"
		" rdns = false\n"
		" dns_canonicalize_hostname = false\n"
		" clockskew = 400000000\n" /* ~12 years: MIT's time sums stay within 32 bits */
		"[realms]\n"
		" " FZ_REALM " = {\n"
		"  kdc = 127.0.0.1:1\n"
		" }\n";
	fz_write_file(conf, text, sizeof(text) - 1);
	setenv("KRB5_CONFIG", conf, 1);
	unsetenv("KRB5_KTNAME");
	unsetenv("KRB5_TRACE");

	krb5_context ctx = NULL;
	krb5_keytab kt = NULL;
	krb5_principal p = NULL;
	krb5_error_code kc = krb5_init_context(&ctx);
	if (kc)
		krb_die(NULL, kc, "krb5_init_context");
	char ktname[1200];
	snprintf(ktname, sizeof(ktname), "FILE:%s", keytab);
	if ((kc = krb5_kt_resolve(ctx, ktname, &kt)) || (kc = krb5_parse_name(ctx, FZ_SERVICE, &p)))
		krb_die(ctx, kc, "keytab");
	static const krb5_enctype types[] = {ENCTYPE_AES256_CTS_HMAC_SHA1_96,
					     ENCTYPE_AES128_CTS_HMAC_SHA1_96};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		krb5_keytab_entry e = {.principal = p, .vno = FZ_KVNO};
		if ((kc = fz_service_key(ctx, types[i], &e.key)))
			krb_die(ctx, kc, "deriving the service key");
		kc = krb5_kt_add_entry(ctx, kt, &e);
		krb5_free_keyblock_contents(ctx, &e.key);
		if (kc)
			krb_die(ctx, kc, "writing the keytab");
	}
	krb5_free_principal(ctx, p);
	krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return keytab;
}
