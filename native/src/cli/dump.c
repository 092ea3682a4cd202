/*
 * dump.c - `sluice dump META-URL FILE [--keep-secret-key]`: the volume's metadata as the JSON
 * document `juicefs dump` writes and `juicefs load` reads (its "Setting", "Counters",
 * "Sustained", "DelFiles", "Quotas", "FSTree" and "Trash"): every inode with its attributes,
 * entries, slices, xattrs, symlink target and POSIX ACLs, names and values in juicefs's escaping
 * (bytes that are not printable UTF-8, '%', '"' and '\' as %XX). Secrets of the format record
 * become "removed" unless --keep-secret-key. The names Sluice's user registry gave ids
 * (jfs_setting's sluice.uid.<id> and sluice.gid.<id> rows, docs/configuration.md) that the
 * dumped inodes and ACLs use ride in the Setting as "SluiceRegistry" (juicefs ignores it; its
 * load keeps the ids). The tree is written as it is read, directory by
 * directory, so a volume that changes meanwhile is dumped as each directory was when listed;
 * dump a quiet volume for a consistent copy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "meta/acl.h"

/* Ids of the registry's range (idmap.c: from 2^30) that the dump uses: uid or gid. */
struct reg_id {
	uint32_t id;
	bool group;
};

struct dump {
	sluice_volume *vol;
	struct sl_meta *m;
	FILE *out;
	uint64_t inodes;
	uint64_t entries; /* of the trees, for the progress line */
	struct cli_progress prog;
	struct reg_id *ids;
	size_t nids, capids;
	struct sl_err err;
};

#define REGISTRY_BASE (1u << 30)

static void note_id(struct dump *d, uint32_t id, bool group)
{
	if (id < REGISTRY_BASE)
		return;
	for (size_t i = d->nids; i > 0 && i + 8 > d->nids; i--) /* the recent ones repeat */
		if (d->ids[i - 1].id == id && d->ids[i - 1].group == group)
			return;
	if (d->nids == d->capids) {
		size_t nc = d->capids ? 2 * d->capids : 64;
		struct reg_id *ni = realloc(d->ids, nc * sizeof(*ni));
		if (!ni)
			return; /* the name stays a number where the dump is loaded */
		d->ids = ni;
		d->capids = nc;
	}
	d->ids[d->nids++] = (struct reg_id){id, group};
}

static int reg_cmp(const void *a, const void *b)
{
	const struct reg_id *x = a, *y = b;
	return x->group != y->group ? x->group - y->group : (x->id > y->id) - (x->id < y->id);
}

/* juicefs's escape(): a byte <= 32, '%', '"', '\' or one of an invalid UTF-8 sequence as %XX. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3
			   : (p[i] >> 3) == 30 ? 4 : 0;
		bool valid = len && i + len <= n;
		for (size_t k = 1; valid && k < len; k++)
			valid = (p[i + k] & 0xC0) == 0x80;
		if (!valid || (len == 1 && (p[i] <= 32 || p[i] == '%' || p[i] == '"' ||
					    p[i] == '\\' || p[i] == 127))) {
			if (len == 1 && p[i] == 127) {
				fputs("\\u007f", f); /* DEL is printable for juicefs, not for JSON */
			} else {
				fputc('%', f);
				fputc(hex[p[i] >> 4], f);
				fputc(hex[p[i] & 15], f);
			}
			i++;
			continue;
		}
		fwrite(p + i, 1, len, f);
		i += len;
	}
}

static const char *type_name(uint8_t t)
{
	static const char *const names[] = {"unknown", "regular", "directory", "symlink", "fifo",
					    "blockdev", "chardev", "socket"};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static void put_attr(FILE *f, sl_ino ino, const struct sl_attr *a)
{
	fprintf(f, "{\"inode\":%" PRIu64, ino);
	if (a->flags)
		fprintf(f, ",\"flags\":%u", a->flags);
	fprintf(f, ",\"type\":\"%s\",\"mode\":%u,\"uid\":%" PRIu32 ",\"gid\":%" PRIu32,
		type_name(a->type), a->mode, a->uid, a->gid);
	const int64_t *times[] = {&a->atime_ns, &a->mtime_ns, &a->ctime_ns};
	static const char *const names[] = {"atime", "mtime", "ctime"};
	for (int i = 0; i < 3; i++)
		fprintf(f, ",\"%s\":%" PRId64, names[i], *times[i] / 1000000000);
	for (int i = 0; i < 3; i++)
		if (*times[i] % 1000000000)
			fprintf(f, ",\"%snsec\":%" PRId64, names[i], *times[i] % 1000000000);
	fprintf(f, ",\"nlink\":%" PRIu32 ",\"length\":%" PRIu64, a->nlink,
		a->type == SL_TYPE_FILE ? a->length : 0);
	if (a->rdev)
		fprintf(f, ",\"rdev\":%" PRIu32, a->rdev);
	fputc('}', f);
}

static void put_acl(FILE *f, const char *key, const struct sl_acl *r)
{
	fprintf(f, ",\n\"%s\":{\"owner\":%u,\"group\":%u,\"other\":%u,\"mask\":%u,\"users\":[", key,
		r->owner, r->group, r->other, r->mask);
	for (uint32_t i = 0; i < r->nusers; i++)
		fprintf(f, "%s{\"id\":%" PRIu32 ",\"perm\":%u}", i ? "," : "", r->users[i].id,
			r->users[i].perm);
	fputs("],\"groups\":[", f);
	for (uint32_t i = 0; i < r->ngroups; i++)
		fprintf(f, "%s{\"id\":%" PRIu32 ",\"perm\":%u}", i ? "," : "", r->groups[i].id,
			r->groups[i].perm);
	fputs("]}", f);
}

static int put_xattrs(struct dump *d, sl_ino ino)
{
	char *names = NULL;
	size_t len = 0;
	int rc = sl_meta_listxattr(d->m, NULL, ino, &names, &len, &d->err);
	bool first = true;
	for (size_t i = 0; !rc && i < len; i += strlen(names + i) + 1) {
		void *v = NULL;
		size_t vlen = 0;
		if ((rc = sl_meta_getxattr(d->m, NULL, ino, names + i, &v, &vlen, &d->err)) == -ENODATA) {
			sl_err_clear(&d->err);
			rc = 0; /* removed meanwhile */
			continue;
		}
		if (rc)
			break;
		fputs(first ? ",\n\"xattrs\":[" : ",", d->out);
		first = false;
		fputs("{\"name\":\"", d->out);
		put_escaped(d->out, names + i, strlen(names + i));
		fputs("\",\"value\":\"", d->out);
		put_escaped(d->out, v, vlen);
		fputs("\"}", d->out);
		free(v);
	}
	if (!first)
		fputc(']', d->out);
	free(names);
	return rc;
}

static int put_chunks(struct dump *d, sl_ino ino)
{
	bool first = true;
	int rc = 0;
	for (uint32_t indx = 0;;) {
		uint32_t next;
		if ((rc = sl_meta_next_chunk(d->m, NULL, ino, indx, &next, &d->err)) == -ENOENT) {
			sl_err_clear(&d->err);
			rc = 0;
			break; /* no more chunk rows */
		}
		if (rc)
			return rc;
		struct sl_slice *ss = NULL;
		size_t n = 0;
		if ((rc = sl_meta_read_chunk(d->m, NULL, ino, next, &ss, &n, &d->err)))
			return rc;
		if (n) {
			fprintf(d->out, "%s{\"index\":%" PRIu32 ",\"slices\":[",
				first ? ",\n\"chunks\":[" : ",", next);
			first = false;
			for (size_t i = 0; i < n; i++) {
				fprintf(d->out, "%s{\"id\":%" PRIu64, i ? "," : "", ss[i].id);
				if (ss[i].pos)
					fprintf(d->out, ",\"pos\":%" PRIu32, ss[i].pos);
				fprintf(d->out, ",\"size\":%" PRIu32, ss[i].size);
				if (ss[i].off)
					fprintf(d->out, ",\"off\":%" PRIu32, ss[i].off);
				fprintf(d->out, ",\"len\":%" PRIu32 "}", ss[i].len);
			}
			fputs("]}", d->out);
		}
		free(ss);
		if (next == UINT32_MAX)
			break;
		indx = next + 1;
	}
	if (!first)
		fputc(']', d->out);
	return 0;
}

struct page {
	struct sl_dirent_info *e;
	size_t n, cap;
};

static int collect(void *arg, const struct sl_dirent_info *ent)
{
	struct page *p = arg;
	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 256;
		struct sl_dirent_info *ne = realloc(p->e, nc * sizeof(*ne));
		if (!ne)
			return 1;
		p->e = ne;
		p->cap = nc;
	}
	char *name = malloc(ent->name_len + 1);
	if (!name)
		return 1;
	memcpy(name, ent->name, ent->name_len);
	name[ent->name_len] = 0;
	p->e[p->n] = *ent;
	p->e[p->n++].name = name;
	return 0;
}

static void page_clear(struct page *p)
{
	for (size_t i = 0; i < p->n; i++)
		free((char *)p->e[i].name);
	p->n = 0;
}

/* One entry: "key": {attr, symlink, xattrs, ACLs, chunks, entries}. */
static int put_entry(struct dump *d, const char *key, size_t klen, sl_ino ino,
		     const struct sl_attr *a, int depth)
{
	if (depth > 2000)
		return sl_errf(&d->err, -ELOOP, "directory tree too deep at inode %" PRIu64, ino);
	fputs("\n\"", d->out);
	put_escaped(d->out, key, klen);
	fputs("\":{\"attr\":", d->out);
	put_attr(d->out, ino, a);
	note_id(d, a->uid, false);
	note_id(d, a->gid, true);
	d->inodes++;
	cli_progress_show(&d->prog, "entries dumped", ++d->entries, false);
	int rc = 0;
	if (a->type == SL_TYPE_SYMLINK) {
		char *target = NULL;
		if (!(rc = sl_meta_readlink(d->m, NULL, ino, &target, &d->err))) {
			fputs(",\n\"symlink\":\"", d->out);
			put_escaped(d->out, target, strlen(target));
			fputc('"', d->out);
			free(target);
		}
	}
	if (!rc)
		rc = put_xattrs(d, ino);
	if (!rc && (a->access_acl || a->default_acl)) {
		struct sl_attr at;
		struct sl_acl_state st;
		if (!(rc = sl_meta_getfacl(d->m, NULL, ino, &at, &st, &d->err))) {
			const struct sl_acl *rules[2] = {st.has_access ? &st.access : NULL,
							 st.has_default ? &st.def : NULL};
			for (int k = 0; k < 2; k++) {
				if (!rules[k])
					continue;
				put_acl(d->out, k ? "posix_acl_default" : "posix_acl_access", rules[k]);
				for (uint32_t i = 0; i < rules[k]->nusers; i++)
					note_id(d, rules[k]->users[i].id, false);
				for (uint32_t i = 0; i < rules[k]->ngroups; i++)
					note_id(d, rules[k]->groups[i].id, true);
			}
		}
	}
	if (!rc && a->type == SL_TYPE_FILE)
		rc = put_chunks(d, ino);
	if (!rc && a->type == SL_TYPE_DIR) {
		fputs(",\n\"entries\":{", d->out);
		struct page p = {0};
		char *after = NULL;
		bool first = true;
		for (;;) {
			page_clear(&p);
			if ((rc = sl_meta_readdir(d->m, NULL, ino, after, 1000, collect, &p, &d->err)))
				break;
			for (size_t i = 0; !rc && i < p.n; i++) {
				if (!first)
					fputc(',', d->out);
				first = false;
				rc = put_entry(d, p.e[i].name, p.e[i].name_len, p.e[i].ino, &p.e[i].attr,
					       depth + 1);
			}
			if (rc || p.n < 1000)
				break;
			free(after);
			if (!(after = strdup(p.e[p.n - 1].name))) {
				rc = sl_errf(&d->err, -ENOMEM, "out of memory");
				break;
			}
		}
		page_clear(&p);
		free(p.e);
		free(after);
		fputc('}', d->out);
	}
	fputc('}', d->out);
	return rc;
}

/* The format record, its secrets removed unless keep (as juicefs dump), with the registry's
 * names of the ids the dump uses; to out. */
static int put_setting(struct dump *d, bool keep, FILE *out)
{
	char *text = NULL;
	int rc = sl_meta_load_format(d->m, &text, &d->err);
	if (rc)
		return rc;
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return sl_errf(&d->err, -EIO, "the format record is not JSON: %s", je.text);
	}
	static const char *const secrets[] = {"SecretKey", "SessionToken", "EncryptKey"};
	for (size_t i = 0; !keep && i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		const char *v = json_string_value(json_object_get(o, secrets[i]));
		if (v && *v)
			json_object_set_new(o, secrets[i], json_string("removed"));
	}
	if (!keep) /* what is left is no longer encrypted */
		json_object_del(o, "KeyEncrypted");
	json_t *reg = json_object();
	if (d->nids)
		qsort(d->ids, d->nids, sizeof(*d->ids), reg_cmp);
	for (size_t i = 0; reg && i < d->nids; i++) {
		if (i && !reg_cmp(&d->ids[i], &d->ids[i - 1]))
			continue;
		char key[64], *name = NULL;
		snprintf(key, sizeof(key), "sluice.%s.%" PRIu32, d->ids[i].group ? "gid" : "uid",
			 d->ids[i].id);
		struct sl_err e = {0};
		if (!sl_meta_get_setting(d->m, key, &name, &e) && name)
			json_object_set_new(reg, key, json_string(name));
		free(name);
	}
	if (reg && json_object_size(reg))
		json_object_set(o, "SluiceRegistry", reg);
	json_decref(reg);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return sl_errf(&d->err, -ENOMEM, "out of memory");
	fprintf(out, "{\n\"Setting\": %s", s);
	free(s);
	return 0;
}

static int put_counters(struct dump *d)
{
	static const char *const names[][2] = {
		{"usedSpace", "usedSpace"}, {"totalInodes", "usedInodes"},
		{"nextInode", "nextInodes"}, {"nextChunk", "nextChunk"},
		{"nextSession", "nextSession"}, {"nextTrash", "nextTrash"},
	};
	fputs(",\n\"Counters\": {", d->out); /* after the Setting */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int64_t v = 0;
		int rc = sl_meta_incr_counter(d->m, names[i][0], 0, &v, &d->err);
		if (rc)
			return rc;
		fprintf(d->out, "%s\"%s\":%" PRId64, i ? "," : "", names[i][1], v);
	}
	fputs("},\n\"Sustained\": []", d->out);
	return 0;
}

static int put_delfile(void *arg, sl_ino ino, uint64_t length)
{
	struct dump *d = arg;
	fprintf(d->out, "%s{\"inode\":%" PRIu64 ",\"length\":%" PRIu64 ",\"expire\":0}",
		d->inodes++ ? "," : "", ino, length);
	return 0;
}

static int put_quota(void *arg, const struct sl_meta_quota *q)
{
	struct dump *d = arg;
	fprintf(d->out, "%s\"%" PRIu64 "\":{\"maxSpace\":%" PRId64 ",\"maxInodes\":%" PRId64 "}",
		d->inodes++ ? "," : "", q->ino, q->max_space, q->max_inodes);
	return 0;
}

/* Everything after the Setting into d->out (a temporary file: the Setting names the ids the
 * tree uses). */
static int dump_volume(struct dump *d)
{
	int rc = put_counters(d);
	if (!rc) {
		fputs(",\n\"DelFiles\": [", d->out);
		d->inodes = 0;
		rc = sl_meta_list_delfiles(d->m, INT64_MAX / 2, put_delfile, d, &d->err);
		fputc(']', d->out);
	}
	if (!rc && sl_meta_supports(d->m, SL_META_OP_QUOTA_LIST)) {
		fputs(",\n\"Quotas\": {", d->out);
		d->inodes = 0;
		rc = sl_meta_quota_list(d->m, 0, put_quota, d, &d->err);
		fputc('}', d->out);
	}
	d->inodes = 0;
	static const struct {
		const char *key;
		sl_ino ino;
	} trees[] = {{"FSTree", SL_ROOT_INO}, {"Trash", SL_TRASH_INO}};
	for (size_t i = 0; !rc && i < 2; i++) {
		struct sl_attr a;
		if ((rc = sl_meta_getattr(d->m, NULL, trees[i].ino, &a, &d->err)) == -ENOENT &&
		    trees[i].ino == SL_TRASH_INO) {
			sl_err_clear(&d->err);
			rc = 0;
			continue;
		}
		fputc(',', d->out);
		if (!rc)
			rc = put_entry(d, trees[i].key, strlen(trees[i].key), trees[i].ino, &a, 0);
	}
	fputs("\n}\n", d->out);
	return rc;
}

int cmd_dump(int argc, char **argv)
{
	const char *cmd = "dump";
	bool keep = false;
	char *args[2];
	int nargs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keep-secret-key"))
			keep = true;
		else if (nargs < 2 && argv[i][0] != '-')
			args[nargs++] = argv[i];
		else
			nargs = 3;
	}
	if (nargs != 2)
		return cli_fail(cmd, "usage: sluice dump META-URL FILE [--keep-secret-key]");
	sluice_volume *vol;
	if (cli_open_volume(cmd, args[0], NULL, 0, &vol))
		return 1;
	struct dump d = {.vol = vol, .m = vol->core.meta};
	if (!sl_meta_supports(d.m, SL_META_OP_SCAN_CHUNKS)) { /* a gateway's client */
		sluice_shutdown(vol);
		return cli_fail(cmd, "a dump reads every row: run sluice dump with the volume's "
				"META-URL, not a gateway's");
	}
	int rc = 0;
	FILE *out = fopen(args[1], "w");
	if (!out || !(d.out = tmpfile())) {
		rc = cli_fail(cmd, "cannot create %s: %s", out ? "a temporary file" : args[1],
			      strerror(errno));
	} else {
		cli_progress_init(&d.prog);
		int drc = dump_volume(&d);
		cli_progress_show(&d.prog, "entries dumped", d.entries, true);
		if (!drc)
			drc = put_setting(&d, keep, out);
		char buf[65536];
		rewind(d.out);
		for (size_t n; !drc && (n = fread(buf, 1, sizeof(buf), d.out)) > 0;)
			fwrite(buf, 1, n, out);
		if (!drc && ferror(d.out))
			drc = sl_errf(&d.err, -EIO, "reading the temporary file back");
		if (drc)
			rc = cli_fail(cmd, "%s", d.err.msg);
		else if (ferror(out))
			rc = cli_fail(cmd, "writing %s: %s", args[1], strerror(errno));
		else
			fprintf(stderr, "sluice dump: %" PRIu64 " entries written to %s\n", d.inodes,
				args[1]);
	}
	if (d.out)
		fclose(d.out);
	if (out && fclose(out) && !rc)
		rc = cli_fail(cmd, "writing %s: %s", args[1], strerror(errno));
	free(d.ids);
	if (sluice_shutdown(vol) && !rc)
		rc = cli_fail(cmd, "closing the volume failed");
	return rc;
}
