import Foundation

/// What a cross-encoder applies to its logits to make scores, as sentence-transformers'
/// `CrossEncoder.activation_fn` (element-wise, before any softmax).
public enum ScoreActivation: String, Sendable, Equatable, CaseIterable {
    /// `torch.nn.Sigmoid`: the default when `num_labels` is 1.
    case sigmoid
    /// `torch.nn.Identity`: the logits as they are; the default for several labels.
    case identity
    /// `torch.nn.Tanh`.
    case tanh
    /// `torch.nn.ReLU`.
    case relu

    /// The activation a dotted PyTorch class path names (`torch.nn.modules.activation.Sigmoid`,
    /// `torch.nn.Sigmoid`, `torch.nn.modules.linear.Identity`…), `nil` for any other class.
    public init?(pytorchPath path: String) {
        guard let name = path.split(separator: ".").last else { return nil }
        switch name {
        case "Sigmoid": self = .sigmoid
        case "Identity": self = .identity
        case "Tanh": self = .tanh
        case "ReLU": self = .relu
        default: return nil
        }
    }

    /// The activation of one logit.
    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .identity: return x
        case .tanh: return Foundation.tanh(x)
        case .relu: return max(0, x)
        }
    }
}

/// Which numbers ``CrossEncoder/predict(_:output:batchSize:options:)`` returns for each pair.
public enum CrossEncoderOutput: Sendable, Equatable {
    /// The model's ``CrossEncoder/activation`` applied to the logits: `CrossEncoder.predict(pairs)`.
    case scores
    /// The activation, then a softmax over the labels when there are several:
    /// `CrossEncoder.predict(pairs, apply_softmax=True)`.
    case softmax
    /// The raw logits of the classification head.
    case logits
}
