import Foundation
import XCTest
@testable import TransformerEncoder

/// ``DenseWeights``: oneDNN fp32 multiplies the plain weights in place, so a model loaded for `.onednn` fp32 holds
/// its dense weights once (no reordered copy), and its numbers match PyTorch and the BLAS backend.
final class DenseWeightsTests: XCTestCase {
    /// Every dense layer of `model`, in pass order.
    private func denseLayers(_ model: EncoderModel) throws -> [Linear] {
        var all: [Linear] = []
        for layer in model.layers { try layer.forEachDense { all.append($0) } }
        return all
    }

    func testOneDNNFP32HoldsWeightsOnceAndMatchesPyTorchAndBLAS() throws {
        let folder = try TestSupport.defaultModelFolder()
        let model = try EncoderModel(folder: folder, options: ComputeOptions(backend: .onednn, threads: 2))
        let dense = try denseLayers(model)
        XCTAssertEqual(dense.count, 24)
        let batch = try TestSupport.PaddedBatch(TestSupport.fixtures.appendingPathComponent("minilm_padded_batch.safetensors"))
        for threads in [1, 2, 3] {
            let output = try model.encode(
                batch.sequences, outputHiddenStates: true, options: ComputeOptions(backend: .onednn, threads: threads))
            var worst: Float = 0
            for (i, state) in output.hiddenStates.enumerated() {
                let d = try batch.maxDifference(state, starts: output.sequenceStarts, reference: "hidden_states.\(i)")
                XCTAssertLessThan(d, 1e-5, "hidden_states.\(i) onednn threads \(threads)")
                worst = max(worst, d)
            }
            print("MiniLM padded batch onednn fp32, \(threads) threads: max |difference| over all layers \(worst)")
            let blas = try model.encode(batch.sequences, options: ComputeOptions(backend: .blas, threads: threads))
            let difference = zip(output.lastHiddenState.values, blas.lastHiddenState.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(difference, 1e-5, "onednn against blas, \(threads) threads")
        }
        for (index, linear) in dense.enumerated() {
            XCTAssertNil(linear.weights.oneDNN.prepared(.fp32), "dense layer \(index): a reordered fp32 copy was made")
        }
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
        // A model loaded with int8 as its default (as `encoder embed --precision int8` loads it) calibrates too,
        // and picks the same channels.
        let int8Model = try EncoderModel(
            folder: try TestSupport.defaultModelFolder(), options: ComputeOptions(backend: .onednn, threads: 2, precision: .int8))
        for (index, (a, b)) in zip(int8Model.layers, model.layers).enumerated() {
            XCTAssertEqual(
                a.feedForward.outputDense.weights.oneDNN.prepared(.int8)?.outlierChannels.map { $0 },
                b.feedForward.outputDense.weights.int8Outliers, "layer \(index)")
        }
    }
}
