#!/usr/bin/env bash
# The fuzzing campaign (issue 15, docs/reliability.md): builds rehabfuzz with libFuzzer once, into
# its own build folder, and fuzzes one target or all of them, each for a bounded time.
#
#   scripts/fuzz.sh TARGET[,TARGET…]|all [SECONDS=60]   fuzz each in turn; exit 1 when anything crashed
#   scripts/fuzz.sh --minimize CRASHFILE [TARGET]  minimise a crash into Fuzz/regressions/TARGET/
#   scripts/fuzz.sh --replay TARGET FILE|FOLDER... run inputs once through the sanitized build
#   scripts/fuzz.sh --list                         the targets
#
# Targets: rehablink rehabref json profile exercise faults mcap dynamixel xsens bno08x ndi (Fuzz/rehabfuzz/Targets.swift).
# Each run reads the committed seeds (Fuzz/corpus/TARGET) and writes what it learns to its work
# corpus (Fuzz/corpus/TARGET-work, git-ignored; kept between runs); the committed seeds are never
# written. Crashes, timeouts, leaks and out-of-memory inputs go to Fuzz/crashes/TARGET-* (git-ignored);
# `--minimize` turns one into a regression input, which FuzzRegressionTests replays on every test run.
#
# Environment: SWIFT (default swift); FUZZ_SANITIZERS (default fuzzer,address: when the address
# sanitizer does not build or link, the build falls back to fuzzer alone and says so); FUZZ_TIMEOUT
# (seconds one input may take, default 25); FUZZ_RSS_LIMIT_MB (default 2048); FUZZ_ARGS (more
# libFuzzer flags, e.g. "-use_value_profile=1", or "-runs=10000000" for a campaign of 10⁷ executions
# per target (SECONDS then only bounds it), or "-detect_leaks=0" should LeakSanitizer report the
# Swift runtime's own caches); FUZZ_BUILD_PATH (default .build-fuzz: another folder keeps a second
# build, e.g. FUZZ_SANITIZERS=fuzzer FUZZ_BUILD_PATH=.build-fuzz-plain for a long run without the
# address sanitizer's cost). Logs: BUILD_PATH/logs/TARGET.log.
set -uo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
targets=(rehablink rehabref json profile exercise faults mcap dynamixel xsens bno08x ndi)
build_path=${FUZZ_BUILD_PATH:-.build-fuzz}
binary=$build_path/release/rehabfuzz
crashes=Fuzz/crashes

usage() {
  sed -n '5,8p' "$0" | sed 's/^# //' >&2
  exit 64
}

is_target() {
  local t
  for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

# The longest input worth trying, per target (libFuzzer's -max_len): a few frames, one datagram, a file.
max_len_of() {
  case "$1" in
    rehablink | dynamixel | xsens | bno08x | ndi) echo 2048 ;;
    rehabref) echo 64 ;;
    json | exercise | faults) echo 4096 ;;
    profile) echo 8192 ;;
    mcap) echo 16384 ;;
  esac
}

# libFuzzer dictionary per target (JSON syntax and the keys of the shipped files), if any.
dict_of() {
  case "$1" in
    json | profile | exercise | faults) [ -f Fuzz/dict/json.dict ] && echo "-dict=Fuzz/dict/json.dict" ;;
  esac
}

# Builds the libFuzzer rehabfuzz once per invocation. Sanitizers that do not link fall back to
# -sanitize=fuzzer alone. No -parse-as-library: rehabfuzz keeps its @main, which calls libFuzzer's
# driver (SwiftPM links every executable with --defsym main=<module>_main, EntryPoint.swift).
build() {
  local sanitizers=${FUZZ_SANITIZERS:-fuzzer,address}
  local log=$build_path/build.log
  mkdir -p "$build_path"
  [ -x scripts/setup.sh ] && scripts/setup.sh
  echo "fuzz.sh: building rehabfuzz with -sanitize=$sanitizers into $build_path (log: $log)"
  if ! "$SWIFT" build -c release --product rehabfuzz --build-path "$build_path" \
    -Xswiftc "-sanitize=$sanitizers" -Xswiftc -DFUZZING >"$log" 2>&1; then
    if [ "$sanitizers" != fuzzer ] && grep -qiE 'asan|address ?sanitizer|sanitize=address|clang_rt\.(asan|ubsan)' "$log"; then
      echo "fuzz.sh: -sanitize=$sanitizers does not build here; its last lines:"
      tail -n 5 "$log" | sed 's/^/    /'
      echo "fuzz.sh: fuzzing WITHOUT the address sanitizer (-sanitize=fuzzer alone): Swift's own checks still trap," \
        "but memory errors in unsafe code go unseen"
      sanitizers=fuzzer
      if ! "$SWIFT" build -c release --product rehabfuzz --build-path "$build_path" \
        -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz.sh: the fuzzing build failed (whole log: $log)" >&2
        exit 70
      fi
    else
      tail -n 40 "$log"
      echo "fuzz.sh: the fuzzing build failed (whole log: $log)" >&2
      exit 70
    fi
  fi
  echo "$sanitizers" >"$build_path/sanitizers"
}

# Crash artifacts of TARGET, one path a line (crashes, timeouts, leaks, out-of-memory inputs).
artifacts() {
  local kind
  for kind in crash timeout leak oom; do
    ls -1 "$crashes/$1-$kind-"* 2>/dev/null
  done | sort
}

# A libFuzzer final statistic ("stat::NAME: VALUE") from a log.
final_stat() {
  sed -nE "s/^stat::$2:[[:space:]]*([0-9]+).*/\1/p" "$1" | tail -n 1
}

summary=()
failed=0

fuzz_target() {
  local target=$1 seconds=$2
  local seeds=Fuzz/corpus/$target work=Fuzz/corpus/$target-work log=$build_path/logs/$target.log
  mkdir -p "$work" "$crashes" "$build_path/logs"
  local before after new status executions rate
  before=$(artifacts "$target")
  echo "fuzz.sh: $target for ${seconds} s (seeds $seeds, work corpus $work)"
  # shellcheck disable=SC2046,SC2086
  REHABFUZZ_TARGET=$target "$binary" "$work" "$seeds" \
    -max_total_time="$seconds" -max_len="$(max_len_of "$target")" -timeout="${FUZZ_TIMEOUT:-25}" \
    -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" -print_final_stats=1 -artifact_prefix="$crashes/$target-" \
    $(dict_of "$target") ${FUZZ_ARGS:-} >"$log" 2>&1
  status=$?
  executions=$(final_stat "$log" number_of_executed_units)
  rate=$(final_stat "$log" average_exec_per_sec)
  if [ -z "$executions" ]; then
    # No final statistics (the run ended on a crash): the last status line, "#N ... exec/s: R ...".
    executions=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/')
    rate=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p')
  fi
  after=$(artifacts "$target")
  new=$(comm -13 <(echo "$before") <(echo "$after") | grep -c . || true)
  local corpus
  corpus=$(find "$work" -maxdepth 1 -type f | wc -l)
  local line
  line=$(printf '%-10s %14s %10s %12s %8s' "$target" "${executions:-?}" "${rate:-?}" "$new" "$corpus")
  if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
    failed=1
    summary+=("$line   FAILED (exit $status; log $log)")
    echo "fuzz.sh: $target FAILED (libFuzzer exit $status); the end of $log:"
    tail -n 30 "$log" | sed 's/^/    /'
    if [ "$new" -gt 0 ]; then
      comm -13 <(echo "$before") <(echo "$after") | sed 's/^/    new: /'
      echo "    minimise it into a regression test: scripts/fuzz.sh --minimize <the new file>"
    else
      echo "    libFuzzer failed without saving an input: a bad flag, or a LeakSanitizer report at exit;" \
        "if the latter names only the Swift runtime, rerun with ASAN_OPTIONS=detect_leaks=0 FUZZ_ARGS=-detect_leaks=0"
    fi
  else
    summary+=("$line   ok")
    echo "fuzz.sh: $target: ${executions:-?} executions, ${rate:-?} exec/s, no crash"
  fi
}

minimize() {
  local crash=$1 target=${2:-}
  [ -f "$crash" ] || { echo "fuzz.sh: $crash: no such file" >&2; exit 66; }
  if [ -z "$target" ]; then
    target=$(basename "$crash")
    target=${target%%-*}
  fi
  is_target "$target" || { echo "fuzz.sh: cannot tell the target of $crash; give it: scripts/fuzz.sh --minimize $crash TARGET" >&2; exit 64; }
  build
  mkdir -p "$build_path/logs" "Fuzz/regressions/$target"
  local log=$build_path/logs/minimize-$target.log out
  out=$(mktemp -u "$build_path/minimized-XXXXXX")
  echo "fuzz.sh: minimising $crash for $target (log: $log)"
  REHABFUZZ_TARGET=$target "$binary" -minimize_crash=1 -runs="${FUZZ_MINIMIZE_RUNS:-10000}" \
    -max_total_time="${FUZZ_MINIMIZE_SECONDS:-120}" -timeout="${FUZZ_TIMEOUT:-25}" -exact_artifact_path="$out" \
    "$crash" >"$log" 2>&1
  if [ ! -s "$out" ]; then
    if grep -q "CRASH_MIN: failed to minimize beyond" "$log"; then
      out=$crash  # already as small as libFuzzer can make it
    else
      tail -n 20 "$log"
      echo "fuzz.sh: $crash did not crash $target here (fixed already?), or could not be minimised (log: $log)" >&2
      exit 1
    fi
  fi
  local name
  name=crash-$(sha1sum "$out" | cut -c1-40)
  cp "$out" "Fuzz/regressions/$target/$name"
  [ "$out" != "$crash" ] && rm -f "$out"
  echo "fuzz.sh: $crash ($(wc -c <"$crash") bytes) minimised to Fuzz/regressions/$target/$name ($(wc -c <"Fuzz/regressions/$target/$name") bytes)"
  echo "  commit it: FuzzRegressionTests replays it and fails until the bug is fixed."
  echo "  replay it alone: .build/release/rehabfuzz $target Fuzz/regressions/$target/$name  (normal build)"
  echo "                   scripts/fuzz.sh --replay $target Fuzz/regressions/$target/$name  (with the sanitizers)"
}

replay() {
  local target=$1
  shift
  is_target "$target" || usage
  local inputs=() path
  for path in "$@"; do
    if [ -d "$path" ]; then
      while IFS= read -r file; do inputs+=("$file"); done < <(find "$path" -maxdepth 1 -type f ! -name '.*' | sort)
    elif [ -f "$path" ]; then
      inputs+=("$path")
    else
      echo "fuzz.sh: $path: no such file or folder" >&2
      exit 66
    fi
  done
  [ ${#inputs[@]} -gt 0 ] || { echo "fuzz.sh: no input to replay" >&2; exit 66; }
  build
  # libFuzzer runs files given as arguments once each, without fuzzing.
  REHABFUZZ_TARGET=$target "$binary" -timeout="${FUZZ_TIMEOUT:-25}" "${inputs[@]}"
}

case "${1:-}" in
  "" | -h | --help) usage ;;
  --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
  --minimize) [ $# -ge 2 ] || usage; minimize "$2" "${3:-}"; exit 0 ;;
  --replay) [ $# -ge 3 ] || usage; shift; replay "$@"; exit $? ;;
esac

which=$1
seconds=${2:-60}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a positive whole number, not \"$seconds\"" >&2; exit 64; }
if [ "$which" = all ]; then
  selected=("${targets[@]}")
else
  # One target, or several separated by commas (one build, then each in turn).
  IFS=, read -r -a selected <<<"$which"
  for target in "${selected[@]}"; do
    is_target "$target" || { echo "fuzz.sh: unknown target \"$target\" (targets: ${targets[*]}, or all)" >&2; exit 64; }
  done
fi

build
for target in "${selected[@]}"; do fuzz_target "$target" "$seconds"; done

echo
echo "fuzz.sh: $(cat "$build_path/sanitizers" 2>/dev/null || echo '?') build, ${seconds} s per target"
printf '%-10s %14s %10s %12s %8s\n' target executions exec/s "new crashes" corpus
for line in "${summary[@]}"; do echo "$line"; done
exit "$failed"
