import Foundation
import XCTest
@testable import Tokenizers

/// Exact parity with the Hugging Face `tokenizers` library (references in Tests/Fixtures, made by
/// Scripts/make_tokenizer_fixtures.py and by the sentence-transformers reference run).
final class ParityTests: XCTestCase {
    func testMiniLMSentencesMatchSentenceTransformers() throws {
        let tokenizer = try Fixtures.minilm.get()
        let rows = try Fixtures.jsonLines("minilm_sentences.jsonl")
        XCTAssertEqual(rows.count, 31)
        var truncatedRows = 0
        for (index, row) in rows.enumerated() {
            let text = try XCTUnwrap(row["text"] as? String)
            let expectedIDs = try XCTUnwrap(Fixtures.ids(row["input_ids"]))
            let expectedTypes = try XCTUnwrap(Fixtures.ids(row["token_type_ids"]))
            let expectedLength = try XCTUnwrap(row["untruncated_length"] as? Int)
            let encoded = tokenizer.encode(text, maxLength: 256)
            XCTAssertEqual(encoded.inputIDs, expectedIDs, "line \(index + 1): \(text.prefix(60))")
            XCTAssertEqual(encoded.tokenTypeIDs, expectedTypes, "line \(index + 1)")
            // Truncation stops encoding early: the untruncated length is then a lower bound above the limit.
            if expectedLength > 256 {
                XCTAssertGreaterThan(encoded.untruncatedLength, 256, "line \(index + 1)")
                XCTAssertLessThanOrEqual(encoded.untruncatedLength, expectedLength, "line \(index + 1)")
            } else {
                XCTAssertEqual(encoded.untruncatedLength, expectedLength, "line \(index + 1)")
            }
            XCTAssertEqual(encoded.isTruncated, expectedLength > 256, "line \(index + 1)")
            if encoded.isTruncated { truncatedRows += 1 }
        }
        XCTAssertGreaterThanOrEqual(truncatedRows, 1, "the fixture holds one text longer than 256 word pieces")
    }

    func testHardCasesMatchHuggingFace() throws {
        let tokenizer = try Fixtures.minilm.get()
        let rows = try Fixtures.jsonLines("tokenizer_cases.jsonl")
        XCTAssertGreaterThanOrEqual(rows.count, 150)
        var singles = 0, pairs = 0, truncated = 0
        for (index, row) in rows.enumerated() {
            let text = try XCTUnwrap(row["text"] as? String)
            let expectedIDs = try XCTUnwrap(Fixtures.ids(row["input_ids"]))
            let expectedTypes = try XCTUnwrap(Fixtures.ids(row["token_type_ids"]))
            let maxLength = row["max_length"] as? Int
            let encoded: TokenizedText
            if let pair = row["pair"] as? String {
                encoded = tokenizer.encode(text, pair: pair, maxLength: maxLength)
                pairs += 1
            } else {
                encoded = tokenizer.encode(text, maxLength: maxLength)
                singles += 1
            }
            if maxLength != nil { truncated += 1 }
            let expectedTokens = (row["tokens"] as? [String]) ?? []
            let actualTokens = encoded.inputIDs.map { tokenizer.token(forID: $0) ?? "?" }
            XCTAssertEqual(encoded.inputIDs, expectedIDs,
                           "case \(index + 1) [\(scalarDump(text))]: got \(actualTokens), want \(expectedTokens)")
            XCTAssertEqual(encoded.tokenTypeIDs, expectedTypes, "case \(index + 1) type ids")
            if maxLength == nil {
                XCTAssertEqual(encoded.untruncatedLength, expectedIDs.count, "case \(index + 1)")
                XCTAssertFalse(encoded.isTruncated, "case \(index + 1)")
            }
        }
        XCTAssertGreaterThanOrEqual(singles, 100)
        XCTAssertGreaterThanOrEqual(pairs, 5)
        XCTAssertGreaterThanOrEqual(truncated, 5)
    }

    func testVocabTextFallbackMatchesHuggingFace() throws {
        let tokenizer = try Fixtures.minilmFromVocab.get()
        let fromJSON = try Fixtures.minilm.get()
        let rows = try Fixtures.jsonLines("tokenizer_cases.jsonl")
        var checked = 0
        for (index, row) in rows.enumerated() {
            guard let expected = Fixtures.ids(row["vocab_txt_input_ids"]) else { continue }
            let text = try XCTUnwrap(row["text"] as? String)
            XCTAssertEqual(tokenizer.encode(text).inputIDs, expected, "case \(index + 1) [\(scalarDump(text))]")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 100)
        XCTAssertEqual(tokenizer.vocabularySize, fromJSON.vocabularySize)
        XCTAssertEqual(tokenizer.clsTokenID, fromJSON.clsTokenID)
        XCTAssertEqual(tokenizer.sepTokenID, fromJSON.sepTokenID)
        XCTAssertEqual(tokenizer.padTokenID, fromJSON.padTokenID)
        XCTAssertEqual(tokenizer.unknownTokenID, fromJSON.unknownTokenID)
        XCTAssertEqual(tokenizer.encode("Hello", pair: "World [MASK]"), fromJSON.encode("Hello", pair: "World [MASK]"))
    }

    func testRandomUnicodeMatchesHuggingFace() throws {
        let tokenizer = try Fixtures.minilm.get()
        let rows = try Fixtures.jsonLines("tokenizer_random.jsonl")
        XCTAssertGreaterThanOrEqual(rows.count, 300)
        for (index, row) in rows.enumerated() {
            let text = try XCTUnwrap(row["text"] as? String)
            let expected = try XCTUnwrap(Fixtures.ids(row["input_ids"]))
            XCTAssertEqual(tokenizer.encode(text).inputIDs, expected, "random case \(index + 1) [\(scalarDump(text))]")
        }
    }

    func testModelFolderLoadsLikeFixtureCopy() throws {
        let folder = Fixtures.minilmModelFolder
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("model folder \(folder.path) is missing (run Scripts/setup)")
                return
            }
            throw XCTSkip("model folder \(folder.path) is missing (run Scripts/setup); the fixture copy covers the tokenizer")
        }
        let tokenizer = try BertTokenizer(modelFolder: folder)
        let reference = try Fixtures.minilm.get()
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        let text = "Tokenization of the model folder: İstanbul, naïve café, 東京 🎉 [MASK]."
        XCTAssertEqual(tokenizer.encode(text), reference.encode(text))
    }

    func testModelFolderFallsBackToVocabText() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tok-fallback-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["vocab.txt", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: Fixtures.minilmTokenizerFolder.appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        let tokenizer = try BertTokenizer(modelFolder: folder)
        let reference = try Fixtures.minilm.get()
        let text = "Fallback to vocab.txt: Straße, ÅNGSTRÖM, 你好 [CLS]"
        XCTAssertEqual(tokenizer.encode(text), reference.encode(text))
        XCTAssertEqual(tokenizer.tokens(of: "Hello, World!"), ["hello", ",", "world", "!"])
    }

    func testKnownTokenizations() throws {
        let tokenizer = try Fixtures.minilm.get()
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        XCTAssertEqual(tokenizer.clsTokenID, 101)
        XCTAssertEqual(tokenizer.sepTokenID, 102)
        XCTAssertEqual(tokenizer.padTokenID, 0)
        XCTAssertEqual(tokenizer.unknownTokenID, 100)
        XCTAssertEqual(tokenizer.token(forID: 103), "[MASK]")
        XCTAssertNil(tokenizer.token(forID: 30522))
        XCTAssertNil(tokenizer.token(forID: -1))
        XCTAssertEqual(tokenizer.id(forToken: "[MASK]"), 103)
        XCTAssertEqual(tokenizer.encode("The cat sat on the mat.").inputIDs, [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102])
        XCTAssertEqual(tokenizer.tokens(of: "unaffordable"), ["una", "##ff", "##ord", "##able"])
        XCTAssertEqual(tokenizer.tokens(of: "İstanbul x[MASK]y"), ["istanbul", "x", "[MASK]", "y"])
        XCTAssertEqual(tokenizer.encode("").inputIDs, [101, 102])
        XCTAssertEqual(tokenizer.encode(" \t\n").inputIDs, [101, 102])
        XCTAssertEqual(tokenizer.tokens(of: String(repeating: "a", count: 101)), ["[UNK]"])
    }
}
