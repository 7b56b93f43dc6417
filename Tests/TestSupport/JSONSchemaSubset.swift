import StrictJSON

/// Checks JSON values against the part of JSON Schema (draft 2020-12) that the recordings' schemas
/// use: `type` (one name or a list), `enum`, `properties`, `required`, `additionalProperties`
/// (`false` or a schema), `items`, `minItems`, `maxItems`, `minimum`, `maximum`; `$schema`, `title`
/// and `description` are annotations. Any other keyword is itself a problem, so a schema cannot pass
/// by using something this validator does not check. Written for the tests, apart from the code
/// that writes the schemas and the messages: an independent reading of what a file promises.
public struct JSONSchemaSubset: Sendable {
    public let schema: JSONValue

    public init(_ text: String) throws(JSONParseError) {
        schema = try JSONParser.parse(text)
    }

    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// Every way `value` breaks the schema, each as "path: problem" (`$.position_rad[1]: …`); empty
    /// when it conforms.
    public func problems(_ value: JSONValue) -> [String] {
        var found: [String] = []
        Self.check(value, against: schema, path: "$", into: &found)
        return found
    }

    private static let annotations: Set<String> = ["$schema", "title", "description"]
    private static let keywords: Set<String> = [
        "type", "enum", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minimum", "maximum",
    ]

    private static func check(_ value: JSONValue, against schema: JSONValue, path: String, into found: inout [String]) {
        guard let rules = schema.objectValue else {
            switch schema {
            case .bool(true): break
            case .bool(false): found.append("\(path): no value is allowed here")
            default: found.append("\(path): the schema is \(schema.kindDescription), not an object or a boolean")
            }
            return
        }
        for key in rules.keys where !annotations.contains(key) && !keywords.contains(key) {
            found.append("\(path): the schema uses \(key), which this validator does not check")
        }
        if let type = rules["type"] {
            let names = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            guard names.contains(where: { matches(value, type: $0) }) else {
                found.append("\(path): \(value.kindDescription) where the schema wants \(names.joined(separator: " or "))")
                return
            }
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(where: { same($0, value) }) {
            found.append("\(path): \(value.serialized()) is not one of \(JSONValue.array(options).serialized())")
        }
        switch value {
        case .object(let object):
            let properties = rules["properties"]?.objectValue ?? JSONObject()
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                found.append("\(path): the required field \(name) is missing")
            }
            for (key, member) in object.entries {
                if let rule = properties[key] {
                    check(member, against: rule, path: path + "." + key, into: &found)
                } else if rules["additionalProperties"] == .bool(false) {
                    found.append("\(path): the field \(key) is not in the schema")
                } else if let additional = rules["additionalProperties"] {
                    check(member, against: additional, path: path + "." + key, into: &found)
                }
            }
        case .array(let elements):
            if let minimum = rules["minItems"]?.integerValue, elements.count < minimum {
                found.append("\(path): \(elements.count) items, fewer than \(minimum)")
            }
            if let maximum = rules["maxItems"]?.integerValue, elements.count > maximum {
                found.append("\(path): \(elements.count) items, more than \(maximum)")
            }
            if let item = rules["items"] {
                for (index, element) in elements.enumerated() {
                    check(element, against: item, path: "\(path)[\(index)]", into: &found)
                }
            }
        case .integer, .double:
            let number = value.doubleValue ?? 0
            if let minimum = rules["minimum"]?.doubleValue, number < minimum { found.append("\(path): \(number) is below \(minimum)") }
            if let maximum = rules["maximum"]?.doubleValue, number > maximum { found.append("\(path): \(number) is above \(maximum)") }
        case .null, .bool, .string:
            break
        }
    }

    /// JSON Schema's types: an integer is any number without a fraction (1.0 included).
    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .integer), ("number", .double), ("integer", .integer): true
        case ("integer", .double(let number)): number.rounded() == number
        default: false
        }
    }

    /// `enum`'s equality: numbers by value (0 equals 0.0), everything else exactly.
    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }
}
