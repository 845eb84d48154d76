import Foundation
import TransformerEncoder

/// A ``Reranker`` over a ``CrossEncoder`` (a sequence-classification folder with one label, as
/// text-embeddings-inference serves): raw logits for `POST /rerank`, which applies the sigmoid itself
/// unless the request asks for `raw_scores`.
public struct CrossEncoderReranker: Reranker {
    public let crossEncoder: CrossEncoder
    public let modelName: String

    /// - Throws: ``EncoderError/unsupported(path:field:value:)`` when the model has more than one label
    ///   (a relevance score is one logit).
    public init(crossEncoder: CrossEncoder, modelName: String? = nil) throws(EncoderError) {
        guard crossEncoder.labelCount == 1 else {
            throw .unsupported(
                path: crossEncoder.folder.appendingPathComponent("config.json").path, field: "num_labels",
                value: "\(crossEncoder.labelCount) (a reranker for /rerank has 1 label)")
        }
        self.crossEncoder = crossEncoder
        self.modelName = modelName ?? crossEncoder.folder.standardizedFileURL.lastPathComponent
    }

    public func scores(query: String, documents: [String], truncate: Bool) throws -> [Float] {
        var sequences: [TokenSequence] = []
        sequences.reserveCapacity(documents.count)
        for (index, document) in documents.enumerated() {
            let tokens = crossEncoder.tokenize(query: query, document: document)
            if tokens.isTruncated && !truncate {
                throw RerankerError.inputTooLong(
                    document: index, tokens: tokens.untruncatedLength, limit: crossEncoder.maxSequenceLength)
            }
            sequences.append(TokenSequence(inputIDs: tokens.inputIDs, tokenTypeIDs: tokens.tokenTypeIDs))
        }
        return try crossEncoder.predict(sequences, output: .logits, batchSize: max(1, sequences.count)).values
    }
}
