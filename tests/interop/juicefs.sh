#!/usr/bin/env bash
# juicefs.sh - interoperability with the real JuiceFS client (1.3 and 1.4): a volume formatted and
# written by Sluice passes `juicefs fsck` and reads back byte-identical through juicefs; files
# written by juicefs into a juicefs-formatted volume read back byte-identical through Sluice; the
# same both ways for encrypted volumes (RSA key with and without a passphrase, aes256gcm-rsa and
# chacha20-rsa), and each client refuses the other's volume without the passphrase; a volume using
# a feature Sluice lacks (Ranger) is refused with a clear message; a directory quota set by
# either client holds for both; ACLs Sluice sets are juicefs's and the reverse (dump/load); a volume
# with Sluice's snapshots passes juicefs fsck and keeps them through juicefs dump/load; what
# `sluice dump` writes, `juicefs load` and `sluice load` read (files, ACLs, quotas, snapshots, the
# user registry), and `sluice load` reads what `juicefs dump` writes; a file written through libhdfs
# (libsluice-hdfs.so, the build's hdfs_copy) reads back identical through juicefs. On sqlite3+file
# and on MariaDB+S3 (the servers tests/run.sh started).
#   usage: tests/interop/juicefs.sh PATH-TO-sluice
set -euo pipefail
SLUICE=${1:?usage: juicefs.sh PATH-TO-sluice}
HDFS_COPY=$(dirname "$SLUICE")/hdfs_copy
JUICEFS=${SLUICE_JUICEFS:?run through make test (SLUICE_JUICEFS unset)}
JUICEFS_13=${SLUICE_JUICEFS_13:?run through make test (SLUICE_JUICEFS_13 unset)}
: "${SLUICE_TEST_MYSQL_ADMIN:?run through make test}" "${SLUICE_TEST_S3_ENDPOINT:?run through make test}"
W=$(mktemp -d "${TMPDIR:-/tmp}/interop.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
jfs() { "$JUICEFS" --quiet "$@"; }

# A tree of files of the sizes that matter: empty, tiny, around block and chunk boundaries.
SRC=$W/src
mkdir -p "$SRC/a/b" "$SRC/empty-dir"
: > "$SRC/empty"
printf 'hello sluice\n' > "$SRC/a/hello.txt"
head -c 4095 /dev/urandom > "$SRC/a/4095"
head -c 4194304 /dev/urandom > "$SRC/a/b/block"
head -c 4194305 /dev/urandom > "$SRC/a/b/block-plus-1"
head -c $((70 << 20)) /dev/urandom > "$SRC/a/b/big"
FILES=(empty a/hello.txt a/4095 a/b/block a/b/block-plus-1 a/b/big)

mysql_db() { # creates a fresh database, prints its META-URL
  $SLUICE_TEST_MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"
  echo "${SLUICE_TEST_MYSQL_URL%/*}/$1"
}

sluice_to_juicefs() { # META STORAGE BUCKET COMPRESS [keys...]
  local meta=$1 storage=$2 bucket=$3 compress=$4
  shift 4
  "$SLUICE" format "$meta" sl-written --storage "$storage" --bucket "$bucket" --compress "$compress" "$@" >/dev/null
  # the biggest file through libhdfs (libsluice-hdfs.so), the others through the CLI
  for f in "${FILES[@]}"; do
    [[ $f == a/b/big ]] && continue
    "$SLUICE" put "$meta" "$SRC/$f" "/$f" || fail "sluice put $f"
  done
  mkdir -p "$W/hconf"
  printf '<configuration><property><name>sluice.sl-written.meta</name><value>%s</value></property></configuration>\n' \
    "$meta" >"$W/hconf/core-site.xml"
  HADOOP_CONF_DIR=$W/hconf "$HDFS_COPY" put "$SRC/a/b/big" sluice://sl-written/a/b/big ||
    fail "hdfs_copy put a/b/big (libhdfs)"
  "$SLUICE" mkdir "$meta" /empty-dir
  jfs fsck "$meta" >"$W/fsck.log" || { cat "$W/fsck.log"; fail "juicefs fsck of a Sluice volume ($meta)"; }
  local out=$W/out-$RANDOM
  mkdir "$out"
  export JFS_META_URL=$meta
  jfs sync --dirs jfs://JFS_META_URL/ "$out/" >/dev/null || fail "juicefs sync from a Sluice volume"
  diff -r "$SRC" "$out" || fail "files written by Sluice differ when read by juicefs ($meta)"
  echo "ok: Sluice -> juicefs ($storage, $compress)"
}

juicefs_to_sluice() { # META STORAGE BUCKET COMPRESS [keys...]
  local meta=$1 storage=$2 bucket=$3 compress=$4
  shift 4
  jfs format "$meta" jfs-written --storage "$storage" --bucket "$bucket" --compress "$compress" "$@" >/dev/null \
    || fail "juicefs format"
  export JFS_META_URL=$meta
  jfs sync --dirs "$SRC/" jfs://JFS_META_URL/ >/dev/null || fail "juicefs sync into its volume"
  for f in "${FILES[@]}"; do
    "$SLUICE" get "$meta" "/$f" "$W/got" || fail "sluice get $f"
    cmp "$SRC/$f" "$W/got" || fail "$f written by juicefs differs when read by Sluice ($meta)"
  done
  "$SLUICE" ls "$meta" /a/b | grep -q 'block-plus-1' || fail "sluice ls of a juicefs volume"
  "$SLUICE" status "$meta" | grep -q '"Name": "jfs-written"' || fail "sluice status"
  echo "ok: juicefs -> Sluice ($storage, $compress)"
}

openssl genrsa -out "$W/key.pem" 2048 2>/dev/null
# a key as juicefs's docs make one: traditional PEM, AES-256 under a passphrase
openssl genrsa -traditional -aes256 -passout pass:interop-pass -out "$W/key-pass.pem" 3072 2>/dev/null

# Encrypted both ways: META STORAGE BUCKET ALGO KEY PASSPHRASE [keys...]. The passphrase reaches
# both clients as JFS_RSA_PASSPHRASE; without it each refuses to open the volume.
encrypted_both_ways() {
  local meta=$1 storage=$2 bucket=$3 algo=$4 key=$5 pass=$6
  shift 6
  local m1=$meta m2=$meta
  if [[ $meta == sqlite3://* ]]; then m1=${meta%.db}-j.db; m2=${meta%.db}-s.db; else m1=$(mysql_db "${meta}_j"); m2=$(mysql_db "${meta}_s"); fi
  JFS_RSA_PASSPHRASE=$pass jfs format "$m1" jfs-enc --storage "$storage" --bucket "$bucket-j" \
    --encrypt-rsa-key "$key" --encrypt-algo "$algo" --compress lz4 "$@" >/dev/null || fail "juicefs format --encrypt-rsa-key"
  JFS_RSA_PASSPHRASE=$pass JFS_META_URL=$m1 jfs sync --dirs "$SRC/" jfs://JFS_META_URL/ >/dev/null \
    || fail "juicefs sync into its encrypted volume"
  for f in "${FILES[@]}"; do
    JFS_RSA_PASSPHRASE=$pass "$SLUICE" get "$m1" "/$f" "$W/got" || fail "sluice get $f (encrypted)"
    cmp "$SRC/$f" "$W/got" || fail "$f written encrypted by juicefs differs when read by Sluice"
  done
  if [[ -n $pass ]]; then
    if "$SLUICE" get "$m1" /a/hello.txt "$W/got" 2>"$W/nopass.log"; then fail "Sluice read without the passphrase"; fi
    grep -q "passphrase" "$W/nopass.log" || { cat "$W/nopass.log"; fail "no clear message without the passphrase"; }
  fi
  JFS_RSA_PASSPHRASE=$pass "$SLUICE" format "$m2" sl-enc --storage "$storage" --bucket "$bucket-s" \
    --encrypt-rsa-key "$key" --encrypt-algo "$algo" "$@" >/dev/null || fail "sluice format --encrypt-rsa-key"
  for f in "${FILES[@]}"; do
    JFS_RSA_PASSPHRASE=$pass "$SLUICE" put "$m2" "$SRC/$f" "/$f" || fail "sluice put $f (encrypted)"
  done
  JFS_RSA_PASSPHRASE=$pass jfs fsck "$m2" >"$W/fsck.log" || { cat "$W/fsck.log"; fail "juicefs fsck of an encrypted Sluice volume"; }
  local out=$W/out-$RANDOM
  mkdir "$out"
  JFS_RSA_PASSPHRASE=$pass JFS_META_URL=$m2 jfs sync --dirs jfs://JFS_META_URL/ "$out/" >/dev/null \
    || fail "juicefs sync from an encrypted Sluice volume"
  for f in "${FILES[@]}"; do
    cmp "$SRC/$f" "$out/$f" || fail "$f written encrypted by Sluice differs when read by juicefs"
  done
  if [[ -n $pass ]] && JFS_META_URL=$m2 jfs sync jfs://JFS_META_URL/a/ "$W/nopass/" >/dev/null 2>&1; then
    fail "juicefs read Sluice's encrypted volume without the passphrase"
  fi
  echo "ok: encrypted ($algo${pass:+, key with a passphrase}) both ways ($storage)"
}

limits_respected() { # META: juicefs's --inodes holds for Sluice's creates too
  jfs format "$1" jfs-limits --storage file --bucket "$W/data-limits" --inodes 3 \
    >/dev/null || fail "juicefs format --inodes"
  "$SLUICE" put "$1" "$SRC/a/hello.txt" /one || fail "sluice put within the limits"
  "$SLUICE" put "$1" "$SRC/a/hello.txt" /two || fail "sluice put within the limits"
  "$SLUICE" mkdir "$1" /three || fail "sluice mkdir within the limits"
  if "$SLUICE" put "$1" "$SRC/a/hello.txt" /four 2>"$W/limits.log"; then
    fail "Sluice created a fourth inode on a volume limited to 3"
  fi
  grep -q "inode limit" "$W/limits.log" || { cat "$W/limits.log"; fail "no clear message at the inode limit"; }
  "$SLUICE" rm "$1" /one || fail "sluice rm"
  "$SLUICE" put "$1" "$SRC/a/hello.txt" /four || fail "sluice put after a deletion made room"
  echo "ok: juicefs's inode limit holds for Sluice (capacity: test_vfs_local)"
}

quotas_both_ways() { # META: a directory quota set by either client holds for both
  jfs format "$1" jfs-quota --storage file --bucket "$W/data-quota-$RANDOM" >/dev/null || fail "juicefs format"
  jfs quota set "$1" --path /jq --create --inodes 3 >/dev/null || fail "juicefs quota set"
  "$SLUICE" put "$1" "$SRC/a/hello.txt" /jq/one || fail "sluice put within juicefs's quota"
  "$SLUICE" mkdir "$1" /jq/two || fail "sluice mkdir within juicefs's quota"
  "$SLUICE" put "$1" "$SRC/a/4095" /jq/two/three || fail "sluice put within juicefs's quota"
  if "$SLUICE" put "$1" "$SRC/a/hello.txt" /jq/four 2>"$W/quota.log"; then
    fail "Sluice created a fourth inode under a juicefs quota of 3"
  fi
  grep -q "inode quota exceeded" "$W/quota.log" || { cat "$W/quota.log"; fail "no clear message at juicefs's quota"; }
  # Sluice kept the quota's usage as juicefs counts it
  jfs quota check "$1" --path /jq >"$W/qcheck.log" 2>&1 || { cat "$W/qcheck.log"; fail "juicefs quota check after Sluice's changes"; }
  "$SLUICE" rm "$1" /jq/one || fail "sluice rm"
  "$SLUICE" put "$1" "$SRC/a/hello.txt" /jq/four || fail "sluice put after a deletion made room"
  jfs quota check "$1" --path /jq >"$W/qcheck.log" 2>&1 || { cat "$W/qcheck.log"; fail "juicefs quota check after a Sluice delete"; }

  # the other way: Sluice's quota, as juicefs shows and enforces it
  "$SLUICE" quota set "$1" --path /sq --create --capacity 1M >/dev/null || fail "sluice quota set"
  "$SLUICE" put "$1" "$SRC/a/4095" /sq/small || fail "sluice put within its own quota"
  jfs quota get "$1" --path /sq >"$W/qget.log" 2>&1 || { cat "$W/qget.log"; fail "juicefs quota get"; }
  grep -q "1.0 MiB" "$W/qget.log" || { cat "$W/qget.log"; fail "juicefs does not show Sluice's 1 MiB quota"; }
  jfs quota check "$1" --path /sq >"$W/qcheck.log" 2>&1 || { cat "$W/qcheck.log"; fail "juicefs quota check of Sluice's quota"; }
  mkdir -p "$W/quota-src"
  cp "$SRC/a/b/block" "$W/quota-src/"
  export JFS_META_URL=$1
  if jfs sync "$W/quota-src/" jfs://JFS_META_URL/sq/ >"$W/qsync.log" 2>&1; then
    fail "juicefs wrote 4 MiB under Sluice's quota of 1 MiB"
  fi
  "$SLUICE" quota delete "$1" --path /sq || fail "sluice quota delete"
  jfs quota list "$1" 2>&1 | grep -q "/sq" && fail "juicefs still lists a quota Sluice deleted"
  echo "ok: directory quotas hold both ways"
}

acls_both_ways() { # META: ACLs Sluice sets are juicefs's rows; rows juicefs writes hold for Sluice
  "$SLUICE" format "$1" sl-acl --storage file --bucket "$W/data-acl-$RANDOM" --enable-acl >/dev/null ||
    fail "sluice format --enable-acl"
  "$SLUICE" mkdir "$1" /a && "$SLUICE" put "$1" "$SRC/a/hello.txt" /a/f || fail "sluice put"
  "$SLUICE" setfacl "$1" -m user:bob:rw- /a/f || fail "sluice setfacl -m"
  "$SLUICE" setfacl "$1" -m default:user:bob:r-x /a || fail "sluice setfacl default"
  jfs dump "$1" "$W/acl.json" >/dev/null 2>&1 || fail "juicefs dump of a volume with Sluice's ACLs"
  local uid
  uid=$(python3 - "$W/acl.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["FSTree"]["entries"]["a"]
f = a["entries"]["f"]
acc, dfl = f["posix_acl_access"], a["posix_acl_default"]
assert len(acc["users"]) == 1 and acc["users"][0]["perm"] == 6 and acc["mask"] == 6, acc
assert acc["group"] == 4 and acc["owner"] == 6, acc
assert dfl["users"][0]["perm"] == 5 and dfl["users"][0]["id"] == acc["users"][0]["id"], dfl
# the other way: bob's entry narrowed to r--, as juicefs load writes it
acc["users"][0]["perm"] = 4
acc["mask"] = 4
f["attr"]["mode"] = (f["attr"]["mode"] & ~0o070) | 0o040  # the group bits show the mask
json.dump(d, open(sys.argv[1], "w"))
print(acc["users"][0]["id"])
PY
) || fail "juicefs does not see Sluice's ACLs as expected"
  local m2="sqlite3://$W/acl-loaded-$RANDOM.db"
  jfs load "$m2" "$W/acl.json" >/dev/null 2>&1 || fail "juicefs load of a dump with ACLs"
  "$SLUICE" getfacl "$m2" /a/f >"$W/getfacl.log" || { cat "$W/getfacl.log"; fail "sluice getfacl of juicefs's ACL"; }
  grep -Eq "^user:(bob|$uid):r--$" "$W/getfacl.log" && grep -q "^mask::r--$" "$W/getfacl.log" ||
    { cat "$W/getfacl.log"; fail "Sluice does not read the ACL juicefs wrote"; }
  "$SLUICE" getfacl "$m2" /a | grep -Eq "^default:user:(bob|$uid):r-x$" ||
    fail "Sluice does not read the default ACL juicefs wrote"
  echo "ok: POSIX ACLs both ways (juicefs dump/load)"
}

snapshots_for_juicefs() { # META: Sluice's snapshots keep a volume sound for juicefs
  "$SLUICE" format "$1" sl-snap --storage file --bucket "$W/data-snap-$RANDOM" >/dev/null || fail "sluice format"
  "$SLUICE" mkdir "$1" /s && "$SLUICE" put "$1" "$SRC/a/b/block-plus-1" /s/f || fail "sluice put"
  "$SLUICE" snapshot create "$1" /s one >/dev/null || fail "sluice snapshot create"
  "$SLUICE" rm "$1" /s/f && "$SLUICE" put "$1" "$SRC/a/hello.txt" /s/f || fail "sluice rm and put after a snapshot"
  jfs fsck "$1" >"$W/snap-fsck.log" 2>&1 || { cat "$W/snap-fsck.log"; fail "juicefs fsck of a volume with snapshots"; }
  jfs dump "$1" "$W/snap.json" >/dev/null 2>&1 || fail "juicefs dump of a volume with snapshots"
  local m2="sqlite3://$W/snap-loaded-$RANDOM.db"
  jfs load "$m2" "$W/snap.json" >/dev/null 2>&1 || fail "juicefs load of a dump with snapshots"
  "$SLUICE" get "$m2" /s/.snapshot/one/f "$W/snap-f" && cmp -s "$W/snap-f" "$SRC/a/b/block-plus-1" ||
    fail "a snapshot does not read back after juicefs dump/load"
  "$SLUICE" snapshot delete "$1" /s one || fail "sluice snapshot delete"
  jfs fsck "$1" >"$W/snap-fsck.log" 2>&1 || { cat "$W/snap-fsck.log"; fail "juicefs fsck after a snapshot's deletion"; }
  "$SLUICE" rm -r "$1" /s || fail "sluice rm -r of a directory whose snapshots are gone"
  echo "ok: snapshots keep the volume sound for juicefs (fsck, dump/load)"
}

dump_to_juicefs() { # META: `sluice dump` writes what `juicefs load` reads: files, ACLs, quotas, snapshots
  "$SLUICE" format "$1" sl-dump --storage file --bucket "$W/data-dump-$RANDOM" --enable-acl >/dev/null ||
    fail "sluice format"
  "$SLUICE" mkdir "$1" /src/a/b && "$SLUICE" mkdir "$1" /src/empty-dir || fail "sluice mkdir"
  for f in "${FILES[@]}"; do
    "$SLUICE" put "$1" "$SRC/$f" "/src/$f" || fail "sluice put $f"
  done
  "$SLUICE" setfacl "$1" -m user:bob:r-x /src/a || fail "sluice setfacl"
  "$SLUICE" quota set "$1" --path /src --inodes 77 >/dev/null || fail "sluice quota set"
  "$SLUICE" snapshot create "$1" /src s1 >/dev/null || fail "sluice snapshot create"
  "$SLUICE" dump "$1" "$W/sluice-dump.json" 2>/dev/null || fail "sluice dump"
  local m2="sqlite3://$W/dump-loaded-$RANDOM.db"
  jfs load "$m2" "$W/sluice-dump.json" >/dev/null 2>&1 || fail "juicefs load of sluice dump's output"
  jfs fsck "$m2" >"$W/dump-fsck.log" 2>&1 || { cat "$W/dump-fsck.log"; fail "juicefs fsck after loading sluice dump's output"; }
  local out=$W/dump-out-$RANDOM
  mkdir "$out"
  JFS_META_URL=$m2 jfs sync --dirs jfs://JFS_META_URL/src/ "$out/" >/dev/null || fail "juicefs sync from the loaded volume"
  diff -r "$SRC" "$out" || fail "files differ after sluice dump and juicefs load"
  jfs quota get "$m2" --path /src 2>&1 | grep -q " 77 " || fail "the quota did not survive sluice dump and juicefs load"
  "$SLUICE" getfacl "$m2" /src/a | grep -q "^user:.*:r-x$" || fail "the ACL did not survive sluice dump and juicefs load"
  "$SLUICE" get "$m2" /src/.snapshot/s1/a/hello.txt "$W/dump-snap" && cmp -s "$W/dump-snap" "$SRC/a/hello.txt" ||
    fail "the snapshot did not survive sluice dump and juicefs load"
  echo "ok: sluice dump -> juicefs load"

  # and back: sluice load of the same dump, the registry's names kept
  local m3="sqlite3://$W/dump-reloaded-$RANDOM.db"
  "$SLUICE" load "$m3" "$W/sluice-dump.json" 2>/dev/null || fail "sluice load of sluice dump's output"
  "$SLUICE" getfacl "$m3" /src/a | grep -q "^user:bob:r-x$" || fail "sluice load lost the registry's names"
  "$SLUICE" quota check "$m3" --path /src >/dev/null || fail "the quota's usage after sluice load"
  "$SLUICE" fsck "$m3" >/dev/null || fail "sluice fsck after sluice load"
  jfs fsck "$m3" >/dev/null 2>&1 || fail "juicefs fsck after sluice load"
  "$SLUICE" load "$m3" "$W/sluice-dump.json" 2>"$W/reload.log" && fail "sluice load into a database that holds a volume"
  grep -q "holds a volume already" "$W/reload.log" || { cat "$W/reload.log"; fail "no clear refusal of a second load"; }
  echo "ok: sluice dump -> sluice load"
}

load_from_juicefs() { # META: what `juicefs dump` writes, `sluice load` reads
  jfs format "$1" jfs-dumped --storage file --bucket "$W/data-jdump-$RANDOM" >/dev/null || fail "juicefs format"
  JFS_META_URL=$1 jfs sync --dirs "$SRC/" jfs://JFS_META_URL/ >/dev/null || fail "juicefs sync into its volume"
  jfs quota set "$1" --path /a --inodes 55 >/dev/null || fail "juicefs quota set"
  jfs dump "$1" "$W/juicefs-dump.json" >/dev/null 2>&1 || fail "juicefs dump"
  local m2="sqlite3://$W/jdump-loaded-$RANDOM.db"
  "$SLUICE" load "$m2" "$W/juicefs-dump.json" 2>/dev/null || fail "sluice load of juicefs dump's output"
  for f in "${FILES[@]}"; do
    "$SLUICE" get "$m2" "/$f" "$W/jdump-out" && cmp -s "$W/jdump-out" "$SRC/$f" ||
      fail "$f differs after juicefs dump and sluice load"
  done
  "$SLUICE" quota get "$m2" --path /a | grep -q " 55 " || fail "the quota did not survive juicefs dump and sluice load"
  "$SLUICE" quota check "$m2" --path /a >/dev/null || fail "the quota's usage after sluice load"
  "$SLUICE" fsck "$m2" >/dev/null || fail "sluice fsck after sluice load"
  jfs fsck "$m2" >/dev/null 2>&1 || fail "juicefs fsck after sluice load"
  "$SLUICE" put "$m2" "$SRC/a/hello.txt" /after-load || fail "sluice put into a loaded volume"
  echo "ok: juicefs dump -> sluice load"
}

refuse_unsupported() { # META: a format record naming Ranger is refused with a clear message
  "$SLUICE" format "$1" ranger --storage file --bucket "$W/data-ranger" >/dev/null
  python3 - "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1][len("sqlite3://"):])
fmt = json.loads(db.execute("SELECT value FROM jfs_setting WHERE name='format'").fetchone()[0])
fmt["RangerRestUrl"] = "http://ranger.invalid:6080"
db.execute("UPDATE jfs_setting SET value=? WHERE name='format'", (json.dumps(fmt),))
db.commit()
PY
  if "$SLUICE" ls "$1" / >"$W/refused.log" 2>&1; then
    fail "Sluice opened a volume that names Ranger"
  fi
  grep -q "Ranger" "$W/refused.log" || { cat "$W/refused.log"; fail "no clear refusal message"; }
  echo "ok: a volume using a feature Sluice lacks is refused"
}

session_visible() { # a Sluice client's session shows in `juicefs status`
  local meta="sqlite3://$W/sess.db"
  "$SLUICE" format "$meta" sessions --storage file --bucket "$W/data-sess" >/dev/null
  mkfifo "$W/fifo"
  "$SLUICE" put "$meta" "$W/fifo" /held-open &
  local pid=$!
  exec 3>"$W/fifo" # the put now waits for data, its session open
  local found=1
  for _ in $(seq 1 50); do
    if jfs status "$meta" 2>/dev/null | grep -q '"Version": "sluice-'; then found=0; break; fi
    sleep 0.1
  done
  echo done >&3
  exec 3>&-
  wait "$pid" || fail "sluice put from a fifo"
  ((found == 0)) || fail "juicefs status does not list the Sluice session"
  jfs status "$meta" 2>/dev/null | grep -q '"Version": "sluice-' && fail "the session outlived its client"
  echo "ok: juicefs status lists a live Sluice session, and not after it closed"
}
session_visible

# sqlite3 + file, juicefs 1.3
JUICEFS_14=$JUICEFS
JUICEFS=$JUICEFS_13
sluice_to_juicefs "sqlite3://$W/s13.db" file "$W/data13a" lz4
juicefs_to_sluice "sqlite3://$W/j13.db" file "$W/data13b" none
JUICEFS=$JUICEFS_14

# sqlite3 + file, juicefs 1.4
sluice_to_juicefs "sqlite3://$W/s1.db" file "$W/data1" none
sluice_to_juicefs "sqlite3://$W/s2.db" file "$W/data2" lz4
juicefs_to_sluice "sqlite3://$W/j1.db" file "$W/data3" none
juicefs_to_sluice "sqlite3://$W/j2.db" file "$W/data4" lz4
encrypted_both_ways "sqlite3://$W/e1.db" file "$W/data5" aes256gcm-rsa "$W/key.pem" ""
encrypted_both_ways "sqlite3://$W/e2.db" file "$W/data6" chacha20-rsa "$W/key-pass.pem" interop-pass
refuse_unsupported "sqlite3://$W/r1.db"
limits_respected "sqlite3://$W/l1.db"
quotas_both_ways "sqlite3://$W/q1.db"
acls_both_ways "sqlite3://$W/acl1.db"
snapshots_for_juicefs "sqlite3://$W/snap1.db"
dump_to_juicefs "sqlite3://$W/dump1.db"
load_from_juicefs "sqlite3://$W/jdump1.db"

# MariaDB + S3
S3KEYS=(--access-key "$SLUICE_TEST_S3_ACCESS_KEY" --secret-key "$SLUICE_TEST_S3_SECRET_KEY")
sluice_to_juicefs "$(mysql_db interop_s1)" minio "$SLUICE_TEST_S3_ENDPOINT/interop-s1" lz4 "${S3KEYS[@]}"
quotas_both_ways "$(mysql_db interop_q1)"
snapshots_for_juicefs "$(mysql_db interop_snap1)"
dump_to_juicefs "$(mysql_db interop_dump1)"
load_from_juicefs "$(mysql_db interop_jdump1)"
juicefs_to_sluice "$(mysql_db interop_j1)" minio "$SLUICE_TEST_S3_ENDPOINT/interop-j1" none "${S3KEYS[@]}"
encrypted_both_ways interop_e1 minio "$SLUICE_TEST_S3_ENDPOINT/interop-e1" aes256gcm-rsa "$W/key-pass.pem" interop-pass "${S3KEYS[@]}"
echo "interop with juicefs: all passed"
