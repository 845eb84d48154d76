import Foundation
import XCTest
@testable import TransformerEncoder

/// Token input from callers is untrusted: ids outside the vocabulary, token types outside `type_vocab_size`,
/// sequences longer than `max_position_embeddings` and a type count that does not match the ids are
/// ``EncoderError/invalidInput(sequence:position:reason:)`` naming the sequence and position — never an
/// out-of-bounds read of the embedding tables. Uses Tests/Fixtures/tiny-bert (vocab 100, 2 types, 64 positions).
final class InputValidationTests: XCTestCase {
    nonisolated(unsafe) static var shared: BertModel?

    private func model() throws -> BertModel {
        if let shared = Self.shared { return shared }
        let model = try BertModel(folder: TestSupport.tinyBERT)
        Self.shared = model
        return model
    }

    private let good = TokenSequence(inputIDs: [2, 10, 11, 3])

    /// Runs `encode` and `embed` on `batch`; both must throw `expected`.
    private func assertRejected(
        _ batch: [TokenSequence], _ expected: EncoderError, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = try model()
        XCTAssertThrowsError(try model.encode(batch), file: file, line: line) { error in
            XCTAssertEqual(error as? EncoderError, expected, file: file, line: line)
        }
        XCTAssertThrowsError(try SentenceModules.pooling(.mean, normalize: false, model: model).embed(batch, model: model), file: file, line: line) { error in
            XCTAssertEqual(error as? EncoderError, expected, file: file, line: line)
        }
    }

    func testConfigurationOfTheFixture() throws {
        let config = try model().configuration
        XCTAssertEqual(config.vocabSize, 100)
        XCTAssertEqual(config.typeVocabSize, 2)
        XCTAssertEqual(config.maxPositionEmbeddings, 64)
    }

    func testIDsOutsideTheVocabularyNameSequenceAndPosition() throws {
        try assertRejected(
            [good, TokenSequence(inputIDs: [2, 5, 100, 3])],
            .invalidInput(sequence: 1, position: 2, reason: "token id 100 is outside the vocabulary (vocab_size 100)"))
        try assertRejected(
            [TokenSequence(inputIDs: [-1, 5, 3])],
            .invalidInput(sequence: 0, position: 0, reason: "token id -1 is outside the vocabulary (vocab_size 100)"))
        try assertRejected(
            [good, good, TokenSequence(inputIDs: [2, 5, 6, 7, Int32.max])],
            .invalidInput(sequence: 2, position: 4, reason: "token id 2147483647 is outside the vocabulary (vocab_size 100)"))
        try assertRejected(
            [TokenSequence(inputIDs: [2, Int32.min])],
            .invalidInput(sequence: 0, position: 1, reason: "token id -2147483648 is outside the vocabulary (vocab_size 100)"))
        // The first bad position of the first bad sequence is the one named.
        try assertRejected(
            [good, TokenSequence(inputIDs: [2, 500, 600]), TokenSequence(inputIDs: [700])],
            .invalidInput(sequence: 1, position: 1, reason: "token id 500 is outside the vocabulary (vocab_size 100)"))
    }

    func testTokenTypesOutsideTypeVocabulary() throws {
        try assertRejected(
            [TokenSequence(inputIDs: [2, 5, 3], tokenTypeIDs: [0, 2, 0])],
            .invalidInput(sequence: 0, position: 1, reason: "token type 2 is outside type_vocab_size 2"))
        try assertRejected(
            [good, TokenSequence(inputIDs: [2, 5, 3], tokenTypeIDs: [0, 1, -1])],
            .invalidInput(sequence: 1, position: 2, reason: "token type -1 is outside type_vocab_size 2"))
    }

    func testMismatchedTokenTypeCount() throws {
        try assertRejected(
            [TokenSequence(inputIDs: [2, 5, 3], tokenTypeIDs: [0, 0])],
            .invalidInput(sequence: 0, position: nil, reason: "2 token type ids for 3 tokens"))
        try assertRejected(
            [good, TokenSequence(inputIDs: [2, 3], tokenTypeIDs: [0, 0, 0, 0])],
            .invalidInput(sequence: 1, position: nil, reason: "4 token type ids for 2 tokens"))
    }

    func testSequenceLongerThanMaxPositionEmbeddings() throws {
        let tooLong = TokenSequence(inputIDs: [Int32](repeating: 7, count: 65))
        try assertRejected(
            [good, tooLong],
            .invalidInput(sequence: 1, position: nil, reason: "65 tokens is longer than max_position_embeddings 64"))
        // Exactly the limit is fine.
        let longest = TokenSequence(inputIDs: [Int32](repeating: 7, count: 64))
        let output = try model().encode([longest])
        XCTAssertEqual(output.lastHiddenState.rows, 64)
        XCTAssertTrue(output.lastHiddenState.values.allSatisfy(\.isFinite))
    }

    func testErrorDescriptionNamesSequenceAndPosition() {
        let error = EncoderError.invalidInput(sequence: 3, position: 7, reason: "token id 100 is outside the vocabulary (vocab_size 100)")
        XCTAssertEqual(error.description, "sequence 3, position 7: token id 100 is outside the vocabulary (vocab_size 100)")
        XCTAssertEqual(
            EncoderError.invalidInput(sequence: 1, position: nil, reason: "x").description, "sequence 1: x")
    }

    /// A rejected batch leaves the model usable and its results unchanged (no half-written workspace leaks into
    /// the next call).
    func testRejectedBatchDoesNotDisturbLaterCalls() throws {
        let model = try model()
        let before = try model.encode([good]).lastHiddenState.values
        XCTAssertThrowsError(try model.encode([good, TokenSequence(inputIDs: [2, 100])]))
        let after = try model.encode([good]).lastHiddenState.values
        XCTAssertEqual(before, after)
    }

    /// Edge cases that are valid input: an empty batch, an empty sequence (pools to zeros), boundary ids.
    func testEmptyAndBoundaryInputsAreAccepted() throws {
        let model = try model()
        let empty = try model.encode([])
        XCTAssertEqual(empty.lastHiddenState.rows, 0)
        XCTAssertEqual(empty.sequenceStarts, [0])

        let pooled = try SentenceModules.pooling(.mean, normalize: false, model: model).embed([TokenSequence(inputIDs: []), good], model: model)
        XCTAssertEqual(pooled.rows, 2)
        XCTAssertEqual(Array(pooled.values[0..<pooled.columns]), [Float](repeating: 0, count: pooled.columns))
        XCTAssertTrue(pooled.values.allSatisfy(\.isFinite))

        let edges = try model.encode([TokenSequence(inputIDs: [0, 99], tokenTypeIDs: [1, 1])])
        XCTAssertEqual(edges.lastHiddenState.rows, 2)
        XCTAssertTrue(edges.lastHiddenState.values.allSatisfy(\.isFinite))
    }
}
