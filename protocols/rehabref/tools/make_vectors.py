"""Writes protocols/rehabref/vectors/*.json from the Python reference (rehabref.py)."""

import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rehabref  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "vectors")


def recrc(body: bytes) -> bytes:
    return body[:32] + struct.pack("<I", rehabref.crc32c(body[:32]))


def vector(name, description, data, canonical):
    frame, reason = rehabref.decode(data)
    document = {"name": name, "description": description, "wire_hex": data.hex(), "canonical": canonical}
    document["expect"] = {"accepted": frame} if frame else {"rejected": reason}
    with open(os.path.join(OUT, name + ".json"), "w") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    visible = rehabref.encode(1000, 10_000, 3_000, 200, 0.25, True)
    vector("visible-frame", "frame 1000 of a 100 Hz source, 3 ms old, 0.2 mm, 0.25 rad, visible", visible, True)
    vector("hidden-tool", "tool_visible cleared: accepted, the host then stops (SR-15)",
           rehabref.encode(7, 4_000, 1_500, 0, -0.5, False), True)
    vector("counter-near-wrap", "frame 2^32-1 of a 250 Hz encoder source, negative angle",
           rehabref.encode(0xFFFFFFFF, 4_000, 250, 0, -1.2345678901234, True), True)
    vector("slowest-period", "frame period 1 s: valid here, too slow to gate motion (SR-15 trips)",
           rehabref.encode(1, 1_000_000, 0, 0, 0.0, True), True)
    vector("short", "35 bytes", visible[:35], False)
    vector("long", "37 bytes", visible + b"\x00", False)
    vector("bad-magic", "RREG", recrc(b"RREG" + visible[4:]), False)
    vector("version-2", "version 2", recrc(visible[:4] + b"\x02" + visible[5:]), False)
    flipped = bytearray(visible)
    flipped[26] ^= 0x01
    vector("bad-crc", "one bit of the position flipped", bytes(flipped), False)
    vector("reserved-flag", "flags bit 1 set", recrc(visible[:5] + b"\x03" + visible[6:]), False)
    vector("reserved-word", "reserved = 1", recrc(visible[:6] + b"\x01\x00" + visible[8:]), False)
    vector("zero-period", "frame_period_us = 0", recrc(visible[:12] + struct.pack("<I", 0) + visible[16:]), False)
    vector("nan-position", "position NaN", recrc(visible[:24] + struct.pack("<d", math.nan) + visible[32:]), False)
    vector("infinite-position", "position +inf", recrc(visible[:24] + struct.pack("<d", math.inf) + visible[32:]), False)


if __name__ == "__main__":
    main()
