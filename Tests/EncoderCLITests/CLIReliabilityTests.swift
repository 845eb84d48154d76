import Foundation
import XCTest
import EncoderTestSupport

/// The `encoder` executable run as a subprocess: nothing lost (one output per input, in input order), invalid
/// UTF-8 replaced with a warning naming the line, a failure part-way exits non-zero naming the failing input
/// with only whole lines written, one clear line on stderr for errors, and `--help` on every subcommand.
///
/// Tests that embed need the default model ($ENCODER_MODEL, else models/all-MiniLM-L6-v2 from Scripts/setup): they fail when
/// `CI=true` and are skipped otherwise if it is missing.
final class CLIReliabilityTests: XCTestCase {
    static let repositoryRoot = Repository.root

    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        /// Lines of stderr that are not empty.
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
    }

    /// The `encoder` executable built alongside this test bundle (same scratch path and configuration).
    static func executable() throws -> URL {
        var candidates: [URL] = [
            Bundle.main.bundleURL.appendingPathComponent("encoder"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("encoder"),
        ]
        // Next to an .xctest bundle (macOS layout) and the usual scratch paths, as a fallback.
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("encoder"))
        }
        for scratch in [".build", ".build-rel"] {
            candidates.append(repositoryRoot.appendingPathComponent("\(scratch)/debug/encoder"))
        }
        for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return url
            }
        }
        XCTFail("encoder executable not found; looked at \(candidates.map(\.path))")
        throw XCTSkip("encoder executable missing (failed above)")
    }

    /// The default model folder (`$ENCODER_MODEL` honoured); missing → fail under CI=true, skip otherwise.
    static func modelFolder() throws -> URL { try TestModel.defaultFolder() }

    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// Runs `encoder arguments…` with stdout and stderr captured to files (no pipe deadlocks).
    func run(_ arguments: [String], stdin: Data? = nil, executable: URL? = nil, environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try executable ?? Self.executable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ENCODER_MODEL"] = nil
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment.merge(extra) { $1 }
        process.environment = environment
        let id = UUID().uuidString
        let out = scratch.appendingPathComponent("stdout-\(id)"), err = scratch.appendingPathComponent("stderr-\(id)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            let input = scratch.appendingPathComponent("stdin-\(id)")
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return Result(
            status: process.terminationStatus, stdout: try Data(contentsOf: out),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    /// Writes `bytes` to a scratch input file.
    func inputFile(_ bytes: [UInt8], name: String = "input.txt") throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Parses JSONL output: every line must be complete (the output ends with "\n") and a JSON object.
    func records(_ result: Result, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let text = result.stdoutText
        if !text.isEmpty { XCTAssertTrue(text.hasSuffix("\n"), "output ends in half a line", file: file, line: line) }
        return try text.split(separator: "\n").map { row in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any], file: file, line: line)
        }
    }

    func embedding(_ record: [String: Any]) throws -> [Double] {
        try XCTUnwrap(record["embedding"] as? [Double])
    }

    /// Largest absolute difference between two vectors of the same length (infinity otherwise).
    func distance(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max()!
    }

    // MARK: Nothing lost, in order

    func testInvalidUTF8IsReplacedWithAWarningNamingTheLine() throws {
        let model = try Self.modelFolder()
        let bytes = Array("first line\n".utf8) + [0x62, 0x61, 0x64, 0x20, 0xFF, 0xFE, 0xC3, 0x0A] + Array("third line\n".utf8)
        let input = try inputFile(bytes)
        let result = try run(["embed", "--model", model.path, "--input", input.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let warnings = result.stderrLines.filter { $0.hasPrefix("warning:") }
        XCTAssertEqual(warnings.count, 1, result.stderr)
        XCTAssertTrue(warnings.first?.contains("line 2") == true, result.stderr)
        XCTAssertTrue(warnings.first?.contains(input.path) == true, result.stderr)
        XCTAssertTrue(warnings.first?.contains("UTF-8") == true, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, [0, 1, 2])
        guard rows.count == 3 else { return }
        // "bad \u{FFFD}\u{FFFD}\u{FFFD}": the tokenizer drops U+FFFD, leaving "bad" → [CLS] bad [SEP].
        XCTAssertEqual(rows[1]["tokens"] as? Int, 3)
        XCTAssertEqual(try embedding(rows[1]).count, 384)
    }

    func testTokenizeWarnsOnInvalidUTF8Too() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("ok\n".utf8) + [0x80, 0x0A] + Array("ok\n".utf8))
        let result = try run(["tokenize", "--model", model.path, "--input", input.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("line 2"), result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, [0, 1, 2])
        guard rows.count == 3 else { return }
        XCTAssertEqual(rows[1]["input_ids"] as? [Int], [101, 102])  // only U+FFFD: [CLS] [SEP]
    }

    /// Empty, whitespace-only, NUL-holding and very long lines each give exactly one output, in input order
    /// (the same text at two positions gives the same embedding; different texts do not).
    func testOneOutputPerInputInInputOrder() throws {
        let model = try Self.modelFolder()
        let long = String(repeating: "word ", count: 2000)
        var lines = ["the cat sat", "", "   \t ", "a\u{0}b", long, "a dog ran", "the cat sat"]
        lines += (0..<300).map { "line number \($0)" }  // more than one read chunk of the CLI
        let input = try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8))
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--batch-size", "7"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, lines.count)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, Array(0..<lines.count))
        guard rows.count == lines.count else { return }
        XCTAssertEqual(rows[1]["tokens"] as? Int, 2)
        XCTAssertEqual(rows[2]["tokens"] as? Int, 2)
        XCTAssertEqual(rows[4]["tokens"] as? Int, 256)  // truncated to max_seq_length
        // Same text, different batch: equal up to float rounding (batch composition changes summation order).
        XCTAssertLessThan(distance(try embedding(rows[0]), try embedding(rows[6])), 1e-5)
        XCTAssertGreaterThan(distance(try embedding(rows[0]), try embedding(rows[5])), 1e-2)
        XCTAssertGreaterThan(distance(try embedding(rows[10]), try embedding(rows[11])), 1e-3)
        XCTAssertTrue(result.stderr.contains("embedded \(lines.count) inputs"), result.stderr)
    }

    /// Standard input, and a file without a final newline: the last line still counts (and is not read twice,
    /// nor does the reader crash after it).
    func testInputWithoutFinalNewline() throws {
        let model = try Self.modelFolder()
        let text = Data("one\ntwo\r\nthree".utf8)
        let fromStdin = try run(["embed", "--model", model.path], stdin: text)
        let file = try inputFile([UInt8](text))
        let fromFile = try run(["embed", "--model", model.path, "--input", file.path])
        let tokenized = try run(["tokenize", "--model", model.path, "--input", file.path])
        for result in [fromStdin, fromFile, tokenized] {
            XCTAssertEqual(result.status, 0, result.stderr)
            let rows = try records(result)
            XCTAssertEqual(rows.map { $0["index"] as? Int }, [0, 1, 2])
        }
        XCTAssertEqual(try records(fromFile).map { $0["tokens"] as? Int }, [3, 3, 3])
        XCTAssertEqual(try records(tokenized).map { ($0["input_ids"] as? [Int])?.count }, [3, 3, 3])
    }

    // MARK: Failure part-way

    func testBadJSONLLineStopsWithWholeLinesWrittenAndNamesTheLine() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("\"first\"\n\"second\"\nnot json\n\"fourth\"\n".utf8), name: "input.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("line 3"), result.stderr)
        XCTAssertTrue(result.stderr.contains(input.path), result.stderr)
        let error = result.stderrLines.filter { $0.lowercased().contains("error") }
        XCTAssertEqual(error.count, 1, "one error line expected: \(result.stderr)")
        XCTAssertTrue(result.stdoutText.hasSuffix("\n"))
        let rows = try records(result)
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, [0, 1])
    }

    func testJSONLValuesThatAreNotStringsAreRejectedByLine() throws {
        let model = try Self.modelFolder()
        for (bad, name) in [("42", "number"), ("{\"body\": \"x\"}", "object without text"), ("\"unterminated", "broken")] {
            let input = try inputFile(Array("\"ok\"\n\(bad)\n".utf8), name: "\(name).jsonl")
            let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"])
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains("line 2"), "\(name): \(result.stderr)")
            XCTAssertEqual(try records(result).count, 1, name)
        }
    }

    /// JSONL texts may hold newlines, NULs and be empty: still one output each.
    func testJSONLEscapes() throws {
        let model = try Self.modelFolder()
        let lines = [#""a\nb""#, #""""#, #""x\u0000y""#, #""\ud83d\ude00 smile""#]
        let input = try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: "escapes.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.map { $0["index"] as? Int }, [0, 1, 2, 3])
        guard rows.count == 4 else { return }
        XCTAssertEqual(rows[1]["tokens"] as? Int, 2)
    }

    // MARK: Errors: non-zero, one clear line

    func testNonexistentModelFolder() throws {
        let missing = scratch.appendingPathComponent("no-such-model").path
        let result = try run(["embed", "--model", missing, "hello"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stdout.count, 0)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(missing), result.stderr)

        let tokenize = try run(["tokenize", "--model", missing, "hello"])
        XCTAssertNotEqual(tokenize.status, 0)
        XCTAssertEqual(tokenize.stderrLines.count, 1, tokenize.stderr)
        XCTAssertTrue(tokenize.stderr.contains(missing), tokenize.stderr)
    }

    /// A model folder without a tokenizer (tiny-bert): one line naming the folder, nothing on stdout.
    func testModelFolderWithoutTokenizer() throws {
        let folder = Self.repositoryRoot.appendingPathComponent("Tests/Fixtures/tiny-bert")
        let result = try run(["embed", "--model", folder.path, "hello"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stdout.count, 0)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(folder.path), result.stderr)
    }

    func testMissingInputFile() throws {
        let model = try Self.modelFolder()
        let missing = scratch.appendingPathComponent("missing.txt").path
        let result = try run(["embed", "--model", model.path, "--input", missing])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(missing), result.stderr)
    }

    func testInvalidOptionValuesAreUsageErrors() throws {
        for arguments in [["embed", "--batch-size", "0", "x"], ["embed", "--threads", "-2", "x"],
                          ["embed", "--no-such-option"], ["tokenize", "--max-length", "1", "x"],
                          ["embed", "--input-format", "xml", "x"], ["bench", "gemm", "--repeat", "0"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): usage errors exit with EX_USAGE; \(result.stderr)")
            XCTAssertEqual(result.stdout.count, 0, "\(arguments)")
            XCTAssertFalse(result.stderr.isEmpty, "\(arguments)")
        }
    }

    func testServeLimitsAreUsageErrorsNamingTheOptionBeforeAnyModelLoads() throws {
        // A missing model folder: were a value accepted, the command would fail on the model (exit 1), not 64.
        let missing = scratch.appendingPathComponent("no-model").path
        for (arguments, message) in [
            (["--max-batch-tokens", "0"], "--max-batch-tokens must be between 1 and 131072, got 0"),
            (["--max-batch-tokens", "9223372036854775807"], "--max-batch-tokens must be between 1 and 131072"),
            (["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
            (["--port", "-1"], "--port must be between 0 and 65535, got -1"),
            (["--max-concurrent-requests", "0"], "--max-concurrent-requests must be between 1 and 65536, got 0"),
            (["--max-client-batch-size", "100000"], "--max-client-batch-size must be between 1 and 16384, got 100000"),
            (["--threads", "100000"], "--threads must be in 1...256, got 100000"),
            (["--api-key", ""], "--api-key must not be empty"),
        ] {
            let result = try run(["serve", "--model", missing] + arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout.count, 0, "\(arguments)")
        }
    }

    // MARK: --help

    func testHelpForEverySubcommand() throws {
        for (arguments, expected) in [
            (["--help"], ["embed", "tokenize", "bench", "search"]),
            (["embed", "--help"], ["--input-format", "--output-format", "--model", "--batch-size"]),
            (["tokenize", "--help"], ["--max-length", "--model"]),
            (["bench", "--help"], ["gemm"]),
            (["bench", "gemm", "--help"], ["--hidden", "--tokens", "--naive-budget"]),
            (["search", "--help"], ["--model"]),
            (["help", "embed"], ["--input-format"]),
        ] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stdoutText.contains("USAGE:"), "\(arguments): \(result.stdoutText)")
            for word in expected {
                XCTAssertTrue(result.stdoutText.contains(word), "\(arguments) help lacks \(word)")
            }
        }
    }
}
