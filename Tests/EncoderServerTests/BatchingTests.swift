import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TransformerEncoder
import XCTest
@testable import EncoderServer

/// Dynamic batching: queued requests share forward passes within the token budget, and every request
/// gets the rows it would get alone.
final class BatchingTests: XCTestCase {
    typealias S = ServerTestSupport

    func testQueuedRequestsShareOnePassAndEqualUnbatchedResults() async throws {
        let encoder = try S.encoder()
        let references = try S.referenceSentences()
        let gated = GatedBackend(SentenceEncoderBackend(encoder: encoder))
        let server = try S.server(backend: gated)
        let app = server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            // The first request occupies the inference thread; 12 more queue up behind it.
            async let blocker = send(port: port, .post, "/embed", body: try S.json(["inputs": references[0].text]))
            try await waitUntil("first pass started", releasing: gated) { gated.passSizes.count == 1 }
            let groups = (0..<12).map { i in [references[1 + i].text, references[13 + i].text] }
            let results = try await withThrowingTaskGroup(of: (Int, TestClient.Response).self) { group in
                for (i, texts) in groups.enumerated() {
                    group.addTask { (i, try await send(port: port, .post, "/embed", body: try S.json(["inputs": texts, "truncate": true]))) }
                }
                try await waitUntil("13 requests in flight", state: { "in flight: \(server.batcher.inFlight)" }, releasing: gated) { server.batcher.inFlight == 13 }
                gated.release(100)
                var results = [TestClient.Response?](repeating: nil, count: groups.count)
                for try await (i, response) in group { results[i] = response }
                return results.compactMap { $0 }
            }
            let blocked = try await blocker
            XCTAssertEqual(blocked.status, .ok)
            // Two passes: the blocker alone, then all 24 queued inputs together.
            XCTAssertEqual(gated.passSizes.map(\.inputs), [1, 24])
            var worst: Float = 0
            for (texts, response) in zip(groups, results) {
                XCTAssertEqual(response.status, .ok)
                let rows = try S.floatRows(try S.parse(response.body))
                XCTAssertEqual(rows.count, 2)
                for (row, text) in zip(rows, texts) {
                    worst = max(worst, S.maxDifference(row, try encoder.encode(text)))
                }
            }
            print("batched (one pass of 24) vs unbatched (one text each): max |difference| \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-6)
        }
    }

    func testPassesRespectTheTokenBudget() async throws {
        let encoder = try S.encoder()
        let references = try S.referenceSentences()
        let gated = GatedBackend(SentenceEncoderBackend(encoder: encoder))
        let server = try S.server(configure: { $0.maxBatchTokens = 256 }, backend: gated)
        let app = server.makeApplication()
        // 31 sentences, long enough together to need several 256-token passes.
        let texts = references.map { $0.text + " " + $0.text + " " + $0.text }
        let tokens = texts.map { encoder.tokenize($0).inputIDs.count }
        XCTAssertGreaterThan(tokens.reduce(0, +), 3 * 256)
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            async let blocker = send(port: port, .post, "/embed", body: try S.json(["inputs": "hold"]))
            try await waitUntil("first pass started", releasing: gated) { gated.passSizes.count == 1 }
            let chunks = stride(from: 0, to: texts.count, by: 8).map { Array(texts[$0..<min($0 + 8, texts.count)]) }
            let responses = try await withThrowingTaskGroup(of: (Int, TestClient.Response).self) { group in
                for (i, chunk) in chunks.enumerated() {
                    group.addTask { (i, try await send(port: port, .post, "/embed", body: try S.json(["inputs": chunk, "truncate": true]))) }
                }
                try await waitUntil("all requests in flight", state: { "in flight: \(server.batcher.inFlight)" }, releasing: gated) { server.batcher.inFlight == chunks.count + 1 }
                gated.release(1000)
                var responses = [TestClient.Response?](repeating: nil, count: chunks.count)
                for try await (i, response) in group { responses[i] = response }
                return responses.compactMap { $0 }
            }
            let blocked = try await blocker
            XCTAssertEqual(blocked.status, .ok)
            let passes = Array(gated.passSizes.dropFirst())
            print("token budget 256: passes (inputs, tokens) \(passes)")
            XCTAssertEqual(passes.reduce(0) { $0 + $1.inputs }, texts.count)
            XCTAssertGreaterThanOrEqual(passes.count, 4)
            for pass in passes { XCTAssertLessThanOrEqual(pass.tokens, 256) }
            // Each pass is greedy: the next queued input would not have fit.
            var rows: [[Float]] = []
            for response in responses { rows += try S.floatRows(try S.parse(response.body)) }
            XCTAssertEqual(rows.count, texts.count)
            for (row, text) in zip(rows, texts) {
                XCTAssertLessThanOrEqual(S.maxDifference(row, try encoder.encode(text)), 1e-6)
            }
        }
    }

    /// 16 clients at once get exactly what one client gets sending the same requests one after another.
    func testSixteenConcurrentClientsMatchSequentialResults() async throws {
        let references = try S.referenceSentences()
        let app = try S.server().makeApplication()
        let requests: [[String]] = (0..<16).map { i in [references[i % references.count].text, references[(i * 7 + 3) % references.count].text] }
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            var sequential: [[[Float]]] = []
            for texts in requests {
                let response = try await send(port: port, .post, "/embed", body: try S.json(["inputs": texts, "truncate": true]))
                XCTAssertEqual(response.status, .ok)
                sequential.append(try S.floatRows(try S.parse(response.body)))
            }
            let concurrent = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
                for (i, texts) in requests.enumerated() {
                    group.addTask {
                        let response = try await send(port: port, .post, "/embed", body: try S.json(["inputs": texts, "truncate": true]))
                        guard response.status == .ok else { throw TestFailure("client \(i): \(response.status)") }
                        return (i, try S.floatRows(try S.parse(response.body)))
                    }
                }
                var results = [[[Float]]](repeating: [], count: requests.count)
                for try await (i, rows) in group { results[i] = rows }
                return results
            }
            var worst: Float = 0
            for (a, b) in zip(sequential, concurrent) {
                XCTAssertEqual(a.count, b.count)
                for (x, y) in zip(a, b) { worst = max(worst, S.maxDifference(x, y)) }
            }
            print("16 concurrent clients vs sequential: max |difference| \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-6)
            let metricsResponse = try await send(port: port, .get, "/metrics")
            let metrics = String(buffer: try XCTUnwrap(metricsResponse.body))
            XCTAssertTrue(metrics.contains(#"encoder_requests_total{route="/embed",status="200"} 32"#), metrics)
        }
    }
}
