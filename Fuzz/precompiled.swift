// libFuzzer target: the SentencePiece parsers (Sources/Tokenizers): PrecompiledCharsmap and UnigramModel.
//
// Built by Scripts/fuzz in one module with Sources/Tokenizers/*.swift. The first byte picks the mode:
//   0 mod 4  the remaining bytes as a decoded precompiled_charsmap blob; if it loads, normalize sample texts;
//   1 mod 4  the remaining bytes as the base64 text of a charsmap (the tokenizer.json field);
//   2 mod 4  the remaining bytes, as UTF-8 text, normalized with the fixture XLM-R charsmap and tokenized
//            by the fixture XLM-R Unigram model (output ids must lie inside the vocabulary);
//   3 mod 4  a Unigram vocabulary made of the remaining bytes (NUL-separated pieces, scores from the bytes,
//            byte fallback when the second byte is odd), then tokenize sample pieces.
// Loading must either succeed or throw a TokenizerError naming the file and field; normalizing and
// tokenizing must never crash.
import Foundation

private struct Reference {
    let charsmap: PrecompiledCharsmap
    let model: UnigramModel
}

nonisolated(unsafe) private var reference: Reference? = nil

private let sampleTexts: [[Unicode.Scalar]] = [
    "Hello, world!", "Ｈéllo ﬁ ① 한국어 👍🏽 ｶﾞ e\u{301}", "", "  \u{0}\u{7F}\u{FEFF}\u{200D}", "ภาษาไทย العربية हिन्दी",
    String(repeating: "ab", count: 80), "🇩🇪🇫🇷👨‍👩‍👧‍👦",
].map { Array($0.unicodeScalars) }

private func referenceComponents() -> Reference {
    if let reference { return reference }
    let path = ProcessInfo.processInfo.environment["FUZZ_XLMR_TOKENIZER_JSON"] ?? "Tests/Fixtures/tokenizer_xlmr/tokenizer.json"
    do {
        // The package's JSON parser (exact numbers; Foundation's JSONSerialization rounds some scores).
        guard case .object(let root) = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path))),
              case .object(let normalizer)? = root["normalizer"], case .array(let steps)? = normalizer["normalizers"],
              case .object(let first)? = steps.first, case .string(let base64)? = first["precompiled_charsmap"],
              case .object(let model)? = root["model"], case .array(let entries)? = model["vocab"],
              case .number(let unknownID)? = model["unk_id"] else {
            fatalError("\(path) is not an XLM-R tokenizer.json (run from the repository root)")
        }
        let vocabulary = entries.map { entry -> (token: String, score: Double) in
            guard case .array(let pair) = entry, pair.count == 2, case .string(let token) = pair[0],
                  case .number(let score) = pair[1] else { fatalError("\(path): model.vocab entry is not [piece, score]") }
            return (token, score)
        }
        let loaded = Reference(
            charsmap: try PrecompiledCharsmap(base64: base64, file: path, field: "normalizer.normalizers[0].precompiled_charsmap"),
            model: try UnigramModel(vocabulary: vocabulary, unknownID: Int(unknownID), byteFallback: false, file: path))
        reference = loaded
        return loaded
    } catch {
        fatalError("cannot load the reference XLM-R tokenizer \(path): \(error)")
    }
}

private func checkError(_ error: TokenizerError, field: String) {
    precondition(error.file == "fuzz.json", "error does not name the file: \(error)")
    precondition(error.field != nil, "error does not name the field: \(error)")
    _ = error.description
}

@_cdecl("LLVMFuzzerTestOneInput")
public func precompiledFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let body = Array(bytes[1...])
    switch bytes[0] % 4 {
    case 0:
        do {
            let charsmap = try PrecompiledCharsmap(blob: body, file: "fuzz.json", field: "precompiled_charsmap")
            for text in sampleTexts { _ = charsmap.normalize(text) }
        } catch {
            checkError(error, field: "precompiled_charsmap")
        }
    case 1:
        do {
            let charsmap = try PrecompiledCharsmap(base64: String(decoding: body, as: UTF8.self), file: "fuzz.json",
                                                   field: "precompiled_charsmap")
            for text in sampleTexts { _ = charsmap.normalize(text) }
        } catch {
            checkError(error, field: "precompiled_charsmap")
        }
    case 2:
        let components = referenceComponents()
        let text = Array(String(decoding: body, as: UTF8.self).unicodeScalars)
        let normalized = components.charsmap.normalize(text)
        var ids: [Int32] = []
        var piece: [Unicode.Scalar] = ["\u{2581}"]
        for scalar in normalized + [" "] {
            if scalar == " " {
                components.model.tokenize(piece[...], into: &ids)
                piece = ["\u{2581}"]
            } else {
                piece.append(scalar)
            }
        }
        for id in ids { precondition(id >= 0 && Int(id) < components.model.vocabularySize, "id \(id) outside the vocabulary") }
    default:
        let byteFallback = body.first.map { $0 & 1 == 1 } ?? false
        var vocabulary: [(token: String, score: Double)] = [("<unk>", 0)]
        if byteFallback {
            for byte in 0...255 { vocabulary.append((UnigramModel.bytePieceName(UInt8(byte)), -20)) }
        }
        for (index, chunk) in body.split(separator: 0, omittingEmptySubsequences: false).enumerated() {
            let token = String(decoding: chunk, as: UTF8.self)
            let score = chunk.first.map { -Double($0) / 8 } ?? (index % 3 == 0 ? .nan : 1e300)
            vocabulary.append((token, score))
        }
        do {
            let model = try UnigramModel(vocabulary: vocabulary, unknownID: Int(bytes[0] >> 2) % (vocabulary.count + 1),
                                         byteFallback: byteFallback, file: "fuzz.json")
            var ids: [Int32] = []
            for text in sampleTexts { model.tokenize(text[...], into: &ids) }
            for (token, _) in vocabulary.prefix(64) { model.tokenize(ArraySlice(Array(token.unicodeScalars)), into: &ids) }
            for id in ids { precondition(id >= 0 && Int(id) < model.vocabularySize, "id \(id) outside the vocabulary") }
        } catch {
            checkError(error, field: "model.vocab")
        }
    }
    return 0
}
