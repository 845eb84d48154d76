import CDNNL

/// Facts about, and the process-wide objects of, the oneDNN library linked in (Debian's libdnnl 2.6, on OpenMP).
///
/// Threads: the encoder keeps one level of threading. Its ``WorkerPool`` threads split a dense layer's rows,
/// and every oneDNN primitive is created and run with OpenMP set to one thread in the calling thread
/// (``singleThreaded(_:)``), so oneDNN never starts OpenMP threads of its own (see Docs/OneDNN.md for the
/// measurements behind this choice).
public enum OneDNN {
    /// `major.minor.patch` of the oneDNN library in use, e.g. "2.6.3".
    public static var version: String {
        guard let v = dnnl_version()?.pointee else { return "unknown" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN's kernels use on this CPU (`dnnl_get_effective_cpu_isa()`), e.g. "avx512_core_bf16".
    public static var instructionSet: String {
        let isa = dnnl_get_effective_cpu_isa()
        switch isa {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_sse41: return "sse41"
        default: return "isa 0x\(String(isa.rawValue, radix: 16))"
        }
    }

    /// Throws ``EncoderError/unsupportedPrecision(precision:backend:reason:)`` when this CPU has no fast
    /// instructions for `precision` on oneDNN: bf16 needs AVX512-BF16 (or AMX), int8 needs VNNI (AVX512 or AVX)
    /// and, for the layers its recipe keeps in bf16 (``Linear/precision(for:)``), AVX512-BF16 too.
    /// The kernel oneDNN picks is checked too when a layer is prepared (``OneDNNMatmulPlan``).
    public static func checkSupport(_ precision: Precision) throws(EncoderError) {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        func has(_ set: dnnl_cpu_isa_t) -> Bool { isa & set.rawValue == set.rawValue }
        switch precision {
        case .fp32:
            return
        case .bf16 where has(dnnl_cpu_isa_avx512_core_bf16):
            return
        case .int8 where has(dnnl_cpu_isa_avx512_core_bf16):   // implies AVX512-VNNI
            return
        case .bf16:
            throw .unsupportedPrecision(
                precision: "bf16", backend: "onednn",
                reason: "this CPU has no AVX512-BF16 (oneDNN's instruction set here: \(instructionSet)); "
                    + "bf16 would run on a slow reference kernel, so it is refused: use fp32")
        case .int8:
            throw .unsupportedPrecision(
                precision: "int8", backend: "onednn",
                reason: "this CPU has no VNNI with AVX512-BF16 (oneDNN's instruction set here: \(instructionSet)); "
                    + "int8 (with its bf16 layers) would run on a slow kernel, so it is refused: use fp32")
        }
    }

    /// The CPU engine every primitive and memory object belongs to.
    static let engine: Result<Handle, EncoderError> = {
        var engine: dnnl_engine_t?
        let status = dnnl_engine_create(&engine, dnnl_cpu, 0)
        guard status == dnnl_success, let engine else {
            return .failure(.oneDNN(operation: "dnnl_engine_create(cpu)", status: describe(status)))
        }
        return .success(Handle(engine))
    }()

    /// An opaque oneDNN object shared read-only across threads.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
    }

    /// `status` checked: throws ``EncoderError/oneDNN(operation:status:)`` naming `operation` unless it is `dnnl_success`.
    static func check(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws(EncoderError) {
        guard status == dnnl_success else { throw .oneDNN(operation: operation(), status: describe(status)) }
    }

    static func describe(_ status: dnnl_status_t) -> String {
        switch status {
        case dnnl_success: return "success"
        case dnnl_out_of_memory: return "out of memory (dnnl_out_of_memory)"
        case dnnl_invalid_arguments: return "invalid arguments (dnnl_invalid_arguments)"
        case dnnl_unimplemented: return "no implementation for these shapes and types (dnnl_unimplemented)"
        case dnnl_runtime_error: return "runtime error (dnnl_runtime_error)"
        default: return "dnnl_status_t \(status.rawValue)"
        }
    }

    /// Runs `body` with OpenMP limited to one thread in the calling thread (the setting is per thread), then
    /// restores the thread's previous setting. Primitives created inside plan for one thread, and run inside
    /// without starting OpenMP threads: the encoder's own workers are the one level of threading.
    @inline(__always)
    static func singleThreaded<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let previous = omp_get_max_threads()
        if previous != 1 { omp_set_num_threads(1) }
        defer { if previous != 1 { omp_set_num_threads(previous) } }
        return try body()
    }

    /// `DNNL_MEMORY_ALLOCATE`: asks `dnnl_memory_create` to allocate the buffer itself.
    static var allocate: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt.max) }
}
