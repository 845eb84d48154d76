/// An error raised while loading a tokenizer. It names the file, the field (or line) and the problem.
///
/// Encoding never throws; only the initializers of ``BertTokenizer`` do.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of a ``TokenizerError``.
    public enum Kind: String, Sendable, Equatable {
        /// The file (or model folder) is missing or cannot be read.
        case unreadableFile
        /// The file is not valid JSON, is not a JSON object, or is not valid UTF-8 text.
        case invalidJSON
        /// A required field is absent.
        case missingField
        /// A field has the wrong type or an invalid value.
        case invalidField
        /// A component type (model, normalizer, pre-tokenizer, post-processor) is not supported.
        case unsupported
        /// A required special token (unknown, classifier or separator token) is not in the vocabulary.
        case missingSpecialToken
        /// The vocabulary is empty, or its ids are duplicated or out of range.
        case invalidVocabulary
    }

    /// What went wrong, as a category.
    public var kind: Kind
    /// The path of the file the problem is in.
    public var file: String
    /// The JSON field path (for example `model.vocab`) or `line N` of a text file; `nil` for whole-file problems.
    public var field: String?
    /// A human-readable explanation of the problem.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - kind: The category of the problem.
    ///   - file: The path of the offending file.
    ///   - field: The field path or line, if the problem is local to one.
    ///   - message: A human-readable explanation.
    public init(_ kind: Kind, file: String, field: String? = nil, message: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.message = message
    }

    /// `file: field: message`.
    public var description: String {
        if let field {
            return "\(file): \(field): \(message)"
        }
        return "\(file): \(message)"
    }
}
