"""RehabRef v1 frames, written from protocols/rehabref/README.md (no RehabHost code consulted)."""

import math
import struct

MAGIC = b"RREF"
VERSION = 1
LENGTH = 36


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def encode(frame_counter, frame_period_us, latency_us, rms_error_um, position_rad, tool_visible):
    body = MAGIC + struct.pack(
        "<BBHIIIId", VERSION, 1 if tool_visible else 0, 0, frame_counter, frame_period_us, latency_us, rms_error_um, position_rad
    )
    return body + struct.pack("<I", crc32c(body))


def decode(data: bytes):
    """Returns (frame dict, None) or (None, reason), checking in the order of README §3."""
    if len(data) != LENGTH:
        return None, "wrong_length"
    if data[0:4] != MAGIC:
        return None, "bad_magic"
    if data[4] != VERSION:
        return None, "unsupported_version"
    if struct.unpack_from("<I", data, 32)[0] != crc32c(data[:32]):
        return None, "bad_crc"
    flags, reserved = data[5], struct.unpack_from("<H", data, 6)[0]
    if flags & 0xFE or reserved:
        return None, "reserved_bits_set"
    counter, period, latency, rms, position = struct.unpack_from("<IIIId", data, 8)
    if not 1 <= period <= 1_000_000:
        return None, "period_out_of_range"
    if not math.isfinite(position):
        return None, "non_finite_position"
    return {
        "frame_counter": counter,
        "frame_period_us": period,
        "latency_us": latency,
        "rms_error_um": rms,
        "position_rad": position,
        "tool_visible": bool(flags & 1),
    }, None


assert crc32c(b"123456789") == 0xE3069283
