/*
 * net.h - listening sockets from a "HOST:PORT" setting ([v6-address]:PORT too; port 0 picks a
 * free one), for the servers that take their address from configuration (the gateway, /metrics).
 */
#ifndef SL_NET_H
#define SL_NET_H

#include "err.h"

/* Listens on where, the value of config key `key` (named in errors): *fd gets the socket
 * (close-on-exec), *port the port it got. */
int sl_net_listen(const char *where, const char *key, int *fd, int *port, struct sl_err *err);

#endif
