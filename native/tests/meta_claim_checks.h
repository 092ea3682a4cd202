/*
 * meta_claim_checks.h - the claim slots (block_claim, block_claim_end) through two handles of one
 * volume's database, as two clients: won, held (also against its own claimant), given up, done,
 * expired and taken over, gone with the slice (forget_slice), and a single winner among threads
 * of both handles racing for one block. Run by test_meta_sqlite (SQLite) and
 * test_meta_commit_lost (MariaDB).
 */
#ifndef SL_META_CLAIM_CHECKS_H
#define SL_META_CLAIM_CHECKS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "meta/meta.h"
#include "testutil.h"

#define CC_SID_A 101
#define CC_SID_B 202
#define CC_RACERS 4 /* per handle */

static const struct sl_meta_user cc_su = {.uid = 0, .gids = {0}, .ngids = 1, .superuser = true};

/* The outcome of one claim through m (-1 after an error, which is reported). */
static int cc_claim(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid, int64_t ttl_s)
{
	struct sl_err err = {0};
	enum sl_meta_claim c;
	int rc = sl_meta_block_claim(m, id, indx, sid, ttl_s, &c, &err);
	if (rc) {
		fprintf(stderr, "block_claim: %d %s\n", rc, err.msg);
		return -1;
	}
	return (int)c;
}

static int cc_end(struct sl_meta *m, uint64_t id, uint32_t indx, uint64_t sid, bool uploaded)
{
	struct sl_err err = {0};
	int rc = sl_meta_block_claim_end(m, id, indx, sid, uploaded, &err);
	if (rc)
		fprintf(stderr, "block_claim_end: %d %s\n", rc, err.msg);
	return rc;
}

struct cc_racer {
	struct sl_meta *m;
	uint64_t id, sid;
	atomic_int *won;
	int rc;
};

static void *cc_race(void *arg)
{
	struct cc_racer *r = arg;
	int c = cc_claim(r->m, r->id, 3, r->sid, 300);
	r->rc = c < 0 ? -1 : 0;
	if (c == SL_CLAIM_WON)
		atomic_fetch_add(r->won, 1);
	return NULL;
}

/* A slice of its own through a, committed in a file that is then removed, so that the slice's
 * last reference goes and forget_slice drops its row; returns its id. */
static uint64_t cc_dead_slice(struct sl_meta *a, const char *name, sl_ino *ino)
{
	struct sl_err err = {0};
	struct sl_attr attr;
	struct sl_removed rm = {0};
	uint64_t id = 0;
	REQUIRE(sl_meta_next_slice_id(a, &id, &err) == 0);
	REQUIRE(sl_meta_mknod(a, &cc_su, SL_ROOT_INO, name, SL_TYPE_FILE, 0644, 0, NULL, ino, &attr,
			      &rm, &err) == 0);
	struct sl_slice s = {.pos = 0, .id = id, .size = 4096, .len = 4096};
	REQUIRE(sl_meta_write_chunk(a, &cc_su, NULL, *ino, 0, &s, 1, &attr, &err) == 0);
	return id;
}

static int cc_on_dead(void *arg, uint64_t id, uint32_t size)
{
	(void)size;
	*(uint64_t *)arg = id;
	return 0;
}

/* a and b: two handles on one formatted volume. */
static void check_block_claims(struct sl_meta *a, struct sl_meta *b)
{
	struct sl_err err = {0};
	sl_ino ino = 0;
	uint64_t id = cc_dead_slice(a, "claimed", &ino);

	/* the first claimant wins; a claim that lives holds everyone off, its own claimant too */
	CHECK_RC(cc_claim(a, id, 0, CC_SID_A, 300), SL_CLAIM_WON);
	CHECK_RC(cc_claim(b, id, 0, CC_SID_B, 300), SL_CLAIM_HELD);
	CHECK_RC(cc_claim(a, id, 0, CC_SID_A, 300), SL_CLAIM_HELD);
	/* other blocks of the slice are claims of their own */
	CHECK_RC(cc_claim(b, id, 1, CC_SID_B, 300), SL_CLAIM_WON);
	/* given up (the upload failed): the next claimant need not wait; the one that gave up
	 * cannot end the new claim by mistake */
	CHECK_RC(cc_end(a, id, 0, CC_SID_A, false), 0);
	CHECK_RC(cc_claim(b, id, 0, CC_SID_B, 300), SL_CLAIM_WON);
	CHECK_RC(cc_end(a, id, 0, CC_SID_A, false), 0);
	CHECK_RC(cc_claim(a, id, 0, CC_SID_A, 300), SL_CLAIM_HELD);
	/* done: for good, for everyone */
	CHECK_RC(cc_end(b, id, 0, CC_SID_B, true), 0);
	CHECK_RC(cc_claim(a, id, 0, CC_SID_A, 300), SL_CLAIM_DONE);
	CHECK_RC(cc_claim(b, id, 0, CC_SID_B, 0), SL_CLAIM_DONE);
	CHECK_RC(cc_end(b, id, 0, CC_SID_B, false), 0); /* a done claim is not given up */
	CHECK_RC(cc_claim(a, id, 0, CC_SID_A, 300), SL_CLAIM_DONE);

	/* expired (its claimant died): taken over; the late claimant's upload still counts */
	CHECK_RC(cc_claim(a, id, 2, CC_SID_A, 0), SL_CLAIM_WON);
	CHECK_RC(cc_claim(b, id, 2, CC_SID_B, 300), SL_CLAIM_WON);
	CHECK_RC(cc_claim(a, id, 2, CC_SID_A, 300), SL_CLAIM_HELD);
	CHECK_RC(cc_end(a, id, 2, CC_SID_A, true), 0);
	CHECK_RC(cc_claim(b, id, 2, CC_SID_B, 300), SL_CLAIM_DONE);
	/* a done block stays done once its claim's time is up */
	CHECK_RC(cc_claim(a, id, 4, CC_SID_A, 0), SL_CLAIM_WON);
	CHECK_RC(cc_end(a, id, 4, CC_SID_A, true), 0);
	CHECK_RC(cc_claim(b, id, 4, CC_SID_B, 300), SL_CLAIM_DONE);

	/* one winner among threads of both handles racing for a block (3) */
	atomic_int won = 0;
	struct cc_racer r[2 * CC_RACERS];
	pthread_t t[2 * CC_RACERS];
	for (int i = 0; i < 2 * CC_RACERS; i++) {
		r[i] = (struct cc_racer){.m = i % 2 ? b : a, .id = id, .sid = 1000 + i,
					 .won = &won};
		REQUIRE(pthread_create(&t[i], NULL, cc_race, &r[i]) == 0);
	}
	for (int i = 0; i < 2 * CC_RACERS; i++) {
		pthread_join(t[i], NULL);
		CHECK_RC(r[i].rc, 0);
	}
	CHECK_RC(atomic_load(&won), 1);

	/* the claims go with the slice: once it is forgotten, nothing is held or done */
	struct sl_removed rm = {0};
	CHECK_RC(sl_meta_unlink(a, &cc_su, SL_ROOT_INO, "claimed", &rm, &err), 0);
	CHECK(rm.ino == ino && rm.data_pending);
	uint64_t dead = 0;
	CHECK_RC(sl_meta_delete_file_data(a, ino, cc_on_dead, &dead, &err), 0);
	CHECK(dead == id);
	CHECK_RC(sl_meta_forget_slice(a, id, &err), 0);
	CHECK_RC(cc_claim(b, id, 0, CC_SID_B, 300), SL_CLAIM_WON);
	CHECK_RC(cc_claim(b, id, 2, CC_SID_B, 300), SL_CLAIM_WON);
	CHECK_RC(cc_claim(b, id, 3, CC_SID_B, 300), SL_CLAIM_WON);
}

#endif
