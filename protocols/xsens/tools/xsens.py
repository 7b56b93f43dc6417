#!/usr/bin/env python3
"""Xsens Xbus / MTData2 reference implementation in Python, written from protocols/xsens/README.md.

Independent of the Swift codec (Sources/Wire/Xsens) on purpose: tools/make_vectors.py uses it to write
the test vectors that the Swift codec, the driver and the simulator are checked against. Standard
library only. "README §n" names a section of protocols/xsens/README.md.
"""
import math
import struct

PREAMBLE = 0xFA                 # README §2.1
MASTER_BID = 0xFF               # README §2.1: every MTi message carries BID 0xFF
EXTENDED_LENGTH_CODE = 0xFF     # README §2.2: LEN = 0xFF announces two EXT LEN bytes
MAX_STANDARD_PAYLOAD = 254      # README §2.2
MIN_EXTENDED_PAYLOAD = 255      # README §2.2
MAX_PAYLOAD = 2048              # README §2.2: the largest DATA field this host encodes or accepts
MAX_FRAME = MAX_PAYLOAD + 7     # PRE BID MID 0xFF EXTH EXTL DATA CS

# README §3: the messages RehabHost sends or accepts. name -> MID.
MESSAGES = {
    "req_did": 0x00, "device_id": 0x01,
    "go_to_measurement": 0x10, "go_to_measurement_ack": 0x11,
    "req_fw_rev": 0x12, "firmware_rev": 0x13,
    "req_product_code": 0x1C, "product_code": 0x1D,
    "go_to_config": 0x30, "go_to_config_ack": 0x31,
    "mt_data2": 0x36,
    "wake_up": 0x3E, "wake_up_ack": 0x3F,
    "error": 0x42,
    "set_output_configuration": 0xC0, "output_configuration": 0xC1,
    # README §3.8: what Xsens's MT SDK asks while opening a port, and the answers.
    "init_mt": 0x02, "init_mt_results": 0x03,
    "req_configuration": 0x0C, "configuration": 0x0D,
    "req_hardware_version": 0x1E, "hardware_version": 0x1F,
    "req_available_filter_profiles": 0x62, "available_filter_profiles": 0x63,
    "set_string_output_type": 0x8E, "string_output_type": 0x8F,
    "req_emts": 0x90, "emts_data": 0x91,
}
MESSAGE_NAMES = {v: k for k, v in MESSAGES.items()}

# README §3.7: error codes of the Error message (MID 0x42).
ERROR_CODES = {
    0x03: "invalid_period", 0x04: "invalid_message", 0x1E: "timer_overflow", 0x20: "invalid_baud_rate",
    0x21: "invalid_parameter", 0x28: "device_error",
}

# README §4.2: the data identifiers the host reads. type (id & 0xFFF0) -> name.
ITEM_TYPES = {
    0x1020: "packet_counter", 0x1060: "sample_time_fine", 0x2010: "quaternion",
    0x4020: "acceleration", 0x8020: "rate_of_turn", 0xE020: "status_word",
}
ITEM_IDS = {v: k for k, v in ITEM_TYPES.items()}
PRECISIONS = {0: "float32", 1: "fp1220", 2: "fp1632", 3: "float64"}       # README §4.1, bits 0-1
PRECISION_BITS = {v: k for k, v in PRECISIONS.items()}
VALUE_SIZE = {"float32": 4, "fp1220": 4, "fp1632": 6, "float64": 8}
COORDINATES = {0x0: "enu", 0x4: "ned", 0x8: "nwu"}                        # README §4.1, bits 2-3
COORDINATE_BITS = {v: k for k, v in COORDINATES.items()}


class EncodeError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# README §2: frames


def checksum(body: bytes) -> int:
    """The byte that makes BID + MID + LEN (+ EXT LEN) + DATA + CS == 0 (mod 256); `body` is BID..DATA."""
    return (-sum(body)) & 0xFF


def frame(mid: int, data: bytes = b"", bid: int = MASTER_BID) -> bytes:
    """One Xbus message. Standard length up to 254 data bytes, extended length from 255 (README §2.2)."""
    data = bytes(data)
    if len(data) > MAX_PAYLOAD:
        raise EncodeError("payload of %d bytes exceeds %d" % (len(data), MAX_PAYLOAD))
    if len(data) <= MAX_STANDARD_PAYLOAD:
        body = bytes([bid, mid, len(data)]) + data
    else:
        body = bytes([bid, mid, EXTENDED_LENGTH_CODE, len(data) >> 8, len(data) & 0xFF]) + data
    return bytes([PREAMBLE]) + body + bytes([checksum(body)])


def message(name: str, data: bytes = b"") -> bytes:
    return frame(MESSAGES[name], data)


# ---------------------------------------------------------------------------------------------
# README §3: payloads


def output_configuration_payload(entries) -> bytes:
    """SetOutputConfiguration / its ack: N × (data identifier u16 BE, output frequency u16 BE)."""
    return b"".join(struct.pack(">HH", did, freq) for did, freq in entries)


def firmware_rev_payload(major, minor, revision, build=None, svn=None) -> bytes:
    p = bytes([major, minor, revision])
    if build is not None:
        p += struct.pack(">II", build, svn)
    return p


class Rejected(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _need(cond, reason="bad_length"):
    if not cond:
        raise Rejected(reason)


def message_fields(mid: int, data: bytes) -> dict:
    """README §3 / §7 step 7: the decoded fields of a known message, or Rejected."""
    name = MESSAGE_NAMES.get(mid)
    if name is None:
        raise Rejected("unknown_message_id")
    n = len(data)
    if name in ("req_did", "go_to_measurement", "go_to_measurement_ack", "req_fw_rev", "req_product_code",
                "go_to_config", "go_to_config_ack", "wake_up", "wake_up_ack",
                "init_mt", "req_hardware_version", "req_available_filter_profiles"):
        _need(n == 0)
        return {}
    if name == "req_configuration":
        # README §3.8: any data, ignored (the MT SDK sends its ReqEMTS's two bytes along).
        return {"ignored_hex": data.hex()} if n else {}
    if name == "configuration":
        _need(n >= 118 and (n - 98) % 20 == 0 and n == 98 + 20 * struct.unpack(">H", data[96:98])[0])
        devices = []
        for k in range(98, n, 20):
            d = data[k:k + 20]
            devices.append({"device_id_hex": "%08X" % struct.unpack(">I", d[0:4])[0],
                            "filter_profile": struct.unpack(">H", d[12:14])[0],
                            "firmware": "%d.%d.%d" % (d[14], d[15], d[16]),
                            "filter_type": chr(d[17]) if 0x20 <= d[17] < 0x7F else d[17],
                            "filter_version": "%d.%d" % (d[18], d[19])})
        return {"master_device_id_hex": "%08X" % struct.unpack(">I", data[0:4])[0],
                "sample_period": struct.unpack(">H", data[4:6])[0],
                "output_skip_factor": struct.unpack(">H", data[6:8])[0], "devices": devices}
    if name == "hardware_version":
        _need(n == 2)
        return {"major": data[0], "minor": data[1]}
    if name == "available_filter_profiles":
        _need(n % 22 == 0)
        return {"profiles": [{"type": data[k], "version": data[k + 1],
                              "label": data[k + 2:k + 22].split(b"\x00", 1)[0].decode("ascii", "replace")}
                             for k in range(0, n, 22)]}
    if name in ("set_string_output_type", "string_output_type"):
        _need(n in (0, 2))
        return {"type": struct.unpack(">H", data)[0]} if n == 2 else {}
    if name == "req_emts":
        _need(n == 2)
        return {"bank": data[0], "page": data[1]}
    if name == "emts_data":
        return {"length": n}
    if name == "init_mt_results":
        _need(n in (4, 8))
        value = int.from_bytes(data, "big")
        return {"device_id": value, "device_id_hex": "%0*X" % (2 * n, value)}
    if name == "device_id":
        _need(n in (4, 8))
        value = int.from_bytes(data, "big")
        return {"device_id": value, "device_id_hex": "%0*X" % (2 * n, value)}
    if name == "product_code":
        _need(1 <= n <= 20)
        _need(all(0x20 <= b < 0x7F or b == 0 for b in data), "invalid_field")
        return {"product_code": data.split(b"\x00", 1)[0].decode("ascii").rstrip(" ")}
    if name == "firmware_rev":
        _need(n in (3, 11))
        f = {"major": data[0], "minor": data[1], "revision": data[2]}
        if n == 11:
            f["build"], f["svn_revision"] = struct.unpack(">II", data[3:11])
        return f
    if name in ("set_output_configuration", "output_configuration"):
        _need(n % 4 == 0 and n <= 4 * 32)
        entries = []
        for k in range(0, n, 4):
            did, freq = struct.unpack(">HH", data[k:k + 4])
            entries.append({"data_id": did, "data_id_hex": "0x%04X" % did, "frequency_hz": freq})
        return {"entries": entries}
    if name == "error":
        _need(n >= 1)
        f = {"error_code": data[0], "error_name": ERROR_CODES.get(data[0], "unknown")}
        if n > 1:
            f["extra_hex"] = data[1:].hex()
        return f
    if name == "mt_data2":
        return mtdata2_fields(data)
    raise AssertionError(name)


# ---------------------------------------------------------------------------------------------
# README §4: MTData2


def read_value(precision: str, raw: bytes) -> float:
    """One value of a float item (README §4.1), exactly as a double."""
    if precision == "float32":
        return struct.unpack(">f", raw)[0]
    if precision == "float64":
        return struct.unpack(">d", raw)[0]
    if precision == "fp1220":
        return struct.unpack(">i", raw)[0] / float(1 << 20)
    # fp1632: 4 bytes fraction (the low 32 bits), then 2 bytes integer part, each big-endian;
    # together a signed 48-bit integer scaled by 2^32.
    frac = struct.unpack(">I", raw[0:4])[0]
    whole = struct.unpack(">h", raw[4:6])[0]
    return (whole * (1 << 32) + frac) / float(1 << 32)


def round_half_away(x: float) -> int:
    """README §4.1: fixed point rounds to the nearest integer, halves away from zero (exactly, for any double)."""
    a = abs(x)
    f = math.floor(a)
    r = f + 1 if a - f >= 0.5 else f
    return int(math.copysign(r, x)) if r else 0


def to_fixed(value: float, scale: int, bits: int) -> int:
    """README §4.1: value × 2^scale rounded, saturated to a signed `bits`-bit integer."""
    hi = (1 << (bits - 1)) - 1
    lo = -(1 << (bits - 1))
    scaled = value * float(1 << scale)
    if scaled >= hi:
        return hi
    if scaled <= lo:
        return lo
    return max(lo, min(hi, round_half_away(scaled)))


def write_value(precision: str, value: float) -> bytes:
    """One value of a float item (README §4.1); a non-finite value is sent as 0, a value out of range saturates."""
    if not math.isfinite(value):
        value = 0.0
    if precision == "float32":
        largest = 3.4028234663852886e38
        return struct.pack(">f", max(-largest, min(largest, value)))
    if precision == "float64":
        return struct.pack(">d", value)
    if precision == "fp1220":
        return struct.pack(">i", to_fixed(value, 20, 32))
    fixed = to_fixed(value, 32, 48)
    return struct.pack(">Ih", fixed & 0xFFFFFFFF, fixed >> 32)


def split_items(data: bytes):
    """README §4: (data id, size, data) triples in order, and whether the last item was truncated."""
    items = []
    k = 0
    while k < len(data):
        if len(data) - k < 3:
            return items, True
        did = (data[k] << 8) | data[k + 1]
        size = data[k + 2]
        if len(data) - k - 3 < size:
            return items, True
        items.append((did, size, data[k + 3:k + 3 + size]))
        k += 3 + size
    return items, False


def sample_of(data: bytes) -> dict:
    """README §4.3: the MTData2Sample of a payload. Absent items are None; the last of a repeated item wins."""
    items, truncated = split_items(data)
    s = {"packet_counter": None, "sample_time_fine": None, "quaternion": None,
         "acceleration_m_s2": None, "rate_of_turn_rad_s": None, "status_word": None,
         "unused_items": 0, "malformed_items": 0, "truncated": truncated}
    for did, size, raw in items:
        kind = ITEM_TYPES.get(did & 0xFFF0)
        if kind is None:
            s["unused_items"] += 1
            continue
        if kind in ("packet_counter", "sample_time_fine", "status_word"):
            want = 2 if kind == "packet_counter" else 4
            if size != want:
                s["malformed_items"] += 1
                continue
            s[kind] = int.from_bytes(raw, "big")
            continue
        precision = PRECISIONS[did & 0x3]
        width = VALUE_SIZE[precision]
        count = 4 if kind == "quaternion" else 3
        if size != count * width:
            s["malformed_items"] += 1
            continue
        values = [read_value(precision, raw[i * width:(i + 1) * width]) for i in range(count)]
        if kind == "quaternion":
            coordinates = COORDINATES.get(did & 0xC)
            if coordinates is None:
                s["malformed_items"] += 1      # 0xC: no coordinate system (README §4.1)
                continue
            s["quaternion"] = {"w": values[0], "x": values[1], "y": values[2], "z": values[3],
                               "coordinate_system": coordinates, "precision": precision}
        else:
            key = "acceleration_m_s2" if kind == "acceleration" else "rate_of_turn_rad_s"
            s[key] = {"x": values[0], "y": values[1], "z": values[2], "precision": precision}
    return s


def mtdata2_fields(data: bytes) -> dict:
    items, _ = split_items(data)
    return {
        "items": [{"data_id": "0x%04X" % did, "size": size, "data_hex": raw.hex()} for did, size, raw in items],
        "sample": sample_of(data),
    }


def mtdata2_payload(sample: dict, precision="float32", coordinates="enu") -> bytes:
    """README §4.4: the items of a sample in RehabHost's order, absent items left out."""
    p = PRECISION_BITS[precision]
    out = b""
    if sample.get("packet_counter") is not None:
        out += struct.pack(">HB", ITEM_IDS["packet_counter"], 2) + struct.pack(">H", sample["packet_counter"])
    if sample.get("sample_time_fine") is not None:
        out += struct.pack(">HB", ITEM_IDS["sample_time_fine"], 4) + struct.pack(">I", sample["sample_time_fine"])
    q = sample.get("quaternion")
    if q is not None:
        did = ITEM_IDS["quaternion"] | COORDINATE_BITS[coordinates] | p
        out += struct.pack(">HB", did, 4 * VALUE_SIZE[precision])
        out += b"".join(write_value(precision, q[c]) for c in "wxyz")
    for key, kind in (("acceleration_m_s2", "acceleration"), ("rate_of_turn_rad_s", "rate_of_turn")):
        v = sample.get(key)
        if v is not None:
            out += struct.pack(">HB", ITEM_IDS[kind] | p, 3 * VALUE_SIZE[precision])
            out += b"".join(write_value(precision, v[c]) for c in "xyz")
    if sample.get("status_word") is not None:
        out += struct.pack(">HB", ITEM_IDS["status_word"], 4) + struct.pack(">I", sample["status_word"])
    return out


# ---------------------------------------------------------------------------------------------
# README §7: the receiver


class Receiver:
    """The receiver of README §7, byte by byte, with its counters."""

    def __init__(self):
        self.buf = bytearray()
        self.results = []
        self.stats = {"bytes_received": 0, "frames_decoded": 0, "checksum_errors": 0, "oversize_frames": 0,
                      "malformed_frames": 0, "rejected_frames": 0, "discarded_bytes": 0}

    def push(self, data: bytes):
        for b in data:
            self.stats["bytes_received"] += 1
            self.buf.append(b)
            self._scan()

    def _skip(self):
        del self.buf[0]
        self.stats["discarded_bytes"] += 1

    def _scan(self):
        while self.buf:
            if self.buf[0] != PREAMBLE:                              # step 1
                self._skip()
                continue
            if len(self.buf) < 2:
                return
            if self.buf[1] != MASTER_BID:                            # step 2
                self._skip()
                continue
            if len(self.buf) < 4:
                return
            length = self.buf[3]
            header = 4
            if length == EXTENDED_LENGTH_CODE:                       # step 3
                if len(self.buf) < 6:
                    return
                length = (self.buf[4] << 8) | self.buf[5]
                header = 6
                if length > MAX_PAYLOAD:
                    self.stats["oversize_frames"] += 1
                    self._skip()
                    continue
                if length < MIN_EXTENDED_PAYLOAD:
                    self.stats["malformed_frames"] += 1
                    self._skip()
                    continue
            total = header + length + 1
            if len(self.buf) < total:                                # step 4
                return
            if sum(self.buf[1:total]) & 0xFF != 0:                   # step 5
                self.stats["checksum_errors"] += 1
                self._skip()
                continue
            mid = self.buf[2]
            data = bytes(self.buf[header:header + length])
            wire = bytes(self.buf[:total])
            del self.buf[:total]
            try:                                                     # steps 6-7
                fields = message_fields(mid, data)
            except Rejected as r:
                self.stats["rejected_frames"] += 1
                self.stats["discarded_bytes"] += total
                self.results.append({"rejected": {"reason": r.reason, "mid": mid, "length": length}})
                continue
            self.stats["frames_decoded"] += 1
            self.results.append({"packet": packet_entry(mid, data, wire, header == 6, fields)})

    def flush(self):
        """README §7 step 8: give up what is still incomplete, searching the rest again."""
        while self.buf:
            if len(self.buf) >= 2 and self.buf[0] == PREAMBLE and self.buf[1] == MASTER_BID:
                self.stats["malformed_frames"] += 1
            self._skip()
            self._scan()


def packet_entry(mid, data, wire, extended, fields):
    return {"mid": mid, "name": MESSAGE_NAMES[mid], "length": len(data), "extended_length": extended,
            "checksum": "0x%02X" % wire[-1], "payload_hex": data.hex(), "fields": fields}


def receive(data: bytes):
    r = Receiver()
    r.push(data)
    r.flush()
    return r.results, r.stats
