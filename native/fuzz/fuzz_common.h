/*
 * fuzz_common.h - what the fuzz targets and their seed generator share: a private temp directory
 * removed at exit, files written whole, and the throw-away Kerberos realm (krb5.conf and a keytab
 * derived offline from a fixed password, so no KDC is needed).
 */
#ifndef SL_FUZZ_COMMON_H
#define SL_FUZZ_COMMON_H

#include <stddef.h>

#include <krb5.h>

#define FZ_REALM "FUZZ.TEST"
#define FZ_SERVICE "sluice/localhost@" FZ_REALM
#define FZ_CLIENT "alice@" FZ_REALM
#define FZ_PASSWORD "fuzz-service-password" /* a test realm's key: nothing to protect */
#define FZ_KVNO 1
/* The one delegation token fuzz_frames' lookup knows: a Hadoop identifier (owner alice, renewer
 * yarn, issue/max dates, sequence number 7, key 1) and its password (SL_TS_PASSWORD_LEN bytes). */
#define FZ_TOKEN_IDENT "\x00\x05" "alice" "\x04" "yarn" "\x00\x8a\x01\x8b\xcf\xe5\x68\x00" \
	"\x8a\x01\x8b\xf3\xf1\xec\x00\x07\x01"
#define FZ_TOKEN_PASSWORD "fuzz-token-password!"

/* A new directory under $TMPDIR (default /tmp) named after tag, removed with its contents when
 * the process exits normally. Exits the process on failure: a fuzz target cannot run without it. */
const char *fz_tempdir(const char *tag);
/* Writes (replaces) path with len bytes; exits on failure. */
void fz_write_file(const char *path, const void *p, size_t len);
/* Writes dir/krb5.conf for FZ_REALM (no reachable KDC, huge clock skew so that stored seeds stay
 * valid) and points KRB5_CONFIG at it; writes dir/service.keytab with FZ_SERVICE's aes256 and
 * aes128 keys derived from FZ_PASSWORD. Returns the keytab path (static storage). Exits on failure. */
const char *fz_krb_setup(const char *dir);
/* FZ_SERVICE's key of enctype (what fz_krb_setup put in the keytab), for forging its tickets. */
krb5_error_code fz_service_key(krb5_context ctx, krb5_enctype enctype, krb5_keyblock *key);

#endif
