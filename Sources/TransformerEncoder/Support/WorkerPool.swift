import Foundation
import Synchronization

/// The encoder's threads: persistent workers that take chunks of a job, so that handing work to another
/// core costs microseconds instead of the ~0.2–0.4 ms of waking a dispatch-queue thread.
///
/// A job is `body(chunk)` for `chunk` in `0..<chunks`; the caller takes chunks too and returns when all
/// are done. Idle workers spin for the next job for up to 2 ms (as OpenBLAS's and OpenMP's threads do),
/// then sleep on a semaphore. One job
/// runs at a time: a caller that finds the pool busy (another task encoding concurrently) runs its chunks
/// itself, so concurrent callers never put more threads on the cores than there are cores.
final class WorkerPool: @unchecked Sendable {
    /// One pool per process, with one worker per core besides the caller's.
    static let shared = WorkerPool(workers: max(0, Parallel.availableCores - 1))

    /// Workers besides the calling thread.
    let workerCount: Int

    /// The job: generation (bits 40...), next chunk (bits 20..<40), chunk count (bits 0..<20).
    private let state = Atomic<Int>(0)
    /// Chunks claimed but not finished, plus chunks not yet claimed, of the current job.
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = DispatchSemaphore(value: 0)
    /// The current job's body; written before the job's state is published, stable until it completes.
    private nonisolated(unsafe) var body: ((Int) -> Void)?

    /// How long an idle worker spins for the next job before it sleeps. A forward pass hands out a job
    /// every few hundred microseconds; sleeping between them would cost a wake-up (~0.1 ms) each time.
    private static let spinNanoseconds: UInt64 = 2_000_000

    private static let countBits = 20
    private static let chunkMask = (1 << countBits) - 1
    private static let generationMask = (1 << 23) - 1

    init(workers: Int) {
        workerCount = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "encoder-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks`, on the caller and up to `workerCount` workers.
    func run(chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 1, workerCount > 0, chunks <= Self.chunkMask,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            pending.store(chunks, ordering: .sequentiallyConsistent)
            // Generations wrap within 23 bits so the packed state stays non-negative; the caller always
            // works on its own job too, so a worker that misreads a wrapped generation only idles.
            let generation = ((state.load(ordering: .relaxed) >> (2 * Self.countBits)) + 1) & Self.generationMask
            state.store(generation << (2 * Self.countBits) | chunks, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                for _ in 0..<min(workerCount, chunks - 1) { wakeUp.signal() }
            }
            work(generation: generation)
            var waits = 0
            while pending.load(ordering: .acquiring) > 0 {
                waits += 1
                spinPause(yielding: waits & 63 == 0)
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs chunks of job `generation` until none is left.
    private func work(generation: Int) {
        while true {
            let current = state.load(ordering: .acquiring)
            guard current >> (2 * Self.countBits) == generation else { return }
            let next = (current >> Self.countBits) & Self.chunkMask
            let count = current & Self.chunkMask
            guard next < count else { return }
            let claimed = state.compareExchange(
                expected: current, desired: current + (1 << Self.countBits), ordering: .acquiringAndReleasing
            ).exchanged
            guard claimed else { continue }
            body!(next)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            var spinStart = DispatchTime.now().uptimeNanoseconds
            var generation = state.load(ordering: .acquiring) >> (2 * Self.countBits)
            while generation == seen {
                spins += 1
                if spins & 255 != 0 || DispatchTime.now().uptimeNanoseconds - spinStart < Self.spinNanoseconds {
                    spinPause(yielding: spins & 63 == 0)
                } else {
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    if state.load(ordering: .sequentiallyConsistent) >> (2 * Self.countBits) == seen {
                        wakeUp.wait()
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    spins = 0
                    spinStart = DispatchTime.now().uptimeNanoseconds
                }
                generation = state.load(ordering: .acquiring) >> (2 * Self.countBits)
            }
            seen = generation
            work(generation: generation)
        }
    }

    /// A short busy-wait step between checks of the job state; with `yielding`, the core is offered to any
    /// other runnable thread first (`sched_yield`, which returns at once when there is none). In a server the
    /// other threads are the ones parsing requests and writing answers: a pure spin would take their core
    /// (measured with `perf`: a third of `encoder serve`'s CPU went to spinning at 16 clients).
    @inline(__always)
    private func spinPause(yielding: Bool = false) {
        if yielding {
            sched_yield()
            return
        }
        for _ in 0..<4 { _ = state.load(ordering: .relaxed) }
    }
}
