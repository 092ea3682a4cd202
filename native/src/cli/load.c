/*
 * load.c - `sluice load META-URL FILE`: a dump in juicefs's JSON format (`juicefs dump`, `sluice
 * dump`) into an empty database: the format record from its Setting (with Sluice's user registry
 * if the dump carries one), then every inode with its number, entries, slices, xattrs, symlink
 * targets, ACLs, quotas and pending deletions; the backend computes what the dump leaves out
 * (meta.h, the load slot). The whole dump is read into memory first. The data stays where the
 * Setting's storage says; secrets a dump had removed must be set again (juicefs config).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "meta/acl.h"

struct loader {
	struct sl_meta_dumped d;
	size_t cap_nodes, cap_edges, cap_chunks, cap_xattrs;
	void **owned; /* what the arrays point to */
	size_t nowned, cap_owned;
	char why[512];
	uint64_t entries; /* read so far, for the progress line */
	struct cli_progress prog;
};

static void *own(struct loader *l, void *p)
{
	if (!p)
		return NULL;
	if (l->nowned == l->cap_owned) {
		size_t nc = l->cap_owned ? 2 * l->cap_owned : 1024;
		void **no = realloc(l->owned, nc * sizeof(*no));
		if (!no) {
			free(p);
			return NULL;
		}
		l->owned = no;
		l->cap_owned = nc;
	}
	return l->owned[l->nowned++] = p;
}

/* Room for one more item of array *a (n items, *cap of room, size bytes each). */
static void *grow(void **a, size_t n, size_t *cap, size_t size)
{
	if (n == *cap) {
		size_t nc = *cap ? 2 * *cap : 256;
		void *na = realloc(*a, nc * size);
		if (!na)
			return NULL;
		*a = na;
		*cap = nc;
	}
	return (char *)*a + n * size;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* juicefs's unescape(): %XX (upper-case hex) back to its byte; *len gets the length. */
static char *unescape(struct loader *l, const char *s, size_t *len)
{
	size_t n = strlen(s), k = 0;
	char *out = own(l, malloc(n + 1));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int h, lo;
		if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[k++] = (char)(h * 16 + lo);
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = 0;
	*len = k;
	return out;
}

static int64_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static uint8_t type_of(const char *s)
{
	static const char *const names[] = {"regular", "directory", "symlink", "fifo", "blockdev",
					    "chardev", "socket"};
	for (uint8_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return i + 1;
	return 0;
}

static struct sl_acl *acl_of(struct loader *l, json_t *o)
{
	if (!json_is_object(o))
		return NULL;
	struct sl_acl *r = own(l, calloc(1, sizeof(*r)));
	if (!r)
		return NULL;
	r->owner = (uint16_t)num(o, "owner");
	r->group = (uint16_t)num(o, "group");
	r->other = (uint16_t)num(o, "other");
	r->mask = (uint16_t)num(o, "mask");
	static const char *const keys[] = {"users", "groups"};
	for (int k = 0; k < 2; k++) {
		json_t *a = json_object_get(o, keys[k]), *e;
		size_t i;
		json_array_foreach(a, i, e) {
			if (i >= SL_ACL_MAX_NAMED)
				break;
			struct sl_acl_entry *x = k ? &r->groups[r->ngroups++] : &r->users[r->nusers++];
			x->id = (uint32_t)num(e, "id");
			x->perm = (uint16_t)num(e, "perm");
		}
	}
	return r;
}

/* Is ino loaded already (a hard link seen before)? The nodes are sorted only at the end. */
struct seen {
	sl_ino *inos;
	size_t n, cap;
};

static bool seen_before(struct seen *s, sl_ino ino)
{
	size_t i = (size_t)(ino * 0x9E3779B97F4A7C15ULL);
	for (size_t k = 0; s->cap && k < s->cap; k++) {
		sl_ino *slot = &s->inos[(i + k) & (s->cap - 1)];
		if (*slot == ino)
			return true;
		if (!*slot) {
			*slot = ino;
			s->n++;
			return false;
		}
	}
	return false; /* full: the caller grows it first */
}

static int seen_grow(struct seen *s)
{
	if (2 * (s->n + 1) <= s->cap)
		return 0;
	struct seen g = {.cap = s->cap ? 2 * s->cap : 4096};
	if (!(g.inos = calloc(g.cap, sizeof(*g.inos))))
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->inos[i])
			seen_before(&g, s->inos[i]);
	free(s->inos);
	*s = g;
	return 0;
}

/* Entry e (name, found in directory parent) and what is below it. */
static int load_entry(struct loader *l, struct seen *seen, json_t *e, const char *name,
		      size_t nlen, sl_ino parent, int depth)
{
	json_t *attr = json_object_get(e, "attr");
	sl_ino ino = (sl_ino)num(attr, "inode");
	uint8_t type = type_of(json_string_value(json_object_get(attr, "type")));
	cli_progress_show(&l->prog, "entries read", ++l->entries, false);
	if (!ino || !type || depth > 2000) {
		snprintf(l->why, sizeof(l->why), "entry '%.*s' of inode %" PRIu64 " has no valid "
			 "attr (inode and type)", (int)nlen, name, parent);
		return -EINVAL;
	}
	if (name) { /* not the root or the trash */
		struct sl_meta_dumped_edge *ed = grow((void **)&l->d.edges, l->d.nedges,
						      &l->cap_edges, sizeof(*ed));
		if (!ed)
			return -ENOMEM;
		*ed = (struct sl_meta_dumped_edge){parent, ino, name, nlen, type};
		l->d.nedges++;
	}
	if (seen_grow(seen))
		return -ENOMEM;
	if (seen_before(seen, ino))
		return 0; /* another link of a file loaded already */
	struct sl_meta_dumped_node *n = grow((void **)&l->d.nodes, l->d.nnodes, &l->cap_nodes,
					     sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->ino = ino;
	struct sl_attr *a = &n->attr;
	a->type = type;
	a->flags = (uint8_t)num(attr, "flags");
	a->mode = (uint16_t)(num(attr, "mode") & 07777);
	a->uid = (uint32_t)num(attr, "uid");
	a->gid = (uint32_t)num(attr, "gid");
	a->atime_ns = num(attr, "atime") * 1000000000 + num(attr, "atimensec");
	a->mtime_ns = num(attr, "mtime") * 1000000000 + num(attr, "mtimensec");
	a->ctime_ns = num(attr, "ctime") * 1000000000 + num(attr, "ctimensec");
	a->nlink = (uint32_t)num(attr, "nlink");
	a->rdev = (uint32_t)num(attr, "rdev");
	a->length = type == SL_TYPE_FILE ? (uint64_t)num(attr, "length")
		    : type == SL_TYPE_DIR ? 4096 : 0;
	a->parent = type == SL_TYPE_FILE && a->nlink > 1 ? 0 : parent ? parent : SL_ROOT_INO;
	const char *target = json_string_value(json_object_get(e, "symlink"));
	size_t tlen = 0;
	if (target && !(n->symlink = unescape(l, target, &tlen)))
		return -ENOMEM;
	if (type == SL_TYPE_SYMLINK)
		a->length = tlen;
	n->access = acl_of(l, json_object_get(e, "posix_acl_access"));
	n->def = acl_of(l, json_object_get(e, "posix_acl_default"));
	l->d.nnodes++;

	json_t *x;
	size_t i;
	json_array_foreach(json_object_get(e, "xattrs"), i, x) {
		struct sl_meta_dumped_xattr *xa = grow((void **)&l->d.xattrs, l->d.nxattrs,
						       &l->cap_xattrs, sizeof(*xa));
		const char *xn = json_string_value(json_object_get(x, "name"));
		const char *xv = json_string_value(json_object_get(x, "value"));
		size_t ln, lv;
		if (!xa || !xn || !xv)
			return -ENOMEM;
		*xa = (struct sl_meta_dumped_xattr){.ino = ino, .name = unescape(l, xn, &ln)};
		if (!xa->name || !(xa->value = unescape(l, xv, &lv)))
			return -ENOMEM;
		xa->len = lv;
		l->d.nxattrs++;
	}
	json_t *c;
	json_array_foreach(json_object_get(e, "chunks"), i, c) {
		json_t *slices = json_object_get(c, "slices"), *s;
		size_t k, ns = json_array_size(slices);
		struct sl_slice *ss = own(l, calloc(ns ? ns : 1, sizeof(*ss)));
		struct sl_meta_dumped_chunk *ch = grow((void **)&l->d.chunks, l->d.nchunks,
						       &l->cap_chunks, sizeof(*ch));
		if (!ss || !ch)
			return -ENOMEM;
		json_array_foreach(slices, k, s)
			ss[k] = (struct sl_slice){.pos = (uint32_t)num(s, "pos"),
						  .id = (uint64_t)num(s, "id"),
						  .size = (uint32_t)num(s, "size"),
						  .off = (uint32_t)num(s, "off"),
						  .len = (uint32_t)num(s, "len")};
		*ch = (struct sl_meta_dumped_chunk){ino, (uint32_t)num(c, "index"), ss, ns};
		l->d.nchunks++;
	}
	const char *key;
	json_t *child;
	json_object_foreach(json_object_get(e, "entries"), key, child) {
		size_t len;
		char *cname = unescape(l, key, &len);
		if (!cname)
			return -ENOMEM;
		int rc = load_entry(l, seen, child, cname, len, ino, depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int node_cmp(const void *a, const void *b)
{
	const struct sl_meta_dumped_node *x = a, *y = b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* The dump's rows into l (all but the Setting). */
static int read_dump(struct loader *l, json_t *root)
{
	json_t *counters = json_object_get(root, "Counters");
	if (!json_is_object(counters)) {
		snprintf(l->why, sizeof(l->why), "not a juicefs dump: no Counters");
		return -EINVAL;
	}
	l->d.next_inode = num(counters, "nextInodes");
	l->d.next_chunk = num(counters, "nextChunk");
	l->d.next_session = num(counters, "nextSession");
	l->d.next_trash = num(counters, "nextTrash");
	struct seen seen = {0};
	int rc = 0;
	static const struct {
		const char *key;
		sl_ino ino;
	} trees[] = {{"FSTree", SL_ROOT_INO}, {"Trash", SL_TRASH_INO}};
	for (int i = 0; !rc && i < 2; i++) {
		json_t *t = json_object_get(root, trees[i].key);
		if (!t && i == 1)
			break;
		if (!t || num(json_object_get(t, "attr"), "inode") != (json_int_t)trees[i].ino) {
			snprintf(l->why, sizeof(l->why), "the dump's %s is not inode %" PRIu64,
				 trees[i].key, trees[i].ino);
			rc = -EINVAL;
			break;
		}
		rc = load_entry(l, &seen, t, NULL, 0, 0, 0);
	}
	free(seen.inos);
	if (rc)
		return rc;
	qsort(l->d.nodes, l->d.nnodes, sizeof(*l->d.nodes), node_cmp);

	json_t *quotas = json_object_get(root, "Quotas"), *q;
	const char *key;
	if (json_object_size(quotas) &&
	    !(l->d.quotas = own(l, calloc(json_object_size(quotas), sizeof(*l->d.quotas)))))
		return -ENOMEM;
	json_object_foreach(quotas, key, q)
		l->d.quotas[l->d.nquotas++] = (struct sl_meta_quota){
			.ino = strtoull(key, NULL, 10), .max_space = num(q, "maxSpace"),
			.max_inodes = num(q, "maxInodes")};
	json_t *dels = json_object_get(root, "DelFiles"), *df;
	size_t i;
	if (json_array_size(dels) &&
	    !(l->d.delfiles = own(l, calloc(json_array_size(dels), sizeof(*l->d.delfiles)))))
		return -ENOMEM;
	json_array_foreach(dels, i, df)
		l->d.delfiles[l->d.ndelfiles++] = (struct sl_meta_dumped_delfile){
			(sl_ino)num(df, "inode"), (uint64_t)num(df, "length"), num(df, "expire")};
	return 0;
}

int cmd_load(int argc, char **argv)
{
	const char *cmd = "load";
	if (argc != 3)
		return cli_fail(cmd, "usage: sluice load META-URL FILE");
	json_error_t je;
	json_t *root = json_load_file(argv[2], 0, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return cli_fail(cmd, "%s: not a JSON dump: %s (line %d)", argv[2], je.text, je.line);
	}
	struct loader l = {0};
	int rc = 0;
	struct sl_meta *meta = NULL;
	struct sl_err err = {0};
	char *format = NULL, *old = NULL;
	json_t *setting = json_deep_copy(json_object_get(root, "Setting"));
	if (!json_is_object(setting) || !json_string_value(json_object_get(setting, "Name"))) {
		rc = cli_fail(cmd, "%s: the dump has no Setting naming a volume", argv[2]);
		goto out;
	}
	/* Sluice's user registry rides in the Setting (dump.c); it goes back to its rows */
	json_t *reg = json_object_get(setting, "SluiceRegistry"), *v;
	const char *key;
	if (json_object_size(reg) &&
	    !(l.d.settings = own(&l, calloc(2 * json_object_size(reg), sizeof(char *))))) {
		rc = cli_fail(cmd, "out of memory");
		goto out;
	}
	json_object_foreach(reg, key, v) {
		if (!json_is_string(v) || strncmp(key, "sluice.", 7))
			continue;
		l.d.settings[2 * l.d.nsettings] = own(&l, strdup(key));
		l.d.settings[2 * l.d.nsettings + 1] = own(&l, strdup(json_string_value(v)));
		if (!l.d.settings[2 * l.d.nsettings] || !l.d.settings[2 * l.d.nsettings + 1]) {
			rc = cli_fail(cmd, "out of memory");
			goto out;
		}
		l.d.nsettings++;
	}
	json_object_del(setting, "SluiceRegistry");
	if (!(format = json_dumps(setting, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = cli_fail(cmd, "out of memory");
		goto out;
	}
	cli_progress_init(&l.prog);
	rc = read_dump(&l, root);
	cli_progress_show(&l.prog, "entries read", l.entries, true);
	if (rc) {
		rc = cli_fail(cmd, "%s: %s", argv[2], rc == -ENOMEM ? "out of memory" : l.why);
		goto out;
	}
	if (sl_meta_open(argv[1], NULL, NULL, &meta, &err)) {
		rc = cli_fail(cmd, "%s", err.msg);
		goto out;
	}
	int frc = sl_meta_load_format(meta, &old, &err);
	if (frc != -ENOENT) {
		rc = cli_fail(cmd, "%s", frc ? err.msg : "the database holds a volume already: load "
			      "into an empty one");
		goto out;
	}
	sl_err_clear(&err);
	if (!sl_meta_supports(meta, SL_META_OP_LOAD)) {
		rc = cli_fail(cmd, "%s cannot be loaded into", meta->url_redacted);
		goto out;
	}
	const struct sl_meta_dumped_node *top = &l.d.nodes[0]; /* the root: the lowest inode */
	if (sl_meta_format(meta, format, &top->attr, false, &err) || sl_meta_load(meta, &l.d, &err)) {
		rc = cli_fail(cmd, "loading into %s: %s", meta->url_redacted, err.msg);
		goto out;
	}
	fprintf(stderr, "sluice load: %zu inodes, %zu entries, %zu chunks loaded into %s\n",
		l.d.nnodes, l.d.nedges, l.d.nchunks, meta->url_redacted);
out:
	sl_meta_close(meta);
	free(old);
	free(format);
	json_decref(setting);
	json_decref(root);
	for (size_t i = 0; i < l.nowned; i++)
		free(l.owned[i]);
	free(l.owned);
	free(l.d.nodes);
	free(l.d.edges);
	free(l.d.chunks);
	free(l.d.xattrs);
	return rc;
}
