/*
 * slice.h - a slice reference, the unit of a chunk's data (the JuiceFS data model: chunk.h), and
 * its stored form. Below both meta/ (which stores slice lists) and the rest of chunk/, so that
 * neither needs the other for it.
 */
#ifndef SL_SLICE_H
#define SL_SLICE_H

#include <stdint.h>

/* Files are split into chunks of this size; a slice lies within one. */
#define SL_CHUNK_SIZE (64ULL << 20)

/* A slice reference inside a chunk, 24 bytes big-endian in jfs_chunk.slices:
 * pos(4) id(8) size(4) off(4) len(4). id 0 is a hole (reads as zeros). */
struct sl_slice {
	uint32_t pos;  /* offset in the chunk */
	uint64_t id;   /* slice id (jfs_chunk_ref.chunkid); object keys derive from it */
	uint32_t size; /* total size of the slice's data in object storage */
	uint32_t off;  /* offset into the slice's data */
	uint32_t len;  /* bytes used */
};
#define SL_SLICE_BYTES 24

/* Encodes/decodes one entry of the jfs_chunk.slices blob (SL_SLICE_BYTES, big-endian). */
void sl_slice_encode(const struct sl_slice *s, uint8_t out[SL_SLICE_BYTES]);
void sl_slice_decode(const uint8_t in[SL_SLICE_BYTES], struct sl_slice *s);

#endif
