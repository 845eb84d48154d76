/// A read-only Float32 tensor taken from a ``SafeTensorsFile``.
///
/// Either points straight into the file's memory mapping (F32 data that is 4-byte aligned;
/// the tensor keeps the mapping alive, even after the `SafeTensorsFile` is released) or owns
/// a converted/copied buffer that it frees when released. Immutable; safe to share between threads.
public final class FloatTensor: @unchecked Sendable {
    /// The tensor's name in the file.
    public let name: String
    /// Dimensions, outermost first (row-major); `count` is their product.
    public let shape: [Int]
    /// First element. Valid (and readable for `count` elements) while this object is alive.
    /// For an empty tensor it points at a dummy element that must not be read.
    public let pointer: UnsafePointer<Float>
    /// Number of elements: the product of `shape`.
    public let count: Int

    /// What keeps `pointer` valid when it borrows from the file's bytes.
    private let owner: ByteStorage?
    /// The buffer to free when this object owns its elements.
    private let ownedBuffer: UnsafeMutablePointer<Float>?

    /// Whether the elements are read in place from the file's bytes (no copy was made).
    public var isBorrowed: Bool { owner != nil }

    /// Borrows `count` floats at `pointer` from `owner`.
    init(name: String, shape: [Int], borrowing pointer: UnsafePointer<Float>, count: Int, owner: ByteStorage) {
        self.name = name
        self.shape = shape
        self.pointer = pointer
        self.count = count
        self.owner = owner
        self.ownedBuffer = nil
    }

    /// Allocates `count` floats and fills them with `fill`, which must initialize all of them.
    init(name: String, shape: [Int], count: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        if count == 0 { p.initialize(to: 0) } else { fill(p) }
        self.name = name
        self.shape = shape
        self.pointer = UnsafePointer(p)
        self.count = count
        self.owner = nil
        self.ownedBuffer = p
    }

    deinit {
        ownedBuffer?.deallocate()
    }

    /// The elements, `count` of them, in row-major order. Valid while this object is alive.
    public var buffer: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer, count: count)
    }

    /// A copy of the elements in row-major order (`count` of them).
    public func toArray() -> [Float] {
        Array(buffer)
    }
}

/// Bit-exact conversions of 16-bit float formats to Float32.
enum HalfConversion {
    /// IEEE 754 binary16 → binary32. Exact for every input: subnormals become normal
    /// Float32 values, ±0 and ±infinity keep their sign, NaNs stay NaN (payload shifted up,
    /// quiet bit preserved).
    @inline(__always)
    static func float(fromHalfBits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: mantissa × 2^-24, exactly representable in Float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// bfloat16 → binary32: the bits are the upper half of a Float32, so this is exact.
    @inline(__always)
    static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
