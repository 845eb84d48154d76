import Foundation
import XCTest
@testable import TransformerEncoder

/// ``OneDNNProduct`` (the `.onednn` backend's dense-layer product) against the naive backend and an exact
/// (double precision) product, element by element, with rigorous error bounds: for an output
/// `y[i, j] = Σₗ a[i, l]·b[l, j]` over `k` terms, fp32 accumulation in any order is within `k·u·Σₗ |a[i, l]|·|b[l, j]|`
/// of the exact value (u = 2⁻²⁴, the unit roundoff; Higham's γₖ to first order, a little slack added), so
/// two fp32 products are within `k·ε·Σₗ |a|·|b|` of each other (ε = 2⁻²³). The reduced precisions add their
/// input rounding: bf16 `2·2⁻⁸·|a|·|b|` per term, int8 the quantization steps of the row and the column.
/// Shapes cover one row, odd `n` and `k`, one tile of 16 rows, several tiles (128 + 2 rows) and splits across threads.
final class OneDNNProductTests: XCTestCase {
    /// (m, k, n)
    static let shapes: [(Int, Int, Int)] = [
        (1, 384, 1536), (1, 37, 19), (3, 1, 5), (7, 129, 65), (16, 384, 384), (33, 1536, 97), (130, 67, 131),
        (200, 384, 33),
    ]
    static let u = Double(Float.ulpOfOne) / 2

    struct Operands {
        let a: Matrix
        let b: Matrix
        /// (m, n) the exact product (double accumulation of float products: exact to ~2⁻⁵³ relative).
        let exact: [Double]
        /// (m, n) Σₗ |a[i, l]|·|b[l, j]|.
        let magnitude: [Double]
    }

    /// a (m, k) and b (k, n) uniform in [-1, 1), their exact product and magnitude sums.
    static func operands(_ m: Int, _ k: Int, _ n: Int, seed: UInt64) -> Operands {
        var random = TestRandom(seed: seed)
        let a = random.matrix(m, k)
        return operands(from: a, random.matrix(k, n))
    }

    /// a, b, their exact product and magnitude sums.
    static func operands(from a: Matrix, _ b: Matrix) -> Operands {
        let (m, k, n) = (a.rows, a.columns, b.columns)
        var exact = [Double](repeating: 0, count: m * n)
        var magnitude = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for l in 0..<k {
                let x = Double(a[i, l])
                for j in 0..<n {
                    let p = x * Double(b[l, j])
                    exact[i * n + j] += p
                    magnitude[i * n + j] += abs(p)
                }
            }
        }
        return Operands(a: a, b: b, exact: exact, magnitude: magnitude)
    }

    static func oneDNN(_ operands: Operands, precision: Precision, threads: Int) throws -> Matrix {
        let product = try OneDNNProduct(operands.b, precision: precision)
        var y = try Matrix(rows: operands.a.rows, columns: operands.b.columns)
        try product.multiply(operands.a, into: &y, threads: threads)
        return y
    }

    func testFP32MatchesNaiveAndExactWithinRoundingBounds() throws {
        for (index, (m, k, n)) in Self.shapes.enumerated() {
            let operands = Self.operands(m, k, n, seed: 100 + UInt64(index))
            var naive = try Matrix(rows: m, columns: n)
            operands.a.values.withUnsafeBufferPointer { pa in
                operands.b.values.withUnsafeBufferPointer { pb in
                    naive.withUnsafeMutableValues { pc in
                        ComputeBackend.naive.gemm(
                            transposeA: .none, transposeB: .none, m: m, n: n, k: k, alpha: 1,
                            a: pa.baseAddress, lda: k, b: pb.baseAddress, ldb: n, beta: 0, c: pc.baseAddress, ldc: n)
                    }
                }
            }
            for threads in [1, 2] {
                let y = try Self.oneDNN(operands, precision: .fp32, threads: threads)
                // Largest |difference| as a share of its bound, over all elements (≤ 1 passes).
                var worstToNaive = 0.0
                var worstToExact = 0.0
                for e in 0..<(m * n) {
                    // k roundings at most (k = 1: the product's own), each ≤ u·(partial sum) ≤ u·Σ|a|·|b|.
                    let toExact = max(1.01 * Double(k) * Self.u * operands.magnitude[e], .leastNonzeroMagnitude)
                    let ours = Double(y.values[e])
                    worstToNaive = max(worstToNaive, abs(ours - Double(naive.values[e])) / (2 * toExact))
                    worstToExact = max(worstToExact, abs(ours - operands.exact[e]) / toExact)
                }
                print("oneDNN fp32 \(m)×\(k)×\(n), \(threads) threads: max |Δ| / bound: to naive \(worstToNaive), to exact \(worstToExact)")
                XCTAssertLessThanOrEqual(worstToNaive, 1, "\(m)×\(k)×\(n), \(threads) threads: oneDNN vs naive")
                XCTAssertLessThanOrEqual(worstToExact, 1, "\(m)×\(k)×\(n), \(threads) threads: oneDNN vs exact")
            }
        }
    }

    /// bf16: each input rounded to 8 significant bits, within one bf16 ulp (relative error ≤ 2⁻⁸ whatever the
    /// rounding: round-to-nearest alone, 2⁻⁹, is exceeded at k = 1, by 2 %), so each term is within
    /// (2·2⁻⁸ + 2⁻¹⁶)·|a|·|b| of exact, then fp32 accumulation.
    func testBF16WithinInputRoundingBounds() throws {
        try XCTSkipUnless((try? OneDNN.checkSupport(.bf16)) != nil, "no fast bf16 on this CPU (\(OneDNN.instructionSet))")
        let ub = 1.0 / 256
        for (index, (m, k, n)) in Self.shapes.enumerated() {
            let operands = Self.operands(m, k, n, seed: 200 + UInt64(index))
            let y = try Self.oneDNN(operands, precision: .bf16, threads: 2)
            var worst = 0.0
            for e in 0..<(m * n) {
                let bound = (2 * ub + ub * ub + 1.01 * Double(k) * Self.u * (1 + ub) * (1 + ub)) * operands.magnitude[e]
                worst = max(worst, abs(Double(y.values[e]) - operands.exact[e]) / max(bound, .leastNonzeroMagnitude))
            }
            print("oneDNN bf16 \(m)×\(k)×\(n): max |Δ to exact| / bound \(worst)")
            XCTAssertLessThanOrEqual(worst, 1, "\(m)×\(k)×\(n) bf16")
        }
    }

    /// int8: a row quantized to u8 with step sᵣ = (max(0, max a) − min(0, min a)) / 255 and a zero point,
    /// a column of b to s8 with step s꜀ = max|b[:, c]| / 127, each value within half a step; the s32 sums are
    /// exact, the zero-point correction and scaling in fp32. Bound:
    /// ½sᵣ·Σ|b| + ½s꜀·Σ|a| + ¼k·sᵣ·s꜀ (quantization) + 8u·sᵣ·s꜀·255·127·k (fp32 of the integer sums).
    func testInt8WithinQuantizationBounds() throws {
        try XCTSkipUnless((try? OneDNN.checkSupport(.int8)) != nil, "no fast int8 on this CPU (\(OneDNN.instructionSet))")
        for (index, (m, k, n)) in Self.shapes.enumerated() {
            var operands = Self.operands(m, k, n, seed: 300 + UInt64(index))
            // A shifted row range (all positive, as after GELU) exercises the zero point away from the middle.
            if m > 2 {
                var a = operands.a
                for l in 0..<k { a[1, l] = abs(a[1, l]) * 3 + 0.5 }
                operands = Self.operands(from: a, operands.b)
            }
            let (a, b) = (operands.a, operands.b)
            let y = try Self.oneDNN(operands, precision: .int8, threads: 2)
            let rowSteps = (0..<m).map { i -> Double in
                let row = (0..<k).map { Double(a[i, $0]) }
                let step = (max(0, row.max()!) - min(0, row.min()!)) / 255
                return step > 0 ? step : 1
            }
            let columnSteps = (0..<n).map { j -> Double in
                let step = (0..<k).map { abs(Double(b[$0, j])) }.max()! / 127
                return step > 0 ? step : 1
            }
            let rowSums = (0..<m).map { i in (0..<k).reduce(0.0) { $0 + abs(Double(a[i, $1])) } }
            let columnSums = (0..<n).map { j in (0..<k).reduce(0.0) { $0 + abs(Double(b[$1, j])) } }
            var worst = 0.0
            var worstError = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let (sr, sc) = (rowSteps[i], columnSteps[j])
                    let bound = 0.501 * sr * columnSums[j] + 0.501 * sc * rowSums[i] + 0.26 * Double(k) * sr * sc
                        + 8 * Self.u * sr * sc * 255 * 127 * Double(k)
                    let error = abs(Double(y[i, j]) - operands.exact[i * n + j])
                    worst = max(worst, error / bound)
                    worstError = max(worstError, error)
                }
            }
            print("oneDNN int8 \(m)×\(k)×\(n): max |Δ to exact| \(worstError), / bound \(worst)")
            XCTAssertLessThanOrEqual(worst, 1, "\(m)×\(k)×\(n) int8")
        }
    }
}
