/*
 * gateway_testutil.h - a gateway served in the test's own process, on a free loopback port, for
 * the Kerberos-mode tests (test_gateway*.c).
 */
#ifndef SL_GATEWAY_TESTUTIL_H
#define SL_GATEWAY_TESTUTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/gateway.h"
#include "sluice.h"
#include "testutil.h"

struct served {
	struct sl_gateway *gw;
	pthread_t t;
	int port;
	char url[64]; /* gateway://127.0.0.1:PORT */
};

static inline void *tu_gateway_main(void *arg)
{
	struct served *s = arg;
	sl_gateway_run(s->gw);
	return NULL;
}

/* Starts a gateway with conf on clock (NULL: the system clock) in a thread of its own; a gateway
 * that cannot start ends the test. */
static inline void tu_serve(struct served *s, const sluice_kv *conf, size_t n,
			    const struct sl_clock *clock)
{
	char msg[1024];
	*s = (struct served){0};
	if (sl_gateway_new(conf, n, clock, &s->gw, msg, sizeof(msg))) {
		fprintf(stderr, "gateway: %s\n", msg);
		exit(1);
	}
	s->port = sl_gateway_port(s->gw);
	snprintf(s->url, sizeof(s->url), "gateway://127.0.0.1:%d", s->port);
	REQUIRE(pthread_create(&s->t, NULL, tu_gateway_main, s) == 0);
}

static inline void tu_unserve(struct served *s)
{
	sl_gateway_stop(s->gw);
	pthread_join(s->t, NULL);
	sl_gateway_free(s->gw);
}

#endif
