import Foundation
import XCTest
import EncoderTestSupport

/// The CLI's output contract: `embed` JSONL and npy, `tokenize` JSONL, against sentence-transformers' and
/// Hugging Face's reference outputs (Tests/Fixtures/minilm_sentences.jsonl). Uses the subprocess runner of
/// ``CLIReliabilityTests``.
extension CLIReliabilityTests {
    typealias Reference = ReferenceSentence

    func references() throws -> [Reference] { try ReferenceSentence.all() }

    func distance(_ a: [Double], _ b: [Float]) -> Double { distance(a, b.map(Double.init)) }

    /// The 31 reference texts as JSONL input (one JSON string per line: texts keep tabs and spacing).
    func referenceInput() throws -> URL {
        let lines = try references().map { reference -> String in
            let data = try JSONSerialization.data(withJSONObject: reference.text, options: [.fragmentsAllowed])
            return String(decoding: data, as: UTF8.self)
        }
        return try inputFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: "references.jsonl")
    }

    func testEmbedJSONLMatchesSentenceTransformers() throws {
        let model = try Self.modelFolder()
        let references = try references()
        let result = try run(["embed", "--model", model.path, "--input", try referenceInput().path, "--input-format", "jsonl", "--batch-size", "7"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, references.count)
        var worst = 0.0
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(row["index"] as? Int, i)
            XCTAssertEqual(row["tokens"] as? Int, references[i].input_ids.count, "text \(i)")
            worst = max(worst, distance(try embedding(row), references[i].embedding))
        }
        print("encoder embed (JSONL) vs sentence-transformers, 31 texts: max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-5)
        // The summary line counts inputs and the one truncated text.
        XCTAssertTrue(result.stderr.contains("embedded 31 inputs"), result.stderr)
        XCTAssertTrue(result.stderr.contains("1 truncated"), result.stderr)
    }

    func testEmbedNPYIsReadableAndEqualsJSONL() throws {
        let model = try Self.modelFolder()
        let input = try referenceInput()
        let npyURL = scratch.appendingPathComponent("out.npy")
        let toFile = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl",
                              "--output-format", "npy", "--output", npyURL.path])
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        let toStdout = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl",
                                "--output-format", "npy"])
        XCTAssertEqual(toStdout.status, 0, toStdout.stderr)
        let jsonl = try records(try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl"]))

        for data in [try Data(contentsOf: npyURL), toStdout.stdout] {
            let bytes = [UInt8](data)
            // Magic, version 1.0, little-endian header length, Python-literal header.
            XCTAssertEqual(Array(bytes[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "npy data must start 64-byte aligned")
            let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
            XCTAssertTrue(header.contains("'descr': '<f4'"), header)
            XCTAssertTrue(header.contains("'fortran_order': False"), header)
            XCTAssertTrue(header.contains("'shape': (31, 384)"), header)
            let floats = bytes[(10 + headerLength)...].withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            XCTAssertEqual(floats.count, 31 * 384)
            for (i, row) in jsonl.enumerated() {
                let expected = try embedding(row)
                for j in 0..<384 { XCTAssertEqual(Double(floats[i * 384 + j]), expected[j], accuracy: 1e-7) }
            }
        }
        // numpy itself reads it, when numpy is installed.
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); assert a.shape==(31,384) and a.dtype=='float32', (a.shape, a.dtype); print('ok')", npyURL.path]
        python.standardOutput = FileHandle.nullDevice
        python.standardError = FileHandle.nullDevice
        if (try? python.run()) != nil {
            python.waitUntilExit()
            if python.terminationStatus != 0 && FileManager.default.fileExists(atPath: "/usr/bin/python3") {
                // Distinguish "no numpy" from "numpy rejects the file".
                let probe = Process()
                probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                probe.arguments = ["python3", "-c", "import numpy"]
                try probe.run()
                probe.waitUntilExit()
                XCTAssertNotEqual(probe.terminationStatus, 0, "numpy.load rejected the npy file")
            }
        }
    }

    func testTokenizeMatchesHuggingFace() throws {
        let model = try Self.modelFolder()
        let references = try references()
        let plain = try records(try run(["tokenize", "--model", model.path, "--input", try referenceInput().path, "--input-format", "jsonl"]))
        let truncated = try records(try run(["tokenize", "--model", model.path, "--input", try referenceInput().path,
                                             "--input-format", "jsonl", "--max-length", "256"]))
        XCTAssertEqual(plain.count, references.count)
        XCTAssertEqual(truncated.count, references.count)
        for (i, reference) in references.enumerated() {
            XCTAssertEqual(plain[i]["index"] as? Int, i)
            XCTAssertEqual((plain[i]["input_ids"] as? [Int])?.count, reference.untruncated_length, "text \(i)")
            XCTAssertEqual(truncated[i]["input_ids"] as? [Int], reference.input_ids.map(Int.init), "text \(i)")
            XCTAssertEqual(truncated[i]["token_type_ids"] as? [Int], reference.token_type_ids.map(Int.init), "text \(i)")
        }
    }

    func testTextArgumentsAreEmbeddedInOrder() throws {
        let model = try Self.modelFolder()
        let references = try references()
        let result = try run(["embed", "--model", model.path, references[1].text, references[0].text])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try records(result)
        XCTAssertEqual(rows.count, 2)
        XCTAssertLessThan(distance(try embedding(rows[0]), references[1].embedding), 1e-5)
        XCTAssertLessThan(distance(try embedding(rows[1]), references[0].embedding), 1e-5)
    }
}
