#!/usr/bin/env bash
# spark.sh - Spark's Parquet write and read (PySpark, local[2]; benchmarks/spark_bench.py) on a
# Sluice volume on MariaDB + S3 and one on SQLite + local files against file://; called by run.sh
# with the services already up. Writes OUT/spark.md (the medians and the ratios). Not a test.
#   spark.sh OUT MYSQL-META-BASE WORK ROWS REPS JAR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$1 WORK=$3 ROWS=$4 REPS=$5 JAR=$6
SLUICE=$ROOT/build/bin/sluice
source benchmarks/obtain.sh
cached=no; [ -f "$TOOLS/pyspark-3.5.9/.complete" ] && cached=yes
VENV=$(obtain_timed "Spark (PySpark)" 3.5.9 $cached bash tests/env/pyvenv.sh pyspark 3.5.9)
$SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE IF NOT EXISTS sparkbench"
MYSQL_META="${2%/*}/sparkbench"
SQLITE_META="sqlite3://$WORK/sparkbench.db"
"$SLUICE" format "$SQLITE_META" sparkbenchfile --storage file --bucket "$WORK/sparkbench-data" \
  --trash-days 0 >/dev/null
"$SLUICE" format "$MYSQL_META" sparkbenchs3 --storage minio --trash-days 0 \
  --bucket "$SLUICE_TEST_S3_ENDPOINT/sparkbench" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
  --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null
conf=$WORK/sparkbench-conf
mkdir -p "$conf" "$WORK/sparkbench-local"
cat >"$conf/spark-defaults.conf" <<CONF
spark.master                                     local[2]
spark.driver.memory                              2g
spark.ui.enabled                                 false
spark.ui.showConsoleProgress                     false
spark.jars                                       $JAR
spark.hadoop.fs.sluice.impl                      io.sluice.hadoop.SluiceFileSystem
spark.hadoop.fs.AbstractFileSystem.sluice.impl   io.sluice.hadoop.Sluice
spark.hadoop.sluice.sparkbenchfile.meta          $SQLITE_META
spark.hadoop.sluice.sparkbenchs3.meta            $MYSQL_META
CONF
echo "rootLogger.level = error" >"$conf/log4j2.properties"
SPARK_CONF_DIR=$conf PYSPARK_PYTHON=$VENV/bin/python SPARK_LOCAL_IP=127.0.0.1 \
  "$VENV/bin/python" benchmarks/spark_bench.py "$ROWS" "$REPS" \
  "sluice-mysql=sluice://sparkbenchs3/b" "sluice-sqlite=sluice://sparkbenchfile/b" \
  "local=file://$WORK/sparkbench-local" | tee "$OUT/spark.txt"

/usr/bin/python3 - "$OUT/spark.txt" "$ROWS" "$REPS" >"$OUT/spark.md" <<'PY'
import statistics
import sys

runs = {}
for line in open(sys.argv[1]):
    name, _, w, r = line.split()
    runs.setdefault(name, []).append((float(w), float(r)))
med = {n: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v))
       for n, v in runs.items()}
print("## Spark: Parquet write and read\n")
print(f"PySpark 3.5.9, local[2], {int(sys.argv[2]):,} rows (5 columns, 4 files), "
      f"{sys.argv[3]} repetition(s), median seconds; the read is a full scan with an "
      "aggregate. Ratio: local / Sluice (above 1: Sluice is faster).\n")
print("| target | write (s) | read (s) | write ratio | read ratio |")
print("|---|---|---|---|---|")
lw, lr = med.get("local", (None, None))
for name, (w, r) in med.items():
    rw = f"{lw / w:.2f}" if lw else "-"
    rr = f"{lr / r:.2f}" if lr else "-"
    print(f"| {name} | {w:.2f} | {r:.2f} | {rw} | {rr} |")
PY
echo "$OUT/spark.md"
