#!/usr/bin/env bash
# Checks HTML pages (a session report, a progress page) in a real browser, headless Chromium: fails on
# a console error, a plot with no data, or overlapping labels within a plot, and saves a screenshot
# (PNG) of each page. The checks themselves are in report-browser-check.py beside this script.
#
#   scripts/report-browser-check.sh [PAGE.html...]
#
# Without pages it makes them: a short `rehabctl demo --record` (.build/release, built first by the
# caller), `rehabctl report` of it, and with a second demo `rehabctl report --progress` of both.
# Screenshots (and the pages it made) go to $SCREENSHOT_DIR (default .build/browser-check/). Installs
# the Debian package `chromium` when no Chromium is found (as scripts/setup.sh does: sudo when not root).
#
# Exit: 0 every page passed; 1 a check failed (each failure names the page and the element);
# 64 wrong use; 66 a page is missing; 69 Chromium unavailable (or a page could not be made).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

for argument in "$@"; do
  case "$argument" in
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "report-browser-check: unknown option $argument (pages only; --help)" >&2; exit 64 ;;
  esac
  [ -f "$argument" ] || { echo "report-browser-check: $argument: no such file" >&2; exit 66; }
done

find_chromium() {
  local name
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

if ! chromium=$(find_chromium); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "report-browser-check: no Chromium, and this is not a Debian-like system (no apt-get); install Chromium by hand" >&2
    exit 69
  fi
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo)
    else
      echo "report-browser-check: no Chromium; run as root or install sudo (Debian package: chromium)" >&2
      exit 69
    fi
  fi
  echo "report-browser-check: installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh image often has no package lists yet: install once, and on failure refresh them and retry.
  if ! "${as_root[@]}" apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
    "${as_root[@]}" apt-get update -qq >/dev/null 2>&1 || true
    "${as_root[@]}" apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || true
  fi
  chromium=$(find_chromium) || { echo "report-browser-check: Chromium could not be installed (apt-get install chromium failed)" >&2; exit 69; }
fi

pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
  rehabctl="$root/.build/release/rehabctl"
  [ -x "$rehabctl" ] || { echo "report-browser-check: $rehabctl is not built (swift build -c release), and no page was given" >&2; exit 69; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/rehabhost-browser-check.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Progress pages (`report --progress DIR --patient LABEL`) come with patient labels on the recordings.
  progress=no
  if "$rehabctl" report --help 2>&1 | grep -q -- '--progress'; then progress=yes; fi
  # A short demo; a safety stop (exit 1, a stall on a busy host) still leaves a recording to look at.
  record() {
    local label=()
    [ $progress = no ] || label=(--patient-label P-BROWSER-CHECK)
    "$rehabctl" demo --duration 3 --control-socket none --black-box-dir "$work/blackbox" --record "$work/$1.mcap" "${label[@]}" \
      >"$work/$1.log" 2>&1 || true
    [ -s "$work/$1.mcap" ] || { echo "report-browser-check: rehabctl demo made no recording:" >&2; tail -n 5 "$work/$1.log" >&2; exit 69; }
  }
  record demo
  "$rehabctl" report "$work/demo.mcap" -o "$work/report.html" >/dev/null
  pages+=("$work/report.html")
  if [ $progress = yes ]; then
    record demo-2  # progress over sessions: more than one
    if ! "$rehabctl" report --progress "$work" --patient P-BROWSER-CHECK -o "$work/progress.html" >"$work/progress.log" 2>&1; then
      echo "report-browser-check: rehabctl report --progress made no page:" >&2
      tail -n 5 "$work/progress.log" >&2
      exit 69
    fi
    pages+=("$work/progress.html")
  else
    echo "report-browser-check: this rehabctl has no report --progress: the report page only" >&2
  fi
fi

shots="${SCREENSHOT_DIR:-$root/.build/browser-check}"
mkdir -p "$shots"
if [ $# -eq 0 ]; then
  # The pages it made stay beside their screenshots, for a failure to be looked at.
  for index in "${!pages[@]}"; do
    cp "${pages[$index]}" "$shots/"
    pages[$index]="$shots/$(basename "${pages[$index]}")"
  done
fi
status=0
for page in "${pages[@]}"; do
  name=$(basename "$page" .html)
  set +e
  python3 "$here/report-browser-check.py" "$chromium" "$page" "$shots/$name.png"
  code=$?
  set -e
  if [ $code -eq 69 ] || [ $code -eq 64 ]; then exit $code; fi
  [ $code -eq 0 ] || status=1
done
exit $status
