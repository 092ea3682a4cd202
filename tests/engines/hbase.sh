#!/usr/bin/env bash
# hbase.sh [BUILD] - HBase (2.5, its Hadoop 3 build, from the registry) on Sluice: ZooKeeper, a
# master and a region server in one JVM (io.sluice.hbase.HBaseCheck, tests/engines/hbase/, the way
# HBase's standalone mode runs them) with hbase.rootdir and hbase.wal.dir on sluice:// and the
# Sluice jar on the class path, hbase.unsafe.stream.capability.enforce at its default (true). On
# a volume on SQLite + local files with a disk cache and, when make test's services are set
# (SLUICE_TEST_MYSQL_URL, SLUICE_TEST_S3_*), on one on MariaDB + S3:
# SLUICE_HBASE_VERSION picks another HBase (e.g. 2.6.1-hadoop3), SLUICE_HBASE_ONLY one case.
#   full   create a table, put 100,000 rows, flush, split, major compact, scan after each
#   crash  put rows until kill -9 (the JVM: region server and master), start again, and find
#          every acknowledged row (WAL replay; HBase 2.x calls recoverLease only on HDFS)
#   crash-hsync-nocache  the same with hbase.wal.hsync=true and the killed process's cache dir
#          deleted before the restart
#   crash-group-nocache  the same with hbase.wal.hsync at its default (hflush) in a cache group
#          with hflush.commit=background (a `sluice cache-server` on 127.0.0.2 keeps the copies
#          and commit records): the killed node's cache dir deleted, as if the machine were lost,
#          the WAL split waits until its session expired and the holder committed its records
#          (MariaDB + S3 only)
#   rs-crash  master, region server and client in JVMs of their own; kill -9 the region server
#          alone, start a new one: the live master has the dead one's WAL split
# Writes the TAP report target/engines/hbase.tap; fails if any check failed. Maven resolves
# HBase's jars once (~/.m2; the class path in target/engines/hbase/classpath-VERSION.txt).
set -euo pipefail
# `|| true` in this script marks best-effort cleanup and reporting only (stopping processes that
# may be gone already, counting zero matches); no check is ever made to pass by it.
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
ROWS=${SLUICE_HBASE_ROWS:-100000}
# the Hadoop 3 build of an HBase release (the pom's default: 2.5.11-hadoop3)
VERSION=${SLUICE_HBASE_VERSION:-2.5.11-hadoop3}
source "$ROOT/tests/env/engine-step.sh"
engine_step hbase
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  engine_cleanup
}
trap cleanup EXIT

JAR=$(bash tests/env/sluice-jar.sh "$BUILD")
engine_classpath "$ROOT/tests/engines/hbase/pom.xml" hbase.version "$VERSION"

source "$ROOT/tests/env/hbase-java-flags.sh"
source "$ROOT/tests/env/hbase-conf.sh"

engine_volumes hbase hbvol hbs3vol

# A free TCP port for ZooKeeper
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# conf DIR VOL META ROOT [NAME VALUE]...: hbase-site.xml and log4j.properties in DIR, as a user
# writes them for HBase on Sluice (docs/hbase.md), plus the test's ports and local directories.
conf() {
  local dir=$1 vol=$2 meta=$3 root=$4
  shift 4
  mkdir -p "$dir" "$dir/tmp" "$dir/zk" "$dir/cache"
  {
    echo '<?xml version="1.0"?>'
    echo '<configuration>'
    hbase_property hbase.rootdir "sluice://$vol/$root"
    hbase_property hbase.wal.dir "sluice://$vol/$root-wal"
    hbase_property "sluice.$vol.meta" "$meta"
    hbase_property "sluice.$vol.cache-dir" "$dir/cache"
    hbase_property hbase.cluster.distributed false
    hbase_property hbase.tmp.dir "$dir/tmp"
    hbase_property hbase.zookeeper.quorum 127.0.0.1
    hbase_property hbase.zookeeper.property.clientPort "$(free_port)"
    # the killed process's ZooKeeper session ends after this (HBase's default: 90 s)
    hbase_property zookeeper.session.timeout 10000
    hbase_property hbase.master.port 0
    hbase_property hbase.master.info.port -1
    hbase_property hbase.regionserver.port 0
    hbase_property hbase.regionserver.info.port -1
    while (($#)); do
      hbase_property "$1" "$2"
      shift 2
    done
    echo '</configuration>'
  } >"$dir/hbase-site.xml"
  hbase_log4j HH:mm:ss org.apache.hadoop.hbase.wal.WALSplitter \
    org.apache.hadoop.hbase.wal.AbstractFSWALProvider \
    org.apache.hadoop.hbase.regionserver.wal.AbstractFSWAL >"$dir/log4j.properties"
}

# check DIR LOG LABEL ARGS...: HBaseCheck with DIR's configuration (10 minutes at most), its TAP
# lines prefixed with LABEL
check() {
  local dir=$1 log=$2 label=$3
  shift 3
  timeout -s KILL 600 java "${HBASE_JAVA_FLAGS[@]}" -Dhbase.check.zk.dir="$dir/zk" \
    -cp "$dir:$OUT/classes:$JAR:$(cat "$CP_FILE")" io.sluice.hbase.HBaseCheck "$@" \
    2>>"$log" | sed "s/^\(\(not \)\{0,1\}ok\) - /\1 - $label: /" >>"$TAP.lines"
  return "${PIPESTATUS[0]}"
}

# The log's end on failure
show_log() {
  echo "   the end of its log (all of it: ${1#"$ROOT"/}):"
  grep -v -e '^\s*at ' -e 'MetricsConfig' "$1" | tail -25 | cut -c1-300 | sed 's/^/   | /'
}

# wal_split LOG LABEL: a TAP line: after the restart marker, HBase's WALSplitter processed edits of
# the killed server's WAL (not meta's, not the master's region) and read it to its end, not corrupt
wal_split() {
  local n
  n=$(sed -n '/^--- restart/,$p' "$1" | grep 'WALSplitter: Processed [1-9][0-9]* edits' |
    grep -v -e '\.meta,' -e 'MasterData' | grep -c 'corrupted=false, cancelled=false' || true)
  if ((n > 0)); then
    echo "ok - $2: the killed server's WAL was split, not corrupt" >>"$TAP.lines"
    return 0
  fi
  echo "not ok - $2: the killed server's WAL was split, not corrupt" >>"$TAP.lines"
  return 1
}

full() {
  local vol=$1 meta=$2 dir=$WORK/full-$1 log=$REPORT_DIR/hbase-$1-full.log
  : >"$log"
  conf "$dir" "$vol" "$meta" hbase
  echo "-- HBase on $vol: $ROWS rows, flush, split, major compaction"
  local t0=$SECONDS
  if check "$dir" "$log" "$vol" full "$ROWS"; then
    echo "   done in $((SECONDS - t0)) s"
    return 0
  fi
  echo "   failed:"
  show_log "$log"
  return 1
}

# crash VOL META LABEL [NAME VALUE]...: put rows until kill -9, start again, verify.
crash() {
  local vol=$1 meta=$2 label=$3
  shift 3
  local dir=$WORK/crash-$vol-$label log=$REPORT_DIR/hbase-$vol-$label.log acks
  acks=$dir/acks
  : >"$log"
  conf "$dir" "$vol" "$meta" "hbase-$label" "$@"
  echo "-- HBase on $vol ($label): acknowledged puts, kill -9, restart"
  local t0=$SECONDS want=$((ROWS / 1000))
  : >"$acks"
  java "${HBASE_JAVA_FLAGS[@]}" -Dhbase.check.zk.dir="$dir/zk" \
    -cp "$dir:$OUT/classes:$JAR:$(cat "$CP_FILE")" io.sluice.hbase.HBaseCheck load "$acks" 0 \
    >/dev/null 2>>"$log" &
  local pid=$!
  pids+=("$pid")
  while (($(wc -l <"$acks") < want && SECONDS - t0 < 300)) && kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "   killed after $(wc -l <"$acks") acknowledged batches ($((SECONDS - t0)) s)"
  local n
  n=$(wc -l <"$acks")
  if ((n < want)); then
    echo "not ok - $vol ($label): $want batches of 1000 rows acknowledged before kill -9 ($n)" \
      >>"$TAP.lines"
    show_log "$log"
    return 1
  fi
  echo "ok - $vol ($label): $n batches of 1000 rows acknowledged before kill -9" >>"$TAP.lines"
  if [[ $label == *nocache* ]]; then
    rm -rf "$dir/cache"
    mkdir -p "$dir/cache"
  fi
  echo "--- restart ($label)" >>"$log"
  t0=$SECONDS
  local ok=0
  check "$dir" "$log" "$vol ($label)" verify "$acks" || ok=1
  # The rows came back through the WAL of the killed server (its memstore was never flushed)
  wal_split "$log" "$vol ($label)" || ok=1
  if ((ok == 0)); then
    echo "   restarted and verified in $((SECONDS - t0)) s"
    return 0
  fi
  echo "   failed:"
  show_log "$log"
  return 1
}

# hbase VAR DIR ARGS...: an HBaseCheck JVM with DIR's configuration, in the background, its pid
# in VAR and in pids (killed on exit)
hbase_bg() {
  local -n pid_=$1
  local dir=$2
  shift 2
  java "${HBASE_JAVA_FLAGS[@]}" -Dhbase.check.zk.dir="$dir/zk" \
    -cp "$dir:$OUT/classes:$JAR:$(cat "$CP_FILE")" io.sluice.hbase.HBaseCheck "$@" \
    >/dev/null 2>>"$dir/log" &
  pid_=$!
  pids+=("$pid_")
}

# crash_rs VOL META: a distributed cluster on one machine, the master (with ZooKeeper), the
# region server and the client each in a JVM of its own; kill -9 the region server while the
# client puts rows, start a new one: the master finds the dead server (its ZooKeeper session
# ends), has its WAL split, and reopens its regions on the new server.
crash_rs() {
  local vol=$1 meta=$2 label=rs-crash
  local dir=$WORK/crash-$vol-$label log=$REPORT_DIR/hbase-$vol-rs-crash.log
  local acks=$dir/acks master rs client rs2 t0=$SECONDS want=$((ROWS / 1000))
  conf "$dir" "$vol" "$meta" "hbase-$label" hbase.cluster.distributed true
  : >"$dir/log"
  : >"$acks"
  echo "-- HBase on $vol ($label): master, region server and client in JVMs of their own"
  hbase_bg master "$dir" master "$dir/master-ready"
  while [[ ! -e $dir/master-ready ]] && ((SECONDS - t0 < 120)) && kill -0 "$master"; do
    sleep 0.2
  done
  hbase_bg rs "$dir" regionserver
  hbase_bg client "$dir" client-load "$acks" 0
  while (($(wc -l <"$acks") < want && SECONDS - t0 < 300)) && kill -0 "$client" 2>/dev/null
  do
    sleep 0.2
  done
  kill -9 "$rs" 2>/dev/null || true
  local n
  n=$(wc -l <"$acks")
  kill -9 "$client" 2>/dev/null || true
  wait "$rs" "$client" 2>/dev/null || true
  echo "   region server killed after $n acknowledged batches ($((SECONDS - t0)) s)"
  local ok=0
  if ((n < want)); then
    echo "not ok - $vol ($label): $want batches of 1000 rows acknowledged before kill -9 ($n)" \
      >>"$TAP.lines"
    ok=1
  else
    echo "ok - $vol ($label): $n batches of 1000 rows acknowledged before kill -9 of the" \
      "region server" >>"$TAP.lines"
    echo "--- restart ($label)" >>"$dir/log"
    t0=$SECONDS
    hbase_bg rs2 "$dir" regionserver
    check "$dir" "$dir/log" "$vol ($label)" client-verify "$acks" || ok=1
    wal_split "$dir/log" "$vol ($label)" || ok=1
  fi
  kill -9 "$master" "${rs2:-}" 2>/dev/null || true
  wait "$master" "${rs2:-}" 2>/dev/null || true
  cp "$dir/log" "$log"
  if ((ok == 0)); then
    echo "   a new region server took over, verified in $((SECONDS - t0)) s"
    return 0
  fi
  echo "   failed:"
  show_log "$log"
  return 1
}

# crash_group VOL META: crash VOL META crash-group-nocache in a cache group of this node
# (127.0.0.1, HBase) and a `sluice cache-server` on 127.0.0.2, with background commits.
crash_group() {
  local vol=$1 meta=$2 port server log=$WORK/cache-server-$1.log ok=0
  port=$(free_port)
  "$BUILD/bin/sluice" cache-server -o cache-group.port="$port" -o cache-group.host=127.0.0.2 \
    -o cache-dir="$WORK/cache-server-$vol" -o nodes=127.0.0.1,127.0.0.2 \
    -o free-space-ratio=0 "$meta" >"$log" 2>&1 &
  server=$!
  pids+=("$server")
  for _ in $(seq 100); do grep -q serving "$log" && break; sleep 0.1; done
  crash "$vol" "$meta" crash-group-nocache "sluice.$vol.nodes" 127.0.0.1,127.0.0.2 \
    "sluice.$vol.cache-group.port" "$port" "sluice.$vol.cache-group.host" 127.0.0.1 \
    "sluice.$vol.hflush.commit" background "sluice.$vol.hflush.commit-delay" 60000 || ok=1
  # best-effort: the cache server may have exited already; the checks above decided ok
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  return $ok
}

# SLUICE_HBASE_ONLY=NAME runs only that one (full, crash, crash-hsync-nocache,
# crash-group-nocache, rs-crash)
only() { [[ -n ${SLUICE_HBASE_ONLY:-} && $SLUICE_HBASE_ONLY != "$1" ]]; }
rc=0
vols=(hbvol)
[ -n "$S3META" ] && vols+=(hbs3vol)
for vol in "${vols[@]}"; do
  meta=$META
  [[ $vol == hbs3vol ]] && meta=$S3META
  only full || full "$vol" "$meta" || rc=1
  only crash || crash "$vol" "$meta" crash || rc=1
  only crash-hsync-nocache || crash "$vol" "$meta" crash-hsync-nocache hbase.wal.hsync true ||
    rc=1
  only rs-crash || crash_rs "$vol" "$meta" || rc=1
  if [[ $vol == hbs3vol ]]; then
    only crash-group-nocache || crash_group "$vol" "$meta" || rc=1
  fi
done

engine_report $rc
