import Foundation
import XCTest
import EncoderTestSupport
@testable import SafeTensors

/// Fixture locations, found relative to this source file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SafeTensorsTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures")
    static let tinyBertModel = root.appendingPathComponent("tiny-bert/model.safetensors")
    static let tinyBertExpected = root.appendingPathComponent("tiny-bert/expected.safetensors")
    /// Written by Tests/Fixtures/safetensors/make_dtypes.py (numpy).
    static let dtypes = root.appendingPathComponent("safetensors/dtypes.safetensors")

    static func bytes(of url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }
}

/// Builds safetensors files byte by byte.
enum Builder {
    /// `8-byte LE length(header) + header + data`, with the header taken verbatim.
    static func file(header: String, data: [UInt8] = []) -> [UInt8] {
        file(headerBytes: Array(header.utf8), data: data)
    }

    static func file(headerBytes: [UInt8], data: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { Array($0) } + headerBytes + data
    }

    /// A header holding one tensor entry, padded with spaces to `headerLength` bytes if given
    /// (so the data section can be placed at a chosen alignment).
    static func single(
        name: String = "t", dtype: String, shape: [Int], data: [UInt8], headerLength: Int? = nil
    ) -> [UInt8] {
        var header = #"{"\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[0,\#(data.count)]}}"#
        if let headerLength {
            precondition(headerLength >= header.utf8.count)
            header += String(repeating: " ", count: headerLength - header.utf8.count)
        }
        return file(header: header, data: data)
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }
}

/// Asserts that `body` throws a `SafeTensorsError` of `kind` whose description names the file
/// (and the tensor, if given). Returns the error for further checks.
@discardableResult
func assertSafeTensorsError(
    _ kind: SafeTensorsError.Kind, file: String = "<memory>", tensor: String? = nil,
    _ body: () throws(SafeTensorsError) -> Void,
    sourceFile: StaticString = #filePath, line: UInt = #line
) -> SafeTensorsError? {
    do {
        try body()
        XCTFail("expected \(kind), but no error was thrown", file: sourceFile, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "\(error)", file: sourceFile, line: line)
        XCTAssertEqual(error.file, file, file: sourceFile, line: line)
        XCTAssertEqual(error.tensor, tensor, file: sourceFile, line: line)
        XCTAssertTrue(error.description.hasPrefix("\(file): "), error.description, file: sourceFile, line: line)
        if let tensor {
            XCTAssertTrue(error.description.contains("tensor '\(SafeTensorsError.printable(tensor))'"), error.description, file: sourceFile, line: line)
        }
        return error
    }
}

/// Shorthand: parse `bytes` (named "hostile.safetensors") and expect an error.
@discardableResult
func assertRejects(
    _ bytes: [UInt8], _ kind: SafeTensorsError.Kind, tensor: String? = nil,
    sourceFile: StaticString = #filePath, line: UInt = #line
) -> SafeTensorsError? {
    assertSafeTensorsError(kind, file: "hostile.safetensors", tensor: tensor, { () throws(SafeTensorsError) in
        _ = try SafeTensorsFile(bytes: bytes, name: "hostile.safetensors")
    }, sourceFile: sourceFile, line: line)
}
