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

    /// Calls `body` on the layer's dense layers in the order a pass runs them: query|key|value, attention output,
    /// FFN input, FFN output (no array made: this runs before every pass).
    func forEachDense(_ body: (Linear) throws(EncoderError) -> Void) throws(EncoderError) {
        try body(attention.queryKeyValue)
        try body(attention.outputDense)
        try body(feedForward.intermediateDense)
        try body(feedForward.outputDense)
    }

    /// workspace.hidden (tokens, hidden) → the layer's output, in place.
    func forward(_ context: ForwardContext) {
        attention.forward(context)
        feedForward.forward(context)
    }
}
