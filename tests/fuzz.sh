#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer targets of native/fuzz (the gateway's request dispatcher, its
# opening/handshake/frame reader, the wire decoder, the S3 XML parser) into build-fuzz/ and runs
# each for a bounded time under ASan+UBSan. Fails on any crash, sanitizer report, leak, hang or
# memory blowup, and prints the input that reproduces it.
#
#   SLUICE_FUZZ_SECONDS   fuzzing time over all targets (default 60)
#   SLUICE_FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 5)
#   SLUICE_FUZZ_BUILD     build directory (default build-fuzz)
#
# Corpus: native/fuzz/corpus/<target> (regression inputs, in git), seeds written by fuzz_seeds
# (one valid request per gateway op, real handshakes, ...) and BUILD/corpus/<target>, where
# libFuzzer keeps what it finds, so later runs on this machine start further on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${SLUICE_FUZZ_BUILD:-build-fuzz}
TOTAL=${SLUICE_FUZZ_SECONDS:-60}
UNIT_TIMEOUT=${SLUICE_FUZZ_TIMEOUT:-5}
case $TOTAL in '' | *[!0-9]*) echo "fuzz.sh: SLUICE_FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac
case $UNIT_TIMEOUT in '' | *[!0-9]* | 0) echo "fuzz.sh: SLUICE_FUZZ_TIMEOUT must be a positive number of seconds" >&2; exit 2 ;; esac
if ((TOTAL < 3)); then TOTAL=3; fi

command -v clang-16 >/dev/null || bash tests/env/deps.sh

# A separate CMake project, configured once with clang (the main build stays on the default compiler).
mkdir -p "$B"
if [ ! -f "$B/build.ninja" ]; then
  if ! CC=clang-16 cmake -S native/fuzz -B "$B" -G Ninja >"$B/configure.log" 2>&1; then
    cat "$B/configure.log" >&2
    exit 1
  fi
fi
if ! cmake --build "$B" -j 2 >"$B/build.log" 2>&1; then
  tail -n 60 "$B/build.log" >&2
  echo "fuzz.sh: building the fuzz targets failed (log: $B/build.log)" >&2
  exit 1
fi

# This run's state: temp dirs of the targets (volume, keytab), seeds, logs, artifacts.
RUN=$ROOT/$B/run
rm -rf "$RUN"
mkdir -p "$RUN/tmp" "$RUN/logs"
export TMPDIR=$RUN/tmp
trap 'rm -rf "$RUN/tmp"' EXIT
"$B/fuzz_seeds" "$RUN/seeds"

# Leaks are findings; UBSan stops at the first report (the targets are built with
# -fno-sanitize-recover). A symbolizer turns addresses in reports into file:line.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1
for s in /usr/lib/llvm-16/bin/llvm-symbolizer /usr/bin/llvm-symbolizer; do
  if [ -x "$s" ]; then export ASAN_SYMBOLIZER_PATH=$s; break; fi
done

# target, share of the time (percent), largest input
TARGETS=(
  "dispatch 45 8192"
  "frames 25 4096"
  "wire 15 1024"
  "s3_xml 15 16384"
)
failed=()
for spec in "${TARGETS[@]}"; do
  read -r t share max_len <<<"$spec"
  secs=$((TOTAL * share / 100))
  ((secs >= 1)) || secs=1
  mkdir -p "$B/corpus/$t" "$RUN/artifacts/$t" native/fuzz/corpus/$t
  log=$RUN/logs/fuzz_$t.log
  rc=0
  # -timeout: one input running longer is a hang; -rss_limit_mb: memory blowup (a single
  # malloc over it as well); both write the input and fail, like a crash or a leak.
  "$B/fuzz_$t" -max_total_time="$secs" -max_len="$max_len" -timeout="$UNIT_TIMEOUT" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$RUN/artifacts/$t/" \
    "$B/corpus/$t" "$RUN/seeds/$t" "native/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  # a summary figure only: a log without a coverage line is not an error
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  if ((rc == 0)) && ! grep -q -E '^(==[0-9]+==ERROR|SUMMARY: )' "$log"; then
    echo "fuzz_$t: ${secs} s, ${runs:-?} inputs, ${cov:-cov: ?}: ok"
    continue
  fi
  failed+=("fuzz_$t")
  echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} inputs; the report:"
  # The sanitizer's or libFuzzer's report, without the corpus progress lines before it.
  awk '/^==[0-9]+==|: runtime error|^ALARM|^INFO: a leak/ { on = 1 }
       /^Shadow bytes around/ { skip = 1 } /^==[0-9]+==ABORTING/ { skip = 0 }
       on && !skip' "$log" | head -n 60 | sed 's/^/    /'
  found=0
  for a in "$RUN/artifacts/$t"/*; do
    [ -e "$a" ] || continue
    found=1
    echo "  reproduce: $ROOT/$B/fuzz_$t $a"
  done
  ((found)) || echo "  (no input was written; full log: $log)"
  echo "  add the input to native/fuzz/corpus/$t/ once fixed, as a regression seed"
done

if ((${#failed[@]})); then
  echo "fuzz.sh: ${failed[*]} failed (logs in $RUN/logs)"
  exit 1
fi
echo "fuzz.sh: all targets ran ${TOTAL} s without a finding"
