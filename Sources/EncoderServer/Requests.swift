import Foundation

/// `input` / `inputs`: one text or an array of texts.
enum TextInput: Decodable {
    case single(String)
    case batch([String])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .single(text)
        } else if let texts = try? container.decode([String].self) {
            self = .batch(texts)
        } else {
            throw DecodingError.typeMismatch(
                TextInput.self,
                .init(codingPath: decoder.codingPath, debugDescription: "must be a string or an array of strings"))
        }
    }

    var texts: [String] {
        switch self {
        case .single(let text): return [text]
        case .batch(let texts): return texts
        }
    }
}

/// `POST /v1/embeddings` (OpenAI).
struct OpenAIEmbeddingRequest: Decodable {
    let input: TextInput
    let model: String?
    let encodingFormat: String?
    let dimensions: Int?
    let user: String?

    enum CodingKeys: String, CodingKey {
        case input, model, dimensions, user
        case encodingFormat = "encoding_format"
    }
}

/// `POST /embed` (text-embeddings-inference).
struct TEIEmbedRequest: Decodable {
    let inputs: TextInput
    let normalize: Bool?
    let truncate: Bool?
    let promptName: String?
    let dimensions: Int?

    enum CodingKeys: String, CodingKey {
        case inputs, normalize, truncate, dimensions
        case promptName = "prompt_name"
    }
}

/// `POST /rerank` (text-embeddings-inference).
struct TEIRerankRequest: Decodable {
    let query: String
    let texts: [String]
    let rawScores: Bool?
    let returnText: Bool?
    let truncate: Bool?

    enum CodingKeys: String, CodingKey {
        case query, texts, truncate
        case rawScores = "raw_scores"
        case returnText = "return_text"
    }
}

/// `POST /tokenize` (text-embeddings-inference).
struct TEITokenizeRequest: Decodable {
    let inputs: TextInput
    let addSpecialTokens: Bool?

    enum CodingKeys: String, CodingKey {
        case inputs
        case addSpecialTokens = "add_special_tokens"
    }
}

/// Decodes a request body: not JSON → 400; a field missing, of the wrong type or `null` → 422 naming it.
func decodeBody<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(APIError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
        throw .invalidJSON(context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)
    } catch let DecodingError.keyNotFound(key, context) {
        throw .invalidField(fieldPath(context.codingPath + [key]), "is missing")
    } catch let DecodingError.typeMismatch(_, context) {
        throw .invalidField(fieldPath(context.codingPath), context.debugDescription.isEmpty ? "has the wrong type" : wrongType(context))
    } catch let DecodingError.valueNotFound(_, context) {
        throw .invalidField(fieldPath(context.codingPath), "must not be null")
    } catch let DecodingError.dataCorrupted(context) {
        throw .invalidField(fieldPath(context.codingPath), context.debugDescription)
    } catch {
        throw .invalidJSON("\(error)")
    }
}

private func wrongType(_ context: DecodingError.Context) -> String {
    let text = context.debugDescription
    return text.hasPrefix("must") ? text : "has the wrong type (\(text))"
}

private func fieldPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text.isEmpty ? "body" : text
}
