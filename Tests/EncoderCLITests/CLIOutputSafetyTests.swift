import Foundation
import XCTest

/// Issue 10's hostile cases for `--output`, read errors and option values, each run against the built
/// `encoder`: an output is replaced only when the run succeeds, symlinks are followed, devices and FIFOs
/// are written directly, output = input is refused, failures keep whole records under `<name>.partial` and
/// say how many, read errors and closed descriptors end in one line and exit 1, numeric options are bounded.
extension CLIReliabilityTests {
    /// Runs `script` with /bin/sh, `$E` the encoder and `$M` the default model folder; stdout and stderr captured.
    func shell(_ script: String, model: URL? = nil) throws -> Result {
        let encoder = try Self.executable()
        return try run(["-c", script], executable: URL(fileURLWithPath: "/bin/sh"),
                       environment: ["E": encoder.path, "M": model?.path ?? ""])
    }

    func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "<unreadable>" }

    func fileType(_ url: URL) -> mode_t {
        var info = stat()
        return lstat(url.path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Files in the scratch folder other than the runner's own stdout/stderr/stdin captures.
    func scratchFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scratch.path)
            .filter { !$0.hasPrefix("stdout-") && !$0.hasPrefix("stderr-") && !$0.hasPrefix("stdin-") }.sorted()
    }

    // MARK: Point 1: what is at --output

    func testOutputThroughASymlinkWritesItsTarget() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("one\ntwo\n".utf8))
        let target = scratch.appendingPathComponent("target.jsonl")
        try Data("previous\n".utf8).write(to: target)
        let link = scratch.appendingPathComponent("link.jsonl")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--output", link.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(fileType(link), S_IFLNK, "the symlink was replaced by a regular file")
        XCTAssertEqual(text(target).split(separator: "\n").count, 2, "the symlink's target did not get the results")
        XCTAssertEqual(try scratchFiles(), ["input.txt", "link.jsonl", "target.jsonl"], "temporary file left behind")
    }

    func testOutputToAFIFOIsWrittenDirectly() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("one\ntwo\nthree\n".utf8))
        let fifo = scratch.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let received = scratch.appendingPathComponent("received.jsonl")
        let result = try shell("""
            cat "\(fifo.path)" > "\(received.path)" & reader=$!
            "$E" embed --model "$M" --input "\(input.path)" --output "\(fifo.path)"; status=$?
            wait $reader; exit $status
            """, model: model)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(fileType(fifo), S_IFIFO, "the FIFO was replaced")
        XCTAssertEqual(text(received).split(separator: "\n").count, 3, "the FIFO's reader got: \(text(received).prefix(80))")
    }

    /// A character device made in the scratch folder (the null device's numbers, 1:3), standing in for
    /// /dev/null: it must stay a device. Needs root (mknod); elsewhere the FIFO test covers direct writes.
    func testOutputToADeviceStaysADevice() throws {
        let model = try Self.modelFolder()
        let device = scratch.appendingPathComponent("null")
        guard mknod(device.path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 else {
            throw XCTSkip("mknod needs root (errno \(errno))")
        }
        let result = try run(["embed", "--model", model.path, "--output", device.path, "hello"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(fileType(device), S_IFCHR, "the device node was replaced by a regular file")
        let npy = try run(["embed", "--model", model.path, "--output", device.path, "--output-format", "npy", "hello"])
        XCTAssertEqual(npy.status, 0, npy.stderr)
        XCTAssertEqual(fileType(device), S_IFCHR)
    }

    func testOutputToDevStdout() throws {
        let model = try Self.modelFolder()
        let result = try run(["embed", "--model", model.path, "--output", "/dev/stdout", "hello", "world"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try records(result).count, 2)
    }

    /// A new file gets the umask's permissions; an existing one keeps its own.
    func testReplacedFileKeepsItsPermissions() throws {
        let model = try Self.modelFolder()
        let output = scratch.appendingPathComponent("out.jsonl")
        try Data("previous\n".utf8).write(to: output)
        XCTAssertEqual(chmod(output.path, 0o640), 0)
        let result = try run(["embed", "--model", model.path, "--output", output.path, "hello"])
        XCTAssertEqual(result.status, 0, result.stderr)
        var info = stat()
        XCTAssertEqual(stat(output.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
        XCTAssertEqual(text(output).split(separator: "\n").count, 1)
    }

    // MARK: Point 2: output = input, failed runs leave the output alone

    func testOutputThatIsTheInputIsRefused() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("one\ntwo\n".utf8))
        let link = scratch.appendingPathComponent("alias.txt")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: input.path)
        let hard = scratch.appendingPathComponent("hard.txt")
        XCTAssertEqual(Glibc.link(input.path, hard.path), 0)
        for output in [input.path, link.path, hard.path] {
            let result = try run(["embed", "--model", model.path, "--input", input.path, "--output", output])
            XCTAssertEqual(result.status, 1, "\(output): \(result.stderr)")
            XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("input"), result.stderr)
            XCTAssertEqual(text(input), "one\ntwo\n", "\(output): the input was changed")
        }
        // Standard input redirected from the output file.
        let viaStdin = try shell(#""$E" embed --model "$M" --output "\#(input.path)" < "\#(input.path)""#, model: model)
        XCTAssertEqual(viaStdin.status, 1, viaStdin.stderr)
        XCTAssertEqual(text(input), "one\ntwo\n")
        // search: its stdout is the corpus.
        let search = try shell(#""$E" search --model "$M" --corpus "\#(input.path)" query >> "\#(input.path)""#, model: model)
        XCTAssertEqual(search.status, 1, search.stderr)
        XCTAssertEqual(text(input), "one\ntwo\n")
    }

    func testFailedRunLeavesThePreviousOutputUnchanged() throws {
        let model = try Self.modelFolder()
        let output = scratch.appendingPathComponent("out.jsonl")
        try Data("previous\n".utf8).write(to: output)
        // Fails before any result: missing input, missing model.
        let missing = try run(["embed", "--model", model.path, "--input", scratch.appendingPathComponent("nope").path, "--output", output.path])
        XCTAssertEqual(missing.status, 1)
        let noModel = try run(["embed", "--model", scratch.appendingPathComponent("no-model").path, "--output", output.path, "x"])
        XCTAssertEqual(noModel.status, 1)
        XCTAssertEqual(text(output), "previous\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path + ".partial"))

        // Fails at line 3: the two records before it are kept as out.jsonl.partial, whole, and the error says so.
        let input = try inputFile(Array("\"first\"\n\"second\"\nnot json\n\"fourth\"\n".utf8), name: "input.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl", "--output", output.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("line 3"), result.stderr)
        XCTAssertTrue(result.stderr.contains("2 inputs before it were written to \(output.path).partial"), result.stderr)
        XCTAssertEqual(text(output), "previous\n", "a failed run changed the output")
        let partial = text(URL(fileURLWithPath: output.path + ".partial"))
        XCTAssertTrue(partial.hasSuffix("\n"))
        XCTAssertEqual(partial.split(separator: "\n").count, 2)
        XCTAssertEqual(try scratchFiles(), ["input.jsonl", "out.jsonl", "out.jsonl.partial"])

        // npy: the partial file's header states the rows it holds.
        let npy = scratch.appendingPathComponent("out.npy")
        let failedNPY = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl",
                                 "--output-format", "npy", "--output", npy.path])
        XCTAssertEqual(failedNPY.status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: npy.path), "a failed npy run left a file under the final name")
        let partialNPY = try Data(contentsOf: URL(fileURLWithPath: npy.path + ".partial"))
        XCTAssertTrue(String(decoding: partialNPY.prefix(128), as: UTF8.self).contains("'shape': (2, 384)"))
        XCTAssertEqual(partialNPY.count, 128 + 2 * 384 * 4)
    }

    /// npy to a stream: nothing at all after a failure (no header claiming rows), the rows on success.
    func testNPYToAStreamIsWrittenOnlyOnSuccess() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array("\"first\"\nnot json\n".utf8), name: "input.jsonl")
        let result = try run(["embed", "--model", model.path, "--input", input.path, "--input-format", "jsonl", "--output-format", "npy"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout.count, 0, "a failed npy run wrote to the stream")
        XCTAssertTrue(result.stderr.contains("nothing was written"), result.stderr)
    }

    /// SIGINT or SIGTERM part-way: the previous file is as it was and no temporary file is left.
    func testInterruptedRunLeavesThePreviousOutput() throws {
        let model = try Self.modelFolder()
        let output = scratch.appendingPathComponent("out.jsonl")
        for signal in ["INT", "TERM"] {
            try Data("previous\n".utf8).write(to: output)
            // Input: 300 lines, then a pipe held open, so the run is mid-way when the signal comes.
            let result = try shell("""
                cd "\(scratch.path)"
                rm -f in; mkfifo in
                (seq 1 300; exec sleep 60) > in & feeder=$!
                "$E" embed --model "$M" --output out.jsonl < in & pid=$!
                for i in $(seq 1 600); do
                  if [ -n "$(find . -name '.out.jsonl.encoder-*')" ]; then break; fi; sleep 0.1
                done
                kill -\(signal) $pid; wait $pid; echo "status $?"; kill $feeder
                """, model: model)
            XCTAssertTrue(result.stdoutText.contains("status \(signal == "INT" ? 130 : 143)"), "\(signal): \(result.stdoutText) \(result.stderr)")
            XCTAssertEqual(text(output), "previous\n", "\(signal): an interrupted run changed the output")
            XCTAssertEqual(try scratchFiles(), ["in", "out.jsonl"], "\(signal): a temporary or partial file was left")
        }
    }

    /// A full disk, simulated with a file-size limit (`ulimit -f`, SIGXFSZ ignored so writes fail with EFBIG):
    /// the output is unchanged, the whole records written are in `.partial`, and the error says how many.
    func testWriteFailureKeepsWholeRecordsAndSaysHowMany() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array((0..<400).map { "line \($0)" }.joined(separator: "\n").utf8))
        let output = scratch.appendingPathComponent("out.jsonl")
        try Data("previous\n".utf8).write(to: output)
        let result = try shell("""
            trap '' XFSZ; ulimit -f 200
            exec "$E" embed --model "$M" --input "\(input.path)" --output "\(output.path)"
            """, model: model)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertEqual(text(output), "previous\n")
        let partial = text(URL(fileURLWithPath: output.path + ".partial"))
        let lines = partial.split(separator: "\n")
        XCTAssertTrue(partial.hasSuffix("\n"), "the partial file ends in half a record")
        XCTAssertGreaterThan(lines.count, 0)
        XCTAssertTrue(result.stderr.contains("\(lines.count) inputs before it were written"), result.stderr)
        for line in lines { XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(line.utf8))) }
    }

    // MARK: Point 4: read errors and closed descriptors

    func testReadErrorsAndClosedDescriptorsEndInOneLine() throws {
        let model = try Self.modelFolder()
        let corpus = try inputFile(Array("one\n".utf8))
        for (name, script) in [
            ("stdin is a directory", #""$E" embed --model "$M" < /"#),
            ("stdin closed", #""$E" embed --model "$M" <&-"#),
            ("--input /proc/self/mem", #""$E" embed --model "$M" --input /proc/self/mem"#),
            ("tokenize stdin directory", #""$E" tokenize --model "$M" < /"#),
            ("search --corpus /proc/self/mem", #""$E" search --model "$M" --corpus /proc/self/mem q"#),
            ("search --corpus a directory", #""$E" search --model "$M" --corpus / q"#),
        ] {
            let result = try shell(script, model: model)
            XCTAssertEqual(result.status, 1, "\(name): \(result.stderr)")
            XCTAssertEqual(result.stderrLines.count, 1, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("Error: "), "\(name): \(result.stderr)")
        }
        // Closed stderr: the run completes (the summary line is lost, not a crash).
        let closedStderr = try shell(#""$E" embed --model "$M" hello 2>&-"#, model: model)
        XCTAssertEqual(closedStderr.status, 0)
        XCTAssertEqual(try records(closedStderr).count, 1)
        let closedBoth = try shell(#""$E" embed --model "$M" --input "\#(corpus.path)" 2>&- >&-; echo "status $?""#, model: model)
        XCTAssertTrue(closedBoth.stdoutText.contains("status 1"), closedBoth.stdoutText)
    }

    // MARK: Point 5: numeric options

    func testNumericOptionsAreBounded() throws {
        for arguments in [
            ["embed", "--batch-size", "2305843009213693952", "x"], ["embed", "--batch-size", "-1", "x"],
            ["embed", "--batch-size", "1000000000", "x"], ["embed", "--threads", "4611686018427387904", "x"],
            ["embed", "--threads", "100000", "x"], ["embed", "--threads", "0", "x"],
            ["search", "--corpus", "c", "--top", "0", "q"], ["search", "--corpus", "c", "--batch-size", "0", "q"],
            ["search", "--corpus", "c", "--threads", "0", "q"], ["search", "--corpus", "c", "--top", "-3", "q"],
            ["search", "--corpus", "c", "--reduce-dimensions", "0", "q"], ["search", "--corpus", "c", "--repeat", "0", "q"],
            ["search", "--corpus", "c", "--evaluate-reduction", "8,0", "q"],
            ["bench", "gemm", "--tokens", "1000000", "--hidden", "1000000"], ["bench", "gemm", "--hidden", "5000"],
            ["bench", "gemm", "--naive-budget", "-1"], ["bench", "--threads", "100000"], ["bench", "--repeat", "-1"],
            ["tokenize", "--max-length", "9223372036854775807", "x"],
        ] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout.count, 0, "\(arguments)")
            let option = arguments.first { $0.hasPrefix("--") && $0 != "--corpus" }!
            XCTAssertTrue(result.stderr.contains(option), "\(arguments): the message does not name \(option): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Missing value"), "\(arguments): \(result.stderr)")
        }
    }

    func testVersion() throws {
        let result = try run(["--version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertNotNil(result.stdoutText.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression), result.stdoutText)
    }
}

/// What held before issue 10's changes, kept: SIGPIPE, a closed stdout, determinism across runs (and thread counts, to rounding).
extension CLIReliabilityTests {
    func testWhatHeldStillHolds() throws {
        let model = try Self.modelFolder()
        let input = try inputFile(Array((0..<40).map { "sentence number \($0) about cats" }.joined(separator: "\n").utf8))
        // The reader of stdout goes away: killed by SIGPIPE (141), not an error message per record. The
        // child is started with SIGPIPE ignored, as some CI runners start theirs: the CLI restores the default.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let pipe = try shell(#"( "$E" embed --model "$M" --input "\#(input.path)"; echo $? > "\#(scratch.path)/status" ) | head -n 1 > /dev/null"#, model: model)
        XCTAssertEqual(pipe.status, 0, pipe.stderr)
        XCTAssertEqual(text(scratch.appendingPathComponent("status")), "141\n")
        // A closed stdout: exit 1, one line naming <stdout>.
        let closed = try shell(#""$E" embed --model "$M" hello >&-"#, model: model)
        XCTAssertEqual(closed.status, 1, closed.stderr)
        XCTAssertEqual(closed.stderrLines.count, 1, closed.stderr)
        XCTAssertTrue(closed.stderr.contains("<stdout>"), closed.stderr)
        // Byte-identical output across runs; across thread counts equal to float rounding (the threads split
        // the work differently, so sums may round differently: ~1e-7 measured here on 40 texts).
        let runs = try [["--threads", "2"], ["--threads", "2"], ["--threads", "1"]].map {
            try run(["embed", "--model", model.path, "--input", input.path] + $0)
        }
        for result in runs { XCTAssertEqual(result.status, 0, result.stderr) }
        XCTAssertEqual(runs[0].stdout, runs[1].stdout, "two runs differ")
        let (two, one) = (try records(runs[0]), try records(runs[2]))
        XCTAssertEqual(two.count, 40)
        XCTAssertEqual(one.count, 40)
        var worst = 0.0
        for (a, b) in zip(two, one) { worst = max(worst, distance(try embedding(a), try embedding(b))) }
        print("encoder embed --threads 2 vs --threads 1, 40 texts: max |difference| \(worst)")
        XCTAssertLessThan(worst, 1e-6)
    }
}
