# obtain.sh - sourced by run.sh and the part scripts: records how long obtaining each peer's
# software took in this run (0 s when it was cached already) as lines "peer<TAB>version<TAB>
# cached<TAB>seconds" in $OBTAIN_TSV, which report.py renders as a table. Building a benchmark's
# own code is not obtaining: a Maven project whose dependencies are all in the local repository
# builds offline and counts 0 s.
#   OBTAIN_TSV=OUT/obtain.tsv; source benchmarks/obtain.sh   (unset: nothing is recorded)
OBTAIN_TSV=${OBTAIN_TSV:-/dev/null}
TOOLS=${SLUICE_TOOLS_DIR:-$HOME/.cache/sluice-tools}

# obtain_record PEER VERSION CACHED(yes|no) SECONDS; a peer recorded already (obtained ahead by
# run.sh's prefetch) keeps its first record
obtain_record() {
  [ "$OBTAIN_TSV" != /dev/null ] && [ -f "$OBTAIN_TSV" ] &&
    cut -f1 "$OBTAIN_TSV" | grep -qxF "$1" && return 0
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$OBTAIN_TSV"
}

# obtain_timed PEER VERSION CACHED(yes|no) COMMAND...: runs COMMAND (its stdout is the caller's)
# and records its time, or 0 s when CACHED; COMMAND's status is returned.
obtain_timed() {
  local peer=$1 version=$2 cached=$3 start=$SECONDS rc=0
  shift 3
  "$@" || rc=$?
  obtain_record "$peer" "$version" "$cached" "$([ "$cached" = yes ] && echo 0 || echo $((SECONDS - start)))"
  return $rc
}

# obtain_mvn_package DIR PEER VERSION: `mvn package` in DIR, offline first; online (and timed as
# obtaining) only when the local repository lacks something.
obtain_mvn_package() {
  local dir=$1 peer=$2 version=$3 start=$SECONDS
  if (cd "$dir" && mvn -B -ntp -q -o package >/dev/null 2>&1); then
    obtain_record "$peer" "$version" yes 0
    return 0
  fi
  (cd "$dir" && mvn -B -ntp -q package) || return
  obtain_record "$peer" "$version" no $((SECONDS - start))
}
