import ArgumentParser
import EncoderServer
import Foundation
import Logging
import ServiceLifecycle
import TransformerEncoder

/// `encoder serve`: the embedding server (OpenAI and text-embeddings-inference APIs).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve embeddings over HTTP: OpenAI's /v1/embeddings and text-embeddings-inference's /embed.",
        discussion: """
            Routes: POST /v1/embeddings, POST /embed, POST /rerank, POST /tokenize, GET /health, GET /info, \
            GET /metrics (see Docs/Server.md). Requests are batched dynamically: one queue, one forward pass \
            over as many queued inputs as fit in --max-batch-tokens. Prints one line with the URL on stderr \
            when ready. SIGTERM or SIGINT: stop accepting, finish what is queued, exit 0.
            """)

    @Option(help: ArgumentHelp(
        "Model folder, or the name of a folder under models/.",
        discussion: "Default: $ENCODER_MODEL, else models/all-MiniLM-L6-v2 as fetched by Scripts/setup.",
        valueName: "dir|name"))
    var model: String?

    @Option(help: ArgumentHelp("Cross-encoder folder to serve POST /rerank.", valueName: "dir"))
    var rerankModel: String?

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Port, \(range(ServerConfiguration.portRange)); 0 picks a free one (printed when ready).", valueName: "n"))
    var port: Int = 8080

    @OptionGroup var threading: ThreadOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Real tokens per forward pass, \(range(ServerConfiguration.maxBatchTokensRange)) and at least the model's max input length.",
        valueName: "n"))
    var maxBatchTokens: Int = ServerConfiguration().maxBatchTokens

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Requests queued or running at once, \(range(ServerConfiguration.maxConcurrentRequestsRange)); more are answered 429.",
        valueName: "n"))
    var maxConcurrentRequests: Int = ServerConfiguration().maxConcurrentRequests

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Inputs per request, \(range(ServerConfiguration.maxClientBatchSizeRange)); more are answered 413.", valueName: "n"))
    var maxClientBatchSize: Int = ServerConfiguration().maxClientBatchSize

    @Option(help: ArgumentHelp("Require `Authorization: Bearer KEY` on every route but /health.", valueName: "key"))
    var apiKey: String?

    /// The server's configuration from the flags.
    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxBatchTokens = maxBatchTokens
        configuration.maxConcurrentRequests = maxConcurrentRequests
        configuration.maxClientBatchSize = maxClientBatchSize
        configuration.apiKey = apiKey
        return configuration
    }

    /// Every flag out of its range, before any model is loaded (usage error, exit 64); the check against the
    /// model's max input length follows when the server is made.
    func validate() throws {
        let problems = serverConfiguration.problems()
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
    }

    func run() throws {
        let folder = try modelFolder()
        let encoder = try reportingErrors {
            try SentenceEncoder(modelFolder: folder, options: ComputeOptions(threads: threading.threads))
        }
        let reranker: CrossEncoderReranker? = try rerankModel.map { path in
            try reportingErrors {
                try CrossEncoderReranker(crossEncoder: CrossEncoder(
                    modelFolder: URL(fileURLWithPath: path), options: ComputeOptions(threads: threading.threads)))
            }
        }
        let configuration = serverConfiguration

        var logger = Logger(label: "encoder.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let made = Result { () throws(ServerConfigurationError) -> EmbeddingServer in
            try EmbeddingServer(
                configuration: configuration, backend: SentenceEncoderBackend(encoder: encoder), reranker: reranker,
                logger: logger)
        }
        guard case .success(let server) = made else {
            if case .failure(let error) = made { throw CLIError(error.description) }
            return
        }
        let backend = server.backend
        let application = server.makeApplication { host, port in
            StandardError.write(
                "encoder serve: listening on http://\(host):\(port) (model \(backend.modelName), dimension \(backend.dimension), max \(backend.maxInputLength) tokens)\n")
        }

        // The root command is synchronous: run the service group on the concurrency pool and wait here.
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        Task {
            do {
                let group = ServiceGroup(
                    configuration: .init(
                        services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch {
                outcome.failure = "\(error)"
            }
            done.signal()
        }
        done.wait()
        if let failure = outcome.failure { throw CLIError("server failed: \(failure)") }
        StandardError.write("encoder serve: stopped\n")
    }

    /// `--model` as a folder, else as a name under `models/` (here or in a parent folder), else the default model.
    private func modelFolder() throws -> URL {
        guard let model else {
            guard let folder = SentenceEncoder.defaultModelFolder() else {
                throw CLIError("no model folder: pass --model DIR, set ENCODER_MODEL, or run Scripts/setup to fetch all-MiniLM-L6-v2")
            }
            return folder
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: model)
        }
        if !model.contains("/") {
            var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent("models").appendingPathComponent(model)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("config.json").path) {
                    return candidate
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw CLIError("--model \(model): no such folder, and no models/\(model) here or in a parent folder")
    }
}

/// The server task's failure, read after it signalled.
private final class OutcomeBox: @unchecked Sendable {
    var failure: String?
}

/// `1...65535` as help text shows a range.
private func range(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)...\(range.upperBound)" }
