/// A safety requirement of `../shared/SAFETY.md`, "SR-1" … "SR-25": what a scenario's `requirements`
/// tags name and what the safety evidence report (`SafetyTrace`) is ordered by.
public struct RequirementID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The requirement's number, 1 … `RequirementID.highest`.
    public let number: Int

    /// The highest requirement SAFETY.md defines (v2: SR-1 … SR-25).
    public static let highest = 25

    /// Every requirement, in order.
    public static let all: [RequirementID] = (1...highest).map { RequirementID(uncheckedNumber: $0) }

    private init(uncheckedNumber number: Int) {
        self.number = number
    }

    /// "SR-12" → 12; nil for anything else ("SR-0", "SR-26", "sr-1", "SR-01", "SR 1").
    public init?(_ text: String) {
        guard text.hasPrefix("SR-") else { return nil }
        let digits = text.dropFirst(3)
        guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ ("0"..."9").contains($0) }), digits.first != "0",
            let number = Int(digits), (1...Self.highest).contains(number)
        else { return nil }
        self.number = number
    }

    /// 1 … 25; nil outside.
    public init?(number: Int) {
        guard (1...Self.highest).contains(number) else { return nil }
        self.number = number
    }

    public var description: String { "SR-\(number)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}
