import Foundation
import JSONCore

/// Builds a tokenizer from a Hugging Face `tokenizer.json`: every component is read from the file, and
/// a component type it does not know is a ``TokenizerError`` naming the type, the field and the file.
struct TokenizerJSONLoader {
    let url: URL
    /// The most entries each of `model.vocab`, `model.merges` and `added_tokens` may have
    /// (``maximumVocabularyEntries``; tests pass a smaller one).
    var maximumEntries = maximumVocabularyEntries
    var reader: JSONReader { JSONReader(file: url.path) }

    func load() throws(TokenizerError) -> LoadedTokenizer {
        let root = try readJSONObject(url)
        let reader = self.reader

        // Model
        let modelObject = try reader.object(root["model"], "model")
        var (model, vocabulary, idToToken, unknownID) = try loadModel(modelObject)

        // Added tokens (their ids may extend the vocabulary).
        var addedTokens: [AddedToken] = []
        if let addedValue = root["added_tokens"], addedValue != .null {
            let items = try reader.array(addedValue, "added_tokens")
            try checkEntryCount(items.count, limit: maximumEntries, file: url.path, field: "added_tokens")
            for (index, item) in items.enumerated() {
                let field = "added_tokens[\(index)]"
                let object = try reader.object(item, field)
                let content = try reader.string(object["content"], field + ".content")
                let id = Int32(try reader.int(object["id"], field + ".id"))
                if let existing = idToToken[id], existing != content {
                    throw reader.error(.invalidVocabulary, field + ".id",
                                       "id \(id) of \"\(content)\" is already the id of \"\(existing)\" in model.vocab")
                }
                idToToken[id] = content
                vocabulary[content] = id
                addedTokens.append(AddedToken(
                    id: id, content: Array(content.unicodeScalars),
                    singleWord: try reader.bool(object["single_word"], field + ".single_word", default: false),
                    leftStrip: try reader.bool(object["lstrip"], field + ".lstrip", default: false),
                    rightStrip: try reader.bool(object["rstrip"], field + ".rstrip", default: false),
                    normalized: try reader.bool(object["normalized"], field + ".normalized", default: true)))
            }
        }
        let largestID = idToToken.keys.max() ?? -1
        let vocabularySize = Int(largestID) + 1

        let normalizer = try normalizerFrom(root["normalizer"], field: "normalizer")
        let preTokenizer = try preTokenizerFrom(root["pre_tokenizer"], field: "pre_tokenizer")
        var typeIDFields: [(field: String, typeID: Int32)] = []
        let postProcessor = try postProcessorFrom(root["post_processor"], field: "post_processor",
                                                  vocabulary: vocabulary, idToToken: idToToken, typeIDFields: &typeIDFields) ?? .none
        if typeIDFields.isEmpty { typeIDFields = [("post_processor (none: the second text has type id 1)", 1)] }

        func firstSpecial(_ template: [TemplatePiece], last: Bool) -> Int32? {
            let ids = template.compactMap { piece -> Int32? in
                if case .special(let ids, _) = piece { return last ? ids.last : ids.first }
                return nil
            }
            return last ? ids.last : ids.first
        }
        var padID: Int32? = vocabulary["[PAD]"] ?? vocabulary["<pad>"]
        if case .object(let padding)? = root["padding"] {
            if reader.isNumber(padding["pad_id"]) {
                padID = Int32(try reader.int(padding["pad_id"], "padding.pad_id"))
            } else if case .string(let padToken)? = padding["pad_token"], let id = vocabulary[padToken] {
                padID = id
            }
        }
        return LoadedTokenizer(normalizer: normalizer, preTokenizer: preTokenizer, model: model,
                               addedTokens: addedTokens, postProcessor: postProcessor, idToToken: idToToken,
                               tokenToID: vocabulary, vocabularySize: vocabularySize,
                               clsTokenID: firstSpecial(postProcessor.single, last: false),
                               sepTokenID: firstSpecial(postProcessor.single, last: true),
                               padTokenID: padID, unknownTokenID: unknownID, sourceFile: url.path, typeIDFields: typeIDFields)
    }

    // MARK: Model

    private func loadModel(_ object: [String: JSONValue]) throws(TokenizerError)
        -> (TokenizerModel, Vocabulary, [Int32: String], Int32?) {
        let declared = try reader.optionalString(object["type"], "model.type")
        let type: String
        if let declared {
            type = declared
        } else if object["merges"] != nil {
            type = "BPE"
        } else if case .array? = object["vocab"] {
            type = "Unigram"
        } else if object["continuing_subword_prefix"] != nil || object["max_input_chars_per_word"] != nil {
            type = "WordPiece"
        } else {
            throw reader.error(.unsupported, "model.type", "missing model type (supported: WordPiece, BPE, Unigram)")
        }
        switch type {
        case "WordPiece":
            let (vocabulary, idToToken) = try vocabularyObject(object["vocab"])
            let unkToken = try reader.optionalString(object["unk_token"], "model.unk_token") ?? "[UNK]"
            let prefix = try reader.optionalString(object["continuing_subword_prefix"], "model.continuing_subword_prefix") ?? "##"
            let maxInputChars = object["max_input_chars_per_word"] == nil ? 100
                : try reader.int(object["max_input_chars_per_word"], "model.max_input_chars_per_word")
            guard let unkID = vocabulary[unkToken] else {
                throw reader.error(.missingSpecialToken, "model.unk_token", "the unknown token \"\(unkToken)\" is not in model.vocab")
            }
            let model = WordPiece(vocabulary: vocabulary, unknownTokenID: unkID,
                                  continuingSubwordPrefix: prefix, maxInputCharsPerWord: maxInputChars)
            return (.wordPiece(model), vocabulary, idToToken, unkID)
        case "BPE":
            let (vocabulary, idToToken) = try vocabularyObject(object["vocab"])
            // An empty prefix or suffix is the same as none.
            let prefix = try reader.optionalString(object["continuing_subword_prefix"], "model.continuing_subword_prefix")
                .flatMap { $0.isEmpty ? nil : $0 }
            let suffix = try reader.optionalString(object["end_of_word_suffix"], "model.end_of_word_suffix")
                .flatMap { $0.isEmpty ? nil : $0 }
            var unkID: Int32?
            if let unkToken = try reader.optionalString(object["unk_token"], "model.unk_token") {
                guard let id = vocabulary[unkToken] else {
                    throw reader.error(.missingSpecialToken, "model.unk_token", "the unknown token \"\(unkToken)\" is not in model.vocab")
                }
                unkID = id
            }
            let merges = try mergeTable(object["merges"], vocabulary: vocabulary, prefixBytes: prefix?.utf8.count ?? 0)
            let model = BPEModel(
                vocabulary: vocabulary, merges: merges, unknownTokenID: unkID, continuingSubwordPrefix: prefix,
                endOfWordSuffix: suffix,
                fuseUnknown: try reader.bool(object["fuse_unk"], "model.fuse_unk", default: false),
                byteFallback: try reader.bool(object["byte_fallback"], "model.byte_fallback", default: false),
                ignoreMerges: try reader.bool(object["ignore_merges"], "model.ignore_merges", default: false))
            return (.bpe(model), vocabulary, idToToken, unkID)
        case "Unigram":
            let items = try reader.array(object["vocab"], "model.vocab")
            guard !items.isEmpty else {
                throw reader.error(.invalidVocabulary, "model.vocab", "the vocabulary is empty")
            }
            try checkEntryCount(items.count, limit: maximumEntries, file: url.path, field: "model.vocab")
            var entries: [(token: String, score: Double)] = []
            entries.reserveCapacity(items.count)
            var vocabulary: Vocabulary = Vocabulary()
            vocabulary.reserveCapacity(items.count)
            var idToToken: [Int32: String] = [:]
            idToToken.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let field = "model.vocab[\(index)]"
                let pair = try reader.array(item, field)
                guard pair.count == 2 else { throw reader.error(.invalidVocabulary, field, "expected [token, score]") }
                let token = try reader.string(pair[0], field + "[0]")
                let score = try reader.double(pair[1], field + "[1]")
                entries.append((token, score))
                vocabulary[token] = Int32(index)
                idToToken[Int32(index)] = token
            }
            var unkID: Int?
            if let value = object["unk_id"], value != .null {
                let id = try reader.int(value, "model.unk_id")
                guard id < items.count else {
                    throw reader.error(.invalidField, "model.unk_id", "id \(id) is outside the vocabulary of \(items.count) entries")
                }
                unkID = id
            }
            let byteFallback = try reader.bool(object["byte_fallback"], "model.byte_fallback", default: false)
            let model = try UnigramModel(vocabulary: entries, unknownID: unkID, byteFallback: byteFallback, file: url.path)
            return (.unigram(model), vocabulary, idToToken, unkID.map { Int32($0) })
        default:
            throw reader.error(.unsupported, "model.type", "unsupported model type \"\(type)\" (supported: WordPiece, BPE, Unigram)")
        }
    }

    /// `model.vocab` as an object of token -> id; each id once, in 0...Int32.max - 1. Ids need not be
    /// contiguous (Hugging Face accepts holes); ``PipelineTokenizer/vocabularySize`` is the largest + 1.
    private func vocabularyObject(_ value: JSONValue?) throws(TokenizerError) -> (Vocabulary, [Int32: String]) {
        let vocabObject = try reader.object(value, "model.vocab")
        guard !vocabObject.isEmpty else {
            throw reader.error(.invalidVocabulary, "model.vocab", "the vocabulary is empty")
        }
        try checkEntryCount(vocabObject.count, limit: maximumEntries, file: url.path, field: "model.vocab")
        var vocabulary: Vocabulary = Vocabulary()
        vocabulary.reserveCapacity(vocabObject.count)
        var idToToken: [Int32: String] = [:]
        idToToken.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject {
            let field = "model.vocab[\"\(token)\"]"
            guard reader.isNumber(value) else {
                throw reader.error(.invalidVocabulary, field, "expected an integer id, found \(value.typeName)")
            }
            guard let id = try? reader.int(value, field, range: 0...(Int(Int32.max) - 1)) else {
                throw reader.error(.invalidVocabulary, field,
                                   "id \(JSONReader.describe(value)) out of range (ids are integers from 0 to \(Int32.max - 1))")
            }
            let id32 = Int32(id)
            if let other = idToToken[id32] {
                let pair = [other, token].sorted()
                throw reader.error(.invalidVocabulary, "model.vocab",
                                   "id \(id) is duplicated (tokens \"\(pair[0])\" and \"\(pair[1])\")")
            }
            idToToken[id32] = token
            vocabulary[token] = id32
        }
        return (vocabulary, idToToken)
    }

    /// `model.merges` ("a b" strings or ["a", "b"] pairs) as a table keyed by the pair of ids; rank = position.
    private func mergeTable(_ value: JSONValue?, vocabulary: Vocabulary, prefixBytes: Int) throws(TokenizerError)
        -> [UInt64: BPEModel.Merge] {
        guard let value, value != .null else { return [:] }
        let items = try reader.array(value, "model.merges")
        try checkEntryCount(items.count, limit: maximumEntries, file: url.path, field: "model.merges")
        var table: [UInt64: BPEModel.Merge] = [:]
        table.reserveCapacity(items.count)
        for (rank, item) in items.enumerated() {
            let field = "model.merges[\(rank)]"
            let left: String, right: String
            switch item {
            case .string(let line):
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw reader.error(.invalidField, field, "expected two tokens separated by one space, found \"\(line.prefix(80))\"")
                }
                left = String(parts[0]); right = String(parts[1])
            case .array(let pair):
                guard pair.count == 2 else { throw reader.error(.invalidField, field, "expected [left, right]") }
                left = try reader.string(pair[0], field + "[0]")
                right = try reader.string(pair[1], field + "[1]")
            default:
                throw reader.error(.invalidField, field, "expected a string or a pair of strings, found \(item.typeName)")
            }
            guard let leftID = vocabulary[left] else {
                throw reader.error(.invalidVocabulary, field, "\"\(left)\" is not in model.vocab")
            }
            guard let rightID = vocabulary[right] else {
                throw reader.error(.invalidVocabulary, field, "\"\(right)\" is not in model.vocab")
            }
            guard right.utf8.count >= prefixBytes,
                  let rightTail = String(right.utf8.dropFirst(prefixBytes)) else {
                throw reader.error(.invalidVocabulary, field, "\"\(right)\" is shorter than the continuing_subword_prefix")
            }
            let merged = left + rightTail
            guard let newID = vocabulary[merged] else {
                throw reader.error(.invalidVocabulary, field, "the merged token \"\(merged)\" is not in model.vocab")
            }
            table[BPEModel.key(leftID, rightID)] = BPEModel.Merge(rank: Int32(rank), newID: newID)
        }
        return table
    }

    // MARK: Normalizer

    private func normalizerFrom(_ value: JSONValue?, field: String) throws(TokenizerError) -> Normalizer {
        guard let value, value != .null else { return Normalizer(steps: []) }
        let object = try reader.object(value, field)
        let type = try reader.string(object["type"], field + ".type")
        switch type {
        case "BertNormalizer":
            let lowercase = try reader.bool(object["lowercase"], field + ".lowercase", default: true)
            return .bert(cleanText: try reader.bool(object["clean_text"], field + ".clean_text", default: true),
                         chineseChars: try reader.bool(object["handle_chinese_chars"], field + ".handle_chinese_chars", default: true),
                         stripAccents: try reader.optionalBool(object["strip_accents"], field + ".strip_accents"),
                         lowercase: lowercase)
        case "Lowercase": return Normalizer(steps: [.lowercase])
        case "NFD": return Normalizer(steps: [.nfd])
        case "NFC": return Normalizer(steps: [.unicodeForm(.nfc)])
        case "NFKC": return Normalizer(steps: [.unicodeForm(.nfkc)])
        case "NFKD": return Normalizer(steps: [.unicodeForm(.nfkd)])
        case "StripAccents": return Normalizer(steps: [.stripCombiningMarks])
        case "Strip":
            return Normalizer(steps: [.strip(left: try reader.bool(object["strip_left"], field + ".strip_left", default: true),
                                             right: try reader.bool(object["strip_right"], field + ".strip_right", default: true))])
        case "Replace":
            let pattern = try textPattern(object["pattern"], field: field + ".pattern")
            let content = try reader.string(object["content"], field + ".content")
            return Normalizer(steps: [.replace(pattern, content: Array(content.unicodeScalars))])
        case "Prepend":
            let prefix = try reader.string(object["prepend"], field + ".prepend")
            return Normalizer(steps: [.prepend(Array(prefix.unicodeScalars))])
        case "Precompiled":
            let base64 = try reader.string(object["precompiled_charsmap"], field + ".precompiled_charsmap")
            let charsmap = try PrecompiledCharsmap(base64: base64, file: url.path, field: field + ".precompiled_charsmap")
            return Normalizer(steps: [.precompiled(charsmap)])
        case "Sequence":
            var steps: [NormalizerStep] = []
            for (index, item) in try reader.array(object["normalizers"], field + ".normalizers").enumerated() {
                steps += try normalizerFrom(item, field: "\(field).normalizers[\(index)]").steps
            }
            return Normalizer(steps: steps)
        default:
            throw reader.error(.unsupported, field + ".type",
                               "unsupported normalizer type \"\(type)\" (supported: BertNormalizer, Lowercase, NFC, NFD, NFKC, NFKD, "
                               + "StripAccents, Strip, Replace, Prepend, Precompiled, Sequence)")
        }
    }

    /// `{"String": "..."}` or `{"Regex": "..."}`.
    private func textPattern(_ value: JSONValue?, field: String) throws(TokenizerError) -> TextPattern {
        let object = try reader.object(value, field)
        if let literal = object["String"] {
            return .literal(Array(try reader.string(literal, field + ".String").unicodeScalars))
        }
        if let regex = object["Regex"] {
            let source = try reader.string(regex, field + ".Regex")
            return .regex(try RegexPattern(source, file: url.path, field: field + ".Regex"))
        }
        throw reader.error(.invalidField, field, "expected {\"String\": ...} or {\"Regex\": ...}")
    }

    // MARK: Pre-tokenizer

    private func preTokenizerFrom(_ value: JSONValue?, field: String) throws(TokenizerError) -> PreTokenizer {
        guard let value, value != .null else { return PreTokenizer(steps: []) }
        let object = try reader.object(value, field)
        let type = try reader.string(object["type"], field + ".type")
        func behavior(_ key: String, default defaultValue: SplitBehavior) throws(TokenizerError) -> SplitBehavior {
            guard let raw = try reader.optionalString(object[key], "\(field).\(key)") else { return defaultValue }
            guard let behavior = SplitBehavior(rawValue: raw) else {
                throw reader.error(.invalidField, "\(field).\(key)",
                                   "unknown behavior \"\(raw)\" (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)")
            }
            return behavior
        }
        switch type {
        case "BertPreTokenizer": return PreTokenizer(steps: [.bert])
        case "WhitespaceSplit": return PreTokenizer(steps: [.whitespaceSplit])
        case "Whitespace": return PreTokenizer(steps: [.whitespace])
        case "Punctuation": return PreTokenizer(steps: [.punctuation(try behavior("behavior", default: .isolated))])
        case "Digits":
            return PreTokenizer(steps: [.digits(individual: try reader.bool(object["individual_digits"], field + ".individual_digits",
                                                                              default: false))])
        case "Split":
            let pattern = try textPattern(object["pattern"], field: field + ".pattern")
            guard object["behavior"] != nil else { throw reader.error(.missingField, field + ".behavior", "missing") }
            return PreTokenizer(steps: [.split(pattern, try behavior("behavior", default: .removed),
                                               invert: try reader.bool(object["invert"], field + ".invert", default: false))])
        case "Metaspace":
            let replacementText = try reader.optionalString(object["replacement"], field + ".replacement") ?? "▁"
            guard replacementText.unicodeScalars.count == 1, let replacement = replacementText.unicodeScalars.first else {
                throw reader.error(.invalidField, field + ".replacement", "expected one character, found \"\(replacementText)\"")
            }
            var scheme = PrependScheme.always
            if let raw = try reader.optionalString(object["prepend_scheme"], field + ".prepend_scheme") {
                guard let parsed = PrependScheme(rawValue: raw) else {
                    throw reader.error(.invalidField, field + ".prepend_scheme", "unknown scheme \"\(raw)\" (always, first, never)")
                }
                scheme = parsed
            } else if let legacy = try reader.optionalBool(object["add_prefix_space"], field + ".add_prefix_space") {
                scheme = legacy ? .always : .never
            }
            return PreTokenizer(steps: [.metaspace(replacement: replacement, prepend: scheme,
                                                   split: try reader.bool(object["split"], field + ".split", default: true))])
        case "ByteLevel":
            return PreTokenizer(steps: [.byteLevel(
                addPrefixSpace: try reader.bool(object["add_prefix_space"], field + ".add_prefix_space", default: true),
                useRegex: try reader.bool(object["use_regex"], field + ".use_regex", default: true))])
        case "Sequence":
            var steps: [PreTokenizerStep] = []
            for (index, item) in try reader.array(object["pretokenizers"], field + ".pretokenizers").enumerated() {
                steps += try preTokenizerFrom(item, field: "\(field).pretokenizers[\(index)]").steps
            }
            return PreTokenizer(steps: steps)
        default:
            throw reader.error(.unsupported, field + ".type",
                               "unsupported pre-tokenizer type \"\(type)\" (supported: BertPreTokenizer, WhitespaceSplit, Whitespace, "
                               + "Punctuation, Digits, Split, Metaspace, ByteLevel, Sequence)")
        }
    }

    // MARK: Post-processor

    /// The post-processor, or `nil` for none (ByteLevel alone changes offsets only).
    private func postProcessorFrom(_ value: JSONValue?, field: String, vocabulary: Vocabulary, idToToken: [Int32: String],
                                   typeIDFields: inout [(field: String, typeID: Int32)]) throws(TokenizerError) -> PostProcessor? {
        guard let value, value != .null else { return nil }
        let object = try reader.object(value, field)
        let type = try reader.string(object["type"], field + ".type")
        switch type {
        case "BertProcessing", "RobertaProcessing":
            let cls = try specialPair(object["cls"], field + ".cls", vocabulary: vocabulary, idToToken: idToToken)
            let sep = try specialPair(object["sep"], field + ".sep", vocabulary: vocabulary, idToToken: idToToken)
            typeIDFields.append((field + " (\(type) gives the second text type id \(type == "BertProcessing" ? 1 : 0))",
                                 type == "BertProcessing" ? 1 : 0))
            return type == "BertProcessing" ? .bert(cls: cls, sep: sep) : .roberta(cls: cls, sep: sep)
        case "TemplateProcessing":
            return try templateProcessor(object, field: field, vocabulary: vocabulary, idToToken: idToToken,
                                         typeIDFields: &typeIDFields)
        case "ByteLevel":
            return nil
        case "Sequence":
            var chosen: PostProcessor?
            for (index, item) in try reader.array(object["processors"], field + ".processors").enumerated() {
                let itemField = "\(field).processors[\(index)]"
                guard let processor = try postProcessorFrom(item, field: itemField, vocabulary: vocabulary, idToToken: idToToken,
                                                            typeIDFields: &typeIDFields) else {
                    continue
                }
                guard chosen == nil else {
                    throw reader.error(.unsupported, itemField, "a second post-processor adding special tokens is not supported")
                }
                chosen = processor
            }
            return chosen
        default:
            throw reader.error(.unsupported, field + ".type",
                               "unsupported post-processor type \"\(type)\" (supported: TemplateProcessing, BertProcessing, "
                               + "RobertaProcessing, ByteLevel, Sequence)")
        }
    }

    /// `["[CLS]", 101]`: the id, which must be an id of the vocabulary or an added token.
    private func specialPair(_ value: JSONValue?, _ field: String, vocabulary: Vocabulary,
                             idToToken: [Int32: String]) throws(TokenizerError) -> Int32 {
        let array = try reader.array(value, field)
        guard array.count == 2 else {
            throw reader.error(.invalidField, field, "expected [token, id]")
        }
        let token = try reader.string(array[0], field + "[0]")
        let id = Int32(try reader.int(array[1], field + "[1]"))
        guard vocabulary[token] != nil else {
            throw reader.error(.missingSpecialToken, field, "the special token \"\(token)\" is not in the vocabulary")
        }
        guard idToToken[id] != nil else {
            throw reader.error(.missingSpecialToken, field + "[1]",
                               "the id \(id) of \"\(token)\" is not an id of the vocabulary (ids 0..<\(Int(idToToken.keys.max() ?? -1) + 1))")
        }
        return id
    }

    private func templateProcessor(_ object: [String: JSONValue], field: String, vocabulary: Vocabulary, idToToken: [Int32: String],
                                   typeIDFields: inout [(field: String, typeID: Int32)]) throws(TokenizerError) -> PostProcessor {
        var specialTokens: [String: [Int32]] = [:]
        if let specialValue = object["special_tokens"], specialValue != .null {
            for (name, value) in try reader.object(specialValue, field + ".special_tokens") {
                let itemField = "\(field).special_tokens[\"\(name)\"]"
                let item = try reader.object(value, itemField)
                var ids: [Int32] = []
                for (index, idValue) in try reader.array(item["ids"], itemField + ".ids").enumerated() {
                    let id = Int32(try reader.int(idValue, "\(itemField).ids[\(index)]"))
                    guard idToToken[id] != nil else {
                        throw reader.error(.missingSpecialToken, "\(itemField).ids[\(index)]",
                                           "the id \(id) is not an id of the vocabulary (ids 0..<\(Int(idToToken.keys.max() ?? -1) + 1))")
                    }
                    ids.append(id)
                }
                if case .array(let tokens)? = item["tokens"] {
                    for (index, tokenValue) in tokens.enumerated() {
                        let token = try reader.string(tokenValue, "\(itemField).tokens[\(index)]")
                        guard vocabulary[token] != nil else {
                            throw reader.error(.missingSpecialToken, "\(itemField).tokens[\(index)]",
                                               "the special token \"\(token)\" is not in the vocabulary")
                        }
                    }
                }
                specialTokens[name] = ids
            }
        }
        var fields: [(field: String, typeID: Int32)] = []
        func template(_ key: String) throws(TokenizerError) -> [TemplatePiece] {
            var pieces: [TemplatePiece] = []
            for (index, item) in try reader.array(object[key], "\(field).\(key)").enumerated() {
                let itemField = "\(field).\(key)[\(index)]"
                let itemObject = try reader.object(item, itemField)
                if let special = itemObject["SpecialToken"] {
                    let specialObject = try reader.object(special, itemField + ".SpecialToken")
                    let name = try reader.string(specialObject["id"], itemField + ".SpecialToken.id")
                    let typeID = Int32(try reader.int(specialObject["type_id"] ?? .number(0), itemField + ".SpecialToken.type_id",
                                                      range: 0...255))
                    guard let ids = specialTokens[name] else {
                        throw reader.error(.missingSpecialToken, itemField + ".SpecialToken.id",
                                           "\"\(name)\" is not listed in \(field).special_tokens")
                    }
                    pieces.append(.special(ids: ids, typeID: typeID))
                    fields.append((itemField + ".SpecialToken.type_id", typeID))
                } else if let sequence = itemObject["Sequence"] {
                    let sequenceObject = try reader.object(sequence, itemField + ".Sequence")
                    let name = try reader.string(sequenceObject["id"], itemField + ".Sequence.id")
                    let typeID = Int32(try reader.int(sequenceObject["type_id"] ?? .number(0), itemField + ".Sequence.type_id",
                                                      range: 0...255))
                    fields.append((itemField + ".Sequence.type_id", typeID))
                    switch name {
                    case "A": pieces.append(.sequenceA(typeID: typeID))
                    case "B": pieces.append(.sequenceB(typeID: typeID))
                    default: throw reader.error(.invalidField, itemField + ".Sequence.id", "expected \"A\" or \"B\", found \"\(name)\"")
                    }
                } else {
                    throw reader.error(.invalidField, itemField, "expected a SpecialToken or Sequence element")
                }
            }
            return pieces
        }
        let processor = PostProcessor(single: try template("single"), pair: try template("pair"))
        typeIDFields += fields
        return processor
    }
}
