# services.sh - sourced by tests/run.sh and benchmarks/run.sh: starts MariaDB, the S3 server
# (plain HTTP, and a second one over HTTPS) and an MIT KDC in a private temporary directory
# ($WORK), exports their addresses, and stops them (and removes $WORK) when the calling script
# exits, also on failure or interrupt.
#   usage: ROOT=<checkout>; source "$ROOT/tests/env/services.sh" TAG
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$1.XXXXXX")
chmod 700 "$WORK"
sluice_services_stop() {
  set +e
  "$ROOT/tests/env/kdc.sh" stop "$WORK/kdc" >/dev/null 2>&1
  "$ROOT/tests/env/s3-server.sh" stop "$WORK/s3" >/dev/null 2>&1
  "$ROOT/tests/env/s3-server.sh" stop "$WORK/s3tls" >/dev/null 2>&1
  "$ROOT/tests/env/mariadb.sh" stop "$WORK/mariadb" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap sluice_services_stop EXIT INT TERM
echo "== starting MariaDB, the S3 server and a KDC in $WORK"
"$ROOT/tests/env/mariadb.sh" start "$WORK/mariadb"
# shellcheck disable=SC1091
source "$WORK/mariadb/mariadb.env"
"$ROOT/tests/env/s3-server.sh" start "$WORK/s3"
# A second instance speaks HTTPS with its own CA, for the certificate checks.
SLUICE_S3_TLS=1 "$ROOT/tests/env/s3-server.sh" start "$WORK/s3tls"
# shellcheck disable=SC1091
eval "$(source "$WORK/s3tls/s3.env" && for v in ENDPOINT CA ACCESS_KEY SECRET_KEY; do
  n=SLUICE_TEST_S3_$v; printf 'export SLUICE_TEST_S3TLS_%s=%q\n' "$v" "${!n}"; done)"
# shellcheck disable=SC1091
source "$WORK/s3/s3.env"
# The throw-away Kerberos realm: exports KRB5_CONFIG and SLUICE_TEST_KRB5_*; only the Kerberos
# tests use them.
"$ROOT/tests/env/kdc.sh" start "$WORK/kdc"
# shellcheck disable=SC1091
source "$WORK/kdc/kdc.env"
