import XCTest
@testable import EncoderServer

/// `encoder serve`'s limits are bounded: each value out of its range is a problem naming its flag and the
/// range, checked without starting a server.
final class ConfigurationTests: XCTestCase {
    func testDefaultsAreValid() {
        XCTAssertEqual(ServerConfiguration().problems(), [])
        XCTAssertEqual(ServerConfiguration().problems(maxInputLength: 512), [])
    }

    func testEveryNumericLimitIsBoundedBothWays() {
        let cases: [(WritableKeyPath<ServerConfiguration, Int>, String, ClosedRange<Int>)] = [
            (\.port, "--port", ServerConfiguration.portRange),
            (\.maxBatchTokens, "--max-batch-tokens", ServerConfiguration.maxBatchTokensRange),
            (\.maxConcurrentRequests, "--max-concurrent-requests", ServerConfiguration.maxConcurrentRequestsRange),
            (\.maxClientBatchSize, "--max-client-batch-size", ServerConfiguration.maxClientBatchSizeRange),
            (\.maxBodyBytes, "body limit", ServerConfiguration.maxBodyBytesRange),
        ]
        for (field, flag, range) in cases {
            for bad in [range.lowerBound - 1, range.upperBound + 1, Int.min, Int.max] {
                var configuration = ServerConfiguration()
                configuration[keyPath: field] = bad
                let problems = configuration.problems()
                XCTAssertEqual(problems.count, 1, "\(flag) \(bad): \(problems)")
                let problem = problems.first ?? ""
                XCTAssertTrue(problem.contains(flag), problem)
                XCTAssertTrue(problem.contains("between \(range.lowerBound) and \(range.upperBound), got \(bad)"), problem)
            }
            for good in [range.lowerBound, range.upperBound] {
                var configuration = ServerConfiguration()
                configuration[keyPath: field] = good
                XCTAssertEqual(configuration.problems(), [], "\(flag) \(good)")
            }
        }
    }

    func testBatchTokensMustHoldTheModelsLongestInput() {
        var configuration = ServerConfiguration()
        configuration.maxBatchTokens = 100
        XCTAssertEqual(configuration.problems(), [])
        XCTAssertEqual(
            configuration.problems(maxInputLength: 512),
            ["--max-batch-tokens must be at least the model's max input length 512, got 100"])
        // Out of range is said once, not twice.
        configuration.maxBatchTokens = 0
        XCTAssertEqual(configuration.problems(maxInputLength: 512), ["--max-batch-tokens must be between 1 and 131072, got 0"])
    }

    func testSeveralProblemsAreAllReported() {
        var configuration = ServerConfiguration()
        configuration.port = 70000
        configuration.maxClientBatchSize = 0
        configuration.apiKey = ""
        XCTAssertEqual(configuration.problems(), [
            "--port must be between 0 and 65535, got 70000",
            "--max-client-batch-size must be between 1 and 16384, got 0",
            "--api-key must not be empty",
        ])
    }
}
