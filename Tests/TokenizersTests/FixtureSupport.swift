import Foundation
import XCTest
import EncoderTestSupport
@testable import Tokenizers

/// Locations of the test fixtures, relative to this file.
enum Fixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let directory = testsDirectory.appendingPathComponent("Fixtures")
    static let repositoryRoot = testsDirectory.deletingLastPathComponent()
    /// Copies of all-MiniLM-L6-v2's tokenizer.json, vocab.txt and tokenizer_config.json.
    static let minilmTokenizerFolder = directory.appendingPathComponent("tokenizer_minilm")
    /// The downloaded model (git-ignored; created by Scripts/setup).
    /// The default model folder (`$ENCODER_MODEL` honoured), see ``TestModel``.
    static let minilmModelFolder = TestModel.defaultFolderPath

    /// One JSON object per non-empty line.
    static func jsonLines(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let url = directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { index, row in
            let object = try JSONSerialization.jsonObject(with: Data(row.utf8))
            return try XCTUnwrap(object as? [String: Any], "\(name) line \(index + 1) is not a JSON object",
                                 file: file, line: line)
        }
    }

    static func ids(_ value: Any?) -> [Int32]? {
        (value as? [Any])?.compactMap { ($0 as? NSNumber).map { Int32(truncating: $0) } }
    }

    /// The tokenizer built from the fixture copy of tokenizer.json (loaded once).
    static let minilm: Result<BertTokenizer, TokenizerError> = Result { () throws(TokenizerError) -> BertTokenizer in
        try BertTokenizer(tokenizerJSON: minilmTokenizerFolder.appendingPathComponent("tokenizer.json"))
    }

    /// The tokenizer built from the fixture copy of vocab.txt + tokenizer_config.json (loaded once).
    static let minilmFromVocab: Result<BertTokenizer, TokenizerError> = Result { () throws(TokenizerError) -> BertTokenizer in
        try BertTokenizer(vocabFile: minilmTokenizerFolder.appendingPathComponent("vocab.txt"),
                          configFile: minilmTokenizerFolder.appendingPathComponent("tokenizer_config.json"))
    }
}

/// Describes a string's scalars for failure messages, e.g. "U+0041 U+0301".
func scalarDump(_ text: String) -> String {
    text.unicodeScalars.prefix(60).map { String(format: "U+%04X", $0.value) }.joined(separator: " ")
}
