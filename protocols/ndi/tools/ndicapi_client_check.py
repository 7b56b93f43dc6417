#!/usr/bin/env python3
"""The independent-client check of the NDI simulator (docs/adding-a-protocol.md (g) 5).

The `ndicapi` package (PyPI; its module is `ndicapy`, a C extension built from
github.com/SciKit-Surgery/ndicapi, itself PlusToolkit/ndicapi) must probe, initialise, start
tracking and read BX frames from rehabsim's NDI simulator over its pseudo-terminal, through the
package's public Python API only -- the same calls, in the same order, as scikit-surgerynditracker
makes for an Aurora (README §10).

    python3 -m venv /tmp/ndi-venv && /tmp/ndi-venv/bin/pip install ndicapi==3.7.6
    /tmp/ndi-venv/bin/python protocols/ndi/tools/ndicapi_client_check.py /dev/pts/N
    /tmp/ndi-venv/bin/python protocols/ndi/tools/ndicapi_client_check.py --self-test

It prints one JSON object on stdout and exits 0 when every step passed; otherwise the object has
"ok": false and a "reason", and the exit status is 1 (2 when ndicapy cannot be imported, 64 for bad
arguments). --self-test runs the same check against the small reference device below (ndi.py on
a PTY of our own): it shows that the check itself works, independently of rehabsim.

What ndicapi needs from the device (README §10): an OKAY to INIT within ~200 ms (its probe waits
100 ms, then reads with a 100 ms timeout), an answer to GETINFO within 100 ms (ERROR, then a VER
reply of at least 7 bytes, is fine), the colon form with CRC, and BX replies whose CRC holds. It
never needs the serial break: the probe only sends one when INIT went unanswered, and a break is
invisible on a pseudo-terminal anyway.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NDICAPI_PIN = "ndicapi==3.7.6"


def fail(report, reason, status=1):
    report["ok"] = False
    report["reason"] = reason
    print(json.dumps(report, indent=2))
    sys.exit(status)


def command(ndicapy, device, text, report, binary=False):
    """ndiCommand with the error turned into a reason. ndicapy raises IOError when the device answered
    ERRORxx or the CRC did not hold ("POLARIS 0x..") or on a time-out ("Error 0x0103 ...").

    For BX, ndicapy also turns the binary reply into a str (PyUnicode_FromString): that fails with
    UnicodeDecodeError when the reply-length byte is 0x80 or more (3 or more valid handles). The
    reply has been parsed by then, so the ndiGetBX* getters still work: the check carries on and
    records it (README §10.3).
    """
    try:
        reply = ndicapy.ndiCommand(device, text)
    except UnicodeDecodeError:
        if not binary:
            raise
        report.setdefault("notes", []).append("%s: ndicapy could not make a str of the binary reply "
                                              "(UnicodeDecodeError); the getters read the parsed frame" % text)
        reply = None
    except IOError as error:
        fail(report, "%s: %s" % (text, error))
    error = ndicapy.ndiGetError(device)
    if error != ndicapy.NDI_OKAY:
        fail(report, "%s: %s" % (text, ndicapy.ndiErrorString(error)))
    return reply


def run_check(port, frames, handles_expected, use_comm):
    report = {"ok": False, "port": port}
    try:
        import ndicapy
    except ImportError as error:
        fail(report, "cannot import ndicapy (pip install ndicapi): %s" % error, 2)
    report["ndicapi_module_version"] = "%d.%d" % (ndicapy.NDICAPI_MAJOR_VERSION, ndicapy.NDICAPI_MINOR_VERSION)
    try:
        from importlib.metadata import version
        report["ndicapi_package_version"] = version("ndicapi")
    except Exception:  # noqa: BLE001 -- the version is informative only
        report["ndicapi_package_version"] = None

    # 1. Probe: INIT:E3A5 (then, when unanswered, a break and RESET), GETINFO, VER.
    result = ndicapy.ndiProbe(port)
    report["probe"] = int(result)
    if result != ndicapy.NDI_OKAY:
        fail(report, "ndiProbe: %s (0x%04X)" % (ndicapy.ndiErrorString(result), result))

    # 2. Open (9600 8N1, no handshake), INIT, and -- as scikit-surgerynditracker does -- COMM 50000.
    device = ndicapy.ndiOpen(port)
    if not device:
        fail(report, "ndiOpen returned None")
    try:
        report["init"] = command(ndicapy, device, "INIT:", report)
        if report["init"] != "OKAY":
            fail(report, "INIT: expected OKAY, got %r" % report["init"])
        if use_comm:
            report["comm"] = command(ndicapy, device, "COMM:%d%03d%d" % (
                ndicapy.NDI_115200, ndicapy.NDI_8N1, ndicapy.NDI_NOHANDSHAKE), report)
        report["ver"] = command(ndicapy, device, "VER:0", report)

        # 3. Initialise every handle that needs it (scikit-surgerynditracker's Aurora loop), then enable.
        initialised = []
        for _ in range(16):
            command(ndicapy, device, "PHSR:02", report)
            count = ndicapy.ndiGetPHSRNumberOfHandles(device)
            if count == 0:
                break
            for index in range(count):
                handle = ndicapy.ndiGetPHSRHandle(device, index)
                command(ndicapy, device, "PINIT:%02X" % handle, report)
                initialised.append(handle)
        else:
            fail(report, "PHSR:02 still lists handles after 16 rounds of PINIT")
        command(ndicapy, device, "PHSR:03", report)
        enabled = [ndicapy.ndiGetPHSRHandle(device, i) for i in range(ndicapy.ndiGetPHSRNumberOfHandles(device))]
        for handle in enabled:
            command(ndicapy, device, "PENA:%02XD" % handle, report)
        report["handles_initialised"] = initialised
        report["handles_enabled"] = enabled
        if len(enabled) < handles_expected:
            fail(report, "expected at least %d handles to enable, got %d" % (handles_expected, len(enabled)))

        # 4. Track: TSTART, then BX:0801 frames read through the BX getters.
        command(ndicapy, device, "TSTART:", report)
        samples = []
        for _ in range(frames):
            command(ndicapy, device, "BX:0801", report, binary=True)
            frame = {"system_status": int(ndicapy.ndiGetBXSystemStatus(device)), "handles": []}
            for handle in enabled:
                key = bytes([handle])
                transform = ndicapy.ndiGetBXTransform(device, key)
                entry = {"handle": handle, "frame_number": int(ndicapy.ndiGetBXFrame(device, key)),
                         "port_status": int(ndicapy.ndiGetBXPortStatus(device, key))}
                if isinstance(transform, str):
                    entry["status"] = transform.lower()          # "missing" or "disabled"
                else:
                    entry["status"] = "valid"
                    entry["quaternion_wxyz"] = list(transform[0:4])
                    entry["position_mm"] = list(transform[4:7])
                    entry["rms_error_mm"] = transform[7]
                frame["handles"].append(entry)
            samples.append(frame)
            time.sleep(0.03)
        report["frames"] = samples
        command(ndicapy, device, "TSTOP:", report)
    finally:
        ndicapy.ndiClose(device)

    # 5. What the frames must show: a valid pose (unit quaternion, finite position) and frame numbers
    #    that move (SR-15 judges a tracker by them).
    valid = [h for f in samples for h in f["handles"] if h["status"] == "valid"]
    if not valid:
        fail(report, "no BX frame carried a valid transformation")
    for h in valid:
        norm = sum(q * q for q in h["quaternion_wxyz"]) ** 0.5
        if abs(norm - 1.0) > 1e-3:
            fail(report, "handle %02X: quaternion norm %.6f" % (h["handle"], norm))
    numbers = [h["frame_number"] for f in samples for h in f["handles"] if h["status"] != "disabled"]
    if len(set(numbers)) < 2:
        fail(report, "the frame number never moved: %s" % sorted(set(numbers)))
    report["ok"] = True
    print(json.dumps(report, indent=2))
    return 0


# ------------------------------------------------------------------------------- --self-test device

class ReferenceDevice:
    """A minimal Aurora written from README §5-§6 with ndi.py, on the master side of a PTY.

    Two wired tools: 0A valid (moving slowly), 0B missing; 40 Hz frame numbers. Only what the check
    needs; rehabsim's simulator is the real device end. It runs in a child process: ndicapy keeps
    Python's GIL while it waits for the device, so a thread of the checking process would never
    get to answer (README §10.3).
    """

    def __init__(self, master_fd):
        sys.path.insert(0, HERE)
        import ndi
        self.ndi = ndi
        self.fd = master_fd
        self.parser = ndi.CommandParser()
        self.initialised, self.enabled = set(), set()
        self.tracking = False
        self.start_time = time.monotonic()

    def reply(self, data):
        os.write(self.fd, data)

    def ascii(self, text):
        self.reply(self.ndi.encode_ascii_reply(text))

    def run(self):
        import select
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 4096)
            except OSError:      # EIO while no slave is open (between the probe and ndiOpen)
                time.sleep(0.01)
                continue
            for kind, item in self.parser.push(data):
                if kind == "rejected":
                    sys.stderr.write("reference device: rejected %s\n" % item["reason"])
                    self.ascii("ERROR%02X" % item["error_code"])
                else:
                    sys.stderr.write("reference device: %s (%s form) %s\n" % (item["name"], item["form"],
                                                                           item["parameters"]))
                    self.execute(item["name"], item["parameters"])

    def execute(self, name, p):
        ndi = self.ndi
        if name == "INIT":
            self.tracking = False
            self.ascii("OKAY")
        elif name == "VER":
            self.ascii("Aurora Control Firmware\nFreeze Tag: RehabHost reference device\n")
        elif name in ("COMM", "PINIT", "PENA", "PDIS", "PHF"):
            if name == "PINIT":
                self.initialised.add(int(p[0:2], 16))
            if name == "PENA":
                self.enabled.add(int(p[0:2], 16))
            self.ascii("OKAY")
        elif name == "PHSR":
            option = int(p or "00", 16)
            handles = {0: [0x0A, 0x0B], 1: [], 2: [h for h in (0x0A, 0x0B) if h not in self.initialised],
                       3: [h for h in (0x0A, 0x0B) if h in self.initialised and h not in self.enabled],
                       4: sorted(self.enabled)}.get(option, [])
            self.ascii("%02X" % len(handles) + "".join("%02X%03X" % (h, 0x001) for h in handles))
        elif name == "TSTART":
            self.tracking = True
            self.ascii("OKAY")
        elif name == "TSTOP":
            self.tracking = False
            self.ascii("OKAY")
        elif name == "BX" and self.tracking:
            frame = int((time.monotonic() - self.start_time) * 40.0)
            x = 10.0 + 5.0 * ((frame % 80) / 80.0)
            handles = [ndi.handle_valid(0x0A, [1.0, 0.0, 0.0, 0.0], [x, -20.0, -150.0], 0.12, 0x31, frame),
                       ndi.handle_missing(0x0B, 0x31, frame)]
            self.reply(ndi.encode_bx([h for h in handles if h["handle"] in self.enabled], 0))
        elif name == "BX":
            self.ascii("ERROR0C")
        else:                   # GETINFO and everything else: invalid command, as an older Aurora answers
            self.ascii("ERROR01")


def self_test(frames):
    import signal
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)           # no echo, no CR translation: the line discipline must pass bytes through
    path = os.ttyname(slave)
    child = os.fork()
    if child == 0:
        os.close(slave)
        try:
            ReferenceDevice(master).run()
        finally:
            os._exit(0)
    os.close(master)
    try:
        # This process keeps the slave open, so that the master never reads EIO between ndicapi's
        # probe (which closes the port) and its ndiOpen.
        return run_check(path, frames, 2, True)
    finally:
        os.kill(child, signal.SIGTERM)
        os.waitpid(child, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", nargs="?", help="the simulator's serial port (a /dev/pts/N path)")
    parser.add_argument("--frames", type=int, default=10, help="BX frames to read (default 10)")
    parser.add_argument("--handles", type=int, default=1, help="handles that must be enabled (default 1)")
    parser.add_argument("--no-comm", action="store_true", help="skip COMM 50000 (115200 baud)")
    parser.add_argument("--self-test", action="store_true", help="check against the built-in reference device")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.frames)
    if not args.port or args.frames < 2:
        parser.print_usage(sys.stderr)
        return 64
    return run_check(args.port, args.frames, args.handles, not args.no_comm)


if __name__ == "__main__":
    sys.exit(main())
