import CDNNL
import Synchronization

/// A dense layer's weights in oneDNN's layout for bf16 and int8, one copy per precision asked for, made on first use
/// (or at load when the model's default options ask for that precision) and kept as long as the layer: people who
/// run only fp32 never pay for them (fp32 on oneDNN reads the plain weights in place, ``DenseWeights``).
final class OneDNNWeights: Sendable {
    private let prepared = Mutex<[Precision: Prepared]>([:])

    /// The weights for `precision` if ``prepare(_:weightTransposed:inFeatures:outFeatures:)`` made them.
    func prepared(_ precision: Precision) -> Prepared? {
        prepared.withLock { $0[precision] }
    }

    /// Makes (once; thread-safe) the weights for `precision` from `Wᵀ` (inFeatures, outFeatures) fp32, row-major.
    /// In int8, the input channels in `int8Outliers` are left out of the u8×s8 product and multiplied in fp32
    /// (``Prepared/outlierChannels``).
    @discardableResult
    func prepare(
        _ precision: Precision, weightTransposed: UnsafePointer<Float>, inFeatures k: Int, outFeatures n: Int,
        int8Outliers: [Int32] = []
    ) throws(EncoderError) -> Prepared {
        try prepared.withLock { (prepared: inout [Precision: Prepared]) throws(EncoderError) -> Prepared in
            if let done = prepared[precision] { return done }
            let plan = try OneDNNMatmulPlan.plan(k: k, n: n, precision: precision)
            let weights = try Prepared(
                plan: plan, weightTransposed: weightTransposed, outliers: precision == .int8 ? int8Outliers : [])
            prepared[precision] = weights
            return weights
        }
    }

    /// One precision's weights: reordered into ``OneDNNMatmulPlan/weightsDescription``, and for int8 the scale
    /// of each output column.
    final class Prepared: @unchecked Sendable {
        let plan: OneDNNMatmulPlan
        /// The weights, in oneDNN's layout, in memory oneDNN owns.
        let memory: dnnl_memory_t
        /// int8 only: (n) symmetric scales, `W[:, c] ≈ scale[c] · q[:, c]` with `q` in −127…127.
        let columnScales: UnsafeMutablePointer<Float>?
        /// int8 only: (n) Σₖ q[k, c], to take the activations' zero points out of the u8×s8 sums.
        let columnSums: UnsafeMutablePointer<Float>?
        /// int8 only: input channels (rows of Wᵀ) kept out of the u8×s8 product, because their activations dwarf
        /// the others' (the GELU outputs feeding an FFN's second layer have a few such channels); empty otherwise.
        let outlierChannels: UnsafeBufferPointer<Int32>
        /// (outlierChannels.count, n) fp32: those rows of Wᵀ, multiplied in fp32 (``LowPrecisionKernels/addOutlierProduct``).
        let outlierWeights: UnsafeMutablePointer<Float>?

        init(plan: OneDNNMatmulPlan, weightTransposed: UnsafePointer<Float>, outliers: [Int32] = []) throws(EncoderError) {
            let engine = try OneDNN.engine.get().pointer
            let (k, n) = (plan.k, plan.n)
            let shape = "weights \(k)×\(n) \(plan.precision.rawValue)"
            var target = plan.weightsDescription
            var memory: dnnl_memory_t?
            try OneDNN.check(dnnl_memory_create(&memory, &target, engine, OneDNN.allocate), "allocate \(shape)")
            guard let memory else { throw .oneDNN(operation: "allocate \(shape)", status: "no memory") }
            var scales: UnsafeMutablePointer<Float>?
            var sums: UnsafeMutablePointer<Float>?
            let channels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: outliers.count)
            _ = channels.initialize(from: outliers)
            let outlierWeights = outliers.isEmpty ? nil : UnsafeMutablePointer<Float>.allocate(capacity: outliers.count * n)
            do throws(EncoderError) {
                // The plain source: fp32 Wᵀ as it is (oneDNN converts to bf16 while reordering), or s8 quantized here.
                var quantized: UnsafeMutablePointer<Int8>?
                defer { quantized?.deallocate() }
                let sourceType: dnnl_data_type_t
                let sourcePointer: UnsafeMutableRawPointer
                if plan.precision == .int8 {
                    let q = UnsafeMutablePointer<Int8>.allocate(capacity: k * n)
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: n)
                    let sum = UnsafeMutablePointer<Float>.allocate(capacity: n)
                    quantized = q
                    scales = s
                    sums = sum
                    if let outlierWeights {
                        // The outlier rows go to fp32; the rest is quantized with them as zeros (so they set no scale).
                        let rest = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
                        defer { rest.deallocate() }
                        rest.update(from: weightTransposed, count: k * n)
                        for (index, channel) in outliers.enumerated() {
                            guard channel >= 0, Int(channel) < k else {
                                throw EncoderError.invalidArgument(name: "int8 outlier channel", reason: "\(channel) is not below \(k)")
                            }
                            (outlierWeights + index * n).update(from: rest + Int(channel) * n, count: n)
                            (rest + Int(channel) * n).update(repeating: 0, count: n)
                        }
                        LowPrecisionKernels.quantizeColumns(rest, rows: k, columns: n, into: q, scales: s, sums: sum)
                    } else {
                        LowPrecisionKernels.quantizeColumns(
                            weightTransposed, rows: k, columns: n, into: q, scales: s, sums: sum)
                    }
                    sourceType = dnnl_s8
                    sourcePointer = UnsafeMutableRawPointer(q)
                } else {
                    sourceType = dnnl_f32
                    sourcePointer = UnsafeMutableRawPointer(mutating: weightTransposed)
                }
                var plain = dnnl_memory_desc_t()
                try OneDNN.check(
                    dnnl_memory_desc_init_by_tag(&plain, 2, [Int64(k), Int64(n)], sourceType, dnnl_ab), "plain \(shape)")
                var source: dnnl_memory_t?
                try OneDNN.check(dnnl_memory_create(&source, &plain, engine, sourcePointer), "wrap \(shape)")
                defer { dnnl_memory_destroy(source) }
                try Self.reorder(from: &plain, source, to: &target, memory, engine: engine, what: shape)
            } catch {
                dnnl_memory_destroy(memory)
                scales?.deallocate()
                sums?.deallocate()
                channels.deallocate()
                outlierWeights?.deallocate()
                throw error
            }
            self.plan = plan
            self.memory = memory
            self.columnScales = scales
            self.columnSums = sums
            self.outlierChannels = UnsafeBufferPointer(channels)
            self.outlierWeights = outlierWeights
        }

        /// Copies `source` (described by `from`) into `destination` (described by `to`), on one thread.
        private static func reorder(
            from sourceDescription: inout dnnl_memory_desc_t, _ source: dnnl_memory_t?,
            to destinationDescription: inout dnnl_memory_desc_t, _ destination: dnnl_memory_t?,
            engine: OpaquePointer, what: String
        ) throws(EncoderError) {
            try OneDNN.singleThreaded { () throws(EncoderError) in
                var description: dnnl_primitive_desc_t?
                try OneDNN.check(
                    dnnl_reorder_primitive_desc_create(
                        &description, &sourceDescription, engine, &destinationDescription, engine, nil),
                    "reorder \(what)")
                defer { dnnl_primitive_desc_destroy(description) }
                var reorder: dnnl_primitive_t?
                try OneDNN.check(dnnl_primitive_create(&reorder, description), "reorder primitive \(what)")
                defer { dnnl_primitive_destroy(reorder) }
                var stream: dnnl_stream_t?
                try OneDNN.check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
                defer { dnnl_stream_destroy(stream) }
                var arguments = [
                    dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: source),
                    dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: destination),
                ]
                try OneDNN.check(dnnl_primitive_execute(reorder, stream, 2, &arguments), "reorder \(what)")
                try OneDNN.check(dnnl_stream_wait(stream), "reorder \(what)")
            }
        }

        deinit {
            dnnl_memory_destroy(memory)
            columnScales?.deallocate()
            columnSums?.deallocate()
            outlierChannels.deallocate()
            outlierWeights?.deallocate()
        }
    }
}
