import Foundation
import XCTest
@testable import Tokenizers

/// PrecompiledCharsmap against `tokenizers.normalizers.Precompiled` (0.23.3) with the nmt_nfkc map of the
/// fixture XLM-R tokenizer (Tests/Fixtures/tokenizer_xlmr, made by Scripts/make_xlmr_tokenizer_fixtures.py).
final class PrecompiledCharsmapTests: XCTestCase {
    static let tokenizerJSON = Fixtures.directory.appendingPathComponent("tokenizer_xlmr/tokenizer.json")

    static func charsmapBase64() throws -> String {
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerJSON)) as? [String: Any])
        let normalizer = try XCTUnwrap(root["normalizer"] as? [String: Any])
        let first = try XCTUnwrap((normalizer["normalizers"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["type"] as? String, "Precompiled")
        return try XCTUnwrap(first["precompiled_charsmap"] as? String)
    }

    func testNormalizationMatchesHuggingFace() throws {
        let charsmap = try PrecompiledCharsmap(base64: Self.charsmapBase64(), file: Self.tokenizerJSON.path,
                                               field: "normalizer.normalizers[0].precompiled_charsmap")
        let rows = try Fixtures.jsonLines("tokenizer_xlmr/precompiled_cases.jsonl")
        XCTAssertGreaterThan(rows.count, 500)
        var matched = 0
        var changed = 0
        for row in rows {
            let text = try XCTUnwrap(row["text"] as? String)
            let expected = try XCTUnwrap(row["normalized"] as? String)
            let output = charsmap.normalize(Array(text.unicodeScalars))
            var result = String()
            result.unicodeScalars.append(contentsOf: output)
            if text != expected { changed += 1 }
            if Array(result.unicodeScalars) == Array(expected.unicodeScalars) {
                matched += 1
            } else {
                XCTFail("\(text.debugDescription): \(result.debugDescription) != \(expected.debugDescription)")
            }
        }
        print("precompiled_cases.jsonl: \(matched) of \(rows.count) texts exact (\(changed) changed by the map)")
    }

    func testMalformedMapsAreTypedErrors() throws {
        let valid = try XCTUnwrap(PrecompiledCharsmap.decodeBase64(Self.charsmapBase64()))
        func expectError(_ blob: [UInt8], _ why: String) {
            do {
                _ = try PrecompiledCharsmap(blob: blob, file: "t.json", field: "normalizer.precompiled_charsmap")
                XCTFail("accepted: \(why)")
            } catch {
                XCTAssertEqual(error.kind, .invalidField, why)
                XCTAssertEqual(error.file, "t.json", why)
                XCTAssertEqual(error.field, "normalizer.precompiled_charsmap", why)
            }
        }
        expectError([], "empty")
        expectError([1, 0], "shorter than the size")
        expectError([8, 0, 0, 0, 1, 2, 3, 4], "trie size beyond the blob")
        expectError([0, 0, 0, 0, 65], "empty trie")
        expectError([6, 0, 0, 0, 1, 2, 3, 4, 5, 6], "trie size not a multiple of 4")
        expectError(Array(valid[..<(valid.count / 3)]), "truncated")
        expectError(valid + [0xFF], "replacements not UTF-8")
        // The size field shrunk by 4: the trie loses its last unit and the replacements start mid-unit.
        var shifted = valid
        shifted[0] &-= 4
        expectError(shifted, "misaligned replacements")

        for (text, why) in [("not base64!", "alphabet"), ("QUJD\n", "newline"), ("QUI", "no padding"), ("QUJ=", "trailing bits")] {
            XCTAssertThrowsError(try PrecompiledCharsmap(base64: text, file: "t.json", field: "f"), why) { error in
                XCTAssertEqual((error as? TokenizerError)?.kind, .invalidField, why)
            }
        }
        XCTAssertEqual(PrecompiledCharsmap.decodeBase64("QUJD"), Array("ABC".utf8))
        XCTAssertEqual(PrecompiledCharsmap.decodeBase64("QUI="), Array("AB".utf8))
        XCTAssertEqual(PrecompiledCharsmap.decodeBase64("QQ=="), Array("A".utf8))
    }

    /// Random corruptions of the real map either throw or give a normalizer whose lookups stay in bounds.
    func testCorruptedMapsNeverCrash() throws {
        let valid = try XCTUnwrap(PrecompiledCharsmap.decodeBase64(Self.charsmapBase64()))
        var generator = SystemRandomNumberGenerator()
        let probe = Array("Ｈéllo ﬁ ① 한국어 👍🏽 \u{0}\u{7F} ｶﾞ e\u{301}".unicodeScalars)
        var loaded = 0
        for round in 0..<60 {
            var blob = valid
            for _ in 0..<(1 + round % 16) {
                let index = Int.random(in: 0..<blob.count, using: &generator)
                blob[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if let charsmap = try? PrecompiledCharsmap(blob: blob, file: "t", field: "f") {
                loaded += 1
                _ = charsmap.normalize(probe)
            }
        }
        print("corrupted maps: \(loaded) of 60 loaded, all normalized without a crash")
    }
}
