import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TransformerEncoder
import XCTest
@testable import EncoderServer

/// `POST /rerank` through a ``CrossEncoderReranker`` on the tiny BERT cross-encoder fixture, against
/// sentence-transformers' `CrossEncoder.predict` (Tests/Fixtures/crossencoder, made by
/// Scripts/make_crossencoder_fixtures.py).
final class RerankEndpointTests: XCTestCase {
    typealias S = ServerTestSupport

    func testRerankMatchesCrossEncoderPredict() async throws {
        let folder = S.fixtures.appendingPathComponent("crossencoder/bert-1label")
        let reranker = try CrossEncoderReranker(crossEncoder: CrossEncoder(modelFolder: folder))
        func lines(_ name: String) throws -> [[String: Any]] {
            try String(decoding: Data(contentsOf: S.fixtures.appendingPathComponent(name)), as: UTF8.self)
                .split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }
        let pairs = try lines("crossencoder/pairs.jsonl")
        let expected: [(logit: Double, score: Double)] = try lines("crossencoder/bert-1label/expected.jsonl").map {
            (try XCTUnwrap(($0["logits"] as? [NSNumber])?.first?.doubleValue), try XCTUnwrap(($0["score"] as? NSNumber)?.doubleValue))
        }
        XCTAssertEqual(pairs.count, expected.count)
        // The documents of the first query, in input order.
        let query = try XCTUnwrap(pairs.first?["query"] as? String)
        let rows = pairs.indices.filter { pairs[$0]["query"] as? String == query }
        let texts = rows.map { pairs[$0]["document"] as? String ?? "" }
        XCTAssertGreaterThan(texts.count, 2)
        let app = try S.server(reranker: reranker).makeApplication()
        try await app.test(.live) { client in
            for raw in [false, true] {
                let body = try S.json(["query": query, "texts": texts, "raw_scores": raw, "return_text": true, "truncate": true])
                try await client.execute(uri: "/rerank", method: .post, body: body) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let results = try XCTUnwrap(try S.parse(response.body) as? [[String: Any]])
                    XCTAssertEqual(results.count, texts.count)
                    XCTAssertEqual(Set(results.compactMap { $0["index"] as? Int }), Set(texts.indices), "every text once")
                    var worst: Double = 0
                    var previous = Double.infinity
                    for result in results {
                        let index = try XCTUnwrap(result["index"] as? Int)
                        let score = try XCTUnwrap((result["score"] as? NSNumber)?.doubleValue)
                        XCTAssertEqual(result["text"] as? String, texts[index])
                        XCTAssertLessThanOrEqual(score, previous, "best first")
                        previous = score
                        let reference = expected[rows[index]]
                        let want = raw ? reference.logit : reference.score
                        worst = max(worst, abs(score - want))
                    }
                    print("POST /rerank (raw_scores \(raw)) vs CrossEncoder.predict: \(texts.count) texts, max |difference| \(worst)")
                    XCTAssertLessThan(worst, 1e-5)
                }
            }
        }
    }

    func testMultiLabelModelIsRefusedAsReranker() throws {
        let folder = S.fixtures.appendingPathComponent("crossencoder/bert-3labels")
        XCTAssertThrowsError(try CrossEncoderReranker(crossEncoder: CrossEncoder(modelFolder: folder))) {
            XCTAssertTrue(String(describing: $0).contains("num_labels"), String(describing: $0))
        }
    }
}
