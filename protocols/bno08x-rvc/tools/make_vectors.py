#!/usr/bin/env python3
"""Writes protocols/bno08x-rvc/vectors/*.json from the reference implementation (rvc.py).

    python3 protocols/bno08x-rvc/tools/make_vectors.py            # writes the vectors
    python3 protocols/bno08x-rvc/tools/make_vectors.py --check    # fails if a committed file differs

Deterministic: regenerating must not change a vector unless the README (and so rvc.py) changed. Every
vector says where its bytes come from (`source`): the datasheet's worked example, or ours (with the
README sections it rests on). No published capture of real UART-RVC bytes was found (README §0), so
there is no `capture` vector.
"""
import argparse
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvc  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
D2H = "device_to_host"

DATASHEET = {
    "kind": "datasheet",
    "document": "CEVA BNO08X Data Sheet, document 1000-3927, revision 1.17 (2023); the same text in revision 1.11 "
                "(2021) and in Hillcrest's BNO080 Data Sheet 1000-3927 (October 2017)",
    "url": "https://www.ceva-ip.com/wp-content/uploads/BNO080_085-Datasheet.pdf",
    "section": "1.2.5.2 UART-RVC protocol, pp. 21-22 (BNO080 2017 edition: 1.3.5.2, pp. 21-22): "
               "'An example complete message and checksum calculation'",
}
BANNER_SOURCE = "Hillcrest BNO080 Data Sheet 1000-3927 (October 2017), 5.1 'BNO080 in UART-RVC mode', p. 43"


def ours(basis, note=None):
    source = {"kind": "rehabhost", "basis": basis}
    if note:
        source["note"] = note
    return source


VECTORS = []


def add(name, description, wire, canonical, source):
    VECTORS.append({"name": name, "description": description, "wire": bytes(wire), "canonical": canonical,
                    "source": source})


def F(index, yaw, pitch, roll, ax, ay, az, mi=0, mr=0, reserved=0):
    return rvc.Frame(index, yaw, pitch, roll, ax, ay, az, mi, mr, reserved)


def enc(*frames):
    return b"".join(rvc.encode(f) for f in frames)


def sweep(first_index, count, yaw0=-500, step=37):
    """A short forearm pronation: yaw and roll move, gravity mostly on Z."""
    frames = []
    for k in range(count):
        roll_cdeg = 1500 + 211 * k
        roll = math.radians(roll_cdeg / 100)
        frames.append(F((first_index + k) & 0xFF, yaw0 + step * k, -240 + 3 * k, roll_cdeg,
                        -12 + k, int(round(1000 * math.sin(roll))), int(round(1000 * math.cos(roll)))))
    return frames


def build():
    example = bytes.fromhex("AAAADE010092FF25088DFEECFFD103000000E7")
    assert rvc.encode(F(222, 1, -110, 2085, -371, -20, 977)) == example

    # --- Single frames, each canonical -----------------------------------------------------------
    add("datasheet-example",
        "The datasheet's worked example: index 222, yaw 0.01 deg, pitch -1.10 deg, roll 20.85 deg, "
        "acceleration -371, -20, 977 mg, checksum 0xE7",
        example, True, DATASHEET)
    add("zero-frame", "Index 0, every field 0: the checksum is 0", enc(F(0, 0, 0, 0, 0, 0, 0)), True,
        ours("README §3"))
    add("negative-angles",
        "Negative yaw, pitch and roll (-123.45, -45.67, -179.99 deg) and accelerations, two's complement little-endian",
        enc(F(17, -12345, -4567, -17999, -1234, -5, -980)), True, ours("README §3, §4"))
    add("documented-extremes",
        "The ends of the documented ranges: yaw +180 deg, pitch -90 deg, roll -180 deg; accelerations +/-8000 mg", enc(F(255, 18000, -9000, -18000, 8000, -8000, 0)), True, ours("README §4"))
    add("int16-extremes",
        "Counts outside the documented ranges (int16 ends): decoded as they are, not rejected; "
        "within_documented_ranges is false", enc(F(128, 32767, -32768, 32767, -32768, 32767, -32768)), True,
        ours("README §4, §7 (the receiver does not judge values), §8 (the driver does)"))
    add("all-ones",
        "Every byte after the header 0xFF (every field -1, index 255, MI/MR/reserved 255): the checksum is "
        "16 x 0xFF = 0xFF0, so 0xF0 modulo 256", enc(F(255, -1, -1, -1, -1, -1, -1, 255, 255, 255)), True,
        ours("README §3"))
    add("bno086-motion-fields",
        "A BNO086's Motion Intent 3 and Motion Request 1 at offsets 15 and 16: carried through as raw bytes",
        enc(F(42, 9000, 1000, -2000, 100, 200, 950, 3, 1)), True, ours("README §3 (MI, MR)"))
    add("reserved-byte-nonzero",
        "Reserved byte (offset 17) 0x5A: it counts in the checksum and is carried through, not rejected",
        enc(F(43, 100, 200, 300, 0, 0, 1000, 0, 0, 0x5A)), True, ours("README §3, §7"))
    inner = F(0xAA, 170, -86, 4266, 0, 170, 990)
    inner_wire = enc(inner)
    assert inner_wire[2:4] == b"\xaa\xaa"
    add("aa-aa-inside-data",
        "Index 0xAA and yaw 1.70 deg (AA 00): 0xAA 0xAA at offsets 2-3, inside the frame. A receiver that is "
        "already at the header reads them as data", inner_wire, True, ours("README §7"))

    # --- Streams -------------------------------------------------------------------------------
    add("back-to-back-index-wrap",
        "Five consecutive frames, index 253, 254, 255, 0, 1: the index wraps after 255",
        enc(*sweep(253, 5)), False, ours("README §3 (index), §8"))
    frozen = sweep(90, 1)[0]
    add("repeated-index",
        "The same frame twice (index 90, 90), then index 91: the receiver yields all three; a repeated index is "
        "the driver's business (a stale or frozen sensor, README §8)",
        enc(frozen, frozen, sweep(91, 1)[0]), False, ours("README §8"))
    add("index-gap",
        "Index 10, 11, then 14: two frames lost upstream; the receiver yields what arrives",
        enc(*sweep(10, 2), sweep(14, 1)[0]), False, ours("README §8"))

    # --- Junk, resynchronisation, damage -------------------------------------------------------
    add("junk-before-frame", "Seven junk bytes (none 0xAA), then the datasheet example: 7 discarded",
        bytes.fromhex("00FF1355A9AB0A") + example, False, ours("README §7 step 2"))
    add("lone-aa-before-header",
        "Junk ending in 0xAA right before the header (AA | AA AA …): the receiver first takes the junk AA and the "
        "first header byte as the header, the checksum fails, it drops one byte and the real frame decodes",
        bytes.fromhex("1020AA") + example, False, ours("README §7 steps 2-4"))
    banner = b"%Hillcrest Labs 10003608\n%SW Ver 3.2.x\n%(c) 2017 Hillcrest Laboratories, Inc.\n"
    add("startup-banner-then-frames",
        "The ASCII start-up banner the datasheet says a BNO080 sends in UART-RVC mode after reset (text as printed, "
        "'x' included), then three frames at rest: the banner is discarded byte by byte",
        banner + enc(*[F(k, 0, 0, 0, 0, 0, 1000) for k in range(3)]), False,
        ours("README §2, §7", note=f"banner text: {BANNER_SOURCE}; the line ends are not printed there, and LF "
                                   "is our assumption (README §2)"))
    good = sweep(60, 2)
    bad = bytearray(rvc.encode(good[0]))
    bad[18] = (bad[18] + 1) & 0xFF
    add("bad-checksum-then-good",
        "A frame whose checksum byte is one too high, then the next frame: one checksum error, the damaged frame's "
        "19 bytes discarded, the next frame decoded", bytes(bad) + rvc.encode(good[1]), False,
        ours("README §7 step 4"))
    flipped = bytearray(rvc.encode(good[0]))
    flipped[7] ^= 0x08
    add("corrupted-data-byte-then-good",
        "One bit flipped in the roll field (a line error), then the next frame: a checksum error, then the next frame",
        bytes(flipped) + rvc.encode(good[1]), False, ours("README §7 step 4"))
    midstream = inner_wire[2:] + rvc.encode(sweep(0xAB, 1)[0])
    add("aa-aa-inside-data-mid-stream",
        "Reception starts inside the aa-aa-inside-data frame, at its index byte: 0xAA 0xAA in the data look like "
        "a header, the checksum fails, and the receiver finds the real header of the next frame",
        midstream, False, ours("README §7 steps 2-4"))
    first, second = sweep(30, 2)
    add("truncated-then-good",
        "The first 11 bytes of a frame (the sensor reset, or bytes were lost), then a whole frame: the receiver's "
        "19-byte window runs into the next header, the checksum fails, and it resynchronises on that header",
        rvc.encode(first)[:11] + rvc.encode(second), False, ours("README §7 step 4"))
    add("truncated-at-end",
        "A whole frame, then the first 12 bytes of the next: one frame, 12 bytes still buffered",
        rvc.encode(first) + rvc.encode(second)[:12], False, ours("README §7 (buffered bytes)"))
    add("single-aa-at-end", "A whole frame, then one 0xAA: buffered, it may be the start of a header",
        rvc.encode(first) + b"\xaa", False, ours("README §7 step 2"))
    add("all-aa-garbage",
        "40 bytes of 0xAA (a stuck line), then a frame: every 19-byte window of 0xAA fails its checksum "
        "(16 x 0xAA = 0xAA0, 0xA0 is not 0xAA)", b"\xaa" * 40 + rvc.encode(sweep(7, 1)[0]), False,
        ours("README §7 step 4"))
    rng = random.Random(0xB0085)
    junk = bytes(rng.choice([0xAA, 0xAA, 0x00, 0xFF, rng.randrange(256)]) for _ in range(64))
    stream = junk + enc(*sweep(200, 2))
    decoded = rvc.Decoder().feed(stream)
    assert [f.index for _, f in decoded] == [200, 201], "the seeded junk must not hide a checksum-valid false frame"
    add("random-junk-then-frames",
        "64 seeded random bytes, about half of them 0xAA (Python's random.Random(0xB0085)), then two frames: "
        "whatever false headers the junk holds fail their checksum, and both frames decode",
        stream, False, ours("README §7"))


def frame_json(ends_at, f):
    return {"frame": {
        "ends_at": ends_at,
        "index": f.index,
        "yaw_cdeg": f.yaw_cdeg, "pitch_cdeg": f.pitch_cdeg, "roll_cdeg": f.roll_cdeg,
        "accel_x_mg": f.accel_x_mg, "accel_y_mg": f.accel_y_mg, "accel_z_mg": f.accel_z_mg,
        "motion_intent": f.motion_intent, "motion_request": f.motion_request, "reserved": f.reserved,
        "checksum": "0x%02X" % rvc.encode(f)[18],
        "within_documented_ranges": f.within_documented_ranges(),
        "si": {"yaw_rad": f.yaw_rad, "pitch_rad": f.pitch_rad, "roll_rad": f.roll_rad,
               "accel_x_m_s2": f.accel_x_m_s2, "accel_y_m_s2": f.accel_y_m_s2, "accel_z_m_s2": f.accel_z_m_s2},
    }}


def vector_document(v):
    decoder = rvc.Decoder()
    frames = decoder.feed(v["wire"])
    stats = decoder.statistics()
    assert stats["bytes_received"] == rvc.FRAME_BYTES * stats["frames_decoded"] + stats["discarded_bytes"] + \
        stats["buffered_bytes"], v["name"]
    if v["canonical"]:
        assert len(frames) == 1 and rvc.encode(frames[0][1]) == v["wire"], v["name"]
    return {
        "name": v["name"], "description": v["description"], "direction": D2H, "source": v["source"],
        "wire_hex": v["wire"].hex(), "canonical": v["canonical"],
        "expect": [frame_json(at, f) for at, f in frames], "statistics": stats,
    }


def scaling_document():
    """SI -> counts (README §6), the rules the simulator's encoder follows; both ends check them."""
    pi = math.pi
    cases = []

    def case(quantity, si, note):
        if quantity == "yaw_roll":
            counts = rvc.cdeg_wrapped_from_rad(si)
        elif quantity == "pitch":
            counts = rvc.cdeg_pitch_from_rad(si)
        else:
            counts = rvc.mg_from_m_s2(si)
        cases.append({"quantity": quantity, "si": si, "counts": counts, "note": note})

    for si, note in [(0.0, "zero"), (pi / 2, "+90 deg"), (-pi / 4, "-45 deg"), (pi, "+180 deg stays +180"),
                     (-pi, "-180 deg stays -180"), (3 * pi / 2, "+270 deg wraps to -90"),
                     (-3 * pi / 2, "-270 deg wraps to +90"), (7 * pi, "7 pi wraps to +/-180"),
                     (0.0001, "0.0057 deg rounds to 1 count"), (-0.00008, "-0.0046 deg rounds to 0"),
                     (1e6, "a million radians wraps"), (0.3141592653589793, "18.00 deg")]:
        case("yaw_roll", si, note)
    for si, note in [(0.0, "zero"), (pi / 2, "+90 deg"), (-pi / 2, "-90 deg"), (2.0, "114.6 deg clamps to +90"),
                     (-100.0, "clamps to -90"), (0.1, "5.73 deg")]:
        case("pitch", si, note)
    g = rvc.STANDARD_GRAVITY
    for si, note in [(0.0, "zero"), (g, "1 g is 1000 mg"), (-8 * g, "-8 g"), (9.81, "9.81 m/s^2"),
                     (0.0049, "0.4997 mg rounds to 0"), (0.005, "0.51 mg rounds to 1"), (400.0, "saturates"),
                     (-400.0, "saturates"), (-0.00981, "-1.0003 mg rounds to -1")]:
        case("acceleration", si, note)
    return {
        "description": "SI -> wire counts for the encoder (README §6): yaw and roll wrapped into [-180, +180] deg then "
                       "rounded to the nearest 0.01 deg (halves away from zero); pitch rounded and clamped to +/-90 "
                       "deg; acceleration rounded to the nearest mg and clamped to int16. Non-finite inputs (encoded as 0) are "
                       "not representable in JSON and are tested in code.",
        "standard_gravity_m_s2": g,
        "cases": cases,
    }


def write(path, document, check):
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if check:
        with open(path, encoding="utf-8") as existing:
            if existing.read() != text:
                raise SystemExit(f"{path} differs from what make_vectors.py generates")
        return
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = parser.parse_args()
    build()
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names))
    os.makedirs(os.path.join(OUT, "scaling"), exist_ok=True)
    if not args.check:
        for stale in os.listdir(OUT):
            if stale.endswith(".json") and stale[:-5] not in names:
                os.remove(os.path.join(OUT, stale))
    for v in VECTORS:
        write(os.path.join(OUT, v["name"] + ".json"), vector_document(v), args.check)
    write(os.path.join(OUT, "scaling", "si_to_counts.json"), scaling_document(), args.check)
    print(f"{'checked' if args.check else 'wrote'} {len(VECTORS)} vectors and scaling/si_to_counts.json in {OUT}")


if __name__ == "__main__":
    main()
