/// Element-wise kernels of the encoder: free functions over raw row-major buffers, vectorized with
/// `SIMD16<Float>`, with a scalar tail. Each states its shapes. They are the same on both compute
/// backends: only matrix products differ between BLAS and naive.
enum ElementwiseKernels {
    /// x[r, :] += bias for every row.   x: (rows, n), bias: (n)
    static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, bias: UnsafePointer<Float>) {
        let w = SIMDMath.width
        for r in 0..<rows {
            let row = x + r * n
            var j = 0
            while j + w <= n {
                SIMDMath.store(SIMDMath.load(row + j) + SIMDMath.load(bias + j), row + j)
                j += w
            }
            while j < n { row[j] += bias[j]; j += 1 }
        }
    }

    /// x[r, :] = activation(x[r, :] + bias).   x: (rows, n), bias: (n)
    static func addBiasActivate(
        _ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, bias: UnsafePointer<Float>, activation: Activation
    ) {
        for r in 0..<rows {
            let row = x + r * n
            var j = 0
            while j + 16 <= n {
                let v = SIMDMath.load(row + j) + SIMDMath.load(bias + j)
                SIMDMath.store(activation.apply(v), row + j)
                j += 16
            }
            if j < n {  // tail: pad to a full vector on the stack
                var v = SIMDMath.FloatVector(repeating: 0)
                for t in 0..<(n - j) { v[t] = row[j + t] + bias[j + t] }
                let out = activation.apply(v)
                for t in 0..<(n - j) { row[j + t] = out[t] }
            }
        }
    }

    /// maxima[j] = max(maxima[j], |x[r, j]|) over the rows. x: (rows, n), maxima: (n).
    static func updateColumnMaxima(_ maxima: UnsafeMutablePointer<Float>, of x: UnsafePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let row = x + r * n
            for j in 0..<n { maxima[j] = max(maxima[j], abs(row[j])) }
        }
    }

    /// x[r, :] = LayerNorm(x[r, :] + y[r, :] + bias) · gamma + beta   (residual, bias and norm in one pass).
    ///
    /// x: (rows, n) residual in, result out; y: (rows, n) projection output; bias, gamma, beta: (n).
    /// Mean and variance use two passes over the row (biased variance, as PyTorch's LayerNorm).
    static func addBiasResidualLayerNorm(
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, n: Int,
        bias: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
    ) {
        let w = SIMDMath.width
        for r in 0..<rows {
            let row = x + r * n
            let yRow = y + r * n
            var j = 0
            while j + w <= n {
                SIMDMath.store(SIMDMath.load(row + j) + SIMDMath.load(yRow + j) + SIMDMath.load(bias + j), row + j)
                j += w
            }
            while j < n { row[j] += yRow[j] + bias[j]; j += 1 }
            layerNormRow(row, n: n, gamma: gamma, beta: beta, epsilon: epsilon)
        }
    }

    /// One row in place.   row: (n); gamma, beta: (n)
    @inline(__always)
    static func layerNormRow(
        _ row: UnsafeMutablePointer<Float>, n: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
    ) {
        let w = SIMDMath.width
        var acc = SIMDMath.FloatVector(repeating: 0)
        var j = 0
        while j + w <= n { acc += SIMDMath.load(row + j); j += w }
        var sum = acc.sum()
        while j < n { sum += row[j]; j += 1 }
        let mean = sum / Float(n)

        var accSq = SIMDMath.FloatVector(repeating: 0)
        let meanV = SIMDMath.FloatVector(repeating: mean)
        j = 0
        while j + w <= n { let d = SIMDMath.load(row + j) - meanV; accSq += d * d; j += w }
        var sumSq = accSq.sum()
        while j < n { let d = row[j] - mean; sumSq += d * d; j += 1 }
        let invStd = 1 / (sumSq / Float(n) + epsilon).squareRoot()

        let invV = SIMDMath.FloatVector(repeating: invStd)
        j = 0
        while j + w <= n {
            let v = (SIMDMath.load(row + j) - meanV) * invV
            SIMDMath.store(v * SIMDMath.load(gamma + j) + SIMDMath.load(beta + j), row + j)
            j += w
        }
        while j < n { row[j] = (row[j] - mean) * invStd * gamma[j] + beta[j]; j += 1 }
    }

    /// Row-wise softmax in place: x[r, :] = softmax(scale · x[r, :]).   x: (rows, n) with leading dimension ld.
    static func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int, scale: Float) {
        let w = SIMDMath.width
        for r in 0..<rows {
            let row = x + r * ld
            var maxV = SIMDMath.FloatVector(repeating: -.infinity)
            var j = 0
            while j + w <= n { let v = SIMDMath.load(row + j); maxV.replace(with: v, where: v .> maxV); j += w }
            var m = maxV.max()
            while j < n { m = max(m, row[j]); j += 1 }
            let scaledMax = SIMDMath.FloatVector(repeating: m * scale)
            let scaleV = SIMDMath.FloatVector(repeating: scale)
            var sumV = SIMDMath.FloatVector(repeating: 0)
            j = 0
            while j + w <= n {
                let e = SIMDMath.exp(SIMDMath.load(row + j) * scaleV - scaledMax)
                SIMDMath.store(e, row + j)
                sumV += e
                j += w
            }
            var sum = sumV.sum()
            if j < n {
                var v = SIMDMath.FloatVector(repeating: -.infinity)
                for t in 0..<(n - j) { v[t] = row[j + t] * scale - m * scale }
                let e = SIMDMath.exp(v)
                for t in 0..<(n - j) { row[j + t] = e[t]; sum += e[t] }
            }
            let inv = 1 / sum
            let invV = SIMDMath.FloatVector(repeating: inv)
            j = 0
            while j + w <= n { SIMDMath.store(SIMDMath.load(row + j) * invV, row + j); j += w }
            while j < n { row[j] *= inv; j += 1 }
        }
    }

    /// x[r, :] = scale · x[r, :] + bias(r), where bias row r starts at `bias + r · biasRowStride` (the stride
    /// may be negative: rows of a relative position bias are overlapping windows of one vector).
    /// x: (rows, n) with leading dimension ld.
    static func scaleAddBias(
        _ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int, scale: Float,
        bias: UnsafePointer<Float>, biasRowStride: Int
    ) {
        let w = SIMDMath.width
        let scaleV = SIMDMath.FloatVector(repeating: scale)
        for r in 0..<rows {
            let row = x + r * ld
            let b = bias + r * biasRowStride
            var j = 0
            while j + w <= n {
                SIMDMath.store(SIMDMath.load(row + j) * scaleV + SIMDMath.load(b + j), row + j)
                j += w
            }
            while j < n { row[j] = row[j] * scale + b[j]; j += 1 }
        }
    }

    /// Index of the first NaN or infinite value among `count` floats at `x`, or `nil` when all are finite.
    /// One vectorized pass (x·0 is 0 exactly when x is finite); the position is searched only on failure.
    static func firstNonFinite(_ x: UnsafePointer<Float>, count: Int) -> Int? {
        let w = SIMDMath.width
        var acc = SIMDMath.FloatVector(repeating: 0)
        var j = 0
        while j + w <= count { acc += SIMDMath.load(x + j) * 0; j += w }
        var tail: Float = 0
        while j < count { tail += x[j] * 0; j += 1 }
        if acc.sum() == 0 && tail == 0 { return nil }
        return (0..<count).first { !x[$0].isFinite }
    }
}
