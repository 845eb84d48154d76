/// `intermediate` (dense + activation) and `output` (dense, residual, LayerNorm) of a BERT layer.
struct BertFeedForward: @unchecked Sendable {
    /// intermediate.dense: weight (intermediate, hidden) in the checkpoint, kept as Wᵀ (hidden, intermediate)
    let intermediateDense: Linear
    /// output.dense: weight (hidden, intermediate) in the checkpoint, kept as Wᵀ (intermediate, hidden)
    let outputDense: Linear
    /// output.LayerNorm
    let outputLayerNorm: LayerNorm
    let activation: Activation

    static func load(_ scope: CheckpointScope, _ config: BertConfiguration) throws(EncoderError) -> BertFeedForward {
        let h = config.hiddenSize
        let i = config.intermediateSize
        return BertFeedForward(
            intermediateDense: try Linear.load(scope.scope("intermediate.dense"), in: h, out: i),
            outputDense: try Linear.load(scope.scope("output.dense"), in: i, out: h),
            outputLayerNorm: try LayerNorm.load(scope.scope("output.LayerNorm"), size: h, epsilon: config.layerNormEps),
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
            let projection = ws.projection + start * h
            intermediateDense.forward(hidden, rows: rows, into: ws.intermediate, context: context) { block in
                ElementwiseKernels.addBiasActivate(
                    ws.intermediate + block.lowerBound * i, rows: block.count, n: i,
                    bias: intermediateDense.bias, activation: activation)
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

/// `encoder.layer.N`: attention then feed-forward.
struct BertLayer: Sendable {
    let attention: BertAttention
    let feedForward: BertFeedForward

    static func load(_ scope: CheckpointScope, _ config: BertConfiguration) throws(EncoderError) -> BertLayer {
        BertLayer(
            attention: try BertAttention.load(scope.scope("attention"), config),
            feedForward: try BertFeedForward.load(scope, config))
    }

    func forward(_ context: ForwardContext) {
        attention.forward(context)
        feedForward.forward(context)
    }
}
