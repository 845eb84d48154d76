import Foundation
import XCTest

/// `encoder rerank` against sentence-transformers' `CrossEncoder.predict` references
/// (Tests/Fixtures/crossencoder, made by Scripts/make_crossencoder_fixtures.py): every document once, its input
/// index right, best first, scores within 1e-5. Uses the subprocess runner of ``CLIReliabilityTests``.
extension CLIReliabilityTests {
    static let crossEncoderFixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/crossencoder")

    struct RerankPair: Decodable { let query: String; let document: String }
    struct RerankExpected: Decodable { let score: Double }

    /// The reference pairs grouped by query (in first-appearance order), with the reference score of each pair.
    func rerankGroups() throws -> [(query: String, documents: [String], scores: [Double])] {
        func lines<T: Decodable>(_ url: URL, _ type: T.Type) throws -> [T] {
            try String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map {
                try JSONDecoder().decode(T.self, from: Data($0.utf8))
            }
        }
        let pairs = try lines(Self.crossEncoderFixtures.appendingPathComponent("pairs.jsonl"), RerankPair.self)
        let expected = try lines(
            Self.crossEncoderFixtures.appendingPathComponent("bert-1label/expected.jsonl"), RerankExpected.self)
        XCTAssertEqual(pairs.count, expected.count)
        var groups: [(query: String, documents: [String], scores: [Double])] = []
        var position: [String: Int] = [:]
        for (pair, reference) in zip(pairs, expected) {
            if position[pair.query] == nil {
                position[pair.query] = groups.count
                groups.append((pair.query, [], []))
            }
            groups[position[pair.query]!].documents.append(pair.document)
            groups[position[pair.query]!].scores.append(reference.score)
        }
        return groups
    }

    /// Documents as JSONL input (one JSON string per line, so empty and multi-line documents survive).
    func jsonlInput(_ documents: [String], name: String) throws -> URL {
        let lines = try documents.map {
            String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed]), as: UTF8.self)
        }
        return try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: name)
    }

    func testRerankJSONMatchesCrossEncoderPredict() throws {
        let model = Self.crossEncoderFixtures.appendingPathComponent("bert-1label")
        var worst = 0.0, documentsChecked = 0
        for (g, group) in try rerankGroups().enumerated() {
            let input = try jsonlInput(group.documents, name: "documents-\(g).jsonl")
            let result = try run(["rerank", "--model", model.path, "--query", group.query, "--input", input.path,
                                  "--input-format", "jsonl", "--json", "--batch-size", "3", "--threads", "2"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let rows = try records(result)
            // Every document exactly once, with its own text at its input index.
            XCTAssertEqual(rows.count, group.documents.count)
            let indices = rows.compactMap { $0["index"] as? Int }
            XCTAssertEqual(Set(indices), Set(group.documents.indices), "query \(group.query.debugDescription)")
            for row in rows {
                let index = try XCTUnwrap(row["index"] as? Int)
                XCTAssertEqual(row["text"] as? String, group.documents[index])
                let score = try XCTUnwrap(row["score"] as? Double)
                worst = max(worst, abs(score - group.scores[index]))
            }
            // Best first, in the order of the reference scores (equal scores in input order).
            let reference = group.documents.indices.sorted { (group.scores[$0], $1) > (group.scores[$1], $0) }
            XCTAssertEqual(indices, reference, "query \(group.query.debugDescription)")
            XCTAssertTrue(result.stderr.contains("reranked \(group.documents.count) documents"), result.stderr)
            documentsChecked += rows.count
        }
        print("encoder rerank --json vs CrossEncoder.predict: \(documentsChecked) documents, max |difference| \(worst)")
        XCTAssertGreaterThanOrEqual(documentsChecked, 150)
        XCTAssertLessThan(worst, 1e-5)
    }

    func testRerankTableAndTop() throws {
        let model = Self.crossEncoderFixtures.appendingPathComponent("bert-1label")
        let group = try XCTUnwrap(try rerankGroups().first { $0.documents.count >= 5 })
        // lines format: none of these documents holds a newline
        XCTAssertFalse(group.documents.contains { $0.contains("\n") })
        let input = try inputFile(Array((group.documents.joined(separator: "\n") + "\n").utf8))
        let json = try run(["rerank", "--model", model.path, "--query", group.query, "--input", input.path, "--json", "--top", "3"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let rows = try records(json)
        XCTAssertEqual(rows.count, 3)
        let reference = group.documents.indices.sorted { (group.scores[$0], $1) > (group.scores[$1], $0) }
        XCTAssertEqual(rows.compactMap { $0["index"] as? Int }, Array(reference.prefix(3)))

        let table = try run(["rerank", "--model", model.path, "--query", group.query, "--input", input.path])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdoutText.split(separator: "\n")
        XCTAssertEqual(lines.count, group.documents.count + 1)
        XCTAssertEqual(lines.first?.split(separator: " ", omittingEmptySubsequences: true), ["rank", "score", "index", "text"])
        for (rank, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            XCTAssertEqual(Int(fields[0]), rank + 1)
            let index = try XCTUnwrap(Int(fields[2]))
            XCTAssertEqual(index, reference[rank])
            XCTAssertEqual(try XCTUnwrap(Double(fields[1])), group.scores[index], accuracy: 2e-6)  // printed with 6 decimals
            let text = fields.count > 3 ? fields[3].trimmingCharacters(in: .whitespaces) : ""
            XCTAssertEqual(text, group.documents[index].trimmingCharacters(in: .whitespaces))
        }
    }

    /// `search --rerank-model`: the hits are the --rerank-top retrieved by the embedding index, reordered by the
    /// cross-encoder's reference scores, cut to --top. The tiny checkpoint also serves as the (mean-pooled)
    /// embedding model, so no downloaded model is needed.
    func testSearchWithRerankModel() throws {
        let model = Self.crossEncoderFixtures.appendingPathComponent("bert-1label")
        let all = try XCTUnwrap(try rerankGroups().first { $0.query == "What is the capital of France?" })
        // `search` skips blank corpus lines: keep the non-blank documents (and their reference scores)
        let kept = all.documents.indices.filter { !all.documents[$0].allSatisfy(\.isWhitespace) }
        let group = (query: all.query, documents: kept.map { all.documents[$0] }, scores: kept.map { all.scores[$0] })
        XCTAssertGreaterThanOrEqual(group.documents.count, 6)
        XCTAssertFalse(group.documents.contains { $0.contains("\n") })
        let corpus = try inputFile(Array((group.documents.joined(separator: "\n") + "\n").utf8), name: "corpus.txt")
        let retrieved = try run(["search", "--model", model.path, "--corpus", corpus.path, "--top", "5", "--json", group.query])
        XCTAssertEqual(retrieved.status, 0, retrieved.stderr)
        let retrievedHits = try XCTUnwrap(try records(retrieved).first?["hits"] as? [[String: Any]])
        let retrievedIndices = retrievedHits.compactMap { $0["index"] as? Int }
        XCTAssertEqual(retrievedIndices.count, 5)

        let reranked = try run(["search", "--model", model.path, "--corpus", corpus.path, "--top", "3", "--json",
                                "--rerank-model", model.path, "--rerank-top", "5", group.query])
        XCTAssertEqual(reranked.status, 0, reranked.stderr)
        let hits = try XCTUnwrap(try records(reranked).first?["hits"] as? [[String: Any]])
        let expected = retrievedIndices.sorted { (group.scores[$0], $1) > (group.scores[$1], $0) }.prefix(3)
        XCTAssertEqual(hits.compactMap { $0["index"] as? Int }, Array(expected))
        for hit in hits {
            let index = try XCTUnwrap(hit["index"] as? Int)
            XCTAssertEqual(try XCTUnwrap(hit["score"] as? Double), group.scores[index], accuracy: 1e-5)
            XCTAssertEqual(hit["text"] as? String, group.documents[index])
            let rank = try XCTUnwrap(hit["retrieval_rank"] as? Int)
            XCTAssertEqual(retrievedIndices[rank - 1], index)
        }
        XCTAssertTrue(reranked.stderr.contains("reranked 5 retrieved hits for 1 queries"), reranked.stderr)

        let badDepth = try run(["search", "--model", model.path, "--corpus", corpus.path, "--rerank-model", model.path,
                                "--rerank-top", "0", group.query])
        XCTAssertNotEqual(badDepth.status, 0)
        XCTAssertTrue(badDepth.stderr.contains("--rerank-top"), badDepth.stderr)
    }

    func testRerankErrors() throws {
        let input = try inputFile(Array("a\nb\n".utf8))
        // A 3-label model cannot rank: one line naming the folder.
        let threeLabels = Self.crossEncoderFixtures.appendingPathComponent("bert-3labels")
        let multi = try run(["rerank", "--model", threeLabels.path, "--query", "q", "--input", input.path])
        XCTAssertNotEqual(multi.status, 0)
        XCTAssertEqual(multi.stderrLines.count, 1, multi.stderr)
        XCTAssertTrue(multi.stderr.contains("3 labels"), multi.stderr)
        XCTAssertTrue(multi.stdout.isEmpty)
        // An embedding model is not a cross-encoder: the error names config.json's architectures.
        let embedding = Self.repositoryRoot.appendingPathComponent("Tests/Fixtures/tiny-bert")
        let notHead = try run(["rerank", "--model", embedding.path, "--query", "q", "--input", input.path])
        XCTAssertNotEqual(notHead.status, 0)
        XCTAssertTrue(notHead.stderr.contains("config.json"), notHead.stderr)
        // Bad options and a missing query.
        let model = Self.crossEncoderFixtures.appendingPathComponent("bert-1label")
        let badTop = try run(["rerank", "--model", model.path, "--query", "q", "--input", input.path, "--top", "0"])
        XCTAssertNotEqual(badTop.status, 0)
        XCTAssertTrue(badTop.stderr.contains("--top"), badTop.stderr)
        let noQuery = try run(["rerank", "--model", model.path, "--input", input.path])
        XCTAssertNotEqual(noQuery.status, 0)
        XCTAssertTrue(noQuery.stderr.contains("--query"), noQuery.stderr)
        let badJSONL = try run(["rerank", "--model", model.path, "--query", "q", "--input", input.path, "--input-format", "jsonl"])
        XCTAssertNotEqual(badJSONL.status, 0)
        XCTAssertTrue(badJSONL.stderr.contains("line 1"), badJSONL.stderr)
    }
}
