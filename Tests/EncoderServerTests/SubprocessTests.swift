import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import XCTest

/// The built `encoder` binary as a server in its own process, over real HTTP on loopback: the ready
/// line, the APIs against the references, and SIGTERM draining (no accepted request lost, exit 0).
final class SubprocessTests: XCTestCase {
    typealias S = ServerTestSupport

    /// The `encoder` executable built alongside this test bundle.
    static func executable() throws -> URL {
        var candidates: [URL] = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("encoder"),
            Bundle.main.bundleURL.appendingPathComponent("encoder"),
        ]
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("encoder"))
        }
        candidates.append(S.repositoryRoot.appendingPathComponent(".build/debug/encoder"))
        for url in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: url.path)
            {
                return url
            }
        }
        XCTFail("encoder executable not found; looked at \(candidates.map(\.path))")
        throw XCTSkip("encoder executable missing (failed above)")
    }

    /// A running `encoder serve --port 0` and the port it printed.
    final class ServerProcess: @unchecked Sendable {
        let process = Process()
        let port: Int
        private let stderrText = TextBox()

        init(arguments: [String]) throws {
            process.executableURL = try SubprocessTests.executable()
            process.arguments = ["serve", "--port", "0"] + arguments
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = stderrText
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil; return }
                text.value.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            let deadline = Date().addingTimeInterval(60)
            var port: Int?
            while port == nil && Date() < deadline && process.isRunning {
                let current = stderrText.value.withLock { $0 }
                if let range = current.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    port = Int(current[range].split(separator: ":").last ?? "")
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
            guard let port else {
                process.terminate()
                throw TestFailure("no ready line from encoder serve: \(stderrText.value.withLock { $0 })")
            }
            self.port = port
        }

        var stderr: String { stderrText.value.withLock { $0 } }

        func waitForExit(seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return process.isRunning ? nil : process.terminationStatus
        }

        deinit { if process.isRunning { process.interrupt(); process.terminate() } }
    }

    final class TextBox: Sendable {
        let value = Mutex("")
    }

    func testBinaryServesBothAPIsOverLoopback() async throws {
        let folder = try S.modelFolder()
        let references = Array(try S.referenceSentences().prefix(8))
        let server = try ServerProcess(arguments: ["--model", folder.path, "--api-key", "k3y"])
        XCTAssertTrue(server.stderr.contains("listening on http://127.0.0.1:\(server.port)"), server.stderr)
        let auth: HTTPFields = [.authorization: "Bearer k3y"]

        let openAI = try await send(port: server.port, .post, "/v1/embeddings", body: try S.json(["input": references.map(\.text)]), headers: auth)
        XCTAssertEqual(openAI.status, .ok)
        let data = try XCTUnwrap((try S.parse(openAI.body) as? [String: Any])?["data"] as? [[String: Any]])
        var worst: Float = 0
        for (item, reference) in zip(data, references) {
            worst = max(worst, S.maxDifference(try S.floatRows([try XCTUnwrap(item["embedding"])])[0], reference.embedding))
        }
        let tei = try await send(port: server.port, .post, "/embed", body: try S.json(["inputs": references.map(\.text)]), headers: auth)
        XCTAssertEqual(tei.status, .ok)
        for (row, reference) in zip(try S.floatRows(try S.parse(tei.body)), references) {
            worst = max(worst, S.maxDifference(row, reference.embedding))
        }
        print("subprocess server vs sentence-transformers: max |difference| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-5)
        let unauthorized = try await send(port: server.port, .post, "/embed", body: try S.json(["inputs": "x"]))
        XCTAssertEqual(unauthorized.status, .unauthorized)
        let health = try await send(port: server.port, .get, "/health")
        XCTAssertEqual(health.status, .ok)

        server.process.interrupt()  // SIGINT
        XCTAssertEqual(server.waitForExit(seconds: 60), 0, server.stderr)
        XCTAssertTrue(server.stderr.contains("encoder serve: stopped"), server.stderr)
    }

    /// SIGTERM while 16 requests are queued: every one is answered in full, then the process exits 0.
    func testSIGTERMDrainsAcceptedRequests() async throws {
        let folder = try S.modelFolder()
        let references = try S.referenceSentences()
        let server = try ServerProcess(arguments: ["--model", folder.path])
        let port = server.port
        let requests: [[Int]] = (0..<16).map { i in (0..<8).map { (i * 8 + $0) % 30 } }
        let inFlightAtSignal = Mutex(0)
        let answers = try await withThrowingTaskGroup(of: (Int, TestClient.Response).self) { group in
            for (i, indices) in requests.enumerated() {
                group.addTask {
                    (i, try await send(port: port, .post, "/embed", body: try S.json(["inputs": indices.map { references[$0].text }])))
                }
            }
            // Wait until the server has accepted all 16 (the forward passes are slow in a debug build).
            let deadline = Date().addingTimeInterval(60)
            var inFlight = 0
            while Date() < deadline {
                let metrics = try await send(port: port, .get, "/metrics")
                let text = String(buffer: try XCTUnwrap(metrics.body))
                inFlight = text.split(separator: "\n").first { $0.hasPrefix("encoder_requests_in_flight ") }
                    .flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) } ?? 0
                if inFlight == 16 { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            inFlightAtSignal.withLock { $0 = inFlight }
            kill(server.process.processIdentifier, SIGTERM)
            var answers = [TestClient.Response?](repeating: nil, count: requests.count)
            for try await (i, response) in group { answers[i] = response }
            return answers.compactMap { $0 }
        }
        let accepted = inFlightAtSignal.withLock { $0 }
        print("SIGTERM with \(accepted) requests in flight")
        XCTAssertGreaterThan(accepted, 0, "no request was in flight at SIGTERM: the test proves nothing")
        XCTAssertEqual(answers.count, 16)
        var worst: Float = 0
        for (response, indices) in zip(answers, requests) {
            XCTAssertEqual(response.status, .ok, String(buffer: response.body ?? ByteBuffer()))
            let rows = try S.floatRows(try S.parse(response.body))
            XCTAssertEqual(rows.count, 8)
            for (row, index) in zip(rows, indices) { worst = max(worst, S.maxDifference(row, references[index].embedding)) }
        }
        print("answers after SIGTERM vs sentence-transformers: max |difference| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-5)
        XCTAssertEqual(server.waitForExit(seconds: 60), 0, server.stderr)
        XCTAssertTrue(server.stderr.contains("encoder serve: stopped"), server.stderr)
        // Nothing listens any more.
        do {
            let late = try await send(port: port, .get, "/health")
            XCTFail("server still answering after exit: \(late.status)")
        } catch {}
    }
}
