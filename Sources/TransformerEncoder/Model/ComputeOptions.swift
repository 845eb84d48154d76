/// How a forward pass runs: which backend computes matrix products, and on how many threads.
public struct ComputeOptions: Sendable, Equatable {
    /// `.blas` (OpenBLAS) or `.naive` (plain Swift loops).
    public var backend: ComputeBackend
    /// Threads for one forward pass; defaults to the cores available.
    public var threads: Int

    /// Options for `backend` on `threads` threads (all available cores when `nil`; at least 1).
    public init(backend: ComputeBackend = .blas, threads: Int? = nil) {
        self.backend = backend
        self.threads = max(1, threads ?? Parallel.availableCores)
    }
}
