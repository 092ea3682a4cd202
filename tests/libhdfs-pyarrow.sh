#!/usr/bin/env bash
# libhdfs-pyarrow.sh [BUILD] - pyarrow's HadoopFileSystem on Sluice through libsluice-hdfs.so
# (BUILD/lib/libhdfs.so), with no JVM: a Parquet dataset written and read on a Sluice volume
# (SQLite + local files; and MariaDB + S3 when make test's services are set, SLUICE_TEST_MYSQL_URL
# and SLUICE_TEST_S3_*) and on local disk must be the same (tests/libhdfs_pyarrow.py).
# pyarrow is installed once into a virtualenv under the tools directory (keyed by its version).
# pyarrow dlopens $JAVA_HOME/lib/server/libjvm.so before libhdfs and never calls into it; an empty
# stub library of that name, built here, stands in for it, which shows that no JVM is needed.
set -euo pipefail
# `|| true` in this script marks best-effort cleanup and reporting only (stopping processes that
# may be gone already, dropping a scratch database, showing a log, counting zero matches); no
# check is ever made to pass by it.
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
VENV=$(bash tests/env/pyvenv.sh pyarrow "${SLUICE_PYARROW_VERSION:-26.0.1}")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pyarrow-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/conf" "$WORK/local" "$WORK/jvm/lib/server"
echo 'void sluice_no_jvm(void) {}' | cc -x c -shared -o "$WORK/jvm/lib/server/libjvm.so" -
META="sqlite3://$WORK/meta.db"
"$BUILD/bin/sluice" format "$META" pyvol --storage file --bucket "$WORK/data" --trash-days 0 \
  >/dev/null
# sluice.VOLUME.meta for each volume; sluice.default.volume is the one the run is for
site() {
  cat <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>sluice.default.volume</name><value>$1</value></property>
  <property><name>sluice.pyvol.meta</name><value>$META</value></property>
  <property><name>sluice.pys3vol.meta</name><value>${S3META:-}</value></property>
</configuration>
XML
}
run() {
  rm -rf "$WORK/local" && mkdir "$WORK/local"
  site "$1" >"$WORK/conf/core-site.xml"
  HADOOP_CONF_DIR=$WORK/conf ARROW_LIBHDFS_DIR=$BUILD/lib JAVA_HOME=$WORK/jvm \
    "$VENV/bin/python" tests/libhdfs_pyarrow.py "$1" "$WORK/local"
}
run pyvol

if [ -n "${SLUICE_TEST_MYSQL_URL:-}" ]; then
  db=pyarrow_$$
  $SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE $db"
  trap '$SLUICE_TEST_MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $db" || true; rm -rf "$WORK"' EXIT
  S3META="${SLUICE_TEST_MYSQL_URL%/*}/$db"
  "$BUILD/bin/sluice" format "$S3META" pys3vol --storage minio --trash-days 0 \
    --bucket "$SLUICE_TEST_S3_ENDPOINT/pyarrow-$$" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
    --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null
  run pys3vol
fi
