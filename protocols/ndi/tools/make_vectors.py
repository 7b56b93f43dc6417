#!/usr/bin/env python3
"""Writes protocols/ndi/vectors/*.json from the reference implementation (ndi.py).

Run from anywhere:
    python3 protocols/ndi/tools/make_vectors.py           # (re)writes the vectors
    python3 protocols/ndi/tools/make_vectors.py --check   # fails when a committed vector differs

The output depends on ndi.py only and is deterministic: regenerating must not change a vector
unless the spec (README) changed. Every vector names its source: a string printed in a public
implementation of the protocol (ndicapi), or ours (the README section it exercises).

The statistics of a vector are the receiver's counters after its bytes and then the end of the
exchange (README §8.1 step 10 for replies; the command parser has no such step).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ndi  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))

H2D = "host_to_device"
D2H = "device_to_host"

NDICAPI_COMMIT = "652d9eadb8c71ca19d894c61e908b462fe3fefcd"
NDICAPI = "https://github.com/PlusToolkit/ndicapi/blob/%s/ndicapi.cxx" % NDICAPI_COMMIT


def ndicapi(line, what):
    return {"kind": "public-implementation", "document": "PlusToolkit/ndicapi, ndicapi.cxx, ndiSerialProbe()",
            "url": "%s#L%d" % (NDICAPI, line), "note": what}


def ours(basis):
    return {"kind": "rehabhost", "basis": basis}


VECTORS = []


def add(name, description, direction, wire, canonical, source, expecting=None):
    VECTORS.append({"name": name, "description": description, "direction": direction, "wire": bytes(wire),
                    "canonical": canonical, "source": source, "expecting": expecting})


def bx(handles, system_status=0):
    return ndi.encode_bx(handles, system_status)


# A tool pose: a unit quaternion (w, x, y, z) and a position [mm]; float32 on the wire.
Q_IDENTITY = [1.0, 0.0, 0.0, 0.0]
Q_90_ABOUT_Y = [0.7071068, 0.0, 0.7071068, 0.0]
Q_TILTED = [0.9238795, 0.0, 0.0, -0.3826834]
OCCUPIED_INITIALIZED_ENABLED = ndi.PORT_OCCUPIED | ndi.PORT_INITIALIZED | ndi.PORT_ENABLED   # 0x31

TOOL_A = ndi.handle_valid(0x0A, Q_90_ABOUT_Y, [12.5, -48.25, -212.0], 0.18, OCCUPIED_INITIALIZED_ENABLED, 40213)
TOOL_B_MISSING = ndi.handle_missing(0x0B, OCCUPIED_INITIALIZED_ENABLED | ndi.PORT_OUT_OF_VOLUME, 40213)
TOOL_C_DISABLED = ndi.handle_disabled(0x0C)


def public_vectors():
    add("ndicapi-init-command", "INIT with its CRC, as ndicapi's probe sends it", H2D, b"INIT:E3A5\r", True,
        ndicapi(785, 'ndiSerialWrite(serial_port, "INIT:E3A5\\r", 10)'))
    add("ndicapi-okay-reply", "OKAY with its CRC, the reply ndicapi's probe expects to INIT", D2H, b"OKAYA896\r",
        True, ndicapi(786, 'strncmp(init_reply, "OKAYA896\\r", 9)'), "ascii")
    add("ndicapi-reset-reply", "RESET with its CRC: what the system sends after a serial break", D2H,
        b"RESETBE6F\r", True, ndicapi(813, 'strncmp(init_reply, "RESETBE6F\\r", 10)'), "ascii")
    add("ndicapi-ver-command", "VER 0 (control firmware version) with its CRC", H2D, b"VER:065EE\r", True,
        ndicapi(874, 'ndiSerialWrite(serial_port, "VER:065EE\\r", 10)'))
    add("ndicapi-getinfo-command", "GETINFO of Features.Firmware.Version with its CRC", H2D,
        b"GETINFO:Features.Firmware.Version0492\r", True,
        ndicapi(853, 'ndiSerialWrite(serial_port, "GETINFO:Features.Firmware.Version0492\\r", ...)'))


def command_vectors():
    cmd = ndi.encode_command
    # The set-up sequence of README §9, in the colon form ndicapi (and scikit-surgerynditracker) use.
    add("comm-115200-8n1", "COMM 50000: 115200 baud, 8 data bits, no parity, 1 stop bit, no handshake", H2D,
        cmd("COMM", "50000"), True, ours("README §5.2"))
    add("phsr-02", "PHSR 02: port handles that need initialising", H2D, cmd("PHSR", "02"), True, ours("README §5.4"))
    add("phsr-03", "PHSR 03: port handles that need enabling", H2D, cmd("PHSR", "03"), True, ours("README §5.4"))
    add("pinit-0a", "PINIT of port handle 0A", H2D, cmd("PINIT", "0A"), True, ours("README §5.6"))
    add("pinit-lowercase-handle", "PINIT of port handle 0a written in lower case, as scikit-surgerynditracker "
        "formats handles ('{:02x}'): the device accepts it", H2D, cmd("PINIT", "0a"), True, ours("README §5.6"))
    add("pena-0a-dynamic", "PENA 0A D: enable handle 0A with dynamic tracking priority", H2D, cmd("PENA", "0AD"),
        True, ours("README §5.7"))
    add("tstart", "TSTART: enter tracking mode", H2D, cmd("TSTART"), True, ours("README §5.9"))
    add("bx-0801", "BX 0801: transformations (0x0001), also those not normally reported (0x0800)", H2D,
        cmd("BX", "0801"), True, ours("README §6"))
    add("bx-0001", "BX 0001: transformations", H2D, cmd("BX", "0001"), True, ours("README §6"))
    add("tstop", "TSTOP: leave tracking mode", H2D, cmd("TSTOP"), True, ours("README §5.9"))
    add("pdis-0a", "PDIS 0A: disable handle 0A", H2D, cmd("PDIS", "0A"), True, ours("README §5.8"))
    add("phf-0a", "PHF 0A: free handle 0A", H2D, cmd("PHF", "0A"), True, ours("README §5.8"))
    add("phrq-wireless", "PHRQ for a wireless (passive) tool, every other field a wildcard, as "
        "scikit-surgerynditracker requests a handle for a tool definition file", H2D,
        cmd("PHRQ", "*********1****"), True, ours("README §5.5"))
    # The space form (NDI's sample code, cisst's sawNDITracker) and the bare form.
    add("init-space-form", "INIT in the space form: no CRC (NDI's sample code sends 'INIT ')", H2D,
        cmd("INIT", "", "space"), True, ours("README §3.1"))
    add("tx-0801-space-form", "TX 0801 in the space form, as cisst's sawNDITracker sends it", H2D,
        cmd("TX", "0801", "space"), True, ours("README §3.1, §7"))
    add("tstart-80-space-form", "TSTART 80 (reset the frame counter) in the space form", H2D,
        cmd("TSTART", "80", "space"), True, ours("README §3.1, §5.9"))
    add("init-bare", "INIT with neither separator nor CRC", H2D, cmd("INIT", "", "bare"), True, ours("README §3.1"))
    # Refusals (each answered with an ERROR, README §8.2).
    add("command-bad-crc", "INIT whose CRC is off by one: refused as bad_crc (ERROR04)", H2D, b"INIT:E3A6\r",
        False, ours("README §8.2 step 6"))
    add("command-crc-not-hex", "A colon form whose last four characters are not hex: bad_crc (ERROR04)", H2D,
        b"INIT:WXYZ\r", False, ours("README §8.2 step 6"))
    add("command-lowercase-name", "'init:' is not a command name: invalid (ERROR01)", H2D,
        b"init:" + ndi.crc_hex(b"init:") + b"\r", False, ours("README §8.2 step 4"))
    add("command-empty-line", "A lone CR: too_short (ERROR03)", H2D, b"\r", False, ours("README §8.2 step 3"))
    add("command-colon-too-short", "'INIT:' and two characters: too short to hold a CRC (ERROR03)", H2D,
        b"INIT:E3\r", False, ours("README §8.2 step 6"))
    add("command-non-printable", "A NUL inside a line: invalid (ERROR01)", H2D, b"IN\x00IT:E3A5\r", False,
        ours("README §8.2 step 3"))
    add("command-too-long", "A 300-character line: too_long (ERROR02), then INIT decodes", H2D,
        b"PVWR:" + b"0" * 295 + b"\r" + cmd("INIT"), False, ours("README §8.2 step 2"))
    add("command-longest", "The longest command accepted: 256 characters before the CR", H2D,
        cmd("PVWR", "0A0000" + "F" * (256 - 5 - 6 - 4)), True, ours("README §3.1"))
    add("commands-crlf", "Two commands ended by CR LF: each LF is dropped", H2D,
        cmd("INIT") + b"\n" + cmd("PHSR", "02") + b"\n", False, ours("README §8.2 step 1"))
    add("commands-back-to-back", "The whole set-up sequence in one write", H2D,
        cmd("INIT") + cmd("PHSR", "02") + cmd("PINIT", "0A") + cmd("PHSR", "03") + cmd("PENA", "0AD") +
        cmd("TSTART") + cmd("BX", "0801"), False, ours("README §9.1"))


def reply_vectors():
    rep = ndi.encode_ascii_reply
    add("error-01-invalid-command", "ERROR01: invalid command", D2H, rep("ERROR01"), True, ours("README §4.2"),
        "ascii")
    add("error-04-bad-command-crc", "ERROR04: the device computed another CRC for the command", D2H,
        rep("ERROR04"), True, ours("README §4.2"), "ascii")
    add("error-0c-in-bx-exchange", "ERROR0C (invalid in the current mode) in answer to BX: an ASCII reply "
        "where a binary one was expected", D2H, rep("ERROR0C"), True, ours("README §8.1 step 1"), "bx")
    add("warning-01", "WARNING01 (possible hardware fault): a reply the host treats as OKAY with a warning",
        D2H, rep("WARNING01"), True, ours("README §4.3"), "ascii")
    add("phsr-reply-two-handles", "PHSR reply: 2 handles, 0A and 0B, each status 001 (occupied)", D2H,
        rep("020A0010B001"), True, ours("README §5.4"), "ascii")
    add("phrq-reply", "PHRQ reply: the assigned port handle 0A", D2H, rep("0A"), True, ours("README §5.5"), "ascii")
    add("ver-reply-multiline", "A VER reply of several lines separated by LF", D2H,
        rep("Aurora Control Firmware\nNDI S/N: P6-00000\nCharacterization Date: 01/01/24\n"
            "Freeze Tag: Aurora Rev 009\nFreeze Date: 01/01/24\n(C) Northern Digital Inc.\n"), True,
        ours("README §5.3"), "ascii")
    add("tx-reply", "TX 0801 reply (ASCII): a valid, a missing and a disabled handle, system status 0", D2H,
        rep(ndi.format_tx_reply([TOOL_A, TOOL_B_MISSING, TOOL_C_DISABLED])), True, ours("README §7"), "ascii")
    add("ascii-crc-failure", "OKAY with its CRC's last digit wrong, then an intact OKAY: one CRC error", D2H,
        b"OKAYA897\r" + rep("OKAY"), False, ours("README §8.1 step 7"), "ascii")
    add("ascii-crc-not-hex", "A line whose last four characters are not hex: malformed", D2H,
        b"OKAYZZZZ\r" + rep("OKAY"), False, ours("README §8.1 step 7"), "ascii")
    add("ascii-too-short", "A line too short to hold text and a CRC ('A89\\r'): malformed", D2H,
        b"A89\r" + rep("OKAY"), False, ours("README §8.1 step 7"), "ascii")
    add("junk-before-reply", "Non-text junk (NUL, FF, C4 not followed by A5, DEL) before OKAY: discarded", D2H,
        b"\x00\xff\xc4\x00\x7f" + rep("OKAY"), False, ours("README §8.1 steps 2-4"), "ascii")
    add("junk-line-before-reply", "The tail of an earlier reply ('A896\\r') before OKAY: malformed, then OKAY",
        D2H, b"A896\r" + rep("OKAY"), False, ours("README §8.1 step 7"), "ascii")
    add("printable-junk-glued-to-reply", "Printable junk glued to OKAY: one line whose CRC fails (the receiver "
        "does not guess where a reply starts)", D2H, b"xyz" + rep("OKAY"), False, ours("README §8.1 step 7"), "ascii")
    add("ascii-truncated", "OKAY cut before its CR, at the end of the exchange: malformed", D2H, b"OKAYA89",
        False, ours("README §8.1 step 10"), "ascii")
    add("ascii-longest", "The longest reply text accepted (1024 characters)", D2H, rep("7" * 1024), True,
        ours("README §4.1"), "ascii")
    add("ascii-oversize", "A 1100-character line: oversize, skipped to its CR; then OKAY", D2H,
        b"7" * 1100 + b"ABCD\r" + rep("OKAY"), False, ours("README §8.1 step 6"), "ascii")
    add("replies-back-to-back", "OKAY, ERROR0D and RESET in one read", D2H,
        rep("OKAY") + rep("ERROR0D") + rep("RESET"), False, ours("README §8.1"), "ascii")


def bx_vectors():
    one = [TOOL_A]
    add("bx-one-valid", "BX reply: one valid handle (0A)", D2H, bx(one), True, ours("README §6.2"), "bx")
    add("bx-valid-missing", "BX reply: handle 0A valid, 0B missing (out of volume): port status and frame "
        "number, no transformation", D2H, bx([TOOL_A, TOOL_B_MISSING]), True, ours("README §6.2"), "bx")
    add("bx-valid-missing-disabled", "BX reply: 0A valid, 0B missing, 0C disabled (nothing after its status)",
        D2H, bx([TOOL_A, TOOL_B_MISSING, TOOL_C_DISABLED]), True, ours("README §6.2"), "bx")
    add("bx-no-handles", "BX reply with no handles and system status 0x0040 (a port became occupied)", D2H,
        bx([], 0x0040), True, ours("README §6.2, §6.4"), "bx")
    largest = [ndi.handle_valid(0x01 + i, Q_TILTED, [-100.0 + 25.5 * i, 33.25, -450.75], 0.05 * (i + 1),
                                OCCUPIED_INITIALIZED_ENABLED, 0xFFFFFFF0 + i) for i in range(ndi.MAX_BX_HANDLES)]
    add("bx-largest", "The largest BX reply parsed: 8 valid handles (reply length 339), frame numbers near "
        "the 32-bit wrap", D2H, bx(largest, 0x0000), True, ours("README §6.2"), "bx")
    add("bx-in-ascii-exchange", "A BX reply while an ASCII reply was expected: rejected as unexpected_binary",
        D2H, bx(one), False, ours("README §8.1 step 9"), "ascii")
    good = bx(one)
    bad_header = bytearray(good)
    bad_header[4] ^= 0x01
    add("bx-bad-header-crc", "A BX reply whose header CRC is wrong, then the intact reply", D2H,
        bytes(bad_header) + good, False, ours("README §8.1 step 5"), "bx")
    bad_body = bytearray(good)
    bad_body[20] ^= 0x10
    add("bx-bad-body-crc", "A BX reply with one body bit flipped, then the intact reply", D2H,
        bytes(bad_body) + good, False, ours("README §8.1 step 8"), "bx")
    add("bx-junk-before", "Junk (00 C4 C4 FF) before a BX reply", D2H, b"\x00\xc4\xc4\xff" + good, False,
        ours("README §8.1 steps 2-4"), "bx")
    add("bx-truncated", "A BX reply cut 10 bytes short at the end of the exchange: malformed", D2H, good[:-10],
        False, ours("README §8.1 step 10"), "bx")
    add("bx-truncated-then-reply", "A BX reply cut short, then a whole one: the receiver finds the second", D2H,
        good[:30] + good, False, ours("README §8.1 step 8"), "bx")
    add("bx-oversize", "A header (valid CRC) announcing 2000 body bytes: oversize, then OKAY", D2H,
        ndi.frame_bx(b"\x00" * 2000)[:6] + ndi.encode_ascii_reply("OKAY"), False, ours("README §8.1 step 5"), "bx")
    add("bx-too-many-handles", "A BX reply with 9 handles (all missing): too_many_handles", D2H,
        bx([ndi.handle_missing(i + 1, 0x11, 7) for i in range(9)]), False, ours("README §6.2"), "bx")
    unknown = bytearray(ndi.encode_bx_body([ndi.handle_missing(0x0A, 0x31, 7)], 0))
    unknown[2] = 0x03
    add("bx-unknown-handle-status", "A BX reply whose handle status is 03: unknown_handle_status", D2H,
        ndi.frame_bx(bytes(unknown)), False, ours("README §6.2"), "bx")
    add("bx-layout-mismatch", "A BX reply with one byte more than its handles need: layout_mismatch", D2H,
        ndi.frame_bx(ndi.encode_bx_body(one, 0) + b"\x00"), False, ours("README §6.2"), "bx")
    nan_body = bytearray(ndi.encode_bx_body(one, 0))
    nan_body[3 + 16:3 + 20] = bytes.fromhex("0000c07f")       # x position: a quiet NaN
    add("bx-non-finite", "A BX reply whose x position is NaN: non_finite_value", D2H, ndi.frame_bx(bytes(nan_body)),
        False, ours("README §6.2"), "bx")
    add("bx-then-error", "A BX reply and an ERROR in one read (both accepted after BX)", D2H,
        good + ndi.encode_ascii_reply("ERROR0C"), False, ours("README §8.1"), "bx")


# ---------------------------------------------------------------------------------------- output

def hex_words(values):
    return ["%08X" % ndi.f32_bits(v) for v in values]


def reply_json(result):
    kind, data = result
    if kind == "ascii":
        text = data["text"].encode()
        return {"reply": {"kind": "ascii", "text": data["text"], "crc": "0x%04X" % data["crc"],
                          "classification": ndi.classify(text)}}
    if kind == "bx":
        handles = []
        for h in data["handles"]:
            entry = {"handle": h["handle"], "status": h["status"]}
            if h["status"] == "valid":
                entry["orientation_wxyz"] = h["orientation_wxyz"]
                entry["orientation_bits"] = hex_words(h["orientation_wxyz"])
                entry["position_mm"] = h["position_mm"]
                entry["position_bits"] = hex_words(h["position_mm"])
                entry["rms_error_mm"] = h["rms_error_mm"]
                entry["rms_error_bits"] = hex_words([h["rms_error_mm"]])[0]
            if h["status"] != "disabled":
                entry["port_status"] = h["port_status"]
                entry["frame_number"] = h["frame_number"]
            handles.append(entry)
        return {"reply": {"kind": "bx", "handles": handles, "system_status": data["system_status"]}}
    return {"rejected": {"reason": data["reason"]}}


def command_json(result):
    kind, data = result
    if kind == "command":
        return {"command": {"name": data["name"], "form": data["form"], "parameters": data["parameters"],
                            "crc": None if data["crc"] is None else "0x%04X" % data["crc"]}}
    return {"rejected": {"reason": data["reason"], "error_code": data["error_code"]}}


def build(v):
    if v["direction"] == D2H:
        results, stats = ndi.decode_all(v["wire"], v["expecting"])
        expect = [reply_json(r) for r in results]
        if v["canonical"]:
            assert len(results) == 1, v["name"]
            kind, data = results[0]
            again = (ndi.encode_ascii_reply(data["text"]) if kind == "ascii"
                     else ndi.encode_bx(data["handles"], data["system_status"]))
            assert again == v["wire"], "%s: not canonical" % v["name"]
    else:
        results, stats = ndi.parse_all(v["wire"])
        expect = [command_json(r) for r in results]
        if v["canonical"]:
            assert len(results) == 1 and results[0][0] == "command", v["name"]
            c = results[0][1]
            assert ndi.encode_command(c["name"], c["parameters"], c["form"]) == v["wire"], v["name"]
    doc = {"name": v["name"], "description": v["description"], "direction": v["direction"], "source": v["source"],
           "wire_hex": v["wire"].hex(), "canonical": v["canonical"]}
    if v["expecting"] is not None:
        doc["expecting"] = v["expecting"]
    doc["expect"] = expect
    doc["statistics"] = stats
    return doc


def crc_document():
    examples = [
        ("check value (CRC catalogue 'CRC-16/ARC')", b"123456789",
         {"kind": "crc-catalogue", "url": "https://reveng.sourceforge.io/crc-catalogue/16.htm#crc.cat.crc-16-arc"}),
        ("empty input", b"", ours("README §3.2")),
        ("INIT: (ndicapi sends INIT:E3A5)", b"INIT:", ndicapi(785, "INIT:E3A5")),
        ("OKAY (ndicapi expects OKAYA896)", b"OKAY", ndicapi(786, "OKAYA896")),
        ("RESET (ndicapi expects RESETBE6F)", b"RESET", ndicapi(813, "RESETBE6F")),
        ("VER:0 (ndicapi sends VER:065EE)", b"VER:0", ndicapi(874, "VER:065EE")),
        ("GETINFO:Features.Firmware.Version (ndicapi sends ...0492)", b"GETINFO:Features.Firmware.Version",
         ndicapi(853, "GETINFO:Features.Firmware.Version0492")),
        ("BX header of a 45-byte reply", bytes.fromhex("c4a52d00"), ours("README §6.1")),
    ]
    out = []
    for description, data, source in examples:
        value = ndi.crc16(data)
        out.append({"description": description, "input_hex": data.hex(), "input_ascii": data.decode("latin-1")
                    if all(0x20 <= c <= 0x7E for c in data) else None, "crc": "0x%04X" % value,
                    "ascii_hex_digits": "%04X" % value, "binary_wire_order_hex": "%02x%02x" % (value & 0xFF, value >> 8),
                    "source": source})
    return {"name": "crc16", "description": "CRC-16 of the NDI combined API (README §3.2): poly 0x8005 reflected "
            "(0xA001), init 0x0000, no final XOR (CRC-16/ARC). ASCII lines carry it as four upper-case hex digits "
            "('ascii_hex_digits'); binary BX replies carry it low byte first ('binary_wire_order_hex').",
            "examples": out}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed vectors, write nothing")
    args = parser.parse_args()

    public_vectors()
    command_vectors()
    reply_vectors()
    bx_vectors()
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "duplicate vector names"

    files = {v["name"] + ".json": build(v) for v in VECTORS}
    files[os.path.join("crc", "crc16.json")] = crc_document()
    differences = []
    for relative, doc in sorted(files.items()):
        text = json.dumps(doc, indent=2) + "\n"
        path = os.path.join(OUT, relative)
        if args.check:
            try:
                with open(path) as handle:
                    if handle.read() != text:
                        differences.append(relative)
            except FileNotFoundError:
                differences.append(relative)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    if args.check:
        stale = sorted(set(n for n in os.listdir(OUT) if n.endswith(".json")) - set(files))
        if differences or stale:
            print("differ: %s; not generated: %s" % (differences, stale))
            return 1
        print("%d vectors match" % len(files))
        return 0
    print("wrote %d vectors to %s" % (len(files), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
