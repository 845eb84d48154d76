import Foundation
import Tokenizers

/// Text in, sentence embeddings out: a sentence-transformers model folder (tokenizer, BERT weights,
/// pooling and normalization) behind one call, like `SentenceTransformer.encode`.
///
/// ```swift
/// let encoder = try SentenceEncoder(modelFolder: URL(fileURLWithPath: "models/all-MiniLM-L6-v2"))
/// let result = try encoder.encode(["The cat sat on the mat.", "A man is playing a guitar."])
/// print(result.embeddings.rows, result.embeddings.columns)   // 2 384
/// ```
///
/// A `SentenceEncoder` is immutable and `Sendable`: load it once and share it between tasks.
public final class SentenceEncoder: Sendable {
    /// The BERT encoder.
    public let model: BertModel
    /// The tokenizer from `tokenizer.json` (or `vocab.txt`).
    public let tokenizer: any TextTokenizer
    /// Pooling and normalization from `modules.json` and `1_Pooling/config.json`.
    public let pooling: Pooling
    /// Inputs are truncated to this many tokens, `[CLS]` and `[SEP]` included: `max_seq_length` from
    /// `sentence_bert_config.json` when present, else `max_position_embeddings`.
    public let maxSequenceLength: Int
    /// The model folder.
    public let folder: URL

    /// Width of the embeddings this encoder returns.
    public var dimension: Int { pooling.dimension(hiddenSize: model.configuration.hiddenSize) }

    /// Loads a sentence-transformers or Hugging Face model folder: `config.json`, `model.safetensors`,
    /// `tokenizer.json` (or `vocab.txt`), and when present `modules.json`, `1_Pooling/config.json`,
    /// `sentence_bert_config.json`.
    ///
    /// - Parameters:
    ///   - modelFolder: the folder; ``defaultModelFolder()`` finds the default model fetched by `Scripts/setup`.
    ///   - options: backend and threads used by ``encode(_:batchSize:options:progress:)`` unless it is given others.
    public init(modelFolder: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelFolder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unreadableFile(path: modelFolder.path, reason: "model folder not found")
        }
        folder = modelFolder
        model = try BertModel(folder: modelFolder, options: options)
        do {
            tokenizer = try TokenizerLoader.load(modelFolder: modelFolder)
        } catch {
            throw .tokenizer(error)
        }
        pooling = try Pooling(modelFolder: modelFolder)
        let limit = model.configuration.maxPositionEmbeddings
        let sentenceConfig = modelFolder.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sentenceConfig.path) {
            let fields = JSONFields(object: try JSONFile.object(at: sentenceConfig), path: sentenceConfig.path)
            maxSequenceLength = min(limit, try fields.int("max_seq_length", default: limit, range: 2...Int(Int32.max)))
        } else {
            maxSequenceLength = limit
        }
        guard tokenizer.vocabularySize <= model.configuration.vocabSize else {
            throw .invalidField(
                path: modelFolder.appendingPathComponent("config.json").path, field: "vocab_size",
                reason: "is \(model.configuration.vocabSize), smaller than the tokenizer's \(tokenizer.vocabularySize) tokens")
        }
    }

    /// Tokenizes `text` the way ``encode(_:batchSize:options:progress:)`` does (truncated to ``maxSequenceLength``).
    public func tokenize(_ text: String) -> TokenizedText {
        tokenizer.encode(text, maxLength: maxSequenceLength)
    }

    /// Embeds a batch of texts.
    ///
    /// Texts are tokenized, sorted by length into batches of `batchSize` (so little work is wasted, as in
    /// sentence-transformers), encoded, pooled, and returned in input order.
    ///
    /// - Parameters:
    ///   - texts: any strings, including empty ones; each gives one row.
    ///   - batchSize: sequences per forward pass.
    ///   - options: backend and threads; the model's defaults when `nil`.
    ///   - progress: called after each batch with the number of texts done so far.
    /// - Returns: (texts.count, ``dimension``) embeddings, with token counts and which texts were truncated.
    public func encode(
        _ texts: [String], batchSize: Int = 32, options: ComputeOptions? = nil,
        progress: ((Int) -> Void)? = nil
    ) throws(EncoderError) -> EmbeddingBatch {
        guard batchSize > 0 else { throw .invalidArgument(name: "batchSize", reason: "must be positive, got \(batchSize)") }
        let tokenized = texts.map(tokenize)
        let sequences = tokenized.map { TokenSequence(inputIDs: $0.inputIDs, tokenTypeIDs: $0.tokenTypeIDs) }
        let embeddings = try embed(sequences, batchSize: batchSize, options: options, progress: progress)
        return EmbeddingBatch(
            embeddings: embeddings,
            tokenCounts: tokenized.map(\.inputIDs.count),
            truncated: tokenized.indices.filter { tokenized[$0].isTruncated })
    }

    /// Embeds one text: a vector of ``dimension`` floats.
    public func encode(_ text: String) throws(EncoderError) -> [Float] {
        try encode([text]).embeddings.values
    }

    /// Embeds a batch of texts off the caller's thread.
    public func encode(
        _ texts: [String], batchSize: Int = 32, options: ComputeOptions? = nil
    ) async throws(EncoderError) -> EmbeddingBatch {
        let result: Result<EmbeddingBatch, EncoderError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(EncoderError) {
                    continuation.resume(returning: .success(try self.encode(texts, batchSize: batchSize, options: options)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Embeds token sequences (already tokenized, special tokens included) with the model's pooling,
    /// sorted by length into batches and returned in input order: (sequences.count, ``dimension``).
    public func embed(
        _ sequences: [TokenSequence], batchSize: Int = 32, options: ComputeOptions? = nil,
        progress: ((Int) -> Void)? = nil
    ) throws(EncoderError) -> Matrix {
        guard batchSize > 0 else { throw .invalidArgument(name: "batchSize", reason: "must be positive, got \(batchSize)") }
        let width = dimension
        var values = [Float](repeating: 0, count: sequences.count * width)
        // Longest first, like sentence-transformers; stable for equal lengths.
        let order = sequences.indices.sorted { (sequences[$0].count, $1) > (sequences[$1].count, $0) }
        var done = 0
        for batchStart in stride(from: 0, to: order.count, by: batchSize) {
            let indices = order[batchStart..<min(batchStart + batchSize, order.count)]
            let pooled: Matrix
            do {
                pooled = try model.embed(indices.map { sequences[$0] }, pooling: pooling, options: options)
            } catch let EncoderError.invalidInput(sequence, position, reason) {
                // Name the caller's index, not the position inside the sorted batch.
                throw .invalidInput(sequence: indices[indices.startIndex + sequence], position: position, reason: reason)
            }
            for (row, index) in indices.enumerated() {
                for j in 0..<width { values[index * width + j] = pooled.values[row * width + j] }
            }
            done += indices.count
            progress?(done)
        }
        return Matrix(unchecked: values, rows: sequences.count, columns: width)
    }

    /// The default model folder: `$ENCODER_MODEL` when set, else `models/all-MiniLM-L6-v2` (where
    /// `Scripts/setup` puts it) in the current directory or one of its parents, or beside the executable's
    /// build folder. `nil` when none exists.
    public static func defaultModelFolder() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["ENCODER_MODEL"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let relative = "models/all-MiniLM-L6-v2"
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        starts.append(URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent(relative)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("config.json").path) {
                    return candidate
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}

/// Sentence embeddings of a batch of texts, in input order.
public struct EmbeddingBatch: Sendable {
    /// (texts, dimension): row `i` embeds text `i`.
    public let embeddings: Matrix
    /// Tokens fed to the model for each text, after truncation, `[CLS]` and `[SEP]` included.
    public let tokenCounts: [Int]
    /// Indices of the texts that were longer than ``SentenceEncoder/maxSequenceLength`` and truncated.
    public let truncated: [Int]

    /// The embedding of text `index`.
    public subscript(index: Int) -> [Float] {
        let width = embeddings.columns
        return Array(embeddings.values[(index * width)..<((index + 1) * width)])
    }

    /// Number of texts.
    public var count: Int { embeddings.rows }
}
