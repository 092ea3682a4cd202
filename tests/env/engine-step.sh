# engine-step.sh - sourced by the engine steps (tests/engines/*.sh) once they set ROOT and BUILD:
# what each step does alike. `engine_step NAME` makes the step's private WORK (removed on exit,
# with the scratch database of engine-volumes.sh, by engine_cleanup), REPORT_DIR (target/engines),
# OUT (target/engines/NAME) and TAP (REPORT_DIR/NAME.tap), whose lines the step gathers in
# $TAP.lines; `engine_report RC` numbers them into TAP, prints the summary and exits with RC.
# A grep that may rightly find nothing tolerates exit status 1 only (`|| [ $? -eq 1 ]`).
source "$ROOT/tests/env/engine-volumes.sh"

engine_step() {
  ENGINE=$1
  REPORT_DIR=$ROOT/target/engines
  OUT=$REPORT_DIR/$ENGINE
  TAP=$REPORT_DIR/$ENGINE.tap
  mkdir -p "$REPORT_DIR"
  : >"$TAP.lines"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$ENGINE-XXXXXX")
  trap engine_cleanup EXIT
}

# The step's own cleanup, if it has more to do, calls this last.
engine_cleanup() {
  engine_volumes_drop
  rm -rf "$WORK"
}

# mvn_quiet ARGS...: Maven without its chatter, whose output is shown only when it fails.
mvn_quiet() {
  if ! mvn -B -q -ntp "$@" >"$WORK/mvn.log" 2>&1; then
    cat "$WORK/mvn.log" >&2
    echo "$ENGINE: mvn $* failed" >&2
    return 1
  fi
}

# engine_classpath POM PROPERTY VERSION: compiles the step's Java check against the engine's
# release VERSION (-DPROPERTY=VERSION) and has Maven resolve the engine's class path into CP_FILE,
# once (again when the pom changed or a jar went missing from ~/.m2).
engine_classpath() {
  local pom=$1 property=$2 version=$3
  mvn_quiet -f "$pom" -D"$property=$version" compile
  CP_FILE=$OUT/classpath-$version.txt
  if [[ ! -s $CP_FILE || $pom -nt $CP_FILE ]] || ! ls $(tr ':' ' ' <"$CP_FILE") >/dev/null 2>&1
  then
    mvn_quiet -f "$pom" -D"$property=$version" dependency:build-classpath \
      -Dmdep.outputFile="$CP_FILE"
  fi
}

# engine_report RC: the TAP report (numbered lines, the plan first) and its summary; exits RC.
engine_report() {
  {
    echo "1..$(wc -l <"$TAP.lines")"
    awk '{ sub(/^ok/, "ok " NR); sub(/^not ok/, "not ok " NR); print }' "$TAP.lines"
  } >"$TAP"
  rm -f "$TAP.lines"*
  echo "$ENGINE: $(grep -c '^ok' "$TAP") checks passed," \
    "$(grep -c '^not ok' "$TAP" || [ $? -eq 1 ]) failed (report: ${TAP#"$ROOT"/})"
  exit "$1"
}
