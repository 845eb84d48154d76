/// A dense layer `y = x·Wᵀ + b`, as Hugging Face's `nn.Linear` (`weight`: (out, in), `bias`: (out)).
struct Linear: @unchecked Sendable {
    /// (outFeatures, inFeatures), row-major, as stored in the checkpoint.
    let weight: UnsafePointer<Float>
    /// (outFeatures)
    let bias: UnsafePointer<Float>
    let inFeatures: Int
    let outFeatures: Int

    /// Loads `<scope>.weight` and `<scope>.bias`.
    static func load(_ scope: CheckpointScope, in inFeatures: Int, out outFeatures: Int) throws(EncoderError) -> Linear {
        Linear(
            weight: try scope.tensor("weight", shape: [outFeatures, inFeatures]),
            bias: try scope.tensor("bias", shape: [outFeatures]),
            inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// Several layers with the same input stacked into one, so that one GEMM computes them all
    /// (the attention's query, key and value). Output columns follow the order of `parts`.
    static func stacked(_ parts: [Linear], storage: WeightStorage) -> Linear {
        let inFeatures = parts[0].inFeatures
        let outFeatures = parts.reduce(0) { $0 + $1.outFeatures }
        let weight = storage.allocate(outFeatures * inFeatures)
        let bias = storage.allocate(outFeatures)
        var row = 0
        for part in parts {
            precondition(part.inFeatures == inFeatures)
            (weight.baseAddress! + row * inFeatures).update(from: part.weight, count: part.outFeatures * inFeatures)
            (bias.baseAddress! + row).update(from: part.bias, count: part.outFeatures)
            row += part.outFeatures
        }
        return Linear(
            weight: UnsafePointer(weight.baseAddress!), bias: UnsafePointer(bias.baseAddress!),
            inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// y = x·Wᵀ (bias NOT added: the caller fuses it into the epilogue that follows).
    ///
    /// x: (rows, inFeatures), y: (rows, outFeatures). The GEMM is split across the context's threads:
    /// by rows when there are enough of them, otherwise by output columns. `epilogue(rows)` runs on the
    /// rows a thread has just finished while they are still in cache (or, for a column split, afterwards).
    func forward(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        context: ForwardContext, epilogue: (Range<Int>) -> Void
    ) {
        let backend = context.backend
        // Below ~2M multiply-adds a thread hand-off costs more than the second core gives back.
        let threads = rows * outFeatures * inFeatures < Parallel.minimumParallelWork ? 1 : context.threads
        if threads == 1 || rows >= 32 * threads {
            Parallel.forEachChunk(count: rows, threads: threads) { range in
                backend.gemm(
                    transposeA: .none, transposeB: .transposed,
                    m: range.count, n: outFeatures, k: inFeatures,
                    alpha: 1, a: x + range.lowerBound * inFeatures, lda: inFeatures,
                    b: weight, ldb: inFeatures,
                    beta: 0, c: y + range.lowerBound * outFeatures, ldc: outFeatures)
                epilogue(range)
            }
        } else {
            Parallel.forEachChunk(count: outFeatures, threads: threads, minimumChunk: 64) { columns in
                backend.gemm(
                    transposeA: .none, transposeB: .transposed,
                    m: rows, n: columns.count, k: inFeatures,
                    alpha: 1, a: x, lda: inFeatures,
                    b: weight + columns.lowerBound * inFeatures, ldb: inFeatures,
                    beta: 0, c: y + columns.lowerBound, ldc: outFeatures)
            }
            Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: 64, epilogue)
        }
    }
}

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
