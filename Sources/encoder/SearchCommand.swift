import ArgumentParser
import Foundation
import JSONCore
import TransformerEncoder

/// `encoder search`: the corpus lines most similar to each query, by cosine similarity of embeddings.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Semantic search: the lines of a corpus file most similar to each query.",
        discussion: """
            Embeds the corpus once (one text per line; blank lines are skipped), then the queries (the \
            QUERY arguments, or one per line of --queries), and prints each query's top K lines, best first, \
            with their cosine similarity. "index" is the 0-based line number in the corpus file. Scores come \
            from one BLAS GEMM per query batch and a partial top-k selection (no sort of the corpus).

            --reduce-dimensions D searches in the top D principal components of the corpus embeddings \
            (PCA fitted with LAPACKE_ssyevd). The embeddings are projected as they are; --center subtracts \
            the corpus mean first, --whiten scales the components to unit variance (usually with --center).

            --evaluate-reduction D1,D2,… measures instead of printing hits: recall@K of the reduced searches \
            against the full-dimension one, and the search speed of each (queries/s, median of --repeat runs, \
            embedding excluded).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Corpus file: one text per line.", valueName: "file"))
    var corpus: String

    @Option(help: ArgumentHelp("File of queries, one per line (in addition to the QUERY arguments).", valueName: "file"))
    var queries: String?

    @Option(name: .customLong("top"), parsing: .unconditional, help: ArgumentHelp("Hits per query, 1...\(Self.topLimit).", valueName: "k"))
    var top: Int = 10

    @OptionGroup var batchOptions: BatchOptions
    @OptionGroup var threadOptions: ThreadOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Search in the top D principal components of the corpus embeddings, 1...\(Self.dimensionLimit).", valueName: "d"))
    var reduceDimensions: Int?

    @Flag(help: "With --reduce-dimensions or --evaluate-reduction: subtract the corpus mean before projecting.")
    var center = false

    @Flag(help: "With --reduce-dimensions or --evaluate-reduction: whiten the principal components.")
    var whiten = false

    @Flag(help: #"Print one JSON object per query: {"query": …, "hits": [{"index": i, "score": s, "text": …}]}."#)
    var json = false

    @Option(help: ArgumentHelp(
        "Measure recall@K and speed of reduced search for these dimensions (comma-separated) instead of printing hits.",
        valueName: "d,…"))
    var evaluateReduction: String?

    @Option(parsing: .unconditional, help: "With --evaluate-reduction: timed repetitions of each search (the median is reported), 1...1000.")
    var `repeat`: Int = 5

    @Option(help: ArgumentHelp(
        "Rerank the retrieved hits with this cross-encoder folder (see `encoder rerank`).", valueName: "dir"))
    var rerankModel: String?

    @Option(help: ArgumentHelp("With --rerank-model: hits retrieved per query and reranked (default: max(--top, 50)).", valueName: "k"))
    var rerankTop: Int?

    @Argument(help: "Queries.")
    var texts: [String] = []

    static let topLimit = 10_000
    static let dimensionLimit = 65_536

    var threads: Int? { threadOptions.threads }
    var batchSize: Int { batchOptions.batchSize }

    func validate() throws {
        try Bounds.check(top, in: 1...Self.topLimit, option: "--top")
        if let reduceDimensions { try Bounds.check(reduceDimensions, in: 1...Self.dimensionLimit, option: "--reduce-dimensions") }
        try Bounds.check(`repeat`, in: 1...1000, option: "--repeat")
        if let evaluateReduction { _ = try Self.parseDimensions(evaluateReduction) }
    }

    func run() throws {
        try reportingErrors {
            do {
                try search()
            } catch let error as SearchError {
                throw CLIError("\(error.description)")
            }
        }
    }

    private func search() throws {
        let evaluated = try evaluateReduction.map(Self.parseDimensions)

        // Read everything before loading the model, so that input errors come first.
        let (corpusTexts, corpusLines) = try readLines(corpus, skipBlank: true)
        guard !corpusTexts.isEmpty else { throw CLIError("\(corpus): the corpus has no non-blank lines") }
        var queryTexts = texts
        if let queries { queryTexts += try readLines(queries, skipBlank: true).texts }
        guard !queryTexts.isEmpty else {
            throw CLIError("no queries: give them as arguments or with --queries FILE")
        }

        let encoder = try SentenceEncoder(
            modelFolder: try modelOptions.folder(), options: ComputeOptions(threads: threads))
        for d in [reduceDimensions].compactMap({ $0 }) + (evaluated ?? []) where d > encoder.dimension {
            throw CLIError("cannot reduce \(encoder.dimension)-dimensional embeddings to \(d) dimensions")
        }
        var clock = Stopwatch()
        let corpusEmbeddings = try encoder.encode(corpusTexts, batchSize: batchSize).embeddings
        let corpusSeconds = clock.lap()
        let queryEmbeddings = try encoder.encode(queryTexts, batchSize: batchSize).embeddings
        let querySeconds = clock.lap()
        StandardError.write(String(
            format: "embedded %d corpus lines in %.2f s, %d queries in %.2f s\n",
            corpusTexts.count, corpusSeconds, queryTexts.count, querySeconds))

        if let evaluated {
            try evaluate(dimensions: evaluated, corpus: corpusEmbeddings, queries: queryEmbeddings)
            return
        }
        let index: SemanticIndex
        if let reduceDimensions {
            index = try SemanticIndex(embeddings: corpusEmbeddings, reducedTo: reduceDimensions, whiten: whiten, centered: center)
            if let reduction = index.reduction {
                StandardError.write(String(
                    format: "reduced %d → %d dimensions (%.1f%% of the variance)\n",
                    reduction.inputDimension, reduction.outputDimension, 100 * reduction.explainedVarianceRatio))
            }
        } else {
            index = try SemanticIndex(embeddings: corpusEmbeddings)
        }
        if let rerankModel {  // retrieve-then-rerank: RerankCommand.swift
            let retrieved = try index.search(queries: queryEmbeddings, top: try retrievalDepth(), threads: threads)
            try printReranked(retrieved, model: rerankModel, queries: queryTexts, texts: corpusTexts, lines: corpusLines)
            return
        }
        let results = try index.search(queries: queryEmbeddings, top: top, threads: threads)
        let writer = OutputWriter(destination: try OutputDestination(path: nil))
        for (q, hits) in results.enumerated() {
            if json {
                let items = hits.map {
                    "{\"index\":\(corpusLines[$0.index]),\"score\":\(OutputWriter.json($0.score)),\"text\":\(Self.jsonString(corpusTexts[$0.index]))}"
                }
                try writer.append("{\"query\":\(Self.jsonString(queryTexts[q])),\"hits\":[\(items.joined(separator: ","))]}\n")
            } else {
                try writer.append(Self.list(query: queryTexts[q], hits: hits, lines: corpusLines, texts: corpusTexts, first: q == 0))
            }
        }
        try writer.flush()
    }

    /// Recall@K of reduced search against full-dimension search, and the speed of each.
    private func evaluate(dimensions: [Int], corpus: Matrix, queries: Matrix) throws {
        let k = top
        let full = try SemanticIndex(embeddings: corpus)
        let reference = try full.search(queries: queries, top: k, threads: threads)
        let fullSeconds = try GEMMBenchmark.median(`repeat`) { _ = try full.search(queries: queries, top: k, threads: threads) }
        let fullRate = Double(queries.rows) / fullSeconds
        var rows = [["dims", "variance", "recall@\(k)", "fit+index ms", "search ms", "queries/s", "speed-up"]]
        rows.append([
            "\(corpus.columns)", "1.000", "1.0000", "-",
            String(format: "%.2f", fullSeconds * 1e3), String(format: "%.0f", fullRate), "1.00×",
        ])
        for d in dimensions {
            var clock = Stopwatch()
            let reduced = try SemanticIndex(embeddings: corpus, reducedTo: d, whiten: whiten, centered: center)
            let fitSeconds = clock.lap()
            let hits = try reduced.search(queries: queries, top: k, threads: threads)
            var found = 0, wanted = 0
            for (got, want) in zip(hits, reference) {
                found += Set(got.map(\.index)).intersection(want.map(\.index)).count
                wanted += want.count
            }
            let seconds = try GEMMBenchmark.median(`repeat`) { _ = try reduced.search(queries: queries, top: k, threads: threads) }
            rows.append([
                "\(d)", String(format: "%.3f", reduced.reduction?.explainedVarianceRatio ?? 1),
                String(format: "%.4f", Double(found) / Double(max(wanted, 1))),
                String(format: "%.1f", fitSeconds * 1e3), String(format: "%.2f", seconds * 1e3),
                String(format: "%.0f", Double(queries.rows) / seconds), String(format: "%.2f×", fullSeconds / seconds),
            ])
        }
        print("corpus \(corpus.rows) × \(corpus.columns), \(queries.rows) queries, k = \(k), center: \(center ? "yes" : "no"), whiten: \(whiten ? "yes" : "no"); "
            + "OpenBLAS \(OpenBLAS.coreName), \(OpenBLAS.threadCount) BLAS thread(s), selection threads: \(threads ?? ProcessInfo.processInfo.activeProcessorCount)")
        print(TextTable.render(rows))
    }

    // MARK: - Helpers

    /// The lines of `path` (blank ones skipped when asked) and their 0-based line numbers.
    private func readLines(_ path: String, skipBlank: Bool) throws -> (texts: [String], lines: [Int]) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("\(path): no such file")
        }
        let reader = try InputReader(path: path, format: .lines)
        if let identity = reader.fileIdentity, FileIdentity(descriptor: 1) == identity {
            throw CLIError("<stdout>: is the file \(path); refusing to write over it")
        }
        var texts: [String] = [], lines: [Int] = []
        var number = 0
        while let text = try reader.next()?.text {
            defer { number += 1 }
            if skipBlank, text.allSatisfy(\.isWhitespace) { continue }
            texts.append(text)
            lines.append(number)
        }
        return (texts, lines)
    }

    private static func parseDimensions(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count <= 64, values.allSatisfy({ (1...dimensionLimit).contains($0 ?? 0) }) else {
            throw ValidationError("--evaluate-reduction takes up to 64 integers in 1...\(dimensionLimit) separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }

    /// One query's hits as an aligned list: rank, score, index (line number), text.
    static func list(query: String, hits: [SearchHit], lines: [Int], texts: [String], first: Bool) -> String {
        let rank = max(4, "\(hits.count)".count)
        let scores = hits.map { String(format: "%.4f", $0.score) }
        let scoreWidth = max(5, scores.map(\.count).max() ?? 0)
        let indexWidth = max(5, hits.map { "\(lines[$0.index])".count }.max() ?? 0)
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var out = first ? "" : "\n"
        out += "query: \(query)\n"
        out += "\(pad("rank", rank))  \(pad("score", scoreWidth))  \(pad("index", indexWidth))  text\n"
        for (i, hit) in hits.enumerated() {
            out += "\(pad("\(i + 1)", rank))  \(pad(scores[i], scoreWidth))  \(pad("\(lines[hit.index])", indexWidth))  \(texts[hit.index])\n"
        }
        return out
    }

    /// `text` as a JSON string literal (RFC 8259 escaping, JSONCore's writer).
    static func jsonString(_ text: String) -> String { JSONWriter.quoted(text) }
}

/// Wall-clock laps.
private struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    /// Seconds since the previous lap (or the start).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
