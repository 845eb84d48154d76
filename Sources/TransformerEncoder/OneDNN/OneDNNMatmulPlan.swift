import CDNNL
import Synchronization

/// oneDNN matmul primitives for one weight shape and precision: `y (m, n) fp32 = x (m, k) · Wᵀ (k, n)`, with `x`
/// fp32, bf16 or u8 and `Wᵀ` in the blocked layout oneDNN chose for it (format `any` at creation).
///
/// oneDNN 2.6 runs its fast brgemm kernels only for a fixed row count (a runtime `m` falls back to a plain
/// `gemm:jit` kernel, 1.5–2× slower in bf16, with weights in plain layout), so a plan holds one primitive per
/// row count in ``tileRows``, all created up front: a product over any number of rows is a sequence of tiles of
/// 128 rows, then one tile of a multiple of 16, then one of fewer than 16. The weight layout is the same for every
/// row count (checked at creation), so one reordered copy of each weight serves them all. A plan does not
/// depend on weight values: every layer of the same shape, in every model, shares it.
final class OneDNNMatmulPlan: @unchecked Sendable {
    let k: Int
    let n: Int
    let precision: Precision
    /// For a plan over a block of columns of a larger product (``columnBlock(k:n:stride:)``): the row stride of the
    /// whole `Wᵀ` and `y`, which the plan reads and writes in place (weights in plain layout, no reordered copy).
    let rowStride: Int?
    /// The weights' layout, chosen by oneDNN for this shape and precision.
    let weightsDescription: dnnl_memory_desc_t
    /// oneDNN's name for the kernel, e.g. "brg:avx512_core_bf16".
    let implementation: String
    /// The largest scratchpad any of the primitives needs, in bytes.
    let scratchpadBytes: Int
    /// One primitive per entry of ``tileRows``.
    let tiles: [Tile]

    /// Row counts with a primitive: 1…15, 16, 32, …, 128.
    static let tileRows: [Int] = Array(1...15) + stride(from: 16, through: maxTileRows, by: 16)
    static let maxTileRows = 128

    /// The index in ``tiles`` of the primitive for `rows` (1…15 or a multiple of 16 up to 128).
    @inline(__always)
    static func tileIndex(rows: Int) -> Int { rows < 16 ? rows - 1 : 14 + rows / 16 }

    /// A primitive for `rows` rows, with the memory descriptions its arguments need.
    final class Tile: @unchecked Sendable {
        let rows: Int
        let primitive: dnnl_primitive_t
        let sourceDescription: dnnl_memory_desc_t
        let destinationDescription: dnnl_memory_desc_t
        let scratchpadDescription: dnnl_memory_desc_t
        /// Identifies the tile across plans (for per-thread memory objects).
        let identifier: Int
        /// A column-block plan's weights (plain, strided), whose memory object is per thread like the others.
        let weightsDescription: dnnl_memory_desc_t?

        init(rows: Int, primitive: dnnl_primitive_t, source: dnnl_memory_desc_t, destination: dnnl_memory_desc_t,
             scratchpad: dnnl_memory_desc_t, identifier: Int, weights: dnnl_memory_desc_t?) {
            self.rows = rows
            self.weightsDescription = weights
            self.primitive = primitive
            self.sourceDescription = source
            self.destinationDescription = destination
            self.scratchpadDescription = scratchpad
            self.identifier = identifier
        }

        deinit { dnnl_primitive_destroy(primitive) }
    }

    /// The plan for `k`×`n` weights in `precision`, made on first use and shared by the whole process.
    static func plan(k: Int, n: Int, precision: Precision) throws(EncoderError) -> OneDNNMatmulPlan {
        try cached(Key(k: k, n: n, precision: precision, stride: 0))
    }

    /// The fp32 plan for `y[:, c..<c+n] = x · Wᵀ[:, c..<c+n]` with `Wᵀ` and `y` of row stride `stride` used in place:
    /// how the `.onednn` backend runs fp32, each thread on a block of columns (see ``Linear``). oneDNN runs its jit
    /// sgemm kernel on plain strided weights (no reordered copy, so fp32 holds the weights once); measured with
    /// 2 threads on this CPU, columns split this way run a 16-row pass over all-MiniLM-L6-v2's 24 dense layers in
    /// 0.9 ms against 1.6 ms for rows split over reordered weights (each thread then streams only its half of the
    /// 42 MB of weights), and 128-row tiles 10 % faster; one thread alone is within 1–8 % of the reordered kernel.
    static func columnBlock(k: Int, n: Int, stride: Int) throws(EncoderError) -> OneDNNMatmulPlan {
        try cached(Key(k: k, n: n, precision: .fp32, stride: stride))
    }

    private static func cached(_ key: Key) throws(EncoderError) -> OneDNNMatmulPlan {
        try plans.withLock { (plans: inout [Key: OneDNNMatmulPlan]) throws(EncoderError) -> OneDNNMatmulPlan in
            if let plan = plans[key] { return plan }
            let plan = try OneDNNMatmulPlan(
                k: key.k, n: key.n, precision: key.precision, rowStride: key.stride == 0 ? nil : key.stride)
            plans[key] = plan
            return plan
        }
    }

    private struct Key: Hashable { let k: Int, n: Int, precision: Precision, stride: Int }
    private static let plans = Mutex<[Key: OneDNNMatmulPlan]>([:])
    private static let nextIdentifier = Atomic<Int>(0)

    /// oneDNN's data types for (activations, weights) in `precision`: int8 is u8 activations (asymmetric, with a
    /// zero point per row) × s8 weights, the pair VNNI multiplies directly (s8 × s8 needs a compensation pass).
    static func dataTypes(_ precision: Precision) -> (source: dnnl_data_type_t, weights: dnnl_data_type_t) {
        switch precision {
        case .fp32: return (dnnl_f32, dnnl_f32)
        case .bf16: return (dnnl_bf16, dnnl_bf16)
        case .int8: return (dnnl_u8, dnnl_s8)
        }
    }

    private init(k: Int, n: Int, precision: Precision, rowStride stride: Int?) throws(EncoderError) {
        try OneDNN.checkSupport(precision)
        let engine = try OneDNN.engine.get().pointer
        let types = Self.dataTypes(precision)
        self.k = k
        self.n = n
        self.precision = precision
        self.rowStride = stride
        let shape = "\(k)×\(n) \(precision.rawValue)"

        var attributes: dnnl_primitive_attr_t?
        try OneDNN.check(dnnl_primitive_attr_create(&attributes), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attributes) }
        // The caller passes the scratchpad (per thread), so one primitive may run on several threads at once.
        try OneDNN.check(
            dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "scratchpad mode user")

        var chosenWeights: dnnl_memory_desc_t?
        var implementation = ""
        var tiles: [Tile] = []
        var scratchpadBytes = 0
        for rows in Self.tileRows {
            var source = dnnl_memory_desc_t()
            var weights = dnnl_memory_desc_t()
            var destination = dnnl_memory_desc_t()
            try OneDNN.check(
                dnnl_memory_desc_init_by_tag(&source, 2, [Int64(rows), Int64(k)], types.source, dnnl_ab), "source \(rows)×\(k)")
            if let stride {
                try OneDNN.check(
                    dnnl_memory_desc_init_by_strides(&destination, 2, [Int64(rows), Int64(n)], dnnl_f32, [Int64(stride), 1]),
                    "destination \(rows)×\(n) of stride \(stride)")
            } else {
                try OneDNN.check(
                    dnnl_memory_desc_init_by_tag(&destination, 2, [Int64(rows), Int64(n)], dnnl_f32, dnnl_ab),
                    "destination \(rows)×\(n)")
            }
            if let chosen = chosenWeights {
                weights = chosen
            } else if let stride {
                try OneDNN.check(
                    dnnl_memory_desc_init_by_strides(&weights, 2, [Int64(k), Int64(n)], types.weights, [Int64(stride), 1]),
                    "weights \(shape) of stride \(stride)")
            } else {
                try OneDNN.check(
                    dnnl_memory_desc_init_by_tag(&weights, 2, [Int64(k), Int64(n)], types.weights, dnnl_format_tag_any),
                    "weights \(shape)")
            }
            var description = dnnl_matmul_desc_t()
            try OneDNN.check(
                dnnl_matmul_desc_init(&description, &source, &weights, nil, &destination), "matmul \(rows)×\(shape)")
            var primitiveDescription: dnnl_primitive_desc_t?
            try OneDNN.singleThreaded { () throws(EncoderError) in
                try OneDNN.check(
                    dnnl_primitive_desc_create(&primitiveDescription, &description, attributes, engine, nil),
                    "matmul primitive description \(rows)×\(shape)")
            }
            defer { dnnl_primitive_desc_destroy(primitiveDescription) }
            let name = Self.implementationName(primitiveDescription)
            let queried = dnnl_primitive_desc_query_md(primitiveDescription, dnnl_query_weights_md, 0)!.pointee
            if var chosen = chosenWeights {
                var queried = queried
                guard dnnl_memory_desc_equal(&chosen, &queried) != 0 else {
                    throw .oneDNN(
                        operation: "matmul \(rows)×\(shape)",
                        status: "oneDNN chose another weight layout for \(rows) rows than for 1 row")
                }
            } else {
                chosenWeights = queried
                implementation = name
                try Self.checkFast(name, precision: precision, shape: shape)
            }
            let scratchpad = dnnl_primitive_desc_query_md(primitiveDescription, dnnl_query_scratchpad_md, 0)!.pointee
            var scratchpadCopy = scratchpad
            scratchpadBytes = max(scratchpadBytes, dnnl_memory_desc_get_size(&scratchpadCopy))
            var primitive: dnnl_primitive_t?
            try OneDNN.singleThreaded { () throws(EncoderError) in
                try OneDNN.check(dnnl_primitive_create(&primitive, primitiveDescription), "matmul primitive \(rows)×\(shape)")
            }
            guard let primitive else { throw .oneDNN(operation: "matmul primitive \(rows)×\(shape)", status: "no primitive") }
            tiles.append(Tile(
                rows: rows, primitive: primitive, source: source, destination: destination, scratchpad: scratchpad,
                identifier: Self.nextIdentifier.wrappingAdd(1, ordering: .relaxed).oldValue,
                weights: stride == nil ? nil : chosenWeights))
        }
        self.weightsDescription = chosenWeights!
        self.implementation = implementation
        self.tiles = tiles
        self.scratchpadBytes = scratchpadBytes
    }

    private static func implementationName(_ description: dnnl_primitive_desc_t?) -> String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(description, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name
        else { return "unknown" }
        return String(cString: name)
    }

    /// Refuses a reduced precision that oneDNN would run on a reference (slow) kernel.
    private static func checkFast(_ implementation: String, precision: Precision, shape: String) throws(EncoderError) {
        let fast: Bool
        switch precision {
        case .fp32: fast = true
        case .bf16: fast = implementation.hasPrefix("brg") && (implementation.contains("bf16") || implementation.contains("amx"))
        case .int8: fast = implementation.hasPrefix("brg") && (implementation.contains("vnni") || implementation.contains("amx"))
        }
        guard fast else {
            throw .unsupportedPrecision(
                precision: precision.rawValue, backend: "onednn",
                reason: "oneDNN offers only its '\(implementation)' kernel for \(shape) on this CPU, which is slow; use fp32")
        }
    }
}
