/// The naive backend's matrix product: the textbook triple loop, and nothing else.
///
/// `C[i, j] = α·Σ_p op(A)[i, p]·op(B)[p, j] + β·C[i, j]`, loops in the order `i`, `j`, `p`, one
/// multiply-add at a time in `Float`: no blocking, no packing, no loop reordering for the layout, no
/// threads of its own. The compiler may vectorize what it can (it cannot reorder the `Float` sum), so the
/// speed depends on the layout: `op(B) = Bᵀ` reads both operands contiguously (a dot product of two rows),
/// `op(B) = B` reads B down a column. This one definition is what `.naive` means everywhere: in the
/// encoder (``ComputeBackend/naive``), in `encoder bench` and in `encoder bench gemm`.
enum NaiveGEMM {
    /// C = α·op(A)·op(B) + β·C.   op(A): (m, k), op(B): (k, n), C: (m, n); row-major with leading dimensions.
    static func gemm(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // op(X)[r, s] = X[r, s] or X[s, r]: element strides along r and s.
        let (aRowStride, aColumnStride) = transposeA == .none ? (lda, 1) : (1, lda)
        let (bRowStride, bColumnStride) = transposeB == .none ? (ldb, 1) : (1, ldb)
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                let aStart = a + i * aRowStride, bStart = b + j * bColumnStride
                for p in 0..<k { sum += aStart[p * aColumnStride] * bStart[p * bRowStride] }
                // β = 0 ignores what C held (even NaN), as BLAS does.
                c[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * ldc + j]
            }
        }
    }
}
