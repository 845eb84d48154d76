import Foundation
import SafeTensors
import XCTest
import EncoderTestSupport
@testable import TransformerEncoder

/// all-mpnet-base-v2 with its real weights (fetched by `Scripts/setup --with-mpnet`) against PyTorch: every
/// layer's hidden states (first 64 columns) and the whole last hidden state of a padded batch of 4 texts
/// (Tests/Fixtures/families/all-mpnet-base-v2.safetensors, from Scripts/make_family_fixtures.py), within 1e-5
/// on real tokens, on both backends.
final class MPNetParityTests: XCTestCase {
    /// models/all-mpnet-base-v2. Missing: the test fails when `CI=true` (CI runs Scripts/test, which fetches
    /// it), and is skipped otherwise.
    static func modelFolder() throws -> URL {
        try TestModel.folder(named: "all-mpnet-base-v2", setup: "Scripts/setup --with-mpnet")
    }

    func testEveryLayerAgainstPyTorch() throws {
        let model = try EncoderModel(folder: try Self.modelFolder())
        XCTAssertEqual(model.configuration.family, .mpnet)
        XCTAssertEqual(model.configuration.maxSequenceLength, 512)
        let reference = try SafeTensorsFile(
            contentsOf: FamilyParityTests.families.appendingPathComponent("all-mpnet-base-v2.safetensors"))
        let batch = try TestSupport.PaddedBatch(FamilyParityTests.families.appendingPathComponent("all-mpnet-base-v2.safetensors"))
        XCTAssertEqual(batch.sequences.map(\.count), [9, 20, 3, 21])
        for backend in ComputeBackend.allCases {
            let output = try model.encode(batch.sequences, outputHiddenStates: true, options: ComputeOptions(backend: backend))
            XCTAssertEqual(output.hiddenStates.count, 13)
            var report: [String] = []
            for (layer, state) in output.hiddenStates.enumerated() {
                let expected = try reference.floatTensor("hidden_states.\(layer).columns_0_64").toArray()
                var worst: Float = 0
                for (b, sequence) in batch.sequences.enumerated() {
                    for t in 0..<sequence.count {
                        for j in 0..<64 {
                            let ours = state[output.sequenceStarts[b] + t, j]
                            worst = max(worst, abs(ours - expected[(b * batch.paddedLength + t) * 64 + j]))
                        }
                    }
                }
                XCTAssertLessThan(worst, 1e-5, "hidden_states.\(layer) \(backend)")
                report.append(String(format: "%.1e", worst))
            }
            let last = try batch.maxDifference(output.lastHiddenState, starts: output.sequenceStarts, reference: "last_hidden_state")
            XCTAssertLessThan(last, 1e-5, "last_hidden_state \(backend)")
            print("all-mpnet-base-v2 \(backend): max |difference| per layer (64 columns) \(report.joined(separator: " ")); last hidden state (768 columns) \(last)")
        }
    }
}
