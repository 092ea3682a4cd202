/*
 * fuzz_requests.h - valid gateway requests (rpc/proto.h) for fuzz_dispatch: the ones that build
 * its fixture on a fresh volume and one seed per operation (and numbers past the last one).
 * Seeds name the fixture's inodes by number: a fresh volume hands out 2, 3, ... in creation order.
 */
#ifndef SL_FUZZ_REQUESTS_H
#define SL_FUZZ_REQUESTS_H

#include <stdbool.h>

#include "meta/codec.h"

#define FZ_INO_ROOT 1
#define FZ_INO_DIR 2  /* /d, mode 0777 */
#define FZ_INO_FILE 3 /* /d/f, one slice in chunk 0, xattr user.k */
#define FZ_INO_LINK 4 /* /d/l -> f */
#define FZ_INO_SRC 5  /* /d/src, one slice: a concat source */
#define FZ_INO_SUB 6  /* /d/sub, an empty directory */
#define FZ_INO_MV 7   /* /d/mv, a file to rename */
#define FZ_SLICE_ID 1000000 /* the fixture's slices are FZ_SLICE_ID + 0, 1 */
/* The requests that commit slices (FZ_SLICE_ID + 0..3, FZ_BLOCK_LEN bytes each) show a grant of
 * [FZ_SLICE_ID, FZ_SLICE_ID + 16) to FZ_CALLER under fuzz_dispatch's grant key (FZ_GRANT_KEY_BYTE
 * in every byte), and fuzz_dispatch stores those slices' blocks, so that commits get past the
 * gateway's checks to the database. */
#define FZ_GRANT_KEY_BYTE 0x5a
#define FZ_BLOCK_LEN 4096

/* Users: the caller is "fuzz"; it may act for "alice" and for the superuser "hdfs", not "bob". */
#define FZ_CALLER "fuzz"
#define FZ_GROUPS "fuzz=fuzz,staff;alice=alice;bob=bob;hdfs=hdfs,supergroup"
#define FZ_SUPERUSER "hdfs"

/* Called once per request: name (a file name for seeds) and the encoded request. */
typedef void (*fz_emit)(void *arg, const char *name, const struct sl_wbuf *req);

/* The fixture, in order; data: also the slices and the xattr (once, on the fresh volume). Without
 * data, re-running it on a volume that has it changes nothing but modes: it gives / and /d back
 * mode 0777 as the superuser after an input took them away, and recreates missing entries. */
void fz_fixture_requests(fz_emit emit, void *arg, bool data);
/* One valid request of each op 1..SL_OP_MAX-1 (with the fixture's inodes), proxy and identity
 * variants, and ops 0 and SL_OP_MAX..SL_OP_MAX+3. */
void fz_seed_requests(fz_emit emit, void *arg);

#endif
