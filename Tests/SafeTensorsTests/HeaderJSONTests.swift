import XCTest
@testable import SafeTensors

/// Unit tests of the strict header JSON parser.
final class HeaderJSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try Array(text.utf8).withUnsafeBytes { try HeaderJSONParser.parse($0) }
    }

    func testScalarsAndNumbers() throws {
        guard case .number(.int(let a)) = try parse("-0") else { return XCTFail() }
        XCTAssertEqual(a, 0)
        guard case .number(.int(let b)) = try parse(" 9223372036854775807 ") else { return XCTFail() }
        XCTAssertEqual(b, Int.max)
        guard case .number(.bigInteger(negative: false)) = try parse("9223372036854775808") else { return XCTFail() }
        guard case .number(.bigInteger(negative: true)) = try parse("-9223372036854775809") else { return XCTFail() }
        guard case .number(.nonInteger) = try parse("1.0e-3") else { return XCTFail() }
        guard case .number(.nonInteger) = try parse("-0E+0") else { return XCTFail() }
        guard case .bool(true) = try parse("true"), case .bool(false) = try parse("false"), case .null = try parse("null") else {
            return XCTFail()
        }
    }

    func testStringsAndEscapes() throws {
        guard case .string(let s) = try parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\u4e2d\ud83d\ude00 é""#) else { return XCTFail() }
        XCTAssertEqual(s, "a\"b\\c/d\u{8}\u{c}\n\r\té中😀 é")
        guard case .string(let nul) = try parse(#""\u0000""#) else { return XCTFail() }
        XCTAssertEqual(nul, "\u{0}")
    }

    func testObjectsKeepOrderAndDuplicates() throws {
        guard case .object(let members) = try parse(#"{ "b" : 1 , "a" : [ ] , "b" : { } }"#) else { return XCTFail() }
        XCTAssertEqual(members.map(\.key), ["b", "a", "b"])
        guard case .array(let empty) = members[1].value else { return XCTFail() }
        XCTAssertTrue(empty.isEmpty)
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertThrowsError(try parse(tooDeep))
    }

    func testUTF8Validation() {
        func check(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { firstInvalidUTF8Offset($0) } }
        XCTAssertNil(check(Array("ascii é 中 😀".utf8)))
        XCTAssertNil(check([]))
        XCTAssertEqual(check([0x61, 0x80]), 1)                 // lone continuation byte
        XCTAssertEqual(check([0x61, 0xC3]), 1)                 // truncated at end
        XCTAssertEqual(check([0xE0, 0x80, 0x80]), 0)           // overlong
        XCTAssertEqual(check([0xED, 0xBF, 0xBF]), 0)           // surrogate
        XCTAssertEqual(check([0xF4, 0x90, 0x80, 0x80]), 0)     // above U+10FFFF
        XCTAssertEqual(check([0xF8, 0x88, 0x80, 0x80, 0x80]), 0)
        XCTAssertNil(check([0xF4, 0x8F, 0xBF, 0xBF]))          // U+10FFFF itself
    }
}
