import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder embed`: sentence embeddings for every input text, in input order.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with a sentence-transformers model (default: all-MiniLM-L6-v2).",
        discussion: """
            Reads one text per line (or one JSON string per line with --input-format jsonl) and writes one \
            result per input, in input order: JSONL objects {"index": i, "tokens": n, "embedding": [...]} \
            or a float32 .npy array of shape (inputs, dim). Texts given as arguments are embedded instead of \
            the input. Inputs longer than the model's max_seq_length are truncated and counted in the summary \
            printed on stderr. Large inputs stream: memory does not grow with the number of inputs.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup(title: "Prompts and dimensions") var embeddingOptions: EmbeddingOptions

    @Option(help: "Output format: jsonl or npy.")
    var outputFormat: OutputFormat = .jsonl

    @Option(help: ArgumentHelp("Output file, or - for standard output.", valueName: "file"))
    var output: String = "-"

    @Option(help: "Sequences per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Matrix backend: blas or naive.")
    var backend: ComputeBackend = .blas

    @Argument(help: "Texts to embed (instead of --input).")
    var texts: [String] = []

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let start = DispatchTime.now().uptimeNanoseconds
            let encoder = try SentenceEncoder(
                modelFolder: try modelOptions.folder(), options: ComputeOptions(backend: backend, threads: threads))
            let dimension = try embeddingOptions.dimension(of: encoder)
            let writer = try OutputWriter(path: output)
            let npy = outputFormat == .npy ? try NPYWriter(output: writer, columns: dimension) : nil
            let reader: InputReader? = texts.isEmpty
                ? try InputReader(path: inputOptions.input, format: inputOptions.inputFormat.readerFormat) : nil
            var pendingArguments = texts[...]

            var done = 0, tokens = 0, truncated = 0
            var failure: Error?
            let chunkSize = max(batchSize * 8, 256)
            let progress = Progress(enabled: StandardError.isTerminal)
            while failure == nil {
                // Read a chunk; a bad line ends the run after the lines before it are written.
                var chunk: [String] = []
                do {
                    while chunk.count < chunkSize {
                        if let reader {
                            guard let text = try reader.next() else { break }
                            chunk.append(text)
                        } else {
                            guard let text = pendingArguments.popFirst() else { break }
                            chunk.append(text)
                        }
                    }
                } catch {
                    failure = error
                }
                if chunk.isEmpty { break }
                let batch: EmbeddingBatch
                do {
                    batch = try embeddingOptions.encode(encoder, chunk, batchSize: batchSize)
                } catch let EncoderError.invalidInput(sequence, _, reason) {
                    try npy?.finish()
                    throw CLIError("input \(done + sequence): \(reason)")
                }
                for i in 0..<batch.count {
                    let row = batch.embeddings.values[(i * batch.embeddings.columns)..<((i + 1) * batch.embeddings.columns)]
                    if let npy {
                        try npy.append(row)
                    } else {
                        try writer.append("{\"index\":\(done + i),\"tokens\":\(batch.tokenCounts[i]),\"embedding\":\(OutputWriter.jsonArray(row))}\n")
                    }
                }
                try writer.flush()
                done += batch.count
                tokens += batch.tokenCounts.reduce(0, +)
                truncated += batch.truncated.count
                progress.update(done: done)
            }
            try npy?.finish()
            progress.finish()
            if let failure {
                // One line on stderr: the failing input, and how much was written before it (whole records only).
                let reason = (failure as? InputReader.Failure)?.description ?? "\(failure)"
                throw CLIError("\(reason) (\(done) inputs before it were written)")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            StandardError.write(String(
                format: "embedded %d inputs, %d tokens, %d truncated (max %d tokens), %.2f s, %.1f inputs/s\n",
                done, tokens, truncated, encoder.maxSequenceLength, seconds, Double(done) / max(seconds, 1e-9)))
        }
    }
}

/// A one-line progress display on stderr, shown only when stderr is a terminal.
final class Progress {
    let enabled: Bool
    private var last: UInt64 = 0
    init(enabled: Bool) { self.enabled = enabled }

    func update(done: Int) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if now - last > 200_000_000 {
            StandardError.write("\r\(done) inputs…")
            last = now
        }
    }

    func finish() {
        if enabled { StandardError.write("\r\u{1B}[K") }
    }
}
