/// Conversions between fp32 and the reduced precisions of the oneDNN backend's dense layers (see ``Precision``),
/// over raw row-major buffers, vectorized with `SIMD16`.
enum LowPrecisionKernels {
    /// dst[i] = bf16(src[i]), rounded to nearest even (the upper 16 bits of the fp32 pattern after rounding).
    /// src: (count) fp32, dst: (count) bf16 bit patterns.
    static func toBFloat16(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        var i = 0
        let raw = UnsafeRawPointer(src)
        while i + 16 <= count {
            let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: rounded), as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            let bits = src[i].bitPattern
            dst[i] = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            i += 1
        }
    }

    /// Symmetric per-row s8 quantization: scale[r] = max|x[r, :]| / 127 (1 for an all-zero row),
    /// q[r, c] = round(x[r, c] / scale[r]) in −127…127. x: (rows, columns), q: (rows, columns), scales: (rows).
    static func quantizeRows(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int,
        into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * columns
            let scale = maxMagnitude(row, count: columns) / 127
            let usable = scale > 0 ? scale : 1
            scales[r] = usable
            quantize(row, count: columns, inverseScale: 1 / usable, into: q + r * columns)
        }
    }

    /// Symmetric per-column s8 quantization of a row-major (rows, columns) matrix: scale[c] = max|w[:, c]| / 127
    /// (1 for an all-zero column), q[r, c] = round(w[r, c] / scale[c]). Used once per weight, at preparation.
    static func quantizeColumns(
        _ w: UnsafePointer<Float>, rows: Int, columns: Int,
        into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<columns { scales[c] = 0 }
        for r in 0..<rows {
            let row = w + r * columns
            for c in 0..<columns { scales[c] = max(scales[c], abs(row[c])) }
        }
        for c in 0..<columns { scales[c] = scales[c] > 0 ? scales[c] / 127 : 1 }
        for r in 0..<rows {
            let row = w + r * columns
            for c in 0..<columns {
                q[r * columns + c] = Int8(max(-127, min(127, (row[c] / scales[c]).rounded(.toNearestOrEven))))
            }
        }
    }

    /// y[r, c] *= rowScales[r] · columnScales[c]: an s8×s8 product's fp32 result back to the fp32 scale.
    /// y: (rows, columns), rowScales: (rows), columnScales: (columns).
    static func dequantize(
        _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        rowScales: UnsafePointer<Float>, columnScales: UnsafePointer<Float>
    ) {
        for r in 0..<rows {
            let row = y + r * columns
            let s = SIMD16<Float>(repeating: rowScales[r])
            var c = 0
            while c + 16 <= columns {
                SIMDMath.store(SIMDMath.load(row + c) * SIMDMath.load(columnScales + c) * s, row + c)
                c += 16
            }
            while c < columns { row[c] *= columnScales[c] * rowScales[r]; c += 1 }
        }
    }

    private static func maxMagnitude(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var best = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let v = SIMDMath.load(x + i)
            best = pointwiseMax(best, pointwiseMax(v, -v))
            i += 16
        }
        var m = best.max()
        while i < count { m = max(m, abs(x[i])); i += 1 }
        return m
    }

    /// q[i] = round(x[i] · inverseScale), through the 1.5·2²³ trick (no SIMD float→int conversion, slow in Swift):
    /// values are within ±127 by construction, so the low byte of the shifted pattern is the result.
    private static func quantize(
        _ x: UnsafePointer<Float>, count: Int, inverseScale: Float, into q: UnsafeMutablePointer<Int8>
    ) {
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let scale = SIMD16<Float>(repeating: inverseScale)
        var i = 0
        while i + 16 <= count {
            var v = SIMDMath.load(x + i) * scale
            v = pointwiseMin(pointwiseMax(v, SIMD16(repeating: -127)), SIMD16(repeating: 127))
            let bits = unsafeBitCast(v + magic, to: SIMD16<Int32>.self) &- 0x4B40_0000
            UnsafeMutableRawPointer(q + i).storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: bits), as: SIMD16<Int8>.self)
            i += 16
        }
        while i < count {
            q[i] = Int8(max(-127, min(127, (x[i] * inverseScale).rounded(.toNearestOrEven))))
            i += 1
        }
    }
}
