import Foundation
import XCTest
@testable import Tokenizers

/// UnigramModel against `tokenizers.models.Unigram` (0.23.3) on the pieces in
/// Tests/Fixtures/tokenizer_xlmr (made by Scripts/make_xlmr_tokenizer_fixtures.py).
final class UnigramModelTests: XCTestCase {
    static let folder = Fixtures.directory.appendingPathComponent("tokenizer_xlmr")

    /// `model.vocab`, `model.unk_id` and `model.byte_fallback` of a JSON file whose model object is at `path`.
    static func loadModel(_ name: String, modelKey: String?) throws -> UnigramModel {
        let url = folder.appendingPathComponent(name)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let model = try XCTUnwrap((modelKey.map { root[$0] } ?? root) as? [String: Any])
        let entries = try XCTUnwrap(model["vocab"] as? [[Any]])
        let vocabulary = try entries.map { entry -> (token: String, score: Double) in
            (try XCTUnwrap(entry.first as? String), try XCTUnwrap((entry.last as? NSNumber)?.doubleValue))
        }
        return try UnigramModel(vocabulary: vocabulary, unknownID: model["unk_id"] as? Int,
                                byteFallback: model["byte_fallback"] as? Bool ?? false, file: url.path)
    }

    func check(model: UnigramModel, cases: String) throws {
        let rows = try Fixtures.jsonLines("tokenizer_xlmr/" + cases)
        XCTAssertGreaterThan(rows.count, 300)
        var matched = 0
        var ids: [Int32] = []
        for row in rows {
            let piece = try XCTUnwrap(row["piece"] as? String)
            let expected = try XCTUnwrap(Fixtures.ids(row["ids"]))
            ids.removeAll(keepingCapacity: true)
            model.tokenize(ArraySlice(Array(piece.unicodeScalars)), into: &ids)
            if ids == expected { matched += 1 } else { XCTFail("\(piece.debugDescription): \(ids) != \(expected)") }
        }
        print("\(cases): \(matched) of \(rows.count) pieces exact")
    }

    func testXLMRPiecesMatchHuggingFace() throws {
        try check(model: Self.loadModel("tokenizer.json", modelKey: "model"), cases: "unigram_cases.jsonl")
    }

    func testByteFallbackPiecesMatchHuggingFace() throws {
        try check(model: Self.loadModel("bytefallback_model.json", modelKey: nil), cases: "bytefallback_cases.jsonl")
    }

    func testLookups() throws {
        let model = try Self.loadModel("tokenizer.json", modelKey: "model")
        XCTAssertEqual(model.id(forToken: "<unk>"), 3)
        XCTAssertEqual(model.token(forID: 0), "<s>")
        XCTAssertEqual(model.token(forID: Int32(model.vocabularySize - 1)), "<mask>")
        XCTAssertNil(model.token(forID: -1))
        XCTAssertNil(model.token(forID: Int32(model.vocabularySize)))
        var ids: [Int32] = [7]
        model.tokenize([], into: &ids)
        XCTAssertEqual(ids, [7], "an empty piece adds nothing")
    }

    func testInvalidVocabulariesAreTypedErrors() {
        func expect(_ kind: TokenizerError.Kind, _ field: String, _ body: () throws(TokenizerError) -> UnigramModel) {
            do {
                _ = try body()
                XCTFail("expected \(kind) at \(field)")
            } catch {
                XCTAssertEqual(error.kind, kind)
                XCTAssertEqual(error.field, field)
                XCTAssertEqual(error.file, "t.json")
            }
        }
        expect(.invalidVocabulary, "model.vocab") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [], unknownID: 0, byteFallback: false, file: "t.json")
        }
        expect(.invalidVocabulary, "model.unk_id") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [("a", -1)], unknownID: 1, byteFallback: false, file: "t.json")
        }
        expect(.missingSpecialToken, "model.unk_id") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [("a", -1)], unknownID: nil, byteFallback: false, file: "t.json")
        }
        expect(.invalidVocabulary, "model.vocab[1]") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [("<unk>", 0), ("a", .nan)], unknownID: 0, byteFallback: false, file: "t.json")
        }
        expect(.invalidVocabulary, "model.vocab[2]") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [("<unk>", 0), ("a", -1), ("a", -2)], unknownID: 0, byteFallback: false, file: "t.json")
        }
        expect(.invalidVocabulary, "model.byte_fallback") { () throws(TokenizerError) in
            try UnigramModel(vocabulary: [("<unk>", 0), ("<0x00>", 0)], unknownID: 0, byteFallback: true, file: "t.json")
        }
    }
}
