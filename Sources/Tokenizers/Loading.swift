import Foundation
import JSONCore

/// Everything a ``PipelineTokenizer`` is built from.
struct LoadedTokenizer {
    var normalizer: Normalizer
    var preTokenizer: PreTokenizer
    var model: TokenizerModel
    var addedTokens: [AddedToken]
    var postProcessor: PostProcessor
    var idToToken: [Int32: String]
    var tokenToID: Vocabulary
    var vocabularySize: Int
    var clsTokenID: Int32?
    var sepTokenID: Int32?
    var padTokenID: Int32?
    var unknownTokenID: Int32?
    /// The file the tokenizer was read from, for errors found after loading.
    var sourceFile: String = ""
    /// Where each type id of the templates comes from (`post_processor.pair[3].Sequence.type_id`).
    var typeIDFields: [(field: String, typeID: Int32)] = []
}

/// The largest tokenizer file read (tokenizer.json, vocab.txt, tokenizer_config.json): far above real
/// files (bge-m3's tokenizer.json is about 17 MB) and low enough to bound the memory a hostile file takes.
let maximumTokenizerFileBytes = 64 << 20

/// The most entries one vocabulary source may have: `model.vocab` (WordPiece, BPE, Unigram), `model.merges`,
/// `added_tokens` and the lines of `vocab.txt`, each counted on its own. Published vocabularies stay far below
/// it (bge-m3 and XLM-R: 250,002; Gemma: 256,000), and the file-size cap alone would admit a few million
/// short entries; past this count a file is refused before any table is built, so a hostile file cannot make
/// loading take minutes (3,000,000 WordPiece entries already take about half a minute and 390 MB).
let maximumVocabularyEntries = 4_000_000

/// Throws `.invalidVocabulary` naming the file, the field and the count when `count` exceeds `limit`.
func checkEntryCount(_ count: Int, limit: Int, file: String, field: String, entries: String = "entries")
    throws(TokenizerError) {
    guard count > limit else { return }
    throw TokenizerError(.invalidVocabulary, file: file, field: field,
                         message: "has \(count) \(entries), more than the \(limit) a vocabulary source may have")
}

/// Reads a regular file of at most ``maximumTokenizerFileBytes``, mapping failures to ``TokenizerError``.
func readFile(_ url: URL) throws(TokenizerError) -> Data {
    var info = stat()
    guard stat(url.path, &info) == 0 else {
        let code = errno
        if code == ENOENT || code == ENOTDIR {
            throw TokenizerError(.unreadableFile, file: url.path, message: "file not found")
        }
        throw TokenizerError(.unreadableFile, file: url.path, message: "cannot be read (\(String(cString: strerror(code))))")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
        break
    case S_IFDIR:
        throw TokenizerError(.unreadableFile, file: url.path, message: "is a directory, not a file")
    case S_IFIFO:
        throw TokenizerError(.unreadableFile, file: url.path, message: "is a FIFO (named pipe), not a regular file")
    case S_IFCHR, S_IFBLK:
        throw TokenizerError(.unreadableFile, file: url.path, message: "is a device, not a regular file")
    default:
        throw TokenizerError(.unreadableFile, file: url.path, message: "is not a regular file")
    }
    guard Int(info.st_size) <= maximumTokenizerFileBytes else {
        throw TokenizerError(.unreadableFile, file: url.path,
                             message: "is \(info.st_size) bytes, more than the \(maximumTokenizerFileBytes >> 20) MiB a tokenizer file may have")
    }
    let data: Data
    do {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        data = try handle.read(upToCount: maximumTokenizerFileBytes + 1) ?? Data()
    } catch {
        throw TokenizerError(.unreadableFile, file: url.path, message: "cannot be read (\(error.localizedDescription))")
    }
    guard data.count <= maximumTokenizerFileBytes else {
        throw TokenizerError(.unreadableFile, file: url.path,
                             message: "grew beyond the \(maximumTokenizerFileBytes >> 20) MiB a tokenizer file may have while being read")
    }
    return data
}

/// The number of lines of a text file as `BufRead::lines` yields them: one per `\n`, plus a last line without one.
func countLines(_ data: Data) -> Int {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int in
        guard var cursor = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        let end = cursor + bytes.count
        var count = 0
        while cursor < end, let found = memchr(cursor, Int32(UInt8(ascii: "\n")), end - cursor) {
            count += 1
            cursor = UnsafeRawPointer(found) + 1
        }
        return bytes.last == UInt8(ascii: "\n") ? count : count + 1
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
                throw error(.invalidField, field, "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(json)")
            }
            return Int(number)
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected an integer, found \(other.typeName)")
        }
    }

    func double(_ value: JSONValue?, _ field: String) throws(TokenizerError) -> Double {
        switch value {
        case .number(let number)?: return number.doubleValue
        case nil: throw error(.missingField, field, "missing")
        case let other?: throw error(.invalidField, field, "expected a number, found \(other.typeName)")
        }
    }

    func isNumber(_ value: JSONValue?) -> Bool {
        if case .number? = value { return true }
        return false
    }

    /// A value as a reader sees it in a message: `30521`, `1.5`, `"text"`, `an object`.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): return number.description
        case .string(let string): return "\"\(string.prefix(80))\""
        case .bool(let bool): return String(bool)
        default: return value.typeName
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

// MARK: - vocab.txt + tokenizer_config.json

/// Builds a tokenizer from `vocab.txt` and an optional `tokenizer_config.json`, the way
/// `tokenizers.BertWordPieceTokenizer` does.
struct VocabTextLoader {
    let vocabURL: URL
    let configURL: URL?
    /// The most lines `vocab.txt` may have (``maximumVocabularyEntries``; tests pass a smaller one).
    var maximumEntries = maximumVocabularyEntries

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
        // Count the lines before anything is built from them (a last line without "\n" counts too).
        let lineCount = countLines(data)
        try checkEntryCount(lineCount, limit: maximumEntries, file: vocabURL.path, field: "line \(maximumEntries + 1)",
                            entries: "lines")
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError(.invalidJSON, file: vocabURL.path, message: "not valid UTF-8 text")
        }
        // Like Rust's BufRead::lines (split on \n, drop a trailing \r) followed by trim_end().
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else {
            throw TokenizerError(.invalidVocabulary, file: vocabURL.path, message: "the vocabulary is empty")
        }
        var vocabulary: Vocabulary = Vocabulary()
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
            preTokenizer: PreTokenizer(steps: [.bert]), model: .wordPiece(model), addedTokens: addedTokens,
            postProcessor: .bert(cls: clsID, sep: sepID), idToToken: idToToken, tokenToID: vocabulary,
            vocabularySize: lines.count, clsTokenID: clsID, sepTokenID: sepID, padTokenID: padID, unknownTokenID: unkID,
            sourceFile: vocabURL.path, typeIDFields: [("BertWordPieceTokenizer's pair template ([SEP] of the second text)", 1)])
    }
}
