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

    /// The accepted range of each numeric limit. The upper bounds keep memory bounded: a forward pass of
    /// 131,072 tokens already needs gigabytes of activations at hidden size 1024, and the queue holds up to
    /// `maxConcurrentRequests × maxClientBatchSize` tokenized inputs.
    public static let portRange = 0...65535
    public static let maxBatchTokensRange = 1...(1 << 17)
    public static let maxConcurrentRequestsRange = 1...(1 << 16)
    public static let maxClientBatchSizeRange = 1...(1 << 14)
    public static let maxBodyBytesRange = 1...(1 << 30)

    public init() {}

    /// Problems with the values, each naming its flag; empty when all is well.
    ///
    /// - Parameter maxInputLength: the model's longest input, in tokens: `maxBatchTokens` must hold one.
    ///   `nil` checks only what does not depend on the model (as `encoder serve` does before loading it).
    public func problems(maxInputLength: Int? = nil) -> [String] {
        var problems: [String] = []
        func check(_ value: Int, _ range: ClosedRange<Int>, _ flag: String) {
            if !range.contains(value) {
                problems.append("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check(port, Self.portRange, "--port")
        check(maxBatchTokens, Self.maxBatchTokensRange, "--max-batch-tokens")
        if let maxInputLength, Self.maxBatchTokensRange.contains(maxBatchTokens), maxBatchTokens < maxInputLength {
            problems.append("--max-batch-tokens must be at least the model's max input length \(maxInputLength), got \(maxBatchTokens)")
        }
        check(maxConcurrentRequests, Self.maxConcurrentRequestsRange, "--max-concurrent-requests")
        check(maxClientBatchSize, Self.maxClientBatchSizeRange, "--max-client-batch-size")
        check(maxBodyBytes, Self.maxBodyBytesRange, "the request body limit (bytes)")
        if let apiKey, apiKey.isEmpty { problems.append("--api-key must not be empty") }
        return problems
    }
}
