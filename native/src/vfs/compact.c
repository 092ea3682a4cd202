/*
 * compact.c - merging the many small slices of a chunk into one, as JuiceFS does. An
 * hflush-heavy writer (a WAL) adds one slice per flush; without compaction reads would walk
 * thousands of records and the chunk row would outgrow MySQL's 64 KiB BLOB (2730 records).
 *
 * The records from the first small one to the end are replaced by one new slice holding the
 * visible data of their range (holes as zeros). That is correct whatever they overlap: the new
 * slice takes their place at the end of the list, so it wins exactly where they won, and outside
 * their range nothing changes. Leading large slices stay, so a growing file is not rewritten
 * again and again. Metadata changes only if the chunk still begins with the records we read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

#define BIG_SLICE (1u << 20)

/* Writes the visible bytes [start, start+len) of chunk indx as slice id. */
static int write_merged(struct sl_volume_core *v, const struct sl_meta_user *u, sl_ino ino, uint32_t indx, uint32_t start,
			uint32_t len, uint64_t id, struct sl_err *err)
{
	struct sl_attr attr;
	int rc = sl_meta_getattr(v->meta, u, ino, &attr, err);
	if (rc)
		return rc;
	struct sl_reader *r = NULL;
	uint32_t bs = v->layout.block_size;
	uint8_t *buf = malloc(bs);
	if (!buf || sl_reader_new(v, u, ino, attr.length, &r)) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	uint64_t base = (uint64_t)indx * SL_CHUNK_SIZE + start;
	for (uint32_t b = 0; !rc && b < sl_block_count(&v->layout, len); b++) {
		uint32_t n = sl_block_len(&v->layout, len, b);
		int64_t got = sl_reader_pread(r, buf, n, base + (uint64_t)b * bs, err);
		if (got < 0) {
			rc = (int)got;
			break;
		}
		memset(buf + got, 0, n - (size_t)got); /* beyond the length: a truncated tail */
		char key[SL_KEY_MAX];
		sl_block_key(&v->layout, id, b, len, key);
		rc = sl_store_block(v, key, buf, n, err);
	}
out:
	sl_reader_free(r);
	free(buf);
	return rc;
}

/* Whether the chunk's list holds slice id: a commit whose reply was lost may have happened. When
 * in doubt (the check fails), it does, and the blocks stay for gc. */
static bool chunk_references(struct sl_volume_core *v, const struct sl_meta_user *u, sl_ino ino, uint32_t indx, uint64_t id)
{
	struct sl_err err = {0};
	struct sl_slice *ss = NULL;
	size_t n = 0;
	if (sl_meta_read_chunk(v->meta, u, ino, indx, &ss, &n, &err))
		return true;
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = ss[i].id == id;
	free(ss);
	return found;
}

int sl_compact_chunk(struct sl_volume_core *v, const struct sl_meta_user *u,
		     const struct sl_meta_lease *lease, sl_ino ino, uint32_t indx,
		     size_t min_records, struct sl_err *err)
{
	struct sl_slice *ss = NULL;
	size_t n = 0;
	int rc = sl_meta_read_chunk(v->meta, u, ino, indx, &ss, &n, err);
	if (rc || n < min_records)
		goto out;
	size_t skip = 0;
	while (skip < n && ss[skip].id && ss[skip].len >= BIG_SLICE)
		skip++;
	if (n - skip < 2)
		goto out;
	uint32_t start = ss[skip].pos, end = ss[skip].pos + ss[skip].len;
	for (size_t i = skip + 1; i < n; i++) {
		if (ss[i].pos < start)
			start = ss[i].pos;
		if (ss[i].pos + ss[i].len > end)
			end = ss[i].pos + ss[i].len;
	}
	uint64_t id;
	if ((rc = sl_meta_next_slice_id(v->meta, &id, err)))
		goto out;
	struct sl_slice merged = {.pos = start, .id = id, .size = end - start, .off = 0,
				  .len = end - start};
	/* Uploaded before it is committed: marked meanwhile, so that a crash here leaves nothing
	 * behind (the client that takes over the staging directory deletes it unless committed).
	 * Without a staging area such a crash leaves the objects for gc, as JuiceFS's does. */
	if (v->stage && (rc = sl_stage_pending_begin(v->stage, id, merged.size, err)))
		goto out;
	rc = write_merged(v, u, ino, indx, start, end - start, id, err);
	if (!rc)
		rc = sl_meta_compact_chunk(v->meta, u, lease, ino, indx, ss, n, skip, &merged,
					   sl_vol_delete_slice, v, err);
	bool settled = !rc; /* committed; or, below, known not to be and deleted */
	if (rc && !chunk_references(v, u, ino, indx, id))
		settled = sl_vol_delete_slice_blocks(v, id, merged.size); /* nothing uses them */
	if (v->stage && settled)
		sl_stage_pending_end(v->stage, id, merged.size);
out:
	free(ss);
	return rc;
}
