/*
 * conn.h - one gateway connection, used by both ends: length-prefixed frames on a TCP socket (with
 * deadlines and a size limit), the opening exchange and GSSAPI handshake, and per-message
 * protection (GSS wrap: integrity, or integrity and confidentiality) of every frame after it.
 *
 * Frame: u32 big-endian length, then that many bytes. Opening: the client sends
 * "SLGW" u16 version u8 mechanism u8 privacy (1: the client requires it); the server answers "SLGW" u16 version u8 status
 * and, for a refusal, a message. Handshake frames start with u8 kind: 0 a handshake message, 1 a
 * refusal (the connection then closes): the server says why only in its log, since the reason can
 * name principals and this peer is not authenticated.
 *
 * Mechanisms: SL_RPC_MECH_KERBEROS (handshake messages are GSS tokens; messages are GSS-wrapped) and
 * SL_RPC_MECH_TOKEN, a delegation token (auth/token_session.h): the client sends bytes identifier,
 * bytes nonce_c; the server bytes nonce_s, bytes its proof; the client bytes its proof (wire.h
 * encoding). Messages are then AES-256-GCM sealed, always (a token session is confidential). Each
 * mechanism is one protection (wrap/unwrap) behind sl_rpc_send/recv, the framing is shared.
 *
 * Protection cannot be lowered by a man in the middle who rewrites that byte: each end requires
 * what its own configuration says (integrity, or privacy: sl_gss refuses weaker messages), so a
 * rewritten byte only ends the connection. The server protects its messages as the stronger of
 * its own demand, the client's and that of the message it answers.
 */
#ifndef SL_RPC_CONN_H
#define SL_RPC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/gss.h"
#include "../auth/token_session.h"
#include "../util/conf.h"
#include "../util/err.h"
#include "wire.h"

/* 2: WRITE_CHUNK and COMPACT_CHUNK carry the grant of the new slice; NEXT_IDS reads only the
 * usage counters. 3: idempotency tokens (proto.h, SL_OP_ONCE), MKNOD_LEASED. A gateway refuses
 * clients of another version in the opening exchange. */
#define SL_RPC_VERSION 3
#define SL_RPC_MECH_KERBEROS 1
#define SL_RPC_MECH_TOKEN 2
#define SL_RPC_TOKEN_IDENT_MAX 1024 /* identifiers longer than this are refused */
#define SL_RPC_DEFAULT_MAX_FRAME (16u << 20)

struct sl_rpc_protection; /* how one mechanism protects messages (conn.c) */

struct sl_rpc_conn {
	int fd;
	uint8_t mech;          /* SL_RPC_MECH_* of the finished handshake; 0 before */
	struct sl_gss *gss;    /* Kerberos: the established context; NULL before the handshake */
	struct sl_ts *ts;      /* token: the established session; NULL before the handshake */
	const struct sl_rpc_protection *prot; /* set by a finished handshake */
	bool confidential;     /* this end requires privacy (set before the handshake); on a server
	                          also when the client asked for it */
	uint32_t max_frame;    /* larger incoming frames are refused */
	int timeout_ms;        /* for one frame to arrive or leave once it started, and handshakes */
};

int sl_rpc_frame_write(int fd, const void *p, size_t len, int timeout_ms, struct sl_err *err);
/* wait_ms bounds the wait for the first byte (-1: forever, for idle connections with their own
 * limit), timeout_ms the rest of the frame. -ECONNRESET at a clean end of stream before a frame,
 * -EMSGSIZE for a frame above max, -ETIMEDOUT. *p is malloc'd. */
int sl_rpc_frame_read(int fd, uint32_t max, int wait_ms, int timeout_ms, void **p, size_t *len,
		      struct sl_err *err);

/* Connects to host:port (numeric or a name), with a deadline. */
int sl_rpc_connect(const char *host, const char *port, int timeout_ms, int *fd, struct sl_err *err);
int sl_rpc_client_handshake(struct sl_rpc_conn *c, const struct sl_gss_client_conf *gc,
			    struct sl_err *err);
/* Authenticates with a delegation token instead (no Kerberos credentials involved); the session is
 * confidential whatever c->confidential says. -EACCES when the gateway refuses the token, or when
 * it fails to prove that it knows the token's master key (a wrong password, or not a gateway of
 * the volume). */
int sl_rpc_client_token_handshake(struct sl_rpc_conn *c, const uint8_t *ident, size_t ident_len,
				  const uint8_t password[SL_TS_PASSWORD_LEN], struct sl_err *err);

/* The server's side of the token mechanism: the password of the valid token that ident names, or
 * an error that only the server's log sees (the peer reads a generic refusal). */
typedef int (*sl_rpc_token_lookup_fn)(void *arg, const uint8_t *ident, size_t len,
				      uint8_t password[SL_TS_PASSWORD_LEN], struct sl_err *err);
struct sl_rpc_server_auth {
	const struct sl_gss_server_conf *gss; /* Kerberos (required) */
	sl_rpc_token_lookup_fn token_lookup;  /* NULL: token clients are refused */
	void *token_arg;
};
/* Either mechanism, as the client's opening asks. After success c->mech says which: for Kerberos
 * sl_gss_peer(c->gss) names the authenticated client principal; for a token the lookup accepted
 * the identifier (its caller keeps what it needs). A refusal is sent to the client before
 * returning the error. */
int sl_rpc_server_handshake(struct sl_rpc_conn *c, const struct sl_rpc_server_auth *auth,
			    struct sl_err *err);

/* One protected message each way. */
int sl_rpc_send(struct sl_rpc_conn *c, const struct sl_wbuf *msg, struct sl_err *err);
int sl_rpc_recv(struct sl_rpc_conn *c, int wait_ms, void **msg, size_t *len, struct sl_err *err);

/* gateway.protection of conf (NULL: the default): *privacy when it says "privacy". */
int sl_rpc_conf_privacy(const struct sl_conf *conf, bool *privacy, struct sl_err *err);

/* Closes the socket and frees the context or session. */
void sl_rpc_conn_close(struct sl_rpc_conn *c);

#endif
