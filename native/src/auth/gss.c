/*
 * gss.c - GSSAPI security contexts over MIT krb5 (see gss.h): credentials chosen per context via the
 * credential store, handshake steps, wrap/unwrap with strict replay/sequence checks.
 *
 * Invariants: a context uses only the krb5 mechanism (no SPNEGO, so nothing can negotiate down);
 * it counts as established only once mutual authentication, integrity, replay and sequence
 * detection are all granted; any failed step poisons it (no retry on a half-built context); wrap
 * and unwrap refuse a context whose ticket lifetime is over, since MIT itself does not check that
 * per message.
 */
#include "auth/gss.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What every context must have; confidentiality is requested too and enforced when required. */
#define SL_GSS_MUST_FLAGS \
	(GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG)
#define SL_GSS_REQ_FLAGS (SL_GSS_MUST_FLAGS | GSS_C_CONF_FLAG)

/* Supplementary statuses of unwrap that mean the message stream was replayed, reordered or cut. */
#define SL_GSS_SEQ_ERRORS \
	(GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN)

struct sl_gss {
	bool initiator;
	bool established;
	bool failed;       /* a step failed: the context is unusable */
	bool require_conf; /* refuse messages (and contexts) without confidentiality */
	bool last_conf;    /* the last message unwrapped was encrypted */
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_name_t target; /* initiator: the service */
	char *target_str;  /* for messages */
	char *peer;        /* after done: acceptor: the client; initiator: itself */
};

static gss_OID_set_desc krb5_only(void)
{
	gss_OID_set_desc set = { 1, (gss_OID)gss_mech_krb5 };
	return set;
}

/* Appends all messages of one GSS status code (major or minor) to buf. */
static void append_status(char *buf, size_t n, OM_uint32 code, int type)
{
	OM_uint32 msg_ctx = 0;
	bool first = true;
	do {
		OM_uint32 min;
		gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
		/* GSS_C_NO_OID: the mechglue may have renumbered a minor code and knows which
		 * mechanism it came from. */
		OM_uint32 maj = gss_display_status(&min, code, type, GSS_C_NO_OID, &msg_ctx, &s);
		if (GSS_ERROR(maj))
			break;
		size_t used = strlen(buf);
		if (used + 1 < n)
			snprintf(buf + used, n - used, "%s%.*s", first ? "" : "; ", (int)s.length,
				 (const char *)s.value);
		gss_release_buffer(&min, &s);
		first = false;
	} while (msg_ctx);
}

/* "minor message (GSS: major message)", as MIT words them; MIT keeps the detailed minor message per
 * thread, so this must run right after the failing call, on the same thread. The mechglue
 * renumbers a minor 0 of some mechanism OIDs, which then reads "Success": left out. */
static void status_msg(char *buf, size_t n, OM_uint32 major, OM_uint32 minor)
{
	char mech[SL_ERR_MSG_MAX] = "";
	buf[0] = 0;
	if (GSS_ERROR(major))
		append_status(buf, n, GSS_ERROR(major), GSS_C_GSS_CODE);
	if (minor)
		append_status(mech, sizeof(mech), minor, GSS_C_MECH_CODE);
	if (mech[0] && strcmp(mech, "Success")) {
		/* The mechanism's words say what happened; the major status is context. */
		char major_text[SL_ERR_MSG_MAX];
		snprintf(major_text, sizeof(major_text), "%s", buf);
		snprintf(buf, n, "%s%s%s%s", mech, major_text[0] ? " (GSS: " : "", major_text,
			 major_text[0] ? ")" : "");
	}
	if (!buf[0])
		snprintf(buf, n, "GSS major status 0x%x", (unsigned)major);
}

/* Negative errno for a failed handshake or credential step. The minor (krb5) code tells malformed
 * input and an unreachable KDC apart from an authentication failure. */
static int handshake_errno(OM_uint32 major, OM_uint32 minor)
{
	krb5_error_code kc = (krb5_error_code)minor;
	if (minor == ENOMEM)
		return -ENOMEM;
	if (kc == KRB5_KDC_UNREACH)
		return -EAGAIN;
	if ((minor >= (OM_uint32)ERROR_TABLE_BASE_asn1 &&
	     minor < (OM_uint32)ERROR_TABLE_BASE_asn1 + 256) ||
	    kc == KRB5_BADMSGTYPE || kc == KRB5KRB_AP_ERR_MSG_TYPE || kc == KRB5KRB_AP_ERR_BADVERSION)
		return -EINVAL;
	switch (GSS_ROUTINE_ERROR(major)) {
	case GSS_S_DEFECTIVE_TOKEN:
	case GSS_S_BAD_MECH:
		return -EINVAL;
	default:
		return -EACCES;
	}
}

static int gss_fail(struct sl_err *err, int code, OM_uint32 major, OM_uint32 minor,
		    const char *what, const char *hint)
{
	char msg[SL_ERR_MSG_MAX];
	status_msg(msg, sizeof(msg), major, minor);
	return sl_errf(err, code, "%s: %s%s", what, msg, hint ? hint : "");
}

/* gss_release_buffer skips a zero-length buffer, but MIT hands back malloc(0) for an empty
 * message; this frees both. */
static void release_buf(gss_buffer_desc *b)
{
	OM_uint32 min;
	if (b->length)
		gss_release_buffer(&min, b);
	else
		free(b->value);
	b->value = NULL;
	b->length = 0;
}

static int copy_out(gss_buffer_desc *b, void **out, size_t *outlen, struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (!b->length)
		return 0;
	void *p = malloc(b->length);
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory for a %zu-byte GSS token", b->length);
	memcpy(p, b->value, b->length);
	*out = p;
	*outlen = b->length;
	return 0;
}

static int import_name(const char *s, gss_OID type, gss_name_t *out, struct sl_err *err)
{
	OM_uint32 min;
	gss_buffer_desc b = { strlen(s), (void *)s };
	OM_uint32 maj = gss_import_name(&min, &b, type, out);
	if (GSS_ERROR(maj))
		return gss_fail(err, -EINVAL, maj, min, "bad Kerberos principal name", NULL);
	return 0;
}

static int name_str(gss_name_t name, char **out, struct sl_err *err)
{
	OM_uint32 min;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj = gss_display_name(&min, name, &b, NULL);
	if (GSS_ERROR(maj))
		return gss_fail(err, -EACCES, maj, min, "cannot display the Kerberos principal", NULL);
	*out = strndup(b.value, b.length);
	gss_release_buffer(&min, &b);
	if (!*out)
		return sl_errf(err, -ENOMEM, "out of memory");
	return 0;
}

static struct sl_gss *gss_alloc(bool initiator, struct sl_err *err)
{
	struct sl_gss *g = calloc(1, sizeof(*g));
	if (!g) {
		sl_errf(err, -ENOMEM, "out of memory for a GSS context");
		return NULL;
	}
	g->initiator = initiator;
	g->cred = GSS_C_NO_CREDENTIAL;
	g->ctx = GSS_C_NO_CONTEXT;
	g->target = GSS_C_NO_NAME;
	return g;
}

/* The rcache option as an MIT rcache name: a directory gets a file2 cache inside it, a name with a
 * type prefix is used as is, anything else is a file2 cache file. */
static int rcache_name(const char *rc, char **out, struct sl_err *err)
{
	struct stat st;
	int n;
	if (!strncmp(rc, "none:", 5) || !strcmp(rc, "none"))
		return sl_errf(err, -EINVAL, "replay cache \"%s\" would accept replayed tickets; "
					     "give a directory or an MIT rcache name", rc);
	if (strchr(rc, ':'))
		n = asprintf(out, "%s", rc);
	else if (stat(rc, &st) == 0 && S_ISDIR(st.st_mode))
		n = asprintf(out, "file2:%s/sluice_gss.rcache2", rc);
	else
		n = asprintf(out, "file2:%s", rc);
	if (n < 0) {
		*out = NULL;
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The keytab as a credential-store value, checked first when it is a file: MIT's own message for
 * a missing client keytab speaks of a missing ccache, and 1.20 leaks on that path. */
static int keytab_name(const char *kt, const char *what, char **out, struct sl_err *err)
{
	const char *path = NULL;
	int n;
	*out = NULL;
	if (!strncmp(kt, "FILE:", 5))
		path = kt + 5;
	else if (kt[0] == '/' || !strchr(kt, ':'))
		path = kt; /* MIT would take "/a:b" as keytab type "/a"; FILE: says what it is */
	if (path && access(path, R_OK))
		return sl_errf(err, -errno, "%s keytab %s: %s", what, path, strerror(errno));
	n = path ? asprintf(out, "FILE:%s", path) : asprintf(out, "%s", kt);
	if (n < 0) {
		*out = NULL;
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int sl_gss_server_new(const struct sl_gss_server_conf *c, struct sl_gss **out, struct sl_err *err)
{
	*out = NULL;
	if (!c || !c->keytab || !c->keytab[0])
		return sl_errf(err, -EINVAL, "the gateway needs a service keytab (none configured)");
	int rc = 0;
	char *rcname = NULL, *ktname = NULL;
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 maj, min;
	struct sl_gss *g = gss_alloc(false, err);
	if (!g)
		return -ENOMEM;
	rc = keytab_name(c->keytab, "service", &ktname, err);
	if (rc)
		goto out;
	if (c->rcache && c->rcache[0]) {
		rc = rcache_name(c->rcache, &rcname, err);
		if (rc)
			goto out;
	}
	if (c->principal && c->principal[0]) {
		rc = import_name(c->principal, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name, err);
		if (rc)
			goto out;
	}
	gss_key_value_element_desc kv[2] = { { "keytab", ktname }, { "rcache", rcname } };
	gss_key_value_set_desc store = { rcname ? 2 : 1, kv };
	gss_OID_set_desc mechs = krb5_only();
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT, &store,
				    &g->cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		char what[SL_ERR_MSG_MAX];
		snprintf(what, sizeof(what), "cannot use keytab %s for %s", c->keytab,
			 c->principal ? c->principal : "any service principal");
		rc = gss_fail(err, handshake_errno(maj, min), maj, min, what, NULL);
		goto out;
	}
out:
	if (name != GSS_C_NO_NAME)
		gss_release_name(&min, &name);
	free(rcname);
	free(ktname);
	if (rc)
		sl_gss_free(g);
	else
		*out = g;
	return rc;
}

/* "svc/host@REALM" or "svc" is a krb5 principal; "svc@host" (no '/') a host-based service. */
static gss_OID service_name_type(const char *s)
{
	if (!strchr(s, '/') && strchr(s, '@'))
		return (gss_OID)GSS_C_NT_HOSTBASED_SERVICE;
	return (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
}

int sl_gss_client_new(const struct sl_gss_client_conf *c, struct sl_gss **out, struct sl_err *err)
{
	*out = NULL;
	if (!c || !c->service || !c->service[0])
		return sl_errf(err, -EINVAL, "no Kerberos service principal for the gateway configured");
	int rc = 0;
	char *ccname = NULL, *ktname = NULL;
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 maj, min;
	struct sl_gss *g = gss_alloc(true, err);
	if (!g)
		return -ENOMEM;
	g->target_str = strdup(c->service);
	if (!g->target_str) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = import_name(c->service, service_name_type(c->service), &g->target, err);
	if (rc)
		goto out;
	bool have_princ = c->principal && c->principal[0];
	if (have_princ) {
		rc = import_name(c->principal, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name, err);
		if (rc)
			goto out;
	}
	bool have_kt = c->keytab && c->keytab[0];
	if (have_kt) {
		rc = keytab_name(c->keytab, "client", &ktname, err);
		if (rc)
			goto out;
	}
	if (c->ccache && c->ccache[0]) {
		ccname = strdup(c->ccache);
	} else if (have_kt) {
		/* A keytab login without a cache must not write into the user's default cache; it
		 * gets a MEMORY cache per identity, shared by its contexts so that each connection
		 * does not cost an AS exchange (MIT locks MEMORY caches and refreshes from the keytab
		 * when the TGT is half-way to expiry). */
		if (asprintf(&ccname, "MEMORY:sluice_gss/%s/%s", have_princ ? c->principal : "*",
			     c->keytab) < 0)
			ccname = NULL;
	}
	if ((c->ccache && c->ccache[0]) || have_kt) {
		if (!ccname) {
			rc = sl_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	gss_key_value_element_desc kv[2];
	gss_key_value_set_desc store = { 0, kv };
	if (ccname)
		kv[store.count++] = (gss_key_value_element_desc){ "ccache", ccname };
	if (have_kt)
		kv[store.count++] = (gss_key_value_element_desc){ "client_keytab", ktname };
	gss_OID_set_desc mechs = krb5_only();
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &store,
				    &g->cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		char what[SL_ERR_MSG_MAX];
		snprintf(what, sizeof(what), "no Kerberos login for %s%s%s",
			 have_princ ? c->principal : "the default principal",
			 have_kt ? " from keytab " : "", have_kt ? c->keytab : "");
		rc = gss_fail(err, handshake_errno(maj, min), maj, min, what,
			      have_kt ? "; check that the keytab holds keys of this principal" :
					"; run kinit or configure a keytab");
		goto out;
	}
out:
	if (name != GSS_C_NO_NAME)
		gss_release_name(&min, &name);
	free(ccname);
	free(ktname);
	if (rc)
		sl_gss_free(g);
	else
		*out = g;
	return rc;
}

/* After GSS reports the context complete: our own checks before anyone may trust it. */
static int finish(struct sl_gss *g, gss_name_t peer, gss_OID mech, OM_uint32 flags,
		  OM_uint32 time_rec, struct sl_err *err)
{
	OM_uint32 must = SL_GSS_MUST_FLAGS | (g->require_conf ? GSS_C_CONF_FLAG : 0);
	if (mech != GSS_C_NO_OID && !gss_oid_equal(mech, gss_mech_krb5))
		return sl_errf(err, -EACCES, "GSSAPI context is not Kerberos 5; refused");
	if (flags & GSS_C_ANON_FLAG)
		return sl_errf(err, -EACCES, "anonymous Kerberos login refused");
	if ((flags & must) != must)
		return sl_errf(err, -EACCES,
			       "GSSAPI context lacks%s%s%s%s%s; refused (the peer must request mutual "
			       "authentication, integrity, replay and sequence detection)",
			       flags & GSS_C_MUTUAL_FLAG ? "" : " mutual-authentication",
			       flags & GSS_C_INTEG_FLAG ? "" : " integrity",
			       flags & GSS_C_REPLAY_FLAG ? "" : " replay-detection",
			       flags & GSS_C_SEQUENCE_FLAG ? "" : " sequence-detection",
			       (must & GSS_C_CONF_FLAG) && !(flags & GSS_C_CONF_FLAG) ?
				       " confidentiality" :
				       "");
	if (time_rec == 0)
		return sl_errf(err, -EACCES, "Kerberos ticket expired (context lifetime is over); "
					     "get a new ticket (kinit) and retry");
	int rc;
	if (peer != GSS_C_NO_NAME) {
		rc = name_str(peer, &g->peer, err);
	} else {
		OM_uint32 min;
		gss_name_t self = GSS_C_NO_NAME;
		OM_uint32 maj = gss_inquire_context(&min, g->ctx, &self, NULL, NULL, NULL, NULL,
						    NULL, NULL);
		if (GSS_ERROR(maj))
			return gss_fail(err, -EACCES, maj, min, "cannot inquire the GSSAPI context",
					NULL);
		rc = name_str(self, &g->peer, err);
		gss_release_name(&min, &self);
	}
	if (rc)
		return rc;
	g->established = true;
	return 0;
}

/* RFC 2743 3.1 framing of a context token: [APPLICATION 0] { krb5 mech OID, token }, with the
 * DER length matching the buffer exactly. Checked before MIT sees untrusted bytes, so malformed
 * input is told apart from failed authentication, and MIT's fallbacks for unframed (DCE) or other
 * mechanisms' tokens never run. */
static int check_framing(const unsigned char *p, size_t len, struct sl_err *err)
{
	const gss_OID_desc *mech = gss_mech_krb5;
	size_t body, i = 2;
	if (len < 2 || p[0] != 0x60)
		goto bad;
	if (p[1] < 0x80) {
		body = p[1];
	} else {
		size_t n = p[1] & 0x7f;
		if (n == 0 || n > 4 || len < 2 + n)
			goto bad;
		body = 0;
		for (size_t k = 0; k < n; k++)
			body = body << 8 | p[i++];
	}
	if (body != len - i)
		goto bad;
	if (len - i < 2 + mech->length + 2 || p[i] != 0x06 || p[i + 1] != mech->length ||
	    memcmp(p + i + 2, mech->elements, mech->length))
		goto bad;
	return 0;
bad:
	return sl_errf(err, -EINVAL, "malformed GSSAPI handshake token (%zu bytes): not a framed "
				     "Kerberos 5 token", len);
}

int sl_gss_step(struct sl_gss *g, const void *in, size_t inlen, void **out, size_t *outlen,
		bool *done, struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	*done = false;
	if (g->failed)
		return sl_errf(err, -EINVAL, "GSSAPI context failed earlier; start a new one");
	if (g->established)
		return sl_errf(err, -EINVAL, "GSSAPI handshake already complete");
	bool first = g->ctx == GSS_C_NO_CONTEXT;
	if ((!in || !inlen) && !(g->initiator && first))
		return sl_errf(err, -EINVAL, "empty GSSAPI handshake token");
	if (in && inlen && g->initiator && first)
		return sl_errf(err, -EINVAL, "the GSSAPI client sends the first token");

	if (in && inlen) {
		int frc = check_framing(in, inlen, err);
		if (frc) {
			g->failed = true;
			return frc;
		}
	}
	int rc = 0;
	OM_uint32 maj, min, flags = 0, time_rec = 0, min2;
	gss_buffer_desc itok = { inlen, (void *)in };
	gss_buffer_desc otok = GSS_C_EMPTY_BUFFER;
	gss_name_t peer = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	char what[SL_ERR_MSG_MAX];
	if (g->initiator) {
		maj = gss_init_sec_context(&min, g->cred, &g->ctx, g->target, (gss_OID)gss_mech_krb5,
					   SL_GSS_REQ_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
					   first ? GSS_C_NO_BUFFER : &itok, &mech, &otok, &flags,
					   &time_rec);
		snprintf(what, sizeof(what), "Kerberos authentication to %s failed", g->target_str);
	} else {
		maj = gss_accept_sec_context(&min, &g->ctx, g->cred, &itok,
					     GSS_C_NO_CHANNEL_BINDINGS, &peer, &mech, &otok, &flags,
					     &time_rec, NULL);
		snprintf(what, sizeof(what), "Kerberos authentication of the client failed");
	}
	if (GSS_ERROR(maj)) {
		/* An acceptor's error token (a KRB-ERROR) is dropped: the caller reports err. */
		rc = gss_fail(err, handshake_errno(maj, min), maj, min, what, NULL);
		goto out;
	}
	if (maj & GSS_S_CONTINUE_NEEDED) {
		if (!otok.length) {
			rc = sl_errf(err, -EPROTO, "%s: GSSAPI wants to continue but has nothing to send",
				     what);
			goto out;
		}
	} else {
		rc = finish(g, peer, mech, flags, time_rec, err);
		if (rc) {
			sl_err_wrap(err, "%s", what);
			goto out;
		}
		*done = true;
	}
	rc = copy_out(&otok, out, outlen, err);
	if (rc) {
		*done = false;
		g->established = false;
	}
out:
	release_buf(&otok);
	if (peer != GSS_C_NO_NAME)
		gss_release_name(&min2, &peer);
	if (rc)
		g->failed = true;
	return rc;
}

const char *sl_gss_peer(const struct sl_gss *g)
{
	return g && g->established ? g->peer : NULL;
}

int64_t sl_gss_lifetime(const struct sl_gss *g)
{
	if (!g || !g->established || g->failed)
		return 0;
	OM_uint32 min, t = 0;
	OM_uint32 maj = gss_context_time(&min, g->ctx, &t);
	if (GSS_ERROR(maj))
		return 0;
	return t == GSS_C_INDEFINITE ? INT64_MAX : (int64_t)t;
}

void sl_gss_set_require_confidentiality(struct sl_gss *g, bool required)
{
	g->require_conf = required;
}

/* Both directions: the context must be established and its ticket lifetime not over. */
static int usable(const struct sl_gss *g, struct sl_err *err)
{
	if (g->failed || !g->established)
		return sl_errf(err, -EINVAL, "GSSAPI context is not established");
	if (sl_gss_lifetime(g) <= 0)
		return sl_errf(err, -EACCES, "Kerberos security context of %s expired (ticket "
					     "lifetime over); re-authenticate", g->peer);
	return 0;
}

int sl_gss_wrap(struct sl_gss *g, bool confidential, const void *in, size_t len, void **out,
		size_t *outlen, struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	int rc = usable(g, err);
	if (rc)
		return rc;
	if (g->require_conf && !confidential)
		return sl_errf(err, -EINVAL, "this GSSAPI context requires confidentiality");
	OM_uint32 min;
	int conf_state = 0;
	gss_buffer_desc ib = { len, (void *)in };
	gss_buffer_desc ob = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj = gss_wrap(&min, g->ctx, confidential, GSS_C_QOP_DEFAULT, &ib, &conf_state,
				 &ob);
	if (GSS_ERROR(maj)) {
		rc = gss_fail(err, maj == GSS_S_CONTEXT_EXPIRED ? -EACCES : -EIO, maj, min,
			      "GSSAPI wrap failed", NULL);
		goto out;
	}
	if (confidential && !conf_state) {
		rc = sl_errf(err, -EPROTO, "GSSAPI wrap did not encrypt although asked to");
		goto out;
	}
	rc = copy_out(&ob, out, outlen, err);
out:
	release_buf(&ob);
	return rc;
}

int sl_gss_unwrap(struct sl_gss *g, const void *in, size_t len, void **out, size_t *outlen,
		  struct sl_err *err)
{
	*out = NULL;
	*outlen = 0;
	int rc = usable(g, err);
	if (rc)
		return rc;
	OM_uint32 min;
	int conf_state = 0;
	gss_qop_t qop = GSS_C_QOP_DEFAULT;
	/* MIT (1.20) rewrites the token in place while checking it (RRC rotation, header fields):
	 * it works on a copy, so the caller's buffer stays as it was. */
	void *copy = len ? malloc(len) : NULL;
	if (len && !copy)
		return sl_errf(err, -ENOMEM, "out of memory for a %zu-byte GSS message", len);
	if (len)
		memcpy(copy, in, len);
	gss_buffer_desc ib = { len, copy };
	gss_buffer_desc ob = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj = gss_unwrap(&min, g->ctx, &ib, &ob, &conf_state, &qop);
	if (GSS_ERROR(maj)) {
		int code;
		switch (GSS_ROUTINE_ERROR(maj)) {
		case GSS_S_BAD_SIG:
		case GSS_S_DEFECTIVE_TOKEN:
			code = -EBADMSG;
			break;
		case GSS_S_CONTEXT_EXPIRED:
			code = -EACCES;
			break;
		default:
			code = min == ENOMEM ? -ENOMEM : -EBADMSG;
		}
		rc = gss_fail(err, code, maj, min, "GSSAPI message refused", NULL);
		goto out;
	}
	if (maj & SL_GSS_SEQ_ERRORS) {
		char msg[SL_ERR_MSG_MAX] = "";
		append_status(msg, sizeof(msg), maj & SL_GSS_SEQ_ERRORS, GSS_C_GSS_CODE);
		rc = sl_errf(err, -EPROTO, "GSSAPI message refused as %s: %s",
			     maj & GSS_S_DUPLICATE_TOKEN ? "a replay" :
			     maj & GSS_S_GAP_TOKEN	 ? "out of sequence (an earlier message is missing)" :
							   "out of sequence (reordered or too old)",
			     msg);
		goto out;
	}
	if (qop != GSS_C_QOP_DEFAULT || (g->require_conf && !conf_state)) {
		rc = sl_errf(err, -EPROTO, "GSSAPI message refused: weaker protection (%s) than this "
					   "context requires",
			     conf_state ? "non-default QOP" : "integrity only");
		goto out;
	}
	rc = copy_out(&ob, out, outlen, err);
	if (!rc)
		g->last_conf = conf_state != 0;
out:
	release_buf(&ob);
	free(copy);
	return rc;
}

bool sl_gss_last_confidential(const struct sl_gss *g)
{
	return g && g->last_conf;
}

void sl_gss_free(struct sl_gss *g)
{
	if (!g)
		return;
	OM_uint32 min;
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &g->ctx, GSS_C_NO_BUFFER);
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &g->cred);
	if (g->target != GSS_C_NO_NAME)
		gss_release_name(&min, &g->target);
	free(g->target_str);
	free(g->peer);
	free(g);
}
