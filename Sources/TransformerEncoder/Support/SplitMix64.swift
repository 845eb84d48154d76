/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny deterministic generator, the one used for every
/// reproducible input of this package (benchmark workloads, `encoder bench gemm` operands, randomized
/// tests). Not for anything that needs unpredictability.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state; the same seed always gives the same sequence.
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1) on a grid of 2⁻²³, from the top 24 bits of ``next()``.
    public mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}
