import Foundation
import XCTest
@testable import SafeTensors

final class ConversionTests: XCTestCase {
    // MARK: Hand-written files with known values

    func testF16KnownValuesIncludingSpecials() throws {
        let cases: [(bits: UInt16, value: Float)] = [
            (0x0000, 0.0), (0x8000, -0.0),
            (0x0001, 0x1p-24), (0x8001, -0x1p-24),            // smallest subnormal
            (0x0200, 0x1p-15), (0x03FF, 1023 * 0x1p-24),      // subnormals
            (0x0400, 0x1p-14),                                // smallest normal
            (0x3C00, 1.0), (0xC000, -2.0), (0x3555, 0.333251953125),
            (0x7BFF, 65504.0), (0xFBFF, -65504.0),
            (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        let nans: [UInt16] = [0x7E00, 0xFE00, 0x7C01, 0x7FFF]
        let bits = cases.map(\.bits) + nans
        let file = try SafeTensorsFile(bytes: Builder.single(dtype: "F16", shape: [bits.count], data: Builder.littleEndianBytes(bits)))
        let t = try file.floatTensor("t", shape: [bits.count])
        XCTAssertFalse(t.isBorrowed)
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(t.buffer[i].bitPattern, c.value.bitPattern, "F16 0x\(String(c.bits, radix: 16))")
        }
        XCTAssertEqual(t.buffer[1].sign, .minus, "negative zero keeps its sign")
        for (k, b) in nans.enumerated() {
            let v = t.buffer[cases.count + k]
            XCTAssertTrue(v.isNaN, "F16 0x\(String(b, radix: 16))")
            XCTAssertEqual(v.sign, b & 0x8000 != 0 ? .minus : .plus)
        }
    }

    func testF16ExhaustiveAgainstFloat16() throws {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        let bits = (0...UInt16.max).map { $0 }
        let file = try SafeTensorsFile(bytes: Builder.single(dtype: "F16", shape: [256, 256], data: Builder.littleEndianBytes(bits)))
        let t = try file.floatTensor("t", shape: [256, 256])
        for b in bits {
            let reference = Float(Float16(bitPattern: b))
            let got = t.buffer[Int(b)]
            if reference.isNaN {
                XCTAssertTrue(got.isNaN, "0x\(String(b, radix: 16))")
                XCTAssertEqual(got.sign, reference.sign)
            } else if got.bitPattern != reference.bitPattern {
                XCTFail("F16 0x\(String(b, radix: 16)): got \(got), expected \(reference)")
            }
        }
        #else
        throw XCTSkip("Float16 is unavailable on this platform")
        #endif
    }

    func testBF16KnownValuesIncludingSpecials() throws {
        let cases: [(bits: UInt16, value: Float)] = [
            (0x0000, 0.0), (0x8000, -0.0),
            (0x0001, Float(bitPattern: 0x0001_0000)),         // smallest bf16 subnormal, 2^-133
            (0x807F, -Float(bitPattern: 0x007F_0000)),        // largest negative subnormal
            (0x3F80, 1.0), (0xC020, -2.5), (0x4049, 3.140625),
            (0x7F7F, Float(bitPattern: 0x7F7F_0000)),         // largest finite
            (0x7F80, .infinity), (0xFF80, -.infinity),
        ]
        let bits = cases.map(\.bits) + [0x7FC0, 0xFFC1]
        let file = try SafeTensorsFile(bytes: Builder.single(dtype: "BF16", shape: [2, bits.count / 2], data: Builder.littleEndianBytes(bits)))
        let t = try file.floatTensor("t", shape: [2, bits.count / 2])
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(t.buffer[i].bitPattern, c.value.bitPattern, "BF16 0x\(String(c.bits, radix: 16))")
        }
        XCTAssertTrue(t.buffer[cases.count].isNaN)
        XCTAssertTrue(t.buffer[cases.count + 1].isNaN)
        XCTAssertEqual(t.buffer[cases.count + 1].sign, .minus)
    }

    func testF64RoundsToNearestFloat() throws {
        let values: [Double] = [0.1, -1.0 / 3.0, 1e39, -1e-50, .nan, -0.0, 16_777_217.0]
        let file = try SafeTensorsFile(bytes: Builder.single(dtype: "F64", shape: [values.count], data: Builder.littleEndianBytes(values.map(\.bitPattern))))
        let t = try file.floatTensor("t")
        XCTAssertEqual(t.buffer[0], Float(0.1))
        XCTAssertEqual(t.buffer[1], Float(-1.0 / 3.0))
        XCTAssertEqual(t.buffer[2], .infinity)
        XCTAssertEqual(t.buffer[3].bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertTrue(t.buffer[4].isNaN)
        XCTAssertEqual(t.buffer[5].bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(t.buffer[6], 16_777_216.0)  // ties to even
    }

    // MARK: F32 in place vs copied

    private let f32Values: [Float] = [1.5, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -3.25, 42]

    private func f32File(headerLength: Int) -> [UInt8] {
        Builder.single(dtype: "F32", shape: [2, 4], data: Builder.littleEndianBytes(f32Values.map(\.bitPattern)), headerLength: headerLength)
    }

    func testF32AlignedIsUsedInPlace() throws {
        let bytes = f32File(headerLength: 72)  // data starts at byte 80
        let file = try SafeTensorsFile(bytes: bytes)
        XCTAssertEqual(file.dataStart % 4, 0)
        let t = try file.floatTensor("t", shape: [2, 4])
        XCTAssertTrue(t.isBorrowed)
        XCTAssertEqual(t.toArray().map(\.bitPattern), f32Values.map(\.bitPattern))
    }

    func testF32UnalignedIsCopiedAndCorrect() throws {
        for headerLength in [69, 70, 71] {  // data starts at bytes 77, 78, 79
            let bytes = f32File(headerLength: headerLength)
            let file = try SafeTensorsFile(bytes: bytes)
            XCTAssertNotEqual(file.dataStart % 4, 0)
            let t = try file.floatTensor("t", shape: [2, 4])
            XCTAssertFalse(t.isBorrowed, "header length \(headerLength)")
            XCTAssertEqual(Int(bitPattern: t.pointer) % MemoryLayout<Float>.alignment, 0)
            XCTAssertEqual(t.toArray().map(\.bitPattern), f32Values.map(\.bitPattern), "header length \(headerLength)")
        }
    }

    func testF32UnalignedFromMappedFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-unaligned-\(UUID().uuidString).safetensors")
        try Data(f32File(headerLength: 70)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafeTensorsFile(contentsOf: url)
        let t = try file.floatTensor("t", shape: [2, 4])
        XCTAssertFalse(t.isBorrowed)
        XCTAssertEqual(t.toArray().map(\.bitPattern), f32Values.map(\.bitPattern))
    }

    // MARK: Unsupported conversions

    func testF8IsRecognisedButNotConvertible() throws {
        for dtype in ["F8_E4M3", "F8_E5M2"] {
            let file = try SafeTensorsFile(bytes: Builder.single(dtype: dtype, shape: [4], data: [0x38, 0x40, 0x00, 0x80]))
            XCTAssertEqual(file.info("t")?.dtype.rawValue, dtype)
            XCTAssertEqual(file.info("t")?.byteRange, 0..<4)
            let dt = SafeTensorsDType(rawValue: dtype)!
            let error = assertSafeTensorsError(.unsupportedDType(dt, operation: "as Float32"), tensor: "t") { () throws(SafeTensorsError) in
                _ = try file.floatTensor("t", shape: [4])
            }
            XCTAssertEqual(error?.description, "<memory>: tensor 't': dtype \(dtype) cannot be read as Float32")
        }
    }

    func testU64AboveIntMaxIsRejected() throws {
        let file = try SafeTensorsFile(bytes: Builder.single(dtype: "U64", shape: [2], data: Builder.littleEndianBytes([UInt64(7), UInt64(Int.max) + 1])))
        assertSafeTensorsError(.integerOutOfRange(index: 1), tensor: "t") { () throws(SafeTensorsError) in
            _ = try file.intTensor("t")
        }
    }

    func testByteSizes() {
        let expected: [SafeTensorsDType: Int] = [.F64: 8, .F32: 4, .F16: 2, .BF16: 2, .I64: 8, .I32: 4, .I16: 2, .I8: 1,
                                                 .U8: 1, .U16: 2, .U32: 4, .U64: 8, .BOOL: 1, .F8_E4M3: 1, .F8_E5M2: 1]
        XCTAssertEqual(expected.count, SafeTensorsDType.allCases.count)
        for (dtype, size) in expected { XCTAssertEqual(dtype.byteSize, size, dtype.rawValue) }
    }

    // MARK: Cross-check against numpy (Tests/Fixtures/safetensors/make_dtypes.py)

    func testNumpyFloatConversions() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.dtypes)
        XCTAssertEqual(file.metadata, ["format": "np", "generator": "make_dtypes.py"])
        for (name, shape) in [("f16", [4, 16]), ("bf16", [2, 16]), ("f64", [4, 4])] {
            let got = try file.floatTensor(name, shape: shape)
            let want = try file.floatTensor(name + "_as_f32", shape: shape)
            XCTAssertEqual(got.count, want.count)
            for i in 0..<got.count {
                let g = got.buffer[i], w = want.buffer[i]
                if w.isNaN {
                    XCTAssertTrue(g.isNaN, "\(name)[\(i)]")
                } else {
                    XCTAssertEqual(g.bitPattern, w.bitPattern, "\(name)[\(i)]: \(g) vs numpy \(w)")
                }
            }
        }
        let scalar = try file.floatTensor("scalar", shape: [])
        XCTAssertEqual(scalar.count, 1)
        XCTAssertEqual(scalar.toArray(), [2.5])
        let empty = try file.floatTensor("empty", shape: [0, 3])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.toArray(), [])
        XCTAssertEqual(file.info("empty")?.byteRange.count, 0)
    }

    func testNumpyIntegerConversions() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.dtypes)
        for name in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bool"] {
            let got = try file.intTensor(name)
            let want = try file.intTensor(name + "_as_i64")
            XCTAssertEqual(got.shape, want.shape, name)
            XCTAssertEqual(got.values, want.values, name)
        }
        XCTAssertEqual(try file.intTensor("i64").values.prefix(2), [Int(Int64.min), Int(Int64.max)])
        XCTAssertEqual(try file.intTensor("u32").values.prefix(2), [0, Int(UInt32.max)])
        XCTAssertEqual(try file.intTensor("bool").values, [0, 1, 1, 0, 1, 1])
    }
}
