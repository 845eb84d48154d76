import Foundation
import XCTest
@testable import SafeTensors

/// Randomized mutation of real files with a fixed seed: every outcome must be either a
/// successful parse whose tensors all lie inside the buffer (and can be read), or a thrown
/// `SafeTensorsError` naming the file. A crash, hang or out-of-bounds read fails the run.
final class MutationFuzzTests: XCTestCase {
    private static let interestingBytes: [UInt8] = Array(#"{}[]",:"\-0123456789eE.+ tfnu"#.utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]

    private struct Outcome {
        var parsed = 0
        var rejected: [String: Int] = [:]
    }

    /// Checks everything a successful parse promises, reading every tensor.
    private func checkParsed(_ file: SafeTensorsFile, byteCount: Int) {
        var ranges: [Range<Int>] = []
        for name in file.tensorNames {
            guard let info = file.info(name) else { return XCTFail("listed tensor \(name) has no info") }
            let r = info.byteRange
            XCTAssertTrue(r.lowerBound >= 0 && r.upperBound <= file.dataSize, "\(name): \(r) outside data section of \(file.dataSize)")
            XCTAssertLessThanOrEqual(file.dataStart + r.upperBound, byteCount)
            XCTAssertEqual(r.count, info.elementCount * info.dtype.byteSize)
            if !r.isEmpty { ranges.append(r) }
            // Reading must either work or throw a typed error.
            do {
                if info.dtype.isConvertibleToFloat {
                    let t = try file.floatTensor(name, shape: info.shape)
                    XCTAssertEqual(t.count, info.elementCount)
                    _ = t.buffer.reduce(0, +)
                } else if info.dtype.isInteger {
                    let values = try file.intTensor(name).values
                    XCTAssertEqual(values.count, info.elementCount)
                }
            } catch {
                XCTAssertEqual(error.file, file.name)
            }
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) {
            XCTAssertLessThanOrEqual(a.upperBound, b.lowerBound, "overlapping ranges \(a) \(b)")
        }
    }

    private func run(base: [UInt8], iterations: Int, seed: UInt64) -> Outcome {
        var rng = SplitMix64(seed: seed)
        let headerLength = Int(UInt64(littleEndian: base.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        var outcome = Outcome()
        for iteration in 0..<iterations {
            var bytes = base
            let mutations = Int.random(in: 1...4, using: &rng)
            for _ in 0..<mutations {
                // Mostly inside the header (and its length prefix), where the parser lives.
                let headerEnd = min(bytes.count, 8 + headerLength)
                let pos = bytes.isEmpty ? 0 : Int.random(in: 0..<max(1, headerEnd), using: &rng)
                switch Int.random(in: 0..<9, using: &rng) {
                case 0 where !bytes.isEmpty:  // flip a bit
                    bytes[pos] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 1 where !bytes.isEmpty:  // random byte
                    bytes[pos] = UInt8.random(in: 0...255, using: &rng)
                case 2 where !bytes.isEmpty:  // JSON-significant byte
                    bytes[pos] = Self.interestingBytes.randomElement(using: &rng)!
                case 3:  // truncate anywhere
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
                case 4 where bytes.count >= 8:  // rewrite the header length
                    let delta = Int64.random(in: -16...16, using: &rng)
                    let choices: [UInt64] = [0, 1, UInt64.max, UInt64(headerLength) &+ UInt64(bitPattern: delta), UInt64(bytes.count), 100_000_001]
                    let v = choices.randomElement(using: &rng)!
                    withUnsafeBytes(of: v.littleEndian) { for k in 0..<8 { bytes[k] = $0[k] } }
                case 5 where pos < bytes.count:  // delete a byte
                    bytes.remove(at: pos)
                case 6:  // insert a byte
                    bytes.insert(Self.interestingBytes.randomElement(using: &rng)!, at: min(pos, bytes.count))
                case 7 where pos + 1 < bytes.count:  // overwrite a run with digits (offsets, shapes)
                    let run = min(Int.random(in: 1...20, using: &rng), bytes.count - pos)
                    for k in 0..<run { bytes[pos + k] = UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng) }
                case 8 where pos + 1 < bytes.count:  // duplicate a header slice over another place
                    let len = min(Int.random(in: 1...64, using: &rng), bytes.count - pos)
                    let dst = Int.random(in: 8..<max(9, headerEnd), using: &rng)
                    for k in 0..<len where dst + k < bytes.count { bytes[dst + k] = bytes[pos + k] }
                default:
                    break
                }
            }
            let name = "fuzz-\(iteration).safetensors"
            do {
                let file = try SafeTensorsFile(bytes: bytes, name: name)
                outcome.parsed += 1
                checkParsed(file, byteCount: bytes.count)
            } catch {
                XCTAssertEqual(error.file, name)
                XCTAssertTrue(error.description.hasPrefix(name + ": "))
                outcome.rejected[String(describing: error.kind).prefix { $0 != "(" }.description, default: 0] += 1
            }
        }
        return outcome
    }

    func testMutatedTinyBertModel() throws {
        let base = try Fixtures.bytes(of: Fixtures.tinyBertModel)
        let outcome = run(base: base, iterations: 4000, seed: 0x5AFE_7E45)
        print("tiny-bert mutations: \(outcome.parsed) parsed, rejected: \(outcome.rejected.sorted { $0.key < $1.key })")
        // The mutations must reach deep into validation, not just the framing checks.
        XCTAssertGreaterThan(outcome.parsed, 0)
        XCTAssertGreaterThan(outcome.rejected.count, 8, "\(outcome.rejected)")
        XCTAssertEqual(outcome.parsed + outcome.rejected.values.reduce(0, +), 4000)
    }

    func testMutatedExpectedOutputs() throws {
        let base = try Fixtures.bytes(of: Fixtures.tinyBertExpected)
        let outcome = run(base: base, iterations: 1500, seed: 42)
        XCTAssertEqual(outcome.parsed + outcome.rejected.values.reduce(0, +), 1500)
    }

    func testMutatedDTypesFixture() throws {
        let base = try Fixtures.bytes(of: Fixtures.dtypes)
        let outcome = run(base: base, iterations: 1500, seed: 7)
        XCTAssertGreaterThan(outcome.parsed, 0)
    }

    func testRandomBytes() {
        var rng = SplitMix64(seed: 99)
        for i in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count >= 8 {  // make the header length plausible half the time
                if Bool.random(using: &rng) { bytes.replaceSubrange(0..<8, with: Builder.littleEndianBytes([UInt64(count - 8 - Int.random(in: 0...(count - 8), using: &rng))])) }
            }
            do {
                let file = try SafeTensorsFile(bytes: bytes, name: "random-\(i)")
                checkParsed(file, byteCount: bytes.count)
            } catch {
                XCTAssertEqual(error.file, "random-\(i)")
            }
        }
    }
}
