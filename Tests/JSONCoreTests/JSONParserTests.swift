import Foundation
import XCTest
@testable import JSONCore

/// Unit tests of the strict parser (moved here from SafeTensors' former header parser tests).
final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
        try Array(text.utf8).withUnsafeBytes { try JSONParser.parse($0, maxDepth: maxDepth) }
    }

    private func parseError(_ text: String) -> JSONParseError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error as? JSONParseError
        }
    }

    func testScalarsAndNumbers() throws {
        guard case .number(.int(let a)) = try parse("-0") else { return XCTFail() }
        XCTAssertEqual(a, 0)
        guard case .number(.int(let b)) = try parse(" 9223372036854775807 ") else { return XCTFail() }
        XCTAssertEqual(b, Int.max)
        guard case .number(.int(let c)) = try parse("-9223372036854775808") else { return XCTFail() }
        XCTAssertEqual(c, Int.min)
        guard case .number(.bigInteger(let big)) = try parse("9223372036854775808") else { return XCTFail() }
        XCTAssertEqual(big, 9223372036854775808.0)
        guard case .number(.bigInteger(let negativeBig)) = try parse("-9223372036854775809") else { return XCTFail() }
        XCTAssertLessThan(negativeBig, 0)
        guard case .number(.fraction(let f)) = try parse("1.0e-3") else { return XCTFail() }
        XCTAssertEqual(f, 0.001)
        guard case .number(.fraction) = try parse("-0E+0") else { return XCTFail() }
        guard case .number(.fraction(let four)) = try parse("4.0") else { return XCTFail("4.0 is not an integer literal") }
        XCTAssertEqual(four, 4)
        guard case .number(.fraction(let huge)) = try parse("1e400") else { return XCTFail() }
        XCTAssertEqual(huge, .infinity)
        // 2^53 + 1 keeps its exact value as an integer literal.
        XCTAssertEqual(try parse("9007199254740993").intValue, 9007199254740993)
        XCTAssertNotEqual(JSONNumber.int(9007199254740993), JSONNumber.fraction(9007199254740992))
        XCTAssertEqual(JSONNumber.int(150), JSONNumber.fraction(150))
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

    func testObjectsRejectDuplicateKeysNamingKeyAndPath() throws {
        guard case .object(let members) = try parse(#"{ "b" : 1 , "a" : [ ] }"#) else { return XCTFail() }
        XCTAssertEqual(members, ["b": .number(1), "a": .array([])])
        let top = try XCTUnwrap(parseError(#"{ "b" : 1 , "a" : [ ] , "b" : { } }"#))
        XCTAssertEqual(top.kind, .duplicateKey("b"))
        XCTAssertEqual(top.offset, 24)
        XCTAssertEqual(top.path, [])
        let nested = try XCTUnwrap(parseError(#"{"model": {"vocab": [{"x": 1}, {"x": 1, "x": 2}]}}"#))
        XCTAssertEqual(nested.kind, .duplicateKey("x"))
        XCTAssertEqual(nested.path, [.key("model"), .key("vocab"), .index(1)])
        XCTAssertEqual(nested.pathDescription, "model.vocab[1]")
        // Escaped and canonically equivalent spellings are the same key.
        XCTAssertEqual(parseError(#"{"w": 1, "\u0077": 2}"#)?.kind, .duplicateKey("w"))
        let equivalent = try XCTUnwrap(parseError("{\"caf\u{e9}\": 1, \"cafe\u{301}\": 2}"))
        XCTAssertEqual(equivalent.reason, "keys 'caf\u{e9}' and 'cafe\u{301}' differ only by Unicode normalization")
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertEqual(parseError(tooDeep)?.kind, .tooDeep)
        XCTAssertEqual(parseError(tooDeep)?.offset, 64)
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
        XCTAssertEqual(check(Array("0123456789abcdef".utf8) + [0xFF]), 16)  // after the 8-byte ASCII fast path
        // The parser reports invalid UTF-8 as such, with its offset.
        let error = ([0x22, 0x61, 0xFF, 0x22] as [UInt8]).withUnsafeBytes { bytes -> JSONParseError? in
            do { _ = try JSONParser.parse(bytes); return nil } catch { return error as? JSONParseError }
        }
        XCTAssertEqual(error?.kind, .invalidUTF8)
        XCTAssertEqual(error?.offset, 2)
    }

    func testByteOrderMarkOnlyWhereAllowed() throws {
        let data = Data("\u{FEFF}{\"k\": \"v\"}".utf8)
        XCTAssertEqual(try JSONValue.parse(data), .object(["k": .string("v")]))
        XCTAssertThrowsError(try data.withUnsafeBytes { try JSONParser.parse($0) })
    }

    /// Every value of the MiniLM tokenizer.json agrees with Foundation's reading of it.
    func testMatchesFoundationOnTokenizerJSON() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizer_minilm/tokenizer.json")
        let data = try Data(contentsOf: url)
        let ours = try JSONValue.parse(data)
        let foundation = try JSONSerialization.jsonObject(with: data)
        var compared = 0
        func compare(_ a: JSONValue, _ b: Any, _ path: String) {
            compared += 1
            switch a {
            case .null: XCTAssertTrue(b is NSNull, path)
            case .bool(let x): XCTAssertEqual((b as? NSNumber)?.boolValue, x, path)
            case .number(let x): XCTAssertEqual((b as? NSNumber)?.doubleValue, x.doubleValue, path)
            case .string(let x): XCTAssertEqual(b as? String, x, path)
            case .array(let x):
                guard let y = b as? [Any], y.count == x.count else { return XCTFail(path) }
                for (i, (u, v)) in zip(x, y).enumerated() { compare(u, v, "\(path)[\(i)]") }
            case .object(let x):
                guard let y = b as? [String: Any], y.count == x.count else { return XCTFail(path) }
                for (k, u) in x { guard let v = y[k] else { XCTFail("\(path).\(k)"); continue }; compare(u, v, "\(path).\(k)") }
            }
        }
        compare(ours, foundation, "")
        XCTAssertGreaterThan(compared, 30_000)
    }
}
