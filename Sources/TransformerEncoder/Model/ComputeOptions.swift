/// How a forward pass runs: which backend computes matrix products, in which precision, and on how many threads.
public struct ComputeOptions: Sendable, Equatable {
    /// `.onednn` (oneDNN's matmul for the dense layers, the default: the fastest on every workload measured, see
    /// Docs/Benchmarks.md), `.blas` (OpenBLAS) or `.naive` (plain Swift loops).
    public var backend: ComputeBackend
    /// Threads for one forward pass; defaults to the cores available. The total: no library adds threads of its own.
    public var threads: Int
    /// The precision of the dense layers' products: `.fp32` on every backend; `.bf16` and `.int8` on `.onednn`
    /// only (``EncoderError/unsupportedPrecision(precision:backend:reason:)`` otherwise, and on a CPU without
    /// fast support for them).
    public var precision: Precision

    /// Options for `backend` on `threads` threads (all available cores when `nil`; at least 1), dense layers in `precision`.
    public init(backend: ComputeBackend = .onednn, threads: Int? = nil, precision: Precision = .fp32) {
        self.backend = backend
        self.threads = max(1, threads ?? Parallel.availableCores)
        self.precision = precision
    }

    /// Throws when `precision` cannot run on `backend`.
    func validate() throws(EncoderError) {
        guard precision == .fp32 || backend == .onednn else {
            throw .unsupportedPrecision(
                precision: precision.rawValue, backend: backend.rawValue,
                reason: "bf16 and int8 run only on the onednn backend (--backend onednn)")
        }
    }
}
