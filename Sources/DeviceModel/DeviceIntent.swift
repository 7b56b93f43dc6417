import Primitives

/// What the control cycle asks of the actuated device this cycle, in neutral terms: the cycle decides
/// (`TherapyCycle`, pure), the driver carries it out in its protocol's verbs (a RehabLink COMMAND or
/// HEARTBEAT, a Dynamixel SYNC WRITE, a CiA 402 controlword).
public enum DeviceIntent: Sendable, Equatable {
    /// Per-joint actuation, clamped (SR-6): torque (the modes, a pause's hold, SR-18's zero-torque
    /// release) or a local hold (`JointActuation.Mode.hold`, SR-5). Feeds the device's watchdog.
    case command(JointList<JointActuation>)
    /// Cat 1: brake to standstill. `JointList` carries the reference velocities of a host-ramped stop
    /// (`StopMethod.hostVelocityRamp`: velocity mode, ramping to zero at the quick-stop rate); a
    /// device that stops by itself (`StopMethod.deviceQuickStop`) ignores them. Feeds the watchdog.
    case quickStop(JointList<JointActuation>)
    /// Cat 0: no torque on any joint at once, the device still answering (the state keeps coming), as
    /// its `DeviceCapabilities.TorqueOffMethod` says (every joint off, or its torque switched off).
    case torqueOff
    /// Nothing is commanded: only ask for a state (a disabled device, a latched watchdog). Does not
    /// feed the watchdog (SR-4: states without motion).
    case observe
    /// The operator's reset of a device fault (never sent by the host on its own): whatever the
    /// device needs — RehabLink: DISABLE if enabled, FAULT_RESET, then a HEARTBEAT for the state
    /// that shows whether the fault cleared.
    case faultReset
}
