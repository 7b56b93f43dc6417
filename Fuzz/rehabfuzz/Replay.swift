#if !FUZZING
    import Foundation

    /// The replayer: runs one target over every input given (a folder: its files, not its subfolders
    /// nor its hidden files such as .gitkeep), prints how many there were and how many got past the
    /// target's first check, and exits 0. An input that breaks the target traps, as under libFuzzer:
    /// the process dies with it (its path is the last line on standard error).
    enum Replay {
        static let usage = """
            usage: rehabfuzz TARGET FILE|FOLDER...   run TARGET on every file
                   rehabfuzz --list                  the targets, one a line
            targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
            fuzzing: scripts/fuzz.sh TARGET|all [SECONDS] (docs/reliability.md)
            """

        static func run(_ arguments: [String]) -> Int32 {
            if arguments == ["--list"] {
                for target in FuzzTarget.allCases { print(target.rawValue) }
                return 0
            }
            if arguments == ["--help"] || arguments == ["-h"] {
                print(usage)
                return 0
            }
            guard arguments.count >= 2 else {
                printToStandardError("a target and at least one file or folder are needed\n" + usage)
                return 64
            }
            guard let target = FuzzTarget(rawValue: arguments[0]) else {
                printToStandardError("unknown target \"\(arguments[0])\"\n" + usage)
                return 64
            }
            var files: [String] = []
            for path in arguments.dropFirst() {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                    printToStandardError("\(path): no such file or folder")
                    return 66
                }
                guard isFolder.boolValue else {
                    files.append(path)
                    continue
                }
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path)
                } catch {
                    printToStandardError("\(path): cannot list the folder: \(error)")
                    return 66
                }
                for name in names.sorted() where !name.hasPrefix(".") {
                    let file = path + "/" + name
                    var isSubfolder: ObjCBool = false
                    if FileManager.default.fileExists(atPath: file, isDirectory: &isSubfolder), !isSubfolder.boolValue { files.append(file) }
                }
            }
            var accepted = 0
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    printToStandardError("\(file): cannot read")
                    return 66
                }
                printToStandardError("\(target.rawValue) \(file) (\(data.count) bytes)")
                if data.withUnsafeBytes({ target.run($0) }) { accepted += 1 }
            }
            print("rehabfuzz replay \(target.rawValue): \(files.count) inputs, \(accepted) accepted, \(files.count - accepted) rejected")
            return 0
        }
    }
#endif
