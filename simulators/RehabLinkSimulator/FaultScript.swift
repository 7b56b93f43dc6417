import SimulatorKit

/// Reads fault scripts (`rehabsim --faults FILE.json`) and live injections (one JSON object per
/// line on `rehabsim --control`) for a simulated RehabLink device: SimulatorKit's shared parser
/// (triggers, `for_ms`, the link faults) with the RehabLink firmware's kinds
/// (`RehabLinkDeviceFault.parse`). `FaultScript.load(path:jointCount:)`, `FaultScript.parseLive(_:jointCount:)`.
public typealias FaultScript = FaultScriptParser<RehabLinkDeviceFault>
