// libFuzzer target: the tokenizer (Sources/Tokenizers): loading tokenizer.json / vocab.txt, and encoding text.
//
// Built by Scripts/fuzz in one module with Sources/Tokenizers/*.swift. The first byte picks the mode:
//   0 mod 5  encode the remaining bytes (as UTF-8, invalid sequences replaced) with the all-MiniLM-L6-v2
//            tokenizer, single and as a pair split at the first NUL, with and without truncation;
//   1 mod 5  load the remaining bytes as a tokenizer.json (every model, normalizer, pre-tokenizer and
//            post-processor parser, regexes, Precompiled maps), then encode a few texts with the result;
//   2 mod 5  load the remaining bytes as a vocab.txt, then encode a few texts with the result;
//   3 mod 5  encode the bytes after the second with a family tokenizer (byte 1 picks RoBERTa byte-level
//            BPE, XLM-R Unigram + Precompiled, BPE with byte fallback, Unigram + Metaspace "first");
//            truncated encodings that stop early must equal full encoding then truncation;
//   4 mod 5  parse the remaining bytes as a Precompiled charsmap blob, then normalize sample texts.
// Loading must either succeed or throw a TokenizerError naming the file; encoding must never crash, and its
// output must be consistent (one type id per id, truncation respected, MiniLM ids inside the vocabulary).
import Foundation

/// The reference tokenizer for mode 0: $FUZZ_TOKENIZER_JSON or the fixture copy of MiniLM's tokenizer.json.
nonisolated(unsafe) private var reference: BertTokenizer? = nil
/// A scratch file per process for the loaders, which read from disk.
private let scratchPath = "/dev/shm/fuzz-tokenizer-\(getpid())"
private let sampleTexts = [
    "Hello, world!", "unaffable [MASK] tokens", "Çà et là — naïve café 東京 🙂", "", "   ", "\u{0}\u{FFFD}x",
    String(repeating: "a", count: 150), "[CLS] [SEP] [PAD] [UNK]",
]

private func referenceTokenizer() -> BertTokenizer {
    if let reference { return reference }
    let path = ProcessInfo.processInfo.environment["FUZZ_TOKENIZER_JSON"] ?? "Tests/Fixtures/tokenizer_minilm/tokenizer.json"
    do {
        let tokenizer = try BertTokenizer(tokenizerJSON: URL(fileURLWithPath: path))
        reference = tokenizer
        return tokenizer
    } catch {
        fatalError("cannot load the reference tokenizer \(path) (run from the repository root): \(error)")
    }
}

private func check(_ encoded: TokenizedText, maxLength: Int?, specials: Int, vocabularySize: Int?) {
    precondition(encoded.inputIDs.count == encoded.tokenTypeIDs.count, "one type id per id")
    precondition(encoded.untruncatedLength >= encoded.inputIDs.count, "untruncated length below the output length")
    if let maxLength {
        precondition(encoded.inputIDs.count <= max(maxLength, specials), "truncation to \(maxLength) not respected")
    }
    if let vocabularySize {
        for id in encoded.inputIDs { precondition(id >= 0 && Int(id) < vocabularySize, "id \(id) outside the vocabulary") }
    }
}

private func exercise(_ tokenizer: BertTokenizer, _ text: String, _ pair: String?, maxLength: Int?, vocabularySize: Int?) {
    let single = tokenizer.encode(text, maxLength: maxLength)
    let singleSpecials = PostProcessor.specialCount(tokenizer.postProcessor.single)
    check(single, maxLength: maxLength, specials: singleSpecials, vocabularySize: vocabularySize)
    if let pair {
        let both = tokenizer.encode(text, pair: pair, maxLength: maxLength)
        let pairSpecials = PostProcessor.specialCount(tokenizer.postProcessor.pair)
        check(both, maxLength: maxLength, specials: pairSpecials, vocabularySize: vocabularySize)
    }
    _ = tokenizer.tokens(of: text)
}

private func load(_ body: (URL) throws(TokenizerError) -> BertTokenizer, _ bytes: ArraySlice<UInt8>) {
    let url = URL(fileURLWithPath: scratchPath)
    guard FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes)) else {
        fatalError("cannot write \(scratchPath)")
    }
    defer { unlink(scratchPath) }
    let tokenizer: BertTokenizer
    do {
        tokenizer = try body(url)
    } catch {
        precondition(error.file == scratchPath, "error does not name the file: \(error)")
        _ = error.description
        return
    }
    for (index, text) in sampleTexts.enumerated() {
        exercise(tokenizer, text, sampleTexts[(index + 1) % sampleTexts.count], maxLength: index % 2 == 0 ? nil : 2 + index,
                 vocabularySize: nil)
    }
}

/// Family tokenizers for mode 3, loaded once from the fixtures ($FUZZ_FIXTURES or Tests/Fixtures).
nonisolated(unsafe) private var families: [PipelineTokenizer] = []

private func familyTokenizers() -> [PipelineTokenizer] {
    if !families.isEmpty { return families }
    let root = ProcessInfo.processInfo.environment["FUZZ_FIXTURES"] ?? "Tests/Fixtures"
    for folder in ["tokenizer_roberta", "tokenizer_xlmr", "tokenizer_bpe_bytes", "tokenizer_unigram_first"] {
        let path = "\(root)/\(folder)/tokenizer.json"
        do {
            families.append(try PipelineTokenizer(tokenizerJSON: URL(fileURLWithPath: path)))
        } catch {
            fatalError("cannot load \(path) (run from the repository root): \(error)")
        }
    }
    return families
}

private func exerciseFamily(_ tokenizer: PipelineTokenizer, _ text: String, _ pair: String, maxLength: Int) {
    var full = tokenizer
    full.stopsEarly = false
    let fast = tokenizer.encode(text, maxLength: maxLength)
    precondition(fast.inputIDs == full.encode(text, maxLength: maxLength).inputIDs, "early stop changed the ids")
    check(fast, maxLength: maxLength, specials: PostProcessor.specialCount(tokenizer.postProcessor.single),
          vocabularySize: tokenizer.vocabularySize)
    let both = tokenizer.encode(text, pair: pair, maxLength: maxLength)
    precondition(both.inputIDs == full.encode(text, pair: pair, maxLength: maxLength).inputIDs, "early stop changed the pair ids")
    check(both, maxLength: maxLength, specials: PostProcessor.specialCount(tokenizer.postProcessor.pair),
          vocabularySize: tokenizer.vocabularySize)
    check(tokenizer.encode(text, maxLength: nil), maxLength: nil, specials: 0, vocabularySize: tokenizer.vocabularySize)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func tokenizerFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch bytes[0] % 5 {
    case 0:
        let tokenizer = referenceTokenizer()
        let body = bytes[1...]
        let text = String(decoding: body, as: UTF8.self)
        let pair: String? = body.firstIndex(of: 0).map { nul in
            String(decoding: body[(nul + 1)...], as: UTF8.self)
        }
        let first = pair == nil ? text : String(decoding: body[..<body.firstIndex(of: 0)!], as: UTF8.self)
        let maxLength: Int? = bytes[0] >= 128 ? Int(bytes[0] % 32) : nil
        exercise(tokenizer, first, pair, maxLength: maxLength, vocabularySize: tokenizer.vocabularySize)
        if maxLength != nil { exercise(tokenizer, first, pair, maxLength: nil, vocabularySize: tokenizer.vocabularySize) }
    case 1:
        load({ url throws(TokenizerError) in try BertTokenizer(tokenizerJSON: url) }, bytes[1...])
    case 2:
        load({ url throws(TokenizerError) in try BertTokenizer(vocabFile: url, configFile: nil) }, bytes[1...])
    case 3:
        guard bytes.count >= 2 else { return 0 }
        let tokenizers = familyTokenizers()
        let body = bytes[2...]
        let text = String(decoding: body, as: UTF8.self)
        // Repeated so chunked early stopping has several chunks to cut.
        let long = Array(repeating: text, count: 1 + 4096 / max(1, body.count)).joined(separator: " ")
        let tokenizer = tokenizers[Int(bytes[1]) % tokenizers.count]
        exerciseFamily(tokenizer, long, text, maxLength: 2 + Int(bytes[1] >> 2))
    default:
        do {
            let charsmap = try PrecompiledCharsmap(blob: Array(bytes[1...]), file: "fuzz", field: "precompiled_charsmap")
            for text in sampleTexts { _ = charsmap.normalize(Array(text.unicodeScalars)) }
            _ = charsmap.normalize(Array(String(decoding: bytes[1...], as: UTF8.self).unicodeScalars))
        } catch {
            precondition(error.field == "precompiled_charsmap", "error does not name the field: \(error)")
        }
    }
    return 0
}
