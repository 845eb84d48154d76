import Foundation
import TransformerEncoder

/// Times one GEMM shape on both backends of the matrix layer.
enum GEMMBenchmark {
    /// C(m×n) = X(m×k)·Wᵀ with Wᵀ stored as B(k×n), the layout of the encoder's dense layers over `m` tokens.
    struct Shape {
        let m: Int, n: Int, k: Int
        let label: String
        var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    struct Result {
        let shape: Shape
        let blasGFLOPS: Double
        /// The same product split by rows across `threads` encoder threads, OpenBLAS single-threaded in each
        /// (how the encoder runs its dense layers).
        let splitGFLOPS: Double
        let threads: Int
        let naiveGFLOPS: Double?
        let maxDifference: Float?
        /// The product on oneDNN the way the `.onednn` backend runs it (rows split across `threads` threads,
        /// oneDNN single-threaded in each, weights prepared once), per precision; nil where the CPU refuses it.
        var oneDNN: OneDNNRates = OneDNNRates()
        var speedup: Double? { naiveGFLOPS.map { blasGFLOPS / $0 } }

        var jsonObject: [String: Any] {
            [
                "m": shape.m, "n": shape.n, "k": shape.k, "layer": shape.label,
                "blas_gflops": blasGFLOPS,
                "split_gflops": splitGFLOPS, "threads": threads,
                "naive_gflops": naiveGFLOPS.map { $0 as Any } ?? NSNull(),
                "speedup": speedup.map { $0 as Any } ?? NSNull(),
                "max_abs_difference": maxDifference.map { Double($0) as Any } ?? NSNull(),
                "blas_core": OpenBLAS.coreName, "blas_threads": OpenBLAS.threadCount,
                "onednn_fp32_gflops": oneDNN.fp32.map { $0 as Any } ?? NSNull(),
                "onednn_bf16_gflops": oneDNN.bf16.map { $0 as Any } ?? NSNull(),
                "onednn_int8_gops": oneDNN.int8.map { $0 as Any } ?? NSNull(),
                "onednn_isa": OneDNN.instructionSet,
            ]
        }
    }

    /// GFLOP/s (GOP/s for int8) of oneDNN's product in each precision; nil when the CPU cannot run it fast.
    struct OneDNNRates {
        var fp32: Double?
        var bf16: Double?
        var int8: Double?
    }

    /// oneDNN's rates on `shape`, rows split across `threads` threads as ``split(_:repeats:threads:)`` does.
    /// The fp32 product is checked against OpenBLAS first, bf16 and int8 to a relative tolerance.
    static func oneDNN(_ shape: Shape, repeats: Int, threads: Int) throws -> OneDNNRates {
        var generator = SplitMix64(seed: UInt64(shape.m * 1_000_003 + shape.n * 1009 + shape.k))
        let a = try Matrix(rows: shape.m, columns: shape.k, values: (0..<(shape.m * shape.k)).map { _ in generator.nextFloat() })
        let b = try Matrix(rows: shape.k, columns: shape.n, values: (0..<(shape.k * shape.n)).map { _ in generator.nextFloat() })
        let expected = try ComputeBackend.blas.product(a, b)
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        var c = try Matrix(rows: shape.m, columns: shape.n)
        var rates = OneDNNRates()
        for precision in Precision.allCases {
            var made: OneDNNProduct?
            do throws(EncoderError) {
                made = try OneDNNProduct(b, precision: precision)
            } catch {
                guard case .unsupportedPrecision = error else { throw error }
            }
            guard let product = made else { continue }  // refused on this CPU: reported as such
            try product.multiply(a, into: &c, threads: threads)
            let difference = c.maxAbsoluteDifference(to: expected) ?? .infinity
            // fp32 as the BLAS check; bf16 (8-bit mantissa) and int8 (7 bits per operand) relative to the largest value.
            let tolerance: Float = precision == .fp32 ? 1e-5 * Float(shape.k).squareRoot() * 4 : 0.05 * scale
            guard difference <= tolerance else { throw Failure.oneDNNMismatch(shape, precision, difference) }
            let seconds = try median(repeats) { try product.multiply(a, into: &c, threads: threads) }
            let rate = shape.flops / seconds / 1e9
            switch precision {
            case .fp32: rates.fp32 = rate
            case .bf16: rates.bf16 = rate
            case .int8: rates.int8 = rate
            }
        }
        return rates
    }

    enum Failure: Error, CustomStringConvertible {
        case mismatch(Shape, Float)
        case oneDNNMismatch(Shape, Precision, Float)
        var description: String {
            switch self {
            case let .mismatch(s, d):
                return "BLAS and naive disagree on \(s.m)×\(s.n)×\(s.k): max difference \(d)"
            case let .oneDNNMismatch(s, p, d):
                return "oneDNN \(p.rawValue) and BLAS disagree on \(s.m)×\(s.n)×\(s.k): max difference \(d)"
            }
        }
    }

    /// GFLOP/s of the product split by rows across `threads` threads; the caller has set OpenBLAS to one
    /// thread. Call before any threaded OpenBLAS call in the process: OpenBLAS's idle threads keep spinning
    /// afterwards (even raising its thread count wakes them) and would take a core from the split.
    static func split(_ shape: Shape, repeats: Int, threads: Int) throws -> Double {
        var generator = SplitMix64(seed: UInt64(shape.m * 1_000_003 + shape.n * 1009 + shape.k))
        let a = try Matrix(rows: shape.m, columns: shape.k, values: (0..<(shape.m * shape.k)).map { _ in generator.nextFloat() })
        let b = try Matrix(rows: shape.k, columns: shape.n, values: (0..<(shape.k * shape.n)).map { _ in generator.nextFloat() })
        var c = try Matrix(rows: shape.m, columns: shape.n)
        let seconds = try median(repeats) {
            try ComputeBackend.blas.multiply(a, b, into: &c, threads: threads)
        }
        return shape.flops / seconds / 1e9
    }

    static func run(_ shape: Shape, repeats: Int, runNaive: Bool, threads: Int, splitGFLOPS: Double) throws -> Result {
        var generator = SplitMix64(seed: UInt64(shape.m * 1_000_003 + shape.n * 1009 + shape.k))
        let a = try Matrix(rows: shape.m, columns: shape.k, values: (0..<(shape.m * shape.k)).map { _ in generator.nextFloat() })
        let b = try Matrix(rows: shape.k, columns: shape.n, values: (0..<(shape.k * shape.n)).map { _ in generator.nextFloat() })
        var blasC = try Matrix(rows: shape.m, columns: shape.n)
        var naiveC = try Matrix(rows: shape.m, columns: shape.n)

        // Check before timing: on the full shape when naive runs, else on a slice of rows.
        let checkRows = runNaive ? shape.m : min(shape.m, 8)
        let aCheck = try Matrix(rows: checkRows, columns: shape.k, values: Array(a.values[0..<(checkRows * shape.k)]))
        let blasCheck = try ComputeBackend.blas.product(aCheck, b)
        let naiveCheck = try ComputeBackend.naive.product(aCheck, b)
        let difference = blasCheck.maxAbsoluteDifference(to: naiveCheck) ?? .infinity
        // Inputs in [-1, 1): sums of k terms; allow float rounding growing with √k.
        guard difference <= 1e-5 * Float(shape.k).squareRoot() * 4 else { throw Failure.mismatch(shape, difference) }

        let blasSeconds = try median(repeats) {
            try ComputeBackend.blas.multiply(a, b, into: &blasC)
        }
        var naiveSeconds: Double? = nil
        if runNaive {
            naiveSeconds = try median(max(1, min(repeats, 3))) {
                try ComputeBackend.naive.multiply(a, b, into: &naiveC)
            }
        }
        return Result(
            shape: shape, blasGFLOPS: shape.flops / blasSeconds / 1e9,
            splitGFLOPS: splitGFLOPS, threads: threads,
            naiveGFLOPS: naiveSeconds.map { shape.flops / $0 / 1e9 }, maxDifference: difference)
    }

    /// Median wall time of `count` runs of `body`, after one warm-up run.
    static func median(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }

    static func table(_ results: [Result]) -> String {
        var rows = [[
            "m", "n", "k", "layer", "BLAS GFLOP/s", "split GFLOP/s", "oneDNN fp32", "oneDNN bf16", "oneDNN int8 GOP/s",
            "naive GFLOP/s", "speed-up",
        ]]
        func rate(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "refused" }
        for r in results {
            rows.append([
                "\(r.shape.m)", "\(r.shape.n)", "\(r.shape.k)", r.shape.label,
                String(format: "%.1f", r.blasGFLOPS), String(format: "%.1f", r.splitGFLOPS),
                rate(r.oneDNN.fp32), rate(r.oneDNN.bf16), rate(r.oneDNN.int8),
                r.naiveGFLOPS.map { String(format: "%.2f", $0) } ?? "skipped",
                r.speedup.map { String(format: "%.0f×", $0) } ?? "-",
            ])
        }
        return TextTable.render(rows)
    }
}

/// Aligned plain-text tables: first row is the header; numbers right-aligned.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 || Double(cell.filter { $0 != "×" }) != nil ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.dropFirst().map(line)
        return out.joined(separator: "\n")
    }
}
