/// A fixed-width, NUL-padded ASCII field (model names, serial numbers), stored inline.
public struct FixedASCII<let capacity: Int>: Sendable, Equatable {
    public var bytes: InlineArray<capacity, UInt8>

    public init() {
        bytes = InlineArray(repeating: 0)
    }

    /// Copies printable ASCII from `text`, truncated to `capacity`; other characters become '?'.
    public init(_ text: String) {
        self.init()
        var index = 0
        for scalar in text.unicodeScalars {
            if index == capacity { break }
            bytes[index] = (scalar.value >= 0x20 && scalar.value < 0x7F) ? UInt8(scalar.value) : UInt8(ascii: "?")
            index += 1
        }
    }

    /// The text up to the first NUL; non-printable bytes shown as '?'.
    public var string: String {
        var scalars = String.UnicodeScalarView()
        for index in 0..<capacity {
            let byte = bytes[index]
            if byte == 0 { break }
            scalars.append(Unicode.Scalar(byte >= 0x20 && byte < 0x7F ? byte : UInt8(ascii: "?")))
        }
        return String(scalars)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        for index in 0..<capacity where lhs.bytes[index] != rhs.bytes[index] { return false }
        return true
    }
}

extension FixedASCII: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { string }
    public var debugDescription: String { "\"\(string)\"" }
}
