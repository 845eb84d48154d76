import Foundation
import SafeTensors

/// Where a family's `*ForSequenceClassification` head keeps its weights and what it computes on the
/// first token's (`[CLS]` / `<s>`) last hidden state: `logits = output(activation(dense(x)))`.
///
/// This is data per model family, beside the family's encoder description: key names are the checkpoint's
/// own, as Hugging Face `transformers` writes them.
public struct ClassificationHeadLayout: Sendable, Equatable {
    /// The nonlinearity between the two dense layers.
    public enum Activation: String, Sendable, Equatable {
        /// `tanh`: BERT's pooler, RoBERTa's classification head.
        case tanh
        /// `relu`: DistilBERT's `pre_classifier`.
        case relu
    }

    /// The Hugging Face architecture (`architectures[0]` in `config.json`).
    public var architecture: String
    /// The first dense layer, (hidden, hidden): `bert.pooler.dense`, `classifier.dense`, `pre_classifier`.
    public var dense: String
    /// Applied after ``dense``.
    public var activation: Activation
    /// The output projection, (num_labels, hidden): `classifier`, `classifier.out_proj`.
    public var output: String

    /// `BertForSequenceClassification`: `bert.pooler.dense` + tanh on `[CLS]`, then `classifier`.
    public static let bert = ClassificationHeadLayout(
        architecture: "BertForSequenceClassification", dense: "bert.pooler.dense", activation: .tanh,
        output: "classifier")
    /// `RobertaForSequenceClassification`: `classifier.dense` + tanh + `classifier.out_proj` on `<s>`.
    public static let roberta = ClassificationHeadLayout(
        architecture: "RobertaForSequenceClassification", dense: "classifier.dense", activation: .tanh,
        output: "classifier.out_proj")
    /// `XLMRobertaForSequenceClassification`: the same head as RoBERTa's.
    public static let xlmRoberta = ClassificationHeadLayout(
        architecture: "XLMRobertaForSequenceClassification", dense: "classifier.dense", activation: .tanh,
        output: "classifier.out_proj")
    /// `DistilBertForSequenceClassification`: `pre_classifier` + ReLU, then `classifier`.
    public static let distilBert = ClassificationHeadLayout(
        architecture: "DistilBertForSequenceClassification", dense: "pre_classifier", activation: .relu,
        output: "classifier")

    /// `MPNetForSequenceClassification`: `classifier.dense` + tanh + `classifier.out_proj` on `<s>`.
    public static let mpnet = ClassificationHeadLayout(
        architecture: "MPNetForSequenceClassification", dense: "classifier.dense", activation: .tanh,
        output: "classifier.out_proj")

    /// Every head this library reads.
    public static let all: [ClassificationHeadLayout] = [bert, roberta, xlmRoberta, distilBert, mpnet]

    /// The head of a `config.json`'s architecture, `nil` for any other.
    public static func forArchitecture(_ name: String) -> ClassificationHeadLayout? {
        all.first { $0.architecture == name }
    }
}

extension EncoderFamily {
    /// The family's `*ForSequenceClassification` head: the one more piece a cross-encoder adds to the family's
    /// ``ArchitectureDescription``.
    public var classificationHead: ClassificationHeadLayout {
        switch self {
        case .bert: return .bert
        case .roberta: return .roberta
        case .xlmRoberta: return .xlmRoberta
        case .distilbert: return .distilBert
        case .mpnet: return .mpnet
        }
    }
}

/// A loaded sequence-classification head: `logits = W₂·act(W₁·x + b₁) + b₂` on each sequence's first token.
///
/// The weights are small ((hidden, hidden) and (labels, hidden)) and copied out of the checkpoint.
public struct ClassificationHead: Sendable {
    /// Key names and activation.
    public let layout: ClassificationHeadLayout
    /// Width of the hidden state the head reads.
    public let hiddenSize: Int
    /// Number of logits per sequence (`num_labels`).
    public let labelCount: Int

    /// W₁: (hidden, hidden), as stored (out, in).
    private let denseWeight: [Float]
    /// b₁: (hidden)
    private let denseBias: [Float]
    /// W₂: (labels, hidden), as stored (out, in).
    private let outputWeight: [Float]
    /// b₂: (labels)
    private let outputBias: [Float]

    /// Loads the head's four tensors from `file`, checking their shapes against `hiddenSize` and, when the
    /// configuration states it, `labelCount`.
    ///
    /// - Throws: ``EncoderError/checkpoint(_:)`` naming the tensor that is missing or has the wrong shape;
    ///   ``EncoderError/nonFiniteWeight(path:tensor:index:)`` naming a head tensor holding a NaN or infinity;
    ///   ``EncoderError/invalidField(path:field:reason:)`` when `num_labels` / `id2label` in `configPath`
    ///   disagrees with the output tensor's rows (the error names the tensor).
    init(
        layout: ClassificationHeadLayout, file: SafeTensorsFile, hiddenSize: Int,
        labelCount expectedLabels: Int?, labelField: String, configPath: String
    ) throws(EncoderError) {
        self.layout = layout
        self.hiddenSize = hiddenSize
        let outputName = layout.output + ".weight"
        guard let outputInfo = file.info(outputName) else {
            throw .checkpoint(SafeTensorsError(file: file.name, tensor: outputName, kind: .tensorNotFound))
        }
        guard outputInfo.shape.count == 2, outputInfo.shape[1] == hiddenSize, outputInfo.shape[0] >= 1 else {
            let expected = [expectedLabels ?? outputInfo.shape.first ?? 1, hiddenSize]
            throw .checkpoint(SafeTensorsError(
                file: file.name, tensor: outputName, kind: .shapeMismatch(expected: expected, actual: outputInfo.shape)))
        }
        let labels = outputInfo.shape[0]
        if let expectedLabels, expectedLabels != labels {
            throw .invalidField(
                path: configPath, field: labelField,
                reason: "gives \(expectedLabels) labels, but tensor '\(outputName)' has \(labels) rows \(outputInfo.shape)")
        }
        labelCount = labels
        func load(_ name: String, _ shape: [Int]) throws(EncoderError) -> [Float] {
            let values: [Float]
            do {
                values = try file.floatTensor(name, shape: shape).toArray()
            } catch {
                throw .checkpoint(error)
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteWeight(path: file.name, tensor: name, index: bad)
            }
            return values
        }
        denseWeight = try load(layout.dense + ".weight", [hiddenSize, hiddenSize])
        denseBias = try load(layout.dense + ".bias", [hiddenSize])
        outputWeight = try load(outputName, [labels, hiddenSize])
        outputBias = try load(layout.output + ".bias", [labels])
    }

    /// Logits of `rows` first-token hidden states.
    ///
    /// - Parameters:
    ///   - firstTokens: (rows, hidden): each sequence's `[CLS]` / `<s>` last hidden state.
    ///   - scratch: at least rows × hidden floats.
    ///   - logits: (rows, labels), written.
    func forward(
        _ firstTokens: UnsafePointer<Float>, rows: Int, scratch: UnsafeMutablePointer<Float>,
        into logits: UnsafeMutablePointer<Float>, backend: ComputeBackend
    ) {
        let h = hiddenSize, labels = labelCount
        denseWeight.withUnsafeBufferPointer { w in
            // scratch: (rows, h) = x · W₁ᵀ
            backend.gemm(
                transposeA: .none, transposeB: .transposed, m: rows, n: h, k: h,
                alpha: 1, a: firstTokens, lda: h, b: w.baseAddress, ldb: h, beta: 0, c: scratch, ldc: h)
        }
        for r in 0..<rows {
            let row = scratch + r * h
            switch layout.activation {
            case .tanh: for j in 0..<h { row[j] = Foundation.tanh(row[j] + denseBias[j]) }
            case .relu: for j in 0..<h { row[j] = max(0, row[j] + denseBias[j]) }
            }
        }
        outputWeight.withUnsafeBufferPointer { w in
            backend.gemm(
                transposeA: .none, transposeB: .transposed, m: rows, n: labels, k: h,
                alpha: 1, a: scratch, lda: h, b: w.baseAddress, ldb: h, beta: 0, c: logits, ldc: labels)
        }
        for r in 0..<rows {
            for j in 0..<labels { logits[r * labels + j] += outputBias[j] }
        }
    }
}
