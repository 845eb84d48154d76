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

/// int8's outlier channels: the quantization kernels that leave them out, and the model's calibration that picks them.
final class Int8OutlierTests: XCTestCase {
    /// A row with a channel 20× the rest: left out, it neither stretches the row's u8 range nor enters the u8 codes,
    /// and its exact value is kept for the fp32 product.
    func testQuantizeRowsLeavesOutliersOut() {
        let (rows, columns) = (3, 40)
        var x = (0..<rows * columns).map { Float(($0 * 37) % 23) / 4 - 0.17 }   // −0.17 … 5.33
        x[1 * columns + 7] = 100
        let outliers: [Int32] = [7, 20]
        var q = [UInt8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        var zeros = [Float](repeating: 0, count: rows)
        var values = [Float](repeating: 0, count: rows * outliers.count)
        var scratch = [Float](repeating: 0, count: columns)
        outliers.withUnsafeBufferPointer { o in
            LowPrecisionKernels.quantizeRows(
                x, rows: rows, columns: columns, into: &q, scales: &scales, zeroPoints: &zeros,
                outliers: o, outlierValues: &values, scratch: &scratch)
        }
        for r in 0..<rows {
            let rest = (0..<columns).filter { !outliers.contains(Int32($0)) }.map { x[r * columns + $0] }
            let range = max(0, rest.max()!) - min(0, rest.min()!)
            XCTAssertEqual(scales[r], range / 255, accuracy: range / 255 * 1e-5, "row \(r): scale from the other channels only")
            for (index, channel) in outliers.enumerated() {
                XCTAssertEqual(values[r * outliers.count + index], x[r * columns + Int(channel)], "row \(r) channel \(channel) kept exactly")
                XCTAssertEqual(Float(q[r * columns + Int(channel)]), zeros[r], "row \(r) channel \(channel) is a zero in u8")
            }
            for c in 0..<columns where !outliers.contains(Int32(c)) {
                let decoded = scales[r] * (Float(q[r * columns + c]) - zeros[r])
                XCTAssertLessThanOrEqual(abs(decoded - x[r * columns + c]), scales[r] * 0.5001, "row \(r) column \(c)")
            }
        }
        XCTAssertLessThan(scales[1], 6.0 / 255, "the 100 did not stretch row 1's range")
    }

    func testAddOutlierProductAddsTheExactShare() {
        let (rows, columns, count) = (2, 37, 3)
        let values: [Float] = [1.5, -2, 100, 0.25, 0, -7]
        let weights = (0..<count * columns).map { Float(($0 * 13) % 17) / 16 - 0.5 }
        var y = (0..<rows * columns).map { Float($0 % 5) }
        let before = y
        LowPrecisionKernels.addOutlierProduct(&y, rows: rows, columns: columns, values: values, weights: weights, count: count)
        for r in 0..<rows {
            for c in 0..<columns {
                var expected = Double(before[r * columns + c])
                for i in 0..<count { expected += Double(values[r * count + i]) * Double(weights[i * columns + c]) }
                XCTAssertEqual(Double(y[r * columns + c]), expected, accuracy: 1e-4, "y[\(r), \(c)]")
            }
        }
    }

    /// all-MiniLM-L6-v2: int8 calibration gives every FFN output layer (and no other) 8 outlier channels, and in the
    /// first four layers they include the channel PyTorch measured as the largest GELU output over 39 real sentences
    /// (13.7–24.6 against ≤ 6 for every other channel; `Scripts/int8_outlier_channels.py` prints them).
    func testCalibrationFindsTheMeasuredOutlierChannels() throws {
        let model = try EncoderModel(folder: try TestSupport.defaultModelFolder(), options: ComputeOptions(backend: .blas, threads: 2))
        let sequences = model.calibrationSequences()
        XCTAssertEqual(sequences.count, 8)
        XCTAssertEqual(sequences.map(\.inputIDs), model.calibrationSequences().map(\.inputIDs), "calibration input is fixed")
        for sequence in sequences {
            XCTAssertEqual(sequence.count, 32)
            XCTAssertTrue(sequence.inputIDs.allSatisfy { $0 >= 3052 && $0 < 30522 })
        }
        do {
            try OneDNN.checkSupport(.int8)
        } catch {
            throw XCTSkip("int8 is not fast on this CPU: \(error)")
        }
        try model.prepareOneDNN(.int8)
        let measuredLargest: [Int32] = [856, 607, 1004, 358]
        for (index, layer) in model.layers.enumerated() {
            let outliers = layer.feedForward.outputDense.weights.int8Outliers
            print("layer \(index): int8 outlier channels \(outliers)")
            XCTAssertEqual(outliers.count, FeedForward.int8OutlierCount)
            XCTAssertEqual(outliers, outliers.sorted())
            XCTAssertTrue(outliers.allSatisfy { $0 >= 0 && Int($0) < model.configuration.intermediateSize })
            if index < measuredLargest.count {
                XCTAssertTrue(outliers.contains(measuredLargest[index]), "layer \(index): channel \(measuredLargest[index]) not chosen")
            }
            XCTAssertEqual(layer.feedForward.outputDense.weights.oneDNN.prepared(.int8)?.outlierChannels.count, 8)
            XCTAssertTrue(layer.attention.outputDense.weights.int8Outliers.isEmpty)
            XCTAssertEqual(layer.attention.outputDense.weights.oneDNN.prepared(.int8)?.outlierChannels.count, 0)
        }
    }
}
