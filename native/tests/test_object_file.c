/*
 * test_object_file.c - the object storage core (registry, argument checks, the retry loop, with a
 * fake backend) and the "file" backend: contract, key checks, listing order, concurrency and
 * atomicity.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "object/object.h"
#include "testutil.h"

/* ---- listing helpers ---- */

struct keys {
	char *v[2048];
	size_t n;
	size_t stop_after; /* 0: never stop */
	int stop_rc;
};

static int collect(void *arg, const struct sl_obj_info *info)
{
	struct keys *k = arg;
	if (k->n < sizeof(k->v) / sizeof(k->v[0]))
		k->v[k->n++] = strdup(info->key);
	return k->stop_after && k->n >= k->stop_after ? k->stop_rc : 0;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	k->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists and compares with the expected keys (in order). */
static void check_list(struct sl_objstore *s, const char *prefix, const char *after,
		       const char *const *want, size_t nwant, int line)
{
	struct keys k = {0};
	struct sl_err err = {0};
	int rc = sl_obj_list(s, prefix, after, collect, &k, &err);
	bool ok = rc == 0 && k.n == nwant;
	for (size_t i = 0; ok && i < nwant; i++)
		ok = !strcmp(k.v[i], want[i]);
	if (!ok) {
		fprintf(stderr, "line %d: list(prefix '%s', after '%s') = %d (%s), got %zu keys:",
			line, prefix, after ? after : "(null)", rc, err.msg, k.n);
		for (size_t i = 0; i < k.n; i++)
			fprintf(stderr, " %s", k.v[i]);
		fprintf(stderr, "; want %zu:", nwant);
		for (size_t i = 0; i < nwant; i++)
			fprintf(stderr, " %s", want[i]);
		fprintf(stderr, "\n");
		tu_failures++;
	}
	keys_free(&k);
}

/* ---- the core, with a fake backend ---- */

struct fake {
	int fail_times, code, calls;
	bool list_failed;
};

static int fake_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
		    struct sl_err *err)
{
	(void)buf, (void)len;
	struct fake *f = s->priv;
	f->calls++;
	if (f->fail_times > 0) {
		f->fail_times--;
		return sl_errf(err, f->code, "fake put '%s' failed", key);
	}
	return 0;
}

/* Ten keys k0..k9; the first call breaks off with a reset after handing out k4. */
static int fake_list(struct sl_objstore *s, const char *prefix, const char *after,
		     sl_obj_list_cb cb, void *arg, struct sl_err *err)
{
	(void)prefix;
	struct fake *f = s->priv;
	f->calls++;
	for (int i = 0; i < 10; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%d", i);
		if (after && strcmp(key, after) <= 0)
			continue;
		if (i == 5 && !f->list_failed) {
			f->list_failed = true;
			return sl_errf(err, -ECONNRESET, "fake connection reset");
		}
		struct sl_obj_info info = {.key = key, .size = (uint64_t)i};
		if (cb(arg, &info))
			return 0;
	}
	return 0;
}

static const struct sl_obj_backend fake_backend = {
	.version = SL_OBJ_BACKEND_VERSION,
	.name = "fake",
	.put = fake_put,
	.list = fake_list,
};

static void test_core(void)
{
	struct sl_err err = {0};
	struct sl_objstore *s = NULL;
	struct sl_obj_config bad = {.storage = "gcs", .bucket = "x", .retries = 1};
	CHECK_RC(sl_obj_open(&bad, &s, &err), -EINVAL);
	CHECK(s == NULL);
	CHECK(strstr(err.msg, "gcs") && strstr(err.msg, "file") && strstr(err.msg, "s3") &&
	      strstr(err.msg, "minio"));
	bad.storage = "file";
	bad.bucket = "";
	CHECK_RC(sl_obj_open(&bad, &s, &err), -EINVAL);

	struct fake f = {0};
	struct sl_objstore fs = {.be = &fake_backend, .priv = &f,
				 .retry = {.max_attempts = 3, .base_ms = 1, .max_ms = 2},
				 .description = "fake"};
	/* transient errors are retried, and the caller sees success */
	f = (struct fake){.fail_times = 2, .code = -EAGAIN};
	CHECK_RC(sl_obj_put(&fs, "a", "x", 1, &err), 0);
	CHECK_RC(f.calls, 3);
	CHECK_RC(atomic_load(&fs.stats.retries), 2);
	CHECK_RC(atomic_load(&fs.stats.put_bytes), 1);
	/* until the attempts run out; the message says how many were made */
	f = (struct fake){.fail_times = 5, .code = -ECONNREFUSED};
	CHECK_RC(sl_obj_put(&fs, "a", "x", 1, &err), -ECONNREFUSED);
	CHECK_RC(f.calls, 3);
	CHECK_RC(err.code, -ECONNREFUSED);
	CHECK(strstr(err.msg, "after 3 attempts") && strstr(err.msg, "fake put 'a' failed"));
	CHECK_RC(atomic_load(&fs.stats.errors), 1);
	/* hopeless errors are not retried */
	f = (struct fake){.fail_times = 5, .code = -EACCES};
	CHECK_RC(sl_obj_put(&fs, "a", "x", 1, &err), -EACCES);
	CHECK_RC(f.calls, 1);
	CHECK(!strstr(err.msg, "attempts"));
	/* a slot the backend lacks */
	CHECK_RC(sl_obj_create_bucket(&fs, &err), -EOPNOTSUPP);
	/* argument checks never reach the backend */
	f = (struct fake){0};
	CHECK_RC(sl_obj_put(&fs, "", "x", 1, &err), -EINVAL);
	CHECK_RC(sl_obj_put(&fs, NULL, "x", 1, &err), -EINVAL);
	CHECK_RC(sl_obj_put(&fs, "a", NULL, 1, &err), -EINVAL);
	char longkey[1100];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	CHECK_RC(sl_obj_put(&fs, longkey, "x", 1, &err), -ENAMETOOLONG);
	char buf[4];
	CHECK_RC(sl_obj_get(&fs, "a", 0, buf, 0, &err), -EINVAL);
	CHECK_RC(sl_obj_get(&fs, "a", UINT64_MAX - 1, buf, 4, &err), -EINVAL);
	CHECK_RC(sl_obj_list(&fs, "", NULL, NULL, NULL, &err), -EINVAL);
	CHECK_RC(f.calls, 0);

	/* a list that fails half-way resumes after the last key handed out: no key twice */
	f = (struct fake){0};
	struct keys k = {0};
	CHECK_RC(sl_obj_list(&fs, "", NULL, collect, &k, &err), 0);
	CHECK_RC(f.calls, 2);
	CHECK_RC(k.n, 10);
	for (size_t i = 0; i < k.n; i++) {
		char want[8];
		snprintf(want, sizeof(want), "k%zu", i);
		CHECK(!strcmp(k.v[i], want));
	}
	keys_free(&k);
	/* a stop requested by the callback is not an error, a negative one is returned as is */
	f = (struct fake){.list_failed = true};
	k = (struct keys){.stop_after = 3, .stop_rc = 1};
	CHECK_RC(sl_obj_list(&fs, "", "k1", collect, &k, &err), 0);
	CHECK(k.n == 3 && !strcmp(k.v[0], "k2"));
	keys_free(&k);
	k = (struct keys){.stop_after = 2, .stop_rc = -ECANCELED};
	CHECK_RC(sl_obj_list(&fs, "", NULL, collect, &k, &err), -ECANCELED);
	CHECK_RC(f.calls, 2);
	keys_free(&k);
}

/* ---- the file backend ---- */

static struct sl_objstore *open_file(const char *dir)
{
	struct sl_obj_config cfg = {.storage = "file", .bucket = dir, .retries = 3};
	struct sl_objstore *s = NULL;
	struct sl_err err = {0};
	int rc = sl_obj_open(&cfg, &s, &err);
	if (rc)
		fprintf(stderr, "open %s: %s\n", dir, err.msg);
	REQUIRE(rc == 0);
	return s;
}

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

static void test_basics(const char *tmp)
{
	char root[512], path[600];
	snprintf(root, sizeof(root), "%s/bucket", tmp);
	struct sl_objstore *s = open_file(root);
	struct sl_err err = {0};
	CHECK(!strncmp(s->description, "file ", 5) && strstr(s->description, "/bucket"));
	CHECK_RC(sl_obj_create_bucket(s, &err), 0);
	CHECK_RC(sl_obj_create_bucket(s, &err), 0); /* exists already */
	struct stat st;
	CHECK(stat(root, &st) == 0 && S_ISDIR(st.st_mode));

	char data[1000], buf[1000];
	fill(data, sizeof(data), 1);
	const char *key = "vol/chunks/0/0/1_0_1000";
	CHECK_RC(sl_obj_put(s, key, data, sizeof(data), &err), 0);
	/* modes as JuiceFS writes them, so a juicefs client can read the objects */
	snprintf(path, sizeof(path), "%s/%s", root, key);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	snprintf(path, sizeof(path), "%s/vol/chunks", root);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755);

	memset(buf, 0, sizeof(buf));
	CHECK_RC(sl_obj_get(s, key, 0, buf, sizeof(buf), &err), 1000);
	CHECK(!memcmp(buf, data, sizeof(data)));
	CHECK_RC(sl_obj_get(s, key, 100, buf, 50, &err), 50);
	CHECK(!memcmp(buf, data + 100, 50));
	CHECK_RC(sl_obj_get(s, key, 990, buf, 50, &err), 10); /* short past the end */
	CHECK(!memcmp(buf, data + 990, 10));
	CHECK_RC(sl_obj_get(s, key, 1000, buf, 50, &err), 0);
	CHECK_RC(sl_obj_get(s, key, 5000, buf, 50, &err), 0);

	struct sl_obj_info info;
	CHECK_RC(sl_obj_head(s, key, &info, &err), 0);
	CHECK_RC(info.size, 1000);
	CHECK(!strcmp(info.key, key));
	CHECK(llabs((long long)(info.mtime_s - time(NULL))) < 60);

	/* overwrite */
	fill(data, 500, 2);
	CHECK_RC(sl_obj_put(s, key, data, 500, &err), 0);
	CHECK_RC(sl_obj_get(s, key, 0, buf, sizeof(buf), &err), 500);
	CHECK(!memcmp(buf, data, 500));

	/* empty objects */
	CHECK_RC(sl_obj_put(s, "vol/empty", NULL, 0, &err), 0);
	CHECK_RC(sl_obj_get(s, "vol/empty", 0, buf, 10, &err), 0);
	CHECK_RC(sl_obj_head(s, "vol/empty", &info, &err), 0);
	CHECK_RC(info.size, 0);

	/* missing objects */
	CHECK_RC(sl_obj_get(s, "vol/missing", 0, buf, 10, &err), -ENOENT);
	CHECK(strstr(err.msg, "vol/missing") != NULL);
	CHECK_RC(sl_obj_head(s, "vol/missing", &info, &err), -ENOENT);
	CHECK_RC(sl_obj_head(s, "vol/chunks", &info, &err), -ENOENT); /* a directory */
	CHECK_RC(sl_obj_get(s, "vol/empty/below", 0, buf, 10, &err), -ENOENT);

	/* delete is idempotent */
	CHECK_RC(sl_obj_delete(s, key, &err), 0);
	CHECK_RC(sl_obj_delete(s, key, &err), 0);
	CHECK_RC(sl_obj_get(s, key, 0, buf, 10, &err), -ENOENT);
	CHECK_RC(sl_obj_delete(s, "never/was", &err), 0);

	/* keys that would leave the bucket or alias other keys */
	const char *badkeys[] = {"../x", "a/../../b", "..", "/etc/passwd", "a//b", "a/", ".",
				 "a/./b", "vol/.."};
	for (size_t i = 0; i < sizeof(badkeys) / sizeof(badkeys[0]); i++) {
		CHECK_RC(sl_obj_put(s, badkeys[i], "x", 1, &err), -EINVAL);
		CHECK_RC(sl_obj_get(s, badkeys[i], 0, buf, 1, &err), -EINVAL);
		CHECK_RC(sl_obj_head(s, badkeys[i], &info, &err), -EINVAL);
		CHECK_RC(sl_obj_delete(s, badkeys[i], &err), -EINVAL);
	}
	CHECK_RC(sl_obj_list(s, "../", NULL, collect, &(struct keys){0}, &err), -EINVAL);
	/* names with dots inside are fine */
	CHECK_RC(sl_obj_put(s, "vol/..x/a..b", "x", 1, &err), 0);
	CHECK_RC(sl_obj_delete(s, "vol/..x/a..b", &err), 0);

	CHECK(atomic_load(&s->stats.puts) >= 3 && atomic_load(&s->stats.gets) >= 7);
	sl_obj_close(s);
}

static void test_list(const char *tmp)
{
	char root[512], path[700];
	snprintf(root, sizeof(root), "%s/listing/", tmp);
	struct sl_objstore *s = open_file(root);
	struct sl_err err = {0};
	/* '.' (0x2e) < '/' (0x2f) < '0': a directory's keys sort between "a.b" and "a0" */
	const char *keys[] = {"x/a/b",  "x/a.b", "x/a-c", "x/a/a/x", "x/a0",   "x/b",
			      "x/a/a.z", "x/a/c", "y",     "x/a/a/y", "x/a/a0", "x/~"};
	enum { N = sizeof(keys) / sizeof(keys[0]) };
	for (size_t i = 0; i < N; i++)
		CHECK_RC(sl_obj_put(s, keys[i], keys[i], strlen(keys[i]), &err), 0);
	const char *sorted[N];
	memcpy(sorted, keys, sizeof(sorted));
	qsort(sorted, N, sizeof(sorted[0]), cmp_str);

	check_list(s, "", NULL, sorted, N, __LINE__);
	check_list(s, "x/", NULL, sorted, N - 1, __LINE__);
	for (size_t i = 0; i < N; i++) /* after each key: exactly the rest */
		check_list(s, "", sorted[i], sorted + i + 1, N - i - 1, __LINE__);
	/* prefixes that end inside a name, or name a directory */
	const char *want_xa[N], *want_xa_dir[N];
	size_t nxa = 0, nxad = 0;
	for (size_t i = 0; i < N; i++) {
		if (!strncmp(sorted[i], "x/a", 3))
			want_xa[nxa++] = sorted[i];
		if (!strncmp(sorted[i], "x/a/", 4))
			want_xa_dir[nxad++] = sorted[i];
	}
	check_list(s, "x/a", NULL, want_xa, nxa, __LINE__);
	check_list(s, "x/a/", NULL, want_xa_dir, nxad, __LINE__);
	check_list(s, "x/a/", "x/a/a/x", (const char *[]){"x/a/a/y", "x/a/a0", "x/a/b", "x/a/c"},
		   4, __LINE__);
	/* `after` values that are not keys */
	check_list(s, "x/a/", "x/a/", want_xa_dir, nxad, __LINE__);
	check_list(s, "x/a/", "x/a/a", want_xa_dir, nxad, __LINE__);
	check_list(s, "x/a/", "x/a/a/", (const char *[]){"x/a/a/x", "x/a/a/y", "x/a/a0", "x/a/b",
							 "x/a/c"}, 5, __LINE__);
	check_list(s, "x/a/", "x/a/zzz", NULL, 0, __LINE__);
	check_list(s, "x/a/", "a", want_xa_dir, nxad, __LINE__);
	check_list(s, "x/a/", "z", NULL, 0, __LINE__);
	check_list(s, "nothing/here/", NULL, NULL, 0, __LINE__);
	check_list(s, "x/b", NULL, (const char *[]){"x/b"}, 1, __LINE__);

	/* temporary files of a writer (ours or JuiceFS's) are not objects */
	snprintf(path, sizeof(path), "%sx/.jfs.b.tmp.12345", root);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	check_list(s, "x/", "x/a0", (const char *[]){"x/b", "x/~"}, 2, __LINE__);

	/* sizes, and stopping early */
	struct keys k = {.stop_after = 2, .stop_rc = 1};
	CHECK_RC(sl_obj_list(s, "", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 2);
	keys_free(&k);
	sl_obj_close(s);
}

/* ---- concurrency ---- */

struct worker {
	struct sl_objstore *s;
	int id, failures;
	atomic_bool *stop;
};

#define THREADS 8
#define PER_THREAD 40

static void *put_worker(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	char key[64], data[3000], buf[3000];
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(key, sizeof(key), "conc/t%d/k%03d", w->id, i);
		size_t len = 1000 + (size_t)(i * 37 % 2000);
		fill(data, len, (unsigned)(w->id * 1000 + i));
		if (sl_obj_put(w->s, key, data, len, &err) ||
		    sl_obj_get(w->s, key, 0, buf, sizeof(buf), &err) != (int64_t)len ||
		    memcmp(buf, data, len))
			w->failures++;
		/* the same shared key from all threads as well */
		if (sl_obj_put(w->s, "conc/shared/key", data, len, &err))
			w->failures++;
	}
	return NULL;
}

#define BIG (1 << 20)

static void *atomic_writer(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	char *data = malloc(BIG);
	for (int i = 0; data && i < 30; i++) {
		memset(data, (w->id * 50 + i) & 0xff, BIG);
		if (sl_obj_put(w->s, "atomic/obj", data, BIG, &err))
			w->failures++;
	}
	free(data);
	return NULL;
}

static void *atomic_reader(void *arg)
{
	struct worker *w = arg;
	struct sl_err err = {0};
	unsigned char *buf = malloc(BIG);
	while (buf && !atomic_load(w->stop)) {
		int64_t n = sl_obj_get(w->s, "atomic/obj", 0, buf, BIG, &err);
		bool whole = n == BIG;
		for (size_t i = 1; whole && i < BIG; i++)
			whole = buf[i] == buf[0];
		if (!whole) {
			fprintf(stderr, "reader saw a partial object: n=%lld (%s)\n", (long long)n,
				err.msg);
			w->failures++;
		}
	}
	free(buf);
	return NULL;
}

static void test_concurrency(const char *tmp)
{
	char root[512];
	snprintf(root, sizeof(root), "%s/conc", tmp);
	struct sl_objstore *s = open_file(root);
	struct sl_err err = {0};
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.s = s, .id = i};
		REQUIRE(pthread_create(&th[i], NULL, put_worker, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(w[i].failures, 0);
	}
	struct keys k = {0};
	CHECK_RC(sl_obj_list(s, "conc/t", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, THREADS * PER_THREAD);
	keys_free(&k);
	/* no temporary file was left behind */
	CHECK_RC(sl_obj_list(s, "conc/shared/", NULL, collect, &k, &err), 0);
	CHECK_RC(k.n, 1);
	keys_free(&k);

	/* readers never see a partial object while writers replace it */
	char *first = calloc(1, BIG);
	REQUIRE(first != NULL);
	CHECK_RC(sl_obj_put(s, "atomic/obj", first, BIG, &err), 0);
	free(first);
	atomic_bool stop = false;
	pthread_t wt[2], rt[2];
	struct worker ww[2], rw[2];
	for (int i = 0; i < 2; i++) {
		rw[i] = (struct worker){.s = s, .id = i, .stop = &stop};
		ww[i] = (struct worker){.s = s, .id = i};
		REQUIRE(pthread_create(&rt[i], NULL, atomic_reader, &rw[i]) == 0);
		REQUIRE(pthread_create(&wt[i], NULL, atomic_writer, &ww[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(wt[i], NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(rt[i], NULL);
		CHECK_RC(ww[i].failures, 0);
		CHECK_RC(rw[i].failures, 0);
	}
	sl_obj_close(s);
}

int main(void)
{
	umask(022);
	char *tmp = tu_tempdir("objfile");
	test_core();
	test_basics(tmp);
	test_list(tmp);
	test_concurrency(tmp);
	if (tu_rm_rf(tmp) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	free(tmp);
	return tu_finish("test_object_file");
}
