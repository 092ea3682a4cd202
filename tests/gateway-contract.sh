#!/usr/bin/env bash
# gateway-contract.sh - Hadoop's contract suites through `sluice gateway` (Kerberos mode) on
# MariaDB + S3, with keytab logins: once as the superuser (root here), once as an ordinary user
# (alice) on a volume of her own, as most jobs run; needs `make` first. A step of `make test` (tests/run.sh, which
# has started the services already); run by hand, it starts its own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
if [ -n "${SLUICE_TEST_MYSQL_URL:-}" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-gwcontract.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
else
  source tests/env/services.sh gwcontract
fi
# The gateway's /metrics after the suites: Prometheus text with its volume handle's counters,
# which the suites moved; another path is 404.
check_metrics() {
  local url=$1 body resolves
  [ -n "$url" ] || { echo "FAIL: the gateway printed no metrics port"; return 1; }
  body=$(curl -sf "$url") || { echo "FAIL: GET $url"; return 1; }
  resolves=$(sed -n 's/^sluice_meta_resolve_calls_total \([0-9]*\)$/\1/p' <<<"$body")
  if ! grep -q '^# TYPE sluice_object_puts_total counter$' <<<"$body" || [ "${resolves:-0}" -lt 1 ]; then
    echo "FAIL: $url lacks the counters the suites moved:"; head -20 <<<"$body"; return 1
  fi
  [ "$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/other")" = 404 ] ||
    { echo "FAIL: ${url%/metrics}/other is not 404"; return 1; }
  echo "ok: the gateway's /metrics ($resolves resolves)"
}
# `sluice stats` of the gateway during the suites: its header, and lines with metadata operations
# per second and their mean time (the clients move data through presigned URLs, so the gateway's
# object storage rates stay near zero).
check_stats() {
  local log=$1
  if ! head -1 "$log" | grep -q 'meta/s' ||
    ! awk 'NR > 1 && $2 > 100 && $3 > 0 { busy++ } END { exit busy >= 3 ? 0 : 1 }' "$log"; then
    echo "FAIL: sluice stats of the gateway shows no activity:"; head -20 "$log"; return 1
  fi
  echo "ok: sluice stats ($(($(wc -l <"$log") - 1)) lines)"
}
# contract_through_gateway DB USER: a volume in database DB, the suites logged in as USER
contract_through_gateway() {
  local db=$1 user=$2 rc=0
  local meta="${SLUICE_TEST_MYSQL_URL%/*}/$db"
  $SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE $db" &&
    "$ROOT/$BUILD/bin/sluice" format "$meta" testvol --storage minio --trash-days 0 \
      --bucket "$SLUICE_TEST_S3_ENDPOINT/$db" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
      --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null &&
    tests/env/gateway.sh start "$WORK/$db" "$ROOT/$BUILD/bin/sluice" "$meta" superuser=root \
      metrics.listen=127.0.0.1:0 || return 1
  # shellcheck disable=SC1091
  source "$WORK/$db/gateway.env"
  local keytab=$SLUICE_TEST_GATEWAY_KEYTAB
  [ "$user" = root ] || keytab=$SLUICE_TEST_GATEWAY_USER_KEYTAB
  echo "== the suites through the gateway as $user"
  # `sluice stats` watches the gateway's counters while the suites run
  local hostport=${SLUICE_TEST_GATEWAY_METRICS#http://}
  "$ROOT/$BUILD/bin/sluice" stats "${hostport%/metrics}" --interval 1 >"$WORK/$db/stats.log" 2>&1 &
  local stats_pid=$!
  # The client holds no bucket keys (only the gateway does): its data goes through presigned URLs.
  # Hadoop's user is the login's, as in a Kerberized cluster (the suites expect /user/<UGI user>).
  HADOOP_USER_NAME=$user SLUICE_TEST_GATEWAY_AS=$user SLUICE_TEST_META=$SLUICE_TEST_GATEWAY_URL \
    SLUICE_TEST_CONF="kerberos.keytab=$keytab;gateway.principal=$SLUICE_TEST_GATEWAY_PRINCIPAL" \
    mvn -B -ntp -o surefire:test -Dsluice.build.dir="$ROOT/$BUILD" \
    -Dtest='TestSluiceContract*,TestSluiceFileSystemContract,TestSluiceDelegationTokensThroughGateway,TestSluiceGatewayIdentity' || rc=$?
  check_metrics "$SLUICE_TEST_GATEWAY_METRICS" || rc=1
  kill "$stats_pid" 2>/dev/null
  wait "$stats_pid" 2>/dev/null || true # killed just above: its status is the signal's
  check_stats "$WORK/$db/stats.log" || rc=1
  tests/env/gateway.sh stop "$WORK/$db" || rc=$((rc ? rc : 1))
  if ((rc)); then echo "---- gateway log ----"; tail -n 50 "$WORK/$db/gateway.log"; fi
  return $rc
}
rc=0
contract_through_gateway gateway root || rc=1
contract_through_gateway gatewayuser alice || rc=1
exit $rc
