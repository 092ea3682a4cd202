#!/usr/bin/env bash
# apache-libhdfs.sh - prints the directory of Apache Hadoop's libhdfs.so (the JNI one, which
# starts a JVM and goes through Hadoop's Java FileSystem), for benchmarks/libhdfs.sh.
#
#   DIR=$(benchmarks/peers/apache-libhdfs.sh) || echo "Apache libhdfs: not obtainable: ..."
#
# No package registry here publishes libhdfs as a binary, but the source distribution of pydoop
# 2.0.0 on PyPI carries Apache libhdfs's C sources (src/libhdfs: hdfs.c, jni_helper.c, exception.c,
# common/htable.c, os/posix/*.c, include/hdfs/hdfs.h; Hadoop 2.x-era, without the 3.x additions
# hdfsPreadFully, the stream builder and hdfsGetLastExceptionRootCause, which pyarrow does not
# need). pip fetches the sdist through its configured index; preparing its metadata fails (pydoop's
# setup.py wants a Hadoop installation), but with --no-clean the unpacked sources stay in pip's
# temporary directory, which is all we need. gcc compiles them against the JDK's JNI headers and
# links libjvm ($JAVA_HOME, default the Debian JDK 17).
# Cached as ${SLUICE_TOOLS_DIR:-~/.cache/sluice-tools}/apache-libhdfs-pydoop-2.0.0/ (libhdfs.so,
# hdfs.h, BUILD-INFO), built in a temporary directory and renamed into place.
# At run time it needs CLASSPATH = the Hadoop client jars and the FileSystem's jar (expanded, no
# wildcards), LD_LIBRARY_PATH with libjvm's directory; JVM options come from LIBHDFS_OPTS.
# Logs go to stderr; on failure the last stderr line is "Apache libhdfs: not obtainable: REASON"
# and the exit status is 1.
set -euo pipefail
# `|| true` in this script marks best-effort cleanup and reporting only (stopping processes that
# may be gone already, dropping a scratch database, showing a log, counting zero matches); no
# check is ever made to pass by it.

PYDOOP=2.0.0
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
OUT=$TOOLS/apache-libhdfs-pydoop-$PYDOOP

log() { echo "apache-libhdfs.sh: $*" >&2; }
fail() { echo "Apache libhdfs: not obtainable: $*" >&2; exit 1; }

if [ -f "$OUT/.complete" ] && [ -s "$OUT/libhdfs.so" ]; then
  echo "$OUT"
  exit 0
fi
for tool in gcc python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run tests/env/deps.sh)"
done
[ -f "$JAVA_HOME/include/jni.h" ] || fail "no JNI headers in $JAVA_HOME/include (a JDK is needed)"
LIBJVM=$(find -L "$JAVA_HOME/lib" -name libjvm.so -path '*server*' 2>/dev/null | head -n 1)
[ -n "$LIBJVM" ] || fail "no lib/server/libjvm.so in $JAVA_HOME"

mkdir -p "$TOOLS"
exec 9>"$OUT.lock"
flock 9
if [ -f "$OUT/.complete" ] && [ -s "$OUT/libhdfs.so" ]; then # built by another run meanwhile
  echo "$OUT"
  exit 0
fi

WORK=$(mktemp -d "$TOOLS/.apache-libhdfs-build.XXXXXX")
trap 'rm -rf "$WORK" || true' EXIT
START=$SECONDS

# 1. The sdist, unpacked by pip into a pip-download-* directory under our TMPDIR.
log "fetching the pydoop $PYDOOP source distribution with pip"
TMPDIR=$WORK python3 -m pip download --no-deps --no-clean --no-binary :all: \
  "pydoop==$PYDOOP" -d "$WORK/dl" >"$WORK/pip.log" 2>&1 || true # metadata fails, see above
SRC=$(find "$WORK" -maxdepth 4 -type d -path '*/pip-download-*/pydoop*/src/libhdfs' | head -n 1)
if [ -z "$SRC" ] || [ ! -f "$SRC/hdfs.c" ]; then
  tail -n 20 "$WORK/pip.log" >&2 || true
  fail "pip did not unpack the pydoop $PYDOOP sdist (no src/libhdfs/hdfs.c)"
fi

# 2. Compile.
log "compiling libhdfs.so from $SRC"
mkdir -p "$WORK/out"
if ! (cd "$SRC" && gcc -O2 -g -fPIC -shared -o "$WORK/out/libhdfs.so" \
      -I. -Iinclude -Iinclude/hdfs -Ios -Ios/posix -Icommon \
      -I"$JAVA_HOME/include" -I"$JAVA_HOME/include/linux" \
      hdfs.c jni_helper.c exception.c common/htable.c os/posix/*.c \
      -L"$(dirname "$LIBJVM")" -ljvm -lpthread -Wl,--no-undefined) >"$WORK/gcc.log" 2>&1; then
  tail -n 20 "$WORK/gcc.log" >&2 || true
  fail "gcc could not compile pydoop $PYDOOP's src/libhdfs"
fi
cp "$SRC/include/hdfs/hdfs.h" "$WORK/out/"
{
  echo "Apache libhdfs (JNI) C sources from the pydoop $PYDOOP sdist (src/libhdfs)"
  echo "compiled with $(gcc --version | head -n 1) against $JAVA_HOME"
  echo "built $(date -u '+%F %T') in $((SECONDS - START)) s"
} >"$WORK/out/BUILD-INFO"
touch "$WORK/out/.complete"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
log "built in $((SECONDS - START)) s"
echo "$OUT"
