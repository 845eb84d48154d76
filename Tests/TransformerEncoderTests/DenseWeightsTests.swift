import Foundation
import XCTest
@testable import TransformerEncoder

/// ``DenseWeights``: a model loaded with `.onednn` fp32 as its default keeps its dense weights in oneDNN's layout
/// only, and still serves every backend and precision with the same numbers as a model loaded for BLAS.
final class DenseWeightsTests: XCTestCase {
    /// Every dense layer of `model`, in pass order.
    private func denseLayers(_ model: EncoderModel) throws -> [Linear] {
        var all: [Linear] = []
        for layer in model.layers { try layer.forEachDense { all.append($0) } }
        return all
    }

    func testOneDNNLoadedModelHoldsWeightsOnceAndServesEveryBackend() throws {
        let folder = try TestSupport.defaultModelFolder()
        let blasModel = try EncoderModel(folder: folder, options: ComputeOptions(backend: .blas, threads: 2))
        let oneDNNModel = try EncoderModel(folder: folder, options: ComputeOptions(backend: .onednn, threads: 2))
        let blasDense = try denseLayers(blasModel)
        let oneDNNDense = try denseLayers(oneDNNModel)
        XCTAssertEqual(oneDNNDense.count, 24)
        for (index, linear) in oneDNNDense.enumerated() {
            XCTAssertNil(linear.weights.plain, "dense layer \(index): plain fp32 weights still held after a oneDNN fp32 load")
            XCTAssertNotNil(linear.weights.oneDNN.prepared(.fp32), "dense layer \(index): no oneDNN fp32 copy")
        }
        for linear in blasDense { XCTAssertNil(linear.weights.oneDNN.prepared(.fp32)) }

        let batch = try TestSupport.PaddedBatch(TestSupport.fixtures.appendingPathComponent("minilm_padded_batch.safetensors"))
        // oneDNN fp32 on the oneDNN-loaded model: every layer within 1e-5 of PyTorch.
        let fp32 = try oneDNNModel.encode(batch.sequences, outputHiddenStates: true)
        for (i, state) in fp32.hiddenStates.enumerated() {
            XCTAssertLessThan(
                try batch.maxDifference(state, starts: fp32.sequenceStarts, reference: "hidden_states.\(i)"), 1e-5,
                "hidden_states.\(i) onednn")
        }

        // BLAS and naive passes make the plain weights again, bit for bit the ones the BLAS model loaded.
        for backend in [ComputeBackend.blas, .naive] {
            let options = ComputeOptions(backend: backend, threads: 2)
            let fromOneDNN = try oneDNNModel.encode(batch.sequences, options: options).lastHiddenState
            let fromBLAS = try blasModel.encode(batch.sequences, options: options).lastHiddenState
            XCTAssertEqual(fromOneDNN.values, fromBLAS.values, "\(backend): outputs differ between the two loads")
        }
        for (index, (a, b)) in zip(oneDNNDense, blasDense).enumerated() {
            let count = a.inFeatures * a.outFeatures
            let remade = try XCTUnwrap(a.weights.plain, "dense layer \(index): plain weights not made by a BLAS pass")
            let loaded = try XCTUnwrap(b.weights.plain)
            XCTAssertTrue(
                Array(UnsafeBufferPointer(start: remade, count: count)) == Array(UnsafeBufferPointer(start: loaded, count: count)),
                "dense layer \(index): remade plain weights differ from the loaded ones")
        }

        // bf16 on a fresh oneDNN-loaded model is prepared from a temporary plain copy (made from oneDNN's fp32
        // copy and freed): the same bf16 weights, so exactly the BLAS-loaded model's bf16 numbers.
        do {
            try OneDNN.checkSupport(.bf16)
        } catch {
            throw XCTSkip("bf16 is not fast on this CPU: \(error)")
        }
        let reloaded = try EncoderModel(folder: folder, options: ComputeOptions(backend: .onednn, threads: 2))
        let bf16 = ComputeOptions(backend: .onednn, threads: 2, precision: .bf16)
        let reducedFromRelease = try reloaded.encode(batch.sequences, options: bf16).lastHiddenState
        XCTAssertNil(try denseLayers(reloaded)[0].weights.plain, "a bf16 preparation kept its temporary plain copy")
        let reducedFromBLAS = try blasModel.encode(batch.sequences, options: bf16).lastHiddenState
        XCTAssertEqual(reducedFromRelease.values, reducedFromBLAS.values, "bf16 outputs differ between the two loads")
    }
}
