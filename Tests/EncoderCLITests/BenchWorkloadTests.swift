import Foundation
import XCTest
@testable import encoder

/// `encoder bench`'s named workloads are the batches Scripts/make_bench_tokens.py writes under the same names
/// (Tests/Fixtures/bench_workloads.jsonl, written by `make_bench_tokens.py --fixture`): one definition.
final class BenchWorkloadTests: XCTestCase {
    struct Fixture: Decodable {
        let name: String
        let input_ids: [[Int32]]
    }

    func testSwiftWorkloadsEqualTheScriptsBatches() throws {
        let url = CLIReliabilityTests.repositoryRoot.appendingPathComponent("Tests/Fixtures/bench_workloads.jsonl")
        let fixtures = try String(decoding: Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Fixture.self, from: Data($0.utf8))
        }
        XCTAssertEqual(fixtures.map(\.name), EncoderWorkload.all.map(\.name))
        for fixture in fixtures {
            let workload = try XCTUnwrap(EncoderWorkload.named(fixture.name))
            XCTAssertEqual(workload.sequences.map(\.inputIDs), fixture.input_ids, fixture.name)
        }
        // The mixed workload really is mixed, within 8...128.
        let mixed = try XCTUnwrap(EncoderWorkload.named("b32_mixed8-128")).sequences.map(\.count)
        XCTAssertGreaterThan(Set(mixed).count, 10)
        XCTAssertTrue(mixed.allSatisfy { (8...128).contains($0) })
    }
}

/// `encoder bench --tokens FILE`: errors name the line as an editor numbers it (blank lines counted), show the
/// value as written, and booleans are not ids. The file is read before the model is loaded.
extension CLIReliabilityTests {
    func testBenchTokenFileErrors() throws {
        for (content, expected) in [
            ("\n\n{\"input_ids\": [101, 102]}\n\n{\"input_ids\": \"x\"}\n", "line 5"),
            ("{\"input_ids\": [101, 1099511627776, 102]}\n", "1099511627776"),
            ("{\"input_ids\": [true, false]}\n", "not an integer"),
            ("{\"input_ids\": [101, 1.5]}\n", "1.5"),
            ("{\"input_ids\": [101, -1]}\n", "-1"),
            ("{\"input_ids\": [101, 102], \"token_type_ids\": [0, true]}\n", "token_type_ids"),
        ] {
            let file = try inputFile(Array(content.utf8), name: "tokens.jsonl")
            let result = try run(["bench", "--tokens", file.path, "--model", scratch.appendingPathComponent("no-model").path])
            XCTAssertEqual(result.status, 1, "\(content): \(result.stderr)")
            XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), "\(content): expected '\(expected)' in \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("2147483647 in"), result.stderr)
        }
    }
}
