import CBLAS
import CDNNL

/// Which implementation computes the matrix products of the encoder.
///
/// The value is chosen at run time and passed down to every block, so the whole encoder runs on
/// any backend: `.onednn` (the default) runs the dense layers (``Linear``) on oneDNN's matmul primitive in the
/// ``ComputeOptions/precision`` asked for (fp32 on the plain weights in place, bf16/int8 on copies reordered once)
/// and every other product (attention, heads) on oneDNN's `dnnl_sgemm` (Docs/OneDNN.md); `.blas` calls OpenBLAS's
/// `cblas_sgemm`;
/// `.naive` is the textbook triple loop and is the reference that the other results are checked against.
public enum ComputeBackend: String, Sendable, CaseIterable, Codable {
    /// OpenBLAS `cblas_sgemm`.
    case blas
    /// The textbook triple loop (``NaiveGEMM``): no BLAS, no blocking, no packing.
    case naive
    /// oneDNN: its matmul for the dense layers (fp32, bf16 or int8), its `dnnl_sgemm` for the other products.
    case onednn
}

extension ComputeBackend {
    /// `C = α·op(A)·op(B) + β·C` on row-major matrices, with shapes checked.
    ///
    /// - Parameters:
    ///   - a: `(m, k)` after `transposeA` is applied.
    ///   - b: `(k, n)` after `transposeB` is applied.
    ///   - c: `(m, n)`; read when `beta != 0`, written always.
    ///   - transposeA: whether `op(A)` is `A` or `Aᵀ`.
    ///   - transposeB: whether `op(B)` is `B` or `Bᵀ`.
    ///   - alpha: scale of the product.
    ///   - beta: scale of the existing `C` added to it; `0` ignores what `C` held.
    /// - Throws: ``MatrixError/productShapeMismatch(a:b:c:)`` when the shapes do not fit.
    public func multiply(
        _ a: Matrix, _ b: Matrix, into c: inout Matrix,
        transposeA: Transpose = .none, transposeB: Transpose = .none,
        alpha: Float = 1, beta: Float = 0
    ) throws(MatrixError) {
        let (m, ka) = transposeA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        let (kb, n) = transposeB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
        guard ka == kb, c.rows == m, c.columns == n else {
            throw .productShapeMismatch(a: "\(m)×\(ka)", b: "\(kb)×\(n)", c: "\(c.rows)×\(c.columns)")
        }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableValues { pc in
                    gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                        alpha: alpha, a: pa.baseAddress, lda: max(a.columns, 1),
                        b: pb.baseAddress, ldb: max(b.columns, 1),
                        beta: beta, c: pc.baseAddress, ldc: max(n, 1))
                }
            }
        }
    }

    /// `C = α·A·op(B) + β·C` with the rows of A and C split into `threads` blocks, one product per block,
    /// each on its own thread: how the encoder runs its dense layers. With OpenBLAS single-threaded
    /// (``OpenBLAS/setThreadCount(_:)``) this keeps all threading at one level.
    ///
    /// - Parameters:
    ///   - a: `(m, k)`.
    ///   - b: `(k, n)` after `transposeB` is applied.
    ///   - c: `(m, n)`; read when `beta != 0`, written always.
    ///   - transposeB: whether `b` is used as it is or transposed.
    ///   - alpha: scale of the product.
    ///   - beta: scale of the previous `c`.
    ///   - threads: blocks of rows computed concurrently.
    public func multiply(
        _ a: Matrix, _ b: Matrix, into c: inout Matrix, transposeB: Transpose = .none,
        alpha: Float = 1, beta: Float = 0, threads: Int
    ) throws(MatrixError) {
        let (m, k) = (a.rows, a.columns)
        let (kb, n) = transposeB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
        guard k == kb, c.rows == m, c.columns == n else {
            throw .productShapeMismatch(a: "\(m)×\(k)", b: "\(kb)×\(n)", c: "\(c.rows)×\(c.columns)")
        }
        let ldb = max(b.columns, 1)
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableValues { pc in
                    Parallel.forEachChunk(count: m, threads: max(1, threads)) { rows in
                        gemm(
                            transposeA: .none, transposeB: transposeB, m: rows.count, n: n, k: k,
                            alpha: alpha, a: pa.baseAddress.map { $0 + rows.lowerBound * k }, lda: max(k, 1),
                            b: pb.baseAddress, ldb: ldb,
                            beta: beta, c: pc.baseAddress.map { $0 + rows.lowerBound * n }, ldc: max(n, 1))
                    }
                }
            }
        }
    }

    /// `α·op(A)·op(B)` as a new matrix.
    public func product(
        _ a: Matrix, _ b: Matrix,
        transposeA: Transpose = .none, transposeB: Transpose = .none, alpha: Float = 1
    ) throws(MatrixError) -> Matrix {
        let m = transposeA == .none ? a.rows : a.columns
        let n = transposeB == .none ? b.columns : b.rows
        var c = try Matrix(rows: m, columns: n)
        try multiply(a, b, into: &c, transposeA: transposeA, transposeB: transposeB, alpha: alpha)
        return c
    }

    /// Unchecked kernel: `C = α·op(A)·op(B) + β·C` over raw row-major buffers.
    ///
    /// a: `(m, k)` after `transposeA` (stored `(m, k)` or `(k, m)` with leading dimension `lda`),
    /// b: `(k, n)` after `transposeB` (stored with leading dimension `ldb`), c: `(m, n)` with `ldc`.
    /// Callers inside the library guarantee the shapes; the public entry is ``multiply(_:_:into:transposeA:transposeB:alpha:beta:)``.
    @inline(__always)
    func gemm(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>?, lda: Int,
        b: UnsafePointer<Float>?, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 && self != .naive {  // keep the contract explicit for the libraries too: C = β·C.
            NaiveGEMM.gemm(
                transposeA: .none, transposeB: .none, m: m, n: n, k: 0,
                alpha: alpha, a: c!, lda: 1, b: c!, ldb: 1, beta: beta, c: c!, ldc: ldc)
            return
        }
        switch self {
        case .onednn:
            // The products besides the dense layers (attention, heads) on oneDNN's own sgemm, on this thread:
            // at attention's shapes (L × 32 × L) it is 1.9–2.3× OpenBLAS's Haswell kernel at L = 128 and as fast as
            // its own AVX-512 one (Docs/OneDNN.md), so `.onednn` does not depend on OPENBLAS_CORETYPE.
            let transA = CChar(UInt8(ascii: transposeA == .none ? "N" : "T"))
            let transB = CChar(UInt8(ascii: transposeB == .none ? "N" : "T"))
            _ = OneDNN.singleThreaded {
                dnnl_sgemm(
                    transA, transB, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
            }
        case .blas:
            cblas_sgemm(
                CblasRowMajor,
                transposeA == .none ? CblasNoTrans : CblasTrans,
                transposeB == .none ? CblasNoTrans : CblasTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        case .naive:
            NaiveGEMM.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: alpha, a: a!, lda: lda, b: b!, ldb: ldb, beta: beta, c: c!, ldc: ldc)
        }
    }
}
