#!/usr/bin/env bash
# core.sh - the C benchmark of libsluice (benchmarks/core_bench.c), each figure next to the raw
# limit measured in the same run; called by run.sh with the services already up. Writes
# OUT/core.md, and every figure as "PART.NAME VALUE UNIT" lines to OUT/core.tsv (report.py's
# headline table reads them).
#   core.sh OUT MYSQL-META-BASE WORK SIZE_MIB NFILES NWAL CACHE_MIB
set -euo pipefail
# `|| true` in this script marks best-effort cleanup and reporting only (stopping processes that
# may be gone already, dropping a scratch database, showing a log, counting zero matches); no
# check is ever made to pass by it.
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$1 WORK=$3 SIZE_MIB=$4 NFILES=$5 NWAL=$6 CACHE_MIB=$7
BENCH=$ROOT/build/bin/core_bench
SLUICE=$ROOT/build/bin/sluice
$SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE IF NOT EXISTS corebench"
MYSQL_META="${2%/*}/corebench"
SQLITE_META="sqlite3://$WORK/corebench.db"
"$SLUICE" format "$SQLITE_META" corebench --storage file --bucket "$WORK/coredata" >/dev/null
"$SLUICE" format "$MYSQL_META" corebench --storage minio --bucket "$SLUICE_TEST_S3_ENDPOINT/corebench" \
  --access-key "$SLUICE_TEST_S3_ACCESS_KEY" --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null

declare -A R
collect() { # PREFIX then lines "name value unit"
  local prefix=$1 name value unit
  while read -r name value unit; do
    echo "  $name $value $unit"
    R[$prefix.$name]="$value $unit"
  done
}
echo "== data, SQLite + file storage ($SIZE_MIB MiB)"
collect file < <("$BENCH" data "$SQLITE_META" "$SIZE_MIB")
echo "== data, MariaDB + S3 ($SIZE_MIB MiB)"
collect s3 < <("$BENCH" data "$MYSQL_META" "$SIZE_MIB")
# The same over HTTPS (the S3 server's TLS instance, same machine): uploads are signed with
# UNSIGNED-PAYLOAD and carry a CRC32C instead of the SHA-256 of every block that plain HTTP gets.
$SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE IF NOT EXISTS corebenchtls"
TLS_META="${2%/*}/corebenchtls"
"$SLUICE" format "$TLS_META" corebench --storage minio --bucket "$SLUICE_TEST_S3TLS_ENDPOINT/corebench" \
  --ca-file "$SLUICE_TEST_S3TLS_CA" \
  --access-key "$SLUICE_TEST_S3TLS_ACCESS_KEY" --secret-key "$SLUICE_TEST_S3TLS_SECRET_KEY" >/dev/null
echo "== data, MariaDB + S3 over HTTPS ($SIZE_MIB MiB)"
collect s3tls < <(SLUICE_BENCH_CONF="s3.ca-file=$SLUICE_TEST_S3TLS_CA" "$BENCH" data "$TLS_META" "$SIZE_MIB")
echo "== metadata, SQLite ($NFILES files)"
collect sqlite < <("$BENCH" meta "$SQLITE_META" "$NFILES")
echo "== metadata, MariaDB ($NFILES files)"
collect mysql < <("$BENCH" meta "$MYSQL_META" "$NFILES")
# Kerberos mode on the same database: the client logs in with a keytab and reaches MariaDB only
# through `sluice gateway` on loopback.
echo "== metadata, MariaDB through the Kerberos gateway ($NFILES files)"
tests/env/gateway.sh start "$WORK/gateway" "$SLUICE" "$MYSQL_META"
# shellcheck disable=SC1091
source "$WORK/gateway/gateway.env"
# No object storage keys on the client: data flows through URLs the gateway presigns.
gwconf="kerberos.keytab=$SLUICE_TEST_GATEWAY_KEYTAB;gateway.principal=$SLUICE_TEST_GATEWAY_PRINCIPAL"
collect gateway < <(SLUICE_BENCH_CONF=$gwconf "$BENCH" meta "$SLUICE_TEST_GATEWAY_URL" "$NFILES")
echo "== data, MariaDB + S3 through the Kerberos gateway, presigned URLs ($SIZE_MIB MiB)"
collect gwdata < <(SLUICE_BENCH_CONF=$gwconf "$BENCH" data "$SLUICE_TEST_GATEWAY_URL" "$SIZE_MIB")
tests/env/gateway.sh stop "$WORK/gateway"

# Profiles of the data paths on MariaDB + S3 (perf: CPU samples of the whole process, every
# thread, flat by symbol): what bounds the sequential write, the cold read and the warm read
# from the disk cache (the goals report.py names point here). The warm read's blocks come from
# the cache dir the read before it filled; its object GETs are checked to be none.
PROFILES=(write cold-read warm-read)
PROFILE_MIB=$SIZE_MIB
profile() { # NAME COMMAND...: perf's top symbols of COMMAND into OUT/profile-NAME.txt
  local name=$1
  shift
  rm -f "$OUT/profile-$name.txt"
  if ! command -v perf >/dev/null ||
      ! perf record -q -e cpu-clock -F 999 -o "$WORK/perf-$name.data" -- "$@" \
        >"$WORK/profile-$name.out" 2>"$WORK/perf-$name.log"; then
    # no perf, or one that may not sample here: the step runs all the same, unprofiled
    echo "  no profile $name: $(command -v perf >/dev/null && tail -n 1 "$WORK/perf-$name.log" || echo "perf is not installed")"
    "$@" >"$WORK/profile-$name.out"
    return
  fi
  # Symbols a library was stripped of (libcrypto's) show as addresses: one line per library.
  perf report -i "$WORK/perf-$name.data" --stdio --no-children --sort dso,sym -q 2>/dev/null |
    awk '$3 == "[.]" || $3 == "[k]" {
           sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i
           if (sym ~ /^0x[0-9a-f]+$/) sym = "(no symbols)"
           share[$2 "\t" sym] += $1 + 0
         }
         END { for (k in share) if (share[k] >= 1) printf "%.2f%%\t%s\n", share[k], k }' |
    sort -t "$(printf '\t')" -k1,1 -g -r | head -n 15 >"$OUT/profile-$name.txt"
  rm -f "$WORK/perf-$name.data"
  echo "  profile $name: $(wc -l <"$OUT/profile-$name.txt") symbols"
}
echo "== profiles: write, cold read, warm read (MariaDB + S3, $PROFILE_MIB MiB)"
warm_conf="cache-writers=0;free-space-ratio=0"
profile write "$BENCH" coldread "$MYSQL_META" - "$PROFILE_MIB" write
profile cold-read "$BENCH" coldread "$MYSQL_META" - "$PROFILE_MIB" read
SLUICE_BENCH_CONF=$warm_conf "$BENCH" coldread "$MYSQL_META" "$WORK/cache-profile" "$PROFILE_MIB" read >/dev/null
# passes enough to read about 4 GiB from the cache: a single pass is over before the profile says much
SLUICE_BENCH_CONF=$warm_conf profile warm-read "$BENCH" coldread "$MYSQL_META" "$WORK/cache-profile" \
  "$PROFILE_MIB" read $(( (4096 + PROFILE_MIB - 1) / PROFILE_MIB ))
if [ -e "$WORK/profile-warm-read.out" ] && ! grep -qx "obj_gets 0 GETs" "$WORK/profile-warm-read.out"; then
  echo "the profiled warm read went to object storage: $(grep obj_gets "$WORK/profile-warm-read.out")" >&2
  exit 1
fi
"$BENCH" coldread "$MYSQL_META" - "$PROFILE_MIB" delete

for b in file s3; do
  meta=$SQLITE_META; [ $b = s3 ] && meta=$MYSQL_META
  echo "== write-ahead log, $b ($NWAL records of 1 KiB)"
  collect wal$b < <("$BENCH" wal "$meta" "$WORK/cache-wal-$b" "$NWAL")
  for mode in shared streams; do
    for t in 1 4 16; do
      [ $mode = streams ] && [ $t = 1 ] && continue
      echo "== concurrent hflush, $b, $t thread(s), $mode ($NWAL records of 1 KiB)"
      collect walmt$b < <("$BENCH" walmt "$meta" "$WORK/cache-walmt-$b-$mode-$t" "$NWAL" $t $mode)
    done
  done
  echo "== disk cache, $b ($CACHE_MIB MiB)"
  collect cache$b < <("$BENCH" cache "$meta" "$WORK/cache-read-$b" "$CACHE_MIB")
done

# Replicated hflush: two `sluice cache-server` nodes (127.0.0.3 and 127.0.0.4) keep the copies of
# the writer's (127.0.0.2) hflushed blocks; the same WAL loop with 1 and 2 copies.
CG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])')
CG_NODES=127.0.0.2,127.0.0.3,127.0.0.4
cg_pids=()
for h in 3 4; do
  "$SLUICE" cache-server -o cache-group.port="$CG_PORT" -o cache-group.host=127.0.0.$h \
    -o cache-dir="$WORK/cg-$h" -o nodes=$CG_NODES -o free-space-ratio=0 "$SQLITE_META" \
    >"$WORK/cg-$h.log" 2>&1 &
  cg_pids+=($!)
done
for h in 3 4; do
  for _ in $(seq 50); do grep -q serving "$WORK/cg-$h.log" && break; sleep 0.1; done
done
for r in 1 2; do
  for t in 1 4; do
    echo "== replicated hflush, SQLite + file, $r cop(ies), $t thread(s) ($NWAL records of 1 KiB)"
    collect cg$r < <(SLUICE_BENCH_CONF="cache-group.port=$CG_PORT;cache-group.host=127.0.0.2;nodes=$CG_NODES;hflush.replicas=$r" \
      "$BENCH" walmt "$SQLITE_META" "$WORK/cg-w-$r-$t" "$NWAL" "$t" shared)
  done
done
kill "${cg_pids[@]}" 2>/dev/null || true
wait "${cg_pids[@]}" 2>/dev/null || true

for k in file.sluice_write file.sluice_read s3.sluice_write s3.sluice_read s3tls.sluice_write s3tls.sluice_read sqlite.sluice_delete mysql.sluice_delete gateway.sluice_delete gwdata.sluice_read; do
  [ -n "${R[$k]:-}" ] || { echo "benchmark step $k produced no figure; see the errors above" >&2; exit 1; }
done

for k in "${!R[@]}"; do printf '%s %s\n' "$k" "${R[$k]}"; done | sort >"$OUT/core.tsv"

ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# table COLUMN...: the header and rule of a markdown table
table() {
  local column header="|" rule="|"
  for column in "$@"; do
    header+=" $column |"
    rule+="---|"
  done
  printf '%s\n' "$header" "$rule"
}
backend_name() {
  case $1 in s3) echo "MariaDB + S3" ;; s3tls) echo "MariaDB + S3 over HTTPS" ;; *) echo "SQLite + file" ;; esac
}
{
  echo "## libsluice against the raw limits (C, benchmarks/core_bench.c)"
  echo
  echo "Sequential I/O of $SIZE_MIB MiB in 1 MiB calls through the C API; metadata over $NFILES files in one"
  echo "thread. Each figure stands next to the raw limit measured in the same run: a plain file on the"
  echo "same disk, 4 MiB PUT/GET x20 on the S3 server, one single-row database transaction."
  echo
  table workload Sluice "raw limit" ratio
  echo "| write, file storage | ${R[file.sluice_write]} | ${R[file.raw_file_write]} (plain file) | $(ratio "${R[file.sluice_write]}" "${R[file.raw_file_write]}") |"
  echo "| read (cold), file storage | ${R[file.sluice_read]} | ${R[file.raw_file_read]} (plain file) | $(ratio "${R[file.sluice_read]}" "${R[file.raw_file_read]}") |"
  echo "| write, S3 | ${R[s3.sluice_write]} | ${R[s3.raw_s3_put]} (4 MiB PUT x20) | $(ratio "${R[s3.sluice_write]}" "${R[s3.raw_s3_put]}") |"
  echo "| read (cold), S3 | ${R[s3.sluice_read]} | ${R[s3.raw_s3_get]} (4 MiB GET x20) | $(ratio "${R[s3.sluice_read]}" "${R[s3.raw_s3_get]}") |"
  echo "| write, S3 over HTTPS | ${R[s3tls.sluice_write]} | ${R[s3tls.raw_s3_put]} (4 MiB PUT x20) | $(ratio "${R[s3tls.sluice_write]}" "${R[s3tls.raw_s3_put]}") |"
  echo "| read (cold), S3 over HTTPS | ${R[s3tls.sluice_read]} | ${R[s3tls.raw_s3_get]} (4 MiB GET x20) | $(ratio "${R[s3tls.sluice_read]}" "${R[s3tls.raw_s3_get]}") |"
  for db in sqlite mysql; do
    for op in create stat rename delete; do
      echo "| $op, $db | ${R[$db.sluice_$op]} | ${R[$db.raw_db_txn]} (1-row txn) | $(ratio "${R[$db.sluice_$op]}" "${R[$db.raw_db_txn]}") |"
    done
  done
  echo
  echo "What one metadata call above is made of, from the handle's counters (sluice_stats"
  echo "meta.OP.calls and .ns over the phase): the metadata backend operations it used, each as"
  echo "calls per call x their mean time in microseconds (a write operation is one transaction of"
  echo "its own; its round trips: docs/architecture.md). Against it, wall microseconds per call."
  echo
  table database call "wall us/call" "backend operations per call (x mean us)"
  for db in sqlite mysql; do
    for op in sluice_create sluice_stat sluice_rename sluice_delete raw_db_txn; do
      parts=""
      for k in $(printf '%s\n' "${!R[@]}" | grep "^$db\.${op}_calls\." | sort); do
        bop=${k##*.}
        parts+="${parts:+, }$bop ${R[$k]%% *} x ${R[$db.${op}_us.$bop]%% *}"
      done
      echo "| $db | ${op#sluice_} | $(awk -v r="${R[$db.$op]%% *}" 'BEGIN { if (r > 0) printf "%.0f", 1e6 / r }') | $parts |"
    done
  done
  echo
  echo "What the sequential I/O above cost the process (C API, one process per backend): CPU seconds"
  echo "(user + system, getrusage) per GiB moved (the write from opening the volume to its shutdown,"
  echo "the read from opening a new handle to the last byte), and the peak resident set of each"
  echo "phase (VmHWM, its window reset through /proc/self/clear_refs), against the cap of the"
  echo "volume's memory-size plus 64 MiB."
  echo
  table backend "write CPU s/GiB" "read CPU s/GiB" "write peak RSS" "read peak RSS" "cap (memory-size + 64 MiB)"
  for b in file s3 s3tls; do
    mem=${R[$b.memory_size]:-0 MiB}
    echo "| $(backend_name $b) | ${R[$b.sluice_write_cpu_s_per_gib]:-} | ${R[$b.sluice_read_cpu_s_per_gib]:-} | ${R[$b.sluice_write_peak_rss]:-} | ${R[$b.sluice_read_peak_rss]:-} | $(( ${mem%% *} + 64 )) MiB |"
  done
  echo
  echo "Payload signing (issue 17's \"measure both\"): over plain HTTP every upload is signed with"
  echo "the SHA-256 of its body; over HTTPS with UNSIGNED-PAYLOAD and a CRC32C the server checks"
  echo "(x-amz-checksum-crc32c). The same MinIO build serves both on this machine; HTTPS adds TLS"
  echo "on both ends, so the rates mix what the signing saves with what TLS costs."
  echo
  table "" "HTTP (SHA-256 payload)" "HTTPS (UNSIGNED-PAYLOAD + CRC32C)" "HTTPS / HTTP"
  for m in sluice_write raw_s3_put sluice_write_cpu_s_per_gib sluice_read raw_s3_get sluice_read_cpu_s_per_gib; do
    echo "| ${m//_/ } | ${R[s3.$m]:-} | ${R[s3tls.$m]:-} | $(ratio "${R[s3tls.$m]:-0}" "${R[s3.$m]:-0}") |"
  done
  echo
  echo "Kerberos mode: the same metadata workload on the same MariaDB database, directly and through"
  echo "\`sluice gateway\` on loopback (GSSAPI-authenticated, integrity-protected messages, permission"
  echo "checks on the gateway), one thread."
  echo
  table workload direct "through the gateway" "gateway / direct"
  for op in create stat rename delete; do
    echo "| $op | ${R[mysql.sluice_$op]} | ${R[gateway.sluice_$op]} | $(ratio "${R[gateway.sluice_$op]}" "${R[mysql.sluice_$op]}") |"
  done
  echo "| write $SIZE_MIB MiB (client with bucket keys / presigned URLs) | ${R[s3.sluice_write]} | ${R[gwdata.sluice_write]} | $(ratio "${R[gwdata.sluice_write]}" "${R[s3.sluice_write]}") |"
  echo "| read $SIZE_MIB MiB, cold | ${R[s3.sluice_read]} | ${R[gwdata.sluice_read]} | $(ratio "${R[gwdata.sluice_read]}" "${R[s3.sluice_read]}") |"
  echo
  echo "Write-ahead log: a 1 KiB record then hflush (staged in the local cache dir) or hsync (in"
  echo "object storage), latency in microseconds; hsync is read against one raw 1 KiB PUT plus one"
  echo "single-row transaction measured in the same run."
  echo
  table backend call p50 p99 p999
  for b in file s3; do
    name=$(backend_name $b)
    for c in hflush hsync hflush_nocache raw_put_1k raw_txn; do
      echo "| $name | $c | ${R[wal$b.${c}_p50]} | ${R[wal$b.${c}_p99]} | ${R[wal$b.${c}_p999]} |"
    done
  done
  echo
  echo "Concurrent hflush (group commit): THREADS threads append 1 KiB records and hflush each, into"
  echo "one stream they share (HBase's WAL) or one stream each; latency in microseconds, and per"
  echo "hflush the time spent staging (of which fdatasync), committing and waiting, and the metadata"
  echo "transactions it cost."
  echo
  table backend streams threads p50 p99 p999 hflush/s "staging (fdatasync)" commit wait txn/hflush
  for b in file s3; do
    name=$(backend_name $b)
    for mode in shared streams; do
      for t in 1 4 16; do
        [ $mode = streams ] && [ $t = 1 ] && continue
        k=walmt$b.hflush_${mode}_t$t
        echo "| $name | $mode | $t | ${R[${k}_p50]} | ${R[${k}_p99]} | ${R[${k}_p999]} | ${R[${k}_rate]} | ${R[${k}_stage]} (${R[${k}_fdatasync]}) | ${R[${k}_commit]} | ${R[${k}_wait]} | ${R[${k}_txn_per_hflush]} |"
      done
    done
  done
  echo
  echo "Replicated hflush (cache group, docs/cache-group.md): the writer's hflush also waits for a"
  echo "durable copy on another node (\`hflush.replicas\` = 2) or not (1); SQLite + file, one shared"
  echo "stream, latency in microseconds, and the time an hflush waited for the copies after its own"
  echo "staging. Loopback: the network costs nothing here."
  echo
  table copies threads p50 p99 p999 hflush/s "waiting for copies" "2 copies / 1, p50"
  for r in 1 2; do
    for t in 1 4; do
      k=cg$r.hflush_shared_t$t
      echo "| $r | $t | ${R[${k}_p50]:-} | ${R[${k}_p99]:-} | ${R[${k}_p999]:-} | ${R[${k}_rate]:-} | ${R[${k}_replicas]:-} | $(ratio "${R[cg$r.hflush_shared_t${t}_p50]:-0}" "${R[cg1.hflush_shared_t${t}_p50]:-0}") |"
    done
  done
  echo
  echo "Disk cache: sequential read of $CACHE_MIB MiB through a new volume handle (memory cache empty);"
  echo "every block read is cached (cache-writers=0, free-space-ratio=0, as sluice warmup does), so"
  echo "that the warm read measures reading from the disk cache, not what a busy or full disk admits."
  echo
  table backend "cold (fills the cache)" "warm (disk cache)" "plain local file" "warm / plain"
  for b in file s3; do
    name=$(backend_name $b)
    echo "| $name | ${R[cache$b.cold_read]} | ${R[cache$b.warm_read]} | ${R[cache$b.plain_file_read]} | $(ratio "${R[cache$b.warm_read]}" "${R[cache$b.plain_file_read]}") |"
  done
  echo
  echo "Profiles (perf record, CPU samples of the whole core_bench process at 999 Hz, flat by"
  echo "symbol, the symbols above 1%; a stripped library's addresses summed as one line): the sequential write and the cold read of $PROFILE_MIB MiB on"
  echo "MariaDB + S3 (no disk cache), and the warm read of the same file from a disk cache the read"
  echo "before filled (page cache warm, as the warm read above). Where CPU goes while the goal's"
  echo "rate is measured; time waiting on the network or the S3 server shows as no samples."
  for name in "${PROFILES[@]}"; do
    echo
    echo "**$name**"
    echo
    if [ -s "$OUT/profile-$name.txt" ]; then
      table "share of samples" object symbol
      awk -F '\t' '{ printf "| %s | %s | `%s` |\n", $1, $2, $3 }' "$OUT/profile-$name.txt"
    else
      echo "(no profile: perf is not installed or may not sample here; see core.log)"
    fi
  done
} > "$OUT/core.md"
echo "$OUT/core.md"
