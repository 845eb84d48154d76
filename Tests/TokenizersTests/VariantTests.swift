import Foundation
import XCTest
@testable import Tokenizers

/// Other supported component configurations (cased, Sequence normalizers and pre-tokenizers,
/// BertProcessing, no post-processor, added-token flags) against Hugging Face references.
final class VariantTests: XCTestCase {
    func testVariantsMatchHuggingFace() throws {
        let baseData = try Data(contentsOf: Fixtures.minilmTokenizerFolder.appendingPathComponent("tokenizer.json"))
        let base = try XCTUnwrap(try JSONSerialization.jsonObject(with: baseData) as? [String: Any])
        let variants = try Fixtures.jsonLines("tokenizer_variants.jsonl")
        XCTAssertGreaterThanOrEqual(variants.count, 8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tok-variants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var checked = 0
        for variant in variants {
            let name = try XCTUnwrap(variant["variant"] as? String)
            let replacements = try XCTUnwrap(variant["replace"] as? [String: Any])
            var config = base
            for (key, value) in replacements { config[key] = value }
            let url = directory.appendingPathComponent("\(name).json")
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            let tokenizer = try BertTokenizer(tokenizerJSON: url)
            let cases = try XCTUnwrap(variant["cases"] as? [[String: Any]])
            for (index, item) in cases.enumerated() {
                let text = try XCTUnwrap(item["text"] as? String)
                let expectedIDs = try XCTUnwrap(Fixtures.ids(item["input_ids"]))
                let expectedTypes = try XCTUnwrap(Fixtures.ids(item["token_type_ids"]))
                let encoded = (item["pair"] as? String).map { tokenizer.encode(text, pair: $0) } ?? tokenizer.encode(text)
                let got = encoded.inputIDs.map { tokenizer.token(forID: $0) ?? "?" }
                XCTAssertEqual(encoded.inputIDs, expectedIDs, "\(name) case \(index + 1) [\(scalarDump(text))] got \(got)")
                XCTAssertEqual(encoded.tokenTypeIDs, expectedTypes, "\(name) case \(index + 1) type ids")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 150)
    }
}
