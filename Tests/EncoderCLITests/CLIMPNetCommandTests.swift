import Foundation
import XCTest
import EncoderTestSupport

/// `encoder tokenize`, `encoder search` and `encoder bench` with `--model models/all-mpnet-base-v2` (a model
/// that is not BERT: MPNet encoder, WordPiece with `RobertaProcessing`), typed as a user would from the
/// repository root. References: Tests/Fixtures/mpnet_sentences.jsonl (sentence-transformers' token ids).
/// Missing model (`Scripts/setup --with-mpnet`): the tests fail when `CI=true` and are skipped otherwise.
extension CLIReliabilityTests {
    struct MPNetReference: Decodable {
        let text: String
        let input_ids: [Int]
        let untruncated_length: Int
        /// sentence-transformers' embedding of `text`.
        let embedding: [Double]
    }

    func mpnetReferences() throws -> [MPNetReference] {
        let url = Self.repositoryRoot.appendingPathComponent("Tests/Fixtures/mpnet_sentences.jsonl")
        return try String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(MPNetReference.self, from: Data($0.utf8))
        }
    }

    /// Runs `encoder arguments…` from the repository root, so `--model models/all-mpnet-base-v2` is the
    /// relative path a user types (the child inherits the directory).
    func runFromRepositoryRoot(_ arguments: [String]) throws -> Result {
        _ = try TestModel.folder(named: "all-mpnet-base-v2", setup: "Scripts/setup --with-mpnet")
        let previous = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(Self.repositoryRoot.path)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        return try run(arguments)
    }

    /// Every reference text, truncated to max_seq_length 384: the ids are sentence-transformers'; a text
    /// argument gives the same ids; untruncated lengths match too.
    func testTokenizeMPNetMatchesSentenceTransformersIDs() throws {
        let references = try mpnetReferences()
        XCTAssertEqual(references.count, 31)
        let input = try jsonlInput(references.map(\.text))
        let truncated = try runFromRepositoryRoot(["tokenize", "--model", "models/all-mpnet-base-v2", "--input", input.path,
                                                   "--input-format", "jsonl", "--max-length", "384"])
        XCTAssertEqual(truncated.status, 0, truncated.stderr)
        let rows = try records(truncated)
        XCTAssertEqual(rows.count, references.count)
        guard rows.count == references.count else { return }
        for (i, reference) in references.enumerated() {
            XCTAssertEqual(rows[i]["index"] as? Int, i)
            XCTAssertEqual(rows[i]["input_ids"] as? [Int], reference.input_ids, "text \(i)")
            XCTAssertEqual(rows[i]["token_type_ids"] as? [Int], Array(repeating: 0, count: reference.input_ids.count), "text \(i)")
        }
        XCTAssertTrue(references.contains { $0.untruncated_length > 384 }, "the references hold a truncated text")

        let plain = try runFromRepositoryRoot(["tokenize", "--model", "models/all-mpnet-base-v2", "--input", input.path,
                                               "--input-format", "jsonl"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let untruncated = try records(plain)
        XCTAssertEqual(untruncated.compactMap { ($0["input_ids"] as? [Int])?.count }, references.map(\.untruncated_length))

        let sentence = try XCTUnwrap(references.first { $0.text == "The cat sat on the mat." })
        let argument = try runFromRepositoryRoot(["tokenize", "--model", "models/all-mpnet-base-v2", sentence.text])
        XCTAssertEqual(argument.status, 0, argument.stderr)
        XCTAssertEqual(try records(argument).first?["input_ids"] as? [Int], sentence.input_ids)
        XCTAssertEqual(sentence.input_ids.first, 0, "<s>")
        XCTAssertEqual(sentence.input_ids.last, 2, "</s>")
    }

    /// Obvious queries find their sentence first, with a cosine score in (0, 1].
    func testSearchMPNetFindsTheObviousHit() throws {
        let corpus = [
            "The cat sat on the mat.",
            "A man is playing a guitar on stage.",
            "The stock market fell sharply on Monday.",
            "Photosynthesis converts sunlight into chemical energy in plants.",
            "The train to Berlin leaves at nine in the morning.",
            "She baked a chocolate cake for her daughter's birthday.",
        ]
        let file = try inputFile(Array((corpus.joined(separator: "\n") + "\n").utf8), name: "corpus.txt")
        let queries = ["a kitten resting on a rug", "someone performing music with a guitar",
                       "how do plants make energy from light", "when does the train to Berlin depart"]
        let expected = [0, 1, 3, 4]
        let result = try runFromRepositoryRoot(["search", "--model", "models/all-mpnet-base-v2", "--corpus", file.path,
                                                "--top", "3", "--json"] + queries)
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, queries.count)
        guard rows.count == queries.count else { return }
        for (q, row) in rows.enumerated() {
            XCTAssertEqual(row["query"] as? String, queries[q])
            let hits = try XCTUnwrap(row["hits"] as? [[String: Any]])
            XCTAssertEqual(hits.count, 3)
            XCTAssertEqual(hits.first?["index"] as? Int, expected[q], "query \(queries[q]): \(hits)")
            XCTAssertEqual(hits.first?["text"] as? String, corpus[expected[q]])
            let scores = hits.compactMap { $0["score"] as? Double }
            XCTAssertEqual(scores, scores.sorted(by: >), "hits in descending score order")
            let top = try XCTUnwrap(scores.first)
            XCTAssertGreaterThan(top, 0.3)
            XCTAssertLessThanOrEqual(top, 1.0 + 1e-6)
            print("encoder search --model models/all-mpnet-base-v2 \"\(queries[q])\": top hit \(expected[q]), score \(top)")
        }
    }

    /// `encoder bench --model models/all-mpnet-base-v2` runs a named workload on MPNet and prints its figures
    /// (the table and the JSON). Nothing about the time itself is asserted.
    func testBenchMPNetPrintsFigures() throws {
        let table = try runFromRepositoryRoot(["bench", "--model", "models/all-mpnet-base-v2", "--workload", "b1_L16",
                                               "--backend", "blas", "--repeat", "1"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdoutText.contains("OpenBLAS core: "), table.stdoutText)
        let row = try XCTUnwrap(table.stdoutText.split(separator: "\n").first { $0.contains("b1_L16") }, table.stdoutText)
        // workload, backend, precision, tokens, ms/batch, tokens/s, GFLOP/s, GEMM eff., peak RSS MiB, BLAS/naive
        let cells = row.split(separator: " ").map(String.init)
        XCTAssertEqual(Array(cells.prefix(4)), ["b1_L16", "blas", "fp32", "16"], String(row))
        let tokensPerSecond = cells.count > 5 ? Double(cells[5]) : nil
        XCTAssertGreaterThan(try XCTUnwrap(tokensPerSecond, String(row)), 0)

        let json = try runFromRepositoryRoot(["bench", "--model", "models/all-mpnet-base-v2", "--workload", "b1_L16",
                                              "--backend", "blas", "--repeat", "1", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any], json.stdoutText)
        XCTAssertEqual(object["workload"] as? String, "b1_L16")
        XCTAssertEqual(object["tokens"] as? Int, 16)
        let rate = try XCTUnwrap(object["tokens_per_second"] as? Double)
        XCTAssertTrue(rate.isFinite && rate > 0, "\(rate)")
        XCTAssertGreaterThan(try XCTUnwrap(object["gflops"] as? Double), 0)
        XCTAssertFalse((object["blas_core"] as? String ?? "").isEmpty)
        print("encoder bench --model models/all-mpnet-base-v2 --workload b1_L16: \(rate) tokens/s (not asserted)")
    }
}
