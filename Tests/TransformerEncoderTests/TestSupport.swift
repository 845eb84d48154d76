import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// Paths and helpers shared by the encoder's tests.
enum TestSupport {
    /// The repository root (two folders above this file's folder).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")
    static let tinyBERT = fixtures.appendingPathComponent("tiny-bert")

    /// The default model fetched by `Scripts/setup` (all-MiniLM-L6-v2).
    /// Missing: the test fails when `CI=true` (CI must have run set-up), and is skipped otherwise.
    static func defaultModelFolder() throws -> URL {
        let folder = ProcessInfo.processInfo.environment["ENCODER_MODEL"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            return folder
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("default model missing at \(folder.path): run Scripts/setup")
            throw XCTSkip("model missing (failed above)")
        }
        throw XCTSkip("default model missing at \(folder.path): run Scripts/setup")
    }

    /// One line of `minilm_sentences.jsonl`.
    struct ReferenceSentence: Decodable {
        let text: String
        let input_ids: [Int32]
        let token_type_ids: [Int32]
        let untruncated_length: Int
        let embedding: [Float]
        let pooled_unnormalized: [Float]
    }

    static func referenceSentences() throws -> [ReferenceSentence] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("minilm_sentences.jsonl"))
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(ReferenceSentence.self, from: Data($0.utf8))
        }
    }

    /// A padded reference batch (`input_ids`, `attention_mask`, `token_type_ids`, hidden states) read back
    /// as the sequences of real tokens.
    struct PaddedBatch {
        let file: SafeTensorsFile
        let sequences: [TokenSequence]
        let paddedLength: Int

        init(_ url: URL) throws {
            file = try SafeTensorsFile(contentsOf: url)
            let ids = try file.intTensor("input_ids")
            let mask = try file.intTensor("attention_mask")
            let types = try file.intTensor("token_type_ids")
            let (batch, length) = (ids.shape[0], ids.shape[1])
            paddedLength = length
            sequences = (0..<batch).map { b in
                let real = (0..<length).filter { mask.values[b * length + $0] != 0 }
                // Real tokens come first (right padding).
                return TokenSequence(
                    inputIDs: real.map { Int32(ids.values[b * length + $0]) },
                    tokenTypeIDs: real.map { Int32(types.values[b * length + $0]) })
            }
        }

        /// Max |difference| between `output` rows and the reference tensor `name` (batch, padded, hidden) on real tokens.
        func maxDifference(_ output: Matrix, starts: [Int], reference name: String) throws -> Float {
            let reference = try file.floatTensor(name).toArray()
            let h = output.columns
            var worst: Float = 0
            for (b, sequence) in sequences.enumerated() {
                for t in 0..<sequence.count {
                    for j in 0..<h {
                        let ours = output.values[(starts[b] + t) * h + j]
                        let theirs = reference[(b * paddedLength + t) * h + j]
                        worst = max(worst, abs(ours - theirs))
                    }
                }
            }
            return worst
        }
    }
}

/// A small deterministic random source for tests.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func matrix(_ rows: Int, _ columns: Int) -> Matrix {
        try! Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Float.random(in: -1..<1, using: &self) })
    }
}
