#!/usr/bin/env bash
# libhdfs-pyarrow.sh [BUILD] - pyarrow's HadoopFileSystem on Sluice through libsluice-hdfs.so
# (BUILD/lib/libhdfs.so), with no JVM: a Parquet dataset written and read on a Sluice volume
# (SQLite + local files) and on local disk must be the same (tests/libhdfs_pyarrow.py).
# pyarrow is installed once into a virtualenv under the tools directory (keyed by its version).
# pyarrow dlopens $JAVA_HOME/lib/server/libjvm.so before libhdfs and never calls into it; an empty
# stub library of that name, built here, stands in for it, which shows that no JVM is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
VERSION=${SLUICE_PYARROW_VERSION:-26.0.1}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
VENV=$TOOLS/pyarrow-$VERSION
if [ ! -f "$VENV/.complete" ]; then
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pyarrow==$VERSION" || { rm -rf "$VENV"; exit 1; }
  touch "$VENV/.complete"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pyarrow-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/conf" "$WORK/local" "$WORK/jvm/lib/server"
echo 'void sluice_no_jvm(void) {}' | cc -x c -shared -o "$WORK/jvm/lib/server/libjvm.so" -
META="sqlite3://$WORK/meta.db"
"$BUILD/bin/sluice" format "$META" pyvol --storage file --bucket "$WORK/data" --trash-days 0 \
  >/dev/null
cat >"$WORK/conf/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>sluice.default.volume</name><value>pyvol</value></property>
  <property><name>sluice.pyvol.meta</name><value>$META</value></property>
</configuration>
XML
HADOOP_CONF_DIR=$WORK/conf ARROW_LIBHDFS_DIR=$BUILD/lib JAVA_HOME=$WORK/jvm \
  "$VENV/bin/python" tests/libhdfs_pyarrow.py pyvol "$WORK/local"
