/*
 * peer.c - the cache group's block server (GET, PUT of a replica, OFFER, ticketed GET) and the
 * replicas it keeps for writers, handed over to its disk cache or uploaded by sl_peers_sweep; the
 * group's handle (sl_peers_new, sl_peers_free), its key and tickets; and the HMACs and socket I/O
 * with deadlines that the client side (peer_client.c) uses too. How the group works and its
 * protocol: peer_internal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../cache/claim.h"
#include "peer_internal.h"

bool sl_peer_mac(const uint8_t key[MAC_BYTES], const uint8_t *data, size_t n,
		 uint8_t out[MAC_BYTES])
{
	unsigned len = 0;
	return HMAC(EVP_sha256(), key, MAC_BYTES, data, n, out, &len) && len == MAC_BYTES;
}

/* A ticket's key: what a gateway gives a client allowed to read the block `key` until `expiry`
 * (unix seconds), derived from the group key, so that any member can check it. The client never
 * sends it: it signs its request and checks the answer with it. */
static bool ticket_key(const uint8_t group[MAC_BYTES], const char *key, int64_t expiry,
		       uint8_t out[MAC_BYTES])
{
	size_t klen = strlen(key), n = sizeof(TICKET_LABEL) + klen + 8;
	uint8_t *msg = malloc(n);
	if (!msg)
		return false;
	memcpy(msg, TICKET_LABEL, sizeof(TICKET_LABEL)); /* with its NUL: the label ends there */
	memcpy(msg + sizeof(TICKET_LABEL), key, klen);
	sl_peer_put_i64(msg + sizeof(TICKET_LABEL) + klen, expiry);
	bool ok = sl_peer_mac(group, msg, n, out);
	free(msg);
	return ok;
}

int sl_peers_group_key(struct sl_meta *m, uint8_t out[SL_META_KEY_BYTES], struct sl_err *err)
{
	return sl_meta_volume_key(m, KEY_LABEL, out, err);
}

int sl_peers_ticket(const uint8_t group[SL_META_KEY_BYTES], const char *key, int64_t expiry,
		    char *out, size_t size, struct sl_err *err)
{
	uint8_t t[MAC_BYTES];
	if (!ticket_key(group, key, expiry, t))
		return sl_errf(err, -ENOMEM, "cache group: cannot derive a ticket");
	char hex[2 * MAC_BYTES + 1];
	for (size_t i = 0; i < MAC_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", t[i]);
	OPENSSL_cleanse(t, sizeof(t));
	int n = snprintf(out, size, TICKET_PREFIX "%" PRId64 ":%s", expiry, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	if (n < 0 || (size_t)n >= size)
		return sl_errf(err, -ENAMETOOLONG, "cache group: a ticket does not fit %zu bytes",
			       size);
	return 0;
}

int sl_peer_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - sl_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = fd, .events = events};
		int n = poll(&pf, 1, (int)(left > 60000 ? 60000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int sl_peer_read_full(int fd, void *buf, size_t n, int64_t deadline)
{
	uint8_t *b = buf;
	while (n) {
		int rc = sl_peer_wait_fd(fd, POLLIN, deadline);
		if (rc)
			return rc;
		ssize_t k = recv(fd, b, n, 0);
		if (k == 0)
			return -ECONNRESET;
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int sl_peer_write_full(int fd, const void *buf, size_t n, int64_t deadline)
{
	const uint8_t *b = buf;
	while (n) {
		int rc = sl_peer_wait_fd(fd, POLLOUT, deadline);
		if (rc)
			return rc;
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* ---- server ---------------------------------------------------------------------------------- */

struct conn {
	struct sl_peers *p;
	int fd;
};

/* Bytes [off, off+len) of the block named by key (blen bytes), from the disk cache, the staging
 * area or the replicas, into a new buffer: 0, or -ENOENT where this node does not hold it. */
static int local_block(struct sl_peers *p, const char *key, uint32_t blen, uint32_t off,
		       uint32_t len, uint8_t **out)
{
	struct sl_volume_core *v = p->v;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	struct sl_err err = {0};
	uint32_t whole = 0;
	if (v->disk && sl_diskcache_read(v->disk, key, off, data, len, &err) == (int64_t)len) {
		*out = data;
		return 0;
	}
	/* staged or a replica: whole blocks (small ones, the last of an hflush's slice mostly) */
	uint8_t *copy = NULL;
	bool found = v->stage && !sl_stage_read(v->stage, key, &copy, &whole, &err) &&
		     whole == blen;
	if (!found) {
		free(copy);
		copy = NULL;
		found = !sl_peer_read_replica(p, key, &copy, &whole) && whole == blen;
	}
	if (found)
		memcpy(data, copy + off, len);
	free(copy);
	if (!found) {
		free(data);
		return -ENOENT;
	}
	*out = data;
	return 0;
}

/* A ticketed GET of a block this node does not hold: its client, in Kerberos mode, cannot be
 * trusted to offer what it downloaded (it could plant a wrong block for others), so the owner
 * loads the block from object storage itself, keeps it as any block it reads, and serves it. */
static int read_through(struct sl_peers *p, uint64_t id, uint32_t indx, uint32_t blen,
			const struct sl_place *at, uint32_t off, uint32_t len, uint8_t **out)
{
	struct sl_volume_core *v = p->v;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	/* a slice size whose block indx is blen long: the block's key is the one asked for */
	uint32_t size = indx * v->layout.block_size + blen;
	struct sl_err err = {0};
	int rc = sl_blockcache_read(v->cache, id, size, indx, at, off, data, len, &err);
	if (rc) {
		sl_log(&v->log, SL_LOG_DEBUG, "cache group: reading through for a ticketed GET: %s",
		       err.msg);
		free(data);
		return rc == -EIO || rc == -ENOENT ? -ENOENT : rc;
	}
	*out = data;
	return 0;
}

/* Where this node keeps the replica of key, once it has a file: false if the path does not fit. */
static bool replica_path(struct sl_volume_core *v, const char *key, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s/%s", sl_diskcache_root(v->disk, key), REPLICA_DIR, key);
	return n > 0 && (size_t)n < size;
}

/* The journal of the cache directory that keeps key's replica, or NULL. */
static struct sl_journal *journal_for(struct sl_peers *p, const char *key)
{
	const char *root = sl_diskcache_root(p->v->disk, key);
	for (size_t i = 0; i < p->njournals; i++)
		if (sl_diskcache_root_at(p->v->disk, i) == root)
			return p->journals[i];
	return NULL;
}

int sl_peer_read_replica(struct sl_peers *p, const char *key, uint8_t **data, uint32_t *len)
{
	struct sl_volume_core *v = p->v;
	char path[PATH_MAX];
	struct sl_err err = {0};
	if (!v->disk)
		return -ENOENT;
	struct sl_journal *j = journal_for(p, key);
	int rc = j ? sl_journal_read(j, key, data, len, &err) : -ENOENT;
	if (rc != -ENOENT)
		return rc;
	if (!replica_path(v, key, path, sizeof(path)))
		return -ENOENT;
	return sl_cachefile_read_all(path, data, len, &err);
}

/* PUT: keeps a replica of key durably in this node's cache dir, within its cache-size and
 * free-space-ratio (cached blocks are evicted for it). Durably as hflush staging is: in the
 * directory's journal, whose fdatasync the PUTs that arrive together share (journal.c), small
 * blocks there alone (sl_peers_sweep writes their files), larger ones with their file written
 * first, unsynced. Where no journal could be kept, the file is synced. */
static int keep_replica(struct sl_peers *p, const char *key, const uint8_t *data, uint32_t len,
			bool sync)
{
	struct sl_volume_core *v = p->v;
	char path[PATH_MAX];
	if (!v->disk)
		return -EROFS; /* nowhere durable to keep it: the writer asks the next owner */
	if (!replica_path(v, key, path, sizeof(path)))
		return -ENAMETOOLONG;
	/* a slice's commit record is a few bytes, and gone with its slice's commit */
	bool record = !strncmp(key, SL_STAGE_RECORD_DIR "/", strlen(SL_STAGE_RECORD_DIR) + 1);
	if (!record && !sl_diskcache_keep_room(v->disk, key, len))
		return -ENOSPC; /* the writer asks the next owner */
	struct sl_err err = {0};
	struct sl_journal *j = journal_for(p, key);
	bool with_file = !j || len > SL_JOURNAL_ONLY_MAX;
	int rc = with_file ? sl_cachefile_write(path, data, len, !j, &err) : 0;
	if (!rc && j &&
	    (rc = sl_journal_append(j, &key, &data, &len, 1, with_file, sync, NULL, &err)) &&
	    with_file)
		unlink(path); /* never durable: the writer asks the next owner */
	if (rc)
		sl_log(&v->log, SL_LOG_WARN, "cache group: keeping a replica: %s", err.msg);
	return rc;
}

/* OP_SYNC: the copies kept so far (replicas and records) made durable. 0 or a positive errno. */
static int sync_replicas(struct sl_peers *p)
{
	for (size_t i = 0; i < p->njournals; i++) {
		struct sl_err err = {0};
		if (p->journals[i] && sl_journal_sync(p->journals[i], NULL, &err)) {
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: %s", err.msg);
			return -err.code;
		}
	}
	atomic_fetch_add(&p->stats.syncs, 1);
	return 0;
}

/* ---- commit records kept for writers (OP_PUT_RECORD) ----------------------------------------
 * A writer with background commits sends each slice's record with the copies of its blocks. A
 * holder keeps it as a replica (journaled), indexed in memory by inode, and drops it once the
 * file reaches the slice's end (the writer says how far it committed with each record it sends;
 * commits are in order). When the writer's session is gone, the holder commits the records
 * itself, in order and without a hole, under the writer's lease and a claim (one holder does):
 * for a reader that asks (OP_COMMIT) or at its sweep. */

static void forget_held(struct sl_peers *p, struct held_record *h)
{
	struct sl_journal *j = journal_for(p, h->key);
	char path[PATH_MAX];
	if (j)
		sl_journal_retire(j, h->key);
	if (replica_path(p->v, h->key, path, sizeof(path)))
		unlink(path);
	free(h);
}

/* Drops the records of ino that end by end (all of them with all), those under like's lease
 * only when like is given. */
static void drop_held(struct sl_peers *p, sl_ino ino, uint64_t end, bool all,
		      const struct sl_stage_record *like)
{
	struct held_record *gone = NULL;
	pthread_mutex_lock(&p->records_lock);
	for (struct held_record **pp = &p->records; *pp;) {
		struct held_record *h = *pp;
		if (h->r.ino == ino && (all || sl_stage_record_end(&h->r) <= end) &&
		    (!like || (h->r.lease_sid == like->lease_sid &&
			       h->r.lease_gen == like->lease_gen))) {
			*pp = h->next;
			h->next = gone;
			gone = h;
		} else {
			pp = &h->next;
		}
	}
	pthread_mutex_unlock(&p->records_lock);
	while (gone) {
		struct held_record *next = gone->next;
		forget_held(p, gone);
		gone = next;
	}
}

static void drop_held_key(struct sl_peers *p, const char *key)
{
	struct held_record *found = NULL;
	pthread_mutex_lock(&p->records_lock);
	for (struct held_record **pp = &p->records; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->key, key)) {
			found = *pp;
			*pp = found->next;
			break;
		}
	pthread_mutex_unlock(&p->records_lock);
	if (found)
		forget_held(p, found);
}

static void add_held(struct sl_peers *p, const char *key, const struct sl_stage_record *r)
{
	struct held_record *h = calloc(1, sizeof(*h));
	if (!h)
		return; /* kept on disk all the same: indexed again at the next start */
	snprintf(h->key, sizeof(h->key), "%s", key);
	h->r = *r;
	pthread_mutex_lock(&p->records_lock);
	bool dup = false;
	for (struct held_record *o = p->records; o && !dup; o = o->next)
		dup = !strcmp(o->key, key);
	if (!dup) {
		h->next = p->records;
		p->records = h;
	}
	pthread_mutex_unlock(&p->records_lock);
	if (dup)
		free(h);
}

/* The records kept in root's replica directory (after its journal's replay). */
static void index_held(struct sl_peers *p, const char *root)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s/" SL_STAGE_RECORD_DIR, root, REPLICA_DIR);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct sl_stage_record r;
		char key[SL_KEY_MAX];
		if (!sl_stage_record_parse(e->d_name, &r))
			continue;
		sl_stage_record_key(&r, key);
		add_held(p, key, &r);
	}
	closedir(d);
}

struct session_seen {
	bool found;
	int64_t expire_s;
};

static int session_seen_cb(void *arg, const struct sl_session_info *s)
{
	struct session_seen *seen = arg;
	seen->found = true;
	seen->expire_s = s->expire_s;
	return 0;
}

/* Whether the session that held a record's lease is gone (expired or closed). Without a lease
 * (leases=false) nobody can tell: the writer counts as alive, and its records wait for it. */
static bool writer_gone(struct sl_peers *p, uint64_t sid)
{
	struct sl_meta *m = p->v->meta;
	struct session_seen seen = {0};
	struct sl_err err = {0};
	if (!sid || !sl_meta_supports(m, SL_META_OP_GET_SESSION) ||
	    sl_meta_get_session(m, sid, session_seen_cb, &seen, &err))
		return false;
	return !seen.found || seen.expire_s < sl_clock_real_s(p->v->clock);
}

/* Whether every block of r's slice is somewhere: here, with its other owners, or in object
 * storage. A writer killed in the middle of an hflush may have sent a slice's record and not
 * yet its block copies (they travel at once); that hflush was never acknowledged, and its slice
 * must not be committed with a block nobody has. */
static bool slice_kept(struct sl_peers *p, const struct sl_stage_record *r)
{
	struct sl_volume_core *v = p->v;
	uint64_t lbs = v->logical_block_size ? v->logical_block_size : 1;
	uint32_t nblocks = (uint32_t)((r->size + v->layout.block_size - 1) / v->layout.block_size);
	for (uint32_t i = 0; i < nblocks; i++) {
		char key[SL_KEY_MAX];
		uint32_t blen = sl_block_len(&v->layout, r->size, i);
		sl_block_key(&v->layout, r->id, i, r->size, key);
		uint8_t *one = NULL, byte;
		bool here = !local_block(p, key, blen, 0, 1, &one);
		free(one);
		if (here)
			continue;
		struct sl_place at = {.ino = r->ino,
				      .lblock = ((uint64_t)r->chunk * SL_CHUNK_SIZE + r->pos +
						 (uint64_t)i * v->layout.block_size) / lbs};
		struct sl_obj_info info;
		struct sl_err err = {0};
		if (sl_peers_fetch(p, key, &at, 0, &byte, 1) &&
		    sl_obj_head(v->store, key, &info, &err))
			return false;
	}
	return true;
}

static int held_cmp(const void *a, const void *b)
{
	const struct held_record *x = a, *y = b;
	return x->r.id < y->r.id ? -1 : x->r.id > y->r.id;
}

int sl_peers_commit_held(struct sl_peers *p, sl_ino ino, bool recovering)
{
	if (!p)
		return ENOENT;
	struct held_record *mine = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&p->records_lock);
	for (struct held_record *h = p->records; h; h = h->next) {
		if (h->r.ino != ino)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct held_record *more = realloc(mine, ncap * sizeof(*mine));
			if (!more)
				break;
			mine = more;
			cap = ncap;
		}
		mine[n++] = *h;
	}
	pthread_mutex_unlock(&p->records_lock);
	if (!n) {
		free(mine);
		return ENOENT;
	}
	qsort(mine, n, sizeof(*mine), held_cmp);
	struct sl_meta *m = p->v->meta;
	struct sl_meta_user root = {.superuser = true};
	struct sl_attr attr;
	struct sl_err err = {0};
	int rc = sl_meta_getattr(m, &root, ino, &attr, &err);
	if (rc == -ENOENT)
		drop_held(p, ino, 0, true, NULL); /* the file is gone */
	if (!rc)
		drop_held(p, ino, attr.length, false, NULL); /* committed (in order) */
	int committed = 0;
	bool waiting = false; /* records of a writer that may still commit them itself */
	bool gone = !rc && (recovering || writer_gone(p, mine[0].r.lease_sid));
	bool synced = false;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct sl_stage_record *r = &mine[i].r;
		if (sl_stage_record_end(r) <= attr.length)
			continue;
		if (i && !recovering && (r->lease_sid != mine[i - 1].r.lease_sid ||
					 r->lease_gen != mine[i - 1].r.lease_gen))
			gone = writer_gone(p, r->lease_sid);
		if (!gone) {
			waiting = true;
			break;
		}
		/* copies its writer had not had synced yet: now, before a commit names them (if
		 * that fails they are still here, and committing keeps what the writer acknowledged) */
		if (!synced)
			sync_replicas(p);
		synced = true;
		if (!slice_kept(p, r)) {
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: a block of slice %" PRIu64 " of "
			       "inode %" PRIu64 " its writer was hflushing when it died is nowhere: "
			       "that hflush was not acknowledged; its record and the file's later "
			       "ones are dropped", r->id, r->ino);
			drop_held(p, ino, 0, true, r);
			break;
		}
		enum sl_meta_claim got;
		sl_err_clear(&err);
		rc = sl_record_commit_claimed(m, r, sl_stage_record_end(r) - r->size, &got, &err);
		if (rc == -SL_ELEASE_LOST || rc == -ENOENT) {
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: a slice inode %" PRIu64 "'s "
			       "writer hflushed before it died cannot be committed: %s", r->ino,
			       err.msg);
			drop_held_key(p, mine[i].key);
			continue;
		}
		if (rc || got == SL_CLAIM_HELD)
			break; /* an earlier slice is still to come, or another holder is at it */
		committed += got == SL_CLAIM_WON;
		drop_held_key(p, mine[i].key);
	}
	if (committed) {
		atomic_fetch_add(&p->stats.records_committed, (uint64_t)committed);
		sl_log(&p->v->log, SL_LOG_INFO, "cache group: committed %d slices of inode %" PRIu64
		       " that its writer hflushed before it died", committed, (uint64_t)ino);
	}
	free(mine);
	return committed ? EINPROGRESS : waiting ? EBUSY : ENOENT;
}

/* The sweep's part: the records of every inode whose writer may be gone. */
static void sweep_held(struct sl_peers *p)
{
	sl_ino inos[64];
	size_t n = 0;
	pthread_mutex_lock(&p->records_lock);
	for (struct held_record *h = p->records; h && n < 64; h = h->next) {
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = inos[i] == h->r.ino;
		if (!seen)
			inos[n++] = h->r.ino;
	}
	pthread_mutex_unlock(&p->records_lock);
	for (size_t i = 0; i < n; i++)
		sl_peers_commit_held(p, inos[i], false);
}

/* A serving node's replica journals: first what a server that died here left is restored
 * (replicas it acknowledged whose files a crash of the machine lost), then new ones open.
 * Before the server takes connections. */
static void open_journals(struct sl_peers *p)
{
	struct sl_volume_core *v = p->v;
	size_t n = v->disk ? sl_diskcache_nroots(v->disk) : 0;
	if (!n || !(p->journals = calloc(n, sizeof(*p->journals))))
		return;
	p->njournals = n;
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		struct sl_err err = {0};
		snprintf(dir, sizeof(dir), "%s/%s", sl_diskcache_root_at(v->disk, i), REPLICA_DIR);
		if (mkdir(dir, 0700) && errno != EEXIST)
			sl_errf(&err, -errno, "cannot create %s: %s", dir, strerror(errno));
		else if (!sl_journal_replay(dir, &v->log, &err))
			sl_journal_open(dir, &p->journals[i], &err);
		if (!p->journals[i])
			sl_log(&v->log, SL_LOG_WARN, "cache group: %s; replicas there are synced one "
			       "by one", err.msg);
		index_held(p, sl_diskcache_root_at(v->disk, i));
	}
}

/* Answers one request whose head was read; false when the connection must close. */
/* OP_COMMIT: commits what this process's writers of the file hflushed (background_commit.c),
 * so that the asking reader finds it in the metadata: 0. Without a writer of it here, what its
 * gone writers left in the records kept here (EINPROGRESS: some; ENOENT: none). EINVAL: not a
 * commit key. */
static int commit_pending(struct sl_peers *p, const char *key)
{
	size_t plen = strlen(COMMIT_PREFIX);
	if (strncmp(key, COMMIT_PREFIX, plen) || key[plen] < '1' || key[plen] > '9')
		return EINVAL;
	char *end;
	errno = 0;
	unsigned long long ino = strtoull(key + plen, &end, 10);
	bool recovering = !strcmp(end, COMMIT_RECOVERING);
	if ((*end && !recovering) || errno)
		return EINVAL;
	struct sl_background_commit *c = p->v->background_commit;
	if (!c || !sl_background_commit_ino(c, (sl_ino)ino))
		return sl_peers_commit_held(p, (sl_ino)ino, recovering);
	atomic_fetch_add(&p->stats.commits, 1);
	return 0;
}

/* OP_PUT_RECORD: keeps a writer's slice record (as a replica) and drops those the writer
 * committed since. 0 or an errno. */
static int keep_record(struct sl_peers *p, const char *key, const uint8_t *body, uint32_t len,
		       bool sync)
{
	size_t dlen = strlen(SL_STAGE_RECORD_DIR);
	struct sl_stage_record r;
	uint64_t committed_end;
	if (strncmp(key, SL_STAGE_RECORD_DIR "/", dlen + 1) ||
	    !sl_stage_record_parse(key + dlen + 1, &r) ||
	    !sl_stage_record_body_parse(body, len, &committed_end)) {
		atomic_fetch_add(&p->stats.refused, 1);
		return EINVAL;
	}
	int status = -keep_replica(p, key, body, len, sync);
	if (status)
		return status;
	add_held(p, key, &r);
	drop_held(p, r.ino, committed_end, false, &r);
	return 0;
}

/* OP_PUT_MANY: the items of body (its format in peer_internal.h), all checked first, then the
 * blocks kept, then the records (a record never without the blocks that came with it). 0 or an
 * errno. */
static int keep_batch(struct sl_peers *p, const uint8_t *body, uint32_t plen, bool sync)
{
	enum { MAX_ITEMS = 64 };
	struct item {
		char key[SL_KEY_MAX];
		const uint8_t *data;
		uint32_t len;
		bool record;
	} *items = NULL;
	uint32_t n = plen >= 4 ? sl_peer_get_u32(body) : 0;
	if (!n || n > MAX_ITEMS || !(items = calloc(n, sizeof(*items)))) {
		atomic_fetch_add(&p->stats.refused, 1);
		free(items);
		return n && n <= MAX_ITEMS ? ENOMEM : EINVAL;
	}
	size_t at = 4, dlen = strlen(SL_STAGE_RECORD_DIR);
	int status = 0;
	for (uint32_t i = 0; i < n && !status; i++) {
		struct item *it = &items[i];
		uint16_t klen = at + 2 <= plen ? sl_peer_get_u16(body + at) : 0;
		if (!klen || klen >= SL_KEY_MAX || at + 2 + klen + 4 > plen) {
			status = EINVAL;
			break;
		}
		memcpy(it->key, body + at + 2, klen);
		it->key[klen] = 0;
		it->len = sl_peer_get_u32(body + at + 2 + klen);
		at += 2 + (size_t)klen + 4;
		if (it->len > plen - at) {
			status = EINVAL;
			break;
		}
		it->data = body + at;
		at += it->len;
		it->record = !strncmp(it->key, SL_STAGE_RECORD_DIR "/", dlen + 1);
		uint64_t id;
		uint32_t indx, blen;
		if (!it->record && (!sl_block_key_parse(&p->v->layout, it->key, &id, &indx, &blen) ||
				    blen != it->len))
			status = EINVAL;
	}
	if (status || at != plen) {
		atomic_fetch_add(&p->stats.refused, 1);
		free(items);
		return EINVAL;
	}
	for (int pass = 0; pass < 2 && !status; pass++)
		for (uint32_t i = 0; i < n && !status; i++) {
			struct item *it = &items[i];
			if (it->record != (pass == 1))
				continue;
			status = it->record ? keep_record(p, it->key, it->data, it->len, sync)
					    : -keep_replica(p, it->key, it->data, it->len, sync);
			if (!status && !it->record)
				atomic_fetch_add(&p->stats.kept, 1);
		}
	free(items);
	if (!status)
		atomic_fetch_add(&p->stats.batches, 1);
	return status;
}

static bool serve_one(struct sl_peers *p, int fd, const uint8_t head[REQ_HEAD])
{
	uint16_t klen = sl_peer_get_u16(head + 6);
	uint8_t op = head[5] & (uint8_t)~OP_UNSYNCED;
	bool sync = !(head[5] & OP_UNSYNCED);
	int64_t deadline = sl_mono_ms() + (op == OP_COMMIT ? COMMIT_WAIT_MS : p->timeout_ms);
	if (memcmp(head, PEER_MAGIC, 4) || head[4] != PEER_VERSION ||
	    (op != OP_GET && op != OP_PUT && op != OP_OFFER && op != OP_GET_TICKETED &&
	     op != OP_COMMIT && op != OP_PUT_RECORD && op != OP_SYNC && op != OP_PUT_MANY) ||
	    (!sync && op != OP_PUT && op != OP_PUT_RECORD && op != OP_PUT_MANY) || !klen ||
	    klen >= SL_KEY_MAX)
		return false;
	/* a block (or a record) comes with the request */
	bool carries = op == OP_PUT || op == OP_OFFER || op == OP_PUT_RECORD || op == OP_PUT_MANY;
	bool ticketed = op == OP_GET_TICKETED;
	/* the request as its HMAC covers it: head, key, time, then [length, block] or [offset,
	 * length, and for a ticketed GET the ticket's expiry and the block's place] */
	uint8_t fixed[REQ_HEAD + SL_KEY_MAX + 8 + 8 + 24]; /* the longest: a ticketed GET's */
	memcpy(fixed, head, REQ_HEAD);
	size_t nfixed = REQ_HEAD + (size_t)klen + 8 + (carries ? 4 : ticketed ? 32 : 8);
	if (sl_peer_read_full(fd, fixed + REQ_HEAD, nfixed - REQ_HEAD, deadline))
		return false;
	const uint8_t *tail = fixed + REQ_HEAD + klen + 8;
	uint32_t plen = carries ? sl_peer_get_u32(tail) : 0;
	uint32_t goff = carries ? 0 : sl_peer_get_u32(tail);
	uint32_t glen = carries ? 0 : sl_peer_get_u32(tail + 4);
	int64_t expiry = ticketed ? sl_peer_get_i64(tail + 8) : 0;
	struct sl_place place = {.ino = ticketed ? (uint64_t)sl_peer_get_i64(tail + 16) : 0,
				 .lblock = ticketed ? (uint64_t)sl_peer_get_i64(tail + 24) : 0};
	if (plen > p->v->layout.block_size)
		return false;
	/* a ticketed request is signed with its ticket's key, the rest with the group key */
	char key[SL_KEY_MAX];
	memcpy(key, fixed + REQ_HEAD, klen);
	key[klen] = 0;
	uint8_t rkey[MAC_BYTES];
	if (!ticketed)
		memcpy(rkey, p->key, MAC_BYTES);
	else if (!ticket_key(p->key, key, expiry, rkey))
		return false;
	uint8_t *req = malloc(nfixed + plen + MAC_BYTES);
	if (!req)
		return false;
	memcpy(req, fixed, nfixed);
	if (sl_peer_read_full(fd, req + nfixed, (size_t)plen + MAC_BYTES, deadline)) {
		free(req);
		return false;
	}
	const uint8_t *got = req + nfixed + plen;
	uint8_t want[MAC_BYTES];
	if (!sl_peer_mac(rkey, req, nfixed + plen, want) || CRYPTO_memcmp(want, got, MAC_BYTES)) {
		atomic_fetch_add(&p->stats.refused, 1);
		free(req);
		OPENSSL_cleanse(rkey, sizeof(rkey));
		return false; /* not a member of the group, no valid ticket: nothing to say */
	}
	int64_t skew = sl_peer_get_i64(req + REQ_HEAD + klen) - (int64_t)time(NULL);
	uint64_t id;
	uint32_t indx, blen = 0;
	uint8_t *block = NULL;
	int status = 0;
	if (skew > CLOCK_SKEW_S || skew < -CLOCK_SKEW_S ||
	    (ticketed && expiry < (int64_t)time(NULL))) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EACCES;
	} else if (op == OP_COMMIT) {
		status = commit_pending(p, key);
	} else if (op == OP_PUT_RECORD) {
		status = keep_record(p, key, req + nfixed, plen, sync);
	} else if (op == OP_SYNC) {
		status = sync_replicas(p);
	} else if (op == OP_PUT_MANY) {
		status = keep_batch(p, req + nfixed, plen, sync);
	} else if (!sl_block_key_parse(&p->v->layout, key, &id, &indx, &blen) ||
		   (carries && plen != blen) ||
		   (!carries && (!glen || goff > blen || glen > blen - goff))) {
		atomic_fetch_add(&p->stats.refused, 1);
		status = EINVAL;
	} else if (op == OP_PUT) {
		status = -keep_replica(p, key, req + nfixed, plen, sync);
		if (!status)
			atomic_fetch_add(&p->stats.kept, 1);
	} else if (op == OP_OFFER) { /* declined (busy, full, no cache): the sender keeps it */
		status = sl_diskcache_put(p->v->disk, key, req + nfixed, plen, true) ? 0 : EBUSY;
		if (!status)
			atomic_fetch_add(&p->stats.offered, 1);
	} else {
		status = -local_block(p, key, blen, goff, glen, &block);
		if (status == ENOENT && ticketed) /* its client cannot offer it: read through */
			status = -read_through(p, id, indx, blen, &place, goff, glen, &block);
	}
	uint32_t len = status || carries ? 0 : glen;
	/* the answer as its HMAC covers it: the request's HMAC, status, length, block */
	uint8_t *ans = malloc(MAC_BYTES + ANS_HEAD + (size_t)len + MAC_BYTES);
	bool ok = ans != NULL;
	if (ok) {
		memcpy(ans, got, MAC_BYTES);
		ans[MAC_BYTES] = (uint8_t)(status > 255 ? EIO : status);
		sl_peer_put_u32(ans + MAC_BYTES + 1, len);
		if (len)
			memcpy(ans + MAC_BYTES + ANS_HEAD, block, len);
		ok = sl_peer_mac(rkey, ans, MAC_BYTES + ANS_HEAD + len,
				 ans + MAC_BYTES + ANS_HEAD + len) &&
		     !sl_peer_write_full(fd, ans + MAC_BYTES, ANS_HEAD + (size_t)len + MAC_BYTES,
					 deadline);
	}
	if (ok && !status && len) /* a block (or a range of one) sent */
		atomic_fetch_add(&p->stats.served, 1);
	OPENSSL_cleanse(rkey, sizeof(rkey));
	free(ans);
	free(block);
	free(req);
	return ok;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct sl_peers *p = c->p;
	uint8_t head[REQ_HEAD];
	/* one idle minute, then the client connects again */
	while (!sl_peer_read_full(c->fd, head, sizeof(head), sl_mono_ms() + 60000) &&
	       serve_one(p, c->fd, head))
		;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nconns; i++)
		if (p->conns[i] == c->fd) {
			p->conns[i] = p->conns[--p->nconns];
			break;
		}
	close(c->fd);
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct sl_peers *p = arg;
	for (;;) {
		int fd = accept(p->lfd, NULL, NULL);
		pthread_mutex_lock(&p->lock);
		bool stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (stop) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec ts = {0, 100 * 1000000L}; /* EMFILE and the like */
				nanosleep(&ts, NULL);
			}
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = malloc(sizeof(*c));
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_mutex_lock(&p->lock);
		bool taken = c && p->nconns < MAX_CONNS;
		if (taken) {
			*c = (struct conn){.p = p, .fd = fd};
			p->conns[p->nconns++] = fd;
			if (pthread_create(&t, &attr, conn_main, c)) {
				p->nconns--;
				taken = false;
			}
		}
		pthread_mutex_unlock(&p->lock);
		pthread_attr_destroy(&attr);
		if (!taken) {
			close(fd);
			free(c);
		}
	}
}

/* Listens at this node's address; -EADDRINUSE when another process of the node serves. */
static int listen_on(struct sl_peers *p, struct sl_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(p->self, p->port, &hints, &ai);
	if (rc)
		return sl_errf(err, -EINVAL, "cache group: cannot resolve this node's name %s: %s",
			       p->self, gai_strerror(rc));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc == -EADDRINUSE ? rc
					 : sl_errf(err, rc, "cache group: cannot listen on %s:%s: %s",
						   p->self, p->port, strerror(-rc));
	}
	freeaddrinfo(ai);
	p->lfd = fd;
	return 0;
}

int sl_peers_new(struct sl_volume_core *v, struct sl_peers **out, struct sl_err *err)
{
	*out = NULL;
	const char *port = sl_conf_str(v->conf, "cache-group.port");
	if (!port || !*port)
		return 0;
	uint64_t timeout_ms, portnum;
	int rc = sl_conf_u64(v->conf, "cache-group.port", &portnum, err);
	if (!rc)
		rc = sl_conf_u64(v->conf, "cache-group.timeout", &timeout_ms, err);
	if (rc)
		return rc;
	if (!portnum || portnum > 65535)
		return sl_errf(err, -EINVAL, "cache-group.port must be a TCP port (1-65535), not %s",
			       port);
	if (!timeout_ms || timeout_ms > 60000)
		return sl_errf(err, -EINVAL, "cache-group.timeout must be 1-60000 milliseconds");
	uint64_t replicas = 2;
	if (sl_conf_str(v->conf, "hflush.replicas") &&
	    (rc = sl_conf_u64(v->conf, "hflush.replicas", &replicas, err)))
		return rc;
	if (!replicas || replicas > SL_RING_MAX_REPLICAS)
		return sl_errf(err, -EINVAL, "hflush.replicas must be 1-%d", SL_RING_MAX_REPLICAS);
	struct sl_peers *p = calloc(1, sizeof(*p));
	if (!p)
		return sl_errf(err, -ENOMEM, "out of memory");
	p->v = v;
	p->lfd = -1;
	p->timeout_ms = (int)timeout_ms;
	p->replicas = (int)replicas;
	snprintf(p->port, sizeof(p->port), "%" PRIu64, portnum);
	const char *self = sl_conf_str(v->conf, "cache-group.host");
	if (self && *self)
		snprintf(p->self, sizeof(p->self), "%s", self);
	else if (gethostname(p->self, sizeof(p->self) - 1))
		snprintf(p->self, sizeof(p->self), "localhost");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_mutex_init(&p->pool_lock, NULL);
	pthread_mutex_init(&p->records_lock, NULL);
	pthread_mutex_init(&p->unsynced_lock, NULL);
	if (sl_meta_caps(v->meta) & SL_META_CAP_SERVER_CHECKS) {
		/* Kerberos mode: the volume's secret is not for clients, so no group key. Such a
		 * client reads from the group's servers (`sluice cache-server`, direct access)
		 * with a ticket per block from the gateway, and neither serves nor keeps copies. */
		if (sl_conf_str(v->conf, "hflush.replicas") && replicas > 1)
			rc = sl_errf(err, -EINVAL, "cache group: hflush.replicas needs the group key, "
				     "which only clients with direct access to the metadata have; a "
				     "client through a Kerberos gateway reads from the group only");
		else if (!sl_meta_supports(v->meta, SL_META_OP_OBJECT_PROVIDER))
			rc = sl_errf(err, -ENOTSUP, "cache group: this metadata backend issues no "
				     "tickets");
		else
			rc = sl_meta_object_provider(v->meta, &p->tickets, err);
		if (rc) {
			sl_peers_free(p);
			return rc;
		}
		p->ticketed = true;
		p->replicas = 1;
		sl_log(&v->log, SL_LOG_INFO, "cache group: reading from the group's servers with "
		       "tickets from the gateway");
		*out = p;
		return 0;
	}
	if ((rc = sl_meta_volume_key(v->meta, KEY_LABEL, p->key, err))) {
		sl_err_wrap(err, "cache group: the group key (the cache group needs direct access "
			    "to the metadata)");
		sl_peers_free(p);
		return rc;
	}
	bool serve = true;
	if ((rc = sl_conf_bool(v->conf, "cache-group.serve", &serve, err))) {
		sl_peers_free(p);
		return rc;
	}
	rc = serve ? listen_on(p, err) : 0;
	if (rc == -EADDRINUSE) {
		sl_log(&v->log, SL_LOG_INFO, "cache group: another process serves %s:%s; this one "
		       "reads from the group without serving", p->self, p->port);
		rc = 0;
	}
	if (!rc && p->lfd >= 0)
		open_journals(p);
	if (!rc && p->replicas >= 2 && sl_pool_new(REPLICATORS, "sluice-replica", &p->replicators))
		p->replicators = NULL; /* each hflush then sends its copies itself, one by one */
	if (!rc && p->lfd >= 0 && pthread_create(&p->acceptor, NULL, accept_main, p)) {
		close(p->lfd);
		p->lfd = -1;
		rc = sl_errf(err, -EAGAIN, "cache group: cannot start the block server's thread");
	}
	if (rc) {
		sl_peers_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void sl_peers_free(struct sl_peers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	bool serving = p->lfd >= 0;
	pthread_mutex_unlock(&p->lock);
	if (serving) {
		shutdown(p->lfd, SHUT_RDWR); /* wakes accept() */
		pthread_join(p->acceptor, NULL);
		close(p->lfd);
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nconns; i++)
		shutdown(p->conns[i], SHUT_RDWR);
	while (p->nconns)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	sl_pool_free(p->replicators); /* no hflush runs any more: nothing is queued */
	for (size_t i = 0; i < p->npool; i++)
		close(p->pool[i].fd);
	for (size_t i = 0; i < p->njournals; i++) /* no connection is served any more */
		sl_journal_close(p->journals[i], &p->v->log);
	free(p->journals);
	while (p->records) { /* kept on disk: indexed again at the next start */
		struct held_record *h = p->records;
		p->records = h->next;
		free(h);
	}
	pthread_mutex_destroy(&p->records_lock);
	pthread_mutex_destroy(&p->unsynced_lock);
	OPENSSL_cleanse(p->key, sizeof(p->key));
	pthread_mutex_destroy(&p->pool_lock);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}

const struct sl_peer_stats *sl_peers_stats(const struct sl_peers *p)
{
	return p ? &p->stats : NULL;
}

bool sl_peers_serving(const struct sl_peers *p)
{
	return p && p->lfd >= 0;
}

/* ---- handing replicas over ------------------------------------------------------------------- */

struct sweep {
	struct sl_peers *p;
	const char *root; /* DIR/<uuid>/replicas of the directory being walked */
	int64_t grace_s, now;
	unsigned handed;
	uint64_t bytes; /* of the replicas still kept */
};

/* Whether slice id is referenced (committed, not deleted): 1, 0, or -1 if the metadata cannot
 * tell now. */
static int referenced(struct sl_volume_core *v, uint64_t id)
{
	int64_t refs = 0;
	uint32_t size = 0;
	struct sl_err err = {0};
	if (!sl_meta_supports(v->meta, SL_META_OP_SLICE_REFS))
		return -1;
	int rc = sl_meta_slice_refs(v->meta, id, &refs, &size, &err);
	return rc == -ENOENT ? 0 : rc ? -1 : refs > 0;
}

/* A replica past the grace period: into the disk cache if its block is in object storage, else
 * uploaded if its slice is committed (its writer is gone), by this holder unless another node
 * claimed the upload (cache/claim.h); dropped once its slice is deleted or never committed. */
static void hand_over(struct sweep *sw, const char *path, const char *key)
{
	struct sl_volume_core *v = sw->p->v;
	uint64_t id;
	uint32_t indx, blen;
	struct sl_err err = {0};
	struct sl_obj_info info;
	if (!sl_block_key_parse(&v->layout, key, &id, &indx, &blen)) {
		unlink(path); /* nothing a peer may have sent */
		return;
	}
	int rc = sl_obj_head(v->store, key, &info, &err);
	if (!rc) { /* its writer uploaded it: the copy is a cached block now */
		sl_diskcache_adopt(v->disk, key, path);
		sw->handed++;
		return;
	}
	if (rc != -ENOENT)
		return; /* the store does not answer: next round */
	int live = referenced(v, id);
	if (live == 0) {
		struct stat st;
		if (!stat(path, &st) && sw->now - st.st_mtime > ABANDON_S)
			unlink(path); /* never committed (or deleted): its writer died first */
		return;
	}
	if (live < 0)
		return;
	/* committed, and not in object storage past the grace: its writer is gone */
	uint8_t *data = NULL;
	uint32_t len = 0;
	rc = sl_cachefile_read_all(path, &data, &len, &err);
	if (rc || len != blen) {
		sl_log(&v->log, SL_LOG_WARN, "cache group: replica %s is unreadable (%s); dropping it",
		       path, rc ? err.msg : "wrong length");
		unlink(path);
		free(data);
		return;
	}
	/* The other holders of the block (and a client that took over the writer's staging
	 * directory) may be at it too: one of them uploads it. */
	enum sl_meta_claim claim;
	rc = sl_upload_claimed(v->meta, key, data, len, sl_vol_store_block, v, &claim, &err);
	free(data);
	if (rc) {
		sl_log(&v->log, SL_LOG_WARN, "cache group: uploading the replica of %s: %s", key,
		       err.msg);
		return;
	}
	if (claim == SL_CLAIM_HELD)
		return; /* another node is uploading it: the next round finds the object */
	if (claim == SL_CLAIM_DONE) { /* another node uploaded it */
		sl_diskcache_adopt(v->disk, key, path);
		sw->handed++;
		return;
	}
	if (referenced(v, id) == 0) { /* deleted meanwhile: take the object back */
		sl_obj_delete(v->store, key, &err);
		unlink(path);
		return;
	}
	sl_log(&v->log, SL_LOG_INFO, "cache group: uploaded %s, hflushed by a writer that is gone",
	       key);
	sl_diskcache_adopt(v->disk, key, path);
	sw->handed++;
}

/* Every replica file under dir (depth-first; keys are a few directory levels deep). */
static void walk(struct sweep *sw, const char *dir, int depth)
{
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') /* ".", "..", unfinished writes (SL_CACHEFILE_TMP_PREFIX) */
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			walk(sw, path, depth + 1);
		else if (S_ISREG(st.st_mode)) {
			if (sw->now - st.st_mtime >= sw->grace_s) {
				/* moved into the cache, it needs room as a cached block */
				sl_diskcache_unkeep(sw->p->v->disk, (uint64_t)st.st_size);
				hand_over(sw, path, path + strlen(sw->root) + 1);
				if (lstat(path, &st))
					continue; /* handed over or dropped */
			}
			sw->bytes += (uint64_t)st.st_size;
		}
	}
	closedir(d);
}

unsigned sl_peers_sweep(struct sl_peers *p, int64_t grace_s)
{
	if (!p || !p->v->disk || p->lfd < 0)
		return 0;
	/* The replicas only a journal holds get their files first (unsynced: the journal covers
	 * them until its generation ends), so that the walk sees every replica. Their grace
	 * period thus starts when the file is written: at the first sweep after they arrived,
	 * at most one round (REPLICA_SWEEP_S in volume.c, 30 s) late, or at the end of their
	 * journal's generation if that comes first. Here, not on the PUT path: a file per small
	 * replica is what made the holder the slow side of a replicated hflush. */
	for (size_t i = 0; i < p->njournals; i++) {
		struct sl_err err = {0};
		if (p->journals[i] && sl_journal_write_files(p->journals[i], &err) < 0)
			sl_log(&p->v->log, SL_LOG_WARN, "cache group: %s; those replicas are "
			       "handed over in a later round", err.msg);
	}
	sweep_held(p);
	struct sweep sw = {.p = p, .grace_s = grace_s, .now = (int64_t)time(NULL)};
	for (size_t i = 0; i < sl_diskcache_nroots(p->v->disk); i++) {
		char root[PATH_MAX];
		snprintf(root, sizeof(root), "%s/%s", sl_diskcache_root_at(p->v->disk, i),
			 REPLICA_DIR);
		sw.root = root;
		walk(&sw, root, 0);
	}
	/* the count of kept bytes as on disk: what was handed over or dropped leaves it */
	sl_diskcache_set_kept(p->v->disk, sw.bytes);
	return sw.handed;
}
