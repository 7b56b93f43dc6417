#!/usr/bin/env bash
# Runs the built test suite, keeps its whole log in .build/test.log and, when anything failed,
# repeats the failing lines at the end: a CI page often shows only the last lines of a run.
#
# The PTY integration tests (Tests/PTYIntegrationTests) repeat a run that a host stall disturbed;
# each repetition is one line in .build/pty-retries.log (REHABHOST_PTY_RETRY_LOG: test, attempt,
# reason). The total is printed at the end, and a run with more than the budget fails even when
# every test passed: a regression must not hide behind a later attempt.
set -uo pipefail

# The budget of PTY host-stall retries in one whole run (README, "Quick start"). Measured: 0–1 per
# full run on the 2-core development VM; 3 on the CI host of 2026-12-07 (two FAIR-held mirror demos
# and one POOR pause, which was then not yet counted and failed its test instead). 5 leaves room for
# a bad minute on a shared host, not for a test that needs repeating as a rule.
pty_retry_budget=5

swift_bin=${1:-swift}
configuration=${2:-release}
log=.build/test.log
retry_log=.build/pty-retries.log
mkdir -p .build
: >"$retry_log"
REHABHOST_PTY_RETRY_LOG="$(cd .build && pwd)/$(basename "$retry_log")"
export REHABHOST_PTY_RETRY_LOG

"$swift_bin" test -c "$configuration" --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

retries=$(wc -l <"$retry_log")
retries=$((retries + 0))
echo
echo "PTY host-stall retries: $retries (budget $pty_retry_budget)"
if [ "$retries" -gt 0 ]; then
    # TEST<TAB>ATTEMPT<TAB>REASON, one line per repetition.
    awk -F '\t' '{ printf "  %s, attempt %s: %s\n", $1, $2, $3 }' "$retry_log"
fi

if [ "$status" -ne 0 ]; then
    echo
    echo "=== failures (whole log: $log) ==="
    grep -E "error: |: failed \(|' failed \(|Fatal error|Crash|signal" "$log" | tail -60
    echo "=== swift test exit code $status ==="
fi
if [ "$retries" -gt "$pty_retry_budget" ]; then
    echo "=== $retries PTY host-stall retries exceed the budget of $pty_retry_budget: the run fails" \
        "$([ "$status" -eq 0 ] && echo "although every test passed" || echo "(and tests failed)");" \
        "the tests above needed repeating (retries: $retry_log, whole log: $log) ==="
    [ "$status" -eq 0 ] && status=1
fi
exit "$status"
