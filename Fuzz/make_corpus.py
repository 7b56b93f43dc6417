#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/TARGET/, committed) from what the
repository already has: the RehabLink and RehabRef vectors, hardware/ profiles, exercises and fault
scripts, a few hand-made edge cases, and small MCAP files written here (the repository holds no
.mcap file; the tests make theirs at run time).

    python3 Fuzz/make_corpus.py          # from the repository root; rewrites the seed folders

Only the seed folders are rewritten (their non-hidden files); the fuzzer's work folders
(Fuzz/corpus/TARGET-work, git-ignored) and Fuzz/regressions are left alone. The output is the same
on every run. Input formats are those of Fuzz/rehabfuzz/Targets.swift:

- rehablink: a mode byte, then the bytes of a serial line (mode 0x00), or packets without their
  CRC as [length][bytes]... (mode 0x01: the target adds CRC-32C, COBS and the delimiter);
- rehabref: one datagram; json, profile, exercise, faults: a file's bytes (faults: also one
  live-injection line); mcap: a file's bytes;
- dynamixel: a mode byte, then the bytes of a bus (bit 0 clear; bits 3-7 the chunk size the decoder
  is fed in), or packets as [id][instruction][count][bytes]... (bit 0 set: the target adds header,
  length, stuffing and CRC; a status's first byte is its ERR).
"""

import json
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
TARGETS = ["rehablink", "rehabref", "json", "profile", "exercise", "faults", "mcap", "dynamixel", "xsens", "bno08x", "ndi"]
# Keep the committed corpus small (issue 15: at most 200 files and 1 MB in all).
MAXIMUM_FILES = 200
MAXIMUM_BYTES = 1 << 20


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def files(folder, suffix=".json"):
    full = os.path.join(ROOT, folder)
    return sorted(os.path.join(folder, name) for name in os.listdir(full) if name.endswith(suffix))


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


# MARK: RehabLink


def cobs_decode(data):
    """COBS decoding as Sources/Wire/Framing/COBS.swift does it; None when not valid COBS."""
    out = bytearray()
    index = 0
    while index < len(data):
        code = data[index]
        if code == 0:
            return None
        index += 1
        end = index + code - 1
        if end > len(data):
            return None
        for byte in data[index:end]:
            if byte == 0:
                return None
            out.append(byte)
        index = end
        if code != 0xFF and index < len(data):
            out.append(0)
    return bytes(out)


def packets_of(wire):
    """The CRC-less packets of every frame of `wire` that is valid COBS and long enough."""
    bodies = []
    for frame in wire.split(b"\x00"):
        if not frame:
            continue
        decoded = cobs_decode(frame)
        if decoded is None or len(decoded) < 8:
            continue
        body = decoded[:-4]
        if len(body) <= 255:
            bodies.append(body)
    return bodies


def packet_mode(bodies):
    return b"\x01" + b"".join(bytes([len(body)]) + body for body in bodies)


def rehablink_seeds():
    seeds = {}
    for path in files("protocols/rehablink/vectors"):
        vector = json.loads(read(path))
        wire = bytes.fromhex(vector["wire_hex"])
        seeds[stem(path)] = b"\x00" + wire
        bodies = packets_of(wire)
        if bodies:
            seeds[stem(path) + ".packets"] = packet_mode(bodies)
    # Every message type with an empty payload (version 1, sequence 7): each type's length check.
    types = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x81, 0x82, 0x83, 0x84, 0x85, 0x8F]
    seeds["every-type-empty.packets"] = packet_mode([bytes([1, kind, 7, 0]) for kind in types])
    return seeds


# MARK: Dynamixel

DYNAMIXEL_INSTRUCTIONS = {"ping": 0x01, "read": 0x02, "write": 0x03, "reg_write": 0x04, "action": 0x05,
                          "factory_reset": 0x06, "reboot": 0x08, "clear": 0x10, "control_table_backup": 0x20,
                          "status": 0x55, "sync_read": 0x82, "sync_write": 0x83, "fast_sync_read": 0x8A,
                          "bulk_read": 0x92, "bulk_write": 0x93, "fast_bulk_read": 0x9A}


def vector_wires(folder):
    """The wire bytes of every vector in `folder`, by vector name."""
    wires = {}
    for path in files(folder):
        vector = json.loads(read(path))
        if "wire_hex" in vector:
            wires[vector.get("name", os.path.basename(path))] = bytes.fromhex(vector["wire_hex"])
    return wires


def grouped(wires, groups, prefix):
    """`wires` concatenated into `groups` seeds (a capture of several messages each): few files, every vector."""
    seeds = {}
    for index, wire in enumerate(wires):
        key = f"{prefix}-{index % groups:02d}"
        seeds[key] = seeds.get(key, b"") + wire
    return seeds


def xsens_seeds():
    """protocols/xsens/vectors (real MTi captures included) as 8 line captures, fed in chunks of 1, 7 or 256 bytes."""
    wires = [wire for _, wire in sorted(vector_wires("protocols/xsens/vectors").items())]
    return {name: bytes([(0x00, 0x06, 0xFF)[index % 3]]) + content
            for index, (name, content) in enumerate(sorted(grouped(wires, 8, "line").items()))}


def bno08x_seeds():
    """protocols/bno08x-rvc/vectors as 3 line captures."""
    return grouped([wire for _, wire in sorted(vector_wires("protocols/bno08x-rvc/vectors").items())], 3, "line")


def ndi_seeds():
    """protocols/ndi/vectors: ASCII replies and BX replies for the host's decoder (3 captures each) and
    commands for a device's parser (2)."""
    ascii_replies, bx_replies, commands = [], [], []
    for path in files("protocols/ndi/vectors"):
        vector = json.loads(read(path))
        if "wire_hex" not in vector:
            continue
        wire = bytes.fromhex(vector["wire_hex"])
        if vector.get("direction") == "host_to_device":
            commands.append(wire)
        elif wire[:2] == bytes([0xC4, 0xA5]):
            bx_replies.append(wire)
        else:
            ascii_replies.append(wire)
    seeds = {}
    for mode, prefix, wires, groups in [(0x00, "ascii", ascii_replies, 3), (0x02, "bx", bx_replies, 3), (0x01, "commands", commands, 2)]:
        for name, content in grouped(wires, groups, prefix).items():
            seeds[name] = bytes([mode]) + content
    return seeds


def dynamixel_seeds():
    """The 100-odd vectors of protocols/dynamixel/vectors as a dozen bus captures (fed byte by byte,
    in chunks of 1, or of 31), plus the decoded packets of each, in the packet form."""
    wires = []
    packets = []
    for path in files("protocols/dynamixel/vectors"):
        vector = json.loads(read(path))
        if "wire_hex" not in vector:
            continue
        wires.append(bytes.fromhex(vector["wire_hex"]))
        for expected in vector.get("expect", []):
            packet = expected.get("packet")
            if not packet or packet["instruction"] not in DYNAMIXEL_INSTRUCTIONS:
                continue
            parameters = bytes.fromhex(packet["parameters_hex"])
            if packet["kind"] == "status":
                error = packet["error"]
                parameters = bytes([(0x80 if error["alert"] else 0) | error["error_number"]]) + parameters
            if len(parameters) <= 255:
                packets.append(bytes([packet["id"], DYNAMIXEL_INSTRUCTIONS[packet["instruction"]], len(parameters)]) + parameters)
    seeds = {}
    modes = [0x00, 0x08, 0xF8]
    group = b""
    for wire in wires:
        if group and len(group) + len(wire) > 500:
            index = len(seeds)
            seeds[f"bus-{index:02d}"] = bytes([modes[index % 3]]) + group
            group = b""
        group += wire
    if group:
        index = len(seeds)
        seeds[f"bus-{index:02d}"] = bytes([modes[index % 3]]) + group
    group = b""
    for packet in packets:
        if group and len(group) + len(packet) > 500:
            seeds[f"packets-{len(seeds):02d}"] = b"\x01" + group
            group = b""
        group += packet
    if group:
        seeds[f"packets-{len(seeds):02d}"] = b"\x01" + group
    return seeds


# MARK: RehabRef


def rehabref_seeds():
    return {stem(path): bytes.fromhex(json.loads(read(path))["wire_hex"]) for path in files("protocols/rehabref/vectors")}


# MARK: JSON


JSON_EDGES = {
    "empty-object": b"{}",
    "empty-array": b"[]",
    "null": b"null",
    "literals": b'[true, false, null, "", 0]',
    "negative-zero": b"[-0, -0.0, -0e0]",
    "integers-at-the-edges": b"[9223372036854775807, -9223372036854775808, 9223372036854775808, 123456789012345678901234567890]",
    "doubles": b"[0.1, 1e308, 1E-400, 5e-324, 2.5e+15, 1.0, 1e15, -123.456e-7]",
    "number-out-of-range": b"[1e400]",
    "leading-zero": b"[01]",
    "escapes": b'"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\\u00e9\\u2028\\ud83d\\ude00"',
    "lone-surrogate": b'"\\ud800"',
    "low-surrogate-first": b'"\\udc00\\ud800"',
    "invalid-utf8": b'{"k\xff": "\xc3\x28\xe2\x82"}',
    "control-character": b'"a\x01b"',
    "canonically-equal-keys": '{"é": 1, "e\u0301": 2}'.encode(),
    "duplicate-key": b'{"a": 1, "b": 2, "a": 3}',
    "trailing-comma": b"[1, 2,]",
    "comment": b"{/* no */}",
    "byte-order-mark": b"\xef\xbb\xbf{}",
    "whitespace": b' \t\r\n{ "a" : [ 1 , { } ] } \n',
    "depth-63": b"[" * 63 + b"]" * 63,
    "depth-64": b"[" * 64 + b"]" * 64,
    "unterminated": b'{"a": [1, "x',
    "nested-mixed": b'{"a": [{"b": {"c": [1.5, "d", null, {"e": []}]}}], "f": {"g": true}}',
}


def json_seeds():
    seeds = dict(JSON_EDGES)
    for path in files("hardware") + files("hardware/exercises")[:2] + files("hardware/faults")[:2]:
        seeds["file-" + stem(path)] = read(path)
    seeds["file-rehablink-vector-heartbeat"] = read("protocols/rehablink/vectors/heartbeat.json")
    seeds["file-rehabref-vector-visible-frame"] = read("protocols/rehabref/vectors/visible-frame.json")
    return seeds


# MARK: Profiles, exercises, fault scripts


def profile_seeds():
    seeds = {stem(path): read(path) for path in files("hardware")}
    # Variants that reach other branches: another protocol with its own fields, no torque sensor.
    wrist = json.loads(read("hardware/wrist-trainer.json"))
    other = json.loads(json.dumps(wrist))
    other["device"]["protocol"] = "dynamixel/2.0"
    other["device"]["dynamixel"] = {"ids": [1, 2], "baud": 57600}
    seeds["wrist-trainer-other-protocol"] = json.dumps(other, indent=2).encode()
    sensorless = json.loads(json.dumps(wrist))
    for joint in sensorless.get("joints", []):
        joint["torque_sensor"] = False
        joint.pop("interaction_torque_trip_nm", None)
    seeds["wrist-trainer-no-torque-sensor"] = json.dumps(sensorless, indent=2).encode()
    return seeds


def exercise_seeds():
    return {stem(path): read(path) for path in files("hardware/exercises")}


FAULT_LINES = {
    "live-drop-replies": {"kind": "drop_replies"},
    "live-external-torque": {"after_enable_ms": 10, "kind": "external_torque", "joint": 1, "torque_nm": -2.5, "ramp_ms": 0},
    "live-device-fault": {"at_command": 5, "kind": "device_fault", "code": "overload", "for_ms": 100},
    "live-corrupt-bytes": {"kind": "corrupt_bytes", "every_nth": 7, "for_ms": 250},
    "script-every-trigger": {
        "format": "rehabsim-faults/1",
        "faults": [
            {"at_ms": 0, "kind": "wrap_encoder", "joint": 0, "counts_before_wrap": 100},
            {"after_enable_ms": 500, "kind": "clock_drift", "percent": 5, "for_ms": 1000},
            {"at_command": 3000, "kind": "jump_encoder", "joint": 1, "counts": -20000},
            {"at_ms": 86400000, "kind": "delay_replies", "delay_ms": 3.5, "for_ms": 1},
        ],
    },
}


def fault_seeds():
    seeds = {stem(path): read(path) for path in files("hardware/faults")}
    for name, value in FAULT_LINES.items():
        seeds[name] = json.dumps(value).encode()
    return seeds


# MARK: MCAP (https://mcap.dev/spec), laid out as Sources/Telemetry/MCAP/MCAPWriter.swift lays it out

MAGIC = b"\x89MCAP0\r\n"


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)


def string(text):
    data = text.encode()
    return u32(len(data)) + data


def string_map(entries):
    body = b"".join(string(k) + string(v) for k, v in entries)
    return u32(len(body)) + body


def record(opcode, content):
    return u8(opcode) + u64(len(content)) + content


class MCAPWriter:
    def __init__(self, crcs=True, library="rehabhost Fuzz/make_corpus.py"):
        self.crcs = crcs
        self.data = bytearray(MAGIC + record(0x01, string("") + string(library)))
        self.schemas, self.channels, self.chunk_indexes, self.metadata_indexes = [], [], [], []
        self.chunk = bytearray()
        self.chunk_index = {}
        self.chunk_times = None
        self.message_count = 0
        self.channel_counts = {}
        self.times = None
        self.metadata_count = 0
        self.chunk_count = 0

    def crc(self, data):
        return zlib.crc32(bytes(data)) if self.crcs else 0

    def schema(self, id, name, encoding, data):
        r = record(0x03, u16(id) + string(name) + string(encoding) + u32(len(data)) + data)
        self.schemas.append(r)
        self.data += r

    def channel(self, id, schema, topic, encoding, metadata):
        r = record(0x04, u16(id) + u16(schema) + string(topic) + string(encoding) + string_map(metadata))
        self.channels.append(r)
        self.data += r

    def metadata(self, name, entries):
        self.close_chunk()
        r = record(0x0C, string(name) + string_map(entries))
        self.metadata_indexes.append(record(0x0D, u64(len(self.data)) + u64(len(r)) + string(name)))
        self.metadata_count += 1
        self.data += r

    def message(self, channel, sequence, log_time, payload, chunked=True):
        r = record(0x05, u16(channel) + u32(sequence) + u64(log_time) + u64(log_time) + payload)
        if chunked:
            self.chunk_index.setdefault(channel, []).append((log_time, len(self.chunk)))
            self.chunk += r
            low, high = self.chunk_times or (log_time, log_time)
            self.chunk_times = (min(low, log_time), max(high, log_time))
        else:
            self.data += r
        self.message_count += 1
        self.channel_counts[channel] = self.channel_counts.get(channel, 0) + 1
        low, high = self.times or (log_time, log_time)
        self.times = (min(low, log_time), max(high, log_time))

    def close_chunk(self):
        if not self.chunk:
            return
        start, end = self.chunk_times
        chunk_offset = len(self.data)
        records = bytes(self.chunk)
        chunk = record(0x06, u64(start) + u64(end) + u64(len(records)) + u32(self.crc(records)) + string("") + u64(len(records)) + records)
        self.data += chunk
        indexes_start = len(self.data)
        offsets = []
        for channel in sorted(self.chunk_index):
            entries = b"".join(u64(t) + u64(o) for t, o in self.chunk_index[channel])
            offsets.append((channel, len(self.data)))
            self.data += record(0x07, u16(channel) + u32(len(entries)) + entries)
        indexes_length = len(self.data) - indexes_start
        offset_map = b"".join(u16(c) + u64(o) for c, o in offsets)
        self.chunk_indexes.append(record(
            0x08, u64(start) + u64(end) + u64(chunk_offset) + u64(len(chunk)) + u32(len(offset_map)) + offset_map
            + u64(indexes_length) + string("") + u64(len(records)) + u64(len(records))))
        self.chunk_count += 1
        self.chunk = bytearray()
        self.chunk_index = {}
        self.chunk_times = None

    def finish(self, summary=True):
        self.close_chunk()
        self.data += record(0x0F, u32(self.crc(self.data)))
        summary_start = len(self.data)
        if not summary:
            self.data += u8(0x02) + u64(20) + u64(0) + u64(0) + u32(0) + MAGIC
            return bytes(self.data)
        counts = b"".join(u16(c) + u64(n) for c, n in sorted(self.channel_counts.items()))
        low, high = self.times or (0, 0)
        statistics = record(
            0x0B, u64(self.message_count) + u16(len(self.schemas)) + u32(len(self.channels)) + u32(0) + u32(self.metadata_count)
            + u32(self.chunk_count) + u64(low) + u64(high) + u32(len(counts)) + counts)
        section = bytearray()
        groups = []
        for opcode, records in [(0x03, self.schemas), (0x04, self.channels), (0x0B, [statistics]),
                                (0x08, self.chunk_indexes), (0x0D, self.metadata_indexes)]:
            if records:
                start = len(section)
                section += b"".join(records)
                groups.append((opcode, start, len(section) - start))
        summary_offset_start = summary_start + len(section)
        for opcode, start, length in groups:
            section += record(0x0E, u8(opcode) + u64(summary_start + start) + u64(length))
        section += u8(0x02) + u64(20) + u64(summary_start) + u64(summary_offset_start)
        section += u32(self.crc(section))
        self.data += section + MAGIC
        return bytes(self.data)


T0 = 1_700_000_000_000_000_000  # log times: Unix epoch nanoseconds, as a recording's


def payload(value):
    return json.dumps(value, separators=(",", ":")).encode()


def recording(crcs=True, cut_in_second_chunk=False):
    """A small RehabHost-like recording (the report's channels, two chunks, session metadata)."""
    w = MCAPWriter(crcs=crcs)
    topics = [(1, "/joint_state", "rehabhost.JointState"), (2, "/joint_command", "rehabhost.JointCommand"),
              (3, "/supervisor/state", "rehabhost.SupervisorState"), (4, "/supervisor/transition", "rehabhost.SupervisorTransition"),
              (6, "/loop/timing", "rehabhost.LoopTiming"), (7, "/exercise/metrics", "rehabhost.ExerciseMetrics")]
    for id, topic, schema in topics:
        w.schema(id, schema, "jsonschema", b'{"type": "object"}')
        metadata = [("joints", "flexion_extension,pronation_supination")] if id in (1, 2) else []
        w.channel(id, id, topic, "json", metadata)
    second_chunk = None
    for cycle in range(6):
        if cycle == 3:
            w.close_chunk()
            second_chunk = len(w.data)
        t = T0 + cycle * 1_000_000
        w.message(1, cycle, t, payload({"cycle": cycle, "t_monotonic_ns": 5_000_000 + cycle * 1_000_000, "fresh": True,
                                        "position_rad": [0.01 * cycle, -0.002], "velocity_rad_per_s": [0.01, 0],
                                        "motor_torque_nm": [0.12, -0.03], "interaction_torque_nm": [0.0, 0.0]}))
        w.message(2, cycle, t, payload({"cycle": cycle, "t_monotonic_ns": 5_000_000 + cycle * 1_000_000, "wire": "command",
                                        "mode": ["torque", "torque"], "target_position_rad": [0.01 * cycle, None],
                                        "target_velocity_rad_per_s": [0.01, None], "torque_nm": [0.12, 0],
                                        "velocity_rad_per_s": [0, 0]}))
        state = "active" if cycle < 4 else "stopping"
        w.message(3, cycle, t, payload({"cycle": cycle, "t_monotonic_ns": 5_000_000 + cycle * 1_000_000, "state": state,
                                        "action": "move" if cycle < 4 else "decelerate", "stop_category": None if cycle < 4 else 1}))
        w.message(6, cycle, t, payload({"cycle": cycle, "wake_latency_ns": 1200 + cycle, "compute_ns": 1500, "round_trip_ns": 60000}))
        if cycle == 4:
            w.message(4, 0, t, payload({"cycle": cycle, "t_monotonic_ns": 9_000_000, "from": "active", "to": "stopping",
                                        "cause": "operator_stop", "requirement": "SR-13", "stop_category": 1, "value": 0,
                                        "value_unit": "", "joint": None, "device_code": 0}))
    w.message(7, 0, T0 + 6_000_000, payload({"repetitions": 1, "rom_deg": {"flexion_extension": [-0.1, 2.9]}}))
    w.metadata("session", [("profile", "wrist-trainer"), ("device", "RH-WRIST-2"), ("rate_hz", "1000"), ("kind", "recording")])
    data = w.finish()
    if cut_in_second_chunk:
        return data[:second_chunk + 40]
    return data


def mcap_seeds():
    seeds = {
        "recording": recording(),
        "recording-without-crcs": recording(crcs=False),
        "recording-cut-in-its-second-chunk": recording(cut_in_second_chunk=True),
    }
    # A message outside any chunk (the specification allows it; this writer never makes one), and
    # no summary section.
    w = MCAPWriter()
    w.schema(1, "raw", "", b"")
    w.channel(5, 1, "/raw", "application/octet-stream", [("k", "v"), ("k", "w")])
    w.message(5, 1, T0, b"\x00\x01\x02", chunked=False)
    w.message(5, 2, T0 + 1, b"\x03")
    seeds["unchunked-message-no-summary"] = w.finish(summary=False)
    seeds["empty"] = MCAPWriter().finish()
    seeds["header-only-no-summary"] = MCAPWriter(crcs=False).finish(summary=False)
    return seeds


# MARK: Dictionary

JSON_TOKENS = ["{", "}", "[", "]", ",", ":", '"', "true", "false", "null", "-", "0", "1e", ".5", "\\u", "\\ud800\\udc00"]


def dictionary_entries():
    """JSON syntax, and every key and string value of the shipped profiles, exercises and fault
    scripts (quoted, as they appear in a file): libFuzzer's -dict for the JSON-based targets."""
    words = set(JSON_TOKENS)

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                words.add(json.dumps(key))
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, str) and len(value) <= 32:  # names and codes, not descriptions
            words.add(json.dumps(value))

    for path in files("hardware") + files("hardware/exercises") + files("hardware/faults"):
        walk(json.loads(read(path)))
    for value in FAULT_LINES.values():
        walk(value)
    for name in ["passive", "active_assist", "active_resist", "transparent", "mirror", "drop_replies", "corrupt_bytes",
                 "delay_replies", "unplug", "freeze_encoder", "jump_encoder", "wrap_encoder", "reverse_encoder", "device_fault",
                 "over_temperature", "estop_press", "estop_release", "external_torque", "brake_failure", "disable_watchdog",
                 "ignore_commands", "clock_drift", "ignore_limit_writes", "patient_stop", "patient_stop_release", "patient_pause",
                 "patient_pause_release"]:
        words.add(json.dumps(name))

    def escape(word):
        return "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "".join(f"\\x{b:02X}" for b in c.encode()) for c in word)

    return [f'"{escape(word)}"' for word in sorted(words)]


# MARK: Writing


def main():
    makers = {"rehablink": rehablink_seeds, "rehabref": rehabref_seeds, "json": json_seeds, "profile": profile_seeds,
              "exercise": exercise_seeds, "faults": fault_seeds, "mcap": mcap_seeds,
              "dynamixel": dynamixel_seeds, "xsens": xsens_seeds, "bno08x": bno08x_seeds, "ndi": ndi_seeds}
    total_files = 0
    total_bytes = 0
    for target in TARGETS:
        folder = os.path.join(CORPUS, target)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if not name.startswith(".") and os.path.isfile(path):
                os.remove(path)
        seen = set()
        count = 0
        for name, content in sorted(makers[target]().items()):
            if content in seen:
                continue
            seen.add(content)
            with open(os.path.join(folder, name), "wb") as f:
                f.write(content)
            count += 1
            total_bytes += len(content)
        total_files += count
        print(f"Fuzz/corpus/{target}: {count} seeds")
        regressions = os.path.join(ROOT, "Fuzz", "regressions", target)
        os.makedirs(regressions, exist_ok=True)
        keep = os.path.join(regressions, ".gitkeep")
        if not os.path.exists(keep):
            open(keep, "wb").close()
    dictionary = os.path.join(ROOT, "Fuzz", "dict")
    os.makedirs(dictionary, exist_ok=True)
    with open(os.path.join(dictionary, "json.dict"), "w") as f:
        f.write("# libFuzzer dictionary of the JSON-based targets (json, profile, exercise, faults), written by\n")
        f.write("# Fuzz/make_corpus.py from the shipped hardware/ files; scripts/fuzz.sh passes it with -dict.\n")
        f.write("\n".join(dictionary_entries()) + "\n")
    print(f"{total_files} seed files, {total_bytes} bytes")
    if total_files > MAXIMUM_FILES or total_bytes > MAXIMUM_BYTES:
        print(f"the corpus must stay within {MAXIMUM_FILES} files and {MAXIMUM_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
