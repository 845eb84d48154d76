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
