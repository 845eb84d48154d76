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
    /// Whether ``forward(_:)`` returns L2-normalized rows (the model's pipeline ends in `Normalize`).
    var normalizes: Bool { get }
    /// Prompts from `config_sentence_transformers.json` (`prompts`), by name.
    var prompts: [String: String] { get }
    /// Name of the prompt applied when a request names none (`default_prompt_name`), if any.
    var defaultPromptName: String? { get }
    /// Tokenizes `text` as the model sees it: special tokens added, truncated to ``maxInputLength``.
    func tokenize(_ text: String) -> TokenizedText
    /// The id's vocabulary entry, for `/tokenize`.
    func token(forID id: Int32) -> String?
    /// Embeds the sequences in one pass: (sequences.count, ``dimension``).
    func forward(_ sequences: [TokenSequence]) throws(EncoderError) -> Matrix
}

/// A ``EmbeddingBackend`` over a ``SentenceEncoder`` (a sentence-transformers model folder).
public struct SentenceEncoderBackend: EmbeddingBackend {
    public let encoder: SentenceEncoder
    public let modelName: String
    public let prompts: [String: String]
    public let defaultPromptName: String?

    /// - Parameters:
    ///   - encoder: the loaded model.
    ///   - modelName: reported as `model`; the folder's name by default.
    public init(encoder: SentenceEncoder, modelName: String? = nil) throws(EncoderError) {
        self.encoder = encoder
        self.modelName = modelName ?? encoder.folder.standardizedFileURL.lastPathComponent
        // Prompts as the pipeline read them from config_sentence_transformers.json.
        let prompts = encoder.configuration.prompts
        let defaultPromptName = encoder.configuration.defaultPromptName
        self.prompts = prompts
        self.defaultPromptName = defaultPromptName
    }

    public var dimension: Int { encoder.dimension }
    public var maxInputLength: Int { encoder.maxSequenceLength }
    public var normalizes: Bool {
        // The output is unit length when the last module is a Normalize.
        if case .normalize? = encoder.modules.steps.last { return true }
        return false
    }
    public func tokenize(_ text: String) -> TokenizedText { encoder.tokenize(text) }
    public func token(forID id: Int32) -> String? { encoder.tokenizer.token(forID: id) }
    public func forward(_ sequences: [TokenSequence]) throws(EncoderError) -> Matrix {
        try encoder.embed(sequences, batchSize: max(sequences.count, 1))
    }
}
