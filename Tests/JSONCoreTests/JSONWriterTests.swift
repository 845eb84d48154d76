import Foundation
import XCTest
@testable import JSONCore

final class JSONWriterTests: XCTestCase {
    func testStringEscapingIsExactlyRFC8259() throws {
        XCTAssertEqual(JSONWriter.quoted("plain"), #""plain""#)
        XCTAssertEqual(JSONWriter.quoted("a\"b\\c/d"), #""a\"b\\c/d""#)
        XCTAssertEqual(JSONWriter.quoted("\u{8}\u{C}\n\r\t"), #""\b\f\n\r\t""#)
        XCTAssertEqual(JSONWriter.quoted("\u{0}\u{1}\u{1F}\u{7F}"), "\"\\u0000\\u0001\\u001f\u{7F}\"")
        XCTAssertEqual(JSONWriter.quoted("é中😀\u{2028}"), "\"é中😀\u{2028}\"")
        // Every control character and a mix of text round-trips through our parser and Foundation's.
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap(Unicode.Scalar.init))) + "é😀\u{301}"
        let quoted = JSONWriter.quoted(all)
        XCTAssertEqual(try JSONValue.parse(Data(quoted.utf8)), .string(all))
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String], [all])
    }

    func testNumbersShortestRoundTrip() throws {
        var writer = JSONWriter()
        for value: Float in [0.1, -1e-7, 3, 0, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.123456789] {
            writer = JSONWriter()
            try writer.append(value)
            XCTAssertEqual(Float(writer.text), value, writer.text)
            XCTAssertEqual(try JSONValue.parse(Data(writer.text.utf8)).doubleValue.map(Float.init), value)
        }
        writer = JSONWriter()
        try writer.append(Float(0.1))
        XCTAssertEqual(writer.text, "0.1")
        writer = JSONWriter()
        try writer.append(0.1 + 0.2)
        XCTAssertEqual(writer.text, "0.30000000000000004")
        XCTAssertThrowsError(try writer.append(Float.nan))
        XCTAssertThrowsError(try writer.append(Double.infinity))
    }

    func testValuesRoundTrip() throws {
        let text = #"{"b":[1,-2.5,true,null,"x\n"],"a":{"k":9223372036854775807}}"#
        let value = try JSONValue.parse(Data(text.utf8))
        var writer = JSONWriter()
        try writer.append(value)
        XCTAssertEqual(writer.text, #"{"a":{"k":9223372036854775807},"b":[1,-2.5,true,null,"x\n"]}"#)
        XCTAssertEqual(try JSONValue.parse(Data(writer.text.utf8)), value)
    }
}
