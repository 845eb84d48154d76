import Foundation
import XCTest
import EncoderTestSupport
@testable import TransformerEncoder

/// all-mpnet-base-v2 with its real weights (fetched by `Scripts/setup --with-mpnet` into
/// models/all-mpnet-base-v2): the 31 reference texts embed, from text, within 1e-5 of sentence-transformers
/// (Tests/Fixtures/mpnet_sentences.jsonl, from Scripts/make_mpnet_references.py). Missing model: the test
/// fails when `CI=true` and is skipped otherwise.
final class MPNetSentenceTests: XCTestCase {
    struct Reference: Decodable {
        let text: String
        let input_ids: [Int32]
        let untruncated_length: Int
        let embedding: [Float]
    }

    static func references() throws -> [Reference] {
        let data = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("mpnet_sentences.jsonl"))
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
    }

    static func modelFolder() throws -> URL {
        try TestModel.folder(named: "all-mpnet-base-v2", setup: "Scripts/setup --with-mpnet")
    }

    /// From sentence-transformers' own token ids: the encoder's output through the folder's modules (mean
    /// pooling, Normalize), independent of the tokenizer.
    func testEmbeddingsFromTokenIDsMatchSentenceTransformers() throws {
        let folder = try Self.modelFolder()
        let model = try EncoderModel(folder: folder)
        let modules = try SentenceModules(modelFolder: folder, hiddenSize: model.configuration.hiddenSize)
        XCTAssertEqual(modules.pooling, .mean)
        XCTAssertEqual(modules.dimension, 768)
        let references = try Self.references()
        var worst: Float = 0
        for start in stride(from: 0, to: references.count, by: 8) {
            let batch = references[start..<min(start + 8, references.count)]
            let embeddings = try modules.embed(batch.map { TokenSequence(inputIDs: $0.input_ids) }, model: model)
            for (row, reference) in batch.enumerated() {
                for j in 0..<768 { worst = max(worst, abs(embeddings[row, j] - reference.embedding[j])) }
            }
        }
        print("all-mpnet-base-v2, 31 texts from token ids: max |difference| to sentence-transformers \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    func testEmbeddingsFromTextMatchSentenceTransformers() throws {
        let encoder = try SentenceEncoder(modelFolder: try Self.modelFolder())
        XCTAssertEqual(encoder.dimension, 768)
        XCTAssertEqual(encoder.maxSequenceLength, 384)
        let references = try Self.references()
        XCTAssertEqual(references.count, 31)
        let result = try encoder.encode(references.map(\.text), batchSize: 8)
        var worst: Float = 0
        for (i, reference) in references.enumerated() {
            XCTAssertEqual(encoder.tokenize(reference.text).inputIDs, reference.input_ids, "text \(i)")
            XCTAssertEqual(result.tokenCounts[i], reference.input_ids.count, "text \(i)")
            for j in 0..<768 { worst = max(worst, abs(result.embeddings[i, j] - reference.embedding[j])) }
        }
        XCTAssertEqual(result.truncated, references.indices.filter { references[$0].untruncated_length > 384 })
        print("all-mpnet-base-v2, 31 texts from text: max |difference| to sentence-transformers \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }
}
