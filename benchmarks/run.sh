#!/usr/bin/env bash
# run.sh - `make bench`: the C benchmark of libsluice on SQLite + file storage and on MariaDB +
# the S3 server (started here on loopback, as for the tests), each figure next to the raw limit
# measured in the same run. Writes benchmarks/results/<date>-<commit>/core.md and prints it.
# The side-by-side comparison with the peers (JuiceFS SDK, S3A, HDFS) arrives with the benchmark
# issue; this run says so in its report.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MIB=${SLUICE_BENCH_SIZE_MIB:-1024}
NFILES=${SLUICE_BENCH_FILES:-10000}
BENCH=$ROOT/build/bin/core_bench
SLUICE=$ROOT/build/bin/sluice
OUT=$ROOT/benchmarks/results/$(date -u +%Y-%m-%d)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
mkdir -p "$OUT"

source tests/env/services.sh bench >/dev/null
$SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE IF NOT EXISTS bench"
MYSQL_META="${SLUICE_TEST_MYSQL_URL%/*}/bench"
SQLITE_META="sqlite3://$WORK/bench.db"
"$SLUICE" format "$SQLITE_META" bench --storage file --bucket "$WORK/data" >/dev/null
"$SLUICE" format "$MYSQL_META" bench --storage minio --bucket "$SLUICE_TEST_S3_ENDPOINT/bench" \
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
echo "== metadata, SQLite ($NFILES files)"
collect sqlite < <("$BENCH" meta "$SQLITE_META" "$NFILES")
echo "== metadata, MariaDB ($NFILES files)"
collect mysql < <("$BENCH" meta "$MYSQL_META" "$NFILES")

NWAL=${SLUICE_BENCH_WAL:-2000}
CACHE_MIB=${SLUICE_BENCH_CACHE_MIB:-512}
for b in file s3; do
  meta=$SQLITE_META; [ $b = s3 ] && meta=$MYSQL_META
  echo "== write-ahead log, $b ($NWAL records of 1 KiB)"
  collect wal$b < <("$BENCH" wal "$meta" "$WORK/cache-wal-$b" "$NWAL")
  echo "== disk cache, $b ($CACHE_MIB MiB)"
  collect cache$b < <("$BENCH" cache "$meta" "$WORK/cache-read-$b" "$CACHE_MIB")
done

for k in file.sluice_write file.sluice_read s3.sluice_write s3.sluice_read sqlite.sluice_delete mysql.sluice_delete; do
  [ -n "${R[$k]:-}" ] || { echo "benchmark step $k produced no figure; see the errors above" >&2; exit 1; }
done

ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
{
  echo "# Sluice core benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB. Sequential I/O of $SIZE_MIB MiB"
  echo "in 1 MiB calls; metadata over $NFILES files in one thread. Peers (JuiceFS SDK, S3A, HDFS) come"
  echo "with the benchmark issue; here each figure stands next to the raw limit of the same run."
  echo
  echo "| workload | Sluice | raw limit | ratio |"
  echo "|---|---|---|---|"
  echo "| write, file storage | ${R[file.sluice_write]} | ${R[file.raw_file_write]} (plain file) | $(ratio "${R[file.sluice_write]}" "${R[file.raw_file_write]}") |"
  echo "| read (cold), file storage | ${R[file.sluice_read]} | ${R[file.raw_file_read]} (plain file) | $(ratio "${R[file.sluice_read]}" "${R[file.raw_file_read]}") |"
  echo "| write, S3 | ${R[s3.sluice_write]} | ${R[s3.raw_s3_put]} (4 MiB PUT x20) | $(ratio "${R[s3.sluice_write]}" "${R[s3.raw_s3_put]}") |"
  echo "| read (cold), S3 | ${R[s3.sluice_read]} | ${R[s3.raw_s3_get]} (4 MiB GET x20) | $(ratio "${R[s3.sluice_read]}" "${R[s3.raw_s3_get]}") |"
  for db in sqlite mysql; do
    for op in create stat rename delete; do
      echo "| $op, $db | ${R[$db.sluice_$op]} | ${R[$db.raw_db_txn]} (1-row txn) | $(ratio "${R[$db.sluice_$op]}" "${R[$db.raw_db_txn]}") |"
    done
  done
  echo
  echo "Write-ahead log: a 1 KiB record then hflush (staged in the local cache dir) or hsync (in"
  echo "object storage), latency in microseconds; hsync is read against one raw 1 KiB PUT plus one"
  echo "single-row transaction measured in the same run."
  echo
  echo "| backend | call | p50 | p99 | p999 |"
  echo "|---|---|---|---|---|"
  for b in file s3; do
    name="SQLite + file"; [ $b = s3 ] && name="MariaDB + S3"
    for c in hflush hsync hflush_nocache raw_put_1k raw_txn; do
      echo "| $name | $c | ${R[wal$b.${c}_p50]} | ${R[wal$b.${c}_p99]} | ${R[wal$b.${c}_p999]} |"
    done
  done
  echo
  echo "Disk cache: sequential read of $CACHE_MIB MiB through a new volume handle (memory cache empty)."
  echo
  echo "| backend | cold (fills the cache) | warm (disk cache) | plain local file | warm / plain |"
  echo "|---|---|---|---|---|"
  for b in file s3; do
    name="SQLite + file"; [ $b = s3 ] && name="MariaDB + S3"
    echo "| $name | ${R[cache$b.cold_read]} | ${R[cache$b.warm_read]} | ${R[cache$b.plain_file_read]} | $(ratio "${R[cache$b.warm_read]}" "${R[cache$b.plain_file_read]}") |"
  done
} > "$OUT/core.md"
echo
cat "$OUT/core.md"
echo
echo "report: $OUT/core.md"
