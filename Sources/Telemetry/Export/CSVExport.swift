import StrictJSON

/// `rehabctl export`: one CSV file per channel of a recording, for pandas, MATLAB or a spreadsheet.
///
/// Columns: `log_time_ns` (Unix epoch), then the message's fields in order, flattened — per-joint
/// arrays become one column per joint (`<joint>.<field>`, joints from the channel's metadata),
/// nested objects `<field>.<key>`. Field names carry their SI unit (`position_rad`,
/// `motor_torque_nm`, `wake_latency_ns`); null (no target, no measurement) is an empty cell.
public enum CSVExport {
    public struct Table: Sendable, Equatable {
        public var fileName: String
        public var header: [String]
        public var rows: [[String]]

        public init(fileName: String, header: [String], rows: [[String]]) {
            self.fileName = fileName
            self.header = header
            self.rows = rows
        }

        public var text: String {
            var lines = [header.map(Self.escape).joined(separator: ",")]
            lines.reserveCapacity(rows.count + 1)
            for row in rows { lines.append(row.map(Self.escape).joined(separator: ",")) }
            return lines.joined(separator: "\n") + "\n"
        }

        static func escape(_ cell: String) -> String {
            guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
            return "\"" + cell.replacingQuotes() + "\""
        }
    }

    /// The tables of every channel that has messages, in channel order.
    public static func tables(of file: MCAPFile) throws(MCAPError) -> [Table] {
        var tables: [Table] = []
        for channel in file.channels.values.sorted(by: { $0.id < $1.id }) {
            let messages = file.messages.filter { $0.channel == channel.id }
            guard !messages.isEmpty else { continue }
            guard channel.messageEncoding == "json" else {
                throw .inconsistent("channel \(channel.topic) is encoded as \(channel.messageEncoding); only json is exported")
            }
            let joints = channel.metadata["joints"].map { $0.split(separator: ",").map(String.init) } ?? []
            var columns: [String] = []
            var columnIndex: [String: Int] = [:]
            var rows: [[String: String]] = []
            rows.reserveCapacity(messages.count)
            for message in messages {
                let value: JSONValue
                do throws(JSONParseError) {
                    value = try JSONParser.parse(bytes: Array(file.data(of: message)))
                } catch {
                    throw .inconsistent("a message on \(channel.topic) at \(message.logTime) ns is not JSON: \(error)")
                }
                guard let object = value.objectValue else {
                    throw .inconsistent("a message on \(channel.topic) is not a JSON object")
                }
                var row: [String: String] = ["log_time_ns": String(message.logTime)]
                var order = ["log_time_ns"]
                flatten(object, prefix: "", joints: joints, into: &row, order: &order)
                for column in order where columnIndex[column] == nil {
                    columnIndex[column] = columns.count
                    columns.append(column)
                }
                rows.append(row)
            }
            let name = channel.topic.split(separator: "/").joined(separator: "_")
            tables.append(Table(fileName: (name.isEmpty ? "channel\(channel.id)" : name) + ".csv", header: columns,
                                rows: rows.map { row in columns.map { row[$0] ?? "" } }))
        }
        return tables
    }

    private static func flatten(_ object: JSONObject, prefix: String, joints: [String], into row: inout [String: String], order: inout [String]) {
        for (key, value) in object.entries {
            let name = prefix + key
            switch value {
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    let column = (index < joints.count && elements.count == joints.count ? joints[index] : "\(index)") + "." + name
                    row[column] = cell(element)
                    order.append(column)
                }
            case .object(let nested):
                flatten(nested, prefix: name + ".", joints: joints, into: &row, order: &order)
            default:
                row[name] = cell(value)
                order.append(name)
            }
        }
    }

    private static func cell(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): flag ? "1" : "0"
        case .integer(let number): String(number)
        case .double(let number): number.isFinite ? "\(number)" : ""
        case .string(let text): text
        case .array, .object: value.serialized()
        }
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" { result.append("\"") }
            result.append(character)
        }
        return result
    }
}
