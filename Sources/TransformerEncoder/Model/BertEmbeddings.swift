/// `embeddings`: word + absolute position + token type embeddings, then LayerNorm.
struct BertEmbeddings: @unchecked Sendable {
    /// word_embeddings.weight: (vocab_size, hidden)
    let wordEmbeddings: UnsafePointer<Float>
    /// position_embeddings.weight: (max_position_embeddings, hidden)
    let positionEmbeddings: UnsafePointer<Float>
    /// token_type_embeddings.weight: (type_vocab_size, hidden)
    let tokenTypeEmbeddings: UnsafePointer<Float>
    /// LayerNorm
    let layerNorm: LayerNorm
    let hiddenSize: Int

    static func load(_ scope: CheckpointScope, _ config: BertConfiguration) throws(EncoderError) -> BertEmbeddings {
        let h = config.hiddenSize
        return BertEmbeddings(
            wordEmbeddings: try scope.tensor("word_embeddings.weight", shape: [config.vocabSize, h]),
            positionEmbeddings: try scope.tensor("position_embeddings.weight", shape: [config.maxPositionEmbeddings, h]),
            tokenTypeEmbeddings: try scope.tensor("token_type_embeddings.weight", shape: [config.typeVocabSize, h]),
            layerNorm: try LayerNorm.load(scope.scope("LayerNorm"), size: h, epsilon: config.layerNormEps),
            hiddenSize: h)
    }

    /// workspace.hidden (tokens, hidden) = LayerNorm(word[id] + position[pos] + type[tt]) for every packed token.
    /// Ids, types and positions come from the workspace and were validated against the configuration.
    func forward(_ context: ForwardContext) {
        let ws = context.workspace
        let h = hiddenSize
        let w = SIMDMath.width
        Parallel.forEachChunk(count: context.tokens, threads: context.threads, minimumChunk: 16) { range in
            for t in range {
                let out = ws.hidden + t * h
                let word = wordEmbeddings + Int(ws.tokenIDs[t]) * h
                let position = positionEmbeddings + Int(ws.positions[t]) * h
                let type = tokenTypeEmbeddings + Int(ws.tokenTypes[t]) * h
                var j = 0
                while j + w <= h {
                    // Same association as PyTorch: (word + type) + position.
                    let v = (SIMDMath.load(word + j) + SIMDMath.load(type + j)) + SIMDMath.load(position + j)
                    SIMDMath.store(v, out + j)
                    j += w
                }
                while j < h { out[j] = (word[j] + type[j]) + position[j]; j += 1 }
                ElementwiseKernels.layerNormRow(
                    out, n: h, gamma: layerNorm.weight, beta: layerNorm.bias, epsilon: layerNorm.epsilon)
            }
        }
    }
}
