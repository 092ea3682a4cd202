# engine-volumes.sh - sourced by the engine steps (tests/engines/*.sh): the two volumes each runs
# on. `engine_volumes NAME VOL S3VOL` formats VOL on SQLite + files in $WORK (META) and, when make
# test's services are there, S3VOL on a MariaDB database of its own + the S3 server (S3META, empty
# otherwise). `engine_volumes_drop` drops that database; the step's cleanup calls it.
# `|| true` here marks best-effort cleanup only (the database may be gone already).
ENGINE_DB=""

engine_volumes() {
  local name=$1 vol=$2 s3vol=$3
  META="sqlite3://$WORK/meta.db"
  "$BUILD/bin/sluice" format "$META" "$vol" --storage file --bucket "$WORK/data" \
    --trash-days 0 >/dev/null
  S3META=""
  if [ -n "${SLUICE_TEST_MYSQL_URL:-}" ]; then
    ENGINE_DB=${name}_$$
    $SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE $ENGINE_DB"
    S3META="${SLUICE_TEST_MYSQL_URL%/*}/$ENGINE_DB"
    "$BUILD/bin/sluice" format "$S3META" "$s3vol" --storage minio --trash-days 0 \
      --bucket "$SLUICE_TEST_S3_ENDPOINT/$name-$$" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
      --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null
  fi
}

engine_volumes_drop() {
  if [ -n "$ENGINE_DB" ]; then
    # cleanup after the step's result is known: a failure here must not change it
    $SLUICE_TEST_MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $ENGINE_DB" || true
  fi
}
