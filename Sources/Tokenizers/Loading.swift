import Foundation
import JSONCore

/// Everything a ``BertTokenizer`` is built from.
struct LoadedTokenizer {
    var normalizer: Normalizer
    var preTokenizer: PreTokenizer
    var model: WordPiece
    var addedTokens: [AddedToken]
    var postProcessor: PostProcessor
    var idToToken: [Int32: String]
    var clsTokenID: Int32
    var sepTokenID: Int32
    var padTokenID: Int32
}

/// Reads a file, mapping failures to ``TokenizerError``.
func readFile(_ url: URL) throws(TokenizerError) -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw TokenizerError(.unreadableFile, file: url.path, message: "file not found")
    }
    guard !isDirectory.boolValue else {
        throw TokenizerError(.unreadableFile, file: url.path, message: "is a directory, not a file")
    }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw TokenizerError(.unreadableFile, file: url.path, message: "cannot be read (\(error.localizedDescription))")
    }
}

/// Parses a JSON file whose top level must be an object.
func readJSONObject(_ url: URL) throws(TokenizerError) -> [String: JSONValue] {
    let data = try readFile(url)
    let value: JSONValue
    do {
        value = try JSONValue.parse(data)
    } catch {
        throw TokenizerError(.invalidJSON, file: url.path, message: "not valid JSON: \(error.message) at byte \(error.offset)")
    }
    guard case .object(let object) = value else {
        throw TokenizerError(.invalidJSON, file: url.path, message: "the top level is \(value.typeName), not an object")
    }
    return object
}

/// Typed accessors on a JSON object that report the file and field path on failure.
struct JSONReader {
    let file: String

    func error(_ kind: TokenizerError.Kind, _ field: String, _ message: String) -> TokenizerError {
        TokenizerError(kind, file: file, field: field, message: message)
    }

    func object(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> [String: JSONValue] {
        switch value {
        case .object(let object)?: return object
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected an object, found \(other.typeName)")
        }
    }

    func string(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> String {
        switch value {
        case .string(let string)?: return string
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected a string, found \(other.typeName)")
        }
    }

    func optionalString(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> String? {
        if value == nil { return nil }
        if case .null? = value { return nil }
        return try string(value, field)
    }

    func bool(_ value: JSONValue?, _ field: String, default defaultValue: Bool) throws(TokenizerError) -> Bool {
        switch value {
        case nil, .null?: return defaultValue
        case .bool(let bool)?: return bool
        case let other?: throw error(.invalidField, field, "expected a boolean, found \(other.typeName)")
        }
    }

    func optionalBool(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let bool)?: return bool
        case let other?: throw error(.invalidField, field, "expected a boolean or null, found \(other.typeName)")
        }
    }

    func int(_ value: JSONValue?, _ field: String, range: ClosedRange<Int> = 0...Int(Int32.max)) throws(TokenizerError) -> Int {
        switch value {
        case .number(let json)?:
            let number = json.doubleValue
            guard number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
                throw error(.invalidField, field, "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(number)")
            }
            return Int(number)
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected an integer, found \(other.typeName)")
        }
    }

    func array(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> [JSONValue] {
        switch value {
        case .array(let array)?: return array
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected an array, found \(other.typeName)")
        }
    }
}

// MARK: - tokenizer.json

/// Builds a tokenizer from a Hugging Face `tokenizer.json`.
struct TokenizerJSONLoader {
    let url: URL
    var reader: JSONReader { JSONReader(file: url.path) }

    func load() throws(TokenizerError) -> LoadedTokenizer {
        let root = try readJSONObject(url)
        let reader = self.reader

        // Model
        let modelObject = try reader.object(root["model"], "model")
        let modelType = try reader.optionalString(modelObject["type"], "model.type")
        if let modelType, modelType != "WordPiece" {
            throw reader.error(.unsupported, "model.type", "unsupported model type \"\(modelType)\" (only WordPiece is supported)")
        }
        if modelType == nil && modelObject["continuing_subword_prefix"] == nil {
            throw reader.error(.unsupported, "model.type", "missing model type (only WordPiece is supported)")
        }
        let vocabObject = try reader.object(modelObject["vocab"], "model.vocab")
        guard !vocabObject.isEmpty else {
            throw reader.error(.invalidVocabulary, "model.vocab", "the vocabulary is empty")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(vocabObject.count)
        var idToToken: [Int32: String] = [:]
        idToToken.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject {
            let field = "model.vocab[\"\(token)\"]"
            guard case .number = value else {
                throw reader.error(.invalidVocabulary, field, "expected an integer id, found \(value.typeName)")
            }
            guard let id = try? reader.int(value, field, range: 0...(vocabObject.count - 1)) else {
                throw reader.error(.invalidVocabulary, field,
                                   "id \(value) out of range 0..<\(vocabObject.count) (ids must be 0 to vocabulary size - 1)")
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
        let unkToken = try reader.optionalString(modelObject["unk_token"], "model.unk_token") ?? "[UNK]"
        let prefix = try reader.optionalString(modelObject["continuing_subword_prefix"], "model.continuing_subword_prefix") ?? "##"
        let maxChars = modelObject["max_input_chars_per_word"].map { value -> JSONValue in value } ?? .number(100)
        let maxInputChars = try reader.int(maxChars, "model.max_input_chars_per_word", range: 0...Int(Int32.max))
        guard let unkID = vocabulary[unkToken] else {
            throw reader.error(.missingSpecialToken, "model.unk_token", "the unknown token \"\(unkToken)\" is not in model.vocab")
        }

        // Added tokens
        var addedTokens: [AddedToken] = []
        if let addedValue = root["added_tokens"], addedValue != .null {
            for (index, item) in try reader.array(addedValue, "added_tokens").enumerated() {
                let field = "added_tokens[\(index)]"
                let object = try reader.object(item, field)
                let content = try reader.string(object["content"], field + ".content")
                let id = Int32(try reader.int(object["id"], field + ".id"))
                if let existing = idToToken[id], existing != content {
                    throw reader.error(.invalidVocabulary, field + ".id",
                                       "id \(id) of \"\(content)\" is already the id of \"\(existing)\" in model.vocab")
                }
                idToToken[id] = content
                addedTokens.append(AddedToken(
                    id: id, content: Array(content.unicodeScalars),
                    singleWord: try reader.bool(object["single_word"], field + ".single_word", default: false),
                    leftStrip: try reader.bool(object["lstrip"], field + ".lstrip", default: false),
                    rightStrip: try reader.bool(object["rstrip"], field + ".rstrip", default: false),
                    normalized: try reader.bool(object["normalized"], field + ".normalized", default: true)))
            }
        }
        func lookup(_ token: String) -> Int32? {
            vocabulary[token] ?? addedTokens.first { String(String.UnicodeScalarView($0.content)) == token }?.id
        }

        let normalizer = try normalizerFrom(root["normalizer"], field: "normalizer")
        let preTokenizer = try preTokenizerFrom(root["pre_tokenizer"], field: "pre_tokenizer")

        // Post-processor
        let postProcessor: PostProcessor
        var clsID: Int32?
        var sepID: Int32?
        switch root["post_processor"] {
        case nil, .null?:
            postProcessor = .none
        case let value?:
            let object = try reader.object(value, "post_processor")
            let type = try reader.string(object["type"], "post_processor.type")
            switch type {
            case "BertProcessing":
                let (cls, clsTokenID) = try specialPair(object["cls"], "post_processor.cls")
                let (sep, sepTokenID) = try specialPair(object["sep"], "post_processor.sep")
                for (token, id, field) in [(cls, clsTokenID, "post_processor.cls"), (sep, sepTokenID, "post_processor.sep")] {
                    guard lookup(token) != nil else {
                        throw reader.error(.missingSpecialToken, field, "the special token \"\(token)\" is not in the vocabulary")
                    }
                    _ = id
                }
                postProcessor = .bert(cls: clsTokenID, sep: sepTokenID)
                clsID = clsTokenID
                sepID = sepTokenID
            case "TemplateProcessing":
                postProcessor = try templateProcessor(object, lookup: lookup)
                clsID = postProcessor.single.compactMap { piece -> Int32? in
                    if case .special(let ids, _) = piece { return ids.first }
                    return nil
                }.first
                sepID = postProcessor.single.compactMap { piece -> Int32? in
                    if case .special(let ids, _) = piece { return ids.last }
                    return nil
                }.last
            default:
                throw reader.error(.unsupported, "post_processor.type",
                                   "unsupported post-processor type \"\(type)\" (supported: TemplateProcessing, BertProcessing)")
            }
        }
        if clsID == nil {
            guard let id = lookup("[CLS]") else {
                throw reader.error(.missingSpecialToken, "model.vocab", "the classifier token \"[CLS]\" is not in the vocabulary")
            }
            clsID = id
        }
        if sepID == nil {
            guard let id = lookup("[SEP]") else {
                throw reader.error(.missingSpecialToken, "model.vocab", "the separator token \"[SEP]\" is not in the vocabulary")
            }
            sepID = id
        }
        var padID: Int32 = lookup("[PAD]") ?? 0
        if case .object(let padding)? = root["padding"] {
            if case .number? = padding["pad_id"] {
                padID = Int32(try reader.int(padding["pad_id"], "padding.pad_id"))
            } else if case .string(let padToken)? = padding["pad_token"], let id = lookup(padToken) {
                padID = id
            }
        }

        let model = WordPiece(vocabulary: vocabulary, unknownTokenID: unkID,
                              continuingSubwordPrefix: prefix, maxInputCharsPerWord: maxInputChars)
        return LoadedTokenizer(normalizer: normalizer, preTokenizer: preTokenizer, model: model,
                               addedTokens: addedTokens, postProcessor: postProcessor, idToToken: idToToken,
                               clsTokenID: clsID!, sepTokenID: sepID!, padTokenID: padID)
    }

    private func specialPair(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> (String, Int32) {
        let array = try reader.array(value, field)
        guard array.count == 2 else {
            throw reader.error(.invalidField, field, "expected [token, id]")
        }
        let token = try reader.string(array[0], field + "[0]")
        let id = try reader.int(array[1], field + "[1]")
        return (token, Int32(id))
    }

    private func templateProcessor(_ object: [String: JSONValue], lookup: (String) -> Int32?) throws(TokenizerError) -> PostProcessor {
        let field = "post_processor"
        var specialTokens: [String: [Int32]] = [:]
        if let specialValue = object["special_tokens"], specialValue != .null {
            for (name, value) in try reader.object(specialValue, field + ".special_tokens") {
                let itemField = "\(field).special_tokens[\"\(name)\"]"
                let item = try reader.object(value, itemField)
                var ids: [Int32] = []
                for (index, idValue) in try reader.array(item["ids"], itemField + ".ids").enumerated() {
                    ids.append(Int32(try reader.int(idValue, "\(itemField).ids[\(index)]")))
                }
                if case .array(let tokens)? = item["tokens"] {
                    for (index, tokenValue) in tokens.enumerated() {
                        let token = try reader.string(tokenValue, "\(itemField).tokens[\(index)]")
                        guard lookup(token) != nil else {
                            throw reader.error(.missingSpecialToken, "\(itemField).tokens[\(index)]",
                                               "the special token \"\(token)\" is not in the vocabulary")
                        }
                    }
                }
                specialTokens[name] = ids
            }
        }
        func template(_ key: String) throws(TokenizerError) -> [TemplatePiece] {
            var pieces: [TemplatePiece] = []
            for (index, item) in try reader.array(object[key], "\(field).\(key)").enumerated() {
                let itemField = "\(field).\(key)[\(index)]"
                let itemObject = try reader.object(item, itemField)
                if let special = itemObject["SpecialToken"] {
                    let specialObject = try reader.object(special, itemField + ".SpecialToken")
                    let name = try reader.string(specialObject["id"], itemField + ".SpecialToken.id")
                    let typeID = Int32(try reader.int(specialObject["type_id"] ?? .number(0), itemField + ".SpecialToken.type_id"))
                    guard let ids = specialTokens[name] else {
                        throw reader.error(.missingSpecialToken, itemField + ".SpecialToken.id",
                                           "\"\(name)\" is not listed in \(field).special_tokens")
                    }
                    pieces.append(.special(ids: ids, typeID: typeID))
                } else if let sequence = itemObject["Sequence"] {
                    let sequenceObject = try reader.object(sequence, itemField + ".Sequence")
                    let name = try reader.string(sequenceObject["id"], itemField + ".Sequence.id")
                    let typeID = Int32(try reader.int(sequenceObject["type_id"] ?? .number(0), itemField + ".Sequence.type_id"))
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
        return PostProcessor(single: try template("single"), pair: try template("pair"))
    }

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
        case "Lowercase":
            return Normalizer(steps: [.lowercase])
        case "NFD":
            return Normalizer(steps: [.nfd])
        case "StripAccents":
            return Normalizer(steps: [.stripCombiningMarks])
        case "Sequence":
            var steps: [NormalizerStep] = []
            for (index, item) in try reader.array(object["normalizers"], field + ".normalizers").enumerated() {
                steps += try normalizerFrom(item, field: "\(field).normalizers[\(index)]").steps
            }
            return Normalizer(steps: steps)
        default:
            throw reader.error(.unsupported, field + ".type",
                               "unsupported normalizer type \"\(type)\" (supported: BertNormalizer, Lowercase, NFD, StripAccents, Sequence)")
        }
    }

    private func preTokenizerFrom(_ value: JSONValue?, field: String) throws(TokenizerError) -> PreTokenizer {
        guard let value, value != .null else { return PreTokenizer(steps: []) }
        let object = try reader.object(value, field)
        let type = try reader.string(object["type"], field + ".type")
        switch type {
        case "BertPreTokenizer":
            return PreTokenizer(steps: [.bert])
        case "WhitespaceSplit":
            return PreTokenizer(steps: [.whitespaceSplit])
        case "Sequence":
            var steps: [PreTokenizerStep] = []
            for (index, item) in try reader.array(object["pretokenizers"], field + ".pretokenizers").enumerated() {
                steps += try preTokenizerFrom(item, field: "\(field).pretokenizers[\(index)]").steps
            }
            return PreTokenizer(steps: steps)
        default:
            throw reader.error(.unsupported, field + ".type",
                               "unsupported pre-tokenizer type \"\(type)\" (supported: BertPreTokenizer, WhitespaceSplit, Sequence)")
        }
    }
}

// MARK: - vocab.txt + tokenizer_config.json

/// Builds a tokenizer from `vocab.txt` and an optional `tokenizer_config.json`, the way
/// `tokenizers.BertWordPieceTokenizer` does.
struct VocabTextLoader {
    let vocabURL: URL
    let configURL: URL?

    func load() throws(TokenizerError) -> LoadedTokenizer {
        var lowercase = true
        var stripAccents: Bool?
        var chineseChars = true
        var names = ["unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"]
        if let configURL {
            let config = try readJSONObject(configURL)
            let reader = JSONReader(file: configURL.path)
            lowercase = try reader.bool(config["do_lower_case"], "do_lower_case", default: true)
            stripAccents = try reader.optionalBool(config["strip_accents"], "strip_accents")
            chineseChars = try reader.bool(config["tokenize_chinese_chars"], "tokenize_chinese_chars", default: true)
            for key in names.keys {
                let field = key + "_token"
                switch config[field] {
                case nil, .null?:
                    break
                case .string(let name)?:
                    names[key] = name
                case .object(let object)?:
                    names[key] = try reader.string(object["content"], field + ".content")
                case let other?:
                    throw reader.error(.invalidField, field, "expected a string or an AddedToken object, found \(other.typeName)")
                }
            }
        }

        let data = try readFile(vocabURL)
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError(.invalidJSON, file: vocabURL.path, message: "not valid UTF-8 text")
        }
        // Like Rust's BufRead::lines (split on \n, drop a trailing \r) followed by trim_end().
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else {
            throw TokenizerError(.invalidVocabulary, file: vocabURL.path, message: "the vocabulary is empty")
        }
        guard lines.count <= Int(Int32.max) else {
            throw TokenizerError(.invalidVocabulary, file: vocabURL.path, message: "too many lines")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(lines.count)
        var idToToken: [Int32: String] = [:]
        idToToken.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            var token = String(decoding: line, as: UTF8.self)
            while let last = token.unicodeScalars.last,
                  CharacterClasses.flags(of: last.value).contains(.whitespace) {
                token.unicodeScalars.removeLast()
            }
            // A repeated token keeps the id of its last line, as in Hugging Face's WordPiece::read_file.
            vocabulary[token] = Int32(index)
            idToToken[Int32(index)] = token
        }

        func require(_ key: String, _ what: String) throws(TokenizerError) -> Int32 {
            let name = names[key]!
            guard let id = vocabulary[name] else {
                throw TokenizerError(.missingSpecialToken, file: vocabURL.path, field: configURL == nil ? nil : key + "_token",
                                     message: "the \(what) token \"\(name)\" is not in the vocabulary")
            }
            return id
        }
        let unkID = try require("unk", "unknown")
        let clsID = try require("cls", "classifier")
        let sepID = try require("sep", "separator")
        let padID = vocabulary[names["pad"]!] ?? 0

        // BertWordPieceTokenizer adds unk, sep, cls, pad and mask as special tokens if they are in the vocabulary.
        var addedTokens: [AddedToken] = []
        for key in ["unk", "sep", "cls", "pad", "mask"] {
            let name = names[key]!
            if let id = vocabulary[name], !addedTokens.contains(where: { $0.id == id }) {
                addedTokens.append(AddedToken(id: id, content: Array(name.unicodeScalars), singleWord: false,
                                              leftStrip: false, rightStrip: false, normalized: false))
            }
        }
        let model = WordPiece(vocabulary: vocabulary, unknownTokenID: unkID, continuingSubwordPrefix: "##",
                              maxInputCharsPerWord: 100)
        return LoadedTokenizer(
            normalizer: .bert(cleanText: true, chineseChars: chineseChars, stripAccents: stripAccents, lowercase: lowercase),
            preTokenizer: PreTokenizer(steps: [.bert]), model: model, addedTokens: addedTokens,
            postProcessor: .bert(cls: clsID, sep: sepID), idToToken: idToToken,
            clsTokenID: clsID, sepTokenID: sepID, padTokenID: padID)
    }
}
