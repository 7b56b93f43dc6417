#!/usr/bin/env bash
# Runs the built test suite, keeps its whole log in .build/test.log and, when anything failed,
# repeats the failing lines at the end: a CI page often shows only the last lines of a run.
set -uo pipefail
swift_bin=${1:-swift}
configuration=${2:-release}
log=.build/test.log
mkdir -p .build
"$swift_bin" test -c "$configuration" --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "=== failures (whole log: $log) ==="
    grep -E "error: |: failed \(|' failed \(|Fatal error|Crash|signal" "$log" | tail -60
    echo "=== swift test exit code $status ==="
fi
exit "$status"
