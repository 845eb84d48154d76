import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

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

    /// Restores the default SIGPIPE action before any command runs, so `encoder embed … | head` ends the way
    /// every Unix filter does (killed by SIGPIPE, status 141, no message) even when the parent process
    /// (a CI runner, Python's `subprocess` with `restore_signals=False`) started it with SIGPIPE ignored;
    /// otherwise the first write after the reader left fails with EPIPE and is reported as an output error.
    /// `serve` is unaffected: SwiftNIO ignores SIGPIPE for itself when it opens its first socket.
    static func main() {
        signal(SIGPIPE, SIG_DFL)
        main(nil)
    }
}
