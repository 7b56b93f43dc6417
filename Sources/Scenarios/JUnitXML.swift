/// Scenario results as JUnit XML, the dialect Jenkins (the JUnit plugin) and GitLab (`artifacts:
/// reports: junit`) read: `<testsuites>`, one `<testsuite>` per target, one `<testcase>` per
/// scenario with its `classname` (`scenarios.<target>`), `name`, `time` in seconds and `file`; its
/// requirements as `<properties>`; a `<failure>` whose message is the first failure and whose text
/// has every failed expectation with what was expected and what was observed; `<error>` for a run
/// that could not be carried out; `<skipped message="reason"/>`; and every verdict in `<system-out>`.
///
/// `read` takes back what `write` wrote (for `rehabctl scenario trace`); it is no general XML reader.
public enum JUnitXML {
    /// The JUnit XML document for `results` (a suite per target, in the targets' order).
    public static func write(_ results: [ScenarioResult], name: String = "rehabhost-scenarios") -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let counts = Counts(results)
        xml += "<testsuites name=\"\(attribute(name))\"\(counts.attributes)>\n"
        for target in ScenarioTarget.allCases {
            let suite = results.filter { $0.target == target }
            guard !suite.isEmpty else { continue }
            let suiteCounts = Counts(suite)
            let timestamp = suite.compactMap(\.timestamp).min().map { " timestamp=\"\(attribute($0))\"" } ?? ""
            xml += "  <testsuite name=\"\(attribute(name)).\(target)\"\(suiteCounts.attributes)\(timestamp)>\n"
            for result in suite { xml += testcase(result) }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }

    private struct Counts {
        var tests = 0
        var failures = 0
        var errors = 0
        var skipped = 0
        var time = 0.0

        init(_ results: [ScenarioResult]) {
            tests = results.count
            for result in results {
                switch result.outcome {
                case .passed: break
                case .failed: failures += 1
                case .error: errors += 1
                case .skipped: skipped += 1
                }
                time += result.timeSeconds
            }
        }

        var attributes: String {
            " tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(JUnitXML.seconds(time))\""
        }
    }

    private static func testcase(_ result: ScenarioResult) -> String {
        var xml = "    <testcase classname=\"scenarios.\(result.target)\" name=\"\(attribute(result.scenario))\""
        xml += " time=\"\(seconds(result.timeSeconds))\" file=\"\(attribute(result.file))\">\n"
        xml += "      <properties>\n"
        for requirement in result.requirements {
            xml += "        <property name=\"requirement\" value=\"\(requirement)\"/>\n"
        }
        xml += "        <property name=\"target\" value=\"\(result.target)\"/>\n"
        xml += "        <property name=\"file\" value=\"\(attribute(result.file))\"/>\n"
        if let timestamp = result.timestamp { xml += "        <property name=\"timestamp\" value=\"\(attribute(timestamp))\"/>\n" }
        xml += "      </properties>\n"
        switch result.outcome {
        case .passed:
            break
        case .failed:
            let failures = result.failures
            let message = result.message ?? failures.first?.line ?? "failed"
            let body = failures.map { "\($0.name): \($0.summary)\n  expected: \($0.expected)\n  observed: \($0.observed)" }.joined(separator: "\n")
            xml += "      <failure message=\"\(attribute(message))\" type=\"expectation\">\(text(body))</failure>\n"
        case .error:
            let message = result.message ?? "the run could not be carried out"
            xml += "      <error message=\"\(attribute(message))\" type=\"runner\">\(text(message))</error>\n"
        case .skipped:
            xml += "      <skipped message=\"\(attribute(result.message ?? "skipped"))\"/>\n"
        }
        var out: [String] = []
        for verdict in result.expectations {
            out.append("\(verdict.status.rawValue.uppercased()) \(verdict.name): expected \(verdict.expected); observed \(verdict.observed)")
        }
        out += result.notes.map { "note: " + $0 }
        if !out.isEmpty { xml += "      <system-out>\(text(out.joined(separator: "\n")))</system-out>\n" }
        xml += "    </testcase>\n"
        return xml
    }

    private static func attribute(_ value: String) -> String { ScenarioText.xmlEscaped(value, attribute: true) }
    private static func text(_ value: String) -> String { ScenarioText.xmlEscaped(value) }
    private static func seconds(_ value: Double) -> String { ScenarioText.number(value, decimals: 3) }

    // MARK: Reading back

    /// The results in a JUnit XML document written by `write` (for the safety evidence report): each
    /// test case's scenario, target, outcome, message, requirements and time.
    public static func read(_ text: String) throws(XMLReadError) -> [RecordedResult] {
        let root = try MiniXML.parse(Array(text.utf8))
        var suites: [MiniXML.Element]
        switch root.name {
        case "testsuites": suites = root.children.filter { $0.name == "testsuite" }
        case "testsuite": suites = [root]
        default: throw XMLReadError(message: "the root element is <\(root.name)>, not <testsuites> or <testsuite>", line: 1, column: 1)
        }
        var results: [RecordedResult] = []
        while let suite = suites.first {
            suites.removeFirst()
            // Nested suites (allowed by some writers) are read too.
            suites += suite.children.filter { $0.name == "testsuite" }
            for testcase in suite.children where testcase.name == "testcase" {
                let name = testcase.attribute("name") ?? ""
                var requirements: [RequirementID] = []
                var target = testcase.attribute("classname").flatMap { classname -> ScenarioTarget? in
                    guard let last = classname.split(separator: ".").last else { return nil }
                    return ScenarioTarget(rawValue: String(last))
                }
                var file = testcase.attribute("file")
                var timestamp = suite.attribute("timestamp")
                for properties in testcase.children where properties.name == "properties" {
                    for property in properties.children where property.name == "property" {
                        let value = property.attribute("value") ?? property.text
                        switch property.attribute("name") {
                        case "requirement": if let requirement = RequirementID(value) { requirements.append(requirement) }
                        case "target": target = ScenarioTarget(rawValue: value) ?? target
                        case "file": file = value
                        case "timestamp": timestamp = value
                        default: break
                        }
                    }
                }
                var outcome = ScenarioResult.Outcome.passed
                var message: String?
                if let failure = testcase.children.first(where: { $0.name == "failure" }) {
                    outcome = .failed
                    message = failure.attribute("message") ?? failure.text
                } else if let error = testcase.children.first(where: { $0.name == "error" }) {
                    outcome = .error
                    message = error.attribute("message") ?? error.text
                } else if let skipped = testcase.children.first(where: { $0.name == "skipped" }) {
                    outcome = .skipped
                    message = skipped.attribute("message") ?? (skipped.text.isEmpty ? nil : skipped.text)
                }
                let time = testcase.attribute("time").flatMap { Double($0) } ?? 0
                results.append(RecordedResult(
                    scenario: name, file: file, target: target, outcome: outcome, message: message, requirements: requirements,
                    timeSeconds: time.isFinite ? time : 0, timestamp: timestamp))
            }
        }
        return results
    }
}

/// One scenario's result as the safety evidence report needs it, from a JSON result or a JUnit file.
public struct RecordedResult: Sendable, Equatable {
    public var scenario: String
    public var file: String?
    /// nil: the file did not say.
    public var target: ScenarioTarget?
    public var outcome: ScenarioResult.Outcome
    public var message: String?
    public var requirements: [RequirementID]
    public var timeSeconds: Double
    public var timestamp: String?

    public init(
        scenario: String, file: String? = nil, target: ScenarioTarget? = nil, outcome: ScenarioResult.Outcome, message: String? = nil,
        requirements: [RequirementID] = [], timeSeconds: Double = 0, timestamp: String? = nil
    ) {
        self.scenario = scenario
        self.file = file
        self.target = target
        self.outcome = outcome
        self.message = message
        self.requirements = requirements
        self.timeSeconds = timeSeconds
        self.timestamp = timestamp
    }
}

extension ScenarioResult {
    /// What the safety evidence report keeps of this result.
    public var recorded: RecordedResult {
        RecordedResult(
            scenario: scenario, file: file, target: target, outcome: outcome, message: message, requirements: requirements,
            timeSeconds: timeSeconds, timestamp: timestamp)
    }
}

/// Why an XML document could not be read, and where.
public struct XMLReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A small, strict XML 1.0 reader: elements, attributes, character data, the five predefined
/// entities and character references, CDATA, comments and processing instructions; no DTD. It checks
/// well-formedness (matching tags, quoted and unique attributes, no raw `<` or stray `&` in text, one
/// root) — enough to read JUnit files back and to test that the writer's output is well formed.
/// Foundation's XMLParser would bring libxml2 into the programs; this does not.
public enum MiniXML {
    public struct Element: Sendable, Equatable {
        public var name: String
        public var attributes: [(name: String, value: String)]
        public var children: [Element]
        /// The character data directly inside it (children's excluded), entities decoded.
        public var text: String

        public func attribute(_ name: String) -> String? {
            attributes.first { $0.name == name }?.value
        }

        public static func == (lhs: Element, rhs: Element) -> Bool {
            lhs.name == rhs.name && lhs.text == rhs.text && lhs.children == rhs.children
                && lhs.attributes.count == rhs.attributes.count
                && zip(lhs.attributes, rhs.attributes).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        }
    }

    /// The document's root element.
    public static func parse(_ bytes: [UInt8]) throws(XMLReadError) -> Element {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0
        static let maximumDepth = 64

        init(bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        }

        func error(_ message: String, at position: Int? = nil) -> XMLReadError {
            let end = min(position ?? offset, bytes.count)
            var line = 1
            var column = 1
            for byte in bytes[0..<end] {
                if byte == 0x0A {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return XMLReadError(message: message, line: line, column: column)
        }

        var atEnd: Bool { offset >= bytes.count }

        func peek(_ text: String) -> Bool {
            let pattern = Array(text.utf8)
            return offset + pattern.count <= bytes.count && Array(bytes[offset..<(offset + pattern.count)]) == pattern
        }

        mutating func skipWhitespace() {
            while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
        }

        /// Skips past `terminator`, or fails with `what` unterminated.
        mutating func skip(past terminator: String, what: String) throws(XMLReadError) {
            let start = offset
            while !atEnd {
                if peek(terminator) {
                    offset += terminator.utf8.count
                    return
                }
                offset += 1
            }
            throw error("\(what) is not terminated", at: start)
        }

        /// Comments and processing instructions; false when none is next.
        mutating func miscellany() throws(XMLReadError) -> Bool {
            if peek("<!--") {
                let start = offset
                offset += 4
                while !atEnd && !peek("-->") {
                    if peek("--") { throw error("\"--\" inside a comment", at: offset) }
                    offset += 1
                }
                guard !atEnd else { throw error("a comment is not terminated", at: start) }
                offset += 3
                return true
            }
            if peek("<?") {
                try skip(past: "?>", what: "a processing instruction")
                return true
            }
            return false
        }

        mutating func document() throws(XMLReadError) -> Element {
            skipWhitespace()
            while try miscellany() { skipWhitespace() }
            if peek("<!DOCTYPE") { throw error("a document type declaration is not accepted") }
            guard peek("<") else { throw error(atEnd ? "the document is empty" : "expected the root element") }
            let root = try element(depth: 0)
            skipWhitespace()
            while try miscellany() { skipWhitespace() }
            guard atEnd else { throw error("content after the root element") }
            return root
        }

        static func isNameStart(_ byte: UInt8) -> Bool {
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x3A || byte >= 0x80
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            isNameStart(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x2E
        }

        mutating func name() throws(XMLReadError) -> String {
            let start = offset
            guard offset < bytes.count, Self.isNameStart(bytes[offset]) else { throw error("expected a name") }
            while offset < bytes.count, Self.isNameByte(bytes[offset]) { offset += 1 }
            return String(decoding: bytes[start..<offset], as: UTF8.self)
        }

        mutating func element(depth: Int) throws(XMLReadError) -> Element {
            guard depth < Self.maximumDepth else { throw error("elements nested deeper than \(Self.maximumDepth)") }
            offset += 1  // "<"
            let tag = try name()
            var element = Element(name: tag, attributes: [], children: [], text: "")
            while true {
                let hadSpace = offset < bytes.count && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset])
                skipWhitespace()
                guard !atEnd else { throw error("<\(tag)> is not closed") }
                if peek("/>") {
                    offset += 2
                    return element
                }
                if peek(">") {
                    offset += 1
                    break
                }
                guard hadSpace else { throw error("expected whitespace before an attribute of <\(tag)>") }
                let attributeName = try name()
                skipWhitespace()
                guard peek("=") else { throw error("expected \"=\" after the attribute \(attributeName)") }
                offset += 1
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == 0x22 || bytes[offset] == 0x27 else {
                    throw error("the value of \(attributeName) must be quoted")
                }
                let quote = bytes[offset]
                offset += 1
                let value = try characterData(until: quote)
                offset += 1
                if element.attributes.contains(where: { $0.name == attributeName }) {
                    throw error("the attribute \(attributeName) is given twice in <\(tag)>")
                }
                element.attributes.append((attributeName, value))
            }
            // Content.
            while true {
                guard !atEnd else { throw error("<\(tag)> is not closed") }
                if peek("</") {
                    offset += 2
                    let closing = try name()
                    guard closing == tag else { throw error("</\(closing)> closes <\(tag)>") }
                    skipWhitespace()
                    guard peek(">") else { throw error("expected \">\" after </\(closing)") }
                    offset += 1
                    return element
                }
                if peek("<![CDATA[") {
                    offset += 9
                    let start = offset
                    while !atEnd && !peek("]]>") { offset += 1 }
                    guard !atEnd else { throw error("a CDATA section is not terminated", at: start) }
                    element.text += String(decoding: bytes[start..<offset], as: UTF8.self)
                    offset += 3
                    continue
                }
                if try miscellany() { continue }
                if peek("<!") { throw error("unexpected markup declaration") }
                if peek("<") {
                    element.children.append(try self.element(depth: depth + 1))
                    continue
                }
                element.text += try characterData(until: 0x3C)
            }
        }

        /// Character data up to (not including) the byte `end`, entities and character references
        /// decoded; a raw `<` (in an attribute) or a `&` that starts no reference is an error.
        mutating func characterData(until end: UInt8) throws(XMLReadError) -> String {
            var out: [UInt8] = []
            while true {
                guard offset < bytes.count else {
                    if end == 0x3C { return String(decoding: out, as: UTF8.self) }
                    throw error("an attribute value is not terminated")
                }
                let byte = bytes[offset]
                if byte == end { return String(decoding: out, as: UTF8.self) }
                if byte == 0x3C { throw error("a raw \"<\" in an attribute value") }
                if byte == 0x26 {
                    out += try reference()
                    continue
                }
                if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { throw error("a control character (0x\(String(byte, radix: 16)))") }
                if end != 0x3C && (byte == 0x0A || byte == 0x0D || byte == 0x09) {
                    out.append(0x20)  // attribute-value normalisation
                } else {
                    out.append(byte)
                }
                offset += 1
            }
        }

        mutating func reference() throws(XMLReadError) -> [UInt8] {
            let start = offset
            offset += 1  // "&"
            var body: [UInt8] = []
            while offset < bytes.count, bytes[offset] != 0x3B, body.count <= 10 {
                body.append(bytes[offset])
                offset += 1
            }
            guard offset < bytes.count, bytes[offset] == 0x3B else { throw error("\"&\" starts no entity or character reference", at: start) }
            offset += 1
            let name = String(decoding: body, as: UTF8.self)
            switch name {
            case "lt": return [0x3C]
            case "gt": return [0x3E]
            case "amp": return [0x26]
            case "quot": return [0x22]
            case "apos": return [0x27]
            default:
                var value: UInt32?
                if name.hasPrefix("#x") {
                    value = UInt32(name.dropFirst(2), radix: 16)
                } else if name.hasPrefix("#") {
                    value = UInt32(name.dropFirst(1), radix: 10)
                } else {
                    throw error("unknown entity &\(name);", at: start)
                }
                guard let value, let scalar = Unicode.Scalar(value),
                    value == 0x09 || value == 0x0A || value == 0x0D || (value >= 0x20 && value != 0xFFFE && value != 0xFFFF)
                else { throw error("&\(name); is not a character XML allows", at: start) }
                return Array(String(Character(scalar)).utf8)
            }
        }
    }
}
