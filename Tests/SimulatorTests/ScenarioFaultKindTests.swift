import DynamixelSimulator
import Foundation
import Profiles
import RehabLinkSimulator
import Scenarios
import SimulatorKit
import StrictJSON
import TestSupport
import TrackerSimulators
import XCTest

/// The scenario format (Sources/Scenarios, which cannot depend on the simulators) keeps its own table
/// of fault kinds; the simulators' parsers are the judges of what a kind is and what it takes. Both
/// must agree, and every shipped scenario's faults must be what the simulators' own parsers read.
final class ScenarioFaultKindTests: XCTestCase {
    private func names(of family: FaultEntry.Family) -> [String]? {
        switch family {
        case .link: LinkFault.names
        case .rehablink: RehabLinkDeviceFault.names
        case .dynamixel: DynamixelDeviceFault.names
        case .inertial: TrackerSimulatorFault.names
        case .ndi: NDITrackerFault.names
        case .reference: nil  // rehabsim's own controls of its RehabRef sender (simulators/README.md)
        }
    }

    func testTheScenarioFormatKnowsExactlyTheSimulatorsFaultKinds() {
        for family in FaultEntry.Family.allCases {
            guard let simulator = names(of: family) else { continue }
            XCTAssertEqual(Set(FaultEntry.kindNames(in: [family])), Set(simulator), "\(family.rawValue): the scenario table against the simulator's parser")
        }
        for kind in FaultEntry.kinds {
            XCTAssertEqual(FaultEntry.canEnd(kind.name), kind.canEnd)
        }
    }

    func testEveryShippedScenariosFaultsAreReadByTheSimulatorsOwnParsers() throws {
        let folder = RepositoryPaths.file("hardware/scenarios").path
        let files = try ScenarioLoader.files(at: folder)
        XCTAssertGreaterThan(files.count, 30)
        var checked = 0
        for file in files {
            let scenario = try ScenarioLoader.load(path: file)
            let profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(scenario.profile).json").path)
            let joints = profile.joints.count
            func robot(_ line: String) -> String? {
                switch profile.device.protocolFamily {
                case "rehablink": if case .failure(let error) = FaultScriptParser<RehabLinkDeviceFault>.parseLive(line, jointCount: joints) { return "\(error)" }
                case "dynamixel": if case .failure(let error) = FaultScriptParser<DynamixelDeviceFault>.parseLive(line, jointCount: joints) { return "\(error)" }
                default: return "no simulator for \(profile.device.protocolFamily)"
                }
                return nil
            }
            if let script = scenario.faultScript {
                switch profile.device.protocolFamily {
                case "rehablink": XCTAssertNoThrow(try FaultScriptParser<RehabLinkDeviceFault>.parse(script, sourcePath: file, jointCount: joints), file)
                case "dynamixel": XCTAssertNoThrow(try FaultScriptParser<DynamixelDeviceFault>.parse(script, sourcePath: file, jointCount: joints), file)
                default: XCTFail("\(file): no simulator for \(profile.device.protocolFamily)")
                }
                checked += scenario.faults.count
            }
            for entry in scenario.timeline {
                switch entry.action {
                case .deviceFault(let fault, _):
                    XCTAssertNil(robot(fault.liveLine), "\(file) timeline[\(entry.index)]")
                    checked += 1
                case .trackerFault(let tracker, let fault, _) where tracker != "reference":
                    let trackerProfile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/\(tracker).json").path)
                    let result: String?
                    if trackerProfile.protocolIdentifier == "ndi/combined-api" {
                        if case .failure(let error) = FaultScriptParser<NDITrackerFault>.parseLive(fault.liveLine, jointCount: 1) { result = "\(error)" } else { result = nil }
                    } else {
                        if case .failure(let error) = FaultScriptParser<TrackerSimulatorFault>.parseLive(fault.liveLine, jointCount: 1) { result = "\(error)" } else { result = nil }
                    }
                    XCTAssertNil(result, "\(file) timeline[\(entry.index)]")
                    checked += 1
                default:
                    break
                }
            }
        }
        XCTAssertGreaterThan(checked, 30, "faults read")
        print("scenario faults read by the simulators' parsers: \(checked) in \(files.count) files")
    }
}
