#!/usr/bin/env bash
# kdc.sh - starts/stops a throw-away MIT KDC for the tests: realm SLUICE.TEST with its own
# krb5.conf, kdc.conf, database, stash and logs under DIR, on a free loopback port (TCP and UDP).
#
#   tests/env/kdc.sh start DIR   # then: source DIR/kdc.env
#   tests/env/kdc.sh stop DIR    # kills the KDC and removes DIR
#   tests/env/kdc.sh status DIR
#   tests/env/kdc.sh addprinc DIR NAME [KEYTAB]   # one more principal (random key) in a running realm,
#                                                 # its keytab DIR/KEYTAB (default: NAME with / -> _)
#
# Principals and keytabs in DIR:
#   sluice/localhost  -> gateway.keytab   the gateway service
#   other/localhost   -> other.keytab     a second service ("ticket for another service")
#   hive/localhost    -> hive.keytab      a service user (a Hadoop proxy user)
#   alice, bob        -> alice.keytab, bob.keytab   end users
#   carol             -> carol.keytab     an end user whose tickets live CAROL_LIFE seconds
# DIR/kdc.env exports KRB5_CONFIG (the realm's krb5.conf), SLUICE_TEST_KRB5_REALM,
# SLUICE_TEST_KRB5_DIR, SLUICE_TEST_KDC_PORT, SLUICE_TEST_KDC_PID and KRB5CCNAME (a cache in DIR,
# so nothing touches the user's own tickets). The system's /etc/krb5.conf and KDC dirs are not used.
# The realm's clockskew is CLOCKSKEW seconds (MIT accepts a ticket until endtime + clockskew; a
# small skew lets tests see an expired ticket refused within seconds).
set -euo pipefail
# `|| true` below marks best-effort steps of failure reporting and shutdown (showing a log that
# may not exist, signalling a process that may be gone); they are not checks.

usage() { echo "usage: $0 start|stop|status DIR | addprinc DIR NAME [KEYTAB]" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
if [ "$cmd" = start ]; then mkdir -p "$2"; fi
if [ ! -d "$2" ]; then
  case $cmd in
    stop) echo "kdc.sh: not running ($2)"; exit 0 ;;
    status) echo "not running"; exit 1 ;;
    *) usage ;;
  esac
fi
DIR=$(cd "$2" && pwd)

REALM=SLUICE.TEST
LOG=$DIR/krb5kdc.log
PIDFILE=$DIR/krb5kdc.pid
ENVFILE=$DIR/kdc.env
KRB5CONF=$DIR/krb5.conf
KDCCONF=$DIR/kdc.conf
CAROL_LIFE=5
CLOCKSKEW=5
START_TIMEOUT=${SLUICE_KDC_START_TIMEOUT:-30}

# shellcheck source=tests/env/service-lib.sh
source "$(dirname "$0")/service-lib.sh"

# A pid from the pid file, if that process is alive and is the krb5kdc of this DIR (pids get reused).
kdc_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [ -n "$pid" ] || return 1
  [ -r "/proc/$pid/environ" ] || return 1
  # A killed but not yet reaped KDC is a zombie whose environ cannot be read: not running.
  { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "KRB5_KDC_PROFILE=$KDCCONF" || return 1
  echo "$pid"
}

# A port free for both TCP and UDP on 127.0.0.1 (the KDC listens on both), in place of
# service-lib.sh's.
free_port() {
  python3 - <<'EOF'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
else:
    raise SystemExit(1)
EOF
}

write_conf() { # port
  local port=$1
  cat >"$KRB5CONF" <<EOF
# krb5.conf of the throw-away test realm (tests/env/kdc.sh); nothing here is looked up in DNS.
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  clockskew = $CLOCKSKEW
  ticket_lifetime = 10h
  renew_lifetime = 7d
  forwardable = false
  default_ccache_name = FILE:$DIR/krb5cc_default
  default_client_keytab_name = FILE:$DIR/no-client.keytab
  default_keytab_name = FILE:$DIR/gateway.keytab
  default_rcache_name = file2:$DIR/default.rcache2

[realms]
  $REALM = {
    kdc = 127.0.0.1:$port
  }

[domain_realm]
  localhost = $REALM
  .localhost = $REALM
EOF
  cat >"$KDCCONF" <<EOF
# kdc.conf of the throw-away test realm (tests/env/kdc.sh).
[kdcdefaults]
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port

[realms]
  $REALM = {
    database_name = $DIR/db/principal
    key_stash_file = $DIR/stash
    acl_file = $DIR/kadm5.acl
    max_life = 10h
    max_renewable_life = 7d
    master_key_type = aes256-cts-hmac-sha1-96
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }

[logging]
  kdc = FILE:$LOG
  admin_server = FILE:$DIR/kadmin.log
  default = FILE:$DIR/krb5lib.log
EOF
}

kenv() { env KRB5_CONFIG="$KRB5CONF" KRB5_KDC_PROFILE="$KDCCONF" KRB5CCNAME="FILE:$DIR/krb5cc_probe" "$@"; }
kadmin() { kenv "$KADMIN" -r "$REALM" -q "$1" >>"$DIR/kadmin.log" 2>&1 || die "kadmin.local '$1' failed (see $DIR/kadmin.log)"; }

# The database with all principals and keytabs; done once per DIR (the keytabs stay valid across
# KDC restarts, which only change the port).
make_realm() {
  [ -f "$DIR/.realm" ] && return 0
  rm -rf "$DIR/db" "$DIR"/*.keytab "$DIR/stash"
  mkdir -p "$DIR/db"
  : >"$DIR/kadm5.acl"
  local mpass
  mpass=$(random_password 24)
  kenv "$KDB5_UTIL" -r "$REALM" create -s -P "$mpass" >>"$DIR/kadmin.log" 2>&1 ||
    die "kdb5_util create failed (see $DIR/kadmin.log)"
  local p f
  for p in sluice/localhost:gateway other/localhost:other hive/localhost:hive alice:alice bob:bob carol:carol; do
    f=${p#*:}
    p=${p%%:*}
    kadmin "addprinc -randkey $p@$REALM"
    kadmin "ktadd -k $DIR/$f.keytab $p@$REALM"
  done
  # carol's tickets expire soon after they are issued (the expiry tests).
  kadmin "modprinc -maxlife \"$CAROL_LIFE seconds\" carol@$REALM"
  chmod 600 "$DIR"/*.keytab
  touch "$DIR/.realm"
}

do_stop() {
  local pid
  if pid=$(kdc_pid); then
    stop_pid "$pid" 5
  fi
  rm -f "$PIDFILE"
}

# Launches krb5kdc on a port and waits until it issues a ticket; returns 3 when the port was taken
# in the meantime (the caller retries with another one).
launch() {
  local port=$1 pid i
  write_conf "$port"
  echo "==== $(date '+%F %T') starting on 127.0.0.1:$port" >>"$LOG"
  rm -f "$PIDFILE"
  KRB5_CONFIG="$KRB5CONF" KRB5_KDC_PROFILE="$KDCCONF" \
    setsid "$KRB5KDC" -n -r "$REALM" -P "$PIDFILE" </dev/null >>"$LOG" 2>&1 &
  pid=$!
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      if tail -n 20 "$LOG" | grep -q -i "Address already in use"; then return 3; fi
      die "krb5kdc exited during startup"
    fi
    if kenv "$KINIT" -k -t "$DIR/alice.keytab" "alice@$REALM" >/dev/null 2>&1; then
      kenv "$KDESTROY" >/dev/null 2>&1 || true
      [ -f "$PIDFILE" ] || echo "$pid" >"$PIDFILE"
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true # it may have exited meanwhile
  die "krb5kdc did not issue a ticket within ${START_TIMEOUT}s"
}

do_start() {
  local b
  for b in krb5kdc kdb5_util kadmin.local kinit; do
    if ! find_bin "$b" >/dev/null; then
      bash "$(dirname "$0")/deps.sh"
      break
    fi
  done
  KRB5KDC=$(find_bin krb5kdc) || die "krb5kdc not found (run tests/env/deps.sh)"
  KDB5_UTIL=$(find_bin kdb5_util) || die "kdb5_util not found (run tests/env/deps.sh)"
  KADMIN=$(find_bin kadmin.local) || die "kadmin.local not found (run tests/env/deps.sh)"
  KINIT=$(find_bin kinit) || die "kinit not found (run tests/env/deps.sh)"
  KDESTROY=$(find_bin kdestroy) || die "kdestroy not found (run tests/env/deps.sh)"

  if kdc_pid >/dev/null && [ -f "$ENVFILE" ]; then
    echo "kdc.sh: already running ($DIR)"
    return 0
  fi
  do_stop
  rm -f "$ENVFILE"
  # kdb5_util and kadmin.local read the config, so it exists (with a placeholder port) first.
  write_conf 0
  make_realm

  local port
  launch_on_free_port launch || die "could not find a free port"
  port=$LAUNCHED_PORT

  local pid
  pid=$(kdc_pid) || die "krb5kdc vanished"
  {
    echo "# written by tests/env/kdc.sh; source it"
    echo "export KRB5_CONFIG='$KRB5CONF'"
    echo "export KRB5CCNAME='FILE:$DIR/krb5cc_default'"
    echo "export SLUICE_TEST_KRB5_REALM=$REALM"
    echo "export SLUICE_TEST_KRB5_DIR='$DIR'"
    echo "export SLUICE_TEST_KDC_PORT=$port"
    echo "export SLUICE_TEST_KDC_PID=$pid"
  } >"$ENVFILE.tmp"
  mv "$ENVFILE.tmp" "$ENVFILE"
  echo "kdc.sh: realm $REALM on 127.0.0.1:$port, pid $pid; source $ENVFILE"
}

case $cmd in
  start) do_start ;;
  stop)
    do_stop
    rm -rf "$DIR"
    echo "kdc.sh: stopped ($DIR)"
    ;;
  addprinc)
    [ $# -ge 3 ] || usage
    [ -f "$DIR/.realm" ] || die "no realm in $DIR (run: $0 start $DIR)"
    KADMIN=$(find_bin kadmin.local) || die "kadmin.local not found (run tests/env/deps.sh)"
    name=${3%@*}
    kt=${4:-${name//\//_}.keytab}
    kadmin "addprinc -randkey $name@$REALM"
    kadmin "ktadd -k $DIR/$kt $name@$REALM"
    chmod 600 "$DIR/$kt"
    echo "$DIR/$kt"
    ;;
  status)
    if pid=$(kdc_pid); then echo "running, pid $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
