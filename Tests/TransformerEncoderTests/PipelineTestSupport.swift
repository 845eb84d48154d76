import Foundation
@testable import TransformerEncoder

extension SentenceModules {
    /// The encoder's output for `sequences` through these modules, as ``SentenceEncoder`` runs each batch:
    /// for tests that start from token ids.
    func embed(_ sequences: [TokenSequence], model: EncoderModel, options: ComputeOptions? = nil) throws -> Matrix {
        let options = options ?? model.defaultOptions
        return embed(try model.encode(sequences, options: options), options: options)
    }

    /// The modules of `folder` for `model`.
    static func of(_ folder: URL, model: EncoderModel) throws -> SentenceModules {
        try SentenceModules(modelFolder: folder, hiddenSize: model.configuration.hiddenSize)
    }

    /// `pooling` followed by `Normalize` when `normalize` is set, for `model`.
    static func pooling(_ pooling: Pooling, normalize: Bool, model: EncoderModel) throws -> SentenceModules {
        try SentenceModules(
            pooling: pooling, steps: normalize ? [.normalize] : [], transformerFolder: URL(fileURLWithPath: "/"),
            hiddenSize: model.configuration.hiddenSize)
    }
}
