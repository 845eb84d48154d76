import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder bench tokenize`: single-threaded tokenizer throughput (tokens/s) per tokenizer on a corpus,
/// to compare with Hugging Face `tokenizers` run by `Scripts/bench_tokenizers.py` on the same files.
struct BenchTokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenizer throughput, single-threaded, in tokens per second.",
        discussion: """
            Encodes every line of --corpus (one text per line, special tokens included, no truncation \
            unless --max-length) with each tokenizer, once to warm up and then --repeat times; prints the \
            median pass. A tokenizer is a tokenizer.json (or vocab.txt) file or a model folder. \
            Scripts/bench_tokenizers.py measures Hugging Face tokenizers on the same corpus and files.
            """)

    @Option(name: .customLong("tokenizer"), help: "A tokenizer.json / vocab.txt file or a model folder (repeatable).")
    var tokenizers: [String] = []

    @Option(help: "A UTF-8 text file, one text per line.")
    var corpus: String

    @Option(help: "Timed passes over the corpus (the median is reported).")
    var `repeat`: Int = 3

    @Option(help: "Truncate each text to this many ids (special tokens included).")
    var maxLength: Int?

    func validate() throws {
        if tokenizers.isEmpty { throw ValidationError("give at least one --tokenizer") }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be in 1...100") }
        if let maxLength, !(2...1_000_000).contains(maxLength) { throw ValidationError("--max-length must be in 2...1000000") }
    }

    func run() throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: corpus))
        } catch {
            throw ValidationError("cannot read the corpus \(corpus): \(error.localizedDescription)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        print("corpus: \(lines.count) lines, \(data.count) bytes; single thread, median of \(`repeat`) passes")
        print("tokenizer                                   model        tokens     seconds    tokens/s       MB/s")
        for path in tokenizers {
            let tokenizer = try Self.load(path)
            var tokens = 0
            for line in lines { tokens += tokenizer.encode(line, maxLength: maxLength).inputIDs.count }
            var times: [Double] = []
            for _ in 0..<`repeat` {
                let start = DispatchTime.now().uptimeNanoseconds
                var check = 0
                for line in lines { check &+= tokenizer.encode(line, maxLength: maxLength).inputIDs.count }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                precondition(check == tokens, "encoding is deterministic")
            }
            let seconds = times.sorted()[times.count / 2]
            let name = path.count > 42 ? "…" + path.suffix(41) : path
            print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + tokenizer.modelType.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%10d  %10.3f  %10.0f  %9.2f", tokens, seconds, Double(tokens) / seconds,
                           Double(data.count) / seconds / 1e6))
        }
    }

    static func load(_ path: String) throws -> PipelineTokenizer {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("no such tokenizer file or folder: \(path)")
        }
        if isDirectory.boolValue { return try PipelineTokenizer(modelFolder: url) }
        if url.lastPathComponent.hasSuffix(".txt") { return try PipelineTokenizer(vocabFile: url, configFile: nil) }
        return try PipelineTokenizer(tokenizerJSON: url)
    }
}
