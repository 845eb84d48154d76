/// A cross-encoder: scores how well each document answers a query. `/rerank` is served when the server
/// has one (`encoder serve --rerank-model DIR`), and answers 404 otherwise.
public protocol Reranker: Sendable {
    /// Name reported at `GET /info`.
    var modelName: String { get }
    /// Raw relevance scores (logits), one per document, in document order.
    ///
    /// - Parameter truncate: when `false`, a (query, document) pair longer than the model's limit throws
    ///   ``RerankerError/inputTooLong(document:tokens:limit:)`` instead of being truncated.
    func scores(query: String, documents: [String], truncate: Bool) throws -> [Float]
}

/// Why a ``Reranker`` refused its input.
public enum RerankerError: Error, Sendable {
    /// The pair (query, document `document`) has `tokens` tokens, more than the model's `limit`.
    case inputTooLong(document: Int, tokens: Int, limit: Int)
}
