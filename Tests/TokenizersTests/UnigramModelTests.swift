import Foundation
import XCTest
import JSONCore
@testable import Tokenizers

/// UnigramModel against `tokenizers.models.Unigram` (0.23.3) on the pieces in
/// Tests/Fixtures/tokenizer_xlmr (made by Scripts/make_xlmr_tokenizer_fixtures.py).
final class UnigramModelTests: XCTestCase {
    static let folder = Fixtures.directory.appendingPathComponent("tokenizer_xlmr")

    /// `model.vocab`, `model.unk_id` and `model.byte_fallback` of a JSON file (its `modelKey` object, or the
    /// root). Parsed with the package's JSON parser: Foundation's JSONSerialization rounds some scores
    /// (for example -0.22289848151389954) to a neighbouring double, which can change a Viterbi tie.
    static func loadModel(_ name: String, modelKey: String?) throws -> UnigramModel {
        let url = folder.appendingPathComponent(name)
        guard case .object(let root) = try JSONValue.parse(Data(contentsOf: url)) else {
            throw TokenizerError(.invalidJSON, file: url.path, message: "not a JSON object")
        }
        let modelValue = modelKey.map { root[$0] } ?? .object(root)
        guard case .object(let model)? = modelValue, case .array(let entries)? = model["vocab"] else {
            XCTFail("\(name) has no model.vocab")
            throw TokenizerError(.missingField, file: url.path, field: "model.vocab", message: "absent")
        }
        let vocabulary = try entries.map { entry -> (token: String, score: Double) in
            guard case .array(let pair) = entry, pair.count == 2, case .string(let token) = pair[0],
                  case .number(let score) = pair[1] else {
                throw TokenizerError(.invalidField, file: url.path, field: "model.vocab", message: "not [piece, score]")
            }
            return (token, score.doubleValue)
        }
        var unknownID: Int? = nil
        if case .number(let value)? = model["unk_id"] { unknownID = Int(value.doubleValue) }
        var byteFallback = false
        if case .bool(let value)? = model["byte_fallback"] { byteFallback = value }
        return try UnigramModel(vocabulary: vocabulary, unknownID: unknownID, byteFallback: byteFallback, file: url.path)
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

    /// Small random vocabularies: positive scores (where several unknown characters can beat a piece),
    /// unk_id on an ordinary piece, pieces spelling "<unk>", fused unknown runs that are themselves pieces.
    func testRandomVocabulariesMatchHuggingFace() throws {
        let url = Self.folder.appendingPathComponent("unigram_random_models.json")
        guard case .array(let models) = try JSONValue.parse(Data(contentsOf: url)) else {
            throw TokenizerError(.invalidJSON, file: url.path, message: "not a JSON array")
        }
        XCTAssertEqual(models.count, 40)
        var matched = 0
        var total = 0
        for (index, value) in models.enumerated() {
            guard case .object(let object) = value, case .array(let entries)? = object["vocab"],
                  case .number(let unknownID)? = object["unk_id"], case .array(let cases)? = object["cases"] else {
                throw TokenizerError(.invalidField, file: url.path, field: "[\(index)]", message: "malformed")
            }
            let vocabulary = try entries.map { entry -> (token: String, score: Double) in
                guard case .array(let pair) = entry, pair.count == 2, case .string(let token) = pair[0],
                      case .number(let score) = pair[1] else {
                    throw TokenizerError(.invalidField, file: url.path, field: "[\(index)].vocab", message: "not [piece, score]")
                }
                return (token, score.doubleValue)
            }
            let model = try UnigramModel(vocabulary: vocabulary, unknownID: Int(unknownID.doubleValue), byteFallback: false, file: url.path)
            for row in cases {
                guard case .object(let fields) = row, case .string(let piece)? = fields["piece"],
                      case .array(let expectedValues)? = fields["ids"] else {
                    throw TokenizerError(.invalidField, file: url.path, field: "[\(index)].cases", message: "malformed")
                }
                let expected = expectedValues.compactMap { value -> Int32? in
                    if case .number(let id) = value { return Int32(id.doubleValue) }
                    return nil
                }
                var ids: [Int32] = []
                model.tokenize(ArraySlice(Array(piece.unicodeScalars)), into: &ids)
                total += 1
                if ids == expected { matched += 1 } else { XCTFail("model \(index) \(piece.debugDescription): \(ids) != \(expected)") }
            }
        }
        XCTAssertGreaterThan(total, 2000)
        print("unigram_random_models.json: \(matched) of \(total) pieces exact over \(models.count) vocabularies")
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
