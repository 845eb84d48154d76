import Foundation
import XCTest
import EncoderTestSupport

/// `encoder embed`'s sentence-transformers options (--prompt-name, --prompt, --truncate-dim, --normalize) and
/// hub ids for --model, against sentence-transformers 6.2's outputs in Tests/Fixtures/stmodules/expected.json.
/// Uses the subprocess runner of ``CLIReliabilityTests``; needs no downloaded model.
extension CLIReliabilityTests {
    struct ModuleCase: Decodable {
        struct Options: Decodable {
            let prompt_name: String?
            let prompt: String?
            let truncate_dim: Int?
            let normalize_embeddings: Bool?
        }
        let folder: String
        let options: Options
        let texts: [String]
        let tokens: [Int]
        let embeddings: [[Double]]
    }

    static var moduleFixtures: URL { repositoryRoot.appendingPathComponent("Tests/Fixtures/stmodules") }

    func moduleCases() throws -> [ModuleCase] {
        struct File: Decodable { let cases: [ModuleCase] }
        let data = try Data(contentsOf: Self.moduleFixtures.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }

    /// The case's texts as JSONL input.
    func jsonlInput(_ texts: [String]) throws -> URL {
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed]), as: UTF8.self) }
        return try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: "texts-\(UUID().uuidString).jsonl")
    }

    /// Every case whose options the CLI can spell, through `encoder embed`: within 1e-5 of sentence-transformers.
    func testEmbedModuleOptionsMatchSentenceTransformers() throws {
        var worstOverall = 0.0
        var checked = 0
        for reference in try moduleCases() {
            var arguments = ["embed", "--model", Self.moduleFixtures.appendingPathComponent(reference.folder).path,
                             "--input", try jsonlInput(reference.texts).path, "--input-format", "jsonl", "--batch-size", "3"]
            let options = reference.options
            if let name = options.prompt_name { arguments += ["--prompt-name", name] }
            if let prompt = options.prompt { arguments += ["--prompt", prompt] }
            if let dimension = options.truncate_dim { arguments += ["--truncate-dim", "\(dimension)"] }
            if options.normalize_embeddings == true { arguments.append("--normalize") }
            let result = try run(arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            let rows = try records(result)
            XCTAssertEqual(rows.count, reference.texts.count)
            guard rows.count == reference.texts.count else { continue }
            var worst = 0.0
            for (i, row) in rows.enumerated() {
                XCTAssertEqual(row["tokens"] as? Int, reference.tokens[i], "\(reference.folder) \(options) text \(i)")
                worst = max(worst, distance(try embedding(row), reference.embeddings[i]))
            }
            print("encoder embed \(reference.folder) \(arguments.dropFirst(7).joined(separator: " ")): max |difference| \(worst)")
            XCTAssertLessThan(worst, 1e-5, "\(reference.folder) \(options)")
            worstOverall = max(worstOverall, worst)
            checked += 1
        }
        XCTAssertEqual(checked, 15)
        print("encoder embed, \(checked) sentence-transformers module cases: max |difference| \(worstOverall)")
    }

    /// --truncate-dim sets the npy shape; out-of-range values and unknown prompt names are one-line errors
    /// before any output is written.
    func testTruncateDimShapesNPYAndBadValuesAreErrors() throws {
        let dense = Self.moduleFixtures.appendingPathComponent("dense").path
        let npy = try run(["embed", "--model", dense, "--truncate-dim", "4", "--output-format", "npy", "a", "b", "c"])
        XCTAssertEqual(npy.status, 0, npy.stderr)
        let header = String(decoding: npy.stdout.prefix(128), as: UTF8.self)
        XCTAssertTrue(header.contains("'shape': (3, 4)"), header)

        let output = scratch.appendingPathComponent("kept.jsonl")
        try Data("previous\n".utf8).write(to: output)
        for arguments in [["--truncate-dim", "9"], ["--prompt-name", "nope"]] {
            let result = try run(["embed", "--model", dense, "--output", output.path] + arguments + ["x"])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(arguments[1]), result.stderr)
            XCTAssertEqual(try String(contentsOf: output, encoding: .utf8), "previous\n", "output untouched")
        }
        let zero = try run(["embed", "--model", dense, "--truncate-dim", "0", "x"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("--truncate-dim"), zero.stderr)
    }

    /// --model takes a hub id found in the Hugging Face cache ($HF_HOME), and says where it looked otherwise.
    func testModelHubIDFromTheCache() throws {
        let home = scratch.appendingPathComponent("hf")
        let snapshot = home.appendingPathComponent("hub/models--org--tiny-prompts/snapshots/c0ffee")
        try FileManager.default.createDirectory(at: snapshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.moduleFixtures.appendingPathComponent("prompts"), to: snapshot)
        try FileManager.default.createDirectory(at: home.appendingPathComponent("hub/models--org--tiny-prompts/refs"), withIntermediateDirectories: true)
        try Data("c0ffee".utf8).write(to: home.appendingPathComponent("hub/models--org--tiny-prompts/refs/main"))
        setenv("HF_HOME", home.path, 1)
        defer { unsetenv("HF_HOME") }

        let byID = try run(["embed", "--model", "org/tiny-prompts", "the cat sat"])
        XCTAssertEqual(byID.status, 0, byID.stderr)
        let byPath = try run(["embed", "--model", snapshot.path, "the cat sat"])
        XCTAssertEqual(try records(byID).map { try embedding($0) }, try records(byPath).map { try embedding($0) })

        let missing = try run(["embed", "--model", "org/not-cached", "x"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderrLines.count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains(home.appendingPathComponent("hub/models--org--not-cached").path), missing.stderr)
    }

    /// Issue 10: an embedding that is not finite (weights that overflow) stops `embed` with exit 1 and one line
    /// naming the input; nothing NaN is written.
    func testNonFiniteEmbeddingNamesTheInput() throws {
        let folder = scratch.appendingPathComponent("overflow")
        try FileManager.default.copyItem(at: Self.moduleFixtures.appendingPathComponent("dense"), to: folder)
        // 3_Dense/model.safetensors: one F32 tensor linear.weight (8, 16); its first row set to 3e38.
        let url = folder.appendingPathComponent("3_Dense/model.safetensors")
        var bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let big = Float(3e38).bitPattern.littleEndian
        for j in 0..<16 {
            let offset = 8 + headerLength + 4 * j
            for b in 0..<4 { bytes[offset + b] = UInt8((big >> (8 * UInt32(b))) & 0xFF) }
        }
        try Data(bytes).write(to: url)
        let result = try run(["embed", "--model", folder.path, "x", "the cat sat on the mat"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        // Text arguments are numbered from 1 in messages, like input lines ("x" is input 1).
        XCTAssertTrue(result.stderr.contains("input 1:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("not finite"), result.stderr)
        XCTAssertFalse(result.stdoutText.contains("null"), result.stdoutText)
    }

    /// A model path that is a file says so (issue 10).
    func testModelPathThatIsAFile() throws {
        let file = Self.moduleFixtures.appendingPathComponent("dense/config.json").path
        let result = try run(["embed", "--model", file, "x"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("is a file, not a model folder"), result.stderr)
    }
}

extension CLIReliabilityTests {
    /// `encoder embed --model models/all-mpnet-base-v2` on the 31 reference texts: within 1e-5 of
    /// sentence-transformers (Tests/Fixtures/mpnet_sentences.jsonl). Missing model: fails when `CI=true`.
    func testEmbedMPNetMatchesSentenceTransformers() throws {
        let references = try mpnetReferences()
        // The relative path as a user types it, from the repository root.
        let input = try jsonlInput(references.map(\.text))
        let result = try runFromRepositoryRoot(["embed", "--model", "models/all-mpnet-base-v2", "--input", input.path,
                                                "--input-format", "jsonl", "--batch-size", "8"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, references.count)
        guard rows.count == references.count else { return }
        var worst = 0.0
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(row["tokens"] as? Int, references[i].input_ids.count, "text \(i)")
            worst = max(worst, distance(try embedding(row), references[i].embedding))
        }
        print("encoder embed --model models/all-mpnet-base-v2, 31 texts: max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }
}
