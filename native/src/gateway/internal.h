/* internal.h - the gateway's state, shared by server.c (connections), dispatch.c (operations),
 * tokens.c (delegation tokens) and data.c (presigned data access). */
#ifndef SL_GATEWAY_INTERNAL_H
#define SL_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "../auth/gss.h"
#include "../auth/rules.h"
#include "../auth/token.h"
#include "../object/presign.h"
#include "../rpc/proto.h"
#include "gateway.h"
#include "vfs/vfs.h"

struct sl_gw_tokens;

struct sl_gateway {
	sluice_volume *vol;            /* direct mode: the database and the object store */
	struct sl_gw_tokens *tokens;   /* delegation tokens (tokens.c); NULL: refused */
	struct sl_auth_rules *rules;   /* principal -> short name */
	struct sl_proxy_rules *proxy;  /* who may act for whom */
	struct sl_groups *groups;      /* user -> groups */
	struct sl_gss_server_conf gss; /* strings owned by the volume's conf */
	uint32_t max_frame;
	bool privacy;                  /* gateway.protection: every client must encrypt */
	int idle_timeout_ms, handshake_timeout_ms;
	size_t max_conns;
	int listen_fd, port;
	int wake[2];                   /* a byte written to wake[1] stops the accept loop */

	pthread_mutex_t lock;
	pthread_cond_t idle;           /* signalled when nconns and nrefusing drop to 0 */
	size_t nconns;
	size_t nrefusing;              /* clients over the limit being told so (server.c) */
	int *conn_fds;                 /* max_conns slots, -1 when free; shut down at stop */

	/* slice grants and presigned data access (data.c); no signer when the storage cannot be
	 * presigned */
	uint8_t grant_key[SL_GRANT_MAC_BYTES]; /* HMAC key of slice grants (from the volume's
	                                          grant secret in the database) */
	uint8_t group_key[SL_META_KEY_BYTES]; /* the cache group's, for clients' peer tickets */
	struct sl_presigner *presigner;
	char presign_why[256];         /* then: why not, for the clients that ask */
	int presign_expiry_s;
	int64_t grant_lifetime_s;
};

/* ---- delegation tokens (tokens.c) ---------------------------------------------------------- */
/* A request of a token connection re-reads its token when the last read is this old. */
#define SL_GW_TOKEN_RECHECK_MS 1000

/* Reads gateway.token.* of c, creates the token tables of m if missing and sweeps them once. */
int sl_gw_tokens_new(struct sl_meta *m, const struct sl_conf *c, const struct sl_logger *log,
		     struct sl_gw_tokens **out, struct sl_err *err);
/* Stops the sweeper if it runs. */
void sl_gw_tokens_free(struct sl_gw_tokens *t);
/* The background sweep of expired tokens and keys, while the gateway serves. */
int sl_gw_tokens_start(struct sl_gw_tokens *t, struct sl_err *err);
void sl_gw_tokens_stop(struct sl_gw_tokens *t);
/* Deletes the tokens and keys that expired. */
int sl_gw_tokens_sweep(struct sl_gw_tokens *t, struct sl_err *err);

/* What a connection authenticated with a token knows of it. */
struct sl_gw_token_conn {
	uint8_t ident[SL_DT_IDENT_MAX];
	size_t ident_len;
	char owner[256];   /* the identity of the connection */
	int32_t seq;
	int64_t expiry_ms;  /* as last read (ms since the epoch) */
	int64_t checked_ms; /* when it was last read (the clock's mono ms) */
};
/* The handshake's lookup (sl_rpc_token_lookup_fn): the password of the valid token that ident
 * names; fills *st. -EACCES with the reason (for the log) when it is not valid. */
int sl_gw_token_verify(struct sl_gw_tokens *t, const uint8_t *ident, size_t len,
		       uint8_t password[SL_DT_PASSWORD_LEN], struct sl_gw_token_conn *st,
		       struct sl_err *err);
/* Before each request of a token connection (see SL_GW_TOKEN_RECHECK_MS): -EACCES once the token
 * was cancelled or expired. */
int sl_gw_token_recheck(struct sl_gw_tokens *t, struct sl_gw_token_conn *st, struct sl_err *err);
/* owner: the short name the token is for; real_user: the proxy user who asked (NULL: none);
 * renewer: a short name (NULL: nobody may renew). */
int sl_gw_token_issue(struct sl_gw_tokens *t, const char *owner, const char *real_user,
		      const char *renewer, struct sl_meta_token *out, struct sl_err *err);
/* caller: the short name of who asks. */
int sl_gw_token_renew(struct sl_gw_tokens *t, const char *caller, const uint8_t *ident,
		      size_t len, const uint8_t *password, int64_t *expiry_ms, struct sl_err *err);
int sl_gw_token_cancel(struct sl_gw_tokens *t, const char *caller, const uint8_t *ident,
		       size_t len, const uint8_t *password, struct sl_err *err);

/* ---- data.c: slice grants and presigned data access ------------------------------------------ */
/* Derives the grant key from the volume's grant secret (made on first use), builds the URL
 * signer from the volume's object config and reads gateway.presign-expiry and
 * gateway.grant-lifetime. A storage that cannot be presigned (file, no secret key) is no error:
 * PRESIGN then answers -EOPNOTSUPP with the reason; grants are issued and checked all the same. */
int sl_gw_data_setup(struct sl_gateway *gw, struct sl_err *err);
void sl_gw_data_free(struct sl_gateway *gw);
/* The grant of slice ids [first, first + count) to the authenticated caller `principal` (short
 * name), issued now; false only if HMAC fails. */
bool sl_gw_grant(const struct sl_gateway *gw, const char *principal, uint64_t first,
		 uint32_t count, struct sl_slice_grant *out);
/* The MAC of grant g (its mac field aside) for principal under key (rpc/proto.h). */
bool sl_gw_grant_mac(const uint8_t key[SL_GRANT_MAC_BYTES], const char *principal,
		     const struct sl_slice_grant *g, uint8_t mac[SL_GRANT_MAC_BYTES]);
/* Whether caller may place the new slice s into a file (WRITE_CHUNK, a compaction's
 * replacement): s is well formed and at most a chunk, g (NULL: none shown) is a live grant of
 * s->id to the caller, and s->size is the size its blocks were stored with (its last block is
 * in object storage with that length). -EPERM, -EINVAL, or an object store error (internal). */
int sl_gw_check_new_slice(struct sl_gateway *gw, const struct sl_gw_caller *caller,
			  const struct sl_slice_grant *g, const struct sl_slice *s,
			  struct sl_err *err);
/* One PRESIGN request, decoded (dispatch.c). */
struct sl_gw_presign_req {
	const char *method, *key;
	sl_ino ino;       /* GET/HEAD/KEY: the file and chunk whose slice list holds the key */
	uint32_t indx;
	struct sl_slice_grant grant; /* PUT: the grant of the key's slice */
	bool has_mac;
};
/* Checks that caller, acting as u, may have method on the key, then writes the URL (size bytes,
 * SL_PRESIGN_URL_MAX) and its validity in seconds. KEY, on an encrypted volume, is for the same
 * reads as GET and answers the block's data key (hex) instead of a URL. */
int sl_gw_presign(struct sl_gateway *gw, const struct sl_gw_caller *caller,
		  const struct sl_meta_user *u, const struct sl_gw_presign_req *p, char *url,
		  size_t size, uint32_t *expires_s, struct sl_err *err);

#endif
