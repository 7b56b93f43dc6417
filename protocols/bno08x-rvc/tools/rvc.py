#!/usr/bin/env python3
"""Reference implementation of the BNO08x UART-RVC frame (protocols/bno08x-rvc/README.md).

Standard library only, written from the README (and through it from CEVA's BNO08X datasheet,
1000-3927, section "UART-RVC protocol"), not from the Swift codec. It has three parts:

- `Frame`: one 19-byte report as integers (the wire's counts), with its SI values (README §5);
- `encode(frame)`: the 19 bytes, and `frame_from_si(...)`: counts from SI values with the rounding,
  wrapping and saturation rules of README §6 (what a simulator sends);
- `Decoder`: the receiver of README §7, fed one byte at a time, with its counters.

    >>> f = decode_one(bytes.fromhex("AAAADE010092FF25088DFEECFFD103000000E7"))
    >>> (f.index, f.yaw_cdeg, f.pitch_cdeg, f.roll_cdeg, f.accel_x_mg, f.accel_y_mg, f.accel_z_mg)
    (222, 1, -110, 2085, -371, -20, 977)
"""

import math
import struct
from dataclasses import dataclass

HEADER = 0xAA
FRAME_BYTES = 19
# Offsets in the frame (README §3).
INDEX_OFFSET = 2
CHECKSUM_OFFSET = 18
# The checksum covers offsets 2 ... 17: index, the six int16 fields, MI, MR and the reserved byte.
CHECKSUM_FIRST, CHECKSUM_LAST = 2, 17

BAUD_RATE = 115_200
FRAME_RATE_HZ = 100
# Standard gravity (BIPM / ISO 80000-3): 1 g = 9.80665 m/s^2 exactly; 1 mg = 0.00980665 m/s^2.
STANDARD_GRAVITY = 9.80665
INT16_MIN, INT16_MAX = -32768, 32767
# Documented ranges (README §4), in centidegrees.
YAW_ROLL_LIMIT_CDEG = 18000
PITCH_LIMIT_CDEG = 9000

_LAYOUT = struct.Struct("<BhhhhhhBBBB")  # offsets 2 ... 18


@dataclass(frozen=True)
class Frame:
    """One UART-RVC report, as the integers on the wire."""

    index: int  # 0 ... 255
    yaw_cdeg: int  # int16, 0.01 degree
    pitch_cdeg: int
    roll_cdeg: int
    accel_x_mg: int  # int16, milli-g
    accel_y_mg: int
    accel_z_mg: int
    motion_intent: int = 0  # offset 15: MI on a BNO086, reserved (0) otherwise
    motion_request: int = 0  # offset 16: MR on a BNO086, reserved (0) otherwise
    reserved: int = 0  # offset 17: reserved, 0

    # SI values (README §5).
    @property
    def yaw_rad(self) -> float:
        return radians_from_cdeg(self.yaw_cdeg)

    @property
    def pitch_rad(self) -> float:
        return radians_from_cdeg(self.pitch_cdeg)

    @property
    def roll_rad(self) -> float:
        return radians_from_cdeg(self.roll_cdeg)

    @property
    def accel_x_m_s2(self) -> float:
        return m_s2_from_mg(self.accel_x_mg)

    @property
    def accel_y_m_s2(self) -> float:
        return m_s2_from_mg(self.accel_y_mg)

    @property
    def accel_z_m_s2(self) -> float:
        return m_s2_from_mg(self.accel_z_mg)

    def within_documented_ranges(self) -> bool:
        """Yaw and roll within +/-180 degrees, pitch within +/-90 degrees (README §4)."""
        return (abs(self.yaw_cdeg) <= YAW_ROLL_LIMIT_CDEG and abs(self.roll_cdeg) <= YAW_ROLL_LIMIT_CDEG
                and abs(self.pitch_cdeg) <= PITCH_LIMIT_CDEG)


# --- Units (README §5, §6) -------------------------------------------------------------------------

def radians_from_cdeg(counts: int) -> float:
    """0.01 degree -> rad: counts * 0.01 * pi / 180, in that order (the Swift codec computes the same)."""
    return counts * 0.01 * (math.pi / 180.0)


def m_s2_from_mg(counts: int) -> float:
    """milli-g -> m/s^2: counts * 0.001 * 9.80665."""
    return counts * 0.001 * STANDARD_GRAVITY


def round_half_away(value: float) -> float:
    """Nearest integer, halves away from zero (Swift's `rounded()`, not Python's round-half-even)."""
    magnitude = abs(value)
    floor = math.floor(magnitude)
    result = floor + 1.0 if magnitude - floor >= 0.5 else floor
    return math.copysign(result, value)


def saturate16(value: float) -> int:
    """Rounded value clamped to int16; a non-finite value (NaN, +/-inf) becomes 0 (README §6)."""
    if not math.isfinite(value):
        return 0
    rounded = round_half_away(value)
    return int(min(max(rounded, INT16_MIN), INT16_MAX))


def cdeg_wrapped_from_rad(radians: float) -> int:
    """Yaw and roll: rad -> 0.01 degree, wrapped into [-180, +180] degrees, then rounded (README §6)."""
    if not math.isfinite(radians):
        return 0
    centidegrees = radians * (180.0 / math.pi) * 100.0
    if not math.isfinite(centidegrees):
        return 0
    # IEEE remainder: the result is in [-18000, +18000], exactly.
    return saturate16(math.remainder(centidegrees, 36000.0))


def cdeg_pitch_from_rad(radians: float) -> int:
    """Pitch: rad -> 0.01 degree, rounded, clamped to [-90, +90] degrees (README §6)."""
    if not math.isfinite(radians):
        return 0
    centidegrees = radians * (180.0 / math.pi) * 100.0
    return max(-PITCH_LIMIT_CDEG, min(PITCH_LIMIT_CDEG, saturate16(centidegrees)))


def mg_from_m_s2(value: float) -> int:
    """m/s^2 -> milli-g: rounded to the nearest, clamped to int16; non-finite -> 0 (README §6)."""
    if not math.isfinite(value):
        return 0
    return saturate16(value / STANDARD_GRAVITY * 1000.0)


def frame_from_si(index, yaw_rad, pitch_rad, roll_rad, ax, ay, az, motion_intent=0, motion_request=0) -> Frame:
    """The frame a sensor in this state sends (README §6): what the simulator encodes."""
    return Frame(index & 0xFF, cdeg_wrapped_from_rad(yaw_rad), cdeg_pitch_from_rad(pitch_rad),
                 cdeg_wrapped_from_rad(roll_rad), mg_from_m_s2(ax), mg_from_m_s2(ay), mg_from_m_s2(az),
                 motion_intent & 0xFF, motion_request & 0xFF, 0)


# --- Frame <-> bytes (README §3) -------------------------------------------------------------------

def checksum(frame_bytes: bytes) -> int:
    """Sum of the bytes at offsets 2 ... 17, modulo 256."""
    return sum(frame_bytes[CHECKSUM_FIRST:CHECKSUM_LAST + 1]) & 0xFF


def encode(frame: Frame) -> bytes:
    """The 19 bytes of `frame`: header, fields little-endian, checksum."""
    for name in ("yaw_cdeg", "pitch_cdeg", "roll_cdeg", "accel_x_mg", "accel_y_mg", "accel_z_mg"):
        value = getattr(frame, name)
        if not INT16_MIN <= value <= INT16_MAX:
            raise ValueError(f"{name} = {value} does not fit int16")
    for name in ("index", "motion_intent", "motion_request", "reserved"):
        if not 0 <= getattr(frame, name) <= 255:
            raise ValueError(f"{name} does not fit a byte")
    body = _LAYOUT.pack(frame.index, frame.yaw_cdeg, frame.pitch_cdeg, frame.roll_cdeg, frame.accel_x_mg,
                        frame.accel_y_mg, frame.accel_z_mg, frame.motion_intent, frame.motion_request,
                        frame.reserved, 0)[:-1]
    wire = bytes([HEADER, HEADER]) + body
    return wire + bytes([checksum(wire + b"\x00")])


def parse(frame_bytes: bytes) -> Frame:
    """The fields of 19 bytes whose header and checksum were checked."""
    (index, yaw, pitch, roll, ax, ay, az, mi, mr, reserved, _csum) = _LAYOUT.unpack_from(frame_bytes, 2)
    return Frame(index, yaw, pitch, roll, ax, ay, az, mi, mr, reserved)


# --- The receiver (README §7) ----------------------------------------------------------------------

class Decoder:
    """README §7: a window of at most 19 bytes that always starts like a frame."""

    def __init__(self):
        self.window = bytearray()
        self.bytes_received = 0
        self.frames_decoded = 0
        self.checksum_errors = 0
        self.discarded_bytes = 0

    def statistics(self) -> dict:
        return {"bytes_received": self.bytes_received, "frames_decoded": self.frames_decoded,
                "checksum_errors": self.checksum_errors, "discarded_bytes": self.discarded_bytes,
                "buffered_bytes": len(self.window)}

    def _drop_oldest(self):
        del self.window[0]
        self.discarded_bytes += 1

    def _hunt(self):
        # Step 2: keep the window empty, [AA], or starting with AA AA.
        while self.window:
            if self.window[0] != HEADER:
                self._drop_oldest()
            elif len(self.window) >= 2 and self.window[1] != HEADER:
                self._drop_oldest()
            else:
                break

    def push(self, byte: int):
        """One byte in; the frame it completes, or None."""
        self.bytes_received += 1
        self.window.append(byte)
        self._hunt()
        if len(self.window) < FRAME_BYTES:
            return None
        if checksum(self.window) == self.window[CHECKSUM_OFFSET]:
            frame = parse(bytes(self.window))
            self.window.clear()
            self.frames_decoded += 1
            return frame
        # Step 4: a checksum error gives up only the first header byte; a frame may start inside.
        self.checksum_errors += 1
        self._drop_oldest()
        self._hunt()
        return None

    def feed(self, data: bytes):
        """Every frame in `data`, with the offset of the byte that completed it."""
        out = []
        start = self.bytes_received
        for offset, byte in enumerate(data):
            frame = self.push(byte)
            if frame is not None:
                out.append((start + offset, frame))
        return out


def decode_one(data: bytes) -> Frame:
    """The single frame in `data` (raises otherwise): for doctests and quick checks."""
    frames = Decoder().feed(data)
    if len(frames) != 1:
        raise ValueError(f"{len(frames)} frames")
    return frames[0][1]


def frames_advanced(previous: int, current: int) -> int:
    """README §8: how far the index moved, modulo 256 (0: a repeated index; 1: the next frame)."""
    return (current - previous) & 0xFF


if __name__ == "__main__":
    import doctest

    doctest.testmod(verbose=False)
    print("rvc.py: doctests passed")
