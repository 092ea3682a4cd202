/* internal.h - the gateway's state, shared by server.c (connections), dispatch.c (operations) and
 * data.c (presigned data access). */
#ifndef SL_GATEWAY_INTERNAL_H
#define SL_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "../auth/gss.h"
#include "../auth/rules.h"
#include "../object/presign.h"
#include "../rpc/proto.h"
#include "gateway.h"
#include "vfs/vfs.h"

struct sl_gateway {
	sluice_volume *vol;            /* direct mode: the database and the object store */
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
	pthread_cond_t idle;           /* signalled when nconns drops to 0 */
	size_t nconns;
	int *conn_fds;                 /* max_conns slots, -1 when free; shut down at stop */

	/* presigned data access (data.c); no signer when the storage cannot be presigned */
	struct sl_presigner *presigner;
	char presign_why[256];         /* then: why not, for the clients that ask */
	uint8_t grant_key[SL_GRANT_MAC_BYTES]; /* HMAC key of slice grants (from the secret key) */
	int presign_expiry_s;
	int64_t grant_lifetime_s;
};

/* ---- data.c: presigned data access ------------------------------------------------------------ */
/* Builds the URL signer and the grant key from the volume's object config and reads
 * gateway.presign-expiry and gateway.grant-lifetime. A storage that cannot be presigned (file,
 * no secret key) is no error: PRESIGN then answers -EOPNOTSUPP with the reason. */
int sl_gw_data_setup(struct sl_gateway *gw, struct sl_err *err);
void sl_gw_data_free(struct sl_gateway *gw);
/* The grant of slice ids [first, first + count) to the authenticated caller `principal` (short
 * name); false when this gateway does not presign (clients then get no grants). */
bool sl_gw_grant(const struct sl_gateway *gw, const char *principal, uint64_t first,
		 uint32_t count, struct sl_slice_grant *out);
/* One PRESIGN request, decoded (dispatch.c). */
struct sl_gw_presign_req {
	const char *method, *key;
	sl_ino ino;       /* GET/HEAD: the file and chunk whose slice list holds the key */
	uint32_t indx;
	struct sl_slice_grant grant; /* PUT: the grant of the key's slice */
	bool has_mac;
};
/* Checks that caller, acting as u, may have method on the key, then writes the URL (size bytes,
 * SL_PRESIGN_URL_MAX) and its validity in seconds. */
int sl_gw_presign(struct sl_gateway *gw, const struct sl_gw_caller *caller,
		  const struct sl_meta_user *u, const struct sl_gw_presign_req *p, char *url,
		  size_t size, uint32_t *expires_s, struct sl_err *err);

#endif
