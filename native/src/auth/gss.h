/*
 * gss.h - GSSAPI (MIT krb5) security contexts for Kerberos mode: token-in/token-out handshakes and
 * per-message protection, no sockets, so the rpc layer drives it and tests run both ends in memory.
 */
#ifndef SL_AUTH_GSS_H
#define SL_AUTH_GSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct sl_gss; /* one security context (initiator or acceptor); use from one thread at a time */

/* Keytab, ccache and replay cache are chosen per context through MIT's credential store
 * (gss_acquire_cred_from), never through environment variables or process-global settings.
 * Only the krb5 mechanism is used (no SPNEGO). A keytab given as a plain path is checked first
 * (-ENOENT with the path when it is missing). rcache: a directory gets the file
 * "sluice_gss.rcache2" (MIT file2 type) inside it, a name with a type prefix ("file2:/x") is used
 * as is, a plain path is a file2 cache; "none" is refused. Gateways on one host should share it.
 * A client keytab login without ccache keeps its tickets in a MEMORY ccache named after principal
 * and keytab, shared by all contexts of that identity in the process (one AS exchange, not one
 * per connection; MIT refreshes it from the keytab). */
struct sl_gss_server_conf {
	const char *keytab;    /* path of the service keytab (required) */
	const char *principal; /* e.g. "sluice/localhost@SLUICE.TEST"; NULL: any key in the keytab */
	const char *rcache;    /* replay cache location (a directory or an MIT rcache name);
	                          NULL: MIT's default. Replays of an AP-REQ must be refused. */
};
struct sl_gss_client_conf {
	const char *service;   /* the gateway's principal, "sluice/localhost@SLUICE.TEST", or
	                          host-based "sluice@localhost" */
	const char *principal; /* client principal; NULL: the default one of the ccache/keytab */
	const char *keytab;    /* client keytab to log in from (NULL: use the ticket cache) */
	const char *ccache;    /* ticket cache name (NULL: the default, KRB5CCNAME) */
};

int sl_gss_server_new(const struct sl_gss_server_conf *c, struct sl_gss **out, struct sl_err *err);
int sl_gss_client_new(const struct sl_gss_client_conf *c, struct sl_gss **out, struct sl_err *err);

/* One handshake step. The client calls first with in=NULL,inlen=0. *out (malloc'd, caller frees,
 * may be NULL/0 when nothing is to be sent) goes to the peer. *done once the context is established
 * (mutual authentication, integrity, replay and sequence detection all required; refuse a context
 * without them). Errors: -EACCES for authentication failures (bad/forged/expired ticket, wrong
 * service, replay, clock skew), -EINVAL for malformed tokens, with the GSS major AND minor (mech)
 * messages in err so a person can act ("Ticket expired", "Clock skew too great", "Request is a
 * replay", "Wrong principal in request", "No Kerberos credentials available (default cache: ...)").
 * Also -EAGAIN when no KDC answers (retryable), -ENOMEM. A failed step poisons the context (every
 * later call fails): start a new one. The acceptor's KRB-ERROR token is not returned (*out is NULL
 * on every error); tell the client from err, but mind that err may name principals. */
int sl_gss_step(struct sl_gss *g, const void *in, size_t inlen, void **out, size_t *outlen,
		bool *done, struct sl_err *err);

/* Acceptor, after done: the authenticated client principal, e.g. "alice@SLUICE.TEST".
 * Initiator, after done: the client's own principal. NULL before done. */
const char *sl_gss_peer(const struct sl_gss *g);

/* Seconds the context stays valid (ticket lifetime left); the server closes connections past it.
 * 0 when expired or not yet established. On the acceptor MIT adds the realm's clockskew as grace
 * (as it does when it accepts a ticket), so it is ticket endtime + clockskew - now. */
int64_t sl_gss_lifetime(const struct sl_gss *g);

/* Per-message protection after done. confidential=false: integrity only (MIC inside wrap).
 * unwrap returns -EBADMSG for a token that fails the integrity check, -EPROTO for a replayed,
 * out-of-sequence or missing (gap) message (GSS_S_DUPLICATE_TOKEN / OLD / UNSEQ / GAP supplementary
 * status) and refuses a message whose protection is weaker than the context requires (-EPROTO).
 * Both return -EACCES once the context lifetime is over, -EINVAL before the handshake is done.
 * unwrap never modifies `in` (MIT rewrites tokens in place; it works on a copy). */
int sl_gss_wrap(struct sl_gss *g, bool confidential, const void *in, size_t len, void **out,
		size_t *outlen, struct sl_err *err);
int sl_gss_unwrap(struct sl_gss *g, const void *in, size_t len, void **out, size_t *outlen,
		  struct sl_err *err);

/* Optional (default off: integrity is enough): require confidentiality on this context. Then
 * wrap refuses confidential=false (-EINVAL), unwrap refuses integrity-only messages (-EPROTO)
 * and a handshake finishing without GSS_C_CONF_FLAG fails. Call it before the handshake (or at
 * least before the first message). */
void sl_gss_set_require_confidentiality(struct sl_gss *g, bool required);
/* Whether the last message unwrapped was encrypted (a server answers in kind). */
bool sl_gss_last_confidential(const struct sl_gss *g);

void sl_gss_free(struct sl_gss *g);

#endif
