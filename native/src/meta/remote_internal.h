/*
 * remote_internal.h - what the files of the "gateway://" metadata backend share (remote.c: its
 * state, connections and presigned data access; remote_ops.c: its slots, one request each, and
 * the backend's table): the backend's state and the frame of one call. Private to src/meta.
 */
#ifndef SL_REMOTE_INTERNAL_H
#define SL_REMOTE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../rpc/proto.h"
#include "codec.h"

#define MAX_POOL 64
#define MAX_GATEWAYS 16

struct pooled; /* an idle connection (remote.c) */

/* One gateway of the URL, and its Kerberos service principal. */
struct gateway_addr {
	char host[256], port[16];
	char service[512];
};

struct remote {
	struct gateway_addr gw[MAX_GATEWAYS]; /* the URL's gateways, in its order */
	size_t ngw;
	size_t next_gw; /* where the next new connection starts trying, guarded by lock */
	char *principal, *keytab, *ccache;
	bool use_token;            /* authenticate with tok, not Kerberos */
	struct sl_meta_token tok;
	bool confidential;
	int timeout_ms;
	size_t max_idle;
	pthread_mutex_t lock;
	struct pooled *idle[MAX_POOL];
	size_t nidle;
	struct sl_rdata *data; /* read contexts, slice grants and URLs for presigned data access */
	char self[256];        /* the gateway's name for us (its welcome), guarded by lock */
	bool no_write_chunks;  /* the gateway has no WRITE_CHUNKS (older): guarded by lock */
};

static inline struct remote *sl_remote_of(struct sl_meta *m) { return m->priv; }

/* ---- the backend's life and data access (remote.c; slots of sl_meta_remote_backend) --------- */
int sl_remote_init(struct sl_meta *m, const char *url, struct sl_err *err);
void sl_remote_cleanup(struct sl_meta *m);
/* Presigned URLs from the gateway for the `presigned` object backend. */
int sl_remote_object_provider(struct sl_meta *m, struct sl_presign_provider *out,
			      struct sl_err *err);

/* ---- one call (remote.c) -------------------------------------------------------------------- */

struct call {
	enum sl_rpc_op op;
	bool once;        /* the request carries an idempotency token: it may be sent again */
	struct sl_wbuf req;
	void *resp;
	size_t resp_len;
	struct sl_rbuf r; /* the results, after status and message */
};

/* Starts the request of op for u (NULL: the authenticated user); its arguments follow in req. */
void sl_remote_begin(struct call *c, enum sl_rpc_op op, const struct sl_meta_user *u);
/* Sends the request and reads the response: the op's status with the gateway's message, or a
 * transport error (the connection is then dropped). A request is resent on a fresh connection
 * (to the next gateway that answers, when the URL names several) if the pooled one turned out
 * closed before anything could have been processed, or if the request only reads (its op is
 * idempotent) and its gateway went away; a change whose gateway went away mid-request fails,
 * since it may or may not have happened. */
int sl_remote_invoke(struct sl_meta *m, struct call *c, struct sl_err *err);
/* Ends a call: a successful one must have been read exactly to its end. */
int sl_remote_finish(struct call *c, int rc, struct sl_err *err);

#endif
