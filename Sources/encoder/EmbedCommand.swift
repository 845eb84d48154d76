import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder embed`: sentence embeddings for every input text, in input order.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with a sentence-transformers model (default: all-MiniLM-L6-v2).",
        discussion: """
            Reads one text per line (or, with --input-format jsonl, one JSON string or one object \
            {"id": …, "text": "…"} per line) and writes one result per input, in input order: JSONL objects \
            {"index": i, "id": …, "tokens": n, "embedding": [...]} ("id" only when the input record has one, \
            copied unchanged) or a float32 .npy array of shape (inputs, dim). Texts given as arguments are \
            embedded instead of the input. Inputs longer than the model's max_seq_length are truncated and \
            counted in the summary printed on stderr. Large inputs stream: memory does not grow with the number \
            of inputs.

            --output FILE is replaced only when the run succeeds (results go to a temporary file in the same \
            folder first); after a failure the whole records written are kept as FILE.partial. Devices, FIFOs \
            and /dev/stdout are written directly.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var batchOptions: BatchOptions
    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup(title: "Prompts and dimensions") var embeddingOptions: EmbeddingOptions

    @Option(help: "Output format: jsonl or npy.")
    var outputFormat: OutputFormat = .jsonl

    @Option(help: ArgumentHelp("Output file, or - for standard output.", valueName: "file"))
    var output: String = "-"

    @Option(help: "Matrix backend: onednn (oneDNN for the dense layers), blas or naive.")
    var backend: ComputeBackend = .onednn

    @OptionGroup var precisionOptions: PrecisionOptions

    @Argument(help: "Texts to embed (instead of --input).")
    var texts: [String] = []

    func validate() throws {
        try precisionOptions.check(backend: backend.rawValue, onednn: backend == .onednn)
    }

    /// Inputs read ahead of the encoder: enough for whole batches, bounded whatever the batch size.
    static func readAhead(batchSize: Int) -> Int { max(batchSize, min(batchSize * 8, 2048), 256) }

    func run() throws {
        try reportingErrors {
            let start = DispatchTime.now().uptimeNanoseconds
            let batchSize = batchOptions.batchSize
            // Everything that can fail before the first result, in order: the output path, the input, the model.
            _ = try OutputDestination.plan(output)
            let reader: InputReader? = texts.isEmpty ? try inputOptions.reader() : nil
            try refuseOverwritingInput(reader)
            let encoder = try SentenceEncoder(
                modelFolder: try modelOptions.folder(),
                options: ComputeOptions(
                    backend: backend, threads: threadOptions.threads, precision: precisionOptions.precision))
            let dimension = try embeddingOptions.dimension(of: encoder)
            let writer = OutputWriter(destination: try OutputDestination(path: output))
            let npy = outputFormat == .npy ? try NPYWriter(output: writer, columns: dimension) : nil
            var pendingArguments = texts[...]

            var done = 0, tokens = 0, truncated = 0
            var failure: Error?
            let chunkSize = Self.readAhead(batchSize: batchSize)
            let progress = Progress(enabled: StandardError.isTerminal)
            do {
                while failure == nil {
                    // Read a chunk; a bad line ends the run after the inputs before it are written.
                    var chunk: [InputRecord] = []
                    do {
                        while chunk.count < chunkSize {
                            if let reader {
                                guard let record = try reader.next() else { break }
                                chunk.append(record)
                            } else {
                                guard let text = pendingArguments.popFirst() else { break }
                                chunk.append(InputRecord(text: text, id: nil))
                            }
                        }
                    } catch {
                        failure = error
                    }
                    if chunk.isEmpty { break }
                    let batch: EmbeddingBatch
                    do {
                        batch = try embeddingOptions.encode(encoder, chunk.map(\.text), batchSize: batchSize)
                    } catch let error as EncoderError {
                        // An input the encoder rejects (bad ids, a non-finite result) names its line; anything
                        // else ends the run as it is. Keep the inputs before the first failing one: encode them
                        // again without it (and without any earlier one that fails in turn), then name it, 1-based.
                        guard var (sequence, firstReason) = Self.rejectedInput(error) else { throw error }
                        var good = Array(chunk.prefix(sequence))
                        while !good.isEmpty {
                            do {
                                let kept = try embeddingOptions.encode(encoder, good.map(\.text), batchSize: batchSize)
                                try write(kept, records: good, from: done, writer: writer, npy: npy)
                                try writer.flush()
                                done += good.count
                                break
                            } catch let error as EncoderError {
                                guard let (earlier, reason) = Self.rejectedInput(error) else { throw error }
                                (sequence, firstReason) = (earlier, reason)
                                good = Array(good.prefix(earlier))
                            }
                        }
                        failure = CLIError("\(reader.map { "\($0.name): line \(done + 1)" } ?? "input \(done + 1)"): \(firstReason)")
                        break
                    }
                    try write(batch, records: chunk, from: done, writer: writer, npy: npy)
                    try writer.flush()
                    done += batch.count
                    tokens += batch.tokenCounts.reduce(0, +)
                    truncated += batch.truncated.count
                    progress.update(done: done)
                }
                if let failure { throw failure }
                if let npy { try npy.finish() } else { try writer.flush() }
                try writer.destination.commit()
            } catch {
                progress.finish()
                throw failed(error, writer: writer, npy: npy)
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            StandardError.write(String(
                format: "embedded %d inputs, %d tokens, %d truncated (max %d tokens), %.2f s, %.1f inputs/s\n",
                done, tokens, truncated, encoder.maxSequenceLength, seconds, Double(done) / max(seconds, 1e-9)))
        }
    }

    /// The input an encoder error blames (0-based within the texts encoded) and why, or nil for other errors.
    static func rejectedInput(_ error: EncoderError) -> (Int, String)? {
        switch error {
        case let .invalidInput(index, _, message): return (index, message)
        case let .nonFiniteHiddenState(index, position):
            return (index, "the encoder's hidden state is NaN or infinite at token \(position) (the weights overflow on this input)")
        default: return nil
        }
    }

    /// Queues one record per row of `batch`: a JSONL line or an npy row.
    private func write(_ batch: EmbeddingBatch, records: [InputRecord], from first: Int, writer: OutputWriter, npy: NPYWriter?) throws {
        let columns = batch.embeddings.columns
        for i in 0..<batch.count {
            let row = batch.embeddings.values[(i * columns)..<((i + 1) * columns)]
            if let npy {
                try npy.append(row)
            } else {
                let id = records[i].id.map { "\"id\":\($0)," } ?? ""
                try writer.append("{\"index\":\(first + i),\(id)\"tokens\":\(batch.tokenCounts[i]),\"embedding\":\(OutputWriter.jsonArray(row))}\n")
            }
        }
    }

    /// The one-line error of a failed run: what failed, and where the whole records written before it are.
    private func failed(_ error: Error, writer: OutputWriter, npy: NPYWriter?) -> CLIError {
        let reason: String
        switch error {
        case let error as InputReader.Failure: reason = error.description
        case let error as OutputFailure: reason = error.description
        case let error as CLIError: reason = error.description
        case let error as EncoderError: reason = error.description
        default: reason = "\(error)"
        }
        let whole = npy?.settleAfterFailure() ?? writer.bytesWritten
        let written = writer.recordsWritten
        if writer.destination.isPrivateFile {
            if let partial = writer.destination.abandon(keepingWholeBytes: written > 0 ? whole : nil) {
                return CLIError("\(reason) (\(written) inputs before it were written to \(partial); \(output) was not changed)")
            }
            return CLIError("\(reason) (no inputs were written; \(output) was not changed)")
        }
        if npy != nil {
            return CLIError("\(reason) (nothing was written to \(writer.name): npy to a stream is written only when the run succeeds)")
        }
        return CLIError("\(reason) (\(written) inputs before it were written to \(writer.name))")
    }

    /// Refuses an output that is the input file (same device and inode), before anything is written.
    private func refuseOverwritingInput(_ reader: InputReader?) throws {
        guard let reader, let input = reader.fileIdentity else { return }
        let outputIdentity: FileIdentity?
        if output == "-" {
            outputIdentity = FileIdentity(descriptor: 1)
        } else {
            outputIdentity = FileIdentity(path: output)
        }
        if outputIdentity == input {
            throw CLIError("\(output == "-" ? "<stdout>" : output): is the input file \(reader.name); refusing to write over the input")
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
