/// The feed-forward half of a layer: `intermediate` (dense + activation) and `output` (dense, residual,
/// LayerNorm). Module names from the ``ArchitectureDescription`` (BERT's `intermediate.dense`,
/// `output.dense`, `output.LayerNorm`; DistilBERT's `ffn.lin1`, `ffn.lin2`, `output_layer_norm`).
struct FeedForward: @unchecked Sendable {
    /// intermediate.dense: weight (intermediate, hidden) in the checkpoint, kept as Wᵀ (hidden, intermediate)
    let intermediateDense: Linear
    /// output.dense: weight (hidden, intermediate) in the checkpoint, kept as Wᵀ (intermediate, hidden)
    let outputDense: Linear
    /// output.LayerNorm
    let outputLayerNorm: LayerNorm
    let activation: Activation

    /// Input channels of `output.dense` that ``Precision/int8`` multiplies in fp32 instead of 8 bits, per layer
    /// (chosen by ``EncoderModel``'s int8 calibration).
    static let int8OutlierCount = 8

    static func load(
        _ layer: CheckpointScope, _ config: EncoderConfiguration, _ architecture: ArchitectureDescription
    ) throws(EncoderError) -> FeedForward {
        let h = config.hiddenSize
        let i = config.intermediateSize
        return FeedForward(
            intermediateDense: try Linear.load(
                layer.scope(architecture.intermediate), in: h, out: i, readsLayerNormOutput: true),
            outputDense: try Linear.load(layer.scope(architecture.output), in: i, out: h, readsLayerNormOutput: false),
            outputLayerNorm: try LayerNorm.load(
                layer.scope(architecture.outputLayerNorm), size: h, epsilon: config.layerNormEps),
            activation: config.hiddenAct)
    }

    /// workspace.hidden (tokens, hidden) = LayerNorm(hidden + act(hidden·W1ᵀ + b1)·W2ᵀ + b2),
    /// in blocks of at most ``Workspace/feedForwardBlock`` rows.
    func forward(_ context: ForwardContext) {
        let ws = context.workspace
        let h = outputDense.outFeatures
        let i = intermediateDense.outFeatures
        // Blocks of rows, so the (rows, intermediate) activations never exceed one block: a big batch
        // needs a quarter of the memory, and each block's activations are still warm for the second GEMM.
        for start in stride(from: 0, to: context.tokens, by: Workspace.feedForwardBlock) {
            let rows = min(Workspace.feedForwardBlock, context.tokens - start)
            let hidden = ws.hidden + start * h
            // `intermediate` shares memory with attention's `context` (free now); `projection` shares memory
            // with `qkv` (free once attention has read it): see ``Workspace``.
            let projection = ws.projection + start * h
            intermediateDense.forward(hidden, rows: rows, into: ws.intermediate, context: context) { block in
                ElementwiseKernels.addBiasActivate(
                    ws.intermediate + block.lowerBound * i, rows: block.count, n: i,
                    bias: intermediateDense.bias, activation: activation)
                if let maxima = context.feedForwardMaxima {   // calibration: one thread
                    ElementwiseKernels.updateColumnMaxima(
                        maxima, of: ws.intermediate + block.lowerBound * i, rows: block.count, n: i)
                }
            }
            outputDense.forward(ws.intermediate, rows: rows, into: projection, context: context) { block in
                let offset = block.lowerBound * h
                ElementwiseKernels.addBiasResidualLayerNorm(
                    hidden + offset, projection + offset, rows: block.count, n: h,
                    bias: outputDense.bias, gamma: outputLayerNorm.weight, beta: outputLayerNorm.bias,
                    epsilon: outputLayerNorm.epsilon)
            }
        }
    }
}
