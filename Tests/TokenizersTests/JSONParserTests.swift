import Foundation
import XCTest
import JSONCore
@testable import Tokenizers

final class JSONParserTests: XCTestCase {
    func parse(_ text: String) -> JSONValue? {
        try? JSONValue.parse(Data(text.utf8))
    }

    func testValues() {
        XCTAssertEqual(parse("null"), .null)
        XCTAssertEqual(parse(" true "), .bool(true))
        XCTAssertEqual(parse("false"), .bool(false))
        XCTAssertEqual(parse("-12"), .number(-12))
        XCTAssertEqual(parse("0"), .number(0))
        XCTAssertEqual(parse("1.5e2"), .number(150))
        XCTAssertEqual(parse("1234567890123456"), .number(1234567890123456))
        XCTAssertEqual(parse("[1, [], {}]"), .array([.number(1), .array([]), .object([:])]))
        // Duplicate keys used to keep the last value; the shared parser (JSONCore) rejects them.
        XCTAssertNil(parse("{\"a\": 1, \"a\": 2}"))
        XCTAssertEqual(parse("\u{FEFF}{\"k\": \"v\"}"), .object(["k": .string("v")]))
    }

    func testStringEscapes() {
        XCTAssertEqual(parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(parse(#""\u00e9\u4E2D\ud83d\ude00""#), .string("é中😀"))
        XCTAssertEqual(parse("\"ü😀 raw\""), .string("ü😀 raw"))
        XCTAssertEqual(parse(###""##\u0000""###), .string("##\u{0}"))
    }

    func testInvalidDocuments() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "01", "1.", "-", "tru", "nul", "\"abc", "\"\\x\"",
                     #""\ud800""#, #""\udc00x""#, "\"a\u{1}\"", "{} {}", "{'a': 1}", "NaN", String(repeating: "[", count: 1000)] {
            XCTAssertNil(parse(text), "should reject \(text.prefix(20))")
        }
        XCTAssertThrowsError(try JSONValue.parse(Data([0x22, 0xFF, 0x22])))
    }

    func testMatchesFoundationOnTokenizerJSON() throws {
        let data = try Data(contentsOf: Fixtures.minilmTokenizerFolder.appendingPathComponent("tokenizer.json"))
        let ours = try JSONValue.parse(data)
        let foundation = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let vocab = try XCTUnwrap((foundation["model"] as? [String: Any])?["vocab"] as? [String: Any])
        guard case .object(let ourVocab)? = ours["model"]?["vocab"] else { return XCTFail("no model.vocab") }
        XCTAssertEqual(ourVocab.count, vocab.count)
        for (token, id) in vocab {
            XCTAssertEqual(ourVocab[token], .number(JSONNumber(Double(truncating: id as! NSNumber))), token)
        }
    }
}
