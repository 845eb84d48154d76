import Dispatch
import Synchronization

/// The encoder's one level of threading.
///
/// Work is cut into at most `threads` contiguous chunks and run on the ``WorkerPool``;
/// inside a chunk everything is serial, and OpenBLAS runs single-threaded (see ``OpenBLAS``), so the
/// encoder's threads and OpenBLAS's never compete for the cores.
enum Parallel {
    /// Runs `body` on contiguous sub-ranges of `0..<count`, at most `threads` of them at once.
    /// Chunks are at least `minimumChunk` long, so tiny loops stay on the calling thread, and every chunk
    /// but the last starts and ends on a multiple of `alignment`.
    static func forEachChunk(
        count: Int, threads: Int, minimumChunk: Int = 1, alignment: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = chunkCount(count: count, threads: threads, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(chunks: chunks) { c in
            let range = chunk(c, of: chunks, count: count, alignment: alignment)
            if !range.isEmpty { body(range) }
        }
    }

    /// How many chunks ``forEachChunk(count:threads:minimumChunk:alignment:_:)`` cuts `0..<count` into.
    @inline(__always)
    static func chunkCount(count: Int, threads: Int, minimumChunk: Int) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }

    /// Chunk `c` of `chunks` over `0..<count`; every chunk but the last starts and ends on a multiple of `alignment`.
    @inline(__always)
    static func chunk(_ c: Int, of chunks: Int, count: Int, alignment: Int = 1) -> Range<Int> {
        let step = max(1, alignment)
        let lower = count * c / chunks / step * step
        let upper = c + 1 == chunks ? count : count * (c + 1) / chunks / step * step
        return lower..<max(lower, upper)
    }

    /// ``forEachChunk(count:threads:minimumChunk:alignment:_:)`` that also tells `body` its chunk's number, in
    /// `0..<threads`, so that a chunk can use scratch memory of its own.
    static func forEachNumberedChunk(
        count: Int, threads: Int, minimumChunk: Int = 1, _ body: (_ rows: Range<Int>, _ chunk: Int) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = chunkCount(count: count, threads: threads, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0..<count, 0)
            return
        }
        WorkerPool.shared.run(chunks: chunks) { c in
            let range = chunk(c, of: chunks, count: count)
            if !range.isEmpty { body(range, c) }
        }
    }

    /// Runs `body(i, worker)` for every `i` in `0..<count` on `threads` workers; `worker` in `0..<threads`
    /// names the worker so that it can use scratch memory of its own. Workers take the next item from a
    /// shared counter, so uneven items (sequences of different lengths) still spread over the workers.
    static func forEach(count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        let next = Atomic<Int>(0)
        WorkerPool.shared.run(chunks: workers) { worker in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                body(i, worker)
            }
        }
    }

    /// Multiply-adds below which a GEMM or the attention of a batch runs on the calling thread: 300,000 of them
    /// take about 20 µs on one core, less than waking the pool's threads and waiting for them gains back.
    static let minimumParallelWork = 300_000

    /// The number of cores this process may use.
    static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

import Foundation
