// libFuzzer target: the tokenizer (Sources/Tokenizers): loading tokenizer.json / vocab.txt, and encoding text.
//
// Built by Scripts/fuzz in one module with Sources/Tokenizers/*.swift. The first byte picks the mode:
//   0 mod 3  encode the remaining bytes (as UTF-8, invalid sequences replaced) with the all-MiniLM-L6-v2
//            tokenizer, single and as a pair split at the first NUL, with and without truncation;
//   1 mod 3  load the remaining bytes as a tokenizer.json, then encode a few texts with the result;
//   2 mod 3  load the remaining bytes as a vocab.txt, then encode a few texts with the result.
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

@_cdecl("LLVMFuzzerTestOneInput")
public func tokenizerFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch bytes[0] % 3 {
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
    default:
        load({ url throws(TokenizerError) in try BertTokenizer(vocabFile: url, configFile: nil) }, bytes[1...])
    }
    return 0
}
