import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TransformerEncoder
import XCTest
@testable import EncoderServer

/// Every endpoint, in process on an ephemeral port, against the sentence-transformers reference embeddings.
final class EndpointTests: XCTestCase {
    typealias S = ServerTestSupport

    func testOpenAIEmbeddingsMatchReferenceAndShape() async throws {
        let references = try S.referenceSentences()
        let app = try S.server().makeApplication()
        try await app.test(.live) { client in
            let body = try S.json(["input": references.map(\.text), "model": "anything", "encoding_format": "float"])
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/v1/embeddings", body: body)
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json")
                let object = try XCTUnwrap(try S.parse(response.body) as? [String: Any])
                XCTAssertEqual(object["object"] as? String, "list")
                XCTAssertEqual(object["model"] as? String, "all-MiniLM-L6-v2")
                let usage = try XCTUnwrap(object["usage"] as? [String: Any])
                let tokens = references.reduce(0) { $0 + $1.input_ids.count }
                XCTAssertEqual(usage["prompt_tokens"] as? Int, tokens)
                XCTAssertEqual(usage["total_tokens"] as? Int, tokens)
                let data = try XCTUnwrap(object["data"] as? [[String: Any]])
                XCTAssertEqual(data.count, references.count)
                var worst: Float = 0
                for (i, item) in data.enumerated() {
                    XCTAssertEqual(item["object"] as? String, "embedding")
                    XCTAssertEqual(item["index"] as? Int, i)
                    let embedding = try S.floatRows([try XCTUnwrap(item["embedding"])])[0]
                    XCTAssertEqual(embedding.count, 384)
                    worst = max(worst, S.maxDifference(embedding, references[i].embedding))
                }
                print("/v1/embeddings vs sentence-transformers: max |difference| \(worst) over \(references.count) sentences")
                XCTAssertLessThanOrEqual(worst, 1e-5)
            }
        }
    }

    func testOpenAIBase64AndDimensions() async throws {
        let references = Array(try S.referenceSentences().prefix(5))
        let app = try S.server().makeApplication()
        try await app.test(.live) { client in
            // base64: little-endian float32, the full width.
            let body = try S.json(["input": references.map(\.text), "encoding_format": "base64"])
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/v1/embeddings", body: body)
                XCTAssertEqual(response.status, .ok)
                let data = try XCTUnwrap((try S.parse(response.body) as? [String: Any])?["data"] as? [[String: Any]])
                for (i, item) in data.enumerated() {
                    let text = try XCTUnwrap(item["embedding"] as? String)
                    let bytes = try XCTUnwrap(Data(base64Encoded: text))
                    XCTAssertEqual(bytes.count, 384 * 4)
                    let values = Self.littleEndianFloats(bytes)
                    let difference = S.maxDifference(values, references[i].embedding)
                    XCTAssertLessThanOrEqual(difference, 1e-5, "sentence \(i)")
                }
            }
            // dimensions: the first 64 values, re-normalized; with base64 too.
            for format in ["float", "base64"] {
                let cut = try S.json(["input": references.map(\.text), "dimensions": 64, "encoding_format": format])
                do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/v1/embeddings", body: cut)
                    XCTAssertEqual(response.status, .ok)
                    let data = try XCTUnwrap((try S.parse(response.body) as? [String: Any])?["data"] as? [[String: Any]])
                    for (i, item) in data.enumerated() {
                        let values: [Float]
                        if format == "float" {
                            values = try S.floatRows([try XCTUnwrap(item["embedding"])])[0]
                        } else {
                            let bytes = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(item["embedding"] as? String)))
                            values = Self.littleEndianFloats(bytes)
                        }
                        XCTAssertEqual(values.count, 64)
                        let expected = S.cutAndNormalize(references[i].embedding, 64)
                        XCTAssertLessThanOrEqual(S.maxDifference(values, expected), 1e-5, "\(format) sentence \(i)")
                        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
                        XCTAssertEqual(norm, 1, accuracy: 1e-5)
                    }
                }
            }
        }
    }

    func testTEIEmbedSingleBatchAndTruncation() async throws {
        let references = try S.referenceSentences()
        let encoder = try S.encoder()
        let app = try S.server().makeApplication()
        try await app.test(.live) { client in
            // A single string answers a one-row [[Float]].
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": references[0].text]))
                XCTAssertEqual(response.status, .ok)
                let rows = try S.floatRows(try S.parse(response.body))
                XCTAssertEqual(rows.count, 1)
                XCTAssertLessThanOrEqual(S.maxDifference(rows[0], references[0].embedding), 1e-5)
            }
            // An array, normalize true (the default).
            let texts = references.prefix(12).map(\.text)
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": texts, "normalize": true]))
                XCTAssertEqual(response.status, .ok)
                let rows = try S.floatRows(try S.parse(response.body))
                XCTAssertEqual(rows.count, 12)
                let worst = zip(rows, references).map { S.maxDifference($0, $1.embedding) }.max() ?? .infinity
                print("/embed vs sentence-transformers: max |difference| \(worst)")
                XCTAssertLessThanOrEqual(worst, 1e-5)
            }
            // Too long: 413 unless truncate is true (then it equals the truncated encoding).
            let long = String(repeating: "tokens upon tokens ", count: 200)
            XCTAssertGreaterThan(encoder.tokenize(long).untruncatedLength, encoder.maxSequenceLength)
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": [texts[0], long]]))
                XCTAssertEqual(response.status, .contentTooLarge)
                let error = try S.errorBody(response.body)
                XCTAssertEqual(error.type, "Validation")
                XCTAssertTrue(error.error.contains("input 1"), error.error)
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": long, "truncate": true]))
                XCTAssertEqual(response.status, .ok)
                let row = try S.floatRows(try S.parse(response.body))[0]
                let expected = try encoder.encode(long)
                XCTAssertLessThanOrEqual(S.maxDifference(row, expected), 1e-6)
            }
            // normalize false: the mean-pooled token states, without the model's Normalize module (as TEI), computed
            // here from the encoder's own hidden states; their direction is the normalized embedding's.
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": Array(texts.prefix(3)), "normalize": false]))
                XCTAssertEqual(response.status, .ok)
                let rows = try S.floatRows(try S.parse(response.body))
                XCTAssertEqual(rows.count, 3)
                var worst: Float = 0, worstDirection: Float = 0
                for (index, row) in rows.enumerated() {
                    let tokens = encoder.tokenize(texts[index])
                    let output = try encoder.model.encode([TokenSequence(inputIDs: tokens.inputIDs, tokenTypeIDs: tokens.tokenTypeIDs)])
                    let pooled = Pooling.mean.pool(output).values
                    worst = max(worst, S.maxDifference(row, pooled))
                    let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    XCTAssertGreaterThan(abs(norm - 1), 0.05, "raw embedding \(index) has unit length: it was normalized")
                    worstDirection = max(worstDirection, S.maxDifference(row.map { $0 / norm }, references[index].embedding))
                }
                print("/embed normalize false vs mean pooling: max |difference| \(worst); its direction vs sentence-transformers \(worstDirection)")
                XCTAssertLessThanOrEqual(worst, 1e-5)
                XCTAssertLessThanOrEqual(worstDirection, 1e-5)
            }
            // prompt_name with a model that has no prompts.
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": "x", "prompt_name": "query"]))
                XCTAssertEqual(response.status, .unprocessableContent)
                XCTAssertTrue(try S.errorBody(response.body).error.contains("prompt_name"))
            }
        }
    }

    func testTokenizeInfoHealthMetrics() async throws {
        let references = Array(try S.referenceSentences().prefix(4))
        let app = try S.server().makeApplication()
        try await app.test(.live) { client in
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/tokenize", body: try S.json(["inputs": references.map(\.text)]))
                XCTAssertEqual(response.status, .ok)
                let lists = try XCTUnwrap(try S.parse(response.body) as? [[[String: Any]]])
                XCTAssertEqual(lists.count, references.count)
                for (tokens, reference) in zip(lists, references) {
                    XCTAssertEqual(tokens.compactMap { ($0["id"] as? NSNumber)?.int32Value }, reference.input_ids)
                    XCTAssertEqual(tokens.first?["text"] as? String, "[CLS]")
                    XCTAssertEqual(tokens.first?["special"] as? Bool, true)
                    XCTAssertEqual(tokens.dropFirst().first?["special"] as? Bool, false)
                    XCTAssertEqual(tokens.last?["text"] as? String, "[SEP]")
                }
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/tokenize", body: try S.json(["inputs": "hello world", "add_special_tokens": false]))
                let lists = try XCTUnwrap(try S.parse(response.body) as? [[[String: Any]]])
                XCTAssertEqual(lists[0].compactMap { $0["text"] as? String }, ["hello", "world"])
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .get, "/info")
                XCTAssertEqual(response.status, .ok)
                let info = try XCTUnwrap(try S.parse(response.body) as? [String: Any])
                XCTAssertEqual(info["model_id"] as? String, "all-MiniLM-L6-v2")
                XCTAssertEqual(info["dimension"] as? Int, 384)
                XCTAssertEqual(info["max_input_length"] as? Int, 256)
                XCTAssertEqual(info["max_batch_tokens"] as? Int, 16384)
                XCTAssertEqual(info["max_client_batch_size"] as? Int, 32)
                XCTAssertTrue(info["rerank_model"] is NSNull)
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .get, "/health")
                XCTAssertEqual(response.status, .ok)
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: try S.json(["inputs": ["a", "b", "c"]]))
                XCTAssertEqual(response.status, .ok)
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .post, "/embed", body: ByteBuffer(string: "{"))
                XCTAssertEqual(response.status, .badRequest)
            }
            do { let response = try await send(port: try XCTUnwrap(client.port), .get, "/metrics")
                XCTAssertEqual(response.status, .ok)
                let text = String(buffer: try XCTUnwrap(response.body))
                for line in [
                    #"encoder_requests_total{route="/embed",status="200"} 1"#,
                    #"encoder_requests_total{route="/embed",status="400"} 1"#,
                    #"encoder_requests_total{route="/tokenize",status="200"} 2"#,
                    #"encoder_requests_total{route="/health",status="200"} 1"#,
                    "encoder_inputs_embedded_total 3",
                    "encoder_queue_depth 0.0",
                    "encoder_requests_in_flight 0.0",
                ] {
                    XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
                }
                let encoder = try S.encoder()
                let tokens = ["a", "b", "c"].reduce(0) { $0 + encoder.tokenize($1).inputIDs.count }
                XCTAssertTrue(text.contains("encoder_tokens_embedded_total \(tokens)\n"), text)
                for histogram in ["encoder_batch_tokens_count", "encoder_batch_inputs_count", "encoder_queue_duration_seconds_count", "encoder_inference_duration_seconds_count"] {
                    XCTAssertTrue(text.contains(histogram + " "), "missing \(histogram)")
                }
            }
        }
    }

    /// Decodes little-endian float32 bytes, as OpenAI's base64 format specifies them.
    static func littleEndianFloats(_ bytes: Data) -> [Float] {
        let octets = [UInt8](bytes)
        var values: [Float] = []
        for offset in stride(from: 0, to: octets.count - 3, by: 4) {
            var bits = UInt32(octets[offset])
            bits |= UInt32(octets[offset + 1]) << 8
            bits |= UInt32(octets[offset + 2]) << 16
            bits |= UInt32(octets[offset + 3]) << 24
            values.append(Float(bitPattern: bits))
        }
        return values
    }
}
