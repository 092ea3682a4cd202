/*
 * check.c - the operator's checks of a volume's data against its metadata, as juicefs fsck and
 * juicefs gc make them:
 *   sluice fsck META-URL [--path PATH [--recursive] [--repair] [--sync-dir-stat]
 *                        [--repair-dir-mode MODE]]
 *                              every block of every slice a file uses exists in object storage,
 *                              with its size where the volume stores blocks as they are; lists
 *                              the files that lost data. With --path (juicefs fsck's options),
 *                              only the files at or (--recursive) below PATH, and its
 *                              directories are checked too: node row, link count, directory
 *                              stats; --repair fixes those. Exit status 1 if anything is wrong
 *                              (and not repaired)
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

struct scan {
	struct slice_set slices;
	const struct slice_set *only; /* NULL, or the inodes (ids) whose chunks count */
	uint64_t chunks, bytes;
	struct cli_progress prog;
};

static int add_chunk(void *arg, sl_ino ino, uint32_t indx, const struct sl_slice *ss, size_t n)
{
	(void)indx;
	struct scan *sc = arg;
	if (sc->only && !slice_find(sc->only, ino))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!ss[i].id)
			continue;
		if (!slice_find(&sc->slices, ss[i].id))
			sc->bytes += ss[i].size;
		if (slice_add(&sc->slices, ss[i].id, ss[i].size, ino))
			return -ENOMEM;
	}
	cli_progress_show(&sc->prog, "chunks read", ++sc->chunks, false);
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
	cli_progress_init(&sc->prog);
	int rc = sl_meta_scan_chunks(m, add_chunk, sc, &err);
	cli_progress_show(&sc->prog, "chunks read", sc->chunks, true);
	if (rc)
		return cli_fail(cmd, "reading the chunks: %s", rc == -ENOMEM ? "out of memory"
								 : err.msg);
	return 0;
}

/* What an object of the chunks/ prefix is to the scanned metadata. */
enum block_kind {
	NOT_A_BLOCK,  /* no block's key: not ours to judge */
	BLOCK_IN_USE, /* a block of a slice the chunk rows use */
	BLOCK_UNUSED, /* a block's key, but no block of a slice in use */
};

/* The key's slice id, block length, and the slice if the chunk rows use it (else NULL). */
static enum block_kind block_of(const struct scan *sc, const struct sl_chunk_layout *l,
				const char *key, uint64_t *id, uint32_t *len,
				struct slice_seen **seen)
{
	uint32_t indx;
	*seen = NULL;
	if (!sl_block_key_parse(l, key, id, &indx, len))
		return NOT_A_BLOCK;
	struct slice_seen *s = *seen = slice_find(&sc->slices, *id);
	return s && indx < sl_block_count(l, s->size) && *len == sl_block_len(l, s->size, indx)
		       ? BLOCK_IN_USE : BLOCK_UNUSED;
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
	uint32_t len;
	struct slice_seen *s;
	cli_progress_show(&f->sc->prog, "objects listed", ++f->objects, false);
	if (block_of(f->sc, l, o->key, &id, &len, &s) != BLOCK_IN_USE)
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

static int cmd_fsck_run(const char *cmd, sluice_volume *vol, const struct slice_set *only)
{
	struct scan sc = {.only = only};
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
	cli_progress_show(&sc.prog, "objects listed", f.objects, true);
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

/* ---- fsck --path: directories ------------------------------------------------------------- */

struct dir_todo {
	sl_ino parent, ino;
	char *path;
};

struct dir_walk {
	const char *cmd;
	sluice_volume *vol;
	const struct sl_meta_dir_repair *repair; /* NULL: only check */
	bool recursive, stats, sync;
	struct slice_set files; /* the files in scope, by inode (for the block check) */
	struct dir_todo *todo;
	size_t ntodo, cap;
	uint64_t dirs, broken, repaired;
	struct cli_progress prog;
	const char *at; /* the directory being listed */
};

static const struct sl_meta_user fsck_root = {.superuser = true};

static int todo_push(struct dir_walk *w, sl_ino parent, sl_ino ino, const char *dir,
		     const char *name)
{
	if (w->ntodo == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 64;
		struct dir_todo *t = realloc(w->todo, nc * sizeof(*t));
		if (!t)
			return -ENOMEM;
		w->todo = t;
		w->cap = nc;
	}
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	if (!path)
		return -ENOMEM;
	snprintf(path, len, "%s%s%s", dir, strcmp(dir, "/") && *name ? "/" : "", name);
	w->todo[w->ntodo++] = (struct dir_todo){parent, ino, path};
	return 0;
}

static int walk_entry(void *arg, const struct sl_dirent_info *e)
{
	struct dir_walk *w = arg;
	char name[SL_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%.*s", (int)e->name_len, e->name);
	if (e->attr.type == SL_TYPE_DIR)
		return todo_push(w, e->attr.parent, e->ino, w->at, name);
	return e->attr.type == SL_TYPE_FILE ? slice_add(&w->files, e->ino, 0, e->ino) : 0;
}

/* Checks (and with a repair, fixes) one directory; reports what is wrong as juicefs fsck does. */
static int check_one(struct dir_walk *w, const struct dir_todo *d)
{
	struct sl_meta_dir_check c;
	struct sl_err err = {0};
	int rc = sl_meta_check_dir(w->vol->core.meta, d->parent, d->ino, w->repair, &c, &err);
	if (rc == -ENOENT) /* removed meanwhile */
		return 0;
	if (rc)
		return cli_fail(w->cmd, "checking %s: %s", d->path, err.msg);
	w->dirs++;
	bool broken = false, stats_broken = false;
	if (c.node_missing) {
		printf("attribute of %s (inode %" PRIu64 ") is missing\n", d->path, d->ino);
		broken = true;
	} else if (c.nlink != c.want_nlink) {
		printf("nlink of %s should be %" PRIu32 ", but got %" PRIu32 "\n", d->path,
		       c.want_nlink, c.nlink);
		broken = true;
	}
	if (w->stats && c.stats_missing) {
		printf("usage stat of %s is missing or broken\n", d->path);
		stats_broken = true;
	} else if (w->stats && w->sync && (c.length != c.want_length || c.space != c.want_space ||
					   c.inodes != c.want_inodes)) {
		printf("usage stat of %s should be (length %" PRId64 ", space %" PRId64 ", inodes "
		       "%" PRId64 "), but got (%" PRId64 ", %" PRId64 ", %" PRId64 ")\n", d->path,
		       c.want_length, c.want_space, c.want_inodes, c.length, c.space, c.inodes);
		stats_broken = true;
	}
	if (w->repair && c.repaired) {
		printf("repaired %s\n", d->path);
		w->repaired++;
	} else if (broken || stats_broken) {
		w->broken++;
	}
	return 0;
}

/* One step of --path: the entry's inode and type, found by listing the directory where the
 * entry's node row is missing (which a lookup reports as no entry). */
struct find_entry {
	const char *name;
	sl_ino ino;
	uint8_t type;
};

static int find_in_listing(void *arg, const struct sl_dirent_info *e)
{
	struct find_entry *f = arg;
	if (e->name_len != strlen(f->name) || memcmp(e->name, f->name, e->name_len))
		return 0;
	f->ino = e->ino;
	f->type = e->attr.type;
	return 1;
}

static int resolve_entry(struct sl_meta *m, sl_ino parent, const char *name, sl_ino *ino,
			 uint8_t *type)
{
	struct sl_err err = {0};
	struct sl_attr a;
	int rc = sl_meta_lookup(m, &fsck_root, parent, name, ino, &a, &err);
	if (!rc) {
		*type = a.type;
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	struct find_entry f = {.name = name};
	rc = sl_meta_readdir(m, &fsck_root, parent, NULL, 0, find_in_listing, &f, &err);
	if (rc < 0)
		return rc;
	if (!f.ino)
		return -ENOENT;
	*ino = f.ino;
	*type = f.type;
	return 0;
}

static int fsck_path(const char *cmd, sluice_volume *vol, const char *path, struct dir_walk *w)
{
	struct sl_meta *m = vol->core.meta;
	if (!sl_meta_supports(m, SL_META_OP_CHECK_DIR))
		return cli_fail(cmd, "%s cannot be checked from here: run sluice fsck with the "
				"volume's META-URL", m->url_redacted);
	if (path[0] != '/')
		return cli_fail(cmd, "--path %s: give the absolute path within the volume", path);
	sl_ino parent = SL_ROOT_INO, ino = SL_ROOT_INO;
	uint8_t type = SL_TYPE_DIR;
	char *copy = strdup(path), *save = NULL;
	if (!copy)
		return cli_fail(cmd, "out of memory");
	int rc = 0;
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (type != SL_TYPE_DIR) {
			rc = -ENOTDIR;
			break;
		}
		parent = ino;
		if ((rc = resolve_entry(m, parent, name, &ino, &type)))
			break;
	}
	free(copy);
	if (rc)
		return cli_fail(cmd, "--path %s: %s", path, strerror(-rc));
	if (type == SL_TYPE_FILE)
		return slice_add(&w->files, ino, 0, ino) ? cli_fail(cmd, "out of memory") : 0;
	if (type != SL_TYPE_DIR)
		return 0;
	cli_progress_init(&w->prog);
	if (todo_push(w, parent, ino, path, ""))
		return cli_fail(cmd, "out of memory");
	while (w->ntodo) {
		struct dir_todo d = w->todo[--w->ntodo];
		rc = check_one(w, &d);
		if (!rc && w->recursive) {
			struct sl_err err = {0};
			w->at = d.path;
			rc = sl_meta_readdir(m, &fsck_root, d.ino, NULL, 0, walk_entry, w, &err);
			if (rc == -ENOMEM)
				rc = cli_fail(cmd, "out of memory");
			else if (rc && rc != -ENOENT)
				rc = cli_fail(cmd, "listing %s: %s", d.path, err.msg);
			else
				rc = 0;
		}
		free(d.path);
		cli_progress_show(&w->prog, "directories checked", w->dirs, false);
		if (rc)
			return rc;
	}
	cli_progress_show(&w->prog, "directories checked", w->dirs, true);
	printf("%" PRIu64 " directories checked: %" PRIu64 " broken, %" PRIu64 " repaired\n",
	       w->dirs, w->broken, w->repaired);
	return 0;
}

#define FSCK_USAGE "usage: sluice fsck META-URL [--path PATH [--recursive] [--repair] " \
	"[--sync-dir-stat] [--repair-dir-mode MODE]]"

int cmd_fsck(int argc, char **argv)
{
	const char *cmd = "fsck";
	static struct option opts[] = {
		{"path", required_argument, 0, 'p'},
		{"recursive", no_argument, 0, 'r'},
		{"repair", no_argument, 0, 'R'},
		{"sync-dir-stat", no_argument, 0, 's'},
		{"repair-dir-mode", required_argument, 0, 'm'},
		{0, 0, 0, 0},
	};
	const char *path = NULL;
	bool recursive = false, repair = false, sync = false;
	unsigned long mode = 0755;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "r", opts, NULL)) != -1;) {
		char *end;
		if (c == 'p') {
			path = optarg;
		} else if (c == 'r') {
			recursive = true;
		} else if (c == 'R') {
			repair = true;
		} else if (c == 's') {
			sync = true;
		} else if (c == 'm') {
			mode = strtoul(optarg, &end, 8);
			if (*end || end == optarg || mode > 07777)
				return cli_fail(cmd, "--repair-dir-mode takes an octal mode, e.g. 0755");
		} else {
			return cli_fail(cmd, FSCK_USAGE);
		}
	}
	if (optind != argc - 1)
		return cli_fail(cmd, FSCK_USAGE);
	if (!path && (recursive || repair || sync))
		return cli_fail(cmd, "--recursive, --repair and --sync-dir-stat need --path");
	sluice_volume *vol;
	if (cli_open_volume(cmd, argv[optind], NULL, 0, &vol))
		return 1;
	struct sl_meta_dir_repair how = {.mode = (uint16_t)mode, .stats = vol->core.format.dir_stats,
					 .sync_stats = sync};
	struct dir_walk w = {.cmd = cmd, .vol = vol, .repair = repair ? &how : NULL,
			     .recursive = recursive, .stats = vol->core.format.dir_stats, .sync = sync};
	int rc = path ? fsck_path(cmd, vol, path, &w) : 0;
	if (!rc) {
		rc = cmd_fsck_run(cmd, vol, path ? &w.files : NULL);
		if (!rc && w.broken)
			rc = 1;
	}
	for (size_t i = 0; i < w.ntodo; i++)
		free(w.todo[i].path);
	free(w.todo);
	free(w.files.e);
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
	uint64_t id;
	uint32_t len;
	struct slice_seen *s;
	cli_progress_show(&g->sc->prog, "objects listed", ++g->objects, false);
	enum block_kind kind = block_of(g->sc, &g->vol->core.layout, o->key, &id, &len, &s);
	if (kind == NOT_A_BLOCK) {
		g->other++;
		return 0;
	}
	if (kind == BLOCK_IN_USE) {
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
	cli_progress_show(&sc.prog, "objects listed", g.objects, true);
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
