/*
 * test_rpc_codec.c - the gateway protocol's layouts (rpc/codec.h, instantiated by meta/codec.h):
 * every op's arguments and results, filled with varied values, decode back to what encodes to the
 * same bytes, and a message one byte short is refused; SL_RPC_OPS names every op once; and some
 * encodings equal byte sequences written out by hand from proto.h and codec.h's documentation, so
 * that a change of a layout, which old gateways and clients would misread, fails here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "meta/codec.h"
#include "testutil.h"

/* ---- values to fill layouts with ------------------------------------------------------------ */

struct gen {
	uint64_t state;
	void *allocs[64]; /* the lists filled in, freed after each round trip */
	size_t nallocs;
};

static uint64_t next(struct gen *g)
{
	g->state = g->state * 6364136223846793005ULL + 1442695040888963407ULL;
	return g->state >> 11;
}

static const char *some_str(struct gen *g)
{
	static const char *const strs[] = {NULL, "", "a", "name.x", "/a/b"};
	return strs[next(g) % (sizeof(strs) / sizeof(strs[0]))];
}

static const uint8_t pool[33] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
				 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};

static void *room(struct gen *g, uint32_t n, size_t size)
{
	REQUIRE(g->nallocs < sizeof(g->allocs) / sizeof(g->allocs[0]));
	void *p = calloc(n ? n : 1, size);
	REQUIRE(p);
	return g->allocs[g->nallocs++] = p;
}

static void fill_grant(struct gen *g, struct sl_slice_grant *gr)
{
	gr->first = next(g);
	gr->count = (uint32_t)next(g);
	gr->issued = (int64_t)next(g);
	for (size_t i = 0; i < sizeof(gr->mac); i++)
		gr->mac[i] = (uint8_t)next(g);
}

#define FILL(kind, ...) FILL_##kind(__VA_ARGS__)
#define FILL_u8(m) s->m = (uint8_t)next(g);
#define FILL_u16(m) s->m = (uint16_t)next(g);
#define FILL_u32(m) s->m = (uint32_t)next(g);
#define FILL_u64(m) s->m = next(g);
#define FILL_i64(m) s->m = (int64_t)next(g);
#define FILL_bool(m) s->m = next(g) & 1;
#define FILL_str(m, max) s->m = some_str(g);
#define FILL_bytes(m, max)                                                                      \
	s->m = pool;                                                                              \
	s->m##_len = next(g) % ((max) < sizeof(pool) ? (max) + 1 : sizeof(pool));
#define FILL_grant(m)                                                                           \
	if ((s->has_##m = next(g) & 1))                                                           \
		fill_grant(g, &s->m);
#define FILL_rec(m, layout) fill_##layout(g, &s->m);
#define FILL_opt(m, layout)                                                                     \
	if ((s->has_##m = next(g) & 1))                                                           \
		fill_##layout(g, &s->m);
#define FILL_tail FILL_opt
#define FILL_list(m, layout, max)                                                               \
	{                                                                                         \
		s->m##_n = next(g) % 4;                                                           \
		SL_RPC_T_##layout *items = room(g, s->m##_n, sizeof(*items));                     \
		for (uint32_t i = 0; i < s->m##_n; i++)                                           \
			fill_##layout(g, &items[i]);                                              \
		s->m = items;                                                                     \
	}
#define FILL_ids(m, max)                                                                        \
	{                                                                                         \
		s->m##_n = next(g) % 4;                                                           \
		uint64_t *items = room(g, s->m##_n, sizeof(*items));                              \
		for (uint32_t i = 0; i < s->m##_n; i++)                                           \
			items[i] = next(g);                                                       \
		s->m = items;                                                                     \
	}

/* What a decoder allocated: its lists. */
#define DROP(kind, ...) DROP_##kind(__VA_ARGS__)
#define DROP_u8(m)
#define DROP_u16(m)
#define DROP_u32(m)
#define DROP_u64(m)
#define DROP_i64(m)
#define DROP_bool(m)
#define DROP_str(m, max)
#define DROP_bytes(m, max)
#define DROP_grant(m)
#define DROP_rec(m, layout)
#define DROP_opt(m, layout)
#define DROP_tail(m, layout)
#define DROP_list(m, layout, max) free((void *)s->m);
#define DROP_ids(m, max) free((void *)s->m);

static bool same_bytes(const struct sl_wbuf *a, const struct sl_wbuf *b)
{
	return !a->oom && !b->oom && a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

/* Per layout: filled with g's values, encoded, decoded (every byte, nothing left), encoded
 * again to the same bytes; the encoding without its last byte is refused. */
#define ROUND_TRIP(name, type)                                                                  \
	static void fill_##name(struct gen *g, type *s) { SL_FIELDS_##name(FILL) }                 \
	static void drop_##name(type *s)                                                          \
	{                                                                                         \
		(void)s;                                                                          \
		SL_FIELDS_##name(DROP)                                                            \
	}                                                                                         \
	static void round_trip_##name(struct gen *g)                                              \
	{                                                                                         \
		type in, out, cut;                                                                \
		memset(&in, 0, sizeof(in));                                                       \
		memset(&out, 0x5a, sizeof(out)); /* a field the decoder forgets shows */         \
		memset(&cut, 0, sizeof(cut));                                                     \
		fill_##name(g, &in);                                                              \
		struct sl_wbuf w = {0}, again = {0};                                              \
		sl_w_##name(&w, &in);                                                             \
		REQUIRE(!w.oom && w.len > 0);                                                     \
		struct sl_rbuf r = sl_rbuf_of(w.p, w.len);                                        \
		int rc = sl_r_##name(&r, &out);                                                   \
		CHECK_RC(rc, 0);                                                                  \
		CHECK(sl_r_done(&r));                                                             \
		if (!rc) {                                                                        \
			sl_w_##name(&again, &out);                                                \
			if (!same_bytes(&w, &again))                                              \
				fprintf(stderr, "layout %s does not round-trip\n", #name);        \
			CHECK(same_bytes(&w, &again));                                            \
			drop_##name(&out);                                                        \
		}                                                                                 \
		r = sl_rbuf_of(w.p, w.len - 1);                                                   \
		CHECK_RC(sl_r_##name(&r, &cut), -EPROTO);                                         \
		drop_##name(&cut);                                                                \
		sl_wbuf_free(&w);                                                                 \
		sl_wbuf_free(&again);                                                             \
		while (g->nallocs)                                                                \
			free(g->allocs[--g->nallocs]);                                            \
	}
#define RECORD_ROUND_TRIP(name) ROUND_TRIP(name, SL_RPC_T_##name)
#define LAYOUT_ROUND_TRIP(name) ROUND_TRIP(name, struct sl_rpc_##name)
SL_RPC_RECORDS(RECORD_ROUND_TRIP)
SL_RPC_LAYOUTS(LAYOUT_ROUND_TRIP)

static void round_trip_none(struct gen *g)
{
	(void)g;
}

static void test_every_op_round_trips(void)
{
#define OP_ROUND_TRIP(op, args, args_each, result, result_each)                                 \
	round_trip_##args(&g);                                                                    \
	round_trip_##args_each(&g);                                                               \
	round_trip_##result(&g);                                                                  \
	round_trip_##result_each(&g);
	struct gen g = {.state = 14};
	for (int i = 0; i < 64; i++) { /* each optional part present and absent */
		SL_RPC_OPS(OP_ROUND_TRIP)
	}
#undef OP_ROUND_TRIP
}

/* Also the records that only nest in others (slices, leases, a grant of ids). */
static void test_every_layout_round_trips(void)
{
#define LAYOUT_ROUND_TRIP_RUN(name) round_trip_##name(&g);
	struct gen g = {.state = 41};
	for (int i = 0; i < 64; i++) {
		SL_RPC_RECORDS(LAYOUT_ROUND_TRIP_RUN)
		SL_RPC_LAYOUTS(LAYOUT_ROUND_TRIP_RUN)
	}
#undef LAYOUT_ROUND_TRIP_RUN
}

static void test_every_op_listed(void)
{
#define OP_NUMBER(op, ...) SL_OP_##op,
	static const int listed[] = {SL_RPC_OPS(OP_NUMBER)};
#undef OP_NUMBER
	size_t n = sizeof(listed) / sizeof(listed[0]);
	CHECK_RC(n, SL_OP_MAX - 1);
	for (size_t i = 0; i < n; i++)
		CHECK_RC(listed[i], i + 1);
}

/* ---- encodings written out by hand ----------------------------------------------------------- */

/* Whether w holds exactly the bytes hex spells (spaces and '|' only separate fields). */
static bool holds(const struct sl_wbuf *w, const char *hex)
{
	uint8_t want[512];
	size_t n = 0;
	for (const char *p = hex; *p;) {
		if (*p == ' ' || *p == '|') {
			p++;
			continue;
		}
		unsigned v;
		REQUIRE(n < sizeof(want) && sscanf(p, "%2x", &v) == 1);
		want[n++] = (uint8_t)v;
		p += 2;
	}
	bool ok = !w->oom && w->len == n && !memcmp(w->p, want, n);
	if (!ok) {
		fprintf(stderr, "encoded (%zu bytes):", w->len);
		for (size_t i = 0; i < w->len; i++)
			fprintf(stderr, " %02x", w->p[i]);
		fprintf(stderr, "\nexpected %s\n", hex);
	}
	return ok;
}

#define MAC_AB "abababababababababababababababababababababababababababababababab"

static const struct sl_slice grant_slice = {.pos = 0x10, .id = 0x1234, .size = 0x1000,
					    .off = 0, .len = 0x800};
#define GRANT_SLICE_HEX "00000010 0000000000001234 00001000 00000000 00000800"

static struct sl_slice_grant grant_ab(void)
{
	struct sl_slice_grant g = {.first = 0x1230, .count = 16, .issued = 0x11};
	memset(g.mac, 0xab, sizeof(g.mac));
	return g;
}

static void test_layouts_by_hand(void)
{
	struct sl_wbuf w = {0};
	struct sl_slice_grant gab = grant_ab();

	/* LOOKUP: u64 parent, str name (u32 length with the NUL, the bytes, NUL) */
	sl_w_entry(&w, &(struct sl_rpc_entry){.parent = 2, .name = "f"});
	CHECK(holds(&w, "0000000000000002 | 00000002 6600"));
	sl_wbuf_free(&w);

	/* GETATTR's result: u8 type, u8 flags, u16 mode, u32 uid, u32 gid, i64 atime, mtime,
	 * ctime (ns), u32 nlink, u64 length, u32 rdev, u64 parent, u32 access and default ACL */
	sl_w_attr(&w, &(struct sl_attr){.type = 1, .flags = 2, .mode = 0644, .uid = 1000, .gid = 100,
					.atime_ns = 1, .mtime_ns = 2, .ctime_ns = -1, .nlink = 1,
					.length = 4096, .rdev = 0, .parent = 7, .access_acl = 3});
	CHECK(holds(&w, "01 02 01a4 000003e8 00000064 | 0000000000000001 0000000000000002 "
			"ffffffffffffffff | 00000001 0000000000001000 00000000 0000000000000007 "
			"00000003 00000000"));
	sl_wbuf_free(&w);

	/* WRITE_CHUNK: u64 ino, u32 indx, the slice (u32 pos, u64 id, u32 size, u32 off, u32 len),
	 * i64 mtime, the grant (u64 first, u32 count, i64 issued, bytes mac), the lease (u64 sid,
	 * u64 gen) */
	sl_w_write_chunk(&w, &(struct sl_rpc_write_chunk){
		.ino = 3, .indx = 1, .slice = grant_slice, .mtime_ns = 5, .grant = gab,
		.has_grant = true, .has_lease = true, .lease = {.sid = 7, .gen = 9}});
	CHECK(holds(&w, "0000000000000003 00000001 | " GRANT_SLICE_HEX " | 0000000000000005 | "
			"0000000000001230 00000010 0000000000000011 00000020 " MAC_AB " | "
			"0000000000000007 0000000000000009"));
	sl_wbuf_free(&w);
	/* without a lease (an older client) the request ends after the grant */
	sl_w_write_chunk(&w, &(struct sl_rpc_write_chunk){.ino = 3, .indx = 1,
							  .slice = grant_slice, .mtime_ns = 5});
	CHECK(holds(&w, "0000000000000003 00000001 | " GRANT_SLICE_HEX " | 0000000000000005 | "
			"0000000000000000 00000000 0000000000000000 00000000"));
	sl_wbuf_free(&w);

	/* NEXT_IDS' result: i64 value, u8 granted, then i64 issued, bytes mac, u32 lifetime */
	sl_w_ids(&w, &(struct sl_rpc_ids){
		.value = 100, .has_grant = true,
		.grant = {.issued = 0x11, .mac = gab.mac, .mac_len = SL_GRANT_MAC_BYTES,
			  .lifetime_s = 3600}});
	CHECK(holds(&w, "0000000000000064 01 | 0000000000000011 00000020 " MAC_AB " 00000e10"));
	sl_wbuf_free(&w);
	sl_w_ids(&w, &(struct sl_rpc_ids){.value = 5});
	CHECK(holds(&w, "0000000000000005 00"));
	sl_wbuf_free(&w);

	/* READ_CHUNK's result: u32 n, n slices */
	sl_w_slices(&w, &(struct sl_rpc_slices){.slices_n = 1, .slices = &grant_slice});
	CHECK(holds(&w, "00000001 | " GRANT_SLICE_HEX));
	sl_wbuf_free(&w);

	/* MKNOD's result: u64 ino, the attr, what it replaced (u64 ino, u64 length, bool) */
	sl_w_made(&w, &(struct sl_rpc_made){.ino = 9, .replaced = {.ino = 5, .length = 10}});
	CHECK(holds(&w, "0000000000000009 | 00 00 0000 00000000 00000000 0000000000000000 "
			"0000000000000000 0000000000000000 00000000 0000000000000000 00000000 "
			"0000000000000000 00000000 00000000 | 0000000000000005 000000000000000a 00"));
	sl_wbuf_free(&w);

	/* a WRITE_CHUNKS record: str acting, WRITE_CHUNK's arguments, bool leased [lease] */
	sl_w_chunk_write(&w, &(struct sl_rpc_chunk_write){
		.acting = "bo", .ino = 3, .slice = grant_slice, .mtime_ns = 5, .grant = gab,
		.has_grant = true});
	CHECK(holds(&w, "00000003 626f00 | 0000000000000003 00000000 | " GRANT_SLICE_HEX " | "
			"0000000000000005 | 0000000000001230 00000010 0000000000000011 00000020 "
			MAC_AB " | 00"));
	sl_wbuf_free(&w);

	/* PRESIGN GET: str method, str key, u64 ino, u32 indx, no grant (zeros, empty mac) */
	sl_w_presign(&w, &(struct sl_rpc_presign){.method = "GET", .key = "k", .ino = 3});
	CHECK(holds(&w, "00000004 47455400 | 00000002 6b00 | 0000000000000003 00000000 | "
			"0000000000000000 00000000 0000000000000000 00000000"));
	sl_wbuf_free(&w);

	/* CONCAT: u64 target, u32 n, n u64 sources; a NULL string is a zero length */
	sl_w_concat(&w, &(struct sl_rpc_concat){.target = 1, .srcs_n = 2,
						.srcs = (const uint64_t[]){2, 3}});
	CHECK(holds(&w, "0000000000000001 00000002 0000000000000002 0000000000000003"));
	sl_wbuf_free(&w);
	sl_w_readdir(&w, &(struct sl_rpc_readdir){.ino = 1, .after = NULL, .limit = 10});
	CHECK(holds(&w, "0000000000000001 00000000 0000000a"));
	sl_wbuf_free(&w);
}

/* ---- what decoders refuse -------------------------------------------------------------------- */

/* Decodes the bytes hex spells into out, whose strings point into them until the next call. */
static int decode_hex(const char *hex, int (*decode)(struct sl_rbuf *, void *), void *out)
{
	static uint8_t b[256];
	size_t n = 0;
	for (const char *p = hex; *p; p += 2) {
		while (*p == ' ')
			p++;
		unsigned v;
		REQUIRE(n < sizeof(b) && sscanf(p, "%2x", &v) == 1);
		b[n++] = (uint8_t)v;
	}
	struct sl_rbuf r = sl_rbuf_of(b, n);
	int rc = decode(&r, out);
	return rc ? rc : sl_r_done(&r) ? 0 : -EMSGSIZE;
}

static int decode_slices(struct sl_rbuf *r, void *out)
{
	struct sl_rpc_slices *s = out;
	int rc = sl_r_slices(r, s);
	free((void *)s->slices);
	return rc;
}

static int decode_presign(struct sl_rbuf *r, void *out)
{
	return sl_r_presign(r, out);
}

static int decode_closed(struct sl_rbuf *r, void *out)
{
	return sl_r_closed(r, out);
}

static void test_decoders_refuse(void)
{
	struct sl_rpc_slices sl;
	/* more slices than the rest could hold: refused before anything is allocated */
	CHECK_RC(decode_hex("00000002 " GRANT_SLICE_HEX, decode_slices, &sl), -EPROTO);
	CHECK_RC(decode_hex("00100001", decode_slices, &sl), -EPROTO); /* > SL_RPC_MAX_SLICES */
	CHECK_RC(decode_hex("00000000", decode_slices, &sl), 0);
	struct sl_rpc_presign p;
	/* a grant's mac is all 32 bytes or none */
	CHECK_RC(decode_hex("00000004 47455400 00000002 6b00 0000000000000003 00000000 "
			    "0000000000000001 00000001 0000000000000001 00000002 abab",
			    decode_presign, &p), -EPROTO);
	CHECK_RC(decode_hex("00000004 47455400 00000002 6b00 0000000000000003 00000000 "
			    "0000000000000001 00000001 0000000000000001 00000000",
			    decode_presign, &p), 0);
	CHECK(!p.has_grant && !strcmp(p.method, "GET") && !strcmp(p.key, "k"));
	/* a method longer than its 16 bytes, a string without its NUL */
	CHECK_RC(decode_hex("00000012 4141414141414141414141414141414141 00 00000002 6b00 "
			    "0000000000000003 00000000 0000000000000000 00000000 0000000000000000 "
			    "00000000", decode_presign, &p), -EPROTO);
	CHECK_RC(decode_hex("00000003 474554 00000002 6b00 0000000000000003 00000000 "
			    "0000000000000000 00000000 0000000000000000 00000000", decode_presign,
			    &p), -EPROTO);
	struct sl_rpc_closed c;
	CHECK_RC(decode_hex("02", decode_closed, &c), -EPROTO); /* a bool is 0 or 1 */
	CHECK_RC(decode_hex("01 00", decode_closed, &c), -EMSGSIZE); /* left over */
}

int main(void)
{
	test_every_op_listed();
	test_every_op_round_trips();
	test_every_layout_round_trips();
	test_layouts_by_hand();
	test_decoders_refuse();
	if (tu_failures) {
		fprintf(stderr, "test_rpc_codec: %d failures\n", tu_failures);
		return 1;
	}
	printf("test_rpc_codec: ok\n");
	return 0;
}
