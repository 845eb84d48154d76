import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TransformerEncoder

/// The embedding server: OpenAI's and text-embeddings-inference's HTTP APIs over one
/// ``EmbeddingBatcher``.
///
/// Routes: `POST /v1/embeddings`, `POST /embed`, `POST /rerank`, `POST /tokenize`, `GET /health`,
/// `GET /info`, `GET /metrics`. See `Docs/Server.md` for the request and response shapes.
public struct EmbeddingServer: Sendable {
    public let configuration: ServerConfiguration
    public let backend: any EmbeddingBackend
    public let reranker: (any Reranker)?
    public let batcher: EmbeddingBatcher
    public let metrics: ServerMetrics
    public let logger: Logger

    /// - Throws: ``APIError``-free: a message naming the flag when the configuration is invalid.
    public init(
        configuration: ServerConfiguration, backend: any EmbeddingBackend, reranker: (any Reranker)? = nil,
        logger: Logger = Logger(label: "encoder.serve")
    ) throws(ServerConfigurationError) {
        let problems = configuration.problems(maxInputLength: backend.maxInputLength)
        guard problems.isEmpty else { throw ServerConfigurationError(problems: problems) }
        self.configuration = configuration
        self.backend = backend
        self.reranker = reranker
        self.logger = logger
        metrics = ServerMetrics()
        batcher = EmbeddingBatcher(
            backend: backend, maxBatchTokens: configuration.maxBatchTokens,
            maxConcurrentRequests: configuration.maxConcurrentRequests, metrics: metrics, logger: logger)
    }

    /// The Hummingbird application: HTTP server and batcher, run together by a `ServiceGroup`.
    ///
    /// On graceful shutdown the HTTP server stops accepting connections and finishes the requests it
    /// has; then the batcher (started first, so stopped last) drains its queue.
    /// - Parameter onReady: called once the socket is bound, with the port (useful with port 0).
    public func makeApplication(
        onReady: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIMiddleware(apiKey: configuration.apiKey, metrics: metrics))
        let handlers = Handlers(server: self)
        router.post("/v1/embeddings") { request, _ in try await handlers.openAIEmbeddings(request) }
        router.post("/embed") { request, _ in try await handlers.embed(request) }
        router.post("/rerank") { request, _ in try await handlers.rerank(request) }
        router.post("/tokenize") { request, _ in try await handlers.tokenize(request) }
        router.get("/health") { _, _ in handlers.health() }
        router.get("/info") { _, _ in handlers.info() }
        router.get("/metrics") { _, _ in handlers.metricsText() }
        let host = configuration.host
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: configuration.port), serverName: nil),
            services: [batcher],
            onServerRunning: { channel in
                await onReady(host, channel.localAddress?.port ?? 0)
            },
            logger: logger)
    }
}

/// An invalid ``ServerConfiguration``: every problem, each naming its flag.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}

/// The routes metrics are labelled with; any other path counts as "other" (bounded label values).
private let knownRoutes: Set<String> = [
    "/v1/embeddings", "/embed", "/rerank", "/tokenize", "/health", "/info", "/metrics",
]

/// Turns every failure into a JSON error response, checks the API key, and counts requests by route and status.
struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?
    let metrics: ServerMetrics

    static var routes: Set<String> { knownRoutes }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        let response: Response
        if let apiKey, path != "/health", !Self.authorized(request, key: apiKey) {
            response = APIError.unauthorized.response()
        } else {
            do {
                response = try await next(request, context)
            } catch let error as APIError {
                response = error.response()
            } catch let error as HTTPError {
                switch error.status {
                case .notFound:
                    response = APIError.notFound("no route \(request.method) \(path)").response()
                case .contentTooLarge:
                    response = APIError.tooLarge("request body is over the size limit").response()
                case .methodNotAllowed:
                    response = APIError(status: .methodNotAllowed, message: "\(request.method) is not allowed on \(path)", type: "Validation").response()
                default:
                    response = APIError(status: error.status, message: error.body ?? error.status.reasonPhrase, type: "Validation").response()
                }
            } catch {
                response = APIError.backend("\(error)").response()
            }
        }
        metrics.recordRequest(route: Self.routes.contains(path) ? path : "other", status: response.status.code)
        return response
    }

    /// Whether the request carries `Authorization: Bearer <key>`; compared in constant time.
    static func authorized(_ request: Request, key: String) -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix) else { return false }
        let given = Array(header.utf8.dropFirst(prefix.utf8.count))
        let expected = Array(key.utf8)
        var difference = given.count ^ expected.count
        for i in 0..<expected.count {
            difference |= Int(expected[i] ^ (i < given.count ? given[i] : 0))
        }
        return difference == 0
    }
}
