#!/usr/bin/env bash
# A private Python venv with pinned packages, for the independent checkers (the official MCAP
# reader, the ROBOTIS Dynamixel SDK, ndicapi, Adafruit's BNO08x RVC parser): created on first use
# under ~/.cache/rehabhost/NAME-venv and reused after; prints the venv's python on standard output.
#
#   scripts/python-venv.sh NAME REQUIREMENT...   e.g. scripts/python-venv.sh dynamixel-sdk dynamixel-sdk==4.1.0
#
# Exit 69 (with pip's last lines) when the package cannot be installed (no network, no python3-venv).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/python-venv.sh NAME REQUIREMENT..." >&2; exit 64; }
NAME=$1
shift
REQUIREMENT="$*"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/rehabhost/$NAME-venv"
STAMP="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$REQUIREMENT" ]; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    echo "python-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
    exit 69
  fi
  # shellcheck disable=SC2086 # one word per requirement
  if ! log=$("$VENV/bin/pip" install --quiet --disable-pip-version-check $REQUIREMENT 2>&1); then
    echo "python-venv: pip could not install $REQUIREMENT:" >&2
    echo "$log" | tail -n 3 | sed 's/^/    /' >&2
    rm -rf "$VENV"
    exit 69
  fi
  echo "$REQUIREMENT" > "$STAMP"
fi
echo "$VENV/bin/python"
