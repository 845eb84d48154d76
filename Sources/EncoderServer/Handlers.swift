import Foundation
import Hummingbird
import NIOCore
import TransformerEncoder

/// The route handlers: validate and tokenize at the edge, embed through the batcher, shape the answer.
struct Handlers: Sendable {
    let server: EmbeddingServer
    var backend: any EmbeddingBackend { server.backend }
    var configuration: ServerConfiguration { server.configuration }

    // MARK: Embeddings

    /// `POST /v1/embeddings`: OpenAI's embeddings API. Inputs longer than the model's limit are truncated
    /// (as sentence-transformers and `encoder embed` do); `dimensions` cuts each embedding
    /// (Matryoshka) and re-normalizes it.
    func openAIEmbeddings(_ request: Request) async throws -> Response {
        let body = try decodeBody(OpenAIEmbeddingRequest.self, from: try await collect(request))
        var texts = try checkedTexts(body.input, field: "input")
        let base64: Bool
        switch body.encodingFormat ?? "float" {
        case "float": base64 = false
        case "base64": base64 = true
        case let other: throw APIError.invalidField("encoding_format", "must be \"float\" or \"base64\", got \"\(other)\"")
        }
        let width = try checkedDimensions(body.dimensions)
        // The model's default prompt applies, as in sentence-transformers' encode.
        let prompt = try prompt(named: nil) ?? ""
        if !prompt.isEmpty { texts = texts.map { prompt + $0 } }
        let tokenized = texts.map { backend.tokenize($0) }
        var rows = try await server.batcher.submit(tokenized.map(Self.sequence), promptLength: backend.promptLength(prompt))
        rows = EmbeddingRows.truncated(
            rows, columns: backend.dimension, to: width, normalize: backend.normalizes || width != backend.dimension)
        try Self.checkFinite(rows, columns: width)
        let tokens = tokenized.reduce(0) { $0 + $1.inputIDs.count }

        var json = JSONWriter(capacity: rows.count * 12 + 256)
        json.beginObject()
        json.key("object"); json.string("list")
        json.key("data")
        json.beginArray()
        for index in texts.indices {
            let row = rows[(index * width)..<((index + 1) * width)]
            json.beginObject()
            json.key("object"); json.string("embedding")
            json.key("index"); json.int(index)
            json.key("embedding")
            if base64 { json.string(Self.base64(row)) } else { json.floats(row) }
            json.endObject()
        }
        json.endArray()
        json.key("model"); json.string(backend.modelName)
        json.key("usage")
        json.beginObject()
        json.key("prompt_tokens"); json.int(tokens)
        json.key("total_tokens"); json.int(tokens)
        json.endObject()
        json.endObject()
        return json.response()
    }

    /// `POST /embed`: text-embeddings-inference's embed API, answering `[[Float]]`.
    /// `truncate` defaults to false: an input over the model's limit is an error (413), as in TEI.
    func embed(_ request: Request) async throws -> Response {
        let body = try decodeBody(TEIEmbedRequest.self, from: try await collect(request))
        var texts = try checkedTexts(body.inputs, field: "inputs")
        // As TEI: normalized unless `normalize: false`, which gives the raw pooled embeddings (a model's final
        // Normalize module is left out: the batcher's passes come without it).
        let normalize = body.normalize ?? true
        let width = try checkedDimensions(body.dimensions)
        let prompt = try prompt(named: body.promptName) ?? ""
        if !prompt.isEmpty { texts = texts.map { prompt + $0 } }
        let tokenized = texts.map { backend.tokenize($0) }
        if body.truncate != true {
            for (index, text) in tokenized.enumerated() where text.isTruncated {
                throw APIError.tooLarge(
                    "input \(index) has \(text.untruncatedLength) tokens, more than the model's limit of \(backend.maxInputLength) (send \"truncate\": true to truncate it)")
            }
        }
        var rows = try await server.batcher.submit(tokenized.map(Self.sequence), promptLength: backend.promptLength(prompt))
        rows = EmbeddingRows.truncated(rows, columns: backend.dimension, to: width, normalize: normalize)
        try Self.checkFinite(rows, columns: width)

        var json = JSONWriter(capacity: rows.count * 12 + 16)
        json.beginArray()
        for index in texts.indices { json.floats(rows[(index * width)..<((index + 1) * width)]) }
        json.endArray()
        return json.response()
    }

    // MARK: Reranking

    /// `POST /rerank`: text-embeddings-inference's rerank API, answering `[{index, score, text?}]` best first.
    func rerank(_ request: Request) async throws -> Response {
        guard let reranker = server.reranker else {
            throw APIError.notFound("no reranking model: start the server with --rerank-model DIR to serve /rerank")
        }
        let body = try decodeBody(TEIRerankRequest.self, from: try await collect(request))
        guard !body.texts.isEmpty else { throw APIError.invalidField("texts", "must not be empty") }
        guard body.texts.count <= configuration.maxClientBatchSize else {
            throw APIError.tooLarge(
                "batch size \(body.texts.count) > maximum allowed batch size \(configuration.maxClientBatchSize) (--max-client-batch-size)")
        }
        let query = body.query, texts = body.texts, truncate = body.truncate ?? false
        let raw: [Float]
        do {
            raw = try await server.batcher.onInferenceThread { try reranker.scores(query: query, documents: texts, truncate: truncate) }
        } catch let RerankerError.inputTooLong(document, tokens, limit) {
            throw APIError.tooLarge(
                "query and text \(document) have \(tokens) tokens, more than the model's limit of \(limit) (send \"truncate\": true to truncate)")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.backend("\(error)")
        }
        guard raw.count == texts.count else {
            throw APIError.backend("the reranker returned \(raw.count) scores for \(texts.count) texts")
        }
        let scores = body.rawScores == true ? raw : raw.map { 1 / (1 + Foundation.exp(-$0)) }
        try Self.checkFinite(scores, columns: 1)
        let order = scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }
        var json = JSONWriter()
        json.beginArray()
        for index in order {
            json.beginObject()
            json.key("index"); json.int(index)
            json.key("score"); json.float(scores[index])
            if body.returnText == true { json.key("text"); json.string(texts[index]) }
            json.endObject()
        }
        json.endArray()
        return json.response()
    }

    // MARK: Tokenization and status

    /// `POST /tokenize`: the tokens the model sees for each input, `[[{id, text, special, start, stop}]]`.
    /// `start` and `stop` (character offsets) are `null`: the tokenizer does not track offsets.
    /// `special` marks the post-processor's first and last tokens (`[CLS]`/`[SEP]`, `<s>`/`</s>`).
    func tokenize(_ request: Request) async throws -> Response {
        let body = try decodeBody(TEITokenizeRequest.self, from: try await collect(request))
        let texts = try checkedTexts(body.inputs, field: "inputs")
        let addSpecial = body.addSpecialTokens ?? true
        var json = JSONWriter()
        json.beginArray()
        for text in texts {
            let ids = backend.tokenize(text).inputIDs
            json.beginArray()
            for (position, id) in ids.enumerated() {
                let special = position == 0 || position == ids.count - 1
                if special && !addSpecial { continue }
                json.beginObject()
                json.key("id"); json.int(Int(id))
                json.key("text"); json.string(backend.token(forID: id) ?? "")
                json.key("special"); json.bool(special)
                json.key("start"); json.null()
                json.key("stop"); json.null()
                json.endObject()
            }
            json.endArray()
        }
        json.endArray()
        return json.response()
    }

    /// `GET /health`: 200 while serving, 503 once shutting down.
    func health() -> Response {
        var json = JSONWriter()
        json.beginObject()
        let draining = server.batcher.isDraining
        json.key("status"); json.string(draining ? "shutting down" : "ok")
        json.endObject()
        return json.response(status: draining ? .serviceUnavailable : .ok)
    }

    /// `GET /info`: the model and the limits.
    func info() -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.key("model_id"); json.string(backend.modelName)
        json.key("model_dtype"); json.string("float32")
        json.key("model_type")
        json.beginObject()
        json.key("embedding"); json.beginObject(); json.key("dimension"); json.int(backend.dimension); json.endObject()
        json.endObject()
        json.key("dimension"); json.int(backend.dimension)
        json.key("normalized"); json.bool(backend.normalizes)
        json.key("prompts"); json.beginArray(); for name in backend.prompts.keys.sorted() { json.string(name) }; json.endArray()
        json.key("rerank_model"); if let reranker = server.reranker { json.string(reranker.modelName) } else { json.null() }
        json.key("max_input_length"); json.int(backend.maxInputLength)
        json.key("max_batch_tokens"); json.int(configuration.maxBatchTokens)
        json.key("max_concurrent_requests"); json.int(configuration.maxConcurrentRequests)
        json.key("max_client_batch_size"); json.int(configuration.maxClientBatchSize)
        json.key("max_body_bytes"); json.int(configuration.maxBodyBytes)
        json.key("auto_truncate"); json.bool(false)
        json.endObject()
        return json.response()
    }

    /// `GET /metrics`: Prometheus text exposition.
    func metricsText() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: server.metrics.exposition())))
    }

    // MARK: Validation helpers

    /// The body's bytes, at most `maxBodyBytes` (else 413).
    private func collect(_ request: Request) async throws -> [UInt8] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("request body is over the limit of \(configuration.maxBodyBytes) bytes")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge("request body is over the limit of \(configuration.maxBodyBytes) bytes")
        }
        return Array(buffer.readableBytesView)
    }

    /// The texts of a request: not empty (422), at most `--max-client-batch-size` (413).
    private func checkedTexts(_ input: TextInput, field: String) throws(APIError) -> [String] {
        let texts = input.texts
        guard !texts.isEmpty else { throw .invalidField(field, "must not be empty") }
        guard texts.count <= configuration.maxClientBatchSize else {
            throw .tooLarge(
                "batch size \(texts.count) > maximum allowed batch size \(configuration.maxClientBatchSize) (--max-client-batch-size)")
        }
        return texts
    }

    /// The width asked for by `dimensions`: 1...dimension, the full width when absent.
    private func checkedDimensions(_ dimensions: Int?) throws(APIError) -> Int {
        guard let dimensions else { return backend.dimension }
        guard (1...backend.dimension).contains(dimensions) else {
            throw .invalidField("dimensions", "must be in 1...\(backend.dimension), got \(dimensions)")
        }
        return dimensions
    }

    /// The prompt text named by `prompt_name` (or the model's default prompt), `nil` for none.
    private func prompt(named name: String?) throws(APIError) -> String? {
        guard let name else { return backend.defaultPromptName.flatMap { backend.prompts[$0] } }
        guard let text = backend.prompts[name] else {
            let known = backend.prompts.keys.sorted()
            throw .invalidField(
                "prompt_name",
                known.isEmpty ? "names no prompt: this model has none" : "must be one of \(known.joined(separator: ", ")), got \"\(name)\"")
        }
        return text
    }

    static func sequence(_ text: TokenizedText) -> TokenSequence {
        TokenSequence(inputIDs: text.inputIDs, tokenTypeIDs: text.tokenTypeIDs)
    }

    /// Throws naming the first input (row of `columns` values) holding a NaN or an infinity.
    static func checkFinite(_ values: [Float], columns: Int) throws(APIError) {
        if let row = EmbeddingRows.firstNonFiniteRow(values, columns: columns) {
            throw .backend("the model produced a non-finite value (NaN or infinity) for input \(row)")
        }
    }

    /// Little-endian float32 bytes in base64 (OpenAI's `encoding_format: "base64"`).
    static func base64(_ values: ArraySlice<Float>) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
