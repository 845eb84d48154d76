import Foundation
import JSONCore
import SafeTensors
import Tokenizers

/// A reranker: (query, document) pairs in, relevance scores out, like sentence-transformers'
/// `CrossEncoder.predict` / `CrossEncoder.rank`, from a Hugging Face `*ForSequenceClassification` folder
/// (`cross-encoder/ms-marco-MiniLM-L-6-v2`, `BAAI/bge-reranker-base`…).
///
/// Each pair is tokenized as one sequence (`[CLS] query [SEP] document [SEP]`, `<s> query </s></s> document </s>`)
/// with `longest_first` truncation to ``maxSequenceLength``, run through the same encoder as embeddings, and the
/// family's classification head (``ClassificationHeadLayout``) turns the first token's hidden state into logits.
///
/// ```swift
/// let reranker = try CrossEncoder(modelFolder: URL(fileURLWithPath: "models/ms-marco-MiniLM-L-6-v2"))
/// for hit in try reranker.rank(query: "how do cats sleep", documents: documents, top: 3) {
///     print(hit.index, hit.score)
/// }
/// ```
///
/// A `CrossEncoder` is immutable and `Sendable`: load it once and share it between tasks.
public final class CrossEncoder: Sendable {
    /// The encoder under the head.
    public let model: EncoderModel
    /// The tokenizer of the folder (`tokenizer.json`, or `vocab.txt`).
    public let tokenizer: any TextTokenizer
    /// The classification head.
    public let head: ClassificationHead
    /// `id2label` from `config.json`, by label index (`LABEL_0`… when the file names none).
    public let labels: [String]
    /// What ``CrossEncoderOutput/scores`` applies to the logits: `activation_fn` from
    /// `config_sentence_transformers.json`, else `sentence_transformers.activation_fn` in `config.json`,
    /// else sigmoid for one label and identity for several (as sentence-transformers decides).
    public let activation: ScoreActivation
    /// Pairs are truncated to this many tokens, special tokens included: `max_seq_length` from
    /// `sentence_bert_config.json` when present, else the smaller of the tokenizer's `model_max_length`
    /// (`tokenizer_config.json`) and the encoder's longest sequence (as sentence-transformers does, except that
    /// for RoBERTa-style positions the encoder's limit is `max_position_embeddings - pad_token_id - 1`).
    public let maxSequenceLength: Int
    /// The model folder.
    public let folder: URL

    /// Loads a cross-encoder folder: `config.json` (with `architectures` naming a sequence-classification
    /// model), `model.safetensors`, the tokenizer files, and when present `config_sentence_transformers.json`,
    /// `sentence_bert_config.json`, `tokenizer_config.json`.
    ///
    /// - Throws: ``EncoderError`` naming the file, field or tensor: an architecture without a known head,
    ///   a missing or misshapen head tensor, `num_labels` / `id2label` disagreeing with the weights, an
    ///   activation that is not one of ``ScoreActivation``.
    public init(modelFolder: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelFolder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unreadableFile(path: modelFolder.path, reason: "model folder not found")
        }
        folder = modelFolder
        let configURL = modelFolder.appendingPathComponent("config.json")
        let config = JSONFields(object: try JSONFile.object(at: configURL), path: configURL.path)
        let (labelCount, labelField, labelNames) = try Self.labels(config)
        // The same encoder as embeddings: the family's architecture description, plus its head.
        model = try EncoderModel(folder: modelFolder, options: options)
        let layout = try Self.headLayout(config, family: model.configuration.family)
        let checkpointURL = modelFolder.appendingPathComponent("model.safetensors")
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: checkpointURL)
        } catch {
            throw .checkpoint(error)
        }
        head = try ClassificationHead(
            layout: layout, file: file, hiddenSize: model.configuration.hiddenSize,
            labelCount: labelCount, labelField: labelField, configPath: configURL.path)
        labels = labelNames ?? (0..<head.labelCount).map { "LABEL_\($0)" }
        activation = try Self.activation(folder: modelFolder, config: config, labelCount: head.labelCount)

        do {
            tokenizer = try TokenizerLoader.load(modelFolder: modelFolder)
        } catch {
            throw .tokenizer(error)
        }
        guard tokenizer.vocabularySize <= model.configuration.vocabSize else {
            throw .invalidField(
                path: configURL.path, field: "vocab_size",
                reason: "is \(model.configuration.vocabSize), smaller than the tokenizer's \(tokenizer.vocabularySize) tokens")
        }
        maxSequenceLength = try Self.maxLength(folder: modelFolder, modelLimit: model.configuration.maxSequenceLength)
    }

    /// Number of logits per pair (`num_labels`).
    public var labelCount: Int { head.labelCount }

    /// Tokenizes a pair as ``predict(_:output:batchSize:options:)`` does.
    public func tokenize(query: String, document: String) -> TokenizedText {
        tokenizer.encode(query, pair: document, maxLength: maxSequenceLength)
    }

    /// Scores (query, document) pairs.
    ///
    /// Pairs are tokenized, sorted by length into batches of `batchSize` (no padding is computed), encoded,
    /// and returned in input order.
    ///
    /// - Parameters:
    ///   - pairs: any strings, empty ones included.
    ///   - output: activated scores (the default, as `CrossEncoder.predict`), softmax, or raw logits.
    ///   - batchSize: pairs per forward pass.
    ///   - options: backend and threads; the model's defaults when `nil`.
    /// - Returns: (pairs.count, ``labelCount``): row `i` scores pair `i`.
    /// - Throws: as the `TokenSequence` overload does, naming the pair's index in `pairs`.
    public func predict(
        _ pairs: [(query: String, document: String)], output: CrossEncoderOutput = .scores, batchSize: Int = 32,
        options: ComputeOptions? = nil
    ) throws(EncoderError) -> Matrix {
        let sequences = pairs.map { pair in
            let tokens = tokenize(query: pair.query, document: pair.document)
            return TokenSequence(inputIDs: tokens.inputIDs, tokenTypeIDs: tokens.tokenTypeIDs)
        }
        return try predict(sequences, output: output, batchSize: batchSize, options: options)
    }

    /// Scores pairs already tokenized (special tokens included, as ``tokenize(query:document:)`` gives them).
    /// - Returns: (sequences.count, ``labelCount``), in input order.
    /// - Throws: errors naming the pair's 0-based index in `sequences` (the failing pair with the smallest
    ///   index, whatever the batching): ``EncoderError/invalidInput(sequence:position:reason:)`` for an empty
    ///   sequence, an id out of range, or logits / scores that are NaN or infinite (head weights that overflow);
    ///   ``EncoderError/nonFiniteHiddenState(sequence:position:)`` when the encoder's weights overflow on the pair.
    public func predict(
        _ sequences: [TokenSequence], output: CrossEncoderOutput = .scores, batchSize: Int = 32,
        options: ComputeOptions? = nil
    ) throws(EncoderError) -> Matrix {
        guard batchSize > 0 else { throw .invalidArgument(name: "batchSize", reason: "must be positive, got \(batchSize)") }
        let options = options ?? model.defaultOptions
        let labels = head.labelCount, h = head.hiddenSize
        var values = [Float](repeating: 0, count: sequences.count * labels)
        var scratch = [Float](repeating: 0, count: min(batchSize, sequences.count) * h)
        var logits = [Float](repeating: 0, count: min(batchSize, sequences.count) * labels)
        // Longest first, like the embedding path; stable for equal lengths.
        let order = sequences.indices.sorted { (sequences[$0].count, $1) > (sequences[$1].count, $0) }
        var firstTokens = [Float](repeating: 0, count: min(batchSize, sequences.count) * h)
        // A pair that fails (bad ids, a non-finite hidden state, logits or scores) does not stop the loop at once:
        // the error thrown names the failing pair with the smallest index, whatever the batching.
        var failure = FirstInputFailure()
        for batchStart in stride(from: 0, to: order.count, by: batchSize) {
            let batch = order[batchStart..<min(batchStart + batchSize, order.count)]
            if let empty = batch.first(where: { sequences[$0].count == 0 }) {
                throw .invalidInput(sequence: empty, position: nil, reason: "an empty sequence has no first token to classify")
            }
            // Name the caller's index, not the position inside the sorted batch; go on after a failing pair.
            let run = try failure.encodeSkippingFailures(batch) { indices throws(EncoderError) in
                try model.encode(indices.map { sequences[$0] }, options: options)
            }
            guard let (indices, encoded) = run else { continue }
            // Each sequence's first token ([CLS] / <s>): row sequenceStarts[i] of the packed hidden states.
            let hidden = encoded.lastHiddenState.values
            for row in 0..<indices.count {
                let start = encoded.sequenceStarts[row] * h
                for j in 0..<h { firstTokens[row * h + j] = hidden[start + j] }
            }
            firstTokens.withUnsafeBufferPointer { x in
                scratch.withUnsafeMutableBufferPointer { s in
                    logits.withUnsafeMutableBufferPointer { l in
                        head.forward(
                            x.baseAddress!, rows: indices.count, scratch: s.baseAddress!, into: l.baseAddress!,
                            backend: options.backend)
                    }
                }
            }
            for (row, index) in indices.enumerated() {
                let out = index * labels
                for j in 0..<labels { values[out + j] = logits[row * labels + j] }
                // Overflowing head weights give infinite logits that a sigmoid would hide as a score of 1.
                let finiteLogits = !values[out..<(out + labels)].contains { !$0.isFinite }
                finish(&values[out..<(out + labels)], output: output)
                if !finiteLogits || values[out..<(out + labels)].contains(where: { !$0.isFinite }) {
                    failure.record(.invalidInput(
                        sequence: index, position: nil,
                        reason: "the \(finiteLogits ? "scores are" : "logits are") not finite (NaN or infinity): the classification head's weights or activations overflow"))
                }
            }
        }
        if let error = failure.error { throw error }
        return Matrix(unchecked: values, rows: sequences.count, columns: labels)
    }

    /// Turns one pair's logits into the requested output, in place.
    private func finish(_ row: inout ArraySlice<Float>, output: CrossEncoderOutput) {
        guard output != .logits else { return }
        for j in row.indices { row[j] = activation.apply(row[j]) }
        guard output == .softmax, row.count > 1 else { return }
        let largest = row.max() ?? 0
        var sum: Float = 0
        for j in row.indices {
            row[j] = Foundation.exp(row[j] - largest)
            sum += row[j]
        }
        for j in row.indices { row[j] /= sum }
    }

    /// The score of each document against `query` (one label models): `CrossEncoder.predict([(query, d) …])`.
    ///
    /// - Throws: ``EncoderError/invalidArgument(name:reason:)`` when the model has several labels (use
    ///   ``predict(_:output:batchSize:options:)``).
    public func scores(
        query: String, documents: [String], batchSize: Int = 32, options: ComputeOptions? = nil
    ) throws(EncoderError) -> [Float] {
        guard head.labelCount == 1 else {
            throw .invalidArgument(
                name: "model", reason: "has \(head.labelCount) labels; scoring against a query needs a 1-label model")
        }
        return try predict(documents.map { (query, $0) }, batchSize: batchSize, options: options).values
    }

    /// Documents ranked by their score against `query`, best first, as `CrossEncoder.rank`: equal scores keep
    /// input order.
    ///
    /// - Parameters:
    ///   - top: how many to return (all when `nil`).
    /// - Returns: at most `top` (index into `documents`, score) pairs.
    public func rank(
        query: String, documents: [String], top: Int? = nil, batchSize: Int = 32, options: ComputeOptions? = nil
    ) throws(EncoderError) -> [RankedDocument] {
        if let top, top < 0 { throw .invalidArgument(name: "top", reason: "must not be negative, got \(top)") }
        let scores = try scores(query: query, documents: documents, batchSize: batchSize, options: options)
        return Self.ranking(scores, top: top)
    }

    /// Indices of `scores` best first (equal scores in index order), cut to `top`.
    public static func ranking(_ scores: [Float], top: Int? = nil) -> [RankedDocument] {
        let order = scores.indices.sorted { (scores[$0], $1) > (scores[$1], $0) }
        return order.prefix(top ?? order.count).map { RankedDocument(index: $0, score: scores[$0]) }
    }

    // MARK: - Reading the folder

    /// The head of the encoder's family; `architectures`, when present, must name it (an embedding model's
    /// `BertModel`, or a `BertForMaskedLM`, has no classification head).
    private static func headLayout(_ config: JSONFields, family: EncoderFamily) throws(EncoderError) -> ClassificationHeadLayout {
        let layout = family.classificationHead
        if config.has("architectures") {
            guard case let .array(names)? = config.object["architectures"], case let .string(name)? = names.first else {
                throw .invalidField(path: config.path, field: "architectures", reason: "is not a list of names")
            }
            guard name == layout.architecture else {
                throw .unsupported(path: config.path, field: "architectures", value: name)
            }
        }
        return layout
    }

    /// `num_labels` and `id2label` as `config.json` states them: (count, the field it came from, names).
    private static func labels(_ config: JSONFields) throws(EncoderError) -> (Int?, String, [String]?) {
        var names: [String]?
        if config.has("id2label") {
            guard case let .object(map)? = config.object["id2label"], !map.isEmpty else {
                throw .invalidField(path: config.path, field: "id2label", reason: "is not a non-empty object")
            }
            var byIndex = [String?](repeating: nil, count: map.count)
            for (key, value) in map {
                guard let index = Int(key), byIndex.indices.contains(index), case let .string(name) = value else {
                    throw .invalidField(
                        path: config.path, field: "id2label",
                        reason: "must map the labels 0..<\(map.count) to names; has \"\(key)\"")
                }
                byIndex[index] = name
            }
            names = byIndex.compactMap { $0 }
        }
        if config.has("num_labels") {
            let count = try config.int("num_labels", range: 1...(1 << 20))
            if let names, names.count != count {
                throw .invalidField(
                    path: config.path, field: "num_labels", reason: "is \(count), but id2label names \(names.count) labels")
            }
            return (count, "num_labels", names)
        }
        return (names?.count, "id2label", names)
    }

    /// `activation_fn` as sentence-transformers resolves it (paths outside `torch.` are not trusted there
    /// and fall back to the default, so they do here).
    private static func activation(folder: URL, config: JSONFields, labelCount: Int) throws(EncoderError) -> ScoreActivation {
        func resolve(_ path: String, file: String, field: String) throws(EncoderError) -> ScoreActivation? {
            guard path.hasPrefix("torch.") else { return nil }
            guard let activation = ScoreActivation(pytorchPath: path) else {
                throw .unsupported(path: file, field: field, value: path)
            }
            return activation
        }
        let stConfigURL = folder.appendingPathComponent("config_sentence_transformers.json")
        if FileManager.default.fileExists(atPath: stConfigURL.path) {
            let fields = JSONFields(object: try JSONFile.object(at: stConfigURL), path: stConfigURL.path)
            if fields.has("activation_fn") {
                let path = try fields.string("activation_fn")
                if let activation = try resolve(path, file: stConfigURL.path, field: "activation_fn") { return activation }
            }
        }
        if case let .object(section)? = config.object["sentence_transformers"], section["activation_fn"] != nil {
            let fields = JSONFields(object: section, path: config.path)
            let path = try fields.string("activation_fn")
            if let activation = try resolve(path, file: config.path, field: "sentence_transformers.activation_fn") {
                return activation
            }
        } else if config.has("sbert_ce_default_activation_function") {
            let path = try config.string("sbert_ce_default_activation_function")
            if let activation = try resolve(path, file: config.path, field: "sbert_ce_default_activation_function") {
                return activation
            }
        }
        return labelCount == 1 ? .sigmoid : .identity
    }

    /// The longest pair, special tokens included, as sentence-transformers' `max_seq_length`.
    private static func maxLength(folder: URL, modelLimit: Int) throws(EncoderError) -> Int {
        let sentenceConfig = folder.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sentenceConfig.path) {
            let fields = JSONFields(object: try JSONFile.object(at: sentenceConfig), path: sentenceConfig.path)
            if fields.has("max_seq_length") {
                return min(modelLimit, try fields.int("max_seq_length", range: 2...Int(Int32.max)))
            }
        }
        let tokenizerConfig = folder.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: tokenizerConfig.path) {
            let fields = JSONFields(object: try JSONFile.object(at: tokenizerConfig), path: tokenizerConfig.path)
            if fields.has("model_max_length") {
                // Hugging Face writes 1e30 ("no limit") for tokenizers without one.
                let length = try fields.double("model_max_length", range: 2...Double.greatestFiniteMagnitude)
                return length >= Double(modelLimit) ? modelLimit : Int(length)
            }
        }
        return modelLimit
    }
}

/// One document of a ranking: its index in the input and its score.
public struct RankedDocument: Sendable, Equatable, Hashable {
    /// 0-based position of the document in the list that was ranked.
    public let index: Int
    /// Its score (the model's activation applied to the logit).
    public let score: Float

    /// A ranked document.
    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }
}
