/*
 * peer_internal.h - what the files of the cache group share (peer.c: the block server, the
 * group's handle and tickets, replicas handed over; peer_client.c: reads from peers, offers and
 * hflush replication): the protocol's constants, struct sl_peers and the helpers both sides use.
 *
 * The cache group: the nodes of a volume's node list ("nodes") serve one another the
 * blocks they hold, so that a read that misses memory and the local disk asks the block's owners
 * on the ring (locality.c) before object storage, and a block cached anywhere in the group is
 * read from object storage once.
 *
 * Server: with cache-group.port set, a volume handle listens on that port at the address of
 * cache-group.host (its name in the node list) and answers each GET from its disk cache, then
 * its staging area and the replicas it keeps (below). One process per node can listen, and only
 * it keeps replicas (their journals are its own); another one (the port is taken, or
 * cache-group.serve=false where `sluice cache-server` serves the node) reads from the group
 * without serving (asking its node's server like any other). At most MAX_CONNS connections are
 * served at once.
 *
 * Client: a block's owners are the first hosts of the ring at its logical block (file, offset /
 * block.size), the hosts getFileBlockLocations names, so that a task Hadoop schedules there reads
 * from its own disk (at (slice id, block index) where a caller cannot say). The reader asks them
 * in ring order, skipping itself if it serves (else its node's server is asked like any other),
 * each within cache-group.timeout, and falls back to object storage when none has the block; a
 * slow or dead peer costs one timeout. Small random reads ask for just their bytes. A block it
 * then downloads goes to its first owner's disk cache (OFFER), not its own, unless it is that
 * owner: a node's disk holds its share of the group's cache.
 *
 * Replicated hflush (hflush.replicas = R): a block the writer staged for an hflush is sent to
 * R-1 owners (the next ones on the ring when one fails) by the volume's replicator threads, while
 * the writer stages the same blocks locally. The owners keep it durably as hflush staging does,
 * in the journal DIR/<uuid>/replicas/.journal of their cache dir (a block of up to
 * SL_JOURNAL_ONLY_MAX there alone until the holder's next sweep writes its file
 * DIR/<uuid>/replicas/<key>, a larger one with its file written first), and serve it like their
 * own. The hflush returns once they have it, so a reader anywhere gets it at once and it
 * survives the loss of the writer's node. With background commits (hflush.commit=background)
 * the copies, the writer's own included, are acknowledged once written and synced before the
 * commit (OP_SYNC): as on HDFS, an acknowledged hflush is in the memory of R nodes, and survives
 * any process's crash and the loss of R-1 nodes. Fewer reachable owners than R-1: the hflush still
 * returns, the block is counted as degraded and logged. A holder's sweep (sl_peers_sweep) hands
 * a replica over once its file is older than the grace period: into its disk cache if the block
 * is in object storage by then, else uploaded first if its slice was committed (its writer is
 * gone), or dropped if the slice never was after an hour (its writer died before the commit). The upload is claimed in
 * the metadata first (cache/claim.h), so that of the block's holders and a client that takes
 * over the writer's staging directory one uploads it; the others keep their copies until the
 * object is there.
 *
 * Protocol, big-endian; a connection carries requests one after the other (clients keep idle
 * connections for the next request to the same peer):
 *   request  "SLPG", u8 version (1), u8 op (1: GET, 2: PUT a replica, 3: OFFER a block to
 *            its owner's cache, 4: a ticketed GET, 5: COMMIT the pending hflushes of the file
 *            whose key is "commit/<ino>" or, recovering its lease, "commit/<ino>/recover":
 *            answered 0 by its writer's node, EINPROGRESS by a node that committed records a gone
 *            writer left, EBUSY by one that keeps records of a live writer, else ENOENT;
 *            6: PUT_RECORD a slice's commit record, cache/stage.h; 7: SYNC the copies kept
 *            so far, key "sync"; 8: PUT_MANY, key "batch", whose block is u32 n, then n items
 *            of u16 key length, key, u32 length, bytes: blocks and records an hflush round
 *            sends to the same owners, kept all or none before the answer; PUT, PUT_RECORD and
 *            PUT_MANY | 0x80: answered once written, unsynced, an OP_SYNC follows before the
 *            writer commits), u16 key
 *            length, key, i64 unix time, for GET (and COMMIT, SYNC: 0, 0) u32 offset and u32 length
 *            of the bytes wanted (a ticketed GET then i64 the
 *            ticket's expiry, u64 ino and u64 logical block of the block's place), for PUT and
 *            OFFER u32 length and the block, and an HMAC-SHA256 under the group key (a ticketed
 *            GET: under its ticket's key) of everything before it
 *   answer   u8 status (0 or an errno), u32 length, the bytes (GET), and an HMAC-SHA256 under
 *            the same key of (the request's HMAC, status, length, bytes)
 * Kerberos mode: a client has no group key; the gateway gives it a ticket per block it may read
 * (ticket_key: the group key's HMAC of the block's key and an expiry), which it uses as the key of
 * a ticketed GET; the owner derives the same, and reads the block through from object storage if
 * it does not hold it (such a client never offers: it cannot prove a block's content).
 * The group key is derived from the volume's secret (sl_meta_volume_key): every client with
 * direct access to the metadata has it, and nobody else, so a peer of another volume or a
 * stranger is refused and a forged or altered answer is dropped. A request's time must be
 * within CLOCK_SKEW_S of the server's; a replayed GET only fetches a block its sender saw.
 * Keys must be data block keys of this volume (sl_block_key_parse). The disk cache verifies a
 * block's CRC32Cs before it is served, and the answer's HMAC covers it on the way.
 */
#ifndef SL_PEER_INTERNAL_H
#define SL_PEER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../cache/stage.h"
#include "../object/presign.h"
#include "vfs.h"

#define PEER_MAGIC "SLPG"
#define PEER_VERSION 1
#define OP_GET 1
#define OP_PUT 2
#define OP_OFFER 3
#define OP_GET_TICKETED 4 /* a GET from a client without the group key (Kerberos mode) */
#define OP_COMMIT 5 /* commit the pending hflushes of a file (key COMMIT_PREFIX<ino>) */
#define OP_PUT_RECORD 6 /* keep a copy of a slice's commit record (cache/stage.h) */
#define OP_SYNC 7 /* make the copies kept so far durable (key SYNC_KEY) */
#define OP_PUT_MANY 8 /* PUT and PUT_RECORD of several items at once (key BATCH_KEY) */
#define BATCH_KEY "batch"
/* On OP_PUT or OP_PUT_RECORD: answer once the copy is written, unsynced (an OP_SYNC follows
 * before its writer commits it). */
#define OP_UNSYNCED 0x80
#define SYNC_KEY "sync"
#define COMMIT_PREFIX "commit/"
#define COMMIT_RECOVERING "/recover" /* after the ino: the file's lease is being recovered */
#define COMMIT_WAIT_MS 30000 /* how long an OP_COMMIT may take once connected */
#define TICKET_LABEL "sluice peer ticket v1"
#define TICKET_PREFIX "peer-ticket:"
#define REPLICA_DIR "replicas"
#define ABANDON_S 3600 /* an uncommitted replica older than this: its writer died */
#define MAC_BYTES SL_META_KEY_BYTES
#define KEY_LABEL "sluice cache group v1"
#define CLOCK_SKEW_S 300
#define MAX_CONNS 256
#define REQ_HEAD 8 /* magic, version, op, key length */
#define ANS_HEAD 5 /* status, length */
#define PEER_TRIES 2 /* owners asked for one block before object storage */
#define POOL_SIZE 32 /* idle connections kept to peers */
#define REPLICATORS 16 /* hflush copies sent at once (as many as the writer's threads, mostly) */
#define MAX_UNSYNCED_HOSTS 64 /* hosts with unsynced copies tracked (more: the oldest synced) */
#define POOL_IDLE_MS 30000 /* the server closes after 60 s idle; we let go before */

struct sl_peers {
	struct sl_volume_core *v;
	uint8_t key[MAC_BYTES];
	char self[256]; /* this node's name in the node list */
	char port[16];
	int timeout_ms;
	int replicas; /* hflush.replicas: copies of an hflushed block, the writer's included */
	int lfd; /* -1: not serving */
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	bool stopping;
	int conns[MAX_CONNS]; /* connections being served (their threads are detached) */
	size_t nconns;
	/* idle client connections to peers, reused by the next request to the same host */
	pthread_mutex_t pool_lock;
	struct idle_conn {
		char host[256];
		int fd;
		int64_t since_ms;
	} pool[POOL_SIZE];
	size_t npool;
	/* a serving node's journals of its replicas, one per cache directory (NULL where none
	 * could be kept: each replica is then synced on its own) */
	struct sl_journal **journals;
	size_t njournals;
	/* threads that send an hflush's copies while the writer stages them itself (with
	 * hflush.replicas >= 2), so that no hflush creates a thread */
	struct sl_pool *replicators;
	/* Kerberos mode (no group key): tickets for ticketed GETs come from the gateway through
	 * this provider (method "PEER"); none after a gateway said it issues none */
	bool ticketed;
	struct sl_presign_provider tickets;
	atomic_bool no_tickets;
	/* the commit records this node keeps for writers (OP_PUT_RECORD), until their slices are
	 * committed: by their writer, or here when it is gone */
	pthread_mutex_t records_lock;
	struct held_record *records;
	/* the hosts that take copies without sync (OP_UNSYNCED), until an OP_SYNC covers them:
	 * kept counts the copies they answered, synced how many of those an OP_SYNC that started
	 * after their answers covered, inflight the copies on their way; uses counts the times
	 * the slot was taken, so that a SYNC's late answer does not count for its next host */
	pthread_mutex_t unsynced_lock;
	struct unsynced_host {
		char host[256];
		uint64_t kept, synced, uses;
		uint32_t inflight;
	} unsynced[MAX_UNSYNCED_HOSTS];
	size_t nunsynced;
	struct sl_peer_stats stats;
};

struct held_record {
	char key[SL_KEY_MAX];
	struct sl_stage_record r;
	struct held_record *next;
};

/* For a reader of ino (this node's own part of sl_peers_commit_pending): commits the records
 * this node keeps of ino's writers that are gone (of any writer: recovering, for a recovery of
 * the file's lease, which fences its writer), in order, as far as the file reaches.
 * EINPROGRESS if it committed some; EBUSY if it keeps some of a writer that is alive; ENOENT. */
int sl_peers_commit_held(struct sl_peers *p, sl_ino ino, bool recovering);

/* The protocol's big-endian integers. */
static inline void sl_peer_put_u16(uint8_t *p, uint16_t x)
{
	p[0] = (uint8_t)(x >> 8);
	p[1] = (uint8_t)x;
}

static inline uint16_t sl_peer_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void sl_peer_put_u32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (24 - 8 * i));
}

static inline uint32_t sl_peer_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void sl_peer_put_i64(uint8_t *p, int64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)x >> (56 - 8 * i));
}

static inline int64_t sl_peer_get_i64(const uint8_t *p)
{
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return (int64_t)x;
}

/* HMAC-SHA256 of data under key (the group key, or a ticket's): false if it failed. */
bool sl_peer_mac(const uint8_t key[MAC_BYTES], const uint8_t *data, size_t n,
		 uint8_t out[MAC_BYTES]);
/* Waits until fd is ready for events or the deadline (monotonic ms) passes: 0, -ETIMEDOUT or
 * -errno. */
int sl_peer_wait_fd(int fd, short events, int64_t deadline);
/* Reads exactly n bytes: 0, -ECONNRESET at end of stream, -ETIMEDOUT or -errno. */
int sl_peer_read_full(int fd, void *buf, size_t n, int64_t deadline);
/* Writes all n bytes: 0, -ETIMEDOUT or -errno. */
int sl_peer_write_full(int fd, const void *buf, size_t n, int64_t deadline);
/* The replica of key this node keeps for a writer, whole, into a new buffer (caller frees): from
 * its journal while that alone holds it, else from its file. 0, -ENOENT if this node keeps none,
 * or another negative errno. */
int sl_peer_read_replica(struct sl_peers *p, const char *key, uint8_t **data, uint32_t *len);

#endif
