/* test_vfs_galera.c - one volume used at once through three nodes of a MariaDB Galera cluster
 * (tests/env/galera.sh; SLUICE_TEST_GALERA_URL_1..3, SLUICE_TEST_GALERA_ADMIN_1), one client per
 * node: a change committed through one node is seen at once through the others (the driver's
 * causal reads), and changes racing on different nodes, which Galera certifies at commit and
 * aborts as deadlocks, are retried to the same outcome one server gives: every create lands,
 * exclusive creates of one name have one winner, directory counts add up.
 *
 * Not a ctest test (the cluster is started only by tests/galera.sh, which runs it). */
#include "volume_testutil.h"

#include <errno.h>

#define NODES 3
#define SEEN_ROUNDS 30
#define MANY_PER_NODE 60
#define RACE_NAMES 40

static const sluice_user root = {"root", (const char *const[]){"root"}, 1};
static sluice_volume *vol[NODES];

/* A change through one node, read at once through the others. */
static void test_seen_at_once(void)
{
	CHECK_RC(sluice_mkdirs(vol[0], &root, "/seen", 0755, 022), 0);
	for (int i = 0; i < SEEN_ROUNDS; i++) {
		sluice_volume *a = vol[i % NODES], *b = vol[(i + 1) % NODES],
			      *c = vol[(i + 2) % NODES];
		char f[64], g[64], text[32], got[32];
		snprintf(f, sizeof(f), "/seen/f%d", i);
		snprintf(g, sizeof(g), "/seen/g%d", i);
		snprintf(text, sizeof(text), "round %d", i);
		CHECK_RC(tu_put_text(a, &root, f, text, 0644), 0);
		sluice_stat st;
		CHECK_RC(sluice_stat_path(b, &root, f, &st), 0);
		CHECK_RC(st.length, strlen(text));
		CHECK_RC(tu_get_text(b, &root, f, got, sizeof(got)), 0);
		CHECK(strcmp(got, text) == 0);
		CHECK_RC(sluice_rename(c, &root, f, g, 0), 0);
		CHECK_RC(sluice_stat_path(a, &root, f, &st), -ENOENT);
		CHECK_RC(sluice_stat_path(a, &root, g, &st), 0);
		CHECK_RC(sluice_delete(b, &root, g, 0), 0);
		CHECK_RC(sluice_stat_path(c, &root, g, &st), -ENOENT);
	}
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(vol[2], &root, "/seen", &sum), 0);
	CHECK_RC(sum.files, 0);
}

struct racer {
	int node;
	pthread_barrier_t *start;
	int created;  /* files this racer's creates made */
	int refused;  /* exclusive creates that found the name taken */
	int failed;   /* anything else: must stay 0 */
};

/* Every node creates its own files in one directory: each commit changes the directory's row, so
 * commits on different nodes conflict and are retried. */
static void *create_many(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->start);
	for (int j = 0; j < MANY_PER_NODE; j++) {
		char p[64];
		snprintf(p, sizeof(p), "/many/n%d-%d", r->node, j);
		int rc = tu_put_text(vol[r->node], &root, p, "x", 0644);
		if (rc) {
			fprintf(stderr, "create %s through node %d: %d %s\n", p, r->node + 1, rc,
				sluice_last_error(vol[r->node]));
			r->failed++;
		} else {
			r->created++;
		}
	}
	return NULL;
}

/* Every node creates the same names exclusively: one winner a name, whatever node it is on. */
static void *create_race(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->start);
	for (int j = 0; j < RACE_NAMES; j++) {
		char p[64];
		snprintf(p, sizeof(p), "/race/name%d", j);
		sluice_file *f;
		int rc = sluice_open(vol[r->node], &root, p,
				     SLUICE_O_CREATE | SLUICE_O_EXCL | SLUICE_O_WRITE, 0644, 0, &f);
		if (rc == 0) {
			char who[8];
			snprintf(who, sizeof(who), "%d", r->node);
			if (sluice_write(f, who, strlen(who)) != (ssize_t)strlen(who))
				r->failed++;
			if (sluice_close(f))
				r->failed++;
			r->created++;
		} else if (rc == -EEXIST) {
			r->refused++;
		} else {
			fprintf(stderr, "exclusive create %s through node %d: %d %s\n", p, r->node + 1,
				rc, sluice_last_error(vol[r->node]));
			r->failed++;
		}
	}
	return NULL;
}

static void race(void *(*fn)(void *), struct racer *r)
{
	pthread_barrier_t start;
	REQUIRE(pthread_barrier_init(&start, NULL, NODES) == 0);
	pthread_t t[NODES];
	for (int i = 0; i < NODES; i++) {
		r[i] = (struct racer){.node = i, .start = &start};
		REQUIRE(pthread_create(&t[i], NULL, fn, &r[i]) == 0);
	}
	for (int i = 0; i < NODES; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
}

static long count_entries(sluice_volume *v, const char *dir)
{
	sluice_dir *d;
	if (sluice_opendir(v, &root, dir, &d))
		return -1;
	long n = 0;
	sluice_dirent ents[64];
	int got;
	while ((got = sluice_readdir(d, ents, 64)) > 0)
		n += got;
	sluice_closedir(d);
	return got < 0 ? got : n;
}

static void test_racing_creates(void)
{
	CHECK_RC(sluice_mkdirs(vol[1], &root, "/many", 0755, 022), 0);
	struct racer r[NODES];
	race(create_many, r);
	for (int i = 0; i < NODES; i++) {
		CHECK_RC(r[i].failed, 0);
		CHECK_RC(r[i].created, MANY_PER_NODE);
	}
	for (int i = 0; i < NODES; i++) {
		CHECK_RC(count_entries(vol[i], "/many"), NODES * MANY_PER_NODE);
		sluice_summary sum;
		CHECK_RC(sluice_summary_path(vol[i], &root, "/many", &sum), 0);
		CHECK_RC(sum.files, NODES * MANY_PER_NODE);
		CHECK_RC(sum.length, NODES * MANY_PER_NODE);
	}
}

static void test_exclusive_race(void)
{
	CHECK_RC(sluice_mkdirs(vol[2], &root, "/race", 0755, 022), 0);
	struct racer r[NODES];
	race(create_race, r);
	int created = 0;
	for (int i = 0; i < NODES; i++) {
		CHECK_RC(r[i].failed, 0);
		CHECK_RC(r[i].created + r[i].refused, RACE_NAMES);
		created += r[i].created;
		printf("node %d won %d of %d names\n", i + 1, r[i].created, RACE_NAMES);
	}
	CHECK_RC(created, RACE_NAMES);
	/* Each name holds what its one winner wrote, read through every node. */
	for (int j = 0; j < RACE_NAMES; j++) {
		char p[64], first[8] = "", got[8];
		snprintf(p, sizeof(p), "/race/name%d", j);
		for (int i = 0; i < NODES; i++) {
			CHECK_RC(tu_get_text(vol[i], &root, p, got, sizeof(got)), 0);
			if (i == 0)
				memcpy(first, got, sizeof(first));
			CHECK(strcmp(got, first) == 0);
		}
		CHECK(first[0] >= '0' && first[0] < '0' + NODES);
	}
	CHECK_RC(count_entries(vol[0], "/race"), RACE_NAMES);
}

int main(void)
{
	const char *url[NODES] = {tu_service_env("SLUICE_TEST_GALERA_URL_1"),
				  tu_service_env("SLUICE_TEST_GALERA_URL_2"),
				  tu_service_env("SLUICE_TEST_GALERA_URL_3")};
	const char *admin = tu_service_env("SLUICE_TEST_GALERA_ADMIN_1");
	char dbname[64], cmd[2048], db_url[NODES][1024];
	snprintf(dbname, sizeof(dbname), "galera_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s -e 'CREATE DATABASE %s'", admin, dbname);
	REQUIRE(system(cmd) == 0);
	for (int i = 0; i < NODES; i++) {
		const char *slash = strrchr(url[i], '/');
		REQUIRE(slash != NULL);
		snprintf(db_url[i], sizeof(db_url[i]), "%.*s/%s", (int)(slash - url[i]), url[i],
			 dbname);
	}
	char *dir = tu_tempdir("galera");
	char bucket[600];
	snprintf(bucket, sizeof(bucket), "%s/objects", dir);
	tu_format(&(sluice_format_options){.meta_url = db_url[0], .name = "galeravol",
					   .storage = "file", .bucket = bucket, .trash_days = -1});
	for (int i = 0; i < NODES; i++) {
		sluice_kv conf[] = {{"meta", db_url[i]}};
		vol[i] = tu_open(conf, 1);
	}

	test_seen_at_once();
	test_racing_creates();
	test_exclusive_race();

	for (int i = 0; i < NODES; i++)
		CHECK_RC(sluice_shutdown(vol[i]), 0);
	if (tu_failures) {
		fprintf(stderr, "database %s kept for a look\n", dbname);
	} else {
		snprintf(cmd, sizeof(cmd), "%s -e 'DROP DATABASE %s'", admin, dbname);
		CHECK(system(cmd) == 0);
	}
	CHECK(tu_rm_rf(dir) == 0);
	free(dir);
	return tu_finish("test_vfs_galera");
}
