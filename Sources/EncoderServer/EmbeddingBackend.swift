import Foundation
import TransformerEncoder

/// What the server needs of an embedding model: tokenization at the edge, and one forward pass over
/// many (already tokenized) inputs in the batcher.
public protocol EmbeddingBackend: Sendable {
    /// Name reported in responses (`model`) and at `GET /info`.
    var modelName: String { get }
    /// Width of an embedding.
    var dimension: Int { get }
    /// Longest input in tokens, special tokens included; longer inputs are truncated to it.
    var maxInputLength: Int { get }
    /// Whether the model's pipeline ends in `Normalize`: ``forward(_:promptLength:)`` leaves that module out
    /// (so that TEI's `normalize: false` can return raw embeddings) and the handlers apply it.
    var normalizes: Bool { get }
    /// Prompts from `config_sentence_transformers.json` (`prompts`), by name.
    var prompts: [String: String] { get }
    /// Name of the prompt applied when a request names none (`default_prompt_name`), if any.
    var defaultPromptName: String? { get }
    /// Tokenizes `text` as the model sees it: special tokens added, truncated to ``maxInputLength``.
    func tokenize(_ text: String) -> TokenizedText
    /// Tokens a prompt occupies at the start of each sequence (for pooling that leaves the prompt out).
    func promptLength(_ prompt: String) -> Int
    /// The id's vocabulary entry, for `/tokenize`.
    func token(forID id: Int32) -> String?
    /// Embeds the sequences (all starting with a prompt of `promptLength` tokens, 0 for none) in one pass,
    /// without a final `Normalize` module (see ``normalizes``): (sequences.count, ``dimension``).
    func forward(_ sequences: [TokenSequence], promptLength: Int) throws(EncoderError) -> Matrix
}

/// A ``EmbeddingBackend`` over a ``SentenceEncoder`` (a sentence-transformers model folder: its modules,
/// prompts and lowercasing apply as in `SentenceEncoder.encode`).
public struct SentenceEncoderBackend: EmbeddingBackend {
    public let encoder: SentenceEncoder
    public let modelName: String

    /// - Parameters:
    ///   - encoder: the loaded model.
    ///   - modelName: reported as `model`; the folder's name by default.
    public init(encoder: SentenceEncoder, modelName: String? = nil) {
        self.encoder = encoder
        self.modelName = modelName ?? encoder.folder.standardizedFileURL.lastPathComponent
    }

    public var dimension: Int { encoder.dimension }
    public var maxInputLength: Int { encoder.maxSequenceLength }
    public var normalizes: Bool { encoder.modules.endsWithNormalize }
    public var prompts: [String: String] { encoder.configuration.prompts }
    public var defaultPromptName: String? { encoder.configuration.defaultPromptName }
    public func tokenize(_ text: String) -> TokenizedText { encoder.tokenize(text) }
    public func promptLength(_ prompt: String) -> Int { encoder.promptLength(prompt) }
    public func token(forID id: Int32) -> String? { encoder.tokenizer.token(forID: id) }
    public func forward(_ sequences: [TokenSequence], promptLength: Int) throws(EncoderError) -> Matrix {
        try encoder.embed(
            sequences, batchSize: max(sequences.count, 1), promptLength: promptLength, applyingFinalNormalize: false)
    }
}
