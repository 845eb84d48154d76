import Foundation
import SafeTensors
import Tokenizers
import XCTest
@testable import TransformerEncoder

/// A model folder comes from the internet: every malformed `config.json`, checkpoint or tokenizer file must be
/// an ``EncoderError`` naming the file and the problem (field or tensor), thrown before any allocation sized by
/// the file, never a crash. Each test copies `Tests/Fixtures/tiny-bert` to a scratch folder and breaks one thing.
final class HostileModelFolderTests: XCTestCase {
    private var folder: ScratchModelFolder!

    override func setUpWithError() throws {
        folder = try ScratchModelFolder(copying: TestSupport.tinyBERT)
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    /// Loads the folder and returns the error it throws (failing the test if it loads).
    private func loadError(file: StaticString = #filePath, line: UInt = #line) -> EncoderError? {
        do {
            _ = try BertModel(folder: folder.url)
            XCTFail("the model folder loaded but should not have", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertInvalidField(
        _ field: String, _ reasonFragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = loadError(file: file, line: line) else { return }
        guard case let .invalidField(path, actualField, reason) = error else {
            return XCTFail("expected invalidField(\(field)), got \(error)", file: file, line: line)
        }
        XCTAssertEqual(path, folder.config.path, file: file, line: line)
        XCTAssertEqual(actualField, field, "\(error)", file: file, line: line)
        XCTAssertTrue(reason.contains(reasonFragment), "'\(reason)' lacks '\(reasonFragment)'", file: file, line: line)
        XCTAssertTrue(error.description.hasPrefix(folder.config.path), error.description, file: file, line: line)
        XCTAssertTrue(error.description.contains("'\(field)'"), error.description, file: file, line: line)
    }

    // MARK: Control: the scratch copy and the safetensors writer are faithful

    func testUnmodifiedCopyAndRewrittenCheckpointLoadAndAgree() throws {
        let original = try BertModel(folder: TestSupport.tinyBERT)
        try folder.rewriteCheckpoint { _ in }  // same tensors, written by the test's own writer
        let rewritten = try BertModel(folder: folder.url)
        let input = [TokenSequence(inputIDs: [2, 17, 42, 99, 3], tokenTypeIDs: [0, 0, 1, 1, 1])]
        let a = try original.encode(input).lastHiddenState
        let b = try rewritten.encode(input).lastHiddenState
        XCTAssertEqual(a.rows, 5)
        XCTAssertEqual(a.values, b.values)
    }

    // MARK: config.json

    func testConfigNotJSON() throws {
        for bytes in [Array("{\"hidden_size\": 32,".utf8), [0xFF, 0xFE, 0x00], []] {
            try Data(bytes).write(to: folder.config)
            guard let error = loadError() else { continue }
            guard case let .malformedJSON(path, reason) = error else { XCTFail("got \(error)"); continue }
            XCTAssertEqual(path, folder.config.path)
            XCTAssertTrue(reason.contains("not valid JSON"), reason)
        }
        // `null` is valid JSON (RFC 8259 allows any top-level value), just not an object.
        try Data("null".utf8).write(to: folder.config)
        XCTAssertEqual(loadError(), .malformedJSON(path: folder.config.path, reason: "top level is not a JSON object"))
    }

    /// Duplicate keys in config.json used to take the last value silently; now they are an error
    /// naming the key and the file.
    func testConfigDuplicateKeysAreRejected() throws {
        let text = try String(contentsOf: folder.config, encoding: .utf8)
        let duplicated = text.replacingOccurrences(of: "{", with: "{\"hidden_size\": 64, ", options: [], range: text.range(of: "{"))
        try Data(duplicated.utf8).write(to: folder.config)
        let error = loadError()
        guard case let .malformedJSON(path, reason)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, folder.config.path)
        XCTAssertTrue(reason.contains("key 'hidden_size' appears twice in the top level"), reason)
    }

    func testConfigIntegerFieldsAreIntegerLiterals() throws {
        try folder.rewriteConfig { $0["hidden_size"] = 32 }
        let text = try String(contentsOf: folder.config, encoding: .utf8)
        XCTAssertTrue(text.contains("\"hidden_size\":32,"), text)
        try Data(text.replacingOccurrences(of: "\"hidden_size\":32,", with: "\"hidden_size\":32.0,").utf8).write(to: folder.config)
        assertInvalidField("hidden_size", "is not an integer: 32")
    }

    func testConfigTopLevelNotAnObject() throws {
        try Data("[1, 2, 3]".utf8).write(to: folder.config)
        guard let error = loadError() else { return }
        XCTAssertEqual(error, .malformedJSON(path: folder.config.path, reason: "top level is not a JSON object"))
    }

    func testConfigMissingOrADirectory() throws {
        try FileManager.default.removeItem(at: folder.config)
        XCTAssertEqual(loadError(), .unreadableFile(path: folder.config.path, reason: "no such file"))
        try FileManager.default.createDirectory(at: folder.config, withIntermediateDirectories: false)
        XCTAssertEqual(loadError(), .unreadableFile(path: folder.config.path, reason: "is a directory"))
    }

    func testConfigMissingRequiredFields() throws {
        for field in ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                      "max_position_embeddings", "vocab_size"] {
            try folder.rewriteConfig { $0[field] = nil }
            assertInvalidField(field, "is missing")
            try folder.rewriteConfig { $0[field] = NSNull() }  // null counts as missing
            assertInvalidField(field, "is missing")
        }
    }

    func testConfigZeroAndNegativeSizes() throws {
        for field in ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                      "max_position_embeddings", "vocab_size", "type_vocab_size"] {
            for value in [0, -1, -32] {
                try folder.rewriteConfig { $0[field] = value }
                assertInvalidField(field, "is \(value), must be in 1...")
            }
        }
        try folder.rewriteConfig { $0["pad_token_id"] = -1 }
        assertInvalidField("pad_token_id", "is -1")
        try folder.rewriteConfig { $0["layer_norm_eps"] = -1e-12 }
        assertInvalidField("layer_norm_eps", "must be in 0.0...1.0")
    }

    func testConfigWrongValueTypes() throws {
        try folder.rewriteConfig { $0["hidden_size"] = "32" }
        assertInvalidField("hidden_size", "is not an integer")
        try folder.rewriteConfig { $0["hidden_size"] = 32.5 }
        assertInvalidField("hidden_size", "is not an integer")
        try folder.rewriteConfig { $0["num_hidden_layers"] = true }
        assertInvalidField("num_hidden_layers", "is not an integer")
        try folder.rewriteConfig { $0["vocab_size"] = [100] }
        assertInvalidField("vocab_size", "is not an integer")
        try folder.rewriteConfig { $0["hidden_act"] = 7 }
        assertInvalidField("hidden_act", "is not a string")
        try folder.rewriteConfig { $0["layer_norm_eps"] = "1e-12" }
        assertInvalidField("layer_norm_eps", "is not a number")
    }

    func testHiddenSizeNotDivisibleByHeads() throws {
        try folder.rewriteConfig { $0["num_attention_heads"] = 5 }  // hidden_size 32
        assertInvalidField("num_attention_heads", "does not divide hidden_size 32")
        try folder.rewriteConfig { $0["num_attention_heads"] = 64 }
        assertInvalidField("num_attention_heads", "does not divide hidden_size 32")
    }

    func testPadTokenOutsideVocabulary() throws {
        try folder.rewriteConfig { $0["pad_token_id"] = 100 }  // vocab_size 100
        assertInvalidField("pad_token_id", "outside the vocabulary of 100")
    }

    /// Sizes beyond any machine: refused by the decoder with the field named, before anything is allocated.
    func testSizesTooLargeToAllocate() throws {
        try folder.rewriteConfig { $0["hidden_size"] = 1 << 40 }
        assertInvalidField("hidden_size", "must be in 1...65536")
        try folder.rewriteConfig { $0["vocab_size"] = Int.max }
        assertInvalidField("vocab_size", "must be in 1...16777216")
        try folder.rewriteConfig { $0["max_position_embeddings"] = 1e300 }
        assertInvalidField("max_position_embeddings", "must be in 1...1048576")
        try folder.rewriteConfig { $0["intermediate_size"] = 18_446_744_073_709_551_616.0 }  // 2^64
        assertInvalidField("intermediate_size", "must be in 1...262144")
        // Each size in range, together more than 256 GiB of weights.
        try folder.rewriteConfig {
            $0["hidden_size"] = 65536; $0["num_attention_heads"] = 64; $0["intermediate_size"] = 262_144
            $0["num_hidden_layers"] = 1024; $0["vocab_size"] = 1 << 24
        }
        assertInvalidField("hidden_size", "256 GiB")
    }

    /// Large but allocatable sizes: the config is accepted, and the checkpoint (which does not hold tensors that
    /// large) is refused on its first tensor's shape — without allocating the gigabytes the config describes.
    func testLargeConfigAgainstSmallCheckpointFailsOnFirstTensorShape() throws {
        try folder.rewriteConfig {
            $0["hidden_size"] = 4096; $0["num_attention_heads"] = 64; $0["intermediate_size"] = 16384
            $0["vocab_size"] = 1 << 20; $0["max_position_embeddings"] = 1 << 20
        }
        let start = ContinuousClock.now
        guard let error = loadError() else { return }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        guard case let .checkpoint(inner) = error, case let .shapeMismatch(expected, actual) = inner.kind else {
            return XCTFail("expected a shape mismatch, got \(error)")
        }
        XCTAssertEqual(inner.file, folder.checkpoint.path)
        XCTAssertEqual(inner.tensor, "embeddings.word_embeddings.weight")
        XCTAssertEqual(expected, [1 << 20, 4096])
        XCTAssertEqual(actual, [100, 32])
    }

    func testUnknownActivationAndArchitecture() throws {
        try folder.rewriteConfig { $0["hidden_act"] = "swishy_gelu" }
        XCTAssertEqual(loadError(), .unsupported(path: folder.config.path, field: "hidden_act", value: "swishy_gelu"))
        try folder.rewriteConfig { $0["model_type"] = "gpt2" }
        XCTAssertEqual(
            loadError(),
            .unsupportedModelType(
                path: folder.config.path, modelType: "gpt2",
                supported: ["bert", "roberta", "xlm-roberta", "distilbert", "mpnet"]))
        try folder.rewriteConfig { $0["position_embedding_type"] = "relative_key" }
        XCTAssertEqual(
            loadError(), .unsupported(path: folder.config.path, field: "position_embedding_type", value: "relative_key"))
    }

    func testConfigTooLargeIsRefusedWithoutReadingIt() throws {
        // 17 MiB of whitespace around a valid object: over the 16 MiB limit for configuration files.
        var data = Data(repeating: 0x20, count: 17 << 20)
        data.append(try Data(contentsOf: TestSupport.tinyBERT.appendingPathComponent("config.json")))
        try data.write(to: folder.config)
        guard let error = loadError() else { return }
        guard case let .unreadableFile(path, reason) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(path, folder.config.path)
        XCTAssertTrue(reason.contains("too large"), reason)
    }

    // MARK: model.safetensors

    func testMissingTensorIsNamed() throws {
        for name in ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias",
                     "encoder.layer.1.output.dense.weight", "encoder.layer.0.attention.self.value.bias"] {
            try folder.rewriteCheckpoint { $0.removeAll { $0.name == name } }
            guard let error = loadError() else { continue }
            XCTAssertEqual(error, .checkpoint(SafeTensorsError(file: folder.checkpoint.path, tensor: name, kind: .tensorNotFound)))
            XCTAssertTrue(error.description.contains(name), error.description)
            XCTAssertTrue(error.description.contains(folder.checkpoint.path), error.description)
        }
    }

    /// A layer the config asks for but the checkpoint does not have (num_hidden_layers 3, two layers stored).
    func testConfigAsksForMoreLayersThanTheCheckpointHas() throws {
        try folder.rewriteConfig { $0["num_hidden_layers"] = 3 }
        guard let error = loadError() else { return }
        guard case let .checkpoint(inner) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(inner.kind, .tensorNotFound)
        XCTAssertTrue(inner.tensor?.hasPrefix("encoder.layer.2.") == true, "\(error)")
    }

    func testWrongShapeIsNamedWithExpectedAndActual() throws {
        let cases: [(String, [Int], [Int])] = [
            ("embeddings.word_embeddings.weight", [99, 32], [100, 32]),
            ("embeddings.position_embeddings.weight", [32, 32], [64, 32]),
            ("encoder.layer.0.intermediate.dense.weight", [32, 64], [64, 32]),  // transposed
            ("encoder.layer.1.attention.self.query.bias", [1, 32], [32]),
            ("encoder.layer.1.output.LayerNorm.weight", [], [32]),
        ]
        for (name, wrong, expected) in cases {
            try folder.rewriteCheckpoint { tensors in
                let index = tensors.firstIndex { $0.name == name }!
                let count = wrong.reduce(1, *)
                tensors[index] = .float32(name, shape: wrong, values: [Float](repeating: 0.5, count: count))
            }
            guard let error = loadError() else { continue }
            XCTAssertEqual(
                error,
                .checkpoint(SafeTensorsError(
                    file: folder.checkpoint.path, tensor: name, kind: .shapeMismatch(expected: expected, actual: wrong))))
            XCTAssertTrue(error.description.contains(name), error.description)
        }
    }

    func testIntegerTensorWhereFloatsAreNeeded() throws {
        let name = "embeddings.token_type_embeddings.weight"
        try folder.rewriteCheckpoint { tensors in
            let index = tensors.firstIndex { $0.name == name }!
            tensors[index] = CheckpointTensor(name: name, dtype: "I32", shape: [2, 32], bytes: [UInt8](repeating: 1, count: 256))
        }
        guard let error = loadError() else { return }
        guard case let .checkpoint(inner) = error, case .unsupportedDType = inner.kind else {
            return XCTFail("got \(error)")
        }
        XCTAssertEqual(inner.tensor, name)
    }

    func testMissingTruncatedOrGarbageCheckpoint() throws {
        try FileManager.default.removeItem(at: folder.checkpoint)
        XCTAssertEqual(loadError(), .checkpoint(SafeTensorsError(file: folder.checkpoint.path, kind: .fileNotFound)))

        let original = try Data(contentsOf: TestSupport.tinyBERT.appendingPathComponent("model.safetensors"))
        try original.prefix(original.count / 2).write(to: folder.checkpoint)
        guard case let .checkpoint(truncated)? = loadError() else { return XCTFail("truncated file loaded or wrong error") }
        XCTAssertEqual(truncated.file, folder.checkpoint.path)
        guard case .dataOffsetsOutOfBounds = truncated.kind else { return XCTFail("got \(truncated)") }

        try Data("this is not a safetensors file at all".utf8).write(to: folder.checkpoint)
        guard case let .checkpoint(garbage)? = loadError() else { return XCTFail("garbage loaded or wrong error") }
        XCTAssertEqual(garbage.file, folder.checkpoint.path)
    }

    func testBertPrefixedCheckpointLoads() throws {
        try folder.rewriteCheckpoint { tensors in
            for i in tensors.indices { tensors[i].name = "bert." + tensors[i].name }
        }
        let model = try BertModel(folder: folder.url)
        XCTAssertEqual(model.layers.count, 2)
        // …and a missing tensor is then named with its prefix.
        try folder.rewriteCheckpoint { tensors in
            for i in tensors.indices { tensors[i].name = "bert." + tensors[i].name }
            tensors.removeAll { $0.name == "bert.encoder.layer.0.output.dense.bias" }
        }
        XCTAssertEqual(
            loadError(),
            .checkpoint(SafeTensorsError(
                file: folder.checkpoint.path, tensor: "bert.encoder.layer.0.output.dense.bias", kind: .tensorNotFound)))
    }

    // MARK: Tokenizer files, through SentenceEncoder

    private func sentenceEncoderError() -> EncoderError? {
        do {
            _ = try SentenceEncoder(modelFolder: folder.url)
            XCTFail("the model folder loaded but should not have")
            return nil
        } catch {
            return error
        }
    }

    private static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ",", "!"]

    func testSentenceEncoderWithVocabTextLoadsAndEncodes() throws {
        try Data((Self.vocabulary.joined(separator: "\n") + "\n").utf8).write(to: folder.vocab)
        let encoder = try SentenceEncoder(modelFolder: folder.url)
        XCTAssertEqual(encoder.tokenize("Hello, worlds!").inputIDs, [2, 5, 8, 6, 7, 9, 3])
        let batch = try encoder.encode(["Hello, worlds!", "", "   ", "a\u{0}b"])
        XCTAssertEqual(batch.count, 4)
        XCTAssertEqual(batch.tokenCounts, [7, 2, 2, 3])  // "" and whitespace: [CLS] [SEP]; NUL removed: "ab" → [UNK]
        XCTAssertTrue(batch.embeddings.values.allSatisfy(\.isFinite))
    }

    func testNoTokenizerFiles() throws {
        guard let error = sentenceEncoderError() else { return }
        guard case let .tokenizer(inner) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(inner.kind, .unreadableFile)
        XCTAssertEqual(inner.file, folder.url.path)
    }

    func testTokenizerJSONNotJSON() throws {
        try Data("{\"model\": {\"vocab\": ".utf8).write(to: folder.tokenizerJSON)
        guard let error = sentenceEncoderError() else { return }
        guard case let .tokenizer(inner) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(inner.kind, .invalidJSON)
        XCTAssertEqual(inner.file, folder.tokenizerJSON.path)
        XCTAssertTrue(error.description.contains(folder.tokenizerJSON.path), error.description)
    }

    func testTokenizerJSONWithoutVocabulary() throws {
        try Data(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]"}}"#.utf8).write(to: folder.tokenizerJSON)
        guard let error = sentenceEncoderError() else { return }
        guard case let .tokenizer(inner) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(inner.kind, .missingField)
        XCTAssertEqual(inner.field, "model.vocab")
        XCTAssertEqual(inner.file, folder.tokenizerJSON.path)
    }

    func testVocabTextWithoutSpecialTokens() throws {
        for missing in ["[UNK]", "[CLS]", "[SEP]"] {
            let lines = Self.vocabulary.filter { $0 != missing }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.vocab)
            guard let error = sentenceEncoderError() else { continue }
            guard case let .tokenizer(inner) = error else { XCTFail("got \(error)"); continue }
            XCTAssertEqual(inner.kind, .missingSpecialToken, "\(error)")
            XCTAssertEqual(inner.file, folder.vocab.path)
            XCTAssertTrue(error.description.contains(missing), error.description)
        }
    }

    func testTokenizerLargerThanConfigVocabulary() throws {
        let lines = Self.vocabulary + (0..<200).map { "token\($0)" }  // 210 tokens, vocab_size 100
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.vocab)
        XCTAssertEqual(
            sentenceEncoderError(),
            .invalidField(
                path: folder.config.path, field: "vocab_size",
                reason: "is 100, smaller than the tokenizer's 210 tokens"))
    }
}

// MARK: - Scratch model folders and a safetensors writer

/// One tensor to write: raw little-endian bytes with their dtype.
struct CheckpointTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var bytes: [UInt8]

    static func float32(_ name: String, shape: [Int], values: [Float]) -> CheckpointTensor {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return CheckpointTensor(name: name, dtype: "F32", shape: shape, bytes: bytes)
    }
}

/// Writes safetensors files: 8-byte little-endian header length, JSON header (padded with spaces to a
/// multiple of 8), then the tensors' bytes in order.
enum SafeTensorsWriter {
    static func bytes(_ tensors: [CheckpointTensor], metadata: [String: String] = ["format": "pt"]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = [
                "dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.bytes.count],
            ] as [String: Any]
            offset += tensor.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors { data.append(contentsOf: tensor.bytes) }
        return data
    }

    /// Every tensor of `file` as F32, in name order.
    static func tensors(of file: SafeTensorsFile) throws -> [CheckpointTensor] {
        try file.tensorNames.map { name in
            let tensor = try file.floatTensor(name)
            return .float32(name, shape: tensor.shape, values: tensor.toArray())
        }
    }
}

/// A copy of a model folder in a temporary directory, with helpers to break its files.
struct ScratchModelFolder {
    let url: URL
    let source: URL
    var config: URL { url.appendingPathComponent("config.json") }
    var checkpoint: URL { url.appendingPathComponent("model.safetensors") }
    var tokenizerJSON: URL { url.appendingPathComponent("tokenizer.json") }
    var vocab: URL { url.appendingPathComponent("vocab.txt") }

    init(copying source: URL) throws {
        self.source = source
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: url.appendingPathComponent(name))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Rewrites config.json from the source's, changed by `change` (assigning nil removes a field).
    func rewriteConfig(_ change: (inout [String: Any]) -> Void) throws {
        let data = try Data(contentsOf: source.appendingPathComponent("config.json"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: config)
    }

    /// Rewrites model.safetensors from the source's tensors, changed by `change`.
    func rewriteCheckpoint(_ change: (inout [CheckpointTensor]) -> Void) throws {
        var tensors = try SafeTensorsWriter.tensors(of: SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors")))
        change(&tensors)
        try SafeTensorsWriter.bytes(tensors).write(to: checkpoint)
    }
}
