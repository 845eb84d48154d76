/// Hugging Face's `LayerNorm` module: `weight` (gamma) and `bias` (beta), both (size).
struct LayerNorm: @unchecked Sendable {
    let weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
    let size: Int
    let epsilon: Float

    static func load(_ scope: CheckpointScope, size: Int, epsilon: Float) throws(EncoderError) -> LayerNorm {
        LayerNorm(
            weight: try scope.tensor("weight", shape: [size]),
            bias: try scope.tensor("bias", shape: [size]),
            size: size, epsilon: epsilon)
    }
}
