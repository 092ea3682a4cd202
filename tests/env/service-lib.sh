# service-lib.sh - sourced by the scripts that run a private service for the tests (mariadb.sh,
# s3-server.sh, kdc.sh): what they do alike. The sourcing script sets LOG (the service's log)
# and may define its own free_port (kdc.sh needs a port free for UDP too).
# `|| true` below marks best-effort steps of failure reporting and shutdown (showing a log that
# may not exist, signalling a process that may be gone); they are not checks.

# die MESSAGE: the message and the end of the service's log on stderr, then exit 1.
die() {
  echo "${0##*/}: $*" >&2
  if [ -f "$LOG" ]; then
    echo "---- last lines of $LOG ----" >&2
    tail -n 30 "$LOG" >&2 || true # reporting only: the log may be unreadable
  fi
  exit 1
}

# find_bin NAME...: the path of the first of the programs found, on PATH or in the sbin
# directories a user's PATH may lack.
find_bin() {
  local b d
  for b in "$@"; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    for d in /usr/sbin /usr/bin /sbin; do
      if [ -x "$d/$b" ]; then echo "$d/$b"; return 0; fi
    done
  done
  return 1
}

# mariadb_bins: SERVER_BIN, INSTALL_BIN, ADMIN_BIN and CLIENT_BIN, MariaDB's programs (or
# MySQL's names for them), or dies naming the one missing.
mariadb_bins() {
  SERVER_BIN=$(find_bin mariadbd mysqld) || die "mariadbd not found (run tests/env/deps.sh)"
  INSTALL_BIN=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
  ADMIN_BIN=$(find_bin mariadb-admin mysqladmin) || die "mariadb-admin not found"
  CLIENT_BIN=$(find_bin mariadb mysql) || die "mariadb client not found"
}

# random_password LENGTH: that many random letters and digits.
random_password() {
  local pass
  # head closes the pipe early, so tr ends with SIGPIPE; the length check is the real test
  pass=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1" || true)
  [ ${#pass} -eq "$1" ] || die "could not generate a password"
  echo "$pass"
}

# stored_password FILE LENGTH: the password kept in FILE; the first start makes it (mode 600).
stored_password() {
  if [ ! -s "$1" ]; then
    local pass
    pass=$(random_password "$2") || exit 1
    (umask 077 && echo "$pass" >"$1")
  fi
  cat "$1"
}

# live_pid FILE PATTERN: the pid in FILE, if that process is alive and its command line has
# PATTERN (pids get reused).
live_pid() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
  echo "$pid"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    local p
    for _ in $(seq 1 100); do
      p=$((20000 + RANDOM % 40000))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    return 1
  fi
}

# launch_on_free_port LAUNCH: runs `LAUNCH PORT` on a free port, and on another one while it
# returns 3 (the port was taken in the meantime), five times at most; returns what LAUNCH last
# returned and leaves its port in LAUNCHED_PORT.
launch_on_free_port() {
  local try rc=1
  for try in 1 2 3 4 5; do
    LAUNCHED_PORT=$(free_port) || die "no free port"
    rc=0
    "$1" "$LAUNCHED_PORT" || rc=$?
    [ "$rc" -eq 3 ] || break
    echo "${0##*/}: port $LAUNCHED_PORT was taken, retrying" >&2
  done
  return "$rc"
}

# stop_pid PID SECONDS [RETERM]: SIGTERM, then up to SECONDS for PID to exit (with RETERM, SIGTERM
# again every 2 s: a server still initialising may not act on the first), then SIGKILL.
stop_pid() {
  local pid=$1 grace=$2 reterm=${3:-} i
  kill -TERM "$pid" 2>/dev/null || true # it may have exited already
  for ((i = 1; i <= grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    if [ -n "$reterm" ] && ((i % 20 == 0)); then kill -TERM "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null || return 0
  echo "${0##*/}: process $pid did not stop in ${grace}s, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true # it may have exited meanwhile
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}
