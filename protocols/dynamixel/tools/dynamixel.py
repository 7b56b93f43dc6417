#!/usr/bin/env python3
"""DYNAMIXEL Protocol 2.0 reference implementation in Python, written from protocols/dynamixel/README.md.

Independent of the Swift code and of the ROBOTIS DynamixelSDK on purpose: it generates the test
vectors that the Swift codec, the driver and the simulator are checked against, and
tools/make_vectors.py cross-checks it against the SDK. Standard library only.

Sections named "README §n" are the sections of protocols/dynamixel/README.md.
"""

HEADER = bytes([0xFF, 0xFF, 0xFD, 0x00])
BROADCAST_ID = 0xFE
MAX_ID = 0xFC                  # 252: the highest ID a device may have (README §2.2)
MAX_PACKET_BYTES = 1024        # the largest packet, header to CRC, RehabHost encodes or accepts (README §4.1)
MAX_LENGTH = MAX_PACKET_BYTES - 7   # 1017: the largest Length field
MIN_INSTRUCTION_LENGTH = 3     # Instruction + CRC
MIN_STATUS_LENGTH = 4          # Instruction + Error + CRC

INSTRUCTIONS = {
    "ping": 0x01, "read": 0x02, "write": 0x03, "reg_write": 0x04, "action": 0x05,
    "factory_reset": 0x06, "reboot": 0x08, "clear": 0x10, "control_table_backup": 0x20,
    "status": 0x55, "sync_read": 0x82, "sync_write": 0x83, "fast_sync_read": 0x8A,
    "bulk_read": 0x92, "bulk_write": 0x93, "fast_bulk_read": 0x9A,
}
INSTRUCTION_NAMES = {v: k for k, v in INSTRUCTIONS.items()}
BROADCAST_ONLY = {"sync_read", "sync_write", "fast_sync_read", "bulk_read", "bulk_write", "fast_bulk_read"}

ERROR_NUMBERS = {
    0: "none", 1: "result_fail", 2: "instruction_error", 3: "crc_error", 4: "data_range_error",
    5: "data_length_error", 6: "data_limit_error", 7: "access_error",
}
ERROR_BYTES = {v: k for k, v in ERROR_NUMBERS.items()}
ALERT = 0x80

FACTORY_RESET_OPTIONS = {0xFF: "reset_all", 0x01: "reset_all_except_id", 0x02: "reset_all_except_id_and_baud_rate"}
CLEAR_OPTIONS = {0x01: "multi_turn"}
CLEAR_FIXED = bytes([0x44, 0x58, 0x4C, 0x22])
BACKUP_OPTIONS = {0x01: "store", 0x02: "restore"}
BACKUP_FIXED = bytes([0x43, 0x54, 0x52, 0x4C])      # "CTRL"

# Hardware Error Status(70) bits of the X series (README §6.4).
HARDWARE_ERROR_BITS = {
    0x01: "input_voltage", 0x04: "overheating", 0x08: "motor_encoder",
    0x10: "electrical_shock", 0x20: "overload",
}

# XM430-W350 control table items a host uses (README §6.2): name -> (address, size, signed).
CONTROL_TABLE = {
    "model_number": (0, 2, False), "model_information": (2, 4, False), "firmware_version": (6, 1, False),
    "id": (7, 1, False), "baud_rate": (8, 1, False), "return_delay_time": (9, 1, False),
    "drive_mode": (10, 1, False), "operating_mode": (11, 1, False), "secondary_id": (12, 1, False),
    "protocol_type": (13, 1, False), "homing_offset": (20, 4, True), "moving_threshold": (24, 4, False),
    "temperature_limit": (31, 1, False), "max_voltage_limit": (32, 2, False), "min_voltage_limit": (34, 2, False),
    "pwm_limit": (36, 2, False), "current_limit": (38, 2, False), "velocity_limit": (44, 4, False),
    "max_position_limit": (48, 4, False), "min_position_limit": (52, 4, False), "shutdown": (63, 1, False),
    "torque_enable": (64, 1, False), "led": (65, 1, False), "status_return_level": (68, 1, False),
    "registered_instruction": (69, 1, False), "hardware_error_status": (70, 1, False),
    "velocity_i_gain": (76, 2, False), "velocity_p_gain": (78, 2, False), "position_d_gain": (80, 2, False),
    "position_i_gain": (82, 2, False), "position_p_gain": (84, 2, False), "feedforward_2nd_gain": (88, 2, False),
    "feedforward_1st_gain": (90, 2, False), "bus_watchdog": (98, 1, True), "goal_pwm": (100, 2, True),
    "goal_current": (102, 2, True), "goal_velocity": (104, 4, True), "profile_acceleration": (108, 4, False),
    "profile_velocity": (112, 4, False), "goal_position": (116, 4, True), "realtime_tick": (120, 2, False),
    "moving": (122, 1, False), "moving_status": (123, 1, False), "present_pwm": (124, 2, True),
    "present_current": (126, 2, True), "present_velocity": (128, 4, True), "present_position": (132, 4, True),
    "velocity_trajectory": (136, 4, True), "position_trajectory": (140, 4, True),
    "present_input_voltage": (144, 2, False), "present_temperature": (146, 1, False),
}
for _k in range(28):
    CONTROL_TABLE["indirect_address_%d" % (_k + 1)] = (168 + 2 * _k, 2, False)
    CONTROL_TABLE["indirect_data_%d" % (_k + 1)] = (224 + _k, 1, False)

# The record RehabHost reads every cycle through Indirect Data 1..11 (README §7.2).
CYCLE_RECORD = [("present_current", 2, True), ("present_velocity", 4, True), ("present_position", 4, True),
                ("hardware_error_status", 1, False)]
CYCLE_RECORD_SOURCES = [126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 70]
CYCLE_RECORD_ADDRESS = 224
CYCLE_RECORD_LENGTH = 11

# The records RehabHost's driver (DynamixelServoChain) uses, README §7.2: a 14-byte read record through
# Indirect Data 1..14 and a 6-byte write record through Indirect Data 15..20 (Indirect Address 1..20).
DRIVER_READ_RECORD = [("present_current", 2, True), ("present_velocity", 4, True), ("present_position", 4, True),
                      ("hardware_error_status", 1, False), ("torque_enable", 1, False), ("bus_watchdog", 1, False),
                      ("present_temperature", 1, False)]
DRIVER_READ_SOURCES = [126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 70, 64, 98, 146]
DRIVER_WRITE_SOURCES = [102, 103, 116, 117, 118, 119]
DRIVER_READ_ADDRESS = 224
DRIVER_READ_LENGTH = 14
DRIVER_WRITE_ADDRESS = 238
DRIVER_WRITE_LENGTH = 6


class EncodeError(ValueError):
    pass


# ---------------------------------------------------------------- CRC (README §3)

def crc16(data, crc=0):
    """CRC-16 of the e-Manual: poly 0x8005, init 0, MSB first, no reflection, no final XOR."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


# ---------------------------------------------------------------- byte stuffing (README §4.3)

def stuff(body: bytes) -> bytes:
    """Insert 0xFD after every FF FF FD in the Instruction..Parameter bytes."""
    out = bytearray()
    for b in body:
        out.append(b)
        if b == 0xFD and len(out) >= 3 and out[-3] == 0xFF and out[-2] == 0xFF:
            # out[-3], out[-2] are never a stuffed 0xFD, so matching on the output equals
            # matching on the input.
            out.append(0xFD)
    return bytes(out)


def unstuff(body: bytes) -> bytes:
    """Drop every 0xFD that directly follows FF FF FD in the received Instruction..Parameter bytes."""
    out = bytearray()
    i = 0
    while i < len(body):
        out.append(body[i])
        if body[i] == 0xFD and i >= 2 and body[i - 2] == 0xFF and body[i - 1] == 0xFF \
                and i + 1 < len(body) and body[i + 1] == 0xFD:
            i += 2          # skip the stuffing byte
            continue
        i += 1
    return bytes(out)


def stuffing_count(body: bytes) -> int:
    return len(stuff(body)) - len(body)


# ---------------------------------------------------------------- encoding (README §2, §5)

def frame(packet_id: int, body: bytes, stuffed: bool = True) -> bytes:
    """Header, ID, Length, body (stuffed unless told otherwise), CRC."""
    wire_body = stuff(body) if stuffed else bytes(body)
    length = len(wire_body) + 2
    if length > MAX_LENGTH:
        raise EncodeError("Length %d exceeds %d" % (length, MAX_LENGTH))
    head = HEADER + bytes([packet_id, length & 0xFF, length >> 8])
    crc = crc16(head + wire_body)
    return head + wire_body + bytes([crc & 0xFF, crc >> 8])


def instruction(packet_id: int, name: str, params: bytes = b"", stuffed: bool = True) -> bytes:
    return frame(packet_id, bytes([INSTRUCTIONS[name]]) + bytes(params), stuffed)


def status(packet_id: int, error: int, params: bytes = b"") -> bytes:
    return frame(packet_id, bytes([INSTRUCTIONS["status"], error]) + bytes(params))


def fast_status(slots) -> bytes:
    """The one Status Packet a Fast Sync/Bulk Read answers with (README §5.14): ID 0xFE, not stuffed.

    slots: [(error, id, data)]. Each slot but the last ends with the CRC of every byte before it,
    counted from the header; the last slot's CRC is the packet CRC."""
    length = 1 + sum(1 + 1 + len(d) + 2 for (_, _, d) in slots)
    if length > MAX_LENGTH:
        raise EncodeError("Length %d exceeds %d" % (length, MAX_LENGTH))
    out = bytearray(HEADER + bytes([BROADCAST_ID, length & 0xFF, length >> 8, INSTRUCTIONS["status"]]))
    for (error, dxl_id, data) in slots:
        out += bytes([error, dxl_id]) + bytes(data)
        c = crc16(out)
        out += bytes([c & 0xFF, c >> 8])
    return bytes(out)


def u16(v):
    return bytes([v & 0xFF, (v >> 8) & 0xFF])


def le(value: int, size: int) -> bytes:
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def item_bytes(name: str, value: int) -> bytes:
    _, size, _ = CONTROL_TABLE[name]
    return le(value, size)


def params_read(address, length):
    return u16(address) + u16(length)


def params_write(address, data):
    return u16(address) + bytes(data)


def params_sync_read(address, length, ids):
    return u16(address) + u16(length) + bytes(ids)


def params_sync_write(address, length, entries):
    out = u16(address) + u16(length)
    for (dxl_id, data) in entries:
        if len(data) != length:
            raise EncodeError("sync write data length")
        out += bytes([dxl_id]) + bytes(data)
    return out


def params_bulk_read(entries):
    out = b""
    for (dxl_id, address, length) in entries:
        out += bytes([dxl_id]) + u16(address) + u16(length)
    return out


def params_bulk_write(entries):
    out = b""
    for (dxl_id, address, data) in entries:
        out += bytes([dxl_id]) + u16(address) + u16(len(data)) + bytes(data)
    return out


# ---------------------------------------------------------------- decoding (README §5, §8)

class Rejected(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def signed(value, size):
    bits = 8 * size
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def decode_items(address: int, data: bytes) -> dict:
    """Every XM430-W350 control-table item that lies wholly inside [address, address + len(data))."""
    out = {}
    for name, (a, size, is_signed) in sorted(CONTROL_TABLE.items(), key=lambda kv: (kv[1][0], kv[0])):
        if a >= address and a + size <= address + len(data):
            raw = int.from_bytes(data[a - address:a - address + size], "little")
            out[name] = signed(raw, size) if is_signed else raw
    return out


def decode_record(layout, data: bytes) -> dict:
    out = {}
    at = 0
    for (name, size, is_signed) in layout:
        raw = int.from_bytes(data[at:at + size], "little")
        out[name] = signed(raw, size) if is_signed else raw
        at += size
    return out


def error_fields(error: int) -> dict:
    number = error & 0x7F
    return {"alert": bool(error & ALERT), "error_number": number,
            "error_name": ERROR_NUMBERS.get(number, "undefined")}


def hardware_error_fields(value: int) -> list:
    return [name for bit, name in sorted(HARDWARE_ERROR_BITS.items()) if value & bit]


def _need(cond, reason):
    if not cond:
        raise Rejected(reason)


def decode_instruction_fields(packet_id: int, name: str, p: bytes) -> dict:
    n = len(p)
    if name in BROADCAST_ONLY:
        _need(packet_id == BROADCAST_ID, "invalid_field")
    if name in ("ping", "action", "reboot"):
        _need(n == 0, "bad_length")
        return {}
    if name == "read":
        _need(n == 4, "bad_length")
        length = p[2] | p[3] << 8
        _need(length >= 1, "invalid_field")
        return {"address": p[0] | p[1] << 8, "length": length}
    if name in ("write", "reg_write"):
        _need(n >= 3, "bad_length")
        address = p[0] | p[1] << 8
        return {"address": address, "data_hex": p[2:].hex(), "items": decode_items(address, p[2:])}
    if name == "factory_reset":
        _need(n == 1, "bad_length")
        _need(p[0] in FACTORY_RESET_OPTIONS, "invalid_field")
        return {"option": FACTORY_RESET_OPTIONS[p[0]]}
    if name == "clear":
        _need(n == 5, "bad_length")
        _need(p[0] in CLEAR_OPTIONS and p[1:] == CLEAR_FIXED, "invalid_field")
        return {"option": CLEAR_OPTIONS[p[0]]}
    if name == "control_table_backup":
        _need(n == 5, "bad_length")
        _need(p[0] in BACKUP_OPTIONS and p[1:] == BACKUP_FIXED, "invalid_field")
        return {"option": BACKUP_OPTIONS[p[0]]}
    if name in ("sync_read", "fast_sync_read"):
        _need(n >= 5, "bad_length")
        length = p[2] | p[3] << 8
        ids = list(p[4:])
        _need(length >= 1, "invalid_field")
        _need(all(i <= MAX_ID for i in ids) and len(set(ids)) == len(ids), "invalid_field")
        return {"address": p[0] | p[1] << 8, "length": length, "ids": ids}
    if name == "sync_write":
        _need(n >= 4, "bad_length")
        address = p[0] | p[1] << 8
        length = p[2] | p[3] << 8
        _need(length >= 1, "invalid_field")
        rest = p[4:]
        _need(len(rest) >= 1 + length and len(rest) % (1 + length) == 0, "bad_length")
        entries = []
        for k in range(0, len(rest), 1 + length):
            data = rest[k + 1:k + 1 + length]
            entries.append({"id": rest[k], "data_hex": data.hex(), "items": decode_items(address, data)})
        ids = [e["id"] for e in entries]
        _need(all(i <= MAX_ID for i in ids) and len(set(ids)) == len(ids), "invalid_field")
        return {"address": address, "length": length, "entries": entries}
    if name in ("bulk_read", "fast_bulk_read"):
        _need(n >= 5 and n % 5 == 0, "bad_length")
        entries = []
        for k in range(0, n, 5):
            length = p[k + 3] | p[k + 4] << 8
            _need(length >= 1, "invalid_field")
            entries.append({"id": p[k], "address": p[k + 1] | p[k + 2] << 8, "length": length})
        ids = [e["id"] for e in entries]
        _need(all(i <= MAX_ID for i in ids) and len(set(ids)) == len(ids), "invalid_field")
        return {"entries": entries}
    if name == "bulk_write":
        _need(n >= 6, "bad_length")
        entries = []
        k = 0
        while k < n:
            _need(n - k >= 6, "bad_length")
            address = p[k + 1] | p[k + 2] << 8
            length = p[k + 3] | p[k + 4] << 8
            _need(length >= 1, "invalid_field")
            _need(n - k - 5 >= length, "bad_length")
            data = p[k + 5:k + 5 + length]
            entries.append({"id": p[k], "address": address, "length": length, "data_hex": data.hex(),
                            "items": decode_items(address, data)})
            k += 5 + length
        ids = [e["id"] for e in entries]
        _need(all(i <= MAX_ID for i in ids) and len(set(ids)) == len(ids), "invalid_field")
        return {"entries": entries}
    raise AssertionError(name)


def decode_frame(wire: bytes) -> dict:
    """Decode one CRC-valid frame (header .. CRC). Raises Rejected."""
    packet_id = wire[4]
    length = wire[5] | wire[6] << 8
    body_wire = wire[7:7 + length - 2]
    crc = wire[-2] | wire[-1] << 8
    inst = body_wire[0]
    name = INSTRUCTION_NAMES.get(inst)
    if name is None:
        raise Rejected("unknown_instruction")
    fast = name == "status" and packet_id == BROADCAST_ID
    body = body_wire if fast else unstuff(body_wire)     # a fast status is never stuffed (README §5.14)
    packet = {"kind": "status" if name == "status" else "instruction", "id": packet_id, "instruction": name,
              "length": length, "stuffing_bytes": len(body_wire) - len(body), "crc": "0x%04X" % crc}
    if name == "status":
        _need(length >= MIN_STATUS_LENGTH, "bad_length")
        error = body[1]
        _need((error & 0x7F) in ERROR_NUMBERS, "invalid_field")
        packet["error"] = error_fields(error)
        packet["parameters_hex"] = body[2:].hex()
        packet["fields"] = {}
    else:
        packet["parameters_hex"] = body[1:].hex()
        packet["fields"] = decode_instruction_fields(packet_id, name, body[1:])
    return packet


def decode_status_reply(packet: dict, wire: bytes, reply_to: dict) -> dict:
    """What a status packet says, given the request it answers (README §5). Fills packet['fields']."""
    p = bytes.fromhex(packet["parameters_hex"])
    kind = reply_to["instruction"]
    if kind == "ping":
        return {"model_number": p[0] | p[1] << 8, "firmware_version": p[2]} if len(p) == 3 else {}
    if kind in ("read", "sync_read", "bulk_read"):
        if "layout" in reply_to:
            return {"record": decode_record(reply_to["layout"], p)}
        if kind == "bulk_read":     # replies come in the order of the request's IDs
            address = reply_to["addresses"][reply_to["ids"].index(packet["id"])]
        else:
            address = reply_to["address"]
        return {"items": decode_items(address, p)}
    if kind in ("fast_sync_read", "fast_bulk_read"):
        lengths = reply_to["lengths"]
        slots = []
        at = 8                  # slot 0 starts at the Error byte
        for k, n in enumerate(lengths):
            error = wire[at]
            dxl_id = wire[at + 1]
            data = wire[at + 2:at + 2 + n]
            c = wire[at + 2 + n] | wire[at + 3 + n] << 8
            slot = {"error": error_fields(error), "id": dxl_id, "data_hex": data.hex(),
                    "crc": "0x%04X" % c, "crc_ok": crc16(wire[:at + 2 + n]) == c}
            if "layout" in reply_to:
                slot["record"] = decode_record(reply_to["layout"], data)
            elif "addresses" in reply_to:
                slot["items"] = decode_items(reply_to["addresses"][k], data)
            slots.append(slot)
            at += 4 + n
        return {"slots": slots}
    return {}


# ---------------------------------------------------------------- receiver (README §8)

class Receiver:
    """Byte-stream receiver. Equivalent to a push-one-byte decoder with a MAX_PACKET_BYTES buffer."""

    def __init__(self):
        self.buf = bytearray()
        self.out = []
        self.stats = {"bytes_received": 0, "packets_decoded": 0, "crc_errors": 0, "oversize_frames": 0,
                      "malformed_frames": 0, "rejected_packets": 0, "discarded_bytes": 0}

    def _drop(self, n=1):
        del self.buf[:n]
        self.stats["discarded_bytes"] += n

    def _step(self) -> bool:
        """Make progress on the buffer; False when more bytes are needed."""
        b = self.buf
        if not b:
            return False
        for k in range(4):              # hunt for FF FF FD 00
            if len(b) <= k:
                return False
            if b[k] != HEADER[k]:
                self._drop(1)
                return True
        if len(b) < 5:
            return False
        if b[4] in (0xFD, 0xFF):        # not an ID (README §2.2)
            self.stats["malformed_frames"] += 1
            self._drop(1)
            return True
        if len(b) < 7:
            return False
        length = b[5] | b[6] << 8
        if length > MAX_LENGTH:
            self.stats["oversize_frames"] += 1
            self._drop(1)
            return True
        if length < MIN_INSTRUCTION_LENGTH:
            self.stats["malformed_frames"] += 1
            self._drop(1)
            return True
        total = 7 + length
        if len(b) < total:
            return False
        wire = bytes(b[:total])
        if crc16(wire[:-2]) != (wire[-2] | wire[-1] << 8):
            self.stats["crc_errors"] += 1
            self._drop(1)               # rescan from the next byte: a frame may start inside this one
            return True
        del b[:total]
        try:
            packet = decode_frame(wire)
        except Rejected as r:
            self.stats["rejected_packets"] += 1
            self.stats["discarded_bytes"] += total
            self.out.append({"rejected": {"reason": r.reason, "id": wire[4],
                                          "instruction": wire[7]}})
            return True
        self.stats["packets_decoded"] += 1
        self.out.append({"packet": packet, "_wire": wire})
        return True

    def feed(self, data: bytes):
        for byte in data:
            self.stats["bytes_received"] += 1
            self.buf.append(byte)
            while self._step():
                pass

    def flush(self):
        """End of an exchange (reply deadline, or the device's 1.5 ms inter-byte limit): give up on
        whatever is pending. A pending frame that had its header is a truncated frame (counted as
        malformed); the bytes after its first byte are scanned again, since a whole frame may hide
        inside them."""
        while self.buf:
            if bytes(self.buf[:4]) == HEADER:
                self.stats["malformed_frames"] += 1
            self._drop(1)
            while self._step():
                pass

    def results(self):
        return [{k: v for k, v in r.items() if k != "_wire"} for r in self.out]


def receive(data: bytes):
    r = Receiver()
    r.feed(data)
    r.flush()
    return r


# ---------------------------------------------------------------- timing (README §7.3)

def exchange_bytes(ids, record_length=CYCLE_RECORD_LENGTH):
    """Bytes on the wire for one RehabHost cycle: Sync Write of Goal Current, Fast Sync Read, its reply."""
    n = len(ids)
    sync_write = len(instruction(BROADCAST_ID, "sync_write",
                                 params_sync_write(102, 2, [(i, b"\x00\x00") for i in ids])))
    fsr = len(instruction(BROADCAST_ID, "fast_sync_read", params_sync_read(CYCLE_RECORD_ADDRESS, record_length, ids)))
    reply = 7 + 1 + n * (1 + 1 + record_length + 2)
    return sync_write, fsr, reply
