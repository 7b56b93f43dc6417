import CommandLineSupport
import Devices
import Profiles

/// Loading a hardware profile for a command that will drive its device: the profile must load, and
/// the driver registry must speak its protocol and accept the protocol's own fields — checked
/// before anything is opened or started, so a typo in `"protocol"` is a configuration error (78)
/// with the supported list, not a surprise halfway through a set-up.
enum DrivableProfile {
    static func load(_ nameOrPath: String, command: String) throws(CommandFailure) -> HardwareProfile {
        let profile: HardwareProfile
        do {
            profile = try ProfileSearch.load(nameOrPath)
        } catch {
            throw CommandFailure("rehabctl \(command): \(error)", exitCode: error.exitCode)
        }
        let problems = DriverRegistry.standard.problems(with: profile)
        guard problems.isEmpty else {
            throw CommandFailure(
                "rehabctl \(command): \(DriverRegistryError(profile: profile.name, problems: problems))", exitCode: .configuration)
        }
        return profile
    }
}
