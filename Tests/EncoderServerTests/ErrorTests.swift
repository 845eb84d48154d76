import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TransformerEncoder
import XCTest
@testable import EncoderServer

/// Every error code, as JSON `{"error", "error_type"}`, and that none disturbs other requests.
final class ErrorTests: XCTestCase {
    typealias S = ServerTestSupport

    private static func assertError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ type: String, mentioning words: String...,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertEqual(response.status, status, String(buffer: response.body), file: file, line: line)
        XCTAssertEqual(response.headers[.contentType], "application/json", file: file, line: line)
        let error = try S.errorBody(response.body)
        XCTAssertEqual(error.type, type, file: file, line: line)
        for word in words { XCTAssertTrue(error.error.contains(word), "\(error.error) lacks \(word)", file: file, line: line) }
    }

    func testInvalidRequestsAnswer400And422And413And404() async throws {
        let app = try S.server { $0.maxClientBatchSize = 4 }.makeApplication()
        try await app.test(.live) { client in
            // 400: not JSON.
            for path in ["/v1/embeddings", "/embed", "/tokenize"] {
                try await client.execute(uri: path, method: .post, body: ByteBuffer(string: "{\"input\": [\"a\"")) {
                    try Self.assertError($0, .badRequest, "Validation", mentioning: "JSON")
                }
            }
            // 422: fields missing, of the wrong type or out of range.
            let invalid: [(String, Any, String)] = [
                ("/v1/embeddings", ["model": "m"], "input"),
                ("/v1/embeddings", ["input": 42], "input"),
                ("/v1/embeddings", ["input": ["a", 3]], "input"),
                ("/v1/embeddings", ["input": [String]()], "input"),
                ("/v1/embeddings", ["input": "a", "encoding_format": "int8"], "encoding_format"),
                ("/v1/embeddings", ["input": "a", "dimensions": 0], "dimensions"),
                ("/v1/embeddings", ["input": "a", "dimensions": 385], "dimensions"),
                ("/v1/embeddings", ["input": "a", "dimensions": "64"], "dimensions"),
                ("/embed", ["inputs": NSNull()], "inputs"),
                ("/embed", ["inputs": "a", "truncate": "yes"], "truncate"),
                ("/tokenize", ["text": "a"], "inputs"),
            ]
            for (path, body, field) in invalid {
                try await client.execute(uri: path, method: .post, body: try S.json(body)) {
                    try Self.assertError($0, .unprocessableContent, "Validation", mentioning: field)
                }
            }
            // 413: more inputs than --max-client-batch-size.
            try await client.execute(uri: "/embed", method: .post, body: try S.json(["inputs": ["a", "b", "c", "d", "e"]])) {
                try Self.assertError($0, .contentTooLarge, "Validation", mentioning: "batch size 5", "4")
            }
            // 404: unknown route, and /rerank without a reranking model.
            try await client.execute(uri: "/v2/nothing", method: .get) {
                try Self.assertError($0, .notFound, "NotFound")
            }
            try await client.execute(uri: "/rerank", method: .post, body: try S.json(["query": "q", "texts": ["a"]])) {
                try Self.assertError($0, .notFound, "NotFound", mentioning: "--rerank-model")
            }
            // The same connection still serves good requests.
            try await client.execute(uri: "/embed", method: .post, body: try S.json(["inputs": ["a", "b"]])) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(try S.floatRows(try S.parse(response.body)).count, 2)
            }
        }
    }

    func testBodyOverLimitAnswers413() async throws {
        let app = try S.server { $0.maxBodyBytes = 1000 }.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let big = try S.json(["inputs": String(repeating: "word ", count: 400)])
            XCTAssertGreaterThan(big.readableBytes, 1000)
            let response = try await send(port: port, .post, "/embed", body: big)
            XCTAssertEqual(response.status, .contentTooLarge)
            let error = try S.errorBody(response.body)
            XCTAssertEqual(error.type, "Validation")
            XCTAssertTrue(error.error.contains("1000 bytes"), error.error)
            // Just under the limit is served.
            let small = try S.json(["inputs": String(repeating: "word ", count: 150)])
            XCTAssertLessThan(small.readableBytes, 1000)
            let ok = try await send(port: port, .post, "/embed", body: small)
            XCTAssertEqual(ok.status, .ok)
        }
    }

    func testAPIKey() async throws {
        let app = try S.server { $0.apiKey = "sekrit-key" }.makeApplication()
        try await app.test(.live) { client in
            let body = try S.json(["input": "hello"])
            try await client.execute(uri: "/v1/embeddings", method: .post, body: body) {
                try Self.assertError($0, .unauthorized, "Unauthorized", mentioning: "Bearer")
            }
            for wrong in ["Bearer sekrit-kez", "Bearer sekrit-key2", "Bearer ", "sekrit-key", "Basic sekrit-key"] {
                try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.authorization: wrong], body: body) {
                    try Self.assertError($0, .unauthorized, "Unauthorized")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) {
                try Self.assertError($0, .unauthorized, "Unauthorized")
            }
            try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.authorization: "Bearer sekrit-key"], body: body) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    /// A full queue answers 429 at once; the requests already queued are not disturbed and get their rows.
    func testOverloadAnswers429WithoutDisturbingQueuedRequests() async throws {
        let encoder = try S.encoder()
        let gated = GatedBackend(SentenceEncoderBackend(encoder: encoder))
        let server = try S.server(configure: { $0.maxConcurrentRequests = 2 }, backend: gated)
        let app = server.makeApplication()
        let texts = ["The cat sat on the mat.", "A man is playing a guitar."]
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            async let first = send(port: port, .post, "/embed", body: try S.json(["inputs": texts[0]]))
            async let second = send(port: port, .post, "/embed", body: try S.json(["inputs": texts[1]]))
            try await waitUntil("two requests in flight", state: { "in flight: \(server.batcher.inFlight)" }, releasing: gated) { server.batcher.inFlight == 2 }
            for _ in 0..<3 {
                let refused = try await send(port: port, .post, "/embed", body: try S.json(["inputs": "one too many"]))
                XCTAssertEqual(refused.status, .tooManyRequests)
                XCTAssertEqual(try S.errorBody(refused.body).type, "Overloaded")
            }
            // Bad requests are refused at the edge and do not take a slot either.
            let bad = try await send(port: port, .post, "/embed", body: ByteBuffer(string: "nope"))
            XCTAssertEqual(bad.status, .badRequest)
            gated.release(10)
            let answers = try await [first, second]
            for (answer, text) in zip(answers, texts) {
                XCTAssertEqual(answer.status, .ok)
                let row = try S.floatRows(try S.parse(answer.body))[0]
                XCTAssertLessThanOrEqual(S.maxDifference(row, try encoder.encode(text)), 1e-6)
            }
            gated.release(10)
            let after = try await send(port: port, .post, "/embed", body: try S.json(["inputs": "room again"]))
            XCTAssertEqual(after.status, .ok)
            let metrics = try await send(port: port, .get, "/metrics")
            XCTAssertTrue(String(buffer: try XCTUnwrap(metrics.body)).contains(#"encoder_requests_total{route="/embed",status="429"} 3"#))
        }
    }
}
