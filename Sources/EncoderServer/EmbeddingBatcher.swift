import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TransformerEncoder

/// Dynamic batching, as text-embeddings-inference's router does it.
///
/// Request handlers validate and tokenize their inputs, then ``submit(_:)`` them: every input joins one
/// bounded FIFO queue. A single batcher task (``run()``) takes as many queued inputs as fit in
/// `maxBatchTokens` real tokens (the encoder packs sequences, so there is no padding to count), runs them
/// as one forward pass on the inference thread (never on an event loop), and hands each request its rows.
/// While a pass runs, new inputs queue up and make the next pass bigger: at low load a request is
/// embedded alone at once, at saturation passes grow to the token budget.
///
/// At most `maxConcurrentRequests` requests are queued or running; one more is refused with
/// ``APIError/overloaded(limit:)`` (429) without touching the others. On graceful shutdown the batcher
/// refuses new requests (503) and finishes every queued input before ``run()`` returns.
public final class EmbeddingBatcher: Service, Sendable {
    /// One queued input: row `index` of request `job`.
    private struct Item {
        let job: Int
        let index: Int
        let sequence: TokenSequence
        /// Prompt tokens at the start of `sequence`; a pass holds inputs with one prompt length only.
        let promptLength: Int
        let enqueued: ContinuousClock.Instant
    }

    /// A request waiting for its rows.
    private struct Job {
        var rows: [Float]
        var remaining: Int
        let continuation: CheckedContinuation<[Float], any Error>
    }

    private struct State {
        var queue: [Item] = []
        /// Index of the first item of `queue` not yet taken.
        var head = 0
        var jobs: [Int: Job] = [:]
        var nextJob = 0
        var draining = false
        /// The batcher, parked while the queue is empty.
        var waiter: CheckedContinuation<Void, Never>?

        var queued: Int { queue.count - head }
    }

    private let state = Mutex(State())
    private let backend: any EmbeddingBackend
    private let maxBatchTokens: Int
    private let maxConcurrentRequests: Int
    private let metrics: ServerMetrics
    private let logger: Logger
    /// The forward passes run here, one at a time; the encoder spreads each over its own worker threads.
    private let inferenceQueue = DispatchQueue(label: "encoder.inference", qos: .userInitiated)

    /// - Parameters:
    ///   - maxBatchTokens: real tokens per forward pass; at least the backend's `maxInputLength`.
    ///   - maxConcurrentRequests: requests queued or running at once before new ones get 429.
    public init(
        backend: any EmbeddingBackend, maxBatchTokens: Int, maxConcurrentRequests: Int,
        metrics: ServerMetrics, logger: Logger
    ) {
        self.backend = backend
        self.maxBatchTokens = maxBatchTokens
        self.maxConcurrentRequests = maxConcurrentRequests
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues `sequences` (one request's inputs, at least one, each starting with a prompt of
    /// `promptLength` tokens) and waits for their embeddings.
    ///
    /// - Returns: (sequences.count, dimension) row-major, rows in input order, as the backend computed them.
    /// - Throws: ``APIError`` 429 when full, 503 when shutting down, 500 when the forward pass failed.
    public func submit(_ sequences: [TokenSequence], promptLength: Int = 0) async throws -> [Float] {
        precondition(!sequences.isEmpty, "callers reject empty requests")
        let width = backend.dimension
        return try await withCheckedThrowingContinuation { continuation in
            let now = ContinuousClock.now
            enum Outcome { case queued(CheckedContinuation<Void, Never>?), refused(APIError) }
            let outcome: Outcome = state.withLock { state in
                if state.draining { return .refused(.shuttingDown) }
                if state.jobs.count >= maxConcurrentRequests { return .refused(.overloaded(limit: maxConcurrentRequests)) }
                let id = state.nextJob
                state.nextJob &+= 1
                state.jobs[id] = Job(
                    rows: [Float](repeating: 0, count: sequences.count * width), remaining: sequences.count,
                    continuation: continuation)
                for (index, sequence) in sequences.enumerated() {
                    state.queue.append(
                        Item(job: id, index: index, sequence: sequence, promptLength: promptLength, enqueued: now))
                }
                metrics.queueDepth.set(Double(state.queued))
                metrics.inFlight.set(Double(state.jobs.count))
                let waiter = state.waiter
                state.waiter = nil
                return .queued(waiter)
            }
            switch outcome {
            case .refused(let error): continuation.resume(throwing: error)
            case .queued(let waiter): waiter?.resume()
            }
        }
    }

    /// Requests accepted and not yet answered.
    public var inFlight: Int { state.withLock { $0.jobs.count } }

    /// Whether a graceful shutdown has begun (new requests are refused).
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Runs `body` on the inference thread, between forward passes (reranking uses the same thread).
    public func onInferenceThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            inferenceQueue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// The batcher loop: runs until a graceful shutdown (or cancellation) and an empty queue.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                var regathering: Regathering?
                while true {
                    if let regathering { await regather(regathering) }
                    guard let batch = await nextBatch() else { break }
                    let start = ContinuousClock.now
                    await process(batch)
                    let elapsed = ContinuousClock.now - start
                    let queued = state.withLock { $0.queued }
                    regathering = Regathering(
                        inputs: batch.count + queued, deadline: .now + min(elapsed / 4, Self.maxRegatherWait))
                }
            } onCancel: {
                self.beginDraining()
            }
        } onGracefulShutdown: {
            self.beginDraining()
        }
        logger.info("batcher stopped: queue drained")
    }

    /// Refuses new requests from now on; queued ones are still embedded.
    public func beginDraining() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.draining = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// How long the batcher waits, at most, for the clients it has just answered (see ``regather(_:)``).
    static let maxRegatherWait = Duration.milliseconds(5)

    /// What the batcher waits for after a pass: as many queued inputs as the pass answered plus those that
    /// were already waiting, until `deadline`.
    private struct Regathering {
        let inputs: Int
        let deadline: ContinuousClock.Instant
    }

    /// After a pass, waits (at most a quarter of that pass's time, and ``maxRegatherWait``) until the clients
    /// it answered have had the chance to send their next inputs, or the queue fills a batch.
    ///
    /// Without it, closed-loop clients split into groups that alternate: while one group's pass runs, the
    /// other's requests queue up and are taken alone the moment it ends, just before the answered group comes
    /// back (measured at 16 clients with one sentence each: passes of 8 inputs on average, 15.5 ms each,
    /// where one pass of 16 takes 23.5 ms; with this wait, passes of 16 and 15 % more requests/s). A single
    /// client's next request meets a target of one input: it waits only for the 0.1 ms polling step.
    /// Open-loop traffic waits at most the bound above.
    private func regather(_ target: Regathering) async {
        while ContinuousClock.now < target.deadline {
            let enough: Bool = state.withLock { state in
                if state.draining || state.queued >= target.inputs { return true }
                var tokens = 0
                for index in state.head..<state.queue.count {
                    tokens += state.queue[index].sequence.count
                    if tokens >= maxBatchTokens { return true }
                }
                return false
            }
            if enough { return }
            try? await Task.sleep(for: .microseconds(100))
        }
    }

    /// The next batch: queued inputs in order while they fit in the token budget and share the first one's
    /// prompt length (always at least one input).
    /// Waits while the queue is empty; `nil` once draining with nothing left.
    private func nextBatch() async -> [Item]? {
        while true {
            enum Next { case batch([Item]), finished, empty }
            let next: Next = state.withLock { state in
                var batch: [Item] = []
                var tokens = 0
                while state.head < state.queue.count {
                    let item = state.queue[state.head]
                    if state.jobs[item.job] == nil {  // its request already failed
                        state.head += 1
                        continue
                    }
                    if let first = batch.first {
                        if tokens + item.sequence.count > maxBatchTokens || item.promptLength != first.promptLength { break }
                    }
                    batch.append(item)
                    tokens += item.sequence.count
                    state.head += 1
                }
                if state.head == state.queue.count {
                    state.queue.removeAll(keepingCapacity: true)
                    state.head = 0
                } else if state.head > 4096 && state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                metrics.queueDepth.set(Double(state.queued))
                if !batch.isEmpty { return .batch(batch) }
                return state.draining ? .finished : .empty
            }
            switch next {
            case .batch(let batch): return batch
            case .finished: return nil
            case .empty:
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state in
                        if state.queued > 0 || state.draining { return true }
                        state.waiter = waiter
                        return false
                    }
                    if resumeNow { waiter.resume() }
                }
            }
        }
    }

    /// One forward pass over `batch`, then every finished request is answered.
    private func process(_ batch: [Item]) async {
        let start = ContinuousClock.now
        for item in batch { metrics.queueDuration.record(start - item.enqueued) }
        let backend = self.backend
        let sequences = batch.map(\.sequence)
        let promptLength = batch[0].promptLength
        let result: Result<Matrix, any Error>
        do {
            result = .success(try await onInferenceThread { () throws -> Matrix in try backend.forward(sequences, promptLength: promptLength) })
        } catch {
            result = .failure(error)
        }
        let elapsed = ContinuousClock.now - start
        let tokens = sequences.reduce(0) { $0 + $1.count }
        metrics.inferenceDuration.record(elapsed)
        metrics.batchTokens.record(Double(tokens))
        metrics.batchInputs.record(Double(batch.count))

        var finished: [(CheckedContinuation<[Float], any Error>, Result<[Float], any Error>)] = []
        switch result {
        case .success(let matrix):
            metrics.tokensEmbedded.increment(by: Int64(tokens))
            metrics.inputsEmbedded.increment(by: Int64(batch.count))
            let width = matrix.columns
            state.withLock { state in
                matrix.values.withUnsafeBufferPointer { values in
                    for (row, item) in batch.enumerated() {
                        guard var job = state.jobs.removeValue(forKey: item.job) else { continue }
                        let source = values[(row * width)..<((row + 1) * width)]
                        job.rows.replaceSubrange((item.index * width)..<((item.index + 1) * width), with: source)
                        job.remaining -= 1
                        if job.remaining == 0 {
                            finished.append((job.continuation, .success(job.rows)))
                        } else {
                            state.jobs[item.job] = job
                        }
                    }
                }
                metrics.inFlight.set(Double(state.jobs.count))
            }
        case .failure(let error):
            logger.error("forward pass failed", metadata: ["error": "\(error)", "inputs": "\(batch.count)"])
            let failure = APIError.backend("\(error)")
            state.withLock { state in
                for item in batch {
                    // The request's other inputs, still queued, are skipped by nextBatch.
                    if let job = state.jobs.removeValue(forKey: item.job) {
                        finished.append((job.continuation, .failure(failure)))
                    }
                }
                metrics.inFlight.set(Double(state.jobs.count))
            }
        }
        for (continuation, outcome) in finished { continuation.resume(with: outcome) }
    }
}
