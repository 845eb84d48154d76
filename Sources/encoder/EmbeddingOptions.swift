import ArgumentParser
import TransformerEncoder

/// `encoder embed`'s sentence-transformers options: prompts and Matryoshka truncation.
struct EmbeddingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A prompt of the model's config_sentence_transformers.json to put before every text (e.g. query).",
        discussion: "Without --prompt-name or --prompt, the model's default_prompt_name applies, if it has one.",
        valueName: "name"))
    var promptName: String?

    @Option(name: .long, help: ArgumentHelp(
        "Text to put before every input (e.g. \"query: \"); wins over --prompt-name. --prompt \"\" uses no prompt.",
        valueName: "text"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp(
        "Keep the first N values of each embedding (Matryoshka models), after the model's own normalization.",
        valueName: "N"))
    var truncateDim: Int?

    @Flag(name: .long, help: "Scale each embedding to unit length after --truncate-dim.")
    var normalize = false

    func validate() throws {
        if let truncateDim, truncateDim <= 0 { throw ValidationError("--truncate-dim must be positive") }
    }

    /// `encoder.encode` with these options.
    func encode(_ encoder: SentenceEncoder, _ texts: [String], batchSize: Int) throws(EncoderError) -> EmbeddingBatch {
        try encoder.encode(
            texts, batchSize: batchSize, prompt: prompt, promptName: promptName, truncateDimension: truncateDim,
            normalize: normalize)
    }

    /// The width of the embeddings written, checked against the model before any input is read.
    func dimension(of encoder: SentenceEncoder) throws(EncoderError) -> Int {
        _ = try encoder.configuration.resolvePrompt(prompt, promptName: promptName)
        return try encoder.outputDimension(truncatedTo: truncateDim)
    }
}
