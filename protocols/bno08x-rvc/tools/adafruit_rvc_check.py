#!/usr/bin/env python3
"""Reads a BNO08x UART-RVC stream with Adafruit's own parser, `adafruit-circuitpython-bno08x-rvc`
(PyPI, pinned below), unmodified: the independent client that must decode what `rehabsim` sends
(protocols/bno08x-rvc/README.md §9). It opens PORT with pyserial at 115200 8N1, hands the port to
`adafruit_bno08x_rvc.BNO08x_RVC`, reads COUNT headings and prints them as one JSON document.

    python3 adafruit_rvc_check.py PORT COUNT [--timeout SECONDS]
    python3 adafruit_rvc_check.py --self-test [COUNT]

Set up the pinned client in a private venv (Adafruit-Blinka comes with it; the module needs it only
because its type annotations name `busio.UART`, README §9):

    python3 -m venv /tmp/rvc-venv
    /tmp/rvc-venv/bin/pip install adafruit-circuitpython-bno08x-rvc==1.0.24 pyserial==3.5

Output (stdout): {"library", "port", "baud", "count", "frames": [...], "bytes_read"}; each frame has
the library's yaw/pitch/roll (degrees) and accelerations (m/s^2), the wire counts they come from
(the library's scale factors undone: 0.01 deg and 0.0098067 m/s^2 per count), and `index`, read
from the bytes the library consumed (the library itself drops the index). On failure the same
document has "error" and the frames read so far. The port object is wrapped only to record the bytes
the library reads; every call is passed through.

`--self-test` needs no simulator: it makes a pseudo-terminal, streams frames from the reference
encoder (rvc.py) into it at 100 Hz, with a start-up banner, junk, a damaged frame and 0xAA 0xAA in
the data, runs the check on the PTY and compares every heading with the frame that was sent.

Exit codes: 0 COUNT headings read (and, in the self-test, all matching); 1 a check failed; 64 bad use;
69 the library or pyserial is not installed; 74 the port cannot be opened.
"""

import argparse
import json
import os
import sys
import threading
import time

LIBRARY_PIN = "adafruit-circuitpython-bno08x-rvc==1.0.24"
BAUD = 115200
# The library's scale factors (adafruit_bno08x_rvc.py, _parse_frame): 0.01 degree and 0.0098067 m/s^2 per count.
DEGREES_PER_COUNT = 0.01
LIBRARY_M_S2_PER_MILLI_G = 0.0098067


class RecordingPort:
    """Passes every call to the pyserial port and remembers what was read, so that a heading can be
    matched with its frame's index. The library calls read(n) and reset_input_buffer()."""

    def __init__(self, port):
        self._port = port
        self.bytes_read = 0
        self.last_read = b""

    def read(self, size=1):
        data = self._port.read(size)
        self.bytes_read += len(data)
        self.last_read = data
        return data

    def reset_input_buffer(self):
        self._port.reset_input_buffer()

    @property
    def in_waiting(self):
        return self._port.in_waiting

    def __getattr__(self, name):
        return getattr(self._port, name)


def load_library():
    """(BNO08x_RVC, RVCReadTimeoutError, serial module, version) or an exit with 69."""
    try:
        import serial  # pyserial
    except ImportError:
        print("pyserial is not installed (pip install pyserial==3.5)", file=sys.stderr)
        sys.exit(69)
    try:
        from adafruit_bno08x_rvc import BNO08x_RVC, RVCReadTimeoutError
    except (ImportError, NameError) as error:
        # Without Adafruit-Blinka the module fails with NameError: its annotation `uart: UART` names busio.UART.
        print(f"the Adafruit parser cannot be imported ({type(error).__name__}: {error}); "
              f"pip install {LIBRARY_PIN} (it brings Adafruit-Blinka)", file=sys.stderr)
        sys.exit(69)
    try:
        from importlib import metadata

        version = metadata.version("adafruit-circuitpython-bno08x-rvc")
    except Exception:  # noqa: BLE001 - the version is informative only
        version = "unknown"
    return BNO08x_RVC, RVCReadTimeoutError, serial, version


def run_check(port_path, count, timeout):
    """Reads `count` headings through the library; returns (document, ok)."""
    BNO08x_RVC, RVCReadTimeoutError, serial, version = load_library()
    document = {"library": {"package": "adafruit-circuitpython-bno08x-rvc", "version": version},
                "port": port_path, "baud": BAUD, "count": 0, "frames": [], "bytes_read": 0}
    try:
        # The serial timeout bounds each read: the library's own timeout is checked only between reads,
        # and pyserial without a timeout would block forever on a silent line.
        port = serial.Serial(port_path, BAUD, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
                             stopbits=serial.STOPBITS_ONE, timeout=timeout)
    except (OSError, serial.SerialException) as error:
        print(f"cannot open {port_path}: {error}", file=sys.stderr)
        sys.exit(74)
    recorder = RecordingPort(port)
    sensor = BNO08x_RVC(recorder, timeout=timeout)
    ok = True
    try:
        for _ in range(count):
            try:
                yaw, pitch, roll, ax, ay, az = sensor.heading
            except RVCReadTimeoutError:
                document["error"] = f"the library found no checksum-valid frame within {timeout} s"
                ok = False
                break
            except IndexError:
                # heading does data = read(2); data[0] without checking the length: a silent line.
                document["error"] = f"the port gave no bytes within {timeout} s (the library raised IndexError)"
                ok = False
                break
            except Exception as error:  # noqa: BLE001 - report anything the library raises
                document["error"] = f"the library raised {type(error).__name__}: {error}"
                ok = False
                break
            body = recorder.last_read  # the 17 bytes after the header that this heading was parsed from
            document["frames"].append({
                "index": body[0] if len(body) == 17 else None,
                "yaw_deg": yaw, "pitch_deg": pitch, "roll_deg": roll,
                "accel_x_m_s2": ax, "accel_y_m_s2": ay, "accel_z_m_s2": az,
                "counts": {
                    "yaw_cdeg": round(yaw / DEGREES_PER_COUNT), "pitch_cdeg": round(pitch / DEGREES_PER_COUNT),
                    "roll_cdeg": round(roll / DEGREES_PER_COUNT),
                    "accel_x_mg": round(ax / LIBRARY_M_S2_PER_MILLI_G),
                    "accel_y_mg": round(ay / LIBRARY_M_S2_PER_MILLI_G),
                    "accel_z_mg": round(az / LIBRARY_M_S2_PER_MILLI_G),
                },
            })
    finally:
        document["count"] = len(document["frames"])
        document["bytes_read"] = recorder.bytes_read
        port.close()
    return document, ok


# --- Self-test: a PTY fed by the reference encoder ---------------------------------------------------

def self_test(count):
    import random
    import tty

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import rvc

    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no CR/NL translation for bytes written before pyserial configures the port
    path = os.ttyname(slave)
    rng = random.Random(0xADAF)
    sent = {}
    stop = threading.Event()

    def counts_of(frame):
        return {"yaw_cdeg": frame.yaw_cdeg, "pitch_cdeg": frame.pitch_cdeg, "roll_cdeg": frame.roll_cdeg,
                "accel_x_mg": frame.accel_x_mg, "accel_y_mg": frame.accel_y_mg, "accel_z_mg": frame.accel_z_mg}

    def frame_for(k):
        index = k & 0xFF
        # Values with negatives, and index 0xAA with yaw LSB 0xAA (0xAA 0xAA inside the data) every 256 frames.
        yaw = 170 if index == 0xAA else -17000 + 131 * k
        return rvc.Frame(index, max(-18000, min(18000, yaw)), -4500 + 7 * k, 2085 - 13 * k, -371 + k, -20, 977 - k)

    def writer():
        os.write(master, b"%Hillcrest Labs 10003608\n%SW Ver 3.2.x\n%(c) 2017 Hillcrest Laboratories, Inc.\n")
        k = 0x9F  # reaches index 0xAA after 11 frames
        next_time = time.monotonic()
        while not stop.is_set():
            frame = frame_for(k)
            wire = rvc.encode(frame)
            if k % 17 == 5:
                damaged = bytearray(wire)
                damaged[9] ^= 0x40
                wire = bytes(damaged) + b"\x13\xaa"  # a damaged frame and two junk bytes, then the next frame
            else:
                sent.setdefault(frame.index, []).append(frame)
            cut = rng.randrange(1, len(wire))
            os.write(master, wire[:cut])
            os.write(master, wire[cut:])
            k += 1
            next_time += 1 / rvc.FRAME_RATE_HZ
            time.sleep(max(0.0, next_time - time.monotonic()))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        document, ok = run_check(path, count, timeout=2.0)
    finally:
        stop.set()
        thread.join(timeout=1)
        os.close(master)
        os.close(slave)
    problems = []
    indices = []
    for position, got in enumerate(document["frames"]):
        index = got["index"]
        indices.append(index)
        candidates = sent.get(index, [])
        if not candidates:
            problems.append(f"heading {position}: index {index} was never sent intact")
            continue
        # An index comes round every 256 frames: the heading must equal one of the frames sent with it.
        matching = [want for want in candidates if got["counts"] == counts_of(want)]
        if not matching:
            problems.append(f"heading {position} (index {index}): {got['counts']} matches no frame sent")
            continue
        want = matching[0]
        if abs(got["yaw_deg"] - want.yaw_cdeg * 0.01) > 1e-9 or \
                abs(got["accel_z_m_s2"] - want.accel_z_mg * LIBRARY_M_S2_PER_MILLI_G) > 1e-9:
            problems.append(f"heading {position}: units differ from 0.01 deg and 0.0098067 m/s^2 per count")
    steps = [(b - a) & 0xFF for a, b in zip(indices, indices[1:]) if a is not None and b is not None]
    document["self_test"] = {
        "pty": "os.openpty(), frames from rvc.py at 100 Hz, each written in two random chunks",
        "index_steps_between_headings": steps,
        "problems": problems,
    }
    if problems:
        document["error"] = "; ".join(problems[:5])
    return document, ok and not problems and document["count"] == count


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("port", nargs="?", help="serial port or PTY path (e.g. the one rehabsim prints)")
    parser.add_argument("count", nargs="?", type=int, help="headings to read")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each heading (default 2)")
    parser.add_argument("--self-test", action="store_true", help="check against a PTY fed by rvc.py")
    args = parser.parse_args(argv[1:])
    if args.self_test:
        count = int(args.port) if args.port else 50
        document, ok = self_test(count)
    else:
        if args.port is None or args.count is None or args.count < 1 or args.timeout <= 0:
            parser.print_usage(sys.stderr)
            return 64
        document, ok = run_check(args.port, args.count, args.timeout)
    print(json.dumps(document, indent=1))
    if not ok:
        print(f"adafruit_rvc_check: {document.get('error', 'failed')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
