/// A dense layer `y = x·Wᵀ + b`, as Hugging Face's `nn.Linear` (`weight`: (out, in), `bias`: (out)).
///
/// The weight is kept transposed, `Wᵀ`: (in, out), so every product is `X·Wᵀ` with both operands as stored
/// (`NoTrans, NoTrans`), which OpenBLAS packs 15–25 % faster than `X·W` transposed when a batch has few
/// tokens (measured at 16 rows; equal from 128 rows up).
struct Linear: @unchecked Sendable {
    /// Wᵀ: (inFeatures, outFeatures): plain fp32 row-major for BLAS and naive, oneDNN's layouts for `.onednn`.
    let weights: DenseWeights
    /// (outFeatures)
    let bias: UnsafePointer<Float>
    let inFeatures: Int
    let outFeatures: Int
    /// Whether the layer's input is a LayerNorm's output (the attention's query/key/value, the FFN's first
    /// layer). Such inputs carry a few outlier channels far larger than the rest, which per-row 8-bit
    /// quantization cannot resolve: in ``Precision/int8`` these layers run in bf16 (see ``precision(for:)``).
    let readsLayerNormOutput: Bool
    /// The precision this layer runs in when a pass asks for `requested`: the int8 recipe quantizes only the
    /// layers whose input is not a LayerNorm's output (attention output, FFN output: 5/12 of the dense
    /// multiply-adds) and runs the others in bf16. Quantizing those too (per-row u8 activations) puts the
    /// worst text's cosine to fp32 at 0.9919 and recall@10 at 0.956 on all-MiniLM-L6-v2, below the gates of
    /// 0.995 and 0.97 (Tests/TransformerEncoderTests/ReducedPrecisionTests.swift, Docs/Benchmarks.md).
    func precision(for requested: Precision) -> Precision {
        requested == .int8 && readsLayerNormOutput ? .bf16 : requested
    }

    /// Makes the oneDNN weights for `precision` (once; later calls return at once). fp32 needs none: it multiplies
    /// the plain `Wᵀ` in place (``forwardOneDNNColumns(_:rows:into:context:epilogue:)``).
    func prepareOneDNN(_ precision: Precision) throws(EncoderError) {
        let precision = self.precision(for: precision)
        guard precision == .fp32 else {
            try weights.prepareOneDNN(precision)
            return
        }
        // The column-block plans a pass on up to every core will use, made now rather than in the first pass.
        if weights.fp32PlansMade.load(ordering: .acquiring) { return }
        let (unit, minimum) = columnUnits
        let units = outFeatures / unit
        var widths = Set<Int>()
        for threads in 1...max(1, Parallel.availableCores) {
            let chunks = Parallel.chunkCount(count: units, threads: threads, minimumChunk: minimum)
            for c in 0..<chunks { widths.insert(Parallel.chunk(c, of: chunks, count: units).count * unit) }
        }
        for width in widths where width > 0 {
            _ = try OneDNNMatmulPlan.columnBlock(k: inFeatures, n: width, stride: outFeatures)
        }
        weights.fp32PlansMade.store(true, ordering: .releasing)
    }

    /// How ``forwardOneDNNColumns(_:rows:into:context:epilogue:)`` splits the columns: in units of 16 (oneDNN's
    /// vector width) when they divide them, at least 64 columns per thread.
    private var columnUnits: (unit: Int, minimumUnits: Int) {
        let unit = outFeatures % 16 == 0 ? 16 : 1
        return (unit, max(1, 64 / unit))
    }

    /// Loads `<scope>.weight` (out, in) and `<scope>.bias` (out).
    static func load(
        _ scope: CheckpointScope, in inFeatures: Int, out outFeatures: Int, readsLayerNormOutput: Bool
    ) throws(EncoderError) -> Linear {
        try stacked([scope], in: inFeatures, out: outFeatures, readsLayerNormOutput: readsLayerNormOutput)
    }

    /// Several layers with the same input, loaded as one, so that one GEMM computes them all (the
    /// attention's query, key and value): each scope's `weight` (out, in) and `bias` (out); output columns
    /// follow the order of `scopes`.
    static func stacked(
        _ scopes: [CheckpointScope], in inFeatures: Int, out outFeatures: Int, readsLayerNormOutput: Bool
    ) throws(EncoderError) -> Linear {
        let storage = scopes[0].storage
        let total = outFeatures * scopes.count
        let dense = DenseWeights(inFeatures: inFeatures, outFeatures: total)
        let weight = dense.plain   // Wᵀ: (in, total)
        let bias = storage.allocate(total)
        for (part, scope) in scopes.enumerated() {
            let column = part * outFeatures
            try scope.withTensor("weight", shape: [outFeatures, inFeatures]) { w in
                // w: (out, in) → columns column..<column+out of Wᵀ: (in, total), in 32×32 tiles.
                let tile = 32
                for o0 in stride(from: 0, to: outFeatures, by: tile) {
                    for i0 in stride(from: 0, to: inFeatures, by: tile) {
                        for o in o0..<min(o0 + tile, outFeatures) {
                            let row = w + o * inFeatures
                            for i in i0..<min(i0 + tile, inFeatures) { weight[i * total + column + o] = row[i] }
                        }
                    }
                }
            }
            try scope.withTensor("bias", shape: [outFeatures]) { b in
                (bias.baseAddress! + column).update(from: b, count: outFeatures)
            }
        }
        return Linear(
            weights: dense, bias: UnsafePointer(bias.baseAddress!),
            inFeatures: inFeatures, outFeatures: total, readsLayerNormOutput: readsLayerNormOutput)
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
        let weightTransposed = UnsafePointer(weights.plain)
        if backend == .onednn {
            forwardOneDNN(x, rows: rows, into: y, context: context, epilogue: epilogue)
            return
        }
        // Below Parallel.minimumParallelWork multiply-adds a thread hand-off costs more than the other cores give back.
        let threads = rows * outFeatures * inFeatures < Parallel.minimumParallelWork ? 1 : context.threads
        if threads == 1 || rows >= 32 * threads {
            // Row blocks start on multiples of 32 rows, so every row sits at the same place in OpenBLAS's
            // row panels (16 rows at most) as in one call over all rows: the same kernel computes it, in the
            // same order, and results do not depend on the thread count.
            Parallel.forEachChunk(count: rows, threads: threads, alignment: 32) { range in
                backend.gemm(
                    transposeA: .none, transposeB: .none,
                    m: range.count, n: outFeatures, k: inFeatures,
                    alpha: 1, a: x + range.lowerBound * inFeatures, lda: inFeatures,
                    b: weightTransposed, ldb: outFeatures,
                    beta: 0, c: y + range.lowerBound * outFeatures, ldc: outFeatures)
                epilogue(range)
            }
        } else {
            Parallel.forEachChunk(count: outFeatures, threads: threads, minimumChunk: 64) { columns in
                backend.gemm(
                    transposeA: .none, transposeB: .none,
                    m: rows, n: columns.count, k: inFeatures,
                    alpha: 1, a: x, lda: inFeatures,
                    b: weightTransposed + columns.lowerBound, ldb: outFeatures,
                    beta: 0, c: y + columns.lowerBound, ldc: outFeatures)
            }
            Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: 64, epilogue)
        }
    }

    /// Rows per block of ``forwardOneDNNColumns(_:rows:into:context:epilogue:)``: 4 tiles of 128 rows, so each
    /// thread's block of `Wᵀ` (≤ 1.2 MB in all-MiniLM-L6-v2) is read once per 512 rows and the block's output
    /// (≤ 3 MB) is still in cache for the epilogue.
    static let oneDNNColumnBlockRows = 4 * OneDNNMatmulPlan.maxTileRows

    /// fp32 ``forward(_:rows:into:context:epilogue:)`` on oneDNN: in blocks of rows, the output columns split across
    /// the context's threads (each thread multiplies all the block's rows by its own columns of the plain `Wᵀ`, in
    /// place, see ``OneDNNMatmulPlan/columnBlock(k:n:stride:)``), then `epilogue` on the block's rows, split by rows.
    private func forwardOneDNNColumns(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        context: ForwardContext, epilogue: (Range<Int>) -> Void
    ) {
        let workspace = context.workspace
        let weightTransposed = UnsafePointer(weights.plain)
        let threads = rows * outFeatures * inFeatures < Parallel.minimumParallelWork ? 1 : context.threads
        let (unit, minimum) = columnUnits
        for start in stride(from: 0, to: rows, by: Self.oneDNNColumnBlockRows) {
            let count = min(Self.oneDNNColumnBlockRows, rows - start)
            Parallel.forEachNumberedChunk(count: outFeatures / unit, threads: threads, minimumChunk: minimum) {
                units, chunk in
                let columns = units.lowerBound * unit..<units.upperBound * unit
                do throws(EncoderError) {
                    let plan = try OneDNNMatmulPlan.columnBlock(k: inFeatures, n: columns.count, stride: outFeatures)
                    try workspace.oneDNNSlots[chunk].multiplyColumns(
                        x + start * inFeatures, rows: count, plan: plan, weights: weightTransposed + columns.lowerBound,
                        into: y + start * outFeatures + columns.lowerBound)
                } catch {
                    workspace.oneDNNFailure.withLock { $0 = $0 ?? error }
                }
            }
            Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 8) { block in
                epilogue(start + block.lowerBound..<start + block.upperBound)
            }
        }
    }

    /// ``forward(_:rows:into:context:epilogue:)`` on oneDNN in bf16 or int8: the rows split across the context's threads (at
    /// least 8 rows each; oneDNN's kernel keeps ~90 % of its 16-row speed at 8 rows), each block one
    /// single-threaded oneDNN product in the context's precision, then `epilogue` on it while it is in cache.
    private func forwardOneDNN(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        context: ForwardContext, epilogue: (Range<Int>) -> Void
    ) {
        let workspace = context.workspace
        let precision = precision(for: context.precision)
        if precision == .fp32 {
            forwardOneDNNColumns(x, rows: rows, into: y, context: context, epilogue: epilogue)
            return
        }
        guard let weights = weights.oneDNN.prepared(precision) else {
            workspace.oneDNNFailure.withLock {
                $0 = $0 ?? .oneDNN(operation: "dense layer \(inFeatures)→\(outFeatures)", status: "weights not prepared")
            }
            return
        }
        let threads = rows * outFeatures * inFeatures < Parallel.minimumParallelWork ? 1 : context.threads
        Parallel.forEachNumberedChunk(count: rows, threads: threads, minimumChunk: 8) { range, chunk in
            do throws(EncoderError) {
                try workspace.oneDNNSlots[chunk].multiply(
                    x + range.lowerBound * inFeatures, rows: range.count, weights: weights,
                    into: y + range.lowerBound * outFeatures)
            } catch {
                workspace.oneDNNFailure.withLock { $0 = $0 ?? error }
                return
            }
            epilogue(range)
        }
    }
}
