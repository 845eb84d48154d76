// Shared by the package's test targets: fixture paths, the default model folder, the reference
// sentences and the deterministic generator. Internal to the tests (not a product).

import Foundation
import TransformerEncoder
import XCTest

/// The package's one deterministic generator (``TransformerEncoder/SplitMix64``), for test targets that
/// do not import TransformerEncoder themselves.
public typealias SplitMix64 = TransformerEncoder.SplitMix64

/// Folders of the repository, found from this source file.
public enum Repository {
    /// The repository root.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // EncoderTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
    /// `Tests/Fixtures`.
    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")
}

/// The default model (all-MiniLM-L6-v2, fetched by `Scripts/setup`) for tests that need it.
public enum TestModel {
    /// The model is missing while `CI=true`: the test fails with this error.
    public struct Missing: Error, CustomStringConvertible {
        public let folder: String
        public let setup: String
        public var description: String { "model missing at \(folder) (CI=true): run \(setup)" }
    }

    /// `$ENCODER_MODEL` when set and not empty, else `models/all-MiniLM-L6-v2` under the repository.
    public static var defaultFolderPath: URL {
        if let path = ProcessInfo.processInfo.environment["ENCODER_MODEL"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return Repository.root.appendingPathComponent("models/all-MiniLM-L6-v2")
    }

    /// The default model folder when it holds `model.safetensors`. Otherwise the calling test FAILS
    /// (throws ``Missing``) when `CI=true`, and is skipped (throws `XCTSkip`) elsewhere.
    public static func defaultFolder() throws -> URL {
        try existing(defaultFolderPath, setup: "Scripts/setup")
    }

    /// `models/<name>` (e.g. `all-mpnet-base-v2`, fetched by `setup`), under the same rule as ``defaultFolder()``.
    public static func folder(named name: String, setup: String) throws -> URL {
        try existing(Repository.root.appendingPathComponent("models/\(name)"), setup: setup)
    }

    private static func existing(_ folder: URL, setup: String) throws -> URL {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            return folder
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw Missing(folder: folder.path, setup: setup) }
        throw XCTSkip("model missing at \(folder.path): run \(setup)")
    }
}

/// One line of `Tests/Fixtures/minilm_sentences.jsonl` (Scripts/make_fixtures.py; see Tests/Fixtures/REFERENCE.md):
/// a text and what sentence-transformers made of it with all-MiniLM-L6-v2.
public struct ReferenceSentence: Decodable, Sendable {
    public let text: String
    /// Token ids as sentence-transformers feeds them (truncated to max_seq_length 256).
    public let input_ids: [Int32]
    public let token_type_ids: [Int32]
    /// Ids without truncation, special tokens included.
    public let untruncated_length: Int
    /// Mean-pooled and L2-normalized: the model's full pipeline.
    public let embedding: [Float]
    /// Mean-pooled, before normalization.
    public let pooled_unnormalized: [Float]

    public static let fixture = Repository.fixtures.appendingPathComponent("minilm_sentences.jsonl")

    /// Every line of the fixture, in order.
    public static func all() throws -> [ReferenceSentence] {
        let data = try Data(contentsOf: fixture)
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(ReferenceSentence.self, from: Data($0.utf8))
        }
    }
}
