import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// Every encoder family against PyTorch: the tiny random-weight checkpoints of Tests/Fixtures/families
/// (written by Scripts/make_family_fixtures.py), every layer's hidden states of a padded batch with sequences
/// of length 1, a few, and the family's position limit, on both backends, within 1e-5 on real tokens.
final class FamilyParityTests: XCTestCase {
    static let families = TestSupport.fixtures.appendingPathComponent("families")

    /// Folder name, expected family, whether its keys carry the family prefix, whether a real token equals
    /// the padding id (Hugging Face gives it the padding position; so must we).
    static let fixtures: [(name: String, family: EncoderFamily, prefixed: Bool, padInside: Bool)] = [
        ("bert-mlm", .bert, true, false),
        ("roberta", .roberta, false, true),
        ("xlm-roberta-mlm", .xlmRoberta, true, true),
        ("distilbert", .distilbert, false, false),
        ("mpnet", .mpnet, false, true),
        ("mpnet-mlm", .mpnet, true, false),
    ]

    func testEveryFamilyEveryLayerOnBothBackends() throws {
        for fixture in Self.fixtures {
            let folder = Self.families.appendingPathComponent(fixture.name)
            let model = try EncoderModel(folder: folder)
            XCTAssertEqual(model.configuration.family, fixture.family, fixture.name)
            let names = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("model.safetensors")).tensorNames
            let prefix = fixture.family.architecture.rootPrefix
            XCTAssertEqual(names.contains { $0.hasPrefix(prefix + "embeddings.") }, fixture.prefixed, fixture.name)
            let batch = try TestSupport.PaddedBatch(folder.appendingPathComponent("expected.safetensors"))
            XCTAssertTrue(batch.sequences.contains { $0.count == 1 }, fixture.name)
            XCTAssertTrue(batch.sequences.contains { $0.count == model.configuration.maxSequenceLength }, fixture.name)
            let pad = Int32(model.configuration.padTokenID)
            XCTAssertEqual(batch.sequences.contains { $0.inputIDs.contains(pad) }, fixture.padInside, fixture.name)
            for backend in ComputeBackend.allCases {
                for threads in [1, 2] {
                    let output = try model.encode(
                        batch.sequences, outputHiddenStates: true, options: ComputeOptions(backend: backend, threads: threads))
                    XCTAssertEqual(output.hiddenStates.count, model.configuration.numHiddenLayers + 1)
                    var report: [String] = []
                    var worst: Float = 0
                    for (i, state) in output.hiddenStates.enumerated() {
                        let d = try batch.maxDifference(state, starts: output.sequenceStarts, reference: "hidden_states.\(i)")
                        XCTAssertLessThan(d, 1e-5, "\(fixture.name) hidden_states.\(i) \(backend) threads \(threads)")
                        report.append(String(format: "%.1e", d))
                        worst = max(worst, d)
                    }
                    let last = try batch.maxDifference(
                        output.lastHiddenState, starts: output.sequenceStarts, reference: "last_hidden_state")
                    XCTAssertLessThan(last, 1e-5, "\(fixture.name) last_hidden_state \(backend)")
                    print("\(fixture.name) (\(fixture.family.rawValue)) \(backend) threads=\(threads): max |difference| per layer \(report.joined(separator: " ")), overall \(max(worst, last))")
                }
            }
        }
    }

    /// The MPNet bucket of every relative position −599 … 599 equals Hugging Face's `relative_position_bucket`.
    func testMPNetRelativePositionBucketsMatchHuggingFace() throws {
        let file = try SafeTensorsFile(contentsOf: Self.families.appendingPathComponent("mpnet/expected.safetensors"))
        let expected = try file.intTensor("relative_position_bucket").values
        XCTAssertEqual(expected.count, 1199)
        var mismatches: [String] = []
        for (index, bucket) in expected.enumerated() {
            let r = index - 599
            let ours = RelativePositionBias.bucket(relativePosition: r, buckets: 32, maxDistance: 128)
            if ours != Int(bucket) { mismatches.append("\(r): \(ours) vs \(bucket)") }
        }
        XCTAssertEqual(mismatches, [])
        XCTAssertEqual(Set(expected).count, 31)  // bucket 16 (distance 0 to the right) never occurs
    }

    /// What each family's config.json says, read through its description.
    func testConfigurationsReadThroughTheDescription() throws {
        func config(_ name: String) throws -> EncoderConfiguration {
            try EncoderConfiguration(contentsOf: Self.families.appendingPathComponent("\(name)/config.json"))
        }
        let distil = try config("distilbert")
        XCTAssertEqual(
            [distil.hiddenSize, distil.numHiddenLayers, distil.numAttentionHeads, distil.intermediateSize], [32, 2, 4, 64])
        XCTAssertEqual(distil.layerNormEps, 1e-12)
        XCTAssertFalse(distil.usesTokenTypes)
        XCTAssertNil(distil.positionPaddingIndex)
        XCTAssertEqual(distil.maxSequenceLength, 40)

        let roberta = try config("roberta")
        XCTAssertEqual(roberta.positionPaddingIndex, 1)
        XCTAssertEqual(roberta.maxSequenceLength, 40)  // 42 − 1 − 1
        XCTAssertEqual(roberta.typeVocabSize, 1)
        XCTAssertFalse(roberta.usesTokenTypes)
        XCTAssertEqual(roberta.layerNormEps, 1e-5)

        let mpnet = try config("mpnet")
        XCTAssertEqual(mpnet.relativeAttentionNumBuckets, 32)
        XCTAssertEqual(mpnet.maxSequenceLength, 158)  // 160 − 1 − 1
        XCTAssertFalse(mpnet.usesTokenTypes)

        let bert = try config("bert-mlm")
        XCTAssertNil(bert.positionPaddingIndex)
        XCTAssertEqual(bert.maxSequenceLength, 40)
    }

    /// One past the usable length is refused with the reason; families whose Hugging Face tokenizers return no
    /// token type ids ignore those a caller passes (RoBERTa's type table has one row; 1 is not refused).
    func testPositionLimitAndTokenTypes() throws {
        let roberta = try EncoderModel(folder: Self.families.appendingPathComponent("roberta"))
        let tooLong = TokenSequence(inputIDs: [Int32](repeating: 7, count: 41))
        XCTAssertThrowsError(try roberta.encode([tooLong])) { error in
            XCTAssertEqual(
                error as? EncoderError,
                .invalidInput(
                    sequence: 0, position: nil,
                    reason: "41 tokens is longer than the 40 positions of max_position_embeddings 42 after padding index 1"))
        }
        let distil = try EncoderModel(folder: Self.families.appendingPathComponent("distilbert"))
        let plain = try distil.encode([TokenSequence(inputIDs: [2, 10, 11, 3])])
        let typed = try distil.encode([TokenSequence(inputIDs: [2, 10, 11, 3], tokenTypeIDs: [0, 0, 1, 1])])
        XCTAssertEqual(plain.lastHiddenState.values, typed.lastHiddenState.values)
        let robertaPlain = try roberta.encode([TokenSequence(inputIDs: [0, 10, 11, 2])])
        let robertaTyped = try roberta.encode([TokenSequence(inputIDs: [0, 10, 11, 2], tokenTypeIDs: [0, 0, 1, 1])])
        XCTAssertEqual(robertaPlain.lastHiddenState.values, robertaTyped.lastHiddenState.values)
    }

    func testUnsupportedModelTypeNamesTypeFileAndSupportedList() throws {
        let folder = try ScratchModelFolder(copying: Self.families.appendingPathComponent("roberta"))
        defer { folder.remove() }
        try folder.rewriteConfig { $0["model_type"] = "deberta-v2" }
        XCTAssertThrowsError(try EncoderModel(folder: folder.url)) { error in
            let message = (error as? EncoderError)?.description ?? ""
            XCTAssertEqual(
                message,
                "\(folder.config.path): unsupported model_type 'deberta-v2' (supported: bert, roberta, xlm-roberta, distilbert, mpnet)")
        }
    }

    func testPyTorchOnlyFolderSaysHowToConvert() throws {
        let folder = try ScratchModelFolder(copying: Self.families.appendingPathComponent("distilbert"))
        defer { folder.remove() }
        try FileManager.default.moveItem(at: folder.checkpoint, to: folder.url.appendingPathComponent("pytorch_model.bin"))
        XCTAssertThrowsError(try EncoderModel(folder: folder.url)) { error in
            guard case let .unreadableFile(path, reason) = error as? EncoderError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, folder.checkpoint.path)
            XCTAssertTrue(reason.contains("only pytorch_model.bin"), reason)
            XCTAssertTrue(reason.contains("save_pretrained('\(folder.url.path)', safe_serialization=True)"), reason)
        }
    }
}
