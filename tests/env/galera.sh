#!/usr/bin/env bash
# galera.sh - starts/stops a private three-node MariaDB Galera cluster on loopback for the tests of
# metadata on a distributed SQL engine: each node its own data directory, socket and ports under
# DIR/nodeN, a random root password, databases `sluice` and `jfs`. Node 1 bootstraps the cluster;
# nodes 2 and 3 join it and receive its data by rsync (Galera's state snapshot transfer).
#
#   tests/env/galera.sh start DIR   # then: source DIR/galera.env
#   tests/env/galera.sh stop DIR
#
# DIR/galera.env exports, for N = 1, 2, 3: SLUICE_TEST_GALERA_URL_N (mysql://root:PASS@(127.0.0.1:
# PORT)/sluice on node N), SLUICE_TEST_GALERA_ADMIN_N (a client command line logged in as root
# on node N), SLUICE_TEST_GALERA_PORT_N and SLUICE_TEST_GALERA_SOCKET_N. stop is idempotent and
# also cleans up a half-started cluster.
set -euo pipefail
# `|| true` below marks best-effort steps of failure reporting and shutdown (showing a log that
# may not exist, signalling a process that may be gone); they are not checks.

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
NODES=3
LOG=$DIR/node1/mariadb.log # die() shows the end of this log; set to the node at hand
ENVFILE=$DIR/galera.env
PASSFILE=$DIR/root.pass
START_TIMEOUT=${SLUICE_MARIADB_START_TIMEOUT:-180}
STOP_TIMEOUT=30

# shellcheck source=tests/env/service-lib.sh
source "$(dirname "$0")/service-lib.sh"

node_dir() { echo "$DIR/node$1"; }

# The unix socket path must fit in sun_path (108 bytes); a deep DIR gets one under /tmp instead.
socket_path() {
  local d s
  d=$(node_dir "$1")
  if [ -f "$d/socket.path" ]; then cat "$d/socket.path"; return; fi
  s=$d/mysqld.sock
  if [ ${#s} -gt 100 ]; then s=$(mktemp -d /tmp/sluice-galera.XXXXXX)/mysqld.sock; fi
  echo "$s" >"$d/socket.path"
  echo "$s"
}

server_pid() { live_pid "$(node_dir "$1")/mariadb.pid" "--datadir=$(node_dir "$1")/data" ||
  live_pid "$(node_dir "$1")/launch.pid" "--datadir=$(node_dir "$1")/data"; }

client() { local n=$1; shift; "$CLIENT_BIN" --defaults-file="$(node_dir "$n")/client.cnf" "$@"; }

status_of() { # node variable: a wsrep status variable's value on that node
  client "$1" -N -B -e "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

write_cnf() { # node password (may be empty)
  local sock
  sock=$(socket_path "$1")
  (umask 077 && {
    echo "[client]"
    echo "user=root"
    [ -z "$2" ] || echo "password=$2"
    echo "socket=$sock"
    echo "connect-timeout=5"
  } >"$(node_dir "$1")/client.cnf")
}

stop_node() {
  local n=$1 pid
  pid=$(server_pid "$n") || { rm -f "$(node_dir "$n")/mariadb.pid" "$(node_dir "$n")/launch.pid"; return 0; }
  if [ -f "$(node_dir "$n")/client.cnf" ]; then
    "$ADMIN_BIN" --defaults-file="$(node_dir "$n")/client.cnf" shutdown >/dev/null 2>&1 || true # signals follow
  fi
  stop_pid "$pid" "$STOP_TIMEOUT" reterm
  rm -f "$(node_dir "$n")/mariadb.pid" "$(node_dir "$n")/launch.pid"
}

do_stop() {
  local n
  ADMIN_BIN=$(find_bin mariadb-admin mysqladmin) || ADMIN_BIN=false
  rm -f "$ENVFILE" "$DIR/.ready"
  # The last node to leave keeps the cluster's newest state: stop the joiners first.
  for ((n = NODES; n >= 1; n--)); do stop_node "$n"; done
  echo "galera.sh: stopped ($DIR)"
}

# start_node N [--wsrep-new-cluster]: launches node N with the ports in DIR/ports and waits until
# it is Synced with the cluster.
start_node() {
  local n=$1 d sock pid i state
  shift
  d=$(node_dir "$n")
  LOG=$d/mariadb.log
  sock=$(socket_path "$n")
  mkdir -p "$d/data" "$d/tmp"
  # shellcheck disable=SC1091
  source "$DIR/ports"
  local addr="gcomm://127.0.0.1:${GCOMM[1]},127.0.0.1:${GCOMM[2]},127.0.0.1:${GCOMM[3]}"
  echo "==== $(date '+%F %T') starting node $n on 127.0.0.1:${SQL[$n]}" >>"$LOG"
  PATH=$DIR/bin:$PATH setsid "$SERVER_BIN" --no-defaults --user="$(id -un)" \
    --datadir="$d/data" --tmpdir="$d/tmp" --socket="$sock" --pid-file="$d/mariadb.pid" \
    --port="${SQL[$n]}" --bind-address=127.0.0.1 --skip-name-resolve --log-error="$LOG" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=300 \
    --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
    --wsrep-on=ON --wsrep-provider="$PROVIDER" --wsrep-cluster-name=sluice-test \
    --wsrep-cluster-address="$addr" --wsrep-node-name="node$n" \
    --wsrep-node-address="127.0.0.1:${GCOMM[$n]}" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${GCOMM[$n]};ist.recv_addr=127.0.0.1:${IST[$n]};gcache.size=64M" \
    --wsrep-sst-method=sluice --wsrep-sst-receive-address="127.0.0.1:${SST[$n]}" \
    "$@" </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$d/launch.pid"
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || die "node $n exited during startup"
    if "$ADMIN_BIN" --no-defaults --socket="$sock" --connect-timeout=2 ping >/dev/null 2>&1; then
      # A fresh node 1 has a root without password yet; the others got node 1's users by SST.
      if [ -f "$DIR/.password_set" ]; then write_cnf "$n" "$PASS"; else write_cnf "$n" ""; fi
      state=$(status_of "$n" wsrep_local_state_comment) || state=
      if [ "$state" = Synced ]; then return 0; fi
    fi
    sleep 0.2
  done
  die "node $n was not Synced within ${START_TIMEOUT}s"
}

do_start() {
  mariadb_bins
  PROVIDER=/usr/lib/galera/libgalera_smm.so
  [ -f "$PROVIDER" ] || die "the Galera provider $PROVIDER is missing (package galera-4; run tests/env/deps.sh)"
  RSYNC_BIN=$(find_bin rsync) || die "rsync not found (the state transfer needs it; run tests/env/deps.sh)"
  SST_BIN=$(find_bin wsrep_sst_rsync) || die "wsrep_sst_rsync not found (package mariadb-server)"
  # Started by root, rsync's daemon (the joiner's end of the transfer) runs as user nobody unless
  # its configuration names a user, and then cannot write the joiner's data directory; Galera's
  # script writes that configuration without one. So the transfer method is "sluice": Galera's
  # rsync script, with an rsync first on its PATH that adds the user (the server puts its own
  # directory first on PATH, so rsync itself cannot be replaced that way).
  mkdir -p "$DIR/bin"
  cat >"$DIR/bin/rsync" <<'EOF'
#!/bin/sh
# written by tests/env/galera.sh: rsync's daemon keeps the user that starts it
if [ "$(id -u)" = 0 ]; then
  prev=
  for a in "$@"; do
    if [ "$prev" = --config ]; then sed -i '1i uid = 0\ngid = 0' "$a"; fi
    prev=$a
  done
fi
EOF
  echo "exec $RSYNC_BIN \"\$@\"" >>"$DIR/bin/rsync"
  printf '#!/bin/sh\n# written by tests/env/galera.sh\nPATH=%s:$PATH exec %s "$@"\n' \
    "$DIR/bin" "$SST_BIN" >"$DIR/bin/wsrep_sst_sluice"
  chmod 755 "$DIR/bin/rsync" "$DIR/bin/wsrep_sst_sluice"

  if [ -f "$DIR/.ready" ] && [ -f "$ENVFILE" ]; then
    echo "galera.sh: already running ($DIR)"
    return 0
  fi
  do_stop >/dev/null
  PASS=$(stored_password "$PASSFILE" 24)
  local n
  for ((n = 1; n <= NODES; n++)); do mkdir -p "$(node_dir "$n")"; done
  # Every start is a fresh cluster: the tests keep nothing across starts, and a cluster whose
  # nodes all stopped would need its most advanced node found to bootstrap again.
  for ((n = 1; n <= NODES; n++)); do rm -rf "$(node_dir "$n")/data"; done
  rm -f "$DIR/.password_set"
  LOG=$DIR/node1/mariadb.log
  "$INSTALL_BIN" --no-defaults --datadir="$DIR/node1/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --innodb-log-file-size=48M >>"$LOG" 2>&1 || die "mariadb-install-db failed"

  # Four ports a node: SQL, group communication, incremental and full state transfer.
  {
    echo "SQL=() GCOMM=() IST=() SST=()"
    for ((n = 1; n <= NODES; n++)); do
      echo "SQL[$n]=$(free_port) GCOMM[$n]=$(free_port) IST[$n]=$(free_port) SST[$n]=$(free_port)"
    done
  } >"$DIR/ports"

  start_node 1 --wsrep-new-cluster
  client 1 <<SQL || die "setting the root password failed"
ALTER USER 'root'@'localhost' IDENTIFIED BY '$PASS';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$PASS';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$PASS';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS sluice;
CREATE DATABASE IF NOT EXISTS jfs;
SQL
  touch "$DIR/.password_set"
  write_cnf 1 "$PASS"
  for ((n = 2; n <= NODES; n++)); do start_node "$n"; done
  local size
  size=$(status_of 1 wsrep_cluster_size)
  [ "$size" = "$NODES" ] || die "the cluster has $size nodes, not $NODES"

  # shellcheck disable=SC1091
  source "$DIR/ports"
  {
    echo "# written by tests/env/galera.sh; source it"
    for ((n = 1; n <= NODES; n++)); do
      echo "export SLUICE_TEST_GALERA_URL_$n='mysql://root:$PASS@(127.0.0.1:${SQL[$n]})/sluice'"
      echo "export SLUICE_TEST_GALERA_ADMIN_$n='$CLIENT_BIN --defaults-file=$(node_dir "$n")/client.cnf'"
      echo "export SLUICE_TEST_GALERA_PORT_$n=${SQL[$n]}"
      echo "export SLUICE_TEST_GALERA_SOCKET_$n='$(socket_path "$n")'"
    done
  } >"$ENVFILE.tmp"
  chmod 600 "$ENVFILE.tmp"
  mv "$ENVFILE.tmp" "$ENVFILE"
  touch "$DIR/.ready"
  echo "galera.sh: $NODES nodes Synced on 127.0.0.1:${SQL[1]},${SQL[2]},${SQL[3]}; source $ENVFILE"
}

case $cmd in
  start) do_start ;;
  stop) do_stop ;;
  *) usage ;;
esac
