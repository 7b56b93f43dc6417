#!/usr/bin/env bash
# A bounded soak of recording at the loop rate: `rehabctl bench --record` for DURATION seconds at
# RATE Hz, up to ATTEMPTS times, until one run completes without a safety stop (on a shared VM a
# host stall can stop a run through SR-1/SR-14, correctly). For each run it prints the cycles, the
# samples dropped, the messages written against the cycles, and the file size per minute; the
# exit code is 0 only when a full-length run recorded every cycle.
#
#   scripts/soak-recording.sh [DURATION=60] [RATE=1000] [ATTEMPTS=5]  (extra rehabctl options in REHABCTL_OPTIONS)
set -euo pipefail
DURATION="${1:-60}"; RATE="${2:-1000}"; ATTEMPTS="${3:-5}"
cd "$(dirname "$0")/.."
BIN=.build/release/rehabctl
[ -x "$BIN" ] || swift build -c release
OUT="$(mktemp -d /tmp/rehabhost-soak.XXXXXX)"
for attempt in $(seq 1 "$ATTEMPTS"); do
  # shellcheck disable=SC2086
  rm -f "$OUT/soak.mcap"
  code=0
  "$BIN" demo --duration "$DURATION" --rate "$RATE" --record "$OUT/soak.mcap" --json ${REHABCTL_OPTIONS:-} > "$OUT/report.json" 2> "$OUT/stderr.txt" || code=$?
  if python3 - "$OUT/report.json" "$DURATION" "$code" "$OUT/stderr.txt" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print(f"  rehabctl printed no report (exit {sys.argv[3]}); its last words:")
    print("    " + "\n    ".join(open(sys.argv[4]).read().splitlines()[-3:]))
    sys.exit(3)
duration = float(sys.argv[2])
recording = report.get("recording") or {}
cycles = report["cycles"]; written = recording.get("messages_written", 0)
per_cycle = written / max(cycles, 1)
minutes = max(report["elapsed_s"], 1e-9) / 60
events = [e["cause"] for e in report["safety_events"]]
print(f"  {cycles} cycles in {report['elapsed_s']:.1f} s; records dropped {recording.get('records_dropped')}, "
      f"not written {recording.get('messages_not_written')}, {written} messages ({per_cycle:.3f} per cycle), "
      f"{recording.get('bytes', 0) / 1e6 / minutes:.1f} MB per minute, ring high water {recording.get('ring_high_water')}; "
      f"wake p99 {report['wake_latency_us']['p99']} µs; safety events {events or 'none'}")
full = not events and report["elapsed_s"] >= duration
lossless = recording.get("records_dropped") == 0 and recording.get("messages_not_written") == 0 and recording.get("failure") is None
sys.exit(0 if full and lossless else (2 if not lossless else 1))
PY
  then echo "attempt $attempt: complete and lossless ($OUT/soak.mcap)"; exit 0
  else status=$?
    case $status in
      2) echo "attempt $attempt: LOSSY"; exit 2 ;;
      3) echo "attempt $attempt: no report"; exit 3 ;;
      *) echo "attempt $attempt: stopped early (host stall: see the safety events)" ;;
    esac
  fi
done
echo "no full-length run in $ATTEMPTS attempts"; exit 1
