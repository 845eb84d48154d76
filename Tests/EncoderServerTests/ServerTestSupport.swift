import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import TransformerEncoder
import XCTest
import EncoderTestSupport
@testable import EncoderServer

/// Paths, the default model, reference embeddings and small HTTP helpers shared by the server tests.
enum ServerTestSupport {
    static let repositoryRoot = Repository.root
    static let fixtures = Repository.fixtures

    /// The default model (all-MiniLM-L6-v2): the shared lookup (`$ENCODER_MODEL`; missing fails when `CI=true`).
    static func modelFolder() throws -> URL { try TestModel.defaultFolder() }

    /// The default model, loaded once for all tests.
    static func encoder() throws -> SentenceEncoder {
        let folder = try modelFolder()
        return try sharedEncoder.withLock { shared in
            if let shared { return shared }
            let encoder = try SentenceEncoder(modelFolder: folder)
            shared = encoder
            return encoder
        }
    }
    private static let sharedEncoder = Mutex<SentenceEncoder?>(nil)

    /// The sentence-transformers references of `minilm_sentences.jsonl` (shared reader).
    static func referenceSentences() throws -> [ReferenceSentence] { try ReferenceSentence.all() }

    /// A server over the default model with test-friendly limits (ephemeral port).
    static func server(
        configure: (inout ServerConfiguration) -> Void = { _ in }, backend: (any EmbeddingBackend)? = nil,
        reranker: (any Reranker)? = nil
    ) throws -> EmbeddingServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let backend = try backend ?? SentenceEncoderBackend(encoder: encoder())
        var logger = Logger(label: "encoder.serve.tests")
        logger.logLevel = .warning
        return try EmbeddingServer(configuration: configuration, backend: backend, reranker: reranker, logger: logger)
    }

    static func json(_ object: Any) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    static func parse(_ buffer: ByteBuffer?) throws -> Any {
        guard let buffer else { throw TestFailure("no body") }
        return try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
    }

    /// `[[Float]]` from a JSON array of arrays of numbers.
    static func floatRows(_ value: Any) throws -> [[Float]] {
        guard let rows = value as? [[Any]] else { throw TestFailure("not an array of arrays: \(value)") }
        return try rows.map { row in
            try row.map { item in
                guard let number = item as? NSNumber else { throw TestFailure("not a number: \(item)") }
                return number.floatValue
            }
        }
    }

    /// Largest absolute difference between two vectors of the same length.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// The first `width` values of `v`, scaled to unit norm.
    static func cutAndNormalize(_ v: [Float], _ width: Int) -> [Float] {
        let head = Array(v.prefix(width))
        let norm = head.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        return head.map { Float(Double($0) / norm) }
    }

    /// The `error` and `error_type` of a JSON error body.
    static func errorBody(_ buffer: ByteBuffer?) throws -> (error: String, type: String) {
        guard let object = try parse(buffer) as? [String: Any],
            let error = object["error"] as? String, let type = object["error_type"] as? String
        else { throw TestFailure("not a JSON error body: \(String(buffer: buffer ?? ByteBuffer()))") }
        return (error, type)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A backend that forwards to another one but holds each forward pass until ``release()``: tests use it
/// to fill the queue deterministically (429, batching, draining).
final class GatedBackend: EmbeddingBackend, @unchecked Sendable {
    let base: any EmbeddingBackend
    private let gate = DispatchSemaphore(value: 0)
    private let passes = Mutex<[(inputs: Int, tokens: Int)]>([])
    let started = DispatchSemaphore(value: 0)

    init(_ base: any EmbeddingBackend) { self.base = base }

    var modelName: String { base.modelName }
    var dimension: Int { base.dimension }
    var maxInputLength: Int { base.maxInputLength }
    var normalizes: Bool { base.normalizes }
    var prompts: [String: String] { base.prompts }
    var defaultPromptName: String? { base.defaultPromptName }
    func tokenize(_ text: String) -> TokenizedText { base.tokenize(text) }
    func promptLength(_ prompt: String) -> Int { base.promptLength(prompt) }
    func token(forID id: Int32) -> String? { base.token(forID: id) }
    func forward(_ sequences: [TokenSequence], promptLength: Int) throws(EncoderError) -> Matrix {
        passes.withLock { $0.append((sequences.count, sequences.reduce(0) { $0 + $1.count })) }
        started.signal()
        gate.wait()
        return try base.forward(sequences, promptLength: promptLength)
    }

    /// Lets `count` forward passes (waiting or future) run.
    func release(_ count: Int = 1) { for _ in 0..<count { gate.signal() } }
    /// Inputs and real tokens per forward pass so far.
    var passSizes: [(inputs: Int, tokens: Int)] { passes.withLock { $0 } }
}

/// Waits until `condition` holds, polling (for state reached through other tasks), or fails after `seconds`.
func waitUntil(
    _ what: String, seconds: Double = 30, state: () -> String = { "" }, releasing gated: GatedBackend? = nil,
    _ condition: () -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            gated?.release(10_000)  // let blocked requests finish so the test can end
            throw TestFailure("timed out waiting for \(what) \(state())")
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// One request over a new loopback connection (the test client keeps one request per connection in flight).
func send(
    port: Int, _ method: HTTPRequest.Method, _ path: String, body: ByteBuffer? = nil, headers: HTTPFields = [:]
) async throws -> TestClient.Response {
    let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(120)))
    client.connect()
    do {
        let response = try await client.execute(TestClient.Request(path, method: method, authority: "127.0.0.1", headers: headers, body: body))
        try await client.shutdown()
        return response
    } catch {
        try? await client.shutdown()
        throw error
    }
}
