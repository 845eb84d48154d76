import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder tokenize`: token ids exactly as Hugging Face's tokenizer gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print token ids for each input text (special tokens included).",
        discussion: """
            Writes one JSON object per input, in input order: {"index": i, "input_ids": [...], \
            "token_type_ids": [...]}. Nothing is truncated unless --max-length is given.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: InputOptions

    @Option(parsing: .unconditional, help: "Truncate to this many tokens, [CLS] and [SEP] included (2...1048576).")
    var maxLength: Int?

    @Argument(help: "Texts to tokenize (instead of --input).")
    var texts: [String] = []

    func validate() throws {
        if let maxLength { try Bounds.check(maxLength, in: 2...1 << 20, option: "--max-length") }
    }

    func run() throws {
        try reportingErrors {
            let folder = try modelOptions.folder()
            let tokenizer: any TextTokenizer
            do throws(TokenizerError) {
                tokenizer = try TokenizerLoader.load(modelFolder: folder)
            } catch {
                throw EncoderError.tokenizer(error)
            }
            let reader: InputReader? = texts.isEmpty ? try inputOptions.reader() : nil
            let writer = OutputWriter(destination: try OutputDestination(path: nil))
            var pendingArguments = texts[...]
            var index = 0
            var truncated = 0
            defer { try? writer.flush() }
            while true {
                let next: String?
                if let reader { next = try reader.next()?.text } else { next = pendingArguments.popFirst() }
                guard let text = next else { break }
                let encoded = tokenizer.encode(text, maxLength: maxLength)
                if encoded.isTruncated { truncated += 1 }
                try writer.append("{\"index\":\(index),\"input_ids\":\(OutputWriter.jsonArray(encoded.inputIDs)),\"token_type_ids\":\(OutputWriter.jsonArray(encoded.tokenTypeIDs))}\n")
                index += 1
            }
            try writer.flush()
            if maxLength != nil {
                StandardError.write("tokenized \(index) inputs, \(truncated) truncated\n")
            }
        }
    }
}
