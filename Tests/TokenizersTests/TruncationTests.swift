import XCTest
@testable import Tokenizers

final class TruncationTests: XCTestCase {
    func testLongTextTruncatedToSixteenEndsWithSep() throws {
        let tokenizer = try Fixtures.minilm.get()
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 5)
        let full = tokenizer.encode(text)
        let truncated = tokenizer.encode(text, maxLength: 16)
        XCTAssertEqual(truncated.inputIDs.count, 16)
        XCTAssertEqual(truncated.tokenTypeIDs, Array(repeating: 0, count: 16))
        XCTAssertEqual(truncated.inputIDs.first, tokenizer.clsTokenID)
        XCTAssertEqual(truncated.inputIDs.last, tokenizer.sepTokenID)
        XCTAssertEqual(Array(truncated.inputIDs[0..<15]), Array(full.inputIDs[0..<15]))
        XCTAssertEqual(truncated.untruncatedLength, full.inputIDs.count)
        XCTAssertEqual(full.untruncatedLength, full.inputIDs.count)
        XCTAssertEqual(full.inputIDs.count, 2 + 5 * 10)
        XCTAssertTrue(truncated.isTruncated)
        XCTAssertFalse(full.isTruncated)
    }

    func testMaxLengthAtOrAboveLengthChangesNothing() throws {
        let tokenizer = try Fixtures.minilm.get()
        let text = "Sentence embeddings with a BERT encoder."
        let full = tokenizer.encode(text)
        for maxLength in [full.inputIDs.count, full.inputIDs.count + 1, 512] {
            let encoded = tokenizer.encode(text, maxLength: maxLength)
            XCTAssertEqual(encoded, full, "maxLength \(maxLength)")
            XCTAssertFalse(encoded.isTruncated)
        }
        let shorter = tokenizer.encode(text, maxLength: full.inputIDs.count - 1)
        XCTAssertTrue(shorter.isTruncated)
        XCTAssertEqual(shorter.inputIDs.count, full.inputIDs.count - 1)
    }

    func testTinyMaxLengthsKeepSpecialTokens() throws {
        let tokenizer = try Fixtures.minilm.get()
        for maxLength in [0, 1, 2] {
            let encoded = tokenizer.encode("hello world", maxLength: maxLength)
            XCTAssertEqual(encoded.inputIDs, [101, 102], "maxLength \(maxLength): special tokens are never removed (as in HF)")
            XCTAssertEqual(encoded.untruncatedLength, 4)
            XCTAssertTrue(encoded.isTruncated)
        }
        XCTAssertEqual(tokenizer.encode("hello world", maxLength: 3).inputIDs, [101, 7592, 102])
        XCTAssertEqual(tokenizer.encode("hello world", maxLength: -5).inputIDs, [101, 102])
    }

    func testTruncationCanSplitAWord() throws {
        let tokenizer = try Fixtures.minilm.get()
        // "unaffordable" is una ##ff ##ord ##able: truncation cuts between word pieces, as HF does.
        XCTAssertEqual(tokenizer.encode("unaffordable", maxLength: 4).inputIDs.map { tokenizer.token(forID: $0)! },
                       ["[CLS]", "una", "##ff", "[SEP]"])
    }

    func testPairLongestFirst() throws {
        let tokenizer = try Fixtures.minilm.get()
        // budgets and expected kept lengths from Hugging Face's truncate_encodings tests (max_length 7)
        let cases: [(Int, Int, Int, Int)] = [
            (0, 0, 0, 0), (0, 2, 0, 2), (0, 4, 0, 4), (0, 8, 0, 7), (2, 0, 2, 0), (2, 2, 2, 2), (2, 4, 2, 4),
            (2, 8, 2, 5), (4, 0, 4, 0), (4, 2, 4, 2), (4, 4, 3, 4), (4, 8, 3, 4), (8, 0, 7, 0), (8, 2, 5, 2),
            (8, 4, 4, 3), (8, 8, 3, 4),
        ]
        for (n1, n2, want1, want2) in cases {
            let got = BertTokenizer.longestFirst(n1, n2, budget: 7)
            XCTAssertTrue(got == (want1, want2), "(\(n1), \(n2)) -> \(got), want (\(want1), \(want2))")
        }
        XCTAssertTrue(BertTokenizer.longestFirst(5, 5, budget: 0) == (0, 0))

        let encoded = tokenizer.encode("a b c d e f g h", pair: "q r s", maxLength: 9)
        XCTAssertEqual(encoded.inputIDs.count, 9)
        XCTAssertEqual(encoded.untruncatedLength, 14)
        XCTAssertEqual(encoded.tokenTypeIDs, [0, 0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(encoded.inputIDs.filter { $0 == tokenizer.sepTokenID }.count, 2)
        XCTAssertTrue(encoded.isTruncated)
    }
}
