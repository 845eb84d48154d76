/// What every block of one forward pass needs besides its weights.
struct ForwardContext {
    /// Which implementation computes the matrix products.
    let backend: ComputeBackend
    /// The precision of the dense layers' products (``Precision/fp32`` unless the backend is `.onednn`).
    let precision: Precision
    /// Threads for the pass (the encoder's one level of threading).
    let threads: Int
    /// Activation memory.
    let workspace: Workspace
    /// Real tokens in the batch (rows of every activation buffer).
    let tokens: Int
    /// Row where each sequence starts; `sequenceStarts[i]..<sequenceStarts[i + 1]`, count = sequences + 1.
    let sequenceStarts: [Int]
    /// The additive bias on attention scores, shared by every layer (MPNet), or `nil`.
    let attentionBias: RelativePositionBias?
    /// Calibration only (one thread): the current layer's (intermediate) running max |activation| per channel of
    /// the FFN's GELU output, updated by ``FeedForward``; `nil` in ordinary passes.
    var feedForwardMaxima: UnsafeMutablePointer<Float>? = nil

    var sequenceCount: Int { sequenceStarts.count - 1 }
}
