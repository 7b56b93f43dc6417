import Foundation
import Platform
import Primitives
import StrictJSON
import TestSupport
import XCTest

/// Issue 14: the allocation counter replaces malloc for a whole process, so only the measurement
/// paths have it. rehabctl (whose `run` drives patients' robots) and rehabsim do not link it;
/// `rehabctl bench` and `rehabctl demo` re-execute themselves with libRehabHostAllocationCounter.so
/// preloaded; `rehabctl run` never does.
final class AllocationCounterPlacementTests: XCTestCase {
    /// Everything AllocationCounterInterposer defines to replace glibc's allocator.
    private static let allocatorSymbols = [
        "malloc", "calloc", "realloc", "free", "memalign", "aligned_alloc", "posix_memalign", "valloc", "pvalloc",
    ]
    private static let libraryName = "libRehabHostAllocationCounter.so"

    /// A /proc file read to its end. procfs reports a size of 0, and Foundation's whole-file readers
    /// trust it and stop after one page: a large process's memory map came back cut short.
    private static func procFile(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func deadline(seconds: Double) -> MonotonicInstant {
        MonotonicClock.now().advanced(byNanoseconds: Int64(seconds * 1e9))
    }

    /// The shell check is `nm -D --defined-only .build/release/rehabctl | grep -w malloc` (empty);
    /// plain `nm -D` also lists `U malloc`, the import from glibc. Read here from the ELF file itself.
    func testTheProgramsDefineNoAllocatorAndTheLibraryDoes() throws {
        for program in ["rehabctl", "rehabsim"] {
            let symbols = try DynamicSymbols.read(RepositoryPaths.product(program).path)
            XCTAssertFalse(symbols.isEmpty, "\(program): no dynamic symbols read")
            for name in Self.allocatorSymbols {
                XCTAssertNotEqual(symbols[name], true, "\(program) defines \(name): it would replace glibc's allocator process-wide")
            }
            XCTAssertNotEqual(symbols["rh_interposer_thread_allocations"], true, "\(program) links the interposer")
        }
        let library = RepositoryPaths.product(Self.libraryName).path
        let symbols = try DynamicSymbols.read(library)
        for name in Self.allocatorSymbols + ["rh_interposer_thread_allocations", "rh_interposer_process_allocations", "rh_interposer_counting_active"] {
            XCTAssertEqual(symbols[name], true, "\(library) does not define \(name)")
        }
    }

    /// The patient path runs on glibc's allocator: no counter, no figure, not even an attempt.
    func testRunNeverCountsAllocationsWhileDemoDoes() throws {
        let run = try ProgramRun.runSession(
            "rehabctl", ["run", "--sim", "--duration", "1", "--rate", "500", "--json", "--control-socket", "none"])
        XCTAssertEqual(run.exitCode, 0, run.standardError)
        let runReport = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue, run.standardError)
        XCTAssertNotNil(runReport["cycles"]?.integerValue, "a session report")
        XCTAssertNil(runReport["allocations_per_cycle"]?.doubleValue, "rehabctl run never has the allocation counter")
        XCTAssertFalse(run.standardError.contains("allocations not counted"), "run does not even try: \(run.standardError)")

        let demo = try ProgramRun.runSession(
            "rehabctl", ["demo", "--duration", "1", "--rate", "500", "--json", "--control-socket", "none"])
        XCTAssertEqual(demo.exitCode, 0, demo.standardError)
        let demoReport = try XCTUnwrap(JSONParser.parse(demo.standardOutput).objectValue, demo.standardError)
        let allocations = try XCTUnwrap(demoReport["allocations_per_cycle"]?.doubleValue, "the demo counts: \(demo.standardError)")
        if BuildConfiguration.isOptimized {
            XCTAssertEqual(allocations, 0, "the demo's zero-allocation proof")
        }
    }

    /// bench re-executes itself in place (same pid: the caller and its signals see one process) with
    /// the library mapped; its simulator, started after, inherits no LD_PRELOAD and is not interposed.
    func testBenchPreloadsTheCounterInItsOwnProcessButNotInTheSimulator() throws {
        let bench = try ProgramRun.start("rehabctl", ["bench", "--duration", "3", "--rate", "500", "--json", "--control-socket", "none"])
        addTeardownBlock { bench.terminate() }
        // bench may start other children first (gzip reading /proc/config.gz for the preemption
        // check), and posix_spawn's child shares rehabctl's memory until it has executed rehabsim:
        // wait for a child whose executable is rehabsim.
        var simulator: pid_t?
        var childrenSeen: [String: String] = [:]
        let end = deadline(seconds: 10)
        while simulator == nil && MonotonicClock.now() < end {
            // Each thread lists the children it started itself.
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(bench.pid)/task")) ?? []
            let children = threads.map { Self.procFile("/proc/\(bench.pid)/task/\($0)/children") }.joined(separator: " ")
            for child in children.split(separator: " ").compactMap({ pid_t($0) }) {
                let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/exe")) ?? ""
                childrenSeen["\(child)"] = executable
                if executable.hasSuffix("/rehabsim") { simulator = child }
            }
            if simulator == nil { usleep(5_000) }
        }
        let child = try XCTUnwrap(simulator, "bench (pid \(bench.pid)) started no rehabsim; children seen: \(childrenSeen)")
        // Read while bench is surely running: it is starting its session.
        let benchMaps = Self.procFile("/proc/\(bench.pid)/maps")
        XCTAssertTrue(benchMaps.contains(Self.libraryName), "bench, same pid, runs with the counter preloaded")
        let simulatorMaps = Self.procFile("/proc/\(child)/maps")
        XCTAssertTrue(simulatorMaps.contains("rehabsim"), "rehabsim's memory map read")
        XCTAssertFalse(simulatorMaps.contains(Self.libraryName), "rehabsim inherited the counter")
        let simulatorEnvironment = Data(Self.procFile("/proc/\(child)/environ").utf8)
        let variables = simulatorEnvironment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertFalse(variables.contains(where: { $0.hasPrefix("LD_PRELOAD=") && $0.contains(Self.libraryName) }), "rehabsim got LD_PRELOAD")
        XCTAssertFalse(variables.contains(where: { $0.hasPrefix("REHABHOST_ALLOCATION_COUNTER_PRELOADED=") }), "rehabsim got the marker")
        _ = bench.readAllOutput(deadline: deadline(seconds: 15))
        XCTAssertNotNil(bench.waitForExit(deadline: deadline(seconds: 5)), "bench ended")
    }

    /// Without the library beside it, bench runs (once, no loop) and says allocations were not counted.
    func testBenchWithoutTheLibraryRunsUncountedAndSaysSo() throws {
        let folder = RepositoryPaths.productsDirectory.appendingPathComponent("no-allocation-counter-\(getpid())")
        try? FileManager.default.removeItem(atPath: folder.path)
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let folderPath = folder.path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folderPath) }
        let copy = folder.appendingPathComponent("rehabctl").path
        try FileManager.default.copyItem(atPath: RepositoryPaths.product("rehabctl").path, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        // The hardware profiles are found above the executable; rehabsim is not beside this copy.
        let environment = ["REHABHOST_REHABSIM": RepositoryPaths.product("rehabsim").path]
        var standardError = ""
        let (exitCode, report) = try retryingHostStalls { () throws -> (exitCode: Int32, report: JSONObject) in
            let run = try ProgramRun.run(copy, ["bench", "--duration", "1", "--rate", "500", "--json", "--control-socket", "none"],
                                         environment: environment)
            standardError = run.standardError
            guard let report = try? JSONParser.parse(run.standardOutput).objectValue else {
                throw NoReport(exitCode: run.exitCode, standardError: run.standardError)
            }
            return (run.exitCode, report)
        }
        XCTAssertEqual(exitCode, 0, standardError)
        XCTAssertNotNil(report["cycles"]?.integerValue, "a session report")
        XCTAssertNil(report["allocations_per_cycle"]?.doubleValue, "nothing counted without the library")
        XCTAssertTrue(standardError.contains("allocations not counted"), standardError)
        XCTAssertTrue(standardError.contains("\(Self.libraryName) not found"), standardError)
    }
}

/// The dynamic symbol table (.dynsym) of an ELF64 little-endian file, as `nm -D` reads it.
enum DynamicSymbols {
    struct Malformed: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// Every named symbol: true when the file defines it (a section index other than SHN_UNDEF),
    /// false when it only refers to it (nm's `U` and `w`).
    static func read(_ path: String) throws -> [String: Bool] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func integer(_ offset: Int, _ size: Int) throws -> Int {
            guard offset >= 0, offset <= bytes.count - size else { throw Malformed(path: path, reason: "truncated at \(offset)") }
            var value: UInt64 = 0
            for index in stride(from: size - 1, through: 0, by: -1) { value = value << 8 | UInt64(bytes[offset + index]) }
            guard value <= UInt64(Int.max) else { throw Malformed(path: path, reason: "value out of range at \(offset)") }
            return Int(value)
        }
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw Malformed(path: path, reason: "not an ELF file")
        }
        guard bytes[4] == 2, bytes[5] == 1 else { throw Malformed(path: path, reason: "not ELF64 little-endian") }
        // Elf64_Ehdr: e_shoff at 0x28, e_shentsize at 0x3A, e_shnum at 0x3C.
        let sectionTable = try integer(0x28, 8)
        let sectionHeaderSize = try integer(0x3A, 2)
        let sectionCount = try integer(0x3C, 2)
        var symbols: [String: Bool] = [:]
        for section in 0..<sectionCount {
            // Elf64_Shdr: sh_type at 4 (SHT_DYNSYM = 11), sh_offset 0x18, sh_size 0x20, sh_link 0x28, sh_entsize 0x38.
            let header = sectionTable + section * sectionHeaderSize
            guard try integer(header + 4, 4) == 11 else { continue }
            let offset = try integer(header + 0x18, 8)
            let size = try integer(header + 0x20, 8)
            let stringSection = try integer(header + 0x28, 4)
            let entrySize = try integer(header + 0x38, 8)
            guard entrySize >= 24 else { throw Malformed(path: path, reason: "symbol entries of \(entrySize) bytes") }
            let strings = try integer(sectionTable + stringSection * sectionHeaderSize + 0x18, 8)
            // Elf64_Sym: st_name at 0, st_shndx at 6.
            for entry in stride(from: offset, to: offset + size, by: entrySize) {
                let nameStart = try strings + integer(entry, 4)
                let sectionIndex = try integer(entry + 6, 2)
                guard nameStart >= 0, nameStart < bytes.count else { throw Malformed(path: path, reason: "symbol name out of the file") }
                var nameEnd = nameStart
                while nameEnd < bytes.count && bytes[nameEnd] != 0 { nameEnd += 1 }
                let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
                if !name.isEmpty { symbols[name] = (symbols[name] ?? false) || sectionIndex != 0 }
            }
        }
        return symbols
    }
}
