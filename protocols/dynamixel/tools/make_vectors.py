#!/usr/bin/env python3
"""Writes protocols/dynamixel/vectors/*.json from the reference implementation (dynamixel.py), checks
every e-Manual example against it, and cross-checks the vectors against the ROBOTIS DynamixelSDK.

Run from anywhere:
    python3 protocols/dynamixel/tools/make_vectors.py                  # vectors; SDK check if importable
    python3 -m venv /tmp/dxl-venv && /tmp/dxl-venv/bin/pip install dynamixel-sdk==4.1.0
    /tmp/dxl-venv/bin/python protocols/dynamixel/tools/make_vectors.py --require-sdk

The vectors depend on the reference implementation only, never on the SDK: the output is the same
with or without it, and regenerating must not change a vector unless the spec changed. The SDK check
needs no serial port: the SDK's own packet builders write into a fake port object that records the
bytes, and its receive path reads the vector bytes from the same fake port.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dynamixel as dx  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
EMANUAL = "https://emanual.robotis.com/docs/en/dxl/protocol2/"
SDK_PIN = "dynamixel-sdk==4.1.0"

H2D = "host_to_device"
D2H = "device_to_host"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def em(anchor, section, note=None):
    s = {"kind": "e-manual", "document": "ROBOTIS e-Manual, DYNAMIXEL Protocol 2.0", "url": EMANUAL + "#" + anchor,
         "section": section}
    if note:
        s["note"] = note
    return s


def ours(basis):
    return {"kind": "rehabhost", "basis": basis}


VECTORS = []


def add(name, description, direction, wire, canonical, source, reply_to=None):
    VECTORS.append({"name": name, "description": description, "direction": direction, "wire": bytes(wire),
                    "canonical": canonical, "source": source, "reply_to": reply_to})


def record_layout():
    return [[n, s, sg] for (n, s, sg) in dx.CYCLE_RECORD]


def record(current, velocity, position, hw):
    return dx.le(current, 2) + dx.le(velocity, 4) + dx.le(position, 4) + dx.le(hw, 1)


def driver_layout():
    return [[n, s, sg] for (n, s, sg) in dx.DRIVER_READ_RECORD]


def driver_record(current, velocity, position, hw, torque, watchdog, temperature):
    return (dx.le(current, 2) + dx.le(velocity, 4) + dx.le(position, 4) + dx.le(hw, 1) + dx.le(torque, 1)
            + dx.le(watchdog, 1) + dx.le(temperature, 1))


def driver_goals(current, position):
    return dx.le(current, 2) + dx.le(position, 4)


# ---------------------------------------------------------------- (a) the e-Manual's worked examples

EMANUAL_OK_STATUS = h("FF FF FD 00 01 04 00 55 00 A1 0C")


def emanual_vectors():
    add("emanual-ping-id1", "Ping to ID 1", H2D, h("FF FF FD 00 01 03 00 01 19 4E"), True,
        em("ping-0x01", "Ping (0x01), Example 1, Ping Instruction Packet"))
    add("emanual-ping-status-id1", "Ping reply of ID 1 (XM430-W210): model number 1030, firmware 38", D2H,
        h("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D"), True,
        em("ping-0x01", "Ping (0x01), Example 1, ID 1 Status Packet"), {"instruction": "ping"})
    add("emanual-ping-broadcast", "Ping to the broadcast ID 0xFE", H2D, h("FF FF FD 00 FE 03 00 01 31 42"), True,
        em("ping-0x01", "Ping (0x01), Example 2, Ping Instruction Packet"))
    add("emanual-ping-broadcast-replies", "Both replies to the broadcast Ping, ID 1 then ID 2, back to back", D2H,
        h("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D") + h("FF FF FD 00 02 07 00 55 00 06 04 26 6F 6D"), False,
        em("ping-0x01", "Ping (0x01), Example 2, ID 1 and ID 2 Status Packets"), {"instruction": "ping"})
    add("emanual-read-present-position", "Read of Present Position (132, 4 bytes) from ID 1", H2D,
        h("FF FF FD 00 01 07 00 02 84 00 04 00 1D 15"), True, em("read-0x02", "Read (0x02), Read Instruction Packet"))
    add("emanual-read-status", "Read reply: Present Position = 166", D2H,
        h("FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0"), True, em("read-0x02", "Read (0x02), ID 1 Status Packet"),
        {"instruction": "read", "address": 132, "length": 4})
    add("emanual-write-goal-position", "Write of Goal Position (116) = 512 to ID 1", H2D,
        h("FF FF FD 00 01 09 00 03 74 00 00 02 00 00 CA 89"), True,
        em("write-0x03", "Write (0x03), Write Instruction Packet"))
    add("emanual-status-ok-no-parameters", "Status with no error and no parameters (the reply to Write, Reg Write, "
        "Action, Factory Reset, Reboot, Clear and Control Table Backup)", D2H, EMANUAL_OK_STATUS, True,
        em("write-0x03", "Write (0x03), ID 1 Status Packet; the same bytes under Reg Write, Action, Factory Reset, "
           "Reboot, Clear and Control Table Backup"), {"instruction": "write"})
    add("emanual-reg-write-goal-velocity", "Reg Write of Goal Velocity (104) = 200 to ID 1", H2D,
        h("FF FF FD 00 01 09 00 04 68 00 C8 00 00 00 AE 8E"), True,
        em("reg-write-0x04", "Reg Write (0x04), Reg Write Instruction Packet"))
    add("emanual-action", "Action to ID 1", H2D, h("FF FF FD 00 01 03 00 05 02 CE"), True,
        em("action-0x05", "Action (0x05), Action Instruction Packet"))
    add("emanual-factory-reset-except-id", "Factory Reset of ID 1, option 0x01 (all but the ID)", H2D,
        h("FF FF FD 00 01 04 00 06 01 A1 E6"), True,
        em("factory-reset-0x06", "Factory Reset (0x06), Factory Reset Instruction Packet"))
    add("emanual-reboot", "Reboot of ID 1", H2D, h("FF FF FD 00 01 03 00 08 2F 4E"), True,
        em("reboot-0x08", "Reboot (0x08), Reboot Instruction Packet"))
    add("emanual-clear-multi-turn", "Clear of ID 1's multi-turn revolution count (option 0x01, fixed 44 58 4C 22)",
        H2D, h("FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC"), True,
        em("clear-0x10", "Clear (0x10), Clear Instruction Packet"))
    add("emanual-control-table-backup-store", "Control Table Backup of ID 1, option 0x01 (store), fixed 'CTRL'",
        H2D, h("FF FF FD 00 01 08 00 20 01 43 54 52 4C 16 F5"), True,
        em("control-table-backup-0x20", "Control Table Backup (0x20), Example 1, Control Table Backup Packet"))
    add("emanual-control-table-backup-restore", "Control Table Backup of ID 1, option 0x02 (restore), with the CRC "
        "computed (9E F5)", H2D, h("FF FF FD 00 01 08 00 20 02 43 54 52 4C 9E F5"), True,
        em("control-table-backup-0x20", "Control Table Backup (0x20), Example 2, Control Table EEPROM Restoring "
           "Packet", note="Erratum: the e-Manual prints CRC 92 F5; the CRC of these bytes is 0xF59E (9E F5)."))
    add("emanual-control-table-backup-restore-as-printed", "The restore example exactly as the e-Manual prints it "
        "(CRC 92 F5): a receiver drops it as a CRC error", H2D, h("FF FF FD 00 01 08 00 20 02 43 54 52 4C 92 F5"),
        False, em("control-table-backup-0x20", "Control Table Backup (0x20), Example 2, as printed",
                  note="Erratum in the e-Manual: wrong CRC."))
    add("emanual-sync-read", "Sync Read of Present Position (132, 4 bytes) from IDs 1 and 2", H2D,
        h("FF FF FD 00 FE 09 00 82 84 00 04 00 01 02 CE FA"), True,
        em("sync-read-0x82", "Sync Read (0x82), Sync Read Instruction Packet"))
    add("emanual-sync-read-replies", "The two Sync Read replies: ID 1 = 166, ID 2 = 2079", D2H,
        h("FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0") + h("FF FF FD 00 02 08 00 55 00 1F 08 00 00 BA BE"), False,
        em("sync-read-0x82", "Sync Read (0x82), ID 1 and ID 2 Status Packets"),
        {"instruction": "sync_read", "address": 132, "length": 4})
    add("emanual-sync-write-goal-position", "Sync Write of Goal Position: ID 1 = 150, ID 2 = 170", H2D,
        h("FF FF FD 00 FE 11 00 83 74 00 04 00 01 96 00 00 00 02 AA 00 00 00 82 87"), True,
        em("sync-write-0x83", "Sync Write (0x83), Sync Write Instruction Packet"))
    add("emanual-fast-sync-read", "Fast Sync Read of Present Position (132, 4 bytes) from IDs 3, 7, 4", H2D,
        h("FF FF FD 00 FE 0A 00 8A 84 00 04 00 03 07 04 20 F2"), True,
        em("fast-sync-read-0x8a", "Fast Sync Read (0x8A), Fast Sync Read Instruction Packet"))
    add("emanual-fast-sync-read-status", "The one Fast Sync Read reply: ID 3 = 166, ID 7 = 2079, ID 4 = 1023; each "
        "block's CRC covers the packet from the header up to it", D2H,
        h("FF FF FD 00 FE 19 00 55 00 03 A6 00 00 00 84 08 00 07 1F 08 00 00 16 CA 00 04 FF 03 00 00 D1 9E"), True,
        em("fast-sync-read-0x8a", "Fast Sync Read (0x8A), ID 3, ID 7 and ID 4 Status Packet parts"),
        {"instruction": "fast_sync_read", "lengths": [4, 4, 4], "addresses": [132, 132, 132]})
    add("emanual-bulk-read", "Bulk Read: Present Input Voltage (144, 2) of ID 1, Present Temperature (146, 1) of "
        "ID 2", H2D, h("FF FF FD 00 FE 0D 00 92 01 90 00 02 00 02 92 00 01 00 1A 05"), True,
        em("bulk-read-0x92", "Bulk Read (0x92), Bulk Read Instruction Packet"))
    add("emanual-bulk-read-replies", "The two Bulk Read replies: ID 1 voltage 119 (11.9 V), ID 2 temperature 36 °C",
        D2H, h("FF FF FD 00 01 06 00 55 00 77 00 C3 69") + h("FF FF FD 00 02 05 00 55 00 24 8B A9"), False,
        em("bulk-read-0x92", "Bulk Read (0x92), ID 1 and ID 2 Status Packets"),
        {"instruction": "bulk_read", "ids": [1, 2], "addresses": [144, 146], "lengths": [2, 1]})
    add("emanual-bulk-write", "Bulk Write: Max Voltage Limit (32) = 160 on ID 1, Temperature Limit (31) = 80 on "
        "ID 2", H2D, h("FF FF FD 00 FE 10 00 93 01 20 00 02 00 A0 00 02 1F 00 01 00 50 B7 68"), True,
        em("bulk-write-0x93", "Bulk Write (0x93), Bulk Write Instruction Packet"))
    add("emanual-fast-bulk-read", "Fast Bulk Read: Present Position (132, 4) of ID 3, Present PWM (124, 2) of ID 7, "
        "Present Temperature (146, 1) of ID 4, with the CRC computed (DA 2D)", H2D,
        h("FF FF FD 00 FE 12 00 9A 03 84 00 04 00 07 7C 00 02 00 04 92 00 01 00 DA 2D"), True,
        em("fast-bulk-read-0x9a", "Fast Bulk Read (0x9A), Fast Bulk Read Instruction Packet",
           note="Erratum: the e-Manual prints CRC 20 F2 (the Fast Sync Read example's CRC); the CRC of these bytes "
                "is 0x2DDA (DA 2D)."))
    add("emanual-fast-bulk-read-as-printed", "The Fast Bulk Read example exactly as the e-Manual prints it (CRC "
        "20 F2): a receiver drops it as a CRC error", H2D,
        h("FF FF FD 00 FE 12 00 9A 03 84 00 04 00 07 7C 00 02 00 04 92 00 01 00 20 F2"), False,
        em("fast-bulk-read-0x9a", "Fast Bulk Read (0x9A), as printed", note="Erratum in the e-Manual: wrong CRC."))
    add("emanual-fast-bulk-read-status", "The one Fast Bulk Read reply: ID 3 position 166, ID 7 PWM 421, ID 4 "
        "temperature 31 °C", D2H,
        h("FF FF FD 00 FE 14 00 55 00 03 A6 00 00 00 67 A4 00 07 A5 01 24 74 00 04 1F D9 C1"), True,
        em("fast-bulk-read-0x9a", "Fast Bulk Read (0x9A), ID 3, ID 7 and ID 4 Status Packet parts"),
        {"instruction": "fast_bulk_read", "lengths": [4, 2, 1], "addresses": [132, 124, 146]})


# ---------------------------------------------------------------- (b) ours: every instruction, as RehabHost uses it

def rehabhost_vectors():
    I, S = dx.instruction, dx.status
    B = dx.BROADCAST_ID
    add("ping-id2", "Ping to ID 2 (identify)", H2D, I(2, "ping"), True, ours("README §5.1"))
    add("ping-status-xm430-w350", "Ping reply of an XM430-W350 (model number 1020), firmware 46", D2H,
        S(2, 0, dx.u16(1020) + bytes([46])), True, ours("README §5.1, §6.2 Model Number"), {"instruction": "ping"})
    add("read-hardware-error-status", "Read of Hardware Error Status (70, 1 byte) from ID 1", H2D,
        I(1, "read", dx.params_read(70, 1)), True, ours("README §5.2, §6.4"))
    add("read-status-overheating", "Reply: Alert bit set, Hardware Error Status = 0x04 (overheating)", D2H,
        S(1, 0x80, bytes([0x04])), True, ours("README §5.15, §6.4"),
        {"instruction": "read", "address": 70, "length": 1})
    add("read-model-and-firmware", "Read of Model Number .. Firmware Version (0, 7 bytes) from ID 1", H2D,
        I(1, "read", dx.params_read(0, 7)), True, ours("README §5.2, §6.2"))
    add("read-status-model-and-firmware", "Reply: model 1020, model information 0, firmware 46", D2H,
        S(1, 0, dx.u16(1020) + dx.le(0, 4) + bytes([46])), True, ours("README §6.2"),
        {"instruction": "read", "address": 0, "length": 7})
    add("write-return-delay-time-zero", "Write Return Delay Time (9) = 0 on ID 1 (EEPROM, torque off)", H2D,
        I(1, "write", dx.params_write(9, [0])), True, ours("README §6.3, §7.1"))
    add("write-operating-mode-current", "Write Operating Mode (11) = 0 (Current Control) on ID 1 (EEPROM, torque "
        "off)", H2D, I(1, "write", dx.params_write(11, [0])), True, ours("README §6.5, §7.1"))
    add("write-current-limit", "Write Current Limit (38) = 700 (1.883 A) on ID 2 (EEPROM, torque off)", H2D,
        I(2, "write", dx.params_write(38, dx.u16(700))), True, ours("README §6.2, §7.1"))
    add("write-indirect-addresses-cycle-record", "Write Indirect Address 1..11 (168, 22 bytes) on ID 1: 126..135 "
        "(Present Current, Velocity, Position) and 70 (Hardware Error Status)", H2D,
        I(1, "write", dx.params_write(168, b"".join(dx.u16(a) for a in dx.CYCLE_RECORD_SOURCES))), True,
        ours("README §7.2"))
    add("write-bus-watchdog-40ms", "Write Bus Watchdog (98) = 2 (40 ms) on ID 1", H2D,
        I(1, "write", dx.params_write(98, [2])), True, ours("README §6.6"))
    add("write-bus-watchdog-clear", "Write Bus Watchdog (98) = 0 on ID 1: disarms it and clears a Bus Watchdog Error",
        H2D, I(1, "write", dx.params_write(98, [0])), True, ours("README §6.6"))
    add("write-torque-enable-on", "Write Torque Enable (64) = 1 on ID 1", H2D,
        I(1, "write", dx.params_write(64, [1])), True, ours("README §6.3"))
    add("write-goal-current-negative", "Write Goal Current (102) = -100 (-269 mA) on ID 2: two's complement", H2D,
        I(2, "write", dx.params_write(102, dx.le(-100, 2))), True, ours("README §6.2"))
    add("read-bus-watchdog-status-expired", "Reply to a read of Bus Watchdog (98): -1 (0xFF), the watchdog expired",
        D2H, S(1, 0, bytes([0xFF])), True, ours("README §6.6"), {"instruction": "read", "address": 98, "length": 1})
    add("reg-write-goal-current", "Reg Write of Goal Current (102) = 250 on ID 2", H2D,
        I(2, "reg_write", dx.params_write(102, dx.le(250, 2))), True, ours("README §5.4"))
    add("action-broadcast", "Action to the broadcast ID: every servo runs its registered write; nobody answers", H2D,
        I(B, "action"), True, ours("README §5.5"))
    add("factory-reset-except-id-and-baud", "Factory Reset of ID 2, option 0x02 (all but ID and Baud Rate)", H2D,
        I(2, "factory_reset", bytes([0x02])), True, ours("README §5.6"))
    add("factory-reset-all", "Factory Reset of ID 2, option 0xFF (everything; the ID becomes 1)", H2D,
        I(2, "factory_reset", bytes([0xFF])), True, ours("README §5.6"))
    add("reboot-id2", "Reboot of ID 2 (the only way to clear a hardware-error shutdown)", H2D, I(2, "reboot"), True,
        ours("README §5.7, §6.4"))
    add("clear-multi-turn-id2", "Clear of ID 2's multi-turn count", H2D,
        I(2, "clear", bytes([0x01]) + dx.CLEAR_FIXED), True, ours("README §5.8"))
    add("control-table-backup-store-id2", "Control Table Backup of ID 2, store", H2D,
        I(2, "control_table_backup", bytes([0x01]) + dx.BACKUP_FIXED), True, ours("README §5.9"))
    add("sync-read-cycle-record", "Sync Read of the cycle record (Indirect Data 1, 224, 11 bytes) from IDs 1, 2",
        H2D, I(B, "sync_read", dx.params_sync_read(224, 11, [1, 2])), True, ours("README §5.10, §7.2"))
    add("sync-read-cycle-record-replies", "The two Sync Read replies of the cycle record", D2H,
        S(1, 0, record(148, 12, 2150, 0)) + S(2, 0, record(-80, -5, 1900, 0)), False, ours("README §5.10, §7.2"),
        {"instruction": "sync_read", "layout": record_layout()})
    # The driver's own records (README §7.1, §7.2), as DynamixelServoChain writes them; the host's tests compare
    # the driver's bytes with these, the simulator's tests answer them.
    add("driver-write-indirect-addresses", "The driver's set-up: Write Indirect Address 1..20 (168, 40 bytes) on ID 1: "
        "the read record (Present Current 126-127, Present Velocity 128-131, Present Position 132-135, Hardware "
        "Error Status 70, Torque Enable 64, Bus Watchdog 98, Present Temperature 146), then the write record (Goal "
        "Current 102-103, Goal Position 116-119)", H2D,
        I(1, "write", dx.params_write(168, b"".join(dx.u16(a) for a in dx.DRIVER_READ_SOURCES + dx.DRIVER_WRITE_SOURCES))),
        True, ours("README §7.1, §7.2"))
    add("driver-sync-write-goals", "The driver's command: Sync Write of the write record (Indirect Data 15, 238, 6 "
        "bytes): ID 1 Goal Current 62 (0.3 N·m at 1.78 N·m/A), Goal Position 2787 (the soft maximum, 65° past the "
        "180° zero, rounded inward); ID 2 Goal Current 41 (0.2 N·m), Goal Position 1309 (the soft minimum)", H2D,
        I(B, "sync_write", dx.params_sync_write(dx.DRIVER_WRITE_ADDRESS, dx.DRIVER_WRITE_LENGTH,
                                                [(1, driver_goals(62, 2787)), (2, driver_goals(41, 1309))])),
        True, ours("README §7, §7.2"))
    add("driver-sync-write-torque-off", "The driver's Cat 0: Sync Write of Torque Enable (64) = 0 to IDs 1, 2", H2D,
        I(B, "sync_write", dx.params_sync_write(64, 1, [(1, b"\x00"), (2, b"\x00")])), True, ours("README §7.2"))
    add("driver-fast-sync-read", "The driver's read: Fast Sync Read of the read record (Indirect Data 1, 224, 14 bytes) "
        "from IDs 1, 2", H2D, I(B, "fast_sync_read", dx.params_sync_read(dx.DRIVER_READ_ADDRESS, dx.DRIVER_READ_LENGTH, [1, 2])),
        True, ours("README §5.12, §7.2"))
    add("driver-fast-bulk-read", "The driver's read for a chain of two models: Fast Bulk Read of the read record (224, "
        "14 bytes) of ID 1 and of ID 2", H2D,
        I(B, "fast_bulk_read", dx.params_bulk_read([(1, dx.DRIVER_READ_ADDRESS, dx.DRIVER_READ_LENGTH),
                                                    (2, dx.DRIVER_READ_ADDRESS, dx.DRIVER_READ_LENGTH)])),
        True, ours("README §5.14, §7.2"))
    add("driver-fast-sync-read-status", "The reply to the driver's read: ID 1 Present Current 62, Velocity 15, "
        "Position 2770, no hardware error, torque on, Bus Watchdog 1 (20 ms), 31 °C; ID 2: -41, -10, 1330, 0, 1, 1, 30",
        D2H, dx.fast_status([(0, 1, driver_record(62, 15, 2770, 0, 1, 1, 31)), (0, 2, driver_record(-41, -10, 1330, 0, 1, 1, 30))]),
        True, ours("README §5.14, §7.2"), {"instruction": "fast_sync_read", "lengths": [14, 14], "layout": driver_layout()})
    add("driver-fast-sync-read-status-expired", "The reply after the servos' Bus Watchdog expired: Bus Watchdog reads "
        "0xFF (-1) and torque is still on (README §6.6)", D2H,
        dx.fast_status([(0, 1, driver_record(0, 0, 2770, 0, 1, 0xFF, 31)), (0, 2, driver_record(0, 0, 1330, 0, 1, 0xFF, 30))]),
        True, ours("README §6.6, §7.2"), {"instruction": "fast_sync_read", "lengths": [14, 14], "layout": driver_layout()})
    add("cycle-sync-write-goal-current", "The cycle's command: Sync Write of Goal Current (102, 2 bytes), ID 1 = 150 "
        "(403.5 mA), ID 2 = -75 (-201.75 mA)", H2D,
        I(B, "sync_write", dx.params_sync_write(102, 2, [(1, dx.le(150, 2)), (2, dx.le(-75, 2))])), True,
        ours("README §5.11, §7.2"))
    add("cycle-fast-sync-read", "The cycle's read: Fast Sync Read of the cycle record (224, 11 bytes) from IDs 1, 2",
        H2D, I(B, "fast_sync_read", dx.params_sync_read(224, 11, [1, 2])), True, ours("README §5.12, §7.2"))
    add("cycle-fast-sync-read-status", "The cycle's reply: one status packet carrying both records (ID 1: 148, 12, "
        "2150, 0; ID 2: -80, -5, 1900, 0)", D2H,
        dx.fast_status([(0, 1, record(148, 12, 2150, 0)), (0, 2, record(-80, -5, 1900, 0))]), True,
        ours("README §5.14, §7.2"), {"instruction": "fast_sync_read", "lengths": [11, 11], "layout": record_layout()})
    add("cycle-fast-sync-read-status-alert", "Cycle reply where ID 2 reports Alert with Hardware Error Status 0x20 "
        "(overload) and ID 1 is fine", D2H,
        dx.fast_status([(0, 1, record(148, 12, 2150, 0)), (0x80, 2, record(0, 0, 1900, 0x20))]), True,
        ours("README §5.14, §6.4, §7.2"),
        {"instruction": "fast_sync_read", "lengths": [11, 11], "layout": record_layout()})
    add("bulk-read-hardware-error-and-temperature", "Bulk Read: Hardware Error Status (70, 1) of ID 1, Present "
        "Temperature (146, 1) of ID 2", H2D, I(B, "bulk_read", dx.params_bulk_read([(1, 70, 1), (2, 146, 1)])), True,
        ours("README §5.13"))
    add("bulk-read-hardware-error-and-temperature-replies", "The two Bulk Read replies: no hardware error, 41 °C",
        D2H, S(1, 0, bytes([0])) + S(2, 0, bytes([41])), False, ours("README §5.13"),
        {"instruction": "bulk_read", "ids": [1, 2], "addresses": [70, 146], "lengths": [1, 1]})
    add("bulk-write-torque-off-and-watchdog-clear", "Bulk Write: Torque Enable (64) = 0 on ID 1, Bus Watchdog (98) = "
        "0 on ID 2", H2D, I(B, "bulk_write", dx.params_bulk_write([(1, 64, [0]), (2, 98, [0])])), True,
        ours("README §5.13"))
    add("fast-bulk-read-error-and-position", "Fast Bulk Read: Hardware Error Status (70, 1) of ID 1, Present Position "
        "(132, 4) of ID 2", H2D, I(B, "fast_bulk_read", dx.params_bulk_read([(1, 70, 1), (2, 132, 4)])), True,
        ours("README §5.14"))
    add("fast-bulk-read-error-and-position-status", "The one Fast Bulk Read reply: ID 1 no error, ID 2 at -4096 "
        "(one revolution negative)", D2H, dx.fast_status([(0, 1, bytes([0])), (0, 2, dx.le(-4096, 4))]), True,
        ours("README §5.14"), {"instruction": "fast_bulk_read", "lengths": [1, 4], "addresses": [70, 132]})


def error_vectors():
    S = dx.status
    cases = [
        (0x01, "result-fail", "Result Fail: e.g. Clear while the servo moves, Control Table Backup with torque on"),
        (0x02, "instruction-error", "Instruction Error: undefined instruction, or Action without a Reg Write"),
        (0x03, "crc-error", "CRC Error: the instruction's CRC did not match"),
        (0x04, "data-range-error", "Data Range Error: value out of range, or a Goal write after the Bus Watchdog "
                                   "expired"),
        (0x05, "data-length-error", "Data Length Error: fewer bytes than the item's size"),
        (0x06, "data-limit-error", "Data Limit Error: value outside the configured limit"),
        (0x07, "access-error", "Access Error: read-only or undefined address, or an EEPROM write with torque on"),
        (0x80, "alert-only", "Alert only: the instruction succeeded, a hardware error is latched"),
        (0x87, "alert-and-access-error", "Alert and Access Error together, e.g. Operating Mode write refused "
                                         "while a hardware error is latched and torque on"),
    ]
    for (err, name, text) in cases:
        add("status-error-" + name, "Status from ID 1 with error byte 0x%02X: %s" % (err, text), D2H, S(1, err), True,
            ours("README §5.15"), {"instruction": "write"})
    add("read-status-access-error-no-data", "Reply to a read of an undefined address: Access Error and no "
        "parameters", D2H, S(1, 0x07), True,
        ours("README §5.2 (e-Manual Read (0x02) note: Access Error, returned with no parameters)"),
        {"instruction": "read", "address": 700, "length": 4})
    add("status-error-undefined-number", "Error byte 0x08: error number 8 is not defined: rejected invalid_field",
        D2H, S(1, 0x08), False, ours("README §5.15, §8"))


def stuffing_vectors():
    I = dx.instruction
    add("stuffing-in-write-data", "Write to Indirect Data 1 (224) of 01 FF FF FD 02: one stuffing byte after "
        "FF FF FD, Length counts it (11 instead of 10)", H2D, I(1, "write", dx.params_write(224, h("01 FF FF FD 02"))),
        True, ours("README §4.3"))
    add("stuffing-at-end-of-parameters", "Write whose parameters end in FF FF FD: the stuffing 0xFD is the last "
        "byte before the CRC", H2D, I(1, "write", dx.params_write(224, h("10 FF FF FD"))), True, ours("README §4.3"))
    add("stuffing-several-occurrences", "Write of FF FF FD FF FF FD 00 FF FF FD: three occurrences, the first two "
        "adjacent, three stuffing bytes", H2D, I(1, "write", dx.params_write(224, h("FF FF FD FF FF FD 00 FF FF FD"))),
        True, ours("README §4.3"))
    add("stuffing-existing-fd-fd", "Write of FF FF FD FD: stuffed to FF FF FD FD FD; the receiver removes exactly "
        "one 0xFD", H2D, I(1, "write", dx.params_write(224, h("FF FF FD FD"))), True, ours("README §4.3"))
    add("stuffing-overlap-ff-ff-ff-fd", "Write of FF FF FF FD: one occurrence (the last two FFs)", H2D,
        I(1, "write", dx.params_write(224, h("FF FF FF FD"))), True, ours("README §4.3"))
    add("stuffing-in-status", "Reply to a read of 126..135: Present Velocity -1 (FF FF FF FF) followed by Present "
        "Position 253 (FD 00 00 00) contains FF FF FD: the device stuffs it", D2H,
        dx.status(1, 0, record(0, -1, 253, 0)[:10]), True, ours("README §4.3"),
        {"instruction": "read", "address": 126, "length": 10})
    add("stuffing-status-then-ff-fd-fd", "Reply to a read of Indirect Data 1..7 = FF FF FD 00 FF FD FD: one stuffing "
        "byte; the later FF FD FD is data and stays (the SDK's removeStuffing drops its first FD)", D2H,
        dx.status(1, 0, h("FF FF FD 00 FF FD FD")), True, ours("README §4.3, §10"),
        {"instruction": "read", "address": 224, "length": 7})
    add("no-stuffing-near-misses", "Write of FF FF FC FF FE FD FF FD FD FE FF FD: no FF FF FD anywhere, nothing "
        "stuffed", H2D, I(1, "write", dx.params_write(224, h("FF FF FC FF FE FD FF FD FD FE FF FD"))), True,
        ours("README §4.3"))
    # Parameters ending in FF FF whose CRC is 0x00FD: the wire shows FF FF FD 00 across the CRC, a false header.
    # The CRC is never stuffed, and a receiver that has the frame's Length never looks there.
    for x in range(65536):
        data = bytes([x & 0xFF, x >> 8]) + h("FF FF")
        wire = I(1, "write", dx.params_write(224, data))
        if wire[-2:] == h("FD 00"):
            break
    else:
        raise AssertionError("no CRC 0x00FD found")
    add("no-stuffing-crc-completes-a-header", "Write whose parameters end in FF FF and whose CRC is FD 00: the wire "
        "shows FF FF FD 00 at the end, nothing is stuffed (the CRC is outside the stuffing range); a ping reply "
        "follows and decodes", H2D, wire + dx.status(1, 0, dx.u16(1020) + bytes([46])), False,
        ours("README §4.3, §8"),
        {"instruction": "ping"})
    add("unstuffed-sender-accepted", "The stuffing-in-write-data packet sent without stuffing (as the Python SDK's "
        "txPacket sends it): CRC-valid, accepted, decodes to the same write (not canonical)", H2D,
        I(1, "write", dx.params_write(224, h("01 FF FF FD 02")), stuffed=False), False, ours("README §4.3, §10"))
    add("fast-status-not-stuffed", "Fast Sync Read reply whose data holds FF FF FD FD: a fast status is never "
        "stuffed, so the receiver must not remove anything", D2H,
        dx.fast_status([(0, 1, h("FF FF FD FD")), (0, 2, h("00 01 02 03"))]), True, ours("README §5.14"),
        {"instruction": "fast_sync_read", "lengths": [4, 4], "addresses": [224, 224]})
    # Largest frame the receiver accepts: Length = MAX_LENGTH.
    big = bytes((7 * i) & 0xFF for i in range(dx.MAX_LENGTH - 4))
    add("largest-frame", "Status with Length 1017 (1013 data bytes): a 1024-byte packet, the largest RehabHost "
        "accepts", D2H,
        dx.status(1, 0, big), True, ours("README §4.1, §8"))
    # Stuffing that pushes Length past the maximum: the encoder must refuse; a receiver counts it as oversize.
    data = bytearray(dx.MAX_LENGTH - 5)
    data[500:503] = h("FF FF FD")
    body = bytes([dx.INSTRUCTIONS["write"]]) + dx.u16(224) + bytes(data)
    assert len(body) + 2 == dx.MAX_LENGTH
    try:
        dx.instruction(1, "write", dx.params_write(224, data))
        raise AssertionError("encoder accepted an over-long stuffed packet")
    except dx.EncodeError:
        pass
    stuffed = dx.stuff(body)
    length = len(stuffed) + 2
    head = dx.HEADER + bytes([1, length & 0xFF, length >> 8])
    crc = dx.crc16(head + stuffed)
    over = head + stuffed + bytes([crc & 0xFF, crc >> 8])
    add("stuffing-pushes-past-maximum", "A write whose Length is 1017 before stuffing and 1018 after: the encoder "
        "refuses it; on the wire a receiver counts it as oversize and then decodes the Ping that follows", H2D,
        over + dx.instruction(1, "ping"), False, ours("README §4.1, §4.3, §8"))


def stream_vectors():
    I, S = dx.instruction, dx.status
    good_status = dx.fast_status([(0, 1, record(148, 12, 2150, 0)), (0, 2, record(-80, -5, 1900, 0))])
    ctx = {"instruction": "fast_sync_read", "lengths": [11, 11], "layout": record_layout()}
    ping_status = S(2, 0, dx.u16(1020) + bytes([46]))
    bad = bytearray(good_status)
    bad[12] ^= 0x01
    add("crc-failure", "Cycle reply with one bit flipped, then the intact reply: the first is a CRC error, the "
        "second decodes", D2H, bytes(bad) + good_status, False, ours("README §8"), ctx)
    add("truncated-frame", "The first 9 bytes of a cycle reply, then a whole one: the stump swallows bytes of the "
        "next frame, fails its CRC, and the receiver rescans and finds the whole reply", D2H,
        good_status[:9] + good_status, False, ours("README §8"), ctx)
    add("truncated-at-end", "A cycle reply missing its last byte, then the exchange ends (flush): a truncated "
        "frame, counted as malformed", D2H, good_status[:-1], False, ours("README §8"))
    junk = h("55 AA 13 37 FF 01 02 7E")
    add("junk-before-frame", "Line noise, then a Ping reply", D2H, junk + ping_status, False, ours("README §8"),
        {"instruction": "ping"})
    add("junk-glued-to-frame", "Noise ending in FF FF directly in front of a Ping reply: the hunt skips to the real "
        "header", D2H, h("00 FF FF") + ping_status, False, ours("README §8"), {"instruction": "ping"})
    cycle = I(dx.BROADCAST_ID, "sync_write", dx.params_sync_write(102, 2, [(1, dx.le(150, 2)), (2, dx.le(-75, 2))]))
    fsr = I(dx.BROADCAST_ID, "fast_sync_read", dx.params_sync_read(224, 11, [1, 2]))
    add("back-to-back-cycle", "One cycle as the host sends it: the Sync Write of Goal Current and the Fast Sync Read, "
        "with no gap", H2D, cycle + fsr, False, ours("README §7.2"))
    add("oversize-length", "A header with Length 1018 (a 1025-byte packet), then a Ping: oversize, the Ping "
        "decodes", H2D, dx.HEADER + h("01 FA 03") + I(1, "ping"), False, ours("README §8"))
    add("length-too-short", "A header with Length 2, then a Ping: malformed, the Ping decodes", H2D,
        dx.HEADER + h("01 02 00 01 00") + I(1, "ping"), False, ours("README §8"))
    add("bad-id-0xfd", "A header followed by ID 0xFD (not an ID), then a Ping: malformed, the Ping decodes", H2D,
        dx.HEADER + h("FD 03 00 01 00 00") + I(1, "ping"), False, ours("README §2.2, §8"))
    add("reserved-byte-not-zero", "FF FF FD 01 is not a header: those bytes are discarded, the Ping after them "
        "decodes", H2D, h("FF FF FD 01 01 03 00 01") + I(1, "ping"), False, ours("README §2.1, §8"))

    def raw(packet_id, body):      # a CRC-valid frame around any body, stuffed
        return dx.frame(packet_id, body)
    add("unknown-instruction", "A CRC-valid packet with instruction 0x07: rejected unknown_instruction", H2D,
        raw(1, h("07 00")), False, ours("README §8"))
    add("read-bad-length", "Read with three parameters: rejected bad_length", H2D, raw(1, h("02 84 00 04")), False,
        ours("README §5.2, §8"))
    add("sync-write-not-broadcast", "Sync Write addressed to ID 1 instead of 0xFE: rejected invalid_field", H2D,
        raw(1, h("83 66 00 02 00 01 96 00")), False, ours("README §5.11, §8"))
    add("sync-write-ragged", "Sync Write whose entries do not divide into ID + 2 bytes: rejected bad_length", H2D,
        raw(dx.BROADCAST_ID, h("83 66 00 02 00 01 96 00 02 B5")), False, ours("README §5.11, §8"))
    add("sync-read-duplicate-id", "Sync Read naming ID 1 twice: rejected invalid_field", H2D,
        raw(dx.BROADCAST_ID, h("82 E0 00 0B 00 01 01")), False, ours("README §5.10, §8"))
    add("clear-wrong-fixed-bytes", "Clear whose fixed bytes are not 44 58 4C 22: rejected invalid_field", H2D,
        raw(1, h("10 01 44 58 4C 23")), False, ours("README §5.8, §8"))
    add("factory-reset-undefined-option", "Factory Reset with option 0x03: rejected invalid_field", H2D,
        raw(1, h("06 03")), False, ours("README §5.6, §8"))
    add("status-too-short", "A status packet with Length 3 (no error byte): rejected bad_length", D2H,
        raw(1, h("55")), False, ours("README §5.15, §8"))


def crc_examples():
    cases = [("check value (CRC catalogue 'CRC-16/BUYPASS', 'CRC-16/UMTS')", b"123456789"),
             ("empty input", b""),
             ("one zero byte", b"\x00"),
             ("header only", dx.HEADER),
             ("e-Manual Ping to ID 1, header to instruction", h("FF FF FD 00 01 03 00 01")),
             ("e-Manual Read reply, header to last parameter", h("FF FF FD 00 01 08 00 55 00 A6 00 00 00")),
             ("e-Manual Fast Sync Read reply, first block (header to ID 3's data)",
              h("FF FF FD 00 FE 19 00 55 00 03 A6 00 00 00")),
             ("e-Manual Fast Sync Read reply, up to ID 7's data (includes ID 3's CRC)",
              h("FF FF FD 00 FE 19 00 55 00 03 A6 00 00 00 84 08 00 07 1F 08 00 00"))]
    return [{"description": d, "input_hex": data.hex(), "crc": "0x%04X" % dx.crc16(data),
             "wire_order_hex": bytes([dx.crc16(data) & 0xFF, dx.crc16(data) >> 8]).hex()} for (d, data) in cases]


# ---------------------------------------------------------------- building the files

def error_byte(fields):
    return (0x80 if fields["alert"] else 0) | fields["error_number"]


def encode_back(packet, reply_to):
    params = bytes.fromhex(packet["parameters_hex"])
    if packet["kind"] == "instruction":
        return dx.instruction(packet["id"], packet["instruction"], params)
    if packet["id"] == dx.BROADCAST_ID:
        return dx.fast_status([(error_byte(s["error"]), s["id"], bytes.fromhex(s["data_hex"]))
                               for s in packet["fields"]["slots"]])
    return dx.status(packet["id"], error_byte(packet["error"]), params)


def build(v):
    r = dx.Receiver()
    r.feed(v["wire"])
    r.flush()
    expect = []
    frames = []
    for item in r.out:
        if "packet" in item:
            packet = item["packet"]
            if packet["kind"] == "status" and v["reply_to"]:
                ctx = dict(v["reply_to"])
                if "layout" in ctx:
                    ctx["layout"] = [tuple(x) for x in ctx["layout"]]
                packet["fields"] = dx.decode_status_reply(packet, item["_wire"], ctx)
            frames.append((packet, item["_wire"]))
            expect.append({"packet": packet})
        else:
            expect.append(item)
    if v["canonical"]:
        assert len(expect) == 1 and "packet" in expect[0], v["name"]
        again = encode_back(expect[0]["packet"], v["reply_to"])
        assert again == v["wire"], "%s: re-encoding gives %s" % (v["name"], again.hex())
    stats = r.stats
    decoded = sum(len(w) for (_, w) in frames)
    assert stats["bytes_received"] == decoded + stats["discarded_bytes"], v["name"]
    doc = {"name": v["name"], "description": v["description"], "direction": v["direction"],
           "source": v["source"], "wire_hex": v["wire"].hex(), "canonical": v["canonical"]}
    if v["reply_to"]:
        doc["reply_to"] = v["reply_to"]
    doc["expect"] = expect
    doc["statistics"] = stats
    return doc, frames


def self_checks(docs):
    by = {d["name"]: d for d in docs}
    assert dx.crc16(b"123456789") == 0xFEE8
    # Every e-Manual packet printed with a correct CRC decodes; the two errata are CRC errors.
    for d in docs:
        if d["source"]["kind"] != "e-manual":
            continue
        printed_bad = d["name"].endswith("-as-printed")
        assert (d["statistics"]["crc_errors"] > 0) == printed_bad, d["name"]
    # The fast-read replies of the e-Manual carry running CRCs.
    for name in ("emanual-fast-sync-read-status", "emanual-fast-bulk-read-status"):
        assert all(s["crc_ok"] for s in by[name]["expect"][0]["packet"]["fields"]["slots"]), name
    # One cycle on the wire (README §7.3).
    assert dx.exchange_bytes([1, 2]) == (20, 16, 38), dx.exchange_bytes([1, 2])
    assert len(bytes.fromhex(by["cycle-sync-write-goal-current"]["wire_hex"])) == 20
    assert len(bytes.fromhex(by["cycle-fast-sync-read"]["wire_hex"])) == 16
    assert len(bytes.fromhex(by["cycle-fast-sync-read-status"]["wire_hex"])) == 38
    # The driver's cycle (README §7.3): 28 + 16 + 44 = 88 bytes; 20 for the Fast Bulk Read of two servos.
    assert len(bytes.fromhex(by["driver-sync-write-goals"]["wire_hex"])) == 28
    assert len(bytes.fromhex(by["driver-fast-sync-read"]["wire_hex"])) == 16
    assert len(bytes.fromhex(by["driver-fast-bulk-read"]["wire_hex"])) == 20
    assert len(bytes.fromhex(by["driver-fast-sync-read-status"]["wire_hex"])) == 44
    # Stuffing round trips on random bodies rich in FF and FD.
    rng = random.Random(20240516)
    for _ in range(20000):
        body = bytes(rng.choice((0xFF, 0xFF, 0xFD, 0x00, 0x55)) for _ in range(rng.randrange(0, 24)))
        assert dx.unstuff(dx.stuff(body)) == body, body.hex()
        s = dx.stuff(body)
        for k in range(len(s) - 3):          # no unstuffed FF FF FD survives stuffing
            if s[k:k + 3] == b"\xFF\xFF\xFD":
                assert s[k + 3] == 0xFD, s.hex()


# ---------------------------------------------------------------- the SDK cross-check

class FakePort:
    """Stands in for dynamixel_sdk.PortHandler: records what the SDK writes, serves bytes to read."""

    def __init__(self, rx=b""):
        self.is_using = False
        self.written = []
        self.rx = bytearray(rx)

    def clearPort(self):
        pass

    def writePort(self, packet):
        self.written.append(bytes(packet))
        return len(packet)

    def readPort(self, length):
        data = self.rx[:length]
        del self.rx[:length]
        return list(data)

    def setPacketTimeout(self, packet_length):
        pass

    def setPacketTimeoutMillis(self, msec):
        pass

    def isPacketTimeout(self):
        return True          # nothing more will ever arrive

    def getBaudRate(self):
        return 1000000


class SdkCheck:
    def __init__(self, sdk, ph, version):
        self.sdk, self.ph, self.version = sdk, ph, version
        self.counts = {}
        self.failures = []
        self.findings = []

    def count(self, key, n=1):
        self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, text):
        self.failures.append(text)

    def tx(self, packet):
        """The bytes the SDK writes for this instruction, built through its public API where it has one."""
        sdk, ph = self.sdk, self.ph
        port = FakePort()
        name, pid, f = packet["instruction"], packet["id"], packet["fields"]
        params = bytes.fromhex(packet["parameters_hex"])
        api = True
        if name == "ping":
            (ph.broadcastPing(port) if pid == dx.BROADCAST_ID else ph.ping(port, pid))
        elif name == "read" and pid != dx.BROADCAST_ID:
            ph.readTx(port, pid, f["address"], f["length"])
        elif name == "write":
            data = list(params[2:])
            ph.writeTxOnly(port, pid, f["address"], len(data), data)
        elif name == "reg_write":
            data = list(params[2:])
            ph.regWriteTxOnly(port, pid, f["address"], len(data), data)
        elif name == "action":
            ph.action(port, pid)
        elif name == "factory_reset":
            ph.factoryReset(port, pid, params[0])
        elif name == "reboot":
            ph.reboot(port, pid)
        elif name == "clear":
            ph.clearMultiTurn(port, pid)
        elif name in ("sync_read", "fast_sync_read"):
            g = sdk.GroupSyncRead(port, ph, f["address"], f["length"])
            for i in f["ids"]:
                g.addParam(i)
            (g.fastSyncReadTxPacket() if name == "fast_sync_read" else g.txPacket())
        elif name == "sync_write":
            g = sdk.GroupSyncWrite(port, ph, f["address"], f["length"])
            for e in f["entries"]:
                g.addParam(e["id"], list(bytes.fromhex(e["data_hex"])))
            g.txPacket()
        elif name in ("bulk_read", "fast_bulk_read"):
            g = sdk.GroupBulkRead(port, ph)
            for e in f["entries"]:
                g.addParam(e["id"], e["address"], e["length"])
            (g.fastBulkReadTxPacket() if name == "fast_bulk_read" else g.txPacket())
        elif name == "bulk_write":
            g = sdk.GroupBulkWrite(port, ph)
            for e in f["entries"]:
                g.addParam(e["id"], e["address"], e["length"], list(bytes.fromhex(e["data_hex"])))
            g.txPacket()
        else:
            # No SDK function (Control Table Backup, a broadcast Read): its txPacket on a raw packet.
            api = False
            txpacket = [0] * (len(params) + 10)
            txpacket[4] = pid
            txpacket[5] = (len(params) + 3) & 0xFF
            txpacket[6] = (len(params) + 3) >> 8
            txpacket[7] = dx.INSTRUCTIONS[name]
            txpacket[8:8 + len(params)] = list(params)
            ph.txPacket(port, txpacket)
        return (port.written[0] if port.written else None), api

    def check_tx(self, vname, packet, wire):
        got, api = self.tx(packet)
        self.count("tx packets built by the SDK" + ("" if api else " (raw txPacket, no SDK function)"))
        if got == wire:
            self.count("tx identical")
            return
        body = bytes([dx.INSTRUCTIONS[packet["instruction"]]]) + bytes.fromhex(packet["parameters_hex"])
        unstuffed = dx.frame(packet["id"], body, stuffed=False)
        if packet["stuffing_bytes"] > 0 and got == unstuffed:
            self.count("tx identical except that the SDK did not stuff (known SDK deviation)")
            # The SDK's own addStuffing() does produce our bytes when its result is used.
            pk = list(unstuffed)
            stuffed = self.ph.addStuffing(pk)
            n = (stuffed[5] | stuffed[6] << 8) + 7
            crc = self.ph.updateCRC(0, stuffed, n - 2)
            stuffed = bytes(stuffed[:n - 2]) + bytes([crc & 0xFF, crc >> 8])
            if stuffed != wire:
                self.fail("%s: SDK addStuffing() gives %s, we give %s" % (vname, stuffed.hex(), wire.hex()))
            else:
                self.count("addStuffing() result equals our stuffed frame")
            r = dx.receive(got)
            ok = (r.stats["packets_decoded"] == 1 and r.out[0]["packet"]["fields"] == packet["fields"])
            if ok:
                self.count("SDK's unstuffed packet accepted by our receiver as the same packet")
            elif r.stats["packets_decoded"] == 1 and dx.unstuff(body) != body:
                # The body itself holds FF FF FD FD: sent unstuffed, every conforming receiver (a servo too)
                # takes the second FD for a stuffing byte and drops it.
                self.count("SDK's unstuffed packet misread by every conforming receiver (data holds FF FF FD FD)")
                self.findings.append(
                    "SDK txPacket() does not stuff (it discards addStuffing()'s result), so in '%s' it sends data "
                    "%s unstuffed and a conforming receiver reads %s" % (
                        vname, packet["fields"].get("data_hex"), r.out[0]["packet"]["fields"].get("data_hex")))
            else:
                self.fail("%s: our receiver does not accept the SDK's unstuffed packet" % vname)
            return
        self.fail("%s: SDK writes %s, vector has %s" % (vname, got.hex() if got else None, wire.hex()))

    def check_rx(self, vname, packet, wire, reply_to):
        ph = self.ph
        fast = packet["id"] == dx.BROADCAST_ID
        port = FakePort(wire)
        port.is_using = True
        rx, result = ph.rxPacket(port, fast)
        self.count("rx status packets given to the SDK's rxPacket")
        if result != 0:
            self.fail("%s: SDK rxPacket result %d" % (vname, result))
            return
        length = rx[5] | rx[6] << 8
        sdk_params = bytes(rx[9:7 + length - 2])
        ours_params = bytes.fromhex(packet["parameters_hex"])
        same = rx[4] == packet["id"] and rx[8] == error_byte(packet["error"]) and sdk_params == ours_params
        if same:
            self.count("rx identical (id, error, parameters)")
        elif vname == "stuffing-status-then-ff-fd-fd":
            self.count("rx differs: SDK removeStuffing() bug reproduced")
            self.findings.append(
                "SDK removeStuffing() corrupts '%s': SDK parameters %s, sent %s (after one stuffing byte is removed, "
                "its in-place copy makes the next FF FD FD look like FF FF FD FD and drops a data byte)"
                % (vname, sdk_params.hex(" "), ours_params.hex(" ")))
        else:
            self.fail("%s: SDK rx id %d error %d params %s; ours %s" % (vname, rx[4], rx[8], sdk_params.hex(),
                                                                          ours_params.hex()))
        if fast and reply_to:
            slots = packet["fields"]["slots"]
            if reply_to["instruction"] == "fast_sync_read":
                n = reply_to["lengths"][0]
                port = FakePort(wire)
                port.is_using = True
                data, result, _ = ph.fastSyncReadRx(port, dx.BROADCAST_ID, (n + 4) * len(slots))
                step = n + 4
                sdk_slots = [(data[k * step], data[k * step + 1], bytes(data[k * step + 2:k * step + 2 + n]))
                             for k in range(len(slots))]
            else:
                param = []
                for s, a, n in zip(slots, reply_to["addresses"], reply_to["lengths"]):
                    param += [s["id"], a & 0xFF, a >> 8, n & 0xFF, n >> 8]
                port = FakePort(wire)
                port.is_using = True
                got, result = ph.fastBulkReadRx(port, param)
                sdk_slots = [(None, i, bytes(got.get(i, b""))[:n]) for i, n in zip([s["id"] for s in slots],
                                                                                  reply_to["lengths"])]
                for s, n in zip(slots, reply_to["lengths"]):
                    idx = param.index(s["id"])
                    if idx % 5 != 0:
                        self.findings.append(
                            "SDK fastBulkReadRx() looks up ID %d's length with param.index(), which finds byte %d "
                            "of its parameter list (not an ID), in '%s': it reads length %d instead of %d and only "
                            "the later trim to the requested length saves the result"
                            % (s["id"], idx, vname, param[idx + 3] | param[idx + 4] << 8, n))
            ours_slots = [(error_byte(s["error"]), s["id"], bytes.fromhex(s["data_hex"])) for s in slots]
            if all((a[0] is None or a[0] == b[0]) and a[1] == b[1] and a[2] == b[2]
                   for a, b in zip(sdk_slots, ours_slots)):
                self.count("fast-read slots identical to the SDK's parse")
            else:
                self.fail("%s: SDK fast slots %r, ours %r" % (vname, sdk_slots, ours_slots))

    def check_crc(self, frames, crc_file):
        for (packet, wire) in frames:
            if self.ph.updateCRC(0, list(wire), len(wire) - 2) != (wire[-2] | wire[-1] << 8):
                self.fail("CRC of %s differs from the SDK's updateCRC" % wire.hex())
            self.count("frame CRCs equal to the SDK's updateCRC")
            if packet["kind"] == "status" and packet["id"] == dx.BROADCAST_ID and "slots" in packet["fields"]:
                for s in packet["fields"]["slots"]:
                    self.count("fast-read block CRCs checked (ours; the SDK does not check them)")
                    if not s["crc_ok"]:
                        self.fail("fast block CRC wrong in %s" % wire.hex())
        for c in crc_file:
            data = bytes.fromhex(c["input_hex"])
            if self.ph.updateCRC(0, list(data), len(data)) != int(c["crc"], 16):
                self.fail("CRC example %s" % c["description"])
            self.count("CRC examples equal to the SDK's updateCRC")
        rng = random.Random(7)
        for _ in range(5000):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
            if self.ph.updateCRC(0, list(data), len(data)) != dx.crc16(data):
                self.fail("random CRC %s" % data.hex())
        self.count("random buffers: our crc16 equal to the SDK's updateCRC", 5000)

    def check_stuffing_random(self):
        """addStuffing/removeStuffing against stuff/unstuff on random packets rich in FF and FD."""
        rng = random.Random(20240516)
        add_ok = rm_ok = rm_bad = 0
        example = None
        for _ in range(20000):
            params = bytes(rng.choice((0xFF, 0xFF, 0xFD, 0x00)) for _ in range(rng.randrange(1, 20)))
            body = bytes([dx.INSTRUCTIONS["write"]]) + params
            unstuffed = dx.frame(1, body, stuffed=False)
            ours_wire = dx.frame(1, body)
            s = self.ph.addStuffing(list(unstuffed))
            n = (s[5] | s[6] << 8) + 7
            if bytes(s[:n - 2]) == ours_wire[:-2]:
                add_ok += 1
            else:
                self.fail("addStuffing %s" % body.hex())
            rm = self.ph.removeStuffing(list(ours_wire))
            n = (rm[5] | rm[6] << 8) + 7
            if bytes(rm[7:n - 2]) == body:
                rm_ok += 1
            else:
                rm_bad += 1
                example = example or (body, bytes(rm[7:n - 2]))
        self.count("random packets: SDK addStuffing() equal to ours", add_ok)
        self.count("random packets: SDK removeStuffing() equal to the original", rm_ok)
        if rm_bad:
            self.count("random packets: SDK removeStuffing() corrupts the body", rm_bad)
            self.findings.append("SDK removeStuffing() returns a wrong body for %d of 20000 random stuffed packets; "
                                 "e.g. body %s comes back as %s" % (rm_bad, example[0].hex(" "), example[1].hex(" ")))

    def report(self):
        print("SDK cross-check against dynamixel-sdk %s (pin: %s):" % (self.version, SDK_PIN))
        for k in sorted(self.counts):
            print("  %6d  %s" % (self.counts[k], k))
        for f in self.findings:
            print("  finding: " + f)
        for f in self.failures:
            print("  MISMATCH: " + f)
        print("SDK cross-check: %s" % ("PASSED" if not self.failures else "FAILED (%d)" % len(self.failures)))
        return not self.failures


def sdk_crosscheck(docs, frames_by_vector, crc_file):
    try:
        import importlib.metadata
        import dynamixel_sdk as sdk
        from dynamixel_sdk.protocol2_packet_handler import Protocol2PacketHandler
    except ImportError as e:
        print("SDK cross-check SKIPPED: the ROBOTIS DynamixelSDK is not importable (%s)." % e)
        print("  To run it: python3 -m venv /tmp/dxl-venv && /tmp/dxl-venv/bin/pip install %s" % SDK_PIN)
        print("  then: /tmp/dxl-venv/bin/python %s --require-sdk" % os.path.relpath(__file__))
        return None
    try:
        version = importlib.metadata.version("dynamixel-sdk")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    chk = SdkCheck(sdk, Protocol2PacketHandler(), version)
    seen = set()
    all_frames = []
    for d in docs:
        for (packet, wire) in frames_by_vector[d["name"]]:
            all_frames.append((packet, wire))
            if wire in seen:
                continue
            seen.add(wire)
            if packet["kind"] == "instruction":
                chk.check_tx(d["name"], packet, wire)
            else:
                chk.check_rx(d["name"], packet, wire, d.get("reply_to"))
    chk.check_crc(all_frames, crc_file)
    chk.check_stuffing_random()
    return chk.report()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--require-sdk", action="store_true", help="fail when the SDK cannot be imported")
    ap.add_argument("--no-sdk", action="store_true", help="skip the SDK cross-check")
    args = ap.parse_args()

    emanual_vectors()
    rehabhost_vectors()
    error_vectors()
    stuffing_vectors()
    stream_vectors()
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "duplicate vector names"

    docs, frames_by_vector = [], {}
    for v in VECTORS:
        doc, frames = build(v)
        docs.append(doc)
        frames_by_vector[v["name"]] = frames
    self_checks(docs)
    crc_file = crc_examples()

    os.makedirs(OUT, exist_ok=True)
    os.makedirs(os.path.join(OUT, "crc"), exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    for doc in docs:
        with open(os.path.join(OUT, doc["name"] + ".json"), "w") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
    with open(os.path.join(OUT, "crc", "crc16.json"), "w") as f:
        json.dump({"name": "crc16", "description": "CRC-16 of DYNAMIXEL Protocol 2.0 (README §3): poly 0x8005, init "
                   "0x0000, no reflection, no final XOR. 'crc' is the value; 'wire_order_hex' is how a packet "
                   "carries it (low byte first).", "examples": crc_file}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    kinds = {}
    for d in docs:
        kinds[d["source"]["kind"]] = kinds.get(d["source"]["kind"], 0) + 1
    print("wrote %d vectors to %s (%s) and %d CRC examples to %s" % (
        len(docs), os.path.relpath(OUT), ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())),
        len(crc_file), os.path.relpath(os.path.join(OUT, "crc", "crc16.json"))))
    sw, fsr, reply = dx.exchange_bytes([1, 2])
    print("one cycle, 2 servos: sync write %d + fast sync read %d + reply %d = %d bytes" % (sw, fsr, reply,
                                                                                         sw + fsr + reply))
    if args.no_sdk:
        print("SDK cross-check SKIPPED (--no-sdk)")
        return 0
    result = sdk_crosscheck(docs, frames_by_vector, crc_file)
    if result is None:
        return 2 if args.require_sdk else 0
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
