/// The server's address and limits (the flags of `encoder serve`).
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (reported when the server is ready).
    public var port: Int = 8080
    /// Real tokens per forward pass (text-embeddings-inference's `--max-batch-tokens`).
    public var maxBatchTokens: Int = 16384
    /// Requests queued or running at once; one more is answered 429.
    public var maxConcurrentRequests: Int = 512
    /// Inputs in one request; more is answered 413.
    public var maxClientBatchSize: Int = 32
    /// Largest request body in bytes; more is answered 413.
    public var maxBodyBytes: Int = 2 * 1024 * 1024
    /// When set, every route but `/health` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?

    public init() {}

    /// Problems with the values, each naming its flag; empty when all is well.
    public func problems(maxInputLength: Int) -> [String] {
        var problems: [String] = []
        if !(0...65535).contains(port) { problems.append("--port must be in 0...65535, got \(port)") }
        if maxBatchTokens < maxInputLength {
            problems.append("--max-batch-tokens must be at least the model's max input length \(maxInputLength), got \(maxBatchTokens)")
        }
        if maxConcurrentRequests < 1 { problems.append("--max-concurrent-requests must be positive, got \(maxConcurrentRequests)") }
        if maxClientBatchSize < 1 { problems.append("--max-client-batch-size must be positive, got \(maxClientBatchSize)") }
        if maxBodyBytes < 1 { problems.append("the body limit must be positive, got \(maxBodyBytes)") }
        if let apiKey, apiKey.isEmpty { problems.append("--api-key must not be empty") }
        return problems
    }
}
