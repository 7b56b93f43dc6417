#!/usr/bin/env python3
"""Drives a Dynamixel Protocol 2.0 bus with the vendor's own client, the ROBOTIS `dynamixel-sdk`
(PyPI, pinned below), unmodified: the judge of whether a bus (rehabsim's simulated one on a
pseudo-terminal, or real servos behind a U2D2) is what the SDK expects. Every step prints one line;
the first that fails ends the run with exit 1 and says what the SDK saw.

    scripts/dynamixel-sdk-check.sh PORT [BAUD] [ID ...]      (sets up the pinned SDK in a venv)
    python3 sdk_client_check.py PORT BAUD ID ID ...          (with an interpreter that has the SDK)

It needs at least two XM430-W350 servos (Model Number 1020) with torque off. It changes only RAM
items and Return Delay Time (EEPROM, written back to what it was), and reboots the last servo (which
clears its RAM). Exit codes: 0 every check passed; 1 a check failed; 64 bad use; 69 the SDK is not
installed; 74 the port cannot be opened.
"""

import sys
import time
from importlib import metadata

SDK_PIN = "dynamixel-sdk==4.1.0"

try:
    import dynamixel_sdk as sdk
except ImportError:
    print(f"the ROBOTIS SDK is not installed ({SDK_PIN}); scripts/dynamixel-sdk-check.sh sets it up", file=sys.stderr)
    sys.exit(69)

# XM430-W350 control table (protocols/dynamixel/README.md §6.2).
MODEL_NUMBER, FIRMWARE_VERSION, RETURN_DELAY_TIME, OPERATING_MODE = 0, 6, 9, 11
TORQUE_ENABLE, LED, HARDWARE_ERROR_STATUS = 64, 65, 70
PROFILE_VELOCITY, PRESENT_POSITION, PRESENT_TEMPERATURE = 112, 132, 146
XM430_W350 = 1020
ACCESS_ERROR, DATA_RANGE_ERROR = 7, 4


class CheckFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[4], file=sys.stderr)
        return 64
    port_name, baud, ids = argv[1], int(argv[2]), [int(text) for text in argv[3:]]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        print("give at least two different servo IDs", file=sys.stderr)
        return 64
    port = sdk.PortHandler(port_name)
    if not port.openPort():
        print(f"cannot open {port_name}", file=sys.stderr)
        return 74
    if not port.setBaudRate(baud):
        print(f"the SDK cannot set {baud} bit/s on {port_name}", file=sys.stderr)
        return 74
    handler = sdk.PacketHandler(2.0)

    def result(what, communication, error=0):
        check(communication == sdk.COMM_SUCCESS, f"{what}: {handler.getTxRxResult(communication)}")
        check(error == 0, f"{what}: the servo answered with error 0x{error:02X} ({handler.getRxPacketError(error)})")

    def step(text):
        print(f"ok: {text}")

    try:
        for dxl_id in ids:
            model, communication, error = handler.ping(port, dxl_id)
            result(f"ping {dxl_id}", communication, error)
            check(model == XM430_W350, f"ping {dxl_id}: model {model}, expected {XM430_W350}")
        step(f"ping: {', '.join(map(str, ids))} answer as XM430-W350")

        found, communication = handler.broadcastPing(port)
        result("broadcast ping", communication)
        check(all(dxl_id in found and found[dxl_id][0] == XM430_W350 for dxl_id in ids), f"broadcast ping found {found}")
        step(f"broadcast ping: {sorted(found)}")

        for dxl_id in ids:
            model, communication, error = handler.read2ByteTxRx(port, dxl_id, MODEL_NUMBER)
            result(f"read Model Number of {dxl_id}", communication, error)
            firmware, communication, error = handler.read1ByteTxRx(port, dxl_id, FIRMWARE_VERSION)
            result(f"read Firmware Version of {dxl_id}", communication, error)
            check(model == XM430_W350 and firmware >= 45, f"servo {dxl_id}: model {model}, firmware {firmware}")
        step("read: Model Number and Firmware Version")

        first, last = ids[0], ids[-1]
        result("torque off", *handler.write1ByteTxRx(port, first, TORQUE_ENABLE, 0))
        delay, communication, error = handler.read1ByteTxRx(port, first, RETURN_DELAY_TIME)
        result("read Return Delay Time", communication, error)
        result("write Return Delay Time (EEPROM, torque off)", *handler.write1ByteTxRx(port, first, RETURN_DELAY_TIME, 0))
        value, communication, error = handler.read1ByteTxRx(port, first, RETURN_DELAY_TIME)
        result("read Return Delay Time back", communication, error)
        check(value == 0, f"Return Delay Time reads {value} after writing 0")
        result("write LED", *handler.write1ByteTxRx(port, first, LED, 1))
        value, communication, error = handler.read1ByteTxRx(port, first, LED)
        result("read LED back", communication, error)
        check(value == 1, f"LED reads {value} after writing 1")
        step("write and read back: Return Delay Time (EEPROM) and LED (RAM)")

        result("torque on", *handler.write1ByteTxRx(port, first, TORQUE_ENABLE, 1))
        communication, error = handler.write1ByteTxRx(port, first, RETURN_DELAY_TIME, 1)
        check(communication == sdk.COMM_SUCCESS, f"EEPROM write with torque on: {handler.getTxRxResult(communication)}")
        check(error & 0x7F == ACCESS_ERROR, f"EEPROM write with torque on: error 0x{error:02X}, expected Access Error (7)")
        result("torque off", *handler.write1ByteTxRx(port, first, TORQUE_ENABLE, 0))
        communication, error = handler.write1ByteTxRx(port, first, OPERATING_MODE, 2)
        check(communication == sdk.COMM_SUCCESS, f"Operating Mode 2: {handler.getTxRxResult(communication)}")
        check(error & 0x7F == DATA_RANGE_ERROR, f"Operating Mode 2 (undefined): error 0x{error:02X}, expected Data Range Error (4)")
        result("restore Return Delay Time", *handler.write1ByteTxRx(port, first, RETURN_DELAY_TIME, delay))
        step("refusals: EEPROM with torque on is Access Error, an undefined mode is Data Range Error")

        writer = sdk.GroupSyncWrite(port, handler, PROFILE_VELOCITY, 4)
        wanted = {dxl_id: 100 + 10 * index for index, dxl_id in enumerate(ids)}
        for dxl_id, velocity in wanted.items():
            check(writer.addParam(dxl_id, list(velocity.to_bytes(4, "little"))), f"sync write: addParam({dxl_id})")
        result("sync write Profile Velocity", writer.txPacket())
        reader = sdk.GroupSyncRead(port, handler, PROFILE_VELOCITY, 4)
        for dxl_id in ids:
            check(reader.addParam(dxl_id), f"sync read: addParam({dxl_id})")
        result("sync read Profile Velocity", reader.txRxPacket())
        for dxl_id, velocity in wanted.items():
            check(reader.isAvailable(dxl_id, PROFILE_VELOCITY, 4), f"sync read: nothing from {dxl_id}")
            value = reader.getData(dxl_id, PROFILE_VELOCITY, 4)
            check(value == velocity, f"sync read: Profile Velocity of {dxl_id} is {value}, {velocity} was written")
        step(f"sync write and sync read: Profile Velocity {wanted}")

        positions = sdk.GroupSyncRead(port, handler, PRESENT_POSITION, 4)
        for dxl_id in ids:
            positions.addParam(dxl_id)
        result("sync read Present Position", positions.txRxPacket())
        plain = {dxl_id: positions.getData(dxl_id, PRESENT_POSITION, 4) for dxl_id in ids}
        result("fast sync read Present Position", positions.fastSyncRead())
        fast = {dxl_id: positions.getData(dxl_id, PRESENT_POSITION, 4) for dxl_id in ids}
        # Torque is off and nothing moves them: both reads see the same counts (±1 of encoder noise).
        for dxl_id in ids:
            check(abs(plain[dxl_id] - fast[dxl_id]) <= 1, f"Present Position of {dxl_id}: sync read {plain[dxl_id]}, fast sync read {fast[dxl_id]}")
        step(f"fast sync read agrees with sync read: Present Position {fast}")

        bulk = sdk.GroupBulkRead(port, handler)
        check(bulk.addParam(first, PRESENT_POSITION, 4), "bulk read: addParam(position)")
        check(bulk.addParam(last, PRESENT_TEMPERATURE, 1), "bulk read: addParam(temperature)")
        result("bulk read", bulk.txRxPacket())
        check(bulk.isAvailable(first, PRESENT_POSITION, 4) and bulk.isAvailable(last, PRESENT_TEMPERATURE, 1), "bulk read: a servo's data is missing")
        temperature = bulk.getData(last, PRESENT_TEMPERATURE, 1)
        check(5 <= temperature <= 80, f"bulk read: Present Temperature of {last} is {temperature} °C")
        step(f"bulk read: position of {first} {bulk.getData(first, PRESENT_POSITION, 4)}, temperature of {last} {temperature} °C")

        bulk_writer = sdk.GroupBulkWrite(port, handler)
        check(bulk_writer.addParam(first, LED, 1, [0]), "bulk write: addParam(LED)")
        check(bulk_writer.addParam(last, PROFILE_VELOCITY, 4, list((77).to_bytes(4, "little"))), "bulk write: addParam(velocity)")
        result("bulk write", bulk_writer.txPacket())
        led, communication, error = handler.read1ByteTxRx(port, first, LED)
        result("read LED after the bulk write", communication, error)
        velocity, communication, error = handler.read4ByteTxRx(port, last, PROFILE_VELOCITY)
        result("read Profile Velocity after the bulk write", communication, error)
        check(led == 0 and velocity == 77, f"after the bulk write: LED {led}, Profile Velocity {velocity}")
        step("bulk write: LED and Profile Velocity")

        result(f"reboot {last}", *handler.reboot(port, last))
        deadline = time.monotonic() + 2.0
        while True:
            model, communication, error = handler.ping(port, last)
            if communication == sdk.COMM_SUCCESS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        result(f"ping {last} after its reboot", communication, error)
        velocity, communication, error = handler.read4ByteTxRx(port, last, PROFILE_VELOCITY)
        result("read Profile Velocity after the reboot", communication, error)
        check(velocity == 0, f"Profile Velocity of {last} reads {velocity} after a reboot (RAM is reset to 0)")
        step(f"reboot: {last} answers again, its RAM reset")
    except CheckFailed as failure:
        print(f"FAILED: {failure}")
        return 1
    finally:
        port.closePort()
    print(f"dynamixel-sdk {metadata.version('dynamixel-sdk')}: every check passed on {port_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
