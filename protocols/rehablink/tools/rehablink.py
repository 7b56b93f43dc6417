#!/usr/bin/env python3
"""RehabLink v1.1 reference implementation in Python, written from protocols/rehablink/README.md.

Independent of the Swift code on purpose: it generates the test vectors the Swift host and
simulator are checked against, so a misreading of the spec shows up as a disagreement.
Standard library only.
"""
import struct

VERSION = 1
MAX_JOINTS = 8
MAX_ENCODED = 255

TYPES = {
    "identify": 0x01, "enable": 0x02, "disable": 0x03, "command": 0x04, "heartbeat": 0x05,
    "param_get": 0x06, "param_set": 0x07, "fault_reset": 0x08,
    "identity": 0x81, "ack": 0x82, "state": 0x83, "fault": 0x84, "param": 0x85, "error": 0x8F,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
MODES = {"off": 0, "position": 1, "velocity": 2, "torque": 3, "impedance": 4}
MODE_NAMES = {v: k for k, v in MODES.items()}
ACK_RESULTS = {"ok": 0, "refused_estop": 1, "refused_fault": 2, "refused_watchdog_period": 3, "refused_state": 4}
ACK_RESULT_NAMES = {v: k for k, v in ACK_RESULTS.items()}
PARAM_RESULTS = {"ok": 0, "unknown_parameter": 1, "read_only": 2, "out_of_range": 3, "not_while_enabled": 4}
PARAM_RESULT_NAMES = {v: k for k, v in PARAM_RESULTS.items()}
ERRORS = {"unknown_type": 1, "unsupported_version": 2, "bad_length": 3, "out_of_range": 4,
          "not_enabled": 5, "joint_count_mismatch": 6, "invalid_field": 7}
ERROR_NAMES = {v: k for k, v in ERRORS.items()}
# Status bits 0-5 (1.0) and 6 patient_stop, 7 patient_pause (1.1); 8-15 reserved.
STATUS_DEFINED = 0x00FF
STATUS_BITS = {"enabled": 0x01, "torque_on": 0x02, "watchdog_expired": 0x04, "estop": 0x08, "fault": 0x10,
               "brake_engaged": 0x20, "patient_stop": 0x40, "patient_pause": 0x80}
# Parameter ids (section 5.6). The SR-24 limits of 1.1 are per joint: id = base + joint index (0-7).
PARAMS = {"watchdog_period_us": 0x0001, "reply_budget_us": 0x0002, "protocol_minor": 0x0003,
          "position_stiffness": 0x0010, "position_damping": 0x0011, "velocity_gain": 0x0012,
          "temperature_limit": 0x0020, "crc_error_count": 0x0030, "rejected_command_count": 0x0031}
JOINT_PARAM_BASES = {"soft_limit_min_urad": 0x0040, "soft_limit_max_urad": 0x0048, "torque_cap_positive_mnm": 0x0050,
                     "torque_cap_negative_mnm": 0x0058, "velocity_trip_urad_s": 0x0060}


def joint_param(name: str, joint: int) -> int:
    """The id of a per-joint SR-24 limit parameter (1.1)."""
    if not 0 <= joint < MAX_JOINTS:
        raise ValueError(joint)
    return JOINT_PARAM_BASES[name] + joint
JOINT_FLAGS_DEFINED = 0x1F


def crc32c(data: bytes) -> int:
    """Bitwise CRC-32C, exactly the C reference in the spec (section 2.1)."""
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
            c &= 0xFFFFFFFF
    return c ^ 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for i, b in enumerate(data):
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(0xFF)
                out += block
                block = bytearray()
                if i == len(data) - 1:
                    return bytes(out)  # full block ends the packet: no empty block after it
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            return None
        i += 1
        end = i + code - 1
        if end > len(data):
            return None
        block = data[i:end]
        if 0 in block:
            return None
        out += block
        i = end
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def ascii_field(text: str, size: int) -> bytes:
    raw = text.encode("ascii")[:size]
    return raw + bytes(size - len(raw))


def pack_payload(kind: str, f: dict) -> bytes:
    if kind in ("identify", "disable", "heartbeat", "fault_reset"):
        return b""
    if kind == "enable":
        return struct.pack("<I", f["watchdog_period_us"])
    if kind == "command":
        out = struct.pack("<BB", len(f["joints"]), 0)
        for j in f["joints"]:
            out += struct.pack("<BBiiiii", MODES[j["mode"]], 0, j["position_urad"], j["velocity_urad_s"],
                               j["torque_mnm"], j["stiffness_mnm_per_rad"], j["damping_mnms_per_rad"])
        return out
    if kind == "param_get":
        return struct.pack("<H", f["param_id"])
    if kind == "param_set":
        return struct.pack("<Hi", f["param_id"], f["value"])
    if kind == "identity":
        out = struct.pack("<BBBBBB", f["protocol_version"], len(f["joints"]), f["firmware_major"],
                          f["firmware_minor"], f["firmware_patch"], 0)
        out += ascii_field(f["model"], 24) + ascii_field(f["serial_number"], 16)
        for j in f["joints"]:
            out += struct.pack("<iiiiI", j["position_min_urad"], j["position_max_urad"], j["velocity_max_urad_s"],
                               j["torque_max_mnm"], j["encoder_counts_per_rev"])
        return out
    if kind == "ack":
        return struct.pack("<BBHi", TYPES[f["acked_type"]], ACK_RESULTS[f["result"]], f["acked_sequence"], f["value"])
    if kind == "state":
        out = struct.pack("<IHHHBB", f["device_time_us"], f["command_sequence"], f["status"], f["fault_code"],
                          len(f["joints"]), 0)
        for j in f["joints"]:
            out += struct.pack("<iiiiIhhB", j["position_urad"], j["velocity_urad_s"], j["torque_mnm"],
                               j["interaction_torque_mnm"], j["encoder_counts"], j["current_ma"],
                               j["temperature_dc"], j["flags"])
        return out
    if kind == "fault":
        return struct.pack("<HBBiI", f["fault_code"], f["joint"], 0, f["value"], f["device_time_us"])
    if kind == "param":
        return struct.pack("<HBBi", f["param_id"], PARAM_RESULTS[f["result"]], 0, f["value"])
    if kind == "error":
        return struct.pack("<BBH", ERRORS[f["error_code"]], f["offending_type"], f["offending_sequence"])
    raise ValueError(kind)


def packet(type_byte: int, sequence: int, payload: bytes, version: int = VERSION) -> bytes:
    body = struct.pack("<BBH", version, type_byte, sequence) + payload
    return body + struct.pack("<I", crc32c(body))


def frame(kind: str, sequence: int, fields: dict) -> bytes:
    return cobs_encode(packet(TYPES[kind], sequence, pack_payload(kind, fields))) + b"\x00"


def raw_frame(type_byte: int, sequence: int, payload: bytes, version: int = VERSION) -> bytes:
    return cobs_encode(packet(type_byte, sequence, payload, version)) + b"\x00"


class Invalid(Exception):
    def __init__(self, reason):
        self.reason = reason


def _fixed(payload, n):
    if len(payload) != n:
        raise Invalid("bad_length")


def _joints(payload, header, per_joint, count_offset):
    if len(payload) < header:
        raise Invalid("bad_length")
    n = payload[count_offset]
    if not 1 <= n <= MAX_JOINTS:
        raise Invalid("invalid_field")
    if len(payload) != header + n * per_joint:
        raise Invalid("bad_length")
    return n


def parse_payload(kind: str, p: bytes) -> dict:
    if kind in ("identify", "disable", "heartbeat", "fault_reset"):
        _fixed(p, 0)
        return {}
    if kind == "enable":
        _fixed(p, 4)
        return {"watchdog_period_us": struct.unpack("<I", p)[0]}
    if kind == "param_get":
        _fixed(p, 2)
        return {"param_id": struct.unpack("<H", p)[0]}
    if kind == "param_set":
        _fixed(p, 6)
        pid, value = struct.unpack("<Hi", p)
        return {"param_id": pid, "value": value}
    if kind == "command":
        n = _joints(p, 2, 22, 0)
        if p[1] != 0:
            raise Invalid("invalid_field")
        joints = []
        for j in range(n):
            mode, res, pos, vel, tau, k, d = struct.unpack_from("<BBiiiii", p, 2 + 22 * j)
            if mode not in MODE_NAMES or res != 0:
                raise Invalid("invalid_field")
            joints.append({"mode": MODE_NAMES[mode], "position_urad": pos, "velocity_urad_s": vel, "torque_mnm": tau,
                           "stiffness_mnm_per_rad": k, "damping_mnms_per_rad": d})
        return {"joints": joints}
    if kind == "identity":
        n = _joints(p, 46, 20, 1)
        version, _, major, minor, patch, res = struct.unpack_from("<BBBBBB", p, 0)
        if res != 0:
            raise Invalid("invalid_field")
        model = p[6:30].split(b"\0")[0].decode("ascii")
        serial = p[30:46].split(b"\0")[0].decode("ascii")
        joints = []
        for j in range(n):
            lo, hi, vmax, tmax, cpr = struct.unpack_from("<iiiiI", p, 46 + 20 * j)
            joints.append({"position_min_urad": lo, "position_max_urad": hi, "velocity_max_urad_s": vmax,
                           "torque_max_mnm": tmax, "encoder_counts_per_rev": cpr})
        return {"protocol_version": version, "firmware_major": major, "firmware_minor": minor,
                "firmware_patch": patch, "model": model, "serial_number": serial, "joints": joints}
    if kind == "ack":
        _fixed(p, 8)
        acked, result, seq, value = struct.unpack("<BBHi", p)
        if acked not in TYPE_NAMES or result not in ACK_RESULT_NAMES:
            raise Invalid("invalid_field")
        return {"acked_type": TYPE_NAMES[acked], "result": ACK_RESULT_NAMES[result], "acked_sequence": seq, "value": value}
    if kind == "state":
        n = _joints(p, 12, 25, 10)
        time_us, cseq, status, fault, _, res = struct.unpack_from("<IHHHBB", p, 0)
        if status & ~STATUS_DEFINED or res != 0:
            raise Invalid("invalid_field")
        joints = []
        for j in range(n):
            pos, vel, tau, itau, enc, cur, temp, flags = struct.unpack_from("<iiiiIhhB", p, 12 + 25 * j)
            if flags & ~JOINT_FLAGS_DEFINED:
                raise Invalid("invalid_field")
            joints.append({"position_urad": pos, "velocity_urad_s": vel, "torque_mnm": tau,
                           "interaction_torque_mnm": itau, "encoder_counts": enc, "current_ma": cur,
                           "temperature_dc": temp, "flags": flags})
        return {"device_time_us": time_us, "command_sequence": cseq, "status": status, "fault_code": fault,
                "joints": joints}
    if kind == "fault":
        _fixed(p, 12)
        code, joint, res, value, time_us = struct.unpack("<HBBiI", p)
        if res != 0:
            raise Invalid("invalid_field")
        return {"fault_code": code, "joint": joint, "value": value, "device_time_us": time_us}
    if kind == "param":
        _fixed(p, 8)
        pid, result, res, value = struct.unpack("<HBBi", p)
        if result not in PARAM_RESULT_NAMES or res != 0:
            raise Invalid("invalid_field")
        return {"param_id": pid, "result": PARAM_RESULT_NAMES[result], "value": value}
    if kind == "error":
        _fixed(p, 4)
        code, otype, oseq = struct.unpack("<BBH", p)
        if code not in ERROR_NAMES:
            raise Invalid("invalid_field")
        return {"error_code": ERROR_NAMES[code], "offending_type": otype, "offending_sequence": oseq}
    raise ValueError(kind)


class Receiver:
    """The receiver rules of spec section 4, with the same counters as the Swift decoder."""

    def __init__(self):
        self.buf = bytearray()
        self.discarding = False
        self.stats = {k: 0 for k in ("bytes_received", "packets_decoded", "crc_errors", "oversize_frames",
                                     "malformed_frames", "rejected_packets", "discarded_bytes")}

    def feed(self, data: bytes):
        out = []
        for b in data:
            self.stats["bytes_received"] += 1
            if b == 0:
                if self.discarding:
                    self.discarding = False
                    continue
                if not self.buf:
                    continue
                frame_bytes = bytes(self.buf)
                self.buf = bytearray()
                result = self._finish(frame_bytes)
                if result is not None:
                    out.append(result)
                continue
            if self.discarding:
                self.stats["discarded_bytes"] += 1
                continue
            if len(self.buf) == MAX_ENCODED:
                self.stats["oversize_frames"] += 1
                self.stats["discarded_bytes"] += len(self.buf) + 1
                self.buf = bytearray()
                self.discarding = True
                continue
            self.buf.append(b)
        return out

    def _finish(self, encoded: bytes):
        decoded = cobs_decode(encoded)
        if decoded is None or len(decoded) < 8:
            self.stats["malformed_frames"] += 1
            self.stats["discarded_bytes"] += len(encoded)
            return None
        body, crc = decoded[:-4], struct.unpack("<I", decoded[-4:])[0]
        if crc32c(body) != crc:
            self.stats["crc_errors"] += 1
            self.stats["discarded_bytes"] += len(encoded)
            return None
        version, type_byte, seq = struct.unpack_from("<BBH", body, 0)

        def reject(reason):
            self.stats["rejected_packets"] += 1
            self.stats["discarded_bytes"] += len(encoded)
            return {"rejected": {"reason": reason, "type": type_byte, "sequence": seq}}

        if version != VERSION:
            return reject("unsupported_version")
        if type_byte not in TYPE_NAMES:
            return reject("unknown_type")
        kind = TYPE_NAMES[type_byte]
        try:
            fields = parse_payload(kind, body[4:])
        except Invalid as e:
            return reject(e.reason)
        self.stats["packets_decoded"] += 1
        return {"packet": {"sequence": seq, "type": kind, "fields": fields}}
