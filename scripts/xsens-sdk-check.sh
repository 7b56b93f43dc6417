#!/usr/bin/env bash
# Xsens's own MT SDK as the judge of an MTi on PORT (a serial port, or rehabsim's pseudo-terminal for
# `--tracker xsens-mti-wrist`): MRPT's rawlog-grabber, whose CIMUXSens_MT4 driver is Xsens's public MT SDK
# (xspublic: XsControl::openPort, XsDevice::initialize, readEmtsAndDeviceConfiguration, setOutputConfiguration,
# gotoMeasurement; the exchange is protocols/xsens/README.md §3.8), records SECONDS of IMU observations into a
# rawlog; MRPT's rawlog-edit exports them (--export-imu-txt) and this script checks them:
#   - at least MIN_SAMPLES observations, at RATE_HZ ±10 % (their time stamps: the grabber's clock);
#   - every quaternion of unit norm (±0.01), and the acceleration's median magnitude 5 … 15 m/s² (gravity).
#
#   scripts/xsens-sdk-check.sh PORT [SECONDS [MIN_SAMPLES [RATE_HZ [BAUD]]]]     defaults: 5 s, 3 × RATE_HZ, 100 Hz, 115200
#
# MRPT is not installed system-wide (mrpt-apps would pull ~250 packages and upgrade system libraries): its
# Debian packages are fetched with `apt-get download` into ${XDG_CACHE_HOME:-~/.cache}/rehabhost/mrpt/debs and
# unpacked with `dpkg -x` into …/mrpt/root; the binaries run with LD_LIBRARY_PATH there. Which packages: those
# of `apt-get install --simulate --no-install-recommends mrpt-apps` (the closure not already installed on this
# machine), kept to NEEDED below. NEEDED was computed on Debian 12 (MRPT 2.5.8) as: unpack the whole closure, run
# `ldd` on rawlog-grabber and rawlog-edit with LD_LIBRARY_PATH on the unpacked tree, and map every library found
# there back to its package (`dpkg -c`), plus mrpt-apps: 164 of the closure's 216 packages, 86 MiB of .debs
# (the whole closure: 146 MiB). If ldd still finds a library missing (another release), the whole closure is
# fetched. Measured: 86 MiB in about 3 s from Debian's mirror, unpacking about 20 s; cached afterwards.
#
# rawlog-grabber never exits by itself after a run: the SDK deadlocks in SerialCommunicator::closePort while
# closing (and on some failure paths). It runs for SECONDS, gets EOF on its standard input (its "press any key"),
# is given GRACE_SECONDS (8) to close, then is killed with SIGKILL; the rawlog, written every 200 ms, is read after.
#
# Exit codes: 0 passed, 1 a check failed, 64 bad use, 69 MRPT cannot be obtained, 74 the port cannot be used.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

usage() { echo "usage: scripts/xsens-sdk-check.sh PORT [SECONDS [MIN_SAMPLES [RATE_HZ [BAUD]]]]" >&2; exit 64; }
[ $# -ge 1 ] && [ $# -le 5 ] || usage
PORT=$1
SECONDS_TO_RUN=${2:-5}
RATE_HZ=${4:-100}
MIN_SAMPLES=${3:-$((3 * RATE_HZ))}
BAUD=${5:-115200}
GRACE_SECONDS=8
for number in "$SECONDS_TO_RUN" "$MIN_SAMPLES" "$RATE_HZ" "$BAUD"; do
  [[ "$number" =~ ^[1-9][0-9]*$ ]] || usage
done

# The packages rawlog-grabber and rawlog-edit load libraries from (see above), Debian 12 names.
NEEDED="
  libaec0 libarmadillo11 libarpack2 libassimp5 libavcodec59 libavformat59 libavutil57 libblas3 
  libblosc1 libbluray2 libcfitsio10 libcharls2 libchromaprint1 libcjson1 libcodec2-1.0 libcxsparse3 
  libdc1394-25 libdouble-conversion3 libdraco7 libepoxy0 libexif12 libfreexl1 libftdi1-2 libfyaml0 
  libfyba0 libgdal32 libgdcm3.0 libgeos-c1v5 libgeos3.11.1 libgeotiff5 libgfortran5 libglfw3 libgme0 
  libgphoto2-6 libgphoto2-port12 libgsm1 libgstreamer-plugins-base1.0-0 libgtk-3-0 libhdf4-0-alt 
  libhdf5-103-1 libhdf5-hl-100 libhwy1 libimath-3-1-29 libjsoncpp25 libjxl0.7 libkmlbase1 libkmldom1 
  libkmlengine1 liblapack3 libltdl7 libmariadb3 libmbedcrypto7 libmd4c0 libmfx1 libminizip1 
  libmp3lame0 libmpg123-0 libmrpt-apps2.5 libmrpt-bayes2.5 libmrpt-comms2.5 libmrpt-config2.5 
  libmrpt-containers2.5 libmrpt-core2.5 libmrpt-expr2.5 libmrpt-graphs2.5 libmrpt-gui2.5 
  libmrpt-hwdrivers2.5 libmrpt-img2.5 libmrpt-io2.5 libmrpt-maps2.5 libmrpt-math2.5 
  libmrpt-nanogui2.5 libmrpt-obs2.5 libmrpt-opengl2.5 libmrpt-poses2.5 libmrpt-random2.5 
  libmrpt-rtti2.5 libmrpt-serialization2.5 libmrpt-slam2.5 libmrpt-system2.5 libmrpt-tfest2.5 
  libmrpt-topography2.5 libmrpt-vision2.5 libnetcdf19 libnorm1 libnotify4 liboctomap1.9 libodbc2 
  libodbcinst2 libogdi4.1 libogg0 libopencv-calib3d406 libopencv-core406 libopencv-dnn406 
  libopencv-features2d406 libopencv-flann406 libopencv-highgui406 libopencv-imgcodecs406 
  libopencv-imgproc406 libopencv-video406 libopencv-videoio406 libopenexr-3-1-30 libopenjp2-7 
  libopenmpt0 libopenni2-0 libopus0 liborc-0.4-0 libpcap0.8 libpcre2-16-0 libpcre2-32-0 libpcre2-8-0 
  libpgm-5.3-0 libpoppler126 libproj25 libprotobuf32 libqhull-r8.0 libqt5core5a libqt5gui5 
  libqt5opengl5 libqt5test5 libqt5widgets5 librabbitmq4 libraw1394-11 librist4 librttopo1 libshine3 
  libsimpleini1 libsnappy1v5 libsoxr0 libspatialite7 libspeex1 libsrt1.5-gnutls libssh-gcrypt-4 
  libsuperlu5 libswresample4 libswscale6 libsz2 libtbb12 libtheora0 libtinyxml2-9 libtwolame0 
  libudfread0 liburiparser1 libva-drm2 libva-x11-2 libva2 libvdpau1 libvorbis0a libvorbisenc2 
  libvorbisfile3 libvpx7 libwayland-cursor0 libwayland-egl1 libwebpmux3 libwxbase3.2-1 
  libwxgtk-gl3.2-1 libwxgtk3.2-1 libx264-164 libxerces-c3.2 libxvidcore4 libzmq5 libzvbi0 mrpt-apps 
  ocl-icd-libopencl1 
"

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/rehabhost/mrpt
ROOT=$CACHE/root
DEBS=$CACHE/debs
GRABBER=$ROOT/usr/bin/rawlog-grabber
EDITOR=$ROOT/usr/bin/rawlog-edit

library_path() { find "$ROOT" -name '*.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':'; }
libraries_missing() {
  local path
  path=$(library_path)
  [ -x "$GRABBER" ] && [ -x "$EDITOR" ] || return 0
  local linked
  linked=$(LD_LIBRARY_PATH=$path ldd "$GRABBER" "$EDITOR" 2>/dev/null || true)
  grep -q 'not found' <<<"$linked"
}
unavailable() { echo "xsens-sdk-check: MRPT cannot be obtained: $*" >&2; exit 69; }

# fetch NAMES…: apt-get download into DEBS, dpkg -x into ROOT.
fetch() {
  mkdir -p "$DEBS" "$ROOT"
  local started=$SECONDS
  (cd "$DEBS" && apt-get download -q "$@" >"$DEBS/download.log" 2>&1) || unavailable "apt-get download failed (see $DEBS/download.log)"
  local deb
  for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$ROOT" || unavailable "dpkg -x $deb failed"; done
  echo "xsens-sdk-check: fetched $# packages ($(du -sm "$DEBS" | cut -f1) MiB) in $((SECONDS - started)) s into $CACHE" >&2
}

obtain_mrpt() {
  libraries_missing || return 0
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || unavailable "apt-get and dpkg are needed"
  # Read whole, then matched: with pipefail, grep -q closing the pipe early fails apt-cache with SIGPIPE.
  local policy
  policy=$(apt-cache policy mrpt-apps 2>/dev/null || true)
  if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
    policy=$(apt-cache policy mrpt-apps 2>/dev/null || true)
    grep -q 'Candidate: [0-9]' <<<"$policy" || unavailable "no mrpt-apps package in the apt lists"
  fi
  local closure wanted name
  closure=$(apt-get install --simulate --no-install-recommends mrpt-apps 2>/dev/null | sed -nE 's/^Inst ([^ ]+) .*/\1/p') \
    || unavailable "apt-get cannot resolve mrpt-apps"
  wanted=()
  for name in $closure; do
    case " $(echo $NEEDED) " in *" $name "*) wanted+=("$name") ;; esac
  done
  [ ${#wanted[@]} -gt 0 ] && fetch "${wanted[@]}"
  if libraries_missing; then
    # shellcheck disable=SC2086
    fetch $closure
    libraries_missing && unavailable "rawlog-grabber or rawlog-edit still misses libraries: $(LD_LIBRARY_PATH=$(library_path) ldd "$GRABBER" "$EDITOR" 2>/dev/null | grep 'not found' | sort -u | tr '\n' ' ')"
  fi
  return 0
}

[ -e "$PORT" ] || { echo "xsens-sdk-check: no port $PORT" >&2; exit 74; }
[ -r "$PORT" ] && [ -w "$PORT" ] || { echo "xsens-sdk-check: cannot read and write $PORT" >&2; exit 74; }
obtain_mrpt
export LD_LIBRARY_PATH
LD_LIBRARY_PATH=$(library_path)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xsens-sdk-check.XXXXXX")
GRABBER_PID=
cleanup() {
  if [ -n "$GRABBER_PID" ] && kill -0 "$GRABBER_PID" 2>/dev/null; then kill -9 "$GRABBER_PID" 2>/dev/null || true; fi
  if [ "${XSENS_SDK_CHECK_KEEP:-0}" = 1 ]; then echo "xsens-sdk-check: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
sed -e "s|@PREFIX@|$WORK/imu|" -e "s|@PORT@|$PORT|" -e "s|@BAUD@|$BAUD|" -e "s|@RATE@|$RATE_HZ|g" \
  "$REPO/protocols/xsens/tools/rawlog-grabber-xsens.ini" >"$WORK/grabber.ini"

# The grabber's standard input is a pipe that ends after SECONDS: its "press any key to exit".
"$GRABBER" "$WORK/grabber.ini" >"$WORK/grabber.log" 2>&1 < <(sleep "$SECONDS_TO_RUN") &
GRABBER_PID=$!
waited=0
while kill -0 "$GRABBER_PID" 2>/dev/null && [ $waited -lt $(((SECONDS_TO_RUN + GRACE_SECONDS) * 10)) ]; do
  sleep 0.1
  waited=$((waited + 1))
done
if kill -0 "$GRABBER_PID" 2>/dev/null; then
  kill -9 "$GRABBER_PID" 2>/dev/null || true
  echo "xsens-sdk-check: rawlog-grabber killed after $((SECONDS_TO_RUN + GRACE_SECONDS)) s (the SDK hangs while closing)" >&2
fi
wait "$GRABBER_PID" 2>/dev/null || true
GRABBER_PID=

if grep -q "Could not open port" "$WORK/grabber.log"; then
  tr '\r' '\n' <"$WORK/grabber.log" | grep -v "Saved .* objects" | tail -n 20 >&2
  echo "xsens-sdk-check: the MT SDK could not open $PORT" >&2
  exit 74
fi
RAWLOG=$(ls -t "$WORK"/imu_*.rawlog 2>/dev/null | head -n 1 || true)
if [ -z "$RAWLOG" ] || [ ! -s "$RAWLOG" ]; then
  tr '\r' '\n' <"$WORK/grabber.log" | grep -v "Saved .* objects" | tail -n 20 >&2
  echo "xsens-sdk-check: FAILED: rawlog-grabber recorded nothing (the SDK did not open the device)" >&2
  exit 1
fi
# rawlog-edit writes <input dir><name>_<label>.txt: run it beside the rawlog with a bare file name.
cp "$RAWLOG" "$WORK/imu.rawlog"
(cd "$WORK" && "$EDITOR" --export-imu-txt -i imu.rawlog >"$WORK/export.log" 2>&1) || true
TXT=$WORK/imu_XSensMTi.txt
if [ ! -s "$TXT" ]; then
  tr '\r' '\n' <"$WORK/grabber.log" | grep -v "Saved .* objects" | tail -n 20 >&2
  echo "xsens-sdk-check: FAILED: no IMU observation in the rawlog (the SDK did not open or start the device)" >&2
  exit 1
fi
python3 - "$TXT" "$MIN_SAMPLES" "$RATE_HZ" <<'PY'
import math, statistics, sys
path, minimum, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lines = open(path).read().splitlines()
header = lines[0].lstrip("%").split()
rows = [[float(x) for x in line.split()] for line in lines[1:] if line.strip()]
col = {name: header.index(name) for name in header}
failures = []
n = len(rows)
if n < minimum:
    failures.append("%d IMU observations, fewer than %d" % (n, minimum))
if n >= 2:
    span = rows[-1][col["Time"]] - rows[0][col["Time"]]
    measured = (n - 1) / span if span > 0 else float("inf")
    if abs(measured - rate) > 0.1 * rate:
        failures.append("observed rate %.1f Hz, not %.0f Hz ±10 %%" % (measured, rate))
else:
    measured = 0.0
quaternion = ["ORI_QUAT_W", "ORI_QUAT_X", "ORI_QUAT_Y", "ORI_QUAT_Z"]
bad = [r for r in rows if abs(math.sqrt(sum(r[col[k]] ** 2 for k in quaternion)) - 1) > 0.01]
if bad:
    failures.append("%d of %d quaternions not of unit norm (first: %s)" % (len(bad), n, [bad[0][col[k]] for k in quaternion]))
acceleration = [math.sqrt(sum(r[col[k]] ** 2 for k in ("IMU_X_ACC", "IMU_Y_ACC", "IMU_Z_ACC"))) for r in rows]
g = statistics.median(acceleration) if acceleration else 0.0
if not 5 <= g <= 15:
    failures.append("median acceleration %.2f m/s², not gravity" % g)
summary = "%d IMU observations at %.1f Hz, median |a| %.2f m/s²" % (n, measured, g)
if n:
    last = rows[-1]
    summary += ", last quaternion (w x y z) %s" % " ".join("%.4f" % last[col[k]] for k in quaternion)
if failures:
    print("xsens-sdk-check: FAILED: " + "; ".join(failures) + " (" + summary + ")", file=sys.stderr)
    sys.exit(1)
print("xsens-sdk-check: passed: " + summary)
PY
