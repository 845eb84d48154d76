/// `embeddings`: word + position (+ token type, where the family has them) embeddings, then LayerNorm.
struct Embeddings: @unchecked Sendable {
    /// word_embeddings.weight: (vocab_size, hidden)
    let wordEmbeddings: UnsafePointer<Float>
    /// position_embeddings.weight: (max_position_embeddings, hidden)
    let positionEmbeddings: UnsafePointer<Float>
    /// token_type_embeddings.weight: (type_vocab_size, hidden); `nil` for a family without token types.
    let tokenTypeEmbeddings: UnsafePointer<Float>?
    /// LayerNorm
    let layerNorm: LayerNorm
    let hiddenSize: Int

    static func load(
        _ root: CheckpointScope, _ config: EncoderConfiguration, _ architecture: ArchitectureDescription
    ) throws(EncoderError) -> Embeddings {
        let h = config.hiddenSize
        let words = try root.tensor(architecture.wordEmbeddings + ".weight", shape: [config.vocabSize, h])
        let positions = try root.tensor(architecture.positionEmbeddings + ".weight", shape: [config.maxPositionEmbeddings, h])
        var tokenTypes: UnsafePointer<Float>?
        if let name = architecture.tokenTypeEmbeddings {
            tokenTypes = try root.tensor(name + ".weight", shape: [config.typeVocabSize, h])
        }
        return Embeddings(
            wordEmbeddings: words,
            positionEmbeddings: positions,
            tokenTypeEmbeddings: tokenTypes,
            layerNorm: try LayerNorm.load(root.scope(architecture.embeddingsLayerNorm), size: h, epsilon: config.layerNormEps),
            hiddenSize: h)
    }

    /// workspace.hidden (tokens, hidden) = LayerNorm(word[id] + type[tt] + position[pos]) for every packed token.
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
                if let tokenTypeEmbeddings {
                    let type = tokenTypeEmbeddings + Int(ws.tokenTypes[t]) * h
                    var j = 0
                    while j + w <= h {
                        // Same association as PyTorch: (word + type) + position.
                        let v = (SIMDMath.load(word + j) + SIMDMath.load(type + j)) + SIMDMath.load(position + j)
                        SIMDMath.store(v, out + j)
                        j += w
                    }
                    while j < h { out[j] = (word[j] + type[j]) + position[j]; j += 1 }
                } else {
                    var j = 0
                    while j + w <= h {
                        SIMDMath.store(SIMDMath.load(word + j) + SIMDMath.load(position + j), out + j)
                        j += w
                    }
                    while j < h { out[j] = word[j] + position[j]; j += 1 }
                }
                ElementwiseKernels.layerNormRow(
                    out, n: h, gamma: layerNorm.weight, beta: layerNorm.bias, epsilon: layerNorm.epsilon)
            }
        }
    }
}
