import Foundation
import XCTest
@testable import TransformerEncoder

/// Text in, embeddings out: the whole sentence-transformers pipeline against its reference outputs.
final class SentenceEncoderTests: XCTestCase {
    /// Shared across tests: loading maps the weights once.
    nonisolated(unsafe) static var shared: SentenceEncoder?

    func encoder() throws -> SentenceEncoder {
        if let shared = Self.shared { return shared }
        let encoder = try SentenceEncoder(modelFolder: TestSupport.defaultModelFolder())
        Self.shared = encoder
        return encoder
    }

    /// Every text of minilm_sentences.jsonl, from its text: same token ids, same truncation, and the
    /// embedding within 1e-5 of sentence-transformers' (in batches of 8, sorted by length).
    func testEmbeddingsFromTextMatchSentenceTransformers() throws {
        let encoder = try encoder()
        XCTAssertEqual(encoder.maxSequenceLength, 256)
        XCTAssertEqual(encoder.dimension, 384)
        let references = try TestSupport.referenceSentences()
        let result = try encoder.encode(references.map(\.text), batchSize: 8)
        XCTAssertEqual(result.count, references.count)
        var worst: Float = 0
        for (i, reference) in references.enumerated() {
            XCTAssertEqual(result.tokenCounts[i], reference.input_ids.count, "text \(i)")
            for j in 0..<384 { worst = max(worst, abs(result.embeddings[i, j] - reference.embedding[j])) }
        }
        // Only the 582-token text is longer than max_seq_length 256.
        XCTAssertEqual(result.truncated, references.indices.filter { references[$0].untruncated_length > 256 })
        XCTAssertEqual(result.truncated.count, 1)
        print("text → embedding, 31 sentences: max |difference| to sentence-transformers \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    /// The same batch from 8 concurrent tasks gives results identical to a sequential run.
    func testConcurrentUseIsSafeAndDeterministic() async throws {
        let encoder = try encoder()
        let texts = try TestSupport.referenceSentences().prefix(12).map(\.text)
        let sequential = try await encoder.encode(texts, batchSize: 4).embeddings
        let results = try await withThrowingTaskGroup(of: Matrix.self) { group in
            for _ in 0..<8 {
                group.addTask { try await encoder.encode(texts, batchSize: 4).embeddings }
            }
            var all: [Matrix] = []
            for try await matrix in group { all.append(matrix) }
            return all
        }
        XCTAssertEqual(results.count, 8)
        for matrix in results { XCTAssertEqual(matrix, sequential) }
    }

    /// Empty and whitespace-only texts embed ([CLS] [SEP] only), and never give NaN.
    func testEmptyAndWhitespaceTexts() throws {
        let encoder = try encoder()
        let result = try encoder.encode(["", "   ", "\t\n", "\u{0}"])
        XCTAssertEqual(result.tokenCounts, [2, 2, 2, 2])
        XCTAssertFalse(result.embeddings.values.contains { !$0.isFinite })
        // All four are the same token sequence, so the same embedding.
        XCTAssertEqual(result[0], result[1])
        XCTAssertEqual(result[0], result[3])
        let norm = result[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertEqual(norm, 1, accuracy: 1e-5)
    }

    /// A 2 MB single text is truncated to 256 tokens and reported.
    func testHugeTextIsTruncatedAndReported() throws {
        let encoder = try encoder()
        let huge = String(repeating: "lorem ipsum dolor sit amet ", count: 80_000)
        XCTAssertGreaterThan(huge.utf8.count, 2_000_000)
        let result = try encoder.encode(["short", huge])
        XCTAssertEqual(result.tokenCounts[1], 256)
        XCTAssertEqual(result.truncated, [1])
    }

    func testDefaultModelFolderIsFound() throws {
        _ = try TestSupport.defaultModelFolder()
        XCTAssertNotNil(SentenceEncoder.defaultModelFolder())
    }
}
