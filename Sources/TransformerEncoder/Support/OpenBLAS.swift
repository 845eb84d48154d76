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
}
