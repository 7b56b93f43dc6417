#!/usr/bin/env bash
# What `make demo` runs: the simulator-backed demo. On a non-preemptible kernel, and when allowed
# (root), it applies the measured real-time tuning for the demo's duration and reverts it on exit,
# saying so; see docs/performance.md. Arguments are passed to `rehabctl demo`.
set -uo pipefail
cd "$(dirname "$0")/.."
rehabctl=.build/${CONFIGURATION:-release}/rehabctl

tuned_here=0
if [ "$(id -u)" -eq 0 ] && [ ! -f /run/rehabhost-rt-tune.state ] \
   && "$rehabctl" doctor --json 2>/dev/null | grep -q '"detail": "preempt=\(none\|voluntary\)'; then
  echo "make demo: this kernel is not preemptible; applying scripts/rt-tune.sh for the demo (reverted afterwards)" >&2
  if scripts/rt-tune.sh apply >&2; then
    tuned_here=1
    trap 'scripts/rt-tune.sh revert >&2' EXIT
  fi
fi
"$rehabctl" demo "$@"
