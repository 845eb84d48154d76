import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// sentence-transformers modules and options against sentence-transformers 6.2's own outputs
/// (Tests/Fixtures/stmodules, written by Scripts/make_st_module_fixtures.py): Dense layers, prompts,
/// `include_prompt: false`, every pooling mode, Matryoshka truncation and `do_lower_case`.
final class SentenceTransformersModulesTests: XCTestCase {
    static let root = TestSupport.fixtures.appendingPathComponent("stmodules")

    /// One encode call of expected.json.
    struct Case: Decodable {
        struct Options: Decodable {
            let prompt_name: String?
            let prompt: String?
            let truncate_dim: Int?
            let normalize_embeddings: Bool?
        }
        let folder: String
        let options: Options
        let texts: [String]
        let tokens: [Int]
        let embeddings: [[Float]]
    }

    static func cases() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        let data = try Data(contentsOf: root.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }

    static func encoder(_ folder: String, backend: ComputeBackend = .blas) throws -> SentenceEncoder {
        try SentenceEncoder(modelFolder: root.appendingPathComponent(folder), options: ComputeOptions(backend: backend, threads: 2))
    }

    /// Max |difference| between `batch` and the case's reference embeddings; token counts must match.
    func difference(_ batch: EmbeddingBatch, _ reference: Case, file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(batch.count, reference.embeddings.count, file: file, line: line)
        XCTAssertEqual(batch.tokenCounts, reference.tokens, "token counts, \(reference.folder) \(reference.options)", file: file, line: line)
        var worst: Float = 0
        for (i, expected) in reference.embeddings.enumerated() {
            let row = batch[i]
            XCTAssertEqual(row.count, expected.count, file: file, line: line)
            guard row.count == expected.count else { return .infinity }
            for j in 0..<row.count { worst = max(worst, abs(row[j] - expected[j])) }
        }
        return worst
    }

    /// Every case of expected.json, on both backends: within 1e-5 of sentence-transformers (measured ~1e-7).
    func testEveryCaseMatchesSentenceTransformers() throws {
        let cases = try Self.cases()
        XCTAssertEqual(cases.count, 15)
        for backend in ComputeBackend.allCases {
            var worstOverall: Float = 0
            var encoders: [String: SentenceEncoder] = [:]
            for reference in cases {
                let encoder = try encoders[reference.folder] ?? Self.encoder(reference.folder, backend: backend)
                encoders[reference.folder] = encoder
                let options = reference.options
                let batch = try encoder.encode(
                    reference.texts, batchSize: 3, prompt: options.prompt, promptName: options.prompt_name,
                    truncateDimension: options.truncate_dim, normalize: options.normalize_embeddings ?? false)
                let worst = difference(batch, reference)
                print("stmodules \(backend) \(reference.folder) \(options): max |difference| to sentence-transformers \(worst)")
                XCTAssertLessThan(worst, 1e-5, "\(reference.folder) \(options)")
                worstOverall = max(worstOverall, worst)
            }
            print("stmodules \(backend): \(cases.count) cases, max |difference| \(worstOverall)")
        }
    }

    /// The folders load into the modules sentence-transformers saved.
    func testFoldersLoadTheirModules() throws {
        let dense = try Self.encoder("dense")
        XCTAssertEqual(dense.dimension, 8)
        XCTAssertEqual(dense.maxSequenceLength, 48, "model_max_length of tokenizer_config.json (sentence-transformers ≥ 5)")
        XCTAssertEqual(dense.modules.steps.count, 3)
        guard case let .dense(first) = dense.modules.steps[0], case let .dense(second) = dense.modules.steps[1],
              case .normalize = dense.modules.steps[2]
        else { return XCTFail("expected Dense, Dense, Normalize") }
        XCTAssertEqual([first.inFeatures, first.outFeatures, second.inFeatures, second.outFeatures], [32, 16, 16, 8])
        XCTAssertEqual(first.activation, .tanh)
        XCTAssertEqual(second.activation, .identity)
        XCTAssertNotNil(first.bias)
        XCTAssertNil(second.bias)

        let prompts = try Self.encoder("prompts")
        XCTAssertEqual(prompts.pooling.modes, [.cls, .mean])
        XCTAssertEqual(prompts.dimension, 64)
        XCTAssertEqual(prompts.configuration.defaultPromptName, "query")
        XCTAssertEqual(prompts.configuration.prompts["passage"], "passage: ")
        // [CLS] query : — the trailing [SEP] of the tokenized prompt is not part of it.
        XCTAssertEqual(prompts.promptLength("query: "), 3)
        XCTAssertEqual(prompts.promptLength("Search the Web for: "), 10)
        XCTAssertEqual(prompts.promptLength(""), 0)

        let all = try Self.encoder("include_prompt")
        XCTAssertEqual(all.pooling.modes, [.cls, .max, .mean, .meanSqrtLength, .weightedMean, .lastToken])
        XCTAssertFalse(all.pooling.includePrompt)

        let lowercase = try Self.encoder("lowercase")
        XCTAssertTrue(lowercase.configuration.lowercasesText)
        XCTAssertEqual(lowercase.maxSequenceLength, 48, "max_seq_length of sentence_bert_config.json")
    }

    /// `do_lower_case: true` with a cased tokenizer: the text is lowercased before tokenization (not ignored),
    /// and that changes the embedding.
    func testDoLowerCaseLowercasesBeforeACasedTokenizer() throws {
        let encoder = try Self.encoder("lowercase")
        let text = "Hello World From PARIS"
        let cased = encoder.tokenizer.encode(text, maxLength: nil).inputIDs
        let lowered = encoder.tokenizer.encode(text.lowercased(), maxLength: nil).inputIDs
        XCTAssertNotEqual(cased, lowered, "the fixture's tokenizer is cased")
        XCTAssertEqual(encoder.tokenize(text).inputIDs, lowered)
        let reference = try Self.cases().first { $0.folder == "lowercase" }!
        let ours = try encoder.encode([text])[0]
        let expected = reference.embeddings[reference.texts.firstIndex(of: text)!]
        let worst = zip(ours, expected).map { abs($0 - $1) }.max()!
        print("do_lower_case, \"\(text)\": max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    /// Prompts through the library: an explicit prompt is the same as the prompt text put before each input.
    func testPromptIsPrefixedText() throws {
        let encoder = try Self.encoder("prompts")
        let texts = ["the cat", "x"]
        let named = try encoder.encode(texts, promptName: "passage")
        let spelled = try encoder.encode(texts.map { "passage: " + $0 }, prompt: "")
        XCTAssertEqual(named.embeddings, spelled.embeddings)
        let byDefault = try encoder.encode(texts)
        let query = try encoder.encode(texts, promptName: "query")
        XCTAssertEqual(byDefault.embeddings, query.embeddings, "default_prompt_name is query")
        XCTAssertNotEqual(byDefault.embeddings, spelled.embeddings)
    }

    func testBadPromptNameAndDimensionAreNamedErrors() throws {
        let encoder = try Self.encoder("prompts")
        XCTAssertThrowsError(try encoder.encode(["x"], promptName: "nope")) { error in
            guard case let .invalidArgument(name, reason) = error as? EncoderError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "promptName")
            XCTAssertTrue(reason.contains("passage, query"), reason)
        }
        for bad in [0, -1, 65] {
            XCTAssertThrowsError(try encoder.encode(["x"], truncateDimension: bad)) { error in
                guard case let .invalidArgument(name, reason) = error as? EncoderError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "truncateDimension")
                XCTAssertTrue(reason.contains("1...64"), reason)
            }
        }
        XCTAssertEqual(try encoder.encode(["x"], truncateDimension: 64).embeddings.columns, 64)
    }

    /// Issue 10: `modes` cannot be reordered after the fact; configurations give their order.
    func testPoolingModesAreImmutableAndKeepTheConfiguredOrder() throws {
        XCTAssertNil(\Pooling.modes as? WritableKeyPath<Pooling, [Pooling.Mode]>, "Pooling.modes must not be settable")
        XCTAssertNil(\Pooling.includePrompt as? WritableKeyPath<Pooling, Bool>)
        XCTAssertEqual(Pooling(modes: [.mean, .cls]).modes, [.mean, .cls])
        XCTAssertEqual(Pooling(modes: []).modes, [.mean])

        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("config.json")
        // Legacy booleans: concatenated in sentence-transformers' fixed order, whatever the key order.
        try #"{"pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true, "word_embedding_dimension": 32}"#
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Pooling(contentsOf: url, hiddenSize: 32).modes, [.cls, .mean, .lastToken])
        // No mode on: mean, as sentence-transformers does.
        try #"{"pooling_mode_mean_tokens": false}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Pooling(contentsOf: url, hiddenSize: 32).modes, [.mean])
        // pooling_mode: the given order.
        try #"{"pooling_mode": ["weightedmean", "cls"], "include_prompt": false}"#.write(to: url, atomically: true, encoding: .utf8)
        let configured = try Pooling(contentsOf: url, hiddenSize: 32)
        XCTAssertEqual(configured.modes, [.weightedMean, .cls])
        XCTAssertFalse(configured.includePrompt)

        for (json, field) in [
            (#"{"pooling_mode": "median"}"#, "pooling_mode"),
            (#"{"pooling_mode": [1]}"#, "pooling_mode"),
            (#"{"pooling_mode": []}"#, "pooling_mode"),
            (#"{"pooling_mode": "mean", "embedding_dimension": 16}"#, "embedding_dimension"),
            (#"{"pooling_mode": "mean", "include_prompt": "no"}"#, "include_prompt"),
        ] {
            try json.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Pooling(contentsOf: url, hiddenSize: 32), json) { error in
                XCTAssertTrue("\(error)".contains(field), "\(error)")
                XCTAssertTrue("\(error)".contains(url.path), "\(error)")
            }
        }
    }

    /// Dense and modules.json configurations sentence-transformers would compute differently are refused,
    /// naming file and field.
    func testUnsupportedOrInconsistentModulesAreNamed() throws {
        func assertRejected(_ edit: (URL) throws -> Void, mentions words: [String], line: UInt = #line) throws {
            let folder = try copyOfFixture("dense")
            try edit(folder)
            XCTAssertThrowsError(try SentenceEncoder(modelFolder: folder), line: line) { error in
                for word in words { XCTAssertTrue("\(error)".contains(word), "\(error) should mention \(word)", line: line) }
            }
        }
        func editJSON(_ path: String, _ change: @escaping (inout [String: Any]) -> Void) -> (URL) throws -> Void {
            { folder in
                let url = folder.appendingPathComponent(path)
                var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
                change(&object)
                try JSONSerialization.data(withJSONObject: object).write(to: url)
            }
        }
        try assertRejected(editJSON("2_Dense/config.json") { $0["activation_function"] = "my.module.Swish" },
                           mentions: ["2_Dense/config.json", "activation_function", "my.module.Swish"])
        try assertRejected(editJSON("2_Dense/config.json") { $0["use_residual"] = true }, mentions: ["use_residual"])
        try assertRejected(editJSON("2_Dense/config.json") { $0["module_input_name"] = "token_embeddings" },
                           mentions: ["module_input_name", "token_embeddings"])
        try assertRejected(editJSON("3_Dense/config.json") { $0["in_features"] = 32; $0["out_features"] = 8 },
                           mentions: ["3_Dense/config.json", "in_features", "gives 16"])
        try assertRejected(editJSON("2_Dense/config.json") { $0["out_features"] = 12 },
                           mentions: ["linear.weight"])
        try assertRejected(editJSON("config_sentence_transformers.json") { $0["default_prompt_name"] = "absent" },
                           mentions: ["default_prompt_name", "absent"])
        try assertRejected({ folder in
            try FileManager.default.removeItem(at: folder.appendingPathComponent("2_Dense/model.safetensors"))
            try Data([0x80, 0x02]).write(to: folder.appendingPathComponent("2_Dense/pytorch_model.bin"))
        }, mentions: ["2_Dense/model.safetensors", "pytorch_model.bin", "safetensors", "save_file"])
        try assertRejected({ folder in
            let url = folder.appendingPathComponent("modules.json")
            var modules = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
            modules.insert(["idx": 9, "name": "9", "path": "9_LayerNorm", "type": "sentence_transformers.models.LayerNorm"], at: 2)
            try JSONSerialization.data(withJSONObject: modules).write(to: url)
        }, mentions: ["modules.json", "modules[2].type", "LayerNorm"])
        try assertRejected({ folder in
            let url = folder.appendingPathComponent("modules.json")
            var modules = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
            modules.swapAt(1, 2)
            try JSONSerialization.data(withJSONObject: modules).write(to: url)
        }, mentions: ["modules[1].type", "before a Pooling"])
    }

    /// Issue 10: weights that overflow (finite, 3e38) give an error naming the input whose embedding is not
    /// finite, never NaN rows; a NaN or infinity in a Dense layer's weights is refused at load, by tensor name.
    func testNonFiniteEmbeddingIsAnErrorNamingTheInput() throws {
        let folder = try copyOfFixture("dense")
        let url = folder.appendingPathComponent("3_Dense/model.safetensors")
        var tensors = try SafeTensorsTestWriter.read(url)
        for j in 0..<16 { tensors["linear.weight"]!.values[j] = 3e38 }   // row 0 of (8, 16): overflows to ±inf
        try SafeTensorsTestWriter.write(tensors, to: url)
        let encoder = try SentenceEncoder(modelFolder: folder)
        XCTAssertThrowsError(try encoder.encode(["x", "the cat sat on the mat", "a"], batchSize: 1)) { error in
            guard case let .invalidInput(sequence, _, reason) = error as? EncoderError else { return XCTFail("\(error)") }
            XCTAssertEqual(sequence, 0, "all overflow: the first input in input order, though the longest ran first")
            XCTAssertTrue(reason.contains("not finite"), reason)
        }

        for value in [Float.nan, .infinity] {
            tensors["linear.weight"]!.values[5] = value
            try SafeTensorsTestWriter.write(tensors, to: url)
            XCTAssertThrowsError(try SentenceEncoder(modelFolder: folder)) { error in
                XCTAssertTrue("\(error)".contains("3_Dense/model.safetensors"), "\(error)")
                XCTAssertTrue("\(error)".contains("linear.weight"), "\(error)")
                XCTAssertTrue("\(error)".contains("non-finite"), "\(error)")
            }
        }
    }

    /// Several bad inputs in different batches: the error names the one with the smallest index (so every
    /// input before it is good), in the caller's numbering.
    func testFailingInputWithTheSmallestIndexIsReported() throws {
        let encoder = try Self.encoder("dense")
        let good = TokenSequence(inputIDs: [2, 10, 3])
        let sequences = [good, TokenSequence(inputIDs: [2, 99_999, 3]), TokenSequence(inputIDs: [2, 10, 11, 12, 13, 99_999, 3]), good]
        // Longest first: input 2 fails in the first batch, input 1 in the second.
        XCTAssertThrowsError(try encoder.embed(sequences, batchSize: 2)) { error in
            guard case let .invalidInput(sequence, position, _) = error as? EncoderError else { return XCTFail("\(error)") }
            XCTAssertEqual(sequence, 1)
            XCTAssertEqual(position, 1)
        }
        XCTAssertEqual(try encoder.embed([good, good]).rows, 2)
    }

    /// A prompt cut by max_seq_length still leaves the final [SEP] to pool, as in sentence-transformers; a
    /// prompt covering a whole sequence (only reachable from token ids) follows sentence-transformers'
    /// rules: `cls` takes token 0, means and `lasttoken` give zeros, `max` gives -inf.
    func testPromptCoveringTheSequence() throws {
        let encoder = try Self.encoder("include_prompt")
        let long = String(repeating: "search ", count: 60)
        XCTAssertEqual(encoder.promptLength(long), encoder.maxSequenceLength - 1)
        let batch = try encoder.encode(["x"], prompt: long)
        XCTAssertTrue(batch.embeddings.values.allSatisfy(\.isFinite))

        let output = try encoder.model.encode([TokenSequence(inputIDs: [2, 10, 11, 3])])
        let pooled = Pooling(modes: [.cls, .mean, .weightedMean, .lastToken, .max], includePrompt: false)
            .pool(output, promptLength: 4)
        let h = 32
        XCTAssertEqual(Array(pooled.values[0..<h]), Array(output.lastHiddenState.values[0..<h]), "cls: token 0")
        XCTAssertTrue(pooled.values[h..<(4 * h)].allSatisfy { $0 == 0 }, "means and last token: zeros")
        XCTAssertTrue(pooled.values[(4 * h)...].allSatisfy { $0 == -.infinity }, "max over no token")
    }

    // MARK: Helpers

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stmodules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func copyOfFixture(_ name: String) throws -> URL {
        let folder = try temporaryFolder().appendingPathComponent(name)
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent(name), to: folder)
        return folder
    }
}

/// Reads and writes small F32 safetensors files, to plant faults in fixture copies.
enum SafeTensorsTestWriter {
    struct Tensor {
        var shape: [Int]
        var values: [Float]
    }

    static func read(_ url: URL) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(contentsOf: url)
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames {
            let tensor = try file.floatTensor(name)
            tensors[name] = Tensor(shape: tensor.shape, values: tensor.toArray())
        }
        return tensors
    }

    static func write(_ tensors: [String: Tensor], to url: URL) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            let start = data.count
            tensor.values.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [start, data.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(data)
        try file.write(to: url)
    }
}
