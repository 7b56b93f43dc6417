extension NDI {
    /// How a command line is written (README §3.1). The device accepts all three; only the colon form
    /// carries a CRC, so the host sends that one.
    public enum CommandForm: String, Sendable, CaseIterable {
        /// NAME ':' parameters CRC CR: "INIT:E3A5⏎" (ndicapi, scikit-surgerynditracker).
        case colon
        /// NAME ' ' parameters CR, no CRC: "INIT ⏎" (NDI's sample code, cisst).
        case space
        /// NAME CR, no parameters, no CRC: "INIT⏎".
        case bare
    }

    /// One command: its name, form and parameters (README §3.1, §5). Valid by construction: a name of
    /// A–Z and 0–9 (at most `maxCommandNameBytes`), printable parameters, no parameters in the bare form,
    /// and a line of at most `maxCommandBytes`. The host builds it with the named factories
    /// (`.initialize()`, `.portHandleEnable(_:priority:)`, `.bx()` …); the device gets it from `CommandParser`.
    public struct Command: Sendable, Equatable, CustomStringConvertible {
        public private(set) var name: NDI.CommandName
        public private(set) var form: NDI.CommandForm
        public private(set) var parameters: NDI.CommandParameters

        /// The command, or nil when it breaks one of the rules above.
        public init?(name: NDI.CommandName, parameters: NDI.CommandParameters = NDI.CommandParameters(), form: NDI.CommandForm = .colon) {
            guard !name.isEmpty else { return nil }
            for byte in name where !NDI.isCommandNameCharacter(byte) { return nil }
            for byte in parameters where byte < 0x20 || byte > 0x7E { return nil }
            if form == .bare && !parameters.isEmpty { return nil }
            self.init(checkedName: name, form: form, parameters: parameters)
            guard lineLength <= NDI.maxCommandBytes else { return nil }
        }

        /// The command of `name` and `parameters` (tests and set-up code), or nil as above.
        public init?(_ name: String, parameters: String = "", form: NDI.CommandForm = .colon) {
            guard let name = NDI.CommandName(name), let parameters = NDI.CommandParameters(parameters) else { return nil }
            self.init(name: name, parameters: parameters, form: form)
        }

        /// A command whose parts the caller has checked (the parser, the named factories).
        init(checkedName name: NDI.CommandName, form: NDI.CommandForm, parameters: NDI.CommandParameters) {
            self.name = name
            self.form = form
            self.parameters = parameters
        }

        /// The line's length without its CR.
        public var lineLength: Int {
            switch form {
            case .colon: name.count + 1 + parameters.count + NDI.asciiCRCDigits
            case .space: name.count + 1 + parameters.count
            case .bare: name.count
            }
        }

        /// True when the command is `text` ("BX").
        public func isNamed(_ text: StaticString) -> Bool { name.equals(ascii: text) }

        /// The parameter characters [offset, offset + digits) as hex (either case); nil when absent or not hex.
        public func hexParameter(at offset: Int, digits: Int) -> UInt32? {
            parameters.hexValue(at: offset, digits: digits)
        }

        /// The parameter character at `offset`, or nil past the end.
        public func parameter(at offset: Int) -> UInt8? {
            offset >= 0 && offset < parameters.count ? parameters[offset] : nil
        }

        public var description: String {
            switch form {
            case .colon: "\(name.string):\(parameters.string)"
            case .space: "\(name.string) \(parameters.string)"
            case .bare: name.string
            }
        }
    }

    /// PENA's tool tracking priority (README §5.7).
    public enum TrackingPriority: UInt8, Sendable, CaseIterable {
        /// 'S': a relatively immobile tool (a reference).
        case staticTool = 0x53
        /// 'D': a tool that moves (most tools; what the host enables).
        case dynamicTool = 0x44
        /// 'B': a tool with no markers (a button box, a foot pedal).
        case buttonBox = 0x42
    }

    /// PHSR's reply option: which port handles to list (README §5.4).
    public enum PortHandleSearch: UInt8, Sendable, CaseIterable {
        case all = 0x00
        /// Handles waiting to be freed (PHF).
        case toBeFreed = 0x01
        /// Handles that need PINIT.
        case notInitialized = 0x02
        /// Initialised handles that need PENA.
        case notEnabled = 0x03
        case enabled = 0x04
    }

    /// COMM's five parameter characters: baud rate, data bits, parity, stop bits, handshake (README §5.2).
    /// "COMM 50000" is 115200 baud, 8N1, no handshake.
    public struct SerialSettings: Sendable, Equatable {
        /// The baud-rate character; its raw value is the ASCII character sent.
        public enum BaudRate: UInt8, Sendable, CaseIterable {
            case bps9600 = 0x30, bps14400 = 0x31, bps19200 = 0x32, bps38400 = 0x33, bps57600 = 0x34
            case bps115200 = 0x35, bps921600 = 0x36, bps1228739 = 0x37
            /// 'A' (ndicapi's table; README §5.2).
            case bps230400 = 0x41

            public var bitsPerSecond: Int {
                switch self {
                case .bps9600: 9600
                case .bps14400: 14_400
                case .bps19200: 19_200
                case .bps38400: 38_400
                case .bps57600: 57_600
                case .bps115200: 115_200
                case .bps921600: 921_600
                case .bps1228739: 1_228_739
                case .bps230400: 230_400
                }
            }
        }

        /// '0' none, '1' odd, '2' even.
        public enum Parity: UInt8, Sendable, CaseIterable {
            case none = 0x30, odd = 0x31, even = 0x32
        }

        public var baudRate: BaudRate
        /// 8 ('0') or 7 ('1').
        public var sevenDataBits: Bool
        public var parity: Parity
        /// 1 ('0') or 2 ('1') stop bits.
        public var twoStopBits: Bool
        /// RTS/CTS handshake ('1') or none ('0').
        public var hardwareHandshake: Bool

        public init(baudRate: BaudRate, sevenDataBits: Bool = false, parity: Parity = .none, twoStopBits: Bool = false, hardwareHandshake: Bool = false) {
            self.baudRate = baudRate
            self.sevenDataBits = sevenDataBits
            self.parity = parity
            self.twoStopBits = twoStopBits
            self.hardwareHandshake = hardwareHandshake
        }

        /// 9600 8N1, no handshake: the settings after power-up and after a break.
        public static let powerUp = SerialSettings(baudRate: .bps9600)

        /// The settings of COMM's parameters ("50000"), or nil when they are not five valid characters.
        public init?(commParameters p: NDI.CommandParameters) {
            guard p.count == 5, let baud = BaudRate(rawValue: p[0]), let parity = Parity(rawValue: p[2]) else { return nil }
            func flag(_ byte: UInt8) -> Bool? { byte == 0x30 ? false : byte == 0x31 ? true : nil }
            guard let seven = flag(p[1]), let two = flag(p[3]), let handshake = flag(p[4]) else { return nil }
            self.init(baudRate: baud, sevenDataBits: seven, parity: parity, twoStopBits: two, hardwareHandshake: handshake)
        }

        /// COMM's parameters for these settings.
        public var commParameters: NDI.CommandParameters {
            var p = NDI.CommandParameters()
            p.append(baudRate.rawValue)
            p.append(sevenDataBits ? 0x31 : 0x30)
            p.append(parity.rawValue)
            p.append(twoStopBits ? 0x31 : 0x30)
            p.append(hardwareHandshake ? 0x31 : 0x30)
            return p
        }
    }
}

// MARK: - The host's commands (README §5)

extension NDI.Command {
    private static func make(_ name: StaticString, _ form: NDI.CommandForm, _ parameters: NDI.CommandParameters = NDI.CommandParameters()) -> Self {
        // The literals below are valid names, and every factory's parameters are short and printable.
        var checkedName = NDI.CommandName()
        checkedName.append(ascii: name)
        return NDI.Command(checkedName: checkedName, form: form == .bare && !parameters.isEmpty ? .space : form, parameters: parameters)
    }

    private static func handle(_ handle: UInt8) -> NDI.CommandParameters {
        var p = NDI.CommandParameters()
        p.append(hex: UInt32(handle), digits: 2)
        return p
    }

    /// INIT: initialise the system (README §5.1).
    public static func initialize(form: NDI.CommandForm = .colon) -> Self { make("INIT", form) }

    /// VER n: the firmware version text of processor n (0: control firmware, 4: with enhanced versioning).
    public static func version(_ option: UInt8 = 0, form: NDI.CommandForm = .colon) -> Self {
        var p = NDI.CommandParameters()
        p.append(decimal: UInt32(option))
        return make("VER", form, p)
    }

    /// COMM: new serial settings; the device answers OKAY at the old ones, then switches (README §5.2).
    public static func communication(_ settings: NDI.SerialSettings, form: NDI.CommandForm = .colon) -> Self {
        make("COMM", form, settings.commParameters)
    }

    /// PHSR: list port handles (README §5.4).
    public static func portHandleSearch(_ option: NDI.PortHandleSearch, form: NDI.CommandForm = .colon) -> Self {
        make("PHSR", form, handle(option.rawValue))
    }

    /// PINIT hh: initialise the tool of port handle hh (README §5.6).
    public static func portHandleInitialize(_ portHandle: UInt8, form: NDI.CommandForm = .colon) -> Self {
        make("PINIT", form, handle(portHandle))
    }

    /// PENA hh p: enable the tool of port handle hh for tracking with priority p (README §5.7).
    public static func portHandleEnable(_ portHandle: UInt8, priority: NDI.TrackingPriority, form: NDI.CommandForm = .colon) -> Self {
        var p = handle(portHandle)
        p.append(priority.rawValue)
        return make("PENA", form, p)
    }

    /// PDIS hh: disable tracking of port handle hh (README §5.8).
    public static func portHandleDisable(_ portHandle: UInt8, form: NDI.CommandForm = .colon) -> Self {
        make("PDIS", form, handle(portHandle))
    }

    /// PHF hh: free port handle hh (README §5.8).
    public static func portHandleFree(_ portHandle: UInt8, form: NDI.CommandForm = .colon) -> Self {
        make("PHF", form, handle(portHandle))
    }

    /// TSTART: enter tracking mode (README §5.9).
    public static func startTracking(form: NDI.CommandForm = .colon) -> Self { make("TSTART", form) }

    /// TSTOP: leave tracking mode (README §5.9).
    public static func stopTracking(form: NDI.CommandForm = .colon) -> Self { make("TSTOP", form) }

    /// RESET 0: the system resets as after a serial break — 9600 8N1, not initialised, its tools' set-up
    /// undone — and answers `RESET` at 9600 when it is ready (README §2, §5.10; *ours*, from public
    /// scripts): the host's way to reset a system it cannot send a break to (a pseudo-terminal).
    /// `RESET:034BF⏎`.
    public static func reset(form: NDI.CommandForm = .colon) -> Self {
        var p = NDI.CommandParameters()
        p.append(decimal: 0)
        return make("RESET", form, p)
    }

    /// BX oooo: one frame of tracking data as a binary reply (README §6).
    public static func bx(_ options: NDI.BXReplyOptions = .hostDefault, form: NDI.CommandForm = .colon) -> Self {
        var p = NDI.CommandParameters()
        p.append(hex: UInt32(options.rawValue), digits: 4)
        return make("BX", form, p)
    }

    /// TX oooo: one frame of tracking data as ASCII (README §7).
    public static func tx(_ options: NDI.BXReplyOptions = .hostDefault, form: NDI.CommandForm = .colon) -> Self {
        var p = NDI.CommandParameters()
        p.append(hex: UInt32(options.rawValue), digits: 4)
        return make("TX", form, p)
    }
}

extension NDI {
    /// One command line as bytes, CR included, in fixed inline storage (no heap), ready to write: the
    /// longest command (`NDI.maxCommandBytes`) and its CR.
    public typealias EncodedCommand = InlineBytes<257>

    /// Writes commands as the host sends them (README §3.1): the colon form gets the CRC of everything
    /// before it as four upper-case hex digits; every form ends with CR.
    public enum CommandEncoder {
        /// Writes `command` into `line` (replacing what was there). Cannot fail: a `Command` fits.
        public static func encode(_ command: NDI.Command, into line: inout NDI.EncodedCommand) {
            line.removeAll()
            var crc = NDI.CRC16()
            func put(_ byte: UInt8) {
                line.append(byte)
                crc.update(byte)
            }
            for byte in command.name { put(byte) }
            switch command.form {
            case .colon:
                put(UInt8(ascii: ":"))
                for byte in command.parameters { put(byte) }
                line.append(hex: UInt32(crc.value), digits: 4)
            case .space:
                put(UInt8(ascii: " "))
                for byte in command.parameters { put(byte) }
            case .bare:
                break
            }
            line.append(NDI.carriageReturn)
        }

        /// The encoded line of `command`.
        public static func encoded(_ command: NDI.Command) -> NDI.EncodedCommand {
            var line = NDI.EncodedCommand()
            encode(command, into: &line)
            return line
        }
    }
}

// MARK: - The device's receiver (README §8.2)

extension NDI {
    /// What `CommandParser` made of one line: a command, or a refusal the device answers with ERRORxx.
    public enum CommandResult: Sendable, Equatable {
        case command(NDI.Command)
        case rejected(NDI.CommandRejection)

        public var decodedCommand: NDI.Command? {
            if case .command(let command) = self { return command }
            return nil
        }

        public var rejection: NDI.CommandRejection? {
            if case .rejected(let rejection) = self { return rejection }
            return nil
        }
    }

    /// Why a line is not a command (README §8.2), with the ERROR code a device answers.
    public enum CommandRejectionReason: String, Sendable, CaseIterable {
        /// No command name, an unexpected character after it, or a non-printable byte: ERROR01.
        case invalid = "invalid"
        /// More than `maxCommandBytes` before the CR: ERROR02.
        case tooLong = "too_long"
        /// An empty line, or a colon form too short to hold its CRC: ERROR03.
        case tooShort = "too_short"
        /// A colon form whose last four characters are not the CRC of the rest: ERROR04.
        case badCRC = "bad_crc"

        /// The code of the device's "ERRORxx" reply.
        public var errorCode: UInt8 {
            switch self {
            case .invalid: 0x01
            case .tooLong: 0x02
            case .tooShort: 0x03
            case .badCRC: 0x04
            }
        }
    }

    /// A refused command line.
    public struct CommandRejection: Sendable, Equatable {
        public var reason: NDI.CommandRejectionReason

        public init(reason: NDI.CommandRejectionReason) {
            self.reason = reason
        }

        /// The code of the device's "ERRORxx" reply.
        public var errorCode: UInt8 { reason.errorCode }
    }

    /// The device receiver's counters (README §8.2). Every byte pushed ends up in exactly one of: a
    /// decoded command, `discardedBytes`, or the line still arriving (`CommandParser.bufferedByteCount`).
    public struct CommandStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        public var commandsDecoded: UInt64 = 0
        /// Colon-form lines whose CRC did not match (answered ERROR04).
        public var crcErrors: UInt64 = 0
        /// Lines longer than `maxCommandBytes` (ERROR02).
        public var oversizeLines: UInt64 = 0
        /// Empty, invalid and too-short lines (ERROR01, ERROR03).
        public var malformedLines: UInt64 = 0
        /// Bytes of refused lines, and LFs dropped before a line.
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// The device's receiver, for a simulator (README §8.2): bytes in, in any split; one result per CR.
    /// A LF at the start of a line (a host ending lines with CR LF) is dropped. Pure and allocation-free:
    /// the line is collected in fixed inline storage.
    public struct CommandParser: Sendable {
        private var line = NDI.CommandParameters()
        /// Bytes of the line so far, those beyond `maxCommandBytes` included.
        private var lineByteCount = 0
        public private(set) var statistics = NDI.CommandStatistics()

        public init() {}

        /// Bytes of a line still arriving.
        public var bufferedByteCount: Int { lineByteCount }

        /// Forgets a line still arriving (e.g. after a break); its bytes are not counted.
        public mutating func reset() {
            line.removeAll()
            lineByteCount = 0
        }

        /// Feeds one byte; returns a result when it was a CR.
        public mutating func push(_ byte: UInt8) -> NDI.CommandResult? {
            statistics.bytesReceived &+= 1
            guard byte != NDI.carriageReturn else { return endOfLine() }
            if byte == NDI.lineFeed && lineByteCount == 0 {
                statistics.discardedBytes &+= 1
                return nil
            }
            lineByteCount += 1
            line.append(byte)   // beyond `maxCommandBytes` it stops storing; `lineByteCount` tells
            return nil
        }

        /// Feeds `bytes`, calling `body` with every result, in order.
        public mutating func push(_ bytes: UnsafeRawBufferPointer, _ body: (NDI.CommandResult) -> Void) {
            for byte in bytes {
                if let result = push(byte) { body(result) }
            }
        }

        private mutating func endOfLine() -> NDI.CommandResult {
            let count = UInt64(lineByteCount + 1)
            let result: NDI.CommandResult
            if lineByteCount > NDI.maxCommandBytes {
                result = .rejected(NDI.CommandRejection(reason: .tooLong))
            } else {
                result = Self.parse(line)
            }
            switch result {
            case .command:
                statistics.commandsDecoded &+= 1
            case .rejected(let rejection):
                switch rejection.reason {
                case .badCRC: statistics.crcErrors &+= 1
                case .tooLong: statistics.oversizeLines &+= 1
                case .invalid, .tooShort: statistics.malformedLines &+= 1
                }
                statistics.discardedBytes &+= count
            }
            reset()
            return result
        }

        /// One line without its CR (README §8.2 steps 3–6).
        static func parse(_ line: NDI.CommandParameters) -> NDI.CommandResult {
            func rejected(_ reason: NDI.CommandRejectionReason) -> NDI.CommandResult {
                .rejected(NDI.CommandRejection(reason: reason))
            }
            guard !line.isEmpty else { return rejected(.tooShort) }
            for byte in line where byte < 0x20 || byte > 0x7E { return rejected(.invalid) }
            var nameEnd = 0
            while nameEnd < line.count && NDI.isCommandNameCharacter(line[nameEnd]) { nameEnd += 1 }
            guard nameEnd > 0, nameEnd <= NDI.maxCommandNameBytes else { return rejected(.invalid) }
            var name = NDI.CommandName()
            for index in 0..<nameEnd { name.append(line[index]) }
            guard nameEnd < line.count else {
                return .command(NDI.Command(checkedName: name, form: .bare, parameters: NDI.CommandParameters()))
            }
            var parameters = NDI.CommandParameters()
            switch line[nameEnd] {
            case UInt8(ascii: " "):
                for index in (nameEnd + 1)..<line.count { parameters.append(line[index]) }
                return .command(NDI.Command(checkedName: name, form: .space, parameters: parameters))
            case UInt8(ascii: ":"):
                let crcStart = line.count - NDI.asciiCRCDigits
                guard crcStart > nameEnd else { return rejected(.tooShort) }
                var crc = NDI.CRC16()
                for index in 0..<crcStart { crc.update(line[index]) }
                guard let received = line.hexValue(at: crcStart, digits: NDI.asciiCRCDigits), received == UInt32(crc.value) else {
                    return rejected(.badCRC)
                }
                for index in (nameEnd + 1)..<crcStart { parameters.append(line[index]) }
                return .command(NDI.Command(checkedName: name, form: .colon, parameters: parameters))
            default:
                return rejected(.invalid)
            }
        }
    }
}
