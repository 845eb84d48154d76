import Foundation
import SafeTensors
import XCTest
import EncoderTestSupport
@testable import TransformerEncoder

/// Paths and helpers shared by the encoder's tests.
enum TestSupport {
    static let repositoryRoot = Repository.root
    static let fixtures = Repository.fixtures
    static let tinyBERT = fixtures.appendingPathComponent("tiny-bert")

    /// The default model (``TestModel/defaultFolder()``: `$ENCODER_MODEL` honoured; missing fails under CI=true).
    static func defaultModelFolder() throws -> URL { try TestModel.defaultFolder() }

    typealias ReferenceSentence = EncoderTestSupport.ReferenceSentence

    static func referenceSentences() throws -> [ReferenceSentence] { try ReferenceSentence.all() }

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

/// The package's SplitMix64 under the name these tests used.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    /// A `rows × columns` matrix of values uniform in [-1, 1).
    mutating func matrix(_ rows: Int, _ columns: Int) -> Matrix {
        var matrix = try! Matrix(rows: rows, columns: columns)
        matrix.withUnsafeMutableValues { values in
            for i in values.indices { values[i] = Float.random(in: -1..<1, using: &self) }
        }
        return matrix
    }
}
