/// One encoder layer (`encoder.layer.N`, DistilBERT's `transformer.layer.N`): self-attention then
/// feed-forward, each ending in a residual LayerNorm.
struct EncoderLayer: Sendable {
    let attention: SelfAttention
    let feedForward: FeedForward

    /// `scope` is the layer's; the module names inside it come from `architecture`.
    static func load(
        _ scope: CheckpointScope, _ config: EncoderConfiguration, _ architecture: ArchitectureDescription
    ) throws(EncoderError) -> EncoderLayer {
        EncoderLayer(
            attention: try SelfAttention.load(scope, config, architecture),
            feedForward: try FeedForward.load(scope, config, architecture))
    }

    /// workspace.hidden (tokens, hidden) → the layer's output, in place.
    func forward(_ context: ForwardContext) {
        attention.forward(context)
        feedForward.forward(context)
    }
}
