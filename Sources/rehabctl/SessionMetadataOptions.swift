import CommandLineSupport
import Telemetry

/// What `demo`, `run` and `simulate` add to a recording's `session` metadata besides the robot and
/// the exercise: the operator's pseudonym for the patient (`--patient-label`) and the exercise
/// file's name, which `rehabctl sessions` and `rehabctl report --progress` show and group by.
enum SessionMetadataOptions {
    static let patientLabelOption = CommandSpec.Option(
        "--patient-label", value: "LABEL",
        help: "The patient's pseudonym (1–32 of A–Z a–z 0–9 . _ -, e.g. P-0042), written into the recording: never a name, birth date or record number; the key to it stays with the clinic. rehabctl report --progress gathers a patient's sessions by it.")

    /// `--patient-label` (or `option`), checked: a usage error (exit 64) that says why when it is
    /// not a pseudonym (`PatientLabel`); nil when absent.
    static func patientLabel(_ parsed: ParsedArguments, option: String = "--patient-label") throws(CommandFailure) -> String? {
        guard let text = parsed.string(option) else { return nil }
        do throws(PatientLabel.Refusal) {
            return try PatientLabel(text).text
        } catch {
            throw parsed.usageError("\(option): \(error)")
        }
    }

    /// The entries for `TherapySession.Options.recordingMetadata`: the (checked) label, and the
    /// exercise's name (`wrist-flexion-passive` from `--exercise wrist-flexion-passive` or its path).
    static func entries(patientLabel: String?, exercise: String?) -> [(String, String)] {
        var entries: [(String, String)] = []
        if let patientLabel { entries.append((PatientLabel.metadataKey, patientLabel)) }
        if let exercise {
            let file = exercise.split(separator: "/").last.map(String.init) ?? exercise
            entries.append(("exercise_name", file.hasSuffix(".json") ? String(file.dropLast(5)) : file))
        }
        return entries
    }
}
