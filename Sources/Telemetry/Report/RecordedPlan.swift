/// The exercise as prescribed, read back from a recording's `session` metadata: the structured
/// `plan_*` keys when the session wrote them (`plan_joint`, `plan_mode`, `plan_range_min_rad`,
/// `plan_range_max_rad`, `plan_repetitions`), else what the `exercise` description every recording
/// carries says ("passive range of motion, flexion_extension ±25°, 10 repetitions", written by
/// `RangeOfMotionExercise.description(jointNames:)`); the session's time from `duration_s`.
struct RecordedPlan: Equatable {
    /// The `exercise` description, as written.
    var description: String?
    var joint: String?
    /// "passive", "active_assist", … (`TherapyMode.name`).
    var mode: String?
    var rangeMinimumRadians: Double?
    var rangeMaximumRadians: Double?
    /// nil: as many repetitions as fit in the session's time.
    var repetitions: Int?
    /// The session's time as asked [s] (a timed plan runs that long).
    var durationSeconds: Double?

    /// nil when the metadata says nothing about the exercise.
    init?(metadata: [(String, String)]) {
        func value(_ key: String) -> String? { metadata.first { $0.0 == key && !$0.1.isEmpty }?.1 }
        func number(_ key: String) -> Double? { value(key).flatMap { Double($0) }.flatMap { $0.isFinite ? $0 : nil } }
        description = value("exercise")
        durationSeconds = number("duration_s")
        if let description { read(description) }
        joint = value("plan_joint") ?? joint
        mode = value("plan_mode") ?? mode
        rangeMinimumRadians = number("plan_range_min_rad") ?? rangeMinimumRadians
        rangeMaximumRadians = number("plan_range_max_rad") ?? rangeMaximumRadians
        if let repetitions = value("plan_repetitions").flatMap({ Int($0) }) { self.repetitions = repetitions }
        guard description != nil || joint != nil || mode != nil else { return nil }
    }

    /// The prescribed range [rad], when both ends are known.
    var rangeRadians: (minimum: Double, maximum: Double)? {
        guard let minimum = rangeMinimumRadians, let maximum = rangeMaximumRadians else { return nil }
        return (minimum, maximum)
    }

    /// "<kind> range of motion, <joint> <range>[, <n> repetitions]", the range "±25°" or "-30…40°".
    /// A description of another shape leaves the fields empty (it is still shown as written).
    private mutating func read(_ text: String) {
        let parts = text.split(separator: ",").map { String($0.drop { $0 == " " }) }
        guard parts.count >= 2 else { return }
        let suffix = " range of motion"
        if parts[0].hasSuffix(suffix) {
            mode = String(parts[0].dropLast(suffix.count).map { $0 == "-" ? "_" : $0 })
        }
        if let space = parts[1].lastIndex(of: " ") {
            joint = String(parts[1][..<space])
            var range = Substring(parts[1][parts[1].index(after: space)...])
            if range.hasSuffix("°") { range = range.dropLast() }
            let radiansPerDegree = Double.pi / 180
            if range.hasPrefix("±"), let amplitude = Double(String(range.dropFirst())), amplitude.isFinite {
                rangeMinimumRadians = -amplitude * radiansPerDegree
                rangeMaximumRadians = amplitude * radiansPerDegree
            } else if let dots = range.firstIndex(of: "…"),
                let low = Double(String(range[..<dots])), let high = Double(String(range[range.index(after: dots)...])),
                low.isFinite, high.isFinite
            {
                rangeMinimumRadians = low * radiansPerDegree
                rangeMaximumRadians = high * radiansPerDegree
            }
        }
        if parts.count >= 3, parts[2].hasSuffix(" repetitions") || parts[2].hasSuffix(" repetition"),
            let count = parts[2].split(separator: " ").first.flatMap({ Int($0) })
        {
            repetitions = count
        }
    }
}
