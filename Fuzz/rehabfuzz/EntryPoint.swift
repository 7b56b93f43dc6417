import Foundation

/// `rehabfuzz`. Built by `swift build`: the replayer (Replay.swift), which runs a target over files
/// and folders of inputs without libFuzzer (FuzzRegressionTests replays the seed corpora and every
/// minimised crash with it). Built by scripts/fuzz.sh with `-sanitize=fuzzer` and `-DFUZZING`: the
/// libFuzzer fuzzer (Fuzz.swift).
///
/// The program keeps its own `main` in both builds: SwiftPM links every executable with
/// `--defsym main=rehabfuzz_main`, which would leave libFuzzer's own `main` unused (and fail to link
/// without one of ours), so the fuzzing build's `main` calls libFuzzer's driver itself.
@main
struct RehabFuzz {
    static func main() {
        #if FUZZING
            runLibFuzzer()
        #else
            exit(Replay.run(Array(CommandLine.arguments.dropFirst())))
        #endif
    }
}
