import Foundation
import SafeTensors
import XCTest
@testable import TransformerEncoder

/// The cross-encoder against sentence-transformers 6.2's `CrossEncoder.predict`, one pair at a time, on the
/// tiny checkpoints of `Scripts/make_crossencoder_fixtures.py` (154 pairs: long documents that are truncated,
/// empty queries and documents, multilingual text).
final class CrossEncoderTests: XCTestCase {
    static let folder = TestSupport.fixtures.appendingPathComponent("crossencoder")

    struct Pair: Decodable { let query: String; let document: String }

    /// One line of `<model>/expected.jsonl`.
    struct Expected: Decodable {
        let input_ids: [Int32]
        let token_type_ids: [Int32]?
        let logits: [Float]
        let softmax: [Float]?
        let scores: [Float]

        enum CodingKeys: String, CodingKey { case input_ids, token_type_ids, logits, softmax, score }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            input_ids = try c.decode([Int32].self, forKey: .input_ids)
            token_type_ids = try c.decodeIfPresent([Int32].self, forKey: .token_type_ids)
            logits = try c.decode([Float].self, forKey: .logits)
            softmax = try c.decodeIfPresent([Float].self, forKey: .softmax)
            if let one = try? c.decode(Float.self, forKey: .score) { scores = [one] } else {
                scores = try c.decode([Float].self, forKey: .score)
            }
        }
    }

    static func jsonLines<T: Decodable>(_ url: URL, as type: T.Type) throws -> [T] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    static func pairs() throws -> [(query: String, document: String)] {
        try jsonLines(folder.appendingPathComponent("pairs.jsonl"), as: Pair.self).map { ($0.query, $0.document) }
    }

    static func expected(_ model: String) throws -> [Expected] {
        try jsonLines(folder.appendingPathComponent(model).appendingPathComponent("expected.jsonl"), as: Expected.self)
    }

    /// Loads `model` and checks tokenization, logits, scores (and softmax) of every pair; returns the scores.
    @discardableResult
    func checkParity(
        _ model: String, labels: Int, activation: ScoreActivation, maxLength: Int,
        options: ComputeOptions = ComputeOptions(threads: 2), batchSize: Int = 16,
        excluding excluded: (String) -> Bool = { _ in false }
    ) throws -> (CrossEncoder, Matrix) {
        let encoder = try CrossEncoder(modelFolder: Self.folder.appendingPathComponent(model), options: options)
        var pairs = try Self.pairs()
        var expected = try Self.expected(model)
        XCTAssertGreaterThanOrEqual(pairs.count, 150)
        let kept = pairs.indices.filter { !excluded(pairs[$0].query) }
        if kept.count < pairs.count { print("\(model): \(pairs.count - kept.count) pairs excluded (see the caller)") }
        pairs = kept.map { pairs[$0] }
        expected = kept.map { expected[$0] }
        XCTAssertEqual(pairs.count, expected.count)
        XCTAssertEqual(encoder.labelCount, labels)
        XCTAssertEqual(encoder.activation, activation)
        XCTAssertEqual(encoder.maxSequenceLength, maxLength)

        var truncated = 0
        for (i, pair) in pairs.enumerated() {
            let tokens = encoder.tokenize(query: pair.query, document: pair.document)
            XCTAssertEqual(tokens.inputIDs, expected[i].input_ids, "pair \(i) input_ids")
            if let types = expected[i].token_type_ids { XCTAssertEqual(tokens.tokenTypeIDs, types, "pair \(i) token_type_ids") }
            if tokens.isTruncated { truncated += 1 }
        }
        XCTAssertGreaterThan(truncated, 5, "the pairs must include documents longer than the model's maximum")

        let logits = try encoder.predict(pairs, output: .logits, batchSize: batchSize)
        let scores = try encoder.predict(pairs, batchSize: batchSize)
        XCTAssertEqual(logits.rows, pairs.count)
        XCTAssertEqual(logits.columns, labels)
        var worstLogit: Float = 0, worstScore: Float = 0, worstSoftmax: Float = 0
        for i in 0..<pairs.count {
            for j in 0..<labels {
                worstLogit = max(worstLogit, abs(logits[i, j] - expected[i].logits[j]))
                worstScore = max(worstScore, abs(scores[i, j] - expected[i].scores[j]))
            }
        }
        if labels > 1 {
            let softmax = try encoder.predict(pairs, output: .softmax, batchSize: batchSize)
            for i in 0..<pairs.count {
                let reference = try XCTUnwrap(expected[i].softmax)
                var sum: Float = 0
                for j in 0..<labels {
                    worstSoftmax = max(worstSoftmax, abs(softmax[i, j] - reference[j]))
                    sum += softmax[i, j]
                }
                XCTAssertEqual(sum, 1, accuracy: 1e-5)
            }
        }
        print("\(model): \(pairs.count) pairs (\(truncated) truncated), max |Δ| logits \(worstLogit), scores \(worstScore)"
              + (labels > 1 ? ", softmax \(worstSoftmax)" : "") + " [\(options.backend), batch \(batchSize)]")
        XCTAssertLessThan(worstLogit, 1e-5)
        XCTAssertLessThan(worstScore, 1e-5)
        XCTAssertLessThan(worstSoftmax, 1e-5)
        return (encoder, scores)
    }

    func testBERTOneLabelMatchesSentenceTransformers() throws {
        try checkParity("bert-1label", labels: 1, activation: .sigmoid, maxLength: 128)
    }

    func testBERTThreeLabelsMatchesSentenceTransformers() throws {
        let (encoder, _) = try checkParity("bert-3labels", labels: 3, activation: .identity, maxLength: 128)
        XCTAssertEqual(encoder.labels, ["contradiction", "entailment", "neutral"])
    }

    /// KNOWN DIFFERENCE with transformers 5 (not with Hugging Face `tokenizers`): transformers' `XLMRobertaTokenizer`
    /// rebuilds its backend with the pre-tokenizer `Sequence[WhitespaceSplit, Metaspace]` and no `Replace`
    /// normalizer, whatever the folder's `tokenizer.json` says; for a whitespace-only first text ("   ") it then
    /// gives no token where the file's own pipeline (and `tokenizers.Tokenizer.from_file`) gives a lone "▁" (id 4).
    /// This package follows `tokenizer.json`, so those pairs (8 of 152) are left out of the XLM-R score parity
    /// and checked instead against `tokenizers` by ``testXLMRWhitespaceOnlyQueryTokenizesAsTokenizerJSON``.
    static func whitespaceOnly(_ text: String) -> Bool { !text.isEmpty && text.allSatisfy(\.isWhitespace) }

    func testXLMRWhitespaceOnlyQueryTokenizesAsTokenizerJSON() throws {
        let encoder = try CrossEncoder(modelFolder: Self.folder.appendingPathComponent("xlmr-1label"))
        let pairs = try Self.pairs()
        // Ids from tokenizers 0.23.3 (`Tokenizer.from_file`, longest_first to 128) for the whitespace-only queries.
        let url = Self.folder.appendingPathComponent("xlmr-whitespace-query-tokenizers.jsonl")
        let lines = try String(decoding: Data(contentsOf: url), as: UTF8.self).split(separator: "\n")
        let checked = pairs.indices.filter { Self.whitespaceOnly(pairs[$0].query) }
        XCTAssertEqual(lines.count, checked.count)
        XCTAssertEqual(checked.count, 8)
        for line in lines {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let i = try XCTUnwrap(object["pair"] as? Int)
            let ids = try XCTUnwrap(object["input_ids"] as? [Int]).map(Int32.init)
            XCTAssertTrue(checked.contains(i))
            XCTAssertEqual(encoder.tokenize(query: pairs[i].query, document: pairs[i].document).inputIDs, ids, "pair \(i)")
        }
    }

    func testXLMROneLabelMatchesSentenceTransformers() throws {
        let (encoder, _) = try checkParity(
            "xlmr-1label", labels: 1, activation: .sigmoid, maxLength: 128, excluding: Self.whitespaceOnly)
        XCTAssertEqual(encoder.model.configuration.family, .xlmRoberta)
        XCTAssertEqual(encoder.head.layout, .xlmRoberta)
    }

    func testXLMRThreeLabelsMatchesSentenceTransformers() throws {
        let (encoder, _) = try checkParity(
            "xlmr-3labels", labels: 3, activation: .identity, maxLength: 128, excluding: Self.whitespaceOnly)
        XCTAssertEqual(encoder.labels, ["irrelevant", "partial", "relevant"])
    }

    func testBatchingAndBackendsDoNotChangeScores() throws {
        // Batch of 1 on the naive backend, batch of 64 on BLAS: both within 1e-5 of the references.
        try checkParity("bert-1label", labels: 1, activation: .sigmoid, maxLength: 128,
                        options: ComputeOptions(backend: .naive, threads: 1), batchSize: 1)
        try checkParity("bert-1label", labels: 1, activation: .sigmoid, maxLength: 128,
                        options: ComputeOptions(backend: .blas, threads: 2), batchSize: 64)
    }

    /// `rank` per query equals sorting the reference scores (best first, ties in input order), and `top` cuts it.
    func testRankingIsIdenticalToReference() throws {
        for model in ["bert-1label", "xlmr-1label"] { try checkRanking(model) }
    }

    func checkRanking(_ model: String) throws {
        let encoder = try CrossEncoder(modelFolder: Self.folder.appendingPathComponent(model))
        let pairs = try Self.pairs()
        let expected = try Self.expected(model)
        var groups: [String: [Int]] = [:]
        var queries: [String] = []
        for (i, pair) in pairs.enumerated() {
            if groups[pair.query] == nil { queries.append(pair.query) }
            groups[pair.query, default: []].append(i)
        }
        var ranked = 0
        for query in queries where !(model.hasPrefix("xlmr") && Self.whitespaceOnly(query)) {  // see whitespaceOnly
            let members = groups[query]!
            let documents = members.map { pairs[$0].document }
            let ranking = try encoder.rank(query: query, documents: documents)
            let reference = members.indices.sorted {
                (expected[members[$0]].scores[0], $1) > (expected[members[$1]].scores[0], $0)
            }
            XCTAssertEqual(ranking.map(\.index), reference, "\(model): query \(query.debugDescription)")
            XCTAssertEqual(Set(ranking.map(\.index)), Set(documents.indices), "every document once")
            for hit in ranking {
                XCTAssertEqual(hit.score, expected[members[hit.index]].scores[0], accuracy: 1e-5)
            }
            let top = try encoder.rank(query: query, documents: documents, top: 2)
            XCTAssertEqual(top, Array(ranking.prefix(2)))
            ranked += documents.count
        }
        XCTAssertGreaterThan(ranked, 140)
        XCTAssertGreaterThan(queries.count, 15)
    }

    func testScoresForQueryNeedsOneLabel() throws {
        let encoder = try CrossEncoder(modelFolder: Self.folder.appendingPathComponent("bert-3labels"))
        XCTAssertThrowsError(try encoder.rank(query: "q", documents: ["d"])) { error in
            guard case EncoderError.invalidArgument(name: "model", _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try encoder.predict([(query: String, document: String)]()).rows, 0)
    }

    // MARK: - Bad heads

    /// A copy of `bert-1label` whose checkpoint is rewritten by `edit` (tensor name → (shape, values)) and whose
    /// `config.json` is rewritten by `editConfig`.
    func mutatedFolder(
        edit: (inout [String: (shape: [Int], values: [Float])]) -> Void = { _ in },
        editConfig: (inout [String: Any]) -> Void = { _ in }
    ) throws -> URL {
        let source = Self.folder.appendingPathComponent("bert-1label")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("crossencoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: target) }
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: target.appendingPathComponent(name))
        }
        let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for name in file.tensorNames {
            let tensor = try file.floatTensor(name)
            tensors[name] = (tensor.shape, tensor.toArray())
        }
        edit(&tensors)
        try writeSafeTensors(tensors, to: target.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        editConfig(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: target.appendingPathComponent("config.json"))
        return target
    }

    /// Writes F32 tensors as a safetensors file.
    func writeSafeTensors(_ tensors: [String: (shape: [Int], values: [Float])], to url: URL) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for name in tensors.keys.sorted() {
            let (shape, values) = tensors[name]!
            let begin = data.count
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [begin, data.count]]
        }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerData.count % 8 != 0 { headerData.append(0x20) }
        var length = UInt64(headerData.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(headerData)
        file.append(data)
        try file.write(to: url)
    }

    func assertLoadFails(_ folder: URL, naming text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CrossEncoder(modelFolder: folder), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(text), "\(message) does not name \(text)", file: file, line: line)
        }
    }

    func testMutatedFolderLoadsWhenUnchanged() throws {
        // The harness itself: an unedited copy loads and scores like the original.
        let encoder = try CrossEncoder(modelFolder: try mutatedFolder())
        let expected = try Self.expected("bert-1label")
        let pairs = try Self.pairs()
        let scores = try encoder.predict(Array(pairs.prefix(8)))
        for i in 0..<8 { XCTAssertEqual(scores[i, 0], expected[i].scores[0], accuracy: 1e-5) }
    }

    func testMissingClassifierTensorIsNamed() throws {
        assertLoadFails(try mutatedFolder(edit: { $0["classifier.weight"] = nil }), naming: "classifier.weight")
        assertLoadFails(try mutatedFolder(edit: { $0["classifier.bias"] = nil }), naming: "classifier.bias")
        assertLoadFails(try mutatedFolder(edit: { $0["bert.pooler.dense.weight"] = nil }), naming: "bert.pooler.dense.weight")
    }

    func testWrongHeadShapeIsNamed() throws {
        assertLoadFails(
            try mutatedFolder(edit: { $0["classifier.weight"] = ([1, 16], [Float](repeating: 0, count: 16)) }),
            naming: "classifier.weight")
        assertLoadFails(
            try mutatedFolder(edit: { $0["classifier.bias"] = ([2], [0, 0]) }), naming: "classifier.bias")
        assertLoadFails(
            try mutatedFolder(edit: { $0["bert.pooler.dense.bias"] = ([31], [Float](repeating: 0, count: 31)) }),
            naming: "bert.pooler.dense.bias")
    }

    func testLabelCountDisagreeingWithWeightsIsNamed() throws {
        // id2label names 3 labels, the classifier has 1 row.
        assertLoadFails(try mutatedFolder(editConfig: {
            $0["id2label"] = ["0": "a", "1": "b", "2": "c"]
            $0["label2id"] = ["a": 0, "b": 1, "c": 2]
        }), naming: "classifier.weight")
        // num_labels disagreeing with id2label.
        assertLoadFails(try mutatedFolder(editConfig: { $0["num_labels"] = 2 }), naming: "num_labels")
        // An architecture without a head this library knows.
        assertLoadFails(try mutatedFolder(editConfig: { $0["architectures"] = ["BertForMaskedLM"] }), naming: "architectures")
        // An activation that is not a torch.nn class we implement.
        assertLoadFails(try mutatedFolder(editConfig: {
            $0["sentence_transformers"] = ["activation_fn": "torch.nn.modules.activation.Softplus"]
        }), naming: "activation_fn")
    }

    func testActivationFromConfigIsHonoured() throws {
        // Identity instead of the 1-label default (sigmoid): scores are the logits.
        let folder = try mutatedFolder(editConfig: {
            $0["sentence_transformers"] = ["activation_fn": "torch.nn.modules.linear.Identity"]
        })
        let encoder = try CrossEncoder(modelFolder: folder)
        XCTAssertEqual(encoder.activation, .identity)
        let expected = try Self.expected("bert-1label")
        let scores = try encoder.predict(Array(try Self.pairs().prefix(10)))
        for i in 0..<10 { XCTAssertEqual(scores[i, 0], expected[i].logits[0], accuracy: 1e-5) }
        // Without the field: sigmoid for one label.
        let plain = try CrossEncoder(modelFolder: try mutatedFolder(editConfig: { $0["sentence_transformers"] = nil }))
        XCTAssertEqual(plain.activation, .sigmoid)
    }

    // MARK: - Overflow: typed errors naming the pair, never inf / NaN scores

    /// Pairs whose input order differs from the length order the encoder batches them in.
    static let overflowPairs: [(query: String, document: String)] = [
        ("a cat", "sits on the mat"),
        ("the dog", "runs in the park and then it sleeps under a tree"),
        ("zebra", "x"),
        ("q", "zebra stripes are black and white"),
    ]

    func testOverflowingHeadIsAnErrorNamingThePair() throws {
        // Pooler gives tanh(1) everywhere, the classifier multiplies 32 of them by 3e38: the logit overflows to
        // +inf, which a sigmoid would turn into a "score" of 1.
        let folder = try mutatedFolder(edit: {
            $0["bert.pooler.dense.weight"] = ([32, 32], [Float](repeating: 0, count: 32 * 32))
            $0["bert.pooler.dense.bias"] = ([32], [Float](repeating: 1, count: 32))
            $0["classifier.weight"] = ([1, 32], [Float](repeating: 3e38, count: 32))
        })
        let encoder = try CrossEncoder(modelFolder: folder)
        for output in [CrossEncoderOutput.scores, .softmax, .logits] {
            for batchSize in [1, 2, 32] {
                XCTAssertThrowsError(try encoder.predict(Self.overflowPairs, output: output, batchSize: batchSize)) { error in
                    // Pair 0 is the smallest index, though the longest pair (1) is encoded first.
                    guard case let EncoderError.invalidInput(sequence: 0, position: nil, reason) = error else {
                        return XCTFail("\(output), batch \(batchSize): \(error)")
                    }
                    XCTAssertTrue(reason.contains("logits are not finite"), reason)
                }
            }
        }
        XCTAssertThrowsError(try encoder.rank(query: "q", documents: ["d", "e"])) { error in
            guard case EncoderError.invalidInput(sequence: 0, position: nil, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testOverflowingHiddenStateNamesThePairNotItsBatchRow() throws {
        // Every embedding value of the word "zebra" at 3e38: the embeddings' LayerNorm sums them to infinity,
        // so exactly the pairs holding the word (2 and 3) get a NaN hidden state.
        let original = try CrossEncoder(modelFolder: Self.folder.appendingPathComponent("bert-1label"))
        let zebra = original.tokenize(query: "zebra", document: "").inputIDs
        XCTAssertEqual(zebra.count, 4, "[CLS] zebra [SEP] [SEP]: \(zebra)")
        let id = Int(zebra[1])
        let folder = try mutatedFolder(edit: {
            var table = $0["bert.embeddings.word_embeddings.weight"]!
            for j in 0..<32 { table.values[id * 32 + j] = 3e38 }
            $0["bert.embeddings.word_embeddings.weight"] = table
        })
        let encoder = try CrossEncoder(modelFolder: folder)
        for batchSize in [1, 2, 3, 32] {
            XCTAssertThrowsError(try encoder.predict(Self.overflowPairs, batchSize: batchSize)) { error in
                guard case EncoderError.nonFiniteHiddenState(sequence: 2, position: _) = error else {
                    return XCTFail("batch \(batchSize): \(error)")
                }
            }
            // Without the word, the same weights score as the original model.
            let clean = [Self.overflowPairs[0], Self.overflowPairs[1]]
            let scores = try encoder.predict(clean, batchSize: batchSize)
            let reference = try original.predict(clean, batchSize: batchSize)
            XCTAssertEqual(scores.maxAbsoluteDifference(to: reference), 0)
        }
        // Alone, pair 3 is named by its own index.
        XCTAssertThrowsError(try encoder.predict([Self.overflowPairs[0], Self.overflowPairs[3]])) { error in
            guard case EncoderError.nonFiniteHiddenState(sequence: 1, position: _) = error else { return XCTFail("\(error)") }
        }
    }

    func testNonFiniteHeadWeightIsNamedAtLoad() throws {
        let folder = try mutatedFolder(edit: { $0["classifier.bias"] = ([1], [.nan]) })
        XCTAssertThrowsError(try CrossEncoder(modelFolder: folder)) { error in
            guard case EncoderError.nonFiniteWeight(_, tensor: "classifier.bias", index: 0) = error else {
                return XCTFail("\(error)")
            }
        }
        let dense = try mutatedFolder(edit: {
            var weight = $0["bert.pooler.dense.weight"]!
            weight.values[37] = -.infinity
            $0["bert.pooler.dense.weight"] = weight
        })
        XCTAssertThrowsError(try CrossEncoder(modelFolder: dense)) { error in
            guard case EncoderError.nonFiniteWeight(_, tensor: "bert.pooler.dense.weight", index: 37) = error else {
                return XCTFail("\(error)")
            }
        }
    }
}
