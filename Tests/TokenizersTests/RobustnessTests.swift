import Foundation
import XCTest
import EncoderTestSupport
@testable import Tokenizers

/// Encoding never crashes, whatever the input, and keeps its invariants.
final class RobustnessTests: XCTestCase {
    func randomText(_ rng: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        let length = Int.random(in: 0...80, using: &rng)
        for _ in 0..<length {
            let choice = Int.random(in: 0..<10, using: &rng)
            let value: UInt32
            switch choice {
            case 0..<3: value = UInt32.random(in: 0...0x7F, using: &rng)
            case 3..<5: value = UInt32.random(in: 0x80...0xFFFF, using: &rng)
            case 5: value = UInt32.random(in: 0x300...0x36F, using: &rng)  // combining marks
            case 6: value = [0x200D, 0xFE0F, 0x20E3, 0x1F3FB, 0xFEFF, 0x0, 0xFFFD, 0x85, 0x3000][Int.random(in: 0..<9, using: &rng)]
            default: value = UInt32.random(in: 0...0x10FFFF, using: &rng)
            }
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }  // skips surrogates
        }
        if Int.random(in: 0..<5, using: &rng) == 0 { scalars.append(contentsOf: "[MASK]".unicodeScalars) }
        return String(scalars)
    }

    func testRandomUnicodeNeverCrashesAndKeepsInvariants() throws {
        let tokenizer = try Fixtures.minilm.get()
        var rng = SplitMix64(seed: 42)
        for iteration in 0..<3000 {
            let text = randomText(&rng)
            let encoded = tokenizer.encode(text)
            XCTAssertEqual(encoded.inputIDs.first, tokenizer.clsTokenID)
            XCTAssertEqual(encoded.inputIDs.last, tokenizer.sepTokenID)
            XCTAssertEqual(encoded.inputIDs.count, encoded.tokenTypeIDs.count)
            XCTAssertEqual(encoded.untruncatedLength, encoded.inputIDs.count)
            XCTAssertTrue(encoded.inputIDs.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize }, "iteration \(iteration)")
            XCTAssertEqual(tokenizer.tokens(of: text).count, encoded.inputIDs.count - 2)

            let truncated = tokenizer.encode(text, maxLength: 8)
            XCTAssertLessThanOrEqual(truncated.inputIDs.count, 8)
            XCTAssertEqual(truncated.inputIDs.last, tokenizer.sepTokenID)
            XCTAssertEqual(truncated.untruncatedLength, encoded.inputIDs.count)
            XCTAssertEqual(Array(truncated.inputIDs.dropLast()), Array(encoded.inputIDs.prefix(truncated.inputIDs.count - 1)))

            let pair = tokenizer.encode(text, pair: randomText(&rng), maxLength: 12)
            XCTAssertLessThanOrEqual(pair.inputIDs.count, 12)
            XCTAssertEqual(pair.inputIDs.count, pair.tokenTypeIDs.count)
        }
    }

    func testPathologicalInputs() throws {
        let tokenizer = try Fixtures.minilm.get()
        let inputs = [
            String(repeating: "\u{0301}", count: 10_000),
            String(repeating: "a\u{0301}", count: 5_000),
            String(repeating: "[MASK", count: 2_000),
            String(repeating: "👨‍👩‍👧‍👦", count: 1_000),
            String(repeating: "x", count: 100_000),
            String(repeating: " ", count: 100_000),
            String(repeating: "\u{0}", count: 1_000),
            String(repeating: "漢", count: 5_000),
        ]
        for text in inputs {
            let encoded = tokenizer.encode(text, maxLength: 256)
            XCTAssertLessThanOrEqual(encoded.inputIDs.count, 256)
            XCTAssertEqual(encoded.inputIDs.last, tokenizer.sepTokenID)
        }
        XCTAssertEqual(tokenizer.encode(String(repeating: "x", count: 100_000)).inputIDs, [101, 100, 102])
        XCTAssertEqual(tokenizer.encode(String(repeating: "漢", count: 5_000)).untruncatedLength, 5_002)
    }

    func testTokenizingFixtureTextsIsFast() throws {
        let tokenizer = try Fixtures.minilm.get()
        let texts = try Fixtures.jsonLines("minilm_sentences.jsonl").compactMap { $0["text"] as? String }
            + Fixtures.jsonLines("tokenizer_cases.jsonl").compactMap { $0["text"] as? String }
        _ = texts.map { tokenizer.encode($0) }  // warm the lazily built tables
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for text in texts { _ = tokenizer.encode(text, maxLength: 256) }
        }
        // Generous bound (debug builds, shared machines): milliseconds are expected.
        XCTAssertLessThan(elapsed, .seconds(2), "tokenizing \(texts.count) texts took \(elapsed)")
        if ProcessInfo.processInfo.environment["TOKENIZER_TIMING"] != nil {
            let url = Fixtures.minilmTokenizerFolder.appendingPathComponent("tokenizer.json")
            let load = clock.measure { _ = try? BertTokenizer(tokenizerJSON: url) }
            let vocab = Fixtures.minilmTokenizerFolder.appendingPathComponent("vocab.txt")
            let loadVocab = clock.measure { _ = try? BertTokenizer(vocabFile: vocab, configFile: nil) }
            print("tokenized \(texts.count) texts in \(elapsed); tokenizer.json load \(load); vocab.txt load \(loadVocab)")
        }
    }
}
