/// A command's interface: what `--help` prints and what the parser accepts.
public struct CommandSpec: Sendable {
    public struct Option: Sendable {
        /// "--duration".
        public var name: String
        /// "SECONDS" for options that take a value; nil for flags.
        public var valueName: String?
        public var help: String
        /// Shown as "(default: …)".
        public var defaultValue: String?
        /// May be given more than once; the values are joined with commas (the option takes a comma list).
        public var repeatable: Bool

        public init(_ name: String, value valueName: String? = nil, help: String, default defaultValue: String? = nil, repeatable: Bool = false) {
            self.name = name
            self.valueName = valueName
            self.help = help
            self.defaultValue = defaultValue
            self.repeatable = repeatable
        }
    }

    public struct Positional: Sendable {
        public var name: String
        public var help: String
        public var optional: Bool
        /// The last positional only: it takes every argument left (`FILE|DIR…`).
        public var repeatable: Bool

        public init(_ name: String, help: String, optional: Bool = false, repeatable: Bool = false) {
            self.name = name
            self.help = help
            self.optional = optional
            self.repeatable = repeatable
        }
    }

    public var program: String
    public var name: String?
    public var summary: String
    public var discussion: String
    public var options: [Option]
    public var positionals: [Positional]
    public var examples: [String]

    public init(
        program: String, name: String?, summary: String, discussion: String = "", options: [Option] = [],
        positionals: [Positional] = [], examples: [String] = []
    ) {
        self.program = program
        self.name = name
        self.summary = summary
        self.discussion = discussion
        self.options = options + [Option("--help", help: "Show this help and exit.")]
        self.positionals = positionals
        self.examples = examples
    }

    public var invocation: String { [program, name].compactMap { $0 }.joined(separator: " ") }

    public var usageLine: String {
        var parts = [invocation]
        if options.count > 1 { parts.append("[options]") }
        for positional in positionals {
            let name = positional.repeatable ? positional.name + "…" : positional.name
            parts.append(positional.optional ? "[\(name)]" : name)
        }
        return "usage: " + parts.joined(separator: " ")
    }

    public var helpText: String {
        var lines = [usageLine, "", summary]
        if !discussion.isEmpty { lines += ["", discussion] }
        if !positionals.isEmpty {
            lines += ["", "Arguments:"]
            for positional in positionals { lines.append("  " + positional.name.padding(toLength: 24, withPad: " ", startingAt: 0) + positional.help) }
        }
        lines += ["", "Options:"]
        for option in options {
            let left = option.valueName.map { "\(option.name) \($0)" } ?? option.name
            let defaultText = option.defaultValue.map { " (default: \($0))" } ?? ""
            let padded = left.count < 24 ? left.padding(toLength: 24, withPad: " ", startingAt: 0) : left + "\n" + String(repeating: " ", count: 26)
            lines.append("  " + padded + option.help + defaultText)
        }
        if !examples.isEmpty {
            lines += ["", "Examples:"]
            lines += examples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
