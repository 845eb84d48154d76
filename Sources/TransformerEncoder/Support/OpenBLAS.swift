import CBLAS

/// Facts about, and the one setting the encoder needs of, the OpenBLAS library linked in.
public enum OpenBLAS {
    /// The kernel family OpenBLAS chose for this CPU (`openblas_get_corename()`), e.g. "Haswell" or "Cooperlake".
    /// Every benchmark figure names it: it decides how fast `cblas_sgemm` is.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string (`openblas_get_config()`).
    public static var configuration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config)
    }

    /// How many threads OpenBLAS uses inside one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets how many threads OpenBLAS uses inside one call (process-wide).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The encoder's one level of threading, in one place: every forward pass on the BLAS backend calls this
    /// before its first product, so OpenBLAS runs single-threaded inside the encoder's own ``WorkerPool``
    /// threads and the two never compete for the cores. The setting is process-wide (OpenBLAS 0.3.21 has no
    /// per-thread one): loading a model changes nothing, running one sets 1 thread. Code that wants OpenBLAS's
    /// own threading for its products after an encoder ran (``SemanticIndex``'s GEMM uses whatever is set) calls
    /// ``setThreadCount(_:)`` before them, as `encoder bench gemm` does.
    static func ensureSingleThreaded() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
}
