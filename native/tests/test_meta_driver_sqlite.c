/*
 * test_meta_driver_sqlite.c - the SQLite driver through the driver table: the shared driver
 * conformance checks (driver_conformance.h) on a database file in a private temp directory.
 */
#include <unistd.h>

#include "driver_conformance.h"

int main(void)
{
	char *dir = tu_tempdir("driver-sqlite");
	char url[1024];
	snprintf(url, sizeof(url), "sqlite3://%s/conformance.db", dir);
	struct sl_sql_url u;
	struct sl_err err = {0};
	memset(&u, 0, sizeof(u));
	int rc = sl_sql_url_parse(url, &u, &err);
	if (rc)
		fprintf(stderr, "%s: %s\n", url, err.msg);
	REQUIRE(rc == 0);

	/* SQLite locks the whole database for a writer: write transactions queue up instead of
	 * deadlocking, so the row-lock deadlock check does not apply. */
	struct dc_ctx t = {.d = &sl_sqlite_driver, .url = &u, .row_locks = false};
	dc_run_all(&t);

	sl_sql_url_free(&u);
	char path[1100];
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s/conformance.db%s", dir, suffixes[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
	return tu_finish("test_meta_driver_sqlite");
}
