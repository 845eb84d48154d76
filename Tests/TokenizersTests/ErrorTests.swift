import Foundation
import XCTest
@testable import Tokenizers

/// Malformed inputs give a TokenizerError naming the file and field, never a crash.
final class ErrorTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tok-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// A valid minimal tokenizer.json, as a JSON object to mutate.
    func minimalConfig() -> [String: Any] {
        [
            "version": "1.0",
            "added_tokens": [
                ["id": 0, "content": "[PAD]", "special": true, "normalized": false, "single_word": false, "lstrip": false, "rstrip": false],
                ["id": 1, "content": "[UNK]", "special": true, "normalized": false, "single_word": false, "lstrip": false, "rstrip": false],
            ],
            "normalizer": ["type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": NSNull(), "lowercase": true],
            "pre_tokenizer": ["type": "BertPreTokenizer"],
            "post_processor": ["type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]],
            "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                      "vocab": ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6, ",": 7]],
        ]
    }

    func load(_ config: [String: Any], name: String = "tokenizer.json") throws -> Result<BertTokenizer, TokenizerError> {
        let url = directory.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(tokenizerJSON: url) }
    }

    func expectError(_ result: Result<BertTokenizer, TokenizerError>, _ kind: TokenizerError.Kind, field: String?,
                     mentioning words: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        switch result {
        case .success:
            XCTFail("expected a \(kind) error", file: file, line: line)
        case .failure(let error):
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.field, field, "\(error)", file: file, line: line)
            XCTAssertTrue(error.file.hasSuffix(".json") || error.file.hasSuffix(".txt") || error.file.contains("tok-errors"),
                          "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(error.file), "\(error)", file: file, line: line)
            for word in words {
                XCTAssertTrue(error.description.contains(word), "\(error) should mention \(word)", file: file, line: line)
            }
        }
    }

    func testMinimalConfigLoadsAndEncodes() throws {
        let tokenizer = try load(minimalConfig()).get()
        XCTAssertEqual(tokenizer.encode("Hello, worlds! x").inputIDs, [2, 4, 7, 5, 6, 1, 1, 3])
        XCTAssertEqual(tokenizer.encode("hello", pair: "world").tokenTypeIDs, [0, 0, 0, 1, 1])
        XCTAssertEqual(tokenizer.vocabularySize, 8)
        XCTAssertEqual(tokenizer.clsTokenID, 2)
        XCTAssertEqual(tokenizer.sepTokenID, 3)
        XCTAssertEqual(tokenizer.padTokenID, 0)
        XCTAssertEqual(tokenizer.unknownTokenID, 1)
    }

    func testMissingFile() {
        let url = directory.appendingPathComponent("nope/tokenizer.json")
        let result = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(tokenizerJSON: url) }
        expectError(result, .unreadableFile, field: nil, mentioning: ["nope/tokenizer.json", "not found"])
        let folder = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(modelFolder: self.directory) }
        expectError(folder, .unreadableFile, field: nil, mentioning: ["tokenizer.json", "vocab.txt"])
        let isDirectory = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(tokenizerJSON: self.directory) }
        expectError(isDirectory, .unreadableFile, field: nil, mentioning: ["directory"])
    }

    func testNotJSONOrNotObject() throws {
        for (name, text) in [("garbage.json", "this is not json {"), ("empty.json", ""), ("array.json", "[1, 2]"), ("string.json", "\"x\"")] {
            let url = try write(name, text)
            let result = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(tokenizerJSON: url) }
            expectError(result, .invalidJSON, field: nil, mentioning: [name])
        }
    }

    func testMissingOrMalformedModel() throws {
        var config = minimalConfig()
        config["model"] = nil
        expectError(try load(config), .missingField, field: "model")

        config = minimalConfig()
        var model = config["model"] as! [String: Any]
        model["vocab"] = nil
        config["model"] = model
        expectError(try load(config), .missingField, field: "model.vocab", mentioning: ["missing"])

        model["vocab"] = [String: Any]()
        config["model"] = model
        expectError(try load(config), .invalidVocabulary, field: "model.vocab", mentioning: ["empty"])

        model["vocab"] = ["a", "b"]
        config["model"] = model
        expectError(try load(config), .invalidField, field: "model.vocab", mentioning: ["array"])
    }

    func testUnsupportedComponents() throws {
        var config = minimalConfig()
        var model = config["model"] as! [String: Any]
        model["type"] = "WordLevel"
        config["model"] = model
        expectError(try load(config), .unsupported, field: "model.type", mentioning: ["WordLevel", "supported"])

        config = minimalConfig()
        config["normalizer"] = ["type": "Nmt"]
        expectError(try load(config), .unsupported, field: "normalizer.type", mentioning: ["Nmt"])
        config["normalizer"] = ["type": "Sequence", "normalizers": [["type": "Lowercase"], ["type": "ByteLevel"]]]
        expectError(try load(config), .unsupported, field: "normalizer.normalizers[1].type", mentioning: ["ByteLevel"])

        config = minimalConfig()
        config["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "UnicodeScripts"]]]
        expectError(try load(config), .unsupported, field: "pre_tokenizer.pretokenizers[0].type", mentioning: ["UnicodeScripts"])

        config = minimalConfig()
        config["post_processor"] = ["type": "FancyProcessing"]
        expectError(try load(config), .unsupported, field: "post_processor.type", mentioning: ["FancyProcessing"])
    }

    func testWrongFieldTypes() throws {
        var config = minimalConfig()
        config["normalizer"] = ["type": "BertNormalizer", "lowercase": "yes"]
        expectError(try load(config), .invalidField, field: "normalizer.lowercase", mentioning: ["boolean"])

        config = minimalConfig()
        config["normalizer"] = ["lowercase": true]
        expectError(try load(config), .missingField, field: "normalizer.type")

        config = minimalConfig()
        config["added_tokens"] = [["id": "zero", "content": "[PAD]"]]
        expectError(try load(config), .invalidField, field: "added_tokens[0].id", mentioning: ["integer"])
    }

    func testSpecialTokensMissingFromVocabulary() throws {
        var config = minimalConfig()
        var model = config["model"] as! [String: Any]
        model["unk_token"] = "<unk>"
        config["model"] = model
        expectError(try load(config), .missingSpecialToken, field: "model.unk_token", mentioning: ["<unk>"])

        config = minimalConfig()
        config["post_processor"] = ["type": "BertProcessing", "sep": ["</s>", 3], "cls": ["[CLS]", 2]]
        expectError(try load(config), .missingSpecialToken, field: "post_processor.sep", mentioning: ["</s>"])

        config = minimalConfig()
        config["post_processor"] = NSNull()
        model = config["model"] as! [String: Any]
        var vocab = model["vocab"] as! [String: Int]
        vocab["[CLS]"] = nil
        vocab["hello"] = nil
        vocab["[CLS]x"] = 2
        vocab["xx"] = 4
        model["vocab"] = vocab
        config["model"] = model
        // Without a post-processor no special token is needed (as in Hugging Face): none is added.
        let bare = try load(config).get()
        XCTAssertNil(bare.clsTokenID)
        XCTAssertEqual(bare.encode("xx").inputIDs, [4])
    }

    func testVocabularyIDsDuplicatedOrOutOfRange() throws {
        var config = minimalConfig()
        var model = config["model"] as! [String: Any]
        var vocab = model["vocab"] as! [String: Int]
        vocab["world"] = 4
        model["vocab"] = vocab
        config["model"] = model
        expectError(try load(config), .invalidVocabulary, field: "model.vocab", mentioning: ["duplicated", "hello", "world"])

        // Holes are accepted as Hugging Face accepts them; the vocabulary size is the largest id + 1.
        vocab = model["vocab"] as! [String: Int]
        vocab["world"] = 99
        model["vocab"] = vocab
        config["model"] = model
        let sparse = try load(config).get()
        XCTAssertEqual(sparse.vocabularySize, 100)
        XCTAssertEqual(sparse.token(forID: 99), "world")

        vocab["world"] = 2_147_483_648
        model["vocab"] = vocab
        config["model"] = model
        expectError(try load(config), .invalidVocabulary, field: "model.vocab[\"world\"]", mentioning: ["out of range", "2147483648"])
        if case .failure(let error) = try load(config) {
            XCTAssertFalse(error.message.contains("number("), "the id is printed as a number: \(error.message)")
        }

        vocab["world"] = -1
        model["vocab"] = vocab
        config["model"] = model
        expectError(try load(config), .invalidVocabulary, field: "model.vocab[\"world\"]", mentioning: ["out of range"])
    }

    func testVocabTextErrors() throws {
        let empty = try write("vocab.txt", "")
        let emptyResult = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(vocabFile: empty, configFile: nil) }
        expectError(emptyResult, .invalidVocabulary, field: nil, mentioning: ["vocab.txt", "empty"])

        let noUnk = try write("vocab2.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n")
        let noUnkResult = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(vocabFile: noUnk, configFile: nil) }
        expectError(noUnkResult, .missingSpecialToken, field: nil, mentioning: ["[UNK]"])

        let custom = try write("vocab3.txt", "<pad>\n<unk>\n[CLS]\n[SEP]\nhello\n")
        let config = try write("tokenizer_config.json", "{\"unk_token\": \"<oov>\", \"do_lower_case\": true}")
        let customResult = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(vocabFile: custom, configFile: config) }
        expectError(customResult, .missingSpecialToken, field: "unk_token", mentioning: ["<oov>"])

        let badConfig = try write("bad_config.json", "{\"do_lower_case\": \"no\"}")
        let badResult = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(vocabFile: custom, configFile: badConfig) }
        expectError(badResult, .invalidField, field: "do_lower_case", mentioning: ["bad_config.json"])

        let notUTF8 = directory.appendingPathComponent("vocab4.txt")
        try Data([0x5B, 0x55, 0x4E, 0x4B, 0x5D, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: notUTF8)
        let notUTF8Result = Result { () throws(TokenizerError) -> BertTokenizer in try BertTokenizer(vocabFile: notUTF8, configFile: nil) }
        expectError(notUTF8Result, .invalidJSON, field: nil, mentioning: ["UTF-8"])
    }

    func testVocabTextWithCustomTokensAndCasing() throws {
        let vocab = try write("vocab.txt", "<pad>\n<unk>\n<s>\n</s>\nHello\nhello\n,\r\nworld  \n")
        let config = try write("tokenizer_config.json", """
            {"do_lower_case": false, "unk_token": {"content": "<unk>", "__type": "AddedToken"},
             "cls_token": "<s>", "sep_token": "</s>", "pad_token": "<pad>"}
            """)
        let tokenizer = try BertTokenizer(vocabFile: vocab, configFile: config)
        XCTAssertEqual(tokenizer.encode("Hello, world").inputIDs, [2, 4, 6, 7, 3])
        XCTAssertEqual(tokenizer.encode("hello <s>HELLO").inputIDs, [2, 5, 2, 1, 3])
        XCTAssertEqual(tokenizer.padTokenID, 0)
        XCTAssertEqual(tokenizer.token(forID: 6), ",")
        XCTAssertEqual(tokenizer.token(forID: 7), "world")
    }

    func testErrorDescriptionNamesFileFieldAndProblem() {
        let error = TokenizerError(.unsupported, file: "/m/tokenizer.json", field: "model.type", message: "unsupported model type \"BPE\"")
        XCTAssertEqual(error.description, "/m/tokenizer.json: model.type: unsupported model type \"BPE\"")
        XCTAssertEqual(TokenizerError(.unreadableFile, file: "/x", message: "file not found").description, "/x: file not found")
    }
}
