#!/usr/bin/env bash
# gateway.sh - starts/stops `sluice gateway` for tests and benchmarks: Kerberos mode's metadata
# server on a free loopback port, serving META-URL with the keytab of the test realm
# (tests/env/kdc.sh, whose kdc.env must be sourced). Also adds the client principals root@REALM
# (keytab DIR/root.keytab: the Java suites and benchmarks log in as root, which tests make the
# superuser) and alice@REALM (alice.keytab: an ordinary user).
#
#   tests/env/gateway.sh start DIR SLUICE-CLI META-URL [KEY=VALUE...]  # then: source DIR/gateway.env
#   tests/env/gateway.sh stop DIR   # stops it (SIGTERM; fails if it does not exit cleanly)
#
# DIR/gateway.env exports SLUICE_TEST_GATEWAY_URL (gateway://127.0.0.1:PORT),
# SLUICE_TEST_GATEWAY_METRICS (its /metrics URL, with metrics.listen=127.0.0.1:0 given, else empty),
# SLUICE_TEST_GATEWAY_PRINCIPAL, SLUICE_TEST_GATEWAY_KEYTAB (root's keytab) and
# SLUICE_TEST_GATEWAY_USER_KEYTAB (alice's).
set -euo pipefail
usage() { echo "usage: $0 start DIR SLUICE-CLI META-URL [KEY=VALUE...] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 DIR=$2
case $cmd in
start)
  [ $# -ge 4 ] || usage
  cli=$3 meta=$4
  shift 4
  : "${SLUICE_TEST_KRB5_DIR:?source kdc.env of tests/env/kdc.sh first}"
  mkdir -p "$DIR/rcache"
  here=$(cd "$(dirname "$0")" && pwd)
  for user in root alice; do
    [ -f "$SLUICE_TEST_KRB5_DIR/$user.keytab" ] ||
      "$here/kdc.sh" addprinc "$SLUICE_TEST_KRB5_DIR" $user $user.keytab >/dev/null
  done
  principal=sluice/localhost@$SLUICE_TEST_KRB5_REALM
  opts=(-o "meta=$meta" -o gateway.listen=127.0.0.1:0 -o "gateway.principal=$principal"
        -o "gateway.keytab=$SLUICE_TEST_KRB5_DIR/gateway.keytab" -o "gateway.rcache=$DIR/rcache")
  for kv in "$@"; do opts+=(-o "$kv"); done
  "$cli" gateway "${opts[@]}" >"$DIR/gateway.log" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/gateway.pid"
  port=
  for _ in $(seq 300); do
    port=$(sed -n 's/^sluice gateway: listening on port \([0-9]*\)$/\1/p' "$DIR/gateway.log")
    [ -z "$port" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "gateway.sh: the gateway did not start:" >&2
    cat "$DIR/gateway.log" >&2
    kill "$pid" 2>/dev/null || true # it may have exited already
    exit 1
  fi
  # with metrics.listen among the settings, where its /metrics is
  metrics=$(sed -n 's/^sluice gateway: metrics on port \([0-9]*\)$/\1/p' "$DIR/gateway.log")
  cat >"$DIR/gateway.env" <<ENV
export SLUICE_TEST_GATEWAY_METRICS=${metrics:+http://127.0.0.1:$metrics/metrics}
export SLUICE_TEST_GATEWAY_URL=gateway://127.0.0.1:$port
export SLUICE_TEST_GATEWAY_PRINCIPAL=$principal
export SLUICE_TEST_GATEWAY_KEYTAB=$SLUICE_TEST_KRB5_DIR/root.keytab
export SLUICE_TEST_GATEWAY_USER_KEYTAB=$SLUICE_TEST_KRB5_DIR/alice.keytab
ENV
  echo "gateway.sh: serving on 127.0.0.1:$port, pid $pid; source $DIR/gateway.env"
  ;;
stop)
  [ -f "$DIR/gateway.pid" ] || { echo "gateway.sh: not running ($DIR)"; exit 0; }
  pid=$(cat "$DIR/gateway.pid")
  rm -f "$DIR/gateway.pid"
  kill "$pid"
  # a gateway that does not end by itself within 30 s is a failure (and is killed)
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
  echo "gateway.sh: the gateway did not stop on SIGTERM; killing it" >&2
  kill -9 "$pid"
  exit 1
  ;;
*) usage ;;
esac
