import Synchronization

/// `Y = X·B` on oneDNN with `B` prepared once, the way the `.onednn` backend runs a dense layer: `B` reordered
/// into oneDNN's layout (and, for int8, quantized per column) at creation, rows of `X` split across `threads`
/// encoder threads, one single-threaded oneDNN product per block. For `encoder bench gemm` and for code that
/// multiplies many matrices by one fixed matrix.
public final class OneDNNProduct: Sendable {
    /// k: rows of `B` (columns of `X`).
    public let k: Int
    /// n: columns of `B` and `Y`.
    public let n: Int
    public let precision: Precision
    /// oneDNN's name for the kernel it runs, e.g. "brg:avx512_core_bf16".
    public var implementation: String { weights.plan.implementation }

    private let storage: Storage
    private let weights: OneDNNWeights.Prepared
    private let slots = Mutex<[UnsafeSlot]>([])

    /// Prepares `b`: (k, n) for products in `precision`.
    /// - Throws: ``EncoderError/unsupportedPrecision(precision:backend:reason:)`` when the CPU cannot run
    ///   `precision` fast, ``EncoderError/oneDNN(operation:status:)`` when oneDNN fails.
    public init(_ b: Matrix, precision: Precision) throws(EncoderError) {
        k = b.rows
        n = b.columns
        self.precision = precision
        storage = Storage(b.values)
        weights = try storage.values.withUnsafeBufferPointer { (pointer) throws(EncoderError) -> OneDNNWeights.Prepared in
            try OneDNNWeights().prepare(precision, weightTransposed: pointer.baseAddress!, inFeatures: b.rows, outFeatures: b.columns)
        }
    }

    /// y (m, n) = x (m, k) · B, rows split across `threads` threads (at least 8 rows each).
    /// - Throws: ``MatrixError`` wrapped as ``EncoderError/invalidArgument(name:reason:)`` when shapes do not fit.
    public func multiply(_ x: Matrix, into y: inout Matrix, threads: Int) throws(EncoderError) {
        guard x.columns == k, y.rows == x.rows, y.columns == n else {
            throw .invalidArgument(
                name: "OneDNNProduct.multiply",
                reason: "x \(x.rows)×\(x.columns) · B \(k)×\(n) does not fit y \(y.rows)×\(y.columns)")
        }
        let threads = max(1, threads)
        // Slots are taken out for the call and put back after: a concurrent call makes its own.
        var slots = self.slots.withLock { pool in
            let taken = pool
            pool = []
            return taken
        }
        while slots.count < threads { slots.append(UnsafeSlot(slot: OneDNNSlot())) }
        defer { self.slots.withLock { [slots] pool in if pool.isEmpty { pool = slots } } }
        let failure = Mutex<EncoderError?>(nil)
        let (m, k, n, weights, taken) = (x.rows, self.k, self.n, self.weights, slots)
        x.values.withUnsafeBufferPointer { px in
            y.withUnsafeMutableValues { py in
                guard let px = px.baseAddress, let py = py.baseAddress else { return }
                Parallel.forEachNumberedChunk(count: m, threads: threads, minimumChunk: 8) { rows, chunk in
                    do throws(EncoderError) {
                        try taken[chunk].slot.multiply(
                            px + rows.lowerBound * k, rows: rows.count, weights: weights, into: py + rows.lowerBound * n)
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private final class Storage: Sendable {
        let values: [Float]
        init(_ values: [Float]) { self.values = values }
    }

    /// A slot, used by one chunk of one call at a time.
    private struct UnsafeSlot: @unchecked Sendable { let slot: OneDNNSlot }
}
