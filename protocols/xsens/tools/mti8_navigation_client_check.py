#!/usr/bin/env python3
"""The independent-client check of the Xsens MTi simulator (docs/adding-a-protocol.md (g) 5).

The client is the MTData2 sniffer of `mti8-navigation` (PyPI, pinned below; Apache-2.0, written for a
real MTi-8 by a third party): `mti8_navigation.tools.sniffer.sniff(port, baud, seconds)`, called
unmodified through its public module. It opens the port with pyserial (8N1), writes GoToMeasurement
(`FA FF 10 00 F1`), waits 200 ms, flushes its input, then for `seconds` frames the Xbus stream itself
(preamble, length and extended length, and the checksum as Xbus defines it: the bytes after the
preamble sum to 0 mod 256), walks the MTData2 items by their sizes and decodes PacketCounter,
SampleTimeFine, the float32 Quaternion, Acceleration and RateOfTurn with its own struct formats. It
reports what it decoded only by printing it: this script captures that printout and judges it.

    python3 -m venv /tmp/mti-venv
    /tmp/mti-venv/bin/pip install --no-deps mti8-navigation==1.0.0 pyserial==3.5
    /tmp/mti-venv/bin/python protocols/xsens/tools/mti8_navigation_client_check.py /dev/pts/N
    /tmp/mti-venv/bin/python protocols/xsens/tools/mti8_navigation_client_check.py --self-test

`--no-deps`: the sniffer imports time, struct and pyserial only; the package's declared dependencies
(numpy, PyQt5, PyQtWebEngine, pyqtgraph) serve its navigation dashboard, which this check never loads.
Not usable as the judge: the package's own `xsens/xbus_parser.py`, which checks frames with an XOR
where Xbus uses a sum, so it rejects almost every valid frame (README §2.3).

What the check requires of the frames the sniffer decoded (protocols/xsens/README.md §4.2, §5.5): at
least FRAMES MTData2 frames, no frame failing the sniffer's checksum once it has found the first
valid one, every frame carrying the six items of README §5.2 with the sizes of §4.2, PacketCounter
going up by exactly one from frame to frame (mod 65536), SampleTimeFine going up by 10000 / rate
ticks (100 µs each) from frame to frame (mod 2^32), a unit quaternion, a gravity-sized acceleration,
and as many frames per second of capture as the profile's rate gives. The baud rate and the rate come
from the tracker profile (hardware/trackers/xsens-mti-wrist.json); --baud overrides the baud rate
(a wrong one must fail the check).

It prints one JSON object on stdout. Exit codes: 0 every check passed; 1 a check failed ("ok": false
and a "reason"); 64 bad use; 69 the package or pyserial cannot be imported; 74 the port cannot be
opened. --self-test runs the same check on a PTY of our own, fed by the reference encoder (xsens.py)
at 100 Hz, and compares every decoded frame with the frame sent; then it feeds a frozen stream and
a stream whose checksums are XORs, each of which the check must fail.
"""
import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
LIBRARY_PIN = "mti8-navigation==1.0.0"
PROFILE = "xsens-mti-wrist"
TICKS_PER_SECOND = 10_000                  # SampleTimeFine: 100 µs ticks (README §4.2)
SIX_ITEMS = ["0x1020", "0x1060", "0x2010", "0x4020", "0x8020", "0xE020"]   # README §5.2, as the sniffer prints them
GRAVITY = 9.80665


def fail(report, reason, status=1):
    report["ok"] = False
    report["reason"] = reason
    print(json.dumps(report, indent=1))
    print("mti8_navigation_client_check: %s" % reason, file=sys.stderr)
    sys.exit(status)


def load_library(report):
    try:
        import serial  # noqa: F401 -- pyserial, which the sniffer imports
    except ImportError:
        fail(report, "pyserial is not installed (pip install pyserial==3.5)", 69)
    try:
        from mti8_navigation.tools import sniffer
    except ImportError as error:
        fail(report, "cannot import mti8_navigation.tools.sniffer (pip install --no-deps %s): %s"
             % (LIBRARY_PIN, error), 69)
    try:
        from importlib import metadata
        version = metadata.version("mti8-navigation")
    except Exception:  # noqa: BLE001 -- the version is informative only
        version = None
    report["library"] = {"package": "mti8-navigation", "version": version, "pin": LIBRARY_PIN,
                         "client": "mti8_navigation.tools.sniffer.sniff"}
    return sniffer


def load_profile(name_or_path):
    """(baud, rate_hz) of a tracker profile given by name (hardware/trackers/NAME.json) or path."""
    path = name_or_path if os.path.isfile(name_or_path) else \
        os.path.join(REPOSITORY, "hardware", "trackers", name_or_path + ".json")
    with open(path, encoding="utf-8") as handle:
        profile = json.load(handle)
    return int(profile["baud_rate_bps"]), int(profile["rate_hz"]), path


# ------------------------------------------------------------------------------- the sniffer's printout

FRAME_LINE = re.compile(r"^MTData2 Frame (\d+)$")
VALUE_LINES = {
    "data_ids": re.compile(r"^XDI IDs: \[(.*)\]$"),
    "packet_counter": re.compile(r"^Packet Counter : (\d+)$"),
    "sample_time_fine": re.compile(r"^Sample Time : (\d+)$"),
    "quaternion_wxyz": re.compile(r"^Quaternion: \((.*)\)$"),
    "acceleration_m_s2": re.compile(r"^Acc : (.*)$"),
    "rate_of_turn_rad_s": re.compile(r"^Gyro : (.*)$"),
    "status_word": re.compile(r"^Status Raw : ([0-9a-f]+)$"),
    "parser_error": re.compile(r"^Parser Error: (.*)$"),
}


def parse_transcript(text):
    """The MTData2 frames the sniffer printed, in order, and how often it printed "FIRST FRAME" (once
    per frame candidate until the first that passed its checksum)."""
    frames = []
    first_frame_prints = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line == "FIRST FRAME":
            first_frame_prints += 1
            continue
        match = FRAME_LINE.match(line)
        if match:
            frames.append({"library_frame": int(match.group(1))})
            continue
        if not frames:
            continue
        for key, pattern in VALUE_LINES.items():
            match = pattern.match(line)
            if not match:
                continue
            value = match.group(1)
            if key == "data_ids":
                value = [item.strip().strip("'") for item in value.split(",") if item.strip()]
            elif key in ("packet_counter", "sample_time_fine"):
                value = int(value)
            elif key == "status_word":
                value = int(value, 16)
            elif key in ("quaternion_wxyz", "acceleration_m_s2", "rate_of_turn_rad_s"):
                value = [float(v) for v in value.split(",")]
            frames[-1][key] = value
            break
    return frames, first_frame_prints


# ------------------------------------------------------------------------------------------ the check

def judge(frames, stats, first_frame_prints, wanted, rate_hz, seconds):
    """The reason the frames fail README §4.2 / §5.5, or None."""
    bad_before_sync = max(0, first_frame_prints - 1) if stats.good_frames else stats.bad_frames
    if stats.good_frames == 0:
        return ("the sniffer found no checksum-valid Xbus frame in %.1f s (%d bytes read, %d frames failed "
                "its checksum)" % (seconds, stats.total_bytes, stats.bad_frames))
    if stats.bad_frames > bad_before_sync:
        return ("%d frames failed the sniffer's checksum after the first valid one"
                % (stats.bad_frames - bad_before_sync))
    if len(frames) < wanted:
        return ("the sniffer decoded %d MTData2 frames in %.1f s, not %d (other messages: %s)"
                % (len(frames), seconds, wanted, {("0x%02X" % m): n for m, n in stats.mids.items() if m != 0x36}))
    for index, frame in enumerate(frames):
        if "parser_error" in frame:
            return "frame %d: the sniffer's item parser failed: %s" % (index, frame["parser_error"])
        if frame.get("data_ids") != SIX_ITEMS:
            return "frame %d: items %s, not %s" % (index, frame.get("data_ids"), SIX_ITEMS)
        missing = [key for key in ("packet_counter", "sample_time_fine", "quaternion_wxyz", "acceleration_m_s2",
                                   "rate_of_turn_rad_s", "status_word") if key not in frame]
        if missing:
            return "frame %d: the sniffer did not decode %s (an item of the wrong size?)" % (index, missing)
        norm = math.sqrt(sum(q * q for q in frame["quaternion_wxyz"]))
        if abs(norm - 1.0) > 1e-3:
            return "frame %d: quaternion norm %.6f" % (index, norm)
        gravity = math.sqrt(sum(a * a for a in frame["acceleration_m_s2"]))
        if not 0.7 * GRAVITY <= gravity <= 1.3 * GRAVITY:
            return "frame %d: acceleration of %.3f m/s^2, not gravity-sized" % (index, gravity)
    step = TICKS_PER_SECOND // rate_hz
    for index, (before, after) in enumerate(zip(frames, frames[1:]), start=1):
        counter_step = (after["packet_counter"] - before["packet_counter"]) & 0xFFFF
        if counter_step != 1:
            return ("frame %d: packet counter %d after %d (it must go up by one every frame)"
                    % (index, after["packet_counter"], before["packet_counter"]))
        time_step = (after["sample_time_fine"] - before["sample_time_fine"]) & 0xFFFFFFFF
        if time_step != step:
            return ("frame %d: sample time fine %d after %d: %d ticks, not %d (%d Hz)"
                    % (index, after["sample_time_fine"], before["sample_time_fine"], time_step, step, rate_hz))
    per_second = len(frames) / seconds
    if per_second < 0.75 * rate_hz:
        return "%.1f MTData2 frames per second of capture, not %d" % (per_second, rate_hz)
    return None


def run_check(port, wanted, baud, rate_hz, seconds, profile_path=None):
    """(report, ok)."""
    report = {"ok": False, "port": port, "baud": baud, "rate_hz": rate_hz, "capture_seconds": seconds,
              "frames_required": wanted}
    if profile_path:
        report["profile"] = os.path.relpath(profile_path, REPOSITORY)
    sniffer = load_library(report)
    import serial
    try:  # the sniffer swallows every error of opening the port but PermissionError: try it first
        serial.Serial(port, baud, timeout=0.1).close()
    except (OSError, serial.SerialException) as error:
        fail(report, "cannot open %s: %s" % (port, error), 74)
    transcript = io.StringIO()
    with contextlib.redirect_stdout(transcript):
        stats = sniffer.sniff(port, baud, seconds)
    if stats is None:
        fail(report, "the sniffer could not open %s" % port, 74)
    frames, first_frame_prints = parse_transcript(transcript.getvalue())
    report["library_statistics"] = {
        "total_bytes": stats.total_bytes, "good_frames": stats.good_frames, "bad_frames": stats.bad_frames,
        "candidates_before_first_valid_frame": max(0, first_frame_prints - 1),
        "messages": {("0x%02X" % mid): count for mid, count in sorted(stats.mids.items())},
        "data_ids": ["0x%04X" % xdi for xdi in sorted(stats.xdis)],
    }
    report["frames_decoded"] = len(frames)
    if frames:
        report["first_frames"] = frames[:3]
        report["last_frame"] = frames[-1]
        report["packet_counters"] = [frames[0]["packet_counter"], frames[-1].get("packet_counter")] \
            if "packet_counter" in frames[0] else None
        report["sample_time_fine"] = [frames[0].get("sample_time_fine"), frames[-1].get("sample_time_fine")]
        report["orientation_valid_frames"] = sum(1 for f in frames if f.get("status_word", 0) & 0x2)
    reason = judge(frames, stats, first_frame_prints, wanted, rate_hz, seconds)
    if reason:
        report["reason"] = reason
        return report, False
    report["ok"] = True
    return report, True


# ----------------------------------------------------------------------------------- --self-test device

def self_test(wanted):
    """The check against a PTY fed by the reference encoder (xsens.py): a clean 100 Hz stream must pass with
    every decoded value equal to what was sent; a frozen stream and one with XOR checksums must fail."""
    import tty
    sys.path.insert(0, HERE)
    import xsens

    rate = 100
    seconds = wanted / rate + 1.0

    def sample(k):
        angle = 0.3 * math.sin(k / 50.0)
        q = {"w": math.cos(angle / 2), "x": 0.0, "y": math.sin(angle / 2), "z": 0.0}
        return {"packet_counter": (65500 + k) & 0xFFFF, "sample_time_fine": (0xFFFFFF00 + 100 * k) & 0xFFFFFFFF,
                "quaternion": q, "acceleration_m_s2": {"x": 0.25, "y": -0.5, "z": 9.79},
                "rate_of_turn_rad_s": {"x": 0.0, "y": 0.15 * math.cos(k / 50.0), "z": -0.01},
                "status_word": 0x3}

    def run(kind):
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        sent = {}
        stop = threading.Event()

        def writer():
            os.write(master, xsens.message("wake_up"))
            k, next_time = 0, time.monotonic()
            while not stop.is_set():
                s = sample(0 if kind == "frozen" else k)
                wire = xsens.frame(0x36, xsens.mtdata2_payload(s))
                if kind == "xor":
                    body = wire[1:-1]
                    xor = 0
                    for byte in body:
                        xor ^= byte
                    wire = wire[:-1] + bytes([xor])
                sent[s["packet_counter"]] = s
                cut = 1 + (k * 7) % (len(wire) - 1)        # each frame in two writes
                os.write(master, wire[:cut])
                os.write(master, wire[cut:])
                k += 1
                next_time += 1.0 / rate
                time.sleep(max(0.0, next_time - time.monotonic()))

        def drain():                                     # the sniffer's GoToMeasurement, unanswered
            while not stop.is_set():
                try:
                    os.read(master, 64)
                except OSError:
                    time.sleep(0.01)

        threads = [threading.Thread(target=writer, daemon=True), threading.Thread(target=drain, daemon=True)]
        for thread in threads:
            thread.start()
        try:
            report, ok = run_check(path, wanted, 115200, rate, seconds)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=1)
            os.close(master)
            os.close(slave)
        problems = []
        if kind == "clean":
            frames = report.get("first_frames", []) + ([report["last_frame"]] if "last_frame" in report else [])
            for frame in frames:
                want = sent.get(frame.get("packet_counter"))
                if want is None:
                    problems.append("counter %s was never sent" % frame.get("packet_counter"))
                    continue
                q = [want["quaternion"][c] for c in "wxyz"]
                if frame["sample_time_fine"] != want["sample_time_fine"] or \
                        any(abs(a - b) > 1e-6 for a, b in zip(frame["quaternion_wxyz"], q)):
                    problems.append("counter %d: decoded %s, sent %s" % (frame["packet_counter"], frame, want))
        return {"stream": kind, "check_ok": ok, "reason": report.get("reason"),
                "frames_decoded": report.get("frames_decoded"), "library_statistics": report.get("library_statistics"),
                "problems": problems}

    results = [run("clean"), run("frozen"), run("xor")]
    ok = results[0]["check_ok"] and not results[0]["problems"] and not results[1]["check_ok"] \
        and not results[2]["check_ok"]
    report = {"ok": ok, "self_test": results,
              "expect": "clean passes with the values sent (counter and sample time wrap on the way); frozen and "
                        "xor fail"}
    if not ok:
        report["reason"] = "the self-test did not come out as expected"
    return report, ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", nargs="?", help="the simulator's serial port (a /dev/pts/N path)")
    parser.add_argument("--frames", type=int, default=100, help="MTData2 frames the sniffer must decode (default 100)")
    parser.add_argument("--profile", default=PROFILE, help="tracker profile, name or path (default %s)" % PROFILE)
    parser.add_argument("--baud", type=int, help="open the port at this rate instead of the profile's")
    parser.add_argument("--seconds", type=float, help="capture time (default FRAMES / rate + 1 s)")
    parser.add_argument("--self-test", action="store_true", help="check against PTYs fed by xsens.py")
    args = parser.parse_args()
    if args.self_test:
        report, ok = self_test(max(args.frames, 2))
    else:
        if not args.port or args.frames < 2 or (args.baud is not None and args.baud <= 0) or \
                (args.seconds is not None and args.seconds <= 0):
            parser.print_usage(sys.stderr)
            return 64
        try:
            baud, rate_hz, path = load_profile(args.profile)
        except (OSError, ValueError, KeyError) as error:
            print("mti8_navigation_client_check: profile %s: %s" % (args.profile, error), file=sys.stderr)
            return 64
        if rate_hz <= 0 or TICKS_PER_SECOND % rate_hz:
            print("mti8_navigation_client_check: rate %d Hz does not divide 10 kHz" % rate_hz, file=sys.stderr)
            return 64
        seconds = args.seconds if args.seconds is not None else args.frames / rate_hz + 1.0
        report, ok = run_check(args.port, args.frames, args.baud or baud, rate_hz, seconds, path)
    print(json.dumps(report, indent=1))
    if not ok:
        print("mti8_navigation_client_check: %s" % report.get("reason", "failed"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
