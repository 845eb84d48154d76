import Foundation
import XCTest
@testable import TransformerEncoder

/// Sentence embeddings FROM TEXT per family, against sentence-transformers 6.3: tiny random-weight
/// sentence-transformers folders (Tests/Fixtures/families/sentences, written by
/// `Scripts/make_family_fixtures.py --sentences`) for RoBERTa (byte-level BPE), XLM-RoBERTa (Unigram with a
/// Precompiled normalizer) and DistilBERT (WordPiece), each loaded through ``SentenceEncoder`` — what
/// `encoder embed` loads — on 40 texts: empty, truncated to max_seq_length 40, German, Russian, Japanese,
/// Chinese, emoji, … The token ids equal sentence-transformers' and the embeddings are within 1e-5.
final class FamilySentenceTests: XCTestCase {
    static let root = TestSupport.fixtures.appendingPathComponent("families/sentences")

    /// One folder of expected.json.
    struct Case: Decodable {
        let folder: String
        let model_type: String
        let max_seq_length: Int
        let texts: [String]
        /// sentence-transformers' ids, padding removed.
        let input_ids: [[Int32]]
        /// `SentenceTransformer(folder).encode(texts)`.
        let embeddings: [[Float]]
    }

    static func cases() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        let data = try Data(contentsOf: root.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }

    /// Loads `case.folder` as `encoder embed` does, tokenizes and embeds its texts, and returns the max
    /// |difference| to sentence-transformers' embeddings. Ids, token counts and truncation are asserted.
    func measure(_ reference: Case, backend: ComputeBackend) throws -> Float {
        let encoder = try SentenceEncoder(modelFolder: Self.root.appendingPathComponent(reference.folder),
                                          options: ComputeOptions(backend: backend, threads: 2))
        XCTAssertEqual(encoder.maxSequenceLength, reference.max_seq_length, reference.folder)
        XCTAssertEqual(encoder.dimension, 32, reference.folder)
        for (i, text) in reference.texts.enumerated() {
            XCTAssertEqual(encoder.tokenize(text).inputIDs, reference.input_ids[i], "\(reference.folder) text \(i): \(text.debugDescription)")
        }
        let batch = try encoder.encode(reference.texts, batchSize: 8)
        XCTAssertEqual(batch.count, reference.texts.count)
        XCTAssertEqual(batch.tokenCounts, reference.input_ids.map(\.count), reference.folder)
        var worst: Float = 0
        for (i, expected) in reference.embeddings.enumerated() {
            let row = batch[i]
            XCTAssertEqual(row.count, expected.count, reference.folder)
            guard row.count == expected.count else { return .infinity }
            for j in 0..<row.count { worst = max(worst, abs(row[j] - expected[j])) }
        }
        return worst
    }

    func testEveryFamilyMatchesSentenceTransformersFromText() throws {
        let cases = try Self.cases()
        XCTAssertEqual(cases.map(\.model_type), ["roberta", "xlm-roberta", "distilbert"])
        for reference in cases {
            XCTAssertEqual(reference.texts.count, 40)
            XCTAssertTrue(reference.texts.contains(""), "the empty text")
            XCTAssertTrue(reference.input_ids.contains { $0.count == reference.max_seq_length }, "\(reference.folder): a truncated text")
            for backend in ComputeBackend.allCases {
                let worst = try measure(reference, backend: backend)
                print("families/sentences \(reference.folder) (\(reference.model_type)) \(backend), \(reference.texts.count) texts from text: max |difference| to sentence-transformers \(worst)")
                XCTAssertLessThan(worst, 1e-5, "\(reference.folder) \(backend)")
            }
        }
    }

    /// The folders hold what the test means to cover: each family's tokenizer kind, and the long texts
    /// really are cut by max_seq_length (so truncation, not a short text, is what is compared).
    func testFoldersHoldTheirFamilyAndTokenizer() throws {
        for reference in try Self.cases() {
            let encoder = try SentenceEncoder(modelFolder: Self.root.appendingPathComponent(reference.folder))
            XCTAssertEqual(encoder.model.configuration.family.rawValue, reference.model_type)
            let untruncated = reference.texts.map { encoder.tokenizer.encode($0, maxLength: nil).inputIDs.count }
            XCTAssertGreaterThanOrEqual(untruncated.filter { $0 > reference.max_seq_length }.count, 4, reference.folder)
        }
    }
}
