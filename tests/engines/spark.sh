#!/usr/bin/env bash
# spark.sh [BUILD] - Spark (PySpark from the registry, local mode) on Sluice as a user sets it up:
# the Sluice jar and the volumes in a spark-defaults.conf (the way docs/spark.md recommends), the
# jobs of tests/engines/spark_job.py on a volume on SQLite + local files and, when make test's
# services are set (SLUICE_TEST_MYSQL_URL, SLUICE_TEST_S3_*), on one on MariaDB + S3, each
# compared with the same jobs on file://. Writes the TAP report target/engines/spark.tap; fails
# if any check failed. PySpark is installed once into a virtualenv under the tools directory
# (tests/env/pyvenv.sh, keyed by its version); it bundles Spark's and Hadoop's (3.3.4, shaded)
# jars.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
VERSION=${SLUICE_PYSPARK_VERSION:-3.5.9}
VENV=$(bash tests/env/pyvenv.sh pyspark "$VERSION")

JAR=$(bash tests/env/sluice-jar.sh "$BUILD")

source "$ROOT/tests/env/engine-step.sh"
engine_step spark

engine_volumes spark sparkvol sparks3vol

# spark-defaults.conf as docs/spark.md shows it, plus the test's sizing: local mode with two
# threads and two attempts per task (local[2,2]: a task that fails once is retried), few shuffle
# partitions, no UI.
defaults() {
  cat <<CONF
spark.master                                     local[2,2]
spark.driver.memory                              2g
spark.ui.enabled                                 false
spark.ui.showConsoleProgress                     false
spark.sql.shuffle.partitions                     4
spark.jars                                       $JAR
spark.hadoop.fs.sluice.impl                      io.sluice.hadoop.SluiceFileSystem
spark.hadoop.fs.AbstractFileSystem.sluice.impl   io.sluice.hadoop.Sluice
spark.hadoop.sluice.sparkvol.meta                $META
spark.hadoop.sluice.sparks3vol.meta              $S3META
spark.sql.warehouse.dir                          sluice://$1/warehouse
spark.eventLog.enabled                           true
spark.eventLog.dir                               sluice://$1/spark-events
CONF
}
run() {
  local vol=$1 conf=$WORK/conf-$1  # $2: its meta URL
  mkdir -p "$conf" "$WORK/local-$vol"
  # Spark wants the event log directory to exist, as on HDFS
  "$BUILD/bin/sluice" mkdir "$2" /spark-events
  defaults "$vol" >"$conf/spark-defaults.conf"
  # Spark's log: warnings and errors, into the run's log file
  printf '%s\n' 'rootLogger.level = warn' 'rootLogger.appenderRef.stderr.ref = console' \
    'appender.console.type = Console' 'appender.console.name = console' \
    'appender.console.target = SYSTEM_ERR' 'appender.console.layout.type = PatternLayout' \
    'appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n' >"$conf/log4j2.properties"
  echo "-- Spark $VERSION on $vol"
  if SPARK_CONF_DIR=$conf PYSPARK_PYTHON=$VENV/bin/python SPARK_LOCAL_IP=127.0.0.1 \
    "$VENV/bin/python" tests/engines/spark_job.py "$vol" "$WORK/local-$vol" "$TAP.lines" \
    2>"$REPORT_DIR/spark-$vol.log"; then
    return 0
  fi
  echo "   the run on $vol failed:"
  if ! grep '^FAILED' "$REPORT_DIR/spark-$vol.log" | sed 's/^/   /'; then
    echo "not ok - $vol: spark_job.py ran to its end (it stopped on an error)" >>"$TAP.lines"
    echo "   spark_job.py stopped on an error"
  fi
  echo "   the end of its log (all of it: ${REPORT_DIR#"$ROOT"/}/spark-$vol.log):"
  grep -v -e '^\s*at ' -e '^\s*File "' "$REPORT_DIR/spark-$vol.log" | tail -25 | sed 's/^/   | /'
  return 1
}
# The other way of docs/configuration.md ("Spark"): the jar on the JVM class path, no fs.* lines;
# a short job (tests/engines/spark_classpath_job.py). Spark must not fall back from FileContext.
run_classpath() {
  local conf=$WORK/conf-classpath log=$REPORT_DIR/spark-classpath.log
  mkdir -p "$conf"
  cat >"$conf/spark-defaults.conf" <<CONF
spark.master                         local[2]
spark.driver.memory                  1g
spark.ui.enabled                     false
spark.ui.showConsoleProgress         false
spark.sql.shuffle.partitions         4
spark.driver.extraClassPath          $JAR
spark.executor.extraClassPath        $JAR
spark.hadoop.sluice.sparkvol.meta    $META
CONF
  cp "$WORK/conf-sparkvol/log4j2.properties" "$conf/"
  echo "-- Spark $VERSION on sparkvol, the jar on the class path"
  local ok=0
  SPARK_CONF_DIR=$conf PYSPARK_PYTHON=$VENV/bin/python SPARK_LOCAL_IP=127.0.0.1 \
    "$VENV/bin/python" tests/engines/spark_classpath_job.py sparkvol "$TAP.lines" 2>"$log" || ok=1
  if ((ok)) && ! grep -q '^FAILED' "$log"; then
    echo "not ok - sparkvol (jar on the class path): spark_classpath_job.py ran to its end" \
      >>"$TAP.lines"
  fi
  if grep -q 'Could not use FileContext' "$log"; then
    echo "not ok - sparkvol (jar on the class path): Spark kept its checkpoints with FileContext" \
      >>"$TAP.lines"
    ok=1
  else
    echo "ok - sparkvol (jar on the class path): Spark kept its checkpoints with FileContext" \
      >>"$TAP.lines"
  fi
  if ((ok)); then
    echo "   the run failed:"
    grep -e '^FAILED' -e 'Could not use FileContext' "$log" | cut -c1-300 | sed 's/^/   /' ||
      [ $? -eq 1 ] # no such line: the end of the log below says more
    echo "   the end of its log (all of it: ${log#"$ROOT"/}):"
    grep -v -e '^\s*at ' -e '^\s*File "' "$log" | tail -25 | sed 's/^/   | /'
  fi
  return $ok
}
rc=0
run sparkvol "$META" || rc=1
run_classpath || rc=1
if [ -n "$S3META" ]; then
  run sparks3vol "$S3META" || rc=1
fi

engine_report $rc
