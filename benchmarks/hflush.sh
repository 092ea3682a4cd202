#!/usr/bin/env bash
# hflush.sh - the "hflush" part of `make bench` (issues 13 and 21), called by run.sh with the
# services up and the volumes formatted:
#  1. WAL hflush latency with 1, 4 and 16 writer threads (a file each) and 4 threads sharing one
#     stream, plus hsync with one thread, through the peer driver (workload hflush): Sluice on the
#     MariaDB+S3 and SQLite volumes with one copy of each hflushed block (no cache group) and with
#     two (a `sluice cache-server` on 127.0.0.2 keeps the second), next to HDFS as a
#     MiniDFSCluster of 3 DataNodes with replication 3 (the 3-node pipeline of a real cluster),
#     interleaved repetition by repetition.
#  2. Cold read from the cache group next to object storage (benchmarks/core_bench.c coldread,
#     MariaDB+S3): a reader with an empty cache dir gets the blocks from two cache servers
#     (127.0.0.2, 127.0.0.3) that cached them, against the same read without a cache group;
#     MiB/s with the object-store GETs and peer fetches of the reader's handle.
# Appends records to OUT/results.jsonl (report.py renders them); raw latencies in
# OUT/hflush-*.csv; logs in OUT/hflush/.
#   hflush.sh OUT MODE REPS MYSQL-META SQLITE-META WORK SLUICE-JAR DRIVER-CP
set -euo pipefail
# `|| true` in this script marks best-effort cleanup only (stopping processes that may be gone
# already); no check is ever made to pass by it.
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$1 MODE=$2 REPS=$3 MYSQL_META=$4 SQLITE_META=$5 WORK=$6 SLUICE_JAR=$7 DRIVER_CP=$8
SLUICE=$ROOT/build/bin/sluice
BENCH=$ROOT/build/bin/core_bench
LOGS=$OUT/hflush
rm -rf "$LOGS" "$OUT"/hflush-*.csv "$WORK"/hf
mkdir -p "$LOGS" "$WORK/hf"
log() { echo "== $*" >&2; }

# Sizes: records per variant (split over its threads), hsync records, the cold-read file. The
# group places a file by logical block (block.size, 128 MiB): a file of 2 (4) of them can spread
# over both peers.
if [ "$MODE" = full ]; then
  HF_RECORDS=1000 HS_RECORDS=300 CR_MIB=512
else
  HF_RECORDS=400 HS_RECORDS=100 CR_MIB=256
fi

# A TCP port free on every address now (the writer serves on 127.0.0.1 what a server serves on
# 127.0.0.2); taken before the next one is chosen, so that two choices cannot coincide.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT INT TERM

# cache_server NAME HOST PORT NODES META: a `sluice cache-server` with a cache dir of its own
cache_server() {
  local name=$1 host=$2 port=$3 nodes=$4 meta=$5
  "$SLUICE" cache-server -o cache-group.port="$port" -o cache-group.host="$host" \
    -o cache-dir="$WORK/hf/cs-$name" -o nodes="$nodes" -o free-space-ratio=0 "$meta" \
    >"$LOGS/cache-server-$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q serving "$LOGS/cache-server-$name.log" && return 0; sleep 0.1; done
  echo "cache server $name did not start:" >&2
  cat "$LOGS/cache-server-$name.log" >&2
  return 1
}

# ---- 1. hflush latency ------------------------------------------------------------------------
# R=2: the writer (127.0.0.1, serving its own staging area in process) and one cache server; with
# two nodes every block's other owner is the server, so each hflush waits for its copy there.
# r2bg: the same with hflush.commit=background (the metadata commit after the hflush returns).
HF_NODES=127.0.0.1,127.0.0.2
HF_PORT_MYSQL=$(free_port)
cache_server hf-mysql 127.0.0.2 "$HF_PORT_MYSQL" "$HF_NODES" "$MYSQL_META"
HF_PORT_SQLITE=$(free_port)
cache_server hf-sqlite 127.0.0.2 "$HF_PORT_SQLITE" "$HF_NODES" "$SQLITE_META"

# HDFS: its own MiniDFSCluster with 3 DataNodes (the peers part keeps its 1-DataNode one, whose
# single-replica writes are the fair match for Sluice's other workloads).
log "starting a MiniDFSCluster with 3 DataNodes"
java -cp "$DRIVER_CP" io.sluice.bench.MiniDfs "$WORK/hf/minidfs3" "$WORK/hf/minidfs3.uri" 0 3 \
  >"$LOGS/minidfs3.log" 2>&1 &
HDFS_PID=$!
pids+=($HDFS_PID)
for _ in $(seq 180); do [ -s "$WORK/hf/minidfs3.uri" ] && break; sleep 1; done
HDFS_URI=""
if [ -s "$WORK/hf/minidfs3.uri" ]; then
  HDFS_URI=$(cat "$WORK/hf/minidfs3.uri")
else
  log "the 3-DataNode MiniDFSCluster did not start (see hflush/minidfs3.log): no HDFS figures"
fi

common_sluice=(--conf "sluice.native.path=$ROOT/build/lib/libsluice.so" --conf sluice.memory-size=300M
               --conf sluice.max-uploads=20 --conf sluice.max-downloads=20)
# hf_args PEER -> the driver's arguments for it, one per line (labels have spaces)
hf_args() {
  local p=$1 cache=$WORK/hf/cache-$1 meta=$MYSQL_META port=$HF_PORT_MYSQL db="MariaDB+S3"
  case $p in
    sluice-sqlite-*) meta=$SQLITE_META port=$HF_PORT_SQLITE db="SQLite+S3" ;;
  esac
  case $p in
    sluice-*-r1)
      printf '%s\n' --peer "$p" --fs "sluice://bench/$p" "${common_sluice[@]}" \
        --conf "sluice.meta=$meta" --conf "sluice.cache-dir=$cache" --cache-dir "$cache" \
        --tag "label=Sluice $db, R=1 (no cache group)" --tag replicas=1 ;;
    sluice-*-r2)
      printf '%s\n' --peer "$p" --fs "sluice://bench/$p" "${common_sluice[@]}" \
        --conf "sluice.meta=$meta" --conf "sluice.cache-dir=$cache" --cache-dir "$cache" \
        --conf "sluice.nodes=$HF_NODES" --conf "sluice.cache-group.port=$port" \
        --conf sluice.cache-group.host=127.0.0.1 --conf sluice.hflush.replicas=2 \
        --tag "label=Sluice $db, R=2 (cache server on 127.0.0.2)" --tag replicas=2 ;;
    sluice-*-r2bg)
      printf '%s\n' --peer "$p" --fs "sluice://bench/$p" "${common_sluice[@]}" \
        --conf "sluice.meta=$meta" --conf "sluice.cache-dir=$cache" --cache-dir "$cache" \
        --conf "sluice.nodes=$HF_NODES" --conf "sluice.cache-group.port=$port" \
        --conf sluice.cache-group.host=127.0.0.1 --conf sluice.hflush.replicas=2 \
        --conf sluice.hflush.commit=background \
        --tag "label=Sluice $db, R=2, background commit" --tag replicas=2 ;;
    hdfs-3dn)
      printf '%s\n' --peer hdfs-3dn --fs "$HDFS_URI/bench" --conf dfs.replication=3 \
        --conf dfs.client.block.write.locateFollowingBlock.initial.delay.ms=20 \
        --tag "label=HDFS, 3 DataNodes, replication 3" --tag replicas=3 ;;
  esac
}
HF_PEERS="sluice-mysql-r1 sluice-mysql-r2 sluice-mysql-r2bg hdfs-3dn sluice-sqlite-r1 sluice-sqlite-r2 sluice-sqlite-r2bg"
[ -n "$HDFS_URI" ] || HF_PEERS=${HF_PEERS/hdfs-3dn /}
mkdir -p "$WORK/hf/work"
started=$(date +%s)
for rep in $(seq "$REPS"); do
  # the goals are measured on the streams of 1-16 threads: the shared stream and hsync, charts
  # only, run in the first repetition
  only_goals=()
  [ "$rep" = 1 ] || only_goals=(--hflush-shared 0 --hsync-records 0)
  for p in $HF_PEERS; do
    log "hflush rep $rep/$REPS: $p"
    mapfile -t args < <(hf_args "$p")
    # a hang is a finding, not a reason to stop the benchmark: the driver dumps its threads'
    # stacks after 300 s in one variant, and the whole call ends after 20 minutes
    (cd "$WORK/hf/work" && timeout 1200 java -Xmx2g -cp "$DRIVER_CP:$SLUICE_JAR" \
      io.sluice.bench.Main "${args[@]}" --mode "$MODE" --reps 1 --first-rep "$rep" \
      --workload hflush --hflush-records "$HF_RECORDS" --hsync-records "$HS_RECORDS" \
      "${only_goals[@]}" --out "$OUT/results.jsonl" >>"$LOGS/driver-$p.log" 2>&1) \
      || log "driver for $p exited with $? (see hflush/driver-$p.log)"
  done
done
log "hflush latency: $(( $(date +%s) - started )) s"
stop_all

# ---- 2. cold read: cache group against object storage ----------------------------------------
CR_PORT=$(free_port)
CR_NODES=127.0.0.2,127.0.0.3
cache_server cr-2 127.0.0.2 "$CR_PORT" "$CR_NODES" "$MYSQL_META"
cache_server cr-3 127.0.0.3 "$CR_PORT" "$CR_NODES" "$MYSQL_META"
# the reader is on 127.0.0.1, not in the node list: every block it reads is owned by a peer
CR_GROUP="cache-group.port=$CR_PORT;nodes=$CR_NODES;cache-group.host=127.0.0.1;cache-group.serve=false"
started=$(date +%s)
"$BENCH" coldread "$MYSQL_META" - "$CR_MIB" write
drop_caches() { # the peers' cache files and the S3 server's objects alike come from the disk
  sync
  if echo 1 2>/dev/null >/proc/sys/vm/drop_caches; then echo true; else echo false; fi
}
# cold_read VARIANT REP [GROUP-CONF]: one read through an emptied cache dir, as records (none
# for VARIANT "-"); prints the object-store GETs it made
cold_read() {
  local variant=$1 rep=$2 conf=${3:-} dropped
  rm -rf "$WORK/hf/cr-local"
  mkdir -p "$WORK/hf/cr-local"
  dropped=$(drop_caches)
  SLUICE_BENCH_CONF=$conf "$BENCH" coldread "$MYSQL_META" "$WORK/hf/cr-local" "$CR_MIB" read \
    >"$LOGS/coldread-$variant-rep$rep.txt" 2>>"$LOGS/coldread.log"
  awk '$1 == "obj_gets" { print $2 }' "$LOGS/coldread-$variant-rep$rep.txt"
  [ "$variant" != - ] || return 0
  python3 - "$variant" "$rep" "$MODE" "$CR_MIB" "$dropped" "$LOGS/coldread-$variant-rep$rep.txt" \
    "$(du -sm "$WORK/hf/cs-cr-2" | cut -f1)" "$(du -sm "$WORK/hf/cs-cr-3" | cut -f1)" \
    >>"$OUT/results.jsonl" <<'EOF'
import json, sys, time
variant, rep, mode, mib, dropped, path, mib2, mib3 = sys.argv[1:]
figs = {}
for line in open(path):
    name, value, unit = line.split()
    figs[name] = (float(value), unit)
for name, (value, unit) in figs.items():
    metric = "throughput" if name == "read" else name
    print(json.dumps({"peer": "sluice-mysql", "workload": "coldread", "variant": variant,
                      "metric": metric, "rep": int(rep), "value": value, "unit": unit,
                      "file_mib": int(mib), "peers": 2, "os_cache_dropped": dropped == "true",
                      "peer_cache_mib": [int(mib2), int(mib3)],
                      "mode": mode, "ts": int(time.time())}))
EOF
}
# The first read in the group downloads the blocks and offers each to its owner's cache. An
# owner declines an offer while it writes cache-writers (4) blocks already, and some exchanges
# fail (coldread.log), so group reads are repeated, unrecorded, until one needs no GET (at most
# 5 more): the peers-fill record fill_reads counts the reads that downloaded (0: the peers
# never held every block). The servers keep the default cache-writers: what a real group has.
log "cold read: filling the peers"
gets=$(cold_read peers-fill 1 "$CR_GROUP")
fills=1
while [ "$gets" != 0 ] && [ $fills -le 5 ]; do
  gets=$(cold_read - "$fills" "$CR_GROUP")
  [ "$gets" = 0 ] || fills=$((fills + 1))
done
[ "$gets" = 0 ] || fills=0
printf '{"peer": "sluice-mysql", "workload": "coldread", "variant": "peers-fill", "metric": "fill_reads", "rep": 1, "value": %d, "unit": "reads", "mode": "%s"}\n' \
  "$fills" "$MODE" >>"$OUT/results.jsonl"
for rep in $(seq "$REPS"); do
  log "cold read rep $rep/$REPS"
  cold_read object-storage "$rep" >/dev/null
  cold_read peers "$rep" "$CR_GROUP" >/dev/null
done
"$BENCH" coldread "$MYSQL_META" - "$CR_MIB" delete
log "cold read: $(( $(date +%s) - started )) s"
stop_all
