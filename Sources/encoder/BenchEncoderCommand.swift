import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder bench` (default) / `encoder bench encoder`: the whole encoder on named workloads.
struct BenchEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Time the whole encoder on named workloads, BLAS against naive (or oneDNN).",
        discussion: """
            Workloads: b1_L16, b1_L128, b32_L16, b32_L128, b32_L256, b32_mixed8-128 (random ids in \
            1000...29999 framed by 101 … 102; mixed lengths uniform in 8...128 from a fixed seed), or \
            --tokens FILE: a JSONL file of {"input_ids": [...]} encoded as one batch. Reports real tokens/s, \
            median ms per batch, GFLOP/s, GEMM efficiency (encoder GFLOP/s over one large sgemm's, timed in \
            the same run), peak RSS and the OpenBLAS kernel. The naive backend runs on the first \
            --naive-sequences sequences of a batch when the whole batch would take too long. \
            --backend onednn runs the dense layers on oneDNN in --precision fp32, bf16 or int8.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("workload"), help: "Workloads to run (repeatable); default: all.")
    var workloads: [String] = []

    @Option(help: ArgumentHelp("A JSONL file of {\"input_ids\": [...]} lines, encoded as one batch.", valueName: "file"))
    var tokens: String?

    @Option(help: "Backend: blas, naive, onednn, or both (blas and naive).")
    var backend: BenchBackend = .both

    @OptionGroup var precisionOptions: PrecisionOptions

    @OptionGroup var threadOptions: ThreadOptions

    @Option(parsing: .unconditional, help: "Timed repetitions per workload (the median is reported), 1...1000.")
    var `repeat`: Int = 10

    @Option(parsing: .unconditional, help: "Sequences the naive backend runs from a batch of more than this many (1...1024).")
    var naiveSequences: Int = 2

    var threads: Int? { threadOptions.threads }

    @Flag(help: "Print JSON: one object per workload and backend (a single object when one is run).")
    var json = false

    enum BenchBackend: String, ExpressibleByArgument, CaseIterable { case blas, naive, onednn, both }

    func validate() throws {
        try precisionOptions.check(backend: backend.rawValue, onednn: backend == .onednn)
        try Bounds.check(`repeat`, in: 1...1000, option: "--repeat")
        try Bounds.check(naiveSequences, in: 1...1024, option: "--naive-sequences")
        for name in workloads where EncoderWorkload.named(name) == nil {
            throw ValidationError("unknown workload '\(name)'; known: \(EncoderWorkload.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        try reportingErrors {
            // The token file first: its errors do not wait for the model to load.
            let fromFile = try tokens.map(EncoderWorkload.load(path:))
            let backends: [ComputeBackend]
            switch backend {
            case .both: backends = [.blas, .naive]
            case .blas: backends = [.blas]
            case .naive: backends = [.naive]
            case .onednn: backends = [.onednn]
            }
            // Loaded for the first backend measured, as a user of that backend loads it (a `.onednn` fp32 model
            // keeps its dense weights in oneDNN's layout only, which the peak RSS reports).
            let options = ComputeOptions(
                backend: backends[0], threads: threads,
                precision: backends[0] == .onednn ? precisionOptions.precision : .fp32)
            let model = try BertModel(folder: try modelOptions.folder(), options: options)
            var selected: [EncoderWorkload]
            if let fromFile {
                selected = [fromFile]
            } else if workloads.isEmpty {
                selected = EncoderWorkload.all
            } else {
                selected = workloads.compactMap(EncoderWorkload.named)
            }
            var results: [EncoderBenchmark.Result] = []
            for workload in selected {
                for backend in backends {
                    let result = try EncoderBenchmark.run(
                        workload, model: model,
                        options: ComputeOptions(
                            backend: backend, threads: options.threads,
                            precision: backend == .onednn ? precisionOptions.precision : .fp32),
                        repeats: backend == .naive ? min(`repeat`, 3) : `repeat`,
                        sequenceLimit: backend == .naive ? naiveSequences : nil)
                    results.append(result)
                    if !json { StandardError.write(".") }
                }
            }
            // Timed after the workloads, so its matrices do not count in their peak RSS.
            let reference = EncoderBenchmark.referenceSGEMM(threads: options.threads)
            for i in results.indices { results[i].referenceGFLOPS = reference }
            if json {
                let objects = results.map(\.jsonObject)
                let value: Any = objects.count == 1 ? objects[0] : objects
                let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                StandardError.write("\n")
                print("OpenBLAS core: \(OpenBLAS.coreName); encoder threads: \(options.threads) (OpenBLAS single-threaded inside them)")
                if backends.contains(.onednn) {
                    print("oneDNN \(OneDNN.version), instruction set \(OneDNN.instructionSet) (single-threaded inside the encoder's threads)")
                }
                print(String(format: "reference: one 4096×1536×384 sgemm on %d OpenBLAS threads = %.1f GFLOP/s", options.threads, reference))
                print(EncoderBenchmark.table(results))
            }
        }
    }
}

/// A batch of token sequences to time.
struct EncoderWorkload {
    let name: String
    let sequences: [TokenSequence]

    var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }

    static let all: [EncoderWorkload] = [
        uniform("b1_L16", batch: 1, length: 16),
        uniform("b1_L128", batch: 1, length: 128),
        uniform("b32_L16", batch: 32, length: 16),
        uniform("b32_L128", batch: 32, length: 128),
        uniform("b32_L256", batch: 32, length: 256),
        mixed("b32_mixed8-128", batch: 32, lengths: 8...128),
    ]

    static func named(_ name: String) -> EncoderWorkload? { all.first { $0.name == name } }

    /// Random ids in 1000...29999 framed by [CLS] (101) … [SEP] (102); `length` includes both.
    static func sequence(length: Int, using generator: inout SplitMix64) -> TokenSequence {
        let body = (0..<(length - 2)).map { _ in Int32(1000 + Int(generator.next() % 29000)) }
        return TokenSequence(inputIDs: [101] + body + [102])
    }

    static func uniform(_ name: String, batch: Int, length: Int) -> EncoderWorkload {
        var generator = SplitMix64(seed: UInt64(batch * 1000 + length))
        return EncoderWorkload(name: name, sequences: (0..<batch).map { _ in sequence(length: length, using: &generator) })
    }

    static func mixed(_ name: String, batch: Int, lengths: ClosedRange<Int>) -> EncoderWorkload {
        var generator = SplitMix64(seed: 20_261_122)
        let span = UInt64(lengths.count)
        return EncoderWorkload(name: name, sequences: (0..<batch).map { _ in
            sequence(length: lengths.lowerBound + Int(generator.next() % span), using: &generator)
        })
    }

    /// `--tokens FILE`: one {"input_ids": [...]} (and optionally "token_type_ids") per line; blank lines are
    /// skipped but counted, so errors name the line as an editor numbers it.
    static func load(path: String) throws -> EncoderWorkload {
        let reader = try InputReader(path: path, format: .lines)
        var sequences: [TokenSequence] = []
        while let line = try reader.next()?.text {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let where_ = "\(path): line \(reader.lineNumber)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let idValues = object["input_ids"]
            else { throw CLIError("\(where_) is not an object with an integer array \"input_ids\"") }
            let ids = try integers(idValues, field: "input_ids", at: where_)
            let types = try object["token_type_ids"].map { try integers($0, field: "token_type_ids", at: where_) }
            sequences.append(TokenSequence(inputIDs: ids, tokenTypeIDs: types))
        }
        guard !sequences.isEmpty else { throw CLIError("\(path): no sequences") }
        guard sequences.count <= 4096 else { throw CLIError("\(path): \(sequences.count) sequences; at most 4096 are timed as one batch") }
        return EncoderWorkload(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, sequences: sequences)
    }
}

/// The integers of a JSON array, each in 0...Int32.max; booleans and fractions are not integers.
private func integers(_ value: Any, field: String, at place: String) throws -> [Int32] {
    guard let array = value as? [Any] else { throw CLIError("\(place): \"\(field)\" is not an array") }
    let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))
    return try array.enumerated().map { position, element in
        guard let number = element as? NSNumber, type(of: element) != Bool.self,
              ObjectIdentifier(type(of: element)) != booleanType
        else { throw CLIError("\(place): \"\(field)\"[\(position)] is \(element), not an integer") }
        let double = number.doubleValue
        guard double.rounded() == double, double >= 0, double <= Double(Int32.max) else {
            let shown = double.rounded() == double && abs(double) < 1e18 ? "\(Int64(double))" : "\(number)"
            throw CLIError("\(place): \"\(field)\"[\(position)] is \(shown), outside 0...\(Int32.max)")
        }
        return Int32(double)
    }
}

enum EncoderBenchmark {
    struct Result {
        let workload: String
        let backend: ComputeBackend
        let precision: Precision
        let threads: Int
        let sequences: Int
        let tokens: Int
        let msPerBatch: Double
        let gflops: Double
        var referenceGFLOPS: Double = .nan
        let peakRSSMiB: Double

        var tokensPerSecond: Double { Double(tokens) / (msPerBatch / 1000) }
        var gemmEfficiency: Double { gflops / referenceGFLOPS }

        var jsonObject: [String: Any] {
            [
                "workload": workload, "backend": backend.rawValue, "precision": precision.rawValue, "threads": threads,
                "blas_core": OpenBLAS.coreName, "sequences": sequences, "tokens": tokens,
                "ms_per_batch": msPerBatch, "tokens_per_second": tokensPerSecond, "gflops": gflops,
                "gemm_efficiency": gemmEfficiency, "reference_sgemm_gflops": referenceGFLOPS,
                "peak_rss_mib": peakRSSMiB,
            ]
        }
    }

    /// FLOPs of one forward pass: dense layers (Q, K, V, output, two feed-forward GEMMs) per token plus
    /// attention (Q·Kᵀ and P·V) per sequence, 2 FLOPs per multiply-add.
    static func flops(_ sequences: [TokenSequence], _ config: BertConfiguration) -> Double {
        let h = Double(config.hiddenSize), i = Double(config.intermediateSize), layers = Double(config.numHiddenLayers)
        let tokens = Double(sequences.reduce(0) { $0 + $1.count })
        let dense = 2 * (4 * h * h + 2 * h * i) * tokens
        let attention = sequences.reduce(0.0) { $0 + 4 * Double($1.count) * Double($1.count) * h }
        return layers * (dense + attention)
    }

    static func run(
        _ workload: EncoderWorkload, model: BertModel, options: ComputeOptions, repeats: Int,
        sequenceLimit: Int?
    ) throws -> Result {
        var sequences = workload.sequences
        if let sequenceLimit, sequences.count > sequenceLimit { sequences = Array(sequences.prefix(sequenceLimit)) }
        let tokens = sequences.reduce(0) { $0 + $1.count }
        var sink: Float = 0
        let seconds = try GEMMBenchmark.median(repeats) {
            let output = try model.withLastHiddenState(sequences, options: options) { states, starts in
                Pooling.mean.pool(
                    states: states, hiddenSize: model.configuration.hiddenSize, sequenceStarts: starts,
                    threads: options.threads)
            }
            sink += output.values[0]
        }
        blackHole(sink)
        return Result(
            workload: workload.name, backend: options.backend, precision: options.precision, threads: options.threads,
            sequences: sequences.count, tokens: tokens, msPerBatch: seconds * 1000,
            gflops: flops(sequences, model.configuration) / seconds / 1e9,
            peakRSSMiB: peakResidentMiB())
    }

    /// GFLOP/s of one large sgemm (4096×1536×384, the shape of the feed-forward's first GEMM over
    /// 32 × 128 tokens) with OpenBLAS using `threads` threads itself; restores OpenBLAS's thread count after.
    static func referenceSGEMM(threads: Int) -> Double {
        let previous = OpenBLAS.threadCount
        OpenBLAS.setThreadCount(threads)
        defer { OpenBLAS.setThreadCount(previous) }
        let (m, n, k) = (4096, 1536, 384)
        var generator = SplitMix64(seed: 1)
        let a = try! Matrix(rows: m, columns: k, values: (0..<(m * k)).map { _ in generator.nextFloat() })
        let b = try! Matrix(rows: n, columns: k, values: (0..<(n * k)).map { _ in generator.nextFloat() })
        var c = try! Matrix(rows: m, columns: n)
        let seconds = GEMMBenchmark.median(7) { try! ComputeBackend.blas.multiply(a, b, into: &c, transposeB: .transposed) }
        return 2 * Double(m * n * k) / seconds / 1e9
    }

    /// Peak resident set size of this process so far, in MiB (`ru_maxrss`).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func table(_ results: [Result]) -> String {
        var rows = [["workload", "backend", "precision", "tokens", "ms/batch", "tokens/s", "GFLOP/s", "GEMM eff.", "peak RSS MiB", "BLAS/naive"]]
        for r in results {
            var speedup = "-"
            if r.backend == .naive, let blas = results.first(where: { $0.workload == r.workload && $0.backend == .blas }) {
                speedup = String(format: "%.0f×", blas.tokensPerSecond / r.tokensPerSecond)
            }
            rows.append([
                r.workload, r.backend.rawValue, r.precision.rawValue, "\(r.tokens)", String(format: "%.2f", r.msPerBatch),
                String(format: "%.0f", r.tokensPerSecond), String(format: "%.1f", r.gflops),
                String(format: "%.2f", r.gemmEfficiency), String(format: "%.0f", r.peakRSSMiB), speedup,
            ])
        }
        return TextTable.render(rows)
    }
}

/// Keeps a value alive so the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
