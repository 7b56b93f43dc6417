import Foundation
import StrictJSON
import TestSupport
import Wire
import XCTest

/// RehabRef frames: the Swift codec agrees with every vector the Python reference (written from
/// protocols/rehabref/README.md) generated, and no input of any kind traps or slips through.
final class ReferenceDatagramTests: XCTestCase {
    private func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    func testEveryVectorDecodesAsThePythonReferenceSays() throws {
        let folder = RepositoryPaths.file("protocols/rehabref/vectors").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names.count, 14)
        var rejections = Set<String>()
        for name in names {
            let document = try XCTUnwrap(JSONParser.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))).objectValue)
            let wire = bytes(hex: try XCTUnwrap(document["wire_hex"]?.stringValue))
            let expect = try XCTUnwrap(document["expect"]?.objectValue)
            let decoded = wire.withUnsafeBytes { RehabRef.Datagram.decode($0) }
            if let reason = expect["rejected"]?.stringValue {
                XCTAssertEqual(decoded, .failure(try XCTUnwrap(RehabRef.Datagram.Rejection(rawValue: reason))), name)
                rejections.insert(reason)
                continue
            }
            let accepted = try XCTUnwrap(expect["accepted"]?.objectValue, name)
            guard case .success(let frame) = decoded else { return XCTFail("\(name): \(decoded)") }
            XCTAssertEqual(Int64(frame.frameCounter), accepted["frame_counter"]?.integerValue, name)
            XCTAssertEqual(Int64(frame.framePeriodMicroseconds), accepted["frame_period_us"]?.integerValue, name)
            XCTAssertEqual(Int64(frame.latencyMicroseconds), accepted["latency_us"]?.integerValue, name)
            XCTAssertEqual(Int64(frame.rmsErrorMicrometers), accepted["rms_error_um"]?.integerValue, name)
            XCTAssertEqual(frame.positionRadians, accepted["position_rad"]?.doubleValue, name)
            XCTAssertEqual(frame.toolVisible, accepted["tool_visible"]?.boolValue, name)
            if document["canonical"]?.boolValue == true {
                var encoded = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
                encoded.withUnsafeMutableBytes { _ = frame.encode(into: $0) }
                XCTAssertEqual(encoded, wire, "\(name): encoding reproduces the vector")
            }
        }
        XCTAssertEqual(rejections, Set(RehabRef.Datagram.Rejection.allCases.map(\.rawValue)), "every rejection has a vector")
    }

    func testRandomBytesAndSingleBitFlipsNeverPassAndNeverTrap() {
        var random = SplitMix64(seed: 0x5245_4652)
        let frame = RehabRef.Datagram(frameCounter: 42, framePeriodMicroseconds: 10_000, latencyMicroseconds: 3_000,
                                      rmsErrorMicrometers: 200, positionRadians: 0.3, toolVisible: true)
        var valid = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
        valid.withUnsafeMutableBytes { _ = frame.encode(into: $0) }
        for iteration in 0..<20_000 {
            let length = Int.random(in: 0...48, using: &random)
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if case .success = garbage.withUnsafeBytes({ RehabRef.Datagram.decode($0) }) {
                XCTFail("random bytes accepted at iteration \(iteration): \(garbage)")
            }
            var flipped = valid
            let bit = Int.random(in: 0..<(8 * valid.count), using: &random)
            flipped[bit / 8] ^= 1 << (bit % 8)
            if case .success = flipped.withUnsafeBytes({ RehabRef.Datagram.decode($0) }) {
                XCTFail("bit \(bit) flipped and accepted (CRC-32C detects every single-bit error)")
            }
        }
    }
}
