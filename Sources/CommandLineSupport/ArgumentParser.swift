/// Parsed command-line arguments: option values, flags and positionals, with typed accessors
/// that turn bad values into usage errors naming the option.
public struct ParsedArguments: Sendable {
    public let spec: CommandSpec
    public private(set) var values: [String: String] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// True when `--help` was given: print `spec.helpText` and exit 0.
    public var wantsHelp: Bool { flags.contains("--help") }

    /// Parses `arguments` (without the program and command names).
    public init(_ arguments: [String], spec: CommandSpec) throws(CommandFailure) {
        self.spec = spec
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "-h" {
                flags.insert("--help")
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = spec.options.first(where: { $0.name == name }) else {
                let known = spec.options.map(\.name)
                let hint = known.first { $0.hasPrefix(name) || name.hasPrefix($0) }.map { "; did you mean \($0)?" } ?? ""
                throw Self.usage(spec, "unknown option \(name)\(hint)")
            }
            if option.valueName == nil {
                if inlineValue != nil { throw Self.usage(spec, "\(name) takes no value") }
                flags.insert(name)
                continue
            }
            if values[name] != nil && !option.repeatable { throw Self.usage(spec, "\(name) given twice") }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count, !(arguments[index].hasPrefix("--") && arguments[index].count > 2) else {
                    throw Self.usage(spec, "\(name) needs a value (\(option.valueName!))")
                }
                value = arguments[index]
                index += 1
            }
            values[name] = values[name].map { $0 + "," + value } ?? value
        }
        if wantsHelp { return }
        let required = spec.positionals.filter { !$0.optional }.count
        if positionals.count < required {
            throw Self.usage(spec, "missing \(spec.positionals[positionals.count].name)")
        }
        if positionals.count > spec.positionals.count, spec.positionals.last?.repeatable != true {
            throw Self.usage(spec, "unexpected argument \"\(positionals[spec.positionals.count])\"")
        }
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func string(_ name: String) -> String? { values[name] }

    /// A number within `range`; `defaultValue` when absent.
    public func double(_ name: String, default defaultValue: Double, in range: ClosedRange<Double>, unit: String)
        throws(CommandFailure) -> Double
    {
        guard let text = values[name] else { return defaultValue }
        guard let value = Double(text), value.isFinite else {
            throw Self.usage(spec, "\(name) expects a number in \(unit), got \"\(text)\"")
        }
        guard range.contains(value) else {
            throw Self.usage(spec, "\(name) must be between \(Self.text(range.lowerBound)) and \(Self.text(range.upperBound)) \(unit), got \(text)")
        }
        return value
    }

    /// A whole number within `range`; `defaultValue` when absent.
    public func integer(_ name: String, default defaultValue: Int?, in range: ClosedRange<Int>, unit: String)
        throws(CommandFailure) -> Int?
    {
        guard let text = values[name] else { return defaultValue }
        guard let value = Int(text) else {
            throw Self.usage(spec, "\(name) expects a whole number of \(unit), got \"\(text)\"")
        }
        guard range.contains(value) else {
            throw Self.usage(spec, "\(name) must be between \(range.lowerBound) and \(range.upperBound) \(unit), got \(text)")
        }
        return value
    }

    /// A usage error for this command: the message, then the usage line and a pointer to --help.
    public func usageError(_ message: String) -> CommandFailure { Self.usage(spec, message) }

    static func usage(_ spec: CommandSpec, _ message: String) -> CommandFailure {
        CommandFailure("\(spec.invocation): \(message)\n\(spec.usageLine)\nRun '\(spec.invocation) --help' for more.", exitCode: .usage)
    }

    private static func text(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
