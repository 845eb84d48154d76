import Foundation
import XCTest
import EncoderTestSupport
@testable import Tokenizers

/// Truncation stops encoding early (issue 10, point 9): the ids must be exactly those of full encoding
/// followed by truncation, for every tokenizer family, at every cut, single and pair.
final class EarlyTruncationTests: XCTestCase {
    static let folders = ["tokenizer_minilm", "tokenizer_mpnet", "tokenizer_roberta", "tokenizer_xlmr", "tokenizer_bpe_suffix",
                          "tokenizer_bpe_bytes", "tokenizer_unigram_first"]

    private func tokenizer(_ folder: String) throws -> PipelineTokenizer {
        try PipelineTokenizer(tokenizerJSON: Fixtures.directory.appendingPathComponent("\(folder)/tokenizer.json"))
    }

    /// Long texts whose words (hard cases, added tokens, marks, CJK, emoji) meet at chunk cuts in every way.
    private func longTexts() throws -> [String] {
        var generator = SplitMix64(seed: 42)
        let sentences = try Fixtures.jsonLines("minilm_sentences.jsonl").compactMap { $0["text"] as? String }
        let pieces = ["word", "x1", "A", "9", "<mask>", "[MASK]", "<s>", "é", "e\u{301}", "\u{301}", "東京", "🙂", "👍🏿", "don't", "it's",
                      "  ", "\n", "\u{00A0}", "\u{200B}", ",", "...", "ﬁ", "Straße", "ـ", "a-b", "▁", "İ", "\t"]
        var texts: [String] = []
        texts.append(Array(repeating: sentences.joined(separator: " "), count: 2).joined(separator: " "))
        for _ in 0..<4 {
            var words: [String] = []
            for _ in 0..<700 {
                let roll = generator.next() % 10
                if roll < 6 {
                    var word = String.UnicodeScalarView()
                    for _ in 0..<(1 + Int(generator.next() % 7)) {
                        word.append(Unicode.Scalar(UInt8(ascii: "a") + UInt8(generator.next() % 26)))
                    }
                    words.append(String(word))
                } else {
                    words.append(pieces[Int(generator.next() % UInt64(pieces.count))])
                }
            }
            texts.append(words.joined(separator: generator.next() % 3 == 0 ? "  " : " "))
        }
        return texts
    }

    func testEarlyStopGivesTheIdsOfFullEncoding() throws {
        let texts = try longTexts()
        var compared = 0
        var stopping: [String] = []
        for folder in Self.folders {
            let fast = try tokenizer(folder)
            var full = fast
            full.stopsEarly = false
            if fast.stopsEarly { stopping.append(folder) }
            for text in texts {
                for maxLength in [1, 3, 7, 64, 257, 1500] {
                    let a = fast.encode(text, maxLength: maxLength)
                    let b = full.encode(text, maxLength: maxLength)
                    XCTAssertEqual(a.inputIDs, b.inputIDs, "\(folder) max \(maxLength)")
                    XCTAssertEqual(a.tokenTypeIDs, b.tokenTypeIDs, "\(folder) max \(maxLength)")
                    XCTAssertEqual(a.isTruncated, b.isTruncated, "\(folder) max \(maxLength)")
                    compared += 1
                }
                let short = "A short question about \(folder)?"
                for maxLength in [5, 64, 127, 512] {
                    for (first, second) in [(text, short), (short, text), (text, text), (text, String(text.dropFirst(7)))] {
                        let a = fast.encode(first, pair: second, maxLength: maxLength)
                        let b = full.encode(first, pair: second, maxLength: maxLength)
                        XCTAssertEqual(a.inputIDs, b.inputIDs, "\(folder) pair max \(maxLength)")
                        XCTAssertEqual(a.tokenTypeIDs, b.tokenTypeIDs, "\(folder) pair max \(maxLength)")
                        compared += 1
                    }
                }
            }
        }
        print("early truncation: \(compared) encodings identical to full encoding; stopping early: \(stopping)")
        // Strip (bpe_suffix) and Prepend (bpe_bytes) are not chunk-local: those encode in full.
        XCTAssertEqual(Set(stopping), ["tokenizer_minilm", "tokenizer_mpnet", "tokenizer_roberta", "tokenizer_xlmr",
                                       "tokenizer_unigram_first"])
    }

    /// One line of 2.4 million words truncated to 128 ids: encoding stops after a few chunks.
    func testCostFollowsTheTokensKept() throws {
        let line = String(repeating: "the quick brown fox jumps over the lazy dog ", count: 300_000)
        for folder in ["tokenizer_minilm", "tokenizer_roberta", "tokenizer_xlmr"] {
            let tokenizer = try tokenizer(folder)
            let start = Date()
            let encoded = tokenizer.encode(line, maxLength: 128)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertEqual(encoded.inputIDs.count, 128, folder)
            XCTAssertTrue(encoded.isTruncated, folder)
            XCTAssertLessThan(encoded.untruncatedLength, 10_000, "\(folder): encoding went on after the kept tokens")
            let pair = tokenizer.encode(line, pair: "short", maxLength: 128)
            XCTAssertEqual(pair.inputIDs.count, 128, folder)
            XCTAssertLessThan(pair.untruncatedLength, 10_000, folder)
            print("\(folder): \(line.utf8.count) bytes truncated to 128 ids in \(String(format: "%.4f", seconds)) s "
                  + "(\(encoded.untruncatedLength) ids produced)")
        }
    }
}

