/*
 * chunk.h - the JuiceFS data model: files are split into 64 MiB chunks; each write becomes a
 * slice inside one chunk; a slice's data is stored as blocks of the volume's block size (the last
 * one shorter) under "chunks/<id/1e6>/<id/1e3>/<id>_<index>_<size>" (or, with HashPrefix,
 * "chunks/<%02X id%256>/<id/1e6>/<id>_<index>_<size>"), compressed as raw LZ4 blocks when the
 * volume says "lz4", then sealed when the volume is encrypted (cipher.h). Keys are relative to the
 * volume prefix "<name>/".
 */
#ifndef SL_CHUNK_H
#define SL_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cipher.h"
#include "slice.h"
#include "../util/err.h"

enum sl_compression { SL_COMPRESS_NONE = 0, SL_COMPRESS_LZ4 = 1 };

struct sl_chunk_layout {
	uint32_t block_size;      /* bytes */
	bool hash_prefix;
	enum sl_compression compression;
	const struct sl_cipher *cipher; /* NULL: not encrypted; owned by the volume */
	char prefix[300];         /* "<volume name>/" */
};

#define SL_KEY_MAX 400

/* Key of block `indx` of slice id whose total size is slice_size. */
void sl_block_key(const struct sl_chunk_layout *l, uint64_t id, uint32_t indx, uint32_t slice_size,
		  char key[SL_KEY_MAX]);
/* The slice id, block index and length a block key's last component "<id>_<index>_<size>"
 * names, whatever the rest; false if it names none. */
bool sl_block_key_name(const char *key, uint64_t *id, uint32_t *indx, uint32_t *len);
/* Whether key is exactly the key of block *indx (*len bytes) of slice *id of this volume, as
 * sl_block_key writes it: the volume's prefix, the directory levels and no other spelling. */
bool sl_block_key_parse(const struct sl_chunk_layout *l, const char *key, uint64_t *id,
			uint32_t *indx, uint32_t *len);
/* Size of block indx of a slice of slice_size bytes. */
uint32_t sl_block_len(const struct sl_chunk_layout *l, uint32_t slice_size, uint32_t indx);
/* Number of blocks of a slice. */
uint32_t sl_block_count(const struct sl_chunk_layout *l, uint32_t slice_size);

/* Parses "none"/"" or "lz4"; -ENOTSUP with a clear message for others (zstd...). */
int sl_compression_parse(const char *name, enum sl_compression *out, struct sl_err *err);

/* ---- a block as stored: compressed, then sealed ---------------------------------------------- */
/* Whether a stored block holds exactly the block's bytes (neither compressed nor encrypted), so
 * that a range of it can be read without the rest. */
bool sl_block_stored_plain(const struct sl_chunk_layout *l);
/* Largest stored form of a block of n bytes. */
size_t sl_block_stored_bound(const struct sl_chunk_layout *l, size_t n);
/* Encodes n bytes into dst (capacity sl_block_stored_bound); returns the stored size. */
int64_t sl_block_encode(const struct sl_chunk_layout *l, const void *src, size_t n, void *dst,
			size_t cap, struct sl_err *err);
/* Decodes a whole stored block into dst, which must receive exactly expect bytes; -EIO naming
 * the key if the object is corrupt, has the wrong size or does not decrypt. */
int sl_block_decode(const struct sl_chunk_layout *l, const void *src, size_t n, void *dst,
		    size_t expect, const char *key, struct sl_err *err);

/* The visible view of a chunk: slices applied in order, later ones covering earlier ones.
 * Produces non-overlapping segments sorted by pos; parts of [0, chunk) not covered are holes
 * (segments with id 0 are holes too). Caller frees *out. */
int sl_chunk_build_view(const struct sl_slice *slices, size_t n, struct sl_slice **out,
			size_t *nout);

#endif
