import ArgumentParser
import Foundation
import TransformerEncoder

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

/// Options shared by the subcommands that read texts.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Input file, or - for standard input.", valueName: "file"))
    var input: String = "-"

    @Option(name: .long, help: "Input format: lines (one text per line) or jsonl (one JSON string per line).")
    var inputFormat: InputFormat = .lines
}

enum InputFormat: String, ExpressibleByArgument, CaseIterable {
    case lines, jsonl
    var readerFormat: InputReader.Format { self == .lines ? .lines : .jsonl }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, npy
}

extension ComputeBackend: ExpressibleByArgument {}

/// A failure the CLI reports as one line on stderr, exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
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
    }
}
