#!/usr/bin/env bash
# pyspark.sh [VERSION] - prints the path of a virtualenv with PySpark (default 3.5.9, from PyPI;
# it bundles Spark's jars and Hadoop 3.3.4's shaded client), installing it once under the tools
# directory. Used by tests/engines/spark.sh and benchmarks/spark.sh.
set -euo pipefail
VERSION=${1:-3.5.9}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
VENV=$TOOLS/pyspark-$VERSION
if [ ! -f "$VENV/.complete" ]; then
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "pyspark==$VERSION" >&2 || { rm -rf "$VENV"; exit 1; }
  touch "$VENV/.complete"
fi
echo "$VENV"
