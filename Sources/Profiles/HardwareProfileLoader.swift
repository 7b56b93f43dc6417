import Control
import DeviceModel
import Primitives
import StrictJSON

/// Loads and validates hardware profiles. Nothing moves with a profile that failed validation.
public enum HardwareProfileLoader {
    /// Loads the profile at `path` (a file path).
    public static func load(path: String) throws(ProfileError) -> HardwareProfile {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path)
    }

    /// Finds a profile by name or path: a path if it names an existing file or contains a '/',
    /// else `<folder>/<name>.json` in each of `searchFolders`, in order.
    public static func resolve(_ nameOrPath: String, searchFolders: [String]) throws(ProfileError) -> String {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            return nameOrPath
        }
        var searched: [String] = []
        for folder in searchFolders {
            let candidate = folder + "/" + nameOrPath + ".json"
            searched.append(folder)
            if fileExists(candidate) { return candidate }
        }
        throw .notFound(path: nameOrPath, searched: searched)
    }

    /// Validates a parsed profile; every issue is reported at once.
    public static func parse(_ object: JSONObject, sourcePath: String) throws(ProfileError) -> HardwareProfile {
        let issues = IssueCollector()
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != HardwareProfile.format {
            root.report("format", "expected \"\(HardwareProfile.format)\", found \"\(format)\"")
        }
        let name = root.string("name")
        let description = root.string("description", required: false, nonEmpty: false) ?? ""
        let device = root.object("device").flatMap { parseDevice($0) }
        let control = root.object("control").flatMap { parseControl($0) }
        let safety = root.object("safety").flatMap { parseSafety($0) }
        var joints: [JointProfile] = []
        if let array = root.array("joints") {
            if array.isEmpty || array.count > JointList<Double>.capacity {
                root.report("joints", "a device has 1 to \(JointList<Double>.capacity) joints (found \(array.count))")
            }
            for (index, element) in array.enumerated() {
                let path = "joints[\(index)]"
                guard let jointObject = element.objectValue else {
                    issues.add(path, "expected an object, found \(element.kindDescription)")
                    continue
                }
                if let joint = parseJoint(FieldReader(jointObject, path: path, issues: issues)) { joints.append(joint) }
            }
            // Checked on the raw names so that a duplicate shows even when the joint has other problems.
            var seen = Set<String>()
            for (index, element) in array.enumerated() {
                if let name = element.objectValue?["name"]?.stringValue, !seen.insert(name).inserted {
                    issues.add("joints[\(index)].name", "duplicate joint name \"\(name)\"")
                }
            }
        }
        root.finish()
        if let device, let control, let problem = LinkQualityLimits.coverageProblem(
            periodNanoseconds: Nanoseconds.period(rateHertz: control.minimumRateHertz), watchdogNanoseconds: device.watchdogPeriodNanoseconds)
        {
            issues.add("control.rate_min_hz", problem)
        }
        if let safety, joints.count == (object["joints"]?.arrayValue?.count ?? -1) {
            crossCheck(safety: safety, joints: joints, issues: issues)
            if let control { checkQuickStop(control: control, safety: safety, issues: issues) }
        }
        guard issues.issues.isEmpty, let name, let device, let control, let safety,
            joints.count == (object["joints"]?.arrayValue?.count ?? -1)
        else {
            throw .invalid(path: sourcePath, issues: issues.reported)
        }
        return HardwareProfile(
            name: name, description: description, sourcePath: sourcePath, device: device, control: control,
            safety: safety, joints: joints)
    }

    private static func parseDevice(_ reader: FieldReader) -> DeviceSection? {
        var r = reader
        defer { r.finish() }
        // The protocol is checked here for its form only: which protocols exist is the driver
        // registry's knowledge (Devices), checked by every command before it builds a driver.
        let protocolText = r.string("protocol")
        var protocolFields: JSONObject?
        if let protocolText {
            if let parts = DeviceSection.parse(protocolText) {
                protocolFields = r.object(parts.family, required: false)?.object
            } else {
                r.report("protocol", "expected \"family/version\" such as \"rehablink/1\" or \"dynamixel/2.0\", found \"\(protocolText)\"")
            }
        }
        let model = r.string("model")
        var firmware: FirmwareVersion?
        if let text = r.string("firmware_min") {
            firmware = FirmwareVersion(text)
            if firmware == nil { r.report("firmware_min", "expected \"major.minor.patch\", found \"\(text)\"") }
        }
        let vendor = hexID(&r, "usb_vendor_id")
        let product = hexID(&r, "usb_product_id")
        let baud = r.integer("baud_rate_bps", unit: "bit/s", in: 300...12_000_000)
        let replyBudget = r.number("reply_budget_us", unit: "µs", in: 10...100_000)
        var watchdog = r.number("watchdog_period_ms", unit: "ms", in: 1...50)
        if let milliseconds = watchdog, abs(milliseconds * 1e3 - (milliseconds * 1e3).rounded()) > 1e-6 {
            // Devices take their watchdog in whole microseconds: 49.9999999 ms would be asked as 49 999 µs
            // and then not match what the profile says.
            r.report("watchdog_period_ms", "\(format(milliseconds)) ms is not a whole number of microseconds (devices take whole microseconds); write it with at most 3 decimals")
            watchdog = nil
        }
        guard let protocolText, DeviceSection.parse(protocolText) != nil, let model, let firmware, let baud, let replyBudget, let watchdog
        else { return nil }
        return DeviceSection(
            protocolIdentifier: protocolText, protocolFields: protocolFields, model: model, minimumFirmware: firmware,
            usbVendorID: vendor, usbProductID: product, baudRateBitsPerSecond: Int(baud),
            replyBudgetNanoseconds: Int64(replyBudget * 1e3), watchdogPeriodNanoseconds: Int64((watchdog * 1e3).rounded()) * 1_000)
    }

    static func hexID(_ r: inout FieldReader, _ key: String) -> UInt16? {
        guard let text = r.string(key, required: false) else { return nil }
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard digits.count == 4, let value = UInt16(digits, radix: 16) else {
            r.report(key, "expected 4 hex digits such as \"1209\", found \"\(text)\"")
            return nil
        }
        return value
    }

    private static func parseControl(_ reader: FieldReader) -> ControlSection? {
        var r = reader
        defer { r.finish() }
        let rate = r.number("rate_hz", unit: "Hz", in: 1...10_000)
        let minimumRate = r.number("rate_min_hz", unit: "Hz", in: 1...10_000)
        let maximumRate = r.number("rate_max_hz", unit: "Hz", in: 1...10_000)
        let ramp = r.number("enable_ramp_s", unit: "s", in: 0.5...5)
        let quickStop = r.number("quick_stop_deceleration_rad_per_s2", unit: "rad/s²", in: 1...1_000)
        guard let rate, let minimumRate, let maximumRate, let ramp, let quickStop else { return nil }
        guard minimumRate <= rate, rate <= maximumRate else {
            r.report("rate_hz", "\(format(rate)) Hz lies outside rate_min_hz … rate_max_hz (\(format(minimumRate)) … \(format(maximumRate)) Hz)")
            return nil
        }
        return ControlSection(
            rateHertz: rate, minimumRateHertz: minimumRate, maximumRateHertz: maximumRate, enableRampSeconds: ramp,
            quickStopDecelerationRadiansPerSecondSquared: quickStop)
    }

    private static func parseSafety(_ reader: FieldReader) -> SafetySection? {
        var r = reader
        defer { r.finish() }
        // Ranges: the SAFETY.md defaults are the loosest values allowed; a profile may only tighten
        // them, except where the device's rating bounds a looser value (checked in `crossCheck`).
        // SR-1's ages and gaps are derived from the device watchdog and the loop period (never written
        // down as cycles); only POOR's two calibrated numbers may be tightened here.
        let poorShare = r.number(
            "link_poor_fair_share_percent", unit: "%", in: 1...(LinkQualityLimits.defaultPoorFairShare * 100), required: false)
        let poorEpisodes = r.integer(
            "link_poor_fair_episodes_per_10_s", unit: "episodes", in: 1...Int64(LinkQualityLimits.defaultPoorEpisodes), required: false)
        let stopDeadline = r.number("stop_deadline_ms", unit: "ms", in: 10...200)
        let standstill = r.number("standstill_velocity_rad_per_s", unit: "rad/s", in: 0.001...0.02)
        let slew = r.number("torque_slew_limit_nm_per_s", unit: "N·m/s", positive: true)
        let estop = r.integer("emergency_stop_category", unit: "(stop category: 0 or 1; an e-stop is never Cat 2)", in: 0...1)
        let margin = r.number("soft_limit_margin_deg", unit: "°", in: 5...90)
        let beyond = r.number("beyond_soft_limit_cat1_deg", unit: "°", in: 0.1...2)
        let inward = r.number("inward_speed_past_soft_limit_deg_per_s", unit: "°/s", in: 0.1...1)
        let velocityTrip = r.number("velocity_trip_rad_per_s", unit: "rad/s", positive: true)
        let velocityCycles = r.integer("velocity_trip_cycles", unit: "cycles", in: 1...3)
        let dwell = r.number("interaction_dwell_ms", unit: "ms", in: 5...50)
        let jump = r.number("encoder_jump_speed_factor", unit: "(× rated speed × elapsed time)", in: 2...10)
        let frozen = r.number("frozen_encoder_ms", unit: "ms", in: 20...200)
        let release = r.number("release_standstill_rad_per_s", unit: "rad/s", in: 0.005...0.1)
        guard let stopDeadline, let standstill, let slew, let estop, let margin, let beyond, let inward, let velocityTrip,
            let velocityCycles, let dwell, let jump, let frozen, let release
        else { return nil }
        return SafetySection(
            linkPoorFairShare: poorShare.map { $0 / 100 } ?? LinkQualityLimits.defaultPoorFairShare,
            linkPoorFairEpisodes: poorEpisodes.map { Int($0) } ?? LinkQualityLimits.defaultPoorEpisodes,
            stopDeadlineNanoseconds: Int64(stopDeadline * 1e6), standstillVelocityRadiansPerSecond: standstill,
            torqueSlewLimitNewtonMetersPerSecond: slew, emergencyStopCategory: Int(estop),
            softLimitMarginRadians: Units.radians(fromDegrees: margin),
            beyondSoftLimitCat1Radians: Units.radians(fromDegrees: beyond),
            inwardSpeedPastSoftLimitRadiansPerSecond: Units.radians(fromDegrees: inward),
            velocityTripRadiansPerSecond: velocityTrip, velocityTripCycles: Int(velocityCycles),
            interactionDwellNanoseconds: Int64(dwell * 1e6), encoderJumpSpeedFactor: jump,
            frozenEncoderNanoseconds: Int64(frozen * 1e6), releaseStandstillRadiansPerSecond: release)
    }

    /// Checks that need the safety section and the joints together: looser-than-default values
    /// must stay within the device's rating.
    /// SR-21 / D8: a Cat 1 stop from the velocity trip must end within the stop deadline (SR-13) and
    /// within the soft-to-hard margin; a quick-stop rate too weak for that would turn every Cat 1
    /// into a Cat 0 at the deadline, or let a joint reach its hard stop.
    private static func checkQuickStop(control: ControlSection, safety: SafetySection, issues: IssueCollector) {
        let rate = control.quickStopDecelerationRadiansPerSecondSquared
        let speed = safety.velocityTripRadiansPerSecond
        let stopSeconds = speed / rate
        let deadlineSeconds = Double(safety.stopDeadlineNanoseconds) * 1e-9
        if stopSeconds > deadlineSeconds {
            issues.add("control.quick_stop_deceleration_rad_per_s2",
                       "\(format(rate)) rad/s² stops the velocity trip (\(format(speed)) rad/s) in \(format((stopSeconds * 1000).rounded())) ms, past the stop deadline (\(format((deadlineSeconds * 1000).rounded())) ms, SR-13): every Cat 1 would end as Cat 0; use at least \(format((speed / deadlineSeconds * 10).rounded(.up) / 10)) rad/s²")
        }
        let distance = speed * speed / (2 * rate)
        if distance > safety.softLimitMarginRadians {
            issues.add("control.quick_stop_deceleration_rad_per_s2",
                       "\(format(rate)) rad/s² needs \(format((Units.degrees(fromRadians: distance) * 10).rounded() / 10))° to stop from the velocity trip, more than the soft-to-hard margin (\(format((Units.degrees(fromRadians: safety.softLimitMarginRadians) * 10).rounded() / 10))°, SR-21): a Cat 1 at the soft limit could reach the hard stop; use at least \(format((speed * speed / (2 * safety.softLimitMarginRadians) * 10).rounded(.up) / 10)) rad/s²")
        }
    }

    private static func crossCheck(safety: SafetySection, joints: [JointProfile], issues: IssueCollector) {
        // SR-8 default 1.5 rad/s (upper limb). Its Cat 0 threshold (1.5 × trip) must stay below every
        // joint's rated speed, or the drive could never be stopped by it.
        for (index, joint) in joints.enumerated() where safety.velocityTripRadiansPerSecond * 1.5 > joint.ratedVelocityRadiansPerSecond {
            issues.add("safety.velocity_trip_rad_per_s",
                       "1.5 × \(format(safety.velocityTripRadiansPerSecond)) rad/s exceeds the rated speed of joints[\(index)] (\(format(joint.ratedVelocityRadiansPerSecond)) rad/s)")
        }
        // SR-6 default 50 N·m/s (wrist scale); looser only up to full rated torque in 10 ms.
        let fastest = (joints.map(\.ratedTorqueNewtonMeters).max() ?? 0) / 0.010
        if safety.torqueSlewLimitNewtonMetersPerSecond > max(50, fastest) {
            issues.add("safety.torque_slew_limit_nm_per_s",
                       "may exceed 50 N·m/s only up to the rated torque per 10 ms (\(format(fastest)) N·m/s here)")
        }
        for (index, joint) in joints.enumerated() {
            let span = joint.hardLimitMaximumRadians - joint.hardLimitMinimumRadians
            if span <= 2 * safety.softLimitMarginRadians {
                issues.add("joints[\(index)]", "the soft limits (hard − \(format(Units.degrees(fromRadians: safety.softLimitMarginRadians)))°) leave no range of motion")
            }
        }
    }

    private static func parseJoint(_ reader: FieldReader) -> JointProfile? {
        var r = reader
        defer { r.finish() }
        let name = r.string("name")
        if let name, !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
            r.report("name", "use letters, digits, '_' and '-' only (found \"\(name)\")")
        }
        let description = r.string("description", required: false, nonEmpty: false) ?? ""
        let minimum = r.number("hard_limit_min_deg", unit: "°", in: -360...360)
        let maximum = r.number("hard_limit_max_deg", unit: "°", in: -360...360)
        if let minimum, let maximum, !(minimum < maximum) {
            r.report("hard_limit_max_deg", "must be greater than hard_limit_min_deg (\(format(minimum)) °)")
        }
        let ratedVelocity = r.number("rated_velocity_rad_per_s", unit: "rad/s", in: 0.01...100)
        let ratedTorque = r.number("rated_torque_nm", unit: "N·m", in: 0.001...2_000)
        let torqueLimit = r.number("torque_limit_nm", unit: "N·m", positive: true)
        if let ratedTorque, let torqueLimit, torqueLimit > ratedTorque {
            r.report("torque_limit_nm", "must not exceed rated_torque_nm (\(format(ratedTorque)) N·m): a profile may only tighten the device's rating")
        }
        let gear = r.number("gear_ratio", unit: "(motor turns per joint turn)", in: 1...10_000)
        let counts = r.integer("encoder_counts_per_rev", unit: "counts", in: 16...4_294_967_295)
        let kt = r.number("motor_torque_constant_nm_per_a", unit: "N·m/A", positive: true)
        let inertia = r.number("inertia_kg_m2", unit: "kg·m²", positive: true)
        let viscous = r.number("viscous_friction_nm_s_per_rad", unit: "N·m·s/rad", in: 0...1_000)
        let coulomb = r.number("coulomb_friction_nm", unit: "N·m", in: 0...1_000)
        let resistance = r.number("winding_resistance_ohm", unit: "Ω", positive: true)
        let thermalResistance = r.number("thermal_resistance_k_per_w", unit: "K/W", positive: true)
        let thermalTime = r.number("thermal_time_constant_s", unit: "s", positive: true)
        let maxTemperature = r.number("max_temperature_c", unit: "°C", in: 30...200)
        let stiffness = r.number("default_stiffness_nm_per_rad", unit: "N·m/rad", in: 0...100_000)
        let damping = r.number("default_damping_nm_s_per_rad", unit: "N·m·s/rad", in: 0...10_000)
        let sensor = r.bool("torque_sensor")
        var interactionTrip: Double?
        if sensor == true {
            interactionTrip = r.number("interaction_torque_trip_nm", unit: "N·m", positive: true)
            if let trip = interactionTrip, let ratedTorque, trip > ratedTorque {
                r.report("interaction_torque_trip_nm", "must not exceed rated_torque_nm (\(format(ratedTorque)) N·m)")
                interactionTrip = nil
            }
        } else if sensor == false, r.object["interaction_torque_trip_nm"] != nil {
            _ = r.number("interaction_torque_trip_nm", unit: "N·m", positive: true)
            r.report("interaction_torque_trip_nm", "only joints with \"torque_sensor\": true have an interaction torque trip")
        } else {
            // torque_sensor itself is bad or absent: that is the one error reported.
            r.skip("interaction_torque_trip_nm")
        }
        guard let name, let minimum, let maximum, minimum < maximum, let ratedVelocity, let ratedTorque,
            let torqueLimit, torqueLimit <= ratedTorque, let gear, let counts, let kt, let inertia, let viscous,
            let coulomb, let resistance, let thermalResistance, let thermalTime, let maxTemperature, let stiffness,
            let damping, let sensor, !(sensor && interactionTrip == nil)
        else { return nil }
        return JointProfile(
            name: name, description: description, hardLimitMinimumRadians: Units.radians(fromDegrees: minimum),
            hardLimitMaximumRadians: Units.radians(fromDegrees: maximum), ratedVelocityRadiansPerSecond: ratedVelocity,
            ratedTorqueNewtonMeters: ratedTorque, torqueLimitNewtonMeters: torqueLimit, gearRatio: gear,
            encoderCountsPerRevolution: Int(counts), motorTorqueConstantNewtonMetersPerAmpere: kt,
            inertiaKilogramSquareMeters: inertia, viscousFrictionNewtonMeterSecondsPerRadian: viscous,
            coulombFrictionNewtonMeters: coulomb, windingResistanceOhms: resistance,
            thermalResistanceKelvinPerWatt: thermalResistance, thermalTimeConstantSeconds: thermalTime,
            maximumTemperatureCelsius: maxTemperature, defaultStiffnessNewtonMetersPerRadian: stiffness,
            defaultDampingNewtonMeterSecondsPerRadian: damping, hasTorqueSensor: sensor,
            interactionTorqueTripNewtonMeters: interactionTrip)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

private func fileExists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
}
