/// One input sequence of token ids for the encoder, special tokens included (`[CLS] … [SEP]`).
public struct TokenSequence: Sendable, Equatable, Hashable {
    /// Token ids; each in `0..<vocab_size`.
    public var inputIDs: [Int32]
    /// Token type (segment) ids, one per token; `nil` means all 0.
    public var tokenTypeIDs: [Int32]?

    /// A sequence of token ids (special tokens included) and, optionally, their token types (all 0 when `nil`).
    public init(inputIDs: [Int32], tokenTypeIDs: [Int32]? = nil) {
        self.inputIDs = inputIDs
        self.tokenTypeIDs = tokenTypeIDs
    }

    /// Number of tokens.
    public var count: Int { inputIDs.count }
}

/// How a forward pass runs: which backend computes matrix products, and on how many threads.
public struct ComputeOptions: Sendable, Equatable {
    /// `.blas` (OpenBLAS) or `.naive` (plain Swift loops).
    public var backend: ComputeBackend
    /// Threads for one forward pass; defaults to the cores available.
    public var threads: Int

    /// Options for `backend` on `threads` threads (all available cores when `nil`; at least 1).
    public init(backend: ComputeBackend = .blas, threads: Int? = nil) {
        self.backend = backend
        self.threads = max(1, threads ?? Parallel.availableCores)
    }
}

/// The encoder's output for a batch: every real token's hidden state, packed sequence after sequence.
public struct EncoderOutput: Sendable {
    /// (tokens, hidden): the last layer's hidden states, sequences one after another, no padding.
    public let lastHiddenState: Matrix
    /// Row where each sequence starts: sequence `i` is rows `sequenceStarts[i]..<sequenceStarts[i + 1]`.
    public let sequenceStarts: [Int]
    /// When requested: `hidden_states.0` (embeddings) … `hidden_states.N` (after layer N), each (tokens, hidden),
    /// as Hugging Face's `output_hidden_states=True` returns them (real tokens only). Empty otherwise.
    public let hiddenStates: [Matrix]

    /// The hidden states of sequence `index` (in `0..<sequenceStarts.count - 1`, like an array index): (length, hidden).
    public func lastHiddenState(ofSequence index: Int) -> Matrix {
        rows(of: lastHiddenState, sequence: index)
    }

    /// Rows of `matrix` (one of the outputs) that belong to sequence `index` (in `0..<sequenceStarts.count - 1`).
    public func rows(of matrix: Matrix, sequence index: Int) -> Matrix {
        let lower = sequenceStarts[index], upper = sequenceStarts[index + 1]
        let h = matrix.columns
        return Matrix(unchecked: Array(matrix.values[(lower * h)..<(upper * h)]), rows: upper - lower, columns: h)
    }
}
