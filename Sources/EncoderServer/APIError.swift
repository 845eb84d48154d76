import Foundation
import Hummingbird

/// A request that failed, answered as JSON in text-embeddings-inference's shape:
/// `{"error": "…", "error_type": "…"}` with the HTTP status that says why.
///
/// | status | error_type   | when |
/// |--------|--------------|------|
/// | 400    | Validation   | the body is not JSON |
/// | 401    | Unauthorized | `--api-key` is set and the request's bearer token is missing or wrong |
/// | 404    | NotFound     | no such route, or `/rerank` without a reranking model |
/// | 413    | Validation   | the body is over the size limit, a batch over `--max-client-batch-size`, an input over the model's limit with `truncate: false` |
/// | 422    | Validation   | a field is missing, of the wrong type or out of range |
/// | 429    | Overloaded   | `--max-concurrent-requests` requests are already queued or running |
/// | 500    | Backend      | the model failed on an accepted input |
/// | 503    | Unhealthy    | the server is shutting down |
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code.
    public let status: HTTPResponse.Status
    /// A sentence for people: what was wrong and, for fields, which one.
    public let message: String
    /// A machine-readable kind, as text-embeddings-inference names them.
    public let type: String

    public init(status: HTTPResponse.Status, message: String, type: String) {
        self.status = status
        self.message = message
        self.type = type
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    static func invalidJSON(_ reason: String) -> APIError {
        APIError(status: .badRequest, message: "invalid JSON body: \(reason)", type: "Validation")
    }
    static func invalidField(_ field: String, _ reason: String) -> APIError {
        APIError(status: .unprocessableContent, message: "`\(field)` \(reason)", type: "Validation")
    }
    static func tooLarge(_ reason: String) -> APIError {
        APIError(status: .contentTooLarge, message: reason, type: "Validation")
    }
    static let unauthorized = APIError(
        status: .unauthorized, message: "missing or wrong API key: send `Authorization: Bearer <key>`", type: "Unauthorized")
    static func overloaded(limit: Int) -> APIError {
        APIError(
            status: .tooManyRequests,
            message: "model is overloaded: \(limit) requests are already queued or running (--max-concurrent-requests)",
            type: "Overloaded")
    }
    static let shuttingDown = APIError(
        status: .serviceUnavailable, message: "the server is shutting down", type: "Unhealthy")
    static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, message: message, type: "NotFound")
    }
    static func backend(_ reason: String) -> APIError {
        APIError(status: .internalServerError, message: "inference failed: \(reason)", type: "Backend")
    }

    /// The JSON response.
    func response() -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error"); writer.string(message)
        writer.key("error_type"); writer.string(type)
        writer.endObject()
        return writer.response(status: status)
    }
}
