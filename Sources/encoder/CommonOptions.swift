import ArgumentParser
import Foundation
import TransformerEncoder

/// The version `encoder --version` prints.
enum EncoderVersion {
    static let current = "0.5.0"
}

/// Options shared by the subcommands that load a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Model folder (Hugging Face / sentence-transformers layout), or a hub id in the local Hugging Face cache.",
        discussion: """
            Default: $ENCODER_MODEL, else models/all-MiniLM-L6-v2 as fetched by Scripts/setup. A hub id \
            (sentence-transformers/all-mpnet-base-v2) is looked up offline in $HF_HUB_CACHE, $HF_HOME/hub or \
            ~/.cache/huggingface/hub.
            """,
        valueName: "dir|id"))
    var model: String?

    func folder() throws -> URL {
        if let model { return try ModelFolder.resolve(model) }
        guard let folder = SentenceEncoder.defaultModelFolder() else {
            throw CLIError("no model folder: pass --model DIR, set ENCODER_MODEL, or run Scripts/setup to fetch all-MiniLM-L6-v2")
        }
        return folder
    }
}

/// `--threads`, shared by every subcommand that runs the encoder or a threaded search.
struct ThreadOptions: ParsableArguments {
    /// Upper bound of `--threads`: more threads than this only multiplies per-thread buffers (attention scores,
    /// top-k selections) without any speed to gain on a real machine.
    static let limit = 256

    @Option(parsing: .unconditional, help: ArgumentHelp("Threads, 1...\(limit) (default: all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads { try Bounds.check(threads, in: 1...Self.limit, option: "--threads") }
    }
}

/// `--batch-size`, shared by every subcommand that embeds texts.
struct BatchOptions: ParsableArguments {
    /// Upper bound of `--batch-size`: 1024 sequences of 512 tokens already need gigabytes of activations.
    static let limit = 1024

    @Option(parsing: .unconditional, help: ArgumentHelp("Sequences per forward pass, 1...\(limit).", valueName: "n"))
    var batchSize: Int = 32

    func validate() throws {
        try Bounds.check(batchSize, in: 1...Self.limit, option: "--batch-size")
    }
}

/// Range checks for numeric options, as usage errors (exit 64) naming the option, the range and the value.
enum Bounds {
    static func check<T: Comparable & CustomStringConvertible>(_ value: T, in range: ClosedRange<T>, option: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}

/// Options shared by the subcommands that read texts.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Input file, or - for standard input.", valueName: "file"))
    var input: String = "-"

    @Option(name: .long, help: ArgumentHelp(
        "Input format: lines (one text per line) or jsonl (one JSON string, or one object with a text field, per line).",
        discussion: #"jsonl objects look like {"id": 7, "text": "…"}: the id (any JSON scalar) is copied to the output line."#))
    var inputFormat: InputFormat = .lines

    @Option(name: .long, help: ArgumentHelp("With --input-format jsonl: the key of an object's text.", valueName: "key"))
    var textField: String = "text"

    @Option(name: .long, help: ArgumentHelp("With --input-format jsonl: the key of an object's id.", valueName: "key"))
    var idField: String = "id"

    func validate() throws {
        guard !textField.isEmpty, !idField.isEmpty else { throw ValidationError("--text-field and --id-field must not be empty") }
        guard textField != idField else { throw ValidationError("--text-field and --id-field must differ, both are '\(textField)'") }
    }

    func reader() throws -> InputReader {
        switch inputFormat {
        case .lines: return try InputReader(path: input, format: .lines)
        case .jsonl: return try InputReader(path: input, format: .jsonl(textField: textField, idField: idField))
        }
    }
}

enum InputFormat: String, ExpressibleByArgument, CaseIterable {
    case lines, jsonl
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, npy
}

extension ComputeBackend: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// `--precision`, on every subcommand that takes `--backend`.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Precision of the dense layers: fp32, bf16 or int8 (bf16 and int8 only with --backend onednn).",
        discussion: "bf16: bf16 weights and activations, fp32 accumulation. int8: s8 weights scaled per output "
            + "channel, u8 activations with a scale and zero point per row, s32 accumulation, for the attention "
            + "and FFN output layers; the layers reading a LayerNorm output (query/key/value, FFN input) run in "
            + "bf16. Attention, softmax, LayerNorm, GELU and pooling stay fp32. A CPU without AVX512-BF16 "
            + "(bf16, int8) or VNNI (int8) is refused with an error."))
    var precision: Precision = .fp32

    /// A usage error (exit 64) when `precision` cannot run on `backend`.
    func check(backend: String, onednn: Bool) throws {
        guard precision == .fp32 || onednn else {
            throw ValidationError("--precision \(precision.rawValue) needs --backend onednn (got --backend \(backend))")
        }
    }
}

/// A failure the CLI reports as one line on stderr, exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error with write(2): a closed or broken stderr loses the text, it never crashes.
enum StandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
        bytes.removeAll()
    }

    static var isTerminal: Bool { isatty(2) != 0 }
}

/// Runs `body`, turning library errors into one clear line on stderr and a non-zero exit.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as EncoderError {
        throw CLIError("\(error.description)")
    } catch let error as CLIError {
        throw error
    } catch let error as InputReader.Failure {
        throw CLIError("\(error.description)")
    } catch let error as OutputFailure {
        throw CLIError("\(error.description)")
    }
}
