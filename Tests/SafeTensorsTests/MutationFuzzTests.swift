import Foundation
import XCTest
import EncoderTestSupport
@testable import SafeTensors

/// Randomized mutation of real files with a fixed seed. Every outcome is checked against what the
/// bytes themselves say, independently of the reader:
/// - a rejection is a header-validation error of the right kind: file-level problems name no tensor and
///   are confirmed from the bytes (size, length prefix, first invalid UTF-8 byte), tensor-level problems
///   name a tensor that is a key of the header;
/// - an accepted file round-trips: Foundation's JSON reader finds the same tensors with the same dtype,
///   shape and offsets, and every tensor read back equals its bytes decoded here.
/// A crash, hang or out-of-bounds read fails the run (the fuzzers cover that at scale).
final class MutationFuzzTests: XCTestCase {
    private static let interestingBytes: [UInt8] = Array(#"{}[]",:"\-0123456789eE.+ tfnu"#.utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]

    private struct Outcome {
        var parsed = 0
        var tensorsCompared = 0
        var rejected: [String: Int] = [:]
    }

    /// The header bytes (without the length prefix), when the prefix fits the buffer.
    private static func header(of bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard bytes.count >= 8 else { return nil }
        let length = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(bytes.count - 8) else { return nil }
        return bytes[8..<(8 + Int(length))]
    }

    /// Checks that `error`, thrown for `bytes`, is the validation error the bytes call for.
    private func checkRejection(_ error: SafeTensorsError, bytes: [UInt8], name: String, outcome: inout Outcome) {
        XCTAssertEqual(error.file, name)
        XCTAssertTrue(error.description.hasPrefix(name + ": "), error.description)
        outcome.rejected[String(describing: error.kind).prefix { $0 != "(" }.description, default: 0] += 1
        let declared = bytes.count >= 8 ? bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } : 0
        switch error.kind {
        case .fileTooSmall(let size):
            XCTAssertLessThan(bytes.count, 8); XCTAssertEqual(size, bytes.count)
        case .headerTooLarge(let length, let limit):
            XCTAssertEqual(length, declared); XCTAssertGreaterThan(length, UInt64(limit))
        case .headerExceedsFile(let length, let available):
            XCTAssertEqual(length, declared); XCTAssertEqual(available, bytes.count - 8)
            XCTAssertGreaterThan(length, UInt64(available))
        case .headerNotUTF8(let offset):
            guard let header = Self.header(of: bytes) else { return XCTFail("headerNotUTF8 without a header") }
            XCTAssertNil(String(validating: header, as: UTF8.self), "the header is valid UTF-8")
            XCTAssertNotNil(String(validating: header.prefix(offset), as: UTF8.self), "invalid before byte \(offset)")
        case .invalidJSON(let offset, _):
            guard let header = Self.header(of: bytes) else { return XCTFail("invalidJSON without a header") }
            XCTAssertLessThanOrEqual(offset, header.count)
            XCTAssertNotNil(String(validating: header, as: UTF8.self), "invalid UTF-8 must be reported as such")
        case .headerNotObject, .invalidMetadata:
            XCTAssertNil(error.tensor)
        case .duplicateTensorName, .duplicateField:
            // Foundation rejects duplicate keys itself, so look at the text: the key is there twice.
            guard let tensor = error.tensor else { return XCTFail("\(error.kind) names no tensor") }
            guard let header = Self.header(of: bytes), let text = String(validating: header, as: UTF8.self) else {
                return XCTFail("\(error.kind) for a header that is not UTF-8")
            }
            let key: String
            if case .duplicateField(let field) = error.kind { key = field } else { key = tensor }
            XCTAssertTrue(text.contains(tensor), "'\(tensor)' is not in the header")
            XCTAssertGreaterThanOrEqual(text.components(separatedBy: key).count, 3, "'\(key)' is not in the header twice")
        case .tensorEntryNotObject, .missingField, .dtypeNotString,
             .unknownDType, .invalidShape, .shapeOverflow, .invalidDataOffsets, .reversedDataOffsets,
             .dataOffsetsOutOfBounds, .byteSizeMismatch, .overlappingTensors:
            // Names a tensor that is a key of the header (the header is valid JSON here: Foundation reads it).
            guard let tensor = error.tensor else { return XCTFail("\(error.kind) names no tensor") }
            guard let header = Self.header(of: bytes),
                  let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] else {
                return XCTFail("\(error.kind) for a header Foundation cannot read")
            }
            XCTAssertNotNil(object[tensor], "\(error.kind) names '\(tensor)', not a key of the header")
            if case .overlappingTensors(let other) = error.kind { XCTAssertNotNil(object[other], other) }
        default:
            XCTFail("not a header-validation error: \(error)")
        }
    }

    /// Checks everything a successful parse promises: Foundation's reading of the header agrees on every
    /// entry, ranges are disjoint and inside the data, and each tensor reads back as its bytes say.
    private func checkParsed(_ file: SafeTensorsFile, bytes: [UInt8], outcome: inout Outcome) {
        guard let header = Self.header(of: bytes),
              let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] else {
            return XCTFail("accepted a header Foundation cannot read")
        }
        XCTAssertEqual(Set(file.tensorNames), Set(object.keys.filter { $0 != "__metadata__" }))
        var ranges: [Range<Int>] = []
        for name in file.tensorNames {
            guard let info = file.info(name), let entry = object[name] as? [String: Any] else {
                return XCTFail("listed tensor \(name) has no info or header entry")
            }
            XCTAssertEqual(entry["dtype"] as? String, info.dtype.rawValue, name)
            XCTAssertEqual((entry["shape"] as? [NSNumber])?.map(\.intValue), info.shape, name)
            let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue)
            XCTAssertEqual(offsets, [info.byteRange.lowerBound, info.byteRange.upperBound], name)
            let r = info.byteRange
            XCTAssertTrue(r.lowerBound >= 0 && r.upperBound <= file.dataSize, "\(name): \(r) outside data section of \(file.dataSize)")
            XCTAssertLessThanOrEqual(file.dataStart + r.upperBound, bytes.count)
            XCTAssertEqual(r.count, info.elementCount * info.dtype.byteSize)
            if !r.isEmpty { ranges.append(r) }
            let raw = Array(bytes[(file.dataStart + r.lowerBound)..<(file.dataStart + r.upperBound)])
            checkValues(file, info, raw: raw)
            outcome.tensorsCompared += 1
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) {
            XCTAssertLessThanOrEqual(a.upperBound, b.lowerBound, "overlapping ranges \(a) \(b)")
        }
    }

    /// The tensor as the reader returns it equals `raw` decoded here, element by element.
    private func checkValues(_ file: SafeTensorsFile, _ info: TensorInfo, raw: [UInt8]) {
        func word<T: FixedWidthInteger>(_ index: Int, as: T.Type) -> T {
            raw.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)) }
        }
        let n = info.elementCount
        do {
            switch info.dtype {
            case .F32, .F64, .F16, .BF16:
                let expected: [Float] = (0..<n).map { i in
                    switch info.dtype {
                    case .F32: return Float(bitPattern: word(i, as: UInt32.self))
                    case .F64: return Float(Double(bitPattern: word(i, as: UInt64.self)))
                    case .F16: return Float(Float16(bitPattern: word(i, as: UInt16.self)))
                    default: return Float(bitPattern: UInt32(word(i, as: UInt16.self)) << 16)
                    }
                }
                let got = try file.floatTensor(info.name, shape: info.shape).toArray()
                XCTAssertEqual(got.count, n)
                for (i, (a, b)) in zip(got, expected).enumerated() where !(a == b || (a.isNaN && b.isNaN)) {
                    return XCTFail("\(info.name)[\(i)]: read \(a), bytes say \(b)")
                }
            case .I64, .I32, .I16, .I8, .U8, .U16, .U32, .BOOL:
                let expected: [Int] = (0..<n).map { i in
                    switch info.dtype {
                    case .I64: return Int(word(i, as: Int64.self))
                    case .I32: return Int(word(i, as: Int32.self))
                    case .I16: return Int(word(i, as: Int16.self))
                    case .I8: return Int(Int8(bitPattern: raw[i]))
                    case .U16: return Int(word(i, as: UInt16.self))
                    case .U32: return Int(word(i, as: UInt32.self))
                    case .U8: return Int(raw[i])
                    default: return raw[i] == 0 ? 0 : 1  // BOOL: any non-zero byte is true
                    }
                }
                XCTAssertEqual(try file.intTensor(info.name).values, expected, info.name)
            case .U64:
                let words = (0..<n).map { word($0, as: UInt64.self) }
                if let big = words.firstIndex(where: { $0 > UInt64(Int.max) }) {
                    XCTAssertThrowsError(try file.intTensor(info.name)) { error in
                        XCTAssertEqual((error as? SafeTensorsError)?.kind, .integerOutOfRange(index: big))
                        XCTAssertEqual((error as? SafeTensorsError)?.tensor, info.name)
                    }
                } else {
                    XCTAssertEqual(try file.intTensor(info.name).values, words.map { Int($0) }, info.name)
                }
            case .F8_E4M3, .F8_E5M2:
                XCTAssertThrowsError(try file.floatTensor(info.name)) { error in
                    XCTAssertEqual((error as? SafeTensorsError)?.tensor, info.name)
                }
            }
        } catch {
            XCTFail("\(info.name): reading an accepted tensor failed: \(error)")
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
                checkParsed(file, bytes: bytes, outcome: &outcome)
            } catch {
                checkRejection(error, bytes: bytes, name: name, outcome: &outcome)
            }
        }
        return outcome
    }

    /// Mutates `fixture` `iterations` times, checks every outcome, and asserts that the run reached both
    /// accepted files (compared with their bytes) and at least `rejectionKinds` kinds of rejection.
    private func mutate(_ fixture: URL, iterations: Int, seed: UInt64, rejectionKinds: Int) throws {
        let outcome = run(base: try Fixtures.bytes(of: fixture), iterations: iterations, seed: seed)
        print("\(fixture.lastPathComponent) mutations: \(outcome.parsed) parsed (\(outcome.tensorsCompared) tensors compared with their bytes), rejected: \(outcome.rejected.sorted { $0.key < $1.key })")
        // The mutations must reach deep into validation, not just the framing checks.
        XCTAssertGreaterThan(outcome.parsed, 0)
        XCTAssertGreaterThan(outcome.tensorsCompared, 0)
        XCTAssertGreaterThanOrEqual(outcome.rejected.count, rejectionKinds, "\(outcome.rejected)")
    }

    func testMutatedTinyBertModel() throws {
        try mutate(Fixtures.tinyBertModel, iterations: 4000, seed: 0x5AFE_7E45, rejectionKinds: 9)
    }

    func testMutatedExpectedOutputs() throws {
        try mutate(Fixtures.tinyBertExpected, iterations: 1500, seed: 42, rejectionKinds: 6)
    }

    func testMutatedDTypesFixture() throws {
        try mutate(Fixtures.dtypes, iterations: 1500, seed: 7, rejectionKinds: 6)
    }

    func testRandomBytes() {
        var rng = SplitMix64(seed: 99)
        for i in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count >= 8 {  // make the header length plausible half the time
                if Bool.random(using: &rng) { bytes.replaceSubrange(0..<8, with: Builder.littleEndianBytes([UInt64(count - 8 - Int.random(in: 0...(count - 8), using: &rng))])) }
            }
            var outcome = Outcome()
            do {
                let file = try SafeTensorsFile(bytes: bytes, name: "random-\(i)")
                checkParsed(file, bytes: bytes, outcome: &outcome)
            } catch {
                checkRejection(error, bytes: bytes, name: "random-\(i)", outcome: &outcome)
            }
        }
    }
}
