import Foundation

/// The attention half of a layer: multi-head self-attention (BERT's `attention.self.query|key|value`) followed
/// by the output projection, residual and LayerNorm (`attention.output.dense`, `attention.output.LayerNorm`).
/// Module names come from the ``ArchitectureDescription`` (DistilBERT's `attention.q_lin…out_lin` and
/// `sa_layer_norm`, MPNet's `attention.attn.q…o` and `attention.LayerNorm`), and so does the optional additive
/// bias on the scores (MPNet's ``RelativePositionBias``).
///
/// Query, key and value are one GEMM over all tokens of the batch against their stacked weights.
/// Attention itself runs per (sequence, head) over the sequence's true length: there is no padding in
/// the packed batch, so the padding mask is the sequence lengths, and no row can be all-masked.
struct SelfAttention: @unchecked Sendable {
    /// query | key | value stacked: Wᵀ (hidden, 3·hidden), bias (3·hidden).
    let queryKeyValue: Linear
    /// attention.output.dense: (hidden, hidden)
    let outputDense: Linear
    /// attention.output.LayerNorm
    let outputLayerNorm: LayerNorm
    let hiddenSize: Int
    let headCount: Int

    static func load(
        _ layer: CheckpointScope, _ config: EncoderConfiguration, _ architecture: ArchitectureDescription
    ) throws(EncoderError) -> SelfAttention {
        let h = config.hiddenSize
        let queryKeyValue = try Linear.stacked(
            [layer.scope(architecture.query), layer.scope(architecture.key), layer.scope(architecture.value)],
            in: h, out: h, readsLayerNormOutput: true)
        return SelfAttention(
            queryKeyValue: queryKeyValue,
            outputDense: try Linear.load(
                layer.scope(architecture.attentionOutput), in: h, out: h, readsLayerNormOutput: false),
            outputLayerNorm: try LayerNorm.load(
                layer.scope(architecture.attentionLayerNorm), size: h, epsilon: config.layerNormEps),
            hiddenSize: h, headCount: config.numAttentionHeads)
    }

    /// workspace.hidden (tokens, hidden) = LayerNorm(hidden + Attention(hidden)·Woᵀ + bo), with the context's
    /// attention bias (if any) added to the scaled scores.
    func forward(_ context: ForwardContext) {
        let ws = context.workspace
        let h = hiddenSize
        let h3 = 3 * h
        let headSize = h / headCount
        let backend = context.backend

        // qkv (tokens, 3·hidden) = hidden·[Wq; Wk; Wv]ᵀ + [bq; bk; bv]
        queryKeyValue.forward(ws.hidden, rows: context.tokens, into: ws.qkv, context: context) { rows in
            ElementwiseKernels.addBias(ws.qkv + rows.lowerBound * h3, rows: rows.count, n: h3, bias: queryKeyValue.bias)
        }

        // context[s, head] = softmax(Q·Kᵀ / √d + bias) · V, per sequence s and head, over the true length only.
        let scale = 1 / Float(headSize).squareRoot()
        let bias = context.attentionBias
        let starts = context.sequenceStarts
        // Multiply-adds of Q·Kᵀ and P·V over the batch; small batches stay on the calling thread.
        let work = (0..<context.sequenceCount).reduce(0) { total, s in
            let length = starts[s + 1] - starts[s]
            return total + 2 * length * length * h
        }
        let threads = work < Parallel.minimumParallelWork ? 1 : context.threads
        Parallel.forEach(count: context.sequenceCount * headCount, threads: threads) { item, worker in
            let sequence = item / headCount
            let head = item % headCount
            let start = starts[sequence]
            let length = starts[sequence + 1] - start
            guard length > 0 else { return }
            let q = ws.qkv + start * h3 + head * headSize  // (length, headSize), leading dimension 3·hidden
            let k = q + h
            let v = q + 2 * h
            let scores = ws.scores(worker: worker)  // (length, length)
            backend.gemm(
                transposeA: .none, transposeB: .transposed, m: length, n: length, k: headSize,
                alpha: 1, a: q, lda: h3, b: k, ldb: h3, beta: 0, c: scores, ldc: length)
            if let bias {
                // scores = scores / √d + bias[head], then softmax: Hugging Face's order for MPNet.
                ElementwiseKernels.scaleAddBias(
                    scores, rows: length, n: length, ld: length, scale: scale,
                    bias: bias.firstRow(head: head), biasRowStride: -1)
                ElementwiseKernels.softmax(scores, rows: length, n: length, ld: length, scale: 1)
            } else {
                ElementwiseKernels.softmax(scores, rows: length, n: length, ld: length, scale: scale)
            }
            // context shares memory with the feed-forward's `intermediate`, unused while attention runs.
            backend.gemm(
                transposeA: .none, transposeB: .none, m: length, n: headSize, k: length,
                alpha: 1, a: scores, lda: length, b: v, ldb: h3,
                beta: 0, c: ws.context + start * h + head * headSize, ldc: h)
        }

        // hidden = LayerNorm(hidden + context·Woᵀ + bo); projection shares memory with qkv, which every
        // (sequence, head) above has finished reading.
        outputDense.forward(ws.context, rows: context.tokens, into: ws.projection, context: context) { rows in
            let offset = rows.lowerBound * h
            ElementwiseKernels.addBiasResidualLayerNorm(
                ws.hidden + offset, ws.projection + offset, rows: rows.count, n: h,
                bias: outputDense.bias, gamma: outputLayerNorm.weight, beta: outputLayerNorm.bias,
                epsilon: outputLayerNorm.epsilon)
        }
    }
}
