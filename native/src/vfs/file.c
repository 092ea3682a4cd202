/*
 * file.c - file handles of sluice.h: open/create (atomic overwrite, no-replace, append), reads
 * (sequential and positional), writes, hflush/hsync, close. A handle keeps the inode open in the
 * metadata core so that a file deleted while open keeps its data until the last local close
 * (jfs_sustained, as JuiceFS does).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "vfs.h"

static void list_add(sluice_volume *vol, sluice_file *f)
{
	pthread_mutex_lock(&vol->lock);
	f->next_open = vol->open_files;
	if (vol->open_files)
		vol->open_files->prev_open = f;
	vol->open_files = f;
	pthread_mutex_unlock(&vol->lock);
}

static void list_remove(sluice_volume *vol, sluice_file *f)
{
	pthread_mutex_lock(&vol->lock);
	if (f->prev_open)
		f->prev_open->next_open = f->next_open;
	else
		vol->open_files = f->next_open;
	if (f->next_open)
		f->next_open->prev_open = f->prev_open;
	pthread_mutex_unlock(&vol->lock);
}

static int open_existing(sluice_volume *vol, const struct sl_meta_user *mu, const char *path,
			 int flags, sl_ino *ino, struct sl_attr *attr, struct sl_err *err)
{
	int rc = sl_resolve(vol, mu, path, true, ino, attr, err);
	if (rc)
		return rc;
	if (attr->type == SL_TYPE_DIR)
		return sl_errf(err, -EISDIR, "%s is a directory", path);
	if (attr->type != SL_TYPE_FILE)
		return sl_errf(err, -EINVAL, "%s is not a regular file", path);
	if ((flags & SLUICE_O_WRITE) && (attr->flags & (SL_FLAG_IMMUTABLE | SL_FLAG_APPEND)) &&
	    ((attr->flags & SL_FLAG_IMMUTABLE) || !(flags & SLUICE_O_APPEND)))
		return sl_errf(err, -EPERM, "%s is %s", path, attr->flags & SL_FLAG_IMMUTABLE
			       ? "read-only (immutable, or in a snapshot)" : "append-only");
	int mask = (flags & SLUICE_O_READ ? SL_MAY_READ : 0) |
		   (flags & SLUICE_O_WRITE ? SL_MAY_WRITE : 0);
	if ((rc = sl_meta_may(vol->core.meta, mu, *ino, attr, mask, err)))
		return rc == -EACCES ? sl_errf(err, -EACCES, "permission denied opening %s for %s",
					       path, flags & SLUICE_O_WRITE ? "writing" : "reading")
				     : rc;
	return 0;
}

/* hflush.commit=background: what a writer hflushed may not be in the metadata yet. As an HDFS
 * reader asks the DataNode for the visible length, a reader asks the file's writer (this
 * handle's, else the group's nodes, if the file has a live writer's lease) to commit it, then
 * reads the attributes again. When the writer cannot be asked while the group keeps its
 * records, the reader waits for them to be committed (sl_gather_pending); a group that cannot
 * be asked at all costs a warning, and the reader reads what is committed. */
static int see_pending_commits(sluice_volume *vol, const struct sl_meta_user *mu,
			       const char *path, sl_ino ino, struct sl_attr *attr,
			       struct sl_err *err)
{
	struct sl_volume_core *v = &vol->core;
	bool committed = v->background_commit && sl_background_commit_ino(v->background_commit, ino);
	bool closed = false;
	if (!committed && v->leases && sl_meta_supports(v->meta, SL_META_OP_LEASE_RECOVER)) {
		struct sl_err lerr = {0};
		if (sl_meta_lease_recover(v->meta, mu, ino, false, &closed, &lerr))
			closed = false; /* ask anyway */
	}
	if (!committed && !closed)
		committed = sl_gather_pending(v, ino, path, false);
	if (!committed)
		return 0;
	sl_meta_cache_forget(v->meta, ino);
	return sl_meta_getattr(v->meta, mu, ino, attr, err);
}

int sluice_open(sluice_volume *vol, const sluice_user *u, const char *path, int flags,
		uint32_t mode, uint32_t umask, sluice_file **out)
{
	struct sl_err *err = sl_vol_err(vol);
	struct sl_volume_core *v = &vol->core;
	struct sl_meta_user mu;
	sl_vol_user(v, u, &mu);
	*out = NULL;
	if (!(flags & (SLUICE_O_READ | SLUICE_O_WRITE)))
		flags |= SLUICE_O_READ;
	if ((flags & (SLUICE_O_WRITE | SLUICE_O_CREATE | SLUICE_O_APPEND)) && v->read_only)
		return sl_errf(err, -EROFS, "volume %s is opened read-only", v->format.name);
	if (flags & (SLUICE_O_CREATE | SLUICE_O_APPEND))
		flags |= SLUICE_O_WRITE;

	sl_ino ino = 0;
	struct sl_attr attr;
	int rc;
	bool existed = true; /* not created here */
	struct sl_meta_lease lease;
	bool leased = false; /* the create took the stream's lease */
	if (flags & SLUICE_O_CREATE) {
		if (flags & SLUICE_O_MKDIRS) {
			char norm[PATH_MAX], parent[PATH_MAX];
			const char *name;
			rc = sl_path_normalize(path, norm, sizeof(norm), err);
			if (!rc && sl_path_split(norm, parent, sizeof(parent), &name))
				rc = sl_errf(err, -EISDIR, "cannot create a file at /");
			/* Parent directories get the default directory mode, like Hadoop's create. */
			if (!rc)
				rc = sl_mkdirs_user(vol, &mu, parent, 0777, (uint16_t)umask, err);
			if (rc)
				return rc;
		}
		rc = sl_create_entry(vol, &mu, path, SL_TYPE_FILE, (uint16_t)(mode & 07777),
				     (flags & SLUICE_O_OVERWRITE ? SL_MKNOD_REPLACE : 0) |
				     SL_MKNOD_UMASK(umask), &ino, &attr,
				     flags & SLUICE_O_WRITE ? &lease : NULL, &leased, err);
		existed = rc == -EEXIST;
		if (rc == -EEXIST && !(flags & (SLUICE_O_EXCL | SLUICE_O_OVERWRITE))) {
			sl_err_clear(err);
			rc = open_existing(vol, &mu, path, flags, &ino, &attr, err);
		} else if (rc == -EEXIST && attr.type == SL_TYPE_DIR) {
			rc = sl_errf(err, -EISDIR, "%s is a directory", path);
		}
	} else {
		rc = open_existing(vol, &mu, path, flags, &ino, &attr, err);
		if (!rc && !(flags & SLUICE_O_WRITE) && v->ask_pending_commits)
			rc = see_pending_commits(vol, &mu, path, ino, &attr, err);
	}
	if (rc)
		return rc;

	sluice_file *f = calloc(1, sizeof(*f));
	if (!f) {
		if (leased)
			sl_lease_end(v, ino, &lease, err);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	f->vol = vol;
	f->ino = ino;
	f->flags = flags;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->idle, NULL);
	if (flags & SLUICE_O_APPEND)
		f->pos = attr.length;
	if ((flags & SLUICE_O_WRITE) && existed && v->ask_pending_commits)
		sl_gather_pending(v, ino, path, false); /* before a dead writer's lease is taken */
	if (leased) {
		f->lease = lease;
		f->leased = true;
	} else if (flags & SLUICE_O_WRITE) {
		rc = sl_lease_take(v, &mu, ino, path, &f->lease, &f->leased, err);
	}
	if (rc) {
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->idle);
		free(f);
		return rc;
	}
	rc = sl_reader_new(v, &mu, ino, attr.length, &f->r);
	if (!rc && (flags & SLUICE_O_WRITE))
		rc = sl_writer_new(v, &mu, f->leased ? &f->lease : NULL, ino, f->pos, &f->w);
	if (rc) {
		sl_reader_free(f->r);
		if (f->leased)
			sl_lease_end(v, ino, &f->lease, err);
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->idle);
		free(f);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	sl_meta_open_inc(v->meta, ino);
	list_add(vol, f);
	*out = f;
	return 0;
}

int sluice_close(sluice_file *f)
{
	if (!f)
		return 0;
	sluice_volume *vol = f->vol;
	struct sl_err *err = sl_vol_err(vol);
	int rc = 0;
	pthread_mutex_lock(&f->lock);
	while (f->flushing)
		pthread_cond_wait(&f->idle, &f->lock);
	bool lease_ended = false; /* by the stream's last commit */
	if (f->w)
		rc = sl_writer_close(f->w, &lease_ended, err);
	sl_writer_free(f->w);
	f->w = NULL;
	if (f->leased && !lease_ended) {
		/* after a failed flush: its error is the one to report */
		struct sl_err lerr = {0};
		int lrc = sl_lease_end(&vol->core, f->ino, &f->lease, &lerr);
		if (lrc && !rc) {
			rc = lrc;
			*err = lerr;
		}
		f->leased = false;
	}
	pthread_mutex_unlock(&f->lock);
	sl_reader_free(f->r);
	list_remove(vol, f);
	bool sustained;
	if (sl_meta_open_dec(vol->core.meta, f->ino, &sustained) && sustained) {
		bool orphan = false;
		struct sl_err rerr = {0};
		if (sl_meta_release(vol->core.meta, f->ino, &orphan, &rerr))
			sl_log(&vol->core.log, SL_LOG_WARN, "releasing inode %llu: %s",
			       (unsigned long long)f->ino, rerr.msg);
		else if (orphan)
			sl_vol_doom(vol, f->ino);
	}
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->idle);
	free(f);
	return rc;
}

ssize_t sluice_pread(sluice_file *f, void *buf, size_t len, uint64_t off)
{
	struct sl_err *err = sl_vol_err(f->vol);
	if (!(f->flags & SLUICE_O_READ))
		return sl_errf(err, -EBADF, "file is not open for reading");
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	return (ssize_t)sl_reader_pread(f->r, buf, len, off, err);
}

ssize_t sluice_read(sluice_file *f, void *buf, size_t len)
{
	pthread_mutex_lock(&f->lock);
	ssize_t n = sluice_pread(f, buf, len, f->pos);
	if (n > 0)
		f->pos += (uint64_t)n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

ssize_t sluice_write(sluice_file *f, const void *buf, size_t len)
{
	struct sl_err *err = sl_vol_err(f->vol);
	if (!f->w)
		return sl_errf(err, -EBADF, "file is not open for writing");
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	pthread_mutex_lock(&f->lock);
	int rc = sl_writer_write(f->w, buf, len, err);
	if (!rc)
		f->pos = sl_writer_length(f->w);
	pthread_mutex_unlock(&f->lock);
	return rc ? rc : (ssize_t)len;
}

int sluice_seek(sluice_file *f, uint64_t off)
{
	if (f->w)
		return sl_errf(sl_vol_err(f->vol), -ESPIPE,
			       "output streams are sequential; seek is for input streams");
	pthread_mutex_lock(&f->lock);
	f->pos = off;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

uint64_t sluice_tell(const sluice_file *f)
{
	return f->pos;
}

uint64_t sluice_file_length(const sluice_file *f)
{
	if (f->w)
		return sl_writer_length(f->w);
	sluice_stat st;
	return sluice_fstat((sluice_file *)f, &st) ? 0 : st.length;
}

int sluice_hflush(sluice_file *f)
{
	struct sl_err *err = sl_vol_err(f->vol);
	int64_t t0 = sl_mono_ns();
	pthread_mutex_lock(&f->lock);
	sl_stat_add(&f->vol->core.flush.wait_ns, (uint64_t)(sl_mono_ns() - t0));
	struct sl_writer *w = f->w;
	if (!w) {
		pthread_mutex_unlock(&f->lock);
		return sl_errf(err, -EBADF, "file is not open for writing");
	}
	/* Not under f->lock: hflushes of several threads run at once and share their commits
	 * (writer.c). The writer outlives them: close waits for flushing to drop to 0. */
	f->flushing++;
	pthread_mutex_unlock(&f->lock);
	int rc = sl_writer_hflush(w, err);
	pthread_mutex_lock(&f->lock);
	if (--f->flushing == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int sluice_hsync(sluice_file *f)
{
	struct sl_err *err = sl_vol_err(f->vol);
	if (!f->w)
		return sl_errf(err, -EBADF, "file is not open for writing");
	pthread_mutex_lock(&f->lock);
	int rc = sl_writer_flush(f->w, err);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void sluice_unbuffer(sluice_file *f)
{
	sl_reader_unbuffer(f->r);
}

int sluice_fstat(sluice_file *f, sluice_stat *st)
{
	struct sl_volume_core *v = &f->vol->core;
	struct sl_attr attr;
	int rc = sl_meta_getattr(v->meta, sl_reader_user(f->r), f->ino, &attr,
				     sl_vol_err(f->vol));
	if (!rc) {
		sl_fill_stat(v, f->ino, &attr, st);
		if (f->w && sl_writer_length(f->w) > st->length)
			st->length = sl_writer_length(f->w);
	}
	return rc;
}
