/// The feed-forward activation, by its Hugging Face `hidden_act` name.
public enum Activation: String, Sendable, CaseIterable, Codable {
    /// Exact GELU: x·½·(1 + erf(x/√2)) (`gelu`).
    case gelu
    /// Tanh approximation of GELU (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh = "gelu_new"
    /// max(0, x) (`relu`).
    case relu
    /// x·sigmoid(x) (`silu`, also `swish`).
    case silu

    /// Reads a `hidden_act` value from `config.json`; `nil` when unsupported.
    public init?(huggingFaceName name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        default: return nil
        }
    }
}
