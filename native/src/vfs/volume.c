/*
 * volume.c - a volume handle's life: configuration, the format record, metadata and object store,
 * the session and its heartbeat, usage flushing, deletion of removed files' data, and the
 * per-thread error message. The background thread is the only timer; everything it does is also
 * done once more at shutdown so nothing is left half-done.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfs.h"
#include "../object/presign.h"

#define USAGE_FLUSH_MS 1000
#define STALE_DELFILE_S 3600  /* a delfile row this old belongs to a client that died */
/* Unreferenced slices are swept about once an hour by one client of the volume, as JuiceFS's
 * clients do it: whoever moves the nextCleanupSlices counter (a unix time) forward by at least
 * 9/10 of the period takes the turn. */
#define CLEANUP_SLICES_S 3600
#define CLEAN_TRASH_S 3600    /* how often the trash is cleaned (by one client) */
#define LEASE_SWEEP_S 60      /* how often leases past lease-hard-limit are looked for */
#define REPLICA_SWEEP_S 30    /* how often the cache group's replicas are looked at */
#define REPLICA_GRACE_S 120   /* a replica's block should be in object storage by then */

struct sl_err *sl_vol_err(sluice_volume *vol)
{
	struct sl_err *e = pthread_getspecific(vol->err_key);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL; /* callers tolerate a NULL err: the code still tells what failed */
		pthread_setspecific(vol->err_key, e);
	}
	return e;
}

const char *sluice_last_error(sluice_volume *vol)
{
	struct sl_err *e = vol ? pthread_getspecific(vol->err_key) : NULL;
	return e && e->msg[0] ? e->msg : "no error";
}

bool sl_vol_delete_slice_blocks(struct sl_volume_core *v, uint64_t id, uint32_t size)
{
	struct sl_err err = {0};
	uint32_t n = sl_block_count(&v->layout, size);
	for (uint32_t i = 0; i < n; i++) {
		char key[SL_KEY_MAX];
		sl_block_key(&v->layout, id, i, size, key);
		sl_diskcache_forget(v->disk, key);
		if (sl_obj_delete(v->store, key, &err)) {
			sl_log(&v->log, SL_LOG_WARN, "cannot delete %s: %s (left for gc)", key, err.msg);
			return false;
		}
	}
	sl_blockcache_forget(v->cache, id, size);
	return true;
}

int sl_vol_delete_slice(void *core, uint64_t id, uint32_t size)
{
	struct sl_volume_core *v = core;
	struct sl_err err = {0};
	/* A slice this process is still uploading is deleted when the uploads end (stage.c). */
	if (v->stage && sl_stage_defer_delete(v->stage, id, size))
		return 0;
	/* Blocks that could not be deleted keep the chunk_ref row, so a later cleanup retries. */
	if (!sl_vol_delete_slice_blocks(v, id, size))
		return 0;
	return sl_meta_forget_slice(v->meta, id, &err);
}

int sl_vol_delete_data(struct sl_volume_core *v, sl_ino ino, struct sl_err *err)
{
	return sl_meta_delete_file_data(v->meta, ino, sl_vol_delete_slice, v, err);
}

void sl_vol_doom(sluice_volume *vol, sl_ino ino)
{
	pthread_mutex_lock(&vol->lock);
	if (vol->ndoomed == vol->cap_doomed) {
		size_t nc = vol->cap_doomed ? vol->cap_doomed * 2 : 64;
		sl_ino *nd = realloc(vol->doomed, nc * sizeof(*nd));
		if (!nd) { /* the jfs_delfile row stays; the stale-row sweep picks it up later */
			pthread_mutex_unlock(&vol->lock);
			return;
		}
		vol->doomed = nd;
		vol->cap_doomed = nc;
	}
	vol->doomed[vol->ndoomed++] = ino;
	pthread_cond_signal(&vol->wake);
	pthread_mutex_unlock(&vol->lock);
}

static void delete_doomed(sluice_volume *vol)
{
	pthread_mutex_lock(&vol->lock);
	while (vol->ndoomed) {
		sl_ino ino = vol->doomed[--vol->ndoomed];
		vol->deleting = true;
		pthread_mutex_unlock(&vol->lock);
		struct sl_err err = {0};
		if (sl_vol_delete_data(&vol->core, ino, &err))
			sl_log(&vol->core.log, SL_LOG_WARN, "deleting data of inode %" PRIu64 ": %s",
			       ino, err.msg);
		pthread_mutex_lock(&vol->lock);
		vol->deleting = false;
	}
	pthread_cond_broadcast(&vol->settled);
	pthread_mutex_unlock(&vol->lock);
}

int sl_vol_settle_deletions(sluice_volume *vol, int timeout_ms)
{
	struct timespec until = sl_deadline_ms(CLOCK_REALTIME, timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&vol->lock);
	while (!rc && (vol->ndoomed || vol->deleting))
		if (pthread_cond_timedwait(&vol->settled, &vol->lock, &until) == ETIMEDOUT)
			rc = -ETIMEDOUT;
	pthread_mutex_unlock(&vol->lock);
	return rc;
}

/* Deletes every slice whose reference count is zero or less: its last reference went but its
 * blocks and row stayed, because the client deleting it died (its deletion was deferred in memory
 * behind an upload, or it was killed half-way) or a deletion failed. Slices this process is
 * still uploading are deferred as usual. */
static void cleanup_slices(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	if (sl_meta_supports(v->meta, SL_META_OP_LIST_DEAD_SLICES) &&
	    sl_meta_list_dead_slices(v->meta, sl_vol_delete_slice, v, &err))
		sl_log(&v->log, SL_LOG_WARN, "cleaning up unreferenced slices: %s", err.msg);
}

struct stale_sessions {
	uint64_t own;
	int64_t now_s;
	uint64_t *sids;
	size_t n, cap;
	bool nomem;
};

static int collect_stale(void *arg, const struct sl_session_info *s)
{
	struct stale_sessions *st = arg;
	if (s->sid == st->own || s->expire_s >= st->now_s)
		return 0;
	if (st->n == st->cap) {
		size_t nc = st->cap ? 2 * st->cap : 16;
		uint64_t *ns = realloc(st->sids, nc * sizeof(*ns));
		if (!ns) {
			st->nomem = true;
			return 1;
		}
		st->sids = ns;
		st->cap = nc;
	}
	st->sids[st->n++] = s->sid;
	return 0;
}

int sl_vol_stale_sessions(struct sl_volume_core *v, bool close, uint64_t *n, uint64_t *closed,
			  struct sl_err *err)
{
	struct stale_sessions st = {.own = v->meta->sid, .now_s = sl_clock_real_s(v->clock)};
	int rc = sl_meta_list_sessions(v->meta, collect_stale, &st, err);
	if (!rc && st.nomem)
		rc = sl_errf(err, -ENOMEM, "out of memory");
	*n = rc ? 0 : st.n;
	*closed = 0;
	for (size_t i = 0; !rc && close && i < st.n; i++) {
		bool done = false;
		if ((rc = sl_meta_close_stale_session(v->meta, st.sids[i], &done, err)))
			break;
		if (done)
			sl_log(&v->log, SL_LOG_INFO, "closed stale session %" PRIu64, st.sids[i]);
		*closed += done;
	}
	free(st.sids);
	return rc;
}

/* JuiceFS's cleanup of stale sessions: each heartbeat, the client that moves the counter
 * lastCleanupSessions forward by 9/10 of a heartbeat closes the sessions past their expiry
 * that hold no writer's lease (meta.h, close_stale_session). */
static void clean_stale_sessions(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	bool mine = false;
	uint64_t n, closed;
	if (v->read_only || !sl_meta_supports(v->meta, SL_META_OP_SET_IF_SMALL) ||
	    !sl_meta_supports(v->meta, SL_META_OP_CLOSE_STALE_SESSION))
		return;
	if (sl_meta_set_if_small(v->meta, "lastCleanupSessions", sl_clock_real_s(v->clock),
				 vol->heartbeat_s * 9 / 10, &mine, &err) ||
	    (mine && sl_vol_stale_sessions(v, true, &n, &closed, &err)))
		sl_log(&v->log, SL_LOG_WARN, "cleaning up stale sessions: %s", err.msg);
}

/* JuiceFS's turn-taking for the hourly sweep: true if this client moved the counter. */
static bool cleanup_slices_turn(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	bool mine = false;
	if (!sl_meta_supports(v->meta, SL_META_OP_SET_IF_SMALL))
		return false;
	if (sl_meta_set_if_small(v->meta, "nextCleanupSlices", sl_clock_real_s(v->clock),
				 CLEANUP_SLICES_S * 9 / 10, &mine, &err))
		sl_log(&v->log, SL_LOG_WARN, "checking counter nextCleanupSlices: %s", err.msg);
	return mine;
}

int sl_vol_clean_trash(sluice_volume *vol, int64_t before_s, uint64_t *files, uint64_t *delayed,
		       struct sl_err *err)
{
	int rc = sl_meta_clean_trash(vol->core.meta, before_s, sl_vol_doom_removed, vol, files,
				     delayed, err);
	if (!rc && *delayed)
		cleanup_slices(vol);
	return rc;
}

/* JuiceFS's hourly trash cleaning, by the client that takes the turn (lastCleanupTrash, as
 * juicefs clients do): hours older than the volume's trash days and two hours more. */
static void clean_trash(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	bool mine = false;
	int64_t now = sl_clock_real_s(v->clock);
	if (sl_meta_set_if_small(v->meta, "lastCleanupTrash", now, CLEAN_TRASH_S * 9 / 10, &mine,
				 &err)) {
		sl_log(&v->log, SL_LOG_WARN, "checking counter lastCleanupTrash: %s", err.msg);
		return;
	}
	if (!mine)
		return;
	int64_t days = v->format.trash_days > 0 ? v->format.trash_days : 0;
	uint64_t files = 0, delayed = 0;
	if (sl_vol_clean_trash(vol, now - (24 * days + 2) * 3600, &files, &delayed, &err))
		sl_log(&v->log, SL_LOG_WARN, "cleaning the trash: %s", err.msg);
	else if (files || delayed)
		sl_log(&v->log, SL_LOG_INFO, "cleaned the trash: %" PRIu64 " files, %" PRIu64
		       " lists of delayed slices", files, delayed);
}

/* HDFS's hard limit: the leases of writers gone for longer end, so their files count as closed
 * (isFileClosed) without a recoverLease. */
static void sweep_leases(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	struct sl_err err = {0};
	uint64_t ended = 0;
	if (sl_meta_lease_sweep(v->meta, vol->lease_hard_limit_s, &ended, &err))
		sl_log(&v->log, SL_LOG_WARN, "ending the leases of writers gone for over %" PRId64
		       " s: %s", vol->lease_hard_limit_s, err.msg);
	else if (ended)
		sl_log(&v->log, SL_LOG_INFO, "ended %" PRIu64 " leases of writers gone for over %"
		       PRId64 " s (lease-hard-limit)", ended, vol->lease_hard_limit_s);
}

static int doom_stale(void *arg, sl_ino ino, uint64_t length)
{
	(void)length;
	sl_vol_doom(arg, ino);
	return 0;
}

struct sl_ring *sl_vol_ring(struct sl_volume_core *v)
{
	pthread_mutex_lock(&v->ring_lock);
	struct sl_ring *r = v->ring;
	pthread_mutex_unlock(&v->ring_lock);
	return r;
}

/* Re-reads a nodes list kept in a file on the volume and swaps in a new ring if it changed.
 * A missing or malformed file keeps the ring there is (and says so in the log). */
static void refresh_nodes(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	const char *path = sl_conf_str(v->conf, "nodes");
	if (!path || path[0] != '/')
		return;
	const char *groups[] = {v->supergroup};
	sluice_user su = {v->superuser, groups, 1};
	sluice_file *f;
	char text[65536];
	ssize_t n = 0;
	int rc = sluice_open(vol, &su, path, SLUICE_O_READ, 0, 0, &f);
	if (!rc) {
		n = sluice_pread(f, text, sizeof(text) - 1, 0);
		sluice_close(f);
		rc = n < 0 ? (int)n : 0;
	}
	if (rc) {
		sl_log(&v->log, SL_LOG_WARN, "reading the nodes list %s: %s", path,
		       sluice_last_error(vol));
		return;
	}
	text[n] = 0;
	/* one entry per line or comma-separated; '#' starts a comment line */
	char spec[65536];
	size_t k = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t\r");
		if (!*line || *line == '#')
			continue;
		k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%s%s", k ? "," : "", line);
		if (k >= sizeof(spec))
			break;
	}
	while (k > 0 && (spec[k - 1] == '\r' || spec[k - 1] == ' '))
		spec[--k] = 0;
	if (vol->nodes_text && !strcmp(vol->nodes_text, spec))
		return;
	struct sl_ring *ring = NULL;
	struct sl_err err = {0};
	char *copy = strdup(spec);
	struct sl_ring **old = realloc(vol->old_rings, (vol->nold_rings + 1) * sizeof(*old));
	if (!copy || !old || (k && sl_ring_new(spec, &ring, &err))) {
		sl_log(&v->log, SL_LOG_WARN, "nodes list %s: %s", path,
		       err.msg[0] ? err.msg : "out of memory");
		free(copy);
		if (old)
			vol->old_rings = old;
		return;
	}
	vol->old_rings = old;
	pthread_mutex_lock(&v->ring_lock);
	if (v->ring)
		vol->old_rings[vol->nold_rings++] = v->ring;
	v->ring = ring;
	pthread_mutex_unlock(&v->ring_lock);
	free(vol->nodes_text);
	vol->nodes_text = copy;
}

static void *background_main(void *arg)
{
	sluice_volume *vol = arg;
	struct sl_volume_core *v = &vol->core;
	const int64_t start = sl_clock_mono_ms(v->clock);
	int64_t next_beat = start + vol->heartbeat_s * 1000LL;
	int64_t next_sweep = start + 60 * 1000LL;
	int64_t next_nodes = start + vol->nodes_refresh_s * 1000LL;
	int64_t next_slices = start + 60 * 1000LL;
	int64_t next_leases = start + LEASE_SWEEP_S * 1000LL;
	int64_t next_trash = start + 120 * 1000LL;
	int64_t next_replicas = start + REPLICA_SWEEP_S * 1000LL;
	pthread_mutex_lock(&vol->lock);
	while (!vol->stopping) {
		struct timespec ts = sl_deadline_ms(CLOCK_REALTIME, USAGE_FLUSH_MS);
		if (!vol->ndoomed)
			pthread_cond_timedwait(&vol->wake, &vol->lock, &ts);
		if (vol->stopping)
			break;
		pthread_mutex_unlock(&vol->lock);

		struct sl_err err = {0};
		delete_doomed(vol);
		if (sl_meta_flush_usage(v->meta, &err))
			sl_log(&v->log, SL_LOG_WARN, "flushing usage counters: %s", err.msg);
		int64_t now = sl_clock_mono_ms(v->clock);
		if (now >= next_beat) {
			next_beat = now + vol->heartbeat_s * 1000LL;
			int64_t expire = sl_clock_real_s(v->clock) + 5LL * vol->heartbeat_s;
			if (sl_meta_refresh_session(v->meta, v->meta->sid, expire, &err))
				sl_log(&v->log, SL_LOG_WARN, "session heartbeat: %s", err.msg);
			clean_stale_sessions(vol);
		}
		if (v->stage)
			sl_stage_sweep(v->stage);
		if (v->peers && now >= next_replicas) {
			next_replicas = now + REPLICA_SWEEP_S * 1000LL;
			sl_peers_sweep(v->peers, REPLICA_GRACE_S);
		}
		if (now >= next_nodes) {
			next_nodes = now + vol->nodes_refresh_s * 1000LL;
			refresh_nodes(vol);
		}
		if (vol->slices_due) {
			/* A dead client's staging directory was taken over: the deletions it had
			 * deferred died with it. Its staged blocks of such slices are dropped by the
			 * staging area; this deletes the slices themselves, at once. */
			vol->slices_due = false;
			cleanup_slices(vol);
		}
		if (now >= next_slices) {
			unsigned seed = (unsigned)now;
			next_slices = now + CLEANUP_SLICES_S * 1000LL * (90 + rand_r(&seed) % 21) / 100;
			if (cleanup_slices_turn(vol))
				cleanup_slices(vol);
		}
		if (now >= next_trash && !v->read_only &&
		    sl_meta_supports(v->meta, SL_META_OP_CLEAN_TRASH) &&
		    sl_meta_supports(v->meta, SL_META_OP_SET_IF_SMALL)) {
			unsigned seed = (unsigned)now;
			next_trash = now + CLEAN_TRASH_S * 1000LL * (90 + rand_r(&seed) % 21) / 100;
			clean_trash(vol);
		}
		if (now >= next_leases && !v->read_only &&
		    sl_meta_supports(v->meta, SL_META_OP_LEASE_SWEEP)) {
			unsigned seed = (unsigned)now;
			next_leases = now + LEASE_SWEEP_S * 1000LL * (90 + rand_r(&seed) % 21) / 100;
			sweep_leases(vol);
		}
		if (now >= next_sweep) {
			next_sweep = now + 600 * 1000LL;
			int64_t stale = sl_clock_real_s(v->clock) - STALE_DELFILE_S;
			if (sl_meta_list_delfiles(v->meta, stale, doom_stale, vol, &err))
				sl_log(&v->log, SL_LOG_WARN, "listing pending deletions: %s", err.msg);
		}
		pthread_mutex_lock(&vol->lock);
	}
	pthread_mutex_unlock(&vol->lock);
	return NULL;
}

int sl_vol_obj_config(struct sl_volume_core *v, struct sl_obj_config *oc, struct sl_err *err)
{
	uint64_t retries = 10, io_timeout = 60, connect_timeout = 10;
	int rc = sl_conf_u64(v->conf, "io-retries", &retries, err);
	if (!rc)
		rc = sl_conf_u64(v->conf, "io-timeout", &io_timeout, err);
	if (!rc)
		rc = sl_conf_u64(v->conf, "connect-timeout", &connect_timeout, err);
	if (rc)
		return rc;
	const char *ps = sl_conf_str(v->conf, "s3.path-style");
	int path_style = -1;
	if (ps) {
		bool b;
		if ((rc = sl_conf_bool(v->conf, "s3.path-style", &b, err)))
			return rc;
		path_style = b;
	}
	const char *ak = sl_conf_str(v->conf, "access-key");
	const char *sk = sl_conf_str(v->conf, "secret-key");
	const char *bucket = sl_conf_str(v->conf, "bucket");
	*oc = (struct sl_obj_config){
		.storage = v->format.storage,
		.bucket = bucket ? bucket : v->format.bucket,
		.access_key = ak ? ak : v->format.access_key,
		.secret_key = sk ? sk : v->format.secret_key,
		.session_token = v->format.session_token[0] ? v->format.session_token : NULL,
		.region = sl_conf_str(v->conf, "s3.region"),
		.path_style = path_style,
		.ca_file = sl_conf_str(v->conf, "s3.ca-file"),
		.connect_timeout_s = (int)connect_timeout,
		.io_timeout_s = (int)io_timeout,
		.retries = retries ? (int)retries : 1,
	};
	return 0;
}

/* Direct mode, or a gateway client configured with bucket keys: the storage itself. A gateway
 * client without access-key (Kerberos mode: the gateway strips the keys from the format it
 * hands out) goes through presigned URLs from the gateway instead; a `file` storage is a local
 * directory that needs no keys and stays direct. */
static int open_store(struct sl_volume_core *v, struct sl_err *err)
{
	struct sl_obj_config oc;
	int rc = sl_vol_obj_config(v, &oc, err);
	if (rc)
		return rc;
	struct sl_presign_provider prov;
	if (sl_meta_supports(v->meta, SL_META_OP_OBJECT_PROVIDER) &&
	    !sl_conf_str(v->conf, "access-key") && strcmp(v->format.storage, "file")) {
		if ((rc = sl_meta_object_provider(v->meta, &prov, err)))
			return rc;
		oc.storage = "presigned";
		oc.access_key = oc.secret_key = oc.session_token = NULL;
		oc.presign = &prov;
	}
	return sl_obj_open(&oc, &v->store, err);
}

/* The session record in JuiceFS's SessionInfo shape, so `juicefs status` lists Sluice clients. */
static void session_info(char *buf, size_t size)
{
	char host[256] = "", mounted[64];
	gethostname(host, sizeof(host) - 1);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(mounted, sizeof(mounted), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "Version", "sluice-" SLUICE_VERSION_STRING,
			      "HostName", host, "MountPoint", "sluice (Hadoop)", "MountTime", mounted,
			      "ProcessID", (int)getpid());
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	snprintf(buf, size, "%s", s ? s : "{}");
	free(s);
	json_decref(o);
}

/* A gateway client's unwrapper: the gateway opens the data key of a block the client may read,
 * through the same provider as its URLs (method KEY), as hex. */
static int data_key_from_gateway(void *arg, const char *key, uint8_t out[SL_CIPHER_DATA_KEY],
				 struct sl_err *err)
{
	struct sl_presign_provider prov;
	char hex[2 * SL_CIPHER_DATA_KEY + 64] = "";
	int rc = sl_meta_object_provider(arg, &prov, err);
	if (!rc)
		rc = prov.url(prov.arg, "KEY", key, 0, hex, sizeof(hex), err);
	if (!rc && strlen(hex) != 2 * SL_CIPHER_DATA_KEY)
		rc = sl_errf(err, -EPROTO, "the gateway's data key for %s has the wrong length", key);
	for (size_t i = 0; !rc && i < 2 * SL_CIPHER_DATA_KEY; i++) {
		const char *digits = "0123456789abcdef", *d = strchr(digits, hex[i]);
		if (!d)
			rc = sl_errf(err, -EPROTO, "the gateway's data key for %s is not hex", key);
		else
			out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | (d - digits))
						    : (d - digits) << 4);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

static int load_volume(sluice_volume *vol, struct sl_err *err)
{
	struct sl_volume_core *v = &vol->core;
	int rc;
	const char *level = sl_conf_str(v->conf, "log-level");
	v->log.level = sl_log_parse_level(level);
	if (v->log.level < 0)
		return sl_errf(err, -EINVAL, "config key 'log-level': '%s' is not one of error, warn, "
			       "info, debug", level);
	uint64_t queued;
	if ((rc = sl_conf_u64(v->conf, "log-queue", &queued, err)))
		return rc;
	if (queued > SL_LOG_QUEUE_MAX)
		return sl_errf(err, -EINVAL, "config key 'log-queue' must be 0-%d lines, not %" PRIu64,
			       SL_LOG_QUEUE_MAX, queued);
	if (queued && !(v->log.queue = sl_log_queue_new(queued)))
		return sl_errf(err, -ENOMEM, "out of memory");
	const char *url = sl_conf_str(v->conf, "meta");
	if (!url || !*url)
		return sl_errf(err, -EINVAL, "config key 'meta' (the META-URL of the volume) is not set");
	if ((rc = sl_meta_open(url, v->conf, &v->log, &v->meta, err)))
		return rc;
	v->meta->clock = v->clock;
	char *json = NULL;
	rc = sl_meta_load_format(v->meta, &json, err);
	if (rc == -ENOENT)
		return sl_errf(err, -ENOENT, "no volume found at %s (run `sluice format` first)",
			       v->meta->url_redacted);
	if (rc)
		return rc;
	rc = sl_format_parse(json, &v->format, err);
	free(json);
	if (rc)
		return rc;
	char what[256] = "";
	if ((rc = sl_meta_unsupported_features(v->meta, what, sizeof(what), err)))
		return rc;
	if (what[0])
		return sl_errf(err, -ENOTSUP, "volume %s uses %s, which this version of Sluice does not "
			       "support yet; refusing to open it rather than misread it",
			       v->format.name, what);
	v->meta->capacity = v->format.capacity;
	v->meta->max_inodes = v->format.inodes;
	if ((v->meta->capacity || v->meta->max_inodes) && !v->read_only &&
	    (rc = sl_meta_flush_usage(v->meta, err))) /* the first reading of the totals */
		return rc;
	v->layout.block_size = v->format.block_size_kib * 1024;
	v->layout.hash_prefix = v->format.hash_prefix;
	sl_compression_parse(v->format.compression, &v->layout.compression, NULL);
	snprintf(v->layout.prefix, sizeof(v->layout.prefix), "%s/", v->format.name);
	if (v->format.encrypt_key) {
		const char *pass = sl_conf_str(v->conf, "encrypt.passphrase");
		if ((rc = sl_cipher_new(v->format.encrypt_algo, v->format.encrypt_key,
					pass ? pass : getenv("JFS_RSA_PASSPHRASE"), &v->cipher, err)))
			return sl_err_wrap(err, "volume %s is encrypted", v->format.name);
	} else if (v->format.encrypt_public_key) {
		if (!sl_meta_supports(v->meta, SL_META_OP_OBJECT_PROVIDER))
			return sl_errf(err, -EINVAL, "volume %s: a public encryption key in the format "
				       "record, yet no gateway to open data keys", v->format.name);
		struct sl_cipher_unwrapper u = {.unwrap = data_key_from_gateway, .arg = v->meta};
		if ((rc = sl_cipher_new_public(v->format.encrypt_algo,
					       v->format.encrypt_public_key, &u, &v->cipher, err)))
			return sl_err_wrap(err, "volume %s is encrypted", v->format.name);
	}
	v->layout.cipher = v->cipher;
	return open_store(v, err);
}

/* ---- the cache layer's pieces (cache/), each given what it needs of the volume ------------- */

/* The disk cache as cache-dir, cache-size, cache-writers, free-space-ratio and cache-full-block
 * say (the others are read only with a cache-dir). */
static int open_disk_cache(struct sl_volume_core *v, struct sl_err *err)
{
	struct sl_diskcache_config dc = {
		.dirs = sl_conf_str(v->conf, "cache-dir"),
		.volume_id = v->format.uuid[0] ? v->format.uuid : v->format.name,
		.log = &v->log,
	};
	if (!dc.dirs || !*dc.dirs)
		return 0;
	int rc;
	if ((rc = sl_conf_u64(v->conf, "cache-size", &dc.capacity, err)) ||
	    (rc = sl_conf_u64(v->conf, "cache-writers", &dc.max_writers, err)) ||
	    (rc = sl_conf_double(v->conf, "free-space-ratio", &dc.free_ratio, err)) ||
	    (rc = sl_conf_bool(v->conf, "cache-full-block", &dc.full_block, err)))
		return rc;
	return sl_diskcache_new(&dc, &v->disk, err);
}

int sl_vol_store_block(void *core, const char *key, const void *data, uint32_t len,
		       struct sl_err *err)
{
	return sl_store_block(core, key, data, len, err);
}

static bool stage_delete_slice_blocks(void *core, uint64_t id, uint32_t size)
{
	return sl_vol_delete_slice_blocks(core, id, size);
}

static int open_stage(struct sl_volume_core *v, struct sl_err *err)
{
	struct sl_stage_config sc = {
		.disk = v->disk,
		.meta = v->meta,
		.store = v->store,
		.uploads = v->uploads,
		.log = &v->log,
		.stats = &v->flush.stage,
		.clock = v->clock,
		.vol = {.store_block = sl_vol_store_block,
			.delete_slice = sl_vol_delete_slice,
			.delete_slice_blocks = stage_delete_slice_blocks,
			.arg = v},
	};
	return sl_stage_new(&sc, &v->stage, err);
}

/* The block cache's cache group: the volume's peers, which start after it (NULL: none). */
static int group_fetch(void *core, const char *key, const struct sl_place *at, uint32_t off,
		       uint8_t *buf, uint32_t len)
{
	struct sl_volume_core *v = core;
	return v->peers ? sl_peers_fetch(v->peers, key, at, off, buf, len) : -ENOENT;
}

static bool group_offer(void *core, const char *key, const struct sl_place *at,
			const uint8_t *data, uint32_t len)
{
	struct sl_volume_core *v = core;
	return v->peers && sl_peers_offer(v->peers, key, at, data, len);
}

/* hflush.commit: background commits need somewhere to stage (a cache dir), a block server of
 * this process that readers elsewhere can ask for the commit (checked once the group started,
 * whose server finds the committers here), and a backend that takes staged blocks at commit. A
 * client without them commits before hflush returns, and says so; as a reader it still asks
 * writers elsewhere for their pending commits. */
static int setup_background_commit(struct sl_volume_core *v, struct sl_err *err)
{
	const char *mode = sl_conf_str(v->conf, "hflush.commit");
	uint64_t delay;
	int rc = sl_conf_u64(v->conf, "hflush.commit-delay", &delay, err);
	if (rc)
		return rc;
	if (strcmp(mode, "sync") && strcmp(mode, "background"))
		return sl_errf(err, -EINVAL, "hflush.commit must be sync or background, not '%s'",
			       mode);
	if (delay > 60000)
		return sl_errf(err, -EINVAL, "hflush.commit-delay must be 0-60000 milliseconds");
	if (!strcmp(mode, "sync"))
		return 0;
	v->ask_pending_commits = true;
	if (v->read_only)
		return 0;
	const char *missing = !v->stage ? "no usable cache-dir"
			      : !sl_conf_str(v->conf, "cache-group.port") ? "no cache group"
			      : sl_meta_caps(v->meta) & SL_META_CAP_COMMIT_STORED
				      ? "a metadata service that needs blocks stored at commit"
				      : NULL;
	if (missing) {
		sl_log(&v->log, SL_LOG_WARN, "hflush.commit=background: %s here, so hflush commits "
		       "before it returns", missing);
		return 0;
	}
	return sl_background_commit_new(v, (int64_t)delay, &v->background_commit, err);
}

static int setup(sluice_volume *vol, struct sl_err *err)
{
	struct sl_volume_core *v = &vol->core;
	uint64_t mem, ra, uploads, downloads, bsize, heartbeat, replicas;
	bool ro;
	int rc = sl_conf_check_keys(v->conf, err);
	if (!rc) rc = sl_conf_u64(v->conf, "memory-size", &mem, err);
	if (!rc) rc = sl_conf_u64(v->conf, "readahead", &ra, err);
	if (!rc) rc = sl_conf_u64(v->conf, "max-uploads", &uploads, err);
	if (!rc) rc = sl_conf_u64(v->conf, "max-downloads", &downloads, err);
	if (!rc) rc = sl_conf_u64(v->conf, "block.size", &bsize, err);
	if (!rc) rc = sl_conf_u64(v->conf, "heartbeat", &heartbeat, err);
	if (!rc) rc = sl_conf_bool(v->conf, "read-only", &ro, err);
	if (!rc) rc = sl_conf_u64(v->conf, "cache-replicas", &replicas, err);
	uint64_t get_timeout;
	if (!rc) rc = sl_conf_u64(v->conf, "get-timeout", &get_timeout, err);
	if (rc)
		return rc;
	v->get_timeout_s = (int)(get_timeout > 86400 ? 86400 : get_timeout);
	if (!uploads || !downloads || uploads > 1024 || downloads > 1024 || !bsize || !heartbeat)
		return sl_errf(err, -EINVAL, "max-uploads, max-downloads (1-1024), block.size and "
			       "heartbeat must be positive");
	if (replicas < 1 || replicas > SL_RING_MAX_REPLICAS)
		return sl_errf(err, -EINVAL, "cache-replicas must be from 1 to %d, not %llu",
			       SL_RING_MAX_REPLICAS, (unsigned long long)replicas);
	v->cache_replicas = (uint32_t)replicas;
	uint64_t refresh;
	if ((rc = sl_conf_u64(v->conf, "nodes-refresh", &refresh, err)))
		return rc;
	if (!refresh || refresh > 86400)
		return sl_errf(err, -EINVAL, "nodes-refresh must be from 1 to 86400 seconds");
	vol->nodes_refresh_s = (int)refresh;
	const char *nodes = sl_conf_str(v->conf, "nodes");
	if (nodes && nodes[0] != '/' && (rc = sl_ring_new(nodes, &v->ring, err)))
		return rc;
	bool leases;
	uint64_t hard_limit;
	if ((rc = sl_conf_bool(v->conf, "leases", &leases, err)) ||
	    (rc = sl_conf_u64(v->conf, "lease-hard-limit", &hard_limit, err)))
		return rc;
	if (hard_limit > 30 * 86400)
		return sl_errf(err, -EINVAL, "lease-hard-limit must be at most 30 days (%d seconds)",
			       30 * 86400);
	v->leases = leases;
	vol->lease_hard_limit_s = (int64_t)hard_limit;
	v->read_only = ro;
	v->readahead_max = ra;
	v->logical_block_size = bsize;
	vol->heartbeat_s = (int)(heartbeat > 600 ? 600 : heartbeat);
	/* a session lives 5 heartbeats (ours stands for the writer's); a commit waits at most
	 * 60 s (hflush.commit-delay); and a few seconds for the holders' own round */
	v->pending_wait_ms = ((vol->heartbeat_s * 5 > 60 ? vol->heartbeat_s * 5 : 60) + 5) * 1000LL;
	snprintf(v->superuser, sizeof(v->superuser), "%s", sl_conf_str(v->conf, "superuser"));
	snprintf(v->supergroup, sizeof(v->supergroup), "%s", sl_conf_str(v->conf, "supergroup"));
	const char *user = sl_conf_str(v->conf, "user");
	if (!user) {
		struct passwd pw, *res = NULL;
		char buf[1024];
		user = getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res ? res->pw_name
										  : "nobody";
		snprintf(v->default_user, sizeof(v->default_user), "%s", user);
	} else {
		snprintf(v->default_user, sizeof(v->default_user), "%s", user);
	}
	if ((rc = load_volume(vol, err)))
		return rc;
	struct sl_meta_cache_conf mcache = {0}; /* the metadata cache (meta/cache.c), off at 0 */
	if ((rc = sl_conf_u64(v->conf, "attr-cache", &mcache.attr_s, err)) ||
	    (rc = sl_conf_u64(v->conf, "entry-cache", &mcache.entry_s, err)) ||
	    (rc = sl_conf_u64(v->conf, "dir-entry-cache", &mcache.dir_entry_s, err)) ||
	    (rc = sl_conf_u64(v->conf, "open-cache", &mcache.open_s, err)) ||
	    (rc = sl_meta_cache_enable(v->meta, &mcache, err)))
		return rc;
	/* Room for at least a couple of blocks per direction, whatever the setting says. */
	if (mem < 4ULL * v->layout.block_size)
		mem = 4ULL * v->layout.block_size;
	sl_mem_init(&v->mem, mem);
	if ((rc = sl_idmap_new(sl_conf_str(v->conf, "users-file"), sl_conf_str(v->conf, "groups-file"),
			       v->meta, !v->read_only, &v->log, &v->ids, err)))
		return rc;
	if (sl_pool_new((int)uploads, "up", &v->uploads) ||
	    sl_pool_new((int)downloads, "down", &v->downloads))
		return sl_errf(err, -ENOMEM, "cannot start worker threads");
	if (!v->disk && (rc = open_disk_cache(v, err)))
		return rc;
	if ((rc = open_stage(v, err)))
		return rc;
	if (v->stage && v->read_only) { /* nothing to stage; leave other clients' blocks alone */
		sl_stage_free(v->stage);
		v->stage = NULL;
	}
	/* Before the cache group, whose server reads through it; the group joins it later. */
	struct sl_blockcache_config bc = {
		.layout = &v->layout,
		.store = v->store,
		.mem = &v->mem,
		.downloads = v->downloads,
		.disk = v->disk,
		.stage = v->stage,
		.group = {.fetch = group_fetch, .offer = group_offer, .arg = v},
		.reads = &v->reads,
	};
	if (sl_blockcache_new(&bc, &v->cache))
		return sl_errf(err, -ENOMEM, "out of memory");
	if ((rc = setup_background_commit(v, err)) || (rc = sl_peers_new(v, &v->peers, err)))
		return rc;
	if (v->background_commit && !sl_peers_serving(v->peers)) {
		sl_log(&v->log, SL_LOG_WARN, "hflush.commit=background: no cache group served by "
		       "this process here, so hflush commits before it returns");
		sl_background_commit_free(v->background_commit);
		v->background_commit = NULL;
	}
	v->ask_pending_commits = v->ask_pending_commits && v->peers;
	if (v->stage)
		sl_stage_sweep(v->stage); /* blocks recovered from clients that are gone */
	vol->slices_due = v->stage && sl_stage_recovered(v->stage);
	refresh_nodes(vol); /* before the background thread, which refreshes it from then on */
	if (!v->read_only) {
		char info[1024];
		session_info(info, sizeof(info));
		if ((rc = sl_meta_new_session(v->meta, info, sl_clock_real_s(v->clock) +
					      5LL * vol->heartbeat_s,
					      &v->meta->sid, err)))
			return sl_err_wrap(err, "registering a session");
		if (pthread_create(&vol->bg_thread, NULL, background_main, vol))
			return sl_errf(err, -EAGAIN, "cannot start the background thread");
		vol->bg_running = true;
	}
	return 0;
}

static void err_free(void *p) { free(p); }

static void teardown(sluice_volume *vol)
{
	struct sl_volume_core *v = &vol->core;
	if (vol->bg_running) {
		pthread_mutex_lock(&vol->lock);
		vol->stopping = true;
		pthread_cond_broadcast(&vol->wake);
		pthread_mutex_unlock(&vol->lock);
		pthread_join(vol->bg_thread, NULL);
	}
	sl_background_commit_free(v->background_commit); /* writers are closed by now */
	v->background_commit = NULL;
	/* Uploads first (writers are closed by now), then the last round of bookkeeping. */
	if (v->stage)
		sl_stage_sweep(v->stage); /* one last try for staged blocks that are due */
	sl_pool_free(v->uploads);
	sl_pool_free(v->downloads);
	/* Only now: the pools' tasks ask and offer blocks in the group (readahead offers what it
	 * downloaded after the reader has its bytes, compaction reads through the group), and
	 * freed under them an offer checks its answer with a key that is gone. Before the disk
	 * cache and the staging area, which its server reads. */
	sl_peers_free(v->peers);
	v->peers = NULL;
	if (v->meta && v->cache && v->store)
		delete_doomed(vol);
	if (vol->slices_due && v->meta && v->cache && v->store)
		cleanup_slices(vol); /* a client that lived shorter than one background round */
	sl_stage_free(v->stage); /* after the uploads it queued and the deletions it deferred */
	v->stage = NULL;
	if (v->meta) {
		struct sl_err err = {0};
		if (sl_meta_flush_usage(v->meta, &err))
			sl_log(&v->log, SL_LOG_WARN, "flushing usage counters: %s", err.msg);
		if (v->meta->sid && sl_meta_close_session(v->meta, v->meta->sid, &err))
			sl_log(&v->log, SL_LOG_WARN, "closing the session: %s", err.msg);
	}
	sl_blockcache_free(v->cache);
	sl_diskcache_free(v->disk); /* after delete_doomed, which forgets deleted blocks in it */
	if (v->mem.limit)
		sl_mem_destroy(&v->mem);
	sl_idmap_free(v->ids);
	sl_ring_free(v->ring);
	for (size_t i = 0; i < vol->nold_rings; i++)
		sl_ring_free(vol->old_rings[i]);
	free(vol->old_rings);
	free(vol->nodes_text);
	pthread_mutex_destroy(&v->ring_lock);
	sl_commit_destroy(&v->commits);
	sl_obj_close(v->store);
	sl_meta_close(v->meta);
	sl_cipher_free(v->cipher);
	sl_format_free(&v->format);
	sl_conf_free(v->conf);
	free(vol->doomed);
	struct sl_err *e = pthread_getspecific(vol->err_key);
	free(e);
	pthread_setspecific(vol->err_key, NULL);
	pthread_key_delete(vol->err_key);
	pthread_mutex_destroy(&vol->lock);
	pthread_cond_destroy(&vol->wake);
	pthread_cond_destroy(&vol->settled);
	sl_log_queue_free(v->log.queue); /* last: every thread that logs is gone */
	free(vol);
}

int sluice_log_next(sluice_volume *vol, int *level, char *line, size_t size)
{
	struct sl_logger *lg = &vol->core.log;
	return lg->queue ? sl_log_queue_take(lg->queue, level, line, size) : 0;
}

int sluice_init(const sluice_kv *conf, size_t nconf, sluice_volume **out, char *errmsg,
		size_t errmsg_size)
{
	return sl_vol_init(conf, nconf, NULL, out, errmsg, errmsg_size);
}

int sl_vol_init(const sluice_kv *conf, size_t nconf, const struct sl_clock *clock,
		sluice_volume **out, char *errmsg, size_t errmsg_size)
{
	struct sl_err err = {0};
	*out = NULL;
	sluice_volume *vol = calloc(1, sizeof(*vol));
	const char **keys = calloc(nconf + 1, sizeof(char *));
	const char **values = calloc(nconf + 1, sizeof(char *));
	int rc;
	if (!vol || !keys || !values) {
		free(vol);
		rc = sl_errf(&err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nconf; i++) {
		keys[i] = conf[i].key;
		values[i] = conf[i].value;
	}
	vol->core.clock = clock;
	pthread_mutex_init(&vol->lock, NULL);
	pthread_mutex_init(&vol->core.ring_lock, NULL);
	sl_commit_init(&vol->core.commits);
	pthread_cond_init(&vol->wake, NULL);
	pthread_cond_init(&vol->settled, NULL);
	if (pthread_key_create(&vol->err_key, err_free)) {
		pthread_mutex_destroy(&vol->lock);
		pthread_mutex_destroy(&vol->core.ring_lock);
		sl_commit_destroy(&vol->core.commits);
		pthread_cond_destroy(&vol->wake);
		pthread_cond_destroy(&vol->settled);
		free(vol);
		rc = sl_errf(&err, -EAGAIN, "out of thread-specific keys");
		goto out;
	}
	rc = sl_conf_new(keys, values, nconf, &vol->core.conf);
	if (rc)
		sl_errf(&err, rc, "out of memory");
	else
		rc = setup(vol, &err);
	if (rc) {
		teardown(vol);
		goto out;
	}
	*out = vol;
out:
	free(keys);
	free(values);
	if (errmsg && errmsg_size)
		snprintf(errmsg, errmsg_size, "%s", rc ? err.msg : "");
	return rc;
}

int sluice_shutdown(sluice_volume *vol)
{
	if (!vol)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&vol->lock);
	while (vol->open_files) {
		sluice_file *f = vol->open_files;
		pthread_mutex_unlock(&vol->lock);
		int frc = sluice_close(f); /* unlinks itself from the list */
		if (frc && !rc)
			rc = frc;
		pthread_mutex_lock(&vol->lock);
	}
	pthread_mutex_unlock(&vol->lock);
	teardown(vol);
	return rc;
}
