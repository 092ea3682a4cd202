/* internal.h - the gateway's state, shared by server.c (connections) and dispatch.c (operations). */
#ifndef SL_GATEWAY_INTERNAL_H
#define SL_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "../auth/gss.h"
#include "../auth/rules.h"
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
};

#endif
