/// The naive backend's matrix product: plain Swift loops, no BLAS, no blocking.
///
/// Loop order is chosen so that the innermost loop walks contiguous memory where the layout allows
/// (row of B and row of C for `op(B) = B`; dot products of two rows for `op(B) = Bᵀ`).
enum NaiveGEMM {
    /// C = β·C.   c: (m, n) with leading dimension ldc.
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }

    /// C = α·op(A)·op(B) + β·C.   op(A): (m, k), op(B): (k, n), C: (m, n); row-major with leading dimensions.
    static func gemm(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        @inline(__always) func aAt(_ i: Int, _ p: Int) -> Float {
            transposeA == .none ? a[i * lda + p] : a[p * lda + i]
        }
        scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
        guard k > 0, alpha != 0 else { return }
        switch transposeB {
        case .none:
            // C[i, :] += α·A[i, p]·B[p, :]
            for i in 0..<m {
                let cRow = c + i * ldc
                for p in 0..<k {
                    let s = alpha * aAt(i, p)
                    let bRow = b + p * ldb
                    for j in 0..<n { cRow[j] += s * bRow[j] }
                }
            }
        case .transposed:
            // C[i, j] += α·Σ_p A[i, p]·B[j, p]
            for i in 0..<m {
                let cRow = c + i * ldc
                for j in 0..<n {
                    let bRow = b + j * ldb
                    var sum: Float = 0
                    if transposeA == .none {
                        let aRow = a + i * lda
                        for p in 0..<k { sum += aRow[p] * bRow[p] }
                    } else {
                        for p in 0..<k { sum += a[p * lda + i] * bRow[p] }
                    }
                    cRow[j] += alpha * sum
                }
            }
        }
    }
}
