/* test_vfs_journal.c - the staging journal (cache/journal.c) on its own: a writer process appends
 * blocks and dies without closing; its staged files are then damaged as a crash of the machine
 * may leave files that were never synced; replay restores exactly the blocks of the journal's
 * current generation (a full generation whose blocks were uploaded but a few was retired after
 * their files were synced, and its stale records left behind the new ones are not replayed;
 * with none uploaded the file grows instead and replays them all), stops at a torn tail, refuses a key
 * that leaves the directory, and removes the journal. A clean close removes it too. Threads
 * appending at once (a block server's connections) all get their blocks journaled. Blocks
 * journaled without a file are read from the journal; at the end of their generation (or at
 * close) the journal writes the files of those not retired, and of no retired one. Asked to
 * (sl_journal_write_files, a holder's sweep), it writes them at once, unsynced but still covered
 * by the journal, and leaves no temporary file behind when threads append and a generation ends
 * meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "vfs/vfs.h"

#define BLOCK 4096

static void key_of(int i, char *out, size_t n)
{
	snprintf(out, n, "chunks/0/%d/%06d_0_%d", i / 1000, i, BLOCK);
}

static void fill(uint8_t *buf, int i)
{
	for (int k = 0; k < BLOCK; k++)
		buf[k] = (uint8_t)(i * 131 + k * 7);
}

/* Stages block i as stage.c does: its cache file unsynced, then journaled; with unsafe, under a
 * key outside the directory (journaled only). 0 or an error. */
static int stage_block(struct sl_journal *j, const char *dir, int i, bool unsafe)
{
	char key[128], path[600];
	uint8_t buf[BLOCK];
	if (unsafe)
		snprintf(key, sizeof(key), "../escaped_%d", i);
	else
		key_of(i, key, sizeof(key));
	fill(buf, i);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	const char *k = key;
	const uint8_t *d = buf;
	uint32_t len = BLOCK;
	struct sl_err err = {0};
	int rc = unsafe ? 0 : sl_cachefile_write(path, buf, BLOCK, false, &err);
	return rc ? rc : sl_journal_append(j, &k, &d, &len, 1, true, true, NULL, &err);
}

/* Journals block i without a cache file, as small blocks are staged. 0 or an error. */
static int append_only(struct sl_journal *j, int i)
{
	char key[128];
	uint8_t buf[BLOCK];
	key_of(i, key, sizeof(key));
	fill(buf, i);
	const char *k = key;
	const uint8_t *d = buf;
	uint32_t len = BLOCK;
	struct sl_err err = {0};
	return sl_journal_append(j, &k, &d, &len, 1, false, true, NULL, &err);
}

/* Temporary files of cache file writes under a directory (nftw's callback counts them). */
static int ntemp;
static int count_temp(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	ntemp += flag == FTW_F && !strncmp(path + ftw->base, SL_CACHEFILE_TMP_PREFIX,
					   strlen(SL_CACHEFILE_TMP_PREFIX));
	return 0;
}

/* Waits for the child pid, which must exit with 0. */
static void reap(pid_t pid)
{
	int st;
	REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Forks: the parent waits for the child (which must exit with 0) and gets NULL; the child gets a
 * new journal in dir, and dies without closing it, as after a crash. */
static struct sl_journal *in_child(const char *dir)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid) {
		reap(pid);
		return NULL;
	}
	struct sl_journal *j;
	struct sl_err err = {0};
	if (sl_journal_open(dir, &j, &err))
		_exit(1);
	return j;
}

/* In a child: stages blocks [0, n) (one append each, as n rounds would), the one at `unsafe`
 * (if >= 0) under a key outside the directory; with keep_every > 0, retires each at once (as
 * uploaded) but every keep_every-th. */
static void writer(const char *dir, int n, int unsafe, int keep_every)
{
	struct sl_journal *j = in_child(dir);
	if (!j)
		return;
	for (int i = 0; i < n; i++) {
		if (stage_block(j, dir, i, i == unsafe))
			_exit(2);
		char key[128];
		key_of(i, key, sizeof(key));
		if (keep_every && i % keep_every)
			sl_journal_retire(j, key);
	}
	_exit(0);
}

struct appender {
	struct sl_journal *j;
	const char *dir;
	int first, n;
	bool failed;
};

static void *append_main(void *arg)
{
	struct appender *a = arg;
	for (int i = a->first; i < a->first + a->n; i++)
		a->failed |= stage_block(a->j, a->dir, i, false) != 0;
	return NULL;
}

static atomic_int appenders_done;

static void *append_only_main(void *arg)
{
	struct appender *a = arg;
	for (int i = a->first; i < a->first + a->n; i++)
		a->failed |= append_only(a->j, i) != 0;
	atomic_fetch_add(&appenders_done, 1);
	return NULL;
}

/* In a child: `threads` threads stage `each` blocks apiece at once. */
static void concurrent_writers(const char *dir, int threads, int each)
{
	struct sl_journal *j = in_child(dir);
	if (!j)
		return;
	pthread_t t[16];
	struct appender a[16];
	for (int i = 0; i < threads; i++) {
		a[i] = (struct appender){j, dir, i * each, each, false};
		if (pthread_create(&t[i], NULL, append_main, &a[i]))
			_exit(2);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		if (a[i].failed)
			_exit(3);
	}
	_exit(0);
}

/* Empties every staged file of blocks [0, n). */
static void damage(const char *dir, int n)
{
	for (int i = 0; i < n; i++) {
		char key[128], path[600];
		key_of(i, key, sizeof(key));
		snprintf(path, sizeof(path), "%s/%s", dir, key);
		truncate(path, 0);
	}
}

/* Which of blocks [0, n) are whole: their count, and the first whole one in *first. */
static int whole(const char *dir, int n, int *first)
{
	int count = 0;
	*first = -1;
	uint8_t want[BLOCK];
	for (int i = 0; i < n; i++) {
		char key[128], path[600];
		key_of(i, key, sizeof(key));
		snprintf(path, sizeof(path), "%s/%s", dir, key);
		uint8_t *data = NULL;
		uint32_t len = 0;
		struct sl_err err = {0};
		fill(want, i);
		if (!sl_cachefile_read_all(path, &data, &len, &err) && len == BLOCK &&
		    !memcmp(data, want, BLOCK)) {
			count++;
			if (*first < 0)
				*first = i;
		}
		free(data);
	}
	return count;
}

static bool exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

int main(void)
{
	char *base = tu_tempdir("journal");
	struct sl_logger log = {0};
	struct sl_err err = {0};
	char dir[600], jpath[700];

	/* 1. more than a generation, the blocks uploaded but a few: only the current one is
	 * replayed */
	size_t rec = 24 + strlen("chunks/0/0/000000_0_4096") + BLOCK;
	rec += (8 - rec % 8) % 8;
	int per_gen = (int)((SL_JOURNAL_CAPACITY - 32) / rec);
	int n = per_gen + 100;
	snprintf(dir, sizeof(dir), "%s/gens", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	writer(dir, n, -1, 256);
	snprintf(jpath, sizeof(jpath), "%s/.journal", dir);
	CHECK(exists(jpath));
	damage(dir, n);
	int first;
	CHECK_RC(whole(dir, n, &first), 0);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, n, &first), 100);
	CHECK_RC(first, per_gen);
	CHECK(!exists(jpath));
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0); /* nothing left to replay */

	/* 1b. the same with none uploaded: ending the generation would write and sync them all,
	 * so the file grows instead, and everything is replayed */
	snprintf(dir, sizeof(dir), "%s/grown", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	writer(dir, n, -1, 0);
	snprintf(jpath, sizeof(jpath), "%s/.journal", dir);
	struct stat jst;
	CHECK(stat(jpath, &jst) == 0 && jst.st_size > (off_t)SL_JOURNAL_CAPACITY);
	damage(dir, n);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, n, &first), n);
	CHECK(!exists(jpath));

	/* 2. a torn tail and a key that leaves the directory */
	snprintf(dir, sizeof(dir), "%s/torn", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	writer(dir, 16, 10, 0);
	snprintf(jpath, sizeof(jpath), "%s/.journal", dir);
	/* the last record cut in the middle of its block (the unsafe key is 8 bytes shorter) */
	REQUIRE(truncate(jpath, (off_t)(32 + 15 * rec - 8 + rec / 2)) == 0);
	damage(dir, 16);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, 16, &first), 14); /* not the unsafe one, not the torn one */
	CHECK_RC(first, 0);
	char escaped[700];
	snprintf(escaped, sizeof(escaped), "%s/escaped_10", base);
	CHECK(!exists(escaped));
	CHECK(!exists(jpath));

	/* 3. many threads at once: every block is in the journal */
	snprintf(dir, sizeof(dir), "%s/threads", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	concurrent_writers(dir, 8, 150);
	damage(dir, 1200);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, 1200, &first), 1200);

	/* 4. a clean close removes the journal; a second journal in the same place starts anew */
	snprintf(dir, sizeof(dir), "%s/close", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	struct sl_journal *j;
	CHECK_RC(sl_journal_open(dir, &j, &err), 0);
	uint8_t buf[BLOCK];
	fill(buf, 1);
	const char *k = "chunks/0/0/000001_0_4096";
	const uint8_t *d = buf;
	uint32_t len = BLOCK;
	CHECK_RC(sl_journal_append(j, &k, &d, &len, 1, true, true, NULL, &err), 0);
	snprintf(jpath, sizeof(jpath), "%s/.journal", dir);
	CHECK(exists(jpath));
	sl_journal_close(j, &log);
	CHECK(!exists(jpath));
	CHECK_RC(sl_journal_open(dir, &j, &err), 0);
	CHECK(exists(jpath));
	sl_journal_close(j, &log);

	/* 5. blocks without files: read from the journal; a generation's end writes the files of
	 * the ones not retired (readable from there on), and close those of the current one */
	snprintf(dir, sizeof(dir), "%s/nofiles", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	CHECK_RC(sl_journal_open(dir, &j, &err), 0);
	for (int i = 0; i < per_gen; i++) {
		char key[128];
		key_of(i, key, sizeof(key));
		fill(buf, i);
		k = key;
		CHECK_RC(sl_journal_append(j, &k, &d, &len, 1, false, true, NULL, &err), 0);
	}
	uint8_t *got = NULL;
	uint32_t got_len = 0;
	char key[128], path[700];
	key_of(7, key, sizeof(key));
	fill(buf, 7);
	CHECK_RC(sl_journal_read(j, key, &got, &got_len, &err), 0);
	CHECK(got_len == BLOCK && got && !memcmp(got, buf, BLOCK));
	free(got);
	got = NULL;
	CHECK_RC(sl_journal_read(j, "chunks/0/0/999999_0_4096", &got, &got_len, &err), -ENOENT);
	CHECK(whole(dir, per_gen, &first) == 0); /* no file yet */
	int kept = 0;
	for (int i = 0; i < per_gen; i++) { /* uploaded, but every 64th (1, 65, ...) */
		key_of(i, key, sizeof(key));
		if (i % 64 == 1) {
			kept++;
			continue;
		}
		CHECK(sl_journal_retire(j, key));
		CHECK(!sl_journal_retire(j, key)); /* once */
	}
	key_of(per_gen, key, sizeof(key)); /* does not fit: the generation ends */
	fill(buf, per_gen);
	k = key;
	CHECK_RC(sl_journal_append(j, &k, &d, &len, 1, false, true, NULL, &err), 0);
	CHECK_RC(whole(dir, per_gen, &first), kept);
	CHECK_RC(first, 1);
	for (int i = 0; i < 4; i++) {
		key_of(i, key, sizeof(key));
		snprintf(path, sizeof(path), "%s/%s", dir, key);
		CHECK(exists(path) == (i == 1));
		/* an odd one's file now holds it; the journal no longer does */
		CHECK_RC(sl_journal_read(j, key, &got, &got_len, &err), -ENOENT);
	}
	key_of(per_gen, key, sizeof(key));
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	CHECK(!exists(path));
	sl_journal_close(j, &log);
	CHECK(exists(path));
	snprintf(jpath, sizeof(jpath), "%s/.journal", dir);
	CHECK(!exists(jpath));

	/* 6. files written on request: for the blocks only the journal holds, not for a retired
	 * one nor one appended with its file; from then on read from their files, and still in
	 * the journal, which a crash of the machine replays as any other */
	snprintf(dir, sizeof(dir), "%s/write-files", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	j = in_child(dir);
	if (j) {
		bool ok = stage_block(j, dir, 0, false) == 0; /* with its file */
		for (int i = 1; i < 10; i++)
			ok = ok && append_only(j, i) == 0;
		key_of(3, key, sizeof(key));
		ok = ok && sl_journal_retire(j, key);
		ok = ok && sl_journal_write_files(j, &err) == 8;
		ok = ok && sl_journal_write_files(j, &err) == 0; /* nothing left to write */
		key_of(5, key, sizeof(key));
		ok = ok && sl_journal_read(j, key, &got, &got_len, &err) == -ENOENT;
		ok = ok && !sl_journal_retire(j, key); /* it has a file now */
		_exit(ok ? 0 : 1); /* dies without closing, as after a crash */
	}
	CHECK_RC(whole(dir, 10, &first), 9);
	key_of(3, key, sizeof(key));
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	CHECK(!exists(path));
	damage(dir, 10);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, 10, &first), 10);

	/* 7. written while threads append, past the end of a generation: every block ends in a
	 * whole file, and no temporary file is left */
	snprintf(dir, sizeof(dir), "%s/write-files-busy", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	CHECK_RC(sl_journal_open(dir, &j, &err), 0);
	enum { APPENDERS = 4 };
	int each = per_gen / APPENDERS + 100, rounds = 0, files = 0;
	pthread_t t[APPENDERS];
	struct appender a[APPENDERS];
	for (int i = 0; i < APPENDERS; i++) {
		a[i] = (struct appender){j, dir, i * each, each, false};
		REQUIRE(pthread_create(&t[i], NULL, append_only_main, &a[i]) == 0);
	}
	for (; atomic_load(&appenders_done) < APPENDERS; rounds++) {
		int rc = sl_journal_write_files(j, &err);
		CHECK(rc >= 0);
		files += rc > 0 ? rc : 0;
		usleep(1000);
	}
	for (int i = 0; i < APPENDERS; i++) {
		pthread_join(t[i], NULL);
		CHECK(!a[i].failed);
	}
	fprintf(stderr, "  %d files written in %d rounds while %d blocks were appended\n", files,
		rounds, APPENDERS * each);
	CHECK(files > 0);
	sl_journal_close(j, &log);
	CHECK_RC(whole(dir, APPENDERS * each, &first), APPENDERS * each);
	ntemp = 0;
	nftw(dir, count_temp, 16, FTW_PHYS);
	CHECK_RC(ntemp, 0);

	/* 8. appends without sync (hflush.commit=background): no fdatasync until sl_journal_sync,
	 * and a crash of the process (the page cache survives) replays them as synced ones */
	snprintf(dir, sizeof(dir), "%s/unsynced", base);
	REQUIRE(mkdir(dir, 0700) == 0);
	j = in_child(dir);
	if (j) {
		int64_t sync_ns = 0;
		bool ok = true;
		for (int i = 0; i < 6; i++) {
			key_of(i, key, sizeof(key));
			fill(buf, i);
			k = key;
			ok = ok && !sl_journal_append(j, &k, &d, &len, 1, i % 2, false, &sync_ns, &err);
		}
		ok = ok && sync_ns == 0;
		ok = ok && !sl_journal_sync(j, &sync_ns, &err) && sync_ns > 0;
		key_of(6, key, sizeof(key)); /* the last one never synced */
		fill(buf, 6);
		k = key;
		ok = ok && !sl_journal_append(j, &k, &d, &len, 1, false, false, NULL, &err);
		_exit(ok ? 0 : 1);
	}
	damage(dir, 7);
	CHECK_RC(sl_journal_replay(dir, &log, &err), 0);
	CHECK_RC(whole(dir, 7, &first), 7);

	if (!tu_failures)
		CHECK(tu_rm_rf(base) == 0);
	free(base);
	return tu_finish("test_vfs_journal");
}
