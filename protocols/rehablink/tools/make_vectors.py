#!/usr/bin/env python3
"""Writes protocols/rehablink/vectors/*.json from the Python reference implementation.

Run from anywhere: python3 protocols/rehablink/tools/make_vectors.py
The output is committed; tests on the host and simulator side read it. Regenerating must not change
a vector unless the spec changed (the script is deterministic).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rehablink as rl  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "vectors")

WRIST_LIMITS = [
    {"position_min_urad": -1221730, "position_max_urad": 1221730, "velocity_max_urad_s": 3000000,
     "torque_max_mnm": 4000, "encoder_counts_per_rev": 327680},
    {"position_min_urad": -1483530, "position_max_urad": 1483530, "velocity_max_urad_s": 3000000,
     "torque_max_mnm": 3000, "encoder_counts_per_rev": 327680},
]

STATE_2 = {
    "device_time_us": 1234567, "command_sequence": 41, "status": 0x0003, "fault_code": 0,
    "joints": [
        {"position_urad": 523599, "velocity_urad_s": -120000, "torque_mnm": 850, "interaction_torque_mnm": -75,
         "encoder_counts": 27306, "current_ma": 850, "temperature_dc": 312, "flags": 0x10},
        {"position_urad": -17453, "velocity_urad_s": 0, "torque_mnm": -12, "interaction_torque_mnm": 0,
         "encoder_counts": 4294966387, "current_ma": -16, "temperature_dc": 298, "flags": 0x00},
    ],
}

COMMAND_2 = {
    "joints": [
        {"mode": "torque", "position_urad": 0, "velocity_urad_s": 0, "torque_mnm": 1250,
         "stiffness_mnm_per_rad": 0, "damping_mnms_per_rad": 0},
        {"mode": "impedance", "position_urad": -261799, "velocity_urad_s": 150000, "torque_mnm": -40,
         "stiffness_mnm_per_rad": 15000, "damping_mnms_per_rad": 400},
    ],
}


def state_8():
    joints = []
    for j in range(8):
        joints.append({"position_urad": -2000000 + 512345 * j, "velocity_urad_s": 2999999 - 700001 * j,
                       "torque_mnm": -32768 + 9000 * j, "interaction_torque_mnm": 17 * j - 60,
                       "encoder_counts": (0xFFFFFFF0 + 1000 * j) & 0xFFFFFFFF, "current_ma": -32768 + 8192 * j,
                       "temperature_dc": 250 + 33 * j, "flags": j & 0x1F})
    return {"device_time_us": 0xFFFFFFFF, "command_sequence": 0xFFFF, "status": 0x003F, "fault_code": 0x0004,
            "joints": joints}


def single(name, description, kind, sequence, fields, direction):
    wire = rl.frame(kind, sequence, fields)
    return name, description, direction, wire, True


def vectors():
    v = []
    add = v.append
    # One vector per message type, canonical (encoding reproduces the bytes).
    add(single("identify", "IDENTIFY request", "identify", 1, {}, "host_to_device"))
    add(single("enable", "ENABLE arming a 20 ms watchdog", "enable", 2, {"watchdog_period_us": 20000}, "host_to_device"))
    add(single("disable", "DISABLE", "disable", 3, {}, "host_to_device"))
    add(single("command-2-joints", "COMMAND: joint 0 torque mode, joint 1 impedance with negative set-points",
               "command", 4, COMMAND_2, "host_to_device"))
    add(single("heartbeat", "HEARTBEAT", "heartbeat", 5, {}, "host_to_device"))
    add(single("param-get", "PARAM_GET watchdog_period_us", "param_get", 6, {"param_id": 0x0001}, "host_to_device"))
    add(single("param-set", "PARAM_SET position_stiffness = 12 N·m/rad", "param_set", 7,
               {"param_id": 0x0010, "value": 12000}, "host_to_device"))
    add(single("fault-reset", "FAULT_RESET", "fault_reset", 8, {}, "host_to_device"))
    add(single("identity-wrist-trainer", "IDENTITY of the 2-joint wrist trainer", "identity", 100,
               {"protocol_version": 1, "firmware_major": 1, "firmware_minor": 2, "firmware_patch": 3,
                "model": "RH-WRIST-2", "serial_number": "SIM-0001", "joints": WRIST_LIMITS}, "device_to_host"))
    add(single("ack-enable", "ACK of ENABLE with the 20 ms watchdog in effect", "ack", 101,
               {"acked_type": "enable", "result": "ok", "acked_sequence": 2, "value": 20000}, "device_to_host"))
    add(single("ack-refused-estop", "ACK refusing ENABLE because the e-stop is open", "ack", 102,
               {"acked_type": "enable", "result": "refused_estop", "acked_sequence": 9, "value": 0}, "device_to_host"))
    add(single("state-2-joints", "STATE: enabled, torque on, sensor on joint 0, raw counter near wrap on joint 1",
               "state", 103, STATE_2, "device_to_host"))
    add(single("state-8-joints-maximum-size", "STATE with 8 joints: the largest legal RehabLink frame, extreme values",
               "state", 0xFFFF, state_8(), "device_to_host"))
    add(single("fault-over-temperature", "FAULT over_temperature on joint 1 at 81.2 °C", "fault", 104,
               {"fault_code": 0x0001, "joint": 1, "value": 812, "device_time_us": 99000000}, "device_to_host"))
    add(single("fault-watchdog", "FAULT watchdog_expired for the whole device, 20.4 ms after the last command",
               "fault", 105, {"fault_code": 0x0010, "joint": 255, "value": 20400, "device_time_us": 5000000},
               "device_to_host"))
    add(single("param-reply", "PARAM reply: watchdog_period_us = 20000", "param", 106,
               {"param_id": 0x0001, "result": "ok", "value": 20000}, "device_to_host"))
    add(single("error-unknown-type", "ERROR answering a packet of unknown type 0x42", "error", 107,
               {"error_code": "unknown_type", "offending_type": 0x42, "offending_sequence": 9}, "device_to_host"))

    # RehabLink 1.1: the version probe, the SR-24 limit parameters and the patient's buttons.
    add(single("param-get-protocol-minor", "1.1: PARAM_GET protocol_minor (0x0003), how a host tells 1.1 from 1.0",
               "param_get", 20, {"param_id": rl.PARAMS["protocol_minor"]}, "host_to_device"))
    add(single("param-reply-protocol-minor", "1.1: PARAM reply protocol_minor = 1 (a 1.0 device answers "
               "unknown_parameter)", "param", 120, {"param_id": rl.PARAMS["protocol_minor"], "result": "ok", "value": 1},
               "device_to_host"))
    add(single("param-reply-protocol-minor-unknown", "1.1 probe answered by a 1.0 device: unknown_parameter",
               "param", 121, {"param_id": rl.PARAMS["protocol_minor"], "result": "unknown_parameter", "value": 0},
               "device_to_host"))
    add(single("param-set-soft-limit-min-joint-0", "1.1 SR-24: PARAM_SET soft_limit_min_urad of joint 0 (0x0040) = "
               "-1.134464 rad (-65°)", "param_set", 21,
               {"param_id": rl.joint_param("soft_limit_min_urad", 0), "value": -1134464}, "host_to_device"))
    add(single("param-set-soft-limit-max-joint-1", "1.1 SR-24: PARAM_SET soft_limit_max_urad of joint 1 (0x0049) = "
               "1.396263 rad (80°)", "param_set", 22,
               {"param_id": rl.joint_param("soft_limit_max_urad", 1), "value": 1396263}, "host_to_device"))
    add(single("param-set-torque-cap-positive-joint-0", "1.1 SR-24/SR-20: PARAM_SET torque_cap_positive_mnm of joint 0 "
               "(0x0050) = 3 N·m", "param_set", 23,
               {"param_id": rl.joint_param("torque_cap_positive_mnm", 0), "value": 3000}, "host_to_device"))
    add(single("param-set-torque-cap-negative-joint-1", "1.1 SR-24/SR-20: PARAM_SET torque_cap_negative_mnm of joint 1 "
               "(0x0059) = 2.5 N·m (a magnitude)", "param_set", 24,
               {"param_id": rl.joint_param("torque_cap_negative_mnm", 1), "value": 2500}, "host_to_device"))
    add(single("param-set-velocity-trip-joint-7", "1.1 SR-24: PARAM_SET velocity_trip_urad_s of joint 7 (0x0067, the "
               "last id of the block) = 2.25 rad/s", "param_set", 25,
               {"param_id": rl.joint_param("velocity_trip_urad_s", 7), "value": 2250000}, "host_to_device"))
    add(single("param-get-velocity-trip-joint-0", "1.1 SR-24: PARAM_GET velocity_trip_urad_s of joint 0 (0x0060): the "
               "read-back", "param_get", 26, {"param_id": rl.joint_param("velocity_trip_urad_s", 0)}, "host_to_device"))
    add(single("param-reply-torque-cap-out-of-range", "1.1 SR-24: PARAM reply refusing torque_cap_positive_mnm of "
               "joint 0 above the joint's 4 N·m rating: out_of_range, value = the cap still in effect", "param", 122,
               {"param_id": rl.joint_param("torque_cap_positive_mnm", 0), "result": "out_of_range", "value": 4000},
               "device_to_host"))
    add(single("param-reply-limit-not-while-enabled", "1.1 SR-24: PARAM reply refusing a soft limit write while "
               "enabled: not_while_enabled", "param", 123,
               {"param_id": rl.joint_param("soft_limit_max_urad", 0), "result": "not_while_enabled", "value": 1221730},
               "device_to_host"))
    patient_stop = dict(STATE_2, status=rl.STATUS_BITS["enabled"] | rl.STATUS_BITS["torque_on"] | rl.STATUS_BITS["patient_stop"])
    add(single("state-patient-stop", "1.1 SR-22: STATE with patient_stop (bit 6): enabled, torque on, the patient's stop "
               "button held", "state", 124, patient_stop, "device_to_host"))
    patient_pause = dict(STATE_2, status=rl.STATUS_BITS["enabled"] | rl.STATUS_BITS["torque_on"] | rl.STATUS_BITS["patient_pause"])
    add(single("state-patient-pause", "1.1 SR-22: STATE with patient_pause (bit 7): enabled, torque on, the patient's "
               "pause button held", "state", 125, patient_pause, "device_to_host"))
    add(single("state-all-status-bits", "1.1: STATE with every defined status bit set (0x00FF)", "state", 126,
               dict(STATE_2, status=0x00FF), "device_to_host"))

    # Stream vectors (not canonical): what a receiver must make of damaged input.
    good_state = rl.frame("state", 103, STATE_2)
    good_cmd = rl.frame("command", 4, COMMAND_2)

    bad_crc = bytearray(good_state)
    bad_crc[20] ^= 0x01
    add(("crc-failure", "STATE with one bit flipped in the payload, then the intact frame: the first is dropped as a CRC "
         "error, the second decodes", "device_to_host", bytes(bad_crc) + good_state, False))

    add(("truncated-frame", "The first 30 bytes of a COMMAND frame and a delimiter (truncated), then a whole COMMAND",
         "host_to_device", good_cmd[:30] + b"\x00" + good_cmd, False))

    junk = bytes([0x55, 0xAA, 0x13, 0x37, 0xFF, 0x01, 0x02, 0x7E])
    add(("junk-before-frame", "Line noise, an idle delimiter, then a STATE: the noise is counted, the STATE decodes",
         "device_to_host", junk + b"\x00" + good_state, False))
    add(("junk-glued-to-frame", "Line noise directly in front of a STATE (no delimiter) corrupts that frame only; the "
         "following STATE decodes", "device_to_host", junk + good_state + good_state, False))

    add(("oversize-frame", "300 non-zero bytes without a delimiter (oversize, dropped), then a STATE",
         "device_to_host", bytes([0x11] * 300) + b"\x00" + good_state, False))
    add(("oversize-by-one", "256 non-zero bytes: one more than the largest COBS frame; dropped; then a COMMAND",
         "host_to_device", bytes([0x22] * 256) + b"\x00" + good_cmd, False))

    payload = bytearray([0x5A] * 246)
    payload[10] = 8  # STATE joint_count 8, but 246 ≠ 12 + 8·25
    add(("largest-frame-bad-length", "A 254-byte packet (the framing maximum, 255 COBS bytes): accepted by the "
         "framing, rejected as bad_length for STATE", "device_to_host", rl.raw_frame(0x83, 300, bytes(payload)), False))

    add(("wrong-version", "A CRC-valid HEARTBEAT with version 2: rejected unsupported_version",
         "host_to_device", rl.raw_frame(0x05, 9, b"", version=2), False))
    add(("unknown-type", "A CRC-valid packet of type 0x42: rejected unknown_type", "host_to_device",
         rl.raw_frame(0x42, 9, b"\x01\x02"), False))
    add(("bad-length", "ENABLE with a 3-byte payload: rejected bad_length", "host_to_device",
         rl.raw_frame(0x02, 10, b"\x20\x4e\x00"), False))
    bad_mode = bytearray(rl.pack_payload("command", COMMAND_2))
    bad_mode[2] = 9
    add(("invalid-mode", "COMMAND with mode 9 on joint 0: rejected invalid_field", "host_to_device",
         rl.raw_frame(0x04, 11, bytes(bad_mode)), False))
    add(("zero-joints", "STATE with joint_count 0: rejected invalid_field", "device_to_host",
         rl.raw_frame(0x83, 12, bytes(12)), False))
    reserved_status = bytearray(rl.pack_payload("state", STATE_2))
    reserved_status[7] = 0x01  # status bit 8: still reserved in 1.1
    add(("state-reserved-status-bit", "STATE with status bit 8 set: reserved in 1.1 too, rejected invalid_field",
         "device_to_host", rl.raw_frame(0x83, 127, bytes(reserved_status)), False))

    add(("back-to-back", "Two COMMANDs with idle delimiters between and around them", "host_to_device",
         b"\x00" + good_cmd + b"\x00\x00" + rl.frame("command", 5, COMMAND_2), False))
    return v


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    for name, description, direction, wire, canonical in vectors():
        receiver = rl.Receiver()
        expect = receiver.feed(wire)
        doc = {"name": name, "description": description, "direction": direction, "wire_hex": wire.hex(),
               "canonical": canonical, "expect": expect, "statistics": receiver.stats}
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
    # Self-check: the CRC check value and COBS round trips.
    assert rl.crc32c(b"123456789") == 0xE3069283
    for n in (0, 1, 253, 254):
        data = bytes((i % 255) + 1 for i in range(n))
        assert rl.cobs_decode(rl.cobs_encode(data)) == data
    print("wrote", len(vectors()), "vectors to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
