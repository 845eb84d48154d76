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

    /// Asymmetric per-row u8 quantization, the range of each row mapped onto 0…255 with a zero point:
    /// lo = min(0, min x[r, :]), hi = max(0, max x[r, :]), scale[r] = (hi − lo) / 255 (1 for an all-zero row),
    /// zero[r] = round(−lo / scale[r]) in 0…255, q[r, c] = clamp(round(x[r, c] / scale[r] + zero[r]), 0, 255),
    /// so x[r, c] ≈ scale[r] · (q[r, c] − zero[r]) and 0 is exact. Unlike a symmetric s8 scale, no code is spent
    /// on the side of zero a row does not reach (the GELU outputs fed to the FFN's second layer are ≥ −0.17).
    /// x: (rows, columns), q: (rows, columns), scales: (rows), zeroPoints: (rows), as Float (integral values).
    static func quantizeRows(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int,
        into q: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * columns
            let (low, high) = range(row, count: columns)
            let scale = (max(0, high) - min(0, low)) / 255
            let usable = scale > 0 ? scale : 1
            let zero = min(255, max(0, (-min(0, low) / usable).rounded(.toNearestOrEven)))
            scales[r] = usable
            zeroPoints[r] = zero
            quantize(row, count: columns, inverseScale: 1 / usable, zeroPoint: zero, into: q + r * columns)
        }
    }

    /// ``quantizeRows(_:rows:columns:into:scales:zeroPoints:)`` with the columns in `outliers` taken out first:
    /// each row is copied to `scratch` (columns), its outlier entries moved to `outlierValues` (rows, outliers.count)
    /// and set to 0 there, and the rest quantized. The outliers thus neither stretch the row's range nor enter the
    /// u8 product (a 0 quantizes exactly to the zero point); ``addOutlierProduct`` adds their share back in fp32.
    static func quantizeRows(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int,
        into q: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Float>,
        outliers: UnsafeBufferPointer<Int32>, outlierValues: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            scratch.update(from: x + r * columns, count: columns)
            for (index, channel) in outliers.enumerated() {
                outlierValues[r * outliers.count + index] = scratch[Int(channel)]
                scratch[Int(channel)] = 0
            }
            quantizeRows(
                scratch, rows: 1, columns: columns, into: q + r * columns, scales: scales + r, zeroPoints: zeroPoints + r)
        }
    }

    /// y[r, :] += Σᵢ values[r, i] · weights[i, :]: the outlier channels' share of a product (fp32), after
    /// ``quantizeRows(_:rows:columns:into:scales:zeroPoints:outliers:outlierValues:scratch:)`` left them out.
    /// y: (rows, columns), values: (rows, count), weights: (count, columns), the rows of Wᵀ of those channels.
    static func addOutlierProduct(
        _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        values: UnsafePointer<Float>, weights: UnsafePointer<Float>, count: Int
    ) {
        for r in 0..<rows {
            let row = y + r * columns
            for i in 0..<count {
                let v = values[r * count + i]
                let v16 = SIMD16<Float>(repeating: v)
                let w = weights + i * columns
                var c = 0
                while c + 16 <= columns {
                    SIMDMath.store(SIMDMath.load(row + c) + v16 * SIMDMath.load(w + c), row + c)
                    c += 16
                }
                while c < columns { row[c] += v * w[c]; c += 1 }
            }
        }
    }

    /// Symmetric per-column s8 quantization of a row-major (rows, columns) matrix: scale[c] = max|w[:, c]| / 127
    /// (1 for an all-zero column), q[r, c] = round(w[r, c] / scale[c]), and sums[c] = Σᵣ q[r, c] (for the
    /// activations' zero points, see ``dequantize(_:rows:columns:rowScales:zeroPoints:columnScales:columnSums:)``).
    /// Used once per weight, at preparation. w, q: (rows, columns); scales, sums: (columns).
    static func quantizeColumns(
        _ w: UnsafePointer<Float>, rows: Int, columns: Int,
        into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<columns { scales[c] = 0 }
        for r in 0..<rows {
            let row = w + r * columns
            for c in 0..<columns { scales[c] = max(scales[c], abs(row[c])) }
        }
        for c in 0..<columns { scales[c] = scales[c] > 0 ? scales[c] / 127 : 1 }
        for c in 0..<columns { sums[c] = 0 }
        for r in 0..<rows {
            let row = w + r * columns
            for c in 0..<columns {
                let value = Int8(max(-127, min(127, (row[c] / scales[c]).rounded(.toNearestOrEven))))
                q[r * columns + c] = value
                sums[c] += Float(value)   // exact: |sum| ≤ 127·rows < 2²⁴
            }
        }
    }

    /// y[r, c] = rowScales[r] · columnScales[c] · (y[r, c] − zeroPoints[r] · columnSums[c]): a u8×s8 product's
    /// result (the s32 sums, as fp32) back to the fp32 scale, the rows' zero points taken out
    /// (Σₖ (q[r, k] − z[r]) · w[k, c] = Σₖ q[r, k] · w[k, c] − z[r] · Σₖ w[k, c]).
    /// y: (rows, columns), rowScales and zeroPoints: (rows), columnScales and columnSums: (columns).
    static func dequantize(
        _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        rowScales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Float>,
        columnScales: UnsafePointer<Float>, columnSums: UnsafePointer<Float>
    ) {
        for r in 0..<rows {
            let row = y + r * columns
            let s = SIMD16<Float>(repeating: rowScales[r])
            let z = SIMD16<Float>(repeating: zeroPoints[r])
            var c = 0
            while c + 16 <= columns {
                let corrected = SIMDMath.load(row + c) - z * SIMDMath.load(columnSums + c)
                SIMDMath.store(corrected * SIMDMath.load(columnScales + c) * s, row + c)
                c += 16
            }
            while c < columns {
                row[c] = (row[c] - zeroPoints[r] * columnSums[c]) * columnScales[c] * rowScales[r]
                c += 1
            }
        }
    }

    /// (min, max) of x[0..<count].
    private static func range(_ x: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var low = SIMD16<Float>(repeating: 0)
        var high = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let v = SIMDMath.load(x + i)
            // compare-and-blend: Swift's pointwiseMin/Max are not vectorized (they were half the int8 run time)
            low = low.replacing(with: v, where: v .< low)
            high = high.replacing(with: v, where: v .> high)
            i += 16
        }
        var (l, h) = (low.min(), high.max())
        while i < count { l = min(l, x[i]); h = max(h, x[i]); i += 1 }
        return (l, h)
    }

    /// q[i] = clamp(round(x[i] · inverseScale + zeroPoint), 0, 255), through the 1.5·2²³ trick (no SIMD
    /// float→int conversion, slow in Swift): after the clamp the low byte of the shifted pattern is the result.
    private static func quantize(
        _ x: UnsafePointer<Float>, count: Int, inverseScale: Float, zeroPoint: Float, into q: UnsafeMutablePointer<UInt8>
    ) {
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let scale = SIMD16<Float>(repeating: inverseScale)
        let zero = SIMD16<Float>(repeating: zeroPoint)
        var i = 0
        while i + 16 <= count {
            var v = SIMDMath.load(x + i) * scale + zero
            v = v.replacing(with: 0, where: v .< 0)
            v = v.replacing(with: 255, where: v .> 255)
            let bits = unsafeBitCast(v + magic, to: SIMD16<Int32>.self) &- 0x4B40_0000
            UnsafeMutableRawPointer(q + i).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: bits), as: SIMD16<UInt8>.self)
            i += 16
        }
        while i < count {
            q[i] = UInt8(max(0, min(255, (x[i] * inverseScale + zeroPoint).rounded(.toNearestOrEven))))
            i += 1
        }
    }
}
