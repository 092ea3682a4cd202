#!/usr/bin/env bash
# s3-server.sh - starts/stops a private MinIO server for the tests: a pinned MinIO built once from
# the Go module proxy into a tools cache, its data and config under DIR, a free loopback port.
#
#   tests/env/s3-server.sh start DIR   # then: source DIR/s3.env
#   tests/env/s3-server.sh stop DIR
#   tests/env/s3-server.sh status DIR
#
# DIR/s3.env exports SLUICE_TEST_S3_ENDPOINT (http://127.0.0.1:PORT), SLUICE_TEST_S3_ACCESS_KEY,
# SLUICE_TEST_S3_SECRET_KEY and SLUICE_TEST_S3_PID. With SLUICE_S3_TLS=1 the server speaks HTTPS
# with a self-signed certificate made for 127.0.0.1, and SLUICE_TEST_S3_CA names that certificate. The cache is ${SLUICE_TOOLS_DIR:-~/.cache/sluice-tools}.
# Both commands are idempotent; stop also cleans up a half-started server.
set -euo pipefail
# `|| true` below marks best-effort steps of failure reporting and shutdown (showing a log that
# may not exist, signalling a process that may be gone); they are not checks.

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)

TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}
MINIO_DIR=$TOOLS/minio-$MINIO_VERSION
MINIO_BIN=$MINIO_DIR/minio
DATA=$DIR/data
LOG=$DIR/minio.log
PIDFILE=$DIR/minio.pid
PASSFILE=$DIR/root.pass
ENVFILE=$DIR/s3.env
ACCESS_KEY=sluiceadmin
START_TIMEOUT=${SLUICE_MINIO_START_TIMEOUT:-60}
TLS=${SLUICE_S3_TLS:-0}
SCHEME=http
[ "$TLS" = 1 ] && SCHEME=https
CERT=$DIR/certs/public.crt
STOP_TIMEOUT=${SLUICE_MINIO_STOP_TIMEOUT:-30}

# shellcheck source=tests/env/service-lib.sh
source "$(dirname "$0")/service-lib.sh"

# Builds the pinned MinIO once; a lock keeps concurrent starts from building it twice.
ensure_minio() {
  [ -x "$MINIO_BIN" ] && return 0
  # The base image keeps its Go toolchain outside PATH for non-login shells.
  command -v go >/dev/null 2>&1 || [ ! -x /usr/local/go/bin/go ] || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null 2>&1 || die "go not found (run tests/env/deps.sh)"
  mkdir -p "$TOOLS"
  exec 9>"$MINIO_DIR.lock"
  flock 9
  if [ ! -x "$MINIO_BIN" ]; then
    local tmp
    tmp=$(mktemp -d "$TOOLS/.minio-build.XXXXXX")
    echo "s3-server.sh: building MinIO $MINIO_VERSION (takes a few minutes, once)" >&2
    if ! GOBIN="$tmp" go install "$MINIO_MODULE@$MINIO_VERSION" >"$tmp.log" 2>&1; then
      tail -n 30 "$tmp.log" >&2 || true
      rm -rf "$tmp" "$tmp.log"
      die "go install $MINIO_MODULE@$MINIO_VERSION failed"
    fi
    rm -rf "$MINIO_DIR"
    mv "$tmp" "$MINIO_DIR"
    rm -f "$tmp.log"
  fi
  exec 9>&-
}

# The minio serving this DIR.
server_pid() { live_pid "$PIDFILE" " $DATA "; }

healthy() { # port
  local url="$SCHEME://127.0.0.1:$1/minio/health/live" ca=()
  [ "$TLS" = 1 ] && ca=(--cacert "$CERT")
  if command -v curl >/dev/null 2>&1; then
    curl -sf -o /dev/null --max-time 2 "${ca[@]}" "$url"
  else
    python3 -c 'import sys,ssl,urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
urllib.request.urlopen(sys.argv[1], timeout=2, context=ctx)' "$url" "${ca[1]:-}" >/dev/null 2>&1
  fi
}

make_cert() { # a self-signed certificate for 127.0.0.1, where MinIO looks for it
  [ -s "$CERT" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$DIR/certs/private.key" -out "$CERT" \
    >/dev/null 2>&1 || die "could not make a TLS certificate (openssl)"
}

do_stop() {
  local pid
  if ! pid=$(server_pid); then
    rm -f "$PIDFILE"
    echo "s3-server.sh: not running ($DIR)"
    return 0
  fi
  stop_pid "$pid" "$STOP_TIMEOUT"
  rm -f "$PIDFILE"
  echo "s3-server.sh: stopped ($DIR)"
}

# Launches minio and waits until it is live; returns 3 when a port was taken meanwhile.
launch() { # port console-port password
  local port=$1 console=$2 pass=$3 pid i
  echo "==== $(date '+%F %T') starting on 127.0.0.1:$port" >>"$LOG"
  MINIO_ROOT_USER=$ACCESS_KEY MINIO_ROOT_PASSWORD=$pass \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    setsid "$MINIO_BIN" server --quiet --anonymous \
    --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
    --certs-dir "$DIR/certs" "$DATA" </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      if tail -n 20 "$LOG" | grep -q -i "address already in use"; then return 3; fi
      die "minio exited during startup"
    fi
    if healthy "$port"; then return 0; fi
    sleep 0.2
  done
  do_stop >/dev/null 2>&1 || true
  die "minio did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s"
}

do_start() {
  command -v python3 >/dev/null 2>&1 || die "python3 not found"
  ensure_minio
  local pass port console try rc pid
  pass=$(stored_password "$PASSFILE" 32)

  if pid=$(server_pid) && [ -f "$ENVFILE" ] && port=$(sed -n 's/^# port //p' "$ENVFILE") &&
    [ -n "$port" ] && healthy "$port"; then
    echo "s3-server.sh: already running on 127.0.0.1:$port ($DIR)"
    return 0
  fi
  do_stop >/dev/null # whatever is left of an earlier attempt
  rm -f "$ENVFILE"
  mkdir -p "$DATA" "$DIR/certs"
  [ "$TLS" = 1 ] && make_cert

  for try in 1 2 3 4 5; do
    port=$(free_port) || die "no free port"
    console=$(free_port) || die "no free port"
    [ "$port" != "$console" ] || continue
    rc=0
    launch "$port" "$console" "$pass" || rc=$?
    [ "$rc" -eq 3 ] || break
    echo "s3-server.sh: a port was taken, retrying" >&2
  done
  [ "${rc:-1}" -eq 0 ] || die "could not find free ports"

  pid=$(server_pid) || die "minio vanished"
  {
    echo "# written by tests/env/s3-server.sh; source it"
    echo "# port $port"
    echo "export SLUICE_TEST_S3_ENDPOINT=$SCHEME://127.0.0.1:$port"
    [ "$TLS" = 1 ] && echo "export SLUICE_TEST_S3_CA=$CERT"
    echo "export SLUICE_TEST_S3_ACCESS_KEY=$ACCESS_KEY"
    echo "export SLUICE_TEST_S3_SECRET_KEY=$pass"
    echo "export SLUICE_TEST_S3_PID=$pid"
  } >"$ENVFILE.tmp"
  chmod 600 "$ENVFILE.tmp"
  mv "$ENVFILE.tmp" "$ENVFILE"
  echo "s3-server.sh: running on 127.0.0.1:$port, pid $pid; source $ENVFILE"
}

case $cmd in
  start) do_start ;;
  stop) do_stop ;;
  status)
    if pid=$(server_pid); then echo "running, pid $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
