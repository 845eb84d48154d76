import Foundation

/// How token states become one sentence embedding, as sentence-transformers' `Pooling` module defines it
/// (`1_Pooling/config.json`).
///
/// Several modes may be on at once; their vectors are concatenated in the order of ``modes``. Only real
/// tokens are pooled: padding never exists in the packed encoder output, so it never enters a mean or a max.
/// Normalization and `Dense` layers are separate modules that follow (``SentenceModules``).
public struct Pooling: Sendable, Equatable {
    /// One pooling strategy (sentence-transformers' `pooling_mode` names in parentheses).
    public enum Mode: String, Sendable, CaseIterable {
        /// The first token's (`[CLS]`) state (`cls`, `pooling_mode_cls_token`).
        case cls
        /// Element-wise maximum over tokens (`max`, `pooling_mode_max_tokens`).
        case max
        /// Mean over tokens (`mean`, `pooling_mode_mean_tokens`).
        case mean
        /// Sum over tokens divided by √count (`mean_sqrt_len_tokens`, `pooling_mode_mean_sqrt_len_tokens`).
        case meanSqrtLength = "mean_sqrt_len_tokens"
        /// Mean weighted by position, token `t` (from 0) weighing `t + 1` (`weightedmean`, `pooling_mode_weightedmean_tokens`).
        case weightedMean = "weightedmean"
        /// The last token's state (`lasttoken`, `pooling_mode_lasttoken`).
        case lastToken = "lasttoken"

        /// The legacy boolean field of `1_Pooling/config.json` that turns this mode on.
        public var legacyField: String {
            switch self {
            case .cls: return "pooling_mode_cls_token"
            case .max: return "pooling_mode_max_tokens"
            case .mean: return "pooling_mode_mean_tokens"
            case .meanSqrtLength: return "pooling_mode_mean_sqrt_len_tokens"
            case .weightedMean: return "pooling_mode_weightedmean_tokens"
            case .lastToken: return "pooling_mode_lasttoken"
            }
        }
    }

    /// The modes, in the order their vectors are concatenated. Never empty. Immutable: the order is the
    /// one the configuration gave (the order of ``Mode``'s cases for the legacy boolean fields).
    public let modes: [Mode]
    /// `false`: the prompt's tokens (see ``SentenceEncoder``'s `prompt`) are left out of every mode, as
    /// sentence-transformers' `include_prompt: false` does (INSTRUCTOR-style models).
    public let includePrompt: Bool

    /// Pooling with `modes` concatenated in the order given (`[.mean]` when empty, as sentence-transformers
    /// does when no mode is on).
    public init(modes: [Mode], includePrompt: Bool = true) {
        self.modes = modes.isEmpty ? [.mean] : modes
        self.includePrompt = includePrompt
    }

    /// Mean pooling over all tokens: what a folder without sentence-transformers files gets.
    public static let mean = Pooling(modes: [.mean])

    /// Width of a pooled embedding for a model of width `hiddenSize`.
    public func dimension(hiddenSize: Int) -> Int { modes.count * hiddenSize }

    /// Reads a pooling module's `config.json`: sentence-transformers ≥ 5 writes `pooling_mode` (a name or a
    /// list of names, concatenated in that order) and `embedding_dimension`; earlier versions write one
    /// boolean per mode (`pooling_mode_mean_tokens`…, concatenated in the order of ``Mode``'s cases) and
    /// `word_embedding_dimension`. `include_prompt` defaults to `true`.
    ///
    /// - Parameters:
    ///   - url: the module's `config.json`.
    ///   - hiddenSize: the encoder's width; a configured embedding dimension must equal it.
    public init(contentsOf url: URL, hiddenSize: Int) throws(EncoderError) {
        let fields = JSONFields(object: try JSONFile.object(at: url), path: url.path)
        var modes: [Mode] = []
        if fields.has("pooling_mode") {
            let value = fields.object["pooling_mode"]!
            for name in value.arrayValue ?? [value] {
                guard let name = name.stringValue else {
                    throw .invalidField(path: url.path, field: "pooling_mode", reason: "is not a string or a list of strings")
                }
                guard let mode = Mode(rawValue: name) else {
                    throw .unsupported(path: url.path, field: "pooling_mode", value: name)
                }
                modes.append(mode)
            }
            guard !modes.isEmpty else {
                throw .invalidField(path: url.path, field: "pooling_mode", reason: "is an empty list")
            }
        } else {
            for mode in Mode.allCases where try fields.bool(mode.legacyField, default: false) {
                modes.append(mode)
            }
        }
        for field in ["embedding_dimension", "word_embedding_dimension"] where fields.has(field) {
            let width = try fields.int(field, range: 1...Int(Int32.max))
            guard width == hiddenSize else {
                throw .invalidField(path: url.path, field: field, reason: "is \(width), but the model's hidden_size is \(hiddenSize)")
            }
        }
        self.init(modes: modes, includePrompt: try fields.bool("include_prompt", default: true))
    }

    /// Pools the encoder's packed token states into one row per sequence.
    ///
    /// - Parameters:
    ///   - output: the encoder's output; `lastHiddenState` is (tokens, hiddenSize), sequences back to back.
    ///   - promptLength: tokens at the start of every sequence that belong to the prompt (`[CLS]` and the
    ///     prompt's own tokens); left out of every mode when ``includePrompt`` is `false`, ignored otherwise.
    ///   - threads: sequences are split into at most this many chunks.
    /// - Returns: (sequences, ``dimension(hiddenSize:)``). An empty sequence gives zeros. When the prompt
    ///   covers a whole sequence, modes follow sentence-transformers: `cls` takes the first token, means and
    ///   `lasttoken` give zeros and `max` gives -∞ (which ``SentenceEncoder`` reports as an error).
    public func pool(_ output: EncoderOutput, promptLength: Int = 0, threads: Int = 1) -> Matrix {
        output.lastHiddenState.values.withUnsafeBufferPointer { states in
            pool(
                states: states, hiddenSize: output.lastHiddenState.columns, sequenceStarts: output.sequenceStarts,
                promptLength: promptLength, threads: threads)
        }
    }

    /// Pools packed token states that the caller holds (the encoder's workspace, without a copy: see
    /// ``EncoderModel/withLastHiddenState(_:options:_:)``).
    ///
    /// - Parameters:
    ///   - states: (tokens, hiddenSize), sequences back to back; `tokens` is `sequenceStarts.last`.
    ///   - sequenceStarts: row where each sequence starts, then the total: sequence `i` is rows
    ///     `sequenceStarts[i]..<sequenceStarts[i + 1]`.
    ///   - promptLength, threads: as in ``pool(_:promptLength:threads:)``.
    /// - Returns: (sequences, ``dimension(hiddenSize:)``).
    package func pool(
        states: UnsafeBufferPointer<Float>, hiddenSize h: Int, sequenceStarts starts: [Int],
        promptLength: Int = 0, threads: Int = 1
    ) -> Matrix {
        let count = Swift.max(starts.count - 1, 0)
        let width = dimension(hiddenSize: h)
        precondition(states.count >= (starts.last ?? 0) * h, "Pooling: fewer states than sequenceStarts covers")  // a caller's bug, never input
        let skipped = includePrompt ? 0 : Swift.max(0, promptLength)
        var values = [Float](repeating: 0, count: count * width)
        values.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress, let states = states.baseAddress else { return }
            Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 8) { range in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(h, 1)) { sum in
                    for s in range {
                        let start = starts[s], length = starts[s + 1] - start
                        guard length > 0 else { continue }
                        pool(
                            sequence: states + start * h, length: length, skipped: skipped, hiddenSize: h,
                            into: base + s * width, sum: sum.baseAddress!)
                    }
                }
            }
        }
        return Matrix(unchecked: values, rows: count, columns: width)
    }

    /// One sequence: tokens (length, h) at `tokens`, of which the first `skipped` are left out.
    /// `row` (width) is zero on entry; `sum` is h doubles of scratch.
    private func pool(
        sequence tokens: UnsafePointer<Float>, length: Int, skipped: Int, hiddenSize h: Int,
        into row: UnsafeMutablePointer<Float>, sum: UnsafeMutablePointer<Double>
    ) {
        let first = Swift.min(skipped, length)   // first pooled token
        let pooled = length - first              // tokens pooled
        var column = 0
        for mode in modes {
            let target = row + column
            column += h
            switch mode {
            case .cls:
                // sentence-transformers takes the first unmasked token, or token 0 when none is left.
                target.update(from: tokens + (pooled > 0 ? first : 0) * h, count: h)
            case .lastToken:
                if pooled > 0 { target.update(from: tokens + (length - 1) * h, count: h) }
            case .max:
                guard pooled > 0 else {
                    target.update(repeating: -.infinity, count: h)
                    continue
                }
                target.update(from: tokens + first * h, count: h)
                for t in (first + 1)..<Swift.max(first + 1, length) {
                    let token = tokens + t * h
                    for j in 0..<h { target[j] = Swift.max(target[j], token[j]) }
                }
            case .mean, .meanSqrtLength, .weightedMean:
                guard pooled > 0 else { continue }   // sum / clamp(0, 1e-9) = 0
                sum.update(repeating: 0, count: h)
                var weights = 0.0
                for t in first..<length {
                    let token = tokens + t * h
                    // Weighted mean: position t (counted from the sequence start, prompt included) weighs t + 1.
                    let weight = mode == .weightedMean ? Double(t + 1) : 1
                    weights += weight
                    for j in 0..<h { sum[j] += weight * Double(token[j]) }
                }
                let divisor = mode == .meanSqrtLength ? weights.squareRoot() : weights
                for j in 0..<h { target[j] = Float(sum[j] / divisor) }
            }
        }
    }
}
