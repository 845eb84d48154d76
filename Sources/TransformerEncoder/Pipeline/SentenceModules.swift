import Foundation
import JSONCore

/// The modules of a sentence-transformers folder that turn the encoder's token states into sentence
/// embeddings, in `modules.json` order: one ``Pooling``, then any sequence of ``Dense`` and `Normalize`.
///
/// `modules.json` types are matched by their last component (`sentence_transformers.models.Pooling` and
/// `sentence_transformers.sentence_transformer.modules.pooling.Pooling` alike); any other module is refused
/// with an error naming it.
public struct SentenceModules: Sendable {
    /// One module after pooling.
    public enum Step: Sendable {
        /// A `Dense` layer.
        case dense(Dense)
        /// A `Normalize` module: every row scaled to unit L2 norm.
        case normalize
    }

    /// The pooling module (mean pooling when the folder has none).
    public let pooling: Pooling
    /// The modules after pooling, in order.
    public let steps: [Step]
    /// The folder of the `Transformer` module (the model folder itself unless `modules.json` gives it a path).
    public let transformerFolder: URL
    /// Width of the sentence embeddings the pipeline returns.
    public let dimension: Int

    /// Mean pooling, nothing after it: a folder without `modules.json`.
    public init(pooling: Pooling = .mean, steps: [Step] = [], transformerFolder: URL, hiddenSize: Int) throws(EncoderError) {
        var width = pooling.dimension(hiddenSize: hiddenSize)
        for step in steps {
            if case let .dense(dense) = step {
                guard dense.inFeatures == width else {
                    throw .invalidArgument(name: "steps", reason: "a Dense module takes \(dense.inFeatures) features, but receives \(width)")
                }
                width = dense.outFeatures
            }
        }
        self.pooling = pooling
        self.steps = steps
        self.transformerFolder = transformerFolder
        self.dimension = width
    }

    /// The folder of the Transformer module (config.json, weights, tokenizer): the `path` its `modules.json`
    /// entry gives (empty in current folders, `0_Transformer` in some old ones), else the folder itself.
    public static func transformerFolder(in modelFolder: URL) throws(EncoderError) -> URL {
        let modulesURL = modelFolder.appendingPathComponent("modules.json")
        guard ModelFolder.kind(of: modulesURL.path) != .missing,
              let first = try JSONFile.array(at: modulesURL).first?.objectValue,
              let type = first["type"]?.stringValue, type.split(separator: ".").last == "Transformer",
              let path = first["path"]?.stringValue, !path.isEmpty, !path.hasPrefix("/"),
              !path.split(separator: "/").contains("..")
        else { return modelFolder }
        return modelFolder.appendingPathComponent(path)
    }

    /// Reads `modules.json` (when present) and each module's folder.
    ///
    /// - Parameters:
    ///   - modelFolder: the sentence-transformers folder.
    ///   - hiddenSize: the encoder's width (`hidden_size` of the Transformer module's `config.json`).
    public init(modelFolder: URL, hiddenSize: Int) throws(EncoderError) {
        let modulesURL = modelFolder.appendingPathComponent("modules.json")
        guard ModelFolder.kind(of: modulesURL.path) != .missing else {
            try self.init(transformerFolder: modelFolder, hiddenSize: hiddenSize)
            return
        }
        let path = modulesURL.path
        var transformerFolder: URL?
        var pooling: Pooling?
        var steps: [Step] = []
        var width = 0
        for (index, entry) in try JSONFile.array(at: modulesURL).enumerated() {
            guard let module = entry.objectValue, let type = module["type"]?.stringValue else {
                throw .malformedJSON(path: path, reason: "entry \(index) has no string 'type'")
            }
            let modulePath = module["path"]?.stringValue ?? ""
            guard !modulePath.hasPrefix("/"), !modulePath.split(separator: "/").contains("..") else {
                throw .invalidField(path: path, field: "modules[\(index)].path", reason: "leaves the model folder: '\(modulePath)'")
            }
            let folder = modulePath.isEmpty ? modelFolder : modelFolder.appendingPathComponent(modulePath)
            let kind = type.split(separator: ".").last.map(String.init) ?? type
            let field = "modules[\(index)].type"
            switch kind {
            case "Transformer":
                guard transformerFolder == nil, index == 0 else {
                    throw .invalidField(path: path, field: field, reason: "Transformer must be the first module, and the only one")
                }
                transformerFolder = folder
            case "Pooling":
                guard transformerFolder != nil, pooling == nil else {
                    throw .invalidField(path: path, field: field, reason: "Pooling must follow the Transformer module, once")
                }
                let module = try Pooling(contentsOf: folder.appendingPathComponent("config.json"), hiddenSize: hiddenSize)
                pooling = module
                width = module.dimension(hiddenSize: hiddenSize)
            case "Dense", "Normalize":
                guard pooling != nil else {
                    throw .invalidField(path: path, field: field, reason: "\(kind) before a Pooling module is not supported (token-level \(kind))")
                }
                if kind == "Normalize" {
                    steps.append(.normalize)
                } else {
                    let dense = try Dense(folder: folder, inputWidth: width)
                    width = dense.outFeatures
                    steps.append(.dense(dense))
                }
            default:
                throw .unsupported(path: path, field: field, value: type)
            }
        }
        guard let transformerFolder else {
            throw .invalidField(path: path, field: "modules", reason: "has no Transformer module")
        }
        try self.init(
            pooling: pooling ?? .mean, steps: steps, transformerFolder: transformerFolder,
            hiddenSize: hiddenSize)
    }

    /// The sentence embeddings of a batch: pooling, then every step in order.
    ///
    /// - Parameters:
    ///   - output: the encoder's packed output for the batch.
    ///   - promptLength: the prompt's tokens at the start of every sequence (see ``Pooling/pool(_:promptLength:threads:)``).
    ///   - options: backend and threads for the Dense layers' products and the pooling.
    /// - Returns: (sequences, ``dimension``).
    public func embed(_ output: EncoderOutput, promptLength: Int = 0, options: ComputeOptions) -> Matrix {
        applySteps(to: pooling.pool(output, promptLength: promptLength, threads: options.threads), options: options)
    }

    /// Whether the last module is `Normalize` (every embedding comes out with unit length).
    public var endsWithNormalize: Bool {
        if case .normalize? = steps.last { return true }
        return false
    }

    /// The same from token states lent by ``EncoderModel/withLastHiddenState(_:options:_:)``, without a copy.
    /// states: (tokens, hiddenSize), sequences back to back.
    package func embed(
        states: UnsafeBufferPointer<Float>, hiddenSize: Int, sequenceStarts: [Int], promptLength: Int = 0,
        applyingFinalNormalize: Bool = true, options: ComputeOptions
    ) -> Matrix {
        let pooled = pooling.pool(
            states: states, hiddenSize: hiddenSize, sequenceStarts: sequenceStarts, promptLength: promptLength,
            threads: options.threads)
        return applySteps(to: pooled, applyingFinalNormalize: applyingFinalNormalize, options: options)
    }

    /// The modules after pooling (Dense, Normalize) on pooled rows x: (sequences, pooled width); a final
    /// `Normalize` is left out when `applyingFinalNormalize` is false.
    private func applySteps(to pooled: Matrix, applyingFinalNormalize: Bool = true, options: ComputeOptions) -> Matrix {
        var x = pooled
        let steps = applyingFinalNormalize || !endsWithNormalize ? self.steps[...] : self.steps.dropLast()
        for step in steps {
            switch step {
            case let .dense(dense): x = dense.forward(x, options: options)
            case .normalize: EmbeddingRows.normalizeRows(&x)
            }
        }
        return x
    }
}
