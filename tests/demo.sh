#!/usr/bin/env bash
# demo.sh - `make demo`: an embedded volume (SQLite + a local directory) used through the sluice
# CLI, then read by the real JuiceFS client to show the format is shared, then used from Hadoop:
# `hadoop fs` (tools/hadoop-fs, Hadoop's FsShell) and a MapReduce wordcount on sluice://demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE=$PWD/build/bin/sluice
DEMO=${SLUICE_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")}
META="sqlite3://$DEMO/meta.db"
run() { echo "\$ $*"; "$@"; }

echo "Sluice demo in $DEMO"
run "$SLUICE" format "$META" demo --storage file --bucket "$DEMO/data"
run "$SLUICE" mkdir "$META" /user/demo/input
seq 1 100000 > "$DEMO/numbers.txt"
run "$SLUICE" put "$META" "$DEMO/numbers.txt" /user/demo/input/numbers.txt
run "$SLUICE" ls "$META" /user/demo/input
run "$SLUICE" info "$META" /user/demo/input/numbers.txt
echo "\$ sluice cat $META /user/demo/input/numbers.txt | tail -3"
"$SLUICE" cat "$META" /user/demo/input/numbers.txt | tail -3
run "$SLUICE" mv "$META" /user/demo/input /user/demo/archive
run "$SLUICE" info "$META"

JUICEFS=$(tests/env/juicefs.sh)
export DEMO_META=$META
echo "\$ juicefs sync jfs://DEMO_META/user/demo/archive/ $DEMO/from-juicefs/   (the same volume, read by JuiceFS)"
"$JUICEFS" --quiet sync jfs://DEMO_META/user/demo/archive/ "$DEMO/from-juicefs/"
cmp "$DEMO/numbers.txt" "$DEMO/from-juicefs/numbers.txt" && echo "juicefs read the file byte-identical"

echo
echo "== Hadoop on the same volume: sluice://demo/ =="
echo "\$ mvn -DskipTests package   (target/sluice-hadoop-*.jar, with libsluice.so inside)"
# Packaging only: the demo shows the jar at work; `make test` runs its tests.
if ! mvn -B -q -ntp -DskipTests package -Dsluice.build.dir="$PWD/build" > "$DEMO/mvn.log" 2>&1; then
  cat "$DEMO/mvn.log" >&2
  exit 1
fi
HFS=(tools/hadoop-fs "-Dsluice.meta=$META")
V=sluice://demo
# the text to count: this project's docs (\r and \f made blanks, as Hadoop's tokenizer sees them)
cat README.md docs/*.md | tr '\r\f' '  ' > "$DEMO/docs.txt"
run "${HFS[@]}" -mkdir -p $V/user/demo/docs
run "${HFS[@]}" -put "$DEMO/docs.txt" $V/user/demo/docs/
run "${HFS[@]}" -ls -R $V/user/demo
echo "\$ ${HFS[*]} -cat $V/user/demo/archive/numbers.txt > $DEMO/numbers-hadoop.txt"
"${HFS[@]}" -cat $V/user/demo/archive/numbers.txt > "$DEMO/numbers-hadoop.txt"
cmp "$DEMO/numbers.txt" "$DEMO/numbers-hadoop.txt" && echo "hadoop fs -cat read the CLI's file byte-identical"
run "${HFS[@]}" -du -s -h $V/user/demo

echo "\$ tools/hadoop-fs --run org.apache.hadoop.examples.ExampleDriver wordcount -Dsluice.meta=$META $V/user/demo/docs $V/user/demo/wordcount"
if ! tools/hadoop-fs --run org.apache.hadoop.examples.ExampleDriver wordcount "-Dsluice.meta=$META" \
    $V/user/demo/docs $V/user/demo/wordcount 2> "$DEMO/wordcount.log"; then
  cat "$DEMO/wordcount.log" >&2
  exit 1
fi
grep -E "completed successfully|SLUICE: Number of bytes" "$DEMO/wordcount.log" | sed 's/^[[:space:]]*/  /'
run "${HFS[@]}" -ls $V/user/demo/wordcount
"${HFS[@]}" -cat "$V/user/demo/wordcount/part-r-*" > "$DEMO/wordcount.txt"
echo "the ten most frequent words:"
LC_ALL=C sort -t$'\t' -k2,2nr -k1,1 "$DEMO/wordcount.txt" > "$DEMO/wordcount-by-count.txt"
head -10 "$DEMO/wordcount-by-count.txt" | sed 's/^/  /'
awk '{ for (i = 1; i <= NF; i++) n[$i]++ } END { for (w in n) printf "%s\t%d\n", w, n[w] }' \
    "$DEMO/docs.txt" | LC_ALL=C sort > "$DEMO/wordcount-awk.txt"
LC_ALL=C sort "$DEMO/wordcount.txt" | cmp - "$DEMO/wordcount-awk.txt" \
  && echo "the MapReduce counts equal a local count with awk ($(wc -l < "$DEMO/wordcount.txt") words)"
