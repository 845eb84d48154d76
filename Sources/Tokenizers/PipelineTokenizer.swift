import Foundation

/// The result of encoding one text (or a pair of texts).
public struct TokenizedText: Sendable, Equatable {
    /// Token ids, special tokens included (for example `[CLS] … [SEP]`), after truncation.
    public var inputIDs: [Int32]
    /// Segment ids, one per token: 0 for the first text and its special tokens, 1 for the second text.
    public var tokenTypeIDs: [Int32]
    /// The number of ids, special tokens included, that encoding would have produced without truncation.
    /// When truncation let encoding stop early (cost follows the tokens kept, not the text's length), the
    /// number of ids produced before stopping: then always more than `inputIDs.count`, but possibly less
    /// than the full count.
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

/// The model stage: WordPiece, BPE or Unigram.
enum TokenizerModel: Sendable {
    case wordPiece(WordPiece)
    case bpe(BPEModel)
    case unigram(UnigramModel)

    /// Appends the ids of the word `text[range]`.
    @inline(__always)
    func tokenize(_ text: [Unicode.Scalar], _ range: Range<Int>, into ids: inout [Int32]) {
        switch self {
        case .wordPiece(let model): model.tokenize(text, range, into: &ids)
        case .bpe(let model): model.tokenize(text, range, into: &ids)
        case .unigram(let model): model.tokenize(text[range], into: &ids)
        }
    }

    /// The kind, as `model.type` names it.
    var typeName: String {
        switch self {
        case .wordPiece: return "WordPiece"
        case .bpe: return "BPE"
        case .unigram: return "Unigram"
        }
    }
}

/// A tokenizer reproducing the Hugging Face `tokenizers` library exactly, assembled from the components
/// a `tokenizer.json` names: normalizer, pre-tokenizer, model (WordPiece, BPE, Unigram), added tokens and
/// post-processor (see Docs/Tokenizers.md for the supported components). A BERT `vocab.txt` (with an
/// optional `tokenizer_config.json`) loads as the WordPiece pipeline `BertWordPieceTokenizer` builds.
/// Encoding works on Unicode scalars and never throws.
public struct PipelineTokenizer: Sendable {
    let normalizer: Normalizer
    let preTokenizer: PreTokenizer
    let model: TokenizerModel
    let addedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    let postProcessor: PostProcessor
    let idToToken: [Int32: String]
    let tokenToID: Vocabulary
    /// Whether truncation may stop encoding early (see ``PipelineTokenizer/canStopEarly``).
    var stopsEarly: Bool
    let sourceFile: String
    let typeIDFields: [(field: String, typeID: Int32)]

    /// The id of the classifier token (`[CLS]`, `<s>`) that starts encodings, if the post-processor adds one.
    public let clsTokenID: Int32?
    /// The id of the separator token (`[SEP]`, `</s>`) that ends sequences, if the post-processor adds one.
    public let sepTokenID: Int32?
    /// The id of the padding token (`padding.pad_id`, or `[PAD]` / `<pad>` if in the vocabulary).
    public let padTokenID: Int32?
    /// The id of the unknown token, if the model has one.
    public let unknownTokenID: Int32?
    /// One more than the largest id of the vocabulary and added tokens.
    public let vocabularySize: Int
    /// The model kind: `WordPiece`, `BPE` or `Unigram`.
    public var modelType: String { model.typeName }
    /// One more than the largest token type id the post-processor gives.
    public var typeIDCount: Int { postProcessor.typeIDCount }

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

    /// Loads a Hugging Face `tokenizer.json`; its components decide the pipeline.
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
        tokenToID = parts.tokenToID
        vocabularySize = parts.vocabularySize
        clsTokenID = parts.clsTokenID
        sepTokenID = parts.sepTokenID
        padTokenID = parts.padTokenID
        unknownTokenID = parts.unknownTokenID
        sourceFile = parts.sourceFile
        typeIDFields = parts.typeIDFields
        stopsEarly = PipelineTokenizer.canStopEarly(normalizer: parts.normalizer, preTokenizer: parts.preTokenizer)
            && !addedTokens.spansSpaces && !normalizedAddedTokens.spansSpaces
    }

    /// Whether a text can be encoded chunk by chunk, cut before a U+0020 space between two ASCII letters
    /// or digits, with the ids of the whole text. True when every normalizer step maps such a window to
    /// itself (up to case) without looking across it, and the pre-tokenizer splits there whatever the
    /// chunk: its first splitting step breaks words at spaces (BertPreTokenizer, WhitespaceSplit,
    /// Whitespace, ByteLevel with the GPT-2 pattern, Metaspace with `split`), only Punctuation or Digits
    /// before it, and later steps are local ones. Strip, Prepend, a Replace whose pattern could match a
    /// letter or digit, Split patterns and Metaspace without `split` disable early stopping (encoding is
    /// then exact and proportional to the text).
    static func canStopEarly(normalizer: Normalizer, preTokenizer: PreTokenizer) -> Bool {
        for step in normalizer.steps {
            switch step {
            case .cleanText, .chineseChars, .nfd, .stripNonspacingMarks, .stripCombiningMarks, .lowercase, .unicodeForm,
                 .precompiled:
                continue
            case .strip, .prepend:
                return false
            case .replace(let pattern, _):
                switch pattern {
                case .literal(let scalars):
                    if scalars.contains(where: { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }) {
                        return false
                    }
                case .regex(let regex):
                    if !PipelineTokenizer.isSpaceRunPattern(regex.source) { return false }
                }
            }
        }
        var splitsAtSpaces = false
        for step in preTokenizer.steps {
            switch step {
            case .bert, .whitespaceSplit, .whitespace:
                splitsAtSpaces = true
            case .byteLevel(_, let useRegex):
                if useRegex { splitsAtSpaces = true } else if !splitsAtSpaces { return false }
            case .metaspace(_, _, let split):
                if split { splitsAtSpaces = true } else { return false }
            case .punctuation, .digits:
                continue
            case .split:
                return false
            }
        }
        return splitsAtSpaces
    }

    /// `" +"`, `" {2,}"`, `" *"`: patterns matching only runs of spaces.
    static func isSpaceRunPattern(_ source: String) -> Bool {
        var rest = Substring(source)
        guard rest.first == " " else { return false }
        while rest.first == " " { rest = rest.dropFirst() }
        if rest.isEmpty || rest == "+" || rest == "*" { return true }
        guard rest.first == "{", rest.last == "}" else { return false }
        return rest.dropFirst().dropLast().allSatisfy { $0 == "," || ("0"..."9").contains($0) }
    }

    /// Checks that every token type id the templates give is below `typeVocabularySize` (a model's
    /// `type_vocab_size`), naming the tokenizer file and the template field at fault.
    public func validateTypeIDs(typeVocabularySize: Int) throws(TokenizerError) {
        for (field, typeID) in typeIDFields where Int(typeID) >= typeVocabularySize {
            throw TokenizerError(.invalidField, file: sourceFile, field: field,
                                 message: "type id \(typeID) is outside the model's type_vocab_size of \(typeVocabularySize)")
        }
    }

    // MARK: Encoding

    /// Encodes one text with the post-processor's special tokens (`[CLS] … [SEP]`, `<s> … </s>`).
    /// - Parameters:
    ///   - text: Any string.
    ///   - maxLength: The maximum number of ids, special tokens included; the ids beyond `maxLength`
    ///     minus the special tokens are dropped (the final special tokens are kept). `nil`: no limit.
    /// - Returns: The ids, type ids and untruncated length.
    public func encode(_ text: String, maxLength: Int? = nil) -> TokenizedText {
        let template = postProcessor.single
        let specials = PostProcessor.specialCount(template)
        let budget = maxLength.map { max(0, $0 - specials) }
        var a = sequenceIDs(text, limit: budget).ids
        let untruncated = a.count + specials
        if let budget, a.count > budget { a.removeSubrange(budget...) }
        let (ids, types) = postProcessor.apply(template, a: a, b: [])
        return TokenizedText(inputIDs: ids, tokenTypeIDs: types, untruncatedLength: untruncated)
    }

    /// Encodes a pair of texts (`[CLS] A [SEP] B [SEP]`, `<s> A </s></s> B </s>`…).
    /// - Parameters:
    ///   - text: The first text.
    ///   - pair: The second text.
    ///   - maxLength: The maximum number of ids, special tokens included; the longer text is truncated
    ///     first, as Hugging Face's `longest_first` strategy does. `nil`: no limit.
    /// - Returns: The ids, type ids and untruncated length.
    public func encode(_ text: String, pair: String, maxLength: Int? = nil) -> TokenizedText {
        let template = postProcessor.pair
        let specials = PostProcessor.specialCount(template)
        let budget = maxLength.map { max(0, $0 - specials) }
        var (a, aComplete) = sequenceIDs(text, limit: budget)
        var (b, bComplete) = sequenceIDs(pair, limit: budget)
        if let budget, budget % 2 == 1, a.count > budget, b.count > budget, !(aComplete && bComplete) {
            // Both are truncated to about half the budget; which one is longer decides who keeps the odd id.
            if aComplete {
                b = sequenceIDs(pair, limit: a.count).ids
            } else if bComplete {
                a = sequenceIDs(text, limit: b.count).ids
            } else {
                (a, aComplete) = sequenceIDs(text, limit: nil)
                b = sequenceIDs(pair, limit: a.count).ids
            }
        }
        let untruncated = a.count + b.count + specials
        if let budget {
            let (n1, n2) = PipelineTokenizer.longestFirst(a.count, b.count, budget: budget)
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

    /// The tokens of a text, without special tokens (for debugging).
    /// - Parameter text: Any string.
    /// - Returns: The vocabulary entries, e.g. `["token", "##izer"]`.
    public func tokens(of text: String) -> [String] {
        sequenceIDs(text, limit: nil).ids.map { idToToken[$0] ?? "" }
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
        tokenToID[token]
    }

    /// Model ids of one sequence, before post-processing. With a `limit`, encoding may stop once more
    /// than `limit` ids are produced (`complete == false`); the ids produced are those of the whole text.
    func sequenceIDs(_ text: String, limit: Int?) -> (ids: [Int32], complete: Bool) {
        var ids: [Int32] = []
        guard let limit, stopsEarly else {
            let scalars = Array(text.unicodeScalars)
            ids.reserveCapacity(scalars.count / 3 + 4)
            appendIDs(scalars, startsText: true, into: &ids)
            return (ids, true)
        }
        var iterator = text.unicodeScalars.makeIterator()
        var buffer: [Unicode.Scalar] = []
        var target = 1024
        var startsText = true
        while true {
            var exhausted = false
            while buffer.count < target {
                guard let scalar = iterator.next() else { exhausted = true; break }
                buffer.append(scalar)
            }
            if exhausted {
                appendIDs(buffer, startsText: startsText, into: &ids)
                return (ids, true)
            }
            // The last cut before a space between two ASCII letters or digits.
            var cut = buffer.count - 2
            while cut > 0 && !PipelineTokenizer.isCut(buffer, cut) { cut -= 1 }
            if cut <= 0 {
                target *= 2
                continue
            }
            appendIDs(Array(buffer[..<cut]), startsText: startsText, into: &ids)
            buffer.removeSubrange(..<cut)
            startsText = false
            if ids.count > limit { return (ids, false) }
            target = max(1024, min(target, 4 * (limit - ids.count) + 64))
            target = max(target, buffer.count + 256)
        }
    }

    @inline(__always)
    private static func isCut(_ buffer: [Unicode.Scalar], _ i: Int) -> Bool {
        @inline(__always) func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
            let v = s.value
            return (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v)
        }
        return buffer[i] == " " && isAlphanumeric(buffer[i - 1]) && isAlphanumeric(buffer[i + 1])
    }

    /// Appends the model ids of `scalars` (a whole text, or a chunk of one cut where ``canStopEarly`` allows).
    private func appendIDs(_ scalars: [Unicode.Scalar], startsText: Bool, into ids: inout [Int32]) {
        for piece in addedTokens.split(scalars, 0..<scalars.count) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                // Metaspace's prepend_scheme "first" asks whether the normalized text still begins at
                // original offset 0: not if normalization removed the first scalar (a leading mark, a
                // stripped space, a dropped control character).
                var pieceStartsText = startsText && range.lowerBound == 0
                if pieceStartsText && !normalizer.steps.isEmpty && !range.isEmpty
                    && normalizer.normalize(scalars[range.lowerBound..<(range.lowerBound + 1)]).isEmpty {
                    pieceStartsText = false
                }
                let normalized = normalizer.steps.isEmpty ? Array(scalars[range]) : normalizer.normalize(scalars[range])
                for inner in normalizedAddedTokens.split(normalized, 0..<normalized.count) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let innerRange):
                        let innerStartsText = pieceStartsText && innerRange.lowerBound == 0
                        if innerRange == 0..<normalized.count {
                            tokenizeWords(normalized, startsText: innerStartsText, into: &ids)
                        } else {
                            tokenizeWords(Array(normalized[innerRange]), startsText: innerStartsText, into: &ids)
                        }
                    }
                }
            }
        }
    }

    private func tokenizeWords(_ text: [Unicode.Scalar], startsText: Bool, into ids: inout [Int32]) {
        let (scalars, words) = preTokenizer.split(text, startsText: startsText)
        for word in words {
            model.tokenize(scalars, word, into: &ids)
        }
    }
}

/// The tokenizer type under its original name: the WordPiece pipeline is one configuration of it.
public typealias BertTokenizer = PipelineTokenizer
