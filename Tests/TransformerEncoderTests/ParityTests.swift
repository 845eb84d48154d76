import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// The encoder against PyTorch / sentence-transformers outputs in `Tests/Fixtures` (see REFERENCE.md there).
final class EncoderParityTests: XCTestCase {
    /// tiny-bert: every hidden state of a padded batch of 4 (lengths 5, 12, 9, 1; token types 1 on the
    /// second half), on both backends and thread counts, within 1e-5 on real tokens.
    func testTinyBERTEveryLayerOnBothBackends() throws {
        let model = try BertModel(folder: TestSupport.tinyBERT)
        let batch = try TestSupport.PaddedBatch(TestSupport.tinyBERT.appendingPathComponent("expected.safetensors"))
        XCTAssertEqual(batch.sequences.map(\.count), [5, 12, 9, 1])
        for backend in ComputeBackend.allCases {
            for threads in [1, 2, 3] {
                let output = try model.encode(
                    batch.sequences, outputHiddenStates: true, options: ComputeOptions(backend: backend, threads: threads))
                XCTAssertEqual(output.hiddenStates.count, 3)
                var worst: Float = 0
                for (i, state) in output.hiddenStates.enumerated() {
                    let d = try batch.maxDifference(state, starts: output.sequenceStarts, reference: "hidden_states.\(i)")
                    XCTAssertLessThan(d, 1e-5, "hidden_states.\(i) \(backend) threads \(threads)")
                    worst = max(worst, d)
                }
                let last = try batch.maxDifference(output.lastHiddenState, starts: output.sequenceStarts, reference: "last_hidden_state")
                XCTAssertLessThan(last, 1e-5)
                print("tiny-bert \(backend) threads=\(threads): max |difference| over all layers = \(max(worst, last))")
            }
        }
    }

    /// all-MiniLM-L6-v2, padded batch of 3: every layer within 1e-5 on real tokens (BLAS and naive).
    func testMiniLMEveryLayer() throws {
        let model = try BertModel(folder: TestSupport.defaultModelFolder())
        let batch = try TestSupport.PaddedBatch(TestSupport.fixtures.appendingPathComponent("minilm_padded_batch.safetensors"))
        for backend in ComputeBackend.allCases {
            let output = try model.encode(batch.sequences, outputHiddenStates: true, options: ComputeOptions(backend: backend))
            XCTAssertEqual(output.hiddenStates.count, 7)
            var report: [String] = []
            for (i, state) in output.hiddenStates.enumerated() {
                let d = try batch.maxDifference(state, starts: output.sequenceStarts, reference: "hidden_states.\(i)")
                XCTAssertLessThan(d, 1e-5, "hidden_states.\(i) \(backend)")
                report.append(String(format: "%.2e", d))
            }
            let last = try batch.maxDifference(output.lastHiddenState, starts: output.sequenceStarts, reference: "last_hidden_state")
            XCTAssertLessThan(last, 1e-5)
            print("MiniLM padded batch \(backend): max |difference| per layer = \(report.joined(separator: " "))")
        }
    }

    /// all-MiniLM-L6-v2 from the reference token ids: the normalized sentence embedding of all 31 texts
    /// within 1e-5 of sentence-transformers' (BLAS, one batch), and a few on the naive backend.
    func testMiniLMSentenceEmbeddingsFromTokenIDs() throws {
        let folder = try TestSupport.defaultModelFolder()
        let model = try BertModel(folder: folder)
        let pooling = try SentenceModules.of(folder, model: model)
        XCTAssertEqual(pooling.pooling, .mean)
        XCTAssertEqual(pooling.steps.count, 1, "Pooling, then Normalize")
        let references = try TestSupport.referenceSentences()
        XCTAssertEqual(references.count, 31)
        let sequences = references.map { TokenSequence(inputIDs: $0.input_ids, tokenTypeIDs: $0.token_type_ids) }

        let embeddings = try pooling.embed(sequences, model: model)
        let unnormalized = try SentenceModules.pooling(.mean, normalize: false, model: model).embed(sequences, model: model)
        var worst: Float = 0, worstPooled: Float = 0, worstRenormalized: Float = 0
        for (i, reference) in references.enumerated() {
            // The reference's `pooled_unnormalized` has unit norm as shipped (it matches `embedding` to 2e-8),
            // so it is compared with the normalized output too.
            let norm = (0..<unnormalized.columns).reduce(Float(0)) { $0 + unnormalized[i, $1] * unnormalized[i, $1] }.squareRoot()
            XCTAssertGreaterThan(norm, 0.1, "mean pooling without normalization is not unit length")
            for j in 0..<reference.embedding.count {
                worst = max(worst, abs(embeddings[i, j] - reference.embedding[j]))
                worstPooled = max(worstPooled, abs(embeddings[i, j] - reference.pooled_unnormalized[j]))
                worstRenormalized = max(worstRenormalized, abs(unnormalized[i, j] / norm - reference.embedding[j]))
            }
        }
        print("MiniLM 31 sentences (BLAS): max |difference| embedding \(worst), pooled_unnormalized \(worstPooled), mean pooled then normalized \(worstRenormalized)")
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertLessThan(worstPooled, 1e-5)
        XCTAssertLessThan(worstRenormalized, 1e-5)

        let few = [0, 4, 18]
        let naive = try pooling.embed(few.map { sequences[$0] }, model: model, options: ComputeOptions(backend: .naive))
        var worstNaive: Float = 0
        for (row, i) in few.enumerated() {
            for j in 0..<references[i].embedding.count {
                worstNaive = max(worstNaive, abs(naive[row, j] - references[i].embedding[j]))
            }
        }
        print("MiniLM sentences \(few) (naive): max |difference| \(worstNaive)")
        XCTAssertLessThan(worstNaive, 1e-5)
    }

    /// A sequence's embedding does not depend on its batch: alone or beside longer ones, within 1e-6.
    func testEmbeddingIndependentOfBatch() throws {
        let folder = try TestSupport.defaultModelFolder()
        let model = try BertModel(folder: folder)
        let pooling = try SentenceModules.of(folder, model: model)
        let references = try TestSupport.referenceSentences()
        let sequences = references.map { TokenSequence(inputIDs: $0.input_ids) }
        let together = try pooling.embed(sequences, model: model)
        var worst: Float = 0
        for i in [18, 0, 30] {
            let alone = try pooling.embed([sequences[i]], model: model)
            for j in 0..<alone.columns { worst = max(worst, abs(alone[0, j] - together[i, j])) }
        }
        print("alone vs in batch: max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-6)
    }

    /// A batch of more tokens than one feed-forward block (the 31 texts three times, ~2,400 tokens):
    /// every embedding still matches the reference.
    func testBatchLargerThanOneFeedForwardBlock() throws {
        let folder = try TestSupport.defaultModelFolder()
        let model = try BertModel(folder: folder)
        let pooling = try SentenceModules.of(folder, model: model)
        let references = try TestSupport.referenceSentences()
        let sequences = references.map { TokenSequence(inputIDs: $0.input_ids) }
        let batch = sequences + sequences + sequences
        XCTAssertGreaterThan(batch.reduce(0) { $0 + $1.count }, 2 * Workspace.feedForwardBlock)
        let embeddings = try pooling.embed(batch, model: model)
        var worst: Float = 0
        for row in 0..<batch.count {
            let reference = references[row % references.count].embedding
            for j in 0..<reference.count { worst = max(worst, abs(embeddings[row, j] - reference[j])) }
        }
        print("MiniLM, 93 sequences in one batch (3 feed-forward blocks): max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    /// Empty sequences pool to zeros (never NaN) and do not disturb their neighbours.
    func testEmptySequenceGivesZerosNotNaN() throws {
        let model = try BertModel(folder: TestSupport.tinyBERT)
        let pooling = try SentenceModules.pooling(
            Pooling(modes: [.mean, .max, .cls, .meanSqrtLength, .weightedMean, .lastToken]), normalize: true, model: model)
        let result = try pooling.embed(
            [TokenSequence(inputIDs: []), TokenSequence(inputIDs: [1, 5, 7, 2])], model: model)
        XCTAssertEqual(result.rows, 2)
        XCTAssertEqual(result.columns, 6 * 32)
        XCTAssertTrue((0..<result.columns).allSatisfy { result[0, $0] == 0 })
        XCTAssertFalse(result.values.contains { $0.isNaN })
        let alone = try pooling.embed([TokenSequence(inputIDs: [1, 5, 7, 2])], model: model)
        XCTAssertEqual(Array(result.values[(6 * 32)...]), alone.values)
    }
}
