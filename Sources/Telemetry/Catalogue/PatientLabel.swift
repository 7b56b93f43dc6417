/// A patient's pseudonym, as the operator gives it (`--patient-label`): stored as `patient_label`
/// in a recording's `session` metadata, it gathers one patient's sessions (`rehabctl report
/// --progress`) without the recordings saying who the patient is.
///
/// A label is 1–32 characters of `A–Z a–z 0–9 . _ -`. A space is refused on purpose — names
/// usually have one — and so is every other character that free text, a name with an accent or a
/// date written with slashes would bring. The key from label to person is kept by the clinic, not
/// on the lab computer (docs/telemetry.md, "Patient labels").
public struct PatientLabel: Sendable, Hashable, CustomStringConvertible {
    /// Why a label was refused, in words that say what a label is for.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The key in the `session` metadata.
    public static let metadataKey = "patient_label"
    public static let maximumLength = 32

    public let text: String

    /// Checks `text` and keeps it; throws what is wrong with it.
    public init(_ text: String) throws(Refusal) {
        let why = "a label is a pseudonym from the clinic's key (e.g. P-0042), never a name, birth date or record number"
        guard !text.isEmpty else { throw Refusal(message: "the patient label is empty: \(why)") }
        if let blank = text.unicodeScalars.first(where: { $0.properties.isWhitespace }) {
            let what = blank == " " ? "a space" : "a blank (U+\(String(blank.value, radix: 16, uppercase: true)))"
            throw Refusal(message: "the patient label contains \(what), as names do: \(why)")
        }
        if let other = text.unicodeScalars.first(where: { !Self.isAllowed($0) }) {
            throw Refusal(message: "the patient label contains \"\(other)\": only A–Z, a–z, 0–9, '.', '_' and '-' are allowed; \(why)")
        }
        // Only ASCII is left: one byte per character.
        guard text.utf8.count <= Self.maximumLength else {
            throw Refusal(message: "the patient label is \(text.utf8.count) characters, at most \(Self.maximumLength): \(why)")
        }
        self.text = text
    }

    public var description: String { text }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }
}
