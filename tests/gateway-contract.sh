#!/usr/bin/env bash
# gateway-contract.sh - Hadoop's contract suites through `sluice gateway` (Kerberos mode) on
# MariaDB + S3, with a keytab login; needs `make` first. A step of `make test` (tests/run.sh, which
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
contract_through_gateway() {
  local meta="${SLUICE_TEST_MYSQL_URL%/*}/gateway" rc=0
  $SLUICE_TEST_MYSQL_ADMIN -e "CREATE DATABASE gateway" &&
    "$ROOT/$BUILD/bin/sluice" format "$meta" testvol --storage minio --trash-days 0 \
      --bucket "$SLUICE_TEST_S3_ENDPOINT/gateway" --access-key "$SLUICE_TEST_S3_ACCESS_KEY" \
      --secret-key "$SLUICE_TEST_S3_SECRET_KEY" >/dev/null &&
    tests/env/gateway.sh start "$WORK/gateway" "$ROOT/$BUILD/bin/sluice" "$meta" || return 1
  # shellcheck disable=SC1091
  source "$WORK/gateway/gateway.env"
  # The client holds no bucket keys (only the gateway does): its data goes through presigned URLs.
  SLUICE_TEST_META=$SLUICE_TEST_GATEWAY_URL \
    SLUICE_TEST_CONF="kerberos.keytab=$SLUICE_TEST_GATEWAY_KEYTAB;gateway.principal=$SLUICE_TEST_GATEWAY_PRINCIPAL" \
    mvn -B -ntp -o surefire:test -Dsluice.build.dir="$ROOT/$BUILD" \
    -Dtest='TestSluiceContract*,TestSluiceFileSystemContract,TestSluiceDelegationTokensThroughGateway' || rc=$?
  tests/env/gateway.sh stop "$WORK/gateway" || rc=$((rc ? rc : 1))
  if ((rc)); then echo "---- gateway log ----"; tail -n 50 "$WORK/gateway/gateway.log"; fi
  return $rc
}
contract_through_gateway
