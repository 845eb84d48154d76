import Foundation
import XCTest

/// Keyed `jsonl` records (issue 14): `{"id": …, "text": "…"}` next to plain JSON strings, the id copied to the
/// output line byte for byte, other keys with `--text-field` / `--id-field`, bad records named by line.
extension CLIReliabilityTests {
    /// The raw text of the output line's `"id"` member (between `"id":` and `,"tokens"`).
    func rawID(_ line: Substring) -> String? {
        guard let start = line.range(of: #","id":"#), let end = line.range(of: #","tokens":"#) else { return nil }
        return String(line[start.upperBound..<end.lowerBound])
    }

    func testKeyedRecordsPassTheirIDThroughUnchanged() throws {
        let model = try Self.modelFolder()
        let ids = ["7", #""doc-7""#, #""a\"b\u00e9""#, "12345678901234567890123", "-0.5e3", "true", "null"]
        var lines = ids.enumerated().map { #"{"id": \#($0.element), "text": "text number \#($0.offset)"}"# }
        lines.insert(#""a plain string""#, at: 2)
        lines.append(#"{"text": "no id here", "other": [1, {"id": 3}]}"#)
        let input = try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: "keyed.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, Array(0..<lines.count))
        let outputLines = result.stdoutText.split(separator: "\n")
        var expected: [String?] = ids
        expected.insert(nil, at: 2)
        expected.append(nil)
        XCTAssertEqual(outputLines.map(rawID), expected)

        // The same texts as plain strings embed the same.
        let plain = try inputFile(Array((0..<ids.count).map { #""text number \#($0)""# }.joined(separator: "\n").utf8), name: "plain.jsonl")
        let plainResult = try run(["embed", "--model", model.path, "--input", plain.path, "--input-format", "jsonl"])
        let plainRows = try records(plainResult)
        let keyedRows = rows.enumerated().filter { $0.offset != 2 && $0.offset != rows.count - 1 }.map(\.element)
        XCTAssertEqual(plainRows.count, keyedRows.count)
        for (a, b) in zip(plainRows, keyedRows) { XCTAssertLessThan(distance(try embedding(a), try embedding(b)), 1e-6) }
    }

    func testOtherFieldNames() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array(#"{"key": "k1", "body": "hello", "text": 5}"#.utf8) + [0x0A], name: "fields.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl",
                              "--text-field", "body", "--id-field", "key"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutText.split(separator: "\n").map(rawID), [#""k1""#])
        let same = try run(["embed", "--input-format", "jsonl", "--text-field", "x", "--id-field", "x", "t"])
        XCTAssertEqual(same.status, 64, same.stderr)
    }

    func testBadKeyedRecordsAreNamedByLine() throws {
        let model = try Self.modelFolder()
        for (bad, expected) in [
            (#"{"id": 1}"#, #"no "text" field"#),
            (#"{"id": 1, "text": 5}"#, #""text" is not a string"#),
            (#"{"id": [1], "text": "x"}"#, #""id" is not a JSON scalar"#),
            (#"{"id": {"a": 1}, "text": "x"}"#, #""id" is not a JSON scalar"#),
            (#"{"id": 1, "id": 2, "text": "x"}"#, #"duplicate key "id""#),
            (#"{"id": 1, "text": "x", "text": "y"}"#, #"duplicate key "text""#),
            (#"[1, "x"]"#, "not a JSON string or object"),
            // JSONCore's strict parser: a duplicate key anywhere in the line is named, with where it is.
            (#"{"id": 1, "text": "x", "extra": 1, "extra": 2}"#, #"duplicate key "extra""#),
            (#"{"id": 1, "text": "x", "meta": {"a": 1, "a": 2}}"#, #"duplicate key "a" in meta"#),
            (#"{"id": 1, "text": "x""#, "not JSON"),
        ] {
            let input = try inputFile(Array("{\"id\": 0, \"text\": \"ok\"}\n\"ok\"\n\(bad)\n\"after\"\n".utf8), name: "bad.jsonl")
            let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"])
            XCTAssertEqual(result.status, 1, bad)
            XCTAssertEqual(result.stderrLines.count, 1, "\(bad): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("line 3"), "\(bad): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(bad): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("2 inputs before it were written"), "\(bad): \(result.stderr)")
            XCTAssertEqual(try records(result).count, 2, bad)
        }
    }
}
