#!/usr/bin/env bash
# operator-tools.sh - `sluice fsck`, `sluice gc` (and that `sluice bench` runs and cleans up) on
# volumes made by Sluice (with a snapshot sharing data) and by juicefs: clean volumes are
# reported clean; planted faults are found and, by gc --delete, removed: a leaked slice (objects
# whose metadata rows are gone), a pending one (its reference count at zero, its objects still
# there), a lost block (a chunk row naming a slice that has no object), a session that expired;
# fsck --path finds and --repair fixes directories with a wrong link count, no stats row, no node.
# On sqlite3+file and on MariaDB+S3 (the servers tests/run.sh started).
#   usage: tests/interop/operator-tools.sh PATH-TO-sluice
set -euo pipefail
SLUICE=${1:?usage: operator-tools.sh PATH-TO-sluice}
JUICEFS=${SLUICE_JUICEFS:?run through make test (SLUICE_JUICEFS unset)}
: "${SLUICE_TEST_MYSQL_ADMIN:?run through make test}" "${SLUICE_TEST_S3_ENDPOINT:?run through make test}"
W=$(mktemp -d "${TMPDIR:-/tmp}/optools.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
S3KEYS=(--access-key "$SLUICE_TEST_S3_ACCESS_KEY" --secret-key "$SLUICE_TEST_S3_SECRET_KEY")

head -c 5000000 /dev/urandom >"$W/big"
printf 'small\n' >"$W/small"

mysql_db() { # creates a fresh database, prints its META-URL
  $SLUICE_TEST_MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"
  echo "${SLUICE_TEST_MYSQL_URL%/*}/$1"
}

sql() { # META STATEMENT: runs it on the volume's database
  case $1 in
    sqlite3://*) python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.executescript(sys.argv[2]); d.commit()' "${1#sqlite3://}" "$2" ;;
    mysql://*) $SLUICE_TEST_MYSQL_ADMIN -D "${1##*/}" -e "$2" ;;
  esac
}

inode_of() { "$SLUICE" info "$1" "$2" | awk '$1 == "inode:" { print $2 }'; }

gc_count() { # META WHAT [ARGS...]: the number gc reports before WHAT ("leaked", "pending")
  local meta=$1 what=$2
  shift 2
  "$SLUICE" gc "$meta" --skip-newer 0 "$@" >"$W/gc.log" || { cat "$W/gc.log"; fail "sluice gc $*"; }
  sed -n -E "s/(^|.* )([0-9]+) $what.*/\2/p" "$W/gc.log" | tail -1
}

clean() { # META: fsck and gc find nothing wrong
  "$SLUICE" fsck "$1" >"$W/fsck.log" || { cat "$W/fsck.log"; fail "sluice fsck of a sound volume ($1)"; }
  grep -q " 0 blocks lost" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck's summary"; }
  [ "$(gc_count "$1" leaked)" = 0 ] || { cat "$W/gc.log"; fail "gc found leaks in a sound volume ($1)"; }
  [ "$(gc_count "$1" "pending deletion")" = 0 ] || { cat "$W/gc.log"; fail "gc found pending deletions ($1)"; }
}

sluice_volume() { # META FORMAT-ARGS...: faults planted in a volume Sluice wrote
  local meta=$1
  shift
  "$SLUICE" format "$meta" optools "$@" >/dev/null || fail "sluice format"
  "$SLUICE" mkdir "$meta" /d
  for f in big small leak pending lost; do
    "$SLUICE" put "$meta" "$W/$([ $f = small ] && echo small || echo big)" "/d/$f" || fail "sluice put $f"
  done
  "$SLUICE" snapshot create "$meta" /d s1 >/dev/null || fail "sluice snapshot create"
  "$SLUICE" rm "$meta" /d/big || fail "sluice rm" # its data stays for the snapshot
  clean "$meta"

  # leaked: /d/leak's objects without rows; pending: /d/pending's with a count of 0
  local leak pending
  leak=$(inode_of "$meta" /d/leak)
  pending=$(inode_of "$meta" /d/pending)
  "$SLUICE" snapshot delete "$meta" /d s1 || fail "sluice snapshot delete"
  local ids
  ids=$("$SLUICE" info "$meta" /d/leak | sed -n 's/.* slice \([0-9]*\) .*/\1/p' | sort -u)
  local pids
  pids=$("$SLUICE" info "$meta" /d/pending | sed -n 's/.* slice \([0-9]*\) .*/\1/p' | sort -u)
  [ -n "$ids" ] && [ -n "$pids" ] || fail "no slices of /d/leak or /d/pending"
  sql "$meta" "DELETE FROM jfs_chunk WHERE inode IN ($leak, $pending); UPDATE jfs_node SET length = 0 WHERE inode IN ($leak, $pending); DELETE FROM jfs_chunk_ref WHERE chunkid IN ($(echo $ids | tr ' ' ,)); UPDATE jfs_chunk_ref SET refs = 0 WHERE chunkid IN ($(echo $pids | tr ' ' ,));"
  [ "$(gc_count "$meta" leaked)" = 2 ] || { cat "$W/gc.log"; fail "gc does not find the 2 leaked blocks"; }
  [ "$(gc_count "$meta" "pending deletion")" = 2 ] || { cat "$W/gc.log"; fail "gc does not find the 2 pending blocks"; }
  # and a session that expired long ago (a client that died)
  sql "$meta" "INSERT INTO jfs_session2 (sid, expire, info) VALUES (777777, 1000, '{}');"
  [ "$(gc_count "$meta" "stale sessions")" = 1 ] || { cat "$W/gc.log"; fail "gc does not find the stale session"; }
  gc_count "$meta" leaked --delete >/dev/null
  grep -q "deleted 2 leaked objects" "$W/gc.log" && grep -q "1 stale sessions, 1 closed" "$W/gc.log" ||
    { cat "$W/gc.log"; fail "gc --delete"; }
  clean "$meta"
  [ "$(gc_count "$meta" "stale sessions")" = 0 ] || { cat "$W/gc.log"; fail "gc --delete left the stale session"; }

  dir_faults "$meta"

  # lost: a chunk row naming a slice that has no object
  local lost
  lost=$(inode_of "$meta" /d/lost)
  # pos 0, id 987654321, size 4096, off 0, len 4096 (24 bytes, big-endian)
  sql "$meta" "INSERT INTO jfs_chunk (inode, indx, slices) VALUES ($lost, 1, X'00000000000000003ADE68B1000010000000000000001000'); INSERT INTO jfs_chunk_ref (chunkid, size, refs) VALUES (987654321, 4096, 1);"
  if "$SLUICE" fsck "$meta" >"$W/fsck.log"; then
    cat "$W/fsck.log"
    fail "fsck passed a volume with a lost block"
  fi
  grep -q "slice 987654321 .*used by /d/lost" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck does not name the file that lost data"; }
  if [ -n "${DATA_DIR:-}" ]; then # an object removed behind the volume's back
    local key
    key=$("$SLUICE" info "$meta" /d/small | sed -n 's/.* first block \(.*\)$/\1/p')
    rm "$DATA_DIR/$key" || fail "no object $key"
    "$SLUICE" fsck "$meta" >"$W/fsck.log" && fail "fsck passed a volume with a deleted object"
    grep -q "used by /d/small" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck does not name /d/small"; }
  fi
  "$SLUICE" bench "$meta" --big-file-size 8 --small-files 5 --threads 2 >"$W/bench.log" ||
    { cat "$W/bench.log"; fail "sluice bench"; }
  [ "$(grep -cE '^(write|read|stat) .* (MiB|files)/s .* ms$' "$W/bench.log")" = 5 ] ||
    { cat "$W/bench.log"; fail "sluice bench's report"; }
  "$SLUICE" ls "$meta" / | grep -q sluice-bench && fail "sluice bench left its files"
  echo "ok: fsck, gc and bench on a volume Sluice wrote (${meta%%:*})"
}

dir_faults() { # META: fsck --path finds and --repair fixes broken directories, as juicefs fsck
  local meta=$1 a b
  "$SLUICE" mkdir "$meta" /t/a/b || fail "sluice mkdir"
  "$SLUICE" put "$meta" "$W/small" /t/a/f || fail "sluice put"
  "$SLUICE" fsck "$meta" --path /t --recursive >"$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck --path of sound directories"; }
  grep -q "^3 directories checked: 0 broken, 0 repaired" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck --path's summary"; }
  a=$(inode_of "$meta" /t/a)
  b=$(inode_of "$meta" /t/a/b)
  # a wrong link count and no stats row for /t/a, no node row for /t/a/b
  sql "$meta" "UPDATE jfs_node SET nlink = 7 WHERE inode = $a; DELETE FROM jfs_dir_stats WHERE inode = $a; DELETE FROM jfs_node WHERE inode = $b;"
  "$SLUICE" fsck "$meta" --path /t --recursive >"$W/fsck.log" && { cat "$W/fsck.log"; fail "fsck --path passed broken directories"; }
  grep -q "^nlink of /t/a should be 3, but got 7" "$W/fsck.log" &&
    grep -q "^usage stat of /t/a is missing or broken" "$W/fsck.log" &&
    grep -q "^attribute of /t/a/b (inode $b) is missing" "$W/fsck.log" &&
    grep -q "^3 directories checked: 2 broken, 0 repaired" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck --path's findings"; }
  "$SLUICE" fsck "$meta" --path /t/a --recursive --repair --repair-dir-mode 0750 >"$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck --repair"; }
  grep -q "^repaired /t/a$" "$W/fsck.log" && grep -q "^repaired /t/a/b$" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck --repair's report"; }
  "$SLUICE" fsck "$meta" --path /t --recursive --sync-dir-stat >"$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck after the repair"; }
  grep -q " 0 broken, 0 repaired" "$W/fsck.log" || { cat "$W/fsck.log"; fail "fsck after the repair's summary"; }
  "$SLUICE" info "$meta" /t/a/b | grep -q "mode: 0750" || { "$SLUICE" info "$meta" /t/a/b; fail "the repaired directory's mode"; }
  "$JUICEFS" --quiet fsck "$meta" --path /t --recursive --sync-dir-stat >"$W/jfsck.log" 2>&1 || { cat "$W/jfsck.log"; fail "juicefs fsck of the repaired directories"; }
  "$SLUICE" rm -r "$meta" /t || fail "sluice rm -r /t"
}

juicefs_volume() { # META FORMAT-ARGS...: a volume juicefs wrote is sound for fsck and gc
  local meta=$1
  shift
  "$JUICEFS" --quiet format "$meta" optools-jfs "$@" >/dev/null || fail "juicefs format"
  mkdir -p "$W/jsrc/sub"
  cp "$W/big" "$W/small" "$W/jsrc/sub/"
  JFS_META_URL=$meta "$JUICEFS" --quiet sync "$W/jsrc/" jfs://JFS_META_URL/ >/dev/null || fail "juicefs sync"
  clean "$meta"
  echo "ok: fsck and gc on a volume juicefs wrote (${meta%%:*})"
}

DATA_DIR=$W/data-s sluice_volume "sqlite3://$W/s.db" --storage file --bucket "$W/data-s/"
juicefs_volume "sqlite3://$W/j.db" --storage file --bucket "$W/data-j/"
sluice_volume "$(mysql_db optools_s)" --storage minio --bucket "$SLUICE_TEST_S3_ENDPOINT/optools-s" "${S3KEYS[@]}"
juicefs_volume "$(mysql_db optools_j)" --storage minio --bucket "$SLUICE_TEST_S3_ENDPOINT/optools-j" "${S3KEYS[@]}"
echo "operator tools: all passed"
