#!/usr/bin/env bash
# A soak: one recorded session at 1 kHz (SOAK_RATE_HZ) for MINUTES (`rehabctl run --sim`: the demo's passive exercise,
# without the demo's HTML report of the whole file afterwards), with rehabctl's and rehabsim's resident memory, open descriptors and threads, the recording's
# size, the cycle count and the missed deadlines sampled every 10 s into a CSV, then a verdict.
#
#   scripts/soak.sh [MINUTES=60]          (extra rehabctl options in REHABCTL_OPTIONS; the output
#                                          folder in SOAK_DIR, else a new /tmp folder; REHABCTL: the
#                                          rehabctl to run, default .build/release/rehabctl;
#                                          SOAK_RATE_HZ: the loop's rate, default 1000;
#                                          SOAK_RESUME=1: resume an SR-1 POOR pause as an operator
#                                          would, once it has ended; each resume is counted)
#
# The verdict fails when the session did not run its whole time (a safety stop, a lost link), when
# a cycle's telemetry was dropped or not written, or when memory, descriptors or threads grew after
# the first minute. Resident memory may grow by 4 MiB (allocator noise), and rehabctl's also by
# 0.25 % of the recording: the MCAP summary's chunk index (a chunk every 100 ms, for crash safety)
# stays in memory until the file is finished, about 0.16 % of its size.
# Missed deadlines are reported, with the caveat that on a shared, non-preemptible VM they are the
# host's noise (docs/performance.md); they fail nothing by themselves.
set -euo pipefail
MINUTES="${1:-60}"
if ! [[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]] || [ "$(python3 -c "print(int(float('$MINUTES') * 60 < 30))")" = 1 ]; then
  echo "usage: scripts/soak.sh [MINUTES]   (at least 0.5; default 60)" >&2
  exit 64
fi
cd "$(dirname "$0")/.."
# REHABCTL: a copy of the programs elsewhere (rehabsim beside it), so that a build during a long
# soak does not replace them under it.
BIN="${REHABCTL:-.build/release/rehabctl}"
[ -x "$BIN" ] && [ -x "$(dirname "$BIN")/rehabsim" ] || swift build -c release
OUT="${SOAK_DIR:-$(mktemp -d /tmp/rehabhost-soak.XXXXXX)}"
mkdir -p "$OUT"
SECONDS_TOTAL="$(python3 -c "print(round(float('$MINUTES') * 60, 3))")"
RATE_HZ="${SOAK_RATE_HZ:-1000}"
if ! [[ "$RATE_HZ" =~ ^[0-9]+$ ]]; then
  echo "soak: SOAK_RATE_HZ must be a whole number of hertz, not '$RATE_HZ'" >&2
  exit 64
fi
RESUMES=0
SOCKET="$OUT/session.sock"
RECORDING="$OUT/soak.mcap"
rm -f "$RECORDING" "$SOCKET"
echo "soak: ${MINUTES} min at ${RATE_HZ} Hz, recording to $RECORDING; samples every 10 s in $OUT/samples.csv" >&2

# shellcheck disable=SC2086
"$BIN" run --sim --duration "$SECONDS_TOTAL" --rate "$RATE_HZ" --record "$RECORDING" --json --control-socket "$SOCKET" \
  ${REHABCTL_OPTIONS:-} > "$OUT/report.json" 2> "$OUT/stderr.txt" &
HOST=$!
trap 'kill -INT "$HOST" 2>/dev/null || true' INT TERM

echo "t_s,host_rss_kib,host_fds,host_threads,simulator_rss_kib,simulator_fds,recording_bytes,cycle,missed_deadlines,link_quality,state" > "$OUT/samples.csv"
cat > "$OUT/status_field.py" <<'PY'
import json, sys
try:
    s = json.loads(sys.stdin.read())
except ValueError:
    print(",,,")
    sys.exit()
loop = s.get("loop") or {}
print(",".join(str(v) for v in [s.get("cycle", ""), loop.get("missed_deadlines", ""), s.get("link_quality", ""), s.get("state", "")]))
PY
status_field() { python3 "$OUT/status_field.py"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# The sampler wakes every 10 s and spawns little (one status request, one parse): a 1 kHz loop on
# a small machine feels every process started beside it.
start=$(date +%s)
while kill -0 "$HOST" 2>/dev/null; do
  sleep 10 &
  wait $! || true
  kill -0 "$HOST" 2>/dev/null || break
  simulator="$(pgrep -P "$HOST" -x rehabsim | head -1 || true)"
  size=$(stat -c %s "$RECORDING" 2>/dev/null || echo 0)
  status=$("$BIN" status --json --session "$SOCKET" 2>/dev/null | status_field || echo ",,,")
  echo "$(( $(date +%s) - start )),$(rss "$HOST"),$(fds "$HOST"),$(threads "$HOST"),${simulator:+$(rss "$simulator")},${simulator:+$(fds "$simulator")},$size,$status" >> "$OUT/samples.csv"
  # `run` holds a faulted session for an operator: the soak is over then, and failed.
  case "$status" in *,fault|*,estop) "$BIN" stop --session "$SOCKET" > /dev/null 2>&1 || true ;; esac
  # The operator's resume after a POOR pause (refused while POOR lasts: tried again 10 s later).
  if [ "${SOAK_RESUME:-0}" = 1 ]; then
    case "$status" in *,paused)
      if "$BIN" resume --session "$SOCKET" > /dev/null 2>&1; then
        RESUMES=$((RESUMES + 1))
        echo "soak: resumed a pause at $(( $(date +%s) - start )) s (resume $RESUMES)" >&2
      fi ;;
    esac
  fi
done
code=0
wait "$HOST" || code=$?

python3 - "$OUT" "$SECONDS_TOTAL" "$code" "$RATE_HZ" "$RESUMES" <<'PY'
import csv, json, sys
out, seconds, code, rate, resumes = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
# Samples of the running session only (the status answered with a cycle): not the writing of the end.
rows = [r for r in csv.DictReader(open(f"{out}/samples.csv")) if r["host_rss_kib"] and r["cycle"] and r["simulator_rss_kib"]]
problems = []
try:
    report = json.load(open(f"{out}/report.json"))
except ValueError:
    report = {}
    problems.append(f"rehabctl printed no report (exit {code}): " + " / ".join(open(f"{out}/stderr.txt").read().splitlines()[-3:]))
cycles = report.get("cycles", 0)
if report:
    if code != 0 or report.get("supervisor_final_state") != "idle" or report.get("safety_events"):
        events = [f"{e.get('cause')} at cycle {e.get('cycle')}" for e in report.get("safety_events", [])]
        problems.append(f"the session did not end normally: exit {code}, final state {report.get('supervisor_final_state')}, safety events {events or 'none'}")
    if cycles < 0.99 * seconds * rate:
        problems.append(f"{cycles} cycles for {seconds:g} s at {rate} Hz")
    recording = report.get("recording") or {}
    if recording.get("records_dropped", 0) or recording.get("messages_not_written", 0) or recording.get("failure"):
        problems.append(f"the recording lost data: {recording}")
def series(key):
    return [float(r[key]) for r in rows if r.get(key) not in (None, "")]
settled = [r for r in rows if float(r["t_s"]) >= 60] or rows
def grew(key, allowance):
    values = [float(r[key]) for r in settled if r.get(key) not in (None, "")]
    if len(values) < 2:
        return None
    growth = max(values[len(values) // 2:]) - min(values[: max(1, len(values) // 2)])
    if growth > allowance:
        problems.append(f"{key} grew by {growth:g} after the first minute")
    return min(values), max(values)
sizes = series("recording_bytes")
index_allowance = 0.0025 * (sizes[-1] if sizes else 0) / 1024
ranges = {key: grew(key, allowance) for key, allowance in
          [("host_rss_kib", 4096 + index_allowance), ("host_fds", 0), ("host_threads", 0), ("simulator_rss_kib", 4096), ("simulator_fds", 0)]}
times = series("t_s")
megabytes_per_minute = (sizes[-1] - sizes[0]) / ((times[-1] - times[0]) / 60) / 1e6 if len(sizes) > 1 and times[-1] > times[0] else 0
missed = series("missed_deadlines")
print(f"soak: {seconds / 60:g} min at {rate} Hz, {cycles} cycles, {len(rows)} samples (every 10 s) in {out}/samples.csv")
for key, value in ranges.items():
    if value:
        print(f"  {key}: {value[0]:g} … {value[1]:g} after the first minute")
print(f"  recording: {sizes[-1] / 1e6 if sizes else 0:.1f} MB, growing {megabytes_per_minute:.2f} MB/min; final size {(report.get('recording') or {}).get('bytes', 0) / 1e6:.1f} MB")
print(f"  missed deadlines: {int(missed[-1]) if missed else report.get('missed_deadlines', 0)} (the host's noise on a shared VM; docs/performance.md)")
lq = report.get("link_quality") or {}
if lq:
    print(f"  link quality: {json.dumps(lq.get('time_in_grade_s', {}))}, FAIR episodes {lq.get('fair_episodes')}, POOR {lq.get('poor_episodes')}"
          + (f", resumed by the script {resumes}" if resumes else ""))
print("  verdict: " + ("PASS" if not problems else "FAIL\n    " + "\n    ".join(problems)))
sys.exit(0 if not problems else 1)
PY
