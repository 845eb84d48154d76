import Foundation
import Tokenizers

/// Text in, sentence embeddings out: a sentence-transformers model folder (tokenizer, encoder weights,
/// pooling, Dense and Normalize modules, prompts) behind one call, like `SentenceTransformer.encode`.
///
/// ```swift
/// let encoder = try SentenceEncoder(modelFolder: URL(fileURLWithPath: "models/all-MiniLM-L6-v2"))
/// let result = try encoder.encode(["The cat sat on the mat.", "A man is playing a guitar."])
/// print(result.embeddings.rows, result.embeddings.columns)   // 2 384
/// ```
///
/// A `SentenceEncoder` is immutable and `Sendable`: load it once and share it between tasks.
public final class SentenceEncoder: Sendable {
    /// The encoder (any supported family).
    public let model: EncoderModel
    /// The tokenizer from `tokenizer.json` (or `vocab.txt`).
    public let tokenizer: any TextTokenizer
    /// Pooling, Dense and Normalize modules from `modules.json`.
    public let modules: SentenceModules
    /// Truncation length, lowercasing and prompts from the sentence-transformers files.
    public let configuration: SentenceTransformerConfiguration
    /// Inputs are truncated to this many tokens, special tokens included: `max_seq_length` from
    /// `sentence_bert_config.json` (else `model_max_length` from `tokenizer_config.json`), at most the
    /// positions the model can use (``EncoderConfiguration/maxSequenceLength``).
    public let maxSequenceLength: Int
    /// The model folder.
    public let folder: URL
    /// Ids the tokenizer's template adds around every text (`[CLS]`, `[SEP]`): a prompt's length leaves out
    /// a trailing one, as sentence-transformers' `_get_prompt_length` leaves out a trailing special token.
    private let templateIDs: Set<Int32>

    /// The pooling module.
    public var pooling: Pooling { modules.pooling }

    /// Width of the embeddings this encoder returns (before any `truncateDimension`).
    public var dimension: Int { modules.dimension }

    /// Loads a sentence-transformers or Hugging Face model folder: `config.json`, `model.safetensors`,
    /// `tokenizer.json` (or `vocab.txt`), and when present `modules.json` with its Pooling, Dense and
    /// Normalize folders, `sentence_bert_config.json`, `config_sentence_transformers.json`.
    ///
    /// - Parameters:
    ///   - modelFolder: the folder (``ModelFolder/resolve(_:environment:)`` also finds hub ids in the
    ///     Hugging Face cache); ``defaultModelFolder()`` finds the default model fetched by `Scripts/setup`.
    ///   - options: backend and threads used by ``encode(_:batchSize:options:prompt:promptName:truncateDimension:normalize:progress:)`` unless it is given others.
    public init(modelFolder: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        try ModelFolder.requireFolder(modelFolder)
        folder = modelFolder
        let transformerFolder = try SentenceModules.transformerFolder(in: modelFolder)
        try ModelFolder.requireFolder(transformerFolder)
        model = try EncoderModel(folder: transformerFolder, options: options)
        do {
            tokenizer = try TokenizerLoader.load(modelFolder: transformerFolder)
        } catch {
            throw .tokenizer(error)
        }
        let hiddenSize = model.configuration.hiddenSize
        modules = try SentenceModules(modelFolder: modelFolder, hiddenSize: hiddenSize)
        configuration = try SentenceTransformerConfiguration(modelFolder: modelFolder, transformerFolder: transformerFolder)
        let limit = model.configuration.maxSequenceLength
        maxSequenceLength = min(limit, configuration.maxSequenceLength ?? limit)
        guard tokenizer.vocabularySize <= model.configuration.vocabSize else {
            throw .invalidField(
                path: transformerFolder.appendingPathComponent("config.json").path, field: "vocab_size",
                reason: "is \(model.configuration.vocabSize), smaller than the tokenizer's \(tokenizer.vocabularySize) tokens")
        }
        templateIDs = Set(tokenizer.encode("", maxLength: nil).inputIDs)
    }

    /// Tokenizes `text` the way ``encode(_:batchSize:options:prompt:promptName:truncateDimension:normalize:progress:)``
    /// does without a prompt: lowercased when the folder says `do_lower_case`, truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String) -> TokenizedText {
        tokenizer.encode(configuration.lowercasesText ? text.lowercased() : text, maxLength: maxSequenceLength)
    }

    /// Embeds a batch of texts, as sentence-transformers' `SentenceTransformer.encode` does.
    ///
    /// Texts are prefixed with the prompt, tokenized, sorted by length into batches of `batchSize` (so little
    /// work is wasted, as in sentence-transformers), encoded, pooled, passed through the folder's Dense and
    /// Normalize modules, cut to `truncateDimension`, normalized if asked, and returned in input order.
    ///
    /// - Parameters:
    ///   - texts: any strings, including empty ones; each gives one row.
    ///   - batchSize: sequences per forward pass.
    ///   - options: backend and threads; the model's defaults when `nil`.
    ///   - prompt: text put before every input (`"query: "`); wins over `promptName`.
    ///   - promptName: one of the folder's ``SentenceTransformerConfiguration/prompts``. With neither, the
    ///     folder's `default_prompt_name` applies, if any. With `include_prompt: false` pooling, the prompt's
    ///     tokens are left out of the pooled vector.
    ///   - truncateDimension: keep only the first N values of each embedding (Matryoshka models), after
    ///     the folder's own Normalize; in `1...dimension`.
    ///   - normalize: scale each returned embedding to unit length (after truncation), as
    ///     `normalize_embeddings=True` does.
    ///   - progress: called after each batch with the number of texts done so far.
    /// - Returns: (texts.count, `truncateDimension ?? dimension`) embeddings, with token counts and which
    ///   texts were truncated.
    /// - Throws: ``EncoderError/invalidInput(sequence:position:reason:)`` naming the input when its embedding
    ///   is not finite (NaN or infinite weights or activations), and for the model's input checks (with several
    ///   failing inputs, the one with the smallest index: all inputs before it are good);
    ///   ``EncoderError/invalidArgument(name:reason:)`` for a bad batch size, prompt name or dimension.
    public func encode(
        _ texts: [String], batchSize: Int = 32, options: ComputeOptions? = nil,
        prompt: String? = nil, promptName: String? = nil, truncateDimension: Int? = nil, normalize: Bool = false,
        progress: ((Int) -> Void)? = nil
    ) throws(EncoderError) -> EmbeddingBatch {
        guard batchSize > 0 else { throw .invalidArgument(name: "batchSize", reason: "must be positive, got \(batchSize)") }
        let width = try outputDimension(truncatedTo: truncateDimension)
        let prefix = try configuration.resolvePrompt(prompt, promptName: promptName) ?? ""
        let tokenized = texts.map { tokenize(prefix + $0) }
        let sequences = tokenized.map { TokenSequence(inputIDs: $0.inputIDs, tokenTypeIDs: $0.tokenTypeIDs) }
        let embeddings = try embed(
            sequences, batchSize: batchSize, options: options, promptLength: promptLength(prefix),
            truncateDimension: width, normalize: normalize, progress: progress)
        return EmbeddingBatch(
            embeddings: embeddings,
            tokenCounts: tokenized.map(\.inputIDs.count),
            truncated: tokenized.indices.filter { tokenized[$0].isTruncated })
    }

    /// Embeds one text: a vector of ``dimension`` floats (the folder's default prompt applies).
    public func encode(_ text: String) throws(EncoderError) -> [Float] {
        try encode([text]).embeddings.values
    }

    /// Embeds a batch of texts off the caller's thread; parameters as the synchronous ``encode(_:batchSize:options:prompt:promptName:truncateDimension:normalize:progress:)``.
    public func encode(
        _ texts: [String], batchSize: Int = 32, options: ComputeOptions? = nil,
        prompt: String? = nil, promptName: String? = nil, truncateDimension: Int? = nil, normalize: Bool = false
    ) async throws(EncoderError) -> EmbeddingBatch {
        let result: Result<EmbeddingBatch, EncoderError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(EncoderError) {
                    continuation.resume(returning: .success(try self.encode(
                        texts, batchSize: batchSize, options: options, prompt: prompt, promptName: promptName,
                        truncateDimension: truncateDimension, normalize: normalize)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// The width of the embeddings `encode` returns with `truncateDimension`.
    /// - Throws: ``EncoderError/invalidArgument(name:reason:)`` unless it is in `1...dimension`.
    public func outputDimension(truncatedTo truncateDimension: Int?) throws(EncoderError) -> Int {
        guard let truncateDimension else { return dimension }
        guard (1...dimension).contains(truncateDimension) else {
            throw .invalidArgument(
                name: "truncateDimension", reason: "must be in 1...\(dimension) (the model's dimension), got \(truncateDimension)")
        }
        return truncateDimension
    }

    /// The number of tokens a prompt occupies at the start of every sequence: its tokens with the template's
    /// leading special token, without a trailing one (sentence-transformers' `_get_prompt_length`). 0 for no prompt.
    public func promptLength(_ prompt: String) -> Int {
        guard !prompt.isEmpty else { return 0 }
        let ids = tokenize(prompt).inputIDs
        guard let last = ids.last else { return 0 }
        return templateIDs.contains(last) ? ids.count - 1 : ids.count
    }

    /// Embeds token sequences (already tokenized, special tokens and prompt included) through the folder's
    /// modules, sorted by length into batches and returned in input order.
    ///
    /// - Parameters:
    ///   - sequences: token ids with special tokens (and the prompt's tokens, if any).
    ///   - batchSize: sequences per forward pass.
    ///   - options: backend and threads; the model's defaults when `nil`.
    ///   - promptLength: tokens at the start of every sequence that belong to the prompt (see ``promptLength(_:)``);
    ///     used only by `include_prompt: false` pooling.
    ///   - truncateDimension: keep the first N values of each row; `nil` keeps all ``dimension``.
    ///   - normalize: scale each row to unit length after truncation.
    ///   - applyingFinalNormalize: `false` leaves out a `Normalize` module that ends the folder's pipeline, for
    ///     the raw pooled (or Dense) embeddings, as text-embeddings-inference's `normalize: false` returns them.
    ///   - progress: called after each batch with the number of sequences done so far.
    /// - Returns: (sequences.count, `truncateDimension ?? dimension`).
    public func embed(
        _ sequences: [TokenSequence], batchSize: Int = 32, options: ComputeOptions? = nil,
        promptLength: Int = 0, truncateDimension: Int? = nil, normalize: Bool = false,
        applyingFinalNormalize: Bool = true, progress: ((Int) -> Void)? = nil
    ) throws(EncoderError) -> Matrix {
        guard batchSize > 0 else { throw .invalidArgument(name: "batchSize", reason: "must be positive, got \(batchSize)") }
        let width = try outputDimension(truncatedTo: truncateDimension)
        let options = options ?? model.defaultOptions
        let full = dimension
        var values = [Float](repeating: 0, count: sequences.count * width)
        // Longest first, like sentence-transformers; stable for equal lengths.
        let order = sequences.indices.sorted { (sequences[$0].count, $1) > (sequences[$1].count, $0) }
        var done = 0
        // An input that fails (bad ids, a non-finite hidden state or embedding) does not stop the loop at once:
        // the error reported is the one of the failing input with the smallest index, so every input before it
        // is known to be good (a caller can keep their results).
        var failure = FirstInputFailure()
        let hiddenSize = model.configuration.hiddenSize
        for batchStart in stride(from: 0, to: order.count, by: batchSize) {
            let batch = order[batchStart..<min(batchStart + batchSize, order.count)]
            // Name the caller's index, not the position inside the sorted batch; go on after a failing input.
            let encoded = try failure.encodeSkippingFailures(batch) { indices throws(EncoderError) in
                try model.withLastHiddenState(indices.map { sequences[$0] }, options: options) { states, starts in
                    modules.embed(
                        states: states, hiddenSize: hiddenSize, sequenceStarts: starts, promptLength: promptLength,
                        applyingFinalNormalize: applyingFinalNormalize, options: options)
                }
            }
            guard let (indices, pooled) = encoded else { continue }
            for row in 0..<pooled.rows where pooled.values[(row * full)..<((row + 1) * full)].contains(where: { !$0.isFinite }) {
                let index = indices[indices.startIndex + row]
                failure.record(.invalidInput(
                    sequence: index, position: nil,
                    reason: "the embedding is not finite (NaN or infinity): the model's weights or activations overflow"))
            }
            guard failure.error == nil else { continue }
            pooled.values.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { target in
                    for (row, index) in indices.enumerated() {
                        let destination = target.baseAddress! + index * width
                        destination.update(from: source.baseAddress! + row * full, count: width)
                        if normalize { EmbeddingRows.normalize(destination, count: width) }
                    }
                }
            }
            done += indices.count
            progress?(done)
        }
        if let error = failure.error { throw error }
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
