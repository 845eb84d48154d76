import ArgumentParser
import Foundation
import TransformerEncoder

/// `encoder rerank`: documents ordered by a cross-encoder's relevance score against one query.
struct RerankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Rerank documents against a query with a cross-encoder (sequence-classification model).",
        discussion: """
            Reads the documents (one per line, or one JSON string per line with --input-format jsonl), scores \
            each (query, document) pair with the cross-encoder as sentence-transformers' CrossEncoder.predict \
            does (sigmoid of the logit for a 1-label model, or the activation_fn its config names), and prints \
            them best first. "index" is the document's 0-based position in the input; every document appears \
            once (the first --top N of them with --top). Pairs longer than the model's maximum length are \
            truncated longest-first and counted on stderr.

            The model folder is a Hugging Face *ForSequenceClassification checkpoint with one label \
            (cross-encoder/ms-marco-MiniLM-L-6-v2, BAAI/bge-reranker-base…).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The query the documents are scored against.")
    var query: String

    @OptionGroup var inputOptions: InputOptions

    @Option(name: .customLong("top"), parsing: .unconditional,
            help: ArgumentHelp("Print only the N best documents.", valueName: "n"))
    var top: Int?

    @Flag(help: #"One JSON object per line, best first: {"index": i, "score": s, "text": "…"}."#)
    var json = false

    @OptionGroup var batchOptions: BatchOptions
    @OptionGroup var threadOptions: ThreadOptions

    var threads: Int? { threadOptions.threads }
    var batchSize: Int { batchOptions.batchSize }

    func validate() throws {
        if let top { try Bounds.check(top, in: 1...Int(Int32.max), option: "--top") }
    }

    func run() throws {
        try reportingErrors { try rerank() }
    }

    private func rerank() throws {
        // Read the documents before loading the model, so that input errors come first.
        let reader = try inputOptions.reader()
        var documents: [String] = []
        while let record = try reader.next() { documents.append(record.text) }

        let reranker = try CrossEncoder(modelFolder: try modelOptions.folder(), options: ComputeOptions(threads: threads))
        guard reranker.labelCount == 1 else {
            throw CLIError("\(reranker.folder.path): the model has \(reranker.labelCount) labels; rerank needs a 1-label cross-encoder")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        // Tokenized once: the truncation count and the scores come from the same ids.
        var truncated = 0
        let sequences = documents.map { document -> TokenSequence in
            let tokens = reranker.tokenize(query: query, document: document)
            if tokens.isTruncated { truncated += 1 }
            return TokenSequence(inputIDs: tokens.inputIDs, tokenTypeIDs: tokens.tokenTypeIDs)
        }
        let scores = try reranker.predict(sequences, batchSize: batchSize).values
        let ranking = CrossEncoder.ranking(scores, top: top)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        let writer = OutputWriter(destination: try OutputDestination(path: nil))
        if json {
            for hit in ranking {
                try writer.append(
                    "{\"index\":\(hit.index),\"score\":\(OutputWriter.json(hit.score)),\"text\":\(SearchCommand.jsonString(documents[hit.index]))}\n")
            }
        } else {
            try writer.append(Self.table(ranking, documents: documents))
        }
        try writer.flush()
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        StandardError.write(
            String(format: "reranked %d documents in %.4f s ", documents.count, seconds)
                + "(\(truncated) truncated to \(reranker.maxSequenceLength) tokens; OpenBLAS \(OpenBLAS.coreName), \(threadCount) threads)\n")
    }

    /// The ranking as an aligned table: rank, score, index, text (newlines and tabs shown escaped).
    static func table(_ ranking: [RankedDocument], documents: [String]) -> String {
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        let scores = ranking.map { String(format: "%.6f", $0.score) }
        let rankWidth = max(4, "\(ranking.count)".count)
        let scoreWidth = max(5, scores.map(\.count).max() ?? 0)
        let indexWidth = max(5, ranking.map { "\($0.index)".count }.max() ?? 0)
        var out = "\(pad("rank", rankWidth))  \(pad("score", scoreWidth))  \(pad("index", indexWidth))  text\n"
        for (i, hit) in ranking.enumerated() {
            let text = documents[hit.index].replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
            out += "\(pad("\(i + 1)", rankWidth))  \(pad(scores[i], scoreWidth))  \(pad("\(hit.index)", indexWidth))  \(text)\n"
        }
        return out
    }
}

/// `encoder search --rerank-model DIR [--rerank-top K]`: retrieve K hits per query with the embedding index,
/// rerank them with the cross-encoder, print the best --top of the reranked list.
extension SearchCommand {
    /// Hits retrieved per query before reranking: --rerank-top, or max(--top, 50).
    func retrievalDepth() throws -> Int {
        if let rerankTop, rerankTop <= 0 { throw CLIError("--rerank-top must be positive, got \(rerankTop)") }
        return rerankTop ?? max(top, 50)
    }

    /// Reranks each query's retrieved hits and prints them like `search` does, the score being the
    /// cross-encoder's; `--json` adds each hit's `retrieval_score` (cosine similarity) and `retrieval_rank` (1-based).
    func printReranked(
        _ retrieved: [[SearchHit]], model: String, queries: [String], texts: [String], lines: [Int]
    ) throws {
        let reranker = try CrossEncoder(modelFolder: URL(fileURLWithPath: model), options: ComputeOptions(threads: threads))
        guard reranker.labelCount == 1 else {
            throw CLIError("\(model): the model has \(reranker.labelCount) labels; reranking needs a 1-label cross-encoder")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let writer = OutputWriter(destination: try OutputDestination(path: nil))
        var pairs = 0
        for (q, hits) in retrieved.enumerated() {
            let ranking = try reranker.rank(
                query: queries[q], documents: hits.map { texts[$0.index] }, top: top, batchSize: batchSize)
            pairs += hits.count
            let reranked = ranking.map { SearchHit(index: hits[$0.index].index, score: $0.score) }
            if json {
                let items = ranking.map { hit in
                    let corpusIndex = hits[hit.index].index
                    return "{\"index\":\(lines[corpusIndex]),\"score\":\(OutputWriter.json(hit.score)),"
                        + "\"retrieval_score\":\(OutputWriter.json(hits[hit.index].score)),\"retrieval_rank\":\(hit.index + 1),"
                        + "\"text\":\(Self.jsonString(texts[corpusIndex]))}"
                }
                try writer.append("{\"query\":\(Self.jsonString(queries[q])),\"hits\":[\(items.joined(separator: ","))]}\n")
            } else {
                try writer.append(Self.list(query: queries[q], hits: reranked, lines: lines, texts: texts, first: q == 0))
            }
        }
        try writer.flush()
        StandardError.write(String(
            format: "reranked %d retrieved hits for %d queries in %.2f s\n",
            pairs, queries.count, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
}
