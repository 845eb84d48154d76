import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder bench`: benchmarks of the encoder and of its matrix layer.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the whole encoder (default) or its GEMMs, BLAS against naive.",
        subcommands: [BenchEncoderCommand.self, BenchGEMMCommand.self, BenchTokenizeCommand.self],
        defaultSubcommand: BenchEncoderCommand.self)
}

/// `encoder bench gemm`: BLAS against naive on the GEMM shapes of a BERT layer.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time cblas_sgemm against the naive backend (and oneDNN) on the GEMM shapes of a BERT layer.",
        discussion: """
            Shapes are those of one BERT layer's dense projections, C(tokens×n) = X(tokens×k)·Wᵀ: \
            attention (n = k = hidden), intermediate (n = 4·hidden, k = hidden) and output (n = hidden, k = 4·hidden), \
            for hidden 384 and 768. Each BLAS result is checked against the naive one before it is timed; \
            naive is skipped on shapes that would take longer than --naive-budget seconds. The oneDNN columns \
            run the product as the onednn backend does (weights prepared once, rows split across the encoder's \
            threads, oneDNN single-threaded in each) in fp32, bf16 and int8 ("refused" where the CPU lacks \
            AVX512-BF16 or VNNI).
            """)

    /// Bounds of `--hidden` and `--tokens`: the largest matrix, tokens × 4·hidden floats, stays within 512 MiB.
    static let hiddenLimit = 4096
    static let tokenLimit = 8192

    @Option(help: "Hidden sizes to benchmark (comma-separated, each 1...\(Self.hiddenLimit)).")
    var hidden: String = "384,768"

    @Option(help: "Token counts (GEMM rows) to benchmark (comma-separated, each 1...\(Self.tokenLimit)).")
    var tokens: String = "16,64,256,1024,4096"

    @Option(parsing: .unconditional, help: "Skip the naive backend on a shape whose estimated time exceeds this many seconds (0...3600).")
    var naiveBudget: Double = 3

    @Option(parsing: .unconditional, help: "Timed repetitions per shape and backend (the median is reported), 1...1000.")
    var `repeat`: Int = 5

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    func validate() throws {
        try Bounds.check(`repeat`, in: 1...1000, option: "--repeat")
        guard naiveBudget.isFinite else { throw ValidationError("--naive-budget must be a number of seconds, got \(naiveBudget)") }
        try Bounds.check(naiveBudget, in: 0...3600, option: "--naive-budget")
        _ = try parseList(hidden, name: "--hidden", limit: Self.hiddenLimit)
        _ = try parseList(tokens, name: "--tokens", limit: Self.tokenLimit)
    }

    func run() throws {
        let hiddenSizes = try parseList(hidden, name: "--hidden", limit: Self.hiddenLimit)
        let tokenCounts = try parseList(tokens, name: "--tokens", limit: Self.tokenLimit)
        var shapes: [GEMMBenchmark.Shape] = []
        for h in hiddenSizes {
            for m in tokenCounts {
                for (n, k, label) in [(h, h, "attention"), (4 * h, h, "intermediate"), (h, 4 * h, "output")] {
                    shapes.append(GEMMBenchmark.Shape(m: m, n: n, k: k, label: label))
                }
            }
        }
        let threads = OpenBLAS.threadCount
        // The encoder's split first, before any threaded OpenBLAS call (see GEMMBenchmark.split).
        // oneDNN too: its products run on the encoder's threads, which OpenBLAS's spinning threads would slow.
        var splits: [Double] = []
        var oneDNNRates: [GEMMBenchmark.OneDNNRates] = []
        OpenBLAS.setThreadCount(1)
        for shape in shapes {
            splits.append(try GEMMBenchmark.split(shape, repeats: `repeat`, threads: threads))
            oneDNNRates.append(try GEMMBenchmark.oneDNN(shape, repeats: `repeat`, threads: threads))
            if !json { FileHandle.standardError.write(Data(".".utf8)) }
        }
        OpenBLAS.setThreadCount(threads)
        var results: [GEMMBenchmark.Result] = []
        var naiveRate: Double? = nil  // GFLOP/s of the naive loops, measured once on a mid-size shape
        for (index, (shape, split)) in zip(shapes, splits).enumerated() {
            let estimate = naiveRate.map { shape.flops / ($0 * 1e9) } ?? 0
            var result = try GEMMBenchmark.run(
                shape, repeats: `repeat`, runNaive: estimate <= naiveBudget, threads: threads, splitGFLOPS: split)
            result.oneDNN = oneDNNRates[index]
            if let g = result.naiveGFLOPS { naiveRate = g }
            results.append(result)
            if !json { FileHandle.standardError.write(Data(".".utf8)) }
        }
        if json {
            let objects = results.map { $0.jsonObject }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            FileHandle.standardError.write(Data("\n".utf8))
            print("OpenBLAS core: \(OpenBLAS.coreName), threads: \(OpenBLAS.threadCount)")
            print("oneDNN \(OneDNN.version), instruction set \(OneDNN.instructionSet)")
            print("BLAS: one cblas_sgemm on OpenBLAS's threads; split: rows split across as many encoder threads, OpenBLAS single-threaded in each")
            print("oneDNN fp32/bf16/int8: the same split, oneDNN single-threaded in each, weights prepared once")
            print(GEMMBenchmark.table(results))
        }
    }

    private func parseList(_ text: String, name: String, limit: Int) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count <= 64, values.allSatisfy({ (1...limit).contains($0 ?? 0) }) else {
            throw ValidationError("\(name) takes up to 64 integers in 1...\(limit) separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }
}
