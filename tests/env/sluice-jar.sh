#!/usr/bin/env bash
# sluice-jar.sh [BUILD] - the Sluice jar as users get it: packages the work tree's Java layer with
# BUILD's native library and prints the jar's path ($SLUICE_JAR instead, when set). Packaging only
# (-DskipTests): make test runs the Java tests in a step of its own before the steps that use the
# jar. Maven's output shows only when it fails.
set -euo pipefail
if [[ -n ${SLUICE_JAR:-} ]]; then
  echo "$SLUICE_JAR"
  exit 0
fi
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/sluice-jar.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! mvn -B -q -ntp -DskipTests package -Dsluice.build.dir="$BUILD" >"$log" 2>&1; then
  cat "$log" >&2
  echo "sluice-jar.sh: packaging the Sluice jar failed" >&2
  exit 1
fi
ls "$ROOT"/target/sluice-hadoop-*.jar | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | head -1
