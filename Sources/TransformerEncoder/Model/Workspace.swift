import Synchronization

/// Activation memory for one forward pass, sized for a batch and reused across calls, so the hot path
/// allocates nothing once a workspace has grown to the largest batch seen.
///
/// Buffers are over the batch's real tokens only, packed one sequence after another (`tokens` rows):
/// padding is never stored or computed.
final class Workspace {
    private(set) var tokenCapacity = 0
    private(set) var lengthCapacity = 0
    private(set) var workerCapacity = 0
    let hiddenSize: Int
    let intermediateSize: Int

    /// (tokens, hidden): the hidden state, updated layer by layer (the residual stream).
    private(set) var hidden = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// (tokens, 3·hidden): query | key | value for every token.
    private(set) var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// Rows of the feed-forward computed at a time (see ``FeedForward``).
    static let feedForwardBlock = 1024

    /// (min(tokens, feedForwardBlock), intermediate): feed-forward activations of one block of rows.
    private(set) var intermediate = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// (tokens, hidden): attention context, heads side by side. Shares memory with `intermediate`,
    /// which is free while attention runs.
    var context: UnsafeMutablePointer<Float> { intermediate }
    /// (tokens, hidden): output of a projection before bias, residual and LayerNorm. Shares memory with
    /// `qkv`, which is free once attention has read it (and during the feed-forward).
    var projection: UnsafeMutablePointer<Float> { qkv }
    /// (workers, length, length): attention scores, one square per worker thread.
    private(set) var scores = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// (tokens): token id, token type and position of every packed token.
    private(set) var tokenIDs = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var tokenTypes = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var positions = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// One per worker of a pass: what the `.onednn` backend's products need on that thread (see ``OneDNNSlot``).
    private(set) var oneDNNSlots: [OneDNNSlot] = []
    /// The first error a oneDNN product met during the pass (none is expected once a layer is prepared);
    /// the pass checks it at the end and throws it instead of returning a result.
    let oneDNNFailure = Mutex<EncoderError?>(nil)

    init(hiddenSize: Int, intermediateSize: Int) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
    }

    /// Grows the buffers (never shrinks) to hold `tokens` packed tokens, sequences up to `maxLength`
    /// and `workers` attention threads.
    func reserve(tokens: Int, maxLength: Int, workers: Int, oneDNN: Bool = false) {
        if oneDNN {
            while oneDNNSlots.count < workers { oneDNNSlots.append(OneDNNSlot()) }
        }
        if tokens > tokenCapacity {
            let capacity = max(tokens, tokenCapacity * 5 / 4)
            hidden = Self.regrow(hidden, capacity * hiddenSize)
            qkv = Self.regrow(qkv, capacity * 3 * hiddenSize)
            intermediate = Self.regrow(
                intermediate,
                max(min(capacity, Self.feedForwardBlock) * intermediateSize, capacity * hiddenSize))
            tokenIDs = Self.regrow(tokenIDs, capacity)
            tokenTypes = Self.regrow(tokenTypes, capacity)
            positions = Self.regrow(positions, capacity)
            tokenCapacity = capacity
        }
        if maxLength > lengthCapacity || workers > workerCapacity {
            lengthCapacity = max(maxLength, lengthCapacity)
            workerCapacity = max(workers, workerCapacity)
            scores = Self.regrow(scores, workerCapacity * lengthCapacity * lengthCapacity)
        }
    }

    /// Scratch for attention scores of worker `worker`: (lengthCapacity, lengthCapacity).
    func scores(worker: Int) -> UnsafeMutablePointer<Float> {
        scores + worker * lengthCapacity * lengthCapacity
    }

    private static func regrow<T>(_ old: UnsafeMutablePointer<T>, _ count: Int) -> UnsafeMutablePointer<T> {
        old.deallocate()
        return UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
    }

    deinit {
        hidden.deallocate(); qkv.deallocate(); intermediate.deallocate(); scores.deallocate()
        tokenIDs.deallocate(); tokenTypes.deallocate(); positions.deallocate()
    }
}

/// Workspaces ready for reuse. Each forward pass takes one (or makes one) and gives it back, so
/// concurrent callers never share activation memory and a model stays safe to use from many tasks.
final class WorkspacePool: Sendable {
    private let free = Mutex<[UnsafeWorkspace]>([])
    private let hiddenSize: Int
    private let intermediateSize: Int
    /// Workspaces kept for reuse; more concurrent callers than this allocate and drop their own.
    private let keep = 4

    init(hiddenSize: Int, intermediateSize: Int) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
    }

    func withWorkspace<R, E: Error>(_ body: (Workspace) throws(E) -> R) throws(E) -> R {
        let taken = free.withLock { $0.popLast() }
        let workspace = taken?.workspace ?? Workspace(hiddenSize: hiddenSize, intermediateSize: intermediateSize)
        defer {
            free.withLock { list in
                if list.count < keep { list.append(UnsafeWorkspace(workspace: workspace)) }
            }
        }
        return try body(workspace)
    }
}

/// A workspace in the pool: only ever used by the one caller that took it out.
private struct UnsafeWorkspace: @unchecked Sendable { let workspace: Workspace }
