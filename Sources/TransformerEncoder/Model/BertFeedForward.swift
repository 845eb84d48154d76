/// `intermediate` (dense + activation) and `output` (dense, residual, LayerNorm) of a BERT layer.
struct BertFeedForward: @unchecked Sendable {
    /// intermediate.dense: (intermediate, hidden)
    let intermediateDense: Linear
    /// output.dense: (hidden, intermediate)
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

    /// workspace.hidden (tokens, hidden) = LayerNorm(hidden + act(hidden·W1ᵀ + b1)·W2ᵀ + b2).
    func forward(_ context: ForwardContext) {
        let ws = context.workspace
        let h = outputDense.outFeatures
        let i = intermediateDense.outFeatures
        intermediateDense.forward(ws.hidden, rows: context.tokens, into: ws.intermediate, context: context) { rows in
            ElementwiseKernels.addBiasActivate(
                ws.intermediate + rows.lowerBound * i, rows: rows.count, n: i,
                bias: intermediateDense.bias, activation: activation)
        }
        outputDense.forward(ws.intermediate, rows: context.tokens, into: ws.projection, context: context) { rows in
            let offset = rows.lowerBound * h
            ElementwiseKernels.addBiasResidualLayerNorm(
                ws.hidden + offset, ws.projection + offset, rows: rows.count, n: h,
                bias: outputDense.bias, gamma: outputLayerNorm.weight, beta: outputLayerNorm.bias,
                epsilon: outputLayerNorm.epsilon)
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
