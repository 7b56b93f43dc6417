#if FUZZING
    import CLibFuzzer
    import Foundation

    // The libFuzzer side of rehabfuzz (scripts/fuzz.sh builds it with -sanitize=fuzzer and -DFUZZING).
    //
    //     REHABFUZZ_TARGET=json .build-fuzz/release/rehabfuzz WORK_CORPUS SEED_CORPUS -max_total_time=60

    /// The target, chosen once by REHABFUZZ_TARGET before the first input (`LLVMFuzzerInitialize`).
    nonisolated(unsafe) private var selectedTarget: FuzzTarget?

    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzInitialize(
        _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
    ) -> CInt {
        let name = ProcessInfo.processInfo.environment["REHABFUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            printToStandardError(
                "REHABFUZZ_TARGET is \"\(name)\"; set it to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(64)
        }
        selectedTarget = target
        // Loaded now rather than within the first input's time budget.
        if target == .profile || target == .exercise {
            _ = Reference.profiles.count
            _ = Reference.exercises.count
        }
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        guard let target = selectedTarget else { fatalError("rehabfuzz: LLVMFuzzerInitialize chose no target") }
        let input = data != nil && size > 0 ? UnsafeRawBufferPointer(start: data, count: size) : UnsafeRawBufferPointer(start: nil, count: 0)
        _ = target.run(input)
        return 0
    }

    /// Hands the process to libFuzzer (it parses the command line: corpus folders and -flags).
    func runLibFuzzer() -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
    }
#endif
