import Control
import Primitives
import SimulatorKit
import Wire

/// The Dynamixel bus behind SimulatorKit's shared links, fault pump and real-time host.
///
/// Events (`rehabsim --events`): `torque_on`, `torque_off`, `watchdog_stop`, `fault` (the Hardware Error Status bit
/// as `fault_code`), `fault_reset` (a reboot cleared latched errors), each with `joint` = the servo's index on the bus;
/// `fault_injected` and `fault_injection_ended` for every injection.
extension SimulatedDynamixelBus: FirmwareSimulator {
    public typealias InjectableFault = DynamixelDeviceFault

    public func beginInjectedFault(_ fault: DynamixelDeviceFault, timed: Bool) {
        guard let servo = self.servo(id: fault.id) else { return }
        switch fault {
        case .overload: servo.latchHardwareError(Dynamixel.HardwareError.overload, at: now)
        case .overheating:
            servo.setTemperature(celsius: Double(servo.controlTableByte(Dynamixel.ControlTable.temperatureLimit)) + 10)
        case .inputVoltage(_, let volts): servo.setSupplyVoltage(volts: volts)
        case .motorEncoder: servo.latchHardwareError(Dynamixel.HardwareError.motorEncoder, at: now)
        case .electricalShock: servo.latchHardwareError(Dynamixel.HardwareError.electricalShock, at: now)
        case .servoSilent: servo.isSilent = true
        case .wrongModel(_, let model): servo.reportedModelNumber = model
        }
    }

    public func endInjectedFault(_ fault: DynamixelDeviceFault) {
        guard let servo = self.servo(id: fault.id) else { return }
        switch fault {
        case .inputVoltage: servo.setSupplyVoltage(volts: servo.configuration.supplyVoltageVolts)
        case .servoSilent: servo.isSilent = false
        case .wrongModel: servo.reportedModelNumber = nil
        case .overload, .overheating, .motorEncoder, .electricalShock: break
        }
    }

    public func recordInjection(_ name: String, joint: Int?, began: Bool) {
        events.record(now, began ? "fault_injected" : "fault_injection_ended", joint: joint, detail: name)
    }

    public func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {
        events.drain(body)
    }

    public func startCue(at start: MonotonicInstant) {
        patient?.startCue(at: start)
    }

    public func holdCue(at time: MonotonicInstant) {
        patient?.holdCue(at: time)
    }

    public func resumeCue(at time: MonotonicInstant, plan: PlanInputs?) {
        patient?.resumeCue(at: time, plan: plan)
    }

    /// The host reopened its port at another rate: its bytes now take that long on the line, and servos at
    /// another Baud Rate(8) no longer understand them (as `rehabctl dynamixel scan` relies on).
    public func hostLineRateChanged(bitsPerSecond: Int) {
        lineBaudRateBitsPerSecond = bitsPerSecond
    }
}
