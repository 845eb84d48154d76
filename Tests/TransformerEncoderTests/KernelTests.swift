import Foundation
import XCTest
@testable import TransformerEncoder

/// The vectorized element-wise kernels against plain Foundation math in double precision.
final class KernelTests: XCTestCase {
    func testExpMatchesFoundation() {
        var worstRelative: Double = 0
        var x: Float = -87
        while x < 88 {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = x + Float(i) * 0.0371 }
            let e = SIMDMath.exp(v)
            for i in 0..<16 {
                let reference = Foundation.exp(Double(v[i]))
                worstRelative = max(worstRelative, abs(Double(e[i]) - reference) / reference)
            }
            x += 0.61
        }
        print("SIMD exp: max relative error \(worstRelative)")
        XCTAssertLessThan(worstRelative, 3e-7)
        let edges = SIMDMath.exp(SIMD16<Float>(repeating: -1000))
        XCTAssertEqual(edges[0], 0)
        XCTAssertEqual(SIMDMath.exp(SIMD16<Float>(repeating: 1000))[0], .infinity)
        XCTAssertEqual(SIMDMath.exp(SIMD16<Float>(repeating: 0))[0], 1)
    }

    func testErfAndGELUMatchFoundation() {
        var worstErf: Double = 0
        var worstGELU: Double = 0
        var x: Float = -9
        while x < 9 {
            var v = SIMD8<Float>()
            for i in 0..<8 { v[i] = x + Float(i) * 0.00173 }
            let e = SIMDMath.erf(v)
            var wide = SIMD16<Float>()
            for i in 0..<8 { wide[i] = v[i]; wide[i + 8] = -v[i] }
            let g = Activation.gelu.apply(wide)
            for i in 0..<8 {
                let xd = Double(v[i])
                worstErf = max(worstErf, abs(Double(e[i]) - Foundation.erf(xd)))
                let gelu = 0.5 * xd * (1 + Foundation.erf(xd / 2.0.squareRoot()))
                worstGELU = max(worstGELU, abs(Double(g[i]) - gelu) / max(1, abs(gelu)))
                let geluNeg = 0.5 * -xd * (1 + Foundation.erf(-xd / 2.0.squareRoot()))
                worstGELU = max(worstGELU, abs(Double(g[i + 8]) - geluNeg) / max(1, abs(geluNeg)))
            }
            x += 0.0137
        }
        print("SIMD erf: max abs error \(worstErf); GELU: max error \(worstGELU)")
        XCTAssertLessThan(worstErf, 2e-7)
        XCTAssertLessThan(worstGELU, 3e-7)
    }

    func testOtherActivations() {
        var v = SIMD16<Float>()
        for i in 0..<16 { v[i] = Float(i) * 0.7 - 5.2 }
        let tanhGELU = Activation.geluTanh.apply(v)
        let relu = Activation.relu.apply(v)
        let silu = Activation.silu.apply(v)
        for i in 0..<16 {
            let x = Double(v[i])
            let expectedTanh = 0.5 * x * (1 + Foundation.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
            XCTAssertEqual(Double(tanhGELU[i]), expectedTanh, accuracy: 1e-6)
            XCTAssertEqual(Double(relu[i]), max(0, x))
            XCTAssertEqual(Double(silu[i]), x / (1 + Foundation.exp(-x)), accuracy: 1e-6)
        }
        XCTAssertEqual(Activation(huggingFaceName: "gelu_pytorch_tanh"), .geluTanh)
        XCTAssertNil(Activation(huggingFaceName: "quick_gelu_v2"))
    }

    func testSoftmaxAndLayerNormAgainstDoublePrecision() {
        var random = TestRandom(seed: 7)
        for n in [1, 5, 16, 17, 33, 384] {
            var row = (0..<n).map { _ in Float.random(in: -30..<30, using: &random) }
            let original = row.map(Double.init)
            row.withUnsafeMutableBufferPointer { ElementwiseKernels.softmax($0.baseAddress!, rows: 1, n: n, ld: n, scale: 0.125) }
            let m = original.max()!
            let exps = original.map { Foundation.exp(($0 - m) * 0.125) }
            let total = exps.reduce(0, +)
            for j in 0..<n { XCTAssertEqual(Double(row[j]), exps[j] / total, accuracy: 1e-7, "softmax n=\(n)") }

            var x = (0..<n).map { _ in Float.random(in: -3..<3, using: &random) }
            let y = (0..<n).map { _ in Float.random(in: -3..<3, using: &random) }
            let bias = (0..<n).map { _ in Float.random(in: -1..<1, using: &random) }
            let gamma = (0..<n).map { _ in Float.random(in: 0.5..<1.5, using: &random) }
            let beta = (0..<n).map { _ in Float.random(in: -1..<1, using: &random) }
            let summed = (0..<n).map { Double(x[$0]) + Double(y[$0]) + Double(bias[$0]) }
            let mean = summed.reduce(0, +) / Double(n)
            let variance = summed.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            x.withUnsafeMutableBufferPointer { px in
                ElementwiseKernels.addBiasResidualLayerNorm(
                    px.baseAddress!, y, rows: 1, n: n, bias: bias, gamma: gamma, beta: beta, epsilon: 1e-12)
            }
            for j in 0..<n {
                let expected = n == 1 ? Double(beta[j]) : (summed[j] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[j]) + Double(beta[j])
                XCTAssertEqual(Double(x[j]), expected, accuracy: 2e-6, "layer norm n=\(n)")
            }
        }
    }

    /// scores·scale + bias with the relative-position layout: row q's bias is the window starting q floats
    /// before row 0's (stride −1), so x[q, k] gets bias[(L − 1) + k − q].
    func testScaleAddBiasWithOverlappingRows() {
        var random = TestRandom(seed: 11)
        for length in [1, 3, 17, 40] {
            let vector = (0..<(2 * length - 1)).map { _ in Float.random(in: -2..<2, using: &random) }
            let scores = (0..<(length * length)).map { _ in Float.random(in: -5..<5, using: &random) }
            var x = scores
            vector.withUnsafeBufferPointer { v in
                x.withUnsafeMutableBufferPointer {
                    ElementwiseKernels.scaleAddBias(
                        $0.baseAddress!, rows: length, n: length, ld: length, scale: 0.25,
                        bias: v.baseAddress! + (length - 1), biasRowStride: -1)
                }
            }
            for q in 0..<length {
                for k in 0..<length {
                    XCTAssertEqual(x[q * length + k], scores[q * length + k] * 0.25 + vector[length - 1 + k - q], "L=\(length) q=\(q) k=\(k)")
                }
            }
        }
    }
}
