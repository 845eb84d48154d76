import CDNNL
import Synchronization

/// What one thread of one forward pass needs to run oneDNN products: a stream, a scratchpad, room for a tile of
/// bf16 or u8 activations and their row scales and zero points, and the memory objects of each tile primitive it has run (their
/// buffers are set on every call). Owned by a ``Workspace``, used by one thread at a time (worker `index` of a
/// pass), so nothing is shared or locked; buffers grow on first need and are then reused: the hot path allocates
/// nothing once every tile has run once.
final class OneDNNSlot {
    private var stream: dnnl_stream_t?
    private var scratchpad = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var scratchpadBytes = 64
    private var activations = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var activationBytes = 64
    /// (maxTileRows) the u8 scale of each row of the current tile.
    let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: OneDNNMatmulPlan.maxTileRows)
    /// (maxTileRows) the u8 zero point of each row of the current tile.
    let rowZeroPoints = UnsafeMutablePointer<Float>.allocate(capacity: OneDNNMatmulPlan.maxTileRows)
    private var memories: [Int: Memories] = [:]
    /// (k) one activation row with its outlier channels zeroed (int8 with outliers).
    private var rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: 16)
    private var rowScratchCount = 16
    /// (maxTileRows, outlier count) the outlier channels' activations of the current tile (int8 with outliers).
    private var outlierValues = UnsafeMutablePointer<Float>.allocate(capacity: 16)
    private var outlierValuesCount = 16

    private struct Memories {
        let source: dnnl_memory_t
        let destination: dnnl_memory_t
        let scratchpad: dnnl_memory_t
        /// Column-block plans only: their plain weights, set on every call.
        let weights: dnnl_memory_t?
    }

    /// `y[:, block] = x · Wᵀ[:, block]` in fp32 on a ``OneDNNMatmulPlan/columnBlock(k:n:stride:)`` plan, tile by tile
    /// over the rows, `Wᵀ` and `y` read and written in place. x: (rows, k); weights: the block's first column of
    /// `Wᵀ` (k rows of stride `plan.rowStride`); y: the block's first column of `y` (rows of stride `plan.rowStride`).
    func multiplyColumns(
        _ x: UnsafePointer<Float>, rows: Int, plan: OneDNNMatmulPlan, weights: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>
    ) throws(EncoderError) {
        let (k, stride) = (plan.k, plan.rowStride ?? plan.n)
        try reserve(plan, outliers: 0)
        try forEachTile(rows: rows, plan: plan) { (start, tile) throws(EncoderError) in
            let memories = try self.memories(for: tile)
            guard let weightsMemory = memories.weights else {
                throw .oneDNN(operation: "matmul \(tile.rows) rows", status: "not a column-block plan")
            }
            try OneDNN.check(
                dnnl_memory_set_data_handle(weightsMemory, UnsafeMutableRawPointer(mutating: weights)), "set weights")
            try execute(
                tile, source: UnsafeMutableRawPointer(mutating: x + start * k), weights: weightsMemory,
                destination: y + start * stride)
        }
    }

    /// Runs `body(start, tile)` over `rows` rows in tiles of `plan` (128 rows, then a multiple of 16, then fewer
    /// than 16), with OpenMP at one thread.
    private func forEachTile(
        rows: Int, plan: OneDNNMatmulPlan, _ body: (_ start: Int, _ tile: OneDNNMatmulPlan.Tile) throws(EncoderError) -> Void
    ) throws(EncoderError) {
        try OneDNN.singleThreaded { () throws(EncoderError) in
            var start = 0
            while start < rows {
                let left = rows - start
                let tileRows = left >= OneDNNMatmulPlan.maxTileRows ? OneDNNMatmulPlan.maxTileRows
                    : left >= 16 ? left / 16 * 16 : left
                try body(start, plan.tiles[OneDNNMatmulPlan.tileIndex(rows: tileRows)])
                start += tileRows
            }
        }
    }

    /// `y (rows, n) fp32 = x (rows, k) · Wᵀ`, tile by tile; for int8 each tile's output is dequantized
    /// (zero points out, row scale × column scale) before the next. x: (rows, k) fp32, y: (rows, n).
    func multiply(
        _ x: UnsafePointer<Float>, rows: Int, weights: OneDNNWeights.Prepared, into y: UnsafeMutablePointer<Float>
    ) throws(EncoderError) {
        let plan = weights.plan
        let (k, n) = (plan.k, plan.n)
        try reserve(plan, outliers: weights.outlierChannels.count)
        try forEachTile(rows: rows, plan: plan) { (start, tile) throws(EncoderError) in
            let tileRows = tile.rows
            let xTile = x + start * k
            let yTile = y + start * n
            let source: UnsafeMutableRawPointer
            switch plan.precision {
            case .fp32:
                source = UnsafeMutableRawPointer(mutating: xTile)
            case .bf16:
                LowPrecisionKernels.toBFloat16(
                    xTile, count: tileRows * k, into: activations.assumingMemoryBound(to: UInt16.self))
                source = activations
            case .int8 where weights.outlierChannels.isEmpty:
                LowPrecisionKernels.quantizeRows(
                    xTile, rows: tileRows, columns: k, into: activations.assumingMemoryBound(to: UInt8.self),
                    scales: rowScales, zeroPoints: rowZeroPoints)
                source = activations
            case .int8:
                LowPrecisionKernels.quantizeRows(
                    xTile, rows: tileRows, columns: k, into: activations.assumingMemoryBound(to: UInt8.self),
                    scales: rowScales, zeroPoints: rowZeroPoints, outliers: weights.outlierChannels,
                    outlierValues: outlierValues, scratch: rowScratch)
                source = activations
            }
            try execute(tile, source: source, weights: weights.memory, destination: yTile)
            if let columnScales = weights.columnScales, let columnSums = weights.columnSums {
                LowPrecisionKernels.dequantize(
                    yTile, rows: tileRows, columns: n, rowScales: rowScales, zeroPoints: rowZeroPoints,
                    columnScales: columnScales, columnSums: columnSums)
            }
            if let outlierWeights = weights.outlierWeights {
                LowPrecisionKernels.addOutlierProduct(
                    yTile, rows: tileRows, columns: n, values: outlierValues, weights: outlierWeights,
                    count: weights.outlierChannels.count)
            }
        }
    }

    private func execute(
        _ tile: OneDNNMatmulPlan.Tile, source: UnsafeMutableRawPointer, weights: dnnl_memory_t,
        destination: UnsafeMutablePointer<Float>
    ) throws(EncoderError) {
        let memories = try self.memories(for: tile)
        try OneDNN.check(dnnl_memory_set_data_handle(memories.source, source), "set source")
        try OneDNN.check(dnnl_memory_set_data_handle(memories.destination, destination), "set destination")
        try OneDNN.check(dnnl_memory_set_data_handle(memories.scratchpad, scratchpad), "set scratchpad")
        // Four arguments in a tuple on the stack: no array allocated per call.
        var arguments = (
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memories.source),
            dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memories.destination),
            dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memories.scratchpad))
        let status = withUnsafeMutableBytes(of: &arguments) { raw in
            dnnl_primitive_execute(
                tile.primitive, stream, 4, raw.baseAddress!.assumingMemoryBound(to: dnnl_exec_arg_t.self))
        }
        try OneDNN.check(status, "matmul \(tile.rows) rows")
    }

    /// Grows the scratchpad and activation buffers for `plan` (and for `outliers` outlier channels), and makes
    /// the stream, on first need.
    private func reserve(_ plan: OneDNNMatmulPlan, outliers: Int) throws(EncoderError) {
        if outliers > 0 && plan.k > rowScratchCount {
            rowScratch.deallocate()
            rowScratchCount = plan.k
            rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: rowScratchCount)
        }
        if outliers * OneDNNMatmulPlan.maxTileRows > outlierValuesCount {
            outlierValues.deallocate()
            outlierValuesCount = outliers * OneDNNMatmulPlan.maxTileRows
            outlierValues = UnsafeMutablePointer<Float>.allocate(capacity: outlierValuesCount)
        }
        if stream == nil {
            let engine = try OneDNN.engine.get().pointer
            try OneDNN.check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
        }
        if plan.scratchpadBytes > scratchpadBytes {
            scratchpad.deallocate()
            scratchpadBytes = plan.scratchpadBytes
            scratchpad = UnsafeMutableRawPointer.allocate(byteCount: scratchpadBytes, alignment: 64)
        }
        let needed = OneDNNMatmulPlan.maxTileRows * plan.k * (plan.precision == .bf16 ? 2 : 1)
        if plan.precision != .fp32 && needed > activationBytes {
            activations.deallocate()
            activationBytes = needed
            activations = UnsafeMutableRawPointer.allocate(byteCount: needed, alignment: 64)
        }
    }

    private func memories(for tile: OneDNNMatmulPlan.Tile) throws(EncoderError) -> Memories {
        if let made = memories[tile.identifier] { return made }
        let engine = try OneDNN.engine.get().pointer
        var (sourceDescription, destinationDescription, scratchpadDescription) =
            (tile.sourceDescription, tile.destinationDescription, tile.scratchpadDescription)
        var source: dnnl_memory_t?
        var destination: dnnl_memory_t?
        var scratchpad: dnnl_memory_t?
        var weights: dnnl_memory_t?
        if var weightsDescription = tile.weightsDescription {
            try OneDNN.check(dnnl_memory_create(&weights, &weightsDescription, engine, nil), "weights memory")
        }
        try OneDNN.check(dnnl_memory_create(&source, &sourceDescription, engine, nil), "source memory")
        try OneDNN.check(dnnl_memory_create(&destination, &destinationDescription, engine, nil), "destination memory")
        try OneDNN.check(dnnl_memory_create(&scratchpad, &scratchpadDescription, engine, nil), "scratchpad memory")
        guard let source, let destination, let scratchpad else {
            throw .oneDNN(operation: "memory objects", status: "none made")
        }
        let made = Memories(source: source, destination: destination, scratchpad: scratchpad, weights: weights)
        memories[tile.identifier] = made
        return made
    }

    deinit {
        for made in memories.values {
            dnnl_memory_destroy(made.source)
            dnnl_memory_destroy(made.destination)
            dnnl_memory_destroy(made.scratchpad)
            if let weights = made.weights { dnnl_memory_destroy(weights) }
        }
        if let stream { dnnl_stream_destroy(stream) }
        scratchpad.deallocate()
        activations.deallocate()
        rowScales.deallocate()
        rowZeroPoints.deallocate()
        rowScratch.deallocate()
        outlierValues.deallocate()
    }
}
