#!/usr/bin/env bash
# The independent clients that judge the simulated trackers (issue 17), unmodified, against a
# serial port or rehabsim's pseudo-terminal for it:
#
#   scripts/tracker-client-check.sh ndi PORT [ARGS…]   ndicapi (PyPI, pinned in
#       protocols/ndi/tools/ndicapi_client_check.py): probe, INIT, COMM, PHSR/PINIT/PENA, TSTART, BX
#   scripts/tracker-client-check.sh rvc PORT COUNT     Adafruit's CircuitPython BNO08x RVC parser
#       (pinned in protocols/bno08x-rvc/tools/adafruit_rvc_check.py) reads COUNT headings
#   scripts/tracker-client-check.sh xsens PORT [--frames N] [--baud BPS]   the MTData2 sniffer of
#       mti8-navigation (PyPI, pinned in protocols/xsens/tools/mti8_navigation_client_check.py):
#       GoToMeasurement, then N MTData2 frames framed, checksummed and decoded by it
#
# The packages go into private venvs on first use (scripts/python-venv.sh). Exit codes: those of the
# check scripts (0 passed, 1 a check failed, 64 bad use, 69 the package cannot be installed, 74 port).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/tracker-client-check.sh ndi|rvc|xsens PORT [ARGS…]" >&2; exit 64; }
KIND=$1
shift
case "$KIND" in
  ndi)
    CHECK=protocols/ndi/tools/ndicapi_client_check.py
    PIN=$(sed -nE 's/^NDICAPI_PIN = "(.*)"$/\1/p' "$CHECK")
    PYTHON=$(scripts/python-venv.sh ndicapi "${PIN:-ndicapi==3.7.6}")
    ;;
  rvc)
    CHECK=protocols/bno08x-rvc/tools/adafruit_rvc_check.py
    PIN=$(sed -nE 's/^LIBRARY_PIN = "(.*)"$/\1/p' "$CHECK")
    PYTHON=$(scripts/python-venv.sh bno08x-rvc "$PIN" pyserial==3.5)
    ;;
  xsens)
    CHECK=protocols/xsens/tools/mti8_navigation_client_check.py
    PIN=$(sed -nE 's/^LIBRARY_PIN = "(.*)"$/\1/p' "$CHECK")
    # --no-deps: the sniffer needs pyserial alone; the package's own dependencies are its dashboard's
    # (numpy, PyQt5, PyQtWebEngine, pyqtgraph), which the check never imports.
    PYTHON=$(scripts/python-venv.sh mti8-navigation --no-deps "${PIN:-mti8-navigation==1.0.0}" pyserial==3.5)
    ;;
  *) echo "tracker-client-check: ndi, rvc or xsens, not $KIND" >&2; exit 64 ;;
esac
exec "$PYTHON" "$CHECK" "$@"
