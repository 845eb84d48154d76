/// The number format of the dense layers' products (``Linear``). Everything else — attention scores, softmax,
/// LayerNorm, activations, pooling — stays fp32 in every precision.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// fp32 weights and activations: within 1e-5 of PyTorch.
    case fp32
    /// bf16 weights and activations, fp32 accumulation and output (oneDNN only; needs AVX512-BF16).
    case bf16
    /// s8 weights with a symmetric scale per output channel (computed at load), u8 activations with a scale and
    /// a zero point per row (asymmetric, computed per call), s32 accumulation, fp32 output with the zero points
    /// taken out through the weights' column sums, for the dense layers whose input is not a LayerNorm's output
    /// (attention output, FFN output); the others (query/key/value, FFN input) run in bf16 (oneDNN only; needs
    /// VNNI and AVX512-BF16).
    case int8
}
