/// Vectorized elementary functions for the encoder's element-wise kernels.
///
/// The standard library has no vector `exp` or `erf`; these are accurate to about one unit in the last
/// place of a `Float` (checked against `Foundation.exp` / `erf` by the tests), which is what parity
/// with PyTorch's own vectorized kernels needs.
enum SIMDMath {
    typealias FloatVector = SIMD16<Float>
    static let width = FloatVector.scalarCount

    /// e^x, elementwise. Inputs below -87.3 give 0, above 88.7 give +inf, like `expf`.
    @inline(__always)
    static func exp(_ x: FloatVector) -> FloatVector {
        // exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n·ln 2 (in two parts for precision).
        // Rounding uses the 1.5·2^23 trick: adding it leaves n in the low mantissa bits, so no
        // float→int conversion (slow for SIMD in Swift) is needed.
        var clamped = x.replacing(with: -87.33654, where: x .< -87.33654)
        clamped.replace(with: 88.72283, where: clamped .> 88.72283)
        let magic = FloatVector(repeating: 12_582_912)  // 1.5·2^23, bit pattern 0x4B40_0000
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        // Cephes expf polynomial on r ∈ [−ln2/2, ln2/2].
        var p = FloatVector(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        // 2^n through the exponent bits; n ∈ [−126, 128], split in two factors so 2^128 does not overflow.
        let ni = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        let scaleA = unsafeBitCast((half &+ 127) &<< 23, to: FloatVector.self)
        let scaleB = unsafeBitCast(((ni &- half) &+ 127) &<< 23, to: FloatVector.self)
        var result = p * scaleA * scaleB
        result.replace(with: 0, where: x .< -87.33654)
        result.replace(with: .infinity, where: x .> 88.72283)
        return result
    }

    /// erf(x), elementwise, evaluated in double precision on a rational minimax approximation
    /// (absolute error below 1e-7 before rounding to `Float`).
    @inline(__always)
    static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var xd = SIMD8<Double>(x)
        xd.replace(with: -4, where: xd .< -4)
        xd.replace(with: 4, where: xd .> 4)
        let x2 = xd * xd
        var p = SIMD8<Double>(repeating: -2.72614225801306e-10)
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        p = p * xd
        var q = SIMD8<Double>(repeating: -1.45660718464996e-05)
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return SIMD8<Float>(p / q)
    }

    /// tanh(x), elementwise, from `exp`: tanh(x) = 1 − 2 / (e^{2x} + 1), with a Taylor step near 0.
    @inline(__always)
    static func tanh(_ x: FloatVector) -> FloatVector {
        let e = exp(2 * x)
        var result = 1 - 2 / (e + 1)
        let x2 = x * x
        let small = x * (1 - x2 * (1.0 / 3.0 - x2 * (2.0 / 15.0)))
        result.replace(with: small, where: (x .< 0.0625) .& (x .> -0.0625))
        return result
    }

    /// Load `width` floats from `p` (no alignment needed).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> FloatVector {
        UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
    }

    /// Store `v` at `p` (no alignment needed).
    @inline(__always)
    static func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
    }
}
