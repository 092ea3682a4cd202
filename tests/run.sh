#!/usr/bin/env bash
# run.sh - `make test`: starts MariaDB, an S3 server (MinIO) and an MIT KDC on loopback in a private
# temporary directory, runs the C tests (normal and ASan/UBSan builds), the Java tests (JNI bridge,
# FileSystem, Hadoop's contract suites, the jar on older and newer Hadoop versions), the metadata
# tests on a MariaDB Galera cluster, Spark's jobs, HBase and Hive (tests/engines/) and the
# interoperability tests with the real JuiceFS client, and stops everything, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}

source tests/env/services.sh test
SLUICE_JUICEFS=$(tests/env/juicefs.sh 1.4.2)
SLUICE_JUICEFS_13=$(tests/env/juicefs.sh 1.3.1)
export SLUICE_JUICEFS SLUICE_JUICEFS_13 SLUICE_TEST_REQUIRE_SERVICES=1
mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=()
run_step() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# Two at a time: most of the tests wait on the database, the object store, timers and child
# processes rather than the CPU (about half the time of one at a time on 2 cores).
run_step "C tests (release build)" ctest --test-dir "$BUILD" --parallel 2 --output-on-failure
run_step "C tests (ASan+UBSan build)" ctest --test-dir "$ASAN_BUILD" --parallel 2 --output-on-failure
run_step "Java on sqlite3+file: JNI bridge, FileSystem, Hadoop suites" \
  mvn -B -ntp test -Dsluice.build.dir="$ROOT/$BUILD"
run_step "Java on the real jars of Hadoop 2.10.2, 3.3.1, 3.3.4 (shaded), 3.3.6, 3.4.1, Java 11-25: FsShell, FileSystem class" \
  env BUILD="$BUILD" bash tests/hadoop-compat.sh
# The Hadoop suites once more on MariaDB + S3, on a volume of their own, with the disk cache and
# hflush staging on.
# Tests whose clients die get a volume of their own (SluiceTestVolume.configureScratch).
format_mysql_s3_volume() {
  $SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE $1" &&
    "$ROOT/$BUILD/bin/sluice" format "${SLUICE_TEST_MYSQL_URL%/*}/$1" testvol --storage minio \
      --trash-days 0 --bucket "$SLUICE_TEST_S3_ENDPOINT/$1" \
      --access-key "$SLUICE_TEST_S3_ACCESS_KEY" --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null
}
contract_on_mysql_s3() {
  format_mysql_s3_volume contract && format_mysql_s3_volume contractscratch &&
    SLUICE_TEST_META="${SLUICE_TEST_MYSQL_URL%/*}/contract" \
    SLUICE_TEST_SCRATCH_META="${SLUICE_TEST_MYSQL_URL%/*}/contractscratch" \
    SLUICE_TEST_CACHE_DIR=$WORK/contract-cache mvn -B -ntp -o surefire:test -Dsluice.build.dir="$ROOT/$BUILD" \
      -Dtest='TestSluiceContract*,TestSluiceFileContext*,TestSluiceAbstractFileSystem,TestSluiceFileSystemContract,TestSluiceFSMainOperations,TestSluiceConcurrencyAndUsers,TestSluiceDurability,TestSluiceLibhdfsInterop,TestSluiceLeaseRecovery,TestSluiceFileChecksum,TestSluiceExitWithOpenVolume'
}
run_step "Java on MariaDB+S3: contract, FileContext and FileSystem suites" contract_on_mysql_s3
run_step "Metadata on a three-node MariaDB Galera cluster: driver checks, C API suite, one client per node, Hadoop's contract suites" \
  bash tests/galera.sh "$BUILD" "$ASAN_BUILD"
# Hadoop 3.4's own suites (and the newer cases of the old ones) with the classes compiled against
# Hadoop 3.4.1, in a copy of the Java tree so that the 3.3.6 build above stays as it is.
java_on_hadoop34() {
  local dir=$WORK/hadoop-3.4
  mkdir -p "$dir" && cp -r pom.xml java "$dir/" &&
    (cd "$dir" && mvn -B -ntp test -Dhadoop.version=3.4.1 -Dhadoop.examples.version=3.3.6 \
      -Dsluice.build.dir="$ROOT/$BUILD" \
      -Dtest='TestSluiceContract*,TestSluiceFileContext*,TestSluiceAbstractFileSystem,TestSluiceFileSystemContract,TestSluiceFSMainOperations,TestSluiceSafeMode,TestSluiceLeaseRecovery,TestSluicePathHandlesAndEtags,TestSluiceBulkDelete,TestSluiceFileChecksum')
}
run_step "Java on Hadoop 3.4.1's jars: its contract, FSMainOperations, FileContext suites" \
  java_on_hadoop34
run_step "Java through the Kerberos gateway on MariaDB+S3: contract suites" \
  env BUILD="$BUILD" bash tests/gateway-contract.sh
run_step "fuzz: the gateway's decoders and the S3 XML parser, bounded" bash tests/fuzz.sh
run_step "libhdfs: pyarrow's HadoopFileSystem on libsluice-hdfs.so, no JVM (Parquet dataset)" \
  bash tests/libhdfs-pyarrow.sh "$BUILD"
run_step "Spark (PySpark, local mode) on sqlite3+file and MariaDB+S3: Parquet, ORC, tables, streaming" \
  bash tests/engines/spark.sh "$BUILD"
run_step "HBase 2.5 (standalone, one JVM) on sqlite3+file and MariaDB+S3: 100,000 rows, split, compaction, kill -9 and WAL replay" \
  bash tests/engines/hbase.sh "$BUILD"
run_step "Hive 4.0 (embedded HiveServer2, Derby metastore, MapReduce local runner) on sqlite3+file and MariaDB+S3: text, ORC, Parquet, partitions, INSERT INTO/OVERWRITE, CTAS, joins, DROP TABLE" \
  bash tests/engines/hive.sh "$BUILD"
for t in tests/interop/*.sh; do
  run_step "interop: $(basename "$t" .sh)" bash "$t" "$ROOT/$BUILD/bin/sluice"
done

echo
if ((failed)); then
  echo "failed steps: ${failures[*]}"
fi
echo "test steps: $passed passed, $failed failed"
((failed == 0))
