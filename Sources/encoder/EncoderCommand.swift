import ArgumentParser

/// `encoder`: BERT-family sentence embeddings on the CPU, from Swift.
@main
struct EncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "BLAS-accelerated BERT encoder: sentence embeddings, tokenization and benchmarks.",
        version: EncoderVersion.current,
        subcommands: [
            EmbedCommand.self, TokenizeCommand.self, SearchCommand.self, RerankCommand.self, ServeCommand.self,
            BenchCommand.self,
        ])
}
