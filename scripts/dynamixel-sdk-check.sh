#!/usr/bin/env bash
# The vendor's judge of a Dynamixel bus (issue 16): the ROBOTIS SDK (PyPI dynamixel-sdk, pinned in
# protocols/dynamixel/tools/sdk_client_check.py), unmodified, pings, reads, writes, sync- and bulk-
# reads and writes, fast-sync-reads and reboots the servos (protocols/dynamixel/README.md §10).
#
#   scripts/dynamixel-sdk-check.sh                        against rehabsim's simulated bus of
#                                                         hardware/dynamixel-wrist.json, started here
#   scripts/dynamixel-sdk-check.sh PORT [BAUD [ID ...]]   against the servos on PORT (default 4000000
#                                                         bit/s, IDs 1 2; torque off, XM430-W350)
#
# The SDK is installed into a private venv on first use (scripts/python-venv.sh). Exit codes: those of
# sdk_client_check.py (0 passed, 1 a check failed, 64 bad use, 69 SDK not installable, 74 port).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=protocols/dynamixel/tools/sdk_client_check.py
PIN=$(sed -nE 's/^SDK_PIN = "(.*)"$/\1/p' "$CHECK")
PYTHON=$(scripts/python-venv.sh dynamixel-sdk "$PIN")
if [ $# -ge 1 ]; then
  PORT=$1
  BAUD=${2:-4000000}
  shift $(( $# >= 2 ? 2 : 1 ))
  [ $# -ge 1 ] && IDS=("$@") || IDS=(1 2)
  exec "$PYTHON" "$CHECK" "$PORT" "$BAUD" "${IDS[@]}"
fi
REHABSIM=${REHABSIM:-.build/release/rehabsim}
[ -x "$REHABSIM" ] || swift build -c release --product rehabsim
OUT=$(mktemp)
trap 'kill "$SIM" 2>/dev/null || true; rm -f "$OUT"' EXIT
"$REHABSIM" --profile hardware/dynamixel-wrist.json --quiet --exit-with-parent >"$OUT" &
SIM=$!
for _ in $(seq 100); do grep -q '^robot: ' "$OUT" && break; sleep 0.05; done
PORT=$(sed -nE 's/^robot: (.*)$/\1/p' "$OUT")
[ -n "$PORT" ] || { echo "dynamixel-sdk-check: rehabsim did not start" >&2; exit 70; }
"$PYTHON" "$CHECK" "$PORT" 4000000 1 2
