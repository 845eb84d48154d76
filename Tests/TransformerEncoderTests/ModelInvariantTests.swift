import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// Invariants a caller or a checkpoint could break (issue 10's probes), each kept as a regression test.
final class ModelInvariantTests: XCTestCase {
    /// The probe: 5 heads on hidden size 32 used to pass by assigning the field after `validate()`. The fields
    /// are `let` now (assignment does not compile), and the one public initializer refuses it.
    func testConfigurationCannotBeBuiltInconsistent() throws {
        XCTAssertThrowsError(
            try EncoderConfiguration(hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 5, intermediateSize: 64, vocabSize: 100)
        ) { error in
            XCTAssertEqual(
                error as? EncoderError,
                .invalidField(path: "<configuration>", field: "num_attention_heads", reason: "is 5, which does not divide hidden_size 32"))
        }
        // A valid one loads against the tiny checkpoint; a RoBERTa one leaves no position after padding index 70.
        let valid = try EncoderConfiguration(
            hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 64, vocabSize: 100)
        _ = try EncoderModel(configuration: valid, checkpoint: TestSupport.tinyBERT.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(
            try EncoderConfiguration(
                family: .roberta, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
                maxPositionEmbeddings: 64, typeVocabSize: 1, vocabSize: 100, padTokenID: 70))
    }

    // MARK: Non-finite weights: found at load, named by tensor

    private func loadError(_ change: (inout [CheckpointTensor]) -> Void) throws -> EncoderError? {
        let folder = try ScratchModelFolder(copying: TestSupport.tinyBERT)
        defer { folder.remove() }
        try folder.rewriteCheckpoint(change)
        do {
            _ = try EncoderModel(folder: folder.url)
            return nil
        } catch {
            return error
        }
    }

    private func replace(
        _ tensors: inout [CheckpointTensor], _ name: String, _ change: (inout [Float]) -> Void
    ) {
        guard let index = tensors.firstIndex(where: { $0.name == name }) else { return XCTFail("no \(name)") }
        var values = tensors[index].bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        change(&values)
        tensors[index] = .float32(name, shape: tensors[index].shape, values: values)
    }

    func testOneNaNBiasIsNamedAtLoad() throws {
        let error = try loadError { replace(&$0, "encoder.layer.1.output.dense.bias", { $0[7] = .nan }) }
        guard case let .nonFiniteWeight(path, tensor, index) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(path.hasSuffix("model.safetensors"))
        XCTAssertEqual(tensor, "encoder.layer.1.output.dense.bias")
        XCTAssertEqual(index, 7)
        XCTAssertTrue(error!.description.contains("'encoder.layer.1.output.dense.bias' holds a NaN or infinite value (element 7)"))
    }

    func testInfinityInAKeyMatrixIsNamedAtLoad() throws {
        let error = try loadError { replace(&$0, "encoder.layer.0.attention.self.key.weight", { $0[100] = -.infinity }) }
        XCTAssertEqual(
            error.map { if case let .nonFiniteWeight(_, tensor, index) = $0 { return "\(tensor) \(index)" } else { return "\($0)" } },
            "encoder.layer.0.attention.self.key.weight 100")
    }

    /// 3e38 in every weight of one layer is finite, so it loads; the activations overflow, and the forward
    /// pass reports it by sequence instead of returning NaN.
    func testOverflowingLayerIsAnErrorNamingTheSequence() throws {
        let folder = try ScratchModelFolder(copying: TestSupport.tinyBERT)
        defer { folder.remove() }
        try folder.rewriteCheckpoint { tensors in
            for name in tensors.map(\.name) where name.hasPrefix("encoder.layer.1.") {
                replace(&tensors, name, { $0 = [Float](repeating: 3e38, count: $0.count) })
            }
        }
        let model = try EncoderModel(folder: folder.url)
        for backend in ComputeBackend.allCases {
            XCTAssertThrowsError(try model.encode([TokenSequence(inputIDs: [2, 10, 11, 3])], options: ComputeOptions(backend: backend))) {
                XCTAssertEqual($0 as? EncoderError, .nonFiniteHiddenState(sequence: 0, position: 0))
            }
            XCTAssertThrowsError(try model.encode([TokenSequence(inputIDs: []), TokenSequence(inputIDs: [5, 6])])) {
                XCTAssertEqual($0 as? EncoderError, .nonFiniteHiddenState(sequence: 1, position: 0))
                XCTAssertEqual(
                    ($0 as? EncoderError)?.description,
                    "sequence 1, position 0: the encoder's hidden state is NaN or infinite (the weights overflow on this input)")
            }
        }
    }

    func testFirstNonFiniteFindsTheFirstBadValue() {
        var values = [Float](repeating: 1, count: 37)
        XCTAssertNil(ElementwiseKernels.firstNonFinite(values, count: values.count))
        values[33] = .infinity  // in the scalar tail
        values[20] = .nan       // in the second vector
        XCTAssertEqual(ElementwiseKernels.firstNonFinite(values, count: values.count), 20)
        values = [Float](repeating: -3e38, count: 16)
        XCTAssertNil(ElementwiseKernels.firstNonFinite(values, count: 16))
    }

    // MARK: One level of threads

    /// Loading a model leaves OpenBLAS's threading alone; a BLAS forward pass sets it to one thread.
    func testOpenBLASThreadingIsSetByTheForwardPassNotByLoading() throws {
        let before = OpenBLAS.threadCount
        defer { OpenBLAS.setThreadCount(before) }
        OpenBLAS.setThreadCount(2)
        let model = try EncoderModel(folder: TestSupport.tinyBERT)
        XCTAssertEqual(OpenBLAS.threadCount, 2, "loading changed OpenBLAS's threads")
        _ = try model.encode([TokenSequence(inputIDs: [2, 3])], options: ComputeOptions(backend: .naive))
        XCTAssertEqual(OpenBLAS.threadCount, 2, "the naive backend does not touch OpenBLAS")
        _ = try model.encode([TokenSequence(inputIDs: [2, 3])], options: ComputeOptions(backend: .blas))
        XCTAssertEqual(OpenBLAS.threadCount, 1)
    }
}
