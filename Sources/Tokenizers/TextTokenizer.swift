import Foundation

/// What the encoder pipeline needs of a tokenizer: text (or a pair of texts) to model ids exactly as
/// Hugging Face `tokenizers` produces them. The sentence encoder, the cross-encoder and the server
/// depend on this protocol only, so any tokenizer kind (WordPiece, BPE, Unigram) serves any model family.
public protocol TextTokenizer: Sendable {
    /// Encodes one text with the post-processor's special tokens, truncated to `maxLength` ids
    /// (special tokens included; `nil`: no limit).
    func encode(_ text: String, maxLength: Int?) -> TokenizedText
    /// Encodes a pair of texts (`[CLS] A [SEP] B [SEP]`, `<s> A </s></s> B </s>`…) with Hugging Face's
    /// `longest_first` truncation to `maxLength` ids; token type ids as the template gives them.
    func encode(_ text: String, pair: String, maxLength: Int?) -> TokenizedText
    /// One more than the largest id the tokenizer can produce (vocabulary and added tokens).
    var vocabularySize: Int { get }
    /// The vocabulary entry (or added token) of an id, `nil` if the id is unknown.
    func token(forID id: Int32) -> String?
    /// The id of a vocabulary entry or added token, `nil` if it has none.
    func id(forToken token: String) -> Int32?
    /// Checks that every token type id the tokenizer gives is below `typeVocabularySize` (a model's
    /// `type_vocab_size`); the error names the tokenizer file and field.
    func validateTypeIDs(typeVocabularySize: Int) throws(TokenizerError)
}

extension PipelineTokenizer: TextTokenizer {}

/// Picks and loads the tokenizer a model folder describes.
public enum TokenizerLoader {
    /// The tokenizer of a model folder: `tokenizer.json` when present (its components decide the
    /// pipeline: WordPiece, BPE or Unigram, …), otherwise `vocab.txt` (+ `tokenizer_config.json`) as a
    /// WordPiece tokenizer.
    /// - Throws: ``TokenizerError`` naming the file and field at fault.
    public static func load(modelFolder: URL) throws(TokenizerError) -> any TextTokenizer {
        try PipelineTokenizer(modelFolder: modelFolder)
    }
}
