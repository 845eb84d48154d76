import Foundation
import JSONCore

/// How token states become one sentence embedding, as sentence-transformers' `Pooling` and
/// `Normalize` modules define it.
///
/// Several modes may be on at once; their vectors are concatenated in sentence-transformers' order
/// (CLS, max, mean, mean-sqrt-len). Only real tokens are pooled: padding never enters a mean or a max.
public struct Pooling: Sendable, Equatable {
    /// One pooling strategy.
    public enum Mode: String, Sendable, CaseIterable {
        /// The first token's (`[CLS]`) state (`pooling_mode_cls_token`).
        case cls
        /// Element-wise maximum over tokens (`pooling_mode_max_tokens`).
        case max
        /// Mean over tokens (`pooling_mode_mean_tokens`).
        case mean
        /// Sum over tokens divided by √length (`pooling_mode_mean_sqrt_len_tokens`).
        case meanSqrtLength
    }

    /// The modes, in the order their vectors are concatenated.
    public var modes: [Mode]
    /// Whether each embedding is scaled to unit L2 norm (a `Normalize` module).
    public var normalize: Bool

    /// Pooling with `modes` (kept in the canonical order, duplicates dropped), normalized when `normalize` is set.
    public init(modes: [Mode], normalize: Bool) {
        self.modes = Mode.allCases.filter { modes.contains($0) }
        self.normalize = normalize
    }

    /// Mean pooling without normalization: what a folder without sentence-transformers files gets.
    public static let mean = Pooling(modes: [.mean], normalize: false)

    /// Width of a pooled embedding for a model of width `hiddenSize`.
    public func dimension(hiddenSize: Int) -> Int { modes.count * hiddenSize }

    /// The pooling a sentence-transformers model folder asks for: `modules.json`, the pooling module's
    /// `config.json` (usually `1_Pooling/config.json`) and whether a `Normalize` module follows.
    /// A folder without `modules.json` gets ``mean``.
    public init(modelFolder: URL) throws(EncoderError) {
        let modulesURL = modelFolder.appendingPathComponent("modules.json")
        guard FileManager.default.fileExists(atPath: modulesURL.path) else {
            self = .mean
            return
        }
        var poolingPath: String?
        var normalize = false
        for (index, entry) in try JSONFile.array(at: modulesURL).enumerated() {
            guard let module = entry.objectValue, let type = module["type"]?.stringValue else {
                throw .malformedJSON(path: modulesURL.path, reason: "entry \(index) has no string 'type'")
            }
            let kind = type.split(separator: ".").last.map(String.init) ?? type
            switch kind {
            case "Transformer":
                continue
            case "Pooling":
                poolingPath = module["path"]?.stringValue ?? ""
            case "Normalize":
                normalize = true
            default:
                throw .unsupported(path: modulesURL.path, field: "modules[\(index)].type", value: type)
            }
        }
        guard let poolingPath else {
            self = Pooling(modes: [.mean], normalize: normalize)
            return
        }
        let configURL = modelFolder.appendingPathComponent(poolingPath).appendingPathComponent("config.json")
        let fields = JSONFields(object: try JSONFile.object(at: configURL), path: configURL.path)
        var modes: [Mode] = []
        if try fields.bool("pooling_mode_cls_token", default: false) { modes.append(.cls) }
        if try fields.bool("pooling_mode_max_tokens", default: false) { modes.append(.max) }
        if try fields.bool("pooling_mode_mean_tokens", default: false) { modes.append(.mean) }
        if try fields.bool("pooling_mode_mean_sqrt_len_tokens", default: false) { modes.append(.meanSqrtLength) }
        for unsupported in ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
        where try fields.bool(unsupported, default: false) {
            throw .unsupported(path: configURL.path, field: unsupported, value: "true")
        }
        guard !modes.isEmpty else {
            throw .invalidField(path: configURL.path, field: "pooling_mode_mean_tokens", reason: "no pooling mode is enabled")
        }
        self = Pooling(modes: modes, normalize: normalize)
    }

    /// Pools packed token states into one row per sequence.
    ///
    /// hidden: (tokens, hiddenSize), sequences back to back as `sequenceStarts` says.
    /// Returns (sequences, dimension). An empty sequence gives zeros (never NaN).
    func pool(hidden: UnsafePointer<Float>, hiddenSize h: Int, sequenceStarts: [Int], threads: Int) -> Matrix {
        let count = sequenceStarts.count - 1
        let width = dimension(hiddenSize: h)
        var values = [Float](repeating: 0, count: count * width)
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 8) { range in
                var sum = [Double](repeating: 0, count: h)
                for s in range {
                    let start = sequenceStarts[s], length = sequenceStarts[s + 1] - start
                    let row = base + s * width
                    guard length > 0 else { continue }
                    var column = 0
                    for mode in modes {
                        let target = row + column
                        switch mode {
                        case .cls:
                            target.update(from: hidden + start * h, count: h)
                        case .max:
                            target.update(from: hidden + start * h, count: h)
                            for t in 1..<length {
                                let token = hidden + (start + t) * h
                                for j in 0..<h { target[j] = Swift.max(target[j], token[j]) }
                            }
                        case .mean, .meanSqrtLength:
                            for j in 0..<h { sum[j] = 0 }
                            for t in 0..<length {
                                let token = hidden + (start + t) * h
                                for j in 0..<h { sum[j] += Double(token[j]) }
                            }
                            let divisor = mode == .mean ? Double(length) : Double(length).squareRoot()
                            for j in 0..<h { target[j] = Float(sum[j] / divisor) }
                        }
                        column += h
                    }
                    if normalize { EmbeddingRows.normalize(row, count: width) }
                }
            }
        }
        return Matrix(unchecked: values, rows: count, columns: width)
    }
}
