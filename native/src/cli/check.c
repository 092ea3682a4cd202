/*
 * check.c - the operator's checks of a volume's data against its metadata, as juicefs fsck and
 * juicefs gc make them:
 *   sluice fsck META-URL       every block of every slice a file uses exists in object storage,
 *                              with its size where the volume stores blocks as they are; lists
 *                              the files that lost data; exit status 1 if any did
 *   sluice gc META-URL [--delete] [--skip-newer SECONDS]
 *                              objects no slice references (leaked: a client died after an
 *                              upload, or a deletion failed), slices and files whose deletion is
 *                              pending, sessions past their expiry; with --delete, removes them
 *                              (closes the sessions, as juicefs clients do every heartbeat). Objects newer than
 *                              SECONDS (default 3600, as juicefs) are skipped: they may belong
 *                              to an upload whose commit is still to come.
 * Both read every chunk row and list every object: a long job on a large volume, which shows its
 * progress on a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chunk/chunk.h"
#include "cli.h"

/* A slice the metadata references, and what the listing found of it. */
struct slice_seen {
	uint64_t id; /* 0: a free slot */
	uint32_t size;
	uint32_t found; /* blocks listed with the right name (and size, where it shows) */
	sl_ino ino;     /* a file that uses it */
};

struct slice_set {
	struct slice_seen *e;
	size_t cap, n;
};

static size_t slot_of(const struct slice_set *s, uint64_t id)
{
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
	while (s->e[i].id && s->e[i].id != id)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static struct slice_seen *slice_find(const struct slice_set *s, uint64_t id)
{
	if (!s->cap)
		return NULL;
	struct slice_seen *e = &s->e[slot_of(s, id)];
	return e->id ? e : NULL;
}

static int slice_add(struct slice_set *s, uint64_t id, uint32_t size, sl_ino ino)
{
	if (2 * (s->n + 1) > s->cap) {
		struct slice_set g = {.cap = s->cap ? 2 * s->cap : 4096};
		if (!(g.e = calloc(g.cap, sizeof(*g.e))))
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->e[i].id)
				g.e[slot_of(&g, s->e[i].id)] = s->e[i];
		g.n = s->n;
		free(s->e);
		*s = g;
	}
	struct slice_seen *e = &s->e[slot_of(s, id)];
	if (!e->id) {
		*e = (struct slice_seen){.id = id, .size = size, .ino = ino};
		s->n++;
	}
	return 0;
}

/* A progress line on a terminal, at most one a second. */
struct progress {
	bool tty;
	time_t last;
};

static void progress_show(struct progress *p, const char *what, uint64_t n, bool done)
{
	time_t now = time(NULL);
	if (!p->tty || (!done && now == p->last))
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %" PRIu64 "%s", what, n, done ? "\n" : "");
}

struct scan {
	struct slice_set slices;
	uint64_t chunks, bytes;
	struct progress prog;
};

static int add_chunk(void *arg, sl_ino ino, uint32_t indx, const struct sl_slice *ss, size_t n)
{
	(void)indx;
	struct scan *sc = arg;
	for (size_t i = 0; i < n; i++) {
		if (!ss[i].id)
			continue;
		if (!slice_find(&sc->slices, ss[i].id))
			sc->bytes += ss[i].size;
		if (slice_add(&sc->slices, ss[i].id, ss[i].size, ino))
			return -ENOMEM;
	}
	progress_show(&sc->prog, "chunks read", ++sc->chunks, false);
	return 0;
}

/* Every slice the chunk rows reference, into sc. */
static int scan_metadata(const char *cmd, sluice_volume *vol, struct scan *sc)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	if (!sl_meta_supports(m, SL_META_OP_SCAN_CHUNKS))
		return cli_fail(cmd, "%s cannot be scanned from here: run sluice %s with the volume's "
				"META-URL", m->url_redacted, cmd);
	sc->prog.tty = isatty(STDERR_FILENO);
	int rc = sl_meta_scan_chunks(m, add_chunk, sc, &err);
	progress_show(&sc->prog, "chunks read", sc->chunks, true);
	if (rc)
		return cli_fail(cmd, "reading the chunks: %s", rc == -ENOMEM ? "out of memory"
								 : err.msg);
	return 0;
}

static void path_of(sluice_volume *vol, sl_ino ino, char *buf, size_t size)
{
	struct sl_err err = {0};
	char *path = NULL;
	if (!sl_meta_inode_path(vol->core.meta, NULL, ino, &path, &err)) {
		snprintf(buf, size, "%s", path);
		free(path);
	} else {
		snprintf(buf, size, "inode %" PRIu64 " (%s)", ino, err.msg);
	}
}

/* ---- fsck ------------------------------------------------------------------------------------ */

struct fsck_list {
	sluice_volume *vol;
	struct scan *sc;
	bool sizes_show; /* blocks are stored as they are: an object's size is its block's */
	uint64_t objects, wrong_size;
};

static int fsck_object(void *arg, const struct sl_obj_info *o)
{
	struct fsck_list *f = arg;
	const struct sl_chunk_layout *l = &f->vol->core.layout;
	uint64_t id;
	uint32_t indx, len;
	progress_show(&f->sc->prog, "objects listed", ++f->objects, false);
	if (!sl_block_key_parse(l, o->key, &id, &indx, &len))
		return 0;
	struct slice_seen *s = slice_find(&f->sc->slices, id);
	if (!s || indx >= sl_block_count(l, s->size) || len != sl_block_len(l, s->size, indx))
		return 0; /* not a block of a slice in use: gc's business */
	if (f->sizes_show && o->size != len) {
		fprintf(stderr, "wrong size: %s has %" PRIu64 " bytes, not %" PRIu32 "\n", o->key,
			o->size, len);
		f->wrong_size++;
		return 0;
	}
	s->found++;
	return 0;
}

static int cmd_fsck_run(const char *cmd, sluice_volume *vol)
{
	struct scan sc = {0};
	int rc = scan_metadata(cmd, vol, &sc);
	if (rc)
		goto out;
	const struct sl_chunk_layout *l = &vol->core.layout;
	struct fsck_list f = {.vol = vol, .sc = &sc,
			      .sizes_show = l->compression == SL_COMPRESS_NONE && !l->cipher};
	char prefix[SL_KEY_MAX];
	snprintf(prefix, sizeof(prefix), "%schunks/", l->prefix);
	struct sl_err err = {0};
	if (sl_obj_list(vol->core.store, prefix, NULL, fsck_object, &f, &err)) {
		rc = cli_fail(cmd, "listing %s: %s", prefix, err.msg);
		goto out;
	}
	progress_show(&sc.prog, "objects listed", f.objects, true);
	uint64_t lost_blocks = 0, lost_slices = 0;
	for (size_t i = 0; i < sc.slices.cap; i++) {
		const struct slice_seen *s = &sc.slices.e[i];
		uint32_t want = s->id ? sl_block_count(l, s->size) : 0;
		if (s->found >= want)
			continue;
		char path[1024];
		path_of(vol, s->ino, path, sizeof(path));
		printf("lost: %" PRIu32 " of the %" PRIu32 " blocks of slice %" PRIu64 " (%" PRIu32
		       " bytes), used by %s\n", want - s->found, want, s->id, s->size, path);
		lost_blocks += want - s->found;
		lost_slices++;
	}
	printf("%" PRIu64 " chunks, %zu slices (%" PRIu64 " bytes), %" PRIu64 " objects listed; "
	       "%" PRIu64 " blocks lost in %" PRIu64 " slices, %" PRIu64 " of the wrong size\n",
	       sc.chunks, sc.slices.n, sc.bytes, f.objects, lost_blocks, lost_slices, f.wrong_size);
	rc = lost_blocks || f.wrong_size ? 1 : 0;
out:
	free(sc.slices.e);
	return rc;
}

int cmd_fsck(int argc, char **argv)
{
	const char *cmd = "fsck";
	if (argc != 2)
		return cli_fail(cmd, "usage: sluice fsck META-URL");
	sluice_volume *vol;
	if (cli_open_volume(cmd, argv[1], NULL, 0, &vol))
		return 1;
	int rc = cmd_fsck_run(cmd, vol);
	if (sluice_shutdown(vol) && !rc)
		rc = cli_fail(cmd, "closing the volume failed");
	return rc;
}

/* ---- gc -------------------------------------------------------------------------------------- */

struct gc_list {
	sluice_volume *vol;
	struct scan *sc;
	bool delete;
	int64_t newest; /* objects modified after it are skipped */
	uint64_t objects, valid, skipped, leaked, leaked_bytes, pending, other, deleted;
	struct sl_err err;
};

static int gc_object(void *arg, const struct sl_obj_info *o)
{
	struct gc_list *g = arg;
	const struct sl_chunk_layout *l = &g->vol->core.layout;
	uint64_t id;
	uint32_t indx, len;
	progress_show(&g->sc->prog, "objects listed", ++g->objects, false);
	if (!sl_block_key_parse(l, o->key, &id, &indx, &len)) {
		g->other++; /* not a block's key: not ours to judge */
		return 0;
	}
	const struct slice_seen *s = slice_find(&g->sc->slices, id);
	if (s && indx < sl_block_count(l, s->size) && len == sl_block_len(l, s->size, indx)) {
		g->valid++;
		return 0;
	}
	if (o->mtime_s > g->newest) {
		g->skipped++;
		return 0;
	}
	int64_t refs = 0;
	uint32_t size = 0;
	struct sl_err err = {0};
	int rc = s ? -ENOENT : sl_meta_slice_refs(g->vol->core.meta, id, &refs, &size, &err);
	if (!rc) { /* unreferenced, its row still there: its deletion is pending */
		g->pending++;
		return 0;
	}
	if (rc != -ENOENT) {
		g->err = err;
		return rc;
	}
	printf("leaked: %s (%" PRIu64 " bytes)\n", o->key, o->size);
	g->leaked++;
	g->leaked_bytes += o->size;
	if (g->delete) {
		if (sl_obj_delete(g->vol->core.store, o->key, &err))
			fprintf(stderr, "sluice gc: cannot delete %s: %s\n", o->key, err.msg);
		else
			g->deleted++;
	}
	return 0;
}

static int doom_delfile(void *arg, sl_ino ino, uint64_t length)
{
	(void)length;
	sl_vol_doom(arg, ino);
	return 0;
}

static int gc_pending(const char *cmd, sluice_volume *vol, int64_t before)
{
	struct sl_meta *m = vol->core.meta;
	struct sl_err err = {0};
	if (sl_meta_list_dead_slices(m, sl_vol_delete_slice, &vol->core, &err))
		return cli_fail(cmd, "deleting unreferenced slices: %s", err.msg);
	if (sl_meta_list_delfiles(m, before, doom_delfile, vol, &err))
		return cli_fail(cmd, "deleting the data of deleted files: %s", err.msg);
	if (sl_vol_settle_deletions(vol, 600 * 1000))
		return cli_fail(cmd, "deleting the data of deleted files took more than 10 minutes");
	return 0;
}

static int cmd_gc_run(const char *cmd, sluice_volume *vol, bool delete, int64_t skip_s)
{
	struct scan sc = {0};
	uint64_t stale = 0, closed = 0;
	struct sl_err err = {0};
	int rc = 0;
	if (sl_meta_supports(vol->core.meta, SL_META_OP_CLOSE_STALE_SESSION) &&
	    sl_vol_stale_sessions(&vol->core, delete, &stale, &closed, &err))
		rc = cli_fail(cmd, "stale sessions: %s", err.msg);
	if (!rc && delete)
		rc = gc_pending(cmd, vol, (int64_t)time(NULL) - skip_s);
	if (!rc)
		rc = scan_metadata(cmd, vol, &sc);
	if (rc)
		goto out;
	const struct sl_chunk_layout *l = &vol->core.layout;
	struct gc_list g = {.vol = vol, .sc = &sc, .delete = delete,
			    .newest = (int64_t)time(NULL) - skip_s};
	char prefix[SL_KEY_MAX];
	snprintf(prefix, sizeof(prefix), "%schunks/", l->prefix);
	if ((rc = sl_obj_list(vol->core.store, prefix, NULL, gc_object, &g, &err))) {
		rc = cli_fail(cmd, "listing %s: %s", prefix, g.err.msg[0] ? g.err.msg : err.msg);
		goto out;
	}
	progress_show(&sc.prog, "objects listed", g.objects, true);
	printf("%" PRIu64 " objects: %" PRIu64 " valid, %" PRIu64 " pending deletion, %" PRIu64
	       " leaked (%" PRIu64 " bytes), %" PRIu64 " skipped (newer than %" PRId64 " s), %"
	       PRIu64 " not blocks\n", g.objects, g.valid, g.pending, g.leaked, g.leaked_bytes,
	       g.skipped, skip_s, g.other);
	if (delete)
		printf("%" PRIu64 " stale sessions, %" PRIu64 " closed (those with writers' leases "
		       "wait for the lease-hard-limit sweep)\n", stale, closed);
	else
		printf("%" PRIu64 " stale sessions\n", stale);
	if (delete)
		printf("deleted %" PRIu64 " leaked objects\n", g.deleted);
	else if (g.leaked || g.pending || stale)
		printf("run with --delete to remove the leaked objects and pending deletions and to "
		       "close the stale sessions\n");
out:
	free(sc.slices.e);
	return rc;
}

int cmd_gc(int argc, char **argv)
{
	const char *cmd = "gc";
	static struct option opts[] = {
		{"delete", no_argument, 0, 'd'},
		{"skip-newer", required_argument, 0, 's'},
		{0, 0, 0, 0},
	};
	bool delete = false;
	int64_t skip_s = 3600;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		char *end;
		if (c == 'd') {
			delete = true;
		} else if (c == 's') {
			skip_s = strtoll(optarg, &end, 10);
			if (*end || end == optarg || skip_s < 0)
				return cli_fail(cmd, "--skip-newer takes a number of seconds");
		} else {
			return cli_fail(cmd, "usage: sluice gc META-URL [--delete] [--skip-newer S]");
		}
	}
	if (optind != argc - 1)
		return cli_fail(cmd, "usage: sluice gc META-URL [--delete] [--skip-newer S]");
	sluice_volume *vol;
	if (cli_open_volume(cmd, argv[optind], NULL, 0, &vol))
		return 1;
	int rc = cmd_gc_run(cmd, vol, delete, skip_s);
	if (sluice_shutdown(vol) && !rc)
		rc = cli_fail(cmd, "closing the volume failed");
	return rc;
}
