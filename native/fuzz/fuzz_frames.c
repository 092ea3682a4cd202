/*
 * fuzz_frames.c - libFuzzer target for what an unauthenticated peer sends: the bytes arrive on a
 * socket whose sender then closes, and the server side of the opening exchange and handshake
 * (sl_rpc_server_handshake) runs against them: GSSAPI with a keytab made offline (no KDC), or the
 * delegation token mechanism with a lookup that knows one token (FZ_TOKEN_IDENT, fuzz_common.h);
 * if a handshake succeeds, the rest is read as protected messages. The same bytes also go through
 * sl_rpc_frame_read with a small limit. Whatever the bytes, both must end (never wait for more
 * than arrived) without a crash or a leak.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "rpc/conn.h"

#define MAX_FRAME 16384 /* handshake tokens and messages; larger frames are refused */
#define SMALL_FRAME 64  /* the limit of the plain frame reader's pass */
#define TIMEOUT_MS 1000 /* the input is all there, then end of stream: nothing waits this long */

/* libFuzzer's entry points take no context: what must outlive one input is process-wide. */
static const char *dir, *keytab;
static unsigned long inputs;
static bool verbose; /* SLUICE_FUZZ_VERBOSE=1: how each input ended, to check what seeds reach */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_frames: %s: %s\n", what, strerror(errno));
	abort();
}

/* A socket from which the input can be read, followed by end of stream; the other end stays
 * open for what the server answers (a few small frames: the socket buffer holds them). */
static void feed(const uint8_t *data, size_t size, int *server, int *peer)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	int buf = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	while (size) {
		ssize_t n = send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* -max_len keeps inputs far below the buffer: this does not happen */
		data += n;
		size -= (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	*server = sv[0];
	*peer = sv[1];
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fz_tempdir("frames");
	keytab = fz_krb_setup(dir);
	const char *v = getenv("SLUICE_FUZZ_VERBOSE");
	verbose = v && !strcmp(v, "1");
	return 0;
}

/* The gateway's token lookup stands in here: one known identifier, every other one refused. */
static int token_lookup(void *arg, const uint8_t *ident, size_t len, uint8_t *password,
			struct sl_err *err)
{
	(void)arg;
	if (len != sizeof(FZ_TOKEN_IDENT) - 1 || memcmp(ident, FZ_TOKEN_IDENT, len))
		return sl_errf(err, -EACCES, "no such delegation token");
	memcpy(password, FZ_TOKEN_PASSWORD, SL_TS_PASSWORD_LEN);
	return 0;
}

static void handshake(const uint8_t *data, size_t size)
{
	int peer;
	struct sl_rpc_conn c = {.max_frame = MAX_FRAME, .timeout_ms = TIMEOUT_MS};
	feed(data, size, &c.fd, &peer);
	/* A replay cache per input: each input is judged alone (test_gateway covers replays). */
	char rcache[1100];
	snprintf(rcache, sizeof(rcache), "%s/rcache-%lu", dir, inputs);
	struct sl_gss_server_conf gc = {.keytab = keytab, .principal = FZ_SERVICE,
					.rcache = rcache};
	struct sl_rpc_server_auth auth = {.gss = &gc, .token_lookup = token_lookup};
	struct sl_err err = {0};
	int rc = sl_rpc_server_handshake(&c, &auth, &err);
	if (verbose)
		fprintf(stderr, "fuzz_frames: handshake: %d %s\n", rc, rc ? err.msg : "");
	if (!rc) {
		if (c.mech == SL_RPC_MECH_KERBEROS ? !sl_gss_peer(c.gss) : !c.ts) {
			fprintf(stderr, "fuzz_frames: a handshake succeeded without a peer name\n");
			abort();
		}
		for (;;) {
			void *msg = NULL;
			size_t len = 0;
			rc = sl_rpc_recv(&c, TIMEOUT_MS, &msg, &len, &err);
			free(msg);
			if (verbose)
				fprintf(stderr, "fuzz_frames: message: %d %s (%zu bytes)\n", rc,
					rc ? err.msg : "", len);
			if (rc)
				break;
		}
	}
	sl_rpc_conn_close(&c);
	close(peer);
	unlink(rcache);
}

static void frames(const uint8_t *data, size_t size)
{
	int fd, peer;
	feed(data, size, &fd, &peer);
	struct sl_err err = {0};
	for (;;) {
		void *p = NULL;
		size_t len = 0;
		int rc = sl_rpc_frame_read(fd, SMALL_FRAME, TIMEOUT_MS, TIMEOUT_MS, &p, &len, &err);
		if (!rc && (!p || len > SMALL_FRAME)) {
			fprintf(stderr, "fuzz_frames: a frame of %zu bytes passed a limit of %d\n", len,
				SMALL_FRAME);
			abort();
		}
		free(p);
		if (rc)
			break;
	}
	close(fd);
	close(peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	inputs++;
	handshake(data, size);
	frames(data, size);
	return 0;
}
