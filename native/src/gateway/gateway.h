/*
 * gateway.h - sluice gateway, the trusted metadata server of Kerberos mode (DESIGN.md section 6):
 * it holds the database password and the bucket secret, verifies each client's Kerberos ticket,
 * maps the principal to a user (auth_to_local, proxy users, groups) and runs the client's metadata
 * operations as that user. It keeps no state of its own beyond open connections: several gateways
 * may serve one volume.
 */
#ifndef SL_GATEWAY_H
#define SL_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"
#include "../meta/codec.h"

struct sl_gateway;
struct sl_clock;

/* Opens the volume in direct mode (conf as for sluice_init, plus the gateway.* keys) on clock
 * (NULL: the system clock; a test's own, which decides the lifetimes of grants and tokens),
 * reads the identity rules and starts listening. -errno with a message in errmsg. */
int sl_gateway_new(const sluice_kv *conf, size_t nconf, const struct sl_clock *clock,
		   struct sl_gateway **out, char *errmsg, size_t errmsg_size);
/* Its volume handle (direct mode), whose counters /metrics shows. */
sluice_volume *sl_gateway_volume(struct sl_gateway *gw);
/* The port it listens on (useful with gateway.listen=127.0.0.1:0). */
int sl_gateway_port(const struct sl_gateway *gw);
/* Serves connections until sl_gateway_stop; returns 0 or -errno. */
int sl_gateway_run(struct sl_gateway *gw);
/* Makes sl_gateway_run return after closing every connection; async-signal-safe. */
void sl_gateway_stop(struct sl_gateway *gw);
void sl_gateway_free(struct sl_gateway *gw);

/* ---- dispatch.c ----------------------------------------------------------------------------- */
struct sl_gw_caller {
	const char *name;    /* the authenticated short name */
	const char *addr;    /* the client's numeric address */
	bool token;          /* authenticated with a delegation token of `name` (not Kerberos): may
	                        act only as name, and may not issue or renew tokens */
};
/* Runs one request of caller and writes the response (status, message, results). Never fails:
 * malformed requests get an error status. Exposed for the decoder's fuzz target. */
void sl_gw_dispatch(struct sl_gateway *gw, const struct sl_gw_caller *caller, const void *req,
		    size_t len, struct sl_wbuf *resp);

#endif
