#!/usr/bin/env bash
# mariadb.sh - starts/stops a private MariaDB server for the tests: its own data directory, socket
# and loopback port under DIR, a random root password, databases `sluice` and `jfs`.
#
#   tests/env/mariadb.sh start DIR   # then: source DIR/mariadb.env
#   tests/env/mariadb.sh stop DIR
#   tests/env/mariadb.sh restart DIR [SECONDS]   # a clean shutdown, SECONDS down, the same port
#
# DIR/mariadb.env exports SLUICE_TEST_MYSQL_URL (mysql://root:PASS@(127.0.0.1:PORT)/sluice), the
# parts of it (SLUICE_TEST_MYSQL_HOST/PORT/USER/PASSWORD/SOCKET), SLUICE_TEST_MYSQL_ADMIN, a
# client command line logged in as root (e.g. `$SLUICE_TEST_MYSQL_ADMIN -e 'CREATE DATABASE x'`),
# and SLUICE_TEST_MYSQL_RESTART, the restart command line for this DIR (append SECONDS).
# start and stop are idempotent; stop also cleans up a half-started server.
set -euo pipefail
# `|| true` below marks best-effort steps of failure reporting and shutdown (showing a log that
# may not exist, signalling a process that may be gone); they are not checks.

usage() { echo "usage: $0 start|stop|status DIR | restart DIR [SECONDS]" >&2; exit 2; }
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = restart ]; } || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
DATA=$DIR/data
LOG=$DIR/mariadb.log
PIDFILE=$DIR/mariadb.pid       # written by mariadbd
LAUNCHPID=$DIR/mariadbd.launch # the pid we started, for cleanup before mariadbd wrote its own
CNF=$DIR/client.cnf            # client options with the root password (mode 600)
PASSFILE=$DIR/root.pass
PORTFILE=$DIR/port             # the port of the last start, kept by restart
ENVFILE=$DIR/mariadb.env
START_TIMEOUT=${SLUICE_MARIADB_START_TIMEOUT:-120}
STOP_TIMEOUT=${SLUICE_MARIADB_STOP_TIMEOUT:-30}
# A server that never finished starting can hang on SIGTERM (seen with 10.11), and holds no data
# worth a clean shutdown: it gets a short grace before SIGKILL.
STOP_TIMEOUT_UNREADY=5

# shellcheck source=tests/env/service-lib.sh
source "$(dirname "$0")/service-lib.sh"

# The unix socket path must fit in sun_path (108 bytes); a deep DIR gets one under /tmp instead.
socket_path() {
  if [ -f "$DIR/socket.path" ]; then cat "$DIR/socket.path"; return; fi
  local s=$DIR/mysqld.sock
  if [ ${#s} -gt 100 ]; then
    s=$(mktemp -d /tmp/sluice-mdb.XXXXXX)/mysqld.sock
  fi
  echo "$s" >"$DIR/socket.path"
  echo "$s"
}

# The mariadbd of this DIR, from the pid file it writes or the one of the launch.
server_pid() { live_pid "$PIDFILE" "--datadir=$DATA" || live_pid "$LAUNCHPID" "--datadir=$DATA"; }

admin() { "$ADMIN_BIN" --defaults-file="$CNF" "$@"; }
client() { "$CLIENT_BIN" --defaults-file="$CNF" "$@"; }

write_cnf() { # password (may be empty)
  local sock
  sock=$(socket_path)
  umask 077
  {
    echo "[client]"
    echo "user=root"
    [ -z "$1" ] || echo "password=$1"
    echo "socket=$sock"
    echo "connect-timeout=5"
  } >"$CNF"
}

do_stop() { # [grace seconds]
  local pid grace=${1:-$STOP_TIMEOUT}
  if ! pid=$(server_pid); then
    rm -f "$PIDFILE" "$LAUNCHPID"
    echo "mariadb.sh: not running ($DIR)"
    return 0
  fi
  # A clean shutdown first, then signals; a half-started server may not accept the admin command.
  if [ -f "$CNF" ]; then admin shutdown >/dev/null 2>&1 || true; fi
  stop_pid "$pid" "$grace" reterm
  rm -f "$PIDFILE" "$LAUNCHPID"
  echo "mariadb.sh: stopped ($DIR)"
}

# Launches mariadbd on a fresh port and waits until it answers; returns 3 when the port was taken
# in the meantime (the caller retries with another one).
launch() {
  local port=$1 sock pid i
  sock=$(socket_path)
  rm -f "$PIDFILE"
  mkdir -p "$DIR/tmp" # its temporary tables: private, so that nothing cleaning /tmp breaks a query
  echo "==== $(date '+%F %T') starting on 127.0.0.1:$port" >>"$LOG"
  setsid "$SERVER_BIN" --no-defaults \
    --user="$(id -un)" \
    --datadir="$DATA" --tmpdir="$DIR/tmp" --socket="$sock" --pid-file="$PIDFILE" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$LOG" --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=128M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$LAUNCHPID"
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      if tail -n 20 "$LOG" | grep -q -i -e "Address already in use" -e "Bind on TCP/IP port"; then
        return 3
      fi
      die "mariadbd exited during startup"
    fi
    # ping exits 0 as soon as the server answers, even with "access denied".
    if "$ADMIN_BIN" --no-defaults --socket="$sock" --connect-timeout=2 ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  do_stop "$STOP_TIMEOUT_UNREADY" >/dev/null 2>&1 || true
  die "mariadbd did not answer within ${START_TIMEOUT}s"
}

do_start() {
  mariadb_bins

  local pass port
  pass=$(stored_password "$PASSFILE" 24)

  if server_pid >/dev/null && [ -f "$DIR/.ready" ] && [ -f "$ENVFILE" ] && admin ping >/dev/null 2>&1; then
    echo "mariadb.sh: already running ($DIR)"
    return 0
  fi
  # Whatever is left of an earlier attempt goes first.
  if [ -f "$DIR/.ready" ]; then do_stop >/dev/null; else do_stop "$STOP_TIMEOUT_UNREADY" >/dev/null; fi
  rm -f "$DIR/.ready" "$ENVFILE"

  # The data directory appears only once it is complete (an interrupted install leaves a broken
  # InnoDB behind), so it is built aside and renamed.
  if [ ! -d "$DATA/mysql" ]; then
    rm -rf "$DATA" "$DATA.new"
    mkdir -p "$DATA.new"
    "$INSTALL_BIN" --no-defaults --datadir="$DATA.new" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
      --innodb-log-file-size=48M >>"$LOG" 2>&1 || { rm -rf "$DATA.new"; die "mariadb-install-db failed"; }
    mv "$DATA.new" "$DATA"
    rm -f "$DIR/.password_set"
  fi

  if [ -n "${KEEP_PORT:-}" ]; then
    # A restart: clients keep their URL, so the server comes back where it was.
    port=$(cat "$PORTFILE") || die "no port recorded in $PORTFILE"
    launch "$port" || die "port $port was taken while the server was down"
  else
    launch_on_free_port launch || die "could not find a free port"
    port=$LAUNCHED_PORT
  fi
  echo "$port" >"$PORTFILE"

  # A fresh data directory has a root without password; set ours once.
  if [ -f "$DIR/.password_set" ]; then
    write_cnf "$pass"
  else
    write_cnf ""
    client <<SQL || die "setting the root password failed"
ALTER USER 'root'@'localhost' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$pass';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '$pass';
ALTER USER 'root'@'::1' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    touch "$DIR/.password_set"
    write_cnf "$pass"
  fi
  client -e "CREATE DATABASE IF NOT EXISTS sluice; CREATE DATABASE IF NOT EXISTS jfs;" ||
    die "creating the databases failed"

  local pid sock
  pid=$(server_pid) || die "server vanished"
  sock=$(socket_path)
  {
    echo "# written by tests/env/mariadb.sh; source it"
    echo "export SLUICE_TEST_MYSQL_URL='mysql://root:$pass@(127.0.0.1:$port)/sluice'"
    echo "export SLUICE_TEST_MYSQL_HOST=127.0.0.1"
    echo "export SLUICE_TEST_MYSQL_PORT=$port"
    echo "export SLUICE_TEST_MYSQL_USER=root"
    echo "export SLUICE_TEST_MYSQL_PASSWORD='$pass'"
    echo "export SLUICE_TEST_MYSQL_SOCKET='$sock'"
    echo "export SLUICE_TEST_MYSQL_ADMIN='$CLIENT_BIN --defaults-file=$CNF'"
    echo "export SLUICE_TEST_MYSQL_PID=$pid"
    echo "export SLUICE_TEST_MYSQL_RESTART='$SELF restart $DIR'"
  } >"$ENVFILE.tmp"
  chmod 600 "$ENVFILE.tmp"
  mv "$ENVFILE.tmp" "$ENVFILE"
  touch "$DIR/.ready"
  echo "mariadb.sh: running on 127.0.0.1:$port, pid $pid; source $ENVFILE"
}

case $cmd in
  start) do_start ;;
  stop)
    ADMIN_BIN=$(find_bin mariadb-admin mysqladmin) || ADMIN_BIN=false
    if [ -f "$DIR/.ready" ]; then grace=$STOP_TIMEOUT; else grace=$STOP_TIMEOUT_UNREADY; fi
    rm -f "$DIR/.ready" "$ENVFILE"
    do_stop "$grace"
    ;;
  restart)
    # As `systemctl restart`: clients see their connections closed by the shutdown, then
    # refused connections for SECONDS (default 0), then the server on the same port.
    ADMIN_BIN=$(find_bin mariadb-admin mysqladmin) || die "mariadb-admin not found"
    [ -f "$PORTFILE" ] || die "not started by this script ($DIR)"
    rm -f "$DIR/.ready" "$ENVFILE"
    do_stop "$STOP_TIMEOUT"
    sleep "${3:-0}"
    KEEP_PORT=1 do_start
    ;;
  status)
    if pid=$(server_pid); then echo "running, pid $pid"; else echo "not running"; exit 1; fi
    ;;
  *) usage ;;
esac
