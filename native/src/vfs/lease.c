/*
 * lease.c - writer leases of sluice.h (HDFS semantics over the backend's lease slots, meta.h):
 * an output stream takes the lease of its file at open and ends it at close; recoverLease ends
 * another client's, whose next commit then fails inside its transaction; isFileClosed asks
 * whether a live writer holds one. With "leases=false", or a backend without lease slots, streams
 * hold none and any number of them may write one file (JuiceFS's semantics).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

int sl_lease_take(struct sl_volume_core *v, const struct sl_meta_user *mu, sl_ino ino,
		  const char *path, struct sl_meta_lease *lease, bool *leased, struct sl_err *err)
{
	*leased = false;
	if (!v->leases || !sl_meta_supports(v->meta, SL_META_OP_LEASE_ACQUIRE) || !v->meta->sid)
		return 0;
	int rc = sl_meta_lease_acquire(v->meta, mu, ino, v->meta->sid, lease, err);
	if (rc == -ENOSYS) { /* a gateway older than leases: write as before, unfenced */
		sl_log(&v->log, SL_LOG_WARN, "%s: the metadata service keeps no writer leases (%s); "
		       "writing without one", path, err->msg);
		sl_err_clear(err);
		return 0;
	}
	if (rc)
		return sl_err_wrap(err, "opening %s for writing", path);
	*leased = true;
	return 0;
}

int sl_lease_end(struct sl_volume_core *v, sl_ino ino, const struct sl_meta_lease *lease,
		 struct sl_err *err)
{
	return sl_meta_lease_release(v->meta, ino, lease, err);
}

bool sl_gather_pending(struct sl_volume_core *v, sl_ino ino, const char *path, bool recovering)
{
	if (v->background_commit && sl_background_commit_ino(v->background_commit, ino))
		return true; /* its writer is here */
	int rc = sl_peers_commit_pending(v->peers, ino, recovering);
	if (rc == -EBUSY) {
		/* A holder keeps slices a writer acknowledged, and the writer, alive by its
		 * session, could not be asked (its node lost, or cut off): reading now would miss
		 * them. Either the writer commits them within its delay, or its session expires
		 * and the holders do; as an HDFS reader waits for a block's recovery. */
		sl_log(&v->log, SL_LOG_INFO, "%s: its writer could not be asked for what it "
		       "hflushed; waiting up to %" PRId64 " s for it to be committed", path,
		       v->pending_wait_ms / 1000);
		int64_t until = sl_mono_ms() + v->pending_wait_ms;
		while (rc == -EBUSY && sl_mono_ms() < until) {
			nanosleep(&(struct timespec){.tv_nsec = 500 * 1000000L}, NULL);
			rc = sl_peers_commit_pending(v->peers, ino, recovering);
		}
	}
	if (rc && rc != -ENOENT)
		sl_log(&v->log, SL_LOG_WARN, "%s: what its writer hflushed could not all be committed "
		       "(%s)%s", path, rc == -EBUSY ? "its writer is alive and could not be asked"
						     : strerror(-rc),
		       recovering ? "" : "; reading what is committed");
	return !rc;
}

/* recover: sluice_recover_lease; otherwise sluice_is_file_closed. */
static int lease_call(sluice_volume *vol, const sluice_user *u, const char *path, bool recover)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_volume_core *v = &vol->core;
	struct sl_meta_user mu;
	sl_vol_user(v, u, &mu);
	sl_ino ino;
	struct sl_attr attr;
	int rc = sl_resolve_file(vol, &mu, path, &ino, &attr, err);
	if (rc)
		return rc;
	if (recover && v->read_only)
		return sl_errf(err, -EROFS, "volume %s is opened read-only", v->format.name);
	if (!sl_meta_supports(v->meta, SL_META_OP_LEASE_RECOVER)) {
		/* a backend without leases: nobody is fenced, so say so for a recovery; a file
		 * without leases is always "closed" */
		if (recover)
			return sl_errf(err, -ENOTSUP, "%s: this metadata backend (%s) keeps no "
				       "writer leases, so a writer cannot be fenced", path,
				       sl_meta_backend_name(v->meta));
		return 1;
	}
	/* As HDFS's lease recovery keeps what the DataNodes acknowledged: what the writer
	 * hflushed is committed before it is fenced (hflush.commit=background). */
	if (recover && v->ask_pending_commits)
		sl_gather_pending(v, ino, path, true);
	bool closed = false;
	rc = sl_meta_lease_recover(v->meta, &mu, ino, recover, &closed, err);
	if (rc)
		return sl_err_wrap(err, "%s the lease of %s", recover ? "recovering" : "checking",
				   path);
	return closed ? 1 : 0;
}

int sluice_recover_lease(sluice_volume *vol, const sluice_user *u, const char *path)
{
	return lease_call(vol, u, path, true);
}

int sluice_is_file_closed(sluice_volume *vol, const sluice_user *u, const char *path)
{
	return lease_call(vol, u, path, false);
}
