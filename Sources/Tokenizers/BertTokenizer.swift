import Foundation

/// The result of encoding one text (or a pair of texts).
public struct TokenizedText: Sendable, Equatable {
    /// Token ids, special tokens included (for example `[CLS] … [SEP]`), after truncation.
    public var inputIDs: [Int32]
    /// Segment ids, one per token: 0 for the first text and its special tokens, 1 for the second text.
    public var tokenTypeIDs: [Int32]
    /// The number of ids, special tokens included, that encoding would have produced without truncation.
    public var untruncatedLength: Int

    /// Creates a tokenized text.
    /// - Parameters:
    ///   - inputIDs: Token ids, special tokens included.
    ///   - tokenTypeIDs: Segment ids, one per token.
    ///   - untruncatedLength: The id count without truncation.
    public init(inputIDs: [Int32], tokenTypeIDs: [Int32], untruncatedLength: Int) {
        self.inputIDs = inputIDs
        self.tokenTypeIDs = tokenTypeIDs
        self.untruncatedLength = untruncatedLength
    }

    /// Whether truncation removed tokens.
    public var isTruncated: Bool { inputIDs.count < untruncatedLength }
}

/// A BERT WordPiece tokenizer reproducing the Hugging Face `tokenizers` library exactly.
///
/// Reads a `tokenizer.json` (normalizer `BertNormalizer`, `Lowercase`, `NFD`, `StripAccents` or a
/// `Sequence` of those; pre-tokenizer `BertPreTokenizer`, `WhitespaceSplit` or a `Sequence` of those;
/// model `WordPiece`; post-processor `TemplateProcessing` or `BertProcessing`), or a `vocab.txt` with
/// an optional `tokenizer_config.json`. Encoding works on Unicode scalars and never throws.
public struct BertTokenizer: Sendable {
    let normalizer: Normalizer
    let preTokenizer: PreTokenizer
    let model: WordPiece
    let addedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    let postProcessor: PostProcessor
    let idToToken: [Int32: String]

    /// The id of the classifier token (`[CLS]`), which starts every encoding.
    public let clsTokenID: Int32
    /// The id of the separator token (`[SEP]`), which ends every sequence.
    public let sepTokenID: Int32
    /// The id of the padding token (`[PAD]`; 0 if the tokenizer defines none).
    public let padTokenID: Int32
    /// The id of the unknown token (`[UNK]`).
    public var unknownTokenID: Int32 { model.unknownTokenID }

    /// The number of tokens: the vocabulary plus added tokens outside it.
    public var vocabularySize: Int { idToToken.count }

    // MARK: Loading

    /// Loads the tokenizer of a model folder: its `tokenizer.json` if present, otherwise its
    /// `vocab.txt` with the optional `tokenizer_config.json`.
    /// - Parameter modelFolder: The folder holding the tokenizer files.
    /// - Throws: ``TokenizerError`` naming the file and field at fault.
    public init(modelFolder: URL) throws(TokenizerError) {
        let json = modelFolder.appendingPathComponent("tokenizer.json")
        let vocab = modelFolder.appendingPathComponent("vocab.txt")
        let config = modelFolder.appendingPathComponent("tokenizer_config.json")
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: json.path) {
            try self.init(tokenizerJSON: json)
        } else if fileManager.fileExists(atPath: vocab.path) {
            try self.init(vocabFile: vocab, configFile: fileManager.fileExists(atPath: config.path) ? config : nil)
        } else {
            throw TokenizerError(.unreadableFile, file: modelFolder.path,
                                 message: "neither tokenizer.json nor vocab.txt found in the model folder")
        }
    }

    /// Loads a Hugging Face `tokenizer.json`.
    /// - Parameter url: The file's location.
    /// - Throws: ``TokenizerError`` naming the file and field at fault.
    public init(tokenizerJSON url: URL) throws(TokenizerError) {
        let loaded = try TokenizerJSONLoader(url: url).load()
        self.init(loaded)
    }

    /// Loads a BERT `vocab.txt` (one token per line, id = line number from 0) with the settings of an
    /// optional `tokenizer_config.json` (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`,
    /// `unk_token`, `cls_token`, `sep_token`, `pad_token`, `mask_token`), as
    /// `tokenizers.BertWordPieceTokenizer` builds it.
    /// - Parameters:
    ///   - vocabFile: The `vocab.txt` location.
    ///   - configFile: The `tokenizer_config.json` location, or `nil` for BERT defaults (lowercasing).
    /// - Throws: ``TokenizerError`` naming the file and field or line at fault.
    public init(vocabFile: URL, configFile: URL?) throws(TokenizerError) {
        let loaded = try VocabTextLoader(vocabURL: vocabFile, configURL: configFile).load()
        self.init(loaded)
    }

    init(_ parts: LoadedTokenizer) {
        normalizer = parts.normalizer
        preTokenizer = parts.preTokenizer
        model = parts.model
        addedTokens = AddedTokenMatcher(tokens: parts.addedTokens.filter { !$0.normalized })
        normalizedAddedTokens = AddedTokenMatcher(tokens: parts.addedTokens.filter { $0.normalized }.map { token in
            var token = token
            token.content = parts.normalizer.normalize(token.content[...])
            return token
        })
        postProcessor = parts.postProcessor
        idToToken = parts.idToToken
        clsTokenID = parts.clsTokenID
        sepTokenID = parts.sepTokenID
        padTokenID = parts.padTokenID
    }

    // MARK: Encoding

    /// Encodes one text: `[CLS] word pieces [SEP]` with token type ids 0.
    /// - Parameters:
    ///   - text: Any string.
    ///   - maxLength: The maximum number of ids, special tokens included; the word pieces beyond
    ///     `maxLength` minus the special tokens are dropped (the final `[SEP]` is kept). `nil`: no limit.
    /// - Returns: The ids, type ids and untruncated length.
    public func encode(_ text: String, maxLength: Int? = nil) -> TokenizedText {
        var a = sequenceIDs(text)
        let template = postProcessor.single
        let specials = PostProcessor.specialCount(template)
        let untruncated = a.count + specials
        if let maxLength {
            let budget = max(0, maxLength - specials)
            if a.count > budget { a.removeSubrange(budget...) }
        }
        let (ids, types) = postProcessor.apply(template, a: a, b: [])
        return TokenizedText(inputIDs: ids, tokenTypeIDs: types, untruncatedLength: untruncated)
    }

    /// Encodes a pair of texts: `[CLS] A [SEP] B [SEP]`, type ids 0 for A and 1 for B.
    /// - Parameters:
    ///   - text: The first text.
    ///   - pair: The second text.
    ///   - maxLength: The maximum number of ids, special tokens included; the longer text is truncated
    ///     first, as Hugging Face's `longest_first` strategy does. `nil`: no limit.
    /// - Returns: The ids, type ids and untruncated length.
    public func encode(_ text: String, pair: String, maxLength: Int? = nil) -> TokenizedText {
        var a = sequenceIDs(text)
        var b = sequenceIDs(pair)
        let template = postProcessor.pair
        let specials = PostProcessor.specialCount(template)
        let untruncated = a.count + b.count + specials
        if let maxLength {
            let budget = max(0, maxLength - specials)
            let (n1, n2) = BertTokenizer.longestFirst(a.count, b.count, budget: budget)
            if a.count > n1 { a.removeSubrange(n1...) }
            if b.count > n2 { b.removeSubrange(n2...) }
        }
        let (ids, types) = postProcessor.apply(template, a: a, b: b)
        return TokenizedText(inputIDs: ids, tokenTypeIDs: types, untruncatedLength: untruncated)
    }

    /// Hugging Face's `longest_first` pair truncation: the lengths to keep of both sequences.
    static func longestFirst(_ length1: Int, _ length2: Int, budget: Int) -> (Int, Int) {
        guard length1 + length2 > budget else { return (length1, length2) }
        if budget == 0 { return (0, 0) }
        var n1 = length1, n2 = length2
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }
        n2 = n1 > budget ? n1 : max(n1, budget - n1)
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        if swapped { swap(&n1, &n2) }
        return (min(n1, length1), min(n2, length2))
    }

    /// The word pieces of a text, without special tokens (for debugging).
    /// - Parameter text: Any string.
    /// - Returns: The vocabulary entries, e.g. `["token", "##izer"]`.
    public func tokens(of text: String) -> [String] {
        sequenceIDs(text).map { idToToken[$0] ?? "" }
    }

    /// The vocabulary entry (or added token) of an id.
    /// - Parameter id: A token id.
    /// - Returns: The token, or `nil` if the id is unknown.
    public func token(forID id: Int32) -> String? {
        idToToken[id]
    }

    /// The id of a vocabulary entry or added token.
    /// - Parameter token: A token such as `"[MASK]"` or `"##ing"`.
    /// - Returns: Its id, or `nil` if the token is not in the vocabulary.
    public func id(forToken token: String) -> Int32? {
        if let id = model.vocabulary[token] { return id }
        let scalars = Array(token.unicodeScalars)
        return (addedTokens.tokens + normalizedAddedTokens.tokens).first { $0.content == scalars }?.id
    }

    /// Model ids of one sequence, before post-processing.
    func sequenceIDs(_ text: String) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        for piece in addedTokens.split(scalars, 0..<scalars.count) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                let normalized = normalizer.normalize(scalars[range])
                for inner in normalizedAddedTokens.split(normalized, 0..<normalized.count) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let innerRange):
                        if innerRange == 0..<normalized.count {
                            tokenizeWords(normalized, into: &ids)
                        } else {
                            tokenizeWords(Array(normalized[innerRange]), into: &ids)
                        }
                    }
                }
            }
        }
        return ids
    }

    private func tokenizeWords(_ text: [Unicode.Scalar], into ids: inout [Int32]) {
        for word in preTokenizer.split(text) {
            model.tokenize(text, word, into: &ids)
        }
    }
}
