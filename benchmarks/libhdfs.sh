#!/usr/bin/env bash
# libhdfs.sh - the libhdfs benchmark (issue 16), called by run.sh with the services up; writes
# OUT/libhdfs.md (the report's "libhdfs" section) and OUT/libhdfs.jsonl. Not a test.
#   libhdfs.sh OUT MYSQL-META-BASE WORK ROWS REPS SIZE_MIB PREAD_OPS ROUNDS SLUICE_JAR HADOOP_CP
#
# 1. pyarrow writes and reads one Parquet dataset (ROWS rows, benchmarks/libhdfs_parquet.py)
#    through pyarrow.fs.HadoopFileSystem on Sluice's libhdfs (build/lib/libhdfs.so, no JVM: a stub
#    libjvm.so), through Apache's libhdfs (JNI, benchmarks/peers/apache-libhdfs.sh) with the Sluice
#    jar on the CLASSPATH, and on the local disk; one process per peer, interleaved repetition by
#    repetition; the two libhdfs peers on the same volume, SQLite + files and MariaDB + S3, with the
#    same settings from one core-site.xml (HADOOP_CONF_DIR for Sluice's library, the head of the
#    CLASSPATH for Hadoop's Configuration).
# 2. The shim's overhead: build/bin/hdfs_bench (SIZE_MIB, PREAD_OPS, ROUNDS) on both volumes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$1 WORK=$3 ROWS=$4 REPS=$5 SIZE_MIB=$6 PREAD_OPS=$7 ROUNDS=$8 SLUICE_JAR=$9 HADOOP_CP=${10}
SLUICE=$ROOT/build/bin/sluice
JDK=${SLUICE_BENCH_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
JSONL=$OUT/libhdfs.jsonl
rm -f "$JSONL"
log() { echo "== $*" >&2; }

# pyarrow: the virtualenv of tests/libhdfs-pyarrow.sh (same version, same place)
source benchmarks/obtain.sh
pyarrow=${SLUICE_PYARROW_VERSION:-26.0.1}
cached=no; [ -f "$TOOLS/pyarrow-$pyarrow/.complete" ] && cached=yes
VENV=$(obtain_timed pyarrow "$pyarrow" $cached bash tests/env/pyvenv.sh pyarrow "$pyarrow")

UNAVAILABLE=""
cached=no; [ -f "$TOOLS/apache-libhdfs-pydoop-2.0.0/.complete" ] && cached=yes
if ! APACHE=$(JAVA_HOME=$JDK obtain_timed "Apache libhdfs (from pydoop's sources)" 2.0.0 $cached \
    benchmarks/peers/apache-libhdfs.sh 2>"$OUT/apache-libhdfs.log"); then
  UNAVAILABLE=$(tail -n 1 "$OUT/apache-libhdfs.log")
  APACHE=""
fi
if [ -n "$APACHE" ] && [ ! -f "$JDK/lib/server/libjvm.so" ]; then
  UNAVAILABLE="no JVM in $JDK"
  APACHE=""
fi
log "Apache libhdfs: ${APACHE:-$UNAVAILABLE}"

L=$WORK/libhdfs
rm -rf "$L"
mkdir -p "$L/nojvm/lib/server"
# pyarrow dlopens $JAVA_HOME/lib/server/libjvm.so before libhdfs; Sluice's library never calls it
echo 'void sluice_no_jvm(void) {}' | cc -x c -shared -o "$L/nojvm/lib/server/libjvm.so" -

$SLUICE_TEST_MYSQL_ADMIN -e "DROP DATABASE IF EXISTS libhdfsbench; CREATE DATABASE libhdfsbench"
declare -A META=([file]="sqlite3://$L/meta.db" [s3]="${2%/*}/libhdfsbench")
declare -A NAME=([file]="SQLite + file" [s3]="MariaDB + S3")
"$SLUICE" format "${META[file]}" libhdfs-file --storage file --bucket "$L/data" --trash-days 0 \
  >/dev/null
"$SLUICE" format "${META[s3]}" libhdfs-s3 --storage minio --trash-days 0 \
  --bucket "$SLUICE_TEST_S3_ENDPOINT/libhdfs-bench" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
  --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null

# conf dir per volume type and peer: same settings, a disk cache of its own (as run.sh's peers)
conf() { # TYPE PEER -> prints the conf dir
  local d=$L/conf-$1-$2
  mkdir -p "$d"
  cat >"$d/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>sluice://libhdfs-$1</value></property>
  <property><name>sluice.default.volume</name><value>libhdfs-$1</value></property>
  <property><name>sluice.meta</name><value>${META[$1]}</value></property>
  <property><name>sluice.native.path</name><value>$ROOT/build/lib/libsluice.so</value></property>
  <property><name>sluice.memory-size</name><value>300M</value></property>
  <property><name>sluice.max-uploads</name><value>20</value></property>
  <property><name>sluice.max-downloads</name><value>20</value></property>
  <property><name>sluice.cache-dir</name><value>$L/cache-$1-$2</value></property>
</configuration>
XML
  echo "$d"
}

parquet() { # PEER VARIANT REP: one process, one repetition
  local peer=$1 variant=$2 rep=$3 d
  case $peer in
    sluice-libhdfs)
      d=$(conf "$variant" "$peer")
      HADOOP_CONF_DIR=$d JAVA_HOME=$L/nojvm ARROW_LIBHDFS_DIR=$ROOT/build/lib \
        "$VENV/bin/python" benchmarks/libhdfs_parquet.py "$peer" "$variant" hdfs /parquet "$ROWS" \
        "$rep" "$JSONL" ;;
    apache-libhdfs)
      d=$(conf "$variant" "$peer")
      # Hadoop's Configuration reads core-site.xml from the class path; no wildcards in libhdfs's
      CLASSPATH=$d:$HADOOP_CP:$SLUICE_JAR HADOOP_CONF_DIR=$d JAVA_HOME=$JDK \
        LD_LIBRARY_PATH=$JDK/lib/server${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        LIBHDFS_OPTS="-Xmx2g" ARROW_LIBHDFS_DIR=$APACHE \
        "$VENV/bin/python" benchmarks/libhdfs_parquet.py "$peer" "$variant" hdfs /parquet "$ROWS" \
        "$rep" "$JSONL" ;;
    local)
      "$VENV/bin/python" benchmarks/libhdfs_parquet.py local local local "$L/local" "$ROWS" \
        "$rep" "$JSONL" ;;
  esac
}

started=$(date +%s)
for rep in $(seq "$REPS"); do
  log "pyarrow Parquet, rep $rep/$REPS"
  parquet local local "$rep" || log "local failed"
  for v in file s3; do
    parquet sluice-libhdfs "$v" "$rep" || log "sluice-libhdfs $v failed"
    if [ -n "$APACHE" ]; then
      parquet apache-libhdfs "$v" "$rep" 2> >(grep -v ' WARN ' >&2) ||
        log "apache-libhdfs $v failed"
    fi
  done
done
parquet_seconds=$(( $(date +%s) - started ))

started=$(date +%s)
for v in file s3; do
  log "the shim's overhead, ${NAME[$v]} ($SIZE_MIB MiB, $PREAD_OPS preads, $ROUNDS rounds)"
  HADOOP_CONF_DIR=$L "$ROOT/build/bin/hdfs_bench" "${META[$v]}" "libhdfs-$v" "$SIZE_MIB" \
    "$PREAD_OPS" "$ROUNDS" | tee "$L/shim-$v.txt" |
    /usr/bin/python3 -c 'import json, sys
for line in sys.stdin:
    metric, value, unit = line.split()
    print(json.dumps({"peer": "shim", "workload": "libhdfs-shim", "variant": sys.argv[1],
                      "metric": metric, "value": float(value), "unit": unit}))' "$v" \
      >>"$JSONL" || log "hdfs_bench $v failed"
done
shim_seconds=$(( $(date +%s) - started ))

export LH_ROWS=$ROWS LH_REPS=$REPS LH_SIZE=$SIZE_MIB LH_OPS=$PREAD_OPS LH_ROUNDS=$ROUNDS
export LH_UNAVAILABLE=$UNAVAILABLE LH_PARQUET_S=$parquet_seconds LH_SHIM_S=$shim_seconds
export LH_APACHE_INFO="$( [ -n "$APACHE" ] && head -n 2 "$APACHE/BUILD-INFO" | paste -sd ';' )"
export LH_PYARROW=$pyarrow LH_JAVA="$("$JDK/bin/java" -version 2>&1 | head -n 1)"
/usr/bin/python3 benchmarks/libhdfs_report.py "$JSONL" >"$OUT/libhdfs.md"
echo "$OUT/libhdfs.md"
