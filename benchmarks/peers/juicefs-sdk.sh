#!/usr/bin/env bash
# juicefs-sdk.sh [VERSION] - prints the path of a JuiceFS Hadoop SDK jar (io.juicefs.JuiceFileSystem,
# scheme jfs://) for the peer benchmarks, building it once from the Go module's sdk/java.
#
#   JAR=$(benchmarks/peers/juicefs-sdk.sh) || echo "JuiceFS SDK: not obtainable: ..."
#   benchmarks/peers/juicefs-sdk.sh --cached [VERSION]   (status 0: built already, nothing to do)
#
# The jar is not on Maven Central, so it is built from the Go module github.com/juicedata/juicefs
# (VERSION, default 1.4.1) as served by the Go module proxy: libjfs (Go, cgo, -buildmode=c-shared)
# from sdk/java/libjfs, gzipped where the SDK's pom takes it as a resource; then Maven packages the
# shaded jar against Hadoop $JFS_HADOOP_VERSION (default 3.3.6), skipping tests, javadoc, sources
# and the git plugin. Cached as ${SLUICE_TOOLS_DIR:-~/.cache/sluice-tools}/juicefs-sdk-VERSION-
# s3-mysql-sqlite/juicefs-hadoop-VERSION.jar (BUILD-INFO beside it; the name says which backends
# are built in); a first build takes about 5 minutes.
# Logs go to stderr; on failure the last stderr line is "JuiceFS SDK: not obtainable: REASON" and
# the exit status is 1. Needs Go >= the module's go.mod (1.25 for 1.4.1), gcc, a JDK, mvn.
# At run time the jar extracts libjfs to /tmp/libjfs-<arch>.<commit>.so (the SDK's own loader).
# Default VERSION 1.4.1: the proxy refuses v1.4.2 (403), and 1.3.1 cannot open a MariaDB 10.x volume
# (it sets only `transaction_isolation`, which MariaDB names `tx_isolation` before 11.1).
set -euo pipefail
# `|| true` below marks best-effort steps of failure reporting and cleanup; they are not checks.

CHECK_ONLY=no
[ "${1:-}" = --cached ] && { CHECK_ONLY=yes; shift; }
VERSION=${1:-1.4.1}
VERSION=${VERSION#v}
MODULE=github.com/juicedata/juicefs
HADOOP_VERSION=${JFS_HADOOP_VERSION:-3.3.6}
UNUSED_BACKENDS=nogateway,nowebdav,nocos,nobos,nohdfs,noibmcos,noobs,nooss,noqingstor,nosftp,noswift,noazure,nogs,noufile,nob2,nonfs,nodragonfly,nopg,notikv,nobadger,noetcd,noredis,nocifs,nostorj,noqiniu,notos,noks3
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
OUT=$TOOLS/juicefs-sdk-$VERSION-s3-mysql-sqlite
JAR=$OUT/juicefs-hadoop-$VERSION.jar

log() { echo "juicefs-sdk.sh: $*" >&2; }
fail() { echo "JuiceFS SDK: not obtainable: $*" >&2; exit 1; }

if [ -f "$OUT/.complete" ] && [ -s "$JAR" ]; then
  [ $CHECK_ONLY = yes ] || echo "$JAR"
  exit 0
fi
[ $CHECK_ONLY = no ] || exit 1

# The base image keeps its Go toolchain outside PATH for non-login shells.
command -v go >/dev/null 2>&1 || [ ! -x /usr/local/go/bin/go ] || PATH=$PATH:/usr/local/go/bin
for tool in go gcc mvn java gzip python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run tests/env/deps.sh)"
done

mkdir -p "$TOOLS"
exec 9>"$OUT.lock"
flock 9
if [ -f "$OUT/.complete" ] && [ -s "$JAR" ]; then # another run built it while we waited
  echo "$JAR"
  exit 0
fi

WORK=$(mktemp -d "$TOOLS/.juicefs-sdk-build.XXXXXX")
BUILD_LOG=$WORK.log
cleanup() { rm -rf "$WORK" "$BUILD_LOG" || true; }
trap cleanup EXIT
# A step's output goes to the build log, shown only when the step fails.
step() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  if ! "$@" >"$BUILD_LOG" 2>&1; then
    # without Maven's colour codes, and ending in a newline, so the reason stays a line of its own
    tail -n 40 "$BUILD_LOG" | sed 's/\x1b\[[0-9;]*m//g' | awk 1 >&2 || true
    fail "$what failed"
  fi
}
START=$SECONDS

# 1. The module source, from the Go module proxy (read-only in the module cache: copy it).
log "downloading $MODULE@v$VERSION from the Go module proxy"
if ! go mod download -json "$MODULE@v$VERSION" >"$WORK/mod.json" 2>"$BUILD_LOG"; then
  # The reason without the URL it came from: this line ends up in benchmark reports.
  reason=$( (python3 -c 'import json,sys; print(json.load(sys.stdin).get("Error",""))' \
    <"$WORK/mod.json" 2>/dev/null || true; cat "$BUILD_LOG") | sed '/^[[:space:]]*$/d' | head -n 1 |
    sed -E 's#.*: ##; s#[a-z]+://[^ ]*##g')
  fail "the Go module proxy did not give $MODULE@v$VERSION (${reason:-no reason given})"
fi
read -r SRC COMMIT < <(python3 -c 'import json,sys
m = json.load(sys.stdin)
print(m.get("Dir", ""), m.get("Origin", {}).get("Hash", "unknown"))' <"$WORK/mod.json")
[ -f "$SRC/sdk/java/pom.xml" ] && [ -d "$SRC/sdk/java/libjfs" ] ||
  fail "$MODULE@v$VERSION has no sdk/java (pom.xml and libjfs)"
cp -R "$SRC" "$WORK/src"
chmod -R u+w "$WORK/src"
SDK=$WORK/src/sdk/java
SHORT=${COMMIT:0:7}

# 2. libjfs, named and placed as the SDK's loader expects (resource libjfs-<arch>.so.gz).
case $(uname -m) in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) fail "no libjfs for architecture $(uname -m)" ;;
esac
log "building libjfs-$ARCH.so (Go, c-shared; several minutes the first time)"
LDFLAGS="-s -w -X $MODULE/pkg/version.revision=$SHORT"
# nogspt: no process-title rewriting, which inside a JVM would scribble over its argv (their own
# Makefile sets it from 1.4 on; older versions have no such tag and ignore it). The no<backend>
# tags leave out the object stores and metadata engines the benchmarks do not use (their
# Makefile's juicefs.lite does the same): S3 (MinIO), MySQL and SQLite stay. That halves what
# a fresh machine compiles and downloads.
GO_TAGS=nogspt,$UNUSED_BACKENDS
step "go build of libjfs" \
  env -C "$SDK/libjfs" CGO_ENABLED=1 go build -tags "$GO_TAGS" -buildmode=c-shared -trimpath \
  -ldflags="$LDFLAGS" -o "libjfs-$ARCH.so" .
mkdir -p "$SDK/libjfs/target"
gzip -c "$SDK/libjfs/libjfs-$ARCH.so" >"$SDK/libjfs/target/libjfs-$ARCH.so.gz"

# 3. The jar. The git-commit-id plugin needs a git checkout, which a module zip is not: write the
# file it would have made (the loader names the extracted libjfs after git.commit.id.abbrev).
printf 'git.commit.id.abbrev=%s\ngit.commit.id.full=%s\ngit.build.version=%s\n' \
  "$SHORT" "$COMMIT" "$VERSION" >"$SDK/src/main/resources/juicefs-ver.properties"
log "packaging the jar with Maven against Hadoop $HADOOP_VERSION"
step "mvn package of sdk/java" \
  mvn -B -ntp -f "$SDK/pom.xml" package \
  -Dhadoop.version="$HADOOP_VERSION" \
  -Dmaven.test.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
  -Dmaven.gitcommitid.skip=true -Djacoco.skip=true -Dgpg.skip=true
BUILT=$SDK/target/juicefs-hadoop-$VERSION.jar
[ -s "$BUILT" ] || fail "mvn package made no $BUILT"
python3 - "$BUILT" "libjfs-$ARCH.so.gz" <<'EOF' || fail "the jar lacks io/juicefs/JuiceFileSystem.class or libjfs"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
sys.exit(0 if {"io/juicefs/JuiceFileSystem.class", sys.argv[2]} <= names else 1)
EOF

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$BUILT" "$JAR"
{
  echo "module $MODULE@v$VERSION commit $COMMIT"
  echo "hadoop $HADOOP_VERSION"
  echo "go $(go env GOVERSION), tags nogspt,$UNUSED_BACKENDS"
  echo "built $(date -u '+%F %T') in $((SECONDS - START)) s"
} >"$OUT/BUILD-INFO"
touch "$OUT/.complete"
log "built in $((SECONDS - START)) s"
echo "$JAR"
