/// The kernel of each ``Activation``: vectorized over 16 values, from ``SIMDMath``.
extension Activation {
    /// The activation applied to 16 values.
    @inline(__always)
    func apply(_ x: SIMDMath.FloatVector) -> SIMDMath.FloatVector {
        switch self {
        case .gelu:
            let lo = x.lowHalf, hi = x.highHalf
            let s: Float = 0.707_106_781_186_547_6
            let elo = SIMDMath.erf(lo * s), ehi = SIMDMath.erf(hi * s)
            return SIMDMath.FloatVector(lowHalf: 0.5 * lo * (1 + elo), highHalf: 0.5 * hi * (1 + ehi))
        case .geluTanh:
            let inner = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + SIMDMath.tanh(inner))
        case .relu:
            return x.replacing(with: 0, where: x .< 0)
        case .silu:
            return x / (1 + SIMDMath.exp(-x))
        }
    }
}
