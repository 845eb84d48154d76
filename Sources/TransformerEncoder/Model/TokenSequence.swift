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
