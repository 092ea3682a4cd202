#!/usr/bin/env bash
# walpe.sh - HBase's own WAL benchmark, WALPerformanceEvaluation (WALPE, hbase-server's tests jar,
# HBase 2.5.11, the test step's HBase), on Sluice against HDFS and the JuiceFS Hadoop SDK; called
# by run.sh (part `walpe`) with the services, the volumes and the MiniDFSCluster up. Writes
# OUT/walpe.md (the report's appendix: ops/s, latencies, ratios; benchmarks/walpe_report.py),
# OUT/walpe.jsonl and the raw output of every run in OUT/walpe/. Not a test.
#   walpe.sh OUT WORK MODE REPS SLUICE_JAR JFS_JAR [PEER PEER-ARGS]...
# PEER-ARGS is what run.sh's peer_args prints for PEER (--fs URI, --conf K=V, --cache-dir DIR ...),
# so WALPE gets the very settings the peer driver gets; empty: the peer is unavailable (no
# MiniDFSCluster, no JuiceFS SDK), which walpe.md says.
#
# What is measured: WALPE opens REGIONS regions that share one WAL, as a region server does, and
# runs THREADS threads (a thread per region, like a handler), each appending ITERATIONS edits (one
# Put, 16-byte key, one 512-byte value: WALPE's defaults) and waiting for a sync of the WAL after
# every edit (WALPE's default, syncInterval 0; no -nosync: syncs are what is measured), which is
# what a put with HBase's default durability (SYNC_WAL) costs a region server. HBase's default
# WAL provider (asyncfs) runs as on a region server: on HDFS its own fan-out output, elsewhere
# HBase's wrapper around the file system's stream (hflush per sync);
# hbase.unsafe.stream.capability.enforce stays at its default (true). Figures, from WALPE's
# Summary line and its metrics registry: edits/s, the latency of an edit (append and the wait for
# its sync, as a handler sees it), the time of a sync, and edits per sync (group commit). After
# the timing, -verify reads the WALs back and counts the edits (a lost edit fails the run).
# Every peer runs the same ITERATIONS; peers interleaved within each repetition.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$1 WORK=$2 MODE=$3 REPS=$4 SLUICE_JAR=$5 JFS_JAR=$6
shift 6
log() { echo "== $*" >&2; }

# Sizes: the WAL of a region server with one busy client (1 thread) and with several handlers
# at once (8; more would only measure this 2-core machine's scheduler). Edits per thread: what
# keeps the part within about 2 minutes (quick) and 8 minutes (full, 3 repetitions) on 2 cores
# with the slowest peers (measured: 100-350 edits/s with Sluice and the JuiceFS SDK) while HDFS's
# runs (1,000-3,000 edits/s) still last a second or more; every run also starts a JVM and HBase
# (about 3 s). Measured with the machine's load average at 11-14: quick 113 s, full 538 s with
# 2,500 and 400 edits, hence the figures below. LIMIT: seconds after which a run counts as hung.
THREADS=(1 8)
if [ "$MODE" = full ]; then
  declare -A ITERATIONS=([1]=2000 [8]=300)
  LIMIT=240
else
  declare -A ITERATIONS=([1]=1000 [8]=200)
  LIMIT=120
fi

log "building the WALPE launcher (benchmarks/walpe)"
source benchmarks/obtain.sh
obtain_mvn_package benchmarks/walpe "HBase (WALPerformanceEvaluation, its test dependencies)" 2.5.11
CP=$ROOT/benchmarks/walpe/target/classes:$(cat benchmarks/walpe/target/classpath.txt)

source "$ROOT/tests/env/hbase-java-flags.sh"
source "$ROOT/tests/env/hbase-conf.sh"

W=$WORK/walpe
RAW=$OUT/walpe
rm -rf "$W" "$RAW"
mkdir -p "$W" "$RAW"
RUNS=$RAW/runs.tsv
printf 'rep\tpeer\tthreads\titerations\tstatus\tms\tstdout\tstderr\n' >"$RUNS"
: >"$RAW/unavailable.tsv"

# conf PEER ARGS...: DIR (printed) with hbase-site.xml and log4j.properties for PEER: hbase.rootdir
# at the peer's base URI + /walpe, the peer's --conf settings, HBase's scratch space under WORK.
# Also sets BASE[PEER] and CACHES[PEER].
declare -A BASE CACHES JARS
conf() {
  local peer=$1 dir=$W/conf-$1
  shift
  mkdir -p "$dir" "$dir/tmp"
  local props=() caches=""
  while (($#)); do
    case $1 in
      --fs) BASE[$peer]=$2/walpe; shift 2 ;;
      --conf) props+=("${2%%=*}" "${2#*=}"); shift 2 ;;
      --cache-dir) caches+=" $2"; shift 2 ;;
      --peer) shift 2 ;;
      *) echo "walpe.sh: unexpected peer argument $1" >&2; return 1 ;;
    esac
  done
  CACHES[$peer]=$caches
  # the MiniDFSCluster has one DataNode: its clients write one replica, as the peer driver's do
  # (HBase's WAL asks for the file system's default and rolls when a pipeline has fewer)
  [[ ${BASE[$peer]} == hdfs://* ]] && props+=(dfs.replication 1)
  {
    echo '<?xml version="1.0"?>'
    echo '<configuration>'
    hbase_property hbase.rootdir "${BASE[$peer]}"
    hbase_property hbase.tmp.dir "$dir/tmp"
    local i
    for ((i = 0; i < ${#props[@]}; i += 2)); do
      hbase_property "${props[i]}" "${props[i + 1]}"
    done
    echo '</configuration>'
  } >"$dir/hbase-site.xml"
  # WALPE's Summary line and the WAL's configuration and writer are logged at INFO
  hbase_log4j HH:mm:ss.SSS org.apache.hadoop.hbase.wal.WALPerformanceEvaluation \
    org.apache.hadoop.hbase.wal.WALFactory \
    org.apache.hadoop.hbase.regionserver.wal.AbstractFSWAL >"$dir/log4j.properties"
  echo "$dir"
}

PEERS=()
while (($#)); do
  peer=$1 args=$2
  shift 2
  if [ -z "$args" ]; then
    case $peer in
      hdfs) why="the MiniDFSCluster did not start (see minidfs.log)" ;;
      juicefs-*) why="the JuiceFS SDK was not obtained (see juicefs-sdk.log)" ;;
      *) why="no settings" ;;
    esac
    printf '%s\t%s\n' "$peer" "$why" >>"$RAW/unavailable.tsv"
    log "$peer: not available: $why"
    continue
  fi
  # shellcheck disable=SC2086 # args: run.sh's peer_args, words without spaces
  conf "$peer" $args >/dev/null
  # the peer's file system class: the Sluice jar, or the JuiceFS SDK (beside Sluice's: both
  # carry Hadoop-free code only); HDFS comes with HBase's Hadoop
  case $peer in
    sluice-*) JARS[$peer]=$SLUICE_JAR ;;
    juicefs-*) JARS[$peer]=$JFS_JAR ;;
    *) JARS[$peer]="" ;;
  esac
  PEERS+=("$peer")
done

started=$(date +%s)
for rep in $(seq "$REPS"); do
  for t in "${THREADS[@]}"; do
    for peer in "${PEERS[@]}"; do
      n=${ITERATIONS[$t]}
      name=$peer-t$t-rep$rep
      log "rep $rep/$REPS: $peer, $t thread(s) x $n edits"
      # a disk cache starts empty, as for the peer driver's runs (nothing is read back warm)
      for c in ${CACHES[$peer]}; do rm -rf "$c" && mkdir -p "$c"; done
      t0=$(date +%s%N)
      status=ok
      timeout -s KILL "$LIMIT" java "${HBASE_JAVA_FLAGS[@]}" \
        -cp "$W/conf-$peer:$CP${JARS[$peer]:+:${JARS[$peer]}}" io.sluice.bench.walpe.Run \
        -threads "$t" -regions "$t" -iterations "$n" -path "${BASE[$peer]}" -verify \
        >"$RAW/$name.out" 2>"$RAW/$name.log" || status="exit $?"
      [ "$status" != "exit 137" ] || status="killed after $LIMIT s"
      ms=$((($(date +%s%N) - t0) / 1000000))
      [ "$status" = ok ] || log "$name: $status (see walpe/$name.log)"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$peer" "$t" "$n" "$status" "$ms" \
        "$name.out" "$name.log" >>"$RUNS"
    done
  done
done
seconds=$(($(date +%s) - started))
log "WALPE runs: $seconds s"
/usr/bin/python3 benchmarks/walpe_report.py "$RAW" "$MODE" "$REPS" "$seconds" \
  "$OUT/walpe.jsonl" >"$OUT/walpe.md"
echo "$OUT/walpe.md"
