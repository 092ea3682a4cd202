#!/usr/bin/env bash
# demo.sh - `make demo`: an embedded volume (SQLite + a local directory) used through the sluice
# CLI, then read by the real JuiceFS client to show the format is shared.
# The Hadoop part of the demo (hadoop fs and a MapReduce job on sluice://) arrives with the Hadoop
# FileSystem issue; until then this demo says so and shows the native volume.
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
echo "NOTE: the Hadoop part of this demo (hadoop fs, a MapReduce job on sluice://) is a placeholder"
echo "until the Hadoop FileSystem issue lands; the volume above is ready for it."
