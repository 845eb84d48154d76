import Foundation
import XCTest
@testable import Tokenizers

/// Exact ids against Hugging Face `tokenizers` 0.23 for every tokenizer family and component
/// (references made by Scripts/make_tokenizer_family_fixtures.py).
final class FamilyParityTests: XCTestCase {
    /// Checks every case of `Tests/Fixtures/<folder>/cases.jsonl` against the folder's tokenizer.json.
    /// Returns the number of cases checked.
    @discardableResult
    private func checkFolder(_ folder: String, minimumCases: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let url = Fixtures.directory.appendingPathComponent(folder)
        let tokenizer = try PipelineTokenizer(tokenizerJSON: url.appendingPathComponent("tokenizer.json"))
        let rows = try Fixtures.jsonLines("\(folder)/cases.jsonl")
        XCTAssertGreaterThanOrEqual(rows.count, minimumCases, file: file, line: line)
        var mismatches = 0, pairs = 0, truncated = 0
        for (index, row) in rows.enumerated() {
            let text = try XCTUnwrap(row["text"] as? String)
            // Helper uni's XLM-R fixture names them "ids" and "type_ids".
            let expectedIDs = try XCTUnwrap(Fixtures.ids(row["input_ids"] ?? row["ids"]))
            let expectedTypes = try XCTUnwrap(Fixtures.ids(row["token_type_ids"] ?? row["type_ids"]))
            let maxLength = row["max_length"] as? Int
            let encoded: TokenizedText
            if let pair = row["pair"] as? String {
                encoded = tokenizer.encode(text, pair: pair, maxLength: maxLength)
                pairs += 1
            } else {
                encoded = tokenizer.encode(text, maxLength: maxLength)
            }
            if maxLength != nil { truncated += 1 }
            if encoded.inputIDs != expectedIDs || encoded.tokenTypeIDs != expectedTypes {
                mismatches += 1
                if mismatches <= 5 {
                    let got = encoded.inputIDs.prefix(40).map { tokenizer.token(forID: $0) ?? "?" }
                    let want = expectedIDs.prefix(40).map { tokenizer.token(forID: $0) ?? "?" }
                    XCTFail("\(folder) case \(index + 1) [\(scalarDump(text))] max \(maxLength.map(String.init) ?? "-"):\n got  \(got)\n want \(want)",
                            file: file, line: line)
                }
            }
            if maxLength == nil && row["pair"] == nil {
                XCTAssertEqual(encoded.untruncatedLength, expectedIDs.count, "\(folder) case \(index + 1)", file: file, line: line)
            }
        }
        print("\(folder): \(rows.count) cases (\(pairs) pairs, \(truncated) truncated), \(mismatches) mismatches")
        XCTAssertEqual(mismatches, 0, "\(folder): \(mismatches) of \(rows.count) cases differ from tokenizers", file: file, line: line)
        XCTAssertGreaterThan(pairs, 20, file: file, line: line)
        XCTAssertGreaterThan(truncated, 20, file: file, line: line)
        XCTAssertGreaterThan(pairs + truncated, 0, file: file, line: line)
        return rows.count
    }

    func testRobertaByteLevelBPE() throws {
        try checkFolder("tokenizer_roberta", minimumCases: 500)
        let tokenizer = try PipelineTokenizer(tokenizerJSON: Fixtures.directory.appendingPathComponent("tokenizer_roberta/tokenizer.json"))
        XCTAssertEqual(tokenizer.modelType, "BPE")
        XCTAssertEqual(tokenizer.clsTokenID, 0)
        XCTAssertEqual(tokenizer.sepTokenID, 2)
        XCTAssertEqual(tokenizer.padTokenID, 1)
        XCTAssertEqual(tokenizer.id(forToken: "<mask>"), 4)
    }

    func testBPEWithPrefixAndSuffix() throws {
        try checkFolder("tokenizer_bpe_suffix", minimumCases: 300)
    }

    func testBPEWithByteFallback() throws {
        try checkFolder("tokenizer_bpe_bytes", minimumCases: 300)
    }

    func testUnigramWithMetaspaceFirst() throws {
        try checkFolder("tokenizer_unigram_first", minimumCases: 300)
    }

    func testXLMRobertaUnigramPrecompiled() throws {
        let folder = Fixtures.directory.appendingPathComponent("tokenizer_xlmr")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("cases.jsonl").path) else {
            XCTFail("Tests/Fixtures/tokenizer_xlmr/cases.jsonl is missing (made by helper uni's script)")
            return
        }
        try checkFolder("tokenizer_xlmr", minimumCases: 300)
    }

    func testMPNetIfPresent() throws {
        let folder = Fixtures.directory.appendingPathComponent("tokenizer_mpnet")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("cases.jsonl").path) else {
            throw XCTSkip("no all-mpnet-base-v2 fixture (made when models/all-mpnet-base-v2 exists)")
        }
        try checkFolder("tokenizer_mpnet", minimumCases: 300)
    }

    /// Each normalizer, pre-tokenizer and post-processor, as a variant of the RoBERTa or MiniLM tokenizer.json.
    func testComponentVariants() throws {
        var bases: [String: [String: Any]] = [:]
        for (name, path) in [("roberta", "tokenizer_roberta/tokenizer.json"), ("minilm", "tokenizer_minilm/tokenizer.json")] {
            let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent(path))
            bases[name] = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let variants = try Fixtures.jsonLines("tokenizer_component_variants.jsonl")
        XCTAssertGreaterThanOrEqual(variants.count, 50)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tok-components-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var checked = 0, mismatches = 0
        for variant in variants {
            let name = try XCTUnwrap(variant["variant"] as? String)
            var config = try XCTUnwrap(bases[try XCTUnwrap(variant["base"] as? String)])
            for (key, value) in try XCTUnwrap(variant["replace"] as? [String: Any]) {
                if key.hasPrefix("model.") {
                    var model = try XCTUnwrap(config["model"] as? [String: Any])
                    model[String(key.dropFirst(6))] = value
                    config["model"] = model
                } else {
                    config[key] = value
                }
            }
            let url = directory.appendingPathComponent("\(name).json")
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            let tokenizer = try PipelineTokenizer(tokenizerJSON: url)
            for (index, item) in try XCTUnwrap(variant["cases"] as? [[String: Any]]).enumerated() {
                let text = try XCTUnwrap(item["text"] as? String)
                let expectedIDs = try XCTUnwrap(Fixtures.ids(item["input_ids"]))
                let expectedTypes = try XCTUnwrap(Fixtures.ids(item["token_type_ids"]))
                let maxLength = item["max_length"] as? Int
                let encoded = (item["pair"] as? String).map { tokenizer.encode(text, pair: $0, maxLength: maxLength) }
                    ?? tokenizer.encode(text, maxLength: maxLength)
                if encoded.inputIDs != expectedIDs || encoded.tokenTypeIDs != expectedTypes {
                    mismatches += 1
                    let got = encoded.inputIDs.map { tokenizer.token(forID: $0) ?? "?" }
                    let want = expectedIDs.map { tokenizer.token(forID: $0) ?? "?" }
                    XCTFail("\(name) case \(index + 1) [\(scalarDump(text))]:\n got  \(got)\n want \(want)")
                }
                checked += 1
            }
        }
        print("component variants: \(variants.count) variants, \(checked) cases, \(mismatches) mismatches")
        XCTAssertGreaterThanOrEqual(checked, 1000)
    }
}
